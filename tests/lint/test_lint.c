/* test_lint.c - the lint's tests: data-driven cases (every folder under cases/ is a small project
 * whose expected findings and quick-fix results are in `expected`; UNASYNC_UPDATE_GOLDEN=1
 * rewrites them), plus the repository's own sources, a planted mutation in the limiter, reparsing
 * and compile_commands.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testfs.h"
#include "ul_int.h" /* ul_ctx.inc_hits: which lints were incremental */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *cases_dir, *repo_root;
static char runtime_include[4096];
static int update;

/* ---- helpers ---- */

/* Appends printf output to a growing string. */
typedef struct sbuf {
    char *s;
    size_t n;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    b->s = realloc(b->s, b->n + (size_t)need + 1);
    assert_non_null(b->s);
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, (size_t)need + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)need;
}

/* Copies case folder `src` to a new temporary folder, replacing @RUNTIME_INCLUDE@ in
 * unasync.json. Returns the folder (static buffer). */
static const char *stage(const char *src)
{
    static char dir[4096];
    snprintf(dir, sizeof dir, "/tmp/unasync-lint-XXXXXX");
    assert_non_null(mkdtemp(dir));
    DIR *d = opendir(src);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "expected") == 0)
            continue;
        char from[8192 + 512], to[4096 + 512];
        snprintf(from, sizeof from, "%s/%s", src, e->d_name);
        snprintf(to, sizeof to, "%s/%s", dir, e->d_name);
        size_t len = 0;
        char *b = testfs_slurp(from, &len);
        assert_non_null(b);
        char *at = strstr(b, "@RUNTIME_INCLUDE@");
        if (at) {
            sbuf o = {0};
            sb_printf(&o, "%.*s%s%s", (int)(at - b), b, runtime_include, at + 17);
            testfs_spit(to, o.s, o.n);
            free(o.s);
        } else {
            testfs_spit(to, b, len);
        }
        free(b);
    }
    closedir(d);
    return dir;
}

