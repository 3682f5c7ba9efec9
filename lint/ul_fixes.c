/* ul_fixes.c - quick fixes as data: the fix and result records, fixes applied to bytes (one or
 * several of a file), the fixes that edit unasync.json (a rename rule, a map), the shape of a
 * proposed rule, and the text scans they share with the lint (coroutine entries). The bottom
 * layer of lint/: it calls no other file of the lint. */
#include "ul_int.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- fix and result records ---- */

void ul_fixes_free(ul_fixes *fx)
{
    if (!fx)
        return;
    for (size_t i = 0; i < fx->n; i++)
        ul__fix_clear(&fx->v[i]);
    ua_free(fx->v);
    memset(fx, 0, sizeof *fx);
}

void ul__fix_clear(ul_fix *f)
{
    ua_free(f->title);
    ua_free(f->file);
    ua_free(f->text);
    ua_free(f->rule_name);
    ua_free(f->rule_target);
    f->title = f->file = f->text = f->rule_name = f->rule_target = NULL;
}

int ul__fix_dup(ul_fix *d, const ul_fix *f)
{
    *d = *f;
    d->title = ua_strdup(f->title);
    d->file = ua_strdup(f->file);
    d->text = ua_strdup(f->text);
    d->rule_name = f->rule_name ? ua_strdup(f->rule_name) : NULL;
    d->rule_target = f->rule_target ? ua_strdup(f->rule_target) : NULL;
    if (!d->title || !d->file || !d->text || (f->rule_name && !d->rule_name) ||
        (f->rule_target && !d->rule_target)) {
        ul__fix_clear(d);
        return UL_ENOMEM;
    }
    return 0;
}

/* Whether a fix of this code is one to apply unattended (ul.h, ul_fix.preferred). UA003's
 * "mark the function async" is not: every caller of that function then has to change. */
static int preferred_code(const char *code)
{
    return strcmp(code, "UA001") == 0 || strcmp(code, "UA002") == 0 || strcmp(code, "UA004") == 0 ||
           strcmp(code, "UA005") == 0 || strcmp(code, "UA009") == 0 || strcmp(code, "UA010") == 0;
}

ul_fix *ul__fix_slot(ul_fixes *fx)
{
    if (fx->n == fx->cap) {
        size_t nc = fx->cap ? fx->cap * 2 : 8;
        ul_fix *v = ua_realloc(fx->v, nc * sizeof *v);
        if (!v)
            return NULL;
        fx->v = v;
        fx->cap = nc;
    }
    memset(&fx->v[fx->n], 0, sizeof *fx->v);
    return &fx->v[fx->n];
}

int ul__fix_add(ul_fixes *fx, const char *code, unsigned line, unsigned col, const char *title,
                const char *file, const char *bytes, size_t len, size_t off, size_t del,
                const char *text)
{
    if (off > len || del > len - off)
        return UL_EINVAL;
    ul_fix *f = ul__fix_slot(fx);
    if (!f)
        return UL_ENOMEM;
    snprintf(f->code, sizeof f->code, "%s", code);
    f->line = line;
    f->col = col;
    f->off = off;
    f->len = del;
    ua_offset_to_linecol(bytes, len, off, &f->start_line, &f->start_col);
    ua_offset_to_linecol(bytes, len, off + del, &f->end_line, &f->end_col);
    f->title = ua_strdup(title);
    f->file = ua_strdup(file);
    f->text = ua_strdup(text);
    f->preferred = preferred_code(code);
    if (!f->title || !f->file || !f->text) {
        ul__fix_clear(f);
        return UL_ENOMEM;
    }
    fx->n++;
    return 0;
}

int ul_fix_apply(const ul_fix *fx, const char *bytes, size_t len, char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (fx->off > len || fx->len > len - fx->off)
        return UL_EINVAL;
    size_t tl = strlen(fx->text), n = len - fx->len + tl;
    char *b = ua_malloc(n + 1);
    if (!b)
        return UL_ENOMEM;
    memcpy(b, bytes, fx->off);
    memcpy(b + fx->off, fx->text, tl);
    memcpy(b + fx->off + tl, bytes + fx->off + fx->len, len - fx->off - fx->len);
    b[n] = '\0';
    *out = b;
    *out_len = n;
    return 0;
}

void ul_result_free(ul_result *r)
{
    if (!r)
        return;
    ua_findings_free(&r->findings);
    ul_fixes_free(&r->fixes);
    r->limited = 0;
    r->source_errors = 0;
}

void ul__result_truncate(ul_result *out, size_t n0, size_t x0)
{
    ua_findings_truncate(&out->findings, n0);
    while (out->fixes.n > x0) {
        ul__fix_clear(&out->fixes.v[--out->fixes.n]);
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
