/* SPDX-License-Identifier: MIT */
/* MS-WDSMSI over UDP: the client's retry/complete logic and the server's
 * answers, wired back to back through the real codec. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "msi.h"

struct harness {
    uint8_t sent[4][2048];
    size_t sent_len[4];
    int nsent;
    int ndone;
    int err;
    uint32_t win32;
    struct wdsmc_msi_reply reply;
};

static void h_send(void *ctx, const uint8_t *buf, size_t len)
{
    struct harness *h = ctx;
    assert_true(len <= sizeof(h->sent[0]));
    memcpy(h->sent[h->nsent % 4], buf, len);
    h->sent_len[h->nsent % 4] = len;
    h->nsent++;
}

static void h_done(void *ctx, int err, const struct wdsmc_msi_reply *reply, uint32_t win32)
{
    struct harness *h = ctx;
    h->ndone++;
    h->err = err;
    h->win32 = win32;
    if (reply)
        h->reply = *reply;
}

static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

static void setup_client(struct wdsmc_msi_client *c, struct harness *h, unsigned tries)
{
    struct wdsmc_msi_client_cbs cbs = {.ctx = h, .send = h_send, .done = h_done};
    memset(h, 0, sizeof(*h));
    assert_int_equal(wdsmc_msi_client_init(c, "WDS:Default/install.wim/1", "install.wim", mac,
                                           tries, 1000, &cbs),
                     0);
}

/* The server side's catalogue: one namespace with one content. */
static uint32_t lookup(void *ctx, const struct wdsmc_msi_request *req, struct wdsmc_msi_reply *ret)
{
    (void)ctx;
    if (strcmp(req->ns, "WDS:Default/install.wim/1") != 0)
        return WDSMC_WIN32_NOT_FOUND;
    if (strcmp(req->content, "install.wim") != 0)
        return WDSMC_WIN32_FILE_NOT_FOUND;
    *ret = (struct wdsmc_msi_reply){
            .mcast_addr = {4, {239, 0, 0, 111}},
            .server_addr = {4, {192, 168, 0, 200}},
            .mcast_port = 64132,
            .server_port = 64132,
            .content_size = 100000,
            .block_size = 8192,
            .total_blocks = 13,
            .session_id = 0x6D19EE7E,
    };
    return 0;
}

static void answer_last(struct wdsmc_msi_client *c, struct harness *h, uint64_t now)
{
    uint8_t out[2048];
    int i = (h->nsent - 1) % 4;
    ssize_t n = wdsmc_msi_server_answer(h->sent[i], h->sent_len[i], lookup, NULL, out, sizeof(out));
    assert_true(n > 0);
    assert_int_equal(wdsmc_msi_client_handle(c, out, (size_t)n, now), 0);
}

static void test_msi_client_gets_checked_reply(void **state)
{
    struct wdsmc_msi_client c;
    struct harness h;
    (void)state;

    setup_client(&c, &h, 0);
    wdsmc_msi_client_start(&c, 1000);
    assert_int_equal(h.nsent, 1);
    assert_int_equal(wdsmc_msi_client_deadline(&c), 2000);
    answer_last(&c, &h, 1100);
    assert_int_equal(h.ndone, 1);
    assert_int_equal(h.err, 0);
    assert_int_equal(h.reply.session_id, 0x6D19EE7E);
    assert_int_equal(h.reply.total_blocks, 13);
    assert_int_equal(wdsmc_msi_client_deadline(&c), UINT64_MAX);
}

static void test_msi_client_resends_every_second_then_times_out(void **state)
{
    struct wdsmc_msi_client c;
    struct harness h;
    (void)state;

    setup_client(&c, &h, 3);
    wdsmc_msi_client_start(&c, 0);
    wdsmc_msi_client_timeout(&c, 999); /* not yet due */
    assert_int_equal(h.nsent, 1);
    wdsmc_msi_client_timeout(&c, 1000);
    wdsmc_msi_client_timeout(&c, 2000);
    assert_int_equal(h.nsent, 3);
    assert_int_equal(h.ndone, 0);
    /* The last request still gets a full interval to be answered. */
    wdsmc_msi_client_timeout(&c, 3000);
    assert_int_equal(h.nsent, 3);
    assert_int_equal(h.ndone, 1);
    assert_int_equal(h.err, -ETIMEDOUT);
}

static void test_msi_client_default_is_thirty_tries(void **state)
{
    struct wdsmc_msi_client c;
    struct harness h;
    (void)state;

    setup_client(&c, &h, 0);
    wdsmc_msi_client_start(&c, 0);
    for (uint64_t t = 1000; t <= 40000; t += 1000)
        wdsmc_msi_client_timeout(&c, t);
    assert_int_equal(h.nsent, 30);
    assert_int_equal(h.ndone, 1);
    assert_int_equal(h.err, -ETIMEDOUT);
}

static void test_msi_unknown_content_is_no_such_content(void **state)
{
    struct wdsmc_msi_client c;
    struct harness h;
    struct wdsmc_msi_client_cbs cbs = {.ctx = &h, .send = h_send, .done = h_done};
    (void)state;

    memset(&h, 0, sizeof(h));
    assert_int_equal(
            wdsmc_msi_client_init(&c, "WDS:Default/install.wim/1", "boot.wim", mac, 0, 0, &cbs), 0);
    wdsmc_msi_client_start(&c, 0);
    answer_last(&c, &h, 10);
    assert_int_equal(h.err, -WDSMC_ENOCONTENT);
    assert_int_equal(h.win32, WDSMC_WIN32_FILE_NOT_FOUND);
}

