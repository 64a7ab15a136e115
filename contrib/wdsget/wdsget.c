/* SPDX-License-Identifier: MIT */
/*
 * wdsget: receive one content of a WDS multicast namespace, like WDS's
 * `wdsmcast /Transfer-File`.
 *
 *   wdsget [-s SERVER[:PORT]] [-i IFADDR] [-o FILE|-] [options] NAMESPACE CONTENT
 *   wdsget --list [--json] [-s] SERVER --user [DOMAIN\]USER --password-file FILE
 *
 * -o FILE writes each block at its offset as it arrives (blocks come in the
 * server's order, so the file is sparse until complete). -o - writes the
 * content in order to stdout with bounded memory: only a window of blocks
 * ahead of what was written is accepted, and the cache-size flow control
 * paces the rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "wdsmc/catalog.h"
#include "wdsmc/client.h"
#include "wdsmc/size.h"
#include "wdsmc/credentials.h"

#define EXIT_USAGE  2
#define EXIT_SIGNAL 130

struct wdsget {
    uv_loop_t *loop;
    struct wdsmc_client *client;
    const char *server_text;
    const char *out_path;
    int fd;
    bool to_stdout;
    bool quiet;
    bool tty;
    unsigned timeout_s;
    uint64_t content_size;
    uint32_t block_size;
    uint64_t total_blocks;
    /* -o -: blocks [next_block, next_block + window) may be held, block b
     * in slot b % window: ring_len[slot] bytes (0: empty) in buffer
     * ring_buf[slot] of `pool`. Free buffers are a stack, so the one just
     * written is the next one filled: in order, one buffer stays in the CPU
     * cache, and pages of the pool are touched only when blocks wait. */
    uint64_t next_block;
    uint64_t window;
    size_t cache;
    uint8_t *pool;
    uint32_t *ring_len, *ring_buf;
    uint32_t *free_buf;
    size_t nfree;
    int write_err;
    bool interrupted;
    uint64_t t0_ns;
    uv_signal_t sigint, sigterm;
    uv_timer_t progress;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: wdsget [-s SERVER[:PORT]] [-i IFADDR] [-o FILE|-] [options] NAMESPACE CONTENT\n"
            "       wdsget --list [--json] [-s] SERVER --user [DOMAIN\\]USER --password-file FILE\n"
            "\n"
            "Receive CONTENT of the WDS multicast NAMESPACE from SERVER.\n"
            "\n"
            "  -s, --server SERVER[:PORT]  WDS server address (IPv6 as [ADDR]:PORT); default\n"
            "                              $WDSGET_SERVER\n"
            "  -i, --interface IFADDR      local IPv4 address to receive multicast on\n"
            "  -o, --output FILE|-         where to write (default: CONTENT in the current\n"
            "                              directory); - writes in order to stdout\n"
            "  -c, --cache BYTES           memory the transport may fill ahead of the\n"
            "                              writer (default 64M; suffixes K, M, G)\n"
            "  -t, --timeout SECONDS       fail after this long without a packet from the\n"
            "                              server (default 30)\n"
            "  -n, --name NAME             client name sent to the server (<= 15 chars)\n"
            "  -q, --quiet                 no progress output\n"
            "\n"
            "Session initiation over MS-WDSC RPC (Windows Server 2016 and later):\n"
            "  -u, --user [DOMAIN\\]USER    authenticate as USER (NTLMv2)\n"
            "      --password-file FILE    read the password from FILE's first line (- for\n"
            "                              stdin); FILE must not be readable by others\n"
            "      --anonymous             use the anonymous logon instead\n"
            "      --auth ntlm|spnego      security provider (default ntlm)\n"
            "      --rpc-port PORT         RPC port (default 5040)\n"
            "      --initiation auto|udp|rpc\n"
            "                              auto (default): UDP briefly, then RPC when\n"
            "                              credentials are given\n"
            "  -l, --list                  list the server's images instead (needs --user)\n"
            "      --json                  with --list: print JSON\n"
            "  -h, --help                  this text\n"
            "\n"
            "Exit status: 0 complete, 1 failed, 2 usage error, 130 interrupted.\n");
}

