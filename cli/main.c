/* main.c - the `unasync` command: --check, --write, --print and --stdio over the shared engine. */
#include "engine.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef UNASYNC_HAVE_SERVER
#include "server.h"
#endif
#ifdef UNASYNC_HAVE_LINT
#include "ul.h"
#endif

#ifndef UNASYNC_VERSION
#define UNASYNC_VERSION "0.0.0"
#endif

enum { EXIT_CLEAN = 0, EXIT_FINDINGS = 1, EXIT_ERROR = 2 };
enum { MODE_NONE, MODE_CHECK, MODE_WRITE, MODE_PRINT, MODE_STDIO, MODE_FIX, MODE_PRINT_MAP };
enum { FMT_TEXT, FMT_JSON, FMT_GITHUB };

typedef struct opts {
    int mode;
    int diff, force, prune, strict, quiet, no_lint;
    int format;
    int jobs;
    const char *config;
    const char *print_file;
    const char *map_name, *include_dir; /* --print-map NAME --include-dir DIR */
} opts;

static const char usage[] =
    "usage: unasync --check [--diff] [--format=text|json|github] [--strict] [--no-lint] "
    "[PATH...]\n"
    "       unasync --fix [--diff] [--format=text|json|github] [--strict] [PATH...]\n"
    "       unasync --write [--force] [--prune] [PATH...]\n"
    "       unasync --print FILE\n"
    "       unasync --print-map NAME [--include-dir DIR] [PATH...]\n"
    "       unasync --stdio\n"
    "       unasync --version | --help\n"
    "\n"
    "Generates the blocking twin (sync_*.c/.h) of async C sources and checks that committed\n"
    "twins are in step with their sources. The project is the nearest folder holding\n"
    "unasync.json, found by walking up from each PATH (default: the working directory).\n"
    "\n"
    "  --check           report every twin that is missing, stale, hand-edited or orphaned,\n"
    "                    and every problem in the sources; exit 0 clean, 1 findings, 2 error\n"
    "  --fix             apply the lint's preferred quick fixes (UA001, UA002, UA004, UA005,\n"
    "                    UA009, UA010), regenerate the twins, then report what --check still\n"
    "                    finds\n"
    "  --diff            with --check: print each drifted twin as a unified diff; with --fix:\n"
    "                    print the fixes as a diff and write nothing (exit 1 if any)\n"
    "  --format=FMT      text (file:line:col: severity: message [code]), json, or github\n"
    "                    (workflow annotations)\n"
    "  --strict          with --check or --fix: warnings count as findings too\n"
    "  --no-lint         with --check: skip the async-correctness lint (UA000-UA005, UA009,\n"
    "                    UA010)\n"
    "  --write           regenerate the twins that are out of date (atomic, only on change)\n"
    "  --force           with --write: overwrite a file that unasync did not generate\n"
    "  --prune           with --write: delete orphaned twins (only if not edited by hand)\n"
    "  --print FILE      write the twin of async source FILE to standard output\n"
    "  --print-map NAME  write the project's rule map NAME (its rename rules and the header\n"
    "                    sources with their twins) to standard output, for its users'\n"
    "                    \"maps\"; PATHs limit the headers\n"
    "  --include-dir DIR with --print-map: spell headers as #include finds them from DIR\n"
    "  --config FILE     use this unasync.json instead of searching for one\n"
    "  -j, --jobs N      threads for --check/--write (default: one per core)\n"
    "  -q, --quiet       no summary line on standard error\n"
    "  --stdio           run the language server on standard input/output\n"
    "  --version         print the version\n"
    "  -h, --help        print this help\n"
    "\n"
    "Documentation: docs/cli.md, docs/configuration.md, docs/guide.md\n";

/* ---- paths relative to the working directory, for clickable output ---- */

static char cwd[PATH_MAX];

static char *display_path(const ue_project *p, const char *rel)
{
    char abs[PATH_MAX * 2];
    if (rel[0] == '/') /* a file outside the project, such as an installed rule map */
        snprintf(abs, sizeof abs, "%s", rel);
    else
        snprintf(abs, sizeof abs, "%s/%s", strcmp(p->root, "/") ? p->root : "", rel);
    size_t cl = strlen(cwd);
    if (strncmp(abs, cwd, cl) == 0 && abs[cl] == '/')
        return strdup(abs + cl + 1);
    /* walk up from cwd until it is a prefix */
    char up[PATH_MAX * 2] = "";
    char base[PATH_MAX];
    snprintf(base, sizeof base, "%s", cwd);
    for (int i = 0; i < 64; i++) {
        char *slash = strrchr(base, '/');
        if (!slash)
            break;
        *slash = '\0';
        strncat(up, "../", sizeof up - strlen(up) - 1);
        size_t bl = strlen(base);
        if (strncmp(abs, base, bl) == 0 && abs[bl] == '/') {
            char *out = malloc(strlen(up) + strlen(abs + bl + 1) + 1);
            if (out) {
                strcpy(out, up);
                strcat(out, abs + bl + 1);
            }
            return out;
        }
    }
    return strdup(abs);
}

static const char *sev_name(ua_severity s)
{
    switch (s) {
    case UA_ERROR:
        return "error";
    case UA_WARNING:
        return "warning";
    case UA_INFO:
        return "info";
    default:
        return "hint";
    }
}

static void json_str(FILE *o, const char *s)
{
    fputc('"', o);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(o, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", o);
        else if (c == '\t')
            fputs("\\t", o);
        else if (c < 0x20)
            fprintf(o, "\\u%04x", c);
        else
            fputc(c, o);
    }
    fputc('"', o);
}

static void gh_escape(FILE *o, const char *s, int property)
{
    for (; *s; s++) {
        if (*s == '%')
            fputs("%25", o);
        else if (*s == '\r')
            fputs("%0D", o);
        else if (*s == '\n')
            fputs("%0A", o);
        else if (property && *s == ':')
            fputs("%3A", o);
        else if (property && *s == ',')
            fputs("%2C", o);
        else
            fputc(*s, o);
    }
}

