/* incr.c - the incremental transform: an edit of the source re-derives the twin's edits only for
 * the lines it touches and shifts everything else (see ua_incr.h for what forces a full run). */
#include "ua_incr.h"

#include <stddef.h>
#include <stdio.h>

/* ---- chunked vectors -----------------------------------------------------------------------
 *
 * An array cut into chunks of about sqrt(n) elements (at least 16). Elements carry positions (size_t fields
 * at fo[]), stored relative to their chunk's base, so an edit shifts every later element by
 * adding to the bases of the chunks after it: an edit costs its chunk plus one pass over the
 * chunk list, wherever it is, and jumping across the file costs nothing. (The `base` arguments
 * are kept from the gap buffer this replaced; positions no longer depend on them.) */

typedef struct chunk {
    unsigned char *v;
    size_t n, cap, start; /* elements; index of the first one in the vector */
    size_t base[2];
} chunk;

typedef struct gvec {
    chunk *c;
    size_t nc, capc;
    size_t esz, n, ch; /* ch: the chunk size it was cut to */
    size_t nf, fo[2];
} gvec;

/* The chunk holding element i (i < n), by binary search on the starts. */
static size_t cv_chunk(const gvec *g, size_t i)
{
    size_t lo = 0, hi = g->nc;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->c[mid].start <= i)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static unsigned char *gv_at(const gvec *g, size_t i)
{
    const chunk *c = &g->c[cv_chunk(g, i)];
    return c->v + (i - c->start) * g->esz;
}

static size_t gv_pos(const gvec *g, size_t i, size_t f, const size_t *base)
{
    (void)base;
    const chunk *c = &g->c[cv_chunk(g, i)];
    size_t s;
    memcpy(&s, c->v + (i - c->start) * g->esz + g->fo[f], sizeof s);
    return s + c->base[f];
}

/* Element i, positions made absolute. */
static void gv_get(const gvec *g, size_t i, const size_t *base, void *out)
{
    (void)base;
    const chunk *c = &g->c[cv_chunk(g, i)];
    memcpy(out, c->v + (i - c->start) * g->esz, g->esz);
    for (size_t f = 0; f < g->nf; f++) {
        size_t s;
        memcpy(&s, (unsigned char *)out + g->fo[f], sizeof s);
        s += c->base[f];
        memcpy((unsigned char *)out + g->fo[f], &s, sizeof s);
    }
}

static void cv_shift(const gvec *g, unsigned char *e, size_t k, const size_t *d)
{
    for (size_t i = 0; i < k; i++)
        for (size_t f = 0; f < g->nf; f++) {
            size_t s;
            memcpy(&s, e + i * g->esz + g->fo[f], sizeof s);
            s += d[f];
            memcpy(e + i * g->esz + g->fo[f], &s, sizeof s);
        }
}

static void cv_starts(gvec *g)
{
    size_t n = 0;
    for (size_t k = 0; k < g->nc; k++) {
        g->c[k].start = n;
        n += g->c[k].n;
    }
    g->n = n;
}

/* The chunk that an insertion at index i goes into (nc when there is none yet). */
static size_t cv_insert_chunk(const gvec *g, size_t i)
{
    if (!g->nc)
        return 0;
    return i >= g->n ? g->nc - 1 : cv_chunk(g, i);
}

/* Makes room for `extra` more elements inserted at index i, and splits chunks grown past twice
 * their size by earlier edits. 0 or UA_ENOMEM (nothing changed but capacity). */
static int gv_reserve(gvec *g, size_t i, size_t extra)
{
    if (g->nc + 2 > g->capc &&
        ua_grow((void **)&g->c, &g->capc, g->nc + 2 + g->nc / 8, sizeof *g->c))
        return UA_ENOMEM;
    for (size_t k = 0; k < g->nc; k++) { /* split what has grown */
        chunk *c = &g->c[k];
        if (c->n <= 2 * g->ch)
            continue;
        if (g->nc + 1 > g->capc && ua_grow((void **)&g->c, &g->capc, g->nc + 1, sizeof *g->c))
            return UA_ENOMEM;
        c = &g->c[k];
        size_t half = c->n / 2, rest = c->n - half;
        unsigned char *v = ua_malloc((rest + g->ch) * g->esz);
        if (!v)
            return UA_ENOMEM;
        memcpy(v, c->v + half * g->esz, rest * g->esz);
        memmove(&g->c[k + 2], &g->c[k + 1], (g->nc - k - 1) * sizeof *g->c);
        g->c[k + 1] = (chunk){v, rest, rest + g->ch, c->start + half, {c->base[0], c->base[1]}};
        c->n = half;
        g->nc++;
    }
    if (!g->nc) {
        unsigned char *v = ua_malloc((extra + g->ch) * g->esz);
        if (!v)
            return UA_ENOMEM;
        g->c[0] = (chunk){v, 0, extra + g->ch, 0, {0, 0}};
        g->nc = 1;
    }
    chunk *c = &g->c[cv_insert_chunk(g, i)];
    if (c->n + extra > c->cap) {
        size_t nc = c->n + extra + g->ch;
        unsigned char *v = ua_realloc(c->v, nc * g->esz);
        if (!v)
            return UA_ENOMEM;
        c->v = v;
        c->cap = nc;
    }
    return 0;
}

/* Replaces elements [i, j) by the m elements at `e` (absolute positions, new coordinates) and
 * shifts every element after them by d[f]. gv_reserve(g, i, m) first: this cannot fail. */