/* "A.B.C.D", "A.B.C.D:PORT", "[V6]", "[V6]:PORT", or a bare IPv6 literal. */
static int parse_server(const char *s, char *host, size_t hostcap, uint16_t *port)
{
    const char *colon;
    size_t hlen;

    *port = 0;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close)
            return -EINVAL;
        hlen = (size_t)(close - s - 1);
        if (hlen >= hostcap)
            return -EINVAL;
        memcpy(host, s + 1, hlen);
        host[hlen] = '\0';
        colon = close[1] == ':' ? close + 1 : NULL;
        if (!colon && close[1])
            return -EINVAL;
    } else {
        colon = strchr(s, ':');
        if (colon && strchr(colon + 1, ':'))
            colon = NULL; /* bare IPv6 */
        hlen = colon ? (size_t)(colon - s) : strlen(s);
        if (hlen == 0 || hlen >= hostcap)
            return -EINVAL;
        memcpy(host, s, hlen);
        host[hlen] = '\0';
    }
    if (colon) {
        char *end;
        errno = 0;
        unsigned long p = strtoul(colon + 1, &end, 10);
        if (errno || *end || p == 0 || p > 65535)
            return -EINVAL;
        *port = (uint16_t)p;
    }
    return 0;
}

static double elapsed_s(const struct wdsget *g)
{
    return (double)(uv_hrtime() - g->t0_ns) / 1e9;
}

static void human(double bytes, char *buf, size_t cap)
{
    const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (bytes >= 1024 && i < 4) {
        bytes /= 1024;
        i++;
    }
    snprintf(buf, cap, "%.1f %s", bytes, unit[i]);
}

static void draw_progress(struct wdsget *g, bool final)
{
    struct wdsmc_client_status st;
    char got[32], total[32], rate[32];

    wdsmc_client_status(g->client, &st);
    human((double)st.bytes_received, got, sizeof(got));
    human((double)st.content_size, total, sizeof(total));
    double avg = st.bytes_received / (elapsed_s(g) > 0 ? elapsed_s(g) : 1);
    human(final ? avg : st.rate, rate, sizeof(rate));
    if (g->tty && !final) {
        char bar[31];
        unsigned fill = st.percent * 30 / 100;
        memset(bar, '#', fill);
        memset(bar + fill, '.', 30 - fill);
        bar[30] = '\0';
        double left = st.rate > 0 ? (double)(st.content_size - st.bytes_received) / st.rate : -1;
        char eta[32] = "--:--";
        if (left >= 0 && left < 360000)
            snprintf(eta, sizeof(eta), "%02d:%02d", (int)left / 60, (int)left % 60);
        fprintf(stderr, "\r[%s] %3u%%  %s / %s  %s/s  ETA %s%s ", bar, st.percent, got, total, rate,
                eta, st.master ? "  master" : "");
    } else if (final) {
        if (g->tty)
            fprintf(stderr, "\r\033[K");
        /* Dropped: malformed, spoofed or other-session datagrams, which the
         * transfer survived but an administrator may want to know about. */
        fprintf(stderr,
                "wdsget: %s of %s in %.1f s (%s/s average), session %" PRIu32
                ", loss %.2f%%, %" PRIu64 " datagrams dropped\n",
                got, total, elapsed_s(g), rate, st.session_id, st.loss_rate * 100,
                st.packets_dropped);
    }
}

static void on_progress(uv_timer_t *t)
{
    struct wdsget *g = t->data;
    if (g->tty && !g->quiet)
        draw_progress(g, false);
}

static void on_start(void *ctx, uint64_t content_size, uint32_t block_size)
{
    struct wdsget *g = ctx;

    g->content_size = content_size;
    g->block_size = block_size;
    g->total_blocks = block_size ? (content_size + block_size - 1) / block_size : 0;
    if (!g->to_stdout) {
        struct stat st;
        uint64_t devsize = 0;
        if (fstat(g->fd, &st) < 0) {
            g->write_err = errno;
        } else if (S_ISREG(st.st_mode)) {
            /* Size the file up front: a full disk shows now, not at 90%. */
            if (ftruncate(g->fd, (off_t)content_size) < 0)
                g->write_err = errno;
        } else if (S_ISBLK(st.st_mode)) {
            /* Imaging a disk: it must hold the whole content. */
            if (ioctl(g->fd, BLKGETSIZE64, &devsize) < 0)
                g->write_err = errno;
            else if (devsize < content_size)
                g->write_err = ENOSPC;
        }
        if (g->write_err)
            wdsmc_client_cancel(g->client);
        return;
    }
    /* The ring holds blocks that wait for the one the writer needs next. It
     * must leave that one room in the cache: the transport refuses every
     * payload once the held bytes leave less than a packet's worth (MS-WDSMT
     * 3.2.5.13), and a ring as large as the cache, full but for the awaited
     * block, would refuse exactly the repair it waits for. */
    g->window = g->cache / block_size > 2 ? g->cache / block_size - 1 : 1;
    g->pool = malloc((size_t)g->window * block_size);
    g->ring_len = calloc((size_t)g->window, sizeof(*g->ring_len));
    g->ring_buf = calloc((size_t)g->window, sizeof(*g->ring_buf));
    g->free_buf = calloc((size_t)g->window, sizeof(*g->free_buf));
    if (!g->pool || !g->ring_len || !g->ring_buf || !g->free_buf) {
        g->write_err = ENOMEM;
        wdsmc_client_cancel(g->client);
        return;
    }
    /* Everything ahead of the writer is reported missing, so the server's
     * rounds carry as much as possible; what does not fit the ring is
     * refused and comes again in a later round. */
    for (size_t i = 0; i < g->window; i++)
        g->free_buf[i] = (uint32_t)(g->window - 1 - i); /* buffer 0 on top */
    g->nfree = g->window;
    wdsmc_client_set_window(g->client, 0, 0);
}

