/* SPDX-License-Identifier: MIT */
/* Unit tests for the MS-WDSMT Missing ODATA List (transport/ranges.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ranges.h"

/* Assert the list holds exactly the n ranges given as start,end pairs. */
static void expect_ranges(const struct wdsmc_missing *m, size_t n, const uint64_t *pairs)
{
    assert_int_equal(wdsmc_missing_count(m), n);
    const struct wdsmc_range *r = wdsmc_missing_ranges(m);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(r[i].start, pairs[2 * i]);
        assert_int_equal(r[i].end, pairs[2 * i + 1]);
    }
}

#define EXPECT(m, ...)                                                                             \
    do {                                                                                           \
        const uint64_t pairs_[] = {__VA_ARGS__};                                                   \
        expect_ranges((m), sizeof(pairs_) / sizeof(pairs_[0]) / 2, pairs_);                        \
    } while (0)

static void test_missing_init_is_empty_at_zero(void **state)
{
    struct wdsmc_missing m;
    assert_int_equal(wdsmc_missing_init(&m, 0), 0);
    assert_int_equal(m.start, 0);
    assert_int_equal(m.end, 0);
    assert_int_equal(m.max, WDSMC_MISSING_DEFAULT_MAX);
    assert_int_equal(wdsmc_missing_count(&m), 0);
    assert_int_equal(wdsmc_missing_highest_continuous(&m), 0);
    wdsmc_missing_fini(&m);
    wdsmc_missing_fini(&m); /* twice is fine */
}

static void test_missing_update_end_appends_then_extends(void **state)
{
    struct wdsmc_missing m;
    assert_int_equal(wdsmc_missing_init(&m, 0), 0);
    wdsmc_missing_update_end(&m, 5);
    EXPECT(&m, 1, 5);
    assert_int_equal(m.end, 5);
    /* last range ends at EndODATASeqNo: extended */
    wdsmc_missing_update_end(&m, 8);
    EXPECT(&m, 1, 8);
    /* receive the tail, then a new end appends a new range */
    wdsmc_missing_received(&m, 8);
    EXPECT(&m, 1, 7);
    wdsmc_missing_update_end(&m, 10);
    EXPECT(&m, 1, 7, 9, 10);
    assert_int_equal(m.end, 10);
    wdsmc_missing_fini(&m);
}

static void test_missing_update_end_not_beyond_is_noop(void **state)
{
    /* decision 17 */
    struct wdsmc_missing m;
    assert_int_equal(wdsmc_missing_init(&m, 0), 0);
    wdsmc_missing_update_end(&m, 4);
    wdsmc_missing_received(&m, 4);
    EXPECT(&m, 1, 3);
    wdsmc_missing_update_end(&m, 4); /* equal: no empty range (5,4) */
    EXPECT(&m, 1, 3);
    wdsmc_missing_update_end(&m, 2); /* lower: nothing */
    EXPECT(&m, 1, 3);
    assert_int_equal(m.end, 4);
    wdsmc_missing_fini(&m);
}

static void test_missing_update_start_trims_and_moves_end(void **state)
{
    struct wdsmc_missing m;
    assert_int_equal(wdsmc_missing_init(&m, 0), 0);
    wdsmc_missing_update_end(&m, 20);
    wdsmc_missing_received(&m, 5);
    wdsmc_missing_received(&m, 10);
    EXPECT(&m, 1, 4, 6, 9, 11, 20);
    /* below start: stop */
    wdsmc_missing_update_start(&m, 3);
    EXPECT(&m, 3, 4, 6, 9, 11, 20);
    wdsmc_missing_update_start(&m, 2);
    EXPECT(&m, 3, 4, 6, 9, 11, 20);
    assert_int_equal(m.start, 3);
    /* inside a gap between ranges: drop earlier ones, keep the next intact */
    wdsmc_missing_update_start(&m, 5);
    EXPECT(&m, 6, 9, 11, 20);
    /* inside a range */
    wdsmc_missing_update_start(&m, 7);
    EXPECT(&m, 7, 9, 11, 20);
    /* equal to a range's end */
    wdsmc_missing_update_start(&m, 9);
    EXPECT(&m, 9, 9, 11, 20);
    /* beyond everything: list empty, end follows start */
    wdsmc_missing_update_start(&m, 30);
    assert_int_equal(wdsmc_missing_count(&m), 0);
    assert_int_equal(m.start, 30);
    assert_int_equal(m.end, 30);
    /* the new end then starts after 30: 30 itself is assumed received */
    wdsmc_missing_update_end(&m, 32);
    EXPECT(&m, 31, 32);
    wdsmc_missing_fini(&m);
}

