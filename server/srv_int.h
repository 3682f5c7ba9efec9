/* Private declarations of the server's LSP side: the server state over the workspace core
 * (ws.h), the libuv transport and hooks (srv_io.c), the LSP adapter (srv_lsp.c) and the method
 * table (srv_dispatch.c). Files call only downwards: srv_main -> srv_dispatch -> srv_lsp ->
 * srv_io -> the core; upward calls go through function pointers (srv_t.input, ws_hooks). */
#ifndef UNASYNC_SRV_INT_H
#define UNASYNC_SRV_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "lsp.h"
#include "server.h"
#include "ws.h"

/* Positions cross between the protocol and the core unchanged: both count lines and the
 * negotiated code units from 0. */
static inline ws_pos srv_ws_pos(lsp_position_t p)
{
    ws_pos q = {p.line, p.character};
    return q;
}
static inline lsp_position_t srv_lsp_pos(ws_pos p)
{
    lsp_position_t q = {p.line, p.character};
    return q;
}
static inline ws_range srv_ws_range(lsp_range_t r)
{
    ws_range q = {srv_ws_pos(r.start), srv_ws_pos(r.end)};
    return q;
}
static inline lsp_range_t srv_lsp_range(ws_range r)
{
    lsp_range_t q = {srv_lsp_pos(r.start), srv_lsp_pos(r.end)};
    return q;
}

/* ------------------------------------------------------------------------------ state */

/* A diagnostics set last published for a URI, kept to publish only on change. */
typedef struct srv_published {
    char *uri;
    char *key; /* the encoded publish message: equal bytes = same set */
    size_t key_len;
} srv_published_t;

typedef enum {
    SRV_PENDING_CONFIGURATION,
    SRV_PENDING_APPLY_EDIT,
    SRV_PENDING_REGISTER,
    SRV_PENDING_PROGRESS_CREATE,
    SRV_PENDING_REFRESH,
} srv_pending_kind_t;

typedef struct srv_pending {
    int64_t id;
    srv_pending_kind_t kind;
} srv_pending_t;

/* A folder watched with libuv for the core (ws_hooks.watch). */
typedef struct srv_watch {
    char *dir;
    uv_fs_event_t *h;
} srv_watch_t;

/* The input buffer reserved at start (srv_create): twice the transport's read size. */
#define SRV_INPUT_RESERVE (2 * 65536)

typedef struct srv {
    uv_loop_t *loop;
    /* transport */
    int in_kind, out_kind; /* uv_handle_type of fd 0 and fd 1 */
    int out_fd;            /* where blocking writes go (UV_FILE output): 1 */
    union {
        uv_pipe_t pipe;
        uv_tty_t tty;
    } in, out;
    uv_fs_t file_read;
    char file_buf[65536];
    bool reading_file, in_closed, out_usable;
    size_t pending_writes;
    /* what the transport hands each read to (srv_input) */
    void (*input)(struct srv *s, const char *data, size_t n);
    lsp_framer_t framer;
    /* queue of decoded messages waiting for dispatch (so a $/cancelRequest that arrived in the
     * same read can cancel a request before it runs) */
    lsp_msg_t *queue;
    size_t queue_len, queue_cap;
    /* lifecycle */
    bool initialize_answered, initialized, shutdown, exiting;
    bool startup_done, progress_ok; /* the start-up check ran; progress token created */
    bool pull_refresh;              /* an open document's pulled diagnostics changed */
    int exit_status;
    uv_timer_t parent_timer;
    int64_t parent_pid;
    bool parent_timer_on;
    uv_timer_t config_timer; /* never wait forever for workspace/configuration */
    bool config_timer_on;
    /* client */
    lsp_initialize_params_t caps; /* flags only: the pointer members are NULL */
    bool utf8;
    lsp_settings_t settings; /* effective: defaults overridden by the client */
    lsp_trace_t trace;
    bool watching_by_client;
    const char *progress_token; /* of the check under way; NULL = none */
    /* the workspace core and what implements its hooks */
    ws_t *ws;
    uv_timer_t *timers[WS_N_TIMERS];
    srv_watch_t *watches;
    size_t n_watches;
    srv_published_t *published;
    size_t n_published;
    srv_pending_t *pending;
    size_t n_pending;
    int64_t next_id;
} srv_t;

