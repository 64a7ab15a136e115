/* SPDX-License-Identifier: MIT */
/*
 * MS-WDSMT wire codec: the security header, the session header, every opcode's
 * packet-specific section and the Extended Options block (MS-WDSMT 2.2).
 *
 * Decoding is strict and deterministic. A datagram is checked in this order,
 * and the first failure is the one reported:
 *
 *   1. length over 65507 bytes                          -WDSMC_ETOOBIG
 *   2. Identifier "WD"                                  -WDSMC_ETRUNC, -WDSMC_EMAGIC
 *   3. SecurityHeaderType and SecurityDataLen            -WDSMC_ETRUNC, -WDSMC_ESECTYPE
 *   4. SecurityData present                             -WDSMC_ETRUNC
 *   5. CHECKSUM packets: the checksum                   -WDSMC_ECHECKSUM
 *   6. Session Header, then the OpCode                  -WDSMC_ETRUNC, -WDSMC_EOPCODE
 *   7. packet-specific fields, each checked as soon as it is read, in wire
 *      order                                            -WDSMC_ETRUNC, -WDSMC_ECOUNT,
 *                                                       -WDSMC_EADDRLEN, -WDSMC_ESTRING,
 *                                                       -WDSMC_ERANGE, -WDSMC_ETOOMANY
 *   8. Extended Options                                 -WDSMC_ETRUNC, -WDSMC_EOPTION
 *   9. bytes left over                                  -WDSMC_ETRAILING
 *  10. HASH or SIGN packets, fully parsed               -WDSMC_ESECUNSUPP
 *
 * The checksum is verified before the packet is interpreted (step 5) because
 * it covers every byte after the security header and is cheap: a datagram
 * damaged in transit is then always reported as -WDSMC_ECHECKSUM, whichever
 * field the damage hit, instead of as whatever malformation the damaged bytes
 * happen to look like. That keeps the error counters honest.
 */
#include <errno.h>
#include <string.h>

#include "wdsmc/codec.h"
#include "wire.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX2_PATH 1
#endif

/* Security header up to SecurityData: "WD", type, SecurityDataLen. */
#define SECHDR_FIXED_LEN 5

/* A read that fails means the input ended inside a field. */
#define RD(expr)                                                                                   \
    do {                                                                                           \
        if (!(expr))                                                                               \
            return -WDSMC_ETRUNC;                                                                  \
    } while (0)

/* Propagate a negative result from a helper. */
#define TRY(expr)                                                                                  \
    do {                                                                                           \
        int try_rc_ = (expr);                                                                      \
        if (try_rc_ < 0)                                                                           \
            return try_rc_;                                                                        \
    } while (0)

#ifdef HAVE_AVX2_PATH
/* The bytes of buf[0..*len rounded down to 64) summed with AVX2's VPSADBW,
 * twice as wide as the SSE2 loop below: on a block still in the L1 cache
 * (just received, just read) 12 ms per GB here against 28. *len becomes
 * the count summed. Only where the CPU has AVX2 (checked by the caller). */
__attribute__((target("avx2"))) static uint64_t sum_avx2(const uint8_t *buf, size_t *len)
{
    const __m256i zero = _mm256_setzero_si256();
    __m256i a = zero, b = zero;
    size_t i = 0;

    for (; *len - i >= 64; i += 64) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(buf + i));
        __m256i w = _mm256_loadu_si256((const __m256i *)(const void *)(buf + i + 32));
        a = _mm256_add_epi64(a, _mm256_sad_epu8(v, zero));
        b = _mm256_add_epi64(b, _mm256_sad_epu8(w, zero));
    }
    a = _mm256_add_epi64(a, b);
    __m128i s = _mm_add_epi64(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
    *len = i;
    return (uint64_t)_mm_cvtsi128_si64(s) + (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(s, s));
}
#endif

