/* SPDX-License-Identifier: MIT */
/*
 * MS-WDSMT server state machine (MS-WDSMT 3.1). See mt_server.h.
 *
 * Readings of the spec that are ours (the DESIGN.md decisions are cited where
 * they apply):
 *  - ODATA goes out whenever the window, the rate limit and the Data Packet
 *    List have room, not only while processing an ACK (3.1.5.9.5). The spec
 *    queues Data Triggers and sends from the queue on each ACK; here the queue
 *    is the application itself (pull_data), so "room in the window" is checked
 *    after every event. In particular, entering DataState with window 1 and
 *    nothing in flight sends one ODATA at once, so the master has something to
 *    ACK (the spec would first wait for the ACK of the SPM, one RTT later).
 *  - Every entry of the Data Packet List has been transmitted, so the head of
 *    the list is decision 11's TrailODATASeqNo; with an empty list it is
 *    MCLeadODATASeqNo (0 before the first ODATA).
 *  - A NACK with RangeCount 0 (the client's "zero NACK", MS-WDSMT 3.2.5.12.2)
 *    updates loss rates and may switch the master, but shrinks no window and
 *    causes no NCF: it requests nothing.
 *  - An RDATA is skipped when the ODATA was sent less than 4 x MCRTT ago
 *    (3.1.5.9.6); requested repairs are sent before new ODATA and obey the
 *    rate limit.
 *  - When the master leaves the Active Client List (LEAVE, KICK, DEMOTE, dead)
 *    in DataState, the server enters QCCState at once instead of waiting for
 *    MaxNoResponseSPM SPMs to go unanswered.
 *  - On choosing or switching the master, MCRTT and MCLossRate take that
 *    client's last values, so SPM and the throughput test describe it, and
 *    MCTrailODATASeqNo falls back below the oldest held packet, or the new
 *    master's ACKs would be refused (see mt_set_master).
 *  - The Demoted Client List is emptied like the Kick Client List: by LEAVE
 *    and by ClientDeadTimeout (the spec removes demoted clients from nowhere).
 *  - Client Cleanup runs per client at LastUpdate + ClientDeadTimeout rather
 *    than as one recurring timer, which only makes it more punctual.
 *  - doc/decisions.md 41-46: a pending client becomes active on any packet
 *    from its endpoint (mt_sender, mt_on_qcr); its pending entry outlives the
 *    JOINACK retries (mt_client_timers); a ClientId on no list gets a unicast
 *    KICK (mt_kick_stray); the QCC and POLL timers leave room for the RTT
 *    (mt_rtt_allowance); a QCR answering the previous QCC still counts
 *    (mt_on_qcr); unanswered InState QCCs back off (mt_send_qcc_instate).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "mt_server.h"
#include "mtsec.h"

/* Largest rate accepted, so that the token arithmetic cannot overflow. */
#define MT_MAX_RATE 100000000000ULL /* 100 GB/s */
/* Token bucket depth: 10 ms of the rate, and never less than one datagram. */
#define MT_BURST_MS 10

struct mt_client {
    uint32_t id;
    enum wdsmc_mt_server_client_state state;
    struct wdsmc_endpoint ep;
    char name[WDSMC_MT_CLIENT_NAME_CHARS * 4 + 1];
    uint8_t mac[6];
    uint64_t client_time; /* SenderTime of the JOIN */
    uint64_t last_update;
    uint64_t join_time;
    uint32_t rtt;
    uint64_t loss_rate; /* wire units */
    bool supports_demote;
    bool qcr_received;
    bool mark; /* scratch for grouping DEMOTE packets */
    uint8_t kick_reason;
    uint32_t join_ack_count;
    uint64_t join_ack_at;
    struct wdsmc_mt_demote_target demote;
    bool has_progress;
    uint8_t progress;
    uint32_t time_in_session;
};

/* An entry of the Data Packet List (3.1.1.3). Its ODATASeqNo is implied by
 * its position: the list always holds consecutive sequence numbers. */
/* Decision 43: when a KICK last went to an endpoint for an unknown ClientId. */
struct mt_stray {
    struct wdsmc_endpoint ep;
    uint64_t at;
    bool used;
};

struct dp_entry {
    uint64_t token;
    uint64_t created;   /* CreationTime */
    uint64_t last_send; /* LastSendTime */
    bool repair;        /* an RDATA is owed */
    bool repaired;      /* an RDATA has been sent (decision 57) */
};

struct wdsmc_mt_server {
    struct wdsmc_mt_server_callbacks cb;
    struct wdsmc_mt_server_params p;
    uint32_t session_id;
    uint8_t server_sec, client_sec;
    /* MS-WDSMT 2.2.2, 3.1.5.1.1: how we protect what we send (tx) and check
     * what clients send (rx), with the keys. */
    struct wdsmc_mtsec keys;
    struct wdsmc_mt_security tx_sec, rx_sec;
    uint32_t max_clients;
    uint32_t max_data_list;
    uint64_t max_rate;

    enum wdsmc_mt_server_state state;
    int err;

    /* 3.1.1.1 Multicast Session Configuration */
    uint64_t rng;
    uint32_t next_client_id;
    uint64_t next_poll_seq;

    /* 3.1.1.2 the four client lists, told apart by mt_client.state */
    struct mt_client *clients;
    uint32_t nclients, clients_cap;

    /* 3.1.1.3 Data State Configuration */
    uint16_t min_nack, max_nack;
    uint32_t mc_rtt;
    uint32_t master_id;
    uint64_t next_spm_seq;
    uint32_t spm_count;
    uint64_t next_odata_seq;
    uint64_t mc_trail, mc_lead;
    uint64_t mc_hi;    /* the master's HiODATASeqNo (decision 60) */
    uint64_t cut_lead; /* MCLead when the window was last cut (decision 58) */
    uint64_t mc_loss;
    uint32_t window;

    /* Data Packet List: a ring of dl_len entries from dl_head_idx, holding
     * ODATASeqNo dl_head_seq .. dl_head_seq + dl_len - 1. */
    struct dp_entry *dl;
    uint32_t dl_cap, dl_head_idx, dl_len;
    uint64_t dl_head_seq;
    uint32_t repairs_pending;
    uint64_t repair_lo;    /* no repair is owed below this ODATASeqNo */
    bool source_dry;       /* the last pull_data() returned false */
    bool sent_since_empty; /* ODATA went out since the last Data Empty */
    bool in_flush;
    bool tx_paused; /* decision 65: the socket is full */

    /* 3.1.1.5 QCC State Configuration. wait_time is the clients' reply
     * window (QCRBackOff) without the RTT allowance (decision 44). */
    uint64_t next_qcc_seq;
    uint32_t wait_time;

    struct mt_stray strays[WDSMC_MT_SERVER_STRAY_KICK_SLOTS];

    /* Timers (absolute ms, UINT64_MAX when disabled). qcc_at is the InState
     * QCC Timer in QCCState and the OutState one in DataState. */
    uint64_t inactivity_at, client_timer_at, kick_at, demote_at, qcc_at, spm_at, cleanup_at;
    uint64_t rate_at, close_at;

    /* Send-rate token bucket, in milli-bytes. */
    int64_t tokens, burst;
    uint64_t rate_last;

    /* Datagrams are built at tx. Without send_mcast_batch tx is the whole
     * buffer; with it the data packets of a batch lie end to end at txb and
     * tx is where the next one goes (batch_len bytes on). */
    uint8_t *txb, *tx;
    size_t batch_len, batch_seg, batch_n;
    size_t data_off;    /* fill_data() writes at tx + data_off (in place) */
    size_t max_payload; /* the largest payload sent (mt_span) */
    size_t fw_lead_len; /* what ODATA_FW_LEAD_SEQ_NO adds to an ODATA */
    size_t payload_cap;
    struct wdsmc_range *ncf_ranges;
    size_t max_ranges;

    struct wdsmc_mt_server_stats st;
};

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */
/* ------------------------------------------------------------------------ */

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static uint16_t clamp16(uint64_t v)
{
    return v > UINT16_MAX ? UINT16_MAX : (uint16_t)v;
}

/* splitmix64: a small, seedable generator; NextClientId needs no more. */
static uint64_t mt_rand(struct wdsmc_mt_server *s)
{
    uint64_t z = (s->rng += 0x9E3779B97F4A7C15ULL);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static bool ep_equal(const struct wdsmc_endpoint *a, const struct wdsmc_endpoint *b)
{
    return a->port == b->port && a->ip.len == b->ip.len && a->ip.len <= 16 &&
           memcmp(a->ip.bytes, b->ip.bytes, a->ip.len) == 0;
}

static struct mt_client *mt_find(struct wdsmc_mt_server *s, uint32_t id)
{
    for (uint32_t i = 0; i < s->nclients; i++) {
        if (s->clients[i].id == id)
            return &s->clients[i];
    }
    return NULL;
}

static uint32_t mt_count(const struct wdsmc_mt_server *s, enum wdsmc_mt_server_client_state state)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < s->nclients; i++)
        n += s->clients[i].state == state;
    return n;
}

static uint32_t mt_max_active_rtt(const struct wdsmc_mt_server *s)
{
    uint32_t rtt = 0;

    for (uint32_t i = 0; i < s->nclients; i++) {
        if (s->clients[i].state == WDSMC_MT_SC_ACTIVE && s->clients[i].rtt > rtt)
            rtt = s->clients[i].rtt;
    }
    return rtt;
}

/*
 * Decision 44: how long past a reply window the server waits for the replies,
 * for the QCC (InState QCC Timer) and POLL (Query Timer) rounds: the largest
 * RTT among active clients, and a quarter of it for its variation. A client
 * answering at the very end of QCRBackOff or BackOff is then still in time.
 * Zero when every RTT is zero, so a LAN's timers are the spec's.
 */
static uint64_t mt_rtt_allowance(const struct wdsmc_mt_server *s)
{
    uint64_t rtt = mt_max_active_rtt(s);

    return rtt + rtt / 4;
}

/* A pending client's next deadline: its next JOINACK while retries remain,
 * afterwards its removal ClientDeadTimeout after LastUpdate (decision 42). */
static uint64_t mt_pending_deadline(const struct wdsmc_mt_server *s, const struct mt_client *c)
{
    if (c->join_ack_count < s->p.max_join_ack_sends)
        return c->join_ack_at;
    return c->last_update + s->p.client_dead_timeout + 1;
}

