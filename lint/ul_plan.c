/* ul_plan.c - fix plans: which preferred fixes one round of `unasync --fix` (or the editor's
 * source.fixAll) takes, which it skips because they overlap, and the bytes each changed file
 * gets. Above ul_lint.c and ul_fixes.c. The lint writes nothing: the CLI writes a plan's files
 * with ue_write_over, only over the bytes the lint read. */
#include "ul_int.h"

#include <stdlib.h>
#include <string.h>

/* One preferred fix found in a round: the fix, the source whose finding it fixes, and its place
 * in the order the lint gave (ties keep that order). */
typedef struct cand {
    const ul_fix *x;
    const char *source;
    size_t seq;
    int skipped;
} cand;

static int cmp_cand(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    int c = strcmp(x->x->file, y->x->file);
    if (c)
        return c;
    if (x->x->off != y->x->off)
        return x->x->off < y->x->off ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The bytes of project file `rel` as the plan sees them: the overlay's, else the disk's
 * (unasync.json at its own path, a source resolved and checked against the root). */
static int read_rel(const ue_project *p, const ue_overlay *ov, const char *rel, char **bytes,
                    size_t *len)
{
    if (ov && ov->lookup) {
        size_t n;
        const char *b = ov->lookup(ov->ud, rel, &n);
        if (b) {
            *len = n;
            return (*bytes = ua_strndup(b, n)) ? 0 : UL_ENOMEM;
        }
    }
    if (strcmp(rel, UE_CONFIG_NAME) != 0)
        return ue_read_in(p, rel, bytes, len);
    return ue_read_file(p->config_path, bytes, len);
}

/* What one round holds while it plans: per twin of the report, the bytes the lint read and its
 * result; the configuration's bytes; the candidates. */
typedef struct round {
    const ue_report *r;
    ul_result *res;
    char **src;
    size_t *src_len;
    char *cfg;
    size_t cfg_len;
    cand *c;
    size_t nc;
} round;

static void round_free(round *rd)
{
    for (size_t i = 0; rd->res && i < rd->r->n; i++)
        ul_result_free(&rd->res[i]);
    for (size_t i = 0; rd->src && i < rd->r->n; i++)
        ua_free(rd->src[i]);
    ua_free(rd->res);
    ua_free(rd->src);
    ua_free(rd->src_len);
    ua_free(rd->cfg);
    ua_free(rd->c);
}

/* Makes *v an array of room for `need` elements of `elem` bytes. Returns 0 or UL_ENOMEM (*v as
 * it was). Plans are small: one realloc per element is fine. */
static int room(void **v, size_t need, size_t elem)
{
    void *nv = ua_realloc(*v, (need ? need : 1) * elem);
    if (!nv)
        return UL_ENOMEM;
    *v = nv;
    return 0;
}

static int note_left(ul_plan *plan, const char *rel, int rc)
{
    if (room((void **)&plan->left, plan->nleft + 1, sizeof *plan->left))
        return UL_ENOMEM;
    char *copy = ua_strdup(rel);
    if (!copy)
        return UL_ENOMEM;
    plan->left[plan->nleft++] = (ul_plan_source){copy, rc};
    return 0;
}

/* Lints twin i's source and adds its preferred fixes to the candidates. */
static int lint_one(ul_ctx *ctx, const ue_project *p, const ue_overlay *ov, round *rd, size_t i,
                    ul_plan *plan)
{
    const ue_twin *tw = &rd->r->twins[i];
    ul_result *res = &rd->res[i];
    /* a source with errors is left as it is: its findings say what to do */
    if (tw->state == UE_ORPHANED || tw->state == UE_SOURCE_ERROR || tw->state == UE_IO_ERROR ||
        !ue_is_source(p, tw->source, NULL))
        return 0;
    int rc = read_rel(p, ov, tw->source, &rd->src[i], &rd->src_len[i]);
    if (rc == UL_ENOMEM)
        return rc;
    if (rc) /* --check tells it (UA400) */
        return 0;
    rc = ul_lint_source(ctx, p, tw->source, rd->src[i], rd->src_len[i], ov, res);
    if (rc == UL_ENOMEM)
        return rc;
    ul_apply_ignores(tw->source, rd->src[i], rd->src_len[i], &res->findings, &res->fixes);
    ul_apply_levels(p->cfg, &res->findings, &res->fixes);
    if (rc)
        return note_left(plan, tw->source, rc);
    if (res->limited)
        return 0;
    size_t preferred = 0;
    for (size_t k = 0; k < res->fixes.n; k++)
        preferred += res->fixes.v[k].preferred != 0;
    if (res->source_errors) /* no fix over a guess: the findings stay for a person */
        return preferred ? note_left(plan, tw->source, 0) : 0;
    if (room((void **)&rd->c, rd->nc + preferred, sizeof *rd->c))
        return UL_ENOMEM;
    for (size_t k = 0; k < res->fixes.n; k++)
        if (res->fixes.v[k].preferred) {
            rd->c[rd->nc] = (cand){&res->fixes.v[k], tw->source, rd->nc, 0};
            rd->nc++;
        }
    return 0;
}

/* In offset order, a fix that overlaps one taken before it is skipped and recorded. */
static int skip_overlaps(round *rd, ul_plan *plan)
{
    for (size_t i = 0; i < rd->nc; i++)
        for (size_t k = 0; k < i && !rd->c[i].skipped; k++) {
            if (rd->c[k].skipped || !ul_fix_overlaps(rd->c[k].x, rd->c[i].x))
                continue;
            rd->c[i].skipped = 1;
            if (room((void **)&plan->skips, plan->nskips + 1, sizeof *plan->skips))
                return UL_ENOMEM;
            ul_plan_skip *s = &plan->skips[plan->nskips];
            memset(s, 0, sizeof *s);
            if (ul__fix_dup(&s->fix, rd->c[i].x))
                return UL_ENOMEM;
            int rc = ul__fix_dup(&s->by, rd->c[k].x);
            s->source = ua_strdup(rd->c[i].source);
            s->by_source = ua_strdup(rd->c[k].source);
            plan->nskips++; /* counted now, so that ul_plan_free releases what it holds */
            if (rc || !s->source || !s->by_source)
                return UL_ENOMEM;
        }
    return 0;
}

/* The bytes the lint read of `rel`: the configuration's, or its source's. */
static int bytes_of(const round *rd, const char *rel, const char **b, size_t *len)
{
    if (strcmp(rel, UE_CONFIG_NAME) == 0) {
        *b = rd->cfg;
        *len = rd->cfg_len;
        return 1;
    }
    for (size_t k = 0; k < rd->r->n; k++)
        if (rd->src[k] && strcmp(rd->r->twins[k].source, rel) == 0) {
            *b = rd->src[k];
            *len = rd->src_len[k];
            return 1;
        }
    return 0;
}

/* The taken fixes of candidates [from, to) (one file) applied to that file's bytes. */
static int plan_file(const round *rd, size_t from, size_t to, ul_plan *plan)
{
    const char *rel = rd->c[from].x->file, *b;
    size_t len, n = 0;
    if (!bytes_of(rd, rel, &b, &len))
        return 0; /* a fix of a file the lint did not read: never applied */
    const ul_fix **v = ua_calloc(to - from, sizeof *v);
    if (!v)
        return UL_ENOMEM;
    for (size_t i = from; i < to; i++)
        if (!rd->c[i].skipped)
            v[n++] = rd->c[i].x;
    char *after = NULL;
    size_t after_len = 0;
    int rc = n ? ul_fixes_apply(v, n, b, len, &after, &after_len) : 0;
    ua_free(v);
    if (rc || !n || (after_len == len && memcmp(after, b, len) == 0)) {
        ua_free(after);
        return rc;
    }
    ul_plan_file *f = NULL;
    if (!room((void **)&plan->files, plan->nfiles + 1, sizeof *plan->files)) {
        f = &plan->files[plan->nfiles];
        *f = (ul_plan_file){ua_strdup(rel), ua_strndup(b, len), after, len, after_len, n};
        plan->nfiles++;
    }
    if (!f || !f->rel || !f->before) {
        if (!f)
            ua_free(after);
        return UL_ENOMEM;
    }
    plan->nfixes += n;
    plan->config_changed |= strcmp(rel, UE_CONFIG_NAME) == 0;
    return 0;
}

int ul_plan_fixes(ul_ctx *ctx, const ue_project *p, const ue_report *r, const ue_overlay *ov,
                  ul_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    round rd = {0};
    rd.r = r;
    rd.res = ua_calloc(r->n ? r->n : 1, sizeof *rd.res);
    rd.src = ua_calloc(r->n ? r->n : 1, sizeof *rd.src);
    rd.src_len = ua_calloc(r->n ? r->n : 1, sizeof *rd.src_len);
    int rc = !rd.res || !rd.src || !rd.src_len ? UL_ENOMEM : 0;
    /* the configuration as the lint reads it, before the lint reads it */
    if (!rc)
        rc = read_rel(p, ov, UE_CONFIG_NAME, &rd.cfg, &rd.cfg_len);
    for (size_t i = 0; i < r->n && !rc; i++)
        rc = lint_one(ctx, p, ov, &rd, i, plan);
    if (!rc && rd.nc) {
        qsort(rd.c, rd.nc, sizeof *rd.c, cmp_cand);
        rc = skip_overlaps(&rd, plan);
    }
    /* the candidates are sorted by file first: one pass per file */
    for (size_t i = 0, j; i < rd.nc && !rc; i = j) {
        for (j = i + 1; j < rd.nc && strcmp(rd.c[j].x->file, rd.c[i].x->file) == 0; j++)
            ;
        rc = plan_file(&rd, i, j, plan);
    }
    round_free(&rd);
    if (rc)
        ul_plan_free(plan);
    return rc;
}

void ul_plan_free(ul_plan *plan)
{
    for (size_t i = 0; i < plan->nfiles; i++) {
        ua_free(plan->files[i].rel);
        ua_free(plan->files[i].before);
        ua_free(plan->files[i].after);
    }
    for (size_t i = 0; i < plan->nskips; i++) {
        ul__fix_clear(&plan->skips[i].fix);
        ul__fix_clear(&plan->skips[i].by);
        ua_free(plan->skips[i].source);
        ua_free(plan->skips[i].by_source);
    }
    for (size_t i = 0; i < plan->nleft; i++)
        ua_free(plan->left[i].rel);
    ua_free(plan->files);
    ua_free(plan->skips);
    ua_free(plan->left);
    memset(plan, 0, sizeof *plan);
}
