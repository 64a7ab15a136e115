/* SPDX-License-Identifier: MIT */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define BITMAP_MAGIC   "WDSFSBM\0"
#define BITMAP_VERSION 1u
/* magic, version, block size, content size, block count, key length */
#define HEADER_SIZE (8 + 4 + 4 + 8 + 8 + 4)
/* Room kept free beyond the missing data, for the bitmap and metadata. */
#define SPACE_MARGIN ((uint64_t)16 << 20)

struct wdsfs_spool {
    int data_fd;
    char *data_path;
    char *bitmap_path;
    char *dir;
    char *key;
    uint64_t content_size;
    uint32_t block_size;
    uint64_t nbits;
    uint64_t nset;
    uint8_t *bits; /* ceil(nbits / 8) bytes, at least 1 allocated */
    bool dirty;
    void (*trace)(void *ctx, enum wdsfs_spool_step);
    void *trace_ctx;
};

struct wdsfs_spool_snapshot {
    int data_fd; /* borrowed from the spool */
    char *dir;   /* copies: the spool may change while we commit */
    char *bitmap_path;
    uint8_t *file; /* the whole bitmap file, checksum included */
    size_t file_len;
    void (*trace)(void *ctx, enum wdsfs_spool_step);
    void *trace_ctx;
};

