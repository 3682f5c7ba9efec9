/* ul_flags.c - the compile flags the lint parses a source with: from compile_commands.json
 * (libclang's compilation-database API), from "compile_flags", or guessed when there are none. */
#include "ul_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void ul__args_free(ul__args *a)
{
    if (!a)
        return;
    for (int i = 0; i < a->n; i++)
        ua_free(a->v[i]);
    ua_free(a->v);
    ua_free(a->why);
    memset(a, 0, sizeof *a);
}

int ul__args_push(ul__args *a, const char *s)
{
    if (a->n == a->cap) {
        int nc = a->cap ? a->cap * 2 : 32;
        char **v = ua_realloc(a->v, (size_t)nc * sizeof *v);
        if (!v)
            return UL_ENOMEM;
        a->v = v;
        a->cap = nc;
    }
    if (!(a->v[a->n] = ua_strdup(s)))
        return UL_ENOMEM;
    a->n++;
    return 0;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The database of folder `dir` (cached in the context) in *out, NULL when it cannot be loaded.
 * Returns 0 or UL_ENOMEM (a database that memory could not hold is not "no database"). */
static int load_db(ul_ctx *ctx, const char *dir, CXCompilationDatabase *out)
{
    *out = NULL;
    for (size_t i = 0; i < ctx->ndbs; i++)
        if (strcmp(ctx->dbs[i].dir, dir) == 0) {
            *out = ctx->dbs[i].db;
            return 0;
        }
    CXCompilationDatabase_Error err = CXCompilationDatabase_NoError;
    CXCompilationDatabase db = clang_CompilationDatabase_fromDirectory(dir, &err);
    if (err != CXCompilationDatabase_NoError || !db)
        return 0;
    ul__db *nd = ua_realloc(ctx->dbs, (ctx->ndbs + 1) * sizeof *nd);
    if (nd)
        ctx->dbs = nd;
    char *d = nd ? ua_strdup(dir) : NULL;
    if (!d) {
        clang_CompilationDatabase_dispose(db);
        return UL_ENOMEM;
    }
    ctx->dbs[ctx->ndbs].dir = d;
    ctx->dbs[ctx->ndbs].db = db;
    ctx->ndbs++;
    *out = db;
    return 0;
}

/* The absolute, normalised path of a compile command's file (relative to its directory). */
static int command_file(CXCompileCommand cmd, char *out, size_t cap)
{
    CXString f = clang_CompileCommand_getFilename(cmd), d = clang_CompileCommand_getDirectory(cmd);
    const char *fs = clang_getCString(f), *ds = clang_getCString(d);
    char joined[PATH_MAX * 2];
    if (fs[0] == '/')
        snprintf(joined, sizeof joined, "%s", fs);
    else
        snprintf(joined, sizeof joined, "%s/%s", ds, fs);
    clang_disposeString(f);
    clang_disposeString(d);
    char real[PATH_MAX];
    if (!realpath(joined, real))
        return -1;
    snprintf(out, cap, "%s", real);
    return 0;
}

static size_t common_dir_prefix(const char *a, const char *b)
{
    size_t n = 0, last = 0;
    while (a[n] && a[n] == b[n]) {
        if (a[n] == '/')
            last = n;
        n++;
    }
    return last;
}

/* The command for `abs`: its own entry, else the entry closest to it (same folder and stem
 * first: a header borrows the flags of its .c file, as clangd does). */
static CXCompileCommand pick_command(CXCompilationDatabase db, const char *abs,
                                     CXCompileCommands *keep)
{
    CXCompileCommands cmds = clang_CompilationDatabase_getCompileCommands(db, abs);
    if (cmds && clang_CompileCommands_getSize(cmds) > 0) {
        *keep = cmds;
        return clang_CompileCommands_getCommand(cmds, 0);
    }
    if (cmds)
        clang_CompileCommands_dispose(cmds);
    cmds = clang_CompilationDatabase_getAllCompileCommands(db);
    if (!cmds)
        return NULL;
    const char *slash = strrchr(abs, '/');
    const char *dot = strrchr(abs, '.');
    size_t stem = dot && dot > slash ? (size_t)(dot - abs) : strlen(abs);
    long best = -1;
    size_t best_score = 0;
    unsigned n = clang_CompileCommands_getSize(cmds);
    for (unsigned i = 0; i < n; i++) {
        char f[PATH_MAX];
        if (command_file(clang_CompileCommands_getCommand(cmds, i), f, sizeof f) != 0)
            continue;
        size_t score = common_dir_prefix(abs, f) * 4;
        if (strncmp(f, abs, stem) == 0 && f[stem] == '.')
            score += 2;
        if (best < 0 || score > best_score) {
            best = (long)i;
            best_score = score;
        }
    }
    if (best < 0) {
        clang_CompileCommands_dispose(cmds);
        return NULL;
    }
    *keep = cmds;
    return clang_CompileCommands_getCommand(cmds, (unsigned)best);
}

/* Copies a command's arguments minus the compiler, the input file, outputs and dependency
 * files, then makes relative paths resolve where the build ran. */
static int args_from_command(CXCompileCommand cmd, ul__args *a)
{
    CXString fname = clang_CompileCommand_getFilename(cmd);
    CXString dir = clang_CompileCommand_getDirectory(cmd);
    unsigned n = clang_CompileCommand_getNumArgs(cmd);
    int rc = 0;
    for (unsigned i = 1; i < n && !rc; i++) {
        CXString s = clang_CompileCommand_getArg(cmd, i);
        const char *v = clang_getCString(s);
        if (strcmp(v, "--") == 0) { /* only inputs follow */
            clang_disposeString(s);
            break;
        }
        int skip_next = strcmp(v, "-o") == 0 || strcmp(v, "-MF") == 0 || strcmp(v, "-MQ") == 0 ||
                        strcmp(v, "-MT") == 0;
        int skip = skip_next || strcmp(v, "-c") == 0 || strcmp(v, "-MD") == 0 ||
                   strcmp(v, "-MMD") == 0 || strcmp(v, "-MP") == 0 ||
                   strncmp(v, "-fdiagnostics-color", 19) == 0 ||
                   strcmp(v, clang_getCString(fname)) == 0;
        if (!skip)
            rc = ul__args_push(a, v);
        clang_disposeString(s);
        if (skip_next)
            i++;
    }
    if (!rc)
        rc = ul__args_push(a, "-working-directory");
    if (!rc)
        rc = ul__args_push(a, clang_getCString(dir));
    clang_disposeString(fname);
    clang_disposeString(dir);
    return rc;
}

/* Flags from database folder `dir`; 1 when it has no command for the file. */
static int from_db(ul_ctx *ctx, const char *dir, const char *abs, ul__args *a)
{
    CXCompilationDatabase db;
    if (load_db(ctx, dir, &db))
        return UL_ENOMEM;
    if (!db)
        return 1;
    CXCompileCommands keep = NULL;
    CXCompileCommand cmd = pick_command(db, abs, &keep);
    int rc = cmd ? args_from_command(cmd, a) : 1;
    if (keep)
        clang_CompileCommands_dispose(keep);
    return rc;
}

int ul__flags(ul_ctx *ctx, const ue_project *p, const char *abs, ul__args *a)
{
    memset(a, 0, sizeof *a);
    const ua_config *cfg = p->cfg;
    char buf[PATH_MAX * 2];
    int rc = 1;
    if (cfg->compile_commands) {
        /* a path to compile_commands.json or to the folder holding it, relative to the root */
        snprintf(buf, sizeof buf, "%s/%s", p->root, cfg->compile_commands);
        if (!is_dir(buf)) {
            char *slash = strrchr(buf, '/');
            *slash = '\0';
        }
        rc = from_db(ctx, buf, abs, a);
        if (rc == 1) {
            char msg[PATH_MAX + 128];
            snprintf(msg, sizeof msg, "\"compile_commands\": %s has no usable entry",
                     cfg->compile_commands);
            if (!(a->why = ua_strdup(msg)))
                return UL_ENOMEM;
        }
    } else if (cfg->ncompile_flags) {
        for (size_t i = 0; i < cfg->ncompile_flags && rc > 0; i++)
            if (ul__args_push(a, cfg->compile_flags[i]))
                return UL_ENOMEM;
        rc = ul__args_push(a, "-working-directory");
        if (!rc)
            rc = ul__args_push(a, p->root);
    } else {
        /* no flags configured: a compile_commands.json beside the source, in a parent up to the
         * root, or in one of their build/ folders (where meson and cmake put it) */
        snprintf(buf, sizeof buf, "%s", abs);
        size_t root_len = strlen(p->root);
        for (;;) {
            char *slash = strrchr(buf, '/');
            if (!slash || (size_t)(slash - buf) < root_len)
                break;
            *slash = '\0';
            char probe[PATH_MAX * 2 + 32];
            snprintf(probe, sizeof probe, "%s/compile_commands.json", buf);
            if (is_file(probe) && (rc = from_db(ctx, buf, abs, a)) <= 0)
                break;
            snprintf(probe, sizeof probe, "%s/build/compile_commands.json", buf);
            if (is_file(probe)) {
                snprintf(probe, sizeof probe, "%s/build", buf);
                if ((rc = from_db(ctx, probe, abs, a)) <= 0)
                    break;
            }
        }
    }
    if (rc < 0)
        return rc;
    if (rc > 0) {
        /* nothing applies: the project root and the source's folder on the include path */
        char *why = a->why;
        a->why = NULL;
        ul__args_free(a);
        a->why = why;
        a->guessed = 1;
        snprintf(buf, sizeof buf, "-I%s", p->root);
        rc = ul__args_push(a, buf);
        const char *slash = strrchr(abs, '/');
        snprintf(buf, sizeof buf, "-I%.*s", (int)(slash - abs), abs);
        if (!rc)
            rc = ul__args_push(a, buf);
        snprintf(buf, sizeof buf, "%s/include", p->root);
        if (!rc && is_dir(buf)) {
            snprintf(buf, sizeof buf, "-I%s/include", p->root);
            rc = ul__args_push(a, buf);
        }
        if (!rc)
            rc = ul__args_push(a, "-working-directory");
        if (!rc)
            rc = ul__args_push(a, p->root);
        if (rc)
            return rc;
    }
    /* The runtime's headers (<unasync/async.h>) are part of this tool: like a compiler's own
     * headers they are found last (-idirafter), from where this unasync was installed or the
     * source tree of its build (ue_layout_get), so a project needs no flag just for them. */
    {
        const char *dir = ue_layout_get()->includedir;
        char hdr[PATH_MAX + 32];
        if (dir && snprintf(hdr, sizeof hdr, "%s/unasync/async.h", dir) < (int)sizeof hdr &&
            is_file(hdr) && (ul__args_push(a, "-idirafter") || ul__args_push(a, dir)))
            return UL_ENOMEM;
    }
    /* parse as C whatever the extension; warnings cost time and the lint reports none */
    if (ul__args_push(a, "-x") || ul__args_push(a, "c") || ul__args_push(a, "-w"))
        return UL_ENOMEM;
    return 0;
}
