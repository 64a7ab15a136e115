/* SPDX-License-Identifier: MIT */
/*
 * The low-level operations table. Every request is answered exactly once,
 * here or (reads of missing blocks, writes to `add`) later by image.c and
 * add.c. Errors go through wdsfs_reply_err() (errmap.c).
 *
 * Read-only rules: images, directories and status files refuse every change
 * with EROFS; only `.wdsfs/add` (write) and `.wdsfs/sessions/...` (unlink)
 * accept one, from root or the user who mounted.
 */
#include "ops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "add.h"
#include "errmap.h"
#include "image.h"
#include "log.h"
#include "status.h"
#include "tree.h"
#include "wdsfs.h"

#define ENTRY_TIMEOUT 1.0
#define MAX_ADD_SPECS 16

static const char xattr_names[] = "user.wdsfs.state\0user.wdsfs.progress\0"
                                  "user.wdsfs.received\0user.wdsfs.session\0";

static const char add_usage[] = "Write \"NAMESPACE CONTENT\" or \"NAMESPACE=CONTENT[,CONTENT...]\" "
                                "to this file to add an image.\n";

/* An open file. */
struct wdsfs_fh {
    LIST_ENTRY(wdsfs_fh) link; /* fs->fhs */
    struct wdsfs_node *node;
    struct wdsfs_reader reader; /* images */
    char *text;                 /* status and control files: a snapshot */
    size_t len;
};

static struct wdsfs *fs_of(fuse_req_t req)
{
    return fuse_req_userdata(req);
}

static struct wdsfs_node *node_of(fuse_req_t req, fuse_ino_t ino)
{
    return wdsfs_tree_get(fs_of(req)->tree, ino);
}

static bool privileged(fuse_req_t req)
{
    const struct fuse_ctx *c = fuse_req_ctx(req);
    return c->uid == 0 || c->uid == fs_of(req)->owner;
}

static void fill_attr(struct wdsfs *fs, const struct wdsfs_node *n, struct stat *st)
{
    static time_t mounted;
    if (!mounted)
        mounted = time(NULL);
    memset(st, 0, sizeof(*st));
    st->st_ino = n->ino;
    st->st_uid = fs->owner;
    st->st_gid = getgid();
    /* The preferred I/O size, which cat and cp size their reads by: with
     * 4096 they read 128 KiB at a time, and each read of a complete image
     * walks 32 single-page folios (FUSE's page cache here) and each read
     * of one still arriving is a request of ours. At 1 MiB, cat through
     * the mount read 0.93 of the local file's speed, 0.75 at 4096. */
    st->st_blksize = 1 << 20;
    st->st_atime = st->st_mtime = st->st_ctime = mounted;
    switch (n->kind) {
    case WDSFS_NODE_DIR:
        st->st_mode = S_IFDIR | 0555;
        st->st_nlink = 2;
        break;
    case WDSFS_NODE_IMAGE:
        st->st_mode = S_IFREG | 0444;
        st->st_nlink = 1;
        st->st_size = (off_t)wdsfs_image_size(n->img);
        st->st_blocks = (st->st_size + 511) / 512;
        break;
    case WDSFS_NODE_STATUS:
    case WDSFS_NODE_SESSION:
        st->st_mode = S_IFREG | 0444;
        st->st_nlink = 1;
        break;
    case WDSFS_NODE_ADD:
        st->st_mode = S_IFREG | 0200;
        st->st_nlink = 1;
        break;
    }
}

static double attr_timeout(const struct wdsfs_node *n)
{
    return n->kind == WDSFS_NODE_DIR || n->kind == WDSFS_NODE_IMAGE ? ENTRY_TIMEOUT : 0;
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
    if (conn->capable & FUSE_CAP_SPLICE_WRITE)
        conn->want |= FUSE_CAP_SPLICE_WRITE;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct wdsfs_node *dir = node_of(req, parent);
    struct wdsfs_node *n = dir ? wdsfs_tree_lookup(dir, name) : NULL;
    if (!n) {
        wdsfs_reply_err(req, -ENOENT);
        return;
    }
    struct fuse_entry_param e = {
            .ino = n->ino,
            .generation = 1,
            .attr_timeout = attr_timeout(n),
            .entry_timeout = ENTRY_TIMEOUT,
    };
    fill_attr(fs_of(req), n, &e.attr);
    fuse_reply_entry(req, &e);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
    fuse_reply_none(req); /* nodes live as long as the mount */
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
    fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct wdsfs_node *n = node_of(req, ino);
    if (!n) {
        wdsfs_reply_err(req, -ENOENT);
        return;
    }
    struct stat st;
    fill_attr(fs_of(req), n, &st);
    fuse_reply_attr(req, &st, attr_timeout(n));
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                       struct fuse_file_info *fi)
{
    struct wdsfs_node *n = node_of(req, ino);
    if (!n) {
        wdsfs_reply_err(req, -ENOENT);
        return;
    }
    /* `echo ... > add` truncates first (without atomic O_TRUNC). */
    if (n->kind == WDSFS_NODE_ADD && (to_set & FUSE_SET_ATTR_SIZE) && attr->st_size == 0 &&
        !(to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))) {
        if (!privileged(req)) {
            wdsfs_reply_err(req, -EACCES);
            return;
        }
        struct stat st;
        fill_attr(fs_of(req), n, &st);
        fuse_reply_attr(req, &st, 0);
        return;
    }
    wdsfs_reply_err(req, -EROFS);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
    wdsfs_reply_err(req, -EINVAL);
}