static void test_missing_received_all_cases(void **state)
{
    struct wdsmc_missing m;
    assert_int_equal(wdsmc_missing_init(&m, 0), 0);
    wdsmc_missing_update_end(&m, 10);
    wdsmc_missing_received(&m, 0); /* below every range */
    EXPECT(&m, 1, 10);
    wdsmc_missing_received(&m, 1); /* start */
    EXPECT(&m, 2, 10);
    wdsmc_missing_received(&m, 10); /* end */
    EXPECT(&m, 2, 9);
    wdsmc_missing_received(&m, 5); /* middle: split */
    EXPECT(&m, 2, 4, 6, 9);
    wdsmc_missing_received(&m, 5); /* duplicate: in no range */
    EXPECT(&m, 2, 4, 6, 9);
    wdsmc_missing_received(&m, 3);
    EXPECT(&m, 2, 2, 4, 4, 6, 9);
    wdsmc_missing_received(&m, 2); /* single-element range: deleted */
    EXPECT(&m, 4, 4, 6, 9);
    wdsmc_missing_received(&m, 4);
    EXPECT(&m, 6, 9);
    wdsmc_missing_received(&m, 50); /* beyond the end */
    EXPECT(&m, 6, 9);
    wdsmc_missing_fini(&m);
}

static void test_missing_highest_continuous(void **state)
{
    struct wdsmc_missing m;
    assert_int_equal(wdsmc_missing_init(&m, 0), 0);
    wdsmc_missing_update_end(&m, 1);
    assert_int_equal(wdsmc_missing_highest_continuous(&m), 0);
    wdsmc_missing_received(&m, 1);
    assert_int_equal(wdsmc_missing_highest_continuous(&m), 1);
    wdsmc_missing_update_end(&m, 5);
    wdsmc_missing_received(&m, 2);
    wdsmc_missing_received(&m, 4);
    assert_int_equal(wdsmc_missing_highest_continuous(&m), 2);
    wdsmc_missing_received(&m, 3);
    wdsmc_missing_received(&m, 5);
    assert_int_equal(wdsmc_missing_highest_continuous(&m), 5);
    wdsmc_missing_fini(&m);
}

static void test_missing_cap_skips_split(void **state)
{
    struct wdsmc_missing m;
    assert_int_equal(wdsmc_missing_init(&m, 2), 0);
    wdsmc_missing_update_end(&m, 10);
    wdsmc_missing_received(&m, 5);
    EXPECT(&m, 1, 4, 6, 10);
    wdsmc_missing_received(&m, 8); /* would need a third range */
    EXPECT(&m, 1, 4, 6, 10);
    assert_int_equal(m.overflows, 1);
    /* trimming still works */
    wdsmc_missing_received(&m, 6);
    EXPECT(&m, 1, 4, 7, 10);
    wdsmc_missing_fini(&m);
}

static void test_missing_cap_merges_new_gap_into_last_range(void **state)
{
    struct wdsmc_missing m;
    assert_int_equal(wdsmc_missing_init(&m, 2), 0);
    wdsmc_missing_update_end(&m, 10);
    wdsmc_missing_received(&m, 5);
    wdsmc_missing_received(&m, 10);
    EXPECT(&m, 1, 4, 6, 9);
    wdsmc_missing_update_end(&m, 15); /* would append (11,15) */
    EXPECT(&m, 1, 4, 6, 15);
    assert_int_equal(m.end, 15);
    assert_int_equal(m.overflows, 1);
    wdsmc_missing_fini(&m);
}

