/* SPDX-License-Identifier: MIT */
/* Unit tests of the UTF-16LE <-> UTF-8 conversions (transport/utf16.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wdsmc/codec.h"

/* Convert UTF-16LE to UTF-8 and require `want`. */
static void assert_to_utf8(const uint8_t *src, size_t units, const char *want)
{
    char out[64];
    memset(out, 0x7f, sizeof(out));
    assert_int_equal(wdsmc_utf16le_to_utf8(src, units, out, sizeof(out)), (ssize_t)strlen(want));
    assert_string_equal(out, want);
}

/* Convert UTF-8 to UTF-16LE and require `want` (units * 2 bytes). */
static void assert_to_utf16(const char *src, const uint8_t *want, size_t units)
{
    uint8_t out[64];
    assert_int_equal(wdsmc_utf8_to_utf16le(src, out, 32), (ssize_t)units);
    assert_memory_equal(out, want, units * 2);
}

static void test_utf16_ascii_both_ways(void **state)
{
    (void)state;
    static const uint8_t u16[] = {'W', 0, 'D', 0, 'S', 0, ':', 0, '/', 0, '1', 0};
    assert_to_utf8(u16, 6, "WDS:/1");
    assert_to_utf16("WDS:/1", u16, 6);
}

static void test_utf16_empty_both_ways(void **state)
{
    (void)state;
    char out[4] = "xyz";
    uint8_t u16[4];
    assert_int_equal(wdsmc_utf16le_to_utf8((const uint8_t *)"", 0, out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(wdsmc_utf8_to_utf16le("", u16, 2), 0);
}

static void test_utf16_two_byte_char_both_ways(void **state)
{
    (void)state;
    /* U+00E9 LATIN SMALL LETTER E WITH ACUTE, U+0394 GREEK CAPITAL DELTA */
    static const uint8_t u16[] = {'D', 0, 0xe9, 0x00, 0x94, 0x03};
    assert_to_utf8(u16, 3, "D\xc3\xa9\xce\x94");
    assert_to_utf16("D\xc3\xa9\xce\x94", u16, 3);
}

static void test_utf16_three_byte_char_both_ways(void **state)
{
    (void)state;
    /* U+20AC EURO SIGN, U+FFFD (the largest BMP character we try) */
    static const uint8_t u16[] = {0xac, 0x20, 0xfd, 0xff};
    assert_to_utf8(u16, 2, "\xe2\x82\xac\xef\xbf\xbd");
    assert_to_utf16("\xe2\x82\xac\xef\xbf\xbd", u16, 2);
}

static void test_utf16_surrogate_pair_both_ways(void **state)
{
    (void)state;
    /* U+1F600 = D83D DE00; U+10FFFF = DBFF DFFF */
    static const uint8_t u16[] = {0x3d, 0xd8, 0x00, 0xde, 0xff, 0xdb, 0xff, 0xdf};
    assert_to_utf8(u16, 4, "\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf");
    assert_to_utf16("\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf", u16, 4);
}

static void test_utf16_lone_surrogates_rejected(void **state)
{
    (void)state;
    char out[16];
    static const uint8_t high_at_end[] = {'a', 0, 0x3d, 0xd8};
    static const uint8_t high_then_char[] = {0x3d, 0xd8, 'a', 0};
    static const uint8_t low_alone[] = {0x00, 0xde, 'a', 0};
    static const uint8_t two_highs[] = {0x3d, 0xd8, 0x3d, 0xd8};
    assert_int_equal(wdsmc_utf16le_to_utf8(high_at_end, 2, out, sizeof(out)), -WDSMC_ESTRING);
    assert_int_equal(wdsmc_utf16le_to_utf8(high_then_char, 2, out, sizeof(out)), -WDSMC_ESTRING);
    assert_int_equal(wdsmc_utf16le_to_utf8(low_alone, 2, out, sizeof(out)), -WDSMC_ESTRING);
    assert_int_equal(wdsmc_utf16le_to_utf8(two_highs, 2, out, sizeof(out)), -WDSMC_ESTRING);
    /* The pair split by the unit count: the high half alone is lone. */
    static const uint8_t pair[] = {0x3d, 0xd8, 0x00, 0xde};
    assert_int_equal(wdsmc_utf16le_to_utf8(pair, 1, out, sizeof(out)), -WDSMC_ESTRING);
}

static void test_utf16_embedded_nul_rejected(void **state)
{
    (void)state;
    char out[16];
    static const uint8_t u16[] = {'a', 0, 0, 0, 'b', 0};
    assert_int_equal(wdsmc_utf16le_to_utf8(u16, 3, out, sizeof(out)), -WDSMC_ESTRING);
}

static void test_utf16_to_utf8_too_long_is_estrlen(void **state)
{
    (void)state;
    static const uint8_t u16[] = {'a', 0, 'b', 0, 0xe9, 0x00};
    char out[8];
    /* "ab" + 2-byte char = 4 bytes + NUL needs 5. */
    assert_int_equal(wdsmc_utf16le_to_utf8(u16, 3, out, 5), 4);
    assert_int_equal(wdsmc_utf16le_to_utf8(u16, 3, out, 4), -WDSMC_ESTRLEN);
    /* No room even for the NUL. */
    assert_int_equal(wdsmc_utf16le_to_utf8(u16, 0, out, 0), -WDSMC_ESTRLEN);
}

static void test_utf8_overlong_rejected(void **state)
{
    (void)state;
    uint8_t out[16];
    assert_int_equal(wdsmc_utf8_to_utf16le("\xc0\xaf", out, 8), -WDSMC_ESTRING);
    assert_int_equal(wdsmc_utf8_to_utf16le("\xc1\xbf", out, 8), -WDSMC_ESTRING);
    assert_int_equal(wdsmc_utf8_to_utf16le("\xe0\x80\xaf", out, 8), -WDSMC_ESTRING);
    assert_int_equal(wdsmc_utf8_to_utf16le("\xf0\x80\x80\xaf", out, 8), -WDSMC_ESTRING);
    /* An overlong NUL ("modified UTF-8") must not smuggle a NUL in. */
    assert_int_equal(wdsmc_utf8_to_utf16le("a\xc0\x80z", out, 8), -WDSMC_ESTRING);
}

static void test_utf8_other_invalid_sequences_rejected(void **state)
{
    (void)state;
    uint8_t out[16];
    /* A UTF-8 encoded surrogate (U+D800). */
    assert_int_equal(wdsmc_utf8_to_utf16le("\xed\xa0\x80", out, 8), -WDSMC_ESTRING);
    /* Beyond U+10FFFF. */
    assert_int_equal(wdsmc_utf8_to_utf16le("\xf4\x90\x80\x80", out, 8), -WDSMC_ESTRING);
    /* A stray continuation byte, a truncated sequence, an invalid lead byte. */
    assert_int_equal(wdsmc_utf8_to_utf16le("\x80", out, 8), -WDSMC_ESTRING);
    assert_int_equal(wdsmc_utf8_to_utf16le("\xe2\x82", out, 8), -WDSMC_ESTRING);
    assert_int_equal(wdsmc_utf8_to_utf16le("\xff", out, 8), -WDSMC_ESTRING);
}

static void test_utf8_to_utf16_too_long_is_estrlen(void **state)
{
    (void)state;
    uint8_t out[16];
    assert_int_equal(wdsmc_utf8_to_utf16le("abc", out, 3), 3);
    assert_int_equal(wdsmc_utf8_to_utf16le("abcd", out, 3), -WDSMC_ESTRLEN);
    /* A surrogate pair needs two units: it does not fit in the last one. */
    assert_int_equal(wdsmc_utf8_to_utf16le("ab\xf0\x9f\x98\x80", out, 4), 4);
    assert_int_equal(wdsmc_utf8_to_utf16le("ab\xf0\x9f\x98\x80", out, 3), -WDSMC_ESTRLEN);
}

static void test_utf16_longest_msi_name_roundtrips(void **state)
{
    (void)state;
    /* 255 three-byte characters: the worst case WDSMC_MSI_NAME_BUF is sized for. */
    uint8_t u16[WDSMC_MSI_NAME_MAX_UNITS * 2];
    char utf8[WDSMC_MSI_NAME_BUF];
    uint8_t back[WDSMC_MSI_NAME_MAX_UNITS * 2];
    for (size_t i = 0; i < WDSMC_MSI_NAME_MAX_UNITS; i++) {
        u16[2 * i] = 0xac;
        u16[2 * i + 1] = 0x20;
    }
    assert_int_equal(wdsmc_utf16le_to_utf8(u16, WDSMC_MSI_NAME_MAX_UNITS, utf8, sizeof(utf8)),
                     WDSMC_MSI_NAME_MAX_UNITS * 3);
    assert_int_equal(wdsmc_utf8_to_utf16le(utf8, back, WDSMC_MSI_NAME_MAX_UNITS),
                     WDSMC_MSI_NAME_MAX_UNITS);
    assert_memory_equal(back, u16, sizeof(u16));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_utf16_ascii_both_ways),
            cmocka_unit_test(test_utf16_empty_both_ways),
            cmocka_unit_test(test_utf16_two_byte_char_both_ways),
            cmocka_unit_test(test_utf16_three_byte_char_both_ways),
            cmocka_unit_test(test_utf16_surrogate_pair_both_ways),
            cmocka_unit_test(test_utf16_lone_surrogates_rejected),
            cmocka_unit_test(test_utf16_embedded_nul_rejected),
            cmocka_unit_test(test_utf16_to_utf8_too_long_is_estrlen),
            cmocka_unit_test(test_utf8_overlong_rejected),
            cmocka_unit_test(test_utf8_other_invalid_sequences_rejected),
            cmocka_unit_test(test_utf8_to_utf16_too_long_is_estrlen),
            cmocka_unit_test(test_utf16_longest_msi_name_roundtrips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
