/* ul_int.h - declarations shared by the lint's files: compile flags, the context, small helpers. */
#ifndef UNASYNC_UL_INT_H
#define UNASYNC_UL_INT_H

#include "ul.h"

#include <clang-c/CXCompilationDatabase.h>
#include <clang-c/Index.h>

/* Compile arguments for one source, owned strings. `why` (NULL or a new string) explains what
 * limits the lint before parsing: no flags were found, or the configured database is missing. */
typedef struct ul__args {
    char **v;
    int n, cap;
    int guessed; /* no compile_commands or compile_flags applied: defaults were used */
    char *why;
} ul__args;

void ul__args_free(ul__args *a);
int ul__args_push(ul__args *a, const char *s);

/* A compilation database loaded from one folder. */
typedef struct ul__db {
    char *dir;
    CXCompilationDatabase db;
} ul__db;

/* A translation unit kept for reparsing (ul_options.keep). */
typedef struct ul__tu {
    const ue_project *p;
    char *abs;
    ul__args args;
    CXTranslationUnit tu;
    char **names; /* async functions its headers declare (see header_names) */
    size_t nnames;
    int names_done;
} ul__tu;

struct ul_ctx {
    ul_options opt;
    CXIndex index;
    CXIndex aux_index; /* lists every declaration (keep mode's header_names), made on demand */
    ul__db *dbs;
    size_t ndbs;
    ul__tu *tus;
    size_t ntus;
};

/* Fills *a with the compile arguments for absolute source path `abs` of project p. Returns 0 or
 * UL_ENOMEM. */
int ul__flags(ul_ctx *ctx, const ue_project *p, const char *abs, ul__args *a);

/* malloc'd copy of n bytes / of a string (NULL stays NULL). */
char *ul__dupn(const char *s, size_t n);
char *ul__dup(const char *s);

/* Appends a fix. Returns 0 or UL_ENOMEM. */
int ul__fix_add(ul_fixes *fx, const char *code, unsigned line, unsigned col, const char *title,
                const char *file, const char *bytes, size_t len, size_t off, size_t del,
                const char *text);

/* The fix that adds a rename rule `name` -> `target` to the configuration bytes. */
int ul__fix_rename_rule(ul_fixes *fx, unsigned line, unsigned col, const char *title,
                        const char *cfg_bytes, size_t cfg_len, const char *name,
                        const char *target);

#endif
