/* SPDX-License-Identifier: MIT */
/*
 * Connection-oriented DCE/RPC PDU codec (C706 12.6, MS-RPCE 2.2.2).
 *
 * Decoding checks every length before it reads and never trusts a count:
 * the body of each PDU is parsed inside the bytes that precede its
 * sec_trailer, whose place is fixed by frag_length and auth_length alone
 * (MS-RPCE 2.2.2.11), so a body can never overlap the trailer or the token.
 */
#include <errno.h>
#include <string.h>

#include "wdsmc/error.h"
#include "dcerpc.h"

/* ---- little-endian cursors ------------------------------------------------ */

struct rd {
    const uint8_t *base;
    size_t off, end;
};

static bool rd_take(struct rd *r, size_t n, const uint8_t **ret)
{
    if (r->end - r->off < n)
        return false;
    *ret = r->base + r->off;
    r->off += n;
    return true;
}

static bool rd_u8(struct rd *r, uint8_t *v)
{
    const uint8_t *p;
    if (!rd_take(r, 1, &p))
        return false;
    *v = p[0];
    return true;
}

static bool rd_u16(struct rd *r, uint16_t *v)
{
    const uint8_t *p;
    if (!rd_take(r, 2, &p))
        return false;
    *v = ndr_get16(p);
    return true;
}

static bool rd_u32(struct rd *r, uint32_t *v)
{
    const uint8_t *p;
    if (!rd_take(r, 4, &p))
        return false;
    *v = ndr_get32(p);
    return true;
}

static bool rd_syntax(struct rd *r, struct wdsmc_dcerpc_syntax *s)
{
    const uint8_t *p;
    if (!rd_take(r, 20, &p))
        return false;
    memcpy(s->uuid.b, p, 16);
    s->version = ndr_get32(p + 16);
    return true;
}

struct wr {
    uint8_t *p;
    size_t cap, len;
    bool overflow;
};

static uint8_t *wr_reserve(struct wr *w, size_t n)
{
    if (w->overflow || w->cap - w->len < n) {
        w->overflow = true;
        w->len += n;
        return NULL;
    }
    uint8_t *at = w->p + w->len;
    w->len += n;
    return at;
}

static void wr_u8(struct wr *w, uint8_t v)
{
    uint8_t *at = wr_reserve(w, 1);
    if (at)
        at[0] = v;
}

static void wr_u16(struct wr *w, uint16_t v)
{
    uint8_t *at = wr_reserve(w, 2);
    if (at)
        ndr_put16(at, v);
}

static void wr_u32(struct wr *w, uint32_t v)
{
    uint8_t *at = wr_reserve(w, 4);
    if (at)
        ndr_put32(at, v);
}

static void wr_bytes(struct wr *w, const void *src, size_t n)
{
    uint8_t *at = wr_reserve(w, n);
    if (at && n) {
        if (src)
            memcpy(at, src, n);
        else
            memset(at, 0, n);
    }
}

static void wr_syntax(struct wr *w, const struct wdsmc_dcerpc_syntax *s)
{
    wr_bytes(w, s->uuid.b, 16);
    wr_u32(w, s->version);
}

/* ---- framing ---------------------------------------------------------------- */

/* MS-RPCE 3.3.1.5.1: only 5.0; C706 14.2.5: drep[0] high nibble 1 means
 * little-endian integers. */
static bool hdr_supported(const uint8_t *buf)
{
    return buf[0] == 5 && buf[1] == 0 && (buf[4] >> 4) == 1;
}

ssize_t wdsmc_dcerpc_frag_length(const uint8_t *buf, size_t len, size_t max_frag)
{
    if (len < WDSMC_DCERPC_HDR_LEN)
        return 0;
    if (!hdr_supported(buf))
        return -EPROTONOSUPPORT;
    uint16_t frag = ndr_get16(buf + 8);
    if (frag < WDSMC_DCERPC_HDR_LEN || frag > max_frag)
        return -WDSMC_EVALUE;
    return frag;
}

void wdsmc_dcerpc_set_frag_length(uint8_t *buf, uint16_t frag_length)
{
    ndr_put16(buf + 8, frag_length);
}

