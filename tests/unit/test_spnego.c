/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of SPNEGO (transport/spnego.c) and the DER reader/writer
 * (transport/asn1.c): the four-leg exchange with mechListMIC in both
 * directions, the RC4 handle rule of MS-SPNG 3.3.5.1, a client preferring
 * another mechanism, and hostile tokens.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "asn1.h"
#include "ntlm.h"
#include "rpcauth.h"
#include "spnego.h"

static const uint8_t oid_ntlm[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a};
static const uint8_t oid_krb5[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};

static int fake_random(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    memset(buf, len == 16 ? 0x55 : 0xaa, len);
    return 0;
}

static int server_random(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    memset(buf, 0x01, len);
    return 0;
}

static const uint64_t now_ft = 133500000000000000ULL;

static uint64_t fake_now(void *ctx)
{
    (void)ctx;
    return now_ft;
}

static int db_lookup(void *ctx, const char *user, const char *domain, uint8_t ret[16])
{
    (void)ctx;
    (void)domain;
    if (strcasecmp(user, "User") != 0)
        return -ENOENT;
    return wdsmc_ntlm_nt_hash("Password", ret);
}

static struct wdsmc_rpcauth_client_cfg client_cfg(const char *password)
{
    return (struct wdsmc_rpcauth_client_cfg){
            .user = "User",
            .domain = "Domain",
            .password = password,
            .workstation = "COMPUTER",
            .random = fake_random,
            .now = fake_now,
    };
}

static struct wdsmc_rpcauth_server_cfg server_cfg(void)
{
    return (struct wdsmc_rpcauth_server_cfg){
            .nb_computer = "WDS01",
            .lookup = db_lookup,
            .random = server_random,
            .now = fake_now,
    };
}

/* The four tokens of a run; t[i] has length l[i]. */
struct run {
    struct wdsmc_rpcauth *c, *s;
    uint8_t t[4][WDSMC_RPCAUTH_MAX_TOKEN];
    size_t l[4];
};

static void run_start(struct run *r, const char *password)
{
    struct wdsmc_rpcauth_client_cfg cc = client_cfg(password);
    struct wdsmc_rpcauth_server_cfg sc = server_cfg();
    memset(r, 0, sizeof(*r));
    assert_int_equal(wdsmc_rpcauth_spnego_client_new(&cc, &r->c), 0);
    assert_int_equal(wdsmc_rpcauth_spnego_server_new(&sc, &r->s), 0);
    assert_int_equal(wdsmc_rpcauth_type(r->c), WDSMC_RPCAUTH_GSS_NEGOTIATE);
}

/* Runs legs 1-3 and returns the server's verdict on leg 3. */
static int run_to_leg3(struct run *r, const char *password)
{
    run_start(r, password);
    assert_int_equal(wdsmc_rpcauth_step(r->c, NULL, 0, r->t[0], sizeof(r->t[0]), &r->l[0]),
                     WDSMC_RPCAUTH_CONTINUE);
    assert_int_equal(wdsmc_rpcauth_step(r->s, r->t[0], r->l[0], r->t[1], sizeof(r->t[1]), &r->l[1]),
                     WDSMC_RPCAUTH_CONTINUE);
    assert_int_equal(wdsmc_rpcauth_step(r->c, r->t[1], r->l[1], r->t[2], sizeof(r->t[2]), &r->l[2]),
                     WDSMC_RPCAUTH_CONTINUE);
    return wdsmc_rpcauth_step(r->s, r->t[2], r->l[2], r->t[3], sizeof(r->t[3]), &r->l[3]);
}

static void run_full(struct run *r)
{
    assert_int_equal(run_to_leg3(r, "Password"), WDSMC_RPCAUTH_DONE);
    assert_true(r->l[3] > 0);
    uint8_t none[8];
    size_t nl = 1;
    assert_int_equal(wdsmc_rpcauth_step(r->c, r->t[3], r->l[3], none, sizeof(none), &nl),
                     WDSMC_RPCAUTH_DONE);
    assert_int_equal(nl, 0);
}

