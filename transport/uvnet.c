/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "uvnet.h"

int wdsmc_uvnet_sockaddr(const struct wdsmc_addr *ip, uint16_t port, struct sockaddr_storage *ret)
{
    memset(ret, 0, sizeof(*ret));
    if (ip->len == 4) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ret;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        memcpy(&sin->sin_addr, ip->bytes, 4);
        return 0;
    }
    if (ip->len == 16) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ret;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        memcpy(&sin6->sin6_addr, ip->bytes, 16);
        return 0;
    }
    return -EINVAL;
}

int wdsmc_uvnet_from_sockaddr(const struct sockaddr *sa, struct wdsmc_addr *ret_ip,
                              uint16_t *ret_port)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        ret_ip->len = 4;
        memcpy(ret_ip->bytes, &sin->sin_addr, 4);
        *ret_port = ntohs(sin->sin_port);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        ret_ip->len = 16;
        memcpy(ret_ip->bytes, &sin6->sin6_addr, 16);
        *ret_port = ntohs(sin6->sin6_port);
        return 0;
    }
    return -EAFNOSUPPORT;
}

int wdsmc_uvnet_parse_ip(const char *s, struct wdsmc_addr *ret)
{
    memset(ret, 0, sizeof(*ret));
    if (inet_pton(AF_INET, s, ret->bytes) == 1) {
        ret->len = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, s, ret->bytes) == 1) {
        ret->len = 16;
        return 0;
    }
    return -EINVAL;
}

bool wdsmc_uvnet_same(const struct sockaddr *a, const struct sockaddr *b)
{
    struct wdsmc_addr ia, ib;
    uint16_t pa, pb;

    if (wdsmc_uvnet_from_sockaddr(a, &ia, &pa) < 0 || wdsmc_uvnet_from_sockaddr(b, &ib, &pb) < 0)
        return false;
    return pa == pb && ia.len == ib.len && memcmp(ia.bytes, ib.bytes, ia.len) == 0;
}

/* The FORCE variants pass rmem_max/wmem_max with CAP_NET_ADMIN; otherwise
 * fall back to whatever the unprivileged limit allows. */
static void set_buffer(int fd, int force_opt, int opt, size_t bytes)
{
    int size = bytes > INT_MAX / 2 ? INT_MAX / 2 : (int)bytes; /* the kernel doubles it */

    if (setsockopt(fd, SOL_SOCKET, force_opt, &size, sizeof(size)) < 0)
        (void)setsockopt(fd, SOL_SOCKET, opt, &size, sizeof(size));
}

void wdsmc_uvnet_grow_buffers(int fd)
{
    set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, WDSMC_UVNET_SOCKBUF);
    set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, WDSMC_UVNET_SOCKBUF);
}

void wdsmc_uvnet_send_buffer(int fd, size_t bytes)
{
    set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, bytes);
}

int wdsmc_uvnet_udp_init(uv_loop_t *loop, uv_udp_t *h, int family)
{
    return uv_udp_init_ex(loop, h, (unsigned)family | UV_UDP_RECVMMSG);
}

int wdsmc_uvnet_bind(uv_udp_t *h, const struct sockaddr *addr, bool reuse)
{
    uv_os_fd_t fd;
    int err = uv_udp_bind(h, addr, reuse ? UV_UDP_REUSEADDR : 0);
    if (err < 0)
        return err;
    if (uv_fileno((uv_handle_t *)h, &fd) == 0)
        wdsmc_uvnet_grow_buffers(fd);
    return 0;
}

int wdsmc_uvnet_mcast_opts(uv_udp_t *h, const char *iface, int ttl, bool loop)
{
    int err;

    if (iface && (err = uv_udp_set_multicast_interface(h, iface)) < 0)
        return err;
    /* libuv refuses TTL 0, which is what keeps loopback traffic on this host
     * in the root namespace; set it on the fd directly. */
    uv_os_fd_t fd;
    if ((err = uv_fileno((uv_handle_t *)h, &fd)) < 0)
        return err;
    unsigned char t = (unsigned char)(ttl < 0 ? 0 : ttl > 255 ? 255 : ttl);
    if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &t, sizeof(t)) < 0)
        return -errno;
    return uv_udp_set_multicast_loop(h, loop ? 1 : 0);
}

int wdsmc_uvnet_send(uv_udp_t *h, const struct sockaddr *to, const uint8_t *buf, size_t len)
{
    uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
    int n = uv_udp_try_send(h, &b, 1, to);
    return n < 0 ? n : 0;
}

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103 /* linux/udp.h; older libc headers lack it */
#endif

bool wdsmc_uvnet_gso_supported(uv_udp_t *h)
{
    uv_os_fd_t fd;
    int v;
    socklen_t len = sizeof(v);

    /* getsockopt(UDP_SEGMENT) came with the send side in Linux 4.18. */
    return uv_fileno((uv_handle_t *)h, &fd) == 0 &&
           getsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &v, &len) == 0;
}

