/* SPDX-License-Identifier: MIT */
/*
 * MS-WDSMT client (MS-WDSMT 3.2), sans-I/O, internal.
 *
 * A state machine driven by three inputs and read through one expiry, as in
 * ngtcp2:
 *
 *   wdsmc_mt_client_handle()    a datagram from the server (unicast or group)
 *   wdsmc_mt_client_timeout()   time has passed; fires every due timer
 *   wdsmc_mt_client_deadline()  when to call _timeout() next
 *
 * plus the higher-layer triggers of MS-WDSMT 3.2.4 (_leave(), _cache_done()).
 * It reads no clock (`now` is the caller's monotonic time in ms, which is also
 * the SenderTime of everything it sends, decision 7) and touches no socket:
 * packets leave through the send callback, always meant for the current
 * Server Address. Random back-offs come from a PRNG seeded by the caller, so
 * a run is reproducible.
 *
 * Callbacks and re-entrancy: every callback may call wdsmc_mt_client_leave()
 * or wdsmc_mt_client_cache_done() (and the stats/deadline getters); the
 * machine re-checks its state after each callback and stops processing once
 * leaving. Calling _start(), _handle() or _timeout() from a callback returns
 * -EBUSY. Never free the client inside one of its callbacks.
 *
 * Lifecycle: IDLE --start--> JOIN --JOINACK--> REGULAR --leave/kick/
 * inactivity--> LEAVING --(random delay, LEAVE sent)--> DONE. The done
 * callback runs exactly once, on entering DONE. A DEMOTE passes through
 * LEAVING back to JOIN on the lower session, without DONE.
 */
#ifndef WDSMC_MT_CLIENT_H
#define WDSMC_MT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "wdsmc/codec.h"
#include "wdsmc/error.h"

/* MS-WDSMT 3.2.1.2 defaults (ms). */
#define WDSMC_MT_DEFAULT_INACTIVITY_TIMEOUT 30000
#define WDSMC_MT_DEFAULT_JOIN_INTERVAL      500
#define WDSMC_MT_DEFAULT_MAX_LEAVE_DELAY    200
#define WDSMC_MT_DEFAULT_FORCE_QCC_INTERVAL 20000
/* MS-WDSMA 3.2.1 MaxCacheSize default, our default MaxAppCacheSize. */
#define WDSMC_MT_DEFAULT_MAX_APP_CACHE 2097152
/* Our limits. */
#define WDSMC_MT_DEFAULT_MAX_MISSING 4096 /* ranges in the Missing ODATA List */
#define WDSMC_MT_CLIENT_APP_MAX      8192 /* POLL AppData kept, QCR/POLLACK AppData built */
#define WDSMC_MT_MAX_SID_LEN         68   /* MS-DTYP 2.4.2: 8 + 15 sub-authorities * 4 */

/* Where the session is and how it is secured: from the MS-WDSMSI reply, or
 * from a DEMOTE (MS-WDSMT 3.2.1.1). */
struct wdsmc_mt_session_info {
    uint32_t session_id;
    struct wdsmc_addr mcast_addr; /* Multicast Address */
    uint16_t mcast_port;
    struct wdsmc_addr server_addr; /* Server Address: where every packet goes */
    uint16_t server_port;
    uint8_t server_sec; /* Server Security Mode: WDSMC_SEC_NONE, _HASH, _SIGN
                           or _CHECKSUM; what server packets must carry */
    uint8_t client_sec; /* Client Security Mode: WDSMC_SEC_NONE, _HASH or
                           _CHECKSUM; what we send (a client cannot sign) */
    /* MS-WDSMSI SymKey (HASH either way), SignKey (server SIGN), HashAlgId,
     * HMACAlgId. Read by wdsmc_mt_client_new() only, which copies what the
     * modes need; NULL is fine for NONE and CHECKSUM. Always NULL in the
     * copies the client hands back (_session(), rebind): a DEMOTE keeps the
     * keys (MS-WDSMT 2.2.13), the client holds them. */
    const struct wdsmc_mt_keys *keys;
};

