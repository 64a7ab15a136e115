/* SPDX-License-Identifier: MIT */
/*
 * wdsmcd users file: the accounts MS-WDSC (RPC) callers authenticate as with
 * NTLMv2, stored as NT hashes (NTOWFv1, MS-NLMP 3.3.1), never as passwords.
 *
 * Format (wdsmcd.conf(5), USERS FILE): one account per line,
 *
 *     [DOMAIN\]USER:NTHASH
 *
 * NTHASH is 32 hexadecimal digits (MD4 of the UTF-16LE password). Blank lines
 * and lines starting with '#' are ignored; leading blanks and trailing blanks
 * or CR are dropped. USER and DOMAIN are UTF-8, at most WDSMCD_USER_MAX bytes,
 * with no ':', '\', control characters, nor leading or trailing blanks. An
 * entry without DOMAIN matches the user in any domain the client names; an
 * entry with one only that domain. Names compare without regard to ASCII case
 * (MS-NLMP 3.2.5.1.2); other letters must match exactly.
 *
 * The file holds password equivalents: wdsmcd_users_load() refuses a file
 * that is not a regular file, is readable or writable by group or others
 * (mode must be 0600 or stricter) or is owned by anyone but root or the
 * calling user.
 *
 * Nothing here prints; errors come back as text in err.
 */
#ifndef WDSMCD_USERS_H
#define WDSMCD_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define WDSMCD_DEFAULT_USERS  "/etc/wdsmcd/users"
#define WDSMCD_USER_MAX       256        /* bytes of a user or domain name */
#define WDSMCD_USERS_MAX      65536      /* accounts in a file */
#define WDSMCD_USERS_MAX_LINE 1024       /* bytes of a line */
#define WDSMCD_USERS_MAX_FILE (8u << 20) /* bytes of the file */

struct wdsmcd_user {
    char *user;
    char *domain; /* NULL: any domain */
    uint8_t nt_hash[16];
};

struct wdsmcd_users {
    struct wdsmcd_user *v;
    size_t n;
};

/*
 * Parse the text of a users file (buf need not be NUL-terminated). origin
 * names it in messages ("FILE:LINE: problem"). Returns 0 and fills *ret
 * (free with wdsmcd_users_fini), or -EINVAL / -E2BIG / -ENOMEM with a
 * message in err; *ret is untouched on failure.
 */
int wdsmcd_users_parse(const char *buf, size_t len, const char *origin, struct wdsmcd_users *ret,
                       char *err, size_t errcap);

/*
 * Read and parse the file at path after the checks at the top of this file
 * (-EPERM for mode or owner, -EINVAL not a regular file, -EFBIG over
 * WDSMCD_USERS_MAX_FILE, open errors as -errno). On success *ret_id (may be
 * NULL) identifies the version read, for wdsmcd_users_changed().
 */
struct wdsmcd_users_id {
    dev_t dev;
    ino_t ino;
    off_t size;
    mode_t mode; /* the load checks it: a chmod within one ctime tick counts */
    struct timespec mtime;
    struct timespec ctime;
};
int wdsmcd_users_load(const char *path, struct wdsmcd_users *ret, struct wdsmcd_users_id *ret_id,
                      char *err, size_t errcap);

/* Whether the file at path is no longer the version id describes (also when
 * it is gone or unreadable: the next load reports why). */
bool wdsmcd_users_changed(const char *path, const struct wdsmcd_users_id *id);

/* Free what *u owns; *u is then empty. NULL is fine. */
void wdsmcd_users_fini(struct wdsmcd_users *u);

/*
 * The NT hash of user in domain (domain may be NULL or ""): an entry for
 * exactly that domain wins over one without a domain. 0 and ret_nt_hash, or
 * -ENOENT.
 */
int wdsmcd_users_lookup(const struct wdsmcd_users *u, const char *user, const char *domain,
                        uint8_t ret_nt_hash[16]);

/*
 * Split "[DOMAIN\]USER" into its parts (malloc'd; *ret_domain NULL when
 * absent) after checking both as a users file would. -EINVAL with a message
 * in err, -ENOMEM.
 */
int wdsmcd_users_split_name(const char *name, char **ret_user, char **ret_domain, char *err,
                            size_t errcap);

/*
 * Rewrite the users file text in[0..len) with the account (user, domain)
 * set to nt_hash (add or replace), or removed when nt_hash is NULL. Other
 * lines, comments included, are kept as they are. Returns 0 and *ret
 * (malloc'd, NUL-terminated, *ret_len bytes), -ENOENT when removing an
 * account that is not there, -EINVAL (with err) when in does not parse,
 * -ENOMEM. *ret_found tells whether the account existed (may be NULL).
 */
int wdsmcd_users_edit(const char *in, size_t len, const char *origin, const char *user,
                      const char *domain, const uint8_t *nt_hash, char **ret, size_t *ret_len,
                      bool *ret_found, char *err, size_t errcap);

#endif /* WDSMCD_USERS_H */
