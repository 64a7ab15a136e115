/* SPDX-License-Identifier: MIT */
/*
 * NTLM (MS-NLMP) for DCE/RPC: NTLMv2 authentication, extended session
 * security, key exchange and the MIC, client and server; see ntlm.h.
 *
 * Messages are parsed with every offset and length checked against the
 * message before it is used; a field may point anywhere after the fixed
 * header, in any order (MS-NLMP 2.2: "Payload data can be present in any
 * order"). Messages over WDSMC_NTLM_MAX_MESSAGE bytes are refused before
 * anything is read from them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wdsmc/codec.h"
#include "authcrypto.h"
#include "ntlm.h"

#define MSG_NEGOTIATE    1
#define MSG_CHALLENGE    2
#define MSG_AUTHENTICATE 3

/* Fixed parts: NEGOTIATE 32 + Version, CHALLENGE 48 + Version,
 * AUTHENTICATE 64 + Version + MIC (MS-NLMP 2.2.1). */
#define NEG_HDR         32
#define CHAL_HDR        48
#define AUTH_HDR        64
#define VERSION_SIZE    8
#define MIC_OFFSET      72
#define MIC_SIZE        16
#define AUTH_HDR_MIC    (MIC_OFFSET + MIC_SIZE)
#define NTLMV2_BLOB_HDR 28 /* NTLMv2_CLIENT_CHALLENGE up to AvPairs */

/* 36 hours: MaxLifetime's default (MS-NLMP 3.1.1.1). */
#define DEFAULT_MAX_SKEW (36ULL * 3600 * 10000000)

static const uint8_t ntlmssp_sig[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};

/* A Windows 10 build 19041 VERSION with NTLMSSP_REVISION_W2K3 (2.2.2.10). */
static const uint8_t default_version[VERSION_SIZE] = {10, 0, 0x61, 0x4a, 0, 0, 0, 0x0f};

/* What the client asks for (MS-NLMP 3.1.5.1.1 plus the application's flags
 * for PKT_PRIVACY): Unicode, NTLMv2 with extended session security, signing,
 * sealing, 128-bit keys and key exchange. */
#define CLIENT_FLAGS                                                                               \
    (WDSMC_NTLM_NEGOTIATE_UNICODE | WDSMC_NTLM_REQUEST_TARGET | WDSMC_NTLM_NEGOTIATE_SIGN |        \
     WDSMC_NTLM_NEGOTIATE_SEAL | WDSMC_NTLM_NEGOTIATE_NTLM | WDSMC_NTLM_NEGOTIATE_ALWAYS_SIGN |    \
     WDSMC_NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY | WDSMC_NTLM_NEGOTIATE_VERSION |                \
     WDSMC_NTLM_NEGOTIATE_128 | WDSMC_NTLM_NEGOTIATE_KEY_EXCH | WDSMC_NTLM_NEGOTIATE_56)

/* Flags the server echoes when the client offers them (3.2.5.1.1). */
#define SERVER_ECHO_FLAGS                                                                          \
    (WDSMC_NTLM_NEGOTIATE_SIGN | WDSMC_NTLM_NEGOTIATE_SEAL | WDSMC_NTLM_NEGOTIATE_KEY_EXCH |       \
     WDSMC_NTLM_NEGOTIATE_VERSION | WDSMC_NTLM_NEGOTIATE_128 | WDSMC_NTLM_NEGOTIATE_56)

/* Without these the server refuses a NEGOTIATE: NTLMv2 session security
 * needs extended session security, and we only do Unicode and 128 bits. */
#define SERVER_REQUIRED_FLAGS                                                                      \
    (WDSMC_NTLM_NEGOTIATE_UNICODE | WDSMC_NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY |                \
     WDSMC_NTLM_NEGOTIATE_128 | WDSMC_NTLM_NEGOTIATE_SIGN)

enum state {
    ST_INITIAL,   /* client: nothing sent; server: waiting for NEGOTIATE */
    ST_CHALLENGE, /* client: waiting for CHALLENGE; server: for AUTHENTICATE */
    ST_DONE,
    ST_FAILED,
};

/* One direction's session security state (MS-NLMP 3.4.1, 3.1.1.1). */
struct direction {
    uint8_t sign_key[16];
    struct wdsmc_rc4 rc4;
    uint32_t seq;
};

/* A UTF-16LE name held by the context. */
struct name16 {
    uint8_t b[WDSMC_NTLM_MAX_NAME * 2];
    size_t len; /* bytes */
};

struct wdsmc_ntlm {
    struct wdsmc_rpcauth base; /* first: wdsmc_ntlm_rpcauth casts */
    bool server;
    enum state state;
    bool broken; /* a per-message check failed: the RC4 streams are lost */

    /* Configuration. */
    struct name16 user, domain, workstation, spn;
    uint8_t nt_hash[16];
    bool anonymous;
    uint8_t version[VERSION_SIZE];
    wdsmc_rpcauth_random_fn random;
    void *random_ctx;
    wdsmc_rpcauth_time_fn now;
    void *now_ctx;
    /* Server configuration. */
    struct name16 nb_computer, nb_domain, dns_computer, dns_domain, dns_tree;
    wdsmc_rpcauth_lookup_fn lookup;
    void *lookup_ctx;
    bool allow_anonymous;
    bool omit_timestamp;
    bool require_mic;
    uint64_t max_skew;

    /* The exchange so far, kept for the MIC (MS-NLMP 3.1.5.1.2). */
    uint8_t neg_msg[WDSMC_NTLM_MAX_MESSAGE];
    size_t neg_len;
    uint8_t chal_msg[WDSMC_NTLM_MAX_MESSAGE];
    size_t chal_len;
    uint32_t chal_flags;
    uint8_t server_challenge[8];

    /* Results. */
    uint32_t flags; /* NegFlg */
    bool mic_used;
    uint8_t exported[16];
    struct direction send, recv;
    char user8[WDSMC_NTLM_MAX_NAME * 3 + 1];
    char domain8[WDSMC_NTLM_MAX_NAME * 3 + 1];
    char workstation8[WDSMC_NTLM_MAX_NAME * 3 + 1];
};

/* ---- little-endian helpers ---- */

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

/* ---- names ---- */

/* UTF-8 (NULL is "") to UTF-16LE; -EINVAL when invalid or too long. */
static int name_set(struct name16 *n, const char *s)
{
    n->len = 0;
    if (!s)
        return 0;
    ssize_t units = wdsmc_utf8_to_utf16le(s, n->b, WDSMC_NTLM_MAX_NAME);
    if (units < 0)
        return -EINVAL;
    n->len = (size_t)units * 2;
    return 0;
}

