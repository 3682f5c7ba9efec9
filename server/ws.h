/* ws.h - the server's workspace core: projects and discovery, open documents (the engine's
 * overlay), diagnostic sets, the unasync/status counts, code actions, regenerate, lint fixes and
 * hover/definition data. It knows nothing of JSON-RPC, LSP types or libuv: it reports through
 * the callback table ws_hooks, which the LSP adapter (srv_lsp.c) and the libuv layer (srv_io.c)
 * implement, as clangd's ClangdServer reports to ClangdLSPServer. Built as its own static
 * library (server/meson.build) that links neither libuv, cJSON nor protocol/, so a stray call is
 * a link error.
 *
 * Paths are absolute and normalized; positions are 0-based lines and characters in the unit the
 * settings name (UTF-8 bytes, or UTF-16 code units). Errors are SRV_E* (server.h). */
#ifndef UNASYNC_WS_H
#define UNASYNC_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server.h"
#include "ua.h"

/* ------------------------------------------------------------------------ allocation */

/* The core stack's hook under the server's names (srv_alloc.c: each calls its ua_ namesake, so
 * srv_free and ua_free release each other's memory). A zero size asks for one byte, so NULL
 * always means failure; srv_free(NULL) does nothing. Memory from ue_*, ul_* and ua_* functions
 * is released with ua_free (or their *_free), memory from lsp_* with lsp_* functions. */
void *srv_malloc(size_t n);
void *srv_calloc(size_t n, size_t size);
void *srv_realloc(void *p, size_t n);
void srv_free(void *p);
/* Copies of a string (NULL for NULL) and of its first n bytes, NUL-terminated. */
char *srv_strdup(const char *s);
char *srv_strndup(const char *s, size_t n);

/* ------------------------------------------------------------------------- positions */

typedef struct ws_pos {
    int64_t line;      /* may be out of range when it comes from a client: callers clamp */
    int64_t character; /* in the negotiated unit */
} ws_pos;

typedef struct ws_range {
    ws_pos start, end;
} ws_range;

/* Byte offset of a position in text: lines past the end clamp to the end of the text,
 * characters past the end of a line clamp to the end of the line (before its line break), and
 * a UTF-16 position inside a surrogate pair clamps to the start of that character. */
size_t srv_text_offset(const char *text, size_t len, ws_pos pos, bool utf8);
/* The position of byte offset off (clamped to len). */
ws_pos srv_text_position(const char *text, size_t len, size_t off, bool utf8);
/* Replaces bytes [start, end) of *text with ins (offsets clamped), keeping a NUL after the
 * text. Returns 0 or SRV_ENOMEM (the text is then unchanged). */
int srv_text_replace(char **text, size_t *len, size_t *cap, size_t start, size_t end,
                     const char *ins, size_t ins_len);

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

/* ------------------------------------------------------------------------ the model */

/* An open document: the client's buffer, which overrides the file on disk. */
typedef struct ws_doc {
    char *uri;  /* the client's name for it, kept to answer in its own words */
    char *path; /* absolute, normalized; NULL for non-file URIs */
    int64_t version;
    char *text; /* NUL-terminated, len bytes */
    size_t len, cap;
    bool changed_since_open; /* typed in since it was opened (the "generated file" warning) */
} ws_doc;

typedef struct ws_folder {
    char *uri;
    char *path;
} ws_folder;

/* One diagnostic of a file (owned strings). */
typedef struct ws_diag {
    ws_range range;
    int severity; /* 1 error .. 4 hint */
    char code[8];
    char *message;
    char *rel_path; /* related information: the source lines; NULL = none */
    ws_range rel_range;
    bool drift; /* of a drifted pair: offers Regenerate */
    bool lint;  /* from the lint: replaced when typing pauses, may offer lint quick fixes */
    unsigned f_line, f_col; /* the lint finding's position (names its quick fixes) */
} ws_diag;

/* The diagnostics of one file, from the checks of every pair that touches it. */
typedef struct ws_file {
    char *path;
    char *source; /* the pair's source (absolute) for Regenerate; NULL = none */
    ws_diag *d;
    size_t n;
    bool config; /* the findings of an unasync.json: always pushed */
} ws_file;

typedef struct ws_settings {
    bool lint;          /* lint diagnostics and quick fixes */
    int drift_severity; /* of drift diagnostics, 1..4 */
    bool utf8;          /* positions in UTF-8 bytes, else UTF-16 code units */
    bool watch;         /* ask hooks.watch for the folders to watch (the client does not) */
    uint64_t idle_ms;   /* how long typing pauses before the pre-check; 0: never */
    bool lint_thread;   /* lint off the caller's thread through hooks.work, so that a save
                           never waits for a parse (the server); false: lint where asked, in
                           order (deterministic: tests, fault injection) */
} ws_settings;