static void gv_splice(gvec *g, size_t i, size_t j, const void *e, size_t m, const size_t *d)
{
    size_t ci = cv_insert_chunk(g, i);
    chunk *c = &g->c[ci];
    /* delete [i, j) chunk by chunk */
    for (size_t k = ci; k < g->nc && i < j; k++) {
        chunk *x = &g->c[k];
        size_t from = i > x->start ? i - x->start : 0;
        if (from >= x->n)
            continue;
        size_t to = j - x->start < x->n ? j - x->start : x->n;
        if (j <= x->start)
            break;
        memmove(x->v + from * g->esz, x->v + to * g->esz, (x->n - to) * g->esz);
        x->n -= to - from;
    }
    /* insert at i inside chunk ci, then shift what follows in it and in later chunks */
    size_t at = i - c->start < c->n ? i - c->start : c->n;
    memmove(c->v + (at + m) * g->esz, c->v + at * g->esz, (c->n - at) * g->esz);
    if (m > 0) /* e may be NULL when nothing is inserted */
        memcpy(c->v + at * g->esz, e, m * g->esz);
    size_t neg[2] = {0u - c->base[0], 0u - c->base[1]};
    cv_shift(g, c->v + at * g->esz, m, neg);
    c->n += m;
    cv_shift(g, c->v + (at + m) * g->esz, c->n - at - m, d);
    for (size_t k = ci + 1; k < g->nc; k++)
        for (size_t f = 0; f < g->nf; f++)
            g->c[k].base[f] += d[f];
    size_t w = 0; /* drop emptied chunks */
    for (size_t k = 0; k < g->nc; k++) {
        if (g->c[k].n == 0 && g->nc > 1) {
            ua_free(g->c[k].v);
            continue;
        }
        g->c[w++] = g->c[k];
    }
    g->nc = w;
    cv_starts(g);
}

static void gv_free(gvec *g);

/* Takes over `v` (n elements, absolute positions) as the vector's contents; v is freed. 0 or
 * UA_ENOMEM (g empty, v freed). */
static int gv_adopt(gvec *g, void *v, size_t n, size_t esz, size_t nf, size_t f0, size_t f1)
{
    memset(g, 0, sizeof *g);
    g->esz = esz;
    g->nf = nf;
    g->fo[0] = f0;
    g->fo[1] = f1;
    g->ch = 16;
    while (g->ch * g->ch < n)
        g->ch *= 2;
    size_t nc = (n + g->ch - 1) / g->ch;
    g->c = ua_calloc(nc + 2, sizeof *g->c);
    int rc = g->c ? 0 : UA_ENOMEM;
    g->capc = nc + 2;
    for (size_t k = 0; k < nc && !rc; k++) {
        size_t cnt = n - k * g->ch < g->ch ? n - k * g->ch : g->ch;
        unsigned char *p = ua_malloc((cnt + g->ch / 2) * esz);
        if (!p) {
            rc = UA_ENOMEM;
            break;
        }
        memcpy(p, (unsigned char *)v + k * g->ch * esz, cnt * esz);
        g->c[k] = (chunk){p, cnt, cnt + g->ch / 2, k * g->ch, {0, 0}};
        g->nc++;
    }
    ua_free(v);
    if (rc)
        gv_free(g);
    else
        cv_starts(g);
    return rc;
}

static void gv_free(gvec *g)
{
    for (size_t k = 0; k < g->nc; k++)
        ua_free(g->c[k].v);
    ua_free(g->c);
    g->c = NULL;
    g->nc = g->capc = g->n = 0;
}

/* First index in [0, n) whose field f is >= key (n when none): fields are sorted. */
static size_t gv_lower(const gvec *g, size_t f, const size_t *base, size_t key)
{
    if (!g->n) /* (an emptied vector keeps one empty chunk) */
        return 0;
    size_t lo = 0, hi = g->nc; /* the first chunk whose last element is >= key */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const chunk *c = &g->c[mid];
        size_t s;
        memcpy(&s, c->v + (c->n - 1) * g->esz + g->fo[f], sizeof s);
        if (s + c->base[f] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == g->nc)
        return g->n;
    const chunk *c = &g->c[lo];
    size_t a = 0, b = c->n;
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        size_t s;
        memcpy(&s, c->v + mid * g->esz + g->fo[f], sizeof s);
        if (s + c->base[f] < key)
            a = mid + 1;
        else
            b = mid;
    }
    (void)base;
    return c->start + a;
}

/* ---- state ------------------------------------------------------------------------------------ */

typedef struct iedit {
    size_t off, out_off; /* source offset; body offset (the twin after its header line) */
    size_t len, text_len;
    char *text;
    size_t rule, key_len;
} iedit;

typedef struct target {
    char *key, *src; /* the new name; the first name renamed to it */
    size_t renamed, plain, first;
} target;

struct ua_incr {
    const ua_project *proj;
    char *path;
    char *src, *spare;
    size_t len, cap, spare_cap;
    int errors, broken;
    ua_output err_out; /* the whole result of a source with errors */
    gvec toks;         /* ua_token, base {len} */
    gvec edits;        /* iedit, base {len, body_len} */
    gvec lines;        /* size_t line starts, base {len} */
    size_t body_len;
    size_t *dirs, ndirs, *removed, nremoved;
    char guard_from[256], guard_to[300];
    target *tg;
    size_t ntg, *slots, nslots; /* open addressing: index + 1, 0 empty */
    size_t *rule_hits, nhits;
    size_t ch_lo, ch_ohi, ch_nhi;
    int ch_whole;
    size_t nedit, nfull;
};


static long tg_find(const ua_incr *st, const char *k, size_t n)
{
    if (!st->nslots)
        return -1;
    for (size_t i = ua__fnv(k, n) & (st->nslots - 1);; i = (i + 1) & (st->nslots - 1)) {
        size_t s = st->slots[i];
        if (!s)
            return -1;
        const target *t = &st->tg[s - 1];
        if (strlen(t->key) == n && memcmp(t->key, k, n) == 0)
            return (long)(s - 1);
    }
}

