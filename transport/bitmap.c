/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bitmap.h"

static size_t nbytes(uint64_t nbits)
{
    return (size_t)((nbits + 7) / 8);
}

int wdsmc_bitmap_init(struct wdsmc_bitmap *b, uint64_t nbits)
{
    memset(b, 0, sizeof(*b));
    if (nbits > WDSMC_BITMAP_MAX_BITS)
        return -EFBIG;
    size_t n = nbytes(nbits);
    b->bits = calloc(n ? n : 1, 1);
    if (!b->bits)
        return -ENOMEM;
    b->nbits = nbits;
    return 0;
}

void wdsmc_bitmap_fini(struct wdsmc_bitmap *b)
{
    free(b->bits);
    b->bits = NULL;
    b->nbits = b->nset = 0;
}

bool wdsmc_bitmap_set(struct wdsmc_bitmap *b, uint64_t i)
{
    if (i >= b->nbits)
        return false;
    uint8_t mask = (uint8_t)(1u << (i % 8));
    uint8_t *p = &b->bits[i / 8];
    if (*p & mask)
        return false;
    *p |= mask;
    b->nset++;
    return true;
}

bool wdsmc_bitmap_test(const struct wdsmc_bitmap *b, uint64_t i)
{
    if (i >= b->nbits)
        return false;
    return (b->bits[i / 8] >> (i % 8)) & 1;
}

uint64_t wdsmc_bitmap_count(const struct wdsmc_bitmap *b)
{
    return b->nset;
}

uint64_t wdsmc_bitmap_nbits(const struct wdsmc_bitmap *b)
{
    return b->nbits;
}

bool wdsmc_bitmap_full(const struct wdsmc_bitmap *b)
{
    return b->nset == b->nbits;
}

/* First bit >= from whose value is `want`, or nbits. Whole bytes and 8-byte
 * words that cannot contain it are skipped; comparing a word against all-zero
 * or all-one is independent of byte order, so the byte layout stays the
 * persistent one. */
static uint64_t next_bit(const struct wdsmc_bitmap *b, uint64_t from, bool want)
{
    if (from >= b->nbits)
        return b->nbits;
    const uint8_t skip = want ? 0x00 : 0xFF; /* a byte with nothing of interest */
    const uint64_t skipw = want ? 0 : UINT64_MAX;
    size_t n = nbytes(b->nbits);
    size_t i = (size_t)(from / 8);

    /* The partial first byte. */
    uint8_t v = want ? b->bits[i] : (uint8_t)~b->bits[i];
    v &= (uint8_t)(0xFFu << (from % 8));
    if (v)
        goto found;
    i++;
    while (i < n) {
        if (i % 8 == 0 && n - i >= 8) {
            uint64_t w;
            memcpy(&w, &b->bits[i], 8);
            if (w == skipw) {
                i += 8;
                continue;
            }
        }
        if (b->bits[i] != skip) {
            v = want ? b->bits[i] : (uint8_t)~b->bits[i];
            goto found;
        }
        i++;
    }
    return b->nbits;
found:;
    /* The zero padding past nbits reads as "clear": clamp. */
    uint64_t bit = (uint64_t)i * 8 + (uint64_t)__builtin_ctz(v);
    return bit < b->nbits ? bit : b->nbits;
}

uint64_t wdsmc_bitmap_next_clear(const struct wdsmc_bitmap *b, uint64_t from)
{
    return next_bit(b, from, false);
}

uint64_t wdsmc_bitmap_next_set(const struct wdsmc_bitmap *b, uint64_t from)
{
    return next_bit(b, from, true);
}

size_t wdsmc_bitmap_missing_ranges(const struct wdsmc_bitmap *b, uint64_t lo, uint64_t hi,
                                   struct wdsmc_range *out, size_t max)
{
    size_t k = 0;
    if (hi > b->nbits)
        hi = b->nbits;
    uint64_t pos = lo;
    while (k < max && pos < hi) {
        uint64_t s = wdsmc_bitmap_next_clear(b, pos);
        if (s >= hi)
            break;
        uint64_t e = wdsmc_bitmap_next_set(b, s);
        if (e > hi)
            e = hi;
        out[k].start = s;
        out[k].end = e - 1;
        k++;
        pos = e;
    }
    return k;
}

const uint8_t *wdsmc_bitmap_data(const struct wdsmc_bitmap *b, size_t *ret_size)
{
    *ret_size = nbytes(b->nbits);
    return b->bits;
}

int wdsmc_bitmap_load(struct wdsmc_bitmap *b, const uint8_t *buf, size_t len)
{
    size_t n = nbytes(b->nbits);
    if (len != n)
        return -ERANGE;
    if (n == 0)
        return 0;
    memcpy(b->bits, buf, n);
    if (b->nbits % 8)
        b->bits[n - 1] &= (uint8_t)((1u << (b->nbits % 8)) - 1);
    uint64_t cnt = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, &b->bits[i], 8);
        cnt += (uint64_t)__builtin_popcountll(w);
    }
    for (; i < n; i++)
        cnt += (uint64_t)__builtin_popcount(b->bits[i]);
    b->nset = cnt;
    return 0;
}
