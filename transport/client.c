/* SPDX-License-Identifier: MIT */
/*
 * Client session: the public WdsTransportClient-like API (wdsmc/client.h) on
 * a libuv loop. This is I/O glue: it owns the sockets and the one timer, and
 * wires three sans-I/O machines together:
 *
 *   MS-WDSMSI client (msi.h)   request -> session parameters
 *   MS-WDSMT client (mt_client.h)  join, ACK/NACK, QCR/POLLACK, LEAVE
 *   MS-WDSMA client (ma_client.h)  bitmap, PROGRESS/CNTCIR, blocks upward
 *
 * Sockets (DESIGN.md decision 21): one ephemeral unicast socket carries the
 * MS-WDSMSI request and every MS-WDSMT packet to the server; a second socket
 * bound to group:port and joined to the group receives the multicast. Only
 * datagrams from the session's server address are processed (decision 22);
 * the rest are dropped and counted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "ma_client.h"
#include "msi.h"
#include "mt_client.h"
#include "rpcnet.h"
#include "uvnet.h"
#include "wdsc.h"
#include "wdsmc/client.h"

#define DEFAULT_CACHE (64u << 20)
/* AUTO initiation with credentials: how long UDP gets before RPC. */
#define AUTO_UDP_TRIES      3
#define AUTO_UDP_INTERVAL   300
#define DEFAULT_RPC_TIMEOUT 10000

struct wdsmc_client {
    uv_loop_t *loop;
    struct wdsmc_client_callbacks cbs;
    enum wdsmc_client_state state;
    int err;

    /* Copied request. */
    char *server, *ns, *content, *iface;
    char name[WDSMC_MT_CLIENT_NAME_CHARS + 1];
    uint16_t msi_port;
    size_t cache_size;
    unsigned inactivity_timeout, msi_tries, msi_interval;
    bool multistream;

    /* Initiation over MS-WDSC RPC (copied credentials, wiped on free). */
    enum wdsmc_initiation initiation;
    bool rpc_fallback; /* AUTO with credentials: RPC after a UDP timeout */
    uint16_t rpc_port;
    char *user, *domain, *password;
    uint8_t nt_hash[16];
    bool has_nt_hash;
    enum wdsmc_auth auth;
    unsigned rpc_timeout;
    struct wdsmc_rpcnet_client *rpc;

    /* Sockets and timer. Handles are heap-allocated and freed from their
     * close callbacks; `handles` counts the open ones so close() can free the
     * session after the last. */
    uv_udp_t *ucast;
    struct wdsmc_uvnet_group *group;
    uv_timer_t *timer;
    unsigned handles;
    uint64_t armed; /* deadline the timer is armed for, UINT64_MAX if none */
    char *recvbuf;  /* one per session: callbacks run one at a time */

    struct sockaddr_storage msi_sa;    /* server:MSI port */
    struct sockaddr_storage server_sa; /* the session's Server Address */
    struct wdsmc_addr local_ip;
    uint8_t mac[6];

    struct wdsmc_msi_client msi;
    struct wdsmc_mt_client *mt;
    struct wdsmc_ma_client *ma;

    uint32_t session_id;
    uint64_t content_size;
    uint32_t block_size;
    uint64_t total_blocks;

    /* Flow-control bookkeeping around the receive callback (see on_block). */
    bool in_receive;
    bool rejected; /* wdsmc_client_reject() during this receive call */
    size_t receive_len;
    size_t completed_in_receive;
    uint64_t cache_held;

    bool in_start_cb;
    bool closing;
    uint64_t bytes_received;
    uint64_t packets_dropped;
    /* Rate: bytes over the last sampling interval. */
    uint64_t rate_t0, rate_b0;
    double rate;
};

static uint64_t now_ms(void)
{
    /* +1: a ServerTime of 0 means "none" on the wire (decision 10). */
    return uv_hrtime() / 1000000 + 1;
}

static void rearm(struct wdsmc_client *c);
static void finish(struct wdsmc_client *c, int err);

/* ------------------------------------------------------------------ */
/* Sending                                                             */
/* ------------------------------------------------------------------ */

static void msi_send(void *ctx, const uint8_t *buf, size_t len)
{
    struct wdsmc_client *c = ctx;
    if (c->ucast)
        wdsmc_uvnet_send(c->ucast, (struct sockaddr *)&c->msi_sa, buf, len);
}

static void mt_send(void *ctx, const uint8_t *buf, size_t len)
{
    struct wdsmc_client *c = ctx;
    /* A send that fails (full socket buffer) is loss, which the protocol
     * repairs; nothing to do here. */
    if (c->ucast)
        wdsmc_uvnet_send(c->ucast, (struct sockaddr *)&c->server_sa, buf, len);
}

/* ------------------------------------------------------------------ */
/* MS-WDSMA client -> application                                      */
/* ------------------------------------------------------------------ */