/* The earliest JoinAck Timer or Client Cleanup deadline of any client. It is
 * recomputed when a client is added, removed or changes list; a QCR only moves
 * a deadline later, so between recomputations the value errs early, never
 * late (the timer then finds nothing to do and recomputes). */
static void mt_recompute_client_timer(struct wdsmc_mt_server *s)
{
    uint64_t next = UINT64_MAX;

    for (uint32_t i = 0; i < s->nclients; i++) {
        const struct mt_client *c = &s->clients[i];

        if (c->state == WDSMC_MT_SC_PENDING)
            next = min_u64(next, mt_pending_deadline(s, c));
        else
            next = min_u64(next, c->last_update + s->p.client_dead_timeout + 1);
    }
    s->client_timer_at = next;
}

/* Remove clients[i] (order is not kept). */
static void mt_remove_at(struct wdsmc_mt_server *s, uint32_t i)
{
    s->clients[i] = s->clients[--s->nclients];
    mt_recompute_client_timer(s);
}

static struct dp_entry *dl_at(struct wdsmc_mt_server *s, uint64_t seq)
{
    if (seq < s->dl_head_seq || seq - s->dl_head_seq >= s->dl_len)
        return NULL;
    return &s->dl[(s->dl_head_idx + (seq - s->dl_head_seq)) % s->dl_cap];
}

static void dl_pop_head(struct wdsmc_mt_server *s)
{
    if (s->dl[s->dl_head_idx].repair)
        s->repairs_pending--;
    s->dl_head_idx = (s->dl_head_idx + 1) % s->dl_cap;
    s->dl_head_seq++;
    s->dl_len--;
}

/* Make room for one more entry; false when the list is at its limit or
 * memory is short (the caller then simply sends nothing new). */
static bool dl_reserve(struct wdsmc_mt_server *s)
{
    struct dp_entry *n;
    uint32_t cap;

    if (s->dl_len < s->dl_cap)
        return true;
    if (s->dl_cap >= s->max_data_list)
        return false;
    cap = s->dl_cap ? s->dl_cap * 2 : 64;
    if (cap > s->max_data_list)
        cap = s->max_data_list;
    n = malloc((size_t)cap * sizeof(*n));
    if (!n)
        return false;
    for (uint32_t i = 0; i < s->dl_len; i++)
        n[i] = s->dl[(s->dl_head_idx + i) % s->dl_cap];
    free(s->dl);
    s->dl = n;
    s->dl_cap = cap;
    s->dl_head_idx = 0;
    return true;
}

/* Decision 11: the lowest transmitted ODATASeqNo still held. */
static uint64_t mt_trail_seq(const struct wdsmc_mt_server *s)
{
    return s->dl_len ? s->dl_head_seq : s->mc_lead;
}

/* ------------------------------------------------------------------------ */
/* Sending                                                                   */
/* ------------------------------------------------------------------------ */

static void mt_pkt_init(struct wdsmc_mt_server *s, struct wdsmc_mt_pkt *pkt, uint8_t op,
                        uint64_t now)
{
    memset(pkt, 0, sizeof(*pkt));
    pkt->sec_type = s->server_sec;
    pkt->session_id = s->session_id;
    pkt->opcode = op;
    pkt->sender_time = now;
}

/* Send the gathered batch of data packets, if any; tx is then the buffer's
 * start again. */
static void mt_batch_flush(struct wdsmc_mt_server *s)
{
    if (s->batch_n == 1)
        s->cb.send_mcast(s->cb.ctx, s->txb, s->batch_len);
    else if (s->batch_n > 1)
        s->cb.send_mcast_batch(s->cb.ctx, s->txb, s->batch_len, s->batch_seg);
    s->batch_len = s->batch_seg = s->batch_n = 0;
    s->tx = s->txb;
}

/* Encode into s->tx; returns the length or a negative error. Any batch is
 * sent first: whatever this datagram is, it goes out after the batch. */
static ssize_t mt_encode(struct wdsmc_mt_server *s, const struct wdsmc_mt_pkt *pkt)
{
    mt_batch_flush(s);
    return wdsmc_mt_encode_sec(pkt, &s->tx_sec, s->tx, WDSMC_MAX_DATAGRAM);
}

static ssize_t mt_send_mcast(struct wdsmc_mt_server *s, const struct wdsmc_mt_pkt *pkt)
{
    ssize_t n = mt_encode(s, pkt);

    if (n > 0)
        s->cb.send_mcast(s->cb.ctx, s->tx, (size_t)n);
    return n;
}

/* ODATA and RDATA: encoded at s->tx, where fill_data put the payload, and
 * added to the batch when the callbacks take batches. A batch holds
 * datagrams of one length, but its last may be shorter (UDP GSO's rule). */
static ssize_t mt_send_data_pkt(struct wdsmc_mt_server *s, const struct wdsmc_mt_pkt *pkt)
{
    ssize_t r = wdsmc_mt_encode_sec(pkt, &s->tx_sec, s->tx, WDSMC_MAX_DATAGRAM);
    size_t n = (size_t)r;

    if (r <= 0)
        return r;
    if (!s->cb.send_mcast_batch) {
        s->cb.send_mcast(s->cb.ctx, s->tx, n);
        return r;
    }
    if (s->batch_n && n > s->batch_seg) {
        /* Longer than the batch's datagrams: the batch goes, this one
         * starts the next. */
        uint8_t *at = s->tx;
        mt_batch_flush(s);
        memmove(s->txb, at, n);
    }
    if (!s->batch_n)
        s->batch_seg = n;
    s->batch_len += n;
    s->batch_n++;
    s->tx = s->txb + s->batch_len;
    /* The next datagram must fit (the buffer has WDSMC_MAX_DATAGRAM past
     * WDSMC_MT_BATCH_MAX_BYTES for it) and a shorter one ends the batch. */
    if (n < s->batch_seg || s->batch_n >= WDSMC_MT_BATCH_MAX_SEGS ||
        s->batch_len + s->batch_seg > WDSMC_MT_BATCH_MAX_BYTES)
        mt_batch_flush(s);
    return r;
}

static void mt_terminate(struct wdsmc_mt_server *s, int err)
{
    if (s->state == WDSMC_MT_SERVER_DONE)
        return;
    /* What a flush gathered goes before whatever terminated() sends (a
     * KICK), and nothing is sent after it. */
    mt_batch_flush(s);
    s->state = WDSMC_MT_SERVER_DONE;
    s->err = err;
    s->inactivity_at = s->client_timer_at = s->kick_at = s->demote_at = UINT64_MAX;
    s->qcc_at = s->spm_at = s->cleanup_at = s->rate_at = s->close_at = UINT64_MAX;
    if (s->cb.terminated)
        s->cb.terminated(s->cb.ctx, err);
}

/* MS-WDSMT 3.1.5.2.2 */
static void mt_send_joinack(struct wdsmc_mt_server *s, struct mt_client *c, uint64_t now)
{
    struct wdsmc_mt_pkt pkt;
    ssize_t n;

    mt_pkt_init(s, &pkt, WDSMC_MT_JOINACK, now);
    pkt.u.joinack.client_id = c->id;
    pkt.u.joinack.min_nack_backoff = s->min_nack;
    pkt.u.joinack.max_nack_backoff = s->max_nack;
    /* 2.2.6: the master's RTT when there is one, otherwise zero. */
    pkt.u.joinack.rtt = s->master_id ? clamp16(s->mc_rtt) : 0;
    pkt.u.joinack.client_time = c->client_time;
    n = mt_encode(s, &pkt);
    if (n > 0) {
        s->cb.send_ucast(s->cb.ctx, &c->ep, s->tx, (size_t)n);
        s->st.joinack_packets++;
    }
}

/* MS-WDSMT 3.1.5.6.1: every client of the Kick Client List, 200 a packet. */
static void mt_send_kicks(struct wdsmc_mt_server *s, uint64_t now)
{
    struct wdsmc_mt_kick_entry e[WDSMC_MT_MAX_KICK_CLIENTS];
    struct wdsmc_mt_pkt pkt;
    uint16_t n = 0;

    for (uint32_t i = 0; i <= s->nclients; i++) {
        if (i < s->nclients && s->clients[i].state == WDSMC_MT_SC_KICKED) {
            e[n].client_id = s->clients[i].id;
            e[n].reason = s->clients[i].kick_reason;
            n++;
        }
        if (n > 0 && (n == WDSMC_MT_MAX_KICK_CLIENTS || i == s->nclients)) {
            mt_pkt_init(s, &pkt, WDSMC_MT_KICK, now);
            pkt.u.kick.count = n;
            pkt.u.kick.entries = e;
            if (mt_send_mcast(s, &pkt) > 0)
                s->st.kick_packets++;
            n = 0;
        }
    }
}

/*
 * Decision 43: a QCR, NACK, POLLACK or ACK names a ClientId on no list. Its
 * sender cannot recover by itself (it is in RegularState and never JOINs
 * again), so a KICK with reason FAIL naming that ClientId goes back to the
 * datagram's source, unicast (3.1.5.6.1 multicasts KICKs of listed clients;
 * this one concerns a single endpoint). At most one per endpoint per
 * STRAY_KICK_INTERVAL; with every slot of the table used within the interval
 * nothing is sent, so a flood of forged ids costs a bounded rate of KICKs.
 */
static void mt_kick_stray(struct wdsmc_mt_server *s, uint32_t id, const struct wdsmc_endpoint *from,
                          uint64_t now)
{
    struct wdsmc_mt_kick_entry e = {.client_id = id, .reason = WDSMC_KICK_FAIL};
    struct mt_stray *slot = NULL;
    struct wdsmc_mt_pkt pkt;
    ssize_t n;

    if (id == 0) /* 0 is never assigned (decision 9): nobody to tell */
        return;
    for (uint32_t i = 0; i < WDSMC_MT_SERVER_STRAY_KICK_SLOTS; i++) {
        struct mt_stray *t = &s->strays[i];

        if (t->used && ep_equal(&t->ep, from)) {
            if (now < t->at + WDSMC_MT_SERVER_STRAY_KICK_INTERVAL)
                return;
            slot = t;
            break;
        }
        if (!slot && (!t->used || now >= t->at + WDSMC_MT_SERVER_STRAY_KICK_INTERVAL))
            slot = t;
    }
    if (!slot)
        return;
    *slot = (struct mt_stray){.ep = *from, .at = now, .used = true};
    mt_pkt_init(s, &pkt, WDSMC_MT_KICK, now);
    pkt.u.kick.count = 1;
    pkt.u.kick.entries = &e;
    n = mt_encode(s, &pkt);
    if (n > 0) {
        s->cb.send_ucast(s->cb.ctx, from, s->tx, (size_t)n);
        s->st.kick_packets++;
        s->st.stray_kicks++;
    }
}

