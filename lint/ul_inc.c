/* ul_inc.c - the incremental lint of keep mode: an edit inside one function body reparses the
 * kept unit with every other body blanked, and merges the previous result for those bodies.
 *
 * An edit strictly inside a body changes no declaration, so callee asyncness, the enclosing
 * function's markers and the external symbols stay the same: the findings inside the other
 * bodies are those of the previous lint (moved by the edit's size), and the blanked reparse
 * gives the edited body's findings and the declarations' in a fraction of the Sema time. Any
 * doubt (a changed body layout, a preprocessor line, few functions) means a full parse. */
#include "ul_int.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Below this many function bodies a full reparse is cheap enough. */
#ifndef UL_INC_MIN_BODIES
#define UL_INC_MIN_BODIES 50
#endif

void ul__inc_free(ul__tu *t)
{
    ua_free(t->inc_bytes);
    t->inc_bytes = NULL;
    t->inc_len = 0;
    ul_result_free(&t->inc_res);
    ua_free(t->inc_m.body);
    memset(&t->inc_m, 0, sizeof t->inc_m);
    t->inc_ok = 0;
}

/* Appends a copy of fix f. Returns 0 or UL_ENOMEM. */
static int fix_copy(ul_fixes *fx, const ul_fix *f)
{
    ul_fix *d = ul__fix_slot(fx);
    if (!d || ul__fix_dup(d, f))
        return UL_ENOMEM;
    fx->n++;
    return 0;
}

void ul__inc_record(ul__tu *t, const ue_project *p, const char *bytes, size_t len,
                    const ul_result *out, ul__marks *m)
{
    ul__inc_free(t);
    if (!m->walked || m->body_bad || m->volatile_fixes || out->limited ||
        m->nbody < UL_INC_MIN_BODIES)
        return;
    t->inc_bytes = ua_strndup(bytes, len);
    if (!t->inc_bytes)
        return;
    t->inc_len = len;
    for (size_t i = m->f0; i < out->findings.n; i++)
        if (ua_findings_copy(&t->inc_res.findings, &out->findings.v[i])) {
            ul__inc_free(t);
            return;
        }
    for (size_t i = m->x0; i < out->fixes.n; i++)
        if (fix_copy(&t->inc_res.fixes, &out->fixes.v[i])) {
            ul__inc_free(t);
            return;
        }
    t->inc_m = *m;
    t->inc_m.f2 -= m->f0;
    t->inc_m.f3 -= m->f0;
    t->inc_m.x2 -= m->x0;
    t->inc_m.x3 -= m->x0;
    t->inc_m.f0 = t->inc_m.x0 = 0;
    m->body = NULL;
    m->nbody = m->capbody = 0;
    t->inc_cfg = p->cfg;
    t->inc_ok = 1;
}

/* Line starts of a buffer, for offset <-> line/column in both directions. */
typedef struct lines {
    size_t *v;
    size_t n;
    size_t len;
} lines;

static int lines_of(lines *ls, const char *b, size_t len)
{
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += b[i] == '\n';
    ls->v = ua_malloc(n * sizeof *ls->v);
    if (!ls->v)
        return UL_ENOMEM;
    ls->n = 0;
    ls->len = len;
    ls->v[ls->n++] = 0;
    for (size_t i = 0; i < len; i++)
        if (b[i] == '\n')
            ls->v[ls->n++] = i + 1;
    return 0;
}

/* The offset of line/col (1-based), or (size_t)-1 when it lies outside the buffer. */
static size_t off_of(const lines *ls, unsigned line, unsigned col)
{
    if (line == 0 || col == 0 || line > ls->n)
        return (size_t)-1;
    size_t o = ls->v[line - 1] + col - 1;
    return o > ls->len ? (size_t)-1 : o;
}

