/* SPDX-License-Identifier: MIT */
/*
 * Server engine over real sockets on loopback: the engine (wdsmc/server.h)
 * and client sessions (wdsmc/client.h) share one libuv loop in this process.
 * Multicast leaves from 127.0.0.1 with TTL 0, so nothing reaches the wire.
 *
 * Checked: MS-WDSMSI error answers on the UDP port (1168, 2), two receivers
 * get a 4 MiB random file bit-exact (SHA-256), statistics, Scheduled-Cast
 * (min_clients, start_namespace), kick, terminate (the session disappears),
 * a content changed during a session, the slow-client policies (DISCONNECT
 * kicks, MULTISTREAM demotes to a lower stream that completes), the Auto-Cast
 * end 10 s after the last client, and a clean shutdown.
 *
 * Exit 77 (skip) only when the host cannot join a multicast group on
 * 127.0.0.1.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <uv.h>

#include "wdsmc/client.h"
#include "wdsmc/codec.h"
#include "wdsmc/server.h"

#define FILE_SIZE (4u << 20)

static uv_loop_t loop;
static uv_timer_t tick;
static struct wdsmc_server *srv;
static char dir[64];
static char path_main[128], path_change[128];
static uint8_t *file_data;
static uint8_t file_sha[32];
static uint16_t msi_port;
static int failures;
static bool verbose;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "# ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

static void log_cb(void *ctx, enum wdsmc_log_level level, const char *msg)
{
    static const char *names[] = {"error", "warn", "info", "debug"};

    (void)ctx;
    if (level <= WDSMC_LOG_INFO || verbose)
        fprintf(stderr, "  engine %s: %s\n", names[level], msg);
}

static void sha256(const uint8_t *buf, size_t len, uint8_t out[32])
{
    unsigned int n = 32;

    if (EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL) != 1)
        abort();
}

/* ------------------------------------------------------------------------ */
/* Running the loop                                                          */
/* ------------------------------------------------------------------------ */

static void tick_cb(uv_timer_t *t)
{
    (void)t;
}

static uint64_t now_ms(void)
{
    return uv_hrtime() / 1000000;
}

/* Run the loop until pred(arg) holds or timeout_ms pass; the tick timer
 * makes uv_run return at least every 10 ms. */
static bool run_until(bool (*pred)(void *), void *arg, unsigned timeout_ms)
{
    uint64_t end = now_ms() + timeout_ms;

    while (!pred(arg)) {
        if (now_ms() >= end)
            return false;
        uv_run(&loop, UV_RUN_ONCE);
    }
    return true;
}

static bool never(void *arg)
{
    (void)arg;
    return false;
}

static void run_for(unsigned ms)
{
    (void)run_until(never, NULL, ms);
}

/* ------------------------------------------------------------------------ */
/* Receivers                                                                 */
/* ------------------------------------------------------------------------ */

struct rx {
    const char *label;
    struct wdsmc_client *c;
    uint8_t *buf;
    uint64_t size;
    uint64_t bytes;
    bool done;
    int err;
    bool bad_offset;
};

static void rx_start(void *ctx, uint64_t size, uint32_t block)
{
    struct rx *r = ctx;

    (void)block;
    r->size = size;
    r->buf = calloc(1, size ? size : 1);
}

static void rx_receive(void *ctx, const void *buf, size_t len, uint64_t off)
{
    struct rx *r = ctx;

    if (!r->buf || off > r->size || len > r->size - off)
        r->bad_offset = true;
    else
        memcpy(r->buf + off, buf, len);
    r->bytes += len;
    wdsmc_client_complete_receive(r->c, len);
}

static void rx_complete(void *ctx, int err)
{
    struct rx *r = ctx;

    r->done = true;
    r->err = err;
    say("%s: complete: %s", r->label, err ? wdsmc_strerror(err) : "ok");
}

