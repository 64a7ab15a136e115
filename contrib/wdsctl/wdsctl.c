/* SPDX-License-Identifier: MIT */
/*
 * wdsctl: administer a running wdsmcd(8) over its control socket
 * (doc/control-protocol.md): list sessions and clients, terminate a session,
 * kick a client, start a Scheduled-Cast, watch transfers live.
 *
 * Exit status: 0 done, 1 failed (unknown session or client, daemon not
 * reachable...), 2 bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libgen.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ntlm.h"
#include "users.h"

#ifndef WDSCTL_VERSION
#define WDSCTL_VERSION "unknown"
#endif
#ifndef WDSCTL_DEFAULT_SOCKET
#define WDSCTL_DEFAULT_SOCKET "/run/wdsmcd/control.sock"
#endif

#define EXIT_USAGE        2
#define MAX_RESPONSE      (64u << 20) /* bytes; far above any real listing */
#define IO_TIMEOUT_MS     10000
#define TERMINATE_WAIT_MS 35000 /* the engine gives up kicking after 30 s */

struct ctl {
    const char *path;
    int fd;
    char *buf; /* bytes received and not yet consumed */
    size_t len, cap;
};

static bool json_out;

static void usage(FILE *f)
{
    fprintf(f, "usage: wdsctl [-S SOCKET] [--json] COMMAND [ARGS]\n"
               "\n"
               "Administer a running wdsmcd.\n"
               "\n"
               "Commands:\n"
               "  sessions                      list sessions: id, namespace, content, state,\n"
               "                                clients, bytes sent, current rate\n"
               "  clients SESSION               list a session's clients: id, name, address,\n"
               "                                progress, time in session, RTT, loss, master\n"
               "  terminate SESSION [--no-wait] kick every client (reason FAIL) and end the\n"
               "                                session; waits until it is gone\n"
               "  kick SESSION CLIENT [--reason fail|fallback|policy]\n"
               "                                kick one client (default reason: fail)\n"
               "  start NAMESPACE               start a Scheduled-Cast namespace now\n"
               "  namespaces                    list namespaces and their contents\n"
               "  watch [--interval SECONDS] [--count N]\n"
               "                                live progress per session and client\n"
               "  useradd [DOMAIN\\]USER [--users FILE]\n"
               "                                add a user for MS-WDSC (RPC) logons, or change\n"
               "                                its password: read from the terminal (twice)\n"
               "                                or one line of standard input; stored as its\n"
               "                                NT hash (default FILE " WDSMCD_DEFAULT_USERS ")\n"
               "  userdel [DOMAIN\\]USER [--users FILE]\n"
               "                                remove a user from the users file\n"
               "\n"
               "Options:\n"
               "  -S, --socket SOCKET   wdsmcd's control socket (default $WDSCTL_SOCKET or\n"
               "                        " WDSCTL_DEFAULT_SOCKET ")\n"
               "  -j, --json            print the daemon's JSON response (one line)\n"
               "  -h, --help            this text\n"
               "  -V, --version         print the version\n"
               "\n"
               "Exit status: 0 done, 1 failed (unknown session or client, daemon not\n"
               "reachable...), 2 bad usage.\n");
}

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die_usage(const char *fmt, ...)
{
    va_list ap;

    fputs("wdsctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'wdsctl --help'.\n", stderr);
    exit(EXIT_USAGE);
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void fail(const char *fmt, ...)
{
    va_list ap;

    fputs("wdsctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* ------------------------------------------------------------------------ */
/* Talking to wdsmcd                                                         */
/* ------------------------------------------------------------------------ */

static void ctl_connect(struct ctl *c, const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};

    c->path = path;
    if (strlen(path) >= sizeof(sun.sun_path))
        die_usage("socket path '%s' is longer than %zu bytes", path, sizeof(sun.sun_path) - 1);
    memcpy(sun.sun_path, path, strlen(path) + 1);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        fail("socket: %s", strerror(errno));
    if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        int e = errno;
        fail("cannot connect to %s: %s%s", path, strerror(e),
             e == ENOENT || e == ECONNREFUSED ? " (is wdsmcd running? -S names another socket)"
             : e == EACCES                    ? " (run as wdsmcd's user or root)"
                                              : "");
    }
}

static int wait_fd(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};

    for (;;) {
        int r = poll(&p, 1, IO_TIMEOUT_MS);
        if (r > 0)
            return 0;
        if (r == 0)
            return -ETIMEDOUT;
        if (errno != EINTR)
            return -errno;
    }
}

