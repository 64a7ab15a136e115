/* SPDX-License-Identifier: MIT */
/*
 * The simulation's scenarios and command line.
 *
 *   sim --scenario NAME [--seed N] [-v]   run one scenario (replay with a seed)
 *   sim --soak N [--seed BASE] [-v]       N random configurations, seeds BASE..
 *   sim --list                            the scenario names
 *   sim --bug --scenario NAME             a scenario that shows a known bug
 *
 * Every run prints "sim: seed=N ..." and, on failure, the command that
 * replays it. Exit status: 0 pass, 1 fail, 2 usage.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"
#include "wdsmc/codec.h"

#define KIB 1024u

static uint32_t trace_client; /* --trace N: 1 + N */
static uint8_t sim_security;  /* --security hash|sign; 0: CHECKSUM */

struct scenario {
    const char *name;
    const char *what;
    uint64_t seed; /* default seed */
    bool bug;      /* shows a known bug: only with --bug */
    /* Run it; returns true on success. */
    bool (*run)(const struct scenario *sc, uint64_t seed, int verbose);
};

static double real_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A link with `loss` both ways and a small base latency. */
static struct sim_link link_lossy(double loss, uint32_t latency)
{
    return (struct sim_link){.loss_down = loss, .loss_up = loss, .latency_ms = latency};
}

static void config_init(struct sim_config *cfg, const struct scenario *sc, uint64_t seed,
                        int verbose, uint32_t nclients, uint64_t size, uint32_t block_size,
                        uint64_t time_limit)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->name = sc->name;
    cfg->seed = seed;
    cfg->verbose = verbose;
    cfg->nclients = nclients;
    cfg->content_size = size;
    cfg->block_size = block_size;
    cfg->time_limit = time_limit;
    cfg->trace = trace_client;
    cfg->security = sim_security;
    for (uint32_t i = 0; i < nclients; i++) {
        cfg->clients[i].link = link_lossy(0, 2);
        cfg->clients[i].expect_complete = true;
    }
}

static uint64_t last_complete(const struct sim_config *cfg, const struct sim_result *res,
                              bool (*pick)(const struct sim_config *, uint32_t))
{
    uint64_t t = 0;

    for (uint32_t i = 0; i < cfg->nclients; i++) {
        if (pick && !pick(cfg, i))
            continue;
        if (res->complete_at[i] != SIM_NEVER && res->complete_at[i] > t)
            t = res->complete_at[i];
    }
    return t;
}

/* Run one configuration and print its line. */
static bool run_config(const struct sim_config *cfg, struct sim_result *res)
{
    double t0 = real_ms();
    bool ok = sim_run(cfg, res);
    double dt = real_ms() - t0;

    printf("sim: seed=%" PRIu64 " scenario=%s clients=%u size=%" PRIu64 " block=%u %s"
           " last_complete=%" PRIu64 "ms end=%" PRIu64 "ms real=%.0fms events=%" PRIu64
           " odata=%" PRIu64 " rdata=%" PRIu64 " ma_rounds=%" PRIu64 " switches=%" PRIu64
           " sent=%" PRIu64 " lost=%" PRIu64 "\n",
           cfg->seed, cfg->name, cfg->nclients, cfg->content_size, cfg->block_size,
           ok ? "ok" : "FAIL", last_complete(cfg, res, NULL), res->end_time, dt, res->events,
           res->odata, res->rdata, res->ma_rounds, res->master_switches, res->datagrams_sent,
           res->datagrams_lost);
    if (!ok)
        printf("sim: seed=%" PRIu64 " scenario=%s FAILED: %s\n", cfg->seed, cfg->name, res->why);
    fflush(stdout);
    return ok;
}

