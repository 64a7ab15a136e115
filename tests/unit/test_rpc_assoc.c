/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the DCE/RPC association state machines
 * (transport/rpc_assoc.c), client against server through byte pipes, with a
 * fake authentication provider.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "rpc_assoc.h"
#include "ntlm.h"
#include "wdsc.h"
#include "wdsmc/error.h"

/* ======================================================================== */
/* A TEST-ONLY authentication provider. It protects nothing: "sealing" XORs */
/* the data with a byte and the "signature" is an FNV-1a checksum of the     */
/* signed region and a sequence number, with no key. It exists to check     */
/* that the association calls a provider in the right order on the right    */
/* bytes, and must never be used outside this file.                         */
/* ======================================================================== */

enum fake_role { FAKE_CLIENT, FAKE_SERVER };

struct fake_auth {
    struct wdsmc_rpcauth base; /* first: the association sees this */
    enum fake_role role;
    uint8_t type; /* WINNT: 3 legs, GSS_NEGOTIATE: 4 legs */
    int leg;
    bool done;
    bool bad_password; /* client: send a token the server refuses */
    uint32_t seq_out, seq_in;
    unsigned seals, unseals, signs, verifies;
};

static struct wdsmc_rpcauth_ops fake_ops_winnt, fake_ops_nego;

static void put_tok(uint8_t *out, size_t *ret_len, const char *tok)
{
    *ret_len = strlen(tok);
    memcpy(out, tok, *ret_len);
}

static bool tok_is(const uint8_t *in, size_t len, const char *tok)
{
    return len == strlen(tok) && memcmp(in, tok, len) == 0;
}

static int fake_step(struct wdsmc_rpcauth *a, const uint8_t *in, size_t in_len, uint8_t *out,
                     size_t out_cap, size_t *ret_out_len)
{
    struct fake_auth *f = (struct fake_auth *)a;
    bool nego = f->type == WDSMC_RPC_AUTHN_GSS_NEGOTIATE;

    (void)out_cap;
    *ret_out_len = 0;
    f->leg++;
    if (f->role == FAKE_CLIENT) {
        if (f->leg == 1 && in_len == 0) {
            put_tok(out, ret_out_len, "NEG");
            return WDSMC_RPCAUTH_CONTINUE;
        }
        if (f->leg == 2 && tok_is(in, in_len, "CHAL")) {
            put_tok(out, ret_out_len, f->bad_password ? "BADAUTH" : "AUTH");
            if (nego)
                return WDSMC_RPCAUTH_CONTINUE;
            f->done = true;
            return WDSMC_RPCAUTH_DONE;
        }
        if (nego && f->leg == 3 && tok_is(in, in_len, "MIC")) {
            f->done = true;
            return WDSMC_RPCAUTH_DONE;
        }
        return -EPROTO;
    }
    if (f->leg == 1 && tok_is(in, in_len, "NEG")) {
        put_tok(out, ret_out_len, "CHAL");
        return WDSMC_RPCAUTH_CONTINUE;
    }
    if (f->leg == 2 && tok_is(in, in_len, "AUTH")) {
        f->done = true;
        if (nego)
            put_tok(out, ret_out_len, "MIC");
        return WDSMC_RPCAUTH_DONE;
    }
    if (f->leg == 2 && tok_is(in, in_len, "BADAUTH"))
        return -EACCES;
    return -EBADMSG;
}

static void fake_sum(const uint8_t *msg, size_t len, uint32_t seq, uint8_t sig[16])
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ msg[i]) * 1099511628211ull;
    h ^= seq;
    memset(sig, 0, 16);
    sig[0] = 1; /* a version byte, like NTLMSSP_MESSAGE_SIGNATURE */
    for (int i = 0; i < 8; i++)
        sig[4 + i] = (uint8_t)(h >> (8 * i));
    sig[12] = (uint8_t)seq;
}

static void fake_xor(uint8_t *data, size_t len, uint32_t seq)
{
    for (size_t i = 0; i < len; i++)
        data[i] ^= (uint8_t)(0x5A + seq);
}

static int fake_seal(struct wdsmc_rpcauth *a, uint8_t *data, size_t len, const uint8_t *sign_region,
                     size_t sign_len, uint8_t sig_out[16])
{
    struct fake_auth *f = (struct fake_auth *)a;
    if (!f->done)
        return -EPROTO;
    /* The data must lie inside the signed region. */
    assert_true(data >= sign_region && data + len <= sign_region + sign_len);
    fake_sum(sign_region, sign_len, f->seq_out, sig_out); /* over the plaintext */
    fake_xor(data, len, f->seq_out);
    f->seq_out++;
    f->seals++;
    return 0;
}

static int fake_unseal(struct wdsmc_rpcauth *a, uint8_t *data, size_t len,
                       const uint8_t *sign_region, size_t sign_len, const uint8_t *sig,
                       size_t sig_len)
{
    struct fake_auth *f = (struct fake_auth *)a;
    uint8_t want[16];
    if (!f->done)
        return -EPROTO;
    assert_true(data >= sign_region && data + len <= sign_region + sign_len);
    fake_xor(data, len, f->seq_in);
    fake_sum(sign_region, sign_len, f->seq_in, want);
    f->seq_in++;
    f->unseals++;
    if (sig_len != 16 || memcmp(want, sig, 16) != 0)
        return -EBADMSG;
    return 0;
}

static int fake_sign(struct wdsmc_rpcauth *a, const uint8_t *msg, size_t len, uint8_t sig_out[16])
{
    struct fake_auth *f = (struct fake_auth *)a;
    if (!f->done)
        return -EPROTO;
    fake_sum(msg, len, f->seq_out++, sig_out);
    f->signs++;
    return 0;
}

static int fake_verify(struct wdsmc_rpcauth *a, const uint8_t *msg, size_t len, const uint8_t *sig,
                       size_t sig_len)
{
    struct fake_auth *f = (struct fake_auth *)a;
    uint8_t want[16];
    if (!f->done)
        return -EPROTO;
    fake_sum(msg, len, f->seq_in++, want);
    f->verifies++;
    return sig_len == 16 && memcmp(want, sig, 16) == 0 ? 0 : -EBADMSG;
}

static int fake_info(struct wdsmc_rpcauth *a, struct wdsmc_rpcauth_info *ret)
{
    struct fake_auth *f = (struct fake_auth *)a;
    memset(ret, 0, sizeof(*ret));
    if (!f->done)
        return -EPROTO;
    ret->complete = true;
    ret->can_sign = ret->can_seal = true;
    ret->user = "alice";
    ret->domain = "WDS";
    return 0;
}

static void fake_free(struct wdsmc_rpcauth *a)
{
    free(a);
}

static struct wdsmc_rpcauth_ops fake_ops_winnt = {
        .auth_type = WDSMC_RPC_AUTHN_WINNT,
        .step = fake_step,
        .seal = fake_seal,
        .unseal = fake_unseal,
        .sign = fake_sign,
        .verify = fake_verify,
        .info = fake_info,
        .free = fake_free,
};

static struct wdsmc_rpcauth_ops fake_ops_nego = {
        .auth_type = WDSMC_RPC_AUTHN_GSS_NEGOTIATE,
        .step = fake_step,
        .seal = fake_seal,
        .unseal = fake_unseal,
        .sign = fake_sign,
        .verify = fake_verify,
        .info = fake_info,
        .free = fake_free,
};

static struct fake_auth *fake_new(enum fake_role role, uint8_t type)
{
    struct fake_auth *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->base.ops = type == WDSMC_RPC_AUTHN_WINNT ? &fake_ops_winnt : &fake_ops_nego;
    f->role = role;
    f->type = type;
    return f;
}

/* ======================================================================== */
/* Harness: a client and a server joined by two byte pipes.                  */
/* ======================================================================== */

struct call_log {
    unsigned calls;
    struct wdsmc_rpc_call_info last;
    char user[32];
    int fail_with;      /* dispatch returns this when nonzero */
    size_t reply_extra; /* reply = reversed stub padded with this many bytes */
};