static void update_rate(struct wdsmc_client *c, uint64_t now)
{
    if (c->rate_t0 == 0) {
        c->rate_t0 = now;
        c->rate_b0 = c->bytes_received;
        return;
    }
    uint64_t dt = now - c->rate_t0;
    if (dt >= 500) {
        double r = (double)(c->bytes_received - c->rate_b0) * 1000.0 / (double)dt;
        c->rate = c->rate > 0 ? 0.5 * c->rate + 0.5 * r : r;
        c->rate_t0 = now;
        c->rate_b0 = c->bytes_received;
    }
}

/*
 * A new block. The application gets it through `receive` and holds its bytes
 * until it calls wdsmc_client_complete_receive() -- possibly during the call.
 * The MS-WDSMT client adds what we return here to CurrentAppCacheSize after
 * we return, so bytes completed during the call are netted out of the return
 * value instead of being reported as Cache Done for bytes not yet counted.
 */
static size_t on_block(void *ctx, uint64_t block, uint64_t offset, const uint8_t *data, size_t len)
{
    struct wdsmc_client *c = ctx;
    (void)block;

    if (c->state == WDSMC_CLIENT_DONE || c->state == WDSMC_CLIENT_LEAVING)
        return WDSMC_MA_BLOCK_REJECT;

    c->in_receive = true;
    c->rejected = false;
    c->receive_len = len;
    c->completed_in_receive = 0;
    c->cbs.receive(c->cbs.ctx, data, len, offset);
    c->in_receive = false;
    if (c->rejected) {
        /* Refused: not received, not held. Anything the application
         * completed meanwhile was from earlier blocks. */
        if (c->completed_in_receive && c->mt) {
            uint64_t done = c->completed_in_receive;
            if (done > c->cache_held)
                done = c->cache_held;
            c->cache_held -= done;
            wdsmc_mt_client_cache_done(c->mt, done, now_ms());
        }
        return WDSMC_MA_BLOCK_REJECT;
    }
    c->bytes_received += len;
    update_rate(c, now_ms());

    size_t done = c->completed_in_receive;
    size_t netted = done < len ? done : len;
    size_t held = len - netted;
    c->cache_held += held;
    if (done > len && c->mt) {
        /* The application also completed bytes it held from earlier blocks. */
        uint64_t extra = done - len;
        if (extra > c->cache_held)
            extra = c->cache_held;
        c->cache_held -= extra;
        wdsmc_mt_client_cache_done(c->mt, extra, now_ms());
    }
    return held;
}

static void on_ma_complete(void *ctx)
{
    struct wdsmc_client *c = ctx;
    /* MS-WDSMA 3.2.5.1: every block is here; leave with COMPLETE. */
    if (c->mt && wdsmc_mt_client_leave(c->mt, WDSMC_LEAVE_COMPLETE, 0, now_ms()) == 0)
        c->state = WDSMC_CLIENT_LEAVING;
    rearm(c);
}

/* ------------------------------------------------------------------ */
/* MS-WDSMT client -> MS-WDSMA client, sockets, completion             */
/* ------------------------------------------------------------------ */

static size_t mt_data(void *ctx, const uint8_t *payload, size_t len)
{
    struct wdsmc_client *c = ctx;
    ssize_t held = wdsmc_ma_client_data(c->ma, payload, len);
    return held > 0 ? (size_t)held : 0;
}

static ssize_t mt_qcc(void *ctx, uint8_t *buf, size_t cap, uint64_t now)
{
    struct wdsmc_client *c = ctx;
    return wdsmc_ma_client_qcc(c->ma, buf, cap, now);
}

static ssize_t mt_poll(void *ctx, const uint8_t *app, size_t app_len, uint8_t *buf, size_t cap,
                       uint64_t now)
{
    struct wdsmc_client *c = ctx;
    return wdsmc_ma_client_poll(c->ma, app, app_len, buf, cap, now);
}

static void close_cb(uv_handle_t *h);
static int open_group(struct wdsmc_client *c, const struct wdsmc_addr *group, uint16_t port);

/* MS-WDSMT 3.2.5.16: demoted to a lower-rate session. Switch the group
 * socket and the server address; the machine sends JOIN right after. */
static void mt_rebind(void *ctx, const struct wdsmc_mt_session_info *si)
{
    struct wdsmc_client *c = ctx;

    c->session_id = si->session_id;
    wdsmc_uvnet_sockaddr(&si->server_addr, si->server_port, &c->server_sa);
    if (c->group) {
        wdsmc_uvnet_group_close(c->group, close_cb);
        c->group = NULL;
    }
    int err = open_group(c, &si->mcast_addr, si->mcast_port);
    if (err < 0 && c->mt)
        wdsmc_mt_client_leave(c->mt, WDSMC_LEAVE_CANCELLED, err, now_ms());
}

static void mt_done(void *ctx, int err)
{
    struct wdsmc_client *c = ctx;
    finish(c, err);
}

