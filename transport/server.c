/* SPDX-License-Identifier: MIT */
/*
 * libwdsmc server engine (include/wdsmc/server.h): the I/O glue that runs
 * the sans-I/O machines of the server side on a libuv loop.
 *
 *   MS-WDSMSI  one UDP socket, answered by wdsmc_msi_server_answer() with
 *              srv_msi_lookup() as the (namespace, content) -> session map
 *   MS-WDSMT   one wdsmc_mt_server per session, fed from the session socket
 *   MS-WDSMA   one wdsmc_ma_server per session, wired to the MT server as
 *              ma_server.h's header comment prescribes
 *
 * Each session owns a UDP socket bound to address:port (decision 21: the
 * unicast port is the multicast port), the content's fd, and one timer
 * re-armed after every input to the earliest of the MT deadline, the MA
 * deadline and our own once-a-second housekeeping (content change check,
 * rates, Auto-Cast end, Scheduled-Cast start, slow clients).
 *
 * Re-entrancy: the machines call back into us from inside handle()/timeout().
 * We never free anything there. Callbacks only set flags; srv_session_pump()
 * runs after every entry into a machine, acts on the flags (kick_all for a
 * changed content, closing the handles of a terminated session) and re-arms
 * the timer. A session's memory is freed only from the close callback of its
 * last uv handle (libuv rule).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <uv.h>

#include "wdsmc/codec.h"
#include "wdsmc/server.h"

#include "ma_server.h"
#include "msi.h"
#include "mt_server.h"
#include "uvnet.h"

/* Limits on what a configuration (or an MSI peer, through session creation)
 * can grow. */
#define SRV_MAX_SESSIONS   1024
#define SRV_MAX_NAMESPACES 4096
#define SRV_MAX_CONTENTS   65536 /* per namespace */
#define SRV_NAME_MAX       255   /* bytes, namespace and content names */

#define SRV_DEFAULT_GROUP       "239.192.48.1"
#define SRV_DEFAULT_GROUP_COUNT 256
#define SRV_DEFAULT_PORT_FIRST  64000
#define SRV_DEFAULT_PORT_COUNT  1000
#define SRV_DEFAULT_BLOCK_SIZE  8192
#define SRV_MIN_BLOCK_SIZE      512
#define SRV_READAHEAD           (256 * 1024) /* bytes, srv_ma_read */

#define SRV_HOUSEKEEPING_MS 1000  /* content check, rates, policies */
#define SRV_EMPTY_LINGER_MS 10000 /* Auto-Cast: end after this long without clients */
#define SRV_SLOW_WINDOW_MS  5000  /* rate estimate spans at least this */
#define SRV_SLOW_GRACE_MS   10000 /* below min_rate this long: act */
#define SRV_SLOW_SAMPLES    16    /* progress reports kept per client */

/* Win32 codes for MSI refusals other than those of decision 4. */
#define SRV_WIN32_ACCESS_DENIED  5
#define SRV_WIN32_NOT_ENOUGH_MEM 8
#define SRV_WIN32_NOT_READY      21
#define SRV_WIN32_GEN_FAILURE    31
#define SRV_WIN32_BUSY           170

struct srv_content {
    char name[SRV_NAME_MAX + 1];
    char *path;
};

struct srv_ns {
    char name[SRV_NAME_MAX + 1];
    struct wdsmc_namespace_config nc;
    struct srv_content *contents;
    size_t ncontents, cap;
    /* wdsmc_server_start_namespace() found no session to start: the next
     * session of this namespace starts at once. */
    bool start_pending;
};

/* A client's progress reports, for the slow-client policy. */
struct srv_track {
    uint32_t id;
    unsigned n, head; /* ring of the last n reports, newest at head */
    uint64_t t[SRV_SLOW_SAMPLES];
    uint8_t progress[SRV_SLOW_SAMPLES];
    uint64_t slow_since; /* 0: not below min_rate */
    bool acted;          /* kicked or demoted already */
};

struct srv_session {
    struct wdsmc_server *srv;
    struct srv_ns *ns; /* namespaces are never removed: stable */
    size_t content;    /* index in ns->contents (never removed either) */
    uint32_t id;
    bool lower; /* a lower stream for demoted clients: not used for MSI */

    /* Where: decision 21, the unicast port is the multicast port. */
    uint32_t group_host; /* multicast group, host order */
    char group_text[INET_ADDRSTRLEN];
    uint16_t port;
    struct sockaddr_storage group_sa;

    /* What: the content as opened, to notice a change (server.h). */
    int fd;
    uint64_t size;
    dev_t dev;
    ino_t ino;
    struct timespec mtime;
    uint32_t block_size;
    /* srv_ma_read's read-ahead: ra_len bytes of the file from ra_off */
    uint8_t *ra;
    uint64_t ra_off, ra_next;
    size_t ra_len;

    uv_udp_t sock;
    uv_timer_t timer;
    unsigned handles; /* initialised and not yet closed */
    bool sock_open, timer_open;
    uint64_t armed_at; /* deadline the timer is armed for */

    struct wdsmc_mt_server *mt;
    struct wdsmc_ma_server *ma;

    bool ending;     /* kick_all sent or about to be: hidden from MSI */
    bool terminated; /* the MT server called terminated(): hidden from lists */
    bool closing;    /* handles are closing */
    bool content_bad;
    bool gated; /* Scheduled-Cast and not started: nothing goes to MA */
    bool check_start;
    bool start_now;
    int term_err;

    bool had_clients;
    uint64_t empty_since; /* 0: someone is there */
    uint64_t housekeeping_at;

    /* bytes/s over the last housekeeping interval */
    uint64_t rate_t, rate_bytes;
    double rate;
    uint64_t tx_errors; /* datagrams the socket did not take (lost; repaired) */
    /* Decision 65: datagrams the socket refused, queued in libuv until it
     * has room; the MT server sends no data meanwhile. */
    unsigned tx_queued;
    size_t tx_queued_bytes;
    uint64_t tx_pauses;
    bool gso;        /* data goes out in UDP GSO batches */
    uint64_t rx_bad; /* datagrams we could not even attribute */

    struct srv_track *tracks; /* one per joined client, at most max_clients */
    unsigned ntracks;
};

struct wdsmc_server {
    uv_loop_t *loop;

    /* configuration, validated and copied */
    struct sockaddr_in bind_sa; /* address:0 */
    bool wildcard;
    char iface[INET_ADDRSTRLEN];
    bool has_iface;
    struct wdsmc_addr server_addr; /* SERVER_ADDR of MSI replies */
    uint16_t msi_port;
    bool msi_disabled;
    bool gso_disabled;
    unsigned send_buffer; /* 0: wdsmc_uvnet_grow_buffers' */
    uint32_t group_first; /* host order */
    unsigned group_count;
    uint16_t port_first;
    unsigned port_count;
    unsigned max_clients;
    unsigned client_dead_timeout; /* ms; 0: the spec's default */
    void (*log)(void *ctx, enum wdsmc_log_level level, const char *msg);
    void *log_ctx;

    struct srv_ns **ns;
    size_t nns, ns_cap;

    struct srv_session **sessions; /* creation order */
    size_t nsessions;
    uint64_t next_pool; /* where the pool search starts (round robin) */
    uint64_t rng;

    uv_udp_t msi;
    uv_timer_t idle; /* only closed at shutdown: makes `done` asynchronous */
    unsigned handles;
    bool started, shutting_down, done_called;
    void (*done)(void *ctx);
    void *done_ctx;

    uint8_t *rxbuf; /* shared recvmmsg buffer of every session socket */
    uint8_t *msi_rx;
    uint8_t *txbuf;                     /* our own KICK after a fatal error */
    struct wdsmc_mt_client_info *cinfo; /* scratch for get_clients */
    size_t cinfo_cap;
    /* Housekeeping's own copy: kicks and demotes issued while it walks the
     * list may log (and so fill cinfo) or create a session. */
    struct wdsmc_mt_client_info *scan;
    size_t scan_cap;
};

static void srv_session_pump(struct srv_session *ss, uint64_t now);
static int srv_session_new(struct wdsmc_server *s, struct srv_ns *ns, size_t content, bool lower,
                           uint64_t now, struct srv_session **ret);

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */
/* ------------------------------------------------------------------------ */

/* The machines' clock: monotonic milliseconds, never 0 (mt_server.h: a
 * ServerTime of 0 means "voluntary QCR", decision 10). */