uint32_t wdsmc_mt_checksum(const uint8_t *buf, size_t len)
{
    /* MS-WDSMT 2.2.2.3: an unsigned 32-bit sum that wraps, then inverted.
     * Every ODATA is summed twice (sender, receiver), so this is on the
     * data path. A sum mod 2^32 does not depend on the order of its terms. */
    uint64_t sum = 0;
    size_t i = 0;

#ifdef HAVE_AVX2_PATH
    if (__builtin_cpu_supports("avx2")) {
        i = len;
        sum = sum_avx2(buf, &i);
    }
#endif

#ifdef __SSE2__
    /* PSADBW against zero adds each 8-byte half of a 16-byte vector into a
     * 64-bit lane: 16 bytes per instruction, no overflow to watch. */
    const __m128i zero = _mm_setzero_si128();
    __m128i acc = zero;
    for (; len - i >= 16; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(buf + i));
        acc = _mm_add_epi64(acc, _mm_sad_epu8(v, zero));
    }
    sum += (uint64_t)_mm_cvtsi128_si64(acc) +
           (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(acc, acc));
#else
    /* Eight bytes at a time in four 16-bit lanes (bytes at even and odd
     * positions separately), folded before any lane can overflow (128 words
     * add at most 128 * 2 * 255 < 65536 per lane). */
    const uint64_t m = 0x00FF00FF00FF00FFull;
    while (len - i >= 8) {
        size_t words = (len - i) / 8;
        uint64_t lanes = 0;
        if (words > 128)
            words = 128;
        for (size_t k = 0; k < words; k++, i += 8) {
            uint64_t w;
            memcpy(&w, buf + i, 8);
            lanes += (w & m) + ((w >> 8) & m);
        }
        sum += (lanes & 0xFFFF) + (lanes >> 16 & 0xFFFF) + (lanes >> 32 & 0xFFFF) + (lanes >> 48);
    }
#endif
    for (; i < len; i++)
        sum += buf[i];
    return ~(uint32_t)sum;
}

/* ------------------------------------------------------------------------ */
/* Decoding                                                                  */
/* ------------------------------------------------------------------------ */

/* A u16 length followed by that many bytes (AppDataLen/AppData, DataLen/Data).
 * A length past the end is a bad count, not a truncation: the length field
 * itself was read whole. */
static int rd_blob(struct wire_rd *r, const uint8_t **ret_p, uint16_t *ret_len)
{
    uint16_t n;

    RD(wire_u16(r, &n));
    if (n > r->left)
        return -WDSMC_ECOUNT;
    RD(wire_take(r, n, ret_p));
    *ret_len = n;
    return 0;
}

/* An address length byte (4 or 16, decision 3) then the address. */
static int rd_addr(struct wire_rd *r, struct wdsmc_addr *a)
{
    const uint8_t *p;

    RD(wire_u8(r, &a->len));
    if (a->len != 4 && a->len != 16)
        return -WDSMC_EADDRLEN;
    RD(wire_take(r, a->len, &p));
    memcpy(a->bytes, p, a->len);
    return 0;
}

/* MS-WDSMT 2.2.18.1 / 2.2.19.1: RangeCount then 16-byte (start, end) pairs.
 * The ranges stay on the wire; each one is checked here so readers of `raw`
 * can rely on start <= end. */
static int rd_ranges(struct wire_rd *r, struct wdsmc_mt_ranges *l)
{
    RD(wire_u16(r, &l->count));
    if ((size_t)l->count * 16 > r->left)
        return -WDSMC_ECOUNT;
    RD(wire_take(r, (size_t)l->count * 16, &l->raw));
    for (size_t i = 0; i < l->count; i++) {
        if (wire_get64(l->raw + 16 * i) > wire_get64(l->raw + 16 * i + 8))
            return -WDSMC_ERANGE;
    }
    return 0;
}

/* MS-WDSMT 2.2.5 ClientName: 32 bytes of UTF-16LE, at most 15 characters then
 * a NUL (decision 3). Whatever follows the NUL is padding the server MUST
 * ignore, so it is not inspected. */
static int rd_client_name(struct wire_rd *r, char *dst, size_t cap)
{
    const uint8_t *p;
    size_t units;
    ssize_t rc;

    RD(wire_take(r, WDSMC_MT_CLIENT_NAME_BYTES, &p));
    for (units = 0; units < WDSMC_MT_CLIENT_NAME_BYTES / 2; units++) {
        if (p[2 * units] == 0 && p[2 * units + 1] == 0)
            break;
    }
    if (units == WDSMC_MT_CLIENT_NAME_BYTES / 2)
        return -WDSMC_ESTRING;
    rc = wdsmc_utf16le_to_utf8(p, units, dst, cap);
    return rc < 0 ? (int)rc : 0;
}

