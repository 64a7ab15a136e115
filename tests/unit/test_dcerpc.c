/* SPDX-License-Identifier: MIT */
/* Unit tests of the DCE/RPC PDU codec (transport/dcerpc.c) and the
 * WdsRpcMessage NDR stubs (transport/ndr.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dcerpc.h"
#include "ndr.h"
#include "wdsmc/error.h"

static const struct wdsmc_dcerpc_syntax ndr20 = WDSMC_DCERPC_NDR20_INIT;
static const struct wdsmc_dcerpc_syntax wdsc_if = WDSMC_DCERPC_WDSC_IF_INIT;

/* NDR UUID bytes of the interface and of the transfer syntax. */
#define WDSC_IF_BYTES                                                                              \
    0x94, 0x73, 0x92, 0x1a, 0x2e, 0x35, 0x53, 0x45, 0xae, 0x3f, 0x7c, 0xf4, 0xaa, 0xfc, 0xa6, 0x20
#define NDR20_BYTES                                                                                \
    0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60

/* Hand-written byte tables, one field per line: kept out of clang-format,
 * which would re-flow them into columns. */
/* clang-format off */

/* C706 12.6.4.3 bind: the WDS interface in NDR 2.0, no authentication. */
static const uint8_t golden_bind[] = {
        0x05, 0x00,             /* rpc_vers 5, rpc_vers_minor 0 */
        0x0b,                   /* PTYPE bind */
        0x03,                   /* PFC_FIRST_FRAG | PFC_LAST_FRAG */
        0x10, 0x00, 0x00, 0x00, /* drep: little-endian, ASCII, IEEE */
        0x48, 0x00,             /* frag_length 72 */
        0x00, 0x00,             /* auth_length 0 */
        0x01, 0x00, 0x00, 0x00, /* call_id 1 */
        0xd0, 0x16,             /* max_xmit_frag 5840 */
        0xd0, 0x16,             /* max_recv_frag 5840 */
        0x00, 0x00, 0x00, 0x00, /* assoc_group_id 0 */
        0x01, 0x00, 0x00, 0x00, /* n_context_elem 1, reserved, reserved2 */
        0x00, 0x00,             /* p_cont_id 0 */
        0x01, 0x00,             /* n_transfer_syn 1, reserved */
        WDSC_IF_BYTES,          /* abstract_syntax if_uuid */
        0x01, 0x00, 0x00, 0x00, /* if_version 1.0 */
        NDR20_BYTES,            /* transfer_syntaxes[0] */
        0x02, 0x00, 0x00, 0x00, /* version 2 */
};

/* C706 12.6.4.4 bind_ack accepting it, secondary address "5040". */
static const uint8_t golden_bind_ack[] = {
        0x05, 0x00, 0x0c, 0x03, 0x10, 0x00, 0x00, 0x00, /* bind_ack, first|last */
        0x3c, 0x00,                                     /* frag_length 60 */
        0x00, 0x00,                                     /* auth_length 0 */
        0x01, 0x00, 0x00, 0x00,                         /* call_id 1 */
        0xb8, 0x10,                                     /* max_xmit_frag 4280 */
        0xb8, 0x10,                                     /* max_recv_frag 4280 */
        0xf0, 0x53, 0x00, 0x00,                         /* assoc_group_id 0x53f0 */
        0x05, 0x00,                                     /* sec_addr length 5 */
        '5', '0', '4', '0', 0x00,                       /* port_spec */
        0x00,                                           /* align to 4 (offset 31) */
        0x01, 0x00, 0x00, 0x00,                         /* n_results 1, reserved */
        0x00, 0x00,                                     /* result acceptance */
        0x00, 0x00,                                     /* reason 0 */
        NDR20_BYTES, 0x02, 0x00, 0x00, 0x00,            /* transfer_syntax NDR v2 */
};

/* MS-RPCE 2.2.2.9 bind_nak: authentication_type_not_recognized. */
static const uint8_t golden_bind_nak[] = {
        0x05, 0x00, 0x0d, 0x03, 0x10, 0x00, 0x00, 0x00, /* bind_nak */
        0x18, 0x00, 0x00, 0x00,                         /* frag 24, auth 0 */
        0x07, 0x00, 0x00, 0x00,                         /* call_id 7 */
        0x08, 0x00,                                     /* provider_reject_reason 8 */
        0x01,                                           /* n_protocols 1 */
        0x05, 0x00,                                     /* version 5.0 */
        0x00, 0x00, 0x00,                               /* pad to 4 */
};

