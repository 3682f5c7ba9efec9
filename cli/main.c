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
        return ua_strdup(abs + cl + 1);
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
            char *out = ua_malloc(strlen(up) + strlen(abs + bl + 1) + 1);
            if (out) {
                strcpy(out, up);
                strcat(out, abs + bl + 1);
            }
            return out;
        }
    }
    return ua_strdup(abs);
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
    int oom_told;
    size_t json_items;
} outcome;

/* Memory ran out in the CLI itself: said once on stderr, and the exit status is 2. */
static void out_of_memory(outcome *oc)
{
    if (!oc->oom_told)
        fprintf(stderr, "unasync: out of memory\n");
    oc->oom_told = 1;
    oc->fatal = 1;
}

static void print_finding(const opts *o, const ue_project *p, const ua_finding *f, outcome *oc)
{
    char *path = p && strcmp(f->file, UE_CONFIG_NAME) != 0 ? display_path(p, f->file)
                 : p ? display_path(p, UE_CONFIG_NAME)
                     : ua_strdup(f->file);
    if (!path) { /* the finding is still told, by its project-relative path */
        out_of_memory(oc);
        path = (char *)f->file;
    }
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
            char *rp = p ? display_path(p, f->related_file) : ua_strdup(f->related_file);
            printf(", \"related\": {\"file\": ");
            json_str(stdout, rp ? rp : f->related_file);
            printf(", \"line\": %u}", f->related_line);
            ua_free(rp);
        }
        putchar('}');
        break;
    }
    if (path != f->file)
        ua_free(path);
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
    ua_free(name);
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
            char **f = ua_realloc(t->filters, (t->nfilters + 1) * sizeof *f);
            if (!f)
                return -1;
            t->filters = f;
            if (!(t->filters[t->nfilters] = ua_strdup(path_rel)))
                return -1;
            t->nfilters++;
            return 0;
        }
    target *nt = ua_realloc(*ts, (*n + 1) * sizeof **ts);
    if (!nt)
        return -1;
    *ts = nt;
    target *t = &(*ts)[*n];
    memset(t, 0, sizeof *t);
    t->config = ua_strdup(config);
    if (!t->config)
        return -1;
    (*n)++; /* counted from here on, so that free_targets releases it */
    if (!path_rel || !*path_rel) {
        t->whole = 1;
        return 0;
    }
    t->filters = ua_malloc(sizeof *t->filters);
    if (!t->filters || !(t->filters[0] = ua_strdup(path_rel)))
        return -1;
    t->nfilters = 1;
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
    char *dir = slash ? ua_strndup(arg, slash == arg ? 1 : (size_t)(slash - arg)) : ua_strdup(".");
    if (!dir)
        return -ENOMEM;
    char *real = realpath(dir, NULL); /* the C library's memory: free() */
    int e = errno;
    ua_free(dir);
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
        char *dir = ua_strdup(config);
        char *slash = dir ? strrchr(dir, '/') : NULL;
        if (slash)
            *slash = '\0';
        ue_project tmp = {0};
        tmp.root = dir;
        print_finding(o, dir ? &tmp : NULL, &f.v[i], oc);
        ua_free(dir);
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
        if (rc == UA_ENOMEM) {
            out_of_memory(oc);
            continue;
        }
        if (rc) {
            struct stat st;
            if (stat(paths[i], &st) != 0)
                fprintf(stderr, "unasync: %s: %s\n", paths[i], ue_strerror(-errno));
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
        char *root = ua_strdup(config), *slash = root ? strrchr(root, '/') : NULL;
        if (!slash) { /* config is absolute (ue_find_config, config_arg): only memory fails */
            ua_free(root);
            ua_free(config);
            out_of_memory(oc);
            continue;
        }
        *slash = '\0';
        ue_project tmp = {0};
        tmp.root = root;
        char *rel = NULL;
        rc = ue_rel(&tmp, paths[i], &rel);
        ua_free(root);
        if (rc) {
            if (rc == UE_EOUTSIDE)
                fprintf(stderr, "unasync: %s: outside the project of %s\n", paths[i], config);
            else
                fprintf(stderr, "unasync: %s: %s\n", paths[i], ue_strerror(rc));
            oc->fatal = 1;
            ua_free(config);
            continue;
        }
        if (add_target(&ts, &nts, config, strcmp(rel, ".") == 0 ? "" : rel) != 0)
            out_of_memory(oc);
        ua_free(rel);
        ua_free(config);
    }
    *out = ts;
    *nout = nts;
}