static bool target_equal(const struct wdsmc_mt_demote_target *a,
                         const struct wdsmc_mt_demote_target *b)
{
    return a->session_id == b->session_id && ep_equal(&a->mcast, &b->mcast) &&
           ep_equal(&a->ucast, &b->ucast);
}

/* MS-WDSMT 3.1.5.10.1: one DEMOTE per target session, 250 clients a packet. */
static void mt_send_demotes(struct wdsmc_mt_server *s, uint64_t now)
{
    uint32_t ids[WDSMC_MT_MAX_DEMOTE_CLIENTS];
    struct wdsmc_mt_pkt pkt;

    for (uint32_t i = 0; i < s->nclients; i++)
        s->clients[i].mark = false;
    for (uint32_t i = 0; i < s->nclients; i++) {
        const struct mt_client *first = &s->clients[i];
        uint16_t n = 0;

        if (first->state != WDSMC_MT_SC_DEMOTED || first->mark)
            continue;
        for (uint32_t j = i; j <= s->nclients; j++) {
            if (j < s->nclients && s->clients[j].state == WDSMC_MT_SC_DEMOTED &&
                !s->clients[j].mark && target_equal(&s->clients[j].demote, &first->demote)) {
                s->clients[j].mark = true;
                ids[n++] = s->clients[j].id;
            }
            if (n > 0 && (n == WDSMC_MT_MAX_DEMOTE_CLIENTS || j == s->nclients)) {
                mt_pkt_init(s, &pkt, WDSMC_MT_DEMOTE, now);
                pkt.u.demote.lower_session_id = first->demote.session_id;
                pkt.u.demote.maddr = first->demote.mcast.ip;
                pkt.u.demote.mport = first->demote.mcast.port;
                pkt.u.demote.uaddr = first->demote.ucast.ip;
                pkt.u.demote.uport = first->demote.ucast.port;
                pkt.u.demote.count = n;
                pkt.u.demote.client_ids = ids;
                if (mt_send_mcast(s, &pkt) > 0)
                    s->st.demote_packets++;
                n = 0;
            }
        }
    }
}

/*
 * Decision 57: RTT is measured in whole milliseconds, so on a fast link it
 * reads 0 or 1. Taken at face value it makes MinNACKBackOff 1 ms (a master
 * that still misses a packet NACKs it a thousand times a second) and the
 * 4 x MCRTT hold of 3.1.5.9.6 zero (each of those NACKs resends it). With 8 KiB
 * blocks fragmented over a 1500-byte MTU that storm fills the receiver's IP
 * reassembly memory and stalls every receiver. MinNACKBackOff is computed
 * with the RTT floored here, and a repaired packet is not repaired again
 * within it (mt_on_nack).
 */
#define MT_RTT_FLOOR_MS 5

/* MinNACKBackOff = MAX(2 x RTT, 1) of 3.1.5.9.3, with the RTT floored. */
static uint64_t mt_min_nack_backoff(const struct wdsmc_mt_server *s)
{
    return 2 * (uint64_t)(s->mc_rtt > MT_RTT_FLOOR_MS ? s->mc_rtt : MT_RTT_FLOOR_MS);
}

/* MS-WDSMT 3.1.5.9.3 */
static void mt_send_spm(struct wdsmc_mt_server *s, uint64_t now)
{
    struct wdsmc_mt_pkt pkt;
    uint64_t min = mt_min_nack_backoff(s), max;
    ssize_t n;

    max = min + mt_count(s, WDSMC_MT_SC_ACTIVE) / 5;
    s->min_nack = clamp16(min);
    s->max_nack = clamp16(max);

    mt_pkt_init(s, &pkt, WDSMC_MT_SPM, now);
    pkt.u.spm.spm_seq = s->next_spm_seq++;
    pkt.u.spm.master_client_id = s->master_id;
    pkt.u.spm.min_nack_backoff = s->min_nack;
    pkt.u.spm.max_nack_backoff = s->max_nack;
    pkt.u.spm.trail_seq = mt_trail_seq(s);
    pkt.u.spm.lead_seq = s->mc_lead;
    pkt.u.spm.rtt = clamp16(s->mc_rtt);
    n = mt_send_mcast(s, &pkt);
    if (n > 0) {
        s->st.spm_packets++;
        s->st.spm_bytes += (uint64_t)n;
    }
    s->spm_count++;
    s->spm_at =
            now + (uint64_t)(s->p.spm_interval > 4 * (uint64_t)s->mc_rtt ? s->p.spm_interval
                                                                         : 4 * (uint64_t)s->mc_rtt);
}

/*
 * Decision 60: the window counts what the master has not received, not the
 * span of a hole. 3.1.5.9.5 counts InFlightPackets = MCLead - MCTrail, and
 * MCTrail is the master's cumulative ACK: one lost packet holds it until the
 * repair lands, so under random loss the window stands still for a repair
 * round trip (or a NACK back-off when the repair is lost too) once per hole.
 * The master's ACKs and NACKs also carry HiODATASeqNo, the highest packet it
 * has; packets up to it have arrived or are being repaired. So in flight is
 * MCLead - max(MCTrail, HiODATASeqNo), as TCP counts with SACK, and a second
 * limit, mt_span(), bounds MCLead - MCTrail: how far new data may run ahead
 * of the oldest hole. The window grows by how far that base advances. Cuts
 * on NACK are unchanged (decision 58): congestion still slows the session.
 */
#define MT_SPAN_WINDOWS 32

static uint64_t mt_pipe_base(const struct wdsmc_mt_server *s)
{
    return s->mc_hi > s->mc_trail ? s->mc_hi : s->mc_trail;
}

/*
 * Decision 63: the span is also held to max_span_bytes of payload (in
 * packets of the largest payload sent so far), never below one window. A
 * receiver keeps what arrives past its oldest hole in its cache (MS-WDSMT
 * 3.2.1.3 MaxAppCacheSize, 64 MiB by default in our client); past that it drops
 * payloads with a zero NACK (3.2.5.13), and MS-WDSMA's next round must bring
 * them. 32 windows of 8 KiB blocks are 128 MiB: once the server was fast
 * enough to get there during a repair, 5% loss on the master's link cost
 * two to three extra rounds of the whole content.
 */
static uint64_t mt_span(const struct wdsmc_mt_server *s)
{
    uint64_t span = (uint64_t)s->p.max_window_size * MT_SPAN_WINDOWS;

    if (s->p.max_span_bytes && s->max_payload) {
        uint64_t b = s->p.max_span_bytes / s->max_payload;
        if (b < s->p.max_window_size)
            b = s->p.max_window_size;
        if (b < span)
            span = b;
    }
    return span;
}

static bool mt_window_open(const struct wdsmc_mt_server *s)
{
    return s->mc_lead - mt_pipe_base(s) < s->window && s->mc_lead - s->mc_trail < mt_span(s);
}

/* The master's HiODATASeqNo from an ACK or NACK, kept within what was sent
 * (a peer may claim anything). */
static void mt_master_hi(struct wdsmc_mt_server *s, uint64_t hi)
{
    if (hi > s->mc_lead)
        hi = s->mc_lead;
    if (hi > s->mc_hi)
        s->mc_hi = hi;
}

/*
 * Decision 56: the master need not ACK every ODATA. MS-WDSMT 3.2.5.13 lets
 * the server say which ones it wants acknowledged with ODATA_FW_LEAD_SEQ_NO
 * (as Windows Server 2012 does, <7>): a client ACKs an ODATA only when the
 * option's value is at least the packet's ODATASeqNo. We ask for one ACK per
 * ack_interval packets (a quarter of the window by default) and for the
 * packet that fills the window, so the ACK clock keeps the window open with
 * a fraction of the ACKs; ACKs are cumulative (3.1.5.9.5), so the window
 * grows as fast. The value of an unrequested ACK is the previous lead, which
 * lies in [MCTrail, MCLead] as 2.2.16 requires.
 */
static void mt_ack_request(struct wdsmc_mt_server *s, struct wdsmc_mt_pkt *pkt, uint64_t seq)
{
    uint32_t every = s->p.ack_interval ? s->p.ack_interval : s->window / 4;

    if (every <= 1)
        return;                             /* no option: every ODATA is acknowledged */
    bool fills_window = !mt_window_open(s); /* seq is MCLead */
    bool wanted = seq % every == 0 || fills_window;
    pkt->opts.has_fw_lead = true;
    pkt->opts.fw_lead_seq = wanted ? seq : seq - 1;
}

/* ODATA (3.1.5.9.4, 3.1.5.9.7) or RDATA (3.1.5.9.8) of the held entry `seq`.
 * Returns the datagram length or a negative error, after which the session
 * has been terminated. */
static ssize_t mt_send_data(struct wdsmc_mt_server *s, uint64_t seq, uint8_t op, uint64_t now)
{
    struct dp_entry *e = dl_at(s, seq);
    struct wdsmc_mt_pkt pkt;
    ssize_t plen, n;

    /* The payload is filled where the encoder puts it, so it is not copied. */
    uint8_t *payload = s->tx + s->data_off;
    plen = s->cb.fill_data(s->cb.ctx, e->token, payload, s->payload_cap);
    if (plen >= 0 && (size_t)plen > s->payload_cap)
        plen = -EMSGSIZE;
    if (plen < 0) {
        mt_terminate(s, (int)plen);
        return plen;
    }
    mt_pkt_init(s, &pkt, op, now);
    pkt.u.data.client_id = s->master_id;
    pkt.u.data.seq = seq;
    pkt.u.data.trail_seq = mt_trail_seq(s);
    pkt.u.data.data = payload;
    pkt.u.data.data_len = (uint16_t)plen;
    if ((size_t)plen > s->max_payload)
        s->max_payload = (size_t)plen;
    /* A payload too large to leave room for the option goes without it
     * (acknowledged, as without decision 56): a 65448-byte block fills
     * the datagram. */
    if (op == WDSMC_MT_ODATA && (size_t)plen + s->fw_lead_len <= s->payload_cap)
        mt_ack_request(s, &pkt, seq);
    n = mt_send_data_pkt(s, &pkt);
    if (n < 0) {
        mt_terminate(s, (int)n);
        return n;
    }
    e = dl_at(s, seq); /* the callbacks cannot move it, but stay safe */
    if (e)
        e->last_send = now;
    if (op == WDSMC_MT_ODATA) {
        s->st.odata_packets++;
        s->st.odata_bytes += (uint64_t)n;
    } else {
        s->st.rdata_packets++;
        s->st.rdata_bytes += (uint64_t)n;
    }
    if (s->max_rate)
        s->tokens -= (int64_t)n * 1000;
    return n;
}

