/* SPDX-License-Identifier: MIT */
/*
 * Thin wrappers over nettle for the primitives NTLM (MS-NLMP 6, "Appendix A:
 * Cryptographic Operations Reference") needs: MD4 (RFC 1320), MD5 (RFC 1321),
 * HMAC-MD5 (RFC 2104) and RC4. Nothing here is home-made: every function
 * forwards to nettle. The RC4 state is exposed as a struct so that a security
 * context can embed it and copy it (MS-SPNG 3.3.5.1 saves and restores it).
 *
 * Also the two inputs the authentication code must not read itself in tests:
 * random bytes and the current time as a FILETIME.
 */
#ifndef WDSMC_AUTHCRYPTO_H
#define WDSMC_AUTHCRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include <nettle/arcfour.h>
#include <nettle/hmac.h>
#include <nettle/md4.h>
#include <nettle/md5.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WDSMC_MD4_SIZE 16
#define WDSMC_MD5_SIZE 16

/* MD4(data) into out[16] (RFC 1320). */
void wdsmc_authcrypto_md4(const uint8_t *data, size_t len, uint8_t out[16]);

/* MD5(data) into out[16] (RFC 1321). */
void wdsmc_authcrypto_md5(const uint8_t *data, size_t len, uint8_t out[16]);

/* Incremental HMAC-MD5 (RFC 2104); the key may be of any length. */
struct wdsmc_hmac_md5 {
    struct hmac_md5_ctx ctx;
};
void wdsmc_hmac_md5_init(struct wdsmc_hmac_md5 *h, const uint8_t *key, size_t key_len);
void wdsmc_hmac_md5_update(struct wdsmc_hmac_md5 *h, const uint8_t *data, size_t len);
/* Writes the 16-byte MAC and wipes the state. */
void wdsmc_hmac_md5_final(struct wdsmc_hmac_md5 *h, uint8_t out[16]);

/* One-shot HMAC_MD5(key, data). */
void wdsmc_authcrypto_hmac_md5(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
                               uint8_t out[16]);

/* An RC4 key stream (MS-NLMP 3.1.5.1 "RC4(handle, message)"). */
struct wdsmc_rc4 {
    struct arcfour_ctx ctx;
};
/* Keys the stream; key_len must be 1..256 bytes, else -EINVAL. */
int wdsmc_rc4_init(struct wdsmc_rc4 *r, const uint8_t *key, size_t key_len);
/* XORs len bytes at buf with the next key stream bytes, in place. */
void wdsmc_rc4_crypt(struct wdsmc_rc4 *r, uint8_t *buf, size_t len);
/* Wipes the state. */
void wdsmc_rc4_wipe(struct wdsmc_rc4 *r);

/*
 * RC4K(key, message) of MS-NLMP 3.1.5.1: a one-time RC4 instance applied to
 * in[0..len) into out (may equal in). key_len 1..256, else -EINVAL.
 */
int wdsmc_authcrypto_rc4k(const uint8_t *key, size_t key_len, const uint8_t *in, size_t len,
                          uint8_t *out);

/* Constant-time comparison: 0 when equal, 1 otherwise. */
int wdsmc_authcrypto_memneq(const void *a, const void *b, size_t len);

/* Overwrites len bytes with zeros in a way the compiler keeps. */
void wdsmc_authcrypto_wipe(void *p, size_t len);

/*
 * Fills buf with len bytes from getrandom(2). Returns 0 or a negative errno.
 * Usable as the default random callback: ctx is ignored.
 */
int wdsmc_authcrypto_random(void *ctx, uint8_t *buf, size_t len);

/*
 * The current time as a FILETIME (MS-DTYP 2.3.3: 100 ns ticks since
 * 1601-01-01 UTC) from clock_gettime(CLOCK_REALTIME). ctx is ignored.
 */
uint64_t wdsmc_authcrypto_filetime_now(void *ctx);

#ifdef __cplusplus
}
#endif

#endif
