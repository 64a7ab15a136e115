/* SPDX-License-Identifier: MIT */
/* Unit tests of the MS-WDSMSI (UDP) codec (transport/codec_msi.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "golden_ma_msi.h"
#include "wdsmc/codec.h"

/* ---- a small packet builder ---------------------------------------------- */

struct pb {
    uint8_t buf[4096];
    size_t len;
    uint16_t count;
};

static void pb_start(struct pb *b, uint8_t opcode)
{
    b->buf[0] = opcode;
    b->len = 3;
    b->count = 0;
}

/* Finish with the true option count; returns the length. */
static size_t pb_end(struct pb *b)
{
    b->buf[1] = (uint8_t)(b->count >> 8);
    b->buf[2] = (uint8_t)b->count;
    return b->len;
}

static void pb_opt(struct pb *b, uint16_t id, uint16_t len, const void *val)
{
    b->buf[b->len++] = (uint8_t)(id >> 8);
    b->buf[b->len++] = (uint8_t)id;
    b->buf[b->len++] = (uint8_t)(len >> 8);
    b->buf[b->len++] = (uint8_t)len;
    memcpy(b->buf + b->len, val, len);
    b->len += len;
    b->count++;
}

static void pb_uint(struct pb *b, uint16_t id, uint16_t width, uint64_t v)
{
    uint8_t be[8];
    for (int i = width - 1; i >= 0; i--, v >>= 8)
        be[i] = (uint8_t)v;
    pb_opt(b, id, width, be);
}

/* An ASCII string as UTF-16LE, `units` units long, NUL included if `nul`. */
static void pb_str_units(struct pb *b, uint16_t id, char fill, size_t units, bool nul)
{
    uint8_t v[1024];
    for (size_t i = 0; i < units; i++) {
        v[2 * i] = (uint8_t)fill;
        v[2 * i + 1] = 0;
    }
    if (nul && units) {
        v[2 * units - 2] = 0;
        v[2 * units - 1] = 0;
    }
    pb_opt(b, id, (uint16_t)(units * 2), v);
}

/* A NUL-terminated ASCII string as UTF-16LE. */
static void pb_str(struct pb *b, uint16_t id, const char *s)
{
    uint8_t v[1024];
    size_t n = strlen(s);
    for (size_t i = 0; i <= n; i++) {
        v[2 * i] = (uint8_t)s[i];
        v[2 * i + 1] = 0;
    }
    pb_opt(b, id, (uint16_t)((n + 1) * 2), v);
}

static const uint8_t test_mac[6] = {0x00, 0x15, 0x5d, 0x01, 0x02, 0x03};

/* Which request options to write. */
enum { R_NS = 1, R_CONTENT = 2, R_MAC = 4, R_IPV6 = 8, R_ALL = 15 };

static size_t build_request(struct pb *b, unsigned which)
{
    pb_start(b, WDSMC_MSI_REQUEST);
    if (which & R_NS)
        pb_str(b, WDSMC_MSI_OPT_NAMESPACE, "WDS:ns/1");
    if (which & R_CONTENT)
        pb_str(b, WDSMC_MSI_OPT_CONTENT, "c.wim");
    if (which & R_MAC)
        pb_opt(b, WDSMC_MSI_OPT_MAC_ADDRESS, 6, test_mac);
    if (which & R_IPV6)
        pb_uint(b, WDSMC_MSI_OPT_IPV6_CAPABLE, 1, 1);
    return pb_end(b);
}

/* The eight reply options, each of which can be left out (skip = its index). */
static size_t build_reply(struct pb *b, int skip)
{
    static const uint8_t maddr[4] = {239, 1, 2, 3}, saddr[4] = {10, 0, 0, 1};
    pb_start(b, WDSMC_MSI_REPLY);
    if (skip != 0)
        pb_opt(b, WDSMC_MSI_OPT_MULTICAST_ADDR, 4, maddr);
    if (skip != 1)
        pb_opt(b, WDSMC_MSI_OPT_SERVER_ADDR, 4, saddr);
    if (skip != 2)
        pb_uint(b, WDSMC_MSI_OPT_MULTICAST_PORT, 2, 5000);
    if (skip != 3)
        pb_uint(b, WDSMC_MSI_OPT_SERVER_PORT, 2, 5000);
    if (skip != 4)
        pb_uint(b, WDSMC_MSI_OPT_CONTENT_SIZE, 8, 10000);
    if (skip != 5)
        pb_uint(b, WDSMC_MSI_OPT_BLOCK_SIZE, 4, 1000);
    if (skip != 6)
        pb_uint(b, WDSMC_MSI_OPT_TOTAL_BLOCKS, 8, 10);
    if (skip != 7)
        pb_uint(b, WDSMC_MSI_OPT_SESSION_ID, 4, 1);
    return pb_end(b);
}

static void decode_ok(const uint8_t *buf, size_t len, struct wdsmc_msi_pkt *pkt)
{
    ssize_t rc = wdsmc_msi_decode(buf, len, pkt);
    if (rc != (ssize_t)len)
        fail_msg("decode: got %zd (%s), want %zu", rc, wdsmc_strerror((int)rc), len);
}

static void assert_decode_err(const uint8_t *buf, size_t len, int want)
{
    struct wdsmc_msi_pkt pkt;
    ssize_t rc = wdsmc_msi_decode(buf, len, &pkt);
    if (rc != want)
        fail_msg("decode: got %zd (%s), want %d (%s)", rc, wdsmc_strerror((int)rc), want,
                 wdsmc_strerror(want));
}

static void assert_encodes_to(const struct wdsmc_msi_pkt *pkt, const uint8_t *want, size_t len)
{
    uint8_t out[2048];
    assert_int_equal(wdsmc_msi_encode(pkt, out, sizeof(out)), (ssize_t)len);
    assert_memory_equal(out, want, len);
}

/* ---- golden vectors ------------------------------------------------------ */

