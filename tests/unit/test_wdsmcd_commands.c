/* SPDX-License-Identifier: MIT */
/* wdsmcd control commands, against a fake engine defined below (the
 * wdsmc_server_* functions commands.c calls). */
#include <errno.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "commands.h"
#include "wdsmc/codec.h"

/* ------------------------------------------------------------------------ */
/* The fake engine: two sessions, the first with two clients.                */
/* ------------------------------------------------------------------------ */

static struct wdsmc_session_info fake_sessions[2];
static size_t fake_n_sessions;
static struct wdsmc_client_info fake_clients[2];
static uint32_t last_kick_session, last_kick_client, last_terminate;
static uint8_t last_kick_reason;
static char last_started[64];

size_t wdsmc_server_sessions(struct wdsmc_server *s, struct wdsmc_session_info *out, size_t cap)
{
    (void)s;
    for (size_t i = 0; i < fake_n_sessions && i < cap; i++)
        out[i] = fake_sessions[i];
    return fake_n_sessions;
}

int wdsmc_server_clients(struct wdsmc_server *s, uint32_t session_id, struct wdsmc_client_info *out,
                         size_t cap)
{
    (void)s;
    if (fake_n_sessions < 1)
        return -ENOENT;
    if (session_id == fake_sessions[1].id && fake_n_sessions > 1)
        return 0;
    if (session_id != fake_sessions[0].id)
        return -ENOENT;
    for (size_t i = 0; i < 2 && i < cap; i++)
        out[i] = fake_clients[i];
    return 2;
}

int wdsmc_server_kick(struct wdsmc_server *s, uint32_t session_id, uint32_t client_id,
                      uint8_t reason)
{
    (void)s;
    if (session_id != fake_sessions[0].id || (client_id != 11 && client_id != 12))
        return -ENOENT;
    last_kick_session = session_id;
    last_kick_client = client_id;
    last_kick_reason = reason;
    return 0;
}

int wdsmc_server_terminate(struct wdsmc_server *s, uint32_t session_id)
{
    (void)s;
    for (size_t i = 0; i < fake_n_sessions; i++) {
        if (fake_sessions[i].id == session_id) {
            last_terminate = session_id;
            return 0;
        }
    }
    return -ENOENT;
}

int wdsmc_server_start_namespace(struct wdsmc_server *s, const char *ns)
{
    (void)s;
    snprintf(last_started, sizeof(last_started), "%s", ns);
    return 0;
}

/* ------------------------------------------------------------------------ */

struct fixture {
    struct wdsmcd_config cfg;
    struct wdsmcd_content *contents[2];
    size_t n_contents[2];
    struct wdsmcd_commands k;
};

static struct wdsmcd_content content_a[] = {{.name = "disk.img", .path = "/srv/a/disk.img"},
                                            {.name = "x.wim", .path = "/srv/a/x.wim"}};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    wdsmcd_config_init(&f->cfg);
    char err[256];
    assert_int_equal(wdsmcd_config_add_namespace_arg(&f->cfg, "Images=/srv/a", err, sizeof(err)),
                     0);
    assert_int_equal(wdsmcd_config_add_namespace_arg(&f->cfg, "Lab=/srv/b", err, sizeof(err)), 0);
    f->cfg.ns[1].nc.mode = WDSMC_CAST_SCHEDULED;
    f->cfg.ns[1].nc.min_clients = 3;
    f->contents[0] = content_a;
    f->n_contents[0] = 2;
    f->k = (struct wdsmcd_commands){
            .server = NULL, .cfg = &f->cfg, .contents = f->contents, .n_contents = f->n_contents};

    memset(fake_sessions, 0, sizeof(fake_sessions));
    fake_sessions[0] = (struct wdsmc_session_info){.id = 7,
                                                   .ns = "Images",
                                                   .content = "disk.img",
                                                   .state = WDSMC_SESSION_SENDING,
                                                   .group = "239.192.48.1",
                                                   .port = 64000,
                                                   .clients = 2,
                                                   .content_size = 5000000000ULL,
                                                   .block_size = 8192,
                                                   .bytes_sent = 4000000000ULL,
                                                   .rate = 1.5e8,
                                                   .master_client_id = 11};
    fake_sessions[1] = (struct wdsmc_session_info){
            .id = 8, .ns = "Lab", .content = "c \"quoted\"", .state = WDSMC_SESSION_WAITING};
    fake_n_sessions = 2;
    fake_clients[0] = (struct wdsmc_client_info){.id = 11,
                                                 .name = "pc-1",
                                                 .address = "10.0.0.1:5000",
                                                 .progress = 80,
                                                 .time_in_session = 65,
                                                 .rtt_ms = 3,
                                                 .loss_rate = 0.01,
                                                 .master = true};
    fake_clients[1] = (struct wdsmc_client_info){.id = 12, .name = "pc-2", .kicked = true};
    last_kick_session = last_kick_client = last_terminate = 0;
    last_kick_reason = 0xff;
    last_started[0] = '\0';
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    wdsmcd_config_fini(&f->cfg);
    free(f);
    return 0;
}

