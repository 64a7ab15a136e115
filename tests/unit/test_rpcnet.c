/* SPDX-License-Identifier: MIT */
/*
 * rpcnet (transport/rpcnet.h) over real loopback TCP: the server half and
 * the client half on one libuv loop. The providers are the real NTLMv2 and
 * SPNEGO ones; the server's MS-WDSC handler answers IMG_ENUMERATE and
 * LOG_INIT. A small TCP proxy between the two halves drops or swallows
 * traffic for the failure cases.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <uv.h>

#include "ntlm.h"
#include "rpcnet.h"
#include "wdsc.h"

static uv_loop_t loop;

struct hctx {
    unsigned calls;
    char user[64];
    bool anonymous;
    bool authenticated;
};

static int lookup_alice(void *ctx, const char *user, const char *domain, uint8_t ret[16])
{
    (void)ctx;
    (void)domain;
    if (strcasecmp(user, "alice") != 0)
        return -ENOENT;
    return wdsmc_ntlm_nt_hash("Secret1", ret);
}

/* The server's MS-WDSC handler: one image for IMG_ENUMERATE, an empty reply
 * for anything else (LOG_INIT, which anonymous callers may use). */
static int handler(void *user, const struct wdsmc_rpc_call_info *info,
                   const struct wdsmc_wdsc_pkt *req, uint8_t **ret_reply, size_t *ret_len)
{
    struct hctx *h = user;
    h->calls++;
    h->anonymous = info->anonymous;
    h->authenticated = info->authenticated;
    snprintf(h->user, sizeof(h->user), "%s", info->user ? info->user : "");
    if (req->opcode == WDS_OP_IMG_ENUMERATE) {
        struct wdsmc_wdsc_image img = {
                .type = WDSMC_DEP_IMAGE_WIM,
                .xml = "<WIM/>",
                .path = "Images\\Group1\\install.wim",
                .group = "Group1",
                .index = 1,
                .ns = "WDS:Group1/install.wim/1",
        };
        struct wdsmc_wdsc_img_enum_rep rep = {.version = 1,
                                              .has_sc = true,
                                              .sc = WDSMC_SERVER_CAP_SUPPORT_V2,
                                              .n_images = 1,
                                              .images = &img};
        return wdsmc_wdsc_img_enum_rep_build(&rep, ret_reply, ret_len);
    }
    struct wdsmc_wdsc_builder b;
    static const struct wdsmc_uuid osd = WDSMC_WDSC_EP_OSD_INIT;
    wdsmc_wdsc_builder_init(&b, &osd, WDSMC_WDSC_PACKET_REPLY, 0);
    return wdsmc_wdsc_builder_finish(&b, ret_reply, ret_len);
}

static struct wdsmc_rpcnet_server *server_new(struct hctx *h, bool allow_anonymous,
                                              unsigned max_conn)
{
    struct wdsmc_rpcnet_server_cfg cfg = {
            .addr = "127.0.0.1",
            .auth = {.nb_computer = "WDS01",
                     .nb_domain = "WDS",
                     .lookup = lookup_alice,
                     .allow_anonymous = allow_anonymous},
            .handler = handler,
            .handler_ctx = h,
            .max_connections = max_conn,
    };
    struct wdsmc_rpcnet_server *s = NULL;
    assert_int_equal(wdsmc_rpcnet_server_new(&loop, &cfg, &s), 0);
    assert_true(wdsmc_rpcnet_server_port(s) != 0);
    return s;
}

/* ---- Client driving ------------------------------------------------------ */

struct op {
    bool done;
    int err;
    uint8_t *pkt;
    size_t len;
};

static void on_connect(void *ctx, int err)
{
    struct op *o = ctx;
    o->done = true;
    o->err = err;
}

static void on_call(void *ctx, int err, const uint8_t *pkt, size_t len)
{
    struct op *o = ctx;
    o->done = true;
    o->err = err;
    if (pkt) {
        o->pkt = malloc(len);
        memcpy(o->pkt, pkt, len);
        o->len = len;
    }
}

