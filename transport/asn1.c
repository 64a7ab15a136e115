/* SPDX-License-Identifier: MIT */
/* Minimal DER (X.690 8.1, 10.1); see asn1.h. */
#include <errno.h>
#include <string.h>

#include "asn1.h"

int wdsmc_asn1_read(struct wdsmc_asn1_reader *r, uint8_t *ret_tag, struct wdsmc_asn1_reader *ret)
{
    if (r->len < 2)
        return -EBADMSG;
    uint8_t tag = r->p[0];
    /* Tag number 31 announces the multi-byte form (X.690 8.1.2.4). */
    if ((tag & 0x1f) == 0x1f)
        return -EBADMSG;
    size_t hdr = 2, len = r->p[1];
    if (len & 0x80) {
        size_t n = len & 0x7f;
        /* 0x80 alone is the indefinite form, which DER forbids. */
        if (n == 0 || n > 4 || r->len < 2 + n)
            return -EBADMSG;
        len = 0;
        for (size_t i = 0; i < n; i++)
            len = len << 8 | r->p[2 + i];
        hdr += n;
    }
    if (len > r->len - hdr)
        return -EBADMSG;
    *ret_tag = tag;
    ret->p = r->p + hdr;
    ret->len = len;
    r->p += hdr + len;
    r->len -= hdr + len;
    return 0;
}

int wdsmc_asn1_peek(const struct wdsmc_asn1_reader *r)
{
    return r->len ? r->p[0] : -EBADMSG;
}

int wdsmc_asn1_expect(struct wdsmc_asn1_reader *r, uint8_t tag, struct wdsmc_asn1_reader *ret)
{
    struct wdsmc_asn1_reader save = *r;
    uint8_t t;
    int rc = wdsmc_asn1_read(r, &t, ret);
    if (rc < 0)
        return rc;
    if (t != tag) {
        *r = save;
        return -EBADMSG;
    }
    return 0;
}

int wdsmc_asn1_optional(struct wdsmc_asn1_reader *r, uint8_t tag, struct wdsmc_asn1_reader *ret)
{
    if (r->len == 0 || r->p[0] != tag)
        return 0;
    int rc = wdsmc_asn1_expect(r, tag, ret);
    return rc < 0 ? rc : 1;
}

void wdsmc_asn1_writer_init(struct wdsmc_asn1_writer *w, uint8_t *buf, size_t cap)
{
    memset(w, 0, sizeof(*w));
    w->buf = buf;
    w->cap = cap;
}

static size_t hdr_size(size_t len)
{
    if (len < 0x80)
        return 2;
    if (len < 0x100)
        return 3;
    if (len < 0x10000)
        return 4;
    if (len < 0x1000000)
        return 5;
    return 6;
}

static void put_hdr(uint8_t *p, uint8_t tag, size_t len)
{
    size_t n = hdr_size(len) - 2;
    p[0] = tag;
    if (n == 0) {
        p[1] = (uint8_t)len;
        return;
    }
    p[1] = (uint8_t)(0x80 | n);
    for (size_t i = 0; i < n; i++)
        p[2 + i] = (uint8_t)(len >> (8 * (n - 1 - i)));
}

void wdsmc_asn1_begin(struct wdsmc_asn1_writer *w)
{
    if (w->err)
        return;
    if (w->depth == WDSMC_ASN1_MAX_DEPTH) {
        w->err = -EINVAL;
        return;
    }
    w->open[w->depth++] = w->len;
}

void wdsmc_asn1_end(struct wdsmc_asn1_writer *w, uint8_t tag)
{
    if (w->err)
        return;
    if (w->depth == 0) {
        w->err = -EINVAL;
        return;
    }
    size_t start = w->open[--w->depth];
    size_t len = w->len - start, hdr = hdr_size(len);
    if (len > 0xffffffffu || w->cap - w->len < hdr) {
        w->err = -ENOBUFS;
        return;
    }
    /* The contents were written first; slide them to make room for the
     * header, whose size depends on their length. */
    memmove(w->buf + start + hdr, w->buf + start, len);
    put_hdr(w->buf + start, tag, len);
    w->len += hdr;
}

void wdsmc_asn1_put(struct wdsmc_asn1_writer *w, uint8_t tag, const uint8_t *data, size_t len)
{
    if (w->err)
        return;
    size_t hdr = hdr_size(len);
    if (len > 0xffffffffu || w->cap - w->len < hdr || w->cap - w->len - hdr < len) {
        w->err = -ENOBUFS;
        return;
    }
    put_hdr(w->buf + w->len, tag, len);
    if (len)
        memcpy(w->buf + w->len + hdr, data, len);
    w->len += hdr + len;
}

void wdsmc_asn1_put_raw(struct wdsmc_asn1_writer *w, const uint8_t *data, size_t len)
{
    if (w->err)
        return;
    if (w->cap - w->len < len) {
        w->err = -ENOBUFS;
        return;
    }
    if (len)
        memcpy(w->buf + w->len, data, len);
    w->len += len;
}

int wdsmc_asn1_finish(struct wdsmc_asn1_writer *w, size_t *ret_len)
{
    if (!w->err && w->depth)
        w->err = -EINVAL;
    if (w->err)
        return w->err;
    *ret_len = w->len;
    return 0;
}
