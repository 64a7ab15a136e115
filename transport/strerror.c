/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "wdsmc/error.h"

static const char *const codec_errors[] = {
        [WDSMC_ETRUNC - WDSMC_EBASE] = "truncated packet",
        [WDSMC_ETRAILING - WDSMC_EBASE] = "trailing bytes after packet",
        [WDSMC_EMAGIC - WDSMC_EBASE] = "bad packet identifier (not \"WD\")",
        [WDSMC_ESECTYPE - WDSMC_EBASE] = "bad security header type or length",
        [WDSMC_ECHECKSUM - WDSMC_EBASE] = "packet checksum mismatch",
        [WDSMC_ESECUNSUPP - WDSMC_EBASE] = "packet hashing/signing not supported",
        [WDSMC_EOPCODE - WDSMC_EBASE] = "unknown opcode",
        [WDSMC_ECOUNT - WDSMC_EBASE] = "count or length does not fit the packet",
        [WDSMC_EADDRLEN - WDSMC_EBASE] = "bad address length",
        [WDSMC_ESTRING - WDSMC_EBASE] = "malformed string",
        [WDSMC_ESTRLEN - WDSMC_EBASE] = "string too long",
        [WDSMC_ERANGE - WDSMC_EBASE] = "range start after range end",
        [WDSMC_ETOOMANY - WDSMC_EBASE] = "too many list entries",
        [WDSMC_EOPTION - WDSMC_EBASE] = "bad or duplicate option",
        [WDSMC_EMISSING - WDSMC_EBASE] = "required option missing",
        [WDSMC_EVALUE - WDSMC_EBASE] = "field value out of range",
        [WDSMC_ETOOBIG - WDSMC_EBASE] = "datagram too large",
        [WDSMC_EHMAC - WDSMC_EBASE] = "packet HMAC mismatch",
        [WDSMC_ESIG - WDSMC_EBASE] = "packet signature does not verify",
        [WDSMC_EKEYBLOB - WDSMC_EBASE] = "malformed CryptoAPI key blob",
        [WDSMC_EKICK_POLICY - WDSMC_EBASE] = "kicked by server: client does not meet server policy",
        [WDSMC_EKICK_FALLBACK - WDSMC_EBASE] = "kicked by server: use another transfer method",
        [WDSMC_EKICK_FAIL - WDSMC_EBASE] = "terminated by server",
        [WDSMC_ENOCONTENT - WDSMC_EBASE] = "no such content",
        [WDSMC_ESERVER - WDSMC_EBASE] = "server refused the request",
        [WDSMC_EBADREPLY - WDSMC_EBASE] = "server sent invalid session parameters",
};

const char *wdsmc_strerror(int err)
{
    int e = err < 0 ? -err : err;

    if (e > WDSMC_EBASE && e < WDSMC_ELAST && codec_errors[e - WDSMC_EBASE])
        return codec_errors[e - WDSMC_EBASE];
    if (e == 0)
        return "success";
    if (e < WDSMC_EBASE)
        return strerror(e);
    return "unknown error";
}
