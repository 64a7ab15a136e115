/* SPDX-License-Identifier: MIT */
/* Unit tests for the MS-WDSMA client (transport/ma_client.c). Packets are
 * built and parsed with the codec. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ma_client.h"

struct rec {
    size_t calls;
    uint64_t last_block, last_offset;
    size_t last_len;
    uint8_t last_first_byte;
    size_t ret;      /* what the block callback returns; 0 default */
    bool reject_odd; /* reject odd block numbers */
    size_t completes;
};

static size_t on_block(void *ctx, uint64_t block, uint64_t offset, const uint8_t *data, size_t len)
{
    struct rec *r = ctx;
    r->calls++;
    r->last_block = block;
    r->last_offset = offset;
    r->last_len = len;
    r->last_first_byte = len ? data[0] : 0;
    if (r->reject_odd && (block & 1))
        return WDSMC_MA_BLOCK_REJECT;
    return r->ret == 1 ? len : r->ret;
}

static void on_complete(void *ctx)
{
    struct rec *r = ctx;
    r->completes++;
}

static struct wdsmc_ma_client *mk(struct rec *r, uint64_t size, uint32_t bs, uint64_t now)
{
    struct wdsmc_ma_client_cfg cfg = {
            .content_size = size,
            .block_size = bs,
            .total_blocks = size / bs + (size % bs != 0),
    };
    struct wdsmc_ma_client_cbs cbs = {.ctx = r, .block = on_block, .complete = on_complete};
    struct wdsmc_ma_client *c = NULL;
    assert_int_equal(wdsmc_ma_client_new(&cfg, &cbs, now, &c), 0);
    return c;
}

/* Encode a DATA packet for `block` with `len` bytes of value `fill`. */
static size_t data_pkt(uint8_t *buf, size_t cap, uint64_t block, size_t len, uint8_t fill)
{
    static uint8_t payload[WDSMC_MA_MAX_BLOCK_SIZE];
    memset(payload, fill, len);
    struct wdsmc_ma_pkt p = {.opcode = WDSMC_MA_DATA};
    p.u.data.block = block;
    p.u.data.data = payload;
    p.u.data.data_len = (uint16_t)len;
    ssize_t n = wdsmc_ma_encode(&p, buf, cap);
    assert_true(n > 0);
    return (size_t)n;
}

static ssize_t feed(struct wdsmc_ma_client *c, uint64_t block, size_t len)
{
    uint8_t buf[WDSMC_MA_MAX_BLOCK_SIZE + 64];
    size_t n = data_pkt(buf, sizeof(buf), block, len, (uint8_t)(block + 1));
    return wdsmc_ma_client_data(c, buf, n);
}

static void test_ma_client_new_validates_parameters(void **state)
{
    struct rec r = {0};
    struct wdsmc_ma_client_cbs cbs = {.ctx = &r, .block = on_block};
    struct wdsmc_ma_client *c = NULL;
    struct wdsmc_ma_client_cfg cfg = {.content_size = 10, .block_size = 4, .total_blocks = 3};
    assert_int_equal(wdsmc_ma_client_new(&cfg, &cbs, 0, &c), 0);
    assert_int_equal(wdsmc_ma_client_max_cache(c), WDSMC_MA_DEFAULT_MAX_CACHE);
    wdsmc_ma_client_free(c);
    wdsmc_ma_client_free(NULL);

    cfg.total_blocks = 2; /* not ceil(10/4) */
    assert_int_equal(wdsmc_ma_client_new(&cfg, &cbs, 0, &c), -EINVAL);
    cfg.total_blocks = 3;
    cfg.block_size = 0;
    assert_int_equal(wdsmc_ma_client_new(&cfg, &cbs, 0, &c), -EINVAL);
    cfg.block_size = WDSMC_MA_MAX_BLOCK_SIZE + 1;
    cfg.content_size = 1;
    cfg.total_blocks = 1;
    assert_int_equal(wdsmc_ma_client_new(&cfg, &cbs, 0, &c), -EINVAL);
    /* more blocks than the bitmap cap */
    cfg.block_size = 1;
    cfg.content_size = WDSMC_BITMAP_MAX_BITS + 1;
    cfg.total_blocks = WDSMC_BITMAP_MAX_BITS + 1;
    assert_int_equal(wdsmc_ma_client_new(&cfg, &cbs, 0, &c), -EFBIG);
    cbs.block = NULL;
    cfg.content_size = cfg.total_blocks = 1;
    assert_int_equal(wdsmc_ma_client_new(&cfg, &cbs, 0, &c), -EINVAL);
    cfg.max_cache = 12345;
    cbs.block = on_block;
    assert_int_equal(wdsmc_ma_client_new(&cfg, &cbs, 0, &c), 0);
    assert_int_equal(wdsmc_ma_client_max_cache(c), 12345);
    wdsmc_ma_client_free(c);
}

