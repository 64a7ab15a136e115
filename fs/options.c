/* SPDX-License-Identifier: MIT */
#include "options.h"
#include "wdsmc/size.h"

#include <errno.h>
#include <fuse_lowlevel.h>
#include <fuse_opt.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wdsfs.h"
#include "wdsmc/client.h"

enum {
    KEY_IMAGE_LONG,
    KEY_IMAGE_OPT,
    KEY_FOREGROUND,
    KEY_DEBUG,
    KEY_SINGLE,
    KEY_HELP,
    KEY_VERSION,
    KEY_STATUS,
    KEY_WATCH,
    KEY_USER,
    KEY_PASSWORD_FILE,
    KEY_ANONYMOUS,
    KEY_RPC_PORT,
    KEY_INITIATION,
    KEY_AUTH,
};

#define OPT(t, f, v)                                                                               \
    {                                                                                              \
        t, offsetof(struct wdsfs_options, f), v                                                    \
    }

static const struct fuse_opt opt_spec[] = {
        OPT("cache=%s", cache_dir, 0),
        OPT("stream", stream, 1),
        OPT("window=%s", window_str, 0),
        OPT("prefetch", prefetch, 1),
        OPT("interface=%s", interface, 0),
        OPT("timeout=%u", timeout, 0),
        OPT("config=%s", config, 0),
        OPT("fake_source=%s", fake_dir, 0),
        OPT("fake_block=%u", fake_block, 0),
        OPT("fake_rate=%u", fake_rate, 0),
        OPT("fake_seed=%u", fake_seed, 0),
        OPT("rpc_user=%s", user_arg, 0),
        OPT("password_file=%s", password_file, 0),
        OPT("anonymous", anonymous, 1),
        OPT("rpc_port=%u", rpc_port, 0),
        OPT("initiation=%s", initiation_str, 0),
        OPT("auth=%s", auth_str, 0),
        FUSE_OPT_KEY("--user ", KEY_USER),
        FUSE_OPT_KEY("--password-file ", KEY_PASSWORD_FILE),
        FUSE_OPT_KEY("--anonymous", KEY_ANONYMOUS),
        FUSE_OPT_KEY("--rpc-port ", KEY_RPC_PORT),
        FUSE_OPT_KEY("--initiation ", KEY_INITIATION),
        FUSE_OPT_KEY("--auth ", KEY_AUTH),
        FUSE_OPT_KEY("image=", KEY_IMAGE_OPT),
        /* Matches "--image VALUE" and "--image=VALUE" alike. */
        FUSE_OPT_KEY("--image ", KEY_IMAGE_LONG),
        FUSE_OPT_KEY("-f", KEY_FOREGROUND),
        FUSE_OPT_KEY("-d", KEY_DEBUG),
        FUSE_OPT_KEY("debug", KEY_DEBUG),
        FUSE_OPT_KEY("-s", KEY_SINGLE),
        FUSE_OPT_KEY("-h", KEY_HELP),
        FUSE_OPT_KEY("--help", KEY_HELP),
        FUSE_OPT_KEY("-V", KEY_VERSION),
        FUSE_OPT_KEY("--version", KEY_VERSION),
        FUSE_OPT_KEY("--status", KEY_STATUS),
        FUSE_OPT_KEY("--watch", KEY_WATCH),
        FUSE_OPT_END,
};

static bool valid_component(const char *s, size_t len)
{
    if (len == 0 || len > WDSFS_MAX_NAME)
        return false;
    if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\0' || s[i] == '\n')
            return false;
    return true;
}