static void test_missing_grows_past_initial_capacity(void **state)
{
    struct wdsmc_missing m;
    assert_int_equal(wdsmc_missing_init(&m, 1000), 0);
    wdsmc_missing_update_end(&m, 2000);
    /* receive every even number: 1000 single-number gaps 1,3,5,...,1999 */
    for (uint64_t s = 2; s <= 2000; s += 2)
        wdsmc_missing_received(&m, s);
    assert_int_equal(wdsmc_missing_count(&m), 1000);
    assert_int_equal(m.overflows, 0);
    const struct wdsmc_range *r = wdsmc_missing_ranges(&m);
    for (size_t i = 0; i < 1000; i++) {
        assert_int_equal(r[i].start, 2 * i + 1);
        assert_int_equal(r[i].end, 2 * i + 1);
    }
    /* fill the odd ones in reverse */
    for (uint64_t s = 1999;; s -= 2) {
        wdsmc_missing_received(&m, s);
        if (s == 1)
            break;
    }
    assert_int_equal(wdsmc_missing_count(&m), 0);
    assert_int_equal(wdsmc_missing_highest_continuous(&m), 2000);
    wdsmc_missing_fini(&m);
}

static void test_missing_reset_keeps_cap(void **state)
{
    struct wdsmc_missing m;
    assert_int_equal(wdsmc_missing_init(&m, 7), 0);
    wdsmc_missing_update_end(&m, 10);
    wdsmc_missing_update_start(&m, 3);
    wdsmc_missing_reset(&m);
    assert_int_equal(m.start, 0);
    assert_int_equal(m.end, 0);
    assert_int_equal(wdsmc_missing_count(&m), 0);
    assert_int_equal(m.max, 7);
    wdsmc_missing_update_end(&m, 2);
    EXPECT(&m, 1, 2);
    wdsmc_missing_fini(&m);
}

/* Against a brute-force model: a bool per sequence number, with the same
 * operations applied, and the cap large enough never to be hit. */
static void test_missing_matches_model_randomly(void **state)
{
    enum { N = 600 };
    static bool miss[N + 1];
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int round = 0; round < 40; round++) {
        struct wdsmc_missing m;
        assert_int_equal(wdsmc_missing_init(&m, N), 0);
        memset(miss, 0, sizeof(miss));
        uint64_t start = 0, end = 0;
        for (int op = 0; op < 400; op++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            uint64_t v = (x >> 8) % (N + 1);
            switch ((x >> 4) % 4) {
            case 0:
                if (v > end) {
                    for (uint64_t s = end + 1; s <= v; s++)
                        miss[s] = true;
                    end = v;
                }
                wdsmc_missing_update_end(&m, v);
                break;
            case 1:
                if (v >= start && (x >> 20) % 4 == 0) {
                    for (uint64_t s = 0; s < v; s++)
                        miss[s] = false;
                    start = v;
                    if (end < start)
                        end = start;
                    wdsmc_missing_update_start(&m, v);
                }
                break;
            default:
                miss[v] = false;
                wdsmc_missing_received(&m, v);
                break;
            }
            /* compare */
            assert_int_equal(m.start, start);
            assert_int_equal(m.end, end);
            size_t k = 0;
            const struct wdsmc_range *r = wdsmc_missing_ranges(&m);
            for (uint64_t s = 0; s <= N; s++) {
                if (!miss[s])
                    continue;
                uint64_t e = s;
                while (e + 1 <= N && miss[e + 1])
                    e++;
                assert_true(k < wdsmc_missing_count(&m));
                assert_int_equal(r[k].start, s);
                assert_int_equal(r[k].end, e);
                k++;
                s = e;
            }
            assert_int_equal(k, wdsmc_missing_count(&m));
        }
        wdsmc_missing_fini(&m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_missing_init_is_empty_at_zero),
            cmocka_unit_test(test_missing_update_end_appends_then_extends),
            cmocka_unit_test(test_missing_update_end_not_beyond_is_noop),
            cmocka_unit_test(test_missing_update_start_trims_and_moves_end),
            cmocka_unit_test(test_missing_received_all_cases),
            cmocka_unit_test(test_missing_highest_continuous),
            cmocka_unit_test(test_missing_cap_skips_split),
            cmocka_unit_test(test_missing_cap_merges_new_gap_into_last_range),
            cmocka_unit_test(test_missing_grows_past_initial_capacity),
            cmocka_unit_test(test_missing_reset_keeps_cap),
            cmocka_unit_test(test_missing_matches_model_randomly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
