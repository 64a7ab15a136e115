/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of NTLM (transport/ntlm.c) and its nettle wrappers
 * (transport/authcrypto.c): RFC vectors for MD4, MD5, HMAC-MD5 and RC4, the
 * MS-NLMP 4.2.4 NTLMv2 example end to end, client/server round trips,
 * per-message security, and hostile messages.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "authcrypto.h"
#include "ntlm.h"
#include "rpcauth.h"

/* ---- RFC vectors for the primitives ---- */

static void test_authcrypto_md4_rfc1320(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        uint8_t out[16];
    } v[] = {
            {"",
             {0x31, 0xd6, 0xcf, 0xe0, 0xd1, 0x6a, 0xe9, 0x31, 0xb7, 0x3c, 0x59, 0xd7, 0xe0, 0xc0,
              0x89, 0xc0}},
            {"a",
             {0xbd, 0xe5, 0x2c, 0xb3, 0x1d, 0xe3, 0x3e, 0x46, 0x24, 0x5e, 0x05, 0xfb, 0xdb, 0xd6,
              0xfb, 0x24}},
            {"abc",
             {0xa4, 0x48, 0x01, 0x7a, 0xaf, 0x21, 0xd8, 0x52, 0x5f, 0xc1, 0x0a, 0xe8, 0x7a, 0xa6,
              0x72, 0x9d}},
            {"message digest",
             {0xd9, 0x13, 0x0a, 0x81, 0x64, 0x54, 0x9f, 0xe8, 0x18, 0x87, 0x48, 0x06, 0xe1, 0xc7,
              0x01, 0x4b}},
            {"abcdefghijklmnopqrstuvwxyz",
             {0xd7, 0x9e, 0x1c, 0x30, 0x8a, 0xa5, 0xbb, 0xcd, 0xee, 0xa8, 0xed, 0x63, 0xdf, 0x41,
              0x2d, 0xa9}},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t out[16];
        wdsmc_authcrypto_md4((const uint8_t *)v[i].in, strlen(v[i].in), out);
        assert_memory_equal(out, v[i].out, 16);
    }
}

static void test_authcrypto_md5_rfc1321(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        uint8_t out[16];
    } v[] = {
            {"",
             {0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04, 0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8,
              0x42, 0x7e}},
            {"abc",
             {0x90, 0x01, 0x50, 0x98, 0x3c, 0xd2, 0x4f, 0xb0, 0xd6, 0x96, 0x3f, 0x7d, 0x28, 0xe1,
              0x7f, 0x72}},
            {"message digest",
             {0xf9, 0x6b, 0x69, 0x7d, 0x7c, 0xb7, 0x93, 0x8d, 0x52, 0x5a, 0x2f, 0x31, 0xaa, 0xf1,
              0x61, 0xd0}},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t out[16];
        wdsmc_authcrypto_md5((const uint8_t *)v[i].in, strlen(v[i].in), out);
        assert_memory_equal(out, v[i].out, 16);
    }
}

static void test_authcrypto_hmac_md5_rfc2202(void **state)
{
    (void)state;
    uint8_t key[80], data[64], out[16];

    /* Test case 1 */
    static const uint8_t want1[16] = {0x92, 0x94, 0x72, 0x7a, 0x36, 0x38, 0xbb, 0x1c,
                                      0x13, 0xf4, 0x8e, 0xf8, 0x15, 0x8b, 0xfc, 0x9d};
    memset(key, 0x0b, 16);
    wdsmc_authcrypto_hmac_md5(key, 16, (const uint8_t *)"Hi There", 8, out);
    assert_memory_equal(out, want1, 16);

    /* Test case 2 */
    static const uint8_t want2[16] = {0x75, 0x0c, 0x78, 0x3e, 0x6a, 0xb0, 0xb5, 0x03,
                                      0xea, 0xa8, 0x6e, 0x31, 0x0a, 0x5d, 0xb7, 0x38};
    const char *d2 = "what do ya want for nothing?";
    wdsmc_authcrypto_hmac_md5((const uint8_t *)"Jefe", 4, (const uint8_t *)d2, strlen(d2), out);
    assert_memory_equal(out, want2, 16);

    /* Test case 3, fed in two pieces through the incremental API */
    static const uint8_t want3[16] = {0x56, 0xbe, 0x34, 0x52, 0x1d, 0x14, 0x4c, 0x88,
                                      0xdb, 0xb8, 0xc7, 0x33, 0xf0, 0xe8, 0xb3, 0xf6};
    struct wdsmc_hmac_md5 h;
    memset(key, 0xaa, 16);
    memset(data, 0xdd, 50);
    wdsmc_hmac_md5_init(&h, key, 16);
    wdsmc_hmac_md5_update(&h, data, 20);
    wdsmc_hmac_md5_update(&h, data + 20, 30);
    wdsmc_hmac_md5_final(&h, out);
    assert_memory_equal(out, want3, 16);

    /* Test case 6: a key longer than the block */
    static const uint8_t want6[16] = {0x6b, 0x1a, 0xb7, 0xfe, 0x4b, 0xd7, 0xbf, 0x8f,
                                      0x0b, 0x62, 0xe6, 0xce, 0x61, 0xb9, 0xd0, 0xcd};
    const char *d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    memset(key, 0xaa, 80);
    wdsmc_authcrypto_hmac_md5(key, 80, (const uint8_t *)d6, strlen(d6), out);
    assert_memory_equal(out, want6, 16);
}

static void test_authcrypto_rc4_rfc6229(void **state)
{
    (void)state;
    static const uint8_t key40[5] = {1, 2, 3, 4, 5};
    static const uint8_t want40[32] = {0xb2, 0x39, 0x63, 0x05, 0xf0, 0x3d, 0xc0, 0x27,
                                       0xcc, 0xc3, 0x52, 0x4a, 0x0a, 0x11, 0x18, 0xa8,
                                       0x69, 0x82, 0x94, 0x4f, 0x18, 0xfc, 0x82, 0xd5,
                                       0x89, 0xc4, 0x03, 0xa4, 0x7a, 0x0d, 0x09, 0x19};
    static const uint8_t want128[32] = {0x9a, 0xc7, 0xcc, 0x9a, 0x60, 0x9d, 0x1e, 0xf7,
                                        0xb2, 0x93, 0x28, 0x99, 0xcd, 0xe4, 0x1b, 0x97,
                                        0x52, 0x48, 0xc4, 0x95, 0x90, 0x14, 0x12, 0x6a,
                                        0x6e, 0x8a, 0x84, 0xf1, 0x1d, 0x1a, 0x9e, 0x1c};
    static const uint8_t want128_1536[16] = {0xff, 0xa0, 0xb5, 0x14, 0x64, 0x7e, 0xc0, 0x4f,
                                             0x63, 0x06, 0xb8, 0x92, 0xae, 0x66, 0x11, 0x81};
    uint8_t key128[16], buf[1552];
    for (int i = 0; i < 16; i++)
        key128[i] = (uint8_t)(i + 1);

    memset(buf, 0, 32);
    assert_int_equal(wdsmc_authcrypto_rc4k(key40, 5, buf, 32, buf), 0);
    assert_memory_equal(buf, want40, 32);

    /* The stream continues across calls on one handle. */
    struct wdsmc_rc4 r;
    assert_int_equal(wdsmc_rc4_init(&r, key128, 16), 0);
    memset(buf, 0, sizeof(buf));
    wdsmc_rc4_crypt(&r, buf, 10);
    wdsmc_rc4_crypt(&r, buf + 10, sizeof(buf) - 10);
    assert_memory_equal(buf, want128, 32);
    assert_memory_equal(buf + 1536, want128_1536, 16);

    assert_int_equal(wdsmc_rc4_init(&r, key128, 0), -EINVAL);
}