static bool valid_namespace(const char *ns)
{
    size_t n = strlen(ns);
    if (n == 0 || n > WDSFS_MAX_PATH)
        return false;
    for (const char *p = ns;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (!valid_component(p, len))
            return false;
        /* The control tree owns this name at the top. */
        if (p == ns && len == 6 && memcmp(p, ".wdsfs", 6) == 0)
            return false;
        if (!slash)
            return true;
        p = slash + 1;
    }
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

int wdsfs_spec_parse(const char *text, struct wdsfs_image_spec *specs, size_t *n, size_t max)
{
    char *copy = strdup(text);
    if (!copy)
        return -ENOMEM;
    char *ns = trim(copy);
    char *list;
    char *eq = strchr(ns, '=');
    if (eq) {
        *eq = '\0';
        list = eq + 1;
    } else {
        /* "NAMESPACE CONTENT": the first run of blanks separates them. */
        list = strpbrk(ns, " \t");
        if (!list) {
            free(copy);
            return -EINVAL;
        }
        *list++ = '\0';
        list = trim(list);
    }
    ns = trim(ns);
    while (strlen(ns) > 1 && ns[strlen(ns) - 1] == '/')
        ns[strlen(ns) - 1] = '\0';
    int r = 0, added = 0;
    if (!valid_namespace(ns) || *list == '\0') {
        r = -EINVAL;
        goto out;
    }
    for (char *next = list, *c; (c = strsep(&next, eq ? "," : "\n"));) {
        c = trim(c);
        if (!valid_component(c, strlen(c)) || strchr(c, '/')) {
            r = -EINVAL;
            goto out;
        }
        if (*n >= max) {
            r = -E2BIG;
            goto out;
        }
        specs[*n].ns = strdup(ns);
        specs[*n].content = strdup(c);
        if (!specs[*n].ns || !specs[*n].content) {
            free(specs[*n].ns);
            free(specs[*n].content);
            r = -ENOMEM;
            goto out;
        }
        (*n)++;
        added++;
    }
    r = added ? added : -EINVAL;
out:
    free(copy);
    return r;
}

int wdsfs_parse_size(const char *s, uint64_t *ret)
{
    return wdsmc_parse_size(s, UINT64_MAX, ret);
}

static void add_spec(struct wdsfs_options *o, const char *text)
{
    int r = wdsfs_spec_parse(text, o->specs, &o->nspecs, WDSFS_MAX_SPECS);
    if (r < 0) {
        fprintf(stderr, "wdsfs: bad image specification '%s'%s\n", text,
                r == -E2BIG ? ": too many images" : " (want NAMESPACE=CONTENT[,CONTENT...])");
        if (!o->error)
            o->error = r;
    }
}

/* "--name VALUE" or "--name=VALUE" (fuse_opt hands over both the same
 * way) into *dst, replacing an earlier value. */
static int long_value(char **dst, const char *arg, const char *name)
{
    size_t n = strlen(name);
    const char *v = arg + n + (arg[n] == '=' || arg[n] == ' ');
    free(*dst);
    *dst = strdup(v);
    return 0;
}

static int opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
    struct wdsfs_options *o = data;
    switch (key) {
    case FUSE_OPT_KEY_NONOPT:
        if (o->nnonopt >= 2) {
            fprintf(stderr, "wdsfs: unexpected argument '%s'\n", arg);
            o->error = -EINVAL;
            return 0;
        }
        o->nonopt[o->nnonopt++] = strdup(arg);
        return 0;
    case KEY_IMAGE_LONG:
        add_spec(o, arg + strlen("--image") + (arg[strlen("--image")] == '='));
        return 0;
    case KEY_IMAGE_OPT:
        add_spec(o, arg + strlen("image="));
        return 0;
    case KEY_FOREGROUND:
        o->foreground = true;
        return 0;
    case KEY_DEBUG:
        o->debug = true;
        o->foreground = true;
        return 0;
    case KEY_SINGLE:
        return 0; /* always single-threaded */
    case KEY_HELP:
        o->help = true;
        return 0;
    case KEY_VERSION:
        o->version = true;
        return 0;
    case KEY_STATUS:
        o->status = true;
        return 0;
    case KEY_WATCH:
        o->watch = true;
        return 0;
    case KEY_USER:
        return long_value(&o->user_arg, arg, "--user");
    case KEY_PASSWORD_FILE:
        return long_value(&o->password_file, arg, "--password-file");
    case KEY_ANONYMOUS:
        o->anonymous = true;
        return 0;
    case KEY_RPC_PORT: {
        char *v = NULL;
        long_value(&v, arg, "--rpc-port");
        char *end;
        unsigned long p = v ? strtoul(v, &end, 10) : 0;
        if (!v || *v == '\0' || *end || p == 0 || p > 65535) {
            fprintf(stderr, "wdsfs: bad --rpc-port '%s'\n", v ? v : "");
            o->error = -EINVAL;
        }
        o->rpc_port = (unsigned)p;
        free(v);
        return 0;
    }
    case KEY_INITIATION:
        return long_value(&o->initiation_str, arg, "--initiation");
    case KEY_AUTH:
        return long_value(&o->auth_str, arg, "--auth");
    default:
        return 1; /* for fuse_session_new() */
    }
}