static void test_msi_decode_request_golden_fields(void **state)
{
    (void)state;
    static const uint8_t mac[6] = {0x00, 0x15, 0x5d, 0x01, 0x02, 0x03};
    struct wdsmc_msi_pkt pkt;
    decode_ok(golden_msi_request, golden_msi_request_len, &pkt);
    assert_int_equal(pkt.opcode, WDSMC_MSI_REQUEST);
    assert_false(pkt.is_error);
    assert_string_equal(pkt.u.req.ns, "WDS:Default/install.wim/1");
    assert_string_equal(pkt.u.req.content, "install.wim");
    assert_memory_equal(pkt.u.req.mac, mac, 6);
    assert_true(pkt.u.req.has_ipv6_capable);
    assert_int_equal(pkt.u.req.ipv6_capable, 1);
    assert_int_equal(pkt.unknown_count, 0);
    assert_encodes_to(&pkt, golden_msi_request, golden_msi_request_len);
}

static void test_msi_decode_request_without_ipv6_golden_fields(void **state)
{
    (void)state;
    static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};
    struct wdsmc_msi_pkt pkt;
    decode_ok(golden_msi_request_noipv6, golden_msi_request_noipv6_len, &pkt);
    assert_int_equal(pkt.opcode, WDSMC_MSI_REQUEST);
    assert_false(pkt.is_error);
    assert_string_equal(pkt.u.req.ns, "WDS:Lab/1");
    assert_string_equal(pkt.u.req.content, "boot.wim");
    assert_memory_equal(pkt.u.req.mac, mac, 6);
    assert_false(pkt.u.req.has_ipv6_capable);
    assert_int_equal(pkt.unknown_count, 0);
    assert_encodes_to(&pkt, golden_msi_request_noipv6, golden_msi_request_noipv6_len);
}

static void test_msi_decode_request_unicode_golden_fields(void **state)
{
    (void)state;
    static const uint8_t mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
    struct wdsmc_msi_pkt pkt;
    decode_ok(golden_msi_request_unicode, golden_msi_request_unicode_len, &pkt);
    assert_int_equal(pkt.opcode, WDSMC_MSI_REQUEST);
    /* U+00E9 is C3 A9 in UTF-8; U+1F600 is F0 9F 98 80. */
    assert_string_equal(pkt.u.req.ns, "WDS:D\xc3\xa9ploiement/1");
    assert_string_equal(pkt.u.req.content, "\xf0\x9f\x98\x80.wim");
    assert_memory_equal(pkt.u.req.mac, mac, 6);
    assert_true(pkt.u.req.has_ipv6_capable);
    assert_int_equal(pkt.u.req.ipv6_capable, 0);
    assert_encodes_to(&pkt, golden_msi_request_unicode, golden_msi_request_unicode_len);
}

static void test_msi_decode_reply_golden_fields(void **state)
{
    (void)state;
    static const uint8_t maddr[4] = {239, 1, 2, 3}, saddr[4] = {192, 168, 1, 10};
    struct wdsmc_msi_pkt pkt;
    decode_ok(golden_msi_reply, golden_msi_reply_len, &pkt);
    assert_int_equal(pkt.opcode, WDSMC_MSI_REPLY);
    assert_false(pkt.is_error);
    assert_int_equal(pkt.u.reply.mcast_addr.len, 4);
    assert_memory_equal(pkt.u.reply.mcast_addr.bytes, maddr, 4);
    assert_int_equal(pkt.u.reply.server_addr.len, 4);
    assert_memory_equal(pkt.u.reply.server_addr.bytes, saddr, 4);
    assert_int_equal(pkt.u.reply.mcast_port, 64000);
    assert_int_equal(pkt.u.reply.server_port, 64000);
    assert_int_equal(pkt.u.reply.content_size, UINT64_C(4886718345));
    assert_int_equal(pkt.u.reply.block_size, 8192);
    assert_int_equal(pkt.u.reply.total_blocks, 596524);
    assert_int_equal(pkt.u.reply.session_id, 42);
    assert_int_equal(pkt.unknown_count, 0);
    assert_encodes_to(&pkt, golden_msi_reply, golden_msi_reply_len);
}

static void test_msi_decode_error_golden_fields(void **state)
{
    (void)state;
    struct wdsmc_msi_pkt pkt;
    decode_ok(golden_msi_error, golden_msi_error_len, &pkt);
    assert_int_equal(pkt.opcode, WDSMC_MSI_REPLY);
    assert_true(pkt.is_error);
    assert_int_equal(pkt.u.error, WDSMC_WIN32_NOT_FOUND);
    assert_int_equal(pkt.unknown_count, 0);
    assert_encodes_to(&pkt, golden_msi_error, golden_msi_error_len);
}

static void test_msi_encode_builds_golden_from_literal_structs(void **state)
{
    (void)state;
    struct wdsmc_msi_pkt pkt = {.opcode = WDSMC_MSI_REQUEST,
                                .u.req = {.ns = "WDS:Default/install.wim/1",
                                          .content = "install.wim",
                                          .mac = {0x00, 0x15, 0x5d, 0x01, 0x02, 0x03},
                                          .has_ipv6_capable = true,
                                          .ipv6_capable = 1}};
    assert_encodes_to(&pkt, golden_msi_request, golden_msi_request_len);

    pkt = (struct wdsmc_msi_pkt){.opcode = WDSMC_MSI_REPLY, .is_error = true, .u.error = 1168};
    assert_encodes_to(&pkt, golden_msi_error, golden_msi_error_len);

    pkt = (struct wdsmc_msi_pkt){.opcode = WDSMC_MSI_REPLY,
                                 .u.reply = {.mcast_addr = {.len = 4, .bytes = {239, 1, 2, 3}},
                                             .server_addr = {.len = 4, .bytes = {192, 168, 1, 10}},
                                             .mcast_port = 64000,
                                             .server_port = 64000,
                                             .content_size = UINT64_C(4886718345),
                                             .total_blocks = 596524,
                                             .block_size = 8192,
                                             .session_id = 42}};
    assert_encodes_to(&pkt, golden_msi_reply, golden_msi_reply_len);
}