static uint8_t *pool_at(const struct wdsget *g, uint32_t buf)
{
    return g->pool + (size_t)buf * g->block_size;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* -o -: write every block that is now contiguous with what was written, and
 * slide the window past it. */
static void drain(struct wdsget *g)
{
    size_t freed = 0;

    while (g->next_block < g->total_blocks) {
        size_t slot = (size_t)(g->next_block % g->window);
        if (g->ring_len[slot] == 0)
            break;
        int err = write_all(STDOUT_FILENO, pool_at(g, g->ring_buf[slot]), g->ring_len[slot]);
        if (err < 0) {
            g->write_err = -err;
            wdsmc_client_cancel(g->client);
            return;
        }
        freed += g->ring_len[slot];
        g->ring_len[slot] = 0;
        g->free_buf[g->nfree++] = g->ring_buf[slot];
        g->next_block++;
    }
    if (freed) {
        wdsmc_client_set_window(g->client, g->next_block, g->total_blocks - g->next_block);
        wdsmc_client_complete_receive(g->client, freed);
    }
}

static void on_receive(void *ctx, const void *buf, size_t len, uint64_t offset)
{
    struct wdsget *g = ctx;

    if (g->write_err)
        return;
    if (!g->to_stdout) {
        ssize_t w = pwrite(g->fd, buf, len, (off_t)offset);
        if (w != (ssize_t)len) {
            g->write_err = w < 0 ? errno : ENOSPC;
            wdsmc_client_cancel(g->client);
            return;
        }
        wdsmc_client_complete_receive(g->client, len);
        return;
    }
    uint64_t block = offset / g->block_size;
    if (block < g->next_block || block >= g->next_block + g->window) {
        /* No room in the ring (or already written): refuse it; it stays
         * missing and a later round brings it again. */
        wdsmc_client_reject(g->client);
        return;
    }
    size_t slot = (size_t)(block % g->window);
    /* A slot holds one buffer at most (the transport delivers a block
     * once, but a repeat would only overwrite it), so one is free. */
    if (!g->ring_len[slot])
        g->ring_buf[slot] = g->free_buf[--g->nfree];
    memcpy(pool_at(g, g->ring_buf[slot]), buf, len);
    g->ring_len[slot] = (uint32_t)len;
    drain(g);
}

static void on_complete(void *ctx, int err)
{
    struct wdsget *g = ctx;
    (void)err;
    uv_timer_stop(&g->progress);
    uv_signal_stop(&g->sigint);
    uv_signal_stop(&g->sigterm);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct wdsget *g = s->data;
    (void)signum;
    g->interrupted = true;
    wdsmc_client_cancel(g->client);
}

static void close_cb(uv_handle_t *h)
{
    (void)h;
}

static void json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

/* --list: WDS_OP_IMG_ENUMERATE and print the table. */
static int list_images(const struct wdsmc_client_request *req, unsigned timeout_s, bool json)
{
    struct wdsmc_catalog_request creq = {
            .server = req->server,
            .rpc_port = req->rpc_port,
            .user = req->user,
            .domain = req->domain,
            .password = req->password,
            .anonymous = req->anonymous,
            .auth = req->auth,
            .timeout = timeout_s * 1000,
    };
    struct wdsmc_catalog *cat = NULL;
    uv_loop_t *loop = uv_default_loop();
    int err = wdsmc_catalog_get(loop, &creq, &cat);

    if (err < 0) {
        if (err == -EACCES)
            fprintf(stderr, "wdsget: %s: access denied (check --user and the password file)\n",
                    req->server);
        else
            fprintf(stderr, "wdsget: %s: cannot list images: %s\n", req->server,
                    wdsmc_strerror(err));
        uv_loop_close(loop);
        return 1;
    }
    if (json) {
        printf("[");
        for (size_t i = 0; i < cat->n_images; i++) {
            const struct wdsmc_catalog_image *m = &cat->images[i];
            printf(i ? ",\n {" : "\n {");
            printf("\"group\": ");
            json_string(m->group);
            printf(", \"name\": ");
            json_string(m->name);
            printf(", \"file\": ");
            json_string(m->file);
            printf(", \"index\": %" PRIu32 ", \"namespace\": ", m->index);
            if (m->ns)
                json_string(m->ns);
            else
                printf("null");
            printf(", \"resource_file\": ");
            if (m->res_file)
                json_string(m->res_file);
            else
                printf("null");
            printf(", \"dependent_files\": [");
            for (size_t d = 0; d < m->n_dep; d++) {
                if (d)
                    printf(", ");
                json_string(m->dep[d]);
            }
            printf("], \"size\": ");
            if (m->has_size)
                printf("%" PRIu64, m->size);
            else
                printf("null");
            printf("}");
        }
        printf("\n]\n");
    } else {
        printf("%-20s %-30s %5s %-40s %10s\n", "GROUP", "NAME", "INDEX", "NAMESPACE", "SIZE");
        for (size_t i = 0; i < cat->n_images; i++) {
            const struct wdsmc_catalog_image *m = &cat->images[i];
            char size[32] = "-";
            if (m->has_size)
                human((double)m->size, size, sizeof(size));
            printf("%-20s %-30s %5" PRIu32 " %-40s %10s\n", m->group ? m->group : "",
                   m->name ? m->name : (m->file ? m->file : ""), m->index,
                   m->ns ? m->ns : "(no multicast)", size);
        }
    }
    wdsmc_catalog_free(cat);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
            {"server", required_argument, NULL, 's'},
            {"interface", required_argument, NULL, 'i'},
            {"output", required_argument, NULL, 'o'},
            {"cache", required_argument, NULL, 'c'},
            {"timeout", required_argument, NULL, 't'},
            {"name", required_argument, NULL, 'n'},
            {"quiet", no_argument, NULL, 'q'},
            {"help", no_argument, NULL, 'h'},
            {"user", required_argument, NULL, 'u'},
            {"password-file", required_argument, NULL, 'P'},
            {"anonymous", no_argument, NULL, 'A'},
            {"auth", required_argument, NULL, 'a'},
            {"rpc-port", required_argument, NULL, 'R'},
            {"initiation", required_argument, NULL, 'I'},
            {"list", no_argument, NULL, 'l'},
            {"json", no_argument, NULL, 'j'},
            {NULL, 0, NULL, 0},
    };
    struct wdsget g = {.fd = -1, .timeout_s = 30};
    struct wdsmc_client_request req = {0};
    const char *server = getenv("WDSGET_SERVER");
    size_t cache = 64u << 20;
    struct wdsmc_credentials cred = {0};
    const char *user_arg = NULL, *password_file = NULL;
    bool list = false, json = false, server_given = false;
    int opt;

    while ((opt = getopt_long(argc, argv, "s:i:o:c:t:n:qhu:l", longopts, NULL)) != -1) {
        switch (opt) {
        case 's':
            server = optarg;
            server_given = true;
            break;
        case 'i':
            req.interface = optarg;
            break;
        case 'o':
            g.out_path = optarg;
            break;
        case 'c': {
            uint64_t v;
            if (wdsmc_parse_size(optarg, SIZE_MAX, &v) < 0 || v < 65536) {
                fprintf(stderr, "wdsget: bad cache size '%s' (at least 64K)\n", optarg);
                return EXIT_USAGE;
            }
            cache = (size_t)v;
            break;
        }
        case 't': {
            char *end;
            errno = 0;
            unsigned long t = strtoul(optarg, &end, 10);
            if (errno || *end || t == 0 || t > 86400) {
                fprintf(stderr, "wdsget: bad timeout '%s' (1..86400 seconds)\n", optarg);
                return EXIT_USAGE;
            }
            g.timeout_s = (unsigned)t;
            break;
        }
        case 'n':
            req.client_name = optarg;
            break;
        case 'q':
            g.quiet = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'u':
            user_arg = optarg;
            break;
        case 'P':
            password_file = optarg;
            break;
        case 'A':
            req.anonymous = true;
            break;
        case 'a':
            if (strcmp(optarg, "ntlm") == 0)
                req.auth = WDSMC_AUTH_NTLM;
            else if (strcmp(optarg, "spnego") == 0)
                req.auth = WDSMC_AUTH_SPNEGO;
            else {
                fprintf(stderr, "wdsget: bad --auth '%s' (ntlm or spnego)\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'R': {
            char *end;
            errno = 0;
            unsigned long p = strtoul(optarg, &end, 10);
            if (errno || *end || p == 0 || p > 65535) {
                fprintf(stderr, "wdsget: bad --rpc-port '%s'\n", optarg);
                return EXIT_USAGE;
            }
            req.rpc_port = (uint16_t)p;
            break;
        }
        case 'I':
            if (strcmp(optarg, "auto") == 0)
                req.initiation = WDSMC_INITIATION_AUTO;
            else if (strcmp(optarg, "udp") == 0)
                req.initiation = WDSMC_INITIATION_UDP;
            else if (strcmp(optarg, "rpc") == 0)
                req.initiation = WDSMC_INITIATION_RPC;
            else {
                fprintf(stderr, "wdsget: bad --initiation '%s' (auto, udp or rpc)\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'l':
            list = true;
            break;
        case 'j':
            json = true;
            break;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (list && argc - optind == 1 && !server_given)
        server = argv[optind++];
    if (argc - optind != (list ? 0 : 2) || (json && !list)) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (user_arg && req.anonymous) {
        fprintf(stderr, "wdsget: --user and --anonymous exclude each other\n");
        return EXIT_USAGE;
    }
    if (password_file && !user_arg) {
        fprintf(stderr, "wdsget: --password-file needs --user\n");
        return EXIT_USAGE;
    }
    if (user_arg) {
        if (wdsmc_credentials_parse_user(&cred, user_arg) < 0) {
            fprintf(stderr, "wdsget: bad --user '%s' (expected [DOMAIN\\]USER)\n", user_arg);
            return EXIT_USAGE;
        }
        if (!password_file) {
            fprintf(stderr, "wdsget: --user needs --password-file FILE (passwords are never "
                            "taken from the command line)\n");
            return EXIT_USAGE;
        }
        int perr = wdsmc_credentials_read_password(&cred, password_file, false);
        if (perr == -EPERM) {
            fprintf(stderr,
                    "wdsget: password file %s is readable by group or others; "
                    "run chmod 600 %s\n",
                    password_file, password_file);
            wdsmc_credentials_fini(&cred);
            return EXIT_USAGE;
        } else if (perr < 0) {
            fprintf(stderr, "wdsget: password file %s: %s\n", password_file,
                    perr == -EINVAL ? "empty, or not a valid password line" : strerror(-perr));
            wdsmc_credentials_fini(&cred);
            return EXIT_USAGE;
        }
        req.user = cred.user;
        req.domain = cred.domain;
        req.password = cred.password;
    }
    if (req.initiation == WDSMC_INITIATION_RPC && !user_arg && !req.anonymous) {
        fprintf(stderr, "wdsget: --initiation rpc needs --user or --anonymous\n");
        return EXIT_USAGE;
    }
    if (list && !user_arg && !req.anonymous) {
        fprintf(stderr, "wdsget: --list needs --user (or --anonymous)\n");
        return EXIT_USAGE;
    }
    if (!server) {
        fprintf(stderr, "wdsget: no server given (use -s SERVER or set WDSGET_SERVER)\n");
        return EXIT_USAGE;
    }
    char host[256];
    if (parse_server(server, host, sizeof(host), &req.port) < 0) {
        fprintf(stderr, "wdsget: bad server '%s' (expected ADDR, ADDR:PORT or [V6ADDR]:PORT)\n",
                server);
        return EXIT_USAGE;
    }
    g.server_text = server;
    req.server = host;
    if (list) {
        int st = list_images(&req, g.timeout_s, json);
        wdsmc_credentials_fini(&cred);
        return st;
    }
    req.ns = argv[optind];
    req.content = argv[optind + 1];
    req.cache_size = cache;
    req.inactivity_timeout = g.timeout_s * 1000;
    /* Like Windows clients (MS-WDSMT 2.2.5.1, <3>), accept being moved to a
     * slower stream rather than being dropped when we fall behind. */
    req.multistream = true;

    if (!g.out_path) {
        const char *slash = strrchr(req.content, '/');
        g.out_path = slash ? slash + 1 : req.content;
        if (!*g.out_path || !strcmp(g.out_path, ".") || !strcmp(g.out_path, "..")) {
            fprintf(stderr, "wdsget: cannot name the output after '%s'; use -o FILE\n",
                    req.content);
            return EXIT_USAGE;
        }
    }
    g.to_stdout = strcmp(g.out_path, "-") == 0;
    g.tty = isatty(STDERR_FILENO) && !g.quiet;
    g.cache = cache;
    if (g.to_stdout) {
        g.fd = STDOUT_FILENO;
    } else {
        /* O_TRUNC only matters for regular files; devices keep their size. */
        g.fd = open(g.out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (g.fd < 0) {
            fprintf(stderr, "wdsget: %s: %s\n", g.out_path, strerror(errno));
            return 1;
        }
    }

    g.loop = uv_default_loop();
    struct wdsmc_client_callbacks cbs = {
            .ctx = &g, .start = on_start, .receive = on_receive, .complete = on_complete};
    int err = wdsmc_client_new(g.loop, &req, &cbs, &g.client);
    if (err < 0) {
        fprintf(stderr, "wdsget: %s\n", wdsmc_strerror(err));
        return err == -EINVAL ? EXIT_USAGE : 1;
    }
    uv_signal_init(g.loop, &g.sigint);
    uv_signal_init(g.loop, &g.sigterm);
    g.sigint.data = g.sigterm.data = &g;
    uv_signal_start(&g.sigint, on_signal, SIGINT);
    uv_signal_start(&g.sigterm, on_signal, SIGTERM);
    uv_timer_init(g.loop, &g.progress);
    g.progress.data = &g;
    uv_timer_start(&g.progress, on_progress, 250, 250);
    g.t0_ns = uv_hrtime();

    err = wdsmc_client_start(g.client);
    if (err == 0)
        err = wdsmc_client_wait(g.client);
    else
        wdsmc_client_close(g.client), g.client = NULL;

    int status = 0;
    /* fsync of a character device such as /dev/null is EINVAL: nothing to
     * flush there, not a failure. */
    if (err == 0 && !g.to_stdout &&
        ((fsync(g.fd) < 0 && errno != EINVAL && errno != EROFS) || close(g.fd) < 0))
        g.write_err = errno, err = -EIO;
    if (g.interrupted) {
        fprintf(stderr, "%swdsget: interrupted; left the session\n", g.tty ? "\r\033[K" : "");
        status = EXIT_SIGNAL;
    } else if (g.write_err) {
        fprintf(stderr, "%swdsget: %s: %s\n", g.tty ? "\r\033[K" : "", g.out_path,
                strerror(g.write_err));
        status = 1;
    } else if (err == -ETIMEDOUT) {
        fprintf(stderr, "%swdsget: timed out: no packets from %s for %u s\n",
                g.tty ? "\r\033[K" : "", g.server_text, g.timeout_s);
        status = 1;
    } else if (err == -ENOTSUP) {
        fprintf(stderr,
                "%swdsget: %s: server requires packet hashing/signing (SecMode HASH or SIGN), "
                "which is not supported yet\n",
                g.tty ? "\r\033[K" : "", req.content);
        status = 1;
    } else if (err == -EACCES) {
        fprintf(stderr, "%swdsget: %s: access denied by %s (check --user and the password file)\n",
                g.tty ? "\r\033[K" : "", req.content, g.server_text);
        status = 1;
    } else if (err < 0) {
        fprintf(stderr, "%swdsget: %s: %s\n", g.tty ? "\r\033[K" : "", req.content,
                wdsmc_strerror(err));
        status = 1;
    } else if (!g.quiet) {
        draw_progress(&g, true);
    }

    if (g.client)
        wdsmc_client_close(g.client);
    uv_close((uv_handle_t *)&g.sigint, close_cb);
    uv_close((uv_handle_t *)&g.sigterm, close_cb);
    uv_close((uv_handle_t *)&g.progress, close_cb);
    uv_run(g.loop, UV_RUN_DEFAULT);
    uv_loop_close(g.loop);
    free(g.pool);
    free(g.ring_len);
    free(g.ring_buf);
    free(g.free_buf);
    wdsmc_credentials_fini(&cred);
    return status;
}
