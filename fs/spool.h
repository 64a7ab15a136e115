/* SPDX-License-Identifier: MIT */
/*
 * The spool: one image's received blocks on local disk, so that reads are
 * served from a file and a later mount or session resumes where the last one
 * stopped.
 *
 * Two files per image in the cache directory, named from a hash of the key
 * (server, namespace, content, content size), so a changed content never
 * mixes with an old one:
 *
 *   KEY.data     sparse file of the content's size; block i at i * block_size
 *   KEY.bitmap   received-block bitmap: a header (magic, version, block size,
 *                content size, block count, the key text), the bits (bit i of
 *                byte i / 8 is block i, LSB first), and a CRC-32 of all that
 *
 * Crash safety: wdsfs_spool_write() writes the data (pwrite) before it marks
 * the block in memory, and a commit makes the data durable (fdatasync) before
 * it replaces the bitmap file (write a temporary, fsync, rename, fsync the
 * directory). A bitmap on disk therefore never marks a block whose data is not
 * on disk. A bitmap file that fails its checks is rejected: the spool starts
 * empty (the data file is reused; its blocks are fetched again).
 *
 * Not thread-safe, except wdsfs_spool_commit() on a snapshot, which may run on
 * any thread while the owner keeps writing.
 */
#ifndef WDSFS_SPOOL_H
#define WDSFS_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits: key text, and the block count we accept (2^32 blocks). */
#define WDSFS_SPOOL_KEY_MAX    2048
#define WDSFS_SPOOL_MAX_BLOCKS ((uint64_t)1 << 32)

/* Steps a commit goes through, in order; reported to the trace hook. */
enum wdsfs_spool_step {
    WDSFS_SPOOL_STEP_DATA_SYNCED,    /* fdatasync of the data file done */
    WDSFS_SPOOL_STEP_BITMAP_WRITTEN, /* temporary bitmap written and fsynced */
    WDSFS_SPOOL_STEP_BITMAP_RENAMED, /* bitmap file replaced */
};

struct wdsfs_spool;

/* What wdsfs_spool_open() found. */
struct wdsfs_spool_info {
    bool resumed;     /* a valid bitmap was loaded */
    bool rejected;    /* a bitmap file existed but failed its checks */
    uint64_t present; /* blocks already received */
};

/*
 * Open (or create) the spool of `key` in directory `dir` (created if missing,
 * mode 0700) for a content of `content_size` bytes in blocks of `block_size`.
 * Checks that the file system has room for the blocks still missing, and
 * reserves nothing (the data file is sparse).
 *   key        text that names the content: "server\nnamespace\ncontent\nsize";
 *              copied
 *   ret_info   optional; what was loaded
 * Returns 0 and *ret, or -EINVAL (block_size 0, key too long), -EFBIG (too
 * many blocks), -ENOSPC (not enough free space; *ret_need and *ret_avail, when
 * not NULL, say how much), or another negative errno from the file system.
 */
int wdsfs_spool_open(const char *dir, const char *key, uint64_t content_size, uint32_t block_size,
                     struct wdsfs_spool **ret, struct wdsfs_spool_info *ret_info,
                     uint64_t *ret_need, uint64_t *ret_avail);

/* Commit (synchronously) and close. NULL is fine. Returns the commit's
 * result. */
int wdsfs_spool_close(struct wdsfs_spool *sp);

/*
 * Store one block: `len` bytes at byte `offset`, which must be block-aligned
 * and exactly the block's length (block_size, or the remainder for the last
 * block). The data is written first, then the block is marked received.
 * Returns 1 when the block is new, 0 when it was already present (nothing
 * written), -EINVAL for a misaligned or mis-sized block, or a negative errno
 * from pwrite (the block stays unmarked).
 */
int wdsfs_spool_write(struct wdsfs_spool *sp, const void *buf, size_t len, uint64_t offset);

/* Whether block i is present. */
bool wdsfs_spool_has(const struct wdsfs_spool *sp, uint64_t block);

/* The first block in [first, last] that is missing, or UINT64_MAX when all of
 * them are present. */
uint64_t wdsfs_spool_first_missing(const struct wdsfs_spool *sp, uint64_t first, uint64_t last);

/* Counts: blocks present, total blocks, bytes present (the short last block
 * counted at its real length). */
uint64_t wdsfs_spool_present(const struct wdsfs_spool *sp);
uint64_t wdsfs_spool_nblocks(const struct wdsfs_spool *sp);
uint64_t wdsfs_spool_bytes(const struct wdsfs_spool *sp);
bool wdsfs_spool_complete(const struct wdsfs_spool *sp);
uint32_t wdsfs_spool_block_size(const struct wdsfs_spool *sp);

/* The bitmap bytes (borrowed; ceil(nblocks / 8) bytes in the layout above),
 * for wdsmc_client_preset(). */
const uint8_t *wdsfs_spool_bits(const struct wdsfs_spool *sp);

/* The data file descriptor (borrowed), to serve reads with splice. */
int wdsfs_spool_fd(const struct wdsfs_spool *sp);

/* Whether blocks were marked since the last commit. */
bool wdsfs_spool_dirty(const struct wdsfs_spool *sp);

/*
 * Forget every block and use a new block size (the server changed it; the
 * bitmap cannot be translated safely). Returns 0, -EINVAL, -EFBIG, -ENOMEM.
 */
int wdsfs_spool_reset(struct wdsfs_spool *sp, uint32_t block_size);

/*
 * Asynchronous commit in two halves. _snapshot() (owner's thread) copies what
 * the bitmap says now and clears the dirty flag; _commit() may run on another
 * thread: it fdatasyncs the data file, then atomically replaces the bitmap
 * file with the snapshot. Only one commit per spool may be in flight, and the
 * spool must stay open until it finishes. _snapshot_free() accepts NULL.
 * _commit() returns 0 or a negative errno; on failure the caller should mark
 * the spool dirty again with wdsfs_spool_mark_dirty().
 */
struct wdsfs_spool_snapshot;
int wdsfs_spool_snapshot(struct wdsfs_spool *sp, struct wdsfs_spool_snapshot **ret);
int wdsfs_spool_commit(struct wdsfs_spool_snapshot *snap);
void wdsfs_spool_snapshot_free(struct wdsfs_spool_snapshot *snap);
void wdsfs_spool_mark_dirty(struct wdsfs_spool *sp);

/* Synchronous commit: snapshot + commit. Returns 0 or a negative errno. */
int wdsfs_spool_flush(struct wdsfs_spool *sp);

/* Test hook: called after each commit step (from the committing thread). */
void wdsfs_spool_set_trace(struct wdsfs_spool *sp, void (*trace)(void *ctx, enum wdsfs_spool_step),
                           void *ctx);

/* The file names (borrowed), for messages and tests. */
const char *wdsfs_spool_data_path(const struct wdsfs_spool *sp);
const char *wdsfs_spool_bitmap_path(const struct wdsfs_spool *sp);

/* The CRC-32 (IEEE, as zlib's crc32) used by the bitmap file. */
uint32_t wdsfs_crc32(uint32_t crc, const void *buf, size_t len);

#endif /* WDSFS_SPOOL_H */
