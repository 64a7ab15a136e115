/* SPDX-License-Identifier: MIT */
/*
 * wdsmc-dump: decode WDS multicast datagrams and print them field by field.
 *
 *   wdsmc-dump [--verify] [--family mt|ma|msi] FILE...
 *
 * Each FILE holds one datagram (as saved from a capture, or the golden
 * vectors of tests/golden). The family is guessed when not given: "WD" starts
 * an MS-WDSMT packet, a REQUEST/REPLY opcode with a plausible option count an
 * MS-WDSMSI one, anything else is tried as MS-WDSMA. --verify re-encodes each
 * decoded packet and fails unless it gives the same bytes back.
 * Exit status: 0 all decoded (and verified), 1 otherwise, 2 usage.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wdsmc/codec.h"

static void print_addr(const char *label, const struct wdsmc_addr *a)
{
    printf("  %-18s", label);
    if (a->len == 4)
        printf("%u.%u.%u.%u\n", a->bytes[0], a->bytes[1], a->bytes[2], a->bytes[3]);
    else
        for (int i = 0; i < 16; i += 2)
            printf("%02x%02x%s", a->bytes[i], a->bytes[i + 1], i == 14 ? "\n" : ":");
}

static void print_app(const char *label, const uint8_t *app, size_t len)
{
    struct wdsmc_ma_pkt ma;

    printf("  %-18s%zu bytes", label, len);
    if (len && wdsmc_ma_decode(app, len, &ma) > 0) {
        static const char *names[] = {"?", "SRVCIR", "CNTCIR", "DATA", "PROGRESS"};
        printf(" (MS-WDSMA %s", names[ma.opcode <= 4 ? ma.opcode : 0]);
        if (ma.opcode == WDSMC_MA_DATA)
            printf(" block %" PRIu64 ", %u bytes", ma.u.data.block, ma.u.data.data_len);
        else if (ma.opcode == WDSMC_MA_PROGRESS)
            printf(" %u%%, %" PRIu32 " s", ma.u.progress.progress, ma.u.progress.time_in_session);
        else if (ma.opcode == WDSMC_MA_CNTCIR)
            printf(" %u%%, %" PRIu32 " s, %u ranges", ma.u.cntcir.progress,
                   ma.u.cntcir.time_in_session, ma.u.cntcir.range_count);
        printf(")");
    }
    printf("\n");
}

#define F(label, fmt, v) printf("  %-18s%" fmt "\n", label, v)

static void print_mt(const struct wdsmc_mt_pkt *p)
{
    static const char *sec[] = {"NONE", "HASH", "SIGN", "CHECKSUM"};
    printf("MS-WDSMT %s\n", wdsmc_mt_op_name(p->opcode));
    F("security", "s", p->sec_type <= 3 ? sec[p->sec_type] : "?");
    F("SessionId", "#" PRIx32, p->session_id);
    F("SenderTime", PRIu64, p->sender_time);
    switch (p->opcode) {
    case WDSMC_MT_SPM:
        F("SPMSeqNo", PRIu64, p->u.spm.spm_seq);
        F("MasterClientId", PRIu32, p->u.spm.master_client_id);
        F("MinNACKBackOff", "u", p->u.spm.min_nack_backoff);
        F("MaxNACKBackOff", "u", p->u.spm.max_nack_backoff);
        F("TrailODATASeqNo", PRIu64, p->u.spm.trail_seq);
        F("LeadODATASeqNo", PRIu64, p->u.spm.lead_seq);
        F("RTT", "u", p->u.spm.rtt);
        break;
    case WDSMC_MT_JOIN:
        F("ClientName", "s", p->u.join.client_name);
        print_addr("IPAddress", &p->u.join.ip);
        printf("  %-18s%02x:%02x:%02x:%02x:%02x:%02x\n", "MacAddress", p->u.join.mac[0],
               p->u.join.mac[1], p->u.join.mac[2], p->u.join.mac[3], p->u.join.mac[4],
               p->u.join.mac[5]);
        break;
    case WDSMC_MT_JOINACK:
        F("ClientId", PRIu32, p->u.joinack.client_id);
        F("MinNACKBackOff", "u", p->u.joinack.min_nack_backoff);
        F("MaxNACKBackOff", "u", p->u.joinack.max_nack_backoff);
        F("RTT", "u", p->u.joinack.rtt);
        F("ClientTime", PRIu64, p->u.joinack.client_time);
        break;
    case WDSMC_MT_QCC:
        F("QCCSeqNo", PRIu64, p->u.qcc.qcc_seq);
        F("QCRBackOff", "u", p->u.qcc.qcr_backoff);
        break;
    case WDSMC_MT_QCR:
        F("ClientId", PRIu32, p->u.qcr.client_id);
        F("QCCSeqNo", PRIu64, p->u.qcr.qcc_seq);
        F("BackOff", "u", p->u.qcr.backoff);
        F("ServerTime", PRIu64, p->u.qcr.server_time);
        F("HiODATASeqNo", PRIu64, p->u.qcr.hi_seq);
        F("LossRate", PRIu64, p->u.qcr.loss_rate);
        print_app("AppData", p->u.qcr.app, p->u.qcr.app_len);
        break;
    case WDSMC_MT_ODATA:
    case WDSMC_MT_RDATA:
        F("ClientId", PRIu32, p->u.data.client_id);
        F("ODATASeqNo", PRIu64, p->u.data.seq);
        F("TrailODATASeqNo", PRIu64, p->u.data.trail_seq);
        print_app("Data", p->u.data.data, p->u.data.data_len);
        break;
    case WDSMC_MT_ACK:
        F("ClientId", PRIu32, p->u.ack.client_id);
        F("ODATASeqNo", PRIu64, p->u.ack.odata_seq);
        F("ServerTime", PRIu64, p->u.ack.server_time);
        F("HiODATASeqNo", PRIu64, p->u.ack.hi_seq);
        F("LossRate", PRIu64, p->u.ack.loss_rate);
        break;
    case WDSMC_MT_NACK:
    case WDSMC_MT_NCF: {
        const struct wdsmc_mt_ranges *r = p->opcode == WDSMC_MT_NACK ? &p->u.nack.list : &p->u.ncf;
        if (p->opcode == WDSMC_MT_NACK) {
            F("ClientId", PRIu32, p->u.nack.client_id);
            F("HiODATASeqNo", PRIu64, p->u.nack.hi_seq);
            F("LossRate", PRIu64, p->u.nack.loss_rate);
        }
        F("RangeCount", "u", r->count);
        for (size_t i = 0; i < r->count; i++) {
            struct wdsmc_range g = wdsmc_mt_range_get(r, i);
            printf("  %-18s%" PRIu64 "-%" PRIu64 "\n", "", g.start, g.end);
        }
        break;
    }
    case WDSMC_MT_LEAVE:
        F("ClientId", PRIu32, p->u.leave.client_id);
        F("LeaveReason", "u", p->u.leave.reason);
        break;
    case WDSMC_MT_POLL:
        F("POLLSeqNo", PRIu64, p->u.poll.poll_seq);
        F("BackOff", "u", p->u.poll.backoff);
        print_app("AppData", p->u.poll.app, p->u.poll.app_len);
        break;
    case WDSMC_MT_POLLACK:
        F("ClientId", PRIu32, p->u.pollack.client_id);
        F("POLLSeqNo", PRIu64, p->u.pollack.poll_seq);
        print_app("AppData", p->u.pollack.app, p->u.pollack.app_len);
        break;
    case WDSMC_MT_KICK:
        F("ClientCount", "u", p->u.kick.count);
        for (size_t i = 0; i < p->u.kick.count; i++) {
            struct wdsmc_mt_kick_entry e = wdsmc_mt_kick_get(&p->u.kick, i);
            printf("  %-18sclient %" PRIu32 " reason %u\n", "", e.client_id, e.reason);
        }
        break;
    case WDSMC_MT_DEMOTE:
        F("LowerSessionId", "#" PRIx32, p->u.demote.lower_session_id);
        print_addr("MAddress", &p->u.demote.maddr);
        F("MPort", "u", p->u.demote.mport);
        print_addr("UAddress", &p->u.demote.uaddr);
        F("UPort", "u", p->u.demote.uport);
        F("ClientCount", "u", p->u.demote.count);
        break;
    }
    if (p->opts.has_fw_lead)
        F("opt FW_LEAD", PRIu64, p->opts.fw_lead_seq);
    if (p->opts.has_caps)
        F("opt CAPABILITIES", "u bytes", p->opts.caps_len);
    if (p->opts.has_user_sid)
        F("opt USER_SID", "u bytes", p->opts.user_sid_len);
    if (p->opts.has_cpu_util)
        F("opt CPU_UTIL", "u%%", p->opts.cpu_util);
    if (p->opts.unknown_count)
        F("unknown options", "u", p->opts.unknown_count);
}

static void print_msi(const struct wdsmc_msi_pkt *p)
{
    if (p->is_error) {
        printf("MS-WDSMSI ERROR\n");
        F("Win32 error", PRIu32, p->u.error);
    } else if (p->opcode == WDSMC_MSI_REQUEST) {
        printf("MS-WDSMSI REQUEST\n");
        F("Namespace", "s", p->u.req.ns);
        F("Content", "s", p->u.req.content);
        if (p->u.req.has_ipv6_capable)
            F("IPv6 capable", "u", p->u.req.ipv6_capable);
    } else {
        printf("MS-WDSMSI REPLY\n");
        print_addr("MulticastAddr", &p->u.reply.mcast_addr);
        F("MulticastPort", "u", p->u.reply.mcast_port);
        print_addr("ServerAddr", &p->u.reply.server_addr);
        F("ServerPort", "u", p->u.reply.server_port);
        F("SessionId", "#" PRIx32, p->u.reply.session_id);
        F("ContentSize", PRIu64, p->u.reply.content_size);
        F("BlockSize", PRIu32, p->u.reply.block_size);
        F("TotalBlocks", PRIu64, p->u.reply.total_blocks);
    }
}

static void print_ma(const struct wdsmc_ma_pkt *p, const uint8_t *buf, size_t len)
{
    printf("MS-WDSMA packet\n");
    print_app("packet", buf, len);
    if (p->opcode == WDSMC_MA_CNTCIR)
        for (unsigned i = 0; i < p->u.cntcir.range_count; i++)
            printf("  %-18s%" PRIu64 "-%" PRIu64 "\n", "missing blocks",
                   p->u.cntcir.ranges[i].start, p->u.cntcir.ranges[i].end);
}

static int dump(const char *path, const char *family, bool verify)
{
    static uint8_t buf[1 << 17], again[1 << 17];
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    size_t len = fread(buf, 1, sizeof(buf), f);
    fclose(f);

    if (!family)
        family = len >= 2 && buf[0] == 'W' && buf[1] == 'D'                ? "mt"
                 : len >= 3 && (buf[0] == 1 || buf[0] == 2) && buf[1] == 0 ? "msi"
                                                                           : "ma";
    printf("%s: ", path);
    ssize_t n, m = 0;
    if (!strcmp(family, "mt")) {
        struct wdsmc_mt_pkt p;
        n = wdsmc_mt_decode(buf, len, &p);
        if (n < 0)
            goto bad;
        print_mt(&p);
        /* The list fields of a decoded packet borrow the wire bytes; there is
         * nothing to rebuild for the packets that carry none. */
        if (verify && p.opcode != WDSMC_MT_NACK && p.opcode != WDSMC_MT_NCF &&
            p.opcode != WDSMC_MT_KICK && p.opcode != WDSMC_MT_DEMOTE && p.sec_type <= 3 &&
            !p.opts.unknown_count)
            m = wdsmc_mt_encode(&p, again, sizeof(again));
        else
            verify = false;
    } else if (!strcmp(family, "msi")) {
        struct wdsmc_msi_pkt p;
        n = wdsmc_msi_decode(buf, len, &p);
        if (n < 0)
            goto bad;
        print_msi(&p);
        if (verify && !p.unknown_count)
            m = wdsmc_msi_encode(&p, again, sizeof(again));
        else
            verify = false;
    } else {
        struct wdsmc_ma_pkt p;
        n = wdsmc_ma_decode(buf, len, &p);
        if (n < 0)
            goto bad;
        print_ma(&p, buf, len);
        if (verify)
            m = wdsmc_ma_encode(&p, again, sizeof(again));
    }
    if (verify) {
        if (m != n || memcmp(again, buf, len) != 0) {
            printf("  re-encoding: DIFFERENT\n");
            return 1;
        }
        printf("  re-encoding: identical (%zd bytes)\n", m);
    }
    return 0;
bad:
    printf("malformed %s datagram: %s\n", family, wdsmc_strerror((int)n));
    return 1;
}

int main(int argc, char **argv)
{
    bool verify = false;
    const char *family = NULL;
    int i = 1, status = 0;

    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--verify")) {
            verify = true;
        } else if (!strcmp(argv[i], "--family") && i + 1 < argc) {
            family = argv[++i];
            if (strcmp(family, "mt") && strcmp(family, "ma") && strcmp(family, "msi"))
                goto usage;
        } else {
            goto usage;
        }
    }
    if (i == argc)
        goto usage;
    for (; i < argc; i++)
        status |= dump(argv[i], family, verify);
    return status;
usage:
    fprintf(stderr, "usage: wdsmc-dump [--verify] [--family mt|ma|msi] FILE...\n");
    return 2;
}
