/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wdsmc/size.h"

int wdsmc_parse_size(const char *s, uint64_t max, uint64_t *ret)
{
    char *end;
    unsigned shift = 0;

    /* strtoull would take leading spaces and a minus sign (wrapping "-1" to
     * 2^64 - 1); a size starts with a digit. */
    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -EINVAL;
    switch (*end) {
    case 'k':
    case 'K':
        shift = 10;
        break;
    case 'm':
    case 'M':
        shift = 20;
        break;
    case 'g':
    case 'G':
        shift = 30;
        break;
    case 't':
    case 'T':
        shift = 40;
        break;
    default:
        break;
    }
    if (shift) {
        end++;
        if (strcmp(end, "B") == 0 || strcmp(end, "iB") == 0)
            end += strlen(end);
    }
    if (*end || v > (max >> shift))
        return -EINVAL;
    *ret = (uint64_t)v << shift;
    return 0;
}