static int echo_dispatch(void *user, const struct wdsmc_rpc_call_info *info, const uint8_t *stub,
                         size_t len, uint8_t **ret_stub, size_t *ret_len)
{
    struct call_log *log = user;
    log->calls++;
    log->last = *info;
    log->user[0] = '\0';
    if (info->user) {
        strncpy(log->user, info->user, sizeof(log->user) - 1);
        log->user[sizeof(log->user) - 1] = '\0';
    }
    if (log->fail_with)
        return log->fail_with;
    size_t n = len + log->reply_extra;
    uint8_t *out = malloc(n ? n : 1);
    if (!out)
        return -ENOMEM;
    for (size_t i = 0; i < len; i++)
        out[i] = stub[len - 1 - i];
    for (size_t i = len; i < n; i++)
        out[i] = (uint8_t)i;
    *ret_stub = out;
    *ret_len = n;
    return 0;
}

struct auth_factory {
    uint8_t type_offered;   /* 0: none */
    struct fake_auth *made; /* the server's provider, owned by the server */
};

/* The server's user pointer: the dispatch log and the provider factory. */
struct server_ctx {
    struct call_log log; /* first: echo_dispatch's user */
    struct auth_factory fac;
};

static int fake_auth_new(void *user, uint8_t auth_type, struct wdsmc_rpcauth **ret)
{
    struct server_ctx *sctx = user;
    if (auth_type != sctx->fac.type_offered)
        return -EOPNOTSUPP;
    sctx->fac.made = fake_new(FAKE_SERVER, auth_type);
    *ret = &sctx->fac.made->base;
    return 0;
}

struct pair {
    struct wdsmc_rpc_client *c;
    struct wdsmc_rpc_server *s;
    struct server_ctx sctx;
    struct fake_auth *cauth;
    int client_rc, server_rc;
    /* Everything each side sent, for inspection. */
    uint8_t c2s[1 << 18];
    size_t c2s_len;
    uint8_t s2c[1 << 18];
    size_t s2c_len;
    size_t chunk; /* 0: deliver whole; else deliver in pieces of this size */
};

static const struct wdsmc_dcerpc_syntax wdsc_if = WDSMC_DCERPC_WDSC_IF_INIT;

static void deliver(struct pair *p, bool to_server, const uint8_t *d, size_t n)
{
    size_t chunk = p->chunk ? p->chunk : n;
    for (size_t off = 0; off < n; off += chunk) {
        size_t k = n - off < chunk ? n - off : chunk;
        int rc = to_server ? wdsmc_rpc_server_input(p->s, d + off, k)
                           : wdsmc_rpc_client_input(p->c, d + off, k);
        if (rc < 0) {
            if (to_server)
                p->server_rc = rc;
            else
                p->client_rc = rc;
            return;
        }
    }
}

/* Move bytes both ways until both queues are empty. tamper, if set, may
 * modify each client->server chunk before delivery. */
static void pump_tamper(struct pair *p, void (*tamper)(uint8_t *d, size_t n))
{
    for (int round = 0; round < 64; round++) {
        const uint8_t *d;
        size_t n = wdsmc_rpc_client_pending(p->c, &d);
        size_t m;
        if (n) {
            uint8_t *copy = malloc(n);
            assert_non_null(copy);
            memcpy(copy, d, n);
            wdsmc_rpc_client_consume(p->c, n);
            assert_true(p->c2s_len + n <= sizeof(p->c2s));
            memcpy(p->c2s + p->c2s_len, copy, n);
            p->c2s_len += n;
            if (tamper)
                tamper(copy, n);
            if (!p->server_rc)
                deliver(p, true, copy, n);
            free(copy);
        }
        m = wdsmc_rpc_server_pending(p->s, &d);
        if (m) {
            uint8_t *copy = malloc(m);
            assert_non_null(copy);
            memcpy(copy, d, m);
            wdsmc_rpc_server_consume(p->s, m);
            assert_true(p->s2c_len + m <= sizeof(p->s2c));
            memcpy(p->s2c + p->s2c_len, copy, m);
            p->s2c_len += m;
            if (!p->client_rc)
                deliver(p, false, copy, m);
            free(copy);
        }
        if (!n && !m)
            return;
    }
    fail_msg("pump did not settle");
}

static void pump(struct pair *p)
{
    pump_tamper(p, NULL);
}

struct pair_opts {
    uint8_t client_auth; /* 0 or an auth type */
    uint8_t level;
    uint8_t server_offers;
    uint16_t client_frag, server_frag;
    size_t client_max_stub, server_max_stub;
    const struct wdsmc_dcerpc_syntax *iface;
    bool bad_password;
};

static struct pair *pair_new(const struct pair_opts *o)
{
    struct pair *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    p->sctx.fac.type_offered = o->server_offers;
    struct wdsmc_rpc_server_cfg scfg = {
            .iface = wdsc_if,
            .max_xmit_frag = o->server_frag,
            .max_recv_frag = o->server_frag,
            .max_stub = o->server_max_stub,
            .assoc_group_id = 0x53f0,
            .sec_addr = "5040",
            .dispatch = echo_dispatch,
            .auth_new = fake_auth_new,
            .user = &p->sctx,
    };
    assert_int_equal(wdsmc_rpc_server_new(&scfg, &p->s), 0);
    struct wdsmc_rpc_client_cfg ccfg = {
            .iface = o->iface ? *o->iface : wdsc_if,
            .max_xmit_frag = o->client_frag,
            .max_recv_frag = o->client_frag,
            .max_stub = o->client_max_stub,
            .auth_level = o->level,
            .auth_context_id = 121,
    };
    if (o->client_auth) {
        p->cauth = fake_new(FAKE_CLIENT, o->client_auth);
        p->cauth->bad_password = o->bad_password;
        ccfg.auth = &p->cauth->base;
    }
    assert_int_equal(wdsmc_rpc_client_new(&ccfg, &p->c), 0);
    return p;
}

static void pair_free(struct pair *p)
{
    wdsmc_rpc_client_free(p->c);
    wdsmc_rpc_server_free(p->s);
    free(p->cauth);
    free(p);
}

/* The PDU types on a captured stream, in order. */
static size_t pdu_types(const uint8_t *d, size_t n, uint8_t *types, size_t max)
{
    size_t k = 0;
    for (size_t off = 0; off + 16 <= n && k < max;) {
        types[k++] = d[off + 2];
        off += (size_t)(d[off + 8] | d[off + 9] << 8);
    }
    return k;
}

/* Locate the i-th PDU of a stream. */
static const uint8_t *nth_pdu(const uint8_t *d, size_t n, size_t i, size_t *ret_len)
{
    size_t off = 0;
    for (size_t k = 0; off + 16 <= n; k++) {
        size_t len = (size_t)(d[off + 8] | d[off + 9] << 8);
        if (k == i) {
            *ret_len = len;
            return d + off;
        }
        off += len;
    }
    fail_msg("no PDU %zu", i);
    return NULL;
}

static void do_call(struct pair *p, const uint8_t *stub, size_t len, int want_rc,
                    uint8_t **ret_stub, size_t *ret_len)
{
    assert_int_equal(wdsmc_rpc_client_call(p->c, 0, stub, len), 0);
    pump(p);
    assert_int_equal(wdsmc_rpc_client_state(p->c), WDSMC_RPC_CLIENT_DONE);
    assert_int_equal(wdsmc_rpc_client_take_result(p->c, ret_stub, ret_len), want_rc);
    assert_int_equal(wdsmc_rpc_client_state(p->c), WDSMC_RPC_CLIENT_READY);
}

static void assert_echo(const uint8_t *in, size_t len, const uint8_t *out, size_t out_len)
{
    assert_int_equal(out_len, len);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(out[i], in[len - 1 - i]);
}

/* ======================================================================== */
/* Tests                                                                     */
/* ======================================================================== */