static void finish(struct wdsmc_client *c, int err)
{
    if (c->state == WDSMC_CLIENT_DONE)
        return;
    c->state = WDSMC_CLIENT_DONE;
    c->err = err;
    wdsmc_rpcnet_client_close(c->rpc);
    c->rpc = NULL;
    if (c->group)
        uv_poll_stop(&c->group->poll);
    if (c->ucast)
        uv_udp_recv_stop(c->ucast);
    if (c->timer)
        uv_timer_stop(c->timer);
    c->armed = UINT64_MAX;
    if (c->cbs.complete)
        c->cbs.complete(c->cbs.ctx, err);
}

/* ------------------------------------------------------------------ */
/* MS-WDSMSI reply -> session                                          */
/* ------------------------------------------------------------------ */

static int start_session(struct wdsmc_client *c, const struct wdsmc_msi_reply *r,
                         uint8_t server_sec, uint8_t client_sec, const struct wdsmc_mt_keys *keys)
{
    uint64_t now = now_ms();
    int err;

    c->session_id = r->session_id;
    c->content_size = r->content_size;
    c->block_size = r->block_size;
    c->total_blocks = r->total_blocks;
    if ((err = wdsmc_uvnet_sockaddr(&r->server_addr, r->server_port, &c->server_sa)) < 0)
        return -WDSMC_EBADREPLY;

    struct wdsmc_ma_client_cfg mcfg = {
            .content_size = r->content_size,
            .total_blocks = r->total_blocks,
            .block_size = r->block_size,
            .max_cache = c->cache_size,
    };
    struct wdsmc_ma_client_cbs mcbs = {.ctx = c, .block = on_block, .complete = on_ma_complete};
    if ((err = wdsmc_ma_client_new(&mcfg, &mcbs, now, &c->ma)) < 0)
        return err;

    /* The application learns the geometry now, and may preset the blocks it
     * already has (resume) from inside this callback. */
    if (c->cbs.start) {
        c->in_start_cb = true;
        c->cbs.start(c->cbs.ctx, r->content_size, r->block_size);
        c->in_start_cb = false;
        if (c->state == WDSMC_CLIENT_DONE)
            return 0;
    }
    if (c->err == -ECANCELED)
        return -ECANCELED;
    if (wdsmc_ma_client_is_complete(c->ma)) {
        /* Everything was preset: nothing to join for. */
        finish(c, 0);
        return 0;
    }

    struct wdsmc_mt_session_info si = {
            .session_id = r->session_id,
            .mcast_addr = r->mcast_addr,
            .mcast_port = r->mcast_port,
            .server_addr = r->server_addr,
            .server_port = r->server_port,
            .server_sec = server_sec,
            .client_sec = client_sec,
            .keys = keys,
    };
    struct wdsmc_mt_join_info ji = {
            .name = c->name,
            .local_ip = c->local_ip,
            .multistream = c->multistream,
    };
    memcpy(ji.mac, c->mac, 6);
    struct wdsmc_mt_client_params p;
    wdsmc_mt_client_params_default(&p);
    p.inactivity_timeout = c->inactivity_timeout;
    p.max_app_cache = c->cache_size;
    p.seed = uv_hrtime() ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)c;
    struct wdsmc_mt_client_cbs cbs = {
            .ctx = c,
            .send = mt_send,
            .data = mt_data,
            .qcc = mt_qcc,
            .poll = mt_poll,
            .rebind = mt_rebind,
            .done = mt_done,
    };
    if ((err = wdsmc_mt_client_new(&si, &ji, &p, &cbs, &c->mt)) < 0)
        return err;
    if ((err = open_group(c, &r->mcast_addr, r->mcast_port)) < 0)
        return err;
    c->state = WDSMC_CLIENT_JOINING;
    return wdsmc_mt_client_start(c->mt, now);
}

static int rpc_start(struct wdsmc_client *c);

static void msi_done(void *ctx, int err, const struct wdsmc_msi_reply *reply, uint32_t win32)
{
    struct wdsmc_client *c = ctx;
    (void)win32;

    /* AUTO: no answer over UDP is what a Server 2016+ does; ask over RPC.
     * An answer (even an error) means this server speaks MS-WDSMSI/UDP. */
    if (err == -ETIMEDOUT && c->rpc_fallback && c->err != -ECANCELED) {
        err = rpc_start(c);
    } else if (err == 0) {
        /* MS-WDSMSI 3.1.5.3: over UDP both modes are CHECKSUM. */
        err = start_session(c, reply, WDSMC_SEC_CHECKSUM, WDSMC_SEC_CHECKSUM, NULL);
    }
    if (err < 0)
        finish(c, err);
}

/* ------------------------------------------------------------------ */
/* Initiation over MS-WDSC RPC (WDSMC_OP_INITIATE, MS-WDSMSI 2.2.1)    */
/* ------------------------------------------------------------------ */

