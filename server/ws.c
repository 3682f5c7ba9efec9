/* The workspace core over the shared engine: projects per unasync.json, open documents as the
 * engine's overlay, drift checks turned into diagnostic sets, regenerate, lint fixes and
 * hover/definition data. Reports through ws_hooks only (no LSP, no JSON, no event loop). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "ul.h"
#include "ws.h"

/* The last lint result per source, with the bytes it was computed from (quick fixes are byte
 * edits of those bytes; an unchanged buffer is not linted again). */
typedef struct ws_lint {
    ue_project *p;
    char *path; /* absolute */
    char *bytes;
    size_t len;
    ul_result r;
} ws_lint;

/* The last engine result per source. ue_check_source is a pure function of the source bytes,
 * the twin bytes and the configuration, so a result whose inputs are byte-for-byte unchanged
 * is reused instead of transforming again (the transformer dominates a check's cost). */
typedef struct ws_cached {
    ue_project *p;
    ue_twin t;
} ws_cached;

/* One async source and its twin, as last checked. */
typedef struct ws_pair {
    char *source; /* absolute paths */
    char *twin;
    ue_state state; /* as last checked: anything but UE_OK is drifted */
} ws_pair;

struct ws {
    ws_hooks h;
    ws_settings set;
    bool stopped;
    ws_doc **docs;
    size_t n_docs;
    ws_folder *folders;
    size_t n_folders;
    ue_project **projects;
    size_t n_projects;
    ua_ctx *ctx;
    ws_cached *cache;
    size_t n_cache;
    ws_file *files;
    size_t n_files;
    ws_pair *pairs;
    size_t n_pairs;
    int64_t status_twins, status_drifted; /* last reported; -1 = never */
    char *idle_path; /* the source to pre-check once typing pauses */
    ul_ctx *lint;    /* keeps a translation unit per source: reparse with a precompiled preamble */
    ws_lint *lints;
    size_t n_lints;
    char **lint_paths; /* sources whose lint a drift report did not wait for */
    size_t n_lint_paths;
};

typedef struct ws_ov {
    ws_t *ws;
    const ue_project *p;
} ws_ov;

/* How long typing must pause before the pre-check runs (the default of ws_settings.idle_ms). */
#define WS_IDLE_MS 50

/* How long input must pause before the lint that a drift report did not wait for runs: a lint
 * reparse takes longer than a drift check, and must not hold up the next save. */
#define WS_LINT_LATER_MS 50

/* ------------------------------------------------------------------------ small helpers */

const char *srv_strerror(int err)
{
    switch (err) {
#define SRV_ERRNO_CASE(name, val, msg)                                                             \
    case (val):                                                                                    \
        return (msg);
        SRV_ERRNO_MAP(SRV_ERRNO_CASE)
#undef SRV_ERRNO_CASE
    case 0:
        return "success";
    default: {
        /* a -errno: the C library's text, kept per thread (strerror's buffer is shared) */
        static _Thread_local char buf[128];
        return err < 0 && err > -4096 ? strerror_r(-err, buf, sizeof buf) : "unknown error";
    }
    }
}

static void ws__log(ws_t *ws, int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void ws__log(ws_t *ws, int level, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ws->h.log(ws->h.ud, level, msg);
}

static const char *ws__base(const char *p)
{
    const char *b = strrchr(p, '/');
    return b ? b + 1 : p;
}

static bool ws__in_folders(const ws_t *ws, const char *path)
{
    for (size_t i = 0; i < ws->n_folders; i++)
        if (srv_path_under(path, ws->folders[i].path))
            return true;
    return false;
}

/* Canonical path (realpath of the folder, the file name kept: the file may not exist). */
static char *ws__canonical(const char *path)
{
    char buf[PATH_MAX];
    if (realpath(path, buf) != NULL)
        return srv_strdup(buf);
    char *dir = srv_strdup(path);
    if (dir == NULL)
        return NULL;
    char *slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir) {
        srv_free(dir);
        return srv_strdup(path);
    }
    *slash = '\0';
    if (realpath(dir, buf) == NULL) {
        srv_free(dir);
        return srv_strdup(path);
    }
    char *out = srv_malloc(strlen(buf) + strlen(slash + 1) + 2);
    if (out)
        sprintf(out, "%s/%s", buf, slash + 1);
    srv_free(dir);
    return out;
}

static bool ws__same(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* ------------------------------------------------------------------------ lifetime */

int ws_new(const ws_hooks *hooks, ws_t **out)
{
    ws_t *ws = srv_calloc(1, sizeof *ws);
    *out = NULL;
    if (ws == NULL)
        return SRV_ENOMEM;
    ws->h = *hooks;
    ws->set.lint = true;
    ws->set.drift_severity = 2;
    ws->set.watch = true;
    ws->set.idle_ms = WS_IDLE_MS;
    ws->status_twins = ws->status_drifted = -1;
    ws->ctx = ua_ctx_new(); /* NULL is accepted by the transformer: per-call index */
    *out = ws;
    return 0;
}

ws_settings *ws_settings_of(ws_t *ws)
{
    return &ws->set;
}

void ws_stop(ws_t *ws)
{
    ws->stopped = true;
}

static void ws__diags_clear(ws_diag *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        srv_free(d[i].message);
        srv_free(d[i].rel_path);
    }
    srv_free(d);
}

static void ws__cache_clear(ws_t *ws)
{
    for (size_t i = 0; i < ws->n_cache; i++)
        ue_twin_free(&ws->cache[i].t);
    srv_free(ws->cache);
    ws->cache = NULL;
    ws->n_cache = 0;
}

static void ws__lint_forget(ws_t *ws, const ue_project *p)
{
    size_t i = 0;
    ul_ctx_forget(ws->lint, p);
    while (i < ws->n_lints) {
        if (p != NULL && ws->lints[i].p != p) {
            i++;
            continue;
        }
        srv_free(ws->lints[i].path);
        srv_free(ws->lints[i].bytes);
        ul_result_free(&ws->lints[i].r);
        ws->lints[i] = ws->lints[--ws->n_lints];
    }
}

void ws_doc_free(ws_doc *d)
{
    if (d == NULL)
        return;
    srv_free(d->uri);
    srv_free(d->path);
    srv_free(d->text);
    srv_free(d);
}

void ws_free(ws_t *ws)
{
    if (ws == NULL)
        return;
    ws__cache_clear(ws);
    for (size_t i = 0; i < ws->n_projects; i++)
        ue_project_free(ws->projects[i]);
    srv_free(ws->projects);
    srv_free(ws->idle_path);
    for (size_t i = 0; i < ws->n_lint_paths; i++)
        srv_free(ws->lint_paths[i]);
    srv_free(ws->lint_paths);
    for (size_t i = 0; i < ws->n_files; i++) {
        srv_free(ws->files[i].path);
        srv_free(ws->files[i].source);
        ws__diags_clear(ws->files[i].d, ws->files[i].n);
    }
    srv_free(ws->files);
    for (size_t i = 0; i < ws->n_pairs; i++) {
        srv_free(ws->pairs[i].source);
        srv_free(ws->pairs[i].twin);
    }
    srv_free(ws->pairs);
    for (size_t i = 0; i < ws->n_docs; i++)
        ws_doc_free(ws->docs[i]);
    srv_free(ws->docs);
    for (size_t i = 0; i < ws->n_folders; i++) {
        srv_free(ws->folders[i].uri);
        srv_free(ws->folders[i].path);
    }
    srv_free(ws->folders);
    ua_ctx_free(ws->ctx);
    ws__lint_forget(ws, NULL);
    srv_free(ws->lints);
    ul_ctx_free(ws->lint);
    srv_free(ws);
}

/* --------------------------------------------------------------- documents, folders */

ws_doc *ws_doc_find(ws_t *ws, const char *uri)
{
    for (size_t i = 0; i < ws->n_docs; i++)
        if (strcmp(ws->docs[i]->uri, uri) == 0)
            return ws->docs[i];
    return NULL;
}

ws_doc *ws_doc_find_path(ws_t *ws, const char *path)
{
    for (size_t i = 0; i < ws->n_docs; i++)
        if (ws->docs[i]->path && strcmp(ws->docs[i]->path, path) == 0)
            return ws->docs[i];
    return NULL;
}

int ws_doc_add(ws_t *ws, ws_doc *d)
{
    ws_doc **nd = srv_realloc(ws->docs, (ws->n_docs + 1) * sizeof *nd);
    if (nd == NULL)
        return SRV_ENOMEM;
    ws->docs = nd;
    ws->docs[ws->n_docs++] = d;
    return 0;
}

ws_doc *ws_doc_take(ws_t *ws, const char *uri)
{
    for (size_t i = 0; i < ws->n_docs; i++)
        if (strcmp(ws->docs[i]->uri, uri) == 0) {
            ws_doc *d = ws->docs[i];
            ws->docs[i] = ws->docs[--ws->n_docs];
            return d;
        }
    return NULL;
}

int ws_folder_add(ws_t *ws, const char *uri, const char *path)
{
    for (size_t i = 0; i < ws->n_folders; i++)
        if (strcmp(ws->folders[i].path, path) == 0)
            return 0;
    char *u = srv_strdup(uri), *p = srv_strdup(path);
    ws_folder *nf = u && p ? srv_realloc(ws->folders, (ws->n_folders + 1) * sizeof *nf) : NULL;
    if (nf == NULL) {
        srv_free(u);
        srv_free(p);
        return SRV_ENOMEM;
    }
    ws->folders = nf;
    nf[ws->n_folders].uri = u;
    nf[ws->n_folders].path = p;
    ws->n_folders++;
    return 0;
}

