/* The server's analysis layer over the shared engine: projects per unasync.json, drift checks
 * turned into diagnostics, regenerate (applyEdit or atomic write), hover/definition through the
 * source map, file watching with libuv, and the unasync/status counts. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "srv_int.h"
#include "ul.h"

/* One diagnostic as the server keeps it (owned strings). */
typedef struct srv_diag {
    lsp_range_t range;
    lsp_severity_t severity;
    char code[8];
    char *message;
    char *rel_uri; /* related information: the source lines; NULL = none */
    lsp_range_t rel_range;
    bool drift; /* offers the Regenerate quick fix */
    bool lint;  /* from the lint: replaced when typing pauses, may offer lint quick fixes */
    unsigned f_line, f_col; /* the lint finding's position (names its quick fixes) */
} srv_diag_t;

/* The diagnostics of one file, from the checks of every pair that touches it. */
typedef struct srv_file {
    char *path;
    char *source; /* the pair's source (absolute) for the Regenerate fix; NULL = none */
    srv_diag_t *d;
    size_t n;
} srv_file_t;

/* The last lint result per source, with the bytes it was computed from (quick fixes are byte
 * edits of those bytes; an unchanged buffer is not linted again). */
typedef struct srv_lint {
    ue_project *p;
    char *path; /* absolute */
    char *bytes;
    size_t len;
    ul_result r;
} srv_lint_t;

typedef struct srv_watch {
    char *dir;
    uv_fs_event_t *h;
} srv_watch_t;

/* The last engine result per source. ue_check_source is a pure function of the source bytes,
 * the twin bytes and the configuration, so a result whose inputs are byte-for-byte unchanged
 * is reused instead of transforming again (the transformer dominates a check's cost). */
typedef struct srv_cached {
    ue_project *p;
    ue_twin t;
} srv_cached_t;

struct srv_engine {
    ue_project **projects;
    size_t n_projects;
    ua_ctx *ctx;
    srv_cached_t *cache;
    size_t n_cache;
    uv_timer_t *idle; /* re-checks a source once typing pauses, so that its save is cheap */
    char *idle_path;
    srv_file_t *files;
    size_t n_files;
    srv_watch_t *watches;
    size_t n_watches;
    ul_ctx *lint; /* keeps a translation unit per source: reparse with a precompiled preamble */
    srv_lint_t *lints;
    size_t n_lints;
    uv_timer_t *lint_later; /* lints the sources a drift publish did not wait for */
    char **lint_paths;
    size_t n_lint_paths;
};

typedef struct srv_ov {
    srv_t *s;
    const ue_project *p;
} srv_ov_t;

/* ------------------------------------------------------------------------ small helpers */

static const char *srv__base(const char *p)
{
    const char *b = strrchr(p, '/');
    return b ? b + 1 : p;
}

static bool srv__in_folders(srv_t *s, const char *path)
{
    size_t i;
    for (i = 0; i < s->n_folders; i++)
        if (srv_path_under(path, s->folders[i].path))
            return true;
    return false;
}

/* Canonical path (realpath of the folder, the file name kept: the file may not exist). */
static char *srv__canonical(const char *path)
{
    char buf[PATH_MAX], *dir, *slash, *out;
    if (realpath(path, buf) != NULL)
        return srv_strdup(buf);
    dir = srv_strdup(path);
    if (dir == NULL)
        return NULL;
    slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir) {
        srv_free(dir);
        return srv_strdup(path);
    }
    *slash = '\0';
    if (realpath(dir, buf) == NULL) {
        srv_free(dir);
        return srv_strdup(path);
    }
    out = srv_malloc(strlen(buf) + strlen(slash + 1) + 2);
    if (out)
        sprintf(out, "%s/%s", buf, slash + 1);
    srv_free(dir);
    return out;
}

static const char *srv__overlay_lookup(void *ud, const char *rel, size_t *len)
{
    srv_ov_t *ov = ud;
    char *abs = ue_abs(ov->p, rel);
    srv_doc_t *d = abs ? srv_doc_find_path(ov->s, abs) : NULL;
    ua_free(abs);
    if (d == NULL)
        return NULL;
    *len = d->len;
    return d->text ? d->text : "";
}

/* The URI to publish for a path: the client's own URI when the file is open. */
static char *srv__uri_for(srv_t *s, const char *path)
{
    srv_doc_t *d = srv_doc_find_path(s, path);
    return d ? srv_strdup(d->uri) : srv_path_to_uri(path);
}

/* ----------------------------------------------------------------------------- cache */

static void srv__cache_clear(struct srv_engine *e)
{
    size_t i;
    for (i = 0; i < e->n_cache; i++)
        ue_twin_free(&e->cache[i].t);
    srv_free(e->cache);
    e->cache = NULL;
    e->n_cache = 0;
}

/* The bytes ue_check_source would read for rel: the open document, else the file. Returns 0
 * with *owned set when the bytes were read from disk (release them with ua_free), 1 when rel
 * does not exist, or SRV_ENOMEM. */
static int srv__current_bytes(srv_ov_t *ov, const char *rel, const char **bytes, size_t *len,
                              char **owned)
{
    int rc;
    *owned = NULL;
    if ((*bytes = srv__overlay_lookup(ov, rel, len)) != NULL)
        return 0;
    rc = ue_read_in(ov->p, rel, owned, len); /* resolved, checked against the root, no FIFO */
    if (rc == UA_ENOMEM || rc == -ENOMEM)
        return SRV_ENOMEM;
    if (rc != 0)
        return 1;
    *bytes = *owned;
    return 0;
}