/* What the JOIN says about us (MS-WDSMT 2.2.5, 3.2.5.3). Copied at creation. */
struct wdsmc_mt_join_info {
    const char *name;           /* ClientName, UTF-8, at most 15 characters */
    struct wdsmc_addr local_ip; /* Local Address */
    uint8_t mac[6];
    bool multistream;        /* send CAPABILITIES = {MULTISTREAM} */
    const uint8_t *user_sid; /* USER_SID option when non-NULL (MS-DTYP SID) */
    uint16_t user_sid_len;   /* <= WDSMC_MT_MAX_SID_LEN */
};

/* Protocol parameters (MS-WDSMT 3.2.1.2) and our limits. Fill with
 * wdsmc_mt_client_params_default() and override; a zero interval, timeout or
 * cap means its default (a zero interval would make a timer re-arm itself at
 * the same instant forever). */
struct wdsmc_mt_client_params {
    uint32_t inactivity_timeout; /* ms */
    uint32_t join_interval;      /* ms */
    uint32_t max_leave_delay;    /* ms; 0 is allowed: LEAVE without delay */
    uint32_t force_qcc_interval; /* ms */
    uint64_t max_app_cache;      /* MaxAppCacheSize: the Query Cache Trigger
                                    answer (MS-WDSMT 3.2.5.17); 0 is allowed
                                    and zero-NACKs every payload */
    uint64_t seed;               /* PRNG seed for every random back-off */
    size_t max_missing_ranges;   /* cap of the Missing ODATA List */
};

/* Upward and outward effects. Only `send` and `done` are required. */
struct wdsmc_mt_client_cbs {
    void *ctx;
    /* Send buf[0..len) (borrowed for the call) to the current Server
     * Address. Failures are the caller's business (treated as loss). */
    void (*send)(void *ctx, const uint8_t *buf, size_t len);
    /* DATA trigger (3.2.5.13): the Data of an ODATA/RDATA, borrowed for the
     * call. Returns the bytes the application now holds (0..len), added to
     * CurrentAppCacheSize until handed back with _cache_done(), which may
     * already happen inside this call. NULL: data is dropped. */
    size_t (*data)(void *ctx, const uint8_t *payload, size_t len);
    /* QCC trigger (3.2.5.7.1, 3.2.5.8): write the QCR AppData (MS-WDSMA
     * PROGRESS) into buf[0..cap) and return its length; a negative return or
     * a NULL callback sends the QCR with empty AppData. */
    ssize_t (*qcc)(void *ctx, uint8_t *buf, size_t cap, uint64_t now);
    /* POLL trigger (3.2.5.6.1): `app` (borrowed) is the POLL AppData (MS-WDSMA
     * SRVCIR); write the POLLACK AppData (CNTCIR) into buf[0..cap) and return
     * its length. A negative return or a NULL callback sends no POLLACK. */
    ssize_t (*poll)(void *ctx, const uint8_t *app, size_t app_len, uint8_t *buf, size_t cap,
                    uint64_t now);
    /* After a DEMOTE (3.2.5.16): leave the old group, join `si->mcast_addr`,
     * send to `si->server_addr` from now on. `si` is borrowed for the call.
     * The JOIN to the new server is sent right after this returns. May be
     * NULL (the demotion then happens on the same sockets). */
    void (*rebind)(void *ctx, const struct wdsmc_mt_session_info *si);
    /* Exactly once: 0 after LEAVE(COMPLETE) with err 0, the caller's err for
     * _leave(), -ETIMEDOUT after inactivity, -WDSMC_EKICK_* after a KICK. */
    void (*done)(void *ctx, int err);
};

