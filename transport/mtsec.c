/* SPDX-License-Identifier: MIT */
/*
 * MS-WDSMT packet hashing and signing (2.2.2.1, 2.2.2.2) and the CryptoAPI
 * key blobs MS-WDSMSI 2.2.1 carries the keys in (SymKey, SignKey).
 *
 * Kept apart from codec_mt.c so the codec proper (and the fuzz targets built
 * from it) needs no crypto library. Decoding checks the security header and
 * the HMAC or signature over the bytes after it, then hands the datagram to
 * wdsmc_mt_decode(), which parses it and, for HASH and SIGN, reports
 * -WDSMC_ESECUNSUPP only after every other check passed: here that means
 * "valid". Encoding lets wdsmc_mt_encode() write a NONE packet SecurityDataLen
 * bytes into the buffer, so its body lands where the protected packet's body
 * goes, then writes the real header and SecurityData in front of it.
 *
 * Readings of the spec are doc/decisions.md 49-55.
 */
#include <errno.h>
#include <string.h>

#include <gmp.h>
#include <nettle/bignum.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <nettle/rsa.h>
#include <nettle/sha1.h>
#include <nettle/sha2.h>

#include "mtsec.h"
#include "wdsmc/codec.h"
#include "wire.h"

#define SECHDR_FIXED_LEN 5 /* "WD", type, SecurityDataLen */

/* CryptoAPI BLOBHEADER bType values and RSAPUBKEY magics ("RSA1", "RSA2"
 * read as little-endian DWORDs). */
#define BLOB_PUBLICKEY    0x06
#define BLOB_PRIVATEKEY   0x07
#define BLOB_PLAINTEXTKEY 0x08
#define BLOB_VERSION      0x02
#define RSA1_MAGIC        0x31415352u
#define RSA2_MAGIC        0x32415352u
#define PLAINTEXT_HDR_LEN (WDSMC_KEYBLOB_HDR + 4)
#define RSA_HDR_LEN       (WDSMC_KEYBLOB_HDR + WDSMC_RSAPUBKEY_LEN)
#define RSA_MAX_BYTES     (WDSMC_RSA_MAX_BITS / 8)

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

/* CryptoAPI structures are little-endian, unlike the MS-WDSMT wire. */
static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void reverse_copy(uint8_t *dst, const uint8_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[n - 1 - i];
}

static uint32_t hash_alg(const struct wdsmc_mt_security *sec)
{
    return sec->hash_alg ? sec->hash_alg : WDSMC_CALG_SHA_256;
}

/* ------------------------------------------------------------------------ */
/* HMAC and RSA over a packet                                                */
/* ------------------------------------------------------------------------ */

ssize_t wdsmc_mt_sec_len(const struct wdsmc_mt_security *sec)
{
    if (!sec)
        return -EINVAL;
    switch (sec->mode) {
    case WDSMC_SEC_NONE:
        return 0;
    case WDSMC_SEC_CHECKSUM:
        return 4;
    case WDSMC_SEC_HASH:
        if (!sec->hmac_key || sec->hmac_key_len == 0)
            return -EINVAL;
        if (hash_alg(sec) == WDSMC_CALG_SHA_256)
            return SHA256_DIGEST_SIZE;
        if (hash_alg(sec) == WDSMC_CALG_SHA1)
            return SHA1_DIGEST_SIZE;
        return -EINVAL;
    case WDSMC_SEC_SIGN:
        if (!sec->rsa_pub || sec->rsa_pub->size == 0 || sec->rsa_pub->size > RSA_MAX_BYTES)
            return -EINVAL;
        if (hash_alg(sec) != WDSMC_CALG_SHA_256 && hash_alg(sec) != WDSMC_CALG_SHA1)
            return -EINVAL;
        return (ssize_t)sec->rsa_pub->size;
    default:
        return -EINVAL;
    }
}

/* Decision 50: HMAC-H(key, packet bytes after the security header), H the
 * HashAlgId; the "Hash" of 2.2.2.1 is HMAC's inner hash function, not a
 * digest fed to HMAC. mac[] gets wdsmc_mt_sec_len() bytes. */
