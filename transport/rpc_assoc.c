/* SPDX-License-Identifier: MIT */
/*
 * Connection-oriented DCE/RPC association state machines (C706 11, MS-RPCE
 * 3.3.2 client, 3.3.3 server). See rpc_assoc.h for the byte layout of
 * protected PDUs and the order of the provider calls.
 *
 * One call at a time per connection: the server does not offer
 * PFC_CONC_MPX, so a client may not start a call before the previous one is
 * answered (C706 12.6.3.1), and a first fragment during a call is a
 * protocol error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wdsmc/error.h"
#include "rpc_assoc.h"

static const struct wdsmc_dcerpc_syntax ndr20 = WDSMC_DCERPC_NDR20_INIT;

/* ---- buffers ----------------------------------------------------------------- */

/* One PDU being received from a byte stream. */
struct ibuf {
    uint8_t *p;
    size_t len, cap;
};

/* Bytes waiting to be sent: p[off..len). */
struct obuf {
    uint8_t *p;
    size_t off, len, cap, limit;
};

/* A call's stub as its fragments arrive, up to max bytes. */
struct reasm {
    uint8_t *p;
    size_t len, cap, max;
};

static int ibuf_init(struct ibuf *ib, size_t cap)
{
    ib->p = malloc(cap);
    ib->len = 0;
    ib->cap = cap;
    return ib->p ? 0 : -ENOMEM;
}

/* Make room for n more bytes at the end; returns where they go. */
static uint8_t *obuf_grow(struct obuf *o, size_t n)
{
    if (o->off == o->len)
        o->off = o->len = 0;
    if (o->cap - o->len < n && o->off) {
        memmove(o->p, o->p + o->off, o->len - o->off);
        o->len -= o->off;
        o->off = 0;
    }
    if (o->len + n > o->limit)
        return NULL;
    if (o->cap - o->len < n) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap - o->len < n)
            cap *= 2;
        uint8_t *p = realloc(o->p, cap);
        if (!p)
            return NULL;
        o->p = p;
        o->cap = cap;
    }
    return o->p + o->len;
}

static int reasm_append(struct reasm *r, const uint8_t *d, size_t n)
{
    if (n > r->max - r->len)
        return -EMSGSIZE;
    if (r->cap - r->len < n) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap - r->len < n)
            cap *= 2;
        if (cap > r->max)
            cap = r->max;
        uint8_t *p = realloc(r->p, cap);
        if (!p)
            return -ENOMEM;
        r->p = p;
        r->cap = cap;
    }
    if (n)
        memcpy(r->p + r->len, d, n);
    r->len += n;
    return 0;
}

/*
 * Push data into the PDU assembler and call process() for each complete
 * PDU. process() may modify the PDU in place (unsealing). Stops at the
 * first error, which is returned.
 */
