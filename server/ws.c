/* The workspace core's state over the shared engine: lifetime, documents (the engine's overlay),
 * folders, the engine and lint caches, diagnostic sets, pair states and the status, projects and
 * their discovery. Reports through ws_hooks only (no LSP, no JSON, no event loop). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ws_int.h"

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

void ws__log(ws_t *ws, int level, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ws->h.log(ws->h.ud, level, msg);
}

const char *ws__base(const char *p)
{
    const char *b = strrchr(p, '/');
    return b ? b + 1 : p;
}

bool ws__in_folders(const ws_t *ws, const char *path)
{
    for (size_t i = 0; i < ws->n_folders; i++)
        if (srv_path_under(path, ws->folders[i].path))
            return true;
    return false;
}

/* Canonical path (realpath of the folder, the file name kept: the file may not exist). */
char *ws__canonical(const char *path)
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

bool ws__same(const char *a, size_t alen, const char *b, size_t blen)
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
    /* the transformer would take NULL (an index per call), but out of memory is said, never
     * absorbed into a slower server */
    if ((ws->ctx = ua_ctx_new()) == NULL) {
        srv_free(ws);
        return SRV_ENOMEM;
    }
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

void ws__diags_clear(ws_diag *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        srv_free(d[i].message);
        srv_free(d[i].rel_path);
    }
    srv_free(d);
}

/* Drops live state i (the table's order is not kept). */
static void ws__live_drop(ws_t *ws, size_t i)
{
    ue_live_free(ws->lives[i].l);
    srv_free(ws->lives[i].path);
    ws->lives[i] = ws->lives[--ws->n_lives];
}

void ws__cache_clear(ws_t *ws)
{
    for (size_t i = 0; i < ws->n_cache; i++)
        ue_twin_free(&ws->cache[i].t);
    srv_free(ws->cache);
    ws->cache = NULL;
    ws->n_cache = 0;
    while (ws->n_lives > 0)
        ws__live_drop(ws, ws->n_lives - 1);
    srv_free(ws->lives);
    ws->lives = NULL;
}

/* Forgets the lint results and kept units of project p (NULL: of every project) before it is
 * freed. A running job is waited for first; one of p's drops its result when it is done. */