static uint64_t srv_now(void)
{
    return uv_hrtime() / 1000000 + 1;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

__attribute__((format(printf, 3, 4))) static void
srv_log(struct wdsmc_server *s, enum wdsmc_log_level level, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (!s->log)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    s->log(s->log_ctx, level, msg);
}

/* splitmix64: session ids and MT seeds. Seeded from getrandom() so that ids
 * are not predictable across restarts (a stale client of an earlier run must
 * not match a new session, MS-WDSMT 3.1.5.1 -EXDEV). */
static uint64_t srv_random(struct wdsmc_server *s)
{
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int srv_parse_ipv4(const char *text, uint32_t *ret_host)
{
    struct in_addr a;

    if (inet_pton(AF_INET, text, &a) != 1)
        return -EINVAL;
    *ret_host = ntohl(a.s_addr);
    return 0;
}

static void srv_addr_from_host(uint32_t host, struct wdsmc_addr *ret)
{
    uint32_t be = htonl(host);

    memset(ret, 0, sizeof(*ret));
    ret->len = 4;
    memcpy(ret->bytes, &be, 4);
}

static void srv_endpoint_text(const struct wdsmc_endpoint *ep, char *buf, size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";

    if (ep->ip.len == 4)
        inet_ntop(AF_INET, ep->ip.bytes, ip, sizeof(ip));
    else if (ep->ip.len == 16)
        inet_ntop(AF_INET6, ep->ip.bytes, ip, sizeof(ip));
    if (ep->ip.len == 16)
        snprintf(buf, cap, "[%s]:%u", ip, ep->port);
    else
        snprintf(buf, cap, "%s:%u", ip, ep->port);
}

static bool srv_name_ok(const char *name)
{
    return name && *name && strlen(name) <= SRV_NAME_MAX;
}

/*
 * A bound, non-blocking UDP socket, before libuv sees it. We bind ourselves
 * (rather than with uv_udp_bind) so that a port already in use costs no uv
 * handle: a failed uv handle could only be released through a close callback,
 * and the pool search may try many ports.
 */
static int srv_bind_fd(const struct sockaddr_in *sa, bool reuse)
{
    int one = 1, zero = 0;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -errno;
    if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
        goto fail;
    /* A burst at loopback speed must not be dropped while the loop serves
     * another session. */
    wdsmc_uvnet_grow_buffers(fd);
    /* A session socket bound to the wildcard address would otherwise get
     * every group some other socket on this host joined, our own ODATA
     * included when a receiver runs here (multicast loop is on). */
    (void)setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof(zero));
    if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0)
        goto fail;
    return fd;
fail:;
    int err = -errno;
    close(fd);
    return err;
}

/* Wrap a bound fd in h. On failure h may be initialised (*ret_inited) and
 * must then be closed by the caller; the fd is closed either way. */
static int srv_udp_open(uv_loop_t *loop, uv_udp_t *h, int fd, bool mmsg, bool *ret_inited)
{
    int err = uv_udp_init_ex(loop, h, AF_UNSPEC | (mmsg ? UV_UDP_RECVMMSG : 0));

    *ret_inited = false;
    if (err < 0) {
        close(fd);
        return err;
    }
    *ret_inited = true;
    err = uv_udp_open(h, fd);
    if (err < 0)
        close(fd);
    return err;
}

/* ------------------------------------------------------------------------ */
/* Engine lifetime                                                           */
/* ------------------------------------------------------------------------ */

/*
 * Decision 59: the default block size fits one datagram on the multicast
 * interface. An 8 KiB block on a 1500-byte Ethernet leaves as six IP
 * fragments: one lost fragment loses the block, and the other five sit in the
 * receiver's reassembly memory for 30 s; under a few percent of loss that
 * memory fills within a second and the receiver then drops everything (the
 * fault harness stalled so). Headroom SRV_BLOCK_HEADROOM covers IPv4 and UDP
 * headers and the MS-WDSMT/MS-WDSMA headers with a checksum or HMAC security
 * header and the FW_LEAD option. Without a known interface, assume Ethernet.
 */
#define SRV_BLOCK_HEADROOM 128
#define SRV_ASSUMED_MTU    1500

static uint32_t srv_block_size(const struct wdsmc_server *s)
{
    unsigned mtu = SRV_ASSUMED_MTU;
    struct wdsmc_addr ip;

    if (s->has_iface && wdsmc_uvnet_parse_ip(s->iface, &ip) == 0)
        wdsmc_uvnet_mtu_for_ip(&ip, &mtu);
    uint32_t b = mtu > SRV_BLOCK_HEADROOM + SRV_MIN_BLOCK_SIZE ? mtu - SRV_BLOCK_HEADROOM
                                                               : SRV_MIN_BLOCK_SIZE;
    return b < SRV_DEFAULT_BLOCK_SIZE ? b : SRV_DEFAULT_BLOCK_SIZE;
}

void wdsmc_namespace_config_default(struct wdsmc_namespace_config *nc)
{
    memset(nc, 0, sizeof(*nc));
    nc->mode = WDSMC_CAST_AUTO;
    nc->block_size = 0; /* from the interface's MTU, srv_block_size() */
    nc->ttl = -1;
    nc->slow_policy = WDSMC_SLOW_NONE;
}

int wdsmc_server_new(uv_loop_t *loop, const struct wdsmc_server_config *cfg,
                     struct wdsmc_server **ret)
{
    struct wdsmc_server *s;
    uint32_t addr = 0, iface = 0, first;

    if (!loop || !cfg || !ret)
        return -EINVAL;
    if (cfg->address && srv_parse_ipv4(cfg->address, &addr) < 0)
        return -EINVAL;
    if (cfg->interface && srv_parse_ipv4(cfg->interface, &iface) < 0)
        return -EINVAL;
    if (srv_parse_ipv4(cfg->group_first ? cfg->group_first : SRV_DEFAULT_GROUP, &first) < 0)
        return -EINVAL;
    unsigned groups = cfg->group_count ? cfg->group_count : SRV_DEFAULT_GROUP_COUNT;
    unsigned ports = cfg->port_count ? cfg->port_count : SRV_DEFAULT_PORT_COUNT;
    unsigned port_first = cfg->port_first ? cfg->port_first : SRV_DEFAULT_PORT_FIRST;
    /* The whole group pool must lie in 224.0.0.0/4 (a client checks the
     * reply's MULTICAST_ADDR, decision 4). */
    if ((first >> 28) != 0xE || (uint64_t)first + groups - 1 > 0xEFFFFFFFu)
        return -EINVAL;
    if (port_first + (uint64_t)ports - 1 > 65535)
        return -EINVAL;
    if (cfg->max_clients > WDSMC_MT_SERVER_DEFAULT_MAX_CLIENTS)
        return -EINVAL;

    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->loop = loop;
    s->bind_sa.sin_family = AF_INET;
    s->bind_sa.sin_addr.s_addr = htonl(addr);
    s->wildcard = addr == 0;
    if (cfg->interface) {
        snprintf(s->iface, sizeof(s->iface), "%s", cfg->interface);
        s->has_iface = true;
    }
    /* server.h: SERVER_ADDR is the bound address, or the multicast
     * interface, or loopback. */
    uint32_t sa = addr ? addr : iface;
    if (sa == 0)
        sa = INADDR_LOOPBACK;
    srv_addr_from_host(sa, &s->server_addr);
    s->msi_port = cfg->msi_port ? cfg->msi_port : WDSMC_MSI_PORT;
    s->msi_disabled = cfg->msi_disabled;
    s->gso_disabled = cfg->gso_disabled;
    s->send_buffer = cfg->send_buffer;
    s->group_first = first;
    s->group_count = groups;
    s->port_first = (uint16_t)port_first;
    s->port_count = ports;
    s->max_clients = cfg->max_clients ? cfg->max_clients : WDSMC_MT_SERVER_DEFAULT_MAX_CLIENTS;
    s->client_dead_timeout = cfg->client_dead_timeout;
    s->log = cfg->log;
    s->log_ctx = cfg->log_ctx;
    if (getrandom(&s->rng, sizeof(s->rng), GRND_NONBLOCK) != sizeof(s->rng))
        s->rng = uv_hrtime() ^ ((uint64_t)getpid() << 32);
    s->next_pool = srv_random(s) % ports;
    *ret = s;
    return 0;
}

static struct srv_ns *srv_find_ns(struct wdsmc_server *s, const char *name)
{
    for (size_t i = 0; i < s->nns; i++)
        if (strcmp(s->ns[i]->name, name) == 0)
            return s->ns[i];
    return NULL;
}

static ssize_t srv_find_content(const struct srv_ns *ns, const char *name)
{
    for (size_t i = 0; i < ns->ncontents; i++)
        if (strcmp(ns->contents[i].name, name) == 0)
            return (ssize_t)i;
    return -1;
}

int wdsmc_server_add_namespace(struct wdsmc_server *s, const char *name,
                               const struct wdsmc_namespace_config *nc)
{
    struct wdsmc_namespace_config c;

    if (!s || !srv_name_ok(name))
        return -EINVAL;
    if (nc)
        c = *nc;
    else
        wdsmc_namespace_config_default(&c);
    if (c.ttl == -1)
        c.ttl = 1;
    if (c.block_size != 0 &&
        (c.block_size < SRV_MIN_BLOCK_SIZE || c.block_size > WDSMC_MA_MAX_BLOCK_SIZE))
        return -EINVAL;
    if (c.ttl < 0 || c.ttl > 255)
        return -EINVAL;
    if (c.mode != WDSMC_CAST_AUTO && c.mode != WDSMC_CAST_SCHEDULED)
        return -EINVAL;
    if (c.slow_policy != WDSMC_SLOW_NONE && c.slow_policy != WDSMC_SLOW_DISCONNECT &&
        c.slow_policy != WDSMC_SLOW_MULTISTREAM)
        return -EINVAL;
    /* A lower stream without a rate cap would be as fast as the one the
     * client was too slow for. */
    if (c.slow_policy == WDSMC_SLOW_MULTISTREAM && c.demote_rate == 0)
        return -EINVAL;
    if (srv_find_ns(s, name))
        return -EEXIST;
    if (s->nns >= SRV_MAX_NAMESPACES)
        return -ENOSPC;
    if (s->nns == s->ns_cap) {
        size_t cap = s->ns_cap ? s->ns_cap * 2 : 8;
        struct srv_ns **a = realloc(s->ns, cap * sizeof(*a));
        if (!a)
            return -ENOMEM;
        s->ns = a;
        s->ns_cap = cap;
    }
    struct srv_ns *ns = calloc(1, sizeof(*ns));
    if (!ns)
        return -ENOMEM;
    snprintf(ns->name, sizeof(ns->name), "%s", name);
    ns->nc = c;
    s->ns[s->nns++] = ns;
    return 0;
}

