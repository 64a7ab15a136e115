/* SPDX-License-Identifier: MIT */
/* wdsmcd's users file (contrib/wdsmcd/users.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "users.h"

/* NTOWFv1("Password") from MS-NLMP 4.2.2.1.2. */
static const uint8_t password_hash[16] = {0xa4, 0xf4, 0x9c, 0x40, 0x65, 0x10, 0xbd, 0xca,
                                          0xb6, 0x82, 0x4e, 0xe7, 0xc3, 0x0f, 0xd8, 0x52};

static int parse(const char *text, struct wdsmcd_users *u, char *err, size_t cap)
{
    return wdsmcd_users_parse(text, strlen(text), "users", u, err, cap);
}

static void test_users_parse_accepts_comments_domains_and_crlf(void **state)
{
    (void)state;
    struct wdsmcd_users u = {0};
    char err[256];
    const char *text = "# comment\n"
                       "\n"
                       "  alice:a4f49c406510bdcab6824ee7c30fd852\r\n"
                       "CORP\\bob:A4F49C406510BDCAB6824EE7C30FD852   \n"
                       "carol:00000000000000000000000000000000"; /* no final newline */
    assert_int_equal(parse(text, &u, err, sizeof(err)), 0);
    assert_int_equal(u.n, 3);
    assert_string_equal(u.v[0].user, "alice");
    assert_null(u.v[0].domain);
    assert_memory_equal(u.v[0].nt_hash, password_hash, 16);
    assert_string_equal(u.v[1].user, "bob");
    assert_string_equal(u.v[1].domain, "CORP");
    assert_memory_equal(u.v[1].nt_hash, password_hash, 16);
    wdsmcd_users_fini(&u);
    wdsmcd_users_fini(NULL);
}

static void test_users_parse_refuses_malformed_lines_with_line_numbers(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg;
    } bad[] = {
            {"alice\n", "users:1: expected"},
            {"#\nalice:a4f49c406510bdcab6824ee7c30fd85\n", "users:2: the NT hash"},
            {"alice:a4f49c406510bdcab6824ee7c30fd8zz\n", "users:1: the NT hash"},
            {":a4f49c406510bdcab6824ee7c30fd852\n", "users:1: empty user"},
            {"\\alice:a4f49c406510bdcab6824ee7c30fd852\n", "users:1: empty domain"},
            {"a\\b\\c:a4f49c406510bdcab6824ee7c30fd852\n", "users:1: user name contains"},
            {"al\x01ice:a4f49c406510bdcab6824ee7c30fd852\n", "users:1: user name contains"},
            {"al\xc3ice:a4f49c406510bdcab6824ee7c30fd852\n", "users:1: user name is not valid"},
            {"alice :a4f49c406510bdcab6824ee7c30fd852\n", "users:1: user name starts or ends"},
            {"alice:a4f49c406510bdcab6824ee7c30fd852\nALICE:a4f49c406510bdcab6824ee7c30fd852\n",
             "users:2: duplicate account 'ALICE'"},
    };
    char err[256];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct wdsmcd_users u = {0};
        err[0] = '\0';
        assert_int_equal(parse(bad[i].text, &u, err, sizeof(err)), -EINVAL);
        if (!strstr(err, bad[i].msg))
            fail_msg("case %zu: '%s' lacks '%s'", i, err, bad[i].msg);
        assert_null(u.v);
    }
    /* A line over the limit, and a NUL byte. */
    static const char tail[] = ":a4f49c406510bdcab6824ee7c30fd852\n";
    static char longline[WDSMCD_USERS_MAX_LINE + sizeof(tail) + 2];
    memset(longline, 'a', WDSMCD_USERS_MAX_LINE + 2);
    memcpy(longline + WDSMCD_USERS_MAX_LINE + 2, tail, sizeof(tail));
    struct wdsmcd_users u = {0};
    assert_int_equal(parse(longline, &u, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "line longer"));
    assert_int_equal(wdsmcd_users_parse("a\0b:x\n", 6, "users", &u, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "NUL"));
    /* Same user in two domains, and with and without one: distinct. */
    assert_int_equal(parse("A\\x:a4f49c406510bdcab6824ee7c30fd852\n"
                           "B\\x:a4f49c406510bdcab6824ee7c30fd852\n"
                           "x:a4f49c406510bdcab6824ee7c30fd852\n",
                           &u, err, sizeof(err)),
                     0);
    assert_int_equal(u.n, 3);
    wdsmcd_users_fini(&u);
}