static int feed(struct ibuf *ib, const uint8_t *data, size_t len,
                int (*process)(void *self, uint8_t *pdu, size_t len), void *self)
{
    while (len) {
        size_t want;
        if (ib->len < WDSMC_DCERPC_HDR_LEN) {
            want = WDSMC_DCERPC_HDR_LEN - ib->len;
        } else {
            ssize_t f = wdsmc_dcerpc_frag_length(ib->p, ib->len, ib->cap);
            if (f < 0)
                return (int)f;
            want = (size_t)f - ib->len;
        }
        if (want > len)
            want = len;
        memcpy(ib->p + ib->len, data, want);
        ib->len += want;
        data += want;
        len -= want;
        if (ib->len < WDSMC_DCERPC_HDR_LEN)
            continue;
        ssize_t f = wdsmc_dcerpc_frag_length(ib->p, ib->len, ib->cap);
        if (f < 0)
            return (int)f;
        if (ib->len == (size_t)f) {
            ib->len = 0;
            int rc = process(self, ib->p, (size_t)f);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* Encode pdu at the end of the output queue. */
static int queue_pdu(struct obuf *o, struct wdsmc_dcerpc_pdu *pdu, uint8_t **ret_at)
{
    uint8_t *at = obuf_grow(o, WDSMC_DCERPC_MAX_FRAG);
    if (!at)
        return -ENOBUFS;
    ssize_t n = wdsmc_dcerpc_encode(pdu, at, WDSMC_DCERPC_MAX_FRAG);
    if (n < 0)
        return (int)n;
    o->len += (size_t)n;
    if (ret_at)
        *ret_at = at;
    return 0;
}

/* ---- per-message protection ----------------------------------------------------- */

struct sec {
    struct wdsmc_rpcauth *a; /* NULL: unauthenticated */
    uint8_t type, level;
    uint32_t context_id;
    bool done; /* the context is established */
};

/* Whether request/response PDUs carry a signature (MS-RPCE 3.3.1.5.2.2;
 * CALL is processed as PKT, 2.2.1.1.8). */
static bool sec_protects(const struct sec *s)
{
    return s->a && s->done && s->level >= WDSMC_RPC_LEVEL_CALL;
}

/* Apply protection to an encoded request/response whose trailer holds a
 * zeroed token of WDSMC_RPCAUTH_SIG_SIZE bytes. */
static int sec_protect(const struct sec *s, uint8_t *buf, const struct wdsmc_dcerpc_pdu *pdu)
{
    size_t sign_len = pdu->auth.trailer_off + WDSMC_DCERPC_TRAILER_LEN;
    uint8_t *sig = buf + sign_len;

    if (s->level == WDSMC_RPC_LEVEL_PKT_PRIVACY)
        return wdsmc_rpcauth_seal(s->a, buf + pdu->stub_off, pdu->stub_len + pdu->auth.pad_len, buf,
                                  sign_len, sig);
    return wdsmc_rpcauth_sign(s->a, buf, sign_len, sig);
}

/* Check (and at PKT_PRIVACY decrypt in place) a received request/response.
 * -EPROTO for a trailer that does not belong to the context. */
static int sec_unprotect(const struct sec *s, uint8_t *buf, const struct wdsmc_dcerpc_pdu *pdu)
{
    if (!pdu->has_auth)
        return -EACCES;
    if (pdu->auth.type != s->type || pdu->auth.level != s->level ||
        pdu->auth.context_id != s->context_id)
        return -EPROTO;
    size_t sign_len = pdu->auth.trailer_off + WDSMC_DCERPC_TRAILER_LEN;
    if (s->level == WDSMC_RPC_LEVEL_PKT_PRIVACY)
        return wdsmc_rpcauth_unseal(s->a, buf + pdu->stub_off, pdu->stub_len + pdu->auth.pad_len,
                                    buf, sign_len, pdu->auth.token, pdu->auth.token_len);
    return wdsmc_rpcauth_verify(s->a, buf, sign_len, pdu->auth.token, pdu->auth.token_len);
}

/*
 * Queue stub[0..len) as request (opnum) or response fragments of at most
 * max_xmit bytes (C706 12.6.3.7). Protected fragments carry whole 16-byte
 * blocks so only the last one needs auth padding. alloc_hint is the stub
 * still to come, this fragment's included (MS-RPCE 2.2.2.6).
 */
static int send_stub(struct obuf *o, const struct sec *s, uint8_t ptype, uint32_t call_id,
                     uint16_t ctx_id, uint16_t opnum, const uint8_t *stub, size_t len,
                     uint16_t max_xmit)
{
    bool prot = sec_protects(s);
    size_t room = (size_t)max_xmit - WDSMC_DCERPC_REQ_HDR_LEN;
    size_t chunk;
    size_t off = 0;

    if (prot)
        chunk = (room - WDSMC_DCERPC_TRAILER_LEN - WDSMC_RPCAUTH_SIG_SIZE) & ~(size_t)15;
    else
        chunk = room & ~(size_t)7;
    do {
        struct wdsmc_dcerpc_pdu pdu = {0};
        size_t n = len - off < chunk ? len - off : chunk;
        uint8_t *at;

        pdu.ptype = ptype;
        pdu.call_id = call_id;
        pdu.pfc_flags = (off == 0 ? WDSMC_DCERPC_PFC_FIRST_FRAG : 0) |
                        (off + n == len ? WDSMC_DCERPC_PFC_LAST_FRAG : 0);
        if (ptype == WDSMC_DCERPC_REQUEST) {
            pdu.u.request.alloc_hint = (uint32_t)(len - off);
            pdu.u.request.ctx_id = ctx_id;
            pdu.u.request.opnum = opnum;
        } else {
            pdu.u.response.alloc_hint = (uint32_t)(len - off);
            pdu.u.response.ctx_id = ctx_id;
        }
        pdu.stub = stub + off;
        pdu.stub_len = n;
        if (prot) {
            pdu.has_auth = true;
            pdu.auth.type = s->type;
            pdu.auth.level = s->level;
            pdu.auth.context_id = s->context_id;
            pdu.auth.token = NULL; /* zeroed, filled by the provider */
            pdu.auth.token_len = WDSMC_RPCAUTH_SIG_SIZE;
        }
        int rc = queue_pdu(o, &pdu, &at);
        if (rc < 0)
            return rc;
        if (prot) {
            rc = sec_protect(s, at, &pdu);
            if (rc < 0)
                return rc;
        }
        off += n;
    } while (off < len);
    return 0;
}

/* ======================================================================== */
/* Client                                                                    */
/* ======================================================================== */

struct wdsmc_rpc_client {
    struct wdsmc_rpc_client_cfg cfg;
    enum wdsmc_rpc_client_state state;
    int error;
    struct ibuf in;
    struct obuf out;
    struct sec sec;
    uint16_t max_xmit, max_recv;
    uint32_t assoc_group_id;
    uint32_t next_call_id;
    uint32_t bind_call_id; /* of the bind and every later context leg */
    uint32_t call_id;      /* of the call in progress */
    unsigned legs;
    bool resp_started;
    struct reasm resp;
    int call_err;
    uint8_t tok[WDSMC_RPCAUTH_MAX_TOKEN];
};

static int client_fail(struct wdsmc_rpc_client *c, int err)
{
    c->state = WDSMC_RPC_CLIENT_FAILED;
    if (!c->error)
        c->error = err;
    return err;
}

int wdsmc_rpc_client_new(const struct wdsmc_rpc_client_cfg *cfg, struct wdsmc_rpc_client **ret)
{
    struct wdsmc_rpc_client *c;

    if (cfg->auth && (cfg->auth_level < WDSMC_RPC_LEVEL_CONNECT ||
                      cfg->auth_level > WDSMC_RPC_LEVEL_PKT_PRIVACY))
        return -EINVAL;
    if ((cfg->max_xmit_frag && cfg->max_xmit_frag < WDSMC_DCERPC_MIN_FRAG) ||
        (cfg->max_recv_frag && cfg->max_recv_frag < WDSMC_DCERPC_MIN_FRAG))
        return -EINVAL;
    c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->cfg = *cfg;
    if (!c->cfg.max_xmit_frag)
        c->cfg.max_xmit_frag = WDSMC_DCERPC_DEFAULT_FRAG;
    if (!c->cfg.max_recv_frag)
        c->cfg.max_recv_frag = WDSMC_DCERPC_DEFAULT_FRAG;
    if (!c->cfg.max_stub || c->cfg.max_stub > WDSMC_RPC_MAX_STUB)
        c->cfg.max_stub = WDSMC_RPC_MAX_STUB;
    c->resp.max = c->cfg.max_stub;
    c->out.limit = 2 * c->cfg.max_stub + 2 * WDSMC_DCERPC_MAX_FRAG;
    c->next_call_id = 1;
    c->sec = (struct sec){.a = cfg->auth,
                          .type = cfg->auth ? wdsmc_rpcauth_type(cfg->auth) : 0,
                          .level = cfg->auth ? cfg->auth_level : WDSMC_RPC_LEVEL_NONE,
                          .context_id = cfg->auth_context_id};
    /* Context-leg PDUs carry tokens larger than a request fragment may be. */
    size_t cap = c->cfg.max_recv_frag;
    if (cap < WDSMC_RPCAUTH_MAX_TOKEN + 1024)
        cap = WDSMC_RPCAUTH_MAX_TOKEN + 1024;
    if (ibuf_init(&c->in, cap) < 0) {
        free(c);
        return -ENOMEM;
    }
    *ret = c;
    return 0;
}

void wdsmc_rpc_client_free(struct wdsmc_rpc_client *c)
{
    if (!c)
        return;
    free(c->in.p);
    free(c->out.p);
    free(c->resp.p);
    free(c);
}

enum wdsmc_rpc_client_state wdsmc_rpc_client_state(const struct wdsmc_rpc_client *c)
{
    return c->state;
}

int wdsmc_rpc_client_error(const struct wdsmc_rpc_client *c)
{
    return c->error;
}

size_t wdsmc_rpc_client_pending(const struct wdsmc_rpc_client *c, const uint8_t **ret)
{
    *ret = c->out.p + c->out.off;
    return c->out.len - c->out.off;
}

void wdsmc_rpc_client_consume(struct wdsmc_rpc_client *c, size_t n)
{
    size_t pending = c->out.len - c->out.off;
    c->out.off += n < pending ? n : pending;
}

uint16_t wdsmc_rpc_client_max_xmit(const struct wdsmc_rpc_client *c)
{
    return c->max_xmit;
}

uint16_t wdsmc_rpc_client_max_recv(const struct wdsmc_rpc_client *c)
{
    return c->max_recv;
}

/* A bind or alter_context proposing the interface in NDR 2.0 as context 0
 * (MS-RPCE 3.3.1.5.2.1: the alter_context repeats the bind's contexts). */
static int client_send_leg(struct wdsmc_rpc_client *c, uint8_t ptype, const uint8_t *tok,
                           size_t tok_len)
{
    struct wdsmc_dcerpc_pdu pdu = {0};

    pdu.ptype = ptype;
    pdu.pfc_flags = WDSMC_DCERPC_PFC_FIRST_FRAG | WDSMC_DCERPC_PFC_LAST_FRAG;
    /* MS-RPCE 3.3.1.5.2.2: the providers sign the whole PDU, so offer
     * header signing at integrity and above. */
    if (c->sec.a && c->sec.level >= WDSMC_RPC_LEVEL_PKT_INTEGRITY)
        pdu.pfc_flags |= WDSMC_DCERPC_PFC_HDR_SIGN;
    pdu.call_id = c->bind_call_id;
    pdu.u.bind.max_xmit_frag = c->cfg.max_xmit_frag;
    pdu.u.bind.max_recv_frag = c->cfg.max_recv_frag;
    pdu.u.bind.assoc_group_id = c->assoc_group_id;
    pdu.u.bind.n_ctx = 1;
    pdu.u.bind.ctx[0].ctx_id = 0;
    pdu.u.bind.ctx[0].n_xfer = 1;
    pdu.u.bind.ctx[0].abstract = c->cfg.iface;
    pdu.u.bind.ctx[0].xfer[0] = ndr20;
    if (tok_len) {
        pdu.has_auth = true;
        pdu.auth.type = c->sec.type;
        pdu.auth.level = c->sec.level;
        pdu.auth.context_id = c->sec.context_id;
        pdu.auth.token = tok;
        pdu.auth.token_len = (uint16_t)tok_len;
    }
    return queue_pdu(&c->out, &pdu, NULL);
}

int wdsmc_rpc_client_bind(struct wdsmc_rpc_client *c)
{
    size_t tok_len = 0;
    int rc;

    if (c->state != WDSMC_RPC_CLIENT_IDLE)
        return -EINVAL;
    c->bind_call_id = c->next_call_id++;
    if (c->sec.a) {
        rc = wdsmc_rpcauth_step(c->sec.a, NULL, 0, c->tok, sizeof(c->tok), &tok_len);
        if (rc < 0)
            return client_fail(c, rc);
        /* A provider that needs no token would leave the server unable to
         * tell the level; every provider here starts with one. */
        if (tok_len == 0)
            return client_fail(c, -EPROTO);
        if (rc == WDSMC_RPCAUTH_DONE)
            c->sec.done = true;
    }
    c->legs = 1;
    rc = client_send_leg(c, WDSMC_DCERPC_BIND, c->tok, tok_len);
    if (rc < 0)
        return client_fail(c, rc);
    c->state = WDSMC_RPC_CLIENT_BINDING;
    return 0;
}

/* MS-RPCE 3.3.1.5.6: our only context must come back accepted in NDR. */
static int client_check_results(const struct wdsmc_dcerpc_pdu *pdu)
{
    if (pdu->u.ack.n_results < 1)
        return -EPROTO;
    const struct wdsmc_dcerpc_result *r = &pdu->u.ack.results[0];
    if (r->result != WDSMC_DCERPC_ACCEPTANCE || !wdsmc_dcerpc_syntax_eq(&r->xfer, &ndr20))
        return -EPROTONOSUPPORT;
    return 0;
}

/* Process the server's token of a bind_ack or alter_context_resp and send
 * the next leg, if any (MS-RPCE 3.3.1.5.2.1). */
static int client_auth_leg(struct wdsmc_rpc_client *c, const struct wdsmc_dcerpc_pdu *pdu)
{
    size_t tok_len = 0;
    int rc;

    if (!c->sec.a) {
        c->state = WDSMC_RPC_CLIENT_READY;
        return 0;
    }
    if (c->sec.done) {
        /* The last leg went out in an alter_context; what comes back (an
         * empty or absent token) needs no processing. */
        c->state = WDSMC_RPC_CLIENT_READY;
        return 0;
    }
    if (!pdu->has_auth)
        return -EACCES;
    if (pdu->auth.type != c->sec.type || pdu->auth.context_id != c->sec.context_id)
        return -EPROTO;
    rc = wdsmc_rpcauth_step(c->sec.a, pdu->auth.token, pdu->auth.token_len, c->tok, sizeof(c->tok),
                            &tok_len);
    if (rc < 0)
        return rc;
    if (rc == WDSMC_RPCAUTH_DONE) {
        c->sec.done = true;
        if (tok_len == 0) {
            c->state = WDSMC_RPC_CLIENT_READY;
            return 0;
        }
        /* MS-RPCE 2.2.1.1.7: NTLM has 3 legs, its last goes in rpc_auth3,
         * which the server does not answer (2.2.2.10). */
        if (c->sec.type == WDSMC_RPC_AUTHN_WINNT) {
            struct wdsmc_dcerpc_pdu a3 = {0};
            a3.ptype = WDSMC_DCERPC_AUTH3;
            a3.pfc_flags = WDSMC_DCERPC_PFC_FIRST_FRAG | WDSMC_DCERPC_PFC_LAST_FRAG;
            a3.call_id = c->bind_call_id;
            a3.has_auth = true;
            a3.auth.type = c->sec.type;
            a3.auth.level = c->sec.level;
            a3.auth.context_id = c->sec.context_id;
            a3.auth.token = c->tok;
            a3.auth.token_len = (uint16_t)tok_len;
            rc = queue_pdu(&c->out, &a3, NULL);
            if (rc < 0)
                return rc;
            c->state = WDSMC_RPC_CLIENT_READY;
            return 0;
        }
    } else if (tok_len == 0) {
        return -EPROTO;
    }
    if (++c->legs > WDSMC_RPC_MAX_LEGS)
        return -EPROTO;
    rc = client_send_leg(c, WDSMC_DCERPC_ALTER_CONTEXT, c->tok, tok_len);
    if (rc < 0)
        return rc;
    c->state = WDSMC_RPC_CLIENT_ALTERING;
    return 0;
}

static int client_on_ack(struct wdsmc_rpc_client *c, const struct wdsmc_dcerpc_pdu *pdu)
{
    int rc;

    if (pdu->call_id != c->bind_call_id)
        return -EPROTO;
    if (pdu->ptype == WDSMC_DCERPC_BIND_ACK) {
        /* C706 12.6.4.4: the server's max_recv_frag bounds what we send,
         * its max_xmit_frag what it will send us. */
        uint16_t xmit = pdu->u.ack.max_recv_frag < c->cfg.max_xmit_frag ? pdu->u.ack.max_recv_frag
                                                                        : c->cfg.max_xmit_frag;
        uint16_t recv = pdu->u.ack.max_xmit_frag;
        if (xmit < WDSMC_DCERPC_MIN_FRAG || recv < WDSMC_DCERPC_MIN_FRAG ||
            recv > c->cfg.max_recv_frag)
            return -EPROTO;
        c->max_xmit = xmit;
        c->max_recv = recv;
        c->assoc_group_id = pdu->u.ack.assoc_group_id;
        rc = client_check_results(pdu);
        if (rc < 0)
            return rc;
    } else if (pdu->u.ack.n_results) {
        rc = client_check_results(pdu);
        if (rc < 0)
            return rc;
    }
    return client_auth_leg(c, pdu);
}

static int client_on_response(struct wdsmc_rpc_client *c, uint8_t *buf,
                              struct wdsmc_dcerpc_pdu *pdu)
{
    int rc;

    if (pdu->call_id != c->call_id || pdu->frag_length > c->max_recv)
        return -EPROTO;
    if (!c->resp_started != !!(pdu->pfc_flags & WDSMC_DCERPC_PFC_FIRST_FRAG))
        return -EPROTO;
    if (!c->resp_started && pdu->u.response.alloc_hint > c->resp.max)
        return -EMSGSIZE;
    c->resp_started = true;
    if (sec_protects(&c->sec)) {
        rc = sec_unprotect(&c->sec, buf, pdu);
        if (rc < 0)
            return rc;
    } else if (pdu->has_auth && !c->sec.a) {
        return -EPROTO;
    }
    rc = reasm_append(&c->resp, buf + pdu->stub_off, pdu->stub_len);
    if (rc < 0)
        return rc;
    if (pdu->pfc_flags & WDSMC_DCERPC_PFC_LAST_FRAG) {
        c->call_err = 0;
        c->state = WDSMC_RPC_CLIENT_DONE;
    }
    return 0;
}

static int client_process(void *self, uint8_t *buf, size_t len)
{
    struct wdsmc_rpc_client *c = self;
    struct wdsmc_dcerpc_pdu pdu;
    int rc = wdsmc_dcerpc_decode(buf, len, &pdu);

    if (rc < 0)
        return rc;
    switch (pdu.ptype) {
    case WDSMC_DCERPC_BIND_ACK:
        if (c->state != WDSMC_RPC_CLIENT_BINDING)
            return -EPROTO;
        return client_on_ack(c, &pdu);
    case WDSMC_DCERPC_ALTER_CONTEXT_RESP:
        if (c->state != WDSMC_RPC_CLIENT_ALTERING)
            return -EPROTO;
        return client_on_ack(c, &pdu);
    case WDSMC_DCERPC_BIND_NAK:
        if (c->state != WDSMC_RPC_CLIENT_BINDING)
            return -EPROTO;
        return wdsmc_dcerpc_nak_to_errno(pdu.u.nak.reason);
    case WDSMC_DCERPC_RESPONSE:
        if (c->state != WDSMC_RPC_CLIENT_CALLING)
            return -EPROTO;
        return client_on_response(c, buf, &pdu);
    case WDSMC_DCERPC_FAULT:
        /* A fault for the call in progress ends that call only; any other
         * (a failed alter_context, call_id 0) ends the association. */
        if (c->state == WDSMC_RPC_CLIENT_CALLING && pdu.call_id == c->call_id) {
            c->call_err = wdsmc_dcerpc_fault_to_errno(pdu.u.fault.status);
            c->resp.len = 0;
            c->state = WDSMC_RPC_CLIENT_DONE;
            return 0;
        }
        return wdsmc_dcerpc_fault_to_errno(pdu.u.fault.status);
    case WDSMC_DCERPC_SHUTDOWN:
        /* C706 12.6.4.8: a hint that the server wants the connection
         * closed once idle; the caller sees its EOF soon enough. */
        return 0;
    default:
        return -EPROTO;
    }
}

int wdsmc_rpc_client_input(struct wdsmc_rpc_client *c, const uint8_t *data, size_t len)
{
    if (c->state == WDSMC_RPC_CLIENT_FAILED)
        return c->error;
    int rc = feed(&c->in, data, len, client_process, c);
    if (rc < 0)
        return client_fail(c, rc);
    return 0;
}

int wdsmc_rpc_client_call(struct wdsmc_rpc_client *c, uint16_t opnum, const uint8_t *stub,
                          size_t len)
{
    if (c->state != WDSMC_RPC_CLIENT_READY)
        return -EINVAL;
    if (len > c->cfg.max_stub)
        return -EMSGSIZE;
    c->call_id = c->next_call_id++;
    c->resp.len = 0;
    c->resp_started = false;
    int rc = send_stub(&c->out, &c->sec, WDSMC_DCERPC_REQUEST, c->call_id, 0, opnum, stub, len,
                       c->max_xmit);
    if (rc < 0)
        return client_fail(c, rc);
    c->state = WDSMC_RPC_CLIENT_CALLING;
    return 0;
}

int wdsmc_rpc_client_take_result(struct wdsmc_rpc_client *c, uint8_t **ret_stub, size_t *ret_len)
{
    if (c->state == WDSMC_RPC_CLIENT_CALLING)
        return -EAGAIN;
    if (c->state != WDSMC_RPC_CLIENT_DONE)
        return -EINVAL;
    c->state = WDSMC_RPC_CLIENT_READY;
    *ret_stub = NULL;
    *ret_len = 0;
    if (c->call_err)
        return c->call_err;
    if (c->resp.len) {
        /* Hand over the reassembly buffer itself. */
        *ret_stub = c->resp.p;
        *ret_len = c->resp.len;
        c->resp.p = NULL;
        c->resp.cap = c->resp.len = 0;
    }
    return 0;
}

/* ======================================================================== */
/* Server                                                                    */
/* ======================================================================== */

enum srv_auth {
    SRV_AUTH_NONE,    /* no security context requested */
    SRV_AUTH_PENDING, /* legs in progress */
    SRV_AUTH_DONE,
    SRV_AUTH_FAILED, /* calls are refused with access denied */
};

struct wdsmc_rpc_server {
    struct wdsmc_rpc_server_cfg cfg;
    int dead; /* a fatal error: input is refused */
    struct ibuf in;
    struct obuf out;
    bool bound;
    uint16_t max_xmit, max_recv;
    uint32_t assoc_group_id;
    uint8_t n_ctx;
    uint16_t ctx_ids[WDSMC_DCERPC_MAX_CTX];
    bool hdr_sign;
    struct sec sec;
    enum srv_auth auth;
    unsigned legs;
    /* The call being reassembled. */
    bool in_call;
    bool have_call_id;
    uint32_t call_id; /* current, or last seen */
    uint16_t opnum, ctx_id;
    uint32_t refuse; /* nonzero: fault status to answer instead of calling */
    struct reasm req;
    uint8_t tok[WDSMC_RPCAUTH_MAX_TOKEN];
};

int wdsmc_rpc_server_new(const struct wdsmc_rpc_server_cfg *cfg, struct wdsmc_rpc_server **ret)
{
    struct wdsmc_rpc_server *s;

    if (!cfg->dispatch)
        return -EINVAL;
    if ((cfg->max_xmit_frag && cfg->max_xmit_frag < WDSMC_DCERPC_MIN_FRAG) ||
        (cfg->max_recv_frag && cfg->max_recv_frag < WDSMC_DCERPC_MIN_FRAG))
        return -EINVAL;
    if (cfg->sec_addr && strlen(cfg->sec_addr) + 1 > WDSMC_DCERPC_MAX_SEC_ADDR)
        return -EINVAL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->cfg = *cfg;
    if (!s->cfg.max_xmit_frag)
        s->cfg.max_xmit_frag = WDSMC_DCERPC_DEFAULT_FRAG;
    if (!s->cfg.max_recv_frag)
        s->cfg.max_recv_frag = WDSMC_DCERPC_DEFAULT_FRAG;
    if (!s->cfg.max_stub || s->cfg.max_stub > WDSMC_RPC_MAX_STUB)
        s->cfg.max_stub = WDSMC_RPC_MAX_STUB;
    s->req.max = s->cfg.max_stub;
    s->out.limit = 2 * s->cfg.max_stub + 2 * WDSMC_DCERPC_MAX_FRAG;
    s->sec.level = WDSMC_RPC_LEVEL_NONE;
    size_t cap = s->cfg.max_recv_frag;
    if (cap < WDSMC_RPCAUTH_MAX_TOKEN + 1024)
        cap = WDSMC_RPCAUTH_MAX_TOKEN + 1024;
    if (ibuf_init(&s->in, cap) < 0) {
        free(s);
        return -ENOMEM;
    }
    *ret = s;
    return 0;
}

void wdsmc_rpc_server_free(struct wdsmc_rpc_server *s)
{
    if (!s)
        return;
    wdsmc_rpcauth_free(s->sec.a);
    free(s->in.p);
    free(s->out.p);
    free(s->req.p);
    free(s);
}

size_t wdsmc_rpc_server_pending(const struct wdsmc_rpc_server *s, const uint8_t **ret)
{
    *ret = s->out.p + s->out.off;
    return s->out.len - s->out.off;
}

void wdsmc_rpc_server_consume(struct wdsmc_rpc_server *s, size_t n)
{
    size_t pending = s->out.len - s->out.off;
    s->out.off += n < pending ? n : pending;
}

bool wdsmc_rpc_server_authenticated(const struct wdsmc_rpc_server *s)
{
    return s->auth == SRV_AUTH_DONE;
}

static int srv_send_nak(struct wdsmc_rpc_server *s, uint32_t call_id, uint16_t reason)
{
    struct wdsmc_dcerpc_pdu pdu = {0};

    pdu.ptype = WDSMC_DCERPC_BIND_NAK;
    pdu.pfc_flags = WDSMC_DCERPC_PFC_FIRST_FRAG | WDSMC_DCERPC_PFC_LAST_FRAG;
    pdu.call_id = call_id;
    pdu.u.nak.reason = reason;
    /* C706 12.6.4.5: the versions we speak, 5.0 only. */
    pdu.u.nak.n_versions = 1;
    pdu.u.nak.versions[0][0] = 5;
    pdu.u.nak.versions[0][1] = 0;
    return queue_pdu(&s->out, &pdu, NULL);
}

static int srv_send_fault(struct wdsmc_rpc_server *s, uint32_t call_id, uint16_t ctx_id,
                          uint32_t status, bool did_not_execute)
{
    struct wdsmc_dcerpc_pdu pdu = {0};

    pdu.ptype = WDSMC_DCERPC_FAULT;
    pdu.pfc_flags = WDSMC_DCERPC_PFC_FIRST_FRAG | WDSMC_DCERPC_PFC_LAST_FRAG |
                    (did_not_execute ? WDSMC_DCERPC_PFC_DID_NOT_EXECUTE : 0);
    pdu.call_id = call_id;
    pdu.u.fault.ctx_id = ctx_id;
    pdu.u.fault.status = status;
    return queue_pdu(&s->out, &pdu, NULL);
}

static bool srv_ctx_known(const struct wdsmc_rpc_server *s, uint16_t ctx_id)
{
    for (uint8_t i = 0; i < s->n_ctx; i++)
        if (s->ctx_ids[i] == ctx_id)
            return true;
    return false;
}

/*
 * Answer each proposed presentation context (C706 12.6.4.4, MS-RPCE
 * 3.3.1.5.3 and 3.3.1.5.6): our interface in NDR 2.0 is accepted; our
 * interface without NDR 2.0 is a provider rejection with
 * proposed_transfer_syntaxes_not_supported; another interface is
 * abstract_syntax_not_supported; a bind-time feature proposal gets
 * negotiate_ack with no feature bits.
 */
static void srv_negotiate(struct wdsmc_rpc_server *s, const struct wdsmc_dcerpc_pdu *in,
                          struct wdsmc_dcerpc_pdu *out)
{
    out->u.ack.n_results = in->u.bind.n_ctx;
    for (uint8_t i = 0; i < in->u.bind.n_ctx; i++) {
        const struct wdsmc_dcerpc_ctx *c = &in->u.bind.ctx[i];
        struct wdsmc_dcerpc_result *r = &out->u.ack.results[i];
        memset(r, 0, sizeof(*r));
        /* MS-RPCE 3.3.1.5.3: the prefix is on the single transfer syntax. */
        if (c->n_xfer == 1 && wdsmc_dcerpc_is_bind_time_feature(&c->xfer[0])) {
            r->result = WDSMC_DCERPC_NEGOTIATE_ACK;
            continue;
        }
        /* C706 2.4.1: same major version, minor not above ours. */
        uint32_t v = c->abstract.version, ours = s->cfg.iface.version;
        if (!wdsmc_uuid_eq(&c->abstract.uuid, &s->cfg.iface.uuid) ||
            (v & 0xFFFF) != (ours & 0xFFFF) || (v >> 16) > (ours >> 16)) {
            r->result = WDSMC_DCERPC_PROVIDER_REJECTION;
            r->reason = WDSMC_DCERPC_ABSTRACT_SYNTAX_NOT_SUPPORTED;
            continue;
        }
        bool ndr = false;
        for (uint8_t k = 0; k < c->n_xfer; k++)
            ndr = ndr || wdsmc_dcerpc_syntax_eq(&c->xfer[k], &ndr20);
        if (!ndr) {
            r->result = WDSMC_DCERPC_PROVIDER_REJECTION;
            r->reason = WDSMC_DCERPC_TRANSFER_SYNTAXES_NOT_SUPPORTED;
            continue;
        }
        if (!srv_ctx_known(s, c->ctx_id)) {
            if (s->n_ctx == WDSMC_DCERPC_MAX_CTX) {
                r->result = WDSMC_DCERPC_PROVIDER_REJECTION;
                r->reason = WDSMC_DCERPC_LOCAL_LIMIT_EXCEEDED;
                continue;
            }
            s->ctx_ids[s->n_ctx++] = c->ctx_id;
        }
        r->result = WDSMC_DCERPC_ACCEPTANCE;
        r->xfer = ndr20;
    }
}

/* Answer to a bind or alter_context: bind_ack or alter_context_resp with
 * the context results and, when the provider produced one, its token. */
static int srv_send_ack(struct wdsmc_rpc_server *s, const struct wdsmc_dcerpc_pdu *in,
                        struct wdsmc_dcerpc_pdu *out, size_t tok_len)
{
    out->ptype = in->ptype == WDSMC_DCERPC_BIND ? WDSMC_DCERPC_BIND_ACK
                                                : WDSMC_DCERPC_ALTER_CONTEXT_RESP;
    out->pfc_flags = WDSMC_DCERPC_PFC_FIRST_FRAG | WDSMC_DCERPC_PFC_LAST_FRAG;
    if (s->hdr_sign)
        out->pfc_flags |= WDSMC_DCERPC_PFC_HDR_SIGN;
    out->call_id = in->call_id;
    out->u.ack.max_xmit_frag = s->max_xmit;
    out->u.ack.max_recv_frag = s->max_recv;
    out->u.ack.assoc_group_id = s->assoc_group_id;
    /* C706 12.6.4.4: only bind_ack names the secondary address. */
    if (in->ptype == WDSMC_DCERPC_BIND && s->cfg.sec_addr) {
        out->u.ack.sec_addr = s->cfg.sec_addr;
        out->u.ack.sec_addr_len = (uint16_t)(strlen(s->cfg.sec_addr) + 1);
    }
    if (tok_len) {
        out->has_auth = true;
        out->auth.type = s->sec.type;
        out->auth.level = s->sec.level;
        out->auth.context_id = s->sec.context_id;
        out->auth.token = s->tok;
        out->auth.token_len = (uint16_t)tok_len;
    }
    return queue_pdu(&s->out, out, NULL);
}

/*
 * Run the provider on a context leg's token. Returns the step result
 * (CONTINUE/DONE) with the output length in *ret_tok_len, or a negative
 * errno.
 */
static int srv_auth_step(struct wdsmc_rpc_server *s, const struct wdsmc_dcerpc_pdu *in,
                         size_t *ret_tok_len)
{
    int rc = wdsmc_rpcauth_step(s->sec.a, in->auth.token, in->auth.token_len, s->tok,
                                sizeof(s->tok), ret_tok_len);
    if (rc < 0) {
        s->auth = SRV_AUTH_FAILED;
        return rc;
    }
    if (rc == WDSMC_RPCAUTH_DONE) {
        s->auth = SRV_AUTH_DONE;
        s->sec.done = true;
    } else if (*ret_tok_len == 0 || ++s->legs > WDSMC_RPC_MAX_LEGS) {
        s->auth = SRV_AUTH_FAILED;
        return -EPROTO;
    }
    return rc;
}

/* Start a security context from the trailer of a bind or alter_context.
 * Returns 0, or -EACCES with the bind_nak reason in *ret_reason. */
static int srv_auth_begin(struct wdsmc_rpc_server *s, const struct wdsmc_dcerpc_pdu *in,
                          uint16_t *ret_reason)
{
    uint8_t level = in->auth.level;

    /* MS-RPCE 2.2.1.1.8: CALL is processed as PKT; NONE and DEFAULT make
     * no sense with a token. */
    if (level < WDSMC_RPC_LEVEL_CONNECT || level > WDSMC_RPC_LEVEL_PKT_PRIVACY) {
        *ret_reason = WDSMC_DCERPC_NAK_NOT_SPECIFIED;
        return -EACCES;
    }
    if (level == WDSMC_RPC_LEVEL_CALL)
        level = WDSMC_RPC_LEVEL_PKT;
    s->sec.a = NULL;
    if (!s->cfg.auth_new || s->cfg.auth_new(s->cfg.user, in->auth.type, &s->sec.a) < 0 ||
        !s->sec.a) {
        s->sec.a = NULL;
        *ret_reason = WDSMC_DCERPC_NAK_AUTH_TYPE_NOT_RECOGNIZED;
        return -EACCES;
    }
    s->sec.type = in->auth.type;
    s->sec.level = level;
    s->sec.context_id = in->auth.context_id;
    s->auth = SRV_AUTH_PENDING;
    s->legs = 1;
    return 0;
}

static int srv_on_bind(struct wdsmc_rpc_server *s, const struct wdsmc_dcerpc_pdu *in)
{
    struct wdsmc_dcerpc_pdu out = {0};
    size_t tok_len = 0;
    int rc;

    if (s->bound) {
        /* C706 11.2: a second bind on a connection is a protocol error. */
        srv_send_nak(s, in->call_id, WDSMC_DCERPC_NAK_NOT_SPECIFIED);
        return -EPROTO;
    }
    if (in->u.bind.max_xmit_frag < WDSMC_DCERPC_MIN_FRAG ||
        in->u.bind.max_recv_frag < WDSMC_DCERPC_MIN_FRAG) {
        srv_send_nak(s, in->call_id, WDSMC_DCERPC_NAK_PROTOCOL_VERSION_NOT_SUPPORTED);
        return -EPROTO;
    }
    s->max_xmit = in->u.bind.max_recv_frag < s->cfg.max_xmit_frag ? in->u.bind.max_recv_frag
                                                                  : s->cfg.max_xmit_frag;
    s->max_recv = in->u.bind.max_xmit_frag < s->cfg.max_recv_frag ? in->u.bind.max_xmit_frag
                                                                  : s->cfg.max_recv_frag;
    s->assoc_group_id =
            in->u.bind.assoc_group_id ? in->u.bind.assoc_group_id : s->cfg.assoc_group_id;
    if (in->has_auth) {
        uint16_t reason;
        if (srv_auth_begin(s, in, &reason) < 0) {
            srv_send_nak(s, in->call_id, reason);
            return -EACCES;
        }
        /* MS-RPCE 3.3.1.5.2.2: our providers sign the whole PDU. */
        s->hdr_sign = (in->pfc_flags & WDSMC_DCERPC_PFC_HDR_SIGN) != 0;
        rc = srv_auth_step(s, in, &tok_len);
        if (rc < 0) {
            /* MS-RPCE 2.2.2.5 invalid_checksum: the package failed. */
            srv_send_nak(s, in->call_id, WDSMC_DCERPC_NAK_INVALID_CHECKSUM);
            return rc;
        }
    }
    srv_negotiate(s, in, &out);
    s->bound = true;
    return srv_send_ack(s, in, &out, tok_len);
}

static int srv_on_alter(struct wdsmc_rpc_server *s, const struct wdsmc_dcerpc_pdu *in)
{
    struct wdsmc_dcerpc_pdu out = {0};
    size_t tok_len = 0;
    int rc;

    if (!s->bound)
        return -EPROTO;
    if (in->has_auth) {
        if (s->auth == SRV_AUTH_NONE) {
            /* MS-RPCE 3.3.1.5.2.1: a context may be built after the bind. */
            uint16_t reason;
            if (srv_auth_begin(s, in, &reason) < 0) {
                srv_send_fault(s, in->call_id, 0, WDSMC_NCA_ACCESS_DENIED, true);
                return 0;
            }
        } else if (s->auth != SRV_AUTH_PENDING || in->auth.type != s->sec.type ||
                   in->auth.context_id != s->sec.context_id) {
            /* One security context per connection: no multiplexing was
             * negotiated (MS-RPCE 3.3.1.5.4). */
            srv_send_fault(s, in->call_id, 0, WDSMC_NCA_PROTO_ERROR, true);
            return -EPROTO;
        }
        rc = srv_auth_step(s, in, &tok_len);
        if (rc < 0) {
            /* MS-RPCE 3.3.1.5.2.1: fault for an alter_context. Calls on
             * this connection will now be refused. */
            srv_send_fault(s, in->call_id, 0, WDSMC_NCA_ACCESS_DENIED, true);
            return 0;
        }
    }
    srv_negotiate(s, in, &out);
    return srv_send_ack(s, in, &out, tok_len);
}

/* rpc_auth_3 (MS-RPCE 2.2.2.10): never answered; a failure shows on the
 * next call as access denied (3.3.1.5.2.1). */
static int srv_on_auth3(struct wdsmc_rpc_server *s, const struct wdsmc_dcerpc_pdu *in)
{
    size_t tok_len = 0;

    if (!s->bound)
        return -EPROTO;
    if (s->auth != SRV_AUTH_PENDING || !in->has_auth || in->auth.type != s->sec.type ||
        in->auth.context_id != s->sec.context_id) {
        s->auth = SRV_AUTH_FAILED;
        return 0;
    }
    int rc = srv_auth_step(s, in, &tok_len);
    if (rc >= 0 && (rc != WDSMC_RPCAUTH_DONE || tok_len)) {
        /* The provider wants another leg, which rpc_auth_3 cannot have. */
        s->auth = SRV_AUTH_FAILED;
        s->sec.done = false;
    }
    return 0;
}

static int srv_dispatch(struct wdsmc_rpc_server *s)
{
    struct wdsmc_rpc_call_info info = {
            .call_id = s->call_id,
            .opnum = s->opnum,
            .auth_level = WDSMC_RPC_LEVEL_NONE,
    };
    struct wdsmc_rpcauth_info ai;
    uint8_t *out = NULL;
    size_t out_len = 0;
    int rc;

    if (!srv_ctx_known(s, s->ctx_id))
        return srv_send_fault(s, s->call_id, s->ctx_id, WDSMC_NCA_UNK_IF, true);
    /* MS-WDSC 3.1.4: the interface has opnum 0 only. */
    if (s->opnum != 0)
        return srv_send_fault(s, s->call_id, s->ctx_id, WDSMC_NCA_OP_RNG_ERROR, true);
    if (s->auth == SRV_AUTH_DONE) {
        info.authenticated = true;
        info.auth_type = s->sec.type;
        info.auth_level = s->sec.level;
        if (wdsmc_rpcauth_info(s->sec.a, &ai) == 0) {
            info.anonymous = ai.anonymous;
            info.user = ai.user;
        }
    }
    rc = s->cfg.dispatch(s->cfg.user, &info, s->req.p, s->req.len, &out, &out_len);
    if (rc < 0) {
        free(out);
        return srv_send_fault(s, s->call_id, s->ctx_id, wdsmc_dcerpc_errno_to_fault(rc), false);
    }
    if (out_len > s->cfg.max_stub) {
        free(out);
        return srv_send_fault(s, s->call_id, s->ctx_id, WDSMC_NCA_OUT_ARGS_TOO_BIG, false);
    }
    rc = send_stub(&s->out, &s->sec, WDSMC_DCERPC_RESPONSE, s->call_id, s->ctx_id, 0, out, out_len,
                   s->max_xmit);
    free(out);
    return rc;
}

static int srv_on_request(struct wdsmc_rpc_server *s, uint8_t *buf, struct wdsmc_dcerpc_pdu *in)
{
    bool first = in->pfc_flags & WDSMC_DCERPC_PFC_FIRST_FRAG;
    int rc;

    if (!s->bound)
        return -EPROTO;
    if (in->frag_length > s->max_recv) {
        srv_send_fault(s, in->call_id, in->u.request.ctx_id, WDSMC_NCA_PROTO_ERROR, true);
        return -EPROTO;
    }
    if (first) {
        /* MS-RPCE 3.3.3.5.2: call ids increase; no concurrent calls. */
        if (s->in_call || (s->have_call_id && in->call_id <= s->call_id)) {
            srv_send_fault(s, in->call_id, in->u.request.ctx_id, WDSMC_NCA_PROTO_ERROR, true);
            return -EPROTO;
        }
        s->in_call = true;
        s->have_call_id = true;
        s->call_id = in->call_id;
        s->opnum = in->u.request.opnum;
        s->ctx_id = in->u.request.ctx_id;
        s->req.len = 0;
        s->refuse = 0;
        /* MS-RPCE 3.3.3.5.4: too large a request is refused with 5. */
        if (in->u.request.alloc_hint > s->cfg.max_stub)
            s->refuse = WDSMC_NCA_ACCESS_DENIED;
    } else if (!s->in_call) {
        /* MS-RPCE 3.3.3.5.6: a straggler of a call already answered. */
        if (s->have_call_id && in->call_id <= s->call_id)
            return 0;
        srv_send_fault(s, in->call_id, in->u.request.ctx_id, WDSMC_NCA_PROTO_ERROR, true);
        return -EPROTO;
    } else if (in->call_id != s->call_id || in->u.request.opnum != s->opnum ||
               in->u.request.ctx_id != s->ctx_id) {
        srv_send_fault(s, s->call_id, s->ctx_id, WDSMC_NCA_PROTO_ERROR, true);
        return -EPROTO;
    }

    switch (s->auth) {
    case SRV_AUTH_NONE:
        if (in->has_auth) {
            srv_send_fault(s, s->call_id, s->ctx_id, WDSMC_NCA_PROTO_ERROR, true);
            return -EPROTO;
        }
        break;
    case SRV_AUTH_PENDING:
    case SRV_AUTH_FAILED:
        /* A context that never completed: nothing can be checked, the
         * call is refused (MS-RPCE 3.3.1.5.2.1). */
        s->refuse = WDSMC_NCA_ACCESS_DENIED;
        break;
    case SRV_AUTH_DONE:
        if (sec_protects(&s->sec)) {
            rc = sec_unprotect(&s->sec, buf, in);
            if (rc < 0) {
                /* The provider's sequence is out of step with the peer's
                 * now; nothing later on this connection can be trusted. */
                srv_send_fault(s, s->call_id, s->ctx_id, WDSMC_NCA_ACCESS_DENIED, true);
                return -EACCES;
            }
        }
        break;
    }

    if (!s->refuse) {
        rc = reasm_append(&s->req, buf + in->stub_off, in->stub_len);
        if (rc == -EMSGSIZE)
            s->refuse = WDSMC_NCA_ACCESS_DENIED;
        else if (rc < 0)
            return rc;
    }
    if (!(in->pfc_flags & WDSMC_DCERPC_PFC_LAST_FRAG))
        return 0;
    s->in_call = false;
    if (s->refuse) {
        s->req.len = 0;
        return srv_send_fault(s, s->call_id, s->ctx_id, s->refuse, true);
    }
    rc = srv_dispatch(s);
    s->req.len = 0;
    return rc;
}

static int srv_process(void *self, uint8_t *buf, size_t len)
{
    struct wdsmc_rpc_server *s = self;
    struct wdsmc_dcerpc_pdu pdu;
    int rc = wdsmc_dcerpc_decode(buf, len, &pdu);

    if (rc < 0) {
        /* Say why before the connection is closed, when we can. */
        uint8_t ptype = buf[2];
        uint32_t call_id = ndr_get32(buf + 12);
        if (ptype == WDSMC_DCERPC_BIND && !s->bound)
            srv_send_nak(s, call_id,
                         rc == -WDSMC_ETOOMANY ? WDSMC_DCERPC_NAK_LOCAL_LIMIT_EXCEEDED
                                               : WDSMC_DCERPC_NAK_PROTOCOL_VERSION_NOT_SUPPORTED);
        else if (s->bound)
            srv_send_fault(s, call_id, 0, WDSMC_NCA_PROTO_ERROR, true);
        return rc;
    }
    switch (pdu.ptype) {
    case WDSMC_DCERPC_BIND:
        return srv_on_bind(s, &pdu);
    case WDSMC_DCERPC_ALTER_CONTEXT:
        return srv_on_alter(s, &pdu);
    case WDSMC_DCERPC_AUTH3:
        return srv_on_auth3(s, &pdu);
    case WDSMC_DCERPC_REQUEST:
        return srv_on_request(s, buf, &pdu);
    case WDSMC_DCERPC_ORPHANED:
        /* C706 12.6.4.6: the client abandons the call being sent. */
        if (s->in_call && pdu.call_id == s->call_id) {
            s->in_call = false;
            s->req.len = 0;
        }
        return 0;
    case WDSMC_DCERPC_CO_CANCEL:
        /* Calls are answered as soon as they are complete; there is
         * nothing to cancel. */
        return 0;
    default:
        return -EPROTO;
    }
}

int wdsmc_rpc_server_input(struct wdsmc_rpc_server *s, const uint8_t *data, size_t len)
{
    if (s->dead)
        return s->dead;
    int rc = feed(&s->in, data, len, srv_process, s);
    if (rc == -EPROTONOSUPPORT && !s->bound) {
        /* C706 12.6.4.5: a version we do not speak gets the list of those
         * we do. The header is in, the body may not be. */
        srv_send_nak(s, ndr_get32(s->in.p + 12), WDSMC_DCERPC_NAK_PROTOCOL_VERSION_NOT_SUPPORTED);
    }
    if (rc < 0)
        s->dead = rc;
    return rc;
}