/* An identifier's name as the transformer spells it (transform.c: ident_text). */
static const char *spell(const char *src, size_t len, const ua_token *t, char *buf, size_t cap,
                         size_t *n)
{
    int spliced = 0;
    for (size_t i = t->off; i < t->off + t->len && !spliced; i++)
        spliced = src[i] == '\\' || (src[i] == '?' && i + 2 < t->off + t->len && src[i + 1] == '?');
    if (!spliced) {
        *n = t->len;
        return src + t->off;
    }
    *n = ua_lex_spelling(src, len, t, buf, cap);
    return buf;
}

static size_t tok_end(const gvec *g, size_t i, const size_t *base)
{
    ua_token t;
    gv_get(g, i, base, &t);
    return t.off + t.len;
}

static void free_derived(ua_incr *st)
{
    gv_free(&st->toks);
    for (size_t k = 0; k < st->edits.nc; k++)
        for (size_t i = 0; i < st->edits.c[k].n; i++) {
            iedit e;
            memcpy(&e, st->edits.c[k].v + i * sizeof e, sizeof e);
            ua_free(e.text);
        }
    gv_free(&st->edits);
    gv_free(&st->lines);
    ua_free(st->dirs);
    ua_free(st->removed);
    for (size_t i = 0; i < st->ntg; i++) {
        ua_free(st->tg[i].key);
        ua_free(st->tg[i].src);
    }
    ua_free(st->tg);
    ua_free(st->slots);
    ua_free(st->rule_hits);
    ua_output_free(&st->err_out);
    st->dirs = st->removed = st->slots = st->rule_hits = NULL;
    st->tg = NULL;
    st->ndirs = st->nremoved = st->ntg = st->nslots = st->nhits = 0;
    st->errors = 0;
}

static int build_lines(const char *src, size_t len, gvec *g)
{
    size_t n = 1, cap = 64;
    size_t *v = ua_malloc(cap * sizeof *v);
    if (!v)
        return UA_ENOMEM;
    v[0] = 0;
    for (const char *p = src, *end = src + len; (p = memchr(p, '\n', (size_t)(end - p))) != NULL;
         p++) {
        if (n == cap && ua_grow((void **)&v, &cap, n + 1, sizeof *v)) {
            ua_free(v);
            return UA_ENOMEM;
        }
        v[n++] = (size_t)(p - src) + 1;
    }
    return gv_adopt(g, v, n, sizeof *v, 1, 0, 0);
}

/* The whole pipeline on the current source: every derived part rebuilt. */
static int full_run(ua_incr *st)
{
    free_derived(st);
    st->ch_whole = 1;
    ua_token *toks = NULL;
    size_t ntoks = 0;
    ua__keep k;
    memset(&k, 0, sizeof k);
    ua_output out;
    memset(&out, 0, sizeof out);
    int rc = ua_lex(st->src, st->len, &toks, &ntoks);
    if (rc)
        goto fail;
    rc = ua__transform_keep(st->proj, st->path, st->src, st->len, toks, ntoks, &out, &k);
    if (rc == UA_ENOMEM)
        goto fail;
    if (k.errors) {
        st->errors = 1;
        st->err_out = out;
        ua_free(toks);
        ua__keep_free(&k);
        return 0;
    }
    rc = UA_ENOMEM;
    ua_token *tv = toks;
    toks = NULL;
    if (gv_adopt(&st->toks, tv, ntoks, sizeof *tv, 1, offsetof(ua_token, off), 0))
        goto fail;
    if (build_lines(st->src, st->len, &st->lines))
        goto fail;
    iedit *ev = ua_malloc((k.nedits + 1) * sizeof *ev);
    if (!ev)
        goto fail;
    size_t cum = 0;
    for (size_t i = 0; i < k.nedits; i++) {
        const ua__edit *e = &k.edits[i];
        ev[i] = (iedit){e->off, e->off + cum, e->len, e->text_len, e->text, e->rule, e->key_len};
        cum += e->text_len - e->len;
    }
    st->body_len = st->len + cum;
    if (gv_adopt(&st->edits, ev, k.nedits, sizeof *ev, 2, offsetof(iedit, off),
                 offsetof(iedit, out_off)))
        goto fail; /* the texts are still the keep's */
    for (size_t i = 0; i < k.nedits; i++) /* now they are the vector's */
        k.edits[i].text = NULL;
    st->body_len = st->len + cum;
    st->dirs = k.dirs;
    st->ndirs = k.ndirs;
    st->removed = k.removed;
    st->nremoved = k.nremoved;
    k.dirs = k.removed = NULL;
    memcpy(st->guard_from, k.guard_from, sizeof st->guard_from);
    memcpy(st->guard_to, k.guard_to, sizeof st->guard_to);
    st->nslots = 16;
    while (st->nslots < 2 * k.ntargets + 2)
        st->nslots *= 2;
    st->slots = ua_calloc(st->nslots, sizeof *st->slots);
    st->tg = ua_calloc(k.ntargets + 1, sizeof *st->tg);
    if (!st->slots || !st->tg)
        goto fail;
    for (size_t i = 0; i < k.ntargets; i++) {
        target *t = &st->tg[st->ntg++];
        t->key = k.tkey[i];
        t->src = k.tsrc[i];
        t->first = k.toff[i];
        k.tkey[i] = k.tsrc[i] = NULL;
        size_t h = ua__fnv(t->key, strlen(t->key)) & (st->nslots - 1);
        while (st->slots[h])
            h = (h + 1) & (st->nslots - 1);
        st->slots[h] = st->ntg;
    }
    for (size_t i = 0; i < st->edits.n; i++) {
        const iedit *e = (const iedit *)gv_at(&st->edits, i);
        if (e->key_len) {
            long t = tg_find(st, e->text, e->key_len);
            if (t >= 0)
                st->tg[t].renamed++;
        }
    }
    for (size_t i = 0; i < ntoks && st->ntg; i++) {
        if (!k.plain[i])
            continue;
        char buf[512];
        size_t n;
        ua_token tk;
        gv_get(&st->toks, i, NULL, &tk);
        const char *nm = spell(st->src, st->len, &tk, buf, sizeof buf, &n);
        long t = tg_find(st, nm, n);
        if (t >= 0)
            st->tg[t].plain++;
    }
    st->rule_hits = out.rule_hits;
    st->nhits = st->proj->cfg->nrules + 1;
    out.rule_hits = NULL;
    ua_output_free(&out);
    ua__keep_free(&k);
    return 0;
fail:
    ua_free(toks);
    ua_output_free(&out);
    ua__keep_free(&k);
    free_derived(st);
    st->broken = 1;
    return UA_ENOMEM;
}

