/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the NTLM and SPNEGO token parsers. The first byte
 * picks which side gets the rest of the input and in what state:
 *
 *   0  NTLM server, fresh: the input as NEGOTIATE_MESSAGE
 *   1  NTLM client after its NEGOTIATE: the input as CHALLENGE_MESSAGE
 *   2  NTLM server after its CHALLENGE: the input as AUTHENTICATE_MESSAGE
 *   3  SPNEGO server, fresh: the input as NegTokenInit
 *   4  SPNEGO client after its NegTokenInit: the input as NegTokenResp
 *   5  the bare SPNEGO decoder
 *
 * Randomness and time are fixed, so every run is reproducible. Beyond "does
 * not crash", a context that accepted a token must report itself complete
 * or still going, and one that refused it must refuse everything after.
 */
#include <assert.h>
#include <string.h>

#include "ntlm.h"
#include "rpcauth.h"
#include "spnego.h"
#include "fuzz.h"

static int fixed_random(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    memset(buf, 0xaa, len);
    return 0;
}

static uint64_t fixed_now(void *ctx)
{
    (void)ctx;
    return 133500000000000000ULL;
}

static int lookup(void *ctx, const char *user, const char *domain, uint8_t ret[16])
{
    (void)ctx;
    (void)domain;
    if (strcmp(user, "User") != 0)
        return -ENOENT;
    return wdsmc_ntlm_nt_hash("Password", ret);
}

static const struct wdsmc_rpcauth_client_cfg ccfg = {
        .user = "User",
        .domain = "Domain",
        .password = "Password",
        .random = fixed_random,
        .now = fixed_now,
};

static const struct wdsmc_rpcauth_server_cfg scfg = {
        .nb_computer = "WDS01",
        .lookup = lookup,
        .allow_anonymous = true,
        .random = fixed_random,
        .now = fixed_now,
};

static uint8_t out[WDSMC_RPCAUTH_MAX_TOKEN];

/* Feeds the input, then checks the context's verdict is consistent. */
static void feed(struct wdsmc_rpcauth *a, const uint8_t *data, size_t size)
{
    size_t len = 0;
    int rc = wdsmc_rpcauth_step(a, data, size, out, sizeof(out), &len);
    assert(rc == WDSMC_RPCAUTH_DONE || rc == WDSMC_RPCAUTH_CONTINUE || rc < 0);
    assert(len <= sizeof(out));
    if (rc < 0) {
        struct wdsmc_rpcauth_info info;
        assert(len == 0);
        assert(wdsmc_rpcauth_info(a, &info) == -EPROTO);
        assert(wdsmc_rpcauth_step(a, data, size, out, sizeof(out), &len) < 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wdsmc_rpcauth *a = NULL, *b = NULL;
    uint8_t tok[WDSMC_RPCAUTH_MAX_TOKEN];
    size_t len;

    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    data++;
    size--;
    switch (sel % 6) {
    case 0:
        if (wdsmc_rpcauth_ntlm_server_new(&scfg, &a) == 0)
            feed(a, data, size);
        break;
    case 1:
        if (wdsmc_rpcauth_ntlm_client_new(&ccfg, &a) == 0 &&
            wdsmc_rpcauth_step(a, NULL, 0, tok, sizeof(tok), &len) == WDSMC_RPCAUTH_CONTINUE)
            feed(a, data, size);
        break;
    case 2:
        /* A real NEGOTIATE from our client gets the server to its CHALLENGE. */
        if (wdsmc_rpcauth_ntlm_client_new(&ccfg, &b) == 0 &&
            wdsmc_rpcauth_ntlm_server_new(&scfg, &a) == 0 &&
            wdsmc_rpcauth_step(b, NULL, 0, tok, sizeof(tok), &len) == WDSMC_RPCAUTH_CONTINUE &&
            wdsmc_rpcauth_step(a, tok, len, out, sizeof(out), &len) == WDSMC_RPCAUTH_CONTINUE)
            feed(a, data, size);
        break;
    case 3:
        if (wdsmc_rpcauth_spnego_server_new(&scfg, &a) == 0)
            feed(a, data, size);
        break;
    case 4:
        if (wdsmc_rpcauth_spnego_client_new(&ccfg, &a) == 0 &&
            wdsmc_rpcauth_step(a, NULL, 0, tok, sizeof(tok), &len) == WDSMC_RPCAUTH_CONTINUE)
            feed(a, data, size);
        break;
    default: {
        struct wdsmc_spnego_token t;
        if (wdsmc_spnego_decode(data, size, &t) == 0) {
            assert(!t.mech_token || (t.mech_token >= data && t.mech_token_len <= size &&
                                     t.mech_token + t.mech_token_len <= data + size));
            assert(!t.mic || (t.mic >= data && t.mic + t.mic_len <= data + size));
            assert(!t.init || t.mech_types);
        }
        break;
    }
    }
    wdsmc_rpcauth_free(a);
    wdsmc_rpcauth_free(b);
    return 0;
}
