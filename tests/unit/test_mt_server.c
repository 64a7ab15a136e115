/* SPDX-License-Identifier: MIT */
/*
 * MS-WDSMT server state machine (MS-WDSMT 3.1): client packets built with the
 * codec, literal timestamps, assertions on what the server sends and which
 * callbacks fire. The last test glues the MS-WDSMA server on top and delivers
 * a small content to hand-driven clients.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ma_server.h"
#include "mt_server.h"
#include "mtsec.h"
#include "mtsec_vectors.h"

#define SID 0x1234

struct sent {
    bool mcast;
    struct wdsmc_endpoint to;
    uint8_t *buf;
    size_t len;
};

/* The whole suite runs twice: once with send_mcast alone, once with a
 * send_mcast_batch that checks each batch and records its datagrams one by
 * one, so every test also holds for batched sends. */
static bool batching;

struct h {
    struct wdsmc_mt_server *s;
    struct sent *out;
    size_t nout, capout;
    size_t batches, batched; /* send_mcast_batch calls, datagrams in them */
    size_t max_batch;        /* the most datagrams in one call */
    /* > 0: the data datagram that brings it to 0 finds the socket full and
     * pauses the server, as server.c does (decision 65) */
    int pause_after;
    /* fake application: tokens next_token .. token_limit - 1 */
    uint64_t next_token, token_limit;
    int fill_err;
    size_t fill_len;
    size_t token_len[8]; /* when set, the payload length of tokens 0..7 */
    int status_calls, pollack_calls, data_empty_calls, joined, left, terminated;
    uint32_t status_id, last_left_id;
    size_t status_len, pollack_len;
    int last_left_reason, term_err;
    /* the combined test */
    struct wdsmc_ma_server *ma;
    const uint8_t *content;
    size_t content_size;
};

/* ------------------------------------------------------------------------ */
/* Harness                                                                   */
/* ------------------------------------------------------------------------ */

static void record(struct h *h, bool mcast, const struct wdsmc_endpoint *to, const uint8_t *buf,
                   size_t len)
{
    struct sent *o;

    if (h->nout == h->capout) {
        h->capout = h->capout ? 2 * h->capout : 64;
        h->out = realloc(h->out, h->capout * sizeof(*h->out));
        assert_non_null(h->out);
    }
    o = &h->out[h->nout++];
    o->mcast = mcast;
    if (to)
        o->to = *to;
    o->buf = malloc(len);
    assert_non_null(o->buf);
    memcpy(o->buf, buf, len);
    o->len = len;

    struct wdsmc_mt_pkt p;
    if (mcast && h->pause_after > 0 && wdsmc_mt_decode(buf, len, &p) > 0 &&
        (p.opcode == WDSMC_MT_ODATA || p.opcode == WDSMC_MT_RDATA) && --h->pause_after == 0)
        wdsmc_mt_server_tx_pause(h->s);
}

static void cb_mcast(void *ctx, const uint8_t *buf, size_t len)
{
    record(ctx, true, NULL, buf, len);
}

/* UDP GSO's layout: datagrams of `seg` bytes end to end, the last maybe
 * shorter; at least two, within the batch limits; each a data packet. */
static void cb_mcast_batch(void *ctx, const uint8_t *buf, size_t len, size_t seg)
{
    struct h *h = ctx;
    size_t n = 0;

    assert_true(seg > 0 && len > seg);
    assert_true(len <= WDSMC_MT_BATCH_MAX_BYTES);
    for (size_t off = 0; off < len; off += seg, n++) {
        size_t dlen = len - off < seg ? len - off : seg;
        struct wdsmc_mt_pkt p;

        ssize_t r = wdsmc_mt_decode(buf + off, dlen, &p);

        /* HASH and SIGN are parsed, but need keys to check */
        assert_true(r == (ssize_t)dlen || r == -WDSMC_ESECUNSUPP);
        assert_true(p.opcode == WDSMC_MT_ODATA || p.opcode == WDSMC_MT_RDATA);
        record(h, true, NULL, buf + off, dlen);
    }
    assert_true(n <= WDSMC_MT_BATCH_MAX_SEGS);
    h->batches++;
    h->batched += n;
    if (n > h->max_batch)
        h->max_batch = n;
}

static void cb_ucast(void *ctx, const struct wdsmc_endpoint *to, const uint8_t *buf, size_t len)
{
    record(ctx, false, to, buf, len);
}

static bool cb_pull(void *ctx, uint64_t *token)
{
    struct h *h = ctx;

    if (h->ma)
        return wdsmc_ma_server_pull_data(h->ma, token);
    if (h->next_token >= h->token_limit)
        return false;
    *token = h->next_token++;
    return true;
}

static ssize_t cb_fill(void *ctx, uint64_t token, uint8_t *buf, size_t cap)
{
    struct h *h = ctx;
    size_t n = h->fill_len ? h->fill_len : 8;

    if (token < 8 && h->token_len[token])
        n = h->token_len[token];
    if (h->ma)
        return wdsmc_ma_server_fill_data(h->ma, token, buf, cap);
    if (h->fill_err)
        return h->fill_err;
    assert_true(cap >= n);
    memset(buf, 0, n);
    memcpy(buf, &token, sizeof(token) < n ? sizeof(token) : n);
    return (ssize_t)n;
}

static void cb_pollack(void *ctx, uint32_t id, const uint8_t *app, size_t len, uint64_t now)
{
    struct h *h = ctx;

    h->pollack_calls++;
    h->pollack_len = len;
    if (h->ma)
        wdsmc_ma_server_pollack(h->ma, id, app, len, now);
}

static void cb_status(void *ctx, uint32_t id, const uint8_t *app, size_t len, uint64_t now)
{
    struct h *h = ctx;

    h->status_calls++;
    h->status_id = id;
    h->status_len = len;
    if (h->ma)
        wdsmc_ma_server_status(h->ma, id, app, len, now);
}

static void cb_data_empty(void *ctx, uint64_t now)
{
    struct h *h = ctx;

    h->data_empty_calls++;
    if (h->ma)
        wdsmc_ma_server_data_empty(h->ma, now);
}

static void cb_joined(void *ctx, uint32_t id, int reason)
{
    struct h *h = ctx;

    (void)id;
    assert_int_equal(reason, 0);
    h->joined++;
}

static void cb_left(void *ctx, uint32_t id, int reason)
{
    struct h *h = ctx;

    h->left++;
    h->last_left_id = id;
    h->last_left_reason = reason;
}

static void cb_terminated(void *ctx, int err)
{
    struct h *h = ctx;

    h->terminated++;
    h->term_err = err;
    if (h->ma)
        wdsmc_ma_server_terminate(h->ma, err);
}

static const struct wdsmc_mt_server_callbacks callbacks = {
        .send_mcast = cb_mcast,
        .send_ucast = cb_ucast,
        .pull_data = cb_pull,
        .fill_data = cb_fill,
        .pollack = cb_pollack,
        .status = cb_status,
        .data_empty = cb_data_empty,
        .client_joined = cb_joined,
        .client_left = cb_left,
        .terminated = cb_terminated,
};

static void h_start(struct h *h, const struct wdsmc_mt_server_config *cfg, uint64_t now)
{
    struct wdsmc_mt_server_callbacks cb = callbacks;

    cb.ctx = h;
    if (batching)
        cb.send_mcast_batch = cb_mcast_batch;
    assert_int_equal(wdsmc_mt_server_new(cfg, &cb, now, &h->s), 0);
}

static void h_init(struct h *h)
{
    struct wdsmc_mt_server_config cfg;

    memset(h, 0, sizeof(*h));
    wdsmc_mt_server_config_default(&cfg, SID, 42);
    h_start(h, &cfg, 1000);
}

static void h_clear(struct h *h)
{
    for (size_t i = 0; i < h->nout; i++)
        free(h->out[i].buf);
    h->nout = 0;
}

static void h_fini(struct h *h)
{
    h_clear(h);
    free(h->out);
    wdsmc_mt_server_free(h->s);
}

static int count_op(const struct h *h, uint8_t op)
{
    int n = 0;

    for (size_t i = 0; i < h->nout; i++)
        n += h->out[i].len > 9 && h->out[i].buf[9 + 4] == op;
    return n;
}

/* Decode the idx-th sent packet with opcode op (idx -1: the last). */
static const struct sent *get_op(const struct h *h, uint8_t op, int idx, struct wdsmc_mt_pkt *pkt)
{
    int want = idx < 0 ? count_op(h, op) - 1 : idx;

    for (size_t i = 0; i < h->nout; i++) {
        struct wdsmc_mt_pkt tmp;

        if (wdsmc_mt_decode(h->out[i].buf, h->out[i].len, &tmp) < 0)
            fail_msg("server sent an undecodable packet");
        if (tmp.opcode != op)
            continue;
        if (want-- == 0) {
            assert_int_equal(tmp.session_id, SID);
            assert_int_equal(tmp.sec_type, WDSMC_SEC_CHECKSUM);
            *pkt = tmp;
            return &h->out[i];
        }
    }
    fail_msg("no packet %s #%d", wdsmc_mt_op_name(op), idx);
    return NULL;
}

static struct wdsmc_endpoint ep(int n)
{
    struct wdsmc_endpoint e = {.ip = {.len = 4, .bytes = {10, 0, 0, (uint8_t)n}},
                               .port = (uint16_t)(4000 + n)};
    return e;
}

static struct wdsmc_mt_pkt pk(uint8_t op, uint64_t sender_time)
{
    struct wdsmc_mt_pkt p;

    memset(&p, 0, sizeof(p));
    p.sec_type = WDSMC_SEC_CHECKSUM;
    p.session_id = SID;
    p.opcode = op;
    p.sender_time = sender_time;
    return p;
}

static int feed(struct h *h, const struct wdsmc_mt_pkt *p, int from, uint64_t now)
{
    uint8_t buf[WDSMC_MAX_DATAGRAM];
    struct wdsmc_endpoint e = ep(from);
    ssize_t n = wdsmc_mt_encode(p, buf, sizeof(buf));

    assert_true(n > 0);
    return wdsmc_mt_server_handle(h->s, buf, (size_t)n, &e, now);
}

/* JOIN from endpoint n; returns the ClientId of the JOINACK it got. */
static uint32_t join(struct h *h, int n, uint64_t now)
{
    struct wdsmc_mt_pkt p = pk(WDSMC_MT_JOIN, 5000 + (uint64_t)n), ack;
    const struct sent *s;

    strcpy(p.u.join.client_name, "pc");
    p.u.join.ip = ep(n).ip;
    assert_int_equal(feed(h, &p, n, now), 0);
    s = get_op(h, WDSMC_MT_JOINACK, -1, &ack);
    assert_false(s->mcast);
    assert_int_equal(s->to.port, ep(n).port);
    return ack.u.joinack.client_id;
}

/* A QCR from endpoint `from`. */
static int qcr_from(struct h *h, int from, uint32_t id, uint64_t qcc_seq, uint16_t backoff,
                    uint64_t server_time, uint64_t loss, uint64_t now)
{
    struct wdsmc_mt_pkt p = pk(WDSMC_MT_QCR, 1);

    p.u.qcr.client_id = id;
    p.u.qcr.qcc_seq = qcc_seq;
    p.u.qcr.backoff = backoff;
    p.u.qcr.server_time = server_time;
    p.u.qcr.loss_rate = loss;
    return feed(h, &p, from, now);
}

static int qcr(struct h *h, uint32_t id, uint64_t qcc_seq, uint16_t backoff, uint64_t server_time,
               uint64_t loss, uint64_t now)
{
    return qcr_from(h, 1, id, qcc_seq, backoff, server_time, loss, now);
}

/* An ACK of everything up to `seq` (cumulative) with HiODATASeqNo `hi`. */
static int ack_full(struct h *h, uint32_t id, uint64_t seq, uint64_t hi, uint64_t server_time,
                    uint64_t now)
{
    struct wdsmc_mt_pkt p = pk(WDSMC_MT_ACK, 1);

    p.u.ack.client_id = id;
    p.u.ack.odata_seq = seq;
    p.u.ack.server_time = server_time;
    p.u.ack.hi_seq = hi;
    return feed(h, &p, 1, now);
}

static int ack(struct h *h, uint32_t id, uint64_t seq, uint64_t server_time, uint64_t now)
{
    return ack_full(h, id, seq, seq, server_time, now);
}

static int nack(struct h *h, uint32_t id, uint64_t loss, const struct wdsmc_range *r, uint16_t n,
                uint64_t now)
{
    struct wdsmc_mt_pkt p = pk(WDSMC_MT_NACK, 1);

    p.u.nack.client_id = id;
    p.u.nack.loss_rate = loss;
    p.u.nack.list.count = n;
    p.u.nack.list.ranges = r;
    return feed(h, &p, 1, now);
}

static int leave(struct h *h, uint32_t id, uint8_t reason, uint64_t now)
{
    struct wdsmc_mt_pkt p = pk(WDSMC_MT_LEAVE, 1);

    p.u.leave.client_id = id;
    p.u.leave.reason = reason;
    return feed(h, &p, 1, now);
}

static struct wdsmc_mt_server_stats stats(const struct h *h)
{
    struct wdsmc_mt_server_stats st;

    wdsmc_mt_server_get_stats(h->s, &st);
    return st;
}

/* One client joins at 1000 with RTT 0 and answers QCC #1: the server goes to
 * DataState at 1001 with it as the master. Returns its id. */
static uint32_t to_data(struct h *h)
{
    uint32_t id = join(h, 1, 1000);

    assert_int_equal(qcr(h, id, 0, 0, 1000, 0, 1000), 0);
    assert_int_equal(qcr(h, id, 1, 0, 1000, 0, 1000), 0);
    assert_int_equal(wdsmc_mt_server_deadline(h->s), 1001);
    wdsmc_mt_server_timeout(h->s, 1001);
    assert_int_equal(stats(h).state, WDSMC_MT_SERVER_DATA);
    assert_int_equal(stats(h).master_id, id);
    return id;
}

/* ------------------------------------------------------------------------ */
/* PreStart, JOIN, QCR                                                       */
/* ------------------------------------------------------------------------ */

static void test_mt_server_join_in_prestart_gets_joinack_and_nothing_to_group(void **state)
{
    struct h h;
    struct wdsmc_mt_pkt p;
    struct wdsmc_mt_client_info ci[2];
    uint32_t id;

    (void)state;
    h_init(&h);
    id = join(&h, 1, 1000);
    assert_int_not_equal(id, 0);
    get_op(&h, WDSMC_MT_JOINACK, 0, &p);
    assert_int_equal(p.sender_time, 1000);
    assert_int_equal(p.u.joinack.client_time, 5001);
    assert_int_equal(p.u.joinack.min_nack_backoff, 1);
    assert_int_equal(p.u.joinack.max_nack_backoff, 1);
    assert_int_equal(p.u.joinack.rtt, 0); /* no master yet (2.2.6) */
    assert_int_equal(h.nout, 1);
    assert_false(h.out[0].mcast);
    assert_int_equal(stats(&h).state, WDSMC_MT_SERVER_PRESTART);
    assert_int_equal(stats(&h).clients_pending, 1);
    assert_int_equal(wdsmc_mt_server_get_clients(h.s, ci, 2), 1);
    assert_int_equal(ci[0].state, WDSMC_MT_SC_PENDING);
    assert_string_equal(ci[0].name, "pc");
    assert_int_equal(ci[0].join_time, 1000);
    assert_int_equal(h.joined, 0);
    /* The JoinAck Timer is the earliest one. */
    assert_int_equal(wdsmc_mt_server_deadline(h.s), 1500);
    h_fini(&h);
}

