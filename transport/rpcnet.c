/* SPDX-License-Identifier: MIT */
/*
 * DCE/RPC over TCP on libuv: the I/O glue of rpcnet.h. The association
 * machines (rpc_assoc.c) do all the protocol work; this file moves their
 * bytes, runs the timeouts, and owns the handles.
 *
 * Handles are embedded in heap structs that are freed only from the last
 * libuv close callback; `handles` counts the open ones. Writes copy the
 * machine's pending bytes into their own request, so the machine's output
 * queue can be consumed at once and a write outlives nothing it borrows.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rpcnet.h"
#include "uvnet.h"
#include "wdsmc/error.h"

#define READ_BUF 65536

/* One write: the libuv request and a copy of the bytes. */
struct wreq {
    uv_write_t req;
    size_t len;
    uint8_t data[];
};

/* Queue `len` bytes on `stream`; the copy is freed by the write callback
 * `cb` (which must call free_wreq). */
static int write_copy(uv_stream_t *stream, const uint8_t *p, size_t len, uv_write_cb cb, void *data)
{
    struct wreq *w = malloc(sizeof(*w) + len);
    if (!w)
        return -ENOMEM;
    memcpy(w->data, p, len);
    w->len = len;
    w->req.data = data;
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)len);
    int err = uv_write(&w->req, stream, &b, 1, cb);
    if (err < 0)
        free(w);
    return err;
}

/* ======================================================================== */
/* Client                                                                    */
/* ======================================================================== */

enum cstate {
    C_IDLE,
    C_CONNECTING, /* TCP connect in progress */
    C_BINDING,    /* bind / auth legs */
    C_READY,
    C_CALLING,
    C_FAILED,
};

struct wdsmc_rpcnet_client {
    uv_loop_t *loop;
    char *host;
    uint16_t port;
    enum wdsmc_rpcnet_auth auth_kind;
    struct wdsmc_rpcauth_client_cfg cred; /* strings valid only during connect() */
    unsigned connect_timeout, call_timeout;
    size_t max_reply;
    struct sockaddr_storage sa;

    enum cstate st;
    int err; /* why FAILED */
    bool closing;
    unsigned handles;
    bool tcp_open, timer_open;
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_connect_t creq;

    struct wdsmc_rpcauth *auth;
    struct wdsmc_rpc_client *rpc;

    wdsmc_rpcnet_connect_cb connect_cb;
    void *connect_ctx;
    wdsmc_rpcnet_call_cb call_cb;
    void *call_ctx;

    char rbuf[READ_BUF];
};

static void cli_free(struct wdsmc_rpcnet_client *c)
{
    wdsmc_rpc_client_free(c->rpc);
    wdsmc_rpcauth_free(c->auth);
    free(c->host);
    free(c);
}

static void cli_close_cb(uv_handle_t *h)
{
    struct wdsmc_rpcnet_client *c = h->data;
    if (--c->handles == 0 && c->closing)
        cli_free(c);
}

/* Report the end of the outstanding operation, if any. The callback pointer
 * is cleared first, so the application may start another operation or close
 * the client from inside it. */
static void cli_report(struct wdsmc_rpcnet_client *c, int err, const uint8_t *pkt, size_t len)
{
    if (c->timer_open)
        uv_timer_stop(&c->timer);
    if (c->connect_cb) {
        wdsmc_rpcnet_connect_cb cb = c->connect_cb;
        c->connect_cb = NULL;
        cb(c->connect_ctx, err);
    } else if (c->call_cb) {
        wdsmc_rpcnet_call_cb cb = c->call_cb;
        c->call_cb = NULL;
        cb(c->call_ctx, err, err ? NULL : pkt, err ? 0 : len);
    }
}

/* The connection is unusable: stop reading and tell whoever waits. */
static void cli_fail(struct wdsmc_rpcnet_client *c, int err)
{
    if (c->st == C_FAILED || c->closing)
        return;
    c->st = C_FAILED;
    c->err = err;
    if (c->tcp_open)
        uv_read_stop((uv_stream_t *)&c->tcp);
    cli_report(c, err, NULL, 0);
}

static void cli_write_cb(uv_write_t *req, int status)
{
    struct wdsmc_rpcnet_client *c = req->data;
    free((struct wreq *)req); /* req is the first member */
    if (status < 0 && status != UV_ECANCELED)
        cli_fail(c, status);
}

