/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "log.h"

void wdsmcd_log_escape(const char *msg, char *out, size_t cap)
{
    size_t o = 0;

    for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
        char esc[5];
        size_t n;

        if (*p < 0x20 || *p == 0x7F)
            n = (size_t)snprintf(esc, sizeof(esc), "\\x%02X", *p);
        else {
            esc[0] = (char)*p;
            n = 1;
        }
        if (o + n >= cap)
            break;
        for (size_t i = 0; i < n; i++)
            out[o++] = esc[i];
    }
    out[o] = '\0';
}