/*
 * Uppercase of one UTF-16 unit for NTOWFv2's Uppercase(User). Windows uses
 * its full Unicode case table (RtlUpcaseUnicodeChar); this covers ASCII,
 * Latin-1, basic Greek and Cyrillic, which is what user names hold in
 * practice.
 */
static uint16_t upcase16(uint16_t c)
{
    if (c >= 'a' && c <= 'z')
        return (uint16_t)(c - 0x20);
    if (c >= 0xe0 && c <= 0xfe && c != 0xf7)
        return (uint16_t)(c - 0x20);
    if (c == 0xff)
        return 0x178;
    if (c >= 0x3b1 && c <= 0x3c9 && c != 0x3c2)
        return (uint16_t)(c - 0x20);
    if (c == 0x3c2)
        return 0x3a3;
    if (c >= 0x430 && c <= 0x44f)
        return (uint16_t)(c - 0x20);
    if (c >= 0x450 && c <= 0x45f)
        return (uint16_t)(c - 0x50);
    return c;
}

/* NTOWFv2 over UTF-16LE user and domain (MS-NLMP 3.3.2). */
static void ntowfv2_16(const uint8_t nt_hash[16], const uint8_t *user, size_t user_len,
                       const uint8_t *domain, size_t domain_len, uint8_t ret[16])
{
    struct wdsmc_hmac_md5 h;
    wdsmc_hmac_md5_init(&h, nt_hash, 16);
    for (size_t i = 0; i + 1 < user_len; i += 2) {
        uint8_t u[2];
        put16(u, upcase16(get16(user + i)));
        wdsmc_hmac_md5_update(&h, u, 2);
    }
    wdsmc_hmac_md5_update(&h, domain, domain_len);
    wdsmc_hmac_md5_final(&h, ret);
}

int wdsmc_ntlm_nt_hash(const char *password_utf8, uint8_t ret[16])
{
    uint8_t pw[WDSMC_NTLM_MAX_PASSWORD * 2];
    if (!password_utf8)
        return -EINVAL;
    ssize_t units = wdsmc_utf8_to_utf16le(password_utf8, pw, WDSMC_NTLM_MAX_PASSWORD);
    if (units < 0)
        return -EINVAL;
    wdsmc_authcrypto_md4(pw, (size_t)units * 2, ret);
    wdsmc_authcrypto_wipe(pw, sizeof(pw));
    return 0;
}

int wdsmc_ntlm_ntowfv2(const uint8_t nt_hash[16], const char *user_utf8, const char *domain_utf8,
                       uint8_t ret[16])
{
    struct name16 u, d;
    if (name_set(&u, user_utf8) < 0 || name_set(&d, domain_utf8) < 0)
        return -EINVAL;
    ntowfv2_16(nt_hash, u.b, u.len, d.b, d.len, ret);
    return 0;
}

int wdsmc_ntlm_v2_response(const uint8_t key[16], const uint8_t server_challenge[8],
                           const uint8_t client_challenge[8], uint64_t time, const uint8_t *av,
                           size_t av_len, uint8_t *nt_resp, size_t cap, uint8_t lm_resp[24],
                           uint8_t session_base_key[16])
{
    size_t total = 16 + NTLMV2_BLOB_HDR + av_len + 4;
    if (cap < total || total > 0xffff)
        return -ENOBUFS;

    /* temp = Responserversion, HiResponserversion, Z(6), Time,
     * ClientChallenge, Z(4), ServerName, Z(4) */
    uint8_t *temp = nt_resp + 16;
    memset(temp, 0, NTLMV2_BLOB_HDR);
    temp[0] = 1;
    temp[1] = 1;
    put64(temp + 8, time);
    memcpy(temp + 16, client_challenge, 8);
    memcpy(temp + NTLMV2_BLOB_HDR, av, av_len);
    memset(temp + NTLMV2_BLOB_HDR + av_len, 0, 4);

    struct wdsmc_hmac_md5 h;
    wdsmc_hmac_md5_init(&h, key, 16);
    wdsmc_hmac_md5_update(&h, server_challenge, 8);
    wdsmc_hmac_md5_update(&h, temp, total - 16);
    wdsmc_hmac_md5_final(&h, nt_resp); /* NTProofStr */

    wdsmc_hmac_md5_init(&h, key, 16);
    wdsmc_hmac_md5_update(&h, server_challenge, 8);
    wdsmc_hmac_md5_update(&h, client_challenge, 8);
    wdsmc_hmac_md5_final(&h, lm_resp);
    memcpy(lm_resp + 16, client_challenge, 8);

    wdsmc_authcrypto_hmac_md5(key, 16, nt_resp, 16, session_base_key);
    return (int)total;
}

void wdsmc_ntlm_signkey(const uint8_t exported_session_key[16], bool client, uint8_t ret[16])
{
    static const char c2s[] = "session key to client-to-server signing key magic constant";
    static const char s2c[] = "session key to server-to-client signing key magic constant";
    struct md5_ctx c;
    const char *magic = client ? c2s : s2c;
    md5_init(&c);
    md5_update(&c, 16, exported_session_key);
    /* The constants are hashed with their terminating NUL (3.4.5.2). */
    md5_update(&c, sizeof(c2s), (const uint8_t *)magic);
    md5_digest(&c, 16, ret);
}

void wdsmc_ntlm_sealkey(uint32_t flags, const uint8_t exported_session_key[16], bool client,
                        uint8_t ret[16])
{
    static const char c2s[] = "session key to client-to-server sealing key magic constant";
    static const char s2c[] = "session key to server-to-client sealing key magic constant";
    size_t klen = 5;
    if (flags & WDSMC_NTLM_NEGOTIATE_128)
        klen = 16;
    else if (flags & WDSMC_NTLM_NEGOTIATE_56)
        klen = 7;
    struct md5_ctx c;
    md5_init(&c);
    md5_update(&c, klen, exported_session_key);
    md5_update(&c, sizeof(c2s), (const uint8_t *)(client ? c2s : s2c));
    md5_digest(&c, 16, ret);
}

/* ---- message fields ---- */

/*
 * Reads the 8-byte field descriptor at msg+at (Len, MaxLen, BufferOffset)
 * and borrows the bytes it points to. A non-empty field must lie entirely
 * inside the message and after its fixed part (min_off).
 */
static int field_get(const uint8_t *msg, size_t msg_len, size_t at, size_t min_off,
                     const uint8_t **ret, size_t *ret_len)
{
    size_t len = get16(msg + at);
    size_t off = get32(msg + at + 4);
    *ret = NULL;
    *ret_len = 0;
    if (len == 0)
        return 0;
    if (off < min_off || off > msg_len || len > msg_len - off)
        return -EBADMSG;
    *ret = msg + off;
    *ret_len = len;
    return 0;
}

