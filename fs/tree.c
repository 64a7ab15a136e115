/* SPDX-License-Identifier: MIT */
#include "tree.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "wdsfs.h"

struct wdsfs_tree {
    struct wdsfs_node **nodes; /* nodes[ino - 1] */
    size_t n;
    size_t cap;
    struct wdsfs_node *root;
    struct wdsfs_node *sessions;
};

static struct wdsfs_node *node_new(struct wdsfs_tree *t, struct wdsfs_node *parent,
                                   const char *name, enum wdsfs_node_kind kind)
{
    if (t->n >= WDSFS_MAX_NODES || (parent && parent->nchildren >= WDSFS_MAX_CHILDREN))
        return NULL;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct wdsfs_node **nodes = realloc(t->nodes, cap * sizeof(*nodes));
        if (!nodes)
            return NULL;
        t->nodes = nodes;
        t->cap = cap;
    }
    if (parent && parent->nchildren == parent->cap) {
        size_t cap = parent->cap ? parent->cap * 2 : 8;
        struct wdsfs_node **c = realloc(parent->children, cap * sizeof(*c));
        if (!c)
            return NULL;
        parent->children = c;
        parent->cap = cap;
    }
    struct wdsfs_node *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->name = strdup(name);
    if (!n->name) {
        free(n);
        return NULL;
    }
    n->kind = kind;
    n->parent = parent ? parent : n;
    t->nodes[t->n++] = n;
    n->ino = t->n;
    if (parent)
        parent->children[parent->nchildren++] = n;
    return n;
}

int wdsfs_tree_new(struct wdsfs_tree **ret)
{
    struct wdsfs_tree *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    /* The root must get inode 1 (FUSE_ROOT_ID). */
    t->root = node_new(t, NULL, "", WDSFS_NODE_DIR);
    struct wdsfs_node *ctl = t->root ? node_new(t, t->root, ".wdsfs", WDSFS_NODE_DIR) : NULL;
    if (!ctl || !node_new(t, ctl, "status", WDSFS_NODE_STATUS) ||
        !node_new(t, ctl, "add", WDSFS_NODE_ADD) ||
        !(t->sessions = node_new(t, ctl, "sessions", WDSFS_NODE_DIR))) {
        wdsfs_tree_free(t);
        return -ENOMEM;
    }
    *ret = t;
    return 0;
}

void wdsfs_tree_free(struct wdsfs_tree *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->nodes[i]->name);
        free(t->nodes[i]->children);
        free(t->nodes[i]);
    }
    free(t->nodes);
    free(t);
}

struct wdsfs_node *wdsfs_tree_get(const struct wdsfs_tree *t, fuse_ino_t ino)
{
    return ino >= 1 && ino <= t->n ? t->nodes[ino - 1] : NULL;
}

struct wdsfs_node *wdsfs_tree_lookup(const struct wdsfs_node *dir, const char *name)
{
    if (dir->kind != WDSFS_NODE_DIR)
        return NULL;
    for (size_t i = 0; i < dir->nchildren; i++)
        if (strcmp(dir->children[i]->name, name) == 0)
            return dir->children[i];
    return NULL;
}

/* Walk (and with `create`, make) the directories of `ns` under `top`; the
 * final directory, or NULL with *err set. */
static struct wdsfs_node *walk(struct wdsfs_tree *t, struct wdsfs_node *top, const char *ns,
                               bool create, int *err, size_t *ret_new)
{
    char buf[WDSFS_MAX_PATH + 1];
    size_t len = strlen(ns);
    if (len > WDSFS_MAX_PATH) {
        *err = -ENAMETOOLONG;
        return NULL;
    }
    memcpy(buf, ns, len + 1);
    struct wdsfs_node *dir = top;
    char *save = NULL;
    for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        struct wdsfs_node *n = wdsfs_tree_lookup(dir, c);
        if (n && n->kind != WDSFS_NODE_DIR) {
            *err = -EEXIST;
            return NULL;
        }
        if (!n) {
            if (ret_new)
                (*ret_new)++;
            if (create && !(n = node_new(t, dir, c, WDSFS_NODE_DIR))) {
                *err = -ENOSPC;
                return NULL;
            }
            if (!create)
                return NULL; /* the rest is new: no conflict possible */
        }
        dir = n;
    }
    return dir;
}

int wdsfs_tree_check(const struct wdsfs_tree *t, const char *ns, const char *content)
{
    struct wdsfs_tree *mt = (struct wdsfs_tree *)t; /* walk without create does not modify */
    int err = 0;
    size_t fresh = 0;
    struct wdsfs_node *dir = walk(mt, t->root, ns, false, &err, &fresh);
    if (err)
        return err;
    if (dir && wdsfs_tree_lookup(dir, content))
        return -EEXIST;
    size_t slashes = 1;
    for (const char *p = ns; *p; p++)
        slashes += *p == '/';
    /* Worst case: every component new in both trees, plus two files. */
    if (t->n + 2 * (slashes + 1) > WDSFS_MAX_NODES)
        return -ENOSPC;
    return 0;
}

int wdsfs_tree_add(struct wdsfs_tree *t, struct wdsfs_image *img)
{
    const char *ns = wdsfs_image_dir(img), *content = wdsfs_image_content(img);
    int r = wdsfs_tree_check(t, ns, content);
    if (r < 0)
        return r;
    int err = 0;
    struct wdsfs_node *dir = walk(t, t->root, ns, true, &err, NULL);
    struct wdsfs_node *n = dir ? node_new(t, dir, content, WDSFS_NODE_IMAGE) : NULL;
    if (!n)
        return err ? err : -ENOSPC;
    n->img = img;
    dir = walk(t, t->sessions, ns, true, &err, NULL);
    n = dir ? node_new(t, dir, content, WDSFS_NODE_SESSION) : NULL;
    if (!n)
        return err ? err : -ENOSPC;
    n->img = img;
    return 0;
}

size_t wdsfs_tree_count(const struct wdsfs_tree *t)
{
    return t->n;
}
