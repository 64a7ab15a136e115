/* SPDX-License-Identifier: MIT */
/*
 * Server side of the simulation: one MS-WDSMT server wired to one MS-WDSMA
 * server exactly as ma_server.h prescribes, serving a content held in memory.
 * Clients appear to it only as endpoints 10.0.x.y:port.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ma_server.h"
#include "mt_server.h"
#include "sim.h"
#include "../unit/mtsec_vectors.h"
#include "wdsmc/error.h"

#define SIM_CLIENT_PORT_BASE 40000

struct sim_server {
    struct wdsmc_mt_server *mt;
    struct wdsmc_ma_server *ma;
    struct sim_server_ops ops;
    const uint8_t *content;
    uint64_t content_size;
    int terminated;
    int term_err;
    uint64_t joined, left;
    uint64_t rx_malformed;
};

/* Client index <-> endpoint: 10.0.(i / 250).(i % 250 + 1):(40000 + i). */
static void client_ep(uint32_t i, struct wdsmc_endpoint *ep)
{
    memset(ep, 0, sizeof(*ep));
    ep->ip.len = 4;
    ep->ip.bytes[0] = 10;
    ep->ip.bytes[1] = 0;
    ep->ip.bytes[2] = (uint8_t)(i / 250);
    ep->ip.bytes[3] = (uint8_t)(i % 250 + 1);
    ep->port = (uint16_t)(SIM_CLIENT_PORT_BASE + i);
}

static bool ep_client(const struct wdsmc_endpoint *ep, uint32_t *ret)
{
    uint32_t i;

    if (ep->ip.len != 4 || ep->ip.bytes[0] != 10 || ep->ip.bytes[1] != 0 || ep->ip.bytes[3] == 0 ||
        ep->ip.bytes[3] > 250)
        return false;
    i = (uint32_t)ep->ip.bytes[2] * 250 + ep->ip.bytes[3] - 1;
    if (ep->port != SIM_CLIENT_PORT_BASE + i)
        return false;
    *ret = i;
    return true;
}

/* MS-WDSMT server -> network and MS-WDSMA server */

static void mt_send_mcast(void *ctx, const uint8_t *buf, size_t len)
{
    struct sim_server *s = ctx;

    s->ops.mcast(s->ops.ctx, buf, len);
}

static void mt_send_ucast(void *ctx, const struct wdsmc_endpoint *to, const uint8_t *buf,
                          size_t len)
{
    struct sim_server *s = ctx;
    uint32_t i;

    if (ep_client(to, &i))
        s->ops.ucast(s->ops.ctx, i, buf, len);
}

static bool mt_pull_data(void *ctx, uint64_t *token)
{
    struct sim_server *s = ctx;

    return wdsmc_ma_server_pull_data(s->ma, token);
}

static ssize_t mt_fill_data(void *ctx, uint64_t token, uint8_t *buf, size_t cap)
{
    struct sim_server *s = ctx;

    return wdsmc_ma_server_fill_data(s->ma, token, buf, cap);
}

static void mt_pollack(void *ctx, uint32_t client_id, const uint8_t *app, size_t len, uint64_t now)
{
    struct sim_server *s = ctx;

    wdsmc_ma_server_pollack(s->ma, client_id, app, len, now);
}

static void mt_status(void *ctx, uint32_t client_id, const uint8_t *app, size_t len, uint64_t now)
{
    struct sim_server *s = ctx;

    wdsmc_ma_server_status(s->ma, client_id, app, len, now);
}

static void mt_data_empty(void *ctx, uint64_t now)
{
    struct sim_server *s = ctx;

    wdsmc_ma_server_data_empty(s->ma, now);
}

static void mt_client_joined(void *ctx, uint32_t client_id, int reason)
{
    struct sim_server *s = ctx;

    (void)client_id;
    (void)reason;
    s->joined++;
}

static void mt_client_left(void *ctx, uint32_t client_id, int reason)
{
    struct sim_server *s = ctx;

    (void)client_id;
    (void)reason;
    s->left++;
}

static void mt_terminated(void *ctx, int err)
{
    struct sim_server *s = ctx;

    s->terminated = 1;
    s->term_err = err;
    wdsmc_ma_server_terminate(s->ma, err);
}

/* MS-WDSMA server -> MS-WDSMT server and content */

static int ma_poll(void *ctx, const uint8_t *app, size_t len, uint64_t now)
{
    struct sim_server *s = ctx;

    return wdsmc_mt_server_poll(s->mt, app, len, now);
}

static ssize_t ma_read(void *ctx, uint64_t offset, uint8_t *buf, size_t len)
{
    struct sim_server *s = ctx;

    if (offset > s->content_size || len > s->content_size - offset)
        return -EIO;
    memcpy(buf, s->content + offset, len);
    return (ssize_t)len;
}

static void ma_data_ready(void *ctx, uint64_t now)
{
    struct sim_server *s = ctx;

    wdsmc_mt_server_data_ready(s->mt, now);
}

static void ma_progress(void *ctx, uint32_t client_id, uint8_t progress, uint32_t time_in_session,
                        uint64_t now)
{
    struct sim_server *s = ctx;

    (void)now;
    wdsmc_mt_server_set_progress(s->mt, client_id, progress, time_in_session);
}

int sim_server_new(const struct sim_server_cfg *cfg, const struct sim_server_ops *ops, uint64_t now,
                   struct sim_server **ret)
{
    struct sim_server *s = calloc(1, sizeof(*s));
    struct wdsmc_mt_server_config mcfg;
    int err;