int wdsmc_server_add_content(struct wdsmc_server *s, const char *nsname, const char *name,
                             const char *path)
{
    struct srv_ns *ns;
    struct stat st;

    if (!s || !nsname || !srv_name_ok(name) || !path || !*path)
        return -EINVAL;
    ns = srv_find_ns(s, nsname);
    if (!ns)
        return -ENOENT;
    if (srv_find_content(ns, name) >= 0)
        return -EEXIST;
    if (stat(path, &st) < 0) {
        srv_log(s, WDSMC_LOG_WARN, "content %s/%s: %s: %s", nsname, name, path, strerror(errno));
        return -EINVAL;
    }
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    if (ns->ncontents >= SRV_MAX_CONTENTS)
        return -ENOSPC;
    if (ns->ncontents == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 8;
        struct srv_content *a = realloc(ns->contents, cap * sizeof(*a));
        if (!a)
            return -ENOMEM;
        ns->contents = a;
        ns->cap = cap;
    }
    struct srv_content *c = &ns->contents[ns->ncontents];
    c->path = strdup(path);
    if (!c->path)
        return -ENOMEM;
    snprintf(c->name, sizeof(c->name), "%s", name);
    ns->ncontents++;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Session: content file                                                     */
/* ------------------------------------------------------------------------ */

static const char *srv_session_path(const struct srv_session *ss)
{
    return ss->ns->contents[ss->content].path;
}

static const char *srv_session_name(const struct srv_session *ss)
{
    return ss->ns->contents[ss->content].name;
}

/*
 * server.h: a content that changes size or is replaced during a session ends
 * the session. Both the open fd (truncated or grown in place) and the path
 * (renamed over, deleted, rewritten: new dev/ino or mtime) are checked.
 */
static bool srv_content_changed(const struct srv_session *ss)
{
    struct stat st;

    if (fstat(ss->fd, &st) < 0 || (uint64_t)st.st_size != ss->size)
        return true;
    if (stat(srv_session_path(ss), &st) < 0)
        return true;
    return st.st_dev != ss->dev || st.st_ino != ss->ino || (uint64_t)st.st_size != ss->size ||
           st.st_mtim.tv_sec != ss->mtime.tv_sec || st.st_mtim.tv_nsec != ss->mtime.tv_nsec;
}

static void srv_check_content(struct srv_session *ss)
{
    if (!ss->content_bad && !ss->ending && srv_content_changed(ss)) {
        ss->content_bad = true;
        srv_log(ss->srv, WDSMC_LOG_ERROR,
                "session %08" PRIx32 " (%s/%s): %s changed during the session; ending it", ss->id,
                ss->ns->name, srv_session_name(ss), srv_session_path(ss));
    }
}

/* ------------------------------------------------------------------------ */
/* Session: MS-WDSMA callbacks                                               */
/* ------------------------------------------------------------------------ */

static int srv_ma_poll(void *ctx, const uint8_t *app, size_t len, uint64_t now)
{
    struct srv_session *ss = ctx;

    return wdsmc_mt_server_poll(ss->mt, app, len, now);
}

/* Whole `len` bytes from `off`, or fewer at the end of the file, or -errno. */
static ssize_t srv_pread_full(int fd, uint8_t *buf, size_t len, uint64_t off)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = pread(fd, buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        done += (size_t)n;
    }
    return (ssize_t)done;
}

/* ma_server.h: exactly `len` bytes or an error; a short read is reported as
 * such and MA refuses to send the block (never wrong data).
 *
 * Rounds ask for blocks in order, one at a time. A pread per block copied
 * each one out of the page cache on its own, the largest cost of the
 * server's 1-receiver run (37% of its CPU, perf); one pread of
 * SRV_READAHEAD bytes serves the next blocks from a buffer still in the CPU
 * cache. Only a read that continues the previous one refills it, so a
 * repair of a block far behind is one block's pread, as before. */
static ssize_t srv_ma_read(void *ctx, uint64_t offset, uint8_t *buf, size_t len)
{
    struct srv_session *ss = ctx;

    if (offset > ss->size || len > ss->size - offset)
        return -ERANGE;
    if (offset >= ss->ra_off && offset + len <= ss->ra_off + ss->ra_len) {
        memcpy(buf, ss->ra + (offset - ss->ra_off), len);
        ss->ra_next = offset + len;
        return (ssize_t)len;
    }
    if (len < SRV_READAHEAD && offset == ss->ra_next) {
        if (!ss->ra)
            ss->ra = malloc(SRV_READAHEAD);
        uint64_t want = ss->size - offset < SRV_READAHEAD ? ss->size - offset : SRV_READAHEAD;
        ssize_t n = ss->ra ? srv_pread_full(ss->fd, ss->ra, (size_t)want, offset) : -ENOMEM;
        if (n >= (ssize_t)len) {
            ss->ra_off = offset;
            ss->ra_len = (size_t)n;
            ss->ra_next = offset + len;
            memcpy(buf, ss->ra, len);
            return (ssize_t)len;
        }
        ss->ra_len = 0;
    }
    ss->ra_next = offset + len;
    return srv_pread_full(ss->fd, buf, len, offset);
}

static void srv_ma_data_ready(void *ctx, uint64_t now)
{
    struct srv_session *ss = ctx;

    wdsmc_mt_server_data_ready(ss->mt, now);
}

static struct srv_track *srv_track_find(struct srv_session *ss, uint32_t id)
{
    for (unsigned i = 0; i < ss->ntracks; i++)
        if (ss->tracks[i].id == id)
            return &ss->tracks[i];
    return NULL;
}

/* A progress report of a client (PROGRESS in a QCR, or a CNTCIR): for
 * statistics and the slow-client rate estimate. */
static void srv_note_progress(struct srv_session *ss, uint32_t id, uint8_t progress,
                              uint32_t time_in_session, uint64_t now)
{
    struct srv_track *t;

    (void)wdsmc_mt_server_set_progress(ss->mt, id, progress, time_in_session);
    t = srv_track_find(ss, id);
    if (!t)
        return;
    /* Reports closer than half a second apart add nothing to a rate over
     * five seconds: overwrite the newest instead of pushing the oldest out. */
    if (t->n && now - t->t[t->head] < 500) {
        t->t[t->head] = now;
        t->progress[t->head] = progress;
        return;
    }
    t->head = (t->head + 1) % SRV_SLOW_SAMPLES;
    t->t[t->head] = now;
    t->progress[t->head] = progress;
    if (t->n < SRV_SLOW_SAMPLES)
        t->n++;
}

static void srv_ma_progress(void *ctx, uint32_t client_id, uint8_t progress,
                            uint32_t time_in_session, uint64_t now)
{
    srv_note_progress(ctx, client_id, progress, time_in_session, now);
}

/* ------------------------------------------------------------------------ */
/* Session: MS-WDSMT callbacks                                               */
/* ------------------------------------------------------------------------ */

/*
 * Decision 65: a full socket holds the session back. A datagram the kernel
 * refuses (EAGAIN: the send buffer is full, the link behind it slower than
 * we are) is copied into a libuv send request, which goes out in order when
 * the socket has room, and the MT server sends no more data until the last
 * such request is done. Counting the refusal as loss, as before, made the
 * excess into repairs: behind a 1 Gbit/s link with 32 receivers one run had
 * 22,468 datagrams refused and sent 36,802 repairs; at 300 Mbit/s with a
 * 64 KiB buffer, 80,061 repairs for 24,457 ODATA (fault_slowlink). What is queued
 * is bounded: the rest of one batch, and control packets.
 */
#define SRV_TX_QUEUE_MAX (4u << 20) /* bytes; past it a refusal is loss */

struct srv_tx {
    uv_udp_send_t req;
    struct srv_session *ss;
    size_t len;
    uint8_t data[];
};

static void srv_tx_done(uv_udp_send_t *req, int status)
{
    struct srv_tx *t = req->data;
    struct srv_session *ss = t->ss;

    ss->tx_queued--;
    ss->tx_queued_bytes -= t->len;
    if (status < 0 && status != UV_ECANCELED)
        ss->tx_errors++;
    free(t);
    if (ss->tx_queued == 0 && !ss->closing && ss->mt) {
        uint64_t now = srv_now();
        wdsmc_mt_server_tx_resume(ss->mt, now);
        /* The flush may have ended the session (a block it could not
         * read): pump, which closes it, rather than only re-arm. */
        srv_session_pump(ss, now);
    }
}

/* Queue buf for `to` behind what the socket refused. Returns 0, or an error
 * (the datagram is then lost, and NACKs repair it). */
static int srv_tx_queue(struct srv_session *ss, const struct sockaddr *to, const uint8_t *buf,
                        size_t len)
{
    struct srv_tx *t;
    int err;

    if (ss->closing || ss->tx_queued_bytes + len > SRV_TX_QUEUE_MAX)
        return -ENOBUFS;
    t = malloc(sizeof(*t) + len);
    if (!t)
        return -ENOMEM;
    t->ss = ss;
    t->len = len;
    t->req.data = t;
    memcpy(t->data, buf, len);
    uv_buf_t b = uv_buf_init((char *)t->data, (unsigned)len);
    err = uv_udp_send(&t->req, &ss->sock, &b, 1, to, srv_tx_done);
    if (err < 0) {
        free(t);
        return err;
    }
    if (ss->tx_queued++ == 0)
        ss->tx_pauses++;
    ss->tx_queued_bytes += len;
    if (ss->mt)
        wdsmc_mt_server_tx_pause(ss->mt);
    return 0;
}

