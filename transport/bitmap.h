/* SPDX-License-Identifier: MIT */
/*
 * Received-block bitmap (internal): the MS-WDSMA client's MissingBlocksBitmap
 * (MS-WDSMA 3.2.1), one bit per block, 1 = received.
 *
 * Layout, stable because wdsfs persists it: bit i is bit (i % 8) of byte
 * i / 8, least significant bit first; the bits past nbits in the last byte
 * are always zero. Block numbers are 0-based (DESIGN.md decision 5), although
 * MS-WDSMA 3.2.1 calls the array 1-based.
 *
 * The count of set bits is kept incrementally, so progress is O(1).
 */
#ifndef WDSMC_BITMAP_H
#define WDSMC_BITMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wdsmc/codec.h"

/* Largest bitmap we allocate: 512 MiB, i.e. 2^32 blocks (256 TiB of content
 * at 64 KiB blocks). */
#define WDSMC_BITMAP_MAX_BITS ((uint64_t)1 << 32)

struct wdsmc_bitmap {
    uint8_t *bits;  /* owned; ceil(nbits / 8) bytes, at least 1 allocated */
    uint64_t nbits; /* number of blocks */
    uint64_t nset;  /* bits set */
};

/*
 * Allocate an all-zero bitmap of `nbits` bits (0 is allowed).
 * Returns 0, -EFBIG when nbits > WDSMC_BITMAP_MAX_BITS, or -ENOMEM. On
 * failure `b` is still safe to pass to _fini.
 */
int wdsmc_bitmap_init(struct wdsmc_bitmap *b, uint64_t nbits);

/* Release the bitmap. `b` may be zeroed or already finalised. */
void wdsmc_bitmap_fini(struct wdsmc_bitmap *b);

/* Set bit i. Returns true when it was clear before (newly set), false when it
 * was already set or i >= nbits. */
bool wdsmc_bitmap_set(struct wdsmc_bitmap *b, uint64_t i);

/* Whether bit i is set; false for i >= nbits. */
bool wdsmc_bitmap_test(const struct wdsmc_bitmap *b, uint64_t i);

/* Number of set bits, and the number of bits. */
uint64_t wdsmc_bitmap_count(const struct wdsmc_bitmap *b);
uint64_t wdsmc_bitmap_nbits(const struct wdsmc_bitmap *b);

/* Whether every bit is set (true for an empty bitmap). */
bool wdsmc_bitmap_full(const struct wdsmc_bitmap *b);

/* Index of the first clear bit >= from, or nbits when there is none. */
uint64_t wdsmc_bitmap_next_clear(const struct wdsmc_bitmap *b, uint64_t from);

/* Index of the first set bit >= from, or nbits when there is none. */
uint64_t wdsmc_bitmap_next_set(const struct wdsmc_bitmap *b, uint64_t from);

/*
 * The first `max` runs of clear bits inside the window [lo, hi), ascending,
 * as inclusive ranges clipped to the window (MS-WDSMA 2.2.3 CNTCIR, decision
 * 6). hi is clamped to nbits; an empty window gives nothing.
 *   out  caller's array of at least `max` entries
 * Returns the number of ranges written.
 */
size_t wdsmc_bitmap_missing_ranges(const struct wdsmc_bitmap *b, uint64_t lo, uint64_t hi,
                                   struct wdsmc_range *out, size_t max);

/*
 * Raw access for persistence: the bytes (borrowed, valid until _fini) and
 * their number, ceil(nbits / 8), in *ret_size. Writing through the pointer is
 * not allowed; use wdsmc_bitmap_load() to restore.
 */
const uint8_t *wdsmc_bitmap_data(const struct wdsmc_bitmap *b, size_t *ret_size);

/*
 * Replace the contents with `len` bytes in the layout above (a saved bitmap).
 * Bits past nbits in the last byte are ignored (cleared), and the set count
 * is recomputed. Returns 0, or -ERANGE when len != ceil(nbits / 8).
 */
int wdsmc_bitmap_load(struct wdsmc_bitmap *b, const uint8_t *buf, size_t len);

#endif /* WDSMC_BITMAP_H */
