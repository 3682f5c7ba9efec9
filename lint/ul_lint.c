/* ul_lint.c - the lint rules UA001..UA005 over one libclang translation unit: calls and their
 * callees' `async` annotation, `await` macro expansions, blocking calls, external symbols. */
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
    case 0:
        return "success";
    default:
        return "unknown error";
    }
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

static char links[9][sizeof docs_base + 16];
static pthread_once_t links_once = PTHREAD_ONCE_INIT;

static void fill_links(void)
{
    for (int i = 0; i <= 8; i++)
        snprintf(links[i], sizeof links[i], "%sUA00%d.md", docs_base, i);
}

const char *ul_code_href(const char *code)
{
    if (!code || strncmp(code, "UA00", 4) != 0 || code[4] < '0' || code[4] > '8' || code[5])
        return NULL;
    pthread_once(&docs_once, pick_docs_base);
    if (!docs_base[0])
        return NULL; /* no pages to link to */
    pthread_once(&links_once, fill_links);
    return links[code[4] - '0'];
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

/* ---- fixes ---- */

void ul_fixes_free(ul_fixes *fx)
{
    if (!fx)
        return;
    for (size_t i = 0; i < fx->n; i++)
        ul__fix_clear(&fx->v[i]);
    ua_free(fx->v);
    memset(fx, 0, sizeof *fx);
}

void ul__fix_clear(ul_fix *f)
{
    ua_free(f->title);
    ua_free(f->file);
    ua_free(f->text);
    ua_free(f->rule_name);
    ua_free(f->rule_target);
    f->title = f->file = f->text = f->rule_name = f->rule_target = NULL;
}

/* Whether a fix of this code is one to apply unattended (ul.h, ul_fix.preferred). UA003's
 * "mark the function async" is not: every caller of that function then has to change. */
static int preferred_code(const char *code)
{
    return strcmp(code, "UA001") == 0 || strcmp(code, "UA002") == 0 || strcmp(code, "UA004") == 0 ||
           strcmp(code, "UA005") == 0;
}

ul_fix *ul__fix_slot(ul_fixes *fx)
{
    if (fx->n == fx->cap) {
        size_t nc = fx->cap ? fx->cap * 2 : 8;
        ul_fix *v = ua_realloc(fx->v, nc * sizeof *v);
        if (!v)
            return NULL;
        fx->v = v;
        fx->cap = nc;
    }
    memset(&fx->v[fx->n], 0, sizeof *fx->v);
    return &fx->v[fx->n];
}

int ul__fix_add(ul_fixes *fx, const char *code, unsigned line, unsigned col, const char *title,
                const char *file, const char *bytes, size_t len, size_t off, size_t del,
                const char *text)
{
    if (off > len || del > len - off)
        return UL_EINVAL;
    ul_fix *f = ul__fix_slot(fx);
    if (!f)
        return UL_ENOMEM;
    snprintf(f->code, sizeof f->code, "%s", code);
    f->line = line;
    f->col = col;
    f->off = off;
    f->len = del;
    ua_offset_to_linecol(bytes, len, off, &f->start_line, &f->start_col);
    ua_offset_to_linecol(bytes, len, off + del, &f->end_line, &f->end_col);
    f->title = ua_strdup(title);
    f->file = ua_strdup(file);
    f->text = ua_strdup(text);
    f->preferred = preferred_code(code);
    if (!f->title || !f->file || !f->text) {
        ul__fix_clear(f);
        return UL_ENOMEM;
    }
    fx->n++;
    return 0;
}

int ul_fix_apply(const ul_fix *fx, const char *bytes, size_t len, char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (fx->off > len || fx->len > len - fx->off)
        return UL_EINVAL;
    size_t tl = strlen(fx->text), n = len - fx->len + tl;
    char *b = ua_malloc(n + 1);
    if (!b)
        return UL_ENOMEM;
    memcpy(b, bytes, fx->off);
    memcpy(b + fx->off, fx->text, tl);
    memcpy(b + fx->off + tl, bytes + fx->off + fx->len, len - fx->off - fx->len);
    b[n] = '\0';
    *out = b;
    *out_len = n;
    return 0;
}

void ul_result_free(ul_result *r)
{
    if (!r)
        return;
    ua_findings_free(&r->findings);
    ul_fixes_free(&r->fixes);
    r->limited = 0;
    r->source_errors = 0;
}

/* ---- the walk ---- */

typedef struct fn_rec {
    char *name;
    int async;
    size_t start, end; /* extent in the main file */
} fn_rec;

typedef struct call_rec {
    size_t off, end; /* extent in the main file; end = 0 when not known */
    char *callee;    /* NULL for a call through a pointer */
    int kind;        /* 1 async, 0 not async, -1 unknown (pointer) */
    int name_here;   /* the callee's name is spelled at off, followed by '(' */
    long fn;         /* enclosing function, or -1 */
} call_rec;

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

static enum CXChildVisitResult body_visit(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    walker *w = d;
    if (w->rc)
        return CXChildVisit_Break;
    if (clang_getCursorKind(c) == CXCursor_CallExpr)
        record_call(w, c);
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

/* A suggested rename target for an external symbol: `sync_` after a short module prefix
 * (rl_lookup -> rl_sync_lookup), else in front (lookup -> sync_lookup). */
static void suggest_target(const char *name, char *out, size_t cap)
{
    const char *us = strchr(name, '_');
    if (us && us > name && us - name <= 4 && us[1])
        snprintf(out, cap, "%.*ssync_%s", (int)(us - name + 1), name, us + 1);
    else
        snprintf(out, cap, "sync_%s", name);
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
        char target[512], title[1200];
        suggest_target(name, target, sizeof target);
        snprintf(title, sizeof title, "Add rename rule \"%s\": \"%s\" to unasync.json", name,
                 target);
        unsigned l, col;
        ua_offset_to_linecol(w->src, w->len, off, &l, &col);
        if (w->cfg_bytes && ul__fix_rename_rule(&w->out->fixes, l, col, title, w->cfg_bytes,
                                                w->cfg_len, name, target) == UL_ENOMEM)
            w->rc = UL_ENOMEM;
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
        add(w, r->off, r->name_here ? nl : 1, UA_WARNING, "UA004",
            "blocking call to '%s' inside async function '%s' stalls every coroutine on the "
            "loop; use 'await %s'",
            r->callee, f->name, twin);
    else
        add(w, r->off, r->name_here ? nl : 1, UA_WARNING, "UA004",
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

/* Matches calls with awaits and applies UA001..UA004. */
static void judge(walker *w)
{
    if (w->nawaits > 1)
        qsort(w->awaits, w->nawaits, sizeof *w->awaits, cmp_await);
    const char *aw = w->p->cfg->marker_await;
    w->marks->f2 = w->out->findings.n;
    w->marks->x2 = w->out->fixes.n;
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
        if (r->kind == 1 && !f->async) {
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
        } else if (r->kind == 0 && a) {
            char title[600];
            add(w, a->off, a->end - a->off, UA_ERROR, "UA002",
                "%s on '%s', which is not async: nothing suspends here", aw, r->callee);
            snprintf(title, sizeof title, "Remove '%s'", aw);
            fix(w, "UA002", a->off, title, a->off, r->off - a->off, "");
        } else if (r->kind == 0 && f->async) {
            blocking_call(w, r, f);
        }
    }
    /* awaits that precede no async call in a function that is not async */
    w->marks->f3 = w->out->findings.n;
    w->marks->x3 = w->out->fixes.n;
    for (size_t i = 0; i < w->nawaits && !w->rc; i++) {
        await_rec *a = &w->awaits[i];
        if (a->matched)
            continue;
        long fi = fn_at(w, a->off);
        if (fi < 0 || w->fns[fi].async)
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
    for (size_t i = 0; i < w->ncalls; i++)
        ua_free(w->calls[i].callee);
    ua_free(w->calls);
    ua_free(w->awaits);
    ua_free(w->memo);
    for (size_t i = 0; i < w->nasync_names; i++)
        ua_free(w->async_names[i]);
    ua_free(w->async_names);
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
            rc = ua_findings_add(&out->findings, rel, 1, 1, UA_WARNING, "UA000",
                                 "lint is limited: %s%s%s%s", why ? why : "", why ? "; " : "",
                                 fatal, hint);
        else
            rc = ua_findings_add(&out->findings, rel, 1, 1, UA_WARNING, "UA000",
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
    clang_visitChildren(clang_getTranslationUnitCursor(tu), top_visit, &w);
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

int ul_lint_source(ul_ctx *ctx, const ue_project *p, const char *rel, const char *bytes, size_t len,
                   const ue_overlay *ov, ul_result *out)
{
    if (!ctx || !p || !rel || (!bytes && len))
        return UL_EINVAL;
    size_t n0 = out->findings.n, x0 = out->fixes.n;
    int limited = out->limited, source_errors = out->source_errors;
    int rc = lint_source(ctx, p, rel, bytes, len, ov, out);
    if (rc == UL_ENOMEM) { /* nothing partial */
        ul__result_truncate(out, n0, x0);
        out->limited = limited;
        out->source_errors = source_errors;
    }
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
    if (!rc && ctx->opt.keep) {
        rc = ul__inc_try(ctx, p, abs, &args, rel, bytes ? bytes : "", len, ov, out);
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
        rc = ua_findings_add(&out->findings, rel, 1, 1, UA_WARNING, "UA000",
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