static void ctl_send(struct ctl *c, const char *text)
{
    size_t n = strlen(text), off = 0;
    char *line = malloc(n + 1);

    if (!line)
        fail("out of memory");
    memcpy(line, text, n);
    line[n++] = '\n';
    while (off < n) {
        ssize_t w = send(c->fd, line + off, n - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            fail("lost the connection to wdsmcd (%s): %s", c->path, strerror(errno));
        off += (size_t)w;
    }
    free(line);
}

/* Read one response line; returns it parsed (caller puts it). */
static struct json_object *ctl_recv(struct ctl *c)
{
    for (;;) {
        char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - c->buf);
            *nl = '\0';
            enum json_tokener_error jerr;
            struct json_object *o = json_tokener_parse_verbose(c->buf, &jerr);
            memmove(c->buf, nl + 1, c->len - n - 1);
            c->len -= n + 1;
            if (!o || !json_object_is_type(o, json_type_object))
                fail("wdsmcd sent a response that is not a JSON object");
            return o;
        }
        if (c->len == c->cap) {
            if (c->cap >= MAX_RESPONSE)
                fail("wdsmcd's response is longer than %u bytes", MAX_RESPONSE);
            size_t ncap = c->cap ? c->cap * 2 : 65536;
            char *nb = realloc(c->buf, ncap);
            if (!nb)
                fail("out of memory");
            c->buf = nb;
            c->cap = ncap;
        }
        int r = wait_fd(c->fd, POLLIN);
        if (r < 0)
            fail("no answer from wdsmcd (%s): %s", c->path, strerror(-r));
        ssize_t got = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            fail("lost the connection to wdsmcd (%s): %s", c->path, strerror(errno));
        if (got == 0)
            fail("wdsmcd closed the connection (%s)", c->path);
        c->len += (size_t)got;
    }
}

static bool resp_ok(struct json_object *resp)
{
    struct json_object *v;
    return json_object_object_get_ex(resp, "ok", &v) && json_object_get_boolean(v);
}

static const char *str_field(struct json_object *o, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return "";
    return json_object_get_string(v);
}

