/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static bool log_syslog;
static int log_max = LOG_INFO;

void wdsfs_log_init(bool use_syslog, int max_level)
{
    if (use_syslog && !log_syslog)
        openlog("wdsfs", LOG_PID, LOG_DAEMON);
    log_syslog = use_syslog;
    log_max = max_level;
}

void wdsfs_log(int level, const char *fmt, ...)
{
    if (level > log_max)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (log_syslog) {
        vsyslog(level, fmt, ap);
    } else {
        fputs("wdsfs: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
    }
    va_end(ap);
}