bool wdsmc_dcerpc_is_bind_time_feature(const struct wdsmc_dcerpc_syntax *s)
{
    static const uint8_t prefix[8] = {0x2C, 0x1C, 0xB7, 0x6C, 0x12, 0x98, 0x40, 0x45};
    return memcmp(s->uuid.b, prefix, sizeof(prefix)) == 0;
}

/* ---- decoding --------------------------------------------------------------- */

static int decode_bind(struct rd *r, struct wdsmc_dcerpc_pdu *pdu)
{
    uint8_t n_ctx, u8;
    uint16_t u16;

    if (!rd_u16(r, &pdu->u.bind.max_xmit_frag) || !rd_u16(r, &pdu->u.bind.max_recv_frag) ||
        !rd_u32(r, &pdu->u.bind.assoc_group_id) || !rd_u8(r, &n_ctx) || !rd_u8(r, &u8) ||
        !rd_u16(r, &u16))
        return -WDSMC_ETRUNC;
    if (n_ctx > WDSMC_DCERPC_MAX_CTX)
        return -WDSMC_ETOOMANY;
    pdu->u.bind.n_ctx = n_ctx;
    for (uint8_t i = 0; i < n_ctx; i++) {
        struct wdsmc_dcerpc_ctx *c = &pdu->u.bind.ctx[i];
        if (!rd_u16(r, &c->ctx_id) || !rd_u8(r, &c->n_xfer) || !rd_u8(r, &u8) ||
            !rd_syntax(r, &c->abstract))
            return -WDSMC_ETRUNC;
        if (c->n_xfer > WDSMC_DCERPC_MAX_XFER)
            return -WDSMC_ETOOMANY;
        for (uint8_t k = 0; k < c->n_xfer; k++)
            if (!rd_syntax(r, &c->xfer[k]))
                return -WDSMC_ETRUNC;
    }
    return 0;
}

static int decode_ack(struct rd *r, struct wdsmc_dcerpc_pdu *pdu)
{
    const uint8_t *p;
    uint8_t n, u8;
    uint16_t u16;

    if (!rd_u16(r, &pdu->u.ack.max_xmit_frag) || !rd_u16(r, &pdu->u.ack.max_recv_frag) ||
        !rd_u32(r, &pdu->u.ack.assoc_group_id) || !rd_u16(r, &pdu->u.ack.sec_addr_len))
        return -WDSMC_ETRUNC;
    if (pdu->u.ack.sec_addr_len > WDSMC_DCERPC_MAX_SEC_ADDR)
        return -WDSMC_ETOOMANY;
    if (!rd_take(r, pdu->u.ack.sec_addr_len, &p))
        return -WDSMC_ETRUNC;
    if (pdu->u.ack.sec_addr_len) {
        /* port_any_t is a NUL-terminated string (C706 12.6.3.1). */
        if (p[pdu->u.ack.sec_addr_len - 1] != 0)
            return -WDSMC_ESTRING;
        pdu->u.ack.sec_addr = (const char *)p;
    }
    /* The result list is 4-byte aligned from the start of the PDU. */
    size_t pad = (4 - r->off % 4) % 4;
    if (!rd_take(r, pad, &p))
        return -WDSMC_ETRUNC;
    if (!rd_u8(r, &n) || !rd_u8(r, &u8) || !rd_u16(r, &u16))
        return -WDSMC_ETRUNC;
    if (n > WDSMC_DCERPC_MAX_CTX)
        return -WDSMC_ETOOMANY;
    pdu->u.ack.n_results = n;
    for (uint8_t i = 0; i < n; i++) {
        struct wdsmc_dcerpc_result *res = &pdu->u.ack.results[i];
        if (!rd_u16(r, &res->result) || !rd_u16(r, &res->reason) || !rd_syntax(r, &res->xfer))
            return -WDSMC_ETRUNC;
    }
    return 0;
}

static int decode_nak(struct rd *r, struct wdsmc_dcerpc_pdu *pdu)
{
    uint8_t n;

    if (!rd_u16(r, &pdu->u.nak.reason))
        return -WDSMC_ETRUNC;
    /* Some peers stop after the reason; the version list is then empty. */
    if (!rd_u8(r, &n))
        return 0;
    if (n > WDSMC_DCERPC_MAX_VERSIONS)
        return -WDSMC_ETOOMANY;
    for (uint8_t i = 0; i < n; i++)
        if (!rd_u8(r, &pdu->u.nak.versions[i][0]) || !rd_u8(r, &pdu->u.nak.versions[i][1]))
            return -WDSMC_ETRUNC;
    pdu->u.nak.n_versions = n;
    /* MS-RPCE 2.2.2.9: an optional Signature and extended error
     * information may follow; they are ignored. */
    r->off = r->end;
    return 0;
}