/* Run one request; returns the parsed response (caller puts it). */
static struct json_object *run(struct fixture *f, const char *req)
{
    char *resp = wdsmcd_commands_handle(&f->k, req, strlen(req));
    assert_non_null(resp);
    assert_null(strchr(resp, '\n')); /* one line */
    struct json_object *o = json_tokener_parse(resp);
    if (!o)
        fail_msg("not JSON: %s", resp);
    free(resp);
    return o;
}

static const char *get_str(struct json_object *o, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        fail_msg("no '%s' in %s", key, json_object_to_json_string(o));
    return json_object_get_string(v);
}

static int64_t get_int(struct json_object *o, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        fail_msg("no '%s' in %s", key, json_object_to_json_string(o));
    return json_object_get_int64(v);
}

static void assert_ok(struct json_object *o)
{
    if (strcmp(get_str(o, "ok"), "true") != 0)
        fail_msg("not ok: %s", json_object_to_json_string(o));
}

static void assert_error(struct json_object *o, const char *code, const char *msg_part)
{
    assert_string_equal(get_str(o, "ok"), "false");
    assert_string_equal(get_str(o, "error"), code);
    if (msg_part && !strstr(get_str(o, "message"), msg_part))
        fail_msg("message '%s' lacks '%s'", get_str(o, "message"), msg_part);
}

static void test_commands_sessions_lists_every_field(void **state)
{
    struct fixture *f = *state;
    struct json_object *o = run(f, "{\"cmd\":\"sessions\"}");
    assert_ok(o);
    struct json_object *arr;
    assert_true(json_object_object_get_ex(o, "sessions", &arr));
    assert_int_equal(json_object_array_length(arr), 2);
    struct json_object *s = json_object_array_get_idx(arr, 0);
    assert_int_equal(get_int(s, "id"), 7);
    assert_string_equal(get_str(s, "namespace"), "Images");
    assert_string_equal(get_str(s, "content"), "disk.img");
    assert_string_equal(get_str(s, "state"), "sending");
    assert_string_equal(get_str(s, "group"), "239.192.48.1");
    assert_int_equal(get_int(s, "port"), 64000);
    assert_int_equal(get_int(s, "clients"), 2);
    assert_int_equal(get_int(s, "content_size"), 5000000000LL);
    assert_int_equal(get_int(s, "bytes_sent"), 4000000000LL);
    assert_int_equal(get_int(s, "rate"), 150000000);
    assert_int_equal(get_int(s, "master_client"), 11);
    s = json_object_array_get_idx(arr, 1);
    assert_string_equal(get_str(s, "content"), "c \"quoted\""); /* escaped and back */
    assert_string_equal(get_str(s, "state"), "waiting");
    json_object_put(o);

    fake_n_sessions = 0;
    o = run(f, "{\"cmd\":\"sessions\"}");
    assert_ok(o);
    assert_true(json_object_object_get_ex(o, "sessions", &arr));
    assert_int_equal(json_object_array_length(arr), 0);
    json_object_put(o);
}

