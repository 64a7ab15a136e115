/* SPDX-License-Identifier: MIT */
/*
 * MS-WDSMA client (MS-WDSMA 3.2), sans-I/O, internal.
 *
 * The application layer above the MS-WDSMT client. It keeps the received-block
 * bitmap and answers the transport's triggers:
 *
 *   DATA trigger (3.2.5.1)         wdsmc_ma_client_data(): decode a DATA
 *                                  packet, hand a new block to the application
 *   Query Cache trigger (3.2.5.2)  wdsmc_ma_client_max_cache()
 *   QCC trigger (3.2.5.3)          wdsmc_ma_client_qcc(): a PROGRESS packet
 *   POLL trigger (3.2.5.4)         wdsmc_ma_client_poll(): a CNTCIR packet
 *
 * The I/O glue wires these to the MS-WDSMT client's data/qcc/poll callbacks;
 * this module knows nothing of MS-WDSMT. No clock: `now` is the caller's
 * monotonic time in milliseconds.
 *
 * Blocks are numbered from 0 (DESIGN.md decision 5): block b covers bytes
 * [b * BlockSize, b * BlockSize + DataLen) and only the last block may be
 * short.
 */
#ifndef WDSMC_MA_CLIENT_H
#define WDSMC_MA_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bitmap.h"
#include "wdsmc/codec.h"

/* MS-WDSMA 3.2.1 MaxCacheSize default. */
#define WDSMC_MA_DEFAULT_MAX_CACHE 2097152

/* Returned by the block callback to refuse a block: its bit stays clear, so
 * it is reported missing again. */
#define WDSMC_MA_BLOCK_REJECT SIZE_MAX

struct wdsmc_ma_client_cbs {
    void *ctx;
    /*
     * A block not received before (required). `data` (len bytes of content at
     * byte `offset`) is borrowed for the call. Return:
     *   len                    the application keeps a reference and will
     *                          report the bytes done later (through the glue,
     *                          to wdsmc_mt_client_cache_done()); the bytes
     *                          count against the transport's cache
     *   0                      the application consumed the block during the
     *                          call (copied or wrote it); nothing is held
     *   WDSMC_MA_BLOCK_REJECT  the application refused it: the block is not
     *                          marked received and nothing is held
     * Any other value is clamped to len. May not call back into this module
     * except wdsmc_ma_client_set_window().
     */
    size_t (*block)(void *ctx, uint64_t block, uint64_t offset, const uint8_t *data, size_t len);
    /* Every block is now received (MS-WDSMA 3.2.5.1: "the client MUST
     * terminate"); the glue then leaves the MS-WDSMT session with reason
     * COMPLETE. Called once, from wdsmc_ma_client_data() or _mark(). May be
     * NULL. */
    void (*complete)(void *ctx);
};

/* Session parameters, from the MS-WDSMSI reply (MS-WDSMA 3.2.1). */
struct wdsmc_ma_client_cfg {
    uint64_t content_size;
    uint64_t total_blocks; /* must be ceil(content_size / block_size) */
    uint32_t block_size;   /* 1 .. WDSMC_MA_MAX_BLOCK_SIZE */
    uint64_t max_cache;    /* MaxCacheSize; 0: WDSMC_MA_DEFAULT_MAX_CACHE */
};

struct wdsmc_ma_client_stats {
    uint64_t total_blocks;
    uint64_t received_blocks; /* bits set */
    uint8_t progress;         /* as reported in PROGRESS/CNTCIR */
    bool complete;
    uint64_t data_packets; /* DATA triggers */
    uint64_t duplicates;   /* DATA for a block already received */
    uint64_t malformed;    /* undecodable or invalid DATA */
    uint64_t outside;      /* DATA outside the wanted window, dropped */
    uint64_t rejected;     /* refused by the application */
    uint64_t polls;        /* CNTCIR built */
    uint64_t qccs;         /* PROGRESS built */
};

struct wdsmc_ma_client;

/*
 * Create a client. JoinTime (MS-WDSMA 3.2.1) is `now` (ms). The wanted window
 * starts as the whole content. The callbacks struct is copied.
 * Returns 0 and *ret (owned by the caller, release with _free), or -EINVAL
 * (block_size 0 or over WDSMC_MA_MAX_BLOCK_SIZE, total_blocks inconsistent
 * with content_size, no block callback), -EFBIG (more blocks than the bitmap
 * allows), -ENOMEM.
 */
