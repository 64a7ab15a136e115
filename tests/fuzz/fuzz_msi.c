/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the MS-WDSMSI (UDP) decoder: no crash, and a decoded
 * packet re-encodes to bytes that decode to the same values. */
#include <assert.h>
#include <string.h>

#include "wdsmc/codec.h"
#include "fuzz.h"

static uint8_t out[WDSMC_MAX_DATAGRAM];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wdsmc_msi_pkt p, q;

    ssize_t n = wdsmc_msi_decode(data, size, &p);
    if (n < 0)
        return 0;
    assert((size_t)n == size);
    ssize_t m = wdsmc_msi_encode(&p, out, sizeof(out));
    assert(m > 0);
    assert(wdsmc_msi_decode(out, (size_t)m, &q) == m);
    assert(q.opcode == p.opcode && q.is_error == p.is_error);
    if (p.is_error)
        assert(q.u.error == p.u.error);
    else if (p.opcode == WDSMC_MSI_REQUEST)
        assert(strcmp(q.u.req.ns, p.u.req.ns) == 0 &&
               strcmp(q.u.req.content, p.u.req.content) == 0 &&
               memcmp(q.u.req.mac, p.u.req.mac, 6) == 0);
    else
        assert(memcmp(&q.u.reply, &p.u.reply, sizeof(p.u.reply)) == 0);
    return 0;
}