typedef struct outcome {
    size_t errors, warnings, infos;
    int fatal;
    size_t json_items;
} outcome;

static void print_finding(const opts *o, const ue_project *p, const ua_finding *f, outcome *oc)
{
    char *path = p && strcmp(f->file, UE_CONFIG_NAME) != 0 ? display_path(p, f->file)
                 : p ? display_path(p, UE_CONFIG_NAME)
                     : strdup(f->file);
    if (!path)
        return;
    if (f->severity == UA_ERROR)
        oc->errors++;
    else if (f->severity == UA_WARNING)
        oc->warnings++;
    else
        oc->infos++;
    switch (o->format) {
    case FMT_TEXT:
        printf("%s:%u:%u: %s: %s [%s]\n", path, f->line, f->col, sev_name(f->severity),
               f->message, f->code);
        break;
    case FMT_GITHUB:
        printf("::%s file=", f->severity == UA_ERROR     ? "error"
                             : f->severity == UA_WARNING ? "warning"
                                                         : "notice");
        gh_escape(stdout, path, 1);
        printf(",line=%u,col=%u,endLine=%u,endColumn=%u,title=unasync %s::", f->line, f->col,
               f->end_line, f->end_col, f->code);
        gh_escape(stdout, f->message, 0);
        putchar('\n');
        break;
    case FMT_JSON:
        printf("%s\n    {\"file\": ", oc->json_items++ ? "," : "");
        json_str(stdout, path);
        printf(", \"line\": %u, \"column\": %u, \"endLine\": %u, \"endColumn\": %u, "
               "\"severity\": \"%s\", \"code\": \"%s\", \"message\": ",
               f->line, f->col, f->end_line, f->end_col, sev_name(f->severity), f->code);
        json_str(stdout, f->message);
        if (f->related_file) {
            char *rp = p ? display_path(p, f->related_file) : strdup(f->related_file);
            printf(", \"related\": {\"file\": ");
            json_str(stdout, rp ? rp : f->related_file);
            printf(", \"line\": %u}", f->related_line);
            free(rp);
        }
        putchar('}');
        break;
    }
    free(path);
}

/* Prints on stdout the unified diff from `old` to `new` of project file `rel`; a NULL side is a
 * file that does not exist (shown as /dev/null). */
static void print_unified(const ue_project *p, const char *rel, const char *old, size_t old_len,
                          const char *new, size_t new_len)
{
    char *name = display_path(p, rel);
    char *buf = NULL;
    size_t len = 0;
    char a[PATH_MAX + 8], b[PATH_MAX + 8];
    snprintf(a, sizeof a, "a/%s", name ? name : rel);
    snprintf(b, sizeof b, "b/%s", name ? name : rel);
    const char *from = old ? old : "", *to = new ? new : "";
    size_t from_len = old ? old_len : 0, to_len = new ? new_len : 0;
    ua_diff d = {0};
    if (ua_diff_lines(from, from_len, to, to_len, &d) == 0 &&
        ua_diff_unified(from, from_len, to, to_len, &d, old ? a : "/dev/null",
                        new ? b : "/dev/null", 3, &buf, &len) == 0 &&
        buf)
        fwrite(buf, 1, len, stdout);
    ua_free(buf);
    ua_diff_free(&d);
    free(name);
}

static void print_diff(const ue_project *p, const ue_twin *t)
{
    print_unified(p, t->twin, t->actual, t->actual_len, t->expected, t->expected_len);
}

/* ---- projects ---- */

typedef struct target {
    char *config;
    char **filters;
    size_t nfilters;
    int whole;
} target;

static int add_target(target **ts, size_t *n, const char *config, const char *path_rel)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*ts)[i].config, config) == 0) {
            target *t = &(*ts)[i];
            if (!path_rel || !*path_rel) {
                t->whole = 1;
                return 0;
            }
            char **f = realloc(t->filters, (t->nfilters + 1) * sizeof *f);
            if (!f)
                return -1;
            t->filters = f;
            t->filters[t->nfilters++] = strdup(path_rel);
            return 0;
        }
    target *nt = realloc(*ts, (*n + 1) * sizeof **ts);
    if (!nt)
        return -1;
    *ts = nt;
    target *t = &(*ts)[(*n)++];
    memset(t, 0, sizeof *t);
    t->config = strdup(config);
    if (!path_rel || !*path_rel)
        t->whole = 1;
    else {
        t->filters = malloc(sizeof *t->filters);
        t->filters[0] = strdup(path_rel);
        t->nfilters = 1;
    }
    return 0;
}

/* The canonical path of --config in *config, as ue_find_config gives it (release with ua_free).
 * Returns 0 or -errno. */
static int config_arg(const char *arg, char **config)
{
    *config = NULL;
    struct stat st;
    if (stat(arg, &st) != 0)
        return -errno;
    /* the folder is made canonical, not the file: a link named unasync.json keeps the project
     * where the link is (ue_project_open refuses one that leads outside) */
    const char *slash = strrchr(arg, '/');
    char *dir = slash ? strndup(arg, slash == arg ? 1 : (size_t)(slash - arg)) : strdup(".");
    char *real = dir ? realpath(dir, NULL) : NULL; /* the C library's memory: free() */
    int e = errno;
    free(dir);
    if (!real)
        return -e;
    const char *name = slash ? slash + 1 : arg;
    *config = ua_malloc(strlen(real) + strlen(name) + 2);
    if (*config)
        sprintf(*config, "%s/%s", strcmp(real, "/") ? real : "", name);
    free(real);
    return *config ? 0 : -ENOMEM;
}

static int open_project(const opts *o, const char *config, ue_project **p, outcome *oc)
{
    ua_findings f = {0};
    int rc = ue_project_open(config, p, &f);
    ua_findings_sort(&f);
    for (size_t i = 0; i < f.n; i++) {
        /* configuration findings name unasync.json: show it relative to the working directory */
        char *dir = strdup(config);
        char *slash = dir ? strrchr(dir, '/') : NULL;
        if (slash)
            *slash = '\0';
        ue_project tmp = {0};
        tmp.root = dir;
        print_finding(o, dir ? &tmp : NULL, &f.v[i], oc);
        free(dir);
    }
    ua_findings_free(&f);
    if (rc) {
        if (rc != UA_ECONFIG)
            fprintf(stderr, "unasync: %s: %s\n", config, ue_strerror(rc));
        oc->fatal = 1;
        return -1;
    }
    return 0;
}

