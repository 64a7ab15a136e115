/* SPDX-License-Identifier: MIT */
/*
 * MS-WDSMA server (MS-WDSMA 3.1): the application layer that asks the clients
 * which blocks they miss (SRVCIR/CNTCIR over MS-WDSMT POLL/POLLACK), merges the
 * answers and hands the blocks, in ascending order, to the MS-WDSMT server.
 *
 * Sans-I/O: no clock, no socket, no allocation after _new. Time is the `now`
 * argument in milliseconds of a monotonic clock; the single timer (the Query
 * Timer, 3.1.2) is exposed through wdsmc_ma_server_deadline().
 *
 * Wiring to the MS-WDSMT server (mt_server.h), done by the caller's glue:
 *   MT pull_data   -> wdsmc_ma_server_pull_data   (the Data Trigger, lazily)
 *   MT fill_data   -> wdsmc_ma_server_fill_data   (encodes one MA DATA)
 *   MT pollack     -> wdsmc_ma_server_pollack     (POLLACK Trigger)
 *   MT status      -> wdsmc_ma_server_status      (Status Trigger)
 *   MT data_empty  -> wdsmc_ma_server_data_empty  (Data Empty Trigger)
 *   MT terminated  -> wdsmc_ma_server_terminate   (Terminate Trigger)
 *   MA poll        -> wdsmc_mt_server_poll        (POLL Trigger)
 *   MA data_ready  -> wdsmc_mt_server_data_ready
 *   MA progress    -> wdsmc_mt_server_set_progress (per-client statistics)
 * Every function may be called from inside a callback of the other layer.
 */
#ifndef WDSMC_MA_SERVER_H
#define WDSMC_MA_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "wdsmc/codec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* DESIGN.md decision 15: reports from clients that joined more than this many
 * seconds after the oldest reporting client are left out of the merge. */
#define WDSMC_MA_SERVER_LATE_JOINER_S 30

/* Default limit on the CNTCIR reports kept per query round (one per client). */
#define WDSMC_MA_SERVER_DEFAULT_MAX_REPORTS 200

/* MS-WDSMA 3.1.1 SessionState, plus the two ends of the lifetime. */
enum wdsmc_ma_server_state {
    WDSMC_MA_SERVER_IDLE,  /* created; no query round yet (decision 8) */
    WDSMC_MA_SERVER_QUERY, /* QueryState */
    WDSMC_MA_SERVER_DATA,  /* DataState */
    WDSMC_MA_SERVER_DONE,  /* Terminate Trigger received, or a fatal error */
};

/*
 * Callbacks. `ctx` is passed back unchanged. Only `poll` and `read` are
 * required. The server never calls back after wdsmc_ma_server_free().
 */
struct wdsmc_ma_server_callbacks {
    void *ctx;
    /* MS-WDSMA 3.1.5.1: the POLL Trigger. Send `app` (an SRVCIR, borrowed for
     * the call) in a POLL; return the PollBackOff in ms (>= 0) that arms the
     * Query Timer, or a negative error, which ends this server (state DONE).
     * wdsmc_mt_server_poll returns PollBackOff plus the clients' round trip
     * (doc/decisions.md 44): the reports must have time to arrive. */
    int (*poll)(void *ctx, const uint8_t *app, size_t len, uint64_t now);
    /* Read exactly `len` bytes of the content at `offset` into buf. Return the
     * number of bytes read or a negative errno. A short read or an error makes
     * wdsmc_ma_server_fill_data() fail (never sends wrong data). */
    ssize_t (*read)(void *ctx, uint64_t offset, uint8_t *buf, size_t len);
    /* Optional. The server entered DataState: blocks are available from
     * wdsmc_ma_server_pull_data(). The glue calls wdsmc_mt_server_data_ready. */
    void (*data_ready)(void *ctx, uint64_t now);
    /* Optional. MS-WDSMA 3.1.5.3: a valid PROGRESS from client_id. */
    void (*progress)(void *ctx, uint32_t client_id, uint8_t progress, uint32_t time_in_session,
                     uint64_t now);
};

/* What the server serves. */
struct wdsmc_ma_server_config {
    uint64_t content_size; /* bytes */
    uint32_t block_size;   /* 1..WDSMC_MA_MAX_BLOCK_SIZE (decision 5) */
    uint32_t max_reports;  /* CNTCIR reports kept per round; 0 = default 200 */
};

/* A snapshot for statistics. */
struct wdsmc_ma_server_stats {
    enum wdsmc_ma_server_state state;
    int err;                  /* why the server is DONE (0 before) */
    uint64_t total_blocks;    /* ceil(content_size / block_size) */
    uint64_t rounds;          /* query rounds started (POLLs sent) */
    uint64_t data_rounds;     /* rounds that went to DataState */
    uint64_t reports;         /* CNTCIRs kept in the current round */
    uint64_t reports_dropped; /* CNTCIRs refused: over max_reports */
    uint64_t bad_payloads;    /* POLLACK/QCR payloads that did not decode */
    uint64_t ranges;          /* merged ranges of the current DataState */
    uint64_t blocks_pulled;   /* Data Triggers handed to MS-WDSMT */
    uint64_t blocks_filled;   /* DATA packets encoded (ODATA and RDATA) */
};