/* MS-WDSMT 2.2.4 one option value of a known fixed length. */
static int opt_fixed(bool *has, uint16_t len, uint16_t want)
{
    if (*has || len != want)
        return -WDSMC_EOPTION;
    *has = true;
    return 0;
}

/* MS-WDSMT 2.2.4 Extended Options, present on every opcode (decision 1). Known
 * options are parsed whichever opcode carries them, since the spec only says
 * which ones a sender MAY send; the state machines ignore the ones they do not
 * use. An OptionLen that runs past the end is a truncation, like any other
 * field that does (one rule for the whole block). */
static int rd_options(struct wire_rd *r, struct wdsmc_mt_options *o)
{
    uint16_t count;

    RD(wire_u16(r, &count));
    for (uint16_t i = 0; i < count; i++) {
        uint16_t id, len;
        const uint8_t *v;

        RD(wire_u16(r, &id));
        RD(wire_u16(r, &len));
        RD(wire_take(r, len, &v));
        switch (id) {
        case WDSMC_MT_OPT_CPU_UTIL: /* 2.2.8.4 */
            TRY(opt_fixed(&o->has_cpu_util, len, 1));
            o->cpu_util = v[0];
            break;
        case WDSMC_MT_OPT_MEM_UTIL: /* 2.2.8.4 */
            TRY(opt_fixed(&o->has_mem_util, len, 1));
            o->mem_util = v[0];
            break;
        case WDSMC_MT_OPT_NET_UTIL: /* 2.2.8.4 */
            TRY(opt_fixed(&o->has_net_util, len, 1));
            o->net_util = v[0];
            break;
        case WDSMC_MT_OPT_ODATA_FW_LEAD_SEQ_NO: /* 2.2.16 */
            TRY(opt_fixed(&o->has_fw_lead, len, 8));
            o->fw_lead_seq = wire_get64(v);
            break;
        case WDSMC_MT_OPT_USER_SID: /* 2.2.5; a SID is never empty (MS-DTYP 2.4.2) */
            if (o->has_user_sid || len == 0)
                return -WDSMC_EOPTION;
            o->has_user_sid = true;
            o->user_sid = v;
            o->user_sid_len = len;
            break;
        case WDSMC_MT_OPT_CAPABILITIES: /* 2.2.5.1; an empty list means "none" */
            if (o->has_caps)
                return -WDSMC_EOPTION;
            o->has_caps = true;
            o->caps = v;
            o->caps_len = len;
            break;
        default:
            o->unknown_count++;
            break;
        }
    }
    return 0;
}