/* Lowest offset of a non-empty field among count descriptors at first. */
static size_t fields_min_offset(const uint8_t *msg, size_t first, int count)
{
    size_t min = SIZE_MAX;
    for (int i = 0; i < count; i++) {
        size_t at = first + 8 * (size_t)i;
        if (get16(msg + at) != 0 && get32(msg + at + 4) < min)
            min = get32(msg + at + 4);
    }
    return min;
}

/* Appends data to the payload and fills the descriptor at msg+at. */
static void field_put(uint8_t *msg, size_t *pos, size_t at, const uint8_t *data, size_t len)
{
    put16(msg + at, (uint16_t)len);
    put16(msg + at + 2, (uint16_t)len);
    put32(msg + at + 4, (uint32_t)*pos);
    if (len)
        memcpy(msg + *pos, data, len);
    *pos += len;
}

static int check_header(const uint8_t *msg, size_t len, uint32_t type, size_t min_len)
{
    if (len > WDSMC_NTLM_MAX_MESSAGE)
        return -EMSGSIZE;
    if (len < min_len || memcmp(msg, ntlmssp_sig, 8) != 0 || get32(msg + 8) != type)
        return -EBADMSG;
    return 0;
}

/* ---- AV pairs (MS-NLMP 2.2.2.1) ---- */

struct av_info {
    const uint8_t *nb_computer, *nb_domain;
    bool has_timestamp;
    uint64_t timestamp;
    bool has_flags;
    uint32_t flags;
    size_t len; /* bytes up to and including MsvAvEOL */
};

/*
 * Walks an AV_PAIR list: it must end with MsvAvEOL inside av_len and hold at
 * most WDSMC_NTLM_MAX_AV_PAIRS pairs; MsvAvTimestamp must be 8 bytes and
 * MsvAvFlags 4. Bytes after MsvAvEOL are allowed only if allow_trailing.
 */
static int av_parse(const uint8_t *av, size_t av_len, bool allow_trailing, struct av_info *ret)
{
    memset(ret, 0, sizeof(*ret));
    size_t pos = 0;
    for (int count = 0; count <= WDSMC_NTLM_MAX_AV_PAIRS; count++) {
        if (av_len - pos < 4)
            return -EBADMSG;
        uint16_t id = get16(av + pos), len = get16(av + pos + 2);
        const uint8_t *v = av + pos + 4;
        if (len > av_len - pos - 4)
            return -EBADMSG;
        pos += 4 + (size_t)len;
        switch (id) {
        case WDSMC_NTLM_AV_EOL:
            if (len != 0 || (!allow_trailing && pos != av_len))
                return -EBADMSG;
            ret->len = pos;
            return 0;
        case WDSMC_NTLM_AV_NB_COMPUTER:
            ret->nb_computer = v;
            break;
        case WDSMC_NTLM_AV_NB_DOMAIN:
            ret->nb_domain = v;
            break;
        case WDSMC_NTLM_AV_TIMESTAMP:
            if (len != 8)
                return -EBADMSG;
            ret->has_timestamp = true;
            ret->timestamp = get64(v);
            break;
        case WDSMC_NTLM_AV_FLAGS:
            if (len != 4)
                return -EBADMSG;
            ret->has_flags = true;
            ret->flags = get32(v);
            break;
        default:
            break;
        }
    }
    return -EBADMSG; /* too many pairs */
}

static size_t av_put(uint8_t *p, uint16_t id, const uint8_t *v, size_t len)
{
    put16(p, id);
    put16(p + 2, (uint16_t)len);
    if (len)
        memcpy(p + 4, v, len);
    return 4 + len;
}

/* ---- construction ---- */

static int fill_random(struct wdsmc_ntlm *n, uint8_t *buf, size_t len)
{
    int rc = n->random(n->random_ctx, buf, len);
    return rc < 0 ? rc : 0;
}

static const struct wdsmc_rpcauth_ops ntlm_ops;

static struct wdsmc_ntlm *ntlm_alloc(wdsmc_rpcauth_random_fn random, void *random_ctx,
                                     wdsmc_rpcauth_time_fn now, void *now_ctx,
                                     const uint8_t *version)
{
    struct wdsmc_ntlm *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->base.ops = &ntlm_ops;
    n->random = random ? random : wdsmc_authcrypto_random;
    n->random_ctx = random_ctx;
    n->now = now ? now : wdsmc_authcrypto_filetime_now;
    n->now_ctx = now_ctx;
    memcpy(n->version, version ? version : default_version, VERSION_SIZE);
    return n;
}

int wdsmc_ntlm_client_new(const struct wdsmc_rpcauth_client_cfg *cfg, struct wdsmc_ntlm **ret)
{
    if (!cfg || !ret)
        return -EINVAL;
    struct wdsmc_ntlm *n =
            ntlm_alloc(cfg->random, cfg->random_ctx, cfg->now, cfg->now_ctx, cfg->version);
    if (!n)
        return -ENOMEM;
    int rc = -EINVAL;
    if (name_set(&n->user, cfg->user) < 0 || name_set(&n->domain, cfg->domain) < 0 ||
        name_set(&n->workstation, cfg->workstation) < 0 || name_set(&n->spn, cfg->target_spn) < 0)
        goto fail;
    bool no_password = (!cfg->password || !cfg->password[0]) && !cfg->nt_hash;
    if (n->user.len == 0) {
        /* MS-NLMP 3.3.2: anonymous is User "" with Passwd "". */
        if (!no_password)
            goto fail;
        n->anonymous = true;
    } else if (cfg->nt_hash) {
        memcpy(n->nt_hash, cfg->nt_hash, 16);
    } else if (wdsmc_ntlm_nt_hash(cfg->password ? cfg->password : "", n->nt_hash) < 0) {
        goto fail;
    }
    *ret = n;
    return 0;
fail:
    wdsmc_ntlm_free(n);
    return rc;
}

int wdsmc_ntlm_server_new(const struct wdsmc_rpcauth_server_cfg *cfg, struct wdsmc_ntlm **ret)
{
    if (!cfg || !ret || !cfg->nb_computer || !cfg->nb_computer[0] || !cfg->lookup)
        return -EINVAL;
    struct wdsmc_ntlm *n =
            ntlm_alloc(cfg->random, cfg->random_ctx, cfg->now, cfg->now_ctx, cfg->version);
    if (!n)
        return -ENOMEM;
    n->server = true;
    /* A server outside a domain names itself as its NetBIOS domain, as
     * Windows does; MsvAvNbDomainName must be present (3.1.5.1.2). */
    const char *nb_domain = cfg->nb_domain && cfg->nb_domain[0] ? cfg->nb_domain : cfg->nb_computer;
    if (name_set(&n->nb_computer, cfg->nb_computer) < 0 || name_set(&n->nb_domain, nb_domain) < 0 ||
        name_set(&n->dns_computer, cfg->dns_computer) < 0 ||
        name_set(&n->dns_domain, cfg->dns_domain) < 0 ||
        name_set(&n->dns_tree, cfg->dns_tree) < 0) {
        wdsmc_ntlm_free(n);
        return -EINVAL;
    }
    n->lookup = cfg->lookup;
    n->lookup_ctx = cfg->lookup_ctx;
    n->allow_anonymous = cfg->allow_anonymous;
    n->omit_timestamp = cfg->omit_timestamp;
    n->require_mic = cfg->require_mic;
    n->max_skew = cfg->max_skew ? cfg->max_skew : DEFAULT_MAX_SKEW;
    *ret = n;
    return 0;
}

