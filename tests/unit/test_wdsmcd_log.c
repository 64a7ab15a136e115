/* SPDX-License-Identifier: MIT */
/* wdsmcd's log escaping: a peer's name cannot make a line of its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"

static void test_log_escape_keeps_one_line(void **state)
{
    char out[64];

    (void)state;
    wdsmcd_log_escape("logon of 'CORP\\alice' refused", out, sizeof(out));
    assert_string_equal(out, "logon of 'CORP\\alice' refused");
    wdsmcd_log_escape("user 'x\n<0>wdsmcd: forged\r\x1b[2J\x7f'", out, sizeof(out));
    assert_string_equal(out, "user 'x\\x0A<0>wdsmcd: forged\\x0D\\x1B[2J\\x7F'");
    /* UTF-8 passes unchanged. */
    wdsmcd_log_escape("\xc3\xa9t\xc3\xa9", out, sizeof(out));
    assert_string_equal(out, "\xc3\xa9t\xc3\xa9");
}

static void test_log_escape_cuts_at_a_whole_escape(void **state)
{
    char out[8];

    (void)state;
    wdsmcd_log_escape("abcd\nefgh", out, sizeof(out)); /* "abcd\x0A" is 8 + NUL */
    assert_string_equal(out, "abcd");
    wdsmcd_log_escape("abcdefghijk", out, sizeof(out));
    assert_string_equal(out, "abcdefg");
    wdsmcd_log_escape("", out, 1);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_log_escape_keeps_one_line),
            cmocka_unit_test(test_log_escape_cuts_at_a_whole_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