/* Send now, or queue behind a full socket (decision 65). */
static void srv_send(struct srv_session *ss, const struct sockaddr *to, const uint8_t *buf,
                     size_t len)
{
    /* libuv's try_send refuses (EAGAIN) while requests are queued, so a
     * datagram never overtakes one queued before it. */
    int err = wdsmc_uvnet_send(&ss->sock, to, buf, len);

    if (err == UV_EAGAIN)
        err = srv_tx_queue(ss, to, buf, len);
    if (err < 0)
        ss->tx_errors++;
}

static void srv_mt_send_mcast(void *ctx, const uint8_t *buf, size_t len)
{
    struct srv_session *ss = ctx;

    srv_send(ss, (const struct sockaddr *)&ss->group_sa, buf, len);
}

/* A batch of equal datagrams from the MT server: one UDP GSO send. A path
 * that cannot segment (datagrams above its MTU, no checksum offload) says
 * so on the first batch; the session then sends one datagram at a time. */
static void srv_mt_send_mcast_batch(void *ctx, const uint8_t *buf, size_t len, size_t seg)
{
    struct srv_session *ss = ctx;

    /* A GSO send goes around libuv's queue: not while it holds anything. */
    if (ss->gso && ss->tx_queued == 0) {
        int err = wdsmc_uvnet_send_gso(&ss->sock, (const struct sockaddr *)&ss->group_sa, buf, len,
                                       seg);
        if (err == 0)
            return;
        if (err == UV_EAGAIN)
            goto one_by_one; /* queued one datagram at a time */
        /* What says the path cannot segment: a datagram above its MTU
         * (EINVAL, EMSGSIZE), no checksum offload (EIO), no GSO at all. Any
         * other failure (a route gone for a moment) is loss of the batch,
         * which NACKs repair, as for a single datagram. */
        if (err != -EINVAL && err != -EMSGSIZE && err != -EIO && err != -EOPNOTSUPP &&
            err != -ENOPROTOOPT) {
            ss->tx_errors += (len + seg - 1) / seg;
            return;
        }
        ss->gso = false;
        srv_log(ss->srv, WDSMC_LOG_INFO,
                "session %08" PRIx32 ": UDP GSO refused (%s); one send per datagram", ss->id,
                strerror(-err));
    }
one_by_one:
    for (size_t off = 0; off < len; off += seg)
        srv_mt_send_mcast(ctx, buf + off, len - off < seg ? len - off : seg);
}

static void srv_mt_send_ucast(void *ctx, const struct wdsmc_endpoint *to, const uint8_t *buf,
                              size_t len)
{
    struct srv_session *ss = ctx;
    struct sockaddr_storage sa;

    if (wdsmc_uvnet_sockaddr(&to->ip, to->port, &sa) < 0)
        ss->tx_errors++;
    else
        srv_send(ss, (const struct sockaddr *)&sa, buf, len);
}

static bool srv_mt_pull_data(void *ctx, uint64_t *token)
{
    struct srv_session *ss = ctx;

    /* Scheduled-Cast: nothing is sent before the start, and a changed
     * content gets no further block queued. */
    if (ss->gated || ss->content_bad)
        return false;
    return wdsmc_ma_server_pull_data(ss->ma, token);
}

static ssize_t srv_mt_fill_data(void *ctx, uint64_t token, uint8_t *buf, size_t cap)
{
    struct srv_session *ss = ctx;
    ssize_t n = wdsmc_ma_server_fill_data(ss->ma, token, buf, cap);

    /* The MT server terminates the session with this error; srv_mt_terminated
     * tells the clients. */
    if (n < 0)
        srv_log(ss->srv, WDSMC_LOG_ERROR,
                "session %08" PRIx32 ": reading block %" PRIu64 " of %s: %s", ss->id, token,
                srv_session_path(ss), wdsmc_strerror((int)n));
    return n;
}

static void srv_mt_pollack(void *ctx, uint32_t client_id, const uint8_t *app, size_t len,
                           uint64_t now)
{
    struct srv_session *ss = ctx;
    struct wdsmc_ma_pkt pkt;

    /* A CNTCIR carries the client's progress too (MS-WDSMA 2.2.3); MA only
     * reports PROGRESS, so we read it here for statistics. */
    if (wdsmc_ma_decode(app, len, &pkt) >= 0 && pkt.opcode == WDSMC_MA_CNTCIR)
        srv_note_progress(ss, client_id, pkt.u.cntcir.progress, pkt.u.cntcir.time_in_session, now);
    if (ss->gated || wdsmc_ma_server_pollack(ss->ma, client_id, app, len, now) < 0)
        return;
    /* Once every active client has reported, no other CNTCIR can come this
     * round: start the data now rather than at the Query Timer (decision 47).
     * Clients that join meanwhile are asked in the next round. */
    struct wdsmc_mt_server_stats mst;
    struct wdsmc_ma_server_stats ast;
    wdsmc_mt_server_get_stats(ss->mt, &mst);
    wdsmc_ma_server_get_stats(ss->ma, &ast);
    if (mst.clients_active > 0 && ast.reports >= mst.clients_active)
        wdsmc_ma_server_end_query(ss->ma, now);
}

static void srv_mt_status(void *ctx, uint32_t client_id, const uint8_t *app, size_t len,
                          uint64_t now)
{
    struct srv_session *ss = ctx;
    struct wdsmc_ma_pkt pkt;

    if (!ss->gated) {
        /* Decision 8: the first Status Trigger starts MA (Auto-Cast). */
        (void)wdsmc_ma_server_status(ss->ma, client_id, app, len, now);
        return;
    }
    /* Scheduled-Cast, not started: MA must not start, but PROGRESS still
     * feeds statistics. */
    if (len && wdsmc_ma_decode(app, len, &pkt) >= 0 && pkt.opcode == WDSMC_MA_PROGRESS)
        srv_note_progress(ss, client_id, pkt.u.progress.progress, pkt.u.progress.time_in_session,
                          now);
}

static void srv_mt_data_empty(void *ctx, uint64_t now)
{
    struct srv_session *ss = ctx;

    /* server.h: the content is checked at each query round, so a round never
     * mixes two versions of the file. */
    srv_check_content(ss);
    if (!ss->content_bad)
        wdsmc_ma_server_data_empty(ss->ma, now);
}

static void srv_mt_client_joined(void *ctx, uint32_t client_id, int reason)
{
    struct srv_session *ss = ctx;
    char ep[80] = "?";

    (void)reason;
    ss->had_clients = true;
    ss->empty_since = 0;
    ss->check_start = true;
    if (!srv_track_find(ss, client_id) && ss->ntracks < ss->srv->max_clients) {
        struct srv_track *t = &ss->tracks[ss->ntracks++];
        memset(t, 0, sizeof(*t));
        t->id = client_id;
    }
    if (ss->srv->log) {
        size_t n = wdsmc_mt_server_get_clients(ss->mt, ss->srv->cinfo, ss->srv->cinfo_cap);
        for (size_t i = 0; i < n && i < ss->srv->cinfo_cap; i++)
            if (ss->srv->cinfo[i].id == client_id)
                srv_endpoint_text(&ss->srv->cinfo[i].endpoint, ep, sizeof(ep));
        srv_log(ss->srv, WDSMC_LOG_INFO, "session %08" PRIx32 ": client %08" PRIx32 " (%s) joined",
                ss->id, client_id, ep);
    }
}

static const char *srv_left_name(int reason)
{
    switch (reason) {
    case WDSMC_MT_LEFT_COMPLETE:
        return "complete";
    case WDSMC_MT_LEFT_CANCELLED:
        return "cancelled";
    case WDSMC_MT_LEFT_INACTIVE:
        return "inactive";
    case WDSMC_MT_LEFT_DEAD:
        return "dead (no QCR)";
    case WDSMC_MT_LEFT_KICKED:
        return "kicked";
    case WDSMC_MT_LEFT_DEMOTED:
        return "demoted";
    default:
        return "?";
    }
}

static void srv_mt_client_left(void *ctx, uint32_t client_id, int reason)
{
    struct srv_session *ss = ctx;

    for (unsigned i = 0; i < ss->ntracks; i++) {
        if (ss->tracks[i].id == client_id) {
            ss->tracks[i] = ss->tracks[--ss->ntracks];
            break;
        }
    }
    srv_log(ss->srv, WDSMC_LOG_INFO, "session %08" PRIx32 ": client %08" PRIx32 " left: %s", ss->id,
            client_id, srv_left_name(reason));
}

/*
 * After a fatal error (a block we could not read) the MT server stops at
 * once, without a kick round. Tell the clients once, best effort, with a
 * KICK (FAIL) naming them all, so that they fail now instead of after their
 * inactivity timeout (MS-WDSMT 2.2.12).
 */
static void srv_kick_survivors(struct srv_session *ss, uint64_t now)
{
    struct wdsmc_server *s = ss->srv;
    struct wdsmc_mt_kick_entry e[WDSMC_MT_MAX_KICK_CLIENTS];
    size_t n = wdsmc_mt_server_get_clients(ss->mt, s->cinfo, s->cinfo_cap);
    size_t k = 0;

    if (n > s->cinfo_cap)
        n = s->cinfo_cap;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s->cinfo[i].state != WDSMC_MT_SC_DEMOTED)
            e[k++] = (struct wdsmc_mt_kick_entry){s->cinfo[i].id, WDSMC_KICK_FAIL};
        if ((i == n && k) || k == WDSMC_MT_MAX_KICK_CLIENTS) {
            struct wdsmc_mt_pkt pkt = {.sec_type = WDSMC_SEC_CHECKSUM,
                                       .session_id = ss->id,
                                       .opcode = WDSMC_MT_KICK,
                                       .sender_time = now};
            pkt.u.kick.count = (uint16_t)k;
            pkt.u.kick.entries = e;
            ssize_t len = wdsmc_mt_encode(&pkt, s->txbuf, WDSMC_MAX_DATAGRAM);
            if (len > 0)
                srv_mt_send_mcast(ss, s->txbuf, (size_t)len);
            k = 0;
        }
    }
}

