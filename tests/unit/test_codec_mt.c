/* SPDX-License-Identifier: MIT */
/*
 * MS-WDSMT codec: golden vectors decoded field by field and re-encoded byte for
 * byte, every truncation and every bit flip rejected, and one test per kind of
 * malformation the decoder names.
 *
 * Malformed packets are built two ways: by patching a copy of a golden vector
 * at a named offset, or with the small builder below when a list has to be
 * long. Either way the checksum is refreshed afterwards, since the decoder
 * verifies it before it looks at any field (see codec_mt.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wdsmc/codec.h"
#include "golden.h"
#include "golden_mt.h"

/* Offsets shared by every CHECKSUM vector. */
#define OFF_SECTYPE 2
#define OFF_SECLEN  3
#define OFF_CKSUM   5
#define OFF_OPCODE  13
#define OFF_BODY    22 /* 9-byte security header + 13-byte session header */

/* Compare two ssize_t results and name both errors when they differ. */
#define assert_rc(expr, want)                                                                      \
    do {                                                                                           \
        ssize_t rc_ = (expr);                                                                      \
        ssize_t want_ = (want);                                                                    \
        if (rc_ != want_)                                                                          \
            fail_msg("%s = %zd (%s), want %zd (%s)", #expr, rc_, wdsmc_strerror((int)rc_), want_,  \
                     wdsmc_strerror((int)want_));                                                  \
    } while (0)

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

/* Recompute the checksum of a CHECKSUM packet after patching it, the way a
 * sender would, so the decoder gets as far as the field under test. */
static void refresh_checksum(uint8_t *buf, size_t len)
{
    if (buf[OFF_SECTYPE] == WDSMC_SEC_CHECKSUM)
        put32(buf + OFF_CKSUM, wdsmc_mt_checksum(buf + 9, len - 9));
}

/* A writable copy of a golden vector with room to grow. */
struct copy {
    uint8_t b[512];
    size_t n;
};

static void copy_of(struct copy *c, const uint8_t *bytes, size_t len)
{
    assert_true(len <= sizeof c->b);
    memcpy(c->b, bytes, len);
    c->n = len;
}

static ssize_t decode_copy(struct copy *c, struct wdsmc_mt_pkt *p)
{
    refresh_checksum(c->b, c->n);
    return wdsmc_mt_decode(c->b, c->n, p);
}

static void decode_golden(const uint8_t *bytes, size_t len, struct wdsmc_mt_pkt *p)
{
    assert_rc(wdsmc_mt_decode(bytes, len, p), (ssize_t)len);
}

/* Builder for packets with long lists: a CHECKSUM security header and a
 * session header, then whatever the test appends. */
struct bld {
    uint8_t *b;
    size_t n;
};

static void bld_start(struct bld *x, uint8_t opcode)
{
    x->b = calloc(1, 70000);
    assert_non_null(x->b);
    x->n = 0;
    x->b[x->n++] = 'W';
    x->b[x->n++] = 'D';
    x->b[x->n++] = WDSMC_SEC_CHECKSUM;
    put16(x->b + x->n, 4);
    x->n += 2 + 4; /* SecurityDataLen, checksum filled in by bld_decode */
    put32(x->b + x->n, 1001);
    x->n += 4;
    x->b[x->n++] = opcode;
    put64(x->b + x->n, 1);
    x->n += 8;
}

static void bld_u8(struct bld *x, uint8_t v)
{
    x->b[x->n++] = v;
}

static void bld_u16(struct bld *x, uint16_t v)
{
    put16(x->b + x->n, v);
    x->n += 2;
}

static void bld_u32(struct bld *x, uint32_t v)
{
    put32(x->b + x->n, v);
    x->n += 4;
}

static ssize_t bld_decode(struct bld *x, struct wdsmc_mt_pkt *p)
{
    refresh_checksum(x->b, x->n);
    return wdsmc_mt_decode(x->b, x->n, p);
}

/* Storage for the encode-side lists rebuilt from a decoded packet's `raw`. */
struct enc_store {
    struct wdsmc_mt_kick_entry kick[WDSMC_MT_MAX_KICK_CLIENTS];
    struct wdsmc_range ranges[16];
    uint32_t ids[WDSMC_MT_MAX_DEMOTE_CLIENTS];
};

static void rebuild_ranges(struct wdsmc_mt_ranges *l, struct enc_store *s)
{
    assert_true(l->count <= 16);
    for (size_t i = 0; i < l->count; i++)
        s->ranges[i] = wdsmc_mt_range_get(l, i);
    l->ranges = s->ranges;
}

/* Turn a decoded packet into one the encoder takes: decoded lists borrow the
 * wire bytes, the encoder wants arrays of structs. */
static void rebuild_lists(struct wdsmc_mt_pkt *p, struct enc_store *s)
{
    switch (p->opcode) {
    case WDSMC_MT_NACK:
        rebuild_ranges(&p->u.nack.list, s);
        break;
    case WDSMC_MT_NCF:
        rebuild_ranges(&p->u.ncf, s);
        break;
    case WDSMC_MT_KICK:
        for (size_t i = 0; i < p->u.kick.count; i++)
            s->kick[i] = wdsmc_mt_kick_get(&p->u.kick, i);
        p->u.kick.entries = s->kick;
        break;
    case WDSMC_MT_DEMOTE:
        for (size_t i = 0; i < p->u.demote.count; i++)
            s->ids[i] = wdsmc_mt_demote_get(&p->u.demote, i);
        p->u.demote.client_ids = s->ids;
        break;
    default:
        break;
    }
}

static void assert_no_options(const struct wdsmc_mt_options *o)
{
    assert_false(o->has_cpu_util);
    assert_false(o->has_mem_util);
    assert_false(o->has_net_util);
    assert_false(o->has_fw_lead);
    assert_false(o->has_user_sid);
    assert_false(o->has_caps);
    assert_int_equal(o->unknown_count, 0);
}

/* The fields every golden vector shares. */
static void assert_headers(const struct wdsmc_mt_pkt *p, uint8_t opcode, uint64_t sender_time)
{
    assert_int_equal(p->sec_type, WDSMC_SEC_CHECKSUM);
    assert_int_equal(p->sec_len, 4);
    assert_non_null(p->sec_data);
    assert_int_equal(p->session_id, 1001);
    assert_int_equal(p->opcode, opcode);
    assert_int_equal(p->sender_time, sender_time);
}

/* ------------------------------------------------------------------------ */
/* Golden vectors, field by field                                            */
/* ------------------------------------------------------------------------ */

static void test_mt_decode_spm_golden_fields(void **state)
{
    struct wdsmc_mt_pkt p;
    (void)state;

    decode_golden(golden_mt_spm, golden_mt_spm_len, &p);
    assert_headers(&p, WDSMC_MT_SPM, 5000);
    assert_int_equal(wdsmc_mt_checksum(golden_mt_spm + 9, golden_mt_spm_len - 9), 0xfffffc57);
    assert_int_equal(p.u.spm.spm_seq, 3);
    assert_int_equal(p.u.spm.master_client_id, 42);
    assert_int_equal(p.u.spm.min_nack_backoff, 20);
    assert_int_equal(p.u.spm.max_nack_backoff, 200);
    assert_int_equal(p.u.spm.trail_seq, 100);
    assert_int_equal(p.u.spm.lead_seq, 164);
    assert_int_equal(p.u.spm.rtt, 15);
    assert_no_options(&p.opts);
}

static void test_mt_decode_join_golden_fields(void **state)
{
    static const uint8_t sid[] = {0x01, 0x01, 0, 0, 0, 0, 0, 5, 0x12, 0, 0, 0};
    static const uint8_t mac[] = {0x00, 0x15, 0x5d, 0x01, 0x02, 0x03};
    static const uint8_t ip[] = {192, 168, 1, 50};
    struct wdsmc_mt_pkt p;
    (void)state;

    decode_golden(golden_mt_join, golden_mt_join_len, &p);
    assert_headers(&p, WDSMC_MT_JOIN, 6000);
    assert_string_equal(p.u.join.client_name, "LAB-PC07");
    assert_int_equal(p.u.join.ip.len, 4);
    assert_memory_equal(p.u.join.ip.bytes, ip, 4);
    assert_memory_equal(p.u.join.mac, mac, 6);
    assert_true(p.opts.has_user_sid);
    assert_int_equal(p.opts.user_sid_len, sizeof sid);
    assert_memory_equal(p.opts.user_sid, sid, sizeof sid);
    assert_true(p.opts.has_caps);
    assert_int_equal(p.opts.caps_len, 1);
    assert_int_equal(p.opts.caps[0], WDSMC_MT_CAP_MULTISTREAM);
    assert_false(p.opts.has_cpu_util);
    assert_false(p.opts.has_fw_lead);
    assert_int_equal(p.opts.unknown_count, 0);
    /* Borrowed, not copied. */
    assert_ptr_equal(p.opts.caps, golden_mt_join + golden_mt_join_len - 1);
}

static void test_mt_decode_joinack_golden_fields(void **state)
{
    struct wdsmc_mt_pkt p;
    (void)state;

    decode_golden(golden_mt_joinack, golden_mt_joinack_len, &p);
    assert_headers(&p, WDSMC_MT_JOINACK, 6010);
    assert_int_equal(p.u.joinack.client_id, 42);
    assert_int_equal(p.u.joinack.min_nack_backoff, 20);
    assert_int_equal(p.u.joinack.max_nack_backoff, 200);
    assert_int_equal(p.u.joinack.rtt, 0);
    assert_int_equal(p.u.joinack.client_time, 6000);
    assert_no_options(&p.opts);
}

