/* SPDX-License-Identifier: MIT */
/*
 * The one place where internal errors (negative errno values and negated
 * WDSMC_E* codes) become the positive errno a FUSE reply carries.
 */
#ifndef WDSFS_ERRMAP_H
#define WDSFS_ERRMAP_H

#include <fuse_lowlevel.h>

/*
 * Map a negative internal error to a positive errno for FUSE:
 *   -errno                      errno
 *   -WDSMC_ENOCONTENT           ENOENT (the server has no such content)
 *   other session outcomes      EIO (KICK, terminate, bad reply: details go
 *                               to the status file and the log)
 *   0 or positive (misuse)      EIO
 */
int wdsfs_errno(int err);

/* Reply to `req` with wdsfs_errno(err). */
void wdsfs_reply_err(fuse_req_t req, int err);

/* Text for a negative internal error (wdsmc_strerror). */
const char *wdsfs_strerror(int err);

#endif /* WDSFS_ERRMAP_H */
