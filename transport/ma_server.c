/* SPDX-License-Identifier: MIT */
/*
 * MS-WDSMA server state machine (MS-WDSMA 3.1). See ma_server.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ma_server.h"

/* One CNTCIR kept for the current round (MS-WDSMA 3.1.1 ClientCNTCIRPackets):
 * only the fields the merge needs. */
struct ma_report {
    uint32_t client_id;
    uint32_t time_in_session;
    uint16_t range_count;
    struct wdsmc_range ranges[WDSMC_MA_MAX_RANGES];
};

struct wdsmc_ma_server {
    struct wdsmc_ma_server_callbacks cb;
    uint64_t content_size;
    uint32_t block_size;
    uint64_t total_blocks;

    enum wdsmc_ma_server_state state;
    int err;
    uint64_t query_at; /* Query Timer, UINT64_MAX when disabled */

    /* ClientCNTCIRPackets: at most max_reports, one per client. */
    struct ma_report *reports;
    uint32_t nreports;
    uint32_t max_reports;

    /* MissingBlockRanges, merged; room for every range of every report. */
    struct wdsmc_range *ranges;
    size_t nranges;
    size_t cur_range;   /* index of the range being handed out */
    uint64_t cur_block; /* next block of ranges[cur_range] */

    struct wdsmc_ma_server_stats st;
};

int wdsmc_ma_server_new(const struct wdsmc_ma_server_config *cfg,
                        const struct wdsmc_ma_server_callbacks *cb, struct wdsmc_ma_server **ret)
{
    struct wdsmc_ma_server *ma;

    if (!cfg || !cb || !ret || !cb->poll || !cb->read)
        return -EINVAL;
    if (cfg->block_size == 0 || cfg->block_size > WDSMC_MA_MAX_BLOCK_SIZE)
        return -EINVAL;

    ma = calloc(1, sizeof(*ma));
    if (!ma)
        return -ENOMEM;
    ma->cb = *cb;
    ma->content_size = cfg->content_size;
    ma->block_size = cfg->block_size;
    /* Decision 5: TotalBlocks = ceil(ContentSize / BlockSize), written so that
     * it cannot overflow for a content size near UINT64_MAX. */
    ma->total_blocks =
            cfg->content_size / cfg->block_size + !!(cfg->content_size % cfg->block_size);
    ma->max_reports = cfg->max_reports ? cfg->max_reports : WDSMC_MA_SERVER_DEFAULT_MAX_REPORTS;
    ma->state = WDSMC_MA_SERVER_IDLE;
    ma->query_at = UINT64_MAX;

    ma->reports = calloc(ma->max_reports, sizeof(*ma->reports));
    ma->ranges = calloc((size_t)ma->max_reports * WDSMC_MA_MAX_RANGES, sizeof(*ma->ranges));
    if (!ma->reports || !ma->ranges) {
        wdsmc_ma_server_free(ma);
        return -ENOMEM;
    }
    ma->st.total_blocks = ma->total_blocks;
    *ret = ma;
    return 0;
}

void wdsmc_ma_server_free(struct wdsmc_ma_server *ma)
{
    if (!ma)
        return;
    free(ma->reports);
    free(ma->ranges);
    free(ma);
}

static void ma_fail(struct wdsmc_ma_server *ma, int err)
{
    ma->state = WDSMC_MA_SERVER_DONE;
    ma->err = err;
    ma->query_at = UINT64_MAX;
}

/* MS-WDSMA 3.1.5.1 Query State: forget the reports, send an SRVCIR through the
 * POLL Trigger and arm the Query Timer with the PollBackOff it returns (which
 * from MS-WDSMT includes the clients' round trip, decision 44: until then a
 * POLLACK of this round is kept). */
static int ma_start_round(struct wdsmc_ma_server *ma, uint64_t now)
{
    struct wdsmc_ma_pkt pkt = {.opcode = WDSMC_MA_SRVCIR};
    uint8_t srvcir[WDSMC_MA_HDR_LEN];
    ssize_t n;
    int backoff;

    ma->state = WDSMC_MA_SERVER_QUERY;
    ma->nreports = 0;
    ma->nranges = 0;
    ma->query_at = UINT64_MAX;
    ma->st.rounds++;

    n = wdsmc_ma_encode(&pkt, srvcir, sizeof(srvcir));
    if (n < 0) {
        ma_fail(ma, (int)n);
        return (int)n;
    }
    /* The state is consistent before the call: the transport may call back. */
    backoff = ma->cb.poll(ma->cb.ctx, srvcir, (size_t)n, now);
    if (backoff < 0) {
        ma_fail(ma, backoff);
        return backoff;
    }
    /* The callback may have terminated us, or (through a re-entrant Data Empty
     * Trigger, which QueryState ignores) not; arm only if still querying. */
    if (ma->state == WDSMC_MA_SERVER_QUERY && ma->query_at == UINT64_MAX)
        ma->query_at = now + (uint64_t)backoff;
    return 0;
}

