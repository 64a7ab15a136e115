/* SPDX-License-Identifier: MIT */
/*
 * The fake source, for tests only (-o fake_source=DIR). It serves the file
 * DIR/<content> as if a multicast server sent it: the start callback after a
 * short delay, then blocks in a shuffled, rotated order (a late joiner gets
 * the tail first), `rate` blocks every 5 ms tick, honouring preset, window and
 * flow control as the real client does. A missing file completes with
 * -WDSMC_ENOCONTENT.
 *
 * Knobs, checked on every tick, so a test can change them while it runs:
 *   DIR/.stall        exists: deliver nothing
 *   DIR/.fail         exists: complete with -WDSMC_EKICK_FAIL (server KICK)
 *   DIR/.stall_after  contains N: a session delivers at most N blocks
 */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "wdsmc/error.h"

#define TICK_MS       5
#define MAX_SCAN      (1u << 18) /* order entries looked at per tick */
#define DEFAULT_BLOCK 8192u
#define DEFAULT_RATE  64u

struct fake_source {
    struct wdsfs_source base;
    uv_timer_t timer;
    struct wdsfs_source_callbacks cbs;
    char path[PATH_MAX];
    char dir[PATH_MAX];
    int fd;
    uint32_t block_size;
    unsigned rate;
    uint64_t seed;
    size_t cache_size;
    size_t cache_held;
    uint64_t content_size;
    uint64_t nblocks;
    uint64_t *order; /* blocks still to deliver, in sending order */
    uint64_t norder;
    uint64_t cursor;
    uint8_t *done; /* delivered or preset */
    uint64_t remaining;
    uint64_t delivered; /* this session */
    uint64_t stall_after;
    uint64_t win_first, win_count;
    uint32_t session_id;
    bool in_start;
    bool started;
    bool cancelled;
    bool completed;
    uint8_t *buf;
};

static uint32_t next_session_id = 0x1000;

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

static bool knob(const struct fake_source *f, const char *name)
{
    char p[PATH_MAX + 16];
    snprintf(p, sizeof(p), "%s/%s", f->dir, name);
    return access(p, F_OK) == 0;
}

static uint64_t knob_number(const struct fake_source *f, const char *name)
{
    char p[PATH_MAX + 16];
    snprintf(p, sizeof(p), "%s/%s", f->dir, name);
    FILE *fp = fopen(p, "r");
    if (!fp)
        return UINT64_MAX;
    unsigned long long v = 0;
    if (fscanf(fp, "%llu", &v) != 1)
        v = ULLONG_MAX;
    fclose(fp);
    return v;
}

static void finish(struct fake_source *f, int err)
{
    if (f->completed)
        return;
    f->completed = true;
    uv_timer_stop(&f->timer);
    if (f->cbs.complete)
        f->cbs.complete(f->cbs.ctx, err);
}

static bool is_done(const struct fake_source *f, uint64_t b)
{
    return (f->done[b / 8] >> (b % 8)) & 1u;
}

static int do_start(struct fake_source *f)
{
    f->fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0)
        return errno == ENOENT ? -WDSMC_ENOCONTENT : -errno;
    struct stat st;
    if (fstat(f->fd, &st) < 0 || !S_ISREG(st.st_mode))
        return -WDSMC_ENOCONTENT;
    f->content_size = (uint64_t)st.st_size;
    f->nblocks = (f->content_size + f->block_size - 1) / f->block_size;
    f->done = calloc(1, f->nblocks / 8 + 1);
    f->buf = malloc(f->block_size);
    if (!f->done || !f->buf)
        return -ENOMEM;
    f->session_id = next_session_id++;
    f->in_start = true;
    if (f->cbs.start)
        f->cbs.start(f->cbs.ctx, f->content_size, f->block_size, f->session_id);
    f->in_start = false;
    if (f->cancelled)
        return -ECANCELED;

    f->order = malloc((f->nblocks ? f->nblocks : 1) * sizeof(*f->order));
    if (!f->order)
        return -ENOMEM;
    for (uint64_t b = 0; b < f->nblocks; b++)
        if (!is_done(f, b))
            f->order[f->norder++] = b;
    f->remaining = f->norder;
    for (uint64_t i = f->norder; i > 1; i--) {
        uint64_t j = xorshift(&f->seed) % i;
        uint64_t t = f->order[i - 1];
        f->order[i - 1] = f->order[j];
        f->order[j] = t;
    }
    f->cursor = f->norder ? xorshift(&f->seed) % f->norder : 0;
    f->started = true;
    return 0;
}

