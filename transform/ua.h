/* ua.h - the unasync transformer: async C source bytes + configuration -> sync twin bytes,
 * a source map and findings.
 *
 * Architecture invariant: this library is a pure function of its inputs. It reads no file, writes
 * no file, keeps no global state but the allocation hook (set once, before use) and never links
 * libuv. The engine (engine/) does the I/O and is shared by the CLI and the language server.
 *
 * Ownership: every pointer a ua_* function stores into an out-parameter is owned by the caller and
 * released with the matching *_free function; *_free(NULL) does nothing. Memory that leaves the
 * library without such a function (a string from ua_twin_name, the text of ua_diff_unified) is
 * released with ua_free(), and a string that the caller puts into one of our structs (a finding's
 * related_file, say) must come from ua_malloc()/ua_strdup(): see "Allocation" below. Strings are
 * UTF-8 and NUL-terminated unless a length travels beside them. Lines and columns are 1-based;
 * columns count bytes. */
#ifndef UNASYNC_UA_H
#define UNASYNC_UA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Errors ------------------------------------------------------------------------------- */

/* libuv's scheme across the project: a system error is -errno, and each library's own codes lie
 * in a range of their own below -4096, so that no value means two things: transform UA_EBASE
 * (-10000), engine UE_EBASE (-10100), lint UL_EBASE (-10200), protocol LSP_EBASE (-10300), the
 * server SRV_EBASE (-10400), the runtime UNASYNC_EBASE (-20000), the limiter RL_EBASE (-30000).
 * tests/unit/test_errors.c checks that the ranges stay apart and that every code has its own
 * text. */
#define UA_EBASE (-10000)
#define UA_ERRNO_MAP(X)                                                                            \
    X(NOMEM, UA_EBASE - 1, "out of memory")                                                        \
    X(INVAL, UA_EBASE - 2, "invalid argument")                                                     \
    X(CONFIG, UA_EBASE - 3, "invalid configuration")                                               \
    X(SOURCE, UA_EBASE - 4, "the source has errors; no twin was produced")                         \
    X(HEADER, UA_EBASE - 6, "not a generated file (no unasync header)")

enum {
#define UA_ERR_ENUM(name, value, text) UA_E##name = value,
    UA_ERRNO_MAP(UA_ERR_ENUM)
#undef UA_ERR_ENUM
};

/* A static description of an error code returned by a ua_* function (the transformer returns
 * nothing else), "unknown error" for any other value. Never NULL. */
const char *ua_strerror(int err);

/* ---- Allocation ----------------------------------------------------------------------------- */

/* Every heap allocation and free of this library goes through these, so tests can fail the Nth
 * allocation. Passing NULL for all three restores malloc/realloc/free. Not thread-safe: set it
 * before any other ua_* call, and keep it while anything allocated under it lives (memory must be
 * released by the free_fn that matches its malloc_fn). A zero size asks for one byte, so NULL
 * always means failure. */
void ua_set_allocator(void *(*malloc_fn)(size_t), void *(*realloc_fn)(void *, size_t),
                      void (*free_fn)(void *));
void *ua_malloc(size_t n);
/* Zeroed; NULL when n * size overflows. */
void *ua_calloc(size_t n, size_t size);
void *ua_realloc(void *p, size_t n);
/* ua_free(NULL) does nothing. */
void ua_free(void *p);
/* Copies of a string (NULL for NULL) and of its first n bytes (NUL-terminated), from ua_malloc:
 * release with ua_free(). NULL on allocation failure. */
char *ua_strdup(const char *s);
char *ua_strndup(const char *s, size_t n);

/* ---- Findings ----------------------------------------------------------------------------- */

/* Same numbering as LSP's DiagnosticSeverity so the server can pass it through. */
typedef enum { UA_ERROR = 1, UA_WARNING = 2, UA_INFO = 3, UA_HINT = 4 } ua_severity;

/* One message about one place. `file` is a path relative to the project root (the folder that
 * holds unasync.json), or the configuration file's path for configuration findings. `end_line`/
 * `end_col` delimit the range (exclusive end); they equal line/col+1 for a point finding.
 * `related_*` optionally points at a second place (e.g. the source line a twin hunk came from;
 * related_file is NULL when there is none). The strings are the list's: code that sets or
 * replaces one allocates it with ua_strdup() and releases the old one with ua_free(). */
typedef struct ua_finding {
    char *file;
    unsigned line, col, end_line, end_col;
    ua_severity severity;
    char code[8];
    char *message;
    char *related_file;
    unsigned related_line, related_col;
} ua_finding;

