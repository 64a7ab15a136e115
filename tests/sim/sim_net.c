/* SPDX-License-Identifier: MIT */
/*
 * The network core of the simulation: a virtual clock, one event queue (a
 * binary heap ordered by time, then by insertion) holding datagram
 * deliveries, node timers and client starts, and a link model per client.
 *
 * Every random choice (loss, duplication, reordering, every machine's seed,
 * the content) comes from one PRNG seeded by the run's seed, and events at
 * the same instant are processed in insertion order, so a seed replays a run
 * exactly.
 *
 * Node timers use lazy deletion: after every call into a node its deadline is
 * read again, and when it changed a timer event tagged with the new deadline
 * is queued; a popped timer event whose tag is no longer the node's armed
 * deadline is stale and skipped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "wdsmc/codec.h"

/* Events allowed at one virtual instant before the run is declared a
 * livelock (a deadline in the past that timeout() never clears). */
#define SIM_MAX_EVENTS_PER_INSTANT 2000000

uint64_t sim_rng_next(struct sim_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

double sim_rng_unit(struct sim_rng *r)
{
    return (double)(sim_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

uint64_t sim_rng_between(struct sim_rng *r, uint64_t lo, uint64_t hi)
{
    if (hi <= lo)
        return lo;
    return lo + sim_rng_next(r) % (hi - lo + 1);
}

/* ------------------------------------------------------------------------ */
/* Events                                                                    */
/* ------------------------------------------------------------------------ */

/* One datagram, shared by every delivery of it. */
struct pbuf {
    uint32_t refs;
    uint32_t len;
    uint8_t data[];
};

enum ev_kind {
    EV_DOWN,         /* datagram to client `node` */
    EV_UP,           /* datagram from client `node` to the server */
    EV_TIMER_SERVER, /* tag: the deadline it was armed for */
    EV_TIMER_CLIENT,
    EV_START, /* client `node` starts */
};

struct ev {
    uint64_t t, seq, tag;
    struct pbuf *p;
    uint32_t node;
    uint8_t kind;
};

struct sim {
    const struct sim_config *cfg;
    struct sim_result *res;
    /* MS-WDSMT datagrams sent, and those whose SecurityHeaderType was not
     * the one the session's mode asks for (--security): a run in HASH or
     * SIGN must carry HASH or SIGN, not fall back to CHECKSUM unseen. */
    uint64_t sec_checked, sec_wrong;
    uint8_t sec_wrong_type;
    struct sim_rng rng;
    uint64_t now;
    uint64_t instant_events;

    struct ev *heap;
    size_t n, cap;
    uint64_t seq;

    uint8_t *content;
    struct sim_server *srv;
    uint64_t srv_armed;
    struct sim_client *cli[SIM_MAX_CLIENTS];
    uint64_t cli_armed[SIM_MAX_CLIENTS];
    bool start_queued[SIM_MAX_CLIENTS];
    bool odata_starts; /* some client starts after N ODATA */
    bool counted[SIM_MAX_CLIENTS];
    uint64_t dead_at[SIM_MAX_CLIENTS]; /* relative; 0: never */
    bool expect[SIM_MAX_CLIENTS];      /* must complete */
    bool killed;                       /* kill_master_after_odata has struck */
    uint32_t expected_left, others_left;
    bool failed;
};

static bool ev_before(const struct ev *a, const struct ev *b)
{
    return a->t != b->t ? a->t < b->t : a->seq < b->seq;
}

static void push(struct sim *sim, uint64_t t, uint8_t kind, uint32_t node, struct pbuf *p,
                 uint64_t tag)
{
    size_t i;

    if (sim->n == sim->cap) {
        size_t cap = sim->cap ? 2 * sim->cap : 1024;
        struct ev *h = realloc(sim->heap, cap * sizeof(*h));

        if (!h)
            abort();
        sim->heap = h;
        sim->cap = cap;
    }
    if (p)
        p->refs++;
    i = sim->n++;
    sim->heap[i] =
            (struct ev){.t = t, .seq = sim->seq++, .tag = tag, .p = p, .node = node, .kind = kind};
    while (i > 0 && ev_before(&sim->heap[i], &sim->heap[(i - 1) / 2])) {
        struct ev tmp = sim->heap[i];

        sim->heap[i] = sim->heap[(i - 1) / 2];
        sim->heap[(i - 1) / 2] = tmp;
        i = (i - 1) / 2;
    }
}

static struct ev pop(struct sim *sim)
{
    struct ev top = sim->heap[0];
    size_t i = 0;

    sim->heap[0] = sim->heap[--sim->n];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;

        if (l < sim->n && ev_before(&sim->heap[l], &sim->heap[m]))
            m = l;
        if (r < sim->n && ev_before(&sim->heap[r], &sim->heap[m]))
            m = r;
        if (m == i)
            break;
        struct ev tmp = sim->heap[i];
        sim->heap[i] = sim->heap[m];
        sim->heap[m] = tmp;
        i = m;
    }
    return top;
}

static void pbuf_put(struct pbuf *p)
{
    if (p && --p->refs == 0)
        free(p);
}

static struct pbuf *pbuf_new(const uint8_t *buf, size_t len)
{
    struct pbuf *p = malloc(sizeof(*p) + len);

    if (!p)
        abort();
    p->refs = 1; /* the sender's, dropped once every copy is queued */
    p->len = (uint32_t)len;
    memcpy(p->data, buf, len);
    return p;
}

static void fail(struct sim *sim, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct sim *sim, const char *fmt, ...)
{
    char *why = sim->res->why;
    size_t len = strlen(why);
    va_list ap;

    /* Every reason is kept, "; "-separated, as far as the buffer goes. */
    sim->failed = true;
    sim->res->failures++;
    if (len && len + 2 < sizeof(sim->res->why)) {
        memcpy(why + len, "; ", 3);
        len += 2;
    }
    if (len + 1 >= sizeof(sim->res->why))
        return;
    va_start(ap, fmt);
    vsnprintf(why + len, sizeof(sim->res->why) - len, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------------ */
/* Links                                                                     */
/* ------------------------------------------------------------------------ */

/* Whether client c's link is cut for good (its configured death, or the
 * master killed by kill_master_after_odata). */
static bool link_dead(const struct sim *sim, uint32_t c)
{
    return sim->dead_at[c] && sim->now - SIM_T0 >= sim->dead_at[c];
}

static bool link_down(const struct sim *sim, uint32_t c, bool up)
{
    const struct sim_link *l = &sim->cfg->clients[c].link;
    uint64_t rel = sim->now - SIM_T0;

    if (link_dead(sim, c))
        return true;
    if (l->outage_up_only && !up)
        return false;
    return rel >= l->outage_from && rel < l->outage_to;
}

/* --trace: one line per datagram on the traced client's link. */
static void trace(struct sim *sim, uint32_t c, const char *what, bool up, const struct pbuf *p)
{
    struct wdsmc_mt_pkt pkt;
    const char *op = "?";
    uint64_t seq = 0;

    if (!sim->cfg->trace || sim->cfg->trace - 1 != c)
        return;
    /* HASH and SIGN packets are parsed whole before the keyless decoder
     * refuses them, which is enough to name them. */
    ssize_t r = wdsmc_mt_decode(p->data, p->len, &pkt);
    if (r >= 0 || r == -WDSMC_ESECUNSUPP) {
        op = wdsmc_mt_op_name(pkt.opcode);
        if (pkt.opcode == WDSMC_MT_ODATA || pkt.opcode == WDSMC_MT_RDATA)
            seq = pkt.u.data.seq;
        else if (pkt.opcode == WDSMC_MT_ACK)
            seq = pkt.u.ack.odata_seq;
        else if (pkt.opcode == WDSMC_MT_QCC)
            seq = pkt.u.qcc.qcc_seq;
        else if (pkt.opcode == WDSMC_MT_QCR)
            seq = pkt.u.qcr.qcc_seq;
        else if (pkt.opcode == WDSMC_MT_POLL)
            seq = pkt.u.poll.poll_seq;
        else if (pkt.opcode == WDSMC_MT_POLLACK)
            seq = pkt.u.pollack.poll_seq;
        else if (pkt.opcode == WDSMC_MT_SPM)
            seq = pkt.u.spm.lead_seq;
    }
    printf("sim: t=%" PRIu64 " client %u %s %s %s seq=%" PRIu64 " len=%u\n", sim->now - SIM_T0, c,
           up ? "->" : "<-", op, what, seq, p->len);
}

/* Queue the deliveries of one datagram over client `c`'s link. */
/* The SecurityHeaderType a datagram of this run must carry: the server's
 * mode downstream, HASH upstream in a secured run (sim_server.c,
 * sim_client.c), CHECKSUM otherwise. */
static void check_security(struct sim *sim, bool up, const struct pbuf *p)
{
    uint8_t want =
            sim->cfg->security ? (up ? WDSMC_SEC_HASH : sim->cfg->security) : WDSMC_SEC_CHECKSUM;

    if (p->len < 3 || p->data[0] != 'W' || p->data[1] != 'D')
        return;
    sim->sec_checked++;
    if (p->data[2] != want) {
        sim->sec_wrong++;
        sim->sec_wrong_type = p->data[2];
    }
}

static void link_send(struct sim *sim, uint32_t c, bool up, struct pbuf *p)
{
    const struct sim_link *l = &sim->cfg->clients[c].link;
    double loss = up ? l->loss_up : l->loss_down;
    int copies = 1;

    check_security(sim, up, p);
    sim->res->datagrams_sent++;
    if (link_down(sim, c, up)) {
        sim->res->datagrams_lost++;
        trace(sim, c, "cut", up, p);
        return;
    }
    if (l->dup > 0 && sim_rng_unit(&sim->rng) < l->dup)
        copies = 2;
    for (int i = 0; i < copies; i++) {
        uint64_t delay = l->latency_ms;

        if (loss > 0 && sim_rng_unit(&sim->rng) < loss) {
            sim->res->datagrams_lost++;
            trace(sim, c, "lost", up, p);
            continue;
        }
        if (l->reorder > 0 && sim_rng_unit(&sim->rng) < l->reorder)
            delay += sim_rng_between(&sim->rng, 0, l->reorder_ms);
        push(sim, sim->now + delay, up ? EV_UP : EV_DOWN, c, p, 0);
    }
}

static void net_mcast(void *ctx, const uint8_t *buf, size_t len)
{
    struct sim *sim = ctx;
    struct pbuf *p = pbuf_new(buf, len);

    for (uint32_t i = 0; i < sim->cfg->nclients; i++) {
        if (sim_client_listening(sim->cli[i]))
            link_send(sim, i, false, p);
    }
    pbuf_put(p);
}

static void net_ucast(void *ctx, uint32_t client, const uint8_t *buf, size_t len)
{
    struct sim *sim = ctx;
    struct pbuf *p;

    if (client >= sim->cfg->nclients)
        return;
    p = pbuf_new(buf, len);
    link_send(sim, client, false, p);
    pbuf_put(p);
}

static void net_up(void *ctx, uint32_t client, const uint8_t *buf, size_t len)
{
    struct sim *sim = ctx;
    struct pbuf *p = pbuf_new(buf, len);

    link_send(sim, client, true, p);
    pbuf_put(p);
}

/* ------------------------------------------------------------------------ */
/* Nodes                                                                     */
/* ------------------------------------------------------------------------ */

static void rearm_server(struct sim *sim)
{
    uint64_t d = sim_server_deadline(sim->srv);

    if (d == sim->srv_armed)
        return;
    sim->srv_armed = d;
    if (d != SIM_NEVER)
        push(sim, d > sim->now ? d : sim->now, EV_TIMER_SERVER, 0, NULL, d);
}

static void rearm_client(struct sim *sim, uint32_t i)
{
    uint64_t d = sim_client_deadline(sim->cli[i]);

    if (d == sim->cli_armed[i])
        return;
    sim->cli_armed[i] = d;
    if (d != SIM_NEVER)
        push(sim, d > sim->now ? d : sim->now, EV_TIMER_CLIENT, i, NULL, d);
}

/* kill_master_after_odata: cut the master's links for good, mid-transfer. */
static void check_kill_master(struct sim *sim, const struct sim_server_info *si)
{
    if (sim->killed || si->odata < sim->cfg->kill_master_after_odata || !si->master_id)
        return;
    for (uint32_t i = 0; i < sim->cfg->nclients; i++) {
        struct sim_client_info ci;

        sim_client_info(sim->cli[i], &ci);
        if (ci.client_id != si->master_id || ci.done)
            continue;
        sim->killed = true;
        sim->res->killed = (int32_t)i;
        sim->dead_at[i] = sim->now - SIM_T0 ? sim->now - SIM_T0 : 1;
        if (sim->expect[i]) {
            sim->expect[i] = false;
            sim->expected_left--;
            sim->others_left++;
        }
        return;
    }
}

/* Late joiners that wait for the server to have sent N ODATA, and the
 * master's death. */
static void check_odata_starts(struct sim *sim)
{
    struct sim_server_info si;
    bool pending = false;

    if (!sim->odata_starts && (sim->killed || !sim->cfg->kill_master_after_odata))
        return;
    sim_server_info(sim->srv, &si);
    check_kill_master(sim, &si);
    if (!sim->odata_starts)
        return;
    for (uint32_t i = 0; i < sim->cfg->nclients; i++) {
        const struct sim_client_spec *cs = &sim->cfg->clients[i];

        if (!cs->start_after_odata || sim->start_queued[i])
            continue;
        if (si.odata >= cs->start_after_odata) {
            sim->start_queued[i] = true;
            push(sim, sim->now, EV_START, i, NULL, 0);
        } else {
            pending = true;
        }
    }
    sim->odata_starts = pending;
}

static void after_client(struct sim *sim, uint32_t i);

static void after_server(struct sim *sim)
{
    rearm_server(sim);
    check_odata_starts(sim);
}

static void dispatch(struct sim *sim, const struct ev *e)
{
    int r;

    switch (e->kind) {
    case EV_DOWN:
        /* A link that died drops what was already in flight, too. */
        if (link_dead(sim, e->node)) {
            sim->res->datagrams_lost++;
            break;
        }
        if (!sim_client_listening(sim->cli[e->node]))
            break;
        sim->res->datagrams_delivered++;
        trace(sim, e->node, "recv", false, e->p);
        r = sim_client_handle(sim->cli[e->node], e->p->data, e->p->len, sim->now);
        if (r < 0)
            fail(sim, "client %u refused a server datagram: %d", e->node, r);
        after_client(sim, e->node);
        break;
    case EV_UP:
        if (link_dead(sim, e->node)) {
            sim->res->datagrams_lost++;
            break;
        }
        sim->res->datagrams_delivered++;
        r = sim_server_handle(sim->srv, e->node, e->p->data, e->p->len, sim->now);
        if (sim->cfg->trace && sim->cfg->trace - 1 == e->node)
            printf("sim: t=%" PRIu64 " server took it from client %u: %d\n", sim->now - SIM_T0,
                   e->node, r);
        after_server(sim);
        break;
    case EV_TIMER_SERVER:
        if (e->tag != sim->srv_armed)
            break;
        sim->srv_armed = SIM_NEVER;
        sim_server_timeout(sim->srv, sim->now);
        after_server(sim);
        break;
    case EV_TIMER_CLIENT:
        if (e->tag != sim->cli_armed[e->node])
            break;
        sim->cli_armed[e->node] = SIM_NEVER;
        sim_client_timeout(sim->cli[e->node], sim->now);
        after_client(sim, e->node);
        break;
    case EV_START:
        r = sim_client_start(sim->cli[e->node], sim->now);
        if (r < 0)
            fail(sim, "client %u failed to start: %d", e->node, r);
        after_client(sim, e->node);
        break;
    }
}

/* Called after every call into client i: count it out once it is done. */
static void after_client(struct sim *sim, uint32_t i)
{
    rearm_client(sim, i);
    if (!sim->counted[i] && sim_client_done(sim->cli[i])) {
        sim->counted[i] = true;
        if (sim->expect[i])
            sim->expected_left--;
        else
            sim->others_left--;
    }
}

/* Whether every client that must finish has, and every other one is done or
 * cut off for good. */
static bool all_finished(struct sim *sim)
{
    if (sim->expected_left)
        return false;
    if (!sim->others_left)
        return true;
    for (uint32_t i = 0; i < sim->cfg->nclients; i++) {
        if (sim->counted[i])
            continue;
        if (link_dead(sim, i))
            continue;
        return false;
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* A run                                                                     */
/* ------------------------------------------------------------------------ */

static void verbose_dump(struct sim *sim)
{
    struct sim_server_info si;

    sim_server_info(sim->srv, &si);
    fprintf(stdout,
            "sim:   server state=%s master=%u window=%u active=%u pending=%u joined=%" PRIu64
            " left=%" PRIu64 " odata=%" PRIu64 " rdata=%" PRIu64 " spm=%" PRIu64 " ncf=%" PRIu64
            " qcc=%" PRIu64 " poll=%" PRIu64 " rx_ok=%" PRIu64 " rx_dropped=%" PRIu64
            " ma_rounds=%" PRIu64 " data_rounds=%" PRIu64 " switches=%" PRIu64 "\n",
            si.state, si.master_id, si.window, si.clients_active, si.clients_pending, si.joined,
            si.left, si.odata, si.rdata, si.spm, si.ncf, si.qcc, si.poll, si.rx_ok, si.rx_dropped,
            si.ma_rounds, si.ma_data_rounds, si.master_switches);
    for (uint32_t i = 0; i < sim->cfg->nclients; i++) {
        struct sim_client_info ci;

        sim_client_info(sim->cli[i], &ci);
        if (sim->cfg->verbose < 2 && ci.complete && ci.done && ci.err == 0)
            continue;
        fprintf(stdout,
                "sim:   client %u id=%u state=%s%s blocks=%" PRIu64 "/%" PRIu64
                " complete_at=%" PRId64 " err=%d odata=%" PRIu64 " rdata=%" PRIu64 " nacks=%" PRIu64
                " zero_nacks=%" PRIu64 " acks=%" PRIu64 " dups=%" PRIu64 " held=%" PRIu64
                " loss=%.4f\n",
                i, ci.client_id, ci.state, ci.master ? " master" : "", ci.received_blocks,
                ci.total_blocks, ci.complete ? (int64_t)(ci.complete_at - SIM_T0) : (int64_t)-1,
                ci.err, ci.odata, ci.rdata, ci.nacks, ci.zero_nacks, ci.acks, ci.duplicates,
                ci.held, ci.loss_rate);
    }
}

static void check_results(struct sim *sim)
{
    const struct sim_config *cfg = sim->cfg;
    struct sim_result *res = sim->res;
    struct sim_server_info si;

    if (sim->sec_wrong)
        fail(sim, "%" PRIu64 " of %" PRIu64 " datagrams had SecurityHeaderType %u, not the run's",
             sim->sec_wrong, sim->sec_checked, sim->sec_wrong_type);
    if (!sim->sec_checked)
        fail(sim, "no MS-WDSMT datagram was sent");
    sim_server_info(sim->srv, &si);
    res->odata = si.odata;
    res->rdata = si.rdata;
    res->ma_rounds = si.ma_rounds;
    res->master_switches = si.master_switches;
    if (si.rx_malformed)
        fail(sim, "server could not decode %" PRIu64 " client datagrams", si.rx_malformed);
    if (si.ma_bad_payloads)
        fail(sim, "MS-WDSMA server got %" PRIu64 " bad payloads", si.ma_bad_payloads);
    if (si.terminated)
        fail(sim, "server terminated (%d)", si.term_err);

    for (uint32_t i = 0; i < cfg->nclients; i++) {
        struct sim_client_info ci;

        sim_client_info(sim->cli[i], &ci);
        res->complete_at[i] = ci.complete ? ci.complete_at - SIM_T0 : SIM_NEVER;
        res->done[i] = ci.done;
        res->done_err[i] = ci.err;
        res->master[i] = ci.master;
        if (ci.rx_bad)
            fail(sim, "client %u refused %" PRIu64 " datagrams", i, ci.rx_bad);
        if (!sim->expect[i])
            continue;
        if (!ci.complete) {
            bool orphan = ci.client_id && !ci.done && !sim_server_knows(sim->srv, ci.client_id);

            res->orphans += orphan;
            res->explained += orphan;
            fail(sim, "client %u incomplete: %" PRIu64 "/%" PRIu64 " blocks, state %s, err %d%s", i,
                 ci.received_blocks, ci.total_blocks, ci.state, ci.err,
                 orphan ? "; the server does not know its ClientId and never kicked it"
                          " (orphaned; see decisions 41-43)"
                        : "");
            continue;
        }
        if (ci.complete_at - SIM_T0 > cfg->time_limit)
            fail(sim, "client %u completed at %" PRIu64 " ms, over the %" PRIu64 " ms limit", i,
                 ci.complete_at - SIM_T0, cfg->time_limit);
        if (!ci.done || ci.err != 0)
            fail(sim, "client %u complete but session ended %s with %d", i, ci.done ? "" : "not",
                 ci.err);
        if (memcmp(sim_client_buffer(sim->cli[i]), sim->content, cfg->content_size) != 0)
            fail(sim, "client %u content differs from the source", i);
    }
}

bool sim_run(const struct sim_config *cfg, struct sim_result *res)
{
    struct sim sim = {.cfg = cfg, .res = res, .now = SIM_T0, .srv_armed = SIM_NEVER};
    uint64_t limit = SIM_T0 + cfg->time_limit;
    uint32_t session_id;
    int err;

    memset(res, 0, sizeof(*res));
    res->killed = -1;
    sim.rng.s = cfg->seed;
    session_id = (uint32_t)sim_rng_next(&sim.rng) | 1;

    sim.content = malloc(cfg->content_size ? cfg->content_size : 1);
    if (!sim.content)
        abort();
    for (uint64_t i = 0; i < cfg->content_size; i += 8) {
        uint64_t v = sim_rng_next(&sim.rng);

        memcpy(sim.content + i, &v, cfg->content_size - i < 8 ? cfg->content_size - i : 8);
    }

    struct sim_server_cfg scfg = {
            .session_id = session_id,
            .seed = sim_rng_next(&sim.rng),
            .content = sim.content,
            .content_size = cfg->content_size,
            .block_size = cfg->block_size,
            .tuning = cfg->tuning,
            .security = cfg->security,
    };
    struct sim_server_ops sops = {.ctx = &sim, .mcast = net_mcast, .ucast = net_ucast};
    if ((err = sim_server_new(&scfg, &sops, sim.now, &sim.srv)) < 0) {
        fail(&sim, "sim_server_new: %d", err);
        goto out;
    }
    for (uint32_t i = 0; i < cfg->nclients; i++) {
        const struct sim_client_spec *cs = &cfg->clients[i];
        struct sim_client_cfg ccfg = {
                .index = i,
                .session_id = session_id,
                .seed = sim_rng_next(&sim.rng),
                .content_size = cfg->content_size,
                .block_size = cfg->block_size,
                .max_cache = cs->max_cache,
                .drain_rate = cs->drain_rate,
                .security = cfg->security,
        };
        struct sim_client_ops cops = {.ctx = &sim, .send = net_up};

        if ((err = sim_client_new(&ccfg, &cops, &sim.cli[i])) < 0) {
            fail(&sim, "sim_client_new(%u): %d", i, err);
            goto out;
        }
        sim.cli_armed[i] = SIM_NEVER;
        sim.dead_at[i] = cs->link.dead_at;
        sim.expect[i] = cs->expect_complete;
        if (cs->expect_complete)
            sim.expected_left++;
        else
            sim.others_left++;
        if (cs->start_after_odata) {
            sim.odata_starts = true;
        } else {
            sim.start_queued[i] = true;
            push(&sim, SIM_T0 + cs->start_at, EV_START, i, NULL, 0);
        }
    }
    rearm_server(&sim);

    while (!sim.failed) {
        if (all_finished(&sim))
            break;
        if (sim.n == 0) {
            fail(&sim, "nothing left to happen at %" PRIu64 " ms", sim.now - SIM_T0);
            break;
        }
        if (sim.heap[0].t > limit) {
            res->explained++; /* the incomplete clients say why */
            fail(&sim, "time limit of %" PRIu64 " ms reached", cfg->time_limit);
            break;
        }
        struct ev e = pop(&sim);

        if (e.t > sim.now) {
            sim.now = e.t;
            sim.instant_events = 0;
        } else if (++sim.instant_events > SIM_MAX_EVENTS_PER_INSTANT) {
            fail(&sim, "livelock: over %d events at %" PRIu64 " ms", SIM_MAX_EVENTS_PER_INSTANT,
                 sim.now - SIM_T0);
        }
        res->events++;
        dispatch(&sim, &e);
        pbuf_put(e.p);
    }
    res->end_time = sim.now - SIM_T0;
    check_results(&sim);
    if (sim.failed || cfg->verbose)
        verbose_dump(&sim);

out:
    res->ok = !sim.failed;
    while (sim.n)
        pbuf_put(pop(&sim).p);
    free(sim.heap);
    for (uint32_t i = 0; i < cfg->nclients; i++)
        sim_client_free(sim.cli[i]);
    sim_server_free(sim.srv);
    free(sim.content);
    return res->ok;
}
