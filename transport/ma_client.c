/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ma_client.h"

struct wdsmc_ma_client {
    uint64_t content_size;
    uint64_t total_blocks;
    uint32_t block_size;
    uint64_t max_cache;
    uint64_t join_ms; /* JoinTime, kept in ms; TimeInSession is whole seconds */
    uint64_t win_lo, win_hi;
    bool completed; /* complete callback has fired */
    struct wdsmc_bitmap bm;
    struct wdsmc_ma_client_cbs cbs;
    struct wdsmc_ma_client_stats st;
};

int wdsmc_ma_client_new(const struct wdsmc_ma_client_cfg *cfg,
                        const struct wdsmc_ma_client_cbs *cbs, uint64_t now,
                        struct wdsmc_ma_client **ret)
{
    if (!cfg || !cbs || !cbs->block || !ret)
        return -EINVAL;
    if (cfg->block_size == 0 || cfg->block_size > WDSMC_MA_MAX_BLOCK_SIZE)
        return -EINVAL;
    /* Decision 5: TotalBlocks = ceil(ContentSize / BlockSize), written so it
     * cannot overflow. */
    uint64_t want =
            cfg->content_size / cfg->block_size + (cfg->content_size % cfg->block_size != 0);
    if (cfg->total_blocks != want)
        return -EINVAL;

    struct wdsmc_ma_client *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    int r = wdsmc_bitmap_init(&c->bm, cfg->total_blocks);
    if (r < 0) {
        free(c);
        return r;
    }
    c->content_size = cfg->content_size;
    c->total_blocks = cfg->total_blocks;
    c->block_size = cfg->block_size;
    c->max_cache = cfg->max_cache ? cfg->max_cache : WDSMC_MA_DEFAULT_MAX_CACHE;
    c->join_ms = now;
    c->win_lo = 0;
    c->win_hi = c->total_blocks;
    c->cbs = *cbs;
    /* Nothing to receive: complete from the start, without a callback (the
     * caller checks wdsmc_ma_client_is_complete()). */
    c->completed = c->total_blocks == 0;
    *ret = c;
    return 0;
}

void wdsmc_ma_client_free(struct wdsmc_ma_client *c)
{
    if (!c)
        return;
    wdsmc_bitmap_fini(&c->bm);
    free(c);
}

static void check_complete(struct wdsmc_ma_client *c)
{
    if (c->completed || !wdsmc_bitmap_full(&c->bm))
        return;
    c->completed = true;
    if (c->cbs.complete)
        c->cbs.complete(c->cbs.ctx);
}

int wdsmc_ma_client_mark(struct wdsmc_ma_client *c, uint64_t block)
{
    if (block >= c->total_blocks)
        return -ERANGE;
    if (!wdsmc_bitmap_set(&c->bm, block))
        return 0;
    check_complete(c);
    return 1;
}

int wdsmc_ma_client_set_window(struct wdsmc_ma_client *c, uint64_t lo, uint64_t hi)
{
    if (lo > hi)
        return -EINVAL;
    if (hi > c->total_blocks)
        hi = c->total_blocks;
    if (lo > hi)
        lo = hi;
    c->win_lo = lo;
    c->win_hi = hi;
    return 0;
}

/* Length a DATA packet for `block` must carry (decision 5). */
static uint64_t block_len(const struct wdsmc_ma_client *c, uint64_t block)
{
    if (block + 1 < c->total_blocks)
        return c->block_size;
    return c->content_size - (c->total_blocks - 1) * c->block_size;
}

/* MS-WDSMA 3.2.5.1. The spec's Cache Done trigger "specifying the size of the
 * DATA packet" becomes the return value plus the application's later
 * complete-receive: a block consumed during the callback (or ignored) is
 * never counted as held, so the transport's cache cannot leak (decision 19). */