static void free_targets(target *ts, size_t nts)
{
    for (size_t i = 0; i < nts; i++) {
        ua_free(ts[i].config);
        for (size_t k = 0; k < ts[i].nfilters; k++)
            ua_free(ts[i].filters[k]);
        ua_free(ts[i].filters);
    }
    ua_free(ts);
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
                if (ue_twin_findings(t, left) != 0)
                    out_of_memory(oc);
                break;
            }
            int wr = ue_write_twin(p, t, o->force, &wrote, left);
            if (wr == UA_ENOMEM) /* the other errors come with a UA400 finding */
                out_of_memory(oc);
            if (wr < 0)
                oc->fatal = 1;
            if (wrote && !o->quiet) {
                char *dp = display_path(p, t->twin);
                fprintf(stderr, "unasync: %s %s%s\n",
                        t->state == UE_MISSING ? "created" : "regenerated", dp ? dp : t->twin,
                        t->state == UE_EDITED ? " (hand edits discarded)" : "");
                ua_free(dp);
            }
            for (size_t q = 0; q < t->out.findings.n; q++)
                if (ua_findings_copy(left, &t->out.findings.v[q]) != 0)
                    out_of_memory(oc);
            break;
        case UE_ORPHANED:
            if (o->prune) {
                int deleted = 0, dr = ue_delete_orphan(p, t, &deleted, left);
                if (dr == UA_ENOMEM) /* the other errors come with a finding */
                    out_of_memory(oc);
                if (dr < 0)
                    oc->fatal = 1;
                if (deleted && !o->quiet) {
                    char *dp = display_path(p, t->twin);
                    fprintf(stderr, "unasync: deleted orphan %s\n", dp ? dp : t->twin);
                    ua_free(dp);
                }
            } else if (ue_twin_findings(t, left) != 0) {
                out_of_memory(oc);
            }
            break;
        default:
            if (ue_twin_findings(t, left) != 0)
                out_of_memory(oc);
            break;
        }
    }
}

#ifdef UNASYNC_HAVE_LINT
/* ---- --fix: the lint's fix plans (ul_plan_fixes), applied ---- */

/* Rounds of lint + fix: a fix can enable another (an await inserted inside a rewritten call);
 * a few rounds settle every case we know, and the cap keeps a fix that undoes another finite. */
enum { FIX_ROUNDS = 4 };

/* The files --fix changed (or, with --diff, would change): project-relative path, the bytes
 * before the first fix and after the last. With --diff it is also the overlay that later rounds,
 * the re-opened project and the twins read, so that they see what --fix would leave on disk. */
typedef struct fix_files {
    char **rel, **orig, **now;
    size_t *orig_len, *now_len;
    size_t n;
    char **refused; /* changed on disk under us: not touched again in later rounds */
    size_t nrefused;
} fix_files;

static const char *fix_lookup(void *ud, const char *rel, size_t *len)
{
    const fix_files *ff = ud;
    for (size_t i = 0; i < ff->n; i++)
        if (strcmp(ff->rel[i], rel) == 0) {
            *len = ff->now_len[i];
            return ff->now[i];
        }
    return NULL;
}

