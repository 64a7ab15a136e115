/* SPDX-License-Identifier: MIT */
/*
 * SPNEGO with NTLM as its only mechanism; see spnego.h. Tokens are parsed
 * with asn1.c, which bounds every read; NegTokenInit fields beyond those of
 * RFC 4178 (MS-SPNG's negHints) are skipped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "asn1.h"
#include "spnego.h"

/* 1.3.6.1.5.5.2 and 1.3.6.1.4.1.311.2.2.10, contents octets only. */
static const uint8_t oid_spnego[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x02};
static const uint8_t oid_ntlm[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a};

enum state {
    S_START,          /* client: nothing sent; server: waiting for NegTokenInit */
    S_NEED_NEGOTIATE, /* server: asked for an NTLM NEGOTIATE */
    S_AUTH,           /* client: waiting for CHALLENGE; server: for AUTHENTICATE */
    S_FINAL,          /* client: waiting for accept-completed */
    S_DONE,
    S_FAILED,
};

struct wdsmc_spnego {
    struct wdsmc_rpcauth base; /* first: from_base casts */
    struct wdsmc_ntlm *ntlm;
    bool server;
    enum state state;
    bool mic_required; /* server: NTLM was not the client's first choice */
    bool mic_sent;     /* client */
    uint8_t mech_types[WDSMC_SPNEGO_MAX_MECH_TYPES];
    size_t mech_types_len;
};

static bool is_ntlm(const struct wdsmc_asn1_reader *oid)
{
    return oid->len == sizeof(oid_ntlm) && memcmp(oid->p, oid_ntlm, sizeof(oid_ntlm)) == 0;
}

/* NegTokenInit ::= SEQUENCE { mechTypes [0], reqFlags [1], mechToken [2],
 * mechListMIC [3] } (RFC 4178 4.2.1; NegTokenInit2 puts negHints at [3] and
 * the MIC at [4], MS-SPNG 2.2.1). */
static int decode_init(struct wdsmc_asn1_reader *seq, struct wdsmc_spnego_token *t)
{
    struct wdsmc_asn1_reader v, list, oid;
    int last = -1;
    while (!wdsmc_asn1_done(seq)) {
        uint8_t tag;
        if (wdsmc_asn1_read(seq, &tag, &v) < 0)
            return -EBADMSG;
        int n = tag - WDSMC_ASN1_CTX(0);
        /* Context tags only, each at most once, in ascending order. */
        if (tag < WDSMC_ASN1_CTX(0) || tag > WDSMC_ASN1_CTX(30) || n <= last)
            return -EBADMSG;
        last = n;
        if (n == 0) {
            const uint8_t *start = v.p;
            if (wdsmc_asn1_expect(&v, WDSMC_ASN1_SEQUENCE, &list) < 0 || !wdsmc_asn1_done(&v))
                return -EBADMSG;
            t->mech_types = start;
            t->mech_types_len = (size_t)(list.p + list.len - start);
            for (int i = 0; !wdsmc_asn1_done(&list); i++) {
                if (i == WDSMC_SPNEGO_MAX_MECHS ||
                    wdsmc_asn1_expect(&list, WDSMC_ASN1_OID, &oid) < 0 || oid.len == 0)
                    return -EBADMSG;
                if (t->ntlm_index < 0 && is_ntlm(&oid))
                    t->ntlm_index = i;
            }
        } else if (n == 2) {
            if (wdsmc_asn1_expect(&v, WDSMC_ASN1_OCTET_STR, &oid) < 0 || !wdsmc_asn1_done(&v))
                return -EBADMSG;
            t->mech_token = oid.p;
            t->mech_token_len = oid.len;
        }
        /* reqFlags, negHints and the MIC of an initial token are ignored
         * (MS-SPNG 3.1.5.3; a MIC can only be checked once a mechanism has
         * been agreed on, and ours comes later). */
    }
    return t->mech_types ? 0 : -EBADMSG;
}

/* NegTokenResp ::= SEQUENCE { negState [0] ENUMERATED, supportedMech [1],
 * responseToken [2], mechListMIC [3] } (RFC 4178 4.2.2). */