enum wdsmc_mt_client_state {
    WDSMC_MT_CLIENT_IDLE,    /* created, not started */
    WDSMC_MT_CLIENT_JOIN,    /* JoinState: JOIN sent, waiting for JOINACK */
    WDSMC_MT_CLIENT_REGULAR, /* RegularState */
    WDSMC_MT_CLIENT_LEAVING, /* LEAVE waiting for its random delay */
    WDSMC_MT_CLIENT_DONE,    /* done callback has run */
};

struct wdsmc_mt_client_stats {
    enum wdsmc_mt_client_state state;
    uint32_t session_id;
    uint32_t client_id;         /* 0 until a JOINACK */
    bool master;                /* MasterClientId == ClientId */
    double loss_rate;           /* MS-WDSMT 3.2.5.10 estimate, 0..1 */
    uint64_t hi_seq;            /* HiODATASeqNo */
    uint64_t first_seq;         /* FirstODATASeqNo */
    uint64_t trail_seq;         /* TrailODATASeqNo */
    uint64_t lead_seq;          /* LeadODATASeqNo */
    uint16_t mcrtt;             /* MCRTT from SPM, ms */
    uint64_t app_cache;         /* CurrentAppCacheSize */
    size_t missing_ranges;      /* entries in the Missing ODATA List */
    uint64_t missing_overflows; /* splits skipped at the list's cap */
    /* received */
    uint64_t packets; /* valid packets from the server */
    uint64_t odata, rdata, spm;
    uint64_t bytes_up;      /* payload bytes handed to the data callback */
    uint64_t drop_decode;   /* undecodable (codec error) */
    uint64_t drop_security; /* security type other than the server's mode,
                               or a bad HMAC/signature (auth_failures) */
    uint64_t auth_failures; /* HMAC (HASH) or signature (SIGN) mismatch */
    uint64_t drop_session;  /* another session id */
    uint64_t drop_invalid;  /* JOINACK with ClientId 0, oversized POLL AppData */
    uint64_t ignored;       /* valid but not for this state (3.2.5.1), NCF */
    uint64_t stale;         /* QCC/POLL/SPM sequence number not new */
    uint64_t old_data;      /* ODATA/RDATA below FirstODATASeqNo */
    /* sent */
    uint64_t joins, qcrs, acks, nacks, zero_nacks, pollacks, leaves;
    uint64_t demotes; /* DEMOTEs followed */
};

struct wdsmc_mt_client;

/* Fill *p with the MS-WDSMT 3.2.1.2 defaults, MaxAppCacheSize 2 MiB, seed 0
 * and the default Missing ODATA List cap. */
void wdsmc_mt_client_params_default(struct wdsmc_mt_client_params *p);

/*
 * Create a client in IDLE; nothing is sent until _start(). si, ji, params and
 * cbs are copied (the name and SID bytes too). params NULL: the defaults.
 * Returns 0 and *ret (owned by the caller; release with _free), or
 *   -ENOTSUP  a Client Security Mode of SIGN (MS-WDSMSI 3.1.5.1 never asks a
 *             client to sign), a HashAlgId other than SHA-256 or SHA-1, an
 *             HMACAlgId other than CALG_HMAC
 *   -ENOKEY   HASH without si->keys->sym_key, server SIGN without sign_key
 *   -WDSMC_EKEYBLOB  a malformed SymKey or SignKey blob
 *   -EINVAL   an unknown security mode, a name over 15 characters or not
 *             UTF-8, an address length other than 4 or 16, a SID over
 *             WDSMC_MT_MAX_SID_LEN, no send or done callback
 *   -ENOMEM
 */
int wdsmc_mt_client_new(const struct wdsmc_mt_session_info *si, const struct wdsmc_mt_join_info *ji,
                        const struct wdsmc_mt_client_params *params,
                        const struct wdsmc_mt_client_cbs *cbs, struct wdsmc_mt_client **ret);

/* Release the client; NULL is fine. Sends nothing and calls no callback (use
 * _leave() first for a polite exit). Never from inside a callback. */
void wdsmc_mt_client_free(struct wdsmc_mt_client *c);