static void test_commands_clients_of_a_session(void **state)
{
    struct fixture *f = *state;
    struct json_object *o = run(f, "{\"cmd\":\"clients\",\"session\":7}");
    assert_ok(o);
    assert_int_equal(get_int(o, "session"), 7);
    struct json_object *arr;
    assert_true(json_object_object_get_ex(o, "clients", &arr));
    assert_int_equal(json_object_array_length(arr), 2);
    struct json_object *c = json_object_array_get_idx(arr, 0);
    assert_int_equal(get_int(c, "id"), 11);
    assert_string_equal(get_str(c, "name"), "pc-1");
    assert_string_equal(get_str(c, "address"), "10.0.0.1:5000");
    assert_int_equal(get_int(c, "progress"), 80);
    assert_int_equal(get_int(c, "time_in_session"), 65);
    assert_int_equal(get_int(c, "rtt_ms"), 3);
    assert_string_equal(get_str(c, "master"), "true");
    assert_string_equal(get_str(c, "kicked"), "false");
    assert_string_equal(get_str(json_object_array_get_idx(arr, 1), "kicked"), "true");
    json_object_put(o);

    /* The id may come as a string, as shell scripts tend to send it. */
    o = run(f, "{\"cmd\":\"clients\",\"session\":\"8\"}");
    assert_ok(o);
    json_object_put(o);
}

static void test_commands_unknown_session_or_client_is_named(void **state)
{
    struct fixture *f = *state;
    struct json_object *o = run(f, "{\"cmd\":\"clients\",\"session\":99}");
    assert_error(o, "no-such-session", "no session 99");
    json_object_put(o);
    o = run(f, "{\"cmd\":\"terminate\",\"session\":99}");
    assert_error(o, "no-such-session", "no session 99");
    json_object_put(o);
    o = run(f, "{\"cmd\":\"kick\",\"session\":99,\"client\":11}");
    assert_error(o, "no-such-session", "no session 99");
    json_object_put(o);
    o = run(f, "{\"cmd\":\"kick\",\"session\":7,\"client\":13}");
    assert_error(o, "no-such-client", "no client 13 in session 7");
    json_object_put(o);
    o = run(f, "{\"cmd\":\"start\",\"namespace\":\"Nope\"}");
    assert_error(o, "no-such-namespace", "no namespace 'Nope'");
    json_object_put(o);
    assert_int_equal(last_terminate, 0);
    assert_int_equal(last_kick_client, 0);
    assert_string_equal(last_started, "");
}

static void test_commands_kick_maps_reasons(void **state)
{
    static const struct {
        const char *req;
        uint8_t reason;
    } cases[] = {
            {"{\"cmd\":\"kick\",\"session\":7,\"client\":12}", WDSMC_KICK_FAIL},
            {"{\"cmd\":\"kick\",\"session\":7,\"client\":12,\"reason\":\"fail\"}", WDSMC_KICK_FAIL},
            {"{\"cmd\":\"kick\",\"session\":7,\"client\":12,\"reason\":\"fallback\"}",
             WDSMC_KICK_FALLBACK},
            {"{\"cmd\":\"kick\",\"session\":7,\"client\":12,\"reason\":\"policy\"}",
             WDSMC_KICK_POLICY_NOT_MET},
    };
    struct fixture *f = *state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        last_kick_reason = 0xff;
        struct json_object *o = run(f, cases[i].req);
        assert_ok(o);
        json_object_put(o);
        assert_int_equal(last_kick_session, 7);
        assert_int_equal(last_kick_client, 12);
        assert_int_equal(last_kick_reason, cases[i].reason);
    }
    struct json_object *o =
            run(f, "{\"cmd\":\"kick\",\"session\":7,\"client\":12,\"reason\":\"x\"}");
    assert_error(o, "bad-request", "unknown kick reason 'x'");
    json_object_put(o);
    o = run(f, "{\"cmd\":\"kick\",\"session\":7,\"client\":12,\"reason\":1}");
    assert_error(o, "bad-request", "must be a string");
    json_object_put(o);
}