/* ------------------------------------------------------------------------ */
/* Data flow: window, rate, repairs                                          */
/* ------------------------------------------------------------------------ */

static void mt_rate_refill(struct wdsmc_mt_server *s, uint64_t now)
{
    uint64_t dt;

    if (!s->max_rate)
        return;
    dt = now > s->rate_last ? now - s->rate_last : 0;
    s->rate_last = now > s->rate_last ? now : s->rate_last;
    /* Past the bucket's depth more time adds nothing; bounding dt keeps the
     * product far from overflow. */
    if (dt > 100000)
        dt = 100000;
    s->tokens += (int64_t)(dt * s->max_rate);
    if (s->tokens > s->burst)
        s->tokens = s->burst;
}

static bool mt_rate_ok(const struct wdsmc_mt_server *s)
{
    return !s->max_rate || s->tokens > 0;
}

/*
 * Send what may be sent now: owed RDATA first, then new ODATA pulled from the
 * application while MCLead - MCTrail < CurrentWindowSize (3.1.5.9.5), the
 * Data Packet List has room and the rate allows. When only the rate stops us,
 * arm the rate timer for when the bucket holds a token again.
 */
static void mt_flush(struct wdsmc_mt_server *s, uint64_t now)
{
    bool blocked = false;

    if (s->in_flush || s->state != WDSMC_MT_SERVER_DATA || s->tx_paused)
        return;
    s->in_flush = true;
    s->rate_at = UINT64_MAX;
    mt_rate_refill(s, now);

    /* Owed repairs lie at or above repair_lo: the Data Packet List holds up
     * to a second of packets, too many to scan on every event. */
    for (uint64_t seq = s->repair_lo > s->dl_head_seq ? s->repair_lo : s->dl_head_seq;
         s->repairs_pending && seq < s->dl_head_seq + s->dl_len; seq++) {
        struct dp_entry *e = dl_at(s, seq);

        if (!e->repair)
            continue;
        if (!mt_rate_ok(s)) {
            s->repair_lo = seq;
            blocked = true;
            break;
        }
        e->repair = false;
        e->repaired = true;
        s->repairs_pending--;
        if (mt_send_data(s, seq, WDSMC_MT_RDATA, now) < 0)
            goto out;
        if (s->tx_paused) {
            s->repair_lo = seq + 1;
            goto out;
        }
    }

    while (!blocked && !s->tx_paused && s->repairs_pending == 0 &&
           s->state == WDSMC_MT_SERVER_DATA && mt_window_open(s)) {
        uint64_t token, seq;
        struct dp_entry *e;

        /* At the list's limit, an entry the master has acknowledged may go
         * early: repairs for other clients suffer, memory stays bounded. */
        if (s->dl_len >= s->max_data_list) {
            if (s->dl_head_seq >= s->mc_trail)
                break;
            dl_pop_head(s);
        }
        if (!dl_reserve(s))
            break;
        if (!mt_rate_ok(s)) {
            blocked = true;
            break;
        }
        if (!s->cb.pull_data(s->cb.ctx, &token)) {
            /* With ACKs thinned (decision 56) the last packets of a batch
             * may not have asked for one; an SPM now makes the master
             * acknowledge them (3.2.5.9) instead of at the SPM timer. */
            if (!s->source_dry && s->mc_lead > s->mc_trail && s->p.ack_interval != 1)
                mt_send_spm(s, now);
            s->source_dry = true;
            break;
        }
        s->source_dry = false;
        seq = s->next_odata_seq++;
        if (s->dl_len == 0)
            s->dl_head_seq = seq;
        e = &s->dl[(s->dl_head_idx + s->dl_len) % s->dl_cap];
        s->dl_len++;
        *e = (struct dp_entry){.token = token, .created = now, .last_send = now};
        /* MCLeadODATASeqNo is the highest sequence number sent. */
        s->mc_lead = seq;
        s->sent_since_empty = true;
        if (mt_send_data(s, seq, WDSMC_MT_ODATA, now) < 0)
            goto out;
    }
    if (blocked) {
        uint64_t need = (uint64_t)(-s->tokens) + 1;
        uint64_t ms = (need + s->max_rate - 1) / s->max_rate;

        s->rate_at = now + (ms ? ms : 1);
    }
out:
    mt_batch_flush(s);
    s->in_flush = false;
}

/* ------------------------------------------------------------------------ */
/* States                                                                    */
/* ------------------------------------------------------------------------ */

/*
 * MS-WDSMT 3.1.5.7.3. `retry`: the previous QCC of this QCCState got no QCR.
 *
 * Decision 44: QCRBackOff is WaitTime alone (1 ms per active client, or the
 * doubling below), and the InState QCC Timer is WaitTime plus the RTT
 * allowance. Read literally (max RTT added to WaitTime, used for both) a
 * client drawing its delay near the end of QCRBackOff replies after the timer.
 *
 * Decision 46: after a round without any QCR, WaitTime doubles up to
 * NoClientQCCInterval (never below 1 ms per active client) even when the
 * Active Client List is not empty, as it does when the list is empty: a list
 * holding only clients that went silent (their LEAVE lost) would otherwise
 * get a QCC every N + RTT ms until ClientDeadTimeout.
 */
static void mt_send_qcc_instate(struct wdsmc_mt_server *s, bool retry, uint64_t now)
{
    struct wdsmc_mt_pkt pkt;
    uint32_t active = 0;
    uint64_t wait;

    for (uint32_t i = 0; i < s->nclients; i++) {
        if (s->clients[i].state == WDSMC_MT_SC_ACTIVE) {
            s->clients[i].qcr_received = false;
            active++;
        }
    }
    wait = active;
    if (!active || retry) {
        uint64_t doubled = min_u64(2 * (uint64_t)s->wait_time, s->p.no_client_qcc_interval);

        if (doubled > wait)
            wait = doubled;
    }
    if (wait < 1)
        wait = 1;
    if (wait > UINT16_MAX)
        wait = UINT16_MAX; /* it travels as QCRBackOff */
    s->wait_time = (uint32_t)wait;

    mt_pkt_init(s, &pkt, WDSMC_MT_QCC, now);
    pkt.u.qcc.qcc_seq = s->next_qcc_seq++;
    pkt.u.qcc.qcr_backoff = (uint16_t)wait;
    if (mt_send_mcast(s, &pkt) > 0)
        s->st.qcc_packets++;
    s->qcc_at = now + wait + mt_rtt_allowance(s);
}

/* MS-WDSMT 3.1.5.7.1, after leaving DataState (3.1.5.9.2) if we were in it. */
static void mt_enter_qcc(struct wdsmc_mt_server *s, uint64_t now)
{
    s->state = WDSMC_MT_SERVER_QCC;
    s->spm_at = s->cleanup_at = s->rate_at = UINT64_MAX;
    s->wait_time = 1;
    mt_send_qcc_instate(s, false, now);
}

/* MS-WDSMT 3.1.5.9.1 */
static void mt_enter_data(struct wdsmc_mt_server *s, uint64_t now)
{
    s->state = WDSMC_MT_SERVER_DATA;
    s->spm_count = 0;
    s->cleanup_at = now + s->p.cleanup_data_list_interval;
    s->qcc_at = now + s->p.qcc_interval;
    mt_send_spm(s, now);
    mt_flush(s, now);
}

/* The master is no longer an active client. */
static void mt_master_gone(struct wdsmc_mt_server *s, uint64_t now)
{
    s->master_id = 0;
    if (s->state == WDSMC_MT_SERVER_DATA)
        mt_enter_qcc(s, now);
}

/* Remove clients[i] for good and tell the application. */
static void mt_drop_client(struct wdsmc_mt_server *s, uint32_t i, int reason, uint64_t now)
{
    uint32_t id = s->clients[i].id;
    bool was_master = s->clients[i].state == WDSMC_MT_SC_ACTIVE && id == s->master_id;
    bool joined = s->clients[i].state != WDSMC_MT_SC_PENDING;

    mt_remove_at(s, i);
    if (joined && s->cb.client_left)
        s->cb.client_left(s->cb.ctx, id, reason);
    if (was_master)
        mt_master_gone(s, now);
}

static int mt_left_reason(enum wdsmc_mt_server_client_state state, int leave_reason)
{
    if (state == WDSMC_MT_SC_KICKED)
        return WDSMC_MT_LEFT_KICKED;
    if (state == WDSMC_MT_SC_DEMOTED)
        return WDSMC_MT_LEFT_DEMOTED;
    if (leave_reason < 0)
        return WDSMC_MT_LEFT_DEAD;
    if (leave_reason == WDSMC_LEAVE_COMPLETE || leave_reason == WDSMC_LEAVE_INACTIVE)
        return leave_reason;
    return WDSMC_MT_LEFT_CANCELLED;
}

/* ------------------------------------------------------------------------ */
/* Packet processing                                                         */
/* ------------------------------------------------------------------------ */