/* Send what the association has queued. */
static int cli_flush(struct wdsmc_rpcnet_client *c)
{
    const uint8_t *p;
    size_t n = wdsmc_rpc_client_pending(c->rpc, &p);
    if (n == 0)
        return 0;
    int err = write_copy((uv_stream_t *)&c->tcp, p, n, cli_write_cb, c);
    if (err < 0)
        return err;
    wdsmc_rpc_client_consume(c->rpc, n);
    return 0;
}

static void cli_timeout(uv_timer_t *t)
{
    cli_fail(t->data, -ETIMEDOUT);
}

static void cli_arm(struct wdsmc_rpcnet_client *c, unsigned ms)
{
    uv_timer_start(&c->timer, cli_timeout, ms, 0);
}

static void cli_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct wdsmc_rpcnet_client *c = h->data;
    (void)suggested;
    *buf = uv_buf_init(c->rbuf, sizeof(c->rbuf));
}

/* After input: has the outstanding operation finished? */
static void cli_progress(struct wdsmc_rpcnet_client *c)
{
    enum wdsmc_rpc_client_state rs = wdsmc_rpc_client_state(c->rpc);

    if (c->st == C_BINDING && rs == WDSMC_RPC_CLIENT_READY) {
        c->st = C_READY;
        cli_report(c, 0, NULL, 0);
        return;
    }
    if (c->st == C_CALLING && rs == WDSMC_RPC_CLIENT_DONE) {
        uint8_t *stub = NULL;
        size_t stub_len = 0;
        const uint8_t *pkt = NULL;
        size_t pkt_len = 0;
        int err = wdsmc_rpc_client_take_result(c->rpc, &stub, &stub_len);
        if (err == 0)
            err = wdsmc_wdsc_rpc_reply(stub, stub_len, &pkt, &pkt_len);
        c->st = C_READY;
        /* A fault leaves the association usable (READY); a reply that is
         * not a valid [out] stub is answered as the call's error only. */
        cli_report(c, err, pkt, pkt_len);
        free(stub);
    }
}

static void cli_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct wdsmc_rpcnet_client *c = s->data;
    int err;

    if (nread == 0 || c->closing || c->st == C_FAILED)
        return;
    if (nread < 0) {
        cli_fail(c, nread == UV_EOF ? -ECONNRESET : (int)nread);
        return;
    }
    if ((err = wdsmc_rpc_client_input(c->rpc, (const uint8_t *)buf->base, (size_t)nread)) < 0 ||
        (err = cli_flush(c)) < 0) {
        cli_fail(c, err);
        return;
    }
    cli_progress(c);
}

