/* SPDX-License-Identifier: MIT */
/*
 * WDS Control Protocol packets (MS-WDSC 2.2.1) and the two operations wdsfs
 * uses over it:
 *   - WDSMC_OP_INITIATE (MS-WDSMSI 2.2.1) under the multicast session
 *     initiation endpoint 6f13a317-3687-4b54-81a5-504daa9062fa;
 *   - WDS_OP_IMG_ENUMERATE (MS-WDSOSD 2.2.6), v1 and v2 reply formats,
 *     under the OS deployment endpoint d8deeb5a-effd-43b2-99fc-1a8a5921c227;
 * plus the glue between a packet and the WdsRpcMessage stub (ndr.h) on both
 * sides of an RPC association (rpc_assoc.h).
 *
 * Two conventions seen in the field, beyond the letter of MS-WDSC:
 *   - Packet-Size of the endpoint header: MS-WDSC 2.2.1.1 says the whole
 *     packet, but clients that work against Windows send the operation part
 *     only (the same value as the operation header's). The builder sends the
 *     latter; the decoder accepts both.
 *   - Variable padding: MS-WDSC 2.2.1.3.1 only asks for blocks that are
 *     multiples of 16 bytes; Windows pads each block to a multiple of 16
 *     leaving at least 4 padding bytes. The builder pads like Windows; the
 *     decoder accepts both (trying the Windows layout first).
 *
 * Decoding does not allocate for the values: they borrow from the packet
 * buffer, which must outlive the decoded packet and anything parsed from it
 * that says "borrowed".
 */
#ifndef WDSMC_WDSC_H
#define WDSMC_WDSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "wdsmc/codec.h"
#include "ndr.h"
#include "rpc_assoc.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WDSMC_WDSC_EP_HDR_LEN  40 /* MS-WDSC 2.2.1.1 */
#define WDSMC_WDSC_OP_HDR_LEN  16 /* MS-WDSC 2.2.1.2 */
#define WDSMC_WDSC_VAR_HDR_LEN 80 /* MS-WDSC 2.2.1.3.1, before the value */
#define WDSMC_WDSC_VERSION     0x0100

/* Variable-Name is 66 bytes: 32 UTF-16 units and the NUL. */
#define WDSMC_WDSC_NAME_MAX_UNITS 32
#define WDSMC_WDSC_NAME_BUF       (WDSMC_WDSC_NAME_MAX_UNITS * 3 + 1)

/* Limits on what a peer can make us hold. */
#define WDSMC_WDSC_MAX_PACKET     WDSMC_NDR_MAX_PACKET
#define WDSMC_WDSC_MAX_VARS       16384
#define WDSMC_WDSC_MAX_IMAGES     1024
#define WDSMC_WDSC_MAX_DEP_FILES  64
#define WDSMC_WDSC_MAX_IMD        256
#define WDSMC_WDSC_MAX_XML_UNITS  65535
#define WDSMC_WDSC_MAX_PATH_UNITS 1024
#define WDSMC_WDSC_MAX_METADATA   65536
#define WDSMC_WDSC_MAX_SYM_KEY    1024
#define WDSMC_WDSC_MAX_SIGN_KEY   4096

/* MS-WDSC 2.2.1.2.1 */
enum {
    WDSMC_WDSC_PACKET_REQUEST = 0x01,
    WDSMC_WDSC_PACKET_REPLY = 0x02,
};

/* MS-WDSC 2.2.1.3.2: the base type is the low 16 bits of Variable-Type and
 * the modifier the high 16 bits (bits 0-15 and 16-31 of the little-endian
 * field). */