/*
 * MS-WDSMSI 2.2.1.1 and 2.2.1.2 (the two flowcharts): the modes of a session
 * initiated over MS-WDSC. With SecMode, its halves name them, and HASH needs
 * SymKey, SIGN needs SignKey; a client never signs. Without SecMode the keys
 * decide: the server signs if there is a SignKey, else hashes if there is a
 * SymKey, else sends no security data; the client hashes if there is a
 * SymKey, else sends none. Returns 0 or -WDSMC_EBADREPLY.
 */
static int choose_sec_modes(const struct wdsmc_wdsc_initiate_rep *rep, uint8_t *ret_server,
                            uint8_t *ret_client)
{
    uint16_t ssec, csec;

    if (rep->has_sec_mode) {
        ssec = rep->server_sec_mode;
        csec = rep->client_sec_mode;
    } else {
        ssec = rep->has_sign_key  ? WDSMCTP_SEC_SIGN
               : rep->has_sym_key ? WDSMCTP_SEC_HASH
                                  : WDSMCTP_SEC_NONE;
        csec = rep->has_sym_key ? WDSMCTP_SEC_HASH : WDSMCTP_SEC_NONE;
    }
    if (ssec > WDSMCTP_SEC_CHECKSUM || csec > WDSMCTP_SEC_CHECKSUM || csec == WDSMCTP_SEC_SIGN)
        return -WDSMC_EBADREPLY;
    if ((ssec == WDSMCTP_SEC_HASH || csec == WDSMCTP_SEC_HASH) && !rep->has_sym_key)
        return -WDSMC_EBADREPLY;
    if (ssec == WDSMCTP_SEC_SIGN && !rep->has_sign_key)
        return -WDSMC_EBADREPLY;
    *ret_server = (uint8_t)ssec;
    *ret_client = (uint8_t)csec;
    return 0;
}

static int rpc_initiate_reply(struct wdsmc_client *c, const uint8_t *pkt, size_t len)
{
    struct wdsmc_wdsc_pkt p = {0};
    struct wdsmc_wdsc_initiate_rep rep;
    struct wdsmc_msi_reply msi;
    int err;

    if ((err = wdsmc_wdsc_decode(pkt, len, &p)) < 0)
        goto out_bad;
    err = wdsmc_wdsc_initiate_rep_parse(&p, &rep);
    if (err == 0 && rep.error) {
        /* The same codes as an MS-WDSMSI ERROR (decision 4). */
        if (rep.error == WDSMC_WIN32_NOT_FOUND || rep.error == WDSMC_WIN32_FILE_NOT_FOUND)
            err = -WDSMC_ENOCONTENT;
        else if (rep.error == WDSMC_WIN32_ACCESS_DENIED)
            err = -EACCES;
        else
            err = -WDSMC_ESERVER;
        goto out;
    }
    if (err < 0)
        goto out_bad;
    if (wdsmc_wdsc_initiate_rep_to_msi(&rep, &msi) < 0 || wdsmc_msi_reply_check(&msi) < 0)
        goto out_bad;

    uint8_t ssec, csec;
    if ((err = choose_sec_modes(&rep, &ssec, &csec)) < 0)
        goto out;
    /* HASH and SIGN sessions need the reply's keys (MS-WDSMT 2.2.2.1-2);
     * they are copied by the MS-WDSMT client when it is created. */
    struct wdsmc_mt_keys keys = {
            .sym_key = rep.has_sym_key ? rep.sym_key.p : NULL,
            .sym_key_len = rep.has_sym_key ? rep.sym_key.len : 0,
            .sign_key = rep.has_sign_key ? rep.sign_key.p : NULL,
            .sign_key_len = rep.has_sign_key ? rep.sign_key.len : 0,
            .hash_alg = rep.has_hash_alg ? rep.hash_alg : 0,
            .hmac_alg = rep.has_hmac_alg ? rep.hmac_alg : 0,
    };
    if (rep.has_metadata && c->cbs.metadata)
        c->cbs.metadata(c->cbs.ctx, rep.metadata.p, rep.metadata.len);
    if (c->state == WDSMC_CLIENT_DONE || c->err == -ECANCELED) {
        err = c->state == WDSMC_CLIENT_DONE ? 0 : -ECANCELED;
        goto out;
    }
    err = start_session(c, &msi, ssec, csec, &keys);
    /* A key blob or algorithm the MS-WDSMT client cannot use is the
     * server's reply at fault, not ours. */
    if (err == -ENOKEY || err == -WDSMC_EKEYBLOB || err == -ENOTSUP)
        err = -WDSMC_EBADREPLY;
    goto out;
out_bad:
    err = -WDSMC_EBADREPLY;
out:
    wdsmc_wdsc_pkt_fini(&p);
    return err;
}