static void unstage(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[8192];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static const char *sev(ua_severity s)
{
    return s == UA_ERROR ? "error" : s == UA_WARNING ? "warning" : s == UA_INFO ? "info" : "hint";
}

/* The line of `bytes` that holds offset `off`, without its end of line. */
static void line_at(sbuf *o, const char *bytes, size_t len, size_t off)
{
    size_t s = off, e = off;
    while (s > 0 && bytes[s - 1] != '\n')
        s--;
    while (e < len && bytes[e] != '\n')
        e++;
    sb_printf(o, "%.*s", (int)(e - s), bytes + s);
}

/* ---- the data-driven cases ---- */

/* Runs one case: writes the twins (so that only lint and transform findings remain), runs
 * --check's engine + lint, then each quick fix of each source. Returns the report text. */
static char *run_case(const char *dir)
{
    char cfg[8192];
    snprintf(cfg, sizeof cfg, "%s/unasync.json", dir);
    ua_findings f = {0};
    ue_project *p = NULL;
    int rc = ue_project_open(cfg, &p, &f);
    sbuf o = {0};
    for (size_t i = 0; i < f.n; i++)
        sb_printf(&o, "config %s:%u:%u: %s [%s]\n", f.v[i].file, f.v[i].line, f.v[i].col,
                  sev(f.v[i].severity), f.v[i].code);
    ua_findings_free(&f);
    assert_int_equal(rc, 0);
    ue_report r;
    assert_int_equal(ue_check(p, NULL, 0, NULL, 1, &r), 0);
    for (size_t i = 0; i < r.n; i++) {
        int wrote;
        ua_findings wf = {0};
        if (r.twins[i].expected)
            ue_write_twin(p, &r.twins[i], 0, &wrote, &wf);
        ua_findings_free(&wf);
    }
    ue_report_free(&r);
    assert_int_equal(ue_check(p, NULL, 0, NULL, 1, &r), 0);
    assert_int_equal(ul_check_report(p, 1, 2, &r), 0);
    for (size_t i = 0; i < r.findings.n; i++) {
        const ua_finding *x = &r.findings.v[i];
        sb_printf(&o, "%s:%u:%u: %s: %s [%s]\n", x->file, x->line, x->col, sev(x->severity),
                  x->message, x->code);
    }
    ue_report_free(&r);
    /* every fix the editor would offer, applied: the changed line shows the result */
    ul_ctx *ctx = ul_ctx_new(NULL);
    assert_non_null(ctx);
    for (size_t s = 0; s < p->nsources; s++) {
        char *abs = ue_abs(p, p->sources[s]);
        size_t len = 0;
        char *bytes = testfs_slurp(abs, &len);
        assert_non_null(bytes);
        ul_result res = {0};
        assert_int_equal(ul_lint_source(ctx, p, p->sources[s], bytes, len, NULL, &res), 0);
        ul_apply_ignores(p->sources[s], bytes, len, &res.findings, &res.fixes);
        ul_apply_levels(p->cfg, &res.findings, &res.fixes);
        for (size_t k = 0; k < res.fixes.n; k++) {
            const ul_fix *x = &res.fixes.v[k];
            size_t flen = 0;
            char *fabs = ue_abs(p, x->file);
            char *fbytes = testfs_slurp(fabs, &flen), *out;
            size_t out_len;
            assert_non_null(fbytes);
            assert_int_equal(ul_fix_apply(x, fbytes, flen, &out, &out_len), 0);
            sb_printf(&o, "fix %s:%u:%u [%s] %s\n    %s:%u: ", p->sources[s], x->line, x->col,
                      x->code, x->title, x->file, x->start_line);
            line_at(&o, out, out_len, x->off);
            sb_printf(&o, "\n");
            ua_free(out);
            free(fbytes);
            ua_free(fabs);
        }
        ul_result_free(&res);
        free(bytes);
        ua_free(abs);
    }
    ul_ctx_free(ctx);
    ue_project_free(p);
    /* the expectations must not depend on where the repository is checked out */
    sbuf clean = {0};
    size_t rl = strlen(runtime_include);
    for (const char *q = o.s ? o.s : ""; *q;) {
        if (strncmp(q, runtime_include, rl) == 0) {
            sb_printf(&clean, "@RUNTIME_INCLUDE@");
            q += rl;
        } else {
            sb_printf(&clean, "%c", *q++);
        }
    }
    free(o.s);
    return clean.s ? clean.s : calloc(1, 1);
}

static void lint_cases_match_expected(void **state)
{
    (void)state;
    DIR *d = opendir(cases_dir);
    assert_non_null(d);
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            names = realloc(names, (n + 1) * sizeof *names);
            names[n++] = strdup(e->d_name);
        }
    closedir(d);
    assert_true(n >= 10);
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        char src[8192], exp_path[8448];
        snprintf(src, sizeof src, "%s/%s", cases_dir, names[i]);
        snprintf(exp_path, sizeof exp_path, "%s/expected", src);
        const char *dir = stage(src);
        char *got = run_case(dir);
        unstage(dir);
        if (update) {
            testfs_spit(exp_path, got, strlen(got));
        } else {
            char *want = testfs_slurp(exp_path, NULL);
            if (!want || strcmp(want, got) != 0) {
                fprintf(stderr, "case %s differs.\n--- expected\n%s--- got\n%s", names[i],
                        want ? want : "(missing)\n", got);
                failed++;
            }
            free(want);
        }
        free(got);
        free(names[i]);
    }
    free(names);
    assert_int_equal(failed, 0);
}

/* ---- the repository's own sources ---- */

static ue_project *open_repo(void)
{
    char cfg[4096];
    snprintf(cfg, sizeof cfg, "%s/unasync.json", repo_root);
    ua_findings f = {0};
    ue_project *p = NULL;
    assert_int_equal(ue_project_open(cfg, &p, &f), 0);
    ua_findings_free(&f);
    return p;
}

static void repository_sources_have_no_lint_findings(void **state)
{
    (void)state;
    ue_project *p = open_repo();
    ue_report r;
    assert_int_equal(ue_check(p, NULL, 0, NULL, 0, &r), 0);
    assert_int_equal(ul_check_report(p, 1, 0, &r), 0);
    /* drift (UA2xx) belongs to the CLI's self-check; this test is about the lint's codes */
    size_t lint_findings = 0;
    for (size_t i = 0; i < r.findings.n; i++)
        if (strncmp(r.findings.v[i].code, "UA0", 3) == 0) {
            fprintf(stderr, "%s:%u:%u: %s [%s]\n", r.findings.v[i].file, r.findings.v[i].line,
                    r.findings.v[i].col, r.findings.v[i].message, r.findings.v[i].code);
            lint_findings++;
        }
    assert_true(p->nsources >= 10);
    assert_int_equal(lint_findings, 0);
    ue_report_free(&r);
    ue_project_free(p);
}

/* The runtime's async implementation files are no sources of unasync.json, but they are async C
 * and must pass the await rules too. */
