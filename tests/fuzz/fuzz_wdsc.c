/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the WDS Control Protocol decoder (MS-WDSC 2.2.1) and
 * the WDSMC_OP_INITIATE / WDS_OP_IMG_ENUMERATE parsers: no crash; whatever
 * parses rebuilds into a packet that parses to the same values.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wdsc.h"
#include "fuzz.h"

static void check_initiate(const struct wdsmc_wdsc_pkt *p)
{
    struct wdsmc_wdsc_initiate_req req, req2;
    struct wdsmc_wdsc_initiate_rep rep, rep2;
    struct wdsmc_wdsc_pkt q;
    uint8_t *buf;
    size_t len;

    if (wdsmc_wdsc_initiate_req_parse(p, &req) == 0) {
        assert(wdsmc_wdsc_initiate_req_build(&req, &buf, &len) == 0);
        assert(wdsmc_wdsc_decode(buf, len, &q) == 0);
        assert(wdsmc_wdsc_initiate_req_parse(&q, &req2) == 0);
        assert(strcmp(req.ns, req2.ns) == 0 && strcmp(req.content, req2.content) == 0 &&
               strcmp(req.client, req2.client) == 0 && req.has_cap == req2.has_cap &&
               req.cap == req2.cap);
        wdsmc_wdsc_pkt_fini(&q);
        free(buf);
    }
    if (wdsmc_wdsc_initiate_rep_parse(p, &rep) == 0) {
        assert(wdsmc_wdsc_initiate_rep_build(&rep, &buf, &len) == 0);
        assert(wdsmc_wdsc_decode(buf, len, &q) == 0);
        assert(wdsmc_wdsc_initiate_rep_parse(&q, &rep2) == 0);
        assert(rep.error == rep2.error && rep.session_id == rep2.session_id &&
               rep.total_blocks == rep2.total_blocks && rep.has_sym_key == rep2.has_sym_key &&
               rep.sym_key.len == rep2.sym_key.len && rep.has_user_sid == rep2.has_user_sid &&
               memcmp(&rep.mc_addr, &rep2.mc_addr, sizeof(rep.mc_addr)) == 0);
        wdsmc_wdsc_pkt_fini(&q);
        free(buf);
    }
}

static void check_enum(const struct wdsmc_wdsc_pkt *p)
{
    struct wdsmc_wdsc_img_enum_req req;
    struct wdsmc_wdsc_img_enum_rep rep, rep2;
    struct wdsmc_wdsc_pkt q;
    uint8_t *buf;
    size_t len;

    (void)wdsmc_wdsc_img_enum_req_parse(p, &req);
    if (wdsmc_wdsc_img_enum_rep_parse(p, &rep) == 0) {
        /* v2 always sends IL.NS, IL.NSCS and the count: a list that was
         * near the size limit may outgrow it. */
        int rc = wdsmc_wdsc_img_enum_rep_build(&rep, &buf, &len);
        assert(rc == 0 || rc == -EMSGSIZE);
        if (rc < 0) {
            wdsmc_wdsc_img_enum_rep_fini(&rep);
            return;
        }
        assert(wdsmc_wdsc_decode(buf, len, &q) == 0);
        assert(wdsmc_wdsc_img_enum_rep_parse(&q, &rep2) == 0);
        assert(rep.n_images == rep2.n_images);
        for (uint32_t i = 0; i < rep.n_images; i++) {
            assert(strcmp(rep.images[i].xml, rep2.images[i].xml) == 0);
            assert(strcmp(rep.images[i].path, rep2.images[i].path) == 0);
            assert(rep.images[i].n_dep == rep2.images[i].n_dep);
        }
        wdsmc_wdsc_img_enum_rep_fini(&rep2);
        wdsmc_wdsc_pkt_fini(&q);
        free(buf);
    }
    wdsmc_wdsc_img_enum_rep_fini(&rep);
}

static int handler(void *user, const struct wdsmc_rpc_call_info *info,
                   const struct wdsmc_wdsc_pkt *req, uint8_t **ret_reply, size_t *ret_len)
{
    struct wdsmc_wdsc_initiate_rep rep = {.error = 1168};
    (void)user;
    (void)info;
    (void)req;
    return wdsmc_wdsc_initiate_rep_build(&rep, ret_reply, ret_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wdsmc_wdsc_pkt p;

    if (wdsmc_wdsc_decode(data, size, &p) == 0) {
        assert(p.n_vars <= WDSMC_WDSC_MAX_VARS);
        for (uint32_t i = 0; i < p.n_vars; i++) {
            assert(p.vars[i].value >= data && p.vars[i].value + p.vars[i].size <= data + size);
            assert(wdsmc_wdsc_find(&p, p.vars[i].name) == &p.vars[i]);
        }
        check_initiate(&p);
        check_enum(&p);
        wdsmc_wdsc_pkt_fini(&p);
    }
    /* The same bytes as the NDR stub of either direction. */
    const uint8_t *pkt;
    size_t len;
    (void)wdsmc_wdsc_rpc_reply(data, size, &pkt, &len);
    struct wdsmc_wdsc_server srv = {.handler = handler};
    struct wdsmc_rpc_call_info info = {.authenticated = true,
                                       .auth_level = WDSMC_RPC_LEVEL_PKT_PRIVACY};
    uint8_t *stub;
    if (wdsmc_wdsc_rpc_dispatch(&srv, &info, data, size, &stub, &len) == 0)
        free(stub);
    return 0;
}
