/* SPDX-License-Identifier: MIT */
/* Unit tests for the received-block bitmap (transport/bitmap.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bitmap.h"

static void test_bitmap_set_reports_newly_set_and_counts(void **state)
{
    struct wdsmc_bitmap b;
    assert_int_equal(wdsmc_bitmap_init(&b, 20), 0);
    assert_int_equal(wdsmc_bitmap_nbits(&b), 20);
    assert_int_equal(wdsmc_bitmap_count(&b), 0);
    assert_false(wdsmc_bitmap_test(&b, 3));
    assert_true(wdsmc_bitmap_set(&b, 3));
    assert_false(wdsmc_bitmap_set(&b, 3));
    assert_true(wdsmc_bitmap_test(&b, 3));
    assert_true(wdsmc_bitmap_set(&b, 19));
    assert_false(wdsmc_bitmap_set(&b, 20)); /* out of range */
    assert_false(wdsmc_bitmap_test(&b, 20));
    assert_int_equal(wdsmc_bitmap_count(&b), 2);
    assert_false(wdsmc_bitmap_full(&b));
    wdsmc_bitmap_fini(&b);
    wdsmc_bitmap_fini(&b);
}

static void test_bitmap_layout_is_lsb_first(void **state)
{
    struct wdsmc_bitmap b;
    size_t n;
    assert_int_equal(wdsmc_bitmap_init(&b, 12), 0);
    wdsmc_bitmap_set(&b, 0);
    wdsmc_bitmap_set(&b, 9);
    const uint8_t *p = wdsmc_bitmap_data(&b, &n);
    assert_int_equal(n, 2);
    assert_int_equal(p[0], 0x01);
    assert_int_equal(p[1], 0x02);
    wdsmc_bitmap_fini(&b);
}

static void test_bitmap_too_big_is_efbig(void **state)
{
    struct wdsmc_bitmap b;
    assert_int_equal(wdsmc_bitmap_init(&b, WDSMC_BITMAP_MAX_BITS + 1), -EFBIG);
    wdsmc_bitmap_fini(&b);
}

static void test_bitmap_empty_is_full(void **state)
{
    struct wdsmc_bitmap b;
    size_t n = 99;
    assert_int_equal(wdsmc_bitmap_init(&b, 0), 0);
    assert_true(wdsmc_bitmap_full(&b));
    assert_int_equal(wdsmc_bitmap_next_clear(&b, 0), 0);
    wdsmc_bitmap_data(&b, &n);
    assert_int_equal(n, 0);
    struct wdsmc_range r[4];
    assert_int_equal(wdsmc_bitmap_missing_ranges(&b, 0, 10, r, 4), 0);
    assert_int_equal(wdsmc_bitmap_load(&b, NULL, 0), 0);
    wdsmc_bitmap_fini(&b);
}

static void test_bitmap_next_clear_and_set_cross_words(void **state)
{
    struct wdsmc_bitmap b;
    assert_int_equal(wdsmc_bitmap_init(&b, 1000), 0);
    for (uint64_t i = 0; i < 1000; i++)
        if (i != 777)
            wdsmc_bitmap_set(&b, i);
    assert_int_equal(wdsmc_bitmap_next_clear(&b, 0), 777);
    assert_int_equal(wdsmc_bitmap_next_clear(&b, 777), 777);
    assert_int_equal(wdsmc_bitmap_next_clear(&b, 778), 1000);
    assert_int_equal(wdsmc_bitmap_next_clear(&b, 5000), 1000);
    assert_int_equal(wdsmc_bitmap_next_set(&b, 777), 778);
    assert_int_equal(wdsmc_bitmap_next_set(&b, 999), 999);
    wdsmc_bitmap_set(&b, 777);
    assert_true(wdsmc_bitmap_full(&b));
    assert_int_equal(wdsmc_bitmap_next_clear(&b, 0), 1000);
    wdsmc_bitmap_fini(&b);

    /* padding bits past nbits are not reported as clear */
    assert_int_equal(wdsmc_bitmap_init(&b, 13), 0);
    for (uint64_t i = 0; i < 13; i++)
        wdsmc_bitmap_set(&b, i);
    assert_int_equal(wdsmc_bitmap_next_clear(&b, 0), 13);
    assert_int_equal(wdsmc_bitmap_next_set(&b, 13), 13);
    wdsmc_bitmap_fini(&b);

    /* a set bit far away after zero words */
    assert_int_equal(wdsmc_bitmap_init(&b, 100000), 0);
    wdsmc_bitmap_set(&b, 99999);
    assert_int_equal(wdsmc_bitmap_next_set(&b, 1), 99999);
    assert_int_equal(wdsmc_bitmap_next_clear(&b, 99999), 100000);
    wdsmc_bitmap_fini(&b);
}

