/* SPDX-License-Identifier: MIT */
/*
 * tests/sim: a deterministic, in-process network simulation of one MS-WDSMT /
 * MS-WDSMA server and up to 200 clients, driven by the real sans-I/O state
 * machines over simulated lossy links on virtual time.
 *
 * The server-side glue (sim_server.c) and the client-side glue (sim_client.c)
 * live in separate files so that each includes only its side's machine
 * headers; this header is all they share with the network core (sim_net.c)
 * and the scenarios (sim_main.c). Nodes are named by index: the server never
 * sees a client index, only the fake endpoint 10.0.x.y:port the glue derives
 * from it.
 */
#ifndef WDSMC_SIM_H
#define WDSMC_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Virtual time starts here, never at 0 (a ServerTime of 0 means "voluntary
 * QCR", DESIGN.md decision 10). Times in configurations are relative to it. */
#define SIM_T0 1000

#define SIM_MAX_CLIENTS 200
#define SIM_NEVER       UINT64_MAX

/* ------------------------------------------------------------------------ */
/* PRNG (splitmix64): one stream per run, seeded from the run's seed, so a    */
/* run replays exactly.                                                       */
/* ------------------------------------------------------------------------ */

struct sim_rng {
    uint64_t s;
};

uint64_t sim_rng_next(struct sim_rng *r);
/* Uniform in [0, 1). */
double sim_rng_unit(struct sim_rng *r);
/* Uniform in [lo, hi]. */
uint64_t sim_rng_between(struct sim_rng *r, uint64_t lo, uint64_t hi);

/* ------------------------------------------------------------------------ */
/* Configuration of one run                                                  */
/* ------------------------------------------------------------------------ */

/* One client's link to the server. Probabilities are in [0, 1]. */
struct sim_link {
    double loss_down;    /* server -> client (multicast and unicast) */
    double loss_up;      /* client -> server */
    double dup;          /* a datagram is delivered twice */
    double reorder;      /* a datagram gets an extra random delay ... */
    uint32_t reorder_ms; /* ... of up to this many ms */
    uint32_t latency_ms; /* one-way base latency */
    /* Relative virtual times: [outage_from, outage_to) loses everything both
     * ways; from dead_at on the link is gone for good (0: never). */
    uint64_t outage_from, outage_to;
    bool outage_up_only; /* the outage loses client -> server only */
    uint64_t dead_at;
};

struct sim_client_spec {
    struct sim_link link;
    uint64_t start_at;          /* relative ms */
    uint64_t start_after_odata; /* or: once the server sent this many ODATA */
    uint32_t drain_rate;        /* slow consumer: bytes completed per ms; 0 = at once */
    uint64_t max_cache;         /* MaxAppCacheSize; 0 = the default 2 MiB */
    bool expect_complete;       /* must finish bit-exact within the time limit */
};

/* Server protocol parameters overridden by a scenario; 0 = spec default. */
struct sim_server_tuning {
    uint32_t client_dead_timeout;
    uint32_t qcc_interval;
    uint32_t max_window_size;
    uint32_t exp_max_window_size;
};

struct sim_config {
    const char *name;
    uint64_t seed;
    uint32_t nclients;
    struct sim_client_spec clients[SIM_MAX_CLIENTS];
    uint64_t content_size;
    uint32_t block_size;
    uint64_t time_limit; /* relative virtual ms by which every expected
                            client must have completed */
    struct sim_server_tuning tuning;
    /* Once the server has sent this many ODATA, the client that is the
     * master then loses its links for good and need not complete (0: off). */
    uint64_t kill_master_after_odata;
    int verbose;
    uint32_t trace; /* 1 + index of a client whose datagrams are printed */
    /* --security: WDSMC_SEC_HASH (HASH both ways) or WDSMC_SEC_SIGN (server
     * SIGN, clients HASH) with the keys of tests/unit/mtsec_vectors.h;
     * 0 is CHECKSUM both ways, the default. */
    uint8_t security;
};

/* What a run produced. Times are relative to SIM_T0. */
struct sim_result {
    bool ok;
    char why[2048];
    uint64_t end_time;
    uint64_t complete_at[SIM_MAX_CLIENTS]; /* SIM_NEVER if not complete */
    int done_err[SIM_MAX_CLIENTS];
    bool done[SIM_MAX_CLIENTS];
    bool master[SIM_MAX_CLIENTS]; /* the client last saw itself as master */
    int32_t killed;               /* the client kill_master_after_odata cut, or -1 */
    uint64_t events;
    uint64_t datagrams_sent, datagrams_lost, datagrams_delivered;
    uint64_t odata, rdata, ma_rounds, master_switches;
    /* Clients stuck in RegularState with a ClientId the server does not
     * know and never told them about: formerly bug 1, now a regression of
     * doc/decisions.md 41-43. Counted for the failure message. */
    uint32_t orphans;
    uint32_t failures;  /* reasons recorded in `why` */
    uint32_t explained; /* of which: orphans, and the time limit they hit */
};