int ua_incr_new(const ua_project *proj, const char *src_rel, const char *src, size_t len,
                ua_incr **out)
{
    *out = NULL;
    if (!proj || !proj->cfg || !src_rel || (!src && len))
        return UA_EINVAL;
    ua_incr *st = ua_calloc(1, sizeof *st);
    if (!st)
        return UA_ENOMEM;
    st->proj = proj;
    st->path = ua_strdup(src_rel);
    st->cap = len + len / 4 + 64;
    st->src = ua_malloc(st->cap);
    if (!st->path || !st->src) {
        ua_incr_free(st);
        return UA_ENOMEM;
    }
    if (len)
        memcpy(st->src, src, len);
    st->src[len] = '\0';
    st->len = len;
    if (full_run(st)) {
        ua_incr_free(st);
        return UA_ENOMEM;
    }
    *out = st;
    return 0;
}

void ua_incr_free(ua_incr *st)
{
    if (!st)
        return;
    free_derived(st);
    ua_free(st->path);
    ua_free(st->src);
    ua_free(st->spare);
    ua_free(st);
}

/* ---- one edit --------------------------------------------------------------------------------- */

#define is_line_end ua__is_line_end

static int has_bom(const char *s, size_t n)
{
    return n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0;
}

static int is_hash(const char *src, const ua_token *t)
{
    return t->kind == UA_TK_PUNCT && ((t->len == 1 && src[t->off] == '#') ||
                                      (t->len == 2 && memcmp(src + t->off, "%:", 2) == 0));
}

/* Index of the token holding byte p (tokens [0, lim) of the vector), or (size_t)-1. */
static size_t token_at(const gvec *g, const size_t *base, size_t lim, size_t p)
{
    size_t lo = 0, hi = lim;
    while (lo < hi) { /* first token ending past p */
        size_t mid = lo + (hi - lo) / 2;
        if (tok_end(g, mid, base) <= p)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < lim && gv_pos(g, lo, 0, base) <= p)
        return lo;
    return (size_t)-1;
}

typedef struct window {
    size_t A, Bo, Bn;   /* the region: [A, Bo) of the old source, [A, Bn) of the new */
    size_t k0, je;      /* old tokens [k0, je) */
    ua_token *w;        /* the region's new tokens, then look-ahead */
    size_t nw, nall, cap;
    size_t first_in_dir;
} window;

static int push_tok(window *wd, ua_token t)
{
    if (wd->nall == wd->cap && ua_grow((void **)&wd->w, &wd->cap, wd->nall + 1, sizeof *wd->w))
        return UA_ENOMEM;
    wd->w[wd->nall++] = t;
    return 0;
}

/* Re-lexes the new source around the edit and finds the region. 0, 1 (take a full run) or
 * UA_ENOMEM. */
