/* ul_report.c - what the lint adds around the rules: severities from unasync.json, ignore
 * comments, and the lint of a whole project. The top layer of lint/ (docs/architecture.md). */
#include "ul_int.h"

#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- severities and ignore comments ---- */

static int lint_code(const char *code)
{
    return strncmp(code, "UA0", 3) == 0;
}

/* Drops the fixes of a dropped finding. */
static void drop_fixes(ul_fixes *fx, const ua_finding *f)
{
    if (!fx)
        return;
    size_t w = 0;
    for (size_t i = 0; i < fx->n; i++) {
        ul_fix *x = &fx->v[i];
        if (strcmp(x->code, f->code) == 0 && x->line == f->line && x->col == f->col) {
            ul__fix_clear(x);
        } else {
            fx->v[w++] = *x;
        }
    }
    fx->n = w;
}

static void drop_finding(ua_findings *fs, size_t i)
{
    ua_finding *f = &fs->v[i];
    ua_free(f->file); /* the list's strings come from the transformer's allocator */
    ua_free(f->message);
    ua_free(f->related_file);
    memmove(f, f + 1, (fs->n - i - 1) * sizeof *f);
    fs->n--;
}

void ul_apply_levels(const ua_config *cfg, ua_findings *fs, ul_fixes *fx)
{
    for (size_t i = 0; i < fs->n;) {
        ua_finding *f = &fs->v[i];
        int level = -1;
        for (size_t k = 0; cfg && k < cfg->nlint; k++)
            if (strcmp(cfg->lint[k].code, f->code) == 0)
                level = cfg->lint[k].severity;
        if (!lint_code(f->code) || level < 0) {
            i++;
            continue;
        }
        if (level == 0) {
            drop_fixes(fx, f);
            drop_finding(fs, i);
            continue;
        }
        f->severity = (ua_severity)level;
        i++;
    }
}

/* Whether line `line` of the bytes carries an ignore comment that covers `code`. */
static int ignored(const char *bytes, size_t len, unsigned line, const char *code)
{
    size_t s = ua_line_offset(bytes, len, line), e = s;
    while (e < len && bytes[e] != '\n')
        e++;
    static const char key[] = "unasync: ignore";
    const size_t kl = sizeof key - 1;
    for (size_t i = s; i + kl <= e; i++) {
        if (memcmp(bytes + i, key, kl) != 0)
            continue;
        /* it must stand in a comment that starts earlier on the line */
        int in_comment = 0;
        for (size_t k = s; k < i; k++)
            if (bytes[k] == '/' && (bytes[k + 1] == '/' || bytes[k + 1] == '*'))
                in_comment = 1;
        if (!in_comment)
            continue;
        size_t q = i + kl;
        if (q >= e || bytes[q] != '[')
            return 1; /* a bare ignore covers every code */
        for (q++; q < e && bytes[q] != ']';) {
            while (q < e && (bytes[q] == ' ' || bytes[q] == ','))
                q++;
            size_t t = q;
            while (t < e && bytes[t] != ',' && bytes[t] != ']' && bytes[t] != ' ')
                t++;
            if (t - q == strlen(code) && memcmp(bytes + q, code, t - q) == 0)
                return 1;
            q = t;
        }
    }
    return 0;
}

void ul_apply_ignores(const char *rel, const char *bytes, size_t len, ua_findings *fs, ul_fixes *fx)
{
    for (size_t i = 0; i < fs->n;) {
        ua_finding *f = &fs->v[i];
        if (lint_code(f->code) && f->file && strcmp(f->file, rel) == 0 &&
            ignored(bytes, len, f->line, f->code)) {
            drop_fixes(fx, f);
            drop_finding(fs, i);
            continue;
        }
        i++;
    }
}

/* ---- a whole project ---- */

typedef struct lint_job {
    ue_project *p;
    const char **todo;
    ul_result *res;
    size_t n, next;
    pthread_mutex_t lock;
    int rc;
} lint_job;

static void *lint_worker(void *arg)
{
    lint_job *j = arg;
    ul_ctx *ctx = ul_ctx_new(NULL);
    for (;;) {
        pthread_mutex_lock(&j->lock);
        size_t i = j->next++;
        int stop = j->rc != 0 || !ctx;
        if (!ctx)
            j->rc = UL_ENOMEM;
        pthread_mutex_unlock(&j->lock);
        if (i >= j->n || stop)
            break;
        char *abs = ue_abs(j->p, j->todo[i]), *bytes = NULL;
        size_t len = 0;
        int rc = abs ? ue_read_in(j->p, j->todo[i], &bytes, &len) : UA_ENOMEM;
        /* a source that cannot be read is already reported by the engine (UA400) */
        if (rc == UA_ENOMEM) {
            rc = UL_ENOMEM;
        } else if (rc == 0) {
            rc = ul_lint_source(ctx, j->p, j->todo[i], bytes, len, NULL, &j->res[i]);
            ul_apply_ignores(j->todo[i], bytes, len, &j->res[i].findings, &j->res[i].fixes);
        } else {
            rc = 0;
        }
        ua_free(abs);
        ua_free(bytes);
        if (rc == UL_ENOMEM) {
            pthread_mutex_lock(&j->lock);
            j->rc = rc;
            pthread_mutex_unlock(&j->lock);
        }
    }
    ul_ctx_free(ctx);
    return NULL;
}

