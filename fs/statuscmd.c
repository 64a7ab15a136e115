/* SPDX-License-Identifier: MIT */
#include "statuscmd.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "status.h"

#define BAR_WIDTH  30
#define MAX_STATUS (4u << 20)

static char *read_status(const char *mountpoint)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof(path), "%s/.wdsfs/status", mountpoint) >= sizeof(path))
        return NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "wdsfs: %s: %s (is a wdsfs mounted there?)\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r < 0) {
                fprintf(stderr, "wdsfs: %s: %s\n", path, strerror(errno));
                free(buf);
                buf = NULL;
            }
            break;
        }
        len += (size_t)r;
        if (len == cap) {
            char *nb = cap < MAX_STATUS ? realloc(buf, cap * 2 + 1) : NULL;
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    close(fd);
    if (buf)
        buf[len] = '\0';
    return buf;
}

static const char *str_field(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
                   ? json_object_get_string(v)
                   : NULL;
}

static int64_t int_field(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

/* Print the images; returns the number of lines printed, or -1 on a bad
 * document. *ret_active says whether any image is still going. */
static int print_status(const char *doc, bool *ret_active, bool tty)
{
    json_object *root = json_tokener_parse(doc);
    json_object *images;
    if (!root || !json_object_object_get_ex(root, "images", &images) ||
        !json_object_is_type(images, json_type_array)) {
        fprintf(stderr, "wdsfs: the status file is not what wdsfs writes\n");
        json_object_put(root);
        return -1;
    }
    int lines = 0;
    bool active = false;
    size_t n = json_object_array_length(images);
    for (size_t i = 0; i < n; i++) {
        json_object *img = json_object_array_get_idx(images, i);
        const char *path = str_field(img, "path");
        const char *state = str_field(img, "state");
        const char *err = str_field(img, "last_error");
        int64_t got = int_field(img, "bytes_received"), total = int_field(img, "total");
        int64_t pct = int_field(img, "percent"), rate = int_field(img, "rate");
        if (!path || !state)
            continue;
        if (strcmp(state, "complete") != 0 && strcmp(state, "failed") != 0)
            active = true;
        int fill = (int)(pct * BAR_WIDTH / 100);
        char bar[BAR_WIDTH + 1];
        for (int k = 0; k < BAR_WIDTH; k++)
            bar[k] = k < fill ? '#' : '.';
        bar[BAR_WIDTH] = '\0';
        char r[32], eta[32];
        wdsfs_format_bytes((double)rate, r, sizeof(r));
        wdsfs_format_eta(rate > 0 && total >= got ? (double)(total - got) / (double)rate : -1, eta,
                         sizeof(eta));
        printf("%s%s\n%s  [%s] %3d%%  %10s/s  ETA %8s  %s\n", tty ? "\033[2K" : "", path,
               tty ? "\033[2K" : "", bar, (int)pct, r, eta, state);
        lines += 2;
        if (err) {
            printf("%s  error: %s\n", tty ? "\033[2K" : "", err);
            lines++;
        }
    }
    if (n == 0) {
        printf("%sno images\n", tty ? "\033[2K" : "");
        lines++;
    }
    json_object_put(root);
    *ret_active = active;
    return lines;
}

int wdsfs_statuscmd(const char *mountpoint, bool watch)
{
    bool tty = isatty(STDOUT_FILENO);
    int prev = 0;
    for (;;) {
        char *doc = read_status(mountpoint);
        if (!doc)
            return 1;
        if (watch && tty && prev > 0)
            printf("\033[%dA", prev);
        bool active = false;
        int lines = print_status(doc, &active, tty && watch);
        free(doc);
        if (lines < 0)
            return 1;
        fflush(stdout);
        if (!watch || !active)
            return 0;
        prev = lines;
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
    }
}
