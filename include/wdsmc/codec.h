/* SPDX-License-Identifier: MIT */
/*
 * libwdsmc wire codec: pure functions from bytes to structs and back for the
 * three WDS multicast protocols.
 *
 *   MS-WDSMT   multicast transport (security header, session header, every
 *              opcode, extended options)
 *   MS-WDSMA   multicast application (SRVCIR, CNTCIR, DATA, PROGRESS), carried
 *              inside MS-WDSMT AppData/Data fields
 *   MS-WDSMSI  session initiation over UDP port 5041 (REQUEST, REPLY, ERROR)
 *
 * Nothing here allocates, reads a clock, logs or touches a socket.
 *
 * Conventions
 *   - Decoders take (buf, len) and fill a caller's struct. They return the
 *     number of bytes consumed (always len: trailing bytes are an error) or a
 *     negative error. Pointer fields in decoded structs BORROW from buf and are
 *     valid only while buf is.
 *   - Encoders take a struct and a caller's buffer; they return the encoded
 *     length, or -ENOBUFS when the buffer is too small (nothing useful is left
 *     in it then), or -EINVAL when the struct itself is invalid (a count over
 *     its limit, an address length other than 4 or 16, a string too long).
 *   - Integers on the wire are big-endian (DESIGN.md spec decision 2); strings
 *     are UTF-16LE on the wire and UTF-8 in structs.
 *
 * Decoder errors are negative and distinct, one per kind of malformation, so
 * tests and counters can tell them apart; wdsmc_strerror() names each.
 */
#ifndef WDSMC_CODEC_H
#define WDSMC_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "wdsmc/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest UDP payload over IPv4 (65535 - 8 - 20). DESIGN.md decision 2. */
#define WDSMC_MAX_DATAGRAM 65507

/* An inclusive range of sequence or block numbers. */
struct wdsmc_range {
    uint64_t start;
    uint64_t end;
};

/* An IPv4 or IPv6 address as it appears on the wire. */
struct wdsmc_addr {
    uint8_t len; /* 4 or 16 */
    uint8_t bytes[16];
};

/* ======================================================================== */
/* MS-WDSMT: multicast transport                                             */
/* ======================================================================== */

/* MS-WDSMT 2.2.2: SecurityHeaderType */
enum wdsmc_sec_type {
    WDSMC_SEC_NONE = 0x00,
    WDSMC_SEC_HASH = 0x01,
    WDSMC_SEC_SIGN = 0x02,
    WDSMC_SEC_CHECKSUM = 0x03,
};

/* MS-WDSMT 2.2.3: OpCode */
enum wdsmc_mt_op {
    WDSMC_MT_SPM = 0x01,
    WDSMC_MT_JOIN = 0x02,
    WDSMC_MT_JOINACK = 0x03,
    WDSMC_MT_QCC = 0x04,
    WDSMC_MT_QCR = 0x05,
    WDSMC_MT_ODATA = 0x06,
    WDSMC_MT_RDATA = 0x07,
    WDSMC_MT_ACK = 0x08,
    WDSMC_MT_NACK = 0x09,
    WDSMC_MT_NCF = 0x0A,
    WDSMC_MT_LEAVE = 0x0B,
    WDSMC_MT_POLL = 0x0C,
    WDSMC_MT_POLLACK = 0x0D,
    WDSMC_MT_KICK = 0x0E,
    WDSMC_MT_DEMOTE = 0x0F,
};

/* MS-WDSMT 2.2.4, 2.2.5, 2.2.8.4, 2.2.16: Extended Option ids */
enum wdsmc_mt_opt {
    WDSMC_MT_OPT_CPU_UTIL = 0x0101,
    WDSMC_MT_OPT_MEM_UTIL = 0x0102,
    WDSMC_MT_OPT_NET_UTIL = 0x0103,
    WDSMC_MT_OPT_ODATA_FW_LEAD_SEQ_NO = 0x0406,
    WDSMC_MT_OPT_USER_SID = 0x0504,
    WDSMC_MT_OPT_CAPABILITIES = 0x0505,
};

/* MS-WDSMT 2.2.5.1 */
#define WDSMC_MT_CAP_MULTISTREAM 0x01

/* MS-WDSMT 2.2.11: LeaveReason */
enum wdsmc_leave_reason {
    WDSMC_LEAVE_COMPLETE = 0x00,
    WDSMC_LEAVE_CANCELLED = 0x01,
    WDSMC_LEAVE_INACTIVE = 0x02,
};

