/* Private declarations shared by the server's files: the server state and its modules. */
#ifndef UNASYNC_SRV_INT_H
#define UNASYNC_SRV_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "lsp.h"
#include "server.h"

/* ------------------------------------------------------------------------- allocation */

/* The hook set by srv_set_allocator (srv_alloc.c). A zero size asks for one byte, so NULL
 * always means failure; srv_free(NULL) does nothing. Memory from ue_*, ul_* and ua_* functions
 * is released with ua_free (or their *_free), memory from lsp_* with lsp_* functions. */
void *srv_malloc(size_t n);
void *srv_calloc(size_t n, size_t size);
void *srv_realloc(void *p, size_t n);
void srv_free(void *p);
/* Copies of a string (NULL for NULL) and of its first n bytes, NUL-terminated. */
char *srv_strdup(const char *s);
char *srv_strndup(const char *s, size_t n);
/* A uv_close callback for a handle from srv_malloc. */
void srv_free_handle(uv_handle_t *h);

/* ---------------------------------------------------------------- documents and text */

/* An open document: the client's buffer, which overrides the file on disk. */
typedef struct srv_doc {
    char *uri;
    char *path; /* absolute, normalized; NULL for non-file URIs */
    int64_t version;
    char *text; /* NUL-terminated, len bytes */
    size_t len, cap;
    bool changed_since_open; /* typed in since didOpen (for the "generated file" warning) */
} srv_doc_t;

/* Byte offset of an LSP position in text: lines past the end clamp to the end of the text,
 * characters past the end of a line clamp to the end of the line (before its line break), and
 * a UTF-16 position inside a surrogate pair clamps to the start of that character. */
size_t srv_text_offset(const char *text, size_t len, lsp_position_t pos, bool utf8);
/* The LSP position of byte offset off (clamped to len). */
lsp_position_t srv_text_position(const char *text, size_t len, size_t off, bool utf8);
/* Replaces bytes [start, end) of *text with ins (offsets clamped), keeping a NUL after the
 * text. Returns 0 or SRV_ENOMEM (the text is then unchanged). */
int srv_text_replace(char **text, size_t *len, size_t *cap, size_t start, size_t end,
                     const char *ins, size_t ins_len);
/* Applies one didChange content change to doc. Returns 0 or SRV_ENOMEM. */
int srv_doc_apply_change(srv_doc_t *doc, const lsp_content_change_t *ch, bool utf8);

/* ---------------------------------------------------------------------------- URIs */

/* Converts a file:// URI to an absolute, normalized path (percent-decoded, "." and ".."
 * resolved lexically). Returns a new string, or NULL for other schemes, relative or invalid
 * URIs (embedded NUL) and on allocation failure. */
char *srv_uri_to_path(const char *uri);
/* The same, telling the two NULLs apart: returns 0 with *path set (NULL when uri names no
 * local file), or SRV_ENOMEM. */
int srv_uri_path(const char *uri, char **path);
/* Converts an absolute path to a file:// URI, percent-encoding what needs it. New string or
 * NULL on allocation failure. */
char *srv_path_to_uri(const char *path);
/* True when path equals dir or lies below it (both absolute and normalized). */
bool srv_path_under(const char *path, const char *dir);

/* ------------------------------------------------------------------------------ state */

typedef struct srv_folder {
    char *uri;
    char *path;
    uv_fs_event_t *watch; /* libuv watching when the client cannot watch for us */
} srv_folder_t;

/* A diagnostics set last published for a URI, kept to publish only on change. */
typedef struct srv_published {
    char *uri;
    char *key; /* the encoded publish message, minus nothing: equal bytes = same set */
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
    uint64_t sent_ms;
} srv_pending_t;

/* One async source and its twin, as last checked. */
typedef struct srv_pair {
    char *source; /* absolute paths */
    char *twin;
    char *root; /* the project root (folder holding unasync.json) */
    int state;  /* SRV_PAIR_* */
    size_t hunks;
} srv_pair_t;

enum { SRV_PAIR_OK, SRV_PAIR_STALE, SRV_PAIR_MISSING, SRV_PAIR_ERROR };

struct srv_engine; /* the analysis layer's state (srv_analysis.c) */

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
    /* workspace */
    srv_folder_t *folders;
    size_t n_folders;
    srv_doc_t **docs;
    size_t n_docs;
    srv_published_t *published;
    size_t n_published;
    srv_pair_t *pairs;
    size_t n_pairs;
    int64_t status_twins, status_stale; /* last unasync/status sent; -1 = never */
    srv_pending_t *pending;
    size_t n_pending;
    int64_t next_id;
    struct srv_engine *engine;
    uint64_t idle_ms; /* how long typing must pause before the pre-check runs; 0: never */
} srv_t;

/* ------------------------------------------------------------------------ transport */

/* Creates the server's state on loop (timers, engine; no transport yet). Returns 0 with *out
 * set, or SRV_ENOMEM. */