static void ws__lint_forget(ws_t *ws, const ue_project *p)
{
    size_t i = 0;
    ws__lint_quiesce(ws);
    if (ws->job != NULL && (p == NULL || ws->job->p == p))
        ws->job->p = NULL;
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
    ws__lint_quiesce(ws); /* a running lint reads its project */
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
    if (ws->job != NULL) { /* finished (above); its done callback, still to come, frees it */
        ws->job->ws = NULL;
        ws->job->detached = true;
    }
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
            for (size_t k = 0; d->path != NULL && k < ws->n_lives; k++)
                if (strcmp(ws->lives[k].path, d->path) == 0) {
                    ws__live_drop(ws, k); /* the file on disk counts again */
                    break;
                }
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

/* The engine's overlay cannot say "out of memory" (NULL is "not open"): the document is found
 * by comparing its path with root "/" rel in place, allocating nothing. */
static const char *ws__overlay_lookup(void *ud, const char *rel, size_t *len)
{
    ws_ov *ov = ud;
    const char *root = ov->p->root;
    size_t rl = strlen(root);
    ws_doc *d = NULL;
    for (size_t i = 0; i < ov->ws->n_docs && d == NULL; i++) {
        const char *path = ov->ws->docs[i]->path;
        if (path != NULL && strncmp(path, root, rl) == 0 && path[rl] == '/' &&
            strcmp(path + rl + 1, rel) == 0)
            d = ov->ws->docs[i];
    }
    if (d == NULL)
        return NULL;
    *len = d->len;
    return d->text ? d->text : "";
}

/* An overlay lookup (ud: a ws_ov) of the open documents alone: their bytes for rel, or NULL
 * when no editor has rel open. The fix-all's overlay asks it for what its plans did not change. */
const char *ws__doc_bytes(void *ud, const char *rel, size_t *len)
{
    return ws__overlay_lookup(ud, rel, len);
}

/* The bytes ue_check_source would read for rel: the open document, else the file. Returns 0
 * with *owned set when the bytes were read from disk (release them with ua_free), 1 when rel
 * does not exist, or SRV_ENOMEM. */
int ws__current_bytes(ws_ov *ov, const char *rel, const char **bytes, size_t *len, char **owned)
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

/* The one edit that turns a[0, na) into b[0, nb): the common prefix and suffix are kept, the
 * rest of a, [*off, *off + *olen), becomes b's [*off, *off + *nlen). Compared a word at a time
 * (memcmp), at memory speed: the re-transform that follows costs only the edited lines. */
static void ws__edit_between(const char *a, size_t na, const char *b, size_t nb, size_t *off,
                             size_t *olen, size_t *nlen)
{
    size_t n = na < nb ? na : nb, p = 0, s = 0;
    enum { STEP = 4096 };
    while (p + STEP <= n && memcmp(a + p, b + p, STEP) == 0)
        p += STEP;
    while (p < n && a[p] == b[p])
        p++;
    size_t room = n - p; /* the suffix may not overlap the prefix */
    while (s + STEP <= room && memcmp(a + na - s - STEP, b + nb - s - STEP, STEP) == 0)
        s += STEP;
    while (s < room && a[na - s - 1] == b[nb - s - 1])
        s++;
    *off = p;
    *olen = na - p - s;
    *nlen = nb - p - s;
}

/* Whether the twin that live state l last read is the one the overlay or the disk holds now. */
static int ws__live_twin_same(ws_ov *ovd, const ue_live *l, const char *twin_rel, bool *same)
{
    const char *b, *was;
    size_t n, wn;
    char *owned;
    int rc = ws__current_bytes(ovd, twin_rel, &b, &n, &owned);
    if (rc < 0)
        return rc;
    was = ue_live_actual(l, &wn);
    *same = rc == 1 ? was == NULL : was != NULL && ws__same(b, n, was, wn);
    ua_free(owned);
    return 0;
}

/* The live state of open source rel (absolute path abs, buffer d), brought up to date with the
 * buffer and the twin; made when there is none. 0 with *out, or SRV_ENOMEM (the state is
 * dropped: the next call starts afresh). */
static int ws__live_for(ws_t *ws, ue_project *p, const char *rel, const char *abs,
                        const ws_doc *d, const ue_overlay *ov, ue_live **out)
{
    ws_ov *ovd = ov->ud;
    const char *text = d->text ? d->text : "";
    size_t i = 0;
    while (i < ws->n_lives && strcmp(ws->lives[i].path, abs) != 0)
        i++;
    if (i < ws->n_lives && ws->lives[i].p != p) {
        ws__live_drop(ws, i); /* another project now: start afresh */
        i = ws->n_lives;
    }
    if (i == ws->n_lives) {
        ws_live *nl = srv_realloc(ws->lives, (ws->n_lives + 1) * sizeof *nl);
        if (nl == NULL)
            return SRV_ENOMEM;
        ws->lives = nl;
        nl[i].p = p;
        if ((nl[i].path = srv_strdup(abs)) == NULL)
            return SRV_ENOMEM;
        int rc = ue_live_new(p, rel, text, d->len, ov, &nl[i].l);
        if (rc != 0) {
            srv_free(nl[i].path);
            return rc == UA_ENOMEM ? SRV_ENOMEM : SRV_EINVAL;
        }
        ws->n_lives++;
        *out = nl[i].l;
        return 0;
    }
    ue_live *l = ws->lives[i].l;
    size_t had, off, olen, nlen;
    const char *was = ue_live_source(l, &had);
    ws__edit_between(was, had, text, d->len, &off, &olen, &nlen);
    int rc = olen || nlen ? ue_live_edit(l, off, olen, text + off, nlen) : 0;
    char *twin_rel = rc == 0 ? ue_twin_of(p, rel) : NULL;
    bool same = true;
    if (rc == 0 && twin_rel == NULL)
        rc = SRV_ENOMEM;
    if (rc == 0 && (rc = ws__live_twin_same(ovd, l, twin_rel, &same)) == 0 && !same)
        rc = ue_live_twin_changed(l, ov);
    ua_free(twin_rel);
    if (rc != 0) {
        ws__live_drop(ws, i);
        return rc == UA_ENOMEM || rc == SRV_ENOMEM ? SRV_ENOMEM : rc;
    }
    *out = l;
    return 0;
}

void ws_live_counts(const ws_t *ws, size_t *states, size_t *edits, size_t *full_transforms,
                    size_t *full_checks)
{
    *states = ws->n_lives;
    *edits = *full_transforms = *full_checks = 0;
    for (size_t i = 0; i < ws->n_lives; i++) {
        ue_live_stats st;
        ue_live_get_stats(ws->lives[i].l, &st);
        *edits += st.edits;
        *full_transforms += st.full_transforms;
        *full_checks += st.full_checks;
    }
}

/* The live state of source rel when an editor has it open (ws__live_for): 0 with *l; 1 when rel
 * is not open, not a source, or its buffer cannot be transformed live (check it whole); or
 * SRV_ENOMEM. */
static int ws__live_of(ws_t *ws, ue_project *p, const char *rel, const ue_overlay *ov,
                       ue_live **l)
{
    char *abs = ue_abs(p, rel);
    if (abs == NULL)
        return SRV_ENOMEM;
    const ws_doc *d = ws_doc_find_path(ws, abs);
    int rc = d == NULL || !ue_is_source(p, rel, NULL) ? 1 : ws__live_for(ws, p, rel, abs, d, ov, l);
    ua_free(abs);
    return rc == SRV_EINVAL ? 1 : rc;
}

int ws__live_open(ws_t *ws, ue_project *p, const char *rel)
{
    ws_ov ovd = {ws, p};
    ue_overlay ov = {ws__overlay_lookup, &ovd};
    ue_live *l;
    int rc = ws__live_of(ws, p, rel, &ov, &l);
    return rc == 1 ? 0 : rc;
}

/* For a source open in the editor, the check built from its live state (the same result
 * ue_check_source gives): 0 with *t, 1 when rel is not open or not a source (check it whole),
 * or SRV_ENOMEM. */
static int ws__live_check(ws_t *ws, ue_project *p, const char *rel, const ue_overlay *ov,
                          ue_twin *t)
{
    ue_live *l = NULL;
    int rc = ws__live_of(ws, p, rel, ov, &l);
    if (rc != 0)
        return rc;
    return ue_live_twin(l, t) == 0 ? 0 : SRV_ENOMEM;
}

/* The engine's result for source rel of p: the cached one when its inputs are unchanged, else
 * a new check (then cached): from the live state of an open source, else whole. The result
 * belongs to the cache and stays valid until the next check of any source; NULL when out of
 * memory. */
const ue_twin *ws__result(ws_t *ws, ue_project *p, const char *rel)
{
    const ue_twin *hit = ws__cache_hit(ws, p, rel);
    if (hit != NULL)
        return hit;
    ws_ov ovd = {ws, p};
    ue_overlay ov = {ws__overlay_lookup, &ovd};
    ue_twin t;
    memset(&t, 0, sizeof t);
    int rc = ws__live_check(ws, p, rel, &ov, &t);
    if (rc == 1)
        rc = ue_check_source(p, ws->ctx, rel, &ov, &t);
    if (rc != 0) {
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

ws_lint *ws__lint_find(ws_t *ws, const char *path)
{
    for (size_t i = 0; i < ws->n_lints; i++)
        if (strcmp(ws->lints[i].path, path) == 0)
            return &ws->lints[i];
    return NULL;
}

/* ------------------------------------------------------------------------ lint jobs */

/* The lint asks the overlay for the configuration alone (ul_lint.c's config_bytes): a job
 * carries a copy of an open unasync.json, so that its worker never reads the documents. */
static const char *ws__job_lookup(void *ud, const char *rel, size_t *len)
{
    const ws_lint_job *j = ud;
    if (j->cfg == NULL || strcmp(rel, UE_CONFIG_NAME) != 0)
        return NULL;
    *len = j->cfg_len;
    return j->cfg;
}

void ws__lint_job_free(ws_lint_job *j)
{
    if (j == NULL)
        return;
    if (j->sync) {
        pthread_mutex_destroy(&j->mu);
        pthread_cond_destroy(&j->cv);
    }
    ul_result_free(&j->r);
    srv_free(j->rel);
    srv_free(j->abs);
    srv_free(j->bytes);
    srv_free(j->cfg);
    srv_free(j);
}

int ws__lint_job_new(ws_t *ws, ue_project *p, const char *rel, const ws_lint **cached,
                     ws_lint_job **out)
{
    ws_ov ovd = {ws, p};
    const char *b, *cb;
    size_t n, cn = 0;
    char *owned = NULL, *abs = NULL;
    ws_lint_job *j = NULL;
    *cached = NULL;
    *out = NULL;
    int rc = ws__current_bytes(&ovd, rel, &b, &n, &owned);
    if (rc != 0)
        return rc;
    rc = SRV_ENOMEM;
    if ((abs = ue_abs(p, rel)) == NULL)
        goto done;
    const ws_lint *l = ws__lint_find(ws, abs);
    if (l != NULL && l->p == p && ws__same(l->bytes, l->len, b, n)) {
        *cached = l;
        rc = 0;
        goto done;
    }
    if ((j = srv_calloc(1, sizeof *j)) == NULL)
        goto done;
    j->ws = ws;
    j->p = p;
    j->ctx = &ws->lint;
    j->abs = abs;
    abs = NULL;
    j->len = n;
    if ((j->rel = srv_strdup(rel)) == NULL || (j->bytes = srv_strndup(b, n)) == NULL)
        goto done;
    if ((cb = ws__overlay_lookup(&ovd, UE_CONFIG_NAME, &cn)) != NULL &&
        (j->cfg = srv_strndup(cb, cn)) == NULL)
        goto done;
    j->cfg_len = cn;
    if (pthread_mutex_init(&j->mu, NULL) != 0)
        goto done;
    if (pthread_cond_init(&j->cv, NULL) != 0) {
        pthread_mutex_destroy(&j->mu);
        goto done;
    }
    j->sync = true;
    *out = j;
    j = NULL;
    rc = 0;
done:
    ws__lint_job_free(j);
    ua_free(abs);
    ua_free(owned);
    return rc;
}

/* The lint itself, on whichever thread runs the job: touches only the job, the lint context
 * (the job's alone while it runs) and the project (read only; kept while the job runs). */
static void ws__lint_job_compute(ws_lint_job *j)
{
    if (*j->ctx == NULL) { /* the first lint loads libclang: off the loop thread too */
        ul_options opt = {0};
        opt.keep = 1;
        if ((*j->ctx = ul_ctx_new(&opt)) == NULL) {
            j->rc = SRV_ENOMEM;
            return;
        }
    }
    ue_overlay ov = {ws__job_lookup, j};
    int rc = ul_lint_source(*j->ctx, j->p, j->rel, j->bytes, j->len, &ov, &j->r);
    if (rc != 0) {
        ul_result_free(&j->r);
        memset(&j->r, 0, sizeof j->r);
        j->rc = rc == UL_ENOMEM ? SRV_ENOMEM : 1;
        return;
    }
    ul_apply_ignores(j->rel, j->bytes, j->len, &j->r.findings, &j->r.fixes);
    ul_apply_levels(j->p->cfg, &j->r.findings, &j->r.fixes);
}

/* Claims the job for the calling thread: true when it had not begun. */
static bool ws__lint_job_claim(ws_lint_job *j)
{
    pthread_mutex_lock(&j->mu);
    bool mine = j->stage == WS_JOB_QUEUED;
    if (mine)
        j->stage = WS_JOB_RUNNING;
    pthread_mutex_unlock(&j->mu);
    return mine;
}

static void ws__lint_job_finished(ws_lint_job *j)
{
    pthread_mutex_lock(&j->mu);
    j->stage = WS_JOB_FINISHED;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

void ws__lint_job_run(void *arg)
{
    ws_lint_job *j = arg;
    if (!ws__lint_job_claim(j))
        return; /* the loop thread took it over (ws__lint_job_wait) */
    ws__lint_job_compute(j);
    ws__lint_job_finished(j);
}

void ws__lint_job_wait(ws_lint_job *j)
{
    if (ws__lint_job_claim(j)) { /* not begun: the worker would only be waited for */
        ws__lint_job_compute(j);
        ws__lint_job_finished(j);
        return;
    }
    pthread_mutex_lock(&j->mu);
    while (j->stage != WS_JOB_FINISHED)
        pthread_cond_wait(&j->cv, &j->mu);
    pthread_mutex_unlock(&j->mu);
}

void ws__lint_quiesce(ws_t *ws)
{
    if (ws->job != NULL)
        ws__lint_job_wait(ws->job);
}

/* Makes finished job j's result the last lint of its source, whatever the source holds now:
 * ws__lint_job_store without its check. */
static int ws__lint_job_keep(ws_t *ws, ws_lint_job *j, const ws_lint **out)
{
    *out = NULL;
    if (j->rc != 0)
        return j->rc;
    /* what can fail comes before the previous result is replaced */
    ws_lint *l = ws__lint_find(ws, j->abs);
    if (l == NULL) {
        ws_lint *nl = srv_realloc(ws->lints, (ws->n_lints + 1) * sizeof *nl);
        if (nl == NULL)
            return SRV_ENOMEM;
        ws->lints = nl;
        l = &ws->lints[ws->n_lints++];
        memset(l, 0, sizeof *l);
        l->path = j->abs;
        j->abs = NULL;
    } else {
        srv_free(l->bytes);
        ul_result_free(&l->r);
    }
    l->p = j->p;
    l->bytes = j->bytes;
    j->bytes = NULL;
    l->len = j->len;
    l->r = j->r;
    memset(&j->r, 0, sizeof j->r);
    *out = l;
    return 0;
}

int ws__lint_job_store(ws_t *ws, ws_lint_job *j, const ws_lint **out)
{
    *out = NULL;
    if (j->rc != 0)
        return j->rc;
    if (j->p == NULL)
        return WS_LINT_STALE;
    ws_ov ovd = {ws, j->p};
    const char *b;
    size_t n;
    char *owned = NULL;
    int rc = ws__current_bytes(&ovd, j->rel, &b, &n, &owned);
    bool same = rc == 0 && ws__same(j->bytes, j->len, b, n);
    ua_free(owned);
    if (rc != 0)
        return rc;
    return same ? ws__lint_job_keep(ws, j, out) : WS_LINT_STALE;
}

int ws__lint(ws_t *ws, ue_project *p, const char *rel, const ws_lint **out)
{
    ws_lint_job *j;
    ws__lint_quiesce(ws); /* the lint context is a running job's until its worker is done */
    int rc = ws__lint_job_new(ws, p, rel, out, &j);
    if (rc != 0 || j == NULL)
        return rc;
    j->stage = WS_JOB_RUNNING; /* this thread's alone */
    ws__lint_job_compute(j);
    rc = ws__lint_job_keep(ws, j, out); /* of the bytes just read: nothing to compare */
    ws__lint_job_free(j);
    return rc;
}

/* The position of a 1-based line and byte column of bytes. */
ws_pos ws__lc_pos(const ws_t *ws, const char *b, size_t n, unsigned line, unsigned col)
{
    size_t off = ua_line_offset(b, n, line ? line : 1) + (col ? col - 1 : 0);
    return srv_text_position(b, n, off > n ? n : off, ws->set.utf8);
}

/* ---------------------------------------------------------------- diagnostics per file */

ws_file *ws__file(ws_t *ws, const char *path, bool create)
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
ws_diag *ws__add_diag(ws_file *f, ws_range r, int sev, const char *code, bool drift,
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

ws_diag *ws__add_diagf(ws_file *f, ws_range r, int sev, const char *code, bool drift,
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
int ws__add_lint_diag(ws_file *f, ws_range r, int sev, const char *code, const char *message,
                      unsigned line, unsigned col)
{
    ws_diag *d = ws__add_diag(f, r, sev, code, false, message);
    if (d == NULL)
        return SRV_ENOMEM;
    d->lint = true;
    d->f_line = line;
    d->f_col = col;
    return 0;
}

int ws__report(ws_t *ws, const ws_file *f)
{
    return ws->h.diagnostics(ws->h.ud, f);
}

/* ------------------------------------------------------------------------ pair states */

int ws__set_pair(ws_t *ws, const char *src, const char *twin, ue_state state)
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
void ws__drop_pair(ws_t *ws, const char *src)
{
    for (size_t i = 0; i < ws->n_pairs; i++)
        if (strcmp(ws->pairs[i].source, src) == 0) {
            srv_free(ws->pairs[i].source);
            srv_free(ws->pairs[i].twin);
            ws->pairs[i] = ws->pairs[--ws->n_pairs];
            return;
        }
}

size_t ws__drifted(const ws_t *ws)
{
    size_t n = 0;
    for (size_t i = 0; i < ws->n_pairs; i++)
        n += ws->pairs[i].state != UE_OK;
    return n;
}

/* Reports the status when the counts changed. */
int ws__update_status(ws_t *ws)
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

int ws__project_by_config(ws_t *ws, const char *config_path, bool reload, ue_project **out)
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
int ws__rel(const ue_project *p, const char *path, char **out)
{
    return ue_rel(p, path, out) == UA_ENOMEM ? SRV_ENOMEM : 0;
}

int ws__source_of(const ue_project *p, const char *twin_rel, char **out)
{
    return ue_source_of(p, twin_rel, out) == UA_ENOMEM ? SRV_ENOMEM : 0;
}

/* The project a path belongs to, if its unasync.json lies inside a workspace folder (or there
 * are no folders at all and the file is open: single-file mode). */
int ws__project_for(ws_t *ws, const char *path, ue_project **out)
{
    char *cfg = NULL;
    *out = NULL;
    int rc = ue_find_config(path, &cfg);
    if (rc == -ENOENT && access(path, F_OK) != 0) {
        /* a file just deleted (a twin, an orphan): its folder still tells the project */
        char *dir = srv_strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
        if (dir == NULL)
            return SRV_ENOMEM;
        if (slash != NULL && slash != dir) {
            *slash = '\0';
            rc = ue_find_config(dir, &cfg);
        }
        srv_free(dir);
    }
    if (rc != 0)
        return rc == UA_ENOMEM ? SRV_ENOMEM : 0;
    if (ws->n_folders == 0 || ws__in_folders(ws, cfg) || ws__in_folders(ws, path))
        rc = ws__project_by_config(ws, cfg, false, out);
    ua_free(cfg);
    return rc;
}

/* The source of path in its project (a source itself, or the source of a twin): *p and *src
 * (rel, ua_free) set, or *src NULL when path is neither. Returns 0 or SRV_ENOMEM. */
int ws__source_for(ws_t *ws, const char *path, ue_project **p, char **src)
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
int ws__discover(ws_t *ws)
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