static void cli_connected(uv_connect_t *req, int status)
{
    struct wdsmc_rpcnet_client *c = req->data;
    int err;

    if (status == UV_ECANCELED || c->closing || c->st != C_CONNECTING)
        return;
    if (status < 0) {
        cli_fail(c, status);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    c->st = C_BINDING;
    if ((err = uv_read_start((uv_stream_t *)&c->tcp, cli_alloc, cli_read)) < 0 ||
        (err = wdsmc_rpc_client_bind(c->rpc)) < 0 || (err = cli_flush(c)) < 0)
        cli_fail(c, err);
}

int wdsmc_rpcnet_client_new(uv_loop_t *loop, const struct wdsmc_rpcnet_client_cfg *cfg,
                            struct wdsmc_rpcnet_client **ret)
{
    struct wdsmc_addr ip;

    if (!loop || !cfg || !cfg->host || cfg->auth > WDSMC_RPCNET_AUTH_NONE)
        return -EINVAL;
    if (wdsmc_uvnet_parse_ip(cfg->host, &ip) < 0)
        return -EINVAL;
    struct wdsmc_rpcnet_client *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->loop = loop;
    c->host = strdup(cfg->host);
    if (!c->host) {
        free(c);
        return -ENOMEM;
    }
    c->port = cfg->port ? cfg->port : WDSMC_DCERPC_WDS_PORT;
    c->auth_kind = cfg->auth;
    c->cred = cfg->cred;
    c->connect_timeout = cfg->connect_timeout_ms ? cfg->connect_timeout_ms
                                                 : WDSMC_RPCNET_DEFAULT_CONNECT_TIMEOUT;
    c->call_timeout =
            cfg->call_timeout_ms ? cfg->call_timeout_ms : WDSMC_RPCNET_DEFAULT_CALL_TIMEOUT;
    c->max_reply = cfg->max_reply;
    wdsmc_uvnet_sockaddr(&ip, c->port, &c->sa);
    c->st = C_IDLE;
    *ret = c;
    return 0;
}

int wdsmc_rpcnet_client_connect(struct wdsmc_rpcnet_client *c, wdsmc_rpcnet_connect_cb cb,
                                void *ctx)
{
    int err;

    if (!c || !cb || c->closing)
        return -EINVAL;
    if (c->st != C_IDLE)
        return -EALREADY;

    /* The provider copies what it needs: the caller's strings are not kept. */
    if (c->auth_kind == WDSMC_RPCNET_AUTH_NTLM)
        err = wdsmc_rpcauth_ntlm_client_new(&c->cred, &c->auth);
    else if (c->auth_kind == WDSMC_RPCNET_AUTH_SPNEGO)
        err = wdsmc_rpcauth_spnego_client_new(&c->cred, &c->auth);
    else
        err = 0;
    memset(&c->cred, 0, sizeof(c->cred));
    if (err < 0)
        return err;
    struct wdsmc_rpc_client_cfg rcfg = {
            .iface = WDSMC_DCERPC_WDSC_IF_INIT,
            .max_stub = c->max_reply,
            .auth = c->auth,
            .auth_level = c->auth ? WDSMC_RPCAUTH_LEVEL_PKT_PRIVACY : 0,
            .auth_context_id = 0,
    };
    if ((err = wdsmc_rpc_client_new(&rcfg, &c->rpc)) < 0)
        return err;

    if ((err = uv_timer_init(c->loop, &c->timer)) < 0)
        return err;
    c->timer.data = c;
    c->timer_open = true;
    c->handles++;
    if ((err = uv_tcp_init(c->loop, &c->tcp)) < 0)
        return err;
    c->tcp.data = c;
    c->tcp_open = true;
    c->handles++;
    c->creq.data = c;
    if ((err = uv_tcp_connect(&c->creq, &c->tcp, (struct sockaddr *)&c->sa, cli_connected)) < 0)
        return err;
    c->st = C_CONNECTING;
    c->connect_cb = cb;
    c->connect_ctx = ctx;
    cli_arm(c, c->connect_timeout);
    return 0;
}

int wdsmc_rpcnet_client_call(struct wdsmc_rpcnet_client *c, const uint8_t *pkt, size_t len,
                             wdsmc_rpcnet_call_cb cb, void *ctx)
{
    uint8_t *stub = NULL;
    size_t stub_len;
    int err;

    if (!c || !pkt || !cb || c->closing)
        return -EINVAL;
    if (c->st == C_CALLING || c->st == C_CONNECTING || c->st == C_BINDING)
        return c->st == C_CALLING ? -EBUSY : -ENOTCONN;
    if (c->st != C_READY)
        return -ENOTCONN;
    if ((err = wdsmc_wdsc_rpc_request(pkt, len, &stub, &stub_len)) < 0)
        return err;
    /* WdsRpcMessage is opnum 0 of WdsRpcInterface (MS-WDSC 3.1.4.1). */
    err = wdsmc_rpc_client_call(c->rpc, 0, stub, stub_len);
    free(stub);
    if (err < 0) {
        if (wdsmc_rpc_client_state(c->rpc) == WDSMC_RPC_CLIENT_FAILED) {
            c->st = C_FAILED;
            c->err = err;
        }
        return err;
    }
    if ((err = cli_flush(c)) < 0) {
        c->st = C_FAILED;
        c->err = err;
        return err;
    }
    c->st = C_CALLING;
    c->call_cb = cb;
    c->call_ctx = ctx;
    cli_arm(c, c->call_timeout);
    return 0;
}

int wdsmc_rpcnet_client_auth_info(struct wdsmc_rpcnet_client *c, struct wdsmc_rpcauth_info *ret)
{
    if (!c || !c->auth || (c->st != C_READY && c->st != C_CALLING))
        return -ENOTCONN;
    return wdsmc_rpcauth_info(c->auth, ret);
}

void wdsmc_rpcnet_client_close(struct wdsmc_rpcnet_client *c)
{
    if (!c || c->closing)
        return;
    c->closing = true;
    c->connect_cb = NULL;
    c->call_cb = NULL;
    /* Closing the TCP handle cancels a pending connect and the writes; their
     * callbacks run (with UV_ECANCELED) before the close callback. */
    if (c->tcp_open)
        uv_close((uv_handle_t *)&c->tcp, cli_close_cb);
    if (c->timer_open)
        uv_close((uv_handle_t *)&c->timer, cli_close_cb);
    if (c->handles == 0)
        cli_free(c);
}

/* ======================================================================== */
/* Server                                                                    */
/* ======================================================================== */

struct conn {
    struct wdsmc_rpcnet_server *s;
    struct conn *prev, *next;
    uv_tcp_t tcp;
    uv_timer_t timer;
    unsigned handles;
    bool closing;
    bool draining;    /* close once the queued writes are done */
    size_t out_bytes; /* queued in libuv, not yet written */
    unsigned writes;
    struct wdsmc_rpc_server *rpc;
    char rbuf[READ_BUF];
};

struct wdsmc_rpcnet_server {
    uv_loop_t *loop;
    struct wdsmc_rpcnet_server_cfg cfg;
    struct wdsmc_wdsc_server wdsc;
    char nb_computer[16];
    char sec_addr[8];
    uv_tcp_t listener;
    bool listener_open;
    unsigned handles; /* listener + refused sockets being closed */
    bool closing;
    struct conn *conns;
    struct wdsmc_rpcnet_server_stats stats;
};

static void srv_log(struct wdsmc_rpcnet_server *s, int level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void srv_log(struct wdsmc_rpcnet_server *s, int level, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    if (!s->cfg.log)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    s->cfg.log(s->cfg.log_ctx, level, msg);
}

static void srv_maybe_free(struct wdsmc_rpcnet_server *s)
{
    if (s->closing && s->handles == 0 && !s->conns)
        free(s);
}

static void conn_close_cb(uv_handle_t *h)
{
    struct conn *k = h->data;
    if (--k->handles > 0)
        return;
    struct wdsmc_rpcnet_server *s = k->s;
    if (k->prev)
        k->prev->next = k->next;
    else
        s->conns = k->next;
    if (k->next)
        k->next->prev = k->prev;
    s->stats.connections--;
    wdsmc_rpc_server_free(k->rpc);
    free(k);
    srv_maybe_free(s);
}

static void conn_close(struct conn *k)
{
    if (k->closing)
        return;
    k->closing = true;
    uv_close((uv_handle_t *)&k->tcp, conn_close_cb);
    uv_close((uv_handle_t *)&k->timer, conn_close_cb);
}

static void conn_write_cb(uv_write_t *req, int status)
{
    struct conn *k = req->data;
    struct wreq *w = (struct wreq *)req; /* req is the first member */
    k->out_bytes -= w->len;
    k->writes--;
    free(w);
    if (status < 0 || (k->draining && k->writes == 0))
        conn_close(k);
}

static int conn_flush(struct conn *k)
{
    const uint8_t *p;
    size_t n = wdsmc_rpc_server_pending(k->rpc, &p);
    if (n == 0)
        return 0;
    int err = write_copy((uv_stream_t *)&k->tcp, p, n, conn_write_cb, k);
    if (err < 0)
        return err;
    wdsmc_rpc_server_consume(k->rpc, n);
    k->out_bytes += n;
    k->writes++;
    /* A peer that does not read what it asked for holds our memory. */
    if (k->out_bytes > k->s->cfg.max_output)
        return -ENOBUFS;
    return 0;
}

static void conn_idle(uv_timer_t *t)
{
    struct conn *k = t->data;
    k->s->stats.idle_closed++;
    conn_close(k);
}

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct conn *k = h->data;
    (void)suggested;
    *buf = uv_buf_init(k->rbuf, sizeof(k->rbuf));
}

static void conn_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *k = st->data;
    int rc, err;

    if (nread == 0 || k->closing || k->draining)
        return;
    if (nread < 0) {
        conn_close(k);
        return;
    }
    rc = wdsmc_rpc_server_input(k->rpc, (const uint8_t *)buf->base, (size_t)nread);
    const uint8_t *p;
    bool answered = wdsmc_rpc_server_pending(k->rpc, &p) > 0;
    if ((err = conn_flush(k)) < 0) {
        conn_close(k);
        return;
    }
    if (answered)
        uv_timer_again(&k->timer);
    if (rc < 0) {
        /* MS-RPCE: after a bind_nak or a fatal fault the connection is
         * closed, once what was queued (the nak or fault) has gone out. */
        if (rc == -EACCES)
            k->s->stats.auth_failed++;
        srv_log(k->s, 2, "rpcnet: closing connection: %s", wdsmc_strerror(rc));
        uv_read_stop(st);
        k->draining = true;
        if (k->writes == 0)
            conn_close(k);
    }
}

