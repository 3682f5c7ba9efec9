/* engine.c - project discovery, source listing, drift classification and atomic writes; the one
 * engine behind both `unasync --check/--write` and the language server. */
#include "engine_int.h"
#include "ua_incr.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- small helpers ---- */

typedef struct strvec {
    char **v;
    size_t n, cap;
} strvec;

static int vec_push(strvec *s, char *str)
{
    if (!str)
        return UA_ENOMEM;
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 16;
        char **v = ua_realloc(s->v, nc * sizeof *v);
        if (!v) {
            ua_free(str);
            return UA_ENOMEM;
        }
        s->v = v;
        s->cap = nc;
    }
    s->v[s->n++] = str;
    return 0;
}

static void vec_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ua_free(v[i]);
    ua_free(v);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void vec_sort_unique(strvec *s)
{
    if (s->n < 2)
        return;
    qsort(s->v, s->n, sizeof *s->v, cmp_str);
    size_t w = 1;
    for (size_t i = 1; i < s->n; i++) {
        if (strcmp(s->v[i], s->v[w - 1]) == 0)
            ua_free(s->v[i]);
        else
            s->v[w++] = s->v[i];
    }
    s->n = w;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* ---- glob ---- */

static int match_class(const char **pp, char c)
{
    const char *p = *pp + 1;
    int neg = 0, ok = 0;
    if (*p == '!' || *p == '^') {
        neg = 1;
        p++;
    }
    const char *start = p;
    while (*p && (*p != ']' || p == start)) {
        if (p[1] == '-' && p[2] && p[2] != ']') {
            if (c >= p[0] && c <= p[2])
                ok = 1;
            p += 3;
        } else {
            if (c == *p)
                ok = 1;
            p++;
        }
    }
    if (*p != ']')
        return -1; /* not a class: treat '[' literally */
    *pp = p + 1;
    return ok != neg;
}

/* One element of a compiled glob. */
enum { G_LIT, G_ANY, G_CLASS, G_STAR, G_DSTAR, G_OPT };
typedef struct gel {
    unsigned char kind; /* G_OPT, before the G_DSTAR and '/' of "**" + "/": both or neither */
    char c;             /* G_LIT */
    const char *cls;    /* G_CLASS: its '[' in the pattern */
} gel;

#define GLOB_MAX 1024 /* elements; config.c refuses longer patterns */

/* Glob matching simulates the pattern as a set of states over the path, one pass per
 * character: time is O(pattern x path) whatever the pattern, never exponential. */
int ue_glob_match(const char *pat, const char *s)
{
    gel el[GLOB_MAX];
    size_t m = 0;
    for (const char *q = pat; *q;) {
        if (m + 3 > GLOB_MAX)
            return 0;
        gel *g = &el[m++];
        memset(g, 0, sizeof *g);
        if (q[0] == '*' && q[1] == '*') {
            q += 2;
            while (*q == '*')
                q++;
            if (*q == '/') { /* zero or more whole components: [opt][**]['/'] */
                g->kind = G_OPT;
                g = &el[m++];
                memset(g, 0, sizeof *g);
            }
            g->kind = G_DSTAR;
        } else if (*q == '*') {
            g->kind = G_STAR;
            while (*q == '*' && q[1] != '*')
                q++;
        } else if (*q == '?') {
            g->kind = G_ANY;
            q++;
        } else if (*q == '[') {
            const char *p = q;
            if (match_class(&p, 'a') >= 0) {
                g->kind = G_CLASS;
                g->cls = q;
                q = p;
            } else {
                g->kind = G_LIT;
                g->c = *q++;
            }
        } else {
            g->kind = G_LIT;
            g->c = *q++;
        }
    }
    unsigned char cur[GLOB_MAX + 1], nxt[GLOB_MAX + 1];
    memset(cur, 0, m + 1);
    cur[0] = 1;
    for (const char *t = s;; t++) {
        /* epsilon moves: a star may match nothing; "**" + "/" may be skipped whole */
        for (size_t i = 0; i < m; i++) {
            if (!cur[i])
                continue;
            if (el[i].kind == G_STAR || el[i].kind == G_DSTAR || el[i].kind == G_OPT)
                cur[i + 1] = 1;
            if (el[i].kind == G_OPT && i + 3 <= m)
                cur[i + 3] = 1;
        }
        if (!*t)
            return cur[m];
        char c = *t;
        int any = 0;
        memset(nxt, 0, m + 1);
        for (size_t i = 0; i < m; i++) {
            if (!cur[i])
                continue;
            const gel *g = &el[i];
            switch (g->kind) {
            case G_LIT:
                if (g->c == c)
                    nxt[i + 1] = any = 1;
                break;
            case G_ANY:
                if (c != '/')
                    nxt[i + 1] = any = 1;
                break;
            case G_CLASS: {
                const char *p = g->cls;
                if (c != '/' && match_class(&p, c) == 1)
                    nxt[i + 1] = any = 1;
                break;
            }
            case G_STAR:
                if (c != '/')
                    nxt[i] = any = 1;
                break;
            case G_DSTAR:
                nxt[i] = any = 1;
                break;
            case G_OPT: /* consumes nothing */
                break;
            }
        }
        if (!any)
            return 0;
        memcpy(cur, nxt, m + 1);
    }
}

/* ---- project ---- */

/* The canonical folder of `path` (a file or folder that exists): realpath of the folder
 * itself, or, for anything else, of the folder holding it, so that a symbolic link named
 * unasync.json does not move the project to its target's folder. */
static int canon_folder(const char *path, char out[PATH_MAX])
{
    struct stat st;
    if (stat(path, &st) < 0)
        return -errno;
    if (S_ISDIR(st.st_mode))
        return realpath(path, out) ? 0 : -errno;
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else if (snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path) >= (int)sizeof dir)
        return -ENAMETOOLONG;
    return realpath(dir, out) ? 0 : -errno;
}