static int find_window(const ua_incr *st, const char *old, size_t olen_all, const char *nsrc,
                       size_t nl, size_t eoff, size_t olen, size_t nlen, window *wd)
{
    const gvec *T = &st->toks;
    size_t ob[1] = {olen_all};
    size_t n_old = T->n, delta_plus = nlen, delta_minus = olen;
    size_t line = eoff;
    while (line > 0 && old[line - 1] != '\n')
        line--;
    size_t k = 0;
    {
        size_t lo = 0, hi = n_old;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (tok_end(T, mid, ob) <= line)
                lo = mid + 1;
            else
                hi = mid;
        }
        k = lo;
    }
    while (k > 0) { /* the restart rule of ua_relex (lex.c) */
        size_t from = tok_end(T, k - 1, ob), i;
        int safe = from + 16 <= eoff;
        for (i = from; safe && i < from + 32 && i < eoff; i++)
            if (old[i] == '\\' || old[i] == '?')
                safe = 0;
        if (safe)
            break;
        k--;
    }
    size_t pos = k ? tok_end(T, k - 1, ob) : 0, j = k, edit_end = eoff + nlen;
    ua_token t;
    ua_token *nw = NULL;
    size_t nnw = 0, capw = 0;
    int synced = 0;
    while (ua_lex_next(nsrc, nl, &pos, &t)) {
        if (t.off >= edit_end) {
            size_t want = t.off - delta_plus + delta_minus;
            while (j < n_old && gv_pos(T, j, 0, ob) < want)
                j++;
            if (j < n_old) {
                ua_token o;
                gv_get(T, j, ob, &o);
                if (o.off == want && o.len == t.len && o.kind == t.kind) {
                    synced = 1;
                    break;
                }
            }
        }
        if (nnw == capw && ua_grow((void **)&nw, &capw, nnw + 1, sizeof *nw)) {
            ua_free(nw);
            return UA_ENOMEM;
        }
        nw[nnw++] = t;
    }
    if (!synced)
        j = n_old;
    /* the region starts at a line start that no token and no splice crosses */
    size_t a0 = eoff;
    if (k < n_old && gv_pos(T, k, 0, ob) < a0)
        a0 = gv_pos(T, k, 0, ob);
    if (nnw && nw[0].off < a0)
        a0 = nw[0].off;
    size_t A = a0;
    while (A > 0 && nsrc[A - 1] != '\n')
        A--;
    for (;;) { /* a token over the line end before A (a block comment): from its own line */
        size_t ti = A > 0 ? token_at(T, ob, k, A - 1) : (size_t)-1;
        if (A == 0 || (ti == (size_t)-1 && is_line_end(nsrc, A - 1)))
            break;
        A = ti != (size_t)-1 ? gv_pos(T, ti, 0, ob) : A - 1;
        while (A > 0 && nsrc[A - 1] != '\n')
            A--;
    }
    size_t k0 = gv_lower(T, 0, ob, A);
    if (k0 > k)
        k0 = k;
    wd->A = A;
    wd->k0 = k0;
    int rc = 0;
    for (size_t i = k0; i < k && !rc; i++) {
        gv_get(T, i, ob, &t);
        rc = push_tok(wd, t);
    }
    for (size_t i = 0; i < nnw && !rc; i++)
        rc = push_tok(wd, nw[i]);
    ua_free(nw);
    if (rc)
        return rc;
    /* ... and ends after an unescaped end of line outside any token */
    size_t p = wd->nall ? wd->w[wd->nall - 1].off + wd->w[wd->nall - 1].len : A;
    if (p < edit_end)
        p = edit_end;
    size_t jj = j;
    for (;;) {
        size_t gap_end = jj < n_old ? gv_pos(T, jj, 0, ob) - delta_minus + delta_plus : nl;
        int found = 0;
        for (; p < gap_end; p++)
            if (is_line_end(nsrc, p)) {
                found = 1;
                break;
            }
        if (found) {
            wd->Bn = p + 1;
            break;
        }
        if (jj >= n_old) {
            wd->Bn = nl;
            break;
        }
        gv_get(T, jj, ob, &t);
        t.off = t.off - delta_minus + delta_plus;
        if (push_tok(wd, t))
            return UA_ENOMEM;
        p = t.off + t.len;
        jj++;
    }
    wd->je = jj;
    wd->nw = wd->nall;
    wd->Bo = wd->Bn - delta_plus + delta_minus;
    /* look-ahead: up to the first code token after the region (await looks at it) */
    wd->first_in_dir = (size_t)-1;
    for (size_t i = jj; i < n_old; i++) {
        gv_get(T, i, ob, &t);
        size_t o = t.off;
        t.off = t.off - delta_minus + delta_plus;
        if (push_tok(wd, t))
            return UA_ENOMEM;
        if (t.kind != UA_TK_COMMENT) {
            for (size_t d = 0; d < st->ndirs; d++)
                if (st->dirs[2 * d] <= o && o < st->dirs[2 * d + 1])
                    wd->first_in_dir = wd->nall - 1;
            break;
        }
    }
    if (wd->first_in_dir == (size_t)-1)
        wd->first_in_dir = wd->nall;
    return 0;
}

/* Whether the region can be re-derived alone (0) or the whole pipeline must run (1). */
static int region_is_local(const ua_incr *st, const char *old, size_t olen_all, const char *nsrc,
                           size_t nl, const window *wd, const char *text, size_t nlen)
{
    size_t ob[1] = {olen_all};
    if (wd->A == 0 && (has_bom(old, olen_all) || has_bom(nsrc, nl)))
        return 1;
    if (nlen && memchr(text, '\0', nlen))
        return 1;
    for (size_t i = 0; i < wd->nw; i++)
        if (is_hash(nsrc, &wd->w[i]))
            return 1;
    for (size_t d = 0; d < st->ndirs; d++)
        if (st->dirs[2 * d] < wd->Bo && st->dirs[2 * d + 1] > wd->A)
            return 1;
    for (size_t r = 0; r < st->nremoved; r++)
        if (st->removed[2 * r] < wd->Bo && st->removed[2 * r] + st->removed[2 * r + 1] > wd->A)
            return 1;
    size_t pl = strlen(st->path);
    if (pl > 2 && strcmp(st->path + pl - 2, ".h") == 0 && st->ndirs >= 2 &&
        (wd->A < st->dirs[3] || wd->Bo > st->dirs[2 * (st->ndirs - 1)]))
        return 1;
    /* `await` before the region looks into it for its operand */
    for (size_t i = wd->k0; i-- > 0;) {
        ua_token t;
        gv_get(&st->toks, i, ob, &t);
        if (t.kind == UA_TK_COMMENT)
            continue;
        if (t.kind == UA_TK_IDENT) {
            char buf[512];
            size_t n;
            const char *nm = spell(old, olen_all, &t, buf, sizeof buf, &n);
            const char *aw = st->proj->cfg->marker_await;
            if (n == strlen(aw) && memcmp(nm, aw, n) == 0)
                return 1;
        }
        break;
    }
    return 0;
}

/* Edits [*e0, *e1) of the old list lie in the region. */
static void region_edits(const ua_incr *st, size_t olen_all, const window *wd, size_t *e0,
                         size_t *e1)
{
    size_t eb[2] = {olen_all, st->body_len};
    *e0 = gv_lower(&st->edits, 0, eb, wd->A);
    *e1 = gv_lower(&st->edits, 0, eb, wd->Bo);
}

typedef struct tdelta {
    long renamed, plain;
    size_t first; /* new coordinates; (size_t)-1: unchanged */
    int touched, first_in_window;
} tdelta;