/* ---- MS-NLMP 4.2.4: NTLMv2 example values ---- */

static const uint8_t kat_server_challenge[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
static const uint8_t kat_client_challenge[8] = {0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa};
static const uint8_t kat_nt_hash[16] = {0xa4, 0xf4, 0x9c, 0x40, 0x65, 0x10, 0xbd, 0xca,
                                        0xb6, 0x82, 0x4e, 0xe7, 0xc3, 0x0f, 0xd8, 0x52};
static const uint8_t kat_ntowfv2[16] = {0x0c, 0x86, 0x8a, 0x40, 0x3b, 0xfd, 0x7a, 0x93,
                                        0xa3, 0x00, 0x1e, 0xf2, 0x2e, 0xf0, 0x2e, 0x3f};
static const uint8_t kat_session_base_key[16] = {0x8d, 0xe4, 0x0c, 0xca, 0xdb, 0xc1, 0x4a, 0x82,
                                                 0xf1, 0x5c, 0xb0, 0xad, 0x0d, 0xe9, 0x5c, 0xa3};
static const uint8_t kat_lmv2[24] = {0x86, 0xc3, 0x50, 0x97, 0xac, 0x9c, 0xec, 0x10,
                                     0x25, 0x54, 0x76, 0x4a, 0x57, 0xcc, 0xcc, 0x19,
                                     0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa};
static const uint8_t kat_ntproofstr[16] = {0x68, 0xcd, 0x0a, 0xb8, 0x51, 0xe5, 0x1c, 0x96,
                                           0xaa, 0xbc, 0x92, 0x7b, 0xeb, 0xef, 0x6a, 0x1c};
static const uint8_t kat_enc_session_key[16] = {0xc5, 0xda, 0xd2, 0x54, 0x4f, 0xc9, 0x79, 0x90,
                                                0x94, 0xce, 0x1c, 0xe9, 0x0b, 0xc9, 0xd0, 0x3e};
static const uint8_t kat_seal_key[16] = {0x59, 0xf6, 0x00, 0x97, 0x3c, 0xc4, 0x96, 0x0a,
                                         0x25, 0x48, 0x0a, 0x7c, 0x19, 0x6e, 0x4c, 0x58};
static const uint8_t kat_sign_key[16] = {0x47, 0x88, 0xdc, 0x86, 0x1b, 0x47, 0x82, 0xf3,
                                         0x5d, 0x43, 0xfd, 0x98, 0xfe, 0x1a, 0x2d, 0x39};
/* TargetInfo: MsvAvNbDomainName "Domain", MsvAvNbComputerName "Server", EOL */
static const uint8_t kat_av[36] = {0x02, 0x00, 0x0c, 0x00, 'D',  0,    'o',  0,    'm', 0, 'a', 0,
                                   'i',  0,    'n',  0,    0x01, 0x00, 0x0c, 0x00, 'S', 0, 'e', 0,
                                   'r',  0,    'v',  0,    'e',  0,    'r',  0,    0,   0, 0,   0};

/* 4.2.4.3 CHALLENGE_MESSAGE */
static const uint8_t kat_challenge[] = {
        0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00, 0x02, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0c,
        0x00, 0x38, 0x00, 0x00, 0x00, 0x33, 0x82, 0x8a, 0xe2, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
        0xcd, 0xef, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x24, 0x00, 0x44,
        0x00, 0x00, 0x00, 0x06, 0x00, 0x70, 0x17, 0x00, 0x00, 0x00, 0x0f, 0x53, 0x00, 0x65, 0x00,
        0x72, 0x00, 0x76, 0x00, 0x65, 0x00, 0x72, 0x00, 0x02, 0x00, 0x0c, 0x00, 0x44, 0x00, 0x6f,
        0x00, 0x6d, 0x00, 0x61, 0x00, 0x69, 0x00, 0x6e, 0x00, 0x01, 0x00, 0x0c, 0x00, 0x53, 0x00,
        0x65, 0x00, 0x72, 0x00, 0x76, 0x00, 0x65, 0x00, 0x72, 0x00, 0x00, 0x00, 0x00, 0x00};

/* 4.2.4.3 AUTHENTICATE_MESSAGE */
static const uint8_t kat_authenticate[] = {
        0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00, 0x03, 0x00, 0x00, 0x00, 0x18, 0x00, 0x18,
        0x00, 0x6c, 0x00, 0x00, 0x00, 0x54, 0x00, 0x54, 0x00, 0x84, 0x00, 0x00, 0x00, 0x0c, 0x00,
        0x0c, 0x00, 0x48, 0x00, 0x00, 0x00, 0x08, 0x00, 0x08, 0x00, 0x54, 0x00, 0x00, 0x00, 0x10,
        0x00, 0x10, 0x00, 0x5c, 0x00, 0x00, 0x00, 0x10, 0x00, 0x10, 0x00, 0xd8, 0x00, 0x00, 0x00,
        0x35, 0x82, 0x88, 0xe2, 0x05, 0x01, 0x28, 0x0a, 0x00, 0x00, 0x00, 0x0f, 0x44, 0x00, 0x6f,
        0x00, 0x6d, 0x00, 0x61, 0x00, 0x69, 0x00, 0x6e, 0x00, 0x55, 0x00, 0x73, 0x00, 0x65, 0x00,
        0x72, 0x00, 0x43, 0x00, 0x4f, 0x00, 0x4d, 0x00, 0x50, 0x00, 0x55, 0x00, 0x54, 0x00, 0x45,
        0x00, 0x52, 0x00, 0x86, 0xc3, 0x50, 0x97, 0xac, 0x9c, 0xec, 0x10, 0x25, 0x54, 0x76, 0x4a,
        0x57, 0xcc, 0xcc, 0x19, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0x68, 0xcd, 0x0a,
        0xb8, 0x51, 0xe5, 0x1c, 0x96, 0xaa, 0xbc, 0x92, 0x7b, 0xeb, 0xef, 0x6a, 0x1c, 0x01, 0x01,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xaa,
        0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x0c, 0x00,
        0x44, 0x00, 0x6f, 0x00, 0x6d, 0x00, 0x61, 0x00, 0x69, 0x00, 0x6e, 0x00, 0x01, 0x00, 0x0c,
        0x00, 0x53, 0x00, 0x65, 0x00, 0x72, 0x00, 0x76, 0x00, 0x65, 0x00, 0x72, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc5, 0xda, 0xd2, 0x54, 0x4f, 0xc9, 0x79, 0x90, 0x94,
        0xce, 0x1c, 0xe9, 0x0b, 0xc9, 0xd0, 0x3e};

/* 4.2.4.4 GSS_WrapEx */
static const uint8_t kat_plaintext[18] = {'P', 0,   'l', 0,   'a', 0,   'i', 0,   'n',
                                          0,   't', 0,   'e', 0,   'x', 0,   't', 0};
static const uint8_t kat_sealed[18] = {0x54, 0xe5, 0x01, 0x65, 0xbf, 0x19, 0x36, 0xdc, 0x99,
                                       0x60, 0x20, 0xc1, 0x81, 0x1b, 0x0f, 0x06, 0xfb, 0x5f};
static const uint8_t kat_signature[16] = {0x01, 0x00, 0x00, 0x00, 0x7f, 0xb3, 0x8e, 0xc5,
                                          0xc5, 0x5d, 0x49, 0x76, 0x00, 0x00, 0x00, 0x00};

/* Randomness for the tests: 8-byte requests (challenges) get a8 (default
 * aa..aa), 16-byte requests (ExportedSessionKey) get a16 (default 55..55). */
struct fake_rng {
    uint8_t a8, a16;
    int calls;
};

static int fake_random(void *ctx, uint8_t *buf, size_t len)
{
    struct fake_rng *r = ctx;
    r->calls++;
    if (len == 8)
        memset(buf, r->a8, len);
    else if (len == 16)
        memset(buf, r->a16, len);
    else
        memset(buf, 0x99, len);
    return 0;
}

static int server_random(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    memcpy(buf, kat_server_challenge, len < 8 ? len : 8);
    return 0;
}

static uint64_t fake_now(void *ctx)
{
    return ctx ? *(const uint64_t *)ctx : 0;
}

static void test_ntlm_kat_ntowfv2_and_lmowfv2(void **state)
{
    (void)state;
    uint8_t h[16], k[16];
    assert_int_equal(wdsmc_ntlm_nt_hash("Password", h), 0);
    assert_memory_equal(h, kat_nt_hash, 16);
    assert_int_equal(wdsmc_ntlm_ntowfv2(h, "User", "Domain", k), 0);
    assert_memory_equal(k, kat_ntowfv2, 16); /* LMOWFv2 is the same function */
    /* Uppercase(User): the case of the user name does not matter. */
    assert_int_equal(wdsmc_ntlm_ntowfv2(h, "uSeR", "Domain", k), 0);
    assert_memory_equal(k, kat_ntowfv2, 16);
}

static void test_ntlm_kat_v2_responses_and_session_base_key(void **state)
{
    (void)state;
    uint8_t nt[256], lm[24], sbk[16];
    int n = wdsmc_ntlm_v2_response(kat_ntowfv2, kat_server_challenge, kat_client_challenge, 0,
                                   kat_av, sizeof(kat_av), nt, sizeof(nt), lm, sbk);
    assert_int_equal(n, 16 + 28 + 36 + 4);
    assert_memory_equal(nt, kat_ntproofstr, 16);
    /* temp (4.2.4.1.3) is what follows NTProofStr; compare it with the
     * AUTHENTICATE_MESSAGE's copy. */
    assert_memory_equal(nt, kat_authenticate + 0x84, (size_t)n);
    assert_memory_equal(lm, kat_lmv2, 24);
    assert_memory_equal(sbk, kat_session_base_key, 16);

    /* Encrypted Session Key (4.2.4.2.3): RC4K(KeyExchangeKey = SBK, 55..55). */
    uint8_t key[16], enc[16];
    memset(key, 0x55, 16);
    wdsmc_authcrypto_rc4k(sbk, 16, key, 16, enc);
    assert_memory_equal(enc, kat_enc_session_key, 16);

    assert_int_equal(wdsmc_ntlm_v2_response(kat_ntowfv2, kat_server_challenge, kat_client_challenge,
                                            0, kat_av, sizeof(kat_av), nt, 16 + 28 + 36 + 3, lm,
                                            sbk),
                     -ENOBUFS);
}

static void test_ntlm_kat_seal_and_sign_keys(void **state)
{
    (void)state;
    uint8_t esk[16], k[16];
    memset(esk, 0x55, 16);
    wdsmc_ntlm_sealkey(0xe2888235, esk, true, k);
    assert_memory_equal(k, kat_seal_key, 16);
    wdsmc_ntlm_signkey(esk, true, k);
    assert_memory_equal(k, kat_sign_key, 16);
}

static const uint8_t kat_version[8] = {0x05, 0x01, 0x28, 0x0a, 0x00, 0x00, 0x00, 0x0f};

static struct wdsmc_ntlm *kat_client(struct fake_rng *rng)
{
    struct wdsmc_rpcauth_client_cfg cfg = {
            .user = "User",
            .domain = "Domain",
            .password = "Password",
            .workstation = "COMPUTER",
            .version = kat_version,
            .random = fake_random,
            .random_ctx = rng,
            .now = fake_now,
    };
    struct wdsmc_ntlm *c;
    rng->a8 = 0xaa;
    rng->a16 = 0x55;
    assert_int_equal(wdsmc_ntlm_client_new(&cfg, &c), 0);
    return c;
}

/*
 * The whole 4.2.4 example through the client: its AUTHENTICATE_MESSAGE
 * answering 4.2.4.3's CHALLENGE_MESSAGE is the spec's byte for byte, and
 * its first sealed message is 4.2.4.4's (which fixes the RC4 order: the
 * message first, then the checksum, on one stream).
 */
static void test_ntlm_kat_client_authenticate_and_seal(void **state)
{
    (void)state;
    struct fake_rng rng = {0};
    struct wdsmc_ntlm *c = kat_client(&rng);
    uint8_t out[WDSMC_RPCAUTH_MAX_TOKEN];
    size_t len;

    assert_int_equal(wdsmc_ntlm_step(c, NULL, 0, out, sizeof(out), &len), WDSMC_RPCAUTH_CONTINUE);
    assert_int_equal(len, 40);
    assert_memory_equal(out, "NTLMSSP\0\1\0\0\0", 12);

    assert_int_equal(
            wdsmc_ntlm_step(c, kat_challenge, sizeof(kat_challenge), out, sizeof(out), &len),
            WDSMC_RPCAUTH_DONE);
    assert_int_equal(len, sizeof(kat_authenticate));
    assert_memory_equal(out, kat_authenticate, sizeof(kat_authenticate));
    assert_false(wdsmc_ntlm_mic_used(c)); /* no MsvAvTimestamp in 4.2.4 */

    struct wdsmc_rpcauth_info info;
    assert_int_equal(wdsmc_ntlm_info(c, &info), 0);
    assert_int_equal(info.ntlm_flags, 0xe2888235);
    uint8_t esk[16];
    memset(esk, 0x55, 16);
    assert_memory_equal(info.session_key, esk, 16);

    uint8_t data[18], sig[16];
    memcpy(data, kat_plaintext, sizeof(data));
    assert_int_equal(wdsmc_ntlm_seal(c, data, sizeof(data), data, sizeof(data), sig), 0);
    assert_memory_equal(data, kat_sealed, sizeof(data));
    assert_memory_equal(sig, kat_signature, 16);
    wdsmc_ntlm_free(c);
}

/* ---- client <-> server ---- */

struct user_db {
    const char *user;
    const char *password;
    int lookups;
    char last_domain[64];
};

static int db_lookup(void *ctx, const char *user, const char *domain, uint8_t ret[16])
{
    struct user_db *db = ctx;
    db->lookups++;
    snprintf(db->last_domain, sizeof(db->last_domain), "%s", domain);
    if (strcasecmp(user, db->user) != 0)
        return -ENOENT;
    return wdsmc_ntlm_nt_hash(db->password, ret);
}

static const uint64_t now_ft = 133500000000000000ULL; /* 2024 */

struct pair {
    struct fake_rng crng;
    struct user_db db;
    struct wdsmc_rpcauth_client_cfg ccfg;
    struct wdsmc_rpcauth_server_cfg scfg;
    struct wdsmc_ntlm *c, *s;
    uint8_t neg[WDSMC_RPCAUTH_MAX_TOKEN], chal[WDSMC_RPCAUTH_MAX_TOKEN],
            auth[WDSMC_RPCAUTH_MAX_TOKEN];
    size_t neg_len, chal_len, auth_len;
};

static void pair_init(struct pair *p, const char *user, const char *password)
{
    memset(p, 0, sizeof(*p));
    p->crng.a8 = 0xaa;
    p->crng.a16 = 0x55;
    p->db.user = "User";
    p->db.password = "Password";
    p->ccfg = (struct wdsmc_rpcauth_client_cfg){
            .user = user,
            .domain = "Domain",
            .password = password,
            .workstation = "COMPUTER",
            .target_spn = "host/wds01",
            .random = fake_random,
            .random_ctx = &p->crng,
            .now = fake_now,
            .now_ctx = (void *)&now_ft,
    };
    p->scfg = (struct wdsmc_rpcauth_server_cfg){
            .nb_computer = "WDS01",
            .nb_domain = "CONTOSO",
            .dns_computer = "wds01.contoso.test",
            .dns_domain = "contoso.test",
            .lookup = db_lookup,
            .lookup_ctx = &p->db,
            .random = server_random,
            .now = fake_now,
            .now_ctx = (void *)&now_ft,
    };
}

/* Runs NEGOTIATE, CHALLENGE, AUTHENTICATE; returns the server's verdict. */
static int pair_run(struct pair *p)
{
    assert_int_equal(wdsmc_ntlm_client_new(&p->ccfg, &p->c), 0);
    assert_int_equal(wdsmc_ntlm_server_new(&p->scfg, &p->s), 0);
    assert_int_equal(wdsmc_ntlm_step(p->c, NULL, 0, p->neg, sizeof(p->neg), &p->neg_len),
                     WDSMC_RPCAUTH_CONTINUE);
    assert_int_equal(
            wdsmc_ntlm_step(p->s, p->neg, p->neg_len, p->chal, sizeof(p->chal), &p->chal_len),
            WDSMC_RPCAUTH_CONTINUE);
    assert_int_equal(
            wdsmc_ntlm_step(p->c, p->chal, p->chal_len, p->auth, sizeof(p->auth), &p->auth_len),
            WDSMC_RPCAUTH_DONE);
    size_t none = 99;
    int rc = wdsmc_ntlm_step(p->s, p->auth, p->auth_len, NULL, 0, &none);
    assert_int_equal(none, 0);
    return rc;
}

static void pair_fini(struct pair *p)
{
    wdsmc_ntlm_free(p->c);
    wdsmc_ntlm_free(p->s);
}

static void test_ntlm_round_trip_accepts_right_password(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, "User", "Password");
    assert_int_equal(pair_run(&p), WDSMC_RPCAUTH_DONE);
    assert_true(wdsmc_ntlm_mic_used(p.c));
    assert_true(wdsmc_ntlm_mic_used(p.s));

    struct wdsmc_rpcauth_info ci, si;
    assert_int_equal(wdsmc_ntlm_info(p.c, &ci), 0);
    assert_int_equal(wdsmc_ntlm_info(p.s, &si), 0);
    assert_string_equal(si.user, "User");
    assert_string_equal(si.domain, "Domain");
    assert_string_equal(si.workstation, "COMPUTER");
    assert_false(si.anonymous);
    assert_true(si.can_seal);
    assert_int_equal(ci.ntlm_flags, si.ntlm_flags);
    assert_memory_equal(ci.session_key, si.session_key, 16);
    pair_fini(&p);
}

