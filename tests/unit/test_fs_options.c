/* SPDX-License-Identifier: MIT */
/* Unit tests of wdsfs command-line parsing: image specifications in their
 * three shapes (--image, -o image=, "add" lines), sizes, server addresses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <fuse_lowlevel.h>

#include "options.h"

static void free_specs(struct wdsfs_image_spec *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(s[i].ns);
        free(s[i].content);
    }
}

static void test_spec_with_several_contents(void **state)
{
    struct wdsfs_image_spec s[8];
    size_t n = 0;
    assert_int_equal(wdsfs_spec_parse("WDS:Default/install.wim/1=install.wim,res.rwm", s, &n, 8),
                     2);
    assert_int_equal(n, 2);
    assert_string_equal(s[0].ns, "WDS:Default/install.wim/1");
    assert_string_equal(s[0].content, "install.wim");
    assert_string_equal(s[1].content, "res.rwm");
    free_specs(s, n);
}

static void test_spec_space_form_of_add(void **state)
{
    struct wdsfs_image_spec s[8];
    size_t n = 0;
    assert_int_equal(wdsfs_spec_parse("  WDS:Default/boot.wim/1   boot.wim\n", s, &n, 8), 1);
    assert_string_equal(s[0].ns, "WDS:Default/boot.wim/1");
    assert_string_equal(s[0].content, "boot.wim");
    free_specs(s, n);
}

static void test_spec_rejects_bad_names(void **state)
{
    static const char *const bad[] = {
            "",       "nocontent", "ns=",   "=c",         "a/../b=c", "a//b=c",
            "ns=a/b", "ns=..",     "./x=c", ".wdsfs/x=c", "ns=a,,b",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct wdsfs_image_spec s[8];
        size_t n = 0;
        assert_int_equal(wdsfs_spec_parse(bad[i], s, &n, 8), -EINVAL);
        free_specs(s, n);
    }
}

static void test_spec_limit(void **state)
{
    struct wdsfs_image_spec s[2];
    size_t n = 0;
    assert_int_equal(wdsfs_spec_parse("ns=a,b,c", s, &n, 2), -E2BIG);
    free_specs(s, n);
}

static void test_parse_size_suffixes(void **state)
{
    uint64_t v;
    /* "-1" would wrap to 2^64 - 1 through strtoull. */
    assert_int_equal(wdsfs_parse_size("-1", &v), -EINVAL);
    assert_int_equal(wdsfs_parse_size(" 8M", &v), -EINVAL);
    assert_int_equal(wdsfs_parse_size("32M", &v), 0);
    assert_int_equal(v, 32u << 20);
    assert_int_equal(wdsfs_parse_size("4096", &v), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(wdsfs_parse_size("1GiB", &v), 0);
    assert_int_equal(v, 1u << 30);
    assert_int_equal(wdsfs_parse_size("12X", &v), -EINVAL);
    assert_int_equal(wdsfs_parse_size("", &v), -EINVAL);
}

static int parse(int argc, char **argv, struct wdsfs_options *o, struct fuse_args *args)
{
    *args = (struct fuse_args)FUSE_ARGS_INIT(argc, argv);
    memset(o, 0, sizeof(*o));
    return wdsfs_options_parse(args, o);
}

/* mount.fuse3 runs "wdsfs SOURCE MNT -o opts": image= options repeat, and
 * options wdsfs does not know stay for libfuse. */
static void test_fstab_form(void **state)
{
    char *argv[] = {"wdsfs",
                    "10.0.0.5:6000",
                    "/tmp",
                    "-o",
                    "rw,image=WDS:Default/install.wim/1=install.wim,allow_other,stream,"
                    "image=WDS:Default/install.wim/1=res.rwm,window=8M,cache=/var/tmp/x",
                    NULL};
    struct wdsfs_options o;
    struct fuse_args args;
    assert_int_equal(parse(5, argv, &o, &args), 0);
    assert_string_equal(o.server, "10.0.0.5");
    assert_int_equal(o.port, 6000);
    assert_string_equal(o.mountpoint, "/tmp");
    assert_int_equal(o.nspecs, 2);
    assert_string_equal(o.specs[1].content, "res.rwm");
    assert_true(o.stream);
    assert_int_equal(o.window, 8u << 20);
    assert_string_equal(o.cache_dir, "/var/tmp/x");
    bool allow_other = false;
    for (int i = 0; i < args.argc; i++)
        if (strstr(args.argv[i], "allow_other"))
            allow_other = true;
    assert_true(allow_other);
    wdsfs_options_free(&o);
    fuse_opt_free_args(&args);
}