typedef enum { WS_EV_OPEN, WS_EV_CHANGE, WS_EV_SAVE, WS_EV_CLOSE, WS_EV_DISK } ws_event;
typedef enum { WS_TIMER_IDLE, WS_TIMER_LINT, WS_N_TIMERS } ws_timer;
typedef enum { WS_PROGRESS_BEGIN, WS_PROGRESS_REPORT, WS_PROGRESS_END } ws_progress;

/* One replacement in an open document: bytes [off, off + del) of doc->text become text. */
typedef struct ws_edit {
    size_t off, del;
    const char *text;
} ws_edit;

/* How the core reports. Every hook returns 0 or SRV_E*; the core passes failures on to its
 * caller and keeps its state as it was before the report (a report is tried again with the next
 * change). ud is the hooks' own. */
typedef struct ws_hooks {
    void *ud;
    /* The diagnostics of f->path may have changed: publish them (the hook drops a set it has
     * already sent). */
    int (*diagnostics)(void *ud, const ws_file *f);
    /* A batch of diagnostics is complete (a pull client may be asked to pull again). */
    int (*settled)(void *ud);
    /* The numbers of twins and of drifted twins changed. */
    int (*status)(void *ud, size_t twins, size_t drifted);
    /* Progress of a whole-workspace check (pct < 0: none). */
    int (*progress)(void *ud, ws_progress stage, const char *msg, int pct);
    /* A message for the user's log: level 1 error .. 4 log. */
    void (*log)(void *ud, int level, const char *msg);
    /* Watch folder dir for changes of its files (ws_check_path with WS_EV_DISK). Watching the
     * same folder twice is one watch; a folder that cannot be watched is not an error. */
    int (*watch)(void *ud, const char *dir);
    /* (Re)starts timer `which` to call ws_timer_fired after ms milliseconds; ms < 0 stops it. */
    int (*timer)(void *ud, ws_timer which, int64_t ms);
    /* Asks the client to apply edits to an open document. */
    int (*apply_edit)(void *ud, const ws_doc *doc, const char *label, const ws_edit *e, size_t n);
    /* Runs run(arg) on another thread, then done(arg) on the core's thread (libuv's
     * uv_queue_work). done is called exactly once per accepted call, also while the core stops,
     * and before ws_free. Only with ws_settings.lint_thread; on failure (or NULL) the core runs
     * both itself. */
    int (*work)(void *ud, void (*run)(void *arg), void (*done)(void *arg), void *arg);
} ws_hooks;

typedef struct ws ws_t;

/* A new core reporting through *hooks (copied). Returns 0 with *out set, or SRV_ENOMEM. */
int ws_new(const ws_hooks *hooks, ws_t **out);
/* Frees the core, its documents, folders and results. ws_free(NULL) does nothing. */
void ws_free(ws_t *ws);
/* Stops all work: later calls report nothing (the server is exiting). */
void ws_stop(ws_t *ws);
/* The settings, which the caller may change between calls. */
ws_settings *ws_settings_of(ws_t *ws);

/* The open sources whose drift is kept live (re-transformed per edit, not whole), and the sums
 * of their engine counters (ue_live_stats): edits told, edits that took the transformer's full
 * pipeline, checks that built the whole twin. For tests and the benchmark. */
void ws_live_counts(const ws_t *ws, size_t *states, size_t *edits, size_t *full_transforms,
                    size_t *full_checks);

/* --------------------------------------------------------------- documents, folders */

ws_doc *ws_doc_find(ws_t *ws, const char *uri);
ws_doc *ws_doc_find_path(ws_t *ws, const char *path);
/* Adds an open document (taken on success). Returns 0 or SRV_ENOMEM. */
int ws_doc_add(ws_t *ws, ws_doc *d);
/* Removes the document named uri and hands it back (NULL when none is open). */
ws_doc *ws_doc_take(ws_t *ws, const char *uri);
void ws_doc_free(ws_doc *d);

/* Adds a workspace folder (copies; the same path twice is one folder). Returns 0 or
 * SRV_ENOMEM. */
int ws_folder_add(ws_t *ws, const char *uri, const char *path);
void ws_folder_remove(ws_t *ws, const char *path);
const ws_folder *ws_folders(const ws_t *ws, size_t *n);

/* ---------------------------------------------------------------------------- checks */

/* Re-checks whatever path concerns: a source, a twin, or a configuration file, and reports
 * every diagnostic set that changed and the status. ev tells what happened. */
