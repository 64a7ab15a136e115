/* SPDX-License-Identifier: MIT */
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "errmap.h"
#include "log.h"
#include "spool.h"

#define EMPTY_SLOT    UINT64_MAX
#define MIN_SLOTS     4
#define PERSIST_TICKS 2 /* commit the spool every 2 s while it changes */

/* One source instance: a session, or a probe (initiation only). Outlives its
 * image's interest in it: once detached (img NULL) it only waits for its
 * completion and is then closed from a zero timer, outside its callbacks. */
struct wdsfs_session {
    LIST_ENTRY(wdsfs_session) link;
    struct wdsfs *fs;
    struct wdsfs_image *img; /* NULL once detached */
    struct wdsfs_source *src;
    uv_timer_t close_timer;
    bool probe;
    bool started;
    bool completed;
    bool close_scheduled;
    void (*probe_done)(void *ctx, int err);
    void *probe_ctx;
};

/* A parked read. */
struct waiter {
    TAILQ_ENTRY(waiter) link;
    struct wdsfs_image *img;
    fuse_req_t req;
    uint64_t off;
    size_t size;
    uint64_t first, last;  /* blocks it covers */
    uint64_t next_missing; /* spool mode: the first block still missing */
};

TAILQ_HEAD(waiter_list, waiter);
LIST_HEAD(reader_list, wdsfs_reader);

struct wdsfs_image {
    struct wdsfs *fs;
    char *ns;
    char *dir; /* directory under the mountpoint; NULL: ns */
    char *content;
    char *path;
    bool probed;
    uint64_t size;
    uint32_t block_size;
    uint64_t nblocks;
    enum wdsfs_image_state state;
    char last_error[256]; /* empty: none */
    bool has_session_id;
    uint32_t session_id;
    struct wdsfs_session *sess; /* the current session, NULL when none */
    uint64_t sessions_started;
    uint64_t session_received;

    /* Spool mode. */
    struct wdsfs_spool *spool;
    unsigned persist_ticks;
    bool persist_in_flight;
    uv_work_t persist_work;
    struct wdsfs_spool_snapshot *snap;
    int persist_result;

    /* Stream mode: a ring of nslots blocks covering [ring_first, ring_first +
     * nslots); block b lives in slot b % nslots. */
    bool stream;
    uint8_t *ring;
    uint64_t *tags; /* block in each slot, or EMPTY_SLOT */
    uint8_t *held;  /* slot counted against the current session's cache */
    uint64_t nslots;
    uint64_t ring_first;
    uint8_t *sdone; /* blocks the current session delivered or was preset */
    uint64_t streamed;

    struct waiter_list waiters;
    unsigned nwaiters;
    struct reader_list readers;
    unsigned nreaders;

    uint64_t rx_total;
    uint64_t rx_last;
    double rate;
};

static void stream_service(struct wdsfs_image *img);

const char *wdsfs_image_state_name(enum wdsfs_image_state s)
{
    switch (s) {
    case WDSFS_IMAGE_IDLE:
        return "idle";
    case WDSFS_IMAGE_STARTING:
        return "starting";
    case WDSFS_IMAGE_RECEIVING:
        return "receiving";
    case WDSFS_IMAGE_COMPLETE:
        return "complete";
    case WDSFS_IMAGE_FAILED:
        return "failed";
    case WDSFS_IMAGE_CANCELLED:
        return "cancelled";
    }
    return "?";
}

/* ---- sessions ---------------------------------------------------------- */

static void on_session_freed(uv_handle_t *h)
{
    struct wdsfs_session *s = h->data;
    s->fs->live_sessions--;
    free(s);
}

static void on_close_timer(uv_timer_t *t)
{
    struct wdsfs_session *s = t->data;
    LIST_REMOVE(s, link);
    wdsfs_source_close(s->src);
    s->src = NULL;
    uv_close((uv_handle_t *)&s->close_timer, on_session_freed);
}

static void schedule_close(struct wdsfs_session *s)
{
    if (s->close_scheduled)
        return;
    s->close_scheduled = true;
    uv_timer_start(&s->close_timer, on_close_timer, 0, 0);
}

/* The image stops caring about its session; a running one is cancelled
 * (LEAVE(cancelled)) and closed once it completes. */
static void detach_session(struct wdsfs_image *img)
{
    struct wdsfs_session *s = img->sess;
    if (!s)
        return;
    img->sess = NULL;
    s->img = NULL;
    if (!s->completed)
        wdsfs_source_cancel(s->src);
}

