/* SPDX-License-Identifier: MIT */
/*
 * Bounds-checked big-endian cursors shared by the codecs (internal).
 *
 * A reader never reads past its end: every take reports failure instead, and
 * the caller turns that into -WDSMC_ETRUNC. A writer never writes past its
 * capacity: it sets `overflow` and keeps counting, so an encoder can check
 * once at the end and return -ENOBUFS.
 */
#ifndef WDSMC_WIRE_H
#define WDSMC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct wire_rd {
    const uint8_t *p;
    size_t left;
};

static inline struct wire_rd wire_rd_init(const uint8_t *buf, size_t len)
{
    return (struct wire_rd){.p = buf, .left = len};
}

static inline bool wire_take(struct wire_rd *r, size_t n, const uint8_t **ret)
{
    if (r->left < n)
        return false;
    *ret = r->p;
    r->p += n;
    r->left -= n;
    return true;
}

static inline bool wire_u8(struct wire_rd *r, uint8_t *v)
{
    if (r->left < 1)
        return false;
    *v = r->p[0];
    r->p += 1;
    r->left -= 1;
    return true;
}

static inline bool wire_u16(struct wire_rd *r, uint16_t *v)
{
    if (r->left < 2)
        return false;
    *v = (uint16_t)((uint16_t)r->p[0] << 8 | r->p[1]);
    r->p += 2;
    r->left -= 2;
    return true;
}

static inline bool wire_u32(struct wire_rd *r, uint32_t *v)
{
    if (r->left < 4)
        return false;
    *v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
    r->p += 4;
    r->left -= 4;
    return true;
}

static inline bool wire_u64(struct wire_rd *r, uint64_t *v)
{
    uint32_t hi, lo;
    if (r->left < 8)
        return false;
    wire_u32(r, &hi);
    wire_u32(r, &lo);
    *v = (uint64_t)hi << 32 | lo;
    return true;
}

static inline uint16_t wire_get16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t wire_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t wire_get64(const uint8_t *p)
{
    return (uint64_t)wire_get32(p) << 32 | wire_get32(p + 4);
}

static inline void wire_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void wire_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void wire_put64(uint8_t *p, uint64_t v)
{
    wire_put32(p, (uint32_t)(v >> 32));
    wire_put32(p + 4, (uint32_t)v);
}

struct wire_wr {
    uint8_t *p;
    size_t cap;
    size_t len;
    bool overflow;
};

static inline struct wire_wr wire_wr_init(uint8_t *buf, size_t cap)
{
    return (struct wire_wr){.p = buf, .cap = cap, .len = 0, .overflow = false};
}

/* Reserve n bytes; returns where to write them, or NULL (and sets overflow). */
static inline uint8_t *wire_reserve(struct wire_wr *w, size_t n)
{
    if (w->overflow || w->cap - w->len < n) {
        w->overflow = true;
        w->len += n;
        return NULL;
    }
    uint8_t *at = w->p + w->len;
    w->len += n;
    return at;
}

static inline void wire_put_u8(struct wire_wr *w, uint8_t v)
{
    uint8_t *at = wire_reserve(w, 1);
    if (at)
        at[0] = v;
}

static inline void wire_put_u16(struct wire_wr *w, uint16_t v)
{
    uint8_t *at = wire_reserve(w, 2);
    if (at)
        wire_put16(at, v);
}

static inline void wire_put_u32(struct wire_wr *w, uint32_t v)
{
    uint8_t *at = wire_reserve(w, 4);
    if (at)
        wire_put32(at, v);
}

static inline void wire_put_u64(struct wire_wr *w, uint64_t v)
{
    uint8_t *at = wire_reserve(w, 8);
    if (at)
        wire_put64(at, v);
}

static inline void wire_put_bytes(struct wire_wr *w, const void *src, size_t n)
{
    uint8_t *at = wire_reserve(w, n);
    /* A payload read straight into its place in the packet (the MA server's
     * DATA) is already there. */
    if (at && n && at != src)
        memcpy(at, src, n);
}

#endif /* WDSMC_WIRE_H */
