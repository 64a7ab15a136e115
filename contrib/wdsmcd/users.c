/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "users.h"

#define ERRF(...) snprintf(err, errcap, __VA_ARGS__)

void wdsmcd_users_fini(struct wdsmcd_users *u)
{
    if (!u)
        return;
    for (size_t i = 0; i < u->n; i++) {
        free(u->v[i].user);
        free(u->v[i].domain);
    }
    /* The hashes are password equivalents: do not leave them in freed
     * memory. */
    if (u->v)
        explicit_bzero(u->v, u->n * sizeof(*u->v));
    free(u->v);
    u->v = NULL;
    u->n = 0;
}

/* Well-formed UTF-8 (no overlong forms, surrogates or values over U+10FFFF),
 * the same rule the NTLM layer applies before converting to UTF-16. */
static bool valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i];
        size_t k;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            k = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (s[i + j] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k + 1;
    }
    return true;
}

/* A user or domain name s[0..n): NULL when fine, else why not. */
static const char *check_part(const char *s, size_t n, const char *what)
{
    static char why[80];

    if (n == 0) {
        snprintf(why, sizeof(why), "empty %s name", what);
        return why;
    }
    if (n > WDSMCD_USER_MAX) {
        snprintf(why, sizeof(why), "%s name longer than %d bytes", what, WDSMCD_USER_MAX);
        return why;
    }
    if (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t') {
        snprintf(why, sizeof(why), "%s name starts or ends with a blank", what);
        return why;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == ':' || c == '\\') {
            snprintf(why, sizeof(why), "%s name contains ':', '\\' or a control character", what);
            return why;
        }
    }
    if (!valid_utf8((const unsigned char *)s, n)) {
        snprintf(why, sizeof(why), "%s name is not valid UTF-8", what);
        return why;
    }
    return NULL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One parsed line: an account (pointers into the line) or nothing. */
struct line {
    bool entry;
    const char *user, *domain; /* domain NULL when absent */
    size_t user_len, domain_len;
    uint8_t hash[16];
};