/* MS-WDSMT 3.1.5.2 */
static int mt_on_join(struct wdsmc_mt_server *s, const struct wdsmc_mt_pkt *pkt,
                      const struct wdsmc_endpoint *from, uint64_t now)
{
    uint32_t live = 0;
    struct mt_client *c;

    if (s->state == WDSMC_MT_SERVER_CLOSING) {
        s->st.joins_refused++;
        return -EUSERS;
    }
    /* Decision 9: a JOIN repeated while the first is pending gets the same
     * ClientId. It also shows the client is alive, so its JoinAck retries
     * start over. */
    for (uint32_t i = 0; i < s->nclients; i++) {
        c = &s->clients[i];
        if (c->state == WDSMC_MT_SC_PENDING && ep_equal(&c->ep, from)) {
            c->client_time = pkt->sender_time;
            c->last_update = now;
            c->join_ack_count = 1;
            c->join_ack_at = now + s->p.join_ack_to_qcr_timeout;
            mt_recompute_client_timer(s);
            mt_send_joinack(s, c, now);
            return 0;
        }
        live += c->state == WDSMC_MT_SC_PENDING || c->state == WDSMC_MT_SC_ACTIVE;
    }
    /* 3.1.1.2 limits a list to 200 clients: new JOINs count against pending
     * plus active, and every list together is bounded by twice that. */
    if (live >= s->max_clients || s->nclients >= s->clients_cap) {
        s->st.joins_refused++;
        return -EUSERS;
    }

    c = &s->clients[s->nclients++];
    memset(c, 0, sizeof(*c));
    /* 3.1.5.2.1; decision 9: never 0, never an id still in use. */
    while (s->next_client_id == 0 || mt_find(s, s->next_client_id))
        s->next_client_id++;
    c->id = s->next_client_id++;
    c->state = WDSMC_MT_SC_PENDING;
    c->ep = *from;
    memcpy(c->name, pkt->u.join.client_name, sizeof(c->name));
    c->name[sizeof(c->name) - 1] = '\0';
    memcpy(c->mac, pkt->u.join.mac, sizeof(c->mac));
    c->client_time = pkt->sender_time;
    c->last_update = now;
    c->join_time = now;
    c->kick_reason = WDSMC_KICK_FAIL;
    c->supports_demote = pkt->opts.has_caps && pkt->opts.caps_len &&
                         memchr(pkt->opts.caps, WDSMC_MT_CAP_MULTISTREAM, pkt->opts.caps_len);
    c->join_ack_count = 1;
    c->join_ack_at = now + s->p.join_ack_to_qcr_timeout;
    mt_recompute_client_timer(s);
    mt_send_joinack(s, c, now);
    return 0;
}

/* Decision 10: RTT = now - ServerTime - BackOff; not from a voluntary QCR. */
static void mt_qcr_rtt(struct mt_client *c, const struct wdsmc_mt_qcr *q, uint64_t now)
{
    uint64_t spent = q->server_time + q->backoff;

    if (q->server_time == 0 || spent < q->server_time || spent > now)
        return;
    c->rtt = (uint32_t)min_u64(now - spent, UINT16_MAX);
}

/* MS-WDSMT 3.1.5.2.3: move a pending client to the Active Client List, then
 * client_joined and the Status Trigger with `app`. */
static void mt_activate(struct wdsmc_mt_server *s, struct mt_client *c, const uint8_t *app,
                        size_t len, uint64_t now)
{
    uint32_t id = c->id;

    c->state = WDSMC_MT_SC_ACTIVE;
    c->last_update = now;
    mt_recompute_client_timer(s);
    /* Decision 8: the first QCR starts the session. The state changes before
     * the callbacks, so a POLL sent from inside them goes out. */
    if (s->state == WDSMC_MT_SERVER_PRESTART)
        mt_enter_qcc(s, now);
    if (s->cb.client_joined)
        s->cb.client_joined(s->cb.ctx, id, 0);
    if (s->cb.status && s->state != WDSMC_MT_SERVER_DONE)
        s->cb.status(s->cb.ctx, id, app, len, now);
}

/*
 * Who sent a NACK, POLLACK or ACK naming `id` from `from`. A ClientId on no
 * list gets a KICK (decision 43). A pending client sending from its own
 * endpoint received its JOINACK, so it becomes active (decision 41, 3.1.6.1:
 * the QCR that would have activated it may be lost for good, and in
 * RegularState it never JOINs again); the packet is then processed normally.
 * Returns the client, or NULL with *err set.
 */
static struct mt_client *mt_sender(struct wdsmc_mt_server *s, uint32_t id,
                                   const struct wdsmc_endpoint *from, uint64_t now, int *err)
{
    struct mt_client *c = mt_find(s, id);

    *err = -ENOENT;
    if (!c) {
        mt_kick_stray(s, id, from, now);
        return NULL;
    }
    if (c->state != WDSMC_MT_SC_PENDING)
        return c;
    if (!ep_equal(&c->ep, from))
        return NULL;
    mt_activate(s, c, NULL, 0, now);
    if (s->state == WDSMC_MT_SERVER_DONE) {
        *err = -ESHUTDOWN;
        return NULL;
    }
    /* The callbacks may have kicked it, which moves no entry; find it again
     * all the same. */
    return mt_find(s, id);
}

/* MS-WDSMT 3.1.5.8, 3.1.5.2.3 */
static int mt_on_qcr(struct wdsmc_mt_server *s, const struct wdsmc_mt_pkt *pkt,
                     const struct wdsmc_endpoint *from, uint64_t now)
{
    const struct wdsmc_mt_qcr *q = &pkt->u.qcr;
    struct mt_client *c = mt_find(s, q->client_id);
    uint32_t id = q->client_id;

    if (!c) {
        mt_kick_stray(s, id, from, now); /* decision 43 */
        return -ENOENT;
    }
    /* 3.1.5.8 sends a QCR with QCCSeqNo 0 from a pending client to 3.1.5.2.3.
     * Decision 41: one with any QCCSeqNo does the same when it comes from the
     * client's endpoint (the client answered a QCC, so it has its JOINACK;
     * its answer to the JOINACK was lost). RTT is measured when ServerTime
     * allows (decision 10), whatever QCC it answers; QCRReceived only for the
     * current QCC. */
    if (c->state == WDSMC_MT_SC_PENDING) {
        if (q->qcc_seq != 0 && !ep_equal(&c->ep, from))
            return -ENOENT;
        mt_qcr_rtt(c, q, now);
        c->loss_rate = q->loss_rate;
        c->qcr_received = q->qcc_seq != 0 && q->qcc_seq + 1 == s->next_qcc_seq;
        mt_activate(s, c, q->app, q->app_len, now);
        return 0;
    }
    /* Decision 45: besides 0 and NextQCCSeqNo - 1, a QCR answering the QCC
     * before (NextQCCSeqNo - 2) is late but still shows the client alive and
     * measures its RTT; it does not answer this round (no QCRReceived). */
    if (q->qcc_seq != 0 && q->qcc_seq + 1 != s->next_qcc_seq && q->qcc_seq + 2 != s->next_qcc_seq)
        return -ESTALE;
    c->last_update = now;
    mt_qcr_rtt(c, q, now);
    c->loss_rate = q->loss_rate;
    if (q->qcc_seq == 0 || q->qcc_seq + 1 == s->next_qcc_seq)
        c->qcr_received = true;
    if (s->cb.status)
        s->cb.status(s->cb.ctx, id, q->app, q->app_len, now);
    return 0;
}

/* MS-WDSMT 3.1.5.3, extended to the pending and demoted lists. */
static int mt_on_leave(struct wdsmc_mt_server *s, const struct wdsmc_mt_pkt *pkt, uint64_t now)
{
    for (uint32_t i = 0; i < s->nclients; i++) {
        if (s->clients[i].id == pkt->u.leave.client_id) {
            mt_drop_client(s, i, mt_left_reason(s->clients[i].state, pkt->u.leave.reason), now);
            return 0;
        }
    }
    return -ENOENT;
}

/* MS-WDSMT 3.1.5.5. A POLLACK answering the last POLL is accepted until the
 * next POLL goes out (decision 44 sizes the Query Timer for it). */
static int mt_on_pollack(struct wdsmc_mt_server *s, const struct wdsmc_mt_pkt *pkt,
                         const struct wdsmc_endpoint *from, uint64_t now)
{
    const struct wdsmc_mt_pollack *pa = &pkt->u.pollack;
    int err;
    struct mt_client *c = mt_sender(s, pa->client_id, from, now, &err);

    if (!c)
        return err;
    if (c->state != WDSMC_MT_SC_ACTIVE)
        return -ENOENT;
    if (s->next_poll_seq == 1 || pa->poll_seq != s->next_poll_seq - 1)
        return -ESTALE;
    if (s->cb.pollack)
        s->cb.pollack(s->cb.ctx, pa->client_id, pa->app, pa->app_len, now);
    return 0;
}

/* MS-WDSMT 3.1.5.9.5 */
static int mt_on_ack(struct wdsmc_mt_server *s, const struct wdsmc_mt_pkt *pkt,
                     const struct wdsmc_endpoint *from, uint64_t now)
{
    const struct wdsmc_mt_ack *a = &pkt->u.ack;
    struct mt_client *c;
    uint64_t acked, base, w;
    int err;

    if (!mt_sender(s, a->client_id, from, now, &err))
        return err;
    if (s->state != WDSMC_MT_SERVER_DATA || a->client_id != s->master_id)
        return -ESTALE;
    if (a->odata_seq < s->mc_trail || a->odata_seq > s->mc_lead)
        return -ESTALE;
    s->spm_count = 0;
    if (a->server_time != 0 && a->server_time <= now)
        s->mc_rtt = (uint32_t)min_u64(now - a->server_time, UINT16_MAX);
    s->mc_loss = a->loss_rate;
    c = mt_find(s, a->client_id);
    if (c) {
        c->rtt = s->mc_rtt;
        c->loss_rate = a->loss_rate;
    }

    /* Decision 60: PacketsAcknowledged is how far the window's base moved. */
    base = mt_pipe_base(s);
    s->mc_trail = a->odata_seq;
    mt_master_hi(s, a->hi_seq);
    acked = mt_pipe_base(s) - base;
    w = s->window;
    if (w < s->p.exp_max_window_size)
        w = min_u64(w + 2 * acked, s->p.exp_max_window_size);
    else
        w = min_u64(w + acked, s->p.max_window_size);
    s->window = (uint32_t)w;
    /* The rest of 3.1.5.9.5 (send up to window - in flight) is mt_flush(),
     * run after every event. */
    return 0;
}

/*
 * Make c the Master Client. Its ACKs report the highest ODATASeqNo up to which
 * it has everything, which after an SPM is at least TrailODATASeqNo - 1 but may
 * be below the old master's MCTrailODATASeqNo; 3.1.5.9.5 would refuse every
 * one of them until SPMs ran out and the new master were dropped again. So
 * MCTrailODATASeqNo falls back to just below the oldest packet still held:
 * those packets count as in flight until the new master acknowledges them.
 */
