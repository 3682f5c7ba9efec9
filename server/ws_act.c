/* The core's answers to requests: code actions, regenerate (edits for open twins, engine
 * writes for the others), lint fixes and where a twin's position comes from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ws_int.h"

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

/* Whether the last lint of path found something the fix-all would fix. */
static bool ws__has_preferred_fix(ws_t *ws, const char *path)
{
    const ws_lint *l = ws->set.lint ? ws__lint_find(ws, path) : NULL;
    for (size_t k = 0; l != NULL && k < l->r.fixes.n; k++)
        if (l->r.fixes.v[k].preferred)
            return true;
    return false;
}

int ws_code_actions(ws_t *ws, const char *path, ws_range range, const char *const *only,
                    size_t n_only, bool has_only, ws_actions *out)
{
    memset(out, 0, sizeof *out);
    /* Off the thread, code actions (asked for at every cursor move) never wait for a parse: the
     * lint fixes offered are those of the lint diagnostics shown, and unasync.lintFix refuses
     * one whose lint no longer matches the bytes */
    if (!ws->set.lint_thread)
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
        if (rc == 0 && ws__has_preferred_fix(ws, c)) {
            ws_action *a = ws__add_action(out, "source.fixAll.unasync", "unasync.fixAll");
            if (a == NULL)
                rc = SRV_ENOMEM;
            else
                snprintf(a->title, sizeof a->title, "Fix all lint findings (unasync)");
        }
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
        size_t a1 =
            ua_line_offset(t->actual, t->actual_len, (unsigned)(h->a_line + h->a_count) + 1);
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

/* Writes the twin of result tp (of project p): minimal hunks for a twin open in the editor,
 * else through the engine (*on_disk then set: the caller re-checks the twin). */
static int ws__regenerate_twin(ws_t *ws, ue_project *p, const ue_twin *tp, bool *on_disk)
{
    *on_disk = false;
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
            } else {
                ws__log(ws, 4, "%s %s", wrote ? "wrote" : "unchanged", twin);
                *on_disk = true;
            }
            ua_findings_free(&f);
        }
    }
    ua_free(twin);
    return rc;
}