static void srv_mt_terminated(void *ctx, int err)
{
    struct srv_session *ss = ctx;

    ss->terminated = true;
    ss->ending = true;
    ss->term_err = err;
    wdsmc_ma_server_terminate(ss->ma, err);
    srv_log(ss->srv, err == -ECANCELED ? WDSMC_LOG_INFO : WDSMC_LOG_WARN,
            "session %08" PRIx32 " (%s/%s%s) ended: %s", ss->id, ss->ns->name, srv_session_name(ss),
            ss->lower ? ", lower stream" : "", wdsmc_strerror(err));
    if (err != -ECANCELED && err != -ETIMEDOUT)
        srv_kick_survivors(ss, srv_now());
}

/* ------------------------------------------------------------------------ */
/* Session: handles and lifetime                                             */
/* ------------------------------------------------------------------------ */

static void srv_maybe_done(struct wdsmc_server *s)
{
    if (!s->shutting_down || s->done_called || s->nsessions || s->handles)
        return;
    s->done_called = true;
    srv_log(s, WDSMC_LOG_INFO, "server stopped");
    if (s->done)
        s->done(s->done_ctx);
}

static void srv_session_free(struct srv_session *ss)
{
    struct wdsmc_server *s = ss->srv;

    for (size_t i = 0; i < s->nsessions; i++) {
        if (s->sessions[i] == ss) {
            memmove(&s->sessions[i], &s->sessions[i + 1],
                    (s->nsessions - i - 1) * sizeof(s->sessions[0]));
            s->nsessions--;
            break;
        }
    }
    wdsmc_mt_server_free(ss->mt);
    wdsmc_ma_server_free(ss->ma);
    if (ss->fd >= 0)
        close(ss->fd);
    free(ss->ra);
    free(ss->tracks);
    free(ss);
    srv_maybe_done(s);
}

static void srv_session_handle_closed(uv_handle_t *h)
{
    struct srv_session *ss = h->data;

    if (--ss->handles == 0)
        srv_session_free(ss);
}

/* Close the handles; the session is freed from the last close callback. */
static void srv_session_close(struct srv_session *ss)
{
    struct wdsmc_mt_server_stats st;

    if (ss->closing)
        return;
    ss->closing = true;
    ss->terminated = true;
    ss->ending = true;
    /* What the session cost on the wire: repairs and NACK traffic are what
     * an administrator looks at when a session ran slow. A session that
     * failed before its MT server existed sent nothing. */
    if (ss->mt) {
        wdsmc_mt_server_get_stats(ss->mt, &st);
        srv_log(ss->srv, WDSMC_LOG_INFO,
                "session %08" PRIx32 ": sent %" PRIu64 " ODATA, %" PRIu64 " RDATA, %" PRIu64
                " NCF, %" PRIu64 " SPM; received %" PRIu64 " (%" PRIu64 " dropped); %" PRIu64
                " master switches; %" PRIu64 " waits for a full socket, %" PRIu64
                " datagrams lost at the socket",
                ss->id, st.odata_packets, st.rdata_packets, st.ncf_packets, st.spm_packets,
                st.rx_packets, st.rx_dropped, st.master_switches, ss->tx_pauses, ss->tx_errors);
    }
    if (ss->handles == 0) {
        srv_session_free(ss);
        return;
    }
    if (ss->timer_open)
        uv_close((uv_handle_t *)&ss->timer, srv_session_handle_closed);
    if (ss->sock_open)
        uv_close((uv_handle_t *)&ss->sock, srv_session_handle_closed);
}

static void srv_session_arm(struct srv_session *ss, uint64_t now);

static void srv_session_start_cast(struct srv_session *ss, uint64_t now, const char *why)
{
    if (!ss->gated)
        return;
    ss->gated = false;
    srv_log(ss->srv, WDSMC_LOG_INFO, "session %08" PRIx32 " (%s/%s): Scheduled-Cast starts (%s)",
            ss->id, ss->ns->name, srv_session_name(ss), why);
    /* MS-WDSMA 3.1.3: the first query round; the POLL reaches the clients
     * that joined while we waited. */
    (void)wdsmc_ma_server_start(ss->ma, now);
}

/* Scheduled-Cast start conditions (server.h). */
static void srv_session_maybe_start(struct srv_session *ss, uint64_t now)
{
    const struct wdsmc_namespace_config *nc = &ss->ns->nc;
    struct wdsmc_mt_server_stats st;

    if (!ss->gated)
        return;
    if (ss->start_now) {
        srv_session_start_cast(ss, now, "started by the administrator");
        return;
    }
    wdsmc_mt_server_get_stats(ss->mt, &st);
    if (nc->min_clients && st.clients_active >= nc->min_clients)
        srv_session_start_cast(ss, now, "enough clients");
    else if (nc->start_time && time(NULL) >= nc->start_time)
        srv_session_start_cast(ss, now, "start time reached");
}

/* Begin the end: every client is kicked (decision 14); terminated() follows
 * when they have left, at once when there is none. */
static void srv_session_end(struct srv_session *ss, uint8_t reason, uint64_t now)
{
    if (ss->terminated)
        return;
    ss->ending = true;
    (void)wdsmc_mt_server_kick_all(ss->mt, reason, now);
}

/* Run after every entry into the machines: act on what their callbacks
 * flagged, then re-arm the timer. */
static void srv_session_pump(struct srv_session *ss, uint64_t now)
{
    if (ss->closing)
        return;
    if (ss->content_bad && !ss->terminated) {
        /* Decision 14 kick round with reason FAIL: the clients stop with an
         * error instead of assembling two versions of the file. */
        srv_session_end(ss, WDSMC_KICK_FAIL, now);
    }
    if (ss->check_start && !ss->terminated) {
        ss->check_start = false;
        srv_session_maybe_start(ss, now);
    }
    if (ss->terminated) {
        srv_session_close(ss);
        return;
    }
    srv_session_arm(ss, now);
}

/* ------------------------------------------------------------------------ */
/* Session: housekeeping                                                     */
/* ------------------------------------------------------------------------ */

/* Receive rate of a client in bytes/s from its progress reports over at
 * least SRV_SLOW_WINDOW_MS; false while there is no such span yet. */
static bool srv_track_rate(const struct srv_session *ss, const struct srv_track *t,
                           double *ret_rate)
{
    if (t->n < 2)
        return false;
    uint64_t t_new = t->t[t->head];
    for (unsigned k = 1; k < t->n; k++) {
        unsigned i = (t->head + SRV_SLOW_SAMPLES - k) % SRV_SLOW_SAMPLES;
        if (t_new - t->t[i] >= SRV_SLOW_WINDOW_MS) {
            double dp = (double)t->progress[t->head] - (double)t->progress[i];
            if (dp < 0)
                dp = 0;
            *ret_rate = dp * (double)ss->size / 100.0 * 1000.0 / (double)(t_new - t->t[i]);
            return true;
        }
    }
    return false;
}

static struct srv_session *srv_find_lower(struct wdsmc_server *s, const struct srv_session *ss)
{
    for (size_t i = 0; i < s->nsessions; i++) {
        struct srv_session *o = s->sessions[i];
        if (o->lower && !o->ending && o->ns == ss->ns && o->content == ss->content)
            return o;
    }
    return NULL;
}

/* MULTISTREAM: move a slow client to the lower stream of this content,
 * creating it if needed (MS-WDSMT 3.1.5.10). Falls back to a KICK. */
static void srv_demote(struct srv_session *ss, const struct wdsmc_mt_client_info *ci, uint64_t now)
{
    struct wdsmc_server *s = ss->srv;
    struct srv_session *low = NULL;

    if (ci->supports_demote) {
        low = srv_find_lower(s, ss);
        if (!low) {
            int err = srv_session_new(s, ss->ns, ss->content, true, now, &low);
            if (err < 0) {
                srv_log(s, WDSMC_LOG_WARN,
                        "session %08" PRIx32 ": no lower stream for client %08" PRIx32 ": %s",
                        ss->id, ci->id, wdsmc_strerror(err));
                low = NULL;
            }
        }
    }
    if (low) {
        struct wdsmc_mt_demote_target tg = {.session_id = low->id};
        srv_addr_from_host(low->group_host, &tg.mcast.ip);
        tg.mcast.port = low->port;
        tg.ucast.ip = s->server_addr;
        tg.ucast.port = low->port;
        if (wdsmc_mt_server_demote(ss->mt, ci->id, &tg, now) == 0) {
            srv_log(s, WDSMC_LOG_INFO,
                    "session %08" PRIx32 ": slow client %08" PRIx32 " demoted to %08" PRIx32,
                    ss->id, ci->id, low->id);
            return;
        }
    }
    srv_log(s, WDSMC_LOG_INFO, "session %08" PRIx32 ": slow client %08" PRIx32 " kicked", ss->id,
            ci->id);
    (void)wdsmc_mt_server_kick(ss->mt, ci->id, WDSMC_KICK_FALLBACK, now);
}

/*
 * Slow-client policy. A client below min_rate is slow only when it holds the
 * others back: it is clearly slower than the fastest client (it misses what
 * they get), or every client crawls at the same pace and it is the master,
 * whose ACKs clock the session (MS-WDSMT 3.1.5.9.5), so the others are slow
 * only because of it (a lone client is its session's master). Judging every
 * client against min_rate alone would demote the fast clients of a session
 * that a slow master paces.
 */
