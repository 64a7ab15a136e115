/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for what MS-WDSMSI's key material reaches: the three
 * CryptoAPI key blob parsers (SymKey, SignKey, a server's PRIVATEKEYBLOB)
 * and wdsmc_mt_decode_sec() for HASH and SIGN packets. The first byte picks
 * the decoder; the rest is its input. Beyond "does not crash" it checks:
 *
 *   - a blob that parses is written back byte for byte (the parsers accept
 *     one shape only, decision 52), and a private key's public half parses
 *     as a public key with the same numbers;
 *   - a HASH packet decodes under the session key, both as it is and with
 *     its HMAC recomputed so that mutations reach the field decoders; a
 *     SIGN packet decodes under the test key (as it is: a signature cannot
 *     be recomputed for every input at fuzzing speed);
 *   - whatever decodes as a NONE or CHECKSUM packet, protected with HASH and
 *     with SIGN, decodes again to the same packet, and with any one byte
 *     after the security header changed is refused (-WDSMC_EHMAC,
 *     -WDSMC_ESIG), never accepted.
 */
#include <assert.h>
#include <string.h>

#include <nettle/hmac.h>

#include "fuzz.h"
#include "mt_lists.h"
#include "mtsec.h"
#include "mtsec_vectors.h"
#include "wdsmc/codec.h"
#include "wdsmc/error.h"

enum { PICK_SYMKEY, PICK_PUBKEY, PICK_PRIVKEY, PICK_HASH, PICK_SIGN, PICK_PROTECT, PICK_COUNT };

/* Security header: "WD", SecurityHeaderType, SecurityDataLen (2 bytes,
 * big-endian), SecurityData. */
#define SEC_OFF 5

static uint8_t out[WDSMC_MAX_DATAGRAM];
static uint8_t again[WDSMC_MAX_DATAGRAM];

static void symkey(const uint8_t *d, size_t n)
{
    struct wdsmc_cryptoapi_symkey k;

    if (wdsmc_cryptoapi_plaintextkeyblob(d, n, &k) != 0)
        return;
    assert(k.key_len >= 1 && k.key_len <= WDSMC_SYMKEY_MAX && k.key == d + 12);
    ssize_t m =
            wdsmc_cryptoapi_plaintextkeyblob_write(k.alg_id, k.key, k.key_len, out, sizeof(out));
    assert(m == (ssize_t)n && memcmp(out, d, n) == 0);
}

static void same_public(const struct wdsmc_cryptoapi_rsa *a, const struct wdsmc_cryptoapi_rsa *b)
{
    assert(a->alg_id == b->alg_id && a->bitlen == b->bitlen && a->pubexp == b->pubexp);
    assert(memcmp(a->modulus, b->modulus, a->bitlen / 8) == 0);
}

static void pubkey(const uint8_t *d, size_t n)
{
    struct wdsmc_cryptoapi_rsa k, k2;

    if (wdsmc_cryptoapi_publickeyblob(d, n, &k) != 0)
        return;
    assert(k.bitlen >= WDSMC_RSA_MIN_BITS && k.bitlen <= WDSMC_RSA_MAX_BITS && !k.priv_exp);
    ssize_t m = wdsmc_cryptoapi_publickeyblob_write(&k, out, sizeof(out));
    assert(m == (ssize_t)n && memcmp(out, d, n) == 0);
    assert(wdsmc_cryptoapi_publickeyblob(out, (size_t)m, &k2) == 0);
    same_public(&k, &k2);

    /* As a client's SignKey: nettle may still refuse the numbers. */
    struct wdsmc_mt_keys keys = {.sign_key = d, .sign_key_len = n};
    struct wdsmc_mtsec s;
    int err = wdsmc_mtsec_init(&s, &keys, WDSMC_MTSEC_VERIFY, 1);
    assert(err == 0 || err == -WDSMC_EKEYBLOB);
    if (err == 0)
        wdsmc_mtsec_fini(&s);
}

static void privkey(const uint8_t *d, size_t n)
{
    struct wdsmc_cryptoapi_rsa k, pub;

    if (wdsmc_cryptoapi_privatekeyblob(d, n, &k) != 0)
        return;
    assert(k.priv_exp && k.prime1 && k.coefficient);
    ssize_t m = wdsmc_cryptoapi_publickeyblob_write(&k, out, sizeof(out));
    assert(m > 0);
    assert(wdsmc_cryptoapi_publickeyblob(out, (size_t)m, &pub) == 0);
    same_public(&k, &pub);

    /* A server's key: nettle checks the numbers. Signing is not tried: a
     * mutated key that nettle accepts may still be wrong. */
    struct wdsmc_mt_keys keys = {.sign_priv = d, .sign_priv_len = n};
    struct wdsmc_mtsec s;
    int err = wdsmc_mtsec_init(&s, &keys, WDSMC_MTSEC_SIGN, 1);
    assert(err == 0 || err == -WDSMC_EKEYBLOB);
    if (err == 0)
        wdsmc_mtsec_fini(&s);
}

/* The session keys every packet case uses: MS-WDSMSI 4.1's SymKey and the
 * test RSA key. Built once; a fuzzer process never frees them. */
static struct wdsmc_mtsec hkey, skey;
static struct wdsmc_mt_security hash_sec, sign_sec;

static void keys_once(void)
{
    static int done;

    if (done)
        return;
    done = 1;
    struct wdsmc_mt_keys h = {.sym_key = symkey_41,
                              .sym_key_len = sizeof(symkey_41),
                              .hash_alg = WDSMC_CALG_SHA_256,
                              .hmac_alg = WDSMC_CALG_HMAC};
    struct wdsmc_mt_keys s = {.sign_key = test_pub_blob,
                              .sign_key_len = sizeof(test_pub_blob),
                              .sign_priv = test_priv_blob,
                              .sign_priv_len = sizeof(test_priv_blob)};
    int e1 = wdsmc_mtsec_init(&hkey, &h, WDSMC_MTSEC_HMAC, 1);
    int e2 = wdsmc_mtsec_init(&skey, &s, WDSMC_MTSEC_VERIFY | WDSMC_MTSEC_SIGN, 1);
    assert(e1 == 0 && e2 == 0);
    wdsmc_mtsec_view(&hkey, WDSMC_SEC_HASH, &hash_sec);
    wdsmc_mtsec_view(&skey, WDSMC_SEC_SIGN, &sign_sec);
}

static uint8_t fixed[WDSMC_MAX_DATAGRAM];

/* A HASH packet under the session key, as it is and with its HMAC made
 * right (SHA-256: 32 bytes over what follows the security header). */
static void hash_packet(const uint8_t *d, size_t n)
{
    struct wdsmc_mt_pkt p;
    enum { H = SHA256_DIGEST_SIZE };

    ssize_t r = wdsmc_mt_decode_sec(d, n, &hash_sec, &p);
    assert(r < 0 || (size_t)r == n);
    if (n < SEC_OFF + H || n > sizeof(fixed) || d[2] != WDSMC_SEC_HASH || d[3] != 0 || d[4] != H)
        return;
    memcpy(fixed, d, n);
    struct hmac_sha256_ctx ctx;
    hmac_sha256_set_key(&ctx, hkey.hmac_key_len, hkey.hmac_key);
    hmac_sha256_update(&ctx, n - SEC_OFF - H, fixed + SEC_OFF + H);
    hmac_sha256_digest(&ctx, H, fixed + SEC_OFF);
    r = wdsmc_mt_decode_sec(fixed, n, &hash_sec, &p);
    /* The HMAC is right, so any refusal is about the fields. */
    assert(r == (ssize_t)n || (r < 0 && r != -WDSMC_EHMAC && r != -WDSMC_ESECTYPE));
}

static void sign_packet(const uint8_t *d, size_t n)
{
    struct wdsmc_mt_pkt p;
    ssize_t r = wdsmc_mt_decode_sec(d, n, &sign_sec, &p);
    assert(r < 0 || (size_t)r == n);
}

/* Protect a decodable packet with `sec`, decode it back, then change one
 * byte (chosen by `pick`) after the security header: refused. */
static void protect_one(const struct wdsmc_mt_pkt *p, const struct wdsmc_mt_security *sec,
                        int bad_auth, size_t pick)
{
    struct wdsmc_mt_pkt q;
    ssize_t m = wdsmc_mt_encode_sec(p, sec, out, sizeof(out));

    if (m == -ENOBUFS) /* a longer SecurityData than the input had */
        return;
    assert(m > 0);
    assert(wdsmc_mt_decode_sec(out, (size_t)m, sec, &q) == m);
    assert(q.opcode == p->opcode && q.session_id == p->session_id &&
           q.sender_time == p->sender_time && q.sec_type == sec->mode);

    size_t hdr = SEC_OFF + ((size_t)out[3] << 8 | out[4]);
    if ((size_t)m <= hdr)
        return;
    memcpy(again, out, (size_t)m);
    again[hdr + pick % ((size_t)m - hdr)] ^= (uint8_t)(1 + pick % 255);
    assert(wdsmc_mt_decode_sec(again, (size_t)m, sec, &q) == bad_auth);
}

static void protect(const uint8_t *d, size_t n)
{
    struct wdsmc_mt_pkt p;

    if (n < 2)
        return;
    /* The first two bytes choose the byte to change; the packet follows. */
    size_t pick = (size_t)d[0] << 8 | d[1];
    if (wdsmc_mt_decode(d + 2, n - 2, &p) != (ssize_t)(n - 2))
        return;
    fuzz_mt_lists_to_arrays(&p);
    protect_one(&p, &hash_sec, -WDSMC_EHMAC, pick);
    protect_one(&p, &sign_sec, -WDSMC_ESIG, pick);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    keys_once();
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    switch (data[0] % PICK_COUNT) {
    case PICK_SYMKEY:
        symkey(d, n);
        break;
    case PICK_PUBKEY:
        pubkey(d, n);
        break;
    case PICK_PRIVKEY:
        privkey(d, n);
        break;
    case PICK_HASH:
        hash_packet(d, n);
        break;
    case PICK_SIGN:
        sign_packet(d, n);
        break;
    default:
        protect(d, n);
        break;
    }
    return 0;
}