void wdsmc_ntlm_free(struct wdsmc_ntlm *n)
{
    if (!n)
        return;
    wdsmc_authcrypto_wipe(n, sizeof(*n));
    free(n);
}

struct wdsmc_rpcauth *wdsmc_ntlm_rpcauth(struct wdsmc_ntlm *n)
{
    return &n->base;
}

bool wdsmc_ntlm_mic_used(const struct wdsmc_ntlm *n)
{
    return n->state == ST_DONE && n->mic_used;
}

/* Derives the four keys and the two RC4 handles (3.1.5.1.2, 3.4.5). */
static int derive_keys(struct wdsmc_ntlm *n)
{
    uint8_t seal_c[16], seal_s[16];
    struct direction *c = n->server ? &n->recv : &n->send;
    struct direction *s = n->server ? &n->send : &n->recv;
    wdsmc_ntlm_signkey(n->exported, true, c->sign_key);
    wdsmc_ntlm_signkey(n->exported, false, s->sign_key);
    wdsmc_ntlm_sealkey(n->flags, n->exported, true, seal_c);
    wdsmc_ntlm_sealkey(n->flags, n->exported, false, seal_s);
    int rc = wdsmc_rc4_init(&c->rc4, seal_c, 16);
    if (rc == 0)
        rc = wdsmc_rc4_init(&s->rc4, seal_s, 16);
    c->seq = s->seq = 0;
    wdsmc_authcrypto_wipe(seal_c, sizeof(seal_c));
    wdsmc_authcrypto_wipe(seal_s, sizeof(seal_s));
    return rc;
}

/* MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE || AUTHENTICATE
 * with a zero MIC field) (3.1.5.1.2). auth must have its MIC field zeroed. */
static void compute_mic(const struct wdsmc_ntlm *n, const uint8_t *auth, size_t auth_len,
                        uint8_t ret[16])
{
    struct wdsmc_hmac_md5 h;
    wdsmc_hmac_md5_init(&h, n->exported, 16);
    wdsmc_hmac_md5_update(&h, n->neg_msg, n->neg_len);
    wdsmc_hmac_md5_update(&h, n->chal_msg, n->chal_len);
    wdsmc_hmac_md5_update(&h, auth, auth_len);
    wdsmc_hmac_md5_final(&h, ret);
}

/* ---- client (MS-NLMP 3.1.5.1) ---- */

static uint32_t client_flags(const struct wdsmc_ntlm *n)
{
    return CLIENT_FLAGS | (n->anonymous ? WDSMC_NTLM_NEGOTIATE_ANONYMOUS : 0);
}

/* 3.1.5.1.1: NEGOTIATE_MESSAGE with empty DomainName and Workstation. */
static int client_negotiate(struct wdsmc_ntlm *n, uint8_t *out, size_t cap, size_t *ret_len)
{
    size_t len = NEG_HDR + VERSION_SIZE;
    if (cap < len)
        return -ENOBUFS;
    memset(out, 0, len);
    memcpy(out, ntlmssp_sig, 8);
    put32(out + 8, MSG_NEGOTIATE);
    put32(out + 12, client_flags(n));
    put32(out + 20, (uint32_t)len); /* DomainNameBufferOffset */
    put32(out + 28, (uint32_t)len); /* WorkstationBufferOffset */
    memcpy(out + NEG_HDR, n->version, VERSION_SIZE);
    memcpy(n->neg_msg, out, len);
    n->neg_len = len;
    n->state = ST_CHALLENGE;
    *ret_len = len;
    return WDSMC_RPCAUTH_CONTINUE;
}

