/* SPDX-License-Identifier: MIT */
/* Logging: stderr in the foreground, syslog once daemonised. */
#ifndef WDSFS_LOG_H
#define WDSFS_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* Choose the destination and the least important level shown (LOG_WARNING,
 * LOG_INFO, LOG_DEBUG); may be called again after daemonising. */
void wdsfs_log_init(bool use_syslog, int max_level);

/* Log at a syslog level (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG). */
void wdsfs_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* WDSFS_LOG_H */
