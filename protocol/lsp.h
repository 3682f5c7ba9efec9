/* The LSP protocol layer: Content-Length framing, JSON-RPC 2.0 and the C structs of the LSP
 * messages the server uses. This is the only module that knows JSON; it does no I/O. */
#ifndef UNASYNC_LSP_H
#define UNASYNC_LSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------------------------ */
/* Errors                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/* The module's one error table: name, value, message. The codes lie below LSP_EBASE, outside
 * the errno range and apart from every other library's (see transform/ua.h for the ranges) and
 * from the JSON-RPC codes below (which travel in messages, never as return values). */
#define LSP_EBASE (-10300)
#define LSP_ERRNO_MAP(X)                                                                           \
    X(NOMEM, LSP_EBASE - 1, "out of memory")                                                       \
    X(AGAIN, LSP_EBASE - 2, "need more input")                                                     \
    X(BADHEADER, LSP_EBASE - 3, "malformed message header")                                        \
    X(TOOBIG, LSP_EBASE - 4, "message exceeds the maximum size")                                   \
    X(PARSE, LSP_EBASE - 5, "message body is not valid JSON")                                      \
    X(INVALID, LSP_EBASE - 6, "message is not a valid JSON-RPC 2.0 message")                       \
    X(PARAMS, LSP_EBASE - 7, "invalid or missing params")                                          \
    X(INVAL, LSP_EBASE - 8, "invalid argument")

enum {
#define LSP_ERRNO_ENUM(name, val, msg) LSP_E##name = (val),
    LSP_ERRNO_MAP(LSP_ERRNO_ENUM)
#undef LSP_ERRNO_ENUM
};

/* Returns a static English message for an error code of this module ("unknown error" for
 * anything else). Never returns NULL. */
const char *lsp_strerror(int err);

/* JSON-RPC / LSP error codes carried in error responses (not return values). */
enum {
    LSP_RPC_PARSE_ERROR = -32700,
    LSP_RPC_INVALID_REQUEST = -32600,
    LSP_RPC_METHOD_NOT_FOUND = -32601,
    LSP_RPC_INVALID_PARAMS = -32602,
    LSP_RPC_INTERNAL_ERROR = -32603,
    LSP_RPC_SERVER_NOT_INITIALIZED = -32002,
    LSP_RPC_INVALID_REQUEST_STATE = -32600, /* "request after shutdown": InvalidRequest */
    LSP_RPC_REQUEST_CANCELLED = -32800,
    LSP_RPC_CONTENT_MODIFIED = -32801,
};

/* Maps a decoding error (LSP_EPARSE, LSP_EINVALID, LSP_EPARAMS, ...) to the JSON-RPC error
 * code that the answer to such a message carries. */
int lsp_rpc_code_for(int err);

/* Allocation: the module (and the JSON parser under it) allocates and frees only through the
 * core stack's one hook, transform's ua_set_allocator (ua.h); what an lsp_* function returns is
 * released with its *_free function. */

/* ------------------------------------------------------------------------------------------ */
/* Framing                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* Longest header block accepted (all header lines together). Protects memory when a peer
 * sends garbage with no blank line. */
#define LSP_MAX_HEADER_BYTES 8192
/* Default maximum body size: 64 MiB. */
#define LSP_DEFAULT_MAX_BODY ((size_t)64 << 20)

/* An incremental Content-Length parser. Bytes arrive in any chunking; complete bodies come
 * out one at a time. Header names are matched in any case, Content-Type is optional and
 * ignored, unknown headers are ignored, lines may end in CRLF or a bare LF. */
typedef struct lsp_framer {
    char *buf;        /* buffered bytes not yet consumed */
    size_t len, cap;  /* bytes in buf, allocated size */
    size_t start;     /* offset of the first unconsumed byte */
    size_t max_body;  /* bodies longer than this are discarded with LSP_ETOOBIG */
    size_t body_len;  /* length of the body being collected, once its header is parsed */
    bool have_header; /* header parsed, waiting for body_len bytes */
    bool resync;      /* after a malformed header: discarding up to the next Content-Length */
} lsp_framer_t;

/* Initializes a framer; max_body == 0 means LSP_DEFAULT_MAX_BODY. Allocates nothing. */
void lsp_framer_init(lsp_framer_t *f, size_t max_body);

/* Releases the framer's buffer. The framer may be initialized again. NULL does nothing. */
void lsp_framer_free(lsp_framer_t *f);

/* Makes room for cap bytes of input, so that feeds of up to that much buffered input allocate
 * nothing (a server reserves it once, where running out of memory can still be told). Returns
 * 0 or LSP_ENOMEM (the framer as it was). */
int lsp_framer_reserve(lsp_framer_t *f, size_t cap);