/* The packet-specific section of each opcode, in wire order. */
static int rd_body(struct wire_rd *r, struct wdsmc_mt_pkt *p)
{
    const uint8_t *bytes;

    switch (p->opcode) {
    case WDSMC_MT_SPM: { /* MS-WDSMT 2.2.14 */
        struct wdsmc_mt_spm *s = &p->u.spm;
        RD(wire_u64(r, &s->spm_seq));
        RD(wire_u32(r, &s->master_client_id));
        RD(wire_u16(r, &s->min_nack_backoff));
        RD(wire_u16(r, &s->max_nack_backoff));
        RD(wire_u64(r, &s->trail_seq));
        RD(wire_u64(r, &s->lead_seq));
        RD(wire_u16(r, &s->rtt));
        return 0;
    }
    case WDSMC_MT_JOIN: { /* MS-WDSMT 2.2.5 */
        struct wdsmc_mt_join *j = &p->u.join;
        uint8_t mac_len;
        TRY(rd_client_name(r, j->client_name, sizeof j->client_name));
        TRY(rd_addr(r, &j->ip));
        RD(wire_u8(r, &mac_len));
        if (mac_len != sizeof j->mac)
            return -WDSMC_EADDRLEN;
        RD(wire_take(r, sizeof j->mac, &bytes));
        memcpy(j->mac, bytes, sizeof j->mac);
        return 0;
    }
    case WDSMC_MT_JOINACK: { /* MS-WDSMT 2.2.6 */
        struct wdsmc_mt_joinack *j = &p->u.joinack;
        RD(wire_u32(r, &j->client_id));
        RD(wire_u16(r, &j->min_nack_backoff));
        RD(wire_u16(r, &j->max_nack_backoff));
        RD(wire_u16(r, &j->rtt));
        RD(wire_u64(r, &j->client_time));
        return 0;
    }
    case WDSMC_MT_QCC: /* MS-WDSMT 2.2.7 */
        RD(wire_u64(r, &p->u.qcc.qcc_seq));
        RD(wire_u16(r, &p->u.qcc.qcr_backoff));
        return 0;
    case WDSMC_MT_QCR: { /* MS-WDSMT 2.2.8.1-3, one layout */
        struct wdsmc_mt_qcr *q = &p->u.qcr;
        RD(wire_u32(r, &q->client_id));
        RD(wire_u64(r, &q->qcc_seq));
        RD(wire_u16(r, &q->backoff));
        RD(wire_u64(r, &q->server_time));
        RD(wire_u64(r, &q->hi_seq));
        RD(wire_u64(r, &q->loss_rate));
        return rd_blob(r, &q->app, &q->app_len);
    }
    case WDSMC_MT_ODATA:   /* MS-WDSMT 2.2.16 */
    case WDSMC_MT_RDATA: { /* MS-WDSMT 2.2.17, same layout */
        struct wdsmc_mt_data *d = &p->u.data;
        RD(wire_u32(r, &d->client_id));
        RD(wire_u64(r, &d->seq));
        RD(wire_u64(r, &d->trail_seq));
        return rd_blob(r, &d->data, &d->data_len);
    }
    case WDSMC_MT_ACK: { /* MS-WDSMT 2.2.15 */
        struct wdsmc_mt_ack *a = &p->u.ack;
        RD(wire_u32(r, &a->client_id));
        RD(wire_u64(r, &a->odata_seq));
        RD(wire_u64(r, &a->server_time));
        RD(wire_u64(r, &a->hi_seq));
        RD(wire_u64(r, &a->loss_rate));
        return 0;
    }
    case WDSMC_MT_NACK: { /* MS-WDSMT 2.2.18 */
        struct wdsmc_mt_nack *n = &p->u.nack;
        RD(wire_u32(r, &n->client_id));
        RD(wire_u64(r, &n->hi_seq));
        RD(wire_u64(r, &n->loss_rate));
        return rd_ranges(r, &n->list);
    }
    case WDSMC_MT_NCF: /* MS-WDSMT 2.2.19 */
        return rd_ranges(r, &p->u.ncf);
    case WDSMC_MT_LEAVE: /* MS-WDSMT 2.2.11; unknown reasons are kept for the caller */
        RD(wire_u32(r, &p->u.leave.client_id));
        RD(wire_u8(r, &p->u.leave.reason));
        return 0;
    case WDSMC_MT_POLL: /* MS-WDSMT 2.2.9 */
        RD(wire_u64(r, &p->u.poll.poll_seq));
        RD(wire_u16(r, &p->u.poll.backoff));
        return rd_blob(r, &p->u.poll.app, &p->u.poll.app_len);
    case WDSMC_MT_POLLACK: /* MS-WDSMT 2.2.10 */
        RD(wire_u32(r, &p->u.pollack.client_id));
        RD(wire_u64(r, &p->u.pollack.poll_seq));
        return rd_blob(r, &p->u.pollack.app, &p->u.pollack.app_len);
    case WDSMC_MT_KICK: { /* MS-WDSMT 2.2.12, entries 2.2.12.1 (5 bytes) */
        struct wdsmc_mt_kick *k = &p->u.kick;
        RD(wire_u16(r, &k->count));
        if (k->count > WDSMC_MT_MAX_KICK_CLIENTS)
            return -WDSMC_ETOOMANY;
        if ((size_t)k->count * 5 > r->left)
            return -WDSMC_ECOUNT;
        RD(wire_take(r, (size_t)k->count * 5, &k->raw));
        return 0;
    }
    case WDSMC_MT_DEMOTE: { /* MS-WDSMT 2.2.13 */
        struct wdsmc_mt_demote *d = &p->u.demote;
        RD(wire_u32(r, &d->lower_session_id));
        TRY(rd_addr(r, &d->maddr));
        RD(wire_u16(r, &d->mport));
        TRY(rd_addr(r, &d->uaddr));
        RD(wire_u16(r, &d->uport));
        RD(wire_u16(r, &d->count));
        if (d->count > WDSMC_MT_MAX_DEMOTE_CLIENTS)
            return -WDSMC_ETOOMANY;
        if ((size_t)d->count * 4 > r->left)
            return -WDSMC_ECOUNT;
        RD(wire_take(r, (size_t)d->count * 4, &d->raw));
        return 0;
    }
    default:
        return -WDSMC_EOPCODE;
    }
}