int wdsmc_ma_server_start(struct wdsmc_ma_server *ma, uint64_t now)
{
    if (ma->state != WDSMC_MA_SERVER_IDLE)
        return 0;
    return ma_start_round(ma, now);
}

int wdsmc_ma_server_pollack(struct wdsmc_ma_server *ma, uint32_t client_id, const uint8_t *app,
                            size_t len, uint64_t now)
{
    struct wdsmc_ma_pkt pkt;
    struct ma_report *r = NULL;
    ssize_t n;

    (void)now;
    if (ma->state != WDSMC_MA_SERVER_QUERY)
        return -ESTALE;
    n = wdsmc_ma_decode(app, len, &pkt);
    if (n >= 0 && pkt.opcode != WDSMC_MA_CNTCIR)
        n = -WDSMC_EOPCODE;
    if (n < 0) {
        ma->st.bad_payloads++;
        return (int)n;
    }

    /* One report per client: a repeated POLLACK replaces the earlier one, so a
     * client cannot take several of the max_reports slots. */
    for (uint32_t i = 0; i < ma->nreports; i++) {
        if (ma->reports[i].client_id == client_id) {
            r = &ma->reports[i];
            break;
        }
    }
    if (!r) {
        if (ma->nreports >= ma->max_reports) {
            ma->st.reports_dropped++;
            return -EUSERS;
        }
        r = &ma->reports[ma->nreports++];
    }
    r->client_id = client_id;
    r->time_in_session = pkt.u.cntcir.time_in_session;
    r->range_count = pkt.u.cntcir.range_count;
    memcpy(r->ranges, pkt.u.cntcir.ranges, r->range_count * sizeof(r->ranges[0]));
    ma->st.reports = ma->nreports;
    return 0;
}

int wdsmc_ma_server_status(struct wdsmc_ma_server *ma, uint32_t client_id, const uint8_t *app,
                           size_t len, uint64_t now)
{
    struct wdsmc_ma_pkt pkt;
    ssize_t n;
    int ret = 0;

    if (len > 0) {
        n = wdsmc_ma_decode(app, len, &pkt);
        if (n >= 0 && pkt.opcode != WDSMC_MA_PROGRESS)
            n = -WDSMC_EOPCODE;
        if (n < 0) {
            ma->st.bad_payloads++;
            ret = (int)n;
        } else if (ma->cb.progress) {
            ma->cb.progress(ma->cb.ctx, client_id, pkt.u.progress.progress,
                            pkt.u.progress.time_in_session, now);
        }
    }
    /* Decision 8: the first QCR the transport sees starts the first round,
     * whatever its payload. */
    if (ma->state == WDSMC_MA_SERVER_IDLE) {
        int r = ma_start_round(ma, now);
        if (r < 0)
            return r;
    }
    return ret;
}

static int range_cmp(const void *a, const void *b)
{
    const struct wdsmc_range *x = a, *y = b;

    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return 0;
}

/* MS-WDSMA 3.1.6.1 and decision 15: build MissingBlockRanges from the reports
 * of clients that joined within 30 s of the oldest one; ranges are clamped to
 * the content, sorted and merged (overlapping or adjacent ranges become one).
 */
static void ma_merge(struct wdsmc_ma_server *ma)
{
    uint32_t max_tis = 0;
    size_t n = 0;

    for (uint32_t i = 0; i < ma->nreports; i++) {
        if (ma->reports[i].time_in_session > max_tis)
            max_tis = ma->reports[i].time_in_session;
    }
    for (uint32_t i = 0; i < ma->nreports; i++) {
        const struct ma_report *r = &ma->reports[i];

        if ((uint64_t)r->time_in_session + WDSMC_MA_SERVER_LATE_JOINER_S < max_tis)
            continue;
        for (uint16_t j = 0; j < r->range_count; j++) {
            struct wdsmc_range rg = r->ranges[j];

            /* A range past the content is a client's mistake; the part of it
             * inside the content is still worth sending. */
            if (ma->total_blocks == 0 || rg.start > rg.end || rg.start >= ma->total_blocks)
                continue;
            if (rg.end >= ma->total_blocks)
                rg.end = ma->total_blocks - 1;
            ma->ranges[n++] = rg;
        }
    }
    if (n > 1) {
        size_t out = 0;

        qsort(ma->ranges, n, sizeof(ma->ranges[0]), range_cmp);
        for (size_t i = 1; i < n; i++) {
            struct wdsmc_range *last = &ma->ranges[out];

            /* end + 1 cannot overflow: end < total_blocks <= UINT64_MAX. */
            if (ma->ranges[i].start <= last->end + 1) {
                if (ma->ranges[i].end > last->end)
                    last->end = ma->ranges[i].end;
            } else {
                ma->ranges[++out] = ma->ranges[i];
            }
        }
        n = out + 1;
    }
    ma->nranges = n;
    ma->cur_range = 0;
    ma->cur_block = n ? ma->ranges[0].start : 0;
    ma->st.ranges = n;
}