int wdsmc_dcerpc_decode(const uint8_t *buf, size_t len, struct wdsmc_dcerpc_pdu *pdu)
{
    struct rd r;
    size_t body_end;
    int rc = 0;

    memset(pdu, 0, sizeof(*pdu));
    if (len < WDSMC_DCERPC_HDR_LEN)
        return -WDSMC_ETRUNC;
    if (!hdr_supported(buf))
        return -EPROTONOSUPPORT;
    pdu->ptype = buf[2];
    pdu->pfc_flags = buf[3];
    pdu->frag_length = ndr_get16(buf + 8);
    pdu->auth_length = ndr_get16(buf + 10);
    pdu->call_id = ndr_get32(buf + 12);
    if (pdu->frag_length < WDSMC_DCERPC_HDR_LEN)
        return -WDSMC_ECOUNT;
    if (pdu->frag_length > len)
        return -WDSMC_ETRUNC;
    if (pdu->frag_length < len)
        return -WDSMC_ETRAILING;

    body_end = len;
    if (pdu->auth_length) {
        /* MS-RPCE 2.2.2.11: the trailer starts at frag_length -
         * auth_length - 8, after the common header at least. */
        if ((size_t)pdu->auth_length + WDSMC_DCERPC_TRAILER_LEN > len - WDSMC_DCERPC_HDR_LEN)
            return -WDSMC_ECOUNT;
        size_t t = len - pdu->auth_length - WDSMC_DCERPC_TRAILER_LEN;
        pdu->has_auth = true;
        pdu->auth.type = buf[t];
        pdu->auth.level = buf[t + 1];
        pdu->auth.pad_len = buf[t + 2];
        pdu->auth.context_id = ndr_get32(buf + t + 4);
        pdu->auth.token = buf + t + WDSMC_DCERPC_TRAILER_LEN;
        pdu->auth.token_len = pdu->auth_length;
        pdu->auth.trailer_off = t;
        body_end = t;
    }
    r = (struct rd){.base = buf, .off = WDSMC_DCERPC_HDR_LEN, .end = body_end};

    switch (pdu->ptype) {
    case WDSMC_DCERPC_BIND:
    case WDSMC_DCERPC_ALTER_CONTEXT:
        rc = decode_bind(&r, pdu);
        break;
    case WDSMC_DCERPC_BIND_ACK:
    case WDSMC_DCERPC_ALTER_CONTEXT_RESP:
        rc = decode_ack(&r, pdu);
        break;
    case WDSMC_DCERPC_BIND_NAK:
        rc = decode_nak(&r, pdu);
        break;
    case WDSMC_DCERPC_REQUEST: {
        const uint8_t *p;
        if (!rd_u32(&r, &pdu->u.request.alloc_hint) || !rd_u16(&r, &pdu->u.request.ctx_id) ||
            !rd_u16(&r, &pdu->u.request.opnum))
            return -WDSMC_ETRUNC;
        if (pdu->pfc_flags & WDSMC_DCERPC_PFC_OBJECT_UUID) {
            if (!rd_take(&r, 16, &p))
                return -WDSMC_ETRUNC;
            memcpy(pdu->u.request.object.b, p, 16);
        }
        break;
    }
    case WDSMC_DCERPC_RESPONSE: {
        uint8_t u8;
        if (!rd_u32(&r, &pdu->u.response.alloc_hint) || !rd_u16(&r, &pdu->u.response.ctx_id) ||
            !rd_u8(&r, &pdu->u.response.cancel_count) || !rd_u8(&r, &u8))
            return -WDSMC_ETRUNC;
        break;
    }
    case WDSMC_DCERPC_FAULT:
        if (!rd_u32(&r, &pdu->u.fault.alloc_hint) || !rd_u16(&r, &pdu->u.fault.ctx_id) ||
            !rd_u8(&r, &pdu->u.fault.cancel_count) || !rd_u8(&r, &pdu->u.fault.flags) ||
            !rd_u32(&r, &pdu->u.fault.status))
            return -WDSMC_ETRUNC;
        /* MS-RPCE 2.2.2.8: clients ignore any stub data (and C706's
         * reserved field) after the status. */
        r.off = r.end;
        break;
    case WDSMC_DCERPC_AUTH3:
    case WDSMC_DCERPC_SHUTDOWN:
    case WDSMC_DCERPC_CO_CANCEL:
    case WDSMC_DCERPC_ORPHANED:
        /* rpc_auth_3's 4 pad bytes (MS-RPCE 2.2.2.10) and any body of the
         * others carry nothing. */
        r.off = r.end;
        break;
    default:
        return -WDSMC_EOPCODE;
    }
    if (rc < 0)
        return rc;

    if (pdu->ptype == WDSMC_DCERPC_REQUEST || pdu->ptype == WDSMC_DCERPC_RESPONSE) {
        /* Everything up to the auth padding is stub data. */
        size_t avail = body_end - r.off;
        size_t pad = pdu->has_auth ? pdu->auth.pad_len : 0;
        if (pad > avail)
            return -WDSMC_ECOUNT;
        pdu->stub = buf + r.off;
        pdu->stub_off = r.off;
        pdu->stub_len = avail - pad;
        return 0;
    }
    /* Bind-type bodies: the auth padding must fit between the body and
     * the trailer. Without a trailer nothing may follow the body. */
    if (pdu->has_auth) {
        if (body_end - r.off < pdu->auth.pad_len)
            return -WDSMC_ECOUNT;
    } else if (r.off != body_end) {
        return -WDSMC_ETRAILING;
    }
    return 0;
}

