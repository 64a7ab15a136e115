/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
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

static void grow_buffers(uv_udp_t *h)
{
    uv_os_fd_t fd;
    int size = WDSMC_UVNET_SOCKBUF;

    if (uv_fileno((uv_handle_t *)h, &fd) != 0)
        return;
    /* The FORCE variants pass rmem_max/wmem_max when we are root; otherwise
     * fall back to whatever the unprivileged limit allows. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

int wdsmc_uvnet_udp_init(uv_loop_t *loop, uv_udp_t *h, int family)
{
    return uv_udp_init_ex(loop, h, (unsigned)family | UV_UDP_RECVMMSG);
}

int wdsmc_uvnet_bind(uv_udp_t *h, const struct sockaddr *addr, bool reuse)
{
    int err = uv_udp_bind(h, addr, reuse ? UV_UDP_REUSEADDR : 0);
    if (err < 0)
        return err;
    grow_buffers(h);
    return 0;
}

int wdsmc_uvnet_join(uv_udp_t *h, const char *group, const char *iface)
{
    return uv_udp_set_membership(h, group, iface, UV_JOIN_GROUP);
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
