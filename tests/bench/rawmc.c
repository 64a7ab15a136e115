/* SPDX-License-Identifier: MIT */
/*
 * rawmc: the raw ceiling of one-way multicast on this host. No protocol, no
 * repair, no file I/O: what the kernel can move between two processes.
 *
 *   rawmc send GROUP PORT IFADDR SIZE BYTES [gso]
 *   rawmc recv GROUP PORT IFADDR SIZE IDLE_MS [gro]
 *
 * The sender pushes BYTES in datagrams of SIZE bytes to GROUP:PORT, leaving
 * from IFADDR with TTL 0 (this host only) as fast as sendmmsg allows, then a
 * few zero-length datagrams as an end mark. With `gso`, each sendmsg hands
 * the kernel as many datagrams as one UDP GSO send carries (at most 64 and
 * 65507 bytes), as the wdsmc server does; receivers get the same datagrams.
 * A receiver with `gro` turns UDP_GRO on, as wdsget does, and takes up to
 * 64 KiB of them per message (counted as the datagrams they are). The
 * receiver, started first, counts the bytes it receives (not those sent)
 * from the first datagram to the end mark (or IDLE_MS without one) and
 * prints one line:
 *
 *   bytes=N seconds=S rate=B/s datagrams=D
 *
 * Exit 0, 1 on errors, 2 on usage errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
    fprintf(stderr, "usage: rawmc send GROUP PORT IFADDR SIZE BYTES [gso]\n"
                    "       rawmc recv GROUP PORT IFADDR SIZE IDLE_MS [gro]\n");
    return 2;
}

/* n datagrams of `size` bytes in one sendmsg, cut by the kernel. */
static int send_gso(int fd, const char *buf, size_t size, unsigned n)
{
    union {
        char b[CMSG_SPACE(sizeof(uint16_t))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = (size_t)n * size};
    struct msghdr m = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b};
    uint16_t seg = (uint16_t)size;

    memset(&ctl, 0, sizeof ctl);
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = IPPROTO_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof seg);
    memcpy(CMSG_DATA(c), &seg, sizeof seg);
    return sendmsg(fd, &m, 0) < 0 ? -1 : (int)n;
}

static int do_send(const struct sockaddr_in *group, struct in_addr ifaddr, size_t size,
                   uint64_t total, bool gso)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    unsigned char ttl = 0, loop = 1;
    int sndbuf = 4 << 20;
    if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &ifaddr, sizeof ifaddr) < 0 ||
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) < 0 ||
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop) < 0) {
        perror("rawmc send: socket");
        return 1;
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    if (connect(fd, (const struct sockaddr *)group, sizeof *group) < 0) {
        perror("rawmc send: connect");
        return 1;
    }
    unsigned per = (unsigned)(65507 / size);
    if (per > 64)
        per = 64;
    if (gso && per < 2) {
        fprintf(stderr, "rawmc send: SIZE too large for gso\n");
        return 2;
    }
    char *buf = calloc(gso ? per : 1, size);
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    if (!buf)
        return 1;
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = buf;
        iov[i].iov_len = size;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    uint64_t left = (total + size - 1) / size, sent = 0;
    double t0 = now_s();
    while (left > 0) {
        unsigned max = gso ? per : BATCH;
        unsigned n = left < max ? (unsigned)left : max;
        int r = gso ? send_gso(fd, buf, size, n) : sendmmsg(fd, msgs, n, 0);
        if (r < 0) {
            /* A full socket buffer or a loopback queue that dropped: go on;
             * the receiver counts what arrived. */
            if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)
                continue;
            perror(gso ? "rawmc send: sendmsg (UDP GSO)" : "rawmc send: sendmmsg");
            return 1;
        }
        left -= (uint64_t)r;
        sent += (uint64_t)r;
    }
    double t = now_s() - t0;
    /* End mark: zero-length datagrams, a few in case one is dropped. */
    for (int i = 0; i < 20; i++) {
        (void)send(fd, buf, 0, 0);
        usleep(1000);
    }
    fprintf(stderr, "rawmc send: %llu datagrams in %.3f s\n", (unsigned long long)sent, t);
    free(buf);
    close(fd);
    return 0;
}

