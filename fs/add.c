/* SPDX-License-Identifier: MIT */
#include "add.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmap.h"
#include "image.h"
#include "log.h"
#include "tree.h"
#include "wdsmc/error.h"

struct batch;

struct probe {
    struct batch *b;
    size_t i;
};

struct batch {
    struct wdsfs *fs;
    struct wdsfs_image **imgs;
    struct probe *probes;
    size_t n;
    size_t pending;
    int err;
    char msg[768];
    wdsfs_add_cb cb;
    void *ctx;
};

static void batch_free(struct batch *b)
{
    free(b->imgs);
    free(b->probes);
    free(b);
}

static void finish(struct batch *b)
{
    struct wdsfs *fs = b->fs;
    if (!b->err && fs->shutting_down) {
        b->err = -ECANCELED;
        snprintf(b->msg, sizeof(b->msg), "stopping");
    }
    for (size_t i = 0; i < b->n && !b->err; i++) {
        int r = wdsfs_image_open_store(b->imgs[i], b->msg, sizeof(b->msg));
        if (r < 0)
            b->err = r;
    }
    if (!b->err && fs->nimages + b->n > WDSFS_MAX_IMAGES) {
        b->err = -E2BIG;
        snprintf(b->msg, sizeof(b->msg), "at most %d images", WDSFS_MAX_IMAGES);
    }
    for (size_t i = 0; i < b->n && !b->err; i++) {
        int r = wdsfs_tree_check(fs->tree, wdsfs_image_dir(b->imgs[i]),
                                 wdsfs_image_content(b->imgs[i]));
        if (r < 0) {
            b->err = r;
            snprintf(b->msg, sizeof(b->msg), "%s: %s", wdsfs_image_path(b->imgs[i]),
                     r == -EEXIST ? "already mounted (or the path is taken)" : strerror(-r));
        }
    }
    if (b->err) {
        for (size_t i = 0; i < b->n; i++)
            wdsfs_image_free(b->imgs[i]);
    } else {
        for (size_t i = 0; i < b->n; i++) {
            /* Checked above; only -ENOMEM is left, and the image is then
             * still listed in status. */
            if (wdsfs_tree_add(fs->tree, b->imgs[i]) < 0)
                wdsfs_log(LOG_ERR, "%s: cannot add to the tree", wdsfs_image_path(b->imgs[i]));
            fs->images[fs->nimages++] = b->imgs[i];
            wdsfs_log(LOG_INFO, "%s: %llu bytes", wdsfs_image_path(b->imgs[i]),
                      (unsigned long long)wdsfs_image_size(b->imgs[i]));
            if (fs->se && fs->opts->prefetch)
                (void)wdsfs_image_ensure_session(b->imgs[i]);
        }
    }
    b->cb(b->ctx, b->err, b->err ? b->msg : NULL);
    batch_free(b);
}

static void on_probe(void *ctx, int err)
{
    struct probe *p = ctx;
    struct batch *b = p->b;
    if (err < 0 && !b->err) {
        b->err = err;
        const char *why = err == -WDSMC_ENOCONTENT ? "the server has no such namespace or content"
                                                   : wdsfs_strerror(err);
        snprintf(b->msg, sizeof(b->msg), "%s: %s", wdsfs_image_path(b->imgs[p->i]), why);
    }
    if (--b->pending == 0)
        finish(b);
}

void wdsfs_add_images(struct wdsfs *fs, const struct wdsfs_image_spec *specs, size_t n,
                      wdsfs_add_cb cb, void *ctx)
{
    char msg[768];
    if (n == 0) {
        cb(ctx, 0, NULL);
        return;
    }
    if (fs->nimages + n > WDSFS_MAX_IMAGES) {
        snprintf(msg, sizeof(msg), "at most %d images", WDSFS_MAX_IMAGES);
        cb(ctx, -E2BIG, msg);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *dir = specs[i].dir ? specs[i].dir : specs[i].ns;
        int r = wdsfs_tree_check(fs->tree, dir, specs[i].content);
        for (size_t j = 0; j < i && r == 0; j++)
            if (!strcmp(dir, specs[j].dir ? specs[j].dir : specs[j].ns) &&
                !strcmp(specs[i].content, specs[j].content))
                r = -EEXIST;
        if (r < 0) {
            snprintf(msg, sizeof(msg), "%s/%s: %s", specs[i].ns, specs[i].content,
                     r == -EEXIST ? "already mounted (or the path is taken)" : strerror(-r));
            cb(ctx, r, msg);
            return;
        }
    }
    struct batch *b = calloc(1, sizeof(*b));
    if (b) {
        b->imgs = calloc(n, sizeof(*b->imgs));
        b->probes = calloc(n, sizeof(*b->probes));
    }
    if (!b || !b->imgs || !b->probes) {
        if (b)
            batch_free(b);
        cb(ctx, -ENOMEM, "out of memory");
        return;
    }
    b->fs = fs;
    b->n = n;
    b->cb = cb;
    b->ctx = ctx;
    for (size_t i = 0; i < n; i++) {
        int r = wdsfs_image_new(fs, specs[i].ns, specs[i].content, &b->imgs[i]);
        if (r == 0 && specs[i].dir && (r = wdsfs_image_set_dir(b->imgs[i], specs[i].dir)) < 0)
            wdsfs_image_free(b->imgs[i]);
        if (r < 0) {
            for (size_t j = 0; j < i; j++)
                wdsfs_image_free(b->imgs[j]);
            batch_free(b);
            cb(ctx, r, "out of memory");
            return;
        }
    }
    /* Count first: a probe may finish before wdsfs_image_probe() returns. */
    b->pending = n;
    for (size_t i = 0; i < n; i++) {
        b->probes[i].b = b;
        b->probes[i].i = i;
        wdsfs_image_probe(b->imgs[i], on_probe, &b->probes[i]);
    }
}
