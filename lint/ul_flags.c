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
    ua_free(a->dropped);
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

/* ---- the allow-list: only flags that affect how the source parses reach libclang ----
 *
 * Include paths, macros, the language, the target and its options, warnings, and -f options
 * that change the language. Everything else is dropped and named in one finding (a->dropped):
 * an option the list does not know may write a file (-MD -MF, -MJ, -Wp,..., -o,
 * --serialize-diagnostics, -dependency-*, -fmodules-cache-path=, -ftime-trace, -save-temps,
 * -fcrash-diagnostics-dir=, ...) or print to stdout (-M, -###). */

/* Allowed options whose value is the next argument (or joined to them). */
static const char *const allow_sep[] = {
    "-I",        "-isystem",    "-iquote",           "-idirafter",  "-D",         "-U",
    "-include",  "-imacros",    "-x",                "-target",     "-isysroot",  "--sysroot",
    "-iprefix",  "-iwithprefix", "-iwithprefixbefore", "-iframework", "-F",        "-arch",
    "-resource-dir", "-include-pch", "-working-directory", "-std",   "--std",      NULL};
/* Allowed exactly. */
static const char *const allow_exact[] = {
    "-w",         "-ansi",       "-pthread",     "-nostdinc",  "-nostdinc++", "-nostdlibinc",
    "-nobuiltininc", "-undef",   "-trigraphs",   "-fsyntax-only", "-g",       "-g0",
    "-g1",        "-g2",         "-g3",          "-pedantic",  "-pedantic-errors", "--pedantic",
    "-C",         "-CC",         NULL};
/* Allowed by prefix (the value joined). */
static const char *const allow_prefix[] = {
    "-I", "-isystem", "-iquote", "-idirafter", "-D", "-U", "-std=", "--std=", "-x", "--target=",
    "--sysroot=", "-isysroot", "-iframework", "-F", "-O", "-W", "-m", "-ggdb", "-gdwarf", "-gno-",
    /* -f options that change the language or the target, never the output */
    "-fno-", "-fms-", "-fgnu", "-fblocks", "-fsigned-", "-funsigned-", "-fshort-", "-fcommon",
    "-fpic", "-fPIC", "-fpie", "-fPIE", "-fopenmp", "-fopenacc", "-fvisibility", "-fstack-protector",
    "-fstack-clash", "-fexceptions", "-fcxx-exceptions", "-fasm-blocks", "-fdeclspec",
    "-fdollars-in-identifiers", "-fmacro-backtrace-limit", "-ferror-limit", "-ftemplate-",
    "-fconstexpr-", "-fbracket-depth", "-fwrapv", "-ftrapv", "-fstrict-", "-ffreestanding",
    "-fbuiltin", "-fhosted", "-fsanitize=", "-fchar8_t", "-fdigraphs", "-ftrigraphs",
    "-ffast-math", "-ffinite-math-only", "-ffp-", "-fmath-errno", "-fomit-frame-pointer",
    "-fdata-sections", "-ffunction-sections", "-fcf-protection", "-fallow-", "-fpermissive",
    "-fparse-all-comments", "-fcomment-block-commands", "-fspell-checking", "-fmessage-length",
    "-ftabstop", "-finput-charset", "-fexec-charset", "-fwide-exec-charset",
    "-fextended-identifiers", "-fkeep-", "-finline", "-fhonor-", "-fassociative-math",
    "-freciprocal-math", "-funroll-loops", "-fvectorize", "-fslp-vectorize", "-fjump-tables",
    "-fasynchronous-unwind-tables", "-funwind-tables", "-fuse-cxa-atexit", "-fthreadsafe-statics",
    "-fsized-deallocation", "-faligned-", "-fnew-alignment", "-frtti", "-fplt",
    "-fsemantic-interposition", "-ftls-model", "-fpack-struct", "-fmax-type-align",
    "-flax-vector-conversions", "-ftrivial-auto-var-init", "-fzero-call-used-regs",
    "-fcoroutines", "-fconcepts", "-fdelayed-template-parsing", "-fdouble-square-bracket-attributes",
    "-fdiagnostics-", "-fcolor-diagnostics", "-fcaret-diagnostics", "-fshow-", "-fansi-escape-codes",
    NULL};
/* Dropped options whose value is the next argument, which goes with them. */
static const char *const drop_sep[] = {
    "-o", "-MF", "-MT", "-MQ", "-MJ", "--serialize-diagnostics", "-serialize-diagnostics",
    "-dependency-file", "-dependency-dot", "-Xclang", "-mllvm", "-Xpreprocessor", "-Xassembler",
    "-Xlinker", "-Xanalyzer", "-Xopenmp-target", "-module-dependency-dir", "-header-include-file",
    "-dumpdir", "-dumpbase", "-ivfsoverlay", "-load", "-plugin", "-fmodules-cache-path", NULL};
/* Dropped without a word in a compilation database's command: they describe the build that
 * produced the database (its object and dependency files), not the parse. */