static void test_mt_server_repeated_join_gets_same_client_id(void **state)
{
    struct h h;
    uint32_t a, b, c;

    (void)state;
    h_init(&h);
    a = join(&h, 1, 1000);
    b = join(&h, 1, 1200);
    assert_int_equal(a, b);
    assert_int_equal(count_op(&h, WDSMC_MT_JOINACK), 2);
    assert_int_equal(stats(&h).clients_pending, 1);
    c = join(&h, 2, 1200); /* another address: another client */
    assert_int_not_equal(c, a);
    assert_int_equal(stats(&h).clients_pending, 2);
    h_fini(&h);
}

/* Decision 42: MaxJoinAckSends JOINACKs, then silence, but the pending entry
 * stays until ClientDeadTimeout after its LastUpdate (the JOIN). */
static void test_mt_server_pending_entry_outlives_joinack_retries_until_dead(void **state)
{
    struct h h;

    (void)state;
    h_init(&h);
    join(&h, 1, 1000);
    wdsmc_mt_server_timeout(h.s, 1499);
    assert_int_equal(count_op(&h, WDSMC_MT_JOINACK), 1);
    wdsmc_mt_server_timeout(h.s, 1500);
    assert_int_equal(count_op(&h, WDSMC_MT_JOINACK), 2);
    assert_int_equal(wdsmc_mt_server_deadline(h.s), 2000);
    wdsmc_mt_server_timeout(h.s, 2000);
    assert_int_equal(count_op(&h, WDSMC_MT_JOINACK), 3); /* MaxJoinAckSends */
    assert_int_equal(wdsmc_mt_server_deadline(h.s), 1000 + 60000 + 1);
    wdsmc_mt_server_timeout(h.s, 2500);
    wdsmc_mt_server_timeout(h.s, 61000);
    assert_int_equal(count_op(&h, WDSMC_MT_JOINACK), 3);
    assert_int_equal(stats(&h).clients_pending, 1);
    wdsmc_mt_server_timeout(h.s, 61001);
    assert_int_equal(count_op(&h, WDSMC_MT_JOINACK), 3);
    assert_int_equal(stats(&h).clients_pending, 0);
    assert_int_equal(h.left, 0); /* it never joined */
    assert_int_equal(wdsmc_mt_server_deadline(h.s), 1000 + 300000);
    h_fini(&h);
}

/* Decisions 41, 42: every QCR answering a JOINACK was lost; the client, in
 * RegularState, sends its voluntary QCR after ForceQCCInterval (20 s). It
 * finds its pending entry and becomes active. */
static void test_mt_server_voluntary_qcr_activates_client_after_joinack_retries(void **state)
{
    struct h h;
    struct wdsmc_mt_client_info ci;
    uint32_t id;

    (void)state;
    h_init(&h);
    id = join(&h, 1, 1000);
    wdsmc_mt_server_timeout(h.s, 1500);
    wdsmc_mt_server_timeout(h.s, 2000);
    wdsmc_mt_server_timeout(h.s, 2500);
    assert_int_equal(stats(&h).clients_pending, 1);
    assert_int_equal(qcr(&h, id, 0, 0, 0, 0, 22000), 0);
    assert_int_equal(h.joined, 1);
    assert_int_equal(h.status_calls, 1);
    assert_int_equal(stats(&h).clients_active, 1);
    assert_int_equal(stats(&h).state, WDSMC_MT_SERVER_QCC);
    wdsmc_mt_server_get_clients(h.s, &ci, 1);
    assert_int_equal(ci.rtt, 0); /* voluntary: no RTT (decision 10) */
    assert_int_equal(ci.last_update, 22000);
    h_fini(&h);
}

/* Decision 41: the client's answer to the JOINACK is lost, but it answers a
 * QCC. That QCR (QCCSeqNo != 0), from its endpoint, makes it active; it
 * measures the RTT and answers the current QCC. */
static void test_mt_server_qcr_answering_a_qcc_activates_pending_client(void **state)
{
    struct h h;
    struct wdsmc_mt_client_info ci[2];
    uint32_t a, b;

    (void)state;
    h_init(&h);
    a = join(&h, 1, 1000);
    assert_int_equal(qcr(&h, a, 0, 0, 1000, 0, 1000), 0); /* QCC #1 at 1000 */
    b = join(&h, 2, 1000);
    /* From another endpoint, b's id is refused and b stays pending. */
    assert_int_equal(qcr_from(&h, 3, b, 1, 0, 1000, 0, 1000), -ENOENT);
    assert_int_equal(stats(&h).clients_pending, 1);
    /* From b's own endpoint: active, RTT 10 - 0 backoff. */
    assert_int_equal(qcr_from(&h, 2, b, 1, 0, 1000, 0, 1010), 0);
    assert_int_equal(h.joined, 2);
    assert_int_equal(h.status_id, b);
    assert_int_equal(stats(&h).clients_pending, 0);
    assert_int_equal(stats(&h).clients_active, 2);
    assert_int_equal(wdsmc_mt_server_get_clients(h.s, ci, 2), 2);
    assert_int_equal(ci[1].id, b);
    assert_int_equal(ci[1].rtt, 10);
    /* It answered QCC #1, the current one: it is the master. */
    wdsmc_mt_server_timeout(h.s, wdsmc_mt_server_deadline(h.s));
    assert_int_equal(stats(&h).state, WDSMC_MT_SERVER_DATA);
    assert_int_equal(stats(&h).master_id, b);
    h_fini(&h);
}

/* Decision 41: a NACK, POLLACK or ACK from a pending client's endpoint makes
 * it active (client_joined, an empty Status Trigger), then is processed. */
static void test_mt_server_nack_pollack_or_ack_activates_pending_client(void **state)
{
    struct h h;
    struct wdsmc_mt_pkt p;
    struct wdsmc_range r = {1, 1};
    const uint8_t app[] = {0, 3, 1};
    uint32_t m, b, c, d;

    (void)state;
    h_init(&h);
    h.token_limit = 100;
    m = to_data(&h);
    b = join(&h, 2, 1002);
    c = join(&h, 3, 1002);
    d = join(&h, 4, 1002);
    assert_int_equal(stats(&h).clients_pending, 3);

    /* NACK: active, then the NACK is served (NCF). */
    h_clear(&h);
    p = pk(WDSMC_MT_NACK, 1);
    p.u.nack.client_id = b;
    p.u.nack.list.count = 1;
    p.u.nack.list.ranges = &r;
    assert_int_equal(feed(&h, &p, 5, 1003), -ENOENT); /* not its endpoint */
    assert_int_equal(h.joined, 1);
    assert_int_equal(feed(&h, &p, 2, 1003), 0);
    assert_int_equal(h.joined, 2);
    assert_int_equal(h.status_id, b);
    assert_int_equal(h.status_len, 0);
    assert_int_equal(count_op(&h, WDSMC_MT_NCF), 1);

    /* POLLACK answering the current POLL: active, then the POLLACK Trigger. */
    assert_true(wdsmc_mt_server_poll(h.s, app, 3, 1004) >= 200);
    p = pk(WDSMC_MT_POLLACK, 1);
    p.u.pollack.client_id = c;
    p.u.pollack.poll_seq = 1;
    p.u.pollack.app = app;
    p.u.pollack.app_len = 3;
    assert_int_equal(feed(&h, &p, 3, 1005), 0);
    assert_int_equal(h.joined, 3);
    assert_int_equal(h.pollack_calls, 1);

    /* ACK: active, but only the master's ACK counts. */
    p = pk(WDSMC_MT_ACK, 1);
    p.u.ack.client_id = d;
    p.u.ack.odata_seq = 1;
    assert_int_equal(feed(&h, &p, 4, 1006), -ESTALE);
    assert_int_equal(h.joined, 4);
    assert_int_equal(stats(&h).clients_pending, 0);
    assert_int_equal(stats(&h).clients_active, 4);
    assert_int_equal(stats(&h).master_id, m);
    h_fini(&h);
}

static void test_mt_server_first_qcr_activates_client_and_enters_qcc(void **state)
{
    struct h h;
    struct wdsmc_mt_pkt p;
    struct wdsmc_mt_client_info ci;
    uint32_t id;

    (void)state;
    h_init(&h);
    id = join(&h, 1, 1000);
    /* Answer to the JOINACK sent at 1000, arriving at 1030 after a 0 backoff:
     * RTT 30 (decision 10). */
    assert_int_equal(qcr(&h, id, 0, 0, 1000, 0, 1030), 0);
    assert_int_equal(h.joined, 1);
    assert_int_equal(h.status_calls, 1);
    assert_int_equal(h.status_id, id);
    assert_int_equal(h.status_len, 0);
    assert_int_equal(stats(&h).state, WDSMC_MT_SERVER_QCC);
    wdsmc_mt_server_get_clients(h.s, &ci, 1);
    assert_int_equal(ci.state, WDSMC_MT_SC_ACTIVE);
    assert_int_equal(ci.rtt, 30);
    /* 3.1.5.7.3, decision 44: QCRBackOff = WaitTime = 1 ms per client; the
     * timer adds the highest RTT and a quarter of it. */
    get_op(&h, WDSMC_MT_QCC, 0, &p);
    assert_true(h.out[h.nout - 1].mcast);
    assert_int_equal(p.u.qcc.qcc_seq, 1);
    assert_int_equal(p.u.qcc.qcr_backoff, 1);
    assert_int_equal(wdsmc_mt_server_deadline(h.s), 1030 + 1 + 30 + 7);
    h_fini(&h);
}

static void test_mt_server_qcr_rtt_subtracts_backoff_and_ignores_voluntary(void **state)
{
    struct h h;
    struct wdsmc_mt_client_info ci;
    uint32_t id;

    (void)state;
    h_init(&h);
    id = join(&h, 1, 1000);
    assert_int_equal(qcr(&h, id, 0, 0, 1000, 0, 1010), 0); /* rtt 10 */
    /* QCC #1 went out at 1010; answered after a 20 ms backoff, at 1045. */
    assert_int_equal(qcr(&h, id, 1, 20, 1010, 0, 1045), 0);
    wdsmc_mt_server_get_clients(h.s, &ci, 1);
    assert_int_equal(ci.rtt, 15);
    /* Voluntary QCR: ServerTime 0, RTT unchanged, LastUpdate refreshed. */
    assert_int_equal(qcr(&h, id, 0, 0, 0, 0, 1050), 0);
    wdsmc_mt_server_get_clients(h.s, &ci, 1);
    assert_int_equal(ci.rtt, 15);
    assert_int_equal(ci.last_update, 1050);
    assert_int_equal(h.status_calls, 3);
    h_fini(&h);
}

static void test_mt_server_qcc_wait_time_doubles_without_clients(void **state)
{
    struct h h;
    struct wdsmc_mt_pkt p;
    uint64_t now = 1000;
    const uint16_t want[] = {2, 4, 8, 16, 32, 64, 128, 256, 500, 500};
    uint32_t id;

    (void)state;
    h_init(&h);
    id = join(&h, 1, 1000);
    assert_int_equal(qcr(&h, id, 0, 0, 1000, 0, 1000), 0);
    get_op(&h, WDSMC_MT_QCC, -1, &p);
    assert_int_equal(p.u.qcc.qcr_backoff, 1);
    assert_int_equal(leave(&h, id, WDSMC_LEAVE_COMPLETE, 1000), 0);
    assert_int_equal(h.left, 1);
    assert_int_equal(h.last_left_reason, WDSMC_MT_LEFT_COMPLETE);
    now = 1001;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_int_equal(wdsmc_mt_server_deadline(h.s), now);
        wdsmc_mt_server_timeout(h.s, now);
        get_op(&h, WDSMC_MT_QCC, -1, &p);
        assert_int_equal(p.u.qcc.qcc_seq, i + 2);
        assert_int_equal(p.u.qcc.qcr_backoff, want[i]);
        now += want[i];
    }
    assert_int_equal(stats(&h).state, WDSMC_MT_SERVER_QCC);
    h_fini(&h);
}

/* Decision 44: clients draw their delay in [0, QCRBackOff] (1 ms per client),
 * and the InState QCC Timer waits QCRBackOff + RTT + RTT / 4, so an answer
 * drawn at the very end of QCRBackOff still counts. */
static void test_mt_server_instate_qcc_timer_leaves_room_for_the_rtt(void **state)
{
    struct h h;
    struct wdsmc_mt_pkt p;
    uint32_t a, b;

    (void)state;
    h_init(&h);
    a = join(&h, 1, 1000);
    b = join(&h, 2, 1000);
    assert_int_equal(qcr(&h, a, 0, 0, 1000, 0, 1200), 0);         /* RTT 200 */
    assert_int_equal(qcr_from(&h, 2, b, 0, 0, 1000, 0, 1100), 0); /* RTT 100 */
    /* QCC #1 went out at 1200 when a alone was active: backoff 1. */
    get_op(&h, WDSMC_MT_QCC, 0, &p);
    assert_int_equal(p.u.qcc.qcr_backoff, 1);
    assert_int_equal(wdsmc_mt_server_deadline(h.s), 1200 + 1 + 200 + 50);
    /* Nobody answers; QCC #2 at 1451: 2 clients, backoff 2 (decision 46: the
     * doubled 2 is not more). */
    wdsmc_mt_server_timeout(h.s, 1451);
    get_op(&h, WDSMC_MT_QCC, -1, &p);
    assert_int_equal(p.u.qcc.qcc_seq, 2);
    assert_int_equal(p.u.qcc.qcr_backoff, 2);
    assert_int_equal(wdsmc_mt_server_deadline(h.s), 1451 + 2 + 250);
    /* a waited the whole 2 ms and its RTT is 200: the answer lands at 1653,
     * inside the timer (1703). */
    assert_int_equal(qcr(&h, a, 2, 2, 1451, 0, 1653), 0);
    wdsmc_mt_server_timeout(h.s, 1702);
    assert_int_equal(stats(&h).state, WDSMC_MT_SERVER_QCC);
    wdsmc_mt_server_timeout(h.s, 1703);
    assert_int_equal(stats(&h).state, WDSMC_MT_SERVER_DATA);
    assert_int_equal(stats(&h).master_id, a);
    h_fini(&h);
}

/* Decision 45: a QCR answering the QCC before the current one (NextQCCSeqNo
 * - 2) refreshes LastUpdate and RTT and reaches the application, but does not
 * answer the current round; older ones are stale. */