/* C706 12.6.4.9 request: opnum 0, 11 bytes of stub. */
static const uint8_t golden_request[] = {
        0x05, 0x00, 0x00, 0x03, 0x10, 0x00, 0x00, 0x00, /* request, first|last */
        0x23, 0x00, 0x00, 0x00,                         /* frag 35, auth 0 */
        0x02, 0x00, 0x00, 0x00,                         /* call_id 2 */
        0x0b, 0x00, 0x00, 0x00,                         /* alloc_hint 11 */
        0x00, 0x00,                                     /* p_cont_id 0 */
        0x00, 0x00,                                     /* opnum 0 */
        0x03, 0x00, 0x00, 0x00,                         /* stub: uRequestPacketSize 3 */
        0x03, 0x00, 0x00, 0x00,                         /*       max_count 3 */
        'A', 'B', 'C',                                  /*       bytes */
};

/* C706 12.6.4.7 fault: access denied, did not execute. */
static const uint8_t golden_fault[] = {
        0x05, 0x00, 0x03, 0x23, 0x10, 0x00, 0x00, 0x00, /* fault, first|last|dne */
        0x20, 0x00, 0x00, 0x00,                         /* frag 32, auth 0 */
        0x02, 0x00, 0x00, 0x00,                         /* call_id 2 */
        0x00, 0x00, 0x00, 0x00,                         /* alloc_hint 0 */
        0x00, 0x00,                                     /* p_cont_id 0 */
        0x00,                                           /* cancel_count */
        0x00,                                           /* reserved (no EEInfo) */
        0x05, 0x00, 0x00, 0x00,                         /* status 5 */
        0x00, 0x00, 0x00, 0x00,                         /* reserved */
};

/* Request at PKT_PRIVACY: 5 stub bytes, 11 bytes of auth padding to the
 * 16-byte boundary, sec_trailer, 16-byte signature (MS-RPCE 2.2.2.11). */
static const uint8_t golden_sealed_request[] = {
        0x05, 0x00, 0x00, 0x03, 0x10, 0x00, 0x00, 0x00, /* request */
        0x40, 0x00,                                     /* frag_length 64 */
        0x10, 0x00,                                     /* auth_length 16 */
        0x03, 0x00, 0x00, 0x00,                         /* call_id 3 */
        0x05, 0x00, 0x00, 0x00,                         /* alloc_hint 5 */
        0x00, 0x00, 0x00, 0x00,                         /* p_cont_id 0, opnum 0 */
        0x11, 0x22, 0x33, 0x44, 0x55,                   /* stub (sealed) */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,                /* auth padding x11 */
        0x0a,                                           /* auth_type WINNT */
        0x06,                                           /* auth_level PKT_PRIVACY */
        0x0b,                                           /* auth_pad_length 11 */
        0x00,                                           /* auth_reserved */
        0x79, 0x00, 0x00, 0x00,                         /* auth_context_id 121 */
        0x01, 0x00, 0x00, 0x00, 0xa0, 0xa1, 0xa2, 0xa3, /* signature */
        0xa4, 0xa5, 0xa6, 0xa7, 0x00, 0x00, 0x00, 0x00,
};

/* MS-RPCE 2.2.2.10 rpc_auth_3 with a 4-byte token. */
static const uint8_t golden_auth3[] = {
        0x05, 0x00, 0x10, 0x03, 0x10, 0x00, 0x00, 0x00, /* rpc_auth_3 */
        0x20, 0x00,                                     /* frag_length 32 */
        0x04, 0x00,                                     /* auth_length 4 */
        0x01, 0x00, 0x00, 0x00,                         /* call_id 1 */
        0x00, 0x00, 0x00, 0x00,                         /* pad */
        0x0a, 0x06, 0x00, 0x00,                         /* WINNT, PRIVACY, pad 0 */
        0x00, 0x00, 0x00, 0x00,                         /* auth_context_id 0 */
        'T', 'O', 'K', '3',                             /* token */
};

/* clang-format on */

static void assert_reencodes(struct wdsmc_dcerpc_pdu *pdu, const uint8_t *golden, size_t len)
{
    uint8_t out[512];
    ssize_t n = wdsmc_dcerpc_encode(pdu, out, sizeof(out));
    assert_int_equal(n, len);
    assert_memory_equal(out, golden, len);
    /* Every short buffer is refused. */
    for (size_t cap = 0; cap < len; cap++)
        assert_int_equal(wdsmc_dcerpc_encode(pdu, out, cap), -ENOBUFS);
}