enum {
    WDSMC_WDSC_VAR_BYTE = 0x0001,
    WDSMC_WDSC_VAR_USHORT = 0x0002,
    WDSMC_WDSC_VAR_ULONG = 0x0004,
    WDSMC_WDSC_VAR_ULONG64 = 0x0008,
    WDSMC_WDSC_VAR_STRING = 0x0010,
    WDSMC_WDSC_VAR_WSTRING = 0x0020,
    WDSMC_WDSC_VAR_BLOB = 0x0040,
};
#define WDSMC_WDSC_VAR_ARRAY            0x1000u /* type modifier */
#define WDSMC_WDSC_TYPE(base, modifier) ((uint32_t)(base) | (uint32_t)(modifier) << 16)

/* Endpoint GUIDs (MS-WDSMSI 1.9, MS-WDSOSD 1.9). */
#define WDSMC_WDSC_EP_MSI_INIT                                                                     \
    WDSMC_UUID_INIT(0x6f13a317, 0x3687, 0x4b54, 0x81, 0xa5, 0x50, 0x4d, 0xaa, 0x90, 0x62, 0xfa)
#define WDSMC_WDSC_EP_OSD_INIT                                                                     \
    WDSMC_UUID_INIT(0xd8deeb5a, 0xeffd, 0x43b2, 0x99, 0xfc, 0x1a, 0x8a, 0x59, 0x21, 0xc2, 0x27)

/* OpCodes (MS-WDSMSI 2.2, MS-WDSOSD 2.2). */
enum {
    WDSMC_OP_INITIATE = 0x00000006, /* MSI endpoint */
    WDS_OP_IMG_ENUMERATE = 0x00000002,
    WDS_OP_LOG_INIT = 0x00000003,
    WDS_OP_LOG_MSG = 0x00000004,
    WDS_OP_GET_CLIENT_UNATTEND = 0x00000005,
    WDS_OP_GET_UNATTEND_VARIABLES = 0x00000006,
    WDS_OP_GET_DOMAIN_JOIN_INFORMATION = 0x00000007,
    WDS_OP_RESET_BOOT_PROGRAM = 0x00000008,
};

/* Win32 codes used as WdsRpcMessage return values and OpCode-ErrorCode
 * (MS-ERREF 2.2); FILE_NOT_FOUND, INVALID_PARAMETER and NOT_FOUND come from
 * wdsmc/codec.h. */
#define WDSMC_WIN32_SUCCESS           0
#define WDSMC_WIN32_ACCESS_DENIED     5
#define WDSMC_WIN32_NOT_ENOUGH_MEMORY 8
#define WDSMC_WIN32_INVALID_DATA      13
#define WDSMC_WIN32_NOT_SUPPORTED     50

/* ======================================================================== */
/* Packets (MS-WDSC 2.2.1)                                                   */
/* ======================================================================== */

struct wdsmc_wdsc_var {
    char name[WDSMC_WDSC_NAME_BUF]; /* UTF-8 */
    uint32_t type;                  /* base | modifier << 16 */
    uint32_t value_len;             /* Value-Length */
    uint32_t array_size;            /* Array-Size */
    const uint8_t *value;           /* borrowed from the packet */
    size_t size;                    /* bytes of value */
};

struct wdsmc_wdsc_pkt {
    struct wdsmc_uuid endpoint;
    uint8_t packet_type;
    uint32_t opcode;      /* OpCode-ErrorCode: the opcode of a request, the
                             error of a reply */
    bool ep_size_op_only; /* endpoint Packet-Size counted the operation part
                             only (the Windows-compatible form) */
    bool pad_minimal;     /* blocks padded to 16 without Windows' 4 extra */
    uint32_t n_vars;
    struct wdsmc_wdsc_var *vars; /* owned */
    uint32_t *index;             /* owned: name hash table */
    size_t index_size;
};