static void test_mt_server_qcr_answering_previous_qcc_refreshes_client_only(void **state)
{
    struct h h;
    struct wdsmc_mt_client_info ci;
    uint32_t a;

    (void)state;
    h_init(&h);
    a = join(&h, 1, 1000);
    assert_int_equal(qcr(&h, a, 0, 0, 1000, 0, 1000), 0); /* QCC #1 at 1000 */
    wdsmc_mt_server_timeout(h.s, 1001);                   /* QCC #2 */
    wdsmc_mt_server_timeout(h.s, 1003);                   /* QCC #3 */
    assert_int_equal(stats(&h).next_qcc_seq, 4);
    assert_int_equal(qcr(&h, a, 1, 0, 1000, 0, 1004), -ESTALE);
    assert_int_equal(h.status_calls, 1);
    assert_int_equal(qcr(&h, a, 2, 1, 1001, 0, 1005), 0);
    assert_int_equal(h.status_calls, 2);
    wdsmc_mt_server_get_clients(h.s, &ci, 1);
    assert_int_equal(ci.rtt, 3);
    assert_int_equal(ci.last_update, 1005);
    /* Not an answer to QCC #3: no master, QCC #4 follows. */
    wdsmc_mt_server_timeout(h.s, wdsmc_mt_server_deadline(h.s));
    assert_int_equal(stats(&h).state, WDSMC_MT_SERVER_QCC);
    assert_int_equal(stats(&h).next_qcc_seq, 5);
    h_fini(&h);
}

/* Decision 46: when the active clients have all gone silent (their LEAVEs
 * lost), unanswered InState QCCs back off like with no client at all, up to
 * NoClientQCCInterval, until ClientDeadTimeout removes them. */
static void test_mt_server_unanswered_instate_qcc_backs_off_with_silent_clients(void **state)
{
    struct h h;
    struct wdsmc_mt_pkt p;
    const uint16_t want[] = {6, 12, 24, 48, 96, 192, 384, 500, 500};
    uint64_t now = 1001;
    uint32_t id;

    (void)state;
    h_init(&h);
    for (int i = 1; i <= 3; i++) {
        id = join(&h, i, 1000);
        assert_int_equal(qcr_from(&h, i, id, 0, 0, 1000, 0, 1000), 0);
    }
    /* QCC #1 (1 client then active): backoff 1. QCC #2: 3 clients. */
    wdsmc_mt_server_timeout(h.s, now);
    get_op(&h, WDSMC_MT_QCC, -1, &p);
    assert_int_equal(p.u.qcc.qcr_backoff, 3);
    now += 3;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_int_equal(wdsmc_mt_server_deadline(h.s), now);
        wdsmc_mt_server_timeout(h.s, now);
        get_op(&h, WDSMC_MT_QCC, -1, &p);
        assert_int_equal(p.u.qcc.qcr_backoff, want[i]);
        now += want[i];
    }
    /* About two QCCs a second until the clients are dead at 61001. */
    h_clear(&h);
    while (wdsmc_mt_server_deadline(h.s) <= 61001)
        wdsmc_mt_server_timeout(h.s, wdsmc_mt_server_deadline(h.s));
    assert_true(count_op(&h, WDSMC_MT_QCC) <= 2 * 60 + 1);
    assert_int_equal(stats(&h).clients_active, 0);
    assert_int_equal(h.left, 3);
    h_fini(&h);
}

/* Decision 44: the POLL's BackOff field is PollBackOff, but the Query Timer
 * the MS-WDSMA server gets adds the largest RTT and a quarter of it, so a
 * POLLACK sent at the end of BackOff arrives in time. The POLLACK answering
 * the last POLL is accepted until the next POLL. */
static void test_mt_server_poll_timer_adds_rtt_allowance_to_poll_backoff(void **state)
{
    struct h h;
    struct wdsmc_mt_pkt p;
    const uint8_t app[] = {0, 3, 1};
    uint32_t a, b;

    (void)state;
    h_init(&h);
    a = join(&h, 1, 1000);
    assert_int_equal(qcr(&h, a, 0, 0, 1000, 0, 1240), 0); /* RTT 240 */
    b = join(&h, 2, 1000);
    assert_int_equal(qcr_from(&h, 2, b, 0, 0, 1000, 0, 1100), 0); /* RTT 100 */
    assert_int_equal(wdsmc_mt_server_poll(h.s, app, 3, 1300), 200 + 240 + 60);
    get_op(&h, WDSMC_MT_POLL, 0, &p);
    assert_int_equal(p.u.poll.backoff, 200);
    /* Answered after the whole 200 ms backoff, 240 ms round trip. */
    p = pk(WDSMC_MT_POLLACK, 1);
    p.u.pollack.client_id = a;
    p.u.pollack.poll_seq = 1;
    assert_int_equal(feed(&h, &p, 1, 1300 + 440), 0);
    assert_int_equal(feed(&h, &p, 1, 1300 + 900), 0);
    assert_int_equal(wdsmc_mt_server_poll(h.s, app, 3, 1300 + 1000), 500);
    assert_int_equal(feed(&h, &p, 1, 1300 + 1001), -ESTALE);
    assert_int_equal(h.pollack_calls, 2);
    h_fini(&h);
}

/* ------------------------------------------------------------------------ */
/* DataState                                                                 */
/* ------------------------------------------------------------------------ */

static void test_mt_server_instate_qcc_picks_highest_rtt_responder(void **state)
{
    struct h h;
    struct wdsmc_mt_pkt p;
    uint32_t a, b, c;

    (void)state;
    h_init(&h);
    a = join(&h, 1, 1000);
    b = join(&h, 2, 1000);
    c = join(&h, 3, 1000);
    assert_int_equal(qcr(&h, a, 0, 0, 1000, 0, 1000), 0); /* QCC #1 */
    assert_int_equal(qcr(&h, b, 0, 0, 1000, 0, 1000), 0);
    assert_int_equal(qcr(&h, c, 0, 0, 1000, 0, 1000), 0);
    /* QCC #1 at 1000 (backoff 1): nobody answers; QCC #2 at 1001. */
    wdsmc_mt_server_timeout(h.s, 1001);
    get_op(&h, WDSMC_MT_QCC, -1, &p);
    assert_int_equal(p.u.qcc.qcc_seq, 2);
    assert_int_equal(p.u.qcc.qcr_backoff, 3);             /* 3 clients, RTT 0 */
    assert_int_equal(qcr(&h, a, 2, 0, 1001, 0, 1002), 0); /* rtt 1 */
    assert_int_equal(qcr(&h, b, 2, 0, 1001, 0, 1004), 0); /* rtt 3 */
    /* c answers QCC #1, late: accepted (decision 45, RTT 4) but it did not
     * answer this round, so it is not a candidate. */
    assert_int_equal(qcr(&h, c, 1, 0, 1000, 0, 1004), 0);
    wdsmc_mt_server_timeout(h.s, 1004);
    assert_int_equal(stats(&h).state, WDSMC_MT_SERVER_DATA);
    assert_int_equal(stats(&h).master_id, b);
    assert_int_equal(stats(&h).mc_rtt, 3);
    get_op(&h, WDSMC_MT_SPM, 0, &p);
    assert_int_equal(p.u.spm.master_client_id, b);
    h_fini(&h);
}

static void test_mt_server_entering_data_sends_spm_and_arms_timers(void **state)
{
    struct h h;
    struct wdsmc_mt_pkt p;
    uint32_t id;

    (void)state;
    h_init(&h); /* no data: token_limit 0 */
    id = to_data(&h);
    get_op(&h, WDSMC_MT_SPM, 0, &p);
    assert_int_equal(p.sender_time, 1001);
    assert_int_equal(p.u.spm.spm_seq, 1);
    assert_int_equal(p.u.spm.master_client_id, id);
    /* max(2 x RTT, 1) with the RTT floored at 5 ms (decision 57). */
    assert_int_equal(p.u.spm.min_nack_backoff, 10);
    assert_int_equal(p.u.spm.max_nack_backoff, 10);
    /* Decision 11: nothing transmitted yet, trail = lead = 0. */
    assert_int_equal(p.u.spm.trail_seq, 0);
    assert_int_equal(p.u.spm.lead_seq, 0);
    assert_int_equal(count_op(&h, WDSMC_MT_ODATA), 0);
    /* Cleanup Data List Timer at +200 is the earliest (SPM at +220). */
    assert_int_equal(wdsmc_mt_server_deadline(h.s), 1201);
    wdsmc_mt_server_timeout(h.s, 1201);
    assert_int_equal(count_op(&h, WDSMC_MT_SPM), 1); /* nothing removed */
    assert_int_equal(h.data_empty_calls, 0);         /* nothing sent yet */
    assert_int_equal(wdsmc_mt_server_deadline(h.s), 1221);
    wdsmc_mt_server_timeout(h.s, 1221);
    assert_int_equal(count_op(&h, WDSMC_MT_SPM), 2);
    h_fini(&h);
}

static void test_mt_server_spm_fields_follow_master_rtt_and_client_count(void **state)
{
    struct h h;
    struct wdsmc_mt_pkt p;
    uint32_t ids[10];

    (void)state;
    h_init(&h);
    for (int i = 0; i < 10; i++) {
        ids[i] = join(&h, i + 1, 1000);
        assert_int_equal(qcr(&h, ids[i], 0, 0, 1000, 0, 1000), 0);
    }
    /* QCC #1 at 1000; client 4 answers with RTT 100. */
    assert_int_equal(qcr(&h, ids[4], 1, 0, 900, 0, 1000), 0);
    wdsmc_mt_server_timeout(h.s, wdsmc_mt_server_deadline(h.s));
    assert_int_equal(stats(&h).master_id, ids[4]);
    get_op(&h, WDSMC_MT_SPM, 0, &p);
    assert_int_equal(p.u.spm.rtt, 100);
    assert_int_equal(p.u.spm.min_nack_backoff, 200);
    assert_int_equal(p.u.spm.max_nack_backoff, 202); /* + 10 clients / 5 */
    /* QCC #1 (1 ms for the one client then active) ended at 1001. SPM Timer:
     * max(220, 4 x 100). */
    assert_int_equal(p.sender_time, 1001);
    h_clear(&h);
    wdsmc_mt_server_timeout(h.s, 1001 + 399);
    assert_int_equal(count_op(&h, WDSMC_MT_SPM), 0);
    wdsmc_mt_server_timeout(h.s, 1001 + 400);
    get_op(&h, WDSMC_MT_SPM, 0, &p);
    assert_int_equal(p.u.spm.spm_seq, 2);
    h_fini(&h);
}

static void test_mt_server_unanswered_spms_return_to_qcc_state(void **state)
{
    struct h h;
    uint64_t now = 1001;

    (void)state;
    h_init(&h);
    to_data(&h);
    /* SPM #1 went out on entering; #2..#5 at each SPM Timer. */
    for (int i = 2; i <= 5; i++) {
        now += 220;
        wdsmc_mt_server_timeout(h.s, now);
        assert_int_equal(count_op(&h, WDSMC_MT_SPM), i);
    }
    assert_int_equal(stats(&h).state, WDSMC_MT_SERVER_DATA);
    h_clear(&h);
    now += 220;
    wdsmc_mt_server_timeout(h.s, now);
    assert_int_equal(stats(&h).state, WDSMC_MT_SERVER_QCC);
    assert_int_equal(count_op(&h, WDSMC_MT_SPM), 0);
    assert_int_equal(count_op(&h, WDSMC_MT_QCC), 1);
    h_fini(&h);
}

static void test_mt_server_ack_of_spm_resets_spm_count(void **state)
{
    struct h h;
    uint64_t now = 1001;
    uint32_t id;

    (void)state;
    h_init(&h);
    id = to_data(&h);
    for (int i = 0; i < 20; i++) {
        now += 220;
        wdsmc_mt_server_timeout(h.s, now);
        assert_int_equal(ack(&h, id, 0, now, now + 5), 0);
    }
    assert_int_equal(stats(&h).state, WDSMC_MT_SERVER_DATA);
    assert_int_equal(stats(&h).mc_rtt, 5);
    h_fini(&h);
}

static void test_mt_server_first_odata_goes_out_without_ack(void **state)
{
    struct h h;
    struct wdsmc_mt_pkt p;
    uint32_t id;

    (void)state;
    h_init(&h);
    h.token_limit = 100;
    id = to_data(&h);
    /* Window 1, nothing in flight: one ODATA right after the SPM. */
    assert_int_equal(count_op(&h, WDSMC_MT_ODATA), 1);
    get_op(&h, WDSMC_MT_ODATA, 0, &p);
    assert_int_equal(p.u.data.client_id, id);
    assert_int_equal(p.u.data.seq, 1);
    assert_int_equal(p.u.data.trail_seq, 1);
    assert_int_equal(p.u.data.data_len, 8);
    assert_int_equal(stats(&h).mc_lead_seq, 1);
    assert_int_equal(stats(&h).window, 1);
    /* Nothing more until the master acknowledges. */
    wdsmc_mt_server_data_ready(h.s, 1002);
    assert_int_equal(count_op(&h, WDSMC_MT_ODATA), 1);
    h_fini(&h);
}

/* In DataState with ExpMaxWindowSize 8 and MaxWindowSize 12. */
static uint32_t to_data_small_window(struct h *h)
{
    struct wdsmc_mt_server_config cfg;

    memset(h, 0, sizeof(*h));
    wdsmc_mt_server_config_default(&cfg, SID, 42);
    cfg.params.exp_max_window_size = 8;
    cfg.params.max_window_size = 12;
    h_start(h, &cfg, 1000);
    h->token_limit = 1000;
    return to_data(h);
}

static void test_mt_server_ack_grows_window_exponentially_then_linearly(void **state)
{
    struct h h;
    uint64_t now = 1010;
    uint32_t id = to_data_small_window(&h);

    (void)state;

    /* ack 1: window 1 + 2 = 3, in flight 0: sends 2..4 */
    assert_int_equal(ack(&h, id, 1, 1001, now), 0);
    assert_int_equal(stats(&h).window, 3);
    assert_int_equal(stats(&h).mc_lead_seq, 4);
    assert_int_equal(count_op(&h, WDSMC_MT_ODATA), 4);
    /* ack 3 (2 packets): 3 + 4 = 7; in flight 1 (seq 4): sends 5..10 */
    assert_int_equal(ack(&h, id, 3, 1001, now), 0);
    assert_int_equal(stats(&h).window, 7);
    assert_int_equal(stats(&h).mc_lead_seq, 10);
    /* ack 4: min(7 + 2, 8) = 8 */
    assert_int_equal(ack(&h, id, 4, 1001, now), 0);
    assert_int_equal(stats(&h).window, 8);
    assert_int_equal(stats(&h).mc_lead_seq, 12);
    /* linear now: ack 6 (2 packets): 10 */
    assert_int_equal(ack(&h, id, 6, 1001, now), 0);
    assert_int_equal(stats(&h).window, 10);
    assert_int_equal(stats(&h).mc_lead_seq, 16);
    /* ack 16 (10 packets): min(20, 12) = 12 */
    assert_int_equal(ack(&h, id, 16, 1001, now), 0);
    assert_int_equal(stats(&h).window, 12);
    assert_int_equal(stats(&h).mc_lead_seq, 28);
    assert_int_equal(stats(&h).mc_trail_seq, 16);
    h_fini(&h);
}

/* Decision 65: while the socket is full no ODATA or RDATA goes out, not even
 * the rest of the flush that filled it; control packets (NCF) still do.
 * Resuming sends what is owed: new data up to the window, repairs. */
