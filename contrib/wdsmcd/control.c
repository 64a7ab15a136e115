/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"

#define ERRF(...) snprintf(err, errcap, __VA_ARGS__)

struct conn {
    struct wdsmcd_control *ctl;
    struct conn *prev, *next;
    uv_pipe_t pipe;
    uv_timer_t idle;
    char *buf; /* max_request bytes: the unfinished request line */
    size_t len;
    unsigned writes;       /* uv_write requests in flight */
    unsigned open_handles; /* pipe and idle until their close callbacks */
    bool closing;
    bool close_after_write; /* peer sent EOF, or we sent a final error */
};

struct wdsmcd_control {
    uv_loop_t *loop;
    uv_pipe_t listen;
    char *path;
    dev_t dev;
    ino_t ino;
    struct wdsmcd_control_limits lim;
    wdsmcd_control_handler handler;
    void *ctx;
    struct conn *conns;
    unsigned n_conns;
    bool closing;
    bool listen_open;
    void (*done)(void *ctx);
    void *done_ctx;
};

struct write_req {
    uv_write_t req;
    struct conn *conn;
    char data[];
};

static void maybe_free_control(struct wdsmcd_control *c)
{
    if (!c->closing || c->listen_open || c->conns)
        return;
    void (*done)(void *) = c->done;
    void *ctx = c->done_ctx;
    free(c->path);
    free(c);
    if (done)
        done(ctx);
}

static void conn_handle_closed(uv_handle_t *h)
{
    struct conn *cn = h->data;
    struct wdsmcd_control *c = cn->ctl;

    if (--cn->open_handles > 0)
        return;
    if (cn->prev)
        cn->prev->next = cn->next;
    else
        c->conns = cn->next;
    if (cn->next)
        cn->next->prev = cn->prev;
    c->n_conns--;
    free(cn->buf);
    free(cn);
    maybe_free_control(c);
}

static void conn_close(struct conn *cn)
{
    if (cn->closing)
        return;
    cn->closing = true;
    uv_timer_stop(&cn->idle);
    uv_close((uv_handle_t *)&cn->pipe, conn_handle_closed);
    uv_close((uv_handle_t *)&cn->idle, conn_handle_closed);
}

static void on_write(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *)req;
    struct conn *cn = w->conn;

    free(w);
    cn->writes--;
    if (status < 0)
        conn_close(cn);
    else if (cn->close_after_write && cn->writes == 0)
        conn_close(cn);
}

/* Send `text` plus a newline. Takes nothing from the caller. */
static void conn_send(struct conn *cn, const char *text)
{
    size_t n = strlen(text);

    if (cn->closing)
        return;
    if (uv_stream_get_write_queue_size((uv_stream_t *)&cn->pipe) + n > cn->ctl->lim.max_pending) {
        /* The peer does not read what it asked for: drop it rather than
         * let its responses grow without bound. */
        conn_close(cn);
        return;
    }
    struct write_req *w = malloc(sizeof(*w) + n + 1);
    if (!w) {
        conn_close(cn);
        return;
    }
    memcpy(w->data, text, n);
    w->data[n] = '\n';
    w->conn = cn;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)(n + 1));
    if (uv_write(&w->req, (uv_stream_t *)&cn->pipe, &b, 1, on_write) < 0) {
        free(w);
        conn_close(cn);
        return;
    }
    cn->writes++;
}

static void conn_send_final(struct conn *cn, const char *text)
{
    uv_read_stop((uv_stream_t *)&cn->pipe);
    cn->close_after_write = true;
    conn_send(cn, text);
    if (!cn->closing && cn->writes == 0)
        conn_close(cn);
}

static void on_idle(uv_timer_t *t)
{
    conn_close(t->data);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct conn *cn = h->data;
    size_t room = cn->ctl->lim.max_request - cn->len;

    (void)suggested;
    *buf = uv_buf_init(cn->buf + cn->len, (unsigned)room);
}