static void test_msi_decode_rejects_every_truncation(void **state)
{
    (void)state;
    for (size_t g = 0; g < golden_msi_count; g++) {
        const struct golden *v = &golden_msi[g];
        for (size_t n = 0; n < v->len; n++) {
            struct wdsmc_msi_pkt pkt;
            /* Exactly n bytes on the heap: ASan catches a read past the cut. */
            uint8_t *cut = test_malloc(n ? n : 1);
            memcpy(cut, v->bytes, n);
            ssize_t rc = wdsmc_msi_decode(cut, n, &pkt);
            test_free(cut);
            /* The option count promises more options than a cut leaves. */
            if (rc != -WDSMC_ETRUNC)
                fail_msg("%s cut to %zu: got %zd, want -WDSMC_ETRUNC", v->name, n, rc);
        }
    }
}

static void test_msi_decode_rejects_trailing_byte(void **state)
{
    (void)state;
    for (size_t g = 0; g < golden_msi_count; g++) {
        const struct golden *v = &golden_msi[g];
        uint8_t buf[2048];
        memcpy(buf, v->bytes, v->len);
        buf[v->len] = 0;
        assert_decode_err(buf, v->len + 1, -WDSMC_ETRAILING);
    }
}

/* ---- header and option walk ---------------------------------------------- */

static void test_msi_decode_unknown_opcode_is_eopcode(void **state)
{
    (void)state;
    static const uint8_t ops[] = {0x00, 0x03, 0xff};
    for (size_t i = 0; i < sizeof(ops); i++) {
        uint8_t buf[2048];
        memcpy(buf, golden_msi_error, golden_msi_error_len);
        buf[0] = ops[i];
        assert_decode_err(buf, golden_msi_error_len, -WDSMC_EOPCODE);
    }
}

static void test_msi_decode_options_count_too_large_is_etrunc(void **state)
{
    (void)state;
    struct pb b;
    size_t len = build_request(&b, R_ALL);
    b.buf[2] = 5; /* four options present */
    assert_decode_err(b.buf, len, -WDSMC_ETRUNC);
}

static void test_msi_decode_options_count_too_small_is_etrailing(void **state)
{
    (void)state;
    struct pb b;
    size_t len = build_request(&b, R_ALL);
    b.buf[2] = 3;
    assert_decode_err(b.buf, len, -WDSMC_ETRAILING);
}

static void test_msi_decode_option_value_past_end_is_etrunc(void **state)
{
    (void)state;
    struct pb b;
    size_t len = build_request(&b, R_ALL);
    /* IPV6_CAPABLE is last: claim 2 bytes of value where 1 is left. */
    b.buf[len - 2] = 2;
    assert_decode_err(b.buf, len, -WDSMC_ETRUNC);
}

static void test_msi_decode_unknown_options_skipped_and_counted(void **state)
{
    (void)state;
    static const uint8_t junk[3] = {1, 2, 3};
    struct pb b;
    struct wdsmc_msi_pkt pkt;
    pb_start(&b, WDSMC_MSI_REQUEST);
    pb_opt(&b, 0x0777, 3, junk); /* unknown id of an unknown type */
    pb_str(&b, WDSMC_MSI_OPT_NAMESPACE, "WDS:ns/1");
    /* Unknown ids are not type-checked: a u32-typed id with 3 bytes passes. */
    pb_opt(&b, 0x03ff, 3, junk);
    pb_str(&b, WDSMC_MSI_OPT_CONTENT, "c.wim");
    pb_opt(&b, 0x1234, 0, junk); /* empty value */
    pb_opt(&b, WDSMC_MSI_OPT_MAC_ADDRESS, 6, test_mac);
    /* A reply option in a request is not known there: skipped too. */
    pb_uint(&b, WDSMC_MSI_OPT_SESSION_ID, 4, 9);
    size_t len = pb_end(&b);
    decode_ok(b.buf, len, &pkt);
    assert_int_equal(pkt.unknown_count, 4);
    assert_string_equal(pkt.u.req.ns, "WDS:ns/1");
    assert_string_equal(pkt.u.req.content, "c.wim");
    assert_memory_equal(pkt.u.req.mac, test_mac, 6);
    assert_false(pkt.u.req.has_ipv6_capable);
}

static void test_msi_decode_request_option_in_reply_is_unknown(void **state)
{
    (void)state;
    struct pb b;
    struct wdsmc_msi_pkt pkt;
    size_t len = build_reply(&b, -1);
    pb_opt(&b, WDSMC_MSI_OPT_MAC_ADDRESS, 6, test_mac);
    len = pb_end(&b);
    decode_ok(b.buf, len, &pkt);
    assert_int_equal(pkt.unknown_count, 1);
    assert_false(pkt.is_error);
}

static void test_msi_decode_duplicate_known_option_is_eoption(void **state)
{
    (void)state;
    struct pb b;
    build_request(&b, R_ALL);
    pb_str(&b, WDSMC_MSI_OPT_NAMESPACE, "WDS:other/1");
    assert_decode_err(b.buf, pb_end(&b), -WDSMC_EOPTION);

    build_request(&b, R_ALL);
    pb_uint(&b, WDSMC_MSI_OPT_IPV6_CAPABLE, 1, 1);
    assert_decode_err(b.buf, pb_end(&b), -WDSMC_EOPTION);

    build_reply(&b, -1);
    pb_uint(&b, WDSMC_MSI_OPT_BLOCK_SIZE, 4, 1000);
    assert_decode_err(b.buf, pb_end(&b), -WDSMC_EOPTION);
}