static void test_dcerpc_bind_golden(void **state)
{
    struct wdsmc_dcerpc_pdu pdu;

    (void)state;
    assert_int_equal(wdsmc_dcerpc_decode(golden_bind, sizeof(golden_bind), &pdu), 0);
    assert_int_equal(pdu.ptype, WDSMC_DCERPC_BIND);
    assert_int_equal(pdu.pfc_flags, WDSMC_DCERPC_PFC_FIRST_FRAG | WDSMC_DCERPC_PFC_LAST_FRAG);
    assert_int_equal(pdu.call_id, 1);
    assert_int_equal(pdu.u.bind.max_xmit_frag, 5840);
    assert_int_equal(pdu.u.bind.max_recv_frag, 5840);
    assert_int_equal(pdu.u.bind.n_ctx, 1);
    assert_true(wdsmc_dcerpc_syntax_eq(&pdu.u.bind.ctx[0].abstract, &wdsc_if));
    assert_int_equal(pdu.u.bind.ctx[0].n_xfer, 1);
    assert_true(wdsmc_dcerpc_syntax_eq(&pdu.u.bind.ctx[0].xfer[0], &ndr20));
    assert_false(pdu.has_auth);
    assert_reencodes(&pdu, golden_bind, sizeof(golden_bind));
}

static void test_dcerpc_bind_ack_golden(void **state)
{
    struct wdsmc_dcerpc_pdu pdu;

    (void)state;
    assert_int_equal(wdsmc_dcerpc_decode(golden_bind_ack, sizeof(golden_bind_ack), &pdu), 0);
    assert_int_equal(pdu.ptype, WDSMC_DCERPC_BIND_ACK);
    assert_int_equal(pdu.u.ack.max_xmit_frag, 4280);
    assert_int_equal(pdu.u.ack.assoc_group_id, 0x53f0);
    assert_int_equal(pdu.u.ack.sec_addr_len, 5);
    assert_string_equal(pdu.u.ack.sec_addr, "5040");
    assert_int_equal(pdu.u.ack.n_results, 1);
    assert_int_equal(pdu.u.ack.results[0].result, WDSMC_DCERPC_ACCEPTANCE);
    assert_true(wdsmc_dcerpc_syntax_eq(&pdu.u.ack.results[0].xfer, &ndr20));
    assert_reencodes(&pdu, golden_bind_ack, sizeof(golden_bind_ack));
}

static void test_dcerpc_bind_nak_golden(void **state)
{
    struct wdsmc_dcerpc_pdu pdu;

    (void)state;
    assert_int_equal(wdsmc_dcerpc_decode(golden_bind_nak, sizeof(golden_bind_nak), &pdu), 0);
    assert_int_equal(pdu.u.nak.reason, WDSMC_DCERPC_NAK_AUTH_TYPE_NOT_RECOGNIZED);
    assert_int_equal(pdu.u.nak.n_versions, 1);
    assert_int_equal(pdu.u.nak.versions[0][0], 5);
    assert_reencodes(&pdu, golden_bind_nak, sizeof(golden_bind_nak));
    assert_int_equal(wdsmc_dcerpc_nak_to_errno(pdu.u.nak.reason), -EACCES);
}

static void test_dcerpc_request_golden(void **state)
{
    struct wdsmc_dcerpc_pdu pdu;

    (void)state;
    assert_int_equal(wdsmc_dcerpc_decode(golden_request, sizeof(golden_request), &pdu), 0);
    assert_int_equal(pdu.ptype, WDSMC_DCERPC_REQUEST);
    assert_int_equal(pdu.u.request.alloc_hint, 11);
    assert_int_equal(pdu.u.request.opnum, 0);
    assert_int_equal(pdu.stub_off, 24);
    assert_int_equal(pdu.stub_len, 11);
    assert_memory_equal(pdu.stub, golden_request + 24, 11);
    assert_reencodes(&pdu, golden_request, sizeof(golden_request));
}

static void test_dcerpc_fault_golden(void **state)
{
    struct wdsmc_dcerpc_pdu pdu;

    (void)state;
    assert_int_equal(wdsmc_dcerpc_decode(golden_fault, sizeof(golden_fault), &pdu), 0);
    assert_int_equal(pdu.ptype, WDSMC_DCERPC_FAULT);
    assert_int_equal(pdu.u.fault.status, 5);
    assert_true(pdu.pfc_flags & WDSMC_DCERPC_PFC_DID_NOT_EXECUTE);
    assert_reencodes(&pdu, golden_fault, sizeof(golden_fault));
    assert_int_equal(wdsmc_dcerpc_fault_to_errno(pdu.u.fault.status), -EACCES);
}