/* MS-WDSMT 2.2.2: whether the type is known and SecurityDataLen fits it. */
static bool sec_hdr_ok(uint8_t type, uint16_t len)
{
    switch (type) {
    case WDSMC_SEC_NONE:
        return len == 0;
    case WDSMC_SEC_CHECKSUM:
        return len == 4;
    case WDSMC_SEC_HASH:
    case WDSMC_SEC_SIGN:
        /* Opaque to us; an empty or absurdly long one cannot be genuine. */
        return len >= 1 && len <= WDSMC_MT_SECDATA_MAX;
    default:
        return false;
    }
}

ssize_t wdsmc_mt_decode(const uint8_t *buf, size_t len, struct wdsmc_mt_pkt *out)
{
    struct wire_rd r = wire_rd_init(buf, len);
    const uint8_t *ident;
    size_t body_off;

    memset(out, 0, sizeof *out);
    if (len > WDSMC_MAX_DATAGRAM)
        return -WDSMC_ETOOBIG;

    /* MS-WDSMT 2.2.2 Security Header */
    RD(wire_take(&r, 2, &ident));
    if (ident[0] != 'W' || ident[1] != 'D')
        return -WDSMC_EMAGIC;
    RD(wire_u8(&r, &out->sec_type));
    RD(wire_u16(&r, &out->sec_len));
    if (!sec_hdr_ok(out->sec_type, out->sec_len))
        return -WDSMC_ESECTYPE;
    RD(wire_take(&r, out->sec_len, &out->sec_data));

    /* MS-WDSMT 2.2.2.3: the checksum covers everything after the header. */
    body_off = SECHDR_FIXED_LEN + out->sec_len;
    if (out->sec_type == WDSMC_SEC_CHECKSUM &&
        wire_get32(out->sec_data) != wdsmc_mt_checksum(buf + body_off, len - body_off))
        return -WDSMC_ECHECKSUM;

    /* MS-WDSMT 2.2.3 Session Header */
    RD(wire_u32(&r, &out->session_id));
    RD(wire_u8(&r, &out->opcode));
    RD(wire_u64(&r, &out->sender_time));

    TRY(rd_body(&r, out));
    TRY(rd_options(&r, &out->opts));
    if (r.left)
        return -WDSMC_ETRAILING;
    if (out->sec_type == WDSMC_SEC_HASH || out->sec_type == WDSMC_SEC_SIGN)
        return -WDSMC_ESECUNSUPP;
    return (ssize_t)len;
}

/* ------------------------------------------------------------------------ */
/* Encoding                                                                  */
/* ------------------------------------------------------------------------ */

static bool addr_len_ok(const struct wdsmc_addr *a)
{
    return a->len == 4 || a->len == 16;
}

static void wr_addr(struct wire_wr *w, const struct wdsmc_addr *a)
{
    wire_put_u8(w, a->len);
    wire_put_bytes(w, a->bytes, a->len);
}

/* A borrowed byte field with its u16 length; a length without bytes is a
 * caller bug. */
static int wr_blob(struct wire_wr *w, const uint8_t *p, uint16_t n)
{
    if (n && !p)
        return -EINVAL;
    wire_put_u16(w, n);
    wire_put_bytes(w, p, n);
    return 0;
}

/* Range lists are checked like the decoder checks them, so we never send what
 * a peer of ours would reject. */
static int wr_ranges(struct wire_wr *w, const struct wdsmc_mt_ranges *l)
{
    if (l->count && !l->ranges)
        return -EINVAL;
    wire_put_u16(w, l->count);
    for (size_t i = 0; i < l->count; i++) {
        if (l->ranges[i].start > l->ranges[i].end)
            return -EINVAL;
        wire_put_u64(w, l->ranges[i].start);
        wire_put_u64(w, l->ranges[i].end);
    }
    return 0;
}

/* MS-WDSMT 2.2.5 ClientName: at most 15 UTF-16 units, then a NUL and zero
 * padding to 32 bytes (decision 3). */
static int wr_client_name(struct wire_wr *w, const struct wdsmc_mt_join *j)
{
    uint8_t name[WDSMC_MT_CLIENT_NAME_BYTES] = {0};
    ssize_t units;

    if (!memchr(j->client_name, '\0', sizeof j->client_name))
        return -EINVAL;
    units = wdsmc_utf8_to_utf16le(j->client_name, name, WDSMC_MT_CLIENT_NAME_CHARS);
    if (units < 0)
        return -EINVAL;
    wire_put_bytes(w, name, sizeof name);
    return 0;
}