static void run_end(struct run *r)
{
    wdsmc_rpcauth_free(r->c);
    wdsmc_rpcauth_free(r->s);
}

static void test_spnego_init_token_layout(void **state)
{
    (void)state;
    struct run r;
    run_start(&r, "Password");
    assert_int_equal(wdsmc_rpcauth_step(r.c, NULL, 0, r.t[0], sizeof(r.t[0]), &r.l[0]),
                     WDSMC_RPCAUTH_CONTINUE);
    /* [APPLICATION 0] { SPNEGO OID, [0] NegTokenInit { [0] { NTLM },
     * [2] OCTET STRING NEGOTIATE_MESSAGE (40 bytes) } } */
    static const uint8_t want[] = {0x60, 0x48, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02,
                                   0xa0, 0x3e, 0x30, 0x3c, 0xa0, 0x0e, 0x30, 0x0c, 0x06, 0x0a,
                                   0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a,
                                   0xa2, 0x2a, 0x04, 0x28, 'N',  'T',  'L',  'M',  'S',  'S',
                                   'P',  0x00, 0x01, 0x00, 0x00, 0x00};
    assert_int_equal(r.l[0], 0x4a);
    assert_memory_equal(r.t[0], want, sizeof(want));

    struct wdsmc_spnego_token t;
    assert_int_equal(wdsmc_spnego_decode(r.t[0], r.l[0], &t), 0);
    assert_true(t.init);
    assert_int_equal(t.ntlm_index, 0);
    assert_int_equal(t.mech_types_len, 14);
    assert_int_equal(t.mech_token_len, 40);
    run_end(&r);
}

static void test_spnego_round_trip_with_mech_list_mics(void **state)
{
    (void)state;
    struct run r;
    run_full(&r);
    struct wdsmc_spnego_token t;

    assert_int_equal(wdsmc_spnego_decode(r.t[1], r.l[1], &t), 0);
    assert_false(t.init);
    assert_int_equal(t.neg_state, WDSMC_SPNEGO_ACCEPT_INCOMPLETE);
    assert_true(t.supported_mech_is_ntlm);
    assert_memory_equal(t.mech_token, "NTLMSSP\0\2", 9);

    assert_int_equal(wdsmc_spnego_decode(r.t[2], r.l[2], &t), 0);
    assert_int_equal(t.neg_state, -1);
    assert_false(t.has_supported_mech);
    assert_memory_equal(t.mech_token, "NTLMSSP\0\3", 9);
    assert_int_equal(t.mic_len, 16);

    assert_int_equal(wdsmc_spnego_decode(r.t[3], r.l[3], &t), 0);
    assert_int_equal(t.neg_state, WDSMC_SPNEGO_ACCEPT_COMPLETED);
    assert_null(t.mech_token);
    assert_int_equal(t.mic_len, 16);
    /* Both MICs used sequence number 0 of their direction. */
    static const uint8_t seq0[4] = {0, 0, 0, 0};
    assert_memory_equal(t.mic + 12, seq0, 4);

    struct wdsmc_rpcauth_info ci, si;
    assert_int_equal(wdsmc_rpcauth_info(r.c, &ci), 0);
    assert_int_equal(wdsmc_rpcauth_info(r.s, &si), 0);
    assert_string_equal(si.user, "User");
    assert_memory_equal(ci.session_key, si.session_key, 16);

    /* Messages both ways; the first of each direction carries sequence
     * number 1, the MIC having taken 0. */
    for (uint8_t i = 0; i < 4; i++) {
        uint8_t msg[80], plain[80], sig[16];
        memset(msg, i, sizeof(msg));
        memcpy(plain, msg, sizeof(msg));
        struct wdsmc_rpcauth *from = i % 2 ? r.s : r.c, *to = i % 2 ? r.c : r.s;
        assert_int_equal(wdsmc_rpcauth_seal(from, msg + 16, 48, msg, sizeof(msg), sig), 0);
        assert_int_equal(sig[12], 1 + i / 2);
        assert_int_equal(wdsmc_rpcauth_unseal(to, msg + 16, 48, msg, sizeof(msg), sig, 16), 0);
        assert_memory_equal(msg, plain, sizeof(msg));
    }
    run_end(&r);
}