/*
 * Decode a packet. Checks: Size-Of-Header 0x28 and both Versions 0x0100
 * (-WDSMC_EVALUE); the endpoint Packet-Size is len or len - 40 and the
 * operation Packet-Size len - 40 (-WDSMC_ETRUNC if larger, else
 * -WDSMC_ETRAILING); Variable-Count fits the bytes (-WDSMC_ECOUNT) and the
 * limit (-WDSMC_ETOOMANY); each name NUL-terminated within its 66 bytes,
 * valid UTF-16, not empty and not a case-insensitive duplicate
 * (-WDSMC_ESTRING, -WDSMC_EVALUE, -WDSMC_EOPTION); a known base type with no
 * modifier or WDSCPL_VAR_ARRAY, fixed sizes exact, Array-Size nonzero for an
 * array (-WDSMC_EOPTION, -WDSMC_ECOUNT); (W)STRING values NUL-terminated
 * (-WDSMC_ESTRING); padding to 16 as described at the top. Packets over
 * WDSMC_WDSC_MAX_PACKET are -EMSGSIZE. On success *ret owns the variable
 * table (free with wdsmc_wdsc_pkt_fini) and borrows the values from buf.
 */
int wdsmc_wdsc_decode(const uint8_t *buf, size_t len, struct wdsmc_wdsc_pkt *ret);

/* Release what a decoded packet owns; a zeroed packet is fine. */
void wdsmc_wdsc_pkt_fini(struct wdsmc_wdsc_pkt *p);

/* Find a variable by name, case-insensitively (MS-WDSC 2.2.1.3.1); NULL if
 * absent. */
const struct wdsmc_wdsc_var *wdsmc_wdsc_find(const struct wdsmc_wdsc_pkt *p, const char *name);

/*
 * Typed accessors. 0 on success; -ENOENT if absent; -WDSMC_EOPTION if the
 * variable has another type (or is an array). Strings convert to UTF-8:
 * _wstring into dst[0..cap) (-WDSMC_ESTRLEN if it does not fit, more than
 * max_units units, or -WDSMC_ESTRING for invalid UTF-16); _wstring_dup
 * mallocs the result (the caller frees it).
 */
int wdsmc_wdsc_get_ulong(const struct wdsmc_wdsc_pkt *p, const char *name, uint32_t *ret);
int wdsmc_wdsc_get_ulong64(const struct wdsmc_wdsc_pkt *p, const char *name, uint64_t *ret);
int wdsmc_wdsc_get_blob(const struct wdsmc_wdsc_pkt *p, const char *name, const uint8_t **ret,
                        size_t *ret_len);
int wdsmc_wdsc_get_wstring(const struct wdsmc_wdsc_pkt *p, const char *name, size_t max_units,
                           char *dst, size_t cap);
int wdsmc_wdsc_get_wstring_dup(const struct wdsmc_wdsc_pkt *p, const char *name, size_t max_units,
                               char **ret);

/*
 * Packet builder, heap-backed up to WDSMC_WDSC_MAX_PACKET. Errors are
 * sticky: the add functions return them and so does _finish, so a caller
 * may check only the last. Names are UTF-8 of at most 32 UTF-16 units.
 */
struct wdsmc_wdsc_builder {
    uint8_t *p;
    size_t len, cap;
    uint32_t count;
    int err;
    /* Send the endpoint Packet-Size as MS-WDSC 2.2.1.1 words it (whole
     * packet) instead of the Windows-compatible operation size. */
    bool spec_packet_size;
};

/* Start a packet for endpoint, packet_type and OpCode-ErrorCode. */
int wdsmc_wdsc_builder_init(struct wdsmc_wdsc_builder *b, const struct wdsmc_uuid *endpoint,
                            uint8_t packet_type, uint32_t opcode);
/* Free a builder that will not be finished; a finished one is fine. */
void wdsmc_wdsc_builder_fini(struct wdsmc_wdsc_builder *b);

/* Add a variable of any type: value[0..value_len * max(array_size, 1)). */
int wdsmc_wdsc_add(struct wdsmc_wdsc_builder *b, const char *name, uint32_t type,
                   uint32_t value_len, uint32_t array_size, const void *value);
