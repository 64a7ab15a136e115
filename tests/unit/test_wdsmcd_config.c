/* SPDX-License-Identifier: MIT */
/* wdsmcd configuration: INI files and command lines, on temp files. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

struct fixture {
    char dir[64];
    char conf[128];
    struct wdsmcd_config cfg;
    char err[1024];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/wdsmcd-config-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->conf, sizeof(f->conf), "%s/wdsmcd.conf", f->dir);
    wdsmcd_config_init(&f->cfg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    wdsmcd_config_fini(&f->cfg);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
}

static int load(struct fixture *f, const char *text)
{
    write_file(f->conf, text);
    f->err[0] = '\0';
    return wdsmcd_config_load_file(&f->cfg, f->conf, f->err, sizeof(f->err));
}

/* The error must be "CONF:LINE: " followed by text containing `what`. */
static void assert_error_at(struct fixture *f, int line, const char *what)
{
    char prefix[200];
    snprintf(prefix, sizeof(prefix), "%s:%d: ", f->conf, line);
    if (strncmp(f->err, prefix, strlen(prefix)) != 0 || !strstr(f->err, what))
        fail_msg("expected '%s...%s', got '%s'", prefix, what, f->err);
}

static int parse(struct fixture *f, int argc, const char **argv)
{
    f->err[0] = '\0';
    return wdsmcd_config_parse_args(&f->cfg, argc, (char **)argv, f->err, sizeof(f->err));
}

static void test_config_full_file_sets_every_field(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(load(f, "# comment\n"
                             "[server]\n"
                             "address = 127.0.0.1\n"
                             "interface = 127.0.0.2\n"
                             "msi_port = 15041\n"
                             "multicast_range = 239.1.1.10-239.1.1.19\n"
                             "port_range = 40000-40099\n"
                             "max_clients = 50\n"
                             "control_socket = /tmp/x.sock\n"
                             "control_mode = 0660\n"
                             "log_level = debug\n"
                             "udp_gso = no\n"
                             "send_buffer = 2M\n"
                             "\n"
                             "[namespace:Images]\n"
                             "path = /srv/images\n"
                             "cast = scheduled\n"
                             "min_clients = 3\n"
                             "start_time = @2000000000\n"
                             "block_size = 16K\n"
                             "max_rate = 100M\n"
                             "ttl = 4\n"
                             "slow_client_policy = multistream\n"
                             "min_rate = 1M\n"
                             "demote_rate = 2M\n"
                             "[namespace:WDS:Default/install.wim/1]\n"
                             "path = /srv/wim ; inline comment\n"),
                     0);
    struct wdsmcd_config *c = &f->cfg;
    assert_string_equal(c->address, "127.0.0.1");
    assert_string_equal(c->interface, "127.0.0.2");
    assert_int_equal(c->msi_port, 15041);
    assert_string_equal(c->group_first, "239.1.1.10");
    assert_int_equal(c->group_count, 10);
    assert_int_equal(c->port_first, 40000);
    assert_int_equal(c->port_count, 100);
    assert_int_equal(c->max_clients, 50);
    assert_string_equal(c->control_path, "/tmp/x.sock");
    assert_int_equal(c->control_mode, 0660);
    assert_int_equal(c->log_level, WDSMC_LOG_DEBUG);
    assert_false(c->udp_gso);
    assert_int_equal(c->send_buffer, 2u << 20);
    assert_int_equal(c->n_ns, 2);
    const struct wdsmcd_namespace *ns = &c->ns[0];
    assert_string_equal(ns->name, "Images");
    assert_string_equal(ns->path, "/srv/images");
    assert_int_equal(ns->nc.mode, WDSMC_CAST_SCHEDULED);
    assert_int_equal(ns->nc.min_clients, 3);
    assert_int_equal(ns->nc.start_time, 2000000000);
    assert_int_equal(ns->nc.block_size, 16384);
    assert_true(ns->block_size_set);
    assert_int_equal(ns->nc.max_rate, 100u << 20);
    assert_int_equal(ns->nc.ttl, 4);
    assert_int_equal(ns->nc.slow_policy, WDSMC_SLOW_MULTISTREAM);
    assert_int_equal(ns->nc.min_rate, 1u << 20);
    assert_int_equal(ns->nc.demote_rate, 2u << 20);
    char origin[200];
    snprintf(origin, sizeof(origin), "%s:15", f->conf);
    assert_string_equal(ns->origin, origin);
    assert_string_equal(c->ns[1].name, "WDS:Default/install.wim/1");
    assert_string_equal(c->ns[1].path, "/srv/wim");
    assert_int_equal(c->ns[1].nc.mode, WDSMC_CAST_AUTO);
    assert_int_equal(c->ns[1].nc.ttl, -1);
    assert_int_equal(wdsmcd_config_finish(c, f->err, sizeof(f->err)), 0);
}

