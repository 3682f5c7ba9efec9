/* live.c - the drift of an open source kept up to date per edit (ue_live, engine.h): an
 * incremental transform plus the common prefix and suffix of the expected and actual bodies. */
#include "engine_int.h"
#include "ua_incr.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* What is known of the expected body E against a fixed body `b`: E[0, P) == b[0, P) and the
 * last S bytes of both are equal. P and S are lower bounds; pex/sex say they are exact (the
 * next byte differs, or one side ends), which decides equality without a look at the rest. */
typedef struct tracker {
    const char *b;
    size_t n, P, S;
    int pex, sex;
} tracker;

struct ue_live {
    ue_project *p;
    char *src_rel, *twin_rel;
    ua_incr *in;
    int twin_rc; /* 0, -ENOENT, or why the twin could not be read */
    char *actual;
    size_t actual_len;
    mode_t mode;
    int hdr_ok, intact, looks_gen;
    ua_header h;
    size_t *als, nals; /* line starts of the actual body */
    tracker ta;        /* against the actual body */
    int ref_mode;      /* hand-edited twin: 1 ref holds the body its hash names, 2 unknown */
    char *ref;
    tracker tr;
    ue_state state;
    ua_diff diff;
    char *emid; /* the expected lines the diff looked at: body [q, q + emid_len) */
    size_t emid_len, q, pfx;
    int tracked;   /* the trackers follow the body (a parsed twin, a source without errors) */
    int slow;      /* the last check built the whole twin: slow_t holds it */
    ue_twin slow_t;
    ue_live_stats stats;
};

/* ---- trackers ---------------------------------------------------------------------------------- */

static void tr_reset(tracker *t, const ua_incr *in)
{
    size_t le = ua_incr_body_len(in);
    t->P = ua_incr_match_fwd(in, 0, t->b, t->n);
    t->S = ua_incr_match_bwd(in, le, t->b, t->n);
    t->pex = t->sex = 1;
}