int wdsmc_wdsc_add_byte(struct wdsmc_wdsc_builder *b, const char *name, uint8_t v);
int wdsmc_wdsc_add_ushort(struct wdsmc_wdsc_builder *b, const char *name, uint16_t v);
int wdsmc_wdsc_add_ulong(struct wdsmc_wdsc_builder *b, const char *name, uint32_t v);
int wdsmc_wdsc_add_ulong64(struct wdsmc_wdsc_builder *b, const char *name, uint64_t v);
int wdsmc_wdsc_add_blob(struct wdsmc_wdsc_builder *b, const char *name, const void *data,
                        size_t len);
/* A UTF-8 string sent as NUL-terminated UTF-16LE (-EINVAL if invalid). */
int wdsmc_wdsc_add_wstring(struct wdsmc_wdsc_builder *b, const char *name, const char *utf8);

/* Write the sizes and count and hand over the packet (*ret malloc'd, the
 * caller frees it). Returns 0 or the first error of the build. */
int wdsmc_wdsc_builder_finish(struct wdsmc_wdsc_builder *b, uint8_t **ret, size_t *ret_len);

/* ======================================================================== */
/* WDSMC_OP_INITIATE (MS-WDSMSI 2.2.1)                                       */
/* ======================================================================== */

/* Client machine name: at most 16 characters with the NUL. */
#define WDSMC_WDSC_CLIENT_MAX_UNITS 15
#define WDSMC_WDSC_CLIENT_BUF       (WDSMC_WDSC_CLIENT_MAX_UNITS * 3 + 1)

enum {
    WDSMC_CLIENT_CAP_CHECKSUM = 0x00000001,
    WDSMC_CLIENT_CAP_IPV6 = 0x00000002,
    WDSMC_CLIENT_CAP_BOOT_DEVICE = 0x00000004,
};
/* What wdsfs sends: checksums, pre-OS (MS-WDSMSI 3.1.5.1.1: the server then
 * uses WDSMCTP_SEC_CHECKSUM both ways). */
#define WDSMC_WDSC_CAP_DEFAULT (WDSMC_CLIENT_CAP_CHECKSUM | WDSMC_CLIENT_CAP_BOOT_DEVICE)

/* MS-WDSMSI 2.2.1 SecMode halves */
enum {
    WDSMCTP_SEC_NONE = 0,
    WDSMCTP_SEC_HASH = 1,
    WDSMCTP_SEC_SIGN = 2,
    WDSMCTP_SEC_CHECKSUM = 3,
};

struct wdsmc_wdsc_initiate_req {
    char ns[WDSMC_MSI_NAME_BUF];      /* Namespace, UTF-8 */
    char content[WDSMC_MSI_NAME_BUF]; /* Content, UTF-8 */
    char client[WDSMC_WDSC_CLIENT_BUF];
    bool has_cap;
    uint32_t cap;
};

/* Bytes borrowed from a packet. */
struct wdsmc_wdsc_blob {
    const uint8_t *p;
    size_t len;
};

struct wdsmc_wdsc_initiate_rep {
    uint32_t error;                  /* OpCode-ErrorCode; when nonzero nothing else is set */
    uint32_t mc_port;                /* TpMcAddress.Port */
    struct wdsmc_addr mc_addr;       /* TpMcAddress.Address */
    uint32_t uni_port;               /* TpUniAddress.Port */
    struct wdsmc_addr uni_addr;      /* TpUniAddress.Address */
    uint32_t session_id;             /* SessionId */
    uint64_t content_size;           /* ContentSize */
    uint32_t block_size;             /* BlockSize */
    uint64_t total_blocks;           /* TotalBlocks */
    bool has_metadata;               /* ContentMetadata (3.1.5.2: absent when */
    struct wdsmc_wdsc_blob metadata; /* the content has none) */
    bool has_sym_key;
    struct wdsmc_wdsc_blob sym_key; /* SymKey */
    bool has_sign_key;
    struct wdsmc_wdsc_blob sign_key; /* SignKey */
    bool has_hash_alg;
    uint32_t hash_alg; /* HashAlgId (a CALG_* value) */
    bool has_hmac_alg;
    uint32_t hmac_alg; /* HMACAlgId */
    bool has_sec_mode;
    uint16_t client_sec_mode; /* SecMode bits 0-15 */
    uint16_t server_sec_mode; /* SecMode bits 16-31 */
    bool has_user_sid;
    struct wdsmc_wdsc_blob user_sid; /* UserSid (MS-DTYP 2.4.2) */
};

