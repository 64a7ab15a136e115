/* SPDX-License-Identifier: MIT */
/* Unit tests of the wdsfs spool: crash-safe ordering, resume, persistence,
 * corruption, free space. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "spool.h"

#define BS   4096u
#define SIZE (10u * BS + 100u) /* 11 blocks, the last one short */
#define KEY  "127.0.0.1:5041\nWDS:Default/install.wim/1\ninstall.wim\n41060"

struct fixture {
    char dir[64];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    strcpy(f->dir, "/tmp/test_spool.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void fill_block(uint8_t *buf, uint64_t block)
{
    for (size_t i = 0; i < BS; i++)
        buf[i] = (uint8_t)(block * 31 + i);
}

static size_t len_of(uint64_t block)
{
    return block == 10 ? 100 : BS;
}

static struct wdsfs_spool *open_spool(const struct fixture *f, struct wdsfs_spool_info *info)
{
    struct wdsfs_spool *sp = NULL;
    assert_int_equal(wdsfs_spool_open(f->dir, KEY, SIZE, BS, &sp, info, NULL, NULL), 0);
    return sp;
}

static void write_block(struct wdsfs_spool *sp, uint64_t block)
{
    uint8_t buf[BS];
    fill_block(buf, block);
    assert_int_equal(wdsfs_spool_write(sp, buf, len_of(block), block * BS), 1);
}

static void test_spool_new_is_empty_and_sparse(void **state)
{
    struct fixture *f = *state;
    struct wdsfs_spool_info info;
    struct wdsfs_spool *sp = open_spool(f, &info);
    assert_false(info.resumed);
    assert_false(info.rejected);
    assert_int_equal(info.present, 0);
    assert_int_equal(wdsfs_spool_nblocks(sp), 11);
    assert_int_equal(wdsfs_spool_first_missing(sp, 0, 10), 0);
    struct stat st;
    assert_int_equal(fstat(wdsfs_spool_fd(sp), &st), 0);
    assert_int_equal(st.st_size, SIZE);
    assert_int_equal(wdsfs_spool_close(sp), 0);
}

static void test_spool_write_marks_after_data_is_readable(void **state)
{
    struct fixture *f = *state;
    struct wdsfs_spool *sp = open_spool(f, NULL);
    write_block(sp, 3);
    write_block(sp, 10);
    assert_true(wdsfs_spool_has(sp, 3));
    assert_true(wdsfs_spool_has(sp, 10));
    assert_false(wdsfs_spool_has(sp, 4));
    assert_int_equal(wdsfs_spool_first_missing(sp, 3, 3), UINT64_MAX);
    assert_int_equal(wdsfs_spool_first_missing(sp, 3, 5), 4);
    assert_int_equal(wdsfs_spool_bytes(sp), BS + 100);
    uint8_t want[BS], got[BS];
    fill_block(want, 3);
    assert_int_equal(pread(wdsfs_spool_fd(sp), got, BS, 3 * BS), BS);
    assert_memory_equal(want, got, BS);
    /* A second copy of a block is not written again. */
    assert_int_equal(wdsfs_spool_write(sp, want, BS, 3 * BS), 0);
    assert_int_equal(wdsfs_spool_present(sp), 2);
    wdsfs_spool_close(sp);
}

static void test_spool_rejects_misaligned_or_missized_block(void **state)
{
    struct fixture *f = *state;
    struct wdsfs_spool *sp = open_spool(f, NULL);
    uint8_t buf[BS] = {0};
    assert_int_equal(wdsfs_spool_write(sp, buf, BS, 1), -EINVAL);
    assert_int_equal(wdsfs_spool_write(sp, buf, BS - 1, 0), -EINVAL);
    assert_int_equal(wdsfs_spool_write(sp, buf, BS, 10 * BS), -EINVAL); /* last is short */
    assert_int_equal(wdsfs_spool_write(sp, buf, BS, 11 * BS), -EINVAL);
    assert_int_equal(wdsfs_spool_present(sp), 0);
    wdsfs_spool_close(sp);
}

static void test_spool_resumes_after_close(void **state)
{
    struct fixture *f = *state;
    struct wdsfs_spool *sp = open_spool(f, NULL);
    write_block(sp, 0);
    write_block(sp, 7);
    write_block(sp, 10);
    assert_int_equal(wdsfs_spool_close(sp), 0);

    struct wdsfs_spool_info info;
    sp = open_spool(f, &info);
    assert_true(info.resumed);
    assert_int_equal(info.present, 3);
    assert_true(wdsfs_spool_has(sp, 0));
    assert_true(wdsfs_spool_has(sp, 7));
    assert_true(wdsfs_spool_has(sp, 10));
    assert_false(wdsfs_spool_has(sp, 1));
    /* The bits are in the preset layout: bit i of byte i/8, LSB first. */
    const uint8_t *bits = wdsfs_spool_bits(sp);
    assert_int_equal(bits[0], 0x81);
    assert_int_equal(bits[1], 0x04);
    for (uint64_t b = 0; b < 11; b++)
        if (!wdsfs_spool_has(sp, b))
            write_block(sp, b);
    assert_true(wdsfs_spool_complete(sp));
    assert_int_equal(wdsfs_spool_bytes(sp), SIZE);
    wdsfs_spool_close(sp);
}

/* A crash after pwrite but before a commit must not leave the block marked,
 * and blocks committed before the crash must survive it. */
static void test_spool_crash_before_commit_keeps_only_committed_blocks(void **state)
{
    struct fixture *f = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct wdsfs_spool *sp = NULL;
        if (wdsfs_spool_open(f->dir, KEY, SIZE, BS, &sp, NULL, NULL, NULL) < 0)
            _exit(2);
        uint8_t buf[BS];
        fill_block(buf, 1);
        if (wdsfs_spool_write(sp, buf, BS, 1 * BS) != 1 || wdsfs_spool_flush(sp) != 0)
            _exit(3);
        fill_block(buf, 2);
        if (wdsfs_spool_write(sp, buf, BS, 2 * BS) != 1)
            _exit(4);
        _exit(0); /* "crash": no commit, no close */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    struct wdsfs_spool_info info;
    struct wdsfs_spool *sp = open_spool(f, &info);
    assert_true(info.resumed);
    assert_true(wdsfs_spool_has(sp, 1));
    assert_false(wdsfs_spool_has(sp, 2));
    assert_int_equal(wdsfs_spool_present(sp), 1);
    wdsfs_spool_close(sp);
}

struct trace {
    enum wdsfs_spool_step steps[8];
    int n;
    const char *bitmap_path;
    bool bitmap_existed_at_sync;
};

static void record(void *ctx, enum wdsfs_spool_step step)
{
    struct trace *t = ctx;
    if (step == WDSFS_SPOOL_STEP_DATA_SYNCED)
        t->bitmap_existed_at_sync = access(t->bitmap_path, F_OK) == 0;
    if (t->n < 8)
        t->steps[t->n++] = step;
}

static void test_spool_commit_syncs_data_before_replacing_bitmap(void **state)
{
    struct fixture *f = *state;
    struct wdsfs_spool *sp = open_spool(f, NULL);
    struct trace t = {.bitmap_path = wdsfs_spool_bitmap_path(sp)};
    wdsfs_spool_set_trace(sp, record, &t);
    write_block(sp, 5);
    assert_true(wdsfs_spool_dirty(sp));
    assert_int_equal(wdsfs_spool_flush(sp), 0);
    assert_false(wdsfs_spool_dirty(sp));
    assert_int_equal(t.n, 3);
    assert_int_equal(t.steps[0], WDSFS_SPOOL_STEP_DATA_SYNCED);
    assert_int_equal(t.steps[1], WDSFS_SPOOL_STEP_BITMAP_WRITTEN);
    assert_int_equal(t.steps[2], WDSFS_SPOOL_STEP_BITMAP_RENAMED);
    /* No bitmap naming block 5 existed when the data was synced. */
    assert_false(t.bitmap_existed_at_sync);
    wdsfs_spool_close(sp);
}

/* The asynchronous form: blocks written after the snapshot are not in it. */
static void test_spool_snapshot_excludes_later_blocks(void **state)
{
    struct fixture *f = *state;
    struct wdsfs_spool *sp = open_spool(f, NULL);
    write_block(sp, 0);
    struct wdsfs_spool_snapshot *snap;
    assert_int_equal(wdsfs_spool_snapshot(sp, &snap), 0);
    write_block(sp, 1);
    assert_int_equal(wdsfs_spool_commit(snap), 0);
    wdsfs_spool_snapshot_free(snap);
    assert_true(wdsfs_spool_dirty(sp));

    /* Read the committed file as a crash would leave it. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct wdsfs_spool *sp2 = NULL;
        if (wdsfs_spool_open(f->dir, KEY, SIZE, BS, &sp2, NULL, NULL, NULL) < 0)
            _exit(2);
        _exit(wdsfs_spool_has(sp2, 0) && !wdsfs_spool_has(sp2, 1) ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(WEXITSTATUS(status), 0);
    wdsfs_spool_close(sp);
}

static void corrupt_byte(const char *path, off_t off)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, off), 1);
    b ^= 0x10;
    assert_int_equal(pwrite(fd, &b, 1, off), 1);
    close(fd);
}

static void test_spool_rejects_corrupted_bitmap(void **state)
{
    struct fixture *f = *state;
    struct wdsfs_spool *sp = open_spool(f, NULL);
    write_block(sp, 2);
    char path[256];
    snprintf(path, sizeof(path), "%s", wdsfs_spool_bitmap_path(sp));
    assert_int_equal(wdsfs_spool_close(sp), 0);

    /* A flipped bit anywhere (header or bits) fails the checksum. */
    for (off_t off = 0; off < 60; off += 7) {
        corrupt_byte(path, off);
        struct wdsfs_spool_info info;
        sp = open_spool(f, &info);
        assert_true(info.rejected);
        assert_false(info.resumed);
        assert_int_equal(wdsfs_spool_present(sp), 0);
        wdsfs_spool_close(sp); /* not dirty: the bad file stays */
        corrupt_byte(path, off);
        sp = open_spool(f, &info);
        assert_true(info.resumed);
        assert_int_equal(wdsfs_spool_present(sp), 1);
        wdsfs_spool_close(sp);
    }

    /* A truncated file is rejected too. */
    assert_int_equal(truncate(path, 20), 0);
    struct wdsfs_spool_info info;
    sp = open_spool(f, &info);
    assert_true(info.rejected);
    assert_int_equal(wdsfs_spool_present(sp), 0);
    wdsfs_spool_close(sp);
}

static void test_spool_bitmap_without_its_data_file_is_ignored(void **state)
{
    struct fixture *f = *state;
    struct wdsfs_spool *sp = open_spool(f, NULL);
    write_block(sp, 2);
    char data[256];
    snprintf(data, sizeof(data), "%s", wdsfs_spool_data_path(sp));
    wdsfs_spool_close(sp);
    assert_int_equal(unlink(data), 0);
    struct wdsfs_spool_info info;
    sp = open_spool(f, &info);
    assert_false(info.resumed);
    assert_int_equal(wdsfs_spool_present(sp), 0);
    wdsfs_spool_close(sp);
}

static void test_spool_changed_content_is_not_mixed(void **state)
{
    struct fixture *f = *state;
    struct wdsfs_spool *sp = open_spool(f, NULL);
    write_block(sp, 2);
    char first[256];
    snprintf(first, sizeof(first), "%s", wdsfs_spool_data_path(sp));
    wdsfs_spool_close(sp);

    /* Same names, another size: another key, another file. */
    struct wdsfs_spool_info info;
    assert_int_equal(wdsfs_spool_open(f->dir, KEY "0", SIZE * 10, BS, &sp, &info, NULL, NULL), 0);
    assert_false(info.resumed);
    assert_string_not_equal(wdsfs_spool_data_path(sp), first);
    assert_int_equal(wdsfs_spool_present(sp), 0);
    wdsfs_spool_close(sp);

    /* Same key, other block size: cannot be translated, start afresh. */
    assert_int_equal(wdsfs_spool_open(f->dir, KEY, SIZE, BS / 2, &sp, &info, NULL, NULL), 0);
    assert_false(info.resumed);
    assert_false(info.rejected);
    assert_int_equal(wdsfs_spool_present(sp), 0);
    wdsfs_spool_close(sp);
}

static void test_spool_refuses_content_larger_than_free_space(void **state)
{
    struct fixture *f = *state;
    struct wdsfs_spool *sp = NULL;
    uint64_t need = 0, avail = 0;
    uint64_t huge = (uint64_t)1 << 50; /* 1 PiB */
    assert_int_equal(wdsfs_spool_open(f->dir, KEY, huge, 1u << 30, &sp, NULL, &need, &avail),
                     -ENOSPC);
    assert_null(sp);
    assert_true(need >= huge);
    assert_true(avail < need);
}

static void test_spool_reset_forgets_blocks(void **state)
{
    struct fixture *f = *state;
    struct wdsfs_spool *sp = open_spool(f, NULL);
    write_block(sp, 2);
    assert_int_equal(wdsfs_spool_reset(sp, BS * 2), 0);
    assert_int_equal(wdsfs_spool_present(sp), 0);
    assert_int_equal(wdsfs_spool_nblocks(sp), 6);
    assert_int_equal(wdsfs_spool_block_size(sp), BS * 2);
    wdsfs_spool_close(sp);
}

static void test_spool_rejects_bad_arguments(void **state)
{
    struct fixture *f = *state;
    struct wdsfs_spool *sp = NULL;
    assert_int_equal(wdsfs_spool_open(f->dir, KEY, SIZE, 0, &sp, NULL, NULL, NULL), -EINVAL);
    assert_int_equal(wdsfs_spool_open(f->dir, KEY, (uint64_t)1 << 40, 1, &sp, NULL, NULL, NULL),
                     -EFBIG);
    char longkey[WDSFS_SPOOL_KEY_MAX + 2];
    memset(longkey, 'k', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    assert_int_equal(wdsfs_spool_open(f->dir, longkey, SIZE, BS, &sp, NULL, NULL, NULL), -EINVAL);
}

static void test_crc32_matches_zlib(void **state)
{
    (void)state;
    assert_int_equal(wdsfs_crc32(0, "123456789", 9), 0xCBF43926u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_spool_new_is_empty_and_sparse, setup, teardown),
            cmocka_unit_test_setup_teardown(test_spool_write_marks_after_data_is_readable, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_spool_rejects_misaligned_or_missized_block, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_spool_resumes_after_close, setup, teardown),
            cmocka_unit_test_setup_teardown(
                    test_spool_crash_before_commit_keeps_only_committed_blocks, setup, teardown),
            cmocka_unit_test_setup_teardown(test_spool_commit_syncs_data_before_replacing_bitmap,
                                            setup, teardown),
            cmocka_unit_test_setup_teardown(test_spool_snapshot_excludes_later_blocks, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_spool_rejects_corrupted_bitmap, setup, teardown),
            cmocka_unit_test_setup_teardown(test_spool_bitmap_without_its_data_file_is_ignored,
                                            setup, teardown),
            cmocka_unit_test_setup_teardown(test_spool_changed_content_is_not_mixed, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_spool_refuses_content_larger_than_free_space,
                                            setup, teardown),
            cmocka_unit_test_setup_teardown(test_spool_reset_forgets_blocks, setup, teardown),
            cmocka_unit_test_setup_teardown(test_spool_rejects_bad_arguments, setup, teardown),
            cmocka_unit_test(test_crc32_matches_zlib),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