static size_t min2(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* After an edit that changed body bytes [lo, ohi) into [lo, nhi). */
static void tr_update(tracker *t, const ua_incr *in)
{
    size_t lo, ohi, nhi;
    int whole;
    ua_incr_changed(in, &lo, &ohi, &nhi, &whole);
    if (whole) {
        tr_reset(t, in);
        return;
    }
    size_t ln = ua_incr_body_len(in), lo_len = ln - nhi + ohi, tail = ln - nhi;
    /* prefix */
    if (t->P >= lo) {
        size_t cnt = t->n > lo ? min2(nhi - lo, t->n - lo) : 0;
        size_t m = cnt ? ua_incr_match_fwd(in, lo, t->b + lo, cnt) : 0;
        if (lo + m < nhi) {
            t->P = lo + m;
            t->pex = 1;
        } else if (!(nhi == ohi && t->P >= ohi)) {
            t->P = nhi;
            t->pex = 0;
        } /* else: same length, the old prefix went past the region: it stands */
    }
    /* suffix */
    if (t->S >= tail) {
        size_t cnt = t->n > tail ? min2(nhi - lo, t->n - tail) : 0;
        size_t m = cnt ? ua_incr_match_bwd(in, nhi, t->b + (t->n - tail) - cnt, cnt) : 0;
        if (m < nhi - lo) {
            t->S = tail + m;
            t->sex = 1;
        } else if (!(nhi == ohi && t->S >= lo_len - lo)) {
            t->S = ln - lo;
            t->sex = 0;
        }
    }
    size_t cap = min2(ln, t->n);
    if (t->P > cap)
        t->P = cap;
    if (t->S > cap)
        t->S = cap;
}

/* Whether the expected body equals b; may compare the stretch that neither bound covers. */
static int tr_equal(tracker *t, const ua_incr *in)
{
    size_t le = ua_incr_body_len(in);
    if (le != t->n)
        return 0;
    if ((t->pex && t->P < le) || (t->sex && t->S < le))
        return 0;
    if (t->P + t->S >= le) { /* equal: both bounds are the whole body now */
        t->P = t->S = le;
        t->pex = t->sex = 1;
        return 1;
    }
    size_t gap = le - t->S - t->P;
    size_t m = ua_incr_match_fwd(in, t->P, t->b + t->P, gap);
    if (m < gap) {
        t->P += m;
        t->pex = 1;
        return 0;
    }
    t->P = t->S = le;
    t->pex = t->sex = 1;
    return 1;
}

/* ---- the check --------------------------------------------------------------------------------- */

static int has_bom(const ua_incr *in)
{
    size_t n;
    const char *s = ua_incr_source(in, &n);
    return n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0;
}

static void clear_result(ue_live *l)
{
    ua_diff_free(&l->diff);
    ua_free(l->emid);
    l->emid = NULL;
    l->emid_len = l->q = l->pfx = 0;
    ue_twin_free(&l->slow_t);
    l->slow = 0;
}

static int copy_diff(ua_diff *to, const ua_diff *from)
{
    memset(to, 0, sizeof *to);
    if (!from->n)
        return 0;
    to->hunks = ua_malloc(from->n * sizeof *to->hunks);
    if (!to->hunks)
        return UA_ENOMEM;
    memcpy(to->hunks, from->hunks, from->n * sizeof *to->hunks);
    to->n = to->cap = from->n;
    return 0;
}

/* The whole twin as ue_check_source makes it, from the state (expected built: O(size)). */
static int build_twin(const ue_live *l, ue_twin *t, int with_result)
{
    memset(t, 0, sizeof *t);
    size_t n;
    const char *s = ua_incr_source(l->in, &n);
    t->source = ua_strdup(l->src_rel);
    t->twin = ua_strdup(l->twin_rel);
    t->src_bytes = ua_strndup(s, n);
    t->src_len = n;
    t->mode = l->mode;
    if (!t->source || !t->twin || !t->src_bytes)
        goto nomem;
    int rc = ua_incr_output(l->in, &t->out);
    if (rc == UA_ENOMEM)
        goto nomem;
    if (l->twin_rc && l->twin_rc != -ENOENT) {
        t->state = UE_IO_ERROR;
        t->err = l->twin_rc;
        t->err_twin = 1;
        return 0;
    }
    if (l->actual) {
        t->actual = ua_strndup(l->actual, l->actual_len);
        t->actual_len = l->actual_len;
        if (!t->actual)
            goto nomem;
    }
    if (!t->out.bytes) {
        t->state = UE_SOURCE_ERROR;
        return 0;
    }
    t->expected = t->out.bytes;
    t->expected_len = t->out.len;
    if (with_result) {
        t->state = l->state;
        if (copy_diff(&t->diff, &l->diff))
            goto nomem;
    }
    return 0;
nomem:
    ue_twin_free(t);
    return UA_ENOMEM;
}

/* The classification of check_source (engine.c) on the built twin: for what the incremental
 * comparison does not decide. */
static int slow_check(ue_live *l)
{
    l->stats.full_checks++;
    ue_twin *t = &l->slow_t;
    if (build_twin(l, t, 0))
        return UA_ENOMEM;
    l->slow = 1;
    if (t->state == UE_IO_ERROR || t->state == UE_SOURCE_ERROR) {
        l->state = t->state;
        return 0;
    }
    if (!t->actual) {
        l->state = t->state = UE_MISSING;
        return 0;
    }
    int rc = 0;
    if (!l->hdr_ok) {
        t->state = l->looks_gen ? UE_EDITED : UE_UNMANAGED;
        if (t->state == UE_EDITED)
            rc = ua__diff_twin(t->actual, t->actual_len, t->expected, t->expected_len, &t->diff);
    } else if (t->actual_len == t->expected_len &&
               memcmp(t->actual, t->expected, t->actual_len) == 0) {
        t->state = UE_OK;
    } else {
        t->state = l->intact ? UE_STALE : UE_EDITED;
        rc = ua__diff_twin(t->actual, t->actual_len, t->expected, t->expected_len, &t->diff);
    }
    if (rc)
        return rc;
    l->state = t->state;
    return copy_diff(&l->diff, &t->diff);
}

/* Whether line 1 of the twin, for a body that hashes to the header's own value, is the actual
 * line 1. */
static int header_matches(const ue_live *l)
{
    size_t n;
    const char *s = ua_incr_source(l->in, &n);
    char line[2300];
    size_t ll = ua__header_line(l->src_rel, s, n, l->h.body_sha256, line, sizeof line);
    return ll == l->h.header_len && memcmp(line, l->actual, ll) == 0;
}

static int push_hunk(ua_diff *d, ua_hunk h)
{
    if (ua_grow((void **)&d->hunks, &d->cap, d->n + 1, sizeof *d->hunks))
        return UA_ENOMEM;
    d->hunks[d->n++] = h;
    return 0;
}

/* The hunks of the bodies, from the lines between the common prefix and suffix. */
static int middle_diff(ue_live *l, int header_hunk)
{
    const ua_incr *in = l->in;
    size_t le = ua_incr_body_len(in), la = l->ta.n, mn = min2(le, la);
    size_t P = min2(l->ta.P, mn), S = min2(l->ta.S, mn - P);
    size_t lo = 0, hi = l->nals; /* q: the last line start <= P */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->als[mid] <= P)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t pfx = lo ? lo - 1 : 0, q = l->nals ? l->als[pfx] : 0;
    lo = 0;
    hi = l->nals; /* r: the first line start > la - S */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->als[mid] <= la - S)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t r = lo < l->nals ? l->als[lo] : la;
    size_t elen = r - q + le - la;
    l->emid = ua_malloc(elen + 1);
    if (!l->emid)
        return UA_ENOMEM;
    ua_incr_read(in, q, elen, l->emid);
    l->emid_len = elen;
    l->q = q;
    l->pfx = pfx;
    ua_diff md;
    if (ua_diff_lines(l->actual + l->h.header_len + q, r - q, l->emid, elen, &md))
        return UA_ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < md.n && !rc; i++) {
        ua_hunk h = md.hunks[i];
        h.a_line += 1 + pfx;
        h.b_line += 1 + pfx;
        if (i == 0 && header_hunk && h.a_line == 1) { /* adjacent changed lines are one hunk */
            l->diff.hunks[0].a_count += h.a_count;
            l->diff.hunks[0].b_count += h.b_count;
            continue;
        }
        rc = push_hunk(&l->diff, h);
    }
    ua_diff_free(&md);
    return rc;
}