static void test_ntlm_challenge_carries_names_timestamp_and_flags(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, "User", "Password");
    assert_int_equal(pair_run(&p), WDSMC_RPCAUTH_DONE);
    uint32_t f = (uint32_t)p.chal[20] | (uint32_t)p.chal[21] << 8 | (uint32_t)p.chal[22] << 16 |
                 (uint32_t)p.chal[23] << 24;
    assert_true(f & WDSMC_NTLM_NEGOTIATE_UNICODE);
    assert_false(f & WDSMC_NTLM_NEGOTIATE_OEM);
    assert_true(f & WDSMC_NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY);
    assert_true(f & WDSMC_NTLM_NEGOTIATE_KEY_EXCH);
    assert_true(f & WDSMC_NTLM_NEGOTIATE_128);
    assert_true(f & WDSMC_NTLM_NEGOTIATE_SEAL);
    assert_true(f & WDSMC_NTLM_NEGOTIATE_TARGET_INFO);
    assert_memory_equal(p.chal + 24, kat_server_challenge, 8);
    /* TargetName "WDS01" right after the 56-byte header, then TargetInfo
     * beginning with MsvAvNbDomainName "CONTOSO". */
    assert_memory_equal(p.chal + 56, "W\0D\0S\0\x30\0\x31\0", 10);
    static const uint8_t first_av[] = {0x02, 0x00, 0x0e, 0x00, 'C', 0};
    assert_memory_equal(p.chal + 66, first_av, sizeof(first_av));
    /* MsvAvTimestamp then EOL end the list. */
    static const uint8_t tail[16] = {0x07, 0x00, 0x08, 0x00, 0x00, 0x00, 0x5a, 0xb8,
                                     0xd8, 0x4a, 0xda, 0x01, 0x00, 0x00, 0x00, 0x00};
    uint8_t want_tail[16];
    memcpy(want_tail, tail, 16);
    for (int i = 0; i < 8; i++)
        want_tail[4 + i] = (uint8_t)(now_ft >> (8 * i));
    assert_memory_equal(p.chal + p.chal_len - 16, want_tail, 16);
    pair_fini(&p);
}