static void test_msi_decode_unknown_option_given_twice_is_fine(void **state)
{
    (void)state;
    struct pb b;
    struct wdsmc_msi_pkt pkt;
    build_request(&b, R_ALL);
    pb_uint(&b, 0x0199, 1, 0);
    pb_uint(&b, 0x0199, 1, 0);
    size_t len = pb_end(&b);
    decode_ok(b.buf, len, &pkt);
    assert_int_equal(pkt.unknown_count, 2);
}

/* ---- REQUEST ------------------------------------------------------------- */

static void test_msi_decode_request_missing_namespace_is_emissing(void **state)
{
    (void)state;
    struct pb b;
    size_t len = build_request(&b, R_ALL & ~R_NS);
    assert_decode_err(b.buf, len, -WDSMC_EMISSING);
}

static void test_msi_decode_request_missing_content_is_emissing(void **state)
{
    (void)state;
    struct pb b;
    size_t len = build_request(&b, R_ALL & ~R_CONTENT);
    assert_decode_err(b.buf, len, -WDSMC_EMISSING);
}

static void test_msi_decode_request_missing_mac_is_emissing(void **state)
{
    (void)state;
    struct pb b;
    size_t len = build_request(&b, R_ALL & ~R_MAC);
    assert_decode_err(b.buf, len, -WDSMC_EMISSING);
}

static void test_msi_decode_request_empty_is_emissing(void **state)
{
    (void)state;
    static const uint8_t bytes[] = {0x01, 0x00, 0x00};
    assert_decode_err(bytes, sizeof(bytes), -WDSMC_EMISSING);
}

static void test_msi_decode_mac_length_5_is_eaddrlen(void **state)
{
    (void)state;
    struct pb b;
    build_request(&b, R_NS | R_CONTENT);
    pb_opt(&b, WDSMC_MSI_OPT_MAC_ADDRESS, 5, test_mac);
    assert_decode_err(b.buf, pb_end(&b), -WDSMC_EADDRLEN);
    build_request(&b, R_NS | R_CONTENT);
    pb_opt(&b, WDSMC_MSI_OPT_MAC_ADDRESS, 0, test_mac);
    assert_decode_err(b.buf, pb_end(&b), -WDSMC_EADDRLEN);
}

static void test_msi_decode_ipv6_capable_wrong_length_is_eoption(void **state)
{
    (void)state;
    struct pb b;
    build_request(&b, R_NS | R_CONTENT | R_MAC);
    pb_uint(&b, WDSMC_MSI_OPT_IPV6_CAPABLE, 2, 1);
    assert_decode_err(b.buf, pb_end(&b), -WDSMC_EOPTION);
}

static void test_msi_decode_ipv6_capable_other_value_kept(void **state)
{
    (void)state;
    struct pb b;
    struct wdsmc_msi_pkt pkt;
    build_request(&b, R_NS | R_CONTENT | R_MAC);
    pb_uint(&b, WDSMC_MSI_OPT_IPV6_CAPABLE, 1, 7);
    size_t len = pb_end(&b);
    decode_ok(b.buf, len, &pkt);
    assert_true(pkt.u.req.has_ipv6_capable);
    assert_int_equal(pkt.u.req.ipv6_capable, 7);
}

static void test_msi_decode_string_not_nul_terminated_is_estring(void **state)
{
    (void)state;
    struct pb b;
    pb_start(&b, WDSMC_MSI_REQUEST);
    pb_str_units(&b, WDSMC_MSI_OPT_NAMESPACE, 'n', 5, false);
    pb_str(&b, WDSMC_MSI_OPT_CONTENT, "c.wim");
    pb_opt(&b, WDSMC_MSI_OPT_MAC_ADDRESS, 6, test_mac);
    assert_decode_err(b.buf, pb_end(&b), -WDSMC_ESTRING);
}

static void test_msi_decode_string_odd_length_is_estring(void **state)
{
    (void)state;
    static const uint8_t odd[5] = {'a', 0, 'b', 0, 0};
    struct pb b;
    pb_start(&b, WDSMC_MSI_REQUEST);
    pb_str(&b, WDSMC_MSI_OPT_NAMESPACE, "WDS:ns/1");
    pb_opt(&b, WDSMC_MSI_OPT_CONTENT, sizeof(odd), odd);
    pb_opt(&b, WDSMC_MSI_OPT_MAC_ADDRESS, 6, test_mac);
    assert_decode_err(b.buf, pb_end(&b), -WDSMC_ESTRING);
}

static void test_msi_decode_string_zero_length_is_estring(void **state)
{
    (void)state;
    struct pb b;
    pb_start(&b, WDSMC_MSI_REQUEST);
    pb_opt(&b, WDSMC_MSI_OPT_NAMESPACE, 0, "");
    pb_str(&b, WDSMC_MSI_OPT_CONTENT, "c.wim");
    pb_opt(&b, WDSMC_MSI_OPT_MAC_ADDRESS, 6, test_mac);
    assert_decode_err(b.buf, pb_end(&b), -WDSMC_ESTRING);
}

static void test_msi_decode_string_empty_is_evalue(void **state)
{
    (void)state;
    struct pb b;
    pb_start(&b, WDSMC_MSI_REQUEST);
    pb_str(&b, WDSMC_MSI_OPT_NAMESPACE, "WDS:ns/1");
    pb_str(&b, WDSMC_MSI_OPT_CONTENT, "");
    pb_opt(&b, WDSMC_MSI_OPT_MAC_ADDRESS, 6, test_mac);
    assert_decode_err(b.buf, pb_end(&b), -WDSMC_EVALUE);
}

static void test_msi_decode_string_nul_inside_is_estring(void **state)
{
    (void)state;
    static const uint8_t s[] = {'a', 0, 0, 0, 'b', 0, 0, 0};
    struct pb b;
    pb_start(&b, WDSMC_MSI_REQUEST);
    pb_opt(&b, WDSMC_MSI_OPT_NAMESPACE, sizeof(s), s);
    pb_str(&b, WDSMC_MSI_OPT_CONTENT, "c.wim");
    pb_opt(&b, WDSMC_MSI_OPT_MAC_ADDRESS, 6, test_mac);
    assert_decode_err(b.buf, pb_end(&b), -WDSMC_ESTRING);
}