/* MS-WDSMT 2.2.12.1: KICK Reason */
enum wdsmc_kick_reason {
    WDSMC_KICK_POLICY_NOT_MET = 0x00,
    WDSMC_KICK_FALLBACK = 0x01,
    WDSMC_KICK_FAIL = 0x02,
};

/* Limits the spec sets on lists, enforced by decoders and encoders. */
#define WDSMC_MT_MAX_KICK_CLIENTS   200 /* MS-WDSMT 3.1.1.2, 3.1.5.6.1 */
#define WDSMC_MT_MAX_DEMOTE_CLIENTS 250 /* MS-WDSMT 2.2.13 */
#define WDSMC_MT_SECDATA_MAX        512 /* our limit on SecurityDataLen */

/* Fixed sizes, for callers that lay out buffers. */
#define WDSMC_MT_SECHDR_CHECKSUM_LEN 9  /* "WD", type, len, u32 */
#define WDSMC_MT_SESSION_HDR_LEN     13 /* SessionId, OpCode, SenderTime */
#define WDSMC_MT_CLIENT_NAME_BYTES   32 /* MS-WDSMT 2.2.5, decision 3 */
#define WDSMC_MT_CLIENT_NAME_CHARS   15 /* characters before the NUL */

/*
 * MS-WDSMT 2.2.4 Extended Options, the ones the spec names. Decoding sets the
 * has_* flag of every known option found and skips unknown ones (counting
 * them); encoding writes every option whose has_* flag is set, in the order of
 * the fields below. A known option with the wrong length, or given twice, is
 * -WDSMC_EOPTION.
 */
struct wdsmc_mt_options {
    bool has_cpu_util; /* 0x0101, 1 byte, 0..100 */
    uint8_t cpu_util;
    bool has_mem_util; /* 0x0102, 1 byte, 0..100 */
    uint8_t mem_util;
    bool has_net_util; /* 0x0103, 1 byte, 0..100 */
    uint8_t net_util;
    bool has_fw_lead; /* 0x0406, u64 */
    uint64_t fw_lead_seq;
    bool has_user_sid; /* 0x0504, MS-DTYP 2.4.2 SID bytes, borrowed */
    const uint8_t *user_sid;
    uint16_t user_sid_len;
    bool has_caps; /* 0x0505, byte array of capability values, borrowed */
    const uint8_t *caps;
    uint16_t caps_len;
    uint16_t unknown_count; /* decode only: options skipped */
};

/* MS-WDSMT 2.2.14 SPM */
struct wdsmc_mt_spm {
    uint64_t spm_seq;
    uint32_t master_client_id;
    uint16_t min_nack_backoff;
    uint16_t max_nack_backoff;
    uint64_t trail_seq;
    uint64_t lead_seq;
    uint16_t rtt;
};

/* MS-WDSMT 2.2.5 JOIN */
struct wdsmc_mt_join {
    char client_name[WDSMC_MT_CLIENT_NAME_CHARS * 4 + 1]; /* UTF-8, NUL-terminated */
    struct wdsmc_addr ip;
    uint8_t mac[6];
};

/* MS-WDSMT 2.2.6 JOINACK */
struct wdsmc_mt_joinack {
    uint32_t client_id;
    uint16_t min_nack_backoff;
    uint16_t max_nack_backoff;
    uint16_t rtt;
    uint64_t client_time;
};

/* MS-WDSMT 2.2.7 QCC */
struct wdsmc_mt_qcc {
    uint64_t qcc_seq;
    uint16_t qcr_backoff;
};

/* MS-WDSMT 2.2.8 QCR: one layout, three forms (2.2.8.1-3) told apart by
 * wdsmc_mt_qcr_form(). */
struct wdsmc_mt_qcr {
    uint32_t client_id;
    uint64_t qcc_seq;
    uint16_t backoff;
    uint64_t server_time;
    uint64_t hi_seq;
    uint64_t loss_rate; /* loss fraction x 10^16, decision 6 */
    const uint8_t *app; /* borrowed; MS-WDSMA PROGRESS */
    uint16_t app_len;
};

enum wdsmc_qcr_form {
    WDSMC_QCR_JOINACK,   /* 2.2.8.1: QCCSeqNo 0, ServerTime from JOINACK */
    WDSMC_QCR_QCC,       /* 2.2.8.2: QCCSeqNo from the QCC */
    WDSMC_QCR_VOLUNTARY, /* 2.2.8.3: QCCSeqNo 0, ServerTime 0 */
};

/* MS-WDSMT 2.2.9 POLL */
struct wdsmc_mt_poll {
    uint64_t poll_seq;
    uint16_t backoff;
    const uint8_t *app; /* borrowed; MS-WDSMA SRVCIR */
    uint16_t app_len;
};