/* A growable list of findings. Zero-initialise it; release with ua_findings_free(). */
typedef struct ua_findings {
    ua_finding *v;
    size_t n, cap;
} ua_findings;

/* Appends a finding (copying file and the formatted message). Returns 0 or UA_ENOMEM. */
int ua_findings_add(ua_findings *fs, const char *file, unsigned line, unsigned col,
                    ua_severity sev, const char *code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 7, 8)))
#endif
    ;
/* Same as ua_findings_add with an explicit range (exclusive end). */
int ua_findings_addr(ua_findings *fs, const char *file, unsigned line, unsigned col,
                     unsigned end_line, unsigned end_col, ua_severity sev, const char *code,
                     const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 9, 10)))
#endif
    ;
/* Appends a copy of `f` (related information included). Returns 0, or UA_ENOMEM with the list
 * unchanged. */
int ua_findings_copy(ua_findings *fs, const ua_finding *f);
/* Moves every finding of `from` to the end of `to`; `from` is left empty. */
int ua_findings_take(ua_findings *to, ua_findings *from);
/* Releases the findings from index `n` on, keeping the first n (nothing when there are fewer). */
void ua_findings_truncate(ua_findings *fs, size_t n);
/* Sorts findings by file, line, column, code, message: the stable order of every report. */
void ua_findings_sort(ua_findings *fs);
size_t ua_findings_count(const ua_findings *fs, ua_severity sev);
void ua_findings_free(ua_findings *fs);

/* ---- Configuration (unasync.json) --------------------------------------------------------- */

/* One rename rule. `from`/`to` hold at most one '*' each (both or neither); the '*' part carries
 * over. `line`/`col` locate the rule's key in the configuration file. */
typedef struct ua_rule {
    char *from, *to;
    unsigned line, col;
    int is_glob;
    size_t from_len, prefix_len, suffix_len; /* literal parts around the '*' (glob) */
} ua_rule;

typedef struct ua_lint_level {
    char code[8];
    int severity; /* ua_severity, or 0 for "off" */
} ua_lint_level;

/* One entry of "blocking" (the lint's UA004 list): `name` blocks the event loop; `twin` is its
 * async replacement (NULL when none is known); `blocking` is 0 when the entry takes a function
 * off the built-in list. */
typedef struct ua_blocking_rule {
    char *name, *twin;
    int blocking;
} ua_blocking_rule;

/* One "headers" entry of a rule map: `#include <from>` (or "from") becomes `to` in a twin. */
typedef struct ua_header_pair {
    char *from, *to;
} ua_header_pair;

/* A rule map: the async->sync names and headers that a library built with unasync publishes so
 * that its users' twins call its sync API (docs/configuration.md, "maps"). The runtime's map
 * (runtime/unasync-runtime.json: async_* -> sync_*, <unasync/async.h> -> <unasync/sync.h>) is
 * built in and always in force; the transformer knows no other name or header. */
typedef struct ua_map {
    char *name; /* "unasync-limiter" */
    char *path; /* where it was read, for findings */
    ua_rule *rules;
    size_t nrules;
    ua_header_pair *headers;
    size_t nheaders;
} ua_map;

/* One entry of the configuration's "maps" list: a map's name or a path, and where it stands. */
typedef struct ua_map_ref {
    char *name;
    unsigned line, col;
} ua_map_ref;

/* A parsed, validated unasync.json. Paths inside are as written (relative to the file). */
typedef struct ua_config {
    char *path; /* the configuration file, as given to ua_config_parse (for findings) */
    char **sources;
    size_t nsources;
    char **exclude;
    size_t nexclude;
    char *twin; /* "sync_{name}" by default */
    ua_rule *rules;
    size_t nrules;
    char *marker_async, *marker_await;
    char *compile_commands; /* NULL when absent */
    char **compile_flags;
    size_t ncompile_flags;
    ua_lint_level *lint;
    size_t nlint;
    ua_blocking_rule *blocking;
    size_t nblocking;
    unsigned sources_line, sources_col; /* where "sources" stands, for findings about it */
    ua_map_ref *map_refs; /* "maps" as written; the engine finds and loads them */
    size_t nmap_refs;
    ua_map **maps; /* the maps in force: the built-in runtime map first, then those added */
    size_t nmaps;
} ua_config;

/* Parses and validates `len` bytes of unasync.json. Every problem (JSON syntax, unknown key, wrong
 * type, invalid glob or rule, colliding rules) is appended to `findings` as
 * `display_path:line:col` with severity error, and the function returns UA_ECONFIG with *out
 * NULL. On success *out is a new configuration owned by the caller (ua_config_free()). Returns
 * UA_ENOMEM, with *out NULL and `findings` as they were, when memory runs out. */