int ue_find_config(const char *start, char **config_path)
{
    char buf[PATH_MAX];
    *config_path = NULL;
    int rc = canon_folder(start && *start ? start : ".", buf);
    if (rc)
        return rc;
    struct stat st;
    for (;;) {
        char cand[PATH_MAX + 16];
        snprintf(cand, sizeof cand, "%s/%s", strcmp(buf, "/") ? buf : "", UE_CONFIG_NAME);
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
            *config_path = ua_strdup(cand);
            return *config_path ? 0 : UA_ENOMEM;
        }
        char *slash = strrchr(buf, '/');
        if (!slash || strcmp(buf, "/") == 0)
            return -ENOENT;
        if (slash == buf)
            slash[1] = '\0';
        else
            *slash = '\0';
    }
}

static int skip_dir(const char *abs, const char *name)
{
    if (name[0] == '.' || strcmp(name, "node_modules") == 0)
        return 1;
    /* build trees (meson, cmake) hold copies and generated files, never sources */
    char probe[PATH_MAX];
    struct stat st;
    snprintf(probe, sizeof probe, "%s/meson-private", abs);
    if (stat(probe, &st) == 0)
        return 1;
    snprintf(probe, sizeof probe, "%s/CMakeCache.txt", abs);
    return stat(probe, &st) == 0;
}

typedef struct walk {
    const ue_project *p;
    const char *pattern;
    strvec *out;
    ua_findings *findings;
    int rc;
} walk;

/* The folders a walk has still to list: rel path and how many levels below it may be listed. */
typedef struct dirstack {
    char **rel;
    int *depth;
    size_t n, cap;
} dirstack;

static int dirstack_push(dirstack *st, char *rel, int depth)
{
    if (!rel)
        return UA_ENOMEM;
    if (st->n == st->cap) {
        size_t nc = st->cap ? st->cap * 2 : 16;
        char **r = ua_realloc(st->rel, nc * sizeof *r);
        if (r)
            st->rel = r;
        int *d = r ? ua_realloc(st->depth, nc * sizeof *d) : NULL;
        if (!d) {
            ua_free(rel);
            return UA_ENOMEM;
        }
        st->depth = d;
        st->cap = nc;
    }
    st->rel[st->n] = rel;
    st->depth[st->n++] = depth;
    return 0;
}

/* Lists the files of one rel folder `dir` ("" = root) matching w->pattern and pushes its
 * subfolders onto `todo` instead of descending: the walk is iterative, so a tree thousands of
 * levels deep costs heap, not stack. */