/* "ADDR", "ADDR:PORT", "[V6]", "[V6]:PORT"; a bare IPv6 literal has no port.
 * mount.fuse's "wdsfs#ADDR" form arrives already split. */
static int parse_server(const char *s, struct wdsfs_options *o)
{
    const char *host = s, *port = NULL;
    size_t hlen = strlen(s);
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close)
            return -EINVAL;
        host = s + 1;
        hlen = (size_t)(close - host);
        if (close[1] == ':')
            port = close + 2;
        else if (close[1] != '\0')
            return -EINVAL;
    } else {
        const char *colon = strchr(s, ':');
        if (colon && !strchr(colon + 1, ':')) {
            hlen = (size_t)(colon - s);
            port = colon + 1;
        }
    }
    if (hlen == 0 || hlen > 255)
        return -EINVAL;
    if (port) {
        char *end;
        unsigned long p = strtoul(port, &end, 10);
        if (*port == '\0' || *end || p == 0 || p > 65535)
            return -EINVAL;
        o->port = (uint16_t)p;
    }
    o->server = strndup(host, hlen);
    return o->server ? 0 : -ENOMEM;
}

static int read_config(struct wdsfs_options *o)
{
    FILE *f = fopen(o->config, "r");
    if (!f) {
        int e = errno;
        fprintf(stderr, "wdsfs: %s: %s\n", o->config, strerror(e));
        return -e;
    }
    char line[WDSFS_MAX_PATH * 2];
    unsigned lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char *t = trim(line);
        if (*t == '\0' || *t == '#')
            continue;
        if (strncmp(t, "image=", 6) == 0)
            t += 6;
        add_spec(o, t);
        if (o->error) {
            fprintf(stderr, "wdsfs: %s:%u: bad line\n", o->config, lineno);
            break;
        }
    }
    fclose(f);
    return o->error;
}

static char *absolute(const char *path)
{
    if (path[0] == '/')
        return strdup(path);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd)))
        return NULL;
    char *r;
    return asprintf(&r, "%s/%s", cwd, path) < 0 ? NULL : r;
}

static char *default_cache_dir(void)
{
    char *r = NULL;
    if (geteuid() == 0)
        return strdup("/var/cache/wdsfs");
    const char *xdg = getenv("XDG_CACHE_HOME");
    if (xdg && xdg[0] == '/')
        return asprintf(&r, "%s/wdsfs", xdg) < 0 ? NULL : r;
    const char *home = getenv("HOME");
    if (home && home[0] == '/')
        return asprintf(&r, "%s/.cache/wdsfs", home) < 0 ? NULL : r;
    return NULL;
}

/* An -o group with each rpc_user= value's lone backslashes doubled, or
 * NULL when there is nothing to change (or no memory). libfuse reads a
 * backslash in -o as an escape, so "rpc_user=CORP\alice" would arrive as
 * "CORPalice", and "CORP\123" as an octal character: a user name cannot
 * hold a backslash other than the DOMAIN\USER one, so both spellings of it,
 * one backslash or two (libfuse's own escape), mean the separator. */
static char *keep_user_backslash(const char *group)
{
    static const char key[] = "rpc_user=";
    size_t n = strlen(group);
    char *out = malloc(2 * n + 1), *d = out;
    bool changed = false, in_user = false, at_start = true;

    if (!out)
        return NULL;
    for (const char *s = group; *s; s++) {
        if (at_start)
            in_user = strncmp(s, key, sizeof(key) - 1) == 0;
        at_start = false;
        if (*s == '\\' && in_user) {
            *d++ = '\\';
            *d++ = '\\';
            if (s[1] == '\\')
                s++;
            else
                changed = true;
            continue;
        }
        if (*s == '\\' && s[1]) { /* another option's escape: leave it */
            *d++ = *s++;
        } else if (*s == ',') {
            at_start = true;
        }
        *d++ = *s;
    }
    *d = '\0';
    if (!changed) {
        free(out);
        return NULL;
    }
    return out;
}

