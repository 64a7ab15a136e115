/* SPDX-License-Identifier: MIT */
/*
 * Connection-oriented DCE/RPC association state machines, client and server
 * (C706 chapter 11 CO_CLIENT/CO_SERVER, MS-RPCE 3.3.2 and 3.3.3), for one
 * interface over one TCP connection, NDR 2.0 only.
 *
 * Sans-I/O: bytes received are pushed in with _input() in chunks of any
 * size; bytes to send accumulate in an output queue read with _pending()
 * and released with _consume(). Nothing here reads a clock, the caller runs
 * its own timeouts (MS-WDSC 3.2.2).
 *
 * Authentication plugs in through struct wdsmc_rpcauth (rpcauth.h). The
 * association lays out the bytes and calls the provider in this order
 * (MS-RPCE 2.2.2.11, 3.3.1.5.2):
 *
 *   send, PKT_PRIVACY:   encode the PDU with the stub, zero auth padding to
 *     a 16-byte boundary, the sec_trailer and a zeroed 16-byte token, with
 *     frag_length and auth_length final; then seal(data = stub + padding,
 *     sign_region = PDU[0 .. end of sec_trailer], sig -> the token).
 *   send, PKT_INTEGRITY (and PKT, CALL): sign(PDU[0 .. end of sec_trailer]).
 *   receive: copy the fragment to a private buffer, unseal (decrypts the
 *     stub + padding in place, then checks the token over the same region)
 *     or verify, then strip the padding and append the stub.
 *   CONNECT: no per-message protection; requests may omit the trailer.
 *
 * Context legs: bind/bind_ack, then for a provider that is DONE with a last
 * token and odd-legged (NTLM, auth_type 10) rpc_auth3 with no reply; for
 * any other (SPNEGO) alter_context/alter_context_resp until DONE.
 */
#ifndef WDSMC_RPC_ASSOC_H
#define WDSMC_RPC_ASSOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dcerpc.h"
#include "rpcauth.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Hard cap on a reassembled request or response stub, either side. */
#define WDSMC_RPC_MAX_STUB (1024u * 1024u)
/* Context legs (bind + alter_contexts) before the exchange is refused. */
#define WDSMC_RPC_MAX_LEGS 8

/* ======================================================================== */
/* Client                                                                    */
/* ======================================================================== */

struct wdsmc_rpc_client_cfg {
    /* Interface to bind; NDR 2.0 is the only transfer syntax proposed. */
    struct wdsmc_dcerpc_syntax iface;
    /* Proposed fragment sizes; 0 means WDSMC_DCERPC_DEFAULT_FRAG. At least
     * WDSMC_DCERPC_MIN_FRAG. */
    uint16_t max_xmit_frag;
    uint16_t max_recv_frag;
    /* Cap on a reassembled response; 0 means WDSMC_RPC_MAX_STUB. */
    size_t max_stub;
    /* NULL: unauthenticated (RPC_C_AUTHN_LEVEL_NONE). Otherwise borrowed
     * for the lifetime of the client, which drives it from its first
     * step(). */
    struct wdsmc_rpcauth *auth;
    /* WDSMC_RPC_LEVEL_CONNECT .. _PKT_PRIVACY when auth is set. */
    uint8_t auth_level;
    uint32_t auth_context_id;
};

enum wdsmc_rpc_client_state {
    WDSMC_RPC_CLIENT_IDLE,     /* before wdsmc_rpc_client_bind() */
    WDSMC_RPC_CLIENT_BINDING,  /* bind sent, waiting for bind_ack */
    WDSMC_RPC_CLIENT_ALTERING, /* alter_context sent, waiting for its resp */
    WDSMC_RPC_CLIENT_READY,    /* bound (and authenticated): may call */
    WDSMC_RPC_CLIENT_CALLING,  /* request sent, response not complete */
    WDSMC_RPC_CLIENT_DONE,     /* response or fault ready for _take_result */
    WDSMC_RPC_CLIENT_FAILED,   /* association unusable; see _error() */
};

struct wdsmc_rpc_client;

/* Allocate a client; cfg is copied. -EINVAL for a bad cfg, -ENOMEM. */
int wdsmc_rpc_client_new(const struct wdsmc_rpc_client_cfg *cfg, struct wdsmc_rpc_client **ret);

/* Free a client and what it owns; NULL is fine. The auth provider is the
 * caller's. */
void wdsmc_rpc_client_free(struct wdsmc_rpc_client *c);

/* Queue the bind PDU (with the provider's first token). IDLE only, else
 * -EINVAL; errors of the provider's first step are returned and fail the
 * client. */
int wdsmc_rpc_client_bind(struct wdsmc_rpc_client *c);

/*
 * Feed received bytes. Returns 0, or a negative errno that also moves the
 * client to FAILED (the connection should be closed): -EPROTO for a PDU out
 * of sequence, -WDSMC_E* for a malformed one, the bind_nak mapping of
 * wdsmc_dcerpc_nak_to_errno(), -EPROTONOSUPPORT when the interface or NDR
 * was not accepted, -EMSGSIZE for a response over max_stub, the provider's
 * error for a failed leg, unseal or verify.
 */
int wdsmc_rpc_client_input(struct wdsmc_rpc_client *c, const uint8_t *data, size_t len);

/*
 * Queue a call of opnum with stub[0..len) (copied), fragmented to the
 * negotiated max_xmit_frag. READY only, else -EINVAL; -EMSGSIZE over
 * max_stub, -ENOMEM, provider errors (which fail the client).
 */
