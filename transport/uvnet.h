/* SPDX-License-Identifier: MIT */
/*
 * UDP sockets for the WDS multicast protocols over libuv (internal). With the
 * session glue, the only code that includes uv.h.
 *
 * DESIGN.md decision 21: a client has an ephemeral unicast socket (JOIN, ACK,
 * NACK... to the server) and a socket bound to group:port and joined to the
 * group, shared between receivers on one host with SO_REUSEADDR (the group
 * socket is read through a uv_poll handle: libuv's UDP reads pass no
 * control messages, and UDP GRO needs one). The server
 * sends to the group from its session socket, with an explicit interface and
 * TTL (TTL 0 keeps loopback tests off the wire).
 */
#ifndef WDSMC_UVNET_H
#define WDSMC_UVNET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "wdsmc/codec.h"

/* Socket buffer size we ask for (the kernel may clamp it; as root we force it
 * past rmem_max), so a burst at loopback speed is not dropped while the loop
 * is busy elsewhere. */
#define WDSMC_UVNET_SOCKBUF (8 << 20)

/* Ask for WDSMC_UVNET_SOCKBUF of receive and send buffer on fd. */
void wdsmc_uvnet_grow_buffers(int fd);

/* Ask for `bytes` of send buffer on fd (at most INT_MAX / 2). */
void wdsmc_uvnet_send_buffer(int fd, size_t bytes);

/* Receive buffer for recvmmsg: libuv splits it in 64 KiB slots. */
#define WDSMC_UVNET_RECVBUF (32 * 65536)

/* An endpoint as a sockaddr (IPv4 or IPv6). */
int wdsmc_uvnet_sockaddr(const struct wdsmc_addr *ip, uint16_t port, struct sockaddr_storage *ret);

/* The wire form of a sockaddr; -EAFNOSUPPORT for other families. */
int wdsmc_uvnet_from_sockaddr(const struct sockaddr *sa, struct wdsmc_addr *ret_ip,
                              uint16_t *ret_port);

/* Parse "A.B.C.D" or an IPv6 literal into the wire form. -EINVAL if neither. */
int wdsmc_uvnet_parse_ip(const char *s, struct wdsmc_addr *ret);

/* Whether the two address+port pairs are the same endpoint. */
bool wdsmc_uvnet_same(const struct sockaddr *a, const struct sockaddr *b);

/*
 * Initialize h on loop as a UDP handle of `family` (AF_INET or AF_INET6) with
 * recvmmsg enabled. Returns 0 or a negative errno; on failure h is not a
 * handle (free it directly); on success it must be closed with uv_close().
 */
int wdsmc_uvnet_udp_init(uv_loop_t *loop, uv_udp_t *h, int family);

/*
 * Bind an initialized h to addr (port 0: ephemeral) and enlarge its socket
 * buffers; with `reuse`, SO_REUSEADDR, so several receivers on one host can
 * bind the same group:port. Returns 0 or a negative errno; h stays open
 * either way (the caller closes it).
 */
int wdsmc_uvnet_bind(uv_udp_t *h, const struct sockaddr *addr, bool reuse);

/* Set the interface multicast is sent from (NULL: kernel's choice), the TTL,
 * and whether our own multicast comes back to this host (needed for
 * receivers on the same host). Returns 0 or a negative errno. */
int wdsmc_uvnet_mcast_opts(uv_udp_t *h, const char *iface, int ttl, bool loop);

/* Send one datagram now, without queueing: 0, or a negative errno
 * (-EAGAIN when the socket buffer is full: the caller treats it as loss,
 * which the protocols repair). */
int wdsmc_uvnet_send(uv_udp_t *h, const struct sockaddr *to, const uint8_t *buf, size_t len);

/* Whether this kernel takes UDP GSO (UDP_SEGMENT, Linux 4.18) on h. A kernel
 * without it would ignore the option and send a batch as one datagram. */
bool wdsmc_uvnet_gso_supported(uv_udp_t *h);