/* Appends n bytes read from the peer. Returns 0 or LSP_ENOMEM (the bytes are then lost). */
int lsp_framer_feed(lsp_framer_t *f, const void *data, size_t n);

/* Takes the next complete message. Returns:
 *   0             *body / *len is the body (not NUL-terminated); it stays valid until the
 *                 next call on this framer;
 *   LSP_EAGAIN    no complete message buffered yet;
 *   LSP_EBADHEADER a header block was malformed (no or bad Content-Length, or longer than
 *                 LSP_MAX_HEADER_BYTES): input is discarded up to the next "Content-Length"
 *                 header name; call again to continue;
 *   LSP_ETOOBIG   the announced body exceeds max_body: input is discarded up to the next
 *                 "Content-Length" header name, however long the announced body (a length
 *                 that never arrives cannot make the peer's later messages disappear); call
 *                 again to continue.
 * After an error the stream stays usable: the peer's next well-formed message comes out. */
int lsp_framer_next(lsp_framer_t *f, const char **body, size_t *len);

/* ------------------------------------------------------------------------------------------ */
/* Basic LSP types                                                                            */
/* ------------------------------------------------------------------------------------------ */

typedef struct lsp_position {
    int64_t line;      /* as sent by the client: may be out of range; callers clamp */
    int64_t character; /* in the negotiated encoding's code units */
} lsp_position_t;

typedef struct lsp_range {
    lsp_position_t start, end;
} lsp_range_t;

/* A JSON-RPC id: absent, a number, a string or null. */
typedef enum { LSP_ID_NONE, LSP_ID_NUMBER, LSP_ID_STRING, LSP_ID_NULL } lsp_id_type_t;
typedef struct lsp_id {
    lsp_id_type_t type;
    int64_t num;
    char *str; /* owned by the message, LSP_ID_STRING only */
} lsp_id_t;

/* True when two ids are equal (same type and value). */
bool lsp_id_equal(const lsp_id_t *a, const lsp_id_t *b);

/* Settings of the "unasync" section. has_* tells whether the client sent the key. */
typedef enum {
    LSP_SEVERITY_ERROR = 1,
    LSP_SEVERITY_WARNING = 2,
    LSP_SEVERITY_INFORMATION = 3,
    LSP_SEVERITY_HINT = 4
} lsp_severity_t;

typedef enum { LSP_TRACE_OFF, LSP_TRACE_MESSAGES, LSP_TRACE_VERBOSE } lsp_trace_t;

typedef struct lsp_settings {
    bool has_lint_enable, lint_enable;
    bool has_drift_severity;
    lsp_severity_t drift_severity;
    bool has_trace;
    lsp_trace_t trace;
} lsp_settings_t;

/* ------------------------------------------------------------------------------------------ */
/* Incoming messages                                                                          */
/* ------------------------------------------------------------------------------------------ */

typedef enum {
    LSP_MSG_REQUEST,
    LSP_MSG_NOTIFICATION,
    LSP_MSG_RESPONSE,
} lsp_msg_kind_t;

/* The methods the server handles; everything else is LSP_M_UNKNOWN (method name kept). */
typedef enum {
    LSP_M_UNKNOWN,
    LSP_M_INITIALIZE,
    LSP_M_INITIALIZED,
    LSP_M_SHUTDOWN,
    LSP_M_EXIT,
    LSP_M_DID_OPEN,
    LSP_M_DID_CHANGE,
    LSP_M_DID_SAVE,
    LSP_M_DID_CLOSE,
    LSP_M_DID_CHANGE_CONFIGURATION,
    LSP_M_DID_CHANGE_WATCHED_FILES,
    LSP_M_DID_CHANGE_WORKSPACE_FOLDERS,
    LSP_M_CANCEL_REQUEST,
    LSP_M_SET_TRACE,
    LSP_M_CODE_ACTION,
    LSP_M_EXECUTE_COMMAND,
    LSP_M_HOVER,
    LSP_M_DEFINITION,
    LSP_M_DIAGNOSTIC,
    LSP_M_WILL_SAVE,
    LSP_M_WILL_SAVE_WAIT_UNTIL,
} lsp_method_t;

typedef struct lsp_folder {
    char *uri;
    char *name;
} lsp_folder_t;