static void test_ntlm_round_trip_user_name_is_case_insensitive(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, "uSER", "Password");
    assert_int_equal(pair_run(&p), WDSMC_RPCAUTH_DONE);
    pair_fini(&p);
}

static void test_ntlm_round_trip_wrong_password_is_eacces(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, "User", "password");
    assert_int_equal(pair_run(&p), -EACCES);
    struct wdsmc_rpcauth_info info;
    assert_int_equal(wdsmc_ntlm_info(p.s, &info), -EPROTO);
    uint8_t sig[16];
    assert_int_equal(wdsmc_ntlm_sign(p.s, sig, 1, sig), -EPROTO);
    pair_fini(&p);
}

static void test_ntlm_round_trip_unknown_user_is_eacces(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, "Mallory", "Password");
    assert_int_equal(pair_run(&p), -EACCES);
    assert_int_equal(p.db.lookups, 1);
    pair_fini(&p);
}

static void test_ntlm_round_trip_anonymous_refused_by_default(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, NULL, NULL);
    assert_int_equal(pair_run(&p), -EACCES);
    assert_int_equal(p.db.lookups, 0);
    pair_fini(&p);
}

static void test_ntlm_round_trip_anonymous_allowed_when_configured(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, "", "");
    p.scfg.allow_anonymous = true;
    assert_int_equal(pair_run(&p), WDSMC_RPCAUTH_DONE);
    /* LmChallengeResponse is Z(1), NtChallengeResponse empty (3.3.2). */
    assert_int_equal(p.auth[12], 1);
    assert_int_equal(p.auth[20], 0);
    struct wdsmc_rpcauth_info info;
    assert_int_equal(wdsmc_ntlm_info(p.s, &info), 0);
    assert_true(info.anonymous);
    assert_string_equal(info.user, "");
    assert_int_equal(p.db.lookups, 0);
    pair_fini(&p);
}