int ua_config_parse(const char *json, size_t len, const char *display_path, ua_config **out,
                    ua_findings *findings);
/* Releases a configuration and the maps it holds. */
void ua_config_free(ua_config *cfg);

/* Parses `len` bytes of a rule map file ({"unasync_map": 1, "name", "rename", "headers"}).
 * Problems are UA300 findings at `display_path:line:col` and the result is UA_ECONFIG with *out
 * NULL; UA_ENOMEM leaves `findings` as they were. On success *out is the caller's
 * (ua_map_free()). */
int ua_map_parse(const char *json, size_t len, const char *display_path, ua_map **out,
                 ua_findings *findings);
void ua_map_free(ua_map *map);

/* Puts `map` in force in `cfg`, which takes it over whatever the result (it is freed on
 * failure). A map of the same name replaces the one there (an explicit "unasync-runtime"
 * replaces the built-in copy). When it renames a name or redirects a header differently from a
 * map already in force, that is a UA300 finding at `cfg->path` line/col of `ref` (NULL: 1:1),
 * naming both maps, and the result is UA_ECONFIG. Returns 0, UA_ECONFIG or UA_ENOMEM. */
int ua_config_add_map(ua_config *cfg, ua_map *map, const ua_map_ref *ref, ua_findings *findings);
/* Whether `s` is a valid map name: what pkg-config calls a package (letters, digits, '.', '_',
 * '+', '-'), not starting with '-' or '.', at most 200 characters. */
int ua_map_name_ok(const char *s);
/* Whether a "maps" entry names a file (it has a '/' or ends in .json) rather than a map's name. */
int ua_map_ref_is_path(const char *ref);
/* The map in force named `name`, or NULL. */
const ua_map *ua_config_map(const ua_config *cfg, const char *name);
/* The twin spelling of an #include's header name (as written between <> or ""), from the maps
 * in force; NULL when no map lists it. The string belongs to the configuration. */
const char *ua_map_header(const ua_config *cfg, const char *name, size_t len);

/* The twin file name of a source base name under `pattern` ("sync_{name}", "{stem}_sync.{ext}").
 * Returns a new string, which the caller releases with ua_free(), or NULL on allocation
 * failure. */
char *ua_twin_name(const char *pattern, const char *base);
/* Whether base name `base` is what `pattern` makes of some other name (a twin is never a source). */
int ua_is_twin_name(const char *pattern, const char *base);

/* ---- Rename rules ------------------------------------------------------------------------- */

/* Index in hit counts of every rule that comes from a rule map: it follows the configured ones. */
#define UA_RULE_MAPS(cfg) ((cfg)->nrules)

/* Applies the rules to identifier `name` (length `len`). On a match writes the new name into
 * `out` (capacity `cap`, NUL-terminated), stores the index of the rule in *rule (a configured
 * rule's index, or UA_RULE_MAPS for a rule of a map) and returns the new length; returns 0 when
 * no rule applies and -1 when the result would not fit. The project's own rules come first; the
 * maps' rules apply only to a name none of them matches. Among rules of one kind the most
 * specific wins: an exact rule, then the glob with the most literal characters, then the longest
 * literal prefix, then the first rule. */
int ua_rename(const ua_config *cfg, const char *name, size_t len, char *out, size_t cap,
              size_t *rule);

/* ---- Source map --------------------------------------------------------------------------- */

/* One replacement: source bytes [src_off, src_off+src_len) became output bytes
 * [out_off, out_off+out_len). Bytes between edits are identical. Sorted by src_off. */
typedef struct ua_edit {
    size_t src_off, src_len, out_off, out_len;
} ua_edit;

typedef struct ua_srcmap {
    ua_edit *edits;
    size_t n, cap;
} ua_srcmap;

/* Maps a byte offset of the source to the twin and back. An offset inside a replaced span maps to
 * the start of its counterpart, clamped to its length; an offset inside removed text maps to the
 * point where it was removed. */
size_t ua_map_to_twin(const ua_srcmap *map, size_t src_off);
size_t ua_map_to_source(const ua_srcmap *map, size_t twin_off);

/* Line/column helpers over a byte buffer (1-based line, 1-based byte column). */
void ua_offset_to_linecol(const char *buf, size_t len, size_t off, unsigned *line, unsigned *col);
/* Offset of the start of 1-based `line` (len when past the end). */
size_t ua_line_offset(const char *buf, size_t len, unsigned line);

/* ---- Transform ---------------------------------------------------------------------------- */