static int recheck(ue_live *l)
{
    clear_result(l);
    if (l->twin_rc && l->twin_rc != -ENOENT) {
        l->state = UE_IO_ERROR;
        return 0;
    }
    if (!ua_incr_has_body(l->in)) {
        l->state = UE_SOURCE_ERROR;
        return 0;
    }
    if (!l->actual) {
        l->state = UE_MISSING;
        return 0;
    }
    if (!l->hdr_ok && !l->looks_gen) {
        l->state = UE_UNMANAGED;
        return 0;
    }
    if (!l->hdr_ok || l->ref_mode == 2 || has_bom(l->in))
        return slow_check(l);
    int beq = tr_equal(&l->ta, l->in);
    int heq;
    if (l->intact)
        heq = beq && header_matches(l);
    else
        heq = tr_equal(&l->tr, l->in) && header_matches(l);
    if (beq && heq) {
        l->state = UE_OK;
        return 0;
    }
    l->state = l->intact ? UE_STALE : UE_EDITED;
    if (!heq && push_hunk(&l->diff, (ua_hunk){0, 1, 0, 1}))
        return UA_ENOMEM;
    return beq ? 0 : middle_diff(l, !heq);
}

/* ---- the twin ------------------------------------------------------------------------------- */

static void drop_twin(ue_live *l)
{
    ua_free(l->actual);
    ua_free(l->als);
    ua_free(l->ref);
    l->actual = l->ref = NULL;
    l->als = NULL;
    l->actual_len = l->nals = 0;
    l->hdr_ok = l->intact = l->looks_gen = l->ref_mode = l->tracked = 0;
    l->twin_rc = 0;
}

static int track(ue_live *l);

static int read_twin(ue_live *l, const ue_overlay *ov)
{
    drop_twin(l);
    l->mode = 0644;
    char *abs = ue_abs(l->p, l->src_rel);
    if (!abs)
        return UA_ENOMEM;
    struct stat st;
    if (stat(abs, &st) == 0)
        l->mode = st.st_mode & 07777;
    ua_free(abs);
    int rc = ue__read_doc(l->p, ov, l->twin_rel, &l->actual, &l->actual_len, &l->mode);
    if (rc == UA_ENOMEM)
        return rc;
    l->twin_rc = rc;
    if (rc) {
        ua_free(l->actual);
        l->actual = NULL;
        l->actual_len = 0;
        return 0;
    }
    if (ua_header_parse(l->actual, l->actual_len, &l->h) != 0) {
        l->looks_gen = ua_header_looks_generated(l->actual, l->actual_len);
        return 0;
    }
    l->hdr_ok = 1;
    l->intact = ua_header_body_intact(l->actual, l->actual_len, &l->h);
    const char *body = l->actual + l->h.header_len;
    size_t la = l->actual_len - l->h.header_len, cap = 0;
    for (size_t i = 0; i < la;) { /* as diff.c splits lines */
        if (ua_grow((void **)&l->als, &cap, l->nals + 1, sizeof *l->als))
            return UA_ENOMEM;
        l->als[l->nals++] = i;
        const char *nl = memchr(body + i, '\n', la - i);
        i = nl ? (size_t)(nl - body) + 1 : la;
    }
    l->ta.b = body;
    l->ta.n = la;
    return track(l);
}

/* Starts the trackers on a parsed twin once the source has a body; a hand-edited twin's hash is
 * compared once with the body expected now. */
static int track(ue_live *l)
{
    l->tracked = 0;
    if (!l->hdr_ok || !ua_incr_has_body(l->in))
        return 0;
    l->tracked = 1;
    tr_reset(&l->ta, l->in);
    ua_free(l->ref);
    l->ref = NULL;
    l->ref_mode = 0;
    if (!l->intact) { /* does the header's hash name the body expected now? */
        size_t le = ua_incr_body_len(l->in);
        l->ref = ua_malloc(le + 1);
        if (!l->ref)
            return UA_ENOMEM;
        ua_incr_read(l->in, 0, le, l->ref);
        char hex[65];
        ua_sha256_hex(l->ref, le, hex);
        if (strcmp(hex, l->h.body_sha256) == 0) {
            l->ref_mode = 1;
            l->tr.b = l->ref;
            l->tr.n = le;
            tr_reset(&l->tr, l->in);
        } else {
            l->ref_mode = 2;
        }
    }
    return 0;
}

