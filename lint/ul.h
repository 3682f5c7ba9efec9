/* ul.h - the async-correctness lint: parses an async source with libclang and the project's real
 * compile flags, and reports await misuse, blocking calls in async code and link collisions.
 *
 * Rules (docs/lint/UA00N.md): UA001 a call to an async function without await; UA002 await on a
 * call that is not async; UA003 await or an async call inside a function that is not async;
 * UA004 a blocking call inside an async function; UA005 an external symbol that the rename rules
 * leave unchanged (its twin collides with it at link time); UA009 a call to (or the address of)
 * an async function declared outside the sources that no rule renames (the twin would call it
 * from blocking code); UA010 a type of an async header whose twin differs under the same name.
 * A function passed to async_run or async_spawn is an async context. UA000 says, once, that the
 * lint is limited (no compile flags, or headers not found) instead of reporting false errors; it
 * is an error, so that a lint that could not look never passes. UA006 and
 * UA008 come from the transformer and UA007 from the engine; ul_apply_levels and ul_apply_ignores
 * make every UA0xx code honour the "lint" severities of unasync.json and the
 * `// unasync: ignore[UA004]` comment.
 *
 * The lint is not pure: libclang reads headers and compile_commands.json from disk. It never
 * writes a file. Ownership follows ua.h: what an out-parameter receives belongs to the caller;
 * *_free(NULL) does nothing. Lines and columns are 1-based, columns count bytes.
 *
 * Allocation: like engine/, the lint allocates and frees only through transform's hook
 * (ua_set_allocator: ua_malloc ... ua_free; libclang's own memory is out of its reach), so one
 * hook covers transform, engine and lint. Memory that a ul_* function returns for the caller
 * to free (ul_fix_apply's buffer) is released with ua_free(). UL_ENOMEM leaves nothing partial:
 * a result or report holds the findings it held before the call. */
#ifndef UNASYNC_UL_H
#define UNASYNC_UL_H

#include "engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Errors ------------------------------------------------------------------------------- */

/* The lint runs on transform's allocator and argument checks, so its out-of-memory and
 * invalid-argument codes are the transformer's (one condition, one value); its own codes would
 * lie below UL_EBASE (see ua.h for the ranges; none is returned today). A ul_* function also
 * passes on the engine's UE_E* codes and -errno from the files it reads. */
#define UL_EBASE (-10200)
#define UL_ERRNO_MAP(X)                                                                            \
    X(NOMEM, UA_ENOMEM, "out of memory")                                                           \
    X(INVAL, UA_EINVAL, "invalid argument")

enum {
#define UL_ERR_ENUM(name, value, text) UL_E##name = value,
    UL_ERRNO_MAP(UL_ERR_ENUM)
#undef UL_ERR_ENUM
};

/* A static text for any code a ul_* function returns: the lint's, the engine's, the
 * transformer's and -errno (ue_strerror); "unknown error" for anything else. Never NULL. */
const char *ul_strerror(int err);

/* The documentation link of a code: UL_DOCS_BASE (set by lint/meson.build to the installed
 * docs/lint folder as a file:// URI) + "UA004.md". A static string, or NULL for codes without a
 * page (only UA000..UA010 have one). */
const char *ul_code_href(const char *code);

/* ---- Blocking calls (UA004) --------------------------------------------------------------- */

/* One blocking function. `twin` names its async replacement (NULL when there is none). `fix`
 * says how the quick fix rewrites the call: NULL offers none, "" replaces the callee's name with
 * `await <twin>` (same signature), and any other string is a template for the whole call in
 * which "%s" stands for the argument text (one argument only). */
typedef struct ul_blocking {
    const char *name;
    const char *twin;
    const char *fix;
} ul_blocking;

/* The default list: sleep/usleep/nanosleep, pthread mutex/cond/join, blocking socket and file
 * I/O, getaddrinfo, system, hiredis' blocking API. *n receives its length. */
const ul_blocking *ul_default_blocking(size_t *n);

/* ---- Quick fixes -------------------------------------------------------------------------- */

/* One edit that fixes one finding. The finding is named by code and position (findings are
 * sorted and filtered after the lint, so an index would not survive). The edit replaces bytes
 * [off, off+len) of `file` (a project-relative path: the source, or "unasync.json") with `text`;
 * start/end give the same range as lines and byte columns (exclusive end). */