static void rpc_replied(void *ctx, int err, const uint8_t *pkt, size_t len)
{
    struct wdsmc_client *c = ctx;

    if (err == 0)
        err = rpc_initiate_reply(c, pkt, len);
    /* One call per session: the connection is not needed any more. */
    wdsmc_rpcnet_client_close(c->rpc);
    c->rpc = NULL;
    if (err < 0)
        finish(c, err);
    rearm(c);
}

static void rpc_connected(void *ctx, int err)
{
    struct wdsmc_client *c = ctx;
    uint8_t *pkt = NULL;
    size_t len;

    if (err == 0) {
        struct wdsmc_wdsc_initiate_req req = {.has_cap = true, .cap = WDSMC_WDSC_CAP_DEFAULT};
        snprintf(req.ns, sizeof(req.ns), "%s", c->ns);
        snprintf(req.content, sizeof(req.content), "%s", c->content);
        snprintf(req.client, sizeof(req.client), "%s", c->name);
        err = wdsmc_wdsc_initiate_req_build(&req, &pkt, &len);
        if (err == 0)
            err = wdsmc_rpcnet_client_call(c->rpc, pkt, len, rpc_replied, c);
        free(pkt);
    }
    if (err < 0)
        finish(c, err);
}

static int rpc_start(struct wdsmc_client *c)
{
    struct wdsmc_rpcnet_client_cfg cfg = {
            .host = c->server,
            .port = c->rpc_port,
            .auth = c->auth == WDSMC_AUTH_SPNEGO ? WDSMC_RPCNET_AUTH_SPNEGO
                                                 : WDSMC_RPCNET_AUTH_NTLM,
            .cred =
                    {
                            .user = c->user,
                            .domain = c->domain,
                            .password = c->password,
                            .nt_hash = c->has_nt_hash ? c->nt_hash : NULL,
                            .workstation = c->name,
                    },
            .connect_timeout_ms = c->rpc_timeout,
            .call_timeout_ms = c->rpc_timeout,
    };
    int err;

    if ((err = wdsmc_rpcnet_client_new(c->loop, &cfg, &c->rpc)) < 0)
        return err;
    if ((err = wdsmc_rpcnet_client_connect(c->rpc, rpc_connected, c)) < 0) {
        wdsmc_rpcnet_client_close(c->rpc);
        c->rpc = NULL;
    }
    return err;
}

/* ------------------------------------------------------------------ */
/* Sockets                                                             */
/* ------------------------------------------------------------------ */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct wdsmc_client *c = h->data;
    (void)suggested;
    *buf = uv_buf_init(c->recvbuf, WDSMC_UVNET_RECVBUF);
}

/* A datagram from the unicast socket or the group. */
static void on_datagram(struct wdsmc_client *c, bool ucast, const uint8_t *p, size_t len,
                        const struct sockaddr *addr)
{
    if (c->state == WDSMC_CLIENT_DONE)
        return;
    uint64_t now = now_ms();

    if (c->state == WDSMC_CLIENT_INITIATING) {
        if (ucast && wdsmc_uvnet_same(addr, (struct sockaddr *)&c->msi_sa))
            wdsmc_msi_client_handle(&c->msi, p, len, now);
        else
            c->packets_dropped++;
    } else if (c->mt && wdsmc_uvnet_same(addr, (struct sockaddr *)&c->server_sa)) {
        if (wdsmc_mt_client_handle(c->mt, p, len, now) < 0)
            c->packets_dropped++;
        if (c->state == WDSMC_CLIENT_JOINING) {
            struct wdsmc_mt_client_stats st;
            wdsmc_mt_client_stats(c->mt, &st);
            if (st.state == WDSMC_MT_CLIENT_REGULAR)
                c->state = WDSMC_CLIENT_RECEIVING;
        }
    } else {
        /* Decision 22: only the session's server may talk to us. */
        c->packets_dropped++;
    }
    rearm(c);
}

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
                    unsigned flags)
{
    (void)flags;
    if (nread <= 0 || !addr)
        return; /* nothing, or the end of a recvmmsg batch */
    on_datagram(h->data, true, (const uint8_t *)buf->base, (size_t)nread, addr);
}

static void on_group_datagram(struct wdsmc_uvnet_group *g, const uint8_t *buf, size_t len,
                              const struct sockaddr *from)
{
    on_datagram(g->poll.data, false, buf, len, from);
}

/* The group socket failed: no data can come, so the session ends with the
 * socket's error rather than waiting out its timeouts. */
static void on_group_error(struct wdsmc_uvnet_group *g, int err)
{
    struct wdsmc_client *c = g->poll.data;

    /* As when a demotion cannot open its group (mt_rebind): leave with the
     * error; the MT client ends the session when the LEAVE is out. */
    if (c->state != WDSMC_CLIENT_DONE && c->mt) {
        wdsmc_mt_client_leave(c->mt, WDSMC_LEAVE_CANCELLED, err, now_ms());
        rearm(c);
    }
}

