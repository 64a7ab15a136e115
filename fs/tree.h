/* SPDX-License-Identifier: MIT */
/*
 * The inode table: a fixed tree built at mount and grown by `add`; nodes are
 * never removed, so an inode number stays valid for the life of the mount
 * and lookup counts need no tracking.
 *
 *   /                                  root
 *   NS.../CONTENT                      images (the namespace split on '/')
 *   .wdsfs/status                      JSON status of every image
 *   .wdsfs/add                         write "NAMESPACE CONTENT" to add one
 *   .wdsfs/sessions/NS.../CONTENT      control file per image
 */
#ifndef WDSFS_TREE_H
#define WDSFS_TREE_H

#include <stddef.h>
#include <stdint.h>

#include <fuse_lowlevel.h>

struct wdsfs_image;

enum wdsfs_node_kind {
    WDSFS_NODE_DIR,
    WDSFS_NODE_IMAGE,
    WDSFS_NODE_STATUS,
    WDSFS_NODE_ADD,
    WDSFS_NODE_SESSION,
};

struct wdsfs_node {
    fuse_ino_t ino;
    enum wdsfs_node_kind kind;
    char *name;
    struct wdsfs_node *parent;
    struct wdsfs_node **children;
    size_t nchildren;
    size_t cap;
    struct wdsfs_image *img; /* IMAGE and SESSION nodes */
};

struct wdsfs_tree;

/* A tree with the root and the control directory. Returns 0 or -ENOMEM. */
int wdsfs_tree_new(struct wdsfs_tree **ret);
void wdsfs_tree_free(struct wdsfs_tree *t);

/* The node of an inode number, or NULL. */
struct wdsfs_node *wdsfs_tree_get(const struct wdsfs_tree *t, fuse_ino_t ino);

/* The child `name` of directory `dir`, or NULL. */
struct wdsfs_node *wdsfs_tree_lookup(const struct wdsfs_node *dir, const char *name);

/* Whether NS/CONTENT can be added: 0, -EEXIST (the path or a prefix of it is
 * taken by something else), -ENOSPC (node or directory limit). */
int wdsfs_tree_check(const struct wdsfs_tree *t, const char *ns, const char *content);

/* Add the image's file and its control file. Returns 0 or the errors of
 * wdsfs_tree_check(), -ENOMEM. */
int wdsfs_tree_add(struct wdsfs_tree *t, struct wdsfs_image *img);

/* Number of nodes. */
size_t wdsfs_tree_count(const struct wdsfs_tree *t);

#endif /* WDSFS_TREE_H */