/* Run one simulation; fills *res. Returns res->ok. */
bool sim_run(const struct sim_config *cfg, struct sim_result *res);

/* ------------------------------------------------------------------------ */
/* Server glue (sim_server.c)                                                 */
/* ------------------------------------------------------------------------ */

struct sim_server;

struct sim_server_ops {
    void *ctx;
    void (*mcast)(void *ctx, const uint8_t *buf, size_t len);
    void (*ucast)(void *ctx, uint32_t client, const uint8_t *buf, size_t len);
};

struct sim_server_cfg {
    uint32_t session_id;
    uint64_t seed;
    const uint8_t *content; /* borrowed for the server's lifetime */
    uint64_t content_size;
    uint32_t block_size;
    struct sim_server_tuning tuning;
    uint8_t security; /* as in sim_config */
};

/* Counters the core checks and prints. */
struct sim_server_info {
    const char *state;
    int terminated; /* 1 when the MT server terminated */
    int term_err;
    uint64_t odata, rdata, spm, ncf, qcc, poll;
    uint64_t rx_ok, rx_dropped, rx_malformed; /* malformed: codec errors */
    uint64_t master_switches;
    uint32_t master_id;
    uint32_t window;
    uint32_t clients_active, clients_pending;
    uint64_t joined, left;
    uint64_t ma_rounds, ma_data_rounds, ma_bad_payloads, ma_reports_dropped;
};

int sim_server_new(const struct sim_server_cfg *cfg, const struct sim_server_ops *ops, uint64_t now,
                   struct sim_server **ret);
void sim_server_free(struct sim_server *s);
/* A datagram from client `client`. Returns the MT server's verdict. */
int sim_server_handle(struct sim_server *s, uint32_t client, const uint8_t *buf, size_t len,
                      uint64_t now);
void sim_server_timeout(struct sim_server *s, uint64_t now);
uint64_t sim_server_deadline(const struct sim_server *s);
void sim_server_info(const struct sim_server *s, struct sim_server_info *ret);
/* Whether ClientId `client_id` is on any of the server's client lists. */
bool sim_server_knows(const struct sim_server *s, uint32_t client_id);

/* ------------------------------------------------------------------------ */
/* Client glue (sim_client.c)                                                 */
/* ------------------------------------------------------------------------ */

struct sim_client;

struct sim_client_ops {
    void *ctx;
    void (*send)(void *ctx, uint32_t client, const uint8_t *buf, size_t len);
};

struct sim_client_cfg {
    uint32_t index;
    uint32_t session_id;
    uint64_t seed;
    uint64_t content_size;
    uint32_t block_size;
    uint64_t max_cache;
    uint32_t drain_rate;
    uint8_t security; /* as in sim_config */
};

struct sim_client_info {
    const char *state;
    bool complete;
    uint64_t complete_at; /* absolute; SIM_NEVER */
    bool done;
    int err;
    uint64_t done_at;
    uint32_t client_id;
    bool master;
    uint64_t received_blocks, total_blocks;
    uint64_t rx_bad; /* datagrams the MT client refused */
    uint64_t odata, rdata, nacks, zero_nacks, acks, duplicates, held;
    double loss_rate;
};

int sim_client_new(const struct sim_client_cfg *cfg, const struct sim_client_ops *ops,
                   struct sim_client **ret);
void sim_client_free(struct sim_client *c);
int sim_client_start(struct sim_client *c, uint64_t now);
/* Whether the MS-WDSMT session has ended (done callback ran). */
bool sim_client_done(const struct sim_client *c);
/* Whether the client takes datagrams from the group (started, not done). */
bool sim_client_listening(const struct sim_client *c);
int sim_client_handle(struct sim_client *c, const uint8_t *buf, size_t len, uint64_t now);
void sim_client_timeout(struct sim_client *c, uint64_t now);
uint64_t sim_client_deadline(const struct sim_client *c);
void sim_client_info(const struct sim_client *c, struct sim_client_info *ret);
/* The client's copy of the content (borrowed). */
const uint8_t *sim_client_buffer(const struct sim_client *c);

#endif /* WDSMC_SIM_H */