static void wr_option_header(struct wire_wr *w, uint16_t id, uint16_t len)
{
    wire_put_u16(w, id);
    wire_put_u16(w, len);
}

/* MS-WDSMT 2.2.4, in the order of struct wdsmc_mt_options. */
static int wr_options(struct wire_wr *w, const struct wdsmc_mt_options *o)
{
    uint16_t count = (uint16_t)(o->has_cpu_util + o->has_mem_util + o->has_net_util +
                                o->has_fw_lead + o->has_user_sid + o->has_caps);

    if (o->has_user_sid && (o->user_sid_len == 0 || !o->user_sid))
        return -EINVAL;
    if (o->has_caps && o->caps_len && !o->caps)
        return -EINVAL;
    wire_put_u16(w, count);
    if (o->has_cpu_util) {
        wr_option_header(w, WDSMC_MT_OPT_CPU_UTIL, 1);
        wire_put_u8(w, o->cpu_util);
    }
    if (o->has_mem_util) {
        wr_option_header(w, WDSMC_MT_OPT_MEM_UTIL, 1);
        wire_put_u8(w, o->mem_util);
    }
    if (o->has_net_util) {
        wr_option_header(w, WDSMC_MT_OPT_NET_UTIL, 1);
        wire_put_u8(w, o->net_util);
    }
    if (o->has_fw_lead) {
        wr_option_header(w, WDSMC_MT_OPT_ODATA_FW_LEAD_SEQ_NO, 8);
        wire_put_u64(w, o->fw_lead_seq);
    }
    if (o->has_user_sid) {
        wr_option_header(w, WDSMC_MT_OPT_USER_SID, o->user_sid_len);
        wire_put_bytes(w, o->user_sid, o->user_sid_len);
    }
    if (o->has_caps) {
        wr_option_header(w, WDSMC_MT_OPT_CAPABILITIES, o->caps_len);
        wire_put_bytes(w, o->caps, o->caps_len);
    }
    return 0;
}