    if (!s)
        return -ENOMEM;
    s->ops = *ops;
    s->content = cfg->content;
    s->content_size = cfg->content_size;

    struct wdsmc_ma_server_config acfg = {
            .content_size = cfg->content_size,
            .block_size = cfg->block_size,
    };
    struct wdsmc_ma_server_callbacks acb = {
            .ctx = s,
            .poll = ma_poll,
            .read = ma_read,
            .data_ready = ma_data_ready,
            .progress = ma_progress,
    };
    if ((err = wdsmc_ma_server_new(&acfg, &acb, &s->ma)) < 0)
        goto fail;

    wdsmc_mt_server_config_default(&mcfg, cfg->session_id, cfg->seed);
    if (cfg->tuning.client_dead_timeout)
        mcfg.params.client_dead_timeout = cfg->tuning.client_dead_timeout;
    if (cfg->tuning.qcc_interval)
        mcfg.params.qcc_interval = cfg->tuning.qcc_interval;
    if (cfg->tuning.max_window_size)
        mcfg.params.max_window_size = cfg->tuning.max_window_size;
    if (cfg->tuning.exp_max_window_size)
        mcfg.params.exp_max_window_size = cfg->tuning.exp_max_window_size;
    static const struct wdsmc_mt_keys keys = {
            .sym_key = symkey_41,
            .sym_key_len = sizeof(symkey_41),
            .sign_priv = test_priv_blob,
            .sign_priv_len = sizeof(test_priv_blob),
            .hash_alg = WDSMC_CALG_SHA_256,
            .hmac_alg = WDSMC_CALG_HMAC,
    };
    if (cfg->security) {
        mcfg.server_sec = cfg->security;
        mcfg.client_sec = WDSMC_SEC_HASH;
        mcfg.keys = &keys;
    }
    struct wdsmc_mt_server_callbacks mcb = {
            .ctx = s,
            .send_mcast = mt_send_mcast,
            .send_ucast = mt_send_ucast,
            .pull_data = mt_pull_data,
            .fill_data = mt_fill_data,
            .pollack = mt_pollack,
            .status = mt_status,
            .data_empty = mt_data_empty,
            .client_joined = mt_client_joined,
            .client_left = mt_client_left,
            .terminated = mt_terminated,
    };
    if ((err = wdsmc_mt_server_new(&mcfg, &mcb, now, &s->mt)) < 0)
        goto fail;
    *ret = s;
    return 0;
fail:
    sim_server_free(s);
    return err;
}

void sim_server_free(struct sim_server *s)
{
    if (!s)
        return;
    wdsmc_mt_server_free(s->mt);
    wdsmc_ma_server_free(s->ma);
    free(s);
}

int sim_server_handle(struct sim_server *s, uint32_t client, const uint8_t *buf, size_t len,
                      uint64_t now)
{
    struct wdsmc_endpoint from;

    client_ep(client, &from);
    int r = wdsmc_mt_server_handle(s->mt, buf, len, &from, now);
    /* Links lose, duplicate and reorder but never corrupt: a codec error
     * means a client encoded something the server cannot read. */
    if (r <= -WDSMC_EBASE)
        s->rx_malformed++;
    return r;
}

void sim_server_timeout(struct sim_server *s, uint64_t now)
{
    wdsmc_mt_server_timeout(s->mt, now);
    wdsmc_ma_server_timeout(s->ma, now);
}

uint64_t sim_server_deadline(const struct sim_server *s)
{
    uint64_t a = wdsmc_mt_server_deadline(s->mt);
    uint64_t b = wdsmc_ma_server_deadline(s->ma);

    return a < b ? a : b;
}

void sim_server_info(const struct sim_server *s, struct sim_server_info *ret)
{
    struct wdsmc_mt_server_stats st;
    struct wdsmc_ma_server_stats ma;

    wdsmc_mt_server_get_stats(s->mt, &st);
    wdsmc_ma_server_get_stats(s->ma, &ma);
    memset(ret, 0, sizeof(*ret));
    ret->state = wdsmc_mt_server_state_name(st.state);
    ret->terminated = s->terminated;
    ret->term_err = s->term_err;
    ret->odata = st.odata_packets;
    ret->rdata = st.rdata_packets;
    ret->spm = st.spm_packets;
    ret->ncf = st.ncf_packets;
    ret->qcc = st.qcc_packets;
    ret->poll = st.poll_packets;
    ret->rx_ok = st.rx_packets;
    ret->rx_dropped = st.rx_dropped;
    ret->rx_malformed = s->rx_malformed;
    ret->master_switches = st.master_switches;
    ret->master_id = st.master_id;
    ret->window = st.window;
    ret->clients_active = st.clients_active;
    ret->clients_pending = st.clients_pending;
    ret->joined = s->joined;
    ret->left = s->left;
    ret->ma_rounds = ma.rounds;
    ret->ma_data_rounds = ma.data_rounds;
    ret->ma_bad_payloads = ma.bad_payloads;
    ret->ma_reports_dropped = ma.reports_dropped;
}

bool sim_server_knows(const struct sim_server *s, uint32_t client_id)
{
    size_t n = wdsmc_mt_server_get_clients(s->mt, NULL, 0);
    struct wdsmc_mt_client_info *info = calloc(n ? n : 1, sizeof(*info));
    bool found = false;

    if (!info)
        abort();
    n = wdsmc_mt_server_get_clients(s->mt, info, n);
    for (size_t i = 0; i < n; i++)
        found |= info[i].id == client_id;
    free(info);
    return found;
}