static const char *const build_quiet[] = {"-c", "-MD", "-MMD", "-MP", "-pipe", NULL};

static int in_list(const char *const *l, const char *v)
{
    for (; *l; l++)
        if (strcmp(*l, v) == 0)
            return 1;
    return 0;
}

static int has_prefix(const char *const *l, const char *v)
{
    for (; *l; l++)
        if (strncmp(v, *l, strlen(*l)) == 0)
            return 1;
    return 0;
}

/* Whether flag `v` may reach libclang. */
static int flag_allowed(const char *v)
{
    if (in_list(allow_exact, v) || in_list(allow_sep, v))
        return 1;
    if (strcmp(v, "-mllvm") == 0 || strncmp(v, "-fmodule", 8) == 0 || strncmp(v, "-ftime-", 7) == 0)
        return 0;
    if (strncmp(v, "-W", 2) == 0 && strchr(v, ',')) /* -Wp,... -Wa,... -Wl,... pass flags on */
        return 0;
    if (strncmp(v, "-fdiagnostics-", 14) == 0 && strstr(v, "file"))
        return 0;
    return has_prefix(allow_prefix, v);
}

/* Appends name to the list of dropped flags. */
static int note_dropped(ul__args *a, const char *v)
{
    size_t old = a->dropped ? strlen(a->dropped) : 0, n = strlen(v);
    char *d = ua_realloc(a->dropped, old + n + 2);
    if (!d)
        return UL_ENOMEM;
    if (old)
        d[old++] = ' ';
    memcpy(d + old, v, n + 1);
    a->dropped = d;
    return 0;
}

/* Takes argument `i` of argv (of n) by the allow-list into a; returns how many arguments it
 * used (1 or 2), or UL_ENOMEM as a negative. `quiet_build` drops build outputs silently. */