static void test_config_multistream_demote_rate_defaults_to_min_rate(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(load(f, "[namespace:a]\npath=/x\nslow_client_policy = multistream\n"
                             "min_rate = 3M\n"),
                     0);
    assert_int_equal(wdsmcd_config_finish(&f->cfg, f->err, sizeof(f->err)), 0);
    assert_int_equal(f->cfg.ns[0].nc.demote_rate, 3u << 20);
}

static void test_config_long_namespace_name_is_not_cut(void **state)
{
    struct fixture *f = *state;
    /* 150 bytes: past inih's 50-byte section buffer, within its 200-byte
     * line limit. */
    char text[600], name[151];
    memset(name, 'n', 150);
    name[150] = '\0';
    snprintf(text, sizeof(text), "[namespace:%s]\npath=/x\n", name);
    assert_int_equal(load(f, text), 0);
    assert_string_equal(f->cfg.ns[0].name, name);
}

static void test_config_unknown_key_names_line(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(load(f, "[server]\nmsi_port = 5041\n\nbogus = 1\n"), -EINVAL);
    assert_error_at(f, 4, "unknown key 'bogus'");
}

static void test_config_bad_values_name_line_and_problem(void **state)
{
    static const struct {
        const char *text;
        int line;
        const char *what;
    } cases[] = {
            {"[server]\nmsi_port = 0\n", 2, "msi_port '0'"},
            {"[server]\nmsi_port = 70000\n", 2, "not a port number"},
            {"[server]\naddress = 1.2.3\n", 2, "not an IPv4 address"},
            {"[server]\nmulticast_range = 10.0.0.1-10.0.0.5\n", 2, "not IPv4 multicast"},
            {"[server]\nmulticast_range = 239.0.0.9-239.0.0.1\n", 2, "first address is above"},
            {"[server]\nport_range = 500-400\n", 2, "port_range '500-400'"},
            {"[server]\nmax_clients = 201\n", 2, "1-200"},
            {"[server]\ncontrol_mode = 0066\n", 2, "control_mode"},
            {"[server]\ncontrol_mode = 999\n", 2, "control_mode"},
            {"[server]\nlog_level = loud\n", 2, "log_level 'loud'"},
            {"[server]\nudp_gso = maybe\n", 2, "udp_gso 'maybe': expected yes or no"},
            {"[server]\nsend_buffer = 4K\n", 2, "send_buffer '4K': expected 64K-1G bytes"},
            {"[server]\nsend_buffer = 2G\n", 2, "send_buffer '2G'"},
            {"[namespace:a]\npath=/x\nblock_size = 100\n", 3,
             "block_size '100': expected 512-65448"},
            {"[namespace:a]\npath=/x\nblock_size = 65449\n", 3, "block_size"},
            {"[namespace:a]\npath=/x\nttl = 256\n", 3, "ttl '256'"},
            {"[namespace:a]\npath=/x\ncast = sometimes\n", 3, "expected auto or scheduled"},
            {"[namespace:a]\npath=/x\nmin_clients = 0\n", 3, "min_clients '0'"},
            {"[namespace:a]\npath=/x\nmax_rate = fast\n", 3, "max_rate 'fast'"},
            {"[namespace:a]\npath=/x\nmin_rate = -1\n", 3, "min_rate"},
            {"[namespace:a]\npath=/x\nstart_time = tomorrow\n", 3, "start_time 'tomorrow'"},
            {"[namespace:a]\npath=/x\nslow_client_policy = kick\n", 3, "none, disconnect or"},
            {"[namespace:a]\npath=\n", 2, "'path' has no value"},
            {"[namespace:a]\npath=/x\npath=/y\n", 3, "given twice"},
            {"msi_port = 1\n", 1, "outside a section"},
            {"[server]\n[clients]\nx=1\n", 2, "unknown section [clients]"},
            {"[server]\n[server]\n", 2, "duplicate section [server]"},
            {"[namespace:a]\npath=/x\n\n[namespace:a]\npath=/y\n", 4, "already defined at"},
            {"[namespace:]\npath=/x\n", 1, "empty namespace name"},
            {"[server]\nthis line has no equals sign\n", 2, "syntax error"},
            {"[server\n", 1, "syntax error"},
    };
    struct fixture *f = *state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wdsmcd_config_fini(&f->cfg);
        int r = load(f, cases[i].text);
        if (r != -EINVAL)
            fail_msg("case %zu (%s): returned %d, err '%s'", i, cases[i].text, r, f->err);
        assert_error_at(f, cases[i].line, cases[i].what);
    }
}

