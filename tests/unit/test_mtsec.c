/* SPDX-License-Identifier: MIT */
/*
 * MS-WDSMT HASH and SIGN (transport/mtsec.c) and the CryptoAPI key blobs of
 * MS-WDSMSI: the MS-WDSMSI 4.1 SymKey and an openssl-made RSA key parsed
 * field by field and written back byte for byte; golden HASH and SIGN
 * packets (mtsec_vectors.h, computed outside our code) decoded and
 * re-encoded; every tampered byte, truncation and mode mismatch rejected.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mtsec.h"
#include "mtsec_vectors.h"
#include "wdsmc/codec.h"

#define assert_rc(expr, want)                                                                      \
    do {                                                                                           \
        ssize_t rc_ = (expr);                                                                      \
        ssize_t want_ = (want);                                                                    \
        if (rc_ != want_)                                                                          \
            fail_msg("%s = %zd (%s), want %zd (%s)", #expr, rc_, wdsmc_strerror((int)rc_), want_,  \
                     wdsmc_strerror((int)want_));                                                  \
    } while (0)

#define OFF_SECDATA 5

static const struct wdsmc_mt_keys keys_41 = {
        .sym_key = symkey_41,
        .sym_key_len = sizeof(symkey_41),
        .hash_alg = WDSMC_CALG_SHA_256,
        .hmac_alg = WDSMC_CALG_HMAC,
};

static const struct wdsmc_mt_keys keys_verify = {
        .sign_key = test_pub_blob,
        .sign_key_len = sizeof(test_pub_blob),
        .hash_alg = WDSMC_CALG_SHA_256,
};

static const struct wdsmc_mt_keys keys_sign = {
        .sign_priv = test_priv_blob,
        .sign_priv_len = sizeof(test_priv_blob),
        .hash_alg = WDSMC_CALG_SHA_256,
};

/* The QCC of hash_qcc, as a struct. */
static void qcc_pkt(struct wdsmc_mt_pkt *p)
{
    memset(p, 0, sizeof(*p));
    p->session_id = VEC_SESSION_ID;
    p->opcode = WDSMC_MT_QCC;
    p->sender_time = 0x1234;
    p->u.qcc.qcc_seq = 7;
    p->u.qcc.qcr_backoff = 100;
}

/* The SPM of sign_spm, as a struct. */
static void spm_pkt(struct wdsmc_mt_pkt *p)
{
    memset(p, 0, sizeof(*p));
    p->session_id = VEC_SESSION_ID;
    p->opcode = WDSMC_MT_SPM;
    p->sender_time = 0x1000;
    p->u.spm.spm_seq = 1;
    p->u.spm.min_nack_backoff = 1;
    p->u.spm.max_nack_backoff = 1;
}

/* ------------------------------------------------------------------------ */
/* Key blobs                                                                 */
/* ------------------------------------------------------------------------ */

static void test_plaintextkeyblob_parses_wdsmsi_41_symkey(void **state)
{
    struct wdsmc_cryptoapi_symkey k;
    uint8_t out[64];

    assert_rc(wdsmc_cryptoapi_plaintextkeyblob(symkey_41, sizeof(symkey_41), &k), 0);
    assert_int_equal(k.alg_id, WDSMC_CALG_3DES);
    assert_int_equal(k.key_len, 24);
    assert_ptr_equal(k.key, symkey_41 + 12);
    assert_int_equal(k.key[0], 0x2f);
    assert_int_equal(k.key[23], 0xe9);

    assert_rc(wdsmc_cryptoapi_plaintextkeyblob_write(k.alg_id, k.key, k.key_len, out, sizeof(out)),
              sizeof(symkey_41));
    assert_memory_equal(out, symkey_41, sizeof(symkey_41));
    assert_rc(wdsmc_cryptoapi_plaintextkeyblob_write(k.alg_id, k.key, k.key_len, out, 35),
              -ENOBUFS);
    assert_rc(wdsmc_cryptoapi_plaintextkeyblob_write(k.alg_id, k.key, 0, out, sizeof(out)),
              -EINVAL);
}

