/* SPDX-License-Identifier: MIT */
/*
 * libwdsmc image catalog: the OS images a WDS server offers, from
 * WDS_OP_IMG_ENUMERATE (MS-WDSOSD 2.2.6) over MS-WDSC RPC (TCP 5040,
 * NTLMv2 or SPNEGO at packet privacy). The v2 reply format is asked for
 * (CLIENT_CAP_SUPPORT_V2); a server that refuses the request with the
 * capability is asked again without it (v1).
 *
 *   wdsmc_catalog_fetch()   asynchronous, on the caller's libuv loop
 *   wdsmc_catalog_get()     the same, running the loop until it is done
 *   wdsmc_catalog_free()    release a catalog
 *
 * Images whose `ns` is NULL have no multicast namespace on the server (not
 * multicast-enabled): their files cannot be received with wdsmc_client.
 */
#ifndef WDSMC_CATALOG_H
#define WDSMC_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wdsmc/client.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where to ask and as whom. Strings are copied by wdsmc_catalog_fetch(). */
struct wdsmc_catalog_request {
    const char *server;     /* IPv4 or IPv6 literal */
    uint16_t rpc_port;      /* 0: 5040 */
    const char *user;       /* UTF-8, no domain part; NULL with !anonymous: "" */
    const char *domain;     /* NULL: "" */
    const char *password;   /* or nt_hash */
    const uint8_t *nt_hash; /* 16 bytes */
    bool anonymous;         /* anonymous logon (Windows servers refuse it) */
    enum wdsmc_auth auth;   /* default NTLM */
    unsigned timeout;       /* ms for connect and for each call; 0: 10000 */
};

/* One image. Every string is owned by the catalog (NUL-terminated UTF-8);
 * those marked "or NULL" may be absent. */
struct wdsmc_catalog_image {
    char *group;    /* image group, e.g. "Windows Server" */
    char *name;     /* NAME of the image from its XML, or NULL */
    char *path;     /* server-side path of the image file, as sent */
    char *file;     /* last component of path, e.g. "install.wim" */
    uint32_t index; /* image index within the file (1-based) */
    char *ns;       /* multicast namespace, or NULL: not multicast-enabled */
    char *res_path; /* resource file path of the group, or NULL */
    char *res_file; /* last component of res_path, or NULL */
    size_t n_dep;   /* dependent files (v2) */
    char **dep;     /* their paths */
    bool has_size;
    uint64_t size; /* NAMESPACE_SIZE: bytes of the namespace's contents */
    uint32_t type; /* WDSMC dependency image type: 1 VHD, 2 WIM, 3 VHDX */
    char *xml;     /* the image's XML description */
};

struct wdsmc_catalog {
    bool v2; /* the server answered in the v2 format */
    size_t n_images;
    struct wdsmc_catalog_image *images;
};

/*
 * Completion of wdsmc_catalog_fetch(): err 0 and *cat (the callee owns it:
 * release with wdsmc_catalog_free()), or a negative errno and NULL: -EACCES
 * (credentials refused, or not allowed to enumerate), -ECONNREFUSED and
 * other socket errors, -ETIMEDOUT, -WDSMC_ESERVER (the server's error),
 * -WDSMC_EBADREPLY (a reply that does not parse), -ENOMEM.
 */
typedef void (*wdsmc_catalog_cb)(void *ctx, int err, struct wdsmc_catalog *cat);

/*
 * Start enumerating on loop; cb runs exactly once, from the loop, never
 * inside this call. Returns 0, or -EINVAL (bad server address), -ENOMEM
 * (and cb will not run).
 */
int wdsmc_catalog_fetch(uv_loop_t *loop, const struct wdsmc_catalog_request *req,
                        wdsmc_catalog_cb cb, void *ctx);

/* Synchronous form: runs loop until done. 0 and *ret (caller frees with
 * wdsmc_catalog_free), or the errors above. */
int wdsmc_catalog_get(uv_loop_t *loop, const struct wdsmc_catalog_request *req,
                      struct wdsmc_catalog **ret);

/* Release a catalog and every string in it; NULL is fine. */
void wdsmc_catalog_free(struct wdsmc_catalog *cat);

#ifdef __cplusplus
}
#endif

#endif /* WDSMC_CATALOG_H */
