/* SPDX-License-Identifier: MIT */
/*
 * WDS Control Protocol packets (MS-WDSC 2.2.1), WDSMC_OP_INITIATE
 * (MS-WDSMSI 2.2.1) and WDS_OP_IMG_ENUMERATE (MS-WDSOSD 2.2.6).
 *
 * Variable blocks are decoded in one of two layouts chosen per packet (see
 * wdsc.h): Windows' (each block padded to 16 with at least 4 bytes of
 * padding) first, then the minimal one MS-WDSC 2.2.1.3.1 allows. The two
 * differ only after values whose size is 0, 13, 14 or 15 modulo 16, so
 * most packets decode the same either way; where they differ only one of
 * them can end exactly at the end of the packet.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wdsmc/error.h"
#include "wdsc.h"

static const struct wdsmc_uuid ep_msi = WDSMC_WDSC_EP_MSI_INIT;
static const struct wdsmc_uuid ep_osd = WDSMC_WDSC_EP_OSD_INIT;

/* Width of a fixed base type, 0 for a variable one, -1 for an unknown one
 * (MS-WDSC 2.2.1.3.2.1). */
static int base_width(uint32_t base)
{
    switch (base) {
    case WDSMC_WDSC_VAR_BYTE:
        return 1;
    case WDSMC_WDSC_VAR_USHORT:
        return 2;
    case WDSMC_WDSC_VAR_ULONG:
        return 4;
    case WDSMC_WDSC_VAR_ULONG64:
        return 8;
    case WDSMC_WDSC_VAR_STRING:
    case WDSMC_WDSC_VAR_WSTRING:
    case WDSMC_WDSC_VAR_BLOB:
        return 0;
    default:
        return -1;
    }
}

/* Size of a variable block holding size value bytes. */
static size_t block_size(size_t size, bool minimal)
{
    size_t n = WDSMC_WDSC_VAR_HDR_LEN + size + (minimal ? 0 : 4);
    return (n + 15) & ~(size_t)15;
}

/* ---- decoding ---------------------------------------------------------------- */

static int decode_vars(const uint8_t *buf, size_t len, uint32_t count, bool minimal,
                       struct wdsmc_wdsc_var *vars)
{
    size_t off = WDSMC_WDSC_EP_HDR_LEN + WDSMC_WDSC_OP_HDR_LEN;

    for (uint32_t i = 0; i < count; i++) {
        struct wdsmc_wdsc_var *v = &vars[i];
        const uint8_t *h = buf + off;
        size_t units = 0;

        if (len - off < WDSMC_WDSC_VAR_HDR_LEN)
            return -WDSMC_ETRUNC;
        /* Variable-Name: NUL-terminated within its 66 bytes. */
        while (units <= WDSMC_WDSC_NAME_MAX_UNITS && (h[2 * units] | h[2 * units + 1]))
            units++;
        if (units > WDSMC_WDSC_NAME_MAX_UNITS)
            return -WDSMC_ESTRING;
        if (units == 0)
            return -WDSMC_EVALUE;
        ssize_t n = wdsmc_utf16le_to_utf8(h, units, v->name, sizeof(v->name));
        if (n < 0)
            return (int)n;

        v->type = ndr_get32(h + 68);
        v->value_len = ndr_get32(h + 72);
        v->array_size = ndr_get32(h + 76);
        uint32_t base = v->type & 0xFFFF, mod = v->type >> 16;
        int width = base_width(base);
        if (width < 0 || (mod != 0 && mod != WDSMC_WDSC_VAR_ARRAY))
            return -WDSMC_EOPTION;
        /* 2.2.1.3.3: fixed types SHOULD carry their size; we need it to be
         * exact to read them. Without a modifier Array-Size is ignored. */
        if (width && v->value_len != (uint32_t)width)
            return -WDSMC_EOPTION;
        uint64_t size = v->value_len;
        if (mod) {
            if (v->array_size == 0)
                return -WDSMC_ECOUNT;
            size *= v->array_size;
        }
        if (size > len - off - WDSMC_WDSC_VAR_HDR_LEN)
            return -WDSMC_ECOUNT;
        v->value = h + WDSMC_WDSC_VAR_HDR_LEN;
        v->size = (size_t)size;
        if (!mod && base == WDSMC_WDSC_VAR_STRING && (v->size < 1 || v->value[v->size - 1]))
            return -WDSMC_ESTRING;
        if (!mod && base == WDSMC_WDSC_VAR_WSTRING &&
            (v->size < 2 || v->size % 2 || v->value[v->size - 1] || v->value[v->size - 2]))
            return -WDSMC_ESTRING;
        size_t blk = block_size(v->size, minimal);
        if (blk > len - off)
            return -WDSMC_ECOUNT;
        off += blk;
    }
    if (off != len)
        return -WDSMC_ETRAILING;
    return 0;
}

/* FNV-1a over the ASCII-lowercased name: names compare case-insensitively
 * (MS-WDSC 2.2.1.3.1). */
static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        h = (h ^ c) * 16777619u;
    }
    return h;
}

/* Index every name; a duplicate is -WDSMC_EOPTION (2.2.1.3.1). */
static int build_index(struct wdsmc_wdsc_pkt *p)
{
    size_t size = 16;
    while (size < 2 * (size_t)p->n_vars)
        size *= 2;
    p->index = calloc(size, sizeof(*p->index));
    if (!p->index)
        return -ENOMEM;
    p->index_size = size;
    for (uint32_t i = 0; i < p->n_vars; i++) {
        size_t k = name_hash(p->vars[i].name) & (size - 1);
        while (p->index[k]) {
            if (strcasecmp(p->vars[p->index[k] - 1].name, p->vars[i].name) == 0)
                return -WDSMC_EOPTION;
            k = (k + 1) & (size - 1);
        }
        p->index[k] = i + 1;
    }
    return 0;
}

int wdsmc_wdsc_decode(const uint8_t *buf, size_t len, struct wdsmc_wdsc_pkt *ret)
{
    struct wdsmc_wdsc_pkt p = {0};
    int rc;

    memset(ret, 0, sizeof(*ret));
    if (len > WDSMC_WDSC_MAX_PACKET)
        return -EMSGSIZE;
    if (len < WDSMC_WDSC_EP_HDR_LEN + WDSMC_WDSC_OP_HDR_LEN)
        return -WDSMC_ETRUNC;
    /* Endpoint header (2.2.1.1) */
    if (ndr_get16(buf) != WDSMC_WDSC_EP_HDR_LEN || ndr_get16(buf + 2) != WDSMC_WDSC_VERSION)
        return -WDSMC_EVALUE;
    uint32_t ep_size = ndr_get32(buf + 4);
    size_t op_len = len - WDSMC_WDSC_EP_HDR_LEN;
    if (ep_size == len) {
        p.ep_size_op_only = false;
    } else if (ep_size == op_len) {
        p.ep_size_op_only = true;
    } else {
        return ep_size > op_len ? -WDSMC_ETRUNC : -WDSMC_ETRAILING;
    }
    memcpy(p.endpoint.b, buf + 8, 16);
    /* Operation header (2.2.1.2) */
    const uint8_t *op = buf + WDSMC_WDSC_EP_HDR_LEN;
    uint32_t op_size = ndr_get32(op);
    if (op_size != op_len)
        return op_size > op_len ? -WDSMC_ETRUNC : -WDSMC_ETRAILING;
    if (ndr_get16(op + 4) != WDSMC_WDSC_VERSION)
        return -WDSMC_EVALUE;
    p.packet_type = op[6];
    p.opcode = ndr_get32(op + 8);
    p.n_vars = ndr_get32(op + 12);
    /* Every block takes at least its 80-byte header. */
    if (p.n_vars > (op_len - WDSMC_WDSC_OP_HDR_LEN) / WDSMC_WDSC_VAR_HDR_LEN)
        return -WDSMC_ECOUNT;
    if (p.n_vars > WDSMC_WDSC_MAX_VARS)
        return -WDSMC_ETOOMANY;
    if (p.n_vars) {
        p.vars = calloc(p.n_vars, sizeof(*p.vars));
        if (!p.vars)
            return -ENOMEM;
    }
    rc = decode_vars(buf, len, p.n_vars, false, p.vars);
    if (rc < 0 && decode_vars(buf, len, p.n_vars, true, p.vars) == 0) {
        p.pad_minimal = true;
        rc = 0;
    }
    if (rc == 0)
        rc = build_index(&p);
    if (rc < 0) {
        wdsmc_wdsc_pkt_fini(&p);
        return rc;
    }
    *ret = p;
    return 0;
}

