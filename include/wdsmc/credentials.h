/* SPDX-License-Identifier: MIT */
/*
 * Credentials for MS-WDSC RPC from a command line: a user argument of the
 * form [DOMAIN\]USER (or USER@DOMAIN) and a password read from a file, never
 * from the command line (where every local user can read it in /proc).
 * Shared by wdsget and wdsfs; the library itself never reads files for
 * credentials on its own.
 */
#ifndef WDSMC_CREDENTIALS_H
#define WDSMC_CREDENTIALS_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Owned strings (malloc'd); release with wdsmc_credentials_fini(), which
 * wipes the password. */
struct wdsmc_credentials {
    char *user;     /* NULL until parsed */
    char *domain;   /* "" when none was given */
    char *password; /* NULL until read */
};

#define WDSMC_CREDENTIALS_MAX_PASSWORD 256 /* bytes of UTF-8 */

/*
 * Split "DOMAIN\USER", "USER@DOMAIN" or "USER" into c->user and c->domain
 * (replacing earlier values). -EINVAL for an empty user or domain part,
 * -ENOMEM.
 */
int wdsmc_credentials_parse_user(struct wdsmc_credentials *c, const char *arg);

/*
 * Read the password from the first line of `path` ("-": standard input);
 * a trailing "\n" or "\r\n" is not part of it. A regular file that group or
 * others may read is refused with -EPERM (the caller says "chmod 600"),
 * unless allow_shared. -ENOENT, -EACCES and other open/read errors as
 * negative errno; -EINVAL for an empty password, a NUL byte or one over
 * WDSMC_CREDENTIALS_MAX_PASSWORD bytes.
 */
int wdsmc_credentials_read_password(struct wdsmc_credentials *c, const char *path,
                                    bool allow_shared);

/* Release and wipe; a zeroed struct is fine. */
void wdsmc_credentials_fini(struct wdsmc_credentials *c);

#ifdef __cplusplus
}
#endif

#endif /* WDSMC_CREDENTIALS_H */