static void test_plaintextkeyblob_rejects_every_malformation(void **state)
{
    struct wdsmc_cryptoapi_symkey k;
    uint8_t b[sizeof(symkey_41) + 1];

    for (size_t n = 0; n < sizeof(symkey_41); n++)
        assert_rc(wdsmc_cryptoapi_plaintextkeyblob(symkey_41, n, &k), -WDSMC_EKEYBLOB);
    /* A byte too many does not match dwKeySize. */
    memcpy(b, symkey_41, sizeof(symkey_41));
    b[sizeof(symkey_41)] = 0;
    assert_rc(wdsmc_cryptoapi_plaintextkeyblob(b, sizeof(b), &k), -WDSMC_EKEYBLOB);

    static const size_t offs[] = {0, 1, 2, 3, 8, 9};
    for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
        memcpy(b, symkey_41, sizeof(symkey_41));
        b[offs[i]] ^= 0x01;
        assert_rc(wdsmc_cryptoapi_plaintextkeyblob(b, sizeof(symkey_41), &k), -WDSMC_EKEYBLOB);
    }
    /* dwKeySize 0 */
    memcpy(b, symkey_41, 12);
    memset(b + 8, 0, 4);
    assert_rc(wdsmc_cryptoapi_plaintextkeyblob(b, 12, &k), -WDSMC_EKEYBLOB);
    assert_rc(wdsmc_cryptoapi_plaintextkeyblob(NULL, 0, &k), -WDSMC_EKEYBLOB);
}

static void test_publickeyblob_parses_openssl_msblob(void **state)
{
    struct wdsmc_cryptoapi_rsa k;
    uint8_t out[600];

    assert_rc(wdsmc_cryptoapi_publickeyblob(test_pub_blob, sizeof(test_pub_blob), &k), 0);
    assert_int_equal(k.alg_id, WDSMC_CALG_RSA_KEYX);
    assert_int_equal(k.bitlen, 1024);
    assert_int_equal(k.pubexp, 65537);
    assert_ptr_equal(k.modulus, test_pub_blob + 20);
    assert_null(k.priv_exp);
    assert_rc(wdsmc_cryptoapi_publickeyblob_write(&k, out, sizeof(out)), sizeof(test_pub_blob));
    assert_memory_equal(out, test_pub_blob, sizeof(test_pub_blob));
    assert_rc(wdsmc_cryptoapi_publickeyblob_write(&k, out, sizeof(test_pub_blob) - 1), -ENOBUFS);
}

static void test_privatekeyblob_round_trips_to_its_public_blob(void **state)
{
    struct wdsmc_cryptoapi_rsa k;
    uint8_t out[600];

    assert_rc(wdsmc_cryptoapi_privatekeyblob(test_priv_blob, sizeof(test_priv_blob), &k), 0);
    assert_int_equal(k.bitlen, 1024);
    assert_ptr_equal(k.prime1, test_priv_blob + 20 + 128);
    assert_ptr_equal(k.priv_exp, test_priv_blob + 20 + 128 + 5 * 64);
    /* What a server sends as SignKey is exactly openssl's public blob. */
    assert_rc(wdsmc_cryptoapi_publickeyblob_write(&k, out, sizeof(out)), sizeof(test_pub_blob));
    assert_memory_equal(out, test_pub_blob, sizeof(test_pub_blob));
    /* Neither parser takes the other kind. */
    assert_rc(wdsmc_cryptoapi_publickeyblob(test_priv_blob, sizeof(test_priv_blob), &k),
              -WDSMC_EKEYBLOB);
    assert_rc(wdsmc_cryptoapi_privatekeyblob(test_pub_blob, sizeof(test_pub_blob), &k),
              -WDSMC_EKEYBLOB);
}

