/* SPDX-License-Identifier: MIT */
/*
 * Image catalog (wdsmc/catalog.h): WDS_OP_IMG_ENUMERATE over rpcnet. One
 * connection, one or two calls (v2 first, then v1 when the server refuses
 * the client capability), then the reply is copied into a catalog that owns
 * its strings, so nothing borrows from the packet.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "rpcnet.h"
#include "wdsc.h"
#include "wdsmc/catalog.h"

#define DEFAULT_TIMEOUT 10000

struct fetch {
    struct wdsmc_rpcnet_client *rpc;
    wdsmc_catalog_cb cb;
    void *ctx;
    bool tried_v1;
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Last component of a Windows or POSIX path. */
static char *basename_dup(const char *path)
{
    if (!path)
        return NULL;
    const char *b = path;
    for (const char *p = path; *p; p++)
        if (*p == '\\' || *p == '/')
            b = p + 1;
    return strdup(b);
}

/* The text of the first <NAME> element of the image XML, or NULL. WIM XML
 * (the IMAGE element of a WIM's XML data) has no nested NAME before the
 * image's own. */
static char *xml_name(const char *xml)
{
    const char *a, *e;

    if (!xml || !(a = strstr(xml, "<NAME>")))
        return NULL;
    a += 6;
    if (!(e = strstr(a, "</NAME>")))
        return NULL;
    return strndup(a, (size_t)(e - a));
}

void wdsmc_catalog_free(struct wdsmc_catalog *cat)
{
    if (!cat)
        return;
    for (size_t i = 0; i < cat->n_images; i++) {
        struct wdsmc_catalog_image *m = &cat->images[i];
        free(m->group);
        free(m->name);
        free(m->path);
        free(m->file);
        free(m->ns);
        free(m->res_path);
        free(m->res_file);
        for (size_t d = 0; d < m->n_dep; d++)
            free(m->dep[d]);
        free(m->dep);
        free(m->xml);
    }
    free(cat->images);
    free(cat);
}

static int catalog_from_rep(const struct wdsmc_wdsc_img_enum_rep *rep, struct wdsmc_catalog **ret)
{
    struct wdsmc_catalog *cat = calloc(1, sizeof(*cat));
    if (!cat)
        return -ENOMEM;
    cat->v2 = rep->has_sc && (rep->sc & WDSMC_SERVER_CAP_SUPPORT_V2);
    if (rep->n_images) {
        cat->images = calloc(rep->n_images, sizeof(*cat->images));
        if (!cat->images)
            goto nomem;
    }
    for (uint32_t i = 0; i < rep->n_images; i++) {
        const struct wdsmc_wdsc_image *s = &rep->images[i];
        struct wdsmc_catalog_image *m = &cat->images[i];
        cat->n_images++;
        m->index = s->index;
        m->type = s->type;
        m->has_size = s->has_ns_size;
        m->size = s->ns_size;
        m->group = dup_or_null(s->group);
        m->path = dup_or_null(s->path);
        m->file = basename_dup(s->path);
        m->name = xml_name(s->xml);
        m->xml = dup_or_null(s->xml);
        /* An empty namespace is as good as none. */
        m->ns = s->ns && *s->ns ? strdup(s->ns) : NULL;
        m->res_path = s->res_path && *s->res_path ? strdup(s->res_path) : NULL;
        m->res_file = basename_dup(m->res_path);
        if ((s->group && !m->group) || (s->path && (!m->path || !m->file)) || (s->xml && !m->xml) ||
            (m->res_path && !m->res_file) || (s->ns && *s->ns && !m->ns))
            goto nomem;
        if (s->n_dep) {
            m->dep = calloc(s->n_dep, sizeof(*m->dep));
            if (!m->dep)
                goto nomem;
            for (uint32_t d = 0; d < s->n_dep; d++) {
                m->n_dep++;
                if (!(m->dep[d] = dup_or_null(s->dep[d])))
                    goto nomem;
            }
        }
    }
    *ret = cat;
    return 0;
nomem:
    wdsmc_catalog_free(cat);
    return -ENOMEM;
}

static void fetch_done(struct fetch *f, int err, struct wdsmc_catalog *cat)
{
    wdsmc_rpcnet_client_close(f->rpc);
    f->cb(f->ctx, err, cat);
    free(f);
}

static int send_enum(struct fetch *f, bool v2);

