/* SPDX-License-Identifier: MIT */
/*
 * wdsmcd control socket: a Unix stream socket on the daemon's libuv loop that
 * wdsctl(8) talks to. Framing only: one request per line in, one response
 * per line out (doc/control-protocol.md). What a request means is up to the
 * handler (commands.c).
 *
 * Limits: a request line longer than max_request bytes gets an error
 * response and the connection is closed; at most max_conns connections are
 * served at once (one more is told "busy" and closed); a connection idle for
 * idle_ms is closed; a peer that does not read its responses is dropped once
 * max_pending bytes wait to be written.
 */
#ifndef WDSMCD_CONTROL_H
#define WDSMCD_CONTROL_H

#include <stddef.h>
#include <sys/types.h>
#include <uv.h>

struct wdsmcd_control;

/* Answer one request line (without its newline; NUL-terminated, `len`
 * bytes). Return a heap string without a newline, which the control socket
 * frees, or NULL (out of memory: the connection gets an "internal" error). */
typedef char *(*wdsmcd_control_handler)(void *ctx, const char *line, size_t len);

struct wdsmcd_control_limits {
    size_t max_request; /* bytes per line, newline included; 0: 4096 */
    unsigned max_conns; /* 0: 16 */
    unsigned idle_ms;   /* 0: 300000 */
    size_t max_pending; /* bytes of unsent responses per connection; 0: 16 MiB */
};

/*
 * Listen on `path` with permissions `mode`. An existing socket at `path` that
 * accepts connections is another daemon's: -EADDRINUSE. A stale one (refusing
 * connections) is removed. Anything else at `path`: -EEXIST. The socket is
 * created with `mode` from the start (no window with wider permissions).
 * `limits` may be NULL. On failure err holds "SOCKET: problem".
 */
int wdsmcd_control_new(uv_loop_t *loop, const char *path, mode_t mode,
                       const struct wdsmcd_control_limits *limits, wdsmcd_control_handler handler,
                       void *ctx, struct wdsmcd_control **ret, char *err, size_t errcap);

/* Number of connections open now. */
unsigned wdsmcd_control_connections(const struct wdsmcd_control *c);

/*
 * Stop listening, remove the socket file, close every connection (pending
 * responses are dropped), and free `c` once libuv has closed every handle;
 * then `done` runs if not NULL. NULL c is fine (done is not called).
 */
void wdsmcd_control_close(struct wdsmcd_control *c, void (*done)(void *ctx), void *ctx);

#endif /* WDSMCD_CONTROL_H */