/* Build a request (MSI endpoint, WDSMC_OP_INITIATE). -EINVAL for empty or
 * over-long names, a client name over 15 characters, invalid UTF-8. */
int wdsmc_wdsc_initiate_req_build(const struct wdsmc_wdsc_initiate_req *req, uint8_t **ret,
                                  size_t *ret_len);

/* Parse a decoded request: -WDSMC_EOPCODE for another endpoint/opcode,
 * -WDSMC_EMISSING, -WDSMC_EOPTION (wrong type), -WDSMC_ESTRLEN,
 * -WDSMC_ESTRING, -WDSMC_EVALUE (an empty name). */
int wdsmc_wdsc_initiate_req_parse(const struct wdsmc_wdsc_pkt *pkt,
                                  struct wdsmc_wdsc_initiate_req *ret);

/* Build a reply: variables in the order of MS-WDSMSI 2.2.1, the optional
 * ones when has_*; only the header when error is nonzero. -EINVAL for an
 * address that is not 4 or 16 bytes. */
int wdsmc_wdsc_initiate_rep_build(const struct wdsmc_wdsc_initiate_rep *rep, uint8_t **ret,
                                  size_t *ret_len);

/*
 * Parse every variable of a decoded reply. Blobs borrow from the packet.
 * -WDSMC_EOPCODE for another endpoint, -WDSMC_EMISSING (a required
 * variable, or HashAlgId/HMACAlgId without SymKey's companions),
 * -WDSMC_EOPTION (wrong type), -WDSMC_EADDRLEN, -WDSMC_EVALUE (port over
 * 65535, SecMode half over 3, malformed SID, blob over its limit).
 */
int wdsmc_wdsc_initiate_rep_parse(const struct wdsmc_wdsc_pkt *pkt,
                                  struct wdsmc_wdsc_initiate_rep *ret);

/* The session parameters as the UDP codec's reply, so that
 * wdsmc_msi_reply_check() and the MS-WDSMT client apply; -WDSMC_EVALUE for
 * ports over 65535. */
int wdsmc_wdsc_initiate_rep_to_msi(const struct wdsmc_wdsc_initiate_rep *rep,
                                   struct wdsmc_msi_reply *ret);

/* ======================================================================== */
/* WDS_OP_IMG_ENUMERATE (MS-WDSOSD 2.2.6)                                    */
/* ======================================================================== */

enum {
    WDSMC_CLIENT_CAP_SUPPORT_V2 = 0x00000001,
    WDSMC_CLIENT_CAP_SUPPORT_VHDX = 0x00000002,
    WDSMC_SERVER_CAP_SUPPORT_V2 = 0x00000001,
    WDSMC_SERVER_CAP_SUPPORT_VHDX = 0x00000002,
    WDSMC_ENUM_FILTER_VERSION = 0x00000001,  /* WdsCliFlagEnumFilterVersion */
    WDSMC_ENUM_FILTER_FIRMWARE = 0x00000002, /* WdsCliFlagEnumFilterFirmware */
    WDSMC_DEP_IMAGE_VHD = 1,
    WDSMC_DEP_IMAGE_WIM = 2,
    WDSMC_DEP_IMAGE_VHDX = 3,
    WDSMC_EX_FLAG_SPARSE_FILE = 0x00000001,
};