typedef struct ul_fix {
    char code[8];
    unsigned line, col; /* the finding's position */
    char *title;
    char *file;
    size_t off, len;
    unsigned start_line, start_col, end_line, end_col;
    char *text;
    /* The fix a person would apply unattended: the editor marks it preferred and `unasync --fix`
     * applies it. UA001 (insert await), UA002 (remove await), UA004 (the same-meaning async
     * twin) and UA005, UA009, UA010 (add a rename rule) are preferred; UA003 (mark it async) not,
     * because it changes the function's contract for every caller (docs/lint/UA00N.md, "Fix"). */
    int preferred;
    /* A rename-rule fix of unasync.json: the rule it adds; NULL for every other fix. */
    char *rule_name, *rule_target;
} ul_fix;

typedef struct ul_fixes {
    ul_fix *v;
    size_t n, cap;
} ul_fixes;

void ul_fixes_free(ul_fixes *fx);

/* Applies one fix to `len` bytes of its file, returning a new buffer in *out (NUL-terminated,
 * length *out_len; release with ua_free). Returns 0, UL_EINVAL when the range lies outside the
 * bytes, or UL_ENOMEM. */
int ul_fix_apply(const ul_fix *fx, const char *bytes, size_t len, char **out, size_t *out_len);

/* Whether fixes a and b of one file cannot both be applied: their byte ranges intersect, or one
 * inserts inside or at the start of the other's range, or both insert different text at one
 * offset. Identical fixes do not overlap (applying one applies both), nor do two rename-rule
 * fixes (ul_fixes_apply merges them). */
int ul_fix_overlaps(const ul_fix *a, const ul_fix *b);

/* Applies fixes v[0..n) of one file to its `len` bytes in one pass, returning a new buffer in
 * *out (NUL-terminated, length *out_len; release with ua_free). The fixes must be sorted by
 * offset and pairwise free of overlaps (ul_fix_overlaps); identical fixes are applied once.
 * Rename-rule fixes are re-derived one after another on the growing bytes, so several rules
 * end up in one "rename" object, each name once. Returns 0, UL_EINVAL (a range outside the
 * bytes, or fixes out of order or overlapping: nothing applied), or UL_ENOMEM. */
int ul_fixes_apply(const ul_fix *const *v, size_t n, const char *bytes, size_t len, char **out,
                   size_t *out_len);

/* ---- Linting ------------------------------------------------------------------------------ */

/* Options of a lint context. Zero-initialise. `keep` makes the context keep each source's
 * translation unit and reparse it on the next call with a precompiled preamble (the language
 * server); without it every call parses afresh and frees the unit (the CLI). In keep mode an
 * edit inside one function body of a source with 50 or more functions reparses only that body
 * (the others blanked) and keeps the previous findings of the others, moved by the edit: the
 * result equals a full lint's. `blocking`
 * replaces the default UA004 list when not NULL. */
typedef struct ul_options {
    int keep;
    const ul_blocking *blocking;
    size_t nblocking;
} ul_options;

/* Lint state: a libclang index, compilation databases by folder, and (with keep) translation
 * units by file. One per thread. */
typedef struct ul_ctx ul_ctx;

/* A new context (options copied; the blocking list is referenced and must outlive it), or NULL
 * when out of memory. The first context of a process loads libclang (lint/ul_clang.h: the
 * executables do not link it); when it cannot be loaded the context is made all the same and
 * every ul_lint_source through it reports one UA000 error saying what is missing. */
ul_ctx *ul_ctx_new(const ul_options *opt);
void ul_ctx_free(ul_ctx *ctx);
/* Forgets the translation units kept for sources of project p (its configuration or compile
 * database changed). */
void ul_ctx_forget(ul_ctx *ctx, const ue_project *p);

/* The outcome of linting one source. `limited` is 1 when the lint could not run fully (the
 * UA000 finding says why); no rule finding is reported then. */
typedef struct ul_result {
    ua_findings findings;
    ul_fixes fixes;
    int limited;
    /* 1 when libclang found errors in the source itself (malformed C): the findings stand, but
     * the AST around the errors is a guess, so `unasync --fix` leaves such a file alone. Set by
     * full parses (not by the incremental lint of a kept unit). */
    int source_errors;
} ul_result;

void ul_result_free(ul_result *r);

/* Lints `len` bytes of source `rel` of project `p` (the bytes are what the editor or the disk
 * holds; headers are read from disk). Compile flags come from the configuration's
 * compile_commands or compile_flags, else from a compile_commands.json found in the source's
 * folder, its parents up to the project root, or their build/ folders. `ov` (may be NULL)
 * overrides unasync.json's bytes for the rename-rule fix. Findings carry raw severities (apply
 * ul_apply_levels and ul_apply_ignores to honour the configuration). Returns 0, UL_ENOMEM or
 * UL_EINVAL; a source libclang cannot parse, or a context without libclang (it could not be
 * loaded), yields a UA000 error finding, `limited` and 0. */
