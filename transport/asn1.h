/* SPDX-License-Identifier: MIT */
/*
 * A minimal DER reader and writer (X.690), enough for SPNEGO (RFC 4178):
 * single-byte tags (tag numbers below 31), definite lengths of up to four
 * length octets. Reading never goes past the buffer it was given and never
 * allocates; what it returns borrows from that buffer.
 */
#ifndef WDSMC_ASN1_H
#define WDSMC_ASN1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Tags used by SPNEGO. */
#define WDSMC_ASN1_ENUMERATED  0x0a
#define WDSMC_ASN1_OCTET_STR   0x04
#define WDSMC_ASN1_OID         0x06
#define WDSMC_ASN1_SEQUENCE    0x30
#define WDSMC_ASN1_GENERAL_STR 0x1b
#define WDSMC_ASN1_BIT_STRING  0x03
#define WDSMC_ASN1_APP(n)      (0x60 | (n)) /* [APPLICATION n] constructed */
#define WDSMC_ASN1_CTX(n)      (0xa0 | (n)) /* [n] constructed */

/* The unread rest of a buffer or of a constructed value's contents. */
struct wdsmc_asn1_reader {
    const uint8_t *p;
    size_t len;
};

static inline struct wdsmc_asn1_reader wdsmc_asn1_reader_init(const uint8_t *p, size_t len)
{
    struct wdsmc_asn1_reader r = {p, len};
    return r;
}

/* True when nothing is left to read. */
static inline bool wdsmc_asn1_done(const struct wdsmc_asn1_reader *r)
{
    return r->len == 0;
}

/*
 * Reads one TLV: *ret_tag, and its contents borrowed as *ret (a reader over
 * them). Advances r past it. -EBADMSG when truncated, for a multi-byte tag,
 * an indefinite length or a length over four octets; nothing advances then.
 */
int wdsmc_asn1_read(struct wdsmc_asn1_reader *r, uint8_t *ret_tag, struct wdsmc_asn1_reader *ret);

/* The tag of the next TLV, or -EBADMSG when r is empty. */
int wdsmc_asn1_peek(const struct wdsmc_asn1_reader *r);

/* Reads a TLV that must carry `tag` (else -EBADMSG). */
int wdsmc_asn1_expect(struct wdsmc_asn1_reader *r, uint8_t tag, struct wdsmc_asn1_reader *ret);

/*
 * If the next TLV carries `tag`, reads it into *ret and returns 1; returns 0
 * and leaves r alone otherwise (also at the end); -EBADMSG when malformed.
 */
int wdsmc_asn1_optional(struct wdsmc_asn1_reader *r, uint8_t tag, struct wdsmc_asn1_reader *ret);

/*
 * A writer into buf[0..cap). Errors are sticky: after one, calls do nothing
 * and wdsmc_asn1_finish returns it (-ENOBUFS when out of room, -EINVAL for
 * unbalanced begin/end).
 */
#define WDSMC_ASN1_MAX_DEPTH 8
struct wdsmc_asn1_writer {
    uint8_t *buf;
    size_t cap;
    size_t len;
    int err;
    int depth;
    size_t open[WDSMC_ASN1_MAX_DEPTH];
};

void wdsmc_asn1_writer_init(struct wdsmc_asn1_writer *w, uint8_t *buf, size_t cap);
/* Opens a constructed value; its contents are what is written until _end. */
void wdsmc_asn1_begin(struct wdsmc_asn1_writer *w);
/* Closes the innermost open value and gives it `tag`. */
void wdsmc_asn1_end(struct wdsmc_asn1_writer *w, uint8_t tag);
/* Writes a primitive TLV. */
void wdsmc_asn1_put(struct wdsmc_asn1_writer *w, uint8_t tag, const uint8_t *data, size_t len);
/* Writes bytes already DER-encoded. */
void wdsmc_asn1_put_raw(struct wdsmc_asn1_writer *w, const uint8_t *data, size_t len);
/* Returns the encoded length, or the first error. */
int wdsmc_asn1_finish(struct wdsmc_asn1_writer *w, size_t *ret_len);

#ifdef __cplusplus
}
#endif

#endif
