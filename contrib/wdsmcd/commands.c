/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "wdsmc/codec.h"

const char *wdsmcd_session_state_name(enum wdsmc_session_state s)
{
    switch (s) {
    case WDSMC_SESSION_WAITING:
        return "waiting";
    case WDSMC_SESSION_QUERYING:
        return "querying";
    case WDSMC_SESSION_SENDING:
        return "sending";
    case WDSMC_SESSION_ENDING:
        return "ending";
    }
    return "unknown";
}

/* Serialise and free `o`. */
static char *finish(struct json_object *o)
{
    if (!o)
        return NULL;
    const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE);
    char *ret = s ? strdup(s) : NULL;
    json_object_put(o);
    return ret;
}

static char *error_response(const char *code, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static char *error_response(const char *code, const char *fmt, ...)
{
    char msg[600];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    json_object_object_add(o, "ok", json_object_new_boolean(0));
    json_object_object_add(o, "error", json_object_new_string(code));
    json_object_object_add(o, "message", json_object_new_string(msg));
    return finish(o);
}

static struct json_object *ok_object(void)
{
    struct json_object *o = json_object_new_object();
    if (o)
        json_object_object_add(o, "ok", json_object_new_boolean(1));
    return o;
}

/* A request's unsigned 32-bit id field: 0 and *ret, or -EINVAL. Accepts a
 * JSON integer or a string of digits (what a shell script is likely to
 * send). */
static int get_id(struct json_object *req, const char *key, uint32_t *ret)
{
    struct json_object *v;

    if (!json_object_object_get_ex(req, key, &v))
        return -EINVAL;
    if (json_object_is_type(v, json_type_int)) {
        int64_t n = json_object_get_int64(v);
        if (n < 0 || n > UINT32_MAX)
            return -EINVAL;
        *ret = (uint32_t)n;
        return 0;
    }
    if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        char *end;
        if (!*s || *s < '0' || *s > '9')
            return -EINVAL;
        errno = 0;
        unsigned long long n = strtoull(s, &end, 10);
        if (errno || *end || n > UINT32_MAX)
            return -EINVAL;
        *ret = (uint32_t)n;
        return 0;
    }
    return -EINVAL;
}

