/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "config.h"
#include "wdsmc/size.h"
#include "users.h"

#define ERRF(...) snprintf(err, errcap, __VA_ARGS__)

/* ------------------------------------------------------------------------ */
/* Value parsers: 0 and *ret, or -EINVAL. Each accepts the whole string.     */
/* ------------------------------------------------------------------------ */

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
    char *end;

    if (!*s || *s == '-' || *s == '+' || *s == ' ')
        return -EINVAL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -EINVAL;
    *ret = v;
    return 0;
}

/* A byte count with an optional K, M, G or T suffix (wdsmc/size.h, the
 * spelling every tool of the project accepts). */
int wdsmcd_parse_size(const char *s, uint64_t max, uint64_t *ret)
{
    return wdsmc_parse_size(s, max, ret);
}

/* "@UNIXSECONDS", or a local time "YYYY-MM-DD HH:MM[:SS]" (or with a T). */
int wdsmcd_parse_time(const char *s, int64_t *ret)
{
    static const char *const formats[] = {"%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S",
                                          "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"};
    uint64_t v;

    if (s[0] == '@') {
        if (parse_u64(s + 1, 1, INT64_MAX, &v) < 0)
            return -EINVAL;
        *ret = (int64_t)v;
        return 0;
    }
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        struct tm tm = {0};
        const char *end = strptime(s, formats[i], &tm);
        if (!end || *end)
            continue;
        tm.tm_isdst = -1;
        time_t t = mktime(&tm);
        if (t == (time_t)-1 || t <= 0)
            return -EINVAL;
        *ret = (int64_t)t;
        return 0;
    }
    return -EINVAL;
}

static int parse_ipv4(const char *s, struct in_addr *ret)
{
    struct in_addr a;

    if (inet_pton(AF_INET, s, &a) != 1)
        return -EINVAL;
    if (ret)
        *ret = a;
    return 0;
}

/* "A-B" or "A" for IPv4 multicast groups; *first and *count. */
static int parse_group_range(const char *s, char **first, unsigned *count, char *why, size_t cap)
{
    char a[64], b[64];
    const char *dash = strchr(s, '-');
    struct in_addr lo, hi;

    if (strlen(s) >= sizeof(a)) {
        snprintf(why, cap, "expected FIRST-LAST, e.g. 239.192.48.1-239.192.48.254");
        return -EINVAL;
    }
    if (dash) {
        snprintf(a, sizeof(a), "%.*s", (int)(dash - s), s);
        snprintf(b, sizeof(b), "%s", dash + 1);
    } else {
        snprintf(a, sizeof(a), "%s", s);
        snprintf(b, sizeof(b), "%s", s);
    }
    if (parse_ipv4(a, &lo) < 0 || parse_ipv4(b, &hi) < 0) {
        snprintf(why, cap, "expected FIRST-LAST IPv4 addresses, e.g. 239.192.48.1-239.192.48.254");
        return -EINVAL;
    }
    uint32_t l = ntohl(lo.s_addr), h = ntohl(hi.s_addr);
    if ((l >> 28) != 0xE || (h >> 28) != 0xE) {
        snprintf(why, cap, "not IPv4 multicast addresses (224.0.0.0-239.255.255.255)");
        return -EINVAL;
    }
    if (l > h) {
        snprintf(why, cap, "first address is above the last");
        return -EINVAL;
    }
    char *f = strdup(a);
    if (!f)
        return -ENOMEM;
    free(*first);
    *first = f;
    *count = h - l + 1;
    return 0;
}

/* "P-Q" or "P" for UDP ports. */
static int parse_port_range(const char *s, uint16_t *first, unsigned *count)
{
    char a[16];
    const char *dash = strchr(s, '-');
    uint64_t lo, hi;

    if (dash) {
        if ((size_t)(dash - s) >= sizeof(a))
            return -EINVAL;
        snprintf(a, sizeof(a), "%.*s", (int)(dash - s), s);
        if (parse_u64(a, 1, 65535, &lo) < 0 || parse_u64(dash + 1, 1, 65535, &hi) < 0)
            return -EINVAL;
    } else {
        if (parse_u64(s, 1, 65535, &lo) < 0)
            return -EINVAL;
        hi = lo;
    }
    if (lo > hi)
        return -EINVAL;
    *first = (uint16_t)lo;
    *count = (unsigned)(hi - lo + 1);
    return 0;
}

static int parse_mode(const char *s, mode_t *ret)
{
    char *end;

    if (!*s || *s < '0' || *s > '7')
        return -EINVAL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 8);
    if (errno || *end || v > 0777 || !(v & 0600))
        return -EINVAL;
    *ret = (mode_t)v;
    return 0;
}

/* yes/no, true/false, on/off, 1/0. */
static int parse_bool(const char *s, bool *ret)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};

    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(s, yes[i])) {
            *ret = true;
            return 0;
        }
        if (!strcasecmp(s, no[i])) {
            *ret = false;
            return 0;
        }
    }
    return -EINVAL;
}

