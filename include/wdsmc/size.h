/* SPDX-License-Identifier: MIT */
/*
 * Byte counts as administrators write them on command lines and in
 * configuration files ("64M", "8192", "2GiB"). One parser for wdsget, wdsfs
 * and wdsmcd, so the three accept the same spellings.
 */
#ifndef WDSMC_SIZE_H
#define WDSMC_SIZE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Parse decimal digits with an optional suffix K, M, G or T (any case;
 * powers of 1024), which may be followed by "B" or "iB". No sign, no spaces.
 * Writes the value to *ret and returns 0, or returns -EINVAL for anything
 * else or a value above `max` (*ret untouched).
 */
int wdsmc_parse_size(const char *s, uint64_t max, uint64_t *ret);

#ifdef __cplusplus
}
#endif

#endif /* WDSMC_SIZE_H */