/* What the transformer knows about the project: its configuration and its sources (paths relative
 * to the project root, '/'-separated, sorted). The sources decide which #include lines are
 * redirected to a twin. */
typedef struct ua_project {
    const ua_config *cfg;
    const char *const *sources;
    size_t nsources;
} ua_project;

/* Reusable transformer state. It holds nothing since the transformer has its own lexer (it used to
 * be a libclang index); kept so that callers need not change. One per thread; NULL is accepted
 * everywhere. */
typedef struct ua_ctx ua_ctx;
ua_ctx *ua_ctx_new(void);
void ua_ctx_free(ua_ctx *ctx);

typedef struct ua_output {
    char *bytes; /* the whole twin, header line included; NULL when the source has errors */
    size_t len;
    ua_srcmap map;
    ua_findings findings;
    size_t *rule_hits; /* per rule: configured rules, then all maps' (nrules + 1 entries) */
    size_t header_len; /* bytes of line 1, end of line included */
} ua_output;

/* Transforms `len` bytes of the async source `src_rel` (relative to the project root). Always
 * fills `out` with findings; out->bytes is set only when there is no error finding. Returns 0,
 * UA_ESOURCE when the source has errors (see out->findings), or UA_ENOMEM/UA_EINVAL;
 * after UA_ENOMEM `out` holds nothing (no partial findings). Release `out` with ua_output_free()
 * whatever the result. */
int ua_transform(ua_ctx *ctx, const ua_project *proj, const char *src_rel, const char *src,
                 size_t len, ua_output *out);
void ua_output_free(ua_output *out);

/* ---- Generated-file header ---------------------------------------------------------------- */

/* What line 1 of a generated file says. */
typedef struct ua_header {
    char source[1024];    /* unasync:source=..., relative to the project root */
    char body_sha256[65]; /* hex */
    size_t header_len;    /* bytes of line 1 including its end of line */
} ua_header;

/* Parses line 1 of `buf`. Returns 0, or UA_EHEADER when the file is not one of ours. */
int ua_header_parse(const char *buf, size_t len, ua_header *h);
/* Whether `buf` still carries our header's words near its start even though line 1 no longer
 * parses (a formatter wrapped it, say): such a file is ours, edited, not a hand-written one. */
int ua_header_looks_generated(const char *buf, size_t len);
/* Whether the body of `buf` (everything after line 1) still hashes to the header's value. */
int ua_header_body_intact(const char *buf, size_t len, const ua_header *h);

/* Whether `len` bytes are a compile_commands.json that LLVM's loader accepts: a JSON array of
 * objects with string "directory", "file" and "command" (or "arguments", a list of strings),
 * and no other key but "output". The lint asks before handing a database to libclang, whose
 * loader prints "LIBCLANG TOOLING ERROR" on stderr for one it refuses. Returns 0, UA_ECONFIG
 * with the place and a message (capacity `cap`), or UA_ENOMEM. */
int ua_compile_db_check(const char *json, size_t len, unsigned *line, unsigned *col, char *msg,
                        size_t cap);

/* SHA-256 of `len` bytes as 64 lowercase hex digits + NUL. */
void ua_sha256_hex(const void *data, size_t len, char out[65]);

/* ---- Line diff ---------------------------------------------------------------------------- */

/* One hunk: lines [a_line, a_line+a_count) of A are replaced by [b_line, b_line+b_count) of B
 * (0-based line numbers; a count of 0 means an insertion/deletion point). */
typedef struct ua_hunk {
    size_t a_line, a_count, b_line, b_count;
} ua_hunk;

typedef struct ua_diff {
    ua_hunk *hunks;
    size_t n, cap;
} ua_diff;

/* Computes a minimal line diff (Myers, linear space) from A to B. Lines keep their end of line.
 * Returns 0 or UA_ENOMEM. */
int ua_diff_lines(const char *a, size_t alen, const char *b, size_t blen, ua_diff *out);
void ua_diff_free(ua_diff *d);
/* Appends a unified diff (`--- a_name`, `+++ b_name`, hunks with `context` lines) to *buf and *len
 * (grown with ua_realloc; NUL-terminated). *buf is NULL or memory from this library, and the caller
 * releases it with ua_free(). Returns 0 (nothing is appended when `d` has no hunk) or UA_ENOMEM;
 * on UA_ENOMEM *buf holds the bytes it held before (it may have moved) and *len is unchanged. */
int ua_diff_unified(const char *a, size_t alen, const char *b, size_t blen, const ua_diff *d,
                    const char *a_name, const char *b_name, unsigned context, char **buf,
                    size_t *len);

#ifdef __cplusplus
}
#endif
#endif