static void test_rpc_assoc_unauthenticated_bind_and_call(void **state)
{
    struct pair_opts o = {0};
    struct pair *p = pair_new(&o);
    uint8_t *out;
    size_t out_len;

    (void)state;
    assert_int_equal(wdsmc_rpc_client_bind(p->c), 0);
    assert_int_equal(wdsmc_rpc_client_bind(p->c), -EINVAL);
    pump(p);
    assert_int_equal(wdsmc_rpc_client_state(p->c), WDSMC_RPC_CLIENT_READY);
    assert_int_equal(wdsmc_rpc_client_max_xmit(p->c), WDSMC_DCERPC_DEFAULT_FRAG);
    assert_false(wdsmc_rpc_server_authenticated(p->s));
    do_call(p, (const uint8_t *)"hello", 5, 0, &out, &out_len);
    assert_echo((const uint8_t *)"hello", 5, out, out_len);
    free(out);
    assert_int_equal(p->sctx.log.calls, 1);
    assert_false(p->sctx.log.last.authenticated);
    assert_int_equal(p->sctx.log.last.auth_level, WDSMC_RPC_LEVEL_NONE);
    assert_string_equal(p->sctx.log.user, "");

    /* bind, request / bind_ack, response; the bind_ack names port 5040. */
    uint8_t types[8];
    assert_int_equal(pdu_types(p->c2s, p->c2s_len, types, 8), 2);
    assert_int_equal(types[0], WDSMC_DCERPC_BIND);
    assert_int_equal(types[1], WDSMC_DCERPC_REQUEST);
    size_t len = 0;
    const uint8_t *ack = nth_pdu(p->s2c, p->s2c_len, 0, &len);
    struct wdsmc_dcerpc_pdu pdu;
    assert_int_equal(wdsmc_dcerpc_decode(ack, len, &pdu), 0);
    assert_int_equal(pdu.ptype, WDSMC_DCERPC_BIND_ACK);
    assert_string_equal(pdu.u.ack.sec_addr, "5040");
    assert_int_equal(pdu.u.ack.assoc_group_id, 0x53f0);

    /* A second call on the same association; empty stubs are fine too. */
    do_call(p, NULL, 0, 0, &out, &out_len);
    assert_null(out);
    assert_int_equal(out_len, 0);
    pair_free(p);
}

static void test_rpc_assoc_fragments_both_ways(void **state)
{
    struct pair_opts o = {.client_frag = WDSMC_DCERPC_MIN_FRAG, .server_frag = 2048};
    struct pair *p = pair_new(&o);
    size_t n = 10000;
    uint8_t *stub = malloc(n), *out;
    size_t out_len;

    (void)state;
    for (size_t i = 0; i < n; i++)
        stub[i] = (uint8_t)(i * 7);
    p->sctx.log.reply_extra = 3000;
    assert_int_equal(wdsmc_rpc_client_bind(p->c), 0);
    pump(p);
    /* Each side sends at most what the other receives. */
    assert_int_equal(wdsmc_rpc_client_max_xmit(p->c), WDSMC_DCERPC_MIN_FRAG);
    assert_int_equal(wdsmc_rpc_client_max_recv(p->c), WDSMC_DCERPC_MIN_FRAG);
    size_t c2s_before = p->c2s_len, s2c_before = p->s2c_len;
    do_call(p, stub, n, 0, &out, &out_len);
    assert_int_equal(out_len, n + 3000);
    assert_echo(stub, n, out, n);

    /* Request: ceil(10000 / 1408) fragments, first and last flagged,
     * alloc_hint counting down, none over 1432 bytes. */
    size_t chunk = (WDSMC_DCERPC_MIN_FRAG - 24) & ~(size_t)7;
    size_t frags = (n + chunk - 1) / chunk;
    size_t off = c2s_before, seen = 0, stub_total = 0;
    while (off < p->c2s_len) {
        struct wdsmc_dcerpc_pdu pdu;
        size_t len = (size_t)(p->c2s[off + 8] | p->c2s[off + 9] << 8);
        assert_true(len <= WDSMC_DCERPC_MIN_FRAG);
        assert_int_equal(wdsmc_dcerpc_decode(p->c2s + off, len, &pdu), 0);
        assert_int_equal(!!(pdu.pfc_flags & WDSMC_DCERPC_PFC_FIRST_FRAG), seen == 0);
        assert_int_equal(!!(pdu.pfc_flags & WDSMC_DCERPC_PFC_LAST_FRAG), seen == frags - 1);
        assert_int_equal(pdu.u.request.alloc_hint, n - stub_total);
        stub_total += pdu.stub_len;
        seen++;
        off += len;
    }
    assert_int_equal(seen, frags);
    assert_int_equal(stub_total, n);
    /* Response fragments respect the client's receive size. */
    off = s2c_before;
    seen = 0;
    while (off < p->s2c_len) {
        size_t len = (size_t)(p->s2c[off + 8] | p->s2c[off + 9] << 8);
        assert_true(len <= WDSMC_DCERPC_MIN_FRAG);
        seen++;
        off += len;
    }
    assert_true(seen > 9);
    free(out);
    free(stub);
    pair_free(p);
}

static void test_rpc_assoc_byte_at_a_time(void **state)
{
    struct pair_opts o = {.client_auth = WDSMC_RPC_AUTHN_WINNT,
                          .server_offers = WDSMC_RPC_AUTHN_WINNT,
                          .level = WDSMC_RPC_LEVEL_PKT_PRIVACY};
    struct pair *p = pair_new(&o);
    uint8_t *out;
    size_t out_len;

    (void)state;
    p->chunk = 1;
    assert_int_equal(wdsmc_rpc_client_bind(p->c), 0);
    pump(p);
    assert_int_equal(wdsmc_rpc_client_state(p->c), WDSMC_RPC_CLIENT_READY);
    do_call(p, (const uint8_t *)"abcdefghijklmnopq", 17, 0, &out, &out_len);
    assert_echo((const uint8_t *)"abcdefghijklmnopq", 17, out, out_len);
    free(out);
    pair_free(p);
}

