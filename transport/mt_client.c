/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mt_client.h"
#include "mtsec.h"
#include "ranges.h"

#define NEVER UINT64_MAX

/* MS-WDSMT 3.2.2 timers, plus the LEAVE delay of 3.2.5.4.3. */
enum timer {
    T_INACTIVITY,
    T_JOIN,
    T_POLL,
    T_QCC,
    T_FORCE_QCC,
    T_NACK,
    T_LEAVE,
    T_COUNT,
};

struct wdsmc_mt_client {
    struct wdsmc_mt_session_info si; /* si.keys is NULL: the keys are below */
    /* MS-WDSMT 3.2.5.2: how server packets are checked (Server Security
     * Mode) and ours protected (Client Security Mode), with their keys. */
    struct wdsmc_mtsec keys;
    struct wdsmc_mt_security rx_sec, tx_sec;
    size_t max_ranges;         /* NACK ranges that fit one datagram with tx_sec */
    struct wdsmc_mt_join join; /* JOIN body, built once */
    bool multistream;
    uint8_t sid[WDSMC_MT_MAX_SID_LEN];
    uint16_t sid_len;
    bool has_sid;
    struct wdsmc_mt_client_params p;
    struct wdsmc_mt_client_cbs cbs;

    enum wdsmc_mt_client_state state;
    int depth; /* > 0 while a callback runs */
    uint64_t timers[T_COUNT];
    uint64_t rng[4];

    /* MS-WDSMT 3.2.1.1 Multicast Session Configuration */
    uint32_t client_id;
    bool have_id;
    uint64_t last_poll_seq;
    uint8_t poll_app[WDSMC_MT_CLIENT_APP_MAX]; /* LastPOLLPacket's AppData */
    uint16_t poll_app_len;
    uint64_t last_qcc_seq;
    uint64_t qcc_server_time; /* LastQCCPacket's SenderTime */
    uint64_t qcc_recv_time;   /* QCCRecvTime */

    /* MS-WDSMT 3.2.1.3 Data Configuration */
    uint16_t min_nack, max_nack;
    double loss;
    uint64_t first_seq, hi_seq, hi_loss_seq, trail_seq, lead_seq;
    uint64_t last_spm_seq;
    uint64_t nacked_hi; /* the highest packet a NACK has listed (decision 61) */
    uint32_t master_id;
    uint16_t mcrtt;
    uint64_t last_rdata_time;
    uint64_t max_app, cur_app;
    struct wdsmc_missing missing;

    /* Leaving */
    uint8_t leave_reason;
    int leave_err;
    bool demote_pending;
    struct wdsmc_mt_session_info demote_si;

    struct wdsmc_mt_client_stats st;
    uint8_t app[WDSMC_MT_CLIENT_APP_MAX]; /* QCR/POLLACK AppData from the app */
    uint8_t out[WDSMC_MAX_DATAGRAM];      /* the packet being sent */
};

static const uint8_t cap_multistream[] = {WDSMC_MT_CAP_MULTISTREAM};

/* ------------------------------------------------------------------------ */
/* Randomness: xoshiro256** seeded through splitmix64, so a seed fixes every */
/* back-off and the simulator replays exactly.                               */
/* ------------------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct wdsmc_mt_client *c)
{
    uint64_t *s = c->rng;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [lo, hi] (the bounds are 16-bit protocol values, so the modulo
 * bias is far below anything observable); swapped bounds are tolerated. */