int ws_check_path(ws_t *ws, const char *path, ws_event ev);
/* Finds the projects of every folder and checks all their sources (start-up, folders or
 * settings changed); progress through hooks.progress when `progress`. */
int ws_check_all(ws_t *ws, bool progress);
/* Asks hooks.watch for every workspace folder. */
int ws_watch_folders(ws_t *ws);
/* Timer `which` of hooks.timer has fired. */
void ws_timer_fired(ws_t *ws, ws_timer which);
/* ws_check_path, ws_check_all and ws_watch_folders return 0, or SRV_ENOMEM (SRV_EIO when a
 * report failed) when something could not be checked or reported: what was reported before
 * stays. */

/* The diagnostics of path as the last check found them (NULL *f: none). Queued lints run
 * first, unless the lint runs off the thread (ws_settings.lint_thread): then the set as it is,
 * and hooks.diagnostics and hooks.settled follow once the lint is done. Returns 0 or
 * SRV_ENOMEM. */
int ws_file_of(ws_t *ws, const char *path, const ws_file **f);

/* ---------------------------------------------------------------------------- actions */

typedef struct ws_action {
    char title[300];
    const char *kind;    /* "quickfix", "source", "source.fixAll.unasync" */
    const char *command; /* "unasync.regenerate", "unasync.regenerateAll", "unasync.lintFix" */
    char *arg_path;      /* unasync.regenerate: the source to regenerate */
    bool preferred;
    size_t *diags; /* indices into file->d of the diagnostics it fixes */
    size_t n_diags;
    /* unasync.lintFix: the fix, as ws_lint_fix names it */
    unsigned fix_line, fix_col;
    char fix_code[8];
    size_t fix_index;
} ws_action;

typedef struct ws_actions {
    const ws_file *file; /* the diagnostics the indices refer to; NULL = none */
    ws_action *v;
    size_t n;
} ws_actions;

/* The code actions for range of path. only/n_only is the client's filter of kinds (has_only
 * false: no filter; a kind passes when a filter entry is it or a prefix of it up to a dot).
 * Lint quick fixes are those of the lint diagnostics shown; queued lints run first unless the
 * lint runs off the thread (ws_settings.lint_thread). Returns 0 or SRV_ENOMEM (with *out
 * empty). Release out with ws_actions_free either way. */
int ws_code_actions(ws_t *ws, const char *path, ws_range range, const char *const *only,
                    size_t n_only, bool has_only, ws_actions *out);
void ws_actions_free(ws_actions *a);

/* Regenerates the twin of path (a source or a twin), or all when path is NULL: open twins get
 * hooks.apply_edit with minimal hunks, the others are written by the engine. Returns 0 or
 * SRV_E*. */
int ws_regenerate(ws_t *ws, const char *path);
/* Applies the lint quick fix `index` of the last lint of path, which must still be the one
 * found at line:col with code (else SRV_EINVAL): hooks.apply_edit for an open file, an atomic
 * write for one that is not open (unasync.json). Returns 0 or SRV_E*. */
int ws_lint_fix(ws_t *ws, const char *path, unsigned line, unsigned col, const char *code,
                size_t index);

/* Fixes every project's lint findings as `unasync --fix` does: rounds (at most WS_FIX_ROUNDS)
 * of the lint's fix plan (ul_plan_fixes: every preferred fix but one that overlaps a fix taken
 * before it) over the open buffers, each round over the bytes of the one before; then each
 * changed file gets its bytes, an open one as one hooks.apply_edit, another through the
 * engine's compare-and-write (ue_write_over: refused when it no longer holds the bytes the lint
 * read), and every twin is regenerated from the fixed bytes (open twins by hooks.apply_edit).
 * Skipped fixes and sources left alone are logged; a file refused is logged and left as it
 * was. Returns 0 or SRV_E* (out of memory while planning writes nothing). */
int ws_fix_all(ws_t *ws);
#define WS_FIX_ROUNDS 4

/* Where a position in a twin comes from. */
typedef struct ws_origin {
    char *source;  /* absolute path (srv_free) */
    unsigned line; /* 1-based line in the source */
    ws_pos pos;    /* the same place as a position in the source's text (buffer or disk) */
    char *drift;   /* the engine's drift finding for the twin (srv_free); NULL: in sync */
} ws_origin;

/* Maps position pos of twin path (its buffer, else the file) to its source. Returns 0 with *o
 * set (release o->source and o->drift with srv_free), 1 when path is not a twin that can be
 * mapped, or SRV_ENOMEM. */
int ws_twin_origin(ws_t *ws, const char *path, ws_pos pos, ws_origin *o);

#endif