/* The projects that PATHs (default: the working directory) belong to, each with the paths inside
 * it that filter what is checked. Problems are told on stderr and set oc->fatal. */
static void collect_targets(const opts *o, char **paths, int npaths, target **out, size_t *nout,
                            outcome *oc)
{
    target *ts = NULL;
    size_t nts = 0;
    char *dot = ".";
    if (npaths == 0) {
        paths = &dot;
        npaths = 1;
    }
    for (int i = 0; i < npaths; i++) {
        char *config = NULL;
        int rc = o->config ? config_arg(o->config, &config) : ue_find_config(paths[i], &config);
        if (rc) {
            struct stat st;
            if (stat(paths[i], &st) != 0)
                fprintf(stderr, "unasync: %s: %s\n", paths[i], strerror(errno));
            else if (o->config)
                fprintf(stderr, "unasync: %s: %s\n", o->config, ue_strerror(rc));
            else
                fprintf(stderr,
                        "unasync: %s: no %s found in this folder or any parent; see "
                        "docs/configuration.md\n",
                        paths[i], UE_CONFIG_NAME);
            oc->fatal = 1;
            continue;
        }
        /* the path relative to the project root filters what is checked */
        char *root = strdup(config);
        *strrchr(root, '/') = '\0';
        ue_project tmp = {0};
        tmp.root = root;
        char *rel = NULL;
        rc = ue_rel(&tmp, paths[i], &rel);
        free(root);
        if (rc) {
            if (rc == UE_EOUTSIDE)
                fprintf(stderr, "unasync: %s: outside the project of %s\n", paths[i], config);
            else
                fprintf(stderr, "unasync: %s: %s\n", paths[i], ue_strerror(rc));
            oc->fatal = 1;
            ua_free(config);
            continue;
        }
        add_target(&ts, &nts, config, strcmp(rel, ".") == 0 ? "" : rel);
        ua_free(rel);
        ua_free(config);
    }
    *out = ts;
    *nout = nts;
}

static void free_targets(target *ts, size_t nts)
{
    for (size_t i = 0; i < nts; i++) {
        free(ts[i].config);
        for (size_t k = 0; k < ts[i].nfilters; k++)
            free(ts[i].filters[k]);
        free(ts[i].filters);
    }
    free(ts);
}

/* Regenerates the twins of report r that --write regenerates (missing, stale, hand-edited; a
 * file unasync did not generate only with --force; orphans deleted with --prune), telling each
 * on stderr. What is left to report goes to `left`. */
static void write_twins(const opts *o, ue_project *p, const ue_report *r, ua_findings *left,
                        outcome *oc)
{
    for (size_t k = 0; k < r->n; k++) {
        ue_twin *t = &r->twins[k];
        int wrote = 0;
        switch (t->state) {
        case UE_MISSING:
        case UE_STALE:
        case UE_EDITED:
        case UE_UNMANAGED:
            if (t->state == UE_UNMANAGED && !o->force) {
                ue_twin_findings(t, left);
                break;
            }
            int wr = ue_write_twin(p, t, o->force, &wrote, left);
            if (wr == UA_ENOMEM) /* the other errors come with a UA400 finding */
                fprintf(stderr, "unasync: out of memory\n");
            if (wr < 0)
                oc->fatal = 1;
            if (wrote && !o->quiet) {
                char *dp = display_path(p, t->twin);
                fprintf(stderr, "unasync: %s %s%s\n",
                        t->state == UE_MISSING ? "created" : "regenerated", dp,
                        t->state == UE_EDITED ? " (hand edits discarded)" : "");
                free(dp);
            }
            for (size_t q = 0; q < t->out.findings.n; q++)
                ua_findings_copy(left, &t->out.findings.v[q]);
            break;
        case UE_ORPHANED:
            if (o->prune) {
                int deleted = 0, dr = ue_delete_orphan(p, t, &deleted, left);
                if (dr == UA_ENOMEM) /* the other errors come with a finding */
                    fprintf(stderr, "unasync: out of memory\n");
                if (dr < 0)
                    oc->fatal = 1;
                if (deleted && !o->quiet) {
                    char *dp = display_path(p, t->twin);
                    fprintf(stderr, "unasync: deleted orphan %s\n", dp ? dp : t->twin);
                    free(dp);
                }
            } else {
                ue_twin_findings(t, left);
            }
            break;
        default:
            ue_twin_findings(t, left);
            break;
        }
    }
}

#ifdef UNASYNC_HAVE_LINT
/* ---- --fix: the lint's preferred quick fixes, applied ---- */

/* Rounds of lint + fix: a fix can enable another (an await inserted inside a rewritten call);
 * a few rounds settle every case we know, and the cap keeps a fix that undoes another finite. */
enum { FIX_ROUNDS = 4 };

/* One preferred fix found in a round: the fix, the source whose finding it fixes, and its
 * place in the order the lint gave (ties keep that order). */
typedef struct fix_cand {
    const ul_fix *x;
    const char *source;
    size_t seq;
    int skipped;
} fix_cand;

static int cmp_cand(const void *a, const void *b)
{
    const fix_cand *x = a, *y = b;
    int c = strcmp(x->x->file, y->x->file);
    if (c)
        return c;
    if (x->x->off != y->x->off)
        return x->x->off < y->x->off ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A file about to be fixed: the bytes the lint read (the snapshot, owned by the round) and its
 * fixes. */
typedef struct fix_file {
    const char *rel;
    const char *bytes;
    size_t len;
    const ul_fix **v;
    size_t n;
} fix_file;

/* A set of project-relative paths. */
typedef struct path_set {
    char **v;
    size_t n;
} path_set;

static int set_has(const path_set *s, const char *rel)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], rel) == 0)
            return 1;
    return 0;
}

