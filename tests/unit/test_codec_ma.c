/* SPDX-License-Identifier: MIT */
/* Unit tests of the MS-WDSMA codec (transport/codec_ma.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "golden_ma_msi.h"
#include "wdsmc/codec.h"

/* Large enough for any MA packet: 13 + 65448 < 65536. */
#define BIG 65536

static uint8_t scratch[BIG];
static uint8_t scratch2[BIG];

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* Decode buf and require success. */
static void decode_ok(const uint8_t *buf, size_t len, struct wdsmc_ma_pkt *pkt)
{
    assert_int_equal(wdsmc_ma_decode(buf, len, pkt), (ssize_t)len);
}

/* Encode pkt and require exactly the given bytes. */
static void assert_encodes_to(const struct wdsmc_ma_pkt *pkt, const uint8_t *want, size_t len)
{
    uint8_t out[2048];
    assert_int_equal(wdsmc_ma_encode(pkt, out, sizeof(out)), (ssize_t)len);
    assert_memory_equal(out, want, len);
}

/* Build a CNTCIR with n ranges {2i, 2i+1} in scratch; returns its length. The
 * Packet-Size is made to match, so only the field under test is wrong. */
static size_t build_cntcir(uint8_t progress, uint16_t range_count, size_t ranges_present)
{
    size_t len = 3 + 7 + ranges_present * 16;
    put16(scratch, (uint16_t)len);
    scratch[2] = WDSMC_MA_CNTCIR;
    scratch[3] = progress;
    memset(scratch + 4, 0, 4);
    put16(scratch + 8, range_count);
    for (size_t i = 0; i < ranges_present; i++) {
        put64(scratch + 10 + i * 16, 2 * i);
        put64(scratch + 18 + i * 16, 2 * i + 1);
    }
    return len;
}

/* Build a DATA with data_len announced and data_present bytes. */
static size_t build_data(uint16_t data_len, size_t data_present)
{
    size_t len = WDSMC_MA_DATA_HDR_LEN + data_present;
    put16(scratch, (uint16_t)len);
    scratch[2] = WDSMC_MA_DATA;
    put64(scratch + 3, 5);
    put16(scratch + 11, data_len);
    memset(scratch + 13, 0xab, data_present);
    return len;
}

/* ---- golden vectors ---------------------------------------------------- */

static void test_ma_decode_srvcir_golden_fields(void **state)
{
    (void)state;
    struct wdsmc_ma_pkt pkt;
    decode_ok(golden_ma_srvcir, golden_ma_srvcir_len, &pkt);
    assert_int_equal(pkt.opcode, WDSMC_MA_SRVCIR);
    assert_encodes_to(&pkt, golden_ma_srvcir, golden_ma_srvcir_len);
}

static void test_ma_decode_cntcir_golden_fields(void **state)
{
    (void)state;
    struct wdsmc_ma_pkt pkt;
    decode_ok(golden_ma_cntcir, golden_ma_cntcir_len, &pkt);
    assert_int_equal(pkt.opcode, WDSMC_MA_CNTCIR);
    assert_int_equal(pkt.u.cntcir.progress, 42);
    assert_int_equal(pkt.u.cntcir.time_in_session, 300);
    assert_int_equal(pkt.u.cntcir.range_count, 3);
    assert_int_equal(pkt.u.cntcir.ranges[0].start, 0);
    assert_int_equal(pkt.u.cntcir.ranges[0].end, 9);
    assert_int_equal(pkt.u.cntcir.ranges[1].start, 100);
    assert_int_equal(pkt.u.cntcir.ranges[1].end, 199);
    assert_int_equal(pkt.u.cntcir.ranges[2].start, UINT64_C(0x100000000));
    assert_int_equal(pkt.u.cntcir.ranges[2].end, UINT64_C(0x100000000));
    assert_encodes_to(&pkt, golden_ma_cntcir, golden_ma_cntcir_len);
}