static int parse_log_level(const char *s, enum wdsmc_log_level *ret)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};

    for (int i = 0; i < 4; i++) {
        if (!strcmp(s, names[i])) {
            *ret = (enum wdsmc_log_level)i;
            return 0;
        }
    }
    if (!strcmp(s, "warning")) {
        *ret = WDSMC_LOG_WARN;
        return 0;
    }
    return -EINVAL;
}

/* Namespace names travel as UTF-16 strings in MS-WDSMSI; reject what can
 * only be a typo (control characters) and what cannot fit. */
static int check_name(const char *s, const char **why)
{
    size_t n = strlen(s);

    if (n == 0) {
        *why = "empty namespace name";
        return -EINVAL;
    }
    if (n > WDSMCD_NAME_MAX) {
        *why = "namespace name longer than 255 bytes";
        return -EINVAL;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            *why = "control character in namespace name";
            return -EINVAL;
        }
    }
    return 0;
}

static int set_str(char **dst, const char *v)
{
    char *s = strdup(v);
    if (!s)
        return -ENOMEM;
    free(*dst);
    *dst = s;
    return 0;
}

const char *wdsmcd_cast_mode_name(enum wdsmc_cast_mode m)
{
    return m == WDSMC_CAST_SCHEDULED ? "scheduled" : "auto";
}

const char *wdsmcd_slow_policy_name(enum wdsmc_slow_policy p)
{
    switch (p) {
    case WDSMC_SLOW_DISCONNECT:
        return "disconnect";
    case WDSMC_SLOW_MULTISTREAM:
        return "multistream";
    case WDSMC_SLOW_NONE:
    default:
        return "none";
    }
}

/* ------------------------------------------------------------------------ */
/* Config object                                                             */
/* ------------------------------------------------------------------------ */

void wdsmcd_config_init(struct wdsmcd_config *c)
{
    memset(c, 0, sizeof(*c));
    c->msi_port = WDSMCD_DEFAULT_MSI_PORT;
    c->rpc_port = WDSMCD_DEFAULT_RPC_PORT;
    c->msi_udp = true;
    c->udp_gso = true;
    c->control_mode = 0600;
    c->log_level = WDSMC_LOG_INFO;
}

static void namespace_fini(struct wdsmcd_namespace *ns)
{
    free(ns->name);
    free(ns->path);
    free(ns->origin);
}

void wdsmcd_config_fini(struct wdsmcd_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_ns; i++)
        namespace_fini(&c->ns[i]);
    free(c->ns);
    free(c->config_path);
    free(c->address);
    free(c->interface);
    free(c->group_first);
    free(c->control_path);
    free(c->rpc_address);
    free(c->users_file);
    wdsmcd_config_init(c);
}

static struct wdsmcd_namespace *find_namespace(struct wdsmcd_config *c, const char *name)
{
    for (size_t i = 0; i < c->n_ns; i++)
        if (!strcmp(c->ns[i].name, name))
            return &c->ns[i];
    return NULL;
}

/* Append a namespace with default settings; NULL on -ENOMEM or the limit. */
static struct wdsmcd_namespace *new_namespace(struct wdsmcd_config *c, const char *name,
                                              const char *origin)
{
    if (c->n_ns >= WDSMCD_MAX_NAMESPACES)
        return NULL;
    struct wdsmcd_namespace *v = realloc(c->ns, (c->n_ns + 1) * sizeof(*v));
    if (!v)
        return NULL;
    c->ns = v;
    struct wdsmcd_namespace *ns = &c->ns[c->n_ns];
    memset(ns, 0, sizeof(*ns));
    /* The defaults server.h documents for wdsmc_namespace_config_default(),
     * set here so that this module links without the engine (unit tests). */
    ns->nc.mode = WDSMC_CAST_AUTO;
    ns->nc.ttl = -1;
    ns->nc.slow_policy = WDSMC_SLOW_NONE;
    ns->name = strdup(name);
    ns->origin = strdup(origin);
    if (!ns->name || !ns->origin) {
        namespace_fini(ns);
        return NULL;
    }
    c->n_ns++;
    return ns;
}

/* ------------------------------------------------------------------------ */
/* INI loading                                                               */
/* ------------------------------------------------------------------------ */

enum section_kind { SEC_NONE, SEC_SERVER, SEC_NAMESPACE, SEC_BAD };

/* The libinih callbacks' shared state. The reader counts physical lines and
 * recognises section headers itself, so that every message can name its line
 * and namespace names are not cut at inih's 50-byte section buffer. */
struct loader {
    struct wdsmcd_config *c;
    const char *path;
    FILE *f;
    int line;
    enum section_kind kind;
    size_t ns_index;
    uint32_t seen; /* bit per key index, reset at each section */
    bool server_seen;
    int err_line; /* first error of ours, 0 when none */
    int err_code;
    char err[512];
};