static void runtime_async_files_have_no_await_findings(void **state)
{
    (void)state;
    static const char *const files[] = {"runtime/src/async_prims.c", "runtime/src/async_redis.c",
                                        "runtime/src/async_io.c"};
    ue_project *p = open_repo();
    ul_ctx *ctx = ul_ctx_new(NULL);
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char *abs = ue_abs(p, files[i]);
        size_t len = 0;
        char *bytes = testfs_slurp(abs, &len);
        assert_non_null(bytes);
        ul_result r = {0};
        assert_int_equal(ul_lint_source(ctx, p, files[i], bytes, len, NULL, &r), 0);
        for (size_t k = 0; k < r.findings.n; k++)
            fprintf(stderr, "%s:%u: %s [%s]\n", files[i], r.findings.v[k].line,
                    r.findings.v[k].message, r.findings.v[k].code);
        assert_int_equal(r.limited, 0);
        assert_int_equal(r.findings.n, 0);
        ul_result_free(&r);
        free(bytes);
        ua_free(abs);
    }
    ul_ctx_free(ctx);
    ue_project_free(p);
}

/* Removing one `await` from the real limiter gives exactly one UA001 at that call, and the
 * quick fix gives back the original bytes; the same holds after reparsing a kept unit. */
static void planted_missing_await_in_limiter_is_found_and_fixed(void **state)
{
    (void)state;
    ue_project *p = open_repo();
    const char *rel = "limiter/limiter.c";
    char *abs = ue_abs(p, rel);
    size_t len = 0;
    char *orig = testfs_slurp(abs, &len);
    assert_non_null(orig);
    char *at = strstr(orig, "await ");
    assert_non_null(at);
    size_t off = (size_t)(at - orig);
    char *mut = malloc(len);
    memcpy(mut, orig, off);
    memcpy(mut + off, orig + off + 6, len - off - 6);
    size_t mlen = len - 6;
    for (int keep = 0; keep <= 1; keep++) {
        ul_options opt = {0};
        opt.keep = keep;
        ul_ctx *ctx = ul_ctx_new(&opt);
        ul_result r = {0};
        /* keep: first the original (builds the preamble), then the edit is a reparse */
        if (keep) {
            assert_int_equal(ul_lint_source(ctx, p, rel, orig, len, NULL, &r), 0);
            assert_int_equal(r.findings.n, 0);
            ul_result_free(&r);
        }
        assert_int_equal(ul_lint_source(ctx, p, rel, mut, mlen, NULL, &r), 0);
        assert_int_equal(r.findings.n, 1);
        assert_string_equal(r.findings.v[0].code, "UA001");
        unsigned line, col;
        ua_offset_to_linecol(orig, len, off, &line, &col);
        assert_int_equal(r.findings.v[0].line, line);
        assert_int_equal(r.findings.v[0].col, col);
        assert_int_equal(r.fixes.n, 1);
        char *fixed;
        size_t flen = 0;
        assert_int_equal(ul_fix_apply(&r.fixes.v[0], mut, mlen, &fixed, &flen), 0);
        assert_int_equal(flen, len);
        assert_memory_equal(fixed, orig, len);
        ua_free(fixed);
        ul_result_free(&r);
        ul_ctx_free(ctx);
    }
    free(mut);
    free(orig);
    ua_free(abs);
    ue_project_free(p);
}

/* Flags from a compile_commands.json named by the configuration: a database that puts the
 * runtime on the include path lints cleanly; without it the include fails and UA000 says so. */