void wdsmc_wdsc_pkt_fini(struct wdsmc_wdsc_pkt *p)
{
    free(p->vars);
    free(p->index);
    p->vars = NULL;
    p->index = NULL;
    p->n_vars = 0;
    p->index_size = 0;
}

const struct wdsmc_wdsc_var *wdsmc_wdsc_find(const struct wdsmc_wdsc_pkt *p, const char *name)
{
    if (!p->index_size)
        return NULL;
    size_t k = name_hash(name) & (p->index_size - 1);
    while (p->index[k]) {
        const struct wdsmc_wdsc_var *v = &p->vars[p->index[k] - 1];
        if (strcasecmp(v->name, name) == 0)
            return v;
        k = (k + 1) & (p->index_size - 1);
    }
    return NULL;
}

static int get_typed(const struct wdsmc_wdsc_pkt *p, const char *name, uint32_t type,
                     const struct wdsmc_wdsc_var **ret)
{
    const struct wdsmc_wdsc_var *v = wdsmc_wdsc_find(p, name);
    if (!v)
        return -ENOENT;
    if (v->type != type)
        return -WDSMC_EOPTION;
    *ret = v;
    return 0;
}

int wdsmc_wdsc_get_ulong(const struct wdsmc_wdsc_pkt *p, const char *name, uint32_t *ret)
{
    const struct wdsmc_wdsc_var *v;
    int rc = get_typed(p, name, WDSMC_WDSC_VAR_ULONG, &v);
    if (rc == 0)
        *ret = ndr_get32(v->value);
    return rc;
}

int wdsmc_wdsc_get_ulong64(const struct wdsmc_wdsc_pkt *p, const char *name, uint64_t *ret)
{
    const struct wdsmc_wdsc_var *v;
    int rc = get_typed(p, name, WDSMC_WDSC_VAR_ULONG64, &v);
    if (rc == 0)
        *ret = ndr_get64(v->value);
    return rc;
}

int wdsmc_wdsc_get_blob(const struct wdsmc_wdsc_pkt *p, const char *name, const uint8_t **ret,
                        size_t *ret_len)
{
    const struct wdsmc_wdsc_var *v;
    int rc = get_typed(p, name, WDSMC_WDSC_VAR_BLOB, &v);
    if (rc == 0) {
        *ret = v->value;
        *ret_len = v->size;
    }
    return rc;
}

int wdsmc_wdsc_get_wstring(const struct wdsmc_wdsc_pkt *p, const char *name, size_t max_units,
                           char *dst, size_t cap)
{
    const struct wdsmc_wdsc_var *v;
    int rc = get_typed(p, name, WDSMC_WDSC_VAR_WSTRING, &v);
    if (rc < 0)
        return rc;
    /* The decoder checked the NUL terminator and the even length. */
    size_t units = v->size / 2 - 1;
    if (units > max_units)
        return -WDSMC_ESTRLEN;
    if (units == 0) {
        if (cap == 0)
            return -WDSMC_ESTRLEN;
        dst[0] = '\0';
        return 0;
    }
    ssize_t n = wdsmc_utf16le_to_utf8(v->value, units, dst, cap);
    return n < 0 ? (int)n : 0;
}

int wdsmc_wdsc_get_wstring_dup(const struct wdsmc_wdsc_pkt *p, const char *name, size_t max_units,
                               char **ret)
{
    const struct wdsmc_wdsc_var *v;
    int rc = get_typed(p, name, WDSMC_WDSC_VAR_WSTRING, &v);
    if (rc < 0)
        return rc;
    size_t units = v->size / 2 - 1;
    if (units > max_units)
        return -WDSMC_ESTRLEN;
    /* Each unit becomes at most 3 UTF-8 bytes (a surrogate pair 4 for 2). */
    size_t cap = units * 3 + 1;
    char *s = malloc(cap);
    if (!s)
        return -ENOMEM;
    rc = wdsmc_wdsc_get_wstring(p, name, max_units, s, cap);
    if (rc < 0) {
        free(s);
        return rc;
    }
    *ret = s;
    return 0;
}

/* ---- building ---------------------------------------------------------------- */

static uint8_t *b_reserve(struct wdsmc_wdsc_builder *b, size_t n)
{
    if (b->err)
        return NULL;
    if (n > WDSMC_WDSC_MAX_PACKET - b->len) {
        b->err = -EMSGSIZE;
        return NULL;
    }
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->err = -ENOMEM;
            return NULL;
        }
        b->p = p;
        b->cap = cap;
    }
    uint8_t *at = b->p + b->len;
    b->len += n;
    return at;
}

int wdsmc_wdsc_builder_init(struct wdsmc_wdsc_builder *b, const struct wdsmc_uuid *endpoint,
                            uint8_t packet_type, uint32_t opcode)
{
    memset(b, 0, sizeof(*b));
    uint8_t *h = b_reserve(b, WDSMC_WDSC_EP_HDR_LEN + WDSMC_WDSC_OP_HDR_LEN);
    if (!h)
        return b->err;
    memset(h, 0, WDSMC_WDSC_EP_HDR_LEN + WDSMC_WDSC_OP_HDR_LEN);
    /* 2.2.1.1: Size-Of-Header, Version, Packet-Size (at finish), GUID,
     * 16 reserved zeros. */
    ndr_put16(h, WDSMC_WDSC_EP_HDR_LEN);
    ndr_put16(h + 2, WDSMC_WDSC_VERSION);
    memcpy(h + 8, endpoint->b, 16);
    /* 2.2.1.2: Packet-Size (at finish), Version, Packet-Type, Padding1,
     * OpCode-ErrorCode, Variable-Count (at finish). */
    uint8_t *op = h + WDSMC_WDSC_EP_HDR_LEN;
    ndr_put16(op + 4, WDSMC_WDSC_VERSION);
    op[6] = packet_type;
    ndr_put32(op + 8, opcode);
    return 0;
}

