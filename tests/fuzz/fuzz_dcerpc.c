/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the DCE/RPC PDU decoder, the WdsRpcMessage NDR stub
 * decoders and the association state machines: no crash; a decoded PDU
 * re-encodes to bytes that decode to the same values; a server and a
 * binding client swallow any byte stream without misbehaving.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "dcerpc.h"
#include "ndr.h"
#include "rpc_assoc.h"
#include "fuzz.h"

static uint8_t out[WDSMC_DCERPC_MAX_FRAG + 64];

static int echo(void *user, const struct wdsmc_rpc_call_info *info, const uint8_t *stub, size_t len,
                uint8_t **ret_stub, size_t *ret_len)
{
    (void)user;
    (void)info;
    if (len == 0)
        return -EBADMSG;
    *ret_stub = malloc(len);
    if (!*ret_stub)
        return -ENOMEM;
    memcpy(*ret_stub, stub, len);
    *ret_len = len;
    return 0;
}

static void check_reencode(const struct wdsmc_dcerpc_pdu *p)
{
    struct wdsmc_dcerpc_pdu e = *p, q;

    ssize_t n = wdsmc_dcerpc_encode(&e, out, sizeof(out));
    /* Recomputed auth padding can push a full-size PDU over 65535. */
    if (n == -EINVAL)
        return;
    assert(n > 0);
    assert(wdsmc_dcerpc_decode(out, (size_t)n, &q) == 0);
    assert(q.ptype == p->ptype && q.pfc_flags == p->pfc_flags && q.call_id == p->call_id);
    assert(q.has_auth == p->has_auth);
    if (p->has_auth)
        assert(q.auth.token_len == p->auth.token_len &&
               memcmp(q.auth.token, p->auth.token, p->auth.token_len) == 0 &&
               q.auth.context_id == p->auth.context_id);
    switch (p->ptype) {
    case WDSMC_DCERPC_REQUEST:
    case WDSMC_DCERPC_RESPONSE:
        assert(q.stub_len == p->stub_len && memcmp(q.stub, p->stub, p->stub_len) == 0);
        break;
    case WDSMC_DCERPC_BIND:
    case WDSMC_DCERPC_ALTER_CONTEXT:
        assert(q.u.bind.n_ctx == p->u.bind.n_ctx &&
               memcmp(q.u.bind.ctx, p->u.bind.ctx, sizeof(p->u.bind.ctx[0]) * p->u.bind.n_ctx) ==
                       0);
        break;
    case WDSMC_DCERPC_BIND_ACK:
    case WDSMC_DCERPC_ALTER_CONTEXT_RESP:
        assert(q.u.ack.n_results == p->u.ack.n_results &&
               q.u.ack.sec_addr_len == p->u.ack.sec_addr_len);
        break;
    case WDSMC_DCERPC_FAULT:
        assert(q.u.fault.status == p->u.fault.status);
        break;
    case WDSMC_DCERPC_BIND_NAK:
        assert(q.u.nak.reason == p->u.nak.reason && q.u.nak.n_versions == p->u.nak.n_versions);
        break;
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wdsmc_dcerpc_pdu p;
    const uint8_t *pkt;
    size_t len;
    uint32_t status;

    if (wdsmc_dcerpc_decode(data, size, &p) == 0)
        check_reencode(&p);
    if (wdsmc_ndr_wdsrpc_req_decode(data, size, &pkt, &len) == 0)
        assert(pkt + len <= data + size);
    if (wdsmc_ndr_wdsrpc_rep_decode(data, size, &pkt, &len, &status) == 0)
        assert(!pkt || pkt + len <= data + size);

    /* A server fed the input as a stream, in two pieces. */
    struct wdsmc_rpc_server *s;
    struct wdsmc_rpc_server_cfg scfg = {
            .iface = WDSMC_DCERPC_WDSC_IF_INIT, .max_stub = 65536, .dispatch = echo};
    if (wdsmc_rpc_server_new(&scfg, &s) == 0) {
        size_t half = size / 2;
        if (wdsmc_rpc_server_input(s, data, half) == 0)
            wdsmc_rpc_server_input(s, data + half, size - half);
        const uint8_t *d;
        size_t n = wdsmc_rpc_server_pending(s, &d);
        wdsmc_rpc_server_consume(s, n);
        wdsmc_rpc_server_free(s);
    }
    /* A client that has sent its bind, fed the input as the server's. */
    struct wdsmc_rpc_client *c;
    struct wdsmc_rpc_client_cfg ccfg = {.iface = WDSMC_DCERPC_WDSC_IF_INIT, .max_stub = 65536};
    if (wdsmc_rpc_client_new(&ccfg, &c) == 0) {
        if (wdsmc_rpc_client_bind(c) == 0 && wdsmc_rpc_client_input(c, data, size) == 0 &&
            wdsmc_rpc_client_state(c) == WDSMC_RPC_CLIENT_READY &&
            wdsmc_rpc_client_call(c, 0, data, size < 100 ? size : 100) == 0) {
            uint8_t *stub;
            /* Bytes after a complete bind_ack play the response. */
            wdsmc_rpc_client_input(c, data, size);
            if (wdsmc_rpc_client_take_result(c, &stub, &len) == 0)
                free(stub);
        }
        wdsmc_rpc_client_free(c);
    }
    return 0;
}