static void test_mt_decode_qcc_golden_fields(void **state)
{
    struct wdsmc_mt_pkt p;
    (void)state;

    decode_golden(golden_mt_qcc, golden_mt_qcc_len, &p);
    assert_headers(&p, WDSMC_MT_QCC, 7000);
    assert_int_equal(p.u.qcc.qcc_seq, 1);
    assert_int_equal(p.u.qcc.qcr_backoff, 500);
    assert_no_options(&p.opts);
}

static void test_mt_decode_qcr_joinack_form_golden_fields(void **state)
{
    struct wdsmc_mt_pkt p;
    (void)state;

    decode_golden(golden_mt_qcr_joinack, golden_mt_qcr_joinack_len, &p);
    assert_headers(&p, WDSMC_MT_QCR, 6020);
    assert_int_equal(p.u.qcr.client_id, 42);
    assert_int_equal(p.u.qcr.qcc_seq, 0);
    assert_int_equal(p.u.qcr.backoff, 0);
    assert_int_equal(p.u.qcr.server_time, 6010);
    assert_int_equal(p.u.qcr.hi_seq, 0);
    assert_int_equal(p.u.qcr.loss_rate, 0);
    assert_int_equal(p.u.qcr.app_len, 0);
    assert_int_equal(wdsmc_mt_qcr_form(&p.u.qcr), WDSMC_QCR_JOINACK);
    assert_no_options(&p.opts);
}

static void test_mt_decode_qcr_qcc_form_golden_fields(void **state)
{
    static const uint8_t progress[] = {0x00, 0x08, 0x04, 0x00, 0x00, 0x00, 0x0c, 0x32};
    struct wdsmc_mt_pkt p;
    (void)state;

    decode_golden(golden_mt_qcr_qcc, golden_mt_qcr_qcc_len, &p);
    assert_headers(&p, WDSMC_MT_QCR, 7100);
    assert_int_equal(p.u.qcr.client_id, 42);
    assert_int_equal(p.u.qcr.qcc_seq, 1);
    assert_int_equal(p.u.qcr.backoff, 37);
    assert_int_equal(p.u.qcr.server_time, 7000);
    assert_int_equal(p.u.qcr.hi_seq, 164);
    assert_int_equal(p.u.qcr.loss_rate, 25000000000000ULL); /* 0.25 % x 10^16 */
    assert_int_equal(p.u.qcr.app_len, sizeof progress);
    assert_memory_equal(p.u.qcr.app, progress, sizeof progress);
    assert_int_equal(wdsmc_mt_qcr_form(&p.u.qcr), WDSMC_QCR_QCC);
    assert_true(p.opts.has_cpu_util);
    assert_int_equal(p.opts.cpu_util, 23);
    assert_true(p.opts.has_mem_util);
    assert_int_equal(p.opts.mem_util, 45);
    assert_true(p.opts.has_net_util);
    assert_int_equal(p.opts.net_util, 5);
    assert_false(p.opts.has_fw_lead);
    assert_false(p.opts.has_user_sid);
    assert_false(p.opts.has_caps);
    assert_int_equal(p.opts.unknown_count, 0);
}

static void test_mt_decode_qcr_voluntary_form_golden_fields(void **state)
{
    static const uint8_t progress[] = {0x00, 0x08, 0x04, 0x00, 0x00, 0x00, 0x0d, 0x37};
    struct wdsmc_mt_pkt p;
    (void)state;

    decode_golden(golden_mt_qcr_voluntary, golden_mt_qcr_voluntary_len, &p);
    assert_headers(&p, WDSMC_MT_QCR, 8000);
    assert_int_equal(p.u.qcr.client_id, 42);
    assert_int_equal(p.u.qcr.qcc_seq, 0);
    assert_int_equal(p.u.qcr.backoff, 0);
    assert_int_equal(p.u.qcr.server_time, 0);
    assert_int_equal(p.u.qcr.hi_seq, 170);
    assert_int_equal(p.u.qcr.loss_rate, 0);
    assert_int_equal(p.u.qcr.app_len, sizeof progress);
    assert_memory_equal(p.u.qcr.app, progress, sizeof progress);
    assert_int_equal(wdsmc_mt_qcr_form(&p.u.qcr), WDSMC_QCR_VOLUNTARY);
    assert_no_options(&p.opts);
}

static void test_mt_decode_odata_golden_fields(void **state)
{
    static const uint8_t ma_data[] = {0x00, 0x15, 0x03, 0,    0,    0,    0,
                                      0,    0,    0,    0x07, 0x00, 0x08, 0xde,
                                      0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04};
    struct wdsmc_mt_pkt p;
    (void)state;

    decode_golden(golden_mt_odata, golden_mt_odata_len, &p);
    assert_headers(&p, WDSMC_MT_ODATA, 9000);
    assert_int_equal(p.u.data.client_id, 42);
    assert_int_equal(p.u.data.seq, 165);
    assert_int_equal(p.u.data.trail_seq, 100);
    assert_int_equal(p.u.data.data_len, sizeof ma_data);
    assert_memory_equal(p.u.data.data, ma_data, sizeof ma_data);
    assert_ptr_equal(p.u.data.data, golden_mt_odata + OFF_BODY + 22);
    assert_true(p.opts.has_fw_lead);
    assert_int_equal(p.opts.fw_lead_seq, 160);
    assert_false(p.opts.has_cpu_util);
    assert_false(p.opts.has_user_sid);
    assert_int_equal(p.opts.unknown_count, 0);
}

static void test_mt_decode_rdata_golden_fields(void **state)
{
    static const uint8_t ma_data[] = {0x00, 0x11, 0x03, 0,    0,    0,    0,    0,   0,
                                      0,    0,    0x00, 0x04, 0xca, 0xfe, 0xba, 0xbe};
    struct wdsmc_mt_pkt p;
    (void)state;

    decode_golden(golden_mt_rdata, golden_mt_rdata_len, &p);
    assert_headers(&p, WDSMC_MT_RDATA, 9100);
    assert_int_equal(p.u.data.client_id, 0);
    assert_int_equal(p.u.data.seq, 120);
    assert_int_equal(p.u.data.trail_seq, 100);
    assert_int_equal(p.u.data.data_len, sizeof ma_data);
    assert_memory_equal(p.u.data.data, ma_data, sizeof ma_data);
    assert_no_options(&p.opts);
}

static void test_mt_decode_ack_golden_fields(void **state)
{
    struct wdsmc_mt_pkt p;
    (void)state;

    decode_golden(golden_mt_ack, golden_mt_ack_len, &p);
    assert_headers(&p, WDSMC_MT_ACK, 9050);
    assert_int_equal(p.u.ack.client_id, 42);
    assert_int_equal(p.u.ack.odata_seq, 165);
    assert_int_equal(p.u.ack.server_time, 9000);
    assert_int_equal(p.u.ack.hi_seq, 165);
    assert_int_equal(p.u.ack.loss_rate, 0);
    assert_no_options(&p.opts);
}

static void test_mt_decode_nack_golden_fields(void **state)
{
    struct wdsmc_mt_pkt p;
    struct wdsmc_range r;
    (void)state;

    decode_golden(golden_mt_nack, golden_mt_nack_len, &p);
    assert_headers(&p, WDSMC_MT_NACK, 9200);
    assert_int_equal(p.u.nack.client_id, 43);
    assert_int_equal(p.u.nack.hi_seq, 170);
    assert_int_equal(p.u.nack.loss_rate, 500000000000000ULL); /* 5 % x 10^16 */
    assert_int_equal(p.u.nack.list.count, 2);
    assert_null(p.u.nack.list.ranges);
    r = wdsmc_mt_range_get(&p.u.nack.list, 0);
    assert_int_equal(r.start, 121);
    assert_int_equal(r.end, 123);
    r = wdsmc_mt_range_get(&p.u.nack.list, 1);
    assert_int_equal(r.start, 150);
    assert_int_equal(r.end, 150);
    assert_no_options(&p.opts);
}

static void test_mt_decode_ncf_golden_fields(void **state)
{
    struct wdsmc_mt_pkt p;
    struct wdsmc_range r;
    (void)state;

    decode_golden(golden_mt_ncf, golden_mt_ncf_len, &p);
    assert_headers(&p, WDSMC_MT_NCF, 9210);
    assert_int_equal(p.u.ncf.count, 2);
    r = wdsmc_mt_range_get(&p.u.ncf, 0);
    assert_int_equal(r.start, 121);
    assert_int_equal(r.end, 123);
    r = wdsmc_mt_range_get(&p.u.ncf, 1);
    assert_int_equal(r.start, 150);
    assert_int_equal(r.end, 150);
    assert_no_options(&p.opts);
}

static void test_mt_decode_leave_golden_fields(void **state)
{
    struct wdsmc_mt_pkt p;
    (void)state;

    decode_golden(golden_mt_leave, golden_mt_leave_len, &p);
    assert_headers(&p, WDSMC_MT_LEAVE, 9900);
    assert_int_equal(p.u.leave.client_id, 43);
    assert_int_equal(p.u.leave.reason, WDSMC_LEAVE_CANCELLED);
    assert_no_options(&p.opts);
}