static void mt_set_master(struct wdsmc_mt_server *s, const struct mt_client *c)
{
    if (c->id != s->master_id && s->dl_len && s->mc_trail > s->dl_head_seq - 1)
        s->mc_trail = s->dl_head_seq - 1;
    if (c->id != s->master_id)
        s->mc_hi = 0; /* the new master's HiODATASeqNo is not known yet */
    s->master_id = c->id;
    s->mc_rtt = c->rtt;
    s->mc_loss = c->loss_rate;
}

/* Loss fraction of a wire LossRate (decision 6), clamped to [0, 1]. */
static double loss_fraction(uint64_t wire)
{
    double p = (double)wire / 1e16;

    return p > 1.0 ? 1.0 : p;
}

/*
 * The square of Mclient of 3.1.5.9.6.1 (throughput = 1 / M). Comparing
 * squares avoids sqrt() and libm: every factor is non-negative. RTT is
 * clamped to >= 1 ms (decision 10). M = 0 (no loss) is infinite throughput.
 */
static double throughput_m2(uint32_t rtt_ms, uint64_t loss_wire)
{
    double p = loss_fraction(loss_wire);
    double r = (rtt_ms ? rtt_ms : 1) / 1000.0;
    double f = r * (1.0 + 9.0 * p * (1.0 + 32.0 * p * p));

    return f * f * p;
}

/* MS-WDSMT 3.1.5.9.6.1: switch to the client if its throughput is below 75%
 * of the master's: 1/Mc < 0.75/Mm, i.e. Mm < 0.75 Mc, i.e. Mm^2 < 0.5625 Mc^2.
 * A client without loss never qualifies; against a lossless master any lossy
 * client does. */
static void mt_maybe_switch_master(struct wdsmc_mt_server *s, const struct mt_client *c)
{
    double mc2 = throughput_m2(c->rtt, c->loss_rate);
    double mm2 = throughput_m2(s->mc_rtt, s->mc_loss);

    if (mc2 <= 0.0 || !(mm2 < 0.5625 * mc2))
        return;
    mt_set_master(s, c);
    s->st.master_switches++;
}

/* MS-WDSMT 3.1.5.9.6 */
static int mt_on_nack(struct wdsmc_mt_server *s, const struct wdsmc_mt_pkt *pkt,
                      const struct wdsmc_endpoint *from, uint64_t now)
{
    const struct wdsmc_mt_nack *nk = &pkt->u.nack;
    struct mt_client *c;
    struct wdsmc_mt_pkt ncf;
    uint64_t budget, hold, re_hold;
    size_t count;
    int err;

    c = mt_sender(s, nk->client_id, from, now, &err);
    if (!c)
        return err;
    if (s->state != WDSMC_MT_SERVER_DATA)
        return -ESTALE;
    if (c->state != WDSMC_MT_SC_ACTIVE)
        return -ENOENT;
    c->loss_rate = nk->loss_rate;
    if (nk->client_id == s->master_id) {
        s->mc_loss = nk->loss_rate;
        mt_master_hi(s, nk->hi_seq);
    } else
        mt_maybe_switch_master(s, c);

    if (nk->list.count == 0)
        return 0;
    /* Decision 58: 3.1.5.9.6 cuts the window by a quarter on every NACK, but
     * a receiver NACKs the same loss again each back-off until the repair
     * lands, and every receiver NACKs its own copy of it: cut once per flight
     * (once per loss of a packet sent after the previous cut), as TCP does,
     * or one burst of loss pins the window at 2 for as long as repairs take. */
    struct wdsmc_range last = wdsmc_mt_range_get(&nk->list, nk->list.count - 1);
    if (min_u64(last.end, s->mc_lead) > s->cut_lead) {
        s->window = s->window * 3 / 4 > 2 ? s->window * 3 / 4 : 2;
        if (s->window > s->p.max_window_size)
            s->window = s->p.max_window_size;
        s->cut_lead = s->mc_lead;
    }

    count = nk->list.count < s->max_ranges ? nk->list.count : s->max_ranges;
    for (size_t i = 0; i < count; i++)
        s->ncf_ranges[i] = wdsmc_mt_range_get(&nk->list, i);
    mt_pkt_init(s, &ncf, WDSMC_MT_NCF, now);
    ncf.u.ncf.count = (uint16_t)count;
    ncf.u.ncf.ranges = s->ncf_ranges;
    if (mt_send_mcast(s, &ncf) > 0)
        s->st.ncf_packets++;

    /* A peer may list the same packets many times over: one NACK never makes
     * us look at more entries than the list holds. */
    budget = s->dl_len;
    hold = 4 * (uint64_t)s->mc_rtt;
    re_hold = mt_min_nack_backoff(s);
    for (size_t i = 0; i < nk->list.count && budget && s->dl_len; i++) {
        struct wdsmc_range r = wdsmc_mt_range_get(&nk->list, i);
        uint64_t lo = r.start > s->dl_head_seq ? r.start : s->dl_head_seq;
        uint64_t hi = min_u64(r.end, s->dl_head_seq + s->dl_len - 1);

        for (uint64_t seq = lo; seq <= hi && budget; seq++, budget--) {
            struct dp_entry *e = dl_at(s, seq);

            /* The first repair of a packet waits only the 4 x MCRTT of
             * 3.1.5.9.6: the master's ACKs cannot pass the hole, so the
             * window stands still until it is filled. Further repairs of
             * the same packet wait at least MinNACKBackOff, at which a
             * master repeats a NACK (decision 57): that stops a storm, and
             * a repeat after the back-off is served. */
            uint64_t h = e->repaired && hold < re_hold ? re_hold : hold;
            if (e->repair || now - e->last_send < h)
                continue;
            if (s->repairs_pending == 0 || seq < s->repair_lo)
                s->repair_lo = seq;
            e->repair = true;
            s->repairs_pending++;
        }
    }
    return 0;
}

int wdsmc_mt_server_handle(struct wdsmc_mt_server *s, const uint8_t *buf, size_t len,
                           const struct wdsmc_endpoint *from, uint64_t now)
{
    struct wdsmc_mt_pkt pkt;
    ssize_t n;
    int r;

    if (s->state == WDSMC_MT_SERVER_DONE) {
        r = -ESHUTDOWN;
        goto out;
    }
    if (!buf || !from) {
        r = -EINVAL;
        goto out;
    }
    /* 3.1.5.1.1 Packet Validation: the security header must be the client
     * security mode's (-EPROTO), and its HMAC or checksum right. */
    n = wdsmc_mt_decode_sec(buf, len, &s->rx_sec, &pkt);
    if (n == -WDSMC_ESECTYPE && pkt.sec_type != s->client_sec) {
        r = -EPROTO;
        goto out;
    }
    if (n < 0) {
        if (n == -WDSMC_EHMAC)
            s->st.auth_failures++;
        r = (int)n;
        goto out;
    }
    if (pkt.session_id != s->session_id) {
        r = -EXDEV;
        goto out;
    }
    switch (pkt.opcode) {
    case WDSMC_MT_JOIN:
    case WDSMC_MT_QCR:
    case WDSMC_MT_LEAVE:
    case WDSMC_MT_POLLACK:
    case WDSMC_MT_ACK:
    case WDSMC_MT_NACK:
        /* 3.1.5.1: any valid packet from a client re-arms the Inactivity
         * Timer, whatever becomes of it next. */
        s->inactivity_at = now + s->p.inactivity_timeout;
        break;
    default:
        r = -EPROTO;
        goto out;
    }

    switch (pkt.opcode) {
    case WDSMC_MT_JOIN:
        r = mt_on_join(s, &pkt, from, now);
        break;
    case WDSMC_MT_QCR:
        r = mt_on_qcr(s, &pkt, from, now);
        break;
    case WDSMC_MT_LEAVE:
        r = mt_on_leave(s, &pkt, now);
        break;
    case WDSMC_MT_POLLACK:
        r = mt_on_pollack(s, &pkt, from, now);
        break;
    case WDSMC_MT_ACK:
        r = mt_on_ack(s, &pkt, from, now);
        break;
    default:
        r = mt_on_nack(s, &pkt, from, now);
        break;
    }
    if (s->state == WDSMC_MT_SERVER_DATA)
        mt_flush(s, now);
    else if (s->state == WDSMC_MT_SERVER_CLOSING && mt_count(s, WDSMC_MT_SC_KICKED) == 0)
        mt_terminate(s, -ECANCELED);
out:
    if (r == 0)
        s->st.rx_packets++;
    else
        s->st.rx_dropped++;
    return r;
}

/* ------------------------------------------------------------------------ */
/* Timers                                                                    */
/* ------------------------------------------------------------------------ */

/*
 * MS-WDSMT 3.1.6.1 JoinAck Timer and 3.1.6.2 Client Cleanup Timer, per client.
 *
 * Decision 42: after MaxJoinAckSends JOINACKs no more are sent, but the
 * pending entry stays until ClientDeadTimeout after its LastUpdate (3.1.6.1
 * removes it at once). A client that got a JOINACK is in RegularState and
 * never JOINs again; if every QCR it answered with was lost, its voluntary QCR
 * (3.2.5.8, every ForceQCCInterval) or any other packet still finds its entry
 * and makes it active (decision 41).
 */
static void mt_client_timers(struct wdsmc_mt_server *s, uint64_t now)
{
    uint64_t next = UINT64_MAX;
    uint32_t i = 0;

    while (i < s->nclients && s->state != WDSMC_MT_SERVER_DONE) {
        struct mt_client *c = &s->clients[i];

        if (c->state == WDSMC_MT_SC_PENDING) {
            if (c->join_ack_count < s->p.max_join_ack_sends && now >= c->join_ack_at) {
                mt_send_joinack(s, c, now);
                c->join_ack_count++;
                c->join_ack_at = now + s->p.join_ack_to_qcr_timeout;
            }
            if (now >= mt_pending_deadline(s, c)) {
                mt_remove_at(s, i); /* it never joined: no client_left */
                continue;
            }
            next = min_u64(next, mt_pending_deadline(s, c));
        } else {
            uint64_t dead_at = c->last_update + s->p.client_dead_timeout + 1;

            /* "more than ClientDeadTimeout" since LastUpdate */
            if (now >= dead_at) {
                mt_drop_client(s, i, mt_left_reason(c->state, -1), now);
                continue;
            }
            next = min_u64(next, dead_at);
        }
        i++;
    }
    s->client_timer_at = next;
}

