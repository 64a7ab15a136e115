/* SPDX-License-Identifier: MIT */
/*
 * Client side of the simulation: one MS-WDSMT client wired to one MS-WDSMA
 * client as transport/client.c wires them (data/qcc/poll callbacks to the
 * MS-WDSMA client, its completion to LEAVE(COMPLETE)), with an application
 * that copies every block into its own buffer. A slow consumer holds the
 * bytes of each block and completes them at drain_rate bytes per ms, so its
 * MS-WDSMT cache fills and it zero-NACKs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ma_client.h"
#include "mt_client.h"
#include "sim.h"
#include "../unit/mtsec_vectors.h"

/* How often a slow consumer hands bytes back (virtual ms). */
#define SIM_DRAIN_TICK 10

struct sim_client {
    struct wdsmc_mt_client *mt;
    struct wdsmc_ma_client *ma;
    struct wdsmc_ma_client_cfg acfg;
    struct sim_client_ops ops;
    uint32_t index;
    uint8_t *buf;
    uint64_t now; /* of the call being processed: MS-WDSMA callbacks get none */

    bool started;
    bool complete;
    uint64_t complete_at;
    bool done;
    int err;
    uint64_t done_at;

    /* Slow consumer */
    uint32_t drain_rate;
    uint64_t held;
    uint64_t drain_at;
    uint64_t rx_bad;
};

/* MS-WDSMT client -> network, MS-WDSMA client, completion */

static void mt_send(void *ctx, const uint8_t *buf, size_t len)
{
    struct sim_client *c = ctx;

    c->ops.send(c->ops.ctx, c->index, buf, len);
}

static size_t mt_data(void *ctx, const uint8_t *payload, size_t len)
{
    struct sim_client *c = ctx;
    ssize_t held = wdsmc_ma_client_data(c->ma, payload, len);

    return held > 0 ? (size_t)held : 0;
}

static ssize_t mt_qcc(void *ctx, uint8_t *buf, size_t cap, uint64_t now)
{
    struct sim_client *c = ctx;

    return wdsmc_ma_client_qcc(c->ma, buf, cap, now);
}

static ssize_t mt_poll(void *ctx, const uint8_t *app, size_t app_len, uint8_t *buf, size_t cap,
                       uint64_t now)
{
    struct sim_client *c = ctx;

    return wdsmc_ma_client_poll(c->ma, app, app_len, buf, cap, now);
}

static void mt_done(void *ctx, int err)
{
    struct sim_client *c = ctx;

    c->done = true;
    c->err = err;
    c->done_at = c->now;
}

/* MS-WDSMA client -> application */

static size_t ma_block(void *ctx, uint64_t block, uint64_t offset, const uint8_t *data, size_t len)
{
    struct sim_client *c = ctx;

    (void)block;
    memcpy(c->buf + offset, data, len);
    if (!c->drain_rate)
        return 0;
    /* The application keeps the bytes and completes them later. */
    if (c->held == 0)
        c->drain_at = c->now + SIM_DRAIN_TICK;
    c->held += len;
    return len;
}

static void ma_complete(void *ctx)
{
    struct sim_client *c = ctx;

    c->complete = true;
    c->complete_at = c->now;
    /* MS-WDSMA 3.2.5.1: every block is here; leave with COMPLETE. */
    wdsmc_mt_client_leave(c->mt, WDSMC_LEAVE_COMPLETE, 0, c->now);
}

int sim_client_new(const struct sim_client_cfg *cfg, const struct sim_client_ops *ops,
                   struct sim_client **ret)
{
    struct sim_client *c = calloc(1, sizeof(*c));
    char name[16];
    int err;

    if (!c)
        return -ENOMEM;
    c->ops = *ops;
    c->index = cfg->index;
    c->drain_rate = cfg->drain_rate;
    c->complete_at = c->done_at = SIM_NEVER;
    c->drain_at = SIM_NEVER;
    c->buf = calloc(1, cfg->content_size ? cfg->content_size : 1);
    if (!c->buf) {
        err = -ENOMEM;
        goto fail;
    }

    c->acfg = (struct wdsmc_ma_client_cfg){
            .content_size = cfg->content_size,
            .total_blocks = cfg->content_size / cfg->block_size +
                            (cfg->content_size % cfg->block_size != 0),
            .block_size = cfg->block_size,
            .max_cache = cfg->max_cache,
    };