static void op_erofs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                           dev_t rdev)
{
    wdsfs_reply_err(req, -EROFS);
}

static void op_erofs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
    wdsfs_reply_err(req, -EROFS);
}

static void op_erofs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    wdsfs_reply_err(req, -EROFS);
}

static void op_erofs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
    wdsfs_reply_err(req, -EROFS);
}

static void op_erofs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
                            fuse_ino_t newparent, const char *newname, unsigned int flags)
{
    wdsfs_reply_err(req, -EROFS);
}

static void op_erofs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
    wdsfs_reply_err(req, -EROFS);
}

static void op_erofs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                            struct fuse_file_info *fi)
{
    wdsfs_reply_err(req, -EROFS);
}

static void op_erofs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                              size_t size, int flags)
{
    wdsfs_reply_err(req, -EROFS);
}

static void op_erofs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
    wdsfs_reply_err(req, -EROFS);
}

static void op_erofs_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
                               struct fuse_file_info *fi)
{
    wdsfs_reply_err(req, -EROFS);
}

/* Unlinking a session control file cancels that session; the file stays (a
 * later lookup finds it again), so it can be used again. */
static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct wdsfs_node *dir = node_of(req, parent);
    struct wdsfs_node *n = dir ? wdsfs_tree_lookup(dir, name) : NULL;
    if (!n) {
        wdsfs_reply_err(req, -ENOENT);
        return;
    }
    if (n->kind != WDSFS_NODE_SESSION) {
        wdsfs_reply_err(req, n->kind == WDSFS_NODE_DIR ? -EISDIR : -EROFS);
        return;
    }
    if (!privileged(req)) {
        wdsfs_reply_err(req, -EACCES);
        return;
    }
    wdsfs_image_cancel(n->img);
    fuse_reply_err(req, 0);
}

static void fh_free(struct wdsfs_fh *fh)
{
    LIST_REMOVE(fh, link);
    if (fh->node->kind == WDSFS_NODE_IMAGE)
        wdsfs_image_release(fh->node->img, &fh->reader);
    free(fh->text);
    free(fh);
}

void wdsfs_ops_free_handles(struct wdsfs *fs)
{
    struct wdsfs_fh *fh;
    while ((fh = LIST_FIRST(&fs->fhs)))
        fh_free(fh);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct wdsfs *fs = fs_of(req);
    struct wdsfs_node *n = node_of(req, ino);
    if (!n) {
        wdsfs_reply_err(req, -ENOENT);
        return;
    }
    int acc = fi->flags & O_ACCMODE;
    if (n->kind == WDSFS_NODE_DIR) {
        wdsfs_reply_err(req, -EISDIR);
        return;
    }
    if (n->kind == WDSFS_NODE_ADD) {
        if (acc != O_RDONLY && !privileged(req)) {
            wdsfs_reply_err(req, -EACCES);
            return;
        }
    } else if (acc != O_RDONLY || (fi->flags & O_TRUNC)) {
        wdsfs_reply_err(req, -EROFS);
        return;
    }
    struct wdsfs_fh *fh = calloc(1, sizeof(*fh));
    if (!fh) {
        wdsfs_reply_err(req, -ENOMEM);
        return;
    }
    fh->node = n;
    fi->direct_io = 1;
    switch (n->kind) {
    case WDSFS_NODE_IMAGE: {
        bool cached = false;
        wdsfs_image_open(n->img, &fh->reader, &cached);
        /* A complete image is a plain file the kernel may cache; before
         * that, each read must reach us with its own size and flags. */
        fi->direct_io = !cached;
        fi->keep_cache = cached;
        break;
    }
    case WDSFS_NODE_STATUS:
        fh->text = wdsfs_status_json(fs, &fh->len);
        break;
    case WDSFS_NODE_SESSION:
        fh->text = wdsfs_status_text(fs, n->img, &fh->len);
        break;
    case WDSFS_NODE_ADD:
        fh->text = strdup(add_usage);
        fh->len = fh->text ? strlen(fh->text) : 0;
        break;
    case WDSFS_NODE_DIR:
        break;
    }
    if (n->kind != WDSFS_NODE_IMAGE && !fh->text) {
        free(fh);
        wdsfs_reply_err(req, -ENOMEM);
        return;
    }
    fi->fh = (uintptr_t)fh;
    LIST_INSERT_HEAD(&fs->fhs, fh, link);
    if (fuse_reply_open(req, fi) < 0)
        fh_free(fh); /* interrupted: the kernel will not send RELEASE */
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    struct wdsfs_fh *fh = (struct wdsfs_fh *)(uintptr_t)fi->fh;
    if (off < 0) {
        wdsfs_reply_err(req, -EINVAL);
        return;
    }
    if (fh->node->kind == WDSFS_NODE_IMAGE) {
        wdsfs_image_read(fh->node->img, req, &fh->reader, (uint64_t)off, size, fi->flags);
        return;
    }
    if ((uint64_t)off >= fh->len) {
        fuse_reply_buf(req, NULL, 0);
        return;
    }
    size_t n = fh->len - (size_t)off;
    fuse_reply_buf(req, fh->text + off, n < size ? n : size);
}

