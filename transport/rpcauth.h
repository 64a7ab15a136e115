/* SPDX-License-Identifier: MIT */
/*
 * Authentication providers for connection-oriented DCE/RPC (MS-RPCE 3.3.1.5.2
 * and 2.2.2.12, C706 13): what the PDU layer (dcerpc.c) plugs in to run a
 * security context at RPC_C_AUTHN_LEVEL_PKT_INTEGRITY (5) or
 * RPC_C_AUTHN_LEVEL_PKT_PRIVACY (6). Two providers exist, each usable as a
 * client or a server:
 *
 *   - NTLM (auth_type 10, RPC_C_AUTHN_WINNT): MS-NLMP, NTLMv2 only; ntlm.h.
 *   - SPNEGO wrapping NTLM (auth_type 9, RPC_C_AUTHN_GSS_NEGOTIATE): MS-SPNG
 *     and RFC 4178; spnego.h.
 *
 * Everything is sans-I/O: tokens in, tokens out; randomness and time come
 * from callbacks so that tests can inject the spec's values.
 *
 * How the PDU layer drives the context exchange (MS-RPCE 2.2.2.12):
 *
 *   client: step(NULL, 0)        -> token for the bind PDU; returns CONTINUE
 *           step(bind_ack token) -> if DONE with a token (NTLM): send it in
 *                                   rpc_auth3, no reply comes; if CONTINUE
 *                                   (SPNEGO): send it in alter_context and
 *                                   feed alter_context_resp's token to step,
 *                                   which then returns DONE with no token.
 *   server: step(bind token)     -> token for bind_ack; returns CONTINUE
 *           step(auth3 or alter_context token)
 *                                -> DONE; a token, if any (SPNEGO), goes into
 *                                   alter_context_resp.
 *
 * A negative return from step is final: the context is unusable and the PDU
 * layer answers bind_nak / fault (-EACCES: wrong password, unknown user or
 * anonymous refused; -EBADMSG: malformed token; -EPROTO: a token valid in
 * itself but out of sequence or with too weak a choice of options).
 *
 * Per-message protection once DONE, for request and response PDUs:
 *
 *   PKT_PRIVACY:   seal(stub+auth padding, whole PDU up to and including the
 *                  sec_trailer) -> 16-byte auth token; unseal on receipt.
 *   PKT_INTEGRITY: sign(whole PDU up to and including the sec_trailer);
 *                  verify on receipt.
 *
 * "Whole PDU" is the common header (with frag_length and auth_length already
 * final), the body and the sec_trailer, i.e. everything before the auth
 * token. With NTLMv2 every buffer handed to GSS_WrapEx/GetMICEx is covered by
 * the checksum whether or not header signing (PFC_SUPPORT_HEADER_SIGN) was
 * negotiated (MS-NLMP 3.4.6.1, 3.4.8.1; MS-RPCE 3.3.1.5.2.2). The checksum is
 * taken over the plaintext, so sign_region must hold the body in plaintext
 * when seal is called: seal computes HMAC_MD5 over sign_region first, then
 * encrypts data in place with the sender's RC4 handle, then encrypts the
 * 8-byte checksum with the same handle (MS-NLMP 3.4.3 SEAL, 3.4.4.2 MAC with
 * key exchange; the order of the two RC4 operations is fixed by the shared
 * key stream and is checked by the MS-NLMP 4.2.4.4 example). unseal decrypts
 * data first, then checks the checksum over the now-plaintext sign_region.
 *
 * Each direction has its own keys, RC4 handle and sequence number (starting
 * at 0, +1 per message: MS-NLMP 3.4.4), so calls must be made in PDU order.
 * A failed unseal/verify leaves the RC4 stream out of step with the peer: the
 * context is then poisoned and every later call fails with -EPROTO; the
 * connection must be closed.
 */
#ifndef WDSMC_RPCAUTH_H
#define WDSMC_RPCAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* auth_type values of the sec_trailer (MS-RPCE 2.2.1.1.7). */
#define WDSMC_RPCAUTH_GSS_NEGOTIATE 9
#define WDSMC_RPCAUTH_WINNT         10

/* auth_level values (MS-RPCE 2.2.1.1.8). */
#define WDSMC_RPCAUTH_LEVEL_PKT_INTEGRITY 5
#define WDSMC_RPCAUTH_LEVEL_PKT_PRIVACY   6

/* Size of the auth token of a request/response PDU (NTLMSSP_MESSAGE_SIGNATURE). */
#define WDSMC_RPCAUTH_SIG_SIZE 16

/* Largest context token either provider produces or accepts. */
#define WDSMC_RPCAUTH_MAX_TOKEN 4608

/* step() results besides negative errors. */
#define WDSMC_RPCAUTH_DONE     0
#define WDSMC_RPCAUTH_CONTINUE 1