static void test_mt_decode_poll_golden_fields(void **state)
{
    static const uint8_t srvcir[] = {0x00, 0x03, 0x01};
    struct wdsmc_mt_pkt p;
    (void)state;

    decode_golden(golden_mt_poll, golden_mt_poll_len, &p);
    assert_headers(&p, WDSMC_MT_POLL, 10000);
    assert_int_equal(p.u.poll.poll_seq, 1);
    assert_int_equal(p.u.poll.backoff, 1000);
    assert_int_equal(p.u.poll.app_len, 3);
    assert_memory_equal(p.u.poll.app, srvcir, 3);
    assert_no_options(&p.opts);
}

static void test_mt_decode_pollack_golden_fields(void **state)
{
    static const uint8_t cntcir[] = {0x00, 0x1a, 0x02, 0x50, 0, 0, 0, 0x1e, 0x00,
                                     0x01, 0,    0,    0,    0, 0, 0, 0,    0x03,
                                     0,    0,    0,    0,    0, 0, 0, 0x05};
    struct wdsmc_mt_pkt p;
    (void)state;

    decode_golden(golden_mt_pollack, golden_mt_pollack_len, &p);
    assert_headers(&p, WDSMC_MT_POLLACK, 10100);
    assert_int_equal(p.u.pollack.client_id, 42);
    assert_int_equal(p.u.pollack.poll_seq, 1);
    assert_int_equal(p.u.pollack.app_len, sizeof cntcir);
    assert_memory_equal(p.u.pollack.app, cntcir, sizeof cntcir);
    assert_no_options(&p.opts);
}

static void test_mt_decode_kick_golden_fields(void **state)
{
    struct wdsmc_mt_pkt p;
    struct wdsmc_mt_kick_entry e;
    (void)state;

    decode_golden(golden_mt_kick, golden_mt_kick_len, &p);
    assert_headers(&p, WDSMC_MT_KICK, 11000);
    assert_int_equal(p.u.kick.count, 2);
    assert_null(p.u.kick.entries);
    e = wdsmc_mt_kick_get(&p.u.kick, 0);
    assert_int_equal(e.client_id, 43);
    assert_int_equal(e.reason, WDSMC_KICK_FALLBACK);
    e = wdsmc_mt_kick_get(&p.u.kick, 1);
    assert_int_equal(e.client_id, 44);
    assert_int_equal(e.reason, WDSMC_KICK_FAIL);
    assert_no_options(&p.opts);
}

static void test_mt_decode_demote_golden_fields(void **state)
{
    static const uint8_t maddr[] = {239, 0, 0, 2};
    static const uint8_t uaddr[] = {10, 0, 0, 1};
    struct wdsmc_mt_pkt p;
    (void)state;

    decode_golden(golden_mt_demote, golden_mt_demote_len, &p);
    assert_headers(&p, WDSMC_MT_DEMOTE, 12000);
    assert_int_equal(p.u.demote.lower_session_id, 1002);
    assert_int_equal(p.u.demote.maddr.len, 4);
    assert_memory_equal(p.u.demote.maddr.bytes, maddr, 4);
    assert_int_equal(p.u.demote.mport, 64001);
    assert_int_equal(p.u.demote.uaddr.len, 4);
    assert_memory_equal(p.u.demote.uaddr.bytes, uaddr, 4);
    assert_int_equal(p.u.demote.uport, 64001);
    assert_int_equal(p.u.demote.count, 2);
    assert_int_equal(wdsmc_mt_demote_get(&p.u.demote, 0), 43);
    assert_int_equal(wdsmc_mt_demote_get(&p.u.demote, 1), 44);
    assert_no_options(&p.opts);
}

static void test_mt_decode_secnone_golden_fields(void **state)
{
    struct wdsmc_mt_pkt p;
    (void)state;

    decode_golden(golden_mt_leave_secnone, golden_mt_leave_secnone_len, &p);
    assert_int_equal(p.sec_type, WDSMC_SEC_NONE);
    assert_int_equal(p.sec_len, 0);
    assert_int_equal(p.session_id, 1001);
    assert_int_equal(p.opcode, WDSMC_MT_LEAVE);
    assert_int_equal(p.sender_time, 9950);
    assert_int_equal(p.u.leave.client_id, 44);
    assert_int_equal(p.u.leave.reason, WDSMC_LEAVE_COMPLETE);
    assert_no_options(&p.opts);
}

static void test_mt_decode_unknown_option_skipped(void **state)
{
    struct wdsmc_mt_pkt p;
    (void)state;

    decode_golden(golden_mt_ack_unknown_opt, golden_mt_ack_unknown_opt_len, &p);
    assert_headers(&p, WDSMC_MT_ACK, 9050);
    assert_int_equal(p.u.ack.client_id, 42);
    assert_int_equal(p.u.ack.odata_seq, 165);
    assert_int_equal(p.u.ack.server_time, 9000);
    assert_int_equal(p.u.ack.hi_seq, 165);
    assert_int_equal(p.u.ack.loss_rate, 0);
    assert_int_equal(p.opts.unknown_count, 1);
    assert_false(p.opts.has_cpu_util);
    assert_false(p.opts.has_fw_lead);
    assert_false(p.opts.has_user_sid);
    assert_false(p.opts.has_caps);
}

/* ------------------------------------------------------------------------ */
/* Golden vectors, all at once                                               */
/* ------------------------------------------------------------------------ */

static void test_mt_golden_table_covers_every_opcode(void **state)
{
    bool seen[16] = {false};
    (void)state;

    assert_int_equal(golden_mt_count, 19);
    for (size_t i = 0; i < golden_mt_count; i++) {
        assert_int_equal(golden_mt[i].family, GOLDEN_MT);
        seen[golden_mt[i].bytes[OFF_OPCODE] & 15] = true;
    }
    for (uint8_t op = WDSMC_MT_SPM; op <= WDSMC_MT_DEMOTE; op++)
        assert_true(seen[op]);
}

/* The vector that skips an unknown option re-encodes without it. */
static void expected_reencoding(const struct golden *g, const uint8_t **bytes, size_t *len)
{
    *bytes = g->bytes;
    *len = g->len;
    if (g->bytes == golden_mt_ack_unknown_opt) {
        *bytes = golden_mt_ack;
        *len = golden_mt_ack_len;
    }
}

static void test_mt_golden_reencodes_to_same_bytes(void **state)
{
    static struct enc_store store;
    (void)state;

    for (size_t i = 0; i < golden_mt_count; i++) {
        const struct golden *g = &golden_mt[i];
        struct wdsmc_mt_pkt p;
        uint8_t out[512];
        const uint8_t *want;
        size_t want_len;

        decode_golden(g->bytes, g->len, &p);
        rebuild_lists(&p, &store);
        expected_reencoding(g, &want, &want_len);
        assert_rc(wdsmc_mt_encode(&p, out, sizeof out), (ssize_t)want_len);
        if (memcmp(out, want, want_len) != 0)
            fail_msg("%s re-encodes to different bytes", g->name);
    }
}

static void test_mt_golden_every_truncation_rejected(void **state)
{
    (void)state;

    for (size_t i = 0; i < golden_mt_count; i++) {
        const struct golden *g = &golden_mt[i];
        for (size_t n = 0; n < g->len; n++) {
            struct wdsmc_mt_pkt p;
            /* A heap copy of exactly n bytes, so ASan catches any read past
             * the end the length check would have missed. */
            uint8_t *cut = malloc(n ? n : 1);
            assert_non_null(cut);
            memcpy(cut, g->bytes, n);
            ssize_t rc = wdsmc_mt_decode(cut, n, &p);
            free(cut);
            if (rc >= 0)
                fail_msg("%s truncated to %zu bytes decoded (%zd)", g->name, n, rc);
        }
    }
}

static void test_mt_golden_every_bit_flip_rejected(void **state)
{
    (void)state;

    for (size_t i = 0; i < golden_mt_count; i++) {
        const struct golden *g = &golden_mt[i];
        struct copy c;

        if (g->bytes[OFF_SECTYPE] != WDSMC_SEC_CHECKSUM)
            continue;
        for (size_t bit = 0; bit < g->len * 8; bit++) {
            struct wdsmc_mt_pkt p;
            copy_of(&c, g->bytes, g->len);
            c.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            /* No refresh: the damage is what is being tested. */
            ssize_t rc = wdsmc_mt_decode(c.b, c.n, &p);
            if (rc >= 0)
                fail_msg("%s with bit %zu flipped decoded", g->name, bit);
            /* The checksum field and everything it covers. */
            if (bit / 8 >= OFF_CKSUM && rc != -WDSMC_ECHECKSUM)
                fail_msg("%s with bit %zu flipped: %s, want checksum error", g->name, bit,
                         wdsmc_strerror((int)rc));
        }
    }
}

