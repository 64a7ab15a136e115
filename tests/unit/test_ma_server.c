/* SPDX-License-Identifier: MIT */
/*
 * MS-WDSMA server state machine (MS-WDSMA 3.1): payloads built with the codec,
 * literal timestamps, assertions on what goes out through the callbacks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ma_server.h"

#define BACKOFF 200

struct fake {
    struct wdsmc_ma_server *ma;
    uint8_t content[1000];
    uint64_t content_size;
    int polls;
    uint8_t last_poll[64];
    size_t last_poll_len;
    int poll_ret;
    int data_ready;
    int progress_calls;
    uint32_t progress_client;
    uint8_t progress;
    uint32_t progress_tis;
    ssize_t read_override; /* 0 = normal */
};

static int fake_poll(void *ctx, const uint8_t *app, size_t len, uint64_t now)
{
    struct fake *f = ctx;

    (void)now;
    f->polls++;
    assert_true(len <= sizeof(f->last_poll));
    memcpy(f->last_poll, app, len);
    f->last_poll_len = len;
    return f->poll_ret;
}

static ssize_t fake_read(void *ctx, uint64_t offset, uint8_t *buf, size_t len)
{
    struct fake *f = ctx;

    if (f->read_override)
        return f->read_override;
    assert_true(offset + len <= f->content_size);
    memcpy(buf, f->content + offset, len);
    return (ssize_t)len;
}

static void fake_data_ready(void *ctx, uint64_t now)
{
    struct fake *f = ctx;

    (void)now;
    f->data_ready++;
}

static void fake_progress(void *ctx, uint32_t id, uint8_t progress, uint32_t tis, uint64_t now)
{
    struct fake *f = ctx;

    (void)now;
    f->progress_calls++;
    f->progress_client = id;
    f->progress = progress;
    f->progress_tis = tis;
}

/* 1000 bytes in blocks of 100 (blocks 0..9), or as the test asks. */
static void fake_init(struct fake *f, uint64_t size, uint32_t block_size, uint32_t max_reports)
{
    struct wdsmc_ma_server_config cfg = {
            .content_size = size, .block_size = block_size, .max_reports = max_reports};
    struct wdsmc_ma_server_callbacks cb = {
            .ctx = f,
            .poll = fake_poll,
            .read = fake_read,
            .data_ready = fake_data_ready,
            .progress = fake_progress,
    };

    memset(f, 0, sizeof(*f));
    for (size_t i = 0; i < sizeof(f->content); i++)
        f->content[i] = (uint8_t)(i * 7 + 3);
    f->content_size = size;
    f->poll_ret = BACKOFF;
    assert_int_equal(wdsmc_ma_server_new(&cfg, &cb, &f->ma), 0);
}

static size_t cntcir(uint8_t *buf, size_t cap, uint32_t tis, const struct wdsmc_range *r, int n)
{
    struct wdsmc_ma_pkt pkt = {.opcode = WDSMC_MA_CNTCIR};
    ssize_t len;

    pkt.u.cntcir.progress = 10;
    pkt.u.cntcir.time_in_session = tis;
    pkt.u.cntcir.range_count = (uint16_t)n;
    for (int i = 0; i < n; i++)
        pkt.u.cntcir.ranges[i] = r[i];
    len = wdsmc_ma_encode(&pkt, buf, cap);
    assert_true(len > 0);
    return (size_t)len;
}

static void report(struct fake *f, uint32_t id, uint32_t tis, const struct wdsmc_range *r, int n)
{
    uint8_t buf[1100];
    size_t len = cntcir(buf, sizeof(buf), tis, r, n);

    assert_int_equal(wdsmc_ma_server_pollack(f->ma, id, buf, len, 1100), 0);
}

static void started(struct fake *f)
{
    assert_int_equal(wdsmc_ma_server_start(f->ma, 1000), 0);
    assert_int_equal(f->polls, 1);
}