int wdsmc_uvnet_send_gso(uv_udp_t *h, const struct sockaddr *to, const uint8_t *buf, size_t len,
                         size_t seg)
{
    uv_os_fd_t fd;
    int err;
    union {
        char buf[CMSG_SPACE(sizeof(uint16_t))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr msg = {
            .msg_name = (void *)to,
            .msg_namelen = to->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                     : sizeof(struct sockaddr_in),
            .msg_iov = &iov,
            .msg_iovlen = 1,
            .msg_control = ctl.buf,
            .msg_controllen = sizeof(ctl.buf),
    };

    if (seg == 0 || seg > UINT16_MAX)
        return -EINVAL;
    if ((err = uv_fileno((uv_handle_t *)h, &fd)) < 0)
        return err;
    memset(&ctl, 0, sizeof(ctl));
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = IPPROTO_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    uint16_t gso = (uint16_t)seg;
    memcpy(CMSG_DATA(c), &gso, sizeof(gso));
    ssize_t n;
    do
        n = sendmsg(fd, &msg, 0);
    while (n < 0 && errno == EINTR);
    if (n >= 0)
        return 0;
    return errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

#ifndef UDP_GRO
#define UDP_GRO 104 /* linux/udp.h */
#endif

static int join_fd(int fd, const struct sockaddr *group, const char *iface)
{
    if (group->sa_family == AF_INET) {
        struct ip_mreq m = {.imr_multiaddr = ((const struct sockaddr_in *)group)->sin_addr,
                            .imr_interface.s_addr = htonl(INADDR_ANY)};
        if (iface && inet_pton(AF_INET, iface, &m.imr_interface) != 1)
            return -EINVAL;
        return setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m)) == 0 ? 0 : -errno;
    }
    /* IPv6 names the interface by index: the scope of `iface` (as libuv). */
    struct ipv6_mreq m = {.ipv6mr_multiaddr = ((const struct sockaddr_in6 *)group)->sin6_addr};
    struct sockaddr_in6 ia;
    if (iface) {
        if (uv_ip6_addr(iface, 0, &ia) != 0)
            return -EINVAL;
        m.ipv6mr_interface = ia.sin6_scope_id;
    }
    return setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof(m)) == 0 ? 0 : -errno;
}

/* The segment size of a GRO message, or 0 when it is one datagram. */
static size_t gro_size(const struct msghdr *h)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR((struct msghdr *)h, c)) {
        int v;
        if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO &&
            c->cmsg_len >= CMSG_LEN(sizeof(v))) {
            memcpy(&v, CMSG_DATA(c), sizeof(v));
            return v > 0 ? (size_t)v : 0;
        }
    }
    return 0;
}

