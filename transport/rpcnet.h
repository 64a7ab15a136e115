/* SPDX-License-Identifier: MIT */
/*
 * DCE/RPC over TCP for the WDS Control Protocol (MS-WDSC) on libuv
 * (internal): the I/O glue around the sans-I/O association machines of
 * rpc_assoc.h, the authentication providers of rpcauth.h (ntlm.h, spnego.h)
 * and the WdsRpcMessage stub helpers of wdsc.h. With uvnet.c and the session
 * glue, the only code that includes uv.h.
 *
 * Both halves exchange MS-WDSC *packets* (the bytes of MS-WDSC 2.2.1: endpoint
 * header, operation header, variables), not NDR stubs: rpcnet wraps them in
 * the WdsRpcMessage [in]/[out] stub (wdsmc_wdsc_rpc_request/_reply) on the
 * client and unwraps them (wdsmc_wdsc_rpc_dispatch) on the server.
 *
 * ---------------------------------------------------------------------------
 * Client half
 * ---------------------------------------------------------------------------
 *
 *   wdsmc_rpcnet_client_new(loop, cfg)     copy the config; nothing is sent
 *   wdsmc_rpcnet_client_connect(cb)        TCP connect to host:port (default
 *                                          5040), bind WdsRpcInterface, run
 *                                          the auth legs (NTLM: bind/auth3,
 *                                          SPNEGO: bind/alter_context) at
 *                                          PKT_PRIVACY; cb(ctx, 0) once READY
 *   wdsmc_rpcnet_client_call(pkt, cb)      one WdsRpcMessage call; cb gets the
 *                                          reply packet (borrowed for the
 *                                          call) or a negative errno
 *   wdsmc_rpcnet_client_close()            close the connection; no callback
 *                                          runs after it; memory is released
 *                                          from the libuv close callback (the
 *                                          loop must run once more)
 *
 * One call at a time (MS-WDSC clients are synchronous); a second call while
 * one is outstanding is -EBUSY. Each of connect and call has its own timeout;
 * a timeout, a dropped connection or a protocol error fails the operation
 * AND the connection (every later call returns -ENOTCONN): close and
 * reconnect. Every callback runs on the loop's thread, never from inside the
 * function that started the operation.
 *
 * Errors reported to callbacks: -ETIMEDOUT, -ECONNREFUSED and other socket
 * errors (negative errno, as libuv gives them), -ECONNRESET (peer closed
 * mid-operation), -EACCES (bind_nak / fault for bad credentials or anonymous
 * refused: MS-RPCE maps both to "access denied"), -EPROTONOSUPPORT
 * (interface or NDR not accepted), -EPROTO / -WDSMC_E* (malformed or out of
 * sequence PDUs), the WdsRpcMessage return value mapped by
 * wdsmc_wdsc_status_to_errno() (so -EACCES again for a call the server does
 * not allow the caller), -EMSGSIZE (reply over max_reply).
 *
 * ---------------------------------------------------------------------------
 * Server half (wdsmcd's RPC listener)
 * ---------------------------------------------------------------------------
 *
 *   wdsmc_rpcnet_server_new(loop, cfg)     bind + listen on addr:port now
 *                                          (port 0: an ephemeral port, see
 *                                          wdsmc_rpcnet_server_port); every
 *                                          accepted connection gets its own
 *                                          rpc_assoc server machine
 *   per connection                         bind with auth_type 10 (NTLM) or
 *                                          9 (SPNEGO, wrapping NTLM): a fresh
 *                                          provider is made from cfg->auth
 *                                          (user lookup, allow_anonymous,
 *                                          NetBIOS/DNS names); unauthenticated
 *                                          binds are accepted at the RPC layer
 *                                          and wdsmc_wdsc_access() then
 *                                          refuses the opcodes that need a
 *                                          caller (MS-WDSC 3.1.4.1)
 *   cfg->handler(info, pkt)                a decoded, access-checked MS-WDSC
 *                                          request packet plus who sent it
 *                                          (info->user, ->anonymous,
 *                                          ->auth_level); return a reply
 *                                          packet (malloc'd, rpcnet frees it)
 *                                          or a negative errno (sent as the
 *                                          WdsRpcMessage return value)
 *   wdsmc_rpcnet_server_close()            stop listening, drop every
 *                                          connection; released from the
 *                                          close callbacks
 *
 * The handler runs synchronously on the loop thread, so it may call into a
 * struct wdsmc_server on the same loop (wdsmc_server_request()).
 *
 * Limits on what peers control: max_connections (further connections are
 * accepted and closed at once), idle_timeout_ms (a connection with no
 * complete PDU exchange for that long is closed, including one stuck half
 * way through a PDU), max_stub (a reassembled request over it gets fault 5),
 * max_output (a peer that does not read its replies is dropped once this many
 * bytes are queued for it).
 */