static void compile_commands_json_supplies_the_flags(void **state)
{
    (void)state;
    char dir[] = "/tmp/unasync-lint-db-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[8192];
    sbuf b = {0};
    snprintf(path, sizeof path, "%s/unasync.json", dir);
    sb_printf(&b, "{\"sources\": [\"a.c\"], \"compile_commands\": \"out/compile_commands.json\"}");
    testfs_spit(path, b.s, b.n);
    b.n = 0;
    snprintf(path, sizeof path, "%s/a.c", dir);
    sb_printf(&b, "#include <unasync/async.h>\nstatic async int f(void) { return 0; }\n"
                  "static async int g(void) { return f(); }\n");
    testfs_spit(path, b.s, b.n);
    snprintf(path, sizeof path, "%s/out", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    b.n = 0;
    sb_printf(&b,
              "[{\"directory\": \"%s/out\", \"file\": \"../a.c\", "
              "\"command\": \"cc -I%s -DX=1 -o a.o -c ../a.c\"}]",
              dir, runtime_include);
    snprintf(path, sizeof path, "%s/out/compile_commands.json", dir);
    testfs_spit(path, b.s, b.n);
    snprintf(path, sizeof path, "%s/unasync.json", dir);
    ua_findings f = {0};
    ue_project *p = NULL;
    assert_int_equal(ue_project_open(path, &p, &f), 0);
    ul_ctx *ctx = ul_ctx_new(NULL);
    snprintf(path, sizeof path, "%s/a.c", dir);
    size_t len = 0;
    char *src = testfs_slurp(path, &len);
    ul_result r = {0};
    assert_int_equal(ul_lint_source(ctx, p, "a.c", src, len, NULL, &r), 0);
    assert_int_equal(r.findings.n, 1); /* only the planted UA001 */
    assert_string_equal(r.findings.v[0].code, "UA001");
    ul_result_free(&r);
    ul_ctx_free(ctx);
    /* the same database without the include path: the runtime's own headers are still found
     * (they come with the tool, searched last), so the lint is not limited */
    b.n = 0;
    sb_printf(&b,
              "[{\"directory\": \"%s/out\", \"file\": \"../a.c\", "
              "\"command\": \"cc -o a.o -c ../a.c\"}]",
              dir);
    snprintf(path, sizeof path, "%s/out/compile_commands.json", dir);
    testfs_spit(path, b.s, b.n);
    ctx = ul_ctx_new(NULL);
    assert_int_equal(ul_lint_source(ctx, p, "a.c", src, len, NULL, &r), 0);
    assert_int_equal(r.findings.n, 1);
    assert_string_equal(r.findings.v[0].code, "UA001");
    assert_int_equal(r.limited, 0);
    ul_result_free(&r);
    ul_ctx_free(ctx);
    /* a database with no entry: default flags, and UA000 says so from the first lint on, also
     * when the context keeps the unit (it takes the flags over from the first parse) */
    b.n = 0;
    sb_printf(&b, "[]");
    testfs_spit(path, b.s, b.n);
    ul_options keep = {0};
    keep.keep = 1;
    ctx = ul_ctx_new(&keep);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(ul_lint_source(ctx, p, "a.c", src, len, NULL, &r), 0);
        assert_int_equal(r.findings.n, 2);
        assert_string_equal(r.findings.v[0].code, "UA000");
        assert_non_null(strstr(r.findings.v[0].message, "has no entry for this file"));
        assert_string_equal(r.findings.v[1].code, "UA001");
        ul_result_free(&r);
    }
    ul_ctx_free(ctx);
    free(src);
    free(b.s);
    ua_findings_free(&f);
    ue_project_free(p);
    unlink(path);
    snprintf(path, sizeof path, "%s/out", dir);
    rmdir(path);
    snprintf(path, sizeof path, "%s/a.c", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/unasync.json", dir);
    unlink(path);
    rmdir(dir);
}

/* ---- the incremental lint: edits inside one body equal a fresh full lint ---- */

/* Fails with a readable difference unless two results are the same (order included). */
static void assert_same_result(const ul_result *a, const ul_result *b, const char *step)
{
    int same =
        a->findings.n == b->findings.n && a->fixes.n == b->fixes.n && a->limited == b->limited;
    for (size_t i = 0; same && i < a->findings.n; i++) {
        const ua_finding *x = &a->findings.v[i], *y = &b->findings.v[i];
        same = strcmp(x->file, y->file) == 0 && x->line == y->line && x->col == y->col &&
               x->end_line == y->end_line && x->end_col == y->end_col &&
               x->severity == y->severity && strcmp(x->code, y->code) == 0 &&
               strcmp(x->message, y->message) == 0;
    }
    for (size_t i = 0; same && i < a->fixes.n; i++) {
        const ul_fix *x = &a->fixes.v[i], *y = &b->fixes.v[i];
        same = strcmp(x->code, y->code) == 0 && x->line == y->line && x->col == y->col &&
               strcmp(x->title, y->title) == 0 && strcmp(x->file, y->file) == 0 &&
               x->off == y->off && x->len == y->len && x->start_line == y->start_line &&
               x->start_col == y->start_col && x->end_line == y->end_line &&
               x->end_col == y->end_col && strcmp(x->text, y->text) == 0;
    }
    if (same)
        return;
    fprintf(stderr, "step %s: incremental and full results differ\n", step);
    const ul_result *r[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        fprintf(stderr, "%s:\n", k ? "full" : "incremental");
        for (size_t i = 0; i < r[k]->findings.n; i++) {
            const ua_finding *x = &r[k]->findings.v[i];
            fprintf(stderr, "  %u:%u-%u:%u %s %s\n", x->line, x->col, x->end_line, x->end_col,
                    x->code, x->message);
        }
        for (size_t i = 0; i < r[k]->fixes.n; i++) {
            const ul_fix *x = &r[k]->fixes.v[i];
            fprintf(stderr, "  fix %u:%u %s %s %zu+%zu %u:%u-%u:%u '%s'\n", x->line, x->col,
                    x->code, x->file, x->off, x->len, x->start_line, x->start_col, x->end_line,
                    x->end_col, x->text);
        }
    }
    fail_msg("step %s", step);
}

/* Replaces the first `from` of *buf with `to`. */
static void replace_in(char **buf, size_t *len, const char *from, const char *to)
{
    char *at = strstr(*buf, from);
    if (!at)
        fprintf(stderr, "no '%s' in the source\n", from);
    assert_non_null(at);
    sbuf o = {0};
    sb_printf(&o, "%.*s%s%s", (int)(at - *buf), *buf, to, at + strlen(from));
    free(*buf);
    *buf = o.s;
    *len = o.n;
}

static void incremental_lint_equals_full_lint(void **state)
{
    (void)state;
    char dir[] = "/tmp/unasync-lint-inc-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[4096 + 64];
    sbuf b = {0};
    sb_printf(&b, "{\"sources\": [\"m.c\"], \"compile_flags\": [\"-I%s\"]}\n", runtime_include);
    snprintf(path, sizeof path, "%s/unasync.json", dir);
    testfs_spit(path, b.s, b.n);
    free(b.s);
    /* 60 functions with every rule's findings and fixes: UA001 (missing await), UA002 (await on
     * a sync function), UA003 (async call or stray await outside a coroutine), UA004 (sleep),
     * UA005 (external symbols) */
    sbuf s = {0};
    sb_printf(&s, "#include <unasync/async.h>\n#include <stdint.h>\n#include <unistd.h>\n\n"
                  "int exported_counter;\nstatic int plain(int x) { return x + 1; }\n"
                  "static async int step0(int x) { return await async_sleep_ms((uint64_t)x); }\n");
    for (int i = 1; i < 60; i++) {
        int k = i % 6;
        sb_printf(&s, "%s int step%d(int x)\n{\n", k == 3 || k == 5 ? "static" : "static async", i);
        if (k == 1)
            sb_printf(&s, "    int r = step%d(x);\n", i - 1);
        else if (k == 2)
            sb_printf(&s, "    sleep(1);\n    int r = await step%d(x);\n", i - 1);
        else if (k == 3)
            sb_printf(&s, "    int r = step%d(x);\n", i - 1);
        else if (k == 5)
            sb_printf(&s, "    int r = await (plain(x));\n    r += step%d(x);\n", i - 1);
        else
            sb_printf(&s, "    int r = await step%d(x);\n", i - 1);
        sb_printf(&s, "    /* edit point %d */\n    r += x * %d;\n    return r;\n}\n", i, i);
    }
    sb_printf(&s, "int public_fn(void) { return step1(2); }\n");
    char *src = s.s;
    size_t len = s.n;
    snprintf(path, sizeof path, "%s/m.c", dir);
    testfs_spit(path, src, len);
    snprintf(path, sizeof path, "%s/unasync.json", dir);
    ua_findings cf = {0};
    ue_project *p = NULL;
    assert_int_equal(ue_project_open(path, &p, &cf), 0);
    ul_options opt = {0};
    opt.keep = 1;
    ul_ctx *keep = ul_ctx_new(&opt);
    assert_non_null(keep);
    /* each edit applies to the previous text; `inc` says whether the lint may answer it
     * incrementally (0: it must fall back to a full parse) */
    static const struct {
        const char *from, *to;
        int inc;
    } edits[] = {
        {NULL, NULL, 0},
        {"/* edit point 10 */", "r += step0(1); /* e10 */\n    r += step0(2);", 1},
        {"/* edit point 3 */", "x += 1;\n    x += 2;\n    x += 3;", 1},
        {"r += step0(1); /* e10 */\n    r += step0(2);", "/* edit point 10 */", 1},
        {"/* edit point 20 */", "r += await plain(2);", 1},
        {"/* edit point 30 */", "return r;\n}\nstatic int extra(int x)\n{\n    int r = x;", 0},
        {"/* edit point 40 */", "r += step1(3);", 1},
        {"static int step45(", "static int added_global;\nstatic int step45(", 0},
        {"/* edit point 55 */", "sleep(2);", 1},
        {"/* edit point 12 */", "#define Q 1\n    r += Q;", 0},
        {"/* edit point 8 */", "", 1},
        {"/* edit point 58 */", "{ r += await step2(1); }", 1},
        /* a body that starts another function as a coroutine changes the judgement of that
         * function's body (no UA003 in a coroutine entry): a full parse, and back */
        {"/* edit point 44 */", "async_detach(async_spawn(step47, NULL));", 0},
        {"async_detach(async_spawn(step47, NULL));", "/* edit point 44 */", 0},
        {"/* edit point 47 */", "r += 1;", 1},
    };
    unsigned long hits = 0;
    size_t total = 0;
    for (size_t e = 0; e < sizeof edits / sizeof *edits; e++) {
        char step[16];
        snprintf(step, sizeof step, "%zu", e);
        if (edits[e].from)
            replace_in(&src, &len, edits[e].from, edits[e].to);
        ul_result inc = {0}, full = {0};
        assert_int_equal(ul_lint_source(keep, p, "m.c", src, len, NULL, &inc), 0);
        hits += (unsigned long)edits[e].inc;
        if (keep->inc_hits != hits)
            fprintf(stderr, "step %s: %lu incremental lints, expected %lu\n", step, keep->inc_hits,
                    hits);
        assert_int_equal(keep->inc_hits, hits);
        ul_ctx *fresh = ul_ctx_new(NULL);
        assert_non_null(fresh);
        assert_int_equal(ul_lint_source(fresh, p, "m.c", src, len, NULL, &full), 0);
        ul_ctx_free(fresh);
        assert_int_equal(full.limited, 0);
        assert_same_result(&inc, &full, step);
        total += full.findings.n;
        ul_result_free(&inc);
        ul_result_free(&full);
    }
    assert_true(total > 12 * 20); /* every step has findings of every rule to move */
    ul_ctx_free(keep);
    free(src);
    ue_project_free(p);
    ua_findings_free(&cf);
    snprintf(path, sizeof path, "%s/m.c", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/unasync.json", dir);
    unlink(path);
    rmdir(dir);
}

static void every_rule_code_has_a_docs_link(void **state)
{
    (void)state;
    for (int i = 0; i <= 10; i++) {
        char code[8];
        snprintf(code, sizeof code, "UA%03d", i);
        const char *href = ul_code_href(code);
        assert_non_null(href);
        assert_true(strncmp(href, "file://", 7) == 0);
        assert_non_null(strstr(href, code));
        /* the link opens a page that exists (installed, or this source tree's) */
        assert_int_equal(access(href + 7, R_OK), 0);
    }
    assert_null(ul_code_href("UA201"));
    assert_null(ul_code_href("UA0099"));
}

/* ---- every C example of docs/ ---- */

/* One ```c block of a page: where it starts, its text, and what its marker says. */
typedef struct doc_block {
    unsigned line; /* of the opening fence */
    char *text;
    int fragment, header, expect; /* marker kinds; expect: codes[] must come out */
    char codes[16][8];
    int ncodes;
    char maps[4][64]; /* rule maps the example's project names ("maps NAME...") */
    int nmaps;
    char why[256]; /* a marker that does not parse, or a fragment without a reason */
} doc_block;

/* Parses the marker comment `m` ("<!-- lint: ... -->") into b. */
static void parse_marker(const char *m, doc_block *b)
{
    const char *q = m + strlen("<!-- lint:"), *end = strstr(m, "-->");
    if (!end) {
        snprintf(b->why, sizeof b->why, "unterminated lint marker");
        return;
    }
    int in_maps = 0; /* the words after "maps" name rule maps */
    while (q < end) {
        while (q < end && *q == ' ')
            q++;
        const char *t = q;
        while (q < end && *q != ' ')
            q++;
        size_t n = (size_t)(q - t);
        if (n == 0)
            break;
        if (n == 8 && strncmp(t, "fragment", 8) == 0) {
            b->fragment = 1;
            while (q < end && *q == ' ')
                q++;
            if (q == end)
                snprintf(b->why, sizeof b->why, "a fragment marker needs a reason");
            return; /* the rest is the reason */
        } else if (n == 6 && strncmp(t, "header", 6) == 0) {
            b->header = 1;
        } else if (n == 6 && strncmp(t, "expect", 6) == 0) {
            b->expect = 1;
            in_maps = 0;
        } else if (n == 4 && strncmp(t, "maps", 4) == 0) {
            in_maps = 1;
        } else if (in_maps && n < sizeof b->maps[0] && b->nmaps < 4) {
            snprintf(b->maps[b->nmaps++], sizeof b->maps[0], "%.*s", (int)n, t);
        } else if (b->expect && n == 5 && strncmp(t, "UA", 2) == 0 && b->ncodes < 16) {
            snprintf(b->codes[b->ncodes++], sizeof b->codes[0], "%.5s", t);
        } else {
            snprintf(b->why, sizeof b->why, "unknown word '%.*s' in the lint marker", (int)n, t);
            return;
        }
    }
    if (b->expect && b->ncodes == 0)
        snprintf(b->why, sizeof b->why, "'expect' names no code");
}

/* The ```c blocks of one page, with the marker on the line before each. */
static size_t doc_blocks(const char *md, doc_block **out)
{
    doc_block *v = NULL;
    size_t n = 0;
    unsigned line = 1;
    const char *prev = NULL; /* the previous line */
    for (const char *q = md; *q;) {
        const char *eol = strchr(q, '\n');
        size_t len = eol ? (size_t)(eol - q) : strlen(q);
        const char *t = q;
        while (*t == ' ')
            t++;
        if (strncmp(t, "```c", 4) == 0 && (t + 4 == q + len || t[4] == ' ' || t[4] == '\r')) {
            v = realloc(v, (n + 1) * sizeof *v);
            doc_block *b = &v[n++];
            memset(b, 0, sizeof *b);
            b->line = line;
            if (prev && strncmp(prev, "<!-- lint:", 10) == 0)
                parse_marker(prev, b);
            sbuf body = {0};
            size_t indent = (size_t)(t - q);
            for (q = eol ? eol + 1 : q + len, line++; *q; line++) {
                const char *e2 = strchr(q, '\n');
                size_t l2 = e2 ? (size_t)(e2 - q) : strlen(q);
                const char *u = q;
                while (*u == ' ')
                    u++;
                if (strncmp(u, "```", 3) == 0) {
                    q = e2 ? e2 + 1 : q + l2;
                    line++;
                    break;
                }
                size_t skip = l2 < indent ? l2 : indent;
                sb_printf(&body, "%.*s\n", (int)(l2 - skip), q + skip);
                q = e2 ? e2 + 1 : q + l2;
            }
            b->text = body.s ? body.s : calloc(1, 1);
            prev = NULL;
            continue;
        }
        if (len)
            prev = q;
        q = eol ? eol + 1 : q + len;
        line++;
    }
    *out = v;
    return n;
}

static int cmp_code(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Lints one block as the only source of a temporary project whose compile flags reach the
 * runtime's and the limiter's headers. Returns NULL when it does what its marker says, else
 * a description (static buffer). */
static const char *lint_doc_block(const doc_block *b)
{
    static char why[4096];
    char dir[] = "/tmp/unasync-doc-XXXXXX";
    assert_non_null(mkdtemp(dir));
    const char *name = b->header ? "doc.h" : "doc.c";
    char path[4096 + 64], inc[4096 + 64];
    sbuf cfg = {0};
    sb_printf(&cfg, "{\"sources\": [\"%s\"], \"compile_flags\": [\"-std=c11\", \"-D_GNU_SOURCE\", "
                    "\"-I%s\"",
              name, runtime_include);
    snprintf(inc, sizeof inc, "%s/limiter/include", repo_root);
    if (access(inc, R_OK) == 0)
        sb_printf(&cfg, ", \"-I%s\"", inc);
    snprintf(inc, sizeof inc, "%s/limiter", repo_root);
    sb_printf(&cfg, ", \"-I%s\"]", inc);
    for (int i = 0; i < b->nmaps; i++)
        sb_printf(&cfg, "%s\"%s\"", i ? ", " : ", \"maps\": [", b->maps[i]);
    sb_printf(&cfg, "%s}\n", b->nmaps ? "]" : "");
    snprintf(path, sizeof path, "%s/unasync.json", dir);
    testfs_spit(path, cfg.s, cfg.n);
    free(cfg.s);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    testfs_spit(path, b->text, strlen(b->text));
    snprintf(path, sizeof path, "%s/unasync.json", dir);
    ua_findings f = {0};
    ue_project *p = NULL;
    why[0] = '\0';
    if (ue_project_open(path, &p, &f) != 0) {
        snprintf(why, sizeof why, "the temporary project does not open");
    } else {
        ue_report r;
        assert_int_equal(ue_check(p, NULL, 0, NULL, 1, &r), 0);
        assert_int_equal(ul_check_report(p, 1, 1, &r), 0);
        ul_ctx *ctx = ul_ctx_new(NULL);
        ul_result res = {0};
        assert_int_equal(ul_lint_source(ctx, p, name, b->text, strlen(b->text), NULL, &res), 0);
        const char *got[64];
        size_t ngot = 0;
        sbuf list = {0};
        for (size_t i = 0; i < r.findings.n && ngot < 64; i++) {
            const ua_finding *x = &r.findings.v[i];
            if (strncmp(x->code, "UA2", 3) == 0 || x->severity > UA_WARNING)
                continue; /* drift of the twin nobody wrote; notes */
            got[ngot++] = x->code;
            sb_printf(&list, "\n    %s:%u:%u: %s [%s]", x->file, x->line, x->col, x->message,
                      x->code);
        }
        qsort(got, ngot, sizeof *got, cmp_code);
        const char *want[16];
        for (int i = 0; i < b->ncodes; i++)
            want[i] = b->codes[i];
        qsort(want, (size_t)b->ncodes, sizeof *want, cmp_code);
        int same = ngot == (size_t)b->ncodes;
        for (size_t i = 0; same && i < ngot; i++)
            same = strcmp(got[i], want[i]) == 0;
        if (res.limited || res.source_errors)
            snprintf(why, sizeof why, "%s (the example must be valid C with its headers):%s",
                     res.limited ? "the lint is limited" : "libclang finds errors in the C",
                     list.s ? list.s : "");
        else if (!same)
            snprintf(why, sizeof why, "expected %s%s, got:%s",
                     b->expect ? "exactly the marker's codes" : "no finding",
                     b->expect ? "" : " (mark it <!-- lint: expect UA0xx --> if deliberate)",
                     list.s ? list.s : " nothing");
        free(list.s);
        ul_result_free(&res);
        ul_ctx_free(ctx);
        ue_report_free(&r);
    }
    ua_findings_free(&f);
    ue_project_free(p);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return why[0] ? why : NULL;
}

/* Every ```c block of the pages in docs/ and docs/lint/ is linted: it must come out clean, or give
 * exactly the codes of its <!-- lint: expect ... --> marker; only a block marked
 * <!-- lint: fragment REASON --> is not compiled (docs/contributing.md, "Code examples"). */
static void docs_examples_lint_as_their_markers_say(void **state)
{
    (void)state;
    static const char *const dirs[] = {"docs", "docs/lint"};
    size_t linted = 0, fragments = 0;
    int failed = 0;
    for (size_t d = 0; d < 2; d++) {
        char dpath[4096 + 32];
        snprintf(dpath, sizeof dpath, "%s/%s", repo_root, dirs[d]);
        DIR *dh = opendir(dpath);
        assert_non_null(dh);
        struct dirent *e;
        while ((e = readdir(dh))) {
            size_t nl = strlen(e->d_name);
            if (nl < 4 || strcmp(e->d_name + nl - 3, ".md") != 0)
                continue;
            char fpath[8192];
            snprintf(fpath, sizeof fpath, "%s/%s", dpath, e->d_name);
            char *md = testfs_slurp(fpath, NULL);
            assert_non_null(md);
            doc_block *v = NULL;
            size_t n = doc_blocks(md, &v);
            for (size_t i = 0; i < n; i++) {
                const char *why = v[i].why[0] ? v[i].why : NULL;
                if (!why && v[i].fragment)
                    fragments++;
                else if (!why && (why = lint_doc_block(&v[i])) == NULL)
                    linted++;
                if (why) {
                    fprintf(stderr, "%s/%s:%u: %s\n", dirs[d], e->d_name, v[i].line, why);
                    failed++;
                }
                free(v[i].text);
            }
            free(v);
            free(md);
        }
        closedir(dh);
    }
    fprintf(stderr, "docs: %zu C examples linted, %zu marked fragments\n", linted, fragments);
    assert_int_equal(failed, 0);
    assert_true(linted >= 7);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_lint CASES_DIR REPO_ROOT\n");
        return 2;
    }
    cases_dir = argv[1];
    repo_root = argv[2];
    snprintf(runtime_include, sizeof runtime_include, "%s/runtime/include", repo_root);
    update = getenv("UNASYNC_UPDATE_GOLDEN") != NULL;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lint_cases_match_expected),
        cmocka_unit_test(repository_sources_have_no_lint_findings),
        cmocka_unit_test(runtime_async_files_have_no_await_findings),
        cmocka_unit_test(planted_missing_await_in_limiter_is_found_and_fixed),
        cmocka_unit_test(compile_commands_json_supplies_the_flags),
        cmocka_unit_test(every_rule_code_has_a_docs_link),
        cmocka_unit_test(incremental_lint_equals_full_lint),
        cmocka_unit_test(docs_examples_lint_as_their_markers_say),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