static int take_flag(ul__args *a, const char *const *argv, int i, int n, int quiet_build)
{
    const char *v = argv[i];
    int with_next = i + 1 < n;
    if (v[0] != '-' || !v[1]) { /* an input: only the source itself is parsed */
        return note_dropped(a, v) ? UL_ENOMEM : 1;
    }
    if (flag_allowed(v)) {
        int two = in_list(allow_sep, v) && with_next;
        if (ul__args_push(a, v) || (two && ul__args_push(a, argv[i + 1])))
            return UL_ENOMEM;
        return two ? 2 : 1;
    }
    int two = in_list(drop_sep, v) && with_next;
    int quiet = quiet_build && (in_list(build_quiet, v) || strcmp(v, "-o") == 0 ||
                                strcmp(v, "-MF") == 0 || strcmp(v, "-MT") == 0 ||
                                strcmp(v, "-MQ") == 0 || strncmp(v, "-fdiagnostics-color", 19) == 0);
    if (!quiet && (note_dropped(a, v) || (two && note_dropped(a, argv[i + 1]))))
        return UL_ENOMEM;
    return two ? 2 : 1;
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

/* What is wrong with dir/compile_commands.json before libclang reads it (libclang's loader
 * prints "LIBCLANG TOOLING ERROR" on stderr for a missing or malformed file, so it is only
 * handed files that ua_compile_db_check accepts): *problem is NULL when nothing is, else a
 * text, static or in `buf` (capacity `cap`). A database this context already loaded is fine.
 * Returns 0 or UL_ENOMEM. */
static int db_problem(const ul_ctx *ctx, const char *dir, const char **problem, char *buf,
                      size_t cap)
{
    *problem = NULL;
    for (size_t i = 0; i < ctx->ndbs; i++)
        if (strcmp(ctx->dbs[i].dir, dir) == 0)
            return 0;
    char path[PATH_MAX * 2 + 32];
    snprintf(path, sizeof path, "%s/compile_commands.json", dir);
    if (!is_file(path)) {
        *problem = "does not exist";
        return 0;
    }
    char *bytes = NULL;
    size_t len = 0;
    int rc = ue_read_file(path, &bytes, &len);
    if (rc == UA_ENOMEM)
        return UL_ENOMEM;
    if (rc) {
        *problem = "cannot be read";
        return 0;
    }
    unsigned line = 1, col = 1;
    char why[256];
    rc = ua_compile_db_check(bytes, len, &line, &col, why, sizeof why);
    ua_free(bytes);
    if (rc == UA_ENOMEM)
        return UL_ENOMEM;
    if (rc) {
        snprintf(buf, cap, "is not a compile database libclang accepts (%u:%u: %s)", line, col,
                 why);
        *problem = buf;
    }
    return 0;
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
    char pbuf[512];
    const char *problem;
    if (db_problem(ctx, dir, &problem, pbuf, sizeof pbuf))
        return UL_ENOMEM;
    if (problem)
        return 0;
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
    /* the command's arguments without the compiler, by the allow-list */
    CXString *sv = ua_calloc(n ? n : 1, sizeof *sv);
    const char **argv = ua_calloc(n ? n : 1, sizeof *argv);
    int argc = 0;
    if (!sv || !argv)
        rc = UL_ENOMEM;
    for (unsigned i = 1; i < n && !rc; i++) {
        sv[argc] = clang_CompileCommand_getArg(cmd, i);
        const char *v = clang_getCString(sv[argc]);
        if (strcmp(v, "--") == 0) { /* only inputs follow */
            clang_disposeString(sv[argc]);
            break;
        }
        if (strcmp(v, clang_getCString(fname)) == 0) { /* the source itself */
            clang_disposeString(sv[argc]);
            continue;
        }
        argv[argc++] = v;
    }
    for (int i = 0; i < argc && !rc;) {
        int used = take_flag(a, argv, i, argc, 1);
        if (used < 0)
            rc = used;
        else
            i += used;
    }
    for (int i = 0; sv && i < argc; i++)
        clang_disposeString(sv[i]);
    ua_free(sv);
    ua_free(argv);
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

/* Flags from a database found by the search (from_db): one that libclang would refuse is
 * named in a->why, so that UA000 tells it instead of the search passing it by in silence. */
static int found_db(ul_ctx *ctx, const ue_project *p, const char *dir, const char *abs, ul__args *a)
{
    char pbuf[512];
    const char *problem;
    if (db_problem(ctx, dir, &problem, pbuf, sizeof pbuf))
        return UL_ENOMEM;
    if (!problem)
        return from_db(ctx, dir, abs, a);
    if (!a->why) {
        char msg[PATH_MAX + 128];
        size_t rl = strlen(p->root);
        const char *rel = strncmp(dir, p->root, rl) != 0 ? dir : dir[rl] == '/' ? dir + rl + 1 : "";
        snprintf(msg, sizeof msg,
                 "%s%scompile_commands.json %s (found by the search; set "
                 "\"compile_commands\" or \"compile_flags\" to choose)",
                 rel, *rel ? "/" : "", problem);
        if (!(a->why = ua_strdup(msg)))
            return UL_ENOMEM;
    }
    return 1;
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
        char pbuf[512];
        const char *problem;
        if (db_problem(ctx, buf, &problem, pbuf, sizeof pbuf))
            return UL_ENOMEM;
        rc = problem ? 1 : from_db(ctx, buf, abs, a);
        if (rc == 1) {
            char msg[PATH_MAX + 512];
            if (problem && strcmp(problem, "does not exist") == 0)
                snprintf(msg, sizeof msg,
                         "\"compile_commands\": %s/compile_commands.json does not exist: build "
                         "the project first (meson setup writes it; CMake with "
                         "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON), or list the flags in "
                         "\"compile_flags\"",
                         buf + strlen(p->root) + (buf[strlen(p->root)] == '/'));
            else if (problem)
                snprintf(msg, sizeof msg, "\"compile_commands\": %s/compile_commands.json %s",
                         buf + strlen(p->root) + (buf[strlen(p->root)] == '/'), problem);
            else
                snprintf(msg, sizeof msg,
                         "\"compile_commands\": %s has no entry for this file or its folder",
                         cfg->compile_commands);
            if (!(a->why = ua_strdup(msg)))
                return UL_ENOMEM;
        }
    } else if (cfg->ncompile_flags) {
        const char *const *argv = (const char *const *)cfg->compile_flags;
        int argc = (int)cfg->ncompile_flags;
        for (int i = 0; i < argc;) {
            int used = take_flag(a, argv, i, argc, 0);
            if (used < 0)
                return UL_ENOMEM;
            i += used;
        }
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
            if (is_file(probe) && (rc = found_db(ctx, p, buf, abs, a)) <= 0)
                break;
            snprintf(probe, sizeof probe, "%s/build/compile_commands.json", buf);
            if (is_file(probe)) {
                snprintf(probe, sizeof probe, "%s/build", buf);
                if ((rc = found_db(ctx, p, probe, abs, a)) <= 0)
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
    /* The runtime's and the limiter's headers (<unasync/async.h>, <unasync/limiter/...>) are
     * part of this tool: like a compiler's own headers they are found last (-idirafter), from
     * where this unasync was installed or the source tree of its build (ue_layout_get: one
     * folder installed, ':'-separated folders in a build tree), so a project needs no flag just
     * for them. */
    for (const char *d = ue_layout_get()->includedir; d && *d;) {
        size_t n = strcspn(d, ":");
        char dir[PATH_MAX];
        if (n && n < sizeof dir) {
            memcpy(dir, d, n);
            dir[n] = '\0';
            if (is_dir(dir) && (ul__args_push(a, "-idirafter") || ul__args_push(a, dir)))
                return UL_ENOMEM;
        }
        d += n + (d[n] == ':');
    }
    /* parse as C whatever the extension; warnings cost time and the lint reports none */
    if (ul__args_push(a, "-x") || ul__args_push(a, "c") || ul__args_push(a, "-w"))
        return UL_ENOMEM;
    return 0;
}