static int open_group(struct wdsmc_client *c, const struct wdsmc_addr *group, uint16_t port)
{
    struct sockaddr_storage sa;
    int err;

    if ((err = wdsmc_uvnet_sockaddr(group, port, &sa)) < 0)
        return err;
    struct wdsmc_uvnet_group *g = malloc(sizeof(*g));
    if (!g)
        return -ENOMEM;
    /* Bound to the group address itself, so only that group's traffic
     * arrives; several receivers on one host share it (SO_REUSEADDR). */
    err = wdsmc_uvnet_group_open(c->loop, g, (struct sockaddr *)&sa, c->iface,
                                 (uint8_t *)c->recvbuf, on_group_datagram, on_group_error);
    if (!g->opened) {
        free(g);
        return err;
    }
    g->poll.data = c;
    c->group = g;
    c->handles++;
    return err; /* on an error, closed with the session */
}

/* ------------------------------------------------------------------ */
/* Timer                                                               */
/* ------------------------------------------------------------------ */

static void on_timer(uv_timer_t *t)
{
    struct wdsmc_client *c = t->data;
    uint64_t now = now_ms();

    c->armed = UINT64_MAX;
    if (c->state == WDSMC_CLIENT_INITIATING)
        wdsmc_msi_client_timeout(&c->msi, now);
    else if (c->mt && c->state != WDSMC_CLIENT_DONE)
        wdsmc_mt_client_timeout(c->mt, now);
    if (c->state != WDSMC_CLIENT_DONE && !c->mt && c->err == -ECANCELED)
        finish(c, -ECANCELED);
    rearm(c);
}

static void rearm(struct wdsmc_client *c)
{
    uint64_t when = UINT64_MAX;

    if (!c->timer || c->state == WDSMC_CLIENT_DONE)
        return;
    if (c->state == WDSMC_CLIENT_INITIATING)
        when = wdsmc_msi_client_deadline(&c->msi);
    else if (c->mt)
        when = wdsmc_mt_client_deadline(c->mt);
    if (c->err == -ECANCELED && !c->mt)
        when = 0;
    if (when == c->armed)
        return;
    c->armed = when;
    if (when == UINT64_MAX) {
        uv_timer_stop(c->timer);
        return;
    }
    uint64_t now = now_ms();
    uv_timer_start(c->timer, on_timer, when > now ? when - now : 0, 0);
}

/* ------------------------------------------------------------------ */
/* Public API                                                          */
/* ------------------------------------------------------------------ */

static void free_session(struct wdsmc_client *c)
{
    wdsmc_mt_client_free(c->mt);
    wdsmc_ma_client_free(c->ma);
    free(c->server);
    free(c->ns);
    free(c->content);
    free(c->iface);
    free(c->recvbuf);
    free(c->user);
    free(c->domain);
    if (c->password) {
        explicit_bzero(c->password, strlen(c->password));
        free(c->password);
    }
    explicit_bzero(c->nt_hash, sizeof(c->nt_hash));
    free(c);
}

static void close_cb(uv_handle_t *h)
{
    struct wdsmc_client *c = h->data;
    free(h);
    if (--c->handles == 0 && c->closing)
        free_session(c);
}

