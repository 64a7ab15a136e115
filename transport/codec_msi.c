/* SPDX-License-Identifier: MIT */
/*
 * MS-WDSMSI over UDP wire codec (MS-WDSMSI 2.2.2): REQUEST, REPLY and the
 * error form of REPLY.
 *
 * Decoding runs in three passes so that one malformed packet always gets the
 * same error whatever order its options come in:
 *   1. structure: walk every option (ETRUNC), remember the known ones for this
 *      opcode, refuse a known one given twice (EOPTION), refuse bytes after
 *      the last option (ETRAILING);
 *   2. types: DESIGN.md decision 4, the high byte of a known option's id fixes
 *      the length of its value (EOPTION);
 *   3. presence (EMISSING), then values (EADDRLEN, ESTRING, ESTRLEN, EVALUE).
 * Options that are not known for the packet's opcode, including request
 * options in a reply and the other way round, are skipped unchecked and
 * counted in unknown_count.
 */
#include <errno.h>
#include <string.h>

#include "wdsmc/codec.h"
#include "wire.h"

/* MS-WDSMSI 2.2.2: OpCode, OptionsCount. */
#define MSI_HDR_LEN 3
/* OptionId, OptionLength. */
#define MSI_OPT_HDR_LEN 4
#define MSI_MAC_LEN     6

/* Decision 4: the high byte of an option id is its value type. */
enum msi_type {
    MSI_T_U8 = 0x01,
    MSI_T_U16 = 0x02,
    MSI_T_U32 = 0x03,
    MSI_T_U64 = 0x04,
    MSI_T_BLOB = 0x05,
    MSI_T_STR = 0x06,
};

/* The options this codec knows, as indexes into the slots below. */
enum msi_slot {
    /* MS-WDSMSI 2.2.2.1 request */
    S_NAMESPACE,
    S_CONTENT,
    S_MAC,
    S_IPV6,
    /* MS-WDSMSI 2.2.2.2 reply, in the spec table's order */
    S_MCAST_ADDR,
    S_SERVER_ADDR,
    S_MCAST_PORT,
    S_SERVER_PORT,
    S_CONTENT_SIZE,
    S_BLOCK_SIZE,
    S_TOTAL_BLOCKS,
    S_SESSION_ID,
    /* MS-WDSMSI 2.2.2.3 error */
    S_ERROR,
    S_COUNT,
};

static const uint16_t msi_slot_id[S_COUNT] = {
        [S_NAMESPACE] = WDSMC_MSI_OPT_NAMESPACE,
        [S_CONTENT] = WDSMC_MSI_OPT_CONTENT,
        [S_MAC] = WDSMC_MSI_OPT_MAC_ADDRESS,
        [S_IPV6] = WDSMC_MSI_OPT_IPV6_CAPABLE,
        [S_MCAST_ADDR] = WDSMC_MSI_OPT_MULTICAST_ADDR,
        [S_SERVER_ADDR] = WDSMC_MSI_OPT_SERVER_ADDR,
        [S_MCAST_PORT] = WDSMC_MSI_OPT_MULTICAST_PORT,
        [S_SERVER_PORT] = WDSMC_MSI_OPT_SERVER_PORT,
        [S_CONTENT_SIZE] = WDSMC_MSI_OPT_CONTENT_SIZE,
        [S_BLOCK_SIZE] = WDSMC_MSI_OPT_BLOCK_SIZE,
        [S_TOTAL_BLOCKS] = WDSMC_MSI_OPT_TOTAL_BLOCKS,
        [S_SESSION_ID] = WDSMC_MSI_OPT_SESSION_ID,
        [S_ERROR] = WDSMC_MSI_OPT_ERROR,
};

struct msi_opt {
    bool present;
    const uint8_t *val; /* borrowed from the datagram */
    uint16_t len;
};

/* The slot of a known option for this opcode, or -1 for one to skip. */
static int msi_slot_of(uint8_t opcode, uint16_t id)
{
    int first = opcode == WDSMC_MSI_REQUEST ? S_NAMESPACE : S_MCAST_ADDR;
    int last = opcode == WDSMC_MSI_REQUEST ? S_IPV6 : S_ERROR;
    for (int s = first; s <= last; s++)
        if (msi_slot_id[s] == id)
            return s;
    return -1;
}