void wdsmc_wdsc_builder_fini(struct wdsmc_wdsc_builder *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

int wdsmc_wdsc_add(struct wdsmc_wdsc_builder *b, const char *name, uint32_t type,
                   uint32_t value_len, uint32_t array_size, const void *value)
{
    uint8_t name16[WDSMC_WDSC_NAME_MAX_UNITS * 2];
    uint32_t base = type & 0xFFFF, mod = type >> 16;
    int width = base_width(base);

    if (b->err)
        return b->err;
    if (width < 0 || (mod != 0 && mod != WDSMC_WDSC_VAR_ARRAY) ||
        (width && value_len != (uint32_t)width) || (mod && array_size == 0) ||
        b->count == WDSMC_WDSC_MAX_VARS) {
        b->err = -EINVAL;
        return b->err;
    }
    ssize_t units = wdsmc_utf8_to_utf16le(name, name16, WDSMC_WDSC_NAME_MAX_UNITS);
    if (units <= 0) {
        b->err = -EINVAL;
        return b->err;
    }
    uint64_t size = (uint64_t)value_len * (mod ? array_size : 1);
    if (size > WDSMC_WDSC_MAX_PACKET) {
        b->err = -EMSGSIZE;
        return b->err;
    }
    size_t blk = block_size((size_t)size, false);
    uint8_t *at = b_reserve(b, blk);
    if (!at)
        return b->err;
    memset(at, 0, blk);
    memcpy(at, name16, (size_t)units * 2);
    ndr_put32(at + 68, type);
    ndr_put32(at + 72, value_len);
    /* 2.2.1.3.3.1: Array-Size SHOULD be zero without a modifier. */
    ndr_put32(at + 76, mod ? array_size : 0);
    if (size)
        memcpy(at + WDSMC_WDSC_VAR_HDR_LEN, value, (size_t)size);
    b->count++;
    return 0;
}

int wdsmc_wdsc_add_byte(struct wdsmc_wdsc_builder *b, const char *name, uint8_t v)
{
    return wdsmc_wdsc_add(b, name, WDSMC_WDSC_VAR_BYTE, 1, 0, &v);
}

int wdsmc_wdsc_add_ushort(struct wdsmc_wdsc_builder *b, const char *name, uint16_t v)
{
    uint8_t le[2];
    ndr_put16(le, v);
    return wdsmc_wdsc_add(b, name, WDSMC_WDSC_VAR_USHORT, 2, 0, le);
}

int wdsmc_wdsc_add_ulong(struct wdsmc_wdsc_builder *b, const char *name, uint32_t v)
{
    uint8_t le[4];
    ndr_put32(le, v);
    return wdsmc_wdsc_add(b, name, WDSMC_WDSC_VAR_ULONG, 4, 0, le);
}

int wdsmc_wdsc_add_ulong64(struct wdsmc_wdsc_builder *b, const char *name, uint64_t v)
{
    uint8_t le[8];
    ndr_put64(le, v);
    return wdsmc_wdsc_add(b, name, WDSMC_WDSC_VAR_ULONG64, 8, 0, le);
}

int wdsmc_wdsc_add_blob(struct wdsmc_wdsc_builder *b, const char *name, const void *data,
                        size_t len)
{
    if (!b->err && len > WDSMC_WDSC_MAX_PACKET)
        b->err = -EMSGSIZE;
    if (b->err)
        return b->err;
    return wdsmc_wdsc_add(b, name, WDSMC_WDSC_VAR_BLOB, (uint32_t)len, 0, data);
}

/* A WSTRING of at most max_units units before the NUL. */
static int add_wstring_max(struct wdsmc_wdsc_builder *b, const char *name, const char *utf8,
                           size_t max_units)
{
    if (b->err)
        return b->err;
    size_t n = strlen(utf8);
    if (n > WDSMC_WDSC_MAX_PACKET) {
        b->err = -EMSGSIZE;
        return b->err;
    }
    /* UTF-8 never has fewer bytes than UTF-16 has units. */
    uint8_t *w = malloc(2 * n + 2);
    if (!w) {
        b->err = -ENOMEM;
        return b->err;
    }
    ssize_t units = wdsmc_utf8_to_utf16le(utf8, w, max_units < n ? max_units : n);
    if (units < 0) {
        free(w);
        b->err = -EINVAL;
        return b->err;
    }
    w[2 * units] = 0;
    w[2 * units + 1] = 0;
    int rc = wdsmc_wdsc_add(b, name, WDSMC_WDSC_VAR_WSTRING, (uint32_t)(2 * units + 2), 0, w);
    free(w);
    return rc;
}

int wdsmc_wdsc_add_wstring(struct wdsmc_wdsc_builder *b, const char *name, const char *utf8)
{
    return add_wstring_max(b, name, utf8, WDSMC_WDSC_MAX_PACKET / 2);
}

int wdsmc_wdsc_builder_finish(struct wdsmc_wdsc_builder *b, uint8_t **ret, size_t *ret_len)
{
    if (b->err) {
        int err = b->err;
        wdsmc_wdsc_builder_fini(b);
        return err;
    }
    size_t op_len = b->len - WDSMC_WDSC_EP_HDR_LEN;
    /* See wdsc.h: Windows-compatible clients count the operation part. */
    ndr_put32(b->p + 4, (uint32_t)(b->spec_packet_size ? b->len : op_len));
    ndr_put32(b->p + WDSMC_WDSC_EP_HDR_LEN, (uint32_t)op_len);
    ndr_put32(b->p + WDSMC_WDSC_EP_HDR_LEN + 12, b->count);
    *ret = b->p;
    *ret_len = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return 0;
}

/* ---- shared parse helpers -------------------------------------------------------- */

/* A required variable: absence is -WDSMC_EMISSING. */
static int must(int rc)
{
    return rc == -ENOENT ? -WDSMC_EMISSING : rc;
}

/* An optional variable: absence sets *has false and is not an error. */
static int maybe(int rc, bool *has)
{
    *has = rc == 0;
    return rc == -ENOENT ? 0 : rc;
}

/* A required name: not empty (-WDSMC_EVALUE). */
static int get_name(const struct wdsmc_wdsc_pkt *p, const char *var, size_t max_units, char *dst,
                    size_t cap)
{
    int rc = must(wdsmc_wdsc_get_wstring(p, var, max_units, dst, cap));
    if (rc == 0 && dst[0] == '\0')
        return -WDSMC_EVALUE;
    return rc;
}

/* Names checked before building: not empty, valid UTF-8, within max_units. */
static bool name_ok(const char *s, size_t max_units)
{
    uint8_t tmp[WDSMC_MSI_NAME_MAX_UNITS * 2];
    if (max_units > WDSMC_MSI_NAME_MAX_UNITS || s[0] == '\0')
        return false;
    return wdsmc_utf8_to_utf16le(s, tmp, max_units) > 0;
}

/* ---- WDSMC_OP_INITIATE (MS-WDSMSI 2.2.1) ---------------------------------------- */

int wdsmc_wdsc_initiate_req_build(const struct wdsmc_wdsc_initiate_req *req, uint8_t **ret,
                                  size_t *ret_len)
{
    struct wdsmc_wdsc_builder b;

    if (!memchr(req->ns, 0, sizeof(req->ns)) || !memchr(req->content, 0, sizeof(req->content)) ||
        !memchr(req->client, 0, sizeof(req->client)) ||
        !name_ok(req->ns, WDSMC_MSI_NAME_MAX_UNITS) ||
        !name_ok(req->content, WDSMC_MSI_NAME_MAX_UNITS) ||
        !name_ok(req->client, WDSMC_WDSC_CLIENT_MAX_UNITS))
        return -EINVAL;
    int rc = wdsmc_wdsc_builder_init(&b, &ep_msi, WDSMC_WDSC_PACKET_REQUEST, WDSMC_OP_INITIATE);
    if (rc < 0)
        return rc;
    wdsmc_wdsc_add_wstring(&b, "Namespace", req->ns);
    wdsmc_wdsc_add_wstring(&b, "Content", req->content);
    wdsmc_wdsc_add_wstring(&b, "Client", req->client);
    if (req->has_cap)
        wdsmc_wdsc_add_ulong(&b, "Cap", req->cap);
    return wdsmc_wdsc_builder_finish(&b, ret, ret_len);
}

int wdsmc_wdsc_initiate_req_parse(const struct wdsmc_wdsc_pkt *pkt,
                                  struct wdsmc_wdsc_initiate_req *ret)
{
    int rc;

    memset(ret, 0, sizeof(*ret));
    if (!wdsmc_uuid_eq(&pkt->endpoint, &ep_msi) || pkt->opcode != WDSMC_OP_INITIATE)
        return -WDSMC_EOPCODE;
    rc = get_name(pkt, "Namespace", WDSMC_MSI_NAME_MAX_UNITS, ret->ns, sizeof(ret->ns));
    if (rc == 0)
        rc = get_name(pkt, "Content", WDSMC_MSI_NAME_MAX_UNITS, ret->content, sizeof(ret->content));
    if (rc == 0)
        rc = get_name(pkt, "Client", WDSMC_WDSC_CLIENT_MAX_UNITS, ret->client, sizeof(ret->client));
    if (rc == 0)
        rc = maybe(wdsmc_wdsc_get_ulong(pkt, "Cap", &ret->cap), &ret->has_cap);
    return rc;
}

static int add_addr(struct wdsmc_wdsc_builder *b, const char *name, const struct wdsmc_addr *a)
{
    return wdsmc_wdsc_add_blob(b, name, a->bytes, a->len);
}

static bool blob_ok(const struct wdsmc_wdsc_blob *bl, size_t max)
{
    return bl->len <= max && (bl->p || !bl->len);
}

int wdsmc_wdsc_initiate_rep_build(const struct wdsmc_wdsc_initiate_rep *rep, uint8_t **ret,
                                  size_t *ret_len)
{
    struct wdsmc_wdsc_builder b;
    int rc = wdsmc_wdsc_builder_init(&b, &ep_msi, WDSMC_WDSC_PACKET_REPLY, rep->error);

    if (rc < 0)
        return rc;
    if (rep->error)
        return wdsmc_wdsc_builder_finish(&b, ret, ret_len);
    if ((rep->mc_addr.len != 4 && rep->mc_addr.len != 16) ||
        (rep->uni_addr.len != 4 && rep->uni_addr.len != 16) || rep->mc_port > 0xFFFF ||
        rep->uni_port > 0xFFFF ||
        (rep->has_metadata && !blob_ok(&rep->metadata, WDSMC_WDSC_MAX_METADATA)) ||
        (rep->has_sym_key && !blob_ok(&rep->sym_key, WDSMC_WDSC_MAX_SYM_KEY)) ||
        (rep->has_sign_key && !blob_ok(&rep->sign_key, WDSMC_WDSC_MAX_SIGN_KEY)) ||
        (rep->has_user_sid && !blob_ok(&rep->user_sid, 68))) {
        wdsmc_wdsc_builder_fini(&b);
        return -EINVAL;
    }
    /* In the order of MS-WDSMSI 2.2.1's lists. */
    wdsmc_wdsc_add_ulong(&b, "TpMcAddress.Port", rep->mc_port);
    add_addr(&b, "TpMcAddress.Address", &rep->mc_addr);
    wdsmc_wdsc_add_ulong(&b, "TpUniAddress.Port", rep->uni_port);
    add_addr(&b, "TpUniAddress.Address", &rep->uni_addr);
    wdsmc_wdsc_add_ulong(&b, "SessionId", rep->session_id);
    wdsmc_wdsc_add_ulong64(&b, "ContentSize", rep->content_size);
    wdsmc_wdsc_add_ulong(&b, "BlockSize", rep->block_size);
    wdsmc_wdsc_add_ulong64(&b, "TotalBlocks", rep->total_blocks);
    if (rep->has_metadata)
        wdsmc_wdsc_add_blob(&b, "ContentMetadata", rep->metadata.p, rep->metadata.len);
    if (rep->has_sym_key)
        wdsmc_wdsc_add_blob(&b, "SymKey", rep->sym_key.p, rep->sym_key.len);
    if (rep->has_sign_key)
        wdsmc_wdsc_add_blob(&b, "SignKey", rep->sign_key.p, rep->sign_key.len);
    if (rep->has_hash_alg)
        wdsmc_wdsc_add_ulong(&b, "HashAlgId", rep->hash_alg);
    if (rep->has_hmac_alg)
        wdsmc_wdsc_add_ulong(&b, "HMACAlgId", rep->hmac_alg);
    if (rep->has_sec_mode)
        wdsmc_wdsc_add_ulong(&b, "SecMode",
                             (uint32_t)rep->client_sec_mode | (uint32_t)rep->server_sec_mode << 16);
    if (rep->has_user_sid)
        wdsmc_wdsc_add_blob(&b, "UserSid", rep->user_sid.p, rep->user_sid.len);
    return wdsmc_wdsc_builder_finish(&b, ret, ret_len);
}

static int get_addr(const struct wdsmc_wdsc_pkt *p, const char *name, struct wdsmc_addr *a)
{
    const uint8_t *v;
    size_t len;
    int rc = must(wdsmc_wdsc_get_blob(p, name, &v, &len));
    if (rc < 0)
        return rc;
    /* MS-WDSMSI 2.2.1: 4 bytes for IPv4, 16 for IPv6, network order. */
    if (len != 4 && len != 16)
        return -WDSMC_EADDRLEN;
    memset(a, 0, sizeof(*a));
    a->len = (uint8_t)len;
    memcpy(a->bytes, v, len);
    return 0;
}

static int get_opt_blob(const struct wdsmc_wdsc_pkt *p, const char *name, size_t max, bool *has,
                        struct wdsmc_wdsc_blob *bl)
{
    int rc = maybe(wdsmc_wdsc_get_blob(p, name, &bl->p, &bl->len), has);
    if (rc == 0 && *has && bl->len > max)
        return -WDSMC_EVALUE;
    return rc;
}

/* MS-DTYP 2.4.2.2: Revision 1, SubAuthorityCount up to 15, and exactly
 * 8 + 4 * count bytes. */
static bool sid_ok(const struct wdsmc_wdsc_blob *s)
{
    return s->len >= 8 && s->p[0] == 1 && s->p[1] <= 15 && s->len == 8 + 4 * (size_t)s->p[1];
}

int wdsmc_wdsc_initiate_rep_parse(const struct wdsmc_wdsc_pkt *pkt,
                                  struct wdsmc_wdsc_initiate_rep *ret)
{
    uint32_t sec_mode = 0;
    int rc;

    memset(ret, 0, sizeof(*ret));
    if (!wdsmc_uuid_eq(&pkt->endpoint, &ep_msi))
        return -WDSMC_EOPCODE;
    /* MS-WDSC 3.1.4.2: a failed operation carries its error and, maybe,
     * nothing else. */
    ret->error = pkt->opcode;
    if (ret->error)
        return 0;
    if ((rc = must(wdsmc_wdsc_get_ulong(pkt, "TpMcAddress.Port", &ret->mc_port))) < 0 ||
        (rc = get_addr(pkt, "TpMcAddress.Address", &ret->mc_addr)) < 0 ||
        (rc = must(wdsmc_wdsc_get_ulong(pkt, "TpUniAddress.Port", &ret->uni_port))) < 0 ||
        (rc = get_addr(pkt, "TpUniAddress.Address", &ret->uni_addr)) < 0 ||
        (rc = must(wdsmc_wdsc_get_ulong(pkt, "SessionId", &ret->session_id))) < 0 ||
        (rc = must(wdsmc_wdsc_get_ulong64(pkt, "ContentSize", &ret->content_size))) < 0 ||
        (rc = must(wdsmc_wdsc_get_ulong(pkt, "BlockSize", &ret->block_size))) < 0 ||
        (rc = must(wdsmc_wdsc_get_ulong64(pkt, "TotalBlocks", &ret->total_blocks))) < 0)
        return rc;
    if (ret->mc_port > 0xFFFF || ret->uni_port > 0xFFFF)
        return -WDSMC_EVALUE;
    /* 2.2.1 lists ContentMetadata as required, 3.1.5.2 has the server leave
     * it out when there is none, and the 4.1 example has none: optional. */
    if ((rc = get_opt_blob(pkt, "ContentMetadata", WDSMC_WDSC_MAX_METADATA, &ret->has_metadata,
                           &ret->metadata)) < 0 ||
        (rc = get_opt_blob(pkt, "SymKey", WDSMC_WDSC_MAX_SYM_KEY, &ret->has_sym_key,
                           &ret->sym_key)) < 0 ||
        (rc = get_opt_blob(pkt, "SignKey", WDSMC_WDSC_MAX_SIGN_KEY, &ret->has_sign_key,
                           &ret->sign_key)) < 0 ||
        (rc = maybe(wdsmc_wdsc_get_ulong(pkt, "HashAlgId", &ret->hash_alg), &ret->has_hash_alg)) <
                0 ||
        (rc = maybe(wdsmc_wdsc_get_ulong(pkt, "HMACAlgId", &ret->hmac_alg), &ret->has_hmac_alg)) <
                0 ||
        (rc = maybe(wdsmc_wdsc_get_ulong(pkt, "SecMode", &sec_mode), &ret->has_sec_mode)) < 0 ||
        (rc = get_opt_blob(pkt, "UserSid", 68, &ret->has_user_sid, &ret->user_sid)) < 0)
        return rc;
    /* 2.2.1: "When this variable [SymKey] is specified, HashAlgId and
     * HMACAlgId variables MUST be specified as well." */
    if (ret->has_sym_key && (!ret->has_hash_alg || !ret->has_hmac_alg))
        return -WDSMC_EMISSING;
    if (ret->has_sec_mode) {
        ret->client_sec_mode = (uint16_t)sec_mode;
        ret->server_sec_mode = (uint16_t)(sec_mode >> 16);
        if (ret->client_sec_mode > WDSMCTP_SEC_CHECKSUM ||
            ret->server_sec_mode > WDSMCTP_SEC_CHECKSUM)
            return -WDSMC_EVALUE;
    }
    if (ret->has_user_sid && !sid_ok(&ret->user_sid))
        return -WDSMC_EVALUE;
    return 0;
}

int wdsmc_wdsc_initiate_rep_to_msi(const struct wdsmc_wdsc_initiate_rep *rep,
                                   struct wdsmc_msi_reply *ret)
{
    if (rep->mc_port > 0xFFFF || rep->uni_port > 0xFFFF)
        return -WDSMC_EVALUE;
    memset(ret, 0, sizeof(*ret));
    ret->mcast_addr = rep->mc_addr;
    ret->server_addr = rep->uni_addr;
    ret->mcast_port = (uint16_t)rep->mc_port;
    ret->server_port = (uint16_t)rep->uni_port;
    ret->content_size = rep->content_size;
    ret->total_blocks = rep->total_blocks;
    ret->block_size = rep->block_size;
    ret->session_id = rep->session_id;
    return 0;
}

/* ---- WDS_OP_IMG_ENUMERATE (MS-WDSOSD 2.2.6) ---------------------------------------- */

int wdsmc_wdsc_img_enum_req_build(const struct wdsmc_wdsc_img_enum_req *req, uint8_t **ret,
                                  size_t *ret_len)
{
    struct wdsmc_wdsc_builder b;
    int rc = wdsmc_wdsc_builder_init(&b, &ep_osd, WDSMC_WDSC_PACKET_REQUEST, WDS_OP_IMG_ENUMERATE);

    if (rc < 0)
        return rc;
    wdsmc_wdsc_add_ulong(&b, "VERSION", req->version);
    if (req->has_cc)
        wdsmc_wdsc_add_ulong(&b, "CC", req->cc);
    return wdsmc_wdsc_builder_finish(&b, ret, ret_len);
}

int wdsmc_wdsc_img_enum_req_parse(const struct wdsmc_wdsc_pkt *pkt,
                                  struct wdsmc_wdsc_img_enum_req *ret)
{
    bool has_imdc;
    int rc;

    memset(ret, 0, sizeof(*ret));
    if (!wdsmc_uuid_eq(&pkt->endpoint, &ep_osd) || pkt->opcode != WDS_OP_IMG_ENUMERATE)
        return -WDSMC_EOPCODE;
    if ((rc = must(wdsmc_wdsc_get_ulong(pkt, "VERSION", &ret->version))) < 0)
        return rc;
    if (ret->version != 1)
        return -WDSMC_EVALUE;
    if ((rc = maybe(wdsmc_wdsc_get_ulong(pkt, "CC", &ret->cc), &ret->has_cc)) < 0 ||
        (rc = maybe(wdsmc_wdsc_get_ulong(pkt, "IMDC", &ret->imdc), &has_imdc)) < 0)
        return rc;
    if (ret->imdc > WDSMC_WDSC_MAX_IMD)
        return -WDSMC_ETOOMANY;
    for (uint32_t i = 0; i < ret->imdc; i++) {
        char name[WDSMC_WDSC_NAME_BUF];
        const struct wdsmc_wdsc_var *v;
        snprintf(name, sizeof(name), "IMD[%u]", i);
        rc = must(get_typed(pkt, name, WDSMC_WDSC_VAR_WSTRING, &v));
        if (rc < 0)
            return rc;
    }
    return 0;
}

static bool image_ok(const struct wdsmc_wdsc_image *im)
{
    return im->xml && im->path && im->group && im->n_dep <= WDSMC_WDSC_MAX_DEP_FILES &&
           (im->dep || !im->n_dep);
}

static void add_image_v1(struct wdsmc_wdsc_builder *b, const struct wdsmc_wdsc_image *im,
                         uint32_t i)
{
    char name[WDSMC_WDSC_NAME_BUF];

    /* In the order of the MS-WDSOSD 4.4 example. */
    snprintf(name, sizeof(name), "XML_%u", i);
    add_wstring_max(b, name, im->xml, WDSMC_WDSC_MAX_XML_UNITS);
    snprintf(name, sizeof(name), "PATH_%u", i);
    add_wstring_max(b, name, im->path, WDSMC_WDSC_MAX_PATH_UNITS);
    snprintf(name, sizeof(name), "GROUP_%u", i);
    add_wstring_max(b, name, im->group, WDSMC_WDSC_MAX_PATH_UNITS);
    snprintf(name, sizeof(name), "INDEX_%u", i);
    wdsmc_wdsc_add_ulong(b, name, im->index);
    if (im->ns) {
        snprintf(name, sizeof(name), "NAMESPACE_%u", i);
        add_wstring_max(b, name, im->ns, WDSMC_MSI_NAME_MAX_UNITS);
    }
    if (im->has_ns_size) {
        snprintf(name, sizeof(name), "NAMESPACE_SIZE_%u", i);
        wdsmc_wdsc_add_ulong64(b, name, im->ns_size);
    }
    if (im->res_path) {
        snprintf(name, sizeof(name), "RESOURCEFILEPATH_%u", i);
        add_wstring_max(b, name, im->res_path, WDSMC_WDSC_MAX_PATH_UNITS);
    }
}

static void add_image_v2(struct wdsmc_wdsc_builder *b, const struct wdsmc_wdsc_image *im,
                         uint32_t i)
{
    char name[WDSMC_WDSC_NAME_BUF];

    snprintf(name, sizeof(name), "IL.Type[%u]", i);
    wdsmc_wdsc_add_ulong(b, name, im->type);
    snprintf(name, sizeof(name), "IL.Xml[%u]", i);
    add_wstring_max(b, name, im->xml, WDSMC_WDSC_MAX_XML_UNITS);
    snprintf(name, sizeof(name), "IL.Path[%u]", i);
    add_wstring_max(b, name, im->path, WDSMC_WDSC_MAX_PATH_UNITS);
    if (im->res_path) {
        snprintf(name, sizeof(name), "IL.ResPath[%u]", i);
        add_wstring_max(b, name, im->res_path, WDSMC_WDSC_MAX_PATH_UNITS);
    }
    snprintf(name, sizeof(name), "IL.Group[%u]", i);
    add_wstring_max(b, name, im->group, WDSMC_WDSC_MAX_PATH_UNITS);
    snprintf(name, sizeof(name), "IL.Index[%u]", i);
    wdsmc_wdsc_add_ulong(b, name, im->index);
    /* IL.NS and IL.NSCS are "MUST be set": empty and 0 without multicast. */
    snprintf(name, sizeof(name), "IL.NS[%u]", i);
    add_wstring_max(b, name, im->ns ? im->ns : "", WDSMC_MSI_NAME_MAX_UNITS);
    snprintf(name, sizeof(name), "IL.NSCS[%u]", i);
    wdsmc_wdsc_add_ulong64(b, name, im->has_ns_size ? im->ns_size : 0);
    if (im->has_ex_flags) {
        snprintf(name, sizeof(name), "IL.ExFlags[%u]", i);
        wdsmc_wdsc_add_ulong(b, name, im->ex_flags);
    }
    snprintf(name, sizeof(name), "IL.DepFiles[%u].Cnt", i);
    wdsmc_wdsc_add_ulong(b, name, im->n_dep);
    for (uint32_t k = 0; k < im->n_dep; k++) {
        snprintf(name, sizeof(name), "IL.DepFiles[%u].VL[%u]", i, k);
        add_wstring_max(b, name, im->dep[k], WDSMC_WDSC_MAX_PATH_UNITS);
    }
    if (im->has_md_guid) {
        snprintf(name, sizeof(name), "IL.MdGuid[%u]", i);
        wdsmc_wdsc_add_blob(b, name, im->md_guid.b, 16);
    }
}

int wdsmc_wdsc_img_enum_rep_build(const struct wdsmc_wdsc_img_enum_rep *rep, uint8_t **ret,
                                  size_t *ret_len)
{
    struct wdsmc_wdsc_builder b;
    bool v2 = rep->has_sc && (rep->sc & WDSMC_SERVER_CAP_SUPPORT_V2);
    int rc;

    if (rep->n_images > WDSMC_WDSC_MAX_IMAGES || (rep->n_images && !rep->images))
        return -EINVAL;
    for (uint32_t i = 0; i < rep->n_images; i++)
        if (!image_ok(&rep->images[i]))
            return -EINVAL;
    rc = wdsmc_wdsc_builder_init(&b, &ep_osd, WDSMC_WDSC_PACKET_REPLY, rep->error);
    if (rc < 0)
        return rc;
    if (rep->error)
        return wdsmc_wdsc_builder_finish(&b, ret, ret_len);
    wdsmc_wdsc_add_ulong(&b, "VERSION", rep->version);
    if (rep->has_options)
        wdsmc_wdsc_add_ulong(&b, "OPTIONS", rep->options);
    if (rep->has_sc)
        wdsmc_wdsc_add_ulong(&b, "SC", rep->sc);
    /* v1 indexes start at 1 (MS-WDSOSD 2.2.6). The v2 list names its index
     * with the same placeholder and says nothing more; we start it at 1 too
     * and accept 0 on receipt. */
    for (uint32_t i = 0; i < rep->n_images; i++) {
        if (v2)
            add_image_v2(&b, &rep->images[i], i + 1);
        else
            add_image_v1(&b, &rep->images[i], i + 1);
    }
    return wdsmc_wdsc_builder_finish(&b, ret, ret_len);
}

void wdsmc_wdsc_img_enum_rep_fini(struct wdsmc_wdsc_img_enum_rep *r)
{
    for (uint32_t i = 0; i < r->n_images; i++) {
        struct wdsmc_wdsc_image *im = &r->images[i];
        free(im->xml);
        free(im->path);
        free(im->res_path);
        free(im->group);
        free(im->ns);
        for (uint32_t k = 0; k < im->n_dep; k++)
            free(im->dep[k]);
        free(im->dep);
    }
    free(r->images);
    r->images = NULL;
    r->n_images = 0;
}

/* A string variable into *ret (malloc'd); absent optional ones leave NULL. */
static int get_str(const struct wdsmc_wdsc_pkt *p, const char *name, size_t max_units,
                   bool required, char **ret)
{
    int rc = wdsmc_wdsc_get_wstring_dup(p, name, max_units, ret);
    if (rc == -ENOENT)
        return required ? -WDSMC_EMISSING : 0;
    return rc;
}

/* The variables both versions of the image table name, as prefix and
 * suffix around the image's number (MS-WDSOSD 2.2.6, v1 and v2 formats). */
struct image_names {
    const char *type[2]; /* v2 only */
    const char *xml[2], *path[2], *res_path[2], *group[2], *index[2], *ns[2], *ns_size[2];
};

static const struct image_names names_v1 = {
        .xml = {"XML_", ""},
        .path = {"PATH_", ""},
        .res_path = {"RESOURCEFILEPATH_", ""},
        .group = {"GROUP_", ""},
        .index = {"INDEX_", ""},
        .ns = {"NAMESPACE_", ""},
        .ns_size = {"NAMESPACE_SIZE_", ""},
};

static const struct image_names names_v2 = {
        .type = {"IL.Type[", "]"},
        .xml = {"IL.Xml[", "]"},
        .path = {"IL.Path[", "]"},
        .res_path = {"IL.ResPath[", "]"},
        .group = {"IL.Group[", "]"},
        .index = {"IL.Index[", "]"},
        .ns = {"IL.NS[", "]"},
        .ns_size = {"IL.NSCS[", "]"},
};

static const char *image_var(char *buf, size_t cap, const char *const fix[2], uint32_t i)
{
    snprintf(buf, cap, "%s%u%s", fix[0], i, fix[1]);
    return buf;
}

/* The fields both versions carry. */
static int parse_image_common(const struct wdsmc_wdsc_pkt *p, uint32_t i,
                              const struct image_names *n, struct wdsmc_wdsc_image *im)
{
    char name[WDSMC_WDSC_NAME_BUF];
    const size_t cap = sizeof(name);
    int rc;

    if ((rc = get_str(p, image_var(name, cap, n->xml, i), WDSMC_WDSC_MAX_XML_UNITS, true,
                      &im->xml)) < 0 ||
        (rc = get_str(p, image_var(name, cap, n->path, i), WDSMC_WDSC_MAX_PATH_UNITS, true,
                      &im->path)) < 0 ||
        (rc = get_str(p, image_var(name, cap, n->res_path, i), WDSMC_WDSC_MAX_PATH_UNITS, false,
                      &im->res_path)) < 0 ||
        (rc = get_str(p, image_var(name, cap, n->group, i), WDSMC_WDSC_MAX_PATH_UNITS, true,
                      &im->group)) < 0 ||
        (rc = must(wdsmc_wdsc_get_ulong(p, image_var(name, cap, n->index, i), &im->index))) < 0 ||
        (rc = get_str(p, image_var(name, cap, n->ns, i), WDSMC_MSI_NAME_MAX_UNITS, false,
                      &im->ns)) < 0)
        return rc;
    return maybe(wdsmc_wdsc_get_ulong64(p, image_var(name, cap, n->ns_size, i), &im->ns_size),
                 &im->has_ns_size);
}

static int parse_image_v1(const struct wdsmc_wdsc_pkt *p, uint32_t i, struct wdsmc_wdsc_image *im)
{
    im->type = WDSMC_DEP_IMAGE_WIM;
    return parse_image_common(p, i, &names_v1, im);
}

static int parse_image_v2(const struct wdsmc_wdsc_pkt *p, uint32_t i, struct wdsmc_wdsc_image *im)
{
    char name[WDSMC_WDSC_NAME_BUF];
    const uint8_t *guid;
    size_t guid_len;
    bool has_cnt;
    int rc;

    if ((rc = must(wdsmc_wdsc_get_ulong(p, image_var(name, sizeof(name), names_v2.type, i),
                                        &im->type))) < 0)
        return rc;
    if ((rc = parse_image_common(p, i, &names_v2, im)) < 0)
        return rc;
    snprintf(name, sizeof(name), "IL.ExFlags[%u]", i);
    if ((rc = maybe(wdsmc_wdsc_get_ulong(p, name, &im->ex_flags), &im->has_ex_flags)) < 0)
        return rc;
    uint32_t cnt = 0;
    snprintf(name, sizeof(name), "IL.DepFiles[%u].Cnt", i);
    if ((rc = maybe(wdsmc_wdsc_get_ulong(p, name, &cnt), &has_cnt)) < 0)
        return rc;
    if (cnt > WDSMC_WDSC_MAX_DEP_FILES)
        return -WDSMC_ETOOMANY;
    if (cnt) {
        im->dep = calloc(cnt, sizeof(*im->dep));
        if (!im->dep)
            return -ENOMEM;
        for (uint32_t k = 0; k < cnt; k++) {
            snprintf(name, sizeof(name), "IL.DepFiles[%u].VL[%u]", i, k);
            rc = get_str(p, name, WDSMC_WDSC_MAX_PATH_UNITS, true, &im->dep[k]);
            if (rc < 0)
                return rc;
            /* Counted as soon as it is held, so _fini frees it. */
            im->n_dep = k + 1;
        }
    }
    snprintf(name, sizeof(name), "IL.MdGuid[%u]", i);
    if ((rc = maybe(wdsmc_wdsc_get_blob(p, name, &guid, &guid_len), &im->has_md_guid)) < 0)
        return rc;
    if (im->has_md_guid) {
        if (guid_len != 16)
            return -WDSMC_EVALUE;
        memcpy(im->md_guid.b, guid, 16);
    }
    return 0;
}

/* Whether any variable of image i exists. */
static bool image_present(const struct wdsmc_wdsc_pkt *p, const struct image_names *n, uint32_t i)
{
    const char *const *vars[] = {n->type, n->xml, n->path, n->group, n->index};
    char name[WDSMC_WDSC_NAME_BUF];

    for (size_t k = 0; k < sizeof(vars) / sizeof(vars[0]); k++) {
        if (vars[k][0] && wdsmc_wdsc_find(p, image_var(name, sizeof(name), vars[k], i)))
            return true;
    }
    return false;
}

int wdsmc_wdsc_img_enum_rep_parse(const struct wdsmc_wdsc_pkt *pkt,
                                  struct wdsmc_wdsc_img_enum_rep *ret)
{
    size_t cap = 0;
    int rc;

    memset(ret, 0, sizeof(*ret));
    if (!wdsmc_uuid_eq(&pkt->endpoint, &ep_osd))
        return -WDSMC_EOPCODE;
    ret->error = pkt->opcode;
    if (ret->error)
        return 0;
    if ((rc = must(wdsmc_wdsc_get_ulong(pkt, "VERSION", &ret->version))) < 0 ||
        (rc = maybe(wdsmc_wdsc_get_ulong(pkt, "OPTIONS", &ret->options), &ret->has_options)) < 0 ||
        (rc = maybe(wdsmc_wdsc_get_ulong(pkt, "SC", &ret->sc), &ret->has_sc)) < 0)
        return rc;
    bool v2 = ret->has_sc && (ret->sc & WDSMC_SERVER_CAP_SUPPORT_V2);
    /* "substitute an index with a value of 1 ... until the variables
     * generated by using the next index value are not found". */
    const struct image_names *names = v2 ? &names_v2 : &names_v1;
    uint32_t first = v2 && image_present(pkt, names, 0) ? 0 : 1;
    for (uint32_t i = first; image_present(pkt, names, i); i++) {
        if (ret->n_images == WDSMC_WDSC_MAX_IMAGES)
            return -WDSMC_ETOOMANY;
        if (ret->n_images == cap) {
            size_t ncap = cap ? 2 * cap : 8;
            struct wdsmc_wdsc_image *im = realloc(ret->images, ncap * sizeof(*im));
            if (!im)
                return -ENOMEM;
            ret->images = im;
            cap = ncap;
        }
        struct wdsmc_wdsc_image *im = &ret->images[ret->n_images++];
        memset(im, 0, sizeof(*im));
        rc = v2 ? parse_image_v2(pkt, i, im) : parse_image_v1(pkt, i, im);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- WdsRpcMessage glue --------------------------------------------------------------- */

/* MS-WDSMSI 2.2 and MS-WDSOSD 2.2: which opcodes need an authenticated
 * caller. */
static const struct {
    const struct wdsmc_uuid *ep;
    uint32_t opcode;
    bool auth;
} access_table[] = {
        {&ep_msi, WDSMC_OP_INITIATE, true},
        {&ep_osd, WDS_OP_IMG_ENUMERATE, true},
        {&ep_osd, WDS_OP_LOG_INIT, false},
        {&ep_osd, WDS_OP_LOG_MSG, false},
        {&ep_osd, WDS_OP_GET_CLIENT_UNATTEND, false},
        {&ep_osd, WDS_OP_GET_UNATTEND_VARIABLES, true},
        {&ep_osd, WDS_OP_GET_DOMAIN_JOIN_INFORMATION, true},
        {&ep_osd, WDS_OP_RESET_BOOT_PROGRAM, true},
};

int wdsmc_wdsc_access(const struct wdsmc_uuid *endpoint, uint32_t opcode,
                      const struct wdsmc_rpc_call_info *info)
{
    /* MS-WDSC 3.1.4.1: an authenticated caller must use PKT_PRIVACY. */
    if (info->authenticated && info->auth_level != WDSMC_RPC_LEVEL_PKT_PRIVACY)
        return -EACCES;
    for (size_t i = 0; i < sizeof(access_table) / sizeof(access_table[0]); i++) {
        if (!wdsmc_uuid_eq(endpoint, access_table[i].ep) || opcode != access_table[i].opcode)
            continue;
        /* The anonymous logon authenticates nobody. */
        if (access_table[i].auth && (!info->authenticated || info->anonymous))
            return -EACCES;
        return 0;
    }
    return -ENOENT;
}

int wdsmc_wdsc_status_to_errno(uint32_t status)
{
    switch (status) {
    case WDSMC_WIN32_SUCCESS:
        return 0;
    case WDSMC_WIN32_ACCESS_DENIED:
        return -EACCES;
    case WDSMC_WIN32_NOT_ENOUGH_MEMORY:
    case 14: /* ERROR_OUTOFMEMORY */
        return -ENOMEM;
    case WDSMC_WIN32_INVALID_DATA:
        return -EBADMSG;
    case WDSMC_WIN32_NOT_SUPPORTED:
        return -EOPNOTSUPP;
    case WDSMC_WIN32_FILE_NOT_FOUND:
    case WDSMC_WIN32_NOT_FOUND:
        return -ENOENT;
    case WDSMC_WIN32_INVALID_PARAMETER:
        return -EINVAL;
    default:
        return -WDSMC_ESERVER;
    }
}

uint32_t wdsmc_wdsc_errno_to_status(int err)
{
    if (err <= -WDSMC_EBASE && err > -WDSMC_ELAST)
        return WDSMC_WIN32_INVALID_DATA;
    switch (err) {
    case -EACCES:
    case -EPERM:
        return WDSMC_WIN32_ACCESS_DENIED;
    case -ENOMEM:
        return WDSMC_WIN32_NOT_ENOUGH_MEMORY;
    case -EBADMSG:
        return WDSMC_WIN32_INVALID_DATA;
    case -EOPNOTSUPP:
        return WDSMC_WIN32_NOT_SUPPORTED;
    case -ENOENT:
        return WDSMC_WIN32_NOT_FOUND;
    default:
        return WDSMC_WIN32_INVALID_PARAMETER;
    }
}

int wdsmc_wdsc_rpc_dispatch(void *user, const struct wdsmc_rpc_call_info *info, const uint8_t *stub,
                            size_t len, uint8_t **ret_stub, size_t *ret_len)
{
    const struct wdsmc_wdsc_server *srv = user;
    struct wdsmc_wdsc_pkt pkt;
    const uint8_t *req;
    size_t req_len;
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    uint32_t status = 0;
    int rc;

    if (wdsmc_ndr_wdsrpc_req_decode(stub, len, &req, &req_len) < 0)
        return -EBADMSG;
    rc = wdsmc_wdsc_decode(req, req_len, &pkt);
    if (rc < 0) {
        status = WDSMC_WIN32_INVALID_DATA;
    } else {
        rc = wdsmc_wdsc_access(&pkt.endpoint, pkt.opcode, info);
        if (rc == -EACCES)
            status = WDSMC_WIN32_ACCESS_DENIED;
        else if (rc < 0)
            status = WDSMC_WIN32_NOT_SUPPORTED;
        else {
            rc = srv->handler(srv->user, info, &pkt, &reply, &reply_len);
            if (rc < 0) {
                free(reply);
                reply = NULL;
                reply_len = 0;
                status = wdsmc_wdsc_errno_to_status(rc);
            } else if (reply_len > WDSMC_NDR_MAX_PACKET || (!reply && reply_len)) {
                free(reply);
                reply = NULL;
                reply_len = 0;
                status = WDSMC_WIN32_NOT_ENOUGH_MEMORY;
            }
        }
        wdsmc_wdsc_pkt_fini(&pkt);
    }
    size_t cap = wdsmc_ndr_wdsrpc_rep_size(reply_len);
    uint8_t *out = malloc(cap);
    if (!out) {
        free(reply);
        return -ENOMEM;
    }
    ssize_t n = wdsmc_ndr_wdsrpc_rep_encode(reply, reply_len, status, out, cap);
    free(reply);
    if (n < 0) {
        free(out);
        return (int)n;
    }
    *ret_stub = out;
    *ret_len = (size_t)n;
    return 0;
}

int wdsmc_wdsc_rpc_request(const uint8_t *pkt, size_t len, uint8_t **ret, size_t *ret_len)
{
    if (len > WDSMC_NDR_MAX_PACKET)
        return -EINVAL;
    size_t cap = wdsmc_ndr_wdsrpc_req_size(len);
    uint8_t *out = malloc(cap);
    if (!out)
        return -ENOMEM;
    ssize_t n = wdsmc_ndr_wdsrpc_req_encode(pkt, len, out, cap);
    if (n < 0) {
        free(out);
        return (int)n;
    }
    *ret = out;
    *ret_len = (size_t)n;
    return 0;
}

int wdsmc_wdsc_rpc_reply(const uint8_t *stub, size_t len, const uint8_t **ret_pkt, size_t *ret_len)
{
    const uint8_t *pkt;
    size_t pkt_len;
    uint32_t status;
    int rc = wdsmc_ndr_wdsrpc_rep_decode(stub, len, &pkt, &pkt_len, &status);

    if (rc < 0)
        return rc;
    if (status)
        return wdsmc_wdsc_status_to_errno(status);
    if (!pkt)
        return -WDSMC_EMISSING;
    *ret_pkt = pkt;
    *ret_len = pkt_len;
    return 0;
}
