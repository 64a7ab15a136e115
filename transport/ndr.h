/* SPDX-License-Identifier: MIT */
/*
 * The few pieces of NDR 2.0 (C706 chapter 14, little-endian integers only)
 * that DCE/RPC and the WDS Control Protocol need: little-endian cursors,
 * UUIDs in their NDR layout, and the stub of WdsRpcMessage (MS-WDSC 3.1.4.1,
 * 6), the only method of the interface.
 *
 * Pure: no allocation, no I/O. Decoders borrow from their input.
 */
#ifndef WDSMC_NDR_H
#define WDSMC_NDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Little-endian access (C706 14.2.5 with drep integer format 1)             */
/* ------------------------------------------------------------------------ */

static inline uint16_t ndr_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t ndr_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t ndr_get64(const uint8_t *p)
{
    return (uint64_t)ndr_get32(p) | (uint64_t)ndr_get32(p + 4) << 32;
}

static inline void ndr_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void ndr_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void ndr_put64(uint8_t *p, uint64_t v)
{
    ndr_put32(p, (uint32_t)v);
    ndr_put32(p + 4, (uint32_t)(v >> 32));
}

/* ------------------------------------------------------------------------ */
/* UUIDs (C706 appendix A, MS-DTYP 2.3.4.2)                                  */
/* ------------------------------------------------------------------------ */

/* A UUID/GUID in its NDR (and MS-DTYP GUID packet) byte order: Data1, Data2
 * and Data3 little-endian, Data4 as is. */
struct wdsmc_uuid {
    uint8_t b[16];
};

/* Initializer from the textual form 01234567-89ab-cdef-0123-456789abcdef:
 * WDSMC_UUID_INIT(0x01234567, 0x89ab, 0xcdef, 0x01, 0x23, 0x45, ...). */
#define WDSMC_UUID_INIT(d1, d2, d3, a, b_, c, d, e, f, g, h)                                       \
    {                                                                                              \
        {                                                                                          \
            (uint8_t)(d1), (uint8_t)((d1) >> 8), (uint8_t)((d1) >> 16), (uint8_t)((d1) >> 24),     \
                    (uint8_t)(d2), (uint8_t)((d2) >> 8), (uint8_t)(d3), (uint8_t)((d3) >> 8), a,   \
                    b_, c, d, e, f, g, h                                                           \
        }                                                                                          \
    }

static inline bool wdsmc_uuid_eq(const struct wdsmc_uuid *a, const struct wdsmc_uuid *b)
{
    return memcmp(a->b, b->b, 16) == 0;
}

/*
 * Parse the textual form "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (either case,
 * no braces) into *ret. Returns 0, or -EINVAL for anything else.
 */
int wdsmc_uuid_parse(const char *s, struct wdsmc_uuid *ret);

/* ------------------------------------------------------------------------ */
/* WdsRpcMessage stub (MS-WDSC 3.1.4.1, 6)                                   */
/* ------------------------------------------------------------------------ */

/* Largest WDS packet either direction carries; matches the reassembly cap
 * of the RPC association (rpc_assoc.h). */
#define WDSMC_NDR_MAX_PACKET (1024u * 1024u)

/* Referent id written for the non-NULL unique pointer *pbReplyPacket; any
 * nonzero value is valid (C706 14.3.11.3), this is the one MIDL uses. */
#define WDSMC_NDR_REFERENT_ID 0x00020000u

/*
 * The [in] stub:
 *   [in] unsigned long uRequestPacketSize                 u32
 *   [in, size_is(uRequestPacketSize)] byte bRequestPacket[]
 *        top-level conformant array = [ref] pointer, which has no wire
 *        representation (C706 14.3.11.1): max_count u32, then the bytes.
 * Returns the stub length written to buf[0..cap), -EINVAL for a packet over
 * WDSMC_NDR_MAX_PACKET, or -ENOBUFS.
 */
ssize_t wdsmc_ndr_wdsrpc_req_encode(const uint8_t *pkt, size_t len, uint8_t *buf, size_t cap);

/*
 * Decode an [in] stub. *ret_pkt borrows from stub. max_count must equal
 * uRequestPacketSize (MS-RPCE 3.1.1.5.3.2 consistency check); up to 7 bytes
 * of alignment padding may follow the array. Returns 0, -WDSMC_ETRUNC,
 * -WDSMC_ECOUNT (sizes disagree or exceed WDSMC_NDR_MAX_PACKET) or
 * -WDSMC_ETRAILING.
 */
int wdsmc_ndr_wdsrpc_req_decode(const uint8_t *stub, size_t len, const uint8_t **ret_pkt,
                                size_t *ret_len);

/*
 * The [out] stub:
 *   [out] unsigned long *puReplyPacketSize     top-level [ref]: u32 value
 *   [out, size_is(, *puReplyPacketSize)] byte **pbReplyPacket
 *        [ref] to a [unique] pointer (pointer_default for non-top-level
 *        pointers): referent id u32 (0 for NULL); if nonzero, the
 *        conformant array follows at once: max_count u32, the bytes
 *   padding to 4, then the return value (unsigned long) u32.
 * pkt NULL (len must be 0) sends a NULL reply pointer, as a server does when
 * it returns a failure status. Returns the stub length, -EINVAL, -ENOBUFS.
 */
ssize_t wdsmc_ndr_wdsrpc_rep_encode(const uint8_t *pkt, size_t len, uint32_t status, uint8_t *buf,
                                    size_t cap);

/* Bytes wdsmc_ndr_wdsrpc_{req,rep}_encode() need for a packet of len. */
size_t wdsmc_ndr_wdsrpc_req_size(size_t len);
size_t wdsmc_ndr_wdsrpc_rep_size(size_t len);

/*
 * Decode an [out] stub. *ret_pkt borrows from stub and is NULL (with
 * *ret_len 0) for a NULL reply pointer; *ret_status is the method's return
 * value. The array's max_count must equal *puReplyPacketSize. Returns 0,
 * -WDSMC_ETRUNC, -WDSMC_ECOUNT or -WDSMC_ETRAILING.
 */
int wdsmc_ndr_wdsrpc_rep_decode(const uint8_t *stub, size_t len, const uint8_t **ret_pkt,
                                size_t *ret_len, uint32_t *ret_status);

#ifdef __cplusplus
}
#endif

#endif /* WDSMC_NDR_H */