/* 3.1.5.1.2: CHALLENGE_MESSAGE in, AUTHENTICATE_MESSAGE out. */
static int client_authenticate(struct wdsmc_ntlm *n, const uint8_t *chal, size_t chal_len,
                               uint8_t *out, size_t cap, size_t *ret_len)
{
    int rc = check_header(chal, chal_len, MSG_CHALLENGE, CHAL_HDR);
    if (rc < 0)
        return rc;
    uint32_t cflags = get32(chal + 20);
    size_t min_off = CHAL_HDR + ((cflags & WDSMC_NTLM_NEGOTIATE_VERSION) ? VERSION_SIZE : 0);
    const uint8_t *tname, *tinfo;
    size_t tname_len, tinfo_len;
    if (chal_len < min_off || field_get(chal, chal_len, 12, min_off, &tname, &tname_len) < 0 ||
        field_get(chal, chal_len, 40, min_off, &tinfo, &tinfo_len) < 0)
        return -EBADMSG;
    (void)tname;

    /* Too weak for our policy: no Unicode, no NTLMv2 session security, no
     * 128-bit keys or no signing (3.1.5.1.2 "strong enough"). */
    uint32_t need = WDSMC_NTLM_NEGOTIATE_UNICODE | WDSMC_NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY |
                    WDSMC_NTLM_NEGOTIATE_128 | WDSMC_NTLM_NEGOTIATE_SIGN |
                    WDSMC_NTLM_NEGOTIATE_TARGET_INFO;
    if ((cflags & need) != need)
        return -EPROTO;
    struct av_info ti;
    if (tinfo_len == 0 || av_parse(tinfo, tinfo_len, false, &ti) < 0)
        return -EBADMSG;
    /* NTLMv2 with integrity needs both NetBIOS names (3.1.5.1.2). */
    if (!ti.nb_computer || !ti.nb_domain)
        return -EPROTO;

    uint32_t mine = client_flags(n);
    uint32_t flags = (mine & cflags) | (cflags & WDSMC_NTLM_NEGOTIATE_TARGET_INFO) |
                     (mine & (WDSMC_NTLM_REQUEST_TARGET | WDSMC_NTLM_NEGOTIATE_ANONYMOUS));
    bool mic = ti.has_timestamp && !n->anonymous;

    /* The client's AV pairs: with a server timestamp, TargetInfo plus
     * MsvAvFlags (MIC), channel bindings Z(16) and MsvAvTargetName
     * (3.1.5.1.2); without one, TargetInfo as it came (as 4.2.4 does). */
    uint8_t av[WDSMC_NTLM_MAX_MESSAGE];
    size_t av_len = 0;
    if (mic) {
        static const uint8_t zero16[16];
        size_t pos = 0;
        uint32_t avflags = WDSMC_NTLM_AV_FLAG_MIC | (ti.has_flags ? ti.flags : 0);
        uint8_t fl[4];
        while (pos < ti.len) {
            uint16_t id = get16(tinfo + pos), len = get16(tinfo + pos + 2);
            if (id != WDSMC_NTLM_AV_EOL && id != WDSMC_NTLM_AV_FLAGS &&
                id != WDSMC_NTLM_AV_CHANNEL_BINDINGS && id != WDSMC_NTLM_AV_TARGET_NAME) {
                memcpy(av + av_len, tinfo + pos, 4 + (size_t)len);
                av_len += 4 + (size_t)len;
            }
            pos += 4 + (size_t)len;
        }
        if (av_len + 8 + 20 + 4 + n->spn.len + 4 > sizeof(av))
            return -ENOBUFS;
        put32(fl, avflags);
        av_len += av_put(av + av_len, WDSMC_NTLM_AV_FLAGS, fl, 4);
        av_len += av_put(av + av_len, WDSMC_NTLM_AV_CHANNEL_BINDINGS, zero16, 16);
        av_len += av_put(av + av_len, WDSMC_NTLM_AV_TARGET_NAME, n->spn.b, n->spn.len);
        av_len += av_put(av + av_len, WDSMC_NTLM_AV_EOL, NULL, 0);
    } else {
        memcpy(av, tinfo, ti.len);
        av_len = ti.len;
    }

    uint8_t cchal[8], key[16], sbk[16] = {0}, lm[24] = {0};
    uint8_t nt[WDSMC_NTLM_MAX_MESSAGE];
    size_t nt_len = 0, lm_len = 0;
    if (n->anonymous) {
        lm_len = 1; /* LmChallengeResponse Z(1), SessionBaseKey Z(16) (3.3.2) */
    } else {
        rc = fill_random(n, cchal, 8);
        if (rc < 0)
            return rc;
        uint64_t t = ti.has_timestamp ? ti.timestamp : n->now(n->now_ctx);
        ntowfv2_16(n->nt_hash, n->user.b, n->user.len, n->domain.b, n->domain.len, key);
        rc = wdsmc_ntlm_v2_response(key, chal + 24, cchal, t, av, av_len, nt, sizeof(nt), lm, sbk);
        wdsmc_authcrypto_wipe(key, sizeof(key));
        if (rc < 0)
            return rc;
        nt_len = (size_t)rc;
        lm_len = 24;
        /* With a timestamp the LM response SHOULD be Z(24) (3.1.5.1.2). */
        if (ti.has_timestamp)
            memset(lm, 0, sizeof(lm));
    }

    /* KXKEY for NTLMv2 is SessionBaseKey (3.4.5.1). */
    uint8_t enc_key[16];
    size_t enc_len = 0;
    if ((flags & WDSMC_NTLM_NEGOTIATE_KEY_EXCH) &&
        (flags & (WDSMC_NTLM_NEGOTIATE_SIGN | WDSMC_NTLM_NEGOTIATE_SEAL))) {
        rc = fill_random(n, n->exported, 16);
        if (rc < 0)
            return rc;
        wdsmc_authcrypto_rc4k(sbk, 16, n->exported, 16, enc_key);
        enc_len = 16;
    } else {
        memcpy(n->exported, sbk, 16);
    }
    wdsmc_authcrypto_wipe(sbk, sizeof(sbk));

    size_t hdr = mic ? AUTH_HDR_MIC : AUTH_HDR + VERSION_SIZE;
    size_t total =
            hdr + n->domain.len + n->user.len + n->workstation.len + lm_len + nt_len + enc_len;
    if (total > cap || total > WDSMC_NTLM_MAX_MESSAGE)
        return -ENOBUFS;
    memset(out, 0, hdr);
    memcpy(out, ntlmssp_sig, 8);
    put32(out + 8, MSG_AUTHENTICATE);
    size_t pos = hdr;
    field_put(out, &pos, 28, n->domain.b, n->domain.len);
    field_put(out, &pos, 36, n->user.b, n->user.len);
    field_put(out, &pos, 44, n->workstation.b, n->workstation.len);
    field_put(out, &pos, 12, lm, lm_len);
    field_put(out, &pos, 20, nt, nt_len);
    field_put(out, &pos, 52, enc_key, enc_len);
    put32(out + 60, flags);
    if (flags & WDSMC_NTLM_NEGOTIATE_VERSION)
        memcpy(out + AUTH_HDR, n->version, VERSION_SIZE);

    memcpy(n->chal_msg, chal, chal_len);
    n->chal_len = chal_len;
    n->flags = flags;
    n->mic_used = mic;
    if (mic)
        compute_mic(n, out, total, out + MIC_OFFSET);
    rc = derive_keys(n);
    if (rc < 0)
        return rc;
    n->state = ST_DONE;
    *ret_len = total;
    return WDSMC_RPCAUTH_DONE;
}

/* ---- server (MS-NLMP 3.2.5.1) ---- */

