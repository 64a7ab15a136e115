/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the MS-WDSMA decoder: no crash, and a decoded packet
 * re-encodes to the very same bytes (the format has no optional parts). */
#include <assert.h>
#include <string.h>

#include "wdsmc/codec.h"
#include "fuzz.h"

static uint8_t out[WDSMC_MAX_DATAGRAM];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wdsmc_ma_pkt p;

    ssize_t n = wdsmc_ma_decode(data, size, &p);
    if (n < 0)
        return 0;
    assert((size_t)n == size);
    ssize_t m = wdsmc_ma_encode(&p, out, sizeof(out));
    assert(m == n);
    assert(memcmp(out, data, size) == 0);
    return 0;
}