static bool check(const struct sim_config *cfg, bool cond, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static bool check(const struct sim_config *cfg, bool cond, const char *fmt, ...)
{
    va_list ap;

    if (cond)
        return true;
    printf("sim: seed=%" PRIu64 " scenario=%s FAILED: ", cfg->seed, cfg->name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    return false;
}

/* ------------------------------------------------------------------------ */
/* Scenarios                                                                 */
/* ------------------------------------------------------------------------ */

static struct sim_config cfg_buf, cfg_buf2;
static struct sim_result res_buf, res_buf2;

static bool sc_one_client_lossless(const struct scenario *sc, uint64_t seed, int verbose)
{
    struct sim_config *cfg = &cfg_buf;

    /* 1 MiB - 123: the last block is short. */
    config_init(cfg, sc, seed, verbose, 1, 1024 * KIB - 123, 1024, 10000);
    if (!run_config(cfg, &res_buf))
        return false;
    /* Lossless: one round, no repair. */
    return check(cfg, res_buf.rdata == 0 && res_buf.odata == 1024,
                 "lossless run sent %" PRIu64 " ODATA and %" PRIu64 " RDATA for 1024 blocks",
                 res_buf.odata, res_buf.rdata);
}

static bool sc_late_joiner(const struct scenario *sc, uint64_t seed, int verbose)
{
    struct sim_config *cfg = &cfg_buf;

    config_init(cfg, sc, seed, verbose, 3, 1024 * KIB, 1024, 30000);
    for (uint32_t i = 0; i < 3; i++)
        cfg->clients[i].link = link_lossy(0.01, 2 + i);
    cfg->clients[2].start_after_odata = 1024 / 3;
    if (!run_config(cfg, &res_buf))
        return false;
    /* The late joiner got the tail first, then the head in a later round. */
    return check(cfg, res_buf.ma_rounds >= 2, "only %" PRIu64 " query rounds", res_buf.ma_rounds);
}

static bool sc_mixed_loss_20(const struct scenario *sc, uint64_t seed, int verbose)
{
    static const double loss[4] = {0, 0.01, 0.05, 0.20};
    struct sim_config *cfg = &cfg_buf;

    /* With 20% loss both ways some clients lose every QCR answering their
     * JOINACKs; they join through their next packet (decisions 41, 42). The
     * suite runs seeds 1..20. */
    config_init(cfg, sc, seed, verbose, 20, 512 * KIB, 1024, 60000);
    for (uint32_t i = 0; i < 20; i++)
        cfg->clients[i].link = link_lossy(loss[i % 4], 1 + i % 5);
    return run_config(cfg, &res_buf);
}

static bool sc_clients_200_loss_1(const struct scenario *sc, uint64_t seed, int verbose)
{
    struct sim_config *cfg = &cfg_buf;

    config_init(cfg, sc, seed, verbose, 200, 256 * KIB, 1024, 60000);
    for (uint32_t i = 0; i < 200; i++) {
        cfg->clients[i].link = link_lossy(0.01, 1 + i % 7);
        /* They do not all arrive at the same instant. */
        cfg->clients[i].start_at = i * 5;
    }
    return run_config(cfg, &res_buf);
}

static bool sc_dup_reorder(const struct scenario *sc, uint64_t seed, int verbose)
{
    struct sim_config *cfg = &cfg_buf;

    config_init(cfg, sc, seed, verbose, 10, 512 * KIB, 1024, 30000);
    for (uint32_t i = 0; i < 10; i++) {
        struct sim_link *l = &cfg->clients[i].link;

        *l = link_lossy(0.01, 2 + i % 3);
        l->dup = 0.10;
        l->reorder = 0.20;
        l->reorder_ms = 30;
    }
    return run_config(cfg, &res_buf);
}

static bool is_fast(const struct sim_config *cfg, uint32_t i)
{
    return cfg->clients[i].drain_rate == 0;
}

static bool sc_slow_consumer(const struct scenario *sc, uint64_t seed, int verbose)
{
    struct sim_config *base = &cfg_buf2, *cfg = &cfg_buf;
    uint64_t t_base, t_fast;

    /* Baseline: eight fast clients. */
    config_init(base, sc, seed, verbose, 8, 1024 * KIB, 1024, 30000);
    for (uint32_t i = 0; i < 8; i++)
        base->clients[i].link = link_lossy(0.01, 2 + i % 3);
    *cfg = *base;
    if (!run_config(base, &res_buf2))
        return false;
    /* The same with client 3 a slow consumer: a 64 KiB cache drained at
     * 200 bytes per ms (5 s for the content), so it zero-NACKs most of what
     * it is sent. */
    cfg->clients[3].drain_rate = 200;
    cfg->clients[3].max_cache = 64 * KIB;
    cfg->time_limit = 60000;
    if (!run_config(cfg, &res_buf))
        return false;
    t_base = last_complete(base, &res_buf2, is_fast);
    t_fast = last_complete(cfg, &res_buf, is_fast);
    printf("sim: seed=%" PRIu64 " scenario=%s fast clients done at %" PRIu64 " ms, %" PRIu64
           " ms without the slow consumer; slow one at %" PRIu64 " ms\n",
           seed, sc->name, t_fast, t_base, res_buf.complete_at[3]);
    return check(cfg, t_fast <= t_base + t_base / 2 + 200,
                 "fast clients took %" PRIu64 " ms with a slow consumer, %" PRIu64 " ms without",
                 t_fast, t_base);
}

/* The same with the slow consumer as the master (it has the highest RTT):
 * its cache being full must not hold back the window. */
static bool sc_slow_master(const struct scenario *sc, uint64_t seed, int verbose)
{
    struct sim_config *base = &cfg_buf2, *cfg = &cfg_buf;
    uint64_t t_base, t_fast;

    config_init(base, sc, seed, verbose, 8, 1024 * KIB, 1024, 30000);
    for (uint32_t i = 0; i < 8; i++)
        base->clients[i].link = link_lossy(0.01, 2 + i % 3);
    base->clients[3].link.latency_ms = 15;
    *cfg = *base;
    if (!run_config(base, &res_buf2))
        return false;
    cfg->clients[3].drain_rate = 200;
    cfg->clients[3].max_cache = 64 * KIB;
    cfg->time_limit = 60000;
    if (!run_config(cfg, &res_buf))
        return false;
    t_base = last_complete(base, &res_buf2, is_fast);
    t_fast = last_complete(cfg, &res_buf, is_fast);
    printf("sim: seed=%" PRIu64 " scenario=%s fast clients done at %" PRIu64 " ms, %" PRIu64
           " ms without the slow consumer; slow one at %" PRIu64 " ms\n",
           seed, sc->name, t_fast, t_base, res_buf.complete_at[3]);
    return check(cfg, t_fast <= t_base + t_base / 2 + 200,
                 "fast clients took %" PRIu64 " ms with a slow master, %" PRIu64 " ms without",
                 t_fast, t_base);
}

static bool sc_master_vanishes(const struct scenario *sc, uint64_t seed, int verbose)
{
    struct sim_config *cfg = &cfg_buf;

    config_init(cfg, sc, seed, verbose, 10, 1024 * KIB, 1024, 60000);
    for (uint32_t i = 0; i < 10; i++)
        cfg->clients[i].link = link_lossy(0.01, 2 + i % 3);
    /* A third of the way through, whoever is the master vanishes. */
    cfg->kill_master_after_odata = 1024 / 3;
    if (!run_config(cfg, &res_buf))
        return false;
    if (!check(cfg, res_buf.killed >= 0, "no master to kill"))
        return false;
    printf("sim: seed=%" PRIu64 " scenario=%s client %d (the master) vanished\n", seed, sc->name,
           res_buf.killed);
    return check(cfg, res_buf.complete_at[res_buf.killed] == SIM_NEVER,
                 "the vanished master completed anyway");
}

static bool sc_outage_recovery(const struct scenario *sc, uint64_t seed, int verbose)
{
    struct sim_config *cfg = &cfg_buf;

    config_init(cfg, sc, seed, verbose, 5, 2048 * KIB, 1024, 60000);
    for (uint32_t i = 0; i < 5; i++)
        cfg->clients[i].link = link_lossy(0.01, 2 + i);
    /* Client 1 loses everything for 3 s early in the transfer. */
    cfg->clients[1].link.outage_from = 300;
    cfg->clients[1].link.outage_to = 3300;
    return run_config(cfg, &res_buf);
}

/* Formerly bug 1: client 1's JOIN gets through and it receives the JOINACK,
 * but its uplink is cut for the next 2 s, so all MaxJoinAckSends JOINACKs go
 * unanswered. The server used to forget it, leaving it in RegularState with a
 * ClientId nobody knew, never completing, never failing. Now its pending
 * entry outlives the retries (decision 42) and its first QCR or NACK after
 * the outage makes it active (decision 41). */
static bool sc_joinack_qcrs_lost(const struct scenario *sc, uint64_t seed, int verbose)
{
    struct sim_config *cfg = &cfg_buf;

    config_init(cfg, sc, seed, verbose, 2, 256 * KIB, 1024, 60000);
    cfg->clients[1].link.loss_down = 0.05;
    cfg->clients[1].link.outage_from = 3;
    cfg->clients[1].link.outage_to = 2000;
    cfg->clients[1].link.outage_up_only = true;
    return run_config(cfg, &res_buf);
}

/* Formerly bug 2: the MS-WDSMA Query Timer was PollBackOff (200 ms) whatever
 * the RTT, so with 120 ms one-way latency no report arrived in time and no
 * data was ever sent. The timer now adds the RTT (decision 44). */
static bool sc_high_latency(const struct scenario *sc, uint64_t seed, int verbose)
{
    struct sim_config *cfg = &cfg_buf;

    config_init(cfg, sc, seed, verbose, 3, 256 * KIB, 1024, 60000);
    for (uint32_t i = 0; i < 3; i++)
        cfg->clients[i].link = link_lossy(0, 120);
    return run_config(cfg, &res_buf);
}

/* The same at 40-58 ms one-way, ten clients, 1% loss. */
static bool sc_wan_latency(const struct scenario *sc, uint64_t seed, int verbose)
{
    struct sim_config *cfg = &cfg_buf;

    config_init(cfg, sc, seed, verbose, 10, 512 * KIB, 1024, 60000);
    for (uint32_t i = 0; i < 10; i++)
        cfg->clients[i].link = link_lossy(0.01, 40 + 2 * i);
    return run_config(cfg, &res_buf);
}

/* A random configuration from `seed`. */
static void random_config(struct sim_config *cfg, const struct scenario *sc, uint64_t seed,
                          int verbose)
{
    struct sim_rng r = {.s = seed ^ 0x5157AB1E5EEDULL};
    uint32_t n = (uint32_t)sim_rng_between(&r, 1, 40);
    uint32_t block = (uint32_t)sim_rng_between(&r, 256, 4096);
    uint64_t blocks = sim_rng_between(&r, 16, 1500);
    uint64_t size = blocks * block - sim_rng_between(&r, 0, block - 1);

    config_init(cfg, sc, seed, verbose, n, size, block, 300000);
    for (uint32_t i = 0; i < n; i++) {
        struct sim_client_spec *cs = &cfg->clients[i];
        struct sim_link *l = &cs->link;
        double loss = sim_rng_unit(&r) < 0.3 ? 0 : sim_rng_unit(&r) * 0.2;

        *l = link_lossy(loss, (uint32_t)sim_rng_between(&r, 1, 20));
        l->loss_up = sim_rng_unit(&r) < 0.5 ? loss : sim_rng_unit(&r) * 0.1;
        if (sim_rng_unit(&r) < 0.3)
            l->dup = sim_rng_unit(&r) * 0.1;
        if (sim_rng_unit(&r) < 0.3) {
            l->reorder = sim_rng_unit(&r) * 0.3;
            l->reorder_ms = (uint32_t)sim_rng_between(&r, 1, 50);
        }
        if (sim_rng_unit(&r) < 0.2)
            cs->start_at = sim_rng_between(&r, 0, 5000);
        if (sim_rng_unit(&r) < 0.1) {
            l->outage_from = sim_rng_between(&r, 0, 3000);
            l->outage_to = l->outage_from + sim_rng_between(&r, 100, 5000);
        }
        if (sim_rng_unit(&r) < 0.1) {
            cs->drain_rate = (uint32_t)sim_rng_between(&r, 50, 2000);
            cs->max_cache = sim_rng_between(&r, 16, 256) * KIB;
        }
        if (i > 0 && sim_rng_unit(&r) < 0.05) {
            l->dead_at = sim_rng_between(&r, 1, 3000);
            cs->expect_complete = false;
        }
    }
}

static bool sc_random(const struct scenario *sc, uint64_t seed, int verbose)
{
    random_config(&cfg_buf, sc, seed, verbose);
    return run_config(&cfg_buf, &res_buf);
}

static const struct scenario scenarios[] = {
        {"one_client_lossless", "1 client, lossless link", 1, false, sc_one_client_lossless},
        {"late_joiner", "3 clients, one joining after a third of the data", 1, false,
         sc_late_joiner},
        {"mixed_loss_20", "20 clients, per-link loss 0/1/5/20%", 1, false, sc_mixed_loss_20},
        {"clients_200_loss_1", "200 clients, 1% loss, 256 blocks", 1, false, sc_clients_200_loss_1},
        {"dup_reorder", "10 clients, 10% duplication, 20% reordering, 1% loss", 1, false,
         sc_dup_reorder},
        {"slow_consumer", "a slow consumer does not slow the fast clients", 1, false,
         sc_slow_consumer},
        {"slow_master", "the slow consumer is the master; the fast clients do not wait", 1, false,
         sc_slow_master},
        {"master_vanishes", "the master's links die mid-transfer; the rest complete", 1, false,
         sc_master_vanishes},
        {"outage_recovery", "one client loses everything for 3 s, then recovers", 1, false,
         sc_outage_recovery},
        {"wan_latency", "10 clients at 40-58 ms one-way latency, 1% loss", 1, false,
         sc_wan_latency},
        {"random", "one random configuration (what --soak runs)", 1, false, sc_random},
        {"joinack_qcrs_lost", "a client whose answers to JOINACK are all lost still joins", 1,
         false, sc_joinack_qcrs_lost},
        {"high_latency", "3 clients at 120 ms one-way latency: reports beat the Query Timer", 1,
         false, sc_high_latency},
};

#define NSCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

static const struct scenario *find_scenario(const char *name)
{
    for (size_t i = 0; i < NSCENARIOS; i++) {
        if (strcmp(scenarios[i].name, name) == 0)
            return &scenarios[i];
    }
    return NULL;
}

static int usage(void)
{
    fprintf(stderr, "usage: sim --scenario NAME [--seed N] [-v] [--trace CLIENT] [--bug]\n"
                    "           [--security hash|sign]\n"
                    "       sim --soak N [--seed BASE] [--strict] [-v]\n"
                    "       sim --list\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *name = NULL;
    uint64_t seed = 0, soak = 0;
    bool have_seed = false;
    bool bug = false;
    int verbose = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--scenario") == 0 && i + 1 < argc) {
            name = argv[++i];
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 0);
            have_seed = true;
        } else if (strcmp(argv[i], "--soak") == 0 && i + 1 < argc) {
            soak = strtoull(argv[++i], NULL, 0);
        } else if (strcmp(argv[i], "--trace") == 0 && i + 1 < argc) {
            trace_client = (uint32_t)strtoul(argv[++i], NULL, 0) + 1;
        } else if (strcmp(argv[i], "--security") == 0 && i + 1 < argc) {
            i++;
            if (strcmp(argv[i], "hash") == 0)
                sim_security = WDSMC_SEC_HASH;
            else if (strcmp(argv[i], "sign") == 0)
                sim_security = WDSMC_SEC_SIGN;
            else
                return usage();
        } else if (strcmp(argv[i], "--strict") == 0) {
            /* Every soak failure counts now; accepted for old command lines. */
        } else if (strcmp(argv[i], "--bug") == 0) {
            bug = true;
        } else if (strcmp(argv[i], "-v") == 0) {
            verbose++;
        } else if (strcmp(argv[i], "--list") == 0) {
            for (size_t j = 0; j < NSCENARIOS; j++)
                printf("%-22s %s%s\n", scenarios[j].name, scenarios[j].bug ? "[--bug] " : "",
                       scenarios[j].what);
            return 0;
        } else {
            return usage();
        }
    }

    if (soak) {
        const struct scenario *sc = find_scenario("random");

        if (!have_seed)
            seed = 1;
        uint64_t failed = 0;

        for (uint64_t i = 0; i < soak; i++) {
            if (sc->run(sc, seed + i, verbose))
                continue;
            failed++;
            printf("sim: replay: sim --scenario random --seed %" PRIu64 " -v\n", seed + i);
        }
        printf("sim: soak %" PRIu64 " runs, %" PRIu64 " failed\n", soak, failed);
        return failed ? 1 : 0;
    }
    if (!name)
        return usage();
    const struct scenario *sc = find_scenario(name);
    if (!sc) {
        fprintf(stderr, "sim: no scenario %s (see --list)\n", name);
        return 2;
    }
    if (sc->bug && !bug) {
        printf("sim: %s shows a known bug; run it with --bug\n", sc->name);
        return 77;
    }
    if (!have_seed)
        seed = sc->seed;
    if (!sc->run(sc, seed, verbose)) {
        printf("sim: replay: sim --scenario %s --seed %" PRIu64 "%s -v\n", sc->name, seed,
               sc->bug ? " --bug" : "");
        return 1;
    }
    return 0;
}