/* MS-WDSMT 2.2.10 POLLACK */
struct wdsmc_mt_pollack {
    uint32_t client_id;
    uint64_t poll_seq;
    const uint8_t *app; /* borrowed; MS-WDSMA CNTCIR */
    uint16_t app_len;
};

/* MS-WDSMT 2.2.11 LEAVE */
struct wdsmc_mt_leave {
    uint32_t client_id;
    uint8_t reason; /* enum wdsmc_leave_reason; other values are kept */
};

/* MS-WDSMT 2.2.12.1 */
struct wdsmc_mt_kick_entry {
    uint32_t client_id;
    uint8_t reason; /* enum wdsmc_kick_reason */
};

/* MS-WDSMT 2.2.12 KICK. Decoded entries stay on the wire (borrowed, 5 bytes
 * each); read them with wdsmc_mt_kick_get(). To encode, set `entries`. */
struct wdsmc_mt_kick {
    uint16_t count;
    const uint8_t *raw;                        /* decode: borrowed */
    const struct wdsmc_mt_kick_entry *entries; /* encode: borrowed */
};

/* MS-WDSMT 2.2.13 DEMOTE. Client ids read with wdsmc_mt_demote_get(). */
struct wdsmc_mt_demote {
    uint32_t lower_session_id;
    struct wdsmc_addr maddr;
    uint16_t mport;
    struct wdsmc_addr uaddr;
    uint16_t uport;
    uint16_t count;
    const uint8_t *raw;         /* decode: borrowed, 4 bytes per id */
    const uint32_t *client_ids; /* encode: borrowed */
};

/* MS-WDSMT 2.2.15 ACK */
struct wdsmc_mt_ack {
    uint32_t client_id;
    uint64_t odata_seq;
    uint64_t server_time;
    uint64_t hi_seq;
    uint64_t loss_rate;
};

/* MS-WDSMT 2.2.16 ODATA and 2.2.17 RDATA (same layout). */
struct wdsmc_mt_data {
    uint32_t client_id;
    uint64_t seq;
    uint64_t trail_seq;
    const uint8_t *data; /* borrowed; MS-WDSMA DATA */
    uint16_t data_len;
};

/* MS-WDSMT 2.2.18 NACK and 2.2.19 NCF range lists. Decoded ranges stay on the
 * wire (16 bytes each, start <= end checked); read them with
 * wdsmc_mt_range_get(). To encode, set `ranges`. */
struct wdsmc_mt_ranges {
    uint16_t count;
    const uint8_t *raw;               /* decode: borrowed */
    const struct wdsmc_range *ranges; /* encode: borrowed */
};

/* MS-WDSMT 2.2.18 NACK */
struct wdsmc_mt_nack {
    uint32_t client_id;
    uint64_t hi_seq;
    uint64_t loss_rate;
    struct wdsmc_mt_ranges list;
};

/* A whole MS-WDSMT packet. */
struct wdsmc_mt_pkt {
    /* 2.2.2 Security Header. wdsmc_mt_encode() accepts only NONE and
     * CHECKSUM and computes the checksum (wdsmc_mt_encode_sec() does HASH
     * and SIGN). On decode sec_data borrows the raw bytes. */
    uint8_t sec_type;
    uint16_t sec_len;
    const uint8_t *sec_data;
    /* 2.2.3 Session Header */
    uint32_t session_id;
    uint8_t opcode; /* enum wdsmc_mt_op, selects the union member */
    uint64_t sender_time;
    union {
        struct wdsmc_mt_spm spm;
        struct wdsmc_mt_join join;
        struct wdsmc_mt_joinack joinack;
        struct wdsmc_mt_qcc qcc;
        struct wdsmc_mt_qcr qcr;
        struct wdsmc_mt_data data; /* ODATA and RDATA */
        struct wdsmc_mt_ack ack;
        struct wdsmc_mt_nack nack;
        struct wdsmc_mt_ranges ncf;
        struct wdsmc_mt_leave leave;
        struct wdsmc_mt_poll poll;
        struct wdsmc_mt_pollack pollack;
        struct wdsmc_mt_kick kick;
        struct wdsmc_mt_demote demote;
    } u;
    /* 2.2.4 Extended Options (decision 1: the count is on every opcode) */
    struct wdsmc_mt_options opts;
};