/* Re-derives the region; 0 done, 1 full run needed (nothing changed), UA_ENOMEM (broken). */
static int apply_local(ua_incr *st, const char *old, size_t olen_all, const char *nsrc, size_t nl,
                       window *wd)
{
    ua__keep kw;
    size_t delta_p = nl, delta_m = olen_all; /* delta = nl - olen_all, kept unsigned */
    int rc = ua__derive_window(st->proj, st->path, nsrc, nl, wd->w, wd->nall, wd->nw,
                               wd->first_in_dir, wd->A, wd->Bn, st->guard_from, st->guard_to,
                               &kw);
    if (rc)
        return rc;
    tdelta *td = NULL;
    iedit *ne = NULL;
    size_t *nlv = NULL;
    if (kw.errors) {
        rc = 1;
        goto done;
    }
    rc = UA_ENOMEM;
    td = ua_calloc(st->ntg + 1, sizeof *td);
    ne = ua_malloc((kw.nedits + 1) * sizeof *ne);
    if (!td || !ne)
        goto done;
    rc = 1;
    /* every target of the region is one the file has, renamed from the same name */
    for (size_t i = 0; i < kw.ntargets; i++) {
        long t = tg_find(st, kw.tkey[i], strlen(kw.tkey[i]));
        if (t < 0 || strcmp(st->tg[t].src, kw.tsrc[i]) != 0)
            goto done;
        td[t].first_in_window = 1;
        td[t].first = kw.toff[i];
    }
    size_t e0, e1, eb[2] = {olen_all, st->body_len};
    region_edits(st, olen_all, wd, &e0, &e1);
    long old_dsum = 0, new_dsum = 0;
    for (size_t i = e0; i < e1; i++) {
        iedit e;
        gv_get(&st->edits, i, eb, &e);
        old_dsum += (long)e.text_len - (long)e.len;
        if (e.key_len) {
            long t = tg_find(st, e.text, e.key_len);
            if (t >= 0) {
                td[t].renamed--;
                td[t].touched = 1;
            }
        }
    }
    for (size_t i = 0; i < kw.nedits; i++) {
        const ua__edit *e = &kw.edits[i];
        new_dsum += (long)e->text_len - (long)e->len;
        if (e->key_len) {
            long t = tg_find(st, e->text, e->key_len);
            if (t >= 0) {
                td[t].renamed++;
                td[t].touched = 1;
            }
        }
    }
    if (st->ntg) {
        size_t ob[1] = {olen_all};
        size_t ei = e0;
        for (size_t i = wd->k0; i < wd->je; i++) { /* the old region's plain identifiers */
            ua_token t;
            gv_get(&st->toks, i, ob, &t);
            if (t.kind != UA_TK_IDENT)
                continue;
            int covered = 0;
            for (; ei < e1; ei++) {
                iedit e;
                gv_get(&st->edits, ei, eb, &e);
                if (e.off + e.len <= t.off)
                    continue;
                covered = e.off <= t.off;
                break;
            }
            if (covered)
                continue;
            char buf[512];
            size_t n;
            const char *nm = spell(old, olen_all, &t, buf, sizeof buf, &n);
            long k = tg_find(st, nm, n);
            if (k >= 0) {
                td[k].plain--;
                td[k].touched = 1;
            }
        }
        for (size_t i = 0; i < wd->nw; i++) {
            if (!kw.plain[i])
                continue;
            char buf[512];
            size_t n;
            const char *nm = spell(nsrc, nl, &wd->w[i], buf, sizeof buf, &n);
            long k = tg_find(st, nm, n);
            if (k >= 0) {
                td[k].plain++;
                td[k].touched = 1;
            }
        }
    }
    for (size_t t = 0; t < st->ntg; t++)
        if (td[t].touched && (long)st->tg[t].renamed + td[t].renamed <= 0)
            goto done; /* a target is gone: the rename map of the file changes */
    /* commit: nothing below can fail but the reservations, which come first */
    rc = UA_ENOMEM;
    size_t nls = 0;
    for (size_t p = wd->A; p < wd->Bn; p++)
        nls += nsrc[p] == '\n';
    nlv = ua_malloc((nls + 1) * sizeof *nlv);
    size_t lb[1] = {olen_all};
    size_t l0 = gv_lower(&st->lines, 0, lb, wd->A + 1);
    size_t l1 = gv_lower(&st->lines, 0, lb, wd->Bo + 1);
    if (!nlv || gv_reserve(&st->edits, e0, kw.nedits) || gv_reserve(&st->toks, wd->k0, wd->nw) ||
        gv_reserve(&st->lines, l0, nls))
        goto done;
    nls = 0;
    for (size_t p = wd->A; p < wd->Bn; p++)
        if (nsrc[p] == '\n')
            nlv[nls++] = p + 1;
    size_t cum = 0;
    if (e0 > 0) {
        iedit pe;
        gv_get(&st->edits, e0 - 1, eb, &pe);
        cum = pe.out_off + pe.text_len - pe.off - pe.len;
    }
    size_t c = cum;
    for (size_t i = 0; i < kw.nedits; i++) {
        const ua__edit *e = &kw.edits[i];
        ne[i] = (iedit){e->off, e->off + c, e->len, e->text_len, e->text, e->rule, e->key_len};
        c += e->text_len - e->len;
        kw.edits[i].text = NULL;
    }
    for (size_t i = e0; i < e1; i++) {
        iedit e;
        gv_get(&st->edits, i, eb, &e);
        if (e.rule != (size_t)-1 && e.rule < st->nhits)
            st->rule_hits[e.rule]--;
        ua_free(e.text);
    }
    for (size_t r = 0; r < st->nhits; r++)
        st->rule_hits[r] += kw.rule_hits[r];
    /* first renamed uses: kept, shifted, taken from the region, or looked for after it */
    for (size_t t = 0; t < st->ntg; t++) {
        target *g = &st->tg[t];
        g->renamed = (size_t)((long)g->renamed + td[t].renamed);
        g->plain = (size_t)((long)g->plain + td[t].plain);
        if (g->first < wd->A)
            continue;
        if (td[t].first_in_window) {
            g->first = td[t].first;
        } else if (g->first >= wd->Bo) {
            g->first = g->first - delta_m + delta_p;
        } else {
            size_t kl = strlen(g->key);
            g->first = (size_t)-1;
            for (size_t i = e1; i < st->edits.n; i++) {
                iedit e;
                gv_get(&st->edits, i, eb, &e);
                if (e.key_len == kl && memcmp(e.text, g->key, kl) == 0) {
                    g->first = e.off - delta_m + delta_p;
                    break;
                }
            }
        }
    }
    size_t new_body = st->body_len + (size_t)(new_dsum - old_dsum) + delta_p - delta_m;
    st->ch_whole = 0;
    st->ch_lo = wd->A + cum;
    st->ch_ohi = wd->Bo + cum + (size_t)old_dsum;
    st->ch_nhi = wd->Bn + cum + (size_t)new_dsum;
    size_t dsrc = delta_p - delta_m;
    gv_splice(&st->edits, e0, e1, ne, kw.nedits, (size_t[]){dsrc, new_body - st->body_len});
    gv_splice(&st->toks, wd->k0, wd->je, wd->w, wd->nw, (size_t[]){dsrc, 0});
    gv_splice(&st->lines, l0, l1, nlv, nls, (size_t[]){dsrc, 0});
    for (size_t d = 0; d < st->ndirs; d++)
        if (st->dirs[2 * d] >= wd->Bo) {
            st->dirs[2 * d] = st->dirs[2 * d] - delta_m + delta_p;
            st->dirs[2 * d + 1] = st->dirs[2 * d + 1] - delta_m + delta_p;
        }
    for (size_t r = 0; r < st->nremoved; r++)
        if (st->removed[2 * r] >= wd->Bo)
            st->removed[2 * r] = st->removed[2 * r] - delta_m + delta_p;
    st->body_len = new_body;
    rc = 0;
done:
    ua_free(ne);
    ua_free(td);
    ua_free(nlv);
    ua__keep_free(&kw);
    return rc;
}

