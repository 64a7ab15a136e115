/* SPDX-License-Identifier: MIT */
/*
 * MS-WDSMT server (MS-WDSMT 3.1): one multicast session's transport.
 *
 * Sans-I/O, in the shape of ngtcp2: the server reads no clock and owns no
 * socket. The caller feeds it datagrams (wdsmc_mt_server_handle) and timer
 * expiries (wdsmc_mt_server_timeout) with `now` in milliseconds of a monotonic
 * clock that is never 0 (a ServerTime of 0 means "voluntary QCR", decision
 * 10), and re-arms one timer at wdsmc_mt_server_deadline(). What goes out is
 * handed to the send callbacks, borrowed for the duration of the call.
 *
 * Data is pulled, not pushed: when the congestion window (and the optional
 * send-rate limit) has room, the server asks pull_data() for the next Data
 * Trigger, a 64-bit token (the MS-WDSMA block number), and stores only that
 * token in its Data Packet List. The payload is produced by fill_data() each
 * time an ODATA or RDATA is sent, so memory does not grow with the content.
 *
 * Callbacks may call back into the server (wdsmc_mt_server_poll from inside
 * data_empty, wdsmc_mt_server_data_ready from inside pull_data's caller...),
 * but must not free it. After terminated() the server is inert: handle()
 * returns -ESHUTDOWN and the deadline is UINT64_MAX.
 */
#ifndef WDSMC_MT_SERVER_H
#define WDSMC_MT_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "wdsmc/codec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A UDP endpoint: the source of a client's datagrams, or where to reach it. */
struct wdsmc_endpoint {
    struct wdsmc_addr ip;
    uint16_t port;
};

/* MS-WDSMT 3.1.1.4 Protocol Parameters, all in milliseconds or counts. */
struct wdsmc_mt_server_params {
    uint32_t inactivity_timeout;         /* 300000 */
    uint32_t join_ack_to_qcr_timeout;    /* 500 */
    uint32_t max_join_ack_sends;         /* 3 */
    uint16_t poll_backoff;               /* 200 */
    uint32_t kick_interval;              /* 15000 */
    uint32_t no_client_qcc_interval;     /* 500 */
    uint32_t qcc_interval;               /* 5000 (decision 13) */
    uint32_t client_dead_timeout;        /* 60000 */
    uint32_t spm_interval;               /* 220 */
    uint32_t cleanup_data_list_interval; /* 200 */
    uint32_t max_no_response_spm;        /* 5 */
    uint32_t exp_max_window_size;        /* 128 (decisions 13, 62) */
    uint32_t max_window_size;            /* 512 (decisions 13, 62) */
    uint32_t demote_interval;            /* 500 */
    /* Ours, not the spec's: ask the master for an ACK only every this many
     * ODATA with ODATA_FW_LEAD_SEQ_NO (MS-WDSMT 2.2.16, 3.2.5.13; decision
     * 56). 1: every packet, no option sent. 0: a quarter of the window. */
    uint32_t ack_interval; /* 0 */
    /* Ours: new ODATA runs at most this many payload bytes (and 32 windows)
     * past the master's oldest hole, so that the receivers' caches hold what
     * arrives while it is repaired (decision 63). 0: windows only. */
    uint64_t max_span_bytes; /* WDSMC_MT_SERVER_DEFAULT_SPAN_BYTES */
};

/* Defaults of our own (not in the spec). */
#define WDSMC_MT_SERVER_DEFAULT_MAX_CLIENTS   200         /* MS-WDSMT 3.1.1.2 */
#define WDSMC_MT_SERVER_DEFAULT_MAX_DATA_LIST 65536       /* Data Packet List entries */
#define WDSMC_MT_SERVER_DEFAULT_SPAN_BYTES    (48u << 20) /* decision 63 */
#define WDSMC_MT_SERVER_KICK_ALL_TIMEOUT      30000       /* decision 14 */
#define WDSMC_MT_SERVER_DATA_HOLD             1000        /* MS-WDSMT 3.1.6.7 */
/* The largest batch given to send_mcast_batch: what one UDP GSO send may
 * carry. 64 datagrams is UDP_MAX_SEGMENTS of the first kernels with GSO
 * (Linux 4.18); 65507 bytes is the largest IPv4 UDP payload. */
