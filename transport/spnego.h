/* SPDX-License-Identifier: MIT */
/*
 * SPNEGO (RFC 4178, MS-SPNG) carrying NTLM: the RPC_C_AUTHN_GSS_NEGOTIATE
 * provider of rpcauth.h. The only mechanism offered or accepted is NTLM
 * (1.3.6.1.4.1.311.2.2.10); a client that prefers another mechanism but
 * lists NTLM is asked for an NTLM token and must then send a mechListMIC
 * (RFC 4178 5).
 *
 *   client                                    server
 *   NegTokenInit{[NTLM], NEGOTIATE}      ->
 *                                        <-   NegTokenResp{accept-incomplete,
 *                                               NTLM, CHALLENGE}
 *   NegTokenResp{AUTHENTICATE, MIC}      ->
 *                                        <-   NegTokenResp{accept-completed, MIC}
 *
 * The mechListMIC is NTLM's GSS_GetMIC over the DER MechTypeList the client
 * sent; it advances each direction's sequence number, but the RC4 handles are
 * restored afterwards (MS-SPNG 3.2.5.1, 3.3.5.1), so the first sealed
 * message carries sequence number 1 and starts the RC4 streams afresh.
 */
#ifndef WDSMC_SPNEGO_H
#define WDSMC_SPNEGO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntlm.h"
#include "rpcauth.h"

#ifdef __cplusplus
extern "C" {
#endif

/* negState (RFC 4178 4.2.2). */
#define WDSMC_SPNEGO_ACCEPT_COMPLETED  0
#define WDSMC_SPNEGO_ACCEPT_INCOMPLETE 1
#define WDSMC_SPNEGO_REJECT            2
#define WDSMC_SPNEGO_REQUEST_MIC       3

/* Limits on a peer's token. */
#define WDSMC_SPNEGO_MAX_MECHS      16  /* OIDs in mechTypes */
#define WDSMC_SPNEGO_MAX_MECH_TYPES 512 /* bytes of the DER MechTypeList */

/* A decoded NegotiationToken; pointers borrow from the decoded buffer. */
struct wdsmc_spnego_token {
    bool init; /* NegTokenInit (in its GSS framing) rather than NegTokenResp */
    /* NegTokenInit: the MechTypeList TLV and where NTLM is in it (-1: absent). */
    const uint8_t *mech_types;
    size_t mech_types_len;
    int ntlm_index;
    /* NegTokenResp: negState (-1: absent), supportedMech. */
    int neg_state;
    bool has_supported_mech;
    bool supported_mech_is_ntlm;
    /* mechToken / responseToken and mechListMIC; NULL when absent. */
    const uint8_t *mech_token;
    size_t mech_token_len;
    const uint8_t *mic;
    size_t mic_len;
};

/*
 * Decodes an SPNEGO token: an InitialContextToken (RFC 2743 3.1, [APPLICATION
 * 0] with the SPNEGO OID) holding a NegTokenInit, or a bare NegTokenResp.
 * -EMSGSIZE over WDSMC_RPCAUTH_MAX_TOKEN, -EBADMSG when malformed or with
 * bytes left over.
 */
int wdsmc_spnego_decode(const uint8_t *buf, size_t len, struct wdsmc_spnego_token *ret);

struct wdsmc_spnego;

/* Contexts wrapping an NTLM client or server; -EINVAL, -ENOMEM. */
int wdsmc_spnego_client_new(const struct wdsmc_rpcauth_client_cfg *cfg, struct wdsmc_spnego **ret);
int wdsmc_spnego_server_new(const struct wdsmc_rpcauth_server_cfg *cfg, struct wdsmc_spnego **ret);
/* Frees s and its NTLM context; NULL is fine. */
void wdsmc_spnego_free(struct wdsmc_spnego *s);
/* The rpcauth view (auth_type 9); freeing it frees s. */
struct wdsmc_rpcauth *wdsmc_spnego_rpcauth(struct wdsmc_spnego *s);
/* The NTLM context inside (borrowed). */
struct wdsmc_ntlm *wdsmc_spnego_ntlm(struct wdsmc_spnego *s);

/* One leg; see rpcauth.h for the contract and the diagram above. */
int wdsmc_spnego_step(struct wdsmc_spnego *s, const uint8_t *in, size_t in_len, uint8_t *out,
                      size_t out_cap, size_t *ret_out_len);

#ifdef __cplusplus
}
#endif

#endif