void wdsfs_sessions_cancel_all(struct wdsfs *fs)
{
    struct wdsfs_session *s;
    LIST_FOREACH(s, &fs->sessions, link)
    {
        if (!s->completed && !s->close_scheduled)
            wdsfs_source_cancel(s->src);
    }
}

void wdsfs_sessions_close_all(struct wdsfs *fs)
{
    struct wdsfs_session *s;
    LIST_FOREACH(s, &fs->sessions, link)
    {
        if (s->img && s->img->sess == s)
            s->img->sess = NULL;
        s->img = NULL;
        schedule_close(s);
    }
}

/* ---- waiters ------------------------------------------------------------ */

static void waiter_remove(struct waiter *w)
{
    TAILQ_REMOVE(&w->img->waiters, w, link);
    w->img->nwaiters--;
}

static void on_interrupt(fuse_req_t req, void *data)
{
    struct waiter *w = data;
    waiter_remove(w);
    free(w);
    wdsfs_reply_err(req, -EINTR);
}

static void reply_spool(struct wdsfs_image *img, fuse_req_t req, uint64_t off, size_t size)
{
    struct fuse_bufvec bv = FUSE_BUFVEC_INIT(size);
    bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
    bv.buf[0].fd = wdsfs_spool_fd(img->spool);
    bv.buf[0].pos = (off_t)off;
    int r = fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
    if (r < 0 && r != -ENOENT)
        wdsfs_log(LOG_DEBUG, "%s: reply failed: %s", img->path, strerror(-r));
}

/* A read the session will not complete. For EIO (the session failed) in
 * spool mode, a read that starts with received blocks gets them as a short
 * read, and its next read, at the first missing byte, gets the EIO: cat and
 * cp keep everything that arrived, whatever size they read in. Other errors,
 * and -o stream, answer the error. */
static void reply_unfinished(struct wdsfs_image *img, fuse_req_t req, uint64_t off, size_t size,
                             int err)
{
    if (err == -EIO && !img->stream && img->spool && size > 0) {
        uint64_t bs = img->block_size;
        uint64_t miss = wdsfs_spool_first_missing(img->spool, off / bs, (off + size - 1) / bs);
        uint64_t have = miss == UINT64_MAX ? size : miss * bs > off ? miss * bs - off : 0;
        if (have > 0) {
            reply_spool(img, req, off, (size_t)have);
            return;
        }
    }
    wdsfs_reply_err(req, err);
}

static void fail_waiters(struct wdsfs_image *img, int err)
{
    struct waiter *w;
    while ((w = TAILQ_FIRST(&img->waiters))) {
        waiter_remove(w);
        fuse_req_t req = w->req;
        uint64_t off = w->off;
        size_t size = w->size;
        free(w);
        reply_unfinished(img, req, off, size, err);
    }
}

static bool ring_has(const struct wdsfs_image *img, uint64_t b)
{
    return b >= img->ring_first && b - img->ring_first < img->nslots &&
           img->tags[b % img->nslots] == b;
}

static uint64_t block_len(const struct wdsfs_image *img, uint64_t b)
{
    uint64_t off = b * img->block_size;
    return img->size - off < img->block_size ? img->size - off : img->block_size;
}

static bool stream_has_range(const struct wdsfs_image *img, uint64_t first, uint64_t last)
{
    for (uint64_t b = first; b <= last; b++)
        if (!ring_has(img, b))
            return false;
    return true;
}

#define MAX_IOV 256

/* Reply straight from the ring (no copy) when the read spans few enough
 * blocks for one writev, else from a copy. */
static void reply_stream(struct wdsfs_image *img, fuse_req_t req, uint64_t off, size_t size)
{
    struct iovec iov[MAX_IOV];
    int n = 0;
    for (size_t done = 0; done < size && n < MAX_IOV; n++) {
        uint64_t b = (off + done) / img->block_size;
        uint64_t in = (off + done) % img->block_size;
        size_t len = (size_t)(block_len(img, b) - in);
        if (len > size - done)
            len = size - done;
        iov[n].iov_base = img->ring + (b % img->nslots) * img->block_size + in;
        iov[n].iov_len = len;
        done += len;
        if (done == size) {
            fuse_reply_iov(req, iov, n + 1);
            return;
        }
    }
    char *buf = malloc(size);
    if (!buf) {
        wdsfs_reply_err(req, -ENOMEM);
        return;
    }
    for (size_t done = 0; done < size;) {
        uint64_t b = (off + done) / img->block_size;
        uint64_t in = (off + done) % img->block_size;
        size_t len = (size_t)(block_len(img, b) - in);
        if (len > size - done)
            len = size - done;
        memcpy(buf + done, img->ring + (b % img->nslots) * img->block_size + in, len);
        done += len;
    }
    fuse_reply_buf(req, buf, size);
    free(buf);
}