static void test_mt_server_full_socket_pauses_data(void **state)
{
    struct h h;
    uint64_t now = 1010;
    uint32_t id = to_data_small_window(&h);

    (void)state;
    /* 60000-byte payloads: each datagram is a batch of its own, so the
     * flush hands them over one at a time. */
    h.fill_len = 60000;
    assert_int_equal(ack(&h, id, 1, 1001, now), 0);
    assert_int_equal(stats(&h).mc_lead_seq, 4);

    /* The window opens to 7 (packets 5..10); the socket is full at the 2nd,
     * and the flush stops there (unpaused it would reach 10). */
    h.pause_after = 2;
    assert_int_equal(ack(&h, id, 3, 1001, now), 0);
    assert_int_equal(stats(&h).window, 7);
    uint64_t lead = stats(&h).mc_lead_seq;
    assert_int_equal(lead, 6);
    /* Paused: an ACK that opens the window sends nothing; room again, the
     * window's worth goes out. */
    assert_int_equal(ack(&h, id, 4, 1001, now), 0);
    assert_int_equal(stats(&h).mc_lead_seq, lead);
    wdsmc_mt_server_timeout(h.s, now + 1);
    assert_int_equal(stats(&h).mc_lead_seq, lead);
    wdsmc_mt_server_tx_resume(h.s, now + 1);
    assert_true(stats(&h).mc_lead_seq > lead);

    /* Paused again: a NACK gets its NCF, its repair waits for room. */
    wdsmc_mt_server_tx_pause(h.s);
    struct wdsmc_range r = {5, 5};
    assert_int_equal(nack(&h, id, 0, &r, 1, now + 100), 0);
    assert_int_equal(count_op(&h, WDSMC_MT_NCF), 1);
    wdsmc_mt_server_timeout(h.s, now + 101);
    assert_int_equal(count_op(&h, WDSMC_MT_RDATA), 0);
    wdsmc_mt_server_tx_resume(h.s, now + 101);
    assert_int_equal(count_op(&h, WDSMC_MT_RDATA), 1);
    h_fini(&h);
}

static int ack_hi(struct h *h, uint32_t id, uint64_t seq, uint64_t hi, uint64_t now)
{
    return ack_full(h, id, seq, hi, now, now);
}

/* Decision 60: a hole in the master's cumulative ACK does not stop the
 * window; its HiODATASeqNo does count, up to the span of 32 windows. */
static void test_mt_server_window_counts_from_masters_highest_packet(void **state)
{
    struct h h;
    uint64_t now = 1010;
    uint32_t id = to_data_small_window(&h);

    (void)state;
    assert_int_equal(ack(&h, id, 1, 1001, now), 0);  /* window 3, lead 4 */
    assert_int_equal(ack(&h, id, 4, 1001, now), 0);  /* window 8, lead 12 */
    assert_int_equal(ack(&h, id, 12, 1001, now), 0); /* window 12, lead 24 */
    assert_int_equal(stats(&h).window, 12);
    assert_int_equal(stats(&h).mc_lead_seq, 24);

    /* 13 is lost: the master has everything else up to 24. */
    assert_int_equal(ack_hi(&h, id, 12, 24, now), 0);
    assert_int_equal(stats(&h).mc_trail_seq, 12);
    assert_int_equal(stats(&h).mc_lead_seq, 36); /* a window past 24 */
    /* A NACK's HiODATASeqNo counts too. */
    struct wdsmc_range r = {13, 13};
    struct wdsmc_mt_pkt p = pk(WDSMC_MT_NACK, 1);
    p.u.nack.client_id = id;
    p.u.nack.hi_seq = 36;
    p.u.nack.list.count = 1;
    p.u.nack.list.ranges = &r;
    assert_int_equal(feed(&h, &p, 1, now), 0);
    assert_int_equal(stats(&h).window, 9); /* cut once (decision 58) */
    assert_int_equal(stats(&h).mc_lead_seq, 45);
    /* While 13 stays missing, new data runs at most 32 windows (384) past
     * the trail. */
    for (int i = 0; i < 100; i++)
        assert_int_equal(ack_hi(&h, id, 12, stats(&h).mc_lead_seq, now), 0);
    assert_int_equal(stats(&h).mc_lead_seq, 12 + 384);
    /* A HiODATASeqNo past the lead counts as the lead. */
    assert_int_equal(ack_hi(&h, id, 396, 5000, now), 0);
    assert_int_equal(stats(&h).mc_lead_seq, 396 + 12);
    assert_int_equal(ack_hi(&h, id, 396, 100000, now), 0);
    assert_int_equal(stats(&h).mc_lead_seq, 408 + 12);
    h_fini(&h);
}

/* Decision 63: the span past the oldest hole is also held to max_span_bytes
 * of the largest payload sent, but never below one window. */
static void test_mt_server_span_is_held_to_max_span_bytes(void **state)
{
    struct h h;
    struct wdsmc_mt_server_config cfg;
    uint64_t now = 1010;
    uint32_t id;

    (void)state;
    for (int pass = 0; pass < 2; pass++) {
        memset(&h, 0, sizeof(h));
        wdsmc_mt_server_config_default(&cfg, SID, 42);
        cfg.params.exp_max_window_size = 8;
        cfg.params.max_window_size = 12;
        /* 100 packets of the 8-byte payloads; then 5, under a window */
        cfg.params.max_span_bytes = pass == 0 ? 100 * 8 : 5 * 8;
        h_start(&h, &cfg, 1000);
        h.token_limit = 1000;
        id = to_data(&h);
        assert_int_equal(ack(&h, id, 1, 1001, now), 0);
        assert_int_equal(ack(&h, id, 4, 1001, now), 0);
        assert_int_equal(ack(&h, id, 12, 1001, now), 0); /* window 12, lead 24 */
        /* 13 (first pass) or 21 (second) is lost; the master has everything
         * else it is sent. The second hole lies 4 below the lead, so a span
         * of 5 packets without the floor would hold the lead at 25. */
        uint64_t trail = pass == 0 ? 12 : 20;
        for (int i = 0; i < 100; i++)
            assert_int_equal(ack_hi(&h, id, trail, stats(&h).mc_lead_seq, now), 0);
        assert_int_equal(stats(&h).mc_lead_seq, trail + (pass == 0 ? 100 : 12));
        h_fini(&h);
    }
}

/* Decision 65 with a rate cap: while paused no flush runs, so the rate
 * timer must not stay behind in the past, or the loop spins on it; resuming
 * sets it again. */
static void test_mt_server_pause_clears_the_rate_timer(void **state)
{
    struct h h;
    struct wdsmc_mt_server_config cfg;
    uint32_t id;

    (void)state;
    memset(&h, 0, sizeof(h));
    wdsmc_mt_server_config_default(&cfg, SID, 42);
    cfg.max_rate = 1000000; /* 60000-byte payloads: about one per 60 ms */
    cfg.params.spm_interval = 10000;
    h_start(&h, &cfg, 1000);
    h.token_limit = 1000;
    h.fill_len = 60000;
    id = to_data(&h);
    assert_int_equal(ack(&h, id, 1, 1001, 1001), 0); /* 2 sent, then the rate holds */
    uint64_t due = wdsmc_mt_server_deadline(h.s);
    assert_true(due > 1001 && due < 1200); /* the rate timer */
    wdsmc_mt_server_tx_pause(h.s);
    wdsmc_mt_server_timeout(h.s, due + 1);
    assert_true(wdsmc_mt_server_deadline(h.s) > due + 1);
    uint64_t lead = stats(&h).mc_lead_seq;
    wdsmc_mt_server_tx_resume(h.s, due + 1);
    assert_true(stats(&h).mc_lead_seq > lead);
    assert_true(wdsmc_mt_server_deadline(h.s) < UINT64_MAX);
    h_fini(&h);
}

/* Repairs owed while the rate limit holds them go out in order later, and
 * a repair owed below the others is found (the scan starts at the lowest). */
static void test_mt_server_repairs_held_by_the_rate_go_out_later(void **state)
{
    struct h h;
    struct wdsmc_mt_server_config cfg;
    struct wdsmc_mt_pkt p;
    struct wdsmc_range hi = {3, 4}, lo = {2, 2};
    uint32_t id;

    (void)state;
    memset(&h, 0, sizeof(h));
    wdsmc_mt_server_config_default(&cfg, SID, 42);
    cfg.max_rate = 1000000; /* 60000-byte payloads: about one per 60 ms */
    h_start(&h, &cfg, 1000);
    h.token_limit = 1000;
    h.fill_len = 60000;
    id = to_data(&h);
    assert_int_equal(ack(&h, id, 1, 1001, 1001), 0); /* window 3: 2 sent, then debt */
    uint64_t now = 1001;
    for (int guard = 0; stats(&h).mc_lead_seq < 4; guard++) {
        assert_true(guard < 100);
        now = wdsmc_mt_server_deadline(h.s);
        wdsmc_mt_server_timeout(h.s, now);
    }
    /* ODATA 4 just went out at `now`: the bucket is in debt. */
    h_clear(&h);
    assert_int_equal(nack(&h, id, 0, &hi, 1, now), 0);
    assert_int_equal(nack(&h, id, 0, &lo, 1, now), 0);
    assert_int_equal(count_op(&h, WDSMC_MT_RDATA), 0);
    /* One RDATA per refill (other timers may fire in between), and no new
     * ODATA before the owed repairs are out. */
    for (int i = 0; i < 50 && count_op(&h, WDSMC_MT_RDATA) < 3; i++) {
        int before = count_op(&h, WDSMC_MT_RDATA);
        wdsmc_mt_server_timeout(h.s, wdsmc_mt_server_deadline(h.s));
        assert_true(count_op(&h, WDSMC_MT_RDATA) <= before + 1);
        assert_int_equal(count_op(&h, WDSMC_MT_ODATA), 0);
    }
    assert_int_equal(count_op(&h, WDSMC_MT_RDATA), 3);
    for (int i = 0; i < 3; i++) {
        get_op(&h, WDSMC_MT_RDATA, (size_t)i, &p);
        assert_int_equal(p.u.data.seq, 2 + i);
    }
    h_fini(&h);
}

static void test_mt_server_ack_outside_trail_lead_or_from_non_master_is_ignored(void **state)
{
    struct h h;
    uint32_t id, other;

    (void)state;
    h_init(&h);
    h.token_limit = 1000;
    id = to_data(&h);
    other = join(&h, 2, 1002);
    assert_int_equal(qcr(&h, other, 0, 0, 1002, 0, 1002), 0);
    assert_int_equal(ack(&h, id, 2, 1001, 1005), -ESTALE); /* beyond lead 1 */
    assert_int_equal(ack(&h, other, 1, 1001, 1005), -ESTALE);
    assert_int_equal(stats(&h).window, 1);
    assert_int_equal(ack(&h, id, 1, 1001, 1005), 0);
    assert_int_equal(stats(&h).mc_trail_seq, 1);
    assert_int_equal(ack(&h, id, 0, 1001, 1005), -ESTALE); /* below trail */
    assert_int_equal(stats(&h).rx_dropped, 3);
    h_fini(&h);
}

static void test_mt_server_nack_shrinks_window_sends_ncf_and_rdata(void **state)
{
    struct h h;
    struct wdsmc_mt_pkt p;
    struct wdsmc_range r[2] = {{2, 3}, {40, 50}};
    uint32_t id;

    (void)state;
    h_init(&h);
    h.token_limit = 1000;
    id = to_data(&h);
    assert_int_equal(ack(&h, id, 1, 1001, 1001), 0); /* window 3, 2..4 sent */
    assert_int_equal(ack(&h, id, 4, 1001, 1001), 0); /* window 9, 5..13 */
    assert_int_equal(stats(&h).window, 9);
    h_clear(&h);
    /* MCRTT 0 here: nothing is "sent within 4 x MCRTT" at 1002, and a first
     * repair waits no longer (decision 57). */
    assert_int_equal(nack(&h, id, 0, r, 2, 1002), 0);
    assert_int_equal(stats(&h).window, 6); /* 9 x 0.75 */
    get_op(&h, WDSMC_MT_NCF, 0, &p);
    assert_int_equal(p.u.ncf.count, 2);
    assert_int_equal(wdsmc_mt_range_get(&p.u.ncf, 1).start, 40);
    assert_int_equal(wdsmc_mt_range_get(&p.u.ncf, 1).end, 50);
    /* RDATA for the held 2 and 3 only; 40..50 were never sent. */
    assert_int_equal(count_op(&h, WDSMC_MT_RDATA), 2);
    get_op(&h, WDSMC_MT_RDATA, 0, &p);
    assert_int_equal(p.u.data.seq, 2);
    assert_int_equal(p.u.data.trail_seq, 1); /* decision 11 */
    assert_int_equal(p.u.data.client_id, id);
    assert_memory_equal(p.u.data.data, &(uint64_t){1}, 8); /* token of seq 2 */
    get_op(&h, WDSMC_MT_RDATA, 1, &p);
    assert_int_equal(p.u.data.seq, 3);
    /* Decision 58: the same loss NACKed again (nothing sent after the cut)
     * does not cut again... */
    for (int i = 0; i < 5; i++)
        nack(&h, id, 0, r, 1, 1100 + (uint64_t)i);
    assert_int_equal(stats(&h).window, 6);
    /* ...nor does a NACK of packets never sent (a peer may list anything:
     * 40..50 lie past the lead)... */
    for (int i = 0; i < 5; i++)
        nack(&h, id, 0, &r[1], 1, 1200 + (uint64_t)i);
    assert_int_equal(stats(&h).window, 6);
    /* ...but the loss of a packet sent after the cut does, once. */
    assert_int_equal(ack(&h, id, 13, 1001, 1300), 0);
    uint64_t lead = stats(&h).mc_lead_seq, w = stats(&h).window;
    assert_true(lead > 14);
    struct wdsmc_range late = {lead, lead};
    for (int i = 0; i < 3; i++)
        nack(&h, id, 0, &late, 1, 1301 + (uint64_t)i);
    assert_int_equal(stats(&h).window, w * 3 / 4 > 2 ? w * 3 / 4 : 2);
    h_fini(&h);
}

/* Decision 57: once repaired, a packet is not repaired again within
 * MinNACKBackOff (2 x the RTT floored at 5 ms), however often it is NACKed
 * (RTT 0 would otherwise allow a resend per NACK); a NACK after that is. */
static void test_mt_server_repeated_repairs_wait_min_nack_backoff(void **state)
{
    struct h h;
    struct wdsmc_range r = {1, 1};
    uint32_t id;

    (void)state;
    h_init(&h);
    h.token_limit = 1000;
    id = to_data(&h); /* ODATA 1 at 1001, MCRTT 0 */
    assert_int_equal(nack(&h, id, 0, &r, 1, 1002), 0);
    assert_int_equal(count_op(&h, WDSMC_MT_RDATA), 1); /* first repair at once */
    for (uint64_t t = 1003; t < 1012; t += 2)
        assert_int_equal(nack(&h, id, 0, &r, 1, t), 0);
    assert_int_equal(nack(&h, id, 0, &r, 1, 1011), 0);
    assert_int_equal(count_op(&h, WDSMC_MT_RDATA), 1); /* held */
    assert_int_equal(nack(&h, id, 0, &r, 1, 1012), 0);
    assert_int_equal(count_op(&h, WDSMC_MT_RDATA), 2); /* 10 ms after the RDATA */
    for (uint64_t t = 1013; t < 1022; t += 4)
        assert_int_equal(nack(&h, id, 0, &r, 1, t), 0);
    assert_int_equal(count_op(&h, WDSMC_MT_RDATA), 2); /* held again */
    h_fini(&h);
}