void ws_folder_remove(ws_t *ws, const char *path)
{
    for (size_t i = 0; i < ws->n_folders; i++)
        if (strcmp(ws->folders[i].path, path) == 0) {
            srv_free(ws->folders[i].uri);
            srv_free(ws->folders[i].path);
            ws->folders[i] = ws->folders[--ws->n_folders];
            return;
        }
}

const ws_folder *ws_folders(const ws_t *ws, size_t *n)
{
    *n = ws->n_folders;
    return ws->folders;
}

/* ------------------------------------------------------------------------- the overlay */

static const char *ws__overlay_lookup(void *ud, const char *rel, size_t *len)
{
    ws_ov *ov = ud;
    char *abs = ue_abs(ov->p, rel);
    ws_doc *d = abs ? ws_doc_find_path(ov->ws, abs) : NULL;
    ua_free(abs);
    if (d == NULL)
        return NULL;
    *len = d->len;
    return d->text ? d->text : "";
}

/* The bytes ue_check_source would read for rel: the open document, else the file. Returns 0
 * with *owned set when the bytes were read from disk (release them with ua_free), 1 when rel
 * does not exist, or SRV_ENOMEM. */
static int ws__current_bytes(ws_ov *ov, const char *rel, const char **bytes, size_t *len,
                             char **owned)
{
    *owned = NULL;
    if ((*bytes = ws__overlay_lookup(ov, rel, len)) != NULL)
        return 0;
    int rc = ue_read_in(ov->p, rel, owned, len); /* resolved, checked against the root, no FIFO */
    if (rc == UA_ENOMEM || rc == -ENOMEM)
        return SRV_ENOMEM;
    if (rc != 0)
        return 1;
    *bytes = *owned;
    return 0;
}

/* ----------------------------------------------------------------------------- cache */

/* A cached result for rel whose source and twin bytes are still exactly what it was computed
 * from, or NULL. */
static const ue_twin *ws__cache_hit(ws_t *ws, ue_project *p, const char *rel)
{
    ws_ov ovd = {ws, p};
    for (size_t i = 0; i < ws->n_cache; i++) {
        const ue_twin *t = &ws->cache[i].t;
        const char *b;
        size_t n;
        char *owned;
        if (ws->cache[i].p != p || strcmp(t->source, rel) != 0)
            continue;
        if (t->state == UE_IO_ERROR || t->src_bytes == NULL)
            return NULL;
        if (ws__current_bytes(&ovd, rel, &b, &n, &owned) != 0)
            return NULL;
        bool same = ws__same(b, n, t->src_bytes, t->src_len);
        ua_free(owned);
        if (!same)
            return NULL;
        int rc = ws__current_bytes(&ovd, t->twin, &b, &n, &owned);
        if (rc < 0)
            return NULL;
        same = rc == 1 ? t->actual == NULL
                       : t->actual != NULL && ws__same(b, n, t->actual, t->actual_len);
        ua_free(owned);
        return same ? t : NULL;
    }
    return NULL;
}

/* Keeps t (moved: the caller must not free it) as the latest result for its source. */
static void ws__cache_put(ws_t *ws, ue_project *p, ue_twin *t)
{
    for (size_t i = 0; i < ws->n_cache; i++)
        if (ws->cache[i].p == p && strcmp(ws->cache[i].t.source, t->source) == 0) {
            ue_twin_free(&ws->cache[i].t);
            ws->cache[i].t = *t;
            memset(t, 0, sizeof *t);
            return;
        }
    ws_cached *nc = srv_realloc(ws->cache, (ws->n_cache + 1) * sizeof *nc);
    if (nc == NULL) {
        ue_twin_free(t);
        return;
    }
    ws->cache = nc;
    nc[ws->n_cache].p = p;
    nc[ws->n_cache].t = *t;
    memset(t, 0, sizeof *t);
    ws->n_cache++;
}

/* The engine's result for source rel of p: the cached one when its inputs are unchanged, else
 * a new check (then cached). The result belongs to the cache and stays valid until the next
 * check of any source; NULL when out of memory. */
static const ue_twin *ws__result(ws_t *ws, ue_project *p, const char *rel)
{
    const ue_twin *hit = ws__cache_hit(ws, p, rel);
    if (hit != NULL)
        return hit;
    ws_ov ovd = {ws, p};
    ue_overlay ov = {ws__overlay_lookup, &ovd};
    ue_twin t;
    if (ue_check_source(p, ws->ctx, rel, &ov, &t) != 0) {
        ue_twin_free(&t);
        return NULL;
    }
    ws__cache_put(ws, p, &t);
    for (size_t i = 0; i < ws->n_cache; i++)
        if (ws->cache[i].p == p && strcmp(ws->cache[i].t.source, rel) == 0)
            return &ws->cache[i].t;
    return NULL;
}

/* ------------------------------------------------------------------------------ lint */

static ws_lint *ws__lint_find(ws_t *ws, const char *path)
{
    for (size_t i = 0; i < ws->n_lints; i++)
        if (strcmp(ws->lints[i].path, path) == 0)
            return &ws->lints[i];
    return NULL;
}

/* The lint of source rel of p over its current bytes (open buffer, else disk), with the
 * configuration's severities and the ignore comments applied; the cached one when the bytes
 * did not change. Returns 0 with *out set, 1 when the source cannot be read or linted, or
 * SRV_ENOMEM; the previous result for the source is kept unless a new one replaces it. */
static int ws__lint(ws_t *ws, ue_project *p, const char *rel, const ws_lint **out)
{
    ws_ov ovd = {ws, p};
    ue_overlay ov = {ws__overlay_lookup, &ovd};
    const char *b;
    size_t n;
    char *owned = NULL, *abs = ue_abs(p, rel), *path = NULL, *bytes = NULL;
    ul_result r = {0};
    int rc = SRV_ENOMEM;
    *out = NULL;
    if (abs == NULL)
        return SRV_ENOMEM;
    if (ws->lint == NULL) {
        ul_options opt = {0};
        opt.keep = 1;
        if ((ws->lint = ul_ctx_new(&opt)) == NULL)
            goto done;
    }
    if ((rc = ws__current_bytes(&ovd, rel, &b, &n, &owned)) != 0)
        goto done;
    ws_lint *l = ws__lint_find(ws, abs);
    if (l != NULL && l->p == p && ws__same(l->bytes, l->len, b, n)) {
        *out = l;
        goto done;
    }
    /* what can fail comes before the previous result is replaced */
    rc = SRV_ENOMEM;
    if ((bytes = srv_strndup(b, n)) == NULL || (l == NULL && (path = srv_strdup(abs)) == NULL))
        goto done;
    if (l == NULL) {
        ws_lint *nl = srv_realloc(ws->lints, (ws->n_lints + 1) * sizeof *nl);
        if (nl == NULL)
            goto done;
        ws->lints = nl;
    }
    if ((rc = ul_lint_source(ws->lint, p, rel, b, n, &ov, &r)) != 0) {
        ul_result_free(&r);
        rc = rc == UL_ENOMEM ? SRV_ENOMEM : 1;
        goto done;
    }
    ul_apply_ignores(rel, b, n, &r.findings, &r.fixes);
    ul_apply_levels(p->cfg, &r.findings, &r.fixes);
    if (l == NULL) {
        l = &ws->lints[ws->n_lints++];
        memset(l, 0, sizeof *l);
        l->path = path;
        path = NULL;
    } else {
        srv_free(l->bytes);
        ul_result_free(&l->r);
    }
    l->p = p;
    l->bytes = bytes;
    bytes = NULL;
    l->len = n;
    l->r = r;
    *out = l;
done:
    ua_free(owned);
    ua_free(abs);
    srv_free(path);
    srv_free(bytes);
    return rc;
}

/* The position of a 1-based line and byte column of bytes. */
static ws_pos ws__lc_pos(const ws_t *ws, const char *b, size_t n, unsigned line, unsigned col)
{
    size_t off = ua_line_offset(b, n, line ? line : 1) + (col ? col - 1 : 0);
    return srv_text_position(b, n, off > n ? n : off, ws->set.utf8);
}

/* ---------------------------------------------------------------- diagnostics per file */

static ws_file *ws__file(ws_t *ws, const char *path, bool create)
{
    for (size_t i = 0; i < ws->n_files; i++)
        if (strcmp(ws->files[i].path, path) == 0)
            return &ws->files[i];
    if (!create)
        return NULL;
    ws_file *nf = srv_realloc(ws->files, (ws->n_files + 1) * sizeof *nf);
    if (nf == NULL)
        return NULL;
    ws->files = nf;
    memset(&nf[ws->n_files], 0, sizeof *nf);
    if ((nf[ws->n_files].path = srv_strdup(path)) == NULL)
        return NULL;
    return &ws->files[ws->n_files++];
}

/* Appends a diagnostic to f; its message is msg. Returns the new diagnostic, or NULL when out
 * of memory (f unchanged). */
