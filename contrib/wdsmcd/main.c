/* SPDX-License-Identifier: MIT */
/*
 * wdsmcd: a WDS-compatible multicast server. Reads namespaces from a config
 * file and the command line, hands them to the libwdsmc server engine, and
 * serves wdsctl(8) on a control socket, all on one libuv loop. Runs in the
 * foreground and logs to stderr; systemd (or the terminal) manages it.
 *
 * Exit status: 0 after SIGTERM/SIGINT (every session terminated), 1 when it
 * cannot run (socket in use, bind failure...), 2 for a bad configuration.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include "commands.h"
#include "config.h"
#include "control.h"
#include "log.h"
#include "rpc.h"
#include "wdsmc/server.h"

#ifndef WDSMCD_VERSION
#define WDSMCD_VERSION "unknown"
#endif

#define EXIT_USAGE 2

struct daemon {
    uv_loop_t *loop;
    struct wdsmcd_config cfg;
    struct wdsmc_server *server;
    struct wdsmcd_control *control;
    struct wdsmcd_rpc *rpc;           /* NULL when rpc_port = 0 */
    struct wdsmcd_content **contents; /* per namespace */
    size_t *n_contents;
    struct wdsmcd_commands cmds;
    uv_signal_t sigint, sigterm;
    bool journal; /* stderr is the journal: prefix <N> priorities */
    bool stopping;
};

static struct daemon *the_daemon; /* for say() only */

static void vlog(enum wdsmc_log_level level, const char *fmt, va_list ap)
{
    static const char *const names[] = {"error: ", "warning: ", "", "debug: "};
    static const int prio[] = {3, 4, 6, 7};
    char raw[1024], msg[1024];

    if (the_daemon && level > the_daemon->cfg.log_level)
        return;
    vsnprintf(raw, sizeof(raw), fmt, ap);
    wdsmcd_log_escape(raw, msg, sizeof(msg));
    if (the_daemon && the_daemon->journal)
        fprintf(stderr, "<%d>%s%s\n", prio[level], names[level], msg);
    else
        fprintf(stderr, "wdsmcd: %s%s\n", names[level], msg);
}

static void say(enum wdsmc_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void say(enum wdsmc_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, fmt, ap);
    va_end(ap);
}

static void engine_log(void *ctx, enum wdsmc_log_level level, const char *msg)
{
    (void)ctx;
    say(level, "%s", msg);
}

/* Tell systemd (Type=notify) about readiness and shutdown. A no-op outside
 * systemd; failures are not worth more than a debug line. */