static void test_mt_server_nack_skips_rdata_sent_within_4_rtt(void **state)
{
    struct h h;
    struct wdsmc_range r = {1, 1};
    uint32_t id;

    (void)state;
    h_init(&h);
    h.token_limit = 1000;
    id = to_data(&h);                                  /* ODATA 1 at 1001 */
    assert_int_equal(ack(&h, id, 0, 991, 1001), 0);    /* MCRTT 10 */
    assert_int_equal(nack(&h, id, 0, &r, 1, 1040), 0); /* 39 ms < 40: skip */
    assert_int_equal(count_op(&h, WDSMC_MT_RDATA), 0);
    assert_int_equal(count_op(&h, WDSMC_MT_NCF), 1);
    assert_int_equal(nack(&h, id, 0, &r, 1, 1041), 0); /* 40 ms: send */
    assert_int_equal(count_op(&h, WDSMC_MT_RDATA), 1);
    assert_int_equal(nack(&h, id, 0, &r, 1, 1042), 0); /* just resent */
    assert_int_equal(count_op(&h, WDSMC_MT_RDATA), 1);
    h_fini(&h);
}

static void test_mt_server_zero_nack_updates_loss_but_keeps_window(void **state)
{
    struct h h;
    uint32_t id;

    (void)state;
    h_init(&h);
    h.token_limit = 1000;
    id = to_data(&h);
    assert_int_equal(ack(&h, id, 1, 1001, 1001), 0);
    assert_int_equal(stats(&h).window, 3);
    assert_int_equal(nack(&h, id, 12345, NULL, 0, 1002), 0);
    assert_int_equal(stats(&h).window, 3);
    assert_int_equal(stats(&h).mc_loss_rate, 12345);
    assert_int_equal(count_op(&h, WDSMC_MT_NCF), 0);
    h_fini(&h);
}

static void test_mt_server_nack_from_slower_client_switches_master(void **state)
{
    struct h h;
    struct wdsmc_range r = {1, 1};
    struct wdsmc_mt_pkt p;
    uint32_t m, a, b;

    (void)state;
    h_init(&h);
    h.token_limit = 1000;
    m = to_data(&h); /* MCRTT clamped to 1 in the formula, loss 0 */
    a = join(&h, 2, 1002);
    assert_int_equal(qcr(&h, a, 0, 0, 1002, 0, 1002), 0);
    b = join(&h, 3, 1002);
    assert_int_equal(qcr(&h, b, 0, 0, 1000, 0, 1010), 0); /* rtt 10 */
    /* a: lossless, infinite throughput, never the master. */
    assert_int_equal(nack(&h, a, 0, &r, 1, 1020), 0);
    assert_int_equal(stats(&h).master_id, m);
    /* b: 1% loss against a lossless master: switch. */
    assert_int_equal(nack(&h, b, 100000000000000ULL, &r, 1, 1030), 0);
    assert_int_equal(stats(&h).master_id, b);
    assert_int_equal(stats(&h).mc_loss_rate, 100000000000000ULL);
    assert_int_equal(stats(&h).mc_rtt, 10);
    assert_int_equal(stats(&h).master_switches, 1);
    /* m, now worse (RTT 0 -> 1, loss 5%), but slower only by the formula if
     * its M exceeds b's by 1/0.75: (1 x sqrt(.05) x 1.47) vs (10 x .1 x 1.09)
     * -> not slower, no switch back. */
    assert_int_equal(nack(&h, m, 500000000000000ULL, &r, 1, 1040), 0);
    assert_int_equal(stats(&h).master_id, b);
    /* The next data carry the new master's id. */
    assert_int_equal(ack(&h, b, 1, 1030, 1041), 0);
    get_op(&h, WDSMC_MT_ODATA, -1, &p);
    assert_int_equal(p.u.data.client_id, b);
    h_fini(&h);
}

static void test_mt_server_new_master_acks_are_accepted_from_the_held_trail(void **state)
{
    struct h h;
    struct wdsmc_range r = {3, 3};
    uint32_t m, b;

    (void)state;
    h_init(&h);
    h.token_limit = 1000;
    m = to_data(&h);
    b = join(&h, 2, 1002);
    assert_int_equal(qcr(&h, b, 0, 0, 1000, 0, 1010), 0); /* rtt 10 */
    assert_int_equal(ack(&h, m, 1, 1001, 1001), 0);       /* 2..4 out */
    assert_int_equal(ack(&h, m, 4, 1001, 1001), 0);
    assert_int_equal(stats(&h).mc_trail_seq, 4);
    /* b missed 3 and becomes the master: the trail falls back below the
     * oldest held packet (1), so b's ACK of 2 counts. */
    assert_int_equal(nack(&h, b, 100000000000000ULL, &r, 1, 1020), 0);
    assert_int_equal(stats(&h).master_id, b);
    assert_int_equal(stats(&h).mc_trail_seq, 0);
    assert_int_equal(ack(&h, b, 2, 1020, 1030), 0);
    assert_int_equal(stats(&h).mc_trail_seq, 2);
    assert_int_equal(ack(&h, m, 4, 1001, 1030), -ESTALE); /* no longer the master */
    h_fini(&h);
}

static void test_mt_server_cleanup_removes_old_acked_and_fires_data_empty_once(void **state)
{
    struct h h;
    struct wdsmc_mt_pkt p;
    uint32_t id;

    (void)state;
    h_init(&h);
    h.token_limit = 5; /* tokens 0..4: ODATA 1..5 */
    id = to_data(&h);
    assert_int_equal(ack(&h, id, 1, 1001, 1001), 0);
    assert_int_equal(ack(&h, id, 4, 1001, 1001), 0);
    assert_int_equal(stats(&h).mc_lead_seq, 5);
    assert_int_equal(stats(&h).data_list_len, 5);
    /* Not acked to the end: no Data Empty, nothing old enough yet. */
    wdsmc_mt_server_timeout(h.s, 1201);
    assert_int_equal(h.data_empty_calls, 0);
    assert_int_equal(ack(&h, id, 5, 1001, 1300), 0);
    h_clear(&h);
    /* Acknowledged, but still young: Data Empty (decision 12) without
     * removal, and no SPM for it. */
    wdsmc_mt_server_timeout(h.s, 1401);
    assert_int_equal(h.data_empty_calls, 1);
    assert_int_equal(stats(&h).data_list_len, 5);
    /* Older than 1000 ms and below MCTrail (5): 1..4 go, with an SPM. */
    h_clear(&h);
    wdsmc_mt_server_timeout(h.s, 2002);
    assert_int_equal(stats(&h).data_list_len, 1);
    get_op(&h, WDSMC_MT_SPM, -1, &p);
    assert_int_equal(p.u.spm.trail_seq, 5);
    assert_int_equal(p.u.spm.lead_seq, 5);
    assert_int_equal(h.data_empty_calls, 1); /* once per batch */
    /* New data: sent at once (data_ready), acked, Data Empty again. */
    h.token_limit = 6;
    wdsmc_mt_server_data_ready(h.s, 2010);
    assert_int_equal(stats(&h).mc_lead_seq, 6);
    assert_int_equal(ack(&h, id, 6, 2010, 2011), 0);
    wdsmc_mt_server_timeout(h.s, 2202);
    assert_int_equal(h.data_empty_calls, 2);
    h_fini(&h);
}

/* ------------------------------------------------------------------------ */
/* Clients                                                                   */
/* ------------------------------------------------------------------------ */

static void test_mt_server_client_cleanup_removes_dead_clients(void **state)
{
    struct h h;
    uint32_t a, b;

    (void)state;
    h_init(&h);
    a = join(&h, 1, 1000);
    assert_int_equal(qcr(&h, a, 0, 0, 1000, 0, 1000), 0);
    b = join(&h, 2, 1000);
    assert_int_equal(qcr(&h, b, 0, 0, 1000, 0, 1000), 0);
    assert_int_equal(qcr(&h, b, 0, 0, 0, 0, 30000), 0); /* b stays alive */
    wdsmc_mt_server_timeout(h.s, 61000);                /* exactly 60 s: kept */
    assert_int_equal(stats(&h).clients_active, 2);
    wdsmc_mt_server_timeout(h.s, 61001);
    assert_int_equal(stats(&h).clients_active, 1);
    assert_int_equal(h.left, 1);
    assert_int_equal(h.last_left_id, a);
    assert_int_equal(h.last_left_reason, WDSMC_MT_LEFT_DEAD);
    wdsmc_mt_server_timeout(h.s, 90001);
    assert_int_equal(stats(&h).clients_active, 0);
    h_fini(&h);
}

static void test_mt_server_master_leave_returns_to_qcc_state(void **state)
{
    struct h h;
    uint32_t m;

    (void)state;
    h_init(&h);
    m = to_data(&h);
    h_clear(&h);
    assert_int_equal(leave(&h, m, 7 /* unknown reason */, 1100), 0);
    assert_int_equal(h.last_left_reason, WDSMC_MT_LEFT_CANCELLED);
    assert_int_equal(stats(&h).state, WDSMC_MT_SERVER_QCC);
    assert_int_equal(stats(&h).master_id, 0);
    assert_int_equal(count_op(&h, WDSMC_MT_QCC), 1);
    assert_int_equal(leave(&h, m, 0, 1100), -ENOENT);
    h_fini(&h);
}

static void test_mt_server_pollack_validated_against_last_poll_seq(void **state)
{
    struct h h;
    struct wdsmc_mt_pkt p;
    const uint8_t app[] = {0, 3, 1};
    uint32_t id;

    (void)state;
    h_init(&h);
    id = join(&h, 1, 1000);
    /* PreStart: the POLL answer is the same but nothing is sent. */
    assert_int_equal(wdsmc_mt_server_poll(h.s, app, 3, 1000), 200);
    assert_int_equal(count_op(&h, WDSMC_MT_POLL), 0);
    assert_int_equal(qcr(&h, id, 0, 0, 1000, 0, 1000), 0);
    assert_int_equal(wdsmc_mt_server_poll(h.s, app, 3, 1000), 200);
    assert_int_equal(wdsmc_mt_server_poll(h.s, app, 3, 1001), 200);
    get_op(&h, WDSMC_MT_POLL, 1, &p);
    assert_true(h.out[h.nout - 1].mcast);
    assert_int_equal(p.u.poll.poll_seq, 2);
    assert_int_equal(p.u.poll.backoff, 200);
    assert_int_equal(p.u.poll.app_len, 3);
    assert_memory_equal(p.u.poll.app, app, 3);

    p = pk(WDSMC_MT_POLLACK, 1);
    p.u.pollack.client_id = id;
    p.u.pollack.poll_seq = 1;
    p.u.pollack.app = app;
    p.u.pollack.app_len = 2;
    assert_int_equal(feed(&h, &p, 1, 1002), -ESTALE);
    p.u.pollack.poll_seq = 2;
    assert_int_equal(feed(&h, &p, 1, 1002), 0);
    assert_int_equal(h.pollack_calls, 1);
    assert_int_equal(h.pollack_len, 2);
    p.u.pollack.client_id = id + 1;
    assert_int_equal(feed(&h, &p, 1, 1002), -ENOENT);
    h_fini(&h);
}

static void test_mt_server_inactivity_terminates(void **state)
{
    struct h h;

    (void)state;
    h_init(&h);
    join(&h, 1, 100000);
    /* JoinAck retries, then the pending client is dropped. */
    while (wdsmc_mt_server_deadline(h.s) < 400000)
        wdsmc_mt_server_timeout(h.s, wdsmc_mt_server_deadline(h.s));
    assert_int_equal(count_op(&h, WDSMC_MT_JOINACK), 3);
    assert_int_equal(h.terminated, 0);
    assert_int_equal(wdsmc_mt_server_deadline(h.s), 400000);
    wdsmc_mt_server_timeout(h.s, 400000);
    assert_int_equal(h.terminated, 1);
    assert_int_equal(h.term_err, -ETIMEDOUT);
    assert_int_equal(stats(&h).state, WDSMC_MT_SERVER_DONE);
    assert_int_equal(wdsmc_mt_server_deadline(h.s), UINT64_MAX);
    assert_int_equal(qcr(&h, 1, 0, 0, 0, 0, 400001), -ESHUTDOWN);
    wdsmc_mt_server_timeout(h.s, 500000);
    assert_int_equal(h.terminated, 1);
    h_fini(&h);
}

static void test_mt_server_kick_sends_kick_and_repeats_until_leave(void **state)
{
    struct h h;
    struct wdsmc_mt_pkt p;
    struct wdsmc_mt_kick_entry e;
    uint32_t m, a;

    (void)state;
    h_init(&h);
    m = to_data(&h);
    a = join(&h, 2, 1002);
    assert_int_equal(qcr(&h, a, 0, 0, 1002, 0, 1002), 0);
    h_clear(&h);
    assert_int_equal(wdsmc_mt_server_kick(h.s, a, WDSMC_KICK_FALLBACK, 2000), 0);
    get_op(&h, WDSMC_MT_KICK, 0, &p);
    assert_int_equal(p.u.kick.count, 1);
    e = wdsmc_mt_kick_get(&p.u.kick, 0);
    assert_int_equal(e.client_id, a);
    assert_int_equal(e.reason, WDSMC_KICK_FALLBACK);
    assert_int_equal(stats(&h).clients_kicked, 1);
    assert_int_equal(stats(&h).state, WDSMC_MT_SERVER_DATA); /* not the master */
    assert_int_equal(wdsmc_mt_server_kick(h.s, a, 0, 2000), -ENOENT);
    /* Kicked clients' packets: their POLLACKs and NACKs are not taken. */
    assert_int_equal(nack(&h, a, 0, NULL, 0, 2001), -ENOENT);
    wdsmc_mt_server_timeout(h.s, 17000);
    assert_int_equal(count_op(&h, WDSMC_MT_KICK), 2);
    assert_int_equal(leave(&h, a, WDSMC_LEAVE_CANCELLED, 17001), 0);
    assert_int_equal(h.last_left_reason, WDSMC_MT_LEFT_KICKED);
    wdsmc_mt_server_timeout(h.s, 32000); /* list empty: timer stops */
    assert_int_equal(count_op(&h, WDSMC_MT_KICK), 2);
    /* Kicking the master sends the session back to QCCState. */
    assert_int_equal(qcr(&h, m, 0, 0, 0, 0, 32000), 0); /* keep it alive */
    assert_int_equal(wdsmc_mt_server_kick(h.s, m, WDSMC_KICK_FAIL, 32000), 0);
    assert_int_equal(stats(&h).state, WDSMC_MT_SERVER_QCC);
    h_fini(&h);
}