static void test_bitmap_missing_ranges_window_and_limit(void **state)
{
    struct wdsmc_bitmap b;
    struct wdsmc_range r[8];
    assert_int_equal(wdsmc_bitmap_init(&b, 30), 0);
    /* set 0-4, 10-14, 20-24: clear 5-9, 15-19, 25-29 */
    for (uint64_t i = 0; i < 30; i++)
        if ((i / 5) % 2 == 0)
            wdsmc_bitmap_set(&b, i);
    assert_int_equal(wdsmc_bitmap_missing_ranges(&b, 0, 30, r, 8), 3);
    assert_int_equal(r[0].start, 5);
    assert_int_equal(r[0].end, 9);
    assert_int_equal(r[1].start, 15);
    assert_int_equal(r[1].end, 19);
    assert_int_equal(r[2].start, 25);
    assert_int_equal(r[2].end, 29);
    /* limited count: first ones */
    assert_int_equal(wdsmc_bitmap_missing_ranges(&b, 0, 30, r, 2), 2);
    assert_int_equal(r[1].end, 19);
    /* clipped window [7, 17) */
    assert_int_equal(wdsmc_bitmap_missing_ranges(&b, 7, 17, r, 8), 2);
    assert_int_equal(r[0].start, 7);
    assert_int_equal(r[0].end, 9);
    assert_int_equal(r[1].start, 15);
    assert_int_equal(r[1].end, 16);
    /* hi beyond nbits is clamped; lo == hi is empty */
    assert_int_equal(wdsmc_bitmap_missing_ranges(&b, 26, 1000, r, 8), 1);
    assert_int_equal(r[0].start, 26);
    assert_int_equal(r[0].end, 29);
    assert_int_equal(wdsmc_bitmap_missing_ranges(&b, 5, 5, r, 8), 0);
    assert_int_equal(wdsmc_bitmap_missing_ranges(&b, 10, 15, r, 8), 0);
    wdsmc_bitmap_fini(&b);
}

static void test_bitmap_load_masks_padding_and_recounts(void **state)
{
    struct wdsmc_bitmap b;
    uint8_t raw[3] = {0xFF, 0x0F, 0xFF};
    assert_int_equal(wdsmc_bitmap_init(&b, 20), 0);
    assert_int_equal(wdsmc_bitmap_load(&b, raw, 2), -ERANGE);
    assert_int_equal(wdsmc_bitmap_load(&b, raw, 3), 0);
    /* 8 + 4 + 4 (only bits 16..19 of the last byte count) */
    assert_int_equal(wdsmc_bitmap_count(&b), 16);
    size_t n;
    const uint8_t *p = wdsmc_bitmap_data(&b, &n);
    assert_int_equal(p[2], 0x0F);
    assert_int_equal(wdsmc_bitmap_next_clear(&b, 0), 12);
    assert_false(wdsmc_bitmap_set(&b, 19));
    assert_true(wdsmc_bitmap_set(&b, 12));
    assert_int_equal(wdsmc_bitmap_count(&b), 17);
    wdsmc_bitmap_fini(&b);

    /* round trip through a big, word-aligned map */
    struct wdsmc_bitmap c;
    assert_int_equal(wdsmc_bitmap_init(&b, 4099), 0);
    assert_int_equal(wdsmc_bitmap_init(&c, 4099), 0);
    for (uint64_t i = 0; i < 4099; i += 3)
        wdsmc_bitmap_set(&b, i);
    p = wdsmc_bitmap_data(&b, &n);
    assert_int_equal(wdsmc_bitmap_load(&c, p, n), 0);
    assert_int_equal(wdsmc_bitmap_count(&c), wdsmc_bitmap_count(&b));
    assert_int_equal(wdsmc_bitmap_count(&c), 1367);
    wdsmc_bitmap_fini(&b);
    wdsmc_bitmap_fini(&c);
}

/* next_clear/next_set/missing_ranges against a naive scan. */
static void test_bitmap_matches_naive_scan(void **state)
{
    enum { N = 777 };
    static bool model[N];
    struct wdsmc_bitmap b;
    struct wdsmc_range r[16];
    uint64_t x = 88172645463325252u;
    assert_int_equal(wdsmc_bitmap_init(&b, N), 0);
    for (int round = 0; round < 2000; round++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t i = x % N;
        /* bias towards long runs of set bits */
        for (uint64_t j = i; j < N && j < i + (x >> 40) % 9; j++) {
            assert_int_equal(wdsmc_bitmap_set(&b, j), !model[j]);
            model[j] = true;
        }
        uint64_t from = (x >> 20) % (N + 3);
        uint64_t want_c = N, want_s = N;
        for (uint64_t k = from; k < N; k++)
            if (!model[k]) {
                want_c = k;
                break;
            }
        for (uint64_t k = from; k < N; k++)
            if (model[k]) {
                want_s = k;
                break;
            }
        assert_int_equal(wdsmc_bitmap_next_clear(&b, from), want_c);
        assert_int_equal(wdsmc_bitmap_next_set(&b, from), want_s);
        uint64_t lo = (x >> 30) % N, hi = lo + (x >> 50) % 300;
        size_t got = wdsmc_bitmap_missing_ranges(&b, lo, hi, r, 16);
        size_t k = 0;
        uint64_t end = hi < N ? hi : N;
        for (uint64_t s = lo; s < end && k < 16; s++) {
            if (model[s])
                continue;
            uint64_t e = s;
            while (e + 1 < end && !model[e + 1])
                e++;
            assert_true(k < got);
            assert_int_equal(r[k].start, s);
            assert_int_equal(r[k].end, e);
            k++;
            s = e;
        }
        assert_int_equal(k, got);
    }
    uint64_t cnt = 0;
    for (int k = 0; k < N; k++)
        cnt += model[k];
    assert_int_equal(wdsmc_bitmap_count(&b), cnt);
    wdsmc_bitmap_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_bitmap_set_reports_newly_set_and_counts),
            cmocka_unit_test(test_bitmap_layout_is_lsb_first),
            cmocka_unit_test(test_bitmap_too_big_is_efbig),
            cmocka_unit_test(test_bitmap_empty_is_full),
            cmocka_unit_test(test_bitmap_next_clear_and_set_cross_words),
            cmocka_unit_test(test_bitmap_missing_ranges_window_and_limit),
            cmocka_unit_test(test_bitmap_load_masks_padding_and_recounts),
            cmocka_unit_test(test_bitmap_matches_naive_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