int ul_lint_source(ul_ctx *ctx, const ue_project *p, const char *rel, const char *bytes, size_t len,
                   const ue_overlay *ov, ul_result *out);

/* ---- Fix plans (unasync --fix, the editor's source.fixAll) -------------------------------- */

/* One file a plan changes: a source or "unasync.json" (project-relative), the bytes the lint read
 * (`before`) and the bytes with the plan's fixes applied (`after`, never equal to before). */
typedef struct ul_plan_file {
    char *rel;
    char *before, *after;
    size_t before_len, after_len;
    size_t nfixes; /* fixes taken in this file */
} ul_plan_file;

/* A preferred fix not taken because it overlaps `by`, a fix taken before it (in file and offset
 * order); `source` and `by_source` are the sources whose findings they fix. */
typedef struct ul_plan_skip {
    ul_fix fix, by;
    char *source, *by_source;
} ul_plan_skip;

/* A source the plan leaves alone: its lint failed (rc, a UL_E* or -errno code), or rc is 0 and
 * libclang found errors in its C while it has preferred fixes (no fix over a guess). */
typedef struct ul_plan_source {
    char *rel;
    int rc;
} ul_plan_source;

typedef struct ul_plan {
    ul_plan_file *files; /* sorted by path */
    size_t nfiles;
    ul_plan_skip *skips;
    size_t nskips;
    ul_plan_source *left; /* sources left alone, in report order */
    size_t nleft;
    size_t nfixes; /* fixes taken, over all files */
    int config_changed; /* one of the files is unasync.json */
} ul_plan;

/* Plans one round of fixes over the sources of report r (ue_check's, which selected them): each
 * source that the transformer could read and transform is linted as --check lints it
 * (ul_lint_source, then the configuration's severities and ignore comments), every finding's
 * preferred fix is taken except one that overlaps a fix taken before it (in file and offset
 * order: recorded in plan->skips), and each changed file's new bytes are computed in one pass
 * (ul_fixes_apply). A source whose lint is limited takes no fix; one whose C has errors neither
 * (plan->left). Sources and unasync.json are read from `ov` when it holds them (the editor's
 * buffers, or the bytes of an earlier round), else from disk, unasync.json before any lint.
 * `ctx` is the caller's (one per thread). Returns 0, UL_ENOMEM (the plan empty), or an error
 * reading unasync.json (-errno, UE_E*: the plan empty). Release with ul_plan_free either way.
 * One round can enable another (an await inserted inside a rewritten call): `unasync --fix`
 * plans again over the fixed bytes, at most 4 times. */
int ul_plan_fixes(ul_ctx *ctx, const ue_project *p, const ue_report *r, const ue_overlay *ov,
                  ul_plan *plan);
void ul_plan_free(ul_plan *plan);

/* The lint writes nothing: a plan's file f is written with ue_write_over(p, f->rel, f->before,
 * f->before_len, f->after, f->after_len), which refuses (UE_ECHANGED) when the file no longer
 * holds the bytes the lint read. */

/* ---- Severities and ignore comments ------------------------------------------------------- */

/* Gives each UA0xx finding the severity that the configuration's "lint" object names for its
 * code, and drops findings whose code is "off". Fixes of dropped findings are dropped too when
 * `fx` is not NULL. */
void ul_apply_levels(const ua_config *cfg, ua_findings *fs, ul_fixes *fx);

/* Drops each UA0xx finding of file `rel` whose line carries an ignore comment for its code:
 * `// unasync: ignore[UA004]`, `ignore[UA001,UA002]`, or a bare `// unasync: ignore` for
 * every code (the comment may also be a block comment). `bytes` are the file's contents. */
void ul_apply_ignores(const char *rel, const char *bytes, size_t len, ua_findings *fs,
                      ul_fixes *fx);

/* ---- Whole projects (unasync --check) ----------------------------------------------------- */

/* Lints every source of report r (the sources ue_check selected: its twins name them) on up to
 * `jobs` threads, appends the findings to r->findings (one UA000 for the whole run when the lint
 * is limited, naming how many sources it concerns), then applies severities and ignore comments
 * to r->findings and to each twin's transform findings and sorts r->findings again. With `lint`
 * 0 only the severities and ignore comments are applied. Returns 0 or UL_ENOMEM. */
int ul_check_report(ue_project *p, int lint, int jobs, ue_report *r);

#ifdef __cplusplus
}
#endif
#endif