/* MS-SPNG 3.3.5.1: the mechListMIC leaves the RC4 handle as it was, so the
 * first sealed message is encrypted exactly as on a plain NTLM context with
 * the same keys. */
static void test_spnego_mech_list_mic_leaves_rc4_state_alone(void **state)
{
    (void)state;
    struct run r;
    run_full(&r);

    struct wdsmc_rpcauth_client_cfg cc = client_cfg("Password");
    struct wdsmc_rpcauth_server_cfg sc = server_cfg();
    struct wdsmc_rpcauth *c, *s;
    uint8_t a[WDSMC_RPCAUTH_MAX_TOKEN], b[WDSMC_RPCAUTH_MAX_TOKEN];
    size_t al, bl;
    assert_int_equal(wdsmc_rpcauth_ntlm_client_new(&cc, &c), 0);
    assert_int_equal(wdsmc_rpcauth_ntlm_server_new(&sc, &s), 0);
    assert_int_equal(wdsmc_rpcauth_step(c, NULL, 0, a, sizeof(a), &al), WDSMC_RPCAUTH_CONTINUE);
    assert_int_equal(wdsmc_rpcauth_step(s, a, al, b, sizeof(b), &bl), WDSMC_RPCAUTH_CONTINUE);
    assert_int_equal(wdsmc_rpcauth_step(c, b, bl, a, sizeof(a), &al), WDSMC_RPCAUTH_DONE);
    assert_int_equal(wdsmc_rpcauth_step(s, a, al, b, sizeof(b), &bl), WDSMC_RPCAUTH_DONE);

    uint8_t m1[64], m2[64], sig1[16], sig2[16];
    memset(m1, 0x42, sizeof(m1));
    memset(m2, 0x42, sizeof(m2));
    assert_int_equal(wdsmc_rpcauth_seal(r.c, m1, sizeof(m1), m1, sizeof(m1), sig1), 0);
    assert_int_equal(wdsmc_rpcauth_seal(c, m2, sizeof(m2), m2, sizeof(m2), sig2), 0);
    assert_memory_equal(m1, m2, sizeof(m1));
    assert_int_equal(sig1[12], 1);
    assert_int_equal(sig2[12], 0);
    /* Server to client likewise. */
    assert_int_equal(wdsmc_rpcauth_seal(r.s, m1, sizeof(m1), m1, sizeof(m1), sig1), 0);
    assert_int_equal(wdsmc_rpcauth_seal(s, m2, sizeof(m2), m2, sizeof(m2), sig2), 0);
    assert_memory_equal(m1, m2, sizeof(m1));
    wdsmc_rpcauth_free(c);
    wdsmc_rpcauth_free(s);
    run_end(&r);
}

static void test_spnego_wrong_password_is_eacces(void **state)
{
    (void)state;
    struct run r;
    assert_int_equal(run_to_leg3(&r, "wrong"), -EACCES);
    assert_int_equal(r.l[3], 0);
    run_end(&r);
}

/* Re-encodes a NegTokenResp. */
static size_t make_resp(uint8_t *out, size_t cap, int neg_state, bool mech, const uint8_t *tok,
                        size_t tok_len, const uint8_t *mic, size_t mic_len)
{
    struct wdsmc_asn1_writer w;
    size_t len;
    wdsmc_asn1_writer_init(&w, out, cap);
    wdsmc_asn1_begin(&w);
    wdsmc_asn1_begin(&w);
    if (neg_state >= 0) {
        uint8_t st = (uint8_t)neg_state;
        wdsmc_asn1_begin(&w);
        wdsmc_asn1_put(&w, WDSMC_ASN1_ENUMERATED, &st, 1);
        wdsmc_asn1_end(&w, WDSMC_ASN1_CTX(0));
    }
    if (mech) {
        wdsmc_asn1_begin(&w);
        wdsmc_asn1_put(&w, WDSMC_ASN1_OID, oid_ntlm, sizeof(oid_ntlm));
        wdsmc_asn1_end(&w, WDSMC_ASN1_CTX(1));
    }
    if (tok) {
        wdsmc_asn1_begin(&w);
        wdsmc_asn1_put(&w, WDSMC_ASN1_OCTET_STR, tok, tok_len);
        wdsmc_asn1_end(&w, WDSMC_ASN1_CTX(2));
    }
    if (mic) {
        wdsmc_asn1_begin(&w);
        wdsmc_asn1_put(&w, WDSMC_ASN1_OCTET_STR, mic, mic_len);
        wdsmc_asn1_end(&w, WDSMC_ASN1_CTX(3));
    }
    wdsmc_asn1_end(&w, WDSMC_ASN1_SEQUENCE);
    wdsmc_asn1_end(&w, WDSMC_ASN1_CTX(1));
    assert_int_equal(wdsmc_asn1_finish(&w, &len), 0);
    return len;
}

