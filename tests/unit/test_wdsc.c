/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the WDS Control Protocol packets and operations
 * (transport/wdsc.c): MS-WDSC 2.2.1, WDSMC_OP_INITIATE (MS-WDSMSI 2.2.1) and
 * WDS_OP_IMG_ENUMERATE (MS-WDSOSD 2.2.6).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wdsc.h"
#include "wdsmc/error.h"

static const struct wdsmc_uuid ep_msi = WDSMC_WDSC_EP_MSI_INIT;
static const struct wdsmc_uuid ep_osd = WDSMC_WDSC_EP_OSD_INIT;

/* ======================================================================== */
/* A hand packet builder, independent of the library's: each field written  */
/* as MS-WDSC 2.2.1 lays it out.                                             */
/* ======================================================================== */

struct hb {
    uint8_t buf[1 << 16];
    size_t len;
    uint32_t count;
    bool minimal_pad; /* pad blocks to 16 only, not Windows' 4 extra */
};

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static void hb_start(struct hb *h, const struct wdsmc_uuid *ep, uint8_t packet_type,
                     uint32_t opcode)
{
    memset(h, 0, sizeof(*h));
    put16(h->buf, 0x0028);     /* Size-Of-Header */
    put16(h->buf + 2, 0x0100); /* Version */
    /* Packet-Size at hb_end */
    memcpy(h->buf + 8, ep->b, 16); /* Endpoint-GUID; 16 reserved zeros follow */
    put16(h->buf + 44, 0x0100);    /* Operation header: Version */
    h->buf[46] = packet_type;      /* Packet-Type */
    put32(h->buf + 48, opcode);    /* OpCode-ErrorCode */
    h->len = 56;
}

/* A variable block: name (ASCII to UTF-16LE, 66 bytes), Padding1, type,
 * Value-Length, Array-Size, the value, Padding_end. */
static void hb_var(struct hb *h, const char *name, uint32_t type, uint32_t vlen, uint32_t asize,
                   const void *val, size_t size)
{
    uint8_t *b = h->buf + h->len;
    for (size_t i = 0; name[i]; i++)
        b[2 * i] = (uint8_t)name[i];
    put32(b + 68, type);
    put32(b + 72, vlen);
    put32(b + 76, asize);
    if (size)
        memcpy(b + 80, val, size);
    size_t blk = 80 + size + (h->minimal_pad ? 0 : 4);
    h->len += (blk + 15) / 16 * 16;
    h->count++;
}

static void hb_ulong(struct hb *h, const char *name, uint32_t v)
{
    uint8_t le[4];
    put32(le, v);
    hb_var(h, name, 0x0004, 4, 0, le, 4);
}

static void hb_ulong64(struct hb *h, const char *name, uint64_t v)
{
    uint8_t le[8];
    put32(le, (uint32_t)v);
    put32(le + 4, (uint32_t)(v >> 32));
    hb_var(h, name, 0x0008, 8, 0, le, 8);
}

static void hb_blob(struct hb *h, const char *name, const void *v, size_t n)
{
    hb_var(h, name, 0x0040, (uint32_t)n, 0, v, n);
}

/* ASCII as NUL-terminated UTF-16LE. */
static void hb_wstr(struct hb *h, const char *name, const char *s)
{
    uint8_t w[8192] = {0};
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        w[2 * i] = (uint8_t)s[i];
    hb_var(h, name, 0x0020, (uint32_t)(2 * n + 2), 0, w, 2 * n + 2);
}

/* Sizes and count; the endpoint Packet-Size counts the operation part only
 * (op_only) or the whole packet (MS-WDSC 2.2.1.1 as written). */
static size_t hb_end(struct hb *h, bool op_only)
{
    put32(h->buf + 4, (uint32_t)(op_only ? h->len - 40 : h->len));
    put32(h->buf + 40, (uint32_t)(h->len - 40));
    put32(h->buf + 52, h->count);
    return h->len;
}

/* ======================================================================== */
/* Packets                                                                   */
/* ======================================================================== */

/* WDS_OP_IMG_ENUMERATE request with VERSION = 1 (MS-WDSOSD 4.4), as the
 * builder must send it: endpoint Packet-Size = operation part, one block
 * padded to 96 bytes (84 + 12). */
static const uint8_t golden_enum_req[] = {
        /* Endpoint header (MS-WDSC 2.2.1.1) */
        0x28, 0x00,             /* Size-Of-Header 40 */
        0x00, 0x01,             /* Version 0x0100 */
        0x70, 0x00, 0x00, 0x00, /* Packet-Size 112: operation header + variables */
        0x5a, 0xeb, 0xde, 0xd8, /* Endpoint-GUID d8deeb5a- */
        0xfd, 0xef,             /*   effd- */
        0xb2, 0x43,             /*   43b2- */
        0x99, 0xfc, 0x1a, 0x8a, 0x59, 0x21, 0xc2, 0x27, /* 99fc-1a8a5921c227 */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* Reserved */
        /* Operation header (MS-WDSC 2.2.1.2) */
        0x70, 0x00, 0x00, 0x00, /* Packet-Size 112 */
        0x00, 0x01,             /* Version 0x0100 */
        0x01,                   /* Packet-Type WDSCPL_PACKET_REQUEST */
        0x00,                   /* Padding1 */
        0x02, 0x00, 0x00, 0x00, /* OpCode WDS_OP_IMG_ENUMERATE */
        0x01, 0x00, 0x00, 0x00, /* Variable-Count 1 */
        /* Variable Description Block (MS-WDSC 2.2.1.3.1) */
        'V', 0, 'E', 0, 'R', 0, 'S', 0, 'I', 0, 'O', 0, 'N', 0, /* Variable-Name */
        0, 0,                                                   /*   NUL */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,         /*   rest of 66 bytes */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,         /*   ... */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,         /*   ... */
        0, 0,                                                   /*   (66 bytes) */
        0, 0,                                                   /* Padding1 */
        0x04, 0x00, 0x00, 0x00,                                 /* WDSCPL_VAR_ULONG */
        0x04, 0x00, 0x00, 0x00,                                 /* Value-Length 4 */
        0x00, 0x00, 0x00, 0x00,                                 /* Array-Size 0 */
        0x01, 0x00, 0x00, 0x00,                                 /* Variable-Value 1 */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,                     /* Padding_end 12 */
};

static void test_wdsc_builder_matches_golden(void **state)
{
    struct wdsmc_wdsc_img_enum_req req = {.version = 1};
    uint8_t *pkt;
    size_t len;

    (void)state;
    assert_int_equal(sizeof(golden_enum_req), 152);
    assert_int_equal(wdsmc_wdsc_img_enum_req_build(&req, &pkt, &len), 0);
    assert_int_equal(len, sizeof(golden_enum_req));
    assert_memory_equal(pkt, golden_enum_req, len);
    free(pkt);

    /* The hand builder agrees with the golden too. */
    struct hb *h = malloc(sizeof(*h));
    hb_start(h, &ep_osd, 1, WDS_OP_IMG_ENUMERATE);
    hb_ulong(h, "VERSION", 1);
    assert_int_equal(hb_end(h, true), sizeof(golden_enum_req));
    assert_memory_equal(h->buf, golden_enum_req, sizeof(golden_enum_req));
    free(h);
}

