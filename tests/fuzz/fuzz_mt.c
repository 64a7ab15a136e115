/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the MS-WDSMT decoder. Beyond "does not crash", it
 * checks a property: whatever decodes re-encodes (with a CHECKSUM header) to
 * bytes that decode again to the same packet.
 *
 * The checksum is verified before any field is read, so nearly every mutation
 * would stop there. Each input is therefore decoded twice: as it is, and with
 * a correct checksum written into its security header, which lets mutations
 * reach every field decoder.
 */
#include <assert.h>
#include <string.h>

#include "wdsmc/codec.h"
#include "fuzz.h"
#include "mt_lists.h"

static uint8_t out[WDSMC_MAX_DATAGRAM];
static void check_one(const uint8_t *data, size_t size);

static uint8_t fixed[WDSMC_MAX_DATAGRAM + 1];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_one(data, size);
    /* "WD", CHECKSUM, SecurityDataLen 4, then the 4 checksum bytes. */
    if (size >= 9 && size <= sizeof(fixed) && data[2] == WDSMC_SEC_CHECKSUM && data[3] == 0 &&
        data[4] == 4) {
        memcpy(fixed, data, size);
        uint32_t sum = wdsmc_mt_checksum(fixed + 9, size - 9);
        fixed[5] = (uint8_t)(sum >> 24);
        fixed[6] = (uint8_t)(sum >> 16);
        fixed[7] = (uint8_t)(sum >> 8);
        fixed[8] = (uint8_t)sum;
        check_one(fixed, size);
    }
    return 0;
}

static void check_one(const uint8_t *data, size_t size)
{
    struct wdsmc_mt_pkt p, q;

    ssize_t n = wdsmc_mt_decode(data, size, &p);
    if (n < 0)
        return;
    assert((size_t)n == size);

    fuzz_mt_lists_to_arrays(&p);
    p.sec_type = WDSMC_SEC_CHECKSUM;
    ssize_t m = wdsmc_mt_encode(&p, out, sizeof(out));
    /* A decoded packet may not re-encode only when it grows past the
     * datagram limit (a NONE header replaced by a CHECKSUM one). */
    if (m == -ENOBUFS)
        return;
    assert(m > 0);
    ssize_t k = wdsmc_mt_decode(out, (size_t)m, &q);
    assert(k == m);
    assert(q.opcode == p.opcode && q.session_id == p.session_id && q.sender_time == p.sender_time);
}