    struct wdsmc_mt_session_info si = {
            .session_id = cfg->session_id,
            .mcast_addr = {.len = 4, .bytes = {239, 0, 0, 1}},
            .mcast_port = 5000,
            .server_addr = {.len = 4, .bytes = {10, 255, 0, 1}},
            .server_port = 5000,
            .server_sec = WDSMC_SEC_CHECKSUM,
            .client_sec = WDSMC_SEC_CHECKSUM,
    };
    /* What an INITIATE reply would give a client (MS-WDSMSI 2.2.1). */
    static const struct wdsmc_mt_keys keys = {
            .sym_key = symkey_41,
            .sym_key_len = sizeof(symkey_41),
            .sign_key = test_pub_blob,
            .sign_key_len = sizeof(test_pub_blob),
            .hash_alg = WDSMC_CALG_SHA_256,
            .hmac_alg = WDSMC_CALG_HMAC,
    };
    if (cfg->security) {
        si.server_sec = cfg->security;
        si.client_sec = WDSMC_SEC_HASH;
        si.keys = &keys;
    }
    snprintf(name, sizeof(name), "sim%u", cfg->index);
    struct wdsmc_mt_join_info ji = {
            .name = name,
            .local_ip = {.len = 4,
                         .bytes = {10, 0, (uint8_t)(cfg->index / 250),
                                   (uint8_t)(cfg->index % 250 + 1)}},
            .mac = {0x02, 0, 0, 0, (uint8_t)(cfg->index >> 8), (uint8_t)cfg->index},
    };
    struct wdsmc_mt_client_params p;
    wdsmc_mt_client_params_default(&p);
    p.seed = cfg->seed;
    if (cfg->max_cache)
        p.max_app_cache = cfg->max_cache;
    struct wdsmc_mt_client_cbs mcb = {
            .ctx = c,
            .send = mt_send,
            .data = mt_data,
            .qcc = mt_qcc,
            .poll = mt_poll,
            .done = mt_done,
    };
    if ((err = wdsmc_mt_client_new(&si, &ji, &p, &mcb, &c->mt)) < 0)
        goto fail;
    *ret = c;
    return 0;
fail:
    sim_client_free(c);
    return err;
}

void sim_client_free(struct sim_client *c)
{
    if (!c)
        return;
    wdsmc_mt_client_free(c->mt);
    wdsmc_ma_client_free(c->ma);
    free(c->buf);
    free(c);
}

int sim_client_start(struct sim_client *c, uint64_t now)
{
    struct wdsmc_ma_client_cbs acb = {.ctx = c, .block = ma_block, .complete = ma_complete};
    int err;

    /* MS-WDSMA JoinTime (TimeInSession, decision 15) is when the application
     * starts the session, so the MS-WDSMA client is made now. */
    if ((err = wdsmc_ma_client_new(&c->acfg, &acb, now, &c->ma)) < 0)
        return err;
    c->now = now;
    c->started = true;
    return wdsmc_mt_client_start(c->mt, now);
}

bool sim_client_done(const struct sim_client *c)
{
    return c->done;
}

bool sim_client_listening(const struct sim_client *c)
{
    return c->started && !c->done;
}

int sim_client_handle(struct sim_client *c, const uint8_t *buf, size_t len, uint64_t now)
{
    int r;

    c->now = now;
    r = wdsmc_mt_client_handle(c->mt, buf, len, now);
    if (r < 0)
        c->rx_bad++;
    return r;
}

static void drain(struct sim_client *c, uint64_t now)
{
    uint64_t n;

    if (now < c->drain_at)
        return;
    n = (uint64_t)c->drain_rate * SIM_DRAIN_TICK;
    if (n > c->held)
        n = c->held;
    c->held -= n;
    wdsmc_mt_client_cache_done(c->mt, n, now);
    c->drain_at = c->held ? now + SIM_DRAIN_TICK : SIM_NEVER;
}

void sim_client_timeout(struct sim_client *c, uint64_t now)
{
    c->now = now;
    drain(c, now);
    wdsmc_mt_client_timeout(c->mt, now);
}

uint64_t sim_client_deadline(const struct sim_client *c)
{
    uint64_t d = wdsmc_mt_client_deadline(c->mt);

    if (c->done)
        return SIM_NEVER;
    return c->drain_at < d ? c->drain_at : d;
}

void sim_client_info(const struct sim_client *c, struct sim_client_info *ret)
{
    struct wdsmc_mt_client_stats mt;
    struct wdsmc_ma_client_stats ma;
    static const char *const names[] = {"IDLE", "JOIN", "REGULAR", "LEAVING", "DONE"};

    wdsmc_mt_client_stats(c->mt, &mt);
    memset(&ma, 0, sizeof(ma));
    if (c->ma)
        wdsmc_ma_client_stats(c->ma, &ma);
    memset(ret, 0, sizeof(*ret));
    ret->state = (unsigned)mt.state < 5 ? names[mt.state] : "?";
    ret->complete = c->complete;
    ret->complete_at = c->complete_at;
    ret->done = c->done;
    ret->err = c->err;
    ret->done_at = c->done_at;
    ret->client_id = mt.client_id;
    ret->master = mt.master;
    ret->received_blocks = ma.received_blocks;
    ret->total_blocks = ma.total_blocks;
    ret->rx_bad = c->rx_bad;
    ret->odata = mt.odata;
    ret->rdata = mt.rdata;
    ret->nacks = mt.nacks;
    ret->zero_nacks = mt.zero_nacks;
    ret->acks = mt.acks;
    ret->duplicates = ma.duplicates;
    ret->held = c->held;
    ret->loss_rate = mt.loss_rate;
}

const uint8_t *sim_client_buffer(const struct sim_client *c)
{
    return c->buf;
}
