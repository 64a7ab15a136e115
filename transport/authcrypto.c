/* SPDX-License-Identifier: MIT */
/*
 * nettle wrappers for NTLM; see authcrypto.h. The library links nettle only
 * here, so the rest of the authentication code reads as the spec's pseudocode.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "authcrypto.h"

void wdsmc_authcrypto_md4(const uint8_t *data, size_t len, uint8_t out[16])
{
    struct md4_ctx c;
    md4_init(&c);
    md4_update(&c, len, data);
    md4_digest(&c, MD4_DIGEST_SIZE, out);
    wdsmc_authcrypto_wipe(&c, sizeof(c));
}

void wdsmc_authcrypto_md5(const uint8_t *data, size_t len, uint8_t out[16])
{
    struct md5_ctx c;
    md5_init(&c);
    md5_update(&c, len, data);
    md5_digest(&c, MD5_DIGEST_SIZE, out);
    wdsmc_authcrypto_wipe(&c, sizeof(c));
}

void wdsmc_hmac_md5_init(struct wdsmc_hmac_md5 *h, const uint8_t *key, size_t key_len)
{
    hmac_md5_set_key(&h->ctx, key_len, key);
}

void wdsmc_hmac_md5_update(struct wdsmc_hmac_md5 *h, const uint8_t *data, size_t len)
{
    hmac_md5_update(&h->ctx, len, data);
}

void wdsmc_hmac_md5_final(struct wdsmc_hmac_md5 *h, uint8_t out[16])
{
    hmac_md5_digest(&h->ctx, MD5_DIGEST_SIZE, out);
    wdsmc_authcrypto_wipe(h, sizeof(*h));
}

void wdsmc_authcrypto_hmac_md5(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
                               uint8_t out[16])
{
    struct wdsmc_hmac_md5 h;
    wdsmc_hmac_md5_init(&h, key, key_len);
    wdsmc_hmac_md5_update(&h, data, len);
    wdsmc_hmac_md5_final(&h, out);
}

int wdsmc_rc4_init(struct wdsmc_rc4 *r, const uint8_t *key, size_t key_len)
{
    if (key_len < ARCFOUR_MIN_KEY_SIZE || key_len > ARCFOUR_MAX_KEY_SIZE)
        return -EINVAL;
    arcfour_set_key(&r->ctx, key_len, key);
    return 0;
}

void wdsmc_rc4_crypt(struct wdsmc_rc4 *r, uint8_t *buf, size_t len)
{
    if (len)
        arcfour_crypt(&r->ctx, len, buf, buf);
}

void wdsmc_rc4_wipe(struct wdsmc_rc4 *r)
{
    wdsmc_authcrypto_wipe(r, sizeof(*r));
}

int wdsmc_authcrypto_rc4k(const uint8_t *key, size_t key_len, const uint8_t *in, size_t len,
                          uint8_t *out)
{
    struct wdsmc_rc4 r;
    int rc = wdsmc_rc4_init(&r, key, key_len);
    if (rc < 0)
        return rc;
    if (out != in)
        memmove(out, in, len);
    wdsmc_rc4_crypt(&r, out, len);
    wdsmc_rc4_wipe(&r);
    return 0;
}

int wdsmc_authcrypto_memneq(const void *a, const void *b, size_t len)
{
    const volatile uint8_t *x = a, *y = b;
    uint8_t d = 0;
    for (size_t i = 0; i < len; i++)
        d |= x[i] ^ y[i];
    return d != 0;
}

void wdsmc_authcrypto_wipe(void *p, size_t len)
{
    volatile uint8_t *v = p;
    while (len--)
        *v++ = 0;
}

int wdsmc_authcrypto_random(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    while (len) {
        ssize_t n = getrandom(buf, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Seconds from 1601-01-01 to 1970-01-01 (MS-DTYP 2.3.3). */
#define FILETIME_UNIX_EPOCH 11644473600ULL

uint64_t wdsmc_authcrypto_filetime_now(void *ctx)
{
    struct timespec ts;
    (void)ctx;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((uint64_t)ts.tv_sec + FILETIME_UNIX_EPOCH) * 10000000ULL + (uint64_t)ts.tv_nsec / 100;
}
