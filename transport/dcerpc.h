/* SPDX-License-Identifier: MIT */
/*
 * Connection-oriented DCE/RPC PDU codec (C706 chapter 12.6 with the MS-RPCE
 * 2.2.2 extensions): bind, bind_ack, bind_nak, alter_context,
 * alter_context_resp, rpc_auth_3, request, response, fault, shutdown,
 * co_cancel, orphaned, and the sec_trailer/authentication token of each.
 *
 * NDR 2.0 with little-endian integers only: a PDU whose drep says otherwise
 * is -EPROTONOSUPPORT, like a protocol version other than 5.0 (MS-RPCE
 * 3.3.1.5.1).
 *
 * Pure: no allocation, no I/O. Decoded PDUs borrow from the input buffer.
 */
#ifndef WDSMC_DCERPC_H
#define WDSMC_DCERPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ndr.h"

#ifdef __cplusplus
extern "C" {
#endif

/* TCP port on which WDS serves its RPC interfaces by default. */
#define WDSMC_DCERPC_WDS_PORT 5040

#define WDSMC_DCERPC_HDR_LEN      16   /* C706 12.6.3.1 common header */
#define WDSMC_DCERPC_REQ_HDR_LEN  24   /* request without object UUID */
#define WDSMC_DCERPC_RESP_HDR_LEN 24   /* response, fault body starts here */
#define WDSMC_DCERPC_TRAILER_LEN  8    /* MS-RPCE 2.2.2.11 sec_trailer */
#define WDSMC_DCERPC_MIN_FRAG     1432 /* C706 12.6.3.x must_recv_frag_size */
#define WDSMC_DCERPC_DEFAULT_FRAG 5840 /* what Windows proposes */
#define WDSMC_DCERPC_MAX_FRAG     65535

/* Limits on peer-controlled counts. More is -WDSMC_ETOOMANY. Windows clients
 * propose 3 contexts (NDR, NDR64, bind-time features) of 1 syntax each. */
#define WDSMC_DCERPC_MAX_CTX      8
#define WDSMC_DCERPC_MAX_XFER     4
#define WDSMC_DCERPC_MAX_SEC_ADDR 64 /* bind_ack secondary address, with NUL */
#define WDSMC_DCERPC_MAX_VERSIONS 8  /* bind_nak protocol versions */

/* C706 12.6.3.1 PTYPE; rpc_auth_3 is MS-RPCE 2.2.2.10. */
enum wdsmc_dcerpc_ptype {
    WDSMC_DCERPC_REQUEST = 0,
    WDSMC_DCERPC_RESPONSE = 2,
    WDSMC_DCERPC_FAULT = 3,
    WDSMC_DCERPC_BIND = 11,
    WDSMC_DCERPC_BIND_ACK = 12,
    WDSMC_DCERPC_BIND_NAK = 13,
    WDSMC_DCERPC_ALTER_CONTEXT = 14,
    WDSMC_DCERPC_ALTER_CONTEXT_RESP = 15,
    WDSMC_DCERPC_AUTH3 = 16,
    WDSMC_DCERPC_SHUTDOWN = 17,
    WDSMC_DCERPC_CO_CANCEL = 18,
    WDSMC_DCERPC_ORPHANED = 19,
};

/* C706 12.6.3.1 pfc_flags; 0x04 is PFC_SUPPORT_HEADER_SIGN on bind-type
 * PDUs and PFC_PENDING_CANCEL on the others (MS-RPCE 2.2.2.3). */
enum {
    WDSMC_DCERPC_PFC_FIRST_FRAG = 0x01,
    WDSMC_DCERPC_PFC_LAST_FRAG = 0x02,
    WDSMC_DCERPC_PFC_HDR_SIGN = 0x04,
    WDSMC_DCERPC_PFC_CONC_MPX = 0x10,
    WDSMC_DCERPC_PFC_DID_NOT_EXECUTE = 0x20,
    WDSMC_DCERPC_PFC_MAYBE = 0x40,
    WDSMC_DCERPC_PFC_OBJECT_UUID = 0x80,
};

/* MS-RPCE 2.2.1.1.7 */
enum {
    WDSMC_RPC_AUTHN_NONE = 0x00,
    WDSMC_RPC_AUTHN_GSS_NEGOTIATE = 0x09,
    WDSMC_RPC_AUTHN_WINNT = 0x0A,
    WDSMC_RPC_AUTHN_GSS_KERBEROS = 0x10,
};

/* MS-RPCE 2.2.1.1.8 */
enum {
    WDSMC_RPC_LEVEL_DEFAULT = 0,
    WDSMC_RPC_LEVEL_NONE = 1,
    WDSMC_RPC_LEVEL_CONNECT = 2,
    WDSMC_RPC_LEVEL_CALL = 3,
    WDSMC_RPC_LEVEL_PKT = 4,
    WDSMC_RPC_LEVEL_PKT_INTEGRITY = 5,
    WDSMC_RPC_LEVEL_PKT_PRIVACY = 6,
};

/* C706 12.6.3.1 p_cont_def_result_t, MS-RPCE 2.2.2.4 */
enum {
    WDSMC_DCERPC_ACCEPTANCE = 0,
    WDSMC_DCERPC_USER_REJECTION = 1,
    WDSMC_DCERPC_PROVIDER_REJECTION = 2,
    WDSMC_DCERPC_NEGOTIATE_ACK = 3,
};

/* C706 12.6.3.1 p_provider_reason_t */
enum {
    WDSMC_DCERPC_REASON_NOT_SPECIFIED = 0,
    WDSMC_DCERPC_ABSTRACT_SYNTAX_NOT_SUPPORTED = 1,
    WDSMC_DCERPC_TRANSFER_SYNTAXES_NOT_SUPPORTED = 2,
    WDSMC_DCERPC_LOCAL_LIMIT_EXCEEDED = 3,
};

/* bind_nak provider_reject_reason, C706 12.6.3.1 and MS-RPCE 2.2.2.5 */
enum {
    WDSMC_DCERPC_NAK_NOT_SPECIFIED = 0,
    WDSMC_DCERPC_NAK_TEMPORARY_CONGESTION = 1,
    WDSMC_DCERPC_NAK_LOCAL_LIMIT_EXCEEDED = 2,
    WDSMC_DCERPC_NAK_PROTOCOL_VERSION_NOT_SUPPORTED = 4,
    WDSMC_DCERPC_NAK_AUTH_TYPE_NOT_RECOGNIZED = 8,
    WDSMC_DCERPC_NAK_INVALID_CHECKSUM = 9,
};

/* Fault status values (C706 appendix N.2, MS-RPCE 3.1.1.5.5, MS-ERREF). */
enum {
    WDSMC_NCA_ACCESS_DENIED = 0x00000005, /* Win32 ERROR_ACCESS_DENIED */
    WDSMC_NCA_OUT_OF_MEMORY = 0x0000000E, /* Win32 ERROR_OUTOFMEMORY */
    WDSMC_NCA_FAULT_NDR = 0x000006F7,     /* RPC_X_BAD_STUB_DATA */
    WDSMC_NCA_SEC_PKG_ERROR = 0x00000721, /* RPC_S_SEC_PKG_ERROR */
    WDSMC_NCA_COMM_FAILURE = 0x1C010001,
    WDSMC_NCA_OP_RNG_ERROR = 0x1C010002,
    WDSMC_NCA_UNK_IF = 0x1C010003,
    WDSMC_NCA_PROTO_ERROR = 0x1C01000B,
    WDSMC_NCA_OUT_ARGS_TOO_BIG = 0x1C010013,
    WDSMC_NCA_SERVER_TOO_BUSY = 0x1C010014,
    WDSMC_NCA_UNSUPPORTED_TYPE = 0x1C010017,
    WDSMC_NCA_FAULT_CANCEL = 0x1C00000D,
    WDSMC_NCA_FAULT_UNSPEC = 0x1C000012,
    WDSMC_NCA_FAULT_CONTEXT_MISMATCH = 0x1C00001A,
    WDSMC_NCA_FAULT_REMOTE_NO_MEMORY = 0x1C00001B,
    WDSMC_NCA_INVALID_PRES_CONTEXT_ID = 0x1C00001C,
    WDSMC_NCA_UNSUPPORTED_AUTHN_LEVEL = 0x1C00001D,
    WDSMC_NCA_INVALID_CHECKSUM = 0x1C00001F,
};

/* p_syntax_id_t (C706 12.6.3.1): if_version is major in the low 16 bits,
 * minor in the high 16 bits. */
struct wdsmc_dcerpc_syntax {
    struct wdsmc_uuid uuid;
    uint32_t version;
};

/* NDR 2.0 transfer syntax 8a885d04-1ceb-11c9-9fe8-08002b104860 v2.0
 * (C706 appendix I, MS-RPCE 2.2.4.12). */
#define WDSMC_DCERPC_NDR20_INIT                                                                    \
    {                                                                                              \
        WDSMC_UUID_INIT(0x8a885d04, 0x1ceb, 0x11c9, 0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48,      \
                        0x60),                                                                     \
                2                                                                                  \
    }

/* WdsRpcInterface 1A927394-352E-4553-AE3F-7CF4AAFCA620 v1.0 (MS-WDSC 1.9, 6). */
#define WDSMC_DCERPC_WDSC_IF_INIT                                                                  \
    {                                                                                              \
        WDSMC_UUID_INIT(0x1A927394, 0x352E, 0x4553, 0xAE, 0x3F, 0x7C, 0xF4, 0xAA, 0xFC, 0xA6,      \
                        0x20),                                                                     \
                1                                                                                  \
    }

/* p_cont_elem_t */
struct wdsmc_dcerpc_ctx {
    uint16_t ctx_id;
    uint8_t n_xfer;
    struct wdsmc_dcerpc_syntax abstract;
    struct wdsmc_dcerpc_syntax xfer[WDSMC_DCERPC_MAX_XFER];
};

/* p_result_t */
struct wdsmc_dcerpc_result {
    uint16_t result;
    uint16_t reason;
    struct wdsmc_dcerpc_syntax xfer;
};

/* The sec_trailer and authentication token (MS-RPCE 2.2.2.11-12). */
struct wdsmc_dcerpc_auth {
    uint8_t type;
    uint8_t level;
    uint8_t pad_len; /* auth_pad_length */
    uint32_t context_id;
    /* Decode: borrowed. Encode: the token to copy, or NULL to leave
     * token_len zero bytes to be filled in later (a signature). */
    const uint8_t *token;
    uint16_t token_len;
    size_t trailer_off; /* offset of the sec_trailer in the PDU (out) */
};

struct wdsmc_dcerpc_pdu {
    uint8_t ptype;
    uint8_t pfc_flags;
    uint16_t frag_length; /* decode: from the header; encode: computed */
    uint16_t auth_length; /* idem */
    uint32_t call_id;
    union {
        /* bind, alter_context (C706 12.6.4.3) */
        struct {
            uint16_t max_xmit_frag;
            uint16_t max_recv_frag;
            uint32_t assoc_group_id;
            uint8_t n_ctx;
            struct wdsmc_dcerpc_ctx ctx[WDSMC_DCERPC_MAX_CTX];
        } bind;
        /* bind_ack, alter_context_resp (C706 12.6.4.4) */
        struct {
            uint16_t max_xmit_frag;
            uint16_t max_recv_frag;
            uint32_t assoc_group_id;
            uint16_t sec_addr_len; /* with the NUL; 0 for none */
            const char *sec_addr;  /* borrowed; NUL-terminated when len > 0 */
            uint8_t n_results;
            struct wdsmc_dcerpc_result results[WDSMC_DCERPC_MAX_CTX];
        } ack;
        /* bind_nak (MS-RPCE 2.2.2.9) */
        struct {
            uint16_t reason;
            uint8_t n_versions;
            uint8_t versions[WDSMC_DCERPC_MAX_VERSIONS][2]; /* major, minor */
        } nak;
        /* request (C706 12.6.4.9) */
        struct {
            uint32_t alloc_hint;
            uint16_t ctx_id;
            uint16_t opnum;
            struct wdsmc_uuid object; /* when PFC_OBJECT_UUID */
        } request;
        /* response (C706 12.6.4.10) */
        struct {
            uint32_t alloc_hint;
            uint16_t ctx_id;
            uint8_t cancel_count;
        } response;
        /* fault (C706 12.6.4.7, MS-RPCE 2.2.2.8) */
        struct {
            uint32_t alloc_hint;
            uint16_t ctx_id;
            uint8_t cancel_count;
            uint8_t flags; /* bit 0: extended error information follows */
            uint32_t status;
        } fault;
    } u;
    /* request/response stub data without the auth padding; decode: borrowed,
     * still sealed at PKT_PRIVACY. stub_off is its offset in the PDU. */
    const uint8_t *stub;
    size_t stub_len;
    size_t stub_off;
    bool has_auth; /* a sec_trailer is present (auth_length > 0) */
    struct wdsmc_dcerpc_auth auth;
};

/*
 * Framing on a byte stream: given the first len bytes of a PDU, return its
 * frag_length once the common header is in (0 before that), or
 * -EPROTONOSUPPORT for a version other than 5.0 or a big-endian drep,
 * -WDSMC_EVALUE for a frag_length under 16 or over max_frag.
 */
ssize_t wdsmc_dcerpc_frag_length(const uint8_t *buf, size_t len, size_t max_frag);

/*
 * Decode one complete PDU, buf[0..len) with len == frag_length. Checks every
 * length before reading it: the sec_trailer must lie after the fixed body
 * (at frag_length - auth_length - 8, MS-RPCE 2.2.2.11) and auth_pad_length
 * inside the stub. Counts over the WDSMC_DCERPC_MAX_* limits are
 * -WDSMC_ETOOMANY. Returns 0, -EPROTONOSUPPORT, -WDSMC_ETRUNC, -WDSMC_ECOUNT,
 * -WDSMC_ETRAILING, -WDSMC_ETOOMANY, -WDSMC_EOPCODE (unknown PTYPE).
 */
int wdsmc_dcerpc_decode(const uint8_t *buf, size_t len, struct wdsmc_dcerpc_pdu *pdu);

/*
 * Encode pdu into buf[0..cap), computing frag_length and auth_length (written
 * back into *pdu with stub_off and auth.pad_len/trailer_off). With has_auth,
 * the stub of a request/response/fault is padded with zeros so the
 * sec_trailer is 16-byte aligned relative to the stub start (MS-RPCE
 * 2.2.2.11); the bodies of the other PDUs are 4-aligned and get no padding.
 * Returns the PDU length, -EINVAL for a PDU over 65535 bytes or counts over
 * the limits, -ENOBUFS.
 */
ssize_t wdsmc_dcerpc_encode(struct wdsmc_dcerpc_pdu *pdu, uint8_t *buf, size_t cap);

/* Rewrite the frag_length field of an encoded PDU. */
void wdsmc_dcerpc_set_frag_length(uint8_t *buf, uint16_t frag_length);

/* Whether a bind context's transfer syntax proposes MS-RPCE 3.3.1.5.3
 * bind-time feature negotiation (UUID prefix 6CB71C2C-9812-4540). */
bool wdsmc_dcerpc_is_bind_time_feature(const struct wdsmc_dcerpc_syntax *s);

static inline bool wdsmc_dcerpc_syntax_eq(const struct wdsmc_dcerpc_syntax *a,
                                          const struct wdsmc_dcerpc_syntax *b)
{
    return wdsmc_uuid_eq(&a->uuid, &b->uuid) && a->version == b->version;
}

/*
 * Map a fault status to a negative errno: access denied (5) -EACCES, a
 * protocol error -EPROTO, bad stub data -EBADMSG, unknown opnum -ENOSYS,
 * unknown interface or presentation context -EPROTONOSUPPORT, out of memory
 * -ENOMEM, cancel -ECANCELED, checksum/authn-level errors -EACCES, anything
 * else -EIO.
 */
int wdsmc_dcerpc_fault_to_errno(uint32_t status);

/* The fault status a server sends for a negative errno (inverse of the
 * above; -EIO and unknown errors become nca_s_fault_unspec). */
uint32_t wdsmc_dcerpc_errno_to_fault(int err);

/* Map a bind_nak reason to a negative errno: congestion/limits -EAGAIN,
 * protocol version -EPROTONOSUPPORT, authentication -EACCES, else
 * -ECONNREFUSED. */
int wdsmc_dcerpc_nak_to_errno(uint16_t reason);

#ifdef __cplusplus
}
#endif

#endif /* WDSMC_DCERPC_H */