/*
 * MS-WDSMT 3.2.3 Initialization and 3.2.5.3: arm the Inactivity Timer, send
 * JOIN, arm the Join Timer. Returns 0, -EALREADY when not IDLE, -EBUSY from a
 * callback.
 */
int wdsmc_mt_client_start(struct wdsmc_mt_client *c, uint64_t now);

/*
 * One datagram from the server (MS-WDSMT 3.2.5.1, 3.2.5.2): decode, check the
 * security type against the Server Security Mode and the SessionId, reset the
 * Inactivity Timer, then process it by state. buf is borrowed for the call.
 * Returns 0 when the packet was valid (processed, or ignored by the rules:
 * wrong state, stale sequence number, NCF...), or the reason it was dropped:
 * a negative codec error (-WDSMC_ECHECKSUM, -WDSMC_EHMAC, -WDSMC_ESIG,
 * -WDSMC_ETRUNC...), -WDSMC_ESECTYPE (security type differs from the
 * server's mode, or its SecurityDataLen from the keys'), -EPROTO
 * (another session's id), -WDSMC_EVALUE (JOINACK with ClientId 0), -EMSGSIZE
 * (POLL AppData over WDSMC_MT_CLIENT_APP_MAX); -EBUSY from a callback. In
 * IDLE, LEAVING and DONE packets are ignored (0).
 */
int wdsmc_mt_client_handle(struct wdsmc_mt_client *c, const uint8_t *buf, size_t len, uint64_t now);

/*
 * Fire every timer due at `now` (each at most once per call, earliest
 * first): Inactivity, Join, Poll, QCC, Force QCC, NACK, and the LEAVE delay.
 * Returns 0, or -EBUSY from a callback.
 */
int wdsmc_mt_client_timeout(struct wdsmc_mt_client *c, uint64_t now);

/* Earliest armed timer (absolute ms), UINT64_MAX when none (IDLE, DONE). */
uint64_t wdsmc_mt_client_deadline(const struct wdsmc_mt_client *c);

/*
 * MS-WDSMT 3.2.5.18 Cache Done Trigger: the application is done with `bytes`
 * it held; CurrentAppCacheSize drops by that much. Returns 0, or -ERANGE when
 * bytes exceeds what is held (the size then drops to 0). Safe from callbacks.
 */
int wdsmc_mt_client_cache_done(struct wdsmc_mt_client *c, uint64_t bytes, uint64_t now);

/*
 * MS-WDSMT 3.2.4 / 3.2.5.4.1 Terminate Trigger: leave with `reason` (enum
 * wdsmc_leave_reason; decision 18: COMPLETE when done, CANCELLED otherwise)
 * and complete with `err` (0 for a completed download, -ECANCELED for a
 * cancel...). Every timer stops; LEAVE is sent after the random delay of
 * 3.2.5.4.3 (from a later _timeout()), then done(err) runs. Without a
 * ClientId there is no LEAVE (decision 18) and done(err) runs at the next
 * _timeout(), immediately due. To leave without waiting, call
 * _timeout(c, _deadline(c)) afterwards. Called during a DEMOTE's delay it
 * replaces the demotion. Never calls a callback itself, so it is safe from
 * any callback. Returns 0, -EALREADY when already leaving or done, -EINVAL
 * for a reason over 2.
 */
int wdsmc_mt_client_leave(struct wdsmc_mt_client *c, uint8_t reason, int err, uint64_t now);

/* Counters and state, copied into *ret. */
void wdsmc_mt_client_stats(const struct wdsmc_mt_client *c, struct wdsmc_mt_client_stats *ret);

/* Current session info (changes after a DEMOTE); borrowed, valid until the
 * next call that may process a DEMOTE. */
const struct wdsmc_mt_session_info *wdsmc_mt_client_session(const struct wdsmc_mt_client *c);

#endif /* WDSMC_MT_CLIENT_H */