/* Grows each of the k arrays v[0..k) of fix_files to n + 1 elements of size sz[i]. */
static int fix_files_room(void **v[], const size_t sz[], size_t k, size_t n)
{
    for (size_t i = 0; i < k; i++) {
        void *nv = ua_realloc(*v[i], (n + 1) * sz[i]);
        if (!nv)
            return -1;
        *v[i] = nv;
    }
    return 0;
}

/* Records that plan file f was applied: its first `before` is kept, its `after` replaces the
 * last. Returns 0 or -1 (out of memory). */
static int fix_files_set(fix_files *ff, const ul_plan_file *f)
{
    char *now = ua_malloc(f->after_len + 1);
    if (!now)
        return -1;
    memcpy(now, f->after, f->after_len + 1);
    for (size_t i = 0; i < ff->n; i++)
        if (strcmp(ff->rel[i], f->rel) == 0) {
            ua_free(ff->now[i]);
            ff->now[i] = now;
            ff->now_len[i] = f->after_len;
            return 0;
        }
    void **v[] = {(void **)&ff->rel, (void **)&ff->orig, (void **)&ff->now,
                  (void **)&ff->orig_len, (void **)&ff->now_len};
    const size_t sz[] = {sizeof *ff->rel, sizeof *ff->orig, sizeof *ff->now,
                         sizeof *ff->orig_len, sizeof *ff->now_len};
    char *rel = ua_strdup(f->rel), *orig = ua_malloc(f->before_len + 1);
    if (!rel || !orig || fix_files_room(v, sz, 5, ff->n) != 0) {
        ua_free(rel);
        ua_free(orig);
        ua_free(now);
        return -1;
    }
    memcpy(orig, f->before, f->before_len + 1);
    ff->rel[ff->n] = rel;
    ff->orig[ff->n] = orig;
    ff->orig_len[ff->n] = f->before_len;
    ff->now[ff->n] = now;
    ff->now_len[ff->n] = f->after_len;
    ff->n++;
    return 0;
}

static int fix_refused(const fix_files *ff, const char *rel)
{
    for (size_t i = 0; i < ff->nrefused; i++)
        if (strcmp(ff->refused[i], rel) == 0)
            return 1;
    return 0;
}

static int fix_refuse(fix_files *ff, const char *rel)
{
    char **v = ua_realloc(ff->refused, (ff->nrefused + 1) * sizeof *v);
    if (!v)
        return -1;
    ff->refused = v;
    return (v[ff->nrefused] = ua_strdup(rel)) ? (ff->nrefused++, 0) : -1;
}

static void fix_files_free(fix_files *ff)
{
    for (size_t i = 0; i < ff->n; i++) {
        ua_free(ff->rel[i]);
        ua_free(ff->orig[i]);
        ua_free(ff->now[i]);
    }
    for (size_t i = 0; i < ff->nrefused; i++)
        ua_free(ff->refused[i]);
    ua_free(ff->rel);
    ua_free(ff->orig);
    ua_free(ff->now);
    ua_free(ff->orig_len);
    ua_free(ff->now_len);
    ua_free(ff->refused);
}

/* Tells on stderr what a plan leaves out: fixes skipped for an overlap, sources left alone. */
static void tell_plan(const ue_project *p, const ul_plan *plan, outcome *oc)
{
    for (size_t i = 0; i < plan->nskips; i++) {
        const ul_plan_skip *k = &plan->skips[i];
        char *a = display_path(p, k->source), *b = display_path(p, k->by_source);
        fprintf(stderr,
                "unasync: fix for %s at %s:%u:%u skipped: overlaps the fix for %s at %s:%u:%u\n",
                k->fix.code, a ? a : k->source, k->fix.line, k->fix.col, k->by.code,
                b ? b : k->by_source, k->by.line, k->by.col);
        ua_free(a);
        ua_free(b);
    }
    for (size_t i = 0; i < plan->nleft; i++) {
        const ul_plan_source *l = &plan->left[i];
        char *dp = display_path(p, l->rel);
        if (l->rc) {
            fprintf(stderr, "unasync: %s: %s\n", dp ? dp : l->rel, ul_strerror(l->rc));
            oc->fatal = 1;
        } else {
            fprintf(stderr, "unasync: %s: the C has errors; its fixes are not applied\n",
                    dp ? dp : l->rel);
        }
        ua_free(dp);
    }
}