static int decode_resp(struct wdsmc_asn1_reader *seq, struct wdsmc_spnego_token *t)
{
    struct wdsmc_asn1_reader v, in;
    int last = -1;
    while (!wdsmc_asn1_done(seq)) {
        uint8_t tag;
        if (wdsmc_asn1_read(seq, &tag, &v) < 0)
            return -EBADMSG;
        int n = tag - WDSMC_ASN1_CTX(0);
        if (tag < WDSMC_ASN1_CTX(0) || tag > WDSMC_ASN1_CTX(30) || n <= last)
            return -EBADMSG;
        last = n;
        switch (n) {
        case 0:
            if (wdsmc_asn1_expect(&v, WDSMC_ASN1_ENUMERATED, &in) < 0 || in.len != 1 ||
                in.p[0] > WDSMC_SPNEGO_REQUEST_MIC || !wdsmc_asn1_done(&v))
                return -EBADMSG;
            t->neg_state = in.p[0];
            break;
        case 1:
            if (wdsmc_asn1_expect(&v, WDSMC_ASN1_OID, &in) < 0 || !wdsmc_asn1_done(&v))
                return -EBADMSG;
            t->has_supported_mech = true;
            t->supported_mech_is_ntlm = is_ntlm(&in);
            break;
        case 2:
        case 3:
            if (wdsmc_asn1_expect(&v, WDSMC_ASN1_OCTET_STR, &in) < 0 || !wdsmc_asn1_done(&v))
                return -EBADMSG;
            if (n == 2) {
                t->mech_token = in.p;
                t->mech_token_len = in.len;
            } else {
                t->mic = in.p;
                t->mic_len = in.len;
            }
            break;
        default:
            break; /* extension fields */
        }
    }
    return 0;
}

int wdsmc_spnego_decode(const uint8_t *buf, size_t len, struct wdsmc_spnego_token *ret)
{
    struct wdsmc_spnego_token t = {.ntlm_index = -1, .neg_state = -1};
    struct wdsmc_asn1_reader r = wdsmc_asn1_reader_init(buf, len), outer, v, seq;
    int rc;
    if (len > WDSMC_RPCAUTH_MAX_TOKEN)
        return -EMSGSIZE;
    if (!buf)
        return -EBADMSG;
    if (wdsmc_asn1_peek(&r) == WDSMC_ASN1_APP(0)) {
        /* InitialContextToken: thisMech, then innerContextToken. */
        if (wdsmc_asn1_expect(&r, WDSMC_ASN1_APP(0), &outer) < 0 ||
            wdsmc_asn1_expect(&outer, WDSMC_ASN1_OID, &v) < 0 || v.len != sizeof(oid_spnego) ||
            memcmp(v.p, oid_spnego, sizeof(oid_spnego)) != 0 ||
            wdsmc_asn1_expect(&outer, WDSMC_ASN1_CTX(0), &v) < 0 || !wdsmc_asn1_done(&outer) ||
            wdsmc_asn1_expect(&v, WDSMC_ASN1_SEQUENCE, &seq) < 0 || !wdsmc_asn1_done(&v))
            return -EBADMSG;
        t.init = true;
        rc = decode_init(&seq, &t);
    } else {
        if (wdsmc_asn1_expect(&r, WDSMC_ASN1_CTX(1), &v) < 0 ||
            wdsmc_asn1_expect(&v, WDSMC_ASN1_SEQUENCE, &seq) < 0 || !wdsmc_asn1_done(&v))
            return -EBADMSG;
        rc = decode_resp(&seq, &t);
    }
    if (rc < 0)
        return rc;
    if (!wdsmc_asn1_done(&r))
        return -EBADMSG;
    *ret = t;
    return 0;
}

/* ---- encoding ---- */