static void set_add(path_set *s, const char *rel)
{
    if (set_has(s, rel))
        return;
    char **v = realloc(s->v, (s->n + 1) * sizeof *v);
    if (!v)
        return;
    s->v = v;
    if ((v[s->n] = strdup(rel)))
        s->n++;
}

static void set_free(path_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
}

typedef struct fix_stats {
    size_t findings;
    path_set files;   /* written (or, with --diff, that would be) */
    path_set refused; /* changed on disk under us: not touched again in later rounds */
    int config_changed;
} fix_stats;

/* The absolute path of a file that --fix may change (release with ua_free; NULL when memory
 * runs out): the configuration lives at its own path. */
static char *fix_abs(const ue_project *p, const char *rel)
{
    return strcmp(rel, UE_CONFIG_NAME) == 0 ? ua_strdup(p->config_path) : ue_abs(p, rel);
}

/* The bytes of `rel` now. */
static int read_rel(const ue_project *p, const char *rel, char **bytes, size_t *len)
{
    if (strcmp(rel, UE_CONFIG_NAME) != 0) /* resolved and checked against the root */
        return ue_read_in(p, rel, bytes, len);
    char *abs = fix_abs(p, rel);
    int rc = abs ? ue_read_file(abs, bytes, len) : UA_ENOMEM;
    ua_free(abs);
    return rc;
}

/* Applies (or, with --diff, shows) the accepted fixes of one file. Returns 1 when the file was
 * fixed (or would be), 0 when not, and sets oc->fatal on errors. */
static int fix_one_file(const opts *o, const ue_project *p, const fix_file *f, fix_stats *st,
                        outcome *oc)
{
    char *fixed = NULL, *now = NULL, *disp = display_path(p, f->rel);
    size_t fixed_len = 0, now_len = 0;
    int done = 0;
    int rc = ul_fixes_apply(f->v, f->n, f->bytes, f->len, &fixed, &fixed_len);
    if (rc) {
        fprintf(stderr, "unasync: %s: %s\n", disp ? disp : f->rel, ul_strerror(rc));
        oc->fatal = 1;
        goto done;
    }
    if (fixed_len == f->len && memcmp(fixed, f->bytes, f->len) == 0)
        goto done;
    if (o->diff) {
        print_unified(p, f->rel, f->bytes, f->len, fixed, fixed_len);
        done = 1;
        goto done;
    }
    /* only over the bytes the lint read: an editor or a formatter may have saved since */
    rc = read_rel(p, f->rel, &now, &now_len);
    if (rc || now_len != f->len || memcmp(now, f->bytes, f->len) != 0) {
        fprintf(stderr, "unasync: %s: %s; not fixed\n", disp ? disp : f->rel,
                rc ? ue_strerror(rc) : "changed on disk since the lint read it");
        set_add(&st->refused, f->rel);
        oc->fatal = 1;
        goto done;
    }
    char *abs = fix_abs(p, f->rel);
    struct stat sb;
    rc = !abs ? -ENOMEM : stat(abs, &sb) != 0 ? -errno : 0;
    if (rc == 0)
        rc = ue_write_atomic(abs, fixed, fixed_len, sb.st_mode & 07777);
    ua_free(abs);
    if (rc) {
        fprintf(stderr, "unasync: %s: %s; not fixed\n", disp ? disp : f->rel, ue_strerror(rc));
        oc->fatal = 1;
        goto done;
    }
    done = 1;
done:
    ua_free(fixed);
    ua_free(now);
    free(disp);
    return done;
}

/* One round over project p: lints the selected sources as --check does, picks each finding's
 * preferred fix, skips fixes that overlap one picked before, and applies the rest file by file.
 * Returns how many findings were fixed (or, with --diff, would be). */
