/* diff.c - minimal line diff (Myers' O(ND) algorithm in linear space) and unified-diff text. */
#include "ua_int.h"
#include "ua_incr.h"

typedef struct line {
    const char *p;
    size_t len;
    uint64_t hash;
} line;

typedef struct diff_ctx {
    const line *a, *b;
    char *a_changed, *b_changed;
    long *vf, *vb; /* indexed by diagonal + off */
    long off;
} diff_ctx;

static size_t split_lines(const char *s, size_t len, line **out)
{
    size_t n = 0, cap = 0;
    line *v = NULL;
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(s + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - s) + 1 : len;
        if (ua_grow((void **)&v, &cap, n + 1, sizeof *v)) {
            ua_free(v);
            *out = NULL;
            return (size_t)-1;
        }
        uint64_t h = 1469598103934665603ULL;
        for (size_t k = i; k < e; k++)
            h = (h ^ (unsigned char)s[k]) * 1099511628211ULL;
        v[n++] = (line){s + i, e - i, h};
        i = e;
    }
    *out = v;
    return n;
}

static int eq(const diff_ctx *c, long i, long j)
{
    const line *x = &c->a[i], *y = &c->b[j];
    return x->hash == y->hash && x->len == y->len && memcmp(x->p, y->p, x->len) == 0;
}

/* Finds the middle snake of a[a0,a1) x b[b0,b1); returns its start and end in *sx.. */
static void middle_snake(diff_ctx *c, long a0, long a1, long b0, long b1, long *sx, long *sy,
                         long *ex, long *ey)
{
    long N = a1 - a0, M = b1 - b0, delta = N - M, odd = delta & 1;
    long *vf = c->vf + c->off, *vb = c->vb + c->off;
    long max = (N + M + 1) / 2;
    vf[1] = 0;
    vb[delta - 1] = N;
    for (long d = 0; d <= max; d++) {
        for (long k = -d; k <= d; k += 2) {
            long x = (k == -d || (k != d && vf[k - 1] < vf[k + 1])) ? vf[k + 1] : vf[k - 1] + 1;
            long y = x - k, x0 = x, y0 = y;
            while (x < N && y < M && eq(c, a0 + x, b0 + y)) {
                x++;
                y++;
            }
            vf[k] = x;
            if (odd && k >= delta - (d - 1) && k <= delta + (d - 1) && vf[k] >= vb[k]) {
                *sx = x0;
                *sy = y0;
                *ex = x;
                *ey = y;
                return;
            }
        }
        for (long k = -d; k <= d; k += 2) {
            long kk = k + delta;
            long x = (k == d || (k != -d && vb[kk - 1] < vb[kk + 1])) ? vb[kk - 1] : vb[kk + 1] - 1;
            long y = x - kk, x1 = x, y1 = y;
            while (x > 0 && y > 0 && eq(c, a0 + x - 1, b0 + y - 1)) {
                x--;
                y--;
            }
            vb[kk] = x;
            if (!odd && kk >= -d && kk <= d && vb[kk] <= vf[kk]) {
                *sx = x;
                *sy = y;
                *ex = x1;
                *ey = y1;
                return;
            }
        }
    }
    /* Unreachable for consistent input: a path always exists within max. */
    *sx = *ex = N;
    *sy = *ey = 0;
}

static void compare(diff_ctx *c, long a0, long a1, long b0, long b1)
{
    while (a0 < a1 && b0 < b1 && eq(c, a0, b0)) {
        a0++;
        b0++;
    }
    while (a0 < a1 && b0 < b1 && eq(c, a1 - 1, b1 - 1)) {
        a1--;
        b1--;
    }
    if (a0 == a1) {
        for (long j = b0; j < b1; j++)
            c->b_changed[j] = 1;
        return;
    }
    if (b0 == b1) {
        for (long i = a0; i < a1; i++)
            c->a_changed[i] = 1;
        return;
    }
    long sx, sy, ex, ey;
    middle_snake(c, a0, a1, b0, b1, &sx, &sy, &ex, &ey);
    compare(c, a0, a0 + sx, b0, b0 + sy);
    compare(c, a0 + ex, a1, b0 + ey, b1);
}

static int diff_lines(const char *a, size_t alen, const char *b, size_t blen, int split_first,
                      ua_diff *out);

int ua_diff_lines(const char *a, size_t alen, const char *b, size_t blen, ua_diff *out)
{
    return diff_lines(a, alen, b, blen, 0, out);
}

int ua__diff_twin(const char *a, size_t alen, const char *b, size_t blen, ua_diff *out)
{
    return diff_lines(a, alen, b, blen, 1, out);
}