static void test_ntlm_client_rejects_password_without_user(void **state)
{
    (void)state;
    struct wdsmc_rpcauth_client_cfg cfg = {.password = "x"};
    struct wdsmc_ntlm *c = NULL;
    assert_int_equal(wdsmc_ntlm_client_new(&cfg, &c), -EINVAL);
    struct wdsmc_rpcauth_server_cfg scfg = {.nb_computer = "S"};
    assert_int_equal(wdsmc_ntlm_server_new(&scfg, &c), -EINVAL); /* no lookup */
}

/* ---- per-message security ---- */

/* A request or response PDU: 16-byte header, stub, auth padding, 8-byte
 * sec_trailer; the sealed region is stub + padding, the signed one all of
 * it (rpcauth.h). */
static size_t make_pdu(uint8_t *pdu, size_t stub_len, uint8_t fill)
{
    size_t body = (stub_len + 15) / 16 * 16;
    memset(pdu, 0, 16 + body + 8);
    pdu[0] = 5;
    pdu[2] = 0; /* request */
    pdu[8] = (uint8_t)(16 + body + 8 + 16);
    pdu[10] = 16;
    memset(pdu + 16, fill, stub_len);
    pdu[16 + body] = WDSMC_RPCAUTH_WINNT;
    pdu[16 + body + 1] = WDSMC_RPCAUTH_LEVEL_PKT_PRIVACY;
    pdu[16 + body + 2] = (uint8_t)(body - stub_len);
    return 16 + body + 8;
}

static void seal_unseal(struct wdsmc_ntlm *from, struct wdsmc_ntlm *to, size_t stub_len,
                        uint8_t fill, uint32_t want_seq)
{
    uint8_t pdu[512], plain[512], sig[16];
    size_t len = make_pdu(pdu, stub_len, fill);
    size_t body = len - 24;
    memcpy(plain, pdu, len);
    assert_int_equal(wdsmc_ntlm_seal(from, pdu + 16, body, pdu, len, sig), 0);
    assert_memory_equal(pdu, plain, 16);                        /* header in clear */
    assert_memory_equal(pdu + 16 + body, plain + 16 + body, 8); /* trailer too */
    if (stub_len >= 8)
        assert_memory_not_equal(pdu + 16, plain + 16, 8);
    assert_int_equal(sig[12] | sig[13] << 8, want_seq);
    assert_int_equal(wdsmc_ntlm_unseal(to, pdu + 16, body, pdu, len, sig, 16), 0);
    assert_memory_equal(pdu, plain, len);
}

static void test_ntlm_seal_unseal_both_directions_many_messages(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, "User", "Password");
    assert_int_equal(pair_run(&p), WDSMC_RPCAUTH_DONE);
    for (uint32_t i = 0; i < 5; i++) {
        seal_unseal(p.c, p.s, 20 + 37 * i, (uint8_t)i, i);
        seal_unseal(p.s, p.c, 100 - 9 * i, (uint8_t)(0x80 + i), i);
    }
    /* Two requests in a row before a response. */
    seal_unseal(p.c, p.s, 3, 1, 5);
    seal_unseal(p.c, p.s, 0, 1, 6);
    seal_unseal(p.s, p.c, 64, 2, 5);
    pair_fini(&p);
}

static void test_ntlm_sign_verify_both_directions(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, "User", "Password");
    assert_int_equal(pair_run(&p), WDSMC_RPCAUTH_DONE);
    uint8_t msg[100], sig[16];
    for (int i = 0; i < 4; i++) {
        memset(msg, i, sizeof(msg));
        assert_int_equal(wdsmc_ntlm_sign(p.c, msg, sizeof(msg), sig), 0);
        assert_int_equal(wdsmc_ntlm_verify(p.s, msg, sizeof(msg), sig, 16), 0);
        assert_int_equal(wdsmc_ntlm_sign(p.s, msg, 10, sig), 0);
        assert_int_equal(wdsmc_ntlm_verify(p.c, msg, 10, sig, 16), 0);
    }
    pair_fini(&p);
}

static void test_ntlm_unseal_rejects_tampering_then_stays_poisoned(void **state)
{
    (void)state;
    for (int what = 0; what < 5; what++) {
        struct pair p;
        pair_init(&p, "User", "Password");
        assert_int_equal(pair_run(&p), WDSMC_RPCAUTH_DONE);
        uint8_t pdu[512], sig[16];
        size_t len = make_pdu(pdu, 40, 0x11);
        assert_int_equal(wdsmc_ntlm_seal(p.c, pdu + 16, len - 24, pdu, len, sig), 0);
        if (what == 0)
            sig[5] ^= 1; /* checksum */
        else if (what == 1)
            sig[12] ^= 1; /* sequence number */
        else if (what == 2)
            pdu[20] ^= 0x40; /* sealed stub */
        else if (what == 3)
            pdu[3] ^= 0x10; /* header flags: signed though not sealed */
        else
            pdu[len - 1] ^= 1; /* sec_trailer */
        assert_int_equal(wdsmc_ntlm_unseal(p.s, pdu + 16, len - 24, pdu, len, sig, 16), -EBADMSG);
        /* The RC4 stream is lost: nothing more is accepted or produced. */
        assert_int_equal(wdsmc_ntlm_unseal(p.s, pdu + 16, len - 24, pdu, len, sig, 16), -EPROTO);
        assert_int_equal(wdsmc_ntlm_seal(p.s, pdu + 16, len - 24, pdu, len, sig), -EPROTO);
        pair_fini(&p);
    }
}

static void test_ntlm_verify_rejects_replay_and_bad_length(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, "User", "Password");
    assert_int_equal(pair_run(&p), WDSMC_RPCAUTH_DONE);
    uint8_t msg[32] = {1, 2, 3}, sig[16];
    assert_int_equal(wdsmc_ntlm_sign(p.c, msg, sizeof(msg), sig), 0);
    assert_int_equal(wdsmc_ntlm_verify(p.s, msg, sizeof(msg), sig, 15), -EBADMSG);
    assert_int_equal(wdsmc_ntlm_verify(p.s, msg, sizeof(msg), sig, 16), 0);
    /* The same message again has the wrong sequence number. */
    assert_int_equal(wdsmc_ntlm_verify(p.s, msg, sizeof(msg), sig, 16), -EBADMSG);
    pair_fini(&p);
}