static void test_rsa_blobs_reject_every_malformation(void **state)
{
    struct wdsmc_cryptoapi_rsa k;
    uint8_t b[sizeof(test_priv_blob) + 1];

    for (size_t n = 0; n < sizeof(test_pub_blob); n++)
        assert_rc(wdsmc_cryptoapi_publickeyblob(test_pub_blob, n, &k), -WDSMC_EKEYBLOB);
    for (size_t n = 0; n < sizeof(test_priv_blob); n++)
        assert_rc(wdsmc_cryptoapi_privatekeyblob(test_priv_blob, n, &k), -WDSMC_EKEYBLOB);
    memcpy(b, test_pub_blob, sizeof(test_pub_blob));
    b[sizeof(test_pub_blob)] = 0;
    assert_rc(wdsmc_cryptoapi_publickeyblob(b, sizeof(test_pub_blob) + 1, &k), -WDSMC_EKEYBLOB);

    /* bType, bVersion, reserved, aiKeyAlg, magic, bitlen, pubexp */
    static const struct {
        size_t off;
        uint8_t val;
    } bad[] = {
            {0, 0x07},  {1, 0x03},  {2, 0x01},  {3, 0x01}, {5, 0x66},
            {8, 0x00},  {11, 0x32}, {12, 0x08}, /* bitlen 1032: length no longer matches */
            {13, 0x02},                         /* bitlen 512: under the minimum */
            {13, 0x40},                         /* bitlen 16384: over SecurityData's 512 bytes */
            {16, 0x00},                         /* pubexp 65536: even */
            {18, 0x00},                         /* pubexp 1 */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memcpy(b, test_pub_blob, sizeof(test_pub_blob));
        b[bad[i].off] = bad[i].val;
        if (bad[i].off == 18)
            b[16] = 1;
        assert_rc(wdsmc_cryptoapi_publickeyblob(b, sizeof(test_pub_blob), &k), -WDSMC_EKEYBLOB);
    }
    /* A modulus shorter than bitlen (top byte zero). */
    memcpy(b, test_pub_blob, sizeof(test_pub_blob));
    b[sizeof(test_pub_blob) - 1] = 0x7f;
    assert_rc(wdsmc_cryptoapi_publickeyblob(b, sizeof(test_pub_blob), &k), -WDSMC_EKEYBLOB);
    /* CALG_RSA_SIGN is fine too. */
    memcpy(b, test_pub_blob, sizeof(test_pub_blob));
    b[5] = 0x24;
    assert_rc(wdsmc_cryptoapi_publickeyblob(b, sizeof(test_pub_blob), &k), 0);
    assert_int_equal(k.alg_id, WDSMC_CALG_RSA_SIGN);
}

static void test_mtsec_init_reports_missing_and_bad_keys(void **state)
{
    struct wdsmc_mtsec k;
    struct wdsmc_mt_keys bad;
    uint8_t blob[sizeof(test_pub_blob)];

    assert_rc(wdsmc_mtsec_init(&k, NULL, 0, 1), 0);
    wdsmc_mtsec_fini(&k);
    assert_rc(wdsmc_mtsec_init(&k, NULL, WDSMC_MTSEC_HMAC, 1), -ENOKEY);
    assert_rc(wdsmc_mtsec_init(&k, &keys_41, WDSMC_MTSEC_VERIFY, 1), -ENOKEY);
    assert_rc(wdsmc_mtsec_init(&k, &keys_verify, WDSMC_MTSEC_SIGN, 1), -ENOKEY);
    bad = keys_41;
    bad.hash_alg = 0x800D; /* CALG_SHA_384 */
    assert_rc(wdsmc_mtsec_init(&k, &bad, WDSMC_MTSEC_HMAC, 1), -ENOTSUP);
    bad = keys_41;
    bad.hmac_alg = 0x800F; /* CALG_TLS1PRF */
    assert_rc(wdsmc_mtsec_init(&k, &bad, WDSMC_MTSEC_HMAC, 1), -ENOTSUP);
    bad = keys_41;
    bad.sym_key_len--;
    assert_rc(wdsmc_mtsec_init(&k, &bad, WDSMC_MTSEC_HMAC, 1), -WDSMC_EKEYBLOB);
    /* A modulus nettle rejects (even: not a product of two odd primes). */
    memcpy(blob, test_pub_blob, sizeof(blob));
    blob[20] &= 0xFE;
    bad = keys_verify;
    bad.sign_key = blob;
    assert_rc(wdsmc_mtsec_init(&k, &bad, WDSMC_MTSEC_VERIFY, 1), -WDSMC_EKEYBLOB);
    /* Private keys whose numbers disagree: the next test. */
}

