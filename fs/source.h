/* SPDX-License-Identifier: MIT */
/*
 * Where an image's blocks come from: one multicast session receiving one
 * content. An interface with two implementations, so the file system can be
 * tested without a network:
 *
 *   source_wdsmc.c  libwdsmc's client session (include/wdsmc/client.h): the
 *                   default
 *   source_fake.c   blocks of a local file in shuffled order from a timer,
 *                   with knobs to stall and fail (-o fake_source=DIR, tests)
 *
 * The calls mirror wdsmc_client_*: every callback runs on the loop's thread;
 * _cancel() is safe inside a callback; _close() is not, and the loop must run
 * once more afterwards to release handles.
 */
#ifndef WDSFS_SOURCE_H
#define WDSFS_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct uv_loop_s uv_loop_t;

struct wdsfs_source;

struct wdsfs_source_callbacks {
    void *ctx;
    /* Initiation answered: content size, block size, session id. The only
     * place where wdsfs_source_preset() may be called. */
    void (*start)(void *ctx, uint64_t content_size, uint32_t block_size, uint32_t session_id);
    /* One block at byte `offset`; buf is borrowed for the call. The receiver
     * holds `len` bytes of cache until wdsfs_source_complete_receive(). */
    void (*receive)(void *ctx, const void *buf, size_t len, uint64_t offset);
    /* Exactly once: 0 when every block was received, or a negative error
     * (-ECANCELED after a cancel, -WDSMC_ENOCONTENT, -WDSMC_EKICK_FAIL,
     * -ETIMEDOUT...). */
    void (*complete)(void *ctx, int err);
};

/* Where and how to receive. Strings are borrowed for wdsfs_source_new(). */
struct wdsfs_source_config {
    const char *server;    /* address literal */
    uint16_t port;         /* 0: the default */
    const char *interface; /* local address for multicast; NULL: any */
    unsigned timeout_ms;   /* inactivity timeout; 0: the default */
    size_t cache_size;     /* bytes the receiver may hold uncompleted */
    /* Initiation over MS-WDSC RPC (wdsmc/client.h); borrowed. */
    int initiation; /* enum wdsmc_initiation */
    uint16_t rpc_port;
    const char *user, *domain, *password;
    bool anonymous;
    int auth; /* enum wdsmc_auth */
    /* Fake source only (tests): serve DIR/<content>. */
    const char *fake_dir;
    uint32_t fake_block; /* block size; 0: 8192 */
    unsigned fake_rate;  /* blocks per 5 ms tick; 0: 64 */
    uint64_t fake_seed;  /* shuffle seed */
};

struct wdsfs_source_ops {
    const char *name;
    int (*create)(uv_loop_t *loop, const struct wdsfs_source_config *cfg, const char *ns,
                  const char *content, const struct wdsfs_source_callbacks *cbs,
                  struct wdsfs_source **ret);
    int (*start)(struct wdsfs_source *s);
    int (*preset)(struct wdsfs_source *s, const uint8_t *bitmap, uint64_t nbits);
    void (*set_window)(struct wdsfs_source *s, uint64_t first, uint64_t count);
    void (*complete_receive)(struct wdsfs_source *s, size_t bytes);
    void (*cancel)(struct wdsfs_source *s);
    void (*close)(struct wdsfs_source *s);
};

/* Every implementation's object starts with this. */
struct wdsfs_source {
    const struct wdsfs_source_ops *ops;
};

extern const struct wdsfs_source_ops wdsfs_source_fake_ops;
/* NULL when this build has no libwdsmc client session. */
extern const struct wdsfs_source_ops *const wdsfs_source_wdsmc_ops;

/* Thin wrappers over s->ops. */
static inline int wdsfs_source_start(struct wdsfs_source *s)
{
    return s->ops->start(s);
}
static inline int wdsfs_source_preset(struct wdsfs_source *s, const uint8_t *bm, uint64_t n)
{
    return s->ops->preset(s, bm, n);
}
static inline void wdsfs_source_set_window(struct wdsfs_source *s, uint64_t first, uint64_t count)
{
    s->ops->set_window(s, first, count);
}
static inline void wdsfs_source_complete_receive(struct wdsfs_source *s, size_t bytes)
{
    s->ops->complete_receive(s, bytes);
}
static inline void wdsfs_source_cancel(struct wdsfs_source *s)
{
    s->ops->cancel(s);
}
static inline void wdsfs_source_close(struct wdsfs_source *s)
{
    if (s)
        s->ops->close(s);
}

#endif /* WDSFS_SOURCE_H */