static void test_spnego_server_checks_client_mech_list_mic(void **state)
{
    (void)state;
    for (int variant = 0; variant < 3; variant++) {
        struct run r;
        run_start(&r, "Password");
        assert_int_equal(wdsmc_rpcauth_step(r.c, NULL, 0, r.t[0], sizeof(r.t[0]), &r.l[0]),
                         WDSMC_RPCAUTH_CONTINUE);
        assert_int_equal(wdsmc_rpcauth_step(r.s, r.t[0], r.l[0], r.t[1], sizeof(r.t[1]), &r.l[1]),
                         WDSMC_RPCAUTH_CONTINUE);
        assert_int_equal(wdsmc_rpcauth_step(r.c, r.t[1], r.l[1], r.t[2], sizeof(r.t[2]), &r.l[2]),
                         WDSMC_RPCAUTH_CONTINUE);
        struct wdsmc_spnego_token t;
        uint8_t tok[WDSMC_RPCAUTH_MAX_TOKEN], mic[16];
        assert_int_equal(wdsmc_spnego_decode(r.t[2], r.l[2], &t), 0);
        memcpy(mic, t.mic, 16);
        size_t len;
        if (variant == 0) { /* MIC flipped */
            mic[6] ^= 1;
            len = make_resp(tok, sizeof(tok), -1, false, t.mech_token, t.mech_token_len, mic, 16);
        } else if (variant == 1) { /* MIC left out */
            len = make_resp(tok, sizeof(tok), -1, false, t.mech_token, t.mech_token_len, NULL, 0);
        } else { /* MIC too short */
            len = make_resp(tok, sizeof(tok), -1, false, t.mech_token, t.mech_token_len, mic, 15);
        }
        assert_int_equal(wdsmc_rpcauth_step(r.s, tok, len, r.t[3], sizeof(r.t[3]), &r.l[3]),
                         -EACCES);
        run_end(&r);
    }
}

static void test_spnego_client_checks_server_mech_list_mic(void **state)
{
    (void)state;
    for (int variant = 0; variant < 3; variant++) {
        struct run r;
        assert_int_equal(run_to_leg3(&r, "Password"), WDSMC_RPCAUTH_DONE);
        struct wdsmc_spnego_token t;
        assert_int_equal(wdsmc_spnego_decode(r.t[3], r.l[3], &t), 0);
        uint8_t tok[256], mic[16];
        memcpy(mic, t.mic, 16);
        size_t len;
        int want;
        if (variant == 0) {
            mic[15] ^= 0x80;
            len = make_resp(tok, sizeof(tok), 0, false, NULL, 0, mic, 16);
            want = -EACCES;
        } else if (variant == 1) {
            len = make_resp(tok, sizeof(tok), 0, false, NULL, 0, NULL, 0);
            want = -EPROTO;
        } else {
            len = make_resp(tok, sizeof(tok), WDSMC_SPNEGO_REJECT, false, NULL, 0, NULL, 0);
            want = -EACCES;
        }
        uint8_t out[16];
        size_t ol;
        assert_int_equal(wdsmc_rpcauth_step(r.c, tok, len, out, sizeof(out), &ol), want);
        uint8_t sig[16];
        assert_int_equal(wdsmc_rpcauth_seal(r.c, out, 1, out, 1, sig), -EPROTO);
        run_end(&r);
    }
}