typedef struct lsp_initialize_params {
    bool has_process_id;
    int64_t process_id;
    char *root_uri; /* NULL when absent or null */
    lsp_folder_t *folders;
    size_t n_folders;
    bool has_folders; /* the client sent a workspaceFolders array (possibly empty) */
    /* client capabilities, reduced to what the server looks at */
    bool offers_utf8;
    bool configuration;         /* workspace.configuration */
    bool watched_files_dynamic; /* workspace.didChangeWatchedFiles.dynamicRegistration */
    bool watched_relative_pattern;
    bool work_done_progress;   /* window.workDoneProgress */
    bool pull_diagnostics;     /* textDocument.diagnostic */
    bool apply_edit;           /* workspace.applyEdit */
    bool document_changes;     /* workspace.workspaceEdit.documentChanges */
    bool code_action_literals; /* textDocument.codeAction.codeActionLiteralSupport */
    bool related_information;  /* textDocument.publishDiagnostics.relatedInformation */
    bool workspace_folders;    /* workspace.workspaceFolders */
    bool diagnostic_refresh;   /* workspace.diagnostics.refreshSupport */
    lsp_settings_t settings;   /* from initializationOptions */
    bool has_trace;
    lsp_trace_t trace;
} lsp_initialize_params_t;

typedef struct lsp_content_change {
    bool has_range;
    lsp_range_t range;
    char *text;
    size_t text_len;
} lsp_content_change_t;

typedef struct lsp_file_event {
    char *uri;
    int type; /* 1 created, 2 changed, 3 deleted */
} lsp_file_event_t;

typedef struct lsp_params {
    /* textDocument.* */
    char *uri;
    int64_t version;
    bool has_version;
    char *text; /* didOpen text; didSave text when included */
    size_t text_len;
    lsp_position_t position; /* hover, definition */
    lsp_range_t range;       /* codeAction */
    /* didChange */
    lsp_content_change_t *changes;
    size_t n_changes;
    /* codeAction context.only (NULL/0 = no filter) */
    char **only;
    size_t n_only;
    bool has_only;
    /* executeCommand: command, first argument as a URI (a string, or an object's "uri") */
    char *command;
    char *arg_uri;
    /* didChangeWatchedFiles */
    lsp_file_event_t *events;
    size_t n_events;
    /* didChangeWorkspaceFolders */
    lsp_folder_t *added, *removed;
    size_t n_added, n_removed;
    /* didChangeConfiguration */
    lsp_settings_t settings;
    /* $/cancelRequest */
    lsp_id_t cancel_id;
    /* $/setTrace */
    lsp_trace_t trace;
    /* workDoneToken for requests that may report progress (string or number), NULL if none */
    char *work_done_token;
} lsp_params_t;

/* One decoded message. Everything it points to is owned by it; release with lsp_msg_free. */
typedef struct lsp_msg {
    lsp_msg_kind_t kind;
    lsp_id_t id;  /* requests and responses */
    char *method; /* requests and notifications */
    lsp_method_t m;
    lsp_initialize_params_t init; /* LSP_M_INITIALIZE */
    lsp_params_t p;               /* every other method */
    /* responses */
    bool is_error;
    int error_code;
    void *result; /* opaque parsed result; read it with the lsp_result_* helpers */
} lsp_msg_t;

/* Decodes one framed body into *msg. On success returns 0 and *msg must be released with
 * lsp_msg_free. On failure returns LSP_EPARSE (not JSON), LSP_EINVALID (not JSON-RPC 2.0), or
 * LSP_EPARAMS (a known method whose params are missing or of the wrong type) or LSP_ENOMEM;
 * even then msg->kind, msg->id and msg->method are filled in as far as they could be read,
 * so the caller can answer a request with an error, and lsp_msg_free(msg) must be called. */
int lsp_decode(const char *body, size_t len, lsp_msg_t *msg);

/* Frees everything a decoded message owns and zeroes it. NULL does nothing. */
void lsp_msg_free(lsp_msg_t *msg);

/* Maps a method name to its enum value (LSP_M_UNKNOWN when not handled). */
lsp_method_t lsp_method_from_name(const char *name);

/* Response helpers. For a response to workspace/applyEdit: *applied = result.applied.
 * Returns 0, or LSP_EPARAMS when the result does not have that shape. */
int lsp_result_applied(const lsp_msg_t *msg, bool *applied);
/* For a response to workspace/configuration: reads item i of the result array as the unasync
 * settings section into *out. Returns 0 or LSP_EPARAMS. */
int lsp_result_settings(const lsp_msg_t *msg, size_t i, lsp_settings_t *out);

/* ------------------------------------------------------------------------------------------ */
/* Outgoing messages                                                                          */
/* ------------------------------------------------------------------------------------------ */

/* A framed outgoing message: "Content-Length: N\r\n\r\n{...}", followed by a NUL that len does
 * not count. Owned by the caller; release with lsp_out_free (NULL data does nothing). */
typedef struct lsp_out {
    char *data;
    size_t len;
} lsp_out_t;

void lsp_out_free(lsp_out_t *out);