static void test_dcerpc_sealed_request_layout(void **state)
{
    struct wdsmc_dcerpc_pdu pdu;

    (void)state;
    assert_int_equal(
            wdsmc_dcerpc_decode(golden_sealed_request, sizeof(golden_sealed_request), &pdu), 0);
    assert_true(pdu.has_auth);
    assert_int_equal(pdu.auth.type, WDSMC_RPC_AUTHN_WINNT);
    assert_int_equal(pdu.auth.level, WDSMC_RPC_LEVEL_PKT_PRIVACY);
    assert_int_equal(pdu.auth.pad_len, 11);
    assert_int_equal(pdu.auth.context_id, 121);
    assert_int_equal(pdu.auth.trailer_off, 40);
    assert_int_equal(pdu.auth.token_len, 16);
    assert_memory_equal(pdu.auth.token, golden_sealed_request + 48, 16);
    assert_int_equal(pdu.stub_len, 5);
    /* Re-encoding recomputes the padding from the stub length. */
    assert_reencodes(&pdu, golden_sealed_request, sizeof(golden_sealed_request));
    /* A zero token placeholder when no token is given. */
    uint8_t out[128];
    pdu.auth.token = NULL;
    assert_int_equal(wdsmc_dcerpc_encode(&pdu, out, sizeof(out)), 64);
    assert_memory_equal(out, golden_sealed_request, 48);
    static const uint8_t zero[16];
    assert_memory_equal(out + 48, zero, 16);
}

static void test_dcerpc_auth3_golden(void **state)
{
    struct wdsmc_dcerpc_pdu pdu;

    (void)state;
    assert_int_equal(wdsmc_dcerpc_decode(golden_auth3, sizeof(golden_auth3), &pdu), 0);
    assert_int_equal(pdu.ptype, WDSMC_DCERPC_AUTH3);
    assert_int_equal(pdu.auth.token_len, 4);
    assert_memory_equal(pdu.auth.token, "TOK3", 4);
    assert_reencodes(&pdu, golden_auth3, sizeof(golden_auth3));
}

/* Cut every golden short, both as a stream (frag_length beyond the data)
 * and structurally (frag_length rewritten to the cut). */
static void assert_truncations_rejected(const uint8_t *golden, size_t len, bool structural)
{
    uint8_t buf[512];
    struct wdsmc_dcerpc_pdu pdu;

    for (size_t cut = 0; cut < len; cut++) {
        memcpy(buf, golden, cut);
        assert_true(wdsmc_dcerpc_decode(buf, cut, &pdu) < 0);
        if (structural && cut >= WDSMC_DCERPC_HDR_LEN) {
            wdsmc_dcerpc_set_frag_length(buf, (uint16_t)cut);
            assert_true(wdsmc_dcerpc_decode(buf, cut, &pdu) < 0);
        }
    }
}

static void test_dcerpc_truncations_rejected(void **state)
{
    (void)state;
    assert_truncations_rejected(golden_bind, sizeof(golden_bind), true);
    assert_truncations_rejected(golden_bind_ack, sizeof(golden_bind_ack), true);
    assert_truncations_rejected(golden_fault, sizeof(golden_fault), false);
    assert_truncations_rejected(golden_request, sizeof(golden_request), false);
    assert_truncations_rejected(golden_sealed_request, sizeof(golden_sealed_request), false);
    assert_truncations_rejected(golden_auth3, sizeof(golden_auth3), false);
    /* The fault body up to its status is required. */
    uint8_t buf[32];
    struct wdsmc_dcerpc_pdu pdu;
    for (size_t cut = 16; cut < 28; cut++) {
        memcpy(buf, golden_fault, cut);
        wdsmc_dcerpc_set_frag_length(buf, (uint16_t)cut);
        assert_int_equal(wdsmc_dcerpc_decode(buf, cut, &pdu), -WDSMC_ETRUNC);
    }
}