static void sd_notify_text(const char *text)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sun = {.sun_family = AF_UNIX};

    if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sun.sun_path))
        return;
    size_t n = strlen(path);
    memcpy(sun.sun_path, path, n);
    if (path[0] == '@')
        sun.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    if (sendto(fd, text, strlen(text), MSG_NOSIGNAL, (struct sockaddr *)&sun,
               (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0)
        say(WDSMC_LOG_DEBUG, "sd_notify: %s", strerror(errno));
    close(fd);
}

static void handle_closed(uv_handle_t *h)
{
    (void)h;
}

static void control_closed(void *ctx)
{
    (void)ctx;
}

static void on_server_done(void *ctx)
{
    struct daemon *d = ctx;

    say(WDSMC_LOG_INFO, "every session has ended; exiting");
    uv_close((uv_handle_t *)&d->sigint, handle_closed);
    uv_close((uv_handle_t *)&d->sigterm, handle_closed);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct daemon *d = s->data;

    if (d->stopping) {
        say(WDSMC_LOG_WARN, "second %s: exiting without waiting for clients to leave",
            strsignal(signum));
        exit(1);
    }
    d->stopping = true;
    d->cmds.shutting_down = true;
    sd_notify_text("STOPPING=1");
    size_t n = wdsmc_server_sessions(d->server, NULL, 0);
    say(WDSMC_LOG_INFO, "%s: terminating %zu session%s (clients are sent KICK)", strsignal(signum),
        n, n == 1 ? "" : "s");
    wdsmcd_control_close(d->control, control_closed, NULL);
    d->control = NULL;
    wdsmcd_rpc_stop(d->rpc);
    wdsmc_server_shutdown(d->server, on_server_done, d);
}

static void free_contents(struct daemon *d)
{
    for (size_t i = 0; d->contents && i < d->cfg.n_ns; i++)
        wdsmcd_contents_free(d->contents[i], d->n_contents[i]);
    free(d->contents);
    free(d->n_contents);
    d->contents = NULL;
    d->n_contents = NULL;
}

/* List every namespace's files. 0, or -errno with the message printed. */
static int load_contents(struct daemon *d)
{
    char err[1024];

    d->contents = calloc(d->cfg.n_ns, sizeof(*d->contents));
    d->n_contents = calloc(d->cfg.n_ns, sizeof(*d->n_contents));
    if (!d->contents || !d->n_contents) {
        say(WDSMC_LOG_ERROR, "out of memory");
        return -ENOMEM;
    }
    size_t total = 0;
    for (size_t i = 0; i < d->cfg.n_ns; i++) {
        int r = wdsmcd_contents_list(&d->cfg.ns[i], &d->contents[i], &d->n_contents[i], err,
                                     sizeof(err));
        if (r < 0) {
            fprintf(stderr, "wdsmcd: %s\n", err);
            return r;
        }
        total += d->n_contents[i];
        if (total > WDSMCD_MAX_CONTENTS) {
            fprintf(stderr, "wdsmcd: more than %d contents in all namespaces\n",
                    WDSMCD_MAX_CONTENTS);
            return -E2BIG;
        }
    }
    return 0;
}

static void print_check(const struct daemon *d)
{
    const struct wdsmcd_config *c = &d->cfg;

    printf("MS-WDSMSI port %u, address %s, interface %s, control socket %s (mode %04o)\n",
           c->msi_port, c->address ? c->address : "0.0.0.0",
           c->interface ? c->interface : "(kernel's choice)", c->control_path,
           (unsigned)c->control_mode);
    if (c->rpc_port)
        printf("MS-WDSC (RPC) port %u, address %s, users file %s%s\n", c->rpc_port,
               c->rpc_address ? c->rpc_address
               : c->address   ? c->address
                              : "0.0.0.0",
               c->users_file ? c->users_file : "(default)",
               c->allow_anonymous ? ", anonymous callers allowed" : "");
    else
        printf("MS-WDSC (RPC) off\n");
    if (!c->msi_udp)
        printf("MS-WDSMSI over UDP off\n");
    if (!c->udp_gso)
        printf("UDP GSO off: one send per datagram\n");
    if (c->send_buffer)
        printf("send buffer %u bytes per session\n", (unsigned)c->send_buffer);
    for (size_t i = 0; i < c->n_ns; i++) {
        const struct wdsmcd_namespace *ns = &c->ns[i];
        const struct wdsmc_namespace_config *nc = &ns->nc;
        printf("namespace '%s' (%s): %s-cast", ns->name, ns->origin,
               wdsmcd_cast_mode_name(nc->mode));
        if (nc->min_clients)
            printf(", min_clients %u", nc->min_clients);
        if (nc->start_time)
            printf(", start_time @%lld", (long long)nc->start_time);
        printf(", block_size %u, slow_client_policy %s, %zu content%s\n",
               nc->block_size ? nc->block_size : 8192, wdsmcd_slow_policy_name(nc->slow_policy),
               d->n_contents[i], d->n_contents[i] == 1 ? "" : "s");
        for (size_t j = 0; j < d->n_contents[i]; j++)
            printf("  %s\t%s\n", d->contents[i][j].name, d->contents[i][j].path);
    }
}

/* Create the engine and register everything. 0, or an exit status. */
static int setup_engine(struct daemon *d)
{
    const struct wdsmcd_config *c = &d->cfg;
    struct wdsmc_server_config sc = {
            .address = c->address,
            .interface = c->interface,
            .msi_port = c->msi_port,
            .msi_disabled = !c->msi_udp,
            .gso_disabled = !c->udp_gso,
            .send_buffer = c->send_buffer,
            .group_first = c->group_first,
            .group_count = c->group_count,
            .port_first = c->port_first,
            .port_count = c->port_count,
            .max_clients = c->max_clients,
            .log = engine_log,
            .log_ctx = d,
    };
    int r = wdsmc_server_new(d->loop, &sc, &d->server);
    if (r < 0) {
        say(WDSMC_LOG_ERROR, "cannot create the server%s%s: %s", c->config_path ? " from " : "",
            c->config_path ? c->config_path : "",
            r == -EINVAL ? "bad address, interface or multicast/port pool" : strerror(-r));
        return r == -EINVAL ? EXIT_USAGE : 1;
    }
    for (size_t i = 0; i < c->n_ns; i++) {
        const struct wdsmcd_namespace *ns = &c->ns[i];
        r = wdsmc_server_add_namespace(d->server, ns->name, &ns->nc);
        if (r < 0) {
            fprintf(stderr, "wdsmcd: %s: namespace '%s': %s\n", ns->origin, ns->name,
                    r == -EINVAL ? "settings rejected by the engine" : strerror(-r));
            return r == -ENOMEM ? 1 : EXIT_USAGE;
        }
        if (d->n_contents[i] == 0)
            say(WDSMC_LOG_WARN,
                "namespace '%s': no files in '%s'; requests will get 'no such "
                "content'",
                ns->name, ns->path);
        for (size_t j = 0; j < d->n_contents[i]; j++) {
            const struct wdsmcd_content *ct = &d->contents[i][j];
            r = wdsmc_server_add_content(d->server, ns->name, ct->name, ct->path);
            if (r < 0) {
                fprintf(stderr, "wdsmcd: %s: namespace '%s': '%s': %s\n", ns->origin, ns->name,
                        ct->path, r == -EINVAL ? "not a regular file" : strerror(-r));
                return r == -ENOMEM ? 1 : EXIT_USAGE;
            }
            say(WDSMC_LOG_DEBUG, "namespace '%s': content '%s' = %s", ns->name, ct->name, ct->path);
        }
        say(WDSMC_LOG_INFO, "namespace '%s': %zu content%s from %s, %s-cast", ns->name,
            d->n_contents[i], d->n_contents[i] == 1 ? "" : "s", ns->path,
            wdsmcd_cast_mode_name(ns->nc.mode));
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct daemon d = {0};
    char err[1024];
    int status = 0;

    wdsmcd_config_init(&d.cfg);
    int r = wdsmcd_config_parse_args(&d.cfg, argc, argv, err, sizeof(err));
    if (r == WDSMCD_ARGS_HELP)
        goto out;
    if (r == WDSMCD_ARGS_VERSION) {
        printf("wdsmcd %s\n", WDSMCD_VERSION);
        goto out;
    }
    if (r < 0) {
        fprintf(stderr, "wdsmcd: %s\n", err);
        if (r == -EINVAL)
            fprintf(stderr, "Try 'wdsmcd --help'.\n");
        status = r == -ENOMEM ? 1 : EXIT_USAGE;
        goto out;
    }
    the_daemon = &d;
    d.journal = getenv("JOURNAL_STREAM") != NULL;
    if (load_contents(&d) < 0) {
        status = EXIT_USAGE;
        goto out_engine;
    }
    signal(SIGPIPE, SIG_IGN);
    d.loop = uv_default_loop();
    if ((status = setup_engine(&d)) != 0)
        goto out_engine;
    if (d.cfg.rpc_port) {
        struct wdsmcd_rpc_cfg rc = {
                .loop = d.loop,
                .server = d.server,
                .cfg = &d.cfg,
                .contents = d.contents,
                .n_contents = d.n_contents,
                .log = engine_log,
                .log_ctx = &d,
        };
        if (wdsmcd_rpc_new(&rc, &d.rpc, err, sizeof(err)) < 0) {
            fprintf(stderr, "wdsmcd: %s\n", err);
            status = EXIT_USAGE;
            goto out_engine;
        }
    }
    if (d.cfg.check_only) {
        print_check(&d);
        goto out_engine;
    }

    d.cmds = (struct wdsmcd_commands){
            .server = d.server, .cfg = &d.cfg, .contents = d.contents, .n_contents = d.n_contents};
    r = wdsmcd_control_new(d.loop, d.cfg.control_path, d.cfg.control_mode, NULL,
                           wdsmcd_commands_handle, &d.cmds, &d.control, err, sizeof(err));
    if (r < 0) {
        say(WDSMC_LOG_ERROR, "%s", err);
        status = 1;
        goto out_engine;
    }
    r = wdsmc_server_start(d.server);
    if (r < 0) {
        say(WDSMC_LOG_ERROR, "cannot listen for MS-WDSMSI on %s:%u: %s",
            d.cfg.address ? d.cfg.address : "0.0.0.0", d.cfg.msi_port, strerror(-r));
        status = 1;
        wdsmcd_control_close(d.control, control_closed, NULL);
        d.control = NULL;
        goto out_engine;
    }
    if (d.rpc && (r = wdsmcd_rpc_start(d.rpc, err, sizeof(err))) < 0) {
        /* The standard port taken by another server is worth a warning, not
         * a refusal to run, unless the port was asked for explicitly. */
        if (r == -EADDRINUSE && !d.cfg.rpc_port_set && d.cfg.msi_udp) {
            say(WDSMC_LOG_WARN, "%s; running without RPC (set rpc_port)", err);
            wdsmcd_rpc_free(d.rpc);
            d.rpc = NULL;
        } else {
            say(WDSMC_LOG_ERROR, "%s", err);
            status = 1;
            wdsmcd_control_close(d.control, control_closed, NULL);
            d.control = NULL;
            d.stopping = true;
            wdsmc_server_shutdown(d.server, NULL, NULL);
            goto out_engine;
        }
    }
    uv_signal_init(d.loop, &d.sigint);
    uv_signal_init(d.loop, &d.sigterm);
    d.sigint.data = d.sigterm.data = &d;
    uv_signal_start(&d.sigint, on_signal, SIGINT);
    uv_signal_start(&d.sigterm, on_signal, SIGTERM);
    char rpc_text[96] = "off";
    if (d.rpc)
        snprintf(rpc_text, sizeof(rpc_text), "on %s:%u",
                 d.cfg.rpc_address ? d.cfg.rpc_address
                 : d.cfg.address   ? d.cfg.address
                                   : "0.0.0.0",
                 wdsmcd_rpc_port(d.rpc));
    if (d.cfg.msi_udp)
        say(WDSMC_LOG_INFO, "wdsmcd %s: MS-WDSMSI on %s:%u, MS-WDSC (RPC) %s, control socket %s",
            WDSMCD_VERSION, d.cfg.address ? d.cfg.address : "0.0.0.0", d.cfg.msi_port, rpc_text,
            d.cfg.control_path);
    else
        say(WDSMC_LOG_INFO,
            "wdsmcd %s: MS-WDSMSI over UDP off, MS-WDSC (RPC) %s, control socket %s",
            WDSMCD_VERSION, rpc_text, d.cfg.control_path);
    sd_notify_text("READY=1");
    uv_run(d.loop, UV_RUN_DEFAULT);

out_engine:
    /* Let close callbacks (control socket, engine handles) run before the
     * engine and the loop go away. */
    if (d.loop) {
        wdsmcd_rpc_stop(d.rpc);
        uv_run(d.loop, UV_RUN_DEFAULT);
    }
    wdsmcd_rpc_free(d.rpc);
    wdsmc_server_free(d.server);
    if (d.loop && uv_loop_close(d.loop) == UV_EBUSY)
        say(WDSMC_LOG_DEBUG, "event loop still had open handles at exit");
    free_contents(&d);
out:
    wdsmcd_config_fini(&d.cfg);
    return status;
}