/* Applies plan file f: with --diff only into ff (the overlay), else onto the disk through
 * ue_write_over. Returns 1 when it was (or would be) applied, 0 when not (told on stderr). */
static int apply_plan_file(const opts *o, const ue_project *p, const ul_plan_file *f,
                           fix_files *ff, outcome *oc)
{
    int rc = o->diff ? 0
                     : ue_write_over(p, f->rel, f->before, f->before_len, f->after, f->after_len);
    if (rc == 0 && fix_files_set(ff, f) != 0)
        rc = UL_ENOMEM;
    if (rc == 0)
        return 1;
    char *dp = display_path(p, f->rel);
    fprintf(stderr, "unasync: %s: %s; not fixed\n", dp ? dp : f->rel, ul_strerror(rc));
    ua_free(dp);
    if (rc == UE_ECHANGED && fix_refuse(ff, f->rel) != 0)
        out_of_memory(oc);
    oc->fatal = 1;
    return 0;
}

/* One round over project p: a plan of the selected sources (read through `ov`), told and
 * applied file by file. Returns how many findings were fixed (or, with --diff, would be), and
 * sets *config_changed when unasync.json was among the files. */
static size_t fix_round(const opts *o, ue_project *p, const target *t, ul_ctx *ctx,
                        fix_files *ff, int *config_changed, outcome *oc)
{
    const ue_overlay ov = {fix_lookup, ff}, *ovp = o->diff ? &ov : NULL;
    const char *const *filters = t->whole ? NULL : (const char *const *)t->filters;
    ue_report r;
    ul_plan plan = {0};
    size_t fixed = 0;
    int rc = ue_check(p, filters, t->whole ? 0 : t->nfilters, ovp, o->jobs, &r);
    if (rc == 0)
        rc = ul_plan_fixes(ctx, p, &r, ovp, &plan);
    if (rc) { /* the plan is empty then; besides memory, only unasync.json's read can fail */
        if (rc == UL_ENOMEM)
            out_of_memory(oc);
        else
            fprintf(stderr, "unasync: %s: %s\n", UE_CONFIG_NAME, ul_strerror(rc));
        oc->fatal = 1;
        ue_report_free(&r);
        return 0;
    }
    tell_plan(p, &plan, oc);
    /* for the test that a file changed between the lint and the write is refused: a command
     * run at exactly that moment (tests/cli) */
    const char *hook = getenv("UNASYNC_FIX_TEST_HOOK");
    if (hook && plan.nfiles && !o->diff && system(hook) != 0)
        fprintf(stderr, "unasync: UNASYNC_FIX_TEST_HOOK failed\n");
    for (size_t i = 0; i < plan.nfiles; i++) {
        const ul_plan_file *f = &plan.files[i];
        if (fix_refused(ff, f->rel) || !apply_plan_file(o, p, f, ff, oc))
            continue;
        fixed += f->nfixes;
        if (strcmp(f->rel, UE_CONFIG_NAME) == 0)
            *config_changed = 1;
    }
    ul_plan_free(&plan);
    ue_report_free(&r);
    return fixed;
}

/* --fix --diff: the diff of every file the fixes change (first bytes to last), then of every
 * twin that --fix would regenerate afterwards, read through the overlay as --fix leaves them.
 * Returns how many twins would be regenerated. */