/* Answer the parked reads that `block` (just stored) completes. */
static void wake_waiters(struct wdsfs_image *img, uint64_t block)
{
    struct waiter *w, *next;
    for (w = TAILQ_FIRST(&img->waiters); w; w = next) {
        next = TAILQ_NEXT(w, link);
        if (block < w->first || block > w->last)
            continue;
        bool ready;
        if (img->stream) {
            ready = stream_has_range(img, w->first, w->last);
        } else {
            if (w->next_missing != block)
                continue;
            w->next_missing = wdsfs_spool_first_missing(img->spool, block, w->last);
            ready = w->next_missing == UINT64_MAX;
        }
        if (!ready)
            continue;
        waiter_remove(w);
        if (img->stream)
            reply_stream(img, w->req, w->off, w->size);
        else
            reply_spool(img, w->req, w->off, w->size);
        free(w);
    }
}

/* ---- failure ------------------------------------------------------------ */

static void set_error(struct wdsfs_image *img, int err, const char *fmt, va_list ap)
{
    char what[160];
    vsnprintf(what, sizeof(what), fmt, ap);
    snprintf(img->last_error, sizeof(img->last_error), "%s: %s", what, wdsfs_strerror(err));
}

/* The session failed: parked reads get EIO, later reads of missing blocks
 * too; blocks already received stay readable. */
static void __attribute__((format(printf, 3, 4)))
image_fail(struct wdsfs_image *img, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_error(img, err, fmt, ap);
    va_end(ap);
    wdsfs_log(LOG_ERR, "%s: %s", img->path, img->last_error);
    img->state = WDSFS_IMAGE_FAILED;
    detach_session(img);
    fail_waiters(img, -EIO);
}

/* ---- spool persistence --------------------------------------------------- */

static void persist_work(uv_work_t *w)
{
    struct wdsfs_image *img = w->data;
    img->persist_result = wdsfs_spool_commit(img->snap);
}

static void persist_after(uv_work_t *w, int status)
{
    struct wdsfs_image *img = w->data;
    wdsfs_spool_snapshot_free(img->snap);
    img->snap = NULL;
    img->persist_in_flight = false;
    img->fs->persists_in_flight--;
    if (status < 0 || img->persist_result < 0) {
        wdsfs_spool_mark_dirty(img->spool);
        wdsfs_log(LOG_WARNING, "%s: cannot save the spool bitmap: %s", img->path,
                  strerror(img->persist_result < 0 ? -img->persist_result : -status));
    }
}

/* Commit the spool on the thread pool: fdatasync of the data, then the
 * bitmap (spool.h); the loop keeps serving meanwhile. */
static void persist(struct wdsfs_image *img)
{
    if (!img->spool || img->persist_in_flight || !wdsfs_spool_dirty(img->spool))
        return;
    if (wdsfs_spool_snapshot(img->spool, &img->snap) < 0)
        return;
    img->persist_work.data = img;
    if (uv_queue_work(img->fs->loop, &img->persist_work, persist_work, persist_after) < 0) {
        wdsfs_spool_snapshot_free(img->snap);
        img->snap = NULL;
        wdsfs_spool_mark_dirty(img->spool);
        return;
    }
    img->persist_in_flight = true;
    img->persist_ticks = 0;
    img->fs->persists_in_flight++;
}

/* ---- source callbacks ------------------------------------------------------ */

static void recompute_waiters(struct wdsfs_image *img)
{
    struct waiter *w;
    TAILQ_FOREACH(w, &img->waiters, link)
    {
        w->first = w->off / img->block_size;
        w->last = (w->off + w->size - 1) / img->block_size;
        w->next_missing = w->first;
    }
}