static void test_mt_server_kick_all_ends_when_kick_list_empties(void **state)
{
    struct h h;
    struct wdsmc_mt_pkt p;
    uint32_t ids[3];

    (void)state;
    h_init(&h);
    h.token_limit = 1000;
    ids[0] = to_data(&h);
    ids[1] = join(&h, 2, 1002);
    assert_int_equal(qcr(&h, ids[1], 0, 0, 1002, 0, 1002), 0);
    ids[2] = join(&h, 3, 1002); /* still pending */
    h_clear(&h);
    assert_int_equal(wdsmc_mt_server_kick_all(h.s, WDSMC_KICK_FAIL, 2000), 0);
    assert_int_equal(wdsmc_mt_server_kick_all(h.s, WDSMC_KICK_FAIL, 2000), -ESHUTDOWN);
    assert_int_equal(h.nout, 1);
    get_op(&h, WDSMC_MT_KICK, 0, &p);
    assert_int_equal(p.u.kick.count, 3);
    assert_int_equal(stats(&h).state, WDSMC_MT_SERVER_CLOSING);
    /* Nothing but KICKs: no SPM, no ODATA, no POLL; JOINs refused. */
    wdsmc_mt_server_timeout(h.s, 5000);
    assert_int_equal(wdsmc_mt_server_poll(h.s, (const uint8_t *)"abc", 3, 5000), 200);
    assert_int_equal(h.nout, 1);
    assert_int_equal(ack(&h, ids[0], 1, 1001, 5000), -ESTALE);
    {
        struct wdsmc_mt_pkt j = pk(WDSMC_MT_JOIN, 1);

        j.u.join.ip = ep(9).ip;
        assert_int_equal(feed(&h, &j, 9, 5000), -EUSERS);
    }
    assert_int_equal(leave(&h, ids[0], 1, 5001), 0);
    assert_int_equal(leave(&h, ids[1], 1, 5002), 0);
    assert_int_equal(h.terminated, 0);
    assert_int_equal(leave(&h, ids[2], 1, 5003), 0);
    assert_int_equal(h.terminated, 1);
    assert_int_equal(h.term_err, -ECANCELED);
    h_fini(&h);
}

static void test_mt_server_kick_all_names_200_per_packet_and_gives_up_after_30s(void **state)
{
    struct h h;
    struct wdsmc_mt_server_config cfg;
    struct wdsmc_mt_pkt p;

    (void)state;
    memset(&h, 0, sizeof(h));
    wdsmc_mt_server_config_default(&cfg, SID, 7);
    cfg.max_clients = 250;
    h_start(&h, &cfg, 1000);
    for (int i = 0; i < 201; i++) {
        struct wdsmc_mt_pkt j = pk(WDSMC_MT_JOIN, 1);

        j.u.join.ip = ep(1).ip;
        /* distinct ports, same host */
        {
            uint8_t buf[256];
            struct wdsmc_endpoint e = ep(1);
            ssize_t n = wdsmc_mt_encode(&j, buf, sizeof(buf));

            e.port = (uint16_t)(10000 + i);
            assert_int_equal(wdsmc_mt_server_handle(h.s, buf, (size_t)n, &e, 1000), 0);
        }
    }
    assert_int_equal(stats(&h).clients_pending, 201);
    h_clear(&h);
    assert_int_equal(wdsmc_mt_server_kick_all(h.s, WDSMC_KICK_POLICY_NOT_MET, 2000), 0);
    assert_int_equal(count_op(&h, WDSMC_MT_KICK), 2);
    get_op(&h, WDSMC_MT_KICK, 0, &p);
    assert_int_equal(p.u.kick.count, 200);
    get_op(&h, WDSMC_MT_KICK, 1, &p);
    assert_int_equal(p.u.kick.count, 1);
    wdsmc_mt_server_timeout(h.s, 17000);
    assert_int_equal(count_op(&h, WDSMC_MT_KICK), 4);
    wdsmc_mt_server_timeout(h.s, 31999);
    assert_int_equal(h.terminated, 0);
    assert_int_equal(wdsmc_mt_server_deadline(h.s), 32000);
    wdsmc_mt_server_timeout(h.s, 32000);
    assert_int_equal(h.terminated, 1);
    assert_int_equal(h.term_err, -ECANCELED);
    h_fini(&h);
}

static void test_mt_server_demote_sends_demote_and_repeats(void **state)
{
    struct h h;
    struct wdsmc_mt_pkt p;
    struct wdsmc_mt_demote_target t = {
            .session_id = 99,
            .mcast = {.ip = {.len = 4, .bytes = {239, 0, 0, 1}}, .port = 6000},
            .ucast = {.ip = {.len = 4, .bytes = {10, 0, 0, 100}}, .port = 6000},
    };
    uint32_t m, a, b;

    (void)state;
    h_init(&h);
    m = to_data(&h);
    a = join(&h, 2, 1002);
    assert_int_equal(qcr(&h, a, 0, 0, 1002, 0, 1002), 0);
    b = join(&h, 3, 1002);
    assert_int_equal(qcr(&h, b, 0, 0, 1002, 0, 1002), 0);
    h_clear(&h);
    assert_int_equal(wdsmc_mt_server_demote(h.s, a, &t, 2000), 0);
    get_op(&h, WDSMC_MT_DEMOTE, 0, &p);
    assert_int_equal(p.u.demote.lower_session_id, 99);
    assert_int_equal(p.u.demote.mport, 6000);
    assert_int_equal(p.u.demote.maddr.bytes[0], 239);
    assert_int_equal(p.u.demote.count, 1);
    assert_int_equal(wdsmc_mt_demote_get(&p.u.demote, 0), a);
    /* Timer running: the second demote waits for it. */
    assert_int_equal(wdsmc_mt_server_demote(h.s, b, &t, 2100), 0);
    assert_int_equal(count_op(&h, WDSMC_MT_DEMOTE), 1);
    wdsmc_mt_server_timeout(h.s, 2500);
    get_op(&h, WDSMC_MT_DEMOTE, 1, &p);
    assert_int_equal(p.u.demote.count, 2);
    assert_int_equal(stats(&h).clients_demoted, 2);
    assert_int_equal(leave(&h, a, 1, 2600), 0);
    assert_int_equal(h.last_left_reason, WDSMC_MT_LEFT_DEMOTED);
    assert_int_equal(leave(&h, b, 1, 2600), 0);
    wdsmc_mt_server_timeout(h.s, 3000); /* list empty: stops */
    assert_int_equal(count_op(&h, WDSMC_MT_DEMOTE), 2);
    t.mcast.ip.len = 5;
    assert_int_equal(wdsmc_mt_server_demote(h.s, m, &t, 3000), -EINVAL);
    h_fini(&h);
}

static void test_mt_server_rate_limit_moves_deadline(void **state)
{
    struct h h;
    struct wdsmc_mt_server_config cfg;
    uint32_t id;
    uint64_t now = 1001;
    size_t pkt_len;

    (void)state;
    memset(&h, 0, sizeof(h));
    wdsmc_mt_server_config_default(&cfg, SID, 42);
    /* 60000-byte payloads at 1 MB/s: the bucket (65507 bytes) allows one or
     * two, then one every ~60 ms. */
    cfg.max_rate = 1000000;
    h_start(&h, &cfg, 1000);
    h.token_limit = 1000;
    h.fill_len = 60000;
    id = to_data(&h);
    assert_int_equal(count_op(&h, WDSMC_MT_ODATA), 1);
    pkt_len = h.out[h.nout - 1].len;
    assert_true(pkt_len > 60000);
    assert_int_equal(ack(&h, id, 1, 1001, now), 0); /* window 3 */
    assert_int_equal(count_op(&h, WDSMC_MT_ODATA), 2);
    /* The bucket is in debt now: the deadline is the refill, not the SPM. */
    {
        uint64_t d = wdsmc_mt_server_deadline(h.s);

        assert_true(d > now && d < now + 200);
        wdsmc_mt_server_timeout(h.s, d - 1);
        assert_int_equal(count_op(&h, WDSMC_MT_ODATA), 2);
        wdsmc_mt_server_timeout(h.s, d);
        assert_int_equal(count_op(&h, WDSMC_MT_ODATA), 3);
        assert_true(wdsmc_mt_server_deadline(h.s) >= d + 55);
    }
    /* Over a second, never more than the rate plus the bucket. */
    while (now < 2001) {
        uint64_t d = wdsmc_mt_server_deadline(h.s);

        now = d < now + 1 ? now + 1 : d;
        wdsmc_mt_server_timeout(h.s, now);
        ack(&h, id, stats(&h).mc_lead_seq, now, now);
    }
    assert_true(stats(&h).odata_bytes <= 1000000 + 65507 + pkt_len);
    assert_true(stats(&h).odata_bytes >= 1000000 - 2 * pkt_len);
    h_fini(&h);
}

static void test_mt_server_refuses_joins_over_max_clients(void **state)
{
    struct h h;
    struct wdsmc_mt_server_config cfg;
    struct wdsmc_mt_pkt j = pk(WDSMC_MT_JOIN, 1);

    (void)state;
    memset(&h, 0, sizeof(h));
    wdsmc_mt_server_config_default(&cfg, SID, 42);
    cfg.max_clients = 2;
    h_start(&h, &cfg, 1000);
    join(&h, 1, 1000);
    join(&h, 2, 1000);
    j.u.join.ip = ep(3).ip;
    assert_int_equal(feed(&h, &j, 3, 1000), -EUSERS);
    assert_int_equal(count_op(&h, WDSMC_MT_JOINACK), 2);
    assert_int_equal(stats(&h).joins_refused, 1);
    /* A repeated JOIN of a pending client is still answered. */
    assert_int_equal(join(&h, 2, 1100), join(&h, 2, 1100));
    h_fini(&h);
}

/* Decision 43: a QCR, NACK, POLLACK or ACK naming a ClientId on no list is
 * dropped and answered with one unicast KICK (FAIL) naming that id, at most
 * one per endpoint per second. A LEAVE is only dropped. */
static void test_mt_server_unknown_client_id_gets_rate_limited_unicast_kick(void **state)
{
    struct h h;
    struct wdsmc_mt_pkt p;
    struct wdsmc_range r = {1, 1};
    const struct sent *o;
    uint32_t id;

    (void)state;
    h_init(&h);
    h.token_limit = 10;
    id = to_data(&h);
    h_clear(&h);
    assert_int_equal(qcr(&h, id + 1, 0, 0, 1000, 0, 1005), -ENOENT);
    assert_int_equal(h.nout, 1);
    o = get_op(&h, WDSMC_MT_KICK, 0, &p);
    assert_false(o->mcast);
    assert_int_equal(o->to.port, ep(1).port);
    assert_memory_equal(o->to.ip.bytes, ep(1).ip.bytes, 4);
    assert_int_equal(p.u.kick.count, 1);
    assert_int_equal(wdsmc_mt_kick_get(&p.u.kick, 0).client_id, id + 1);
    assert_int_equal(wdsmc_mt_kick_get(&p.u.kick, 0).reason, WDSMC_KICK_FAIL);
    /* Within the second: dropped, no KICK. */
    assert_int_equal(nack(&h, id + 1, 0, &r, 1, 1005), -ENOENT);
    assert_int_equal(ack(&h, id + 1, 1, 1001, 2004), -ENOENT);
    assert_int_equal(leave(&h, id + 1, 0, 2005), -ENOENT);
    assert_int_equal(h.nout, 1);
    /* A second later, the next one gets its KICK. */
    p = pk(WDSMC_MT_POLLACK, 1);
    p.u.pollack.client_id = id + 1;
    p.u.pollack.poll_seq = 1;
    assert_int_equal(feed(&h, &p, 1, 2005), -ENOENT);
    assert_int_equal(count_op(&h, WDSMC_MT_KICK), 1 + 1);
    assert_int_equal(stats(&h).stray_kicks, 2);
    assert_int_equal(stats(&h).kick_packets, 2);
    assert_int_equal(h.status_calls, 2);
    assert_int_equal(stats(&h).clients_active, 1);
    h_fini(&h);
}

/* Decision 43: the table of recently kicked endpoints is bounded; with every
 * slot used within the second nothing more goes out. */
static void test_mt_server_unknown_client_id_kicks_are_bounded_per_second(void **state)
{
    struct h h;
    int n = WDSMC_MT_SERVER_STRAY_KICK_SLOTS;

    (void)state;
    h_init(&h);
    for (int i = 1; i <= n + 4; i++)
        assert_int_equal(qcr_from(&h, i, 77, 0, 0, 0, 0, 1000), -ENOENT);
    assert_int_equal(count_op(&h, WDSMC_MT_KICK), n);
    assert_int_equal(qcr_from(&h, n + 4, 77, 0, 0, 0, 0, 1999), -ENOENT);
    assert_int_equal(count_op(&h, WDSMC_MT_KICK), n);
    assert_int_equal(qcr_from(&h, n + 4, 77, 0, 0, 0, 0, 2000), -ENOENT);
    assert_int_equal(count_op(&h, WDSMC_MT_KICK), n + 1);
    /* ClientId 0 is never assigned: nobody to kick. */
    assert_int_equal(qcr_from(&h, n + 5, 0, 0, 0, 0, 0, 3000), -ENOENT);
    assert_int_equal(count_op(&h, WDSMC_MT_KICK), n + 1);
    assert_int_equal(stats(&h).state, WDSMC_MT_SERVER_PRESTART);
    h_fini(&h);
}

static void test_mt_server_rejects_wrong_session_security_and_opcode(void **state)
{
    struct h h;
    struct wdsmc_mt_pkt p;
    uint8_t buf[256];
    struct wdsmc_endpoint e = ep(1);
    ssize_t n;

    (void)state;
    h_init(&h);
    p = pk(WDSMC_MT_JOIN, 1);
    p.u.join.ip = e.ip;
    p.session_id = SID + 1;
    assert_int_equal(feed(&h, &p, 1, 1000), -EXDEV);
    p.session_id = SID;
    p.sec_type = WDSMC_SEC_NONE;
    assert_int_equal(feed(&h, &p, 1, 1000), -EPROTO);
    p = pk(WDSMC_MT_SPM, 1);
    assert_int_equal(feed(&h, &p, 1, 1000), -EPROTO);
    p = pk(WDSMC_MT_JOIN, 1);
    p.u.join.ip = e.ip;
    n = wdsmc_mt_encode(&p, buf, sizeof(buf));
    buf[n - 1] ^= 1; /* checksum mismatch */
    assert_int_equal(wdsmc_mt_server_handle(h.s, buf, (size_t)n, &e, 1000), -WDSMC_ECHECKSUM);
    assert_int_equal(wdsmc_mt_server_handle(h.s, buf, 3, &e, 1000), -WDSMC_ETRUNC);
    assert_int_equal(h.nout, 0);
    assert_int_equal(stats(&h).rx_dropped, 5);
    /* None of these re-armed the Inactivity Timer. */
    assert_int_equal(wdsmc_mt_server_deadline(h.s), 301000);
    h_fini(&h);
}

static void test_mt_server_new_rejects_bad_config(void **state)
{
    struct wdsmc_mt_server_config cfg;
    struct wdsmc_mt_server_callbacks cb = callbacks;
    struct wdsmc_mt_server *s = NULL;

    (void)state;
    wdsmc_mt_server_config_default(&cfg, SID, 1);
    cfg.server_sec = WDSMC_SEC_HASH;
    assert_int_equal(wdsmc_mt_server_new(&cfg, &cb, 0, &s), -ENOKEY);
    cfg.server_sec = 4;
    assert_int_equal(wdsmc_mt_server_new(&cfg, &cb, 0, &s), -EINVAL);
    cfg.server_sec = WDSMC_SEC_NONE;
    cfg.client_sec = WDSMC_SEC_SIGN;
    assert_int_equal(wdsmc_mt_server_new(&cfg, &cb, 0, &s), -ENOTSUP);
    cfg.client_sec = WDSMC_SEC_NONE;
    cfg.params.max_window_size = 4;
    cfg.params.exp_max_window_size = 8;
    assert_int_equal(wdsmc_mt_server_new(&cfg, &cb, 0, &s), -EINVAL);
    wdsmc_mt_server_params_default(&cfg.params);
    cb.fill_data = NULL;
    assert_int_equal(wdsmc_mt_server_new(&cfg, &cb, 0, &s), -EINVAL);
    assert_null(s);
    wdsmc_mt_server_free(NULL);
    assert_string_equal(wdsmc_mt_server_state_name(WDSMC_MT_SERVER_DATA), "DATA");
    assert_string_equal(wdsmc_mt_server_state_name(99), "?");
}

