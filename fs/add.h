/* SPDX-License-Identifier: MIT */
/*
 * Adding images, at mount and through MNT/.wdsfs/add: create each image, do
 * its MS-WDSMSI initiation (a probe) to learn size and block size, open its
 * store, and only when every one of the batch succeeded publish them all in
 * the tree. A content the server does not have fails the batch with a
 * message naming it.
 */
#ifndef WDSFS_ADD_H
#define WDSFS_ADD_H

#include <stddef.h>

#include "options.h"
#include "wdsfs.h"

/* Called once with 0, or a negative error and a message naming the image. */
typedef void (*wdsfs_add_cb)(void *ctx, int err, const char *msg);

/*
 * Start adding `n` images (specs are copied). `cb` may run before this
 * returns (validation errors). Errors: -EEXIST (already mounted, or the path
 * is taken), -E2BIG (image limit), -ENOENT (no such content on the server),
 * -ENOSPC (no room for the spool), -EIO (initiation failed), -ECANCELED
 * (stopping).
 */
void wdsfs_add_images(struct wdsfs *fs, const struct wdsfs_image_spec *specs, size_t n,
                      wdsfs_add_cb cb, void *ctx);

#endif /* WDSFS_ADD_H */