static void test_config_first_error_wins(void **state)
{
    struct fixture *f = *state;
    /* A bad value on line 2 and a syntax error on line 3: line 2 is named. */
    assert_int_equal(load(f, "[server]\nmsi_port = x\ngarbage\n"), -EINVAL);
    assert_error_at(f, 2, "msi_port");
    wdsmcd_config_fini(&f->cfg);
    /* And the other way round. */
    assert_int_equal(load(f, "[server]\ngarbage\nmsi_port = x\n"), -EINVAL);
    assert_error_at(f, 2, "syntax error");
}

static void test_config_overlong_line_is_an_error(void **state)
{
    struct fixture *f = *state;
    char text[1200];
    int n = snprintf(text, sizeof(text), "[namespace:a]\npath = /");
    memset(text + n, 'x', 1000);
    snprintf(text + n + 1000, sizeof(text) - (size_t)n - 1000, "\nttl = 1\n");
    assert_int_equal(load(f, text), -EINVAL);
    assert_error_at(f, 2, "line longer than");
}

static void test_config_namespace_without_path_names_header(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(load(f, "[server]\nmsi_port=1\n[namespace:empty]\n# nothing\n"), -EINVAL);
    assert_error_at(f, 3, "namespace 'empty' has no path");
}

static void test_config_missing_file_names_file(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(
            wdsmcd_config_load_file(&f->cfg, "/nonexistent/wdsmcd.conf", f->err, sizeof(f->err)),
            -ENOENT);
    assert_string_equal(f->err, "/nonexistent/wdsmcd.conf: No such file or directory");
}

static void test_config_finish_checks_cross_field_rules(void **state)
{
    static const struct {
        const char *text;
        const char *what;
    } cases[] = {
            {"[namespace:a]\npath=/x\nmin_clients = 3\n", "need cast = scheduled"},
            {"[server]\nmax_clients=2\n[namespace:a]\npath=/x\ncast=scheduled\nmin_clients=3\n",
             "above max_clients 2"},
            {"[namespace:a]\npath=/x\nslow_client_policy = disconnect\n", "needs min_rate"},
            {"[namespace:a]\npath=/x\nmin_rate = 1M\n", "min_rate needs slow_client_policy"},
            {"[namespace:a]\npath=/x\nslow_client_policy=disconnect\nmin_rate=1M\ndemote_rate=1M\n",
             "demote_rate needs slow_client_policy = multistream"},
    };
    struct fixture *f = *state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wdsmcd_config_fini(&f->cfg);
        assert_int_equal(load(f, cases[i].text), 0);
        assert_int_equal(wdsmcd_config_finish(&f->cfg, f->err, sizeof(f->err)), -EINVAL);
        /* Named by the line of the namespace's section header. */
        char where[200];
        snprintf(where, sizeof(where), "%s:%d: namespace 'a': ", f->conf,
                 strstr(cases[i].text, "[server]") ? 3 : 1);
        if (strncmp(f->err, where, strlen(where)) || !strstr(f->err, cases[i].what))
            fail_msg("case %zu: got '%s'", i, f->err);
    }
}

