/* SPDX-License-Identifier: MIT */
/*
 * MS-WDSMA wire codec: SRVCIR, CNTCIR, DATA and PROGRESS (MS-WDSMA 2.2).
 *
 * An MA packet always travels inside an MS-WDSMT field whose length is already
 * known, so the decoder is handed exactly one packet. DESIGN.md decision 5:
 * Packet-Size counts the whole MA packet, its 3-byte header included, and must
 * equal that length.
 *
 * Decoding checks the shape of the packet first (ETRUNC, ECOUNT, ETRAILING)
 * and the values of its fields afterwards (EVALUE, ETOOMANY, ERANGE), so a
 * malformed packet always reports the same error whatever its values are.
 */
#include <errno.h>

#include "wdsmc/codec.h"
#include "wire.h"

/* MS-WDSMA 2.2.3 CNTCIR: Progress, TimeInSession, RangeCount. */
#define MA_CNTCIR_FIXED_LEN 7
/* MS-WDSMA 2.2.3.1 Range List element: StartBlockNo, EndBlockNo. */
#define MA_RANGE_LEN 16
/* MS-WDSMA 2.2.5 PROGRESS: TimeInSession, Progress. */
#define MA_PROGRESS_LEN 5

/* MS-WDSMA 2.2.3 CNTCIR */
static int ma_decode_cntcir(struct wire_rd *r, struct wdsmc_ma_cntcir *c)
{
    if (!wire_u8(r, &c->progress) || !wire_u32(r, &c->time_in_session) ||
        !wire_u16(r, &c->range_count))
        return -WDSMC_ETRUNC;
    /* Both checks are on byte counts (size_t), so a RangeCount up to 65535
     * cannot overflow the product. */
    if ((size_t)c->range_count * MA_RANGE_LEN > r->left)
        return -WDSMC_ECOUNT;
    if ((size_t)c->range_count * MA_RANGE_LEN < r->left)
        return -WDSMC_ETRAILING;

    if (c->progress > 100)
        return -WDSMC_EVALUE;
    /* The struct holds 64 ranges: this check guards the copy below as well as
     * the spec's limit. */
    if (c->range_count > WDSMC_MA_MAX_RANGES)
        return -WDSMC_ETOOMANY;
    for (uint16_t i = 0; i < c->range_count; i++) {
        struct wdsmc_range *rg = &c->ranges[i];
        wire_u64(r, &rg->start);
        wire_u64(r, &rg->end);
        if (rg->start > rg->end)
            return -WDSMC_ERANGE;
    }
    return 0;
}

/* MS-WDSMA 2.2.4 DATA */
static int ma_decode_data(struct wire_rd *r, struct wdsmc_ma_data *d)
{
    if (!wire_u64(r, &d->block) || !wire_u16(r, &d->data_len))
        return -WDSMC_ETRUNC;
    if (d->data_len > r->left)
        return -WDSMC_ECOUNT;
    if (d->data_len < r->left)
        return -WDSMC_ETRAILING;
    /* Decision 5 caps a block so the whole datagram fits in 65507 bytes; a
     * larger DataLen cannot come from a conforming sender. */
    if (d->data_len > WDSMC_MA_MAX_BLOCK_SIZE)
        return -WDSMC_EVALUE;
    d->data = r->p;
    r->p += d->data_len;
    r->left -= d->data_len;
    return 0;
}

/* MS-WDSMA 2.2.5 PROGRESS */
static int ma_decode_progress(struct wire_rd *r, struct wdsmc_ma_progress *p)
{
    if (!wire_u32(r, &p->time_in_session) || !wire_u8(r, &p->progress))
        return -WDSMC_ETRUNC;
    if (r->left)
        return -WDSMC_ETRAILING;
    if (p->progress > 100)
        return -WDSMC_EVALUE;
    return 0;
}

ssize_t wdsmc_ma_decode(const uint8_t *buf, size_t len, struct wdsmc_ma_pkt *out)
{
    struct wire_rd r = wire_rd_init(buf, len);
    uint16_t packet_size;
    int rc;

    /* MS-WDSMA 2.2.1 Packet Header */
    if (!wire_u16(&r, &packet_size) || !wire_u8(&r, &out->opcode))
        return -WDSMC_ETRUNC;
    /* A Packet-Size beyond the bytes we hold means the packet was cut short;
     * one below them means bytes follow the packet. A Packet-Size under 3
     * (smaller than the header itself) falls in the second case. */
    if (packet_size > len)
        return -WDSMC_ETRUNC;
    if (packet_size < len)
        return -WDSMC_ETRAILING;

    switch (out->opcode) {
    case WDSMC_MA_SRVCIR:
        /* MS-WDSMA 2.2.2: the header is the whole packet. */
        rc = r.left ? -WDSMC_ETRAILING : 0;
        break;
    case WDSMC_MA_CNTCIR:
        rc = ma_decode_cntcir(&r, &out->u.cntcir);
        break;
    case WDSMC_MA_DATA:
        rc = ma_decode_data(&r, &out->u.data);
        break;
    case WDSMC_MA_PROGRESS:
        rc = ma_decode_progress(&r, &out->u.progress);
        break;
    default:
        return -WDSMC_EOPCODE;
    }
    if (rc < 0)
        return rc;
    return (ssize_t)len;
}