static void linecol_of(const lines *ls, size_t off, unsigned *line, unsigned *col)
{
    size_t lo = 0, hi = ls->n;
    if (off > ls->len)
        off = ls->len;
    while (hi - lo > 1) { /* the last line start <= off */
        size_t mid = (lo + hi) / 2;
        if (ls->v[mid] <= off)
            lo = mid;
        else
            hi = mid;
    }
    *line = (unsigned)lo + 1;
    *col = (unsigned)(off - ls->v[lo]) + 1;
}

/* Which recorded body holds old offset o strictly inside its braces: its index, or -1. */
static long body_at(const ul__marks *m, size_t o)
{
    size_t lo = 0, hi = m->nbody;
    while (lo < hi) { /* the first body whose '}' is after o */
        size_t mid = (lo + hi) / 2;
        if (m->body[2 * mid + 1] <= o)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->nbody && m->body[2 * lo] < o ? (long)lo : -1;
}

/* Everything one incremental lint works with. */
typedef struct inc {
    const ul__tu *t;
    lines old, neu;
    long b;          /* the edited body */
    size_t ce;       /* old end of the change */
    ptrdiff_t delta; /* new length - old length */
    const char *rel;
} inc;

/* Side of the edited body that old anchor line/col lies on: -1 before, 1 after, 0 inside the
 * edited body, 2 outside every body (doubt). */
static int side(const inc *c, unsigned line, unsigned col)
{
    size_t o = off_of(&c->old, line, col);
    long i = o == (size_t)-1 ? -1 : body_at(&c->t->inc_m, o);
    if (i < 0)
        return 2;
    return i < c->b ? -1 : i > c->b ? 1 : 0;
}

/* Moves an old position that lies after the edit to its new line/col. */
static void shift(const inc *c, unsigned *line, unsigned *col)
{
    size_t o = off_of(&c->old, *line, *col);
    linecol_of(&c->neu, (size_t)((ptrdiff_t)o + c->delta), line, col);
}

/* Appends the old findings [from, to) that lie on side `want` of the edited body (moved when
 * after it). Returns 0, 1 on doubt, or UL_ENOMEM. */
static int take_old_findings(const inc *c, size_t from, size_t to, int want, ua_findings *fs)
{
    const ua_findings *old = &c->t->inc_res.findings;
    for (size_t i = from; i < to; i++) {
        const ua_finding *f = &old->v[i];
        int s = side(c, f->line, f->col);
        if (s == 2 || strcmp(f->file, c->rel) != 0 || f->related_file)
            return 1;
        if (s != want)
            continue;
        if (ua_findings_copy(fs, f))
            return UL_ENOMEM;
        if (s > 0) {
            ua_finding *d = &fs->v[fs->n - 1];
            if (off_of(&c->old, d->end_line, d->end_col) == (size_t)-1)
                return 1;
            shift(c, &d->line, &d->col);
            shift(c, &d->end_line, &d->end_col);
        }
    }
    return 0;
}

static int take_old_fixes(const inc *c, size_t from, size_t to, int want, ul_fixes *fx)
{
    const ul_fixes *old = &c->t->inc_res.fixes;
    for (size_t i = from; i < to; i++) {
        const ul_fix *f = &old->v[i];
        int s = side(c, f->line, f->col);
        if (s == 2 || strcmp(f->file, c->rel) != 0)
            return 1;
        if (s != want)
            continue;
        if (fix_copy(fx, f))
            return UL_ENOMEM;
        if (s > 0) {
            ul_fix *d = &fx->v[fx->n - 1];
            if (d->off < c->ce)
                return 1;
            shift(c, &d->line, &d->col);
            d->off = (size_t)((ptrdiff_t)d->off + c->delta);
            linecol_of(&c->neu, d->off, &d->start_line, &d->start_col);
            linecol_of(&c->neu, d->off + d->len, &d->end_line, &d->end_col);
        }
    }
    return 0;
}

/* Whether a line holding a byte of [from, to] is a preprocessor line. */
static int has_directive(const char *b, size_t len, size_t from, size_t to)
{
    while (from > 0 && b[from - 1] != '\n')
        from--;
    for (size_t i = from; i < len && i <= to;) {
        while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r'))
            i++;
        if (i < len && b[i] == '#')
            return 1;
        while (i < len && b[i] != '\n')
            i++;
        i++;
    }
    return 0;
}

/* Checks the blanked walk and merges it with the old result into out. Returns 0, 1 on doubt or
 * UL_ENOMEM; on 0 the merged marks are in *nm. */
static int merge(const inc *c, const ul_result *tmp, const ul__marks *m, ul_result *out,
                 ul__marks *nm)
{
    const ul__marks *om = &c->t->inc_m;
    if (!m->walked || m->body_bad || tmp->limited || m->nbody != om->nbody)
        return 1;
    for (size_t i = 0; i < om->nbody; i++) {
        ptrdiff_t dl = (long)i > c->b ? c->delta : 0, dr = (long)i >= c->b ? c->delta : 0;
        if (m->body[2 * i] != (size_t)((ptrdiff_t)om->body[2 * i] + dl) ||
            m->body[2 * i + 1] != (size_t)((ptrdiff_t)om->body[2 * i + 1] + dr))
            return 1;
    }
    /* the blanked walk's rule findings must all lie inside the edited body */
    size_t lb = m->body[2 * c->b], rb = m->body[2 * c->b + 1];
    for (size_t i = m->f2; i < tmp->findings.n; i++) {
        size_t o = off_of(&c->neu, tmp->findings.v[i].line, tmp->findings.v[i].col);
        if (o == (size_t)-1 || o <= lb || o >= rb)
            return 1;
    }
    for (size_t i = m->x2; i < tmp->fixes.n; i++) {
        size_t o = off_of(&c->neu, tmp->fixes.v[i].line, tmp->fixes.v[i].col);
        if (o == (size_t)-1 || o <= lb || o >= rb)
            return 1;
    }
    ua_findings *fs = &out->findings;
    ul_fixes *fx = &out->fixes;
    int rc = 0;
    *nm = *m;
    nm->f0 = fs->n;
    nm->x0 = fx->n;
    for (size_t i = 0; i < m->f2 && !rc; i++)
        rc = ua_findings_copy(fs, &tmp->findings.v[i]) ? UL_ENOMEM : 0;
    for (size_t i = 0; i < m->x2 && !rc; i++)
        rc = fix_copy(fx, &tmp->fixes.v[i]);
    /* the judged calls, then the stray awaits: each in source order */
    for (int ph = 2; ph <= 3 && !rc; ph++) {
        size_t of0 = ph == 2 ? om->f2 : om->f3, of1 = ph == 2 ? om->f3 : c->t->inc_res.findings.n;
        size_t ox0 = ph == 2 ? om->x2 : om->x3, ox1 = ph == 2 ? om->x3 : c->t->inc_res.fixes.n;
        size_t tf0 = ph == 2 ? m->f2 : m->f3, tf1 = ph == 2 ? m->f3 : tmp->findings.n;
        size_t tx0 = ph == 2 ? m->x2 : m->x3, tx1 = ph == 2 ? m->x3 : tmp->fixes.n;
        if (ph == 2) {
            nm->f2 = fs->n;
            nm->x2 = fx->n;
        } else {
            nm->f3 = fs->n;
            nm->x3 = fx->n;
        }
        rc = take_old_findings(c, of0, of1, -1, fs);
        for (size_t i = tf0; i < tf1 && !rc; i++)
            rc = ua_findings_copy(fs, &tmp->findings.v[i]) ? UL_ENOMEM : 0;
        if (!rc)
            rc = take_old_findings(c, of0, of1, 1, fs);
        if (!rc)
            rc = take_old_fixes(c, ox0, ox1, -1, fx);
        for (size_t i = tx0; i < tx1 && !rc; i++)
            rc = fix_copy(fx, &tmp->fixes.v[i]);
        if (!rc)
            rc = take_old_fixes(c, ox0, ox1, 1, fx);
    }
    return rc;
}

int ul__inc_reparse(ul__tu *t, const ue_project *p, int limited, const char *bytes, size_t len,
                    ul__edit *e)
{
    if (!t->inc_ok || t->inc_cfg != p->cfg || limited)
        return 1;
    const char *ob = t->inc_bytes;
    size_t on = t->inc_len, mn = on < len ? on : len, pre = 0, suf = 0;
    while (pre < mn && ob[pre] == bytes[pre])
        pre++;
    if (pre == on && on == len)
        return 1; /* the same bytes: a full reparse also sees changed headers */
    while (suf < mn - pre && ob[on - 1 - suf] == bytes[len - 1 - suf])
        suf++;
    /* a coroutine entry added or removed changes the judgement of another body */
    char **e_old = NULL, **e_new = NULL;
    size_t n_old = 0, n_new = 0;
    int erc = ul__entries(ob, on, &e_old, &n_old);
    if (!erc)
        erc = ul__entries(bytes, len, &e_new, &n_new);
    int same_entries = !erc && n_old == n_new;
    for (size_t i = 0; i < n_old && same_entries; i++)
        same_entries = strcmp(e_old[i], e_new[i]) == 0;
    for (size_t i = 0; i < n_old; i++)
        ua_free(e_old[i]);
    for (size_t i = 0; i < n_new; i++)
        ua_free(e_new[i]);
    ua_free(e_old);
    ua_free(e_new);
    if (erc)
        return UL_ENOMEM;
    if (!same_entries)
        return 1;
    e->old_end = on - suf;
    e->delta = (ptrdiff_t)len - (ptrdiff_t)on;
    e->body = body_at(&t->inc_m, pre);
    if (e->body < 0 || e->old_end > t->inc_m.body[2 * e->body + 1] ||
        has_directive(bytes, len, pre, len - suf) || has_directive(ob, on, pre, e->old_end))
        return 1;
    /* the new bytes with every other body's inside blanked (newlines kept: same lines) */
    char *masked = ua_malloc(len + 1);
    if (!masked)
        return UL_ENOMEM;
    memcpy(masked, bytes, len);
    masked[len] = '\0';
    for (size_t i = 0; i < t->inc_m.nbody; i++) {
        if ((long)i == e->body)
            continue;
        ptrdiff_t d = (long)i > e->body ? e->delta : 0;
        size_t lb = (size_t)((ptrdiff_t)t->inc_m.body[2 * i] + d);
        size_t rb = (size_t)((ptrdiff_t)t->inc_m.body[2 * i + 1] + d);
        for (size_t k = lb + 1; k < rb; k++)
            if (masked[k] != '\n' && masked[k] != '\r')
                masked[k] = ' ';
    }
    struct CXUnsavedFile uf = {t->abs, masked, (unsigned long)len};
    int failed = clang_reparseTranslationUnit(t->tu, 1, &uf, clang_defaultReparseOptions(t->tu));
    ua_free(masked);
    return failed ? 2 : 0;
}

int ul__inc_merge(ul__tu *t, const ue_project *p, const char *rel, const char *bytes, size_t len,
                  const ul__edit *e, const ul_result *tmp, ul__marks *m, ul_result *out)
{
    inc c = {0};
    c.t = t;
    c.rel = rel;
    c.ce = e->old_end;
    c.delta = e->delta;
    c.b = e->body;
    size_t n0 = out->findings.n, x0 = out->fixes.n;
    ul__marks nm = {0};
    int rc = lines_of(&c.old, t->inc_bytes, t->inc_len);
    if (!rc)
        rc = lines_of(&c.neu, bytes, len);
    if (!rc)
        rc = merge(&c, tmp, m, out, &nm);
    ua_free(c.old.v);
    ua_free(c.neu.v);
    if (rc) {
        ul__result_truncate(out, n0, x0);
        ua_free(m->body);
        t->inc_ok = 0; /* the full parse records again */
        return rc;
    }
    ul__inc_record(t, p, bytes, len, out, &nm);
    ua_free(nm.body);
    return 0;
}