int srv_create(uv_loop_t *loop, srv_t **out);
/* Ends the server (srv_exit) if it has not ended, runs the loop until its handles are closed,
 * and frees the state. srv_destroy(NULL) does nothing. */
void srv_destroy(srv_t *s);
/* Feeds bytes read from the client: frames them, decodes and dispatches every complete
 * message. The stdio transport calls it for each read. */
void srv_input(srv_t *s, const char *data, size_t n);
/* Instead of srv_io_start: no input handle (the caller feeds srv_input), and output written
 * with blocking writes to out_fd, as for a plain file on fd 1. */
void srv_io_use_fd(srv_t *s, int out_fd);
/* Sends one framed message (takes ownership of out->data). Returns 0, SRV_ENOMEM or SRV_EIO. */
int srv_send(srv_t *s, lsp_out_t *out);
/* Logs to stderr and, when the client is connected, as window/logMessage (type 1..4). */
void srv_log(srv_t *s, int type, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Starts reading fd 0 and prepares fd 1. Returns 0 or SRV_EIO. */
int srv_io_start(srv_t *s);
/* Stops reading and closes the stdio handles once queued writes are out. */
void srv_io_stop(srv_t *s);
/* Ends the server: stops timers and watchers and the transport, so the loop can finish. */
void srv_exit(srv_t *s, int status);

/* -------------------------------------------------------------------- documents table */

srv_doc_t *srv_doc_find(srv_t *s, const char *uri);
srv_doc_t *srv_doc_find_path(srv_t *s, const char *path);

/* ------------------------------------------------------------------- the LSP handlers */

/* Processes one framed body from the client. */
void srv_dispatch_body(srv_t *s, const char *body, size_t len);
/* Runs the messages queued by srv_dispatch_body, honouring cancellations among them. */
void srv_dispatch_queue(srv_t *s);
/* Answers a framing error (bad header, oversized body) with a JSON-RPC error for id null. */
void srv_framing_error(srv_t *s, int err);

/* Sends a server-to-client request already encoded with id; remembers it as pending. */
int srv_request(srv_t *s, srv_pending_kind_t kind, lsp_out_t *out, int64_t id);

/* ---------------------------------------------------------------- analysis (engine) */

int srv_engine_new(srv_t *s);
void srv_engine_free(srv_t *s);
/* Re-checks whatever path concerns: a source, a twin, or a configuration file. Publishes
 * diagnostics for every file whose set changed and updates unasync/status. reason tells what
 * happened (for the generated-file warning). */
typedef enum { SRV_EV_OPEN, SRV_EV_CHANGE, SRV_EV_SAVE, SRV_EV_CLOSE, SRV_EV_DISK } srv_event_t;
int srv_check_path(srv_t *s, const char *path, srv_event_t ev);
/* Checks every project of every workspace folder (startup, folder added, settings changed). */
int srv_check_all(srv_t *s, const char *progress_token);
/* Watches the workspace folders with libuv (when the client cannot watch files for us). */
int srv_watch_folders(srv_t *s);
/* srv_check_path, srv_check_all and srv_watch_folders return 0, or SRV_ENOMEM (SRV_EIO when
 * sending failed) when something could not be checked or published: what was published
 * before stays, and the caller tells the client (window/logMessage). */
/* Diagnostics of one file as the last check found them (pull diagnostics). Encodes the pull
 * report for request id into out. */
int srv_encode_report(srv_t *s, const lsp_id_t *id, const char *path, lsp_out_t *out);
/* Code actions for a document range. */
int srv_code_actions(srv_t *s, const lsp_msg_t *m, lsp_out_t *out);
/* Regenerates the twin of path (a source or a twin), or all when path is NULL. Open twins get
 * workspace/applyEdit, unopened ones are written by the engine. Returns 0 or SRV_E*. */
int srv_regenerate(srv_t *s, const char *path);
/* Applies the lint quick fix named by arg ("<document URI>#<line>:<col>:<code>:<index>", as the
 * code action's command argument gives it): a workspace/applyEdit for an open file, an atomic
 * write for one that is not open (unasync.json). Returns 0 or SRV_E*. */
int srv_lint_fix(srv_t *s, const char *arg);
/* Hover and definition inside a twin. */
int srv_hover(srv_t *s, const lsp_msg_t *m, lsp_out_t *out);
int srv_definition(srv_t *s, const lsp_msg_t *m, lsp_out_t *out);
/* Sends unasync/status when the counts changed. Returns 0, SRV_ENOMEM or SRV_EIO (the counts
 * are then sent next time). */
int srv_update_status(srv_t *s);
/* Publishes a diagnostics set for uri unless it equals the last one sent. */
int srv_publish(srv_t *s, const char *uri, const lsp_diagnostic_t *d, size_t n);

uint64_t srv_now_ms(srv_t *s);

#endif