static void packet_hmac(const struct wdsmc_mt_security *sec, const uint8_t *body, size_t len,
                        uint8_t *mac)
{
    if (hash_alg(sec) == WDSMC_CALG_SHA1) {
        struct hmac_sha1_ctx ctx;
        hmac_sha1_set_key(&ctx, sec->hmac_key_len, sec->hmac_key);
        hmac_sha1_update(&ctx, len, body);
        hmac_sha1_digest(&ctx, SHA1_DIGEST_SIZE, mac);
    } else {
        struct hmac_sha256_ctx ctx;
        hmac_sha256_set_key(&ctx, sec->hmac_key_len, sec->hmac_key);
        hmac_sha256_update(&ctx, len, body);
        hmac_sha256_digest(&ctx, SHA256_DIGEST_SIZE, mac);
    }
}

/* Decision 51: PKCS#1 v1.5 with H over the packet; SecurityData is the
 * signature little-endian (CryptSignHash byte order). */
static bool packet_verify(const struct wdsmc_mt_security *sec, const uint8_t *body, size_t len,
                          const uint8_t *sig_le, size_t sig_len)
{
    uint8_t be[RSA_MAX_BYTES];
    mpz_t s;
    int ok;

    reverse_copy(be, sig_le, sig_len);
    mpz_init(s);
    nettle_mpz_set_str_256_u(s, sig_len, be);
    if (hash_alg(sec) == WDSMC_CALG_SHA1) {
        struct sha1_ctx h;
        sha1_init(&h);
        sha1_update(&h, len, body);
        ok = rsa_sha1_verify(sec->rsa_pub, &h, s);
    } else {
        struct sha256_ctx h;
        sha256_init(&h);
        sha256_update(&h, len, body);
        ok = rsa_sha256_verify(sec->rsa_pub, &h, s);
    }
    mpz_clear(s);
    return ok != 0;
}

static int packet_sign(const struct wdsmc_mt_security *sec, const uint8_t *body, size_t len,
                       uint8_t *sig_le, size_t sig_len)
{
    uint8_t be[RSA_MAX_BYTES];
    mpz_t s;
    int ok;

    mpz_init(s);
    if (hash_alg(sec) == WDSMC_CALG_SHA1) {
        struct sha1_ctx h;
        sha1_init(&h);
        sha1_update(&h, len, body);
        ok = rsa_sha1_sign_tr(sec->rsa_pub, sec->rsa_priv, sec->random_ctx, sec->random, &h, s);
    } else {
        struct sha256_ctx h;
        sha256_init(&h);
        sha256_update(&h, len, body);
        ok = rsa_sha256_sign_tr(sec->rsa_pub, sec->rsa_priv, sec->random_ctx, sec->random, &h, s);
    }
    if (ok)
        nettle_mpz_get_str_256(sig_len, be, s);
    mpz_clear(s);
    if (!ok)
        return -EIO;
    reverse_copy(sig_le, be, sig_len);
    return 0;
}

ssize_t wdsmc_mt_decode_sec(const uint8_t *buf, size_t len, const struct wdsmc_mt_security *sec,
                            struct wdsmc_mt_pkt *out)
{
    ssize_t want = wdsmc_mt_sec_len(sec);
    ssize_t r;

    memset(out, 0, sizeof(*out));
    if (want < 0)
        return -EINVAL;
    if (len > WDSMC_MAX_DATAGRAM)
        return -WDSMC_ETOOBIG;
    if (len < 2)
        return -WDSMC_ETRUNC;
    if (buf[0] != 'W' || buf[1] != 'D')
        return -WDSMC_EMAGIC;
    if (len < SECHDR_FIXED_LEN)
        return -WDSMC_ETRUNC;
    /* MS-WDSMT 3.1.5.1.1, 3.2.5.2: the header must match the mode, and a
     * HASH or SIGN header's length is fixed by the keys. */
    out->sec_type = buf[2];
    out->sec_len = wire_get16(buf + 3);
    if (out->sec_type != sec->mode || out->sec_len != (size_t)want)
        return -WDSMC_ESECTYPE;
    if (len - SECHDR_FIXED_LEN < out->sec_len)
        return -WDSMC_ETRUNC;

