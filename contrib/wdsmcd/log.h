/* SPDX-License-Identifier: MIT */
/*
 * wdsmcd's log lines. Messages carry names peers chose (NTLM user and
 * domain, client names, namespace and content names): one message must stay
 * one line, or a peer could write lines of its own, at any priority in
 * journal mode ("<0>...").
 */
#ifndef WDSMCD_LOG_H
#define WDSMCD_LOG_H

#include <stddef.h>

/* Copy the NUL-terminated msg to out[0..cap) with every control byte (below
 * 0x20, and 0x7F) written as \xNN, cut before an escape that does not fit;
 * always NUL-terminated (cap > 0). */
void wdsmcd_log_escape(const char *msg, char *out, size_t cap);

#endif /* WDSMCD_LOG_H */