static void run_until_done(struct op *o)
{
    uint64_t end = uv_hrtime() + 10000000000ull;
    while (!o->done && uv_hrtime() < end)
        uv_run(&loop, UV_RUN_ONCE);
    assert_true(o->done);
}

static struct wdsmc_rpcnet_client *client_new(uint16_t port, enum wdsmc_rpcnet_auth auth,
                                              const char *user, const char *password,
                                              unsigned call_timeout)
{
    struct wdsmc_rpcnet_client_cfg cfg = {
            .host = "127.0.0.1",
            .port = port,
            .auth = auth,
            .cred = {.user = user, .domain = "WDS", .password = password, .workstation = "CLIENT"},
            .call_timeout_ms = call_timeout,
    };
    struct wdsmc_rpcnet_client *c = NULL;
    assert_int_equal(wdsmc_rpcnet_client_new(&loop, &cfg, &c), 0);
    return c;
}

static int do_connect(struct wdsmc_rpcnet_client *c)
{
    struct op o = {0};
    assert_int_equal(wdsmc_rpcnet_client_connect(c, on_connect, &o), 0);
    run_until_done(&o);
    return o.err;
}

static void build_enum(uint8_t **pkt, size_t *len)
{
    struct wdsmc_wdsc_img_enum_req req = {
            .version = 1, .has_cc = true, .cc = WDSMC_CLIENT_CAP_SUPPORT_V2};
    assert_int_equal(wdsmc_wdsc_img_enum_req_build(&req, pkt, len), 0);
}

static void build_log_init(uint8_t **pkt, size_t *len)
{
    struct wdsmc_wdsc_builder b;
    static const struct wdsmc_uuid osd = WDSMC_WDSC_EP_OSD_INIT;
    wdsmc_wdsc_builder_init(&b, &osd, WDSMC_WDSC_PACKET_REQUEST, WDS_OP_LOG_INIT);
    assert_int_equal(wdsmc_wdsc_builder_finish(&b, pkt, len), 0);
}

/* Returns the call's error; on success checks the one-image reply. */
static int do_call(struct wdsmc_rpcnet_client *c, bool enumerate)
{
    struct op o = {0};
    uint8_t *pkt;
    size_t len;

    if (enumerate)
        build_enum(&pkt, &len);
    else
        build_log_init(&pkt, &len);
    assert_int_equal(wdsmc_rpcnet_client_call(c, pkt, len, on_call, &o), 0);
    /* One call at a time. */
    assert_int_equal(wdsmc_rpcnet_client_call(c, pkt, len, on_call, &o), -EBUSY);
    free(pkt);
    run_until_done(&o);
    if (o.err == 0 && enumerate) {
        struct wdsmc_wdsc_pkt p;
        struct wdsmc_wdsc_img_enum_rep rep;
        assert_int_equal(wdsmc_wdsc_decode(o.pkt, o.len, &p), 0);
        assert_int_equal(wdsmc_wdsc_img_enum_rep_parse(&p, &rep), 0);
        assert_int_equal(rep.n_images, 1);
        assert_string_equal(rep.images[0].group, "Group1");
        assert_string_equal(rep.images[0].ns, "WDS:Group1/install.wim/1");
        wdsmc_wdsc_img_enum_rep_fini(&rep);
        wdsmc_wdsc_pkt_fini(&p);
    }
    free(o.pkt);
    return o.err;
}

/* Let the close callbacks run, and check nothing is left on the loop. */
static void drain(void)
{
    for (int i = 0; i < 20; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_alive(&loop), 0);
}

static int setup(void **state)
{
    (void)state;
    return uv_loop_init(&loop);
}

static int teardown(void **state)
{
    (void)state;
    drain();
    return uv_loop_close(&loop);
}