    /* Decision 23: authenticate before reading any field. */
    const uint8_t *sd = buf + SECHDR_FIXED_LEN;
    const uint8_t *body = sd + out->sec_len;
    size_t body_len = len - SECHDR_FIXED_LEN - out->sec_len;
    if (sec->mode == WDSMC_SEC_HASH) {
        uint8_t mac[WDSMC_HMAC_MAX_LEN];
        packet_hmac(sec, body, body_len, mac);
        if (!memeql_sec(mac, sd, out->sec_len))
            return -WDSMC_EHMAC;
    } else if (sec->mode == WDSMC_SEC_SIGN) {
        if (!packet_verify(sec, body, body_len, sd, out->sec_len))
            return -WDSMC_ESIG;
    }

    r = wdsmc_mt_decode(buf, len, out);
    if (r == -WDSMC_ESECUNSUPP && (sec->mode == WDSMC_SEC_HASH || sec->mode == WDSMC_SEC_SIGN))
        return (ssize_t)len;
    return r;
}

ssize_t wdsmc_mt_encode_sec(const struct wdsmc_mt_pkt *pkt, const struct wdsmc_mt_security *sec,
                            uint8_t *buf, size_t cap)
{
    ssize_t sl = wdsmc_mt_sec_len(sec);
    struct wdsmc_mt_pkt p;
    ssize_t n;

    if (sl < 0)
        return -EINVAL;
    p = *pkt;
    if (sec->mode == WDSMC_SEC_NONE || sec->mode == WDSMC_SEC_CHECKSUM) {
        p.sec_type = sec->mode;
        return wdsmc_mt_encode(&p, buf, cap);
    }
    if (sec->mode == WDSMC_SEC_SIGN && (!sec->rsa_priv || !sec->random))
        return -EINVAL;
    if (cap < (size_t)sl)
        return -ENOBUFS;

    /* The NONE header (5 bytes at buf + sl) is overwritten below by the
     * tail of SecurityData; the body after it stays where it is. */
    p.sec_type = WDSMC_SEC_NONE;
    n = wdsmc_mt_encode(&p, buf + sl, cap - (size_t)sl);
    if (n < 0)
        return n;
    if ((size_t)(n + sl) > WDSMC_MAX_DATAGRAM)
        return -ENOBUFS;

    const uint8_t *body = buf + SECHDR_FIXED_LEN + sl;
    size_t body_len = (size_t)n - SECHDR_FIXED_LEN;
    if (sec->mode == WDSMC_SEC_HASH) {
        packet_hmac(sec, body, body_len, buf + SECHDR_FIXED_LEN);
    } else {
        int rc = packet_sign(sec, body, body_len, buf + SECHDR_FIXED_LEN, (size_t)sl);
        if (rc < 0)
            return rc;
    }
    buf[0] = 'W';
    buf[1] = 'D';
    buf[2] = sec->mode;
    wire_put16(buf + 3, (uint16_t)sl);
    return n + sl;
}

ssize_t wdsmc_mt_data_offset(const struct wdsmc_mt_security *sec)
{
    ssize_t sl = wdsmc_mt_sec_len(sec);

    if (sl < 0)
        return sl;
    /* MS-WDSMT 2.2.2, 2.2.3, then 2.2.16 ODATA / 2.2.17 RDATA up to Data;
     * the options follow the data. */
    return SECHDR_FIXED_LEN + sl + WDSMC_MT_SESSION_HDR_LEN + 4 /* ClientId */ +
           8 /* ODATASeqNo */ + 8 /* MCTrailSeqNo */ + 2 /* DataLength */;
}

size_t wdsmc_mt_max_ranges_sec(const struct wdsmc_mt_security *sec)
{
    ssize_t sl = wdsmc_mt_sec_len(sec);

    if (sl < 0)
        return 0;
    /* Decision 20, as wdsmc_mt_max_ranges() counts it, with this header. */
    size_t fixed = SECHDR_FIXED_LEN + (size_t)sl + WDSMC_MT_SESSION_HDR_LEN + 4 /* ClientId */ +
                   8 /* HiODATASeqNo */ + 8 /* LossRate */ + 2 /* RangeCount */ +
                   2 /* OptionsCount */;
    return (WDSMC_MAX_DATAGRAM - fixed) / 16;
}

