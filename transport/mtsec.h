/* SPDX-License-Identifier: MIT */
/*
 * MS-WDSMT packet hashing and signing keys held by a state machine
 * (internal). The codec's wdsmc_mt_security borrows keys; this owns them:
 * the HMAC key bytes copied out of SymKey and the RSA keys built from
 * SignKey (client) or the server's PRIVATEKEYBLOB, as nettle keys.
 *
 * wdsmc_mtsec_init() parses and checks everything at creation, so a state
 * machine that was created can always protect and check its packets.
 */
#ifndef WDSMC_MTSEC_H
#define WDSMC_MTSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nettle/rsa.h>

#include "wdsmc/codec.h"

/* What wdsmc_mtsec_init() must find in the keys. */
enum {
    WDSMC_MTSEC_HMAC = 1 << 0,   /* SymKey: HASH in either direction */
    WDSMC_MTSEC_VERIFY = 1 << 1, /* SignKey: a client checking SIGN */
    WDSMC_MTSEC_SIGN = 1 << 2,   /* a PRIVATEKEYBLOB: a server sending SIGN */
};

struct wdsmc_mtsec {
    uint32_t hash_alg; /* HashAlgId, resolved (never 0) */
    uint8_t hmac_key[WDSMC_SYMKEY_MAX];
    size_t hmac_key_len;
    bool has_pub, has_priv;
    struct rsa_public_key pub;
    struct rsa_private_key priv;
    uint64_t rng; /* blinding for signatures (decision 53) */
};

/*
 * MS-WDSMSI 2.2.1.1-2, 3.1.1.3, 3.1.5.1: the keys (WDSMC_MTSEC_* flags) a
 * session with these two security modes needs at the server (`server`) or at
 * a client, or -EINVAL for an unknown mode, -ENOTSUP for a client mode of
 * SIGN (a client has no private key; the server would need every client's
 * public key).
 */
int wdsmc_mtsec_needs(uint8_t server_sec, uint8_t client_sec, bool server);

/*
 * Take what `need` (WDSMC_MTSEC_* flags) asks for from `keys` (borrowed;
 * NULL when need is 0). Returns 0; -ENOKEY when a blob that is needed is
 * absent; -WDSMC_EKEYBLOB for a malformed blob or an RSA key nettle rejects;
 * -ENOTSUP for a HashAlgId other than SHA-256 or SHA-1 or an HMACAlgId other
 * than CALG_HMAC. `seed` seeds the blinding PRNG. On error nothing needs
 * freeing; on success call wdsmc_mtsec_fini().
 */
int wdsmc_mtsec_init(struct wdsmc_mtsec *k, const struct wdsmc_mt_keys *keys, unsigned need,
                     uint64_t seed);

/* Release the RSA keys; safe on a zeroed or finished struct. */
void wdsmc_mtsec_fini(struct wdsmc_mtsec *k);

/* The codec's view for `mode`: pointers into k (which must outlive it). */
void wdsmc_mtsec_view(struct wdsmc_mtsec *k, uint8_t mode, struct wdsmc_mt_security *ret);

#endif /* WDSMC_MTSEC_H */