/* Regenerates the twin of one source of p. */
static int ws__regenerate_one(ws_t *ws, ue_project *p, const char *rel)
{
    const ue_twin *tp = ws__result(ws, p, rel);
    if (tp == NULL)
        return SRV_ENOMEM;
    bool on_disk;
    char *twin = ue_abs(p, tp->twin);
    int rc = twin ? ws__regenerate_twin(ws, p, tp, &on_disk) : SRV_ENOMEM;
    /* re-checking replaces the cached result: tp is not used after this; the twin is written,
     * so a failed re-check is logged, not reported as a failed regenerate */
    int r;
    if (rc == 0 && on_disk && (r = ws_check_path(ws, twin, WS_EV_DISK)) != 0)
        ws__log(ws, 1, "re-checking %s failed: %s", twin, srv_strerror(r));
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

/* The SRV_E* code for what the engine's compare-and-write (or the fix's apply) returned. */
static int ws__write_code(int rc)
{
    return rc == 0                                  ? 0
           : rc == UA_ENOMEM                        ? SRV_ENOMEM
           : rc == UE_ECHANGED || rc == UL_EINVAL   ? SRV_EINVAL
           : rc == UE_ELINKOUT || rc == UE_EOUTSIDE ? SRV_EOUTSIDE
                                                    : SRV_EIO;
}

/* Writes fix x of lint l to file target, which no editor has open, through the engine: the
 * bytes it applies to are the lint's own when target is the linted source, else the file as
 * the engine reads a project file (resolved once, checked against the root, no link followed);
 * ue_write_over writes only over exactly those bytes. */
static int ws__fix_on_disk(ws_t *ws, const ws_lint *l, const ul_fix *x, const char *target)
{
    char *read = NULL, *fixed = NULL;
    const char *bytes = l->bytes;
    size_t len = l->len, flen = 0;
    int rc = 0;
    if (strcmp(target, l->path) != 0 && (rc = ue_read_in(l->p, x->file, &read, &len)) == 0)
        bytes = read;
    if (rc == 0)
        rc = ul_fix_apply(x, bytes, len, &fixed, &flen);
    if (rc == 0)
        rc = ue_write_over(l->p, x->file, bytes, len, fixed, flen);
    ua_free(read);
    ua_free(fixed);
    if (rc != 0) {
        ws__log(ws, rc == UA_ENOMEM ? 1 : 2, "%s: %s not applied: %s%s", target, x->title,
                ul_strerror(rc), rc == UE_ECHANGED ? "; try the quick fix again" : "");
        return ws__write_code(rc);
    }
    ws__log(ws, 4, "%s: %s", target, x->title);
    /* the fix is on disk: a failed re-check does not undo it */
    int r = ws_check_path(ws, target, WS_EV_DISK);
    if (r != 0)
        ws__log(ws, 1, "re-checking %s failed: %s", target, srv_strerror(r));
    return 0;
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
    if (doc != NULL && strcmp(target, c) == 0 && !ws__same(doc->text, doc->len, l->bytes, l->len)) {
        rc = SRV_EINVAL; /* typed since the lint ran: its offsets no longer apply */
        ws__log(ws, 2, "%s changed since the lint ran; try the quick fix again", target);
    } else if (doc != NULL) {
        ws_edit e = {x->off, x->len, x->text};
        rc = x->off > doc->len || x->len > doc->len - x->off
                 ? SRV_EINVAL
                 : ws->h.apply_edit(ws->h.ud, doc, x->title, &e, 1);
    } else
        rc = ws__fix_on_disk(ws, l, x, target); /* not open (unasync.json, usually) */
done:
    srv_free(c);
    ua_free(target);
    return rc;
}

/* ------------------------------------------------------------------------------ fix-all */

/* A file the fix-all's plans changed: project-relative path, the bytes before the first round
 * and after the last. */
typedef struct ws_fixed {
    char *rel, *orig, *now;
    size_t orig_len, now_len;
} ws_fixed;

/* The fix-all of one project: the files its rounds changed, which are also the overlay that
 * later rounds and the twins read (over the open documents, ov). */
typedef struct ws_fixset {
    ws_ov ov;
    ws_fixed *v;
    size_t n;
} ws_fixset;

static const char *ws__fix_lookup(void *ud, const char *rel, size_t *len)
{
    ws_fixset *fs = ud;
    for (size_t i = 0; i < fs->n; i++)
        if (strcmp(fs->v[i].rel, rel) == 0) {
            *len = fs->v[i].now_len;
            return fs->v[i].now;
        }
    return ws__doc_bytes(&fs->ov, rel, len);
}

static void ws__fixset_free(ws_fixset *fs)
{
    for (size_t i = 0; i < fs->n; i++) {
        srv_free(fs->v[i].rel);
        srv_free(fs->v[i].orig);
        srv_free(fs->v[i].now);
    }
    srv_free(fs->v);
    fs->v = NULL;
    fs->n = 0;
}

/* Records plan file f: its first `before` is kept, its `after` replaces the last. Returns 0 or
 * SRV_ENOMEM (fs as it was). */
static int ws__fixset_set(ws_fixset *fs, const ul_plan_file *f)
{
    char *now = srv_strndup(f->after, f->after_len);
    if (now == NULL)
        return SRV_ENOMEM;
    for (size_t i = 0; i < fs->n; i++)
        if (strcmp(fs->v[i].rel, f->rel) == 0) {
            srv_free(fs->v[i].now);
            fs->v[i].now = now;
            fs->v[i].now_len = f->after_len;
            return 0;
        }
    char *rel = srv_strdup(f->rel), *orig = srv_strndup(f->before, f->before_len);
    ws_fixed *nv = rel && orig ? srv_realloc(fs->v, (fs->n + 1) * sizeof *nv) : NULL;
    if (nv == NULL) {
        srv_free(rel);
        srv_free(orig);
        srv_free(now);
        return SRV_ENOMEM;
    }
    fs->v = nv;
    fs->v[fs->n++] = (ws_fixed){rel, orig, now, f->before_len, f->after_len};
    return 0;
}

/* Logs what plan leaves out: fixes skipped for an overlap, sources left alone. */
static void ws__tell_plan(ws_t *ws, const ul_plan *plan)
{
    for (size_t i = 0; i < plan->nskips; i++) {
        const ul_plan_skip *k = &plan->skips[i];
        ws__log(ws, 3, "fix for %s at %s:%u:%u skipped: overlaps the fix for %s at %s:%u:%u",
                k->fix.code, k->source, k->fix.line, k->fix.col, k->by.code, k->by_source,
                k->by.line, k->by.col);
    }
    for (size_t i = 0; i < plan->nleft; i++) {
        const ul_plan_source *l = &plan->left[i];
        if (l->rc != 0)
            ws__log(ws, 1, "%s: not fixed: %s", l->rel, ul_strerror(l->rc));
        else
            ws__log(ws, 2, "%s: the C has errors; its fixes are not applied", l->rel);
    }
}

/* One round over project p: a plan over the fix set's overlay, recorded in fs. *fixed counts
 * the fixes taken, *config tells whether unasync.json was among the files. */
static int ws__fix_round(ws_t *ws, ul_ctx *ctx, ue_project *p, ws_fixset *fs, size_t *fixed,
                         bool *config)
{
    const ue_overlay ov = {ws__fix_lookup, fs};
    ue_report r;
    ul_plan plan;
    *fixed = 0;
    *config = false;
    if (ue_check(p, NULL, 0, &ov, 1, &r) != 0)
        return SRV_ENOMEM;
    int rc = ul_plan_fixes(ctx, p, &r, &ov, &plan);
    if (rc != 0 && rc != UL_ENOMEM)
        ws__log(ws, 1, "%s: %s", p->config_path, ul_strerror(rc));
    rc = rc == UL_ENOMEM ? SRV_ENOMEM : rc != 0 ? SRV_EIO : 0;
    if (rc == 0)
        ws__tell_plan(ws, &plan);
    for (size_t i = 0; rc == 0 && i < plan.nfiles; i++) {
        rc = ws__fixset_set(fs, &plan.files[i]);
        *fixed += plan.files[i].nfixes;
        *config |= strcmp(plan.files[i].rel, UE_CONFIG_NAME) == 0;
    }
    ul_plan_free(&plan);
    ue_report_free(&r);
    return rc;
}

/* The rounds of project p into fs: over p, then over the project read again through the
 * overlay once a round changed unasync.json (new rename rules). *cur is the project the last
 * round ran over (p, or a new one the caller frees). */
static int ws__fix_rounds(ws_t *ws, ul_ctx *ctx, ue_project *p, ws_fixset *fs, ue_project **cur)
{
    *cur = p;
    int rc = 0;
    for (int round = 0; rc == 0 && round < WS_FIX_ROUNDS; round++) {
        size_t fixed;
        bool config;
        if ((rc = ws__fix_round(ws, ctx, *cur, fs, &fixed, &config)) != 0 || fixed == 0)
            break;
        if (!config)
            continue;
        const ue_overlay ov = {ws__fix_lookup, fs};
        ua_findings cf = {0};
        ue_project *np = NULL;
        int o = ue_project_open_overlay(p->config_path, &ov, &np, &cf);
        ua_findings_free(&cf);
        if (o != 0) { /* the new configuration is --check's to report once it is written */
            rc = o == UA_ENOMEM ? SRV_ENOMEM : 0;
            break;
        }
        if (*cur != p)
            ue_project_free(*cur);
        *cur = np;
    }
    return rc;
}

/* Gives file fx its new bytes: an open document one edit (the changed middle), another a
 * compare-and-write. *on_disk tells the caller to re-check it. */
static int ws__fix_file(ws_t *ws, const ue_project *p, const ws_fixed *fx, bool *on_disk)
{
    *on_disk = false;
    char *abs = ue_abs(p, fx->rel);
    if (abs == NULL)
        return SRV_ENOMEM;
    int rc = 0;
    const ws_doc *doc = ws_doc_find_path(ws, abs);
    if (!ws__in_folders(ws, abs)) {
        ws__log(ws, 2, "refusing to write %s: outside the workspace folders", abs);
        rc = SRV_EOUTSIDE;
    } else if (doc != NULL) {
        /* the plan read this buffer in this call: it still holds fx->orig */
        size_t pre = 0, suf = 0;
        while (pre < fx->orig_len && pre < fx->now_len && fx->orig[pre] == fx->now[pre])
            pre++;
        while (suf < fx->orig_len - pre && suf < fx->now_len - pre &&
               fx->orig[fx->orig_len - 1 - suf] == fx->now[fx->now_len - 1 - suf])
            suf++;
        char *text = srv_strndup(fx->now + pre, fx->now_len - pre - suf);
        ws_edit e = {pre, fx->orig_len - pre - suf, text};
        rc = text ? ws->h.apply_edit(ws->h.ud, doc, "Fix all (unasync)", &e, 1) : SRV_ENOMEM;
        srv_free(text);
    } else {
        int w = ue_write_over(p, fx->rel, fx->orig, fx->orig_len, fx->now, fx->now_len);
        if (w != 0)
            ws__log(ws, w == UA_ENOMEM ? 1 : 2, "%s: not fixed: %s", abs, ul_strerror(w));
        rc = ws__write_code(w);
        *on_disk = w == 0;
    }
    if (rc == 0)
        ws__log(ws, 4, "fixed %s", abs);
    ua_free(abs);
    return rc;
}

/* Appends the absolute path of p's file rel to (*disk, *ndisk), the files the fix-all wrote.
 * Returns 0 or SRV_ENOMEM (the list as it was). */
static int ws__note_disk(const ue_project *p, const char *rel, char ***disk, size_t *ndisk)
{
    char **nd = srv_realloc(*disk, (*ndisk + 1) * sizeof *nd);
    if (nd == NULL)
        return SRV_ENOMEM;
    *disk = nd;
    char *abs = ue_abs(p, rel), *copy = abs ? srv_strdup(abs) : NULL;
    ua_free(abs);
    if (copy == NULL)
        return SRV_ENOMEM;
    nd[(*ndisk)++] = copy;
    return 0;
}

/* The twins of cur regenerated from the fixed bytes (fs's overlay), as --fix writes them after
 * its rounds. The paths written to disk are appended to *disk (for the caller's re-check). */
static int ws__fix_twins(ws_t *ws, ue_project *cur, ws_fixset *fs, char ***disk, size_t *ndisk)
{
    const ue_overlay ov = {ws__fix_lookup, fs};
    ue_report r;
    if (ue_check(cur, NULL, 0, &ov, 1, &r) != 0)
        return SRV_ENOMEM;
    int rc = 0;
    for (size_t k = 0; k < r.n; k++) {
        const ue_twin *t = &r.twins[k];
        if (!ws__regenerable(t->state))
            continue;
        bool on_disk = false;
        int w = ws__regenerate_twin(ws, cur, t, &on_disk);
        if (on_disk && ws__note_disk(cur, t->twin, disk, ndisk) != 0)
            w = SRV_ENOMEM;
        if (w != 0 && w != SRV_EOUTSIDE &&
            rc == 0) /* as regenerateAll: skips what it may not write */
            rc = w;
    }
    ue_report_free(&r);
    return rc;
}

/* The fix-all of project p: its rounds, its files and its twins. Paths written to disk are
 * appended to *disk. */
static int ws__fix_project(ws_t *ws, ul_ctx *ctx, ue_project *p, char ***disk, size_t *ndisk)
{
    ws_fixset fs = {{ws, p}, NULL, 0};
    ue_project *cur = p;
    int rc = ws__fix_rounds(ws, ctx, p, &fs, &cur);
    for (size_t i = 0; rc == 0 && i < fs.n; i++) {
        bool on_disk;
        int w = ws__fix_file(ws, p, &fs.v[i], &on_disk);
        if (on_disk && ws__note_disk(p, fs.v[i].rel, disk, ndisk) != 0)
            w = SRV_ENOMEM;
        if (w == SRV_ENOMEM)
            rc = w;
        else if (w != 0)
            ws__log(ws, 2, "%s left as it was", fs.v[i].rel);
    }
    if (rc == 0)
        rc = ws__fix_twins(ws, cur, &fs, disk, ndisk);
    if (cur != p)
        ue_project_free(cur);
    ws__fixset_free(&fs);
    return rc;
}

int ws_fix_all(ws_t *ws)
{
    ws__lint_quiesce(ws); /* one lint at a time: a running one finishes first */
    int found = ws__discover(ws), rc = 0;
    /* a context of its own, as --fix's: each source parsed afresh over the planned bytes, and
     * the editor's kept units left as they are */
    ul_ctx *ctx = ul_ctx_new(NULL);
    char **disk = NULL;
    size_t ndisk = 0;
    if (ctx == NULL)
        rc = SRV_ENOMEM;
    /* the projects are re-read by the re-checks below: every project is fixed first */
    for (size_t i = 0; rc == 0 && i < ws->n_projects; i++)
        rc = ws__fix_project(ws, ctx, ws->projects[i], &disk, &ndisk);
    ul_ctx_free(ctx);
    for (size_t i = 0; i < ndisk; i++) {
        int r = ws_check_path(ws, disk[i], WS_EV_DISK);
        if (r != 0)
            ws__log(ws, 1, "re-checking %s failed: %s", disk[i], srv_strerror(r));
        srv_free(disk[i]);
    }
    srv_free(disk);
    int r = ws__update_status(ws);
    if (r != 0)
        ws__log(ws, 1, "sending unasync/status failed: %s", srv_strerror(r));
    return found != 0 ? found : rc;
}

/* ------------------------------------------------------------------------- navigation */

/* The message of the engine's drift finding for t (a copy in *msg), NULL when there is none.
 * Returns 0 or SRV_ENOMEM. */
static int ws__drift_message(const ue_twin *t, char **msg)
{
    ua_findings all = {0};
    *msg = NULL;
    if (ue_twin_findings(t, &all) != 0) {
        ua_findings_free(&all); /* emptied, but its array may have grown */
        return SRV_ENOMEM;
    }
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
    size_t src_off =
        twin_line == 0 || off < t->out.header_len ? 0 : ua_map_to_source(&t->out.map, off);
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
