/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the text wdsmcd takes from outside (contrib/wdsmcd):
 * the users file, the configuration file, sizes and times as its keys spell
 * them, and control-socket requests. The first byte picks the parser; the
 * rest is its input. Beyond "does not crash or leak" it checks:
 *
 *   - a users file that parses has names a file may hold, and each account
 *     is found again by wdsmcd_users_lookup() under its own name; rewritten
 *     by wdsmcd_users_edit() (an account's hash replaced, an account removed,
 *     one added) it parses again with one account more, the same or one
 *     fewer, and the lookup gives the hash just written;
 *   - a configuration file that loads and passes wdsmcd_config_finish()
 *     holds the limits config.h documents (block size, TTL, rates, the
 *     cross-field checks), and one that does not names the file first in
 *     its message;
 *   - a size parses under a maximum exactly when it parses under UINT64_MAX
 *     to a value within that maximum (the same value), and prints back as
 *     decimal to that value; a time is positive and its "@SECONDS" and
 *     "YYYY-MM-DD HH:MM:SS" spellings parse back to it;
 *   - every control request gets one JSON object back, without a newline
 *     (the protocol is one line per message), with "ok" and, when refused,
 *     an "error" code. The engine is a fake (below), as in
 *     tests/unit/test_wdsmcd_commands.c: commands.c only calls it.
 */
#include <assert.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "fuzz.h"
#include "users.h"

enum { PICK_USERS, PICK_CONFIG, PICK_VALUE, PICK_COMMAND, PICK_COUNT };

/* The inputs are bounded by libFuzzer's -max_len and replay.c's 128 KiB. */
static char text[(1 << 17) + 1];

static const char *c_string(const uint8_t *d, size_t n)
{
    if (n >= sizeof(text))
        n = sizeof(text) - 1;
    memcpy(text, d, n);
    text[n] = '\0';
    return text;
}

/* ------------------------------------------------------------------------ */
/* Users file                                                                */
/* ------------------------------------------------------------------------ */

static void check_name(const char *s)
{
    size_t n = strlen(s);

    assert(n >= 1 && n <= WDSMCD_USER_MAX);
    assert(!strpbrk(s, ":\\") && s[0] != ' ' && s[n - 1] != ' ');
}

/* Edit the text to set (user, domain) to hash, or remove it (hash NULL):
 * the result must parse, with one account more than `before` for a new
 * account, as many for a replaced one, one fewer for a removed one. */
static void edit_and_reparse(const char *in, size_t len, const char *user, const char *domain,
                             const uint8_t *hash, size_t before)
{
    char *out, err[512];
    size_t out_len;
    bool found;
    struct wdsmcd_users u;
    uint8_t got[16];

    /* The text parsed, and only an account it holds is removed: the edit
     * cannot fail. */
    int r = wdsmcd_users_edit(in, len, "users", user, domain, hash, &out, &out_len, &found, err,
                              sizeof(err));
    assert(r == 0 && strlen(out) == out_len);
    r = wdsmcd_users_parse(out, out_len, "edited", &u, err, sizeof(err));
    assert(r == 0);
    if (hash) {
        assert(u.n == before + !found);
        assert(wdsmcd_users_lookup(&u, user, domain, got) == 0 && !memcmp(got, hash, 16));
    } else {
        assert(found && u.n == before - 1);
    }
    wdsmcd_users_fini(&u);
    free(out);
}

static void users(const uint8_t *d, size_t n)
{
    struct wdsmcd_users u;
    char err[512];
    uint8_t got[16];

    /* The parser takes a length, not a C string: hand it the bytes as they
     * are, so that ASan sees a read past them. */
    if (wdsmcd_users_parse((const char *)d, n, "users", &u, err, sizeof(err)) != 0)
        return;
    for (size_t i = 0; i < u.n; i++) {
        const struct wdsmcd_user *e = &u.v[i];
        check_name(e->user);
        if (e->domain)
            check_name(e->domain);
        /* No two entries share a name (case aside): each finds itself. */
        assert(wdsmcd_users_lookup(&u, e->user, e->domain, got) == 0);
        assert(!memcmp(got, e->nt_hash, 16));
    }
    if (u.n > 0) {
        uint8_t other[16];
        for (int i = 0; i < 16; i++)
            other[i] = (uint8_t)~u.v[0].nt_hash[i];
        edit_and_reparse((const char *)d, n, u.v[0].user, u.v[0].domain, other, u.n);
        edit_and_reparse((const char *)d, n, u.v[u.n - 1].user, u.v[u.n - 1].domain, NULL, u.n);
    }
    static const uint8_t fresh[16] = {0xa4, 0xf4, 0x9c, 0x40};
    edit_and_reparse((const char *)d, n, "fuzz", "LAB", fresh, u.n);
    wdsmcd_users_fini(&u);
}

/* ------------------------------------------------------------------------ */
/* Configuration file                                                        */
/* ------------------------------------------------------------------------ */

/* wdsmcd_config_load_file() reads a path; the file is made once and
 * unlinked at once, and reached through /proc, so that no crash or merge
 * run leaves files behind in /tmp. */