static void on_tick(uv_timer_t *t)
{
    struct fake_source *f = t->data;
    if (f->cancelled) {
        finish(f, -ECANCELED);
        return;
    }
    if (!f->started) {
        int r = do_start(f);
        if (r < 0) {
            finish(f, r);
            return;
        }
        uv_timer_start(&f->timer, on_tick, TICK_MS, TICK_MS);
    }
    if (f->remaining == 0) {
        finish(f, 0);
        return;
    }
    if (knob(f, ".fail")) {
        finish(f, -WDSMC_EKICK_FAIL);
        return;
    }
    if (knob(f, ".stall"))
        return;
    f->stall_after = knob_number(f, ".stall_after");
    unsigned sent = 0;
    for (unsigned scanned = 0; scanned < MAX_SCAN && scanned < f->norder && sent < f->rate;
         scanned++) {
        if (f->delivered >= f->stall_after)
            return;
        uint64_t b = f->order[f->cursor];
        f->cursor = (f->cursor + 1) % f->norder;
        if (is_done(f, b))
            continue;
        /* Outside the window the real client drops what arrives; the block
         * comes round again on a later pass. */
        if (f->win_count && (b < f->win_first || b - f->win_first >= f->win_count))
            continue;
        uint64_t off = b * f->block_size;
        size_t len = (size_t)(f->content_size - off < f->block_size ? f->content_size - off
                                                                    : f->block_size);
        if (f->cache_held + len > f->cache_size)
            return;
        ssize_t r = pread(f->fd, f->buf, len, (off_t)off);
        if (r != (ssize_t)len) {
            finish(f, -EIO);
            return;
        }
        f->done[b / 8] |= (uint8_t)(1u << (b % 8));
        f->remaining--;
        f->delivered++;
        f->cache_held += len;
        sent++;
        f->cbs.receive(f->cbs.ctx, f->buf, len, off);
        if (f->cancelled) {
            finish(f, -ECANCELED);
            return;
        }
        if (f->remaining == 0) {
            finish(f, 0);
            return;
        }
    }
}

static int src_create(uv_loop_t *loop, const struct wdsfs_source_config *cfg, const char *ns,
                      const char *content, const struct wdsfs_source_callbacks *cbs,
                      struct wdsfs_source **ret)
{
    if (!cfg->fake_dir || !content || strchr(content, '/'))
        return -EINVAL;
    struct fake_source *f = calloc(1, sizeof(*f));
    if (!f)
        return -ENOMEM;
    if ((size_t)snprintf(f->path, sizeof(f->path), "%s/%s", cfg->fake_dir, content) >=
                sizeof(f->path) ||
        (size_t)snprintf(f->dir, sizeof(f->dir), "%s", cfg->fake_dir) >= sizeof(f->dir)) {
        free(f);
        return -ENAMETOOLONG;
    }
    f->base.ops = &wdsfs_source_fake_ops;
    f->cbs = *cbs;
    f->fd = -1;
    f->block_size = cfg->fake_block ? cfg->fake_block : DEFAULT_BLOCK;
    f->rate = cfg->fake_rate ? cfg->fake_rate : DEFAULT_RATE;
    f->seed = cfg->fake_seed ^ (uint64_t)next_session_id * 0x2545F4914F6CDD1Dull;
    f->cache_size = cfg->cache_size ? cfg->cache_size : (size_t)64 << 20;
    f->stall_after = UINT64_MAX;
    uv_timer_init(loop, &f->timer);
    f->timer.data = f;
    *ret = &f->base;
    return 0;
}

static int src_start(struct wdsfs_source *base)
{
    struct fake_source *f = (struct fake_source *)base;
    /* The initiation round trip. */
    return uv_timer_start(&f->timer, on_tick, 2, 0);
}

static int src_preset(struct wdsfs_source *base, const uint8_t *bitmap, uint64_t nbits)
{
    struct fake_source *f = (struct fake_source *)base;
    if (!f->in_start)
        return -EINVAL;
    if (nbits != f->nblocks)
        return -ERANGE;
    memcpy(f->done, bitmap, (nbits + 7) / 8);
    return 0;
}

static void src_set_window(struct wdsfs_source *base, uint64_t first, uint64_t count)
{
    struct fake_source *f = (struct fake_source *)base;
    f->win_first = first;
    f->win_count = count;
}

static void src_complete_receive(struct wdsfs_source *base, size_t bytes)
{
    struct fake_source *f = (struct fake_source *)base;
    f->cache_held = bytes > f->cache_held ? 0 : f->cache_held - bytes;
}

static void src_cancel(struct wdsfs_source *base)
{
    struct fake_source *f = (struct fake_source *)base;
    if (f->completed || f->cancelled)
        return;
    f->cancelled = true;
    /* Complete from the loop, as the real client does after its LEAVE. */
    if (!f->in_start)
        uv_timer_start(&f->timer, on_tick, 1, 0);
}

static void on_closed(uv_handle_t *h)
{
    struct fake_source *f = h->data;
    if (f->fd >= 0)
        close(f->fd);
    free(f->order);
    free(f->done);
    free(f->buf);
    free(f);
}

static void src_close(struct wdsfs_source *base)
{
    struct fake_source *f = (struct fake_source *)base;
    uv_close((uv_handle_t *)&f->timer, on_closed);
}

const struct wdsfs_source_ops wdsfs_source_fake_ops = {
        .name = "fake",
        .create = src_create,
        .start = src_start,
        .preset = src_preset,
        .set_window = src_set_window,
        .complete_receive = src_complete_receive,
        .cancel = src_cancel,
        .close = src_close,
};