static int rx_open(struct rx *r, const char *label, const char *ns, const char *content,
                   bool multistream)
{
    struct wdsmc_client_request req = {
            .server = "127.0.0.1",
            .port = msi_port,
            .ns = ns,
            .content = content,
            .interface = "127.0.0.1",
            .client_name = label,
            .inactivity_timeout = 10000,
            .msi_tries = 5,
            .multistream = multistream,
    };
    struct wdsmc_client_callbacks cbs = {
            .ctx = r,
            .start = rx_start,
            .receive = rx_receive,
            .complete = rx_complete,
    };

    memset(r, 0, sizeof(*r));
    r->label = label;
    int err = wdsmc_client_new(&loop, &req, &cbs, &r->c);
    if (err == 0)
        err = wdsmc_client_start(r->c);
    CHECK(err == 0, "%s: start: %s", label, wdsmc_strerror(err));
    return err;
}

static void rx_close(struct rx *r)
{
    wdsmc_client_close(r->c);
    r->c = NULL;
    free(r->buf);
    r->buf = NULL;
}

static bool rx_done(void *arg)
{
    return ((struct rx *)arg)->done;
}

static bool rx_has_data(void *arg)
{
    struct rx *r = arg;
    return r->bytes > 0 || r->done;
}

static bool rx_exact(const struct rx *r)
{
    uint8_t sha[32];

    if (!r->buf || r->size != FILE_SIZE || r->bad_offset)
        return false;
    sha256(r->buf, r->size, sha);
    return memcmp(sha, file_sha, 32) == 0;
}

/* ------------------------------------------------------------------------ */
/* Engine helpers                                                            */
/* ------------------------------------------------------------------------ */

static bool session_of(const char *ns, const char *content, struct wdsmc_session_info *ret)
{
    struct wdsmc_session_info info[64];
    size_t n = wdsmc_server_sessions(srv, info, 64);

    for (size_t i = 0; i < n && i < 64; i++) {
        if (strcmp(info[i].ns, ns) == 0 && strcmp(info[i].content, content) == 0 &&
            info[i].state != WDSMC_SESSION_ENDING) {
            *ret = info[i];
            return true;
        }
    }
    return false;
}

static bool session_exists(uint32_t id)
{
    struct wdsmc_session_info info[64];
    size_t n = wdsmc_server_sessions(srv, info, 64);

    for (size_t i = 0; i < n && i < 64; i++)
        if (info[i].id == id)
            return true;
    return false;
}

static bool session_gone(void *arg)
{
    return !session_exists(*(uint32_t *)arg);
}

/* ------------------------------------------------------------------------ */
/* MS-WDSMSI errors, by hand over a UDP socket                               */
/* ------------------------------------------------------------------------ */

struct msi_probe {
    int fd;
    uint8_t buf[2048];
    ssize_t len;
};

static bool msi_answered(void *arg)
{
    struct msi_probe *p = arg;

    p->len = recv(p->fd, p->buf, sizeof(p->buf), MSG_DONTWAIT);
    return p->len > 0;
}

/* Send a REQUEST for (ns, content) and return the Win32 code of the ERROR
 * answer, 0 for a REPLY (filled in *ret), or -1 without an answer. */
static long msi_ask(const char *ns, const char *content, struct wdsmc_msi_reply *ret)
{
    struct wdsmc_msi_pkt p = {.opcode = WDSMC_MSI_REQUEST};
    struct msi_probe probe;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(msi_port)};
    uint8_t req[2048];
    long code = -1;

    snprintf(p.u.req.ns, sizeof(p.u.req.ns), "%s", ns);
    snprintf(p.u.req.content, sizeof(p.u.req.content), "%s", content);
    memcpy(p.u.req.mac, "\x02\x00\x00\x00\x00\x01", 6);
    ssize_t n = wdsmc_msi_encode(&p, req, sizeof(req));
    if (n < 0)
        return -1;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    probe.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (probe.fd < 0)
        return -1;
    if (sendto(probe.fd, req, (size_t)n, 0, (struct sockaddr *)&sa, sizeof(sa)) == n &&
        run_until(msi_answered, &probe, 2000)) {
        struct wdsmc_msi_pkt r;
        if (wdsmc_msi_decode(probe.buf, (size_t)probe.len, &r) >= 0 &&
            r.opcode == WDSMC_MSI_REPLY) {
            code = r.is_error ? (long)r.u.error : 0;
            if (!r.is_error && ret)
                *ret = r.u.reply;
        }
    }
    close(probe.fd);
    return code;
}