static bool srv__same(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* A cached result for rel whose source and twin bytes are still exactly what it was computed
 * from, or NULL. */
static const ue_twin *srv__cache_hit(srv_t *s, ue_project *p, const char *rel)
{
    struct srv_engine *e = s->engine;
    srv_ov_t ovd = {s, p};
    size_t i;
    for (i = 0; i < e->n_cache; i++) {
        const ue_twin *t = &e->cache[i].t;
        const char *b;
        size_t n;
        char *owned;
        bool same;
        int rc;
        if (e->cache[i].p != p || strcmp(t->source, rel) != 0)
            continue;
        if (t->state == UE_IO_ERROR || t->src_bytes == NULL)
            return NULL;
        if (srv__current_bytes(&ovd, rel, &b, &n, &owned) != 0)
            return NULL;
        same = srv__same(b, n, t->src_bytes, t->src_len);
        ua_free(owned);
        if (!same)
            return NULL;
        rc = srv__current_bytes(&ovd, t->twin, &b, &n, &owned);
        if (rc < 0)
            return NULL;
        same = rc == 1 ? t->actual == NULL
                       : t->actual != NULL && srv__same(b, n, t->actual, t->actual_len);
        ua_free(owned);
        return same ? t : NULL;
    }
    return NULL;
}

/* Keeps t (moved: the caller must not free it) as the latest result for its source. */
static void srv__cache_put(srv_t *s, ue_project *p, ue_twin *t)
{
    struct srv_engine *e = s->engine;
    srv_cached_t *nc;
    size_t i;
    for (i = 0; i < e->n_cache; i++)
        if (e->cache[i].p == p && strcmp(e->cache[i].t.source, t->source) == 0) {
            ue_twin_free(&e->cache[i].t);
            e->cache[i].t = *t;
            memset(t, 0, sizeof(*t));
            return;
        }
    nc = srv_realloc(e->cache, (e->n_cache + 1) * sizeof(*nc));
    if (nc == NULL) {
        ue_twin_free(t);
        return;
    }
    e->cache = nc;
    nc[e->n_cache].p = p;
    nc[e->n_cache].t = *t;
    memset(t, 0, sizeof(*t));
    e->n_cache++;
}

/* ------------------------------------------------------------------------------ lint */

static void srv__lint_forget(struct srv_engine *e, const ue_project *p)
{
    size_t i = 0;
    ul_ctx_forget(e->lint, p);
    while (i < e->n_lints) {
        if (p != NULL && e->lints[i].p != p) {
            i++;
            continue;
        }
        srv_free(e->lints[i].path);
        srv_free(e->lints[i].bytes);
        ul_result_free(&e->lints[i].r);
        e->lints[i] = e->lints[--e->n_lints];
    }
}

static srv_lint_t *srv__lint_find(struct srv_engine *e, const char *path)
{
    size_t i;
    for (i = 0; i < e->n_lints; i++)
        if (strcmp(e->lints[i].path, path) == 0)
            return &e->lints[i];
    return NULL;
}

/* The lint of source rel of p over its current bytes (open buffer, else disk), with the
 * configuration's severities and the ignore comments applied; the cached one when the bytes
 * did not change. Returns 0 with *out set, 1 when the source cannot be read or linted, or
 * SRV_ENOMEM; the previous result for the source is kept unless a new one replaces it. */
static int srv__lint(srv_t *s, ue_project *p, const char *rel, const srv_lint_t **out)
{
    struct srv_engine *e = s->engine;
    srv_ov_t ovd = {s, p};
    ue_overlay ov = {srv__overlay_lookup, &ovd};
    const char *b;
    size_t n;
    char *owned = NULL, *abs = ue_abs(p, rel), *path = NULL, *bytes = NULL;
    srv_lint_t *l;
    ul_result r = {0};
    int rc = SRV_ENOMEM;
    *out = NULL;
    if (abs == NULL)
        return SRV_ENOMEM;
    if (e->lint == NULL) {
        ul_options opt = {0};
        opt.keep = 1;
        if ((e->lint = ul_ctx_new(&opt)) == NULL)
            goto done;
    }
    if ((rc = srv__current_bytes(&ovd, rel, &b, &n, &owned)) != 0)
        goto done;
    l = srv__lint_find(e, abs);
    if (l != NULL && l->p == p && srv__same(l->bytes, l->len, b, n)) {
        *out = l;
        goto done;
    }
    /* what can fail comes before the previous result is replaced */
    rc = SRV_ENOMEM;
    if ((bytes = srv_strndup(b, n)) == NULL || (l == NULL && (path = srv_strdup(abs)) == NULL))
        goto done;
    if (l == NULL) {
        srv_lint_t *nl = srv_realloc(e->lints, (e->n_lints + 1) * sizeof(*nl));
        if (nl == NULL)
            goto done;
        e->lints = nl;
    }
    if ((rc = ul_lint_source(e->lint, p, rel, b, n, &ov, &r)) != 0) {
        ul_result_free(&r);
        rc = rc == UL_ENOMEM ? SRV_ENOMEM : 1;
        goto done;
    }
    ul_apply_ignores(rel, b, n, &r.findings, &r.fixes);
    ul_apply_levels(p->cfg, &r.findings, &r.fixes);
    if (l == NULL) {
        l = &e->lints[e->n_lints++];
        memset(l, 0, sizeof(*l));
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

/* The LSP position of a 1-based line and byte column of bytes. */
static lsp_position_t srv__lc_pos(srv_t *s, const char *b, size_t n, unsigned line, unsigned col)
{
    size_t off = ua_line_offset(b, n, line ? line : 1) + (col ? col - 1 : 0);
    return srv_text_position(b, n, off > n ? n : off, s->utf8);
}

/* -------------------------------------------------------------------------- projects */

/* Publishes the configuration's findings (line:col) on unasync.json itself; [] when valid. */
static int srv__publish_config(srv_t *s, const char *config_path, const ua_findings *f)
{
    lsp_diagnostic_t *d = srv_calloc(f->n ? f->n : 1, sizeof(*d));
    char *uri = srv__uri_for(s, config_path);
    size_t i;
    int rc = SRV_ENOMEM;
    if (d != NULL && uri != NULL) {
        for (i = 0; i < f->n; i++) {
            const ua_finding *x = &f->v[i];
            d[i].range.start.line = x->line ? x->line - 1 : 0;
            d[i].range.start.character = x->col ? x->col - 1 : 0;
            d[i].range.end = d[i].range.start;
            d[i].range.end.character++;
            d[i].severity = (lsp_severity_t)x->severity;
            d[i].code = x->code[0] ? x->code : "UA300";
            d[i].message = x->message;
        }
        rc = srv_publish(s, uri, d, f->n);
    }
    srv_free(d);
    srv_free(uri);
    return rc;
}

static int srv__project_by_config(srv_t *s, const char *config_path, bool reload, ue_project **out)
{
    struct srv_engine *e = s->engine;
    ue_project *p = NULL, **np;
    ua_findings f = {0};
    size_t i;
    int rc;
    *out = NULL;
    for (i = 0; i < e->n_projects; i++)
        if (strcmp(e->projects[i]->config_path, config_path) == 0)
            break;
    if (i < e->n_projects && !reload) {
        *out = e->projects[i];
        return 0;
    }
    rc = ue_project_open(config_path, &p, &f);
    if (rc == UA_ENOMEM) { /* a reload keeps the project it had */
        ua_findings_free(&f);
        return SRV_ENOMEM;
    }
    if (rc != 0) {
        ue_project_free(p);
        p = NULL;
    }
    if (p != NULL && i == e->n_projects) { /* a new project: make room for it first */
        np = srv_realloc(e->projects, (e->n_projects + 1) * sizeof(*np));
        if (np == NULL) {
            ue_project_free(p);
            ua_findings_free(&f);
            return SRV_ENOMEM;
        }
        e->projects = np;
    }
    if (i < e->n_projects) { /* reloaded: results point into the project being replaced */
        srv__cache_clear(e);
        srv__lint_forget(e, e->projects[i]);
        ue_project_free(e->projects[i]);
        e->projects[i] = e->projects[--e->n_projects];
    }
    if (p != NULL)
        e->projects[e->n_projects++] = p;
    else
        srv_log(s, 2, "%s: %s", config_path,
                f.n ? f.v[0].message : "cannot open the configuration");
    rc = srv__publish_config(s, config_path, &f);
    ua_findings_free(&f);
    *out = p;
    return rc;
}

/* The project a path belongs to, if its unasync.json lies inside a workspace folder (or there
 * are no folders at all and the file is open: single-file mode). */
/* ue_rel and ue_source_of for the server: 0 with *out NULL when the path is outside the project
 * or no source has that twin, SRV_ENOMEM when memory ran out. */
static int srv__rel(const ue_project *p, const char *path, char **out)
{
    int rc = ue_rel(p, path, out);
    return rc == UA_ENOMEM ? SRV_ENOMEM : 0;
}

static int srv__source_of(const ue_project *p, const char *twin_rel, char **out)
{
    int rc = ue_source_of(p, twin_rel, out);
    return rc == UA_ENOMEM ? SRV_ENOMEM : 0;
}

static int srv__project_for(srv_t *s, const char *path, ue_project **out)
{
    char *cfg = NULL;
    int rc;
    *out = NULL;
    if ((rc = ue_find_config(path, &cfg)) != 0)
        return rc == UA_ENOMEM ? SRV_ENOMEM : 0;
    if (s->n_folders == 0 || srv__in_folders(s, cfg) || srv__in_folders(s, path))
        rc = srv__project_by_config(s, cfg, false, out);
    ua_free(cfg);
    return rc;
}

/* ---------------------------------------------------------------- diagnostics per file */

static void srv__diags_clear(srv_diag_t *d, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        srv_free(d[i].message);
        srv_free(d[i].rel_uri);
    }
    srv_free(d);
}

static srv_file_t *srv__file(srv_t *s, const char *path, bool create)
{
    struct srv_engine *e = s->engine;
    srv_file_t *nf;
    size_t i;
    for (i = 0; i < e->n_files; i++)
        if (strcmp(e->files[i].path, path) == 0)
            return &e->files[i];
    if (!create)
        return NULL;
    nf = srv_realloc(e->files, (e->n_files + 1) * sizeof(*nf));
    if (nf == NULL)
        return NULL;
    e->files = nf;
    memset(&nf[e->n_files], 0, sizeof(*nf));
    if ((nf[e->n_files].path = srv_strdup(path)) == NULL)
        return NULL;
    return &e->files[e->n_files++];
}

static int srv__add_diag(srv_file_t *f, lsp_range_t r, lsp_severity_t sev, const char *code,
                         bool drift, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

static int srv__add_diag(srv_file_t *f, lsp_range_t r, lsp_severity_t sev, const char *code,
                         bool drift, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    srv_diag_t *nd = srv_realloc(f->d, (f->n + 1) * sizeof(*nd));
    if (nd == NULL)
        return SRV_ENOMEM;
    f->d = nd;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    memset(&nd[f->n], 0, sizeof(*nd));
    nd[f->n].range = r;
    nd[f->n].severity = sev;
    snprintf(nd[f->n].code, sizeof(nd[f->n].code), "%s", code ? code : "");
    nd[f->n].drift = drift;
    if ((nd[f->n].message = srv_strdup(msg)) == NULL)
        return SRV_ENOMEM;
    f->n++;
    return 0;
}

/* Appends the diagnostics of lint result l to f. */
static int srv__lint_result_diags(srv_t *s, const srv_lint_t *l, srv_file_t *f)
{
    size_t i;
    int rc;
    for (i = 0; i < l->r.findings.n; i++) {
        const ua_finding *x = &l->r.findings.v[i];
        lsp_range_t r;
        r.start = srv__lc_pos(s, l->bytes, l->len, x->line, x->col);
        r.end = srv__lc_pos(s, l->bytes, l->len, x->end_line, x->end_col);
        if ((rc = srv__add_diag(f, r, (lsp_severity_t)x->severity, x->code, false, "%s",
                                x->message)) != 0)
            return rc;
        f->d[f->n - 1].lint = true;
        f->d[f->n - 1].f_line = x->line;
        f->d[f->n - 1].f_col = x->col;
    }
    return 0;
}

/* Appends to f the diagnostics of a fresh lint of source rel of p. */
static int srv__add_lint_diags(srv_t *s, ue_project *p, const char *rel, srv_file_t *f)
{
    const srv_lint_t *l;
    int rc;
    if (!s->settings.lint_enable)
        return 0;
    if ((rc = srv__lint(s, p, rel, &l)) != 0)
        return rc == 1 ? 0 : rc; /* unreadable: no lint diagnostics */
    return srv__lint_result_diags(s, l, f);
}

static int srv__schedule_lint(srv_t *s, const char *path);

/* Appends to nf the lint diagnostics that a drift publish of source rel of p (absolute path
 * abs) carries without waiting for the lint: the lint's result when it is for these very bytes,
 * else those already published for the file, and the lint is run soon after (drift never waits
 * for the lint; lint diagnostics follow on their own schedule). */
static int srv__lint_diags_now(srv_t *s, ue_project *p, const char *rel, const char *abs,
                               srv_file_t *nf)
{
    srv_ov_t ovd = {s, p};
    const srv_lint_t *l = srv__lint_find(s->engine, abs);
    const srv_file_t *old = srv__file(s, abs, false);
    const char *b;
    size_t n, i;
    char *owned = NULL;
    int rc;
    if (!s->settings.lint_enable)
        return 0;
    if (l != NULL && l->p == p && srv__current_bytes(&ovd, rel, &b, &n, &owned) == 0) {
        bool fresh = srv__same(l->bytes, l->len, b, n);
        ua_free(owned); /* the file's bytes, from ue_read_file */
        if (fresh)
            return srv__lint_result_diags(s, l, nf);
    }
    for (i = 0; old != NULL && i < old->n; i++) {
        const srv_diag_t *d = &old->d[i];
        srv_diag_t *nd;
        if (!d->lint)
            continue;
        if ((rc = srv__add_diag(nf, d->range, d->severity, d->code, false, "%s", d->message)) != 0)
            return rc;
        nd = &nf->d[nf->n - 1];
        nd->lint = true;
        nd->f_line = d->f_line;
        nd->f_col = d->f_col;
    }
    return srv__schedule_lint(s, abs);
}

/* Replaces the lint diagnostics of file f (source rel of p) with a fresh lint's. Returns 0 or
 * SRV_ENOMEM, f then unchanged. */
static int srv__lint_diags(srv_t *s, ue_project *p, const char *rel, srv_file_t *f)
{
    srv_file_t nl = {0};
    srv_diag_t *nd = NULL;
    size_t i, w = 0;
    int rc = srv__add_lint_diags(s, p, rel, &nl);
    if (rc == 0 && nl.n > 0 && (nd = srv_realloc(f->d, (f->n + nl.n) * sizeof(*nd))) == NULL)
        rc = SRV_ENOMEM;
    if (rc != 0) {
        srv__diags_clear(nl.d, nl.n);
        return rc;
    }
    if (nd != NULL)
        f->d = nd;
    for (i = 0; i < f->n; i++) {
        if (f->d[i].lint) {
            srv_free(f->d[i].message);
            srv_free(f->d[i].rel_uri);
        } else
            f->d[w++] = f->d[i];
    }
    if (nl.n > 0)
        memcpy(f->d + w, nl.d, nl.n * sizeof(*nl.d));
    f->n = w + nl.n;
    srv_free(nl.d);
    return 0;
}

static lsp_diagnostic_t *srv__to_lsp(const srv_file_t *f, lsp_related_t **rel_out)
{
    lsp_diagnostic_t *out = srv_calloc(f->n ? f->n : 1, sizeof(*out));
    lsp_related_t *rel = srv_calloc(f->n ? f->n : 1, sizeof(*rel));
    size_t i;
    if (out == NULL || rel == NULL) {
        srv_free(out);
        srv_free(rel);
        return NULL;
    }
    for (i = 0; i < f->n; i++) {
        out[i].range = f->d[i].range;
        out[i].severity = f->d[i].severity;
        out[i].code = f->d[i].code[0] ? f->d[i].code : NULL;
        out[i].code_href = out[i].code ? ul_code_href(out[i].code) : NULL;
        out[i].message = f->d[i].message;
        if (f->d[i].rel_uri) {
            rel[i].location.uri = f->d[i].rel_uri;
            rel[i].location.range = f->d[i].rel_range;
            rel[i].message = "the async source lines";
            out[i].related = &rel[i];
            out[i].n_related = 1;
        }
    }
    *rel_out = rel;
    return out;
}

/* Remembers the encoded set last sent under key. Returns 1 when it differs from the one
 * remembered (or there was none and the set is not empty), 0 when it is the same, or
 * SRV_ENOMEM. */
static int srv__remember(srv_t *s, const char *key, const lsp_out_t *out, size_t n)
{
    srv_published_t *pub = NULL, *np;
    char *copy, *uri = NULL;
    size_t i;
    for (i = 0; i < s->n_published; i++)
        if (strcmp(s->published[i].uri, key) == 0)
            pub = &s->published[i];
    if (pub != NULL && pub->key_len == out->len && memcmp(pub->key, out->data, out->len) == 0)
        return 0; /* the same set again: no publish, no flicker */
    if (pub == NULL && n == 0)
        return 0; /* never published, still nothing to say */
    if ((copy = srv_malloc(out->len)) == NULL)
        return SRV_ENOMEM;
    memcpy(copy, out->data, out->len);
    if (pub == NULL) {
        np = (uri = srv_strdup(key)) != NULL
                 ? srv_realloc(s->published, (s->n_published + 1) * sizeof(*np))
                 : NULL;
        if (np == NULL) {
            srv_free(uri);
            srv_free(copy);
            return SRV_ENOMEM;
        }
        s->published = np;
        pub = &np[s->n_published++];
        pub->uri = uri;
        pub->key = NULL;
    }
    srv_free(pub->key);
    pub->key = copy;
    pub->key_len = out->len;
    return 1;
}

int srv_publish(srv_t *s, const char *uri, const lsp_diagnostic_t *d, size_t n)
{
    lsp_out_t out;
    int rc;
    if (lsp_encode_publish_diagnostics(uri, -1, "unasync", d, n, &out) != 0)
        return SRV_ENOMEM;
    rc = srv__remember(s, uri, &out, n);
    if (rc != 1) {
        lsp_out_free(&out);
        return rc;
    }
    return srv_send(s, &out);
}

/* Asks a pull client to pull again when an open document's diagnostics changed. */
static int srv__refresh_pull(srv_t *s)
{
    lsp_out_t out;
    int64_t id;
    int rc;
    if (!s->pull_refresh || !s->caps.diagnostic_refresh)
        return 0;
    id = s->next_id++;
    if (lsp_encode_request(id, "workspace/diagnostic/refresh", &out) != 0)
        return SRV_ENOMEM;
    if ((rc = srv_request(s, SRV_PENDING_REFRESH, &out, id)) == 0)
        s->pull_refresh = false;
    return rc;
}

/* Publishes the file's current set (push), unless the client pulls diagnostics for open
 * documents: then the open document is served by textDocument/diagnostic. */
static int srv__flush_file(srv_t *s, srv_file_t *f)
{
    lsp_related_t *rel = NULL;
    lsp_diagnostic_t *d = NULL;
    char *uri = srv__uri_for(s, f->path), *key = NULL;
    int rc = SRV_ENOMEM;
    if (uri == NULL || (d = srv__to_lsp(f, &rel)) == NULL)
        goto done;
    if (s->caps.pull_diagnostics && srv_doc_find_path(s, f->path) != NULL) {
        /* served by textDocument/diagnostic: clear what was pushed, note a change to pull */
        lsp_out_t out;
        if ((key = srv_malloc(strlen(uri) + 6)) == NULL)
            goto done;
        sprintf(key, "pull:%s", uri);
        if ((rc = srv_publish(s, uri, NULL, 0)) != 0)
            goto done;
        if (lsp_encode_diagnostic_report(NULL, d, f->n, &out) != 0) {
            rc = SRV_ENOMEM;
            goto done;
        }
        rc = srv__remember(s, key, &out, f->n);
        lsp_out_free(&out);
        if (rc == 1) {
            s->pull_refresh = true;
            rc = 0;
        }
    } else
        rc = srv_publish(s, uri, d, f->n);
done:
    srv_free(key);
    srv_free(d);
    srv_free(rel);
    srv_free(uri);
    return rc;
}

/* ------------------------------------------------------------------------ pair states */

static int srv__set_pair(srv_t *s, const char *root, const char *src, const char *twin, int state,
                         size_t hunks)
{
    srv_pair_t *np = NULL;
    char *a, *b, *c;
    size_t i;
    for (i = 0; i < s->n_pairs; i++)
        if (strcmp(s->pairs[i].source, src) == 0) {
            s->pairs[i].state = state;
            s->pairs[i].hunks = hunks;
            return 0;
        }
    a = srv_strdup(src);
    b = srv_strdup(twin);
    c = srv_strdup(root);
    if (a == NULL || b == NULL || c == NULL ||
        (np = srv_realloc(s->pairs, (s->n_pairs + 1) * sizeof(*np))) == NULL) {
        srv_free(a);
        srv_free(b);
        srv_free(c);
        return SRV_ENOMEM;
    }
    s->pairs = np;
    np[s->n_pairs].source = a;
    np[s->n_pairs].twin = b;
    np[s->n_pairs].root = c;
    np[s->n_pairs].state = state;
    np[s->n_pairs].hunks = hunks;
    s->n_pairs++;
    return 0;
}

int srv_update_status(srv_t *s)
{
    int64_t twins = (int64_t)s->n_pairs, stale = 0;
    size_t i;
    lsp_out_t out;
    int rc;
    for (i = 0; i < s->n_pairs; i++)
        if (s->pairs[i].state != SRV_PAIR_OK)
            stale++;
    if (twins == s->status_twins && stale == s->status_stale)
        return 0;
    if (lsp_encode_status(twins, stale, &out) != 0)
        return SRV_ENOMEM;
    if ((rc = srv_send(s, &out)) == 0) {
        s->status_twins = twins;
        s->status_stale = stale;
    }
    return rc;
}

/* ------------------------------------------------------------------------------ check */

static lsp_position_t srv__line_pos(size_t line)
{
    lsp_position_t p = {(int64_t)line, 0};
    return p;
}

/* Source line (0-based) that twin line `twin_line` (0-based, of the expected twin) came from. */
static size_t srv__source_line(const ue_twin *t, size_t twin_line)
{
    size_t off = ua_line_offset(t->expected, t->expected_len, (unsigned)twin_line + 1);
    size_t so = ua_map_to_source(&t->out.map, off);
    unsigned line = 1, col = 1;
    ua_offset_to_linecol(t->src_bytes, t->src_len, so, &line, &col);
    return line ? line - 1 : 0;
}

static bool srv__header_hunk(const ua_hunk *h)
{
    return h->a_line == 0 && h->a_count == 1 && h->b_line == 0 && h->b_count == 1;
}

/* Turns one check result into the diagnostics of its source and its twin and publishes them.
 * Returns 0, or SRV_ENOMEM with the previous sets kept (or SRV_EIO when sending failed). */
static int srv__diagnose(srv_t *s, ue_project *p, const ue_twin *t, srv_event_t ev)
{
    char *src = ue_abs(p, t->source), *twin = ue_abs(p, t->twin), *src_uri = NULL;
    char *fs_source = NULL, *ft_source = NULL;
    srv_file_t nfs = {0}, nft = {0}, *fs, *ft;
    ua_findings tf = {0};
    lsp_severity_t sev = s->settings.drift_severity;
    const char *tb = srv__base(t->twin), *sb = srv__base(t->source);
    lsp_range_t top = {{0, 0}, {0, 0}};
    srv_doc_t *twin_doc;
    size_t i;
    int pstate = SRV_PAIR_OK, rc = SRV_ENOMEM, sub;
    if (src == NULL || twin == NULL || (src_uri = srv__uri_for(s, src)) == NULL)
        goto done;
    if ((fs_source = srv_strdup(src)) == NULL || (ft_source = srv_strdup(src)) == NULL)
        goto done;
    /* create both entries first: creating one may move the other (realloc) */
    if (srv__file(s, src, true) == NULL || srv__file(s, twin, true) == NULL)
        goto done;
    top.end.line = 1;
    twin_doc = srv_doc_find_path(s, twin);

    /* The new sets are built apart and replace the old ones only when complete: running out of
     * memory half-way leaves the last complete sets, not a partial one. First the transformer's
     * findings (errors in the source, unused rules) on the source, with the lint's severities
     * and ignore comments, then the lint's own. */
    for (i = 0; i < t->out.findings.n; i++)
        if (ua_findings_copy(&tf, &t->out.findings.v[i]) != 0)
            goto done;
    if (t->src_bytes != NULL)
        ul_apply_ignores(t->source, t->src_bytes, t->src_len, &tf, NULL);
    ul_apply_levels(p->cfg, &tf, NULL);
    for (i = 0; i < tf.n; i++) {
        const ua_finding *f = &tf.v[i];
        lsp_range_t r;
        if (f->file == NULL || strcmp(f->file, t->source) != 0)
            continue;
        if (!s->settings.lint_enable && strncmp(f->code, "UA0", 3) == 0)
            continue;
        r.start = srv__line_pos(f->line ? f->line - 1 : 0);
        r.start.character = f->col ? f->col - 1 : 0;
        r.end = srv__line_pos(f->end_line ? f->end_line - 1 : r.start.line);
        r.end.character = f->end_col ? f->end_col - 1 : r.start.character + 1;
        if (srv__add_diag(&nfs, r, (lsp_severity_t)f->severity, f->code, false, "%s", f->message) !=
            0)
            goto done;
    }
    if ((sub = srv__lint_diags_now(s, p, t->source, src, &nfs)) != 0) {
        rc = sub;
        goto done;
    }
    switch (t->state) {
    case UE_OK:
        break;
    case UE_MISSING:
        pstate = SRV_PAIR_MISSING;
        if (srv__add_diag(&nfs, top, sev, "UA201", true, "%s is missing: run Regenerate %s", tb,
                          tb) != 0)
            goto done;
        break;
    case UE_STALE:
    case UE_EDITED: {
        /* The header's body hash changes with every body change: that hunk is a consequence,
         * not a drift of its own, unless it is the only one (a tampered header). */
        size_t n_hunks = 0;
        bool skip_header = false;
        for (i = 0; i < t->diff.n; i++)
            if (srv__header_hunk(&t->diff.hunks[i]))
                skip_header = t->diff.n > 1;
        n_hunks = t->diff.n - (skip_header ? 1 : 0);
        pstate = SRV_PAIR_STALE;
        if (srv__add_diag(&nfs, top, sev, t->state == UE_STALE ? "UA202" : "UA203", true,
                          "%s is out of date: %zu hunk%s", tb, n_hunks,
                          n_hunks == 1 ? "" : "s") != 0)
            goto done;
        for (i = 0; i < t->diff.n; i++) {
            const ua_hunk *h = &t->diff.hunks[i];
            srv_diag_t *d;
            if (skip_header && srv__header_hunk(h))
                continue;
            size_t sl = srv__source_line(t, h->b_line);
            size_t sl_end = h->b_count ? srv__source_line(t, h->b_line + h->b_count - 1) : sl;
            lsp_range_t r = {srv__line_pos(h->a_line), srv__line_pos(h->a_line + h->a_count)};
            if (h->a_count == 0) /* an insertion point: mark the line it goes before */
                r.end = srv__line_pos(h->a_line + 1);
            if (srv__add_diag(&nft, r, sev, t->state == UE_STALE ? "UA202" : "UA203", true,
                              "%s differs from what %s generates (%zu line%s expected from "
                              "%s:%zu)",
                              tb, sb, h->b_count, h->b_count == 1 ? "" : "s", sb, sl + 1) != 0)
                goto done;
            d = &nft.d[nft.n - 1];
            if ((d->rel_uri = srv_strdup(src_uri)) == NULL)
                goto done;
            d->rel_range.start = srv__line_pos(sl);
            d->rel_range.end = srv__line_pos(sl_end + 1);
        }
        if (twin_doc != NULL && twin_doc->changed_since_open && ev != SRV_EV_OPEN &&
            srv__add_diag(&nft, top, LSP_SEVERITY_WARNING, "UA203", false,
                          "this file is generated; edit %s instead", sb) != 0)
            goto done;
        break;
    }
    case UE_UNMANAGED:
        pstate = SRV_PAIR_ERROR;
        if (srv__add_diag(&nft, top, sev, "UA204", false,
                          "%s was not generated by unasync; it is never overwritten", tb) != 0 ||
            srv__add_diag(&nfs, top, sev, "UA204", false,
                          "%s exists but was not generated by unasync", tb) != 0)
            goto done;
        break;
    case UE_SOURCE_ERROR:
        pstate = SRV_PAIR_ERROR;
        break;
    case UE_IO_ERROR:
    default: {
        /* on the file that could not be read (a FIFO, a link out ...), saying why, as --check */
        const char *why = ue_strerror(t->err ? t->err : -EIO);
        pstate = SRV_PAIR_ERROR;
        if (srv__add_diag(t->err_twin ? &nft : &nfs, top, LSP_SEVERITY_ERROR, "UA400", false,
                          "cannot read %s: %s", t->err_twin ? tb : sb, why) != 0)
            goto done;
        break;
    }
    }
    if (srv__set_pair(s, p->root, src, twin, pstate, t->diff.n) != 0)
        goto done;
    /* complete: swap the new sets in (nothing below fails but sending them) */
    fs = srv__file(s, src, false);
    ft = srv__file(s, twin, false);
    srv__diags_clear(fs->d, fs->n);
    srv__diags_clear(ft->d, ft->n);
    fs->d = nfs.d;
    fs->n = nfs.n;
    ft->d = nft.d;
    ft->n = nft.n;
    memset(&nfs, 0, sizeof(nfs));
    memset(&nft, 0, sizeof(nft));
    srv_free(fs->source);
    srv_free(ft->source);
    fs->source = fs_source;
    ft->source = ft_source;
    fs_source = ft_source = NULL;
    rc = srv__flush_file(s, fs);
    /* a missing twin has no file to carry diagnostics: publish [] if it once had some */
    if ((sub = srv__flush_file(s, ft)) != 0 && rc == 0)
        rc = sub;
done:
    ua_findings_free(&tf);
    srv__diags_clear(nfs.d, nfs.n);
    srv__diags_clear(nft.d, nft.n);
    srv_free(fs_source);
    srv_free(ft_source);
    ua_free(src);
    ua_free(twin);
    srv_free(src_uri);
    return rc;
}

/* Checks one source of project p, reusing the last result when its inputs are unchanged.
 * publish = false only fills the cache (the idle pre-check while typing). Returns 0 or
 * SRV_ENOMEM. */
/* The engine's result for source rel of p: the cached one when its inputs are unchanged, else
 * a new check (then cached). The result belongs to the cache and stays valid until the next
 * check of any source; NULL when out of memory. */
static const ue_twin *srv__result(srv_t *s, ue_project *p, const char *rel)
{
    struct srv_engine *e = s->engine;
    srv_ov_t ovd = {s, p};
    ue_overlay ov = {srv__overlay_lookup, &ovd};
    const ue_twin *hit = srv__cache_hit(s, p, rel);
    ue_twin t;
    size_t i;
    if (hit != NULL)
        return hit;
    if (ue_check_source(p, e->ctx, rel, &ov, &t) != 0) {
        ue_twin_free(&t);
        return NULL;
    }
    srv__cache_put(s, p, &t);
    for (i = 0; i < e->n_cache; i++)
        if (e->cache[i].p == p && strcmp(e->cache[i].t.source, rel) == 0)
            return &e->cache[i].t;
    return NULL;
}

static int srv__check_source_ex(srv_t *s, ue_project *p, const char *rel, srv_event_t ev,
                                bool publish)
{
    const ue_twin *t = srv__result(s, p, rel);
    if (t == NULL)
        return SRV_ENOMEM;
    return publish ? srv__diagnose(s, p, t, ev) : 0;
}

static int srv__check_source(srv_t *s, ue_project *p, const char *rel, srv_event_t ev)
{
    return srv__check_source_ex(s, p, rel, ev, true);
}

/* Typing paused: check the edited source without publishing (drift is reported on save), so
 * that the save finds the transformer's work done. */
static void srv__on_idle(uv_timer_t *h)
{
    srv_t *s = h->data;
    struct srv_engine *e = s->engine;
    char *path = e->idle_path, *rel = NULL;
    ue_project *p = NULL;
    srv_file_t *f;
    int rc = 0;
    e->idle_path = NULL;
    if (path == NULL || s->exiting)
        goto done;
    if ((rc = srv__project_for(s, path, &p)) != 0 || p == NULL ||
        (rc = srv__rel(p, path, &rel)) != 0 || rel == NULL || !ue_is_source(p, rel, NULL))
        goto done;
    if ((rc = srv__check_source_ex(s, p, rel, SRV_EV_CHANGE, false)) != 0)
        goto done;
    /* lint while typing: only the lint diagnostics change, drift waits for the save */
    if ((f = srv__file(s, path, true)) == NULL) {
        rc = SRV_ENOMEM;
        goto done;
    }
    if ((rc = srv__lint_diags(s, p, rel, f)) == 0 && (rc = srv__flush_file(s, f)) == 0)
        rc = srv__refresh_pull(s);
done:
    if (rc != 0)
        srv_log(s, 1, "checking %s while typing failed: %s", path, srv_strerror(rc));
    srv_free(path);
    ua_free(rel);
}

/* How long input must pause before the lint that a drift publish did not wait for runs: a lint
 * reparse takes longer than a drift check, and must not hold up the next save. */
#define SRV_LINT_LATER_MS 50

static void srv__on_lint_later(uv_timer_t *h);

static int srv__schedule_idle(srv_t *s, const char *path)
{
    struct srv_engine *e = s->engine;
    char *copy;
    if (e->n_lint_paths > 0) /* typing goes on: the queued lint waits for a pause */
        uv_timer_start(e->lint_later, srv__on_lint_later, SRV_LINT_LATER_MS, 0);
    if (s->idle_ms == 0) /* switched off (bench/server) */
        return 0;
    if ((copy = srv_strdup(path)) == NULL)
        return SRV_ENOMEM;
    if (e->idle == NULL) {
        if ((e->idle = srv_malloc(sizeof(*e->idle))) == NULL) {
            srv_free(copy);
            return SRV_ENOMEM;
        }
        if (uv_timer_init(s->loop, e->idle) != 0) {
            srv_free(e->idle);
            e->idle = NULL;
            srv_free(copy);
            return SRV_EIO;
        }
        e->idle->data = s;
    }
    srv_free(e->idle_path);
    e->idle_path = copy;
    uv_timer_start(e->idle, srv__on_idle, s->idle_ms, 0);
    return 0;
}

/* The lint after a drift publish: every source waiting for it, one after another. */
static void srv__on_lint_later(uv_timer_t *h)
{
    srv_t *s = h->data;
    struct srv_engine *e = s->engine;
    int rc = 0;
    while (e->n_lint_paths > 0 && !s->exiting) {
        char *path = e->lint_paths[0], *rel = NULL;
        ue_project *p = NULL;
        srv_file_t *f;
        memmove(e->lint_paths, e->lint_paths + 1, --e->n_lint_paths * sizeof(*e->lint_paths));
        if ((rc = srv__project_for(s, path, &p)) == 0 && p != NULL &&
            (rc = srv__rel(p, path, &rel)) == 0 && rel != NULL && ue_is_source(p, rel, NULL)) {
            if ((f = srv__file(s, path, true)) == NULL)
                rc = SRV_ENOMEM;
            else if ((rc = srv__lint_diags(s, p, rel, f)) == 0)
                rc = srv__flush_file(s, f);
        }
        if (rc != 0)
            srv_log(s, 1, "linting %s failed: %s", path, srv_strerror(rc));
        srv_free(path);
        ua_free(rel);
    }
    if ((rc = srv__refresh_pull(s)) != 0)
        srv_log(s, 1, "refreshing diagnostics failed: %s", srv_strerror(rc));
}

/* A request that shows lint results (pull diagnostics, code actions, a lint fix) does not wait
 * for the pause: the queued lints run first. */
static void srv__lint_pending_now(srv_t *s)
{
    struct srv_engine *e = s->engine;
    if (e->n_lint_paths == 0)
        return;
    uv_timer_stop(e->lint_later);
    srv__on_lint_later(e->lint_later);
}

/* Queues source path (absolute) for srv__on_lint_later, which runs once input has paused for
 * SRV_LINT_LATER_MS (every queued lint and every keystroke push it back). */
static int srv__schedule_lint(srv_t *s, const char *path)
{
    struct srv_engine *e = s->engine;
    char **np, *copy;
    size_t i;
    for (i = 0; i < e->n_lint_paths; i++)
        if (strcmp(e->lint_paths[i], path) == 0) {
            uv_timer_start(e->lint_later, srv__on_lint_later, SRV_LINT_LATER_MS, 0);
            return 0;
        }
    if (e->lint_later == NULL) {
        if ((e->lint_later = srv_malloc(sizeof(*e->lint_later))) == NULL)
            return SRV_ENOMEM;
        if (uv_timer_init(s->loop, e->lint_later) != 0) {
            srv_free(e->lint_later);
            e->lint_later = NULL;
            return SRV_EIO;
        }
        e->lint_later->data = s;
    }
    if ((copy = srv_strdup(path)) == NULL)
        return SRV_ENOMEM;
    if ((np = srv_realloc(e->lint_paths, (e->n_lint_paths + 1) * sizeof(*np))) == NULL) {
        srv_free(copy);
        return SRV_ENOMEM;
    }
    e->lint_paths = np;
    e->lint_paths[e->n_lint_paths++] = copy;
    uv_timer_start(e->lint_later, srv__on_lint_later, SRV_LINT_LATER_MS, 0);
    return 0;
}

static int srv__watch_project(srv_t *s, ue_project *p);

/* Checks every source of a project. */
static int srv__check_project(srv_t *s, ue_project *p, const char *token, size_t *done,
                              size_t total)
{
    size_t i;
    int rc = 0, r;
    for (i = 0; i < p->nsources && !s->exiting; i++) {
        if ((r = srv__check_source(s, p, p->sources[i], SRV_EV_DISK)) != 0 && rc == 0)
            rc = r;
        if (token != NULL && total > 0) {
            lsp_out_t out;
            char msg[300];
            (*done)++;
            snprintf(msg, sizeof(msg), "%s", p->sources[i]);
            if (lsp_encode_progress(token, LSP_PROGRESS_REPORT, NULL, msg,
                                    (int)(*done * 100 / total), &out) == 0)
                srv_send(s, &out);
        }
    }
    if (!s->watching_by_client && (r = srv__watch_project(s, p)) != 0 && rc == 0)
        rc = r;
    return rc;
}

/* Finds the projects of every workspace folder: the folder's own unasync.json (or the nearest
 * above it), and those one and two levels below (a multi-project folder). */
static int srv__discover(srv_t *s)
{
    size_t i;
    int rc = 0, r;
    ue_project *p;
    for (i = 0; i < s->n_folders; i++) {
        char *cfg = NULL;
        uv_fs_t req;
        uv_dirent_t ent;
        if ((r = ue_find_config(s->folders[i].path, &cfg)) == 0)
            r = srv__project_by_config(s, cfg, false, &p);
        else if (r != UA_ENOMEM)
            r = 0;
        if (r != 0 && rc == 0)
            rc = r == UA_ENOMEM ? SRV_ENOMEM : r;
        ua_free(cfg);
        if (uv_fs_scandir(NULL, &req, s->folders[i].path, 0, NULL) < 0) {
            uv_fs_req_cleanup(&req);
            continue;
        }
        while (uv_fs_scandir_next(&req, &ent) != UV_EOF) {
            char path[PATH_MAX];
            if (ent.type != UV_DIRENT_DIR || ent.name[0] == '.' ||
                strcmp(ent.name, "node_modules") == 0 || strncmp(ent.name, "build", 5) == 0)
                continue;
            snprintf(path, sizeof(path), "%s/%s/%s", s->folders[i].path, ent.name, UE_CONFIG_NAME);
            if (access(path, R_OK) == 0) {
                char *c = srv__canonical(path);
                r = c ? srv__project_by_config(s, c, false, &p) : SRV_ENOMEM;
                if (r != 0 && rc == 0)
                    rc = r;
                srv_free(c);
            }
        }
        uv_fs_req_cleanup(&req);
    }
    return rc;
}

int srv_check_all(srv_t *s, const char *token)
{
    struct srv_engine *e = s->engine;
    size_t i, total = 0, done = 0;
    lsp_out_t out;
    int rc = srv__discover(s), r;
    for (i = 0; i < e->n_projects; i++)
        total += e->projects[i]->nsources;
    if (token != NULL && lsp_encode_progress(token, LSP_PROGRESS_BEGIN, "unasync: checking twins",
                                             NULL, 0, &out) == 0)
        srv_send(s, &out);
    for (i = 0; i < e->n_projects && !s->exiting; i++)
        if ((r = srv__check_project(s, e->projects[i], token, &done, total)) != 0 && rc == 0)
            rc = r;
    if (token != NULL) {
        char msg[100];
        int64_t stale = 0;
        size_t k;
        for (k = 0; k < s->n_pairs; k++)
            stale += s->pairs[k].state != SRV_PAIR_OK;
        snprintf(msg, sizeof(msg), "%zu twins, %lld out of date", s->n_pairs, (long long)stale);
        if (lsp_encode_progress(token, LSP_PROGRESS_END, NULL, msg, -1, &out) == 0)
            srv_send(s, &out);
    }
    if ((r = srv_update_status(s)) != 0 && rc == 0)
        rc = r;
    if ((r = srv__refresh_pull(s)) != 0 && rc == 0)
        rc = r;
    return rc;
}

int srv_check_path(srv_t *s, const char *path_in, srv_event_t ev)
{
    char *path = NULL, *rel = NULL, *src = NULL;
    ue_project *p = NULL;
    int rc = 0, r;
    if (s->exiting)
        return 0;
    if ((path = srv__canonical(path_in)) == NULL)
        return SRV_ENOMEM;
    if (strcmp(srv__base(path), UE_CONFIG_NAME) == 0) {
        /* the configuration changed: reload it and re-check its sources */
        if (s->n_folders == 0 || srv__in_folders(s, path)) {
            rc = srv__project_by_config(s, path, true, &p);
            if (p != NULL) {
                size_t dummy = 0;
                if ((r = srv__check_project(s, p, NULL, &dummy, 0)) != 0 && rc == 0)
                    rc = r;
            }
        }
        if ((r = srv_update_status(s)) != 0 && rc == 0)
            rc = r;
        goto done;
    }
    if ((rc = srv__project_for(s, path, &p)) != 0 || p == NULL ||
        (rc = srv__rel(p, path, &rel)) != 0 || rel == NULL)
        goto done;
    if (!ue_is_source(p, rel, NULL)) {
        if ((rc = srv__source_of(p, rel, &src)) != 0)
            goto done;
        if (src == NULL && ev == SRV_EV_DISK) { /* maybe a new source: list them again */
            ua_findings f = {0};
            srv__cache_clear(s->engine); /* the source list decides #include redirections */
            if (ue_project_rescan(p, &f) == UA_ENOMEM)
                rc = SRV_ENOMEM;
            ua_findings_free(&f);
            if (rc == 0 && !ue_is_source(p, rel, NULL))
                rc = srv__source_of(p, rel, &src);
            if (rc != 0)
                goto done;
        }
        if (src == NULL && !ue_is_source(p, rel, NULL))
            goto done;
    }
    /* typing in a source only changes its buffer: drift is checked on open and save, and the
     * check is prepared once typing pauses */
    if (ev == SRV_EV_CHANGE && src == NULL) {
        rc = srv__schedule_idle(s, path);
        goto done;
    }
    if ((r = srv__check_source(s, p, src ? src : rel, ev)) != 0 && rc == 0)
        rc = r;
    if ((r = srv_update_status(s)) != 0 && rc == 0)
        rc = r;
    if ((r = srv__refresh_pull(s)) != 0 && rc == 0)
        rc = r;
done:
    srv_free(path);
    ua_free(rel);
    ua_free(src);
    return rc;
}

int srv_encode_report(srv_t *s, const lsp_id_t *id, const char *path, lsp_out_t *out)
{
    char *c;
    srv_file_t *f;
    lsp_related_t *rel = NULL;
    lsp_diagnostic_t *d = NULL;
    int rc;
    bool oom;
    srv__lint_pending_now(s); /* before f is found: it may add files */
    c = path ? srv__canonical(path) : NULL;
    f = c ? srv__file(s, c, false) : NULL;
    oom = path != NULL && c == NULL;
    srv_free(c);
    if (oom)
        return SRV_ENOMEM;
    if (f != NULL && (d = srv__to_lsp(f, &rel)) == NULL)
        return SRV_ENOMEM;
    rc = lsp_encode_diagnostic_report(id, d, f ? f->n : 0, out);
    srv_free(d);
    srv_free(rel);
    return rc == 0 ? 0 : SRV_ENOMEM;
}

/* ------------------------------------------------------------------------- actions */

static bool srv__kind_allowed(const lsp_params_t *p, const char *kind)
{
    size_t i;
    if (!p->has_only)
        return true;
    for (i = 0; i < p->n_only; i++) {
        size_t n = strlen(p->only[i]);
        /* "source" allows "source.fixAll.unasync": a prefix up to a dot */
        if (strncmp(kind, p->only[i], n) == 0 && (kind[n] == '\0' || kind[n] == '.'))
            return true;
    }
    return false;
}

static bool srv__overlaps(lsp_range_t a, lsp_range_t b)
{
    if (a.end.line < b.start.line || b.end.line < a.start.line)
        return false;
    return true;
}

/* Appends the lint quick fixes of the lint diagnostics of f that overlap the range. */
static int srv__lint_actions(srv_t *s, const lsp_msg_t *m, srv_file_t *f, lsp_diagnostic_t *d,
                             lsp_code_action_t **acts, size_t *n, char ***args, size_t *nargs)
{
    const srv_lint_t *l = srv__lint_find(s->engine, f->path);
    size_t i, k;
    if (l == NULL || !srv__kind_allowed(&m->p, "quickfix"))
        return 0;
    for (i = 0; i < f->n; i++) {
        if (!f->d[i].lint || !srv__overlaps(f->d[i].range, m->p.range))
            continue;
        for (k = 0; k < l->r.fixes.n; k++) {
            const ul_fix *x = &l->r.fixes.v[k];
            lsp_code_action_t *na;
            char **nargs_v, *arg;
            if (strcmp(x->code, f->d[i].code) != 0 || x->line != f->d[i].f_line ||
                x->col != f->d[i].f_col)
                continue;
            na = srv_realloc(*acts, (*n + 1) * sizeof(*na));
            if (na == NULL)
                return SRV_ENOMEM;
            *acts = na;
            nargs_v = srv_realloc(*args, (*nargs + 1) * sizeof(*nargs_v));
            if (nargs_v == NULL)
                return SRV_ENOMEM;
            *args = nargs_v;
            /* the command argument names the fix: <document URI>#<line>:<col>:<code>:<index> */
            arg = srv_malloc(strlen(m->p.uri) + 64);
            if (arg == NULL)
                return SRV_ENOMEM;
            sprintf(arg, "%s#%u:%u:%s:%zu", m->p.uri, x->line, x->col, x->code, k);
            (*args)[(*nargs)++] = arg;
            memset(&na[*n], 0, sizeof(na[*n]));
            na[*n].title = x->title;
            na[*n].kind = "quickfix";
            na[*n].is_preferred = x->preferred != 0;
            na[*n].diagnostics = &d[i];
            na[*n].n_diagnostics = 1;
            na[*n].command = "unasync.lintFix";
            na[*n].command_title = x->title;
            na[*n].arg_uri = arg;
            (*n)++;
        }
    }
    return 0;
}

int srv_code_actions(srv_t *s, const lsp_msg_t *m, lsp_out_t *out)
{
    char *path = NULL, *c = NULL;
    int rc = srv_uri_path(m->p.uri, &path);
    srv__lint_pending_now(s);
    if (rc == 0 && path != NULL && (c = srv__canonical(path)) == NULL)
        rc = SRV_ENOMEM;
    srv_file_t *f = c ? srv__file(s, c, false) : NULL;
    lsp_code_action_t *acts = rc == 0 ? srv_calloc(2, sizeof(*acts)) : NULL;
    lsp_diagnostic_t *d = NULL, *sel = NULL;
    lsp_related_t *rel = NULL;
    size_t n = 0, i, nsel = 0, nargs = 0;
    char title[300], *src_uri = NULL, **args = NULL;
    bool drift = false;
    if (acts == NULL) {
        rc = rc != 0 ? rc : SRV_ENOMEM;
        goto done;
    }
    if (f != NULL) {
        for (i = 0; i < f->n; i++)
            drift = drift || f->d[i].drift;
        d = srv__to_lsp(f, &rel);
        if (d == NULL) {
            rc = SRV_ENOMEM;
            goto done;
        }
    }
    if (f != NULL && drift && f->source != NULL) {
        char *twin_base = NULL;
        size_t k;
        for (k = 0; k < s->n_pairs; k++)
            if (strcmp(s->pairs[k].source, f->source) == 0)
                twin_base = s->pairs[k].twin;
        src_uri = srv__uri_for(s, f->source);
        sel = srv_calloc(f->n, sizeof(*sel));
        if (src_uri == NULL || sel == NULL || twin_base == NULL) {
            rc = SRV_ENOMEM;
            goto done;
        }
        for (i = 0; i < f->n; i++)
            if (f->d[i].drift && srv__overlaps(f->d[i].range, m->p.range))
                sel[nsel++] = d[i];
        snprintf(title, sizeof(title), "Regenerate %s", srv__base(twin_base));
        if (nsel > 0 && srv__kind_allowed(&m->p, "quickfix")) {
            memset(&acts[n], 0, sizeof(acts[n]));
            acts[n].title = title;
            acts[n].kind = "quickfix";
            acts[n].is_preferred = true;
            acts[n].diagnostics = sel;
            acts[n].n_diagnostics = nsel;
            acts[n].command = "unasync.regenerate";
            acts[n].arg_uri = src_uri;
            n++;
        }
        if (m->p.has_only && srv__kind_allowed(&m->p, "source.fixAll.unasync")) {
            memset(&acts[n], 0, sizeof(acts[n]));
            acts[n].title = "Regenerate all out-of-date twins (unasync)";
            acts[n].kind = "source.fixAll.unasync";
            acts[n].command = "unasync.regenerateAll";
            n++;
        }
    }
    /* Fix-on-save: editors ask for source.fixAll *before* they save, so drift found at the last
     * save says nothing about the buffer being saved. Check the open buffer itself (the engine
     * reads open documents through the overlay; the result is cached per content). */
    if (c != NULL && src_uri == NULL && m->p.has_only &&
        srv__kind_allowed(&m->p, "source.fixAll.unasync")) {
        ue_project *p = NULL;
        char *prel = NULL, *src = NULL, *abs = NULL;
        const ue_twin *t = NULL;
        if ((rc = srv__project_for(s, c, &p)) != 0)
            goto done;
        if (p != NULL && (rc = srv__rel(p, c, &prel)) == 0 && prel != NULL) {
            if (!ue_is_source(p, prel, NULL))
                rc = srv__source_of(p, prel, &src);
            else if ((src = ua_strdup(prel)) == NULL)
                rc = SRV_ENOMEM;
        }
        if (rc != 0)
            goto done;
        if (src != NULL && (t = srv__result(s, p, src)) == NULL)
            rc = SRV_ENOMEM;
        if (t != NULL && t->expected != NULL &&
            (t->state == UE_MISSING || t->state == UE_STALE || t->state == UE_EDITED)) {
            abs = ue_abs(p, src);
            src_uri = abs ? srv__uri_for(s, abs) : NULL;
            if (src_uri != NULL) {
                snprintf(title, sizeof(title), "Regenerate %s", srv__base(t->twin));
                memset(&acts[n], 0, sizeof(acts[n]));
                acts[n].title = title;
                acts[n].kind = "source.fixAll.unasync";
                acts[n].command = "unasync.regenerate";
                acts[n].arg_uri = src_uri;
                n++;
            } else
                rc = SRV_ENOMEM;
        }
        ua_free(abs);
        ua_free(prel);
        ua_free(src);
        if (rc != 0)
            goto done;
    }
    if (f != NULL && (rc = srv__lint_actions(s, m, f, d, &acts, &n, &args, &nargs)) != 0)
        goto done;
    rc = lsp_encode_code_actions(&m->id, acts, n, s->caps.code_action_literals, out) == 0
             ? 0
             : SRV_ENOMEM;
done:
    srv_free(path);
    srv_free(c);
    srv_free(acts);
    srv_free(d);
    srv_free(sel);
    srv_free(rel);
    srv_free(src_uri);
    for (i = 0; i < nargs; i++)
        srv_free(args[i]);
    srv_free(args);
    return rc;
}

/* Sends one text edit of an open document as workspace/applyEdit. */
static int srv__apply_one(srv_t *s, srv_doc_t *doc, const char *label, size_t off, size_t del,
                          const char *text)
{
    lsp_text_edit_t ed;
    lsp_out_t out;
    int64_t id = s->next_id++;
    if (off > doc->len || del > doc->len - off)
        return SRV_EINVAL;
    ed.range.start = srv_text_position(doc->text, doc->len, off, s->utf8);
    ed.range.end = srv_text_position(doc->text, doc->len, off + del, s->utf8);
    ed.new_text = text;
    if (lsp_encode_apply_edit(id, label, doc->uri, s->caps.document_changes ? doc->version : -1,
                              &ed, 1, &out) != 0)
        return SRV_ENOMEM;
    return srv_request(s, SRV_PENDING_APPLY_EDIT, &out, id);
}

int srv_lint_fix(srv_t *s, const char *arg)
{
    const char *hash = arg ? strrchr(arg, '#') : NULL;
    char *uri = NULL, *path = NULL, *c = NULL, *target = NULL, code[8] = "";
    unsigned line = 0, col = 0;
    size_t k = 0;
    const srv_lint_t *l;
    const ul_fix *x;
    srv_doc_t *doc;
    int rc = SRV_EINVAL;
    srv__lint_pending_now(s);
    if (hash == NULL || sscanf(hash + 1, "%u:%u:%7[A-Z0-9]:%zu", &line, &col, code, &k) != 4)
        return SRV_EINVAL;
    if ((uri = srv_strndup(arg, (size_t)(hash - arg))) == NULL)
        return SRV_ENOMEM;
    if ((rc = srv_uri_path(uri, &path)) != 0 ||
        (path != NULL && (c = srv__canonical(path)) == NULL)) {
        rc = SRV_ENOMEM;
        goto done;
    }
    rc = SRV_EINVAL;
    l = c ? srv__lint_find(s->engine, c) : NULL;
    if (l == NULL || k >= l->r.fixes.n)
        goto done;
    x = &l->r.fixes.v[k];
    if (strcmp(x->code, code) != 0 || x->line != line || x->col != col)
        goto done;
    rc = SRV_ENOMEM;
    if ((target = ue_abs(l->p, x->file)) == NULL)
        goto done;
    if (!srv__in_folders(s, target)) {
        rc = SRV_EOUTSIDE;
        goto done;
    }
    doc = srv_doc_find_path(s, target);
    if (doc != NULL && strcmp(target, c) == 0 &&
        !srv__same(doc->text, doc->len, l->bytes, l->len)) {
        rc = SRV_EINVAL; /* typed since the lint ran: its offsets no longer apply */
        srv_log(s, 2, "%s changed since the lint ran; try the quick fix again", target);
    } else if (doc != NULL) {
        rc = srv__apply_one(s, doc, x->title, x->off, x->len, x->text);
    } else {
        /* not open (unasync.json, usually): edit the file on disk, atomically */
        char *bytes = NULL, *fixed = NULL;
        size_t len = 0, flen = 0;
        struct stat st;
        rc = ue_read_file(target, &bytes, &len) == 0 &&
                     ul_fix_apply(x, bytes, len, &fixed, &flen) == 0 &&
                     ue_write_atomic(target, fixed, flen,
                                     stat(target, &st) == 0 ? st.st_mode & 07777 : 0644) == 0
                 ? 0
                 : SRV_EIO;
        ua_free(bytes);
        ua_free(fixed);
        if (rc == 0) {
            int r;
            srv_log(s, 4, "%s: %s", target, x->title);
            /* the fix is on disk: a failed re-check does not undo it */
            if ((r = srv_check_path(s, target, SRV_EV_DISK)) != 0)
                srv_log(s, 1, "re-checking %s failed: %s", target, srv_strerror(r));
        }
    }
done:
    srv_free(uri);
    srv_free(path);
    srv_free(c);
    ua_free(target);
    return rc;
}

/* Regenerates the twin of one source of p. */
static int srv__regenerate_one(srv_t *s, ue_project *p, const char *rel)
{
    const ue_twin *tp = srv__result(s, p, rel);
    char *twin = NULL;
    srv_doc_t *doc;
    int rc = 0, r;
    if (tp == NULL)
        return SRV_ENOMEM;
    if (tp->state == UE_OK || tp->expected == NULL)
        return tp->state == UE_OK ? 0 : SRV_EENGINE;
    twin = ue_abs(p, tp->twin);
    if (twin == NULL) {
        rc = SRV_ENOMEM;
        goto done;
    }
    if (!srv__in_folders(s, twin)) {
        srv_log(s, 2, "refusing to write %s: outside the workspace folders", twin);
        rc = SRV_EOUTSIDE;
        goto done;
    }
    doc = srv_doc_find_path(s, twin);
    {
        /* the refusal ue_write_twin makes: never through a link, open in the editor or not
         * (saving an applyEdit would write through it) */
        struct stat st;
        if (lstat(twin, &st) == 0 && S_ISLNK(st.st_mode)) {
            srv_log(s, 2, "refusing to write %s: the twin is a symbolic link", twin);
            rc = SRV_EOUTSIDE;
            goto done;
        }
    }
    if (doc != NULL && tp->actual != NULL && tp->state != UE_UNMANAGED) {
        /* open in the editor: minimal hunks as a workspace/applyEdit */
        lsp_text_edit_t *edits = srv_calloc(tp->diff.n ? tp->diff.n : 1, sizeof(*edits));
        char **texts = srv_calloc(tp->diff.n ? tp->diff.n : 1, sizeof(char *));
        lsp_out_t out;
        size_t i;
        int64_t id = s->next_id++;
        char label[300];
        rc = edits && texts ? 0 : SRV_ENOMEM;
        for (i = 0; rc == 0 && i < tp->diff.n; i++) {
            const ua_hunk *h = &tp->diff.hunks[i];
            size_t a0 = ua_line_offset(tp->actual, tp->actual_len, (unsigned)h->a_line + 1);
            size_t a1 =
                ua_line_offset(tp->actual, tp->actual_len, (unsigned)(h->a_line + h->a_count) + 1);
            size_t b0 = ua_line_offset(tp->expected, tp->expected_len, (unsigned)h->b_line + 1);
            size_t b1 = ua_line_offset(tp->expected, tp->expected_len,
                                       (unsigned)(h->b_line + h->b_count) + 1);
            edits[i].range.start = srv_text_position(tp->actual, tp->actual_len, a0, s->utf8);
            edits[i].range.end = srv_text_position(tp->actual, tp->actual_len, a1, s->utf8);
            texts[i] = srv_strndup(tp->expected + b0, b1 - b0);
            edits[i].new_text = texts[i];
            if (texts[i] == NULL)
                rc = SRV_ENOMEM;
        }
        snprintf(label, sizeof(label), "Regenerate %s", srv__base(tp->twin));
        if (rc == 0)
            rc = lsp_encode_apply_edit(id, label, doc->uri,
                                       s->caps.document_changes ? doc->version : -1, edits,
                                       tp->diff.n, &out) == 0
                     ? srv_request(s, SRV_PENDING_APPLY_EDIT, &out, id)
                     : SRV_ENOMEM;
        for (i = 0; texts && i < tp->diff.n; i++)
            srv_free(texts[i]);
        srv_free(texts);
        srv_free(edits);
    } else {
        ua_findings f = {0};
        int wrote = 0;
        rc = ue_write_twin(p, tp, 0, &wrote, &f);
        if (rc != 0) {
            srv_log(s, 1, "cannot write %s: %s", twin,
                    f.n ? f.v[0].message : ua_strerror(rc == 1 ? UA_EINVAL : rc));
            rc = rc == 1 ? SRV_EINVAL : rc == UA_ENOMEM ? SRV_ENOMEM : SRV_EIO;
        } else
            srv_log(s, 4, "%s %s", wrote ? "wrote" : "unchanged", twin);
        ua_findings_free(&f);
        /* re-checking replaces the cached result: t is not used after this; the twin is
         * written, so a failed re-check is logged, not reported as a failed regenerate */
        if (rc == 0 && (r = srv_check_path(s, twin, SRV_EV_DISK)) != 0)
            srv_log(s, 1, "re-checking %s failed: %s", twin, srv_strerror(r));
    }
done:
    ua_free(twin);
    return rc;
}

int srv_regenerate(srv_t *s, const char *path)
{
    struct srv_engine *e = s->engine;
    int rc = 0, r;
    size_t i, k;
    if (path == NULL) {
        int found = srv__discover(s);
        for (i = 0; i < e->n_projects; i++)
            for (k = 0; k < e->projects[i]->nsources; k++)
                if ((r = srv__regenerate_one(s, e->projects[i], e->projects[i]->sources[k])) != 0 &&
                    r != SRV_EOUTSIDE && rc == 0) /* regenerateAll skips what it may not write */
                    rc = r;
        if ((r = srv_update_status(s)) != 0 && rc == 0)
            rc = r;
        return found != 0 ? found : rc;
    }
    {
        char *c = srv__canonical(path), *rel = NULL, *src = NULL;
        ue_project *p = NULL;
        if (c == NULL)
            return SRV_ENOMEM;
        if (!srv__in_folders(s, c)) {
            srv_free(c);
            return SRV_EOUTSIDE;
        }
        if ((rc = srv__project_for(s, c, &p)) == 0) {
            if (p != NULL && (rc = srv__rel(p, c, &rel)) == 0 && rel != NULL &&
                !ue_is_source(p, rel, NULL))
                rc = srv__source_of(p, rel, &src);
            if (rc == 0 && (rel == NULL || (src == NULL && !ue_is_source(p, rel, NULL))))
                rc = SRV_ENOTFOUND;
            else if (rc == 0)
                rc = srv__regenerate_one(s, p, src ? src : rel);
        }
        srv_free(c);
        ua_free(rel);
        ua_free(src);
        /* the status notification follows the twins: its failure is not the command's */
        if ((r = srv_update_status(s)) != 0)
            srv_log(s, 1, "sending unasync/status failed: %s", srv_strerror(r));
        return rc;
    }
}

/* ------------------------------------------------------------------------- navigation */

/* Maps a position in a twin to its source: the source's absolute path (release it with
 * ua_free), its text (for the encoding) and the byte offset. Returns 0, 1 when the document is
 * not a twin, or SRV_ENOMEM. */
static int srv__twin_to_source(srv_t *s, const lsp_msg_t *m, char **src_abs, const ue_twin **tp,
                               size_t *src_off, size_t *twin_line)
{
    const ue_twin *t = NULL;
    char *path = NULL, *c = NULL, *rel = NULL, *src = NULL;
    ue_project *p = NULL;
    srv_doc_t *doc = srv_doc_find(s, m->p.uri);
    const char *text;
    size_t len, off;
    int rc = srv_uri_path(m->p.uri, &path);
    if (rc != 0 || path == NULL)
        goto done;
    if ((c = srv__canonical(path)) == NULL) {
        rc = SRV_ENOMEM;
        goto done;
    }
    rc = srv__project_for(s, c, &p);
    if (rc != 0)
        goto done;
    rc = 1;
    if (p == NULL || (rc = srv__rel(p, c, &rel)) != 0 || rel == NULL ||
        (rc = srv__source_of(p, rel, &src)) != 0 || src == NULL) {
        rc = rc ? rc : 1;
        goto done;
    }
    rc = 1;
    if ((t = srv__result(s, p, src)) == NULL) {
        rc = SRV_ENOMEM;
        goto done;
    }
    if (t->expected == NULL)
        goto done;
    *tp = t;
    /* positions are in the client's buffer of the twin (else the file on disk) */
    text = doc ? doc->text : t->actual ? t->actual : t->expected;
    len = doc ? doc->len : t->actual ? t->actual_len : t->expected_len;
    off = srv_text_offset(text, len, m->p.position, s->utf8);
    *twin_line = (size_t)srv_text_position(text, len, off, true).line;
    if (*twin_line == 0 || off < t->out.header_len) {
        *src_off = 0;
    } else
        *src_off = ua_map_to_source(&t->out.map, off);
    *src_abs = ue_abs(p, src);
    rc = *src_abs ? 0 : SRV_ENOMEM;
done:
    srv_free(path);
    srv_free(c);
    ua_free(rel);
    ua_free(src);
    return rc;
}

int srv_hover(srv_t *s, const lsp_msg_t *m, lsp_out_t *out)
{
    char *src = NULL, *uri = NULL, md[1024];
    const ue_twin *t = NULL;
    size_t off = 0, tl = 0;
    unsigned line = 1, col = 1;
    int rc = srv__twin_to_source(s, m, &src, &t, &off, &tl);
    if (rc != 0)
        return rc < 0 ? rc : lsp_encode_null_result(&m->id, out) == 0 ? 0 : SRV_ENOMEM;
    ua_offset_to_linecol(t->src_bytes, t->src_len, off, &line, &col);
    if ((uri = srv__uri_for(s, src)) != NULL) {
        snprintf(md, sizeof(md), "generated from [%s:%u](%s#L%u)%s", srv__base(src), line, uri,
                 line, t->state == UE_OK ? "" : " (this twin is out of date: regenerate it)");
        rc = lsp_encode_hover(&m->id, md, NULL, out) == 0 ? 0 : SRV_ENOMEM;
    } else
        rc = SRV_ENOMEM;
    srv_free(uri);
    ua_free(src);
    return rc;
}

int srv_definition(srv_t *s, const lsp_msg_t *m, lsp_out_t *out)
{
    char *src = NULL, *uri = NULL;
    const ue_twin *t = NULL;
    size_t off = 0, tl = 0;
    lsp_location_t loc;
    srv_doc_t *sd;
    int rc = srv__twin_to_source(s, m, &src, &t, &off, &tl);
    if (rc != 0)
        return rc < 0 ? rc : lsp_encode_null_result(&m->id, out) == 0 ? 0 : SRV_ENOMEM;
    uri = srv__uri_for(s, src);
    sd = srv_doc_find_path(s, src);
    loc.uri = uri;
    loc.range.start = sd ? srv_text_position(sd->text, sd->len, off, s->utf8)
                         : srv_text_position(t->src_bytes, t->src_len, off, s->utf8);
    loc.range.end = loc.range.start;
    rc = uri && lsp_encode_locations(&m->id, &loc, 1, out) == 0 ? 0 : SRV_ENOMEM;
    srv_free(uri);
    ua_free(src);
    return rc;
}

/* --------------------------------------------------------------------- libuv watching */

static void srv__on_fs_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
    srv_t *s = h->data;
    char dir[PATH_MAX], path[2 * PATH_MAX + 2];
    size_t n = sizeof(dir);
    size_t len;
    int rc;
    if (status != 0 || filename == NULL || s->exiting || uv_fs_event_getpath(h, dir, &n) != 0)
        return;
    len = strlen(filename);
    if (!(strcmp(filename, UE_CONFIG_NAME) == 0 ||
          (len > 2 &&
           (strcmp(filename + len - 2, ".c") == 0 || strcmp(filename + len - 2, ".h") == 0))))
        return;
    snprintf(path, sizeof(path), "%s/%s", dir, filename);
    /* an open document is the editor's: its buffer, not the disk, is what counts */
    if (srv_doc_find_path(s, path) == NULL && (rc = srv_check_path(s, path, SRV_EV_DISK)) != 0)
        srv_log(s, 1, "checking %s after it changed on disk failed: %s", path, srv_strerror(rc));
}

static int srv__watch_dir(srv_t *s, const char *dir)
{
    struct srv_engine *e = s->engine;
    srv_watch_t *nw;
    uv_fs_event_t *h;
    char *copy;
    size_t i;
    for (i = 0; i < e->n_watches; i++)
        if (strcmp(e->watches[i].dir, dir) == 0)
            return 0;
    if ((copy = srv_strdup(dir)) == NULL)
        return SRV_ENOMEM;
    nw = srv_realloc(e->watches, (e->n_watches + 1) * sizeof(*nw));
    h = nw != NULL ? srv_malloc(sizeof(*h)) : NULL;
    if (nw != NULL)
        e->watches = nw;
    if (h == NULL || uv_fs_event_init(s->loop, h) != 0) {
        srv_free(h);
        srv_free(copy);
        return h == NULL ? SRV_ENOMEM : SRV_EIO;
    }
    h->data = s;
    if (uv_fs_event_start(h, srv__on_fs_event, dir, 0) != 0) {
        /* a folder that cannot be watched (gone, or no watches left): checked on events only */
        uv_close((uv_handle_t *)h, srv_free_handle);
        srv_free(copy);
        return 0;
    }
    nw[e->n_watches].dir = copy;
    nw[e->n_watches].h = h;
    e->n_watches++;
    return 0;
}

static int srv__watch_project(srv_t *s, ue_project *p)
{
    size_t i;
    int rc = srv__watch_dir(s, p->root), r;
    for (i = 0; i < p->nsources; i++) {
        char *abs = ue_abs(p, p->sources[i]), *slash = abs ? strrchr(abs, '/') : NULL;
        if (abs == NULL)
            r = SRV_ENOMEM;
        else if (slash != NULL) {
            *slash = '\0';
            r = srv__watch_dir(s, abs);
        } else
            r = 0;
        if (r != 0 && rc == 0)
            rc = r;
        ua_free(abs);
    }
    return rc;
}

int srv_watch_folders(srv_t *s)
{
    size_t i;
    int rc = 0, r;
    if (s->engine == NULL)
        return 0;
    for (i = 0; i < s->n_folders; i++)
        if ((r = srv__watch_dir(s, s->folders[i].path)) != 0 && rc == 0)
            rc = r;
    return rc;
}

/* --------------------------------------------------------------------------- lifetime */

int srv_engine_new(srv_t *s)
{
    s->engine = srv_calloc(1, sizeof(*s->engine));
    if (s->engine == NULL)
        return SRV_ENOMEM;
    s->engine->ctx = ua_ctx_new(); /* NULL is accepted by the transformer: per-call index */
    return 0;
}

void srv_engine_free(srv_t *s)
{
    struct srv_engine *e = s->engine;
    size_t i;
    if (e == NULL)
        return;
    srv__cache_clear(e);
    for (i = 0; i < e->n_projects; i++)
        ue_project_free(e->projects[i]);
    srv_free(e->projects);
    srv_free(e->idle_path);
    if (e->idle != NULL)
        uv_close((uv_handle_t *)e->idle, srv_free_handle);
    for (i = 0; i < e->n_lint_paths; i++)
        srv_free(e->lint_paths[i]);
    srv_free(e->lint_paths);
    if (e->lint_later != NULL)
        uv_close((uv_handle_t *)e->lint_later, srv_free_handle);
    for (i = 0; i < e->n_files; i++) {
        srv_free(e->files[i].path);
        srv_free(e->files[i].source);
        srv__diags_clear(e->files[i].d, e->files[i].n);
    }
    srv_free(e->files);
    for (i = 0; i < e->n_watches; i++) {
        uv_fs_event_stop(e->watches[i].h);
        uv_close((uv_handle_t *)e->watches[i].h, srv_free_handle);
        srv_free(e->watches[i].dir);
    }
    srv_free(e->watches);
    ua_ctx_free(e->ctx);
    srv__lint_forget(e, NULL);
    srv_free(e->lints);
    ul_ctx_free(e->lint);
    srv_free(e);
    s->engine = NULL;
}