static int64_t int_field(struct json_object *o, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static uint64_t u64_field(struct json_object *o, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_uint64(v) : 0;
}

static double dbl_field(struct json_object *o, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_double(v) : 0;
}

static bool bool_field(struct json_object *o, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static struct json_object *array_field(struct json_object *o, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
        fail("wdsmcd's response has no \"%s\" list", key);
    return v;
}

/* Send `req` (consumed) and return the response. A failed request ends the
 * program with status 1 and the daemon's message, unless `soft`, when the
 * response is returned for the caller to look at. */
static struct json_object *call(struct ctl *c, struct json_object *req, bool soft)
{
    ctl_send(c, json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
    json_object_put(req);
    struct json_object *resp = ctl_recv(c);
    if (!soft && !resp_ok(resp)) {
        if (json_out)
            puts(json_object_to_json_string_ext(resp, JSON_C_TO_STRING_PLAIN));
        const char *msg = str_field(resp, "message");
        fail("%s", *msg ? msg : str_field(resp, "error"));
    }
    return resp;
}

static struct json_object *request(const char *cmd)
{
    struct json_object *o = json_object_new_object();
    if (!o)
        fail("out of memory");
    json_object_object_add(o, "cmd", json_object_new_string(cmd));
    return o;
}

static void print_json(struct json_object *resp)
{
    puts(json_object_to_json_string_ext(resp,
                                        JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* ------------------------------------------------------------------------ */
/* Formatting                                                                */
/* ------------------------------------------------------------------------ */

static void human_bytes(double b, char *buf, size_t cap)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;

    while (b >= 1024 && i < 4) {
        b /= 1024;
        i++;
    }
    if (i == 0)
        snprintf(buf, cap, "%.0f B", b);
    else
        snprintf(buf, cap, "%.1f %s", b, unit[i]);
}

static void human_duration(int64_t s, char *buf, size_t cap)
{
    if (s < 0)
        s = 0;
    if (s < 3600)
        snprintf(buf, cap, "%" PRId64 ":%02" PRId64, s / 60, s % 60);
    else
        snprintf(buf, cap, "%" PRId64 ":%02" PRId64 ":%02" PRId64, s / 3600, s / 60 % 60, s % 60);
}

/* Width on a terminal of a UTF-8 string, one column per code point. */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

/* A table of strings printed with columns padded to their widest cell. */
#define MAX_COLS 10
struct table {
    size_t ncols, nrows, cap;
    char **cells; /* nrows x ncols */
    bool right[MAX_COLS];
};

static void table_add(struct table *t, const char *const *row)
{
    if (t->nrows == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->cells = realloc(t->cells, t->cap * t->ncols * sizeof(char *));
        if (!t->cells)
            fail("out of memory");
    }
    for (size_t i = 0; i < t->ncols; i++) {
        t->cells[t->nrows * t->ncols + i] = strdup(row[i]);
        if (!t->cells[t->nrows * t->ncols + i])
            fail("out of memory");
    }
    t->nrows++;
}

static void table_print(struct table *t)
{
    size_t w[MAX_COLS] = {0};

    for (size_t r = 0; r < t->nrows; r++)
        for (size_t i = 0; i < t->ncols; i++) {
            size_t n = text_width(t->cells[r * t->ncols + i]);
            if (n > w[i])
                w[i] = n;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t i = 0; i < t->ncols; i++) {
            const char *s = t->cells[r * t->ncols + i];
            size_t pad = w[i] - text_width(s);
            bool last = i + 1 == t->ncols;
            if (t->right[i])
                printf("%*s%s", (int)pad, "", s);
            else
                printf("%s%*s", s, last ? 0 : (int)pad, "");
            if (!last)
                fputs("  ", stdout);
        }
        putchar('\n');
    }
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
}

/* ------------------------------------------------------------------------ */
/* Commands                                                                  */
/* ------------------------------------------------------------------------ */

static uint32_t parse_id(const char *what, const char *s)
{
    char *end;

    if (!*s || *s < '0' || *s > '9')
        die_usage("bad %s id '%s' (expected a number, as 'wdsctl sessions' shows)", what, s);
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > UINT32_MAX)
        die_usage("bad %s id '%s' (expected a number, as 'wdsctl sessions' shows)", what, s);
    return (uint32_t)v;
}

static void cmd_sessions(struct ctl *c)
{
    struct json_object *resp = call(c, request("sessions"), false);

    if (json_out) {
        print_json(resp);
        json_object_put(resp);
        return;
    }
    struct json_object *arr = array_field(resp, "sessions");
    size_t n = json_object_array_length(arr);
    if (n == 0) {
        puts("no sessions");
        json_object_put(resp);
        return;
    }
    struct table t = {.ncols = 8, .right = {true, false, false, false, true, true, true, false}};
    table_add(&t, (const char *const[]){"ID", "NAMESPACE", "CONTENT", "STATE", "CLIENTS", "SENT",
                                        "RATE", "GROUP"});
    for (size_t i = 0; i < n; i++) {
        struct json_object *s = json_object_array_get_idx(arr, i);
        char id[16], clients[16], sent[32], rate[40], group[80];
        snprintf(id, sizeof(id), "%" PRId64, int_field(s, "id"));
        snprintf(clients, sizeof(clients), "%" PRId64, int_field(s, "clients"));
        human_bytes((double)u64_field(s, "bytes_sent"), sent, sizeof(sent));
        human_bytes(dbl_field(s, "rate"), rate, sizeof(rate) - 2);
        strcat(rate, "/s");
        snprintf(group, sizeof(group), "%s:%" PRId64 "%s", str_field(s, "group"),
                 int_field(s, "port"), bool_field(s, "lower_stream") ? " (lower stream)" : "");
        table_add(&t, (const char *const[]){id, str_field(s, "namespace"), str_field(s, "content"),
                                            str_field(s, "state"), clients, sent, rate, group});
    }
    table_print(&t);
    json_object_put(resp);
}

static struct json_object *clients_request(uint32_t sid)
{
    struct json_object *req = request("clients");
    json_object_object_add(req, "session", json_object_new_int64(sid));
    return req;
}

static void cmd_clients(struct ctl *c, uint32_t sid)
{
    struct json_object *resp = call(c, clients_request(sid), false);

    if (json_out) {
        print_json(resp);
        json_object_put(resp);
        return;
    }
    struct json_object *arr = array_field(resp, "clients");
    size_t n = json_object_array_length(arr);
    if (n == 0) {
        printf("no clients in session %" PRIu32 "\n", sid);
        json_object_put(resp);
        return;
    }
    struct table t = {.ncols = 8, .right = {true, false, false, true, true, true, true, false}};
    table_add(&t, (const char *const[]){"ID", "NAME", "ADDRESS", "PROGRESS", "TIME", "RTT", "LOSS",
                                        "MASTER"});
    for (size_t i = 0; i < n; i++) {
        struct json_object *o = json_object_array_get_idx(arr, i);
        char id[16], prog[16], tis[32], rtt[24], loss[24];
        snprintf(id, sizeof(id), "%" PRId64, int_field(o, "id"));
        snprintf(prog, sizeof(prog), "%" PRId64 "%%", int_field(o, "progress"));
        human_duration(int_field(o, "time_in_session"), tis, sizeof(tis));
        snprintf(rtt, sizeof(rtt), "%" PRId64 " ms", int_field(o, "rtt_ms"));
        snprintf(loss, sizeof(loss), "%.2f%%", dbl_field(o, "loss_rate") * 100);
        const char *flag = bool_field(o, "kicked")   ? "kicked"
                           : bool_field(o, "master") ? "yes"
                                                     : "";
        table_add(&t, (const char *const[]){id, str_field(o, "name"), str_field(o, "address"), prog,
                                            tis, rtt, loss, flag});
    }
    table_print(&t);
    json_object_put(resp);
}

static bool session_listed(struct json_object *resp, uint32_t sid)
{
    struct json_object *arr = array_field(resp, "sessions");
    for (size_t i = 0; i < json_object_array_length(arr); i++)
        if (int_field(json_object_array_get_idx(arr, i), "id") == (int64_t)sid)
            return true;
    return false;
}

static void cmd_terminate(struct ctl *c, uint32_t sid, bool wait)
{
    struct json_object *req = request("terminate");
    json_object_object_add(req, "session", json_object_new_int64(sid));
    struct json_object *resp = call(c, req, false);
    if (json_out)
        print_json(resp);
    json_object_put(resp);
    if (!wait) {
        if (!json_out)
            printf("session %" PRIu32 " is terminating\n", sid);
        return;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        resp = call(c, request("sessions"), false);
        bool listed = session_listed(resp, sid);
        json_object_put(resp);
        if (!listed)
            break;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >
            TERMINATE_WAIT_MS)
            fail("session %" PRIu32 " is still ending after %d s", sid, TERMINATE_WAIT_MS / 1000);
        nanosleep(&(struct timespec){.tv_nsec = 50 * 1000000}, NULL);
    }
    if (!json_out)
        printf("session %" PRIu32 " terminated\n", sid);
}

static void cmd_kick(struct ctl *c, uint32_t sid, uint32_t cid, const char *reason)
{
    struct json_object *req = request("kick");
    json_object_object_add(req, "session", json_object_new_int64(sid));
    json_object_object_add(req, "client", json_object_new_int64(cid));
    json_object_object_add(req, "reason", json_object_new_string(reason));
    struct json_object *resp = call(c, req, false);
    if (json_out)
        print_json(resp);
    else
        printf("client %" PRIu32 " of session %" PRIu32 " kicked (%s)\n", cid, sid, reason);
    json_object_put(resp);
}

static void cmd_start(struct ctl *c, const char *ns)
{
    struct json_object *req = request("start");
    json_object_object_add(req, "namespace", json_object_new_string(ns));
    struct json_object *resp = call(c, req, false);
    if (json_out)
        print_json(resp);
    else
        printf("namespace '%s' started\n", ns);
    json_object_put(resp);
}

static void cmd_namespaces(struct ctl *c)
{
    struct json_object *resp = call(c, request("namespaces"), false);

    if (json_out) {
        print_json(resp);
        json_object_put(resp);
        return;
    }
    struct json_object *arr = array_field(resp, "namespaces");
    struct table t = {.ncols = 5, .right = {false, false, true, false, false}};
    table_add(&t, (const char *const[]){"NAMESPACE", "CAST", "BLOCK", "POLICY", "CONTENTS"});
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *o = json_object_array_get_idx(arr, i);
        char cast[64], block[16], contents[512] = "";
        if (int_field(o, "min_clients"))
            snprintf(cast, sizeof(cast), "%s (%" PRId64 " clients)", str_field(o, "cast"),
                     int_field(o, "min_clients"));
        else
            snprintf(cast, sizeof(cast), "%s", str_field(o, "cast"));
        snprintf(block, sizeof(block), "%" PRId64, int_field(o, "block_size"));
        struct json_object *files;
        if (json_object_object_get_ex(o, "contents", &files) &&
            json_object_is_type(files, json_type_array)) {
            size_t nf = json_object_array_length(files), used = 0;
            for (size_t j = 0; j < nf && used < sizeof(contents) - 1; j++) {
                int w = snprintf(contents + used, sizeof(contents) - used, "%s%s", j ? " " : "",
                                 json_object_get_string(json_object_array_get_idx(files, j)));
                if (w < 0)
                    break;
                used += (size_t)w;
            }
            if (nf == 0)
                snprintf(contents, sizeof(contents), "(none)");
        }
        table_add(&t, (const char *const[]){str_field(o, "name"), cast, block,
                                            str_field(o, "slow_client_policy"), contents});
    }
    table_print(&t);
    json_object_put(resp);
}

/* ------------------------------------------------------------------------ */
/* watch                                                                     */
/* ------------------------------------------------------------------------ */

static volatile sig_atomic_t watch_stop;

static void on_watch_signal(int sig)
{
    (void)sig;
    watch_stop = 1;
}

/* A frame: lines into a buffer, each cut to the terminal width. */
struct frame {
    char *text;
    size_t len, cap;
    unsigned cols; /* 0: no limit */
    bool tty;
};

static void frame_line(struct frame *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void frame_line(struct frame *f, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (f->cols) {
        /* Cut at the width so no line wraps: wrapped lines would break
         * redrawing in place. */
        size_t w = 0;
        for (char *p = line; *p; p++) {
            if (((unsigned char)*p & 0xC0) != 0x80 && ++w > f->cols) {
                *p = '\0';
                break;
            }
        }
    }
    size_t n = strlen(line) + 8;
    if (f->len + n + 1 > f->cap) {
        f->cap = (f->len + n + 1) * 2;
        f->text = realloc(f->text, f->cap);
        if (!f->text)
            fail("out of memory");
    }
    f->len += (size_t)snprintf(f->text + f->len, f->cap - f->len, "%s%s\n", line,
                               f->tty ? "\033[K" : "");
}

static void bar(unsigned pct, unsigned width, char *out)
{
    unsigned fill = (pct > 100 ? 100 : pct) * width / 100;
    out[0] = '[';
    memset(out + 1, '#', fill);
    memset(out + 1 + fill, '.', width - fill);
    out[width + 1] = ']';
    out[width + 2] = '\0';
}

static void watch_frame(struct ctl *c, struct frame *f)
{
    struct json_object *resp = call(c, request("sessions"), false);
    struct json_object *arr = array_field(resp, "sessions");
    size_t n = json_object_array_length(arr);
    char clock_text[16];
    time_t now = time(NULL);
    struct tm tm;

    localtime_r(&now, &tm);
    strftime(clock_text, sizeof(clock_text), "%H:%M:%S", &tm);
    f->len = 0;
    frame_line(f, "wdsmcd: %zu session%s   %s   (%s)", n, n == 1 ? "" : "s", clock_text,
               f->tty ? "Ctrl-C to quit" : c->path);
    for (size_t i = 0; i < n; i++) {
        struct json_object *s = json_object_array_get_idx(arr, i);
        uint32_t sid = (uint32_t)int_field(s, "id");
        char sent[32], size[32], rate[32];
        human_bytes((double)u64_field(s, "bytes_sent"), sent, sizeof(sent));
        human_bytes((double)u64_field(s, "content_size"), size, sizeof(size));
        human_bytes(dbl_field(s, "rate"), rate, sizeof(rate));
        frame_line(f, "%s", "");
        frame_line(f, "session %" PRIu32 "  %s/%s  %s%s  %" PRId64 " client%s  %s/s  sent %s of %s",
                   sid, str_field(s, "namespace"), str_field(s, "content"), str_field(s, "state"),
                   bool_field(s, "lower_stream") ? " (lower stream)" : "", int_field(s, "clients"),
                   int_field(s, "clients") == 1 ? "" : "s", rate, sent, size);
        struct json_object *cresp = call(c, clients_request(sid), true);
        if (!resp_ok(cresp)) {
            /* Gone between the two requests: it shows as gone next frame. */
            json_object_put(cresp);
            continue;
        }
        struct json_object *carr = array_field(cresp, "clients");
        for (size_t j = 0; j < json_object_array_length(carr); j++) {
            struct json_object *o = json_object_array_get_idx(carr, j);
            char b[40], tis[32];
            bar((unsigned)int_field(o, "progress"), 30, b);
            human_duration(int_field(o, "time_in_session"), tis, sizeof(tis));
            frame_line(f, "  %s %3" PRId64 "%%  %-15s %-21s %6s  rtt %" PRId64 " ms  loss %.2f%%%s",
                       b, int_field(o, "progress"), str_field(o, "name"), str_field(o, "address"),
                       tis, int_field(o, "rtt_ms"), dbl_field(o, "loss_rate") * 100,
                       bool_field(o, "kicked")   ? "  kicked"
                       : bool_field(o, "master") ? "  master"
                                                 : "");
        }
        json_object_put(cresp);
    }
    json_object_put(resp);
}

static void cmd_watch(struct ctl *c, double interval, long count)
{
    struct frame f = {.tty = isatty(STDOUT_FILENO)};
    struct sigaction sa = {.sa_handler = on_watch_signal};

    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (f.tty)
        fputs("\033[?25l\033[H\033[2J", stdout); /* hide the cursor, clear */
    for (long i = 0; !watch_stop && (count <= 0 || i < count); i++) {
        struct winsize ws;
        if (f.tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
            f.cols = ws.ws_col;
        watch_frame(c, &f);
        if (f.tty) {
            fputs("\033[H", stdout);
            fwrite(f.text, 1, f.len, stdout);
            fputs("\033[J", stdout);
        } else {
            if (i > 0)
                putchar('\n');
            fwrite(f.text, 1, f.len, stdout);
        }
        fflush(stdout);
        if (count > 0 && i + 1 >= count)
            break;
        struct timespec ts = {.tv_sec = (time_t)interval,
                              .tv_nsec = (long)((interval - floor(interval)) * 1e9)};
        nanosleep(&ts, NULL); /* a signal cuts it short */
    }
    if (f.tty)
        fputs("\033[?25h", stdout);
    fflush(stdout);
    free(f.text);
}

/* ------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------ */
/* Users file (no daemon involved: wdsmcd re-reads the file when it changes) */
/* ------------------------------------------------------------------------ */

/* One line of fd without its newline into buf[0..cap); false at EOF with
 * nothing read. Too long a line is an error. */
static bool read_line(FILE *f, char *buf, size_t cap)
{
    if (!fgets(buf, (int)cap, f))
        return false;
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '\n')
        buf[--n] = '\0';
    else if (n == cap - 1)
        fail("password longer than %zu bytes", cap - 2);
    if (n && buf[n - 1] == '\r')
        buf[--n] = '\0';
    return true;
}

/* The terminal's settings while a password prompt has echo off: put back
 * on every way out (fail(), a signal), or the shell is left blind. */
static struct termios tty_saved;
static volatile sig_atomic_t tty_quiet;

static void tty_restore(void)
{
    if (tty_quiet) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &tty_saved); /* async-signal-safe */
        tty_quiet = 0;
    }
}