static void handle_line(struct conn *cn, char *line, size_t len)
{
    if (len > 0 && line[len - 1] == '\r')
        line[--len] = '\0';
    if (len == 0)
        return;
    if (memchr(line, '\0', len)) {
        conn_send(cn,
                  "{\"ok\":false,\"error\":\"bad-request\",\"message\":\"NUL byte in request\"}");
        return;
    }
    char *resp = cn->ctl->handler(cn->ctl->ctx, line, len);
    if (!resp) {
        conn_send(cn, "{\"ok\":false,\"error\":\"internal\",\"message\":\"out of memory\"}");
        return;
    }
    conn_send(cn, resp);
    free(resp);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *cn = s->data;
    struct wdsmcd_control *c = cn->ctl;

    (void)buf;
    if (nread < 0) {
        /* EOF: answer what was asked, then close. Errors: close now. */
        uv_read_stop(s);
        if (nread == UV_EOF && cn->writes > 0)
            cn->close_after_write = true;
        else
            conn_close(cn);
        return;
    }
    if (nread == 0)
        return;
    uv_timer_again(&cn->idle);
    size_t start = 0, scan = cn->len;
    cn->len += (size_t)nread;
    for (size_t i = scan; i < cn->len && !cn->closing; i++) {
        if (cn->buf[i] != '\n')
            continue;
        cn->buf[i] = '\0';
        handle_line(cn, cn->buf + start, i - start);
        start = i + 1;
    }
    if (cn->closing)
        return;
    memmove(cn->buf, cn->buf + start, cn->len - start);
    cn->len -= start;
    if (cn->len == c->lim.max_request) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "{\"ok\":false,\"error\":\"too-large\",\"message\":\"request longer than %zu "
                 "bytes\"}",
                 c->lim.max_request - 1);
        cn->len = 0;
        conn_send_final(cn, msg);
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    struct wdsmcd_control *c = server->data;

    if (status < 0 || c->closing)
        return;
    struct conn *cn = calloc(1, sizeof(*cn));
    if (cn)
        cn->buf = malloc(c->lim.max_request);
    if (!cn || !cn->buf) {
        /* Only under memory exhaustion. libuv keeps the connection queued
         * and pauses the listener until the next accept; that is the best
         * backpressure available then. */
        free(cn);
        return;
    }
    cn->ctl = c;
    uv_pipe_init(c->loop, &cn->pipe, 0);
    uv_timer_init(c->loop, &cn->idle);
    cn->pipe.data = cn->idle.data = cn;
    cn->open_handles = 2;
    cn->next = c->conns;
    if (c->conns)
        c->conns->prev = cn;
    c->conns = cn;
    c->n_conns++;
    if (uv_accept(server, (uv_stream_t *)&cn->pipe) < 0) {
        conn_close(cn);
        return;
    }
    if (c->n_conns > c->lim.max_conns) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "{\"ok\":false,\"error\":\"busy\",\"message\":\"too many control connections "
                 "(limit %u)\"}",
                 c->lim.max_conns);
        conn_send_final(cn, msg);
        return;
    }
    uv_timer_start(&cn->idle, on_idle, c->lim.idle_ms, c->lim.idle_ms);
    if (uv_read_start((uv_stream_t *)&cn->pipe, on_alloc, on_read) < 0)
        conn_close(cn);
}

/* Is something listening at `path`? 1 yes, 0 no (stale or absent), or a
 * negative errno. */
static int socket_is_live(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -errno;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    int r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
    int e = errno;
    close(fd);
    if (r == 0)
        return 1;
    if (e == ECONNREFUSED || e == ENOENT)
        return 0;
    return -e;
}

static void listen_closed(uv_handle_t *h)
{
    struct wdsmcd_control *c = h->data;

    c->listen_open = false;
    maybe_free_control(c);
}