/*
 * Server user database: write the user's NT hash (MD4 of the UTF-16LE
 * password, NTOWFv1) to ret_nt_hash and return 0, or return -ENOENT for an
 * unknown user (any other negative errno is passed through). user_utf8 and
 * domain_utf8 are as the client sent them (domain may be ""); user names are
 * case-insensitive (MS-NLMP 3.2.5.1.2), so the callback should compare them
 * without regard to case.
 */
typedef int (*wdsmc_rpcauth_lookup_fn)(void *ctx, const char *user_utf8, const char *domain_utf8,
                                       uint8_t ret_nt_hash[16]);
/* Fill buf with len random bytes; 0 or a negative errno. */
typedef int (*wdsmc_rpcauth_random_fn)(void *ctx, uint8_t *buf, size_t len);
/* The current time as a FILETIME (100 ns ticks since 1601-01-01 UTC). */
typedef uint64_t (*wdsmc_rpcauth_time_fn)(void *ctx);

struct wdsmc_rpcauth_client_cfg {
    /* UTF-8 credentials. user NULL or "" with no password: anonymous. */
    const char *user;
    const char *domain;
    const char *password;
    /* Instead of password: its NT hash (16 bytes), or NULL. */
    const uint8_t *nt_hash;
    /* NetBIOS name of this machine for the Workstation field, or NULL. */
    const char *workstation;
    /* SPN of the server for MsvAvTargetName (e.g. "host/wds01"), or NULL. */
    const char *target_spn;
    /* VERSION structure to send (MS-NLMP 2.2.2.10), or NULL for a default. */
    const uint8_t *version;
    /* Randomness (client challenge, ExportedSessionKey) and clock; NULL:
     * getrandom(2) and clock_gettime(2). */
    wdsmc_rpcauth_random_fn random;
    void *random_ctx;
    wdsmc_rpcauth_time_fn now;
    void *now_ctx;
};

struct wdsmc_rpcauth_server_cfg {
    /* UTF-8 names for TargetName and TargetInfo (MS-NLMP 3.2.5.1.1).
     * nb_computer is required; the others may be NULL. */
    const char *nb_computer;
    const char *nb_domain;
    const char *dns_computer;
    const char *dns_domain;
    const char *dns_tree;
    wdsmc_rpcauth_lookup_fn lookup;
    void *lookup_ctx;
    /* Accept the ANONYMOUS logon (MS-NLMP 3.2.5.1.2 NullSession). */
    bool allow_anonymous;
    /* Largest accepted |client timestamp - now| (MaxLifetime), in 100 ns
     * ticks; 0 means 36 hours. */
    uint64_t max_skew;
    /* VERSION structure to send, or NULL for a default. */
    const uint8_t *version;
    /* Randomness (ServerChallenge) and clock; NULL: system sources. */
    wdsmc_rpcauth_random_fn random;
    void *random_ctx;
    wdsmc_rpcauth_time_fn now;
    void *now_ctx;
    /* Known-answer tests only: leave MsvAvTimestamp out of the CHALLENGE
     * (the MS-NLMP 4.2.4 example has none), which also turns off the MIC. */
    bool omit_timestamp;
    /* Refuse an AUTHENTICATE_MESSAGE without a MIC although the CHALLENGE
     * carried MsvAvTimestamp (-EPROTO). Off by default: MS-NLMP 3.1.5.1.2
     * only says the client SHOULD send one and <the note at 5.1> that the
     * server does not require it; clients such as impacket never do. A MIC
     * that is present is always checked. */
    bool require_mic;
};

/* What an established context reports. Strings are borrowed from it. */
struct wdsmc_rpcauth_info {
    bool complete;
    bool anonymous;
    bool can_sign;
    bool can_seal;
    uint32_t ntlm_flags;     /* NegotiateFlags in force */
    const char *user;        /* server: authenticated user (UTF-8) */
    const char *domain;      /* server: its domain as the client sent it */
    const char *workstation; /* server: client's workstation name */
    uint8_t session_key[16]; /* ExportedSessionKey */
};

struct wdsmc_rpcauth;

/* The provider vtable. Implementations embed struct wdsmc_rpcauth. */
struct wdsmc_rpcauth_ops {
    uint8_t auth_type; /* WDSMC_RPCAUTH_WINNT or WDSMC_RPCAUTH_GSS_NEGOTIATE */
    int (*step)(struct wdsmc_rpcauth *a, const uint8_t *in, size_t in_len, uint8_t *out,
                size_t out_cap, size_t *ret_out_len);
    int (*seal)(struct wdsmc_rpcauth *a, uint8_t *data, size_t len, const uint8_t *sign_region,
                size_t sign_len, uint8_t sig_out[16]);
    int (*unseal)(struct wdsmc_rpcauth *a, uint8_t *data, size_t len, const uint8_t *sign_region,
                  size_t sign_len, const uint8_t *sig, size_t sig_len);
    int (*sign)(struct wdsmc_rpcauth *a, const uint8_t *msg, size_t len, uint8_t sig_out[16]);
    int (*verify)(struct wdsmc_rpcauth *a, const uint8_t *msg, size_t len, const uint8_t *sig,
                  size_t sig_len);
    int (*info)(struct wdsmc_rpcauth *a, struct wdsmc_rpcauth_info *ret);
    void (*free)(struct wdsmc_rpcauth *a);
};