static void test_ma_server_waits_idle_until_first_status(void **state)
{
    struct fake f;
    struct wdsmc_ma_server_stats st;

    (void)state;
    fake_init(&f, 1000, 100, 0);
    assert_int_equal(wdsmc_ma_server_deadline(f.ma), UINT64_MAX);
    wdsmc_ma_server_timeout(f.ma, 5000);
    assert_int_equal(f.polls, 0);

    /* The QCR answering a JOINACK has an empty payload: it starts the round. */
    assert_int_equal(wdsmc_ma_server_status(f.ma, 7, NULL, 0, 1000), 0);
    assert_int_equal(f.polls, 1);
    assert_int_equal(f.progress_calls, 0);
    wdsmc_ma_server_get_stats(f.ma, &st);
    assert_int_equal(st.state, WDSMC_MA_SERVER_QUERY);
    assert_int_equal(st.total_blocks, 10);

    /* A second status does not start another round. */
    assert_int_equal(wdsmc_ma_server_status(f.ma, 8, NULL, 0, 1010), 0);
    assert_int_equal(f.polls, 1);
    wdsmc_ma_server_free(f.ma);
}

static void test_ma_server_poll_sends_srvcir_and_arms_query_timer(void **state)
{
    struct fake f;
    static const uint8_t srvcir[] = {0x00, 0x03, 0x01};

    (void)state;
    fake_init(&f, 1000, 100, 0);
    started(&f);
    assert_int_equal(f.last_poll_len, 3);
    assert_memory_equal(f.last_poll, srvcir, 3);
    assert_int_equal(wdsmc_ma_server_deadline(f.ma), 1000 + BACKOFF);
    /* start is idempotent */
    assert_int_equal(wdsmc_ma_server_start(f.ma, 1050), 0);
    assert_int_equal(f.polls, 1);
    wdsmc_ma_server_free(f.ma);
}

static void test_ma_server_query_timer_without_reports_polls_again(void **state)
{
    struct fake f;

    (void)state;
    fake_init(&f, 1000, 100, 0);
    started(&f);
    wdsmc_ma_server_timeout(f.ma, 1199); /* not yet due */
    assert_int_equal(f.polls, 1);
    wdsmc_ma_server_timeout(f.ma, 1200);
    assert_int_equal(f.polls, 2);
    assert_int_equal(wdsmc_ma_server_deadline(f.ma), 1200 + BACKOFF);
    assert_int_equal(f.data_ready, 0);
    wdsmc_ma_server_free(f.ma);
}

/* Decision 44: the Query Timer is what the POLL Trigger returns (MS-WDSMT
 * adds the round trip to PollBackOff), so a POLLACK arriving after PollBackOff
 * but before that time is kept and merged. */
static void test_ma_server_query_timer_is_poll_answer_so_late_pollacks_count(void **state)
{
    struct fake f;
    struct wdsmc_range out[2];
    const struct wdsmc_range a[] = {{3, 5}};
    uint8_t buf[64];
    size_t len = cntcir(buf, sizeof(buf), 10, a, 1);

    (void)state;
    fake_init(&f, 1000, 100, 0);
    f.poll_ret = BACKOFF + 240 + 60; /* RTT 240 and a quarter */
    started(&f);
    assert_int_equal(wdsmc_ma_server_deadline(f.ma), 1000 + 500);
    wdsmc_ma_server_timeout(f.ma, 1000 + BACKOFF);
    assert_int_equal(f.polls, 1);
    assert_int_equal(wdsmc_ma_server_pollack(f.ma, 4, buf, len, 1000 + 440), 0);
    wdsmc_ma_server_timeout(f.ma, 1499);
    assert_int_equal(f.data_ready, 0);
    wdsmc_ma_server_timeout(f.ma, 1500);
    assert_int_equal(f.data_ready, 1);
    assert_int_equal(f.polls, 1);
    assert_int_equal(wdsmc_ma_server_get_ranges(f.ma, out, 2), 1);
    assert_int_equal(out[0].start, 3);
    assert_int_equal(out[0].end, 5);
    wdsmc_ma_server_free(f.ma);
}

static void test_ma_server_merges_reports_ascending_non_overlapping(void **state)
{
    struct fake f;
    struct wdsmc_range out[8];
    const struct wdsmc_range a[] = {{6, 7}, {1, 2}};
    const struct wdsmc_range b[] = {{2, 3}, {9, 9}};
    const struct wdsmc_range c[] = {{4, 4}};

    (void)state;
    fake_init(&f, 1000, 100, 0);
    started(&f);
    report(&f, 1, 100, a, 2);
    report(&f, 2, 90, b, 2);
    report(&f, 3, 95, c, 1);
    wdsmc_ma_server_timeout(f.ma, 1200);
    assert_int_equal(f.data_ready, 1);
    assert_int_equal(wdsmc_ma_server_deadline(f.ma), UINT64_MAX);
    /* [1,2]+[2,3]+[4,4] touch: one range; then [6,7], [9,9]. */
    assert_int_equal(wdsmc_ma_server_get_ranges(f.ma, out, 8), 3);
    assert_int_equal(out[0].start, 1);
    assert_int_equal(out[0].end, 4);
    assert_int_equal(out[1].start, 6);
    assert_int_equal(out[1].end, 7);
    assert_int_equal(out[2].start, 9);
    assert_int_equal(out[2].end, 9);
    wdsmc_ma_server_free(f.ma);
}

