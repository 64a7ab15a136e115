/* SPDX-License-Identifier: MIT */
/*
 * The MS-WDSMT client's Missing ODATA List (MS-WDSMT 3.2.1.3.1), internal.
 *
 * A sorted array of inclusive, non-overlapping, non-adjacent ranges of ODATA
 * sequence numbers the client has not received, between StartODATASeqNo and
 * EndODATASeqNo. It supports exactly the four operations the spec defines
 * (3.2.1.3.1.1 to 3.2.1.3.1.4) plus read access for building NACKs.
 *
 * The server controls how the list grows (every gap it leaves splits a range),
 * so the number of ranges has a hard cap, fixed at init. At the cap:
 *   - Received ODATA Packet skips the split: the received sequence number
 *     stays listed as missing and may be NACKed once more. That costs one
 *     extra repair and never loses data.
 *   - Update End of List, when it would append a new range, extends the last
 *     range over the gap instead, so everything between the last range and the
 *     new end counts as missing. Again only extra repairs, never lost data.
 * Allocation failures while growing behave exactly like the cap, so no
 * operation can fail.
 */
#ifndef WDSMC_RANGES_H
#define WDSMC_RANGES_H

#include <stddef.h>
#include <stdint.h>

#include "wdsmc/codec.h"

/* Default cap on the number of ranges (a NACK carries at most
 * wdsmc_mt_max_ranges() of them anyway). */
#define WDSMC_MISSING_DEFAULT_MAX 4096

struct wdsmc_missing {
    uint64_t start;        /* StartODATASeqNo */
    uint64_t end;          /* EndODATASeqNo */
    struct wdsmc_range *r; /* RangeList, ascending, owned */
    size_t count;          /* ranges in use */
    size_t cap;            /* ranges allocated */
    size_t max;            /* hard cap on count */
    uint64_t overflows;    /* splits skipped or gaps merged at the cap */
};

/*
 * Initialise an empty list (StartODATASeqNo = EndODATASeqNo = 0) that will
 * hold at most `max_ranges` ranges (0: WDSMC_MISSING_DEFAULT_MAX).
 * Returns 0 or -ENOMEM. On failure `m` is still safe to pass to _fini.
 */
int wdsmc_missing_init(struct wdsmc_missing *m, size_t max_ranges);

/* Release the list's memory. `m` may be zeroed or already finalised. */
void wdsmc_missing_fini(struct wdsmc_missing *m);

/* Back to the state of initialisation (empty, start = end = 0), keeping the
 * cap and the memory. Used when a DEMOTE resets the client (3.2.5.16). */
void wdsmc_missing_reset(struct wdsmc_missing *m);

/*
 * MS-WDSMT 3.2.1.3.1.1 Update Start of List: forget every missing sequence
 * number below `new_start`. Does nothing when new_start < StartODATASeqNo.
 * Afterwards StartODATASeqNo = new_start and EndODATASeqNo >= new_start.
 */
void wdsmc_missing_update_start(struct wdsmc_missing *m, uint64_t new_start);

/*
 * MS-WDSMT 3.2.1.3.1.2 Update End of List: track up to and including
 * `new_end`; everything after the old EndODATASeqNo becomes missing.
 * DESIGN.md decision 17: a no-op when new_end is not beyond EndODATASeqNo.
 */
void wdsmc_missing_update_end(struct wdsmc_missing *m, uint64_t new_end);

/*
 * MS-WDSMT 3.2.1.3.1.3 Received ODATA Packet: `seq` arrived (ODATA or RDATA);
 * remove it from the ranges, splitting one if needed (see the cap above).
 * Sequence numbers outside every range are ignored.
 */
void wdsmc_missing_received(struct wdsmc_missing *m, uint64_t seq);

/*
 * MS-WDSMT 3.2.1.3.1.4 Highest Continuous Received ODATASeqNo: EndODATASeqNo
 * when nothing is missing, else the first missing sequence number minus one.
 */
uint64_t wdsmc_missing_highest_continuous(const struct wdsmc_missing *m);

/* Number of ranges, and the ranges themselves (ascending, borrowed: valid
 * until the next operation on `m`). */
size_t wdsmc_missing_count(const struct wdsmc_missing *m);
const struct wdsmc_range *wdsmc_missing_ranges(const struct wdsmc_missing *m);

#endif /* WDSMC_RANGES_H */
