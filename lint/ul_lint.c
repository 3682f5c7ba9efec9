/* ul_lint.c - the lint rules UA001..UA005, UA009 and UA010 over one libclang translation unit:
 * calls and their callees' `async` annotation, `await` macro expansions, blocking calls,
 * external symbols, async functions the twin would still call, header types whose twin differs
 * under the same name. */
#include "ul_int.h"

#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- errors, links, defaults ---- */

const char *ul_strerror(int err)
{
    switch (err) {
#define UL_ERR_CASE(name, value, text)                                                             \
    case value:                                                                                    \
        return text;
        UL_ERRNO_MAP(UL_ERR_CASE)
#undef UL_ERR_CASE
    }
    return ue_strerror(err); /* the engine's, the transformer's and -errno */
}

static char docs_base[4096 + 16] = "";
static pthread_once_t docs_once = PTHREAD_ONCE_INIT;

/* The rule pages installed beside this unasync, or those of the source tree a build-tree binary
 * came from (ue_layout_get), so that a diagnostic's link opens a page that exists; the page
 * names alone when neither is there. */
static void pick_docs_base(void)
{
    const char *dir = ue_layout_get()->docdir;
    char probe[4096 + 16];
    if (dir && snprintf(probe, sizeof probe, "%s/UA000.md", dir) < (int)sizeof probe &&
        access(probe, R_OK) == 0)
        snprintf(docs_base, sizeof docs_base, "file://%.4096s/", dir);
}

#define UL_NCODES 11 /* UA000 .. UA010 have a page */
static char links[UL_NCODES][sizeof docs_base + 16];
static pthread_once_t links_once = PTHREAD_ONCE_INIT;

static void fill_links(void)
{
    for (int i = 0; i < UL_NCODES; i++)
        snprintf(links[i], sizeof links[i], "%sUA%03d.md", docs_base, i);
}

const char *ul_code_href(const char *code)
{
    if (!code || strncmp(code, "UA0", 3) != 0 || code[3] < '0' || code[3] > '9' || code[4] < '0' ||
        code[4] > '9' || code[5])
        return NULL;
    int n = (code[3] - '0') * 10 + (code[4] - '0');
    if (n >= UL_NCODES)
        return NULL;
    pthread_once(&docs_once, pick_docs_base);
    if (!docs_base[0])
        return NULL; /* no pages to link to */
    pthread_once(&links_once, fill_links);
    return links[n];
}

/* The default UA004 list. Only sleep/usleep and the runtime's own sync twins (found from the
 * rename rules, see sync_twin below) get an automatic rewrite: every other twin differs in its
 * signature or its error values, so the message names it and the programmer adapts the call. */
static const ul_blocking default_blocking[] = {
    {"sleep", "async_sleep_ms", "await async_sleep_ms((uint64_t)(%s) * 1000)"},
    {"usleep", "async_sleep_ms", "await async_sleep_ms((uint64_t)(%s) / 1000)"},
    {"nanosleep", "async_sleep_ms", NULL},
    {"clock_nanosleep", "async_sleep_ms", NULL},
    {"pthread_mutex_lock", "async_mutex_lock", NULL},
    {"pthread_mutex_timedlock", "async_mutex_lock_timed", NULL},
    {"pthread_cond_wait", "async_cond_wait", NULL},
    {"pthread_cond_timedwait", "async_cond_wait_timed", NULL},
    {"pthread_join", "async_join", NULL},
    {"pthread_rwlock_rdlock", NULL, NULL},
    {"pthread_rwlock_wrlock", NULL, NULL},
    {"pthread_barrier_wait", NULL, NULL},
    {"sem_wait", "async_sem_wait", NULL},
    {"sem_timedwait", "async_sem_wait_timed", NULL},
    {"connect", "async_tcp_connect", NULL},
    {"accept", "async_tcp_accept", NULL},
    {"accept4", "async_tcp_accept", NULL},
    {"recv", "async_tcp_read", NULL},
    {"recvfrom", NULL, NULL},
    {"recvmsg", NULL, NULL},
    {"send", "async_tcp_write", NULL},
    {"sendto", NULL, NULL},
    {"sendmsg", NULL, NULL},
    {"select", NULL, NULL},
    {"poll", NULL, NULL},
    {"epoll_wait", NULL, NULL},
    {"read", "async_file_read", NULL},
    {"write", "async_file_write", NULL},
    {"pread", "async_file_read", NULL},
    {"pwrite", "async_file_write", NULL},
    {"open", "async_file_open", NULL},
    {"fsync", NULL, NULL},
    {"fdatasync", NULL, NULL},
    {"fopen", "async_file_open", NULL},
    {"fread", "async_file_read", NULL},
    {"fwrite", "async_file_write", NULL},
    {"fgets", NULL, NULL},
    {"getline", NULL, NULL},
    {"scanf", NULL, NULL},
    {"getchar", NULL, NULL},
    {"getaddrinfo", "async_getaddrinfo", NULL},
    {"gethostbyname", "async_getaddrinfo", NULL},
    {"system", NULL, NULL},
    {"popen", NULL, NULL},
    {"wait", NULL, NULL},
    {"waitpid", NULL, NULL},
    {"redisConnect", "async_redis_connect", NULL},
    {"redisConnectWithTimeout", "async_redis_connect_timed", NULL},
    {"redisConnectUnix", "async_redis_connect_unix", NULL},
    {"redisConnectUnixWithTimeout", "async_redis_connect_unix_timed", NULL},
    {"redisCommand", "async_redis_command", NULL},
    {"redisvCommand", "async_redis_command", NULL},
    {"redisCommandArgv", "async_redis_command_argv", NULL},
    {"redisGetReply", "async_redis_command", NULL},
};

const ul_blocking *ul_default_blocking(size_t *n)
{
    *n = sizeof default_blocking / sizeof *default_blocking;
    return default_blocking;
}

/* ---- the walk ---- */

typedef struct fn_rec {
    char *name;
    int async;
    int entry;         /* passed to async_run/async_spawn: a coroutine, an async context */
    size_t start, end; /* extent in the main file */
} fn_rec;

typedef struct call_rec {
    size_t off, end; /* extent in the main file; end = 0 when not known */
    char *callee;    /* NULL for a call through a pointer */
    int kind;        /* 1 async, 0 not async, -1 unknown (pointer) */
    int name_here;   /* the callee's name is spelled at off, followed by '(' */
    int undeclared;  /* the callee is implicitly declared: the parse cannot see it */
    int foreign;     /* async, declared outside the project's sources, no rule renames it */
    char *decl;      /* foreign: the real path of the header that declares it */
    long fn;         /* enclosing function, or -1 */
} call_rec;

/* A reference to a function that is not the callee of a call (its address is taken). */
typedef struct ref_rec {
    size_t off;
    char *name, *decl;
} ref_rec;

/* A name that needs a rename rule (UA005, UA009, UA010), for the fixes made after the walk. */
typedef struct rule_req {
    char *name;
    char code[8];
    unsigned line, col;
} rule_req;

/* A struct, union, enum or typedef defined in an async header (UA010). */
typedef struct type_rec {
    CXCursor c;
    char *name;
    const char *kind; /* "struct ", "union ", "enum " or "" */
    size_t off;
    int flagged;
} type_rec;

typedef struct await_rec {
    size_t off, end;
    int matched;
} await_rec;

typedef struct async_memo {
    unsigned hash;
    int async; /* -1 empty slot */
} async_memo;

typedef struct walker {
    ul_ctx *ctx;
    const ue_project *p;
    const char *rel, *src;
    size_t len;
    CXTranslationUnit tu;
    fn_rec *fns;
    size_t nfns, capfns;
    call_rec *calls;
    size_t ncalls, capcalls;
    await_rec *awaits;
    size_t nawaits, capawaits;
    async_memo *memo;
    size_t memo_cap, memo_n;
    char **async_names; /* every async function the unit declares (built on demand) */
    size_t nasync_names, capnames;
    int async_names_built;
    ul__tu *kept; /* the kept unit (keep mode): caches the headers' async names */
    long cur_fn;
    int rc;
    ul_result *out;
    const char *cfg_bytes; /* unasync.json, for the rename-rule fix */
    size_t cfg_len;
    ul_blocking project_entry; /* a "blocking" entry of unasync.json, as the list's type */
    ul__marks *marks;          /* phases and function bodies, for the incremental lint */
    char **entries;            /* coroutine entries (ul__entries) */
    size_t nentries;
    size_t *callee_offs; /* where each call's callee reference stands, sorted after the walk */
    size_t ncallee, capcallee;
    ref_rec *refs; /* references to foreign async functions that are not calls */
    size_t nrefs, caprefs;
    rule_req *reqs;
    size_t nreqs, capreqs;
    type_rec *types;
    size_t ntypes, captypes;
} walker;

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 64;
    void *nv = ua_realloc(*v, nc * size);
    if (!nv)
        return UL_ENOMEM;
    *v = nv;
    *cap = nc;
    return 0;
}