static void test_wdsc_decode_golden_and_accessors(void **state)
{
    struct wdsmc_wdsc_pkt p;
    struct wdsmc_wdsc_img_enum_req req;
    uint32_t v;
    uint64_t v64;

    (void)state;
    assert_int_equal(wdsmc_wdsc_decode(golden_enum_req, sizeof(golden_enum_req), &p), 0);
    assert_true(wdsmc_uuid_eq(&p.endpoint, &ep_osd));
    assert_int_equal(p.packet_type, WDSMC_WDSC_PACKET_REQUEST);
    assert_int_equal(p.opcode, WDS_OP_IMG_ENUMERATE);
    assert_true(p.ep_size_op_only);
    assert_false(p.pad_minimal);
    assert_int_equal(p.n_vars, 1);
    assert_string_equal(p.vars[0].name, "VERSION");
    /* Names are case-insensitive. */
    assert_int_equal(wdsmc_wdsc_get_ulong(&p, "version", &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(wdsmc_wdsc_get_ulong(&p, "CC", &v), -ENOENT);
    assert_int_equal(wdsmc_wdsc_get_ulong64(&p, "VERSION", &v64), -WDSMC_EOPTION);
    assert_int_equal(wdsmc_wdsc_img_enum_req_parse(&p, &req), 0);
    assert_int_equal(req.version, 1);
    assert_false(req.has_cc);
    wdsmc_wdsc_pkt_fini(&p);
    wdsmc_wdsc_pkt_fini(&p); /* twice is fine */
}

static void test_wdsc_both_packet_size_conventions(void **state)
{
    uint8_t buf[sizeof(golden_enum_req)];
    struct wdsmc_wdsc_pkt p;
    struct wdsmc_wdsc_builder b;
    uint8_t *pkt;
    size_t len;

    (void)state;
    memcpy(buf, golden_enum_req, sizeof(buf));
    put32(buf + 4, sizeof(buf)); /* MS-WDSC 2.2.1.1 as written: whole packet */
    assert_int_equal(wdsmc_wdsc_decode(buf, sizeof(buf), &p), 0);
    assert_false(p.ep_size_op_only);
    wdsmc_wdsc_pkt_fini(&p);
    /* And the builder sends it on request. */
    assert_int_equal(wdsmc_wdsc_builder_init(&b, &ep_osd, 1, WDS_OP_IMG_ENUMERATE), 0);
    b.spec_packet_size = true;
    wdsmc_wdsc_add_ulong(&b, "VERSION", 1);
    assert_int_equal(wdsmc_wdsc_builder_finish(&b, &pkt, &len), 0);
    assert_memory_equal(pkt, buf, sizeof(buf));
    free(pkt);
    /* Anything else is refused. */
    put32(buf + 4, 113);
    assert_int_equal(wdsmc_wdsc_decode(buf, sizeof(buf), &p), -WDSMC_ETRUNC);
    put32(buf + 4, 111);
    assert_int_equal(wdsmc_wdsc_decode(buf, sizeof(buf), &p), -WDSMC_ETRAILING);
}

static void test_wdsc_both_padding_conventions(void **state)
{
    struct hb *h = malloc(sizeof(*h));
    struct wdsmc_wdsc_pkt p;
    static const uint8_t blob16[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    const uint8_t *v;
    size_t n;
    char s[32];

    (void)state;
    for (int minimal = 0; minimal < 2; minimal++) {
        /* Values of 16, 0, 14 and 13 bytes: where the layouts differ. */
        hb_start(h, &ep_msi, 2, 0);
        h->minimal_pad = minimal;
        hb_blob(h, "A", blob16, 16);
        hb_blob(h, "B", NULL, 0);
        hb_wstr(h, "C", "abcdef");
        uint8_t s13[13] = "twelve chars";
        hb_var(h, "D", 0x0010, 13, 0, s13, 13);
        hb_ulong(h, "E", 7);
        size_t len = hb_end(h, true);
        assert_int_equal(len,
                         minimal ? 56 + 96 + 80 + 96 + 96 + 96 : 56 + 112 + 96 + 112 + 112 + 96);
        assert_int_equal(wdsmc_wdsc_decode(h->buf, len, &p), 0);
        assert_int_equal(p.pad_minimal, minimal);
        assert_int_equal(wdsmc_wdsc_get_blob(&p, "A", &v, &n), 0);
        assert_int_equal(n, 16);
        assert_memory_equal(v, blob16, 16);
        assert_int_equal(wdsmc_wdsc_get_blob(&p, "b", &v, &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(wdsmc_wdsc_get_wstring(&p, "C", 32, s, sizeof(s)), 0);
        assert_string_equal(s, "abcdef");
        assert_int_equal(wdsmc_wdsc_find(&p, "D")->size, 13);
        uint32_t e;
        assert_int_equal(wdsmc_wdsc_get_ulong(&p, "E", &e), 0);
        assert_int_equal(e, 7);
        wdsmc_wdsc_pkt_fini(&p);
        /* One block short of its padding is neither layout. */
        hb_end(h, true);
        put32(h->buf + 4, (uint32_t)(len - 16 - 40));
        put32(h->buf + 40, (uint32_t)(len - 16 - 40));
        assert_true(wdsmc_wdsc_decode(h->buf, len - 16, &p) < 0);
    }
    free(h);
}

static void test_wdsc_builder_pads_like_windows(void **state)
{
    static const uint8_t zero[64];

    (void)state;
    for (size_t k = 0; k <= 40; k++) {
        struct wdsmc_wdsc_builder b;
        uint8_t *pkt;
        size_t len;
        assert_int_equal(wdsmc_wdsc_builder_init(&b, &ep_msi, 1, 6), 0);
        assert_int_equal(wdsmc_wdsc_add_blob(&b, "ContentMetadata", zero, k), 0);
        assert_int_equal(wdsmc_wdsc_builder_finish(&b, &pkt, &len), 0);
        size_t blk = len - 56;
        assert_int_equal(blk % 16, 0);
        assert_true(blk - 80 - k >= 4);
        assert_true(blk - 80 - k < 20);
        free(pkt);
    }
}

static void test_wdsc_malformed_rejected(void **state)
{
    uint8_t buf[sizeof(golden_enum_req)];
    struct wdsmc_wdsc_pkt p;

    (void)state;
#define MUTATE(off, val, want)                                                                     \
    do {                                                                                           \
        memcpy(buf, golden_enum_req, sizeof(buf));                                                 \
        buf[off] = (uint8_t)(val);                                                                 \
        assert_int_equal(wdsmc_wdsc_decode(buf, sizeof(buf), &p), want);                           \
    } while (0)
    MUTATE(0, 0x29, -WDSMC_EVALUE);     /* Size-Of-Header */
    MUTATE(3, 0x02, -WDSMC_EVALUE);     /* endpoint Version */
    MUTATE(45, 0x02, -WDSMC_EVALUE);    /* operation Version */
    MUTATE(40, 0x71, -WDSMC_ETRUNC);    /* operation Packet-Size */
    MUTATE(40, 0x6f, -WDSMC_ETRAILING); /* operation Packet-Size */
    MUTATE(52, 2, -WDSMC_ECOUNT);       /* Variable-Count over the bytes */
    MUTATE(52, 0, -WDSMC_ETRAILING);    /* a block nobody counted */
    MUTATE(56, 0, -WDSMC_EVALUE);       /* empty name ('V' -> NUL) */
    MUTATE(57, 0xd8, -WDSMC_ESTRING);   /* lone surrogate in the name */
    MUTATE(124, 0x03, -WDSMC_EOPTION);  /* unknown base type */
    MUTATE(127, 0x20, -WDSMC_EOPTION);  /* unknown modifier 0x2000 */
    MUTATE(127, 0x10, -WDSMC_ECOUNT);   /* ARRAY with Array-Size 0 */
    MUTATE(128, 0x08, -WDSMC_EOPTION);  /* ULONG of 8 bytes */
    /* A name filling all 66 bytes with no NUL. */
    memcpy(buf, golden_enum_req, sizeof(buf));
    for (int i = 0; i < 66; i += 2)
        buf[56 + i] = 'A';
    assert_int_equal(wdsmc_wdsc_decode(buf, sizeof(buf), &p), -WDSMC_ESTRING);
    /* An array of five ULONGs does not fit the 16 bytes left. */
    memcpy(buf, golden_enum_req, sizeof(buf));
    buf[127] = 0x10;
    buf[132] = 5;
    assert_int_equal(wdsmc_wdsc_decode(buf, sizeof(buf), &p), -WDSMC_ECOUNT);
    /* An array whose byte count overflows 32 bits. */
    buf[132] = 0x01;
    buf[135] = 0x40;
    assert_int_equal(wdsmc_wdsc_decode(buf, sizeof(buf), &p), -WDSMC_ECOUNT);
    /* A one-element array decodes but is not a ULONG. */
    memcpy(buf, golden_enum_req, sizeof(buf));
    buf[127] = 0x10;
    buf[132] = 1;
    assert_int_equal(wdsmc_wdsc_decode(buf, sizeof(buf), &p), 0);
    uint32_t v;
    assert_int_equal(wdsmc_wdsc_get_ulong(&p, "VERSION", &v), -WDSMC_EOPTION);
    assert_int_equal(wdsmc_wdsc_find(&p, "VERSION")->type,
                     WDSMC_WDSC_TYPE(4, WDSMC_WDSC_VAR_ARRAY));
    wdsmc_wdsc_pkt_fini(&p);
    /* Too large a packet. */
    uint8_t *huge = calloc(1, WDSMC_WDSC_MAX_PACKET + 1);
    assert_int_equal(wdsmc_wdsc_decode(huge, WDSMC_WDSC_MAX_PACKET + 1, &p), -EMSGSIZE);
    free(huge);
#undef MUTATE
}

static void test_wdsc_strings_and_duplicates_rejected(void **state)
{
    struct hb *h = malloc(sizeof(*h));
    struct wdsmc_wdsc_pkt p;
    size_t len;

    (void)state;
    /* Duplicate names, differing in case only. */
    hb_start(h, &ep_osd, 1, 2);
    hb_ulong(h, "VERSION", 1);
    hb_ulong(h, "Version", 1);
    len = hb_end(h, true);
    assert_int_equal(wdsmc_wdsc_decode(h->buf, len, &p), -WDSMC_EOPTION);
    /* A WSTRING of odd length, and one without its NUL. */
    hb_start(h, &ep_osd, 1, 2);
    hb_var(h, "S", 0x0020, 5, 0, "a\0b\0\0", 5);
    len = hb_end(h, true);
    assert_int_equal(wdsmc_wdsc_decode(h->buf, len, &p), -WDSMC_ESTRING);
    hb_start(h, &ep_osd, 1, 2);
    hb_var(h, "S", 0x0020, 4, 0, "a\0b\0", 4);
    len = hb_end(h, true);
    assert_int_equal(wdsmc_wdsc_decode(h->buf, len, &p), -WDSMC_ESTRING);
    /* A STRING without its NUL; an empty WSTRING value (no terminator). */
    hb_start(h, &ep_osd, 1, 2);
    hb_var(h, "S", 0x0010, 3, 0, "abc", 3);
    len = hb_end(h, true);
    assert_int_equal(wdsmc_wdsc_decode(h->buf, len, &p), -WDSMC_ESTRING);
    hb_start(h, &ep_osd, 1, 2);
    hb_var(h, "S", 0x0020, 0, 0, "", 0);
    len = hb_end(h, true);
    assert_int_equal(wdsmc_wdsc_decode(h->buf, len, &p), -WDSMC_ESTRING);
    /* A WSTRING with a NUL inside decodes but does not convert. */
    hb_start(h, &ep_osd, 1, 2);
    hb_var(h, "S", 0x0020, 6, 0, "a\0\0\0\0\0", 6);
    len = hb_end(h, true);
    assert_int_equal(wdsmc_wdsc_decode(h->buf, len, &p), 0);
    char s[16];
    assert_int_equal(wdsmc_wdsc_get_wstring(&p, "S", 16, s, sizeof(s)), -WDSMC_ESTRING);
    wdsmc_wdsc_pkt_fini(&p);
    /* Length limits on conversion. */
    hb_start(h, &ep_osd, 1, 2);
    hb_wstr(h, "S", "0123456789");
    len = hb_end(h, true);
    assert_int_equal(wdsmc_wdsc_decode(h->buf, len, &p), 0);
    assert_int_equal(wdsmc_wdsc_get_wstring(&p, "S", 9, s, sizeof(s)), -WDSMC_ESTRLEN);
    assert_int_equal(wdsmc_wdsc_get_wstring(&p, "S", 10, s, 10), -WDSMC_ESTRLEN);
    assert_int_equal(wdsmc_wdsc_get_wstring(&p, "S", 10, s, 11), 0);
    char *dup;
    assert_int_equal(wdsmc_wdsc_get_wstring_dup(&p, "S", 10, &dup), 0);
    assert_string_equal(dup, "0123456789");
    free(dup);
    wdsmc_wdsc_pkt_fini(&p);
    free(h);
}

/* ======================================================================== */
/* WDSMC_OP_INITIATE                                                         */
/* ======================================================================== */

static const uint8_t sym_key[36] = {
        0x08, 0x02, 0x00, 0x00, 0x03, 0x66, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00,
        0x2F, 0x15, 0xF8, 0x2A, 0xE0, 0x68, 0x3E, 0xF7, 0x9E, 0x6D, 0x62, 0xA7,
        0x0B, 0xDC, 0x51, 0x9D, 0x2A, 0x32, 0x46, 0xE0, 0xFD, 0xB3, 0x54, 0xE9,
};
static const uint8_t user_sid[28] = {
        0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x15, 0x00, 0x00, 0x00, 0x6B, 0xE7,
        0x9E, 0xCE, 0x8F, 0x2C, 0x95, 0x99, 0xDC, 0x2F, 0x39, 0xDC, 0xF4, 0x01, 0x00, 0x00,
};

/*
 * The reply of MS-WDSMSI 4.1, in the example's order. The example lists
 * SymKey twice with the same value; MS-WDSC 2.2.1.3.1 forbids duplicate
 * names, so it appears once here.
 */
static size_t golden_initiate_reply(struct hb *h, bool op_only)
{
    static const uint8_t mc[4] = {0xEF, 0x00, 0x00, 0x6F};  /* 239.0.0.111 */
    static const uint8_t uni[4] = {0xC0, 0xA8, 0x00, 0xC8}; /* 192.168.0.200 */

    hb_start(h, &ep_msi, WDSMC_WDSC_PACKET_REPLY, 0 /* ERROR_SUCCESS */);
    hb_ulong(h, "TpMcAddress.Port", 0x0000FA84); /* 64132 */
    hb_blob(h, "TpMcAddress.Address", mc, 4);
    hb_ulong(h, "TpUniAddress.Port", 0x0000FA84);
    hb_blob(h, "TpUniAddress.Address", uni, 4);
    hb_ulong64(h, "ContentSize", 0x00000000EF8B56ECull);
    hb_ulong64(h, "TotalBlocks", 0x6FB00);
    hb_ulong(h, "BlockSize", 0x00002251);
    hb_ulong(h, "SessionId", 0x6D19EE7E);
    hb_blob(h, "SymKey", sym_key, sizeof(sym_key));
    hb_blob(h, "UserSid", user_sid, sizeof(user_sid));
    hb_ulong(h, "HMACAlgId", 0x00008009); /* CALG_HMAC */
    hb_ulong(h, "HashAlgId", 0x0000800C); /* CALG_SHA_256 */
    hb_ulong(h, "SecMode", 0x00010001);   /* HASH / HASH */
    return hb_end(h, op_only);
}

static void assert_initiate_golden(const struct wdsmc_wdsc_initiate_rep *r)
{
    assert_int_equal(r->error, 0);
    assert_int_equal(r->mc_port, 64132);
    assert_int_equal(r->mc_addr.len, 4);
    assert_memory_equal(r->mc_addr.bytes, "\xEF\x00\x00\x6F", 4);
    assert_int_equal(r->uni_port, 64132);
    assert_int_equal(r->uni_addr.len, 4);
    assert_memory_equal(r->uni_addr.bytes, "\xC0\xA8\x00\xC8", 4);
    assert_int_equal(r->content_size, 0xEF8B56ECull);
    assert_int_equal(r->total_blocks, 0x6FB00);
    assert_int_equal(r->block_size, 0x2251);
    assert_int_equal(r->session_id, 0x6D19EE7E);
    assert_false(r->has_metadata);
    assert_true(r->has_sym_key);
    assert_int_equal(r->sym_key.len, 36);
    assert_memory_equal(r->sym_key.p, sym_key, 36);
    assert_false(r->has_sign_key);
    assert_true(r->has_user_sid);
    assert_int_equal(r->user_sid.len, 28);
    assert_memory_equal(r->user_sid.p, user_sid, 28);
    assert_true(r->has_hmac_alg);
    assert_int_equal(r->hmac_alg, 0x8009);
    assert_true(r->has_hash_alg);
    assert_int_equal(r->hash_alg, 0x800C);
    assert_true(r->has_sec_mode);
    assert_int_equal(r->client_sec_mode, WDSMCTP_SEC_HASH);
    assert_int_equal(r->server_sec_mode, WDSMCTP_SEC_HASH);
}

static void test_wdsc_initiate_reply_golden(void **state)
{
    struct hb *h = malloc(sizeof(*h));
    struct wdsmc_wdsc_pkt p;
    struct wdsmc_wdsc_initiate_rep r;
    struct wdsmc_msi_reply msi;

    (void)state;
    for (int op_only = 0; op_only < 2; op_only++) {
        size_t len = golden_initiate_reply(h, op_only);
        assert_int_equal(wdsmc_wdsc_decode(h->buf, len, &p), 0);
        assert_int_equal(p.ep_size_op_only, op_only);
        assert_int_equal(p.n_vars, 13);
        assert_int_equal(wdsmc_wdsc_initiate_rep_parse(&p, &r), 0);
        assert_initiate_golden(&r);
        /* The session parameters pass the UDP codec's checks. */
        assert_int_equal(wdsmc_wdsc_initiate_rep_to_msi(&r, &msi), 0);
        assert_int_equal(wdsmc_msi_reply_check(&msi), 0);
        assert_int_equal(msi.mcast_port, 64132);

        /* Round trip through the builder (spec order) and back. */
        uint8_t *pkt;
        size_t plen;
        struct wdsmc_wdsc_pkt q;
        struct wdsmc_wdsc_initiate_rep r2;
        assert_int_equal(wdsmc_wdsc_initiate_rep_build(&r, &pkt, &plen), 0);
        assert_int_equal(plen, len);
        assert_int_equal(wdsmc_wdsc_decode(pkt, plen, &q), 0);
        assert_int_equal(wdsmc_wdsc_initiate_rep_parse(&q, &r2), 0);
        assert_initiate_golden(&r2);
        assert_string_equal(q.vars[0].name, "TpMcAddress.Port");
        assert_string_equal(q.vars[5].name, "ContentSize");
        wdsmc_wdsc_pkt_fini(&q);
        free(pkt);
        wdsmc_wdsc_pkt_fini(&p);
    }
    free(h);
}

static void test_wdsc_initiate_reply_truncations_rejected(void **state)
{
    struct hb *h = malloc(sizeof(*h));
    uint8_t *buf;
    struct wdsmc_wdsc_pkt p;

    (void)state;
    size_t len = golden_initiate_reply(h, true);
    buf = malloc(len);
    for (size_t cut = 0; cut < len; cut++) {
        /* As received: the sizes promise more. */
        memcpy(buf, h->buf, cut);
        assert_true(wdsmc_wdsc_decode(buf, cut, &p) < 0);
        /* Sizes rewritten to the cut (either convention). */
        if (cut >= 56) {
            put32(buf + 4, (uint32_t)(cut - 40));
            put32(buf + 40, (uint32_t)(cut - 40));
            assert_true(wdsmc_wdsc_decode(buf, cut, &p) < 0);
            put32(buf + 4, (uint32_t)cut);
            assert_true(wdsmc_wdsc_decode(buf, cut, &p) < 0);
        }
    }
    free(buf);
    free(h);
}

static void test_wdsc_initiate_reply_errors(void **state)
{
    struct hb *h = malloc(sizeof(*h));
    struct wdsmc_wdsc_pkt p;
    struct wdsmc_wdsc_initiate_rep r;
    static const uint8_t a4[4] = {239, 1, 2, 3}, a5[5] = {0};
    static const uint8_t bad_sid[12] = {1, 2, 0, 0, 0, 0, 0, 5, 1, 0, 0, 0};
    size_t len;

    (void)state;
#define PARSE(want)                                                                                \
    do {                                                                                           \
        len = hb_end(h, true);                                                                     \
        assert_int_equal(wdsmc_wdsc_decode(h->buf, len, &p), 0);                                   \
        assert_int_equal(wdsmc_wdsc_initiate_rep_parse(&p, &r), want);                             \
        wdsmc_wdsc_pkt_fini(&p);                                                                   \
    } while (0)
#define BASE(skip)                                                                                 \
    do {                                                                                           \
        hb_start(h, &ep_msi, 2, 0);                                                                \
        if (strcmp(skip, "mcport"))                                                                \
            hb_ulong(h, "TpMcAddress.Port", 5000);                                                 \
        if (strcmp(skip, "mcaddr"))                                                                \
            hb_blob(h, "TpMcAddress.Address", a4, 4);                                              \
        hb_ulong(h, "TpUniAddress.Port", 5000);                                                    \
        hb_blob(h, "TpUniAddress.Address", a4, 4);                                                 \
        hb_ulong(h, "SessionId", 1);                                                               \
        hb_ulong64(h, "ContentSize", 10);                                                          \
        hb_ulong(h, "BlockSize", 10);                                                              \
        if (strcmp(skip, "blocks"))                                                                \
            hb_ulong64(h, "TotalBlocks", 1);                                                       \
    } while (0)
    BASE("");
    PARSE(0);
    BASE("mcport");
    PARSE(-WDSMC_EMISSING);
    BASE("mcaddr");
    PARSE(-WDSMC_EMISSING);
    BASE("blocks");
    PARSE(-WDSMC_EMISSING);
    BASE("mcport");
    hb_ulong64(h, "TpMcAddress.Port", 5000); /* wrong type */
    PARSE(-WDSMC_EOPTION);
    BASE("mcport");
    hb_ulong(h, "TpMcAddress.Port", 70000);
    PARSE(-WDSMC_EVALUE);
    BASE("mcaddr");
    hb_blob(h, "TpMcAddress.Address", a5, 5);
    PARSE(-WDSMC_EADDRLEN);
    BASE("");
    hb_blob(h, "SymKey", sym_key, 36); /* without HashAlgId/HMACAlgId */
    hb_ulong(h, "HashAlgId", 0x800C);
    PARSE(-WDSMC_EMISSING);
    BASE("");
    hb_blob(h, "UserSid", bad_sid, sizeof(bad_sid)); /* says 2 subauthorities, has 1 */
    PARSE(-WDSMC_EVALUE);
    BASE("");
    hb_ulong(h, "SecMode", 0x00040001);
    PARSE(-WDSMC_EVALUE);
    BASE("");
    hb_blob(h, "ContentMetadata", NULL, 0); /* present and empty */
    PARSE(0);
    assert_true(r.has_metadata);
    assert_int_equal(r.metadata.len, 0);
    /* The reply of another endpoint. */
    hb_start(h, &ep_osd, 2, 0);
    PARSE(-WDSMC_EOPCODE);
    /* A failed operation: only the error. */
    hb_start(h, &ep_msi, 2, WDSMC_WIN32_NOT_FOUND);
    PARSE(0);
    assert_int_equal(r.error, WDSMC_WIN32_NOT_FOUND);
#undef BASE
#undef PARSE
    free(h);
}

static void test_wdsc_initiate_request_round_trip(void **state)
{
    struct wdsmc_wdsc_initiate_req req = {.has_cap = true, .cap = 3}, back;
    struct wdsmc_wdsc_pkt p;
    uint8_t *pkt;
    size_t len;

    (void)state;
    /* MS-WDSMSI 4.1's request. */
    strcpy(req.ns, "WDS:default/install.wim/1");
    strcpy(req.content, "install.wim");
    strcpy(req.client, "TestMachine");
    assert_int_equal(wdsmc_wdsc_initiate_req_build(&req, &pkt, &len), 0);
    /* Same bytes as the hand builder. */
    struct hb *h = malloc(sizeof(*h));
    hb_start(h, &ep_msi, 1, 6);
    hb_wstr(h, "Namespace", "WDS:default/install.wim/1");
    hb_wstr(h, "Content", "install.wim");
    hb_wstr(h, "Client", "TestMachine");
    hb_ulong(h, "Cap", 3);
    assert_int_equal(hb_end(h, true), len);
    assert_memory_equal(pkt, h->buf, len);
    assert_int_equal(wdsmc_wdsc_decode(pkt, len, &p), 0);
    assert_int_equal(wdsmc_wdsc_initiate_req_parse(&p, &back), 0);
    assert_string_equal(back.ns, req.ns);
    assert_string_equal(back.content, req.content);
    assert_string_equal(back.client, req.client);
    assert_true(back.has_cap);
    assert_int_equal(back.cap, 3);
    wdsmc_wdsc_pkt_fini(&p);
    free(pkt);

    /* Non-ASCII names survive. */
    strcpy(req.content, "b\xc3\xa9ta.wim");
    req.has_cap = false;
    assert_int_equal(wdsmc_wdsc_initiate_req_build(&req, &pkt, &len), 0);
    assert_int_equal(wdsmc_wdsc_decode(pkt, len, &p), 0);
    assert_int_equal(wdsmc_wdsc_initiate_req_parse(&p, &back), 0);
    assert_string_equal(back.content, "b\xc3\xa9ta.wim");
    assert_false(back.has_cap);
    wdsmc_wdsc_pkt_fini(&p);
    free(pkt);

    /* Client names: 15 characters fit, 16 do not (16 with the NUL). */
    strcpy(req.client, "ABCDEFGHIJKLMNO");
    assert_int_equal(wdsmc_wdsc_initiate_req_build(&req, &pkt, &len), 0);
    free(pkt);
    strcpy(req.client, "ABCDEFGHIJKLMNOP");
    assert_int_equal(wdsmc_wdsc_initiate_req_build(&req, &pkt, &len), -EINVAL);
    req.client[0] = '\0';
    assert_int_equal(wdsmc_wdsc_initiate_req_build(&req, &pkt, &len), -EINVAL);

    /* The parser applies the same limits to what it receives. */
    hb_start(h, &ep_msi, 1, 6);
    hb_wstr(h, "Namespace", "ns");
    hb_wstr(h, "Content", "c");
    hb_wstr(h, "Client", "ABCDEFGHIJKLMNOP");
    len = hb_end(h, true);
    assert_int_equal(wdsmc_wdsc_decode(h->buf, len, &p), 0);
    assert_int_equal(wdsmc_wdsc_initiate_req_parse(&p, &back), -WDSMC_ESTRLEN);
    wdsmc_wdsc_pkt_fini(&p);
    hb_start(h, &ep_msi, 1, 6);
    hb_wstr(h, "Namespace", "ns");
    hb_wstr(h, "Content", "");
    hb_wstr(h, "Client", "c");
    len = hb_end(h, true);
    assert_int_equal(wdsmc_wdsc_decode(h->buf, len, &p), 0);
    assert_int_equal(wdsmc_wdsc_initiate_req_parse(&p, &back), -WDSMC_EVALUE);
    wdsmc_wdsc_pkt_fini(&p);
    hb_start(h, &ep_msi, 1, 6);
    hb_wstr(h, "Namespace", "ns");
    hb_wstr(h, "Content", "c");
    len = hb_end(h, true);
    assert_int_equal(wdsmc_wdsc_decode(h->buf, len, &p), 0);
    assert_int_equal(wdsmc_wdsc_initiate_req_parse(&p, &back), -WDSMC_EMISSING);
    wdsmc_wdsc_pkt_fini(&p);
    hb_start(h, &ep_msi, 1, 5);
    len = hb_end(h, true);
    assert_int_equal(wdsmc_wdsc_decode(h->buf, len, &p), 0);
    assert_int_equal(wdsmc_wdsc_initiate_req_parse(&p, &back), -WDSMC_EOPCODE);
    wdsmc_wdsc_pkt_fini(&p);
    free(h);
}

/* ======================================================================== */
/* WDS_OP_IMG_ENUMERATE                                                      */
/* ======================================================================== */

#define XML1                                                                                       \
    "<IMAGE INDEX=\"1\"><WINDOWS><ARCH>9</ARCH></WINDOWS><NAME>[MC] Windows Vista "                \
    "BUSINESS</NAME></IMAGE>"
#define XML2 "<IMAGE INDEX=\"2\"><NAME>Windows Vista HOMEBASIC</NAME></IMAGE>"

/* The reply of MS-WDSOSD 4.4 (v1 format), XML shortened. */
static size_t golden_enum_v1(struct hb *h)
{
    hb_start(h, &ep_osd, WDSMC_WDSC_PACKET_REPLY, 0);
    hb_ulong(h, "VERSION", 1);
    hb_ulong(h, "OPTIONS", 3); /* filter on version | firmware */
    hb_wstr(h, "XML_1", XML1);
    hb_wstr(h, "PATH_1", "\\Images\\Default\\install.wim");
    hb_wstr(h, "GROUP_1", "Default");
    hb_ulong(h, "INDEX_1", 1);
    hb_wstr(h, "NAMESPACE_1", "WDS:Default/install.wim/1");
    hb_ulong64(h, "NAMESPACE_SIZE_1", 0xEF8B56ECull);
    hb_wstr(h, "RESOURCEFILEPATH_1", "\\Images\\Default\\install.wim");
    hb_wstr(h, "XML_2", XML2);
    hb_wstr(h, "PATH_2", "\\Images\\Default\\install.wim");
    hb_wstr(h, "GROUP_2", "Default");
    hb_ulong(h, "INDEX_2", 2);
    hb_wstr(h, "NAMESPACE_2", "");
    hb_ulong64(h, "NAMESPACE_SIZE_2", 0xEF8B56ECull);
    hb_wstr(h, "RESOURCEFILEPATH_2", "\\Images\\Default\\install.wim");
    return hb_end(h, true);
}

static void assert_enum_golden(const struct wdsmc_wdsc_img_enum_rep *r)
{
    assert_int_equal(r->version, 1);
    assert_true(r->has_options);
    assert_int_equal(r->options, WDSMC_ENUM_FILTER_VERSION | WDSMC_ENUM_FILTER_FIRMWARE);
    assert_int_equal(r->n_images, 2);
    const struct wdsmc_wdsc_image *a = &r->images[0], *b = &r->images[1];
    assert_int_equal(a->type, WDSMC_DEP_IMAGE_WIM);
    assert_string_equal(a->xml, XML1);
    assert_string_equal(a->path, "\\Images\\Default\\install.wim");
    assert_string_equal(a->group, "Default");
    assert_int_equal(a->index, 1);
    assert_string_equal(a->ns, "WDS:Default/install.wim/1");
    assert_true(a->has_ns_size);
    assert_int_equal(a->ns_size, 0xEF8B56ECull);
    assert_string_equal(a->res_path, "\\Images\\Default\\install.wim");
    assert_string_equal(b->xml, XML2);
    assert_int_equal(b->index, 2);
    assert_string_equal(b->ns, ""); /* no multicast for this one */
}

static void test_wdsc_img_enum_v1_golden(void **state)
{
    struct hb *h = malloc(sizeof(*h));
    struct wdsmc_wdsc_pkt p, q;
    struct wdsmc_wdsc_img_enum_rep r, r2;
    uint8_t *pkt;
    size_t plen;

    (void)state;
    size_t len = golden_enum_v1(h);
    assert_int_equal(wdsmc_wdsc_decode(h->buf, len, &p), 0);
    assert_int_equal(wdsmc_wdsc_img_enum_rep_parse(&p, &r), 0);
    assert_false(r.has_sc);
    assert_enum_golden(&r);
    /* The builder writes the example's order: same bytes. */
    assert_int_equal(wdsmc_wdsc_img_enum_rep_build(&r, &pkt, &plen), 0);
    assert_int_equal(plen, len);
    assert_memory_equal(pkt, h->buf, len);
    assert_int_equal(wdsmc_wdsc_decode(pkt, plen, &q), 0);
    assert_int_equal(wdsmc_wdsc_img_enum_rep_parse(&q, &r2), 0);
    assert_enum_golden(&r2);
    wdsmc_wdsc_img_enum_rep_fini(&r2);
    wdsmc_wdsc_pkt_fini(&q);
    free(pkt);
    wdsmc_wdsc_img_enum_rep_fini(&r);
    wdsmc_wdsc_pkt_fini(&p);

    /* Every truncation is rejected. */
    uint8_t *buf = malloc(len);
    for (size_t cut = 0; cut < len; cut++) {
        memcpy(buf, h->buf, cut);
        assert_true(wdsmc_wdsc_decode(buf, cut, &p) < 0);
    }
    free(buf);
    free(h);
}

static void test_wdsc_img_enum_v1_missing_and_stray(void **state)
{
    struct hb *h = malloc(sizeof(*h));
    struct wdsmc_wdsc_pkt p;
    struct wdsmc_wdsc_img_enum_rep r;
    size_t len;

    (void)state;
    /* Image 2 without its PATH_2. */
    hb_start(h, &ep_osd, 2, 0);
    hb_ulong(h, "VERSION", 1);
    hb_wstr(h, "XML_1", "x");
    hb_wstr(h, "PATH_1", "p");
    hb_wstr(h, "GROUP_1", "g");
    hb_ulong(h, "INDEX_1", 1);
    hb_wstr(h, "XML_2", "x");
    hb_wstr(h, "GROUP_2", "g");
    hb_ulong(h, "INDEX_2", 1);
    len = hb_end(h, true);
    assert_int_equal(wdsmc_wdsc_decode(h->buf, len, &p), 0);
    assert_int_equal(wdsmc_wdsc_img_enum_rep_parse(&p, &r), -WDSMC_EMISSING);
    wdsmc_wdsc_img_enum_rep_fini(&r);
    wdsmc_wdsc_pkt_fini(&p);
    /* Index 3 after a gap is not an image (MS-WDSOSD 2.2.6: stop at the
     * first index not found); VERSION is required. */
    hb_start(h, &ep_osd, 2, 0);
    hb_ulong(h, "VERSION", 1);
    hb_wstr(h, "XML_1", "x");
    hb_wstr(h, "PATH_1", "p");
    hb_wstr(h, "GROUP_1", "g");
    hb_ulong(h, "INDEX_1", 1);
    hb_wstr(h, "XML_3", "x");
    len = hb_end(h, true);
    assert_int_equal(wdsmc_wdsc_decode(h->buf, len, &p), 0);
    assert_int_equal(wdsmc_wdsc_img_enum_rep_parse(&p, &r), 0);
    assert_int_equal(r.n_images, 1);
    assert_null(r.images[0].ns);
    assert_null(r.images[0].res_path);
    assert_false(r.images[0].has_ns_size);
    wdsmc_wdsc_img_enum_rep_fini(&r);
    wdsmc_wdsc_pkt_fini(&p);
    hb_start(h, &ep_osd, 2, 0);
    len = hb_end(h, true);
    assert_int_equal(wdsmc_wdsc_decode(h->buf, len, &p), 0);
    assert_int_equal(wdsmc_wdsc_img_enum_rep_parse(&p, &r), -WDSMC_EMISSING);
    wdsmc_wdsc_img_enum_rep_fini(&r);
    wdsmc_wdsc_pkt_fini(&p);
    /* A failed enumeration. */
    hb_start(h, &ep_osd, 2, WDSMC_WIN32_ACCESS_DENIED);
    len = hb_end(h, true);
    assert_int_equal(wdsmc_wdsc_decode(h->buf, len, &p), 0);
    assert_int_equal(wdsmc_wdsc_img_enum_rep_parse(&p, &r), 0);
    assert_int_equal(r.error, WDSMC_WIN32_ACCESS_DENIED);
    wdsmc_wdsc_pkt_fini(&p);
    free(h);
}

/* A v2 reply with the IL.* variables, hand built from index `first`. */
static size_t enum_v2(struct hb *h, uint32_t first, uint32_t dep_cnt, uint32_t dep_have)
{
    char name[64];
    static const uint8_t guid[16] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                     0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};

    hb_start(h, &ep_osd, 2, 0);
    hb_ulong(h, "VERSION", 1);
    hb_ulong(h, "SC", WDSMC_SERVER_CAP_SUPPORT_V2);
    for (uint32_t i = first; i < first + 2; i++) {
        snprintf(name, sizeof(name), "IL.Type[%u]", i);
        hb_ulong(h, name, i == first ? WDSMC_DEP_IMAGE_WIM : WDSMC_DEP_IMAGE_VHD);
        snprintf(name, sizeof(name), "IL.Xml[%u]", i);
        hb_wstr(h, name, i == first ? XML1 : XML2);
        snprintf(name, sizeof(name), "IL.Path[%u]", i);
        hb_wstr(h, name, i == first ? "\\Images\\G\\a.wim" : "\\Images\\G\\b.vhd");
        if (i == first) {
            snprintf(name, sizeof(name), "IL.ResPath[%u]", i);
            hb_wstr(h, name, "\\Images\\G\\res.rwm");
        }
        snprintf(name, sizeof(name), "IL.Group[%u]", i);
        hb_wstr(h, name, "G");
        snprintf(name, sizeof(name), "IL.Index[%u]", i);
        hb_ulong(h, name, i - first + 1);
        snprintf(name, sizeof(name), "IL.NS[%u]", i);
        hb_wstr(h, name, i == first ? "WDS:G/a.wim/1" : "");
        snprintf(name, sizeof(name), "IL.NSCS[%u]", i);
        hb_ulong64(h, name, i == first ? 123456789 : 0);
        snprintf(name, sizeof(name), "IL.ExFlags[%u]", i);
        hb_ulong(h, name, i == first ? WDSMC_EX_FLAG_SPARSE_FILE : 0);
        snprintf(name, sizeof(name), "IL.DepFiles[%u].Cnt", i);
        hb_ulong(h, name, i == first ? dep_cnt : 0);
        for (uint32_t k = 0; i == first && k < dep_have; k++) {
            char path[32];
            snprintf(name, sizeof(name), "IL.DepFiles[%u].VL[%u]", i, k);
            snprintf(path, sizeof(path), "\\Images\\G\\dep%u", k);
            hb_wstr(h, name, path);
        }
        if (i == first) {
            snprintf(name, sizeof(name), "IL.MdGuid[%u]", i);
            hb_blob(h, name, guid, 16);
        }
    }
    return hb_end(h, true);
}

static void assert_enum_v2(const struct wdsmc_wdsc_img_enum_rep *r, uint32_t dep_cnt)
{
    assert_true(r->has_sc);
    assert_int_equal(r->n_images, 2);
    const struct wdsmc_wdsc_image *a = &r->images[0], *b = &r->images[1];
    assert_int_equal(a->type, WDSMC_DEP_IMAGE_WIM);
    assert_string_equal(a->xml, XML1);
    assert_string_equal(a->path, "\\Images\\G\\a.wim");
    assert_string_equal(a->res_path, "\\Images\\G\\res.rwm");
    assert_string_equal(a->group, "G");
    assert_int_equal(a->index, 1);
    assert_string_equal(a->ns, "WDS:G/a.wim/1");
    assert_int_equal(a->ns_size, 123456789);
    assert_true(a->has_ex_flags);
    assert_int_equal(a->ex_flags, WDSMC_EX_FLAG_SPARSE_FILE);
    assert_int_equal(a->n_dep, dep_cnt);
    for (uint32_t k = 0; k < dep_cnt; k++) {
        char path[32];
        snprintf(path, sizeof(path), "\\Images\\G\\dep%u", k);
        assert_string_equal(a->dep[k], path);
    }
    assert_true(a->has_md_guid);
    assert_int_equal(a->md_guid.b[0], 0x10);
    assert_int_equal(b->type, WDSMC_DEP_IMAGE_VHD);
    assert_null(b->res_path);
    assert_string_equal(b->ns, "");
    assert_int_equal(b->n_dep, 0);
    assert_false(b->has_md_guid);
}

static void test_wdsc_img_enum_v2(void **state)
{
    struct hb *h = malloc(sizeof(*h));
    struct wdsmc_wdsc_pkt p, q;
    struct wdsmc_wdsc_img_enum_rep r, r2;
    uint8_t *pkt;
    size_t plen, len;

    (void)state;
    /* From index 1 (what we send) and from 0 (also accepted). */
    for (uint32_t first = 0; first < 2; first++) {
        len = enum_v2(h, first, 3, 3);
        assert_int_equal(wdsmc_wdsc_decode(h->buf, len, &p), 0);
        assert_int_equal(wdsmc_wdsc_img_enum_rep_parse(&p, &r), 0);
        assert_enum_v2(&r, 3);
        assert_int_equal(wdsmc_wdsc_img_enum_rep_build(&r, &pkt, &plen), 0);
        if (first == 1) {
            /* Our order is the hand builder's. */
            assert_int_equal(plen, len);
            assert_memory_equal(pkt, h->buf, len);
        }
        assert_int_equal(wdsmc_wdsc_decode(pkt, plen, &q), 0);
        assert_int_equal(wdsmc_wdsc_img_enum_rep_parse(&q, &r2), 0);
        assert_enum_v2(&r2, 3);
        wdsmc_wdsc_img_enum_rep_fini(&r2);
        wdsmc_wdsc_pkt_fini(&q);
        free(pkt);
        wdsmc_wdsc_img_enum_rep_fini(&r);
        wdsmc_wdsc_pkt_fini(&p);
    }
    /* A dependent file missing, and too many of them. */
    len = enum_v2(h, 1, 3, 2);
    assert_int_equal(wdsmc_wdsc_decode(h->buf, len, &p), 0);
    assert_int_equal(wdsmc_wdsc_img_enum_rep_parse(&p, &r), -WDSMC_EMISSING);
    wdsmc_wdsc_img_enum_rep_fini(&r);
    wdsmc_wdsc_pkt_fini(&p);
    len = enum_v2(h, 1, WDSMC_WDSC_MAX_DEP_FILES + 1, 0);
    assert_int_equal(wdsmc_wdsc_decode(h->buf, len, &p), 0);
    assert_int_equal(wdsmc_wdsc_img_enum_rep_parse(&p, &r), -WDSMC_ETOOMANY);
    wdsmc_wdsc_img_enum_rep_fini(&r);
    wdsmc_wdsc_pkt_fini(&p);
    /* SC claiming to be a ULONG64 of 4 bytes. */
    len = enum_v2(h, 1, 0, 0);
    put32(h->buf + 56 + 96 + 68, 0x0008);
    assert_true(wdsmc_wdsc_decode(h->buf, len, &p) < 0);
    free(h);
}

static void test_wdsc_img_enum_build_limits(void **state)
{
    struct wdsmc_wdsc_image im = {.xml = "x", .path = "p", .group = "g", .index = 1};
    struct wdsmc_wdsc_img_enum_rep rep = {.version = 1, .n_images = 1, .images = &im};
    uint8_t *pkt;
    size_t len;

    (void)state;
    assert_int_equal(wdsmc_wdsc_img_enum_rep_build(&rep, &pkt, &len), 0);
    free(pkt);
    im.group = NULL;
    assert_int_equal(wdsmc_wdsc_img_enum_rep_build(&rep, &pkt, &len), -EINVAL);
    im.group = "g";
    im.n_dep = WDSMC_WDSC_MAX_DEP_FILES + 1;
    assert_int_equal(wdsmc_wdsc_img_enum_rep_build(&rep, &pkt, &len), -EINVAL);
    im.n_dep = 0;
    rep.n_images = WDSMC_WDSC_MAX_IMAGES + 1;
    assert_int_equal(wdsmc_wdsc_img_enum_rep_build(&rep, &pkt, &len), -EINVAL);
    /* A path over the limit. */
    rep.n_images = 1;
    char *long_path = malloc(WDSMC_WDSC_MAX_PATH_UNITS + 2);
    memset(long_path, 'a', WDSMC_WDSC_MAX_PATH_UNITS + 1);
    long_path[WDSMC_WDSC_MAX_PATH_UNITS + 1] = '\0';
    im.path = long_path;
    assert_int_equal(wdsmc_wdsc_img_enum_rep_build(&rep, &pkt, &len), -EINVAL);
    free(long_path);
}

static void test_wdsc_img_enum_request(void **state)
{
    struct hb *h = malloc(sizeof(*h));
    struct wdsmc_wdsc_pkt p;
    struct wdsmc_wdsc_img_enum_req req = {.version = 1, .has_cc = true, .cc = 3}, back;
    uint8_t *pkt;
    size_t len;

    (void)state;
    assert_int_equal(wdsmc_wdsc_img_enum_req_build(&req, &pkt, &len), 0);
    assert_int_equal(wdsmc_wdsc_decode(pkt, len, &p), 0);
    assert_int_equal(wdsmc_wdsc_img_enum_req_parse(&p, &back), 0);
    assert_true(back.has_cc);
    assert_int_equal(back.cc, WDSMC_CLIENT_CAP_SUPPORT_V2 | WDSMC_CLIENT_CAP_SUPPORT_VHDX);
    wdsmc_wdsc_pkt_fini(&p);
    free(pkt);
    /* IMDC with its IMD[i], one missing, too many; VERSION 2. */
    for (int c = 0; c < 4; c++) {
        hb_start(h, &ep_osd, 1, 2);
        hb_ulong(h, "VERSION", c == 3 ? 2 : 1);
        hb_ulong(h, "IMDC", c == 2 ? WDSMC_WDSC_MAX_IMD + 1 : 2);
        hb_wstr(h, "IMD[0]", "meta0");
        if (c != 1)
            hb_wstr(h, "IMD[1]", "meta1");
        len = hb_end(h, true);
        assert_int_equal(wdsmc_wdsc_decode(h->buf, len, &p), 0);
        static const int want[] = {0, -WDSMC_EMISSING, -WDSMC_ETOOMANY, -WDSMC_EVALUE};
        assert_int_equal(wdsmc_wdsc_img_enum_req_parse(&p, &back), want[c]);
        if (c == 0)
            assert_int_equal(back.imdc, 2);
        wdsmc_wdsc_pkt_fini(&p);
    }
    free(h);
}

/* ======================================================================== */
/* Access rules and the WdsRpcMessage glue                                   */
/* ======================================================================== */

static void test_wdsc_access_rules(void **state)
{
    struct wdsmc_rpc_call_info anon = {.auth_level = WDSMC_RPC_LEVEL_NONE};
    struct wdsmc_rpc_call_info priv = {.authenticated = true,
                                       .auth_level = WDSMC_RPC_LEVEL_PKT_PRIVACY};
    struct wdsmc_rpc_call_info integ = {.authenticated = true,
                                        .auth_level = WDSMC_RPC_LEVEL_PKT_INTEGRITY};
    struct wdsmc_rpc_call_info null_session = priv;
    struct wdsmc_uuid other = ep_msi;

    (void)state;
    null_session.anonymous = true;
    other.b[0] ^= 1;
    assert_int_equal(wdsmc_wdsc_access(&ep_msi, WDSMC_OP_INITIATE, &anon), -EACCES);
    assert_int_equal(wdsmc_wdsc_access(&ep_msi, WDSMC_OP_INITIATE, &priv), 0);
    assert_int_equal(wdsmc_wdsc_access(&ep_msi, WDSMC_OP_INITIATE, &integ), -EACCES);
    assert_int_equal(wdsmc_wdsc_access(&ep_msi, WDSMC_OP_INITIATE, &null_session), -EACCES);
    assert_int_equal(wdsmc_wdsc_access(&ep_osd, WDS_OP_IMG_ENUMERATE, &anon), -EACCES);
    assert_int_equal(wdsmc_wdsc_access(&ep_osd, WDS_OP_IMG_ENUMERATE, &priv), 0);
    assert_int_equal(wdsmc_wdsc_access(&ep_osd, WDS_OP_LOG_INIT, &anon), 0);
    assert_int_equal(wdsmc_wdsc_access(&ep_osd, WDS_OP_GET_CLIENT_UNATTEND, &anon), 0);
    assert_int_equal(wdsmc_wdsc_access(&ep_osd, WDS_OP_GET_DOMAIN_JOIN_INFORMATION, &anon),
                     -EACCES);
    assert_int_equal(wdsmc_wdsc_access(&ep_msi, 1, &priv), -ENOENT);
    assert_int_equal(wdsmc_wdsc_access(&other, WDSMC_OP_INITIATE, &priv), -ENOENT);
    assert_int_equal(wdsmc_wdsc_status_to_errno(5), -EACCES);
    assert_int_equal(wdsmc_wdsc_status_to_errno(0), 0);
    assert_int_equal(wdsmc_wdsc_status_to_errno(1168), -ENOENT);
    assert_int_equal(wdsmc_wdsc_status_to_errno(0x1234), -WDSMC_ESERVER);
    assert_int_equal(wdsmc_wdsc_errno_to_status(-EACCES), 5);
    assert_int_equal(wdsmc_wdsc_errno_to_status(-WDSMC_ESTRING), 13);
}

static int enum_handler(void *user, const struct wdsmc_rpc_call_info *info,
                        const struct wdsmc_wdsc_pkt *req, uint8_t **ret_reply, size_t *ret_len)
{
    struct wdsmc_wdsc_img_enum_req r;
    int *calls = user;
    (void)info;
    (*calls)++;
    int rc = wdsmc_wdsc_img_enum_req_parse(req, &r);
    if (rc < 0)
        return rc;
    struct wdsmc_wdsc_image im = {
            .xml = "<IMAGE/>", .path = "p", .group = "g", .index = 1, .ns = "WDS:g/p/1"};
    struct wdsmc_wdsc_img_enum_rep rep = {.version = 1, .n_images = 1, .images = &im};
    if (r.has_cc && (r.cc & WDSMC_CLIENT_CAP_SUPPORT_V2)) {
        rep.has_sc = true;
        rep.sc = WDSMC_SERVER_CAP_SUPPORT_V2;
        im.type = WDSMC_DEP_IMAGE_WIM;
    }
    return wdsmc_wdsc_img_enum_rep_build(&rep, ret_reply, ret_len);
}

static int serve(struct wdsmc_wdsc_server *srv, const struct wdsmc_rpc_call_info *info,
                 const uint8_t *pkt, size_t len, const uint8_t **ret_pkt, size_t *ret_len,
                 uint8_t **keep)
{
    uint8_t *stub, *out;
    size_t stub_len, out_len;
    assert_int_equal(wdsmc_wdsc_rpc_request(pkt, len, &stub, &stub_len), 0);
    int rc = wdsmc_wdsc_rpc_dispatch(srv, info, stub, stub_len, &out, &out_len);
    free(stub);
    if (rc < 0)
        return rc;
    *keep = out;
    return wdsmc_wdsc_rpc_reply(out, out_len, ret_pkt, ret_len);
}

static void test_wdsc_rpc_dispatch(void **state)
{
    int calls = 0;
    struct wdsmc_wdsc_server srv = {.handler = enum_handler, .user = &calls};
    struct wdsmc_rpc_call_info priv = {.authenticated = true,
                                       .auth_level = WDSMC_RPC_LEVEL_PKT_PRIVACY};
    struct wdsmc_rpc_call_info anon = {.auth_level = WDSMC_RPC_LEVEL_NONE};
    struct wdsmc_wdsc_img_enum_req req = {.version = 1, .has_cc = true, .cc = 1};
    uint8_t *pkt, *keep = NULL;
    size_t len, rlen;
    const uint8_t *rep;
    struct wdsmc_wdsc_pkt p;
    struct wdsmc_wdsc_img_enum_rep r;

    (void)state;
    assert_int_equal(wdsmc_wdsc_img_enum_req_build(&req, &pkt, &len), 0);
    /* Authenticated: a v2 list of one image. */
    assert_int_equal(serve(&srv, &priv, pkt, len, &rep, &rlen, &keep), 0);
    assert_int_equal(wdsmc_wdsc_decode(rep, rlen, &p), 0);
    assert_int_equal(wdsmc_wdsc_img_enum_rep_parse(&p, &r), 0);
    assert_int_equal(r.n_images, 1);
    assert_string_equal(r.images[0].ns, "WDS:g/p/1");
    assert_true(r.has_sc);
    wdsmc_wdsc_img_enum_rep_fini(&r);
    wdsmc_wdsc_pkt_fini(&p);
    free(keep);
    /* Unauthenticated: WdsRpcMessage returns ERROR_ACCESS_DENIED. */
    assert_int_equal(serve(&srv, &anon, pkt, len, &rep, &rlen, &keep), -EACCES);
    free(keep);
    assert_int_equal(calls, 1);
    /* A packet that does not decode: ERROR_INVALID_DATA. */
    assert_int_equal(serve(&srv, &priv, pkt, len - 1, &rep, &rlen, &keep), -EBADMSG);
    free(keep);
    /* An opcode nobody serves: ERROR_NOT_SUPPORTED. */
    pkt[48] = 0x55;
    assert_int_equal(serve(&srv, &priv, pkt, len, &rep, &rlen, &keep), -EOPNOTSUPP);
    free(keep);
    assert_int_equal(calls, 1);
    /* A stub that is not the NDR of WdsRpcMessage: a fault. */
    uint8_t *out;
    size_t out_len;
    assert_int_equal(wdsmc_wdsc_rpc_dispatch(&srv, &priv, pkt, 3, &out, &out_len), -EBADMSG);
    free(pkt);
    /* A successful return without a packet is an error for the client. */
    uint8_t stub[12];
    assert_int_equal(wdsmc_ndr_wdsrpc_rep_encode(NULL, 0, 0, stub, sizeof(stub)), 12);
    assert_int_equal(wdsmc_wdsc_rpc_reply(stub, 12, &rep, &rlen), -WDSMC_EMISSING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_wdsc_builder_matches_golden),
            cmocka_unit_test(test_wdsc_decode_golden_and_accessors),
            cmocka_unit_test(test_wdsc_both_packet_size_conventions),
            cmocka_unit_test(test_wdsc_both_padding_conventions),
            cmocka_unit_test(test_wdsc_builder_pads_like_windows),
            cmocka_unit_test(test_wdsc_malformed_rejected),
            cmocka_unit_test(test_wdsc_strings_and_duplicates_rejected),
            cmocka_unit_test(test_wdsc_initiate_reply_golden),
            cmocka_unit_test(test_wdsc_initiate_reply_truncations_rejected),
            cmocka_unit_test(test_wdsc_initiate_reply_errors),
            cmocka_unit_test(test_wdsc_initiate_request_round_trip),
            cmocka_unit_test(test_wdsc_img_enum_v1_golden),
            cmocka_unit_test(test_wdsc_img_enum_v1_missing_and_stray),
            cmocka_unit_test(test_wdsc_img_enum_v2),
            cmocka_unit_test(test_wdsc_img_enum_build_limits),
            cmocka_unit_test(test_wdsc_img_enum_request),
            cmocka_unit_test(test_wdsc_access_rules),
            cmocka_unit_test(test_wdsc_rpc_dispatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