static void test_rpc_assoc_ntlm_three_legs_privacy(void **state)
{
    struct pair_opts o = {.client_auth = WDSMC_RPC_AUTHN_WINNT,
                          .server_offers = WDSMC_RPC_AUTHN_WINNT,
                          .level = WDSMC_RPC_LEVEL_PKT_PRIVACY,
                          .client_frag = WDSMC_DCERPC_MIN_FRAG};
    struct pair *p = pair_new(&o);
    static const char secret[] = "a secret request that must not be seen";
    uint8_t *out;
    size_t out_len;

    (void)state;
    assert_int_equal(wdsmc_rpc_client_bind(p->c), 0);
    pump(p);
    assert_int_equal(wdsmc_rpc_client_state(p->c), WDSMC_RPC_CLIENT_READY);
    assert_true(wdsmc_rpc_server_authenticated(p->s));

    /* bind / bind_ack / rpc_auth_3: three legs, the last unanswered. */
    uint8_t ct[8], st[8];
    assert_int_equal(pdu_types(p->c2s, p->c2s_len, ct, 8), 2);
    assert_int_equal(ct[0], WDSMC_DCERPC_BIND);
    assert_int_equal(ct[1], WDSMC_DCERPC_AUTH3);
    assert_int_equal(pdu_types(p->s2c, p->s2c_len, st, 8), 1);
    assert_int_equal(st[0], WDSMC_DCERPC_BIND_ACK);
    size_t len = 0;
    struct wdsmc_dcerpc_pdu pdu;
    const uint8_t *bind = nth_pdu(p->c2s, p->c2s_len, 0, &len);
    assert_int_equal(wdsmc_dcerpc_decode(bind, len, &pdu), 0);
    assert_true(pdu.has_auth);
    assert_true(pdu.pfc_flags & WDSMC_DCERPC_PFC_HDR_SIGN);
    assert_int_equal(pdu.auth.type, WDSMC_RPC_AUTHN_WINNT);
    assert_int_equal(pdu.auth.level, WDSMC_RPC_LEVEL_PKT_PRIVACY);
    assert_int_equal(pdu.auth.context_id, 121);
    assert_memory_equal(pdu.auth.token, "NEG", 3);
    const uint8_t *ack = nth_pdu(p->s2c, p->s2c_len, 0, &len);
    assert_int_equal(wdsmc_dcerpc_decode(ack, len, &pdu), 0);
    assert_memory_equal(pdu.auth.token, "CHAL", 4);
    const uint8_t *a3 = nth_pdu(p->c2s, p->c2s_len, 1, &len);
    assert_int_equal(wdsmc_dcerpc_decode(a3, len, &pdu), 0);
    assert_memory_equal(pdu.auth.token, "AUTH", 4);

    /* A call: sealed on the wire, 16-byte aligned trailer, plaintext to
     * the dispatcher, which learns who called. */
    size_t before = p->c2s_len;
    do_call(p, (const uint8_t *)secret, sizeof(secret), 0, &out, &out_len);
    assert_echo((const uint8_t *)secret, sizeof(secret), out, out_len);
    free(out);
    assert_null(memmem(p->c2s + before, p->c2s_len - before, secret, 8));
    const uint8_t *req = nth_pdu(p->c2s, p->c2s_len, 2, &len);
    assert_int_equal(wdsmc_dcerpc_decode(req, len, &pdu), 0);
    assert_int_equal(pdu.ptype, WDSMC_DCERPC_REQUEST);
    assert_int_equal((pdu.auth.trailer_off - pdu.stub_off) % 16, 0);
    assert_int_equal(pdu.auth.token_len, 16);
    assert_int_equal(pdu.auth.pad_len, (16 - sizeof(secret) % 16) % 16);
    assert_int_equal(p->sctx.log.calls, 1);
    assert_true(p->sctx.log.last.authenticated);
    assert_int_equal(p->sctx.log.last.auth_level, WDSMC_RPC_LEVEL_PKT_PRIVACY);
    assert_int_equal(p->sctx.log.last.auth_type, WDSMC_RPC_AUTHN_WINNT);
    assert_string_equal(p->sctx.log.user, "alice");
    assert_int_equal(p->cauth->seals, 1);
    assert_int_equal(p->cauth->unseals, 1);
    assert_int_equal(p->sctx.fac.made->unseals, 1);
    assert_int_equal(p->sctx.fac.made->seals, 1);

    /* Large sealed calls fragment; each fragment is sealed on its own. */
    size_t n = 6000;
    uint8_t *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (uint8_t)(i ^ 0x33);
    do_call(p, big, n, 0, &out, &out_len);
    assert_echo(big, n, out, out_len);
    assert_true(p->cauth->seals >= 1 + 5);
    free(out);
    free(big);
    pair_free(p);
}

static void test_rpc_assoc_spnego_four_legs_privacy(void **state)
{
    struct pair_opts o = {.client_auth = WDSMC_RPC_AUTHN_GSS_NEGOTIATE,
                          .server_offers = WDSMC_RPC_AUTHN_GSS_NEGOTIATE,
                          .level = WDSMC_RPC_LEVEL_PKT_PRIVACY};
    struct pair *p = pair_new(&o);
    uint8_t *out;
    size_t out_len;

    (void)state;
    assert_int_equal(wdsmc_rpc_client_bind(p->c), 0);
    pump(p);
    assert_int_equal(wdsmc_rpc_client_state(p->c), WDSMC_RPC_CLIENT_READY);
    uint8_t ct[8], st[8];
    assert_int_equal(pdu_types(p->c2s, p->c2s_len, ct, 8), 2);
    assert_int_equal(ct[0], WDSMC_DCERPC_BIND);
    assert_int_equal(ct[1], WDSMC_DCERPC_ALTER_CONTEXT);
    assert_int_equal(pdu_types(p->s2c, p->s2c_len, st, 8), 2);
    assert_int_equal(st[0], WDSMC_DCERPC_BIND_ACK);
    assert_int_equal(st[1], WDSMC_DCERPC_ALTER_CONTEXT_RESP);
    size_t len = 0;
    struct wdsmc_dcerpc_pdu pdu;
    const uint8_t *resp = nth_pdu(p->s2c, p->s2c_len, 1, &len);
    assert_int_equal(wdsmc_dcerpc_decode(resp, len, &pdu), 0);
    assert_memory_equal(pdu.auth.token, "MIC", 3);
    assert_int_equal(pdu.u.ack.n_results, 1);
    assert_int_equal(pdu.u.ack.results[0].result, WDSMC_DCERPC_ACCEPTANCE);
    assert_int_equal(p->cauth->leg, 3);

    do_call(p, (const uint8_t *)"spnego", 6, 0, &out, &out_len);
    assert_echo((const uint8_t *)"spnego", 6, out, out_len);
    free(out);
    assert_true(p->sctx.log.last.authenticated);
    assert_int_equal(p->sctx.log.last.auth_type, WDSMC_RPC_AUTHN_GSS_NEGOTIATE);
    pair_free(p);
}

/* Flip one stub byte of every request PDU on the wire. */
static void flip_request_stub(uint8_t *d, size_t n)
{
    for (size_t off = 0; off + 24 < n;) {
        size_t len = (size_t)(d[off + 8] | d[off + 9] << 8);
        if (d[off + 2] == WDSMC_DCERPC_REQUEST)
            d[off + 24] ^= 1;
        off += len;
    }
}

static void test_rpc_assoc_integrity_signs_and_detects_tampering(void **state)
{
    struct pair_opts o = {.client_auth = WDSMC_RPC_AUTHN_WINNT,
                          .server_offers = WDSMC_RPC_AUTHN_WINNT,
                          .level = WDSMC_RPC_LEVEL_PKT_INTEGRITY};
    struct pair *p = pair_new(&o);
    uint8_t *out;
    size_t out_len;

    (void)state;
    assert_int_equal(wdsmc_rpc_client_bind(p->c), 0);
    pump(p);
    size_t before = p->c2s_len;
    do_call(p, (const uint8_t *)"visible", 7, 0, &out, &out_len);
    free(out);
    /* Signed, not sealed: the stub is in clear. */
    assert_non_null(memmem(p->c2s + before, p->c2s_len - before, "visible", 7));
    assert_int_equal(p->cauth->signs, 1);
    assert_int_equal(p->cauth->verifies, 1);
    assert_int_equal(p->cauth->seals, 0);

    /* A modified request is refused and the connection is dead. */
    assert_int_equal(wdsmc_rpc_client_call(p->c, 0, (const uint8_t *)"visible", 7), 0);
    pump_tamper(p, flip_request_stub);
    assert_int_equal(p->server_rc, -EACCES);
    assert_int_equal(wdsmc_rpc_client_take_result(p->c, &out, &out_len), -EACCES);
    assert_int_equal(p->sctx.log.calls, 1);
    assert_int_equal(wdsmc_rpc_server_input(p->s, (const uint8_t *)"x", 1), -EACCES);
    pair_free(p);
}

static void test_rpc_assoc_ntlm_bad_password_refuses_calls(void **state)
{
    struct pair_opts o = {.client_auth = WDSMC_RPC_AUTHN_WINNT,
                          .server_offers = WDSMC_RPC_AUTHN_WINNT,
                          .level = WDSMC_RPC_LEVEL_PKT_PRIVACY,
                          .bad_password = true};
    struct pair *p = pair_new(&o);
    uint8_t *out;
    size_t out_len;

    (void)state;
    assert_int_equal(wdsmc_rpc_client_bind(p->c), 0);
    pump(p);
    /* rpc_auth_3 has no answer: the client only learns on its call, which
     * gets access denied (MS-RPCE 3.3.1.5.2.1). */
    assert_int_equal(wdsmc_rpc_client_state(p->c), WDSMC_RPC_CLIENT_READY);
    assert_false(wdsmc_rpc_server_authenticated(p->s));
    do_call(p, (const uint8_t *)"x", 1, -EACCES, &out, &out_len);
    assert_null(out);
    assert_int_equal(p->sctx.log.calls, 0);
    assert_int_equal(p->server_rc, 0);
    pair_free(p);
}

