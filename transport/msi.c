/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "msi.h"

int wdsmc_msi_client_init(struct wdsmc_msi_client *c, const char *ns, const char *content,
                          const uint8_t mac[6], unsigned tries, unsigned interval,
                          const struct wdsmc_msi_client_cbs *cbs)
{
    struct wdsmc_msi_pkt p = {.opcode = WDSMC_MSI_REQUEST};

    memset(c, 0, sizeof(*c));
    if (!ns || !content || !*ns || !*content)
        return -EINVAL;
    if (strlen(ns) >= sizeof(p.u.req.ns) || strlen(content) >= sizeof(p.u.req.content))
        return -EINVAL;
    strcpy(p.u.req.ns, ns);
    strcpy(p.u.req.content, content);
    memcpy(p.u.req.mac, mac, 6);

    ssize_t n = wdsmc_msi_encode(&p, c->req, sizeof(c->req));
    if (n < 0)
        return -EINVAL;
    c->req_len = (size_t)n;
    c->tries_left = tries ? tries : WDSMC_MSI_DEFAULT_TRIES;
    c->interval = interval ? interval : WDSMC_MSI_DEFAULT_INTERVAL;
    c->next_send = UINT64_MAX;
    c->cbs = *cbs;
    return 0;
}

static void send_request(struct wdsmc_msi_client *c, uint64_t now)
{
    c->tries_left--;
    /* After the last send we still wait one interval for its answer. */
    c->next_send = now + c->interval;
    c->cbs.send(c->cbs.ctx, c->req, c->req_len);
}

void wdsmc_msi_client_start(struct wdsmc_msi_client *c, uint64_t now)
{
    if (c->done || c->tries_left == 0)
        return;
    send_request(c, now);
}

static void finish(struct wdsmc_msi_client *c, int err, const struct wdsmc_msi_reply *reply,
                   uint32_t win32)
{
    c->done = true;
    c->next_send = UINT64_MAX;
    c->cbs.done(c->cbs.ctx, err, reply, win32);
}

int wdsmc_msi_client_handle(struct wdsmc_msi_client *c, const uint8_t *buf, size_t len,
                            uint64_t now)
{
    struct wdsmc_msi_pkt p;

    (void)now;
    if (c->done)
        return -EALREADY;
    ssize_t n = wdsmc_msi_decode(buf, len, &p);
    if (n < 0 || p.opcode != WDSMC_MSI_REPLY) {
        c->replies_dropped++;
        return n < 0 ? (int)n : -WDSMC_EOPCODE;
    }
    if (p.is_error) {
        uint32_t code = p.u.error;
        /* Decision 4: 1168 is an unknown namespace, 2 an unknown content;
         * both mean "no such content" to a user. */
        if (code == WDSMC_WIN32_NOT_FOUND || code == WDSMC_WIN32_FILE_NOT_FOUND)
            finish(c, -WDSMC_ENOCONTENT, NULL, code);
        else
            finish(c, -WDSMC_ESERVER, NULL, code);
        return 0;
    }
    if (wdsmc_msi_reply_check(&p.u.reply) < 0) {
        finish(c, -WDSMC_EBADREPLY, NULL, 0);
        return 0;
    }
    finish(c, 0, &p.u.reply, 0);
    return 0;
}

void wdsmc_msi_client_timeout(struct wdsmc_msi_client *c, uint64_t now)
{
    if (c->done || now < c->next_send)
        return;
    if (c->tries_left == 0) {
        finish(c, -ETIMEDOUT, NULL, 0);
        return;
    }
    send_request(c, now);
}

uint64_t wdsmc_msi_client_deadline(const struct wdsmc_msi_client *c)
{
    return c->done ? UINT64_MAX : c->next_send;
}

static ssize_t encode_error(uint32_t code, uint8_t *out, size_t cap)
{
    struct wdsmc_msi_pkt e = {.opcode = WDSMC_MSI_REPLY, .is_error = true, .u.error = code};
    return wdsmc_msi_encode(&e, out, cap);
}

ssize_t wdsmc_msi_server_answer(const uint8_t *buf, size_t len, wdsmc_msi_lookup_fn lookup,
                                void *ctx, uint8_t *out, size_t cap)
{
    struct wdsmc_msi_pkt p;

    ssize_t n = wdsmc_msi_decode(buf, len, &p);
    if (n == -WDSMC_EMISSING && len > 0 && buf[0] == WDSMC_MSI_REQUEST)
        return encode_error(WDSMC_WIN32_INVALID_PARAMETER, out, cap);
    if (n < 0)
        return n;
    if (p.opcode != WDSMC_MSI_REQUEST)
        return -WDSMC_EOPCODE;

    struct wdsmc_msi_pkt r = {.opcode = WDSMC_MSI_REPLY};
    uint32_t code = lookup(ctx, &p.u.req, &r.u.reply);
    if (code != 0)
        return encode_error(code, out, cap);
    return wdsmc_msi_encode(&r, out, cap);
}