static void test_mt_server_security_none_both_ways(void **state)
{
    struct h h;
    struct wdsmc_mt_server_config cfg;
    struct wdsmc_mt_pkt p = pk(WDSMC_MT_JOIN, 1), out;

    (void)state;
    memset(&h, 0, sizeof(h));
    wdsmc_mt_server_config_default(&cfg, SID, 42);
    cfg.server_sec = cfg.client_sec = WDSMC_SEC_NONE;
    h_start(&h, &cfg, 1000);
    p.sec_type = WDSMC_SEC_NONE;
    p.u.join.ip = ep(1).ip;
    assert_int_equal(feed(&h, &p, 1, 1000), 0);
    assert_int_equal(h.nout, 1);
    assert_true(wdsmc_mt_decode(h.out[0].buf, h.out[0].len, &out) > 0);
    assert_int_equal(out.sec_type, WDSMC_SEC_NONE);
    p.sec_type = WDSMC_SEC_CHECKSUM;
    assert_int_equal(feed(&h, &p, 1, 1000), -EPROTO);
    h_fini(&h);
}

static void test_mt_server_next_client_id_is_random_and_never_zero(void **state)
{
    struct h a, b;
    struct wdsmc_mt_server_config cfg;
    uint32_t ia, ib;

    (void)state;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    wdsmc_mt_server_config_default(&cfg, SID, 1);
    h_start(&a, &cfg, 1000);
    cfg.seed = 2;
    h_start(&b, &cfg, 1000);
    ia = join(&a, 1, 1000);
    ib = join(&b, 1, 1000);
    assert_int_not_equal(ia, 0);
    assert_int_not_equal(ib, 0);
    assert_int_not_equal(ia, ib);
    assert_int_equal(join(&a, 2, 1000), ia + 1);
    h_fini(&a);
    h_fini(&b);
}

static void test_mt_server_fill_error_terminates_session(void **state)
{
    struct h h;
    uint32_t id;

    (void)state;
    h_init(&h);
    h.token_limit = 10;
    h.fill_err = -EIO;
    id = join(&h, 1, 1000);
    assert_int_equal(qcr(&h, id, 0, 0, 1000, 0, 1000), 0);
    assert_int_equal(qcr(&h, id, 1, 0, 1000, 0, 1000), 0);
    wdsmc_mt_server_timeout(h.s, 1001);
    assert_int_equal(count_op(&h, WDSMC_MT_SPM), 1);
    assert_int_equal(count_op(&h, WDSMC_MT_ODATA), 0);
    assert_int_equal(h.terminated, 1);
    assert_int_equal(h.term_err, -EIO);
    assert_int_equal(stats(&h).state, WDSMC_MT_SERVER_DONE);
    h_fini(&h);
}

/* The payload of a sent ODATA is its token (cb_fill). */
static uint64_t odata_token(const struct h *h, int idx)
{
    struct wdsmc_mt_pkt p;
    uint64_t token = 0;

    get_op(h, WDSMC_MT_ODATA, idx, &p);
    memcpy(&token, p.u.data.data, p.u.data.data_len < 8 ? p.u.data.data_len : 8);
    return token;
}

/* With send_mcast_batch, the data packets of one flush go out in batches of
 * one length, within WDSMC_MT_BATCH_MAX_BYTES; a longer datagram starts a
 * new batch, a shorter one ends its batch, and what is sent after a batch
 * (the SPM when the source runs dry) goes after it. */