/*
 * Decode one MS-WDSMT datagram.
 *   buf, len  the whole UDP payload (borrowed; `out` points into it)
 *   out       filled on success; unspecified on error
 * Verifies the checksum of a CHECKSUM packet (2.2.2.3) right after the
 * security header, before any field is read, so that any corruption of the
 * checksummed bytes is reported as -WDSMC_ECHECKSUM. A HASH or SIGN packet
 * has its headers parsed into `out` and returns -WDSMC_ESECUNSUPP: this
 * function has no keys (wdsmc_mt_decode_sec() below has).
 * Returns len, or a negative codec error. The security *mode* a session
 * expects is not checked here (the state machines do that).
 */
ssize_t wdsmc_mt_decode(const uint8_t *buf, size_t len, struct wdsmc_mt_pkt *out);

/*
 * Encode one MS-WDSMT packet into buf[0..cap). sec_type must be NONE or
 * CHECKSUM (HASH and SIGN need keys: wdsmc_mt_encode_sec()); sec_len and
 * sec_data are ignored and derived. Returns the length;
 * -ENOBUFS when cap is too small or the packet would exceed
 * WDSMC_MAX_DATAGRAM; -EINVAL for an invalid struct (unknown opcode, address
 * length, KICK or DEMOTE list over its spec limit, a range with start > end,
 * a length with a NULL pointer, client name over 15 characters or not UTF-8).
 */
ssize_t wdsmc_mt_encode(const struct wdsmc_mt_pkt *pkt, uint8_t *buf, size_t cap);

/* MS-WDSMT 2.2.2.3: ~(sum of bytes) over buf[0..len). */
uint32_t wdsmc_mt_checksum(const uint8_t *buf, size_t len);

/* Which of the three QCR forms (2.2.8.1-3) a decoded QCR is. */
enum wdsmc_qcr_form wdsmc_mt_qcr_form(const struct wdsmc_mt_qcr *qcr);

/* Entry i (< count) of a decoded KICK, NACK/NCF range list or DEMOTE. */
struct wdsmc_mt_kick_entry wdsmc_mt_kick_get(const struct wdsmc_mt_kick *k, size_t i);
struct wdsmc_range wdsmc_mt_range_get(const struct wdsmc_mt_ranges *r, size_t i);
uint32_t wdsmc_mt_demote_get(const struct wdsmc_mt_demote *d, size_t i);

/* Largest NACK/NCF range count that fits one datagram with a CHECKSUM header
 * and no options (decision 20). */
size_t wdsmc_mt_max_ranges(void);

/* Name of an opcode ("ODATA"), or "?" for an unknown one. */
const char *wdsmc_mt_op_name(uint8_t opcode);

/* ======================================================================== */
/* MS-WDSMT packet hashing and signing (2.2.2.1, 2.2.2.2)                    */
/* ======================================================================== */

/*
 * HASH and SIGN need keys, which MS-WDSMSI 2.2.1 hands out as CryptoAPI key
 * blobs (SymKey, SignKey) with CryptoAPI algorithm ids (HashAlgId, HMACAlgId).
 * Our readings are doc/decisions.md 49-55:
 *   HASH  SecurityData = HMAC-H(key, Session Header .. Extended Options),
 *         H = HashAlgId (SHA-256 or SHA-1), key = the key bytes of SymKey
 *         (decision 50).
 *   SIGN  SecurityData = RSASSA-PKCS1-v1_5 signature with H over the same
 *         bytes, byte-reversed (little-endian, as CryptSignHash emits it),
 *         exactly as long as the modulus (decision 51).
 * The keyed functions below use nettle (HMAC) and hogweed (RSA). They
 * allocate nothing themselves; RSA does, inside GMP, for its temporaries.
 */

/* CryptoAPI ALG_IDs (wincrypt.h) that MS-WDSMSI 4.1 and real servers use. */
#define WDSMC_CALG_SHA1     0x8004
#define WDSMC_CALG_HMAC     0x8009
#define WDSMC_CALG_SHA_256  0x800C
#define WDSMC_CALG_3DES     0x6603
#define WDSMC_CALG_RSA_SIGN 0x2400
#define WDSMC_CALG_RSA_KEYX 0xA400

/* Limits of the blob parsers. An RSA signature must fit SecurityData. */
#define WDSMC_SYMKEY_MAX    64 /* key bytes of a PLAINTEXTKEYBLOB */
#define WDSMC_RSA_MIN_BITS  1024
#define WDSMC_RSA_MAX_BITS  (WDSMC_MT_SECDATA_MAX * 8)
#define WDSMC_HMAC_MAX_LEN  32 /* SHA-256 */
#define WDSMC_KEYBLOB_HDR   8  /* BLOBHEADER */
#define WDSMC_RSAPUBKEY_LEN 12 /* RSAPUBKEY: magic, bitlen, pubexp */