static void on_reply(void *ctx, int err, const uint8_t *pkt, size_t len)
{
    struct fetch *f = ctx;
    struct wdsmc_wdsc_pkt p = {0};
    struct wdsmc_wdsc_img_enum_rep rep = {0};
    struct wdsmc_catalog *cat = NULL;

    if (err == 0) {
        if (wdsmc_wdsc_decode(pkt, len, &p) < 0 || wdsmc_wdsc_img_enum_rep_parse(&p, &rep) < 0)
            err = -WDSMC_EBADREPLY;
        else if (rep.error)
            err = rep.error == WDSMC_WIN32_ACCESS_DENIED ? -EACCES : -WDSMC_ESERVER;
        else
            err = catalog_from_rep(&rep, &cat);
    }
    wdsmc_wdsc_img_enum_rep_fini(&rep);
    wdsmc_wdsc_pkt_fini(&p);

    /* A server that does not know CLIENT_CAP_SUPPORT_V2 may refuse it as an
     * invalid parameter rather than ignore it: ask again in v1. Access and
     * transport errors are final. */
    if (err < 0 && !f->tried_v1 && err != -EACCES && err != -ETIMEDOUT && err != -ECONNRESET &&
        err != -EPIPE && err != -ENOMEM) {
        f->tried_v1 = true;
        int e2 = send_enum(f, false);
        if (e2 == 0)
            return;
    }
    fetch_done(f, err, err < 0 ? NULL : cat);
}

static int send_enum(struct fetch *f, bool v2)
{
    struct wdsmc_wdsc_img_enum_req req = {
            .version = 1, .has_cc = v2, .cc = v2 ? WDSMC_CLIENT_CAP_SUPPORT_V2 : 0};
    uint8_t *pkt;
    size_t len;
    int err = wdsmc_wdsc_img_enum_req_build(&req, &pkt, &len);
    if (err < 0)
        return err;
    err = wdsmc_rpcnet_client_call(f->rpc, pkt, len, on_reply, f);
    free(pkt);
    return err;
}

static void on_connect(void *ctx, int err)
{
    struct fetch *f = ctx;
    if (err == 0)
        err = send_enum(f, true);
    if (err < 0)
        fetch_done(f, err, NULL);
}

int wdsmc_catalog_fetch(uv_loop_t *loop, const struct wdsmc_catalog_request *req,
                        wdsmc_catalog_cb cb, void *ctx)
{
    if (!loop || !req || !req->server || !cb || req->auth > WDSMC_AUTH_SPNEGO)
        return -EINVAL;
    unsigned timeout = req->timeout ? req->timeout : DEFAULT_TIMEOUT;
    struct wdsmc_rpcnet_client_cfg cfg = {
            .host = req->server,
            .port = req->rpc_port,
            .auth = req->auth == WDSMC_AUTH_SPNEGO ? WDSMC_RPCNET_AUTH_SPNEGO
                                                   : WDSMC_RPCNET_AUTH_NTLM,
            .cred =
                    {
                            .user = req->anonymous || !req->user ? "" : req->user,
                            .domain = req->anonymous || !req->domain ? "" : req->domain,
                            .password = req->anonymous ? NULL : req->password,
                            .nt_hash = req->anonymous ? NULL : req->nt_hash,
                    },
            .connect_timeout_ms = timeout,
            .call_timeout_ms = timeout,
    };
    struct fetch *f = calloc(1, sizeof(*f));
    int err;

    if (!f)
        return -ENOMEM;
    f->cb = cb;
    f->ctx = ctx;
    if ((err = wdsmc_rpcnet_client_new(loop, &cfg, &f->rpc)) < 0) {
        free(f);
        return err;
    }
    if ((err = wdsmc_rpcnet_client_connect(f->rpc, on_connect, f)) < 0) {
        wdsmc_rpcnet_client_close(f->rpc);
        free(f);
        return err;
    }
    return 0;
}

struct sync {
    bool done;
    int err;
    struct wdsmc_catalog *cat;
};

static void sync_cb(void *ctx, int err, struct wdsmc_catalog *cat)
{
    struct sync *s = ctx;
    s->done = true;
    s->err = err;
    s->cat = cat;
}

int wdsmc_catalog_get(uv_loop_t *loop, const struct wdsmc_catalog_request *req,
                      struct wdsmc_catalog **ret)
{
    struct sync s = {0};
    int err = wdsmc_catalog_fetch(loop, req, sync_cb, &s);
    if (err < 0)
        return err;
    while (!s.done)
        uv_run(loop, UV_RUN_ONCE);
    /* Let the connection's close callbacks run. */
    uv_run(loop, UV_RUN_NOWAIT);
    if (s.err < 0)
        return s.err;
    *ret = s.cat;
    return 0;
}