static int conf_fd = -1;
static char conf_path[64];

static void conf_once(void)
{
    char tmpl[] = "/tmp/fuzz_wdsmcd.XXXXXX";

    if (conf_fd >= 0)
        return;
    conf_fd = mkstemp(tmpl);
    assert(conf_fd >= 0);
    unlink(tmpl);
    snprintf(conf_path, sizeof(conf_path), "/proc/self/fd/%d", conf_fd);
}

static void check_config(const struct wdsmcd_config *c)
{
    unsigned max_clients = c->max_clients ? c->max_clients : 200;

    assert(c->control_path && c->n_ns >= 1 && c->n_ns <= WDSMCD_MAX_NAMESPACES);
    assert(c->msi_udp || c->rpc_port != 0);
    for (size_t i = 0; i < c->n_ns; i++) {
        const struct wdsmcd_namespace *ns = &c->ns[i];
        const struct wdsmc_namespace_config *nc = &ns->nc;
        assert(ns->name && ns->path && ns->origin);
        assert(strlen(ns->name) >= 1 && strlen(ns->name) <= WDSMCD_NAME_MAX);
        assert(nc->block_size == 0 || (nc->block_size >= 512 && nc->block_size <= 65448));
        assert(nc->ttl >= -1 && nc->ttl <= 255);
        assert(nc->max_rate <= 1ULL << 40 && nc->min_rate <= 1ULL << 40);
        assert(nc->mode == WDSMC_CAST_SCHEDULED || (!nc->min_clients && !nc->start_time));
        assert(nc->min_clients <= max_clients);
        assert((nc->slow_policy == WDSMC_SLOW_NONE) == (nc->min_rate == 0));
        assert((nc->slow_policy == WDSMC_SLOW_MULTISTREAM) == (nc->demote_rate != 0));
    }
}

static void config(const uint8_t *d, size_t n)
{
    struct wdsmcd_config c;
    char err[1024];

    conf_once();
    assert(ftruncate(conf_fd, 0) == 0);
    assert(pwrite(conf_fd, d, n, 0) == (ssize_t)n);
    wdsmcd_config_init(&c);
    if (wdsmcd_config_load_file(&c, conf_path, err, sizeof(err)) != 0) {
        assert(!strncmp(err, conf_path, strlen(conf_path)));
    } else if (wdsmcd_config_finish(&c, err, sizeof(err)) == 0) {
        check_config(&c);
    }
    wdsmcd_config_fini(&c);
}

/* ------------------------------------------------------------------------ */
/* Sizes and times                                                           */
/* ------------------------------------------------------------------------ */

/* The maxima wdsmcd passes (rates, block sizes), the widest, and none. */
static const uint64_t size_max[] = {UINT64_MAX, 1ULL << 40, 65448, 0};

static void size_value(const char *s, uint64_t max)
{
    const uint64_t unset = 0x5a5a5a5a5a5a5a5a;
    uint64_t all = unset, v = unset, again;
    char dec[32];

    int r_all = wdsmcd_parse_size(s, UINT64_MAX, &all);
    int r = wdsmcd_parse_size(s, max, &v);
    assert(r == 0 || r == -EINVAL);
    assert((r == 0) == (r_all == 0 && all <= max));
    if (r != 0) {
        assert(v == unset); /* untouched on failure (wdsmc/size.h) */
        return;
    }
    assert(v == all);
    snprintf(dec, sizeof(dec), "%" PRIu64, v);
    assert(wdsmcd_parse_size(dec, max, &again) == 0 && again == v);
}

static void time_value(const char *s)
{
    int64_t t, again;
    char buf[64];
    struct tm tm;

    if (wdsmcd_parse_time(s, &t) != 0)
        return;
    assert(t > 0);
    snprintf(buf, sizeof(buf), "@%" PRId64, t);
    assert(wdsmcd_parse_time(buf, &again) == 0 && again == t);
    /* strptime's %Y reads at most four digits: a date mktime carried past
     * 9999 ("9999-12-31 23:59:60") has no spelling of this form. */
    time_t tt = (time_t)t;
    if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 > 9999)
        return;
    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
    assert(wdsmcd_parse_time(buf, &again) == 0 && again == t);
}

static void value(const uint8_t *d, size_t n)
{
    if (n < 1)
        return;
    /* The first byte picks the maximum; the rest is the text. */
    const char *s = c_string(d + 1, n - 1);
    size_value(s, size_max[d[0] % (sizeof(size_max) / sizeof(size_max[0]))]);
    time_value(s);
}

/* ------------------------------------------------------------------------ */
/* Control requests, against a fake engine                                   */
/* ------------------------------------------------------------------------ */

/* Session 7 has clients 11 and 12, session 8 none; session 9 makes every
 * call fail with -EIO so that the "internal" answers are reached. */