/* ------------------------------------------------- transport and loop (srv_io.c) */

/* Instead of srv_io_start: no input handle (the caller feeds srv_input), and output written
 * with blocking writes to out_fd, as for a plain file on fd 1. */
void srv_io_use_fd(srv_t *s, int out_fd);
/* Starts reading fd 0 (each read goes to s->input) and prepares fd 1. Returns 0 or SRV_EIO. */
int srv_io_start(srv_t *s);
/* Stops reading and closes the stdio handles once queued writes are out. */
void srv_io_stop(srv_t *s);
/* Sends one framed message (takes ownership of out->data). Returns 0, SRV_ENOMEM or SRV_EIO. */
int srv_send(srv_t *s, lsp_out_t *out);
/* Logs to stderr and, when the client is connected, as window/logMessage (type 1..4). */
void srv_log(srv_t *s, int type, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Ends the server: stops the core, timers, watchers and the transport, so the loop can
 * finish. */
void srv_exit(srv_t *s, int status);
/* Starts watching for the client's process to die (LSP: initialize.processId); pid <= 0 or a
 * second call does nothing. */
void srv_watch_parent(srv_t *s, int64_t pid);
/* The core's hooks that the loop implements: timers, folder watching and the log. ud is the
 * srv_t. */
int srv_io_timer(void *ud, ws_timer which, int64_t ms);
int srv_io_watch(void *ud, const char *dir);
/* ws_hooks.work: run on libuv's thread pool (uv_queue_work), done on the loop thread. */
int srv_io_work(void *ud, void (*run)(void *arg), void (*done)(void *arg), void *arg);
void srv_io_log(void *ud, int level, const char *msg);

/* ------------------------------------------------------- the LSP adapter (srv_lsp.c) */

/* The JSON-RPC error code for an error of this module: the one mapping every reply uses. */
int srv_rpc_code(int err);
/* Fills hooks with the server's implementation of the core's callback table (ud = s). */
void srv_lsp_hooks(srv_t *s, ws_hooks *hooks);
/* Sends a server-to-client request already encoded with id; remembers it as pending. */
int srv_request(srv_t *s, srv_pending_kind_t kind, lsp_out_t *out, int64_t id);
/* ws_check_all with progress under token (NULL: none). */
int srv_check_all(srv_t *s, const char *token);
/* Encodes the pull report of path's diagnostics for request id into out. */
int srv_encode_report(srv_t *s, const lsp_id_t *id, const char *path, lsp_out_t *out);
/* The answers to textDocument/codeAction, hover and definition, encoded into out. */
int srv_code_actions(srv_t *s, const lsp_msg_t *m, lsp_out_t *out);
int srv_hover(srv_t *s, const lsp_msg_t *m, lsp_out_t *out);
int srv_definition(srv_t *s, const lsp_msg_t *m, lsp_out_t *out);
/* Applies the lint quick fix named by arg ("<document URI>#<line>:<col>:<code>:<index>", as the
 * code action's command argument gives it). Returns 0 or SRV_E*. */
int srv_lint_fix(srv_t *s, const char *arg);

/* ------------------------------------------------------- the method table (srv_dispatch.c) */

/* Feeds bytes read from the client: frames them, decodes and dispatches every complete
 * message (s->input). */
void srv_input(srv_t *s, const char *data, size_t n);

/* Applies one didChange content change to doc. Returns 0 or SRV_ENOMEM (doc unchanged). */
int srv_doc_apply_change(ws_doc *doc, const lsp_content_change_t *ch, bool utf8);

/* ------------------------------------------------------------------- life (srv_main.c) */

/* Creates the server's state on loop (timers, core; no transport yet). Returns 0 with *out
 * set, or SRV_ENOMEM. */
int srv_create(uv_loop_t *loop, srv_t **out);
/* Ends the server (srv_exit) if it has not ended, runs the loop until its handles are closed,
 * and frees the state. srv_destroy(NULL) does nothing. */
void srv_destroy(srv_t *s);

#endif