struct add_req {
    fuse_req_t req;
    size_t size;
};

static void on_added(void *ctx, int err, const char *msg)
{
    struct add_req *a = ctx;
    if (err < 0) {
        wdsfs_log(LOG_ERR, "add: %s", msg ? msg : wdsfs_strerror(err));
        wdsfs_reply_err(a->req, err);
    } else {
        fuse_reply_write(a->req, a->size);
    }
    free(a);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
    struct wdsfs *fs = fs_of(req);
    struct wdsfs_fh *fh = (struct wdsfs_fh *)(uintptr_t)fi->fh;
    if (fh->node->kind != WDSFS_NODE_ADD) {
        wdsfs_reply_err(req, -EROFS);
        return;
    }
    if (size > WDSFS_MAX_ADD) {
        wdsfs_reply_err(req, -EFBIG);
        return;
    }
    if (fs->shutting_down) {
        wdsfs_reply_err(req, -ECANCELED);
        return;
    }
    char text[WDSFS_MAX_ADD + 1];
    memcpy(text, buf, size);
    text[size] = '\0';
    if (memchr(text, '\0', size)) {
        wdsfs_reply_err(req, -EINVAL);
        return;
    }
    struct wdsfs_image_spec specs[MAX_ADD_SPECS];
    size_t n = 0;
    int err = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line && !err;
         line = strtok_r(NULL, "\n", &save)) {
        if (strspn(line, " \t\r") == strlen(line))
            continue;
        int r = wdsfs_spec_parse(line, specs, &n, MAX_ADD_SPECS);
        if (r < 0) {
            wdsfs_log(LOG_ERR, "add: bad line '%s' (want \"NAMESPACE CONTENT\")", line);
            err = r == -E2BIG ? -E2BIG : -EINVAL;
        }
    }
    if (!err) {
        struct add_req *a = malloc(sizeof(*a));
        if (a) {
            a->req = req;
            a->size = size;
            wdsfs_add_images(fs, specs, n, on_added, a);
        } else {
            err = -ENOMEM;
        }
    }
    for (size_t i = 0; i < n; i++) {
        free(specs[i].ns);
        free(specs[i].content);
    }
    if (err)
        wdsfs_reply_err(req, err);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    fuse_reply_err(req, 0);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    fh_free((struct wdsfs_fh *)(uintptr_t)fi->fh);
    fuse_reply_err(req, 0);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct wdsfs_node *n = node_of(req, ino);
    if (!n) {
        wdsfs_reply_err(req, -ENOENT);
        return;
    }
    if (n->kind != WDSFS_NODE_DIR) {
        wdsfs_reply_err(req, -ENOTDIR);
        return;
    }
    if ((fi->flags & O_ACCMODE) != O_RDONLY) {
        wdsfs_reply_err(req, -EROFS);
        return;
    }
    fuse_reply_open(req, fi);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
    struct wdsfs *fs = fs_of(req);
    struct wdsfs_node *n = node_of(req, ino);
    if (!n || n->kind != WDSFS_NODE_DIR) {
        wdsfs_reply_err(req, n ? -ENOTDIR : -ENOENT);
        return;
    }
    char *buf = malloc(size);
    if (!buf) {
        wdsfs_reply_err(req, -ENOMEM);
        return;
    }
    size_t used = 0;
    for (size_t i = (size_t)off; i < n->nchildren + 2; i++) {
        const struct wdsfs_node *c = i == 0 ? n : i == 1 ? n->parent : n->children[i - 2];
        const char *name = i == 0 ? "." : i == 1 ? ".." : c->name;
        struct stat st;
        fill_attr(fs, c, &st);
        size_t need = fuse_add_direntry(req, buf + used, size - used, name, &st, (off_t)(i + 1));
        if (need > size - used)
            break;
        used += need;
    }
    fuse_reply_buf(req, buf, used);
    free(buf);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    fuse_reply_err(req, 0);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
    struct wdsfs *fs = fs_of(req);
    uint64_t total = 0;
    for (size_t i = 0; i < fs->nimages; i++)
        total += wdsfs_image_size(fs->images[i]);
    struct statvfs st = {
            .f_bsize = 4096,
            .f_frsize = 4096,
            .f_blocks = (total + 4095) / 4096,
            .f_files = wdsfs_tree_count(fs->tree),
            .f_namemax = WDSFS_MAX_NAME,
    };
    fuse_reply_statfs(req, &st);
}