/* ---- Tests ----------------------------------------------------------------- */

static void test_rpcnet_ntlm_bind_call_reply(void **state)
{
    struct hctx h = {0};
    struct wdsmc_rpcnet_server *s = server_new(&h, false, 0);
    struct wdsmc_rpcnet_client *c =
            client_new(wdsmc_rpcnet_server_port(s), WDSMC_RPCNET_AUTH_NTLM, "alice", "Secret1", 0);

    (void)state;
    assert_int_equal(do_connect(c), 0);
    assert_int_equal(do_call(c, true), 0);
    assert_int_equal(h.calls, 1);
    assert_true(h.authenticated);
    assert_false(h.anonymous);
    assert_string_equal(h.user, "alice");
    /* The association stays up for a second call. */
    assert_int_equal(do_call(c, true), 0);
    assert_int_equal(h.calls, 2);
    struct wdsmc_rpcauth_info ai;
    assert_int_equal(wdsmc_rpcnet_client_auth_info(c, &ai), 0);
    assert_true(ai.can_seal);

    struct wdsmc_rpcnet_server_stats st;
    wdsmc_rpcnet_server_stats(s, &st);
    assert_int_equal(st.connections, 1);
    assert_int_equal(st.calls, 2);
    wdsmc_rpcnet_client_close(c);
    wdsmc_rpcnet_server_close(s);
}

static void test_rpcnet_spnego_bind_call_reply(void **state)
{
    struct hctx h = {0};
    struct wdsmc_rpcnet_server *s = server_new(&h, false, 0);
    struct wdsmc_rpcnet_client *c = client_new(wdsmc_rpcnet_server_port(s),
                                               WDSMC_RPCNET_AUTH_SPNEGO, "alice", "Secret1", 0);

    (void)state;
    assert_int_equal(do_connect(c), 0);
    assert_int_equal(do_call(c, true), 0);
    assert_string_equal(h.user, "alice");
    wdsmc_rpcnet_client_close(c);
    wdsmc_rpcnet_server_close(s);
}

static void test_rpcnet_wrong_password_is_eacces(void **state)
{
    struct hctx h = {0};
    struct wdsmc_rpcnet_server *s = server_new(&h, false, 0);
    uint16_t port = wdsmc_rpcnet_server_port(s);

    (void)state;
    /* NTLM: rpc_auth3 has no answer, so the call is what fails. */
    struct wdsmc_rpcnet_client *c = client_new(port, WDSMC_RPCNET_AUTH_NTLM, "alice", "wrong", 0);
    assert_int_equal(do_connect(c), 0);
    assert_int_equal(do_call(c, true), -EACCES);
    wdsmc_rpcnet_client_close(c);
    /* SPNEGO: the alter_context is refused. */
    c = client_new(port, WDSMC_RPCNET_AUTH_SPNEGO, "alice", "wrong", 0);
    assert_int_equal(do_connect(c), -EACCES);
    assert_int_equal(wdsmc_rpcnet_client_call(c, (const uint8_t *)"x", 1, on_call, NULL),
                     -ENOTCONN);
    wdsmc_rpcnet_client_close(c);
    /* Unknown user. */
    c = client_new(port, WDSMC_RPCNET_AUTH_NTLM, "mallory", "Secret1", 0);
    assert_int_equal(do_connect(c), 0);
    assert_int_equal(do_call(c, true), -EACCES);
    wdsmc_rpcnet_client_close(c);
    assert_int_equal(h.calls, 0);
    wdsmc_rpcnet_server_close(s);
}