static int conn_auth_new(void *user, uint8_t auth_type, struct wdsmc_rpcauth **ret)
{
    struct conn *k = user;
    struct wdsmc_rpcnet_server *s = k->s;

    if (auth_type == WDSMC_RPCAUTH_WINNT && !s->cfg.no_ntlm)
        return wdsmc_rpcauth_ntlm_server_new(&s->cfg.auth, ret);
    if (auth_type == WDSMC_RPCAUTH_GSS_NEGOTIATE && !s->cfg.no_spnego)
        return wdsmc_rpcauth_spnego_server_new(&s->cfg.auth, ret);
    return -EOPNOTSUPP;
}

static int conn_dispatch(void *user, const struct wdsmc_rpc_call_info *info, const uint8_t *stub,
                         size_t len, uint8_t **ret_stub, size_t *ret_len)
{
    struct conn *k = user;
    struct wdsmc_rpcnet_server *s = k->s;

    s->stats.calls++;
    if (s->cfg.dispatch)
        return s->cfg.dispatch(s->cfg.dispatch_ctx, info, stub, len, ret_stub, ret_len);
    return wdsmc_wdsc_rpc_dispatch(&s->wdsc, info, stub, len, ret_stub, ret_len);
}

static void srv_refused_close_cb(uv_handle_t *h)
{
    struct wdsmc_rpcnet_server *s = h->data;
    free(h);
    s->handles--;
    srv_maybe_free(s);
}