static void test_ma_server_drops_reports_of_late_joiners(void **state)
{
    struct fake f;
    struct wdsmc_range out[4];
    const struct wdsmc_range old[] = {{0, 1}};
    const struct wdsmc_range edge[] = {{3, 3}};
    const struct wdsmc_range late[] = {{5, 8}};

    (void)state;
    fake_init(&f, 1000, 100, 0);
    started(&f);
    report(&f, 1, 100, old, 1);
    report(&f, 2, 70, edge, 1); /* exactly 30 s below: kept */
    report(&f, 3, 69, late, 1); /* 31 s below: dropped */
    wdsmc_ma_server_timeout(f.ma, 1200);
    assert_int_equal(wdsmc_ma_server_get_ranges(f.ma, out, 4), 2);
    assert_int_equal(out[0].start, 0);
    assert_int_equal(out[0].end, 1);
    assert_int_equal(out[1].start, 3);
    assert_int_equal(out[1].end, 3);
    wdsmc_ma_server_free(f.ma);
}

static void test_ma_server_clamps_ranges_to_the_content(void **state)
{
    struct fake f;
    struct wdsmc_range out[4];
    const struct wdsmc_range r[] = {{8, 1000}, {10, 20}, {UINT64_MAX, UINT64_MAX}};

    (void)state;
    fake_init(&f, 1000, 100, 0);
    started(&f);
    report(&f, 1, 5, r, 3);
    wdsmc_ma_server_timeout(f.ma, 1200);
    assert_int_equal(wdsmc_ma_server_get_ranges(f.ma, out, 4), 1);
    assert_int_equal(out[0].start, 8);
    assert_int_equal(out[0].end, 9);
    wdsmc_ma_server_free(f.ma);
}

static void test_ma_server_empty_merge_starts_next_round_at_once(void **state)
{
    struct fake f;
    struct wdsmc_ma_server_stats st;
    const struct wdsmc_range r[] = {{10, 20}};

    (void)state;
    fake_init(&f, 1000, 100, 0);
    started(&f);
    report(&f, 1, 5, NULL, 0); /* complete client */
    report(&f, 2, 5, r, 1);    /* only invalid ranges */
    wdsmc_ma_server_timeout(f.ma, 1200);
    assert_int_equal(f.polls, 2);
    assert_int_equal(f.data_ready, 0);
    assert_int_equal(wdsmc_ma_server_deadline(f.ma), 1200 + BACKOFF);
    wdsmc_ma_server_get_stats(f.ma, &st);
    assert_int_equal(st.state, WDSMC_MA_SERVER_QUERY);
    assert_int_equal(st.reports, 0); /* the new round starts empty */
    wdsmc_ma_server_free(f.ma);
}

static void test_ma_server_pulls_blocks_in_ascending_order(void **state)
{
    struct fake f;
    const struct wdsmc_range r[] = {{7, 8}, {2, 3}};
    const uint64_t want[] = {2, 3, 7, 8};
    uint64_t tok = 42;

    (void)state;
    fake_init(&f, 1000, 100, 0);
    assert_false(wdsmc_ma_server_pull_data(f.ma, &tok)); /* idle */
    started(&f);
    assert_false(wdsmc_ma_server_pull_data(f.ma, &tok)); /* querying */
    report(&f, 1, 5, r, 2);
    wdsmc_ma_server_timeout(f.ma, 1200);
    for (size_t i = 0; i < 4; i++) {
        assert_true(wdsmc_ma_server_pull_data(f.ma, &tok));
        assert_int_equal(tok, want[i]);
    }
    tok = 42;
    assert_false(wdsmc_ma_server_pull_data(f.ma, &tok));
    assert_int_equal(tok, 42);
    assert_false(wdsmc_ma_server_pull_data(f.ma, &tok));
    wdsmc_ma_server_free(f.ma);
}