#define WDSMC_MT_BATCH_MAX_SEGS  64
#define WDSMC_MT_BATCH_MAX_BYTES 65507
/* Decision 43: a datagram naming a ClientId on no list is answered with a
 * unicast KICK (FAIL), at most one per endpoint per this many ms, from a table
 * of this many endpoints (so at most that many such KICKs per interval). */
#define WDSMC_MT_SERVER_STRAY_KICK_INTERVAL 1000
#define WDSMC_MT_SERVER_STRAY_KICK_SLOTS    16

/* Fill *p with the defaults of MS-WDSMT 3.1.1.4 and decision 13. */
void wdsmc_mt_server_params_default(struct wdsmc_mt_server_params *p);

/* Why a client is gone, for client_left(). The first three are the LEAVE
 * reasons of MS-WDSMT 2.2.11 (enum wdsmc_leave_reason; an unknown reason on
 * the wire is reported as CANCELLED). */
enum wdsmc_mt_server_left {
    WDSMC_MT_LEFT_COMPLETE = 0,
    WDSMC_MT_LEFT_CANCELLED = 1,
    WDSMC_MT_LEFT_INACTIVE = 2,
    WDSMC_MT_LEFT_DEAD = 0x100,    /* no QCR for ClientDeadTimeout (3.1.6.2) */
    WDSMC_MT_LEFT_KICKED = 0x101,  /* removed from the Kick Client List */
    WDSMC_MT_LEFT_DEMOTED = 0x102, /* removed from the Demoted Client List */
};

/* Callbacks. ctx is passed back. send_mcast, send_ucast, pull_data and
 * fill_data are required; the others may be NULL. Byte buffers are borrowed
 * for the duration of the call. */
struct wdsmc_mt_server_callbacks {
    void *ctx;
    /* Send a datagram to the session's multicast group:port. */
    void (*send_mcast)(void *ctx, const uint8_t *buf, size_t len);
    /* Optional: send to the group the datagrams laid end to end in
     * buf[0..len), each `seg` bytes long but the last, which may be shorter
     * (UDP GSO's layout). When set, the server gathers the ODATA and RDATA
     * of one flush that have one length into batches of at most
     * WDSMC_MT_BATCH_MAX_BYTES and WDSMC_MT_BATCH_MAX_SEGS datagrams; a
     * batch of one, and every other datagram, goes to send_mcast. Order is
     * kept: a batch is sent before any datagram built after it. */
    void (*send_mcast_batch)(void *ctx, const uint8_t *buf, size_t len, size_t seg);
    /* Send a datagram to one client. */
    void (*send_ucast)(void *ctx, const struct wdsmc_endpoint *to, const uint8_t *buf, size_t len);
    /* MS-WDSMT 3.1.5.9.4 Data Trigger, pulled: write the next payload's token
     * to *token and return true, or return false when there is none now. */
    bool (*pull_data)(void *ctx, uint64_t *token);
    /* Write the payload of `token` into buf[0..cap); return its length, or a
     * negative error, which terminates the session with that error. Called for
     * the ODATA and again for every RDATA of the token. buf lies inside the
     * datagram being built, so fill_data must not make the server send. */
    ssize_t (*fill_data)(void *ctx, uint64_t token, uint8_t *buf, size_t cap);
    /* MS-WDSMT 3.1.5.5 POLLACK Trigger: AppData of a valid POLLACK. */
    void (*pollack)(void *ctx, uint32_t client_id, const uint8_t *app, size_t len, uint64_t now);
    /* MS-WDSMT 3.1.5.8, 3.1.5.2.3 Status Trigger: AppData of a valid QCR;
     * empty when a NACK, POLLACK or ACK made a pending client active
     * (decision 41), like the AppData of the QCR that answers a JOINACK. */
    void (*status)(void *ctx, uint32_t client_id, const uint8_t *app, size_t len, uint64_t now);
    /* MS-WDSMT 3.1.6.7 Data Empty Trigger (decision 12). */
    void (*data_empty)(void *ctx, uint64_t now);
    /* A client became active (its first QCR, or decision 41 its first QCR,
     * NACK, POLLACK or ACK); reason is always 0. */
    void (*client_joined)(void *ctx, uint32_t client_id, int reason);
    /* A client was removed from every list; reason is enum wdsmc_mt_server_left. */
    void (*client_left)(void *ctx, uint32_t client_id, int reason);
    /* MS-WDSMT 3.1.6.9 Terminate Trigger; called exactly once. err is
     * -ETIMEDOUT (inactivity), -ECANCELED (kick_all finished) or the error of
     * fill_data. */
    void (*terminated)(void *ctx, int err);
};