static void test_msi_errors(void)
{
    struct wdsmc_msi_reply reply;

    say("MS-WDSMSI error answers");
    CHECK(msi_ask("WDS:Nope", "file", NULL) == WDSMC_WIN32_NOT_FOUND, "unknown namespace");
    CHECK(msi_ask("WDS:Test", "nope.bin", NULL) == WDSMC_WIN32_FILE_NOT_FOUND, "unknown content");
    /* A good request is answered with the session parameters (decision 21:
     * both ports equal; SERVER_ADDR is the bound address). */
    long code = msi_ask("WDS:Test", "file.bin", &reply);
    CHECK(code == 0, "good request answered %ld", code);
    if (code == 0) {
        CHECK(wdsmc_msi_reply_check(&reply) == 0, "reply passes the client's checks");
        CHECK(reply.content_size == FILE_SIZE, "content size %" PRIu64, reply.content_size);
        CHECK(reply.block_size == 8192, "block size %" PRIu32, reply.block_size);
        CHECK(reply.mcast_port == reply.server_port, "ports differ");
        CHECK(reply.server_addr.len == 4 && memcmp(reply.server_addr.bytes, "\x7f\0\0\1", 4) == 0,
              "server address");
        /* The same content gets the same session while it lives. */
        struct wdsmc_msi_reply again;
        CHECK(msi_ask("WDS:Test", "file.bin", &again) == 0 && again.session_id == reply.session_id,
              "second request, same session");
    }
}

/* ------------------------------------------------------------------------ */
/* Transfers                                                                 */
/* ------------------------------------------------------------------------ */

static bool both_done(void *arg)
{
    struct rx *r = arg;
    return r[0].done && r[1].done;
}

static uint32_t auto_session;

static void test_two_receivers(void)
{
    struct rx r[2];
    struct wdsmc_session_info si;
    uint64_t t0 = now_ms();

    say("two receivers, Auto-Cast, 4 MiB");
    rx_open(&r[0], "rx-a", "WDS:Test", "file.bin", false);
    rx_open(&r[1], "rx-b", "WDS:Test", "file.bin", false);
    CHECK(run_until(both_done, r, 60000), "transfer timed out");
    for (int i = 0; i < 2; i++) {
        CHECK(r[i].err == 0, "%s: %s", r[i].label, wdsmc_strerror(r[i].err));
        CHECK(rx_exact(&r[i]), "%s: SHA-256 differs", r[i].label);
    }
    say("transfer took %" PRIu64 " ms", now_ms() - t0);
    CHECK(session_of("WDS:Test", "file.bin", &si), "session listed after the transfer");
    if (session_of("WDS:Test", "file.bin", &si)) {
        auto_session = si.id;
        CHECK(si.bytes_sent >= FILE_SIZE, "bytes_sent %" PRIu64, si.bytes_sent);
        CHECK(si.content_size == FILE_SIZE && si.block_size == 8192, "sizes");
        CHECK(strncmp(si.group, "239.", 4) == 0, "group %s", si.group);
        say("session %08" PRIx32 ": %s:%u, %" PRIu64 " bytes sent", si.id, si.group, si.port,
            si.bytes_sent);
    }
    rx_close(&r[0]);
    rx_close(&r[1]);
}

static void test_scheduled(void)
{
    struct rx r[2];
    struct wdsmc_session_info si;

    say("Scheduled-Cast: nothing sent before 2 clients");
    rx_open(&r[0], "sched-a", "WDS:Sched", "file.bin", false);
    run_for(1500);
    CHECK(session_of("WDS:Sched", "file.bin", &si), "scheduled session listed");
    if (session_of("WDS:Sched", "file.bin", &si)) {
        CHECK(si.state == WDSMC_SESSION_WAITING, "state %d", si.state);
        CHECK(si.bytes_sent == 0, "bytes sent before start: %" PRIu64, si.bytes_sent);
        CHECK(si.clients == 1, "clients %u", si.clients);
    }
    CHECK(!r[0].done && r[0].bytes == 0, "first client got data before the start");
    rx_open(&r[1], "sched-b", "WDS:Sched", "file.bin", false);
    CHECK(run_until(both_done, r, 60000), "scheduled transfer timed out");
    for (int i = 0; i < 2; i++)
        CHECK(r[i].err == 0 && rx_exact(&r[i]), "%s: %s", r[i].label, wdsmc_strerror(r[i].err));
    rx_close(&r[0]);
    rx_close(&r[1]);

    say("Scheduled-Cast: start_namespace");
    rx_open(&r[0], "sched-c", "WDS:Sched2", "file.bin", false);
    run_for(1200);
    CHECK(!r[0].done && r[0].bytes == 0, "client got data before start_namespace");
    CHECK(wdsmc_server_start_namespace(srv, "WDS:Sched2") == 0, "start_namespace");
    CHECK(wdsmc_server_start_namespace(srv, "WDS:Nope") == -ENOENT, "start unknown namespace");
    CHECK(run_until(rx_done, &r[0], 60000), "started transfer timed out");
    CHECK(r[0].err == 0 && rx_exact(&r[0]), "sched-c: %s", wdsmc_strerror(r[0].err));
    rx_close(&r[0]);
}