static const struct wdsmc_session_info fake_sessions[] = {
        {.id = 7,
         .ns = "Images",
         .content = "disk.img",
         .state = WDSMC_SESSION_SENDING,
         .group = "239.192.48.1",
         .port = 64000,
         .clients = 2,
         .block_size = 8192,
         .rate = 1.5e8,
         .master_client_id = 11},
        {.id = 8, .ns = "Lab", .content = "c \"quoted\"\n", .state = WDSMC_SESSION_WAITING},
        {.id = 9, .ns = "Lab", .content = "x", .state = WDSMC_SESSION_ENDING},
};
static const struct wdsmc_client_info fake_clients[] = {
        {.id = 11, .name = "pc-1", .address = "10.0.0.1:5000", .progress = 180, .master = true},
        {.id = 12, .name = "pc\t2", .kicked = true},
};
#define N_FAKE_SESSIONS (sizeof(fake_sessions) / sizeof(fake_sessions[0]))

size_t wdsmc_server_sessions(struct wdsmc_server *s, struct wdsmc_session_info *out, size_t cap)
{
    (void)s;
    for (size_t i = 0; i < N_FAKE_SESSIONS && i < cap; i++)
        out[i] = fake_sessions[i];
    return N_FAKE_SESSIONS;
}

int wdsmc_server_clients(struct wdsmc_server *s, uint32_t session_id, struct wdsmc_client_info *out,
                         size_t cap)
{
    (void)s;
    if (session_id == 9)
        return -EIO;
    if (session_id == 8)
        return 0;
    if (session_id != 7)
        return -ENOENT;
    for (size_t i = 0; i < 2 && i < cap; i++)
        out[i] = fake_clients[i];
    return 2;
}

int wdsmc_server_kick(struct wdsmc_server *s, uint32_t session_id, uint32_t client_id,
                      uint8_t reason)
{
    (void)s;
    (void)reason;
    if (session_id == 9)
        return -EIO;
    return session_id == 7 && (client_id == 11 || client_id == 12) ? 0 : -ENOENT;
}

int wdsmc_server_terminate(struct wdsmc_server *s, uint32_t session_id)
{
    (void)s;
    if (session_id == 9)
        return -EIO;
    return session_id == 7 || session_id == 8 ? 0 : -ENOENT;
}

int wdsmc_server_start_namespace(struct wdsmc_server *s, const char *ns)
{
    (void)s;
    return strcmp(ns, "Lab") == 0 ? 0 : -ENOENT;
}

/* Two namespaces, Images (Auto-Cast, two files) and Lab (Scheduled-Cast).
 * Built once; a fuzzer process never frees it. */
static struct wdsmcd_config cmd_cfg;
static struct wdsmcd_content images_files[] = {{.name = "disk.img", .path = "/srv/a/disk.img"},
                                               {.name = "x\".wim", .path = "/srv/a/x\".wim"}};
static struct wdsmcd_content *cmd_contents[2] = {images_files, NULL};
static const size_t cmd_n_contents[2] = {2, 0};

static void commands_once(void)
{
    static int done;
    char err[256];

    if (done)
        return;
    done = 1;
    wdsmcd_config_init(&cmd_cfg);
    int e1 = wdsmcd_config_add_namespace_arg(&cmd_cfg, "Images=/srv/a", err, sizeof(err));
    int e2 = wdsmcd_config_add_namespace_arg(&cmd_cfg, "Lab=/srv/b", err, sizeof(err));
    assert(e1 == 0 && e2 == 0);
    cmd_cfg.ns[1].nc.mode = WDSMC_CAST_SCHEDULED;
}

static void command(const uint8_t *d, size_t n, bool shutting_down)
{
    struct wdsmcd_commands k = {.cfg = &cmd_cfg,
                                .contents = cmd_contents,
                                .n_contents = cmd_n_contents,
                                .shutting_down = shutting_down};
    struct json_object *ok, *code;

    commands_once();
    /* A length, not a C string, as control.c passes it. */
    char *resp = wdsmcd_commands_handle(&k, (const char *)d, n);
    assert(resp && !strchr(resp, '\n'));
    struct json_object *o = json_tokener_parse(resp);
    assert(o && json_object_is_type(o, json_type_object));
    assert(json_object_object_get_ex(o, "ok", &ok) && json_object_is_type(ok, json_type_boolean));
    if (!json_object_get_boolean(ok))
        assert(json_object_object_get_ex(o, "error", &code) &&
               json_object_is_type(code, json_type_string));
    json_object_put(o);
    free(resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int tz_set;

    if (size < 1)
        return 0;
    /* Times are local: fix the zone so that a run does not depend on the
     * host, and mktime() need not read /etc/localtime for every input. */
    if (!tz_set) {
        setenv("TZ", "UTC", 1);
        tzset();
        tz_set = 1;
    }
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    switch (data[0] % PICK_COUNT) {
    case PICK_USERS:
        users(d, n);
        break;
    case PICK_CONFIG:
        config(d, n);
        break;
    case PICK_VALUE:
        value(d, n);
        break;
    default:
        /* The bit above the pick says whether wdsmcd is shutting down. */
        command(d, n, (data[0] / PICK_COUNT) & 1);
        break;
    }
    return 0;
}
