/* ul_int.h - declarations shared by the lint's files: compile flags, the context, small helpers. */
#ifndef UNASYNC_UL_INT_H
#define UNASYNC_UL_INT_H

#include "ul.h"

#include "ul_clang.h" /* libclang through a table, loaded on first use */

/* Compile arguments for one source, owned strings. `why` (NULL or a new string) explains what
 * limits the lint before parsing: no flags were found, or the configured database is missing. */
typedef struct ul__args {
    char **v;
    int n, cap;
    int guessed; /* no compile_commands or compile_flags applied: defaults were used */
    char *why;
    char *dropped; /* NULL, or the flags the allow-list dropped, space-separated (ul_flags.c) */
} ul__args;

void ul__args_free(ul__args *a);
int ul__args_push(ul__args *a, const char *s);

/* A compilation database loaded from one folder. */
typedef struct ul__db {
    char *dir;
    CXCompilationDatabase db;
} ul__db;

/* What one walk of a unit produced, for the incremental lint (ul_inc.c): where its findings
 * and fixes start (f0/x0), where the judged calls' start (f2/x2) and where the stray awaits'
 * start (f3/x3), and the byte offsets of the '{' and '}' of every function body of the main
 * file (two per body, in source order). `walked` is 0 when the walk did not run (limited). */
typedef struct ul__marks {
    size_t f0, f2, f3, x0, x2, x3;
    size_t *body;
    size_t nbody, capbody;
    int walked;
    int body_bad; /* a body whose braces are not plain '{' and '}' bytes of the source */
    /* fixes that depend on the whole source (a glob over several names, UA009): the
     * incremental lint cannot keep them for the bodies it does not reparse */
    int volatile_fixes;
} ul__marks;

/* A translation unit kept for reparsing (ul_options.keep). */
typedef struct ul__tu {
    const ue_project *p;
    char *abs;
    ul__args args;
    CXTranslationUnit tu;
    char **names; /* async functions its headers declare (see header_names) */
    size_t nnames;
    int names_done;
    /* the last lint of this unit, for the incremental lint: its bytes, result and marks (with
     * f0 = x0 = 0); inc_ok is 0 when there is none */
    char *inc_bytes;
    size_t inc_len;
    ul_result inc_res;
    ul__marks inc_m;
    const ua_config *inc_cfg;
    int inc_ok;
} ul__tu;

struct ul_ctx {
    ul_options opt;
    CXIndex index;     /* NULL when libclang could not be loaded: then `no_clang` says why */
    const char *no_clang; /* static text (ul_clang_load) */
    CXIndex aux_index; /* lists every declaration (keep mode's header_names), made on demand */
    ul__db *dbs;
    size_t ndbs;
    ul__tu *tus;
    size_t ntus;
    unsigned long inc_hits; /* lints answered by the incremental lint (for the tests) */
};

/* Fills *a with the compile arguments for absolute source path `abs` of project p. Returns 0 or
 * UL_ENOMEM. */
int ul__flags(ul_ctx *ctx, const ue_project *p, const char *abs, ul__args *a);

/* Drops what was appended to out from findings n0 and fixes x0 on. */
void ul__result_truncate(ul_result *out, size_t n0, size_t x0);

/* The zeroed slot after the last fix (room made, fx->n unchanged), or NULL when out of memory. */
ul_fix *ul__fix_slot(ul_fixes *fx);

/* Releases the strings of one fix (the slot itself stays). */
void ul__fix_clear(ul_fix *f);

/* Makes *d a copy of f (its own strings). Returns 0 or UL_ENOMEM (with *d cleared). */
int ul__fix_dup(ul_fix *d, const ul_fix *f);

/* Appends a fix. Returns 0 or UL_ENOMEM. */
int ul__fix_add(ul_fixes *fx, const char *code, unsigned line, unsigned col, const char *title,
                const char *file, const char *bytes, size_t len, size_t off, size_t del,
                const char *text);

/* The fix of finding `code` that adds a rename rule `name` -> `target` to the configuration
 * bytes. */
int ul__fix_rename_rule(ul_fixes *fx, const char *code, unsigned line, unsigned col,
                        const char *title, const char *cfg_bytes, size_t cfg_len, const char *name,
                        const char *target);