struct wdsmc_wdsc_img_enum_req {
    uint32_t version; /* VERSION, 1 */
    bool has_cc;
    uint32_t cc;   /* CC: CLIENT_CAP_* */
    uint32_t imdc; /* IMDC (parse only: IMD[0..imdc) were present) */
};

/* One OS image. Strings are UTF-8, malloc'd by the parser (NULL when the
 * optional variable was absent). */
struct wdsmc_wdsc_image {
    uint32_t type;  /* IL.Type; WDSMC_DEP_IMAGE_WIM for v1 */
    char *xml;      /* XML_i / IL.Xml */
    char *path;     /* PATH_i / IL.Path */
    char *res_path; /* RESOURCEFILEPATH_i / IL.ResPath, optional */
    char *group;    /* GROUP_i / IL.Group */
    uint32_t index; /* INDEX_i / IL.Index */
    char *ns;       /* NAMESPACE_i / IL.NS, optional */
    bool has_ns_size;
    uint64_t ns_size; /* NAMESPACE_SIZE_i / IL.NSCS */
    bool has_ex_flags;
    uint32_t ex_flags; /* IL.ExFlags (v2) */
    uint32_t n_dep;    /* IL.DepFiles[i].Cnt (v2) */
    char **dep;        /* IL.DepFiles[i].VL[0..n_dep) */
    bool has_md_guid;
    struct wdsmc_uuid md_guid; /* IL.MdGuid (v2), GUID bytes as sent */
};

struct wdsmc_wdsc_img_enum_rep {
    uint32_t error;   /* OpCode-ErrorCode */
    uint32_t version; /* VERSION, 1 */
    bool has_options;
    uint32_t options; /* OPTIONS: WDSMC_ENUM_FILTER_* */
    bool has_sc;
    uint32_t sc; /* SC: SERVER_CAP_*; V2 selects the v2 image format */
    uint32_t n_images;
    struct wdsmc_wdsc_image *images;
};

/* Build a request (OSD endpoint): VERSION, and CC when has_cc. */
int wdsmc_wdsc_img_enum_req_build(const struct wdsmc_wdsc_img_enum_req *req, uint8_t **ret,
                                  size_t *ret_len);

/* Parse a decoded request: VERSION must be 1 (-WDSMC_EVALUE); IMDC, when
 * present, at most WDSMC_WDSC_MAX_IMD (-WDSMC_ETOOMANY) with every IMD[i]
 * a WSTRING (-WDSMC_EMISSING, -WDSMC_EOPTION). */
int wdsmc_wdsc_img_enum_req_parse(const struct wdsmc_wdsc_pkt *pkt,
                                  struct wdsmc_wdsc_img_enum_req *ret);

/*
 * Build a reply. With has_sc and SERVER_CAP_SUPPORT_V2 the images go out in
 * the v2 format (IL.*[i]), otherwise v1 (XML_i...). Image indexes start at
 * 1 in both formats (MS-WDSOSD 2.2.6 says so for v1; see wdsc.c for v2).
 * -EINVAL for an image without xml, path or group, or over the limits.
 */
int wdsmc_wdsc_img_enum_rep_build(const struct wdsmc_wdsc_img_enum_rep *rep, uint8_t **ret,
                                  size_t *ret_len);

/*
 * Parse a decoded reply into *ret (free with wdsmc_wdsc_img_enum_rep_fini,
 * also after an error). Images are read from index 1 (v2: from 0 when
 * IL.*[0] exists) until the first index with none of its variables; an
 * image missing a required variable is -WDSMC_EMISSING. Limits:
 * WDSMC_WDSC_MAX_IMAGES images, WDSMC_WDSC_MAX_DEP_FILES dependent files
 * (-WDSMC_ETOOMANY), XML and path lengths (-WDSMC_ESTRLEN).
 */