/* Decision 4: fixed-width types must have exactly their width. */
static int msi_check_type(uint16_t id, uint16_t len)
{
    static const uint8_t width[] = {
            [MSI_T_U8] = 1, [MSI_T_U16] = 2, [MSI_T_U32] = 4, [MSI_T_U64] = 8};
    uint8_t type = (uint8_t)(id >> 8);
    if (type >= MSI_T_U8 && type <= MSI_T_U64 && len != width[type])
        return -WDSMC_EOPTION;
    return 0;
}

/* An IP address option (MS-WDSMSI 2.2.2.2): 4 bytes for IPv4, 16 for IPv6. */
static int msi_get_addr(const struct msi_opt *o, struct wdsmc_addr *a)
{
    if (o->len != 4 && o->len != 16)
        return -WDSMC_EADDRLEN;
    memset(a, 0, sizeof(*a));
    a->len = (uint8_t)o->len;
    memcpy(a->bytes, o->val, o->len);
    return 0;
}

/*
 * A NUL-terminated UTF-16LE string (MS-WDSMSI 2.2.2.1) into UTF-8 at
 * dst[WDSMC_MSI_NAME_BUF]. An empty name cannot name a namespace or a
 * content, so it is -WDSMC_EVALUE here rather than a lookup failure later.
 */
static int msi_get_string(const struct msi_opt *o, char *dst)
{
    size_t units = o->len / 2;

    if (o->len % 2 || units == 0)
        return -WDSMC_ESTRING;
    if (units > WDSMC_MSI_NAME_MAX_UNITS + 1)
        return -WDSMC_ESTRLEN;
    if (o->val[o->len - 2] || o->val[o->len - 1])
        return -WDSMC_ESTRING;
    if (units == 1)
        return -WDSMC_EVALUE;
    /* The converter rejects a NUL before the terminator. 255 units need at
     * most 255 * 3 UTF-8 bytes, so the buffer is always large enough. */
    ssize_t n = wdsmc_utf16le_to_utf8(o->val, units - 1, dst, WDSMC_MSI_NAME_BUF);
    if (n < 0)
        return (int)n;
    return 0;
}

static int msi_decode_request(const struct msi_opt *opt, struct wdsmc_msi_request *req)
{
    int rc;

    if (!opt[S_NAMESPACE].present || !opt[S_CONTENT].present || !opt[S_MAC].present)
        return -WDSMC_EMISSING;
    if (opt[S_MAC].len != MSI_MAC_LEN)
        return -WDSMC_EADDRLEN;
    memcpy(req->mac, opt[S_MAC].val, MSI_MAC_LEN);
    rc = msi_get_string(&opt[S_NAMESPACE], req->ns);
    if (rc < 0)
        return rc;
    rc = msi_get_string(&opt[S_CONTENT], req->content);
    if (rc < 0)
        return rc;
    /* MS-WDSMSI 2.2.2.1 defines 0 and 1; any other value is kept as sent and
     * the server treats only 1 as capable (3.1.5.3). */
    req->has_ipv6_capable = opt[S_IPV6].present;
    if (req->has_ipv6_capable)
        req->ipv6_capable = opt[S_IPV6].val[0];
    return 0;
}

static int msi_decode_reply(const struct msi_opt *opt, struct wdsmc_msi_pkt *out)
{
    struct wdsmc_msi_reply *rep = &out->u.reply;
    int rc;

    /* Decision 4: a REPLY with ERROR is the error packet of 2.2.2.3. Reply
     * options sent beside it have had their lengths checked and are
     * otherwise ignored. */
    if (opt[S_ERROR].present) {
        out->is_error = true;
        out->u.error = wire_get32(opt[S_ERROR].val);
        return 0;
    }
    for (int s = S_MCAST_ADDR; s <= S_SESSION_ID; s++)
        if (!opt[s].present)
            return -WDSMC_EMISSING;
    rc = msi_get_addr(&opt[S_MCAST_ADDR], &rep->mcast_addr);
    if (rc < 0)
        return rc;
    rc = msi_get_addr(&opt[S_SERVER_ADDR], &rep->server_addr);
    if (rc < 0)
        return rc;
    rep->mcast_port = wire_get16(opt[S_MCAST_PORT].val);
    rep->server_port = wire_get16(opt[S_SERVER_PORT].val);
    rep->content_size = wire_get64(opt[S_CONTENT_SIZE].val);
    rep->block_size = wire_get32(opt[S_BLOCK_SIZE].val);
    rep->total_blocks = wire_get64(opt[S_TOTAL_BLOCKS].val);
    rep->session_id = wire_get32(opt[S_SESSION_ID].val);
    return 0;
}