static void srv_slow_clients(struct srv_session *ss, const struct wdsmc_mt_client_info *ci,
                             size_t n, uint64_t now)
{
    const struct wdsmc_namespace_config *nc = &ss->ns->nc;
    double fastest = 0;

    /* A lower stream does not demote further: one level, like WDS's
     * two-stream mode. Nothing is judged before data flows. */
    if (nc->slow_policy == WDSMC_SLOW_NONE || ss->lower || ss->gated || ss->ending)
        return;
    for (size_t i = 0; i < n; i++) {
        struct srv_track *t = srv_track_find(ss, ci[i].id);
        double rate;

        if (!t || t->acted || ci[i].state != WDSMC_MT_SC_ACTIVE || ci[i].progress >= 100 ||
            !srv_track_rate(ss, t, &rate))
            continue;
        if (rate > fastest)
            fastest = rate;
    }
    for (size_t i = 0; i < n; i++) {
        struct srv_track *t = srv_track_find(ss, ci[i].id);
        double rate;

        if (!t || t->acted || ci[i].state != WDSMC_MT_SC_ACTIVE || ci[i].progress >= 100)
            continue;
        if (!srv_track_rate(ss, t, &rate))
            continue;
        srv_log(ss->srv, WDSMC_LOG_DEBUG,
                "session %08" PRIx32 ": client %08" PRIx32 " at %u%%, %.0f B/s%s", ss->id, ci[i].id,
                ci[i].progress, rate, ci[i].is_master ? " (master)" : "");
        bool holds_back = rate < fastest / 2 || ci[i].is_master;
        if (rate >= (double)nc->min_rate || !holds_back) {
            t->slow_since = 0;
            continue;
        }
        if (!t->slow_since)
            t->slow_since = now;
        if (now - t->slow_since < SRV_SLOW_GRACE_MS)
            continue;
        t->acted = true;
        srv_log(ss->srv, WDSMC_LOG_INFO,
                "session %08" PRIx32 ": client %08" PRIx32 " receives %.0f B/s < %" PRIu64 "%s",
                ss->id, ci[i].id, rate, nc->min_rate,
                ci[i].is_master ? " and paces the session as master" : "");
        if (nc->slow_policy == WDSMC_SLOW_MULTISTREAM)
            srv_demote(ss, &ci[i], now);
        else
            (void)wdsmc_mt_server_kick(ss->mt, ci[i].id, WDSMC_KICK_FALLBACK, now);
    }
}

static int srv_cinfo_reserve(struct wdsmc_server *s, size_t n)
{
    if (n <= s->cinfo_cap)
        return 0;
    struct wdsmc_mt_client_info *a = realloc(s->cinfo, n * sizeof(*a));
    if (!a)
        return -ENOMEM;
    s->cinfo = a;
    s->cinfo_cap = n;
    return 0;
}

static void srv_housekeeping(struct srv_session *ss, uint64_t now)
{
    struct wdsmc_server *s = ss->srv;
    struct wdsmc_mt_server_stats st;

    ss->housekeeping_at = now + SRV_HOUSEKEEPING_MS;
    if (ss->terminated)
        return;
    srv_check_content(ss);

    wdsmc_mt_server_get_stats(ss->mt, &st);
    uint64_t bytes = st.odata_bytes + st.rdata_bytes;
    if (ss->rate_t && now > ss->rate_t)
        ss->rate = (double)(bytes - ss->rate_bytes) * 1000.0 / (double)(now - ss->rate_t);
    ss->rate_t = now;
    ss->rate_bytes = bytes;

    /* Auto-Cast end (and lower streams): once it has had clients, a session
     * with none left for 10 s ends, so a later request gets a new one. */
    if (st.clients_active + st.clients_pending) {
        ss->had_clients = true;
        ss->empty_since = 0;
    } else if (ss->had_clients && !ss->ending) {
        if (!ss->empty_since)
            ss->empty_since = now;
        else if (now - ss->empty_since >= SRV_EMPTY_LINGER_MS) {
            srv_log(s, WDSMC_LOG_INFO, "session %08" PRIx32 ": no client left; ending", ss->id);
            srv_session_end(ss, WDSMC_KICK_FAIL, now);
            return;
        }
    }
    ss->check_start = ss->gated;

    if (ss->ns->nc.slow_policy != WDSMC_SLOW_NONE && ss->ntracks) {
        size_t total =
                st.clients_pending + st.clients_active + st.clients_kicked + st.clients_demoted;
        if (total > s->scan_cap) {
            struct wdsmc_mt_client_info *a = realloc(s->scan, total * sizeof(*a));
            if (!a)
                return;
            s->scan = a;
            s->scan_cap = total;
        }
        size_t n = wdsmc_mt_server_get_clients(ss->mt, s->scan, s->scan_cap);
        srv_slow_clients(ss, s->scan, n < s->scan_cap ? n : s->scan_cap, now);
    }
}

/* ------------------------------------------------------------------------ */
/* Session: I/O                                                              */
/* ------------------------------------------------------------------------ */

static void srv_session_timer_cb(uv_timer_t *t)
{
    struct srv_session *ss = t->data;
    uint64_t now = srv_now();

    if (ss->closing)
        return;
    if (now >= ss->housekeeping_at)
        srv_housekeeping(ss, now);
    if (!ss->terminated) {
        wdsmc_mt_server_timeout(ss->mt, now);
        wdsmc_ma_server_timeout(ss->ma, now);
    }
    srv_session_pump(ss, now);
}

static void srv_session_arm(struct srv_session *ss, uint64_t now)
{
    uint64_t d = min_u64(wdsmc_mt_server_deadline(ss->mt), wdsmc_ma_server_deadline(ss->ma));

    d = min_u64(d, ss->housekeeping_at);
    /* Re-arming costs a heap operation; after most datagrams the deadline
     * has not moved. */
    if (d == ss->armed_at && uv_is_active((uv_handle_t *)&ss->timer))
        return;
    ss->armed_at = d;
    uv_timer_start(&ss->timer, srv_session_timer_cb, d > now ? d - now : 0, 0);
}

static void srv_session_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct srv_session *ss = h->data;

    (void)suggested;
    /* One buffer for every session socket: libuv fills it and runs our
     * callbacks for each datagram before it reads another socket. */
    *buf = uv_buf_init((char *)ss->srv->rxbuf, WDSMC_UVNET_RECVBUF);
}

static void srv_session_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                             const struct sockaddr *addr, unsigned flags)
{
    struct srv_session *ss = h->data;
    struct wdsmc_endpoint from;

    (void)flags;
    /* nread 0 with no address: nothing more to read, or the end of a
     * recvmmsg batch (the buffer is ours, nothing to free). */
    if (!addr || ss->closing || ss->terminated)
        return;
    if (nread <= 0 || wdsmc_uvnet_from_sockaddr(addr, &from.ip, &from.port) < 0) {
        ss->rx_bad++;
        return;
    }
    uint64_t now = srv_now();
    /* A refused datagram is counted by the MT server (stats.rx_dropped). */
    (void)wdsmc_mt_server_handle(ss->mt, (const uint8_t *)buf->base, (size_t)nread, &from, now);
    srv_session_pump(ss, now);
}

/* A port of the pool that no live session uses; the group is the port's
 * index modulo the group count, so group:port is unique too (decision 21). */
static bool srv_port_taken(const struct wdsmc_server *s, uint16_t port)
{
    if (port == s->msi_port && !s->msi_disabled)
        return true;
    for (size_t i = 0; i < s->nsessions; i++)
        if (s->sessions[i]->port == port)
            return true;
    return false;
}

static int srv_session_bind(struct wdsmc_server *s, struct srv_session *ss)
{
    int err = -EADDRNOTAVAIL;

    for (unsigned tries = 0; tries < s->port_count; tries++) {
        uint64_t k = s->next_pool++;
        uint16_t port = (uint16_t)(s->port_first + k % s->port_count);
        struct sockaddr_in sa = s->bind_sa;
        if (srv_port_taken(s, port))
            continue;
        sa.sin_port = htons(port);
        int fd = srv_bind_fd(&sa, s->wildcard);
        if (fd == -EADDRINUSE || fd == -EACCES) {
            err = fd;
            continue;
        }
        if (fd < 0)
            return fd;
        if (s->send_buffer)
            wdsmc_uvnet_send_buffer(fd, s->send_buffer);
        bool inited;
        err = srv_udp_open(s->loop, &ss->sock, fd, true, &inited);
        if (inited) {
            ss->sock.data = ss;
            ss->sock_open = true;
            ss->handles++;
        }
        if (err < 0)
            return err;
        ss->port = port;
        ss->group_host = s->group_first + (uint32_t)(k % s->group_count);
        return 0;
    }
    return err == -EADDRNOTAVAIL ? -EUSERS : err;
}

