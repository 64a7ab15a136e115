/* SPDX-License-Identifier: MIT */
/* wdsmcd control socket: framing, limits, socket file handling. A real libuv
 * loop and real Unix sockets in a temp directory; the test is the client. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include <cmocka.h>

#include "control.h"

struct fixture {
    char dir[64];
    char path[128];
    uv_loop_t loop;
    struct wdsmcd_control *ctl;
    unsigned handled;
    bool closed;
    char err[512];
};

/* Echo the request back inside a JSON-ish envelope; "slow" answers with a
 * big response to fill the peer's buffers. */
static char *echo_handler(void *ctx, const char *line, size_t len)
{
    struct fixture *f = ctx;
    char *out;

    f->handled++;
    assert_int_equal(strlen(line), len);
    if (!strcmp(line, "big")) {
        out = malloc(1 << 20);
        memset(out, 'b', (1 << 20) - 1);
        out[(1 << 20) - 1] = '\0';
        return out;
    }
    if (asprintf(&out, "{\"echo\":\"%s\"}", line) < 0)
        return NULL;
    return out;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/wdsmcd-control-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/control.sock", f->dir);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    *state = f;
    return 0;
}

static void on_closed(void *ctx)
{
    ((struct fixture *)ctx)->closed = true;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->ctl)
        wdsmcd_control_close(f->ctl, on_closed, f);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void start(struct fixture *f, const struct wdsmcd_control_limits *lim)
{
    int r = wdsmcd_control_new(&f->loop, f->path, 0600, lim, echo_handler, f, &f->ctl, f->err,
                               sizeof(f->err));
    if (r < 0)
        fail_msg("control_new: %d %s", r, f->err);
}

static int client(struct fixture *f)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_true(strlen(f->path) < sizeof(sun.sun_path));
    memcpy(sun.sun_path, f->path, strlen(f->path) + 1);
    assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    return fd;
}

static void send_str(int fd, const char *s)
{
    assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* Run the loop until fd has something to read (or EOF); fail after 5 s. */
static void pump_until_readable(struct fixture *f, int fd)
{
    for (int i = 0; i < 5000; i++) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 1) > 0)
            return;
    }
    fail_msg("no response within 5 s");
}

/* Read one line (without the newline) into buf; returns its length, or -1
 * at EOF before any byte. */
static ssize_t read_line(struct fixture *f, int fd, char *buf, size_t cap)
{
    size_t n = 0;
    for (;;) {
        pump_until_readable(f, fd);
        char ch;
        ssize_t r = read(fd, &ch, 1);
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            return n ? (ssize_t)n : -1;
        assert_int_equal(r, 1);
        if (ch == '\n') {
            buf[n] = '\0';
            return (ssize_t)n;
        }
        if (n + 1 < cap)
            buf[n++] = ch;
    }
}