static void test_ntlm_per_message_calls_refused_before_done(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, "User", "Password");
    assert_int_equal(wdsmc_ntlm_client_new(&p.ccfg, &p.c), 0);
    uint8_t buf[16], sig[16];
    assert_int_equal(wdsmc_ntlm_seal(p.c, buf, 4, buf, 4, sig), -EPROTO);
    assert_int_equal(wdsmc_ntlm_unseal(p.c, buf, 4, buf, 4, sig, 16), -EPROTO);
    assert_int_equal(wdsmc_ntlm_sign(p.c, buf, 4, sig), -EPROTO);
    assert_int_equal(wdsmc_ntlm_verify(p.c, buf, 4, sig, 16), -EPROTO);
    wdsmc_ntlm_free(p.c);
}

static void test_ntlm_rpcauth_vtable_matches_direct_calls(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, "User", "Password");
    struct wdsmc_rpcauth *c, *s;
    assert_int_equal(wdsmc_rpcauth_ntlm_client_new(&p.ccfg, &c), 0);
    assert_int_equal(wdsmc_rpcauth_ntlm_server_new(&p.scfg, &s), 0);
    assert_int_equal(wdsmc_rpcauth_type(c), WDSMC_RPCAUTH_WINNT);
    uint8_t a[WDSMC_RPCAUTH_MAX_TOKEN], b[WDSMC_RPCAUTH_MAX_TOKEN];
    size_t al, bl;
    assert_int_equal(wdsmc_rpcauth_step(c, NULL, 0, a, sizeof(a), &al), WDSMC_RPCAUTH_CONTINUE);
    assert_int_equal(wdsmc_rpcauth_step(s, a, al, b, sizeof(b), &bl), WDSMC_RPCAUTH_CONTINUE);
    assert_int_equal(wdsmc_rpcauth_step(c, b, bl, a, sizeof(a), &al), WDSMC_RPCAUTH_DONE);
    assert_true(al > 0); /* goes into rpc_auth3 */
    assert_int_equal(wdsmc_rpcauth_step(s, a, al, b, sizeof(b), &bl), WDSMC_RPCAUTH_DONE);
    assert_int_equal(bl, 0);

    uint8_t pdu[512], sig[16];
    size_t len = make_pdu(pdu, 33, 7);
    assert_int_equal(wdsmc_rpcauth_seal(c, pdu + 16, len - 24, pdu, len, sig), 0);
    assert_int_equal(wdsmc_rpcauth_unseal(s, pdu + 16, len - 24, pdu, len, sig, 16), 0);
    assert_int_equal(wdsmc_rpcauth_sign(s, pdu, len, sig), 0);
    assert_int_equal(wdsmc_rpcauth_verify(c, pdu, len, sig, 16), 0);
    struct wdsmc_rpcauth_info info;
    assert_int_equal(wdsmc_rpcauth_info(s, &info), 0);
    assert_string_equal(info.user, "User");
    /* A fourth leg is a protocol error, and final. */
    assert_int_equal(wdsmc_rpcauth_step(s, a, al, b, sizeof(b), &bl), -EPROTO);
    assert_int_equal(wdsmc_rpcauth_info(s, &info), -EPROTO);
    wdsmc_rpcauth_free(c);
    wdsmc_rpcauth_free(s);
    wdsmc_rpcauth_free(NULL);
}

/* ---- hostile messages ---- */

static void put32le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A server that has sent its CHALLENGE, ready for an AUTHENTICATE. With
 * the fixed randomness, the CHALLENGE is the same every time, so p->auth
 * fits every such server. */
static struct wdsmc_ntlm *server_after_challenge(struct pair *p)
{
    struct wdsmc_ntlm *s;
    uint8_t chal[WDSMC_RPCAUTH_MAX_TOKEN];
    size_t len;
    assert_int_equal(wdsmc_ntlm_server_new(&p->scfg, &s), 0);
    assert_int_equal(wdsmc_ntlm_step(s, p->neg, p->neg_len, chal, sizeof(chal), &len),
                     WDSMC_RPCAUTH_CONTINUE);
    assert_int_equal(len, p->chal_len);
    assert_memory_equal(chal, p->chal, len);
    return s;
}

static struct wdsmc_ntlm *client_after_negotiate(struct pair *p)
{
    struct wdsmc_ntlm *c;
    uint8_t neg[64];
    size_t len;
    assert_int_equal(wdsmc_ntlm_client_new(&p->ccfg, &c), 0);
    assert_int_equal(wdsmc_ntlm_step(c, NULL, 0, neg, sizeof(neg), &len), WDSMC_RPCAUTH_CONTINUE);
    return c;
}

static int feed(struct wdsmc_ntlm *n, const uint8_t *msg, size_t len)
{
    uint8_t out[WDSMC_RPCAUTH_MAX_TOKEN];
    size_t out_len;
    return wdsmc_ntlm_step(n, msg, len, out, sizeof(out), &out_len);
}

static void test_ntlm_every_truncation_rejected(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, "User", "Password");
    assert_int_equal(pair_run(&p), WDSMC_RPCAUTH_DONE);

    for (size_t n = 1; n < 16; n++) {
        struct wdsmc_ntlm *s;
        assert_int_equal(wdsmc_ntlm_server_new(&p.scfg, &s), 0);
        assert_true(feed(s, p.neg, n) < 0);
        wdsmc_ntlm_free(s);
    }
    for (size_t n = 1; n < p.chal_len; n++) {
        struct wdsmc_ntlm *c = client_after_negotiate(&p);
        assert_true(feed(c, p.chal, n) < 0);
        wdsmc_ntlm_free(c);
    }
    for (size_t n = 1; n < p.auth_len; n++) {
        struct wdsmc_ntlm *s = server_after_challenge(&p);
        assert_true(feed(s, p.auth, n) < 0);
        wdsmc_ntlm_free(s);
    }
    /* The untruncated AUTHENTICATE is still good. */
    struct wdsmc_ntlm *s = server_after_challenge(&p);
    assert_int_equal(feed(s, p.auth, p.auth_len), WDSMC_RPCAUTH_DONE);
    wdsmc_ntlm_free(s);
    pair_fini(&p);
}

static void test_ntlm_authenticate_bad_fields_rejected(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, "User", "Password");
    assert_int_equal(pair_run(&p), WDSMC_RPCAUTH_DONE);
    uint8_t m[WDSMC_RPCAUTH_MAX_TOKEN];
    /* Every field descriptor: an offset past the end, a length past the end,
     * an offset inside the fixed header, an offset that wraps. */
    for (size_t at = 12; at <= 52; at += 8) {
        for (int k = 0; k < 4; k++) {
            memcpy(m, p.auth, p.auth_len);
            if (k == 0)
                put32le(m + at + 4, (uint32_t)p.auth_len);
            else if (k == 1)
                m[at] = m[at + 1] = 0xff;
            else if (k == 2)
                put32le(m + at + 4, 8);
            else
                put32le(m + at + 4, 0xfffffff0u);
            if (k == 2 || k == 3)
                m[at] = m[at] ? m[at] : 2;
            struct wdsmc_ntlm *s = server_after_challenge(&p);
            assert_true(feed(s, m, p.auth_len) < 0);
            wdsmc_ntlm_free(s);
        }
    }
    /* Any changed byte breaks the MIC (or something before it). */
    uint32_t seed = 12345;
    for (int i = 0; i < 500; i++) {
        memcpy(m, p.auth, p.auth_len);
        seed = seed * 1103515245 + 12345;
        size_t pos = (seed >> 8) % p.auth_len;
        m[pos] ^= (uint8_t)(1 + (seed >> 24) % 255);
        struct wdsmc_ntlm *s = server_after_challenge(&p);
        assert_true(feed(s, m, p.auth_len) < 0);
        wdsmc_ntlm_free(s);
    }
    pair_fini(&p);
}