static int encode_init(uint8_t *out, size_t cap, const uint8_t *mech_types, size_t mt_len,
                       const uint8_t *token, size_t token_len, size_t *ret_len)
{
    struct wdsmc_asn1_writer w;
    wdsmc_asn1_writer_init(&w, out, cap);
    wdsmc_asn1_begin(&w);
    wdsmc_asn1_put(&w, WDSMC_ASN1_OID, oid_spnego, sizeof(oid_spnego));
    wdsmc_asn1_begin(&w);
    wdsmc_asn1_begin(&w);
    wdsmc_asn1_begin(&w);
    wdsmc_asn1_put_raw(&w, mech_types, mt_len);
    wdsmc_asn1_end(&w, WDSMC_ASN1_CTX(0));
    wdsmc_asn1_begin(&w);
    wdsmc_asn1_put(&w, WDSMC_ASN1_OCTET_STR, token, token_len);
    wdsmc_asn1_end(&w, WDSMC_ASN1_CTX(2));
    wdsmc_asn1_end(&w, WDSMC_ASN1_SEQUENCE);
    wdsmc_asn1_end(&w, WDSMC_ASN1_CTX(0));
    wdsmc_asn1_end(&w, WDSMC_ASN1_APP(0));
    return wdsmc_asn1_finish(&w, ret_len);
}

/* neg_state < 0 leaves it out; so do NULL token and mic. */
static int encode_resp(uint8_t *out, size_t cap, int neg_state, bool supported_mech,
                       const uint8_t *token, size_t token_len, const uint8_t *mic, size_t mic_len,
                       size_t *ret_len)
{
    struct wdsmc_asn1_writer w;
    wdsmc_asn1_writer_init(&w, out, cap);
    wdsmc_asn1_begin(&w);
    wdsmc_asn1_begin(&w);
    if (neg_state >= 0) {
        uint8_t st = (uint8_t)neg_state;
        wdsmc_asn1_begin(&w);
        wdsmc_asn1_put(&w, WDSMC_ASN1_ENUMERATED, &st, 1);
        wdsmc_asn1_end(&w, WDSMC_ASN1_CTX(0));
    }
    if (supported_mech) {
        wdsmc_asn1_begin(&w);
        wdsmc_asn1_put(&w, WDSMC_ASN1_OID, oid_ntlm, sizeof(oid_ntlm));
        wdsmc_asn1_end(&w, WDSMC_ASN1_CTX(1));
    }
    if (token) {
        wdsmc_asn1_begin(&w);
        wdsmc_asn1_put(&w, WDSMC_ASN1_OCTET_STR, token, token_len);
        wdsmc_asn1_end(&w, WDSMC_ASN1_CTX(2));
    }
    if (mic) {
        wdsmc_asn1_begin(&w);
        wdsmc_asn1_put(&w, WDSMC_ASN1_OCTET_STR, mic, mic_len);
        wdsmc_asn1_end(&w, WDSMC_ASN1_CTX(3));
    }
    wdsmc_asn1_end(&w, WDSMC_ASN1_SEQUENCE);
    wdsmc_asn1_end(&w, WDSMC_ASN1_CTX(1));
    return wdsmc_asn1_finish(&w, ret_len);
}

/* ---- contexts ---- */

static const struct wdsmc_rpcauth_ops spnego_ops;

static struct wdsmc_spnego *spnego_alloc(void)
{
    struct wdsmc_spnego *s = calloc(1, sizeof(*s));
    if (s)
        s->base.ops = &spnego_ops;
    return s;
}

int wdsmc_spnego_client_new(const struct wdsmc_rpcauth_client_cfg *cfg, struct wdsmc_spnego **ret)
{
    if (!ret)
        return -EINVAL;
    struct wdsmc_spnego *s = spnego_alloc();
    if (!s)
        return -ENOMEM;
    int rc = wdsmc_ntlm_client_new(cfg, &s->ntlm);
    if (rc < 0) {
        free(s);
        return rc;
    }
    /* MechTypeList ::= SEQUENCE OF MechType, NTLM only. */
    struct wdsmc_asn1_writer w;
    wdsmc_asn1_writer_init(&w, s->mech_types, sizeof(s->mech_types));
    wdsmc_asn1_begin(&w);
    wdsmc_asn1_put(&w, WDSMC_ASN1_OID, oid_ntlm, sizeof(oid_ntlm));
    wdsmc_asn1_end(&w, WDSMC_ASN1_SEQUENCE);
    rc = wdsmc_asn1_finish(&w, &s->mech_types_len);
    if (rc < 0) {
        wdsmc_spnego_free(s);
        return rc;
    }
    *ret = s;
    return 0;
}

