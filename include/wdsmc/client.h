/* SPDX-License-Identifier: MIT */
/*
 * libwdsmc client sessions: the Linux counterpart of WDS's WdsTransportClient
 * API. One session receives one content of one multicast namespace:
 *
 *   wdsmc_client_new()        create from a request (server, namespace,
 *                             content, cache size, interface)
 *   wdsmc_client_start()      MS-WDSMSI request, then join the MS-WDSMT session
 *   callbacks                 start (content size, block size), receive
 *                             (buffer, length, byte offset), metadata, complete
 *   wdsmc_client_complete_receive()
 *                             flow control: the transport stops delivering
 *                             while the application holds `cache_size` bytes
 *                             it has not completed (the server is told through
 *                             zero-NACKs), and resumes when it completes them
 *   wdsmc_client_cancel()     safe from inside any callback; the session then
 *                             completes with -ECANCELED after sending LEAVE
 *   wdsmc_client_wait()       run the loop until the session completes
 *   wdsmc_client_close()      release (after completion, or it cancels first)
 *   wdsmc_client_status()     state, bytes, percent, rate, master, loss, RTT
 *
 * Sessions run on a caller's libuv loop; every callback runs on that loop's
 * thread. Blocks arrive in the server's order, not in file order (a late
 * joiner gets the tail first), each exactly once.
 */
#ifndef WDSMC_CLIENT_H
#define WDSMC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wdsmc/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct uv_loop_s uv_loop_t;

struct wdsmc_client;

/*
 * How a session is initiated (how the client learns the session's group,
 * port and geometry for a namespace and content):
 *   AUTO  with credentials (user or anonymous): MS-WDSMSI over UDP, briefly
 *         (3 tries 300 ms apart unless msi_tries/msi_interval say otherwise),
 *         then WDSMC_OP_INITIATE over MS-WDSC RPC when UDP got no answer.
 *         Without credentials: UDP only, exactly as before (an MS-WDSC
 *         server refuses INITIATE to unauthenticated callers anyway).
 *   UDP   MS-WDSMSI over UDP only.
 *   RPC   WDSMC_OP_INITIATE over MS-WDSC RPC (TCP, NTLMv2 or SPNEGO at
 *         packet privacy) only.
 * Errors of the RPC path: -EACCES (bad credentials, or access denied),
 * -ECONNREFUSED and other socket errors, -ETIMEDOUT, -WDSMC_ENOCONTENT,
 * -WDSMC_ESERVER, -WDSMC_EBADREPLY, and -ENOTSUP when the server asks for
 * MS-WDSMT packet hashing or signing (SecMode HASH/SIGN), not supported.
 */
enum wdsmc_initiation {
    WDSMC_INITIATION_AUTO = 0,
    WDSMC_INITIATION_UDP = 1,
    WDSMC_INITIATION_RPC = 2,
};

/* Security provider of the RPC binding. */
enum wdsmc_auth {
    WDSMC_AUTH_NTLM = 0,   /* NTLMv2 (RPC_C_AUTHN_WINNT) */
    WDSMC_AUTH_SPNEGO = 1, /* SPNEGO carrying NTLMv2 (RPC_C_AUTHN_GSS_NEGOTIATE) */
};

/* What to receive and how. Strings are copied by wdsmc_client_new(). */
struct wdsmc_client_request {
    const char *server;          /* IPv4 or IPv6 literal of the WDS server */
    uint16_t port;               /* MS-WDSMSI UDP port; 0: 5041 */
    const char *ns;              /* multicast namespace, e.g. "WDS:Default/install.wim/1" */
    const char *content;         /* content name within the namespace */
    size_t cache_size;           /* bytes the application may hold uncompleted; 0: 64 MiB */
    const char *interface;       /* local IPv4 address to receive multicast on; NULL:
                                    the kernel's choice */
    const char *client_name;     /* JOIN ClientName, <= 15 chars; NULL: hostname */
    unsigned inactivity_timeout; /* ms without a packet from the server before
                                    the session fails; 0: 30000 (MS-WDSMT 3.2.1.2) */
    unsigned msi_tries;          /* MS-WDSMSI requests before giving up; 0: 30 */
    unsigned msi_interval;       /* ms between them; 0: 1000 */
    bool multistream;            /* offer WDSMCTP_CAP_MULTISTREAM (may be demoted) */

    /* ---- Session initiation over MS-WDSC RPC (Server 2016+ no longer
     * answer MS-WDSMSI over UDP). Appended: zero keeps the UDP behaviour for
     * callers that give no credentials. ---- */
    enum wdsmc_initiation initiation; /* see enum wdsmc_initiation */
    uint16_t rpc_port;                /* TCP port of the WDS RPC server; 0: 5040 */
    const char *user;                 /* user name (UTF-8), no domain part */
    const char *domain;               /* its domain; NULL: "" */
    const char *password;             /* UTF-8; or nt_hash; copied, wiped on close */
    const uint8_t *nt_hash;           /* 16 bytes (NTOWFv1) instead of password */
    bool anonymous;                   /* bind with the anonymous logon */
    enum wdsmc_auth auth;             /* security provider; default NTLM */
    unsigned rpc_timeout;             /* ms for connect and for the call; 0: 10000 */
};