int wdsmc_client_new(uv_loop_t *loop, const struct wdsmc_client_request *req,
                     const struct wdsmc_client_callbacks *cbs, struct wdsmc_client **ret)
{
    struct wdsmc_addr ip;
    int err;

    if (!loop || !req || !cbs || !cbs->receive || !req->server || !req->ns || !req->content ||
        !*req->ns || !*req->content)
        return -EINVAL;
    if (wdsmc_uvnet_parse_ip(req->server, &ip) < 0)
        return -EINVAL;
    if (strlen(req->ns) > WDSMC_MSI_NAME_MAX_UNITS ||
        strlen(req->content) > WDSMC_MSI_NAME_MAX_UNITS * 3)
        return -EINVAL;
    if (req->interface && wdsmc_uvnet_parse_ip(req->interface, &(struct wdsmc_addr){0}) < 0)
        return -EINVAL;
    if (req->initiation > WDSMC_INITIATION_RPC || req->auth > WDSMC_AUTH_SPNEGO)
        return -EINVAL;

    struct wdsmc_client *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->loop = loop;
    c->cbs = *cbs;
    c->state = WDSMC_CLIENT_IDLE;
    c->armed = UINT64_MAX;
    c->msi_port = req->port ? req->port : WDSMC_MSI_PORT;
    c->cache_size = req->cache_size ? req->cache_size : DEFAULT_CACHE;
    c->inactivity_timeout =
            req->inactivity_timeout ? req->inactivity_timeout : WDSMC_MT_DEFAULT_INACTIVITY_TIMEOUT;
    c->msi_tries = req->msi_tries;
    c->msi_interval = req->msi_interval;
    c->multistream = req->multistream;
    c->server = strdup(req->server);
    c->ns = strdup(req->ns);
    c->content = strdup(req->content);
    c->iface = req->interface ? strdup(req->interface) : NULL;
    c->recvbuf = malloc(WDSMC_UVNET_RECVBUF);
    c->initiation = req->initiation;
    c->rpc_port = req->rpc_port;
    c->auth = req->auth;
    c->rpc_timeout = req->rpc_timeout ? req->rpc_timeout : DEFAULT_RPC_TIMEOUT;
    /* The anonymous logon is a user name of "" with no password. */
    c->user = strdup(req->anonymous || !req->user ? "" : req->user);
    c->domain = strdup(req->anonymous || !req->domain ? "" : req->domain);
    if (!req->anonymous && req->password)
        c->password = strdup(req->password);
    if (!req->anonymous && req->nt_hash) {
        memcpy(c->nt_hash, req->nt_hash, 16);
        c->has_nt_hash = true;
    }
    bool creds = req->anonymous || (req->user && *req->user);
    if (c->initiation == WDSMC_INITIATION_AUTO && creds) {
        c->rpc_fallback = true;
        if (!c->msi_tries)
            c->msi_tries = AUTO_UDP_TRIES;
        if (!c->msi_interval)
            c->msi_interval = AUTO_UDP_INTERVAL;
    }
    if (!c->server || !c->ns || !c->content || (req->interface && !c->iface) || !c->recvbuf ||
        !c->user || !c->domain || (!req->anonymous && req->password && !c->password)) {
        free_session(c);
        return -ENOMEM;
    }

    /* ClientName (MS-WDSMT 2.2.5): at most 15 characters; host names are
     * ASCII, so a byte cut is a character cut. */
    if (req->client_name) {
        if (strlen(req->client_name) > WDSMC_MT_CLIENT_NAME_CHARS) {
            free_session(c);
            return -EINVAL;
        }
        strcpy(c->name, req->client_name);
    } else {
        char host[256] = "linux";
        gethostname(host, sizeof(host) - 1);
        host[sizeof(host) - 1] = '\0';
        snprintf(c->name, sizeof(c->name), "%.15s", host);
    }

    wdsmc_uvnet_sockaddr(&ip, c->msi_port, &c->msi_sa);
    if (c->iface)
        wdsmc_uvnet_parse_ip(c->iface, &c->local_ip);
    else if ((err = wdsmc_uvnet_local_ip_for((struct sockaddr *)&c->msi_sa, &c->local_ip)) < 0)
        c->local_ip = (struct wdsmc_addr){.len = 4};
    wdsmc_uvnet_mac_for_ip(&c->local_ip, c->mac);

    struct wdsmc_msi_client_cbs mcbs = {.ctx = c, .send = msi_send, .done = msi_done};
    if ((err = wdsmc_msi_client_init(&c->msi, c->ns, c->content, c->mac, c->msi_tries,
                                     c->msi_interval, &mcbs)) < 0) {
        free_session(c);
        return err;
    }
    *ret = c;
    return 0;
}

int wdsmc_client_preset(struct wdsmc_client *c, const uint8_t *bitmap, uint64_t nbits)
{
    if (!c->in_start_cb || !c->ma)
        return -EINVAL;
    if (nbits != c->total_blocks)
        return -ERANGE;
    for (uint64_t b = 0; b < nbits; b++)
        if (bitmap[b / 8] & (1u << (b % 8)))
            wdsmc_ma_client_mark(c->ma, b);
    return 0;
}

void wdsmc_client_set_window(struct wdsmc_client *c, uint64_t first, uint64_t count)
{
    if (!c->ma)
        return;
    if (count == 0)
        wdsmc_ma_client_set_window(c->ma, 0, UINT64_MAX);
    else
        wdsmc_ma_client_set_window(c->ma, first,
                                   first + count < first ? UINT64_MAX : first + count);
}

int wdsmc_client_start(struct wdsmc_client *c)
{
    struct sockaddr_storage any;
    int err;

    if (c->state != WDSMC_CLIENT_IDLE)
        return -EALREADY;
    c->timer = calloc(1, sizeof(*c->timer));
    c->ucast = calloc(1, sizeof(*c->ucast));
    if (!c->timer || !c->ucast) {
        free(c->timer);
        free(c->ucast);
        c->timer = NULL;
        c->ucast = NULL;
        return -ENOMEM;
    }
    uv_timer_init(c->loop, c->timer);
    c->timer->data = c;
    c->handles++;

    /* The unicast socket is bound to the receiving interface when one is
     * given, so JOIN's IPAddress is the address the server sees. */
    struct wdsmc_addr bind_ip = {.len = c->local_ip.len ? c->local_ip.len : 4};
    if (c->iface)
        bind_ip = c->local_ip;
    wdsmc_uvnet_sockaddr(&bind_ip, 0, &any);
    if ((err = wdsmc_uvnet_udp_init(c->loop, c->ucast, any.ss_family)) < 0) {
        free(c->ucast);
        c->ucast = NULL;
        return err;
    }
    c->ucast->data = c;
    c->handles++;
    if ((err = wdsmc_uvnet_bind(c->ucast, (struct sockaddr *)&any, false)) < 0)
        return err; /* closed by wdsmc_client_close() */
    if ((err = uv_udp_recv_start(c->ucast, alloc_cb, on_recv)) < 0)
        return err;
    c->state = WDSMC_CLIENT_INITIATING;
    if (c->initiation == WDSMC_INITIATION_RPC) {
        /* The MS-WDSMSI machine stays idle (no deadline); the RPC client
         * runs its own timeouts. */
        c->msi.done = true;
        if ((err = rpc_start(c)) < 0)
            return err;
    } else {
        wdsmc_msi_client_start(&c->msi, now_ms());
    }
    rearm(c);
    return 0;
}