/* Parse line s[0..n) (no newline). 0 and *ret, or -EINVAL with *why. */
static int parse_line(const char *s, size_t n, struct line *ret, const char **why)
{
    memset(ret, 0, sizeof(*ret));
    while (n && (s[0] == ' ' || s[0] == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    if (n == 0 || s[0] == '#')
        return 0;
    const char *colon = memrchr(s, ':', n);
    if (!colon) {
        *why = "expected [DOMAIN\\]USER:NTHASH";
        return -EINVAL;
    }
    const char *hex = colon + 1;
    size_t hex_len = n - (size_t)(hex - s);
    if (hex_len != 32) {
        *why = "the NT hash must be 32 hexadecimal digits";
        return -EINVAL;
    }
    for (size_t i = 0; i < 16; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            *why = "the NT hash must be 32 hexadecimal digits";
            return -EINVAL;
        }
        ret->hash[i] = (uint8_t)(hi << 4 | lo);
    }
    size_t name_len = (size_t)(colon - s);
    const char *bs = memchr(s, '\\', name_len);
    if (bs) {
        ret->domain = s;
        ret->domain_len = (size_t)(bs - s);
        ret->user = bs + 1;
        ret->user_len = name_len - ret->domain_len - 1;
        if ((*why = check_part(ret->domain, ret->domain_len, "domain")))
            return -EINVAL;
    } else {
        ret->user = s;
        ret->user_len = name_len;
    }
    if ((*why = check_part(ret->user, ret->user_len, "user")))
        return -EINVAL;
    ret->entry = true;
    return 0;
}

static bool eq_nocase(const char *a, size_t an, const char *b, size_t bn)
{
    return an == bn && strncasecmp(a, b, an) == 0;
}

/* Same account: same user and the same domain, or both without one. */
static bool same_account(const struct line *l, const char *user, const char *domain)
{
    if (!eq_nocase(l->user, l->user_len, user, strlen(user)))
        return false;
    if (!domain || !*domain)
        return l->domain == NULL;
    return l->domain && eq_nocase(l->domain, l->domain_len, domain, strlen(domain));
}

/* Walk the lines of buf[0..len): fn(line, ctx) for each, stopping at its
 * first nonzero return. Line numbers start at 1. */
static int each_line(const char *buf, size_t len, const char *origin, char *err, size_t errcap,
                     int (*fn)(void *ctx, const char *s, size_t n, const struct line *l), void *ctx)
{
    size_t off = 0;
    unsigned lineno = 0;

    while (off < len) {
        const char *s = buf + off;
        const char *nl = memchr(s, '\n', len - off);
        size_t n = nl ? (size_t)(nl - s) : len - off;
        const char *why;
        struct line l;
        lineno++;
        if (n > WDSMCD_USERS_MAX_LINE) {
            ERRF("%s:%u: line longer than %d bytes", origin, lineno, WDSMCD_USERS_MAX_LINE);
            return -EINVAL;
        }
        if (memchr(s, '\0', n)) {
            ERRF("%s:%u: NUL byte", origin, lineno);
            return -EINVAL;
        }
        if (parse_line(s, n, &l, &why) < 0) {
            ERRF("%s:%u: %s", origin, lineno, why);
            return -EINVAL;
        }
        int r = fn(ctx, s, n, &l);
        explicit_bzero(l.hash, sizeof(l.hash));
        if (r == -E2BIG)
            ERRF("%s:%u: more than %d accounts", origin, lineno, WDSMCD_USERS_MAX);
        else if (r == -EEXIST)
            ERRF("%s:%u: duplicate account '%.*s%s%.*s'", origin, lineno,
                 l.domain ? (int)l.domain_len : 0, l.domain ? l.domain : "", l.domain ? "\\" : "",
                 (int)l.user_len, l.user);
        else if (r == -ENOMEM)
            ERRF("out of memory");
        if (r)
            return r == -EEXIST ? -EINVAL : r;
        off += n + (nl ? 1 : 0);
    }
    return 0;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int collect(void *ctx, const char *s, size_t n, const struct line *l)
{
    struct wdsmcd_users *u = ctx;
    (void)s;
    (void)n;

    if (!l->entry)
        return 0;
    if (u->n >= WDSMCD_USERS_MAX)
        return -E2BIG;
    for (size_t i = 0; i < u->n; i++) {
        const struct wdsmcd_user *o = &u->v[i];
        bool same_dom = (!o->domain && !l->domain) ||
                        (o->domain && l->domain &&
                         eq_nocase(o->domain, strlen(o->domain), l->domain, l->domain_len));
        if (same_dom && eq_nocase(o->user, strlen(o->user), l->user, l->user_len))
            return -EEXIST;
    }
    /* Grow one at a time is quadratic only in reallocs, which glibc makes
     * cheap; the duplicate check above already is. Files stay small. */
    struct wdsmcd_user *v = realloc(u->v, (u->n + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    u->v = v;
    struct wdsmcd_user *e = &v[u->n];
    e->user = dup_n(l->user, l->user_len);
    e->domain = l->domain ? dup_n(l->domain, l->domain_len) : NULL;
    if (!e->user || (l->domain && !e->domain)) {
        free(e->user);
        free(e->domain);
        return -ENOMEM;
    }
    memcpy(e->nt_hash, l->hash, 16);
    u->n++;
    return 0;
}

int wdsmcd_users_parse(const char *buf, size_t len, const char *origin, struct wdsmcd_users *ret,
                       char *err, size_t errcap)
{
    struct wdsmcd_users u = {0};

    if (len > WDSMCD_USERS_MAX_FILE) {
        ERRF("%s: larger than %u bytes", origin, WDSMCD_USERS_MAX_FILE);
        return -EFBIG;
    }
    int r = each_line(buf, len, origin, err, errcap, collect, &u);
    if (r < 0) {
        wdsmcd_users_fini(&u);
        return r;
    }
    *ret = u;
    return 0;
}

static void fill_id(const struct stat *st, struct wdsmcd_users_id *id)
{
    id->dev = st->st_dev;
    id->ino = st->st_ino;
    id->size = st->st_size;
    id->mode = st->st_mode;
    id->mtime = st->st_mtim;
    id->ctime = st->st_ctim;
}

int wdsmcd_users_load(const char *path, struct wdsmcd_users *ret, struct wdsmcd_users_id *ret_id,
                      char *err, size_t errcap)
{
    struct stat st;
    int r;

    /* O_NONBLOCK so that a FIFO planted at the path cannot hang us before
     * fstat says it is not a regular file. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        r = -errno;
        ERRF("users file %s: %s", path, strerror(-r));
        return r;
    }
    if (fstat(fd, &st) < 0) {
        r = -errno;
        ERRF("users file %s: %s", path, strerror(-r));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        ERRF("users file %s: not a regular file", path);
        r = -EINVAL;
        goto out;
    }
    if (st.st_mode & 077) {
        ERRF("users file %s: mode %04o lets others read or change password hashes; "
             "chmod 600 it",
             path, (unsigned)(st.st_mode & 07777));
        r = -EPERM;
        goto out;
    }
    if (st.st_uid != 0 && st.st_uid != geteuid()) {
        ERRF("users file %s: owned by uid %u, not by root or uid %u", path, (unsigned)st.st_uid,
             (unsigned)geteuid());
        r = -EPERM;
        goto out;
    }
    if (st.st_size > (off_t)WDSMCD_USERS_MAX_FILE) {
        ERRF("users file %s: larger than %u bytes", path, WDSMCD_USERS_MAX_FILE);
        r = -EFBIG;
        goto out;
    }
    size_t cap = (size_t)st.st_size + 1, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        ERRF("out of memory");
        r = -ENOMEM;
        goto out;
    }
    /* The file may grow between fstat and read: read at most what was
     * checked, and treat more as a change the next refresh sees. */
    while (len < cap - 1) {
        ssize_t got = read(fd, buf + len, cap - 1 - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            r = -errno;
            ERRF("users file %s: %s", path, strerror(-r));
            explicit_bzero(buf, len);
            free(buf);
            goto out;
        }
        if (got == 0)
            break;
        len += (size_t)got;
    }
    r = wdsmcd_users_parse(buf, len, path, ret, err, errcap);
    explicit_bzero(buf, len);
    free(buf);
    if (r == 0 && ret_id)
        fill_id(&st, ret_id);
out:
    close(fd);
    return r;
}

bool wdsmcd_users_changed(const char *path, const struct wdsmcd_users_id *id)
{
    struct stat st;

    if (stat(path, &st) < 0)
        return true;
    return st.st_dev != id->dev || st.st_ino != id->ino || st.st_size != id->size ||
           st.st_mode != id->mode || st.st_mtim.tv_sec != id->mtime.tv_sec ||
           st.st_mtim.tv_nsec != id->mtime.tv_nsec || st.st_ctim.tv_sec != id->ctime.tv_sec ||
           st.st_ctim.tv_nsec != id->ctime.tv_nsec;
}

static int lookup_exact(const struct wdsmcd_users *u, const char *user, const char *domain,
                        uint8_t ret_nt_hash[16])
{
    const struct wdsmcd_user *any = NULL;
    size_t ulen = strlen(user), dlen = domain ? strlen(domain) : 0;

    for (size_t i = 0; u && i < u->n; i++) {
        const struct wdsmcd_user *e = &u->v[i];
        if (!eq_nocase(e->user, strlen(e->user), user, ulen))
            continue;
        if (!e->domain) {
            any = e;
            continue;
        }
        if (dlen && eq_nocase(e->domain, strlen(e->domain), domain, dlen)) {
            memcpy(ret_nt_hash, e->nt_hash, 16);
            return 0;
        }
    }
    if (!any)
        return -ENOENT;
    memcpy(ret_nt_hash, any->nt_hash, 16);
    return 0;
}

int wdsmcd_users_lookup(const struct wdsmcd_users *u, const char *user, const char *domain,
                        uint8_t ret_nt_hash[16])
{
    int r = lookup_exact(u, user, domain, ret_nt_hash);
    const char *at = strrchr(user, '@');

    /* A client may send a user principal name (USER@DOMAIN) with no
     * domain, as wdsfs and wdsget accept it; such an account is stored as
     * DOMAIN\USER (wdsmcd_users_split_name). An exact entry comes first. */
    if (r != -ENOENT || (domain && *domain) || !at || at == user || !at[1] ||
        (size_t)(at - user) > WDSMCD_USER_MAX)
        return r;
    char name[WDSMCD_USER_MAX + 1];
    memcpy(name, user, (size_t)(at - user));
    name[at - user] = '\0';
    return lookup_exact(u, name, at + 1, ret_nt_hash);
}

int wdsmcd_users_split_name(const char *name, char **ret_user, char **ret_domain, char *err,
                            size_t errcap)
{
    const char *bs = strchr(name, '\\');
    const char *why;
    const char *user = bs ? bs + 1 : name, *dom = bs ? name : NULL;
    size_t ulen = strlen(user), dlen = bs ? (size_t)(bs - name) : 0;

    /* USER@DOMAIN, as wdsfs and wdsget take it, is DOMAIN\USER. */
    const char *at = bs ? NULL : strrchr(name, '@');
    if (at) {
        ulen = (size_t)(at - name);
        dom = at + 1;
        dlen = strlen(dom);
    }
    if (dom && (why = check_part(dom, dlen, "domain"))) {
        ERRF("'%s': %s", name, why);
        return -EINVAL;
    }
    if ((why = check_part(user, ulen, "user"))) {
        ERRF("'%s': %s", name, why);
        return -EINVAL;
    }
    char *u = dup_n(user, ulen);
    char *d = dom ? dup_n(dom, dlen) : NULL;
    if (!u || (dom && !d)) {
        free(u);
        free(d);
        ERRF("out of memory");
        return -ENOMEM;
    }
    *ret_user = u;
    *ret_domain = d;
    return 0;
}

/* The state of wdsmcd_users_edit's walk over the old text. */
struct editor {
    const char *user, *domain;
    const uint8_t *hash; /* NULL: remove */
    char *out;
    size_t len, cap;
    bool found;
    size_t accounts;
};

static int put(struct editor *e, const char *s, size_t n)
{
    if (e->len + n + 1 > e->cap) {
        size_t ncap = e->cap ? e->cap : 256;
        while (ncap < e->len + n + 1)
            ncap *= 2;
        char *p = malloc(ncap);
        if (!p)
            return -ENOMEM;
        /* Copy rather than realloc, so the old buffer (hashes) is wiped. */
        if (e->out) {
            memcpy(p, e->out, e->len);
            explicit_bzero(e->out, e->cap);
            free(e->out);
        }
        e->out = p;
        e->cap = ncap;
    }
    memcpy(e->out + e->len, s, n);
    e->len += n;
    e->out[e->len] = '\0';
    return 0;
}

static int put_entry(struct editor *e)
{
    char hex[33];
    int r = 0;

    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", e->hash[i]);
    if (e->domain && *e->domain) {
        if ((r = put(e, e->domain, strlen(e->domain))) < 0 || (r = put(e, "\\", 1)) < 0)
            goto out;
    }
    if ((r = put(e, e->user, strlen(e->user))) < 0 || (r = put(e, ":", 1)) < 0 ||
        (r = put(e, hex, 32)) < 0)
        goto out;
    r = put(e, "\n", 1);
out:
    explicit_bzero(hex, sizeof(hex));
    return r;
}

static int edit_line(void *ctx, const char *s, size_t n, const struct line *l)
{
    struct editor *e = ctx;
    int r;

    if (l->entry && same_account(l, e->user, e->domain)) {
        e->found = true;
        return e->hash ? put_entry(e) : 0;
    }
    if (l->entry && ++e->accounts >= WDSMCD_USERS_MAX)
        return -E2BIG;
    if ((r = put(e, s, n)) < 0)
        return r;
    return put(e, "\n", 1);
}

int wdsmcd_users_edit(const char *in, size_t len, const char *origin, const char *user,
                      const char *domain, const uint8_t *nt_hash, char **ret, size_t *ret_len,
                      bool *ret_found, char *err, size_t errcap)
{
    struct editor e = {.user = user, .domain = domain, .hash = nt_hash};
    int r;

    if (len > WDSMCD_USERS_MAX_FILE) {
        ERRF("%s: larger than %u bytes", origin, WDSMCD_USERS_MAX_FILE);
        return -EFBIG;
    }
    r = put(&e, "", 0);
    if (r == 0)
        r = each_line(in, len, origin, err, errcap, edit_line, &e);
    if (r == 0 && !e.found && nt_hash)
        r = put_entry(&e);
    if (r == 0 && !e.found && !nt_hash) {
        ERRF("%s: no account '%s%s%s'", origin, domain && *domain ? domain : "",
             domain && *domain ? "\\" : "", user);
        r = -ENOENT;
    }
    if (r < 0) {
        if (r == -ENOMEM)
            ERRF("out of memory");
        if (e.out)
            explicit_bzero(e.out, e.cap);
        free(e.out);
        return r;
    }
    *ret = e.out;
    *ret_len = e.len;
    if (ret_found)
        *ret_found = e.found;
    return 0;
}