static void test_commands_terminate_and_start(void **state)
{
    struct fixture *f = *state;
    struct json_object *o = run(f, "{\"cmd\":\"terminate\",\"session\":8}");
    assert_ok(o);
    json_object_put(o);
    assert_int_equal(last_terminate, 8);
    o = run(f, "{\"cmd\":\"start\",\"namespace\":\"Lab\"}");
    assert_ok(o);
    json_object_put(o);
    assert_string_equal(last_started, "Lab");
    /* An Auto-Cast namespace has nothing to start. */
    last_started[0] = '\0';
    o = run(f, "{\"cmd\":\"start\",\"namespace\":\"Images\"}");
    assert_error(o, "not-scheduled", "Auto-Cast");
    json_object_put(o);
    assert_string_equal(last_started, "");
}

static void test_commands_refuse_changes_while_shutting_down(void **state)
{
    struct fixture *f = *state;
    f->k.shutting_down = true;
    struct json_object *o = run(f, "{\"cmd\":\"terminate\",\"session\":7}");
    assert_error(o, "shutting-down", NULL);
    json_object_put(o);
    o = run(f, "{\"cmd\":\"sessions\"}"); /* listing still works */
    assert_ok(o);
    json_object_put(o);
    assert_int_equal(last_terminate, 0);
}

static void test_commands_namespaces_lists_settings_and_contents(void **state)
{
    struct fixture *f = *state;
    struct json_object *o = run(f, "{\"cmd\":\"namespaces\"}");
    assert_ok(o);
    struct json_object *arr, *files;
    assert_true(json_object_object_get_ex(o, "namespaces", &arr));
    assert_int_equal(json_object_array_length(arr), 2);
    struct json_object *n = json_object_array_get_idx(arr, 0);
    assert_string_equal(get_str(n, "name"), "Images");
    assert_string_equal(get_str(n, "cast"), "auto");
    assert_int_equal(get_int(n, "block_size"), 8192);
    assert_true(json_object_object_get_ex(n, "contents", &files));
    assert_int_equal(json_object_array_length(files), 2);
    assert_string_equal(json_object_get_string(json_object_array_get_idx(files, 1)), "x.wim");
    n = json_object_array_get_idx(arr, 1);
    assert_string_equal(get_str(n, "cast"), "scheduled");
    assert_int_equal(get_int(n, "min_clients"), 3);
    json_object_put(o);
}

static void test_commands_malformed_requests(void **state)
{
    static const struct {
        const char *req;
        const char *code;
        const char *msg;
    } cases[] = {
            {"sessions", "bad-request", "not a JSON object"},
            {"{\"cmd\":\"sessions\"", "bad-request", "not a JSON object"},
            {"{\"cmd\":\"sessions\"} x", "bad-request", "trailing bytes"},
            {"[1,2]", "bad-request", "expected {\"cmd\""},
            {"{\"cmd\":5}", "bad-request", "expected {\"cmd\""},
            {"{\"cmd\":\"reboot\"}", "unknown-command", "unknown command 'reboot'"},
            {"{\"cmd\":\"clients\"}", "bad-request", "needs \"session\""},
            {"{\"cmd\":\"clients\",\"session\":-1}", "bad-request", "needs \"session\""},
            {"{\"cmd\":\"clients\",\"session\":4294967296}", "bad-request", "needs \"session\""},
            {"{\"cmd\":\"clients\",\"session\":\"7x\"}", "bad-request", "needs \"session\""},
            {"{\"cmd\":\"kick\",\"session\":7}", "bad-request", "needs \"session\" and \"client\""},
            {"{\"cmd\":\"start\"}", "bad-request", "needs \"namespace\""},
            {"{\"a\":[[[[[[[[[[[[1]]]]]]]]]]]]}", "bad-request", "not a JSON object"},
    };
    struct fixture *f = *state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct json_object *o = run(f, cases[i].req);
        assert_error(o, cases[i].code, cases[i].msg);
        json_object_put(o);
    }
    /* Trailing blanks are fine. */
    struct json_object *o = run(f, "{\"cmd\":\"sessions\"}  ");
    assert_ok(o);
    json_object_put(o);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
            T(test_commands_sessions_lists_every_field),
            T(test_commands_clients_of_a_session),
            T(test_commands_unknown_session_or_client_is_named),
            T(test_commands_kick_maps_reasons),
            T(test_commands_terminate_and_start),
            T(test_commands_refuse_changes_while_shutting_down),
            T(test_commands_namespaces_lists_settings_and_contents),
            T(test_commands_malformed_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