uint32_t wdsfs_crc32(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t fnv1a64(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) {
        h ^= (uint8_t)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

static size_t bits_len(uint64_t nbits)
{
    return (size_t)((nbits + 7) / 8);
}

static uint64_t popcount_bytes(const uint8_t *b, size_t n)
{
    uint64_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += (uint64_t)__builtin_popcount(b[i]);
    return c;
}

static int mkdir_p(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(buf))
        return -ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(buf, 0700) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static int read_full(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t r = read(fd, p, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return -EIO;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t r = write(fd, p, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

/* Serialise the bitmap file: header, key, bits, CRC-32. */
static int build_file(const struct wdsfs_spool *sp, uint8_t **ret, size_t *ret_len)
{
    size_t klen = strlen(sp->key);
    size_t blen = bits_len(sp->nbits);
    size_t len = HEADER_SIZE + klen + blen + 4;
    uint8_t *f = malloc(len);
    if (!f)
        return -ENOMEM;
    memcpy(f, BITMAP_MAGIC, 8);
    put_le32(f + 8, BITMAP_VERSION);
    put_le32(f + 12, sp->block_size);
    put_le64(f + 16, sp->content_size);
    put_le64(f + 24, sp->nbits);
    put_le32(f + 32, (uint32_t)klen);
    memcpy(f + HEADER_SIZE, sp->key, klen);
    memcpy(f + HEADER_SIZE + klen, sp->bits, blen);
    put_le32(f + len - 4, wdsfs_crc32(0, f, len - 4));
    *ret = f;
    *ret_len = len;
    return 0;
}

/*
 * Load the bitmap file into sp->bits. Returns 1 when loaded, 0 when there is
 * none or it is for another geometry (not an error), -EBADMSG when it is
 * corrupt, or another negative errno.
 */
static int load_bitmap(struct wdsfs_spool *sp)
{
    int fd = open(sp->bitmap_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    struct stat st;
    int r = 0;
    uint8_t *f = NULL;
    size_t klen = strlen(sp->key);
    size_t blen = bits_len(sp->nbits);
    if (fstat(fd, &st) < 0) {
        r = -errno;
        goto out;
    }
    if (st.st_size < HEADER_SIZE + 4 ||
        (uint64_t)st.st_size > HEADER_SIZE + 4 + klen + blen + WDSFS_SPOOL_KEY_MAX) {
        r = -EBADMSG;
        goto out;
    }
    f = malloc((size_t)st.st_size);
    if (!f) {
        r = -ENOMEM;
        goto out;
    }
    r = read_full(fd, f, (size_t)st.st_size);
    if (r < 0)
        goto out;
    size_t len = (size_t)st.st_size;
    if (memcmp(f, BITMAP_MAGIC, 8) != 0 || get_le32(f + len - 4) != wdsfs_crc32(0, f, len - 4)) {
        r = -EBADMSG;
        goto out;
    }
    if (get_le32(f + 8) != BITMAP_VERSION) {
        r = -EBADMSG;
        goto out;
    }
    uint32_t fklen = get_le32(f + 32);
    if (fklen != klen || memcmp(f + HEADER_SIZE, sp->key, klen) != 0 ||
        get_le64(f + 16) != sp->content_size) {
        r = 0; /* another content with the same hash: start afresh */
        goto out;
    }
    if (get_le32(f + 12) != sp->block_size || get_le64(f + 24) != sp->nbits) {
        r = 0; /* another block size: cannot be translated safely */
        goto out;
    }
    if (len != HEADER_SIZE + klen + blen + 4) {
        r = -EBADMSG;
        goto out;
    }
    const uint8_t *bits = f + HEADER_SIZE + klen;
    if (sp->nbits % 8 != 0 && (bits[blen - 1] >> (sp->nbits % 8)) != 0) {
        r = -EBADMSG; /* padding bits must be zero */
        goto out;
    }
    memcpy(sp->bits, bits, blen);
    sp->nset = popcount_bytes(sp->bits, blen);
    r = 1;
out:
    free(f);
    close(fd);
    return r;
}

static int alloc_bits(struct wdsfs_spool *sp, uint32_t block_size)
{
    if (block_size == 0)
        return -EINVAL;
    uint64_t nbits = sp->content_size / block_size + (sp->content_size % block_size != 0);
    if (nbits > WDSFS_SPOOL_MAX_BLOCKS)
        return -EFBIG;
    uint8_t *bits = calloc(1, bits_len(nbits) ? bits_len(nbits) : 1);
    if (!bits)
        return -ENOMEM;
    free(sp->bits);
    sp->bits = bits;
    sp->nbits = nbits;
    sp->nset = 0;
    sp->block_size = block_size;
    return 0;
}

static int check_space(int data_fd, const char *dir, uint64_t content_size, uint64_t *ret_need,
                       uint64_t *ret_avail)
{
    struct stat st;
    struct statvfs vfs;
    if (fstat(data_fd, &st) < 0 || statvfs(dir, &vfs) < 0)
        return -errno;
    /* What the data file has not allocated yet is what it can still grow by;
     * blocks written but not yet marked are counted as allocated. */
    uint64_t allocated = (uint64_t)st.st_blocks * 512;
    uint64_t need = content_size > allocated ? content_size - allocated : 0;
    uint64_t avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    if (need > 0)
        need += SPACE_MARGIN;
    if (ret_need)
        *ret_need = need;
    if (ret_avail)
        *ret_avail = avail;
    return need > avail ? -ENOSPC : 0;
}

int wdsfs_spool_open(const char *dir, const char *key, uint64_t content_size, uint32_t block_size,
                     struct wdsfs_spool **ret, struct wdsfs_spool_info *ret_info,
                     uint64_t *ret_need, uint64_t *ret_avail)
{
    if (!dir || !key || block_size == 0 || strlen(key) > WDSFS_SPOOL_KEY_MAX)
        return -EINVAL;
    if (content_size / block_size + (content_size % block_size != 0) > WDSFS_SPOOL_MAX_BLOCKS)
        return -EFBIG;
    int r = mkdir_p(dir);
    if (r < 0)
        return r;

    struct wdsfs_spool *sp = calloc(1, sizeof(*sp));
    if (!sp)
        return -ENOMEM;
    sp->data_fd = -1;
    sp->content_size = content_size;
    uint64_t h = fnv1a64(key);
    if (asprintf(&sp->data_path, "%s/%016llx.data", dir, (unsigned long long)h) < 0)
        sp->data_path = NULL;
    if (asprintf(&sp->bitmap_path, "%s/%016llx.bitmap", dir, (unsigned long long)h) < 0)
        sp->bitmap_path = NULL;
    sp->dir = strdup(dir);
    sp->key = strdup(key);
    if (!sp->data_path || !sp->bitmap_path || !sp->dir || !sp->key) {
        r = -ENOMEM;
        goto fail;
    }

    /* A bitmap is only trusted together with the data file it describes: a
     * data file that is new or of another size invalidates it. */
    bool data_existed = true;
    sp->data_fd = open(sp->data_path, O_RDWR | O_CLOEXEC);
    if (sp->data_fd < 0 && errno == ENOENT) {
        data_existed = false;
        sp->data_fd = open(sp->data_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    }
    if (sp->data_fd < 0) {
        r = -errno;
        goto fail;
    }
    struct stat st;
    if (fstat(sp->data_fd, &st) < 0) {
        r = -errno;
        goto fail;
    }
    if ((uint64_t)st.st_size != content_size)
        data_existed = false;

    r = check_space(sp->data_fd, dir, content_size, ret_need, ret_avail);
    if (r < 0)
        goto fail;
    if ((uint64_t)st.st_size != content_size && ftruncate(sp->data_fd, (off_t)content_size) < 0) {
        r = -errno;
        goto fail;
    }
    r = alloc_bits(sp, block_size);
    if (r < 0)
        goto fail;

    struct wdsfs_spool_info info = {0};
    if (data_existed) {
        r = load_bitmap(sp);
        if (r == -EBADMSG) {
            info.rejected = true;
        } else if (r < 0) {
            goto fail;
        } else if (r == 1) {
            info.resumed = true;
        }
    } else {
        /* Remove a stale bitmap now, so a crash before our first commit
         * cannot pair it with the new data file. */
        if (unlink(sp->bitmap_path) < 0 && errno != ENOENT) {
            r = -errno;
            goto fail;
        }
    }
    if (!info.resumed) {
        memset(sp->bits, 0, bits_len(sp->nbits));
        sp->nset = 0;
    }
    info.present = sp->nset;
    if (ret_info)
        *ret_info = info;
    *ret = sp;
    return 0;
fail:
    if (sp->data_fd >= 0)
        close(sp->data_fd);
    free(sp->data_path);
    free(sp->bitmap_path);
    free(sp->dir);
    free(sp->key);
    free(sp->bits);
    free(sp);
    return r;
}

int wdsfs_spool_close(struct wdsfs_spool *sp)
{
    if (!sp)
        return 0;
    int r = sp->dirty ? wdsfs_spool_flush(sp) : 0;
    close(sp->data_fd);
    free(sp->data_path);
    free(sp->bitmap_path);
    free(sp->dir);
    free(sp->key);
    free(sp->bits);
    free(sp);
    return r;
}

static uint64_t block_len(const struct wdsfs_spool *sp, uint64_t block)
{
    uint64_t off = block * sp->block_size;
    uint64_t left = sp->content_size - off;
    return left < sp->block_size ? left : sp->block_size;
}

int wdsfs_spool_write(struct wdsfs_spool *sp, const void *buf, size_t len, uint64_t offset)
{
    if (offset % sp->block_size != 0 || offset >= sp->content_size)
        return -EINVAL;
    uint64_t block = offset / sp->block_size;
    if (len != block_len(sp, block))
        return -EINVAL;
    if (wdsfs_spool_has(sp, block))
        return 0;
    const uint8_t *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t w = pwrite(sp->data_fd, p + done, len - done, (off_t)(offset + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        if (w == 0)
            return -EIO;
        done += (size_t)w;
    }
    /* Only now that the data is in the file may the block count as
     * received. */
    sp->bits[block / 8] |= (uint8_t)(1u << (block % 8));
    sp->nset++;
    sp->dirty = true;
    return 1;
}

bool wdsfs_spool_has(const struct wdsfs_spool *sp, uint64_t block)
{
    return block < sp->nbits && (sp->bits[block / 8] >> (block % 8)) & 1u;
}

uint64_t wdsfs_spool_first_missing(const struct wdsfs_spool *sp, uint64_t first, uint64_t last)
{
    if (sp->nbits == 0)
        return UINT64_MAX;
    if (last >= sp->nbits)
        last = sp->nbits - 1;
    for (uint64_t b = first; b <= last && b < sp->nbits;) {
        if (b % 8 == 0 && b + 7 <= last && sp->bits[b / 8] == 0xff) {
            b += 8;
            continue;
        }
        if (!wdsfs_spool_has(sp, b))
            return b;
        b++;
    }
    return UINT64_MAX;
}

uint64_t wdsfs_spool_present(const struct wdsfs_spool *sp)
{
    return sp->nset;
}

uint64_t wdsfs_spool_nblocks(const struct wdsfs_spool *sp)
{
    return sp->nbits;
}

uint64_t wdsfs_spool_bytes(const struct wdsfs_spool *sp)
{
    uint64_t bytes = sp->nset * sp->block_size;
    if (sp->nbits > 0 && wdsfs_spool_has(sp, sp->nbits - 1))
        bytes -= sp->block_size - block_len(sp, sp->nbits - 1);
    return bytes;
}

bool wdsfs_spool_complete(const struct wdsfs_spool *sp)
{
    return sp->nset == sp->nbits;
}

uint32_t wdsfs_spool_block_size(const struct wdsfs_spool *sp)
{
    return sp->block_size;
}

const uint8_t *wdsfs_spool_bits(const struct wdsfs_spool *sp)
{
    return sp->bits;
}

int wdsfs_spool_fd(const struct wdsfs_spool *sp)
{
    return sp->data_fd;
}

bool wdsfs_spool_dirty(const struct wdsfs_spool *sp)
{
    return sp->dirty;
}

void wdsfs_spool_mark_dirty(struct wdsfs_spool *sp)
{
    sp->dirty = true;
}

int wdsfs_spool_reset(struct wdsfs_spool *sp, uint32_t block_size)
{
    int r = alloc_bits(sp, block_size);
    if (r < 0)
        return r;
    sp->dirty = true;
    return 0;
}

void wdsfs_spool_set_trace(struct wdsfs_spool *sp, void (*trace)(void *ctx, enum wdsfs_spool_step),
                           void *ctx)
{
    sp->trace = trace;
    sp->trace_ctx = ctx;
}

const char *wdsfs_spool_data_path(const struct wdsfs_spool *sp)
{
    return sp->data_path;
}

const char *wdsfs_spool_bitmap_path(const struct wdsfs_spool *sp)
{
    return sp->bitmap_path;
}

void wdsfs_spool_snapshot_free(struct wdsfs_spool_snapshot *snap)
{
    if (!snap)
        return;
    free(snap->dir);
    free(snap->bitmap_path);
    free(snap->file);
    free(snap);
}

int wdsfs_spool_snapshot(struct wdsfs_spool *sp, struct wdsfs_spool_snapshot **ret)
{
    struct wdsfs_spool_snapshot *snap = calloc(1, sizeof(*snap));
    if (!snap)
        return -ENOMEM;
    snap->data_fd = sp->data_fd;
    snap->dir = strdup(sp->dir);
    snap->bitmap_path = strdup(sp->bitmap_path);
    snap->trace = sp->trace;
    snap->trace_ctx = sp->trace_ctx;
    int r = (!snap->dir || !snap->bitmap_path) ? -ENOMEM
                                               : build_file(sp, &snap->file, &snap->file_len);
    if (r < 0) {
        wdsfs_spool_snapshot_free(snap);
        return r;
    }
    sp->dirty = false;
    *ret = snap;
    return 0;
}

int wdsfs_spool_commit(struct wdsfs_spool_snapshot *snap)
{
    /* Every block marked in the snapshot was pwritten before the snapshot was
     * taken, so syncing the data now makes all of them durable before the
     * bitmap that names them can be. */
    if (fdatasync(snap->data_fd) < 0)
        return -errno;
    if (snap->trace)
        snap->trace(snap->trace_ctx, WDSFS_SPOOL_STEP_DATA_SYNCED);

    char tmp[4200];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", snap->bitmap_path) >= sizeof(tmp))
        return -ENAMETOOLONG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int r = write_full(fd, snap->file, snap->file_len);
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    close(fd);
    if (r < 0) {
        unlink(tmp);
        return r;
    }
    if (snap->trace)
        snap->trace(snap->trace_ctx, WDSFS_SPOOL_STEP_BITMAP_WRITTEN);
    if (rename(tmp, snap->bitmap_path) < 0) {
        r = -errno;
        unlink(tmp);
        return r;
    }
    int dfd = open(snap->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    if (snap->trace)
        snap->trace(snap->trace_ctx, WDSFS_SPOOL_STEP_BITMAP_RENAMED);
    return 0;
}

int wdsfs_spool_flush(struct wdsfs_spool *sp)
{
    struct wdsfs_spool_snapshot *snap;
    int r = wdsfs_spool_snapshot(sp, &snap);
    if (r < 0)
        return r;
    r = wdsfs_spool_commit(snap);
    wdsfs_spool_snapshot_free(snap);
    if (r < 0)
        sp->dirty = true;
    return r;
}
