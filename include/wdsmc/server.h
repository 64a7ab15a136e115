/* SPDX-License-Identifier: MIT */
/*
 * libwdsmc server engine: the multicast side of a WDS server.
 *
 * Namespaces hold contents (regular files). A client asks for (namespace,
 * content) over MS-WDSMSI (UDP 5041); the engine answers with a session,
 * creating one on demand, and runs MS-WDSMT + MS-WDSMA for it:
 *
 *   Auto-Cast       the session starts sending when the first client joins
 *                   and ends when no client needs data any more
 *   Scheduled-Cast  clients may join, but nothing is sent until N clients
 *                   have joined, a start time has passed, or
 *                   wdsmc_server_start_namespace() is called
 *
 * The engine exposes per-session and per-client statistics, kicks one client
 * and terminates a session (every client is sent KICK and the session ends,
 * IWdsTransportSession::Terminate). Everything runs on the caller's libuv
 * loop; the engine never prints (see `log`).
 */
#ifndef WDSMC_SERVER_H
#define WDSMC_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wdsmc/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct uv_loop_s uv_loop_t;

struct wdsmc_server;

enum wdsmc_log_level { WDSMC_LOG_ERROR, WDSMC_LOG_WARN, WDSMC_LOG_INFO, WDSMC_LOG_DEBUG };

struct wdsmc_server_config {
    const char *address;          /* IPv4 address sessions and MSI answer on; NULL: 0.0.0.0
                                     (then the reply's SERVER_ADDR is `interface`, or
                                     127.0.0.1 when that is NULL too) */
    const char *interface;        /* IPv4 address of the interface multicast leaves
                                     from; NULL: the kernel's choice */
    uint16_t msi_port;            /* MS-WDSMSI port; 0: 5041 */
    bool msi_disabled;            /* do not listen for MS-WDSMSI over UDP at all */
    bool gso_disabled;            /* one send per datagram, never UDP GSO (which is
                                     used where the kernel and the path allow it) */
    unsigned send_buffer;         /* bytes of kernel send buffer per session socket;
                                     0: 8 MiB. A full one holds the session back
                                     (doc/decisions.md 65) */
    const char *group_first;      /* first multicast group of the pool; NULL: 239.192.48.1 */
    unsigned group_count;         /* groups in the pool; 0: 256 */
    uint16_t port_first;          /* first UDP port of the pool; 0: 64000 */
    unsigned port_count;          /* ports in the pool; 0: 1000 */
    unsigned max_clients;         /* per session; 0: 200 (MS-WDSMT 3.1.1.2), max 200 */
    unsigned client_dead_timeout; /* ms without a QCR before a client is
                                     dropped; 0: 60000 (MS-WDSMT 3.1.1.4) */
    /* Optional log sink; the engine never prints. May be NULL. */
    void (*log)(void *ctx, enum wdsmc_log_level level, const char *msg);
    void *log_ctx;
};

enum wdsmc_cast_mode { WDSMC_CAST_AUTO, WDSMC_CAST_SCHEDULED };

/* What to do about clients that hold a session back. */
enum wdsmc_slow_policy {
    WDSMC_SLOW_NONE,        /* every client gets the same stream */
    WDSMC_SLOW_DISCONNECT,  /* KICK (FALLBACK) clients below min_rate */
    WDSMC_SLOW_MULTISTREAM, /* DEMOTE clients below min_rate to a session
                               running at demote_rate (WDS 2/3-stream) */
};

struct wdsmc_namespace_config {
    enum wdsmc_cast_mode mode;
    unsigned min_clients; /* scheduled: start when this many have joined; 0: no */
    int64_t start_time;   /* scheduled: start at this Unix time (s); 0: no */
    uint32_t block_size;  /* bytes per block, 512..65448; 0: what fits one
                             datagram on the interface's MTU, at most 8192 */
    uint64_t max_rate;    /* bytes/s cap per session; 0: none */
    int ttl;              /* multicast TTL; -1: 1 */
    enum wdsmc_slow_policy slow_policy;
    uint64_t min_rate;    /* bytes/s below which a client counts as slow */
    uint64_t demote_rate; /* multistream: rate cap of the lower session;
                             must be > 0 with WDSMC_SLOW_MULTISTREAM */
};

/* Fill a namespace config with the defaults above. */
void wdsmc_namespace_config_default(struct wdsmc_namespace_config *nc);

enum wdsmc_session_state {
    WDSMC_SESSION_WAITING,  /* no client yet, or scheduled and not started */
    WDSMC_SESSION_QUERYING, /* looking for a master client */
    WDSMC_SESSION_SENDING,  /* sending data */
    WDSMC_SESSION_ENDING,   /* terminating: kicking clients */
};

