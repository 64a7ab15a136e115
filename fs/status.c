/* SPDX-License-Identifier: MIT */
#include "status.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

void wdsfs_format_bytes(double bytes, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    size_t u = 0;
    while (bytes >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
        bytes /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%.0f B", bytes);
    else
        snprintf(buf, len, "%.1f %s", bytes, units[u]);
}

void wdsfs_format_eta(double seconds, char *buf, size_t len)
{
    if (!(seconds >= 0) || seconds > 360000 || isinf(seconds)) {
        snprintf(buf, len, "--:--");
        return;
    }
    unsigned long s = (unsigned long)(seconds + 0.5);
    if (s >= 3600)
        snprintf(buf, len, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, len, "%lu:%02lu", s / 60, s % 60);
}

static json_object *image_json(const struct wdsfs_image *img)
{
    struct wdsfs_image_status st;
    wdsfs_image_status(img, &st);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "path", json_object_new_string(st.path));
    json_object_object_add(o, "namespace", json_object_new_string(st.ns));
    json_object_object_add(o, "content", json_object_new_string(st.content));
    json_object_object_add(o, "mode", json_object_new_string(st.mode));
    json_object_object_add(o, "state", json_object_new_string(st.state));
    json_object_object_add(o, "bytes_received", json_object_new_int64((int64_t)st.received));
    json_object_object_add(o, "total", json_object_new_int64((int64_t)st.total));
    json_object_object_add(o, "percent", json_object_new_int((int)st.percent));
    json_object_object_add(o, "rate", json_object_new_int64((int64_t)st.rate));
    json_object_object_add(o, "session_id",
                           st.has_session ? json_object_new_int64(st.session_id) : NULL);
    json_object_object_add(o, "last_error",
                           st.last_error ? json_object_new_string(st.last_error) : NULL);
    json_object_object_add(o, "sessions", json_object_new_int64((int64_t)st.sessions));
    json_object_object_add(o, "session_bytes", json_object_new_int64((int64_t)st.session_received));
    json_object_object_add(o, "readers", json_object_new_int((int)st.readers));
    json_object_object_add(o, "waiters", json_object_new_int((int)st.waiters));
    json_object_object_add(o, "spool", st.spool ? json_object_new_string(st.spool) : NULL);
    return o;
}

char *wdsfs_status_json(const struct wdsfs *fs, size_t *ret_len)
{
    json_object *root = json_object_new_object();
    json_object_object_add(root, "version", json_object_new_int(1));
    json_object_object_add(root, "server", json_object_new_string(fs->server_label));
    json_object_object_add(root, "mountpoint", json_object_new_string(fs->opts->mountpoint));
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < fs->nimages; i++)
        json_object_array_add(arr, image_json(fs->images[i]));
    json_object_object_add(root, "images", arr);
    if (fs->opts->n_not_multicast) {
        /* Catalog mounts: images the server has without a multicast
         * namespace ("GROUP/FILE/INDEX"), so nothing to receive. */
        json_object *nm = json_object_new_array();
        for (size_t i = 0; i < fs->opts->n_not_multicast; i++) {
            json_object *o = json_object_new_object();
            json_object_object_add(o, "image", json_object_new_string(fs->opts->not_multicast[i]));
            json_object_object_add(o, "state", json_object_new_string("not multicast-enabled"));
            json_object_array_add(nm, o);
        }
        json_object_object_add(root, "not_multicast", nm);
    }
    const char *s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                                 JSON_C_TO_STRING_NOSLASHESCAPE);
    char *out = NULL;
    if (asprintf(&out, "%s\n", s) < 0)
        out = NULL;
    json_object_put(root);
    if (out && ret_len)
        *ret_len = strlen(out);
    return out;
}

char *wdsfs_status_text(const struct wdsfs *fs, const struct wdsfs_image *img, size_t *ret_len)
{
    struct wdsfs_image_status st;
    wdsfs_image_status(img, &st);
    char got[32], total[32], rate[32], eta[32], sid[32];
    wdsfs_format_bytes((double)st.received, got, sizeof(got));
    wdsfs_format_bytes((double)st.total, total, sizeof(total));
    wdsfs_format_bytes(st.rate, rate, sizeof(rate));
    wdsfs_format_eta(st.rate > 0 ? (double)(st.total - st.received) / st.rate : -1, eta,
                     sizeof(eta));
    if (st.has_session)
        snprintf(sid, sizeof(sid), "%" PRIu32, st.session_id);
    else
        snprintf(sid, sizeof(sid), "-");
    char *out = NULL;
    if (asprintf(&out,
                 "image:     %s\n"
                 "server:    %s\n"
                 "mode:      %s%s%s\n"
                 "state:     %s\n"
                 "received:  %s of %s (%u%%)\n"
                 "rate:      %s/s, ETA %s\n"
                 "session:   %s (%" PRIu64 " started)\n"
                 "readers:   %u open, %u waiting\n"
                 "error:     %s\n"
                 "\n"
                 "Unlink this file to cancel the session; a later open resumes.\n",
                 st.path, fs->server_label, st.mode, st.spool ? " " : "", st.spool ? st.spool : "",
                 st.state, got, total, st.percent, rate, eta, sid, st.sessions, st.readers,
                 st.waiters, st.last_error ? st.last_error : "-") < 0)
        return NULL;
    if (ret_len)
        *ret_len = strlen(out);
    return out;
}