static int diff_lines(const char *a, size_t alen, const char *b, size_t blen, int split_first,
                      ua_diff *out)
{
    memset(out, 0, sizeof *out);
    line *la = NULL, *lb = NULL;
    size_t na = split_lines(a, alen, &la), nb = split_lines(b, blen, &lb);
    int rc = UA_ENOMEM;
    diff_ctx c = {la, lb, NULL, NULL, NULL, NULL, 0};
    if (na == (size_t)-1 || nb == (size_t)-1)
        goto done;
    c.a_changed = ua_calloc(na + 1, 1);
    c.b_changed = ua_calloc(nb + 1, 1);
    /* forward diagonals stay within +-(D+1), D <= (N+M+1)/2; backward ones are shifted by
     * delta = N-M, so they reach D + |N-M| + 1 */
    c.off = (long)(na + nb) + (long)(na + nb + 1) / 2 + 2;
    c.vf = ua_calloc((size_t)(2 * c.off + 1), sizeof *c.vf);
    c.vb = ua_calloc((size_t)(2 * c.off + 1), sizeof *c.vb);
    if (!c.a_changed || !c.b_changed || !c.vf || !c.vb)
        goto done;
    if (split_first && na && nb) { /* line 1 on its own, then the rest */
        compare(&c, 0, 1, 0, 1);
        compare(&c, 1, (long)na, 1, (long)nb);
    } else {
        compare(&c, 0, (long)na, 0, (long)nb);
    }
    size_t i = 0, j = 0;
    while (i < na || j < nb) {
        if (i < na && j < nb && !c.a_changed[i] && !c.b_changed[j]) {
            i++;
            j++;
            continue;
        }
        ua_hunk h = {i, 0, j, 0};
        while (i < na && c.a_changed[i]) {
            i++;
            h.a_count++;
        }
        while (j < nb && c.b_changed[j]) {
            j++;
            h.b_count++;
        }
        if (h.a_count == 0 && h.b_count == 0) { /* cannot happen; keep the loop finite */
            i++;
            j++;
            continue;
        }
        if (ua_grow((void **)&out->hunks, &out->cap, out->n + 1, sizeof *out->hunks))
            goto done;
        out->hunks[out->n++] = h;
    }
    rc = 0;
done:
    if (rc)
        ua_diff_free(out);
    ua_free(la);
    ua_free(lb);
    ua_free(c.a_changed);
    ua_free(c.b_changed);
    ua_free(c.vf);
    ua_free(c.vb);
    return rc;
}

void ua_diff_free(ua_diff *d)
{
    if (!d)
        return;
    ua_free(d->hunks);
    memset(d, 0, sizeof *d);
}

static void emit_lines(ua_buf *o, char tag, const line *v, size_t from, size_t count)
{
    for (size_t k = from; k < from + count; k++) {
        ua_buf_add(o, &tag, 1);
        ua_buf_add(o, v[k].p, v[k].len);
        if (v[k].len == 0 || v[k].p[v[k].len - 1] != '\n')
            ua_buf_adds(o, "\n\\ No newline at end of file\n");
    }
}

int ua_diff_unified(const char *a, size_t alen, const char *b, size_t blen, const ua_diff *d,
                    const char *a_name, const char *b_name, unsigned context, char **buf,
                    size_t *len)
{
    if (d->n == 0)
        return 0;
    line *la = NULL, *lb = NULL;
    size_t na = split_lines(a, alen, &la), nb = split_lines(b, blen, &lb);
    ua_buf o = {*buf, *len, *len, 0};
    if (*buf)
        o.cap = *len + 1;
    if (na == (size_t)-1 || nb == (size_t)-1) {
        ua_free(la);
        ua_free(lb);
        return UA_ENOMEM;
    }
    ua_buf_addf(&o, "--- %s\n+++ %s\n", a_name, b_name);
    for (size_t h = 0; h < d->n;) {
        /* group hunks whose unchanged gap is at most 2 * context lines */
        size_t last = h;
        while (last + 1 < d->n &&
               d->hunks[last + 1].a_line - (d->hunks[last].a_line + d->hunks[last].a_count) <=
                   2 * (size_t)context)
            last++;
        size_t a_start = d->hunks[h].a_line > context ? d->hunks[h].a_line - context : 0;
        size_t b_start = d->hunks[h].b_line - (d->hunks[h].a_line - a_start);
        size_t a_end = d->hunks[last].a_line + d->hunks[last].a_count + context;
        if (a_end > na)
            a_end = na;
        size_t b_end = d->hunks[last].b_line + d->hunks[last].b_count +
                       (a_end - (d->hunks[last].a_line + d->hunks[last].a_count));
        if (b_end > nb)
            b_end = nb;
        size_t ac = a_end - a_start, bc = b_end - b_start;
        /* GNU diff's form: a count of 1 is left out */
        ua_buf_addf(&o, "@@ -%zu", ac ? a_start + 1 : a_start);
        if (ac != 1)
            ua_buf_addf(&o, ",%zu", ac);
        ua_buf_addf(&o, " +%zu", bc ? b_start + 1 : b_start);
        if (bc != 1)
            ua_buf_addf(&o, ",%zu", bc);
        ua_buf_adds(&o, " @@\n");
        size_t ai = a_start;
        for (size_t k = h; k <= last; k++) {
            const ua_hunk *hk = &d->hunks[k];
            emit_lines(&o, ' ', la, ai, hk->a_line - ai);
            emit_lines(&o, '-', la, hk->a_line, hk->a_count);
            emit_lines(&o, '+', lb, hk->b_line, hk->b_count);
            ai = hk->a_line + hk->a_count;
        }
        emit_lines(&o, ' ', la, ai, a_end - ai);
        h = last + 1;
    }
    ua_free(la);
    ua_free(lb);
    if (o.oom) {
        /* the caller's bytes stay theirs: drop only what this call appended */
        if (*buf) {
            o.p[*len] = '\0';
            *buf = o.p;
        } else {
            ua_buf_free(&o);
        }
        return UA_ENOMEM;
    }
    *buf = o.p;
    *len = o.len;
    return 0;
}