static void spool_on_start(struct wdsfs_image *img, struct wdsfs_session *s, uint32_t bs)
{
    if (bs != wdsfs_spool_block_size(img->spool)) {
        wdsfs_log(LOG_WARNING, "%s: block size changed from %u to %u: receiving afresh", img->path,
                  wdsfs_spool_block_size(img->spool), bs);
        int r = wdsfs_spool_reset(img->spool, bs);
        if (r < 0) {
            image_fail(img, r, "cannot reset the spool");
            return;
        }
        img->block_size = bs;
        img->nblocks = wdsfs_spool_nblocks(img->spool);
        recompute_waiters(img);
    }
    if (wdsfs_spool_present(img->spool) > 0) {
        int r = wdsfs_source_preset(s->src, wdsfs_spool_bits(img->spool), img->nblocks);
        if (r < 0)
            wdsfs_log(LOG_WARNING, "%s: cannot resume (%s): receiving everything again", img->path,
                      wdsfs_strerror(r));
        else
            wdsfs_log(LOG_INFO, "%s: resuming: %" PRIu64 " of %" PRIu64 " blocks held", img->path,
                      wdsfs_spool_present(img->spool), img->nblocks);
    }
}

static void stream_on_start(struct wdsfs_image *img, struct wdsfs_session *s, uint32_t bs)
{
    if (bs != img->block_size) {
        image_fail(img, -EPROTO, "block size changed from %u to %u; remount", img->block_size, bs);
        return;
    }
    /* Everything below the window is not needed now and what the ring holds
     * is not needed again: tell the new session, so it sends only the rest. */
    memset(img->sdone, 0, (size_t)(img->nblocks / 8 + 1));
    bool any = false;
    for (uint64_t b = 0; b < img->ring_first && b < img->nblocks; b++) {
        img->sdone[b / 8] |= (uint8_t)(1u << (b % 8));
        any = true;
    }
    for (uint64_t i = 0; i < img->nslots; i++) {
        img->held[i] = 0;
        if (img->tags[i] != EMPTY_SLOT) {
            img->sdone[img->tags[i] / 8] |= (uint8_t)(1u << (img->tags[i] % 8));
            any = true;
        }
    }
    if (any && wdsfs_source_preset(s->src, img->sdone, img->nblocks) < 0)
        memset(img->sdone, 0, (size_t)(img->nblocks / 8 + 1));
    wdsfs_source_set_window(s->src, img->ring_first, img->nslots);
}

static void on_start(void *ctx, uint64_t content_size, uint32_t block_size, uint32_t session_id)
{
    struct wdsfs_session *s = ctx;
    struct wdsfs_image *img = s->img;
    s->started = true;
    if (!img) {
        wdsfs_source_cancel(s->src);
        return;
    }
    if (s->probe) {
        img->size = content_size;
        img->block_size = block_size;
        img->nblocks = block_size ? (content_size + block_size - 1) / block_size : 0;
        img->session_id = session_id;
        img->has_session_id = true;
        wdsfs_source_cancel(s->src); /* before JOIN: nothing is sent */
        return;
    }
    img->session_id = session_id;
    img->has_session_id = true;
    if (block_size == 0) {
        image_fail(img, -EPROTO, "server gave block size 0");
        return;
    }
    if (content_size != img->size) {
        image_fail(img, -ESTALE, "content size changed from %" PRIu64 " to %" PRIu64 "; remount",
                   img->size, content_size);
        return;
    }
    if (img->stream)
        stream_on_start(img, s, block_size);
    else
        spool_on_start(img, s, block_size);
    if (img->state == WDSFS_IMAGE_STARTING)
        img->state = WDSFS_IMAGE_RECEIVING;
    wdsfs_log(LOG_INFO, "%s: session %u joined", img->path, session_id);
}

static void spool_receive(struct wdsfs_image *img, const void *buf, size_t len, uint64_t off)
{
    int r = wdsfs_spool_write(img->spool, buf, len, off);
    if (r == -EINVAL) {
        wdsfs_log(LOG_WARNING, "%s: ignoring a malformed block at %" PRIu64, img->path, off);
        return;
    }
    if (r < 0) {
        image_fail(img, r, "cannot write the spool %s", wdsfs_spool_data_path(img->spool));
        return;
    }
    if (r == 0)
        return;
    wake_waiters(img, off / img->block_size);
    if (wdsfs_spool_complete(img->spool)) {
        img->state = WDSFS_IMAGE_COMPLETE;
        wdsfs_log(LOG_INFO, "%s: complete", img->path);
        persist(img);
    }
}

static void free_slot(struct wdsfs_image *img, uint64_t b)
{
    uint64_t i = b % img->nslots;
    if (img->tags[i] != b)
        return;
    img->tags[i] = EMPTY_SLOT;
    if (img->held[i] && img->sess)
        wdsfs_source_complete_receive(img->sess->src, (size_t)block_len(img, b));
    img->held[i] = 0;
}