static void test_args_command_line_overrides_file(void **state)
{
    struct fixture *f = *state;
    write_file(f->conf, "[server]\nmsi_port = 6000\naddress = 10.0.0.1\n"
                        "[namespace:a]\npath = /a\n"
                        "[namespace:b]\npath = /b\nblock_size = 1024\n");
    const char *argv[] = {"wdsmcd",    "--config",  f->conf,         "-p",     "7000",
                          "--address", "127.0.0.1", "--namespace",   "c=/c=d", "--block-size",
                          "4096",      "--control", "/tmp/ctl.sock", "-i",     "127.0.0.1"};
    assert_int_equal(parse(f, sizeof(argv) / sizeof(argv[0]), argv), WDSMCD_ARGS_RUN);
    struct wdsmcd_config *c = &f->cfg;
    assert_int_equal(c->msi_port, 7000);
    assert_string_equal(c->address, "127.0.0.1");
    assert_string_equal(c->interface, "127.0.0.1");
    assert_string_equal(c->control_path, "/tmp/ctl.sock");
    assert_int_equal(c->n_ns, 3);
    assert_int_equal(c->ns[0].nc.block_size, 4096); /* default from --block-size */
    assert_int_equal(c->ns[1].nc.block_size, 1024); /* its own */
    assert_string_equal(c->ns[2].name, "c");
    assert_string_equal(c->ns[2].path, "/c=d");
    assert_string_equal(c->ns[2].origin, "--namespace");
    assert_int_equal(c->ns[2].nc.block_size, 4096);
}

static void test_args_defaults_without_config(void **state)
{
    struct fixture *f = *state;
    const char *argv[] = {"wdsmcd", "-n", "x=/srv/x"};
    assert_int_equal(parse(f, 3, argv), WDSMCD_ARGS_RUN);
    assert_int_equal(f->cfg.msi_port, 5041);
    assert_null(f->cfg.address);
    assert_string_equal(f->cfg.control_path, WDSMCD_DEFAULT_CONTROL);
    assert_int_equal(f->cfg.control_mode, 0600);
    assert_true(f->cfg.udp_gso);
    assert_int_equal(f->cfg.ns[0].nc.block_size, 0); /* the engine's default */
}

static void test_args_errors_name_option_and_problem(void **state)
{
    static const struct {
        const char *args[4];
        const char *err;
    } cases[] = {
            {{"-n", "x=/x", "--port", "0"}, "--port '0': not a port number (1-65535)"},
            {{"-n", "x=/x", "--address", "localhost"},
             "--address 'localhost': not an IPv4 address"},
            {{"-n", "x=/x", "--block-size", "64K"}, "--block-size '64K': expected 512-65448 bytes"},
            {{"-n", "x=/x", "--bogus", NULL}, "unknown option '--bogus'"},
            {{"-n", "x=/x", "-Z", NULL}, "unknown option '-Z'"},
            {{"-n", "x=/x", "--port", NULL}, "option '--port' needs a value"},
            {{"-n", "x=/x", "stray", NULL}, "unexpected argument 'stray'"},
            {{"-n", "novalue", NULL, NULL}, "--namespace 'novalue': expected NAME=PATH"},
            {{"-n", "=/x", NULL, NULL}, "--namespace '=/x': empty namespace name"},
            {{"-n", "x=/x", "-n", "x=/y"}, "namespace 'x' is already defined at --namespace"},
            {{"--verbose", NULL, NULL, NULL}, "no namespace to serve"},
    };
    struct fixture *f = *state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *argv[5] = {"wdsmcd"};
        int argc = 1;
        for (int j = 0; j < 4 && cases[i].args[j]; j++)
            argv[argc++] = cases[i].args[j];
        wdsmcd_config_fini(&f->cfg);
        assert_int_equal(parse(f, argc, argv), -EINVAL);
        if (!strstr(f->err, cases[i].err))
            fail_msg("case %zu: expected '%s', got '%s'", i, cases[i].err, f->err);
    }
}