/* Decision 52: every number of a PRIVATEKEYBLOB is checked against the
 * others before nettle signs with it (nettle takes only their sizes, and
 * some wrong ones made it read out of bounds:
 * tests/fuzz/corpus/keys/crash-78cc...). Each number, changed in its lowest
 * bit, cleared, or set to all ones, is refused. */
static void test_mtsec_init_refuses_private_numbers_that_disagree(void **state)
{
    struct wdsmc_mtsec k;
    struct wdsmc_mt_keys bad = keys_sign;
    uint8_t priv[sizeof(test_priv_blob)];
    uint32_t bits = (uint32_t)test_priv_blob[12] | (uint32_t)test_priv_blob[13] << 8 |
                    (uint32_t)test_priv_blob[14] << 16;
    size_t n8 = bits / 8, n16 = bits / 16;
    /* After the 20-byte headers and the modulus: p, q, a, b, c (n16 bytes
     * each), then d (n8). */
    size_t first = 20 + n8;

    bad.sign_priv = priv;
    for (int field = 0; field < 6; field++) {
        size_t off = first + (size_t)field * n16, len = field == 5 ? n8 : n16;
        for (int how = 0; how < 3; how++) {
            memcpy(priv, test_priv_blob, sizeof(priv));
            if (how == 0)
                priv[off] ^= 1; /* little-endian: the lowest bit */
            else
                memset(priv + off, how == 1 ? 0x00 : 0xFF, len);
            if (wdsmc_mtsec_init(&k, &bad, WDSMC_MTSEC_SIGN, 1) != -WDSMC_EKEYBLOB)
                fail_msg("field %d, change %d: accepted", field, how);
        }
    }
    /* p and q swapped (c is then no longer q^-1 mod p). */
    memcpy(priv, test_priv_blob, sizeof(priv));
    memcpy(priv + first, test_priv_blob + first + n16, n16);
    memcpy(priv + first + n16, test_priv_blob + first, n16);
    assert_rc(wdsmc_mtsec_init(&k, &bad, WDSMC_MTSEC_SIGN, 1), -WDSMC_EKEYBLOB);
    /* The key itself still signs. */
    bad.sign_priv = test_priv_blob;
    assert_rc(wdsmc_mtsec_init(&k, &bad, WDSMC_MTSEC_SIGN, 1), 0);
    wdsmc_mtsec_fini(&k);
}

/* ------------------------------------------------------------------------ */
/* HASH                                                                      */
/* ------------------------------------------------------------------------ */