static int wr_body(struct wire_wr *w, const struct wdsmc_mt_pkt *p)
{
    switch (p->opcode) {
    case WDSMC_MT_SPM: { /* MS-WDSMT 2.2.14 */
        const struct wdsmc_mt_spm *s = &p->u.spm;
        wire_put_u64(w, s->spm_seq);
        wire_put_u32(w, s->master_client_id);
        wire_put_u16(w, s->min_nack_backoff);
        wire_put_u16(w, s->max_nack_backoff);
        wire_put_u64(w, s->trail_seq);
        wire_put_u64(w, s->lead_seq);
        wire_put_u16(w, s->rtt);
        return 0;
    }
    case WDSMC_MT_JOIN: { /* MS-WDSMT 2.2.5 */
        const struct wdsmc_mt_join *j = &p->u.join;
        if (!addr_len_ok(&j->ip))
            return -EINVAL;
        TRY(wr_client_name(w, j));
        wr_addr(w, &j->ip);
        wire_put_u8(w, sizeof j->mac);
        wire_put_bytes(w, j->mac, sizeof j->mac);
        return 0;
    }
    case WDSMC_MT_JOINACK: { /* MS-WDSMT 2.2.6 */
        const struct wdsmc_mt_joinack *j = &p->u.joinack;
        wire_put_u32(w, j->client_id);
        wire_put_u16(w, j->min_nack_backoff);
        wire_put_u16(w, j->max_nack_backoff);
        wire_put_u16(w, j->rtt);
        wire_put_u64(w, j->client_time);
        return 0;
    }
    case WDSMC_MT_QCC: /* MS-WDSMT 2.2.7 */
        wire_put_u64(w, p->u.qcc.qcc_seq);
        wire_put_u16(w, p->u.qcc.qcr_backoff);
        return 0;
    case WDSMC_MT_QCR: { /* MS-WDSMT 2.2.8.1-3 */
        const struct wdsmc_mt_qcr *q = &p->u.qcr;
        wire_put_u32(w, q->client_id);
        wire_put_u64(w, q->qcc_seq);
        wire_put_u16(w, q->backoff);
        wire_put_u64(w, q->server_time);
        wire_put_u64(w, q->hi_seq);
        wire_put_u64(w, q->loss_rate);
        return wr_blob(w, q->app, q->app_len);
    }
    case WDSMC_MT_ODATA:   /* MS-WDSMT 2.2.16 */
    case WDSMC_MT_RDATA: { /* MS-WDSMT 2.2.17 */
        const struct wdsmc_mt_data *d = &p->u.data;
        wire_put_u32(w, d->client_id);
        wire_put_u64(w, d->seq);
        wire_put_u64(w, d->trail_seq);
        return wr_blob(w, d->data, d->data_len);
    }
    case WDSMC_MT_ACK: { /* MS-WDSMT 2.2.15 */
        const struct wdsmc_mt_ack *a = &p->u.ack;
        wire_put_u32(w, a->client_id);
        wire_put_u64(w, a->odata_seq);
        wire_put_u64(w, a->server_time);
        wire_put_u64(w, a->hi_seq);
        wire_put_u64(w, a->loss_rate);
        return 0;
    }
    case WDSMC_MT_NACK: { /* MS-WDSMT 2.2.18 */
        const struct wdsmc_mt_nack *n = &p->u.nack;
        wire_put_u32(w, n->client_id);
        wire_put_u64(w, n->hi_seq);
        wire_put_u64(w, n->loss_rate);
        return wr_ranges(w, &n->list);
    }
    case WDSMC_MT_NCF: /* MS-WDSMT 2.2.19 */
        return wr_ranges(w, &p->u.ncf);
    case WDSMC_MT_LEAVE: /* MS-WDSMT 2.2.11 */
        wire_put_u32(w, p->u.leave.client_id);
        wire_put_u8(w, p->u.leave.reason);
        return 0;
    case WDSMC_MT_POLL: /* MS-WDSMT 2.2.9 */
        wire_put_u64(w, p->u.poll.poll_seq);
        wire_put_u16(w, p->u.poll.backoff);
        return wr_blob(w, p->u.poll.app, p->u.poll.app_len);
    case WDSMC_MT_POLLACK: /* MS-WDSMT 2.2.10 */
        wire_put_u32(w, p->u.pollack.client_id);
        wire_put_u64(w, p->u.pollack.poll_seq);
        return wr_blob(w, p->u.pollack.app, p->u.pollack.app_len);
    case WDSMC_MT_KICK: { /* MS-WDSMT 2.2.12 */
        const struct wdsmc_mt_kick *k = &p->u.kick;
        if (k->count > WDSMC_MT_MAX_KICK_CLIENTS || (k->count && !k->entries))
            return -EINVAL;
        wire_put_u16(w, k->count);
        for (size_t i = 0; i < k->count; i++) {
            wire_put_u32(w, k->entries[i].client_id);
            wire_put_u8(w, k->entries[i].reason);
        }
        return 0;
    }
    case WDSMC_MT_DEMOTE: { /* MS-WDSMT 2.2.13 */
        const struct wdsmc_mt_demote *d = &p->u.demote;
        if (!addr_len_ok(&d->maddr) || !addr_len_ok(&d->uaddr))
            return -EINVAL;
        if (d->count > WDSMC_MT_MAX_DEMOTE_CLIENTS || (d->count && !d->client_ids))
            return -EINVAL;
        wire_put_u32(w, d->lower_session_id);
        wr_addr(w, &d->maddr);
        wire_put_u16(w, d->mport);
        wr_addr(w, &d->uaddr);
        wire_put_u16(w, d->uport);
        wire_put_u16(w, d->count);
        for (size_t i = 0; i < d->count; i++)
            wire_put_u32(w, d->client_ids[i]);
        return 0;
    }
    default:
        return -EINVAL;
    }
}