static void test_ma_client_data_delivers_new_block_at_offset(void **state)
{
    struct rec r = {0};
    struct wdsmc_ma_client *c = mk(&r, 10000, 4096, 0);
    assert_int_equal(feed(c, 1, 4096), 0);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.last_block, 1);
    assert_int_equal(r.last_offset, 4096);
    assert_int_equal(r.last_len, 4096);
    assert_int_equal(r.last_first_byte, 2);
    assert_true(wdsmc_bitmap_test(wdsmc_ma_client_bitmap(c), 1));
    /* last block is the remainder 10000 - 8192 = 1808 */
    assert_int_equal(feed(c, 2, 1808), 0);
    assert_int_equal(r.last_offset, 8192);
    wdsmc_ma_client_free(c);
}

static void test_ma_client_data_returns_bytes_held(void **state)
{
    struct rec r = {.ret = 1}; /* callback returns len: held */
    struct wdsmc_ma_client *c = mk(&r, 8192, 4096, 0);
    assert_int_equal(feed(c, 0, 4096), 4096);
    r.ret = 0; /* consumed synchronously */
    assert_int_equal(feed(c, 1, 4096), 0);
    assert_int_equal(r.completes, 1);
    wdsmc_ma_client_free(c);

    r = (struct rec){.ret = 99999}; /* clamped to len */
    c = mk(&r, 8192, 4096, 0);
    assert_int_equal(feed(c, 0, 4096), 4096);
    wdsmc_ma_client_free(c);
}

static void test_ma_client_data_ignores_duplicates(void **state)
{
    struct rec r = {.ret = 1};
    struct wdsmc_ma_client *c = mk(&r, 8192, 4096, 0);
    assert_int_equal(feed(c, 0, 4096), 4096);
    assert_int_equal(feed(c, 0, 4096), 0);
    assert_int_equal(r.calls, 1);
    struct wdsmc_ma_client_stats st;
    wdsmc_ma_client_stats(c, &st);
    assert_int_equal(st.duplicates, 1);
    assert_int_equal(st.received_blocks, 1);
    wdsmc_ma_client_free(c);
}

