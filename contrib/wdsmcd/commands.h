/* SPDX-License-Identifier: MIT */
/*
 * wdsmcd control commands: one JSON request in, one JSON response out
 * (doc/control-protocol.md), carried out on the server engine. Only
 * wdsmc_server_sessions/_clients/_kick/_terminate/_start_namespace are
 * called, so the unit tests can stand in for the engine.
 */
#ifndef WDSMCD_COMMANDS_H
#define WDSMCD_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "wdsmc/server.h"

/* Limits on what a response may list, whatever the engine holds. */
#define WDSMCD_MAX_LISTED_SESSIONS 4096
#define WDSMCD_MAX_LISTED_CLIENTS  256

/* Everything a command may look at. Borrowed; the caller keeps it alive
 * while the control socket runs. contents[i] lists namespace cfg->ns[i]. */
struct wdsmcd_commands {
    struct wdsmc_server *server;
    const struct wdsmcd_config *cfg;
    struct wdsmcd_content *const *contents;
    const size_t *n_contents;
    bool shutting_down; /* refuse commands that change anything */
};

/* A wdsmcd_control_handler: ctx is a struct wdsmcd_commands. Returns a heap
 * JSON object (no newline) the caller frees, or NULL when out of memory. */
char *wdsmcd_commands_handle(void *ctx, const char *line, size_t len);

/* Text of the protocol's enum values. */
const char *wdsmcd_session_state_name(enum wdsmc_session_state s);

#endif /* WDSMCD_COMMANDS_H */