/* ------------------------------------------------------------------------ */
/* CryptoAPI key blobs                                                       */
/* ------------------------------------------------------------------------ */

/* BLOBHEADER: bType, bVersion, reserved (u16), aiKeyAlg (u32). */
static bool blob_header_ok(const uint8_t *blob, size_t len, uint8_t type)
{
    return len >= WDSMC_KEYBLOB_HDR && blob[0] == type && blob[1] == BLOB_VERSION && blob[2] == 0 &&
           blob[3] == 0;
}

int wdsmc_cryptoapi_plaintextkeyblob(const uint8_t *blob, size_t len,
                                     struct wdsmc_cryptoapi_symkey *ret)
{
    if (!blob || len < PLAINTEXT_HDR_LEN || !blob_header_ok(blob, len, BLOB_PLAINTEXTKEY))
        return -WDSMC_EKEYBLOB;
    uint32_t n = le32(blob + WDSMC_KEYBLOB_HDR);
    if (n == 0 || n > WDSMC_SYMKEY_MAX || n != len - PLAINTEXT_HDR_LEN)
        return -WDSMC_EKEYBLOB;
    ret->alg_id = le32(blob + 4);
    ret->key = blob + PLAINTEXT_HDR_LEN;
    ret->key_len = n;
    return 0;
}

ssize_t wdsmc_cryptoapi_plaintextkeyblob_write(uint32_t alg_id, const uint8_t *key, size_t key_len,
                                               uint8_t *buf, size_t cap)
{
    if (!key || key_len == 0 || key_len > WDSMC_SYMKEY_MAX)
        return -EINVAL;
    if (cap < PLAINTEXT_HDR_LEN + key_len)
        return -ENOBUFS;
    buf[0] = BLOB_PLAINTEXTKEY;
    buf[1] = BLOB_VERSION;
    buf[2] = buf[3] = 0;
    put_le32(buf + 4, alg_id);
    put_le32(buf + 8, (uint32_t)key_len);
    memcpy(buf + PLAINTEXT_HDR_LEN, key, key_len);
    return (ssize_t)(PLAINTEXT_HDR_LEN + key_len);
}

/* The BLOBHEADER and RSAPUBKEY shared by both RSA blobs. `len` must then be
 * exactly what the key's numbers need. */
static int rsa_blob(const uint8_t *blob, size_t len, uint8_t type, uint32_t magic,
                    struct wdsmc_cryptoapi_rsa *ret)
{
    if (!blob || len < RSA_HDR_LEN || !blob_header_ok(blob, len, type))
        return -WDSMC_EKEYBLOB;
    memset(ret, 0, sizeof(*ret));
    ret->alg_id = le32(blob + 4);
    if (ret->alg_id != WDSMC_CALG_RSA_SIGN && ret->alg_id != WDSMC_CALG_RSA_KEYX)
        return -WDSMC_EKEYBLOB;
    if (le32(blob + 8) != magic)
        return -WDSMC_EKEYBLOB;
    ret->bitlen = le32(blob + 12);
    ret->pubexp = le32(blob + 16);
    if (ret->bitlen < WDSMC_RSA_MIN_BITS || ret->bitlen > WDSMC_RSA_MAX_BITS ||
        ret->bitlen % (type == BLOB_PRIVATEKEY ? 16 : 8) != 0)
        return -WDSMC_EKEYBLOB;
    if (ret->pubexp < 3 || ret->pubexp % 2 == 0)
        return -WDSMC_EKEYBLOB;

    size_t n8 = ret->bitlen / 8, n16 = ret->bitlen / 16;
    size_t want = RSA_HDR_LEN + n8 + (type == BLOB_PRIVATEKEY ? 5 * n16 + n8 : 0);
    if (len != want)
        return -WDSMC_EKEYBLOB;
    ret->modulus = blob + RSA_HDR_LEN;
    /* bitlen is the modulus' size: its top bit is set (a shorter modulus
     * would give shorter signatures than SecurityDataLen expects). */
    if (!(ret->modulus[n8 - 1] & 0x80))
        return -WDSMC_EKEYBLOB;
    return 0;
}

