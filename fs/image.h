/* SPDX-License-Identifier: MIT */
/*
 * One image: a content of a namespace, its multicast sessions (one at a time,
 * shared by every reader), its store (the spool, or the stream window in
 * memory), and the reads parked until their blocks land.
 *
 * States:
 *   idle        probed (size known), no session
 *   starting    session created, initiation not answered yet
 *   receiving   joined; blocks arriving
 *   complete    every block in the spool (spool mode); a plain cached file
 *   failed      the session failed (KICK, terminate, timeout, network,
 *               disk); missing blocks read EIO until the control file is
 *               unlinked
 *   cancelled   the control file was unlinked; the next open or read of a
 *               missing block starts a new session, which resumes
 *
 * Every fuse_req_t handed to wdsfs_image_read() is answered exactly once:
 * at once, or when its blocks land, or with EINTR (interrupt), ECANCELED
 * (cancel, shutdown), EIO (session failure).
 */
#ifndef WDSFS_IMAGE_H
#define WDSFS_IMAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <fuse_lowlevel.h>

#include "wdsfs.h"

enum wdsfs_image_state {
    WDSFS_IMAGE_IDLE,
    WDSFS_IMAGE_STARTING,
    WDSFS_IMAGE_RECEIVING,
    WDSFS_IMAGE_COMPLETE,
    WDSFS_IMAGE_FAILED,
    WDSFS_IMAGE_CANCELLED,
};

/* An open file of an image (embedded in the FUSE file handle): its position
 * decides the stream window. */
struct wdsfs_reader {
    LIST_ENTRY(wdsfs_reader) link;
    uint64_t pos; /* byte offset the reader is at */
};

/* A snapshot for the status file, xattrs and the control files. Strings are
 * borrowed from the image. */
struct wdsfs_image_status {
    const char *path; /* NS/CONTENT */
    const char *ns;
    const char *content;
    const char *state; /* wdsfs_image_state_name() */
    const char *mode;  /* "spool" or "stream" */
    uint64_t received; /* bytes held (spool) or delivered (stream) */
    uint64_t total;    /* content size */
    unsigned percent;
    double rate;      /* bytes per second, recent */
    bool has_session; /* a session id is known */
    uint32_t session_id;
    const char *last_error;    /* NULL when none */
    uint64_t sessions;         /* sessions started (not counting the probe) */
    uint64_t session_received; /* bytes delivered by the current/last session */
    unsigned waiters;
    unsigned readers;
    const char *spool; /* data file, NULL in stream mode */
};

/* Create an image (not probed yet). ns and content are copied. Returns 0, or
 * -ENOMEM. */
int wdsfs_image_new(struct wdsfs *fs, const char *ns, const char *content,
                    struct wdsfs_image **ret);

/* Place the image at DIR/CONTENT under the mountpoint instead of
 * NS/CONTENT (catalog mounts: GROUP/FILE/INDEX). Before it is added to the
 * tree. 0 or -ENOMEM. */
int wdsfs_image_set_dir(struct wdsfs_image *img, const char *dir);

/* The directory the image's file is in: the one set, else the namespace. */
const char *wdsfs_image_dir(const struct wdsfs_image *img);

/* Free; the image must have no session and no waiters (after shutdown, or a
 * failed probe). Flushes the spool. NULL is fine. */
void wdsfs_image_free(struct wdsfs_image *img);

/*
 * MS-WDSMSI initiation only: learn content size, block size and session id,
 * then cancel before joining. `done` runs once, with 0 or a negative error
 * (-WDSMC_ENOCONTENT when the server has no such content).
 */
void wdsfs_image_probe(struct wdsfs_image *img, void (*done)(void *ctx, int err), void *ctx);

/*
 * Open the store: the spool in the cache directory (with its free-space
 * check), or the stream window. On failure a message naming the image is
 * written to `msg`. Returns 0, -ENOSPC (too little space), or a negative
 * errno.
 */
int wdsfs_image_open_store(struct wdsfs_image *img, char *msg, size_t msglen);

/* Start a session now (prefetch, open). No-op when one is running, the
 * image is complete or failed, or the daemon is stopping. Returns 0 or a
 * negative error. */
int wdsfs_image_ensure_session(struct wdsfs_image *img);

/* An open() of the image: registers the reader and starts the session.
 * Sets *ret_cached when the image is complete and may be cached by the
 * kernel (keep_cache, no direct_io). */
int wdsfs_image_open(struct wdsfs_image *img, struct wdsfs_reader *rd, bool *ret_cached);
void wdsfs_image_release(struct wdsfs_image *img, struct wdsfs_reader *rd);

/* Answer a read (now, or later once its blocks land). `flags` are the file's
 * open flags (O_NONBLOCK). */
void wdsfs_image_read(struct wdsfs_image *img, fuse_req_t req, struct wdsfs_reader *rd,
                      uint64_t off, size_t size, int flags);

/* Unlink of the control file: cancel the session (LEAVE(cancelled)), answer
 * parked reads with ECANCELED; a later open starts a new session. */
void wdsfs_image_cancel(struct wdsfs_image *img);

/* Daemon stopping: like cancel, but no new session will start. */
void wdsfs_image_shutdown(struct wdsfs_image *img);

/* Once a second: rate, periodic spool commits. */
void wdsfs_image_tick(struct wdsfs_image *img, double seconds);

void wdsfs_image_status(const struct wdsfs_image *img, struct wdsfs_image_status *ret);
const char *wdsfs_image_state_name(enum wdsfs_image_state s);

/* Daemon stopping, after the grace period: close every session still
 * running (probes included), without waiting for their completion. */
void wdsfs_sessions_close_all(struct wdsfs *fs);

/* Daemon stopping: cancel every probe still running (images' sessions are
 * cancelled by wdsfs_image_shutdown()). */
void wdsfs_sessions_cancel_all(struct wdsfs *fs);

/* Accessors. */
const char *wdsfs_image_path(const struct wdsfs_image *img);
const char *wdsfs_image_ns(const struct wdsfs_image *img);
const char *wdsfs_image_content(const struct wdsfs_image *img);
uint64_t wdsfs_image_size(const struct wdsfs_image *img);
bool wdsfs_image_complete(const struct wdsfs_image *img);

#endif /* WDSFS_IMAGE_H */