static void test_ma_decode_cntcir_empty_golden_fields(void **state)
{
    (void)state;
    struct wdsmc_ma_pkt pkt;
    decode_ok(golden_ma_cntcir_empty, golden_ma_cntcir_empty_len, &pkt);
    assert_int_equal(pkt.opcode, WDSMC_MA_CNTCIR);
    assert_int_equal(pkt.u.cntcir.progress, 100);
    assert_int_equal(pkt.u.cntcir.time_in_session, 3600);
    assert_int_equal(pkt.u.cntcir.range_count, 0);
    assert_encodes_to(&pkt, golden_ma_cntcir_empty, golden_ma_cntcir_empty_len);
}

static void test_ma_decode_data_golden_fields(void **state)
{
    (void)state;
    static const uint8_t payload[10] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19};
    struct wdsmc_ma_pkt pkt;
    decode_ok(golden_ma_data, golden_ma_data_len, &pkt);
    assert_int_equal(pkt.opcode, WDSMC_MA_DATA);
    assert_int_equal(pkt.u.data.block, 7);
    assert_int_equal(pkt.u.data.data_len, 10);
    /* The payload is borrowed from the input, not copied. */
    assert_ptr_equal(pkt.u.data.data, golden_ma_data + WDSMC_MA_DATA_HDR_LEN);
    assert_memory_equal(pkt.u.data.data, payload, sizeof(payload));
    assert_encodes_to(&pkt, golden_ma_data, golden_ma_data_len);
}

static void test_ma_decode_progress_golden_fields(void **state)
{
    (void)state;
    struct wdsmc_ma_pkt pkt;
    decode_ok(golden_ma_progress, golden_ma_progress_len, &pkt);
    assert_int_equal(pkt.opcode, WDSMC_MA_PROGRESS);
    assert_int_equal(pkt.u.progress.time_in_session, 60);
    assert_int_equal(pkt.u.progress.progress, 50);
    assert_encodes_to(&pkt, golden_ma_progress, golden_ma_progress_len);
}

static void test_ma_encode_builds_golden_from_literal_structs(void **state)
{
    (void)state;
    struct wdsmc_ma_pkt pkt = {
            .opcode = WDSMC_MA_CNTCIR,
            .u.cntcir = {.progress = 42,
                         .time_in_session = 300,
                         .range_count = 3,
                         .ranges = {{0, 9}, {100, 199}, {UINT64_C(1) << 32, UINT64_C(1) << 32}}}};
    assert_encodes_to(&pkt, golden_ma_cntcir, golden_ma_cntcir_len);

    pkt = (struct wdsmc_ma_pkt){.opcode = WDSMC_MA_PROGRESS,
                                .u.progress = {.time_in_session = 60, .progress = 50}};
    assert_encodes_to(&pkt, golden_ma_progress, golden_ma_progress_len);

    pkt = (struct wdsmc_ma_pkt){.opcode = WDSMC_MA_SRVCIR};
    assert_encodes_to(&pkt, golden_ma_srvcir, golden_ma_srvcir_len);
}

static void test_ma_decode_rejects_every_truncation(void **state)
{
    (void)state;
    for (size_t g = 0; g < golden_ma_count; g++) {
        const struct golden *v = &golden_ma[g];
        for (size_t n = 0; n < v->len; n++) {
            struct wdsmc_ma_pkt pkt;
            /* A heap block of exactly n bytes, so ASan catches a read past
             * the cut. */
            uint8_t *cut = test_malloc(n ? n : 1);
            memcpy(cut, v->bytes, n);
            ssize_t rc = wdsmc_ma_decode(cut, n, &pkt);
            test_free(cut);
            if (rc != -WDSMC_ETRUNC)
                fail_msg("%s cut to %zu: got %zd, want -WDSMC_ETRUNC", v->name, n, rc);
        }
    }
}

static void test_ma_decode_rejects_trailing_byte(void **state)
{
    (void)state;
    for (size_t g = 0; g < golden_ma_count; g++) {
        const struct golden *v = &golden_ma[g];
        struct wdsmc_ma_pkt pkt;
        memcpy(scratch, v->bytes, v->len);
        scratch[v->len] = 0;
        assert_int_equal(wdsmc_ma_decode(scratch, v->len + 1, &pkt), -WDSMC_ETRAILING);
    }
}