/* Offset of a location in the main file; 0 with *ok = 0 when it lies elsewhere. */
static size_t main_off(CXSourceLocation loc, int *ok)
{
    CXFile f;
    unsigned line, col, off;
    clang_getFileLocation(loc, &f, &line, &col, &off);
    *ok = f != NULL && clang_Location_isFromMainFile(loc);
    return off;
}

static enum CXChildVisitResult annot_visit(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    int *found = d;
    if (clang_getCursorKind(c) == CXCursor_AnnotateAttr) {
        CXString s = clang_getCursorSpelling(c);
        if (strcmp(clang_getCString(s), "unasync:async") == 0)
            *found = 1;
        clang_disposeString(s);
        if (*found)
            return CXChildVisit_Break;
    }
    return CXChildVisit_Continue;
}

static int has_annotation(CXCursor c)
{
    if (clang_Cursor_isNull(c) || !clang_Cursor_hasAttrs(c))
        return 0;
    int found = 0;
    clang_visitChildren(c, annot_visit, &found);
    return found;
}

/* Whether function declaration `c` is async: the annotation on it, on its first declaration or
 * on its definition (memoised by the canonical cursor). */
static int is_async(walker *w, CXCursor c)
{
    CXCursor canon = clang_getCanonicalCursor(c);
    unsigned h = clang_hashCursor(canon);
    if (w->memo_cap) {
        for (size_t i = h & (w->memo_cap - 1);; i = (i + 1) & (w->memo_cap - 1)) {
            if (w->memo[i].async < 0)
                break;
            if (w->memo[i].hash == h)
                return w->memo[i].async;
        }
    }
    int a =
        has_annotation(c) || has_annotation(canon) || has_annotation(clang_getCursorDefinition(c));
    if (w->memo_n * 2 >= w->memo_cap) {
        size_t nc = w->memo_cap ? w->memo_cap * 2 : 256;
        async_memo *nm = ua_malloc(nc * sizeof *nm);
        if (!nm) {
            w->rc = UL_ENOMEM;
            return a;
        }
        for (size_t i = 0; i < nc; i++)
            nm[i].async = -1;
        for (size_t k = 0; k < w->memo_cap; k++)
            if (w->memo[k].async >= 0)
                for (size_t i = w->memo[k].hash & (nc - 1);; i = (i + 1) & (nc - 1))
                    if (nm[i].async < 0) {
                        nm[i] = w->memo[k];
                        break;
                    }
        ua_free(w->memo);
        w->memo = nm;
        w->memo_cap = nc;
    }
    for (size_t i = h & (w->memo_cap - 1);; i = (i + 1) & (w->memo_cap - 1))
        if (w->memo[i].async < 0) {
            w->memo[i].hash = h;
            w->memo[i].async = a;
            w->memo_n++;
            break;
        }
    return a;
}