static void stream_receive(struct wdsfs_image *img, struct wdsfs_session *s, const void *buf,
                           size_t len, uint64_t off)
{
    uint64_t b = off / img->block_size;
    if (off % img->block_size || b >= img->nblocks || len != block_len(img, b)) {
        wdsfs_source_complete_receive(s->src, len);
        return;
    }
    img->sdone[b / 8] |= (uint8_t)(1u << (b % 8));
    if (b < img->ring_first || b - img->ring_first >= img->nslots || ring_has(img, b)) {
        wdsfs_source_complete_receive(s->src, len);
        return;
    }
    uint64_t i = b % img->nslots;
    if (img->tags[i] != EMPTY_SLOT)
        free_slot(img, img->tags[i]);
    memcpy(img->ring + i * img->block_size, buf, len);
    img->tags[i] = b;
    /* Held until the readers pass it: the transport's flow control then
     * bounds memory to the window however slow they are. */
    img->held[i] = 1;
    img->streamed += len;
    wake_waiters(img, b);
}

static void on_receive(void *ctx, const void *buf, size_t len, uint64_t offset)
{
    struct wdsfs_session *s = ctx;
    struct wdsfs_image *img = s->img;
    if (!img || s->probe) {
        wdsfs_source_complete_receive(s->src, len);
        return;
    }
    img->rx_total += len;
    img->session_received += len;
    if (img->stream) {
        stream_receive(img, s, buf, len, offset);
    } else {
        spool_receive(img, buf, len, offset);
        wdsfs_source_complete_receive(s->src, len);
    }
}

static void on_complete(void *ctx, int err)
{
    struct wdsfs_session *s = ctx;
    s->completed = true;
    schedule_close(s);
    if (s->probe) {
        if (s->probe_done)
            s->probe_done(s->probe_ctx, s->started && s->img ? 0 : (err ? err : -EIO));
        return;
    }
    struct wdsfs_image *img = s->img;
    if (!img)
        return;
    img->sess = NULL;
    s->img = NULL;
    if (err == 0) {
        if (img->stream) {
            img->state = WDSFS_IMAGE_IDLE;
            wdsfs_log(LOG_INFO, "%s: session %u complete", img->path, img->session_id);
            stream_service(img);
        } else if (wdsfs_spool_complete(img->spool)) {
            img->state = WDSFS_IMAGE_COMPLETE;
            persist(img);
        } else {
            image_fail(img, -EIO, "session ended with blocks missing");
        }
        return;
    }
    image_fail(img, err, "session %u failed", img->session_id);
}

/* ---- lifecycle -------------------------------------------------------------- */

static int session_new(struct wdsfs_image *img, bool probe, struct wdsfs_session **ret)
{
    struct wdsfs *fs = img->fs;
    struct wdsfs_session *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->fs = fs;
    s->img = img;
    s->probe = probe;
    struct wdsfs_source_callbacks cbs = {
            .ctx = s,
            .start = on_start,
            .receive = on_receive,
            .complete = on_complete,
    };
    struct wdsfs_source_config cfg = fs->source_cfg;
    /* The window's slots plus room for the block the lowest reader waits
     * for: with every other slot full, the transport must still hand that
     * one up (it refuses payloads that do not fit the cache, MS-WDSMT
     * 3.2.5.13), or the window never moves again. */
    if (img->stream && !probe)
        cfg.cache_size = (size_t)((img->nslots + 1) * img->block_size);
    int r = fs->source_ops->create(fs->loop, &cfg, img->ns, img->content, &cbs, &s->src);
    if (r < 0) {
        free(s);
        return r;
    }
    uv_timer_init(fs->loop, &s->close_timer);
    s->close_timer.data = s;
    LIST_INSERT_HEAD(&fs->sessions, s, link);
    fs->live_sessions++;
    *ret = s;
    r = wdsfs_source_start(s->src);
    if (r < 0) {
        s->completed = true;
        s->img = NULL;
        schedule_close(s);
        return r;
    }
    return 0;
}

int wdsfs_image_set_dir(struct wdsfs_image *img, const char *dir)
{
    char *d = strdup(dir), *path = NULL;
    if (!d || asprintf(&path, "%s/%s", dir, img->content) < 0) {
        free(d);
        return -ENOMEM;
    }
    free(img->dir);
    free(img->path);
    img->dir = d;
    img->path = path;
    return 0;
}

const char *wdsfs_image_dir(const struct wdsfs_image *img)
{
    return img->dir ? img->dir : img->ns;
}