int ua_incr_edit(ua_incr *st, size_t eoff, size_t olen, const char *text, size_t nlen)
{
    if (st->broken)
        return UA_ENOMEM;
    if (eoff > st->len || olen > st->len - eoff || (!text && nlen))
        return UA_EINVAL;
    size_t nl = st->len - olen + nlen;
    if (st->spare_cap < nl + 1) {
        size_t nc = nl + nl / 4 + 64;
        char *p = ua_realloc(st->spare, nc);
        if (!p)
            return UA_ENOMEM; /* nothing changed yet */
        st->spare = p;
        st->spare_cap = nc;
    }
    char *nsrc = st->spare, *old = st->src;
    size_t olen_all = st->len;
    memcpy(nsrc, old, eoff);
    if (nlen)
        memcpy(nsrc + eoff, text, nlen);
    memcpy(nsrc + eoff + nlen, old + eoff + olen, olen_all - eoff - olen);
    nsrc[nl] = '\0';
    st->nedit++;
    int rc = 1;
    if (!st->errors) {
        window wd;
        memset(&wd, 0, sizeof wd);
        rc = find_window(st, old, olen_all, nsrc, nl, eoff, olen, nlen, &wd);
        if (rc == 0)
            rc = region_is_local(st, old, olen_all, nsrc, nl, &wd, text, nlen);
        if (rc == 0)
            rc = apply_local(st, old, olen_all, nsrc, nl, &wd);
        ua_free(wd.w);
    }
    /* the new bytes become the source whatever happened: a failure leaves the state broken */
    st->src = nsrc;
    st->spare = old;
    size_t c = st->cap;
    st->cap = st->spare_cap;
    st->spare_cap = c;
    st->len = nl;
    if (rc == 1) {
        st->nfull++;
        rc = full_run(st);
    }
    if (rc) {
        st->broken = 1;
        return UA_ENOMEM;
    }
    return 0;
}

/* ---- results ---------------------------------------------------------------------------------- */

const char *ua_incr_source(const ua_incr *st, size_t *len)
{
    *len = st->len;
    return st->src;
}

int ua_incr_has_body(const ua_incr *st)
{
    return !st->errors && !st->broken;
}

size_t ua_incr_body_len(const ua_incr *st)
{
    return st->body_len;
}

void ua_incr_changed(const ua_incr *st, size_t *lo, size_t *old_hi, size_t *new_hi, int *whole)
{
    *lo = st->ch_lo;
    *old_hi = st->ch_ohi;
    *new_hi = st->ch_nhi;
    *whole = st->ch_whole;
}

void ua_incr_stats(const ua_incr *st, size_t *edits, size_t *full)
{
    *edits = st->nedit;
    *full = st->nfull;
}

/* Index of the last edit whose body offset is <= off, or (size_t)-1. */
static size_t edit_before(const ua_incr *st, size_t off)
{
    size_t eb[2] = {st->len, st->body_len};
    size_t i = gv_lower(&st->edits, 1, eb, off + 1);
    return i ? i - 1 : (size_t)-1;
}

/* The contiguous bytes of the body at `off`: a pointer and how many follow (at least 1 when
 * off < body_len). `back` asks for the piece that ends at off instead (off > 0). */
static const char *piece(const ua_incr *st, size_t off, int back, size_t *avail)
{
    size_t eb[2] = {st->len, st->body_len};
    size_t at = back ? off - 1 : off;
    size_t i = edit_before(st, at);
    iedit e;
    size_t gap_from_body = 0, gap_from_src = 0, next_body = st->body_len;
    /* a removal (no text) at the same place as a later edit is skipped: find the piece */
    while (i != (size_t)-1) {
        gv_get(&st->edits, i, eb, &e);
        if (at < e.out_off + e.text_len) {
            if (back) {
                *avail = at - e.out_off + 1;
                return e.text;
            }
            *avail = e.out_off + e.text_len - at;
            return e.text + (at - e.out_off);
        }
        gap_from_body = e.out_off + e.text_len;
        gap_from_src = e.off + e.len;
        break;
    }
    if (i + 1 < st->edits.n)
        next_body = gv_pos(&st->edits, i + 1, 1, eb);
    size_t s = gap_from_src + (at - gap_from_body);
    if (back) {
        *avail = at - gap_from_body + 1;
        return st->src + s - (*avail - 1);
    }
    *avail = next_body - at;
    return st->src + s;
}

