/* SPDX-License-Identifier: MIT */
/*
 * wdsmcd's MS-WDSC listener (DCE/RPC over TCP, port 5040 by default): the
 * WdsRpcMessage services of a WDS server that a multicast server can offer,
 *
 *   WDSMC_OP_INITIATE (MS-WDSMSI 3.1.5.2)  answered by wdsmc_server_request(),
 *                                          exactly as a UDP request would be
 *   WDS_OP_IMG_ENUMERATE (MS-WDSOSD 2.2.6) every content of every namespace
 *                                          as one OS image (see below)
 *
 * and the user database the NTLM/SPNEGO providers check callers against (the
 * users file, users.h), re-read whenever it changes. Callers that are not
 * authenticated, or the anonymous logon, get Win32 error 5 for both opcodes
 * (MS-WDSC 3.1.4.1) unless allow_anonymous is set; other opcodes get 50.
 *
 * Images: content C of namespace N is listed as
 *   NAMESPACE_i = N, PATH_i = RESOURCEFILEPATH_i = "\N\C" with '/' turned
 *   into '\', GROUP_i = N's group, INDEX_i = N's index, NAMESPACE_SIZE_i = the
 *   file's size, XML_i = a minimal <IMAGE> with NAME = C;
 * where a namespace named like Windows' "WDS:GROUP/FILE/INDEX" gives GROUP
 * and INDEX, and any other name gives group N and index 1. A client asks for
 * the image with WDSMC_OP_INITIATE (Namespace = NAMESPACE_i, Content = the
 * last '\' component of PATH_i). Clients announcing SUPPORT_V2 in CC get the
 * v2 format (IL.*). At most WDSMC_WDSC_MAX_IMAGES images are listed.
 */
#ifndef WDSMCD_RPC_H
#define WDSMCD_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "wdsmc/server.h"

struct wdsmc_rpc_call_info;
struct wdsmc_wdsc_pkt;
typedef struct uv_loop_s uv_loop_t;

struct wdsmcd_rpc_cfg {
    uv_loop_t *loop;
    struct wdsmc_server *server; /* started before wdsmcd_rpc_start() */
    const struct wdsmcd_config *cfg;
    /* contents[i] lists namespace cfg->ns[i]; borrowed like cfg. */
    struct wdsmcd_content *const *contents;
    const size_t *n_contents;
    void (*log)(void *ctx, enum wdsmc_log_level level, const char *msg);
    void *log_ctx;
};

struct wdsmcd_rpc;

/*
 * Create the listener's state and load cfg->users_file when set (exit status
 * 2 material: a missing, unsafe or malformed file is -errno with a message in
 * err). Nothing is bound yet. cfg and what it points to are borrowed.
 */
int wdsmcd_rpc_new(const struct wdsmcd_rpc_cfg *cfg, struct wdsmcd_rpc **ret, char *err,
                   size_t errcap);

/* Listen on rpc_address (or address, or 0.0.0.0) : rpc_port. 0, or a
 * negative errno with a message in err (-EADDRINUSE...). */
int wdsmcd_rpc_start(struct wdsmcd_rpc *r, char *err, size_t errcap);

/* The TCP port listened on, 0 before start. */
uint16_t wdsmcd_rpc_port(const struct wdsmcd_rpc *r);

/* Stop listening and drop every connection; the libuv handles close on the
 * next loop iterations. Idempotent. */
void wdsmcd_rpc_stop(struct wdsmcd_rpc *r);

/* Free; call after wdsmcd_rpc_stop() and a loop run. NULL is fine. */
void wdsmcd_rpc_free(struct wdsmcd_rpc *r);

/* The pieces, exposed for unit tests: the user lookup of the NTLM providers
 * (a wdsmc_rpcauth_lookup_fn, ctx a struct wdsmcd_rpc) and the MS-WDSC
 * request handler (a wdsmc_wdsc_handler_fn). */
int wdsmcd_rpc_lookup(void *ctx, const char *user, const char *domain, uint8_t ret_nt_hash[16]);
int wdsmcd_rpc_handle(void *ctx, const struct wdsmc_rpc_call_info *info,
                      const struct wdsmc_wdsc_pkt *req, uint8_t **ret_reply, size_t *ret_len);

#endif /* WDSMCD_RPC_H */