static size_t fix_round(const opts *o, ue_project *p, const target *t, ul_ctx *ctx, fix_stats *st,
                        outcome *oc)
{
    const char *const *filters = t->whole ? NULL : (const char *const *)t->filters;
    ue_report r;
    if (ue_check(p, filters, t->whole ? 0 : t->nfilters, NULL, o->jobs, &r)) {
        fprintf(stderr, "unasync: out of memory\n");
        oc->fatal = 1;
        return 0;
    }
    ul_result *res = calloc(r.n ? r.n : 1, sizeof *res);
    char **srcb = calloc(r.n ? r.n : 1, sizeof *srcb); /* what the lint read, per twin */
    size_t *srcl = calloc(r.n ? r.n : 1, sizeof *srcl);
    fix_cand *c = NULL;
    fix_file *files = NULL;
    size_t nc = 0, nfiles = 0, fixed = 0;
    char *cfg = NULL;
    size_t cfg_len = 0;
    /* the configuration as the lint reads it, before the lint reads it */
    if (!res || !srcb || !srcl || read_rel(p, UE_CONFIG_NAME, &cfg, &cfg_len) != 0) {
        fprintf(stderr, "unasync: %s: cannot be read\n", UE_CONFIG_NAME);
        oc->fatal = 1;
        goto done;
    }
    for (size_t i = 0; i < r.n; i++) {
        ue_twin *tw = &r.twins[i];
        /* a source with errors is left as it is: its findings say what to do */
        if (tw->state == UE_ORPHANED || tw->state == UE_SOURCE_ERROR || tw->state == UE_IO_ERROR ||
            !ue_is_source(p, tw->source, NULL))
            continue;
        if (read_rel(p, tw->source, &srcb[i], &srcl[i]) != 0)
            continue; /* --check tells it (UA400) */
        int rc = ul_lint_source(ctx, p, tw->source, srcb[i], srcl[i], NULL, &res[i]);
        ul_apply_ignores(tw->source, srcb[i], srcl[i], &res[i].findings, &res[i].fixes);
        ul_apply_levels(p->cfg, &res[i].findings, &res[i].fixes);
        if (rc) {
            fprintf(stderr, "unasync: %s: %s\n", tw->source, ul_strerror(rc));
            oc->fatal = 1;
            continue;
        }
        if (res[i].limited)
            continue;
        if (res[i].source_errors) { /* no fix over a guess: the findings stay for a person */
            int any = 0;
            for (size_t k = 0; k < res[i].fixes.n; k++)
                any = any || res[i].fixes.v[k].preferred;
            char *dp = any ? display_path(p, tw->source) : NULL;
            if (any)
                fprintf(stderr, "unasync: %s: the C has errors; its fixes are not applied\n",
                        dp ? dp : tw->source);
            free(dp);
            continue;
        }
        for (size_t k = 0; k < res[i].fixes.n; k++) {
            if (!res[i].fixes.v[k].preferred)
                continue;
            fix_cand *nv = realloc(c, (nc + 1) * sizeof *c);
            if (!nv)
                break;
            c = nv;
            c[nc] = (fix_cand){&res[i].fixes.v[k], tw->source, nc, 0};
            nc++;
        }
    }
    if (nc == 0)
        goto done;
    qsort(c, nc, sizeof *c, cmp_cand);
    /* in offset order, a fix that overlaps one taken before it is skipped and told */
    for (size_t i = 0; i < nc; i++)
        for (size_t k = 0; k < i && !c[i].skipped; k++) {
            if (c[k].skipped || !ul_fix_overlaps(c[k].x, c[i].x))
                continue;
            c[i].skipped = 1;
            char *a = display_path(p, c[i].source), *b = display_path(p, c[k].source);
            fprintf(stderr,
                    "unasync: fix for %s at %s:%u:%u skipped: overlaps the fix for %s at "
                    "%s:%u:%u\n",
                    c[i].x->code, a ? a : c[i].source, c[i].x->line, c[i].x->col, c[k].x->code,
                    b ? b : c[k].source, c[k].x->line, c[k].x->col);
            free(a);
            free(b);
        }
    /* group by file: the candidates are sorted by file first */
    files = calloc(nc, sizeof *files);
    const ul_fix **all = calloc(nc, sizeof *all);
    if (!files || !all) {
        free(all);
        fprintf(stderr, "unasync: out of memory\n");
        oc->fatal = 1;
        goto done;
    }
    size_t used = 0;
    for (size_t i = 0; i < nc; i++) {
        if (c[i].skipped)
            continue;
        if (nfiles == 0 || strcmp(files[nfiles - 1].rel, c[i].x->file) != 0) {
            fix_file *f = &files[nfiles++];
            f->rel = c[i].x->file;
            f->v = &all[used];
            if (strcmp(f->rel, UE_CONFIG_NAME) == 0) {
                f->bytes = cfg;
                f->len = cfg_len;
            }
            for (size_t k = 0; k < r.n && !f->bytes; k++)
                if (srcb[k] && strcmp(r.twins[k].source, f->rel) == 0) {
                    f->bytes = srcb[k];
                    f->len = srcl[k];
                }
        }
        all[used++] = c[i].x;
        files[nfiles - 1].n++;
    }
    /* for the test that a file changed between the lint and the write is refused: a command
     * run at exactly that moment (tests/cli) */
    const char *hook = getenv("UNASYNC_FIX_TEST_HOOK");
    if (hook && !o->diff && system(hook) != 0)
        fprintf(stderr, "unasync: UNASYNC_FIX_TEST_HOOK failed\n");
    for (size_t i = 0; i < nfiles; i++) {
        fix_file *f = &files[i];
        if (set_has(&st->refused, f->rel))
            continue;
        if (!f->bytes) {
            fprintf(stderr, "unasync: %s: cannot be read; not fixed\n", f->rel);
            oc->fatal = 1;
            continue;
        }
        if (!fix_one_file(o, p, f, st, oc))
            continue;
        fixed += f->n;
        set_add(&st->files, f->rel);
        if (strcmp(f->rel, UE_CONFIG_NAME) == 0)
            st->config_changed = 1;
    }
    free(all);
done:
    free(files);
    free(c);
    for (size_t i = 0; res && i < r.n; i++)
        ul_result_free(&res[i]);
    for (size_t i = 0; srcb && i < r.n; i++)
        ua_free(srcb[i]);
    free(res);
    free(srcb);
    free(srcl);
    ua_free(cfg);
    ue_report_free(&r);
    return fixed;
}
#endif

static int run_check_or_write(const opts *o, char **paths, int npaths, outcome *oc)
{
    target *ts = NULL;
    size_t nts = 0;
    collect_targets(o, paths, npaths, &ts, &nts, oc);
    size_t counts[8] = {0};
    if (o->format == FMT_JSON)
        printf("{\"findings\": [");
    for (size_t i = 0; i < nts; i++) {
        ue_project *p = NULL;
        if (open_project(o, ts[i].config, &p, oc) < 0)
            continue;
        ue_report r;
        const char *const *filters = ts[i].whole ? NULL : (const char *const *)ts[i].filters;
        if (ue_check(p, filters, ts[i].whole ? 0 : ts[i].nfilters, NULL, o->jobs, &r)) {
            fprintf(stderr, "unasync: out of memory\n");
            oc->fatal = 1;
            ue_project_free(p);
            continue;
        }
#ifdef UNASYNC_HAVE_LINT
        /* lint findings join the report; severities and ignore comments apply to every code */
        if (ul_check_report(p, o->mode == MODE_CHECK && !o->no_lint, o->jobs, &r)) {
            fprintf(stderr, "unasync: out of memory\n");
            oc->fatal = 1;
        }
#endif
        for (size_t k = 0; k < r.n; k++)
            counts[r.twins[k].state]++;
        if (o->mode == MODE_CHECK) {
            for (size_t k = 0; k < r.findings.n; k++)
                print_finding(o, p, &r.findings.v[k], oc);
            if (o->diff && o->format != FMT_JSON)
                for (size_t k = 0; k < r.n; k++) {
                    ue_state s = r.twins[k].state;
                    if (s == UE_STALE || s == UE_EDITED || s == UE_MISSING)
                        print_diff(p, &r.twins[k]);
                }
        } else {
            ua_findings left = {0};
            write_twins(o, p, &r, &left, oc);
            /* configuration-level findings (UA007 ...) */
            for (size_t k = 0; k < r.findings.n; k++)
                if (strcmp(r.findings.v[k].file, UE_CONFIG_NAME) == 0)
                    ua_findings_copy(&left, &r.findings.v[k]);
            ua_findings_sort(&left);
            for (size_t k = 0; k < left.n; k++)
                print_finding(o, p, &left.v[k], oc);
            ua_findings_free(&left);
        }
        /* a file that cannot be read is exit 2 for --check and --write alike */
        for (size_t k = 0; k < r.n; k++)
            if (r.twins[k].state == UE_IO_ERROR)
                oc->fatal = 1;
        ue_report_free(&r);
        ue_project_free(p);
    }
    if (o->format == FMT_JSON)
        printf("%s]}\n", oc->json_items ? "\n" : "");
    fflush(stdout); /* findings first, then the summary, even when both go to one pipe */
    if (!o->quiet && o->format != FMT_JSON) {
        size_t total = 0;
        for (int k = 0; k < 8; k++)
            total += counts[k];
        if (o->mode == MODE_CHECK)
            fprintf(stderr,
                    "unasync: %zu twin%s checked: %zu in sync, %zu missing, %zu stale, "
                    "%zu hand-edited, %zu orphaned, %zu not generated; %zu error%s, "
                    "%zu warning%s\n",
                    total, total == 1 ? "" : "s", counts[UE_OK], counts[UE_MISSING],
                    counts[UE_STALE], counts[UE_EDITED], counts[UE_ORPHANED],
                    counts[UE_UNMANAGED], oc->errors, oc->errors == 1 ? "" : "s", oc->warnings,
                    oc->warnings == 1 ? "" : "s");
    }
    free_targets(ts, nts);
    if (oc->fatal)
        return EXIT_ERROR;
    if (oc->errors || (o->strict && oc->warnings))
        return EXIT_FINDINGS;
    return EXIT_CLEAN;
}