static void op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
    struct wdsfs_node *n = node_of(req, ino);
    if (!n) {
        wdsfs_reply_err(req, -ENOENT);
        return;
    }
    if (mask & W_OK) {
        if (n->kind != WDSFS_NODE_ADD) {
            wdsfs_reply_err(req, -EROFS);
            return;
        }
        if (!privileged(req)) {
            wdsfs_reply_err(req, -EACCES);
            return;
        }
    }
    if ((mask & X_OK) && n->kind != WDSFS_NODE_DIR) {
        wdsfs_reply_err(req, -EACCES);
        return;
    }
    fuse_reply_err(req, 0);
}

/* The value of a user.wdsfs.* attribute into buf; its length, or -ENODATA. */
static int xattr_value(const struct wdsfs_image *img, const char *name, char *buf, size_t len)
{
    struct wdsfs_image_status st;
    wdsfs_image_status(img, &st);
    if (!strcmp(name, "user.wdsfs.state"))
        return snprintf(buf, len, "%s", st.state);
    if (!strcmp(name, "user.wdsfs.progress"))
        return snprintf(buf, len, "%u", st.percent);
    if (!strcmp(name, "user.wdsfs.received"))
        return snprintf(buf, len, "%llu", (unsigned long long)st.received);
    if (!strcmp(name, "user.wdsfs.session")) {
        if (!st.has_session)
            return snprintf(buf, len, "none");
        return snprintf(buf, len, "%u", st.session_id);
    }
    return -ENODATA;
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
    struct wdsfs_node *n = node_of(req, ino);
    if (!n) {
        wdsfs_reply_err(req, -ENOENT);
        return;
    }
    char val[64];
    int len = n->kind == WDSFS_NODE_IMAGE ? xattr_value(n->img, name, val, sizeof(val)) : -ENODATA;
    if (len < 0)
        wdsfs_reply_err(req, len);
    else if (size == 0)
        fuse_reply_xattr(req, (size_t)len);
    else if (size < (size_t)len)
        wdsfs_reply_err(req, -ERANGE);
    else
        fuse_reply_buf(req, val, (size_t)len);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
    struct wdsfs_node *n = node_of(req, ino);
    if (!n) {
        wdsfs_reply_err(req, -ENOENT);
        return;
    }
    size_t len = n->kind == WDSFS_NODE_IMAGE ? sizeof(xattr_names) - 1 : 0;
    if (size == 0)
        fuse_reply_xattr(req, len);
    else if (size < len)
        wdsfs_reply_err(req, -ERANGE);
    else
        fuse_reply_buf(req, xattr_names, len);
}

const struct fuse_lowlevel_ops wdsfs_ops = {
        .init = op_init,
        .lookup = op_lookup,
        .forget = op_forget,
        .forget_multi = op_forget_multi,
        .getattr = op_getattr,
        .setattr = op_setattr,
        .readlink = op_readlink,
        .mknod = op_erofs_mknod,
        .mkdir = op_erofs_mkdir,
        .unlink = op_unlink,
        .rmdir = op_erofs_rmdir,
        .symlink = op_erofs_symlink,
        .rename = op_erofs_rename,
        .link = op_erofs_link,
        .open = op_open,
        .read = op_read,
        .write = op_write,
        .flush = op_flush,
        .release = op_release,
        .opendir = op_opendir,
        .readdir = op_readdir,
        .releasedir = op_releasedir,
        .statfs = op_statfs,
        .setxattr = op_erofs_setxattr,
        .getxattr = op_getxattr,
        .listxattr = op_listxattr,
        .removexattr = op_erofs_removexattr,
        .access = op_access,
        .create = op_erofs_create,
        .fallocate = op_erofs_fallocate,
};