typedef struct lsp_location {
    const char *uri;
    lsp_range_t range;
} lsp_location_t;

typedef struct lsp_related {
    lsp_location_t location;
    const char *message;
} lsp_related_t;

typedef struct lsp_diagnostic {
    lsp_range_t range;
    lsp_severity_t severity;
    const char *code; /* NULL = none */
    const char *message;
    const lsp_related_t *related;
    size_t n_related;
    const char *code_href; /* codeDescription.href: the rule's documentation; NULL = none */
} lsp_diagnostic_t;

/* What the server advertises in its initialize result. */
typedef struct lsp_server_caps {
    bool utf8;             /* positionEncoding utf-8, else utf-16 */
    bool pull_diagnostics; /* diagnosticProvider */
    bool workspace_folders_notify;
    const char *version;
} lsp_server_caps_t;

typedef struct lsp_text_edit {
    lsp_range_t range;
    const char *new_text;
} lsp_text_edit_t;

/* A code action: either a command with one URI argument, or both. */
typedef struct lsp_code_action {
    const char *title;
    const char *kind;
    bool is_preferred;
    const lsp_diagnostic_t *diagnostics; /* echoed for quickfixes, may be NULL */
    size_t n_diagnostics;
    const char *command; /* e.g. "unasync.regenerate" */
    const char *command_title;
    const char *arg_uri; /* NULL = no argument */
} lsp_code_action_t;

typedef enum { LSP_PROGRESS_BEGIN, LSP_PROGRESS_REPORT, LSP_PROGRESS_END } lsp_progress_kind_t;

/* Each encoder builds one framed message into *out (zeroed first) and returns 0 or
 * LSP_ENOMEM. Strings are copied; the caller keeps ownership of its arguments. */
int lsp_encode_initialize_result(const lsp_id_t *id, const lsp_server_caps_t *caps,
                                 const char *const *commands, size_t n_commands, lsp_out_t *out);
int lsp_encode_null_result(const lsp_id_t *id, lsp_out_t *out);
int lsp_encode_error(const lsp_id_t *id, int code, const char *message, lsp_out_t *out);
int lsp_encode_hover(const lsp_id_t *id, const char *markdown, const lsp_range_t *range,
                     lsp_out_t *out);
int lsp_encode_locations(const lsp_id_t *id, const lsp_location_t *locs, size_t n, lsp_out_t *out);
int lsp_encode_code_actions(const lsp_id_t *id, const lsp_code_action_t *actions, size_t n,
                            bool literals, lsp_out_t *out);
/* A full document diagnostic report (pull diagnostics). */
int lsp_encode_diagnostic_report(const lsp_id_t *id, const lsp_diagnostic_t *diags, size_t n,
                                 lsp_out_t *out);
/* textDocument/publishDiagnostics; version < 0 leaves it out. */
int lsp_encode_publish_diagnostics(const char *uri, int64_t version, const char *source,
                                   const lsp_diagnostic_t *diags, size_t n, lsp_out_t *out);
/* window/logMessage with type 1 error .. 4 log. */
int lsp_encode_log_message(int type, const char *message, lsp_out_t *out);
/* $/logTrace. */
int lsp_encode_log_trace(const char *message, lsp_out_t *out);
/* unasync/status {"twins": N, "outOfDate": M}. */
int lsp_encode_status(int64_t twins, int64_t out_of_date, lsp_out_t *out);
/* $/progress with a string token. title is used by BEGIN only; message may be NULL;
 * percentage < 0 leaves it out. */
int lsp_encode_progress(const char *token, lsp_progress_kind_t kind, const char *title,
                        const char *message, int percentage, lsp_out_t *out);
/* Server-to-client requests, with a numeric id chosen by the caller. */
int lsp_encode_work_done_create(int64_t id, const char *token, lsp_out_t *out);
/* A request without params (e.g. workspace/diagnostic/refresh). */
int lsp_encode_request(int64_t id, const char *method, lsp_out_t *out);
/* workspace/configuration asking for the "unasync" section for each scope URI (NULL = none). */
int lsp_encode_configuration_request(int64_t id, const char *const *scope_uris, size_t n,
                                     lsp_out_t *out);
/* client/registerCapability of workspace/didChangeWatchedFiles for the given glob patterns. */
int lsp_encode_register_watchers(int64_t id, const char *reg_id, const char *const *globs, size_t n,
                                 lsp_out_t *out);
/* workspace/applyEdit of edits to one document. version < 0 sends plain "changes", else
 * "documentChanges" with that version. */
int lsp_encode_apply_edit(int64_t id, const char *label, const char *uri, int64_t version,
                          const lsp_text_edit_t *edits, size_t n, lsp_out_t *out);

#endif