/* The datagrams one message holds: its GRO segment count, or 1. */
static uint64_t segments(struct msghdr *h, unsigned len)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
        int seg;
        if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO) {
            memcpy(&seg, CMSG_DATA(c), sizeof seg);
            return seg > 0 ? (len + (unsigned)seg - 1) / (unsigned)seg : 1;
        }
    }
    return 1;
}

static int do_recv(const struct sockaddr_in *group, struct in_addr ifaddr, size_t size, int idle_ms,
                   bool gro)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int one = 1, rcvbuf = 32 << 20;
    struct ip_mreq mreq = {.imr_multiaddr = group->sin_addr, .imr_interface = ifaddr};
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) {
        perror("rawmc recv: socket");
        return 1;
    }
    /* SO_RCVBUFFORCE (root) beats rmem_max; fall back to what we may. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (bind(fd, (const struct sockaddr *)group, sizeof *group) < 0 ||
        setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) < 0) {
        perror("rawmc recv: bind/join");
        return 1;
    }
    if (gro && setsockopt(fd, IPPROTO_UDP, UDP_GRO, &one, sizeof one) < 0) {
        perror("rawmc recv: UDP_GRO");
        return 1;
    }
    size_t cap = gro ? 65536 : size + 1;
    char *buf = malloc(cap);
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    static union {
        char b[CMSG_SPACE(sizeof(int))];
        size_t align;
    } ctl[BATCH];
    if (!buf)
        return 1;
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) {
        /* Every slot reads into the same buffer: only the count matters. */
        iov[i].iov_base = buf;
        iov[i].iov_len = cap;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    printf("ready\n");
    fflush(stdout);

    uint64_t bytes = 0, dgrams = 0;
    double t0 = 0, tlast = 0;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    for (;;) {
        /* Before the first datagram wait long; afterwards IDLE_MS. */
        int r = poll(&pfd, 1, dgrams ? idle_ms : 60000);
        if (r <= 0)
            break;
        for (int i = 0; gro && i < BATCH; i++) {
            msgs[i].msg_hdr.msg_control = ctl[i].b;
            msgs[i].msg_hdr.msg_controllen = sizeof ctl[i].b;
        }
        int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (n < 0)
            continue;
        bool end = false;
        for (int i = 0; i < n; i++) {
            if (msgs[i].msg_len == 0) {
                end = true;
                break;
            }
            if (!dgrams)
                t0 = now_s();
            bytes += msgs[i].msg_len;
            dgrams += gro ? segments(&msgs[i].msg_hdr, msgs[i].msg_len) : 1;
        }
        tlast = now_s();
        if (end)
            break;
    }
    double secs = tlast > t0 ? tlast - t0 : 0;
    printf("bytes=%llu seconds=%.6f rate=%.0f datagrams=%llu\n", (unsigned long long)bytes, secs,
           secs > 0 ? (double)bytes / secs : 0.0, (unsigned long long)dgrams);
    free(buf);
    close(fd);
    return bytes ? 0 : 1;
}

int main(int argc, char **argv)
{
    bool gso = argc == 8 && strcmp(argv[1], "send") == 0 && strcmp(argv[7], "gso") == 0;
    bool gro = argc == 8 && strcmp(argv[1], "recv") == 0 && strcmp(argv[7], "gro") == 0;
    if (argc != 7 && !gso && !gro)
        return usage();
    struct sockaddr_in group = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
    struct in_addr ifaddr;
    size_t size = strtoul(argv[5], NULL, 10);
    if (inet_pton(AF_INET, argv[2], &group.sin_addr) != 1 ||
        inet_pton(AF_INET, argv[4], &ifaddr) != 1 || size == 0 || size > 65507)
        return usage();
    if (strcmp(argv[1], "send") == 0)
        return do_send(&group, ifaddr, size, strtoull(argv[6], NULL, 10), gso);
    if (strcmp(argv[1], "recv") == 0)
        return do_recv(&group, ifaddr, size, atoi(argv[6]), gro);
    return usage();
}
