/* SPDX-License-Identifier: MIT */
/*
 * UTF-16LE <-> UTF-8 for the few strings the protocols carry: the MS-WDSMT
 * JOIN ClientName and the MS-WDSMSI namespace and content names. Strict in
 * both directions: a peer that sends a lone surrogate, or a caller that hands
 * us overlong UTF-8, gets an error rather than a silently altered name, since
 * names are compared byte for byte to find content.
 */
#include <errno.h>

#include "wdsmc/codec.h"

static size_t utf8_put(char *dst, uint32_t cp)
{
    if (cp < 0x80) {
        dst[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        dst[0] = (char)(0xC0 | cp >> 6);
        dst[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        dst[0] = (char)(0xE0 | cp >> 12);
        dst[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        dst[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    dst[0] = (char)(0xF0 | cp >> 18);
    dst[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    dst[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    dst[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

ssize_t wdsmc_utf16le_to_utf8(const uint8_t *src, size_t units, char *dst, size_t cap)
{
    size_t out = 0;

    if (cap == 0)
        return -WDSMC_ESTRLEN;
    for (size_t i = 0; i < units; i++) {
        uint32_t cp = (uint32_t)src[2 * i] | (uint32_t)src[2 * i + 1] << 8;
        if (cp == 0)
            return -WDSMC_ESTRING;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (i + 1 >= units)
                return -WDSMC_ESTRING;
            uint32_t lo = (uint32_t)src[2 * i + 2] | (uint32_t)src[2 * i + 3] << 8;
            if (lo < 0xDC00 || lo > 0xDFFF)
                return -WDSMC_ESTRING;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i++;
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return -WDSMC_ESTRING;
        }
        char tmp[4];
        size_t n = utf8_put(tmp, cp);
        /* Keep one byte for the terminating NUL. */
        if (cap - 1 - out < n)
            return -WDSMC_ESTRLEN;
        for (size_t k = 0; k < n; k++)
            dst[out++] = tmp[k];
    }
    dst[out] = '\0';
    return (ssize_t)out;
}

/* Decode one UTF-8 sequence at s; returns its length and the code point, or 0
 * for anything RFC 3629 forbids (overlong forms, surrogates, > U+10FFFF,
 * stray continuation bytes, truncated sequences). */
static size_t utf8_get(const unsigned char *s, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t v, min;

    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        n = 2, v = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, v = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t k = 1; k < n; k++) {
        /* A NUL here stops the loop too, so we never read past the string. */
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[k] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

ssize_t wdsmc_utf8_to_utf16le(const char *src, uint8_t *dst, size_t max_units)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t units = 0;

    while (*s) {
        uint32_t cp;
        size_t n = utf8_get(s, &cp);
        if (n == 0)
            return -WDSMC_ESTRING;
        s += n;
        if (cp >= 0x10000) {
            if (max_units - units < 2)
                return -WDSMC_ESTRLEN;
            cp -= 0x10000;
            uint32_t hi = 0xD800 + (cp >> 10), lo = 0xDC00 + (cp & 0x3FF);
            dst[2 * units] = (uint8_t)hi;
            dst[2 * units + 1] = (uint8_t)(hi >> 8);
            dst[2 * units + 2] = (uint8_t)lo;
            dst[2 * units + 3] = (uint8_t)(lo >> 8);
            units += 2;
        } else {
            if (max_units - units < 1)
                return -WDSMC_ESTRLEN;
            dst[2 * units] = (uint8_t)cp;
            dst[2 * units + 1] = (uint8_t)(cp >> 8);
            units += 1;
        }
    }
    return (ssize_t)units;
}