static void on_prompt_signal(int sig)
{
    if (tty_quiet) {
        tty_restore();
        (void)!write(STDERR_FILENO, "\n", 1);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

/* The password: from the terminal without echo, asked twice, when standard
 * input is one; else the first line of standard input. Never from argv,
 * where every user of the machine could read it. */
static void read_password(const char *name, char *buf, size_t cap)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

    if (!isatty(STDIN_FILENO)) {
        if (!read_line(stdin, buf, cap))
            fail("no password on standard input");
        return;
    }
    if (tcgetattr(STDIN_FILENO, &tty_saved) < 0)
        fail("cannot read the terminal's settings: %s", strerror(errno));
    struct termios quiet = tty_saved;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    atexit(tty_restore);
    /* A signal that was ignored (nohup, a background job) stays ignored. */
    struct sigaction sa = {.sa_handler = on_prompt_signal}, old_sa[sizeof(sigs) / sizeof(sigs[0])];
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        sigaction(sigs[i], NULL, &old_sa[i]);
        if (old_sa[i].sa_handler != SIG_IGN)
            sigaction(sigs[i], &sa, NULL);
    }
    /* The retype may be as long as the password. */
    char *again = malloc(cap);
    if (!again)
        fail("out of memory");
    bool ok = true;
    for (int i = 0; i < 2 && ok; i++) {
        /* Echo off before the prompt shows: what is typed after it is
         * never echoed (and what was typed before it is flushed). */
        tty_quiet = 1;
        if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) < 0)
            fail("cannot turn off echo: %s", strerror(errno));
        fprintf(stderr, i ? "Retype the password: " : "Password for %s: ", name);
        fflush(stderr);
        ok = read_line(stdin, i ? again : buf, cap);
        tty_restore();
        fputc('\n', stderr);
    }
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &old_sa[i], NULL);
    if (!ok) {
        explicit_bzero(again, cap);
        free(again);
        fail("no password given");
    }
    bool same = !strcmp(buf, again);
    explicit_bzero(again, cap);
    free(again);
    if (!same) {
        explicit_bzero(buf, cap);
        fail("the passwords differ; nothing changed");
    }
}

