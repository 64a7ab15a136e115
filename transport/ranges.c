/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ranges.h"

#define INITIAL_CAP 16

int wdsmc_missing_init(struct wdsmc_missing *m, size_t max_ranges)
{
    memset(m, 0, sizeof(*m));
    m->max = max_ranges ? max_ranges : WDSMC_MISSING_DEFAULT_MAX;
    m->cap = m->max < INITIAL_CAP ? m->max : INITIAL_CAP;
    /* At least one slot is always there, so appending to an empty list (the
     * one growth that cannot be degraded) never needs memory. */
    m->r = calloc(m->cap, sizeof(*m->r));
    if (!m->r) {
        m->cap = 0;
        return -ENOMEM;
    }
    return 0;
}

void wdsmc_missing_fini(struct wdsmc_missing *m)
{
    free(m->r);
    m->r = NULL;
    m->count = m->cap = 0;
}

void wdsmc_missing_reset(struct wdsmc_missing *m)
{
    m->start = m->end = 0;
    m->count = 0;
}

/* Make room for one more range. Returns 0, or -1 at the cap or without memory,
 * which callers turn into a harmless over-approximation. */
static int grow(struct wdsmc_missing *m)
{
    if (m->count < m->cap)
        return 0;
    if (m->count >= m->max)
        return -1;
    size_t ncap = m->cap * 2;
    if (ncap > m->max)
        ncap = m->max;
    struct wdsmc_range *nr = realloc(m->r, ncap * sizeof(*nr));
    if (!nr)
        return -1;
    m->r = nr;
    m->cap = ncap;
    return 0;
}

static void remove_at(struct wdsmc_missing *m, size_t i, size_t n)
{
    memmove(&m->r[i], &m->r[i + n], (m->count - i - n) * sizeof(*m->r));
    m->count -= n;
}

/* MS-WDSMT 3.2.1.3.1.1 */
void wdsmc_missing_update_start(struct wdsmc_missing *m, uint64_t new_start)
{
    if (new_start < m->start)
        return;
    size_t i = 0;
    while (i < m->count && m->r[i].end < new_start)
        i++;
    remove_at(m, 0, i);
    if (m->count > 0 && m->r[0].start < new_start)
        m->r[0].start = new_start; /* new_start lies inside the first range */
    m->start = new_start;
    if (m->end < m->start)
        m->end = m->start;
}

/* MS-WDSMT 3.2.1.3.1.2 */
void wdsmc_missing_update_end(struct wdsmc_missing *m, uint64_t new_end)
{
    /* Decision 17: equal is a no-op too, or the append below would add the
     * empty range (end + 1, end). */
    if (new_end <= m->end)
        return;
    if (m->count > 0 && m->r[m->count - 1].end == m->end) {
        m->r[m->count - 1].end = new_end;
    } else if (m->count == 0 || grow(m) == 0) {
        m->r[m->count].start = m->end + 1;
        m->r[m->count].end = new_end;
        m->count++;
    } else {
        /* At the cap: cover the received gap too (see ranges.h). */
        m->r[m->count - 1].end = new_end;
        m->overflows++;
    }
    m->end = new_end;
}

/* First range whose end is >= seq (binary search over the sorted list). */
static size_t lower_bound(const struct wdsmc_missing *m, uint64_t seq)
{
    size_t lo = 0, hi = m->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->r[mid].end < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* MS-WDSMT 3.2.1.3.1.3. The spec walks the list from the front and stops at
 * the first range that is not entirely below seq; a binary search finds that
 * same range. */
void wdsmc_missing_received(struct wdsmc_missing *m, uint64_t seq)
{
    size_t i = lower_bound(m, seq);
    if (i == m->count)
        return;
    struct wdsmc_range *r = &m->r[i];
    if (seq < r->start)
        return;
    if (r->start == seq && r->end == seq) {
        remove_at(m, i, 1);
    } else if (r->start == seq) {
        r->start++;
    } else if (r->end == seq) {
        r->end--;
    } else if (grow(m) == 0) {
        r = &m->r[i]; /* grow() may have moved the array */
        memmove(&m->r[i + 2], &m->r[i + 1], (m->count - i - 1) * sizeof(*m->r));
        m->r[i + 1].start = seq + 1;
        m->r[i + 1].end = r->end;
        r->end = seq - 1;
        m->count++;
    } else {
        m->overflows++; /* split skipped: seq stays listed (see ranges.h) */
    }
}

/* MS-WDSMT 3.2.1.3.1.4 */
uint64_t wdsmc_missing_highest_continuous(const struct wdsmc_missing *m)
{
    if (m->count == 0)
        return m->end;
    return m->r[0].start - 1;
}

size_t wdsmc_missing_count(const struct wdsmc_missing *m)
{
    return m->count;
}

const struct wdsmc_range *wdsmc_missing_ranges(const struct wdsmc_missing *m)
{
    return m->r;
}