static void test_kick(void)
{
    struct rx r;
    struct wdsmc_session_info si;
    struct wdsmc_client_info ci[4];

    say("kick one client");
    rx_open(&r, "kicked", "WDS:Slow", "file.bin", false);
    CHECK(run_until(rx_has_data, &r, 10000), "no data");
    CHECK(session_of("WDS:Slow", "file.bin", &si), "slow session listed");
    int n = wdsmc_server_clients(srv, si.id, ci, 4);
    CHECK(n == 1, "clients %d", n);
    if (n == 1) {
        CHECK(strncmp(ci[0].address, "127.0.0.1:", 10) == 0, "address %s", ci[0].address);
        CHECK(strcmp(ci[0].name, "kicked") == 0, "name %s", ci[0].name);
        CHECK(wdsmc_server_kick(srv, si.id, ci[0].id, 7) == -EINVAL, "bad reason");
        CHECK(wdsmc_server_kick(srv, si.id, ci[0].id + 1, WDSMC_KICK_FALLBACK) == -ENOENT,
              "unknown client");
        CHECK(wdsmc_server_kick(srv, si.id, ci[0].id, WDSMC_KICK_FALLBACK) == 0, "kick");
    }
    CHECK(wdsmc_server_clients(srv, 0, ci, 4) == -ENOENT, "unknown session");
    CHECK(run_until(rx_done, &r, 5000), "kicked client did not complete");
    CHECK(r.err == -WDSMC_EKICK_FALLBACK, "kicked: %s", wdsmc_strerror(r.err));
    rx_close(&r);
}

static void test_terminate(void)
{
    struct rx r;
    struct wdsmc_session_info si;

    say("terminate a session");
    rx_open(&r, "term", "WDS:Slow", "file.bin", false);
    CHECK(run_until(rx_has_data, &r, 10000), "no data");
    CHECK(session_of("WDS:Slow", "file.bin", &si), "slow session listed");
    uint32_t id = si.id;
    CHECK(wdsmc_server_terminate(srv, id) == 0, "terminate");
    /* Hidden from MSI at once: a new request gets a new session. */
    struct wdsmc_msi_reply reply;
    long code = msi_ask("WDS:Slow", "file.bin", &reply);
    CHECK(code == 0 && reply.session_id != id, "new session after terminate (%ld)", code);
    CHECK(run_until(rx_done, &r, 5000), "terminated client did not complete");
    CHECK(r.err == -WDSMC_EKICK_FAIL, "terminated: %s", wdsmc_strerror(r.err));
    rx_close(&r);
    CHECK(run_until(session_gone, &id, 2500), "terminated session still listed");
    CHECK(wdsmc_server_terminate(srv, id) == -ENOENT, "terminate a gone session");
}

static void test_content_change(void)
{
    struct rx r;

    say("content changed during a session");
    rx_open(&r, "change", "WDS:Slow", "change.bin", false);
    CHECK(run_until(rx_has_data, &r, 10000), "no data");
    int fd = open(path_change, O_WRONLY | O_APPEND | O_CLOEXEC);
    CHECK(fd >= 0 && write(fd, "x", 1) == 1, "append");
    if (fd >= 0)
        close(fd);
    CHECK(run_until(rx_done, &r, 5000), "client did not complete after the change");
    CHECK(r.err == -WDSMC_EKICK_FAIL, "changed content: %s", wdsmc_strerror(r.err));
    CHECK(!rx_exact(&r), "a changed file cannot have arrived whole");
    rx_close(&r);
}