int wdsmc_cryptoapi_publickeyblob(const uint8_t *blob, size_t len, struct wdsmc_cryptoapi_rsa *ret)
{
    return rsa_blob(blob, len, BLOB_PUBLICKEY, RSA1_MAGIC, ret);
}

int wdsmc_cryptoapi_privatekeyblob(const uint8_t *blob, size_t len, struct wdsmc_cryptoapi_rsa *ret)
{
    int r = rsa_blob(blob, len, BLOB_PRIVATEKEY, RSA2_MAGIC, ret);
    if (r < 0)
        return r;
    size_t n8 = ret->bitlen / 8, n16 = ret->bitlen / 16;
    const uint8_t *p = ret->modulus + n8;
    ret->prime1 = p;
    ret->prime2 = p + n16;
    ret->exponent1 = p + 2 * n16;
    ret->exponent2 = p + 3 * n16;
    ret->coefficient = p + 4 * n16;
    ret->priv_exp = p + 5 * n16;
    return 0;
}

ssize_t wdsmc_cryptoapi_publickeyblob_write(const struct wdsmc_cryptoapi_rsa *k, uint8_t *buf,
                                            size_t cap)
{
    if (!k || !k->modulus || k->bitlen < WDSMC_RSA_MIN_BITS || k->bitlen > WDSMC_RSA_MAX_BITS ||
        k->bitlen % 8 != 0 ||
        (k->alg_id != WDSMC_CALG_RSA_SIGN && k->alg_id != WDSMC_CALG_RSA_KEYX))
        return -EINVAL;
    size_t n8 = k->bitlen / 8;
    if (cap < RSA_HDR_LEN + n8)
        return -ENOBUFS;
    buf[0] = BLOB_PUBLICKEY;
    buf[1] = BLOB_VERSION;
    buf[2] = buf[3] = 0;
    put_le32(buf + 4, k->alg_id);
    put_le32(buf + 8, RSA1_MAGIC);
    put_le32(buf + 12, k->bitlen);
    put_le32(buf + 16, k->pubexp);
    memcpy(buf + RSA_HDR_LEN, k->modulus, n8);
    return (ssize_t)(RSA_HDR_LEN + n8);
}

/* ------------------------------------------------------------------------ */
/* Keys held by a state machine                                              */
/* ------------------------------------------------------------------------ */

/* A little-endian number of a blob into an mpz. */
static void mpz_from_le(mpz_t x, const uint8_t *le, size_t n)
{
    uint8_t be[RSA_MAX_BYTES];

    reverse_copy(be, le, n);
    nettle_mpz_set_str_256_u(x, n, be);
}

static int pub_from_blob(struct wdsmc_mtsec *k, const struct wdsmc_cryptoapi_rsa *b)
{
    uint8_t e[4];

    rsa_public_key_init(&k->pub);
    k->has_pub = true;
    mpz_from_le(k->pub.n, b->modulus, b->bitlen / 8);
    put_le32(e, b->pubexp);
    mpz_from_le(k->pub.e, e, 4);
    if (!rsa_public_key_prepare(&k->pub) || k->pub.size != b->bitlen / 8)
        return -WDSMC_EKEYBLOB;
    return 0;
}

/* Decision 52: nettle's CRT signing takes the private numbers on trust and
 * reads out of bounds on some that do not belong together (an even or
 * short prime, an exponent or coefficient past its prime: found by
 * tests/fuzz/fuzz_keys.c). A server's key comes from a file, so check what
 * signing relies on first: p and q odd, p * q = n, c * q = 1 (mod p) with
 * c < p, a < p and b < q, and a * e = 1 (mod p - 1), b * e = 1
 * (mod q - 1), so that every signature checks; d < n and matches a and b. */