ssize_t wdsmc_msi_decode(const uint8_t *buf, size_t len, struct wdsmc_msi_pkt *out)
{
    struct wire_rd r = wire_rd_init(buf, len);
    struct msi_opt opt[S_COUNT] = {0};
    uint16_t count;
    int rc;

    memset(out, 0, sizeof(*out));
    /* MS-WDSMSI 2.2.2 */
    if (!wire_u8(&r, &out->opcode) || !wire_u16(&r, &count))
        return -WDSMC_ETRUNC;
    if (out->opcode != WDSMC_MSI_REQUEST && out->opcode != WDSMC_MSI_REPLY)
        return -WDSMC_EOPCODE;

    for (uint16_t i = 0; i < count; i++) {
        uint16_t id, olen;
        const uint8_t *val;
        if (!wire_u16(&r, &id) || !wire_u16(&r, &olen) || !wire_take(&r, olen, &val))
            return -WDSMC_ETRUNC;
        int s = msi_slot_of(out->opcode, id);
        if (s < 0) {
            /* Saturate: a datagram can hold at most 16376 empty options, but
             * the counter should never wrap whatever the limit becomes. */
            if (out->unknown_count < UINT16_MAX)
                out->unknown_count++;
            continue;
        }
        if (opt[s].present)
            return -WDSMC_EOPTION;
        opt[s] = (struct msi_opt){.present = true, .val = val, .len = olen};
    }
    if (r.left)
        return -WDSMC_ETRAILING;

    for (int s = 0; s < S_COUNT; s++) {
        if (!opt[s].present)
            continue;
        rc = msi_check_type(msi_slot_id[s], opt[s].len);
        if (rc < 0)
            return rc;
    }

    if (out->opcode == WDSMC_MSI_REQUEST)
        rc = msi_decode_request(opt, &out->u.req);
    else
        rc = msi_decode_reply(opt, out);
    if (rc < 0)
        return rc;
    return (ssize_t)len;
}

static void msi_put_opt_hdr(struct wire_wr *w, uint16_t id, uint16_t len)
{
    wire_put_u16(w, id);
    wire_put_u16(w, len);
}

/*
 * A UTF-8 name as NUL-terminated UTF-16LE into units[]; returns the byte
 * length with the NUL, or -EINVAL for a name that is empty, not terminated
 * inside its array, invalid UTF-8 or over 255 units.
 */
static int msi_make_string(const char name[WDSMC_MSI_NAME_BUF],
                           uint8_t units[(WDSMC_MSI_NAME_MAX_UNITS + 1) * 2])
{
    if (!memchr(name, '\0', WDSMC_MSI_NAME_BUF) || name[0] == '\0')
        return -EINVAL;
    ssize_t n = wdsmc_utf8_to_utf16le(name, units, WDSMC_MSI_NAME_MAX_UNITS);
    if (n <= 0)
        return -EINVAL;
    units[n * 2] = 0;
    units[n * 2 + 1] = 0;
    return (int)(n + 1) * 2;
}

/* MS-WDSMSI 2.2.2.1 */
static ssize_t msi_encode_request(const struct wdsmc_msi_request *req, struct wire_wr *w)
{
    uint8_t ns[(WDSMC_MSI_NAME_MAX_UNITS + 1) * 2];
    uint8_t content[(WDSMC_MSI_NAME_MAX_UNITS + 1) * 2];
    int ns_len = msi_make_string(req->ns, ns);
    int content_len = msi_make_string(req->content, content);

    if (ns_len < 0 || content_len < 0)
        return -EINVAL;
    wire_put_u8(w, WDSMC_MSI_REQUEST);
    wire_put_u16(w, req->has_ipv6_capable ? 4 : 3);
    msi_put_opt_hdr(w, WDSMC_MSI_OPT_NAMESPACE, (uint16_t)ns_len);
    wire_put_bytes(w, ns, (size_t)ns_len);
    msi_put_opt_hdr(w, WDSMC_MSI_OPT_CONTENT, (uint16_t)content_len);
    wire_put_bytes(w, content, (size_t)content_len);
    msi_put_opt_hdr(w, WDSMC_MSI_OPT_MAC_ADDRESS, MSI_MAC_LEN);
    wire_put_bytes(w, req->mac, MSI_MAC_LEN);
    if (req->has_ipv6_capable) {
        msi_put_opt_hdr(w, WDSMC_MSI_OPT_IPV6_CAPABLE, 1);
        wire_put_u8(w, req->ipv6_capable);
    }
    return 0;
}