ssize_t wdsmc_ma_client_data(struct wdsmc_ma_client *c, const uint8_t *payload, size_t len)
{
    struct wdsmc_ma_pkt p;
    c->st.data_packets++;
    ssize_t r = wdsmc_ma_decode(payload, len, &p);
    if (r < 0) {
        c->st.malformed++;
        return r;
    }
    if (p.opcode != WDSMC_MA_DATA || p.u.data.block >= c->total_blocks ||
        p.u.data.data_len != block_len(c, p.u.data.block)) {
        c->st.malformed++;
        return -EBADMSG;
    }
    uint64_t b = p.u.data.block;
    if (wdsmc_bitmap_test(&c->bm, b)) {
        c->st.duplicates++;
        return 0;
    }
    if (b < c->win_lo || b >= c->win_hi) {
        c->st.outside++;
        return 0;
    }
    size_t n = p.u.data.data_len;
    size_t held = c->cbs.block(c->cbs.ctx, b, b * c->block_size, p.u.data.data, n);
    if (held == WDSMC_MA_BLOCK_REJECT) {
        c->st.rejected++;
        return 0;
    }
    if (held > n)
        held = n;
    wdsmc_bitmap_set(&c->bm, b);
    check_complete(c);
    return (ssize_t)held;
}

uint64_t wdsmc_ma_client_max_cache(const struct wdsmc_ma_client *c)
{
    return c->max_cache;
}

/* Whole seconds since JoinTime (MS-WDSMA 3.2.5.3: local time in seconds -
 * JoinTime), saturated to the 32-bit field. */
static uint32_t time_in_session(const struct wdsmc_ma_client *c, uint64_t now)
{
    if (now < c->join_ms)
        return 0;
    uint64_t s = (now - c->join_ms) / 1000;
    return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

uint8_t wdsmc_ma_client_progress(const struct wdsmc_ma_client *c)
{
    if (c->total_blocks == 0)
        return 100;
    /* total <= 2^32 (bitmap cap), so 100 * received fits 64 bits. */
    return (uint8_t)(100 * wdsmc_bitmap_count(&c->bm) / c->total_blocks);
}

/* MS-WDSMA 3.2.5.3 */
ssize_t wdsmc_ma_client_qcc(struct wdsmc_ma_client *c, uint8_t *buf, size_t cap, uint64_t now)
{
    struct wdsmc_ma_pkt p = {.opcode = WDSMC_MA_PROGRESS};
    p.u.progress.time_in_session = time_in_session(c, now);
    p.u.progress.progress = wdsmc_ma_client_progress(c);
    c->st.qccs++;
    return wdsmc_ma_encode(&p, buf, cap);
}

/* MS-WDSMA 3.2.5.4 */
ssize_t wdsmc_ma_client_poll(struct wdsmc_ma_client *c, const uint8_t *app, size_t app_len,
                             uint8_t *buf, size_t cap, uint64_t now)
{
    struct wdsmc_ma_pkt in;
    ssize_t r = wdsmc_ma_decode(app, app_len, &in);
    if (r < 0)
        return r;
    if (in.opcode != WDSMC_MA_SRVCIR)
        return -EBADMSG;

    struct wdsmc_ma_pkt p = {.opcode = WDSMC_MA_CNTCIR};
    p.u.cntcir.progress = wdsmc_ma_client_progress(c);
    p.u.cntcir.time_in_session = time_in_session(c, now);
    p.u.cntcir.range_count = (uint16_t)wdsmc_bitmap_missing_ranges(
            &c->bm, c->win_lo, c->win_hi, p.u.cntcir.ranges, WDSMC_MA_MAX_RANGES);
    c->st.polls++;
    return wdsmc_ma_encode(&p, buf, cap);
}

bool wdsmc_ma_client_is_complete(const struct wdsmc_ma_client *c)
{
    return wdsmc_bitmap_full(&c->bm);
}

struct wdsmc_bitmap *wdsmc_ma_client_bitmap(struct wdsmc_ma_client *c)
{
    return &c->bm;
}

void wdsmc_ma_client_recheck(struct wdsmc_ma_client *c)
{
    check_complete(c);
}

void wdsmc_ma_client_stats(const struct wdsmc_ma_client *c, struct wdsmc_ma_client_stats *ret)
{
    *ret = c->st;
    ret->total_blocks = c->total_blocks;
    ret->received_blocks = wdsmc_bitmap_count(&c->bm);
    ret->progress = wdsmc_ma_client_progress(c);
    ret->complete = wdsmc_ma_client_is_complete(c);
}