static void test_mt_server_batches_data_packets_of_one_length(void **state)
{
    struct h h;
    uint64_t now = 1010;
    bool was = batching;
    uint32_t id;

    (void)state;
    batching = true;
    h_init(&h);
    h.token_limit = 8;
    h.token_len[4] = 4; /* ODATA 5 */
    h.token_len[6] = 6; /* ODATA 7 */
    id = to_data(&h);
    assert_int_equal(count_op(&h, WDSMC_MT_ODATA), 1); /* window 1 */
    assert_int_equal(h.batches, 0);                    /* a batch of one is a send */
    assert_int_equal(ack(&h, id, 1, 1001, now), 0);    /* window 3: ODATA 2..4 */
    assert_int_equal(h.batches, 1);
    assert_int_equal(h.batched, 3);
    h_clear(&h);
    h.batches = h.batched = 0;

    /* Window 9: ODATA 5 (4 bytes), 6 (8), 7 (6), 8 (8). ODATA 6 is longer:
     * ODATA 5 goes alone and ODATA 6 starts a batch, which the shorter
     * ODATA 7 ends. ODATA 8 starts the next; the source is then dry, and
     * the SPM that says so goes after ODATA 8. */
    assert_int_equal(ack(&h, id, 4, 1001, now), 0);
    assert_int_equal(h.batches, 1);
    assert_int_equal(h.batched, 2);
    assert_int_equal(count_op(&h, WDSMC_MT_ODATA), 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(odata_token(&h, i), (uint64_t)i + 4);
    assert_int_equal(h.out[h.nout - 1].buf[9 + 4], WDSMC_MT_SPM);
    h_fini(&h);

    /* 9000-byte payloads: seven datagrams fill a batch. */
    h_init(&h);
    h.token_limit = 1000;
    h.fill_len = 9000;
    id = to_data(&h);
    assert_int_equal(ack(&h, id, 1, 1001, now), 0); /* window 3: ODATA 2..4 */
    h_clear(&h);
    h.batches = h.batched = 0;
    assert_int_equal(ack(&h, id, 4, 1001, now), 0); /* window 9: ODATA 5..13 */
    assert_int_equal(count_op(&h, WDSMC_MT_ODATA), 9);
    assert_int_equal(h.batches, 2);
    assert_int_equal(h.batched, 9);
    assert_int_equal(h.max_batch, 7); /* 7 of 9000 bytes and headers fit 65507 */
    for (int i = 0; i < 9; i++)
        assert_int_equal(odata_token(&h, i), (uint64_t)i + 4);
    h_fini(&h);
    batching = was;
}

/* A payload that fills the datagram (the 65448-byte block of MS-WDSMA in
 * 65461 bytes of CHECKSUM ODATA payload) leaves no room for
 * ODATA_FW_LEAD_SEQ_NO: such ODATA go without it, and the session goes on;
 * 12 bytes less and the option is back. */
static void test_mt_server_full_datagram_goes_without_ack_option(void **state)
{
    struct h h;
    struct wdsmc_mt_pkt p;
    uint64_t now = 1010;

    (void)state;
    for (int pass = 0; pass < 2; pass++) {
        h_init(&h);
        h.token_limit = 1000;
        h.fill_len = pass == 0 ? 13 + 65448 : 13 + 65448 - 12;
        uint32_t id = to_data(&h);
        assert_int_equal(ack(&h, id, 1, 1001, now), 0); /* window 3 */
        h_clear(&h);
        assert_int_equal(ack(&h, id, 4, 1001, now), 0); /* window 9: 5..13 */
        assert_int_equal(h.terminated, 0);
        assert_int_equal(count_op(&h, WDSMC_MT_ODATA), 9);
        int with = 0;
        for (int i = 0; i < 9; i++) {
            get_op(&h, WDSMC_MT_ODATA, i, &p);
            assert_int_equal(p.u.data.data_len, h.fill_len);
            with += p.opts.has_fw_lead;
        }
        assert_int_equal(with, pass == 0 ? 0 : 9);
        h_fini(&h);
    }
}

static void test_mt_server_data_list_is_capped(void **state)
{
    struct h h;
    struct wdsmc_mt_server_config cfg;
    uint32_t id;

    (void)state;
    memset(&h, 0, sizeof(h));
    wdsmc_mt_server_config_default(&cfg, SID, 42);
    cfg.max_data_list = 4;
    h_start(&h, &cfg, 1000);
    h.token_limit = 1000;
    id = to_data(&h);
    assert_int_equal(ack(&h, id, 1, 1001, 1001), 0); /* window 3: 2..4 */
    assert_int_equal(stats(&h).data_list_len, 4);
    /* Acked 1..3: the list is full but 1 and 2 may go early. */
    assert_int_equal(ack(&h, id, 3, 1001, 1001), 0); /* window 7 */
    assert_int_equal(stats(&h).data_list_len, 4);
    assert_int_equal(stats(&h).mc_lead_seq, 6);
    assert_int_equal(stats(&h).mc_trail_seq, 3);
    h_fini(&h);
}

/* ------------------------------------------------------------------------ */
/* MS-WDSMT + MS-WDSMA together                                              */
/* ------------------------------------------------------------------------ */

static int glue_poll(void *ctx, const uint8_t *app, size_t len, uint64_t now)
{
    struct h *h = ctx;

    return wdsmc_mt_server_poll(h->s, app, len, now);
}

static ssize_t glue_read(void *ctx, uint64_t off, uint8_t *buf, size_t len)
{
    struct h *h = ctx;

    if (off > h->content_size)
        return -EINVAL;
    if (len > h->content_size - off)
        len = h->content_size - off;
    memcpy(buf, h->content + off, len);
    return (ssize_t)len;
}

static void glue_ready(void *ctx, uint64_t now)
{
    struct h *h = ctx;

    wdsmc_mt_server_data_ready(h->s, now);
}

static void glue_progress(void *ctx, uint32_t id, uint8_t progress, uint32_t tis, uint64_t now)
{
    struct h *h = ctx;

    (void)now;
    wdsmc_mt_server_set_progress(h->s, id, progress, tis);
}

#define BLOCKS 23
#define BSIZE  100

/* A hand-driven client: the master acks every ODATA, answers QCCs and POLLs
 * with its missing ranges; it loses every 5th ODATA the first time. */
struct fake_client {
    uint32_t id;
    bool have[BLOCKS];
    uint8_t data[BLOCKS * BSIZE];
    uint64_t hi_seq;
    uint64_t seen_qcc, seen_poll, seen_odata;
};

static size_t client_cntcir(const struct fake_client *c, uint8_t *buf, size_t cap)
{
    struct wdsmc_ma_pkt m = {.opcode = WDSMC_MA_CNTCIR};
    int got = 0;
    ssize_t n;

    for (int b = 0; b < BLOCKS; b++) {
        if (c->have[b]) {
            got++;
            continue;
        }
        if (m.u.cntcir.range_count &&
            m.u.cntcir.ranges[m.u.cntcir.range_count - 1].end + 1 == (uint64_t)b) {
            m.u.cntcir.ranges[m.u.cntcir.range_count - 1].end = (uint64_t)b;
        } else if (m.u.cntcir.range_count < WDSMC_MA_MAX_RANGES) {
            m.u.cntcir.ranges[m.u.cntcir.range_count++] = (struct wdsmc_range){b, b};
        }
    }
    m.u.cntcir.progress = (uint8_t)(100 * got / BLOCKS);
    m.u.cntcir.time_in_session = 3;
    n = wdsmc_ma_encode(&m, buf, cap);
    assert_true(n > 0);
    return (size_t)n;
}

/* Deliver what the server sent since the last call to the client; returns
 * the number of packets looked at. */
static size_t client_step(struct h *h, struct fake_client *c, size_t from, uint64_t now)
{
    size_t end = h->nout;

    for (size_t i = from; i < end; i++) {
        struct wdsmc_mt_pkt p, r;

        assert_true(wdsmc_mt_decode(h->out[i].buf, h->out[i].len, &p) > 0);
        if (p.opcode == WDSMC_MT_QCC && p.u.qcc.qcc_seq > c->seen_qcc) {
            c->seen_qcc = p.u.qcc.qcc_seq;
            r = pk(WDSMC_MT_QCR, now);
            r.u.qcr.client_id = c->id;
            r.u.qcr.qcc_seq = p.u.qcc.qcc_seq;
            r.u.qcr.server_time = p.sender_time;
            r.u.qcr.hi_seq = c->hi_seq;
            feed(h, &r, 1, now);
        } else if (p.opcode == WDSMC_MT_POLL && p.u.poll.poll_seq > c->seen_poll) {
            uint8_t app[2048];

            c->seen_poll = p.u.poll.poll_seq;
            r = pk(WDSMC_MT_POLLACK, now);
            r.u.pollack.client_id = c->id;
            r.u.pollack.poll_seq = p.u.poll.poll_seq;
            r.u.pollack.app = app;
            r.u.pollack.app_len = (uint16_t)client_cntcir(c, app, sizeof(app));
            feed(h, &r, 1, now);
        } else if (p.opcode == WDSMC_MT_ODATA || p.opcode == WDSMC_MT_RDATA) {
            struct wdsmc_ma_pkt m;

            assert_true(wdsmc_ma_decode(p.u.data.data, p.u.data.data_len, &m) > 0);
            assert_int_equal(m.opcode, WDSMC_MA_DATA);
            assert_true(m.u.data.block < BLOCKS);
            c->seen_odata++;
            /* lose every 5th packet */
            if (c->seen_odata % 5 != 0) {
                memcpy(c->data + m.u.data.block * BSIZE, m.u.data.data, m.u.data.data_len);
                c->have[m.u.data.block] = true;
            }
            if (p.u.data.seq > c->hi_seq)
                c->hi_seq = p.u.data.seq;
            /* The master acknowledges (ignoring the loss at this layer:
             * recovery is left to the next MS-WDSMA round). */
            r = pk(WDSMC_MT_ACK, now);
            r.u.ack.client_id = c->id;
            r.u.ack.odata_seq = c->hi_seq;
            r.u.ack.server_time = p.sender_time;
            r.u.ack.hi_seq = c->hi_seq;
            feed(h, &r, 1, now);
        } else if (p.opcode == WDSMC_MT_SPM) {
            r = pk(WDSMC_MT_ACK, now);
            r.u.ack.client_id = c->id;
            r.u.ack.odata_seq = c->hi_seq;
            r.u.ack.server_time = p.sender_time;
            feed(h, &r, 1, now);
        }
    }
    return end;
}

static bool client_complete(const struct fake_client *c)
{
    for (int b = 0; b < BLOCKS; b++) {
        if (!c->have[b])
            return false;
    }
    return true;
}

static void test_mt_ma_server_deliver_every_block(void **state)
{
    static uint8_t content[BLOCKS * BSIZE - 37];
    struct h h;
    struct fake_client c;
    struct wdsmc_ma_server_config mcfg = {.content_size = sizeof(content), .block_size = BSIZE};
    struct wdsmc_ma_server_callbacks mcb = {
            .ctx = &h,
            .poll = glue_poll,
            .read = glue_read,
            .data_ready = glue_ready,
            .progress = glue_progress,
    };
    struct wdsmc_mt_client_info ci;
    struct wdsmc_ma_server_stats ms;
    size_t seen = 0;
    uint64_t now = 1000;

    (void)state;
    for (size_t i = 0; i < sizeof(content); i++)
        content[i] = (uint8_t)(i * 31 + 7);
    h_init(&h);
    h.content = content;
    h.content_size = sizeof(content);
    assert_int_equal(wdsmc_ma_server_new(&mcfg, &mcb, &h.ma), 0);

    memset(&c, 0, sizeof(c));
    c.id = join(&h, 1, now);
    seen = h.nout;
    /* QCR answering the JOINACK: starts MT (QCC) and MA (first POLL). */
    assert_int_equal(qcr(&h, c.id, 0, 0, now, 0, now + 2), 0);
    assert_int_equal(count_op(&h, WDSMC_MT_POLL), 1);
    now += 2;
    for (int step = 0; step < 20000 && !client_complete(&c); step++) {
        uint64_t d;

        seen = client_step(&h, &c, seen, now);
        d = wdsmc_mt_server_deadline(h.s);
        if (wdsmc_ma_server_deadline(h.ma) < d)
            d = wdsmc_ma_server_deadline(h.ma);
        assert_true(d != UINT64_MAX);
        if (d > now)
            now = d;
        wdsmc_mt_server_timeout(h.s, now);
        wdsmc_ma_server_timeout(h.ma, now);
    }
    assert_true(client_complete(&c));
    assert_memory_equal(c.data, content, sizeof(content));
    assert_int_equal(h.terminated, 0);
    wdsmc_ma_server_get_stats(h.ma, &ms);
    assert_true(ms.data_rounds >= 2); /* the losses needed a second round */
    assert_true(h.data_empty_calls >= 1);
    /* A PROGRESS from the client reaches the per-client statistics. */
    {
        struct wdsmc_mt_pkt r = pk(WDSMC_MT_QCR, now);
        struct wdsmc_ma_pkt m = {.opcode = WDSMC_MA_PROGRESS};
        uint8_t app[8];

        m.u.progress.progress = 100;
        m.u.progress.time_in_session = 9;
        r.u.qcr.client_id = c.id;
        r.u.qcr.app = app;
        r.u.qcr.app_len = (uint16_t)wdsmc_ma_encode(&m, app, sizeof(app));
        assert_int_equal(feed(&h, &r, 1, now), 0);
        wdsmc_mt_server_get_clients(h.s, &ci, 1);
        assert_true(ci.has_progress);
        assert_int_equal(ci.progress, 100);
        assert_int_equal(ci.time_in_session, 9);
    }
    /* Terminate reaches the MA server. */
    assert_int_equal(wdsmc_mt_server_kick_all(h.s, WDSMC_KICK_FAIL, now), 0);
    assert_int_equal(leave(&h, c.id, WDSMC_LEAVE_CANCELLED, now + 1), 0);
    assert_int_equal(h.terminated, 1);
    wdsmc_ma_server_get_stats(h.ma, &ms);
    assert_int_equal(ms.state, WDSMC_MA_SERVER_DONE);
    assert_int_equal(ms.err, -ECANCELED);
    wdsmc_ma_server_free(h.ma);
    h_fini(&h);
}

/* ------------------------------------------------------------------------ */
/* HASH and SIGN (MS-WDSMT 3.1.5.1.1, MS-WDSMSI 3.1.5.1)                     */
/* ------------------------------------------------------------------------ */

static const struct wdsmc_mt_keys srv_keys = {
        .sym_key = symkey_41,
        .sym_key_len = sizeof(symkey_41),
        .sign_priv = test_priv_blob,
        .sign_priv_len = sizeof(test_priv_blob),
        .hash_alg = WDSMC_CALG_SHA_256,
        .hmac_alg = WDSMC_CALG_HMAC,
};

/* What a client holds: SymKey and the public SignKey. */
static const struct wdsmc_mt_keys cli_keys = {
        .sym_key = symkey_41,
        .sym_key_len = sizeof(symkey_41),
        .sign_key = test_pub_blob,
        .sign_key_len = sizeof(test_pub_blob),
};

static int feed_sec(struct h *h, const struct wdsmc_mt_security *sec, struct wdsmc_mt_pkt *p,
                    int flip, int from, uint64_t now)
{
    uint8_t buf[WDSMC_MAX_DATAGRAM];
    struct wdsmc_endpoint e = ep(from);
    ssize_t n = wdsmc_mt_encode_sec(p, sec, buf, sizeof(buf));

    assert_true(n > 0);
    if (flip >= 0)
        buf[flip] ^= 0x80;
    return wdsmc_mt_server_handle(h->s, buf, (size_t)n, &e, now);
}

static int qcr_sec(struct h *h, const struct wdsmc_mt_security *sec, uint32_t id,
                   uint64_t server_time, uint64_t now)
{
    struct wdsmc_mt_pkt p = pk(WDSMC_MT_QCR, 2);

    p.u.qcr.client_id = id;
    p.u.qcr.server_time = server_time;
    return feed_sec(h, sec, &p, -1, 1, now);
}

static void run_secure_join(uint8_t server_sec)
{
    struct h h;
    struct wdsmc_mt_server_config cfg;
    struct wdsmc_mt_server_stats st;
    struct wdsmc_mtsec cli;
    struct wdsmc_mt_security hash, check, cks = {.mode = WDSMC_SEC_CHECKSUM};
    struct wdsmc_mt_pkt p = pk(WDSMC_MT_JOIN, 1), out;

    memset(&h, 0, sizeof(h));
    wdsmc_mt_server_config_default(&cfg, SID, 42);
    cfg.server_sec = server_sec;
    cfg.client_sec = WDSMC_SEC_HASH;
    cfg.keys = &srv_keys;
    h_start(&h, &cfg, 1000);
    assert_int_equal(wdsmc_mtsec_init(&cli, &cli_keys, WDSMC_MTSEC_HMAC | WDSMC_MTSEC_VERIFY, 0),
                     0);
    wdsmc_mtsec_view(&cli, WDSMC_SEC_HASH, &hash);
    wdsmc_mtsec_view(&cli, server_sec, &check);

    strcpy(p.u.join.client_name, "pc");
    p.u.join.ip = ep(1).ip;
    /* A JOIN with a bad HMAC, or a CHECKSUM one, gets nothing. */
    assert_int_equal(feed_sec(&h, &hash, &p, 50, 1, 1000), -WDSMC_EHMAC);
    assert_int_equal(feed_sec(&h, &hash, &p, 7, 1, 1000), -WDSMC_EHMAC);
    assert_int_equal(feed_sec(&h, &cks, &p, -1, 1, 1000), -EPROTO);
    assert_int_equal(h.nout, 0);
    wdsmc_mt_server_get_stats(h.s, &st);
    assert_int_equal(st.auth_failures, 2);
    assert_int_equal(st.rx_dropped, 3);

    /* The genuine JOIN is answered with a JOINACK the client can check. */
    assert_int_equal(feed_sec(&h, &hash, &p, -1, 1, 1000), 0);
    assert_int_equal(h.nout, 1);
    assert_int_equal(wdsmc_mt_decode_sec(h.out[0].buf, h.out[0].len, &check, &out),
                     (ssize_t)h.out[0].len);
    assert_int_equal(out.opcode, WDSMC_MT_JOINACK);
    assert_int_equal(out.sec_type, server_sec);
    assert_int_equal(out.sec_len, server_sec == WDSMC_SEC_SIGN ? 128 : 32);

    /* Its QCR makes it active; the session's multicast packets verify too. */
    assert_int_equal(qcr_sec(&h, &hash, out.u.joinack.client_id, out.sender_time, 1001), 0);
    wdsmc_mt_server_timeout(h.s, 1200);
    wdsmc_mt_server_get_stats(h.s, &st);
    assert_int_equal(st.clients_active, 1);
    assert_true(h.nout > 1);
    for (size_t i = 1; i < h.nout; i++)
        assert_int_equal(wdsmc_mt_decode_sec(h.out[i].buf, h.out[i].len, &check, &out),
                         (ssize_t)h.out[i].len);
    wdsmc_mtsec_fini(&cli);
    h_fini(&h);
}

static void test_mt_server_hash_mode_checks_and_sends_hmac(void **state)
{
    (void)state;
    run_secure_join(WDSMC_SEC_HASH);
}

static void test_mt_server_sign_mode_signs_what_it_sends(void **state)
{
    (void)state;
    run_secure_join(WDSMC_SEC_SIGN);
}

static void test_mt_server_hash_sign_creation_needs_the_keys(void **state)
{
    struct wdsmc_mt_server_config cfg;
    struct wdsmc_mt_server_callbacks cb = callbacks;
    struct wdsmc_mt_server *s = NULL;
    struct wdsmc_mt_keys k = srv_keys;

    (void)state;
    wdsmc_mt_server_config_default(&cfg, SID, 1);
    cfg.keys = &k;
    cfg.server_sec = WDSMC_SEC_SIGN;
    cfg.client_sec = WDSMC_SEC_HASH;
    k.sign_priv = NULL;
    assert_int_equal(wdsmc_mt_server_new(&cfg, &cb, 0, &s), -ENOKEY);
    k = srv_keys;
    k.sign_priv = test_pub_blob; /* a public key cannot sign */
    k.sign_priv_len = sizeof(test_pub_blob);
    assert_int_equal(wdsmc_mt_server_new(&cfg, &cb, 0, &s), -WDSMC_EKEYBLOB);
    k = srv_keys;
    k.sym_key = NULL;
    assert_int_equal(wdsmc_mt_server_new(&cfg, &cb, 0, &s), -ENOKEY);
    k = srv_keys;
    k.hmac_alg = 0x800C;
    assert_int_equal(wdsmc_mt_server_new(&cfg, &cb, 0, &s), -ENOTSUP);
    assert_null(s);
    k = srv_keys;
    assert_int_equal(wdsmc_mt_server_new(&cfg, &cb, 0, &s), 0);
    wdsmc_mt_server_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_mt_server_join_in_prestart_gets_joinack_and_nothing_to_group),
            cmocka_unit_test(test_mt_server_repeated_join_gets_same_client_id),
            cmocka_unit_test(test_mt_server_pending_entry_outlives_joinack_retries_until_dead),
            cmocka_unit_test(test_mt_server_voluntary_qcr_activates_client_after_joinack_retries),
            cmocka_unit_test(test_mt_server_qcr_answering_a_qcc_activates_pending_client),
            cmocka_unit_test(test_mt_server_nack_pollack_or_ack_activates_pending_client),
            cmocka_unit_test(test_mt_server_first_qcr_activates_client_and_enters_qcc),
            cmocka_unit_test(test_mt_server_qcr_rtt_subtracts_backoff_and_ignores_voluntary),
            cmocka_unit_test(test_mt_server_qcc_wait_time_doubles_without_clients),
            cmocka_unit_test(test_mt_server_instate_qcc_timer_leaves_room_for_the_rtt),
            cmocka_unit_test(test_mt_server_qcr_answering_previous_qcc_refreshes_client_only),
            cmocka_unit_test(test_mt_server_unanswered_instate_qcc_backs_off_with_silent_clients),
            cmocka_unit_test(test_mt_server_poll_timer_adds_rtt_allowance_to_poll_backoff),
            cmocka_unit_test(test_mt_server_instate_qcc_picks_highest_rtt_responder),
            cmocka_unit_test(test_mt_server_entering_data_sends_spm_and_arms_timers),
            cmocka_unit_test(test_mt_server_spm_fields_follow_master_rtt_and_client_count),
            cmocka_unit_test(test_mt_server_unanswered_spms_return_to_qcc_state),
            cmocka_unit_test(test_mt_server_ack_of_spm_resets_spm_count),
            cmocka_unit_test(test_mt_server_first_odata_goes_out_without_ack),
            cmocka_unit_test(test_mt_server_ack_grows_window_exponentially_then_linearly),
            cmocka_unit_test(test_mt_server_full_socket_pauses_data),
            cmocka_unit_test(test_mt_server_pause_clears_the_rate_timer),
            cmocka_unit_test(test_mt_server_window_counts_from_masters_highest_packet),
            cmocka_unit_test(test_mt_server_repairs_held_by_the_rate_go_out_later),
            cmocka_unit_test(test_mt_server_ack_outside_trail_lead_or_from_non_master_is_ignored),
            cmocka_unit_test(test_mt_server_nack_shrinks_window_sends_ncf_and_rdata),
            cmocka_unit_test(test_mt_server_nack_skips_rdata_sent_within_4_rtt),
            cmocka_unit_test(test_mt_server_repeated_repairs_wait_min_nack_backoff),
            cmocka_unit_test(test_mt_server_zero_nack_updates_loss_but_keeps_window),
            cmocka_unit_test(test_mt_server_nack_from_slower_client_switches_master),
            cmocka_unit_test(test_mt_server_new_master_acks_are_accepted_from_the_held_trail),
            cmocka_unit_test(test_mt_server_cleanup_removes_old_acked_and_fires_data_empty_once),
            cmocka_unit_test(test_mt_server_client_cleanup_removes_dead_clients),
            cmocka_unit_test(test_mt_server_master_leave_returns_to_qcc_state),
            cmocka_unit_test(test_mt_server_pollack_validated_against_last_poll_seq),
            cmocka_unit_test(test_mt_server_inactivity_terminates),
            cmocka_unit_test(test_mt_server_kick_sends_kick_and_repeats_until_leave),
            cmocka_unit_test(test_mt_server_kick_all_ends_when_kick_list_empties),
            cmocka_unit_test(test_mt_server_kick_all_names_200_per_packet_and_gives_up_after_30s),
            cmocka_unit_test(test_mt_server_demote_sends_demote_and_repeats),
            cmocka_unit_test(test_mt_server_rate_limit_moves_deadline),
            cmocka_unit_test(test_mt_server_refuses_joins_over_max_clients),
            cmocka_unit_test(test_mt_server_unknown_client_id_gets_rate_limited_unicast_kick),
            cmocka_unit_test(test_mt_server_unknown_client_id_kicks_are_bounded_per_second),
            cmocka_unit_test(test_mt_server_rejects_wrong_session_security_and_opcode),
            cmocka_unit_test(test_mt_server_new_rejects_bad_config),
            cmocka_unit_test(test_mt_server_security_none_both_ways),
            cmocka_unit_test(test_mt_server_hash_mode_checks_and_sends_hmac),
            cmocka_unit_test(test_mt_server_sign_mode_signs_what_it_sends),
            cmocka_unit_test(test_mt_server_hash_sign_creation_needs_the_keys),
            cmocka_unit_test(test_mt_server_next_client_id_is_random_and_never_zero),
            cmocka_unit_test(test_mt_server_fill_error_terminates_session),
            cmocka_unit_test(test_mt_server_batches_data_packets_of_one_length),
            cmocka_unit_test(test_mt_server_span_is_held_to_max_span_bytes),
            cmocka_unit_test(test_mt_server_full_datagram_goes_without_ack_option),
            cmocka_unit_test(test_mt_server_data_list_is_capped),
            cmocka_unit_test(test_mt_ma_server_deliver_every_block),
    };
    int failed = cmocka_run_group_tests_name("send_mcast", tests, NULL, NULL);
    batching = true;
    failed += cmocka_run_group_tests_name("send_mcast_batch", tests, NULL, NULL);
    return failed;
}