static void test_rpc_assoc_spnego_bad_password_faults_alter_context(void **state)
{
    struct pair_opts o = {.client_auth = WDSMC_RPC_AUTHN_GSS_NEGOTIATE,
                          .server_offers = WDSMC_RPC_AUTHN_GSS_NEGOTIATE,
                          .level = WDSMC_RPC_LEVEL_PKT_PRIVACY,
                          .bad_password = true};
    struct pair *p = pair_new(&o);

    (void)state;
    assert_int_equal(wdsmc_rpc_client_bind(p->c), 0);
    pump(p);
    assert_int_equal(wdsmc_rpc_client_state(p->c), WDSMC_RPC_CLIENT_FAILED);
    assert_int_equal(wdsmc_rpc_client_error(p->c), -EACCES);
    assert_int_equal(p->client_rc, -EACCES);
    uint8_t st[8];
    assert_int_equal(pdu_types(p->s2c, p->s2c_len, st, 8), 2);
    assert_int_equal(st[1], WDSMC_DCERPC_FAULT);
    assert_int_equal(wdsmc_rpc_client_call(p->c, 0, NULL, 0), -EINVAL);
    pair_free(p);
}

static void test_rpc_assoc_unknown_auth_type_gets_bind_nak(void **state)
{
    struct pair_opts o = {.client_auth = WDSMC_RPC_AUTHN_GSS_NEGOTIATE,
                          .server_offers = WDSMC_RPC_AUTHN_WINNT,
                          .level = WDSMC_RPC_LEVEL_PKT_PRIVACY};
    struct pair *p = pair_new(&o);
    size_t len = 0;
    struct wdsmc_dcerpc_pdu pdu;

    (void)state;
    assert_int_equal(wdsmc_rpc_client_bind(p->c), 0);
    pump(p);
    assert_int_equal(wdsmc_rpc_client_error(p->c), -EACCES);
    const uint8_t *nak = nth_pdu(p->s2c, p->s2c_len, 0, &len);
    assert_int_equal(wdsmc_dcerpc_decode(nak, len, &pdu), 0);
    assert_int_equal(pdu.ptype, WDSMC_DCERPC_BIND_NAK);
    assert_int_equal(pdu.u.nak.reason, WDSMC_DCERPC_NAK_AUTH_TYPE_NOT_RECOGNIZED);
    assert_int_equal(p->server_rc, -EACCES);
    pair_free(p);
}

static void test_rpc_assoc_other_interface_rejected(void **state)
{
    struct wdsmc_dcerpc_syntax other = WDSMC_DCERPC_WDSC_IF_INIT;
    other.uuid.b[0] ^= 1;
    struct pair_opts o = {.iface = &other};
    struct pair *p = pair_new(&o);
    size_t len = 0;
    struct wdsmc_dcerpc_pdu pdu;

    (void)state;
    assert_int_equal(wdsmc_rpc_client_bind(p->c), 0);
    pump(p);
    assert_int_equal(wdsmc_rpc_client_error(p->c), -EPROTONOSUPPORT);
    const uint8_t *ack = nth_pdu(p->s2c, p->s2c_len, 0, &len);
    assert_int_equal(wdsmc_dcerpc_decode(ack, len, &pdu), 0);
    assert_int_equal(pdu.ptype, WDSMC_DCERPC_BIND_ACK);
    assert_int_equal(pdu.u.ack.results[0].result, WDSMC_DCERPC_PROVIDER_REJECTION);
    assert_int_equal(pdu.u.ack.results[0].reason, WDSMC_DCERPC_ABSTRACT_SYNTAX_NOT_SUPPORTED);
    pair_free(p);
}