static const char *get_string(struct json_object *req, const char *key)
{
    struct json_object *v;

    if (!json_object_object_get_ex(req, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static struct json_object *session_json(const struct wdsmc_session_info *si)
{
    struct json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    json_object_object_add(o, "id", json_object_new_int64(si->id));
    json_object_object_add(o, "namespace", json_object_new_string(si->ns));
    json_object_object_add(o, "content", json_object_new_string(si->content));
    json_object_object_add(o, "state",
                           json_object_new_string(wdsmcd_session_state_name(si->state)));
    json_object_object_add(o, "group", json_object_new_string(si->group));
    json_object_object_add(o, "port", json_object_new_int(si->port));
    json_object_object_add(o, "clients", json_object_new_int64(si->clients));
    json_object_object_add(o, "content_size", json_object_new_uint64(si->content_size));
    json_object_object_add(o, "block_size", json_object_new_int64(si->block_size));
    json_object_object_add(o, "bytes_sent", json_object_new_uint64(si->bytes_sent));
    json_object_object_add(o, "rate", json_object_new_double(si->rate > 0 ? si->rate : 0));
    json_object_object_add(o, "master_client", json_object_new_int64(si->master_client_id));
    json_object_object_add(o, "lower_stream", json_object_new_boolean(si->lower_stream));
    return o;
}

static struct json_object *client_json(const struct wdsmc_client_info *ci)
{
    struct json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    json_object_object_add(o, "id", json_object_new_int64(ci->id));
    json_object_object_add(o, "name", json_object_new_string(ci->name));
    json_object_object_add(o, "address", json_object_new_string(ci->address));
    json_object_object_add(o, "progress",
                           json_object_new_int(ci->progress > 100 ? 100 : (int)ci->progress));
    json_object_object_add(o, "time_in_session", json_object_new_int64(ci->time_in_session));
    json_object_object_add(o, "rtt_ms", json_object_new_int64(ci->rtt_ms));
    json_object_object_add(o, "loss_rate", json_object_new_double(ci->loss_rate));
    json_object_object_add(o, "master", json_object_new_boolean(ci->master));
    json_object_object_add(o, "kicked", json_object_new_boolean(ci->kicked));
    return o;
}

static char *cmd_sessions(struct wdsmcd_commands *k)
{
    size_t n = wdsmc_server_sessions(k->server, NULL, 0);
    if (n > WDSMCD_MAX_LISTED_SESSIONS)
        n = WDSMCD_MAX_LISTED_SESSIONS;
    struct wdsmc_session_info *v = n ? calloc(n, sizeof(*v)) : NULL;
    if (n && !v)
        return NULL;
    /* Sessions may have come or gone in between: list what fits now. */
    size_t got = n ? wdsmc_server_sessions(k->server, v, n) : 0;
    if (got > n)
        got = n;
    struct json_object *o = ok_object();
    struct json_object *arr = json_object_new_array();
    if (!o || !arr) {
        json_object_put(o);
        json_object_put(arr);
        free(v);
        return NULL;
    }
    for (size_t i = 0; i < got; i++)
        json_object_array_add(arr, session_json(&v[i]));
    json_object_object_add(o, "sessions", arr);
    free(v);
    return finish(o);
}

static char *cmd_clients(struct wdsmcd_commands *k, struct json_object *req)
{
    uint32_t sid;

    if (get_id(req, "session", &sid) < 0)
        return error_response("bad-request", "'clients' needs \"session\": a session id");
    struct wdsmc_client_info *v = calloc(WDSMCD_MAX_LISTED_CLIENTS, sizeof(*v));
    if (!v)
        return NULL;
    int n = wdsmc_server_clients(k->server, sid, v, WDSMCD_MAX_LISTED_CLIENTS);
    if (n < 0) {
        free(v);
        if (n == -ENOENT)
            return error_response("no-such-session", "no session %" PRIu32, sid);
        return error_response("internal", "session %" PRIu32 ": %s", sid, strerror(-n));
    }
    if (n > WDSMCD_MAX_LISTED_CLIENTS)
        n = WDSMCD_MAX_LISTED_CLIENTS;
    struct json_object *o = ok_object();
    struct json_object *arr = json_object_new_array();
    if (!o || !arr) {
        json_object_put(o);
        json_object_put(arr);
        free(v);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        json_object_array_add(arr, client_json(&v[i]));
    json_object_object_add(o, "session", json_object_new_int64(sid));
    json_object_object_add(o, "clients", arr);
    free(v);
    return finish(o);
}

static bool session_exists(struct wdsmcd_commands *k, uint32_t sid)
{
    return wdsmc_server_clients(k->server, sid, NULL, 0) != -ENOENT;
}

static char *cmd_terminate(struct wdsmcd_commands *k, struct json_object *req)
{
    uint32_t sid;

    if (get_id(req, "session", &sid) < 0)
        return error_response("bad-request", "'terminate' needs \"session\": a session id");
    int r = wdsmc_server_terminate(k->server, sid);
    if (r == -ENOENT)
        return error_response("no-such-session", "no session %" PRIu32, sid);
    if (r < 0)
        return error_response("internal", "terminate session %" PRIu32 ": %s", sid, strerror(-r));
    return finish(ok_object());
}

static int kick_reason(const char *s, uint8_t *ret)
{
    if (!s || !strcmp(s, "fail"))
        *ret = WDSMC_KICK_FAIL;
    else if (!strcmp(s, "fallback"))
        *ret = WDSMC_KICK_FALLBACK;
    else if (!strcmp(s, "policy"))
        *ret = WDSMC_KICK_POLICY_NOT_MET;
    else
        return -EINVAL;
    return 0;
}

static char *cmd_kick(struct wdsmcd_commands *k, struct json_object *req)
{
    uint32_t sid, cid;
    uint8_t reason;

    if (get_id(req, "session", &sid) < 0 || get_id(req, "client", &cid) < 0)
        return error_response("bad-request", "'kick' needs \"session\" and \"client\": ids");
    struct json_object *rv;
    const char *rs = NULL;
    if (json_object_object_get_ex(req, "reason", &rv) && !(rs = get_string(req, "reason")))
        return error_response("bad-request", "\"reason\" must be a string");
    if (kick_reason(rs, &reason) < 0)
        return error_response("bad-request", "unknown kick reason '%s' (fail, fallback, policy)",
                              rs);
    if (!session_exists(k, sid))
        return error_response("no-such-session", "no session %" PRIu32, sid);
    int r = wdsmc_server_kick(k->server, sid, cid, reason);
    if (r == -ENOENT)
        return error_response("no-such-client", "no client %" PRIu32 " in session %" PRIu32, cid,
                              sid);
    if (r < 0)
        return error_response("internal", "kick client %" PRIu32 ": %s", cid, strerror(-r));
    return finish(ok_object());
}

static const struct wdsmcd_namespace *find_ns(const struct wdsmcd_config *cfg, const char *name,
                                              size_t *idx)
{
    for (size_t i = 0; cfg && i < cfg->n_ns; i++) {
        if (!strcmp(cfg->ns[i].name, name)) {
            if (idx)
                *idx = i;
            return &cfg->ns[i];
        }
    }
    return NULL;
}

static char *cmd_start(struct wdsmcd_commands *k, struct json_object *req)
{
    const char *name = get_string(req, "namespace");

    if (!name)
        return error_response("bad-request", "'start' needs \"namespace\": a name");
    const struct wdsmcd_namespace *ns = find_ns(k->cfg, name, NULL);
    if (k->cfg && !ns)
        return error_response("no-such-namespace", "no namespace '%s'", name);
    if (ns && ns->nc.mode != WDSMC_CAST_SCHEDULED)
        return error_response("not-scheduled",
                              "namespace '%s' is Auto-Cast: its sessions start by themselves",
                              name);
    int r = wdsmc_server_start_namespace(k->server, name);
    if (r == -ENOENT)
        return error_response("no-such-namespace", "no namespace '%s'", name);
    if (r < 0)
        return error_response("internal", "start namespace '%s': %s", name, strerror(-r));
    return finish(ok_object());
}

static char *cmd_namespaces(struct wdsmcd_commands *k)
{
    struct json_object *o = ok_object();
    struct json_object *arr = json_object_new_array();

    if (!o || !arr) {
        json_object_put(o);
        json_object_put(arr);
        return NULL;
    }
    for (size_t i = 0; k->cfg && i < k->cfg->n_ns; i++) {
        const struct wdsmcd_namespace *ns = &k->cfg->ns[i];
        const struct wdsmc_namespace_config *nc = &ns->nc;
        struct json_object *n = json_object_new_object();
        struct json_object *files = json_object_new_array();
        if (!n || !files) {
            json_object_put(n);
            json_object_put(files);
            json_object_put(o);
            json_object_put(arr);
            return NULL;
        }
        json_object_object_add(n, "name", json_object_new_string(ns->name));
        json_object_object_add(n, "path", json_object_new_string(ns->path));
        json_object_object_add(n, "cast", json_object_new_string(wdsmcd_cast_mode_name(nc->mode)));
        json_object_object_add(n, "min_clients", json_object_new_int64(nc->min_clients));
        json_object_object_add(n, "start_time", json_object_new_int64(nc->start_time));
        json_object_object_add(n, "block_size",
                               json_object_new_int64(nc->block_size ? nc->block_size : 8192));
        json_object_object_add(n, "max_rate", json_object_new_uint64(nc->max_rate));
        json_object_object_add(n, "ttl", json_object_new_int(nc->ttl < 0 ? 1 : nc->ttl));
        json_object_object_add(n, "slow_client_policy",
                               json_object_new_string(wdsmcd_slow_policy_name(nc->slow_policy)));
        json_object_object_add(n, "min_rate", json_object_new_uint64(nc->min_rate));
        json_object_object_add(n, "demote_rate", json_object_new_uint64(nc->demote_rate));
        for (size_t j = 0; k->contents && k->n_contents && j < k->n_contents[i]; j++)
            json_object_array_add(files, json_object_new_string(k->contents[i][j].name));
        json_object_object_add(n, "contents", files);
        json_object_array_add(arr, n);
    }
    json_object_object_add(o, "namespaces", arr);
    return finish(o);
}

char *wdsmcd_commands_handle(void *ctx, const char *line, size_t len)
{
    struct wdsmcd_commands *k = ctx;
    struct json_tokener *tok = json_tokener_new_ex(8);

    if (!tok)
        return NULL;
    struct json_object *req = json_tokener_parse_ex(tok, line, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!req || jerr != json_tokener_success) {
        json_object_put(req);
        return error_response("bad-request", "not a JSON object: %s",
                              jerr == json_tokener_continue ? "unexpected end of line"
                                                            : json_tokener_error_desc(jerr));
    }
    for (; end < len; end++) {
        if (line[end] != ' ' && line[end] != '\t') {
            json_object_put(req);
            return error_response("bad-request", "trailing bytes after the JSON object");
        }
    }
    char *resp;
    const char *cmd = json_object_is_type(req, json_type_object) ? get_string(req, "cmd") : NULL;
    if (!cmd) {
        resp = error_response("bad-request", "expected {\"cmd\": \"...\", ...}");
    } else if (!strcmp(cmd, "sessions")) {
        resp = cmd_sessions(k);
    } else if (!strcmp(cmd, "clients")) {
        resp = cmd_clients(k, req);
    } else if (!strcmp(cmd, "namespaces")) {
        resp = cmd_namespaces(k);
    } else if (!strcmp(cmd, "terminate") || !strcmp(cmd, "kick") || !strcmp(cmd, "start")) {
        if (k->shutting_down)
            resp = error_response("shutting-down", "wdsmcd is shutting down");
        else if (cmd[0] == 't')
            resp = cmd_terminate(k, req);
        else if (cmd[0] == 'k')
            resp = cmd_kick(k, req);
        else
            resp = cmd_start(k, req);
    } else {
        resp = error_response("unknown-command", "unknown command '%.64s'", cmd);
    }
    json_object_put(req);
    return resp;
}