/* nettle's key types (<nettle/rsa.h>); only pointers are used here. */
struct rsa_public_key;
struct rsa_private_key;

/*
 * How one direction of a session protects its packets, with the keys to do
 * it. All pointers are borrowed for the call.
 *   mode      enum wdsmc_sec_type; the only SecurityHeaderType accepted
 *   hash_alg  HashAlgId: WDSMC_CALG_SHA_256 (0 means this) or WDSMC_CALG_SHA1
 *   hmac_key  HASH: the key bytes of SymKey (wdsmc_cryptoapi_plaintextkeyblob)
 *   rsa_pub   SIGN: the server's public key (SignKey), to verify and to sign
 *   rsa_priv  SIGN, encode only: the matching private key
 *   random    SIGN, encode only: randomness for RSA blinding (nettle's
 *             nettle_random_func shape), with its context
 */
struct wdsmc_mt_security {
    uint8_t mode;
    uint32_t hash_alg;
    const uint8_t *hmac_key;
    size_t hmac_key_len;
    const struct rsa_public_key *rsa_pub;
    const struct rsa_private_key *rsa_priv;
    void *random_ctx;
    void (*random)(void *ctx, size_t len, uint8_t *dst);
};

/*
 * SecurityDataLen that packets protected by `sec` carry: 0 (NONE), 4
 * (CHECKSUM), the HMAC length (HASH: 32 for SHA-256, 20 for SHA-1) or the
 * modulus length (SIGN). Returns it, or -EINVAL when a key or algorithm the
 * mode needs is missing or unsupported.
 */
ssize_t wdsmc_mt_sec_len(const struct wdsmc_mt_security *sec);

/*
 * Decode one MS-WDSMT datagram of a session protected as `sec` says
 * (MS-WDSMT 3.1.5.1.1 server side, 3.2.5.2 client side).
 * Order: length, identifier, security header; a SecurityHeaderType other
 * than sec->mode is -WDSMC_ESECTYPE (out->sec_type then holds the type
 * found), and so is a SecurityDataLen other than wdsmc_mt_sec_len(sec); then
 * the HMAC (-WDSMC_EHMAC) or signature (-WDSMC_ESIG) or checksum
 * (-WDSMC_ECHECKSUM) over everything after the security header, before any
 * field is read (decision 23); then everything wdsmc_mt_decode() checks.
 * Returns len or a negative error; -EINVAL when sec lacks a key its mode
 * needs. For NONE and CHECKSUM it is wdsmc_mt_decode() plus the mode check.
 */
ssize_t wdsmc_mt_decode_sec(const uint8_t *buf, size_t len, const struct wdsmc_mt_security *sec,
                            struct wdsmc_mt_pkt *out);

/*
 * Encode one MS-WDSMT packet protected as `sec` says into buf[0..cap).
 * pkt->sec_type, sec_len and sec_data are ignored: sec->mode rules. Returns
 * the length or the errors of wdsmc_mt_encode(); -EINVAL also when sec lacks
 * a key its mode needs (SIGN: rsa_pub, rsa_priv and random); -EIO when
 * nettle fails to sign.
 */
ssize_t wdsmc_mt_encode_sec(const struct wdsmc_mt_pkt *pkt, const struct wdsmc_mt_security *sec,
                            uint8_t *buf, size_t cap);

/* Where the payload of an ODATA or RDATA starts in what
 * wdsmc_mt_encode_sec() writes with `sec` (whatever the options), or
 * -EINVAL. A payload already at buf + this offset is not copied, so a sender
 * can read a block straight into its datagram. */
ssize_t wdsmc_mt_data_offset(const struct wdsmc_mt_security *sec);

/* wdsmc_mt_max_ranges() for a header protected as `sec` says (a longer
 * SecurityData leaves room for fewer ranges); 0 for an invalid `sec`. */
size_t wdsmc_mt_max_ranges_sec(const struct wdsmc_mt_security *sec);

/* A CryptoAPI PLAINTEXTKEYBLOB (MS-WDSMSI SymKey), parsed. */
struct wdsmc_cryptoapi_symkey {
    uint32_t alg_id;    /* aiKeyAlg, e.g. WDSMC_CALG_3DES; any value */
    const uint8_t *key; /* dwKeySize key bytes, borrowed from the blob */
    uint32_t key_len;   /* 1..WDSMC_SYMKEY_MAX */
};