static void test_rpcnet_anonymous_refused_or_allowed(void **state)
{
    struct hctx h = {0};

    (void)state;
    struct wdsmc_rpcnet_server *s = server_new(&h, false, 0);
    struct wdsmc_rpcnet_client *c =
            client_new(wdsmc_rpcnet_server_port(s), WDSMC_RPCNET_AUTH_NTLM, NULL, NULL, 0);
    assert_int_equal(do_connect(c), 0);
    assert_int_equal(do_call(c, false), -EACCES);
    assert_int_equal(h.calls, 0);
    wdsmc_rpcnet_client_close(c);
    wdsmc_rpcnet_server_close(s);

    s = server_new(&h, true, 0);
    c = client_new(wdsmc_rpcnet_server_port(s), WDSMC_RPCNET_AUTH_NTLM, NULL, NULL, 0);
    assert_int_equal(do_connect(c), 0);
    /* LOG_INIT is open to anonymous callers... */
    assert_int_equal(do_call(c, false), 0);
    assert_int_equal(h.calls, 1);
    assert_true(h.anonymous);
    /* ...IMG_ENUMERATE is not (MS-WDSOSD 2.2: authenticated callers). */
    assert_int_equal(do_call(c, true), -EACCES);
    assert_int_equal(h.calls, 1);
    wdsmc_rpcnet_client_close(c);

    /* No security context at all: the same refusal. */
    c = client_new(wdsmc_rpcnet_server_port(s), WDSMC_RPCNET_AUTH_NONE, NULL, NULL, 0);
    assert_int_equal(do_connect(c), 0);
    assert_int_equal(do_call(c, true), -EACCES);
    wdsmc_rpcnet_client_close(c);
    wdsmc_rpcnet_server_close(s);
}

static void test_rpcnet_connection_refused(void **state)
{
    struct hctx h = {0};

    (void)state;
    struct wdsmc_rpcnet_server *s = server_new(&h, false, 0);
    uint16_t port = wdsmc_rpcnet_server_port(s);
    wdsmc_rpcnet_server_close(s);
    drain();
    struct wdsmc_rpcnet_client *c = client_new(port, WDSMC_RPCNET_AUTH_NTLM, "alice", "Secret1", 0);
    assert_int_equal(do_connect(c), -ECONNREFUSED);
    wdsmc_rpcnet_client_close(c);
}

static void test_rpcnet_max_connections(void **state)
{
    struct hctx h = {0};

    (void)state;
    struct wdsmc_rpcnet_server *s = server_new(&h, false, 1);
    uint16_t port = wdsmc_rpcnet_server_port(s);
    struct wdsmc_rpcnet_client *a = client_new(port, WDSMC_RPCNET_AUTH_NTLM, "alice", "Secret1", 0);
    struct wdsmc_rpcnet_client *b = client_new(port, WDSMC_RPCNET_AUTH_NTLM, "alice", "Secret1", 0);
    assert_int_equal(do_connect(a), 0);
    int err = do_connect(b);
    assert_true(err == -ECONNRESET || err == -EPIPE);
    assert_int_equal(do_call(a, true), 0);
    struct wdsmc_rpcnet_server_stats st;
    wdsmc_rpcnet_server_stats(s, &st);
    assert_int_equal(st.refused, 1);
    wdsmc_rpcnet_client_close(a);
    wdsmc_rpcnet_client_close(b);
    wdsmc_rpcnet_server_close(s);
}

/* ---- A proxy that can drop or swallow the client's traffic ------------------- */

enum proxy_mode { PROXY_PASS, PROXY_DROP_ON_REQUEST, PROXY_SWALLOW_REQUEST };

struct proxy {
    enum proxy_mode mode;
    uv_tcp_t listener;
    uv_tcp_t down; /* to the client */
    uv_tcp_t up;   /* to the server */
    uv_connect_t creq;
    bool have_down, have_up, closed;
    struct sockaddr_in server;
    char dbuf[65536], ubuf[65536];
};

static void proxy_close_cb(uv_handle_t *h)
{
    (void)h;
}

static void proxy_shut(struct proxy *p)
{
    if (p->closed)
        return;
    p->closed = true;
    if (p->have_down)
        uv_close((uv_handle_t *)&p->down, proxy_close_cb);
    if (p->have_up)
        uv_close((uv_handle_t *)&p->up, proxy_close_cb);
}