/* Run keep_user_backslash() over every -o group of args. */
static int escape_user_options(struct fuse_args *args)
{
    struct fuse_args copy = FUSE_ARGS_INIT(0, NULL);
    bool changed = false;

    for (int i = 0; i < args->argc; i++) {
        const char *a = args->argv[i];
        char *fixed = NULL;
        if (i > 0 && strcmp(args->argv[i - 1], "-o") == 0)
            fixed = keep_user_backslash(a);
        else if (strncmp(a, "-o", 2) == 0 && a[2]) {
            char *g = keep_user_backslash(a + 2);
            if (g && asprintf(&fixed, "-o%s", g) < 0)
                fixed = NULL;
            free(g);
        }
        int r = fuse_opt_add_arg(&copy, fixed ? fixed : a);
        changed |= fixed != NULL;
        free(fixed);
        if (r < 0) {
            fuse_opt_free_args(&copy);
            return -ENOMEM;
        }
    }
    if (!changed) {
        fuse_opt_free_args(&copy);
        return 0;
    }
    fuse_opt_free_args(args);
    *args = copy;
    return 0;
}

int wdsfs_options_parse(struct fuse_args *args, struct wdsfs_options *o)
{
    o->window = (uint64_t)32 << 20;
    if (escape_user_options(args) < 0)
        return -ENOMEM;
    if (fuse_opt_parse(args, o, opt_spec, opt_proc) < 0)
        return -EINVAL;
    if (o->error)
        return o->error;
    if (o->help || o->version)
        return 0;
    if (o->status) {
        if (o->nnonopt != 1) {
            fprintf(stderr, "wdsfs: --status needs exactly one MOUNTPOINT\n");
            return -EINVAL;
        }
        o->mountpoint = o->nonopt[0];
        o->nonopt[0] = NULL;
        return 0;
    }
    if (o->nnonopt != 2) {
        fprintf(stderr, "wdsfs: need SERVER and MOUNTPOINT (see wdsfs --help)\n");
        return -EINVAL;
    }
    if (parse_server(o->nonopt[0], o) < 0) {
        fprintf(stderr, "wdsfs: bad server address '%s'\n", o->nonopt[0]);
        return -EINVAL;
    }
    o->mountpoint = absolute(o->nonopt[1]);
    if (!o->mountpoint)
        return -ENOMEM;
    if (o->config && read_config(o) < 0)
        return o->error ? o->error : -EINVAL;
    if (o->window_str && wdsfs_parse_size(o->window_str, &o->window) < 0) {
        fprintf(stderr, "wdsfs: bad window size '%s'\n", o->window_str);
        return -EINVAL;
    }
    if (o->window < ((uint64_t)1 << 20) || o->window > ((uint64_t)4 << 30)) {
        fprintf(stderr, "wdsfs: window must be between 1M and 4G\n");
        return -EINVAL;
    }
    if (o->timeout > 86400) {
        fprintf(stderr, "wdsfs: timeout must be at most 86400 seconds\n");
        return -EINVAL;
    }
    if (o->fake_block > 65448 || (o->fake_dir && o->fake_dir[0] != '/')) {
        fprintf(stderr, "wdsfs: bad fake source options\n");
        return -EINVAL;
    }
    if (o->rpc_port > 65535) {
        fprintf(stderr, "wdsfs: bad rpc_port %u\n", o->rpc_port);
        return -EINVAL;
    }
    if (o->initiation_str) {
        if (!strcmp(o->initiation_str, "auto"))
            o->initiation = WDSMC_INITIATION_AUTO;
        else if (!strcmp(o->initiation_str, "udp"))
            o->initiation = WDSMC_INITIATION_UDP;
        else if (!strcmp(o->initiation_str, "rpc"))
            o->initiation = WDSMC_INITIATION_RPC;
        else {
            fprintf(stderr, "wdsfs: bad initiation '%s' (auto, udp or rpc)\n", o->initiation_str);
            return -EINVAL;
        }
    }
    if (o->auth_str) {
        if (!strcmp(o->auth_str, "ntlm"))
            o->auth = WDSMC_AUTH_NTLM;
        else if (!strcmp(o->auth_str, "spnego"))
            o->auth = WDSMC_AUTH_SPNEGO;
        else {
            fprintf(stderr, "wdsfs: bad auth '%s' (ntlm or spnego)\n", o->auth_str);
            return -EINVAL;
        }
    }
    if (o->user_arg && o->anonymous) {
        fprintf(stderr, "wdsfs: --user and --anonymous exclude each other\n");
        return -EINVAL;
    }
    if (o->password_file && !o->user_arg) {
        fprintf(stderr, "wdsfs: --password-file needs --user\n");
        return -EINVAL;
    }
    if (o->user_arg) {
        if (wdsmc_credentials_parse_user(&o->cred, o->user_arg) < 0) {
            fprintf(stderr, "wdsfs: bad user '%s' (expected [DOMAIN\\]USER or USER@DOMAIN)\n",
                    o->user_arg);
            return -EINVAL;
        }
        if (!o->password_file) {
            fprintf(stderr, "wdsfs: --user needs --password-file FILE (passwords are never "
                            "taken from the command line)\n");
            return -EINVAL;
        }
        int r = wdsmc_credentials_read_password(&o->cred, o->password_file, false);
        if (r == -EPERM) {
            fprintf(stderr,
                    "wdsfs: password file %s is readable by group or others; run chmod 600 %s\n",
                    o->password_file, o->password_file);
            return -EINVAL;
        } else if (r < 0) {
            fprintf(stderr, "wdsfs: password file %s: %s\n", o->password_file,
                    r == -EINVAL ? "empty, or not a valid password line" : strerror(-r));
            return -EINVAL;
        }
    }
    if (o->initiation == WDSMC_INITIATION_RPC && !o->user_arg && !o->anonymous) {
        fprintf(stderr, "wdsfs: initiation=rpc needs --user or --anonymous\n");
        return -EINVAL;
    }
    char *dir = o->cache_dir ? absolute(o->cache_dir) : default_cache_dir();
    if (!dir) {
        fprintf(stderr, "wdsfs: no cache directory: give -o cache=DIR or -o stream\n");
        return -EINVAL;
    }
    free(o->cache_dir);
    o->cache_dir = dir;
    return 0;
}