struct wdsmc_ma_server;

/*
 * Create a server in its initial (IDLE) state.
 *   cfg  borrowed; content_size and block_size are copied
 *   cb   copied; poll and read are required
 *   ret  on success, the new server (caller frees with _free)
 * Returns 0, -EINVAL (block size 0 or > 65448, missing callback) or -ENOMEM.
 */
int wdsmc_ma_server_new(const struct wdsmc_ma_server_config *cfg,
                        const struct wdsmc_ma_server_callbacks *cb, struct wdsmc_ma_server **ret);

/* Free a server; NULL is fine. Must not be called from inside a callback. */
void wdsmc_ma_server_free(struct wdsmc_ma_server *ma);

/*
 * MS-WDSMA 3.1.3: start the first query round (decision 8: when the transport
 * has its first client). Does nothing unless the server is IDLE. The first
 * Status Trigger (wdsmc_ma_server_status) starts the server as well.
 * Returns 0, or the negative error of the poll callback.
 */
int wdsmc_ma_server_start(struct wdsmc_ma_server *ma, uint64_t now);

/*
 * MS-WDSMA 3.1.5.1.1: POLLACK Trigger. `app` (borrowed) must be a CNTCIR; it
 * is kept for the current round (one per client_id: a later one replaces an
 * earlier one). Returns 0; -WDSMC_E* when the payload is not a valid CNTCIR;
 * -EUSERS when max_reports are already kept; -ESTALE outside QueryState.
 */
int wdsmc_ma_server_pollack(struct wdsmc_ma_server *ma, uint32_t client_id, const uint8_t *app,
                            size_t len, uint64_t now);

/*
 * MS-WDSMA 3.1.5.3: Status Trigger. `app` (borrowed) is the QCR AppData. An
 * empty payload (the QCR that answers a JOINACK, decision 5) is accepted and
 * reports nothing; a PROGRESS is reported through the progress callback.
 * Starts the first query round if the server is IDLE (decision 8).
 * Returns 0 or a negative codec error (not a PROGRESS).
 */
int wdsmc_ma_server_status(struct wdsmc_ma_server *ma, uint32_t client_id, const uint8_t *app,
                           size_t len, uint64_t now);

/*
 * MS-WDSMA 3.1.5.2: the Data Trigger, pulled by MS-WDSMT when its window has
 * room. In DataState, writes the next missing block number (ascending through
 * MissingBlockRanges) to *ret_token and returns true; returns false (and
 * leaves *ret_token alone) when every block of the round has been handed out
 * or the server is not in DataState.
 */
bool wdsmc_ma_server_pull_data(struct wdsmc_ma_server *ma, uint64_t *ret_token);

/*
 * MS-WDSMA 3.1.5.2, 2.2.4: encode the DATA packet of block `token` into
 * buf[0..cap): BlockNumber = token, the bytes at token x BlockSize, DataLen =
 * BlockSize except for the last block. Used for ODATA and for every RDATA.
 * Returns the packet length; -ERANGE for a block past the content; -ENOBUFS
 * when cap is too small; -EIO for a short read, or the read callback's error
 * (the caller must then end the session rather than send anything).
 */
ssize_t wdsmc_ma_server_fill_data(struct wdsmc_ma_server *ma, uint64_t token, uint8_t *buf,
                                  size_t cap);

/*
 * MS-WDSMA 3.1.5.2.1: Data Empty Trigger. In DataState, go to QueryState and
 * start a new round; ignored otherwise.
 */
void wdsmc_ma_server_data_empty(struct wdsmc_ma_server *ma, uint64_t now);

/* MS-WDSMA 3.1.5.4: Terminate Trigger. The server goes DONE with `err` and
 * does nothing more. */
void wdsmc_ma_server_terminate(struct wdsmc_ma_server *ma, int err);

/*
 * MS-WDSMA 3.1.6.1: run the Query Timer if it is due at `now`. Without
 * reports, a new round; otherwise decision 15 merge: DataState with the merged
 * ranges, or at once a new round when the merge is empty.
 */
void wdsmc_ma_server_timeout(struct wdsmc_ma_server *ma, uint64_t now);

/*
 * End the current query round now, as if the Query Timer had expired, when
 * the caller knows no further CNTCIR can come (every active client of the
 * session has reported). Does nothing outside QueryState or without a
 * report. A reading of MS-WDSMA 3.1.6.1, see doc/decisions.md.
 */
void wdsmc_ma_server_end_query(struct wdsmc_ma_server *ma, uint64_t now);

/* The time (ms) at which wdsmc_ma_server_timeout() must next be called, or
 * UINT64_MAX when no timer runs. */
uint64_t wdsmc_ma_server_deadline(const struct wdsmc_ma_server *ma);

/* Fill *ret with a snapshot of the counters. */
void wdsmc_ma_server_get_stats(const struct wdsmc_ma_server *ma, struct wdsmc_ma_server_stats *ret);

/*
 * The merged MissingBlockRanges of the current DataState: copies at most cap
 * of them to out (borrowed) and returns how many there are in all.
 */
size_t wdsmc_ma_server_get_ranges(const struct wdsmc_ma_server *ma, struct wdsmc_range *out,
                                  size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* WDSMC_MA_SERVER_H */