int wdsmc_spnego_server_new(const struct wdsmc_rpcauth_server_cfg *cfg, struct wdsmc_spnego **ret)
{
    if (!ret)
        return -EINVAL;
    struct wdsmc_spnego *s = spnego_alloc();
    if (!s)
        return -ENOMEM;
    int rc = wdsmc_ntlm_server_new(cfg, &s->ntlm);
    if (rc < 0) {
        free(s);
        return rc;
    }
    s->server = true;
    *ret = s;
    return 0;
}

void wdsmc_spnego_free(struct wdsmc_spnego *s)
{
    if (!s)
        return;
    wdsmc_ntlm_free(s->ntlm);
    free(s);
}

struct wdsmc_rpcauth *wdsmc_spnego_rpcauth(struct wdsmc_spnego *s)
{
    return &s->base;
}

struct wdsmc_ntlm *wdsmc_spnego_ntlm(struct wdsmc_spnego *s)
{
    return s->ntlm;
}

/* Runs one NTLM leg into a scratch buffer; it must end in `want`. */
static int ntlm_leg(struct wdsmc_spnego *s, const uint8_t *in, size_t in_len, uint8_t *buf,
                    size_t cap, size_t *ret_len, int want)
{
    int rc = wdsmc_ntlm_step(s->ntlm, in, in_len, buf, cap, ret_len);
    if (rc < 0)
        return rc;
    return rc == want ? 0 : -EPROTO;
}

static int client_step(struct wdsmc_spnego *s, const struct wdsmc_spnego_token *t, uint8_t *out,
                       size_t cap, size_t *ret_len)
{
    uint8_t tok[WDSMC_NTLM_MAX_MESSAGE], mic[16];
    size_t tok_len;
    int rc;
    switch (s->state) {
    case S_START:
        rc = ntlm_leg(s, NULL, 0, tok, sizeof(tok), &tok_len, WDSMC_RPCAUTH_CONTINUE);
        if (rc == 0)
            rc = encode_init(out, cap, s->mech_types, s->mech_types_len, tok, tok_len, ret_len);
        if (rc < 0)
            return rc;
        s->state = S_AUTH;
        return WDSMC_RPCAUTH_CONTINUE;
    case S_AUTH:
        if (t->init || t->neg_state == WDSMC_SPNEGO_REJECT)
            return t->init ? -EPROTO : -EACCES;
        /* The first reply names the mechanism (RFC 4178 4.2.2). */
        if (t->neg_state != WDSMC_SPNEGO_ACCEPT_INCOMPLETE || !t->has_supported_mech ||
            !t->supported_mech_is_ntlm || !t->mech_token)
            return -EPROTO;
        rc = ntlm_leg(s, t->mech_token, t->mech_token_len, tok, sizeof(tok), &tok_len,
                      WDSMC_RPCAUTH_DONE);
        if (rc < 0)
            return rc;
        s->mic_sent = wdsmc_ntlm_mic_used(s->ntlm);
        if (s->mic_sent) {
            rc = wdsmc_ntlm_mech_list_mic(s->ntlm, s->mech_types, s->mech_types_len, mic);
            if (rc < 0)
                return rc;
        }
        rc = encode_resp(out, cap, -1, false, tok, tok_len, s->mic_sent ? mic : NULL, 16, ret_len);
        if (rc < 0)
            return rc;
        s->state = S_FINAL;
        return WDSMC_RPCAUTH_CONTINUE;
    case S_FINAL:
        if (t->init)
            return -EPROTO;
        if (t->neg_state == WDSMC_SPNEGO_REJECT)
            return -EACCES;
        if (t->neg_state != WDSMC_SPNEGO_ACCEPT_COMPLETED || t->mech_token)
            return -EPROTO;
        if (t->mic) {
            if (wdsmc_ntlm_check_mech_list_mic(s->ntlm, s->mech_types, s->mech_types_len, t->mic,
                                               t->mic_len) < 0)
                return -EACCES;
        } else if (s->mic_sent) {
            return -EPROTO;
        }
        s->state = S_DONE;
        return WDSMC_RPCAUTH_DONE;
    default:
        return -EPROTO;
    }
}

/* The server's answer to an NTLM NEGOTIATE in `t`: the CHALLENGE in an
 * accept-incomplete NegTokenResp, naming the mechanism (supportedMech) only in
 * the first reply (RFC 4178 4.2.2). */
