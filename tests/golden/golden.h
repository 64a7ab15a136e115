/* SPDX-License-Identifier: MIT */
/*
 * Golden byte vectors, written by hand from the specifications' field tables.
 * Shared by the unit tests (decode field by field, re-encode to the same
 * bytes, reject every truncation) and by tests/fuzz/gen_corpus (the fuzzers'
 * seed corpus).
 */
#ifndef WDSMC_GOLDEN_H
#define WDSMC_GOLDEN_H

#include <stddef.h>
#include <stdint.h>

enum golden_family { GOLDEN_MT, GOLDEN_MA, GOLDEN_MSI };

struct golden {
    const char *name; /* file name in the corpus, e.g. "mt_spm" */
    enum golden_family family;
    const uint8_t *bytes;
    size_t len;
};

/* tests/golden/golden_mt.c */
extern const struct golden golden_mt[];
extern const size_t golden_mt_count;

/* tests/golden/golden_ma_msi.c */
extern const struct golden golden_ma[];
extern const size_t golden_ma_count;
extern const struct golden golden_msi[];
extern const size_t golden_msi_count;

#endif