static void test_ma_decode_exact_heap_copies_without_overread(void **state)
{
    (void)state;
    /* Each vector decoded from a heap block of exactly its size: ASan would
     * report any read beyond len. */
    for (size_t g = 0; g < golden_ma_count; g++) {
        const struct golden *v = &golden_ma[g];
        uint8_t *copy = test_malloc(v->len);
        struct wdsmc_ma_pkt pkt;
        memcpy(copy, v->bytes, v->len);
        assert_int_equal(wdsmc_ma_decode(copy, v->len, &pkt), (ssize_t)v->len);
        test_free(copy);
    }
}

/* ---- header ------------------------------------------------------------ */

static void test_ma_decode_packet_size_larger_than_len_is_etrunc(void **state)
{
    (void)state;
    struct wdsmc_ma_pkt pkt;
    memcpy(scratch, golden_ma_progress, golden_ma_progress_len);
    put16(scratch, 9);
    assert_int_equal(wdsmc_ma_decode(scratch, golden_ma_progress_len, &pkt), -WDSMC_ETRUNC);
}

static void test_ma_decode_packet_size_smaller_than_len_is_etrailing(void **state)
{
    (void)state;
    struct wdsmc_ma_pkt pkt;
    memcpy(scratch, golden_ma_progress, golden_ma_progress_len);
    put16(scratch, 7);
    assert_int_equal(wdsmc_ma_decode(scratch, golden_ma_progress_len, &pkt), -WDSMC_ETRAILING);
    /* A Packet-Size smaller than the header itself is the same case. */
    memcpy(scratch, golden_ma_srvcir, golden_ma_srvcir_len);
    put16(scratch, 0);
    assert_int_equal(wdsmc_ma_decode(scratch, golden_ma_srvcir_len, &pkt), -WDSMC_ETRAILING);
}

static void test_ma_decode_unknown_opcode_is_eopcode(void **state)
{
    (void)state;
    static const uint8_t ops[] = {0x00, 0x05, 0x80, 0xff};
    for (size_t i = 0; i < sizeof(ops); i++) {
        struct wdsmc_ma_pkt pkt;
        memcpy(scratch, golden_ma_progress, golden_ma_progress_len);
        scratch[2] = ops[i];
        assert_int_equal(wdsmc_ma_decode(scratch, golden_ma_progress_len, &pkt), -WDSMC_EOPCODE);
    }
}

static void test_ma_decode_srvcir_with_body_is_etrailing(void **state)
{
    (void)state;
    /* Packet-Size agrees with the length, but MS-WDSMA 2.2.2 gives SRVCIR no
     * fields: the extra byte is trailing. */
    static const uint8_t pkt_bytes[] = {0x00, 0x04, 0x01, 0x00};
    struct wdsmc_ma_pkt pkt;
    assert_int_equal(wdsmc_ma_decode(pkt_bytes, sizeof(pkt_bytes), &pkt), -WDSMC_ETRAILING);
}

/* ---- CNTCIR ------------------------------------------------------------ */