/*
 * Parse a PLAINTEXTKEYBLOB: BLOBHEADER {bType 8, bVersion 2, reserved 0,
 * aiKeyAlg} (all little-endian), DWORD dwKeySize, then exactly dwKeySize key
 * bytes. Returns 0 and fills *ret (borrowing from blob), or
 * -WDSMC_EKEYBLOB for any other shape (wrong type or version, non-zero
 * reserved, a size of 0, over WDSMC_SYMKEY_MAX or not equal to what follows).
 */
int wdsmc_cryptoapi_plaintextkeyblob(const uint8_t *blob, size_t len,
                                     struct wdsmc_cryptoapi_symkey *ret);

/* Write a PLAINTEXTKEYBLOB for `key` (1..WDSMC_SYMKEY_MAX bytes) into
 * buf[0..cap). Returns its length (12 + key_len), -EINVAL or -ENOBUFS. */
ssize_t wdsmc_cryptoapi_plaintextkeyblob_write(uint32_t alg_id, const uint8_t *key, size_t key_len,
                                               uint8_t *buf, size_t cap);

/* A CryptoAPI RSA PUBLICKEYBLOB or PRIVATEKEYBLOB, parsed. Every number is
 * little-endian, borrowed from the blob. */
struct wdsmc_cryptoapi_rsa {
    uint32_t alg_id;        /* WDSMC_CALG_RSA_SIGN or WDSMC_CALG_RSA_KEYX */
    uint32_t bitlen;        /* WDSMC_RSA_MIN_BITS..MAX_BITS, a multiple of 8
                               (of 16 in a PRIVATEKEYBLOB) */
    uint32_t pubexp;        /* odd, >= 3 */
    const uint8_t *modulus; /* bitlen / 8 bytes, top bit set */
    /* PRIVATEKEYBLOB only (NULL in a public key): */
    const uint8_t *prime1;      /* p, bitlen / 16 bytes */
    const uint8_t *prime2;      /* q, bitlen / 16 bytes */
    const uint8_t *exponent1;   /* d mod (p - 1), bitlen / 16 bytes */
    const uint8_t *exponent2;   /* d mod (q - 1), bitlen / 16 bytes */
    const uint8_t *coefficient; /* q^-1 mod p, bitlen / 16 bytes */
    const uint8_t *priv_exp;    /* d, bitlen / 8 bytes */
};

/*
 * Parse a PUBLICKEYBLOB (MS-WDSMSI SignKey): BLOBHEADER {bType 6, bVersion
 * 2, reserved 0, aiKeyAlg CALG_RSA_SIGN or CALG_RSA_KEYX}, RSAPUBKEY {magic
 * "RSA1", bitlen, pubexp}, modulus; nothing after it. Returns 0 and fills
 * *ret (borrowing), or -WDSMC_EKEYBLOB (any other shape, limits above).
 */
int wdsmc_cryptoapi_publickeyblob(const uint8_t *blob, size_t len, struct wdsmc_cryptoapi_rsa *ret);

/*
 * Parse a PRIVATEKEYBLOB (a server's SignKey pair; `openssl rsa -outform
 * MSBLOB` writes one): bType 7, magic "RSA2", then modulus, prime1, prime2,
 * exponent1, exponent2, coefficient, privateExponent. Returns 0 or
 * -WDSMC_EKEYBLOB, like the public parser.
 */
int wdsmc_cryptoapi_privatekeyblob(const uint8_t *blob, size_t len,
                                   struct wdsmc_cryptoapi_rsa *ret);

/* Write the PUBLICKEYBLOB of `k` (public or private) into buf[0..cap): what
 * a server sends as SignKey. Returns its length (20 + bitlen / 8), -EINVAL
 * for a key outside the parser's limits, or -ENOBUFS. */
ssize_t wdsmc_cryptoapi_publickeyblob_write(const struct wdsmc_cryptoapi_rsa *k, uint8_t *buf,
                                            size_t cap);

/*
 * A session's key material as MS-WDSMSI 2.2.1 carries it (all borrowed),
 * given to the MS-WDSMT state machines at creation.
 *   sym_key    SymKey, a PLAINTEXTKEYBLOB: HASH, either direction
 *   sign_key   SignKey, a PUBLICKEYBLOB: a client verifying SIGN packets
 *   sign_priv  a PRIVATEKEYBLOB: a server sending SIGN packets
 *   hash_alg   HashAlgId (0: WDSMC_CALG_SHA_256)
 *   hmac_alg   HMACAlgId (0: WDSMC_CALG_HMAC, the only one supported)
 */
struct wdsmc_mt_keys {
    const uint8_t *sym_key;
    size_t sym_key_len;
    const uint8_t *sign_key;
    size_t sign_key_len;
    const uint8_t *sign_priv;
    size_t sign_priv_len;
    uint32_t hash_alg;
    uint32_t hmac_alg;
};