/* ---- API ------------------------------------------------------------------------------------ */

int ue_live_new(ue_project *p, const char *src_rel, const char *buf, size_t len,
                const ue_overlay *ov, ue_live **out)
{
    *out = NULL;
    if (!p || !src_rel || (!buf && len))
        return UA_EINVAL;
    if (!ue_is_source(p, src_rel, NULL))
        return UA_EINVAL;
    ue_live *l = ua_calloc(1, sizeof *l);
    if (!l)
        return UA_ENOMEM;
    l->p = p;
    l->src_rel = ua_strdup(src_rel);
    l->twin_rel = ue_twin_of(p, src_rel);
    int rc = UA_ENOMEM;
    if (!l->src_rel || !l->twin_rel)
        goto fail;
    rc = ua_incr_new(&p->view, src_rel, buf ? buf : "", len, &l->in);
    if (rc)
        goto fail;
    if ((rc = ue_live_twin_changed(l, ov)))
        goto fail;
    *out = l;
    return 0;
fail:
    ue_live_free(l);
    return rc;
}

void ue_live_free(ue_live *l)
{
    if (!l)
        return;
    clear_result(l);
    drop_twin(l);
    ua_incr_free(l->in);
    ua_free(l->src_rel);
    ua_free(l->twin_rel);
    ua_free(l);
}

int ue_live_twin_changed(ue_live *l, const ue_overlay *ov)
{
    int rc = read_twin(l, ov);
    if (!rc)
        rc = recheck(l);
    return rc;
}

int ue_live_edit(ue_live *l, size_t off, size_t olen, const char *text, size_t nlen)
{
    int rc = ua_incr_edit(l->in, off, olen, text, nlen);
    if (rc)
        return rc;
    l->stats.edits++;
    if (!ua_incr_has_body(l->in)) {
        l->tracked = 0;
    } else if (!l->tracked) { /* the source had errors: nothing was tracked */
        if (track(l))
            return UA_ENOMEM;
    } else {
        tr_update(&l->ta, l->in);
        if (l->ref_mode == 1)
            tr_update(&l->tr, l->in);
    }
    return recheck(l);
}

ue_state ue_live_state(const ue_live *l)
{
    return l->state;
}

const ua_diff *ue_live_diff(const ue_live *l)
{
    return &l->diff;
}

void ue_live_get_stats(const ue_live *l, ue_live_stats *s)
{
    size_t e, f;
    ua_incr_stats(l->in, &e, &f);
    *s = l->stats;
    s->full_transforms = f;
}

const char *ue_live_source(const ue_live *l, size_t *len)
{
    return ua_incr_source(l->in, len);
}

const char *ue_live_actual(const ue_live *l, size_t *len)
{
    *len = l->actual ? l->actual_len : 0;
    return l->twin_rc ? NULL : l->actual;
}

int ue_live_twin(const ue_live *l, ue_twin *t)
{
    return build_twin(l, t, 1);
}

int ue_live_findings(const ue_live *l, ua_findings *f)
{
    if (l->slow)
        return ue_twin_findings(&l->slow_t, f);
    size_t n0 = f->n;
    int rc = ua_incr_findings(l->in, f);
    if (rc)
        return rc;
    ue_twin v;
    memset(&v, 0, sizeof v);
    v.source = l->src_rel;
    v.twin = l->twin_rel;
    v.state = l->state;
    v.err = l->twin_rc;
    v.err_twin = 1;
    unsigned line = 1, src_line = 1, c;
    size_t nh = 0, a, b;
    if ((l->state == UE_STALE || l->state == UE_EDITED) && ue__drift_lines(&l->diff, &nh, &a, &b)) {
        line = (unsigned)a + 1;
        size_t so = 0;
        if (b > 0) { /* body line b - 1, inside the lines the diff looked at */
            size_t want = b - 1 - l->pfx, k = 0, at = 0;
            while (k < want && at < l->emid_len) {
                const char *nl = memchr(l->emid + at, '\n', l->emid_len - at);
                at = nl ? (size_t)(nl - l->emid) + 1 : l->emid_len;
                k++;
            }
            so = ua_incr_body_to_source(l->in, l->q + at);
        }
        ua_incr_linecol(l->in, so, &src_line, &c);
    }
    rc = ue__drift_finding(&v, line, src_line, nh, f);
    if (rc)
        ua_findings_truncate(f, n0);
    return rc;
}