static void test_control_socket_has_mode_0600(void **state)
{
    struct fixture *f = *state;
    struct stat st;
    mode_t old = umask(0);
    start(f, NULL);
    umask(old);
    assert_int_equal(lstat(f->path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_control_answers_each_line_in_order(void **state)
{
    struct fixture *f = *state;
    char line[256];
    start(f, NULL);
    int fd = client(f);
    /* Two requests in one write, one split over two writes, CRLF, and an
     * empty line, which is ignored. */
    send_str(fd, "one\ntwo\n\nthr");
    assert_true(read_line(f, fd, line, sizeof(line)) > 0);
    assert_string_equal(line, "{\"echo\":\"one\"}");
    assert_true(read_line(f, fd, line, sizeof(line)) > 0);
    assert_string_equal(line, "{\"echo\":\"two\"}");
    send_str(fd, "ee\r\n");
    assert_true(read_line(f, fd, line, sizeof(line)) > 0);
    assert_string_equal(line, "{\"echo\":\"three\"}");
    assert_int_equal(f->handled, 3);
    close(fd);
}

static void test_control_answers_after_peer_half_close(void **state)
{
    struct fixture *f = *state;
    char line[256];
    start(f, NULL);
    int fd = client(f);
    send_str(fd, "last\n");
    shutdown(fd, SHUT_WR);
    assert_true(read_line(f, fd, line, sizeof(line)) > 0);
    assert_string_equal(line, "{\"echo\":\"last\"}");
    assert_int_equal(read_line(f, fd, line, sizeof(line)), -1); /* then EOF */
    close(fd);
}

static void test_control_too_long_request_gets_error_and_close(void **state)
{
    struct fixture *f = *state;
    struct wdsmcd_control_limits lim = {.max_request = 64};
    char line[256], big[200];
    start(f, &lim);
    int fd = client(f);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    send_str(fd, big);
    assert_true(read_line(f, fd, line, sizeof(line)) > 0);
    assert_non_null(strstr(line, "\"error\":\"too-large\""));
    assert_non_null(strstr(line, "longer than 63 bytes"));
    assert_int_equal(read_line(f, fd, line, sizeof(line)), -1);
    assert_int_equal(f->handled, 0);
    close(fd);
    /* A request of exactly the limit, newline included, is fine. */
    fd = client(f);
    memset(big, 'y', 63);
    big[63] = '\n';
    big[64] = '\0';
    send_str(fd, big);
    assert_true(read_line(f, fd, line, sizeof(line)) > 0);
    assert_non_null(strstr(line, "\"echo\":\"yyy"));
    close(fd);
}

static void test_control_refuses_connections_over_limit(void **state)
{
    struct fixture *f = *state;
    struct wdsmcd_control_limits lim = {.max_conns = 2};
    char line[256];
    start(f, &lim);
    int a = client(f), b = client(f);
    send_str(a, "a\n");
    send_str(b, "b\n");
    assert_true(read_line(f, a, line, sizeof(line)) > 0);
    assert_true(read_line(f, b, line, sizeof(line)) > 0);
    assert_int_equal(wdsmcd_control_connections(f->ctl), 2);
    int c = client(f);
    assert_true(read_line(f, c, line, sizeof(line)) > 0);
    assert_non_null(strstr(line, "\"error\":\"busy\""));
    assert_int_equal(read_line(f, c, line, sizeof(line)), -1);
    close(c);
    /* Closing one makes room again. */
    close(a);
    for (int i = 0; i < 100 && wdsmcd_control_connections(f->ctl) > 1; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT), usleep(1000);
    int d = client(f);
    send_str(d, "d\n");
    assert_true(read_line(f, d, line, sizeof(line)) > 0);
    assert_string_equal(line, "{\"echo\":\"d\"}");
    close(b);
    close(d);
}

static void test_control_closes_idle_connections(void **state)
{
    struct fixture *f = *state;
    struct wdsmcd_control_limits lim = {.idle_ms = 50};
    char line[64];
    start(f, &lim);
    int fd = client(f);
    assert_int_equal(read_line(f, fd, line, sizeof(line)), -1);
    close(fd);
}

static void test_control_drops_peer_that_does_not_read(void **state)
{
    struct fixture *f = *state;
    struct wdsmcd_control_limits lim = {.max_pending = 2 << 20};
    start(f, &lim);
    int fd = client(f);
    /* Each "big" is a 1 MiB response; never read them. */
    for (int i = 0; i < 16; i++)
        send_str(fd, "big\n");
    for (int i = 0; i < 2000 && wdsmcd_control_connections(f->ctl) > 0; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT), usleep(1000);
    assert_int_equal(wdsmcd_control_connections(f->ctl), 0);
    close(fd);
}

static void test_control_refuses_live_socket(void **state)
{
    struct fixture *f = *state;
    struct wdsmcd_control *second = NULL;
    start(f, NULL);
    int r = wdsmcd_control_new(&f->loop, f->path, 0600, NULL, echo_handler, f, &second, f->err,
                               sizeof(f->err));
    assert_int_equal(r, -EADDRINUSE);
    assert_non_null(strstr(f->err, "is wdsmcd already running?"));
    assert_non_null(strstr(f->err, f->path));
    /* The first one still works. */
    char line[64];
    int fd = client(f);
    send_str(fd, "still\n");
    assert_true(read_line(f, fd, line, sizeof(line)) > 0);
    close(fd);
}

static void test_control_replaces_stale_socket(void **state)
{
    struct fixture *f = *state;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(strlen(f->path) < sizeof(sun.sun_path));
    memcpy(sun.sun_path, f->path, strlen(f->path) + 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    close(fd); /* the file stays; nobody listens: stale */
    start(f, NULL);
    char line[64];
    fd = client(f);
    send_str(fd, "fresh\n");
    assert_true(read_line(f, fd, line, sizeof(line)) > 0);
    assert_string_equal(line, "{\"echo\":\"fresh\"}");
    close(fd);
}

static void test_control_refuses_non_socket_path(void **state)
{
    struct fixture *f = *state;
    FILE *fp = fopen(f->path, "w");
    fputs("precious", fp);
    fclose(fp);
    assert_int_equal(wdsmcd_control_new(&f->loop, f->path, 0600, NULL, echo_handler, f, &f->ctl,
                                        f->err, sizeof(f->err)),
                     -EEXIST);
    assert_null(f->ctl);
    assert_non_null(strstr(f->err, "exists and is not a socket"));
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_size, 8); /* untouched */
}

static void test_control_missing_directory_is_explained(void **state)
{
    struct fixture *f = *state;
    snprintf(f->path, sizeof(f->path), "%s/no/such/dir.sock", f->dir);
    assert_true(wdsmcd_control_new(&f->loop, f->path, 0600, NULL, echo_handler, f, &f->ctl, f->err,
                                   sizeof(f->err)) < 0);
    if (!strstr(f->err, "does its directory exist?"))
        fail_msg("got '%s'", f->err);
}

static void test_control_close_removes_socket_and_connections(void **state)
{
    struct fixture *f = *state;
    char line[64];
    start(f, NULL);
    int fd = client(f);
    send_str(fd, "x\n");
    assert_true(read_line(f, fd, line, sizeof(line)) > 0);
    wdsmcd_control_close(f->ctl, on_closed, f);
    f->ctl = NULL;
    assert_int_equal(access(f->path, F_OK), -1);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_true(f->closed);
    assert_int_equal(read_line(f, fd, line, sizeof(line)), -1);
    close(fd);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
            T(test_control_socket_has_mode_0600),
            T(test_control_answers_each_line_in_order),
            T(test_control_answers_after_peer_half_close),
            T(test_control_too_long_request_gets_error_and_close),
            T(test_control_refuses_connections_over_limit),
            T(test_control_closes_idle_connections),
            T(test_control_drops_peer_that_does_not_read),
            T(test_control_refuses_live_socket),
            T(test_control_replaces_stale_socket),
            T(test_control_refuses_non_socket_path),
            T(test_control_missing_directory_is_explained),
            T(test_control_close_removes_socket_and_connections),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