/* Read the whole users file (NULL and *len 0 when it does not exist). */
static char *slurp_users(const char *path, size_t *ret_len, struct stat *ret_st, bool *exists)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    *exists = fd >= 0;
    *ret_len = 0;
    if (fd < 0) {
        if (errno == ENOENT)
            return NULL;
        fail("%s: %s", path, strerror(errno));
    }
    if (fstat(fd, ret_st) < 0 || !S_ISREG(ret_st->st_mode))
        fail("%s: not a regular file", path);
    if (ret_st->st_size > (off_t)WDSMCD_USERS_MAX_FILE)
        fail("%s: larger than %u bytes", path, WDSMCD_USERS_MAX_FILE);
    size_t cap = (size_t)ret_st->st_size + 1, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        fail("out of memory");
    for (;;) {
        ssize_t got = read(fd, buf + len, cap - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            fail("%s: %s", path, strerror(errno));
        if (got == 0)
            break;
        len += (size_t)got;
        if (len == cap)
            fail("%s: changed while being read", path);
    }
    close(fd);
    *ret_len = len;
    return buf;
}

/* Replace path by text atomically: a mode 0600 temporary file in the same
 * directory, written, synced and renamed over it. */
static void write_users(const char *path, const char *text, size_t len, const struct stat *old)
{
    char *tmp;
    if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
        fail("out of memory");
    int fd = mkstemp(tmp); /* mode 0600 */
    if (fd < 0)
        fail("cannot create a file next to %s: %s", path, strerror(errno));
    /* Keep the owner a root-run daemon expects (wdsmcd refuses files owned
     * by others than root or itself). */
    if (old && geteuid() == 0 && fchown(fd, old->st_uid, old->st_gid) < 0) {
        int e = errno;
        unlink(tmp);
        fail("%s: %s", tmp, strerror(e));
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int e = errno;
            unlink(tmp);
            fail("%s: %s", tmp, strerror(e));
        }
        off += (size_t)w;
    }
    if (fchmod(fd, 0600) < 0 || fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        fail("%s: %s", path, strerror(e));
    }
    free(tmp);
}