/* Reject a struct the decoder would refuse, so that we never put on the wire
 * what we would not accept from a peer. */
static int ma_validate(const struct wdsmc_ma_pkt *pkt)
{
    switch (pkt->opcode) {
    case WDSMC_MA_SRVCIR:
        return 0;
    case WDSMC_MA_CNTCIR: {
        const struct wdsmc_ma_cntcir *c = &pkt->u.cntcir;
        if (c->progress > 100 || c->range_count > WDSMC_MA_MAX_RANGES)
            return -EINVAL;
        for (uint16_t i = 0; i < c->range_count; i++)
            if (c->ranges[i].start > c->ranges[i].end)
                return -EINVAL;
        return 0;
    }
    case WDSMC_MA_DATA:
        if (pkt->u.data.data_len > WDSMC_MA_MAX_BLOCK_SIZE)
            return -EINVAL;
        if (pkt->u.data.data_len && !pkt->u.data.data)
            return -EINVAL;
        return 0;
    case WDSMC_MA_PROGRESS:
        return pkt->u.progress.progress > 100 ? -EINVAL : 0;
    default:
        return -EINVAL;
    }
}

/* Length of the whole MA packet; the struct has been validated, so it is at
 * most 13 + 65448 and fits Packet-Size. */
static size_t ma_encoded_len(const struct wdsmc_ma_pkt *pkt)
{
    switch (pkt->opcode) {
    case WDSMC_MA_CNTCIR:
        return WDSMC_MA_HDR_LEN + MA_CNTCIR_FIXED_LEN +
               (size_t)pkt->u.cntcir.range_count * MA_RANGE_LEN;
    case WDSMC_MA_DATA:
        return WDSMC_MA_DATA_HDR_LEN + pkt->u.data.data_len;
    case WDSMC_MA_PROGRESS:
        return WDSMC_MA_HDR_LEN + MA_PROGRESS_LEN;
    default:
        return WDSMC_MA_HDR_LEN;
    }
}

ssize_t wdsmc_ma_encode(const struct wdsmc_ma_pkt *pkt, uint8_t *buf, size_t cap)
{
    int rc = ma_validate(pkt);
    if (rc < 0)
        return rc;

    size_t total = ma_encoded_len(pkt);
    struct wire_wr w = wire_wr_init(buf, cap);

    /* MS-WDSMA 2.2.1 Packet Header; decision 5: the size includes it. */
    wire_put_u16(&w, (uint16_t)total);
    wire_put_u8(&w, pkt->opcode);

    switch (pkt->opcode) {
    case WDSMC_MA_CNTCIR: {
        /* MS-WDSMA 2.2.3 CNTCIR, 2.2.3.1 Range List */
        const struct wdsmc_ma_cntcir *c = &pkt->u.cntcir;
        wire_put_u8(&w, c->progress);
        wire_put_u32(&w, c->time_in_session);
        wire_put_u16(&w, c->range_count);
        for (uint16_t i = 0; i < c->range_count; i++) {
            wire_put_u64(&w, c->ranges[i].start);
            wire_put_u64(&w, c->ranges[i].end);
        }
        break;
    }
    case WDSMC_MA_DATA:
        /* MS-WDSMA 2.2.4 DATA */
        wire_put_u64(&w, pkt->u.data.block);
        wire_put_u16(&w, pkt->u.data.data_len);
        wire_put_bytes(&w, pkt->u.data.data, pkt->u.data.data_len);
        break;
    case WDSMC_MA_PROGRESS:
        /* MS-WDSMA 2.2.5 PROGRESS */
        wire_put_u32(&w, pkt->u.progress.time_in_session);
        wire_put_u8(&w, pkt->u.progress.progress);
        break;
    default:
        /* MS-WDSMA 2.2.2 SRVCIR: no body. */
        break;
    }
    if (w.overflow)
        return -ENOBUFS;
    return (ssize_t)w.len;
}