static void walk_one(walk *w, const char *dir, int depth, dirstack *todo)
{
    char *abs = *dir ? ue__join(w->p->root, dir) : ua_strdup(w->p->root);
    if (!abs) {
        w->rc = UA_ENOMEM;
        return;
    }
    DIR *d = opendir(abs);
    if (!d) {
        ua_free(abs);
        return;
    }
    strvec names = {0};
    struct dirent *e;
    while (!w->rc && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            w->rc = vec_push(&names, ua_strdup(e->d_name));
    closedir(d);
    vec_sort_unique(&names);
    for (size_t i = 0; i < names.n && !w->rc; i++) {
        char *rel = *dir ? ue__join(dir, names.v[i]) : ua_strdup(names.v[i]);
        char *full = ue__join(abs, names.v[i]);
        struct stat st;
        if (!rel || !full) {
            ua_free(rel);
            ua_free(full);
            w->rc = UA_ENOMEM;
            break;
        }
        if (lstat(full, &st) == 0) {
            if (S_ISLNK(st.st_mode)) {
                char real[PATH_MAX];
                struct stat t;
                if (realpath(full, real) && stat(real, &t) == 0 && S_ISREG(t.st_mode) &&
                    ue_glob_match(w->pattern, rel)) {
                    if (ue__inside(w->p->root, real))
                        w->rc = vec_push(w->out, ua_strdup(rel));
                    else
                        w->rc = ua_findings_add(w->findings, rel, 1, 1, UA_WARNING, "UA400",
                                                "skipped: symbolic link leads outside the project");
                }
            } else if (S_ISDIR(st.st_mode)) {
                if (depth != 0 && !skip_dir(full, names.v[i])) {
                    w->rc = dirstack_push(todo, rel, depth < 0 ? -1 : depth - 1);
                    rel = NULL;
                }
            } else if (S_ISREG(st.st_mode) && ue_glob_match(w->pattern, rel)) {
                w->rc = vec_push(w->out, ua_strdup(rel));
            }
        }
        ua_free(rel);
        ua_free(full);
    }
    vec_free(names.v, names.n);
    ua_free(abs);
}

/* Lists files under rel folder `dir` matching w->pattern, `depth` levels deep at most (-1 =
 * unlimited). */
static void walk_dir(walk *w, const char *dir, int depth)
{
    dirstack todo = {0};
    w->rc = dirstack_push(&todo, ua_strdup(dir), depth);
    while (!w->rc && todo.n) {
        todo.n--;
        char *d = todo.rel[todo.n];
        walk_one(w, d, todo.depth[todo.n], &todo);
        ua_free(d);
    }
    vec_free(todo.rel, todo.n);
    ua_free(todo.depth);
}

/* Expands one glob: walks from its literal folder prefix, which must resolve inside the project
 * (a symbolic link there would take the whole walk outside). */
static int expand_glob(const ue_project *p, const char *pattern, strvec *out, ua_findings *f)
{
    /* literal prefix: whole components without wildcard characters */
    size_t lit = 0, i = 0;
    for (;;) {
        size_t j = i;
        while (pattern[j] && pattern[j] != '/')
            j++;
        int wild = strcspn(pattern + i, "*?[") < j - i;
        if (wild || !pattern[j])
            break;
        lit = j;
        i = j + 1;
    }
    char *dir = ua_strndup(pattern, lit);
    if (!dir)
        return UA_ENOMEM;
    if (*dir) {
        char *abs = ue__join(p->root, dir);
        char real[PATH_MAX];
        if (!abs) {
            ua_free(dir);
            return UA_ENOMEM;
        }
        int ok = !realpath(abs, real) || ue__inside(p->root, real); /* a missing folder lists nothing */
        ua_free(abs);
        if (!ok) {
            int rc = ua_findings_add(f, UE_CONFIG_NAME, p->cfg->sources_line, p->cfg->sources_col,
                                     UA_WARNING, "UA400",
                                     "sources: '%s' starts in '%s', a symbolic link leading "
                                     "outside the project; skipped",
                                     pattern, dir);
            ua_free(dir);
            return rc;
        }
    }
    const char *rest = pattern + (lit ? lit + 1 : 0);
    int depth = 0;
    if (strstr(rest, "**"))
        depth = -1;
    else
        for (const char *s = rest; *s; s++)
            depth += *s == '/';
    walk w = {p, pattern, out, f, 0};
    walk_dir(&w, dir, depth);
    ua_free(dir);
    return w.rc;
}

static int list_sources(ue_project *p, ua_findings *f)
{
    strvec all = {0}, src = {0}, cand = {0};
    size_t n0 = f->n; /* out of memory takes back the findings added here */
    int rc = 0;
    for (size_t i = 0; i < p->cfg->nsources && !rc; i++)
        rc = expand_glob(p, p->cfg->sources[i], &all, f);
    if (rc)
        goto done;
    vec_sort_unique(&all);
    for (size_t i = 0; i < all.n; i++) {
        const char *rel = all.v[i];
        int excluded = 0;
        for (size_t k = 0; k < p->cfg->nexclude; k++)
            excluded |= ue_glob_match(p->cfg->exclude[k], rel);
        if (excluded)
            continue;
        if (ua_is_twin_name(p->cfg->twin, base_name(rel)))
            rc = vec_push(&cand, ua_strdup(rel));
        else
            rc = vec_push(&src, ua_strdup(rel));
        if (rc)
            goto done;
    }
    /* files named like twins beside every source are candidates for the orphan check; each
     * folder is read once (sources are sorted, so one folder's sources are adjacent) */
    vec_sort_unique(&src);
    for (size_t i = 0; i < src.n && !rc; i++) {
        const char *slash = strrchr(src.v[i], '/');
        size_t dl = slash ? (size_t)(slash - src.v[i]) : 0;
        if (i > 0) {
            const char *ps = strrchr(src.v[i - 1], '/');
            size_t pl = ps ? (size_t)(ps - src.v[i - 1]) : 0;
            if (pl == dl && strncmp(src.v[i - 1], src.v[i], dl) == 0)
                continue;
        }
        char *dir = slash ? ua_strndup(src.v[i], dl) : ua_strdup("");
        char *abs = !dir ? NULL : *dir ? ue__join(p->root, dir) : ua_strdup(p->root);
        if (!abs) {
            ua_free(dir);
            rc = UA_ENOMEM;
            break;
        }
        DIR *d = opendir(abs);
        struct dirent *e;
        while (!rc && d && (e = readdir(d)))
            if (e->d_name[0] != '.' && ua_is_twin_name(p->cfg->twin, e->d_name))
                rc = vec_push(&cand, *dir ? ue__join(dir, e->d_name) : ua_strdup(e->d_name));
        if (d)
            closedir(d);
        ua_free(dir);
        ua_free(abs);
    }
    if (rc)
        goto done;
    vec_sort_unique(&cand);
    if (src.n == 0)
        rc = ua_findings_add(f, "unasync.json", p->cfg->sources_line, p->cfg->sources_col,
                             UA_WARNING, "UA300", "\"sources\" matches no file");
done:
    vec_free(all.v, all.n);
    if (rc) {
        vec_free(src.v, src.n);
        vec_free(cand.v, cand.n);
        ua_findings_truncate(f, n0);
        return rc;
    }
    vec_free(p->sources, p->nsources);
    vec_free(p->candidates, p->ncandidates);
    p->sources = src.v;
    p->nsources = src.n;
    p->candidates = cand.v;
    p->ncandidates = cand.n;
    p->view.cfg = p->cfg;
    p->view.sources = (const char *const *)p->sources;
    p->view.nsources = p->nsources;
    return 0;
}

int ue_project_open(const char *config_path, ue_project **out, ua_findings *findings)
{
    return ue_project_open_overlay(config_path, NULL, out, findings);
}

int ue_project_open_overlay(const char *config_path, const ue_overlay *ov, ue_project **out,
                            ua_findings *findings)
{
    *out = NULL;
    char root[PATH_MAX], real[PATH_MAX];
    size_t n0 = findings->n;
    /* the root is the folder the configuration is in, even when the file is a link */
    int rc = canon_folder(config_path, root);
    if (rc)
        return rc;
    if (!realpath(config_path, real))
        return -errno;
    if (!ue__inside(root, real))
        return UE_ELINKOUT;
    char *bytes;
    size_t len;
    const char *ob = ov && ov->lookup ? ov->lookup(ov->ud, UE_CONFIG_NAME, &len) : NULL;
    if (ob)
        rc = (bytes = ua_strndup(ob, len)) ? 0 : UA_ENOMEM;
    else
        rc = ue__read_path(real, 1, &bytes, &len);
    if (rc)
        return rc;
    ue_project *p = ua_calloc(1, sizeof *p);
    if (!p) {
        ua_free(bytes);
        return UA_ENOMEM;
    }
    const char *name = strrchr(config_path, '/');
    name = name ? name + 1 : config_path;
    p->root = ua_strdup(root);
    p->config_path = strcmp(root, "/") ? ue__join(root, name) : ua_strdup(real);
    if (!p->config_path || !p->root) {
        ua_free(bytes);
        ue_project_free(p);
        return UA_ENOMEM;
    }
    rc = ua_config_parse(bytes, len, UE_CONFIG_NAME, &p->cfg, findings);
    ua_free(bytes);
    if (rc == 0)
        rc = ue_load_maps(p, findings);
    if (rc == 0)
        rc = list_sources(p, findings);
    if (rc) {
        if (rc == UA_ENOMEM) /* nothing partial: not even the configuration's warnings */
            ua_findings_truncate(findings, n0);
        ue_project_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int ue_project_rescan(ue_project *p, ua_findings *findings)
{
    return list_sources(p, findings);
}

void ue_project_free(ue_project *p)
{
    if (!p)
        return;
    ua_free(p->root);
    ua_free(p->config_path);
    ua_config_free(p->cfg);
    vec_free(p->sources, p->nsources);
    vec_free(p->candidates, p->ncandidates);
    ua_free(p);
}

int ue_is_source(const ue_project *p, const char *rel, size_t *idx)
{
    size_t lo = 0, hi = p->nsources;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(p->sources[mid], rel);
        if (c == 0) {
            if (idx)
                *idx = mid;
            return 1;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

char *ue_twin_of(const ue_project *p, const char *rel)
{
    const char *b = base_name(rel);
    char *tn = ua_twin_name(p->cfg->twin, b);
    if (!tn)
        return NULL;
    size_t dl = (size_t)(b - rel);
    char *out = ua_malloc(dl + strlen(tn) + 1);
    if (out) {
        memcpy(out, rel, dl);
        strcpy(out + dl, tn);
    }
    ua_free(tn);
    return out;
}

int ue_source_of(const ue_project *p, const char *twin_rel, char **src)
{
    *src = NULL;
    for (size_t i = 0; i < p->nsources; i++) {
        char *t = ue_twin_of(p, p->sources[i]);
        if (!t)
            return UA_ENOMEM;
        int same = strcmp(t, twin_rel) == 0;
        ua_free(t);
        if (same)
            return (*src = ua_strdup(p->sources[i])) ? 0 : UA_ENOMEM;
    }
    return UE_ENOSOURCE;
}

/* ---- checking ---- */

const char *ue_state_name(ue_state s)
{
    static const char *names[] = {"ok",     "missing",  "stale",        "hand-edited",
                                  "unmanaged", "orphaned", "source-error", "io-error"};
    return (unsigned)s < sizeof names / sizeof *names ? names[s] : "?";
}

int ue__read_doc(const ue_project *p, const ue_overlay *ov, const char *rel, char **bytes,
                 size_t *len, mode_t *mode)
{
    if (ov && ov->lookup) {
        size_t n;
        const char *b = ov->lookup(ov->ud, rel, &n);
        if (b) {
            *bytes = ua_strndup(b, n);
            *len = n;
            if (mode && *bytes) {
                char *abs = ue_abs(p, rel);
                struct stat st;
                if (!abs) { /* the mode would be silently wrong */
                    ua_free(*bytes);
                    *bytes = NULL;
                    return UA_ENOMEM;
                }
                if (stat(abs, &st) == 0)
                    *mode = st.st_mode & 07777;
                ua_free(abs);
            }
            return *bytes ? 0 : UA_ENOMEM;
        }
    }
    int rc = ue_read_in(p, rel, bytes, len);
    if (rc || !mode)
        return rc;
    char *abs = ue_abs(p, rel);
    if (!abs) {
        ua_free(*bytes);
        *bytes = NULL;
        *len = 0;
        return UA_ENOMEM;
    }
    struct stat st;
    if (stat(abs, &st) == 0)
        *mode = st.st_mode & 07777;
    ua_free(abs);
    return 0;
}

typedef struct xform_call {
    ua_ctx *ctx;
    ue_project *p;
    const char *rel;
    ue_twin *t;
    int rc;
} xform_call;

static void xform_run(void *arg)
{
    xform_call *c = arg;
    c->rc = ua_transform(c->ctx, &c->p->view, c->rel, c->t->src_bytes, c->t->src_len, &c->t->out);
}

/* ua_transform on a big-stack thread: a source deep enough to crash libclang is a finding. */
static int guarded_transform(ua_ctx *ctx, ue_project *p, const char *src_rel, ue_twin *t)
{
    xform_call c = {ctx, p, src_rel, t, 0};
    if (ue_run_guarded(xform_run, &c) != UE_ECRASHED)
        return c.rc;
    memset(&t->out, 0, sizeof t->out); /* whatever it had built is lost with the crash */
    if (ua_findings_add(&t->out.findings, src_rel, 1, 1, UA_ERROR, "UA100",
                        "libclang crashed parsing this file (nesting or an expression too deep "
                        "for it); no twin can be produced"))
        return UA_ENOMEM;
    return UA_ESOURCE;
}

static int check_source(ue_project *p, ua_ctx *ctx, const char *src_rel, const ue_overlay *ov,
                        ue_twin *t)
{
    t->source = ua_strdup(src_rel);
    t->twin = ue_twin_of(p, src_rel);
    t->mode = 0644;
    if (!t->source || !t->twin)
        return UA_ENOMEM;
    int rc = ue__read_doc(p, ov, src_rel, &t->src_bytes, &t->src_len, &t->mode);
    if (rc == UA_ENOMEM)
        return rc;
    if (rc) {
        t->state = UE_IO_ERROR;
        t->err = rc;
        return 0;
    }
    rc = guarded_transform(ctx, p, src_rel, t);
    if (rc == UA_ENOMEM)
        return rc;
    rc = ue__read_doc(p, ov, t->twin, &t->actual, &t->actual_len, &t->mode);
    if (rc == UA_ENOMEM)
        return rc;
    if (rc && rc != -ENOENT) {
        t->state = UE_IO_ERROR;
        t->err = rc;
        t->err_twin = 1;
        return 0;
    }
    if (!t->out.bytes) {
        t->state = UE_SOURCE_ERROR;
        return 0;
    }
    t->expected = t->out.bytes;
    t->expected_len = t->out.len;
    if (!t->actual) {
        t->state = UE_MISSING;
        return 0;
    }
    ua_header h;
    if (ua_header_parse(t->actual, t->actual_len, &h) != 0) {
        /* a header that a formatter wrapped is still ours: an edit, not a hand-written file */
        t->state = ua_header_looks_generated(t->actual, t->actual_len) ? UE_EDITED : UE_UNMANAGED;
        if (t->state == UE_EDITED)
            return ua__diff_twin(t->actual, t->actual_len, t->expected, t->expected_len,
                                 &t->diff);
        return 0;
    }
    if (t->actual_len == t->expected_len && memcmp(t->actual, t->expected, t->actual_len) == 0) {
        t->state = UE_OK;
        return 0;
    }
    t->state = ua_header_body_intact(t->actual, t->actual_len, &h) ? UE_STALE : UE_EDITED;
    return ua__diff_twin(t->actual, t->actual_len, t->expected, t->expected_len, &t->diff);
}

int ue_check_source(ue_project *p, ua_ctx *ctx, const char *src_rel, const ue_overlay *ov,
                    ue_twin *t)
{
    memset(t, 0, sizeof *t);
    int rc = check_source(p, ctx, src_rel, ov, t);
    if (rc)
        ue_twin_free(t); /* nothing partial */
    return rc;
}

void ue_twin_free(ue_twin *t)
{
    if (!t)
        return;
    ua_free(t->source);
    ua_free(t->twin);
    ua_free(t->actual);
    ua_free(t->src_bytes);
    ua_output_free(&t->out); /* owns t->expected */
    ua_diff_free(&t->diff);
    memset(t, 0, sizeof *t);
}

/* A hunk that changes nothing but line 1 (the header: its body hash follows every change) is
 * not a change a person made; it is left out of counts and positions. */
static int header_only(const ua_hunk *h)
{
    return h->a_line == 0 && h->b_line == 0 && h->a_count <= 1 && h->b_count <= 1;
}

size_t ue_body_hunks(const ua_diff *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++)
        n += !header_only(&d->hunks[i]);
    return n;
}

size_t ue_first_body_hunk(const ua_diff *d)
{
    for (size_t i = 0; i < d->n; i++)
        if (!header_only(&d->hunks[i]))
            return i;
    return d->n;
}

static int twin_findings(const ue_twin *t, ua_findings *f)
{
    int rc = 0;
    for (size_t i = 0; i < t->out.findings.n && !rc; i++) {
        rc = ua_findings_copy(f, &t->out.findings.v[i]);
    }
    if (rc)
        return rc;
    unsigned line = 1, src_line = 1, c;
    size_t nh = 0, a, b;
    if ((t->state == UE_STALE || t->state == UE_EDITED) && ue__drift_lines(&t->diff, &nh, &a, &b)) {
        line = (unsigned)a + 1;
        size_t off = ua_line_offset(t->expected, t->expected_len, (unsigned)b + 1);
        size_t so = ua_map_to_source(&t->out.map, off);
        ua_offset_to_linecol(t->src_bytes, t->src_len, so, &src_line, &c);
    }
    return ue__drift_finding(t, line, src_line, nh, f);
}

int ue__drift_lines(const ua_diff *d, size_t *nh, size_t *a, size_t *b)
{
    size_t first = ue_first_body_hunk(d);
    *nh = ue_body_hunks(d);
    if (first >= d->n)
        return 0;
    const ua_hunk *h = &d->hunks[first];
    /* a hunk that starts on the header line but goes on into the body points at the body */
    *a = h->a_line == 0 && h->a_count > 1 ? 1 : h->a_line;
    *b = h->b_line == 0 && h->b_count > 1 ? 1 : h->b_line;
    return 1;
}

int ue__drift_finding(const ue_twin *t, unsigned line, unsigned src_line, size_t nh,
                      ua_findings *f)
{
    int rc;
    const char *src_base = base_name(t->source), *twin_base = base_name(t->twin);
    switch (t->state) {
    case UE_OK:
    case UE_SOURCE_ERROR:
        return 0;
    case UE_IO_ERROR: {
        const char *why = ue_strerror(t->err ? t->err : -EIO);
        if (t->err_twin) /* the finding sits on the file that could not be read */
            return ua_findings_add(f, t->twin, 1, 1, UA_ERROR, "UA400", "cannot read %s: %s",
                                   twin_base, why);
        return ua_findings_add(f, t->source, 1, 1, UA_ERROR, "UA400", "cannot read %s: %s",
                               src_base, why);
    }
    case UE_MISSING:
        return ua_findings_add(f, t->source, 1, 1, UA_ERROR, "UA201",
                               "%s is missing; run 'unasync --write' to generate it", twin_base);
    case UE_UNMANAGED:
        return ua_findings_add(f, t->twin, 1, 1, UA_ERROR, "UA204",
                               "%s exists but was not generated by unasync; refusing to overwrite "
                               "it (move it away, or use --write --force)",
                               twin_base);
    case UE_ORPHANED:
        return ua_findings_add(f, t->twin, 1, 1, UA_ERROR, "UA205",
                               "%s is orphaned: its source %s is gone or no longer listed in "
                               "\"sources\"; delete it (unasync --write --prune)",
                               twin_base, t->source);
    case UE_STALE:
    case UE_EDITED: {
        /* no hunk in the body: only the header line (its source path or body hash) differs */
        char what[48];
        if (nh == 0)
            snprintf(what, sizeof what, "only its header line differs");
        else
            snprintf(what, sizeof what, "%zu %s", nh, nh == 1 ? "hunk differs" : "hunks differ");
        if (t->state == UE_STALE && nh == 0)
            rc = ua_findings_add(f, t->twin, line, 1, UA_ERROR, "UA202",
                                 "%s is out of date with %s (%s); run 'unasync --write'",
                                 twin_base, src_base, what);
        else if (t->state == UE_STALE)
            rc = ua_findings_add(f, t->twin, line, 1, UA_ERROR, "UA202",
                                 "%s is out of date with %s (%zu hunk%s); run 'unasync --write'",
                                 twin_base, src_base, nh, nh == 1 ? "" : "s");
        else
            rc = ua_findings_add(f, t->twin, line, 1, UA_ERROR, "UA203",
                                 "%s was edited by hand (%s from %s); edit %s "
                                 "instead and run 'unasync --write'",
                                 twin_base, what, src_base, src_base);
        if (rc == 0) {
            ua_finding *last = &f->v[f->n - 1];
            /* the list frees it with ua_free */
            if (!(last->related_file = ua_strdup(t->source)))
                return UA_ENOMEM;
            last->related_line = src_line;
            last->related_col = 1;
        }
        return rc;
    }
    }
    return 0;
}

int ue_twin_findings(const ue_twin *t, ua_findings *f)
{
    size_t n0 = f->n;
    int rc = twin_findings(t, f);
    if (rc)
        ua_findings_truncate(f, n0); /* nothing partial */
    return rc;
}

typedef struct job {
    ue_project *p;
    const ue_overlay *ov;
    ue_twin *twins;
    char **todo;
    size_t n, next;
    pthread_mutex_t lock;
    int rc;
} job;

static void *worker(void *arg)
{
    job *j = arg;
    ua_ctx *ctx = ua_ctx_new();
    if (!ctx) {
        pthread_mutex_lock(&j->lock);
        j->rc = UA_ENOMEM;
        pthread_mutex_unlock(&j->lock);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&j->lock);
        size_t i = j->next++;
        int stop = j->rc != 0;
        pthread_mutex_unlock(&j->lock);
        if (i >= j->n || stop)
            break;
        int rc = ue_check_source(j->p, ctx, j->todo[i], j->ov, &j->twins[i]);
        ue_twin *t = &j->twins[i];
        if (rc == 0 && t->state == UE_OK && t->out.findings.n == 0) {
            /* nothing will read a clean twin's bytes again: keep memory flat on big trees */
            size_t *hits = t->out.rule_hits;
            t->out.rule_hits = NULL;
            ua_free(t->actual);
            ua_free(t->src_bytes);
            ua_output_free(&t->out);
            t->out.rule_hits = hits;
            t->actual = t->src_bytes = t->expected = NULL;
            t->actual_len = t->src_len = t->expected_len = 0;
        }
        if (rc) {
            pthread_mutex_lock(&j->lock);
            j->rc = rc;
            pthread_mutex_unlock(&j->lock);
        }
    }
    ua_ctx_free(ctx);
    return NULL;
}

static int selected(const char *rel, const char *const *filters, size_t n)
{
    if (n == 0)
        return 1;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(filters[i]);
        if (l == 0 || (strncmp(rel, filters[i], l) == 0 && (rel[l] == '\0' || rel[l] == '/')))
            return 1;
    }
    return 0;
}

static int twin_cmp(const void *a, const void *b)
{
    return strcmp(((const ue_twin *)a)->twin, ((const ue_twin *)b)->twin);
}

int ue_check(ue_project *p, const char *const *filters, size_t nfilters, const ue_overlay *ov,
             int jobs, ue_report *r)
{
    memset(r, 0, sizeof *r);
    strvec todo = {0}, orphans = {0}, twins = {0};
    int rc = 0;
    for (size_t i = 0; i < p->nsources; i++) {
        char *tw = ue_twin_of(p, p->sources[i]);
        if (!tw) {
            rc = UA_ENOMEM;
            goto done;
        }
        int sel = selected(p->sources[i], filters, nfilters) || selected(tw, filters, nfilters);
        ua_free(tw);
        if (sel && (rc = vec_push(&todo, ua_strdup(p->sources[i]))))
            goto done;
    }
    /* orphans: generated files whose source is not (or no longer) a source */
    for (size_t i = 0; i < p->nsources && !rc; i++)
        rc = vec_push(&twins, ue_twin_of(p, p->sources[i]));
    if (rc)
        goto done;
    vec_sort_unique(&twins);
    for (size_t i = 0; i < p->ncandidates && !rc; i++) {
        const char *rel = p->candidates[i];
        if (!selected(rel, filters, nfilters))
            continue;
        if (twins.n && bsearch(&rel, twins.v, twins.n, sizeof *twins.v, cmp_str))
            continue;
        char *bytes = NULL;
        size_t len = 0;
        ua_header h;
        /* a candidate that cannot be read (a FIFO, a link out ...) or has no header of ours is
         * not an orphan */
        int e = ue_read_in(p, rel, &bytes, &len);
        if (e == UA_ENOMEM)
            rc = e;
        else if (e == 0 && ua_header_parse(bytes, len, &h) == 0)
            rc = vec_push(&orphans, ue__join(rel, h.source)); /* "twin/source" pair, split below */
        ua_free(bytes);
    }
    if (rc)
        goto done;
    r->n = todo.n + orphans.n;
    r->twins = ua_calloc(r->n ? r->n : 1, sizeof *r->twins);
    if (!r->twins) {
        r->n = 0;
        rc = UA_ENOMEM;
        goto done;
    }
    if (jobs <= 0) {
        long nc = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = nc > 0 ? (int)nc : 1;
    }
    if ((size_t)jobs > todo.n / 4 + 1)
        jobs = (int)(todo.n / 4 + 1); /* threads only pay off with many files */
    job j = {p, ov, r->twins, todo.v, todo.n, 0, PTHREAD_MUTEX_INITIALIZER, 0};
    pthread_t th[64];
    int started = 0;
    if (jobs > 64)
        jobs = 64;
    for (int k = 1; k < jobs; k++)
        if (pthread_create(&th[started], NULL, worker, &j) == 0)
            started++;
    worker(&j);
    for (int k = 0; k < started; k++)
        pthread_join(th[k], NULL);
    pthread_mutex_destroy(&j.lock);
    rc = j.rc;
    for (size_t i = 0; i < orphans.n && !rc; i++) {
        ue_twin *t = &r->twins[todo.n + i];
        /* the pair was joined as "<twin rel>/<source>": the twin is a candidate path */
        for (size_t k = 0; k < p->ncandidates; k++) {
            size_t l = strlen(p->candidates[k]);
            if (strncmp(orphans.v[i], p->candidates[k], l) == 0 && orphans.v[i][l] == '/') {
                t->twin = ua_strdup(p->candidates[k]);
                t->source = ua_strdup(orphans.v[i] + l + 1);
                break;
            }
        }
        t->state = UE_ORPHANED;
        if (!t->twin || !t->source)
            rc = UA_ENOMEM;
    }
    if (rc)
        goto done;
    qsort(r->twins, r->n, sizeof *r->twins, twin_cmp);
    for (size_t i = 0; i < r->n && !rc; i++)
        rc = ue_twin_findings(&r->twins[i], &r->findings);
    /* rules that never fire: only meaningful when every source was transformed */
    if (!rc && nfilters == 0) {
        for (size_t k = 0; k < p->cfg->nrules && !rc; k++) {
            size_t hits = 0;
            for (size_t i = 0; i < r->n; i++)
                if (r->twins[i].out.rule_hits)
                    hits += r->twins[i].out.rule_hits[k];
            int all_ok = 1;
            for (size_t i = 0; i < r->n; i++)
                all_ok &= r->twins[i].state != UE_SOURCE_ERROR && r->twins[i].state != UE_IO_ERROR;
            if (!hits && all_ok)
                rc = ua_findings_add(&r->findings, UE_CONFIG_NAME, p->cfg->rules[k].line,
                                     p->cfg->rules[k].col, UA_WARNING, "UA007",
                                     "rename rule '%s' never fires in any source",
                                     p->cfg->rules[k].from);
        }
    }
    ua_findings_sort(&r->findings);
done:
    vec_free(todo.v, todo.n);
    vec_free(twins.v, twins.n);
    vec_free(orphans.v, orphans.n);
    if (rc)
        ue_report_free(r); /* nothing partial */
    return rc;
}

void ue_report_free(ue_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        ue_twin_free(&r->twins[i]);
    ua_free(r->twins);
    ua_findings_free(&r->findings);
    memset(r, 0, sizeof *r);
}

/* ---- writing ---- */

int ue_write_atomic(const char *abs_path, const char *bytes, size_t len, mode_t mode)
{
    const char *slash = strrchr(abs_path, '/');
    size_t dl = slash ? (size_t)(slash - abs_path) : 0;
    char tmp[PATH_MAX];
    const char *base = slash ? slash + 1 : abs_path;
    /* "." + name + ".unasync-XXXXXX" must fit NAME_MAX for every legal name: shorten the name */
    int keep = (int)strnlen(base, NAME_MAX);
    if (keep > NAME_MAX - 16)
        keep = NAME_MAX - 16;
    if (snprintf(tmp, sizeof tmp, "%.*s/.%.*s.unasync-XXXXXX", (int)dl, abs_path, keep, base) >=
        (int)sizeof tmp)
        return -ENAMETOOLONG;
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, bytes + done, len - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            goto fail;
        }
        done += (size_t)w;
    }
    if (fchmod(fd, mode & 07777) < 0 || fsync(fd) < 0)
        goto fail;
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, abs_path) < 0)
        goto fail;
    return 0;