static void test_dcerpc_malformed_rejected(void **state)
{
    uint8_t buf[512];
    struct wdsmc_dcerpc_pdu pdu;

    (void)state;
    /* Version 4 and big-endian drep. */
    memcpy(buf, golden_bind, sizeof(golden_bind));
    buf[0] = 4;
    assert_int_equal(wdsmc_dcerpc_decode(buf, sizeof(golden_bind), &pdu), -EPROTONOSUPPORT);
    memcpy(buf, golden_bind, sizeof(golden_bind));
    buf[4] = 0x00;
    assert_int_equal(wdsmc_dcerpc_decode(buf, sizeof(golden_bind), &pdu), -EPROTONOSUPPORT);
    /* Unknown PTYPE. */
    memcpy(buf, golden_bind, sizeof(golden_bind));
    buf[2] = 42;
    assert_int_equal(wdsmc_dcerpc_decode(buf, sizeof(golden_bind), &pdu), -WDSMC_EOPCODE);
    /* More contexts than the limit, then more than the bytes hold. */
    memcpy(buf, golden_bind, sizeof(golden_bind));
    buf[24] = WDSMC_DCERPC_MAX_CTX + 1;
    assert_int_equal(wdsmc_dcerpc_decode(buf, sizeof(golden_bind), &pdu), -WDSMC_ETOOMANY);
    buf[24] = 2;
    assert_int_equal(wdsmc_dcerpc_decode(buf, sizeof(golden_bind), &pdu), -WDSMC_ETRUNC);
    memcpy(buf, golden_bind, sizeof(golden_bind));
    buf[30] = WDSMC_DCERPC_MAX_XFER + 1;
    assert_int_equal(wdsmc_dcerpc_decode(buf, sizeof(golden_bind), &pdu), -WDSMC_ETOOMANY);
    /* Bytes after a bind without a trailer. */
    memcpy(buf, golden_bind, sizeof(golden_bind));
    buf[sizeof(golden_bind)] = 0;
    wdsmc_dcerpc_set_frag_length(buf, sizeof(golden_bind) + 1);
    assert_int_equal(wdsmc_dcerpc_decode(buf, sizeof(golden_bind) + 1, &pdu), -WDSMC_ETRAILING);
    /* frag_length disagreeing with the data, or under the header. */
    assert_int_equal(wdsmc_dcerpc_decode(golden_bind, sizeof(golden_bind) - 1, &pdu),
                     -WDSMC_ETRUNC);
    memcpy(buf, golden_bind, sizeof(golden_bind));
    wdsmc_dcerpc_set_frag_length(buf, 10);
    assert_int_equal(wdsmc_dcerpc_decode(buf, sizeof(golden_bind), &pdu), -WDSMC_ECOUNT);
    /* auth_length larger than the PDU, and auth padding larger than the
     * stub. */
    memcpy(buf, golden_sealed_request, sizeof(golden_sealed_request));
    buf[10] = 0x40;
    assert_int_equal(wdsmc_dcerpc_decode(buf, sizeof(golden_sealed_request), &pdu), -WDSMC_ECOUNT);
    memcpy(buf, golden_sealed_request, sizeof(golden_sealed_request));
    buf[42] = 17;
    assert_int_equal(wdsmc_dcerpc_decode(buf, sizeof(golden_sealed_request), &pdu), -WDSMC_ECOUNT);
    /* A trailer that would start inside the request header. */
    memcpy(buf, golden_sealed_request, sizeof(golden_sealed_request));
    buf[10] = 64 - 16 - 8 - 4;
    assert_int_equal(wdsmc_dcerpc_decode(buf, sizeof(golden_sealed_request), &pdu), -WDSMC_ETRUNC);
    /* A secondary address without its NUL, and over the limit. */
    memcpy(buf, golden_bind_ack, sizeof(golden_bind_ack));
    buf[30] = 'x';
    assert_int_equal(wdsmc_dcerpc_decode(buf, sizeof(golden_bind_ack), &pdu), -WDSMC_ESTRING);
    memcpy(buf, golden_bind_ack, sizeof(golden_bind_ack));
    buf[24] = WDSMC_DCERPC_MAX_SEC_ADDR + 1;
    assert_int_equal(wdsmc_dcerpc_decode(buf, sizeof(golden_bind_ack), &pdu), -WDSMC_ETOOMANY);
    /* Too many results. */
    memcpy(buf, golden_bind_ack, sizeof(golden_bind_ack));
    buf[32] = WDSMC_DCERPC_MAX_CTX + 1;
    assert_int_equal(wdsmc_dcerpc_decode(buf, sizeof(golden_bind_ack), &pdu), -WDSMC_ETOOMANY);
}

static void test_dcerpc_frag_length_frames_a_stream(void **state)
{
    uint8_t buf[32];

    (void)state;
    for (size_t n = 0; n < WDSMC_DCERPC_HDR_LEN; n++)
        assert_int_equal(wdsmc_dcerpc_frag_length(golden_bind, n, 5840), 0);
    assert_int_equal(wdsmc_dcerpc_frag_length(golden_bind, 16, 5840), 72);
    assert_int_equal(wdsmc_dcerpc_frag_length(golden_bind, 16, 71), -WDSMC_EVALUE);
    memcpy(buf, golden_bind, 16);
    wdsmc_dcerpc_set_frag_length(buf, 15);
    assert_int_equal(wdsmc_dcerpc_frag_length(buf, 16, 5840), -WDSMC_EVALUE);
    buf[1] = 1;
    assert_int_equal(wdsmc_dcerpc_frag_length(buf, 16, 5840), -EPROTONOSUPPORT);
}