static void test_users_lookup_prefers_exact_domain_and_ignores_case(void **state)
{
    (void)state;
    struct wdsmcd_users u = {0};
    char err[256];
    uint8_t h[16];
    assert_int_equal(parse("alice:11111111111111111111111111111111\n"
                           "Corp\\Alice:22222222222222222222222222222222\n"
                           "corp\\bob:33333333333333333333333333333333\n",
                           &u, err, sizeof(err)),
                     0);
    assert_int_equal(wdsmcd_users_lookup(&u, "ALICE", "CORP", h), 0);
    assert_int_equal(h[0], 0x22);
    assert_int_equal(wdsmcd_users_lookup(&u, "alice", "other", h), 0);
    assert_int_equal(h[0], 0x11);
    memset(h, 0, sizeof(h));
    assert_int_equal(wdsmcd_users_lookup(&u, "alice", "", h), 0);
    assert_int_equal(h[0], 0x11);
    memset(h, 0, sizeof(h));
    assert_int_equal(wdsmcd_users_lookup(&u, "alice", NULL, h), 0);
    assert_int_equal(h[0], 0x11);
    assert_int_equal(wdsmcd_users_lookup(&u, "BOB", "CORP", h), 0);
    assert_int_equal(h[0], 0x33);
    /* bob exists only in CORP. */
    assert_int_equal(wdsmcd_users_lookup(&u, "bob", "", h), -ENOENT);
    assert_int_equal(wdsmcd_users_lookup(&u, "bob", "EVIL", h), -ENOENT);
    assert_int_equal(wdsmcd_users_lookup(&u, "mallory", "", h), -ENOENT);
    assert_int_equal(wdsmcd_users_lookup(&u, "alic", "", h), -ENOENT);
    /* A user principal name with no domain: bob@corp is CORP\bob. */
    assert_int_equal(wdsmcd_users_lookup(&u, "bob@corp", "", h), 0);
    assert_int_equal(h[0], 0x33);
    assert_int_equal(wdsmcd_users_lookup(&u, "bob@corp", NULL, h), 0);
    assert_int_equal(wdsmcd_users_lookup(&u, "bob@evil", "", h), -ENOENT);
    assert_int_equal(wdsmcd_users_lookup(&u, "bob@corp", "OTHER", h), -ENOENT);
    assert_int_equal(wdsmcd_users_lookup(&u, "@corp", "", h), -ENOENT);
    wdsmcd_users_fini(&u);
    assert_int_equal(wdsmcd_users_lookup(&u, "alice", "", h), -ENOENT);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_users_load_refuses_group_or_world_access(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_wdsmcd_users.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64], err[512];
    snprintf(path, sizeof(path), "%s/users", dir);
    struct wdsmcd_users u = {0};
    struct wdsmcd_users_id id;

    write_file(path, "alice:a4f49c406510bdcab6824ee7c30fd852\n", 0644);
    assert_int_equal(wdsmcd_users_load(path, &u, &id, err, sizeof(err)), -EPERM);
    assert_non_null(strstr(err, "mode 0644"));
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(wdsmcd_users_load(path, &u, &id, err, sizeof(err)), -EPERM);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(wdsmcd_users_load(path, &u, &id, err, sizeof(err)), 0);
    assert_int_equal(u.n, 1);
    assert_false(wdsmcd_users_changed(path, &id));
    wdsmcd_users_fini(&u);
    assert_int_equal(chmod(path, 0400), 0);       /* read-only for the owner: fine */
    assert_true(wdsmcd_users_changed(path, &id)); /* mode and ctime moved */
    assert_int_equal(wdsmcd_users_load(path, &u, &id, err, sizeof(err)), 0);
    wdsmcd_users_fini(&u);
    assert_int_equal(chmod(path, 0600), 0);

    /* A directory, and a missing file. */
    assert_int_equal(wdsmcd_users_load(dir, &u, &id, err, sizeof(err)), -EINVAL);
    unlink(path);
    assert_int_equal(wdsmcd_users_load(path, &u, &id, err, sizeof(err)), -ENOENT);
    assert_true(wdsmcd_users_changed(path, &id));
    rmdir(dir);
}