#ifndef WDSMC_RPCNET_H
#define WDSMC_RPCNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "rpc_assoc.h"
#include "rpcauth.h"
#include "wdsc.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WDSMC_RPCNET_DEFAULT_CONNECT_TIMEOUT 10000 /* ms */
#define WDSMC_RPCNET_DEFAULT_CALL_TIMEOUT    30000 /* ms */
#define WDSMC_RPCNET_DEFAULT_MAX_CONNECTIONS 64
#define WDSMC_RPCNET_DEFAULT_IDLE_TIMEOUT    60000 /* ms */
#define WDSMC_RPCNET_DEFAULT_MAX_OUTPUT      (4u << 20)

/* Which security provider the client binds with. */
enum wdsmc_rpcnet_auth {
    WDSMC_RPCNET_AUTH_NTLM,   /* auth_type 10, RPC_C_AUTHN_WINNT (default) */
    WDSMC_RPCNET_AUTH_SPNEGO, /* auth_type 9, RPC_C_AUTHN_GSS_NEGOTIATE */
    WDSMC_RPCNET_AUTH_NONE,   /* no security context (RPC_C_AUTHN_LEVEL_NONE) */
};

/* ======================================================================== */
/* Client                                                                    */
/* ======================================================================== */

struct wdsmc_rpcnet_client_cfg {
    const char *host; /* IPv4 or IPv6 literal of the server (copied) */
    uint16_t port;    /* 0: 5040 (WDSMC_DCERPC_WDS_PORT) */
    enum wdsmc_rpcnet_auth auth;
    /* Credentials for NTLM/SPNEGO. cred.user NULL or "" with no password and
     * no nt_hash: the anonymous logon. The provider is created at connect
     * time, so the strings are borrowed until wdsmc_rpcnet_client_connect()
     * returns. */
    struct wdsmc_rpcauth_client_cfg cred;
    unsigned connect_timeout_ms; /* TCP + bind + auth; 0: 10000 */
    unsigned call_timeout_ms;    /* per call; 0: 30000 */
    size_t max_reply;            /* reassembled reply stub cap; 0: WDSMC_RPC_MAX_STUB */
};

struct wdsmc_rpcnet_client;

/* err 0: bound and authenticated; else see the top of this file. */
typedef void (*wdsmc_rpcnet_connect_cb)(void *ctx, int err);
/* err 0: pkt[0..len) is the MS-WDSC reply packet (borrowed for the call; it
 * is not decoded here). Else pkt is NULL. */
typedef void (*wdsmc_rpcnet_call_cb)(void *ctx, int err, const uint8_t *pkt, size_t len);

/* Create a client on loop; cfg->host is copied. -EINVAL for a bad host or
 * cfg, -ENOMEM. */
int wdsmc_rpcnet_client_new(uv_loop_t *loop, const struct wdsmc_rpcnet_client_cfg *cfg,
                            struct wdsmc_rpcnet_client **ret);

/* Connect, bind and authenticate; cb runs exactly once (unless the client is
 * closed first). 0, -EALREADY when called twice, -ENOMEM, provider errors
 * (bad credentials config: -EINVAL). */
int wdsmc_rpcnet_client_connect(struct wdsmc_rpcnet_client *c, wdsmc_rpcnet_connect_cb cb,
                                void *ctx);