static void test_ma_client_data_rejects_malformed(void **state)
{
    struct rec r = {0};
    struct wdsmc_ma_client *c = mk(&r, 10000, 4096, 0);
    /* block out of range */
    assert_int_equal(feed(c, 3, 4096), -EBADMSG);
    /* wrong length for a full block, and for the last block */
    assert_int_equal(feed(c, 0, 4095), -EBADMSG);
    assert_int_equal(feed(c, 2, 4096), -EBADMSG);
    assert_int_equal(feed(c, 2, 1807), -EBADMSG);
    /* not a DATA packet */
    uint8_t buf[64];
    struct wdsmc_ma_pkt p = {.opcode = WDSMC_MA_SRVCIR};
    ssize_t n = wdsmc_ma_encode(&p, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(wdsmc_ma_client_data(c, buf, (size_t)n), -EBADMSG);
    /* undecodable: codec error */
    assert_true(wdsmc_ma_client_data(c, buf, 2) < 0);
    assert_int_equal(r.calls, 0);
    struct wdsmc_ma_client_stats st;
    wdsmc_ma_client_stats(c, &st);
    assert_int_equal(st.malformed, 6);
    assert_int_equal(st.received_blocks, 0);
    wdsmc_ma_client_free(c);
}

static void test_ma_client_rejected_block_stays_missing(void **state)
{
    struct rec r = {.reject_odd = true};
    struct wdsmc_ma_client *c = mk(&r, 3 * 512, 512, 0);
    assert_int_equal(feed(c, 1, 512), 0);
    assert_false(wdsmc_bitmap_test(wdsmc_ma_client_bitmap(c), 1));
    assert_int_equal(feed(c, 1, 512), 0);
    assert_int_equal(r.calls, 2); /* offered again */
    struct wdsmc_ma_client_stats st;
    wdsmc_ma_client_stats(c, &st);
    assert_int_equal(st.rejected, 2);
    wdsmc_ma_client_free(c);
}

static void test_ma_client_completion_fires_once(void **state)
{
    struct rec r = {0};
    struct wdsmc_ma_client *c = mk(&r, 3 * 100, 100, 0);
    feed(c, 2, 100);
    feed(c, 0, 100);
    assert_false(wdsmc_ma_client_is_complete(c));
    assert_int_equal(r.completes, 0);
    feed(c, 1, 100);
    assert_true(wdsmc_ma_client_is_complete(c));
    assert_int_equal(r.completes, 1);
    feed(c, 1, 100);
    wdsmc_ma_client_recheck(c);
    assert_int_equal(r.completes, 1);
    assert_int_equal(wdsmc_ma_client_progress(c), 100);
    wdsmc_ma_client_free(c);
}

static void test_ma_client_mark_resumes_without_callback(void **state)
{
    struct rec r = {0};
    struct wdsmc_ma_client *c = mk(&r, 4 * 100, 100, 0);
    assert_int_equal(wdsmc_ma_client_mark(c, 0), 1);
    assert_int_equal(wdsmc_ma_client_mark(c, 0), 0);
    assert_int_equal(wdsmc_ma_client_mark(c, 4), -ERANGE);
    assert_int_equal(r.calls, 0);
    /* a marked block is a duplicate for DATA */
    assert_int_equal(feed(c, 0, 100), 0);
    assert_int_equal(r.calls, 0);
    wdsmc_ma_client_mark(c, 1);
    wdsmc_ma_client_mark(c, 2);
    assert_int_equal(r.completes, 0);
    wdsmc_ma_client_mark(c, 3);
    assert_int_equal(r.completes, 1);
    wdsmc_ma_client_free(c);
}

static void test_ma_client_bitmap_load_then_recheck_completes(void **state)
{
    struct rec r = {0};
    struct wdsmc_ma_client *c = mk(&r, 10 * 100, 100, 0);
    uint8_t raw[2] = {0xFF, 0x03};
    assert_int_equal(wdsmc_bitmap_load(wdsmc_ma_client_bitmap(c), raw, 2), 0);
    wdsmc_ma_client_recheck(c);
    assert_int_equal(r.completes, 1);
    wdsmc_ma_client_free(c);
}

static void test_ma_client_empty_content_is_complete(void **state)
{
    struct rec r = {0};
    struct wdsmc_ma_client *c = mk(&r, 0, 512, 0);
    assert_true(wdsmc_ma_client_is_complete(c));
    assert_int_equal(wdsmc_ma_client_progress(c), 100);
    wdsmc_ma_client_recheck(c);
    assert_int_equal(r.completes, 0); /* no callback: known at creation */
    wdsmc_ma_client_free(c);
}

static void test_ma_client_qcc_builds_progress(void **state)
{
    struct rec r = {0};
    struct wdsmc_ma_client *c = mk(&r, 3 * 100, 100, 5000);
    uint8_t buf[64];
    struct wdsmc_ma_pkt p;
    feed(c, 0, 100);
    ssize_t n = wdsmc_ma_client_qcc(c, buf, sizeof(buf), 5000 + 12999);
    assert_true(n > 0);
    assert_int_equal(wdsmc_ma_decode(buf, (size_t)n, &p), n);
    assert_int_equal(p.opcode, WDSMC_MA_PROGRESS);
    assert_int_equal(p.u.progress.time_in_session, 12);
    assert_int_equal(p.u.progress.progress, 33); /* floor(100/3) */
    /* time before JoinTime saturates at 0 */
    n = wdsmc_ma_client_qcc(c, buf, sizeof(buf), 10);
    assert_int_equal(wdsmc_ma_decode(buf, (size_t)n, &p), n);
    assert_int_equal(p.u.progress.time_in_session, 0);
    assert_int_equal(wdsmc_ma_client_qcc(c, buf, 3, 0), -ENOBUFS);
    feed(c, 1, 100);
    assert_int_equal(wdsmc_ma_client_progress(c), 66);
    wdsmc_ma_client_free(c);
}

static ssize_t poll_srvcir(struct wdsmc_ma_client *c, uint8_t *out, size_t cap, uint64_t now)
{
    uint8_t in[8];
    struct wdsmc_ma_pkt s = {.opcode = WDSMC_MA_SRVCIR};
    ssize_t n = wdsmc_ma_encode(&s, in, sizeof(in));
    assert_true(n > 0);
    return wdsmc_ma_client_poll(c, in, (size_t)n, out, cap, now);
}

static void test_ma_client_poll_reports_missing_ranges(void **state)
{
    struct rec r = {0};
    struct wdsmc_ma_client *c = mk(&r, 10 * 100, 100, 0);
    uint8_t buf[2048];
    struct wdsmc_ma_pkt p;
    feed(c, 0, 100);
    feed(c, 3, 100);
    feed(c, 4, 100);
    feed(c, 9, 100);
    ssize_t n = poll_srvcir(c, buf, sizeof(buf), 61000);
    assert_true(n > 0);
    assert_int_equal(wdsmc_ma_decode(buf, (size_t)n, &p), n);
    assert_int_equal(p.opcode, WDSMC_MA_CNTCIR);
    assert_int_equal(p.u.cntcir.progress, 40);
    assert_int_equal(p.u.cntcir.time_in_session, 61);
    assert_int_equal(p.u.cntcir.range_count, 2);
    assert_int_equal(p.u.cntcir.ranges[0].start, 1);
    assert_int_equal(p.u.cntcir.ranges[0].end, 2);
    assert_int_equal(p.u.cntcir.ranges[1].start, 5);
    assert_int_equal(p.u.cntcir.ranges[1].end, 8);
    wdsmc_ma_client_free(c);
}

static void test_ma_client_poll_caps_at_64_ranges(void **state)
{
    struct rec r = {0};
    struct wdsmc_ma_client *c = mk(&r, 200 * 10, 10, 0);
    for (uint64_t b = 0; b < 200; b += 2)
        feed(c, b, 10); /* 100 single-block gaps: 1, 3, ..., 199 */
    uint8_t buf[2048];
    struct wdsmc_ma_pkt p;
    ssize_t n = poll_srvcir(c, buf, sizeof(buf), 0);
    assert_int_equal(wdsmc_ma_decode(buf, (size_t)n, &p), n);
    assert_int_equal(p.u.cntcir.range_count, 64);
    assert_int_equal(p.u.cntcir.ranges[0].start, 1);
    assert_int_equal(p.u.cntcir.ranges[63].start, 127);
    assert_int_equal(p.u.cntcir.ranges[63].end, 127);
    assert_int_equal(poll_srvcir(c, buf, 10, 0), -ENOBUFS);
    wdsmc_ma_client_free(c);
}

static void test_ma_client_poll_rejects_non_srvcir(void **state)
{
    struct rec r = {0};
    struct wdsmc_ma_client *c = mk(&r, 100, 10, 0);
    uint8_t in[64], out[2048];
    struct wdsmc_ma_pkt s = {.opcode = WDSMC_MA_PROGRESS};
    ssize_t n = wdsmc_ma_encode(&s, in, sizeof(in));
    assert_true(n > 0);
    assert_int_equal(wdsmc_ma_client_poll(c, in, (size_t)n, out, sizeof(out), 0), -EBADMSG);
    assert_true(wdsmc_ma_client_poll(c, in, 1, out, sizeof(out), 0) < 0);
    wdsmc_ma_client_free(c);
}

static void test_ma_client_window_limits_cntcir_and_data(void **state)
{
    struct rec r = {0};
    struct wdsmc_ma_client *c = mk(&r, 100 * 10, 10, 0);
    uint8_t buf[2048];
    struct wdsmc_ma_pkt p;
    assert_int_equal(wdsmc_ma_client_set_window(c, 5, 3), -EINVAL);
    assert_int_equal(wdsmc_ma_client_set_window(c, 20, 30), 0);
    feed(c, 22, 10);
    ssize_t n = poll_srvcir(c, buf, sizeof(buf), 0);
    assert_int_equal(wdsmc_ma_decode(buf, (size_t)n, &p), n);
    assert_int_equal(p.u.cntcir.range_count, 2);
    assert_int_equal(p.u.cntcir.ranges[0].start, 20);
    assert_int_equal(p.u.cntcir.ranges[0].end, 21);
    assert_int_equal(p.u.cntcir.ranges[1].start, 23);
    assert_int_equal(p.u.cntcir.ranges[1].end, 29);
    assert_int_equal(p.u.cntcir.progress, 1);
    /* outside the window: dropped, not delivered, not marked */
    size_t calls = r.calls;
    assert_int_equal(feed(c, 30, 10), 0);
    assert_int_equal(feed(c, 19, 10), 0);
    assert_int_equal(r.calls, calls);
    assert_false(wdsmc_bitmap_test(wdsmc_ma_client_bitmap(c), 30));
    struct wdsmc_ma_client_stats st;
    wdsmc_ma_client_stats(c, &st);
    assert_int_equal(st.outside, 2);
    /* whole content again; hi clamped */
    assert_int_equal(wdsmc_ma_client_set_window(c, 0, UINT64_MAX), 0);
    n = poll_srvcir(c, buf, sizeof(buf), 0);
    assert_int_equal(wdsmc_ma_decode(buf, (size_t)n, &p), n);
    assert_int_equal(p.u.cntcir.range_count, 2);
    assert_int_equal(p.u.cntcir.ranges[0].start, 0);
    assert_int_equal(p.u.cntcir.ranges[1].end, 99);
    /* window fully received: empty CNTCIR */
    wdsmc_ma_client_set_window(c, 22, 23);
    n = poll_srvcir(c, buf, sizeof(buf), 0);
    assert_int_equal(wdsmc_ma_decode(buf, (size_t)n, &p), n);
    assert_int_equal(p.u.cntcir.range_count, 0);
    wdsmc_ma_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_ma_client_new_validates_parameters),
            cmocka_unit_test(test_ma_client_data_delivers_new_block_at_offset),
            cmocka_unit_test(test_ma_client_data_returns_bytes_held),
            cmocka_unit_test(test_ma_client_data_ignores_duplicates),
            cmocka_unit_test(test_ma_client_data_rejects_malformed),
            cmocka_unit_test(test_ma_client_rejected_block_stays_missing),
            cmocka_unit_test(test_ma_client_completion_fires_once),
            cmocka_unit_test(test_ma_client_mark_resumes_without_callback),
            cmocka_unit_test(test_ma_client_bitmap_load_then_recheck_completes),
            cmocka_unit_test(test_ma_client_empty_content_is_complete),
            cmocka_unit_test(test_ma_client_qcc_builds_progress),
            cmocka_unit_test(test_ma_client_poll_reports_missing_ranges),
            cmocka_unit_test(test_ma_client_poll_caps_at_64_ranges),
            cmocka_unit_test(test_ma_client_poll_rejects_non_srvcir),
            cmocka_unit_test(test_ma_client_window_limits_cntcir_and_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