/* Creation parameters. */
struct wdsmc_mt_server_config {
    uint32_t session_id; /* MS-WDSMSI SessionId */
    uint8_t server_sec;  /* security of what we send: WDSMC_SEC_NONE, _HASH,
                            _SIGN or _CHECKSUM */
    uint8_t client_sec;  /* security a client's packet must carry: NONE, HASH
                            or CHECKSUM */
    /* Keys for HASH (sym_key, either direction) and SIGN (sign_priv, a
     * PRIVATEKEYBLOB; its public half, wdsmc_cryptoapi_publickeyblob_write(),
     * is the SignKey clients get), with hash_alg/hmac_alg. Borrowed by
     * wdsmc_mt_server_new(), which copies what the modes need; NULL for NONE
     * and CHECKSUM. */
    const struct wdsmc_mt_keys *keys;
    struct wdsmc_mt_server_params params;
    uint32_t max_clients;   /* pending + active clients; 0 = 200 */
    uint64_t max_rate;      /* ODATA+RDATA bytes per second; 0 = unlimited */
    uint32_t max_data_list; /* Data Packet List entries; 0 = 65536 */
    uint64_t seed;          /* PRNG seed: NextClientId (3.1.1.1, decision 9) */
};

/* Fill *cfg with defaults: params from wdsmc_mt_server_params_default(),
 * CHECKSUM both ways, limits at their defaults, the given ids. */
void wdsmc_mt_server_config_default(struct wdsmc_mt_server_config *cfg, uint32_t session_id,
                                    uint64_t seed);

/* MS-WDSMT 3.1.1.1 SessionState, plus closing and the end. */
enum wdsmc_mt_server_state {
    WDSMC_MT_SERVER_PRESTART,
    WDSMC_MT_SERVER_QCC,
    WDSMC_MT_SERVER_DATA,
    WDSMC_MT_SERVER_CLOSING, /* kick_all: only KICKs go out (decision 14) */
    WDSMC_MT_SERVER_DONE,    /* terminated() has been called */
};

/* Which MS-WDSMT 3.1.1 list a client is on. */
enum wdsmc_mt_server_client_state {
    WDSMC_MT_SC_PENDING,
    WDSMC_MT_SC_ACTIVE,
    WDSMC_MT_SC_KICKED,
    WDSMC_MT_SC_DEMOTED,
};

/* The session a demoted client is sent to (MS-WDSMT 2.2.13). */
struct wdsmc_mt_demote_target {
    uint32_t session_id;
    struct wdsmc_endpoint mcast; /* MAddress, MPort */
    struct wdsmc_endpoint ucast; /* UAddress, UPort */
};

/* Per-client statistics. */
struct wdsmc_mt_client_info {
    uint32_t id;
    enum wdsmc_mt_server_client_state state;
    bool is_master;
    bool supports_demote;
    char name[WDSMC_MT_CLIENT_NAME_CHARS * 4 + 1]; /* from JOIN, UTF-8 */
    uint8_t mac[6];
    struct wdsmc_endpoint endpoint;
    uint32_t rtt;       /* ms, last measured */
    uint64_t loss_rate; /* wire units: fraction x 10^16 (decision 6) */
    bool has_progress;  /* set_progress() was called for it */
    uint8_t progress;
    uint32_t time_in_session;
    uint64_t join_time;   /* `now` of its JOIN */
    uint64_t last_update; /* `now` of its last QCR (or JOIN) */
};