static void test_dcerpc_bind_time_feature_and_object_uuid(void **state)
{
    struct wdsmc_dcerpc_pdu pdu = {0}, back;
    uint8_t out[256];

    (void)state;
    /* A Windows-style bind: NDR, NDR64, bind-time features. */
    pdu.ptype = WDSMC_DCERPC_BIND;
    pdu.pfc_flags = 3;
    pdu.u.bind.max_xmit_frag = pdu.u.bind.max_recv_frag = 5840;
    pdu.u.bind.n_ctx = 3;
    for (int i = 0; i < 3; i++) {
        pdu.u.bind.ctx[i].ctx_id = (uint16_t)i;
        pdu.u.bind.ctx[i].abstract = wdsc_if;
        pdu.u.bind.ctx[i].n_xfer = 1;
    }
    pdu.u.bind.ctx[0].xfer[0] = ndr20;
    assert_int_equal(wdsmc_uuid_parse("71710533-beba-4937-8319-b5dbef9ccc36",
                                      &pdu.u.bind.ctx[1].xfer[0].uuid),
                     0);
    pdu.u.bind.ctx[1].xfer[0].version = 1;
    assert_int_equal(wdsmc_uuid_parse("6cb71c2c-9812-4540-0300-000000000000",
                                      &pdu.u.bind.ctx[2].xfer[0].uuid),
                     0);
    ssize_t n = wdsmc_dcerpc_encode(&pdu, out, sizeof(out));
    assert_int_equal(n, 16 + 12 + 3 * 44);
    assert_int_equal(wdsmc_dcerpc_decode(out, (size_t)n, &back), 0);
    assert_int_equal(back.u.bind.n_ctx, 3);
    assert_false(wdsmc_dcerpc_is_bind_time_feature(&back.u.bind.ctx[1].xfer[0]));
    assert_true(wdsmc_dcerpc_is_bind_time_feature(&back.u.bind.ctx[2].xfer[0]));

    /* A request with an object UUID puts the stub at 40. */
    struct wdsmc_dcerpc_pdu req = {0};
    req.ptype = WDSMC_DCERPC_REQUEST;
    req.pfc_flags = 3 | WDSMC_DCERPC_PFC_OBJECT_UUID;
    assert_int_equal(
            wdsmc_uuid_parse("01234567-89ab-cdef-0123-456789abcdef", &req.u.request.object), 0);
    req.stub = (const uint8_t *)"xyz";
    req.stub_len = 3;
    n = wdsmc_dcerpc_encode(&req, out, sizeof(out));
    assert_int_equal(n, 43);
    assert_int_equal(req.stub_off, 40);
    assert_int_equal(out[24], 0x67); /* Data1 little-endian */
    assert_int_equal(wdsmc_dcerpc_decode(out, (size_t)n, &back), 0);
    assert_true(wdsmc_uuid_eq(&back.u.request.object, &req.u.request.object));
    assert_int_equal(back.stub_len, 3);
}

static void test_uuid_parse(void **state)
{
    struct wdsmc_uuid u;
    const struct wdsmc_uuid want = WDSMC_UUID_INIT(0x1A927394, 0x352E, 0x4553, 0xAE, 0x3F, 0x7C,
                                                   0xF4, 0xAA, 0xFC, 0xA6, 0x20);

    (void)state;
    assert_int_equal(wdsmc_uuid_parse("1a927394-352E-4553-ae3f-7cf4aafca620", &u), 0);
    assert_true(wdsmc_uuid_eq(&u, &want));
    assert_true(wdsmc_uuid_eq(&u, &wdsc_if.uuid));
    assert_int_equal(wdsmc_uuid_parse("1a927394-352e-4553-ae3f-7cf4aafca62", &u), -EINVAL);
    assert_int_equal(wdsmc_uuid_parse("1a927394-352e-4553-ae3f-7cf4aafca6200", &u), -EINVAL);
    assert_int_equal(wdsmc_uuid_parse("1a927394x352e-4553-ae3f-7cf4aafca620", &u), -EINVAL);
    assert_int_equal(wdsmc_uuid_parse("1a927394-352e-4553-ae3f-7cf4aafca6g0", &u), -EINVAL);
    assert_int_equal(wdsmc_uuid_parse("", &u), -EINVAL);
}

