/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the MS-WDSMT client (transport/mt_client.c). Server packets
 * are built with the codec and fed with literal timestamps; what the client
 * sends is decoded with the codec and asserted on.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ma_client.h"
#include "mt_client.h"
#include "mtsec.h"
#include "mtsec_vectors.h"

#define SID      0x01020304u /* session id */
#define LOWER    0x0A0B0C0Du /* demoted-to session id */
#define MYID     7u
#define OTHER    9u
#define SRV_SEC  WDSMC_SEC_CHECKSUM
#define CLI_SEC  WDSMC_SEC_NONE
#define MAX_SENT 512

struct sent {
    uint8_t *buf;
    size_t len;
    struct wdsmc_mt_pkt pkt;
};

struct fx {
    struct wdsmc_mt_client *c;
    struct sent sent[MAX_SENT];
    size_t nsent;
    /* data callback */
    size_t data_calls;
    uint8_t last_data[256];
    size_t last_data_len;
    bool data_hold;     /* return len (held) instead of 0 */
    bool leave_in_data; /* call leave(COMPLETE) from inside */
    bool done_in_data;  /* call cache_done(len) from inside */
    /* send callback */
    bool leave_in_send;
    bool handle_in_send;
    int reentrant_rc;
    /* qcc/poll callbacks */
    size_t qcc_calls;
    bool qcc_fail;
    size_t poll_calls;
    uint8_t poll_in[64];
    size_t poll_in_len;
    bool poll_fail;
    /* rebind/done */
    size_t rebinds;
    struct wdsmc_mt_session_info rebind_si;
    bool leave_in_rebind;
    size_t dones;
    int done_err;
    /* wired MS-WDSMA client */
    struct wdsmc_ma_client *ma;
    uint64_t now; /* for callbacks that need it */
    /* HASH/SIGN tests: how what the client sends is checked */
    const struct wdsmc_mt_security *tx_check;
};

static void on_send(void *ctx, const uint8_t *buf, size_t len)
{
    struct fx *f = ctx;
    assert_true(f->nsent < MAX_SENT);
    struct sent *s = &f->sent[f->nsent++];
    s->buf = malloc(len);
    assert_non_null(s->buf);
    memcpy(s->buf, buf, len);
    s->len = len;
    if (f->tx_check)
        assert_int_equal(wdsmc_mt_decode_sec(s->buf, len, f->tx_check, &s->pkt), (ssize_t)len);
    else
        assert_int_equal(wdsmc_mt_decode(s->buf, len, &s->pkt), (ssize_t)len);
    if (f->leave_in_send)
        wdsmc_mt_client_leave(f->c, WDSMC_LEAVE_CANCELLED, -ECANCELED, f->now);
    if (f->handle_in_send)
        f->reentrant_rc = wdsmc_mt_client_handle(f->c, buf, len, f->now);
}

static size_t on_data(void *ctx, const uint8_t *payload, size_t len)
{
    struct fx *f = ctx;
    f->data_calls++;
    f->last_data_len = len;
    memcpy(f->last_data, payload, len < sizeof(f->last_data) ? len : sizeof(f->last_data));
    if (f->ma) {
        ssize_t held = wdsmc_ma_client_data(f->ma, payload, len);
        return held > 0 ? (size_t)held : 0;
    }
    if (f->done_in_data)
        assert_int_equal(wdsmc_mt_client_cache_done(f->c, len, f->now), 0);
    if (f->leave_in_data)
        wdsmc_mt_client_leave(f->c, WDSMC_LEAVE_COMPLETE, 0, f->now);
    return f->data_hold ? len : 0;
}

static ssize_t on_qcc(void *ctx, uint8_t *buf, size_t cap, uint64_t now)
{
    struct fx *f = ctx;
    f->qcc_calls++;
    if (f->ma)
        return wdsmc_ma_client_qcc(f->ma, buf, cap, now);
    if (f->qcc_fail)
        return -EIO;
    memcpy(buf, "PROG", 4);
    return 4;
}

static ssize_t on_poll(void *ctx, const uint8_t *app, size_t app_len, uint8_t *buf, size_t cap,
                       uint64_t now)
{
    struct fx *f = ctx;
    f->poll_calls++;
    if (f->ma)
        return wdsmc_ma_client_poll(f->ma, app, app_len, buf, cap, now);
    memcpy(f->poll_in, app, app_len < sizeof(f->poll_in) ? app_len : sizeof(f->poll_in));
    f->poll_in_len = app_len;
    if (f->poll_fail)
        return -EBADMSG;
    memcpy(buf, "CIR", 3);
    return 3;
}

static void on_rebind(void *ctx, const struct wdsmc_mt_session_info *si)
{
    struct fx *f = ctx;
    f->rebinds++;
    f->rebind_si = *si;
    if (f->leave_in_rebind)
        wdsmc_mt_client_leave(f->c, WDSMC_LEAVE_CANCELLED, -ECANCELED, f->now);
}

static void on_done(void *ctx, int err)
{
    struct fx *f = ctx;
    f->dones++;
    f->done_err = err;
}

static const uint8_t test_sid[12] = {1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0};

static void session(struct wdsmc_mt_session_info *si)
{
    memset(si, 0, sizeof(*si));
    si->session_id = SID;
    si->mcast_addr = (struct wdsmc_addr){.len = 4, .bytes = {239, 0, 0, 1}};
    si->mcast_port = 6000;
    si->server_addr = (struct wdsmc_addr){.len = 4, .bytes = {10, 0, 0, 1}};
    si->server_port = 6000;
    si->server_sec = SRV_SEC;
    si->client_sec = CLI_SEC;
}

static void joininfo(struct wdsmc_mt_join_info *ji, bool multistream, bool sid)
{
    memset(ji, 0, sizeof(*ji));
    ji->name = "pc-01";
    ji->local_ip = (struct wdsmc_addr){.len = 4, .bytes = {10, 0, 0, 2}};
    memcpy(ji->mac, "\x00\x11\x22\x33\x44\x55", 6);
    ji->multistream = multistream;
    if (sid) {
        ji->user_sid = test_sid;
        ji->user_sid_len = sizeof(test_sid);
    }
}

static struct wdsmc_mt_client_cbs cbs_for(struct fx *f)
{
    return (struct wdsmc_mt_client_cbs){
            .ctx = f,
            .send = on_send,
            .data = on_data,
            .qcc = on_qcc,
            .poll = on_poll,
            .rebind = on_rebind,
            .done = on_done,
    };
}

static struct fx *fx_new_params(const struct wdsmc_mt_client_params *p, bool multistream)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    struct wdsmc_mt_session_info si;
    struct wdsmc_mt_join_info ji;
    session(&si);
    joininfo(&ji, multistream, multistream);
    struct wdsmc_mt_client_cbs cbs = cbs_for(f);
    assert_int_equal(wdsmc_mt_client_new(&si, &ji, p, &cbs, &f->c), 0);
    return f;
}

static struct fx *fx_new(void)
{
    return fx_new_params(NULL, true);
}

static void fx_clear(struct fx *f)
{
    for (size_t i = 0; i < f->nsent; i++)
        free(f->sent[i].buf);
    f->nsent = 0;
}

static void fx_free(struct fx *f)
{
    fx_clear(f);
    wdsmc_mt_client_free(f->c);
    wdsmc_ma_client_free(f->ma);
    free(f);
}

static struct wdsmc_mt_pkt *last(struct fx *f)
{
    assert_true(f->nsent > 0);
    return &f->sent[f->nsent - 1].pkt;
}

/* A server packet of `op`, sent at server time `st`. */
static struct wdsmc_mt_pkt mk(uint8_t op, uint64_t st)
{
    struct wdsmc_mt_pkt p;
    memset(&p, 0, sizeof(p));
    p.sec_type = SRV_SEC;
    p.session_id = SID;
    p.opcode = op;
    p.sender_time = st;
    return p;
}

static int feed(struct fx *f, const struct wdsmc_mt_pkt *p, uint64_t now)
{
    static uint8_t buf[WDSMC_MAX_DATAGRAM];
    ssize_t n = wdsmc_mt_encode(p, buf, sizeof(buf));
    assert_true(n > 0);
    f->now = now;
    return wdsmc_mt_client_handle(f->c, buf, (size_t)n, now);
}

static void tick(struct fx *f, uint64_t now)
{
    f->now = now;
    assert_int_equal(wdsmc_mt_client_timeout(f->c, now), 0);
}

static int feed_joinack(struct fx *f, uint32_t id, uint16_t min, uint16_t max, uint64_t now)
{
    struct wdsmc_mt_pkt p = mk(WDSMC_MT_JOINACK, 777);
    p.u.joinack.client_id = id;
    p.u.joinack.min_nack_backoff = min;
    p.u.joinack.max_nack_backoff = max;
    return feed(f, &p, now);
}

/* Start at `now` and be joined as MYID with NACK back-off [10, 50]. */
static void join(struct fx *f, uint64_t now)
{
    f->now = now;
    assert_int_equal(wdsmc_mt_client_start(f->c, now), 0);
    assert_int_equal(feed_joinack(f, MYID, 10, 50, now), 0);
    fx_clear(f);
}

static int feed_data(struct fx *f, uint8_t op, uint64_t seq, uint64_t trail, uint32_t master,
                     const void *data, uint16_t len, uint64_t st, uint64_t now)
{
    struct wdsmc_mt_pkt p = mk(op, st);
    p.u.data.client_id = master;
    p.u.data.seq = seq;
    p.u.data.trail_seq = trail;
    p.u.data.data = data;
    p.u.data.data_len = len;
    return feed(f, &p, now);
}

static int feed_odata(struct fx *f, uint64_t seq, uint32_t master, uint64_t now)
{
    uint8_t b = (uint8_t)seq;
    return feed_data(f, WDSMC_MT_ODATA, seq, 1, master, &b, 1, 1000 + seq, now);
}

static int feed_spm(struct fx *f, uint64_t spm_seq, uint32_t master, uint64_t trail, uint64_t lead,
                    uint64_t now)
{
    struct wdsmc_mt_pkt p = mk(WDSMC_MT_SPM, 5555);
    p.u.spm.spm_seq = spm_seq;
    p.u.spm.master_client_id = master;
    p.u.spm.min_nack_backoff = 20;
    p.u.spm.max_nack_backoff = 40;
    p.u.spm.trail_seq = trail;
    p.u.spm.lead_seq = lead;
    p.u.spm.rtt = 3;
    return feed(f, &p, now);
}

static size_t count_op(struct fx *f, uint8_t op)
{
    size_t n = 0;
    for (size_t i = 0; i < f->nsent; i++)
        n += f->sent[i].pkt.opcode == op;
    return n;
}

