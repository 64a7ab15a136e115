/* SPDX-License-Identifier: MIT */
/*
 * Test reader for wdsfs integration tests.
 *
 *   randread SRC FILE COUNT SEED [MAXLEN]
 *       COUNT reads at random offsets and lengths (pread), each compared
 *       with the same bytes of SRC. Exit 0 when all match.
 *   randread --once FILE OFF LEN [--nonblock]
 *       one read; prints "ok BYTES" or "err ENAME" (a SIGINT handler without
 *       SA_RESTART lets EINTR through). Exit 0 on success, 1 on error.
 *   randread --scan SRC FILE BS
 *       reads every block; prints "ok=N eio=M other=K" and checks that every
 *       block read matches SRC. Exit 0 unless a block differs.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void on_sigint(int sig)
{
    (void)sig;
}

static int open_or_die(const char *path, int flags)
{
    int fd = open(path, flags);
    if (fd < 0) {
        fprintf(stderr, "randread: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    return fd;
}

static int once(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL); /* no SA_RESTART */
    int flags = O_RDONLY;
    if (argc > 5 && strcmp(argv[5], "--nonblock") == 0)
        flags |= O_NONBLOCK;
    int fd = open_or_die(argv[2], flags);
    size_t len = strtoull(argv[4], NULL, 0);
    char *buf = malloc(len ? len : 1);
    ssize_t r = pread(fd, buf, len, (off_t)strtoull(argv[3], NULL, 0));
    int e = errno;
    free(buf);
    close(fd);
    if (r < 0) {
        printf("err %s\n", strerrorname_np(e));
        return 1;
    }
    printf("ok %zd\n", r);
    return 0;
}

static int scan(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    int sfd = open_or_die(argv[2], O_RDONLY), fd = open_or_die(argv[3], O_RDONLY);
    size_t bs = strtoull(argv[4], NULL, 0);
    struct stat st;
    fstat(sfd, &st);
    char *a = malloc(bs), *b = malloc(bs);
    unsigned long ok = 0, eio = 0, other = 0;
    int bad = 0;
    for (off_t off = 0; off < st.st_size; off += (off_t)bs) {
        ssize_t r = pread(fd, b, bs, off);
        if (r < 0) {
            if (errno == EIO)
                eio++;
            else
                other++;
            continue;
        }
        ssize_t w = pread(sfd, a, bs, off);
        if (r != w || memcmp(a, b, (size_t)r) != 0) {
            fprintf(stderr, "randread: block at %lld differs\n", (long long)off);
            bad = 1;
        }
        ok++;
    }
    printf("ok=%lu eio=%lu other=%lu\n", ok, eio, other);
    free(a);
    free(b);
    close(fd);
    close(sfd);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--once") == 0)
        return once(argc, argv);
    if (argc > 1 && strcmp(argv[1], "--scan") == 0)
        return scan(argc, argv);
    if (argc < 5) {
        fprintf(stderr, "usage: randread SRC FILE COUNT SEED [MAXLEN]\n");
        return 2;
    }
    int sfd = open_or_die(argv[1], O_RDONLY), fd = open_or_die(argv[2], O_RDONLY);
    unsigned long count = strtoul(argv[3], NULL, 0);
    srandom((unsigned)strtoul(argv[4], NULL, 0));
    size_t maxlen = argc > 5 ? strtoull(argv[5], NULL, 0) : 300000;
    struct stat st;
    fstat(sfd, &st);
    char *a = malloc(maxlen), *b = malloc(maxlen);
    int rc = 0;
    for (unsigned long i = 0; i < count && rc == 0; i++) {
        off_t off = (off_t)(((uint64_t)random() << 31 | (uint64_t)random()) %
                            (uint64_t)(st.st_size + 1));
        size_t len = (size_t)random() % maxlen + 1;
        ssize_t w = pread(sfd, a, len, off);
        ssize_t r = pread(fd, b, len, off);
        if (r < 0) {
            fprintf(stderr, "randread: read %zu at %lld: %s\n", len, (long long)off,
                    strerror(errno));
            rc = 1;
            break;
        }
        if (r != w || memcmp(a, b, (size_t)r) != 0) {
            fprintf(stderr, "randread: read %zu at %lld: got %zd bytes, want %zd, or differs\n",
                    len, (long long)off, r, w);
            rc = 1;
        }
    }
    free(a);
    free(b);
    close(fd);
    close(sfd);
    if (rc == 0)
        printf("%lu reads ok\n", count);
    return rc;
}