/* ---- encoding --------------------------------------------------------------- */

static int encode_body(const struct wdsmc_dcerpc_pdu *pdu, struct wr *w)
{
    switch (pdu->ptype) {
    case WDSMC_DCERPC_BIND:
    case WDSMC_DCERPC_ALTER_CONTEXT:
        if (pdu->u.bind.n_ctx > WDSMC_DCERPC_MAX_CTX)
            return -EINVAL;
        wr_u16(w, pdu->u.bind.max_xmit_frag);
        wr_u16(w, pdu->u.bind.max_recv_frag);
        wr_u32(w, pdu->u.bind.assoc_group_id);
        wr_u8(w, pdu->u.bind.n_ctx);
        wr_bytes(w, NULL, 3);
        for (uint8_t i = 0; i < pdu->u.bind.n_ctx; i++) {
            const struct wdsmc_dcerpc_ctx *c = &pdu->u.bind.ctx[i];
            if (c->n_xfer > WDSMC_DCERPC_MAX_XFER)
                return -EINVAL;
            wr_u16(w, c->ctx_id);
            wr_u8(w, c->n_xfer);
            wr_u8(w, 0);
            wr_syntax(w, &c->abstract);
            for (uint8_t k = 0; k < c->n_xfer; k++)
                wr_syntax(w, &c->xfer[k]);
        }
        return 0;
    case WDSMC_DCERPC_BIND_ACK:
    case WDSMC_DCERPC_ALTER_CONTEXT_RESP:
        if (pdu->u.ack.n_results > WDSMC_DCERPC_MAX_CTX ||
            pdu->u.ack.sec_addr_len > WDSMC_DCERPC_MAX_SEC_ADDR ||
            (pdu->u.ack.sec_addr_len && !pdu->u.ack.sec_addr))
            return -EINVAL;
        wr_u16(w, pdu->u.ack.max_xmit_frag);
        wr_u16(w, pdu->u.ack.max_recv_frag);
        wr_u32(w, pdu->u.ack.assoc_group_id);
        wr_u16(w, pdu->u.ack.sec_addr_len);
        wr_bytes(w, pdu->u.ack.sec_addr, pdu->u.ack.sec_addr_len);
        wr_bytes(w, NULL, (4 - w->len % 4) % 4);
        wr_u8(w, pdu->u.ack.n_results);
        wr_bytes(w, NULL, 3);
        for (uint8_t i = 0; i < pdu->u.ack.n_results; i++) {
            wr_u16(w, pdu->u.ack.results[i].result);
            wr_u16(w, pdu->u.ack.results[i].reason);
            wr_syntax(w, &pdu->u.ack.results[i].xfer);
        }
        return 0;
    case WDSMC_DCERPC_BIND_NAK:
        if (pdu->u.nak.n_versions > WDSMC_DCERPC_MAX_VERSIONS)
            return -EINVAL;
        wr_u16(w, pdu->u.nak.reason);
        wr_u8(w, pdu->u.nak.n_versions);
        for (uint8_t i = 0; i < pdu->u.nak.n_versions; i++) {
            wr_u8(w, pdu->u.nak.versions[i][0]);
            wr_u8(w, pdu->u.nak.versions[i][1]);
        }
        wr_bytes(w, NULL, (4 - w->len % 4) % 4);
        return 0;
    case WDSMC_DCERPC_REQUEST:
        wr_u32(w, pdu->u.request.alloc_hint);
        wr_u16(w, pdu->u.request.ctx_id);
        wr_u16(w, pdu->u.request.opnum);
        if (pdu->pfc_flags & WDSMC_DCERPC_PFC_OBJECT_UUID)
            wr_bytes(w, pdu->u.request.object.b, 16);
        return 0;
    case WDSMC_DCERPC_RESPONSE:
        wr_u32(w, pdu->u.response.alloc_hint);
        wr_u16(w, pdu->u.response.ctx_id);
        wr_u8(w, pdu->u.response.cancel_count);
        wr_u8(w, 0);
        return 0;
    case WDSMC_DCERPC_FAULT:
        wr_u32(w, pdu->u.fault.alloc_hint);
        wr_u16(w, pdu->u.fault.ctx_id);
        wr_u8(w, pdu->u.fault.cancel_count);
        wr_u8(w, pdu->u.fault.flags);
        wr_u32(w, pdu->u.fault.status);
        wr_u32(w, 0); /* C706 reserved */
        return 0;
    case WDSMC_DCERPC_AUTH3:
        wr_u32(w, 0); /* MS-RPCE 2.2.2.10 pad */
        return 0;
    case WDSMC_DCERPC_SHUTDOWN:
    case WDSMC_DCERPC_CO_CANCEL:
    case WDSMC_DCERPC_ORPHANED:
        return 0;
    default:
        return -EINVAL;
    }
}