/* 3.2.5.1.1: NEGOTIATE_MESSAGE in, CHALLENGE_MESSAGE out. */
static int server_challenge(struct wdsmc_ntlm *n, const uint8_t *neg, size_t neg_len, uint8_t *out,
                            size_t cap, size_t *ret_len)
{
    int rc = check_header(neg, neg_len, MSG_NEGOTIATE, 16);
    if (rc < 0)
        return rc;
    uint32_t nflags = get32(neg + 12);
    /* DomainName and Workstation are looked at only when supplied. */
    if (nflags & (WDSMC_NTLM_NEGOTIATE_OEM_DOMAIN_SUPPLIED |
                  WDSMC_NTLM_NEGOTIATE_OEM_WORKSTATION_SUPPLIED)) {
        const uint8_t *f;
        size_t flen;
        if (neg_len < NEG_HDR)
            return -EBADMSG;
        if (((nflags & WDSMC_NTLM_NEGOTIATE_OEM_DOMAIN_SUPPLIED) &&
             field_get(neg, neg_len, 16, NEG_HDR, &f, &flen) < 0) ||
            ((nflags & WDSMC_NTLM_NEGOTIATE_OEM_WORKSTATION_SUPPLIED) &&
             field_get(neg, neg_len, 24, NEG_HDR, &f, &flen) < 0))
            return -EBADMSG;
    }
    if ((nflags & SERVER_REQUIRED_FLAGS) != SERVER_REQUIRED_FLAGS)
        return -EPROTO;

    uint32_t flags = WDSMC_NTLM_NEGOTIATE_UNICODE | WDSMC_NTLM_REQUEST_TARGET |
                     WDSMC_NTLM_NEGOTIATE_NTLM | WDSMC_NTLM_NEGOTIATE_ALWAYS_SIGN |
                     WDSMC_NTLM_TARGET_TYPE_SERVER | WDSMC_NTLM_NEGOTIATE_TARGET_INFO |
                     WDSMC_NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY | (nflags & SERVER_ECHO_FLAGS);

    /* TargetInfo in the order Windows sends it. */
    uint8_t ti[5 * (4 + sizeof(n->nb_computer.b)) + 12 + 4];
    size_t ti_len = 0;
    const struct name16 *names[5] = {&n->nb_domain, &n->nb_computer, &n->dns_domain,
                                     &n->dns_computer, &n->dns_tree};
    static const uint16_t ids[5] = {WDSMC_NTLM_AV_NB_DOMAIN, WDSMC_NTLM_AV_NB_COMPUTER,
                                    WDSMC_NTLM_AV_DNS_DOMAIN, WDSMC_NTLM_AV_DNS_COMPUTER,
                                    WDSMC_NTLM_AV_DNS_TREE};
    for (int i = 0; i < 5; i++)
        if (names[i]->len)
            ti_len += av_put(ti + ti_len, ids[i], names[i]->b, names[i]->len);
    if (!n->omit_timestamp) {
        uint8_t ts[8];
        put64(ts, n->now(n->now_ctx));
        ti_len += av_put(ti + ti_len, WDSMC_NTLM_AV_TIMESTAMP, ts, 8);
    }
    ti_len += av_put(ti + ti_len, WDSMC_NTLM_AV_EOL, NULL, 0);

    size_t hdr = CHAL_HDR + VERSION_SIZE;
    size_t total = hdr + n->nb_computer.len + ti_len;
    if (total > cap || total > WDSMC_NTLM_MAX_MESSAGE)
        return -ENOBUFS;
    rc = fill_random(n, n->server_challenge, 8);
    if (rc < 0)
        return rc;
    memset(out, 0, hdr);
    memcpy(out, ntlmssp_sig, 8);
    put32(out + 8, MSG_CHALLENGE);
    size_t pos = hdr;
    field_put(out, &pos, 12, n->nb_computer.b, n->nb_computer.len);
    field_put(out, &pos, 40, ti, ti_len);
    put32(out + 20, flags);
    memcpy(out + 24, n->server_challenge, 8);
    if (flags & WDSMC_NTLM_NEGOTIATE_VERSION)
        memcpy(out + CHAL_HDR, n->version, VERSION_SIZE);

    memcpy(n->neg_msg, neg, neg_len);
    n->neg_len = neg_len;
    memcpy(n->chal_msg, out, total);
    n->chal_len = total;
    n->chal_flags = flags;
    n->state = ST_CHALLENGE;
    *ret_len = total;
    return WDSMC_RPCAUTH_CONTINUE;
}

/* UTF-16LE field to the UTF-8 copy kept for info(); -EBADMSG when invalid. */
static int field_to_utf8(const uint8_t *p, size_t len, char *dst, size_t cap)
{
    if (len % 2 || len > WDSMC_NTLM_MAX_NAME * 2)
        return -EBADMSG;
    return wdsmc_utf16le_to_utf8(p, len / 2, dst, cap) < 0 ? -EBADMSG : 0;
}

/* 3.2.5.1.2: AUTHENTICATE_MESSAGE in; DONE with nothing to send. */
static int server_accept(struct wdsmc_ntlm *n, const uint8_t *auth, size_t auth_len)
{
    int rc = check_header(auth, auth_len, MSG_AUTHENTICATE, AUTH_HDR);
    if (rc < 0)
        return rc;
    const uint8_t *lm, *nt, *dom, *usr, *ws, *ekey;
    size_t lm_len, nt_len, dom_len, usr_len, ws_len, ekey_len;
    if (field_get(auth, auth_len, 12, AUTH_HDR, &lm, &lm_len) < 0 ||
        field_get(auth, auth_len, 20, AUTH_HDR, &nt, &nt_len) < 0 ||
        field_get(auth, auth_len, 28, AUTH_HDR, &dom, &dom_len) < 0 ||
        field_get(auth, auth_len, 36, AUTH_HDR, &usr, &usr_len) < 0 ||
        field_get(auth, auth_len, 44, AUTH_HDR, &ws, &ws_len) < 0 ||
        field_get(auth, auth_len, 52, AUTH_HDR, &ekey, &ekey_len) < 0)
        return -EBADMSG;
    if (field_to_utf8(dom, dom_len, n->domain8, sizeof(n->domain8)) < 0 ||
        field_to_utf8(usr, usr_len, n->user8, sizeof(n->user8)) < 0 ||
        field_to_utf8(ws, ws_len, n->workstation8, sizeof(n->workstation8)) < 0)
        return -EBADMSG;

    uint32_t aflags = get32(auth + 60);
    n->flags = (n->chal_flags & aflags) | (aflags & WDSMC_NTLM_NEGOTIATE_ANONYMOUS);
    uint32_t need = WDSMC_NTLM_NEGOTIATE_UNICODE | WDSMC_NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY |
                    WDSMC_NTLM_NEGOTIATE_128 | WDSMC_NTLM_NEGOTIATE_SIGN;
    if ((n->flags & need) != need)
        return -EPROTO;

    uint8_t sbk[16] = {0};
    bool mic_present = false;
    if (usr_len == 0 && nt_len == 0 && (lm_len == 0 || (lm_len == 1 && lm[0] == 0))) {
        /* NullSession: SessionBaseKey Z(16). */
        if (!n->allow_anonymous)
            return -EACCES;
        n->anonymous = true;
    } else {
        /* NTLMv2 only: a 24-byte (or shorter) NT response is NTLMv1 or LM. */
        if (nt_len < 16 + NTLMV2_BLOB_HDR + 4)
            return -EACCES;
        const uint8_t *blob = nt + 16;
        size_t blob_len = nt_len - 16;
        if (blob[0] != 1 || blob[1] != 1)
            return -EBADMSG;
        struct av_info cav;
        if (av_parse(blob + NTLMV2_BLOB_HDR, blob_len - NTLMV2_BLOB_HDR, true, &cav) < 0)
            return -EBADMSG;
        mic_present = cav.has_flags && (cav.flags & WDSMC_NTLM_AV_FLAG_MIC);

        uint8_t nt_hash[16];
        rc = n->lookup(n->lookup_ctx, n->user8, n->domain8, nt_hash);
        if (rc == -ENOENT)
            return -EACCES;
        if (rc < 0)
            return rc;
        /* The expected NTProofStr with the domain the client sent, then
         * with NIL for it (3.2.5.1.2 "Retry using NIL for the domain"). */
        bool ok = false;
        for (int attempt = 0; attempt < 2 && !ok; attempt++) {
            uint8_t key[16], proof[16];
            struct wdsmc_hmac_md5 h;
            ntowfv2_16(nt_hash, usr, usr_len, dom, attempt ? 0 : dom_len, key);
            wdsmc_hmac_md5_init(&h, key, 16);
            wdsmc_hmac_md5_update(&h, n->server_challenge, 8);
            wdsmc_hmac_md5_update(&h, blob, blob_len);
            wdsmc_hmac_md5_final(&h, proof);
            if (!wdsmc_authcrypto_memneq(proof, nt, 16)) {
                ok = true;
                wdsmc_authcrypto_hmac_md5(key, 16, proof, 16, sbk);
            }
            wdsmc_authcrypto_wipe(key, sizeof(key));
        }
        wdsmc_authcrypto_wipe(nt_hash, sizeof(nt_hash));
        if (!ok)
            return -EACCES;
        uint64_t now = n->now(n->now_ctx), ts = get64(blob + 8);
        if ((ts > now ? ts - now : now - ts) > n->max_skew)
            return -EACCES;
        /* We always send MsvAvTimestamp, so a client that leaves out the
         * MIC is old, minimal or tampered with (3.1.5.1.2, 5.1). Tampering
         * cannot remove a MIC the client sent: its MsvAvFlags bit is under
         * NTProofStr. Refuse only when configured to. */
        if (!mic_present && !n->omit_timestamp && n->require_mic)
            return -EPROTO;
    }

    if ((n->flags & WDSMC_NTLM_NEGOTIATE_KEY_EXCH) &&
        (n->flags & (WDSMC_NTLM_NEGOTIATE_SIGN | WDSMC_NTLM_NEGOTIATE_SEAL))) {
        if (ekey_len != 16)
            return -EBADMSG;
        wdsmc_authcrypto_rc4k(sbk, 16, ekey, 16, n->exported);
    } else {
        memcpy(n->exported, sbk, 16);
    }
    wdsmc_authcrypto_wipe(sbk, sizeof(sbk));

    if (mic_present) {
        /* The MIC field must exist and no payload may overlap it. */
        if (auth_len < AUTH_HDR_MIC || fields_min_offset(auth, 12, 6) < AUTH_HDR_MIC)
            return -EBADMSG;
        uint8_t copy[WDSMC_NTLM_MAX_MESSAGE], mic[16];
        memcpy(copy, auth, auth_len);
        memset(copy + MIC_OFFSET, 0, MIC_SIZE);
        compute_mic(n, copy, auth_len, mic);
        if (wdsmc_authcrypto_memneq(mic, auth + MIC_OFFSET, MIC_SIZE))
            return -EACCES;
    }
    n->mic_used = mic_present;
    rc = derive_keys(n);
    if (rc < 0)
        return rc;
    n->state = ST_DONE;
    return WDSMC_RPCAUTH_DONE;
}

