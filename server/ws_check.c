/* The core's checks: a pair's drift turned into diagnostic sets worded by the engine, orphans,
 * the pre-check and lint scheduled on the hooks' timers, and the checks of a path or of the whole
 * workspace. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ws_int.h"

/* ------------------------------------------------------------------ lint diagnostics */

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

/* Replaces the lint diagnostics of file f with those of lint result l (NULL: none). Returns 0
 * or SRV_ENOMEM, f then unchanged. */
static int ws__lint_replace(const ws_t *ws, ws_file *f, const ws_lint *l)
{
    ws_file nl = {0};
    int rc = l != NULL ? ws__lint_result_diags(ws, l, &nl) : 0;
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

/* Replaces the lint diagnostics of file f (source rel of p) with a fresh lint's, linting here.
 * Returns 0 or SRV_ENOMEM, f then unchanged. */
static int ws__lint_diags(ws_t *ws, ue_project *p, const char *rel, ws_file *f)
{
    const ws_lint *l = NULL;
    int rc = ws->set.lint ? ws__lint(ws, p, rel, &l) : 0;
    if (rc == 1)
        rc = 0; /* unreadable: no lint diagnostics */
    return rc != 0 ? rc : ws__lint_replace(ws, f, l);
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
static int ws__transform_diags(const ws_t *ws, const ue_project *p, const ue_twin *t, ws_file *nfs)
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
    if (ue_twin_findings(t, &all) != 0) {
        ua_findings_free(&all); /* emptied, but its array may have grown */
        return SRV_ENOMEM;
    }
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
            if (!ws__add_diag(&n->twin, ws__line_range(x->line), sev, x->code, false, x->message) ||
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
    char *abs = ue_abs(p, rel);
    if (abs == NULL)
        return SRV_ENOMEM;
    /* only a file named like a twin can be one, or one that was an orphan before */
    bool candidate = false;
    for (size_t i = 0; i < p->ncandidates && !candidate; i++)
        candidate = strcmp(p->candidates[i], rel) == 0;
    if (!candidate && ws__file(ws, abs, false) == NULL) {
        ua_free(abs);
        return 0;
    }
    const char *filter[1] = {rel};
    ue_report r;
    if (ue_check(p, filter, 1, NULL, 1, &r) != 0) {
        ua_free(abs);
        return SRV_ENOMEM;
    }
    int rc = 0;
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
    int rc = ev == WS_EV_OPEN ? ws__live_open(ws, p, rel) : 0;
    if (rc != 0)
        return rc;
    const ue_twin *t = ws__result(ws, p, rel);
    return t == NULL ? SRV_ENOMEM : ws__diagnose(ws, p, t, ev);
}

/* ------------------------------------------------------------------------ scheduling */

static int ws__queue_lint(ws_t *ws, const char *path);
static void ws__lint_kick(ws_t *ws);

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
    if (ws->set.lint_thread) {
        if ((rc = ws__queue_lint(ws, path)) == 0) {
            ws->lint_due = true; /* typing paused */
            ws__lint_kick(ws);
        }
        goto done;
    }
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

/* Takes the first source off the lint queue: *path (absolute, the caller's to srv_free), with
 * its project and *rel (the caller's to ua_free) while it is a source of one, else *rel NULL.
 * 0 or SRV_ENOMEM. */
static int ws__lint_pop(ws_t *ws, char **path, ue_project **p, char **rel)
{
    *path = ws->lint_paths[0];
    *p = NULL;
    *rel = NULL;
    memmove(ws->lint_paths, ws->lint_paths + 1, --ws->n_lint_paths * sizeof *ws->lint_paths);
    int rc = ws__project_for(ws, *path, p);
    if (rc == 0 && *p != NULL && (rc = ws__rel(*p, *path, rel)) == 0 && *rel != NULL &&
        !ue_is_source(*p, *rel, NULL)) {
        ua_free(*rel);
        *rel = NULL;
    }
    return rc;
}

/* The lint after a drift report, here: every source waiting for it, one after another. */
static void ws__lint_queued_here(ws_t *ws)
{
    while (ws->n_lint_paths > 0 && !ws->stopped) {
        char *path, *rel;
        ue_project *p;
        int rc = ws__lint_pop(ws, &path, &p, &rel);
        if (rc == 0 && rel != NULL) {
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

/* ---- the lint off the loop thread (ws_settings.lint_thread): one job at a time */

/* Applies finished job j (its result taken out of it): the source's lint diagnostics become
 * its, reported. A job whose source changed meanwhile is dropped and the source linted again
 * once input pauses. 0, or SRV_ENOMEM / SRV_EIO with the file's set as it was. */
static int ws__lint_apply(ws_t *ws, ws_lint_job *j)
{
    const ws_lint *l;
    int rc = ws__lint_job_store(ws, j, &l);
    if (rc == WS_LINT_STALE)
        return j->p != NULL && ws->set.lint ? ws__schedule_lint(ws, j->abs) : 0;
    if (rc == 1)
        rc = 0; /* unreadable, or libclang failed: no lint diagnostics */
    if (rc != 0)
        return rc;
    ws_file *f = ws__file(ws, j->abs ? j->abs : l->path, true);
    if (f == NULL)
        return SRV_ENOMEM;
    if (!ws->set.lint)
        l = NULL;
    if ((rc = ws__lint_replace(ws, f, l)) == 0)
        rc = ws__report(ws, f);
    return rc;
}

/* Takes finished job j off ws->job and applies it (unless the core stopped); then, when
 * `settle` and it was applied, a batch is complete. Failures are logged. */
static void ws__lint_finish(ws_t *ws, ws_lint_job *j, bool settle)
{
    ws->job = NULL;
    if (ws->stopped)
        return;
    int rc = ws__lint_apply(ws, j);
    if (rc != 0)
        ws__log(ws, 1, "linting %s failed: %s", j->abs ? j->abs : j->rel, srv_strerror(rc));
    else if (settle && (rc = ws->h.settled(ws->h.ud)) != 0)
        ws__log(ws, 1, "refreshing diagnostics failed: %s", srv_strerror(rc));
}

/* hooks.work's done: on the loop thread once the worker is done. */
static void ws__lint_done(void *arg)
{
    ws_lint_job *j = arg;
    ws_t *ws = j->detached ? NULL : j->ws; /* NULL: applied early, or its core is gone */
    ws__lint_job_wait(j); /* a cancelled request never ran: the lint runs here */
    if (ws != NULL)
        ws__lint_finish(ws, j, true);
    ws__lint_job_free(j);
    if (ws != NULL)
        ws__lint_kick(ws);
}

/* Once input has paused (ws->lint_due), starts the lint of the first queued source on
 * hooks.work unless one runs: when it is done, the next. A source whose last lint is of its
 * current bytes is reported from it at once. */
static void ws__lint_kick(ws_t *ws)
{
    bool reported = false;
    while (ws->lint_due && ws->job == NULL && ws->n_lint_paths > 0 && !ws->stopped) {
        char *path, *rel;
        ue_project *p;
        int rc = ws__lint_pop(ws, &path, &p, &rel);
        if (rc == 0 && rel != NULL && ws->set.lint) {
            const ws_lint *cached = NULL;
            ws_lint_job *j = NULL;
            rc = ws__lint_job_new(ws, p, rel, &cached, &j);
            if (rc == 1 || (rc == 0 && j == NULL)) {
                /* nothing to parse: the cached result, or none for a source that went */
                ws_file *f = ws__file(ws, path, true);
                rc = f == NULL ? SRV_ENOMEM : ws__lint_replace(ws, f, rc == 0 ? cached : NULL);
                if (rc == 0 && (rc = ws__report(ws, f)) == 0)
                    reported = true;
            } else if (rc == 0) {
                ws->job = j;
                if (ws->h.work == NULL ||
                    ws->h.work(ws->h.ud, ws__lint_job_run, ws__lint_done, j) != 0) {
                    ws__lint_job_run(j); /* no thread to be had: here, and done at once */
                    ws__lint_done(j);
                }
            }
        }
        if (rc != 0)
            ws__log(ws, 1, "linting %s failed: %s", path, srv_strerror(rc));
        srv_free(path);
        ua_free(rel);
    }
    if (ws->n_lint_paths == 0)
        ws->lint_due = false;
    if (reported && ws->job == NULL && !ws->stopped) {
        int rc = ws->h.settled(ws->h.ud);
        if (rc != 0)
            ws__log(ws, 1, "refreshing diagnostics failed: %s", srv_strerror(rc));
    }
}

void ws_timer_fired(ws_t *ws, ws_timer which)
{
    if (which == WS_TIMER_IDLE)
        ws__on_idle(ws);
    else if (ws->set.lint_thread) {
        ws->lint_due = true;
        ws__lint_kick(ws);
    }
    else
        ws__lint_queued_here(ws);
}

/* A request that shows lint results (pull diagnostics, code actions, a lint fix) does not wait
 * for the pause: the running job is finished and applied, and the queued lints run here. */
void ws__lint_pending_now(ws_t *ws)
{
    ws_lint_job *j = ws->job;
    if (j != NULL) {
        ws__lint_job_wait(j);
        j->detached = true; /* its done callback, still to come, only frees it */
        ws__lint_finish(ws, j, ws->n_lint_paths == 0); /* else the queue's lint settles */
    }
    if (ws->n_lint_paths == 0)
        return;
    ws->h.timer(ws->h.ud, WS_TIMER_LINT, -1); /* stopping cannot fail */
    ws__lint_queued_here(ws);
}

/* Adds source path (absolute) to the lint queue unless it is there. 0 or SRV_ENOMEM. */
static int ws__queue_lint(ws_t *ws, const char *path)
{
    for (size_t i = 0; i < ws->n_lint_paths; i++)
        if (strcmp(ws->lint_paths[i], path) == 0)
            return 0;
    char *copy = srv_strdup(path);
    char **np = copy ? srv_realloc(ws->lint_paths, (ws->n_lint_paths + 1) * sizeof *np) : NULL;
    if (np == NULL) {
        srv_free(copy);
        return SRV_ENOMEM;
    }
    ws->lint_paths = np;
    ws->lint_paths[ws->n_lint_paths++] = copy;
    return 0;
}

/* Queues source path (absolute) for the lint that runs once input has paused for
 * WS_LINT_LATER_MS (every queued lint and every keystroke push it back). */
static int ws__schedule_lint(ws_t *ws, const char *path)
{
    int rc = ws->h.timer(ws->h.ud, WS_TIMER_LINT, WS_LINT_LATER_MS);
    if (rc != 0)
        return rc;
    ws->lint_due = false; /* input goes on: the queue waits for the timer */
    size_t had = ws->n_lint_paths;
    rc = ws__queue_lint(ws, path);
    if (rc != 0 && had == 0)
        ws->h.timer(ws->h.ud, WS_TIMER_LINT, -1); /* nothing to run: stopping cannot fail */
    return rc;
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
            r = ws->h.progress(ws->h.ud, WS_PROGRESS_REPORT, p->sources[i],
                               (int)(*done * 100 / total));
            if (r != 0 && rc == 0)
                rc = r;
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
    /* a progress report that fails is the check's failure too: the caller tells the client */
    if (progress &&
        (r = ws->h.progress(ws->h.ud, WS_PROGRESS_BEGIN, "unasync: checking twins", 0)) != 0 &&
        rc == 0)
        rc = r;
    for (size_t i = 0; i < ws->n_projects && !ws->stopped; i++)
        if ((r = ws__check_project(ws, ws->projects[i], &done, progress ? total : 0)) != 0 &&
            rc == 0)
            rc = r;
    if (progress) {
        char msg[100];
        snprintf(msg, sizeof msg, "%zu twins, %zu out of date", ws->n_pairs, ws__drifted(ws));
        if ((r = ws->h.progress(ws->h.ud, WS_PROGRESS_END, msg, -1)) != 0 && rc == 0)
            rc = r;
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

/* Lists p's sources again. The results computed under the old list go (the source list decides
 * #include redirections), and a running lint, which reads the list, finishes first. 0 or
 * SRV_ENOMEM. */
static int ws__rescan(ws_t *ws, ue_project *p)
{
    ua_findings f = {0};
    ws__cache_clear(ws);
    ws__lint_quiesce(ws);
    int rc = ue_project_rescan(p, &f) == UA_ENOMEM ? SRV_ENOMEM : 0;
    ua_findings_free(&f);
    return rc;
}

/* Source rel of p (at path) was deleted: the project lists its sources again; if rel is no
 * longer one, its diagnostics are cleared, its pair forgotten, and its twin checked as the
 * orphan it may now be. Returns 0, SRV_ENOMEM or a hook's error. */
static int ws__source_gone(ws_t *ws, ue_project *p, const char *rel, const char *path)
{
    char *twin = ue_twin_of(p, rel);
    if (twin == NULL)
        return SRV_ENOMEM;
    int rc = ws__rescan(ws, p);
    if (rc == 0 && !ue_is_source(p, rel, NULL)) {
        ws__drop_pair(ws, path);
        ws_file *sf = ws__file(ws, path, false);
        if (sf != NULL) {
            ws__diags_clear(sf->d, sf->n);
            sf->d = NULL;
            sf->n = 0;
            rc = ws__report(ws, sf);
        }
        int r = ws__orphan(ws, p, twin);
        if (r != 0 && rc == 0)
            rc = r;
    }
    ua_free(twin);
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
    if (ev == WS_EV_DISK && ue_is_source(p, rel, NULL) && access(path, F_OK) != 0 &&
        ws_doc_find_path(ws, path) == NULL) {
        rc = ws__source_gone(ws, p, rel, path);
        if ((r = ws__update_status(ws)) != 0 && rc == 0)
            rc = r;
        goto done;
    }
    if (!ue_is_source(p, rel, NULL)) {
        if ((rc = ws__source_of(p, rel, &src)) != 0)
            goto done;
        if (src == NULL && ev == WS_EV_DISK) { /* maybe a new source: list them again */
            rc = ws__rescan(ws, p);
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
    /* before f is found: it may add files. Off the thread, a pull never waits for a parse: the
     * lint's report and hooks.settled follow when it is done */
    if (!ws->set.lint_thread)
        ws__lint_pending_now(ws);
    char *c = ws__canonical(path);
    *f = c ? ws__file(ws, c, false) : NULL;
    srv_free(c);
    return c ? 0 : SRV_ENOMEM;
}