static int srv_session_new(struct wdsmc_server *s, struct srv_ns *ns, size_t content, bool lower,
                           uint64_t now, struct srv_session **ret)
{
    const struct wdsmc_namespace_config *nc = &ns->nc;
    struct srv_session *ss;
    struct stat st;
    int err;

    if (s->nsessions >= SRV_MAX_SESSIONS)
        return -EUSERS;
    ss = calloc(1, sizeof(*ss));
    if (!ss)
        return -ENOMEM;
    ss->tracks = calloc(s->max_clients, sizeof(*ss->tracks));
    if (!ss->tracks) {
        free(ss);
        return -ENOMEM;
    }
    ss->srv = s;
    ss->ns = ns;
    ss->content = content;
    ss->lower = lower;
    ss->block_size = nc->block_size ? nc->block_size : srv_block_size(s);
    ss->fd = open(ns->contents[content].path, O_RDONLY | O_CLOEXEC);
    /* From here on every failure goes through srv_session_close(), which
     * frees at once or from the last close callback. */
    s->sessions[s->nsessions++] = ss;
    if (ss->fd < 0) {
        err = -errno;
        goto fail;
    }
    if (fstat(ss->fd, &st) < 0) {
        err = -errno;
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        err = -EINVAL;
        goto fail;
    }
    ss->size = (uint64_t)st.st_size;
    ss->dev = st.st_dev;
    ss->ino = st.st_ino;
    ss->mtime = st.st_mtim;

    /* A random non-zero id unique among the sessions we hold. */
    for (bool clash = true; clash;) {
        ss->id = (uint32_t)srv_random(s);
        clash = ss->id == 0;
        for (size_t i = 0; i + 1 < s->nsessions && !clash; i++)
            clash = s->sessions[i]->id == ss->id;
    }

    uv_timer_init(s->loop, &ss->timer);
    ss->timer.data = ss;
    ss->timer_open = true;
    ss->handles++;

    if ((err = srv_session_bind(s, ss)) < 0)
        goto fail;
    struct wdsmc_addr g;
    srv_addr_from_host(ss->group_host, &g);
    inet_ntop(AF_INET, g.bytes, ss->group_text, sizeof(ss->group_text));
    (void)wdsmc_uvnet_sockaddr(&g, ss->port, &ss->group_sa);
    /* Multicast loop on: receivers on this host (tests, a wdsfs mount next
     * to the server) must get the data. TTL 0 is allowed for loopback. */
    err = wdsmc_uvnet_mcast_opts(&ss->sock, s->has_iface ? s->iface : NULL, nc->ttl, true);
    if (err < 0)
        goto fail;
    ss->gso = !s->gso_disabled && wdsmc_uvnet_gso_supported(&ss->sock);

    struct wdsmc_mt_server_config mc;
    wdsmc_mt_server_config_default(&mc, ss->id, srv_random(s));
    mc.max_clients = s->max_clients;
    mc.max_rate = lower ? nc->demote_rate : nc->max_rate;
    if (s->client_dead_timeout)
        mc.params.client_dead_timeout = s->client_dead_timeout;
    struct wdsmc_mt_server_callbacks mcb = {
            .ctx = ss,
            .send_mcast = srv_mt_send_mcast,
            .send_mcast_batch = ss->gso ? srv_mt_send_mcast_batch : NULL,
            .send_ucast = srv_mt_send_ucast,
            .pull_data = srv_mt_pull_data,
            .fill_data = srv_mt_fill_data,
            .pollack = srv_mt_pollack,
            .status = srv_mt_status,
            .data_empty = srv_mt_data_empty,
            .client_joined = srv_mt_client_joined,
            .client_left = srv_mt_client_left,
            .terminated = srv_mt_terminated,
    };
    if ((err = wdsmc_mt_server_new(&mc, &mcb, now, &ss->mt)) < 0)
        goto fail;
    struct wdsmc_ma_server_config ac = {
            .content_size = ss->size, .block_size = ss->block_size, .max_reports = s->max_clients};
    struct wdsmc_ma_server_callbacks acb = {
            .ctx = ss,
            .poll = srv_ma_poll,
            .read = srv_ma_read,
            .data_ready = srv_ma_data_ready,
            .progress = srv_ma_progress,
    };
    if ((err = wdsmc_ma_server_new(&ac, &acb, &ss->ma)) < 0)
        goto fail;
    if ((err = srv_cinfo_reserve(s, s->max_clients)) < 0)
        goto fail;
    if ((err = uv_udp_recv_start(&ss->sock, srv_session_alloc, srv_session_recv)) < 0)
        goto fail;

    ss->gated = !lower && nc->mode == WDSMC_CAST_SCHEDULED;
    if (ss->gated && ns->start_pending) {
        ns->start_pending = false;
        ss->start_now = true;
    }
    ss->check_start = ss->gated;
    ss->housekeeping_at = now + SRV_HOUSEKEEPING_MS;
    ss->rate_t = now;
    srv_log(s, WDSMC_LOG_INFO,
            "session %08" PRIx32 " (%s/%s%s): %s:%u, %" PRIu64 " bytes, block %" PRIu32 "%s",
            ss->id, ns->name, ns->contents[content].name, lower ? ", lower stream" : "",
            ss->group_text, ss->port, ss->size, ss->block_size,
            ss->gated ? ", Scheduled-Cast: waiting" : "");
    srv_session_pump(ss, now);
    *ret = ss;
    return 0;

fail:
    srv_log(s, WDSMC_LOG_ERROR, "cannot start a session for %s/%s: %s", ns->name,
            ns->contents[content].name, wdsmc_strerror(err));
    srv_session_close(ss);
    return err;
}

/* ------------------------------------------------------------------------ */
/* MS-WDSMSI                                                                 */
/* ------------------------------------------------------------------------ */

static uint32_t srv_win32_of(int err)
{
    switch (err) {
    case -ENOENT:
        return WDSMC_WIN32_FILE_NOT_FOUND;
    case -EACCES:
    case -EPERM:
        return SRV_WIN32_ACCESS_DENIED;
    case -ENOMEM:
        return SRV_WIN32_NOT_ENOUGH_MEM;
    case -EUSERS:
    case -EADDRINUSE:
        return SRV_WIN32_BUSY;
    default:
        return SRV_WIN32_GEN_FAILURE;
    }
}

static uint32_t srv_lookup(struct wdsmc_server *s, const char *nsname, const char *content,
                           struct wdsmc_msi_reply *ret)
{
    struct srv_ns *ns = srv_find_ns(s, nsname);
    struct srv_session *ss = NULL;
    ssize_t ci;
    uint64_t now = srv_now();

    if (!ns)
        return WDSMC_WIN32_NOT_FOUND; /* decision 4 */
    ci = srv_find_content(ns, content);
    if (ci < 0)
        return WDSMC_WIN32_FILE_NOT_FOUND;
    if (!s->started || s->shutting_down)
        return SRV_WIN32_NOT_READY;
    for (size_t i = 0; i < s->nsessions && !ss; i++) {
        struct srv_session *o = s->sessions[i];
        if (o->ns != ns || o->content != (size_t)ci || o->lower || o->ending)
            continue;
        /* A file replaced since the session opened it must not be offered
         * again: end that session now and give this client a new one. */
        srv_check_content(o);
        if (o->content_bad)
            srv_session_pump(o, now);
        else
            ss = o;
    }
    if (!ss) {
        int err = srv_session_new(s, ns, (size_t)ci, false, now, &ss);
        if (err < 0)
            return srv_win32_of(err);
    }
    memset(ret, 0, sizeof(*ret));
    srv_addr_from_host(ss->group_host, &ret->mcast_addr);
    ret->server_addr = s->server_addr;
    ret->mcast_port = ss->port;
    ret->server_port = ss->port; /* decision 21 */
    ret->content_size = ss->size;
    ret->block_size = ss->block_size;
    ret->total_blocks = (ss->size + ss->block_size - 1) / ss->block_size;
    ret->session_id = ss->id;
    return 0;
}

static uint32_t srv_msi_lookup(void *ctx, const struct wdsmc_msi_request *req,
                               struct wdsmc_msi_reply *ret)
{
    return srv_lookup(ctx, req->ns, req->content, ret);
}

uint32_t wdsmc_server_request(struct wdsmc_server *s, const struct wdsmc_msi_request *req,
                              struct wdsmc_msi_reply *ret_reply)
{
    struct wdsmc_msi_reply r;

    if (!s || !req || !ret_reply)
        return WDSMC_WIN32_INVALID_PARAMETER;
    uint32_t code = srv_lookup(s, req->ns, req->content, &r);
    if (code == 0)
        *ret_reply = r;
    return code;
}

static void srv_msi_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct wdsmc_server *s = h->data;

    (void)suggested;
    *buf = uv_buf_init((char *)s->msi_rx, 65536);
}

static void srv_msi_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                         const struct sockaddr *addr, unsigned flags)
{
    struct wdsmc_server *s = h->data;
    uint8_t out[2 * WDSMC_MSI_NAME_BUF + 256];

    (void)flags;
    if (!addr || nread <= 0 || s->shutting_down)
        return;
    ssize_t n = wdsmc_msi_server_answer((const uint8_t *)buf->base, (size_t)nread, srv_msi_lookup,
                                        s, out, sizeof(out));
    if (n < 0) {
        /* Not a request: no answer, so the port reflects nothing. */
        srv_log(s, WDSMC_LOG_DEBUG, "MS-WDSMSI: dropped a datagram: %s", wdsmc_strerror((int)n));
        return;
    }
    int err = wdsmc_uvnet_send(h, addr, out, (size_t)n);
    if (err < 0)
        srv_log(s, WDSMC_LOG_WARN, "MS-WDSMSI: reply not sent: %s", uv_strerror(err));
}

/* ------------------------------------------------------------------------ */
/* Public: start, statistics, control, shutdown                              */
/* ------------------------------------------------------------------------ */

static void srv_engine_handle_closed(uv_handle_t *h)
{
    struct wdsmc_server *s = h->data;

    s->handles--;
    srv_maybe_done(s);
}