ssize_t wdsmc_mt_encode(const struct wdsmc_mt_pkt *pkt, uint8_t *buf, size_t cap)
{
    struct wire_wr w = wire_wr_init(buf, cap);
    uint16_t sec_len;
    size_t body_off;

    if (pkt->sec_type == WDSMC_SEC_NONE)
        sec_len = 0;
    else if (pkt->sec_type == WDSMC_SEC_CHECKSUM)
        sec_len = 4;
    else
        return -EINVAL; /* HASH and SIGN need keys this layer does not have */

    /* MS-WDSMT 2.2.2; the checksum is filled in once the packet is complete. */
    wire_put_u8(&w, 'W');
    wire_put_u8(&w, 'D');
    wire_put_u8(&w, pkt->sec_type);
    wire_put_u16(&w, sec_len);
    if (sec_len)
        wire_put_u32(&w, 0);
    body_off = w.len;

    /* MS-WDSMT 2.2.3 */
    wire_put_u32(&w, pkt->session_id);
    wire_put_u8(&w, pkt->opcode);
    wire_put_u64(&w, pkt->sender_time);

    TRY(wr_body(&w, pkt));
    TRY(wr_options(&w, &pkt->opts));

    /* No buffer can carry more than one datagram: a packet over 65507 bytes
     * (a NACK with more than wdsmc_mt_max_ranges() ranges, say) is -ENOBUFS
     * whatever cap is, so we never emit what every decoder rejects as
     * -WDSMC_ETOOBIG. Callers size buffers at WDSMC_MAX_DATAGRAM and see the
     * same error either way. */
    if (w.overflow || w.len > WDSMC_MAX_DATAGRAM)
        return -ENOBUFS;
    if (pkt->sec_type == WDSMC_SEC_CHECKSUM)
        wire_put32(buf + SECHDR_FIXED_LEN, wdsmc_mt_checksum(buf + body_off, w.len - body_off));
    return (ssize_t)w.len;
}

/* ------------------------------------------------------------------------ */
/* Accessors                                                                 */
/* ------------------------------------------------------------------------ */

enum wdsmc_qcr_form wdsmc_mt_qcr_form(const struct wdsmc_mt_qcr *qcr)
{
    /* 2.2.8.2 is the only form with a QCCSeqNo; of the two with none, only
     * 2.2.8.1 echoes a ServerTime (the JOINACK's SenderTime). */
    if (qcr->qcc_seq != 0)
        return WDSMC_QCR_QCC;
    if (qcr->server_time != 0)
        return WDSMC_QCR_JOINACK;
    return WDSMC_QCR_VOLUNTARY;
}

struct wdsmc_mt_kick_entry wdsmc_mt_kick_get(const struct wdsmc_mt_kick *k, size_t i)
{
    const uint8_t *e = k->raw + 5 * i;
    return (struct wdsmc_mt_kick_entry){.client_id = wire_get32(e), .reason = e[4]};
}

struct wdsmc_range wdsmc_mt_range_get(const struct wdsmc_mt_ranges *r, size_t i)
{
    const uint8_t *e = r->raw + 16 * i;
    return (struct wdsmc_range){.start = wire_get64(e), .end = wire_get64(e + 8)};
}

uint32_t wdsmc_mt_demote_get(const struct wdsmc_mt_demote *d, size_t i)
{
    return wire_get32(d->raw + 4 * i);
}

size_t wdsmc_mt_max_ranges(void)
{
    /* Decision 20: a NACK with a CHECKSUM header and no options. */
    size_t fixed = WDSMC_MT_SECHDR_CHECKSUM_LEN + WDSMC_MT_SESSION_HDR_LEN + 4 /* ClientId */ +
                   8 /* HiODATASeqNo */ + 8 /* LossRate */ + 2 /* RangeCount */ +
                   2 /* OptionsCount */;
    return (WDSMC_MAX_DATAGRAM - fixed) / 16;
}

const char *wdsmc_mt_op_name(uint8_t opcode)
{
    static const char *const names[] = {
            [WDSMC_MT_SPM] = "SPM",         [WDSMC_MT_JOIN] = "JOIN",
            [WDSMC_MT_JOINACK] = "JOINACK", [WDSMC_MT_QCC] = "QCC",
            [WDSMC_MT_QCR] = "QCR",         [WDSMC_MT_ODATA] = "ODATA",
            [WDSMC_MT_RDATA] = "RDATA",     [WDSMC_MT_ACK] = "ACK",
            [WDSMC_MT_NACK] = "NACK",       [WDSMC_MT_NCF] = "NCF",
            [WDSMC_MT_LEAVE] = "LEAVE",     [WDSMC_MT_POLL] = "POLL",
            [WDSMC_MT_POLLACK] = "POLLACK", [WDSMC_MT_KICK] = "KICK",
            [WDSMC_MT_DEMOTE] = "DEMOTE",
    };

    if (opcode >= sizeof names / sizeof names[0] || !names[opcode])
        return "?";
    return names[opcode];
}