static void test_users_edit_adds_replaces_and_removes_keeping_comments(void **state)
{
    (void)state;
    const char *in = "# keep me\n"
                     "alice:11111111111111111111111111111111\n"
                     "\n"
                     "CORP\\alice:22222222222222222222222222222222\n";
    char *out, err[256];
    size_t len;
    bool found;

    /* Replace the domain-less alice only, with the name as now given. */
    assert_int_equal(wdsmcd_users_edit(in, strlen(in), "users", "ALICE", NULL, password_hash, &out,
                                       &len, &found, err, sizeof(err)),
                     0);
    assert_true(found);
    assert_string_equal(out, "# keep me\n"
                             "ALICE:a4f49c406510bdcab6824ee7c30fd852\n"
                             "\n"
                             "CORP\\alice:22222222222222222222222222222222\n");
    assert_int_equal(len, strlen(out));
    free(out);

    /* Add a new one at the end. */
    assert_int_equal(wdsmcd_users_edit(in, strlen(in), "users", "bob", "LAB", password_hash, &out,
                                       &len, &found, err, sizeof(err)),
                     0);
    assert_false(found);
    assert_non_null(strstr(out, "CORP\\alice:22222222222222222222222222222222\n"
                                "LAB\\bob:a4f49c406510bdcab6824ee7c30fd852\n"));
    free(out);

    /* Remove CORP\alice; removing it twice is -ENOENT. */
    assert_int_equal(wdsmcd_users_edit(in, strlen(in), "users", "alice", "corp", NULL, &out, &len,
                                       &found, err, sizeof(err)),
                     0);
    assert_string_equal(out, "# keep me\nalice:11111111111111111111111111111111\n\n");
    char *again = NULL;
    assert_int_equal(wdsmcd_users_edit(out, len, "users", "alice", "corp", NULL, &again, &len, NULL,
                                       err, sizeof(err)),
                     -ENOENT);
    assert_null(again);
    free(out);

    /* A file that does not parse is not rewritten. */
    assert_int_equal(wdsmcd_users_edit("garbage\n", 8, "users", "x", NULL, password_hash, &out,
                                       &len, NULL, err, sizeof(err)),
                     -EINVAL);

    /* And what edit writes parses back. */
    assert_int_equal(wdsmcd_users_edit("", 0, "users", "zed", NULL, password_hash, &out, &len, NULL,
                                       err, sizeof(err)),
                     0);
    struct wdsmcd_users u = {0};
    assert_int_equal(wdsmcd_users_parse(out, len, "users", &u, err, sizeof(err)), 0);
    assert_int_equal(u.n, 1);
    assert_memory_equal(u.v[0].nt_hash, password_hash, 16);
    wdsmcd_users_fini(&u);
    free(out);
}

static void test_users_split_name(void **state)
{
    (void)state;
    char *u, *d, err[256];
    assert_int_equal(wdsmcd_users_split_name("CORP\\alice", &u, &d, err, sizeof(err)), 0);
    assert_string_equal(u, "alice");
    assert_string_equal(d, "CORP");
    free(u);
    free(d);
    assert_int_equal(wdsmcd_users_split_name("alice", &u, &d, err, sizeof(err)), 0);
    assert_null(d);
    free(u);
    assert_int_equal(wdsmcd_users_split_name("a:b", &u, &d, err, sizeof(err)), -EINVAL);
    assert_int_equal(wdsmcd_users_split_name("\\b", &u, &d, err, sizeof(err)), -EINVAL);
    assert_int_equal(wdsmcd_users_split_name("a\\", &u, &d, err, sizeof(err)), -EINVAL);
    assert_int_equal(wdsmcd_users_split_name("", &u, &d, err, sizeof(err)), -EINVAL);
    /* USER@DOMAIN is DOMAIN\USER (the last '@'); a backslash form keeps its '@'. */
    assert_int_equal(wdsmcd_users_split_name("alice@corp.example", &u, &d, err, sizeof(err)), 0);
    assert_string_equal(u, "alice");
    assert_string_equal(d, "corp.example");
    free(u);
    free(d);
    assert_int_equal(wdsmcd_users_split_name("a@b@corp", &u, &d, err, sizeof(err)), 0);
    assert_string_equal(u, "a@b");
    assert_string_equal(d, "corp");
    free(u);
    free(d);
    assert_int_equal(wdsmcd_users_split_name("CORP\\a@b", &u, &d, err, sizeof(err)), 0);
    assert_string_equal(u, "a@b");
    assert_string_equal(d, "CORP");
    free(u);
    free(d);
    assert_int_equal(wdsmcd_users_split_name("@corp", &u, &d, err, sizeof(err)), -EINVAL);
    assert_int_equal(wdsmcd_users_split_name("alice@", &u, &d, err, sizeof(err)), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_users_parse_accepts_comments_domains_and_crlf),
            cmocka_unit_test(test_users_parse_refuses_malformed_lines_with_line_numbers),
            cmocka_unit_test(test_users_lookup_prefers_exact_domain_and_ignores_case),
            cmocka_unit_test(test_users_load_refuses_group_or_world_access),
            cmocka_unit_test(test_users_edit_adds_replaces_and_removes_keeping_comments),
            cmocka_unit_test(test_users_split_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