#ifdef UNASYNC_HAVE_LINT
/* --fix: rounds of lint + fix per project, then the twins regenerated as --write does, then
 * what --check still finds. With --diff, the first round's fixes as a diff, and nothing
 * written. */
static int run_fix(const opts *o, char **paths, int npaths, outcome *oc)
{
    target *ts = NULL;
    size_t nts = 0;
    fix_stats st = {0};
    collect_targets(o, paths, npaths, &ts, &nts, oc);
    ul_ctx *ctx = ul_ctx_new(NULL);
    if (!ctx) {
        fprintf(stderr, "unasync: out of memory\n");
        oc->fatal = 1;
    }
    for (size_t i = 0; i < nts && ctx; i++) {
        ua_findings cf = {0};
        ue_project *p = NULL;
        /* configuration problems are --check's to print, below */
        int rc = ue_project_open(ts[i].config, &p, &cf);
        ua_findings_free(&cf);
        for (int round = 0; rc == 0 && round < FIX_ROUNDS; round++) {
            st.config_changed = 0;
            size_t n = fix_round(o, p, &ts[i], ctx, &st, oc);
            st.findings += n;
            if (n == 0 || o->diff)
                break;
            if (st.config_changed) {
                /* new rename rules: the project is read again, and the units parsed anew */
                ul_ctx_forget(ctx, p);
                ue_project_free(p);
                p = NULL;
                rc = ue_project_open(ts[i].config, &p, &cf);
                ua_findings_free(&cf);
            }
        }
        if (rc == 0 && !o->diff) {
            /* the twins, written by the engine exactly as --write writes them */
            const char *const *filters = ts[i].whole ? NULL : (const char *const *)ts[i].filters;
            ue_report r;
            ua_findings left = {0};
            if (ue_check(p, filters, ts[i].whole ? 0 : ts[i].nfilters, NULL, o->jobs, &r) == 0)
                write_twins(o, p, &r, &left, oc);
            else
                oc->fatal = 1;
            ua_findings_free(&left);
            ue_report_free(&r);
        }
        ue_project_free(p);
    }
    ul_ctx_free(ctx);
    free_targets(ts, nts);
    if (!o->quiet)
        fprintf(stderr, "unasync: %s %zu finding%s in %zu file%s\n",
                o->diff ? "would fix" : "fixed", st.findings, st.findings == 1 ? "" : "s",
                st.files.n, st.files.n == 1 ? "" : "s");
    set_free(&st.files);
    set_free(&st.refused);
    if (o->diff) {
        fflush(stdout);
        return oc->fatal ? EXIT_ERROR : st.findings ? EXIT_FINDINGS : EXIT_CLEAN;
    }
    /* what is left, as --check prints it and with its exit status */
    opts co = *o;
    co.mode = MODE_CHECK;
    co.diff = 0;
    outcome coc = {0};
    int status = run_check_or_write(&co, paths, npaths, &coc);
    return oc->fatal ? EXIT_ERROR : status;
}
#endif

static int run_print(const opts *o, outcome *oc)
{
    char *config = NULL;
    int rc = o->config ? config_arg(o->config, &config) : ue_find_config(o->print_file, &config);
    if (rc) {
        fprintf(stderr, "unasync: %s: no %s found (%s)\n", o->print_file, UE_CONFIG_NAME,
                ue_strerror(rc));
        return EXIT_ERROR;
    }
    ue_project *p = NULL;
    opts eo = *o;
    eo.format = FMT_TEXT;
    if (open_project(&eo, config, &p, oc) < 0) {
        ua_free(config);
        return EXIT_ERROR;
    }
    ua_free(config);
    char *rel = NULL;
    rc = ue_rel(p, o->print_file, &rel);
    if (rc) {
        fprintf(stderr, "unasync: %s: %s\n", o->print_file,
                rc == UE_EOUTSIDE ? "outside the project" : ue_strerror(rc));
        ue_project_free(p);
        return EXIT_ERROR;
    }
    if (!ue_is_source(p, rel, NULL)) {
        fprintf(stderr, "unasync: %s: not an async source of this project (see \"sources\")\n",
                o->print_file);
        ua_free(rel);
        ue_project_free(p);
        return EXIT_ERROR;
    }
    ue_twin t;
    rc = ue_check_source(p, NULL, rel, NULL, &t);
    int status = EXIT_CLEAN;
    if (rc) {
        fprintf(stderr, "unasync: %s\n", ue_strerror(rc));
        status = EXIT_ERROR;
    } else {
        if (t.state == UE_IO_ERROR) {
            fprintf(stderr, "unasync: %s: %s\n", t.err_twin ? t.twin : o->print_file,
                    ue_strerror(t.err));
            status = EXIT_ERROR;
        }
        /* findings go to stderr so that stdout is exactly the twin */
        for (size_t k = 0; k < t.out.findings.n; k++) {
            const ua_finding *f = &t.out.findings.v[k];
            char *dp = display_path(p, f->file);
            fprintf(stderr, "%s:%u:%u: %s: %s [%s]\n", dp ? dp : f->file, f->line, f->col,
                    sev_name(f->severity), f->message, f->code);
            free(dp);
        }
        if (t.expected)
            fwrite(t.expected, 1, t.expected_len, stdout);
        else if (status == EXIT_CLEAN)
            status = EXIT_FINDINGS;
    }
    ue_twin_free(&t);
    ua_free(rel);
    ue_project_free(p);
    return status;
}