/* MS-WDSMT 3.1.6.7 Cleanup Data List Timer, with decision 12. */
static void mt_cleanup_data_list(struct wdsmc_mt_server *s, uint64_t now)
{
    uint32_t removed = 0;

    while (s->dl_len && s->dl_head_seq < s->mc_trail &&
           now - s->dl[s->dl_head_idx].created > WDSMC_MT_SERVER_DATA_HOLD) {
        dl_pop_head(s);
        removed++;
    }
    s->cleanup_at = now + s->p.cleanup_data_list_interval;
    if (removed)
        mt_send_spm(s, now);

    /* Decision 12: Data Empty only when the master has acknowledged all that
     * was sent and the application has nothing more (asked just now). */
    if (!s->sent_since_empty || s->mc_trail != s->mc_lead)
        return;
    mt_flush(s, now);
    if (s->state == WDSMC_MT_SERVER_DATA && s->source_dry && s->mc_trail == s->mc_lead) {
        s->sent_since_empty = false;
        if (s->cb.data_empty)
            s->cb.data_empty(s->cb.ctx, now);
    }
}

void wdsmc_mt_server_timeout(struct wdsmc_mt_server *s, uint64_t now)
{
    if (s->state == WDSMC_MT_SERVER_DONE)
        return;
    /* 3.1.6.9 */
    if (now >= s->inactivity_at) {
        mt_terminate(s, -ETIMEDOUT);
        return;
    }
    /* Decision 14: terminate gives up on kicked clients after 30 s. */
    if (now >= s->close_at) {
        mt_terminate(s, -ECANCELED);
        return;
    }
    if (now >= s->client_timer_at)
        mt_client_timers(s, now);

    /* 3.1.6.3 Kick Timer */
    if (s->state != WDSMC_MT_SERVER_DONE && now >= s->kick_at) {
        if (mt_count(s, WDSMC_MT_SC_KICKED) == 0) {
            s->kick_at = UINT64_MAX;
        } else {
            mt_send_kicks(s, now);
            s->kick_at = now + s->p.kick_interval;
        }
    }
    /* 3.1.6.8 Demote Timer */
    if (s->state != WDSMC_MT_SERVER_DONE && now >= s->demote_at) {
        if (mt_count(s, WDSMC_MT_SC_DEMOTED) == 0) {
            s->demote_at = UINT64_MAX;
        } else {
            mt_send_demotes(s, now);
            s->demote_at = now + s->p.demote_interval;
        }
    }
    if (now >= s->qcc_at) {
        if (s->state == WDSMC_MT_SERVER_QCC) {
            /* 3.1.6.4 InState QCC Timer: the responder with the highest RTT
             * becomes the master. */
            struct mt_client *best = NULL;

            for (uint32_t i = 0; i < s->nclients; i++) {
                struct mt_client *c = &s->clients[i];

                if (c->state == WDSMC_MT_SC_ACTIVE && c->qcr_received &&
                    (!best || c->rtt > best->rtt))
                    best = c;
            }
            if (best) {
                mt_set_master(s, best);
                s->qcc_at = UINT64_MAX; /* 3.1.5.7.2 */
                mt_enter_data(s, now);
            } else {
                mt_send_qcc_instate(s, true, now);
            }
        } else if (s->state == WDSMC_MT_SERVER_DATA) {
            /* 3.1.6.5 OutState QCC Timer */
            struct wdsmc_mt_pkt pkt;
            uint64_t backoff = s->p.qcc_interval;
            uint32_t active = mt_count(s, WDSMC_MT_SC_ACTIVE);

            if (active > backoff)
                backoff = active;
            backoff += mt_max_active_rtt(s);
            mt_pkt_init(s, &pkt, WDSMC_MT_QCC, now);
            pkt.u.qcc.qcc_seq = s->next_qcc_seq++;
            pkt.u.qcc.qcr_backoff = clamp16(backoff);
            if (mt_send_mcast(s, &pkt) > 0)
                s->st.qcc_packets++;
            s->qcc_at = now + backoff;
        } else {
            s->qcc_at = UINT64_MAX;
        }
    }
    /* 3.1.6.6 SPM Timer */
    if (s->state == WDSMC_MT_SERVER_DATA && now >= s->spm_at) {
        if (s->spm_count >= s->p.max_no_response_spm)
            mt_enter_qcc(s, now);
        else
            mt_send_spm(s, now);
    }
    if (s->state == WDSMC_MT_SERVER_DATA && now >= s->cleanup_at)
        mt_cleanup_data_list(s, now);

    if (s->state == WDSMC_MT_SERVER_DATA)
        mt_flush(s, now);
    else if (s->state == WDSMC_MT_SERVER_CLOSING && mt_count(s, WDSMC_MT_SC_KICKED) == 0)
        mt_terminate(s, -ECANCELED);
}

uint64_t wdsmc_mt_server_deadline(const struct wdsmc_mt_server *s)
{
    uint64_t d = s->inactivity_at;

    if (s->state == WDSMC_MT_SERVER_DONE)
        return UINT64_MAX;
    d = min_u64(d, s->client_timer_at);
    d = min_u64(d, s->kick_at);
    d = min_u64(d, s->demote_at);
    d = min_u64(d, s->qcc_at);
    d = min_u64(d, s->spm_at);
    d = min_u64(d, s->cleanup_at);
    d = min_u64(d, s->rate_at);
    return min_u64(d, s->close_at);
}

/* ------------------------------------------------------------------------ */
/* Higher-layer triggers                                                     */
/* ------------------------------------------------------------------------ */

int wdsmc_mt_server_poll(struct wdsmc_mt_server *s, const uint8_t *app, size_t len, uint64_t now)
{
    struct wdsmc_mt_pkt pkt;
    uint64_t timer;
    ssize_t n;

    if (s->state == WDSMC_MT_SERVER_DONE)
        return -ESHUTDOWN;
    if (len > UINT16_MAX)
        return -EMSGSIZE;
    /* Decision 44: the clients wait up to PollBackOff, then their POLLACKs
     * need a round trip. */
    timer = s->p.poll_backoff + mt_rtt_allowance(s);
    if (timer > INT_MAX)
        timer = INT_MAX;
    if (s->state == WDSMC_MT_SERVER_PRESTART || s->state == WDSMC_MT_SERVER_CLOSING)
        return (int)timer;
    mt_pkt_init(s, &pkt, WDSMC_MT_POLL, now);
    pkt.u.poll.poll_seq = s->next_poll_seq;
    pkt.u.poll.backoff = s->p.poll_backoff;
    pkt.u.poll.app = app;
    pkt.u.poll.app_len = (uint16_t)len;
    n = mt_send_mcast(s, &pkt);
    if (n < 0)
        return n == -ENOBUFS ? -EMSGSIZE : (int)n;
    s->next_poll_seq++;
    s->st.poll_packets++;
    return (int)timer;
}

void wdsmc_mt_server_tx_pause(struct wdsmc_mt_server *s)
{
    s->tx_paused = true;
    /* No flush runs while paused, so a rate timer would stay in the past
     * and fire on every turn of the loop; resuming sets it again. */
    s->rate_at = UINT64_MAX;
}

void wdsmc_mt_server_tx_resume(struct wdsmc_mt_server *s, uint64_t now)
{
    if (!s->tx_paused)
        return;
    s->tx_paused = false;
    mt_flush(s, now);
}

void wdsmc_mt_server_data_ready(struct wdsmc_mt_server *s, uint64_t now)
{
    s->source_dry = false;
    mt_flush(s, now);
}

int wdsmc_mt_server_kick(struct wdsmc_mt_server *s, uint32_t client_id, uint8_t reason,
                         uint64_t now)
{
    struct mt_client *c;
    bool was_master;

    if (s->state == WDSMC_MT_SERVER_DONE)
        return -ESHUTDOWN;
    c = mt_find(s, client_id);
    if (!c || (c->state != WDSMC_MT_SC_ACTIVE && c->state != WDSMC_MT_SC_PENDING))
        return -ENOENT;
    was_master = c->state == WDSMC_MT_SC_ACTIVE && c->id == s->master_id;
    c->state = WDSMC_MT_SC_KICKED;
    c->kick_reason = reason;
    mt_recompute_client_timer(s);
    /* 3.1.5.6: send now unless the Kick Timer is already running. */
    if (s->kick_at == UINT64_MAX) {
        mt_send_kicks(s, now);
        s->kick_at = now + s->p.kick_interval;
    }
    if (was_master)
        mt_master_gone(s, now);
    return 0;
}

int wdsmc_mt_server_kick_all(struct wdsmc_mt_server *s, uint8_t reason, uint64_t now)
{
    if (s->state == WDSMC_MT_SERVER_DONE || s->state == WDSMC_MT_SERVER_CLOSING)
        return -ESHUTDOWN;
    /* Leave QCCState or DataState: nothing but KICK goes out any more. */
    s->state = WDSMC_MT_SERVER_CLOSING;
    s->qcc_at = s->spm_at = s->cleanup_at = s->rate_at = UINT64_MAX;
    s->master_id = 0;
    for (uint32_t i = 0; i < s->nclients; i++) {
        struct mt_client *c = &s->clients[i];

        if (c->state == WDSMC_MT_SC_ACTIVE || c->state == WDSMC_MT_SC_PENDING) {
            c->state = WDSMC_MT_SC_KICKED;
            c->kick_reason = reason;
        }
    }
    mt_recompute_client_timer(s);
    s->close_at = now + WDSMC_MT_SERVER_KICK_ALL_TIMEOUT;
    if (mt_count(s, WDSMC_MT_SC_KICKED) == 0) {
        mt_terminate(s, -ECANCELED);
        return 0;
    }
    mt_send_kicks(s, now);
    s->kick_at = now + s->p.kick_interval;
    return 0;
}

int wdsmc_mt_server_demote(struct wdsmc_mt_server *s, uint32_t client_id,
                           const struct wdsmc_mt_demote_target *target, uint64_t now)
{
    struct mt_client *c;
    bool was_master;

    if (s->state == WDSMC_MT_SERVER_DONE)
        return -ESHUTDOWN;
    if (!target || (target->mcast.ip.len != 4 && target->mcast.ip.len != 16) ||
        (target->ucast.ip.len != 4 && target->ucast.ip.len != 16))
        return -EINVAL;
    c = mt_find(s, client_id);
    if (!c || c->state != WDSMC_MT_SC_ACTIVE)
        return -ENOENT;
    was_master = c->id == s->master_id;
    c->state = WDSMC_MT_SC_DEMOTED;
    c->demote = *target;
    /* 3.1.5.10: send now unless the Demote Timer is already running. */
    if (s->demote_at == UINT64_MAX) {
        mt_send_demotes(s, now);
        s->demote_at = now + s->p.demote_interval;
    }
    if (was_master)
        mt_master_gone(s, now);
    return 0;
}