/* MS-WDSMSI 2.2.2.2, options in the order of its table. */
static ssize_t msi_encode_reply(const struct wdsmc_msi_reply *rep, struct wire_wr *w)
{
    if ((rep->mcast_addr.len != 4 && rep->mcast_addr.len != 16) ||
        (rep->server_addr.len != 4 && rep->server_addr.len != 16))
        return -EINVAL;
    wire_put_u8(w, WDSMC_MSI_REPLY);
    wire_put_u16(w, 8);
    msi_put_opt_hdr(w, WDSMC_MSI_OPT_MULTICAST_ADDR, rep->mcast_addr.len);
    wire_put_bytes(w, rep->mcast_addr.bytes, rep->mcast_addr.len);
    msi_put_opt_hdr(w, WDSMC_MSI_OPT_SERVER_ADDR, rep->server_addr.len);
    wire_put_bytes(w, rep->server_addr.bytes, rep->server_addr.len);
    msi_put_opt_hdr(w, WDSMC_MSI_OPT_MULTICAST_PORT, 2);
    wire_put_u16(w, rep->mcast_port);
    msi_put_opt_hdr(w, WDSMC_MSI_OPT_SERVER_PORT, 2);
    wire_put_u16(w, rep->server_port);
    msi_put_opt_hdr(w, WDSMC_MSI_OPT_CONTENT_SIZE, 8);
    wire_put_u64(w, rep->content_size);
    msi_put_opt_hdr(w, WDSMC_MSI_OPT_BLOCK_SIZE, 4);
    wire_put_u32(w, rep->block_size);
    msi_put_opt_hdr(w, WDSMC_MSI_OPT_TOTAL_BLOCKS, 8);
    wire_put_u64(w, rep->total_blocks);
    msi_put_opt_hdr(w, WDSMC_MSI_OPT_SESSION_ID, 4);
    wire_put_u32(w, rep->session_id);
    return 0;
}

ssize_t wdsmc_msi_encode(const struct wdsmc_msi_pkt *pkt, uint8_t *buf, size_t cap)
{
    struct wire_wr w = wire_wr_init(buf, cap);
    ssize_t rc;

    if (pkt->opcode == WDSMC_MSI_REQUEST && !pkt->is_error) {
        rc = msi_encode_request(&pkt->u.req, &w);
    } else if (pkt->opcode == WDSMC_MSI_REPLY && pkt->is_error) {
        /* MS-WDSMSI 2.2.2.3, decision 4: a REPLY carrying only ERROR. */
        wire_put_u8(&w, WDSMC_MSI_REPLY);
        wire_put_u16(&w, 1);
        msi_put_opt_hdr(&w, WDSMC_MSI_OPT_ERROR, 4);
        wire_put_u32(&w, pkt->u.error);
        rc = 0;
    } else if (pkt->opcode == WDSMC_MSI_REPLY) {
        rc = msi_encode_reply(&pkt->u.reply, &w);
    } else {
        rc = -EINVAL;
    }
    if (rc < 0)
        return rc;
    if (w.overflow)
        return -ENOBUFS;
    return (ssize_t)w.len;
}

/* IPv4 224.0.0.0/4 (RFC 5771) or IPv6 ff00::/8 (RFC 4291 2.7). */
static bool msi_is_multicast(const struct wdsmc_addr *a)
{
    if (a->len == 4)
        return (a->bytes[0] & 0xF0) == 0xE0;
    if (a->len == 16)
        return a->bytes[0] == 0xFF;
    return false;
}

int wdsmc_msi_reply_check(const struct wdsmc_msi_reply *r)
{
    if (r->block_size == 0 || r->block_size > WDSMC_MA_MAX_BLOCK_SIZE)
        return -WDSMC_EVALUE;
    /* Decision 5: TotalBlocks = ceil(ContentSize / BlockSize), written so it
     * cannot overflow for any ContentSize. */
    uint64_t blocks = r->content_size / r->block_size + (r->content_size % r->block_size != 0);
    if (r->total_blocks != blocks)
        return -WDSMC_EVALUE;
    if (!msi_is_multicast(&r->mcast_addr))
        return -WDSMC_EVALUE;
    if (r->server_addr.len != 4 && r->server_addr.len != 16)
        return -WDSMC_EVALUE;
    /* MS-WDSMSI 2.2.2.2: SERVER_PORT must equal MULTICAST_PORT (decision 21
     * relies on it), and port 0 cannot carry traffic. */
    if (r->mcast_port == 0 || r->server_port != r->mcast_port)
        return -WDSMC_EVALUE;
    return 0;
}
