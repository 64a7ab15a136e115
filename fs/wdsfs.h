/* SPDX-License-Identifier: MIT */
/*
 * The wdsfs daemon's shared context: one per process, owned by main.c, used
 * only on the loop's thread (the FUSE fd is polled by the same libuv loop, so
 * nothing here needs a lock).
 */
#ifndef WDSFS_H
#define WDSFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <uv.h>

#include "options.h"
#include "source.h"

/* Limits on everything a user or a peer can grow. */
#define WDSFS_MAX_IMAGES   256  /* images per mount */
#define WDSFS_MAX_NODES    8192 /* inodes: directories, images, control files */
#define WDSFS_MAX_WAITERS  1024 /* parked reads per image */
#define WDSFS_MAX_NAME     255  /* one path component */
#define WDSFS_MAX_PATH     1024 /* namespace or image path */
#define WDSFS_MAX_ADD      4096 /* bytes in one write to .wdsfs/add */
#define WDSFS_MAX_CHILDREN 4096 /* entries per directory */

struct fuse_session;
struct wdsfs_image;
struct wdsfs_session;
struct wdsfs_tree;

struct wdsfs_fh;

LIST_HEAD(wdsfs_session_list, wdsfs_session);
LIST_HEAD(wdsfs_fh_list, wdsfs_fh);

struct wdsfs {
    uv_loop_t *loop;
    const struct wdsfs_options *opts;
    const struct wdsfs_source_ops *source_ops;
    struct wdsfs_source_config source_cfg;
    char server_label[300];  /* "ADDR:PORT", in status and spool keys */
    struct fuse_session *se; /* NULL until mounted */
    struct wdsfs_tree *tree;
    struct wdsfs_image *images[WDSFS_MAX_IMAGES];
    size_t nimages;
    struct wdsfs_session_list sessions; /* every live source, probes too */
    unsigned live_sessions;             /* sessions not yet freed */
    struct wdsfs_fh_list fhs;           /* open files (ops.c) */
    unsigned persists_in_flight;
    bool shutting_down;
    uid_t owner; /* who may write .wdsfs/add and cancel sessions (and root) */
};

#endif /* WDSFS_H */