/* Builds a NegTokenInit offering mechs[0..n) and an optimistic token. */
static size_t make_init(uint8_t *out, size_t cap, const uint8_t *const *mechs,
                        const size_t *mech_lens, int n, const uint8_t *tok, size_t tok_len,
                        uint8_t *ret_mech_types, size_t *ret_mt_len)
{
    struct wdsmc_asn1_writer w;
    size_t len;
    wdsmc_asn1_writer_init(&w, ret_mech_types, 512);
    wdsmc_asn1_begin(&w);
    for (int i = 0; i < n; i++)
        wdsmc_asn1_put(&w, WDSMC_ASN1_OID, mechs[i], mech_lens[i]);
    wdsmc_asn1_end(&w, WDSMC_ASN1_SEQUENCE);
    assert_int_equal(wdsmc_asn1_finish(&w, ret_mt_len), 0);

    static const uint8_t spnego[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x02};
    wdsmc_asn1_writer_init(&w, out, cap);
    wdsmc_asn1_begin(&w);
    wdsmc_asn1_put(&w, WDSMC_ASN1_OID, spnego, sizeof(spnego));
    wdsmc_asn1_begin(&w);
    wdsmc_asn1_begin(&w);
    wdsmc_asn1_begin(&w);
    wdsmc_asn1_put_raw(&w, ret_mech_types, *ret_mt_len);
    wdsmc_asn1_end(&w, WDSMC_ASN1_CTX(0));
    if (tok) {
        wdsmc_asn1_begin(&w);
        wdsmc_asn1_put(&w, WDSMC_ASN1_OCTET_STR, tok, tok_len);
        wdsmc_asn1_end(&w, WDSMC_ASN1_CTX(2));
    }
    wdsmc_asn1_end(&w, WDSMC_ASN1_SEQUENCE);
    wdsmc_asn1_end(&w, WDSMC_ASN1_CTX(0));
    wdsmc_asn1_end(&w, WDSMC_ASN1_APP(0));
    assert_int_equal(wdsmc_asn1_finish(&w, &len), 0);
    return len;
}

/* A client preferring Kerberos: the server asks for NTLM's first token and
 * then insists on the mechListMIC (RFC 4178 5). */