static void test_msi_decode_string_lone_surrogate_is_estring(void **state)
{
    (void)state;
    static const uint8_t s[] = {'a', 0, 0x3d, 0xd8, 0, 0};
    struct pb b;
    pb_start(&b, WDSMC_MSI_REQUEST);
    pb_str(&b, WDSMC_MSI_OPT_NAMESPACE, "WDS:ns/1");
    pb_opt(&b, WDSMC_MSI_OPT_CONTENT, sizeof(s), s);
    pb_opt(&b, WDSMC_MSI_OPT_MAC_ADDRESS, 6, test_mac);
    assert_decode_err(b.buf, pb_end(&b), -WDSMC_ESTRING);
}

static void test_msi_decode_string_255_units_accepted_256_is_estrlen(void **state)
{
    (void)state;
    struct pb b;
    struct wdsmc_msi_pkt pkt;
    char want[WDSMC_MSI_NAME_MAX_UNITS + 1];
    memset(want, 'n', WDSMC_MSI_NAME_MAX_UNITS);
    want[WDSMC_MSI_NAME_MAX_UNITS] = '\0';

    /* 255 characters and the NUL: the longest name. */
    pb_start(&b, WDSMC_MSI_REQUEST);
    pb_str_units(&b, WDSMC_MSI_OPT_NAMESPACE, 'n', WDSMC_MSI_NAME_MAX_UNITS + 1, true);
    pb_str(&b, WDSMC_MSI_OPT_CONTENT, "c.wim");
    pb_opt(&b, WDSMC_MSI_OPT_MAC_ADDRESS, 6, test_mac);
    size_t len = pb_end(&b);
    decode_ok(b.buf, len, &pkt);
    assert_string_equal(pkt.u.req.ns, want);
    /* ... and it encodes back to the same bytes. */
    assert_encodes_to(&pkt, b.buf, len);

    /* 256 characters and the NUL. */
    pb_start(&b, WDSMC_MSI_REQUEST);
    pb_str(&b, WDSMC_MSI_OPT_NAMESPACE, "WDS:ns/1");
    pb_str_units(&b, WDSMC_MSI_OPT_CONTENT, 'c', WDSMC_MSI_NAME_MAX_UNITS + 2, true);
    pb_opt(&b, WDSMC_MSI_OPT_MAC_ADDRESS, 6, test_mac);
    assert_decode_err(b.buf, pb_end(&b), -WDSMC_ESTRLEN);
}

/* ---- REPLY --------------------------------------------------------------- */

static void test_msi_decode_reply_missing_any_option_is_emissing(void **state)
{
    (void)state;
    for (int skip = 0; skip < 8; skip++) {
        struct pb b;
        size_t len = build_reply(&b, skip);
        assert_decode_err(b.buf, len, -WDSMC_EMISSING);
    }
    struct pb b;
    struct wdsmc_msi_pkt pkt;
    size_t len = build_reply(&b, -1);
    decode_ok(b.buf, len, &pkt);
}

static void test_msi_decode_reply_u32_length_3_is_eoption(void **state)
{
    (void)state;
    static const uint8_t three[3] = {0, 0x10, 0};
    struct pb b;
    build_reply(&b, 5); /* without BLOCK_SIZE */
    pb_opt(&b, WDSMC_MSI_OPT_BLOCK_SIZE, 3, three);
    assert_decode_err(b.buf, pb_end(&b), -WDSMC_EOPTION);
}

static void test_msi_decode_reply_fixed_width_lengths_enforced(void **state)
{
    (void)state;
    static const uint8_t zeros[16] = {0};
    /* (option index skipped, id, a wrong length) for u16, u64 and u32. */
    static const struct {
        int skip;
        uint16_t id;
        uint16_t len;
    } cases[] = {
            {2, WDSMC_MSI_OPT_MULTICAST_PORT, 4}, {3, WDSMC_MSI_OPT_SERVER_PORT, 1},
            {4, WDSMC_MSI_OPT_CONTENT_SIZE, 4},   {6, WDSMC_MSI_OPT_TOTAL_BLOCKS, 16},
            {7, WDSMC_MSI_OPT_SESSION_ID, 8},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pb b;
        build_reply(&b, cases[i].skip);
        pb_opt(&b, cases[i].id, cases[i].len, zeros);
        assert_decode_err(b.buf, pb_end(&b), -WDSMC_EOPTION);
    }
}

static void test_msi_decode_reply_address_length_5_is_eaddrlen(void **state)
{
    (void)state;
    static const uint8_t five[5] = {239, 1, 2, 3, 4};
    struct pb b;
    build_reply(&b, 0);
    pb_opt(&b, WDSMC_MSI_OPT_MULTICAST_ADDR, 5, five);
    assert_decode_err(b.buf, pb_end(&b), -WDSMC_EADDRLEN);
    build_reply(&b, 1);
    pb_opt(&b, WDSMC_MSI_OPT_SERVER_ADDR, 5, five);
    assert_decode_err(b.buf, pb_end(&b), -WDSMC_EADDRLEN);
}

