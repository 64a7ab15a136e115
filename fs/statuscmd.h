/* SPDX-License-Identifier: MIT */
/* `wdsfs --status MOUNTPOINT [--watch]`: progress bars from .wdsfs/status. */
#ifndef WDSFS_STATUSCMD_H
#define WDSFS_STATUSCMD_H

#include <stdbool.h>

/* Print one progress line per image of the mount at `mountpoint`; with
 * `watch`, redraw every second in place until every image is complete or
 * failed (or SIGINT). Returns the process exit code: 0, or 1 when the status
 * file cannot be read or parsed. */
int wdsfs_statuscmd(const char *mountpoint, bool watch);

#endif /* WDSFS_STATUSCMD_H */