static void test_slow_policies(void)
{
    struct rx r[2];

    /* Both namespaces cap the rate at 128 KiB/s (32 s for the file) and call
     * anything under 100 MB/s slow, so each client is judged after the 5 s
     * window plus the 10 s grace: run them side by side. */
    say("slow clients: DISCONNECT and MULTISTREAM (about 20 s)");
    rx_open(&r[0], "slow-kick", "WDS:SlowKick", "file.bin", false);
    rx_open(&r[1], "slow-demote", "WDS:SlowDemote", "file.bin", true);
    CHECK(run_until(rx_done, &r[0], 30000), "slow client not kicked");
    CHECK(r[0].err == -WDSMC_EKICK_FALLBACK, "slow-kick: %s", wdsmc_strerror(r[0].err));
    CHECK(run_until(rx_done, &r[1], 40000), "demoted client did not complete");
    CHECK(r[1].err == 0 && rx_exact(&r[1]), "slow-demote: %s", wdsmc_strerror(r[1].err));
    struct wdsmc_session_info info[64];
    size_t n = wdsmc_server_sessions(srv, info, 64);
    bool lower = false;
    for (size_t i = 0; i < n && i < 64; i++)
        lower |= info[i].lower_stream && strcmp(info[i].ns, "WDS:SlowDemote") == 0;
    CHECK(lower, "no lower stream session listed");
    rx_close(&r[0]);
    rx_close(&r[1]);
}

/* ------------------------------------------------------------------------ */
/* Setup                                                                     */
/* ------------------------------------------------------------------------ */

static int write_file(const char *path, const uint8_t *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (fd < 0)
        return -1;
    ssize_t n = write(fd, buf, len);
    close(fd);
    return n == (ssize_t)len ? 0 : -1;
}