static void test_hash_golden_qcc_decodes_and_reencodes(void **state)
{
    struct wdsmc_mtsec k;
    struct wdsmc_mt_security sec;
    struct wdsmc_mt_pkt p, q;
    uint8_t out[256];

    assert_rc(wdsmc_mtsec_init(&k, &keys_41, WDSMC_MTSEC_HMAC, 1), 0);
    wdsmc_mtsec_view(&k, WDSMC_SEC_HASH, &sec);
    assert_rc(wdsmc_mt_sec_len(&sec), 32);

    assert_rc(wdsmc_mt_decode_sec(hash_qcc, sizeof(hash_qcc), &sec, &p), sizeof(hash_qcc));
    assert_int_equal(p.sec_type, WDSMC_SEC_HASH);
    assert_int_equal(p.sec_len, 32);
    assert_ptr_equal(p.sec_data, hash_qcc + OFF_SECDATA);
    assert_int_equal(p.session_id, VEC_SESSION_ID);
    assert_int_equal(p.opcode, WDSMC_MT_QCC);
    assert_int_equal(p.sender_time, 0x1234);
    assert_int_equal(p.u.qcc.qcc_seq, 7);
    assert_int_equal(p.u.qcc.qcr_backoff, 100);

    qcc_pkt(&q);
    q.sec_type = WDSMC_SEC_CHECKSUM; /* ignored: sec->mode rules */
    assert_rc(wdsmc_mt_encode_sec(&q, &sec, out, sizeof(out)), sizeof(hash_qcc));
    assert_memory_equal(out, hash_qcc, sizeof(hash_qcc));
    /* Every buffer too small is -ENOBUFS, whether it cuts the body or the
     * SecurityData. */
    for (size_t cap = 0; cap < sizeof(hash_qcc); cap++)
        assert_rc(wdsmc_mt_encode_sec(&q, &sec, out, cap), -ENOBUFS);

    /* Without keys the plain decoder still parses and refuses it. */
    assert_rc(wdsmc_mt_decode(hash_qcc, sizeof(hash_qcc), &p), -WDSMC_ESECUNSUPP);
    wdsmc_mtsec_fini(&k);
}

static void test_hash_rejects_every_tampered_byte_and_truncation(void **state)
{
    struct wdsmc_mtsec k;
    struct wdsmc_mt_security sec;
    struct wdsmc_mt_pkt p;
    uint8_t b[sizeof(hash_qcc)];

    assert_rc(wdsmc_mtsec_init(&k, &keys_41, WDSMC_MTSEC_HMAC, 1), 0);
    wdsmc_mtsec_view(&k, WDSMC_SEC_HASH, &sec);
    for (size_t i = OFF_SECDATA; i < sizeof(hash_qcc); i++) {
        memcpy(b, hash_qcc, sizeof(b));
        b[i] ^= 0x40;
        assert_rc(wdsmc_mt_decode_sec(b, sizeof(b), &sec, &p), -WDSMC_EHMAC);
    }
    for (size_t n = 0; n < sizeof(hash_qcc); n++) {
        ssize_t want = n < 2 ? -WDSMC_ETRUNC : n < 5 + 32 ? -WDSMC_ETRUNC : -WDSMC_EHMAC;
        assert_rc(wdsmc_mt_decode_sec(hash_qcc, n, &sec, &p), want);
    }
    /* Another key. */
    k.hmac_key[0] ^= 1;
    assert_rc(wdsmc_mt_decode_sec(hash_qcc, sizeof(hash_qcc), &sec, &p), -WDSMC_EHMAC);
    wdsmc_mtsec_fini(&k);
}

static void test_hash_wrong_mode_or_length_is_esectype(void **state)
{
    struct wdsmc_mtsec k;
    struct wdsmc_mt_security sec, cks = {.mode = WDSMC_SEC_CHECKSUM},
                                  none = {.mode = WDSMC_SEC_NONE};
    struct wdsmc_mt_pkt p;
    uint8_t b[256];
    ssize_t n;

    assert_rc(wdsmc_mtsec_init(&k, &keys_41, WDSMC_MTSEC_HMAC, 1), 0);
    wdsmc_mtsec_view(&k, WDSMC_SEC_HASH, &sec);
    /* A HASH packet where CHECKSUM or NONE is expected. */
    assert_rc(wdsmc_mt_decode_sec(hash_qcc, sizeof(hash_qcc), &cks, &p), -WDSMC_ESECTYPE);
    assert_int_equal(p.sec_type, WDSMC_SEC_HASH);
    assert_rc(wdsmc_mt_decode_sec(hash_qcc, sizeof(hash_qcc), &none, &p), -WDSMC_ESECTYPE);
    /* A CHECKSUM packet where HASH is expected. */
    qcc_pkt(&p);
    n = wdsmc_mt_encode_sec(&p, &cks, b, sizeof(b));
    assert_true(n > 0);
    assert_rc(wdsmc_mt_decode_sec(b, (size_t)n, &cks, &p), n);
    assert_rc(wdsmc_mt_decode_sec(b, (size_t)n, &sec, &p), -WDSMC_ESECTYPE);
    /* HASH with a SecurityDataLen other than 32. */
    memcpy(b, hash_qcc, sizeof(hash_qcc));
    b[4] = 31;
    assert_rc(wdsmc_mt_decode_sec(b, sizeof(hash_qcc), &sec, &p), -WDSMC_ESECTYPE);
    /* A SIGN header is not a HASH one. */
    memcpy(b, hash_qcc, sizeof(hash_qcc));
    b[2] = WDSMC_SEC_SIGN;
    assert_rc(wdsmc_mt_decode_sec(b, sizeof(hash_qcc), &sec, &p), -WDSMC_ESECTYPE);
    /* Keys missing for the mode. */
    struct wdsmc_mt_security nokey = {.mode = WDSMC_SEC_HASH};
    assert_rc(wdsmc_mt_decode_sec(hash_qcc, sizeof(hash_qcc), &nokey, &p), -EINVAL);
    qcc_pkt(&p);
    assert_rc(wdsmc_mt_encode_sec(&p, &nokey, b, sizeof(b)), -EINVAL);
    wdsmc_mtsec_fini(&k);
}

