/* SPDX-License-Identifier: MIT */
/* Shared by the MS-WDSMT fuzz targets (fuzz_mt.c, fuzz_keys.c). */
#ifndef WDSMC_FUZZ_MT_LISTS_H
#define WDSMC_FUZZ_MT_LISTS_H

#include "wdsmc/codec.h"

/* Decoded lists borrow the wire bytes; the encoder wants arrays. Points the
 * lists of p at static arrays holding them (valid until the next call). */
static inline void fuzz_mt_lists_to_arrays(struct wdsmc_mt_pkt *p)
{
    static struct wdsmc_range ranges[WDSMC_MAX_DATAGRAM / 16];
    static struct wdsmc_mt_kick_entry kicks[WDSMC_MT_MAX_KICK_CLIENTS];
    static uint32_t ids[WDSMC_MT_MAX_DEMOTE_CLIENTS];
    struct wdsmc_mt_ranges *r = NULL;

    if (p->opcode == WDSMC_MT_NACK)
        r = &p->u.nack.list;
    else if (p->opcode == WDSMC_MT_NCF)
        r = &p->u.ncf;
    if (r) {
        for (size_t i = 0; i < r->count; i++)
            ranges[i] = wdsmc_mt_range_get(r, i);
        r->ranges = ranges;
    } else if (p->opcode == WDSMC_MT_KICK) {
        for (size_t i = 0; i < p->u.kick.count; i++)
            kicks[i] = wdsmc_mt_kick_get(&p->u.kick, i);
        p->u.kick.entries = kicks;
    } else if (p->opcode == WDSMC_MT_DEMOTE) {
        for (size_t i = 0; i < p->u.demote.count; i++)
            ids[i] = wdsmc_mt_demote_get(&p->u.demote, i);
        p->u.demote.client_ids = ids;
    }
}

#endif