static void test_dcerpc_status_mapping(void **state)
{
    (void)state;
    assert_int_equal(wdsmc_dcerpc_fault_to_errno(WDSMC_NCA_ACCESS_DENIED), -EACCES);
    assert_int_equal(wdsmc_dcerpc_fault_to_errno(WDSMC_NCA_PROTO_ERROR), -EPROTO);
    assert_int_equal(wdsmc_dcerpc_fault_to_errno(WDSMC_NCA_OP_RNG_ERROR), -ENOSYS);
    assert_int_equal(wdsmc_dcerpc_fault_to_errno(WDSMC_NCA_UNK_IF), -EPROTONOSUPPORT);
    assert_int_equal(wdsmc_dcerpc_fault_to_errno(WDSMC_NCA_FAULT_NDR), -EBADMSG);
    assert_int_equal(wdsmc_dcerpc_fault_to_errno(WDSMC_NCA_FAULT_REMOTE_NO_MEMORY), -ENOMEM);
    assert_int_equal(wdsmc_dcerpc_fault_to_errno(WDSMC_NCA_FAULT_CANCEL), -ECANCELED);
    assert_int_equal(wdsmc_dcerpc_fault_to_errno(0x12345678), -EIO);
    /* The server's mapping inverts the client's. */
    static const int errs[] = {-EACCES,  -EPROTO, -ENOSYS,    -EPROTONOSUPPORT,
                               -EBADMSG, -ENOMEM, -ECANCELED, -EBUSY};
    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
        assert_int_equal(wdsmc_dcerpc_fault_to_errno(wdsmc_dcerpc_errno_to_fault(errs[i])),
                         errs[i]);
    assert_int_equal(wdsmc_dcerpc_errno_to_fault(-EIO), WDSMC_NCA_FAULT_UNSPEC);
    assert_int_equal(wdsmc_dcerpc_nak_to_errno(WDSMC_DCERPC_NAK_LOCAL_LIMIT_EXCEEDED), -EAGAIN);
    assert_int_equal(wdsmc_dcerpc_nak_to_errno(WDSMC_DCERPC_NAK_PROTOCOL_VERSION_NOT_SUPPORTED),
                     -EPROTONOSUPPORT);
    assert_int_equal(wdsmc_dcerpc_nak_to_errno(0), -ECONNREFUSED);
}

/* ---- NDR stubs of WdsRpcMessage ------------------------------------------------- */

/* [in]: uRequestPacketSize, then the conformant array (max_count, bytes). */
static const uint8_t golden_ndr_in[] = {
        0x03, 0x00, 0x00, 0x00, /* uRequestPacketSize 3 */
        0x03, 0x00, 0x00, 0x00, /* bRequestPacket max_count 3 */
        'A',  'B',  'C',        /* elements */
};

/* [out]: *puReplyPacketSize, the unique pointer's referent id, its
 * conformant array, padding to 4, the return value. */
static const uint8_t golden_ndr_out[] = {
        0x03, 0x00, 0x00, 0x00, /* *puReplyPacketSize 3 */
        0x00, 0x00, 0x02, 0x00, /* referent id 0x00020000 */
        0x03, 0x00, 0x00, 0x00, /* max_count 3 */
        'x',  'y',  'z',        /* elements */
        0x00,                   /* align to 4 */
        0x00, 0x00, 0x00, 0x00, /* return value ERROR_SUCCESS */
};

/* [out] of a failed call: NULL pointer, return value 5. */
static const uint8_t golden_ndr_out_null[] = {
        0x00, 0x00, 0x00, 0x00, /* *puReplyPacketSize 0 */
        0x00, 0x00, 0x00, 0x00, /* NULL */
        0x05, 0x00, 0x00, 0x00, /* ERROR_ACCESS_DENIED */
};

static void test_ndr_wdsrpc_goldens(void **state)
{
    uint8_t out[64];
    const uint8_t *pkt;
    size_t len;
    uint32_t status;

    (void)state;
    assert_int_equal(wdsmc_ndr_wdsrpc_req_encode((const uint8_t *)"ABC", 3, out, sizeof(out)),
                     sizeof(golden_ndr_in));
    assert_memory_equal(out, golden_ndr_in, sizeof(golden_ndr_in));
    assert_int_equal(wdsmc_ndr_wdsrpc_req_decode(golden_ndr_in, sizeof(golden_ndr_in), &pkt, &len),
                     0);
    assert_int_equal(len, 3);
    assert_memory_equal(pkt, "ABC", 3);

    assert_int_equal(wdsmc_ndr_wdsrpc_rep_encode((const uint8_t *)"xyz", 3, 0, out, sizeof(out)),
                     sizeof(golden_ndr_out));
    assert_memory_equal(out, golden_ndr_out, sizeof(golden_ndr_out));
    assert_int_equal(wdsmc_ndr_wdsrpc_rep_decode(golden_ndr_out, sizeof(golden_ndr_out), &pkt, &len,
                                                 &status),
                     0);
    assert_int_equal(len, 3);
    assert_memory_equal(pkt, "xyz", 3);
    assert_int_equal(status, 0);

    assert_int_equal(wdsmc_ndr_wdsrpc_rep_encode(NULL, 0, 5, out, sizeof(out)), 12);
    assert_memory_equal(out, golden_ndr_out_null, 12);
    assert_int_equal(wdsmc_ndr_wdsrpc_rep_decode(golden_ndr_out_null, 12, &pkt, &len, &status), 0);
    assert_null(pkt);
    assert_int_equal(len, 0);
    assert_int_equal(status, 5);

    /* Encoders refuse short buffers. */
    for (size_t cap = 0; cap < sizeof(golden_ndr_out); cap++)
        assert_int_equal(wdsmc_ndr_wdsrpc_rep_encode((const uint8_t *)"xyz", 3, 0, out, cap),
                         -ENOBUFS);
    for (size_t cap = 0; cap < sizeof(golden_ndr_in); cap++)
        assert_int_equal(wdsmc_ndr_wdsrpc_req_encode((const uint8_t *)"ABC", 3, out, cap),
                         -ENOBUFS);
}