int wdsmc_ma_client_new(const struct wdsmc_ma_client_cfg *cfg,
                        const struct wdsmc_ma_client_cbs *cbs, uint64_t now,
                        struct wdsmc_ma_client **ret);

/* Release the client; NULL is fine. Not from inside its own callback. */
void wdsmc_ma_client_free(struct wdsmc_ma_client *c);

/*
 * Record that the application already has `block` (resume from a spool): the
 * bit is set without calling the block callback. May fire the complete
 * callback. Returns 1 when newly set, 0 when already set, -ERANGE when block
 * >= total_blocks.
 */
int wdsmc_ma_client_mark(struct wdsmc_ma_client *c, uint64_t block);

/*
 * Restrict the wanted blocks to [lo, hi) (stream mode). CNTCIR then reports
 * only missing ranges inside the window, and DATA for blocks outside it is
 * dropped without reaching the application (not marked received). hi is
 * clamped to total_blocks; lo = 0, hi = UINT64_MAX restores the whole
 * content. Returns 0, or -EINVAL when lo > hi.
 */
int wdsmc_ma_client_set_window(struct wdsmc_ma_client *c, uint64_t lo, uint64_t hi);

/*
 * MS-WDSMA 3.2.5.1 DATA trigger: `payload` (borrowed) is the Data field of an
 * ODATA/RDATA packet. It must be a DATA packet with BlockNumber <
 * TotalBlocks and DataLen == BlockSize (the last block: the remainder);
 * otherwise it is malformed and ignored. A block already received, outside
 * the window or rejected is ignored too. A new block goes to the block
 * callback and its bit is set (unless rejected).
 * Returns the number of bytes the application now holds from this payload (0
 * or DataLen), to add to the transport's CurrentAppCacheSize, or a negative
 * error for a malformed payload (a codec error, or -EBADMSG for a packet that
 * is not DATA or does not fit the content).
 */
ssize_t wdsmc_ma_client_data(struct wdsmc_ma_client *c, const uint8_t *payload, size_t len);

/* MS-WDSMA 3.2.5.2 Query Cache trigger: MaxCacheSize. */
uint64_t wdsmc_ma_client_max_cache(const struct wdsmc_ma_client *c);

/*
 * MS-WDSMA 3.2.5.3 QCC trigger: write a PROGRESS packet (TimeInSession =
 * seconds since JoinTime, Progress = wdsmc_ma_client_progress()) into
 * buf[0..cap). Returns its length or -ENOBUFS.
 */
ssize_t wdsmc_ma_client_qcc(struct wdsmc_ma_client *c, uint8_t *buf, size_t cap, uint64_t now);

/*
 * MS-WDSMA 3.2.5.4 POLL trigger: `app` (borrowed) is the POLL AppData, which
 * must be an SRVCIR packet. Writes a CNTCIR into buf[0..cap): progress, time
 * in session, and the first 64 missing ranges inside the wanted window,
 * ascending, inclusive (decision 6). Returns its length, -ENOBUFS, or a
 * negative codec error / -EBADMSG when `app` is not an SRVCIR (the transport
 * then sends no POLLACK).
 */
ssize_t wdsmc_ma_client_poll(struct wdsmc_ma_client *c, const uint8_t *app, size_t app_len,
                             uint8_t *buf, size_t cap, uint64_t now);

/*
 * Progress: floor(100 * received / TotalBlocks), 100 when there are no blocks
 * (decision 6). MS-WDSMA 3.2.5.3 says "percentage of bits set to zero", a
 * known erratum: it is the received percentage (2.2.5 defines the field so).
 */
uint8_t wdsmc_ma_client_progress(const struct wdsmc_ma_client *c);

/* Whether every block has been received (true at once for empty content). */
bool wdsmc_ma_client_is_complete(const struct wdsmc_ma_client *c);

/* The received-block bitmap (borrowed; for persisting or loading a spool
 * through wdsmc_bitmap_data()/_load(); after a load call
 * wdsmc_ma_client_recheck()). */
struct wdsmc_bitmap *wdsmc_ma_client_bitmap(struct wdsmc_ma_client *c);

/* After the bitmap was changed directly (wdsmc_bitmap_load()): fire the
 * complete callback if it is now full and has not fired. */
void wdsmc_ma_client_recheck(struct wdsmc_ma_client *c);

/* Counters and state, copied into *ret. */
void wdsmc_ma_client_stats(const struct wdsmc_ma_client *c, struct wdsmc_ma_client_stats *ret);

#endif /* WDSMC_MA_CLIENT_H */