static void test_ma_decode_cntcir_fixed_fields_cut_is_etrunc(void **state)
{
    (void)state;
    /* Packet-Size matches the length, but the packet ends inside RangeCount. */
    static const uint8_t pkt_bytes[] = {0x00, 0x09, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    struct wdsmc_ma_pkt pkt;
    assert_int_equal(wdsmc_ma_decode(pkt_bytes, sizeof(pkt_bytes), &pkt), -WDSMC_ETRUNC);
}

static void test_ma_decode_cntcir_64_ranges_accepted(void **state)
{
    (void)state;
    struct wdsmc_ma_pkt pkt;
    size_t len = build_cntcir(0, 64, 64);
    decode_ok(scratch, len, &pkt);
    assert_int_equal(pkt.u.cntcir.range_count, 64);
    assert_int_equal(pkt.u.cntcir.ranges[63].start, 126);
    assert_int_equal(pkt.u.cntcir.ranges[63].end, 127);
    assert_int_equal(wdsmc_ma_encode(&pkt, scratch2, sizeof(scratch2)), (ssize_t)len);
    assert_memory_equal(scratch2, scratch, len);
}

static void test_ma_decode_cntcir_65_ranges_is_etoomany(void **state)
{
    (void)state;
    struct wdsmc_ma_pkt pkt;
    size_t len = build_cntcir(0, 65, 65);
    assert_int_equal(wdsmc_ma_decode(scratch, len, &pkt), -WDSMC_ETOOMANY);
    len = build_cntcir(0, UINT16_MAX, UINT16_MAX / 16 - 1);
    assert_int_equal(wdsmc_ma_decode(scratch, len, &pkt), -WDSMC_ECOUNT);
}

static void test_ma_decode_cntcir_range_start_after_end_is_erange(void **state)
{
    (void)state;
    struct wdsmc_ma_pkt pkt;
    size_t len = build_cntcir(0, 3, 3);
    put64(scratch + 10 + 2 * 16, 10); /* [2] start 10 > end 5 */
    put64(scratch + 18 + 2 * 16, 5);
    assert_int_equal(wdsmc_ma_decode(scratch, len, &pkt), -WDSMC_ERANGE);
    /* start == end is a one-block range, and fine. */
    put64(scratch + 18 + 2 * 16, 10);
    decode_ok(scratch, len, &pkt);
}

static void test_ma_decode_cntcir_progress_101_is_evalue(void **state)
{
    (void)state;
    struct wdsmc_ma_pkt pkt;
    size_t len = build_cntcir(101, 1, 1);
    assert_int_equal(wdsmc_ma_decode(scratch, len, &pkt), -WDSMC_EVALUE);
    len = build_cntcir(255, 0, 0);
    assert_int_equal(wdsmc_ma_decode(scratch, len, &pkt), -WDSMC_EVALUE);
}

static void test_ma_decode_cntcir_range_count_not_fitting_is_ecount(void **state)
{
    (void)state;
    struct wdsmc_ma_pkt pkt;
    size_t len = build_cntcir(0, 4, 3);
    assert_int_equal(wdsmc_ma_decode(scratch, len, &pkt), -WDSMC_ECOUNT);
    /* A part of a range present counts as not fitting too. */
    len = build_cntcir(0, 1, 0) + 15;
    put16(scratch, (uint16_t)len);
    assert_int_equal(wdsmc_ma_decode(scratch, len, &pkt), -WDSMC_ECOUNT);
}

static void test_ma_decode_cntcir_range_count_short_is_etrailing(void **state)
{
    (void)state;
    struct wdsmc_ma_pkt pkt;
    size_t len = build_cntcir(0, 2, 3);
    assert_int_equal(wdsmc_ma_decode(scratch, len, &pkt), -WDSMC_ETRAILING);
}

/* ---- DATA -------------------------------------------------------------- */

static void test_ma_decode_data_len_not_fitting_is_ecount(void **state)
{
    (void)state;
    struct wdsmc_ma_pkt pkt;
    size_t len = build_data(11, 10);
    assert_int_equal(wdsmc_ma_decode(scratch, len, &pkt), -WDSMC_ECOUNT);
}

static void test_ma_decode_data_len_short_is_etrailing(void **state)
{
    (void)state;
    struct wdsmc_ma_pkt pkt;
    size_t len = build_data(9, 10);
    assert_int_equal(wdsmc_ma_decode(scratch, len, &pkt), -WDSMC_ETRAILING);
}

static void test_ma_decode_data_empty_block_accepted(void **state)
{
    (void)state;
    struct wdsmc_ma_pkt pkt;
    size_t len = build_data(0, 0);
    decode_ok(scratch, len, &pkt);
    assert_int_equal(pkt.u.data.data_len, 0);
    assert_int_equal(wdsmc_ma_encode(&pkt, scratch2, sizeof(scratch2)), (ssize_t)len);
    assert_memory_equal(scratch2, scratch, len);
}

static void test_ma_decode_data_max_block_accepted_and_one_more_is_evalue(void **state)
{
    (void)state;
    struct wdsmc_ma_pkt pkt;
    size_t len = build_data(WDSMC_MA_MAX_BLOCK_SIZE, WDSMC_MA_MAX_BLOCK_SIZE);
    decode_ok(scratch, len, &pkt);
    assert_int_equal(pkt.u.data.data_len, WDSMC_MA_MAX_BLOCK_SIZE);
    assert_int_equal(wdsmc_ma_encode(&pkt, scratch2, sizeof(scratch2)), (ssize_t)len);
    assert_memory_equal(scratch2, scratch, len);

    len = build_data(WDSMC_MA_MAX_BLOCK_SIZE + 1, WDSMC_MA_MAX_BLOCK_SIZE + 1);
    assert_int_equal(wdsmc_ma_decode(scratch, len, &pkt), -WDSMC_EVALUE);
}

/* ---- PROGRESS ---------------------------------------------------------- */

static void test_ma_decode_progress_101_is_evalue(void **state)
{
    (void)state;
    struct wdsmc_ma_pkt pkt;
    memcpy(scratch, golden_ma_progress, golden_ma_progress_len);
    scratch[7] = 101;
    assert_int_equal(wdsmc_ma_decode(scratch, golden_ma_progress_len, &pkt), -WDSMC_EVALUE);
    scratch[7] = 100;
    decode_ok(scratch, golden_ma_progress_len, &pkt);
}

static void test_ma_decode_progress_body_too_long_is_etrailing(void **state)
{
    (void)state;
    struct wdsmc_ma_pkt pkt;
    memcpy(scratch, golden_ma_progress, golden_ma_progress_len);
    scratch[golden_ma_progress_len] = 0;
    put16(scratch, (uint16_t)(golden_ma_progress_len + 1));
    assert_int_equal(wdsmc_ma_decode(scratch, golden_ma_progress_len + 1, &pkt), -WDSMC_ETRAILING);
}

/* ---- encoder ----------------------------------------------------------- */

static void test_ma_encode_enobufs_for_every_short_cap(void **state)
{
    (void)state;
    for (size_t g = 0; g < golden_ma_count; g++) {
        const struct golden *v = &golden_ma[g];
        struct wdsmc_ma_pkt pkt;
        decode_ok(v->bytes, v->len, &pkt);
        for (size_t cap = 0; cap < v->len; cap++) {
            /* A heap block of exactly cap bytes: ASan catches any write past. */
            uint8_t *out = test_malloc(cap ? cap : 1);
            ssize_t rc = wdsmc_ma_encode(&pkt, out, cap);
            if (rc != -ENOBUFS)
                fail_msg("%s into %zu bytes: got %zd, want -ENOBUFS", v->name, cap, rc);
            test_free(out);
        }
        assert_int_equal(wdsmc_ma_encode(&pkt, scratch, v->len), (ssize_t)v->len);
    }
}

static void test_ma_encode_rejects_65_ranges(void **state)
{
    (void)state;
    struct wdsmc_ma_pkt pkt = {.opcode = WDSMC_MA_CNTCIR};
    pkt.u.cntcir.range_count = 65;
    assert_int_equal(wdsmc_ma_encode(&pkt, scratch, sizeof(scratch)), -EINVAL);
    /* Invalid beats too small: the struct is checked first. */
    assert_int_equal(wdsmc_ma_encode(&pkt, scratch, 0), -EINVAL);
}

static void test_ma_encode_rejects_range_start_after_end(void **state)
{
    (void)state;
    struct wdsmc_ma_pkt pkt = {.opcode = WDSMC_MA_CNTCIR};
    pkt.u.cntcir.range_count = 2;
    pkt.u.cntcir.ranges[0] = (struct wdsmc_range){1, 2};
    pkt.u.cntcir.ranges[1] = (struct wdsmc_range){4, 3};
    assert_int_equal(wdsmc_ma_encode(&pkt, scratch, sizeof(scratch)), -EINVAL);
}

static void test_ma_encode_rejects_progress_101(void **state)
{
    (void)state;
    struct wdsmc_ma_pkt pkt = {.opcode = WDSMC_MA_CNTCIR};
    pkt.u.cntcir.progress = 101;
    assert_int_equal(wdsmc_ma_encode(&pkt, scratch, sizeof(scratch)), -EINVAL);
    pkt = (struct wdsmc_ma_pkt){.opcode = WDSMC_MA_PROGRESS};
    pkt.u.progress.progress = 101;
    assert_int_equal(wdsmc_ma_encode(&pkt, scratch, sizeof(scratch)), -EINVAL);
}

static void test_ma_encode_rejects_data_over_max_block(void **state)
{
    (void)state;
    struct wdsmc_ma_pkt pkt = {.opcode = WDSMC_MA_DATA};
    pkt.u.data.data = scratch2;
    pkt.u.data.data_len = WDSMC_MA_MAX_BLOCK_SIZE + 1;
    assert_int_equal(wdsmc_ma_encode(&pkt, scratch, sizeof(scratch)), -EINVAL);
    /* A length with no data to copy is a caller bug too. */
    pkt.u.data.data = NULL;
    pkt.u.data.data_len = 1;
    assert_int_equal(wdsmc_ma_encode(&pkt, scratch, sizeof(scratch)), -EINVAL);
}

static void test_ma_encode_rejects_unknown_opcode(void **state)
{
    (void)state;
    struct wdsmc_ma_pkt pkt = {.opcode = 0x05};
    assert_int_equal(wdsmc_ma_encode(&pkt, scratch, sizeof(scratch)), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_ma_decode_srvcir_golden_fields),
            cmocka_unit_test(test_ma_decode_cntcir_golden_fields),
            cmocka_unit_test(test_ma_decode_cntcir_empty_golden_fields),
            cmocka_unit_test(test_ma_decode_data_golden_fields),
            cmocka_unit_test(test_ma_decode_progress_golden_fields),
            cmocka_unit_test(test_ma_encode_builds_golden_from_literal_structs),
            cmocka_unit_test(test_ma_decode_rejects_every_truncation),
            cmocka_unit_test(test_ma_decode_rejects_trailing_byte),
            cmocka_unit_test(test_ma_decode_exact_heap_copies_without_overread),
            cmocka_unit_test(test_ma_decode_packet_size_larger_than_len_is_etrunc),
            cmocka_unit_test(test_ma_decode_packet_size_smaller_than_len_is_etrailing),
            cmocka_unit_test(test_ma_decode_unknown_opcode_is_eopcode),
            cmocka_unit_test(test_ma_decode_srvcir_with_body_is_etrailing),
            cmocka_unit_test(test_ma_decode_cntcir_fixed_fields_cut_is_etrunc),
            cmocka_unit_test(test_ma_decode_cntcir_64_ranges_accepted),
            cmocka_unit_test(test_ma_decode_cntcir_65_ranges_is_etoomany),
            cmocka_unit_test(test_ma_decode_cntcir_range_start_after_end_is_erange),
            cmocka_unit_test(test_ma_decode_cntcir_progress_101_is_evalue),
            cmocka_unit_test(test_ma_decode_cntcir_range_count_not_fitting_is_ecount),
            cmocka_unit_test(test_ma_decode_cntcir_range_count_short_is_etrailing),
            cmocka_unit_test(test_ma_decode_data_len_not_fitting_is_ecount),
            cmocka_unit_test(test_ma_decode_data_len_short_is_etrailing),
            cmocka_unit_test(test_ma_decode_data_empty_block_accepted),
            cmocka_unit_test(test_ma_decode_data_max_block_accepted_and_one_more_is_evalue),
            cmocka_unit_test(test_ma_decode_progress_101_is_evalue),
            cmocka_unit_test(test_ma_decode_progress_body_too_long_is_etrailing),
            cmocka_unit_test(test_ma_encode_enobufs_for_every_short_cap),
            cmocka_unit_test(test_ma_encode_rejects_65_ranges),
            cmocka_unit_test(test_ma_encode_rejects_range_start_after_end),
            cmocka_unit_test(test_ma_encode_rejects_progress_101),
            cmocka_unit_test(test_ma_encode_rejects_data_over_max_block),
            cmocka_unit_test(test_ma_encode_rejects_unknown_opcode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