static void test_ndr_wdsrpc_malformed_rejected(void **state)
{
    uint8_t buf[64];
    const uint8_t *pkt;
    size_t len;
    uint32_t status;

    (void)state;
    for (size_t cut = 0; cut < sizeof(golden_ndr_in); cut++)
        assert_int_equal(wdsmc_ndr_wdsrpc_req_decode(golden_ndr_in, cut, &pkt, &len),
                         cut < 8 ? -WDSMC_ETRUNC : -WDSMC_ETRUNC);
    for (size_t cut = 0; cut < sizeof(golden_ndr_out); cut++)
        assert_int_equal(wdsmc_ndr_wdsrpc_rep_decode(golden_ndr_out, cut, &pkt, &len, &status),
                         -WDSMC_ETRUNC);
    for (size_t cut = 0; cut < sizeof(golden_ndr_out_null); cut++)
        assert_int_equal(wdsmc_ndr_wdsrpc_rep_decode(golden_ndr_out_null, cut, &pkt, &len, &status),
                         -WDSMC_ETRUNC);
    /* Conformance disagreeing with the size parameter. */
    memcpy(buf, golden_ndr_in, sizeof(golden_ndr_in));
    buf[4] = 4;
    assert_int_equal(wdsmc_ndr_wdsrpc_req_decode(buf, sizeof(golden_ndr_in), &pkt, &len),
                     -WDSMC_ECOUNT);
    memcpy(buf, golden_ndr_out, sizeof(golden_ndr_out));
    buf[8] = 2;
    assert_int_equal(wdsmc_ndr_wdsrpc_rep_decode(buf, sizeof(golden_ndr_out), &pkt, &len, &status),
                     -WDSMC_ECOUNT);
    /* A size over the cap, even if consistent. */
    memcpy(buf, golden_ndr_in, sizeof(golden_ndr_in));
    ndr_put32(buf, WDSMC_NDR_MAX_PACKET + 1);
    ndr_put32(buf + 4, WDSMC_NDR_MAX_PACKET + 1);
    assert_int_equal(wdsmc_ndr_wdsrpc_req_decode(buf, sizeof(golden_ndr_in), &pkt, &len),
                     -WDSMC_ECOUNT);
    /* Alignment padding is fine, more is not. */
    memset(buf, 0, sizeof(buf));
    memcpy(buf, golden_ndr_in, sizeof(golden_ndr_in));
    assert_int_equal(wdsmc_ndr_wdsrpc_req_decode(buf, sizeof(golden_ndr_in) + 5, &pkt, &len), 0);
    assert_int_equal(wdsmc_ndr_wdsrpc_req_decode(buf, sizeof(golden_ndr_in) + 8, &pkt, &len),
                     -WDSMC_ETRAILING);
    memset(buf, 0, sizeof(buf));
    memcpy(buf, golden_ndr_out, sizeof(golden_ndr_out));
    assert_int_equal(
            wdsmc_ndr_wdsrpc_rep_decode(buf, sizeof(golden_ndr_out) + 8, &pkt, &len, &status),
            -WDSMC_ETRAILING);
    /* Encoders refuse a NULL packet with a length and oversize packets. */
    assert_int_equal(wdsmc_ndr_wdsrpc_rep_encode(NULL, 1, 0, buf, sizeof(buf)), -EINVAL);
    assert_int_equal(wdsmc_ndr_wdsrpc_req_encode(buf, WDSMC_NDR_MAX_PACKET + 1, buf, sizeof(buf)),
                     -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_dcerpc_bind_golden),
            cmocka_unit_test(test_dcerpc_bind_ack_golden),
            cmocka_unit_test(test_dcerpc_bind_nak_golden),
            cmocka_unit_test(test_dcerpc_request_golden),
            cmocka_unit_test(test_dcerpc_fault_golden),
            cmocka_unit_test(test_dcerpc_sealed_request_layout),
            cmocka_unit_test(test_dcerpc_auth3_golden),
            cmocka_unit_test(test_dcerpc_truncations_rejected),
            cmocka_unit_test(test_dcerpc_malformed_rejected),
            cmocka_unit_test(test_dcerpc_frag_length_frames_a_stream),
            cmocka_unit_test(test_dcerpc_bind_time_feature_and_object_uuid),
            cmocka_unit_test(test_uuid_parse),
            cmocka_unit_test(test_dcerpc_status_mapping),
            cmocka_unit_test(test_ndr_wdsrpc_goldens),
            cmocka_unit_test(test_ndr_wdsrpc_malformed_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