fail:;
    int e = -errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return e;
}

int ue_write_twin(ue_project *p, const ue_twin *t, int force, int *wrote, ua_findings *f)
{
    *wrote = 0;
    if (!t->expected)
        return 0;
    char *abs = ue_abs(p, t->twin), *rel = NULL, *cur = NULL;
    if (!abs)
        return UA_ENOMEM;
    /* the twin's folder must resolve inside the project, and the twin must not be a link */
    int rc = ue_rel(p, abs, &rel);
    if (rc == UA_ENOMEM)
        goto done;
    struct stat st;
    int is_link = lstat(abs, &st) == 0 && S_ISLNK(st.st_mode);
    if (rc == UE_EOUTSIDE || strcmp(rel, t->twin) != 0 || is_link) {
        rc =
            ua_findings_add(f, t->twin, 1, 1, UA_ERROR, "UA400",
                            "refusing to write: the path leaves the project or is a symbolic link");
        rc = rc ? rc : 1;
        goto done;
    }
    size_t cur_len = 0;
    rc = ue__read_path(abs, 1, &cur, &cur_len);
    if (rc == 0) {
        ua_header h;
        if (cur_len == t->expected_len && memcmp(cur, t->expected, cur_len) == 0)
            goto done; /* up to date: keep the mtime */
        if (!force && ua_header_parse(cur, cur_len, &h) != 0 &&
            !ua_header_looks_generated(cur, cur_len)) {
            rc = ua_findings_add(f, t->twin, 1, 1, UA_ERROR, "UA204",
                                 "%s exists but was not generated by unasync; refusing to "
                                 "overwrite it (move it away, or use --force)",
                                 base_name(t->twin));
            rc = rc ? rc : 1;
            goto done;
        }
    } else if (rc == UA_ENOMEM) {
        goto done;
    } else if (rc != -ENOENT) {
        int e = ua_findings_add(f, t->twin, 1, 1, UA_ERROR, "UA400", "cannot read %s: %s",
                                base_name(t->twin), ue_strerror(rc));
        rc = e ? e : rc;
        goto done;
    }
    mode_t mode = t->mode ? t->mode : 0644;
    rc = ue_write_atomic(abs, t->expected, t->expected_len, mode);
    if (rc) {
        int e = ua_findings_add(f, t->twin, 1, 1, UA_ERROR, "UA400", "cannot write %s: %s",
                                base_name(t->twin), ue_strerror(rc));
        rc = e ? e : rc;
        goto done;
    }
    *wrote = 1;
done:
    ua_free(cur);
    ua_free(rel);
    ua_free(abs);
    return rc;
}