static size_t print_fix_diff(const opts *o, ue_project *p, const target *t, fix_files *ff,
                             outcome *oc)
{
    const ue_overlay ov = {fix_lookup, ff};
    for (size_t i = 0; i < ff->n; i++)
        print_unified(p, ff->rel[i], ff->orig[i], ff->orig_len[i], ff->now[i], ff->now_len[i]);
    const char *const *filters = t->whole ? NULL : (const char *const *)t->filters;
    ue_report r;
    size_t twins = 0;
    if (ue_check(p, filters, t->whole ? 0 : t->nfilters, &ov, o->jobs, &r) != 0) {
        out_of_memory(oc);
        return 0;
    }
    for (size_t k = 0; k < r.n; k++) {
        ue_state s = r.twins[k].state;
        if (s == UE_STALE || s == UE_EDITED || s == UE_MISSING) { /* what write_twins writes */
            print_diff(p, &r.twins[k]);
            twins++;
        }
    }
    ue_report_free(&r);
    return twins;
}
#endif

static int run_check_or_write(const opts *o, char **paths, int npaths, outcome *oc)
{
    ue_batch_memory(); /* one-shot over many files: keep freed memory for the next file */
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
            out_of_memory(oc);
            ue_project_free(p);
            continue;
        }
#ifdef UNASYNC_HAVE_LINT
        /* lint findings join the report; severities and ignore comments apply to every code */
        if (ul_check_report(p, o->mode == MODE_CHECK && !o->no_lint, o->jobs, &r)) {
            out_of_memory(oc);
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
                if (strcmp(r.findings.v[k].file, UE_CONFIG_NAME) == 0 &&
                    ua_findings_copy(&left, &r.findings.v[k]) != 0)
                    out_of_memory(oc);
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
/* The twins after fixing, written by the engine exactly as --write writes them. */
static void fix_write_twins(const opts *o, ue_project *p, const target *t, outcome *oc)
{
    const char *const *filters = t->whole ? NULL : (const char *const *)t->filters;
    ue_report r;
    ua_findings left = {0};
    if (ue_check(p, filters, t->whole ? 0 : t->nfilters, NULL, o->jobs, &r) == 0) {
        write_twins(o, p, &r, &left, oc);
        ue_report_free(&r);
    } else {
        out_of_memory(oc);
    }
    ua_findings_free(&left);
}

/* --fix: rounds of lint + fix per project, then the twins regenerated as --write does, then
 * what --check still finds. With --diff, the same rounds over an overlay instead of the disk,
 * printed as one diff per changed file and per twin that would be regenerated; nothing is
 * written. */
static int run_fix(const opts *o, char **paths, int npaths, outcome *oc)
{
    target *ts = NULL;
    size_t nts = 0, findings = 0, files = 0, twins = 0;
    collect_targets(o, paths, npaths, &ts, &nts, oc);
    ul_ctx *ctx = ul_ctx_new(NULL);
    if (!ctx) {
        out_of_memory(oc);
    }
    for (size_t i = 0; i < nts && ctx; i++) {
        fix_files ff = {0};
        const ue_overlay ov = {fix_lookup, &ff}, *ovp = o->diff ? &ov : NULL;
        ua_findings cf = {0};
        ue_project *p = NULL;
        /* configuration problems are --check's to print, below */
        int rc = ue_project_open(ts[i].config, &p, &cf);
        ua_findings_free(&cf);
        for (int round = 0; rc == 0 && round < FIX_ROUNDS; round++) {
            int config_changed = 0;
            size_t n = fix_round(o, p, &ts[i], ctx, &ff, &config_changed, oc);
            findings += n;
            if (n == 0)
                break;
            if (config_changed) {
                /* new rename rules: the project is read again, and the units parsed anew */
                ul_ctx_forget(ctx, p);
                ue_project_free(p);
                p = NULL;
                rc = ue_project_open_overlay(ts[i].config, ovp, &p, &cf);
                ua_findings_free(&cf);
            }
        }
        if (rc == 0 && o->diff)
            twins += print_fix_diff(o, p, &ts[i], &ff, oc);
        else if (rc == 0)
            fix_write_twins(o, p, &ts[i], oc);
        files += ff.n;
        fix_files_free(&ff);
        ue_project_free(p);
    }
    ul_ctx_free(ctx);
    free_targets(ts, nts);
    if (!o->quiet) {
        fprintf(stderr, "unasync: %s %zu finding%s in %zu file%s", o->diff ? "would fix" : "fixed",
                findings, findings == 1 ? "" : "s", files, files == 1 ? "" : "s");
        if (twins)
            fprintf(stderr, "; would regenerate %zu twin%s", twins, twins == 1 ? "" : "s");
        fputc('\n', stderr);
    }
    if (o->diff) {
        fflush(stdout);
        return oc->fatal ? EXIT_ERROR : findings || twins ? EXIT_FINDINGS : EXIT_CLEAN;
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
            ua_free(dp);
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
        fprintf(stderr, "unasync: cannot write the map: %s\n", ue_strerror(-errno));
        return EXIT_ERROR;
    }
    return status;
}

/* UNASYNC_TEST_FAIL_ALLOC=N, for the command's fault test (tests/cli/test_cli_alloc.sh): the
 * Nth allocation through the core stack's hook, the CLI's own included, fails (0: none), and at
 * exit the number of allocations made is told on stderr. Unset, the hook is malloc's. */
static _Atomic long fault_at, fault_calls;

static void *fault_malloc(size_t n)
{
    return ++fault_calls == fault_at ? NULL : malloc(n);
}

static void *fault_realloc(void *p, size_t n)
{
    return ++fault_calls == fault_at ? NULL : realloc(p, n);
}

static void fault_report(void)
{
    fprintf(stderr, "unasync: test allocations: %ld\n", (long)fault_calls);
}

static void fault_setup(void)
{
    const char *at = getenv("UNASYNC_TEST_FAIL_ALLOC");
    if (!at)
        return;
    fault_at = strtol(at, NULL, 10);
    ua_set_allocator(fault_malloc, fault_realloc, free);
    atexit(fault_report);
}

/* Long options without a short letter. */
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

/* Reads the command line into *o and counts the modes chosen in *modes. Returns -1 to go on, or
 * the exit status when the command is done (--version, --help) or the command line is wrong
 * (told on stderr). */
static int parse_args(int argc, char **argv, opts *o, int *modes)
{
    int c;
    while ((c = getopt_long(argc, argv, "hj:q", longopts, NULL)) != -1) {
        switch (c) {
        case O_CHECK:
            o->mode = MODE_CHECK;
            (*modes)++;
            break;
        case O_WRITE:
            o->mode = MODE_WRITE;
            (*modes)++;
            break;
        case O_FIX:
            o->mode = MODE_FIX;
            (*modes)++;
            break;
        case O_PRINT:
            o->mode = MODE_PRINT;
            o->print_file = optarg;
            (*modes)++;
            break;
        case O_STDIO:
            o->mode = MODE_STDIO;
            (*modes)++;
            break;
        case O_PRINT_MAP:
            o->mode = MODE_PRINT_MAP;
            o->map_name = optarg;
            (*modes)++;
            break;
        case O_INCLUDE_DIR:
            o->include_dir = optarg;
            break;
        case O_VERSION:
            printf("unasync %s\n", UNASYNC_VERSION);
            return EXIT_CLEAN;
        case 'h':
        case O_HELP:
            fputs(usage, stdout);
            return EXIT_CLEAN;
        case O_DIFF:
            o->diff = 1;
            break;
        case O_FORMAT:
            if (strcmp(optarg, "text") == 0)
                o->format = FMT_TEXT;
            else if (strcmp(optarg, "json") == 0)
                o->format = FMT_JSON;
            else if (strcmp(optarg, "github") == 0)
                o->format = FMT_GITHUB;
            else {
                fprintf(stderr, "unasync: --format: '%s' is not text, json or github\n", optarg);
                return EXIT_ERROR;
            }
            break;
        case O_FORCE:
            o->force = 1;
            break;
        case O_PRUNE:
            o->prune = 1;
            break;
        case O_CONFIG:
            o->config = optarg;
            break;
        case O_STRICT:
            o->strict = 1;
            break;
        case O_NO_LINT:
            o->no_lint = 1;
            break;
        case 'j': {
            char *end;
            long j = strtol(optarg, &end, 10);
            if (*end || j < 1 || j > 64) {
                fprintf(stderr, "unasync: --jobs: '%s' is not a number from 1 to 64\n", optarg);
                return EXIT_ERROR;
            }
            o->jobs = (int)j;
            break;
        }
        case 'q':
            o->quiet = 1;
            break;
        default:
            fputs(usage, stderr);
            return EXIT_ERROR;
        }
    }
    return -1;
}

/* Whether the options go together. Returns 0, or EXIT_ERROR (told on stderr). */
static int check_options(const opts *o, int modes)
{
    if (modes != 1) {
        fprintf(stderr, "unasync: %s\n\n%s",
                modes ? "choose one of --check, --fix, --write, --print, --print-map, --stdio"
                      : "nothing to do: give --check, --fix, --write, --print FILE, --print-map "
                        "NAME or --stdio",
                usage);
        return EXIT_ERROR;
    }
    if ((o->diff || o->strict) && o->mode != MODE_CHECK && o->mode != MODE_FIX) {
        fprintf(stderr, "unasync: --diff and --strict go with --check or --fix\n");
        return EXIT_ERROR;
    }
    if (o->no_lint && o->mode != MODE_CHECK) {
        fprintf(stderr, "unasync: --no-lint goes with --check\n");
        return EXIT_ERROR;
    }
    if ((o->force || o->prune) && o->mode != MODE_WRITE) {
        fprintf(stderr, "unasync: --force and --prune go with --write\n");
        return EXIT_ERROR;
    }
    if (o->include_dir && o->mode != MODE_PRINT_MAP) {
        fprintf(stderr, "unasync: --include-dir goes with --print-map\n");
        return EXIT_ERROR;
    }
    return 0;
}

/* Runs the chosen mode over the PATH arguments. Returns the exit status. */
static int run_mode(const opts *o, char **paths, int npaths)
{
    outcome oc = {0};
    switch (o->mode) {
    case MODE_STDIO:
        if (npaths > 0) {
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
        if (npaths > 0) {
            fprintf(stderr, "unasync: --print takes one FILE\n");
            return EXIT_ERROR;
        }
        return run_print(o, &oc);
    case MODE_PRINT_MAP:
        return run_print_map(o, paths, npaths, &oc);
    case MODE_FIX:
#ifdef UNASYNC_HAVE_LINT
        return run_fix(o, paths, npaths, &oc);
#else
        fprintf(stderr, "unasync: this build has no lint to take fixes from\n");
        return EXIT_ERROR;
#endif
    default:
        return run_check_or_write(o, paths, npaths, &oc);
    }
}

int main(int argc, char **argv)
{
    /* libclang parses on the calling thread, which the engine gives a big stack and crash
     * recovery (ue_run_guarded), instead of on its own 8 MiB thread; set before any thread */
    setenv("LIBCLANG_NOTHREADS", "1", 0);
    fault_setup();
    opts o = {0};
    o.format = FMT_TEXT;
    int modes = 0, status = parse_args(argc, argv, &o, &modes);
    if (status >= 0)
        return status;
    if (check_options(&o, modes) != 0)
        return EXIT_ERROR;
    if (!getcwd(cwd, sizeof cwd)) {
        perror("unasync: getcwd");
        return EXIT_ERROR;
    }
    return run_mode(&o, argv + optind, argc - optind);
}