void wdsmc_ma_server_timeout(struct wdsmc_ma_server *ma, uint64_t now)
{
    if (ma->state != WDSMC_MA_SERVER_QUERY || now < ma->query_at)
        return;
    ma->query_at = UINT64_MAX;

    /* MS-WDSMA 3.1.6.1: no report at all, ask again. */
    if (ma->nreports == 0) {
        ma_start_round(ma, now);
        return;
    }
    ma_merge(ma);
    ma->nreports = 0;
    ma->st.reports = 0;
    /* Decision 15: nothing to send (every client complete, or only late
     * joiners missing blocks), so ask again at once. */
    if (ma->nranges == 0) {
        ma_start_round(ma, now);
        return;
    }
    ma->state = WDSMC_MA_SERVER_DATA;
    ma->st.data_rounds++;
    if (ma->cb.data_ready)
        ma->cb.data_ready(ma->cb.ctx, now);
}

void wdsmc_ma_server_end_query(struct wdsmc_ma_server *ma, uint64_t now)
{
    /* Every client that can answer has answered: waiting out the Query Timer
     * would only delay the data (MS-WDSMA 3.1.6.1 runs the same merge). */
    if (ma->state != WDSMC_MA_SERVER_QUERY || ma->nreports == 0)
        return;
    ma->query_at = now;
    wdsmc_ma_server_timeout(ma, now);
}

bool wdsmc_ma_server_pull_data(struct wdsmc_ma_server *ma, uint64_t *ret_token)
{
    if (ma->state != WDSMC_MA_SERVER_DATA || ma->cur_range >= ma->nranges)
        return false;
    *ret_token = ma->cur_block;
    ma->st.blocks_pulled++;
    if (ma->cur_block == ma->ranges[ma->cur_range].end) {
        ma->cur_range++;
        if (ma->cur_range < ma->nranges)
            ma->cur_block = ma->ranges[ma->cur_range].start;
    } else {
        ma->cur_block++;
    }
    return true;
}

ssize_t wdsmc_ma_server_fill_data(struct wdsmc_ma_server *ma, uint64_t token, uint8_t *buf,
                                  size_t cap)
{
    struct wdsmc_ma_pkt pkt = {.opcode = WDSMC_MA_DATA};
    uint64_t offset, len;
    ssize_t n;

    if (token >= ma->total_blocks)
        return -ERANGE;
    offset = token * ma->block_size;
    len = ma->content_size - offset;
    if (len > ma->block_size)
        len = ma->block_size;
    if (cap < WDSMC_MA_DATA_HDR_LEN + len)
        return -ENOBUFS;

    /* The block is read straight into its place after the DATA header, and
     * the encoder finds it there: no copy of the payload in user space. */
    n = ma->cb.read(ma->cb.ctx, offset, buf + WDSMC_MA_DATA_HDR_LEN, (size_t)len);
    /* MS-WDSMA 3.1.5.2 allows fewer bytes only at the end of the content,
     * which `len` already accounts for: anything shorter is an error. */
    if (n >= 0 && (uint64_t)n != len)
        n = -EIO;
    if (n < 0) {
        /* Wrong data must never go out: this server is finished, and the
         * caller ends the session with the same error. */
        ma_fail(ma, (int)n);
        return n;
    }

    pkt.u.data.block = token;
    pkt.u.data.data = buf + WDSMC_MA_DATA_HDR_LEN;
    pkt.u.data.data_len = (uint16_t)len;
    n = wdsmc_ma_encode(&pkt, buf, cap);
    if (n >= 0)
        ma->st.blocks_filled++;
    return n;
}

void wdsmc_ma_server_data_empty(struct wdsmc_ma_server *ma, uint64_t now)
{
    /* MS-WDSMA 3.1.5.2.1: only DataState reacts. */
    if (ma->state != WDSMC_MA_SERVER_DATA)
        return;
    ma_start_round(ma, now);
}

void wdsmc_ma_server_terminate(struct wdsmc_ma_server *ma, int err)
{
    if (ma->state == WDSMC_MA_SERVER_DONE)
        return;
    ma_fail(ma, err);
}

uint64_t wdsmc_ma_server_deadline(const struct wdsmc_ma_server *ma)
{
    return ma->state == WDSMC_MA_SERVER_QUERY ? ma->query_at : UINT64_MAX;
}

void wdsmc_ma_server_get_stats(const struct wdsmc_ma_server *ma, struct wdsmc_ma_server_stats *ret)
{
    *ret = ma->st;
    ret->state = ma->state;
    ret->err = ma->err;
}

size_t wdsmc_ma_server_get_ranges(const struct wdsmc_ma_server *ma, struct wdsmc_range *out,
                                  size_t cap)
{
    size_t n = ma->state == WDSMC_MA_SERVER_DATA ? ma->nranges : 0;

    for (size_t i = 0; i < n && i < cap; i++)
        out[i] = ma->ranges[i];
    return n;
}
