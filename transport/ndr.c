/* SPDX-License-Identifier: MIT */
/*
 * NDR 2.0 pieces for WdsRpcMessage (MS-WDSC 3.1.4.1). The interface has one
 * method whose parameters are a byte count and a conformant byte array in
 * each direction, so rather than a general marshalling engine this is the
 * exact byte layout of those two stubs, derived from C706 14.3 and written
 * out in ndr.h.
 */
#include <errno.h>

#include "wdsmc/error.h"
#include "ndr.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int wdsmc_uuid_parse(const char *s, struct wdsmc_uuid *ret)
{
    /* Text digit pairs in order; the first three groups are stored
     * little-endian, so their bytes are written back to front. */
    static const uint8_t pos[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    struct wdsmc_uuid u;
    size_t i = 0, k = 0;

    for (; k < 16; k++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return -EINVAL;
            i++;
        }
        int hi = hexval(s[i]);
        int lo = hi < 0 ? -1 : hexval(s[i + 1]);
        if (lo < 0)
            return -EINVAL;
        u.b[pos[k]] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    if (s[i] != '\0')
        return -EINVAL;
    *ret = u;
    return 0;
}

size_t wdsmc_ndr_wdsrpc_req_size(size_t len)
{
    return 8 + len;
}

size_t wdsmc_ndr_wdsrpc_rep_size(size_t len)
{
    /* size, referent id, max_count, bytes, pad to 4, status */
    return 12 + ((len + 3) & ~(size_t)3) + 4;
}

ssize_t wdsmc_ndr_wdsrpc_req_encode(const uint8_t *pkt, size_t len, uint8_t *buf, size_t cap)
{
    if (len > WDSMC_NDR_MAX_PACKET || (len && !pkt))
        return -EINVAL;
    if (cap < wdsmc_ndr_wdsrpc_req_size(len))
        return -ENOBUFS;
    ndr_put32(buf, (uint32_t)len);     /* uRequestPacketSize */
    ndr_put32(buf + 4, (uint32_t)len); /* conformance: max_count */
    if (len)
        memcpy(buf + 8, pkt, len);
    return (ssize_t)(8 + len);
}

int wdsmc_ndr_wdsrpc_req_decode(const uint8_t *stub, size_t len, const uint8_t **ret_pkt,
                                size_t *ret_len)
{
    if (len < 8)
        return -WDSMC_ETRUNC;
    uint32_t size = ndr_get32(stub);
    uint32_t max_count = ndr_get32(stub + 4);
    if (max_count != size || size > WDSMC_NDR_MAX_PACKET)
        return -WDSMC_ECOUNT;
    if (len - 8 < size)
        return -WDSMC_ETRUNC;
    /* Nothing follows the array but, at most, padding to an 8-byte
     * boundary that a sender's stub may round up to. */
    if (len - 8 - size >= 8)
        return -WDSMC_ETRAILING;
    *ret_pkt = stub + 8;
    *ret_len = size;
    return 0;
}

ssize_t wdsmc_ndr_wdsrpc_rep_encode(const uint8_t *pkt, size_t len, uint32_t status, uint8_t *buf,
                                    size_t cap)
{
    size_t off;

    if (len > WDSMC_NDR_MAX_PACKET || (!pkt && len))
        return -EINVAL;
    if (!pkt) {
        if (cap < 12)
            return -ENOBUFS;
        ndr_put32(buf, 0);     /* *puReplyPacketSize */
        ndr_put32(buf + 4, 0); /* NULL unique pointer */
        ndr_put32(buf + 8, status);
        return 12;
    }
    size_t need = wdsmc_ndr_wdsrpc_rep_size(len);
    if (cap < need)
        return -ENOBUFS;
    ndr_put32(buf, (uint32_t)len);
    ndr_put32(buf + 4, WDSMC_NDR_REFERENT_ID);
    ndr_put32(buf + 8, (uint32_t)len); /* conformance: max_count */
    if (len)
        memcpy(buf + 12, pkt, len);
    off = 12 + len;
    while (off % 4)
        buf[off++] = 0;
    ndr_put32(buf + off, status);
    return (ssize_t)(off + 4);
}

int wdsmc_ndr_wdsrpc_rep_decode(const uint8_t *stub, size_t len, const uint8_t **ret_pkt,
                                size_t *ret_len, uint32_t *ret_status)
{
    size_t off;

    if (len < 8)
        return -WDSMC_ETRUNC;
    uint32_t size = ndr_get32(stub);
    uint32_t referent = ndr_get32(stub + 4);
    const uint8_t *pkt = NULL;
    if (referent == 0) {
        /* A NULL pointer carries no array; the size value is whatever the
         * server left in it and means nothing. */
        size = 0;
        off = 8;
    } else {
        if (len < 12)
            return -WDSMC_ETRUNC;
        if (ndr_get32(stub + 8) != size || size > WDSMC_NDR_MAX_PACKET)
            return -WDSMC_ECOUNT;
        if (len - 12 < size)
            return -WDSMC_ETRUNC;
        pkt = stub + 12;
        off = 12 + (size_t)size;
        off = (off + 3) & ~(size_t)3;
    }
    if (len < off + 4)
        return -WDSMC_ETRUNC;
    if (len - off - 4 >= 8)
        return -WDSMC_ETRAILING;
    *ret_pkt = pkt;
    *ret_len = size;
    *ret_status = ndr_get32(stub + off);
    return 0;
}