static void proxy_alloc(uv_handle_t *h, size_t sz, uv_buf_t *buf)
{
    struct proxy *p = h->data;
    (void)sz;
    *buf = h == (uv_handle_t *)&p->down ? uv_buf_init(p->dbuf, sizeof(p->dbuf))
                                        : uv_buf_init(p->ubuf, sizeof(p->ubuf));
}

static void proxy_written(uv_write_t *w, int status)
{
    (void)status;
    free(w);
}

static void forward(uv_stream_t *to, const char *buf, size_t len)
{
    uv_write_t *w = malloc(sizeof(*w) + len);
    char *copy = (char *)(w + 1);
    memcpy(copy, buf, len);
    uv_buf_t b = uv_buf_init(copy, (unsigned)len);
    if (uv_write(w, to, &b, 1, proxy_written) < 0)
        free(w);
}

static void proxy_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct proxy *p = s->data;

    if (n == 0 || p->closed)
        return;
    if (n < 0) {
        proxy_shut(p);
        return;
    }
    if (s == (uv_stream_t *)&p->down) {
        /* Find a request PDU (PTYPE 0 at offset 2) among the PDUs of this
         * read (on loopback, reads end on PDU boundaries); auth3 may come in
         * the same read just before it. */
        const uint8_t *b = (const uint8_t *)buf->base;
        size_t off = 0;
        while (off + 10 <= (size_t)n && b[off + 2] != 0)
            off += (size_t)(b[off + 8] | b[off + 9] << 8);
        bool request = off + 10 <= (size_t)n;
        if (request && p->mode == PROXY_DROP_ON_REQUEST) {
            proxy_shut(p);
            return;
        }
        if (request && p->mode == PROXY_SWALLOW_REQUEST) {
            if (off)
                forward((uv_stream_t *)&p->up, buf->base, off);
            return;
        }
        forward((uv_stream_t *)&p->up, buf->base, (size_t)n);
    } else {
        forward((uv_stream_t *)&p->down, buf->base, (size_t)n);
    }
}

static void proxy_up_connected(uv_connect_t *req, int status)
{
    struct proxy *p = req->data;
    if (status < 0 || p->closed) {
        proxy_shut(p);
        return;
    }
    uv_read_start((uv_stream_t *)&p->up, proxy_alloc, proxy_read);
    uv_read_start((uv_stream_t *)&p->down, proxy_alloc, proxy_read);
}

static void proxy_accept(uv_stream_t *l, int status)
{
    struct proxy *p = l->data;
    if (status < 0 || p->have_down)
        return;
    uv_tcp_init(&loop, &p->down);
    p->down.data = p;
    p->have_down = true;
    uv_accept(l, (uv_stream_t *)&p->down);
    uv_tcp_init(&loop, &p->up);
    p->up.data = p;
    p->have_up = true;
    p->creq.data = p;
    uv_tcp_connect(&p->creq, &p->up, (struct sockaddr *)&p->server, proxy_up_connected);
}

static uint16_t proxy_start(struct proxy *p, uint16_t server_port, enum proxy_mode mode)
{
    struct sockaddr_in any;
    struct sockaddr_storage name;
    int len = sizeof(name);

    memset(p, 0, sizeof(*p));
    p->mode = mode;
    uv_ip4_addr("127.0.0.1", server_port, &p->server);
    uv_ip4_addr("127.0.0.1", 0, &any);
    uv_tcp_init(&loop, &p->listener);
    p->listener.data = p;
    assert_int_equal(uv_tcp_bind(&p->listener, (struct sockaddr *)&any, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&p->listener, 4, proxy_accept), 0);
    uv_tcp_getsockname(&p->listener, (struct sockaddr *)&name, &len);
    return ntohs(((struct sockaddr_in *)&name)->sin_port);
}