static void test_mt_encode_enobufs_for_every_short_cap(void **state)
{
    static struct enc_store store;
    (void)state;

    for (size_t i = 0; i < golden_mt_count; i++) {
        const struct golden *g = &golden_mt[i];
        struct wdsmc_mt_pkt p;
        const uint8_t *want;
        size_t want_len;

        decode_golden(g->bytes, g->len, &p);
        rebuild_lists(&p, &store);
        expected_reencoding(g, &want, &want_len);
        for (size_t cap = 0; cap < want_len; cap++) {
            /* Exactly cap bytes on the heap: ASan catches any overrun. */
            uint8_t *out = malloc(cap ? cap : 1);
            assert_non_null(out);
            ssize_t rc = wdsmc_mt_encode(&p, cap ? out : NULL, cap);
            free(out);
            if (rc != -ENOBUFS)
                fail_msg("%s into %zu bytes: %zd, want -ENOBUFS", g->name, cap, rc);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Framing and security header                                               */
/* ------------------------------------------------------------------------ */

static void test_mt_trailing_garbage_rejected(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    copy_of(&c, golden_mt_spm, golden_mt_spm_len);
    c.b[c.n++] = 0x5a;
    assert_rc(decode_copy(&c, &p), -WDSMC_ETRAILING);

    /* Without a checksum there is nothing to refresh. */
    copy_of(&c, golden_mt_leave_secnone, golden_mt_leave_secnone_len);
    c.b[c.n++] = 0x00;
    assert_rc(wdsmc_mt_decode(c.b, c.n, &p), -WDSMC_ETRAILING);
}

static void test_mt_trailing_garbage_without_refresh_is_checksum_error(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    copy_of(&c, golden_mt_spm, golden_mt_spm_len);
    c.b[c.n++] = 0x5a;
    assert_rc(wdsmc_mt_decode(c.b, c.n, &p), -WDSMC_ECHECKSUM);
}

static void test_mt_bad_magic_rejected(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    copy_of(&c, golden_mt_spm, golden_mt_spm_len);
    c.b[0] = 'w';
    assert_rc(decode_copy(&c, &p), -WDSMC_EMAGIC);
    copy_of(&c, golden_mt_spm, golden_mt_spm_len);
    c.b[1] = 'X';
    assert_rc(decode_copy(&c, &p), -WDSMC_EMAGIC);
    /* A lone 'W' is cut short before it can be wrong. */
    assert_rc(wdsmc_mt_decode(golden_mt_spm, 1, &p), -WDSMC_ETRUNC);
}

static void test_mt_unknown_opcode_rejected(void **state)
{
    static const uint8_t bad[] = {0x00, 0x10, 0x7f, 0xff};
    (void)state;

    for (size_t i = 0; i < sizeof bad; i++) {
        struct wdsmc_mt_pkt p;
        struct copy c;
        copy_of(&c, golden_mt_spm, golden_mt_spm_len);
        c.b[OFF_OPCODE] = bad[i];
        assert_rc(decode_copy(&c, &p), -WDSMC_EOPCODE);
    }
}

static void test_mt_hash_header_parsed_then_unsupported(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    /* Same bytes as golden SPM; the 4 "checksum" bytes now pose as an HMAC. */
    copy_of(&c, golden_mt_spm, golden_mt_spm_len);
    c.b[OFF_SECTYPE] = WDSMC_SEC_HASH;
    assert_rc(wdsmc_mt_decode(c.b, c.n, &p), -WDSMC_ESECUNSUPP);
    assert_int_equal(p.sec_type, WDSMC_SEC_HASH);
    assert_int_equal(p.sec_len, 4);
    assert_ptr_equal(p.sec_data, c.b + OFF_CKSUM);
    assert_int_equal(p.opcode, WDSMC_MT_SPM);
    assert_int_equal(p.u.spm.spm_seq, 3);
    assert_int_equal(p.u.spm.rtt, 15);
}

static void test_mt_sign_header_parsed_then_unsupported(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    copy_of(&c, golden_mt_kick, golden_mt_kick_len);
    c.b[OFF_SECTYPE] = WDSMC_SEC_SIGN;
    assert_rc(wdsmc_mt_decode(c.b, c.n, &p), -WDSMC_ESECUNSUPP);
    assert_int_equal(p.u.kick.count, 2);
    assert_int_equal(wdsmc_mt_kick_get(&p.u.kick, 1).client_id, 44);
}

static void test_mt_hash_packet_still_checked_for_malformation(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    /* A malformed body is reported as such even when the security data could
     * not be verified anyway. */
    copy_of(&c, golden_mt_spm, golden_mt_spm_len);
    c.b[OFF_SECTYPE] = WDSMC_SEC_HASH;
    c.b[c.n++] = 0;
    assert_rc(wdsmc_mt_decode(c.b, c.n, &p), -WDSMC_ETRAILING);
}

static void test_mt_unknown_sec_type_rejected(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    copy_of(&c, golden_mt_spm, golden_mt_spm_len);
    c.b[OFF_SECTYPE] = 9;
    assert_rc(wdsmc_mt_decode(c.b, c.n, &p), -WDSMC_ESECTYPE);
    c.b[OFF_SECTYPE] = 4;
    assert_rc(wdsmc_mt_decode(c.b, c.n, &p), -WDSMC_ESECTYPE);
}

static void test_mt_sec_len_that_does_not_fit_type_rejected(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    /* CHECKSUM with SecurityDataLen 3 */
    copy_of(&c, golden_mt_spm, golden_mt_spm_len);
    put16(c.b + OFF_SECLEN, 3);
    assert_rc(wdsmc_mt_decode(c.b, c.n, &p), -WDSMC_ESECTYPE);
    put16(c.b + OFF_SECLEN, 5);
    assert_rc(wdsmc_mt_decode(c.b, c.n, &p), -WDSMC_ESECTYPE);

    /* NONE with a SecurityDataLen */
    copy_of(&c, golden_mt_leave_secnone, golden_mt_leave_secnone_len);
    put16(c.b + OFF_SECLEN, 1);
    assert_rc(wdsmc_mt_decode(c.b, c.n, &p), -WDSMC_ESECTYPE);

    /* HASH with none, or more than we accept */
    copy_of(&c, golden_mt_spm, golden_mt_spm_len);
    c.b[OFF_SECTYPE] = WDSMC_SEC_HASH;
    put16(c.b + OFF_SECLEN, 0);
    assert_rc(wdsmc_mt_decode(c.b, c.n, &p), -WDSMC_ESECTYPE);
    put16(c.b + OFF_SECLEN, WDSMC_MT_SECDATA_MAX + 1);
    assert_rc(wdsmc_mt_decode(c.b, c.n, &p), -WDSMC_ESECTYPE);
}

static void test_mt_datagram_over_65507_bytes_too_big(void **state)
{
    struct wdsmc_mt_pkt p;
    uint8_t *big = calloc(1, WDSMC_MAX_DATAGRAM + 1);
    (void)state;

    assert_non_null(big);
    memcpy(big, golden_mt_spm, golden_mt_spm_len);
    assert_rc(wdsmc_mt_decode(big, WDSMC_MAX_DATAGRAM + 1, &p), -WDSMC_ETOOBIG);
    /* One byte less is judged on its contents instead: the zero padding
     * leaves the checksum intact, so it is only trailing bytes. */
    assert_rc(wdsmc_mt_decode(big, WDSMC_MAX_DATAGRAM, &p), -WDSMC_ETRAILING);
    free(big);
}

static void test_mt_checksum_is_inverted_wrapping_sum(void **state)
{
    static const uint8_t bytes[] = {0x01, 0x02, 0xff};
    /* 16843010 bytes of 0xff sum to 2^32 + 254, which wraps to 254. */
    const size_t n = 16843010;
    uint8_t *ones = malloc(n);
    (void)state;

    assert_int_equal(wdsmc_mt_checksum(NULL, 0), 0xffffffffu);
    assert_int_equal(wdsmc_mt_checksum(bytes, 3), ~(uint32_t)0x102);
    assert_non_null(ones);
    memset(ones, 0xff, n);
    assert_int_equal(wdsmc_mt_checksum(ones, n), ~(uint32_t)254);
    free(ones);
}

/* ------------------------------------------------------------------------ */
/* Packet-specific fields                                                    */
/* ------------------------------------------------------------------------ */

/* JOIN offsets from the start of the datagram. */
#define JOIN_NAME    OFF_BODY
#define JOIN_IPLEN   (OFF_BODY + 32)
#define JOIN_MACLEN  (JOIN_IPLEN + 1 + 4)
#define JOIN_OPTIONS (JOIN_MACLEN + 1 + 6)

static void test_mt_join_ip_addr_len_5_rejected(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    copy_of(&c, golden_mt_join, golden_mt_join_len);
    c.b[JOIN_IPLEN] = 5;
    assert_rc(decode_copy(&c, &p), -WDSMC_EADDRLEN);
    c.b[JOIN_IPLEN] = 0;
    assert_rc(decode_copy(&c, &p), -WDSMC_EADDRLEN);
}

static void test_mt_join_mac_addr_len_not_6_rejected(void **state)
{
    static const uint8_t bad[] = {0, 5, 7, 16};
    (void)state;

    for (size_t i = 0; i < sizeof bad; i++) {
        struct wdsmc_mt_pkt p;
        struct copy c;
        copy_of(&c, golden_mt_join, golden_mt_join_len);
        c.b[JOIN_MACLEN] = bad[i];
        assert_rc(decode_copy(&c, &p), -WDSMC_EADDRLEN);
    }
}

static void test_mt_join_client_name_without_nul_rejected(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    copy_of(&c, golden_mt_join, golden_mt_join_len);
    for (size_t i = 0; i < 16; i++) {
        c.b[JOIN_NAME + 2 * i] = 'A';
        c.b[JOIN_NAME + 2 * i + 1] = 0;
    }
    assert_rc(decode_copy(&c, &p), -WDSMC_ESTRING);

    /* A zero byte that is half of a unit is not a NUL. */
    c.b[JOIN_NAME + 31] = 0;
    c.b[JOIN_NAME + 30] = 0x01;
    assert_rc(decode_copy(&c, &p), -WDSMC_ESTRING);
}

static void test_mt_join_client_name_of_15_chars_decodes(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    copy_of(&c, golden_mt_join, golden_mt_join_len);
    for (size_t i = 0; i < 15; i++) {
        c.b[JOIN_NAME + 2 * i] = (uint8_t)('a' + i);
        c.b[JOIN_NAME + 2 * i + 1] = 0;
    }
    c.b[JOIN_NAME + 30] = 0;
    c.b[JOIN_NAME + 31] = 0;
    assert_rc(decode_copy(&c, &p), (ssize_t)c.n);
    assert_string_equal(p.u.join.client_name, "abcdefghijklmno");
}

static void test_mt_join_client_name_bytes_after_nul_ignored(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    copy_of(&c, golden_mt_join, golden_mt_join_len);
    /* "LAB-PC07" ends at unit 8; fill the padding with junk. */
    for (size_t i = 9 * 2; i < 32; i++)
        c.b[JOIN_NAME + i] = 0xee;
    assert_rc(decode_copy(&c, &p), (ssize_t)c.n);
    assert_string_equal(p.u.join.client_name, "LAB-PC07");
}

static void test_mt_join_client_name_non_ascii_decodes(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    copy_of(&c, golden_mt_join, golden_mt_join_len);
    /* "PC-é" then U+1F600 as a surrogate pair, then the NUL */
    static const uint8_t name[] = {'P',  0,    'C',  0,    '-',  0, 0xe9,
                                   0x00, 0x3d, 0xd8, 0x00, 0xde, 0, 0};
    memset(c.b + JOIN_NAME, 0, 32);
    memcpy(c.b + JOIN_NAME, name, sizeof name);
    assert_rc(decode_copy(&c, &p), (ssize_t)c.n);
    assert_string_equal(p.u.join.client_name, "PC-\xc3\xa9\xf0\x9f\x98\x80");

    /* A lone high surrogate is not a name. */
    c.b[JOIN_NAME + 10] = 0;
    c.b[JOIN_NAME + 11] = 0;
    assert_rc(decode_copy(&c, &p), -WDSMC_ESTRING);
}

static void test_mt_join_ipv6_round_trips(void **state)
{
    struct wdsmc_mt_pkt p, q;
    uint8_t out[256];
    ssize_t n;
    (void)state;

    decode_golden(golden_mt_join, golden_mt_join_len, &p);
    p.u.join.ip.len = 16;
    for (uint8_t i = 0; i < 16; i++)
        p.u.join.ip.bytes[i] = (uint8_t)(0xf0 + i);
    n = wdsmc_mt_encode(&p, out, sizeof out);
    assert_rc(n, (ssize_t)golden_mt_join_len + 12);
    assert_rc(wdsmc_mt_decode(out, (size_t)n, &q), n);
    assert_int_equal(q.u.join.ip.len, 16);
    assert_memory_equal(q.u.join.ip.bytes, p.u.join.ip.bytes, 16);
    assert_string_equal(q.u.join.client_name, "LAB-PC07");
}

/* NACK offsets */
#define NACK_COUNT  (OFF_BODY + 20)
#define NACK_RANGES (NACK_COUNT + 2)

static void test_mt_nack_range_start_after_end_rejected(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    copy_of(&c, golden_mt_nack, golden_mt_nack_len);
    put64(c.b + NACK_RANGES + 16, 151); /* [1] = 151..150 */
    assert_rc(decode_copy(&c, &p), -WDSMC_ERANGE);
}

static void test_mt_ncf_range_start_after_end_rejected(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    copy_of(&c, golden_mt_ncf, golden_mt_ncf_len);
    put64(c.b + OFF_BODY + 2 + 8, 120); /* [0] = 121..120 */
    assert_rc(decode_copy(&c, &p), -WDSMC_ERANGE);
}

static void test_mt_range_count_past_end_rejected(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    /* Three ranges need 48 bytes; 34 remain (32 of ranges, 2 of options). */
    copy_of(&c, golden_mt_nack, golden_mt_nack_len);
    put16(c.b + NACK_COUNT, 3);
    assert_rc(decode_copy(&c, &p), -WDSMC_ECOUNT);
    put16(c.b + NACK_COUNT, 0xffff);
    assert_rc(decode_copy(&c, &p), -WDSMC_ECOUNT);

    copy_of(&c, golden_mt_ncf, golden_mt_ncf_len);
    put16(c.b + OFF_BODY, 3);
    assert_rc(decode_copy(&c, &p), -WDSMC_ECOUNT);
}

static void test_mt_range_count_short_leaves_trailing_bytes(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    /* One range claimed, two present: the second range's first two bytes
     * read as OptionsCount 0 and the rest is left over. */
    copy_of(&c, golden_mt_nack, golden_mt_nack_len);
    put16(c.b + NACK_COUNT, 1);
    assert_rc(decode_copy(&c, &p), -WDSMC_ETRAILING);
}

static void test_mt_kick_201_clients_too_many(void **state)
{
    struct wdsmc_mt_pkt p;
    struct bld x;
    (void)state;

    bld_start(&x, WDSMC_MT_KICK);
    bld_u16(&x, 201);
    for (uint32_t i = 0; i < 201; i++) {
        bld_u32(&x, 100 + i);
        bld_u8(&x, WDSMC_KICK_FAIL);
    }
    bld_u16(&x, 0);
    assert_rc(bld_decode(&x, &p), -WDSMC_ETOOMANY);
    free(x.b);
}

static void test_mt_kick_200_clients_accepted(void **state)
{
    struct wdsmc_mt_pkt p;
    struct bld x;
    (void)state;

    bld_start(&x, WDSMC_MT_KICK);
    bld_u16(&x, 200);
    for (uint32_t i = 0; i < 200; i++) {
        bld_u32(&x, 100 + i);
        bld_u8(&x, (uint8_t)(i % 3));
    }
    bld_u16(&x, 0);
    assert_rc(bld_decode(&x, &p), (ssize_t)x.n);
    assert_int_equal(p.u.kick.count, 200);
    assert_int_equal(wdsmc_mt_kick_get(&p.u.kick, 199).client_id, 299);
    assert_int_equal(wdsmc_mt_kick_get(&p.u.kick, 199).reason, 199 % 3);
    free(x.b);
}

static void test_mt_kick_count_past_end_rejected(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    copy_of(&c, golden_mt_kick, golden_mt_kick_len);
    put16(c.b + OFF_BODY, 3);
    assert_rc(decode_copy(&c, &p), -WDSMC_ECOUNT);
}

static void test_mt_demote_251_clients_too_many(void **state)
{
    struct wdsmc_mt_pkt p;
    struct bld x;
    (void)state;

    for (uint16_t count = 250; count <= 251; count++) {
        bld_start(&x, WDSMC_MT_DEMOTE);
        bld_u32(&x, 1002);
        bld_u8(&x, 4);
        bld_u32(&x, 0xef000002);
        bld_u16(&x, 64001);
        bld_u8(&x, 4);
        bld_u32(&x, 0x0a000001);
        bld_u16(&x, 64001);
        bld_u16(&x, count);
        for (uint32_t i = 0; i < count; i++)
            bld_u32(&x, 100 + i);
        bld_u16(&x, 0);
        if (count == 250) {
            assert_rc(bld_decode(&x, &p), (ssize_t)x.n);
            assert_int_equal(wdsmc_mt_demote_get(&p.u.demote, 249), 349);
        } else {
            assert_rc(bld_decode(&x, &p), -WDSMC_ETOOMANY);
        }
        free(x.b);
    }
}

static void test_mt_demote_count_past_end_rejected(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    copy_of(&c, golden_mt_demote, golden_mt_demote_len);
    put16(c.b + golden_mt_demote_len - 2 - 8 - 2, 3); /* ClientCount */
    assert_rc(decode_copy(&c, &p), -WDSMC_ECOUNT);
}

static void test_mt_demote_addr_len_5_rejected(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    copy_of(&c, golden_mt_demote, golden_mt_demote_len);
    c.b[OFF_BODY + 4] = 5; /* MAddrLen */
    assert_rc(decode_copy(&c, &p), -WDSMC_EADDRLEN);
    copy_of(&c, golden_mt_demote, golden_mt_demote_len);
    c.b[OFF_BODY + 4 + 1 + 4 + 2] = 5; /* UAddrLen */
    assert_rc(decode_copy(&c, &p), -WDSMC_EADDRLEN);
}

static void test_mt_app_data_len_past_end_rejected(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    /* QCR AppDataLen: 8 bytes of PROGRESS + 17 of options remain. */
    copy_of(&c, golden_mt_qcr_qcc, golden_mt_qcr_qcc_len);
    put16(c.b + OFF_BODY + 38, 26);
    assert_rc(decode_copy(&c, &p), -WDSMC_ECOUNT);

    copy_of(&c, golden_mt_poll, golden_mt_poll_len);
    put16(c.b + OFF_BODY + 10, 6);
    assert_rc(decode_copy(&c, &p), -WDSMC_ECOUNT);

    copy_of(&c, golden_mt_pollack, golden_mt_pollack_len);
    put16(c.b + OFF_BODY + 12, 0xffff);
    assert_rc(decode_copy(&c, &p), -WDSMC_ECOUNT);
}

static void test_mt_data_len_past_end_rejected(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    copy_of(&c, golden_mt_odata, golden_mt_odata_len);
    put16(c.b + OFF_BODY + 20, 36); /* 21 of data + 14 of options remain */
    assert_rc(decode_copy(&c, &p), -WDSMC_ECOUNT);

    copy_of(&c, golden_mt_rdata, golden_mt_rdata_len);
    put16(c.b + OFF_BODY + 20, 20);
    assert_rc(decode_copy(&c, &p), -WDSMC_ECOUNT);
}

static void test_mt_leave_unknown_reason_kept(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    copy_of(&c, golden_mt_leave, golden_mt_leave_len);
    c.b[OFF_BODY + 4] = 0x77;
    assert_rc(decode_copy(&c, &p), (ssize_t)c.n);
    assert_int_equal(p.u.leave.reason, 0x77);
}

/* ------------------------------------------------------------------------ */
/* Extended Options                                                          */
/* ------------------------------------------------------------------------ */

/* QCR (QCC form) option offsets: OptionsCount, then CPU, MEM, NET at 5 bytes
 * each. */
#define QCR_OPTS (OFF_BODY + 40 + 8)
#define QCR_OPT1 (QCR_OPTS + 2)
#define QCR_OPT2 (QCR_OPT1 + 5)

static void test_mt_duplicate_known_option_rejected(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    copy_of(&c, golden_mt_qcr_qcc, golden_mt_qcr_qcc_len);
    put16(c.b + QCR_OPT2, WDSMC_MT_OPT_CPU_UTIL); /* MEM_UTIL becomes a second CPU_UTIL */
    assert_rc(decode_copy(&c, &p), -WDSMC_EOPTION);

    copy_of(&c, golden_mt_join, golden_mt_join_len);
    put16(c.b + c.n - 5, WDSMC_MT_OPT_USER_SID); /* CAPABILITIES becomes a second SID */
    assert_rc(decode_copy(&c, &p), -WDSMC_EOPTION);

    copy_of(&c, golden_mt_join, golden_mt_join_len);
    put16(c.b + JOIN_OPTIONS + 2, WDSMC_MT_OPT_CAPABILITIES); /* the SID becomes CAPABILITIES */
    assert_rc(decode_copy(&c, &p), -WDSMC_EOPTION);
}

static void test_mt_duplicate_unknown_option_allowed(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    copy_of(&c, golden_mt_ack_unknown_opt, golden_mt_ack_unknown_opt_len);
    put16(c.b + c.n - 9, 2); /* OptionsCount */
    memcpy(c.b + c.n, c.b + c.n - 7, 7);
    c.n += 7;
    assert_rc(decode_copy(&c, &p), (ssize_t)c.n);
    assert_int_equal(p.opts.unknown_count, 2);
}

static void test_mt_known_option_wrong_length_rejected(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    /* CPU_UTIL of 2 bytes: turn the CPU option into id=CPU len=2 with value
     * borrowed from the next option's first byte, then fix the count. */
    copy_of(&c, golden_mt_qcr_qcc, golden_mt_qcr_qcc_len);
    put16(c.b + QCR_OPTS, 1);
    put16(c.b + QCR_OPT1 + 2, 2);
    c.n = QCR_OPT1 + 6;
    assert_rc(decode_copy(&c, &p), -WDSMC_EOPTION);

    /* CPU_UTIL of 0 bytes */
    copy_of(&c, golden_mt_qcr_qcc, golden_mt_qcr_qcc_len);
    put16(c.b + QCR_OPTS, 1);
    put16(c.b + QCR_OPT1 + 2, 0);
    c.n = QCR_OPT1 + 4;
    assert_rc(decode_copy(&c, &p), -WDSMC_EOPTION);

    /* FW_LEAD_SEQ_NO of 4 bytes */
    copy_of(&c, golden_mt_odata, golden_mt_odata_len);
    put16(c.b + c.n - 10, 4);
    c.n -= 4;
    assert_rc(decode_copy(&c, &p), -WDSMC_EOPTION);

    /* USER_SID of 0 bytes */
    copy_of(&c, golden_mt_join, golden_mt_join_len);
    put16(c.b + JOIN_OPTIONS, 1);
    put16(c.b + JOIN_OPTIONS + 4, 0);
    c.n = JOIN_OPTIONS + 6;
    assert_rc(decode_copy(&c, &p), -WDSMC_EOPTION);
}

static void test_mt_empty_capabilities_accepted(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    copy_of(&c, golden_mt_join, golden_mt_join_len);
    put16(c.b + c.n - 3, 0); /* CAPABILITIES OptionLen */
    c.n -= 1;
    assert_rc(decode_copy(&c, &p), (ssize_t)c.n);
    assert_true(p.opts.has_caps);
    assert_int_equal(p.opts.caps_len, 0);
}

static void test_mt_option_len_past_end_is_truncation(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    copy_of(&c, golden_mt_ack_unknown_opt, golden_mt_ack_unknown_opt_len);
    put16(c.b + c.n - 5, 4); /* OptionLen 4, 3 bytes left */
    assert_rc(decode_copy(&c, &p), -WDSMC_ETRUNC);

    /* More options counted than present */
    copy_of(&c, golden_mt_ack_unknown_opt, golden_mt_ack_unknown_opt_len);
    put16(c.b + c.n - 9, 2);
    assert_rc(decode_copy(&c, &p), -WDSMC_ETRUNC);
}

static void test_mt_unknown_option_between_known_ones_skipped(void **state)
{
    struct wdsmc_mt_pkt p;
    struct copy c;
    (void)state;

    /* MEM_UTIL's id becomes unknown 0x01ff; CPU and NET stay known. */
    copy_of(&c, golden_mt_qcr_qcc, golden_mt_qcr_qcc_len);
    put16(c.b + QCR_OPT2, 0x01ff);
    assert_rc(decode_copy(&c, &p), (ssize_t)c.n);
    assert_int_equal(p.opts.unknown_count, 1);
    assert_true(p.opts.has_cpu_util);
    assert_false(p.opts.has_mem_util);
    assert_true(p.opts.has_net_util);
    assert_int_equal(p.opts.net_util, 5);
}

/* ------------------------------------------------------------------------ */
/* Encoder                                                                   */
/* ------------------------------------------------------------------------ */

static void test_mt_encode_spm_from_scratch_matches_golden(void **state)
{
    struct wdsmc_mt_pkt p = {
            .sec_type = WDSMC_SEC_CHECKSUM,
            .sec_len = 99, /* ignored: derived from sec_type */
            .session_id = 1001,
            .opcode = WDSMC_MT_SPM,
            .sender_time = 5000,
            .u.spm = {.spm_seq = 3,
                      .master_client_id = 42,
                      .min_nack_backoff = 20,
                      .max_nack_backoff = 200,
                      .trail_seq = 100,
                      .lead_seq = 164,
                      .rtt = 15},
    };
    uint8_t out[128];
    (void)state;

    assert_rc(wdsmc_mt_encode(&p, out, sizeof out), (ssize_t)golden_mt_spm_len);
    assert_memory_equal(out, golden_mt_spm, golden_mt_spm_len);
}

static void test_mt_encode_nack_from_scratch_matches_golden(void **state)
{
    static const struct wdsmc_range ranges[] = {{121, 123}, {150, 150}};
    struct wdsmc_mt_pkt p = {
            .sec_type = WDSMC_SEC_CHECKSUM,
            .session_id = 1001,
            .opcode = WDSMC_MT_NACK,
            .sender_time = 9200,
            .u.nack = {.client_id = 43,
                       .hi_seq = 170,
                       .loss_rate = 500000000000000ULL,
                       .list = {.count = 2, .ranges = ranges}},
    };
    uint8_t out[128];
    (void)state;

    assert_rc(wdsmc_mt_encode(&p, out, sizeof out), (ssize_t)golden_mt_nack_len);
    assert_memory_equal(out, golden_mt_nack, golden_mt_nack_len);
}

static void test_mt_encode_rejects_16_char_client_name(void **state)
{
    struct wdsmc_mt_pkt p;
    uint8_t out[256];
    (void)state;

    decode_golden(golden_mt_join, golden_mt_join_len, &p);
    strcpy(p.u.join.client_name, "ABCDEFGHIJKLMNOP");
    assert_rc(wdsmc_mt_encode(&p, out, sizeof out), -EINVAL);
    /* 15 is the limit, and it fits. */
    strcpy(p.u.join.client_name, "ABCDEFGHIJKLMNO");
    assert_rc(wdsmc_mt_encode(&p, out, sizeof out), (ssize_t)golden_mt_join_len);
    /* 14 BMP characters plus one needing a surrogate pair is 16 units. */
    strcpy(p.u.join.client_name, "ABCDEFGHIJKLMN\xf0\x9f\x98\x80");
    assert_rc(wdsmc_mt_encode(&p, out, sizeof out), -EINVAL);
}

static void test_mt_encode_rejects_invalid_utf8_client_name(void **state)
{
    struct wdsmc_mt_pkt p;
    uint8_t out[256];
    (void)state;

    decode_golden(golden_mt_join, golden_mt_join_len, &p);
    strcpy(p.u.join.client_name, "PC\xc0\xaf");
    assert_rc(wdsmc_mt_encode(&p, out, sizeof out), -EINVAL);
    /* Not NUL-terminated within the array */
    memset(p.u.join.client_name, 'A', sizeof p.u.join.client_name);
    assert_rc(wdsmc_mt_encode(&p, out, sizeof out), -EINVAL);
}

static void test_mt_encode_rejects_kick_201_clients(void **state)
{
    static struct wdsmc_mt_kick_entry entries[201];
    struct wdsmc_mt_pkt p = {
            .sec_type = WDSMC_SEC_CHECKSUM,
            .opcode = WDSMC_MT_KICK,
            .u.kick = {.count = 201, .entries = entries},
    };
    static uint8_t out[4096];
    (void)state;

    assert_rc(wdsmc_mt_encode(&p, out, sizeof out), -EINVAL);
    p.u.kick.count = 200;
    assert_rc(wdsmc_mt_encode(&p, out, sizeof out), 9 + 13 + 2 + 200 * 5 + 2);
    /* A count without entries */
    p.u.kick.entries = NULL;
    assert_rc(wdsmc_mt_encode(&p, out, sizeof out), -EINVAL);
}

static void test_mt_encode_rejects_demote_251_clients(void **state)
{
    static uint32_t ids[251];
    struct wdsmc_mt_pkt p;
    static uint8_t out[4096];
    (void)state;

    decode_golden(golden_mt_demote, golden_mt_demote_len, &p);
    p.u.demote.client_ids = ids;
    p.u.demote.count = 251;
    assert_rc(wdsmc_mt_encode(&p, out, sizeof out), -EINVAL);
    p.u.demote.count = 250;
    assert_rc(wdsmc_mt_encode(&p, out, sizeof out), (ssize_t)golden_mt_demote_len + 248 * 4);
}

static void test_mt_encode_rejects_addr_len_5(void **state)
{
    struct wdsmc_mt_pkt p;
    static struct enc_store store;
    uint8_t out[256];
    (void)state;

    decode_golden(golden_mt_join, golden_mt_join_len, &p);
    p.u.join.ip.len = 5;
    assert_rc(wdsmc_mt_encode(&p, out, sizeof out), -EINVAL);

    decode_golden(golden_mt_demote, golden_mt_demote_len, &p);
    rebuild_lists(&p, &store);
    p.u.demote.maddr.len = 5;
    assert_rc(wdsmc_mt_encode(&p, out, sizeof out), -EINVAL);
    p.u.demote.maddr.len = 4;
    p.u.demote.uaddr.len = 5;
    assert_rc(wdsmc_mt_encode(&p, out, sizeof out), -EINVAL);
}

static void test_mt_encode_rejects_hash_and_sign_sec_types(void **state)
{
    struct wdsmc_mt_pkt p;
    uint8_t out[256];
    (void)state;

    decode_golden(golden_mt_spm, golden_mt_spm_len, &p);
    p.sec_type = WDSMC_SEC_HASH;
    assert_rc(wdsmc_mt_encode(&p, out, sizeof out), -EINVAL);
    p.sec_type = WDSMC_SEC_SIGN;
    assert_rc(wdsmc_mt_encode(&p, out, sizeof out), -EINVAL);
    p.sec_type = 9;
    assert_rc(wdsmc_mt_encode(&p, out, sizeof out), -EINVAL);
}

static void test_mt_encode_rejects_inconsistent_structs(void **state)
{
    struct wdsmc_mt_pkt p;
    uint8_t out[256];
    (void)state;

    decode_golden(golden_mt_spm, golden_mt_spm_len, &p);
    p.opcode = 0x10;
    assert_rc(wdsmc_mt_encode(&p, out, sizeof out), -EINVAL);

    decode_golden(golden_mt_qcr_qcc, golden_mt_qcr_qcc_len, &p);
    p.u.qcr.app = NULL;
    assert_rc(wdsmc_mt_encode(&p, out, sizeof out), -EINVAL);

    decode_golden(golden_mt_odata, golden_mt_odata_len, &p);
    p.u.data.data = NULL;
    assert_rc(wdsmc_mt_encode(&p, out, sizeof out), -EINVAL);

    decode_golden(golden_mt_join, golden_mt_join_len, &p);
    p.opts.user_sid_len = 0;
    assert_rc(wdsmc_mt_encode(&p, out, sizeof out), -EINVAL);

    /* Decoded lists borrow the wire; the encoder wants the arrays. */
    decode_golden(golden_mt_nack, golden_mt_nack_len, &p);
    assert_rc(wdsmc_mt_encode(&p, out, sizeof out), -EINVAL);
}

static void test_mt_encode_rejects_range_start_after_end(void **state)
{
    static const struct wdsmc_range ranges[] = {{5, 4}};
    struct wdsmc_mt_pkt p = {
            .sec_type = WDSMC_SEC_NONE,
            .opcode = WDSMC_MT_NCF,
            .u.ncf = {.count = 1, .ranges = ranges},
    };
    uint8_t out[256];
    (void)state;

    assert_rc(wdsmc_mt_encode(&p, out, sizeof out), -EINVAL);
}

static void test_mt_encode_secnone_has_no_security_data(void **state)
{
    struct wdsmc_mt_pkt p;
    uint8_t out[128];
    (void)state;

    decode_golden(golden_mt_leave_secnone, golden_mt_leave_secnone_len, &p);
    assert_rc(wdsmc_mt_encode(&p, out, sizeof out), (ssize_t)golden_mt_leave_secnone_len);
    assert_memory_equal(out, golden_mt_leave_secnone, golden_mt_leave_secnone_len);
}

static void test_mt_max_ranges_is_4091(void **state)
{
    (void)state;

    /* (65507 - 9 - 13 - 4 - 8 - 8 - 2 - 2) / 16 */
    assert_int_equal(wdsmc_mt_max_ranges(), 4091);
}

/* Decision 20. One more range than wdsmc_mt_max_ranges() makes a packet over
 * 65507 bytes, which the encoder refuses with -ENOBUFS even when the buffer
 * is bigger: it never emits a datagram every decoder rejects as too big. */
static void test_mt_max_size_nack_round_trips_and_one_more_is_enobufs(void **state)
{
    size_t max = wdsmc_mt_max_ranges();
    struct wdsmc_range *ranges = calloc(max + 1, sizeof *ranges);
    uint8_t *out = malloc(WDSMC_MAX_DATAGRAM + 100);
    struct wdsmc_mt_pkt p = {
            .sec_type = WDSMC_SEC_CHECKSUM,
            .session_id = 1001,
            .opcode = WDSMC_MT_NACK,
            .sender_time = 1,
            .u.nack = {.client_id = 7, .hi_seq = 1 << 20},
    };
    struct wdsmc_mt_pkt q;
    ssize_t n;
    (void)state;

    assert_non_null(ranges);
    assert_non_null(out);
    for (size_t i = 0; i <= max; i++)
        ranges[i] = (struct wdsmc_range){.start = 2 * i, .end = 2 * i + 1};
    p.u.nack.list.ranges = ranges;
    p.u.nack.list.count = (uint16_t)max;

    n = wdsmc_mt_encode(&p, out, WDSMC_MAX_DATAGRAM);
    assert_rc(n, (ssize_t)(46 + 16 * max));
    assert_true(n <= WDSMC_MAX_DATAGRAM);
    assert_rc(wdsmc_mt_decode(out, (size_t)n, &q), n);
    assert_int_equal(q.u.nack.list.count, max);
    for (size_t i = 0; i < max; i++) {
        struct wdsmc_range r = wdsmc_mt_range_get(&q.u.nack.list, i);
        assert_int_equal(r.start, ranges[i].start);
        assert_int_equal(r.end, ranges[i].end);
    }

    p.u.nack.list.count = (uint16_t)(max + 1);
    assert_rc(wdsmc_mt_encode(&p, out, WDSMC_MAX_DATAGRAM + 100), -ENOBUFS);

    /* Options eat into the budget too: the 5 spare bytes hold one CPU_UTIL
     * option exactly, but not an 8-byte one. */
    p.u.nack.list.count = (uint16_t)max;
    p.opts.has_cpu_util = true;
    assert_rc(wdsmc_mt_encode(&p, out, WDSMC_MAX_DATAGRAM + 100), WDSMC_MAX_DATAGRAM);
    p.opts.has_cpu_util = false;
    p.opts.has_fw_lead = true;
    assert_rc(wdsmc_mt_encode(&p, out, WDSMC_MAX_DATAGRAM + 100), -ENOBUFS);

    free(out);
    free(ranges);
}

/* ------------------------------------------------------------------------ */
/* Small accessors                                                           */
/* ------------------------------------------------------------------------ */

static void test_mt_qcr_form_from_seq_and_server_time(void **state)
{
    struct wdsmc_mt_qcr q = {0};
    (void)state;

    assert_int_equal(wdsmc_mt_qcr_form(&q), WDSMC_QCR_VOLUNTARY);
    q.server_time = 1;
    assert_int_equal(wdsmc_mt_qcr_form(&q), WDSMC_QCR_JOINACK);
    q.qcc_seq = 1;
    assert_int_equal(wdsmc_mt_qcr_form(&q), WDSMC_QCR_QCC);
    q.server_time = 0;
    assert_int_equal(wdsmc_mt_qcr_form(&q), WDSMC_QCR_QCC);
}

static void test_mt_op_name_names_every_opcode(void **state)
{
    (void)state;

    assert_string_equal(wdsmc_mt_op_name(WDSMC_MT_SPM), "SPM");
    assert_string_equal(wdsmc_mt_op_name(WDSMC_MT_JOIN), "JOIN");
    assert_string_equal(wdsmc_mt_op_name(WDSMC_MT_JOINACK), "JOINACK");
    assert_string_equal(wdsmc_mt_op_name(WDSMC_MT_QCC), "QCC");
    assert_string_equal(wdsmc_mt_op_name(WDSMC_MT_QCR), "QCR");
    assert_string_equal(wdsmc_mt_op_name(WDSMC_MT_ODATA), "ODATA");
    assert_string_equal(wdsmc_mt_op_name(WDSMC_MT_RDATA), "RDATA");
    assert_string_equal(wdsmc_mt_op_name(WDSMC_MT_ACK), "ACK");
    assert_string_equal(wdsmc_mt_op_name(WDSMC_MT_NACK), "NACK");
    assert_string_equal(wdsmc_mt_op_name(WDSMC_MT_NCF), "NCF");
    assert_string_equal(wdsmc_mt_op_name(WDSMC_MT_LEAVE), "LEAVE");
    assert_string_equal(wdsmc_mt_op_name(WDSMC_MT_POLL), "POLL");
    assert_string_equal(wdsmc_mt_op_name(WDSMC_MT_POLLACK), "POLLACK");
    assert_string_equal(wdsmc_mt_op_name(WDSMC_MT_KICK), "KICK");
    assert_string_equal(wdsmc_mt_op_name(WDSMC_MT_DEMOTE), "DEMOTE");
    assert_string_equal(wdsmc_mt_op_name(0), "?");
    assert_string_equal(wdsmc_mt_op_name(0x10), "?");
    assert_string_equal(wdsmc_mt_op_name(0xff), "?");
}

/* The checksum equals the definition of MS-WDSMT 2.2.2.3 (the wrapping byte
 * sum, inverted) for every length and alignment up to 3 KiB, on random bytes
 * and on 0xFF. This covers the path the build and CPU take: on x86-64 the
 * AVX2 loop with SSE2 for tails under 64 bytes (SSE2 alone without AVX2);
 * elsewhere the lane folding, where 0xFF is the worst case for overflow. */
static void test_mt_checksum_matches_plain_byte_sum(void **state)
{
    static uint8_t buf[3 * 1024 + 64];
    uint32_t seed = 12345;
    (void)state;

    for (int pattern = 0; pattern < 2; pattern++) {
        for (size_t i = 0; i < sizeof(buf); i++) {
            seed = seed * 1103515245u + 12345u;
            buf[i] = pattern ? 0xFF : (uint8_t)(seed >> 16);
        }
        for (size_t off = 0; off < 8; off++) {
            for (size_t len = 0; len + off <= sizeof(buf); len += (len < 1100 ? 1 : 97)) {
                uint32_t plain = 0;
                for (size_t i = 0; i < len; i++)
                    plain += buf[off + i];
                assert_int_equal(wdsmc_mt_checksum(buf + off, len), ~plain);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_mt_checksum_matches_plain_byte_sum),
            cmocka_unit_test(test_mt_decode_spm_golden_fields),
            cmocka_unit_test(test_mt_decode_join_golden_fields),
            cmocka_unit_test(test_mt_decode_joinack_golden_fields),
            cmocka_unit_test(test_mt_decode_qcc_golden_fields),
            cmocka_unit_test(test_mt_decode_qcr_joinack_form_golden_fields),
            cmocka_unit_test(test_mt_decode_qcr_qcc_form_golden_fields),
            cmocka_unit_test(test_mt_decode_qcr_voluntary_form_golden_fields),
            cmocka_unit_test(test_mt_decode_odata_golden_fields),
            cmocka_unit_test(test_mt_decode_rdata_golden_fields),
            cmocka_unit_test(test_mt_decode_ack_golden_fields),
            cmocka_unit_test(test_mt_decode_nack_golden_fields),
            cmocka_unit_test(test_mt_decode_ncf_golden_fields),
            cmocka_unit_test(test_mt_decode_leave_golden_fields),
            cmocka_unit_test(test_mt_decode_poll_golden_fields),
            cmocka_unit_test(test_mt_decode_pollack_golden_fields),
            cmocka_unit_test(test_mt_decode_kick_golden_fields),
            cmocka_unit_test(test_mt_decode_demote_golden_fields),
            cmocka_unit_test(test_mt_decode_secnone_golden_fields),
            cmocka_unit_test(test_mt_decode_unknown_option_skipped),
            cmocka_unit_test(test_mt_golden_table_covers_every_opcode),
            cmocka_unit_test(test_mt_golden_reencodes_to_same_bytes),
            cmocka_unit_test(test_mt_golden_every_truncation_rejected),
            cmocka_unit_test(test_mt_golden_every_bit_flip_rejected),
            cmocka_unit_test(test_mt_encode_enobufs_for_every_short_cap),
            cmocka_unit_test(test_mt_trailing_garbage_rejected),
            cmocka_unit_test(test_mt_trailing_garbage_without_refresh_is_checksum_error),
            cmocka_unit_test(test_mt_bad_magic_rejected),
            cmocka_unit_test(test_mt_unknown_opcode_rejected),
            cmocka_unit_test(test_mt_hash_header_parsed_then_unsupported),
            cmocka_unit_test(test_mt_sign_header_parsed_then_unsupported),
            cmocka_unit_test(test_mt_hash_packet_still_checked_for_malformation),
            cmocka_unit_test(test_mt_unknown_sec_type_rejected),
            cmocka_unit_test(test_mt_sec_len_that_does_not_fit_type_rejected),
            cmocka_unit_test(test_mt_datagram_over_65507_bytes_too_big),
            cmocka_unit_test(test_mt_checksum_is_inverted_wrapping_sum),
            cmocka_unit_test(test_mt_join_ip_addr_len_5_rejected),
            cmocka_unit_test(test_mt_join_mac_addr_len_not_6_rejected),
            cmocka_unit_test(test_mt_join_client_name_without_nul_rejected),
            cmocka_unit_test(test_mt_join_client_name_of_15_chars_decodes),
            cmocka_unit_test(test_mt_join_client_name_bytes_after_nul_ignored),
            cmocka_unit_test(test_mt_join_client_name_non_ascii_decodes),
            cmocka_unit_test(test_mt_join_ipv6_round_trips),
            cmocka_unit_test(test_mt_nack_range_start_after_end_rejected),
            cmocka_unit_test(test_mt_ncf_range_start_after_end_rejected),
            cmocka_unit_test(test_mt_range_count_past_end_rejected),
            cmocka_unit_test(test_mt_range_count_short_leaves_trailing_bytes),
            cmocka_unit_test(test_mt_kick_201_clients_too_many),
            cmocka_unit_test(test_mt_kick_200_clients_accepted),
            cmocka_unit_test(test_mt_kick_count_past_end_rejected),
            cmocka_unit_test(test_mt_demote_251_clients_too_many),
            cmocka_unit_test(test_mt_demote_count_past_end_rejected),
            cmocka_unit_test(test_mt_demote_addr_len_5_rejected),
            cmocka_unit_test(test_mt_app_data_len_past_end_rejected),
            cmocka_unit_test(test_mt_data_len_past_end_rejected),
            cmocka_unit_test(test_mt_leave_unknown_reason_kept),
            cmocka_unit_test(test_mt_duplicate_known_option_rejected),
            cmocka_unit_test(test_mt_duplicate_unknown_option_allowed),
            cmocka_unit_test(test_mt_known_option_wrong_length_rejected),
            cmocka_unit_test(test_mt_empty_capabilities_accepted),
            cmocka_unit_test(test_mt_option_len_past_end_is_truncation),
            cmocka_unit_test(test_mt_unknown_option_between_known_ones_skipped),
            cmocka_unit_test(test_mt_encode_spm_from_scratch_matches_golden),
            cmocka_unit_test(test_mt_encode_nack_from_scratch_matches_golden),
            cmocka_unit_test(test_mt_encode_rejects_16_char_client_name),
            cmocka_unit_test(test_mt_encode_rejects_invalid_utf8_client_name),
            cmocka_unit_test(test_mt_encode_rejects_kick_201_clients),
            cmocka_unit_test(test_mt_encode_rejects_demote_251_clients),
            cmocka_unit_test(test_mt_encode_rejects_addr_len_5),
            cmocka_unit_test(test_mt_encode_rejects_hash_and_sign_sec_types),
            cmocka_unit_test(test_mt_encode_rejects_inconsistent_structs),
            cmocka_unit_test(test_mt_encode_rejects_range_start_after_end),
            cmocka_unit_test(test_mt_encode_secnone_has_no_security_data),
            cmocka_unit_test(test_mt_max_ranges_is_4091),
            cmocka_unit_test(test_mt_max_size_nack_round_trips_and_one_more_is_enobufs),
            cmocka_unit_test(test_mt_qcr_form_from_seq_and_server_time),
            cmocka_unit_test(test_mt_op_name_names_every_opcode),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