static void test_args_bad_config_file_is_reported_with_line(void **state)
{
    struct fixture *f = *state;
    write_file(f->conf, "[server]\nmsi_port = 5041\nmsi_port = 5042\n");
    const char *argv[] = {"wdsmcd", "-c", f->conf};
    assert_int_equal(parse(f, 3, argv), -EINVAL);
    assert_error_at(f, 3, "given twice");
}

static void test_args_help_and_version(void **state)
{
    struct fixture *f = *state;
    const char *h[] = {"wdsmcd", "--help"};
    const char *v[] = {"wdsmcd", "-V"};
    /* --help prints to stdout; keep the test log quiet. */
    fflush(stdout);
    int saved = dup(1), null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    int r = parse(f, 2, h);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    close(null);
    assert_int_equal(r, WDSMCD_ARGS_HELP);
    assert_int_equal(parse(f, 2, v), WDSMCD_ARGS_VERSION);
}

static void test_contents_file_directory_and_errors(void **state)
{
    struct fixture *f = *state;
    char p[256], sub[256];
    struct wdsmcd_content *v;
    size_t n;

    snprintf(p, sizeof(p), "%s/b.img", f->dir);
    write_file(p, "b");
    snprintf(p, sizeof(p), "%s/a.wim", f->dir);
    write_file(p, "a");
    snprintf(p, sizeof(p), "%s/.hidden", f->dir);
    write_file(p, "h");
    snprintf(sub, sizeof(sub), "%s/subdir", f->dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(p, sizeof(p), "%s/link.img", f->dir);
    assert_int_equal(symlink("b.img", p), 0);
    snprintf(p, sizeof(p), "%s/dangling", f->dir);
    assert_int_equal(symlink("nowhere", p), 0);

    /* conf (written by setup? no) is absent here; the directory has a.wim,
     * b.img, link.img as regular files. */
    struct wdsmcd_namespace ns = {.name = "n", .path = f->dir, .origin = "here:1"};
    assert_int_equal(wdsmcd_contents_list(&ns, &v, &n, f->err, sizeof(f->err)), 0);
    assert_int_equal(n, 3);
    assert_string_equal(v[0].name, "a.wim");
    assert_string_equal(v[1].name, "b.img");
    assert_string_equal(v[2].name, "link.img");
    snprintf(p, sizeof(p), "%s/a.wim", f->dir);
    assert_string_equal(v[0].path, p);
    wdsmcd_contents_free(v, n);

    /* A file: one content named after it. */
    ns.path = p;
    assert_int_equal(wdsmcd_contents_list(&ns, &v, &n, f->err, sizeof(f->err)), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].name, "a.wim");
    wdsmcd_contents_free(v, n);

    /* An empty directory: no contents, no error. */
    ns.path = sub;
    assert_int_equal(wdsmcd_contents_list(&ns, &v, &n, f->err, sizeof(f->err)), 0);
    assert_int_equal(n, 0);
    wdsmcd_contents_free(v, n);

    ns.path = "/nonexistent/images";
    assert_int_equal(wdsmcd_contents_list(&ns, &v, &n, f->err, sizeof(f->err)), -ENOENT);
    assert_string_equal(f->err, "here:1: namespace 'n': path '/nonexistent/images': No such file "
                                "or directory");
    ns.path = "/dev/null";
    assert_int_equal(wdsmcd_contents_list(&ns, &v, &n, f->err, sizeof(f->err)), -EINVAL);
    assert_non_null(strstr(f->err, "neither a regular file nor a directory"));
}