static void test_spnego_server_handles_kerberos_first_client(void **state)
{
    (void)state;
    for (int with_mic = 0; with_mic < 2; with_mic++) {
        struct wdsmc_rpcauth_client_cfg cc = client_cfg("Password");
        struct wdsmc_rpcauth_server_cfg sc = server_cfg();
        struct wdsmc_ntlm *nc;
        struct wdsmc_rpcauth *s;
        assert_int_equal(wdsmc_ntlm_client_new(&cc, &nc), 0);
        assert_int_equal(wdsmc_rpcauth_spnego_server_new(&sc, &s), 0);

        const uint8_t *mechs[2] = {oid_krb5, oid_ntlm};
        size_t lens[2] = {sizeof(oid_krb5), sizeof(oid_ntlm)};
        uint8_t mt[512], in[WDSMC_RPCAUTH_MAX_TOKEN], out[WDSMC_RPCAUTH_MAX_TOKEN],
                nt[WDSMC_RPCAUTH_MAX_TOKEN];
        size_t mt_len, in_len, out_len, nt_len;
        static const uint8_t krb_token[] = {0x60, 0x03, 0x01, 0x02, 0x03};
        in_len = make_init(in, sizeof(in), mechs, lens, 2, krb_token, sizeof(krb_token), mt,
                           &mt_len);
        assert_int_equal(wdsmc_rpcauth_step(s, in, in_len, out, sizeof(out), &out_len),
                         WDSMC_RPCAUTH_CONTINUE);
        struct wdsmc_spnego_token t;
        assert_int_equal(wdsmc_spnego_decode(out, out_len, &t), 0);
        assert_int_equal(t.neg_state, WDSMC_SPNEGO_ACCEPT_INCOMPLETE);
        assert_true(t.supported_mech_is_ntlm);
        assert_null(t.mech_token);

        assert_int_equal(wdsmc_ntlm_step(nc, NULL, 0, nt, sizeof(nt), &nt_len),
                         WDSMC_RPCAUTH_CONTINUE);
        in_len = make_resp(in, sizeof(in), -1, false, nt, nt_len, NULL, 0);
        assert_int_equal(wdsmc_rpcauth_step(s, in, in_len, out, sizeof(out), &out_len),
                         WDSMC_RPCAUTH_CONTINUE);
        assert_int_equal(wdsmc_spnego_decode(out, out_len, &t), 0);
        assert_false(t.has_supported_mech);
        assert_int_equal(
                wdsmc_ntlm_step(nc, t.mech_token, t.mech_token_len, nt, sizeof(nt), &nt_len),
                WDSMC_RPCAUTH_DONE);
        uint8_t mic[16];
        assert_int_equal(wdsmc_ntlm_mech_list_mic(nc, mt, mt_len, mic), 0);
        in_len = make_resp(in, sizeof(in), -1, false, nt, nt_len, with_mic ? mic : NULL, 16);
        int rc = wdsmc_rpcauth_step(s, in, in_len, out, sizeof(out), &out_len);
        if (!with_mic) {
            assert_int_equal(rc, -EACCES);
        } else {
            assert_int_equal(rc, WDSMC_RPCAUTH_DONE);
            assert_int_equal(wdsmc_spnego_decode(out, out_len, &t), 0);
            assert_int_equal(t.neg_state, WDSMC_SPNEGO_ACCEPT_COMPLETED);
            assert_int_equal(wdsmc_ntlm_check_mech_list_mic(nc, mt, mt_len, t.mic, t.mic_len), 0);
        }
        wdsmc_ntlm_free(nc);
        wdsmc_rpcauth_free(s);
    }
}

static void test_spnego_server_refuses_init_without_ntlm(void **state)
{
    (void)state;
    struct wdsmc_rpcauth_server_cfg sc = server_cfg();
    struct wdsmc_rpcauth *s;
    assert_int_equal(wdsmc_rpcauth_spnego_server_new(&sc, &s), 0);
    const uint8_t *mechs[1] = {oid_krb5};
    size_t lens[1] = {sizeof(oid_krb5)};
    uint8_t mt[512], in[256], out[256];
    size_t mt_len, out_len;
    size_t in_len = make_init(in, sizeof(in), mechs, lens, 1, NULL, 0, mt, &mt_len);
    assert_int_equal(wdsmc_rpcauth_step(s, in, in_len, out, sizeof(out), &out_len), -EPROTO);
    wdsmc_rpcauth_free(s);
}

/* Every truncation of every token is refused by the side expecting it.
 * Leg k is produced by the client when k is even, by the server when odd. */
static void test_spnego_every_truncation_rejected(void **state)
{
    (void)state;
    struct run full;
    run_full(&full);
    uint8_t out[WDSMC_RPCAUTH_MAX_TOKEN];
    size_t ol;
    for (int leg = 0; leg < 4; leg++) {
        for (size_t n = 0; n < full.l[leg]; n++) {
            struct run r;
            run_start(&r, "Password");
            for (int k = 0; k < leg; k++) {
                struct wdsmc_rpcauth *producer = k % 2 ? r.s : r.c;
                const uint8_t *in = k ? full.t[k - 1] : NULL;
                size_t in_len = k ? full.l[k - 1] : 0;
                assert_int_equal(wdsmc_rpcauth_step(producer, in, in_len, out, sizeof(out), &ol),
                                 WDSMC_RPCAUTH_CONTINUE);
            }
            struct wdsmc_rpcauth *receiver = leg % 2 ? r.c : r.s;
            assert_true(wdsmc_rpcauth_step(receiver, full.t[leg], n, out, sizeof(out), &ol) < 0);
            run_end(&r);
        }
    }
    run_end(&full);
}

