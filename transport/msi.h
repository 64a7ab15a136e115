/* SPDX-License-Identifier: MIT */
/*
 * MS-WDSMSI over UDP, both ends, sans-I/O (internal).
 *
 * Client: sends the REQUEST, re-sends it every interval (MS-WDSMSI 3.1.6: one
 * second) up to a bounded number of tries (decision 4: 30), and completes once
 * with the checked REPLY or an error.
 *
 * Server: a pure function from a REQUEST datagram to the REPLY or ERROR
 * datagram to send back, with the (namespace, content) -> session mapping
 * left to a lookup callback.
 */
#ifndef WDSMC_MSI_H
#define WDSMC_MSI_H

#include <stdint.h>

#include "wdsmc/codec.h"

#define WDSMC_MSI_DEFAULT_TRIES    30   /* decision 4 */
#define WDSMC_MSI_DEFAULT_INTERVAL 1000 /* ms, MS-WDSMSI 3.1.6 */

struct wdsmc_msi_client_cbs {
    void *ctx;
    /* Send `len` bytes to the server's MS-WDSMSI port. */
    void (*send)(void *ctx, const uint8_t *buf, size_t len);
    /* Called exactly once. err == 0: `reply` (borrowed for the call) passed
     * wdsmc_msi_reply_check(). Otherwise reply is NULL and err is
     * -WDSMC_ENOCONTENT (Win32 2 or 1168), -WDSMC_ESERVER (another Win32
     * code, in `win32`), -WDSMC_EBADREPLY (a reply failing the checks) or
     * -ETIMEDOUT (no answer after every try). */
    void (*done)(void *ctx, int err, const struct wdsmc_msi_reply *reply, uint32_t win32);
};

struct wdsmc_msi_client {
    uint8_t req[2 * WDSMC_MSI_NAME_BUF + 64];
    size_t req_len;
    unsigned tries_left;
    unsigned interval;
    uint64_t next_send; /* UINT64_MAX when idle or done */
    bool done;
    unsigned replies_dropped; /* malformed or unexpected datagrams */
    struct wdsmc_msi_client_cbs cbs;
};

/*
 * Prepare a request for (ns, content) from a client with MAC `mac`.
 *   tries     how many times to send (0: WDSMC_MSI_DEFAULT_TRIES)
 *   interval  ms between sends (0: WDSMC_MSI_DEFAULT_INTERVAL)
 * Returns 0, or -EINVAL for an empty, overlong or non-UTF-8 name.
 */
int wdsmc_msi_client_init(struct wdsmc_msi_client *c, const char *ns, const char *content,
                          const uint8_t mac[6], unsigned tries, unsigned interval,
                          const struct wdsmc_msi_client_cbs *cbs);

/* Send the first request now. */
void wdsmc_msi_client_start(struct wdsmc_msi_client *c, uint64_t now);

/* A datagram from the server's MS-WDSMSI port. Anything that is not a
 * well-formed REPLY is dropped (counted) and the client keeps waiting.
 * Returns 0 when the datagram was used, a negative codec error otherwise. */
int wdsmc_msi_client_handle(struct wdsmc_msi_client *c, const uint8_t *buf, size_t len,
                            uint64_t now);

/* Re-send or give up, when the deadline has passed. */
void wdsmc_msi_client_timeout(struct wdsmc_msi_client *c, uint64_t now);

/* When wdsmc_msi_client_timeout() next needs to run; UINT64_MAX if never. */
uint64_t wdsmc_msi_client_deadline(const struct wdsmc_msi_client *c);

/*
 * Server side: the (namespace, content) lookup. Fill *ret_reply and return 0,
 * or return a Win32 error code (> 0) to refuse: WDSMC_WIN32_NOT_FOUND for an
 * unknown namespace, WDSMC_WIN32_FILE_NOT_FOUND for an unknown content.
 */
typedef uint32_t (*wdsmc_msi_lookup_fn)(void *ctx, const struct wdsmc_msi_request *req,
                                        struct wdsmc_msi_reply *ret_reply);

/*
 * Answer one datagram received on the MS-WDSMSI port (MS-WDSMSI 3.1.5.3).
 * Writes the REPLY (or ERROR) to out[0..cap) and returns its length. A
 * request missing a required option is answered with ERROR 87 (decision 4).
 * Anything else that is not a well-formed REQUEST gets no answer (so the
 * port cannot be used to reflect traffic): returns the negative codec error.
 */
ssize_t wdsmc_msi_server_answer(const uint8_t *buf, size_t len, wdsmc_msi_lookup_fn lookup,
                                void *ctx, uint8_t *out, size_t cap);

#endif /* WDSMC_MSI_H */