int wdsfs_image_new(struct wdsfs *fs, const char *ns, const char *content, struct wdsfs_image **ret)
{
    struct wdsfs_image *img = calloc(1, sizeof(*img));
    if (!img)
        return -ENOMEM;
    img->fs = fs;
    img->ns = strdup(ns);
    img->content = strdup(content);
    if (!img->ns || !img->content || asprintf(&img->path, "%s/%s", ns, content) < 0) {
        free(img->ns);
        free(img->content);
        free(img);
        return -ENOMEM;
    }
    img->stream = fs->opts->stream;
    img->state = WDSFS_IMAGE_IDLE;
    TAILQ_INIT(&img->waiters);
    LIST_INIT(&img->readers);
    *ret = img;
    return 0;
}

void wdsfs_image_free(struct wdsfs_image *img)
{
    if (!img)
        return;
    detach_session(img);
    fail_waiters(img, -ECANCELED);
    if (img->spool) {
        int r = wdsfs_spool_close(img->spool);
        if (r < 0)
            wdsfs_log(LOG_WARNING, "%s: cannot save the spool bitmap: %s", img->path, strerror(-r));
    }
    free(img->ring);
    free(img->tags);
    free(img->held);
    free(img->sdone);
    free(img->ns);
    free(img->dir);
    free(img->content);
    free(img->path);
    free(img);
}

void wdsfs_image_probe(struct wdsfs_image *img, void (*done)(void *ctx, int err), void *ctx)
{
    struct wdsfs_session *s;
    int r = session_new(img, true, &s);
    if (r < 0) {
        done(ctx, r);
        return;
    }
    s->probe_done = done;
    s->probe_ctx = ctx;
}

static int stream_setup(struct wdsfs_image *img)
{
    uint64_t n = img->fs->opts->window / img->block_size;
    if (n < MIN_SLOTS)
        n = MIN_SLOTS;
    if (n > img->nblocks && img->nblocks >= MIN_SLOTS)
        n = img->nblocks;
    img->nslots = n;
    img->ring = malloc((size_t)(n * img->block_size));
    img->tags = malloc((size_t)n * sizeof(*img->tags));
    img->held = calloc((size_t)n, 1);
    img->sdone = calloc((size_t)(img->nblocks / 8 + 1), 1);
    if (!img->ring || !img->tags || !img->held || !img->sdone)
        return -ENOMEM;
    for (uint64_t i = 0; i < n; i++)
        img->tags[i] = EMPTY_SLOT;
    return 0;
}

int wdsfs_image_open_store(struct wdsfs_image *img, char *msg, size_t msglen)
{
    const struct wdsfs_options *o = img->fs->opts;
    if (img->block_size == 0) {
        snprintf(msg, msglen, "%s: server gave block size 0", img->path);
        return -EPROTO;
    }
    if (img->stream) {
        int r = stream_setup(img);
        if (r < 0)
            snprintf(msg, msglen, "%s: %s", img->path, strerror(-r));
        return r;
    }
    char key[WDSFS_SPOOL_KEY_MAX + 1];
    if ((size_t)snprintf(key, sizeof(key), "%s\n%s\n%s\n%" PRIu64, img->fs->server_label, img->ns,
                         img->content, img->size) >= sizeof(key)) {
        snprintf(msg, msglen, "%s: names too long", img->path);
        return -ENAMETOOLONG;
    }
    struct wdsfs_spool_info info;
    uint64_t need = 0, avail = 0;
    int r = wdsfs_spool_open(o->cache_dir, key, img->size, img->block_size, &img->spool, &info,
                             &need, &avail);
    if (r == -ENOSPC) {
        snprintf(msg, msglen,
                 "%s: not enough free space in %s for the spool (%" PRIu64 " MiB needed, %" PRIu64
                 " MiB available); free some, choose another place with -o cache=DIR, or "
                 "mount with -o stream to receive without a spool",
                 img->path, o->cache_dir, (need + (1 << 20) - 1) >> 20, avail >> 20);
        return r;
    }
    if (r < 0) {
        snprintf(msg, msglen, "%s: cannot open the spool in %s: %s", img->path, o->cache_dir,
                 strerror(-r));
        return r;
    }
    if (info.rejected)
        wdsfs_log(LOG_WARNING, "%s: the spool bitmap %s was damaged; receiving afresh", img->path,
                  wdsfs_spool_bitmap_path(img->spool));
    if (wdsfs_spool_complete(img->spool))
        img->state = WDSFS_IMAGE_COMPLETE;
    return 0;
}