static void test_command_line_form(void **state)
{
    char *argv[] = {"wdsfs",
                    "[fe80::1]:5041",
                    "/tmp",
                    "--image",
                    "WDS:Default/install.wim/1=install.wim,res.rwm",
                    "-f",
                    "--image=WDS:Default/boot.wim/1=boot.wim",
                    NULL};
    struct wdsfs_options o;
    struct fuse_args args;
    assert_int_equal(parse(7, argv, &o, &args), 0);
    assert_string_equal(o.server, "fe80::1");
    assert_int_equal(o.port, 5041);
    assert_int_equal(o.nspecs, 3);
    assert_string_equal(o.specs[2].content, "boot.wim");
    assert_true(o.foreground);
    assert_int_equal(o.window, 32u << 20);
    wdsfs_options_free(&o);
    fuse_opt_free_args(&args);
}

static void test_bad_server_rejected(void **state)
{
    char *argv[] = {"wdsfs", "10.0.0.5:99999", "/tmp", NULL};
    struct wdsfs_options o;
    struct fuse_args args;
    assert_int_not_equal(parse(3, argv, &o, &args), 0);
    wdsfs_options_free(&o);
    fuse_opt_free_args(&args);
}

static void test_status_form(void **state)
{
    char *argv[] = {"wdsfs", "--status", "/mnt", "--watch", NULL};
    struct wdsfs_options o;
    struct fuse_args args;
    assert_int_equal(parse(4, argv, &o, &args), 0);
    assert_true(o.status);
    assert_true(o.watch);
    assert_string_equal(o.mountpoint, "/mnt");
    wdsfs_options_free(&o);
    fuse_opt_free_args(&args);
}

/* libfuse reads a backslash in -o as an escape; the one of DOMAIN\USER in
 * rpc_user= survives, written once or twice, and other options keep
 * libfuse's escapes. */
static void test_rpc_user_keeps_its_backslash(void **state)
{
    char pw[] = "/tmp/wdsfs-test-pw.XXXXXX";
    int fd = mkstemp(pw);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "secret\n", 7), 7);
    close(fd);
    /* Each group is [0], the password file, [1]; the user is [3] of [2]. */
    static const char *groups[][4] = {
            {"rpc_user=CORP\\alice,password_file=", "", "CORP", "alice"},
            {"rpc_user=CORP\\\\alice,password_file=", "", "CORP", "alice"},
            {"stream,rpc_user=DOM\\123,password_file=", "", "DOM", "123"},
            {"password_file=", ",rpc_user=alice@corp.example", "corp.example", "alice"},
    };
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        for (int attached = 0; attached < 2; attached++) {
            char group[256], arg[260];
            snprintf(group, sizeof(group), "%s%s%s", groups[i][0], pw, groups[i][1]);
            snprintf(arg, sizeof(arg), "-o%s", group);
            char *argv[] = {
                    "wdsfs", "10.0.0.5", "/tmp", attached ? arg : "-o", attached ? NULL : group,
                    NULL};
            struct wdsfs_options o;
            struct fuse_args args;
            assert_int_equal(parse(attached ? 4 : 5, argv, &o, &args), 0);
            assert_string_equal(o.cred.domain, groups[i][2]);
            assert_string_equal(o.cred.user, groups[i][3]);
            wdsfs_options_free(&o);
            fuse_opt_free_args(&args);
        }
    }
    /* Another option's escape is libfuse's: "\," is a comma in the value. */
    char *argv[] = {"wdsfs", "10.0.0.5", "/tmp", "-o", "cache=/tmp/a\\,b,stream", NULL};
    struct wdsfs_options o;
    struct fuse_args args;
    assert_int_equal(parse(5, argv, &o, &args), 0);
    assert_string_equal(o.cache_dir, "/tmp/a,b");
    assert_true(o.stream);
    wdsfs_options_free(&o);
    fuse_opt_free_args(&args);
    unlink(pw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_spec_with_several_contents),
            cmocka_unit_test(test_spec_space_form_of_add),
            cmocka_unit_test(test_spec_rejects_bad_names),
            cmocka_unit_test(test_spec_limit),
            cmocka_unit_test(test_parse_size_suffixes),
            cmocka_unit_test(test_fstab_form),
            cmocka_unit_test(test_command_line_form),
            cmocka_unit_test(test_bad_server_rejected),
            cmocka_unit_test(test_status_form),
            cmocka_unit_test(test_rpc_user_keeps_its_backslash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