static void test_ma_server_fill_data_encodes_block_and_short_last_block(void **state)
{
    struct fake f;
    uint8_t buf[300];
    struct wdsmc_ma_pkt pkt;
    ssize_t n;

    (void)state;
    fake_init(&f, 950, 100, 0); /* 10 blocks, the last one 50 bytes */
    n = wdsmc_ma_server_fill_data(f.ma, 3, buf, sizeof(buf));
    assert_int_equal(n, 13 + 100);
    assert_int_equal(wdsmc_ma_decode(buf, (size_t)n, &pkt), n);
    assert_int_equal(pkt.opcode, WDSMC_MA_DATA);
    assert_int_equal(pkt.u.data.block, 3);
    assert_int_equal(pkt.u.data.data_len, 100);
    assert_memory_equal(pkt.u.data.data, f.content + 300, 100);

    n = wdsmc_ma_server_fill_data(f.ma, 9, buf, sizeof(buf));
    assert_int_equal(n, 13 + 50);
    assert_int_equal(wdsmc_ma_decode(buf, (size_t)n, &pkt), n);
    assert_int_equal(pkt.u.data.block, 9);
    assert_int_equal(pkt.u.data.data_len, 50);
    assert_memory_equal(pkt.u.data.data, f.content + 900, 50);

    assert_int_equal(wdsmc_ma_server_fill_data(f.ma, 10, buf, sizeof(buf)), -ERANGE);
    assert_int_equal(wdsmc_ma_server_fill_data(f.ma, 0, buf, 112), -ENOBUFS);
    wdsmc_ma_server_free(f.ma);
}

static void test_ma_server_read_error_fails_instead_of_sending(void **state)
{
    struct fake f;
    uint8_t buf[300];
    struct wdsmc_ma_server_stats st;

    (void)state;
    fake_init(&f, 1000, 100, 0);
    f.read_override = -EIO - 1000; /* any negative error is passed through */
    assert_int_equal(wdsmc_ma_server_fill_data(f.ma, 0, buf, sizeof(buf)), -EIO - 1000);
    wdsmc_ma_server_get_stats(f.ma, &st);
    assert_int_equal(st.state, WDSMC_MA_SERVER_DONE);
    assert_int_equal(st.err, -EIO - 1000);
    wdsmc_ma_server_free(f.ma);

    fake_init(&f, 1000, 100, 0);
    f.read_override = 99; /* short read */
    assert_int_equal(wdsmc_ma_server_fill_data(f.ma, 0, buf, sizeof(buf)), -EIO);
    wdsmc_ma_server_get_stats(f.ma, &st);
    assert_int_equal(st.err, -EIO);
    wdsmc_ma_server_free(f.ma);
}

static void test_ma_server_data_empty_starts_new_round_only_in_data_state(void **state)
{
    struct fake f;
    const struct wdsmc_range r[] = {{0, 0}};
    struct wdsmc_ma_server_stats st;

    (void)state;
    fake_init(&f, 1000, 100, 0);
    wdsmc_ma_server_data_empty(f.ma, 900); /* idle: ignored */
    assert_int_equal(f.polls, 0);
    started(&f);
    wdsmc_ma_server_data_empty(f.ma, 1100); /* query: ignored */
    assert_int_equal(f.polls, 1);
    assert_int_equal(wdsmc_ma_server_deadline(f.ma), 1200);
    report(&f, 1, 5, r, 1);
    wdsmc_ma_server_timeout(f.ma, 1200);
    wdsmc_ma_server_data_empty(f.ma, 1500);
    assert_int_equal(f.polls, 2);
    assert_int_equal(wdsmc_ma_server_deadline(f.ma), 1500 + BACKOFF);
    wdsmc_ma_server_get_stats(f.ma, &st);
    assert_int_equal(st.state, WDSMC_MA_SERVER_QUERY);
    assert_int_equal(st.rounds, 2);
    assert_int_equal(st.data_rounds, 1);
    wdsmc_ma_server_free(f.ma);
}