static int answer_negotiate(struct wdsmc_spnego *s, const struct wdsmc_spnego_token *t,
                            bool with_mech, uint8_t *out, size_t cap, size_t *ret_len)
{
    uint8_t tok[WDSMC_NTLM_MAX_MESSAGE];
    size_t tok_len;
    int rc = ntlm_leg(s, t->mech_token, t->mech_token_len, tok, sizeof(tok), &tok_len,
                      WDSMC_RPCAUTH_CONTINUE);
    if (rc == 0)
        rc = encode_resp(out, cap, WDSMC_SPNEGO_ACCEPT_INCOMPLETE, with_mech, tok, tok_len, NULL, 0,
                         ret_len);
    if (rc < 0)
        return rc;
    s->state = S_AUTH;
    return WDSMC_RPCAUTH_CONTINUE;
}

static int server_step(struct wdsmc_spnego *s, const struct wdsmc_spnego_token *t, uint8_t *out,
                       size_t cap, size_t *ret_len)
{
    uint8_t tok[WDSMC_NTLM_MAX_MESSAGE], mic[16];
    size_t tok_len;
    int rc;
    switch (s->state) {
    case S_START:
        if (!t->init)
            return -EPROTO;
        if (t->ntlm_index < 0)
            return -EPROTO; /* no mechanism in common */
        if (t->mech_types_len > sizeof(s->mech_types))
            return -EMSGSIZE;
        memcpy(s->mech_types, t->mech_types, t->mech_types_len);
        s->mech_types_len = t->mech_types_len;
        if (t->ntlm_index > 0 || !t->mech_token) {
            /* The optimistic token, if any, is for another mechanism: ask
             * for NTLM's first token; the downgrade makes the MIC
             * mandatory (RFC 4178 5). */
            s->mic_required = t->ntlm_index > 0;
            rc = encode_resp(out, cap, WDSMC_SPNEGO_ACCEPT_INCOMPLETE, true, NULL, 0, NULL, 0,
                             ret_len);
            if (rc < 0)
                return rc;
            s->state = S_NEED_NEGOTIATE;
            return WDSMC_RPCAUTH_CONTINUE;
        }
        return answer_negotiate(s, t, true, out, cap, ret_len);
    case S_NEED_NEGOTIATE:
        if (t->init || !t->mech_token)
            return -EPROTO;
        return answer_negotiate(s, t, false, out, cap, ret_len);
    case S_AUTH:
        if (t->init || !t->mech_token)
            return -EPROTO;
        rc = ntlm_leg(s, t->mech_token, t->mech_token_len, tok, sizeof(tok), &tok_len,
                      WDSMC_RPCAUTH_DONE);
        if (rc < 0)
            return rc;
        if (t->mic) {
            if (wdsmc_ntlm_check_mech_list_mic(s->ntlm, s->mech_types, s->mech_types_len, t->mic,
                                               t->mic_len) < 0)
                return -EACCES;
        } else if (s->mic_required || wdsmc_ntlm_mic_used(s->ntlm)) {
            /* MS-SPNG <8>: with an NTLM MIC the mechListMIC is mandatory. */
            return -EACCES;
        }
        if (t->mic) {
            rc = wdsmc_ntlm_mech_list_mic(s->ntlm, s->mech_types, s->mech_types_len, mic);
            if (rc < 0)
                return rc;
        }
        rc = encode_resp(out, cap, WDSMC_SPNEGO_ACCEPT_COMPLETED, false, NULL, 0,
                         t->mic ? mic : NULL, 16, ret_len);
        if (rc < 0)
            return rc;
        s->state = S_DONE;
        return WDSMC_RPCAUTH_DONE;
    default:
        return -EPROTO;
    }
}