ssize_t wdsmc_dcerpc_encode(struct wdsmc_dcerpc_pdu *pdu, uint8_t *buf, size_t cap)
{
    struct wr w = {.p = buf, .cap = cap};
    bool has_stub = pdu->ptype == WDSMC_DCERPC_REQUEST || pdu->ptype == WDSMC_DCERPC_RESPONSE;
    int rc;

    if (has_stub && pdu->stub_len && !pdu->stub)
        return -EINVAL;
    if (pdu->has_auth && (pdu->auth.token_len == 0))
        return -EINVAL;
    wr_u8(&w, 5); /* rpc_vers */
    wr_u8(&w, 0); /* rpc_vers_minor */
    wr_u8(&w, pdu->ptype);
    wr_u8(&w, pdu->pfc_flags);
    /* drep: little-endian integers, ASCII, IEEE floats */
    wr_u8(&w, 0x10);
    wr_bytes(&w, NULL, 3);
    wr_u16(&w, 0); /* frag_length, below */
    wr_u16(&w, 0); /* auth_length, below */
    wr_u32(&w, pdu->call_id);
    rc = encode_body(pdu, &w);
    if (rc < 0)
        return rc;
    size_t body_start = w.len;
    if (has_stub) {
        pdu->stub_off = w.len;
        wr_bytes(&w, pdu->stub, pdu->stub_len);
    }
    pdu->auth_length = 0;
    if (pdu->has_auth) {
        size_t pad;
        /* MS-RPCE 2.2.2.11: the trailer is 16-byte aligned relative to the
         * stub; the bind-type bodies above already end 4-aligned, which is
         * what Windows sends and any receiver accepts since the trailer is
         * found from frag_length. */
        if (has_stub || pdu->ptype == WDSMC_DCERPC_FAULT)
            pad = (16 - (w.len - body_start) % 16) % 16;
        else
            pad = (4 - w.len % 4) % 4;
        wr_bytes(&w, NULL, pad);
        pdu->auth.pad_len = (uint8_t)pad;
        pdu->auth.trailer_off = w.len;
        wr_u8(&w, pdu->auth.type);
        wr_u8(&w, pdu->auth.level);
        wr_u8(&w, (uint8_t)pad);
        wr_u8(&w, 0); /* auth_reserved */
        wr_u32(&w, pdu->auth.context_id);
        wr_bytes(&w, pdu->auth.token, pdu->auth.token_len);
        pdu->auth_length = pdu->auth.token_len;
    }
    if (w.len > WDSMC_DCERPC_MAX_FRAG)
        return -EINVAL;
    if (w.overflow)
        return -ENOBUFS;
    pdu->frag_length = (uint16_t)w.len;
    ndr_put16(buf + 8, pdu->frag_length);
    ndr_put16(buf + 10, pdu->auth_length);
    return (ssize_t)w.len;
}