/* Send one MS-WDSC packet (copied) with WdsRpcMessage; cb runs exactly once
 * (unless the client is closed first). 0, -ENOTCONN before a successful
 * connect or after a failure, -EBUSY while a call is outstanding, -EMSGSIZE,
 * -ENOMEM. */
int wdsmc_rpcnet_client_call(struct wdsmc_rpcnet_client *c, const uint8_t *pkt, size_t len,
                             wdsmc_rpcnet_call_cb cb, void *ctx);

/* Close: pending operations are dropped without their callbacks. Safe from
 * inside this client's callbacks; NULL is fine. */
void wdsmc_rpcnet_client_close(struct wdsmc_rpcnet_client *c);

/* After a successful connect: what the server's provider agreed (borrowed
 * strings, valid until close). -ENOTCONN otherwise. */
int wdsmc_rpcnet_client_auth_info(struct wdsmc_rpcnet_client *c, struct wdsmc_rpcauth_info *ret);

/* ======================================================================== */
/* Server                                                                    */
/* ======================================================================== */

struct wdsmc_rpcnet_server_cfg {
    const char *addr; /* IP literal to listen on; NULL: "0.0.0.0" */
    uint16_t port;    /* TCP port; 0: ephemeral (pass WDSMC_DCERPC_WDS_PORT
                         for the standard 5040) */
    /* Provider template for NTLM and SPNEGO: user lookup, allow_anonymous,
     * names (nb_computer NULL: this host's name, upper-cased). The strings
     * and lookup_ctx are borrowed for the server's lifetime. */
    struct wdsmc_rpcauth_server_cfg auth;
    bool no_ntlm;   /* refuse auth_type 10 (bind_nak) */
    bool no_spnego; /* refuse auth_type 9 */
    /* The MS-WDSC request handler (wdsc.h): decoded, access-checked
     * request; reply packet or negative errno. Required unless dispatch is
     * set. */
    wdsmc_wdsc_handler_fn handler;
    void *handler_ctx;
    /* Raw alternative for tests: the NDR stub dispatcher itself
     * (rpc_assoc.h); when set, handler is ignored. */
    wdsmc_rpc_dispatch_fn dispatch;
    void *dispatch_ctx;
    unsigned max_connections; /* 0: 64 */
    unsigned idle_timeout_ms; /* 0: 60000 */
    size_t max_stub;          /* 0: WDSMC_RPC_MAX_STUB */
    size_t max_output;        /* 0: 4 MiB */
    /* Optional log sink (level as wdsmc/server.h's enum wdsmc_log_level
     * values: 0 error, 1 warning, 2 info, 3 debug). */
    void (*log)(void *ctx, int level, const char *msg);
    void *log_ctx;
};

struct wdsmc_rpcnet_server;

struct wdsmc_rpcnet_server_stats {
    unsigned connections; /* open now */
    uint64_t accepted;    /* since start */
    uint64_t refused;     /* over max_connections */
    uint64_t calls;       /* dispatched requests */
    uint64_t auth_failed; /* connections closed after a failed context */
    uint64_t idle_closed; /* connections closed by the idle timeout */
};

/* Create, bind and listen. -EINVAL (bad cfg/address), -EADDRINUSE and other
 * socket errors, -ENOMEM. */
int wdsmc_rpcnet_server_new(uv_loop_t *loop, const struct wdsmc_rpcnet_server_cfg *cfg,
                            struct wdsmc_rpcnet_server **ret);

/* The port actually listened on (useful with port 0). */
uint16_t wdsmc_rpcnet_server_port(const struct wdsmc_rpcnet_server *s);

void wdsmc_rpcnet_server_stats(const struct wdsmc_rpcnet_server *s,
                               struct wdsmc_rpcnet_server_stats *ret);

/* Stop listening and close every connection; released once the loop has
 * run the close callbacks. NULL is fine. Not from inside handler. */
void wdsmc_rpcnet_server_close(struct wdsmc_rpcnet_server *s);

#ifdef __cplusplus
}
#endif

#endif /* WDSMC_RPCNET_H */