int wdsfs_image_ensure_session(struct wdsfs_image *img)
{
    if (img->sess)
        return 0;
    if (img->fs->shutting_down)
        return -ECANCELED;
    if (img->state == WDSFS_IMAGE_FAILED)
        return -EIO;
    if (!img->stream && wdsfs_spool_complete(img->spool))
        return 0;
    struct wdsfs_session *s;
    int r = session_new(img, false, &s);
    if (r < 0) {
        image_fail(img, r, "cannot start a session");
        return -EIO;
    }
    img->sess = s;
    img->state = WDSFS_IMAGE_STARTING;
    img->sessions_started++;
    img->session_received = 0;
    if (img->stream) {
        /* What the ring holds was counted against the old session. */
        memset(img->sdone, 0, (size_t)(img->nblocks / 8 + 1));
        memset(img->held, 0, (size_t)img->nslots);
    }
    return 0;
}

/* ---- stream window ----------------------------------------------------------- */

/* The window starts at the lowest position among readers that have read. */
static void stream_update_window(struct wdsfs_image *img)
{
    uint64_t first = UINT64_MAX;
    struct wdsfs_reader *rd;
    LIST_FOREACH(rd, &img->readers, link)
    {
        if (rd->pos != UINT64_MAX && rd->pos / img->block_size < first)
            first = rd->pos / img->block_size;
    }
    if (first == UINT64_MAX || first == img->ring_first)
        return;
    uint64_t old = img->ring_first, n = img->nslots;
    if (first > old) {
        uint64_t end = first - old < n ? first : old + n;
        for (uint64_t b = old; b < end; b++)
            free_slot(img, b);
    } else {
        uint64_t from = old - first < n ? first + n : old;
        for (uint64_t b = from; b < old + n; b++)
            free_slot(img, b);
    }
    img->ring_first = first;
    if (img->sess)
        wdsfs_source_set_window(img->sess->src, first, n);
}

/* Make sure some session will deliver what the parked readers wait for: start
 * one if there is none, or restart when a block they need was already
 * delivered by this session (a reader went back): the transport never sends
 * a block twice in one session. */
static void stream_service(struct wdsfs_image *img)
{
    bool need = false, restart = false;
    struct waiter *w;
    TAILQ_FOREACH(w, &img->waiters, link)
    {
        for (uint64_t b = w->first; b <= w->last; b++) {
            if (ring_has(img, b) || b < img->ring_first || b - img->ring_first >= img->nslots)
                continue;
            need = true;
            if (img->sess && (img->sdone[b / 8] >> (b % 8)) & 1u)
                restart = true;
        }
    }
    if (!need)
        return;
    if (restart) {
        wdsfs_log(LOG_INFO, "%s: reader went back: new session for the window", img->path);
        detach_session(img);
    }
    if (img->state == WDSFS_IMAGE_FAILED)
        return;
    if (wdsfs_image_ensure_session(img) < 0)
        fail_waiters(img, img->fs->shutting_down ? -ECANCELED : -EIO);
}

/* ---- reads --------------------------------------------------------------------- */

int wdsfs_image_open(struct wdsfs_image *img, struct wdsfs_reader *rd, bool *ret_cached)
{
    rd->pos = UINT64_MAX; /* no position until the first read */
    LIST_INSERT_HEAD(&img->readers, rd, link);
    img->nreaders++;
    bool cached = !img->stream && wdsfs_spool_complete(img->spool);
    *ret_cached = cached;
    if (!cached && img->state != WDSFS_IMAGE_FAILED && !img->fs->shutting_down)
        (void)wdsfs_image_ensure_session(img);
    return 0;
}

void wdsfs_image_release(struct wdsfs_image *img, struct wdsfs_reader *rd)
{
    LIST_REMOVE(rd, link);
    img->nreaders--;
    if (img->stream)
        stream_update_window(img);
}

