/* SPDX-License-Identifier: MIT */
/* The real source: a libwdsmc client session (include/wdsmc/client.h). */
#include "source.h"

#include <errno.h>
#include <stdlib.h>

#include "wdsmc/client.h"

struct wdsmc_source {
    struct wdsfs_source base;
    struct wdsmc_client *client;
    struct wdsfs_source_callbacks cbs;
};

static void on_start(void *ctx, uint64_t content_size, uint32_t block_size)
{
    struct wdsmc_source *s = ctx;
    struct wdsmc_client_status st;
    wdsmc_client_status(s->client, &st);
    if (s->cbs.start)
        s->cbs.start(s->cbs.ctx, content_size, block_size, st.session_id);
}

static void on_receive(void *ctx, const void *buf, size_t len, uint64_t offset)
{
    struct wdsmc_source *s = ctx;
    s->cbs.receive(s->cbs.ctx, buf, len, offset);
}

static void on_complete(void *ctx, int err)
{
    struct wdsmc_source *s = ctx;
    if (s->cbs.complete)
        s->cbs.complete(s->cbs.ctx, err);
}

static int src_create(uv_loop_t *loop, const struct wdsfs_source_config *cfg, const char *ns,
                      const char *content, const struct wdsfs_source_callbacks *cbs,
                      struct wdsfs_source **ret)
{
    struct wdsmc_source *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->cbs = *cbs;
    struct wdsmc_client_request req = {
            .server = cfg->server,
            .port = cfg->port,
            .ns = ns,
            .content = content,
            .cache_size = cfg->cache_size,
            .interface = cfg->interface,
            .inactivity_timeout = cfg->timeout_ms,
            .initiation = (enum wdsmc_initiation)cfg->initiation,
            .rpc_port = cfg->rpc_port,
            .user = cfg->user,
            .domain = cfg->domain,
            .password = cfg->password,
            .anonymous = cfg->anonymous,
            .auth = (enum wdsmc_auth)cfg->auth,
    };
    struct wdsmc_client_callbacks ccbs = {
            .ctx = s,
            .start = on_start,
            .receive = on_receive,
            .complete = on_complete,
    };
    int r = wdsmc_client_new(loop, &req, &ccbs, &s->client);
    if (r < 0) {
        free(s);
        return r;
    }
    s->base.ops = wdsfs_source_wdsmc_ops;
    *ret = &s->base;
    return 0;
}

static int src_start(struct wdsfs_source *base)
{
    return wdsmc_client_start(((struct wdsmc_source *)base)->client);
}

static int src_preset(struct wdsfs_source *base, const uint8_t *bitmap, uint64_t nbits)
{
    return wdsmc_client_preset(((struct wdsmc_source *)base)->client, bitmap, nbits);
}

static void src_set_window(struct wdsfs_source *base, uint64_t first, uint64_t count)
{
    wdsmc_client_set_window(((struct wdsmc_source *)base)->client, first, count);
}

static void src_complete_receive(struct wdsfs_source *base, size_t bytes)
{
    wdsmc_client_complete_receive(((struct wdsmc_source *)base)->client, bytes);
}

static void src_cancel(struct wdsfs_source *base)
{
    wdsmc_client_cancel(((struct wdsmc_source *)base)->client);
}

static void src_close(struct wdsfs_source *base)
{
    struct wdsmc_source *s = (struct wdsmc_source *)base;
    wdsmc_client_close(s->client);
    free(s);
}

static const struct wdsfs_source_ops ops = {
        .name = "wdsmc",
        .create = src_create,
        .start = src_start,
        .preset = src_preset,
        .set_window = src_set_window,
        .complete_receive = src_complete_receive,
        .cancel = src_cancel,
        .close = src_close,
};

const struct wdsfs_source_ops *const wdsfs_source_wdsmc_ops = &ops;