struct wdsmc_rpcauth {
    const struct wdsmc_rpcauth_ops *ops;
};

/*
 * Constructors. Each copies what it needs from cfg (which may be freed
 * afterwards) and returns a heap object in *ret to release with
 * wdsmc_rpcauth_free. -EINVAL for a bad cfg, -ENOMEM.
 */
int wdsmc_rpcauth_ntlm_client_new(const struct wdsmc_rpcauth_client_cfg *cfg,
                                  struct wdsmc_rpcauth **ret);
int wdsmc_rpcauth_ntlm_server_new(const struct wdsmc_rpcauth_server_cfg *cfg,
                                  struct wdsmc_rpcauth **ret);
int wdsmc_rpcauth_spnego_client_new(const struct wdsmc_rpcauth_client_cfg *cfg,
                                    struct wdsmc_rpcauth **ret);
int wdsmc_rpcauth_spnego_server_new(const struct wdsmc_rpcauth_server_cfg *cfg,
                                    struct wdsmc_rpcauth **ret);

/* Releases a provider and wipes its keys; NULL is fine. */
static inline void wdsmc_rpcauth_free(struct wdsmc_rpcauth *a)
{
    if (a)
        a->ops->free(a);
}

/*
 * One leg of the context exchange (see the top of this file). in/in_len is
 * the peer's token (NULL/0 for the client's first call). The token to send
 * is written to out[0..out_cap) and its length to *ret_out_len (0: nothing to
 * send). Returns WDSMC_RPCAUTH_CONTINUE, WDSMC_RPCAUTH_DONE or a negative
 * errno: -ENOBUFS out_cap too small (WDSMC_RPCAUTH_MAX_TOKEN always fits),
 * -EBADMSG, -EPROTO, -EACCES, -EMSGSIZE (token over the limit), -ENOMEM.
 */
static inline int wdsmc_rpcauth_step(struct wdsmc_rpcauth *a, const uint8_t *in, size_t in_len,
                                     uint8_t *out, size_t out_cap, size_t *ret_out_len)
{
    return a->ops->step(a, in, in_len, out, out_cap, ret_out_len);
}

/*
 * PKT_PRIVACY, sending side: encrypts data[0..len) in place and writes the
 * signature over sign_region (which must contain data, in plaintext) to
 * sig_out. -EPROTO before DONE or after a failure, -EOPNOTSUPP when sealing
 * was not negotiated.
 */
static inline int wdsmc_rpcauth_seal(struct wdsmc_rpcauth *a, uint8_t *data, size_t len,
                                     const uint8_t *sign_region, size_t sign_len,
                                     uint8_t sig_out[16])
{
    return a->ops->seal(a, data, len, sign_region, sign_len, sig_out);
}

/*
 * PKT_PRIVACY, receiving side: decrypts data in place, then checks sig over
 * sign_region (which contains data). -EBADMSG for a wrong signature, length or
 * sequence number (the decrypted data must then be discarded).
 */
static inline int wdsmc_rpcauth_unseal(struct wdsmc_rpcauth *a, uint8_t *data, size_t len,
                                       const uint8_t *sign_region, size_t sign_len,
                                       const uint8_t *sig, size_t sig_len)
{
    return a->ops->unseal(a, data, len, sign_region, sign_len, sig, sig_len);
}

/* PKT_INTEGRITY: signature over msg (MS-NLMP 3.4.2 / GSS_GetMICEx). */
static inline int wdsmc_rpcauth_sign(struct wdsmc_rpcauth *a, const uint8_t *msg, size_t len,
                                     uint8_t sig_out[16])
{
    return a->ops->sign(a, msg, len, sig_out);
}

/* PKT_INTEGRITY: checks sig over msg; -EBADMSG when it does not match. */
static inline int wdsmc_rpcauth_verify(struct wdsmc_rpcauth *a, const uint8_t *msg, size_t len,
                                       const uint8_t *sig, size_t sig_len)
{
    return a->ops->verify(a, msg, len, sig, sig_len);
}

/* Fills *ret; 0, or -EPROTO before the context is DONE. */
static inline int wdsmc_rpcauth_info(struct wdsmc_rpcauth *a, struct wdsmc_rpcauth_info *ret)
{
    return a->ops->info(a, ret);
}

static inline uint8_t wdsmc_rpcauth_type(const struct wdsmc_rpcauth *a)
{
    return a->ops->auth_type;
}

#ifdef __cplusplus
}
#endif

#endif