void wdsfs_image_read(struct wdsfs_image *img, fuse_req_t req, struct wdsfs_reader *rd,
                      uint64_t off, size_t size, int flags)
{
    if (off >= img->size || size == 0) {
        fuse_reply_buf(req, NULL, 0);
        return;
    }
    if (size > img->size - off)
        size = (size_t)(img->size - off);
    uint64_t first = off / img->block_size, last = (off + size - 1) / img->block_size;
    uint64_t missing = UINT64_MAX;
    if (img->stream) {
        rd->pos = off;
        stream_update_window(img);
        if (stream_has_range(img, first, last)) {
            reply_stream(img, req, off, size);
            rd->pos = off + size;
            stream_update_window(img);
            return;
        }
    } else {
        missing = wdsfs_spool_first_missing(img->spool, first, last);
        if (missing == UINT64_MAX) {
            reply_spool(img, req, off, size);
            return;
        }
    }
    int err = 0;
    if (img->fs->shutting_down)
        err = -ECANCELED;
    else if (img->state == WDSFS_IMAGE_FAILED)
        err = -EIO;
    else if (flags & O_NONBLOCK)
        err = -EAGAIN;
    else if (img->nwaiters >= WDSFS_MAX_WAITERS)
        err = -EBUSY;
    else if (!img->stream)
        err = wdsfs_image_ensure_session(img);
    if (err < 0) {
        reply_unfinished(img, req, off, size, err);
        return;
    }
    struct waiter *w = calloc(1, sizeof(*w));
    if (!w) {
        wdsfs_reply_err(req, -ENOMEM);
        return;
    }
    w->img = img;
    w->req = req;
    w->off = off;
    w->size = size;
    w->first = first;
    w->last = last;
    w->next_missing = missing;
    TAILQ_INSERT_TAIL(&img->waiters, w, link);
    img->nwaiters++;
    if (img->stream)
        stream_service(img); /* may answer it (EIO) */
    /* Registering may run on_interrupt at once if the interrupt came first;
     * `w` must not be used afterwards. */
    bool parked = false;
    struct waiter *it;
    TAILQ_FOREACH(it, &img->waiters, link)
    {
        if (it == w)
            parked = true;
    }
    if (parked)
        fuse_req_interrupt_func(req, on_interrupt, w);
}

void wdsfs_image_cancel(struct wdsfs_image *img)
{
    wdsfs_log(LOG_INFO, "%s: session cancelled (control file unlinked)", img->path);
    detach_session(img);
    fail_waiters(img, -ECANCELED);
    img->last_error[0] = '\0';
    if (!img->stream && wdsfs_spool_complete(img->spool))
        img->state = WDSFS_IMAGE_COMPLETE;
    else
        img->state = WDSFS_IMAGE_CANCELLED;
    persist(img);
}

void wdsfs_image_shutdown(struct wdsfs_image *img)
{
    detach_session(img);
    fail_waiters(img, -ECANCELED);
    if (img->state == WDSFS_IMAGE_STARTING || img->state == WDSFS_IMAGE_RECEIVING)
        img->state = WDSFS_IMAGE_CANCELLED;
    persist(img);
}

void wdsfs_image_tick(struct wdsfs_image *img, double seconds)
{
    if (seconds > 0) {
        double now = (double)(img->rx_total - img->rx_last) / seconds;
        img->rate = img->rate * 0.5 + now * 0.5;
        if (img->rate < 1)
            img->rate = 0;
    }
    img->rx_last = img->rx_total;
    if (img->spool && wdsfs_spool_dirty(img->spool) && ++img->persist_ticks >= PERSIST_TICKS)
        persist(img);
}

void wdsfs_image_status(const struct wdsfs_image *img, struct wdsfs_image_status *st)
{
    memset(st, 0, sizeof(*st));
    st->path = img->path;
    st->ns = img->ns;
    st->content = img->content;
    st->state = wdsfs_image_state_name(img->state);
    st->mode = img->stream ? "stream" : "spool";
    st->total = img->size;
    if (img->spool)
        st->received = wdsfs_spool_bytes(img->spool);
    else
        st->received = img->streamed < img->size ? img->streamed : img->size;
    st->percent = img->size ? (unsigned)(st->received * 100 / img->size) : 100;
    st->rate = img->rate;
    st->has_session = img->has_session_id;
    st->session_id = img->session_id;
    st->last_error = img->last_error[0] ? img->last_error : NULL;
    st->sessions = img->sessions_started;
    st->session_received = img->session_received;
    st->waiters = img->nwaiters;
    st->readers = img->nreaders;
    st->spool = img->spool ? wdsfs_spool_data_path(img->spool) : NULL;
}

const char *wdsfs_image_path(const struct wdsfs_image *img)
{
    return img->path;
}

const char *wdsfs_image_ns(const struct wdsfs_image *img)
{
    return img->ns;
}

const char *wdsfs_image_content(const struct wdsfs_image *img)
{
    return img->content;
}

uint64_t wdsfs_image_size(const struct wdsfs_image *img)
{
    return img->size;
}

bool wdsfs_image_complete(const struct wdsfs_image *img)
{
    return !img->stream && img->spool && wdsfs_spool_complete(img->spool);
}