static ws_diag *ws__add_diag(ws_file *f, ws_range r, int sev, const char *code, bool drift,
                             const char *msg)
{
    ws_diag *nd = srv_realloc(f->d, (f->n + 1) * sizeof *nd);
    if (nd == NULL)
        return NULL;
    f->d = nd;
    ws_diag *d = &nd[f->n];
    memset(d, 0, sizeof *d);
    d->range = r;
    d->severity = sev;
    snprintf(d->code, sizeof d->code, "%s", code ? code : "");
    d->drift = drift;
    if ((d->message = srv_strdup(msg)) == NULL)
        return NULL;
    f->n++;
    return d;
}

static ws_diag *ws__add_diagf(ws_file *f, ws_range r, int sev, const char *code, bool drift,
                              const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

static ws_diag *ws__add_diagf(ws_file *f, ws_range r, int sev, const char *code, bool drift,
                              const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ws__add_diag(f, r, sev, code, drift, msg);
}

/* Appends a copy of lint diagnostic-to-be (at r, from finding position line:col) to f. */
static int ws__add_lint_diag(ws_file *f, ws_range r, int sev, const char *code,
                             const char *message, unsigned line, unsigned col)
{
    ws_diag *d = ws__add_diag(f, r, sev, code, false, message);
    if (d == NULL)
        return SRV_ENOMEM;
    d->lint = true;
    d->f_line = line;
    d->f_col = col;
    return 0;
}

/* Appends the diagnostics of lint result l to f. */
static int ws__lint_result_diags(const ws_t *ws, const ws_lint *l, ws_file *f)
{
    for (size_t i = 0; i < l->r.findings.n; i++) {
        const ua_finding *x = &l->r.findings.v[i];
        ws_range r = {ws__lc_pos(ws, l->bytes, l->len, x->line, x->col),
                      ws__lc_pos(ws, l->bytes, l->len, x->end_line, x->end_col)};
        int rc = ws__add_lint_diag(f, r, (int)x->severity, x->code, x->message, x->line, x->col);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int ws__schedule_lint(ws_t *ws, const char *path);

/* Appends to nf the lint diagnostics that a drift report of source rel of p (absolute path abs)
 * carries without waiting for the lint: the lint's result when it is for these very bytes, else
 * those already reported for the file, and the lint is run soon after (drift never waits for
 * the lint; lint diagnostics follow on their own schedule). */
static int ws__lint_diags_now(ws_t *ws, ue_project *p, const char *rel, const char *abs,
                              ws_file *nf)
{
    if (!ws->set.lint)
        return 0;
    ws_ov ovd = {ws, p};
    const ws_lint *l = ws__lint_find(ws, abs);
    const char *b;
    size_t n;
    char *owned = NULL;
    if (l != NULL && l->p == p && ws__current_bytes(&ovd, rel, &b, &n, &owned) == 0) {
        bool fresh = ws__same(l->bytes, l->len, b, n);
        ua_free(owned); /* the file's bytes, from ue_read_file */
        if (fresh)
            return ws__lint_result_diags(ws, l, nf);
    }
    const ws_file *old = ws__file(ws, abs, false);
    for (size_t i = 0; old != NULL && i < old->n; i++) {
        const ws_diag *d = &old->d[i];
        int rc;
        if (d->lint && (rc = ws__add_lint_diag(nf, d->range, d->severity, d->code, d->message,
                                               d->f_line, d->f_col)) != 0)
            return rc;
    }
    return ws__schedule_lint(ws, abs);
}

/* Replaces the lint diagnostics of file f (source rel of p) with a fresh lint's. Returns 0 or
 * SRV_ENOMEM, f then unchanged. */
static int ws__lint_diags(ws_t *ws, ue_project *p, const char *rel, ws_file *f)
{
    ws_file nl = {0};
    const ws_lint *l;
    int rc = 0;
    if (ws->set.lint && (rc = ws__lint(ws, p, rel, &l)) == 0)
        rc = ws__lint_result_diags(ws, l, &nl);
    else if (rc == 1)
        rc = 0; /* unreadable: no lint diagnostics */
    ws_diag *nd = NULL;
    if (rc == 0 && nl.n > 0 && (nd = srv_realloc(f->d, (f->n + nl.n) * sizeof *nd)) == NULL)
        rc = SRV_ENOMEM;
    if (rc != 0) {
        ws__diags_clear(nl.d, nl.n);
        return rc;
    }
    if (nd != NULL)
        f->d = nd;
    size_t w = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (f->d[i].lint) {
            srv_free(f->d[i].message);
            srv_free(f->d[i].rel_path);
        } else
            f->d[w++] = f->d[i];
    }
    if (nl.n > 0)
        memcpy(f->d + w, nl.d, nl.n * sizeof *nl.d);
    f->n = w + nl.n;
    srv_free(nl.d);
    return 0;
}

static int ws__report(ws_t *ws, const ws_file *f)
{
    return ws->h.diagnostics(ws->h.ud, f);
}

/* ------------------------------------------------------------------------ pair states */

static int ws__set_pair(ws_t *ws, const char *src, const char *twin, ue_state state)
{
    for (size_t i = 0; i < ws->n_pairs; i++)
        if (strcmp(ws->pairs[i].source, src) == 0) {
            ws->pairs[i].state = state;
            return 0;
        }
    char *a = srv_strdup(src), *b = srv_strdup(twin);
    ws_pair *np = a && b ? srv_realloc(ws->pairs, (ws->n_pairs + 1) * sizeof *np) : NULL;
    if (np == NULL) {
        srv_free(a);
        srv_free(b);
        return SRV_ENOMEM;
    }
    ws->pairs = np;
    np[ws->n_pairs].source = a;
    np[ws->n_pairs].twin = b;
    np[ws->n_pairs].state = state;
    ws->n_pairs++;
    return 0;
}

/* Forgets the pair whose source is src, if there is one. */
static void ws__drop_pair(ws_t *ws, const char *src)
{
    for (size_t i = 0; i < ws->n_pairs; i++)
        if (strcmp(ws->pairs[i].source, src) == 0) {
            srv_free(ws->pairs[i].source);
            srv_free(ws->pairs[i].twin);
            ws->pairs[i] = ws->pairs[--ws->n_pairs];
            return;
        }
}

static size_t ws__drifted(const ws_t *ws)
{
    size_t n = 0;
    for (size_t i = 0; i < ws->n_pairs; i++)
        n += ws->pairs[i].state != UE_OK;
    return n;
}

/* Reports the status when the counts changed. */
static int ws__update_status(ws_t *ws)
{
    int64_t twins = (int64_t)ws->n_pairs, drifted = (int64_t)ws__drifted(ws);
    if (twins == ws->status_twins && drifted == ws->status_drifted)
        return 0;
    int rc = ws->h.status(ws->h.ud, ws->n_pairs, (size_t)drifted);
    if (rc == 0) {
        ws->status_twins = twins;
        ws->status_drifted = drifted;
    }
    return rc;
}

/* -------------------------------------------------------------------------- projects */

/* Reports the configuration's findings (line:col) on unasync.json itself; [] when valid. */
static int ws__report_config(ws_t *ws, const char *config_path, const ua_findings *f)
{
    ws_file cf = {0};
    cf.path = (char *)config_path;
    cf.config = true;
    int rc = 0;
    for (size_t i = 0; i < f->n && rc == 0; i++) {
        const ua_finding *x = &f->v[i];
        ws_range r = {{x->line ? x->line - 1 : 0, x->col ? x->col - 1 : 0}, {0, 0}};
        r.end = r.start;
        r.end.character++;
        if (ws__add_diag(&cf, r, (int)x->severity, x->code[0] ? x->code : "UA300", false,
                         x->message) == NULL)
            rc = SRV_ENOMEM;
    }
    if (rc == 0)
        rc = ws__report(ws, &cf);
    ws__diags_clear(cf.d, cf.n);
    return rc;
}

static int ws__project_by_config(ws_t *ws, const char *config_path, bool reload,
                                 ue_project **out)
{
    *out = NULL;
    size_t i;
    for (i = 0; i < ws->n_projects; i++)
        if (strcmp(ws->projects[i]->config_path, config_path) == 0)
            break;
    if (i < ws->n_projects && !reload) {
        *out = ws->projects[i];
        return 0;
    }
    ue_project *p = NULL;
    ua_findings f = {0};
    int rc = ue_project_open(config_path, &p, &f);
    if (rc == UA_ENOMEM) { /* a reload keeps the project it had */
        ua_findings_free(&f);
        return SRV_ENOMEM;
    }
    if (rc != 0) {
        ue_project_free(p);
        p = NULL;
    }
    if (p != NULL && i == ws->n_projects) { /* a new project: make room for it first */
        ue_project **np = srv_realloc(ws->projects, (ws->n_projects + 1) * sizeof *np);
        if (np == NULL) {
            ue_project_free(p);
            ua_findings_free(&f);
            return SRV_ENOMEM;
        }
        ws->projects = np;
    }
    if (i < ws->n_projects) { /* reloaded: results point into the project being replaced */
        ws__cache_clear(ws);
        ws__lint_forget(ws, ws->projects[i]);
        ue_project_free(ws->projects[i]);
        ws->projects[i] = ws->projects[--ws->n_projects];
    }
    if (p != NULL)
        ws->projects[ws->n_projects++] = p;
    else
        ws__log(ws, 2, "%s: %s", config_path,
                f.n ? f.v[0].message : "cannot open the configuration");
    rc = ws__report_config(ws, config_path, &f);
    ua_findings_free(&f);
    *out = p;
    return rc;
}

/* ue_rel and ue_source_of for the core: 0 with *out NULL when path is outside the project or no
 * source has that twin, SRV_ENOMEM when memory ran out. */
static int ws__rel(const ue_project *p, const char *path, char **out)
{
    return ue_rel(p, path, out) == UA_ENOMEM ? SRV_ENOMEM : 0;
}

static int ws__source_of(const ue_project *p, const char *twin_rel, char **out)
{
    return ue_source_of(p, twin_rel, out) == UA_ENOMEM ? SRV_ENOMEM : 0;
}

/* The project a path belongs to, if its unasync.json lies inside a workspace folder (or there
 * are no folders at all and the file is open: single-file mode). */
static int ws__project_for(ws_t *ws, const char *path, ue_project **out)
{
    char *cfg = NULL;
    *out = NULL;
    int rc = ue_find_config(path, &cfg);
    if (rc != 0)
        return rc == UA_ENOMEM ? SRV_ENOMEM : 0;
    if (ws->n_folders == 0 || ws__in_folders(ws, cfg) || ws__in_folders(ws, path))
        rc = ws__project_by_config(ws, cfg, false, out);
    ua_free(cfg);
    return rc;
}

/* The source of path in its project (a source itself, or the source of a twin): *p and *src
 * (rel, ua_free) set, or *src NULL when path is neither. Returns 0 or SRV_ENOMEM. */
static int ws__source_for(ws_t *ws, const char *path, ue_project **p, char **src)
{
    *src = NULL;
    int rc = ws__project_for(ws, path, p);
    if (rc != 0 || *p == NULL)
        return rc;
    char *rel = NULL;
    if ((rc = ws__rel(*p, path, &rel)) == 0 && rel != NULL) {
        if (!ue_is_source(*p, rel, NULL))
            rc = ws__source_of(*p, rel, src);
        else if ((*src = ua_strdup(rel)) == NULL)
            rc = SRV_ENOMEM;
    }
    ua_free(rel);
    return rc;
}

/* Finds the projects of every workspace folder: the folder's own unasync.json (or the nearest
 * above it), and those one level below (a multi-project folder). */
static int ws__discover(ws_t *ws)
{
    int rc = 0;
    for (size_t i = 0; i < ws->n_folders; i++) {
        const char *folder = ws->folders[i].path;
        char *cfg = NULL;
        ue_project *p;
        int r = ue_find_config(folder, &cfg);
        if (r == 0)
            r = ws__project_by_config(ws, cfg, false, &p);
        else if (r != UA_ENOMEM)
            r = 0;
        if (r != 0 && rc == 0)
            rc = r == UA_ENOMEM ? SRV_ENOMEM : r;
        ua_free(cfg);
        DIR *dir = opendir(folder);
        if (dir == NULL)
            continue;
        struct dirent *ent;
        while ((ent = readdir(dir)) != NULL) {
            char path[PATH_MAX];
            struct stat st;
            if (ent->d_name[0] == '.' || strcmp(ent->d_name, "node_modules") == 0 ||
                strncmp(ent->d_name, "build", 5) == 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", folder, ent->d_name);
            if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
                continue;
            snprintf(path, sizeof path, "%s/%s/%s", folder, ent->d_name, UE_CONFIG_NAME);
            if (access(path, R_OK) == 0) {
                char *c = ws__canonical(path);
                r = c ? ws__project_by_config(ws, c, false, &p) : SRV_ENOMEM;
                if (r != 0 && rc == 0)
                    rc = r;
                srv_free(c);
            }
        }
        closedir(dir);
    }
    return rc;
}

/* ------------------------------------------------------------------------------ drift */

static ws_pos ws__line_pos(size_t line)
{
    ws_pos p = {(int64_t)line, 0};
    return p;
}

/* Source line (0-based) that twin line `twin_line` (0-based, of the expected twin) came from. */
static size_t ws__source_line(const ue_twin *t, size_t twin_line)
{
    size_t off = ua_line_offset(t->expected, t->expected_len, (unsigned)twin_line + 1);
    size_t so = ua_map_to_source(&t->out.map, off);
    unsigned line = 1, col = 1;
    ua_offset_to_linecol(t->src_bytes, t->src_len, so, &line, &col);
    return line ? line - 1 : 0;
}

/* Whether hunk h is one the engine counts (not one that only rewrites the header line, whose
 * body hash follows every change): asked of the engine, so both count the same hunks. */
static bool ws__body_hunk(const ua_hunk *h)
{
    ua_diff one = {(ua_hunk *)h, 1, 1};
    return ue_body_hunks(&one) == 1;
}

/* The new diagnostic sets of a pair, built apart from the published ones. */
typedef struct ws_sets {
    ws_file src, twin;
} ws_sets;

static void ws__sets_clear(ws_sets *n)
{
    ws__diags_clear(n->src.d, n->src.n);
    ws__diags_clear(n->twin.d, n->twin.n);
    memset(n, 0, sizeof *n);
}

/* The transformer's findings on the source (errors in it, unused rules), with the lint's
 * severities and ignore comments. */
static int ws__transform_diags(const ws_t *ws, const ue_project *p, const ue_twin *t,
                               ws_file *nfs)
{
    ua_findings tf = {0};
    int rc = SRV_ENOMEM;
    for (size_t i = 0; i < t->out.findings.n; i++)
        if (ua_findings_copy(&tf, &t->out.findings.v[i]) != 0)
            goto done;
    if (t->src_bytes != NULL)
        ul_apply_ignores(t->source, t->src_bytes, t->src_len, &tf, NULL);
    ul_apply_levels(p->cfg, &tf, NULL);
    for (size_t i = 0; i < tf.n; i++) {
        const ua_finding *f = &tf.v[i];
        if (f->file == NULL || strcmp(f->file, t->source) != 0)
            continue;
        if (!ws->set.lint && strncmp(f->code, "UA0", 3) == 0)
            continue;
        ws_range r;
        r.start = ws__line_pos(f->line ? f->line - 1 : 0);
        r.start.character = f->col ? f->col - 1 : 0;
        r.end = ws__line_pos(f->end_line ? f->end_line - 1 : (size_t)r.start.line);
        r.end.character = f->end_col ? f->end_col - 1 : r.start.character + 1;
        if (ws__add_diag(nfs, r, (int)f->severity, f->code, false, f->message) == NULL)
            goto done;
    }
    rc = 0;
done:
    ua_findings_free(&tf);
    return rc;
}

/* The range of a finding's line (1-based; 0 = the first). */
static ws_range ws__line_range(unsigned line)
{
    size_t l = line ? line - 1 : 0;
    ws_range r = {ws__line_pos(l), ws__line_pos(l + 1)};
    return r;
}

/* One diagnostic per hunk the engine counts, on the twin, each with the engine's message for
 * the twin and the source lines it should come from. The first one is the finding's own line
 * (the engine's first body hunk). */
static int ws__hunk_diags(const ws_t *ws, const ue_twin *t, const ua_finding *x,
                          const char *src_abs, ws_file *nft)
{
    bool first = true;
    for (size_t i = 0; i < t->diff.n; i++) {
        const ua_hunk *h = &t->diff.hunks[i];
        if (!ws__body_hunk(h))
            continue;
        /* a hunk that starts on the header line but goes on into the body points at the body */
        size_t a = h->a_line == 0 && h->a_count > 1 ? 1 : h->a_line;
        size_t b = h->b_line == 0 && h->b_count > 1 ? 1 : h->b_line;
        size_t b_end = h->b_line + h->b_count;
        ws_range r = {ws__line_pos(first ? x->line - 1 : a), ws__line_pos(h->a_line + h->a_count)};
        if (r.end.line <= r.start.line) /* an insertion point: mark the line it goes before */
            r.end = ws__line_pos((size_t)r.start.line + 1);
        ws_diag *d = ws__add_diag(nft, r, ws->set.drift_severity, x->code, true, x->message);
        if (d == NULL || (d->rel_path = srv_strdup(src_abs)) == NULL)
            return SRV_ENOMEM;
        size_t sl = first && x->related_line ? x->related_line - 1 : ws__source_line(t, b);
        size_t sl_end = b_end > b ? ws__source_line(t, b_end - 1) : sl;
        d->rel_range.start = ws__line_pos(sl);
        d->rel_range.end = ws__line_pos((sl_end > sl ? sl_end : sl) + 1);
        first = false;
    }
    if (first) { /* no body hunk: a tampered header line, where the engine's finding is */
        ws_diag *d = ws__add_diag(nft, ws__line_range(x->line), ws->set.drift_severity, x->code,
                                  true, x->message);
        if (d == NULL || (d->rel_path = srv_strdup(src_abs)) == NULL)
            return SRV_ENOMEM;
        d->rel_range = ws__line_range(x->related_line);
    }
    return 0;
}

/* The drift diagnostics of twin t, worded by the engine exactly as --check words them
 * (ue_twin_findings): the finding on its own file and line; a drifted twin's finding on each
 * of its hunks too; and the pair's other file told the same, at the first changed source line
 * for the source of a stale or hand-edited twin. src_abs is the source's absolute path. typed:
 * the user is typing in the twin. */
static int ws__drift_diags(const ws_t *ws, const ue_project *p, const ue_twin *t,
                           const char *src_abs, bool typed, ws_sets *n)
{
    ua_findings all = {0};
    if (ue_twin_findings(t, &all) != 0)
        return SRV_ENOMEM;
    int rc = 0;
    /* the transformer's findings come first (ws__transform_diags has them): then the drift */
    for (size_t i = t->out.findings.n; i < all.n && rc == 0; i++) {
        const ua_finding *x = &all.v[i];
        bool on_twin = x->file != NULL && strcmp(x->file, t->twin) == 0;
        ws_file *own = on_twin ? &n->twin : &n->src;
        int sev = strcmp(x->code, "UA400") == 0 ? 1 : ws->set.drift_severity;
        switch (t->state) {
        case UE_STALE:
        case UE_EDITED:
            rc = ws__hunk_diags(ws, t, x, src_abs, &n->twin);
            if (rc == 0 && !ws__add_diag(&n->src, ws__line_range(x->related_line), sev, x->code,
                                         true, x->message))
                rc = SRV_ENOMEM;
            if (rc == 0 && typed &&
                !ws__add_diagf(&n->twin, ws__line_range(1), 2, x->code, true,
                               "this file is generated; edit %s instead", ws__base(t->source)))
                rc = SRV_ENOMEM;
            break;
        case UE_MISSING: /* regenerating fixes it */
            if (!ws__add_diag(own, ws__line_range(x->line), sev, x->code, true, x->message))
                rc = SRV_ENOMEM;
            break;
        case UE_UNMANAGED: /* never overwritten: no Regenerate; both files say so */
            if (!ws__add_diag(&n->twin, ws__line_range(x->line), sev, x->code, false,
                              x->message) ||
                !ws__add_diag(&n->src, ws__line_range(1), sev, x->code, false, x->message))
                rc = SRV_ENOMEM;
            break;
        default: /* unreadable: on the file that could not be read, saying why */
            if (!ws__add_diag(own, ws__line_range(x->line), sev, x->code, false, x->message))
                rc = SRV_ENOMEM;
            break;
        }
    }
    ua_findings_free(&all);
    return rc;
}

/* Moves the complete sets n in as the files' diagnostics (nothing fails here) and reports them.
 * Both entries exist (ws__file with create). */
static int ws__swap_in(ws_t *ws, ws_sets *n, char **src_owner, char **twin_owner)
{
    ws_file *fs = ws__file(ws, n->src.path, false), *ft = ws__file(ws, n->twin.path, false);
    ws__diags_clear(fs->d, fs->n);
    ws__diags_clear(ft->d, ft->n);
    fs->d = n->src.d;
    fs->n = n->src.n;
    ft->d = n->twin.d;
    ft->n = n->twin.n;
    srv_free(fs->source);
    srv_free(ft->source);
    fs->source = *src_owner;
    ft->source = *twin_owner;
    *src_owner = *twin_owner = NULL;
    n->src.d = n->twin.d = NULL;
    n->src.n = n->twin.n = 0;
    int rc = ws__report(ws, fs);
    /* a missing twin has no file to carry diagnostics: report [] if it once had some */
    int sub = ws__report(ws, ft);
    return rc != 0 ? rc : sub;
}

/* Turns one check result into the diagnostics of its source and its twin and reports them.
 * Returns 0, or SRV_ENOMEM with the previous sets kept (or a hook's error when reporting
 * failed). */
static int ws__diagnose(ws_t *ws, ue_project *p, const ue_twin *t, ws_event ev)
{
    char *src = ue_abs(p, t->source), *twin = ue_abs(p, t->twin);
    char *fs_source = srv_strdup(src), *ft_source = srv_strdup(src);
    ws_sets n = {0};
    int rc = SRV_ENOMEM;
    /* create both entries first: creating one may move the other (realloc) */
    if (src == NULL || twin == NULL || fs_source == NULL || ft_source == NULL ||
        ws__file(ws, src, true) == NULL || ws__file(ws, twin, true) == NULL)
        goto done;
    n.src.path = src;
    n.twin.path = twin;
    /* The new sets are built apart and replace the old ones only when complete: running out of
     * memory half-way leaves the last complete sets, not a partial one. */
    if ((rc = ws__transform_diags(ws, p, t, &n.src)) != 0 ||
        (rc = ws__lint_diags_now(ws, p, t->source, src, &n.src)) != 0)
        goto done;
    const ws_doc *twin_doc = ws_doc_find_path(ws, twin);
    bool typed = twin_doc != NULL && twin_doc->changed_since_open && ev != WS_EV_OPEN;
    if ((rc = ws__drift_diags(ws, p, t, src, typed, &n)) != 0)
        goto done;
    rc = SRV_ENOMEM;
    if (ws__set_pair(ws, src, twin, t->state) != 0)
        goto done;
    rc = ws__swap_in(ws, &n, &fs_source, &ft_source);
done:
    ws__sets_clear(&n);
    srv_free(fs_source);
    srv_free(ft_source);
    ua_free(src);
    ua_free(twin);
    return rc;
}

/* Checks file rel of p, named like a twin but the twin of no source: an orphan (generated, its
 * source gone) gets the engine's UA205 finding, and its pair counts as drifted; a file that is
 * no orphan (any longer) has its set cleared. Returns 0, SRV_ENOMEM or a hook's error. */
static int ws__orphan(ws_t *ws, ue_project *p, const char *rel)
{
    const char *filter[1] = {rel};
    ue_report r;
    char *abs = ue_abs(p, rel);
    int rc = abs == NULL || ue_check(p, filter, 1, NULL, 1, &r) != 0 ? SRV_ENOMEM : 0;
    if (rc != 0) {
        ua_free(abs);
        return rc;
    }
    ws_file nf = {0};
    const ue_twin *orphan = NULL;
    for (size_t i = 0; i < r.n; i++)
        if (r.twins[i].state == UE_ORPHANED && strcmp(r.twins[i].twin, rel) == 0)
            orphan = &r.twins[i];
    for (size_t i = 0; orphan != NULL && i < r.findings.n && rc == 0; i++) {
        const ua_finding *x = &r.findings.v[i];
        if (x->file != NULL && strcmp(x->file, rel) == 0 &&
            !ws__add_diag(&nf, ws__line_range(x->line), ws->set.drift_severity, x->code, false,
                          x->message))
            rc = SRV_ENOMEM;
    }
    ws_file *f = NULL;
    if (rc == 0 && (orphan != NULL || ws__file(ws, abs, false) != NULL) &&
        ((f = ws__file(ws, abs, true)) == NULL ||
         (orphan != NULL && ws__set_pair(ws, abs, abs, UE_ORPHANED) != 0)))
        rc = SRV_ENOMEM;
    if (rc == 0 && f != NULL) {
        ws__diags_clear(f->d, f->n);
        f->d = nf.d;
        f->n = nf.n;
        nf.d = NULL;
        nf.n = 0;
        if (orphan == NULL)
            ws__drop_pair(ws, abs); /* deleted, or a source again: no orphan to count */
        rc = ws__report(ws, f);
    }
    ws__diags_clear(nf.d, nf.n);
    ue_report_free(&r);
    ua_free(abs);
    return rc;
}

/* (Re)computes the drift of source rel of p for event ev and reports it: the one place where a
 * document's drift is decided (an incremental engine can take over here). */
static int ws__drift(ws_t *ws, ue_project *p, const char *rel, ws_event ev)
{
    const ue_twin *t = ws__result(ws, p, rel);
    return t == NULL ? SRV_ENOMEM : ws__diagnose(ws, p, t, ev);
}

/* ------------------------------------------------------------------------ scheduling */

/* Typing paused: check the edited source without reporting (drift is reported on save), so
 * that the save finds the transformer's work done, and lint it. */
static void ws__on_idle(ws_t *ws)
{
    char *path = ws->idle_path, *rel = NULL;
    ue_project *p = NULL;
    int rc = 0;
    ws->idle_path = NULL;
    if (path == NULL || ws->stopped)
        goto done;
    if ((rc = ws__project_for(ws, path, &p)) != 0 || p == NULL ||
        (rc = ws__rel(p, path, &rel)) != 0 || rel == NULL || !ue_is_source(p, rel, NULL))
        goto done;
    if (ws__result(ws, p, rel) == NULL) {
        rc = SRV_ENOMEM;
        goto done;
    }
    /* lint while typing: only the lint diagnostics change, drift waits for the save */
    ws_file *f = ws__file(ws, path, true);
    if (f == NULL) {
        rc = SRV_ENOMEM;
        goto done;
    }
    if ((rc = ws__lint_diags(ws, p, rel, f)) == 0 && (rc = ws__report(ws, f)) == 0)
        rc = ws->h.settled(ws->h.ud);
done:
    if (rc != 0)
        ws__log(ws, 1, "checking %s while typing failed: %s", path, srv_strerror(rc));
    srv_free(path);
    ua_free(rel);
}

static int ws__schedule_idle(ws_t *ws, const char *path)
{
    int rc;
    if (ws->n_lint_paths > 0 && /* typing goes on: the queued lint waits for a pause */
        (rc = ws->h.timer(ws->h.ud, WS_TIMER_LINT, WS_LINT_LATER_MS)) != 0)
        return rc;
    if (ws->set.idle_ms == 0) /* switched off (bench/server) */
        return 0;
    char *copy = srv_strdup(path);
    if (copy == NULL)
        return SRV_ENOMEM;
    if ((rc = ws->h.timer(ws->h.ud, WS_TIMER_IDLE, (int64_t)ws->set.idle_ms)) != 0) {
        srv_free(copy);
        return rc;
    }
    srv_free(ws->idle_path);
    ws->idle_path = copy;
    return 0;
}

/* The lint after a drift report: every source waiting for it, one after another. */
static void ws__on_lint_later(ws_t *ws)
{
    while (ws->n_lint_paths > 0 && !ws->stopped) {
        char *path = ws->lint_paths[0], *rel = NULL;
        ue_project *p = NULL;
        memmove(ws->lint_paths, ws->lint_paths + 1, --ws->n_lint_paths * sizeof *ws->lint_paths);
        int rc = ws__project_for(ws, path, &p);
        if (rc == 0 && p != NULL && (rc = ws__rel(p, path, &rel)) == 0 && rel != NULL &&
            ue_is_source(p, rel, NULL)) {
            ws_file *f = ws__file(ws, path, true);
            if (f == NULL)
                rc = SRV_ENOMEM;
            else if ((rc = ws__lint_diags(ws, p, rel, f)) == 0)
                rc = ws__report(ws, f);
        }
        if (rc != 0)
            ws__log(ws, 1, "linting %s failed: %s", path, srv_strerror(rc));
        srv_free(path);
        ua_free(rel);
    }
    int rc = ws->h.settled(ws->h.ud);
    if (rc != 0)
        ws__log(ws, 1, "refreshing diagnostics failed: %s", srv_strerror(rc));
}

void ws_timer_fired(ws_t *ws, ws_timer which)
{
    if (which == WS_TIMER_IDLE)
        ws__on_idle(ws);
    else
        ws__on_lint_later(ws);
}

/* A request that shows lint results (pull diagnostics, code actions, a lint fix) does not wait
 * for the pause: the queued lints run first. */
static void ws__lint_pending_now(ws_t *ws)
{
    if (ws->n_lint_paths == 0)
        return;
    ws->h.timer(ws->h.ud, WS_TIMER_LINT, -1); /* stopping cannot fail */
    ws__on_lint_later(ws);
}

/* Queues source path (absolute) for ws__on_lint_later, which runs once input has paused for
 * WS_LINT_LATER_MS (every queued lint and every keystroke push it back). */
static int ws__schedule_lint(ws_t *ws, const char *path)
{
    for (size_t i = 0; i < ws->n_lint_paths; i++)
        if (strcmp(ws->lint_paths[i], path) == 0)
            return ws->h.timer(ws->h.ud, WS_TIMER_LINT, WS_LINT_LATER_MS);
    char *copy = srv_strdup(path);
    char **np = copy ? srv_realloc(ws->lint_paths, (ws->n_lint_paths + 1) * sizeof *np) : NULL;
    if (np == NULL) {
        srv_free(copy);
        return SRV_ENOMEM;
    }
    ws->lint_paths = np;
    int rc = ws->h.timer(ws->h.ud, WS_TIMER_LINT, WS_LINT_LATER_MS);
    if (rc != 0) {
        srv_free(copy);
        return rc;
    }
    ws->lint_paths[ws->n_lint_paths++] = copy;
    return 0;
}

/* ---------------------------------------------------------------------------- checks */

static int ws__watch_project(ws_t *ws, const ue_project *p)
{
    int rc = ws->h.watch(ws->h.ud, p->root);
    for (size_t i = 0; i < p->nsources; i++) {
        char *abs = ue_abs(p, p->sources[i]), *slash = abs ? strrchr(abs, '/') : NULL;
        int r = 0;
        if (abs == NULL)
            r = SRV_ENOMEM;
        else if (slash != NULL) {
            *slash = '\0';
            r = ws->h.watch(ws->h.ud, abs);
        }
        if (r != 0 && rc == 0)
            rc = r;
        ua_free(abs);
    }
    return rc;
}

int ws_watch_folders(ws_t *ws)
{
    int rc = 0;
    for (size_t i = 0; i < ws->n_folders && !ws->stopped; i++) {
        int r = ws->h.watch(ws->h.ud, ws->folders[i].path);
        if (r != 0 && rc == 0)
            rc = r;
    }
    return rc;
}

/* Checks every source of a project; progress counts *done of total when total > 0. */
static int ws__check_project(ws_t *ws, ue_project *p, size_t *done, size_t total)
{
    int rc = 0, r;
    for (size_t i = 0; i < p->nsources && !ws->stopped; i++) {
        if ((r = ws__drift(ws, p, p->sources[i], WS_EV_DISK)) != 0 && rc == 0)
            rc = r;
        if (total > 0) {
            (*done)++;
            ws->h.progress(ws->h.ud, WS_PROGRESS_REPORT, p->sources[i],
                           (int)(*done * 100 / total));
        }
    }
    for (size_t i = 0; i < p->ncandidates && !ws->stopped; i++) {
        char *src = NULL;
        if ((r = ws__source_of(p, p->candidates[i], &src)) == 0 && src == NULL)
            r = ws__orphan(ws, p, p->candidates[i]);
        if (r != 0 && rc == 0)
            rc = r;
        ua_free(src);
    }
    if (ws->set.watch && !ws->stopped && (r = ws__watch_project(ws, p)) != 0 && rc == 0)
        rc = r;
    return rc;
}

int ws_check_all(ws_t *ws, bool progress)
{
    if (ws->stopped)
        return 0;
    int rc = ws__discover(ws), r;
    size_t total = 0, done = 0;
    for (size_t i = 0; i < ws->n_projects; i++)
        total += ws->projects[i]->nsources;
    if (progress)
        ws->h.progress(ws->h.ud, WS_PROGRESS_BEGIN, "unasync: checking twins", 0);
    for (size_t i = 0; i < ws->n_projects && !ws->stopped; i++)
        if ((r = ws__check_project(ws, ws->projects[i], &done, progress ? total : 0)) != 0 &&
            rc == 0)
            rc = r;
    if (progress) {
        char msg[100];
        snprintf(msg, sizeof msg, "%zu twins, %zu out of date", ws->n_pairs, ws__drifted(ws));
        ws->h.progress(ws->h.ud, WS_PROGRESS_END, msg, -1);
    }
    if ((r = ws__update_status(ws)) != 0 && rc == 0)
        rc = r;
    if ((r = ws->h.settled(ws->h.ud)) != 0 && rc == 0)
        rc = r;
    return rc;
}

/* The configuration at path changed: reload it and re-check its sources. */
static int ws__config_changed(ws_t *ws, const char *path)
{
    int rc = 0, r;
    if (ws->n_folders == 0 || ws__in_folders(ws, path)) {
        ue_project *p = NULL;
        rc = ws__project_by_config(ws, path, true, &p);
        size_t none = 0;
        if (p != NULL && (r = ws__check_project(ws, p, &none, 0)) != 0 && rc == 0)
            rc = r;
    }
    if ((r = ws__update_status(ws)) != 0 && rc == 0)
        rc = r;
    return rc;
}

int ws_check_path(ws_t *ws, const char *path_in, ws_event ev)
{
    if (ws->stopped)
        return 0;
    char *path = ws__canonical(path_in), *rel = NULL, *src = NULL;
    ue_project *p = NULL;
    int rc = 0, r;
    if (path == NULL)
        return SRV_ENOMEM;
    if (strcmp(ws__base(path), UE_CONFIG_NAME) == 0) {
        rc = ws__config_changed(ws, path);
        goto done;
    }
    if ((rc = ws__project_for(ws, path, &p)) != 0 || p == NULL ||
        (rc = ws__rel(p, path, &rel)) != 0 || rel == NULL)
        goto done;
    if (!ue_is_source(p, rel, NULL)) {
        if ((rc = ws__source_of(p, rel, &src)) != 0)
            goto done;
        if (src == NULL && ev == WS_EV_DISK) { /* maybe a new source: list them again */
            ua_findings f = {0};
            ws__cache_clear(ws); /* the source list decides #include redirections */
            if (ue_project_rescan(p, &f) == UA_ENOMEM)
                rc = SRV_ENOMEM;
            ua_findings_free(&f);
            if (rc == 0 && !ue_is_source(p, rel, NULL))
                rc = ws__source_of(p, rel, &src);
            if (rc != 0)
                goto done;
        }
        if (src == NULL && !ue_is_source(p, rel, NULL)) {
            rc = ws__orphan(ws, p, rel); /* a twin whose source is gone? */
            if ((r = ws__update_status(ws)) != 0 && rc == 0)
                rc = r;
            goto done;
        }
    }
    /* typing in a source only changes its buffer: drift is checked on open and save, and the
     * check is prepared once typing pauses */
    if (ev == WS_EV_CHANGE && src == NULL) {
        rc = ws__schedule_idle(ws, path);
        goto done;
    }
    if ((r = ws__drift(ws, p, src ? src : rel, ev)) != 0 && rc == 0)
        rc = r;
    if ((r = ws__update_status(ws)) != 0 && rc == 0)
        rc = r;
    if ((r = ws->h.settled(ws->h.ud)) != 0 && rc == 0)
        rc = r;
done:
    srv_free(path);
    ua_free(rel);
    ua_free(src);
    return rc;
}

int ws_file_of(ws_t *ws, const char *path, const ws_file **f)
{
    ws__lint_pending_now(ws); /* before f is found: it may add files */
    char *c = ws__canonical(path);
    *f = c ? ws__file(ws, c, false) : NULL;
    srv_free(c);
    return c ? 0 : SRV_ENOMEM;
}

/* ---------------------------------------------------------------------------- actions */

static bool ws__kind_allowed(const char *const *only, size_t n_only, bool has_only,
                             const char *kind)
{
    if (!has_only)
        return true;
    for (size_t i = 0; i < n_only; i++) {
        size_t n = strlen(only[i]);
        /* "source" allows "source.fixAll.unasync": a prefix up to a dot */
        if (strncmp(kind, only[i], n) == 0 && (kind[n] == '\0' || kind[n] == '.'))
            return true;
    }
    return false;
}

static bool ws__overlaps(ws_range a, ws_range b)
{
    return !(a.end.line < b.start.line || b.end.line < a.start.line);
}

void ws_actions_free(ws_actions *a)
{
    for (size_t i = 0; i < a->n; i++) {
        srv_free(a->v[i].arg_path);
        srv_free(a->v[i].diags);
    }
    srv_free(a->v);
    memset(a, 0, sizeof *a);
}

/* A new action at the end of a (zeroed), or NULL when out of memory. */
static ws_action *ws__add_action(ws_actions *a, const char *kind, const char *command)
{
    ws_action *na = srv_realloc(a->v, (a->n + 1) * sizeof *na);
    if (na == NULL)
        return NULL;
    a->v = na;
    ws_action *x = &na[a->n++];
    memset(x, 0, sizeof *x);
    x->kind = kind;
    x->command = command;
    return x;
}

/* Appends the lint quick fixes of the lint diagnostics of f that overlap range. */
static int ws__lint_actions(ws_t *ws, const ws_file *f, ws_range range, ws_actions *out)
{
    const ws_lint *l = ws__lint_find(ws, f->path);
    for (size_t i = 0; l != NULL && i < f->n; i++) {
        if (!f->d[i].lint || !ws__overlaps(f->d[i].range, range))
            continue;
        for (size_t k = 0; k < l->r.fixes.n; k++) {
            const ul_fix *x = &l->r.fixes.v[k];
            if (strcmp(x->code, f->d[i].code) != 0 || x->line != f->d[i].f_line ||
                x->col != f->d[i].f_col)
                continue;
            ws_action *a = ws__add_action(out, "quickfix", "unasync.lintFix");
            if (a == NULL || (a->diags = srv_malloc(sizeof *a->diags)) == NULL)
                return SRV_ENOMEM;
            snprintf(a->title, sizeof a->title, "%s", x->title);
            a->preferred = x->preferred != 0;
            a->diags[0] = i;
            a->n_diags = 1;
            a->fix_line = x->line;
            a->fix_col = x->col;
            snprintf(a->fix_code, sizeof a->fix_code, "%s", x->code);
            a->fix_index = k;
        }
    }
    return 0;
}

/* The pair that path (absolute, canonical) is the source or the twin of, or NULL. */
static const ws_pair *ws__pair_of(const ws_t *ws, const char *path)
{
    for (size_t i = 0; i < ws->n_pairs; i++)
        if (strcmp(ws->pairs[i].source, path) == 0 || strcmp(ws->pairs[i].twin, path) == 0)
            return &ws->pairs[i];
    return NULL;
}

/* Whether regenerating the twin fixes the pair (not one refused or without a source). */
static bool ws__regenerable(ue_state s)
{
    return s == UE_MISSING || s == UE_STALE || s == UE_EDITED;
}

/* Appends "Regenerate <twin>" of kind `kind` for the pair of source src and twin twin, fixing the
 * diagnostics sel/nsel (taken, also on failure). */
static int ws__add_regenerate(ws_actions *out, const char *kind, const char *src, const char *twin,
                              size_t *sel, size_t nsel)
{
    ws_action *a = ws__add_action(out, kind, "unasync.regenerate");
    if (a == NULL || (a->arg_path = srv_strdup(src)) == NULL) {
        srv_free(sel);
        return SRV_ENOMEM;
    }
    snprintf(a->title, sizeof a->title, "Regenerate %s", ws__base(twin));
    a->preferred = strcmp(kind, "quickfix") == 0;
    a->diags = sel;
    a->n_diags = nsel;
    return 0;
}

/* The quick fix on the drift diagnostics of f (a file of pair pr) that overlap range; *added
 * tells whether there were any. */
static int ws__regenerate_quickfix(const ws_file *f, const ws_pair *pr, ws_range range,
                                   ws_actions *out, bool *added)
{
    *added = false;
    if (f == NULL || f->n == 0)
        return 0;
    size_t *sel = srv_calloc(f->n, sizeof *sel), nsel = 0;
    if (sel == NULL)
        return SRV_ENOMEM;
    for (size_t i = 0; i < f->n; i++)
        if (f->d[i].drift && ws__overlaps(f->d[i].range, range))
            sel[nsel++] = i;
    if (nsel == 0) {
        srv_free(sel);
        return 0;
    }
    *added = true;
    return ws__add_regenerate(out, "quickfix", pr->source, pr->twin, sel, nsel);
}

/* Fix-on-save: editors ask for source.fixAll *before* they save, so drift found at the last save
 * says nothing about the buffer being saved. Checks the open buffer of path itself (the engine
 * reads open documents through the overlay; the result is cached per content). */
static int ws__fix_on_save(ws_t *ws, const char *path, ws_actions *out)
{
    ue_project *p = NULL;
    char *src = NULL;
    int rc = ws__source_for(ws, path, &p, &src);
    const ue_twin *t = NULL;
    if (rc == 0 && src != NULL && (t = ws__result(ws, p, src)) == NULL)
        rc = SRV_ENOMEM;
    if (t != NULL && t->expected != NULL && ws__regenerable(t->state)) {
        char *abs = ue_abs(p, src), *twin = ue_abs(p, t->twin);
        rc = abs && twin ? ws__add_regenerate(out, "source.fixAll.unasync", abs, twin, NULL, 0)
                         : SRV_ENOMEM;
        ua_free(abs);
        ua_free(twin);
    }
    ua_free(src);
    return rc;
}

int ws_code_actions(ws_t *ws, const char *path, ws_range range, const char *const *only,
                    size_t n_only, bool has_only, ws_actions *out)
{
    memset(out, 0, sizeof *out);
    ws__lint_pending_now(ws);
    char *c = ws__canonical(path);
    if (c == NULL)
        return SRV_ENOMEM;
    const ws_file *f = ws__file(ws, c, false);
    const ws_pair *pr = ws__pair_of(ws, c);
    bool drifted = pr != NULL && ws__regenerable(pr->state), quick = false;
    int rc = 0;
    out->file = f;
    /* every drift diagnostic of the pair offers the quick fix ... */
    if (drifted && ws__kind_allowed(only, n_only, has_only, "quickfix"))
        rc = ws__regenerate_quickfix(f, pr, range, out, &quick);
    /* ... and the pair's source action is there wherever the cursor is (once in a list that
     * is not filtered by kind, where the quick fix of the same title may be) */
    if (rc == 0 && drifted && ws__kind_allowed(only, n_only, has_only, "source") &&
        (has_only || !quick))
        rc = ws__add_regenerate(out, "source", pr->source, pr->twin, NULL, 0);
    if (rc == 0 && has_only && ws__kind_allowed(only, n_only, has_only, "source.fixAll.unasync")) {
        if (drifted) {
            ws_action *a = ws__add_action(out, "source.fixAll.unasync", "unasync.regenerateAll");
            if (a == NULL)
                rc = SRV_ENOMEM;
            else
                snprintf(a->title, sizeof a->title, "Regenerate all out-of-date twins (unasync)");
        } else
            rc = ws__fix_on_save(ws, c, out);
    }
    if (rc == 0 && f != NULL && ws__kind_allowed(only, n_only, has_only, "quickfix"))
        rc = ws__lint_actions(ws, f, range, out);
    srv_free(c);
    if (rc != 0)
        ws_actions_free(out);
    return rc;
}

/* ------------------------------------------------------------------ regenerate, fixes */

/* Hands the hunks of t (whose twin is open as doc, with the bytes t->actual) to the client. */
static int ws__apply_hunks(ws_t *ws, const ws_doc *doc, const ue_twin *t)
{
    size_t n = t->diff.n;
    ws_edit *edits = srv_calloc(n ? n : 1, sizeof *edits);
    char **texts = srv_calloc(n ? n : 1, sizeof *texts);
    int rc = edits && texts ? 0 : SRV_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const ua_hunk *h = &t->diff.hunks[i];
        size_t a0 = ua_line_offset(t->actual, t->actual_len, (unsigned)h->a_line + 1);
        size_t a1 = ua_line_offset(t->actual, t->actual_len, (unsigned)(h->a_line + h->a_count) + 1);
        size_t b0 = ua_line_offset(t->expected, t->expected_len, (unsigned)h->b_line + 1);
        size_t b1 =
            ua_line_offset(t->expected, t->expected_len, (unsigned)(h->b_line + h->b_count) + 1);
        edits[i].off = a0;
        edits[i].del = a1 - a0;
        if ((texts[i] = srv_strndup(t->expected + b0, b1 - b0)) == NULL)
            rc = SRV_ENOMEM;
        edits[i].text = texts[i];
    }
    if (rc == 0) {
        char label[300];
        snprintf(label, sizeof label, "Regenerate %s", ws__base(t->twin));
        rc = ws->h.apply_edit(ws->h.ud, doc, label, edits, n);
    }
    for (size_t i = 0; texts && i < n; i++)
        srv_free(texts[i]);
    srv_free(texts);
    srv_free(edits);
    return rc;
}

/* Regenerates the twin of one source of p. */
static int ws__regenerate_one(ws_t *ws, ue_project *p, const char *rel)
{
    const ue_twin *tp = ws__result(ws, p, rel);
    if (tp == NULL)
        return SRV_ENOMEM;
    if (tp->state == UE_OK || tp->expected == NULL)
        return tp->state == UE_OK ? 0 : SRV_EENGINE;
    char *twin = ue_abs(p, tp->twin);
    int rc = 0;
    struct stat st;
    if (twin == NULL) {
        rc = SRV_ENOMEM;
    } else if (!ws__in_folders(ws, twin)) {
        ws__log(ws, 2, "refusing to write %s: outside the workspace folders", twin);
        rc = SRV_EOUTSIDE;
    } else if (lstat(twin, &st) == 0 && S_ISLNK(st.st_mode)) {
        /* the refusal ue_write_twin makes: never through a link, open in the editor or not
         * (saving an applyEdit would write through it) */
        ws__log(ws, 2, "refusing to write %s: the twin is a symbolic link", twin);
        rc = SRV_EOUTSIDE;
    } else {
        const ws_doc *doc = ws_doc_find_path(ws, twin);
        if (doc != NULL && tp->actual != NULL && tp->state != UE_UNMANAGED) {
            rc = ws__apply_hunks(ws, doc, tp); /* open in the editor: minimal hunks */
        } else {
            ua_findings f = {0};
            int wrote = 0;
            rc = ue_write_twin(p, tp, 0, &wrote, &f);
            if (rc != 0) {
                ws__log(ws, 1, "cannot write %s: %s", twin,
                        f.n ? f.v[0].message : ua_strerror(rc == 1 ? UA_EINVAL : rc));
                rc = rc == 1 ? SRV_EINVAL : rc == UA_ENOMEM ? SRV_ENOMEM : SRV_EIO;
            } else
                ws__log(ws, 4, "%s %s", wrote ? "wrote" : "unchanged", twin);
            ua_findings_free(&f);
            /* re-checking replaces the cached result: tp is not used after this; the twin is
             * written, so a failed re-check is logged, not reported as a failed regenerate */
            int r;
            if (rc == 0 && (r = ws_check_path(ws, twin, WS_EV_DISK)) != 0)
                ws__log(ws, 1, "re-checking %s failed: %s", twin, srv_strerror(r));
        }
    }
    ua_free(twin);
    return rc;
}

/* Regenerates every twin of every project (unasync.regenerateAll). */
static int ws__regenerate_all(ws_t *ws)
{
    int found = ws__discover(ws), rc = 0, r;
    for (size_t i = 0; i < ws->n_projects; i++)
        for (size_t k = 0; k < ws->projects[i]->nsources; k++)
            if ((r = ws__regenerate_one(ws, ws->projects[i], ws->projects[i]->sources[k])) != 0 &&
                r != SRV_EOUTSIDE && rc == 0) /* regenerateAll skips what it may not write */
                rc = r;
    if ((r = ws__update_status(ws)) != 0 && rc == 0)
        rc = r;
    return found != 0 ? found : rc;
}

int ws_regenerate(ws_t *ws, const char *path)
{
    if (path == NULL)
        return ws__regenerate_all(ws);
    char *c = ws__canonical(path), *src = NULL;
    if (c == NULL)
        return SRV_ENOMEM;
    if (!ws__in_folders(ws, c)) {
        srv_free(c);
        return SRV_EOUTSIDE;
    }
    ue_project *p = NULL;
    int rc = ws__source_for(ws, c, &p, &src);
    if (rc == 0)
        rc = src == NULL ? SRV_ENOTFOUND : ws__regenerate_one(ws, p, src);
    srv_free(c);
    ua_free(src);
    /* the status follows the twins: its failure is not the command's */
    int r = ws__update_status(ws);
    if (r != 0)
        ws__log(ws, 1, "sending unasync/status failed: %s", srv_strerror(r));
    return rc;
}

/* Writes fix x to file target, which no editor has open, atomically. */
static int ws__fix_on_disk(ws_t *ws, const ul_fix *x, const char *target)
{
    char *bytes = NULL, *fixed = NULL;
    size_t len = 0, flen = 0;
    struct stat st;
    int rc = ue_read_file(target, &bytes, &len) == 0 &&
                     ul_fix_apply(x, bytes, len, &fixed, &flen) == 0 &&
                     ue_write_atomic(target, fixed, flen,
                                     stat(target, &st) == 0 ? st.st_mode & 07777 : 0644) == 0
                 ? 0
                 : SRV_EIO;
    ua_free(bytes);
    ua_free(fixed);
    if (rc == 0) {
        ws__log(ws, 4, "%s: %s", target, x->title);
        /* the fix is on disk: a failed re-check does not undo it */
        int r = ws_check_path(ws, target, WS_EV_DISK);
        if (r != 0)
            ws__log(ws, 1, "re-checking %s failed: %s", target, srv_strerror(r));
    }
    return rc;
}

int ws_lint_fix(ws_t *ws, const char *path, unsigned line, unsigned col, const char *code,
                size_t index)
{
    ws__lint_pending_now(ws);
    char *c = ws__canonical(path), *target = NULL;
    if (c == NULL)
        return SRV_ENOMEM;
    const ws_lint *l = ws__lint_find(ws, c);
    const ul_fix *x = l != NULL && index < l->r.fixes.n ? &l->r.fixes.v[index] : NULL;
    int rc = SRV_EINVAL;
    if (x == NULL || strcmp(x->code, code) != 0 || x->line != line || x->col != col)
        goto done;
    rc = SRV_ENOMEM;
    if ((target = ue_abs(l->p, x->file)) == NULL)
        goto done;
    rc = SRV_EOUTSIDE;
    if (!ws__in_folders(ws, target))
        goto done;
    ws_doc *doc = ws_doc_find_path(ws, target);
    if (doc != NULL && strcmp(target, c) == 0 &&
        !ws__same(doc->text, doc->len, l->bytes, l->len)) {
        rc = SRV_EINVAL; /* typed since the lint ran: its offsets no longer apply */
        ws__log(ws, 2, "%s changed since the lint ran; try the quick fix again", target);
    } else if (doc != NULL) {
        ws_edit e = {x->off, x->len, x->text};
        rc = x->off > doc->len || x->len > doc->len - x->off
                 ? SRV_EINVAL
                 : ws->h.apply_edit(ws->h.ud, doc, x->title, &e, 1);
    } else
        rc = ws__fix_on_disk(ws, x, target); /* not open (unasync.json, usually) */
done:
    srv_free(c);
    ua_free(target);
    return rc;
}

/* ------------------------------------------------------------------------- navigation */

/* The message of the engine's drift finding for t (a copy in *msg), NULL when there is none.
 * Returns 0 or SRV_ENOMEM. */
static int ws__drift_message(const ue_twin *t, char **msg)
{
    ua_findings all = {0};
    *msg = NULL;
    if (ue_twin_findings(t, &all) != 0)
        return SRV_ENOMEM;
    int rc = 0;
    if (all.n > t->out.findings.n && (*msg = srv_strdup(all.v[all.n - 1].message)) == NULL)
        rc = SRV_ENOMEM;
    ua_findings_free(&all);
    return rc;
}

int ws_twin_origin(ws_t *ws, const char *path, ws_pos pos, ws_origin *o)
{
    memset(o, 0, sizeof *o);
    char *c = ws__canonical(path), *rel = NULL, *src = NULL;
    ue_project *p = NULL;
    int rc = c ? ws__project_for(ws, c, &p) : SRV_ENOMEM;
    if (rc != 0)
        goto done;
    if (p == NULL || (rc = ws__rel(p, c, &rel)) != 0 || rel == NULL ||
        (rc = ws__source_of(p, rel, &src)) != 0 || src == NULL) {
        rc = rc ? rc : 1;
        goto done;
    }
    rc = 1;
    const ue_twin *t = ws__result(ws, p, src);
    if (t == NULL) {
        rc = SRV_ENOMEM;
        goto done;
    }
    if (t->expected == NULL)
        goto done;
    /* positions are in the client's buffer of the twin (else the file on disk) */
    const ws_doc *doc = ws_doc_find_path(ws, c);
    const char *text = doc ? doc->text : t->actual ? t->actual : t->expected;
    size_t len = doc ? doc->len : t->actual ? t->actual_len : t->expected_len;
    size_t off = srv_text_offset(text, len, pos, ws->set.utf8);
    size_t twin_line = (size_t)srv_text_position(text, len, off, true).line;
    size_t src_off = twin_line == 0 || off < t->out.header_len ? 0
                                                               : ua_map_to_source(&t->out.map, off);
    unsigned line = 1, col = 1;
    ua_offset_to_linecol(t->src_bytes, t->src_len, src_off, &line, &col);
    char *abs = ue_abs(p, src);
    if (abs == NULL || (o->source = srv_strdup(abs)) == NULL) {
        ua_free(abs);
        rc = SRV_ENOMEM;
        goto done;
    }
    ua_free(abs);
    const ws_doc *sd = ws_doc_find_path(ws, o->source);
    o->line = line;
    o->pos = sd ? srv_text_position(sd->text, sd->len, src_off, ws->set.utf8)
                : srv_text_position(t->src_bytes, t->src_len, src_off, ws->set.utf8);
    rc = ws__drift_message(t, &o->drift);
    if (rc != 0) {
        srv_free(o->source);
        o->source = NULL;
        goto done;
    }
done:
    srv_free(c);
    ua_free(rel);
    ua_free(src);
    return rc;
}