static void test_ntlm_server_refuses_ntlmv1_and_missing_mic(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, "User", "Password");
    assert_int_equal(pair_run(&p), WDSMC_RPCAUTH_DONE);
    uint8_t m[WDSMC_RPCAUTH_MAX_TOKEN];

    /* NtChallengeResponseLen 24: an NTLMv1 response. */
    memcpy(m, p.auth, p.auth_len);
    m[20] = m[22] = 24;
    m[21] = m[23] = 0;
    struct wdsmc_ntlm *s = server_after_challenge(&p);
    assert_int_equal(feed(s, m, p.auth_len), -EACCES);
    wdsmc_ntlm_free(s);

    /* Only an LM response. */
    memcpy(m, p.auth, p.auth_len);
    m[20] = m[21] = 0;
    s = server_after_challenge(&p);
    assert_int_equal(feed(s, m, p.auth_len), -EACCES);
    wdsmc_ntlm_free(s);

    /* A client that does not send the MIC (its AV pairs lack MsvAvFlags)
     * is refused by a server that sent MsvAvTimestamp and requires it... */
    struct pair q;
    pair_init(&q, "User", "Password");
    q.scfg.omit_timestamp = true;
    assert_int_equal(pair_run(&q), WDSMC_RPCAUTH_DONE); /* no timestamp, no MIC: fine */
    assert_false(wdsmc_ntlm_mic_used(q.s));
    p.scfg.require_mic = true;
    s = server_after_challenge(&p);
    assert_int_equal(feed(s, q.auth, q.auth_len), -EPROTO);
    wdsmc_ntlm_free(s);
    /* ... and accepted by default (MS-NLMP 5.1: not required; impacket). */
    p.scfg.require_mic = false;
    s = server_after_challenge(&p);
    assert_int_equal(feed(s, q.auth, q.auth_len), WDSMC_RPCAUTH_DONE);
    assert_false(wdsmc_ntlm_mic_used(s));
    wdsmc_ntlm_free(s);
    pair_fini(&q);
    pair_fini(&p);
}

static void test_ntlm_server_limits_names_and_clock_skew(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, "User", "Password");
    assert_int_equal(pair_run(&p), WDSMC_RPCAUTH_DONE);

    /* A UserName of 300 UTF-16 units, over WDSMC_NTLM_MAX_NAME. */
    uint8_t m[WDSMC_RPCAUTH_MAX_TOKEN];
    memcpy(m, p.auth, p.auth_len);
    for (size_t i = 0; i < 600; i += 2) {
        m[p.auth_len + i] = 'a';
        m[p.auth_len + i + 1] = 0;
    }
    m[36] = m[38] = (uint8_t)(600 & 0xff);
    m[37] = m[39] = (uint8_t)(600 >> 8);
    put32le(m + 40, (uint32_t)p.auth_len);
    struct wdsmc_ntlm *s = server_after_challenge(&p);
    assert_int_equal(feed(s, m, p.auth_len + 600), -EBADMSG);
    wdsmc_ntlm_free(s);

    /* The client refuses to send such a name in the first place. */
    char longname[400];
    memset(longname, 'u', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    struct wdsmc_rpcauth_client_cfg cc = p.ccfg;
    cc.user = longname;
    struct wdsmc_ntlm *c;
    assert_int_equal(wdsmc_ntlm_client_new(&cc, &c), -EINVAL);

    /* The AUTHENTICATE arrives 37 hours after the CHALLENGE: past the
     * default MaxLifetime of 36 hours. */
    uint64_t server_now = now_ft;
    p.scfg.now_ctx = &server_now;
    s = server_after_challenge(&p);
    server_now = now_ft + 37ULL * 3600 * 10000000;
    assert_int_equal(feed(s, p.auth, p.auth_len), -EACCES);
    wdsmc_ntlm_free(s);
    server_now = now_ft;
    s = server_after_challenge(&p);
    server_now = now_ft + 35ULL * 3600 * 10000000;
    assert_int_equal(feed(s, p.auth, p.auth_len), WDSMC_RPCAUTH_DONE);
    wdsmc_ntlm_free(s);
    pair_fini(&p);
}

static void test_ntlm_negotiate_too_weak_or_malformed(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, "User", "Password");
    assert_int_equal(pair_run(&p), WDSMC_RPCAUTH_DONE);
    uint8_t m[64];
    static const uint32_t drop[] = {WDSMC_NTLM_NEGOTIATE_UNICODE,
                                    WDSMC_NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY,
                                    WDSMC_NTLM_NEGOTIATE_128, WDSMC_NTLM_NEGOTIATE_SIGN};
    for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++) {
        memcpy(m, p.neg, p.neg_len);
        put32le(m + 12, 0xe2088235u & ~drop[i]);
        struct wdsmc_ntlm *s;
        assert_int_equal(wdsmc_ntlm_server_new(&p.scfg, &s), 0);
        assert_int_equal(feed(s, m, p.neg_len), -EPROTO);
        wdsmc_ntlm_free(s);
    }
    /* A supplied domain name that points outside the message. */
    memcpy(m, p.neg, p.neg_len);
    put32le(m + 12, 0xe2088235u | WDSMC_NTLM_NEGOTIATE_OEM_DOMAIN_SUPPLIED);
    m[16] = m[18] = 10;
    put32le(m + 20, 38);
    struct wdsmc_ntlm *s;
    assert_int_equal(wdsmc_ntlm_server_new(&p.scfg, &s), 0);
    assert_int_equal(feed(s, m, p.neg_len), -EBADMSG);
    wdsmc_ntlm_free(s);
    /* Wrong signature and type. */
    memcpy(m, p.neg, p.neg_len);
    m[8] = 3;
    assert_int_equal(wdsmc_ntlm_server_new(&p.scfg, &s), 0);
    assert_int_equal(feed(s, m, p.neg_len), -EBADMSG);
    wdsmc_ntlm_free(s);
    pair_fini(&p);
}

/* Builds a CHALLENGE_MESSAGE around the given TargetInfo. */
static size_t make_challenge(uint8_t *m, const uint8_t *ti, size_t ti_len, uint32_t flags)
{
    memset(m, 0, 56);
    memcpy(m, "NTLMSSP", 8);
    m[8] = 2;
    put32le(m + 20, flags);
    memcpy(m + 24, kat_server_challenge, 8);
    m[40] = m[42] = (uint8_t)ti_len;
    m[41] = m[43] = (uint8_t)(ti_len >> 8);
    put32le(m + 44, 56);
    memcpy(m + 56, ti, ti_len);
    return 56 + ti_len;
}