/* ======================================================================== */
/* MS-WDSMA: multicast application                                           */
/* ======================================================================== */

/* MS-WDSMA 2.2.1 OpCode */
enum wdsmc_ma_op {
    WDSMC_MA_SRVCIR = 0x01,
    WDSMC_MA_CNTCIR = 0x02,
    WDSMC_MA_DATA = 0x03,
    WDSMC_MA_PROGRESS = 0x04,
};

#define WDSMC_MA_MAX_RANGES     64    /* MS-WDSMA 2.2.3 */
#define WDSMC_MA_MAX_BLOCK_SIZE 65448 /* decision 5 */
#define WDSMC_MA_HDR_LEN        3     /* Packet-Size, OpCode */
#define WDSMC_MA_DATA_HDR_LEN   13    /* header + BlockNumber + DataLen */

/* MS-WDSMA 2.2.3 CNTCIR */
struct wdsmc_ma_cntcir {
    uint8_t progress; /* 0..100 */
    uint32_t time_in_session;
    uint16_t range_count; /* <= 64 */
    struct wdsmc_range ranges[WDSMC_MA_MAX_RANGES];
};

/* MS-WDSMA 2.2.4 DATA */
struct wdsmc_ma_data {
    uint64_t block;
    const uint8_t *data; /* borrowed */
    uint16_t data_len;
};

/* MS-WDSMA 2.2.5 PROGRESS */
struct wdsmc_ma_progress {
    uint32_t time_in_session;
    uint8_t progress; /* 0..100 */
};

struct wdsmc_ma_pkt {
    uint8_t opcode; /* enum wdsmc_ma_op; SRVCIR has no body */
    union {
        struct wdsmc_ma_cntcir cntcir;
        struct wdsmc_ma_data data;
        struct wdsmc_ma_progress progress;
    } u;
};

/*
 * Decode one MS-WDSMA packet occupying exactly buf[0..len) (decision 5:
 * Packet-Size counts the whole packet, header included, and must equal len).
 * Returns len or a negative codec error: -WDSMC_ETRUNC when Packet-Size >
 * len or a fixed field is cut short, -WDSMC_ETRAILING when Packet-Size < len
 * or the fields end before Packet-Size, -WDSMC_ECOUNT when a count or DataLen
 * does not fit, -WDSMC_EVALUE for progress > 100 or DataLen > 65448,
 * -WDSMC_ETOOMANY for more than 64 ranges, -WDSMC_ERANGE for start > end.
 */
ssize_t wdsmc_ma_decode(const uint8_t *buf, size_t len, struct wdsmc_ma_pkt *out);

/* Encode; returns length, -ENOBUFS, or -EINVAL (progress > 100, more than 64
 * ranges, a range with start > end, data longer than 65448). */
ssize_t wdsmc_ma_encode(const struct wdsmc_ma_pkt *pkt, uint8_t *buf, size_t cap);

/* ======================================================================== */
/* MS-WDSMSI over UDP: session initiation                                    */
/* ======================================================================== */

#define WDSMC_MSI_PORT 5041 /* MS-WDSMSI 1.9 */

/* MS-WDSMSI 2.2.2 OpCode */
enum wdsmc_msi_op {
    WDSMC_MSI_REQUEST = 0x01,
    WDSMC_MSI_REPLY = 0x02,
};

/* MS-WDSMSI 2.2.2.1-3 option ids. Decision 4: the high byte gives the type. */
enum wdsmc_msi_opt {
    WDSMC_MSI_OPT_NAMESPACE = 0x0601,      /* UTF-16LE, NUL-terminated */
    WDSMC_MSI_OPT_CONTENT = 0x0602,        /* UTF-16LE, NUL-terminated */
    WDSMC_MSI_OPT_MAC_ADDRESS = 0x050C,    /* blob, 6 bytes */
    WDSMC_MSI_OPT_IPV6_CAPABLE = 0x010D,   /* u8 */
    WDSMC_MSI_OPT_MULTICAST_ADDR = 0x0503, /* blob, 4 or 16 */
    WDSMC_MSI_OPT_SERVER_ADDR = 0x0504,    /* blob, 4 or 16 */
    WDSMC_MSI_OPT_MULTICAST_PORT = 0x0205, /* u16 */
    WDSMC_MSI_OPT_SERVER_PORT = 0x0206,    /* u16 */
    WDSMC_MSI_OPT_CONTENT_SIZE = 0x0407,   /* u64 */
    WDSMC_MSI_OPT_TOTAL_BLOCKS = 0x0408,   /* u64 */
    WDSMC_MSI_OPT_BLOCK_SIZE = 0x0309,     /* u32 */
    WDSMC_MSI_OPT_SESSION_ID = 0x030A,     /* u32 */
    WDSMC_MSI_OPT_ERROR = 0x030B,          /* u32 Win32 error */
};