static void fail(struct loader *L, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void fail(struct loader *L, int code, const char *fmt, ...)
{
    va_list ap;

    if (L->err_line)
        return;
    L->err_line = L->line;
    L->err_code = code;
    va_start(ap, fmt);
    vsnprintf(L->err, sizeof(L->err), fmt, ap);
    va_end(ap);
}

static void begin_section(struct loader *L, const char *name)
{
    static const char prefix[] = "namespace:";
    char origin[600];

    L->seen = 0;
    if (!strcmp(name, "server")) {
        if (L->server_seen)
            fail(L, -EINVAL, "duplicate section [server]");
        L->server_seen = true;
        L->kind = SEC_SERVER;
        return;
    }
    if (strncmp(name, prefix, sizeof(prefix) - 1) != 0) {
        fail(L, -EINVAL, "unknown section [%s] (expected [server] or [namespace:NAME])", name);
        L->kind = SEC_BAD;
        return;
    }
    const char *ns = name + sizeof(prefix) - 1;
    while (*ns == ' ' || *ns == '\t')
        ns++;
    const char *why;
    if (check_name(ns, &why) < 0) {
        fail(L, -EINVAL, "%s in [%s]", why, name);
        L->kind = SEC_BAD;
        return;
    }
    struct wdsmcd_namespace *old = find_namespace(L->c, ns);
    if (old) {
        fail(L, -EINVAL, "namespace '%s' is already defined at %s", ns, old->origin);
        L->kind = SEC_BAD;
        return;
    }
    snprintf(origin, sizeof(origin), "%s:%d", L->path, L->line);
    if (!new_namespace(L->c, ns, origin)) {
        if (L->c->n_ns >= WDSMCD_MAX_NAMESPACES)
            fail(L, -EINVAL, "more than %d namespaces", WDSMCD_MAX_NAMESPACES);
        else
            fail(L, -ENOMEM, "out of memory");
        L->kind = SEC_BAD;
        return;
    }
    L->kind = SEC_NAMESPACE;
    L->ns_index = L->c->n_ns - 1;
}

/* Spot a "[name]" line the way inih does (leading blanks, up to the first
 * ']'), trimming blanks inside the brackets. */
static void scan_header(struct loader *L, const char *line)
{
    const unsigned char *p = (const unsigned char *)line;

    if (L->line == 1 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
        p += 3;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '[')
        return;
    const char *start = (const char *)p + 1;
    const char *end = strchr(start, ']');
    if (!end)
        return; /* inih reports it */
    while (start < end && (*start == ' ' || *start == '\t'))
        start++;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    char name[WDSMCD_NAME_MAX + 32];
    if ((size_t)(end - start) >= sizeof(name)) {
        fail(L, -EINVAL, "section name too long");
        L->kind = SEC_BAD;
        return;
    }
    memcpy(name, start, (size_t)(end - start));
    name[end - start] = '\0';
    begin_section(L, name);
}

static char *reader(char *str, int num, void *stream)
{
    struct loader *L = stream;

    if (!fgets(str, num, L->f))
        return NULL;
    L->line++;
    size_t len = strlen(str);
    if (len == (size_t)num - 1 && str[len - 1] != '\n' && !feof(L->f)) {
        int ch;
        while ((ch = fgetc(L->f)) != EOF && ch != '\n')
            ;
        fail(L, -EINVAL, "line longer than %d characters", num - 3);
        str[0] = '\n';
        str[1] = '\0';
        return str;
    }
    scan_header(L, str);
    return str;
}

enum server_key {
    SK_ADDRESS,
    SK_INTERFACE,
    SK_MSI_PORT,
    SK_MULTICAST_RANGE,
    SK_PORT_RANGE,
    SK_MAX_CLIENTS,
    SK_CONTROL_SOCKET,
    SK_CONTROL_MODE,
    SK_LOG_LEVEL,
    SK_RPC_PORT,
    SK_RPC_ADDRESS,
    SK_USERS_FILE,
    SK_ALLOW_ANONYMOUS,
    SK_MSI_UDP,
    SK_UDP_GSO,
    SK_SEND_BUFFER,
    SK_COUNT,
};

static const char *const server_keys[SK_COUNT] = {
        [SK_ADDRESS] = "address",
        [SK_INTERFACE] = "interface",
        [SK_MSI_PORT] = "msi_port",
        [SK_MULTICAST_RANGE] = "multicast_range",
        [SK_PORT_RANGE] = "port_range",
        [SK_MAX_CLIENTS] = "max_clients",
        [SK_CONTROL_SOCKET] = "control_socket",
        [SK_CONTROL_MODE] = "control_mode",
        [SK_LOG_LEVEL] = "log_level",
        [SK_RPC_PORT] = "rpc_port",
        [SK_RPC_ADDRESS] = "rpc_address",
        [SK_USERS_FILE] = "users_file",
        [SK_ALLOW_ANONYMOUS] = "allow_anonymous",
        [SK_MSI_UDP] = "msi_udp",
        [SK_UDP_GSO] = "udp_gso",
        [SK_SEND_BUFFER] = "send_buffer",
};

enum ns_key {
    NK_PATH,
    NK_CAST,
    NK_MIN_CLIENTS,
    NK_START_TIME,
    NK_BLOCK_SIZE,
    NK_MAX_RATE,
    NK_TTL,
    NK_SLOW_POLICY,
    NK_MIN_RATE,
    NK_DEMOTE_RATE,
    NK_COUNT,
};

static const char *const ns_keys[NK_COUNT] = {
        [NK_PATH] = "path",
        [NK_CAST] = "cast",
        [NK_MIN_CLIENTS] = "min_clients",
        [NK_START_TIME] = "start_time",
        [NK_BLOCK_SIZE] = "block_size",
        [NK_MAX_RATE] = "max_rate",
        [NK_TTL] = "ttl",
        [NK_SLOW_POLICY] = "slow_client_policy",
        [NK_MIN_RATE] = "min_rate",
        [NK_DEMOTE_RATE] = "demote_rate",
};

static int key_index(const char *const *keys, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(keys[i], name))
            return i;
    return -1;
}