/* ---- status mapping ----------------------------------------------------------- */

int wdsmc_dcerpc_fault_to_errno(uint32_t status)
{
    switch (status) {
    case WDSMC_NCA_ACCESS_DENIED:
    case WDSMC_NCA_SEC_PKG_ERROR:
    case WDSMC_NCA_UNSUPPORTED_AUTHN_LEVEL:
    case WDSMC_NCA_INVALID_CHECKSUM:
        return -EACCES;
    case WDSMC_NCA_PROTO_ERROR:
    case WDSMC_NCA_FAULT_CONTEXT_MISMATCH:
        return -EPROTO;
    case WDSMC_NCA_FAULT_NDR:
        return -EBADMSG;
    case WDSMC_NCA_OP_RNG_ERROR:
        return -ENOSYS;
    case WDSMC_NCA_UNK_IF:
    case WDSMC_NCA_INVALID_PRES_CONTEXT_ID:
    case WDSMC_NCA_UNSUPPORTED_TYPE:
        return -EPROTONOSUPPORT;
    case WDSMC_NCA_OUT_OF_MEMORY:
    case WDSMC_NCA_FAULT_REMOTE_NO_MEMORY:
    case WDSMC_NCA_OUT_ARGS_TOO_BIG:
        return -ENOMEM;
    case WDSMC_NCA_SERVER_TOO_BUSY:
        return -EBUSY;
    case WDSMC_NCA_FAULT_CANCEL:
        return -ECANCELED;
    default:
        return -EIO;
    }
}

uint32_t wdsmc_dcerpc_errno_to_fault(int err)
{
    switch (err) {
    case -EACCES:
    case -EPERM:
        return WDSMC_NCA_ACCESS_DENIED;
    case -EPROTO:
        return WDSMC_NCA_PROTO_ERROR;
    case -EBADMSG:
    case -WDSMC_ETRUNC:
    case -WDSMC_ETRAILING:
    case -WDSMC_ECOUNT:
        return WDSMC_NCA_FAULT_NDR;
    case -ENOSYS:
        return WDSMC_NCA_OP_RNG_ERROR;
    case -EPROTONOSUPPORT:
        return WDSMC_NCA_UNK_IF;
    case -ENOMEM:
        return WDSMC_NCA_FAULT_REMOTE_NO_MEMORY;
    case -EBUSY:
        return WDSMC_NCA_SERVER_TOO_BUSY;
    case -ECANCELED:
        return WDSMC_NCA_FAULT_CANCEL;
    default:
        return WDSMC_NCA_FAULT_UNSPEC;
    }
}

int wdsmc_dcerpc_nak_to_errno(uint16_t reason)
{
    switch (reason) {
    case WDSMC_DCERPC_NAK_TEMPORARY_CONGESTION:
    case WDSMC_DCERPC_NAK_LOCAL_LIMIT_EXCEEDED:
        return -EAGAIN;
    case WDSMC_DCERPC_NAK_PROTOCOL_VERSION_NOT_SUPPORTED:
        return -EPROTONOSUPPORT;
    case WDSMC_DCERPC_NAK_AUTH_TYPE_NOT_RECOGNIZED:
    case WDSMC_DCERPC_NAK_INVALID_CHECKSUM:
        return -EACCES;
    default:
        return -ECONNREFUSED;
    }
}