/* Session statistics. */
struct wdsmc_mt_server_stats {
    enum wdsmc_mt_server_state state;
    uint32_t master_id;
    uint32_t window;
    uint32_t mc_rtt;
    uint64_t mc_loss_rate; /* wire units */
    uint64_t next_odata_seq, mc_trail_seq, mc_lead_seq;
    uint64_t next_spm_seq, next_qcc_seq, next_poll_seq;
    uint32_t data_list_len;
    uint32_t clients_pending, clients_active, clients_kicked, clients_demoted;
    uint64_t odata_packets, odata_bytes;
    uint64_t rdata_packets, rdata_bytes;
    uint64_t spm_packets, spm_bytes;
    uint64_t ncf_packets, qcc_packets, poll_packets, kick_packets, demote_packets;
    uint64_t joinack_packets;
    uint64_t rx_packets;    /* accepted */
    uint64_t rx_dropped;    /* handle() returned an error */
    uint64_t auth_failures; /* HMAC mismatches (-WDSMC_EHMAC), in rx_dropped */
    uint64_t joins_refused;
    uint64_t master_switches;
    uint64_t stray_kicks; /* unicast KICKs to unknown ClientIds (decision 43),
                             also counted in kick_packets */
};

struct wdsmc_mt_server;

/*
 * Create a session in PreStartState (MS-WDSMT 3.1.3). The Inactivity Timer
 * starts at `now`.
 *   cfg  borrowed; copied
 *   cb   copied; send_mcast, send_ucast, pull_data, fill_data are required
 *   ret  on success the new server, freed by the caller with _free
 * Returns 0; -ENOTSUP for a client security mode of SIGN (MS-WDSMSI
 * 3.1.5.1 never asks clients to sign), a HashAlgId other than SHA-256 or
 * SHA-1, or an HMACAlgId other than CALG_HMAC; -ENOKEY when HASH lacks
 * cfg->keys->sym_key or SIGN lacks sign_priv; -WDSMC_EKEYBLOB for a malformed
 * key blob; -EINVAL for an unknown security mode, a missing callback or an
 * inconsistent parameter (a zero window size, ExpMax > Max, MaxJoinAckSends
 * 0); -ENOMEM. In SIGN mode every packet sent costs an RSA signature.
 */
int wdsmc_mt_server_new(const struct wdsmc_mt_server_config *cfg,
                        const struct wdsmc_mt_server_callbacks *cb, uint64_t now,
                        struct wdsmc_mt_server **ret);

/* Free a server; NULL is fine. No callback is called. */
void wdsmc_mt_server_free(struct wdsmc_mt_server *s);

/*
 * MS-WDSMT 3.1.5.1: process one datagram from a client.
 *   buf, len  the UDP payload (borrowed)
 *   from      the datagram's source (borrowed)
 * Returns 0 when the packet was processed, or a negative error saying why it
 * was dropped: a codec error (-WDSMC_E*: -WDSMC_EHMAC for a HASH packet whose
 * HMAC does not match, -WDSMC_ESECTYPE for a HASH header of the wrong
 * length); -EPROTO for the wrong security type
 * or an opcode a client does not send; -EXDEV for another session's id;
 * -ENOENT for a client id on no list that could use it (a QCR, NACK, POLLACK
 * or ACK naming a ClientId on no list is answered with a rate-limited unicast
 * KICK, decision 43; one naming a pending client from another endpoint is only
 * dropped); -ESTALE for a packet that is valid but out of date (QCC sequence
 * other than 0 and the last two, decision 45; old POLL sequence; ACK outside
 * [MCTrail, MCLead] or not from the master; ACK or NACK outside DataState);
 * -EUSERS for a JOIN over max_clients; -ESHUTDOWN after termination.
 * A QCR, NACK, POLLACK or ACK from a pending client's own endpoint first makes
 * it active (decision 41), then is processed as above.
 */
int wdsmc_mt_server_handle(struct wdsmc_mt_server *s, const uint8_t *buf, size_t len,
                           const struct wdsmc_endpoint *from, uint64_t now);

/* MS-WDSMT 3.1.6: run every timer due at `now` (harmless if none is). */
void wdsmc_mt_server_timeout(struct wdsmc_mt_server *s, uint64_t now);

/* The earliest time (ms) at which wdsmc_mt_server_timeout() must be called,
 * or UINT64_MAX. May be in the past: call timeout() at once then. */
uint64_t wdsmc_mt_server_deadline(const struct wdsmc_mt_server *s);