/* Feed a hand-made PDU to a fresh server and return its first answer. */
static void server_answer(struct wdsmc_rpc_server *s, struct wdsmc_dcerpc_pdu *in,
                          struct wdsmc_dcerpc_pdu *ret, int want_rc)
{
    static uint8_t buf[8192];
    const uint8_t *d;
    ssize_t n = wdsmc_dcerpc_encode(in, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(wdsmc_rpc_server_input(s, buf, (size_t)n), want_rc);
    size_t m = wdsmc_rpc_server_pending(s, &d);
    assert_true(m >= 16);
    size_t len = (size_t)(d[8] | d[9] << 8);
    static uint8_t keep[8192];
    memcpy(keep, d, len);
    assert_int_equal(wdsmc_dcerpc_decode(keep, len, ret), 0);
    wdsmc_rpc_server_consume(s, len);
}

static struct wdsmc_rpc_server *raw_server(struct server_ctx *sctx, size_t max_stub)
{
    struct wdsmc_rpc_server *s;
    struct wdsmc_rpc_server_cfg cfg = {
            .iface = wdsc_if,
            .max_stub = max_stub,
            .assoc_group_id = 7,
            .dispatch = echo_dispatch,
            .auth_new = fake_auth_new,
            .user = sctx,
    };
    assert_int_equal(wdsmc_rpc_server_new(&cfg, &s), 0);
    return s;
}

static void make_bind(struct wdsmc_dcerpc_pdu *b, uint32_t call_id)
{
    static const struct wdsmc_dcerpc_syntax ndr20 = WDSMC_DCERPC_NDR20_INIT;
    memset(b, 0, sizeof(*b));
    b->ptype = WDSMC_DCERPC_BIND;
    b->pfc_flags = 3;
    b->call_id = call_id;
    b->u.bind.max_xmit_frag = b->u.bind.max_recv_frag = 4280;
    b->u.bind.n_ctx = 1;
    b->u.bind.ctx[0].abstract = wdsc_if;
    b->u.bind.ctx[0].n_xfer = 1;
    b->u.bind.ctx[0].xfer[0] = ndr20;
}

static void make_request(struct wdsmc_dcerpc_pdu *r, uint32_t call_id, uint16_t opnum,
                         const uint8_t *stub, size_t len, uint8_t flags, uint32_t alloc_hint)
{
    memset(r, 0, sizeof(*r));
    r->ptype = WDSMC_DCERPC_REQUEST;
    r->pfc_flags = flags;
    r->call_id = call_id;
    r->u.request.opnum = opnum;
    r->u.request.alloc_hint = alloc_hint;
    r->stub = stub;
    r->stub_len = len;
}

static void test_rpc_assoc_server_negotiates_each_context(void **state)
{
    struct server_ctx sctx = {0};
    struct wdsmc_rpc_server *s = raw_server(&sctx, 0);
    struct wdsmc_dcerpc_pdu b, ack;
    struct wdsmc_dcerpc_syntax ndr64 = {.version = 1};

    (void)state;
    assert_int_equal(wdsmc_uuid_parse("71710533-beba-4937-8319-b5dbef9ccc36", &ndr64.uuid), 0);
    make_bind(&b, 1);
    b.u.bind.max_xmit_frag = 5840;
    b.u.bind.max_recv_frag = 2000;
    b.u.bind.n_ctx = 4;
    /* 0: another interface; 1: ours in NDR64 only; 2: ours in NDR; 3:
     * bind-time feature negotiation. */
    b.u.bind.ctx[0].abstract.uuid.b[15] ^= 0xFF;
    b.u.bind.ctx[1] = b.u.bind.ctx[2] = b.u.bind.ctx[3] = (struct wdsmc_dcerpc_ctx){
            .n_xfer = 1, .abstract = wdsc_if, .xfer = {WDSMC_DCERPC_NDR20_INIT}};
    b.u.bind.ctx[1].ctx_id = 1;
    b.u.bind.ctx[1].xfer[0] = ndr64;
    b.u.bind.ctx[2].ctx_id = 2;
    b.u.bind.ctx[3].ctx_id = 3;
    assert_int_equal(
            wdsmc_uuid_parse("6cb71c2c-9812-4540-0300-000000000000", &b.u.bind.ctx[3].xfer[0].uuid),
            0);
    server_answer(s, &b, &ack, 0);
    assert_int_equal(ack.ptype, WDSMC_DCERPC_BIND_ACK);
    assert_int_equal(ack.u.ack.max_xmit_frag, 2000); /* client's max_recv */
    assert_int_equal(ack.u.ack.max_recv_frag, 5840);
    assert_int_equal(ack.u.ack.assoc_group_id, 7);
    assert_int_equal(ack.u.ack.n_results, 4);
    assert_int_equal(ack.u.ack.results[0].result, WDSMC_DCERPC_PROVIDER_REJECTION);
    assert_int_equal(ack.u.ack.results[0].reason, WDSMC_DCERPC_ABSTRACT_SYNTAX_NOT_SUPPORTED);
    assert_int_equal(ack.u.ack.results[1].result, WDSMC_DCERPC_PROVIDER_REJECTION);
    assert_int_equal(ack.u.ack.results[1].reason, WDSMC_DCERPC_TRANSFER_SYNTAXES_NOT_SUPPORTED);
    assert_int_equal(ack.u.ack.results[2].result, WDSMC_DCERPC_ACCEPTANCE);
    assert_int_equal(ack.u.ack.results[3].result, WDSMC_DCERPC_NEGOTIATE_ACK);
    assert_int_equal(ack.u.ack.results[3].reason, 0);

    /* A call on the rejected context 1 is refused; on 2 it runs. */
    struct wdsmc_dcerpc_pdu r, f;
    make_request(&r, 2, 0, (const uint8_t *)"ab", 2, 3, 2);
    r.u.request.ctx_id = 1;
    server_answer(s, &r, &f, 0);
    assert_int_equal(f.ptype, WDSMC_DCERPC_FAULT);
    assert_int_equal(f.u.fault.status, WDSMC_NCA_UNK_IF);
    make_request(&r, 3, 0, (const uint8_t *)"ab", 2, 3, 2);
    r.u.request.ctx_id = 2;
    server_answer(s, &r, &f, 0);
    assert_int_equal(f.ptype, WDSMC_DCERPC_RESPONSE);
    assert_int_equal(f.u.response.ctx_id, 2);
    assert_int_equal(f.stub_len, 2);
    assert_memory_equal(f.stub, "ba", 2);
    wdsmc_rpc_server_free(s);
}

static void test_rpc_assoc_server_faults(void **state)
{
    struct server_ctx sctx = {0};
    struct wdsmc_rpc_server *s = raw_server(&sctx, 4096);
    struct wdsmc_dcerpc_pdu b, ack, r, f;
    uint8_t big[3000] = {0};

    (void)state;
    make_bind(&b, 1);
    server_answer(s, &b, &ack, 0);
    /* opnum 1 does not exist (MS-WDSC 3.1.4). */
    make_request(&r, 2, 1, (const uint8_t *)"x", 1, 3, 1);
    server_answer(s, &r, &f, 0);
    assert_int_equal(f.u.fault.status, WDSMC_NCA_OP_RNG_ERROR);
    assert_true(f.pfc_flags & WDSMC_DCERPC_PFC_DID_NOT_EXECUTE);
    assert_int_equal(f.call_id, 2);
    /* alloc_hint over the cap: refused with 5 (MS-RPCE 3.3.3.5.4). */
    make_request(&r, 3, 0, big, 8, 3, 1u << 30);
    server_answer(s, &r, &f, 0);
    assert_int_equal(f.u.fault.status, WDSMC_NCA_ACCESS_DENIED);
    /* Fragments adding up past the cap, with honest hints: refused at the
     * last fragment, the dispatcher never called. */
    make_request(&r, 4, 0, big, sizeof(big), WDSMC_DCERPC_PFC_FIRST_FRAG, 0);
    uint8_t buf[4096];
    ssize_t n = wdsmc_dcerpc_encode(&r, buf, sizeof(buf));
    assert_int_equal(wdsmc_rpc_server_input(s, buf, (size_t)n), 0);
    make_request(&r, 4, 0, big, sizeof(big), WDSMC_DCERPC_PFC_LAST_FRAG, 0);
    server_answer(s, &r, &f, 0);
    assert_int_equal(f.u.fault.status, WDSMC_NCA_ACCESS_DENIED);
    assert_int_equal(sctx.log.calls, 0);
    /* The dispatcher's error becomes the fault status. */
    sctx.log.fail_with = -EBADMSG;
    make_request(&r, 5, 0, big, 4, 3, 4);
    server_answer(s, &r, &f, 0);
    assert_int_equal(f.u.fault.status, WDSMC_NCA_FAULT_NDR);
    assert_false(f.pfc_flags & WDSMC_DCERPC_PFC_DID_NOT_EXECUTE);
    /* call_id going backwards is a protocol error that ends the
     * connection. */
    sctx.log.fail_with = 0;
    make_request(&r, 5, 0, big, 4, 3, 4);
    server_answer(s, &r, &f, -EPROTO);
    assert_int_equal(f.u.fault.status, WDSMC_NCA_PROTO_ERROR);
    wdsmc_rpc_server_free(s);
}

static void test_rpc_assoc_server_protocol_errors(void **state)
{
    struct server_ctx sctx = {0};
    struct wdsmc_rpc_server *s;
    struct wdsmc_dcerpc_pdu b, r, f;
    uint8_t buf[256];

    (void)state;
    /* A request before any bind. */
    s = raw_server(&sctx, 0);
    make_request(&r, 1, 0, (const uint8_t *)"x", 1, 3, 1);
    ssize_t n = wdsmc_dcerpc_encode(&r, buf, sizeof(buf));
    assert_int_equal(wdsmc_rpc_server_input(s, buf, (size_t)n), -EPROTO);
    wdsmc_rpc_server_free(s);

    /* A second bind. */
    s = raw_server(&sctx, 0);
    make_bind(&b, 1);
    server_answer(s, &b, &f, 0);
    make_bind(&b, 2);
    server_answer(s, &b, &f, -EPROTO);
    assert_int_equal(f.ptype, WDSMC_DCERPC_BIND_NAK);
    wdsmc_rpc_server_free(s);

    /* Version 4.0: bind_nak listing 5.0, whatever the body. */
    s = raw_server(&sctx, 0);
    make_bind(&b, 9);
    n = wdsmc_dcerpc_encode(&b, buf, sizeof(buf));
    buf[0] = 4;
    assert_int_equal(wdsmc_rpc_server_input(s, buf, 16), -EPROTONOSUPPORT);
    const uint8_t *d;
    size_t m = wdsmc_rpc_server_pending(s, &d);
    memcpy(buf, d, m);
    assert_int_equal(wdsmc_dcerpc_decode(buf, m, &f), 0);
    assert_int_equal(f.ptype, WDSMC_DCERPC_BIND_NAK);
    assert_int_equal(f.call_id, 9);
    assert_int_equal(f.u.nak.reason, WDSMC_DCERPC_NAK_PROTOCOL_VERSION_NOT_SUPPORTED);
    assert_int_equal(f.u.nak.versions[0][0], 5);
    wdsmc_rpc_server_free(s);

    /* Fragments under the 1432-byte minimum are refused. */
    s = raw_server(&sctx, 0);
    make_bind(&b, 1);
    b.u.bind.max_recv_frag = 1000;
    server_answer(s, &b, &f, -EPROTO);
    assert_int_equal(f.ptype, WDSMC_DCERPC_BIND_NAK);
    wdsmc_rpc_server_free(s);

    /* A trailer at level NONE (found by fuzzing: reason 0 was taken for
     * success). */
    s = raw_server(&sctx, 0);
    sctx.fac.type_offered = WDSMC_RPC_AUTHN_WINNT;
    make_bind(&b, 1);
    b.has_auth = true;
    b.auth.type = WDSMC_RPC_AUTHN_WINNT;
    b.auth.level = WDSMC_RPC_LEVEL_NONE;
    b.auth.token = (const uint8_t *)"NEG";
    b.auth.token_len = 3;
    server_answer(s, &b, &f, -EACCES);
    assert_int_equal(f.ptype, WDSMC_DCERPC_BIND_NAK);
    assert_int_equal(f.u.nak.reason, WDSMC_DCERPC_NAK_NOT_SPECIFIED);
    wdsmc_rpc_server_free(s);
    /* The same without a provider factory at all. */
    struct wdsmc_rpc_server_cfg nocfg = {.iface = wdsc_if, .dispatch = echo_dispatch};
    assert_int_equal(wdsmc_rpc_server_new(&nocfg, &s), 0);
    b.auth.level = WDSMC_RPC_LEVEL_PKT_PRIVACY;
    server_answer(s, &b, &f, -EACCES);
    assert_int_equal(f.u.nak.reason, WDSMC_DCERPC_NAK_AUTH_TYPE_NOT_RECOGNIZED);
    wdsmc_rpc_server_free(s);

    /* A frame longer than the receive buffer ends the connection. */
    s = raw_server(&sctx, 0);
    make_bind(&b, 1);
    n = wdsmc_dcerpc_encode(&b, buf, sizeof(buf));
    wdsmc_dcerpc_set_frag_length(buf, 65535);
    assert_int_equal(wdsmc_rpc_server_input(s, buf, 16), -WDSMC_EVALUE);
    wdsmc_rpc_server_free(s);

    /* A trailer on an unauthenticated connection. */
    s = raw_server(&sctx, 0);
    make_bind(&b, 1);
    server_answer(s, &b, &f, 0);
    make_request(&r, 2, 0, (const uint8_t *)"x", 1, 3, 1);
    r.has_auth = true;
    r.auth.type = WDSMC_RPC_AUTHN_WINNT;
    r.auth.level = WDSMC_RPC_LEVEL_PKT_PRIVACY;
    r.auth.token_len = 16;
    server_answer(s, &r, &f, -EPROTO);
    assert_int_equal(f.u.fault.status, WDSMC_NCA_PROTO_ERROR);
    wdsmc_rpc_server_free(s);

    /* A middle fragment with no call in progress and a newer call_id. */
    s = raw_server(&sctx, 0);
    make_bind(&b, 1);
    server_answer(s, &b, &f, 0);
    make_request(&r, 5, 0, (const uint8_t *)"x", 1, 0, 1);
    server_answer(s, &r, &f, -EPROTO);
    wdsmc_rpc_server_free(s);
}

static void test_rpc_assoc_client_limits(void **state)
{
    struct pair_opts o = {.client_max_stub = 4096};
    struct pair *p = pair_new(&o);
    uint8_t *out;
    size_t out_len;
    uint8_t stub[100] = {0};

    (void)state;
    assert_int_equal(wdsmc_rpc_client_call(p->c, 0, stub, 1), -EINVAL); /* not bound */
    assert_int_equal(wdsmc_rpc_client_take_result(p->c, &out, &out_len), -EINVAL);
    assert_int_equal(wdsmc_rpc_client_bind(p->c), 0);
    pump(p);
    assert_int_equal(wdsmc_rpc_client_call(p->c, 0, stub, 5000), -EMSGSIZE);
    /* A fault leaves the association usable. */
    p->sctx.log.fail_with = -ENOMEM;
    do_call(p, stub, 10, -ENOMEM, &out, &out_len);
    p->sctx.log.fail_with = 0;
    do_call(p, stub, 10, 0, &out, &out_len);
    free(out);
    /* A response over the cap fails the association. */
    p->sctx.log.reply_extra = 5000;
    assert_int_equal(wdsmc_rpc_client_call(p->c, 0, stub, 10), 0);
    assert_int_equal(wdsmc_rpc_client_take_result(p->c, &out, &out_len), -EAGAIN);
    pump(p);
    assert_int_equal(wdsmc_rpc_client_state(p->c), WDSMC_RPC_CLIENT_FAILED);
    assert_int_equal(wdsmc_rpc_client_error(p->c), -EMSGSIZE);
    pair_free(p);
}

static void test_rpc_assoc_client_rejects_unexpected_pdus(void **state)
{
    struct pair_opts o = {0};
    struct pair *p = pair_new(&o);
    struct wdsmc_dcerpc_pdu r = {0};
    uint8_t buf[64];

    (void)state;
    /* A response while binding. */
    assert_int_equal(wdsmc_rpc_client_bind(p->c), 0);
    r.ptype = WDSMC_DCERPC_RESPONSE;
    r.pfc_flags = 3;
    r.call_id = 1;
    ssize_t n = wdsmc_dcerpc_encode(&r, buf, sizeof(buf));
    assert_int_equal(wdsmc_rpc_client_input(p->c, buf, (size_t)n), -EPROTO);
    assert_int_equal(wdsmc_rpc_client_state(p->c), WDSMC_RPC_CLIENT_FAILED);
    assert_int_equal(wdsmc_rpc_client_input(p->c, buf, 1), -EPROTO);
    pair_free(p);

    /* A bind_ack for another call_id. */
    p = pair_new(&o);
    assert_int_equal(wdsmc_rpc_client_bind(p->c), 0);
    const uint8_t *d;
    size_t m = wdsmc_rpc_client_pending(p->c, &d);
    assert_int_equal(wdsmc_rpc_server_input(p->s, d, m), 0);
    wdsmc_rpc_client_consume(p->c, m);
    m = wdsmc_rpc_server_pending(p->s, &d);
    uint8_t ack[128];
    memcpy(ack, d, m);
    ack[12] = 9;
    assert_int_equal(wdsmc_rpc_client_input(p->c, ack, m), -EPROTO);
    pair_free(p);
}

/* ---- WDS Control Protocol end to end ------------------------------------------ */

struct wdsc_ctx {
    struct server_ctx sctx; /* first: fake_auth_new's user */
    struct wdsmc_wdsc_server srv;
    unsigned handled;
};

static int wdsc_handler(void *user, const struct wdsmc_rpc_call_info *info,
                        const struct wdsmc_wdsc_pkt *req, uint8_t **ret_reply, size_t *ret_len)
{
    struct wdsc_ctx *w = user;
    struct wdsmc_wdsc_initiate_req ir;
    (void)info;
    w->handled++;
    if (wdsmc_wdsc_initiate_req_parse(req, &ir) < 0)
        return -EBADMSG;
    struct wdsmc_wdsc_initiate_rep rep = {
            .mc_port = 64132,
            .mc_addr = {4, {239, 0, 0, 111}},
            .uni_port = 64132,
            .uni_addr = {4, {192, 168, 0, 200}},
            .session_id = 42,
            .content_size = 1000,
            .block_size = 100,
            .total_blocks = 10,
    };
    return wdsmc_wdsc_initiate_rep_build(&rep, ret_reply, ret_len);
}

static int wdsc_dispatch(void *user, const struct wdsmc_rpc_call_info *info, const uint8_t *stub,
                         size_t len, uint8_t **ret_stub, size_t *ret_len)
{
    struct wdsc_ctx *w = user;
    return wdsmc_wdsc_rpc_dispatch(&w->srv, info, stub, len, ret_stub, ret_len);
}

/* Run INITIATE over an association; returns wdsmc_wdsc_rpc_reply()'s result. */
static int wdsc_initiate(uint8_t client_auth, uint8_t level, struct wdsc_ctx *w)
{
    struct wdsmc_rpc_server_cfg scfg = {
            .iface = wdsc_if,
            .dispatch = wdsc_dispatch,
            .auth_new = fake_auth_new,
            .user = w,
    };
    struct wdsmc_rpc_client_cfg ccfg = {.iface = wdsc_if, .auth_level = level};
    struct fake_auth *ca = NULL;
    struct pair *p = calloc(1, sizeof(*p));
    uint8_t *pkt, *stub, *out;
    size_t pkt_len, stub_len, out_len;
    const uint8_t *rep;
    size_t rep_len;

    assert_non_null(p);
    w->srv.handler = wdsc_handler;
    w->srv.user = w;
    w->sctx.fac.type_offered = WDSMC_RPC_AUTHN_WINNT;
    assert_int_equal(wdsmc_rpc_server_new(&scfg, &p->s), 0);
    if (client_auth) {
        ca = fake_new(FAKE_CLIENT, client_auth);
        ccfg.auth = &ca->base;
    }
    assert_int_equal(wdsmc_rpc_client_new(&ccfg, &p->c), 0);
    assert_int_equal(wdsmc_rpc_client_bind(p->c), 0);
    pump(p);
    struct wdsmc_wdsc_initiate_req req = {.has_cap = true, .cap = WDSMC_WDSC_CAP_DEFAULT};
    strcpy(req.ns, "WDS:default/install.wim/1");
    strcpy(req.content, "install.wim");
    strcpy(req.client, "TestMachine");
    assert_int_equal(wdsmc_wdsc_initiate_req_build(&req, &pkt, &pkt_len), 0);
    assert_int_equal(wdsmc_wdsc_rpc_request(pkt, pkt_len, &stub, &stub_len), 0);
    do_call(p, stub, stub_len, 0, &out, &out_len);
    int rc = wdsmc_wdsc_rpc_reply(out, out_len, &rep, &rep_len);
    if (rc == 0) {
        struct wdsmc_wdsc_pkt rp;
        struct wdsmc_wdsc_initiate_rep ir;
        assert_int_equal(wdsmc_wdsc_decode(rep, rep_len, &rp), 0);
        assert_int_equal(wdsmc_wdsc_initiate_rep_parse(&rp, &ir), 0);
        assert_int_equal(ir.session_id, 42);
        wdsmc_wdsc_pkt_fini(&rp);
    }
    free(pkt);
    free(stub);
    free(out);
    wdsmc_rpc_client_free(p->c);
    wdsmc_rpc_server_free(p->s);
    free(ca);
    free(p);
    return rc;
}

static void test_rpc_assoc_wdsc_initiate_needs_authentication(void **state)
{
    struct wdsc_ctx w;

    (void)state;
    /* Unauthenticated: WdsRpcMessage returns 5, no packet (MS-WDSMSI 2.2
     * "Authenticated"). */
    memset(&w, 0, sizeof(w));
    assert_int_equal(wdsc_initiate(0, 0, &w), -EACCES);
    assert_int_equal(w.handled, 0);
    /* Authenticated at PKT_INTEGRITY: still refused (MS-WDSC 3.1.4.1). */
    memset(&w, 0, sizeof(w));
    assert_int_equal(wdsc_initiate(WDSMC_RPC_AUTHN_WINNT, WDSMC_RPC_LEVEL_PKT_INTEGRITY, &w),
                     -EACCES);
    assert_int_equal(w.handled, 0);
    /* Authenticated at PKT_PRIVACY: served. */
    memset(&w, 0, sizeof(w));
    assert_int_equal(wdsc_initiate(WDSMC_RPC_AUTHN_WINNT, WDSMC_RPC_LEVEL_PKT_PRIVACY, &w), 0);
    assert_int_equal(w.handled, 1);
}

/* ---- The real providers (rpcauth.h): NTLMv2 and SPNEGO ----------------------------- */

static int lookup_alice(void *ctx, const char *user, const char *domain, uint8_t ret[16])
{
    (void)ctx;
    (void)domain;
    if (strcasecmp(user, "alice") != 0)
        return -ENOENT;
    return wdsmc_ntlm_nt_hash("Secret1", ret);
}

static int real_auth_new(void *user, uint8_t auth_type, struct wdsmc_rpcauth **ret)
{
    struct wdsmc_rpcauth_server_cfg cfg = {
            .nb_computer = "WDS01",
            .nb_domain = "WDS",
            .lookup = lookup_alice,
    };
    (void)user;
    if (auth_type == WDSMC_RPC_AUTHN_WINNT)
        return wdsmc_rpcauth_ntlm_server_new(&cfg, ret);
    if (auth_type == WDSMC_RPC_AUTHN_GSS_NEGOTIATE)
        return wdsmc_rpcauth_spnego_server_new(&cfg, ret);
    return -EOPNOTSUPP;
}

/* One call over the real providers; returns the client's result. */
static int real_call(uint8_t type, const char *password, unsigned *ret_legs)
{
    struct call_log log = {0};
    struct wdsmc_rpc_server_cfg scfg = {
            .iface = wdsc_if, .dispatch = echo_dispatch, .auth_new = real_auth_new, .user = &log};
    struct wdsmc_rpcauth_client_cfg acfg = {
            .user = "alice", .domain = "WDS", .password = password, .workstation = "CLIENT"};
    struct wdsmc_rpcauth *ca;
    struct pair *p = calloc(1, sizeof(*p));
    uint8_t *out = NULL;
    size_t out_len;
    int rc;

    assert_non_null(p);
    if (type == WDSMC_RPC_AUTHN_WINNT)
        assert_int_equal(wdsmc_rpcauth_ntlm_client_new(&acfg, &ca), 0);
    else
        assert_int_equal(wdsmc_rpcauth_spnego_client_new(&acfg, &ca), 0);
    struct wdsmc_rpc_client_cfg ccfg = {
            .iface = wdsc_if, .auth = ca, .auth_level = WDSMC_RPC_LEVEL_PKT_PRIVACY};
    assert_int_equal(wdsmc_rpc_server_new(&scfg, &p->s), 0);
    assert_int_equal(wdsmc_rpc_client_new(&ccfg, &p->c), 0);
    assert_int_equal(wdsmc_rpc_client_bind(p->c), 0);
    pump(p);
    uint8_t types[8];
    *ret_legs = (unsigned)pdu_types(p->c2s, p->c2s_len, types, 8) +
                (unsigned)pdu_types(p->s2c, p->s2c_len, types, 8);
    rc = wdsmc_rpc_client_error(p->c);
    if (rc == 0) {
        assert_int_equal(wdsmc_rpc_client_call(p->c, 0, (const uint8_t *)"sealed stub", 11), 0);
        pump(p);
        rc = wdsmc_rpc_client_take_result(p->c, &out, &out_len);
        if (rc == 0) {
            assert_echo((const uint8_t *)"sealed stub", 11, out, out_len);
            assert_true(log.last.authenticated);
            assert_string_equal(log.user, "alice");
            assert_null(memmem(p->c2s, p->c2s_len, "sealed", 6));
        }
    }
    free(out);
    wdsmc_rpc_client_free(p->c);
    wdsmc_rpc_server_free(p->s);
    wdsmc_rpcauth_free(ca);
    free(p);
    return rc;
}

static void test_rpc_assoc_real_ntlm_and_spnego(void **state)
{
    unsigned legs;

    (void)state;
    assert_int_equal(real_call(WDSMC_RPC_AUTHN_WINNT, "Secret1", &legs), 0);
    assert_int_equal(legs, 3); /* bind, bind_ack, rpc_auth_3 */
    assert_int_equal(real_call(WDSMC_RPC_AUTHN_GSS_NEGOTIATE, "Secret1", &legs), 0);
    assert_int_equal(legs, 4); /* bind, bind_ack, alter_context, alter_context_resp */
    assert_int_equal(real_call(WDSMC_RPC_AUTHN_WINNT, "wrong", &legs), -EACCES);
    assert_int_equal(real_call(WDSMC_RPC_AUTHN_GSS_NEGOTIATE, "wrong", &legs), -EACCES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_rpc_assoc_unauthenticated_bind_and_call),
            cmocka_unit_test(test_rpc_assoc_fragments_both_ways),
            cmocka_unit_test(test_rpc_assoc_byte_at_a_time),
            cmocka_unit_test(test_rpc_assoc_ntlm_three_legs_privacy),
            cmocka_unit_test(test_rpc_assoc_spnego_four_legs_privacy),
            cmocka_unit_test(test_rpc_assoc_integrity_signs_and_detects_tampering),
            cmocka_unit_test(test_rpc_assoc_ntlm_bad_password_refuses_calls),
            cmocka_unit_test(test_rpc_assoc_spnego_bad_password_faults_alter_context),
            cmocka_unit_test(test_rpc_assoc_unknown_auth_type_gets_bind_nak),
            cmocka_unit_test(test_rpc_assoc_other_interface_rejected),
            cmocka_unit_test(test_rpc_assoc_server_negotiates_each_context),
            cmocka_unit_test(test_rpc_assoc_server_faults),
            cmocka_unit_test(test_rpc_assoc_server_protocol_errors),
            cmocka_unit_test(test_rpc_assoc_client_limits),
            cmocka_unit_test(test_rpc_assoc_client_rejects_unexpected_pdus),
            cmocka_unit_test(test_rpc_assoc_wdsc_initiate_needs_authentication),
            cmocka_unit_test(test_rpc_assoc_real_ntlm_and_spnego),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