/*
 * Send buf[0..len), datagrams of `seg` bytes laid end to end (the last may be
 * shorter), with one sendmsg and UDP GSO: the kernel cuts it into datagrams.
 * Only after wdsmc_uvnet_gso_supported said yes. Returns 0 or a negative
 * errno: -EINVAL, -EMSGSIZE, -EIO, -EOPNOTSUPP or -ENOPROTOOPT mean this path
 * cannot segment (a datagram larger than its MTU, no checksum offload): send
 * the datagrams one by one; -EAGAIN means the send buffer is full and
 * nothing was sent (the server then queues, decision 65); any other error
 * loses the batch, which the protocols repair.
 */
int wdsmc_uvnet_send_gso(uv_udp_t *h, const struct sockaddr *to, const uint8_t *buf, size_t len,
                         size_t seg);

/*
 * A receiving socket bound to a multicast group:port and joined to it, read
 * with recvmmsg and UDP GRO (Linux 5.0) where the kernel has it: the kernel
 * then hands over up to 64 KiB of consecutive datagrams of one length at a
 * time (a sender's GSO batch whole, or datagrams a NIC's GRO merged), and
 * each is passed to on_datagram on its own. Several receivers on one host
 * share group:port (SO_REUSEADDR).
 */
#define WDSMC_UVNET_GROUP_MSGS 32 /* messages per recvmmsg, 64 KiB each */
_Static_assert(WDSMC_UVNET_GROUP_MSGS * 65536 <= WDSMC_UVNET_RECVBUF,
               "a WDSMC_UVNET_RECVBUF buffer holds a group read");

struct wdsmc_uvnet_group;
typedef void (*wdsmc_uvnet_datagram_cb)(struct wdsmc_uvnet_group *g, const uint8_t *buf, size_t len,
                                        const struct sockaddr *from);
/* The socket failed (libuv stopped polling it): nothing more will arrive. */
typedef void (*wdsmc_uvnet_group_error_cb)(struct wdsmc_uvnet_group *g, int err);

struct wdsmc_uvnet_group {
    uv_poll_t poll; /* first: a uv_close() callback may free the struct;
                       poll.data is the caller's */
    int fd;
    bool opened;  /* poll is a handle: close with wdsmc_uvnet_group_close */
    bool gro;     /* UDP_GRO is on */
    bool closing; /* wdsmc_uvnet_group_close() was called */
    wdsmc_uvnet_datagram_cb on_datagram;
    wdsmc_uvnet_group_error_cb on_error;
    struct mmsghdr msgs[WDSMC_UVNET_GROUP_MSGS];
    struct iovec iov[WDSMC_UVNET_GROUP_MSGS];
    struct sockaddr_storage from[WDSMC_UVNET_GROUP_MSGS];
    union {
        char b[CMSG_SPACE(sizeof(int))];
        size_t align; /* struct cmsghdr's */
    } ctl[WDSMC_UVNET_GROUP_MSGS];
};

/*
 * Open g on loop: bound to `group` (address and port), joined on the
 * interface with address `iface` (NULL: the kernel's choice), reading into
 * buf. Returns 0 or a negative errno. Either way, once g->opened is set
 * (always on success) g must be closed with wdsmc_uvnet_group_close.
 */
int wdsmc_uvnet_group_open(uv_loop_t *loop, struct wdsmc_uvnet_group *g,
                           const struct sockaddr *group, const char *iface, uint8_t *buf,
                           wdsmc_uvnet_datagram_cb on_datagram,
                           wdsmc_uvnet_group_error_cb on_error);

/* Stop reading (also from inside on_datagram: no further datagram of the
 * current read is passed on), close the socket, then uv_close the handle
 * with `cb`, which may free g. */
void wdsmc_uvnet_group_close(struct wdsmc_uvnet_group *g, uv_close_cb cb);

/* The local address the kernel would use to reach `server` (a connected UDP
 * socket's name; nothing is sent). 0 or a negative errno. */
int wdsmc_uvnet_local_ip_for(const struct sockaddr *server, struct wdsmc_addr *ret);

/* The MAC address of the interface that holds `ip`; all zeros (and 0) when
 * it has none (loopback). -ENODEV when no interface holds `ip`. */
int wdsmc_uvnet_mac_for_ip(const struct wdsmc_addr *ip, uint8_t ret_mac[6]);
/* The MTU of the interface that holds `ip`: 0 or -ENODEV / a negative
 * errno. */
int wdsmc_uvnet_mtu_for_ip(const struct wdsmc_addr *ip, unsigned *ret_mtu);

#endif /* WDSMC_UVNET_H */