static void test_msi_decode_reply_ipv6_addresses_roundtrip(void **state)
{
    (void)state;
    static const uint8_t m6[16] = {0xff, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const uint8_t s6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    struct pb b;
    struct wdsmc_msi_pkt pkt;
    pb_start(&b, WDSMC_MSI_REPLY);
    pb_opt(&b, WDSMC_MSI_OPT_MULTICAST_ADDR, 16, m6);
    pb_opt(&b, WDSMC_MSI_OPT_SERVER_ADDR, 16, s6);
    pb_uint(&b, WDSMC_MSI_OPT_MULTICAST_PORT, 2, 5000);
    pb_uint(&b, WDSMC_MSI_OPT_SERVER_PORT, 2, 5000);
    pb_uint(&b, WDSMC_MSI_OPT_CONTENT_SIZE, 8, 0);
    pb_uint(&b, WDSMC_MSI_OPT_BLOCK_SIZE, 4, 8192);
    pb_uint(&b, WDSMC_MSI_OPT_TOTAL_BLOCKS, 8, 0);
    pb_uint(&b, WDSMC_MSI_OPT_SESSION_ID, 4, 3);
    size_t len = pb_end(&b);
    decode_ok(b.buf, len, &pkt);
    assert_int_equal(pkt.u.reply.mcast_addr.len, 16);
    assert_memory_equal(pkt.u.reply.mcast_addr.bytes, m6, 16);
    assert_int_equal(pkt.u.reply.server_addr.len, 16);
    assert_memory_equal(pkt.u.reply.server_addr.bytes, s6, 16);
    assert_int_equal(wdsmc_msi_reply_check(&pkt.u.reply), 0);
    assert_encodes_to(&pkt, b.buf, len);
}

static void test_msi_decode_reply_options_in_any_order(void **state)
{
    (void)state;
    struct pb b;
    struct wdsmc_msi_pkt pkt;
    static const uint8_t maddr[4] = {239, 9, 9, 9}, saddr[4] = {10, 0, 0, 1};
    pb_start(&b, WDSMC_MSI_REPLY);
    pb_uint(&b, WDSMC_MSI_OPT_SESSION_ID, 4, 77);
    pb_uint(&b, WDSMC_MSI_OPT_TOTAL_BLOCKS, 8, 3);
    pb_uint(&b, WDSMC_MSI_OPT_BLOCK_SIZE, 4, 100);
    pb_uint(&b, WDSMC_MSI_OPT_CONTENT_SIZE, 8, 201);
    pb_uint(&b, WDSMC_MSI_OPT_SERVER_PORT, 2, 6000);
    pb_uint(&b, WDSMC_MSI_OPT_MULTICAST_PORT, 2, 6000);
    pb_opt(&b, WDSMC_MSI_OPT_SERVER_ADDR, 4, saddr);
    pb_opt(&b, WDSMC_MSI_OPT_MULTICAST_ADDR, 4, maddr);
    size_t len = pb_end(&b);
    decode_ok(b.buf, len, &pkt);
    assert_int_equal(pkt.u.reply.session_id, 77);
    assert_int_equal(pkt.u.reply.total_blocks, 3);
    assert_int_equal(pkt.u.reply.block_size, 100);
    assert_int_equal(pkt.u.reply.content_size, 201);
    assert_int_equal(pkt.u.reply.mcast_addr.bytes[1], 9);
    assert_int_equal(wdsmc_msi_reply_check(&pkt.u.reply), 0);
}

static void test_msi_decode_error_with_reply_options_is_error(void **state)
{
    (void)state;
    struct pb b;
    struct wdsmc_msi_pkt pkt;
    build_reply(&b, 3);
    pb_uint(&b, WDSMC_MSI_OPT_ERROR, 4, WDSMC_WIN32_INVALID_PARAMETER);
    size_t len = pb_end(&b);
    decode_ok(b.buf, len, &pkt);
    assert_true(pkt.is_error);
    assert_int_equal(pkt.u.error, WDSMC_WIN32_INVALID_PARAMETER);
}

static void test_msi_decode_error_length_3_is_eoption(void **state)
{
    (void)state;
    static const uint8_t three[3] = {0, 0, 2};
    struct pb b;
    pb_start(&b, WDSMC_MSI_REPLY);
    pb_opt(&b, WDSMC_MSI_OPT_ERROR, 3, three);
    assert_decode_err(b.buf, pb_end(&b), -WDSMC_EOPTION);
}

static void test_msi_decode_error_option_in_request_is_unknown(void **state)
{
    (void)state;
    struct pb b;
    struct wdsmc_msi_pkt pkt;
    build_request(&b, R_ALL);
    pb_uint(&b, WDSMC_MSI_OPT_ERROR, 4, 2);
    size_t len = pb_end(&b);
    decode_ok(b.buf, len, &pkt);
    assert_false(pkt.is_error);
    assert_int_equal(pkt.unknown_count, 1);
}

/* ---- encoder ------------------------------------------------------------- */

static void test_msi_encode_enobufs_for_every_short_cap(void **state)
{
    (void)state;
    for (size_t g = 0; g < golden_msi_count; g++) {
        const struct golden *v = &golden_msi[g];
        struct wdsmc_msi_pkt pkt;
        decode_ok(v->bytes, v->len, &pkt);
        for (size_t cap = 0; cap < v->len; cap++) {
            uint8_t *out = test_malloc(cap ? cap : 1);
            ssize_t rc = wdsmc_msi_encode(&pkt, out, cap);
            test_free(out);
            if (rc != -ENOBUFS)
                fail_msg("%s into %zu bytes: got %zd, want -ENOBUFS", v->name, cap, rc);
        }
        uint8_t *out = test_malloc(v->len);
        assert_int_equal(wdsmc_msi_encode(&pkt, out, v->len), (ssize_t)v->len);
        assert_memory_equal(out, v->bytes, v->len);
        test_free(out);
    }
}

static struct wdsmc_msi_pkt valid_request(void)
{
    struct wdsmc_msi_pkt pkt = {.opcode = WDSMC_MSI_REQUEST,
                                .u.req = {.ns = "WDS:ns/1", .content = "c.wim"}};
    return pkt;
}

static void test_msi_encode_rejects_empty_names(void **state)
{
    (void)state;
    uint8_t out[2048];
    struct wdsmc_msi_pkt pkt = valid_request();
    assert_true(wdsmc_msi_encode(&pkt, out, sizeof(out)) > 0);
    pkt.u.req.ns[0] = '\0';
    assert_int_equal(wdsmc_msi_encode(&pkt, out, sizeof(out)), -EINVAL);
    pkt = valid_request();
    pkt.u.req.content[0] = '\0';
    assert_int_equal(wdsmc_msi_encode(&pkt, out, sizeof(out)), -EINVAL);
}

static void test_msi_encode_rejects_name_over_255_units(void **state)
{
    (void)state;
    uint8_t out[2048];
    struct wdsmc_msi_pkt pkt = valid_request();
    memset(pkt.u.req.ns, 'x', 255);
    pkt.u.req.ns[255] = '\0';
    assert_int_equal(wdsmc_msi_encode(&pkt, out, sizeof(out)), 3 + 4 + 512 + 4 + 12 + 4 + 6);
    pkt.u.req.ns[255] = 'x';
    pkt.u.req.ns[256] = '\0';
    assert_int_equal(wdsmc_msi_encode(&pkt, out, sizeof(out)), -EINVAL);
    /* 128 surrogate pairs are 256 units, one over the limit. */
    pkt = valid_request();
    for (int i = 0; i < 128; i++)
        memcpy(pkt.u.req.content + 4 * i, "\xf0\x9f\x98\x80", 4);
    pkt.u.req.content[4 * 128] = '\0';
    assert_int_equal(wdsmc_msi_encode(&pkt, out, sizeof(out)), -EINVAL);
}

static void test_msi_encode_rejects_invalid_utf8(void **state)
{
    (void)state;
    uint8_t out[2048];
    struct wdsmc_msi_pkt pkt = valid_request();
    strcpy(pkt.u.req.ns, "bad\xc0\xafname"); /* overlong '/' */
    assert_int_equal(wdsmc_msi_encode(&pkt, out, sizeof(out)), -EINVAL);
    pkt = valid_request();
    strcpy(pkt.u.req.content, "\xed\xa0\x80"); /* a UTF-8 encoded surrogate */
    assert_int_equal(wdsmc_msi_encode(&pkt, out, sizeof(out)), -EINVAL);
}

static void test_msi_encode_rejects_unterminated_name_array(void **state)
{
    (void)state;
    uint8_t out[4096];
    struct wdsmc_msi_pkt pkt = valid_request();
    memset(pkt.u.req.ns, 'x', sizeof(pkt.u.req.ns));
    assert_int_equal(wdsmc_msi_encode(&pkt, out, sizeof(out)), -EINVAL);
}

static void test_msi_encode_rejects_bad_address_length(void **state)
{
    (void)state;
    uint8_t out[2048];
    struct wdsmc_msi_pkt pkt;
    decode_ok(golden_msi_reply, golden_msi_reply_len, &pkt);
    pkt.u.reply.mcast_addr.len = 5;
    assert_int_equal(wdsmc_msi_encode(&pkt, out, sizeof(out)), -EINVAL);
    decode_ok(golden_msi_reply, golden_msi_reply_len, &pkt);
    pkt.u.reply.server_addr.len = 0;
    assert_int_equal(wdsmc_msi_encode(&pkt, out, sizeof(out)), -EINVAL);
}

static void test_msi_encode_rejects_unknown_opcode_and_error_request(void **state)
{
    (void)state;
    uint8_t out[2048];
    struct wdsmc_msi_pkt pkt = {.opcode = 0x03};
    assert_int_equal(wdsmc_msi_encode(&pkt, out, sizeof(out)), -EINVAL);
    pkt = valid_request();
    pkt.is_error = true;
    assert_int_equal(wdsmc_msi_encode(&pkt, out, sizeof(out)), -EINVAL);
}

/* ---- wdsmc_msi_reply_check ----------------------------------------------- */

static struct wdsmc_msi_reply golden_reply(void)
{
    struct wdsmc_msi_pkt pkt;
    decode_ok(golden_msi_reply, golden_msi_reply_len, &pkt);
    return pkt.u.reply;
}

static void test_msi_reply_check_accepts_golden_reply(void **state)
{
    (void)state;
    struct wdsmc_msi_reply r = golden_reply();
    assert_int_equal(wdsmc_msi_reply_check(&r), 0);
}

static void test_msi_reply_check_rejects_block_size_0_and_65449(void **state)
{
    (void)state;
    struct wdsmc_msi_reply r = golden_reply();
    r.block_size = 0;
    assert_int_equal(wdsmc_msi_reply_check(&r), -WDSMC_EVALUE);
    r.block_size = WDSMC_MA_MAX_BLOCK_SIZE + 1;
    r.content_size = r.block_size;
    r.total_blocks = 1;
    assert_int_equal(wdsmc_msi_reply_check(&r), -WDSMC_EVALUE);
    r.block_size = WDSMC_MA_MAX_BLOCK_SIZE;
    r.content_size = r.block_size;
    assert_int_equal(wdsmc_msi_reply_check(&r), 0);
}

static void test_msi_reply_check_rejects_total_blocks_off_by_one(void **state)
{
    (void)state;
    struct wdsmc_msi_reply r = golden_reply();
    r.total_blocks++;
    assert_int_equal(wdsmc_msi_reply_check(&r), -WDSMC_EVALUE);
    r.total_blocks -= 2;
    assert_int_equal(wdsmc_msi_reply_check(&r), -WDSMC_EVALUE);
    /* An exact multiple has no short last block. */
    r.content_size = 8192 * 3;
    r.total_blocks = 3;
    assert_int_equal(wdsmc_msi_reply_check(&r), 0);
    /* Empty content has no blocks. */
    r.content_size = 0;
    r.total_blocks = 0;
    assert_int_equal(wdsmc_msi_reply_check(&r), 0);
    /* The largest content size must not overflow the computation. */
    r.content_size = UINT64_MAX;
    r.block_size = 1;
    r.total_blocks = UINT64_MAX;
    assert_int_equal(wdsmc_msi_reply_check(&r), 0);
}

static void test_msi_reply_check_rejects_unicast_multicast_address(void **state)
{
    (void)state;
    struct wdsmc_msi_reply r = golden_reply();
    r.mcast_addr = r.server_addr; /* 192.168.1.10 */
    assert_int_equal(wdsmc_msi_reply_check(&r), -WDSMC_EVALUE);
    r.mcast_addr = (struct wdsmc_addr){.len = 4, .bytes = {240, 0, 0, 1}};
    assert_int_equal(wdsmc_msi_reply_check(&r), -WDSMC_EVALUE);
    r.mcast_addr = (struct wdsmc_addr){.len = 4, .bytes = {224, 0, 0, 1}};
    assert_int_equal(wdsmc_msi_reply_check(&r), 0);
    r.mcast_addr = (struct wdsmc_addr){.len = 16, .bytes = {0xfe, 0x80}};
    assert_int_equal(wdsmc_msi_reply_check(&r), -WDSMC_EVALUE);
    r.mcast_addr = (struct wdsmc_addr){.len = 16, .bytes = {0xff, 0x02}};
    assert_int_equal(wdsmc_msi_reply_check(&r), 0);
}

static void test_msi_reply_check_rejects_server_port_not_mcast_port(void **state)
{
    (void)state;
    struct wdsmc_msi_reply r = golden_reply();
    r.server_port = (uint16_t)(r.mcast_port + 1);
    assert_int_equal(wdsmc_msi_reply_check(&r), -WDSMC_EVALUE);
    r.server_port = 0;
    r.mcast_port = 0;
    assert_int_equal(wdsmc_msi_reply_check(&r), -WDSMC_EVALUE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_msi_decode_request_golden_fields),
            cmocka_unit_test(test_msi_decode_request_without_ipv6_golden_fields),
            cmocka_unit_test(test_msi_decode_request_unicode_golden_fields),
            cmocka_unit_test(test_msi_decode_reply_golden_fields),
            cmocka_unit_test(test_msi_decode_error_golden_fields),
            cmocka_unit_test(test_msi_encode_builds_golden_from_literal_structs),
            cmocka_unit_test(test_msi_decode_rejects_every_truncation),
            cmocka_unit_test(test_msi_decode_rejects_trailing_byte),
            cmocka_unit_test(test_msi_decode_unknown_opcode_is_eopcode),
            cmocka_unit_test(test_msi_decode_options_count_too_large_is_etrunc),
            cmocka_unit_test(test_msi_decode_options_count_too_small_is_etrailing),
            cmocka_unit_test(test_msi_decode_option_value_past_end_is_etrunc),
            cmocka_unit_test(test_msi_decode_unknown_options_skipped_and_counted),
            cmocka_unit_test(test_msi_decode_request_option_in_reply_is_unknown),
            cmocka_unit_test(test_msi_decode_duplicate_known_option_is_eoption),
            cmocka_unit_test(test_msi_decode_unknown_option_given_twice_is_fine),
            cmocka_unit_test(test_msi_decode_request_missing_namespace_is_emissing),
            cmocka_unit_test(test_msi_decode_request_missing_content_is_emissing),
            cmocka_unit_test(test_msi_decode_request_missing_mac_is_emissing),
            cmocka_unit_test(test_msi_decode_request_empty_is_emissing),
            cmocka_unit_test(test_msi_decode_mac_length_5_is_eaddrlen),
            cmocka_unit_test(test_msi_decode_ipv6_capable_wrong_length_is_eoption),
            cmocka_unit_test(test_msi_decode_ipv6_capable_other_value_kept),
            cmocka_unit_test(test_msi_decode_string_not_nul_terminated_is_estring),
            cmocka_unit_test(test_msi_decode_string_odd_length_is_estring),
            cmocka_unit_test(test_msi_decode_string_zero_length_is_estring),
            cmocka_unit_test(test_msi_decode_string_empty_is_evalue),
            cmocka_unit_test(test_msi_decode_string_nul_inside_is_estring),
            cmocka_unit_test(test_msi_decode_string_lone_surrogate_is_estring),
            cmocka_unit_test(test_msi_decode_string_255_units_accepted_256_is_estrlen),
            cmocka_unit_test(test_msi_decode_reply_missing_any_option_is_emissing),
            cmocka_unit_test(test_msi_decode_reply_u32_length_3_is_eoption),
            cmocka_unit_test(test_msi_decode_reply_fixed_width_lengths_enforced),
            cmocka_unit_test(test_msi_decode_reply_address_length_5_is_eaddrlen),
            cmocka_unit_test(test_msi_decode_reply_ipv6_addresses_roundtrip),
            cmocka_unit_test(test_msi_decode_reply_options_in_any_order),
            cmocka_unit_test(test_msi_decode_error_with_reply_options_is_error),
            cmocka_unit_test(test_msi_decode_error_length_3_is_eoption),
            cmocka_unit_test(test_msi_decode_error_option_in_request_is_unknown),
            cmocka_unit_test(test_msi_encode_enobufs_for_every_short_cap),
            cmocka_unit_test(test_msi_encode_rejects_empty_names),
            cmocka_unit_test(test_msi_encode_rejects_name_over_255_units),
            cmocka_unit_test(test_msi_encode_rejects_invalid_utf8),
            cmocka_unit_test(test_msi_encode_rejects_unterminated_name_array),
            cmocka_unit_test(test_msi_encode_rejects_bad_address_length),
            cmocka_unit_test(test_msi_encode_rejects_unknown_opcode_and_error_request),
            cmocka_unit_test(test_msi_reply_check_accepts_golden_reply),
            cmocka_unit_test(test_msi_reply_check_rejects_block_size_0_and_65449),
            cmocka_unit_test(test_msi_reply_check_rejects_total_blocks_off_by_one),
            cmocka_unit_test(test_msi_reply_check_rejects_unicast_multicast_address),
            cmocka_unit_test(test_msi_reply_check_rejects_server_port_not_mcast_port),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