/* The rename target to propose for `name` (an identifier or a glob with one '*'), in the shape
 * of the project's configured rules: the text they insert ("sync_") where they insert it (in
 * front, after a short module prefix as in rl_limiter* -> rl_sync_limiter*, or at the end).
 * Without such rules: "sync_" after a module prefix of at most 4 characters, else in front. */
void ul__rule_target(const ua_config *cfg, const char *name, char *out, size_t cap);

/* The rule map, available but not in force in cfg, that lists header `path` (an absolute path
 * that ends with one of the map's "headers" spellings): its name in `name`. Looks in the folders
 * of $UNASYNC_MAP_PATH, then among the maps installed beside this unasync. Returns 1 when found,
 * 0 when not, or UL_ENOMEM. */
int ul__map_for_header(const ua_config *cfg, const char *path, char *name, size_t cap);

/* The fix of finding `code` that adds map `map` to the configuration's "maps" list (creating
 * the list when there is none). */
int ul__fix_add_map(ul_fixes *fx, const char *code, unsigned line, unsigned col, const char *title,
                    const char *cfg_bytes, size_t cfg_len, const char *map);

/* The functions that the source passes to async_run or async_spawn (coroutine entries: async
 * contexts), found in the source text outside comments and literals. Appends new strings to
 * *v (release each and the array with ua_free). Returns 0 or UL_ENOMEM. */
int ul__entries(const char *src, size_t len, char ***v, size_t *n);

/* The offset after the comment, string or character literal at offset i of b, or i when none
 * starts there. */
size_t ul__skip_noncode(const char *b, size_t len, size_t i);

/* The kept unit of abs in project p with exactly these arguments, or NULL. */
ul__tu *ul__tu_find(ul_ctx *ctx, const ue_project *p, const char *abs, const ul__args *args);
/* Frees a kept unit and removes it from the context (after a failed reparse). */
void ul__tu_drop(ul_ctx *ctx, ul__tu *t);

/* Lints the parsed unit tu (owned by the caller; kept is its ul__tu or NULL) over the `len`
 * source bytes: the UA000 preamble (`why`, `guessed` from the arguments), the walk and the rules.
 * Appends to out and fills *m (m->body is a new array the caller frees). Returns 0 or
 * UL_ENOMEM. */
int ul__lint_unit(ul_ctx *ctx, const ue_project *p, const char *rel, CXTranslationUnit tu,
                  ul__tu *kept, const char *bytes, size_t len, const char *why, int guessed,
                  const ue_overlay *ov, ul_result *out, ul__marks *m);

/* ---- incremental lint (ul_inc.c) ---- */

/* Where an edit lies, for the incremental lint: the edited body (its index in the marks), the
 * old end of the change and the size change. */
typedef struct ul__edit {
    long body;
    size_t old_end;
    ptrdiff_t delta;
} ul__edit;

/* Whether the edit from kept unit t's last lint to `bytes` lies strictly inside one function
 * body, and if so reparses t with every other body blanked. Returns 0 (e filled: lint t->tu,
 * then call ul__inc_merge), 1 when a full parse is needed instead, 2 when the reparse failed (t
 * must be dropped, then a full parse), or UL_ENOMEM. */
int ul__inc_reparse(ul__tu *t, const ue_project *p, int limited, const char *bytes, size_t len,
                    ul__edit *e);
/* Merges the lint `tmp` (marks m) of the blanked reparse with t's previous findings and fixes
 * for the other bodies into out, and remembers the result in t. Returns 0 or UL_ENOMEM (out as
 * it was, m->body released, t remembers nothing). */
int ul__inc_merge(ul__tu *t, const ue_project *p, const char *rel, const char *bytes, size_t len,
                  const ul__edit *e, const ul_result *tmp, ul__marks *m, ul_result *out);
/* Remembers a full lint of kept unit t (bytes, the findings and fixes appended to out from
 * m->f0/m->x0 on, the marks; m->body moves to t). */
void ul__inc_record(ul__tu *t, const ue_project *p, const char *bytes, size_t len,
                    const ul_result *out, ul__marks *m);
/* Forgets what ul__inc_record remembered. */
void ul__inc_free(ul__tu *t);

#endif