static void proxy_stop(struct proxy *p)
{
    proxy_shut(p);
    uv_close((uv_handle_t *)&p->listener, proxy_close_cb);
}

static void test_rpcnet_drop_mid_call_fails_the_call(void **state)
{
    struct hctx h = {0};
    struct proxy p;

    (void)state;
    struct wdsmc_rpcnet_server *s = server_new(&h, false, 0);
    uint16_t port = proxy_start(&p, wdsmc_rpcnet_server_port(s), PROXY_DROP_ON_REQUEST);
    struct wdsmc_rpcnet_client *c = client_new(port, WDSMC_RPCNET_AUTH_NTLM, "alice", "Secret1", 0);
    assert_int_equal(do_connect(c), 0);
    int err = do_call(c, true);
    assert_true(err == -ECONNRESET || err == -EPIPE);
    /* The connection is gone for good. */
    assert_int_equal(wdsmc_rpcnet_client_call(c, (const uint8_t *)"x", 1, on_call, NULL),
                     -ENOTCONN);
    wdsmc_rpcnet_client_close(c);
    proxy_stop(&p);
    wdsmc_rpcnet_server_close(s);
}

static void test_rpcnet_call_timeout(void **state)
{
    struct hctx h = {0};
    struct proxy p;

    (void)state;
    struct wdsmc_rpcnet_server *s = server_new(&h, false, 0);
    uint16_t port = proxy_start(&p, wdsmc_rpcnet_server_port(s), PROXY_SWALLOW_REQUEST);
    struct wdsmc_rpcnet_client *c =
            client_new(port, WDSMC_RPCNET_AUTH_NTLM, "alice", "Secret1", 200);
    assert_int_equal(do_connect(c), 0);
    assert_int_equal(do_call(c, true), -ETIMEDOUT);
    wdsmc_rpcnet_client_close(c);
    proxy_stop(&p);
    wdsmc_rpcnet_server_close(s);
}

/* Closing with a call outstanding: no callback, nothing leaks (ASan). */
static void test_rpcnet_close_with_call_outstanding(void **state)
{
    struct hctx h = {0};
    struct proxy p;
    struct op o = {0};
    uint8_t *pkt;
    size_t len;

    (void)state;
    struct wdsmc_rpcnet_server *s = server_new(&h, false, 0);
    uint16_t port = proxy_start(&p, wdsmc_rpcnet_server_port(s), PROXY_SWALLOW_REQUEST);
    struct wdsmc_rpcnet_client *c = client_new(port, WDSMC_RPCNET_AUTH_NTLM, "alice", "Secret1", 0);
    assert_int_equal(do_connect(c), 0);
    build_enum(&pkt, &len);
    assert_int_equal(wdsmc_rpcnet_client_call(c, pkt, len, on_call, &o), 0);
    free(pkt);
    for (int i = 0; i < 5; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    wdsmc_rpcnet_client_close(c);
    for (int i = 0; i < 5; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    assert_false(o.done);
    proxy_stop(&p);
    wdsmc_rpcnet_server_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_rpcnet_ntlm_bind_call_reply, setup, teardown),
            cmocka_unit_test_setup_teardown(test_rpcnet_spnego_bind_call_reply, setup, teardown),
            cmocka_unit_test_setup_teardown(test_rpcnet_wrong_password_is_eacces, setup, teardown),
            cmocka_unit_test_setup_teardown(test_rpcnet_anonymous_refused_or_allowed, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_rpcnet_connection_refused, setup, teardown),
            cmocka_unit_test_setup_teardown(test_rpcnet_max_connections, setup, teardown),
            cmocka_unit_test_setup_teardown(test_rpcnet_drop_mid_call_fails_the_call, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_rpcnet_call_timeout, setup, teardown),
            cmocka_unit_test_setup_teardown(test_rpcnet_close_with_call_outstanding, setup,
                                            teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