static void test_spnego_decode_rejects_bad_der(void **state)
{
    (void)state;
    struct wdsmc_spnego_token t;
    /* NegTokenResp { negState accept-completed } as the good base. */
    static const uint8_t good[] = {0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x00};
    assert_int_equal(wdsmc_spnego_decode(good, sizeof(good), &t), 0);
    assert_int_equal(t.neg_state, 0);

    static const uint8_t indefinite[] = {0xa1, 0x80, 0x30, 0x05, 0xa0, 0x03,
                                         0x0a, 0x01, 0x00, 0x00, 0x00};
    static const uint8_t five_len[] = {0xa1, 0x85, 0x00, 0x00, 0x00, 0x00, 0x07,
                                       0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x00};
    static const uint8_t too_long[] = {0xa1, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x30, 0x05};
    static const uint8_t high_tag[] = {0xbf, 0x81, 0x01, 0x00};
    static const uint8_t trailing[] = {0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x00, 0x00};
    static const uint8_t bad_state[] = {0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x04};
    static const uint8_t out_of_order[] = {0xa1, 0x0c, 0x30, 0x0a, 0xa2, 0x03, 0x04,
                                           0x01, 0x00, 0xa0, 0x03, 0x0a, 0x01, 0x00};
    static const uint8_t wrong_type[] = {0xa1, 0x07, 0x30, 0x05, 0xa2, 0x03, 0x0a, 0x01, 0x00};
    static const uint8_t wrong_oid[] = {0x60, 0x0a, 0x06, 0x06, 0x2b, 0x06,
                                        0x01, 0x05, 0x05, 0x03, 0xa0, 0x00};
    static const uint8_t empty_init[] = {0x60, 0x0c, 0x06, 0x06, 0x2b, 0x06, 0x01,
                                         0x05, 0x05, 0x02, 0xa0, 0x02, 0x30, 0x00};
    const struct {
        const uint8_t *p;
        size_t len;
    } bad[] = {
            {indefinite, sizeof(indefinite)},     {five_len, sizeof(five_len)},
            {too_long, sizeof(too_long)},         {high_tag, sizeof(high_tag)},
            {trailing, sizeof(trailing)},         {bad_state, sizeof(bad_state)},
            {out_of_order, sizeof(out_of_order)}, {wrong_type, sizeof(wrong_type)},
            {wrong_oid, sizeof(wrong_oid)},       {empty_init, sizeof(empty_init)},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(wdsmc_spnego_decode(bad[i].p, bad[i].len, &t), -EBADMSG);
    assert_int_equal(wdsmc_spnego_decode(good, 0, &t), -EBADMSG);

    /* Over the token limit, before anything is read. */
    static uint8_t big[WDSMC_RPCAUTH_MAX_TOKEN + 1];
    assert_int_equal(wdsmc_spnego_decode(big, sizeof(big), &t), -EMSGSIZE);

    /* More than WDSMC_SPNEGO_MAX_MECHS mechanisms. */
    const uint8_t *mechs[WDSMC_SPNEGO_MAX_MECHS + 1];
    size_t lens[WDSMC_SPNEGO_MAX_MECHS + 1];
    for (int i = 0; i <= WDSMC_SPNEGO_MAX_MECHS; i++) {
        mechs[i] = oid_krb5;
        lens[i] = sizeof(oid_krb5);
    }
    uint8_t mt[512], in[1024];
    size_t mt_len;
    size_t len =
            make_init(in, sizeof(in), mechs, lens, WDSMC_SPNEGO_MAX_MECHS, NULL, 0, mt, &mt_len);
    assert_int_equal(wdsmc_spnego_decode(in, len, &t), 0);
    assert_int_equal(t.ntlm_index, -1);
    len = make_init(in, sizeof(in), mechs, lens, WDSMC_SPNEGO_MAX_MECHS + 1, NULL, 0, mt, &mt_len);
    assert_int_equal(wdsmc_spnego_decode(in, len, &t), -EBADMSG);
}

static void test_asn1_writer_long_lengths_and_limits(void **state)
{
    (void)state;
    uint8_t data[300], buf[512];
    memset(data, 0x5a, sizeof(data));
    struct wdsmc_asn1_writer w;
    size_t len;
    wdsmc_asn1_writer_init(&w, buf, 400);
    wdsmc_asn1_begin(&w);
    wdsmc_asn1_put(&w, WDSMC_ASN1_OCTET_STR, data, 300);
    wdsmc_asn1_put(&w, WDSMC_ASN1_OCTET_STR, data, 100);
    wdsmc_asn1_end(&w, WDSMC_ASN1_SEQUENCE);
    assert_int_equal(wdsmc_asn1_finish(&w, &len), -ENOBUFS);

    wdsmc_asn1_writer_init(&w, buf, sizeof(buf));
    wdsmc_asn1_begin(&w);
    wdsmc_asn1_put(&w, WDSMC_ASN1_OCTET_STR, data, 300);
    wdsmc_asn1_put(&w, WDSMC_ASN1_OCTET_STR, data, 0x80);
    wdsmc_asn1_end(&w, WDSMC_ASN1_SEQUENCE);
    assert_int_equal(wdsmc_asn1_finish(&w, &len), 0);
    /* 30 82 01 b3 | 04 82 01 2c ... | 04 81 80 ... */
    assert_int_equal(len, 4 + 4 + 300 + 3 + 0x80);
    static const uint8_t hdr[] = {0x30, 0x82, 0x01, 0xb3, 0x04, 0x82, 0x01, 0x2c};
    assert_memory_equal(buf, hdr, sizeof(hdr));
    static const uint8_t hdr2[] = {0x04, 0x81, 0x80};
    assert_memory_equal(buf + 308, hdr2, 3);

    struct wdsmc_asn1_reader r = wdsmc_asn1_reader_init(buf, len), seq, v;
    assert_int_equal(wdsmc_asn1_expect(&r, WDSMC_ASN1_SEQUENCE, &seq), 0);
    assert_true(wdsmc_asn1_done(&r));
    assert_int_equal(wdsmc_asn1_expect(&seq, WDSMC_ASN1_OCTET_STR, &v), 0);
    assert_int_equal(v.len, 300);
    assert_int_equal(wdsmc_asn1_optional(&seq, WDSMC_ASN1_OID, &v), 0);
    assert_int_equal(wdsmc_asn1_optional(&seq, WDSMC_ASN1_OCTET_STR, &v), 1);
    assert_int_equal(v.len, 0x80);
    assert_true(wdsmc_asn1_done(&seq));
    /* Every truncation of it fails to read. */
    for (size_t n = 0; n < len; n++) {
        r = wdsmc_asn1_reader_init(buf, n);
        assert_int_equal(wdsmc_asn1_expect(&r, WDSMC_ASN1_SEQUENCE, &seq), -EBADMSG);
    }
    /* Unbalanced begin/end. */
    wdsmc_asn1_writer_init(&w, buf, sizeof(buf));
    wdsmc_asn1_begin(&w);
    assert_int_equal(wdsmc_asn1_finish(&w, &len), -EINVAL);
    wdsmc_asn1_writer_init(&w, buf, sizeof(buf));
    wdsmc_asn1_end(&w, WDSMC_ASN1_SEQUENCE);
    assert_int_equal(wdsmc_asn1_finish(&w, &len), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_spnego_init_token_layout),
            cmocka_unit_test(test_spnego_round_trip_with_mech_list_mics),
            cmocka_unit_test(test_spnego_mech_list_mic_leaves_rc4_state_alone),
            cmocka_unit_test(test_spnego_wrong_password_is_eacces),
            cmocka_unit_test(test_spnego_server_checks_client_mech_list_mic),
            cmocka_unit_test(test_spnego_client_checks_server_mech_list_mic),
            cmocka_unit_test(test_spnego_server_handles_kerberos_first_client),
            cmocka_unit_test(test_spnego_server_refuses_init_without_ntlm),
            cmocka_unit_test(test_spnego_every_truncation_rejected),
            cmocka_unit_test(test_spnego_decode_rejects_bad_der),
            cmocka_unit_test(test_asn1_writer_long_lengths_and_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