static void test_ma_server_pollack_accepts_only_cntcir_in_query_state(void **state)
{
    struct fake f;
    uint8_t buf[64];
    struct wdsmc_ma_pkt pkt = {.opcode = WDSMC_MA_PROGRESS};
    ssize_t n;

    (void)state;
    fake_init(&f, 1000, 100, 0);
    n = cntcir(buf, sizeof(buf), 1, NULL, 0);
    assert_int_equal(wdsmc_ma_server_pollack(f.ma, 1, buf, (size_t)n, 900), -ESTALE);
    started(&f);
    pkt.u.progress.progress = 5;
    n = wdsmc_ma_encode(&pkt, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(wdsmc_ma_server_pollack(f.ma, 1, buf, (size_t)n, 1100), -WDSMC_EOPCODE);
    buf[0] = 0x7f; /* Packet-Size disagrees */
    assert_true(wdsmc_ma_server_pollack(f.ma, 1, buf, (size_t)n, 1100) < 0);
    assert_true(wdsmc_ma_server_pollack(f.ma, 1, NULL, 0, 1100) < 0);
    wdsmc_ma_server_timeout(f.ma, 1200); /* nothing kept: new round */
    assert_int_equal(f.polls, 2);
    wdsmc_ma_server_free(f.ma);
}

static void test_ma_server_caps_reports_at_client_limit(void **state)
{
    struct fake f;
    uint8_t buf[64];
    struct wdsmc_range out[4];
    const struct wdsmc_range r1[] = {{1, 1}};
    const struct wdsmc_range r2[] = {{2, 2}};
    const struct wdsmc_range r3[] = {{3, 3}};
    struct wdsmc_ma_server_stats st;
    size_t n;

    (void)state;
    fake_init(&f, 1000, 100, 2);
    started(&f);
    report(&f, 1, 5, r1, 1);
    report(&f, 1, 5, r2, 1); /* same client: replaces, no new slot */
    report(&f, 2, 5, r2, 1);
    n = cntcir(buf, sizeof(buf), 5, r3, 1);
    assert_int_equal(wdsmc_ma_server_pollack(f.ma, 3, buf, n, 1100), -EUSERS);
    wdsmc_ma_server_get_stats(f.ma, &st);
    assert_int_equal(st.reports, 2);
    assert_int_equal(st.reports_dropped, 1);
    wdsmc_ma_server_timeout(f.ma, 1200);
    assert_int_equal(wdsmc_ma_server_get_ranges(f.ma, out, 4), 1);
    assert_int_equal(out[0].start, 2);
    assert_int_equal(out[0].end, 2);
    wdsmc_ma_server_free(f.ma);
}

static void test_ma_server_status_reports_progress(void **state)
{
    struct fake f;
    uint8_t buf[16];
    struct wdsmc_ma_pkt pkt = {.opcode = WDSMC_MA_PROGRESS};
    ssize_t n;

    (void)state;
    fake_init(&f, 1000, 100, 0);
    pkt.u.progress.progress = 42;
    pkt.u.progress.time_in_session = 77;
    n = wdsmc_ma_encode(&pkt, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(wdsmc_ma_server_status(f.ma, 9, buf, (size_t)n, 1000), 0);
    assert_int_equal(f.progress_calls, 1);
    assert_int_equal(f.progress_client, 9);
    assert_int_equal(f.progress, 42);
    assert_int_equal(f.progress_tis, 77);
    assert_int_equal(f.polls, 1); /* it also started the first round */

    /* A CNTCIR is not a PROGRESS */
    n = (ssize_t)cntcir(buf, sizeof(buf), 1, NULL, 0);
    assert_int_equal(wdsmc_ma_server_status(f.ma, 9, buf, (size_t)n, 1010), -WDSMC_EOPCODE);
    assert_int_equal(f.progress_calls, 1);
    wdsmc_ma_server_free(f.ma);
}

static void test_ma_server_terminate_stops_everything(void **state)
{
    struct fake f;
    const struct wdsmc_range r[] = {{0, 9}};
    struct wdsmc_ma_server_stats st;
    uint64_t tok;

    (void)state;
    fake_init(&f, 1000, 100, 0);
    started(&f);
    report(&f, 1, 5, r, 1);
    wdsmc_ma_server_timeout(f.ma, 1200);
    wdsmc_ma_server_terminate(f.ma, -ECANCELED);
    wdsmc_ma_server_terminate(f.ma, -EIO); /* first reason wins */
    assert_false(wdsmc_ma_server_pull_data(f.ma, &tok));
    assert_int_equal(wdsmc_ma_server_deadline(f.ma), UINT64_MAX);
    wdsmc_ma_server_data_empty(f.ma, 1300);
    assert_int_equal(wdsmc_ma_server_start(f.ma, 1300), 0);
    assert_int_equal(f.polls, 1);
    wdsmc_ma_server_get_stats(f.ma, &st);
    assert_int_equal(st.state, WDSMC_MA_SERVER_DONE);
    assert_int_equal(st.err, -ECANCELED);
    wdsmc_ma_server_free(f.ma);
}

static void test_ma_server_poll_error_ends_the_server(void **state)
{
    struct fake f;
    struct wdsmc_ma_server_stats st;

    (void)state;
    fake_init(&f, 1000, 100, 0);
    f.poll_ret = -ESHUTDOWN;
    assert_int_equal(wdsmc_ma_server_start(f.ma, 1000), -ESHUTDOWN);
    wdsmc_ma_server_get_stats(f.ma, &st);
    assert_int_equal(st.state, WDSMC_MA_SERVER_DONE);
    assert_int_equal(wdsmc_ma_server_deadline(f.ma), UINT64_MAX);
    wdsmc_ma_server_free(f.ma);
}

static void test_ma_server_new_rejects_bad_config(void **state)
{
    struct wdsmc_ma_server_config cfg = {.content_size = 10, .block_size = 0};
    struct wdsmc_ma_server_callbacks cb = {.poll = fake_poll, .read = fake_read};
    struct wdsmc_ma_server *ma = NULL;

    (void)state;
    assert_int_equal(wdsmc_ma_server_new(&cfg, &cb, &ma), -EINVAL);
    cfg.block_size = WDSMC_MA_MAX_BLOCK_SIZE + 1;
    assert_int_equal(wdsmc_ma_server_new(&cfg, &cb, &ma), -EINVAL);
    cfg.block_size = 100;
    cb.read = NULL;
    assert_int_equal(wdsmc_ma_server_new(&cfg, &cb, &ma), -EINVAL);
    assert_null(ma);
    wdsmc_ma_server_free(NULL);
}

static void test_ma_server_empty_content_never_enters_data_state(void **state)
{
    struct fake f;
    const struct wdsmc_range r[] = {{0, 0}};
    struct wdsmc_ma_server_stats st;

    (void)state;
    fake_init(&f, 0, 100, 0);
    started(&f);
    report(&f, 1, 5, r, 1);
    wdsmc_ma_server_timeout(f.ma, 1200);
    wdsmc_ma_server_get_stats(f.ma, &st);
    assert_int_equal(st.total_blocks, 0);
    assert_int_equal(st.state, WDSMC_MA_SERVER_QUERY);
    assert_int_equal(f.polls, 2);
    wdsmc_ma_server_free(f.ma);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_ma_server_waits_idle_until_first_status),
            cmocka_unit_test(test_ma_server_poll_sends_srvcir_and_arms_query_timer),
            cmocka_unit_test(test_ma_server_query_timer_without_reports_polls_again),
            cmocka_unit_test(test_ma_server_query_timer_is_poll_answer_so_late_pollacks_count),
            cmocka_unit_test(test_ma_server_merges_reports_ascending_non_overlapping),
            cmocka_unit_test(test_ma_server_drops_reports_of_late_joiners),
            cmocka_unit_test(test_ma_server_clamps_ranges_to_the_content),
            cmocka_unit_test(test_ma_server_empty_merge_starts_next_round_at_once),
            cmocka_unit_test(test_ma_server_pulls_blocks_in_ascending_order),
            cmocka_unit_test(test_ma_server_fill_data_encodes_block_and_short_last_block),
            cmocka_unit_test(test_ma_server_read_error_fails_instead_of_sending),
            cmocka_unit_test(test_ma_server_data_empty_starts_new_round_only_in_data_state),
            cmocka_unit_test(test_ma_server_pollack_accepts_only_cntcir_in_query_state),
            cmocka_unit_test(test_ma_server_caps_reports_at_client_limit),
            cmocka_unit_test(test_ma_server_status_reports_progress),
            cmocka_unit_test(test_ma_server_terminate_stops_everything),
            cmocka_unit_test(test_ma_server_poll_error_ends_the_server),
            cmocka_unit_test(test_ma_server_new_rejects_bad_config),
            cmocka_unit_test(test_ma_server_empty_content_never_enters_data_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