struct wdsmc_session_info {
    uint32_t id;
    char ns[256];
    char content[256];
    enum wdsmc_session_state state;
    char group[46]; /* multicast group, text */
    uint16_t port;
    unsigned clients;
    uint64_t content_size;
    uint32_t block_size;
    uint64_t bytes_sent; /* ODATA + RDATA payload bytes */
    double rate;         /* bytes/s, recent average */
    uint32_t master_client_id;
    bool lower_stream; /* created for demoted clients */
};

struct wdsmc_client_info {
    uint32_t id;
    char name[64];
    char address[64];         /* "IP:port" */
    unsigned progress;        /* percent, from PROGRESS/CNTCIR */
    uint32_t time_in_session; /* seconds, as the client reports it */
    unsigned rtt_ms;
    double loss_rate; /* 0..1 */
    bool master;
    bool kicked; /* in the kick list, waiting for its LEAVE */
};

/*
 * Create the engine on `loop`. Nothing is bound until wdsmc_server_start().
 * Returns 0 and *ret, -EINVAL for a bad address or pool, -ENOMEM.
 */
int wdsmc_server_new(uv_loop_t *loop, const struct wdsmc_server_config *cfg,
                     struct wdsmc_server **ret);

/* Register a namespace. -EEXIST if the name is taken, -EINVAL for a bad
 * config (block size out of range...). `nc` is copied; NULL: defaults. */
int wdsmc_server_add_namespace(struct wdsmc_server *s, const char *name,
                               const struct wdsmc_namespace_config *nc);

/* Add a content (a regular file) to a namespace. The file is opened
 * read-only when a session for it starts; a file that changes size or is
 * replaced during a session ends that session with an error to its clients.
 * -ENOENT for an unknown namespace, -EEXIST for a duplicate name, -EINVAL
 * when `path` is not a regular file. */
int wdsmc_server_add_content(struct wdsmc_server *s, const char *ns, const char *name,
                             const char *path);

/* Bind the MS-WDSMSI port and start answering. 0 or a negative errno
 * (-EADDRINUSE...). After a failure wdsmc_server_free() may be called at
 * once, except for failures after the socket was bound (rare: -EEXIST from
 * libuv), where a libuv handle is closing: call wdsmc_server_shutdown() and
 * free from its `done`, which is always safe. */
int wdsmc_server_start(struct wdsmc_server *s);

struct wdsmc_msi_request;
struct wdsmc_msi_reply;

/*
 * Answer one session-initiation request without MS-WDSMSI/UDP (for another
 * initiation path, such as MS-WDSC's WDSMC_OP_INITIATE, or with
 * msi_disabled): find the live session of (req->ns, req->content) or create
 * one, exactly as a UDP request would. Both structs are those of
 * wdsmc/codec.h; `req` is borrowed, *ret_reply is written only on success.
 * Returns 0, or the Win32 error an MS-WDSMSI ERROR would carry: 1168 unknown
 * namespace, 2 unknown content (decision 4), 21 not started or shutting
 * down, 170 no session or port left, 5 the file cannot be opened, 31 other.
 * Requires wdsmc_server_start().
 */
uint32_t wdsmc_server_request(struct wdsmc_server *s, const struct wdsmc_msi_request *req,
                              struct wdsmc_msi_reply *ret_reply);

/* Copy up to `cap` session descriptions; returns the number of sessions
 * (which may exceed cap). */
size_t wdsmc_server_sessions(struct wdsmc_server *s, struct wdsmc_session_info *out, size_t cap);

/* Copy up to `cap` client descriptions of a session; returns the count, or
 * -ENOENT for an unknown session. */
int wdsmc_server_clients(struct wdsmc_server *s, uint32_t session_id, struct wdsmc_client_info *out,
                         size_t cap);

/* Kick one client (reason: WDSMC_KICK_POLICY_NOT_MET, _FALLBACK or _FAIL of
 * codec.h). -ENOENT for an unknown session or client. */
int wdsmc_server_kick(struct wdsmc_server *s, uint32_t session_id, uint32_t client_id,
                      uint8_t reason);

/* Terminate a session: every client is sent KICK (FAIL), repeated each
 * KickInterval, until all have left or 30 s have passed; then the session is
 * gone and a later request for the content gets a new session. -ENOENT. */
int wdsmc_server_terminate(struct wdsmc_server *s, uint32_t session_id);

/* Start a Scheduled-Cast namespace's sessions now. When it has none, the
 * next session of the namespace starts as soon as it is created. -ENOENT. */
int wdsmc_server_start_namespace(struct wdsmc_server *s, const char *ns);

/* Terminate every session and stop answering; `done` runs once everything
 * has closed (clients kicked or timed out), from the loop, never from inside
 * this call -- except when the engine was never started, where nothing is
 * open and `done` runs at once. */
void wdsmc_server_shutdown(struct wdsmc_server *s, void (*done)(void *ctx), void *ctx);

/* Free the engine. Call after shutdown's `done` (or before start). NULL ok. */
void wdsmc_server_free(struct wdsmc_server *s);

#ifdef __cplusplus
}
#endif

#endif /* WDSMC_SERVER_H */