static void test_hash_sha1_round_trips(void **state)
{
    struct wdsmc_mtsec k;
    struct wdsmc_mt_keys keys = keys_41;
    struct wdsmc_mt_security sec;
    struct wdsmc_mt_pkt p, q;
    uint8_t b[256];
    ssize_t n;

    keys.hash_alg = WDSMC_CALG_SHA1;
    assert_rc(wdsmc_mtsec_init(&k, &keys, WDSMC_MTSEC_HMAC, 1), 0);
    wdsmc_mtsec_view(&k, WDSMC_SEC_HASH, &sec);
    assert_rc(wdsmc_mt_sec_len(&sec), 20);
    qcc_pkt(&p);
    n = wdsmc_mt_encode_sec(&p, &sec, b, sizeof(b));
    assert_rc(n, (ssize_t)sizeof(hash_qcc) - 12);
    assert_rc(wdsmc_mt_decode_sec(b, (size_t)n, &sec, &q), n);
    assert_int_equal(q.u.qcc.qcc_seq, 7);
    wdsmc_mtsec_fini(&k);
}

static void test_hash_nack_range_cap_fits_one_datagram(void **state)
{
    struct wdsmc_mtsec k;
    struct wdsmc_mt_security sec;
    struct wdsmc_mt_pkt p;
    static uint8_t b[WDSMC_MAX_DATAGRAM];
    size_t max;

    assert_rc(wdsmc_mtsec_init(&k, &keys_41, WDSMC_MTSEC_HMAC, 1), 0);
    wdsmc_mtsec_view(&k, WDSMC_SEC_HASH, &sec);
    max = wdsmc_mt_max_ranges_sec(&sec);
    assert_true(max < wdsmc_mt_max_ranges());
    struct wdsmc_mt_security cks = {.mode = WDSMC_SEC_CHECKSUM};
    assert_int_equal(wdsmc_mt_max_ranges_sec(&cks), wdsmc_mt_max_ranges());

    struct wdsmc_range *r = calloc(max + 1, sizeof(*r));
    assert_non_null(r);
    memset(&p, 0, sizeof(p));
    p.opcode = WDSMC_MT_NACK;
    p.u.nack.list.ranges = r;
    p.u.nack.list.count = (uint16_t)max;
    assert_true(wdsmc_mt_encode_sec(&p, &sec, b, sizeof(b)) > 0);
    p.u.nack.list.count = (uint16_t)(max + 1);
    assert_rc(wdsmc_mt_encode_sec(&p, &sec, b, sizeof(b)), -ENOBUFS);
    free(r);
    wdsmc_mtsec_fini(&k);
}

/* The payload lands at wdsmc_mt_data_offset() in every mode, with and
 * without options, and a payload already there encodes to the same bytes. */