struct wdsmc_client_callbacks {
    void *ctx;
    /* The MS-WDSMSI reply arrived; the session is about to join. May be
     * NULL. */
    void (*start)(void *ctx, uint64_t content_size, uint32_t block_size);
    /* Content metadata from the initiation (MS-WDSC initiation only; never
     * called for UDP initiation). May be NULL. */
    void (*metadata)(void *ctx, const void *buf, size_t len);
    /* `len` bytes of content at byte `offset` (one block). buf is borrowed
     * for the call. The application now holds `len` bytes of cache until it
     * calls wdsmc_client_complete_receive(), which it may do inside this
     * callback. Required. */
    void (*receive)(void *ctx, const void *buf, size_t len, uint64_t offset);
    /* Exactly once: 0 when every block has been received, or a negative
     * error (see wdsmc_client_status().err). May be NULL. */
    void (*complete)(void *ctx, int err);
};

enum wdsmc_client_state {
    WDSMC_CLIENT_IDLE,       /* created, not started */
    WDSMC_CLIENT_INITIATING, /* MS-WDSMSI request in flight */
    WDSMC_CLIENT_JOINING,    /* JOIN sent, no JOINACK yet */
    WDSMC_CLIENT_RECEIVING,  /* joined */
    WDSMC_CLIENT_LEAVING,    /* LEAVE pending */
    WDSMC_CLIENT_DONE,       /* complete callback has run */
};

struct wdsmc_client_status {
    enum wdsmc_client_state state;
    int err; /* completion code once DONE */
    uint32_t session_id;
    uint64_t content_size;
    uint32_t block_size;
    uint64_t total_blocks;
    uint64_t blocks_received;
    uint64_t bytes_received;  /* content bytes, each block counted once */
    unsigned percent;         /* floor(100 * blocks_received / total_blocks) */
    double rate;              /* content bytes per second, recent average */
    bool master;              /* this client is the session's master client */
    double loss_rate;         /* MS-WDSMT 3.2.5.10 estimate, 0..1 */
    unsigned rtt_ms;          /* master client RTT the server reports (SPM) */
    uint64_t packets_dropped; /* malformed, spoofed or other-session datagrams */
    uint64_t cache_held;      /* bytes held by the application, uncompleted */
};

/*
 * Create a session on `loop`. Nothing is sent until wdsmc_client_start().
 * Returns 0 and *ret, or -EINVAL (bad server address, empty names, bad
 * interface), -ENOMEM.
 */
int wdsmc_client_new(uv_loop_t *loop, const struct wdsmc_client_request *req,
                     const struct wdsmc_client_callbacks *cbs, struct wdsmc_client **ret);

/*
 * Resume: the blocks whose bits are set in `bitmap` (`nbits` bits, bit i of
 * byte i / 8 is block i, least significant bit first) are already held by the
 * application: they are neither delivered again nor reported missing. The
 * block count is known only once initiation has answered, so call this from
 * the start callback. Returns 0, -EINVAL outside the start callback, or
 * -ERANGE when nbits is not the content's block count.
 */
int wdsmc_client_preset(struct wdsmc_client *c, const uint8_t *bitmap, uint64_t nbits);

/*
 * Restrict what is reported missing to blocks [first, first + count) (stream
 * mode: a window ahead of the reader). Blocks outside the window that arrive
 * anyway are dropped without being delivered. count 0 means everything.
 * (A reader that would rather be sent everything ahead of it and keep only
 * what fits sets a large window and refuses the rest with
 * wdsmc_client_reject().)
 */
void wdsmc_client_set_window(struct wdsmc_client *c, uint64_t first, uint64_t count);

/*
 * Call only from inside the receive callback: refuse the block being
 * delivered (the application has no room for it now). It is not counted as
 * received and is reported missing again, so a later round of the server
 * sends it again. Nothing is held, so do not complete its bytes.
 */
void wdsmc_client_reject(struct wdsmc_client *c);

/* Start: send the MS-WDSMSI request. Returns 0 or a negative errno (socket
 * errors). */
int wdsmc_client_start(struct wdsmc_client *c);

/* The application is done with `bytes` of what it was handed. */
void wdsmc_client_complete_receive(struct wdsmc_client *c, size_t bytes);

/* Cancel: LEAVE(cancelled) is sent and the session completes with
 * -ECANCELED. Safe from inside any callback; no-op when already done. */
void wdsmc_client_cancel(struct wdsmc_client *c);

/* Run the loop until the session completes; returns its completion code. */
int wdsmc_client_wait(struct wdsmc_client *c);

/* Release the session. If it is still running it is cancelled first (LEAVE is
 * sent without the random delay). Must not be called from a callback of this
 * session; NULL is fine. The loop must run once more to close the handles. */
void wdsmc_client_close(struct wdsmc_client *c);

/* Snapshot of the session's status. */
void wdsmc_client_status(const struct wdsmc_client *c, struct wdsmc_client_status *ret);

#ifdef __cplusplus
}
#endif

#endif /* WDSMC_CLIENT_H */