static void test_parse_size_and_time(void **state)
{
    uint64_t v;
    int64_t t;
    (void)state;
    assert_int_equal(wdsmcd_parse_size("0", UINT64_MAX, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(wdsmcd_parse_size("8k", UINT64_MAX, &v), 0);
    assert_int_equal(v, 8192);
    assert_int_equal(wdsmcd_parse_size("3G", UINT64_MAX, &v), 0);
    assert_int_equal(v, 3ULL << 30);
    assert_int_equal(wdsmcd_parse_size("64K", 65448, &v), -EINVAL);
    assert_int_equal(wdsmcd_parse_size("", 100, &v), -EINVAL);
    /* The spelling shared with wdsget and wdsfs (wdsmc/size.h). */
    assert_int_equal(wdsmcd_parse_size("1KB", 1 << 20, &v), 0);
    assert_int_equal(v, 1024);
    assert_int_equal(wdsmcd_parse_size("2GiB", UINT64_MAX, &v), 0);
    assert_int_equal(v, 2ull << 30);
    assert_int_equal(wdsmcd_parse_size("1KiBx", UINT64_MAX, &v), -EINVAL);
    assert_int_equal(wdsmcd_parse_size("-1", UINT64_MAX, &v), -EINVAL);
    assert_int_equal(wdsmcd_parse_size("1X", UINT64_MAX, &v), -EINVAL);
    assert_int_equal(wdsmcd_parse_size(" 1", 100, &v), -EINVAL);
    assert_int_equal(wdsmcd_parse_size("99999999999999999999", UINT64_MAX, &v), -EINVAL);
    assert_int_equal(wdsmcd_parse_time("@1700000000", &t), 0);
    assert_int_equal(t, 1700000000);
    setenv("TZ", "UTC", 1);
    tzset();
    assert_int_equal(wdsmcd_parse_time("2030-01-15 22:00", &t), 0);
    assert_int_equal(t, 1894744800);
    assert_int_equal(wdsmcd_parse_time("2030-01-15T22:00:30", &t), 0);
    assert_int_equal(t, 1894744830);
    assert_int_equal(wdsmcd_parse_time("2030-01-15", &t), -EINVAL);
    assert_int_equal(wdsmcd_parse_time("@", &t), -EINVAL);
    assert_int_equal(wdsmcd_parse_time("@-5", &t), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_config_full_file_sets_every_field, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(
                    test_config_multistream_demote_rate_defaults_to_min_rate, setup, teardown),
            cmocka_unit_test_setup_teardown(test_config_long_namespace_name_is_not_cut, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_config_unknown_key_names_line, setup, teardown),
            cmocka_unit_test_setup_teardown(test_config_bad_values_name_line_and_problem, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_config_first_error_wins, setup, teardown),
            cmocka_unit_test_setup_teardown(test_config_overlong_line_is_an_error, setup, teardown),
            cmocka_unit_test_setup_teardown(test_config_namespace_without_path_names_header, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_config_missing_file_names_file, setup, teardown),
            cmocka_unit_test_setup_teardown(test_config_finish_checks_cross_field_rules, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_args_command_line_overrides_file, setup, teardown),
            cmocka_unit_test_setup_teardown(test_args_defaults_without_config, setup, teardown),
            cmocka_unit_test_setup_teardown(test_args_errors_name_option_and_problem, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_args_bad_config_file_is_reported_with_line, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_args_help_and_version, setup, teardown),
            cmocka_unit_test_setup_teardown(test_contents_file_directory_and_errors, setup,
                                            teardown),
            cmocka_unit_test(test_parse_size_and_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