static void test_data_offset_is_where_the_payload_lands(void **state)
{
    struct wdsmc_mtsec k, ks;
    struct wdsmc_mt_security modes[4] = {{.mode = WDSMC_SEC_NONE}, {.mode = WDSMC_SEC_CHECKSUM}};
    static uint8_t a[WDSMC_MAX_DATAGRAM], b[WDSMC_MAX_DATAGRAM];
    uint8_t data[300];

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + 1);
    assert_rc(wdsmc_mtsec_init(&k, &keys_41, WDSMC_MTSEC_HMAC, 1), 0);
    wdsmc_mtsec_view(&k, WDSMC_SEC_HASH, &modes[2]);
    assert_rc(wdsmc_mtsec_init(&ks, &keys_sign, WDSMC_MTSEC_SIGN, 1), 0);
    wdsmc_mtsec_view(&ks, WDSMC_SEC_SIGN, &modes[3]); /* 128 bytes of signature */
    for (int m = 0; m < 4; m++) {
        for (int opt = 0; opt < 2; opt++) {
            struct wdsmc_mt_pkt p;
            memset(&p, 0, sizeof(p));
            p.opcode = WDSMC_MT_ODATA;
            p.session_id = 0x11223344;
            p.u.data.client_id = 5;
            p.u.data.seq = 1000;
            p.u.data.trail_seq = 990;
            p.u.data.data = data;
            p.u.data.data_len = sizeof(data);
            p.opts.has_fw_lead = opt;
            p.opts.fw_lead_seq = 999;
            ssize_t off = wdsmc_mt_data_offset(&modes[m]);
            ssize_t n = wdsmc_mt_encode_sec(&p, &modes[m], a, sizeof(a));
            assert_true(off > 0 && n > off + (ssize_t)sizeof(data));
            assert_memory_equal(a + off, data, sizeof(data));
            /* In place: the same datagram. */
            memset(b, 0xEE, sizeof(b));
            memcpy(b + off, data, sizeof(data));
            p.u.data.data = b + off;
            assert_rc(wdsmc_mt_encode_sec(&p, &modes[m], b, sizeof(b)), n);
            assert_memory_equal(a, b, (size_t)n);
        }
    }
    struct wdsmc_mt_security nokey = {.mode = WDSMC_SEC_HASH};
    assert_rc(wdsmc_mt_data_offset(&nokey), -EINVAL);
    wdsmc_mtsec_fini(&k);
    wdsmc_mtsec_fini(&ks);
}

/* ------------------------------------------------------------------------ */
/* SIGN                                                                      */
/* ------------------------------------------------------------------------ */

static void test_sign_golden_spm_verifies(void **state)
{
    struct wdsmc_mtsec k;
    struct wdsmc_mt_security sec;
    struct wdsmc_mt_pkt p;

    assert_rc(wdsmc_mtsec_init(&k, &keys_verify, WDSMC_MTSEC_VERIFY, 1), 0);
    wdsmc_mtsec_view(&k, WDSMC_SEC_SIGN, &sec);
    assert_rc(wdsmc_mt_sec_len(&sec), 128);
    assert_rc(wdsmc_mt_decode_sec(sign_spm, sizeof(sign_spm), &sec, &p), sizeof(sign_spm));
    assert_int_equal(p.opcode, WDSMC_MT_SPM);
    assert_int_equal(p.session_id, VEC_SESSION_ID);
    assert_int_equal(p.u.spm.spm_seq, 1);
    assert_int_equal(p.u.spm.max_nack_backoff, 1);
    /* A verifier cannot sign. */
    spm_pkt(&p);
    uint8_t b[256];
    assert_rc(wdsmc_mt_encode_sec(&p, &sec, b, sizeof(b)), -EINVAL);
    wdsmc_mtsec_fini(&k);
}

