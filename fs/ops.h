/* SPDX-License-Identifier: MIT */
/* The libfuse low-level operations of wdsfs; userdata is struct wdsfs. */
#ifndef WDSFS_OPS_H
#define WDSFS_OPS_H

#include <fuse_lowlevel.h>

#include "wdsfs.h"

extern const struct fuse_lowlevel_ops wdsfs_ops;

/* Free the files still open when the session ends (the kernel sends no
 * RELEASE once the connection is gone). */
void wdsfs_ops_free_handles(struct wdsfs *fs);

#endif /* WDSFS_OPS_H */
