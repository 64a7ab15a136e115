/* SPDX-License-Identifier: MIT */
/*
 * wdsmcd configuration: the INI file of wdsmcd.conf(5) and the command line
 * of wdsmcd(8), merged into one struct.
 *
 * Every bad value is reported in `err` as "FILE:LINE: problem" (or
 * "--option 'value': problem" for the command line), and the caller exits
 * with status 2. Nothing here prints or exits.
 */
#ifndef WDSMCD_CONFIG_H
#define WDSMCD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "wdsmc/server.h"

#define WDSMCD_DEFAULT_CONTROL  "/run/wdsmcd/control.sock"
#define WDSMCD_DEFAULT_MSI_PORT 5041
#define WDSMCD_DEFAULT_RPC_PORT 5040
#define WDSMCD_MAX_NAMESPACES   1024
#define WDSMCD_MAX_CONTENTS     65536 /* over every namespace */
#define WDSMCD_NAME_MAX         255   /* namespace and content names (server.h) */

/* One namespace: a name, the file or directory it serves, its settings, and
 * where it was defined ("FILE:LINE" or "--namespace"), for later messages. */
struct wdsmcd_namespace {
    char *name;
    char *path;
    struct wdsmc_namespace_config nc;
    bool block_size_set;
    char *origin;
};

struct wdsmcd_config {
    char *config_path; /* --config, or NULL */
    char *address;     /* NULL: 0.0.0.0 */
    char *interface;   /* NULL: the kernel's choice */
    uint16_t msi_port; /* 5041 */
    char *group_first; /* NULL: engine default */
    unsigned group_count;
    uint16_t port_first; /* 0: engine default */
    unsigned port_count;
    unsigned max_clients;           /* 0: engine default (200) */
    char *control_path;             /* WDSMCD_DEFAULT_CONTROL */
    mode_t control_mode;            /* 0600 */
    enum wdsmc_log_level log_level; /* INFO */
    uint32_t block_size;            /* --block-size: for namespaces without one; 0: engine's */
    bool check_only;                /* --check */
    /* MS-WDSC over DCE/RPC (rpc.h). */
    uint16_t rpc_port;    /* TCP; 5040; 0: no RPC listener */
    bool rpc_port_set;    /* rpc_port came from the file or the command line */
    char *rpc_address;    /* NULL: address */
    char *users_file;     /* NULL: WDSMCD_DEFAULT_USERS if it exists (users.h) */
    bool allow_anonymous; /* unauthenticated and anonymous callers may initiate */
    bool msi_udp;         /* answer MS-WDSMSI over UDP (true) */
    bool udp_gso;         /* send data in UDP GSO batches where possible (true) */
    uint32_t send_buffer; /* bytes of send buffer per session socket; 0: 8 MiB */
    struct wdsmcd_namespace *ns;
    size_t n_ns;
};

/* One servable file of a namespace. */
struct wdsmcd_content {
    char *name; /* the file's name */
    char *path; /* the path to open */
};

/* What wdsmcd_config_parse_args() tells the caller to do. */
enum wdsmcd_args_result {
    WDSMCD_ARGS_RUN = 0,  /* run the daemon (or --check) */
    WDSMCD_ARGS_HELP = 1, /* --help was printed to stdout: exit 0 */
    WDSMCD_ARGS_VERSION = 2,
};

/* Fill *c with the defaults. */
void wdsmcd_config_init(struct wdsmcd_config *c);

/* Free everything *c owns; *c is then as after init. NULL is fine. */
void wdsmcd_config_fini(struct wdsmcd_config *c);

/*
 * Parse argv (getopt_long; resets optind), load --config if given, apply the
 * command-line options over the file's [server] values, append the
 * --namespace entries and validate the whole. Returns an enum
 * wdsmcd_args_result, or -EINVAL with a message in err (exit 2), or -ENOMEM.
 */
int wdsmcd_config_parse_args(struct wdsmcd_config *c, int argc, char **argv, char *err,
                             size_t errcap);

/*
 * Load an INI file into *c (adds namespaces, sets [server] values). Returns
 * 0, or -EINVAL / -ENOENT... with "FILE:LINE: problem" (or "FILE: problem"
 * when it cannot be read) in err.
 */
int wdsmcd_config_load_file(struct wdsmcd_config *c, const char *path, char *err, size_t errcap);

/* Add a namespace from "NAME=PATH". -EINVAL with a message, -ENOMEM. */
int wdsmcd_config_add_namespace_arg(struct wdsmcd_config *c, const char *arg, char *err,
                                    size_t errcap);

/* Cross-field checks after everything is loaded: at least one namespace,
 * Scheduled-Cast min_clients within the client limit, rates the slow-client
 * policy needs... Applies the --block-size default. -EINVAL with a message. */
int wdsmcd_config_finish(struct wdsmcd_config *c, char *err, size_t errcap);

/*
 * List the contents of a namespace: PATH a regular file gives one content
 * named after the file; a directory gives each regular file in it (symlinks
 * followed, names starting with '.' and subdirectories skipped), sorted by
 * name. *ret is a heap array the caller frees with wdsmcd_contents_free().
 * Returns 0 (possibly with *n == 0 for an empty directory), or a negative
 * errno with "ORIGIN: path 'PATH': problem" in err.
 */
int wdsmcd_contents_list(const struct wdsmcd_namespace *ns, struct wdsmcd_content **ret, size_t *n,
                         char *err, size_t errcap);

void wdsmcd_contents_free(struct wdsmcd_content *v, size_t n);

/* Parse helpers, exposed for the unit tests. */
int wdsmcd_parse_size(const char *s, uint64_t max, uint64_t *ret);
int wdsmcd_parse_time(const char *s, int64_t *ret);

/* Names for enums, for logs and the control protocol. */
const char *wdsmcd_cast_mode_name(enum wdsmc_cast_mode m);
const char *wdsmcd_slow_policy_name(enum wdsmc_slow_policy p);

#endif /* WDSMCD_CONFIG_H */