int wdsmcd_control_new(uv_loop_t *loop, const char *path, mode_t mode,
                       const struct wdsmcd_control_limits *limits, wdsmcd_control_handler handler,
                       void *ctx, struct wdsmcd_control **ret, char *err, size_t errcap)
{
    struct sockaddr_un sun;
    struct stat st;
    int r;

    if (!path || !*path || strlen(path) >= sizeof(sun.sun_path)) {
        ERRF("%s: control socket path empty or longer than %zu bytes", path ? path : "",
             sizeof(sun.sun_path) - 1);
        return -EINVAL;
    }
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            ERRF("%s: exists and is not a socket; remove it or choose another --control path",
                 path);
            return -EEXIST;
        }
        r = socket_is_live(path);
        if (r == 1) {
            ERRF("%s: another process is listening on it (is wdsmcd already running?)", path);
            return -EADDRINUSE;
        }
        if (r < 0) {
            ERRF("%s: cannot tell whether it is in use: %s", path, strerror(-r));
            return r;
        }
        if (unlink(path) < 0 && errno != ENOENT) {
            r = -errno;
            ERRF("%s: cannot remove the stale socket: %s", path, strerror(-r));
            return r;
        }
    }

    /* libuv reports a missing directory as EACCES (for Windows' sake); look
     * first, so the message says what is wrong. */
    char dir[sizeof(sun.sun_path)];
    const char *slash = strrchr(path, '/');
    if (slash && slash != path) {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
        r = stat(dir, &st) < 0 ? -errno : S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
        if (r < 0) {
            ERRF("%s: cannot create the control socket in '%s': %s%s", path, dir, strerror(-r),
                 r == -ENOENT ? " (does its directory exist?)" : "");
            return r;
        }
    }

    struct wdsmcd_control *c = calloc(1, sizeof(*c));
    if (!c || !(c->path = strdup(path))) {
        free(c);
        ERRF("%s: out of memory", path);
        return -ENOMEM;
    }
    c->loop = loop;
    c->handler = handler;
    c->ctx = ctx;
    if (limits)
        c->lim = *limits;
    if (!c->lim.max_request)
        c->lim.max_request = 4096;
    if (!c->lim.max_conns)
        c->lim.max_conns = 16;
    if (!c->lim.idle_ms)
        c->lim.idle_ms = 300000;
    if (!c->lim.max_pending)
        c->lim.max_pending = 16u << 20;

    uv_pipe_init(loop, &c->listen, 0);
    c->listen.data = c;
    c->listen_open = true;
    /* Create the socket with `mode` from the start: the umask applies to
     * bind(), so no process can connect in a window before chmod(). */
    mode_t old = umask(~mode & 0777);
    r = uv_pipe_bind(&c->listen, path);
    umask(old);
    if (r < 0) {
        ERRF("%s: cannot create the control socket: %s", path, uv_strerror(r));
        goto fail;
    }
    if (chmod(path, mode) < 0 || lstat(path, &st) < 0) {
        r = -errno;
        ERRF("%s: %s", path, strerror(-r));
        unlink(path);
        goto fail;
    }
    c->dev = st.st_dev;
    c->ino = st.st_ino;
    r = uv_listen((uv_stream_t *)&c->listen, 16, on_connection);
    if (r < 0) {
        ERRF("%s: listen: %s", path, uv_strerror(r));
        unlink(path);
        goto fail;
    }
    *ret = c;
    return 0;
fail:
    /* The handle must be closed before c is freed: let the loop run the
     * close callback, which frees c via maybe_free_control(). */
    c->closing = true;
    uv_close((uv_handle_t *)&c->listen, listen_closed);
    return r;
}

unsigned wdsmcd_control_connections(const struct wdsmcd_control *c)
{
    return c ? c->n_conns : 0;
}

void wdsmcd_control_close(struct wdsmcd_control *c, void (*done)(void *ctx), void *ctx)
{
    struct stat st;

    if (!c || c->closing)
        return;
    c->closing = true;
    c->done = done;
    c->done_ctx = ctx;
    /* Remove the socket only if it is still ours, not one a later daemon
     * created at the same path. */
    if (lstat(c->path, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino)
        unlink(c->path);
    uv_close((uv_handle_t *)&c->listen, listen_closed);
    for (struct conn *cn = c->conns; cn; cn = cn->next)
        conn_close(cn);
}