static void group_readable(uv_poll_t *p, int status, int events)
{
    struct wdsmc_uvnet_group *g = (struct wdsmc_uvnet_group *)p;
    (void)events;

    if (status < 0) {
        if (!g->closing)
            g->on_error(g, status);
        return;
    }
    /* A few rounds, then back to the loop so timers and the unicast socket
     * get their turn. */
    for (int round = 0; round < 4 && !g->closing; round++) {
        for (int i = 0; i < WDSMC_UVNET_GROUP_MSGS; i++) {
            g->msgs[i].msg_hdr.msg_namelen = sizeof(g->from[i]);
            g->msgs[i].msg_hdr.msg_controllen = g->gro ? sizeof(g->ctl[i]) : 0;
            g->msgs[i].msg_hdr.msg_flags = 0;
        }
        int n = recvmmsg(g->fd, g->msgs, WDSMC_UVNET_GROUP_MSGS, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return; /* EAGAIN: drained; other errors are not the data's */
        for (int i = 0; i < n && !g->closing; i++) {
            const struct msghdr *h = &g->msgs[i].msg_hdr;
            const uint8_t *d = g->iov[i].iov_base;
            size_t len = g->msgs[i].msg_len, seg = gro_size(h);
            if (h->msg_flags & (MSG_TRUNC | MSG_CTRUNC))
                continue; /* larger than any datagram we take */
            if (!seg || seg > len)
                seg = len;
            for (size_t off = 0; off < len && !g->closing; off += seg)
                g->on_datagram(g, d + off, len - off < seg ? len - off : seg,
                               (const struct sockaddr *)&g->from[i]);
        }
        if (n < WDSMC_UVNET_GROUP_MSGS)
            return;
    }
}

int wdsmc_uvnet_group_open(uv_loop_t *loop, struct wdsmc_uvnet_group *g,
                           const struct sockaddr *group, const char *iface, uint8_t *buf,
                           wdsmc_uvnet_datagram_cb on_datagram, wdsmc_uvnet_group_error_cb on_error)
{
    int one = 1, err;
    socklen_t slen =
            group->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);

    memset(g, 0, offsetof(struct wdsmc_uvnet_group, msgs));
    g->fd = socket(group->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (g->fd < 0)
        return -errno;
    if (setsockopt(g->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(g->fd, group, slen) < 0) {
        err = -errno;
        goto fail;
    }
    wdsmc_uvnet_grow_buffers(g->fd);
    if ((err = join_fd(g->fd, group, iface)) < 0)
        goto fail;
    /* Without GRO (a kernel before 5.0) every message is one datagram. */
    g->gro = setsockopt(g->fd, IPPROTO_UDP, UDP_GRO, &one, sizeof(one)) == 0;
    g->on_datagram = on_datagram;
    g->on_error = on_error;
    for (int i = 0; i < WDSMC_UVNET_GROUP_MSGS; i++) {
        g->iov[i] = (struct iovec){.iov_base = buf + (size_t)i * 65536, .iov_len = 65536};
        g->msgs[i].msg_hdr = (struct msghdr){.msg_name = &g->from[i],
                                             .msg_iov = &g->iov[i],
                                             .msg_iovlen = 1,
                                             .msg_control = g->ctl[i].b};
    }
    if ((err = uv_poll_init_socket(loop, &g->poll, g->fd)) < 0)
        goto fail;
    g->opened = true;
    return uv_poll_start(&g->poll, UV_READABLE, group_readable);
fail:
    close(g->fd);
    g->fd = -1;
    return err;
}

void wdsmc_uvnet_group_close(struct wdsmc_uvnet_group *g, uv_close_cb cb)
{
    g->closing = true;
    uv_poll_stop(&g->poll);
    if (g->fd >= 0)
        close(g->fd);
    g->fd = -1;
    uv_close((uv_handle_t *)&g->poll, cb);
}

int wdsmc_uvnet_local_ip_for(const struct sockaddr *server, struct wdsmc_addr *ret)
{
    struct sockaddr_storage me;
    socklen_t len = sizeof(me);
    uint16_t port;

    int fd = socket(server->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    socklen_t slen =
            server->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    int err = 0;
    if (connect(fd, server, slen) < 0 || getsockname(fd, (struct sockaddr *)&me, &len) < 0)
        err = -errno;
    close(fd);
    if (err < 0)
        return err;
    return wdsmc_uvnet_from_sockaddr((struct sockaddr *)&me, ret, &port);
}

/* The name of the interface holding `ip`, into name[IF_NAMESIZE]. */
static int ifname_for_ip(const struct wdsmc_addr *ip, char *name)
{
    struct ifaddrs *list, *ifa;

    name[0] = '\0';
    if (getifaddrs(&list) < 0)
        return -errno;
    for (ifa = list; ifa; ifa = ifa->ifa_next) {
        struct wdsmc_addr a;
        uint16_t port;
        if (!ifa->ifa_addr || wdsmc_uvnet_from_sockaddr(ifa->ifa_addr, &a, &port) < 0)
            continue;
        if (a.len == ip->len && memcmp(a.bytes, ip->bytes, a.len) == 0) {
            snprintf(name, IF_NAMESIZE, "%s", ifa->ifa_name);
            break;
        }
    }
    freeifaddrs(list);
    return name[0] ? 0 : -ENODEV;
}

/* One SIOCGIF* ioctl on the interface that holds `ip`. */
static int ioctl_for_ip(const struct wdsmc_addr *ip, unsigned long req, struct ifreq *ifr)
{
    char name[IF_NAMESIZE];
    int err;

    if ((err = ifname_for_ip(ip, name)) < 0)
        return err;
    memset(ifr, 0, sizeof(*ifr));
    snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", name);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    err = ioctl(fd, req, ifr) == 0 ? 0 : -errno;
    close(fd);
    return err;
}

int wdsmc_uvnet_mtu_for_ip(const struct wdsmc_addr *ip, unsigned *ret_mtu)
{
    struct ifreq ifr;
    int err = ioctl_for_ip(ip, SIOCGIFMTU, &ifr);

    if (err == 0)
        *ret_mtu = (unsigned)ifr.ifr_mtu;
    return err;
}

int wdsmc_uvnet_mac_for_ip(const struct wdsmc_addr *ip, uint8_t ret_mac[6])
{
    struct ifreq ifr;
    int err = ioctl_for_ip(ip, SIOCGIFHWADDR, &ifr);

    memset(ret_mac, 0, 6);
    if (err == -ENODEV)
        return err;
    /* An interface without a hardware address (loopback, tunnels) keeps the
     * all-zero MAC. */
    if (err == 0)
        memcpy(ret_mac, ifr.ifr_hwaddr.sa_data, 6);
    return 0;
}