static bool priv_consistent(const struct wdsmc_mtsec *k)
{
    const struct rsa_private_key *s = &k->priv;
    mpz_t t, m;
    bool ok;

    if (mpz_cmp_ui(s->p, 3) < 0 || mpz_cmp_ui(s->q, 3) < 0 || mpz_even_p(s->p) ||
        mpz_even_p(s->q) || mpz_cmp(s->a, s->p) >= 0 || mpz_cmp(s->b, s->q) >= 0 ||
        mpz_cmp(s->c, s->p) >= 0 || mpz_cmp(s->d, k->pub.n) >= 0)
        return false;
    mpz_inits(t, m, NULL);
    mpz_mul(t, s->p, s->q);
    ok = mpz_cmp(t, k->pub.n) == 0;
    mpz_mul(t, s->c, s->q);
    mpz_fdiv_r(t, t, s->p);
    ok = ok && mpz_cmp_ui(t, 1) == 0;
    for (int i = 0; i < 2 && ok; i++) {
        mpz_srcptr prime = i ? s->q : s->p, exp = i ? s->b : s->a;
        mpz_sub_ui(m, prime, 1);
        mpz_fdiv_r(t, s->d, m);
        ok = mpz_cmp(t, exp) == 0;
        mpz_mul(t, exp, k->pub.e);
        mpz_fdiv_r(t, t, m);
        ok = ok && mpz_cmp_ui(t, 1) == 0;
    }
    mpz_clears(t, m, NULL);
    return ok;
}

static int priv_from_blob(struct wdsmc_mtsec *k, const struct wdsmc_cryptoapi_rsa *b)
{
    size_t n8 = b->bitlen / 8, n16 = b->bitlen / 16;

    rsa_private_key_init(&k->priv);
    k->has_priv = true;
    mpz_from_le(k->priv.p, b->prime1, n16);
    mpz_from_le(k->priv.q, b->prime2, n16);
    mpz_from_le(k->priv.a, b->exponent1, n16);
    mpz_from_le(k->priv.b, b->exponent2, n16);
    mpz_from_le(k->priv.c, b->coefficient, n16);
    mpz_from_le(k->priv.d, b->priv_exp, n8);
    if (!rsa_private_key_prepare(&k->priv) || k->priv.size != n8 || !priv_consistent(k))
        return -WDSMC_EKEYBLOB;
    return 0;
}

static void mtsec_random(void *ctx, size_t len, uint8_t *dst);

/* A created state machine can always sign (mtsec.h): nettle checks only the
 * sizes of a private key, and a blob whose primes or exponents do not match
 * its modulus would fail every signature. Sign once here instead. */
static int sign_probe(struct wdsmc_mtsec *k)
{
    uint8_t sig[RSA_MAX_BYTES];
    struct wdsmc_mt_security v = {
            .mode = WDSMC_SEC_SIGN,
            .hash_alg = k->hash_alg,
            .rsa_pub = &k->pub,
            .rsa_priv = &k->priv,
            .random_ctx = &k->rng,
            .random = mtsec_random,
    };

    return packet_sign(&v, (const uint8_t *)"probe", 5, sig, k->pub.size) == 0 ? 0
                                                                               : -WDSMC_EKEYBLOB;
}

/* Decision 53: blinding randomness from a splitmix64 stream. nettle's
 * exponentiation is side-channel silent already; blinding is the second
 * line, and sign_tr also checks each signature (fault attacks). */
static void mtsec_random(void *ctx, size_t len, uint8_t *dst)
{
    uint64_t *x = ctx;

    for (size_t i = 0; i < len; i++) {
        if (i % 8 == 0) {
            uint64_t z = (*x += 0x9e3779b97f4a7c15u);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
            z ^= z >> 31;
            memcpy(dst + i, &z, len - i < 8 ? len - i : 8);
        }
    }
}

/* The keys one direction's mode needs; SIGN needs `sign` (0: a mode we
 * cannot run, -ENOTSUP). */
static int mode_needs(uint8_t mode, int sign)
{
    switch (mode) {
    case WDSMC_SEC_NONE:
    case WDSMC_SEC_CHECKSUM:
        return 0;
    case WDSMC_SEC_HASH:
        return WDSMC_MTSEC_HMAC;
    case WDSMC_SEC_SIGN:
        return sign ? sign : -ENOTSUP;
    default:
        return -EINVAL;
    }
}