int wdsmc_rpc_client_call(struct wdsmc_rpc_client *c, uint16_t opnum, const uint8_t *stub,
                          size_t len);

/*
 * In DONE: hand over the response stub (*ret_stub malloc'd, the caller frees
 * it; NULL for an empty stub) and return 0, or return the fault's mapping of
 * wdsmc_dcerpc_fault_to_errno() with *ret_stub NULL; either way the client
 * goes back to READY. -EAGAIN while CALLING; -EINVAL in other states.
 */
int wdsmc_rpc_client_take_result(struct wdsmc_rpc_client *c, uint8_t **ret_stub, size_t *ret_len);

enum wdsmc_rpc_client_state wdsmc_rpc_client_state(const struct wdsmc_rpc_client *c);

/* The error that moved the client to FAILED, else 0. */
int wdsmc_rpc_client_error(const struct wdsmc_rpc_client *c);

/* Bytes waiting to be sent: returns their count and points *ret at them
 * (valid until the next call on c). */
size_t wdsmc_rpc_client_pending(const struct wdsmc_rpc_client *c, const uint8_t **ret);

/* Drop the first n pending bytes (n <= pending). */
void wdsmc_rpc_client_consume(struct wdsmc_rpc_client *c, size_t n);

/* The negotiated fragment sizes (valid from READY on). */
uint16_t wdsmc_rpc_client_max_xmit(const struct wdsmc_rpc_client *c);
uint16_t wdsmc_rpc_client_max_recv(const struct wdsmc_rpc_client *c);

/* ======================================================================== */
/* Server                                                                    */
/* ======================================================================== */

/* What the server knows about the caller of one request. */
struct wdsmc_rpc_call_info {
    uint32_t call_id;
    uint16_t opnum;
    /* A security context was completed on the connection and the request
     * carried (and passed) its protection. */
    bool authenticated;
    bool anonymous;     /* ... but as the anonymous logon */
    uint8_t auth_type;  /* 0 when not authenticated */
    uint8_t auth_level; /* WDSMC_RPC_LEVEL_NONE when not authenticated */
    const char *user;   /* UTF-8, borrowed for the callback; NULL if none */
};

/*
 * Serve one call: stub[0..len) is the reassembled (and unsealed) request
 * stub for the server's interface, opnum 0 (others are answered with
 * nca_s_op_rng_error before this is called). Return 0 with *ret_stub
 * malloc'd (the server frees it) or NULL/0, or a negative errno that is sent
 * as a fault with wdsmc_dcerpc_errno_to_fault() (-EACCES: access denied, 5).
 */
typedef int (*wdsmc_rpc_dispatch_fn)(void *user, const struct wdsmc_rpc_call_info *info,
                                     const uint8_t *stub, size_t len, uint8_t **ret_stub,
                                     size_t *ret_len);

/*
 * Create a server-side provider for auth_type (one per connection; the
 * server frees it with wdsmc_rpcauth_free). Return 0, or a negative errno
 * for a type not offered, which is answered with bind_nak
 * authentication_type_not_recognized (MS-RPCE 3.3.3.5.3).
 */
typedef int (*wdsmc_rpc_auth_new_fn)(void *user, uint8_t auth_type, struct wdsmc_rpcauth **ret);

struct wdsmc_rpc_server_cfg {
    struct wdsmc_dcerpc_syntax iface;
    /* Largest fragments this side sends and receives; 0 means
     * WDSMC_DCERPC_DEFAULT_FRAG. At least WDSMC_DCERPC_MIN_FRAG. */
    uint16_t max_xmit_frag;
    uint16_t max_recv_frag;
    /* Cap on a reassembled request; 0 means WDSMC_RPC_MAX_STUB. Over it the
     * call is refused with fault 5 (MS-RPCE 3.3.3.5.4). */
    size_t max_stub;
    /* assoc_group_id given to a client that asks for a new group. */
    uint32_t assoc_group_id;
    /* Secondary address in bind_ack (the port as text, "5040"), or NULL. */
    const char *sec_addr;
    wdsmc_rpc_dispatch_fn dispatch;
    /* NULL: authentication is refused (bind_nak 8). */
    wdsmc_rpc_auth_new_fn auth_new;
    void *user;
};

struct wdsmc_rpc_server;

int wdsmc_rpc_server_new(const struct wdsmc_rpc_server_cfg *cfg, struct wdsmc_rpc_server **ret);
void wdsmc_rpc_server_free(struct wdsmc_rpc_server *s);

/*
 * Feed received bytes; replies are queued (see _pending). Returns 0, or a
 * negative errno after which the connection must be closed once the pending
 * bytes (a bind_nak or fault, if any) are sent: -EPROTONOSUPPORT (version,
 * drep), -EPROTO (PDU out of sequence), -WDSMC_E* (malformed PDU),
 * -EACCES (a protected request failed its check), -ENOMEM.
 */
int wdsmc_rpc_server_input(struct wdsmc_rpc_server *s, const uint8_t *data, size_t len);

size_t wdsmc_rpc_server_pending(const struct wdsmc_rpc_server *s, const uint8_t **ret);
void wdsmc_rpc_server_consume(struct wdsmc_rpc_server *s, size_t n);

/* Whether a security context has been completed on this connection. */
bool wdsmc_rpc_server_authenticated(const struct wdsmc_rpc_server *s);

#ifdef __cplusplus
}
#endif

#endif /* WDSMC_RPC_ASSOC_H */
