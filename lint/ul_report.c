/* ul_report.c - what the lint adds around the rules: severities from unasync.json, ignore
 * comments, the rename-rule fix (an edit of unasync.json) and the lint of a whole project. */
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

/* ---- the rename-rule fix ---- */

/* A small scanner over unasync.json: the offset of the value of top-level key `key` (or
 * *absent = 1), and the offset of the top-level object's '{'. The configuration was validated
 * before the lint ran, so the bytes are well-formed JSON. */
static size_t skip_ws(const char *b, size_t len, size_t i)
{
    while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r'))
        i++;
    return i;
}

static size_t skip_string(const char *b, size_t len, size_t i)
{
    for (i++; i < len && b[i] != '"'; i++)
        if (b[i] == '\\')
            i++;
    return i + 1;
}

static int find_key(const char *b, size_t len, const char *key, size_t *top, size_t *value)
{
    size_t i = skip_ws(b, len, 0);
    if (i >= len || b[i] != '{')
        return -1;
    *top = i;
    int depth = 0;
    size_t kl = strlen(key);
    for (; i < len; i++) {
        char c = b[i];
        if (c == '"') {
            size_t e = skip_string(b, len, i);
            size_t after = skip_ws(b, len, e);
            if (depth == 1 && after < len && b[after] == ':' && e - i - 2 == kl &&
                memcmp(b + i + 1, key, kl) == 0) {
                *value = skip_ws(b, len, after + 1);
                return 0;
            }
            i = e - 1;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return 1;
}

/* Inserts `member` as the first member of the object whose '{' is at `open`: before the
 * existing first member with the same spacing, or alone in an empty object. */
static int insert_member(ul_fixes *fx, const char *code, unsigned line, unsigned col,
                         const char *title, const char *b, size_t len, size_t open,
                         const char *member)
{
    size_t first = skip_ws(b, len, open + 1);
    char text[1200];
    if (first < len && b[first] == '}') {
        snprintf(text, sizeof text, "%s", member);
        return ul__fix_add(fx, code, line, col, title, UE_CONFIG_NAME, b, len, open + 1, 0, text);
    }
    size_t gap = first - open - 1;
    if (gap > 200)
        gap = 200;
    snprintf(text, sizeof text, "%s,%.*s", member, (int)gap, b + open + 1);
    return ul__fix_add(fx, code, line, col, title, UE_CONFIG_NAME, b, len, first, 0, text);
}

int ul__fix_rename_rule(ul_fixes *fx, const char *code, unsigned line, unsigned col,
                        const char *title, const char *cfg_bytes, size_t cfg_len, const char *name,
                        const char *target)
{
    size_t top = 0, value = 0, n0 = fx->n;
    int found = find_key(cfg_bytes, cfg_len, "rename", &top, &value), rc;
    char member[1100];
    if (found < 0)
        return 0;
    if (found == 0 && value < cfg_len && cfg_bytes[value] == '{') {
        snprintf(member, sizeof member, "\"%s\": \"%s\"", name, target);
        rc = insert_member(fx, code, line, col, title, cfg_bytes, cfg_len, value, member);
    } else if (found == 0) {
        return 0;
    } else {
        snprintf(member, sizeof member, "\"rename\": { \"%s\": \"%s\" }", name, target);
        rc = insert_member(fx, code, line, col, title, cfg_bytes, cfg_len, top, member);
    }
    if (rc || fx->n == n0)
        return rc;
    /* the rule itself, so that ul_fixes_apply can merge several into one object */
    ul_fix *f = &fx->v[fx->n - 1];
    f->rule_name = ua_strdup(name);
    f->rule_target = ua_strdup(target);
    if (!f->rule_name || !f->rule_target) {
        ul__fix_clear(f);
        fx->n--;
        return UL_ENOMEM;
    }
    return 0;
}

int ul__fix_add_map(ul_fixes *fx, const char *code, unsigned line, unsigned col, const char *title,
                    const char *cfg_bytes, size_t cfg_len, const char *map)
{
    size_t top = 0, value = 0;
    int found = find_key(cfg_bytes, cfg_len, "maps", &top, &value);
    char text[600];
    if (found < 0 || (found == 0 && (value >= cfg_len || cfg_bytes[value] != '[')))
        return 0;
    if (found == 0) {
        size_t first = skip_ws(cfg_bytes, cfg_len, value + 1);
        snprintf(text, sizeof text, "\"%s\"%s", map,
                 first < cfg_len && cfg_bytes[first] == ']' ? "" : ", ");
        return ul__fix_add(fx, code, line, col, title, UE_CONFIG_NAME, cfg_bytes, cfg_len,
                           first < cfg_len && cfg_bytes[first] == ']' ? value + 1 : first, 0, text);
    }
    snprintf(text, sizeof text, "\"maps\": [\"%s\"]", map);
    return insert_member(fx, code, line, col, title, cfg_bytes, cfg_len, top, text);
}

/* Whether the map file `file` lists header `path`: 1 with its name in `name`, 0, or
 * UL_ENOMEM. */
static int map_lists(const ua_config *cfg, const char *file, const char *path, char *name,
                     size_t cap)
{
    char *bytes = NULL;
    size_t len = 0;
    int rc = ue_read_file(file, &bytes, &len);
    if (rc)
        return rc == UA_ENOMEM ? UL_ENOMEM : 0;
    ua_map *m = NULL;
    ua_findings f = {0};
    rc = ua_map_parse(bytes, len, file, &m, &f);
    ua_findings_free(&f);
    ua_free(bytes);
    if (rc)
        return rc == UA_ENOMEM ? UL_ENOMEM : 0;
    int hit = 0;
    size_t pl = strlen(path);
    for (size_t i = 0; i < m->nheaders && !hit && !ua_config_map(cfg, m->name); i++) {
        size_t hl = strlen(m->headers[i].from);
        hit =
            hl < pl && path[pl - hl - 1] == '/' && strcmp(path + pl - hl, m->headers[i].from) == 0;
    }
    if (hit)
        snprintf(name, cap, "%s", m->name);
    ua_map_free(m);
    return hit;
}

/* Looks through the NAME.json files of folder `dir` (map_lists). */
static int maps_in_dir(const ua_config *cfg, const char *dir, size_t dl, const char *path,
                       char *name, size_t cap)
{
    char d[PATH_MAX];
    if (dl == 0 || dl >= sizeof d)
        return 0;
    memcpy(d, dir, dl);
    d[dl] = '\0';
    DIR *dh = opendir(d);
    struct dirent *e;
    int rc = 0;
    while (dh && rc == 0 && (e = readdir(dh))) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        char file[PATH_MAX * 2];
        snprintf(file, sizeof file, "%s/%s", d, e->d_name);
        rc = map_lists(cfg, file, path, name, cap);
    }
    if (dh)
        closedir(dh);
    return rc;
}

int ul__map_for_header(const ua_config *cfg, const char *path, char *name, size_t cap)
{
    const char *env = getenv("UNASYNC_MAP_PATH");
    int rc = 0;
    for (const char *q = env ? env : ""; *q && rc == 0;) {
        size_t n = strcspn(q, ":");
        rc = maps_in_dir(cfg, q, n, path, name, cap);
        q += n + (q[n] == ':');
    }
    const char *dir = ue_layout_get()->mapdir;
    if (rc == 0 && dir)
        rc = maps_in_dir(cfg, dir, strlen(dir), path, name, cap);
    return rc;
}

/* ---- the shape of a proposed rule ---- */

enum { AT_FRONT, AT_PREFIX, AT_END };

/* Where configured rule from -> to inserts text into `from` (*at, the text in ins): 0 when
 * `to` is `from` with one insertion, -1 otherwise. */
static int rule_insertion(const char *from, const char *to, int *at, char *ins, size_t cap)
{
    size_t fl = strlen(from), tl = strlen(to), i = 0, j = 0;
    if (tl <= fl)
        return -1;
    while (i < fl && from[i] == to[i])
        i++;
    while (j < fl - i && from[fl - 1 - j] == to[tl - 1 - j])
        j++;
    if (i + j != fl || tl - fl >= cap)
        return -1;
    snprintf(ins, cap, "%.*s", (int)(tl - fl), to + i);
    const char *us = strchr(from, '_');
    if (i == 0)
        *at = AT_FRONT;
    else if (us && (size_t)(us - from) + 1 == i)
        *at = AT_PREFIX;
    else if (i == fl || (i + 1 == fl && from[i] == '*'))
        *at = AT_END;
    else
        return -1;
    return 0;
}

void ul__rule_target(const ua_config *cfg, const char *name, char *out, size_t cap)
{
    /* the most frequent insertion among the configured rules */
    char best[64] = "sync_", ins[64];
    int best_at = -1, best_votes = 0;
    for (size_t i = 0; cfg && i < cfg->nrules; i++) {
        int at, votes = 0;
        if (rule_insertion(cfg->rules[i].from, cfg->rules[i].to, &at, ins, sizeof ins))
            continue;
        for (size_t k = 0; k < cfg->nrules; k++) {
            int at2;
            char ins2[64];
            votes += rule_insertion(cfg->rules[k].from, cfg->rules[k].to, &at2, ins2,
                                    sizeof ins2) == 0 &&
                     at2 == at && strcmp(ins2, ins) == 0;
        }
        if (votes > best_votes) {
            best_votes = votes;
            best_at = at;
            snprintf(best, sizeof best, "%s", ins);
        }
    }
    const char *us = strchr(name, '_');
    int short_prefix = us && us > name && us - name <= 4 && us[1];
    int at = best_at < 0 ? (short_prefix ? AT_PREFIX : AT_FRONT) : best_at;
    if (at == AT_PREFIX && !(us && us > name && us[1]))
        at = AT_FRONT;
    size_t nl = strlen(name);
    if (at == AT_PREFIX)
        snprintf(out, cap, "%.*s%s%s", (int)(us - name + 1), name, best, us + 1);
    else if (at == AT_END && nl && name[nl - 1] == '*')
        snprintf(out, cap, "%.*s%s*", (int)(nl - 1), name, best);
    else if (at == AT_END)
        snprintf(out, cap, "%s%s", name, best);
    else
        snprintf(out, cap, "%s%s", best, name);
}

/* ---- coroutine entries ---- */

static int ident_char(char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

size_t ul__skip_noncode(const char *b, size_t len, size_t i)
{
    if (b[i] == '/' && i + 1 < len && b[i + 1] == '/') {
        while (i < len && b[i] != '\n')
            i++;
    } else if (b[i] == '/' && i + 1 < len && b[i + 1] == '*') {
        for (i += 2; i + 1 < len && !(b[i] == '*' && b[i + 1] == '/'); i++)
            ;
        i = i + 2 < len ? i + 2 : len;
    } else if (b[i] == '"' || b[i] == '\'') {
        char q = b[i];
        for (i++; i < len && b[i] != q && b[i] != '\n'; i++)
            if (b[i] == '\\')
                i++;
        i = i < len ? i + 1 : len;
    }
    return i;
}

static size_t skip_blank(const char *b, size_t len, size_t i)
{
    while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r'))
        i++;
    return i;
}

int ul__entries(const char *src, size_t len, char ***v, size_t *n)
{
    static const char *const starters[] = {"async_run", "async_spawn"};
    size_t cap = *n;
    for (size_t i = 0; i < len;) {
        size_t e = ul__skip_noncode(src, len, i);
        if (e != i) {
            i = e;
            continue;
        }
        if (!ident_char(src[i]) || (i > 0 && ident_char(src[i - 1]))) {
            i++;
            continue;
        }
        size_t t = i;
        while (t < len && ident_char(src[t]))
            t++;
        int starter = 0;
        for (size_t k = 0; k < 2; k++)
            starter |= t - i == strlen(starters[k]) && memcmp(src + i, starters[k], t - i) == 0;
        i = t;
        if (!starter)
            continue;
        size_t q = skip_blank(src, len, t);
        if (q >= len || src[q] != '(')
            continue;
        q = skip_blank(src, len, q + 1);
        if (q < len && src[q] == '&')
            q = skip_blank(src, len, q + 1);
        size_t a = q;
        while (q < len && ident_char(src[q]))
            q++;
        size_t a_end = q;
        q = skip_blank(src, len, q);
        if (a_end == a || q >= len || src[q] != ',')
            continue;
        int dup = 0;
        for (size_t k = 0; k < *n && !dup; k++)
            dup = strlen((*v)[k]) == a_end - a && memcmp((*v)[k], src + a, a_end - a) == 0;
        if (dup)
            continue;
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            char **nv = ua_realloc(*v, nc * sizeof *nv);
            if (!nv)
                return UL_ENOMEM;
            *v = nv;
            cap = nc;
        }
        if (!((*v)[*n] = ua_strndup(src + a, a_end - a)))
            return UL_ENOMEM;
        (*n)++;
    }
    return 0;
}

/* ---- several fixes of one file ---- */

int ul_fix_overlaps(const ul_fix *a, const ul_fix *b)
{
    if (strcmp(a->file, b->file) != 0)
        return 0;
    if (a->rule_name && b->rule_name)
        return 0;
    if (a->off == b->off && a->len == b->len && strcmp(a->text, b->text) == 0)
        return 0;
    const ul_fix *lo = a->off <= b->off ? a : b, *hi = lo == a ? b : a;
    if (lo->off == hi->off)
        return 1; /* two edits that start at one place: their order would be a guess */
    return hi->off < lo->off + lo->len;
}

static int same_fix(const ul_fix *a, const ul_fix *b)
{
    return a->off == b->off && a->len == b->len && strcmp(a->text, b->text) == 0;
}

int ul_fixes_apply(const ul_fix *const *v, size_t n, const char *bytes, size_t len, char **out,
                   size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    /* the plain edits first, in one pass: check, measure, copy */
    size_t total = len, last_end = 0;
    const ul_fix *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        const ul_fix *x = v[i];
        if (x->rule_name)
            continue;
        if (x->off > len || x->len > len - x->off)
            return UL_EINVAL;
        if (prev && same_fix(prev, x))
            continue;
        if (prev && (x->off < last_end || ul_fix_overlaps(prev, x)))
            return UL_EINVAL;
        total = total - x->len + strlen(x->text);
        last_end = x->off + x->len;
        prev = x;
    }
    char *b = ua_malloc(total + 1);
    if (!b)
        return UL_ENOMEM;
    size_t w = 0, r = 0;
    prev = NULL;
    for (size_t i = 0; i < n; i++) {
        const ul_fix *x = v[i];
        if (x->rule_name || (prev && same_fix(prev, x)))
            continue;
        memcpy(b + w, bytes + r, x->off - r);
        w += x->off - r;
        size_t tl = strlen(x->text);
        memcpy(b + w, x->text, tl);
        w += tl;
        r = x->off + x->len;
        prev = x;
    }
    memcpy(b + w, bytes + r, len - r);
    w += len - r;
    b[w] = '\0';
    /* rename rules one after another, each derived again from the bytes as they grew; each
     * goes first in the object, so the last is added first and the rules keep their order */
    for (size_t i = n; i-- > 0;) {
        const ul_fix *x = v[i];
        int dup = 0;
        for (size_t k = 0; k < i && x->rule_name && !dup; k++)
            dup = v[k]->rule_name && strcmp(v[k]->rule_name, x->rule_name) == 0;
        if (!x->rule_name || dup)
            continue;
        ul_fixes one = {0};
        char *nb = NULL;
        size_t nl = 0;
        int rc = ul__fix_rename_rule(&one, x->code, x->line, x->col, x->title, b, w, x->rule_name,
                                     x->rule_target);
        if (rc == 0 && one.n == 1)
            rc = ul_fix_apply(&one.v[0], b, w, &nb, &nl);
        ul_fixes_free(&one);
        if (rc) {
            ua_free(b);
            return rc == UL_ENOMEM ? UL_ENOMEM : UL_EINVAL;
        }
        if (nb) {
            ua_free(b);
            b = nb;
            w = nl;
        }
    }
    *out = b;
    *out_len = w;
    return 0;
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

int ul_check_report(ue_project *p, const char *const *filters, size_t nfilters, int lint, int jobs,
                    ue_report *r)
{
    (void)filters;
    (void)nfilters; /* ue_check already selected the sources: its twins name them */
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