int wdsmc_ntlm_step(struct wdsmc_ntlm *n, const uint8_t *in, size_t in_len, uint8_t *out,
                    size_t out_cap, size_t *ret_out_len)
{
    int rc;
    if (!n || !ret_out_len || (in_len && !in))
        return -EINVAL;
    *ret_out_len = 0;
    if (in_len > WDSMC_NTLM_MAX_MESSAGE)
        rc = -EMSGSIZE;
    else if (!n->server && n->state == ST_INITIAL && !in_len)
        rc = client_negotiate(n, out, out_cap, ret_out_len);
    else if (!n->server && n->state == ST_CHALLENGE && in_len)
        rc = client_authenticate(n, in, in_len, out, out_cap, ret_out_len);
    else if (n->server && n->state == ST_INITIAL && in_len)
        rc = server_challenge(n, in, in_len, out, out_cap, ret_out_len);
    else if (n->server && n->state == ST_CHALLENGE && in_len)
        rc = server_accept(n, in, in_len);
    else
        rc = -EPROTO;
    /* A refused client may not try again on the same context; out of
     * buffer space is the caller's to fix and retry. */
    if (rc < 0 && rc != -ENOBUFS) {
        n->state = ST_FAILED;
        wdsmc_authcrypto_wipe(n->exported, sizeof(n->exported));
    }
    return rc;
}

/* ---- session security (MS-NLMP 3.4) ---- */

static int ready(const struct wdsmc_ntlm *n, uint32_t need)
{
    if (n->state != ST_DONE || n->broken)
        return -EPROTO;
    if (!(n->flags & need))
        return -EOPNOTSUPP;
    return 0;
}

/* HMAC_MD5(SigningKey, ConcatenationOf(SeqNum, Message))[0..7] (3.4.4.2). */
static void checksum(const struct direction *d, const uint8_t *msg, size_t len, uint8_t ret[8])
{
    uint8_t seq[4], full[16];
    struct wdsmc_hmac_md5 h;
    put32(seq, d->seq);
    wdsmc_hmac_md5_init(&h, d->sign_key, 16);
    wdsmc_hmac_md5_update(&h, seq, 4);
    wdsmc_hmac_md5_update(&h, msg, len);
    wdsmc_hmac_md5_final(&h, full);
    memcpy(ret, full, 8);
}

/* NTLMSSP_MESSAGE_SIGNATURE for extended session security (2.2.2.9.2). With
 * key exchange the checksum is encrypted with the direction's RC4 handle;
 * the caller has already run any sealing through it. */
static void finish_sig(const struct wdsmc_ntlm *n, struct direction *d, uint8_t cks[8],
                       uint8_t sig[16])
{
    if (n->flags & WDSMC_NTLM_NEGOTIATE_KEY_EXCH)
        wdsmc_rc4_crypt(&d->rc4, cks, 8);
    put32(sig, 1);
    memcpy(sig + 4, cks, 8);
    put32(sig + 12, d->seq);
}

static int check_sig(struct wdsmc_ntlm *n, struct direction *d, uint8_t cks[8], const uint8_t *sig)
{
    uint8_t want[16];
    finish_sig(n, d, cks, want);
    if (wdsmc_authcrypto_memneq(want, sig, 16)) {
        n->broken = true;
        return -EBADMSG;
    }
    d->seq++;
    return 0;
}