void wdsmc_client_complete_receive(struct wdsmc_client *c, size_t bytes)
{
    if (c->in_receive) {
        c->completed_in_receive += bytes;
        return;
    }
    if (bytes > c->cache_held)
        bytes = (size_t)c->cache_held;
    c->cache_held -= bytes;
    if (c->mt && bytes) {
        wdsmc_mt_client_cache_done(c->mt, bytes, now_ms());
        rearm(c);
    }
}

void wdsmc_client_reject(struct wdsmc_client *c)
{
    if (c->in_receive)
        c->rejected = true;
}

void wdsmc_client_cancel(struct wdsmc_client *c)
{
    if (!c || c->state == WDSMC_CLIENT_DONE)
        return;
    if (c->state == WDSMC_CLIENT_IDLE) {
        finish(c, -ECANCELED);
        return;
    }
    if (c->mt) {
        if (wdsmc_mt_client_leave(c->mt, WDSMC_LEAVE_CANCELLED, -ECANCELED, now_ms()) == 0)
            c->state = WDSMC_CLIENT_LEAVING;
    } else {
        /* Still initiating (or inside the start callback): there is no
         * ClientId to LEAVE with (decision 18); complete from the timer, not
         * from inside the caller's callback. */
        c->err = -ECANCELED;
        c->msi.done = true;
    }
    rearm(c);
}

int wdsmc_client_wait(struct wdsmc_client *c)
{
    while (c->state != WDSMC_CLIENT_DONE && c->state != WDSMC_CLIENT_IDLE)
        uv_run(c->loop, UV_RUN_ONCE);
    return c->err;
}

void wdsmc_client_close(struct wdsmc_client *c)
{
    if (!c)
        return;
    c->cbs.complete = NULL;
    c->cbs.start = NULL;
    if (c->state != WDSMC_CLIENT_DONE && c->mt) {
        /* Leave politely but at once: LEAVE without the random delay. */
        if (wdsmc_mt_client_leave(c->mt, WDSMC_LEAVE_CANCELLED, -ECANCELED, now_ms()) == 0 ||
            c->state == WDSMC_CLIENT_LEAVING) {
            uint64_t d = wdsmc_mt_client_deadline(c->mt);
            if (d != UINT64_MAX)
                wdsmc_mt_client_timeout(c->mt, d);
        }
    }
    finish(c, c->state == WDSMC_CLIENT_DONE ? c->err : -ECANCELED);
    c->closing = true;
    if (c->ucast)
        uv_close((uv_handle_t *)c->ucast, close_cb);
    if (c->group)
        wdsmc_uvnet_group_close(c->group, close_cb);
    if (c->timer)
        uv_close((uv_handle_t *)c->timer, close_cb);
    c->ucast = NULL;
    c->group = NULL;
    c->timer = NULL;
    if (c->handles == 0)
        free_session(c);
}

void wdsmc_client_status(const struct wdsmc_client *c, struct wdsmc_client_status *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->state = c->state;
    ret->err = c->err;
    ret->session_id = c->session_id;
    ret->content_size = c->content_size;
    ret->block_size = c->block_size;
    ret->total_blocks = c->total_blocks;
    ret->bytes_received = c->bytes_received;
    ret->packets_dropped = c->packets_dropped;
    ret->cache_held = c->cache_held;
    if (c->ma) {
        struct wdsmc_ma_client_stats ms;
        wdsmc_ma_client_stats(c->ma, &ms);
        ret->blocks_received = ms.received_blocks;
        ret->percent = ms.progress;
    }
    if (c->mt) {
        struct wdsmc_mt_client_stats st;
        wdsmc_mt_client_stats(c->mt, &st);
        ret->master = st.master;
        ret->loss_rate = st.loss_rate;
        ret->rtt_ms = st.mcrtt;
        ret->packets_dropped += st.drop_decode + st.drop_security + st.drop_session;
    }
    /* A rate is only as fresh as the last block; let it fall to zero when
     * nothing has arrived for two seconds. */
    uint64_t now = now_ms();
    ret->rate = c->rate_t0 && now - c->rate_t0 < 2000 ? c->rate : 0;
}