static bool multicast_works(const char *group)
{
    uv_udp_t h;
    struct sockaddr_in sa;
    bool ok;

    uv_ip4_addr("0.0.0.0", 0, &sa);
    if (uv_udp_init(&loop, &h) < 0)
        return false;
    ok = uv_udp_bind(&h, (struct sockaddr *)&sa, 0) == 0 &&
         uv_udp_set_membership(&h, group, "127.0.0.1", UV_JOIN_GROUP) == 0;
    uv_close((uv_handle_t *)&h, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    return ok;
}

static int add_ns(const char *name, const struct wdsmc_namespace_config *nc, const char *content,
                  const char *path)
{
    int err = wdsmc_server_add_namespace(srv, name, nc);

    if (err == 0)
        err = wdsmc_server_add_content(srv, name, content, path);
    CHECK(err == 0, "namespace %s: %s", name, wdsmc_strerror(err));
    return err;
}

static bool shut_down;

static void on_shutdown(void *ctx)
{
    (void)ctx;
    shut_down = true;
}

static bool is_shut_down(void *arg)
{
    (void)arg;
    return shut_down;
}

int main(void)
{
    uint32_t rnd;
    char group[32];

    verbose = getenv("ENGINE_DEBUG") != NULL;
    setvbuf(stderr, NULL, _IOLBF, 0);
    if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
        rnd = (uint32_t)time(NULL) ^ (uint32_t)getpid();
    uv_loop_init(&loop);

    /* Random ports and groups: tests of parallel runs must not meet. */
    msi_port = (uint16_t)(20000 + rnd % 20000);
    uint16_t port_first = (uint16_t)(41000 + (rnd >> 8) % 20000);
    snprintf(group, sizeof(group), "239.255.%u.1", (rnd >> 16) % 250);
    if (!multicast_works(group)) {
        fprintf(stderr, "SKIP: cannot join %s on 127.0.0.1\n", group);
        uv_loop_close(&loop);
        return 77;
    }

    snprintf(dir, sizeof(dir), "/tmp/wdsmc-engine-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path_main, sizeof(path_main), "%s/file.bin", dir);
    snprintf(path_change, sizeof(path_change), "%s/change.bin", dir);
    file_data = malloc(FILE_SIZE);
    for (size_t off = 0; off < FILE_SIZE;) {
        ssize_t n = getrandom(file_data + off, FILE_SIZE - off, 0);
        if (n <= 0)
            return 1;
        off += (size_t)n;
    }
    sha256(file_data, FILE_SIZE, file_sha);
    if (write_file(path_main, file_data, FILE_SIZE) < 0 ||
        write_file(path_change, file_data, FILE_SIZE) < 0) {
        perror("write");
        return 1;
    }

    struct wdsmc_server_config cfg = {
            .address = "127.0.0.1",
            .interface = "127.0.0.1",
            .msi_port = msi_port,
            .group_first = group,
            .group_count = 4,
            .port_first = port_first,
            .port_count = 64,
            .log = log_cb,
    };
    int err = wdsmc_server_new(&loop, &cfg, &srv);
    CHECK(err == 0, "server_new: %s", wdsmc_strerror(err));
    if (err)
        return 1;

    /* Configuration errors. */
    struct wdsmc_namespace_config nc;
    wdsmc_namespace_config_default(&nc);
    nc.block_size = 100;
    CHECK(wdsmc_server_add_namespace(srv, "WDS:Bad", &nc) == -EINVAL, "block size 100");
    CHECK(wdsmc_server_add_content(srv, "WDS:Nope", "x", path_main) == -ENOENT, "no namespace");

    wdsmc_namespace_config_default(&nc);
    nc.ttl = 0; /* loopback only */
    add_ns("WDS:Test", &nc, "file.bin", path_main);
    CHECK(wdsmc_server_add_namespace(srv, "WDS:Test", &nc) == -EEXIST, "duplicate namespace");
    CHECK(wdsmc_server_add_content(srv, "WDS:Test", "file.bin", path_main) == -EEXIST,
          "duplicate content");
    CHECK(wdsmc_server_add_content(srv, "WDS:Test", "dir", dir) == -EINVAL, "directory content");

    struct wdsmc_namespace_config sched = nc;
    sched.mode = WDSMC_CAST_SCHEDULED;
    sched.min_clients = 2;
    add_ns("WDS:Sched", &sched, "file.bin", path_main);
    sched.min_clients = 0;
    add_ns("WDS:Sched2", &sched, "file.bin", path_main);

    struct wdsmc_namespace_config slow = nc;
    slow.max_rate = 1 << 20; /* 4 s for the file: time to kick or terminate */
    add_ns("WDS:Slow", &slow, "file.bin", path_main);
    CHECK(wdsmc_server_add_content(srv, "WDS:Slow", "change.bin", path_change) == 0, "content");

    struct wdsmc_namespace_config pol = nc;
    pol.max_rate = 128 << 10;
    pol.min_rate = 100 << 20;
    pol.slow_policy = WDSMC_SLOW_DISCONNECT;
    add_ns("WDS:SlowKick", &pol, "file.bin", path_main);
    pol.slow_policy = WDSMC_SLOW_MULTISTREAM;
    CHECK(wdsmc_server_add_namespace(srv, "WDS:NoDemoteRate", &pol) == -EINVAL,
          "multistream without demote_rate");
    pol.demote_rate = 8 << 20;
    add_ns("WDS:SlowDemote", &pol, "file.bin", path_main);

    err = wdsmc_server_start(srv);
    CHECK(err == 0, "server_start: %s", wdsmc_strerror(err));
    if (err)
        return 1;
    uv_timer_init(&loop, &tick);
    uv_timer_start(&tick, tick_cb, 10, 10);

    test_msi_errors();
    test_two_receivers();
    test_scheduled();
    test_kick();
    test_terminate();
    test_content_change();
    test_slow_policies();

    /* Auto-Cast end: the first session has had no client for more than
     * 10 s by now (the tests above take longer); allow the rest. */
    say("Auto-Cast session ends without clients");
    CHECK(auto_session != 0, "no auto session");
    CHECK(run_until(session_gone, &auto_session, 13000), "idle Auto-Cast session did not end");

    say("shutdown");
    wdsmc_server_shutdown(srv, on_shutdown, NULL);
    CHECK(run_until(is_shut_down, NULL, 35000), "shutdown did not finish");
    CHECK(wdsmc_server_sessions(srv, NULL, 0) == 0, "sessions after shutdown");
    wdsmc_server_free(srv);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0, "handles left open on the loop");

    unlink(path_main);
    unlink(path_change);
    rmdir(dir);
    free(file_data);
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    else
        fprintf(stderr, "all engine checks passed\n");
    return failures ? 1 : 0;
}
