/* SPDX-License-Identifier: MIT */
/*
 * NTLM (MS-NLMP), connection-oriented, NTLMv2 only, with extended session
 * security, 128-bit keys and key exchange: the RPC_C_AUTHN_WINNT provider of
 * rpcauth.h plus the pieces SPNEGO (spnego.c) and the tests need.
 *
 * A struct wdsmc_ntlm is either a client (NEGOTIATE -> CHALLENGE ->
 * AUTHENTICATE, MS-NLMP 3.1.5.1) or a server (3.2.5.1). It begins with a
 * struct wdsmc_rpcauth, so wdsmc_ntlm_rpcauth() hands it to the PDU layer.
 * The server never accepts LM, NTLMv1 or a response without NTLMv2's
 * client blob; it accepts the anonymous logon only when configured.
 */
#ifndef WDSMC_NTLM_H
#define WDSMC_NTLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpcauth.h"

#ifdef __cplusplus
extern "C" {
#endif

/* NegotiateFlags (MS-NLMP 2.2.2.5). */
#define WDSMC_NTLM_NEGOTIATE_UNICODE                  0x00000001u /* A */
#define WDSMC_NTLM_NEGOTIATE_OEM                      0x00000002u /* B */
#define WDSMC_NTLM_REQUEST_TARGET                     0x00000004u /* C */
#define WDSMC_NTLM_NEGOTIATE_SIGN                     0x00000010u /* D */
#define WDSMC_NTLM_NEGOTIATE_SEAL                     0x00000020u /* E */
#define WDSMC_NTLM_NEGOTIATE_DATAGRAM                 0x00000040u /* F */
#define WDSMC_NTLM_NEGOTIATE_LM_KEY                   0x00000080u /* G */
#define WDSMC_NTLM_NEGOTIATE_NTLM                     0x00000200u /* H */
#define WDSMC_NTLM_NEGOTIATE_ANONYMOUS                0x00000800u /* J */
#define WDSMC_NTLM_NEGOTIATE_OEM_DOMAIN_SUPPLIED      0x00001000u /* K */
#define WDSMC_NTLM_NEGOTIATE_OEM_WORKSTATION_SUPPLIED 0x00002000u /* L */
#define WDSMC_NTLM_NEGOTIATE_ALWAYS_SIGN              0x00008000u /* M */
#define WDSMC_NTLM_TARGET_TYPE_DOMAIN                 0x00010000u /* N */
#define WDSMC_NTLM_TARGET_TYPE_SERVER                 0x00020000u /* O */
#define WDSMC_NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY 0x00080000u /* P */
#define WDSMC_NTLM_NEGOTIATE_IDENTIFY                 0x00100000u /* Q */
#define WDSMC_NTLM_REQUEST_NON_NT_SESSION_KEY         0x00400000u /* R */
#define WDSMC_NTLM_NEGOTIATE_TARGET_INFO              0x00800000u /* S */
#define WDSMC_NTLM_NEGOTIATE_VERSION                  0x02000000u /* T */
#define WDSMC_NTLM_NEGOTIATE_128                      0x20000000u /* U */
#define WDSMC_NTLM_NEGOTIATE_KEY_EXCH                 0x40000000u /* V */
#define WDSMC_NTLM_NEGOTIATE_56                       0x80000000u /* W */

/* AvId values (MS-NLMP 2.2.2.1). */
#define WDSMC_NTLM_AV_EOL              0
#define WDSMC_NTLM_AV_NB_COMPUTER      1
#define WDSMC_NTLM_AV_NB_DOMAIN        2
#define WDSMC_NTLM_AV_DNS_COMPUTER     3
#define WDSMC_NTLM_AV_DNS_DOMAIN       4
#define WDSMC_NTLM_AV_DNS_TREE         5
#define WDSMC_NTLM_AV_FLAGS            6
#define WDSMC_NTLM_AV_TIMESTAMP        7
#define WDSMC_NTLM_AV_SINGLE_HOST      8
#define WDSMC_NTLM_AV_TARGET_NAME      9
#define WDSMC_NTLM_AV_CHANNEL_BINDINGS 10
/* MsvAvFlags bit: the AUTHENTICATE_MESSAGE carries a MIC. */
#define WDSMC_NTLM_AV_FLAG_MIC 0x00000002u

/* Limits on what a peer controls. */
#define WDSMC_NTLM_MAX_MESSAGE  4096 /* any NTLM message */
#define WDSMC_NTLM_MAX_NAME     256  /* UTF-16 units of a user, domain, workstation */
#define WDSMC_NTLM_MAX_AV_PAIRS 32   /* AV_PAIRs in a TargetInfo or client blob */
#define WDSMC_NTLM_MAX_PASSWORD 256  /* UTF-16 units */

struct wdsmc_ntlm;

/* Client and server contexts; see rpcauth.h for cfg. -EINVAL, -ENOMEM. */
int wdsmc_ntlm_client_new(const struct wdsmc_rpcauth_client_cfg *cfg, struct wdsmc_ntlm **ret);
int wdsmc_ntlm_server_new(const struct wdsmc_rpcauth_server_cfg *cfg, struct wdsmc_ntlm **ret);
/* Frees n and wipes its keys; NULL is fine. */
void wdsmc_ntlm_free(struct wdsmc_ntlm *n);
/* The rpcauth view of n (auth_type 10); freeing it frees n. */
struct wdsmc_rpcauth *wdsmc_ntlm_rpcauth(struct wdsmc_ntlm *n);

/*
 * One leg (rpcauth.h wdsmc_rpcauth_step): client: NULL -> NEGOTIATE
 * (CONTINUE), CHALLENGE -> AUTHENTICATE (DONE); server: NEGOTIATE ->
 * CHALLENGE (CONTINUE), AUTHENTICATE -> nothing (DONE).
 */
int wdsmc_ntlm_step(struct wdsmc_ntlm *n, const uint8_t *in, size_t in_len, uint8_t *out,
                    size_t out_cap, size_t *ret_out_len);

/* Per-message security; see rpcauth.h. MS-NLMP 3.4.3, 3.4.4.2. */
int wdsmc_ntlm_seal(struct wdsmc_ntlm *n, uint8_t *data, size_t len, const uint8_t *sign_region,
                    size_t sign_len, uint8_t sig_out[16]);
int wdsmc_ntlm_unseal(struct wdsmc_ntlm *n, uint8_t *data, size_t len, const uint8_t *sign_region,
                      size_t sign_len, const uint8_t *sig, size_t sig_len);
int wdsmc_ntlm_sign(struct wdsmc_ntlm *n, const uint8_t *msg, size_t len, uint8_t sig_out[16]);
int wdsmc_ntlm_verify(struct wdsmc_ntlm *n, const uint8_t *msg, size_t len, const uint8_t *sig,
                      size_t sig_len);
int wdsmc_ntlm_info(struct wdsmc_ntlm *n, struct wdsmc_rpcauth_info *ret);

/* True once DONE when the AUTHENTICATE_MESSAGE carried a MIC (then SPNEGO
 * must carry a mechListMIC, MS-SPNG <8>). */
bool wdsmc_ntlm_mic_used(const struct wdsmc_ntlm *n);

/*
 * GSS_GetMIC / GSS_VerifyMIC for SPNEGO's mechListMIC: like sign/verify
 * (the sequence number advances) but the RC4 handle is saved before and
 * restored after, so the first application message sees the same key
 * stream (MS-SPNG 3.2.5.1, 3.3.5.1).
 */
int wdsmc_ntlm_mech_list_mic(struct wdsmc_ntlm *n, const uint8_t *msg, size_t len,
                             uint8_t sig_out[16]);
int wdsmc_ntlm_check_mech_list_mic(struct wdsmc_ntlm *n, const uint8_t *msg, size_t len,
                                   const uint8_t *sig, size_t sig_len);

/* ---- The calculations, exposed for known-answer tests (MS-NLMP 4.2.4). ---- */

/* NTOWFv1: MD4(UNICODE(password)). -EINVAL for bad UTF-8 or too long. */
int wdsmc_ntlm_nt_hash(const char *password_utf8, uint8_t ret[16]);

/* NTOWFv2 (= LMOWFv2) from the NT hash: HMAC_MD5(nt_hash,
 * UNICODE(Uppercase(user) + domain)) (MS-NLMP 3.3.2). -EINVAL. */
int wdsmc_ntlm_ntowfv2(const uint8_t nt_hash[16], const char *user_utf8, const char *domain_utf8,
                       uint8_t ret[16]);

/*
 * ComputeResponse for NTLMv2 (MS-NLMP 3.3.2): from ResponseKeyNT (= LM),
 * the server and client challenges, the time and the AV pairs ("ServerName"),
 * writes NtChallengeResponse (NTProofStr + temp, 16 + 28 + av_len + 4 bytes)
 * to nt_resp[0..cap), LMv2 response (24 bytes) to lm_resp and
 * SessionBaseKey to session_base_key. Returns the NT response length or
 * -ENOBUFS.
 */
int wdsmc_ntlm_v2_response(const uint8_t key[16], const uint8_t server_challenge[8],
                           const uint8_t client_challenge[8], uint64_t time, const uint8_t *av,
                           size_t av_len, uint8_t *nt_resp, size_t cap, uint8_t lm_resp[24],
                           uint8_t session_base_key[16]);

/* SIGNKEY and SEALKEY with extended session security (MS-NLMP 3.4.5.2,
 * 3.4.5.3); client selects the client-to-server constant. */
void wdsmc_ntlm_signkey(const uint8_t exported_session_key[16], bool client, uint8_t ret[16]);
void wdsmc_ntlm_sealkey(uint32_t flags, const uint8_t exported_session_key[16], bool client,
                        uint8_t ret[16]);

#ifdef __cplusplus
}
#endif

#endif