int wdsmc_spnego_step(struct wdsmc_spnego *s, const uint8_t *in, size_t in_len, uint8_t *out,
                      size_t out_cap, size_t *ret_out_len)
{
    struct wdsmc_spnego_token t = {.ntlm_index = -1, .neg_state = -1};
    int rc = 0;
    if (!s || !ret_out_len || (in_len && !in))
        return -EINVAL;
    *ret_out_len = 0;
    if (s->state == S_DONE || s->state == S_FAILED)
        rc = -EPROTO;
    else if (!s->server && s->state == S_START)
        rc = in_len ? -EPROTO : 0;
    else if (!in_len)
        rc = -EPROTO;
    else
        rc = wdsmc_spnego_decode(in, in_len, &t);
    if (rc == 0)
        rc = s->server ? server_step(s, &t, out, out_cap, ret_out_len)
                       : client_step(s, &t, out, out_cap, ret_out_len);
    if (rc < 0) {
        /* Unlike NTLM alone, a leg here may already have advanced the NTLM
         * context, so even -ENOBUFS cannot be retried. */
        *ret_out_len = 0;
        s->state = S_FAILED;
    }
    return rc;
}

/* ---- the rpcauth provider: per-message calls go to NTLM once DONE ---- */

static struct wdsmc_spnego *from_base(struct wdsmc_rpcauth *a)
{
    return (struct wdsmc_spnego *)a;
}

static int op_step(struct wdsmc_rpcauth *a, const uint8_t *in, size_t in_len, uint8_t *out,
                   size_t out_cap, size_t *ret_out_len)
{
    return wdsmc_spnego_step(from_base(a), in, in_len, out, out_cap, ret_out_len);
}

static struct wdsmc_ntlm *done_ntlm(struct wdsmc_rpcauth *a)
{
    struct wdsmc_spnego *s = from_base(a);
    return s->state == S_DONE ? s->ntlm : NULL;
}

static int op_seal(struct wdsmc_rpcauth *a, uint8_t *data, size_t len, const uint8_t *sign_region,
                   size_t sign_len, uint8_t sig_out[16])
{
    struct wdsmc_ntlm *n = done_ntlm(a);
    return n ? wdsmc_ntlm_seal(n, data, len, sign_region, sign_len, sig_out) : -EPROTO;
}

static int op_unseal(struct wdsmc_rpcauth *a, uint8_t *data, size_t len, const uint8_t *sign_region,
                     size_t sign_len, const uint8_t *sig, size_t sig_len)
{
    struct wdsmc_ntlm *n = done_ntlm(a);
    return n ? wdsmc_ntlm_unseal(n, data, len, sign_region, sign_len, sig, sig_len) : -EPROTO;
}

static int op_sign(struct wdsmc_rpcauth *a, const uint8_t *msg, size_t len, uint8_t sig_out[16])
{
    struct wdsmc_ntlm *n = done_ntlm(a);
    return n ? wdsmc_ntlm_sign(n, msg, len, sig_out) : -EPROTO;
}

static int op_verify(struct wdsmc_rpcauth *a, const uint8_t *msg, size_t len, const uint8_t *sig,
                     size_t sig_len)
{
    struct wdsmc_ntlm *n = done_ntlm(a);
    return n ? wdsmc_ntlm_verify(n, msg, len, sig, sig_len) : -EPROTO;
}

static int op_info(struct wdsmc_rpcauth *a, struct wdsmc_rpcauth_info *ret)
{
    struct wdsmc_ntlm *n = done_ntlm(a);
    return n ? wdsmc_ntlm_info(n, ret) : -EPROTO;
}

static void op_free(struct wdsmc_rpcauth *a)
{
    wdsmc_spnego_free(from_base(a));
}

static const struct wdsmc_rpcauth_ops spnego_ops = {
        .auth_type = WDSMC_RPCAUTH_GSS_NEGOTIATE,
        .step = op_step,
        .seal = op_seal,
        .unseal = op_unseal,
        .sign = op_sign,
        .verify = op_verify,
        .info = op_info,
        .free = op_free,
};

int wdsmc_rpcauth_spnego_client_new(const struct wdsmc_rpcauth_client_cfg *cfg,
                                    struct wdsmc_rpcauth **ret)
{
    struct wdsmc_spnego *s;
    int rc = wdsmc_spnego_client_new(cfg, &s);
    if (rc == 0)
        *ret = &s->base;
    return rc;
}

int wdsmc_rpcauth_spnego_server_new(const struct wdsmc_rpcauth_server_cfg *cfg,
                                    struct wdsmc_rpcauth **ret)
{
    struct wdsmc_spnego *s;
    int rc = wdsmc_spnego_server_new(cfg, &s);
    if (rc == 0)
        *ret = &s->base;
    return rc;
}