/*
 * MS-WDSMT 3.1.5.4 POLL Trigger: send `app` (borrowed; an MS-WDSMA SRVCIR) in
 * a POLL to the group with the next POLLSeqNo. Nothing is sent in PreStart
 * (decision 8) or while closing, but the answer is the same. The POLL's
 * BackOff field is PollBackOff.
 * Returns the Query Timer (ms): PollBackOff plus the round-trip allowance of
 * decision 44 (the largest RTT among active clients and a quarter of it), so
 * that a client answering at the end of its BackOff is still in time;
 * -EMSGSIZE when app does not fit a datagram; -ESHUTDOWN after termination.
 */
int wdsmc_mt_server_poll(struct wdsmc_mt_server *s, const uint8_t *app, size_t len, uint64_t now);

/* The application has Data Triggers again (MS-WDSMA entered DataState): send
 * what the window allows now instead of at the next event. */
void wdsmc_mt_server_data_ready(struct wdsmc_mt_server *s, uint64_t now);

/*
 * The socket is full (decision 65): no ODATA or RDATA goes out from now on,
 * not even the rest of a flush under way, until wdsmc_mt_server_tx_resume().
 * For the send callbacks to call when the kernel refuses a datagram they
 * then keep (they queue it), so that a link slower than the server holds the
 * server back as the window and the rate do, instead of turning the excess
 * into losses that NACKs and repairs must make good. Control packets (SPM,
 * NCF, QCC, POLL, KICK...) are still sent.
 */
void wdsmc_mt_server_tx_pause(struct wdsmc_mt_server *s);

/* The socket has room again: send what may be sent now. */
void wdsmc_mt_server_tx_resume(struct wdsmc_mt_server *s, uint64_t now);

/*
 * MS-WDSMT 3.1.5.6 KICK Trigger: move an active (or pending) client to the
 * Kick Client List with `reason` (enum wdsmc_kick_reason); send a KICK now
 * unless the Kick Timer runs. Returns 0, -ENOENT, -ESHUTDOWN.
 */
int wdsmc_mt_server_kick(struct wdsmc_mt_server *s, uint32_t client_id, uint8_t reason,
                         uint64_t now);

/*
 * Terminate (decision 14): every pending and active client goes on the Kick
 * Client List with `reason`; data stops; a KICK naming every kicked client
 * (200 per packet) goes out now and every KickInterval. The session ends with
 * terminated(-ECANCELED) when the Kick Client List is empty or after 30 s.
 * Returns 0, or -ESHUTDOWN if already terminated or closing.
 */
int wdsmc_mt_server_kick_all(struct wdsmc_mt_server *s, uint8_t reason, uint64_t now);

/*
 * MS-WDSMT 3.1.5.10 Demote Trigger: move an active client to the Demoted
 * Client List with its target session (copied); send DEMOTE packets now
 * (grouped by target, 250 clients per packet) unless the Demote Timer runs.
 * Returns 0, -ENOENT, -EINVAL (bad address length), -ESHUTDOWN.
 */
int wdsmc_mt_server_demote(struct wdsmc_mt_server *s, uint32_t client_id,
                           const struct wdsmc_mt_demote_target *target, uint64_t now);

/* Record a client's last MS-WDSMA PROGRESS for statistics (the transport does
 * not parse AppData itself). Returns 0 or -ENOENT. */
int wdsmc_mt_server_set_progress(struct wdsmc_mt_server *s, uint32_t client_id, uint8_t progress,
                                 uint32_t time_in_session);

/* Fill *ret with a snapshot of the session. */
void wdsmc_mt_server_get_stats(const struct wdsmc_mt_server *s, struct wdsmc_mt_server_stats *ret);

/* Copy at most cap client records (every list) to out; return how many
 * clients there are in all. */
size_t wdsmc_mt_server_get_clients(const struct wdsmc_mt_server *s,
                                   struct wdsmc_mt_client_info *out, size_t cap);

/* "PRESTART", "QCC", "DATA", "CLOSING", "DONE"; "?" otherwise. Static. */
const char *wdsmc_mt_server_state_name(int state);

#ifdef __cplusplus
}
#endif

#endif /* WDSMC_MT_SERVER_H */