/* Win32 codes of decision 4. */
#define WDSMC_WIN32_FILE_NOT_FOUND    2
#define WDSMC_WIN32_INVALID_PARAMETER 87
#define WDSMC_WIN32_NOT_FOUND         1168

/* Names are limited to 255 UTF-16 units plus the NUL on the wire; the UTF-8
 * form then needs at most 255 * 3 + 1 bytes. */
#define WDSMC_MSI_NAME_MAX_UNITS 255
#define WDSMC_MSI_NAME_BUF       (WDSMC_MSI_NAME_MAX_UNITS * 3 + 1)

/* MS-WDSMSI 2.2.2.1 */
struct wdsmc_msi_request {
    char ns[WDSMC_MSI_NAME_BUF];      /* UTF-8 */
    char content[WDSMC_MSI_NAME_BUF]; /* UTF-8 */
    uint8_t mac[6];
    bool has_ipv6_capable;
    uint8_t ipv6_capable;
};

/* MS-WDSMSI 2.2.2.2 */
struct wdsmc_msi_reply {
    struct wdsmc_addr mcast_addr;
    struct wdsmc_addr server_addr;
    uint16_t mcast_port;
    uint16_t server_port;
    uint64_t content_size;
    uint64_t total_blocks;
    uint32_t block_size;
    uint32_t session_id;
};

struct wdsmc_msi_pkt {
    uint8_t opcode; /* REQUEST or REPLY */
    bool is_error;  /* REPLY carrying only WDSMCSE_OPT_ERROR (decision 4) */
    union {
        struct wdsmc_msi_request req;
        struct wdsmc_msi_reply reply;
        uint32_t error; /* Win32 code */
    } u;
    uint16_t unknown_count; /* decode only: options skipped */
};

/*
 * Decode one MS-WDSMSI UDP datagram. A REQUEST must carry NAMESPACE, CONTENT
 * and MAC_ADDRESS; a REPLY either ERROR alone (is_error) or all eight reply
 * options; otherwise -WDSMC_EMISSING. Unknown options are skipped. Returns
 * len or a negative codec error.
 */
ssize_t wdsmc_msi_decode(const uint8_t *buf, size_t len, struct wdsmc_msi_pkt *out);

/* Encode; returns the length, -ENOBUFS, or -EINVAL (unknown opcode, is_error
 * on a REQUEST, empty or overlong name, invalid UTF-8, address length other
 * than 4 or 16). */
ssize_t wdsmc_msi_encode(const struct wdsmc_msi_pkt *pkt, uint8_t *buf, size_t cap);

/*
 * Check a decoded REPLY the way a client must before using it (decision 4):
 * 0 < BlockSize <= 65448, TotalBlocks == ceil(ContentSize / BlockSize),
 * MULTICAST_ADDR is a multicast address, SERVER_PORT == MULTICAST_PORT != 0.
 * Returns 0 or -WDSMC_EVALUE.
 */
int wdsmc_msi_reply_check(const struct wdsmc_msi_reply *r);

/* ======================================================================== */
/* UTF-16LE <-> UTF-8 (used by MS-WDSMT JOIN and MS-WDSMSI strings)           */
/* ======================================================================== */

/*
 * Convert `units` UTF-16LE code units at src (no NUL expected inside) to a
 * NUL-terminated UTF-8 string in dst[0..cap). Surrogate pairs are combined; a
 * lone surrogate or an embedded NUL is -WDSMC_ESTRING; no room is
 * -WDSMC_ESTRLEN. Returns the UTF-8 length without the NUL.
 */
ssize_t wdsmc_utf16le_to_utf8(const uint8_t *src, size_t units, char *dst, size_t cap);

/*
 * Convert a NUL-terminated UTF-8 string to UTF-16LE code units at dst, at most
 * max_units units, without a NUL. Invalid UTF-8 (overlong, surrogates, > U+10FFFF)
 * is -WDSMC_ESTRING; more than max_units units is -WDSMC_ESTRLEN. Returns the
 * number of units written.
 */
ssize_t wdsmc_utf8_to_utf16le(const char *src, uint8_t *dst, size_t max_units);

#ifdef __cplusplus
}
#endif

#endif /* WDSMC_CODEC_H */
