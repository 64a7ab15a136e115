/* SPDX-License-Identifier: MIT */
/*
 * The wdsfs command line, in the shapes it arrives in:
 *
 *   wdsfs SERVER[:PORT] MOUNTPOINT --image NS=CONTENT[,CONTENT...] [-o OPTS] [-f] [-d]
 *   mount.fuse3 / fstab:  wdsfs SERVER MOUNTPOINT -o image=NS=CONTENT,image=...,OPTS
 *   wdsfs --status MOUNTPOINT [--watch]
 *
 * Options wdsfs does not know are left in the FUSE arguments (allow_other,
 * ro, nosuid, ...) for fuse_session_new() to take or refuse.
 */
#ifndef WDSFS_OPTIONS_H
#define WDSFS_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wdsmc/credentials.h"

struct fuse_args;

/* Limits: image specifications on one command line. */
#define WDSFS_MAX_SPECS 256

/* One image to mount: a content of a namespace. */
struct wdsfs_image_spec {
    char *ns;
    char *content;
    char *dir; /* directory under the mountpoint; NULL: ns split on '/' */
};

struct wdsfs_options {
    char *server;     /* address literal, brackets removed */
    uint16_t port;    /* 0: the default (5041) */
    char *mountpoint; /* absolute */
    char *cache_dir;  /* absolute; the default filled in */
    bool stream;
    uint64_t window; /* stream window in bytes */
    bool prefetch;
    char *interface;
    unsigned timeout; /* seconds; 0: the transport's default */
    char *config;     /* file of image specifications */
    struct wdsfs_image_spec specs[WDSFS_MAX_SPECS];
    size_t nspecs;
    bool foreground;
    bool debug;
    bool help;
    bool version;
    bool status; /* --status MOUNTPOINT */
    bool watch;
    /* Test-only: the fake source. */
    char *fake_dir;
    unsigned fake_block;
    unsigned fake_rate;
    unsigned fake_seed;
    /* Internal: the raw strings fuse_opt fills in. */
    char *window_str;
    char *nonopt[2];
    size_t nnonopt;
    int error; /* first parse error, negative */

    /* Session initiation over MS-WDSC RPC (--user, --password-file,
     * --anonymous, --auth, --rpc-port, --initiation; -o rpc_user=,
     * password_file=, anonymous, auth=, rpc_port=, initiation=). */
    char *user_arg; /* [DOMAIN\]USER */
    char *password_file;
    bool anonymous;
    unsigned rpc_port;
    char *initiation_str;
    char *auth_str;
    int initiation;                /* enum wdsmc_initiation */
    int auth;                      /* enum wdsmc_auth */
    struct wdsmc_credentials cred; /* user, domain, password (read at parse) */
    /* With credentials and no image given: images from the server's catalog.
     * Those without a multicast namespace, "GROUP/FILE/INDEX", for status. */
    char **not_multicast;
    size_t n_not_multicast;
};

/*
 * Parse argv. Unknown options stay in *args (which the caller initialised
 * with FUSE_ARGS_INIT(argc, argv) and frees with fuse_opt_free_args()).
 * Errors are printed to stderr. Returns 0 or a negative errno.
 */
int wdsfs_options_parse(struct fuse_args *args, struct wdsfs_options *opts);

/*
 * Add the images of a specification "NS=CONTENT[,CONTENT...]" or
 * "NS CONTENT" to `specs`. Returns the number added or -EINVAL (malformed,
 * names empty, too long or with '/' in a content, "." or ".." components),
 * -E2BIG (more than `max` in total), -ENOMEM.
 */
int wdsfs_spec_parse(const char *text, struct wdsfs_image_spec *specs, size_t *n, size_t max);

/* Parse "32M", "1G", "4096" into bytes. Returns 0 or -EINVAL. */
int wdsfs_parse_size(const char *s, uint64_t *ret);

/* Release what parse allocated. */
void wdsfs_options_free(struct wdsfs_options *opts);

/* The usage text. */
void wdsfs_usage(const char *prog);

#endif /* WDSFS_OPTIONS_H */