int wdsmc_server_start(struct wdsmc_server *s)
{
    int err;

    if (!s)
        return -EINVAL;
    if (s->started || s->shutting_down)
        return -EALREADY;
    if (!s->rxbuf)
        s->rxbuf = malloc(WDSMC_UVNET_RECVBUF);
    if (!s->msi_rx)
        s->msi_rx = malloc(65536);
    if (!s->txbuf)
        s->txbuf = malloc(WDSMC_MAX_DATAGRAM);
    if (!s->sessions)
        s->sessions = calloc(SRV_MAX_SESSIONS, sizeof(*s->sessions));
    if (!s->rxbuf || !s->msi_rx || !s->txbuf || !s->sessions ||
        srv_cinfo_reserve(s, s->max_clients) < 0)
        return -ENOMEM;
    if (!s->msi_disabled) {
        struct sockaddr_in sa = s->bind_sa;
        bool inited;
        sa.sin_port = htons(s->msi_port);
        int fd = srv_bind_fd(&sa, false);
        if (fd < 0) {
            srv_log(s, WDSMC_LOG_ERROR, "MS-WDSMSI: cannot bind port %u: %s", s->msi_port,
                    strerror(-fd));
            return fd;
        }
        err = srv_udp_open(s->loop, &s->msi, fd, false, &inited);
        if (err == 0)
            err = uv_udp_recv_start(&s->msi, srv_msi_alloc, srv_msi_recv);
        if (inited) {
            s->msi.data = s;
            s->handles++;
        }
        if (err < 0) {
            /* The handle closes asynchronously: server.h asks for
             * shutdown (whose done waits for it) before free here. */
            if (inited)
                uv_close((uv_handle_t *)&s->msi, srv_engine_handle_closed);
            s->msi_disabled = true;
            return err;
        }
    }
    uv_timer_init(s->loop, &s->idle);
    s->idle.data = s;
    s->handles++;
    s->started = true;
    srv_log(s, WDSMC_LOG_INFO, "server started%s", s->msi_disabled ? " (MS-WDSMSI disabled)" : "");
    return 0;
}

static struct srv_session *srv_find_session(struct wdsmc_server *s, uint32_t id)
{
    for (size_t i = 0; i < s->nsessions; i++)
        if (s->sessions[i]->id == id && !s->sessions[i]->terminated)
            return s->sessions[i];
    return NULL;
}

static enum wdsmc_session_state srv_state_of(const struct srv_session *ss,
                                             enum wdsmc_mt_server_state st)
{
    if (ss->ending)
        return WDSMC_SESSION_ENDING;
    if (ss->gated)
        return WDSMC_SESSION_WAITING;
    switch (st) {
    case WDSMC_MT_SERVER_PRESTART:
        return WDSMC_SESSION_WAITING;
    case WDSMC_MT_SERVER_QCC:
        return WDSMC_SESSION_QUERYING;
    case WDSMC_MT_SERVER_DATA:
        return WDSMC_SESSION_SENDING;
    default:
        return WDSMC_SESSION_ENDING;
    }
}

size_t wdsmc_server_sessions(struct wdsmc_server *s, struct wdsmc_session_info *out, size_t cap)
{
    size_t n = 0;

    if (!s)
        return 0;
    for (size_t i = 0; i < s->nsessions; i++) {
        const struct srv_session *ss = s->sessions[i];
        struct wdsmc_mt_server_stats st;

        /* server.h: a session is gone once terminated() fired. */
        if (ss->terminated)
            continue;
        if (n < cap) {
            struct wdsmc_session_info *o = &out[n];
            wdsmc_mt_server_get_stats(ss->mt, &st);
            memset(o, 0, sizeof(*o));
            o->id = ss->id;
            snprintf(o->ns, sizeof(o->ns), "%s", ss->ns->name);
            snprintf(o->content, sizeof(o->content), "%s", srv_session_name(ss));
            o->state = srv_state_of(ss, st.state);
            snprintf(o->group, sizeof(o->group), "%s", ss->group_text);
            o->port = ss->port;
            o->clients = st.clients_pending + st.clients_active + st.clients_kicked;
            o->content_size = ss->size;
            o->block_size = ss->block_size;
            o->bytes_sent = st.odata_bytes + st.rdata_bytes;
            o->rate = ss->rate;
            o->master_client_id = st.master_id;
            o->lower_stream = ss->lower;
        }
        n++;
    }
    return n;
}

int wdsmc_server_clients(struct wdsmc_server *s, uint32_t session_id, struct wdsmc_client_info *out,
                         size_t cap)
{
    struct srv_session *ss;

    if (!s)
        return -EINVAL;
    ss = srv_find_session(s, session_id);
    if (!ss)
        return -ENOENT;
    size_t total = wdsmc_mt_server_get_clients(ss->mt, NULL, 0);
    if (srv_cinfo_reserve(s, total) < 0)
        return -ENOMEM;
    total = wdsmc_mt_server_get_clients(ss->mt, s->cinfo, s->cinfo_cap);
    size_t k = 0;
    for (size_t i = 0; i < total && i < s->cinfo_cap; i++) {
        const struct wdsmc_mt_client_info *c = &s->cinfo[i];
        /* Demoted clients belong to the lower stream now. */
        if (c->state == WDSMC_MT_SC_DEMOTED)
            continue;
        if (k < cap) {
            struct wdsmc_client_info *o = &out[k];
            memset(o, 0, sizeof(*o));
            o->id = c->id;
            snprintf(o->name, sizeof(o->name), "%s", c->name);
            srv_endpoint_text(&c->endpoint, o->address, sizeof(o->address));
            o->progress = c->progress;
            o->time_in_session = c->time_in_session;
            o->rtt_ms = c->rtt;
            o->loss_rate = (double)c->loss_rate / 1e16; /* decision 6 */
            o->master = c->is_master;
            o->kicked = c->state == WDSMC_MT_SC_KICKED;
        }
        k++;
    }
    return k > INT32_MAX ? INT32_MAX : (int)k;
}

int wdsmc_server_kick(struct wdsmc_server *s, uint32_t session_id, uint32_t client_id,
                      uint8_t reason)
{
    struct srv_session *ss;

    if (!s)
        return -EINVAL;
    if (reason != WDSMC_KICK_POLICY_NOT_MET && reason != WDSMC_KICK_FALLBACK &&
        reason != WDSMC_KICK_FAIL)
        return -EINVAL;
    ss = srv_find_session(s, session_id);
    if (!ss)
        return -ENOENT;
    uint64_t now = srv_now();
    int err = wdsmc_mt_server_kick(ss->mt, client_id, reason, now);
    if (err == 0)
        srv_log(s, WDSMC_LOG_INFO, "session %08" PRIx32 ": client %08" PRIx32 " kicked (%u)",
                session_id, client_id, reason);
    srv_session_pump(ss, now);
    return err == -ESHUTDOWN ? -ENOENT : err;
}

int wdsmc_server_terminate(struct wdsmc_server *s, uint32_t session_id)
{
    struct srv_session *ss;

    if (!s)
        return -EINVAL;
    ss = srv_find_session(s, session_id);
    if (!ss)
        return -ENOENT;
    uint64_t now = srv_now();
    if (!ss->ending)
        srv_log(s, WDSMC_LOG_INFO, "session %08" PRIx32 ": terminated by the administrator",
                session_id);
    /* IWdsTransportSession::Terminate: hidden from MSI at once; gone from
     * the list when the kick round ends (decision 14). */
    srv_session_end(ss, WDSMC_KICK_FAIL, now);
    srv_session_pump(ss, now);
    return 0;
}

int wdsmc_server_start_namespace(struct wdsmc_server *s, const char *nsname)
{
    struct srv_ns *ns;
    bool any = false;

    if (!s || !nsname)
        return -EINVAL;
    ns = srv_find_ns(s, nsname);
    if (!ns)
        return -ENOENT;
    uint64_t now = srv_now();
    for (size_t i = 0; i < s->nsessions; i++) {
        struct srv_session *ss = s->sessions[i];
        if (ss->ns != ns || ss->ending || ss->lower)
            continue;
        any = true;
        ss->start_now = true;
        ss->check_start = true;
        srv_session_pump(ss, now);
    }
    /* Nobody has asked yet: the first session to come starts at once. */
    if (!any && ns->nc.mode == WDSMC_CAST_SCHEDULED)
        ns->start_pending = true;
    return 0;
}

void wdsmc_server_shutdown(struct wdsmc_server *s, void (*done)(void *ctx), void *ctx)
{
    if (!s || s->shutting_down)
        return;
    s->shutting_down = true;
    s->done = done;
    s->done_ctx = ctx;
    if (!s->started) {
        /* Nothing was ever bound (or start failed): nothing to wait for but
         * a failed MSI handle's close. */
        srv_maybe_done(s);
        return;
    }
    uint64_t now = srv_now();
    /* Sessions may be freed only from close callbacks, so iterating here is
     * safe even when kick_all terminates a session at once. */
    for (size_t i = 0; i < s->nsessions; i++) {
        struct srv_session *ss = s->sessions[i];
        srv_session_end(ss, WDSMC_KICK_FAIL, now);
        srv_session_pump(ss, now);
    }
    if (!s->msi_disabled && !uv_is_closing((uv_handle_t *)&s->msi))
        uv_close((uv_handle_t *)&s->msi, srv_engine_handle_closed);
    uv_close((uv_handle_t *)&s->idle, srv_engine_handle_closed);
}

void wdsmc_server_free(struct wdsmc_server *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nns; i++) {
        for (size_t j = 0; j < s->ns[i]->ncontents; j++)
            free(s->ns[i]->contents[j].path);
        free(s->ns[i]->contents);
        free(s->ns[i]);
    }
    free(s->ns);
    free(s->sessions);
    free(s->rxbuf);
    free(s->msi_rx);
    free(s->txbuf);
    free(s->cinfo);
    free(s->scan);
    free(s);
}
