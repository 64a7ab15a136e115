/* SPDX-License-Identifier: MIT */
/*
 * Test server: runs the libwdsmc server engine with the namespaces given on
 * the command line until SIGTERM/SIGINT (then terminates every session, so
 * clients are kicked, and exits 0). The integration tests of the transport
 * use it so they do not depend on wdsmcd's configuration handling.
 *
 *   serve ADDRESS MSI_PORT NAMESPACE=FILE [NAMESPACE=FILE...]
 *
 * Prints "ready" on stdout once the MS-WDSMSI port is bound. Environment:
 * SERVE_MAX_RATE (bytes/s cap per session), SERVE_TTL (multicast TTL,
 * default 0: this host only), SERVE_DEBUG (log every level), SERVE_NO_GSO
 * (one send per datagram, never UDP GSO), SERVE_BLOCK_SIZE (bytes per
 * block), SERVE_DEAD_TIMEOUT_MS (the ClientDeadTimeout), SERVE_SNDBUF (bytes
 * of send buffer per session socket).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "wdsmc/server.h"

static struct wdsmc_server *srv;
static uv_signal_t sigterm, sigint;

static void log_cb(void *ctx, enum wdsmc_log_level level, const char *msg)
{
    (void)ctx;
    if (level <= WDSMC_LOG_INFO || getenv("SERVE_DEBUG"))
        fprintf(stderr, "serve: %s\n", msg);
}

static void on_done(void *ctx)
{
    (void)ctx;
    uv_close((uv_handle_t *)&sigterm, NULL);
    uv_close((uv_handle_t *)&sigint, NULL);
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)s;
    (void)signum;
    uv_signal_stop(&sigterm);
    uv_signal_stop(&sigint);
    wdsmc_server_shutdown(srv, on_done, NULL);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: serve ADDRESS MSI_PORT NAMESPACE=FILE...\n");
        return 2;
    }
    uv_loop_t *loop = uv_default_loop();
    struct wdsmc_server_config cfg = {
            .address = argv[1],
            .interface = argv[1],
            .msi_port = (uint16_t)atoi(argv[2]),
            .log = log_cb,
    };
    cfg.gso_disabled = getenv("SERVE_NO_GSO") != NULL;
    if (getenv("SERVE_SNDBUF"))
        cfg.send_buffer = (unsigned)strtoul(getenv("SERVE_SNDBUF"), NULL, 10);
    if (getenv("SERVE_DEAD_TIMEOUT_MS"))
        cfg.client_dead_timeout = (unsigned)strtoul(getenv("SERVE_DEAD_TIMEOUT_MS"), NULL, 10);
    int err = wdsmc_server_new(loop, &cfg, &srv);
    if (err < 0) {
        fprintf(stderr, "serve: %s\n", wdsmc_strerror(err));
        return 1;
    }
    struct wdsmc_namespace_config nc;
    wdsmc_namespace_config_default(&nc);
    nc.ttl = 0; /* keep loopback multicast on this host */
    /* Tests across network namespaces (veth, bridge) need TTL >= 1. */
    if (getenv("SERVE_TTL"))
        nc.ttl = atoi(getenv("SERVE_TTL"));
    if (getenv("SERVE_BLOCK_SIZE"))
        nc.block_size = (uint32_t)strtoul(getenv("SERVE_BLOCK_SIZE"), NULL, 10);
    if (getenv("SERVE_MAX_RATE"))
        nc.max_rate = strtoull(getenv("SERVE_MAX_RATE"), NULL, 10);
    for (int i = 3; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "serve: expected NAMESPACE=FILE, got '%s'\n", argv[i]);
            return 2;
        }
        *eq = '\0';
        const char *path = eq + 1;
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        err = wdsmc_server_add_namespace(srv, argv[i], &nc);
        if (err < 0 && err != -EEXIST) {
            fprintf(stderr, "serve: namespace %s: %s\n", argv[i], wdsmc_strerror(err));
            return 1;
        }
        if ((err = wdsmc_server_add_content(srv, argv[i], base, path)) < 0) {
            fprintf(stderr, "serve: %s: %s\n", path, wdsmc_strerror(err));
            return 1;
        }
    }
    if ((err = wdsmc_server_start(srv)) < 0) {
        fprintf(stderr, "serve: start: %s\n", wdsmc_strerror(err));
        return 1;
    }
    uv_signal_init(loop, &sigterm);
    uv_signal_init(loop, &sigint);
    uv_signal_start(&sigterm, on_signal, SIGTERM);
    uv_signal_start(&sigint, on_signal, SIGINT);
    printf("ready\n");
    fflush(stdout);
    uv_run(loop, UV_RUN_DEFAULT);
    wdsmc_server_free(srv);
    uv_loop_close(loop);
    return 0;
}