int wdsmc_wdsc_img_enum_rep_parse(const struct wdsmc_wdsc_pkt *pkt,
                                  struct wdsmc_wdsc_img_enum_rep *ret);
void wdsmc_wdsc_img_enum_rep_fini(struct wdsmc_wdsc_img_enum_rep *r);

/* ======================================================================== */
/* WdsRpcMessage glue (MS-WDSC 3.1.4.1, 3.2.4)                               */
/* ======================================================================== */

/*
 * Whether a caller may invoke opcode under endpoint (MS-WDSMSI 2.2,
 * MS-WDSOSD 2.2, MS-WDSC 3.1.4.1): 0, -EACCES for an opcode that needs an
 * authenticated (non-anonymous) caller at PKT_PRIVACY and did not get one,
 * -ENOENT for an unknown endpoint or opcode.
 */
int wdsmc_wdsc_access(const struct wdsmc_uuid *endpoint, uint32_t opcode,
                      const struct wdsmc_rpc_call_info *info);

/* Map a WdsRpcMessage return value / OpCode-ErrorCode to a negative errno:
 * 0 -> 0, 5 -> -EACCES, 8 and 14 -> -ENOMEM, 13 -> -EBADMSG, 50 ->
 * -EOPNOTSUPP, 2 and 1168 -> -ENOENT, 87 -> -EINVAL, else -WDSMC_ESERVER. */
int wdsmc_wdsc_status_to_errno(uint32_t status);
/* And back, for a server: -EACCES 5, -ENOMEM 8, -EBADMSG and -WDSMC_E*
 * 13, -EOPNOTSUPP 50, -ENOENT 1168, -EINVAL 87, else 87. */
uint32_t wdsmc_wdsc_errno_to_status(int err);

/*
 * Serve one WDS packet: decoded and access-checked, then handed to the
 * handler. Return 0 with *ret_reply (a reply packet, malloc'd, the caller
 * sends and frees it), or a negative errno that becomes the WdsRpcMessage
 * return value with no reply packet.
 */
typedef int (*wdsmc_wdsc_handler_fn)(void *user, const struct wdsmc_rpc_call_info *info,
                                     const struct wdsmc_wdsc_pkt *req, uint8_t **ret_reply,
                                     size_t *ret_len);

struct wdsmc_wdsc_server {
    wdsmc_wdsc_handler_fn handler;
    void *user;
};

/*
 * A wdsmc_rpc_dispatch_fn (rpc_assoc.h) for WdsRpcInterface; user is a
 * struct wdsmc_wdsc_server. A stub that is not valid NDR is a fault
 * (-EBADMSG -> nca_s_fault_ndr); everything else is answered with an [out]
 * stub: a packet that does not decode gets status 13 (invalid data), an
 * endpoint/opcode the caller may not use 5 (access denied) or 50, a handler
 * error its wdsmc_wdsc_errno_to_status(), all with a NULL reply pointer.
 */
int wdsmc_wdsc_rpc_dispatch(void *user, const struct wdsmc_rpc_call_info *info, const uint8_t *stub,
                            size_t len, uint8_t **ret_stub, size_t *ret_len);

/* Client side: the [in] stub for a packet (*ret malloc'd). -EINVAL, -ENOMEM. */
int wdsmc_wdsc_rpc_request(const uint8_t *pkt, size_t len, uint8_t **ret, size_t *ret_len);

/* Client side: the reply packet inside an [out] stub (borrowed), or the
 * return value mapped by wdsmc_wdsc_status_to_errno(); -WDSMC_E* for a stub
 * that is not valid NDR, -WDSMC_EMISSING for success without a packet. */
int wdsmc_wdsc_rpc_reply(const uint8_t *stub, size_t len, const uint8_t **ret_pkt, size_t *ret_len);

#ifdef __cplusplus
}
#endif

#endif /* WDSMC_WDSC_H */