static void test_msi_unknown_namespace_is_no_such_content(void **state)
{
    struct wdsmc_msi_client c;
    struct harness h;
    struct wdsmc_msi_client_cbs cbs = {.ctx = &h, .send = h_send, .done = h_done};
    (void)state;

    memset(&h, 0, sizeof(h));
    assert_int_equal(wdsmc_msi_client_init(&c, "WDS:Other", "install.wim", mac, 0, 0, &cbs), 0);
    wdsmc_msi_client_start(&c, 0);
    answer_last(&c, &h, 10);
    assert_int_equal(h.err, -WDSMC_ENOCONTENT);
    assert_int_equal(h.win32, WDSMC_WIN32_NOT_FOUND);
}

static void test_msi_client_ignores_garbage_and_keeps_waiting(void **state)
{
    struct wdsmc_msi_client c;
    struct harness h;
    const uint8_t junk[] = {0x02, 0x00, 0x05, 0x01};
    (void)state;

    setup_client(&c, &h, 0);
    wdsmc_msi_client_start(&c, 0);
    assert_true(wdsmc_msi_client_handle(&c, junk, sizeof(junk), 5) < 0);
    /* Its own request echoed back is not a reply either. */
    assert_int_equal(wdsmc_msi_client_handle(&c, h.sent[0], h.sent_len[0], 6), -WDSMC_EOPCODE);
    assert_int_equal(h.ndone, 0);
    assert_int_equal(c.replies_dropped, 2);
    answer_last(&c, &h, 10);
    assert_int_equal(h.ndone, 1);
    assert_int_equal(h.err, 0);
}

static void test_msi_client_rejects_inconsistent_reply(void **state)
{
    struct wdsmc_msi_client c;
    struct harness h;
    uint8_t out[512];
    struct wdsmc_msi_pkt r = {.opcode = WDSMC_MSI_REPLY};
    (void)state;

    setup_client(&c, &h, 0);
    wdsmc_msi_client_start(&c, 0);
    lookup(NULL,
           &(struct wdsmc_msi_request){.ns = "WDS:Default/install.wim/1", .content = "install.wim"},
           &r.u.reply);
    r.u.reply.total_blocks = 12; /* ceil(100000 / 8192) is 13 */
    ssize_t n = wdsmc_msi_encode(&r, out, sizeof(out));
    assert_true(n > 0);
    assert_int_equal(wdsmc_msi_client_handle(&c, out, (size_t)n, 1), 0);
    assert_int_equal(h.err, -WDSMC_EBADREPLY);
}

static void test_msi_server_answers_missing_option_with_87(void **state)
{
    /* REQUEST with only a NAMESPACE option ("A"). */
    const uint8_t req[] = {0x01, 0x00, 0x01, 0x06, 0x01, 0x00, 0x04, 'A', 0x00, 0x00, 0x00};
    uint8_t out[64];
    struct wdsmc_msi_pkt p;
    (void)state;

    ssize_t n = wdsmc_msi_server_answer(req, sizeof(req), lookup, NULL, out, sizeof(out));
    assert_true(n > 0);
    assert_int_equal(wdsmc_msi_decode(out, (size_t)n, &p), n);
    assert_true(p.is_error);
    assert_int_equal(p.u.error, WDSMC_WIN32_INVALID_PARAMETER);
}

static void test_msi_server_does_not_answer_garbage(void **state)
{
    const uint8_t junk[] = {0x01, 0xff, 0xff};
    uint8_t out[64];
    (void)state;

    assert_true(wdsmc_msi_server_answer(junk, sizeof(junk), lookup, NULL, out, sizeof(out)) < 0);
    assert_true(wdsmc_msi_server_answer(junk, 0, lookup, NULL, out, sizeof(out)) < 0);
}

static void test_msi_client_init_rejects_bad_names(void **state)
{
    struct wdsmc_msi_client c;
    struct wdsmc_msi_client_cbs cbs = {0};
    char longname[2000];
    (void)state;

    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(wdsmc_msi_client_init(&c, "", "x", mac, 0, 0, &cbs), -EINVAL);
    assert_int_equal(wdsmc_msi_client_init(&c, "x", longname, mac, 0, 0, &cbs), -EINVAL);
    assert_int_equal(wdsmc_msi_client_init(&c, "x", "\xff\xfe", mac, 0, 0, &cbs), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_msi_client_gets_checked_reply),
            cmocka_unit_test(test_msi_client_resends_every_second_then_times_out),
            cmocka_unit_test(test_msi_client_default_is_thirty_tries),
            cmocka_unit_test(test_msi_unknown_content_is_no_such_content),
            cmocka_unit_test(test_msi_unknown_namespace_is_no_such_content),
            cmocka_unit_test(test_msi_client_ignores_garbage_and_keeps_waiting),
            cmocka_unit_test(test_msi_client_rejects_inconsistent_reply),
            cmocka_unit_test(test_msi_server_answers_missing_option_with_87),
            cmocka_unit_test(test_msi_server_does_not_answer_garbage),
            cmocka_unit_test(test_msi_client_init_rejects_bad_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