/* Accept the pending connection and close it. A connection libuv offers
 * must be accepted: until it is, libuv stops watching the listener, and no
 * later connection would be served. */
static void srv_refuse(struct wdsmc_rpcnet_server *s, uv_stream_t *l, const char *why)
{
    uv_tcp_t *t = malloc(sizeof(*t));

    s->stats.refused++;
    srv_log(s, 1, "rpcnet: connection refused: %s", why);
    if (!t || uv_tcp_init(s->loop, t) < 0) {
        free(t);
        return;
    }
    t->data = s;
    s->handles++;
    uv_accept(l, (uv_stream_t *)t);
    uv_close((uv_handle_t *)t, srv_refused_close_cb);
}

static void srv_on_connection(uv_stream_t *l, int status)
{
    struct wdsmc_rpcnet_server *s = l->data;
    int err;

    if (status < 0 || s->closing)
        return;
    /* Accept and drop, so the backlog does not fill with connections that
     * will never be served. */
    if (s->stats.connections >= s->cfg.max_connections) {
        srv_refuse(s, l, "too many connections open");
        return;
    }
    struct conn *k = calloc(1, sizeof(*k));
    if (!k) {
        srv_refuse(s, l, "out of memory");
        return;
    }
    k->s = s;
    struct wdsmc_rpc_server_cfg rcfg = {
            .iface = WDSMC_DCERPC_WDSC_IF_INIT,
            .max_stub = s->cfg.max_stub,
            .assoc_group_id = 0x12345,
            .sec_addr = s->sec_addr,
            .dispatch = conn_dispatch,
            .auth_new = conn_auth_new,
            .user = k,
    };
    if (wdsmc_rpc_server_new(&rcfg, &k->rpc) < 0) {
        free(k);
        srv_refuse(s, l, "out of memory");
        return;
    }
    uv_tcp_init(s->loop, &k->tcp);
    uv_timer_init(s->loop, &k->timer);
    k->tcp.data = k;
    k->timer.data = k;
    k->handles = 2;
    k->next = s->conns;
    if (s->conns)
        s->conns->prev = k;
    s->conns = k;
    s->stats.connections++;
    s->stats.accepted++;
    if ((err = uv_accept(l, (uv_stream_t *)&k->tcp)) < 0 ||
        (err = uv_read_start((uv_stream_t *)&k->tcp, conn_alloc, conn_read)) < 0) {
        conn_close(k);
        return;
    }
    uv_tcp_nodelay(&k->tcp, 1);
    uv_timer_start(&k->timer, conn_idle, s->cfg.idle_timeout_ms, s->cfg.idle_timeout_ms);
}