/* The refusal of ue_delete_orphan: a finding, then 1. */
static int refuse_delete(const ue_twin *t, const char *code, const char *why, ua_findings *f)
{
    int rc = ua_findings_add(f, t->twin, 1, 1, UA_ERROR, code, "%s; not deleted", why);
    return rc ? rc : 1;
}

int ue_delete_orphan(ue_project *p, const ue_twin *t, int *deleted, ua_findings *f)
{
    *deleted = 0;
    const char *name = base_name(t->twin);
    char *abs = ue_abs(p, t->twin), *rel = NULL, *bytes = NULL;
    char dir[PATH_MAX];
    int dfd = -1;
    if (!abs)
        return UA_ENOMEM;
    /* the canonical path must be the twin's own: no link in the folders, none as the file */
    struct stat st, now;
    int rc = ue_rel(p, abs, &rel);
    if (rc == UA_ENOMEM)
        goto done;
    if (rc == UE_EOUTSIDE || strcmp(rel, t->twin) != 0 || lstat(abs, &st) != 0 ||
        !S_ISREG(st.st_mode)) {
        rc = refuse_delete(t, "UA400",
                           "refusing to delete: the path leaves the project or is a symbolic link",
                           f);
        goto done;
    }
    size_t len = 0;
    ua_header h;
    rc = ue_read_in(p, t->twin, &bytes, &len);
    if (rc == UA_ENOMEM)
        goto done;
    if (rc || ua_header_parse(bytes, len, &h) != 0 || !ua_header_body_intact(bytes, len, &h)) {
        rc = refuse_delete(t, "UA205", "orphaned twin was edited by hand", f);
        goto done;
    }
    /* unlinked by name from the folder opened once: a link swapped in since is never followed */
    snprintf(dir, sizeof dir, "%s", p->root);
    size_t dl = (size_t)(name - t->twin);
    if (dl && strlen(dir) + 1 + dl < sizeof dir) {
        strcat(dir, "/");
        strncat(dir, t->twin, dl - 1);
    }
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0 || fstatat(dfd, name, &now, AT_SYMLINK_NOFOLLOW) != 0 || now.st_ino != st.st_ino ||
        now.st_dev != st.st_dev || !S_ISREG(now.st_mode)) {
        rc = refuse_delete(t, "UA400", "refusing to delete: the file changed while it was checked",
                           f);
        goto done;
    }
    if (unlinkat(dfd, name, 0) != 0) {
        rc = -errno;
        int e = ua_findings_add(f, t->twin, 1, 1, UA_ERROR, "UA400", "cannot delete %s: %s", name,
                                ue_strerror(rc));
        rc = e ? e : rc;
        goto done;
    }
    *deleted = 1;
    rc = 0;
done:
    if (dfd >= 0)
        close(dfd);
    ua_free(bytes);
    ua_free(rel);
    ua_free(abs);
    return rc;
}

int ue_write_over(const ue_project *p, const char *rel, const char *expect, size_t expect_len,
                  const char *bytes, size_t len)
{
    int config = strcmp(rel, UE_CONFIG_NAME) == 0;
    char *now = NULL;
    size_t now_len = 0;
    int rc = config ? ue_read_file(p->config_path, &now, &now_len)
                    : ue_read_in(p, rel, &now, &now_len);
    if (rc == 0 && (now_len != expect_len || memcmp(now, expect, now_len) != 0))
        rc = UE_ECHANGED;
    ua_free(now);
    if (rc)
        return rc;
    char *abs = config ? ua_strdup(p->config_path) : ue_abs(p, rel);
    if (!abs)
        return UA_ENOMEM;
    struct stat sb;
    rc = stat(abs, &sb) != 0 ? -errno : ue_write_atomic(abs, bytes, len, sb.st_mode & 07777);
    ua_free(abs);
    return rc;
}