static void test_ntlm_challenge_av_pairs_checked(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, "User", "Password");
    uint8_t m[WDSMC_NTLM_MAX_MESSAGE + 16], ti[1024];
    size_t len;
    struct wdsmc_ntlm *c;

    /* The KAT's TargetInfo is fine. */
    len = make_challenge(m, kat_av, sizeof(kat_av), 0xe28a8233);
    c = client_after_negotiate(&p);
    assert_int_equal(feed(c, m, len), WDSMC_RPCAUTH_DONE);
    wdsmc_ntlm_free(c);

    /* No EOL. */
    len = make_challenge(m, kat_av, sizeof(kat_av) - 4, 0xe28a8233);
    c = client_after_negotiate(&p);
    assert_int_equal(feed(c, m, len), -EBADMSG);
    wdsmc_ntlm_free(c);

    /* An AvLen running past TargetInfo. */
    memcpy(ti, kat_av, sizeof(kat_av));
    ti[2] = 0x40;
    len = make_challenge(m, ti, sizeof(kat_av), 0xe28a8233);
    c = client_after_negotiate(&p);
    assert_int_equal(feed(c, m, len), -EBADMSG);
    wdsmc_ntlm_free(c);

    /* A short MsvAvTimestamp. */
    static const uint8_t bad_ts[] = {0x07, 0x00, 0x04, 0x00, 1, 2, 3, 4, 0, 0, 0, 0};
    memcpy(ti, kat_av, 32);
    memcpy(ti + 32, bad_ts, sizeof(bad_ts));
    len = make_challenge(m, ti, 32 + sizeof(bad_ts), 0xe28a8233);
    c = client_after_negotiate(&p);
    assert_int_equal(feed(c, m, len), -EBADMSG);
    wdsmc_ntlm_free(c);

    /* More than WDSMC_NTLM_MAX_AV_PAIRS pairs. */
    size_t n = 0;
    for (int i = 0; i < WDSMC_NTLM_MAX_AV_PAIRS + 1; i++) {
        ti[n] = 0x09; /* MsvAvTargetName, empty */
        ti[n + 1] = ti[n + 2] = ti[n + 3] = 0;
        n += 4;
    }
    memcpy(ti + n, kat_av, sizeof(kat_av));
    len = make_challenge(m, ti, n + sizeof(kat_av), 0xe28a8233);
    c = client_after_negotiate(&p);
    assert_int_equal(feed(c, m, len), -EBADMSG);
    wdsmc_ntlm_free(c);

    /* Without MsvAvNbDomainName: too little to compute NTLMv2 (3.1.5.1.2). */
    len = make_challenge(m, kat_av + 16, sizeof(kat_av) - 16, 0xe28a8233);
    c = client_after_negotiate(&p);
    assert_int_equal(feed(c, m, len), -EPROTO);
    wdsmc_ntlm_free(c);

    /* Without extended session security or 128-bit keys. */
    len = make_challenge(m, kat_av, sizeof(kat_av), 0xe28a8233 & ~0x00080000u);
    c = client_after_negotiate(&p);
    assert_int_equal(feed(c, m, len), -EPROTO);
    wdsmc_ntlm_free(c);
    len = make_challenge(m, kat_av, sizeof(kat_av), 0xe28a8233 & ~0x20000000u);
    c = client_after_negotiate(&p);
    assert_int_equal(feed(c, m, len), -EPROTO);
    wdsmc_ntlm_free(c);

    /* Over the size limit, whatever it holds. */
    memset(m, 0, sizeof(m));
    c = client_after_negotiate(&p);
    assert_int_equal(feed(c, m, WDSMC_NTLM_MAX_MESSAGE + 1), -EMSGSIZE);
    wdsmc_ntlm_free(c);
}

static void test_ntlm_steps_out_of_order_are_eproto(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, "User", "Password");
    assert_int_equal(pair_run(&p), WDSMC_RPCAUTH_DONE);
    struct wdsmc_ntlm *c, *s;
    uint8_t out[WDSMC_RPCAUTH_MAX_TOKEN];
    size_t len;
    assert_int_equal(wdsmc_ntlm_client_new(&p.ccfg, &c), 0);
    assert_int_equal(feed(c, p.chal, p.chal_len), -EPROTO); /* before NEGOTIATE */
    wdsmc_ntlm_free(c);
    assert_int_equal(wdsmc_ntlm_server_new(&p.scfg, &s), 0);
    assert_int_equal(wdsmc_ntlm_step(s, NULL, 0, out, sizeof(out), &len), -EPROTO);
    wdsmc_ntlm_free(s);
    assert_int_equal(wdsmc_ntlm_server_new(&p.scfg, &s), 0);
    assert_int_equal(feed(s, p.auth, p.auth_len), -EBADMSG); /* AUTHENTICATE first */
    wdsmc_ntlm_free(s);
    /* Too small an output buffer is -ENOBUFS and may be retried. */
    assert_int_equal(wdsmc_ntlm_client_new(&p.ccfg, &c), 0);
    assert_int_equal(wdsmc_ntlm_step(c, NULL, 0, out, 39, &len), -ENOBUFS);
    assert_int_equal(wdsmc_ntlm_step(c, NULL, 0, out, 40, &len), WDSMC_RPCAUTH_CONTINUE);
    wdsmc_ntlm_free(c);
    pair_fini(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_authcrypto_md4_rfc1320),
            cmocka_unit_test(test_authcrypto_md5_rfc1321),
            cmocka_unit_test(test_authcrypto_hmac_md5_rfc2202),
            cmocka_unit_test(test_authcrypto_rc4_rfc6229),
            cmocka_unit_test(test_ntlm_kat_ntowfv2_and_lmowfv2),
            cmocka_unit_test(test_ntlm_kat_v2_responses_and_session_base_key),
            cmocka_unit_test(test_ntlm_kat_seal_and_sign_keys),
            cmocka_unit_test(test_ntlm_kat_client_authenticate_and_seal),
            cmocka_unit_test(test_ntlm_round_trip_accepts_right_password),
            cmocka_unit_test(test_ntlm_challenge_carries_names_timestamp_and_flags),
            cmocka_unit_test(test_ntlm_round_trip_user_name_is_case_insensitive),
            cmocka_unit_test(test_ntlm_round_trip_wrong_password_is_eacces),
            cmocka_unit_test(test_ntlm_round_trip_unknown_user_is_eacces),
            cmocka_unit_test(test_ntlm_round_trip_anonymous_refused_by_default),
            cmocka_unit_test(test_ntlm_round_trip_anonymous_allowed_when_configured),
            cmocka_unit_test(test_ntlm_client_rejects_password_without_user),
            cmocka_unit_test(test_ntlm_seal_unseal_both_directions_many_messages),
            cmocka_unit_test(test_ntlm_sign_verify_both_directions),
            cmocka_unit_test(test_ntlm_unseal_rejects_tampering_then_stays_poisoned),
            cmocka_unit_test(test_ntlm_verify_rejects_replay_and_bad_length),
            cmocka_unit_test(test_ntlm_per_message_calls_refused_before_done),
            cmocka_unit_test(test_ntlm_rpcauth_vtable_matches_direct_calls),
            cmocka_unit_test(test_ntlm_every_truncation_rejected),
            cmocka_unit_test(test_ntlm_authenticate_bad_fields_rejected),
            cmocka_unit_test(test_ntlm_server_refuses_ntlmv1_and_missing_mic),
            cmocka_unit_test(test_ntlm_server_limits_names_and_clock_skew),
            cmocka_unit_test(test_ntlm_negotiate_too_weak_or_malformed),
            cmocka_unit_test(test_ntlm_challenge_av_pairs_checked),
            cmocka_unit_test(test_ntlm_steps_out_of_order_are_eproto),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