static void srv_listener_close_cb(uv_handle_t *h)
{
    struct wdsmc_rpcnet_server *s = h->data;
    s->handles--;
    srv_maybe_free(s);
}

int wdsmc_rpcnet_server_new(uv_loop_t *loop, const struct wdsmc_rpcnet_server_cfg *cfg,
                            struct wdsmc_rpcnet_server **ret)
{
    struct wdsmc_addr ip;
    struct sockaddr_storage sa;
    int err;

    if (!loop || !cfg || (!cfg->handler && !cfg->dispatch) || !cfg->auth.lookup)
        return -EINVAL;
    if (wdsmc_uvnet_parse_ip(cfg->addr ? cfg->addr : "0.0.0.0", &ip) < 0)
        return -EINVAL;
    struct wdsmc_rpcnet_server *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->loop = loop;
    s->cfg = *cfg;
    if (!s->cfg.max_connections)
        s->cfg.max_connections = WDSMC_RPCNET_DEFAULT_MAX_CONNECTIONS;
    if (!s->cfg.idle_timeout_ms)
        s->cfg.idle_timeout_ms = WDSMC_RPCNET_DEFAULT_IDLE_TIMEOUT;
    if (!s->cfg.max_output)
        s->cfg.max_output = WDSMC_RPCNET_DEFAULT_MAX_OUTPUT;
    s->wdsc.handler = cfg->handler;
    s->wdsc.user = cfg->handler_ctx;
    if (!s->cfg.auth.nb_computer) {
        /* A NetBIOS name is at most 15 characters, conventionally upper case. */
        char host[256] = "WDSFS";
        gethostname(host, sizeof(host) - 1);
        host[sizeof(host) - 1] = '\0';
        size_t i;
        for (i = 0; i < 15 && host[i] && host[i] != '.'; i++)
            s->nb_computer[i] = (char)toupper((unsigned char)host[i]);
        s->nb_computer[i] = '\0';
        if (i == 0)
            strcpy(s->nb_computer, "WDSFS");
        s->cfg.auth.nb_computer = s->nb_computer;
    }

    wdsmc_uvnet_sockaddr(&ip, cfg->port, &sa);
    if ((err = uv_tcp_init(loop, &s->listener)) < 0) {
        free(s);
        return err;
    }
    s->listener.data = s;
    s->listener_open = true;
    s->handles = 1;
    if ((err = uv_tcp_bind(&s->listener, (struct sockaddr *)&sa, 0)) < 0 ||
        (err = uv_listen((uv_stream_t *)&s->listener, 64, srv_on_connection)) < 0) {
        s->closing = true;
        uv_close((uv_handle_t *)&s->listener, srv_listener_close_cb);
        return err;
    }
    snprintf(s->sec_addr, sizeof(s->sec_addr), "%u", (unsigned)wdsmc_rpcnet_server_port(s));
    *ret = s;
    return 0;
}

uint16_t wdsmc_rpcnet_server_port(const struct wdsmc_rpcnet_server *s)
{
    struct sockaddr_storage sa;
    int len = sizeof(sa);
    struct wdsmc_addr ip;
    uint16_t port = 0;

    if (uv_tcp_getsockname(&s->listener, (struct sockaddr *)&sa, &len) < 0)
        return 0;
    wdsmc_uvnet_from_sockaddr((struct sockaddr *)&sa, &ip, &port);
    return port;
}

void wdsmc_rpcnet_server_stats(const struct wdsmc_rpcnet_server *s,
                               struct wdsmc_rpcnet_server_stats *ret)
{
    *ret = s->stats;
}

void wdsmc_rpcnet_server_close(struct wdsmc_rpcnet_server *s)
{
    if (!s || s->closing)
        return;
    s->closing = true;
    for (struct conn *k = s->conns; k; k = k->next)
        conn_close(k);
    uv_close((uv_handle_t *)&s->listener, srv_listener_close_cb);
}