int wdsmc_mt_server_set_progress(struct wdsmc_mt_server *s, uint32_t client_id, uint8_t progress,
                                 uint32_t time_in_session)
{
    struct mt_client *c = mt_find(s, client_id);

    if (!c)
        return -ENOENT;
    c->has_progress = true;
    c->progress = progress;
    c->time_in_session = time_in_session;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Creation and statistics                                                   */
/* ------------------------------------------------------------------------ */

void wdsmc_mt_server_params_default(struct wdsmc_mt_server_params *p)
{
    *p = (struct wdsmc_mt_server_params){
            .inactivity_timeout = 300000,
            .join_ack_to_qcr_timeout = 500,
            .max_join_ack_sends = 3,
            .poll_backoff = 200,
            .kick_interval = 15000,
            .no_client_qcc_interval = 500,
            .qcc_interval = 5000,
            .client_dead_timeout = 60000,
            .spm_interval = 220,
            .cleanup_data_list_interval = 200,
            .max_no_response_spm = 5,
            /* Decision 62 (DESIGN.md 13 gave 32 and 128). */
            .exp_max_window_size = 128,
            .max_window_size = 512,
            .demote_interval = 500,
            .ack_interval = 0,
            .max_span_bytes = WDSMC_MT_SERVER_DEFAULT_SPAN_BYTES,
    };
}

void wdsmc_mt_server_config_default(struct wdsmc_mt_server_config *cfg, uint32_t session_id,
                                    uint64_t seed)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->session_id = session_id;
    cfg->server_sec = WDSMC_SEC_CHECKSUM;
    cfg->client_sec = WDSMC_SEC_CHECKSUM;
    wdsmc_mt_server_params_default(&cfg->params);
    cfg->max_clients = WDSMC_MT_SERVER_DEFAULT_MAX_CLIENTS;
    cfg->max_data_list = WDSMC_MT_SERVER_DEFAULT_MAX_DATA_LIST;
    cfg->seed = seed;
}

/* How many bytes an ODATA adds around its payload with our security mode,
 * with or without the ODATA_FW_LEAD_SEQ_NO option. */
static ssize_t mt_data_overhead(struct wdsmc_mt_server *s, bool fw_lead)
{
    struct wdsmc_mt_pkt pkt;

    mt_pkt_init(s, &pkt, WDSMC_MT_ODATA, 0);
    pkt.opts.has_fw_lead = fw_lead;
    return mt_encode(s, &pkt);
}

int wdsmc_mt_server_new(const struct wdsmc_mt_server_config *cfg,
                        const struct wdsmc_mt_server_callbacks *cb, uint64_t now,
                        struct wdsmc_mt_server **ret)
{
    const struct wdsmc_mt_server_params *p;
    struct wdsmc_mt_server *s;
    ssize_t overhead;

    if (!cfg || !cb || !ret || !cb->send_mcast || !cb->send_ucast || !cb->pull_data ||
        !cb->fill_data)
        return -EINVAL;
    int need = wdsmc_mtsec_needs(cfg->server_sec, cfg->client_sec, true);
    if (need < 0)
        return need;
    p = &cfg->params;
    if (p->exp_max_window_size == 0 || p->max_window_size < p->exp_max_window_size ||
        p->max_window_size < 2 || p->max_join_ack_sends == 0)
        return -EINVAL;

    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->cb = *cb;
    s->p = *p;
    s->session_id = cfg->session_id;
    s->server_sec = cfg->server_sec;
    s->client_sec = cfg->client_sec;
    int r = wdsmc_mtsec_init(&s->keys, cfg->keys, (unsigned)need, cfg->seed);
    if (r < 0) {
        free(s);
        return r;
    }
    wdsmc_mtsec_view(&s->keys, s->server_sec, &s->tx_sec);
    wdsmc_mtsec_view(&s->keys, s->client_sec, &s->rx_sec);
    s->max_clients = cfg->max_clients ? cfg->max_clients : WDSMC_MT_SERVER_DEFAULT_MAX_CLIENTS;
    s->max_data_list =
            cfg->max_data_list ? cfg->max_data_list : WDSMC_MT_SERVER_DEFAULT_MAX_DATA_LIST;
    s->max_rate = cfg->max_rate > MT_MAX_RATE ? MT_MAX_RATE : cfg->max_rate;

    s->state = WDSMC_MT_SERVER_PRESTART;
    s->rng = cfg->seed;
    s->next_client_id = (uint32_t)mt_rand(s);
    if (s->next_client_id == 0)
        s->next_client_id = 1;
    s->next_poll_seq = 1;

    /* 3.1.1.3 initial values */
    s->min_nack = 1;
    s->max_nack = 1;
    s->mc_rtt = 1;
    s->next_spm_seq = 1;
    s->next_odata_seq = 1;
    s->window = 1;
    s->next_qcc_seq = 1;
    s->wait_time = 1;

    s->inactivity_at = now + s->p.inactivity_timeout;
    s->client_timer_at = s->kick_at = s->demote_at = s->qcc_at = UINT64_MAX;
    s->spm_at = s->cleanup_at = s->rate_at = s->close_at = UINT64_MAX;

    if (s->max_rate) {
        uint64_t burst = s->max_rate * MT_BURST_MS / 1000;

        if (burst < WDSMC_MAX_DATAGRAM)
            burst = WDSMC_MAX_DATAGRAM;
        s->burst = (int64_t)burst * 1000;
        s->tokens = s->burst;
        s->rate_last = now;
    }

    /* Pending + active are held to max_clients; kicked and demoted clients
     * come from those, and the whole array to twice the limit. */
    s->clients_cap = s->max_clients > UINT32_MAX / 2 ? UINT32_MAX : 2 * s->max_clients;
    s->clients = calloc(s->clients_cap, sizeof(*s->clients));
    s->txb = malloc(cb->send_mcast_batch ? WDSMC_MT_BATCH_MAX_BYTES + WDSMC_MAX_DATAGRAM
                                         : WDSMC_MAX_DATAGRAM);
    s->tx = s->txb;
    s->max_ranges = wdsmc_mt_max_ranges_sec(&s->tx_sec);
    s->ncf_ranges = calloc(s->max_ranges ? s->max_ranges : 1, sizeof(*s->ncf_ranges));
    if (!s->clients || !s->txb || !s->ncf_ranges) {
        wdsmc_mt_server_free(s);
        return -ENOMEM;
    }
    overhead = mt_data_overhead(s, false);
    ssize_t with_opt = mt_data_overhead(s, true);
    ssize_t off = wdsmc_mt_data_offset(&s->tx_sec);
    if (overhead <= 0 || with_opt < overhead || with_opt >= WDSMC_MAX_DATAGRAM || off <= 0 ||
        off > overhead) {
        wdsmc_mt_server_free(s);
        return -EINVAL;
    }
    s->payload_cap = WDSMC_MAX_DATAGRAM - (size_t)overhead;
    s->data_off = (size_t)off;
    s->fw_lead_len = (size_t)(with_opt - overhead);
    *ret = s;
    return 0;
}

void wdsmc_mt_server_free(struct wdsmc_mt_server *s)
{
    if (!s)
        return;
    free(s->clients);
    free(s->dl);
    free(s->txb);
    free(s->ncf_ranges);
    wdsmc_mtsec_fini(&s->keys);
    free(s);
}

void wdsmc_mt_server_get_stats(const struct wdsmc_mt_server *s, struct wdsmc_mt_server_stats *ret)
{
    *ret = s->st;
    ret->state = s->state;
    ret->master_id = s->master_id;
    ret->window = s->window;
    ret->mc_rtt = s->mc_rtt;
    ret->mc_loss_rate = s->mc_loss;
    ret->next_odata_seq = s->next_odata_seq;
    ret->mc_trail_seq = s->mc_trail;
    ret->mc_lead_seq = s->mc_lead;
    ret->next_spm_seq = s->next_spm_seq;
    ret->next_qcc_seq = s->next_qcc_seq;
    ret->next_poll_seq = s->next_poll_seq;
    ret->data_list_len = s->dl_len;
    ret->clients_pending = mt_count(s, WDSMC_MT_SC_PENDING);
    ret->clients_active = mt_count(s, WDSMC_MT_SC_ACTIVE);
    ret->clients_kicked = mt_count(s, WDSMC_MT_SC_KICKED);
    ret->clients_demoted = mt_count(s, WDSMC_MT_SC_DEMOTED);
}

size_t wdsmc_mt_server_get_clients(const struct wdsmc_mt_server *s,
                                   struct wdsmc_mt_client_info *out, size_t cap)
{
    for (uint32_t i = 0; i < s->nclients && i < cap; i++) {
        const struct mt_client *c = &s->clients[i];
        struct wdsmc_mt_client_info *o = &out[i];

        memset(o, 0, sizeof(*o));
        o->id = c->id;
        o->state = c->state;
        o->is_master = c->state == WDSMC_MT_SC_ACTIVE && c->id == s->master_id;
        o->supports_demote = c->supports_demote;
        memcpy(o->name, c->name, sizeof(o->name));
        memcpy(o->mac, c->mac, sizeof(o->mac));
        o->endpoint = c->ep;
        o->rtt = c->rtt;
        o->loss_rate = c->loss_rate;
        o->has_progress = c->has_progress;
        o->progress = c->progress;
        o->time_in_session = c->time_in_session;
        o->join_time = c->join_time;
        o->last_update = c->last_update;
    }
    return s->nclients;
}

const char *wdsmc_mt_server_state_name(int state)
{
    switch (state) {
    case WDSMC_MT_SERVER_PRESTART:
        return "PRESTART";
    case WDSMC_MT_SERVER_QCC:
        return "QCC";
    case WDSMC_MT_SERVER_DATA:
        return "DATA";
    case WDSMC_MT_SERVER_CLOSING:
        return "CLOSING";
    case WDSMC_MT_SERVER_DONE:
        return "DONE";
    }
    return "?";
}