static void cmd_user(const char *users_path, const char *name, bool add)
{
    char err[512], *user, *domain;

    if (wdsmcd_users_split_name(name, &user, &domain, err, sizeof(err)) < 0)
        die_usage("%s", err);
    /* Serialise editors: a lock on the directory, which outlives renames
     * of the file inside it. */
    char *dir_copy = strdup(users_path);
    if (!dir_copy)
        fail("out of memory");
    const char *dir = dirname(dir_copy);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        fail("%s: %s%s", dir, strerror(errno),
             errno == ENOENT ? " (create the directory first)" : "");
    if (flock(dfd, LOCK_EX) < 0)
        fail("%s: cannot lock: %s", dir, strerror(errno));

    uint8_t hash[16];
    if (add) {
        char password[WDSMC_NTLM_MAX_PASSWORD * 3 + 2];
        read_password(name, password, sizeof(password));
        if (!*password)
            fail("empty password refused");
        int r = wdsmc_ntlm_nt_hash(password, hash);
        explicit_bzero(password, sizeof(password));
        if (r < 0)
            fail("the password is not valid UTF-8 or longer than %d characters",
                 WDSMC_NTLM_MAX_PASSWORD);
    }
    struct stat st;
    bool exists;
    size_t len;
    char *old = slurp_users(users_path, &len, &st, &exists);
    if (!exists && !add)
        fail("%s: no such file", users_path);
    static const char header[] =
            "# wdsmcd users file: [DOMAIN\\]USER:NTHASH, one per line (wdsmcd.conf(5)).\n"
            "# Written by 'wdsctl useradd'; must stay mode 0600.\n";
    char *text;
    size_t text_len;
    bool found;
    int r = wdsmcd_users_edit(exists ? old : header, exists ? len : strlen(header), users_path,
                              user, domain, add ? hash : NULL, &text, &text_len, &found, err,
                              sizeof(err));
    explicit_bzero(hash, sizeof(hash));
    if (old)
        explicit_bzero(old, len);
    free(old);
    if (r < 0)
        fail("%s", err);
    write_users(users_path, text, text_len, exists ? &st : NULL);
    explicit_bzero(text, text_len);
    free(text);
    close(dfd); /* releases the lock */
    printf("%s %s in %s\n", add ? (found ? "changed the password of" : "added") : "removed", name,
           users_path);
    free(user);
    free(domain);
    free(dir_copy);
}