/* Largest rate we accept: 100 Gbit/s is far beyond any NIC this runs on. */
#define MAX_RATE (1ULL << 40)

static void server_value(struct loader *L, int k, const char *v)
{
    struct wdsmcd_config *c = L->c;
    uint64_t n;
    char why[160];
    int err = 0;

    switch ((enum server_key)k) {
    case SK_ADDRESS:
    case SK_INTERFACE:
        if (parse_ipv4(v, NULL) < 0) {
            fail(L, -EINVAL, "%s '%s': not an IPv4 address", server_keys[k], v);
            return;
        }
        err = set_str(k == SK_ADDRESS ? &c->address : &c->interface, v);
        break;
    case SK_MSI_PORT:
        if (parse_u64(v, 1, 65535, &n) < 0) {
            fail(L, -EINVAL, "msi_port '%s': not a port number (1-65535)", v);
            return;
        }
        c->msi_port = (uint16_t)n;
        break;
    case SK_MULTICAST_RANGE:
        err = parse_group_range(v, &c->group_first, &c->group_count, why, sizeof(why));
        if (err == -EINVAL) {
            fail(L, err, "multicast_range '%s': %s", v, why);
            return;
        }
        break;
    case SK_PORT_RANGE:
        if (parse_port_range(v, &c->port_first, &c->port_count) < 0) {
            fail(L, -EINVAL, "port_range '%s': expected FIRST-LAST UDP ports, e.g. 64001-65000", v);
            return;
        }
        break;
    case SK_MAX_CLIENTS:
        if (parse_u64(v, 1, 200, &n) < 0) {
            fail(L, -EINVAL, "max_clients '%s': expected 1-200 (MS-WDSMT's limit)", v);
            return;
        }
        c->max_clients = (unsigned)n;
        break;
    case SK_SEND_BUFFER:
        /* Decision 65: a full one holds the session back. At least one
         * UDP GSO batch (up to 64 KiB); at most about what the kernel
         * takes (INT_MAX / 2, which it doubles). */
        if (wdsmcd_parse_size(v, 1u << 30, &n) < 0 || n < (64u << 10)) {
            fail(L, -EINVAL, "send_buffer '%s': expected 64K-1G bytes", v);
            return;
        }
        c->send_buffer = (uint32_t)n;
        break;
    case SK_CONTROL_SOCKET:
        if (strlen(v) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            fail(L, -EINVAL, "control_socket '%s': path longer than %zu bytes", v,
                 sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
            return;
        }
        err = set_str(&c->control_path, v);
        break;
    case SK_CONTROL_MODE:
        if (parse_mode(v, &c->control_mode) < 0) {
            fail(L, -EINVAL,
                 "control_mode '%s': expected an octal mode that lets the owner in, e.g. 0600", v);
            return;
        }
        break;
    case SK_LOG_LEVEL:
        if (parse_log_level(v, &c->log_level) < 0) {
            fail(L, -EINVAL, "log_level '%s': expected error, warn, info or debug", v);
            return;
        }
        break;
    case SK_RPC_PORT:
        if (parse_u64(v, 0, 65535, &n) < 0) {
            fail(L, -EINVAL, "rpc_port '%s': not a port number (0 turns RPC off, 1-65535)", v);
            return;
        }
        c->rpc_port = (uint16_t)n;
        c->rpc_port_set = true;
        break;
    case SK_RPC_ADDRESS:
        if (parse_ipv4(v, NULL) < 0) {
            fail(L, -EINVAL, "rpc_address '%s': not an IPv4 address", v);
            return;
        }
        err = set_str(&c->rpc_address, v);
        break;
    case SK_USERS_FILE:
        err = set_str(&c->users_file, v);
        break;
    case SK_ALLOW_ANONYMOUS:
    case SK_MSI_UDP:
    case SK_UDP_GSO:
        if (parse_bool(v, k == SK_MSI_UDP   ? &c->msi_udp
                          : k == SK_UDP_GSO ? &c->udp_gso
                                            : &c->allow_anonymous) < 0) {
            fail(L, -EINVAL, "%s '%s': expected yes or no", server_keys[k], v);
            return;
        }
        break;
    case SK_COUNT:
        break;
    }
    if (err)
        fail(L, err, "out of memory");
}

static void rate_value(struct loader *L, const char *key, const char *v, uint64_t *dst)
{
    if (wdsmcd_parse_size(v, MAX_RATE, dst) < 0)
        fail(L, -EINVAL, "%s '%s': expected bytes per second, e.g. 50M (suffixes K, M, G)", key, v);
}

static void namespace_value(struct loader *L, int k, const char *v)
{
    struct wdsmcd_namespace *ns = &L->c->ns[L->ns_index];
    struct wdsmc_namespace_config *nc = &ns->nc;
    uint64_t n;

    switch ((enum ns_key)k) {
    case NK_PATH:
        if (set_str(&ns->path, v) < 0)
            fail(L, -ENOMEM, "out of memory");
        break;
    case NK_CAST:
        if (!strcmp(v, "auto")) {
            nc->mode = WDSMC_CAST_AUTO;
        } else if (!strcmp(v, "scheduled")) {
            nc->mode = WDSMC_CAST_SCHEDULED;
        } else {
            fail(L, -EINVAL, "cast '%s': expected auto or scheduled", v);
        }
        break;
    case NK_MIN_CLIENTS:
        if (parse_u64(v, 1, 200, &n) < 0) {
            fail(L, -EINVAL, "min_clients '%s': expected 1-200", v);
            return;
        }
        nc->min_clients = (unsigned)n;
        break;
    case NK_START_TIME:
        if (wdsmcd_parse_time(v, &nc->start_time) < 0)
            fail(L, -EINVAL,
                 "start_time '%s': expected YYYY-MM-DD HH:MM[:SS] (local time) or @UNIXTIME", v);
        break;
    case NK_BLOCK_SIZE:
        if (wdsmcd_parse_size(v, 65448, &n) < 0 || n < 512) {
            fail(L, -EINVAL, "block_size '%s': expected 512-65448 bytes", v);
            return;
        }
        nc->block_size = (uint32_t)n;
        ns->block_size_set = true;
        break;
    case NK_MAX_RATE:
        rate_value(L, "max_rate", v, &nc->max_rate);
        break;
    case NK_TTL:
        if (parse_u64(v, 0, 255, &n) < 0) {
            fail(L, -EINVAL, "ttl '%s': expected 0-255", v);
            return;
        }
        nc->ttl = (int)n;
        break;
    case NK_SLOW_POLICY:
        if (!strcmp(v, "none")) {
            nc->slow_policy = WDSMC_SLOW_NONE;
        } else if (!strcmp(v, "disconnect")) {
            nc->slow_policy = WDSMC_SLOW_DISCONNECT;
        } else if (!strcmp(v, "multistream")) {
            nc->slow_policy = WDSMC_SLOW_MULTISTREAM;
        } else {
            fail(L, -EINVAL, "slow_client_policy '%s': expected none, disconnect or multistream",
                 v);
        }
        break;
    case NK_MIN_RATE:
        rate_value(L, "min_rate", v, &nc->min_rate);
        break;
    case NK_DEMOTE_RATE:
        rate_value(L, "demote_rate", v, &nc->demote_rate);
        break;
    case NK_COUNT:
        break;
    }
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    struct loader *L = user;
    const char *const *keys;
    int nkeys;

    (void)section; /* ours, from scan_header(), is not cut at 50 bytes */
    if (L->err_line)
        return 1;
    switch (L->kind) {
    case SEC_NONE:
        fail(L, -EINVAL, "'%s' outside a section ([server] or [namespace:NAME])", name);
        return 1;
    case SEC_BAD:
        return 1;
    case SEC_SERVER:
        keys = server_keys;
        nkeys = SK_COUNT;
        break;
    case SEC_NAMESPACE:
    default:
        keys = ns_keys;
        nkeys = NK_COUNT;
        break;
    }
    int k = key_index(keys, nkeys, name);
    if (k < 0) {
        fail(L, -EINVAL, "unknown key '%s' in %s", name,
             L->kind == SEC_SERVER ? "[server]" : "a namespace section");
        return 1;
    }
    if (L->seen & (1u << k)) {
        fail(L, -EINVAL, "'%s' given twice in this section", name);
        return 1;
    }
    L->seen |= 1u << k;
    if (!*value) {
        fail(L, -EINVAL, "'%s' has no value", name);
        return 1;
    }
    if (L->kind == SEC_SERVER)
        server_value(L, k, value);
    else
        namespace_value(L, k, value);
    /* Our errors are recorded in L; returning success keeps inih's own
     * return value for syntax errors only. */
    return 1;
}

int wdsmcd_config_load_file(struct wdsmcd_config *c, const char *path, char *err, size_t errcap)
{
    struct loader L = {.c = c, .path = path};

    L.f = fopen(path, "re");
    if (!L.f) {
        int e = errno;
        ERRF("%s: %s", path, strerror(e));
        return -e;
    }
    size_t first_ns = c->n_ns;
    int syntax_line = ini_parse_stream(reader, &L, handler, &L);
    bool read_error = ferror(L.f);
    fclose(L.f);
    if (read_error) {
        ERRF("%s: read error", path);
        return -EIO;
    }
    if (syntax_line < 0) {
        ERRF("%s: out of memory", path);
        return -ENOMEM;
    }
    if (syntax_line > 0 && (!L.err_line || syntax_line < L.err_line)) {
        ERRF("%s:%d: syntax error: expected [section], key = value, or a comment", path,
             syntax_line);
        return -EINVAL;
    }
    if (L.err_line) {
        ERRF("%s:%d: %s", path, L.err_line, L.err);
        return L.err_code;
    }
    for (size_t i = first_ns; i < c->n_ns; i++) {
        if (!c->ns[i].path) {
            ERRF("%s: namespace '%s' has no path", c->ns[i].origin, c->ns[i].name);
            return -EINVAL;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Command line                                                              */
/* ------------------------------------------------------------------------ */

int wdsmcd_config_add_namespace_arg(struct wdsmcd_config *c, const char *arg, char *err,
                                    size_t errcap)
{
    const char *eq = strchr(arg, '=');
    const char *why;
    char name[WDSMCD_NAME_MAX + 1];

    if (!eq || !eq[1]) {
        ERRF("--namespace '%s': expected NAME=PATH", arg);
        return -EINVAL;
    }
    if ((size_t)(eq - arg) > WDSMCD_NAME_MAX) {
        ERRF("--namespace '%s': namespace name longer than 255 bytes", arg);
        return -EINVAL;
    }
    memcpy(name, arg, (size_t)(eq - arg));
    name[eq - arg] = '\0';
    if (check_name(name, &why) < 0) {
        ERRF("--namespace '%s': %s", arg, why);
        return -EINVAL;
    }
    struct wdsmcd_namespace *old = find_namespace(c, name);
    if (old) {
        ERRF("--namespace '%s': namespace '%s' is already defined at %s", arg, name, old->origin);
        return -EINVAL;
    }
    struct wdsmcd_namespace *ns = new_namespace(c, name, "--namespace");
    if (!ns || set_str(&ns->path, eq + 1) < 0) {
        ERRF("--namespace '%s': %s", arg,
             c->n_ns >= WDSMCD_MAX_NAMESPACES ? "too many namespaces" : "out of memory");
        return -ENOMEM;
    }
    return 0;
}

int wdsmcd_config_finish(struct wdsmcd_config *c, char *err, size_t errcap)
{
    if (!c->msi_udp && c->rpc_port == 0) {
        ERRF("msi_udp = no and rpc_port = 0: clients would have no way to ask for a session");
        return -EINVAL;
    }
    if (c->n_ns == 0) {
        ERRF("no namespace to serve (use --namespace NAME=PATH or a [namespace:NAME] section%s%s)",
             c->config_path ? " in " : "", c->config_path ? c->config_path : "");
        return -EINVAL;
    }
    if (!c->control_path && set_str(&c->control_path, WDSMCD_DEFAULT_CONTROL) < 0) {
        ERRF("out of memory");
        return -ENOMEM;
    }
    unsigned max_clients = c->max_clients ? c->max_clients : 200;
    for (size_t i = 0; i < c->n_ns; i++) {
        struct wdsmcd_namespace *ns = &c->ns[i];
        struct wdsmc_namespace_config *nc = &ns->nc;
        if (!ns->block_size_set && c->block_size)
            nc->block_size = c->block_size;
        if (nc->mode == WDSMC_CAST_AUTO && (nc->min_clients || nc->start_time)) {
            ERRF("%s: namespace '%s': min_clients and start_time need cast = scheduled", ns->origin,
                 ns->name);
            return -EINVAL;
        }
        if (nc->min_clients > max_clients) {
            ERRF("%s: namespace '%s': min_clients %u is above max_clients %u; the cast would "
                 "never start",
                 ns->origin, ns->name, nc->min_clients, max_clients);
            return -EINVAL;
        }
        if (nc->slow_policy != WDSMC_SLOW_NONE && nc->min_rate == 0) {
            ERRF("%s: namespace '%s': slow_client_policy = %s needs min_rate", ns->origin, ns->name,
                 wdsmcd_slow_policy_name(nc->slow_policy));
            return -EINVAL;
        }
        if (nc->slow_policy == WDSMC_SLOW_NONE && nc->min_rate) {
            ERRF("%s: namespace '%s': min_rate needs slow_client_policy = disconnect or "
                 "multistream",
                 ns->origin, ns->name);
            return -EINVAL;
        }
        /* The engine wants a cap on the lower stream, or it would run as
         * fast as the one the client was too slow for. */
        if (nc->slow_policy == WDSMC_SLOW_MULTISTREAM && nc->demote_rate == 0)
            nc->demote_rate = nc->min_rate;
        if (nc->slow_policy != WDSMC_SLOW_MULTISTREAM && nc->demote_rate) {
            ERRF("%s: namespace '%s': demote_rate needs slow_client_policy = multistream",
                 ns->origin, ns->name);
            return -EINVAL;
        }
    }
    return 0;
}

static const char usage_text[] =
        "usage: wdsmcd [--config FILE] [--namespace NAME=PATH]... [options]\n"
        "\n"
        "Serve files to Windows Deployment Services multicast clients (MS-WDSMSI,\n"
        "MS-WDSMT, MS-WDSMA). Runs in the foreground and logs to standard error.\n"
        "\n"
        "  -c, --config FILE          read settings and namespaces from FILE\n"
        "                             (see wdsmcd.conf(5))\n"
        "  -n, --namespace NAME=PATH  serve the file PATH, or every file in the\n"
        "                             directory PATH, as namespace NAME (Auto-Cast)\n"
        "  -a, --address ADDR         IPv4 address sessions answer on (default 0.0.0.0)\n"
        "  -i, --interface ADDR       IPv4 address of the interface multicast leaves from\n"
        "  -p, --port PORT            MS-WDSMSI UDP port (default 5041)\n"
        "  -S, --control SOCKET       control socket for wdsctl\n"
        "                             (default " WDSMCD_DEFAULT_CONTROL ")\n"
        "  -b, --block-size N         block size of namespaces that set none (512-65448)\n"
        "  -r, --rpc-port PORT        MS-WDSC (DCE/RPC) TCP port (default 5040; 0: off)\n"
        "  -u, --users FILE           users file for RPC logons (default\n"
        "                             " WDSMCD_DEFAULT_USERS ", mode 0600)\n"
        "      --no-udp               do not answer MS-WDSMSI over UDP (RPC only)\n"
        "  -v, --verbose              log debug messages\n"
        "      --check                check the configuration and list what would be\n"
        "                             served, then exit\n"
        "  -h, --help                 this text\n"
        "  -V, --version              print the version\n"
        "\n"
        "SIGTERM or SIGINT terminates every session (clients are sent KICK) and exits 0.\n"
        "Exit status: 0 stopped by a signal, 1 runtime failure, 2 bad configuration or usage.\n";

int wdsmcd_config_parse_args(struct wdsmcd_config *c, int argc, char **argv, char *err,
                             size_t errcap)
{
    enum { OPT_CHECK = 0x100, OPT_NO_UDP };
    static const struct option longopts[] = {
            {"config", required_argument, NULL, 'c'},
            {"namespace", required_argument, NULL, 'n'},
            {"address", required_argument, NULL, 'a'},
            {"interface", required_argument, NULL, 'i'},
            {"port", required_argument, NULL, 'p'},
            {"control", required_argument, NULL, 'S'},
            {"block-size", required_argument, NULL, 'b'},
            {"verbose", no_argument, NULL, 'v'},
            {"check", no_argument, NULL, OPT_CHECK},
            {"rpc-port", required_argument, NULL, 'r'},
            {"users", required_argument, NULL, 'u'},
            {"no-udp", no_argument, NULL, OPT_NO_UDP},
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, 'V'},
            {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *address = NULL, *interface = NULL, *control = NULL;
    const char *users = NULL;
    uint64_t rpc_port = 0;
    bool rpc_port_given = false, no_udp = false;
    const char **nsargs = NULL;
    size_t n_nsargs = 0;
    uint64_t port = 0, block_size = 0;
    bool verbose = false;
    int opt, ret = 0;

    opterr = 0;
    optind = 0; /* full reset, so the unit tests can parse several times */
    nsargs = calloc((size_t)argc + 1, sizeof(*nsargs));
    if (!nsargs) {
        ERRF("out of memory");
        return -ENOMEM;
    }
    while ((opt = getopt_long(argc, argv, ":c:n:a:i:p:S:b:r:u:vhV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config = optarg;
            break;
        case 'n':
            nsargs[n_nsargs++] = optarg;
            break;
        case 'a':
        case 'i':
            if (parse_ipv4(optarg, NULL) < 0) {
                ERRF("--%s '%s': not an IPv4 address", opt == 'a' ? "address" : "interface",
                     optarg);
                ret = -EINVAL;
                goto out;
            }
            if (opt == 'a')
                address = optarg;
            else
                interface = optarg;
            break;
        case 'p':
            if (parse_u64(optarg, 1, 65535, &port) < 0) {
                ERRF("--port '%s': not a port number (1-65535)", optarg);
                ret = -EINVAL;
                goto out;
            }
            break;
        case 'S':
            if (!*optarg || strlen(optarg) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
                ERRF("--control '%s': expected a path of at most %zu bytes", optarg,
                     sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
                ret = -EINVAL;
                goto out;
            }
            control = optarg;
            break;
        case 'b':
            if (wdsmcd_parse_size(optarg, 65448, &block_size) < 0 || block_size < 512) {
                ERRF("--block-size '%s': expected 512-65448 bytes", optarg);
                ret = -EINVAL;
                goto out;
            }
            break;
        case 'r':
            if (parse_u64(optarg, 0, 65535, &rpc_port) < 0) {
                ERRF("--rpc-port '%s': not a port number (0 turns RPC off, 1-65535)", optarg);
                ret = -EINVAL;
                goto out;
            }
            rpc_port_given = true;
            break;
        case 'u':
            if (!*optarg) {
                ERRF("--users: empty path");
                ret = -EINVAL;
                goto out;
            }
            users = optarg;
            break;
        case OPT_NO_UDP:
            no_udp = true;
            break;
        case 'v':
            verbose = true;
            break;
        case OPT_CHECK:
            c->check_only = true;
            break;
        case 'h':
            fputs(usage_text, stdout);
            ret = WDSMCD_ARGS_HELP;
            goto out;
        case 'V':
            ret = WDSMCD_ARGS_VERSION;
            goto out;
        case ':':
            ERRF("option '%s' needs a value", argv[optind - 1]);
            ret = -EINVAL;
            goto out;
        default:
            if (optopt)
                ERRF("unknown option '-%c'", optopt);
            else
                ERRF("unknown option '%s'", argv[optind - 1]);
            ret = -EINVAL;
            goto out;
        }
    }
    if (optind < argc) {
        ERRF("unexpected argument '%s' (namespaces are given with --namespace NAME=PATH)",
             argv[optind]);
        ret = -EINVAL;
        goto out;
    }
    if (config) {
        if ((ret = set_str(&c->config_path, config)) < 0 ||
            (ret = wdsmcd_config_load_file(c, config, err, errcap)) < 0)
            goto out;
    }
    /* The command line wins over the file. */
    if ((address && (ret = set_str(&c->address, address)) < 0) ||
        (interface && (ret = set_str(&c->interface, interface)) < 0) ||
        (control && (ret = set_str(&c->control_path, control)) < 0) ||
        (users && (ret = set_str(&c->users_file, users)) < 0)) {
        ERRF("out of memory");
        goto out;
    }
    if (port)
        c->msi_port = (uint16_t)port;
    if (rpc_port_given) {
        c->rpc_port = (uint16_t)rpc_port;
        c->rpc_port_set = true;
    }
    if (no_udp)
        c->msi_udp = false;
    if (block_size)
        c->block_size = (uint32_t)block_size;
    if (verbose)
        c->log_level = WDSMC_LOG_DEBUG;
    for (size_t i = 0; i < n_nsargs; i++)
        if ((ret = wdsmcd_config_add_namespace_arg(c, nsargs[i], err, errcap)) < 0)
            goto out;
    ret = wdsmcd_config_finish(c, err, errcap);
out:
    free(nsargs);
    return ret;
}

/* ------------------------------------------------------------------------ */
/* Contents                                                                  */
/* ------------------------------------------------------------------------ */

void wdsmcd_contents_free(struct wdsmcd_content *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].name);
        free(v[i].path);
    }
    free(v);
}

static int content_cmp(const void *a, const void *b)
{
    return strcmp(((const struct wdsmcd_content *)a)->name,
                  ((const struct wdsmcd_content *)b)->name);
}

static int push_content(struct wdsmcd_content **v, size_t *n, size_t *cap, const char *name,
                        const char *path)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        struct wdsmcd_content *nv = realloc(*v, ncap * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        *v = nv;
        *cap = ncap;
    }
    (*v)[*n].name = strdup(name);
    (*v)[*n].path = strdup(path);
    if (!(*v)[*n].name || !(*v)[*n].path) {
        free((*v)[*n].name);
        free((*v)[*n].path);
        return -ENOMEM;
    }
    (*n)++;
    return 0;
}

int wdsmcd_contents_list(const struct wdsmcd_namespace *ns, struct wdsmcd_content **ret,
                         size_t *ret_n, char *err, size_t errcap)
{
    struct wdsmcd_content *v = NULL;
    size_t n = 0, cap = 0;
    struct stat st;
    int r = 0;

    if (stat(ns->path, &st) < 0) {
        r = -errno;
        ERRF("%s: namespace '%s': path '%s': %s", ns->origin, ns->name, ns->path, strerror(-r));
        return r;
    }
    if (S_ISREG(st.st_mode)) {
        const char *slash = strrchr(ns->path, '/');
        const char *base = slash ? slash + 1 : ns->path;
        if (strlen(base) > WDSMCD_NAME_MAX) {
            ERRF("%s: namespace '%s': file name '%s' longer than 255 bytes", ns->origin, ns->name,
                 base);
            return -EINVAL;
        }
        if ((r = push_content(&v, &n, &cap, base, ns->path)) < 0)
            goto nomem;
        *ret = v;
        *ret_n = n;
        return 0;
    }
    if (!S_ISDIR(st.st_mode)) {
        ERRF("%s: namespace '%s': path '%s' is neither a regular file nor a directory", ns->origin,
             ns->name, ns->path);
        return -EINVAL;
    }
    DIR *d = opendir(ns->path);
    if (!d) {
        r = -errno;
        ERRF("%s: namespace '%s': path '%s': %s", ns->origin, ns->name, ns->path, strerror(-r));
        return r;
    }
    struct dirent *de;
    size_t plen = strlen(ns->path);
    bool slash = plen > 0 && ns->path[plen - 1] == '/';
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || strlen(de->d_name) > WDSMCD_NAME_MAX)
            continue;
        char *full;
        if (asprintf(&full, "%s%s%s", ns->path, slash ? "" : "/", de->d_name) < 0) {
            r = -ENOMEM;
            break;
        }
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
            if (n >= WDSMCD_MAX_CONTENTS) {
                free(full);
                closedir(d);
                wdsmcd_contents_free(v, n);
                ERRF("%s: namespace '%s': more than %d files in '%s'", ns->origin, ns->name,
                     WDSMCD_MAX_CONTENTS, ns->path);
                return -E2BIG;
            }
            r = push_content(&v, &n, &cap, de->d_name, full);
        }
        free(full);
        if (r < 0)
            break;
    }
    closedir(d);
    if (r < 0)
        goto nomem;
    if (n > 1)
        qsort(v, n, sizeof(*v), content_cmp);
    *ret = v;
    *ret_n = n;
    return 0;
nomem:
    wdsmcd_contents_free(v, n);
    ERRF("out of memory");
    return r;
}