void wdsfs_options_free(struct wdsfs_options *o)
{
    for (size_t i = 0; i < o->nspecs; i++) {
        free(o->specs[i].ns);
        free(o->specs[i].content);
        free(o->specs[i].dir);
    }
    free(o->user_arg);
    free(o->password_file);
    free(o->initiation_str);
    free(o->auth_str);
    wdsmc_credentials_fini(&o->cred);
    for (size_t i = 0; i < o->n_not_multicast; i++)
        free(o->not_multicast[i]);
    free(o->not_multicast);
    free(o->server);
    free(o->mountpoint);
    free(o->cache_dir);
    free(o->interface);
    free(o->config);
    free(o->fake_dir);
    free(o->window_str);
    for (size_t i = 0; i < 2; i++)
        free(o->nonopt[i]);
}

void wdsfs_usage(const char *prog)
{
    printf("usage: %s SERVER[:PORT] MOUNTPOINT --image NAMESPACE=CONTENT[,CONTENT...] "
           "[--image ...] [-o OPTIONS] [-f] [-d]\n"
           "       %s --status MOUNTPOINT [--watch]\n"
           "\n"
           "options (-o, comma-separated):\n"
           "  image=NS=CONTENT     an image (repeat for more; the fstab form of --image)\n"
           "  config=FILE          read image specifications, one per line\n"
           "  cache=DIR            spool directory (default /var/cache/wdsfs for root,\n"
           "                       $XDG_CACHE_HOME/wdsfs otherwise)\n"
           "  stream               no spool: keep only a window of blocks in memory\n"
           "  window=SIZE          stream window (default 32M)\n"
           "  prefetch             join every session at mount, not at first open\n"
           "  interface=ADDR       local address to receive multicast on\n"
           "  timeout=SECONDS      inactivity timeout of a session\n"
           "  rpc_user=[DOM\\]USER  (--user) authenticate over MS-WDSC RPC (or USER@DOM;\n"
           "                       one backslash is enough in -o); without\n"
           "                       images given, mount every multicast image of the server\n"
           "  password_file=FILE   (--password-file) the password, first line of FILE\n"
           "  anonymous            (--anonymous) anonymous logon instead of a user\n"
           "  auth=ntlm|spnego     (--auth) RPC security provider (default ntlm)\n"
           "  rpc_port=PORT        (--rpc-port) RPC port (default 5040)\n"
           "  initiation=auto|udp|rpc\n"
           "                       (--initiation) how sessions are initiated (default auto)\n"
           "  allow_other          let other users read the images (FUSE)\n"
           "  -f                   stay in the foreground\n"
           "  -d                   debug output (implies -f)\n"
           "\n"
           "See wdsfs(1).\n",
           prog, prog);
}