int wdsmc_mtsec_needs(uint8_t server_sec, uint8_t client_sec, bool server)
{
    int s = mode_needs(server_sec, server ? WDSMC_MTSEC_SIGN : WDSMC_MTSEC_VERIFY);
    int c = mode_needs(client_sec, 0);

    if (s < 0)
        return s;
    return c < 0 ? c : s | c;
}

int wdsmc_mtsec_init(struct wdsmc_mtsec *k, const struct wdsmc_mt_keys *keys, unsigned need,
                     uint64_t seed)
{
    int r;

    memset(k, 0, sizeof(*k));
    k->hash_alg = WDSMC_CALG_SHA_256;
    k->rng = seed ^ 0x5349474e424c4e44u;
    if (!need)
        return 0;
    if (!keys)
        return -ENOKEY;
    /* MS-WDSMSI 2.2.1, 3.1.1.3: HashAlgId serves HASH and SIGN. */
    if (keys->hash_alg)
        k->hash_alg = keys->hash_alg;
    if (k->hash_alg != WDSMC_CALG_SHA_256 && k->hash_alg != WDSMC_CALG_SHA1)
        return -ENOTSUP;
    if ((need & WDSMC_MTSEC_HMAC) && keys->hmac_alg && keys->hmac_alg != WDSMC_CALG_HMAC)
        return -ENOTSUP;

    if (need & WDSMC_MTSEC_HMAC) {
        struct wdsmc_cryptoapi_symkey sk;
        if (!keys->sym_key)
            return -ENOKEY;
        r = wdsmc_cryptoapi_plaintextkeyblob(keys->sym_key, keys->sym_key_len, &sk);
        if (r < 0)
            return r;
        memcpy(k->hmac_key, sk.key, sk.key_len);
        k->hmac_key_len = sk.key_len;
    }
    if (need & WDSMC_MTSEC_SIGN) {
        /* The server's pair; its public half is what it sends as SignKey. */
        struct wdsmc_cryptoapi_rsa b;
        r = -ENOKEY;
        if (!keys->sign_priv)
            goto fail;
        r = wdsmc_cryptoapi_privatekeyblob(keys->sign_priv, keys->sign_priv_len, &b);
        if (r == 0)
            r = pub_from_blob(k, &b);
        if (r == 0)
            r = priv_from_blob(k, &b);
        if (r == 0)
            r = sign_probe(k);
        if (r < 0)
            goto fail;
    } else if (need & WDSMC_MTSEC_VERIFY) {
        struct wdsmc_cryptoapi_rsa b;
        r = -ENOKEY;
        if (!keys->sign_key)
            goto fail;
        r = wdsmc_cryptoapi_publickeyblob(keys->sign_key, keys->sign_key_len, &b);
        if (r == 0)
            r = pub_from_blob(k, &b);
        if (r < 0)
            goto fail;
    }
    return 0;
fail:
    wdsmc_mtsec_fini(k);
    return r;
}

void wdsmc_mtsec_fini(struct wdsmc_mtsec *k)
{
    if (k->has_pub)
        rsa_public_key_clear(&k->pub);
    if (k->has_priv)
        rsa_private_key_clear(&k->priv);
    k->has_pub = k->has_priv = false;
    explicit_bzero(k->hmac_key, sizeof(k->hmac_key));
    k->hmac_key_len = 0;
}

void wdsmc_mtsec_view(struct wdsmc_mtsec *k, uint8_t mode, struct wdsmc_mt_security *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->mode = mode;
    ret->hash_alg = k->hash_alg;
    if (mode == WDSMC_SEC_HASH) {
        ret->hmac_key = k->hmac_key;
        ret->hmac_key_len = k->hmac_key_len;
    }
    if (mode == WDSMC_SEC_SIGN) {
        ret->rsa_pub = k->has_pub ? &k->pub : NULL;
        ret->rsa_priv = k->has_priv ? &k->priv : NULL;
        if (k->has_priv) {
            ret->random_ctx = &k->rng;
            ret->random = mtsec_random;
        }
    }
}