int wdsmc_ntlm_seal(struct wdsmc_ntlm *n, uint8_t *data, size_t len, const uint8_t *sign_region,
                    size_t sign_len, uint8_t sig_out[16])
{
    int rc = ready(n, WDSMC_NTLM_NEGOTIATE_SEAL);
    if (rc < 0)
        return rc;
    /* SEAL (3.4.3): the checksum over the plaintext first, then RC4 over
     * the message, then RC4 over the checksum, on one key stream. */
    uint8_t cks[8];
    checksum(&n->send, sign_region, sign_len, cks);
    wdsmc_rc4_crypt(&n->send.rc4, data, len);
    finish_sig(n, &n->send, cks, sig_out);
    n->send.seq++;
    return 0;
}

int wdsmc_ntlm_unseal(struct wdsmc_ntlm *n, uint8_t *data, size_t len, const uint8_t *sign_region,
                      size_t sign_len, const uint8_t *sig, size_t sig_len)
{
    int rc = ready(n, WDSMC_NTLM_NEGOTIATE_SEAL);
    if (rc < 0)
        return rc;
    if (sig_len != WDSMC_RPCAUTH_SIG_SIZE)
        return -EBADMSG;
    uint8_t cks[8];
    wdsmc_rc4_crypt(&n->recv.rc4, data, len);
    checksum(&n->recv, sign_region, sign_len, cks);
    return check_sig(n, &n->recv, cks, sig);
}

int wdsmc_ntlm_sign(struct wdsmc_ntlm *n, const uint8_t *msg, size_t len, uint8_t sig_out[16])
{
    int rc = ready(n, WDSMC_NTLM_NEGOTIATE_SIGN);
    if (rc < 0)
        return rc;
    uint8_t cks[8];
    checksum(&n->send, msg, len, cks);
    finish_sig(n, &n->send, cks, sig_out);
    n->send.seq++;
    return 0;
}

int wdsmc_ntlm_verify(struct wdsmc_ntlm *n, const uint8_t *msg, size_t len, const uint8_t *sig,
                      size_t sig_len)
{
    int rc = ready(n, WDSMC_NTLM_NEGOTIATE_SIGN);
    if (rc < 0)
        return rc;
    if (sig_len != WDSMC_RPCAUTH_SIG_SIZE)
        return -EBADMSG;
    uint8_t cks[8];
    checksum(&n->recv, msg, len, cks);
    return check_sig(n, &n->recv, cks, sig);
}

int wdsmc_ntlm_mech_list_mic(struct wdsmc_ntlm *n, const uint8_t *msg, size_t len,
                             uint8_t sig_out[16])
{
    struct wdsmc_rc4 saved = n->send.rc4;
    int rc = wdsmc_ntlm_sign(n, msg, len, sig_out);
    n->send.rc4 = saved;
    wdsmc_rc4_wipe(&saved);
    return rc;
}

int wdsmc_ntlm_check_mech_list_mic(struct wdsmc_ntlm *n, const uint8_t *msg, size_t len,
                                   const uint8_t *sig, size_t sig_len)
{
    struct wdsmc_rc4 saved = n->recv.rc4;
    int rc = wdsmc_ntlm_verify(n, msg, len, sig, sig_len);
    n->recv.rc4 = saved;
    wdsmc_rc4_wipe(&saved);
    return rc;
}

int wdsmc_ntlm_info(struct wdsmc_ntlm *n, struct wdsmc_rpcauth_info *ret)
{
    if (n->state != ST_DONE)
        return -EPROTO;
    memset(ret, 0, sizeof(*ret));
    ret->complete = true;
    ret->anonymous = n->anonymous;
    ret->can_sign = !n->broken && (n->flags & WDSMC_NTLM_NEGOTIATE_SIGN);
    ret->can_seal = !n->broken && (n->flags & WDSMC_NTLM_NEGOTIATE_SEAL);
    ret->ntlm_flags = n->flags;
    ret->user = n->user8;
    ret->domain = n->domain8;
    ret->workstation = n->workstation8;
    memcpy(ret->session_key, n->exported, 16);
    return 0;
}

/* ---- the rpcauth provider ---- */

static struct wdsmc_ntlm *from_base(struct wdsmc_rpcauth *a)
{
    return (struct wdsmc_ntlm *)a;
}

static int op_step(struct wdsmc_rpcauth *a, const uint8_t *in, size_t in_len, uint8_t *out,
                   size_t out_cap, size_t *ret_out_len)
{
    return wdsmc_ntlm_step(from_base(a), in, in_len, out, out_cap, ret_out_len);
}

static int op_seal(struct wdsmc_rpcauth *a, uint8_t *data, size_t len, const uint8_t *sign_region,
                   size_t sign_len, uint8_t sig_out[16])
{
    return wdsmc_ntlm_seal(from_base(a), data, len, sign_region, sign_len, sig_out);
}

static int op_unseal(struct wdsmc_rpcauth *a, uint8_t *data, size_t len, const uint8_t *sign_region,
                     size_t sign_len, const uint8_t *sig, size_t sig_len)
{
    return wdsmc_ntlm_unseal(from_base(a), data, len, sign_region, sign_len, sig, sig_len);
}

static int op_sign(struct wdsmc_rpcauth *a, const uint8_t *msg, size_t len, uint8_t sig_out[16])
{
    return wdsmc_ntlm_sign(from_base(a), msg, len, sig_out);
}

static int op_verify(struct wdsmc_rpcauth *a, const uint8_t *msg, size_t len, const uint8_t *sig,
                     size_t sig_len)
{
    return wdsmc_ntlm_verify(from_base(a), msg, len, sig, sig_len);
}

static int op_info(struct wdsmc_rpcauth *a, struct wdsmc_rpcauth_info *ret)
{
    return wdsmc_ntlm_info(from_base(a), ret);
}

static void op_free(struct wdsmc_rpcauth *a)
{
    wdsmc_ntlm_free(from_base(a));
}

static const struct wdsmc_rpcauth_ops ntlm_ops = {
        .auth_type = WDSMC_RPCAUTH_WINNT,
        .step = op_step,
        .seal = op_seal,
        .unseal = op_unseal,
        .sign = op_sign,
        .verify = op_verify,
        .info = op_info,
        .free = op_free,
};

int wdsmc_rpcauth_ntlm_client_new(const struct wdsmc_rpcauth_client_cfg *cfg,
                                  struct wdsmc_rpcauth **ret)
{
    struct wdsmc_ntlm *n;
    int rc = wdsmc_ntlm_client_new(cfg, &n);
    if (rc == 0)
        *ret = &n->base;
    return rc;
}

int wdsmc_rpcauth_ntlm_server_new(const struct wdsmc_rpcauth_server_cfg *cfg,
                                  struct wdsmc_rpcauth **ret)
{
    struct wdsmc_ntlm *n;
    int rc = wdsmc_ntlm_server_new(cfg, &n);
    if (rc == 0)
        *ret = &n->base;
    return rc;
}