static void test_sign_encodes_the_golden_signature(void **state)
{
    struct wdsmc_mtsec k;
    struct wdsmc_mt_security sec;
    struct wdsmc_mt_pkt p;
    uint8_t b[256];

    assert_rc(wdsmc_mtsec_init(&k, &keys_sign, WDSMC_MTSEC_SIGN, 1), 0);
    wdsmc_mtsec_view(&k, WDSMC_SEC_SIGN, &sec);
    spm_pkt(&p);
    assert_rc(wdsmc_mt_encode_sec(&p, &sec, b, sizeof(b)), sizeof(sign_spm));
    assert_memory_equal(b, sign_spm, sizeof(sign_spm));
    assert_rc(wdsmc_mt_decode_sec(b, sizeof(sign_spm), &sec, &p), sizeof(sign_spm));
    wdsmc_mtsec_fini(&k);
}

static void test_sign_rejects_tampering_and_big_endian_signatures(void **state)
{
    struct wdsmc_mtsec k;
    struct wdsmc_mt_security sec;
    struct wdsmc_mt_pkt p;
    uint8_t b[sizeof(sign_spm)];

    assert_rc(wdsmc_mtsec_init(&k, &keys_verify, WDSMC_MTSEC_VERIFY, 1), 0);
    wdsmc_mtsec_view(&k, WDSMC_SEC_SIGN, &sec);
    /* Every byte of signature and body (stride 3 keeps this quick). */
    for (size_t i = OFF_SECDATA; i < sizeof(sign_spm); i += 3) {
        memcpy(b, sign_spm, sizeof(b));
        b[i] ^= 0x01;
        assert_rc(wdsmc_mt_decode_sec(b, sizeof(b), &sec, &p), -WDSMC_ESIG);
    }
    /* The signature in network byte order is not what we accept
     * (decision 51). */
    memcpy(b, sign_spm, sizeof(b));
    for (size_t i = 0; i < 128; i++)
        b[OFF_SECDATA + i] = sign_spm[OFF_SECDATA + 127 - i];
    assert_rc(wdsmc_mt_decode_sec(b, sizeof(b), &sec, &p), -WDSMC_ESIG);
    /* Wrong length for this key; a HASH header. */
    memcpy(b, sign_spm, sizeof(b));
    b[4] = 0x7F;
    assert_rc(wdsmc_mt_decode_sec(b, sizeof(b), &sec, &p), -WDSMC_ESECTYPE);
    memcpy(b, sign_spm, sizeof(b));
    b[2] = WDSMC_SEC_HASH;
    assert_rc(wdsmc_mt_decode_sec(b, sizeof(b), &sec, &p), -WDSMC_ESECTYPE);
    for (size_t n = 0; n < 5 + 128; n++)
        assert_rc(wdsmc_mt_decode_sec(sign_spm, n, &sec, &p), -WDSMC_ETRUNC);
    wdsmc_mtsec_fini(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_plaintextkeyblob_parses_wdsmsi_41_symkey),
            cmocka_unit_test(test_plaintextkeyblob_rejects_every_malformation),
            cmocka_unit_test(test_publickeyblob_parses_openssl_msblob),
            cmocka_unit_test(test_privatekeyblob_round_trips_to_its_public_blob),
            cmocka_unit_test(test_rsa_blobs_reject_every_malformation),
            cmocka_unit_test(test_mtsec_init_reports_missing_and_bad_keys),
            cmocka_unit_test(test_mtsec_init_refuses_private_numbers_that_disagree),
            cmocka_unit_test(test_hash_golden_qcc_decodes_and_reencodes),
            cmocka_unit_test(test_hash_rejects_every_tampered_byte_and_truncation),
            cmocka_unit_test(test_hash_wrong_mode_or_length_is_esectype),
            cmocka_unit_test(test_hash_sha1_round_trips),
            cmocka_unit_test(test_hash_nack_range_cap_fits_one_datagram),
            cmocka_unit_test(test_data_offset_is_where_the_payload_lands),
            cmocka_unit_test(test_sign_golden_spm_verifies),
            cmocka_unit_test(test_sign_encodes_the_golden_signature),
            cmocka_unit_test(test_sign_rejects_tampering_and_big_endian_signatures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