int main(int argc, char **argv)
{
    enum { OPT_REASON = 0x100, OPT_NO_WAIT, OPT_INTERVAL, OPT_COUNT, OPT_USERS };
    static const struct option longopts[] = {
            {"socket", required_argument, NULL, 'S'},
            {"json", no_argument, NULL, 'j'},
            {"reason", required_argument, NULL, OPT_REASON},
            {"no-wait", no_argument, NULL, OPT_NO_WAIT},
            {"interval", required_argument, NULL, OPT_INTERVAL},
            {"count", required_argument, NULL, OPT_COUNT},
            {"users", required_argument, NULL, OPT_USERS},
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, 'V'},
            {NULL, 0, NULL, 0},
    };
    const char *socket_path = getenv("WDSCTL_SOCKET");
    const char *reason = NULL, *users_path = NULL;
    bool no_wait = false;
    double interval = -1;
    long count = -1;
    int opt;

    if (!socket_path || !*socket_path)
        socket_path = WDSCTL_DEFAULT_SOCKET;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":S:jhV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'S':
            socket_path = optarg;
            break;
        case 'j':
            json_out = true;
            break;
        case OPT_REASON:
            if (strcmp(optarg, "fail") && strcmp(optarg, "fallback") && strcmp(optarg, "policy"))
                die_usage("bad --reason '%s' (expected fail, fallback or policy)", optarg);
            reason = optarg;
            break;
        case OPT_USERS:
            if (!*optarg)
                die_usage("--users: empty path");
            users_path = optarg;
            break;
        case OPT_NO_WAIT:
            no_wait = true;
            break;
        case OPT_INTERVAL: {
            char *end;
            errno = 0;
            interval = strtod(optarg, &end);
            if (errno || *end || !(interval >= 0.1 && interval <= 60))
                die_usage("bad --interval '%s' (0.1-60 seconds)", optarg);
            break;
        }
        case OPT_COUNT: {
            char *end;
            errno = 0;
            count = strtol(optarg, &end, 10);
            if (errno || *end || count < 1)
                die_usage("bad --count '%s' (a positive number of frames)", optarg);
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("wdsctl %s\n", WDSCTL_VERSION);
            return 0;
        case ':':
            die_usage("option '%s' needs a value", argv[optind - 1]);
        default:
            if (optopt)
                die_usage("unknown option '-%c'", optopt);
            die_usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[optind];
    char **args = argv + optind + 1;
    int nargs = argc - optind - 1;
    struct {
        const char *name;
        int nargs;
    } const table[] = {{"sessions", 0}, {"clients", 1}, {"terminate", 1},
                       {"kick", 2},     {"start", 1},   {"namespaces", 0},
                       {"watch", 0},    {"useradd", 1}, {"userdel", 1}};
    int want = -1;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (!strcmp(cmd, table[i].name))
            want = table[i].nargs;
    if (want < 0)
        die_usage("unknown command '%s'", cmd);
    if (nargs != want)
        die_usage("'%s' takes %d argument%s, not %d", cmd, want, want == 1 ? "" : "s", nargs);
    if (reason && strcmp(cmd, "kick"))
        die_usage("--reason goes with 'kick'");
    if (no_wait && strcmp(cmd, "terminate"))
        die_usage("--no-wait goes with 'terminate'");
    if ((interval >= 0 || count >= 0) && strcmp(cmd, "watch"))
        die_usage("--interval and --count go with 'watch'");
    bool user_cmd = !strcmp(cmd, "useradd") || !strcmp(cmd, "userdel");
    if (users_path && !user_cmd)
        die_usage("--users goes with 'useradd' and 'userdel'");
    if (user_cmd) {
        cmd_user(users_path ? users_path : WDSMCD_DEFAULT_USERS, args[0], !strcmp(cmd, "useradd"));
        return 0;
    }
    if (json_out && !strcmp(cmd, "watch"))
        die_usage("'watch' has no --json; use 'sessions --json' and 'clients --json'");

    /* Check ids before connecting: bad usage is exit 2 whether or not the
     * daemon runs. */
    uint32_t sid = 0, cid = 0;
    if (!strcmp(cmd, "clients") || !strcmp(cmd, "terminate") || !strcmp(cmd, "kick"))
        sid = parse_id("session", args[0]);
    if (!strcmp(cmd, "kick"))
        cid = parse_id("client", args[1]);
    if (!strcmp(cmd, "start") && !*args[0])
        die_usage("empty namespace name");

    struct ctl c = {.fd = -1};
    ctl_connect(&c, socket_path);
    if (!strcmp(cmd, "sessions"))
        cmd_sessions(&c);
    else if (!strcmp(cmd, "clients"))
        cmd_clients(&c, sid);
    else if (!strcmp(cmd, "terminate"))
        cmd_terminate(&c, sid, !no_wait);
    else if (!strcmp(cmd, "kick"))
        cmd_kick(&c, sid, cid, reason ? reason : "fail");
    else if (!strcmp(cmd, "start"))
        cmd_start(&c, args[0]);
    else if (!strcmp(cmd, "namespaces"))
        cmd_namespaces(&c);
    else
        cmd_watch(&c, interval > 0 ? interval : 1.0, count);
    close(c.fd);
    free(c.buf);
    if (fflush(stdout) != 0 || ferror(stdout))
        fail("writing to standard output: %s", strerror(errno));
    return 0;
}
