/* SPDX-License-Identifier: MIT */
/*
 * Status reports: the JSON of MNT/.wdsfs/status (every image) and the human
 * text of a session control file. Also the number formatting that
 * `wdsfs --status` shares.
 */
#ifndef WDSFS_STATUS_H
#define WDSFS_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "wdsfs.h"

/*
 * The status document, newline-terminated:
 *   {"version":1,"server":"ADDR:PORT","mountpoint":"...","images":[
 *     {"path","namespace","content","mode","state","bytes_received","total",
 *      "percent","rate","session_id"|null,"last_error"|null,"sessions",
 *      "session_bytes","readers","waiters","spool"|null}, ...]}
 * Returns a malloc'd string (caller frees) and its length, or NULL.
 */
char *wdsfs_status_json(const struct wdsfs *fs, size_t *ret_len);

/* Human-readable status of one image (a control file's contents); malloc'd. */
char *wdsfs_status_text(const struct wdsfs *fs, const struct wdsfs_image *img, size_t *ret_len);

/* "1.5 GiB", "12.0 MiB" ... into buf. */
void wdsfs_format_bytes(double bytes, char *buf, size_t len);

/* "1:02:03" or "--:--" for an unknown duration, into buf. */
void wdsfs_format_eta(double seconds, char *buf, size_t len);

#endif /* WDSFS_STATUS_H */