static struct wdsmc_mt_client_stats stats(struct fx *f)
{
    struct wdsmc_mt_client_stats st;
    wdsmc_mt_client_stats(f->c, &st);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Creation                                                                  */
/* ------------------------------------------------------------------------ */

static void test_mt_client_new_rejects_bad_config(void **state)
{
    struct fx f = {0};
    struct wdsmc_mt_session_info si;
    struct wdsmc_mt_join_info ji;
    struct wdsmc_mt_client_cbs cbs = cbs_for(&f);
    struct wdsmc_mt_client *c = NULL;
    session(&si);
    joininfo(&ji, false, false);

    si.server_sec = WDSMC_SEC_HASH;
    assert_int_equal(wdsmc_mt_client_new(&si, &ji, NULL, &cbs, &c), -ENOKEY);
    si.server_sec = WDSMC_SEC_NONE;
    si.client_sec = WDSMC_SEC_SIGN;
    assert_int_equal(wdsmc_mt_client_new(&si, &ji, NULL, &cbs, &c), -ENOTSUP);
    si.client_sec = 9;
    assert_int_equal(wdsmc_mt_client_new(&si, &ji, NULL, &cbs, &c), -EINVAL);
    si.client_sec = WDSMC_SEC_NONE;
    ji.name = "a-name-of-16-chs";
    assert_int_equal(wdsmc_mt_client_new(&si, &ji, NULL, &cbs, &c), -EINVAL);
    ji.name = "fifteen-chars-x";
    ji.local_ip.len = 5;
    assert_int_equal(wdsmc_mt_client_new(&si, &ji, NULL, &cbs, &c), -EINVAL);
    ji.local_ip.len = 4;
    ji.user_sid = test_sid;
    ji.user_sid_len = WDSMC_MT_MAX_SID_LEN + 1;
    assert_int_equal(wdsmc_mt_client_new(&si, &ji, NULL, &cbs, &c), -EINVAL);
    ji.user_sid = NULL;
    cbs.done = NULL;
    assert_int_equal(wdsmc_mt_client_new(&si, &ji, NULL, &cbs, &c), -EINVAL);
    cbs.done = on_done;
    assert_int_equal(wdsmc_mt_client_new(&si, &ji, NULL, &cbs, &c), 0);
    struct wdsmc_mt_client_stats st;
    wdsmc_mt_client_stats(c, &st);
    assert_int_equal(st.state, WDSMC_MT_CLIENT_IDLE);
    assert_int_equal(wdsmc_mt_client_deadline(c), UINT64_MAX);
    wdsmc_mt_client_free(c);
    wdsmc_mt_client_free(NULL);
}

static void test_mt_client_params_default_match_spec(void **state)
{
    struct wdsmc_mt_client_params p;
    wdsmc_mt_client_params_default(&p);
    assert_int_equal(p.inactivity_timeout, 30000);
    assert_int_equal(p.join_interval, 500);
    assert_int_equal(p.max_leave_delay, 200);
    assert_int_equal(p.force_qcc_interval, 20000);
    assert_int_equal(p.max_app_cache, 2097152);
}

/* ------------------------------------------------------------------------ */
/* Joining                                                                   */
/* ------------------------------------------------------------------------ */

static void test_mt_client_sends_join_every_interval_until_joinack(void **state)
{
    struct fx *f = fx_new();
    assert_int_equal(wdsmc_mt_client_start(f->c, 1000), 0);
    assert_int_equal(wdsmc_mt_client_start(f->c, 1000), -EALREADY);
    assert_int_equal(f->nsent, 1);
    struct wdsmc_mt_pkt *p = last(f);
    assert_int_equal(p->opcode, WDSMC_MT_JOIN);
    assert_int_equal(p->sec_type, CLI_SEC);
    assert_int_equal(p->session_id, SID);
    assert_int_equal(p->sender_time, 1000);
    assert_string_equal(p->u.join.client_name, "pc-01");
    assert_int_equal(p->u.join.ip.len, 4);
    assert_memory_equal(p->u.join.ip.bytes, "\x0a\x00\x00\x02", 4);
    assert_memory_equal(p->u.join.mac, "\x00\x11\x22\x33\x44\x55", 6);
    assert_true(p->opts.has_caps);
    assert_int_equal(p->opts.caps_len, 1);
    assert_int_equal(p->opts.caps[0], WDSMC_MT_CAP_MULTISTREAM);
    assert_true(p->opts.has_user_sid);
    assert_int_equal(p->opts.user_sid_len, sizeof(test_sid));
    assert_memory_equal(p->opts.user_sid, test_sid, sizeof(test_sid));

    assert_int_equal(wdsmc_mt_client_deadline(f->c), 1500);
    tick(f, 1499);
    assert_int_equal(f->nsent, 1);
    tick(f, 1500);
    assert_int_equal(f->nsent, 2);
    assert_int_equal(last(f)->opcode, WDSMC_MT_JOIN);
    assert_int_equal(last(f)->sender_time, 1500);
    tick(f, 2000);
    assert_int_equal(count_op(f, WDSMC_MT_JOIN), 3);

    assert_int_equal(feed_joinack(f, MYID, 10, 50, 2100), 0);
    assert_int_equal(last(f)->opcode, WDSMC_MT_QCR);
    assert_int_equal(stats(f).state, WDSMC_MT_CLIENT_REGULAR);
    /* no more JOINs */
    tick(f, 2500);
    tick(f, 3000);
    assert_int_equal(count_op(f, WDSMC_MT_JOIN), 3);
    assert_int_equal(stats(f).joins, 3);
    fx_free(f);
}

static void test_mt_client_join_without_options_when_not_asked(void **state)
{
    struct fx *f = fx_new_params(NULL, false);
    assert_int_equal(wdsmc_mt_client_start(f->c, 0), 0);
    assert_false(last(f)->opts.has_caps);
    assert_false(last(f)->opts.has_user_sid);
    fx_free(f);
}

static void test_mt_client_joinack_sends_qcr_form1_and_arms_force_qcc(void **state)
{
    struct fx *f = fx_new();
    assert_int_equal(wdsmc_mt_client_start(f->c, 1000), 0);
    assert_int_equal(feed_joinack(f, MYID, 10, 50, 1234), 0);
    struct wdsmc_mt_pkt *p = last(f);
    assert_int_equal(p->opcode, WDSMC_MT_QCR);
    assert_int_equal(p->sender_time, 1234);
    assert_int_equal(wdsmc_mt_qcr_form(&p->u.qcr), WDSMC_QCR_JOINACK);
    assert_int_equal(p->u.qcr.client_id, MYID);
    assert_int_equal(p->u.qcr.qcc_seq, 0);
    assert_int_equal(p->u.qcr.backoff, 0);
    assert_int_equal(p->u.qcr.server_time, 777); /* JOINACK SenderTime */
    assert_int_equal(p->u.qcr.hi_seq, 0);
    assert_int_equal(p->u.qcr.loss_rate, 0);
    assert_int_equal(p->u.qcr.app_len, 0);
    assert_int_equal(f->qcc_calls, 0); /* decision 5: no PROGRESS here */
    struct wdsmc_mt_client_stats st = stats(f);
    assert_int_equal(st.client_id, MYID);
    assert_false(st.master);
    /* Force QCC (20000) comes before inactivity (30000) */
    assert_int_equal(wdsmc_mt_client_deadline(f->c), 1234 + 20000);
    fx_free(f);
}

static void test_mt_client_repeated_joinack_in_regular_resends_qcr(void **state)
{
    struct fx *f = fx_new();
    join(f, 1000);
    assert_int_equal(feed_joinack(f, MYID, 10, 50, 1300), 0);
    assert_int_equal(f->nsent, 1);
    assert_int_equal(last(f)->opcode, WDSMC_MT_QCR);
    assert_int_equal(wdsmc_mt_qcr_form(&last(f)->u.qcr), WDSMC_QCR_JOINACK);
    assert_int_equal(last(f)->u.qcr.server_time, 777);
    assert_int_equal(wdsmc_mt_client_deadline(f->c), 1300 + 20000);
    fx_free(f);
}

static void test_mt_client_ignores_everything_but_joinack_in_join_state(void **state)
{
    struct fx *f = fx_new();
    assert_int_equal(wdsmc_mt_client_start(f->c, 0), 0);
    fx_clear(f);
    assert_int_equal(feed_odata(f, 1, MYID, 10), 0);
    assert_int_equal(feed_spm(f, 1, MYID, 0, 5, 10), 0);
    struct wdsmc_mt_pkt p = mk(WDSMC_MT_QCC, 1);
    p.u.qcc.qcc_seq = 1;
    assert_int_equal(feed(f, &p, 10), 0);
    assert_int_equal(f->nsent, 0);
    assert_int_equal(f->data_calls, 0);
    assert_int_equal(stats(f).ignored, 3);
    assert_int_equal(stats(f).state, WDSMC_MT_CLIENT_JOIN);
    fx_free(f);
}

static void test_mt_client_joinack_client_id_zero_rejected(void **state)
{
    struct fx *f = fx_new();
    assert_int_equal(wdsmc_mt_client_start(f->c, 0), 0);
    assert_int_equal(feed_joinack(f, 0, 10, 50, 10), -WDSMC_EVALUE);
    assert_int_equal(stats(f).state, WDSMC_MT_CLIENT_JOIN);
    assert_int_equal(stats(f).drop_invalid, 1);
    fx_free(f);
}

/* ------------------------------------------------------------------------ */
/* Validation                                                                */
/* ------------------------------------------------------------------------ */

static void test_mt_client_drops_wrong_session_and_security(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    struct wdsmc_mt_pkt p = mk(WDSMC_MT_QCC, 1);
    p.u.qcc.qcc_seq = 1;
    p.session_id = SID + 1;
    assert_int_equal(feed(f, &p, 10), -EPROTO);
    p.session_id = SID;
    p.sec_type = WDSMC_SEC_NONE;
    assert_int_equal(feed(f, &p, 10), -WDSMC_ESECTYPE);
    /* a corrupted checksum */
    uint8_t buf[256];
    p.sec_type = SRV_SEC;
    ssize_t n = wdsmc_mt_encode(&p, buf, sizeof(buf));
    assert_true(n > 0);
    buf[n - 3] ^= 0x40;
    assert_int_equal(wdsmc_mt_client_handle(f->c, buf, (size_t)n, 10), -WDSMC_ECHECKSUM);
    assert_true(wdsmc_mt_client_handle(f->c, buf, 5, 10) < 0);
    struct wdsmc_mt_client_stats st = stats(f);
    assert_int_equal(st.drop_session, 1);
    assert_int_equal(st.drop_security, 1);
    assert_int_equal(st.drop_decode, 2);
    /* none of them was processed, nor reset the inactivity timer */
    assert_int_equal(wdsmc_mt_client_deadline(f->c), 20000);
    tick(f, 20000);
    tick(f, 30000);
    assert_int_equal(stats(f).state, WDSMC_MT_CLIENT_LEAVING);
    fx_free(f);
}

static void test_mt_client_ncf_ignored(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    struct wdsmc_range r = {1, 5};
    struct wdsmc_mt_pkt p = mk(WDSMC_MT_NCF, 1);
    p.u.ncf.count = 1;
    p.u.ncf.ranges = &r;
    assert_int_equal(feed(f, &p, 10), 0);
    assert_int_equal(f->nsent, 0);
    assert_int_equal(stats(f).ignored, 1);
    assert_int_equal(stats(f).missing_ranges, 0);
    fx_free(f);
}

/* ------------------------------------------------------------------------ */
/* QCC, POLL, Force QCC                                                      */
/* ------------------------------------------------------------------------ */

static void test_mt_client_qcc_answers_after_random_backoff(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    struct wdsmc_mt_pkt p = mk(WDSMC_MT_QCC, 4242);
    p.u.qcc.qcc_seq = 1;
    p.u.qcc.qcr_backoff = 300;
    assert_int_equal(feed(f, &p, 5000), 0);
    assert_int_equal(f->nsent, 0);
    uint64_t d = wdsmc_mt_client_deadline(f->c);
    assert_true(d >= 5000 && d <= 5300);
    tick(f, d);
    assert_int_equal(f->nsent, 1);
    struct wdsmc_mt_pkt *q = last(f);
    assert_int_equal(q->opcode, WDSMC_MT_QCR);
    assert_int_equal(wdsmc_mt_qcr_form(&q->u.qcr), WDSMC_QCR_QCC);
    assert_int_equal(q->u.qcr.client_id, MYID);
    assert_int_equal(q->u.qcr.qcc_seq, 1);
    assert_int_equal(q->u.qcr.backoff, d - 5000);
    assert_int_equal(q->u.qcr.server_time, 4242);
    assert_int_equal(q->sender_time, d);
    assert_int_equal(q->u.qcr.app_len, 4);
    assert_memory_equal(q->u.qcr.app, "PROG", 4);
    assert_int_equal(f->qcc_calls, 1);
    /* Force QCC re-armed from the QCR */
    assert_int_equal(wdsmc_mt_client_deadline(f->c), d + 20000);
    fx_free(f);
}

static void test_mt_client_qcc_backoff_zero_answers_at_once(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    struct wdsmc_mt_pkt p = mk(WDSMC_MT_QCC, 1);
    p.u.qcc.qcc_seq = 3;
    assert_int_equal(feed(f, &p, 100), 0);
    assert_int_equal(wdsmc_mt_client_deadline(f->c), 100);
    f->qcc_fail = true; /* a failing trigger still answers, empty */
    tick(f, 100);
    assert_int_equal(last(f)->u.qcr.qcc_seq, 3);
    assert_int_equal(last(f)->u.qcr.backoff, 0);
    assert_int_equal(last(f)->u.qcr.app_len, 0);
    fx_free(f);
}

static void test_mt_client_stale_qcc_rejected(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    struct wdsmc_mt_pkt p = mk(WDSMC_MT_QCC, 1);
    p.u.qcc.qcc_seq = 5;
    assert_int_equal(feed(f, &p, 100), 0);
    tick(f, 100);
    assert_int_equal(f->nsent, 1);
    assert_int_equal(feed(f, &p, 200), 0); /* same seq */
    p.u.qcc.qcc_seq = 4;
    assert_int_equal(feed(f, &p, 200), 0); /* older */
    tick(f, 200);
    assert_int_equal(f->nsent, 1);
    assert_int_equal(stats(f).stale, 2);
    p.u.qcc.qcc_seq = 6;
    assert_int_equal(feed(f, &p, 300), 0);
    tick(f, 300);
    assert_int_equal(f->nsent, 2);
    assert_int_equal(last(f)->u.qcr.qcc_seq, 6);
    fx_free(f);
}

static void test_mt_client_force_qcc_sends_voluntary_qcr(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    feed_odata(f, 1, OTHER, 10);
    fx_clear(f);
    assert_int_equal(wdsmc_mt_client_deadline(f->c), 20000);
    tick(f, 20000);
    assert_int_equal(f->nsent, 1);
    struct wdsmc_mt_pkt *q = last(f);
    assert_int_equal(q->opcode, WDSMC_MT_QCR);
    assert_int_equal(wdsmc_mt_qcr_form(&q->u.qcr), WDSMC_QCR_VOLUNTARY);
    assert_int_equal(q->u.qcr.qcc_seq, 0);
    assert_int_equal(q->u.qcr.backoff, 0);
    assert_int_equal(q->u.qcr.server_time, 0);
    assert_int_equal(q->u.qcr.hi_seq, 1);
    assert_int_equal(q->u.qcr.app_len, 4);
    assert_int_equal(wdsmc_mt_client_deadline(f->c), 30010); /* inactivity now first */
    fx_free(f);
}

static void test_mt_client_poll_answers_pollack_after_backoff(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    struct wdsmc_mt_pkt p = mk(WDSMC_MT_POLL, 1);
    p.u.poll.poll_seq = 1;
    p.u.poll.backoff = 1000;
    p.u.poll.app = (const uint8_t *)"\x00\x03\x01";
    p.u.poll.app_len = 3;
    assert_int_equal(feed(f, &p, 500), 0);
    uint64_t d = wdsmc_mt_client_deadline(f->c);
    assert_true(d >= 500 && d <= 1500);
    assert_int_equal(f->poll_calls, 0);
    tick(f, d);
    assert_int_equal(f->poll_calls, 1);
    assert_int_equal(f->poll_in_len, 3);
    assert_memory_equal(f->poll_in, "\x00\x03\x01", 3);
    struct wdsmc_mt_pkt *a = last(f);
    assert_int_equal(a->opcode, WDSMC_MT_POLLACK);
    assert_int_equal(a->u.pollack.client_id, MYID);
    assert_int_equal(a->u.pollack.poll_seq, 1);
    assert_int_equal(a->u.pollack.app_len, 3);
    assert_memory_equal(a->u.pollack.app, "CIR", 3);
    assert_int_equal(a->sender_time, d);
    fx_free(f);
}

static void test_mt_client_stale_poll_rejected(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    struct wdsmc_mt_pkt p = mk(WDSMC_MT_POLL, 1);
    p.u.poll.poll_seq = 2;
    assert_int_equal(feed(f, &p, 10), 0);
    tick(f, 10);
    assert_int_equal(count_op(f, WDSMC_MT_POLLACK), 1);
    assert_int_equal(feed(f, &p, 20), 0);
    p.u.poll.poll_seq = 1;
    assert_int_equal(feed(f, &p, 20), 0);
    tick(f, 20);
    assert_int_equal(count_op(f, WDSMC_MT_POLLACK), 1);
    assert_int_equal(stats(f).stale, 2);
    fx_free(f);
}

static void test_mt_client_poll_trigger_failure_sends_nothing(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    f->poll_fail = true;
    struct wdsmc_mt_pkt p = mk(WDSMC_MT_POLL, 1);
    p.u.poll.poll_seq = 1;
    assert_int_equal(feed(f, &p, 10), 0);
    tick(f, 10);
    assert_int_equal(f->poll_calls, 1);
    assert_int_equal(f->nsent, 0);
    fx_free(f);
}

static void test_mt_client_poll_appdata_over_limit_dropped(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    static uint8_t big[WDSMC_MT_CLIENT_APP_MAX + 1];
    struct wdsmc_mt_pkt p = mk(WDSMC_MT_POLL, 1);
    p.u.poll.poll_seq = 1;
    p.u.poll.app = big;
    p.u.poll.app_len = sizeof(big);
    assert_int_equal(feed(f, &p, 10), -EMSGSIZE);
    assert_int_equal(stats(f).drop_invalid, 1);
    /* the same seq with a sane payload is still accepted */
    p.u.poll.app_len = 3;
    assert_int_equal(feed(f, &p, 10), 0);
    tick(f, 10);
    assert_int_equal(count_op(f, WDSMC_MT_POLLACK), 1);
    fx_free(f);
}

/* ------------------------------------------------------------------------ */
/* SPM, ODATA/RDATA, NACK, ACK                                               */
/* ------------------------------------------------------------------------ */

static void test_mt_client_spm_updates_data_configuration(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    assert_int_equal(feed_spm(f, 1, OTHER, 0, 0, 10), 0);
    struct wdsmc_mt_client_stats st = stats(f);
    assert_int_equal(st.first_seq, 0); /* lead 0 does not set it */
    assert_int_equal(st.spm, 1);
    assert_int_equal(feed_spm(f, 2, OTHER, 30, 50, 20), 0);
    st = stats(f);
    assert_int_equal(st.trail_seq, 30);
    assert_int_equal(st.lead_seq, 50);
    assert_int_equal(st.first_seq, 50);
    assert_int_equal(st.hi_seq, 30); /* MAX(Hi, Trail) */
    assert_int_equal(st.mcrtt, 3);
    assert_false(st.master);
    assert_int_equal(st.missing_ranges, 0); /* a late joiner misses nothing yet */
    assert_int_equal(f->nsent, 0);          /* not master: no ACK */
    /* stale SPM: ignored entirely */
    assert_int_equal(feed_spm(f, 2, MYID, 40, 60, 30), 0);
    assert_int_equal(stats(f).lead_seq, 50);
    assert_int_equal(stats(f).stale, 1);
    fx_free(f);
}

static void test_mt_client_spm_lead_beyond_received_is_nacked(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    feed_odata(f, 1, OTHER, 10);
    feed_odata(f, 2, OTHER, 11);
    /* ODATA 3..5 lost; the SPM tells */
    assert_int_equal(feed_spm(f, 1, OTHER, 1, 5, 12), 0);
    assert_int_equal(stats(f).missing_ranges, 1);
    uint64_t d = wdsmc_mt_client_deadline(f->c);
    assert_true(d >= 12 + 20 && d <= 12 + 40); /* SPM back-offs */
    tick(f, d);
    struct wdsmc_mt_pkt *n = last(f);
    assert_int_equal(n->opcode, WDSMC_MT_NACK);
    assert_int_equal(n->u.nack.list.count, 1);
    struct wdsmc_range r = wdsmc_mt_range_get(&n->u.nack.list, 0);
    assert_int_equal(r.start, 3);
    assert_int_equal(r.end, 5);
    fx_free(f);
}

static void test_mt_client_spm_acks_as_master(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    feed_odata(f, 1, OTHER, 10);
    fx_clear(f);
    assert_int_equal(feed_spm(f, 1, MYID, 1, 1, 20), 0);
    assert_int_equal(f->nsent, 1);
    struct wdsmc_mt_pkt *a = last(f);
    assert_int_equal(a->opcode, WDSMC_MT_ACK);
    assert_int_equal(a->u.ack.client_id, MYID);
    assert_int_equal(a->u.ack.odata_seq, 1);
    assert_int_equal(a->u.ack.server_time, 5555);
    assert_int_equal(a->u.ack.hi_seq, 1);
    assert_int_equal(a->sender_time, 20);
    assert_true(stats(f).master);
    fx_free(f);
}

static void test_mt_client_odata_hands_payload_up(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    assert_int_equal(feed_data(f, WDSMC_MT_ODATA, 1, 1, OTHER, "hello", 5, 99, 10), 0);
    assert_int_equal(f->data_calls, 1);
    assert_int_equal(f->last_data_len, 5);
    assert_memory_equal(f->last_data, "hello", 5);
    struct wdsmc_mt_client_stats st = stats(f);
    assert_int_equal(st.odata, 1);
    assert_int_equal(st.first_seq, 1);
    assert_int_equal(st.hi_seq, 1);
    assert_int_equal(st.lead_seq, 1);
    assert_int_equal(st.trail_seq, 1);
    assert_int_equal(st.bytes_up, 5);
    assert_int_equal(st.app_cache, 0); /* callback returned 0: consumed */
    assert_int_equal(f->nsent, 0);     /* not master, nothing missing */
    fx_free(f);
}

static void test_mt_client_first_seq_from_odata_not_rdata(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    uint8_t b = 0;
    assert_int_equal(feed_data(f, WDSMC_MT_RDATA, 3, 1, OTHER, &b, 1, 1, 10), 0);
    assert_int_equal(stats(f).first_seq, 0);
    assert_int_equal(f->data_calls, 1); /* still processed */
    assert_int_equal(stats(f).rdata, 1);
    assert_int_equal(feed_data(f, WDSMC_MT_ODATA, 5, 1, OTHER, &b, 1, 1, 11), 0);
    assert_int_equal(stats(f).first_seq, 5);
    fx_free(f);
}

static void test_mt_client_ignores_data_below_first_seq(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    feed_odata(f, 10, OTHER, 10);
    assert_int_equal(f->data_calls, 1);
    uint8_t b = 0;
    assert_int_equal(feed_data(f, WDSMC_MT_RDATA, 9, 1, MYID, &b, 1, 1, 11), 0);
    assert_int_equal(feed_odata(f, 4, MYID, 12), 0);
    assert_int_equal(f->data_calls, 1);
    assert_int_equal(stats(f).old_data, 2);
    assert_false(stats(f).master); /* ignored packets do not set MasterClientId */
    assert_int_equal(f->nsent, 0);
    fx_free(f);
}

static void test_mt_client_late_joiner_trims_at_first_seq(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    /* joins a session at ODATA 200 while the server holds 100.. for repair */
    uint8_t b = 0;
    assert_int_equal(feed_data(f, WDSMC_MT_ODATA, 200, 100, OTHER, &b, 1, 1, 10), 0);
    assert_int_equal(stats(f).missing_ranges, 0);
    assert_int_equal(feed_data(f, WDSMC_MT_ODATA, 203, 100, OTHER, &b, 1, 1, 11), 0);
    uint64_t d = wdsmc_mt_client_deadline(f->c);
    tick(f, d);
    struct wdsmc_mt_pkt *n = last(f);
    assert_int_equal(n->opcode, WDSMC_MT_NACK);
    assert_int_equal(n->u.nack.list.count, 1);
    struct wdsmc_range r = wdsmc_mt_range_get(&n->u.nack.list, 0);
    assert_int_equal(r.start, 201); /* never below FirstODATASeqNo */
    assert_int_equal(r.end, 202);
    /* the loss estimate did not count 1..199 as lost */
    assert_true(stats(f).loss_rate < 0.02);
    fx_free(f);
}

static void test_mt_client_trail_passing_gap_forgets_it(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    uint8_t b = 0;
    feed_data(f, WDSMC_MT_ODATA, 1, 1, OTHER, &b, 1, 1, 10);
    feed_data(f, WDSMC_MT_ODATA, 4, 1, OTHER, &b, 1, 1, 11);
    feed_data(f, WDSMC_MT_ODATA, 6, 1, OTHER, &b, 1, 1, 12);
    assert_int_equal(stats(f).missing_ranges, 2); /* 2-3, 5 */
    /* the server no longer holds 2..4: only 5 is left to repair */
    feed_data(f, WDSMC_MT_ODATA, 7, 5, OTHER, &b, 1, 1, 13);
    assert_int_equal(stats(f).missing_ranges, 1);
    tick(f, wdsmc_mt_client_deadline(f->c));
    struct wdsmc_range r = wdsmc_mt_range_get(&last(f)->u.nack.list, 0);
    assert_int_equal(r.start, 5);
    assert_int_equal(r.end, 5);
    /* a trail beyond everything seen empties the list; 3.2.1.3.1.1 then
     * moves EndODATASeqNo up to the trail, so the trail itself is taken as
     * received and only what follows it is tracked */
    feed_data(f, WDSMC_MT_ODATA, 12, 10, OTHER, &b, 1, 1, 14);
    tick(f, wdsmc_mt_client_deadline(f->c));
    r = wdsmc_mt_range_get(&last(f)->u.nack.list, 0);
    assert_int_equal(last(f)->u.nack.list.count, 1);
    assert_int_equal(r.start, 11);
    assert_int_equal(r.end, 11);
    fx_free(f);
}

static void test_mt_client_nacks_gap_after_backoff(void **state)
{
    struct fx *f = fx_new();
    join(f, 0); /* JOINACK back-off [10, 50] */
    feed_odata(f, 1, OTHER, 100);
    feed_odata(f, 2, OTHER, 101);
    feed_odata(f, 5, OTHER, 102);
    feed_odata(f, 7, OTHER, 103);
    assert_int_equal(f->nsent, 0);
    uint64_t d = wdsmc_mt_client_deadline(f->c);
    assert_true(d >= 102 + 10 && d <= 102 + 50); /* armed at the first gap */
    tick(f, d - 1);
    assert_int_equal(f->nsent, 0);
    tick(f, d);
    assert_int_equal(f->nsent, 1);
    struct wdsmc_mt_pkt *n = last(f);
    assert_int_equal(n->opcode, WDSMC_MT_NACK);
    assert_int_equal(n->sender_time, d);
    assert_int_equal(n->u.nack.client_id, MYID);
    assert_int_equal(n->u.nack.hi_seq, 7);
    assert_true(n->u.nack.loss_rate > 0);
    assert_int_equal(n->u.nack.list.count, 2);
    struct wdsmc_range r0 = wdsmc_mt_range_get(&n->u.nack.list, 0);
    struct wdsmc_range r1 = wdsmc_mt_range_get(&n->u.nack.list, 1);
    assert_int_equal(r0.start, 3);
    assert_int_equal(r0.end, 4);
    assert_int_equal(r1.start, 6);
    assert_int_equal(r1.end, 6);
    /* re-armed while ranges remain */
    uint64_t d2 = wdsmc_mt_client_deadline(f->c);
    assert_true(d2 >= d + 10 && d2 <= d + 50);
    tick(f, d2);
    assert_int_equal(count_op(f, WDSMC_MT_NACK), 2);
    /* repairs arrive: nothing left, the timer fires once more and stops */
    uint8_t b = 0;
    feed_data(f, WDSMC_MT_RDATA, 3, 1, OTHER, &b, 1, 1, d2 + 1);
    feed_data(f, WDSMC_MT_RDATA, 4, 1, OTHER, &b, 1, 1, d2 + 2);
    feed_data(f, WDSMC_MT_RDATA, 6, 1, OTHER, &b, 1, 1, d2 + 3);
    assert_int_equal(stats(f).missing_ranges, 0);
    tick(f, d2 + 100);
    assert_int_equal(count_op(f, WDSMC_MT_NACK), 2);
    assert_int_equal(stats(f).nacks, 2);
    /* only force QCC and inactivity remain */
    assert_int_equal(wdsmc_mt_client_deadline(f->c), 20000);
    fx_free(f);
}

static void test_mt_client_master_nacks_without_backoff(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    feed_odata(f, 1, MYID, 100);
    feed_odata(f, 3, MYID, 101);
    assert_int_equal(wdsmc_mt_client_deadline(f->c), 101);
    tick(f, 101);
    assert_int_equal(last(f)->opcode, WDSMC_MT_NACK);
    /* the re-arm uses the back-off range even for the master */
    uint64_t d = wdsmc_mt_client_deadline(f->c);
    assert_true(d >= 111 && d <= 151);
    fx_free(f);
}

/* Decision 61: a loss the master finds while its NACK Timer waits to repeat
 * the last NACK is reported at once; a repeat keeps the back-off. */
static void test_mt_client_master_nacks_a_new_loss_at_once(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    feed_odata(f, 1, MYID, 100);
    feed_odata(f, 3, MYID, 101); /* 2 lost */
    tick(f, 101);
    assert_int_equal(count_op(f, WDSMC_MT_NACK), 1);
    uint64_t d = wdsmc_mt_client_deadline(f->c);
    assert_true(d >= 111 && d <= 151);
    /* more data, no new loss: the repeat waits */
    feed_odata(f, 4, MYID, 102);
    assert_int_equal(wdsmc_mt_client_deadline(f->c), d);
    /* 5 lost: NACK now, listing 2 and 5 */
    feed_odata(f, 6, MYID, 103);
    assert_int_equal(wdsmc_mt_client_deadline(f->c), 103);
    tick(f, 103);
    assert_int_equal(count_op(f, WDSMC_MT_NACK), 2);
    struct wdsmc_mt_pkt *n = last(f);
    assert_int_equal(n->opcode, WDSMC_MT_NACK);
    assert_int_equal(n->u.nack.list.count, 2);
    assert_int_equal(wdsmc_mt_range_get(&n->u.nack.list, 1).start, 5);
    d = wdsmc_mt_client_deadline(f->c);
    assert_true(d >= 113 && d <= 153);
    /* 2 repaired, nothing new missing: still the back-off */
    uint8_t b = 0;
    feed_data(f, WDSMC_MT_RDATA, 2, 1, MYID, &b, 1, 1, 104);
    feed_odata(f, 7, MYID, 105);
    assert_int_equal(wdsmc_mt_client_deadline(f->c), d);
    fx_free(f);
}

/* A client that is not the master keeps the random back-off for new losses
 * too (the NACK suppression of 3.2.5.12). */
static void test_mt_client_non_master_new_loss_waits_for_the_timer(void **state)
{
    struct fx *f = fx_new();
    join(f, 0); /* JOINACK back-off [10, 50] */
    feed_odata(f, 1, OTHER, 100);
    feed_odata(f, 3, OTHER, 101);
    uint64_t d = wdsmc_mt_client_deadline(f->c);
    assert_true(d >= 111 && d <= 151);
    feed_odata(f, 5, OTHER, 102);
    assert_int_equal(wdsmc_mt_client_deadline(f->c), d);
    assert_int_equal(count_op(f, WDSMC_MT_NACK), 0);
    fx_free(f);
}

static void test_mt_client_nack_range_list_capped(void **state)
{
    size_t max = wdsmc_mt_max_ranges();
    struct wdsmc_mt_client_params p;
    wdsmc_mt_client_params_default(&p);
    p.max_missing_ranges = max + 100;
    struct fx *f = fx_new_params(&p, true);
    join(f, 0);
    /* every other sequence number: max + 10 single gaps */
    for (uint64_t s = 1; s <= 2 * (max + 10) + 1; s += 2)
        feed_odata(f, s, OTHER, 100);
    assert_int_equal(stats(f).missing_ranges, max + 10);
    fx_clear(f);
    tick(f, wdsmc_mt_client_deadline(f->c));
    struct wdsmc_mt_pkt *n = last(f);
    assert_int_equal(n->opcode, WDSMC_MT_NACK);
    assert_int_equal(n->u.nack.list.count, max);
    assert_true(f->sent[f->nsent - 1].len <= WDSMC_MAX_DATAGRAM);
    assert_int_equal(wdsmc_mt_range_get(&n->u.nack.list, 0).start, 2);
    fx_free(f);
}

static void test_mt_client_missing_list_cap_is_respected(void **state)
{
    struct wdsmc_mt_client_params p;
    wdsmc_mt_client_params_default(&p);
    p.max_missing_ranges = 4;
    struct fx *f = fx_new_params(&p, true);
    join(f, 0);
    for (uint64_t s = 1; s <= 21; s += 2)
        feed_odata(f, s, OTHER, 100);
    struct wdsmc_mt_client_stats st = stats(f);
    assert_int_equal(st.missing_ranges, 4);
    assert_true(st.missing_overflows > 0);
    fx_free(f);
}

static void test_mt_client_acks_only_as_master(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    feed_odata(f, 1, OTHER, 10);
    assert_int_equal(f->nsent, 0);
    feed_odata(f, 2, MYID, 11);
    assert_int_equal(f->nsent, 1);
    struct wdsmc_mt_pkt *a = last(f);
    assert_int_equal(a->opcode, WDSMC_MT_ACK);
    assert_int_equal(a->u.ack.client_id, MYID);
    assert_int_equal(a->u.ack.odata_seq, 2);
    assert_int_equal(a->u.ack.server_time, 1002); /* ODATA SenderTime */
    assert_int_equal(a->u.ack.hi_seq, 2);
    assert_int_equal(a->sender_time, 11);
    /* a gap: the ACK acknowledges the highest continuous */
    feed_odata(f, 4, MYID, 12);
    a = last(f);
    assert_int_equal(a->opcode, WDSMC_MT_ACK);
    assert_int_equal(a->u.ack.odata_seq, 2);
    assert_int_equal(a->u.ack.hi_seq, 4);
    assert_int_equal(stats(f).acks, 2);
    fx_free(f);
}

static void test_mt_client_fw_lead_option_gates_ack(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    uint8_t b = 0;
    struct wdsmc_mt_pkt p = mk(WDSMC_MT_ODATA, 50);
    p.u.data.client_id = MYID;
    p.u.data.seq = 5;
    p.u.data.trail_seq = 1;
    p.u.data.data = &b;
    p.u.data.data_len = 1;
    p.opts.has_fw_lead = true;
    p.opts.fw_lead_seq = 4; /* below ODATASeqNo: no ACK */
    assert_int_equal(feed(f, &p, 10), 0);
    assert_int_equal(count_op(f, WDSMC_MT_ACK), 0);
    p.u.data.seq = 6;
    p.opts.fw_lead_seq = 6; /* equal: ACK */
    assert_int_equal(feed(f, &p, 11), 0);
    assert_int_equal(count_op(f, WDSMC_MT_ACK), 1);
    p.u.data.seq = 7;
    p.opts.fw_lead_seq = 9; /* above: ACK */
    assert_int_equal(feed(f, &p, 12), 0);
    assert_int_equal(count_op(f, WDSMC_MT_ACK), 2);
    assert_int_equal(f->data_calls, 3); /* data is handed up regardless */
    fx_free(f);
}

static void test_mt_client_zero_nack_when_cache_full(void **state)
{
    struct wdsmc_mt_client_params p;
    wdsmc_mt_client_params_default(&p);
    p.max_app_cache = 100;
    struct fx *f = fx_new_params(&p, true);
    join(f, 0);
    f->data_hold = true;
    static uint8_t blk[60];
    assert_int_equal(feed_data(f, WDSMC_MT_ODATA, 1, 1, OTHER, blk, 60, 1, 10), 0);
    assert_int_equal(f->data_calls, 1);
    assert_int_equal(stats(f).app_cache, 60);
    assert_int_equal(f->nsent, 0);
    /* 40 bytes of room < 60 */
    assert_int_equal(feed_data(f, WDSMC_MT_ODATA, 2, 1, OTHER, blk, 60, 1, 11), 0);
    assert_int_equal(f->data_calls, 1); /* not handed up */
    assert_int_equal(f->nsent, 1);
    struct wdsmc_mt_pkt *n = last(f);
    assert_int_equal(n->opcode, WDSMC_MT_NACK);
    assert_int_equal(n->u.nack.list.count, 0);
    assert_int_equal(n->u.nack.client_id, MYID);
    assert_int_equal(n->u.nack.hi_seq, 2);
    assert_int_equal(stats(f).zero_nacks, 1);
    /* Cache Done frees room */
    assert_int_equal(wdsmc_mt_client_cache_done(f->c, 60, 12), 0);
    assert_int_equal(stats(f).app_cache, 0);
    assert_int_equal(feed_data(f, WDSMC_MT_RDATA, 2, 1, OTHER, blk, 60, 1, 13), 0);
    assert_int_equal(f->data_calls, 2);
    /* too much done: clamped, reported */
    assert_int_equal(wdsmc_mt_client_cache_done(f->c, 61, 14), -ERANGE);
    assert_int_equal(stats(f).app_cache, 0);
    fx_free(f);
}

static void test_mt_client_cache_done_inside_data_callback(void **state)
{
    struct wdsmc_mt_client_params p;
    wdsmc_mt_client_params_default(&p);
    p.max_app_cache = 10;
    struct fx *f = fx_new_params(&p, true);
    join(f, 0);
    f->data_hold = true;
    f->done_in_data = true;
    static uint8_t blk[10];
    for (uint64_t s = 1; s <= 5; s++)
        assert_int_equal(feed_data(f, WDSMC_MT_ODATA, s, 1, OTHER, blk, 10, 1, 10 + s), 0);
    assert_int_equal(f->data_calls, 5);
    assert_int_equal(stats(f).app_cache, 0);
    assert_int_equal(stats(f).zero_nacks, 0);
    fx_free(f);
}

static void test_mt_client_loss_rate_tracks_losses(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    /* lossless: stays 0 */
    for (uint64_t s = 1; s <= 100; s++)
        feed_odata(f, s, OTHER, 10);
    assert_true(stats(f).loss_rate == 0.0);
    /* then lose one in every 20 for a long while */
    for (uint64_t s = 101; s <= 20000; s++)
        if (s % 20)
            feed_odata(f, s, OTHER, 10);
    double l = stats(f).loss_rate;
    assert_true(l > 0.035 && l < 0.065);
    /* the wire value is the fraction x 10^16 (decision 6) */
    feed_odata(f, 20001, MYID, 11);
    struct wdsmc_mt_pkt *a = last(f);
    assert_int_equal(a->opcode, WDSMC_MT_ACK);
    double wire = (double)a->u.ack.loss_rate / 1e16;
    double now_l = stats(f).loss_rate;
    assert_true(wire > now_l - 1e-9 && wire < now_l + 1e-9);
    fx_free(f);
}

static void test_mt_client_loss_rate_waits_for_first_seq(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    /* SPM lead 0 and an RDATA do not start the estimate */
    feed_spm(f, 1, OTHER, 0, 0, 10);
    uint8_t b = 0;
    feed_data(f, WDSMC_MT_RDATA, 50, 1, OTHER, &b, 1, 1, 11);
    assert_true(stats(f).loss_rate == 0.0);
    assert_int_equal(stats(f).first_seq, 0);
    fx_free(f);
}

static void test_mt_client_spm_counts_unseen_lead_as_loss(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    feed_odata(f, 1, OTHER, 10);
    assert_true(stats(f).loss_rate == 0.0);
    feed_spm(f, 1, OTHER, 1, 3, 11); /* 2 and 3 never seen */
    double l = stats(f).loss_rate;
    double w = 500.0 / 65536.0;
    double want = (1 - w) * w + w;
    assert_true(l > want - 1e-12 && l < want + 1e-12);
    /* their later arrival counts as receptions, not new losses */
    feed_odata(f, 2, OTHER, 12);
    feed_odata(f, 3, OTHER, 13);
    assert_true(stats(f).loss_rate < l);
    fx_free(f);
}

/* ------------------------------------------------------------------------ */
/* Leaving: complete, cancel, inactivity, KICK, DEMOTE                       */
/* ------------------------------------------------------------------------ */

static void test_mt_client_complete_leaves_with_reason_complete(void **state)
{
    struct fx *f = fx_new();
    join(f, 0); /* MaxNACKBackOff 50 */
    assert_int_equal(wdsmc_mt_client_leave(f->c, 3, 0, 100), -EINVAL);
    assert_int_equal(wdsmc_mt_client_leave(f->c, WDSMC_LEAVE_COMPLETE, 0, 100), 0);
    assert_int_equal(wdsmc_mt_client_leave(f->c, WDSMC_LEAVE_CANCELLED, 0, 100), -EALREADY);
    assert_int_equal(stats(f).state, WDSMC_MT_CLIENT_LEAVING);
    assert_int_equal(f->nsent, 0);
    uint64_t d = wdsmc_mt_client_deadline(f->c);
    assert_true(d >= 100 && d <= 150); /* [0, MaxNACKBackOff] */
    /* packets are ignored while leaving */
    assert_int_equal(feed_odata(f, 1, MYID, 101), 0);
    assert_int_equal(f->data_calls, 0);
    tick(f, d);
    assert_int_equal(f->nsent, 1);
    struct wdsmc_mt_pkt *l = last(f);
    assert_int_equal(l->opcode, WDSMC_MT_LEAVE);
    assert_int_equal(l->u.leave.client_id, MYID);
    assert_int_equal(l->u.leave.reason, WDSMC_LEAVE_COMPLETE);
    assert_int_equal(l->sender_time, d);
    assert_int_equal(f->dones, 1);
    assert_int_equal(f->done_err, 0);
    assert_int_equal(stats(f).state, WDSMC_MT_CLIENT_DONE);
    assert_int_equal(wdsmc_mt_client_deadline(f->c), UINT64_MAX);
    assert_int_equal(wdsmc_mt_client_leave(f->c, WDSMC_LEAVE_CANCELLED, 0, d), -EALREADY);
    tick(f, d + 100000);
    assert_int_equal(f->dones, 1);
    fx_free(f);
}

static void test_mt_client_leave_delay_uses_max_leave_delay_without_backoff(void **state)
{
    struct fx *f = fx_new();
    f->now = 0;
    assert_int_equal(wdsmc_mt_client_start(f->c, 0), 0);
    assert_int_equal(feed_joinack(f, MYID, 0, 0, 0), 0); /* MaxNACKBackOff 0 */
    assert_int_equal(wdsmc_mt_client_leave(f->c, WDSMC_LEAVE_CANCELLED, -ECANCELED, 1000), 0);
    uint64_t d = wdsmc_mt_client_deadline(f->c);
    assert_true(d >= 1000 && d <= 1200);
    tick(f, d);
    assert_int_equal(last(f)->u.leave.reason, WDSMC_LEAVE_CANCELLED);
    assert_int_equal(f->done_err, -ECANCELED);
    fx_free(f);
}

static void test_mt_client_no_leave_before_client_id(void **state)
{
    struct fx *f = fx_new();
    assert_int_equal(wdsmc_mt_client_start(f->c, 0), 0);
    fx_clear(f);
    assert_int_equal(wdsmc_mt_client_leave(f->c, WDSMC_LEAVE_CANCELLED, -ECANCELED, 300), 0);
    assert_int_equal(wdsmc_mt_client_deadline(f->c), 300);
    assert_int_equal(f->dones, 0); /* never from inside leave() */
    tick(f, 300);
    assert_int_equal(f->nsent, 0);
    assert_int_equal(f->dones, 1);
    assert_int_equal(f->done_err, -ECANCELED);
    fx_free(f);

    /* leave before start */
    f = fx_new();
    assert_int_equal(wdsmc_mt_client_leave(f->c, WDSMC_LEAVE_CANCELLED, -ECANCELED, 5), 0);
    tick(f, 5);
    assert_int_equal(f->nsent, 0);
    assert_int_equal(f->dones, 1);
    assert_int_equal(wdsmc_mt_client_start(f->c, 6), -EALREADY);
    fx_free(f);
}

static void test_mt_client_inactivity_timeout_leaves_inactive(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    feed_odata(f, 1, OTHER, 1000); /* resets the timer to 31000 */
    tick(f, 20000);                /* force QCC */
    fx_clear(f);
    assert_int_equal(wdsmc_mt_client_deadline(f->c), 31000);
    tick(f, 30999);
    assert_int_equal(stats(f).state, WDSMC_MT_CLIENT_REGULAR);
    tick(f, 31000);
    assert_int_equal(stats(f).state, WDSMC_MT_CLIENT_LEAVING);
    tick(f, wdsmc_mt_client_deadline(f->c));
    assert_int_equal(f->nsent, 1);
    assert_int_equal(last(f)->opcode, WDSMC_MT_LEAVE);
    assert_int_equal(last(f)->u.leave.reason, WDSMC_LEAVE_INACTIVE); /* decision 18 */
    assert_int_equal(f->dones, 1);
    assert_int_equal(f->done_err, -ETIMEDOUT);
    fx_free(f);
}

static void test_mt_client_inactivity_in_join_state_ends_without_leave(void **state)
{
    struct fx *f = fx_new();
    assert_int_equal(wdsmc_mt_client_start(f->c, 0), 0);
    /* nobody answers: JOIN every 500 ms for 30 s, then done */
    for (uint64_t t = 500; t < 30000; t += 500)
        tick(f, t);
    assert_int_equal(count_op(f, WDSMC_MT_JOIN), 60);
    assert_int_equal(f->dones, 0);
    tick(f, 30000);
    assert_int_equal(count_op(f, WDSMC_MT_LEAVE), 0);
    assert_int_equal(f->dones, 1);
    assert_int_equal(f->done_err, -ETIMEDOUT);
    fx_free(f);
}

static void test_mt_client_any_valid_packet_resets_inactivity(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    struct wdsmc_range r = {1, 1};
    struct wdsmc_mt_pkt p = mk(WDSMC_MT_NCF, 1);
    p.u.ncf.count = 1;
    p.u.ncf.ranges = &r;
    assert_int_equal(feed(f, &p, 15000), 0);
    tick(f, 20000);
    assert_int_equal(wdsmc_mt_client_deadline(f->c), 40000);
    assert_int_equal(feed(f, &p, 39000), 0);
    tick(f, 40000);
    assert_int_equal(stats(f).state, WDSMC_MT_CLIENT_REGULAR);
    fx_free(f);
}

static void kick(struct fx *f, uint8_t reason, uint64_t now)
{
    struct wdsmc_mt_kick_entry e[2] = {{OTHER, WDSMC_KICK_FAIL}, {MYID, reason}};
    struct wdsmc_mt_pkt p = mk(WDSMC_MT_KICK, 1);
    p.u.kick.count = 2;
    p.u.kick.entries = e;
    assert_int_equal(feed(f, &p, now), 0);
}

static void test_mt_client_kick_leaves_cancelled_with_kick_error(void **state)
{
    static const struct {
        uint8_t reason;
        int err;
    } cases[] = {
            {WDSMC_KICK_POLICY_NOT_MET, -WDSMC_EKICK_POLICY},
            {WDSMC_KICK_FALLBACK, -WDSMC_EKICK_FALLBACK},
            {WDSMC_KICK_FAIL, -WDSMC_EKICK_FAIL},
            {77, -WDSMC_EKICK_FAIL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fx *f = fx_new();
        join(f, 0);
        kick(f, cases[i].reason, 100);
        assert_int_equal(stats(f).state, WDSMC_MT_CLIENT_LEAVING);
        uint64_t d = wdsmc_mt_client_deadline(f->c);
        assert_true(d >= 100 && d <= 150);
        tick(f, d);
        assert_int_equal(last(f)->opcode, WDSMC_MT_LEAVE);
        assert_int_equal(last(f)->u.leave.reason, WDSMC_LEAVE_CANCELLED);
        assert_int_equal(f->dones, 1);
        assert_int_equal(f->done_err, cases[i].err);
        fx_free(f);
    }
    assert_string_equal(wdsmc_strerror(-WDSMC_EKICK_FAIL), "terminated by server");
}

static void test_mt_client_kick_for_other_clients_ignored(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    struct wdsmc_mt_kick_entry e[1] = {{OTHER, WDSMC_KICK_FAIL}};
    struct wdsmc_mt_pkt p = mk(WDSMC_MT_KICK, 1);
    p.u.kick.count = 1;
    p.u.kick.entries = e;
    assert_int_equal(feed(f, &p, 10), 0);
    assert_int_equal(stats(f).state, WDSMC_MT_CLIENT_REGULAR);
    fx_free(f);
}

static void demote(struct fx *f, uint32_t who, uint64_t now)
{
    uint32_t ids[3] = {OTHER, who, 11};
    struct wdsmc_mt_pkt p = mk(WDSMC_MT_DEMOTE, 1);
    p.u.demote.lower_session_id = LOWER;
    p.u.demote.maddr = (struct wdsmc_addr){.len = 4, .bytes = {239, 0, 0, 2}};
    p.u.demote.mport = 6001;
    p.u.demote.uaddr = (struct wdsmc_addr){.len = 4, .bytes = {10, 0, 0, 9}};
    p.u.demote.uport = 6001;
    p.u.demote.count = 3;
    p.u.demote.client_ids = ids;
    assert_int_equal(feed(f, &p, now), 0);
}

static void test_mt_client_demote_leaves_old_server_then_rejoins(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    feed_odata(f, 1, MYID, 10);
    feed_odata(f, 3, MYID, 11);
    fx_clear(f);
    demote(f, MYID, 100);
    assert_int_equal(stats(f).state, WDSMC_MT_CLIENT_LEAVING);
    uint64_t d = wdsmc_mt_client_deadline(f->c);
    assert_true(d >= 100 && d <= 150);
    tick(f, d);
    /* LEAVE to the old session, then JOIN on the new one */
    assert_int_equal(f->nsent, 2);
    struct wdsmc_mt_pkt *l = &f->sent[0].pkt;
    assert_int_equal(l->opcode, WDSMC_MT_LEAVE);
    assert_int_equal(l->session_id, SID);
    assert_int_equal(l->u.leave.client_id, MYID);
    assert_int_equal(l->u.leave.reason, WDSMC_LEAVE_CANCELLED);
    assert_int_equal(f->rebinds, 1);
    assert_int_equal(f->rebind_si.session_id, LOWER);
    assert_memory_equal(f->rebind_si.mcast_addr.bytes, "\xef\x00\x00\x02", 4);
    assert_int_equal(f->rebind_si.mcast_port, 6001);
    assert_memory_equal(f->rebind_si.server_addr.bytes, "\x0a\x00\x00\x09", 4);
    assert_int_equal(f->rebind_si.server_port, 6001);
    assert_int_equal(f->rebind_si.server_sec, SRV_SEC);
    assert_int_equal(f->rebind_si.client_sec, CLI_SEC);
    struct wdsmc_mt_pkt *j = &f->sent[1].pkt;
    assert_int_equal(j->opcode, WDSMC_MT_JOIN);
    assert_int_equal(j->session_id, LOWER);
    assert_int_equal(f->dones, 0);
    /* everything of 3.2.1 is back to its initial value */
    struct wdsmc_mt_client_stats st = stats(f);
    assert_int_equal(st.state, WDSMC_MT_CLIENT_JOIN);
    assert_int_equal(st.session_id, LOWER);
    assert_int_equal(st.client_id, 0);
    assert_int_equal(st.hi_seq, 0);
    assert_int_equal(st.first_seq, 0);
    assert_int_equal(st.missing_ranges, 0);
    assert_int_equal(st.demotes, 1);
    assert_int_equal(wdsmc_mt_client_session(f->c)->session_id, LOWER);
    assert_int_equal(wdsmc_mt_client_deadline(f->c), d + 500);
    /* old-session packets are now foreign */
    assert_int_equal(feed_odata(f, 4, MYID, d + 1), -EPROTO);
    /* join the lower session */
    struct wdsmc_mt_pkt p = mk(WDSMC_MT_JOINACK, 9);
    p.session_id = LOWER;
    p.u.joinack.client_id = 3;
    assert_int_equal(feed(f, &p, d + 2), 0);
    assert_int_equal(stats(f).state, WDSMC_MT_CLIENT_REGULAR);
    assert_int_equal(last(f)->opcode, WDSMC_MT_QCR);
    assert_int_equal(last(f)->session_id, LOWER);
    assert_int_equal(last(f)->u.qcr.client_id, 3);
    fx_free(f);
}

static void test_mt_client_demote_for_other_clients_ignored(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    demote(f, 12, 100);
    assert_int_equal(stats(f).state, WDSMC_MT_CLIENT_REGULAR);
    fx_free(f);
}

static void test_mt_client_leave_during_demote_delay_ends_session(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    demote(f, MYID, 100);
    uint64_t d = wdsmc_mt_client_deadline(f->c);
    assert_int_equal(wdsmc_mt_client_leave(f->c, WDSMC_LEAVE_COMPLETE, 0, 101), 0);
    assert_int_equal(wdsmc_mt_client_deadline(f->c), d);
    tick(f, d);
    assert_int_equal(f->nsent, 1);
    assert_int_equal(last(f)->u.leave.reason, WDSMC_LEAVE_COMPLETE);
    assert_int_equal(last(f)->session_id, SID);
    assert_int_equal(f->rebinds, 0);
    assert_int_equal(f->dones, 1);
    assert_int_equal(f->done_err, 0);
    fx_free(f);
}

static void test_mt_client_leave_from_rebind_ends_session(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    f->leave_in_rebind = true;
    demote(f, MYID, 100);
    tick(f, wdsmc_mt_client_deadline(f->c));
    assert_int_equal(f->rebinds, 1);
    assert_int_equal(count_op(f, WDSMC_MT_JOIN), 0);
    /* no ClientId on the new session: done without another LEAVE */
    tick(f, wdsmc_mt_client_deadline(f->c));
    assert_int_equal(count_op(f, WDSMC_MT_LEAVE), 1);
    assert_int_equal(f->dones, 1);
    assert_int_equal(f->done_err, -ECANCELED);
    fx_free(f);
}

/* ------------------------------------------------------------------------ */
/* Re-entrancy                                                               */
/* ------------------------------------------------------------------------ */

static void test_mt_client_leave_from_data_callback_stops_processing(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    f->leave_in_data = true;
    feed_odata(f, 1, OTHER, 10);
    assert_int_equal(f->data_calls, 1);
    assert_int_equal(stats(f).state, WDSMC_MT_CLIENT_LEAVING);
    /* nothing but the LEAVE timer is armed */
    uint64_t d = wdsmc_mt_client_deadline(f->c);
    assert_true(d >= 10 && d <= 60);
    tick(f, d);
    assert_int_equal(f->nsent, 1);
    assert_int_equal(last(f)->u.leave.reason, WDSMC_LEAVE_COMPLETE);
    assert_int_equal(f->done_err, 0);
    fx_free(f);
}

static void test_mt_client_leave_from_send_callback_during_ack(void **state)
{
    struct fx *f = fx_new();
    join(f, 0);
    f->leave_in_send = true;
    feed_odata(f, 1, MYID, 10); /* ACK sent, app leaves inside send */
    assert_int_equal(count_op(f, WDSMC_MT_ACK), 1);
    assert_int_equal(f->data_calls, 0); /* processing stopped before DATA */
    assert_int_equal(stats(f).state, WDSMC_MT_CLIENT_LEAVING);
    f->leave_in_send = false;
    tick(f, wdsmc_mt_client_deadline(f->c));
    assert_int_equal(f->dones, 1);
    assert_int_equal(f->done_err, -ECANCELED);
    fx_free(f);
}

static void test_mt_client_leave_from_send_callback_during_start(void **state)
{
    struct fx *f = fx_new();
    f->leave_in_send = true;
    f->now = 0;
    assert_int_equal(wdsmc_mt_client_start(f->c, 0), 0);
    assert_int_equal(f->nsent, 1);
    /* no Join Timer: the next deadline is the immediate done */
    assert_int_equal(wdsmc_mt_client_deadline(f->c), 0);
    tick(f, 0);
    assert_int_equal(f->dones, 1);
    assert_int_equal(f->nsent, 1);
    fx_free(f);
}

static void test_mt_client_reentrant_drive_calls_are_refused(void **state)
{
    struct fx *f = fx_new();
    f->handle_in_send = true;
    f->now = 0;
    assert_int_equal(wdsmc_mt_client_start(f->c, 0), 0);
    assert_int_equal(f->reentrant_rc, -EBUSY);
    fx_free(f);
}

static void test_mt_client_same_seed_same_backoffs(void **state)
{
    uint64_t d[2];
    for (int k = 0; k < 2; k++) {
        struct wdsmc_mt_client_params p;
        wdsmc_mt_client_params_default(&p);
        p.seed = 12345;
        struct fx *f = fx_new_params(&p, true);
        join(f, 0);
        struct wdsmc_mt_pkt q = mk(WDSMC_MT_QCC, 1);
        q.u.qcc.qcc_seq = 1;
        q.u.qcc.qcr_backoff = 60000;
        feed(f, &q, 0);
        d[k] = wdsmc_mt_client_deadline(f->c);
        fx_free(f);
    }
    assert_int_equal(d[0], d[1]);
}

/* Mutated server packets and random timer firings, with an unprotected
 * session so mutations reach the state machine instead of the checksum:
 * nothing may crash (ASan/UBSan), done runs at most once, and every sent
 * packet decodes. */
static void test_mt_client_survives_mutated_packets(void **state)
{
    uint64_t x = 0x2545F4914F6CDD1Du;
    uint64_t delivered = 0, nacks = 0, acks = 0, demotes = 0, kicks = 0;
    for (int run = 0; run < 40; run++) {
        struct fx *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        struct wdsmc_mt_session_info si;
        struct wdsmc_mt_join_info ji;
        struct wdsmc_mt_client_params p;
        session(&si);
        si.server_sec = WDSMC_SEC_NONE;
        joininfo(&ji, true, false);
        wdsmc_mt_client_params_default(&p);
        p.seed = (uint64_t)run;
        p.max_app_cache = 300;
        struct wdsmc_mt_client_cbs cbs = cbs_for(f);
        assert_int_equal(wdsmc_mt_client_new(&si, &ji, &p, &cbs, &f->c), 0);
        f->data_hold = run & 1;
        uint64_t now = 0;
        assert_int_equal(wdsmc_mt_client_start(f->c, now), 0);
        static const uint8_t ops[] = {WDSMC_MT_JOINACK, WDSMC_MT_SPM,  WDSMC_MT_ODATA,
                                      WDSMC_MT_RDATA,   WDSMC_MT_QCC,  WDSMC_MT_POLL,
                                      WDSMC_MT_NCF,     WDSMC_MT_KICK, WDSMC_MT_DEMOTE};
        for (int i = 0; i < 400 && f->dones == 0; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            uint8_t op = ops[x % sizeof(ops)];
            if (op == WDSMC_MT_KICK || op == WDSMC_MT_DEMOTE)
                if ((x >> 8) % 16 != 0)
                    op = WDSMC_MT_ODATA;
            struct wdsmc_mt_pkt pk = mk(op, x >> 32);
            pk.sec_type = WDSMC_SEC_NONE;
            uint8_t data[32] = {0};
            struct wdsmc_mt_kick_entry ke = {MYID, (uint8_t)(x >> 20)};
            uint32_t ids[1] = {MYID};
            uint64_t seq = 1 + (x >> 12) % 64;
            switch (op) {
            case WDSMC_MT_JOINACK:
                pk.u.joinack.client_id = MYID;
                pk.u.joinack.max_nack_backoff = (uint16_t)((x >> 40) % 60);
                pk.u.joinack.min_nack_backoff = (uint16_t)((x >> 30) % 60);
                break;
            case WDSMC_MT_SPM:
                pk.u.spm.spm_seq = (x >> 16) % 100;
                pk.u.spm.master_client_id = (x & 1) ? MYID : OTHER;
                pk.u.spm.trail_seq = seq / 2;
                pk.u.spm.lead_seq = seq;
                break;
            case WDSMC_MT_ODATA:
            case WDSMC_MT_RDATA:
                pk.u.data.client_id = (x & 2) ? MYID : OTHER;
                pk.u.data.seq = seq;
                pk.u.data.trail_seq = (x >> 50) % (seq + 1);
                pk.u.data.data = data;
                pk.u.data.data_len = (uint16_t)((x >> 24) % sizeof(data));
                break;
            case WDSMC_MT_QCC:
                pk.u.qcc.qcc_seq = (x >> 16) % 50;
                pk.u.qcc.qcr_backoff = (uint16_t)(x >> 48);
                break;
            case WDSMC_MT_POLL:
                pk.u.poll.poll_seq = (x >> 16) % 50;
                pk.u.poll.backoff = (uint16_t)(x >> 48);
                pk.u.poll.app = data;
                pk.u.poll.app_len = 3;
                break;
            case WDSMC_MT_KICK:
                pk.u.kick.count = 1;
                pk.u.kick.entries = &ke;
                break;
            case WDSMC_MT_DEMOTE:
                pk.u.demote.lower_session_id = SID; /* stays reachable */
                pk.u.demote.maddr.len = 4;
                pk.u.demote.uaddr.len = 4;
                pk.u.demote.count = 1;
                pk.u.demote.client_ids = ids;
                break;
            default:
                break;
            }
            uint8_t buf[512];
            ssize_t n = wdsmc_mt_encode(&pk, buf, sizeof(buf));
            assert_true(n > 0);
            if ((x >> 5) % 4 == 0) /* flip a byte past the security header */
                buf[4 + (x >> 33) % ((uint64_t)n - 4)] ^= (uint8_t)(1u << ((x >> 3) % 8));
            now += (x >> 58);
            f->now = now;
            int rc = wdsmc_mt_client_handle(f->c, buf, (size_t)n, now);
            assert_true(rc <= 0);
            if ((x >> 2) % 3 == 0)
                wdsmc_mt_client_cache_done(f->c, (x >> 10) % 64, now);
            uint64_t d = wdsmc_mt_client_deadline(f->c);
            if (d <= now + 100)
                tick(f, d > now ? d : now);
            if (f->nsent > MAX_SENT - 64)
                fx_clear(f);
        }
        if (f->dones == 0) {
            assert_int_equal(wdsmc_mt_client_leave(f->c, WDSMC_LEAVE_CANCELLED, -ECANCELED, now),
                             0);
            for (int k = 0; k < 3 && f->dones == 0; k++)
                tick(f, wdsmc_mt_client_deadline(f->c));
        }
        assert_int_equal(f->dones, 1);
        struct wdsmc_mt_client_stats st = stats(f);
        delivered += f->data_calls;
        nacks += st.nacks;
        acks += st.acks;
        demotes += st.demotes;
        kicks += f->done_err <= -WDSMC_EKICK_POLICY && f->done_err >= -WDSMC_EKICK_FAIL;
        fx_free(f);
    }
    /* the runs did reach the interesting states */
    assert_true(delivered > 100);
    assert_true(nacks > 10);
    assert_true(acks > 10);
    assert_true(demotes > 0);
    assert_true(kicks > 0);
}

/* ------------------------------------------------------------------------ */
/* MS-WDSMT client + MS-WDSMA client, wired as the glue does                 */
/* ------------------------------------------------------------------------ */

struct app {
    uint8_t content[10 * 100];
    size_t got;
    struct fx *f;
};

static size_t app_block(void *ctx, uint64_t block, uint64_t offset, const uint8_t *data, size_t len)
{
    struct app *a = ctx;
    memcpy(a->content + offset, data, len);
    a->got++;
    return 0; /* copied: nothing held */
}

static void app_complete(void *ctx)
{
    struct app *a = ctx;
    /* re-entrant: inside MT data -> MA data -> here */
    assert_int_equal(wdsmc_mt_client_leave(a->f->c, WDSMC_LEAVE_COMPLETE, 0, a->f->now), 0);
}

static int feed_block(struct fx *f, uint8_t op, uint64_t seq, uint64_t block, uint64_t now)
{
    uint8_t data[100], ma[200];
    memset(data, (int)(block + 1), sizeof(data));
    struct wdsmc_ma_pkt m = {.opcode = WDSMC_MA_DATA};
    m.u.data.block = block;
    m.u.data.data = data;
    m.u.data.data_len = sizeof(data);
    ssize_t n = wdsmc_ma_encode(&m, ma, sizeof(ma));
    assert_true(n > 0);
    return feed_data(f, op, seq, 1, OTHER, ma, (uint16_t)n, 1, now);
}

static void test_mt_client_wired_to_ma_client_receives_content(void **state)
{
    struct fx *f = fx_new();
    struct app a = {.f = f};
    struct wdsmc_ma_client_cfg cfg = {.content_size = 1000, .total_blocks = 10, .block_size = 100};
    struct wdsmc_ma_client_cbs mcb = {.ctx = &a, .block = app_block, .complete = app_complete};
    assert_int_equal(wdsmc_ma_client_new(&cfg, &mcb, 0, &f->ma), 0);
    join(f, 0);

    /* blocks 0..9 as ODATA 1..10; 3 and 7 lost */
    for (uint64_t b = 0; b < 10; b++)
        if (b != 3 && b != 7)
            assert_int_equal(feed_block(f, WDSMC_MT_ODATA, b + 1, b, 100 + b), 0);
    assert_int_equal(a.got, 8);

    /* QCC -> PROGRESS 80% */
    struct wdsmc_mt_pkt q = mk(WDSMC_MT_QCC, 1);
    q.u.qcc.qcc_seq = 1;
    assert_int_equal(feed(f, &q, 5000), 0);
    tick(f, 5000);
    struct wdsmc_mt_pkt *qcr = last(f);
    assert_int_equal(qcr->opcode, WDSMC_MT_QCR);
    struct wdsmc_ma_pkt m;
    assert_int_equal(wdsmc_ma_decode(qcr->u.qcr.app, qcr->u.qcr.app_len, &m), qcr->u.qcr.app_len);
    assert_int_equal(m.opcode, WDSMC_MA_PROGRESS);
    assert_int_equal(m.u.progress.progress, 80);
    assert_int_equal(m.u.progress.time_in_session, 5);

    /* POLL with SRVCIR -> POLLACK with CNTCIR listing blocks 3 and 7 */
    uint8_t srv[8];
    struct wdsmc_ma_pkt s = {.opcode = WDSMC_MA_SRVCIR};
    ssize_t sn = wdsmc_ma_encode(&s, srv, sizeof(srv));
    struct wdsmc_mt_pkt p = mk(WDSMC_MT_POLL, 1);
    p.u.poll.poll_seq = 1;
    p.u.poll.app = srv;
    p.u.poll.app_len = (uint16_t)sn;
    assert_int_equal(feed(f, &p, 6000), 0);
    tick(f, 6000);
    struct wdsmc_mt_pkt *pa = last(f);
    assert_int_equal(pa->opcode, WDSMC_MT_POLLACK);
    assert_int_equal(wdsmc_ma_decode(pa->u.pollack.app, pa->u.pollack.app_len, &m),
                     pa->u.pollack.app_len);
    assert_int_equal(m.opcode, WDSMC_MA_CNTCIR);
    assert_int_equal(m.u.cntcir.range_count, 2);
    assert_int_equal(m.u.cntcir.ranges[0].start, 3);
    assert_int_equal(m.u.cntcir.ranges[0].end, 3);
    assert_int_equal(m.u.cntcir.ranges[1].start, 7);
    assert_int_equal(m.u.cntcir.ranges[1].end, 7);

    /* the transport repairs 4 and 8 (= blocks 3, 7); a duplicate first */
    assert_int_equal(feed_block(f, WDSMC_MT_RDATA, 2, 1, 6100), 0);
    assert_int_equal(a.got, 8);
    assert_int_equal(feed_block(f, WDSMC_MT_RDATA, 4, 3, 6101), 0);
    assert_int_equal(stats(f).state, WDSMC_MT_CLIENT_REGULAR);
    assert_int_equal(feed_block(f, WDSMC_MT_RDATA, 8, 7, 6102), 0);
    /* the last block completed MA, which left from inside the callback */
    assert_int_equal(a.got, 10);
    assert_int_equal(stats(f).state, WDSMC_MT_CLIENT_LEAVING);
    assert_int_equal(stats(f).app_cache, 0);
    for (size_t i = 0; i < sizeof(a.content); i++)
        assert_int_equal(a.content[i], i / 100 + 1);
    fx_clear(f);
    tick(f, wdsmc_mt_client_deadline(f->c));
    assert_int_equal(f->nsent, 1);
    assert_int_equal(last(f)->opcode, WDSMC_MT_LEAVE);
    assert_int_equal(last(f)->u.leave.reason, WDSMC_LEAVE_COMPLETE);
    assert_int_equal(f->dones, 1);
    assert_int_equal(f->done_err, 0);
    fx_free(f);
}

/* ------------------------------------------------------------------------ */
/* HASH and SIGN (MS-WDSMT 3.2.5.2, MS-WDSMSI 3.1.5.1)                       */
/* ------------------------------------------------------------------------ */

static const struct wdsmc_mt_keys client_keys = {
        .sym_key = symkey_41,
        .sym_key_len = sizeof(symkey_41),
        .sign_key = test_pub_blob,
        .sign_key_len = sizeof(test_pub_blob),
        .hash_alg = WDSMC_CALG_SHA_256,
        .hmac_alg = WDSMC_CALG_HMAC,
};

/* The server side of the keys: the HMAC key and the private RSA key. */
static const struct wdsmc_mt_keys server_keys = {
        .sym_key = symkey_41,
        .sym_key_len = sizeof(symkey_41),
        .sign_priv = test_priv_blob,
        .sign_priv_len = sizeof(test_priv_blob),
};

struct secfx {
    struct fx *f;
    struct wdsmc_mtsec srv; /* the server's keys */
    struct wdsmc_mt_security srv_tx, cli_tx;
};

static void secfx_new(struct secfx *x, uint8_t server_sec, uint8_t client_sec)
{
    struct wdsmc_mt_session_info si;
    struct wdsmc_mt_join_info ji;

    x->f = calloc(1, sizeof(*x->f));
    assert_non_null(x->f);
    assert_int_equal(
            wdsmc_mtsec_init(&x->srv, &server_keys, WDSMC_MTSEC_HMAC | WDSMC_MTSEC_SIGN, 3), 0);
    wdsmc_mtsec_view(&x->srv, server_sec, &x->srv_tx);
    wdsmc_mtsec_view(&x->srv, client_sec, &x->cli_tx);
    x->f->tx_check = &x->cli_tx;
    session(&si);
    si.server_sec = server_sec;
    si.client_sec = client_sec;
    si.keys = &client_keys;
    joininfo(&ji, false, false);
    struct wdsmc_mt_client_cbs cbs = cbs_for(x->f);
    assert_int_equal(wdsmc_mt_client_new(&si, &ji, NULL, &cbs, &x->f->c), 0);
    /* The copy handed back never points at the caller's keys. */
    assert_null(wdsmc_mt_client_session(x->f->c)->keys);
}

static void secfx_free(struct secfx *x)
{
    fx_free(x->f);
    wdsmc_mtsec_fini(&x->srv);
}

/* Encode p the way the server would and hand it to the client. */
static int feed_sec(struct secfx *x, const struct wdsmc_mt_security *sec,
                    const struct wdsmc_mt_pkt *p, int flip, uint64_t now)
{
    static uint8_t buf[WDSMC_MAX_DATAGRAM];
    ssize_t n = wdsmc_mt_encode_sec(p, sec, buf, sizeof(buf));
    assert_true(n > 0);
    if (flip >= 0)
        buf[flip] ^= 0x01;
    x->f->now = now;
    return wdsmc_mt_client_handle(x->f->c, buf, (size_t)n, now);
}

static struct wdsmc_mt_pkt joinack_pkt(void)
{
    struct wdsmc_mt_pkt p = mk(WDSMC_MT_JOINACK, 777);
    p.u.joinack.client_id = MYID;
    p.u.joinack.min_nack_backoff = 10;
    p.u.joinack.max_nack_backoff = 50;
    return p;
}

static void test_mt_client_hash_mode_checks_hmac_both_ways(void **state)
{
    struct secfx x;
    struct wdsmc_mt_pkt p = joinack_pkt();
    struct wdsmc_mt_security cks = {.mode = WDSMC_SEC_CHECKSUM};

    secfx_new(&x, WDSMC_SEC_HASH, WDSMC_SEC_HASH);
    assert_int_equal(wdsmc_mt_client_start(x.f->c, 1000), 0);
    /* The JOIN carries our HMAC (on_send checks it with the key). */
    assert_int_equal(last(x.f)->opcode, WDSMC_MT_JOIN);
    assert_int_equal(last(x.f)->sec_type, WDSMC_SEC_HASH);
    assert_int_equal(last(x.f)->sec_len, 32);

    /* A tampered JOINACK (a byte of the body, then of the HMAC) is dropped. */
    assert_int_equal(feed_sec(&x, &x.srv_tx, &p, 40, 1001), -WDSMC_EHMAC);
    assert_int_equal(feed_sec(&x, &x.srv_tx, &p, 6, 1001), -WDSMC_EHMAC);
    /* So is a CHECKSUM one: the server insists on HASH. */
    assert_int_equal(feed_sec(&x, &cks, &p, -1, 1001), -WDSMC_ESECTYPE);
    struct wdsmc_mt_client_stats st = stats(x.f);
    assert_int_equal(st.state, WDSMC_MT_CLIENT_JOIN);
    assert_int_equal(st.auth_failures, 2);
    assert_int_equal(st.drop_security, 3);
    assert_int_equal(st.drop_decode, 0);

    /* The genuine one is accepted; what we send next is HASHed too. */
    assert_int_equal(feed_sec(&x, &x.srv_tx, &p, -1, 1002), 0);
    st = stats(x.f);
    assert_int_equal(st.state, WDSMC_MT_CLIENT_REGULAR);
    assert_int_equal(st.client_id, MYID);
    assert_int_equal(last(x.f)->opcode, WDSMC_MT_QCR);
    assert_int_equal(last(x.f)->sec_type, WDSMC_SEC_HASH);
    secfx_free(&x);
}

static void test_mt_client_sign_mode_verifies_server_signatures(void **state)
{
    struct secfx x;
    struct wdsmc_mt_pkt p = joinack_pkt();

    /* MS-WDSMSI 3.1.5.1: a SIGNing server, clients HASH. */
    secfx_new(&x, WDSMC_SEC_SIGN, WDSMC_SEC_HASH);
    assert_int_equal(wdsmc_mt_client_start(x.f->c, 1000), 0);
    assert_int_equal(last(x.f)->sec_type, WDSMC_SEC_HASH);
    /* A bad signature, a signature over a changed body, an HMAC'd packet. */
    assert_int_equal(feed_sec(&x, &x.srv_tx, &p, 5, 1001), -WDSMC_ESIG);
    assert_int_equal(feed_sec(&x, &x.srv_tx, &p, 5 + 128 + 4, 1001), -WDSMC_ESIG);
    assert_int_equal(feed_sec(&x, &x.cli_tx, &p, -1, 1001), -WDSMC_ESECTYPE);
    assert_int_equal(stats(x.f).auth_failures, 2);
    assert_int_equal(stats(x.f).state, WDSMC_MT_CLIENT_JOIN);

    assert_int_equal(feed_sec(&x, &x.srv_tx, &p, -1, 1002), 0);
    assert_int_equal(stats(x.f).state, WDSMC_MT_CLIENT_REGULAR);
    /* Data flows: a signed ODATA reaches the data callback. */
    uint8_t b = 0x5A;
    struct wdsmc_mt_pkt d = mk(WDSMC_MT_ODATA, 2000);
    d.u.data.client_id = MYID;
    d.u.data.seq = 1;
    d.u.data.trail_seq = 1;
    d.u.data.data = &b;
    d.u.data.data_len = 1;
    assert_int_equal(feed_sec(&x, &x.srv_tx, &d, -1, 1003), 0);
    assert_int_equal(x.f->data_calls, 1);
    assert_int_equal(x.f->last_data[0], 0x5A);
    secfx_free(&x);
}

static void test_mt_client_hash_sign_creation_needs_the_keys(void **state)
{
    struct fx f = {0};
    struct wdsmc_mt_session_info si;
    struct wdsmc_mt_join_info ji;
    struct wdsmc_mt_client_cbs cbs = cbs_for(&f);
    struct wdsmc_mt_client *c = NULL;
    struct wdsmc_mt_keys k = client_keys;

    session(&si);
    joininfo(&ji, false, false);
    si.keys = &k;
    si.server_sec = WDSMC_SEC_SIGN;
    si.client_sec = WDSMC_SEC_HASH;
    k.sign_key = NULL;
    assert_int_equal(wdsmc_mt_client_new(&si, &ji, NULL, &cbs, &c), -ENOKEY);
    k = client_keys;
    k.sym_key = NULL;
    assert_int_equal(wdsmc_mt_client_new(&si, &ji, NULL, &cbs, &c), -ENOKEY);
    k = client_keys;
    k.sign_key_len--;
    assert_int_equal(wdsmc_mt_client_new(&si, &ji, NULL, &cbs, &c), -WDSMC_EKEYBLOB);
    k = client_keys;
    k.hash_alg = 0x8003; /* CALG_MD5 */
    assert_int_equal(wdsmc_mt_client_new(&si, &ji, NULL, &cbs, &c), -ENOTSUP);
    assert_null(c);
    /* NONE and CHECKSUM ignore whatever keys come along. */
    k.hash_alg = 0x8003;
    si.server_sec = WDSMC_SEC_CHECKSUM;
    si.client_sec = WDSMC_SEC_CHECKSUM;
    assert_int_equal(wdsmc_mt_client_new(&si, &ji, NULL, &cbs, &c), 0);
    wdsmc_mt_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_mt_client_new_rejects_bad_config),
            cmocka_unit_test(test_mt_client_hash_mode_checks_hmac_both_ways),
            cmocka_unit_test(test_mt_client_sign_mode_verifies_server_signatures),
            cmocka_unit_test(test_mt_client_hash_sign_creation_needs_the_keys),
            cmocka_unit_test(test_mt_client_params_default_match_spec),
            cmocka_unit_test(test_mt_client_sends_join_every_interval_until_joinack),
            cmocka_unit_test(test_mt_client_join_without_options_when_not_asked),
            cmocka_unit_test(test_mt_client_joinack_sends_qcr_form1_and_arms_force_qcc),
            cmocka_unit_test(test_mt_client_repeated_joinack_in_regular_resends_qcr),
            cmocka_unit_test(test_mt_client_ignores_everything_but_joinack_in_join_state),
            cmocka_unit_test(test_mt_client_joinack_client_id_zero_rejected),
            cmocka_unit_test(test_mt_client_drops_wrong_session_and_security),
            cmocka_unit_test(test_mt_client_ncf_ignored),
            cmocka_unit_test(test_mt_client_qcc_answers_after_random_backoff),
            cmocka_unit_test(test_mt_client_qcc_backoff_zero_answers_at_once),
            cmocka_unit_test(test_mt_client_stale_qcc_rejected),
            cmocka_unit_test(test_mt_client_force_qcc_sends_voluntary_qcr),
            cmocka_unit_test(test_mt_client_poll_answers_pollack_after_backoff),
            cmocka_unit_test(test_mt_client_stale_poll_rejected),
            cmocka_unit_test(test_mt_client_poll_trigger_failure_sends_nothing),
            cmocka_unit_test(test_mt_client_poll_appdata_over_limit_dropped),
            cmocka_unit_test(test_mt_client_spm_updates_data_configuration),
            cmocka_unit_test(test_mt_client_spm_lead_beyond_received_is_nacked),
            cmocka_unit_test(test_mt_client_spm_acks_as_master),
            cmocka_unit_test(test_mt_client_odata_hands_payload_up),
            cmocka_unit_test(test_mt_client_first_seq_from_odata_not_rdata),
            cmocka_unit_test(test_mt_client_ignores_data_below_first_seq),
            cmocka_unit_test(test_mt_client_late_joiner_trims_at_first_seq),
            cmocka_unit_test(test_mt_client_trail_passing_gap_forgets_it),
            cmocka_unit_test(test_mt_client_nacks_gap_after_backoff),
            cmocka_unit_test(test_mt_client_master_nacks_without_backoff),
            cmocka_unit_test(test_mt_client_master_nacks_a_new_loss_at_once),
            cmocka_unit_test(test_mt_client_non_master_new_loss_waits_for_the_timer),
            cmocka_unit_test(test_mt_client_nack_range_list_capped),
            cmocka_unit_test(test_mt_client_missing_list_cap_is_respected),
            cmocka_unit_test(test_mt_client_acks_only_as_master),
            cmocka_unit_test(test_mt_client_fw_lead_option_gates_ack),
            cmocka_unit_test(test_mt_client_zero_nack_when_cache_full),
            cmocka_unit_test(test_mt_client_cache_done_inside_data_callback),
            cmocka_unit_test(test_mt_client_loss_rate_tracks_losses),
            cmocka_unit_test(test_mt_client_loss_rate_waits_for_first_seq),
            cmocka_unit_test(test_mt_client_spm_counts_unseen_lead_as_loss),
            cmocka_unit_test(test_mt_client_complete_leaves_with_reason_complete),
            cmocka_unit_test(test_mt_client_leave_delay_uses_max_leave_delay_without_backoff),
            cmocka_unit_test(test_mt_client_no_leave_before_client_id),
            cmocka_unit_test(test_mt_client_inactivity_timeout_leaves_inactive),
            cmocka_unit_test(test_mt_client_inactivity_in_join_state_ends_without_leave),
            cmocka_unit_test(test_mt_client_any_valid_packet_resets_inactivity),
            cmocka_unit_test(test_mt_client_kick_leaves_cancelled_with_kick_error),
            cmocka_unit_test(test_mt_client_kick_for_other_clients_ignored),
            cmocka_unit_test(test_mt_client_demote_leaves_old_server_then_rejoins),
            cmocka_unit_test(test_mt_client_demote_for_other_clients_ignored),
            cmocka_unit_test(test_mt_client_leave_during_demote_delay_ends_session),
            cmocka_unit_test(test_mt_client_leave_from_rebind_ends_session),
            cmocka_unit_test(test_mt_client_leave_from_data_callback_stops_processing),
            cmocka_unit_test(test_mt_client_leave_from_send_callback_during_ack),
            cmocka_unit_test(test_mt_client_leave_from_send_callback_during_start),
            cmocka_unit_test(test_mt_client_reentrant_drive_calls_are_refused),
            cmocka_unit_test(test_mt_client_same_seed_same_backoffs),
            cmocka_unit_test(test_mt_client_survives_mutated_packets),
            cmocka_unit_test(test_mt_client_wired_to_ma_client_receives_content),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