/* Applies ignore comments to the UA0xx findings of a list, reading each file once. Returns 0 or
 * UL_ENOMEM; the list may have lost ignored findings either way. */
static int ignores_from_disk(const ue_project *p, ua_findings *fs)
{
    /* the names point into the list, which drops findings as it goes: copies */
    char **files = ua_calloc(fs->n ? fs->n : 1, sizeof *files);
    size_t nf = 0;
    int rc = 0;
    if (!files)
        return UL_ENOMEM;
    for (size_t i = 0; i < fs->n && !rc; i++) {
        const char *file = fs->v[i].file;
        int seen = !lint_code(fs->v[i].code) || strcmp(file, UE_CONFIG_NAME) == 0;
        for (size_t k = 0; k < nf && !seen; k++)
            seen = strcmp(files[k], file) == 0;
        if (!seen && !(files[nf++] = ua_strdup(file)))
            rc = UL_ENOMEM;
    }
    for (size_t k = 0; k < nf; k++) {
        char *abs = rc ? NULL : ue_abs(p, files[k]), *bytes = NULL;
        size_t len = 0;
        int e = rc ? 0 : abs ? ue_read_in(p, files[k], &bytes, &len) : UA_ENOMEM;
        if (e == UA_ENOMEM)
            rc = UL_ENOMEM;
        else if (e == 0 && !rc)
            ul_apply_ignores(files[k], bytes, len, fs, NULL);
        ua_free(abs);
        ua_free(bytes);
        ua_free(files[k]);
    }
    ua_free(files);
    return rc;
}

int ul_check_report(ue_project *p, int lint, int jobs, ue_report *r)
{
    /* the transformer's and the engine's UA0xx findings first (their files are on disk) */
    int rc = ignores_from_disk(p, &r->findings);
    if (rc)
        return rc;
    size_t n0 = r->findings.n; /* out of memory takes back the lint's findings */
    for (size_t i = 0; i < r->n; i++) {
        ue_twin *t = &r->twins[i];
        if (t->src_bytes)
            ul_apply_ignores(t->source, t->src_bytes, t->src_len, &t->out.findings, NULL);
        ul_apply_levels(p->cfg, &t->out.findings, NULL);
    }
    if (lint) {
        const char **todo = ua_calloc(r->n ? r->n : 1, sizeof *todo);
        ul_result *res = ua_calloc(r->n ? r->n : 1, sizeof *res);
        size_t n = 0;
        if (!todo || !res) {
            ua_free(todo);
            ua_free(res);
            return UL_ENOMEM;
        }
        for (size_t i = 0; i < r->n; i++)
            if (r->twins[i].state != UE_ORPHANED && ue_is_source(p, r->twins[i].source, NULL))
                todo[n++] = r->twins[i].source;
        if (jobs <= 0) {
            long nc = sysconf(_SC_NPROCESSORS_ONLN);
            jobs = nc > 0 ? (int)nc : 1;
        }
        if ((size_t)jobs > n)
            jobs = n ? (int)n : 1;
        if (jobs > 64)
            jobs = 64;
        lint_job j = {p, todo, res, n, 0, PTHREAD_MUTEX_INITIALIZER, 0};
        pthread_t th[64];
        int started = 0;
        for (int k = 1; k < jobs; k++)
            if (pthread_create(&th[started], NULL, lint_worker, &j) == 0)
                started++;
        lint_worker(&j);
        for (int k = 0; k < started; k++)
            pthread_join(th[k], NULL);
        pthread_mutex_destroy(&j.lock);
        rc = j.rc;
        /* one UA000 for the run, however many sources it concerns */
        size_t limited = 0;
        ua_finding *first = NULL;
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < res[i].findings.n; k++)
                if (strcmp(res[i].findings.v[k].code, "UA000") == 0) {
                    limited++;
                    if (!first)
                        first = &res[i].findings.v[k];
                    break;
                }
        if (first && limited > 1) {
            char *m = ua_malloc(strlen(first->message) + 96); /* the list's: ua_free */
            if (m) {
                sprintf(m, "%s (%zu sources are affected; this is the first)", first->message,
                        limited);
                ua_free(first->message);
                first->message = m;
            } else {
                rc = UL_ENOMEM;
            }
        }
        for (size_t i = 0; i < n && !rc; i++)
            for (size_t k = 0; k < res[i].findings.n && !rc; k++) {
                ua_finding *f = &res[i].findings.v[k];
                if (strcmp(f->code, "UA000") != 0 || f == first)
                    rc = ua_findings_copy(&r->findings, f);
            }
        for (size_t i = 0; i < n; i++)
            ul_result_free(&res[i]);
        ua_free(res);
        ua_free(todo);
        if (rc) {
            ua_findings_truncate(&r->findings, n0);
            return UL_ENOMEM;
        }
    }
    ul_apply_levels(p->cfg, &r->findings, NULL);
    ua_findings_sort(&r->findings);
    return rc ? UL_ENOMEM : 0;
}