static uint64_t rand_between(struct wdsmc_mt_client *c, uint64_t lo, uint64_t hi)
{
    if (hi < lo) {
        uint64_t t = lo;
        lo = hi;
        hi = t;
    }
    return lo + rng_next(c) % (hi - lo + 1);
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static bool is_master(const struct wdsmc_mt_client *c)
{
    return c->have_id && c->master_id == c->client_id;
}

/* Decision 6: the loss fraction scaled by 10^16 on the wire. */
static uint64_t loss_wire(const struct wdsmc_mt_client *c)
{
    double v = c->loss * 1e16;
    if (v <= 0)
        return 0;
    if (v >= 1e16)
        return 10000000000000000u;
    return (uint64_t)v;
}

static void disarm_all(struct wdsmc_mt_client *c)
{
    for (int i = 0; i < T_COUNT; i++)
        c->timers[i] = NEVER;
}

/* Encode and hand to the send callback. The caller re-checks c->state
 * afterwards: the callback may have called wdsmc_mt_client_leave(). */
static void emit(struct wdsmc_mt_client *c, struct wdsmc_mt_pkt *pkt, uint64_t now)
{
    pkt->sec_type = c->si.client_sec;
    pkt->session_id = c->si.session_id;
    pkt->sender_time = now; /* decision 7 */
    ssize_t n = wdsmc_mt_encode_sec(pkt, &c->tx_sec, c->out, sizeof(c->out));
    /* Every packet built here is valid by construction (lengths are capped
     * and the JOIN was checked at creation), so this cannot fail. */
    if (n < 0)
        return;
    c->depth++;
    c->cbs.send(c->cbs.ctx, c->out, (size_t)n);
    c->depth--;
}

static void finish(struct wdsmc_mt_client *c, int err)
{
    disarm_all(c);
    c->state = WDSMC_MT_CLIENT_DONE;
    c->depth++;
    c->cbs.done(c->cbs.ctx, err);
    c->depth--;
}

/* MS-WDSMT 3.2.5.4.3: LEAVE after a random delay in [0, MaxNACKBackOff], or
 * [0, MaxLeaveDelay] when MaxNACKBackOff is zero. Decision 18: no LEAVE (so no
 * delay) before a ClientId is known. */
static void begin_leave(struct wdsmc_mt_client *c, uint8_t reason, int err, bool demote,
                        uint64_t now)
{
    disarm_all(c);
    c->state = WDSMC_MT_CLIENT_LEAVING;
    c->leave_reason = reason;
    c->leave_err = err;
    c->demote_pending = demote;
    uint64_t delay = 0;
    if (c->have_id)
        delay = rand_between(c, 0, c->max_nack ? c->max_nack : c->p.max_leave_delay);
    c->timers[T_LEAVE] = now + delay;
}

/* Everything of MS-WDSMT 3.2.1 back to its initial value, for a DEMOTE
 * (3.2.5.16), except what belongs to the upper layer: MaxAppCacheSize (its
 * Query Cache answer does not change) and CurrentAppCacheSize (the application
 * still holds those bytes and will report them done; zeroing the count would
 * let it overflow the cache). */
static void reset_session_state(struct wdsmc_mt_client *c)
{
    c->client_id = 0;
    c->have_id = false;
    c->last_poll_seq = 0;
    c->poll_app_len = 0;
    c->last_qcc_seq = 0;
    c->qcc_server_time = c->qcc_recv_time = 0;
    c->min_nack = c->max_nack = 0;
    c->loss = 0;
    c->first_seq = c->hi_seq = c->hi_loss_seq = 0;
    c->trail_seq = c->lead_seq = c->last_spm_seq = 0;
    c->nacked_hi = 0;
    c->master_id = 0;
    c->mcrtt = 0;
    c->last_rdata_time = 0;
    wdsmc_missing_reset(&c->missing);
}

/* ------------------------------------------------------------------------ */
/* Loss rate, MS-WDSMT 3.2.5.10                                              */
/* ------------------------------------------------------------------------ */

/*
 * The spec's formulas, read literally, measure nothing: per ODATA the loop
 * sets LossRate = (500/65536) * LossRate + (1 - 500/65536), at least 0.992,
 * and the final LossRate = (500/65536) * LossRate brings it to about 0.0076
 * whatever was lost; after an SPM it stays near 1. The constants and shape
 * are those of the PGMCC low-pass filter with 500/65536 as the weight of the
 * new sample, with the two weights swapped. We implement that filter:
 *   each sequence number skipped (never seen)  p = (1 - w) p + w
 *   each ODATA/RDATA received                  p = (1 - w) p
 * The loop runs over (HiLossODATASeqNo, ODATASeqNo) without the received
 * number itself (counting it lost and then received would settle a lossless
 * client near 0.5). Counting starts at FirstODATASeqNo, so a late joiner does
 * not count the whole session before it joined as lost.
 */
#define LOSS_W        (500.0 / 65536.0)
#define LOSS_MAX_LOOP 8192 /* (1 - w)^8192 < 1e-27: p is 1.0 from there on */

static void loss_skipped(struct wdsmc_mt_client *c, uint64_t from, uint64_t to)
{
    /* Samples for from..to inclusive. */
    if (to < from)
        return;
    uint64_t k = to - from + 1;
    if (k > LOSS_MAX_LOOP)
        k = LOSS_MAX_LOOP;
    while (k--)
        c->loss = (1 - LOSS_W) * c->loss + LOSS_W;
}

/* MS-WDSMT 3.2.5.10.1 */
static void loss_spm(struct wdsmc_mt_client *c, uint64_t lead)
{
    if (c->first_seq == 0)
        return;
    loss_skipped(c, c->hi_loss_seq + 1, lead);
    if (lead > c->hi_loss_seq)
        c->hi_loss_seq = lead;
}

/* MS-WDSMT 3.2.5.10.2 */
static void loss_data(struct wdsmc_mt_client *c, uint64_t seq)
{
    if (c->first_seq == 0)
        return;
    if (seq > 0)
        loss_skipped(c, c->hi_loss_seq + 1, seq - 1);
    c->loss = (1 - LOSS_W) * c->loss;
    if (seq > c->hi_loss_seq)
        c->hi_loss_seq = seq;
}

/* ------------------------------------------------------------------------ */
/* Sending                                                                   */
/* ------------------------------------------------------------------------ */

/* MS-WDSMT 3.2.5.3: JOIN, then the Join Timer. */
static void send_join(struct wdsmc_mt_client *c, uint64_t now)
{
    struct wdsmc_mt_pkt pkt = {.opcode = WDSMC_MT_JOIN};
    pkt.u.join = c->join;
    if (c->has_sid) {
        pkt.opts.has_user_sid = true;
        pkt.opts.user_sid = c->sid;
        pkt.opts.user_sid_len = c->sid_len;
    }
    if (c->multistream) {
        pkt.opts.has_caps = true;
        pkt.opts.caps = cap_multistream;
        pkt.opts.caps_len = sizeof(cap_multistream);
    }
    c->st.joins++;
    emit(c, &pkt, now);
    if (c->state != WDSMC_MT_CLIENT_JOIN)
        return;
    c->timers[T_JOIN] = now + c->p.join_interval;
}

/* A QCR of any of the three forms (2.2.8.1-3). */
static void send_qcr(struct wdsmc_mt_client *c, uint64_t qcc_seq, uint16_t backoff,
                     uint64_t server_time, bool with_state, const uint8_t *app, size_t app_len,
                     uint64_t now)
{
    struct wdsmc_mt_pkt pkt = {.opcode = WDSMC_MT_QCR};
    pkt.u.qcr.client_id = c->client_id;
    pkt.u.qcr.qcc_seq = qcc_seq;
    pkt.u.qcr.backoff = backoff;
    pkt.u.qcr.server_time = server_time;
    if (with_state) {
        pkt.u.qcr.hi_seq = c->hi_seq;
        pkt.u.qcr.loss_rate = loss_wire(c);
    }
    pkt.u.qcr.app = app;
    pkt.u.qcr.app_len = (uint16_t)app_len;
    c->st.qcrs++;
    emit(c, &pkt, now);
}

/* The QCC trigger (MS-WDSMT 3.2.5.7.1, 3.2.5.8). Returns the AppData length;
 * the caller re-checks the state. */
static size_t qcc_trigger(struct wdsmc_mt_client *c, uint64_t now)
{
    if (!c->cbs.qcc)
        return 0;
    c->depth++;
    ssize_t n = c->cbs.qcc(c->cbs.ctx, c->app, sizeof(c->app), now);
    c->depth--;
    if (n < 0 || (size_t)n > sizeof(c->app))
        return 0;
    return (size_t)n;
}

/* MS-WDSMT 3.2.5.11 */
static void send_ack(struct wdsmc_mt_client *c, uint64_t server_time, uint64_t now)
{
    if (!is_master(c))
        return;
    struct wdsmc_mt_pkt pkt = {.opcode = WDSMC_MT_ACK};
    pkt.u.ack.client_id = c->client_id;
    pkt.u.ack.odata_seq = wdsmc_missing_highest_continuous(&c->missing);
    pkt.u.ack.server_time = server_time;
    pkt.u.ack.hi_seq = c->hi_seq;
    pkt.u.ack.loss_rate = loss_wire(c);
    c->st.acks++;
    emit(c, &pkt, now);
}

/* MS-WDSMT 3.2.5.12.2. Decision 6: LossRate scaled like every other. */
static void send_zero_nack(struct wdsmc_mt_client *c, uint64_t now)
{
    struct wdsmc_mt_pkt pkt = {.opcode = WDSMC_MT_NACK};
    pkt.u.nack.client_id = c->client_id;
    pkt.u.nack.hi_seq = c->hi_seq;
    pkt.u.nack.loss_rate = loss_wire(c);
    c->st.zero_nacks++;
    emit(c, &pkt, now);
}

/*
 * MS-WDSMT 3.2.5.12: arm the NACK Timer if something is missing.
 *
 * Decision 61: the master reports a new loss at once. 3.2.5.12 gives the
 * master a zero timeout, but only when the NACK Timer is idle; after each
 * NACK the timer waits [MinNACKBackOff, MaxNACKBackOff] to repeat it, and a
 * loss found meanwhile waited for that repeat. The server's window cannot
 * pass the master's oldest hole (3.1.5.9.5), so every such wait stalled the
 * session. When the master misses a packet above everything its NACKs have
 * listed, and the list fits one NACK (decision 20), the timer fires now;
 * repeats of losses already reported keep the back-off.
 */
static void nack_setup(struct wdsmc_mt_client *c, uint64_t now)
{
    size_t count = wdsmc_missing_count(&c->missing);

    if (count == 0)
        return;
    if (c->timers[T_NACK] != NEVER) {
        if (is_master(c) && count <= c->max_ranges &&
            wdsmc_missing_ranges(&c->missing)[count - 1].end > c->nacked_hi &&
            c->timers[T_NACK] > now)
            c->timers[T_NACK] = now;
        return;
    }
    if (is_master(c))
        c->timers[T_NACK] = now;
    else
        c->timers[T_NACK] = now + rand_between(c, c->min_nack, c->max_nack);
}

/* ------------------------------------------------------------------------ */
/* Timer expiries (MS-WDSMT 3.2.5.1 table)                                   */
/* ------------------------------------------------------------------------ */

/* MS-WDSMT 3.2.5.4.2. Decision 18: the reason is INACTIVE, not the CANCELLED
 * of the spec's text. */
static void fire_inactivity(struct wdsmc_mt_client *c, uint64_t now)
{
    begin_leave(c, WDSMC_LEAVE_INACTIVE, -ETIMEDOUT, false, now);
}

/* MS-WDSMT 3.2.5.3.1 */
static void fire_join(struct wdsmc_mt_client *c, uint64_t now)
{
    send_join(c, now);
}

/* MS-WDSMT 3.2.5.6.1 */
static void fire_poll(struct wdsmc_mt_client *c, uint64_t now)
{
    if (!c->cbs.poll)
        return;
    c->depth++;
    ssize_t n = c->cbs.poll(c->cbs.ctx, c->poll_app, c->poll_app_len, c->app, sizeof(c->app), now);
    c->depth--;
    if (c->state != WDSMC_MT_CLIENT_REGULAR || n < 0 || (size_t)n > sizeof(c->app))
        return;
    struct wdsmc_mt_pkt pkt = {.opcode = WDSMC_MT_POLLACK};
    pkt.u.pollack.client_id = c->client_id;
    pkt.u.pollack.poll_seq = c->last_poll_seq;
    pkt.u.pollack.app = c->app;
    pkt.u.pollack.app_len = (uint16_t)n;
    c->st.pollacks++;
    emit(c, &pkt, now);
}

/* MS-WDSMT 3.2.5.7.1: QCR form 2.2.8.2. */
static void fire_qcc(struct wdsmc_mt_client *c, uint64_t now)
{
    size_t n = qcc_trigger(c, now);
    if (c->state != WDSMC_MT_CLIENT_REGULAR)
        return;
    uint64_t waited = now > c->qcc_recv_time ? now - c->qcc_recv_time : 0;
    send_qcr(c, c->last_qcc_seq, waited > UINT16_MAX ? UINT16_MAX : (uint16_t)waited,
             c->qcc_server_time, true, c->app, n, now);
    if (c->state != WDSMC_MT_CLIENT_REGULAR)
        return;
    c->timers[T_FORCE_QCC] = now + c->p.force_qcc_interval;
}

/* MS-WDSMT 3.2.5.8: voluntary QCR, form 2.2.8.3. */
static void fire_force_qcc(struct wdsmc_mt_client *c, uint64_t now)
{
    size_t n = qcc_trigger(c, now);
    if (c->state != WDSMC_MT_CLIENT_REGULAR)
        return;
    send_qcr(c, 0, 0, 0, true, c->app, n, now);
    if (c->state != WDSMC_MT_CLIENT_REGULAR)
        return;
    c->timers[T_FORCE_QCC] = now + c->p.force_qcc_interval;
}

/* MS-WDSMT 3.2.5.12.1 */
static void fire_nack(struct wdsmc_mt_client *c, uint64_t now)
{
    size_t count = wdsmc_missing_count(&c->missing);
    if (count == 0)
        return;
    /* Decision 20: as many ranges as fit one datagram, the lowest first; the
     * rest go in later NACKs once these are repaired. */
    size_t max = c->max_ranges;
    struct wdsmc_mt_pkt pkt = {.opcode = WDSMC_MT_NACK};
    pkt.u.nack.client_id = c->client_id;
    pkt.u.nack.hi_seq = c->hi_seq;
    pkt.u.nack.loss_rate = loss_wire(c);
    pkt.u.nack.list.count = (uint16_t)(count < max ? count : max);
    pkt.u.nack.list.ranges = wdsmc_missing_ranges(&c->missing);
    c->nacked_hi = pkt.u.nack.list.ranges[pkt.u.nack.list.count - 1].end;
    c->st.nacks++;
    emit(c, &pkt, now);
    if (c->state != WDSMC_MT_CLIENT_REGULAR)
        return;
    /* The spec re-arms with [MinNACKBackOff, MaxNACKBackOff] even for the
     * master. At least 1 ms: a server sending 0/0 must not make this timer
     * fire at the same instant forever. */
    uint64_t d = rand_between(c, c->min_nack, c->max_nack);
    c->timers[T_NACK] = now + (d ? d : 1);
}

/* The random LEAVE delay is over: MS-WDSMT 3.2.5.4.3, then either done or,
 * for a DEMOTE, 3.2.5.16's switch to the lower session. */
static void fire_leave(struct wdsmc_mt_client *c, uint64_t now)
{
    if (c->have_id) {
        struct wdsmc_mt_pkt pkt = {.opcode = WDSMC_MT_LEAVE};
        pkt.u.leave.client_id = c->client_id;
        pkt.u.leave.reason = c->leave_reason;
        c->st.leaves++;
        emit(c, &pkt, now); /* to the old server when demoting */
        /* A _leave() inside the send callback may have re-armed the timer; the
         * LEAVE is out, so only its error code matters now. */
        c->timers[T_LEAVE] = NEVER;
    }
    if (!c->demote_pending) {
        finish(c, c->leave_err);
        return;
    }

    /* MS-WDSMT 3.2.5.16 */
    c->demote_pending = false;
    c->st.demotes++;
    reset_session_state(c);
    c->si = c->demote_si;
    disarm_all(c);
    c->state = WDSMC_MT_CLIENT_JOIN;
    if (c->cbs.rebind) {
        c->depth++;
        c->cbs.rebind(c->cbs.ctx, &c->si);
        c->depth--;
        if (c->state != WDSMC_MT_CLIENT_JOIN)
            return;
    }
    /* MS-WDSMT 3.2.3 again on the new session. */
    c->timers[T_INACTIVITY] = now + c->p.inactivity_timeout;
    send_join(c, now);
}

typedef void (*fire_fn)(struct wdsmc_mt_client *c, uint64_t now);

static const fire_fn fire[T_COUNT] = {
        [T_INACTIVITY] = fire_inactivity,
        [T_JOIN] = fire_join,
        [T_POLL] = fire_poll,
        [T_QCC] = fire_qcc,
        [T_FORCE_QCC] = fire_force_qcc,
        [T_NACK] = fire_nack,
        [T_LEAVE] = fire_leave,
};

/* ------------------------------------------------------------------------ */
/* Packet processing (MS-WDSMT 3.2.5.1)                                      */
/* ------------------------------------------------------------------------ */

/* MS-WDSMT 3.2.5.3.2, and 3.2.5.5 for a JOINACK in RegularState (our QCR was
 * lost: same again). */
static void on_joinack(struct wdsmc_mt_client *c, const struct wdsmc_mt_pkt *pkt, uint64_t now)
{
    c->client_id = pkt->u.joinack.client_id;
    c->have_id = true;
    c->min_nack = pkt->u.joinack.min_nack_backoff;
    c->max_nack = pkt->u.joinack.max_nack_backoff;
    c->timers[T_JOIN] = NEVER;
    c->state = WDSMC_MT_CLIENT_REGULAR;
    c->timers[T_FORCE_QCC] = now + c->p.force_qcc_interval;
    /* Form 2.2.8.1; decision 5: empty AppData. */
    send_qcr(c, 0, 0, pkt->sender_time, false, c->app, 0, now);
}

/* MS-WDSMT 3.2.5.7 */
static void on_qcc(struct wdsmc_mt_client *c, const struct wdsmc_mt_pkt *pkt, uint64_t now)
{
    if (pkt->u.qcc.qcc_seq <= c->last_qcc_seq) {
        c->st.stale++;
        return;
    }
    c->last_qcc_seq = pkt->u.qcc.qcc_seq;
    c->qcc_recv_time = now;
    c->qcc_server_time = pkt->sender_time;
    c->timers[T_QCC] = now + rand_between(c, 0, pkt->u.qcc.qcr_backoff);
}

/* MS-WDSMT 3.2.5.6 */
static int on_poll(struct wdsmc_mt_client *c, const struct wdsmc_mt_pkt *pkt, uint64_t now)
{
    if (pkt->u.poll.poll_seq <= c->last_poll_seq) {
        c->st.stale++;
        return 0;
    }
    if (pkt->u.poll.app_len > sizeof(c->poll_app)) {
        c->st.drop_invalid++;
        return -EMSGSIZE;
    }
    c->last_poll_seq = pkt->u.poll.poll_seq;
    if (pkt->u.poll.app_len)
        memcpy(c->poll_app, pkt->u.poll.app, pkt->u.poll.app_len);
    c->poll_app_len = pkt->u.poll.app_len;
    c->timers[T_POLL] = now + rand_between(c, 0, pkt->u.poll.backoff);
    return 0;
}

/* Decision 16: trim the list at max(Trail, FirstODATASeqNo), so a late joiner
 * never NACKs what it would discard. */
static void trim_start(struct wdsmc_mt_client *c, uint64_t trail)
{
    wdsmc_missing_update_start(&c->missing, trail > c->first_seq ? trail : c->first_seq);
}

/* MS-WDSMT 3.2.5.9 */
static void on_spm(struct wdsmc_mt_client *c, const struct wdsmc_mt_pkt *pkt, uint64_t now)
{
    const struct wdsmc_mt_spm *s = &pkt->u.spm;
    if (s->spm_seq <= c->last_spm_seq) {
        c->st.stale++;
        return;
    }
    c->st.spm++;
    c->last_spm_seq = s->spm_seq;
    c->master_id = s->master_client_id;
    c->trail_seq = s->trail_seq;
    c->lead_seq = s->lead_seq;
    c->min_nack = s->min_nack_backoff;
    c->max_nack = s->max_nack_backoff;
    c->mcrtt = s->rtt;
    if (c->first_seq == 0 && s->lead_seq != 0) {
        c->first_seq = s->lead_seq;
        /* Loss counting starts at FirstODATASeqNo; the lead itself is never
         * tracked as missing (Update Start below), so not counted either. */
        if (c->hi_loss_seq < c->first_seq)
            c->hi_loss_seq = c->first_seq;
    }
    loss_spm(c, s->lead_seq);
    if (s->trail_seq > c->hi_seq)
        c->hi_seq = s->trail_seq;
    trim_start(c, s->trail_seq);
    wdsmc_missing_update_end(&c->missing, s->lead_seq);
    nack_setup(c, now);
    send_ack(c, pkt->sender_time, now);
}

/* MS-WDSMT 3.2.5.13, and 3.2.5.14 for RDATA. */
static void on_data(struct wdsmc_mt_client *c, const struct wdsmc_mt_pkt *pkt, uint64_t now)
{
    const struct wdsmc_mt_data *d = &pkt->u.data;
    bool rdata = pkt->opcode == WDSMC_MT_RDATA;
    if (rdata) {
        c->st.rdata++;
        c->last_rdata_time = now;
    } else {
        c->st.odata++;
    }
    if (c->first_seq != 0 && d->seq < c->first_seq) {
        c->st.old_data++;
        return;
    }
    /* Decision 16: from the first ODATA, never from an RDATA. */
    if (c->first_seq == 0 && !rdata && d->seq != 0) {
        c->first_seq = d->seq;
        if (c->hi_loss_seq < c->first_seq - 1)
            c->hi_loss_seq = c->first_seq - 1;
    }
    c->master_id = d->client_id;
    c->trail_seq = d->trail_seq;
    if (d->seq > c->lead_seq)
        c->lead_seq = d->seq;
    if (d->seq > c->hi_seq)
        c->hi_seq = d->seq;
    loss_data(c, d->seq);
    trim_start(c, d->trail_seq);
    wdsmc_missing_update_end(&c->missing, d->seq);
    wdsmc_missing_received(&c->missing, d->seq);
    nack_setup(c, now);

    /* ACK unless ODATA_FW_LEAD_SEQ_NO says the server wants no ACK for this
     * one (its value below ODATASeqNo). */
    if (!pkt->opts.has_fw_lead || pkt->opts.fw_lead_seq >= d->seq) {
        send_ack(c, pkt->sender_time, now);
        if (c->state != WDSMC_MT_CLIENT_REGULAR)
            return;
    }

    uint64_t room = c->max_app > c->cur_app ? c->max_app - c->cur_app : 0;
    if (room < d->data_len) {
        send_zero_nack(c, now); /* payload not handed up: it comes again */
        return;
    }
    if (!c->cbs.data)
        return;
    /* Count the payload as held before the call and give back what was not
     * kept after it: the application may report it done (_cache_done())
     * inside the callback already. */
    c->st.bytes_up += d->data_len;
    c->cur_app += d->data_len;
    c->depth++;
    size_t held = c->cbs.data(c->cbs.ctx, d->data, d->data_len);
    c->depth--;
    if (held < d->data_len) {
        uint64_t back = d->data_len - held;
        c->cur_app = c->cur_app > back ? c->cur_app - back : 0;
    }
}

/* MS-WDSMT 3.2.5.15 */
static int kick_error(uint8_t reason)
{
    switch (reason) {
    case WDSMC_KICK_POLICY_NOT_MET:
        return -WDSMC_EKICK_POLICY;
    case WDSMC_KICK_FALLBACK:
        return -WDSMC_EKICK_FALLBACK;
    default:
        /* FAIL, and any reason we do not know: the strictest reading, do not
         * try another way. */
        return -WDSMC_EKICK_FAIL;
    }
}

static void on_kick(struct wdsmc_mt_client *c, const struct wdsmc_mt_pkt *pkt, uint64_t now)
{
    for (size_t i = 0; i < pkt->u.kick.count; i++) {
        struct wdsmc_mt_kick_entry e = wdsmc_mt_kick_get(&pkt->u.kick, i);
        if (e.client_id == c->client_id) {
            /* Decision 18: a kicked client leaves with CANCELLED. */
            begin_leave(c, WDSMC_LEAVE_CANCELLED, kick_error(e.reason), false, now);
            return;
        }
    }
}

/* MS-WDSMT 3.2.5.16 */
static void on_demote(struct wdsmc_mt_client *c, const struct wdsmc_mt_pkt *pkt, uint64_t now)
{
    const struct wdsmc_mt_demote *d = &pkt->u.demote;
    for (size_t i = 0; i < d->count; i++) {
        if (wdsmc_mt_demote_get(d, i) != c->client_id)
            continue;
        struct wdsmc_mt_session_info *n = &c->demote_si;
        *n = c->si; /* 2.2.13: same security modes */
        n->session_id = d->lower_session_id;
        n->mcast_addr = d->maddr;
        n->mcast_port = d->mport;
        n->server_addr = d->uaddr;
        n->server_port = d->uport;
        begin_leave(c, WDSMC_LEAVE_CANCELLED, 0, true, now);
        return;
    }
}

static int process_regular(struct wdsmc_mt_client *c, const struct wdsmc_mt_pkt *pkt, uint64_t now)
{
    switch (pkt->opcode) {
    case WDSMC_MT_JOINACK:
        on_joinack(c, pkt, now);
        return 0;
    case WDSMC_MT_QCC:
        on_qcc(c, pkt, now);
        return 0;
    case WDSMC_MT_POLL:
        return on_poll(c, pkt, now);
    case WDSMC_MT_ODATA:
    case WDSMC_MT_RDATA:
        on_data(c, pkt, now);
        return 0;
    case WDSMC_MT_SPM:
        on_spm(c, pkt, now);
        return 0;
    case WDSMC_MT_KICK:
        on_kick(c, pkt, now);
        return 0;
    case WDSMC_MT_DEMOTE:
        on_demote(c, pkt, now);
        return 0;
    case WDSMC_MT_NCF: /* 3.2.5.19: ignored */
    default:           /* client-to-server opcodes */
        c->st.ignored++;
        return 0;
    }
}

/* ------------------------------------------------------------------------ */
/* Public API                                                                */
/* ------------------------------------------------------------------------ */

void wdsmc_mt_client_params_default(struct wdsmc_mt_client_params *p)
{
    memset(p, 0, sizeof(*p));
    p->inactivity_timeout = WDSMC_MT_DEFAULT_INACTIVITY_TIMEOUT;
    p->join_interval = WDSMC_MT_DEFAULT_JOIN_INTERVAL;
    p->max_leave_delay = WDSMC_MT_DEFAULT_MAX_LEAVE_DELAY;
    p->force_qcc_interval = WDSMC_MT_DEFAULT_FORCE_QCC_INTERVAL;
    p->max_app_cache = WDSMC_MT_DEFAULT_MAX_APP_CACHE;
    p->seed = 0;
    p->max_missing_ranges = WDSMC_MT_DEFAULT_MAX_MISSING;
}

int wdsmc_mt_client_new(const struct wdsmc_mt_session_info *si, const struct wdsmc_mt_join_info *ji,
                        const struct wdsmc_mt_client_params *params,
                        const struct wdsmc_mt_client_cbs *cbs, struct wdsmc_mt_client **ret)
{
    if (!si || !ji || !cbs || !ret || !cbs->send || !cbs->done)
        return -EINVAL;
    int need = wdsmc_mtsec_needs(si->server_sec, si->client_sec, false);
    if (need < 0)
        return need;
    if (ji->user_sid && ji->user_sid_len > WDSMC_MT_MAX_SID_LEN)
        return -EINVAL;
    if (!ji->name || strlen(ji->name) >= sizeof(((struct wdsmc_mt_join *)0)->client_name))
        return -EINVAL;

    struct wdsmc_mt_client *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->si = *si;
    c->si.keys = NULL;
    strcpy(c->join.client_name, ji->name);
    c->join.ip = ji->local_ip;
    memcpy(c->join.mac, ji->mac, sizeof(c->join.mac));
    c->multistream = ji->multistream;
    if (ji->user_sid) {
        c->has_sid = true;
        c->sid_len = ji->user_sid_len;
        memcpy(c->sid, ji->user_sid, ji->user_sid_len);
    }

    struct wdsmc_mt_client_params def;
    wdsmc_mt_client_params_default(&def);
    c->p = params ? *params : def;
    if (!c->p.inactivity_timeout)
        c->p.inactivity_timeout = def.inactivity_timeout;
    if (!c->p.join_interval)
        c->p.join_interval = def.join_interval;
    if (!c->p.force_qcc_interval)
        c->p.force_qcc_interval = def.force_qcc_interval;
    if (!c->p.max_missing_ranges)
        c->p.max_missing_ranges = def.max_missing_ranges;
    c->cbs = *cbs;

    uint64_t x = c->p.seed;
    for (int i = 0; i < 4; i++)
        c->rng[i] = splitmix64(&x);
    disarm_all(c);
    c->state = WDSMC_MT_CLIENT_IDLE;
    /* MS-WDSMT 3.2.3: the Query Cache Trigger's answer. */
    c->max_app = c->p.max_app_cache;

    /* The keys are checked now, so every packet can be protected later. */
    int r = wdsmc_mtsec_init(&c->keys, si->keys, (unsigned)need, c->p.seed);
    if (r < 0)
        goto fail;
    wdsmc_mtsec_view(&c->keys, si->server_sec, &c->rx_sec);
    wdsmc_mtsec_view(&c->keys, si->client_sec, &c->tx_sec);
    c->max_ranges = wdsmc_mt_max_ranges_sec(&c->tx_sec);

    r = wdsmc_missing_init(&c->missing, c->p.max_missing_ranges);
    if (r < 0)
        goto fail;
    /* Build the JOIN once to reject a bad name or address now rather than
     * fail silently on every send. */
    struct wdsmc_mt_pkt pkt = {.opcode = WDSMC_MT_JOIN, .sec_type = c->si.client_sec};
    pkt.u.join = c->join;
    if (wdsmc_mt_encode_sec(&pkt, &c->tx_sec, c->out, sizeof(c->out)) < 0) {
        r = -EINVAL;
        goto fail;
    }
    *ret = c;
    return 0;
fail:
    wdsmc_missing_fini(&c->missing);
    wdsmc_mtsec_fini(&c->keys);
    free(c);
    return r;
}

void wdsmc_mt_client_free(struct wdsmc_mt_client *c)
{
    if (!c)
        return;
    wdsmc_missing_fini(&c->missing);
    wdsmc_mtsec_fini(&c->keys);
    free(c);
}

int wdsmc_mt_client_start(struct wdsmc_mt_client *c, uint64_t now)
{
    if (c->depth)
        return -EBUSY;
    if (c->state != WDSMC_MT_CLIENT_IDLE)
        return -EALREADY;
    c->state = WDSMC_MT_CLIENT_JOIN;
    c->timers[T_INACTIVITY] = now + c->p.inactivity_timeout;
    send_join(c, now);
    return 0;
}

int wdsmc_mt_client_handle(struct wdsmc_mt_client *c, const uint8_t *buf, size_t len, uint64_t now)
{
    if (c->depth)
        return -EBUSY;
    if (c->state != WDSMC_MT_CLIENT_JOIN && c->state != WDSMC_MT_CLIENT_REGULAR)
        return 0;

    /* MS-WDSMT 3.2.5.2 */
    struct wdsmc_mt_pkt pkt;
    ssize_t r = wdsmc_mt_decode_sec(buf, len, &c->rx_sec, &pkt);
    if (r == -WDSMC_EHMAC || r == -WDSMC_ESIG)
        c->st.auth_failures++;
    if (r == -WDSMC_ESECTYPE || r == -WDSMC_EHMAC || r == -WDSMC_ESIG) {
        c->st.drop_security++;
        return (int)r;
    }
    if (r < 0) {
        c->st.drop_decode++;
        return (int)r;
    }
    if (pkt.session_id != c->si.session_id) {
        c->st.drop_session++;
        return -EPROTO;
    }
    /* Decision 9: ClientId 0 is never assigned; it would also read as "no
     * master" in SPM/ODATA. */
    if (pkt.opcode == WDSMC_MT_JOINACK && pkt.u.joinack.client_id == 0) {
        c->st.drop_invalid++;
        return -WDSMC_EVALUE;
    }

    /* MS-WDSMT 3.2.5.1 */
    c->st.packets++;
    c->timers[T_INACTIVITY] = now + c->p.inactivity_timeout;
    if (c->state == WDSMC_MT_CLIENT_JOIN) {
        if (pkt.opcode == WDSMC_MT_JOINACK)
            on_joinack(c, &pkt, now);
        else
            c->st.ignored++;
        return 0;
    }
    return process_regular(c, &pkt, now);
}

int wdsmc_mt_client_timeout(struct wdsmc_mt_client *c, uint64_t now)
{
    if (c->depth)
        return -EBUSY;
    /* Earliest first. Every timer that re-arms itself does so strictly after
     * `now`, and the LEAVE timer ends in DONE or JOIN, so this terminates;
     * the bound is only a safety net. */
    for (int guard = 0; guard < 4 * T_COUNT; guard++) {
        int t = -1;
        for (int i = 0; i < T_COUNT; i++)
            if (c->timers[i] <= now && (t < 0 || c->timers[i] < c->timers[t]))
                t = i;
        if (t < 0)
            break;
        c->timers[t] = NEVER;
        fire[t](c, now);
    }
    return 0;
}

uint64_t wdsmc_mt_client_deadline(const struct wdsmc_mt_client *c)
{
    uint64_t d = NEVER;
    for (int i = 0; i < T_COUNT; i++)
        if (c->timers[i] < d)
            d = c->timers[i];
    return d;
}

/* MS-WDSMT 3.2.5.18 */
int wdsmc_mt_client_cache_done(struct wdsmc_mt_client *c, uint64_t bytes, uint64_t now)
{
    if (bytes > c->cur_app) {
        c->cur_app = 0;
        return -ERANGE;
    }
    c->cur_app -= bytes;
    return 0;
}

int wdsmc_mt_client_leave(struct wdsmc_mt_client *c, uint8_t reason, int err, uint64_t now)
{
    if (reason > WDSMC_LEAVE_INACTIVE)
        return -EINVAL;
    if (c->state == WDSMC_MT_CLIENT_DONE)
        return -EALREADY;
    if (c->state == WDSMC_MT_CLIENT_LEAVING) {
        if (!c->demote_pending)
            return -EALREADY;
        /* Leaving during a DEMOTE's delay: the LEAVE already scheduled goes
         * out with this reason, and the session ends instead of moving. */
        c->demote_pending = false;
        c->leave_reason = reason;
        c->leave_err = err;
        return 0;
    }
    begin_leave(c, reason, err, false, now);
    return 0;
}

void wdsmc_mt_client_stats(const struct wdsmc_mt_client *c, struct wdsmc_mt_client_stats *ret)
{
    *ret = c->st;
    ret->state = c->state;
    ret->session_id = c->si.session_id;
    ret->client_id = c->client_id;
    ret->master = is_master(c);
    ret->loss_rate = c->loss;
    ret->hi_seq = c->hi_seq;
    ret->first_seq = c->first_seq;
    ret->trail_seq = c->trail_seq;
    ret->lead_seq = c->lead_seq;
    ret->mcrtt = c->mcrtt;
    ret->app_cache = c->cur_app;
    ret->missing_ranges = wdsmc_missing_count(&c->missing);
    ret->missing_overflows = c->missing.overflows;
}

const struct wdsmc_mt_session_info *wdsmc_mt_client_session(const struct wdsmc_mt_client *c)
{
    return &c->si;
}