/* ---- --print-map ---- */

/* `rel` (project-relative) without the folder `dir` ("" for the root); NULL when outside it. */
static const char *under_dir(const char *rel, const char *dir)
{
    size_t n = strlen(dir);
    if (!n)
        return rel;
    return strncmp(rel, dir, n) == 0 && rel[n] == '/' ? rel + n + 1 : NULL;
}

/* Whether source `rel` is one of the PATH arguments or lies in one (all when there are none). */
static int in_paths(const ue_project *p, const char *rel, char **paths, int npaths)
{
    if (!npaths)
        return 1;
    for (int i = 0; i < npaths; i++) {
        char *r = NULL;
        ue_rel(p, paths[i], &r); /* NULL: outside the project (or out of memory): no hit */
        int hit = r && (strcmp(r, ".") == 0 || strcmp(r, rel) == 0 || under_dir(rel, r));
        ua_free(r);
        if (hit)
            return 1;
    }
    return 0;
}

/* Prints the project's rule map: what a library's users name in "maps" so that their twins
 * call its sync API. The rename rules are the project's own, in their order; the headers are
 * its header sources under --include-dir with their twins, spelled as #include finds them from
 * there, in source order. The output depends only on the project, as a twin does. */
static int run_print_map(const opts *o, char **paths, int npaths, outcome *oc)
{
    if (!ua_map_name_ok(o->map_name)) {
        fprintf(stderr, "unasync: --print-map: '%s' is not a package name (letters, digits, "
                        "'.', '_', '+', '-')\n", o->map_name);
        return EXIT_ERROR;
    }
    char *config = NULL;
    int rc = o->config ? config_arg(o->config, &config) : ue_find_config(".", &config);
    if (rc) {
        fprintf(stderr, "unasync: no %s found (%s)\n", UE_CONFIG_NAME, ue_strerror(rc));
        return EXIT_ERROR;
    }
    ue_project *p = NULL;
    opts eo = *o;
    eo.format = FMT_TEXT;
    rc = open_project(&eo, config, &p, oc);
    ua_free(config);
    if (rc < 0)
        return EXIT_ERROR;
    char *dir = NULL;
    if (o->include_dir && (rc = ue_rel(p, o->include_dir, &dir)) != 0) {
        fprintf(stderr, "unasync: --include-dir: %s: %s\n", o->include_dir,
                rc == UE_EOUTSIDE ? "outside the project" : ue_strerror(rc));
        ue_project_free(p);
        return EXIT_ERROR;
    }
    const char *d = dir && strcmp(dir, ".") ? dir : "";
    printf("{\n  \"unasync_map\": 1,\n  \"name\": ");
    json_str(stdout, o->map_name);
    printf(",\n  \"rename\": {");
    for (size_t i = 0; i < p->cfg->nrules; i++) {
        printf("%s\n    ", i ? "," : "");
        json_str(stdout, p->cfg->rules[i].from);
        printf(": ");
        json_str(stdout, p->cfg->rules[i].to);
    }
    printf("%s},\n  \"headers\": {", p->cfg->nrules ? "\n  " : "");
    size_t nh = 0;
    int status = EXIT_CLEAN;
    for (size_t i = 0; i < p->nsources; i++) {
        const char *rel = p->sources[i], *spelled = under_dir(rel, d);
        size_t n = strlen(rel);
        if (n < 2 || strcmp(rel + n - 2, ".h") || !spelled || !in_paths(p, rel, paths, npaths))
            continue;
        char *twin = ue_twin_of(p, rel);
        const char *tspelled = twin ? under_dir(twin, d) : NULL;
        if (!tspelled) {
            fprintf(stderr, "unasync: %s: %s\n", rel,
                    twin ? "its twin lies outside --include-dir" : "out of memory");
            status = EXIT_ERROR;
        } else {
            printf("%s\n    ", nh++ ? "," : "");
            json_str(stdout, spelled);
            printf(": ");
            json_str(stdout, tspelled);
        }
        ua_free(twin);
    }
    printf("%s}\n}\n", nh ? "\n  " : "");
    if (!nh)
        fprintf(stderr, "unasync: --print-map: no header source%s%s\n",
                d[0] ? " under " : "", d);
    ua_free(dir);
    ue_project_free(p);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "unasync: cannot write the map: %s\n", strerror(errno));
        return EXIT_ERROR;
    }
    return status;
}