static int is_ident(char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static char *cursor_name(CXCursor c);

/* The real path of the file that location loc lies in, into buf ("" when none). */
static void loc_file(CXSourceLocation loc, char *buf, size_t cap)
{
    CXFile f;
    unsigned line, col, off;
    clang_getFileLocation(loc, &f, &line, &col, &off);
    buf[0] = '\0';
    if (!f)
        return;
    CXString s = clang_File_tryGetRealPathName(f);
    const char *path = clang_getCString(s);
    if (!path || !*path) {
        clang_disposeString(s);
        s = clang_getFileName(f);
        path = clang_getCString(s);
    }
    snprintf(buf, cap, "%s", path ? path : "");
    clang_disposeString(s);
}

/* Whether declaration `decl` belongs to the project: it (or its first declaration, or its
 * definition) lies in the source being linted or in another source of the project, whose twin
 * then has the same name with the sync meaning. */
static int in_project(walker *w, CXCursor decl)
{
    CXCursor cs[3] = {decl, clang_getCanonicalCursor(decl), clang_getCursorDefinition(decl)};
    size_t rl = strlen(w->p->root);
    for (int i = 0; i < 3; i++) {
        if (clang_Cursor_isNull(cs[i]))
            continue;
        CXSourceLocation loc = clang_getCursorLocation(cs[i]);
        if (clang_Location_isFromMainFile(loc))
            return 1;
        char path[4096];
        loc_file(loc, path, sizeof path);
        if (strncmp(path, w->p->root, rl) == 0 && path[rl] == '/' &&
            ue_is_source(w->p, path + rl + 1, NULL))
            return 1;
    }
    return 0;
}

/* Whether async function `ref` named `name` keeps its async meaning in the twin: no rename rule
 * changes its name and it is declared outside the project's sources (a library header that the
 * twin includes as it is). */
static int foreign_unrenamed(walker *w, CXCursor ref, const char *name)
{
    char buf[512];
    size_t rule;
    return ua_rename(w->p->cfg, name, strlen(name), buf, sizeof buf, &rule) == 0 &&
           !in_project(w, ref);
}

/* The real path of the file holding the first declaration of `decl` (a new string; NULL when
 * out of memory). */
static char *decl_path(CXCursor decl)
{
    char path[4096];
    loc_file(clang_getCursorLocation(clang_getCanonicalCursor(decl)), path, sizeof path);
    return ua_strdup(path);
}

static void record_call(walker *w, CXCursor c)
{
    if (grow((void **)&w->calls, &w->capcalls, w->ncalls, sizeof *w->calls)) {
        w->rc = UL_ENOMEM;
        return;
    }
    CXSourceRange ext = clang_getCursorExtent(c);
    int ok, ok_end;
    size_t off = main_off(clang_getRangeStart(ext), &ok);
    size_t end = main_off(clang_getRangeEnd(ext), &ok_end);
    if (!ok)
        return;
    call_rec *r = &w->calls[w->ncalls];
    memset(r, 0, sizeof *r);
    r->off = off;
    r->end = ok_end && end > off ? end : 0;
    r->fn = w->cur_fn;
    r->kind = -1;
    CXCursor ref = clang_getCursorReferenced(c);
    if (!clang_Cursor_isNull(ref) && clang_getCursorKind(ref) == CXCursor_FunctionDecl) {
        CXString s = clang_getCursorSpelling(ref);
        r->callee = ua_strdup(clang_getCString(s));
        clang_disposeString(s);
        if (!r->callee) {
            w->rc = UL_ENOMEM;
            return;
        }
        r->kind = is_async(w, ref);
        /* an implicit declaration stands where the call is: the parse cannot see the callee */
        int ok_ref;
        size_t ref_off = main_off(clang_getCursorLocation(ref), &ok_ref);
        r->undeclared = ok_ref && ref_off == off && !clang_isCursorDefinition(ref);
        if (r->kind == 1 && (r->foreign = foreign_unrenamed(w, ref, r->callee)) &&
            !(r->decl = decl_path(ref))) {
            w->rc = UL_ENOMEM;
            return;
        }
        size_t nl = strlen(r->callee), q = off + nl;
        if (off + nl <= w->len && memcmp(w->src + off, r->callee, nl) == 0 &&
            (q == w->len || !is_ident(w->src[q]))) {
            while (q < w->len && (w->src[q] == ' ' || w->src[q] == '\t'))
                q++;
            r->name_here = q < w->len && w->src[q] == '(';
        }
    }
    w->ncalls++;
}

/* The first child of a cursor (null when none). */
static enum CXChildVisitResult first_child(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    *(CXCursor *)d = c;
    return CXChildVisit_Break;
}

/* Remembers where the callee of call c is referenced (through casts and parentheses), so that
 * the reference is not taken for an address-of (UA009). */
static void record_callee_ref(walker *w, CXCursor call)
{
    CXCursor c = clang_getNullCursor();
    clang_visitChildren(call, first_child, &c);
    for (int depth = 0; depth < 8 && !clang_Cursor_isNull(c); depth++) {
        enum CXCursorKind k = clang_getCursorKind(c);
        if (k == CXCursor_DeclRefExpr) {
            int ok;
            size_t off = main_off(clang_getCursorLocation(c), &ok);
            if (!ok)
                return;
            if (grow((void **)&w->callee_offs, &w->capcallee, w->ncallee, sizeof(size_t))) {
                w->rc = UL_ENOMEM;
                return;
            }
            w->callee_offs[w->ncallee++] = off;
            return;
        }
        if (k != CXCursor_UnexposedExpr && k != CXCursor_ParenExpr)
            return;
        CXCursor next = clang_getNullCursor();
        clang_visitChildren(c, first_child, &next);
        c = next;
    }
}

/* A reference to a function: remembered when it names a foreign async function (UA009 when it
 * turns out not to be a call's callee). */
static void record_ref(walker *w, CXCursor c)
{
    CXCursor ref = clang_getCursorReferenced(c);
    if (clang_Cursor_isNull(ref) || clang_getCursorKind(ref) != CXCursor_FunctionDecl ||
        !is_async(w, ref))
        return;
    int ok;
    size_t off = main_off(clang_getCursorLocation(c), &ok);
    char *name = ok ? cursor_name(ref) : NULL;
    if (!ok)
        return;
    if (!name) {
        w->rc = UL_ENOMEM;
        return;
    }
    if (!foreign_unrenamed(w, ref, name)) {
        ua_free(name);
        return;
    }
    char *decl = decl_path(ref);
    if (!decl || grow((void **)&w->refs, &w->caprefs, w->nrefs, sizeof *w->refs)) {
        ua_free(name);
        ua_free(decl);
        w->rc = UL_ENOMEM;
        return;
    }
    w->refs[w->nrefs++] = (ref_rec){off, name, decl};
}

static enum CXChildVisitResult body_visit(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    walker *w = d;
    if (w->rc)
        return CXChildVisit_Break;
    enum CXCursorKind k = clang_getCursorKind(c);
    if (k == CXCursor_CallExpr) {
        record_call(w, c);
        if (!w->rc)
            record_callee_ref(w, c);
    } else if (k == CXCursor_DeclRefExpr) {
        record_ref(w, c);
    }
    return CXChildVisit_Recurse;
}

static char *cursor_name(CXCursor c)
{
    CXString s = clang_getCursorSpelling(c);
    char *n = ua_strdup(clang_getCString(s));
    clang_disposeString(s);
    return n;
}

static void add(walker *w, size_t off, size_t n, ua_severity sev, const char *code, const char *fmt,
                ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

/* Appends a finding over bytes [off, off+n) of the source. */
static void add(walker *w, size_t off, size_t n, ua_severity sev, const char *code, const char *fmt,
                ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    unsigned l, c, el, ec;
    ua_offset_to_linecol(w->src, w->len, off, &l, &c);
    ua_offset_to_linecol(w->src, w->len, off + n, &el, &ec);
    if (ua_findings_addr(&w->out->findings, w->rel, l, c, el, ec, sev, code, "%s", msg))
        w->rc = UL_ENOMEM;
}

static void fix(walker *w, const char *code, size_t at, const char *title, size_t off, size_t del,
                const char *text)
{
    unsigned l, c;
    ua_offset_to_linecol(w->src, w->len, at, &l, &c);
    int rc = ul__fix_add(&w->out->fixes, code, l, c, title, w->rel, w->src, w->len, off, del, text);
    if (rc == UL_ENOMEM)
        w->rc = rc;
}

/* Asks for a rename-rule fix of `name` for the finding of `code` at offset `off` (made by
 * rule_fixes, which may cover several names with one glob). */
static void want_rule(walker *w, const char *code, size_t off, const char *name)
{
    if (grow((void **)&w->reqs, &w->capreqs, w->nreqs, sizeof *w->reqs)) {
        w->rc = UL_ENOMEM;
        return;
    }
    rule_req *r = &w->reqs[w->nreqs];
    memset(r, 0, sizeof *r);
    if (!(r->name = ua_strdup(name))) {
        w->rc = UL_ENOMEM;
        return;
    }
    snprintf(r->code, sizeof r->code, "%s", code);
    ua_offset_to_linecol(w->src, w->len, off, &r->line, &r->col);
    w->nreqs++;
}

/* Whether glob `prefix`* may stand for the names requested: every other identifier of the
 * source that it would rename is the project's own (declared here or in another source, so its
 * twin is renamed the same way: a static, a type, a function the project defines) and no
 * configured rule that already renames one is less specific. */
static int glob_safe(walker *w, const char *prefix, size_t from, size_t to)
{
    size_t pl = strlen(prefix);
    CXString sp = clang_getTranslationUnitSpelling(w->tu);
    CXFile mf = clang_getFile(w->tu, clang_getCString(sp));
    clang_disposeString(sp);
    if (!mf)
        return 0;
    for (size_t i = 0; i < w->len;) {
        size_t e = ul__skip_noncode(w->src, w->len, i);
        if (e != i) {
            i = e;
            continue;
        }
        if (!is_ident(w->src[i]) || (i > 0 && is_ident(w->src[i - 1]))) {
            i++;
            continue;
        }
        size_t t = i;
        while (t < w->len && is_ident(w->src[t]))
            t++;
        size_t n = t - i, at = i;
        i = t;
        if (n <= pl || memcmp(w->src + at, prefix, pl) != 0)
            continue;
        char name[512];
        if (n >= sizeof name)
            return 0;
        memcpy(name, w->src + at, n);
        name[n] = '\0';
        int asked = 0;
        for (size_t k = from; k < to && !asked; k++)
            asked = strcmp(w->reqs[k].name, name) == 0;
        if (asked)
            continue;
        char buf[512];
        size_t rule;
        if (ua_rename(w->p->cfg, name, n, buf, sizeof buf, &rule) > 0) {
            if (rule >= w->p->cfg->nrules)
                return 0; /* the built-in async_* rule */
            const ua_rule *r = &w->p->cfg->rules[rule];
            if (r->is_glob && (r->prefix_len + r->suffix_len < pl ||
                               (r->prefix_len + r->suffix_len == pl && r->prefix_len <= pl)))
                return 0; /* the new glob would take the name over */
            continue;
        }
        CXCursor c = clang_getCursor(w->tu, clang_getLocationForOffset(w->tu, mf, (unsigned)at));
        CXCursor ref = clang_getCursorReferenced(c);
        if (clang_Cursor_isNull(ref) && clang_isDeclaration(clang_getCursorKind(c)))
            ref = c;
        if (clang_Cursor_isNull(ref) || clang_isInvalid(clang_getCursorKind(ref)))
            return 0;
        char *rn = cursor_name(ref);
        int same = rn && strcmp(rn, name) == 0;
        ua_free(rn);
        if (!same || !in_project(w, ref))
            return 0;
        /* an external declaration that a .c source makes for a definition it does not have:
         * the definition may be in a file that is no source (a header's declarations are the
         * project's API, defined by its sources) */
        enum CXCursorKind k = clang_getCursorKind(ref);
        size_t rl = strlen(w->rel);
        if (rl > 2 && strcmp(w->rel + rl - 2, ".c") == 0 &&
            (k == CXCursor_FunctionDecl || k == CXCursor_VarDecl) &&
            clang_getCursorLinkage(ref) == CXLinkage_External &&
            clang_Cursor_isNull(clang_getCursorDefinition(ref)) &&
            (k == CXCursor_FunctionDecl || clang_Cursor_getStorageClass(ref) == CX_SC_Extern) &&
            clang_Location_isFromMainFile(clang_getCursorLocation(clang_getCanonicalCursor(ref))))
            return 0;
    }
    return 1;
}

/* The fixes of requests [from, w->nreqs): one rename rule each, except that names sharing a
 * module prefix ("kv_") get one glob rule over their longest common prefix ending in '_'
 * ("kv_*" -> "kv_sync_*") when glob_safe allows it. */
static void rule_fixes(walker *w, size_t from)
{
    size_t to = w->nreqs;
    char last[512] = ""; /* the names of one prefix ask in a row: glob_safe once */
    int last_safe = 0;
    for (size_t i = from; i < to && !w->rc; i++) {
        const rule_req *r = &w->reqs[i];
        const char *us = strchr(r->name, '_');
        char rule[512], target[600], title[1400];
        snprintf(rule, sizeof rule, "%s", r->name);
        if (us && us > r->name) {
            size_t seg = (size_t)(us - r->name) + 1, lcp = strlen(r->name), others = 0;
            for (size_t k = from; k < to; k++) {
                const char *o = w->reqs[k].name;
                if (strcmp(o, r->name) == 0 || strncmp(o, r->name, seg) != 0)
                    continue;
                others++;
                size_t q = 0;
                while (q < lcp && o[q] == r->name[q])
                    q++;
                lcp = q;
            }
            while (lcp > seg && r->name[lcp - 1] != '_')
                lcp--;
            if (others) {
                if (w->marks)
                    w->marks->volatile_fixes = 1;
                char prefix[512];
                snprintf(prefix, sizeof prefix, "%.*s", (int)lcp, r->name);
                if (strcmp(prefix, last) != 0) {
                    snprintf(last, sizeof last, "%s", prefix);
                    last_safe = glob_safe(w, prefix, from, to);
                }
                if (last_safe)
                    snprintf(rule, sizeof rule, "%s*", prefix);
            }
        }
        ul__rule_target(w->p->cfg, rule, target, sizeof target);
        snprintf(title, sizeof title, "Add rename rule \"%s\": \"%s\" to unasync.json", rule,
                 target);
        if (w->cfg_bytes &&
            ul__fix_rename_rule(&w->out->fixes, r->code, r->line, r->col, title, w->cfg_bytes,
                                w->cfg_len, rule, target) == UL_ENOMEM)
            w->rc = UL_ENOMEM;
    }
}

/* UA005: a definition with external linkage whose name no rule changes. */
static void check_external(walker *w, CXCursor c)
{
    enum CXCursorKind k = clang_getCursorKind(c);
    /* a variable without `extern` is a definition (tentative ones too: -fno-common links them
     * as strong symbols) */
    int defines = k == CXCursor_VarDecl ? clang_Cursor_getStorageClass(c) != CX_SC_Extern
                                        : clang_isCursorDefinition(c);
    if ((k != CXCursor_FunctionDecl && k != CXCursor_VarDecl) || !defines ||
        clang_getCursorLinkage(c) != CXLinkage_External)
        return;
    char *name = cursor_name(c);
    if (!name) {
        w->rc = UL_ENOMEM;
        return;
    }
    char buf[512];
    size_t rule;
    int ok;
    size_t off = main_off(clang_getCursorLocation(c), &ok);
    if (ok && strcmp(name, "main") != 0 &&
        ua_rename(w->p->cfg, name, strlen(name), buf, sizeof buf, &rule) == 0) {
        size_t nl = strlen(name);
        int spelled = off + nl <= w->len && memcmp(w->src + off, name, nl) == 0;
        add(w, off, spelled ? nl : 1, UA_ERROR, "UA005",
            "'%s' has external linkage and no rename rule changes it: its twin defines '%s' "
            "too, and the two collide when a program links both (make it static or add a "
            "rename rule)",
            name, name);
        want_rule(w, "UA005", off, name);
    }
    ua_free(name);
}

/* Records the body (the CompoundStmt child) of a function definition in w->marks. */
static enum CXChildVisitResult body_of(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    walker *w = d;
    if (clang_getCursorKind(c) != CXCursor_CompoundStmt)
        return CXChildVisit_Continue;
    ul__marks *m = w->marks;
    CXSourceRange ext = clang_getCursorExtent(c);
    int ok1, ok2;
    size_t lb = main_off(clang_getRangeStart(ext), &ok1);
    size_t re = main_off(clang_getRangeEnd(ext), &ok2);
    if (!ok1 || !ok2 || re == 0 || re > w->len || lb >= re - 1 || w->src[lb] != '{' ||
        w->src[re - 1] != '}' || (m->nbody && m->body[2 * m->nbody - 1] >= lb)) {
        m->body_bad = 1;
        return CXChildVisit_Break;
    }
    if (grow((void **)&m->body, &m->capbody, 2 * m->nbody + 1, sizeof *m->body)) {
        w->rc = UL_ENOMEM;
        return CXChildVisit_Break;
    }
    m->body[2 * m->nbody] = lb;
    m->body[2 * m->nbody + 1] = re - 1;
    m->nbody++;
    return CXChildVisit_Break;
}

/* Whether `s` is a plain identifier (an anonymous type's spelling is not). */
static int plain_ident(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return 0;
    for (; *s; s++)
        if (!is_ident(*s))
            return 0;
    return 1;
}

/* Remembers a struct, union, enum or typedef that the async header being linted defines. */
static void record_type(walker *w, CXCursor c, enum CXCursorKind k)
{
    if (k != CXCursor_TypedefDecl && !clang_isCursorDefinition(c))
        return;
    size_t rl = strlen(w->rel);
    if (rl < 2 || strcmp(w->rel + rl - 2, ".h") != 0)
        return;
    char *name = cursor_name(c);
    int ok;
    size_t off = main_off(clang_getCursorLocation(c), &ok);
    if (!name) {
        w->rc = UL_ENOMEM;
        return;
    }
    if (!ok || !plain_ident(name)) {
        ua_free(name);
        return;
    }
    if (grow((void **)&w->types, &w->captypes, w->ntypes, sizeof *w->types)) {
        ua_free(name);
        w->rc = UL_ENOMEM;
        return;
    }
    w->types[w->ntypes++] = (type_rec){c, name,
                                       k == CXCursor_StructDecl  ? "struct "
                                       : k == CXCursor_UnionDecl ? "union "
                                       : k == CXCursor_EnumDecl  ? "enum "
                                                                 : "",
                                       off, 0};
}

/* Why the twin's definition of type t differs, into why (nothing written when it does not): a
 * renamed identifier in it, a marker or an escape hatch, or a type flagged before. */
static int type_differs(walker *w, const type_rec *t, char *why, size_t cap)
{
    CXToken *toks = NULL;
    unsigned n = 0;
    clang_tokenize(w->tu, clang_getCursorExtent(t->c), &toks, &n);
    int differs = 0;
    for (unsigned i = 0; i < n && !differs; i++) {
        if (clang_getTokenKind(toks[i]) != CXToken_Identifier)
            continue;
        CXString s = clang_getTokenSpelling(w->tu, toks[i]);
        const char *sp = clang_getCString(s);
        char buf[512];
        size_t rule;
        if (strcmp(sp, t->name) == 0) {
            /* its own name */
        } else if (ua_rename(w->p->cfg, sp, strlen(sp), buf, sizeof buf, &rule) > 0) {
            snprintf(why, cap, "'%s' becomes '%s'", sp, buf);
            differs = 1;
        } else if (strcmp(sp, w->p->cfg->marker_async) == 0 ||
                   strcmp(sp, w->p->cfg->marker_await) == 0 || strcmp(sp, "UNASYNC_ASYNC") == 0) {
            snprintf(why, cap, "'%s' is not in the twin", sp);
            differs = 1;
        } else {
            for (size_t k = 0; k < w->ntypes && !differs; k++)
                if (w->types[k].flagged && &w->types[k] != t && strcmp(w->types[k].name, sp) == 0) {
                    snprintf(why, cap, "'%s%s' needs a new name too", w->types[k].kind, sp);
                    differs = 1;
                }
        }
        clang_disposeString(s);
    }
    clang_disposeTokens(w->tu, toks, n);
    return differs;
}

/* UA010: types of an async header whose twin defines them differently under the same name. */
static void check_types(walker *w)
{
    char why[1100];
    for (int changed = 1; changed && !w->rc;) {
        changed = 0;
        for (size_t i = 0; i < w->ntypes; i++) {
            type_rec *t = &w->types[i];
            char buf[512];
            size_t rule;
            if (t->flagged ||
                ua_rename(w->p->cfg, t->name, strlen(t->name), buf, sizeof buf, &rule) > 0 ||
                !type_differs(w, t, why, sizeof why))
                continue;
            t->flagged = changed = 1;
        }
    }
    for (size_t i = 0; i < w->ntypes && !w->rc; i++) {
        type_rec *t = &w->types[i];
        if (!t->flagged)
            continue;
        type_differs(w, t, why, sizeof why);
        size_t nl = strlen(t->name);
        int spelled = t->off + nl <= w->len && memcmp(w->src + t->off, t->name, nl) == 0;
        add(w, t->off, spelled ? nl : 1, UA_ERROR, "UA010",
            "'%s%s' keeps its name in the twin header, whose definition differs (%s): a "
            "program that includes both headers fails with a redefinition (add a rename rule)",
            t->kind, t->name, why);
        want_rule(w, "UA010", t->off, t->name);
    }
}

static enum CXChildVisitResult top_visit(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    walker *w = d;
    if (w->rc)
        return CXChildVisit_Break;
    CXSourceLocation loc = clang_getCursorLocation(c);
    if (!clang_Location_isFromMainFile(loc))
        return CXChildVisit_Continue;
    enum CXCursorKind k = clang_getCursorKind(c);
    if (k == CXCursor_MacroExpansion) {
        CXString s = clang_getCursorSpelling(c);
        int is_await = strcmp(clang_getCString(s), w->p->cfg->marker_await) == 0;
        clang_disposeString(s);
        int ok;
        size_t off = main_off(loc, &ok);
        size_t ml = strlen(w->p->cfg->marker_await);
        if (is_await && ok && off + ml <= w->len) {
            if (grow((void **)&w->awaits, &w->capawaits, w->nawaits, sizeof *w->awaits)) {
                w->rc = UL_ENOMEM;
                return CXChildVisit_Break;
            }
            w->awaits[w->nawaits++] = (await_rec){off, off + ml, 0};
        }
        return CXChildVisit_Continue;
    }
    if (k == CXCursor_FunctionDecl || k == CXCursor_VarDecl)
        check_external(w, c);
    if (k == CXCursor_StructDecl || k == CXCursor_UnionDecl || k == CXCursor_EnumDecl ||
        k == CXCursor_TypedefDecl)
        record_type(w, c, k);
    if (k == CXCursor_VarDecl) /* initializers: tables of function pointers */
        clang_visitChildren(c, body_visit, w);
    if (k == CXCursor_FunctionDecl && clang_isCursorDefinition(c)) {
        if (grow((void **)&w->fns, &w->capfns, w->nfns, sizeof *w->fns)) {
            w->rc = UL_ENOMEM;
            return CXChildVisit_Break;
        }
        CXSourceRange ext = clang_getCursorExtent(c);
        int ok1, ok2;
        fn_rec *f = &w->fns[w->nfns];
        f->start = main_off(clang_getRangeStart(ext), &ok1);
        f->end = main_off(clang_getRangeEnd(ext), &ok2);
        f->async = is_async(w, c);
        f->entry = 0;
        f->name = cursor_name(c);
        if (!f->name) {
            w->rc = UL_ENOMEM;
            return CXChildVisit_Break;
        }
        if (!ok1 || !ok2)
            f->start = f->end = 0;
        w->cur_fn = (long)w->nfns++;
        if (w->marks)
            clang_visitChildren(c, body_of, w);
        clang_visitChildren(c, body_visit, w);
        w->cur_fn = -1;
    }
    return CXChildVisit_Continue;
}

static int cmp_await(const void *a, const void *b)
{
    const await_rec *x = a, *y = b;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* The await whose marker ends right before `off` (only blanks between), or NULL. */
static await_rec *await_before(walker *w, size_t off)
{
    size_t q = off;
    while (q > 0 && (w->src[q - 1] == ' ' || w->src[q - 1] == '\t' || w->src[q - 1] == '\n' ||
                     w->src[q - 1] == '\r'))
        q--;
    size_t lo = 0, hi = w->nawaits;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (w->awaits[mid].end < q)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < w->nawaits && w->awaits[lo].end == q ? &w->awaits[lo] : NULL;
}

static long fn_at(walker *w, size_t off)
{
    for (size_t i = 0; i < w->nfns; i++)
        if (w->fns[i].start <= off && off < w->fns[i].end)
            return (long)i;
    return -1;
}

/* Builds the list of async functions the unit declares (for sync_twin). */
static enum CXChildVisitResult names_visit(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    walker *w = d;
    if (clang_getCursorKind(c) == CXCursor_FunctionDecl && is_async(w, c) && !w->rc) {
        char *n = NULL;
        if (grow((void **)&w->async_names, &w->capnames, w->nasync_names, sizeof(char *)) ||
            !(n = cursor_name(c))) {
            w->rc = UL_ENOMEM;
            return CXChildVisit_Break;
        }
        w->async_names[w->nasync_names++] = n;
    }
    return w->rc ? CXChildVisit_Break : CXChildVisit_Continue;
}

/* Fills w->kept->names with the async functions the headers declare: one parse of the source
 * without function bodies or preamble, with a context-wide index that lists every declaration.
 * Sets w->rc when memory runs out. */
static void header_names(walker *w)
{
    ul__tu *k = w->kept;
    ul_ctx *ctx = w->ctx;
    k->names_done = 1;
    if (!ctx->aux_index && !(ctx->aux_index = clang_createIndex(0, 0)))
        return;
    struct CXUnsavedFile uf = {k->abs, w->src, (unsigned long)w->len};
    CXTranslationUnit tu = NULL;
    if (clang_parseTranslationUnit2(
            ctx->aux_index, k->abs, (const char *const *)k->args.v, k->args.n, &uf, 1,
            CXTranslationUnit_SkipFunctionBodies | CXTranslationUnit_KeepGoing,
            &tu) != CXError_Success)
        return;
    walker aux = {0};
    aux.ctx = ctx;
    aux.p = w->p;
    aux.tu = tu;
    clang_visitChildren(clang_getTranslationUnitCursor(tu), names_visit, &aux);
    if (aux.rc) {
        k->names_done = 0; /* try again next time */
        w->rc = aux.rc;
        for (size_t i = 0; i < aux.nasync_names; i++)
            ua_free(aux.async_names[i]);
        ua_free(aux.async_names);
    } else {
        k->names = aux.async_names;
        k->nnames = aux.nasync_names;
    }
    ua_free(aux.memo);
    clang_disposeTranslationUnit(tu);
}

/* The async function whose twin (under the rename rules) is `name`, or NULL: the call is then a
 * blocking call to a generated or hand-written sync twin. Writes into buf. */
static const char *sync_twin(walker *w, const char *name, char *buf, size_t cap)
{
    if (!w->async_names_built) {
        w->async_names_built = 1;
        if (!w->kept) {
            clang_visitChildren(clang_getTranslationUnitCursor(w->tu), names_visit, w);
        } else {
            /* the kept unit lists only the source's own declarations: the headers' async
             * functions come from one parse without bodies, cached with the unit */
            if (!w->kept->names_done)
                header_names(w);
            for (size_t i = 0; i < w->kept->nnames && !w->rc; i++) {
                char *n = NULL;
                if (grow((void **)&w->async_names, &w->capnames, w->nasync_names, sizeof(char *)) ||
                    !(n = ua_strdup(w->kept->names[i])))
                    w->rc = UL_ENOMEM;
                else
                    w->async_names[w->nasync_names++] = n;
            }
            if (!w->rc)
                clang_visitChildren(clang_getTranslationUnitCursor(w->tu), names_visit, w);
        }
    }
    if (w->rc)
        return NULL;
    char out[512];
    size_t rule;
    for (size_t i = 0; i < w->nasync_names; i++) {
        const char *a = w->async_names[i];
        if (ua_rename(w->p->cfg, a, strlen(a), out, sizeof out, &rule) > 0 &&
            strcmp(out, name) == 0) {
            snprintf(buf, cap, "%s", a);
            return buf;
        }
    }
    return NULL;
}

static const ul_blocking *blocking_entry(walker *w, const char *name)
{
    const ul_blocking *list = w->ctx->opt.blocking;
    size_t n = w->ctx->opt.nblocking;
    /* the project's "blocking" entries come first: they add functions or take defaults off */
    const ua_config *cfg = w->p ? w->p->cfg : NULL;
    for (size_t i = 0; cfg && i < cfg->nblocking; i++)
        if (strcmp(cfg->blocking[i].name, name) == 0) {
            if (!cfg->blocking[i].blocking)
                return NULL;
            w->project_entry.name = cfg->blocking[i].name;
            w->project_entry.twin = cfg->blocking[i].twin;
            w->project_entry.fix = cfg->blocking[i].twin ? "" : NULL;
            return &w->project_entry;
        }
    if (!list)
        list = ul_default_blocking(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].name, name) == 0)
            return &list[i];
    return NULL;
}

static void blocking_call(walker *w, const call_rec *r, const fn_rec *f)
{
    char twin_buf[512];
    const ul_blocking *b = blocking_entry(w, r->callee);
    const char *twin = b ? b->twin : NULL;
    const char *how = b ? b->fix : NULL;
    if (!b && r->callee && strchr(r->callee, '_')) {
        twin = sync_twin(w, r->callee, twin_buf, sizeof twin_buf);
        how = "";
    }
    if (!b && !twin)
        return;
    size_t nl = strlen(r->callee);
    if (twin)
        add(w, r->off, r->name_here ? nl : 1, UA_ERROR, "UA004",
            "blocking call to '%s' inside async function '%s' stalls every coroutine on the "
            "loop; use 'await %s'",
            r->callee, f->name, twin);
    else
        add(w, r->off, r->name_here ? nl : 1, UA_ERROR, "UA004",
            "blocking call to '%s' inside async function '%s' stalls every coroutine on the "
            "loop (no async twin is known: move it to a thread or out of the coroutine)",
            r->callee, f->name);
    if (!twin || !how || !r->name_here)
        return;
    char text[1024], title[1200];
    if (!*how) {
        snprintf(text, sizeof text, "%s %s", w->p->cfg->marker_await, twin);
        snprintf(title, sizeof title, "Replace with '%s %s'", w->p->cfg->marker_await, twin);
        fix(w, "UA004", r->off, title, r->off, nl, text);
        return;
    }
    /* a template over the one argument: the text between the parentheses */
    if (!r->end || r->end > w->len || w->src[r->end - 1] != ')')
        return;
    const char *open = memchr(w->src + r->off + nl, '(', r->end - r->off - nl);
    if (!open)
        return;
    size_t a0 = (size_t)(open - w->src) + 1, a1 = r->end - 1;
    int depth = 0;
    for (size_t i = a0; i < a1; i++) {
        depth += w->src[i] == '(';
        depth -= w->src[i] == ')';
        if (w->src[i] == ',' && depth == 0)
            return; /* more than one argument: the template does not apply */
    }
    char arg[512];
    if (a1 - a0 >= sizeof arg || a1 == a0)
        return;
    memcpy(arg, w->src + a0, a1 - a0);
    arg[a1 - a0] = '\0';
    const char *pct = strstr(how, "%s");
    if (!pct)
        return;
    snprintf(text, sizeof text, "%.*s%s%s", (int)(pct - how), how, arg, pct + 2);
    snprintf(title, sizeof title, "Replace with '%s'", text);
    fix(w, "UA004", r->off, title, r->off, r->end - r->off, text);
}

static void mark_async_fix(walker *w, const char *code, size_t at, const fn_rec *f)
{
    if (f->end <= f->start)
        return;
    char text[128], title[600];
    snprintf(text, sizeof text, "%s ", w->p->cfg->marker_async);
    snprintf(title, sizeof title, "Mark '%s' %s", f->name, w->p->cfg->marker_async);
    fix(w, code, at, title, f->start, 0, text);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* UA009 at offset off (span bytes) for foreign async function `name` declared in header
 * `decl`: `what` is "call to" or "address of". The fix adds the rule map that lists the header
 * when one is available, else a rename rule. */
#define UA009_TAKEN(what) (strcmp((what), "address of") == 0 ? " taken" : "")
static void foreign_async(walker *w, size_t off, size_t span, const char *what, const char *name,
                          const char *decl)
{
    static const char why[] = "it is declared outside this project's sources and no rename rule "
                              "changes it, so the twin calls the same async function from "
                              "blocking code";
    char map[256];
    int hm = ul__map_for_header(w->p->cfg, decl, map, sizeof map);
    if (w->marks)
        w->marks->volatile_fixes = 1;
    if (hm < 0) {
        w->rc = hm;
        return;
    }
    if (!hm) {
        add(w, off, span, UA_ERROR, "UA009",
            "%s async function '%s'%s: %s (add a rename rule to its sync twin, or the library's "
            "rule map)",
            what, name, UA009_TAKEN(what), why);
        want_rule(w, "UA009", off, name);
        return;
    }
    add(w, off, span, UA_ERROR, "UA009",
        "%s async function '%s'%s: %s (add \"%s\" to \"maps\" in unasync.json: that rule map "
        "lists its header)",
        what, name, UA009_TAKEN(what), why, map);
    char title[600];
    unsigned l, c;
    snprintf(title, sizeof title, "Add rule map \"%s\" to \"maps\" in unasync.json", map);
    ua_offset_to_linecol(w->src, w->len, off, &l, &c);
    if (w->cfg_bytes && ul__fix_add_map(&w->out->fixes, "UA009", l, c, title, w->cfg_bytes,
                                        w->cfg_len, map) == UL_ENOMEM)
        w->rc = UL_ENOMEM;
}

/* Matches calls with awaits and applies UA001..UA004 and UA009. */
static void judge(walker *w)
{
    if (w->nawaits > 1)
        qsort(w->awaits, w->nawaits, sizeof *w->awaits, cmp_await);
    if (w->ncallee > 1)
        qsort(w->callee_offs, w->ncallee, sizeof *w->callee_offs, cmp_size);
    for (size_t i = 0; i < w->nfns; i++)
        for (size_t k = 0; k < w->nentries && !w->fns[i].entry; k++)
            w->fns[i].entry = strcmp(w->fns[i].name, w->entries[k]) == 0;
    const char *aw = w->p->cfg->marker_await;
    w->marks->f2 = w->out->findings.n;
    w->marks->x2 = w->out->fixes.n;
    size_t req0 = w->nreqs;
    for (size_t i = 0; i < w->ncalls && !w->rc; i++) {
        call_rec *r = &w->calls[i];
        await_rec *a = await_before(w, r->off);
        if (a)
            a->matched = 1;
        const fn_rec *f = r->fn >= 0 ? &w->fns[r->fn] : NULL;
        if (!f)
            continue;
        size_t nl = r->callee ? strlen(r->callee) : 1;
        size_t span = r->name_here ? nl : 1;
        int coroutine = f->async || f->entry;
        if (r->foreign)
            foreign_async(w, r->off, span, "call to", r->callee, r->decl);
        if (r->kind == 1 && !coroutine) {
            add(w, r->off, span, UA_ERROR, "UA003",
                "call to async function '%s' inside '%s', which is not async: only a coroutine "
                "may suspend (mark '%s' async, or start a coroutine with async_run/async_spawn)",
                r->callee, f->name, f->name);
            mark_async_fix(w, "UA003", r->off, f);
        } else if (r->kind == 1 && !a) {
            char title[600];
            add(w, r->off, span, UA_ERROR, "UA001",
                "call to async function '%s' without %s: the twin gets a blocking call, but "
                "readers (and the transformer) cannot see that this line suspends",
                r->callee, aw);
            snprintf(title, sizeof title, "Insert '%s'", aw);
            char text[128];
            snprintf(text, sizeof text, "%s ", aw);
            fix(w, "UA001", r->off, title, r->off, 0, text);
        } else if (r->kind == 0 && a && r->undeclared) {
            add(w, a->off, a->end - a->off, UA_ERROR, "UA002",
                "%s on '%s', which is not declared here: the lint cannot tell whether it is "
                "async (include its header or declare it)",
                aw, r->callee);
        } else if (r->kind == 0 && a) {
            char title[600];
            add(w, a->off, a->end - a->off, UA_ERROR, "UA002",
                "%s on '%s', which is not async: nothing suspends here", aw, r->callee);
            snprintf(title, sizeof title, "Remove '%s'", aw);
            fix(w, "UA002", a->off, title, a->off, r->off - a->off, "");
        } else if (r->kind == 0 && coroutine) {
            blocking_call(w, r, f);
        }
    }
    /* the address of a foreign async function: a callback or a table the twin fills with it */
    for (size_t i = 0; i < w->nrefs && !w->rc; i++) {
        const ref_rec *x = &w->refs[i];
        if (bsearch(&x->off, w->callee_offs, w->ncallee, sizeof *w->callee_offs, cmp_size))
            continue;
        foreign_async(w, x->off, strlen(x->name), "address of", x->name, x->decl);
    }
    rule_fixes(w, req0);
    /* awaits that precede no async call in a function that is not async */
    w->marks->f3 = w->out->findings.n;
    w->marks->x3 = w->out->fixes.n;
    for (size_t i = 0; i < w->nawaits && !w->rc; i++) {
        await_rec *a = &w->awaits[i];
        if (a->matched)
            continue;
        long fi = fn_at(w, a->off);
        if (fi < 0 || w->fns[fi].async || w->fns[fi].entry)
            continue;
        add(w, a->off, a->end - a->off, UA_ERROR, "UA003",
            "%s inside '%s', which is not async: only a coroutine may suspend", aw,
            w->fns[fi].name);
        mark_async_fix(w, "UA003", a->off, &w->fns[fi]);
    }
}

static void walker_free(walker *w)
{
    for (size_t i = 0; i < w->nfns; i++)
        ua_free(w->fns[i].name);
    ua_free(w->fns);
    for (size_t i = 0; i < w->ncalls; i++) {
        ua_free(w->calls[i].callee);
        ua_free(w->calls[i].decl);
    }
    ua_free(w->calls);
    ua_free(w->awaits);
    ua_free(w->memo);
    for (size_t i = 0; i < w->nasync_names; i++)
        ua_free(w->async_names[i]);
    ua_free(w->async_names);
    for (size_t i = 0; i < w->nentries; i++)
        ua_free(w->entries[i]);
    ua_free(w->entries);
    ua_free(w->callee_offs);
    for (size_t i = 0; i < w->nrefs; i++) {
        ua_free(w->refs[i].name);
        ua_free(w->refs[i].decl);
    }
    ua_free(w->refs);
    for (size_t i = 0; i < w->nreqs; i++)
        ua_free(w->reqs[i].name);
    ua_free(w->reqs);
    for (size_t i = 0; i < w->ntypes; i++)
        ua_free(w->types[i].name);
    ua_free(w->types);
}

/* ---- parsing ---- */

static unsigned parse_options(const ul_ctx *ctx)
{
    unsigned o = CXTranslationUnit_DetailedPreprocessingRecord | CXTranslationUnit_KeepGoing |
                 CXTranslationUnit_IgnoreNonErrorsFromIncludedFiles;
    if (ctx->opt.keep)
        o |= CXTranslationUnit_PrecompiledPreamble | CXTranslationUnit_CreatePreambleOnFirstParse;
    return o;
}

static void tu_free(ul__tu *t)
{
    ul__inc_free(t);
    clang_disposeTranslationUnit(t->tu);
    ul__args_free(&t->args);
    ua_free(t->abs);
    for (size_t i = 0; i < t->nnames; i++)
        ua_free(t->names[i]);
    ua_free(t->names);
}

static int same_args(const ul__args *a, const ul__args *b)
{
    if (a->n != b->n)
        return 0;
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0)
            return 0;
    return 1;
}

ul__tu *ul__tu_find(ul_ctx *ctx, const ue_project *p, const char *abs, const ul__args *args)
{
    for (size_t i = 0; i < ctx->ntus; i++) {
        ul__tu *t = &ctx->tus[i];
        if (t->p == p && strcmp(t->abs, abs) == 0)
            return same_args(&t->args, args) ? t : NULL;
    }
    return NULL;
}

void ul__tu_drop(ul_ctx *ctx, ul__tu *t)
{
    size_t i = (size_t)(t - ctx->tus);
    tu_free(t);
    ctx->tus[i] = ctx->tus[--ctx->ntus];
}

/* A parsed unit for abs with the given contents in *out (NULL when libclang cannot parse it): a
 * kept one reparsed, or a new one. *kept says whether the context owns it. Returns 0 or
 * UL_ENOMEM (with *out NULL). */
static int get_tu(ul_ctx *ctx, const ue_project *p, const char *abs, ul__args *args,
                  const char *bytes, size_t len, ul__tu **kept, CXTranslationUnit *out)
{
    struct CXUnsavedFile uf = {abs, bytes, (unsigned long)len};
    *kept = NULL;
    *out = NULL;
    if (ctx->opt.keep) {
        for (size_t i = 0; i < ctx->ntus; i++) {
            ul__tu *t = &ctx->tus[i];
            if (t->p != p || strcmp(t->abs, abs) != 0)
                continue;
            if (same_args(&t->args, args) &&
                clang_reparseTranslationUnit(t->tu, 1, &uf, clang_defaultReparseOptions(t->tu)) ==
                    0) {
                *kept = t;
                *out = t->tu;
                return 0;
            }
            /* flags changed or the reparse failed (the unit is unusable then): start over */
            tu_free(t);
            ctx->tus[i] = ctx->tus[--ctx->ntus];
            break;
        }
    }
    CXTranslationUnit tu = NULL;
    enum CXErrorCode ec = clang_parseTranslationUnit2(ctx->index, abs, (const char *const *)args->v,
                                                      args->n, &uf, 1, parse_options(ctx), &tu);
    if (ec != CXError_Success || !tu)
        return 0;
    if (ctx->opt.keep) {
        ul__tu *nt = ua_realloc(ctx->tus, (ctx->ntus + 1) * sizeof *nt);
        if (nt)
            ctx->tus = nt;
        char *a = nt ? ua_strdup(abs) : NULL;
        if (!a) {
            clang_disposeTranslationUnit(tu);
            return UL_ENOMEM;
        }
        memset(&nt[ctx->ntus], 0, sizeof *nt);
        nt[ctx->ntus].p = p;
        nt[ctx->ntus].abs = a;
        nt[ctx->ntus].args = *args;
        nt[ctx->ntus].tu = tu;
        *kept = &nt[ctx->ntus++];
        memset(args, 0, sizeof *args); /* moved */
    }
    *out = tu;
    return 0;
}

ul_ctx *ul_ctx_new(const ul_options *opt)
{
    ul_ctx *ctx = ua_calloc(1, sizeof *ctx);
    if (!ctx)
        return NULL;
    if (opt)
        ctx->opt = *opt;
    /* libclang is loaded here, the first time a lint is wanted; without it the context still
     * exists and every lint through it is one UA000 error (ul_lint_source), never a pass */
    if (ul_clang_load(&ctx->no_clang) != 0)
        return ctx;
    /* with a preamble, "local declarations only" keeps the walk to the source itself (the
     * headers' thousands of declarations stay in the precompiled preamble, unread) */
    ctx->index = clang_createIndex(ctx->opt.keep ? 1 : 0, 0);
    if (!ctx->index) {
        ua_free(ctx);
        return NULL;
    }
    return ctx;
}

void ul_ctx_forget(ul_ctx *ctx, const ue_project *p)
{
    if (!ctx)
        return;
    for (size_t i = 0; i < ctx->ntus;) {
        if (p && ctx->tus[i].p != p) {
            i++;
            continue;
        }
        tu_free(&ctx->tus[i]);
        ctx->tus[i] = ctx->tus[--ctx->ntus];
    }
    for (size_t i = 0; i < ctx->ndbs; i++) {
        clang_CompilationDatabase_dispose(ctx->dbs[i].db);
        ua_free(ctx->dbs[i].dir);
    }
    ua_free(ctx->dbs);
    ctx->dbs = NULL;
    ctx->ndbs = 0;
}

void ul_ctx_free(ul_ctx *ctx)
{
    if (!ctx)
        return;
    ul_ctx_forget(ctx, NULL);
    ua_free(ctx->tus);
    if (ctx->index)
        clang_disposeIndex(ctx->index);
    if (ctx->aux_index)
        clang_disposeIndex(ctx->aux_index);
    ua_free(ctx);
}

/* What makes the parse unusable, as "file:line: message" (new string in *out), or NULL: the
 * first missing header (KeepGoing reports those as plain errors), else the first fatal
 * diagnostic. Returns 0 or UL_ENOMEM. */
static int first_fatal(CXTranslationUnit tu, const ue_project *p, char **out_msg)
{
    unsigned n = clang_getNumDiagnostics(tu);
    char *fatal = NULL;
    *out_msg = NULL;
    for (unsigned i = 0; i < n; i++) {
        CXDiagnostic d = clang_getDiagnostic(tu, i);
        enum CXDiagnosticSeverity sv = clang_getDiagnosticSeverity(d);
        CXString msg = clang_getDiagnosticSpelling(d);
        const char *m = clang_getCString(msg);
        size_t ml = strlen(m);
        int missing =
            sv >= CXDiagnostic_Error && ml > 14 && strcmp(m + ml - 14, "file not found") == 0;
        char *out = NULL;
        if (missing || (sv >= CXDiagnostic_Fatal && !fatal)) {
            CXFile f;
            unsigned line, col, off;
            clang_getFileLocation(clang_getDiagnosticLocation(d), &f, &line, &col, &off);
            CXString fn = clang_getFileName(f);
            const char *path = f ? clang_getCString(fn) : NULL;
            size_t rl = strlen(p->root);
            if (path && strncmp(path, p->root, rl) == 0 && path[rl] == '/')
                path += rl + 1;
            char buf[2048];
            if (path)
                snprintf(buf, sizeof buf, "%s:%u: %s", path, line, m);
            else
                snprintf(buf, sizeof buf, "%s", m);
            clang_disposeString(fn);
            out = ua_strdup(buf);
            if (!out) {
                clang_disposeString(msg);
                clang_disposeDiagnostic(d);
                ua_free(fatal);
                return UL_ENOMEM;
            }
        }
        clang_disposeString(msg);
        clang_disposeDiagnostic(d);
        if (missing) {
            ua_free(fatal);
            *out_msg = out;
            return 0;
        }
        if (out)
            fatal = out;
    }
    *out_msg = fatal;
    return 0;
}

/* Whether libclang reported an error located in the main file (the source, not a header). */
static int main_file_errors(CXTranslationUnit tu)
{
    unsigned n = clang_getNumDiagnostics(tu);
    int found = 0;
    for (unsigned i = 0; i < n && !found; i++) {
        CXDiagnostic d = clang_getDiagnostic(tu, i);
        found = clang_getDiagnosticSeverity(d) >= CXDiagnostic_Error &&
                clang_Location_isFromMainFile(clang_getDiagnosticLocation(d));
        clang_disposeDiagnostic(d);
    }
    return found;
}

/* Reads the configuration bytes (overlay first) for the rename-rule fix into *out (NULL when
 * they cannot be read: no fix then). Returns 0 or UL_ENOMEM. */
static int config_bytes(const ue_project *p, const ue_overlay *ov, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (ov && ov->lookup) {
        const char *b = ov->lookup(ov->ud, UE_CONFIG_NAME, len);
        if (b)
            return (*out = ua_strndup(b, *len)) ? 0 : UL_ENOMEM;
    }
    int rc = ue_read_file(p->config_path, out, len);
    return rc == UA_ENOMEM ? UL_ENOMEM : 0;
}

int ul__lint_unit(ul_ctx *ctx, const ue_project *p, const char *rel, CXTranslationUnit tu,
                  ul__tu *kept, const char *bytes, size_t len, const char *why, int guessed,
                  const ue_overlay *ov, ul_result *out, ul__marks *m)
{
    int rc = 0;
    memset(m, 0, sizeof *m);
    m->f0 = out->findings.n;
    m->x0 = out->fixes.n;
    char *fatal;
    if (first_fatal(tu, p, &fatal))
        return UL_ENOMEM;
    if (fatal || why) {
        const char *hint = guessed ? "; set \"compile_commands\" or \"compile_flags\" in "
                                     "unasync.json (see docs/lint/UA000.md)"
                                   : "; check the compile flags (see docs/lint/UA000.md)";
        if (fatal)
            rc = ua_findings_add(&out->findings, rel, 1, 1, UA_ERROR, "UA000",
                                 "lint is limited: %s%s%s%s", why ? why : "", why ? "; " : "",
                                 fatal, hint);
        else
            rc = ua_findings_add(&out->findings, rel, 1, 1, UA_ERROR, "UA000",
                                 "lint is limited: %s (default flags used)", why);
        out->limited = fatal != NULL;
    }
    ua_free(fatal);
    if (rc || out->limited)
        return rc ? UL_ENOMEM : 0;
    out->source_errors = main_file_errors(tu);
    walker w = {0};
    w.ctx = ctx;
    w.p = p;
    w.rel = rel;
    w.src = bytes ? bytes : "";
    w.len = len;
    w.tu = tu;
    w.kept = kept;
    w.cur_fn = -1;
    w.out = out;
    w.marks = m;
    char *cfg;
    if (config_bytes(p, ov, &cfg, &w.cfg_len))
        return UL_ENOMEM;
    w.cfg_bytes = cfg;
    if (ul__entries(w.src, w.len, &w.entries, &w.nentries))
        w.rc = UL_ENOMEM;
    if (!w.rc)
        clang_visitChildren(clang_getTranslationUnitCursor(tu), top_visit, &w);
    if (!w.rc)
        check_types(&w);
    if (!w.rc)
        rule_fixes(&w, 0);
    if (!w.rc)
        judge(&w);
    m->walked = !w.rc;
    rc = w.rc;
    walker_free(&w);
    ua_free(cfg);
    return rc;
}

static int lint_source(ul_ctx *ctx, const ue_project *p, const char *rel, const char *bytes,
                       size_t len, const ue_overlay *ov, ul_result *out);

/* The parse and the walk run on a big-stack thread with crash recovery (ue_run_guarded). */
typedef struct lint_call {
    ul_ctx *ctx;
    const ue_project *p;
    const char *rel;
    const char *bytes;
    size_t len;
    const ue_overlay *ov;
    ul_result *out;
    int rc;
} lint_call;

static void lint_run(void *arg)
{
    lint_call *c = arg;
    c->rc = lint_source(c->ctx, c->p, c->rel, c->bytes, c->len, c->ov, c->out);
}

int ul_lint_source(ul_ctx *ctx, const ue_project *p, const char *rel, const char *bytes, size_t len,
                   const ue_overlay *ov, ul_result *out)
{
    if (!ctx || !p || !rel || (!bytes && len))
        return UL_EINVAL;
    if (!ctx->index) { /* libclang could not be loaded: the lint did not look */
        if (ua_findings_add(&out->findings, rel, 1, 1, UA_ERROR, "UA000",
                            "lint is limited: libclang could not be loaded: %s", ctx->no_clang))
            return UL_ENOMEM;
        out->limited = 1;
        return 0;
    }
    size_t n0 = out->findings.n, x0 = out->fixes.n;
    int limited = out->limited, source_errors = out->source_errors;
    lint_call c = {ctx, p, rel, bytes, len, ov, out, 0};
    int rc;
    if (ue_run_guarded(lint_run, &c) == UE_ECRASHED) {
        /* libclang (or the walk) crashed on this file: a finding, and the unit it was using is
         * left alone (forgotten, not disposed: its state is unknown) */
        char *abs = ue_abs(p, rel);
        for (size_t i = 0; abs && i < ctx->ntus; i++)
            if (ctx->tus[i].p == p && strcmp(ctx->tus[i].abs, abs) == 0) {
                ctx->tus[i] = ctx->tus[--ctx->ntus];
                break;
            }
        ua_free(abs);
        ul__result_truncate(out, n0, x0);
        out->limited = 1;
        out->source_errors = source_errors;
        /* an error, like every UA000 that means the lint did not run: never a silent pass */
        rc = ua_findings_add(&out->findings, rel, 1, 1, UA_ERROR, "UA000",
                             "lint is limited: libclang crashed parsing this file (nesting or an "
                             "expression too deep for it)")
                 ? UL_ENOMEM
                 : 0;
    } else {
        rc = c.rc;
    }
    if (rc == UL_ENOMEM) { /* nothing partial */
        ul__result_truncate(out, n0, x0);
        out->limited = limited;
        out->source_errors = source_errors;
    }
    return rc;
}

/* Lints an edit that lies inside one function body of a kept unit by reparsing it with every
 * other body blanked and merging the previous result for the others (ul_inc.c). Returns 0 when
 * out holds the result, 1 when a full parse is needed instead, or UL_ENOMEM. */
static int lint_incremental(ul_ctx *ctx, const ue_project *p, const char *abs,
                            const ul__args *args, const char *rel, const char *bytes, size_t len,
                            const ue_overlay *ov, ul_result *out)
{
    ul__tu *t = ul__tu_find(ctx, p, abs, args);
    if (!t)
        return 1;
    ul__edit e;
    int rc = ul__inc_reparse(t, p, out->limited, bytes, len, &e);
    if (rc == 2) { /* the reparse failed: the unit goes, a full parse makes a new one */
        ul__tu_drop(ctx, t);
        return 1;
    }
    if (rc)
        return rc;
    ul_result tmp = {0};
    ul__marks m;
    rc = ul__lint_unit(ctx, p, rel, t->tu, t, bytes, len, args->why, args->guessed, ov, &tmp, &m);
    if (rc) {
        ua_free(m.body);
        t->inc_ok = 0; /* the full parse records again */
    } else {
        rc = ul__inc_merge(t, p, rel, bytes, len, &e, &tmp, &m, out);
    }
    ul_result_free(&tmp);
    if (!rc)
        ctx->inc_hits++;
    return rc;
}

static int lint_source(ul_ctx *ctx, const ue_project *p, const char *rel, const char *bytes,
                       size_t len, const ue_overlay *ov, ul_result *out)
{
    char *abs = ue_abs(p, rel);
    ul__args args;
    if (!abs)
        return UL_ENOMEM;
    int rc = ul__flags(ctx, p, abs, &args);
    if (!rc && args.dropped && /* the allow-list took them out: one finding names them all */
        ua_findings_add(&out->findings, rel, 1, 1, UA_WARNING, "UA000",
                        "compile flags dropped: %s (only flags that affect parsing reach the "
                        "lint; see docs/lint/UA000.md)",
                        args.dropped))
        rc = UL_ENOMEM;
    if (!rc && ctx->opt.keep) {
        rc = lint_incremental(ctx, p, abs, &args, rel, bytes ? bytes : "", len, ov, out);
        if (rc <= 0) {
            ua_free(abs);
            ul__args_free(&args);
            return rc;
        }
        rc = 0;
    }
    if (rc) {
        ua_free(abs);
        ul__args_free(&args);
        return rc;
    }
    ul__tu *kept = NULL;
    CXTranslationUnit tu;
    rc = get_tu(ctx, p, abs, &args, bytes ? bytes : "", len, &kept, &tu);
    ua_free(abs);
    if (rc) {
        ul__args_free(&args);
        return rc;
    }
    /* a new kept unit took the arguments over (args is empty then): its `why` and `guessed`
     * still say what limits the lint */
    const ul__args *used = kept && !args.n ? &kept->args : &args;
    if (!tu) {
        rc = ua_findings_add(&out->findings, rel, 1, 1, UA_ERROR, "UA000",
                             "lint is limited: libclang could not parse this file");
        out->limited = 1;
        ul__args_free(&args);
        return rc ? UL_ENOMEM : 0;
    }
    ul__marks m;
    rc = ul__lint_unit(ctx, p, rel, tu, kept, bytes, len, used->why, used->guessed, ov, out, &m);
    ul__args_free(&args);
    if (kept && !rc)
        ul__inc_record(kept, p, bytes ? bytes : "", len, out, &m);
    else if (kept)
        ul__inc_free(kept);
    ua_free(m.body);
    if (!kept)
        clang_disposeTranslationUnit(tu);
    return rc;
}