static size_t common_fwd(const char *a, const char *b, size_t n)
{
    size_t i = 0;
    while (i + 8 <= n && memcmp(a + i, b + i, 8) == 0)
        i += 8;
    while (i < n && a[i] == b[i])
        i++;
    return i;
}

size_t ua_incr_match_fwd(const ua_incr *st, size_t off, const char *b, size_t n)
{
    size_t m = 0;
    while (m < n && off + m < st->body_len) {
        size_t avail;
        const char *p = piece(st, off + m, 0, &avail);
        size_t k = avail < n - m ? avail : n - m;
        size_t c = common_fwd(p, b + m, k);
        m += c;
        if (c < k)
            break;
    }
    return m;
}

size_t ua_incr_match_bwd(const ua_incr *st, size_t end, const char *b, size_t n)
{
    size_t m = 0;
    while (m < n && m < end) {
        size_t avail;
        const char *p = piece(st, end - m, 1, &avail); /* p[0..avail) ends at end - m */
        size_t k = avail < n - m ? avail : n - m;
        size_t c = 0;
        while (c < k && p[avail - 1 - c] == b[n - m - 1 - c])
            c++;
        m += c;
        if (c < k)
            break;
    }
    return m;
}

void ua_incr_read(const ua_incr *st, size_t off, size_t n, char *buf)
{
    size_t m = 0;
    while (m < n) {
        size_t avail;
        const char *p = piece(st, off + m, 0, &avail);
        size_t k = avail < n - m ? avail : n - m;
        memcpy(buf + m, p, k);
        m += k;
    }
}

size_t ua_incr_body_to_source(const ua_incr *st, size_t off)
{
    size_t i = edit_before(st, off);
    if (i == (size_t)-1)
        return off; /* the header's own entry: identical before the first edit */
    size_t eb[2] = {st->len, st->body_len};
    iedit e;
    gv_get(&st->edits, i, eb, &e);
    if (off < e.out_off + e.text_len) { /* srcmap.c: map_offset */
        size_t d = off - e.out_off;
        return e.off + (d < e.len ? d : (e.len ? e.len - 1 : 0));
    }
    return e.off + e.len + (off - e.out_off - e.text_len);
}

void ua_incr_linecol(const ua_incr *st, size_t off, unsigned *line, unsigned *col)
{
    size_t lb[1] = {st->len};
    if (off > st->len)
        off = st->len;
    size_t i = gv_lower(&st->lines, 0, lb, off + 1) - 1; /* the last line start <= off */
    *line = (unsigned)i + 1;
    *col = (unsigned)(off - gv_pos(&st->lines, i, 0, lb)) + 1;
}

int ua_incr_findings(const ua_incr *st, ua_findings *fs)
{
    size_t n0 = fs->n;
    if (st->broken)
        return UA_ENOMEM;
    if (st->errors) {
        for (size_t i = 0; i < st->err_out.findings.n; i++)
            if (ua_findings_copy(fs, &st->err_out.findings.v[i])) {
                ua_findings_truncate(fs, n0);
                return UA_ENOMEM;
            }
        return 0;
    }
    for (size_t t = 0; t < st->ntg; t++) {
        const target *g = &st->tg[t];
        if (!g->renamed || !g->plain)
            continue;
        unsigned l, c, el, ec;
        ua_incr_linecol(st, g->first, &l, &c);
        ua_incr_linecol(st, g->first + strlen(g->src), &el, &ec);
        if (ua_findings_addr(fs, st->path, l, c, el, ec, UA_WARNING, "UA006", UA__TARGET_MSG,
                             g->src, g->key)) {
            ua_findings_truncate(fs, n0);
            return UA_ENOMEM;
        }
    }
    if (n0 == 0)
        ua_findings_sort(fs);
    return 0;
}

int ua_incr_output(const ua_incr *st, ua_output *out)
{
    memset(out, 0, sizeof *out);
    if (st->broken)
        return UA_ENOMEM;
    size_t nh = st->proj->cfg->nrules + 1;
    out->rule_hits = ua_calloc(nh, sizeof *out->rule_hits);
    if (!out->rule_hits)
        return UA_ENOMEM;
    if (st->errors) {
        memcpy(out->rule_hits, st->err_out.rule_hits, nh * sizeof *out->rule_hits);
        if (ua_incr_findings(st, &out->findings)) {
            ua_output_free(out);
            return UA_ENOMEM;
        }
        return UA_ESOURCE;
    }
    memcpy(out->rule_hits, st->rule_hits, nh * sizeof *out->rule_hits);
    size_t eb[2] = {st->len, st->body_len};
    ua__edit *v = ua_malloc((st->edits.n + 1) * sizeof *v);
    if (!v) {
        ua_output_free(out);
        return UA_ENOMEM;
    }
    for (size_t i = 0; i < st->edits.n; i++) {
        iedit e;
        gv_get(&st->edits, i, eb, &e);
        v[i] = (ua__edit){e.off, e.len, e.text, e.text_len, e.rule, e.key_len};
    }
    int rc = ua__build_output(st->path, st->src, st->len, v, st->edits.n, out);
    ua_free(v);
    if (!rc)
        rc = ua_incr_findings(st, &out->findings);
    if (rc)
        ua_output_free(out);
    return rc;
}