int main(int argc, char **argv)
{
    /* libclang parses on the calling thread, which the engine gives a big stack and crash
     * recovery (ue_run_guarded), instead of on its own 8 MiB thread; set before any thread */
    setenv("LIBCLANG_NOTHREADS", "1", 0);
    opts o = {0};
    o.format = FMT_TEXT;
    enum {
        O_CHECK = 256,
        O_WRITE,
        O_PRINT,
        O_STDIO,
        O_VERSION,
        O_HELP,
        O_DIFF,
        O_FORMAT,
        O_FORCE,
        O_PRUNE,
        O_CONFIG,
        O_STRICT,
        O_NO_LINT,
        O_FIX,
        O_PRINT_MAP,
        O_INCLUDE_DIR
    };
    static const struct option longopts[] = {{"check", no_argument, NULL, O_CHECK},
                                             {"write", no_argument, NULL, O_WRITE},
                                             {"print", required_argument, NULL, O_PRINT},
                                             {"stdio", no_argument, NULL, O_STDIO},
                                             {"version", no_argument, NULL, O_VERSION},
                                             {"help", no_argument, NULL, O_HELP},
                                             {"diff", no_argument, NULL, O_DIFF},
                                             {"format", required_argument, NULL, O_FORMAT},
                                             {"force", no_argument, NULL, O_FORCE},
                                             {"prune", no_argument, NULL, O_PRUNE},
                                             {"config", required_argument, NULL, O_CONFIG},
                                             {"strict", no_argument, NULL, O_STRICT},
                                             {"jobs", required_argument, NULL, 'j'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"no-lint", no_argument, NULL, O_NO_LINT},
                                             {"fix", no_argument, NULL, O_FIX},
                                             {"print-map", required_argument, NULL, O_PRINT_MAP},
                                             {"include-dir", required_argument, NULL,
                                              O_INCLUDE_DIR},
                                             {NULL, 0, NULL, 0}};
    int c;
    int modes = 0;
    while ((c = getopt_long(argc, argv, "hj:q", longopts, NULL)) != -1) {
        switch (c) {
        case O_CHECK:
            o.mode = MODE_CHECK;
            modes++;
            break;
        case O_WRITE:
            o.mode = MODE_WRITE;
            modes++;
            break;
        case O_FIX:
            o.mode = MODE_FIX;
            modes++;
            break;
        case O_PRINT:
            o.mode = MODE_PRINT;
            o.print_file = optarg;
            modes++;
            break;
        case O_STDIO:
            o.mode = MODE_STDIO;
            modes++;
            break;
        case O_PRINT_MAP:
            o.mode = MODE_PRINT_MAP;
            o.map_name = optarg;
            modes++;
            break;
        case O_INCLUDE_DIR:
            o.include_dir = optarg;
            break;
        case O_VERSION:
            printf("unasync %s\n", UNASYNC_VERSION);
            return EXIT_CLEAN;
        case 'h':
        case O_HELP:
            fputs(usage, stdout);
            return EXIT_CLEAN;
        case O_DIFF:
            o.diff = 1;
            break;
        case O_FORMAT:
            if (strcmp(optarg, "text") == 0)
                o.format = FMT_TEXT;
            else if (strcmp(optarg, "json") == 0)
                o.format = FMT_JSON;
            else if (strcmp(optarg, "github") == 0)
                o.format = FMT_GITHUB;
            else {
                fprintf(stderr, "unasync: --format: '%s' is not text, json or github\n", optarg);
                return EXIT_ERROR;
            }
            break;
        case O_FORCE:
            o.force = 1;
            break;
        case O_PRUNE:
            o.prune = 1;
            break;
        case O_CONFIG:
            o.config = optarg;
            break;
        case O_STRICT:
            o.strict = 1;
            break;
        case O_NO_LINT:
            o.no_lint = 1;
            break;
        case 'j': {
            char *end;
            long j = strtol(optarg, &end, 10);
            if (*end || j < 1 || j > 64) {
                fprintf(stderr, "unasync: --jobs: '%s' is not a number from 1 to 64\n", optarg);
                return EXIT_ERROR;
            }
            o.jobs = (int)j;
            break;
        }
        case 'q':
            o.quiet = 1;
            break;
        default:
            fputs(usage, stderr);
            return EXIT_ERROR;
        }
    }
    if (modes != 1) {
        fprintf(stderr, "unasync: %s\n\n%s",
                modes ? "choose one of --check, --fix, --write, --print, --print-map, --stdio"
                      : "nothing to do: give --check, --fix, --write, --print FILE, --print-map "
                        "NAME or --stdio",
                usage);
        return EXIT_ERROR;
    }
    if ((o.diff || o.strict) && o.mode != MODE_CHECK && o.mode != MODE_FIX) {
        fprintf(stderr, "unasync: --diff and --strict go with --check or --fix\n");
        return EXIT_ERROR;
    }
    if (o.no_lint && o.mode != MODE_CHECK) {
        fprintf(stderr, "unasync: --no-lint goes with --check\n");
        return EXIT_ERROR;
    }
    if ((o.force || o.prune) && o.mode != MODE_WRITE) {
        fprintf(stderr, "unasync: --force and --prune go with --write\n");
        return EXIT_ERROR;
    }
    if (o.include_dir && o.mode != MODE_PRINT_MAP) {
        fprintf(stderr, "unasync: --include-dir goes with --print-map\n");
        return EXIT_ERROR;
    }
    if (!getcwd(cwd, sizeof cwd)) {
        perror("unasync: getcwd");
        return EXIT_ERROR;
    }
    outcome oc = {0};
    switch (o.mode) {
    case MODE_STDIO:
        if (optind < argc) {
            fprintf(stderr, "unasync: --stdio takes no paths\n");
            return EXIT_ERROR;
        }
#ifdef UNASYNC_HAVE_SERVER
        return srv_run_stdio();
#else
        fprintf(stderr, "unasync: this build has no language server\n");
        return EXIT_ERROR;
#endif
    case MODE_PRINT:
        if (optind < argc) {
            fprintf(stderr, "unasync: --print takes one FILE\n");
            return EXIT_ERROR;
        }
        return run_print(&o, &oc);
    case MODE_PRINT_MAP:
        return run_print_map(&o, argv + optind, argc - optind, &oc);
    case MODE_FIX:
#ifdef UNASYNC_HAVE_LINT
        return run_fix(&o, argv + optind, argc - optind, &oc);
#else
        fprintf(stderr, "unasync: this build has no lint to take fixes from\n");
        return EXIT_ERROR;
#endif
    default:
        return run_check_or_write(&o, argv + optind, argc - optind, &oc);
    }
}
