/* test_alloc.c - fault injection over the whole core on a real project on disk: opening it,
 * checking its twins, linting it and writing the twins survive the failure of each allocation
 * in turn, say ENOMEM, hand back nothing partial, leak nothing and leave every file whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testalloc.h"
#include "testfs.h"
#include "ul.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the project: one twin missing, one stale, one hand-edited, one orphaned, one in step ---- */

static const char config_json[] = "{\n"
                                  "  \"sources\": [\"src/*.c\"],\n"
                                  "  \"rename\": {\"app_async_*\": \"app_sync_*\"},\n"
                                  "  \"compile_flags\": [\"-Isrc\"]\n"
                                  "}\n";

/* A call to an async function without await (UA001) and a blocking call to another source's
 * twin (UA004), each with its quick fix. */
static const char a_c[] = "#include <unasync/async.h>\n"
                          "async int app_async_b(int x);\n"
                          "int app_sync_b(int x);\n"
                          "static async int fetch(int x)\n"
                          "{\n"
                          "    await async_sleep_ms(1);\n"
                          "    return x;\n"
                          "}\n"
                          "async int app_async_a(void)\n"
                          "{\n"
                          "    int v = fetch(1);\n"
                          "    return v + await fetch(2) + app_sync_b(3);\n"
                          "}\n";

static const char *const b_c[2] = {"#include <unasync/async.h>\n"
                                   "async int app_async_b(int x)\n"
                                   "{\n"
                                   "    await async_sleep_ms(1);\n"
                                   "    return x + 1;\n"
                                   "}\n",
                                   /* changed after its twin was written: the twin is stale */
                                   "#include <unasync/async.h>\n"
                                   "async int app_async_b(int x)\n"
                                   "{\n"
                                   "    await async_sleep_ms(2);\n"
                                   "    return x + 2;\n"
                                   "}\n"};

/* An external name that no rule renames: UA005, whose fix edits unasync.json. */
static const char c_c[] = "#include <unasync/async.h>\n"
                          "int helper_c(void) { return 3; }\n"
                          "async int app_async_c(int x)\n"
                          "{\n"
                          "    await async_sleep_ms(3);\n"
                          "    return x * 3;\n"
                          "}\n";

static const char d_c[] = "#include <unasync/async.h>\n"
                          "async int app_async_c(int x);\n"
                          "async int app_async_d(void)\n"
                          "{\n"
                          "    return await app_async_c(4);\n"
                          "}\n";

/* c.c as an editor might hold it: two names for UA005, so two rename rules to merge. */
static const char c2_c[] = "#include <unasync/async.h>\n"
                           "int helper_c(void) { return 3; }\n"
                           "int counter_c2;\n"
                           "async int app_async_c(int x)\n"
                           "{\n"
                           "    await async_sleep_ms(3);\n"
                           "    return x * 3 + counter_c2;\n"
                           "}\n";

/* Its twin stays behind when it is deleted: an orphan. */
static const char gone_c[] = "#include <unasync/async.h>\n"
                             "async int app_async_gone(void)\n"
                             "{\n"
                             "    await async_sleep_ms(5);\n"
                             "    return 5;\n"
                             "}\n";

/* ---- files on disk ---- */

#define MAXF 16

typedef struct file {
    char rel[300];
    char *bytes; /* plain malloc */
    size_t len;
} file;

/* A folder's files (every level), sorted by path. */
typedef struct tree {
    file f[MAXF];
    size_t n;
} tree;

static char dir[256];

static void path_of(char *out, size_t cap, const char *rel)
{
    snprintf(out, cap, "%s/%s", dir, rel);
}

static void put(const char *rel, const char *bytes)
{
    char p[1024];
    path_of(p, sizeof p, rel);
    testfs_spit(p, bytes, strlen(bytes));
}

static void tree_free(tree *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->f[i].bytes);
    t->n = 0;
}

static int file_cmp(const void *a, const void *b)
{
    return strcmp(((const file *)a)->rel, ((const file *)b)->rel);
}

/* Reads every file under the project (plain memory, outside the hook's reach). */
static void tree_read(tree *t)
{
    const char *subs[] = {"", "src/"};
    t->n = 0;
    for (size_t s = 0; s < 2; s++) {
        char p[1024];
        path_of(p, sizeof p, subs[s]);
        DIR *d = opendir(p);
        assert_non_null(d);
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
                strcmp(e->d_name, "src") == 0)
                continue;
            assert_true(t->n < MAXF);
            file *f = &t->f[t->n];
            snprintf(f->rel, sizeof f->rel, "%s%s", subs[s], e->d_name);
            path_of(p, sizeof p, f->rel);
            struct stat st;
            assert_int_equal(lstat(p, &st), 0);
            if (S_ISLNK(st.st_mode)) /* the link out of the project stays as it is */
                continue;
            t->n++;
            f->bytes = testfs_slurp(p, &f->len);
            assert_non_null(f->bytes);
            path_of(p, sizeof p, subs[s]);
        }
        closedir(d);
    }
    qsort(t->f, t->n, sizeof *t->f, file_cmp);
}

static const file *tree_find(const tree *t, const char *rel)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->f[i].rel, rel) == 0)
            return &t->f[i];
    return NULL;
}

/* Empties the project folder and lays `t` out in it. */
static void tree_lay(const tree *t)
{
    tree now;
    tree_read(&now);
    for (size_t i = 0; i < now.n; i++) {
        char p[1024];
        path_of(p, sizeof p, now.f[i].rel);
        assert_int_equal(unlink(p), 0);
    }
    tree_free(&now);
    for (size_t i = 0; i < t->n; i++) {
        char p[1024];
        path_of(p, sizeof p, t->f[i].rel);
        testfs_spit(p, t->f[i].bytes, t->f[i].len);
    }
}

/* Every file is the old one or the whole new one, and there is no other (no temporary file
 * left behind, none lost). */
static void tree_expect_old_or_new(const tree *old, const tree *neu, long n)
{
    tree now;
    tree_read(&now);
    for (size_t i = 0; i < now.n; i++) {
        const file *f = &now.f[i], *o = tree_find(old, f->rel), *w = tree_find(neu, f->rel);
        int is_old = o && o->len == f->len && memcmp(o->bytes, f->bytes, f->len) == 0;
        int is_new = w && w->len == f->len && memcmp(w->bytes, f->bytes, f->len) == 0;
        if (!is_old && !is_new)
            fail_msg("failing allocation %ld: %s is neither its old nor its new bytes", n, f->rel);
    }
    for (size_t i = 0; i < old->n; i++)
        if (!tree_find(&now, old->f[i].rel) && !tree_find(neu, old->f[i].rel))
            fail_msg("failing allocation %ld: %s is gone", n, old->f[i].rel);
    for (size_t i = 0; i < neu->n; i++)
        if (!tree_find(&now, neu->f[i].rel) && tree_find(old, neu->f[i].rel))
            fail_msg("failing allocation %ld: %s is gone", n, neu->f[i].rel);
    tree_free(&now);
}

/* ---- one run of everything, recorded as text ---- */

static void rec_findings(testrec *r, const char *what, const ua_findings *fs)
{
    for (size_t i = 0; i < fs->n; i++) {
        const ua_finding *f = &fs->v[i];
        testrec_addf(r, "%s %s:%u:%u %d %s %s related=%s\n", what, f->file, f->line, f->col,
                     (int)f->severity, f->code, f->message,
                     f->related_file ? f->related_file : "-");
    }
}

#define FAILED_IN_CALL TESTALLOC_FAILED_IN_CALL

/* Finds and opens the project, checks it on one thread, lints it, writes the twins. Returns 1
 * when the injected failure hit (and was reported, with nothing partial), 0 when the run
 * completed; *r gets the record of a completed run. Everything is released either way. */
static int run_all(testrec *r)
{
    char start[1024], *config = NULL;
    ua_findings of = {0}, rf = {0}, left = {0};
    ue_project *p = NULL;
    ue_report rep;
    ul_ctx *ctx = NULL;
    ul_result lr = {0}, lr2 = {0};
    ul_plan plan = {0};
    char *fixed = NULL, *fixed2 = NULL, *fixed3 = NULL;
    size_t fixed_len = 0, fixed2_len = 0, fixed3_len = 0;
    int hit = 0, before, rc;
    memset(&rep, 0, sizeof rep);

    path_of(start, sizeof start, "src");
    before = testalloc_hook.failed;
    rc = ue_find_config(start, &config);
    if ((hit = FAILED_IN_CALL(before, rc, UA_ENOMEM))) {
        assert_null(config);
        goto done;
    }
    assert_int_equal(rc, 0);

    before = testalloc_hook.failed;
    rc = ue_project_open(config, &p, &of);
    if ((hit = FAILED_IN_CALL(before, rc, UA_ENOMEM))) {
        assert_null(p);
        assert_int_equal(of.n, 0);
        goto done;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(of.n, 1); /* the link out of the project */
    rec_findings(r, "open", &of);
    for (size_t i = 0; i < p->nsources; i++)
        testrec_addf(r, "source %s\n", p->sources[i]);
    for (size_t i = 0; i < p->ncandidates; i++)
        testrec_addf(r, "candidate %s\n", p->candidates[i]);

    /* listing again (the server does it when files come and go) keeps the old lists on failure */
    size_t nsrc = p->nsources;
    before = testalloc_hook.failed;
    rc = ue_project_rescan(p, &rf);
    if ((hit = FAILED_IN_CALL(before, rc, UA_ENOMEM))) {
        assert_int_equal(rf.n, 0);
        assert_int_equal(p->nsources, nsrc);
        goto done;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(rf.n, 1);
    assert_int_equal(p->nsources, nsrc);

    before = testalloc_hook.failed;
    rc = ue_check(p, NULL, 0, NULL, 1, &rep);
    if ((hit = FAILED_IN_CALL(before, rc, UA_ENOMEM))) {
        assert_int_equal(rep.n, 0);
        assert_null(rep.twins);
        assert_int_equal(rep.findings.n, 0);
        goto done;
    }
    assert_int_equal(rc, 0);
    const ue_state want[] = {UE_MISSING, UE_STALE, UE_EDITED, UE_OK, UE_ORPHANED};
    assert_int_equal(rep.n, 5);
    for (size_t i = 0; i < rep.n; i++) {
        assert_int_equal(rep.twins[i].state, want[i]);
        testrec_addf(r, "twin %s of %s: %s\n", rep.twins[i].twin, rep.twins[i].source,
                     ue_state_name(rep.twins[i].state));
    }

    size_t n0 = rep.findings.n;
    before = testalloc_hook.failed;
    rc = ul_check_report(p, 1, 1, &rep);
    if ((hit = FAILED_IN_CALL(before, rc, UL_ENOMEM))) {
        assert_true(rep.findings.n <= n0); /* no lint finding (ignore comments may drop some) */
        goto done;
    }
    assert_int_equal(rc, 0);
    rec_findings(r, "check", &rep.findings);
    int ua001 = 0;
    for (size_t i = 0; i < rep.findings.n; i++)
        ua001 += strcmp(rep.findings.v[i].code, "UA001") == 0;
    assert_int_equal(ua001, 1);

    /* the language server's way: a kept unit, linted twice (the second time reparsed), and
     * the UA001 quick fix applied */
    ul_options opt = {0};
    opt.keep = 1;
    before = testalloc_hook.failed;
    ctx = ul_ctx_new(&opt);
    if ((hit = (before == 0 && testalloc_hook.failed))) {
        assert_null(ctx);
        goto done;
    }
    assert_non_null(ctx);
    for (int k = 0; k < 2; k++) {
        before = testalloc_hook.failed;
        rc = ul_lint_source(ctx, p, "src/a.c", a_c, strlen(a_c), NULL, &lr);
        if ((hit = FAILED_IN_CALL(before, rc, UL_ENOMEM))) {
            assert_int_equal(lr.findings.n, 0);
            assert_int_equal(lr.fixes.n, 0);
            goto done;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(lr.limited, 0);
        rec_findings(r, "lint", &lr.findings);
        for (size_t i = 0; i < lr.fixes.n; i++)
            testrec_addf(r, "fix %s %s %s %zu+%zu '%s'\n", lr.fixes.v[i].code, lr.fixes.v[i].title,
                         lr.fixes.v[i].file, lr.fixes.v[i].off, lr.fixes.v[i].len,
                         lr.fixes.v[i].text);
        int ua004 = 0;
        for (size_t i = 0; i < lr.findings.n; i++)
            ua004 += strcmp(lr.findings.v[i].code, "UA004") == 0;
        assert_int_equal(ua004, 1);
        if (k == 0)
            ul_result_free(&lr);
    }
    assert_string_equal(lr.fixes.v[0].code, "UA001");
    before = testalloc_hook.failed;
    rc = ul_fix_apply(&lr.fixes.v[0], a_c, strlen(a_c), &fixed, &fixed_len);
    if ((hit = FAILED_IN_CALL(before, rc, UL_ENOMEM))) {
        assert_null(fixed);
        goto done;
    }
    assert_int_equal(rc, 0);
    assert_non_null(strstr(fixed, "int v = await fetch(1);"));

    /* unasync --fix's way: every preferred fix of a file in one pass (UA001 and UA004 here) */
    const ul_fix *both[2] = {&lr.fixes.v[0], NULL};
    for (size_t i = 1; i < lr.fixes.n && !both[1]; i++)
        if (lr.fixes.v[i].preferred && !ul_fix_overlaps(both[0], &lr.fixes.v[i]))
            both[1] = &lr.fixes.v[i];
    assert_non_null(both[1]);
    before = testalloc_hook.failed;
    rc = ul_fixes_apply(both, 2, a_c, strlen(a_c), &fixed2, &fixed2_len);
    if ((hit = FAILED_IN_CALL(before, rc, UL_ENOMEM))) {
        assert_null(fixed2);
        goto done;
    }
    assert_int_equal(rc, 0);
    testrec_addf(r, "fixed a.c:\n%s", fixed2);
    assert_non_null(strstr(fixed2, "int v = await fetch(1);"));
    assert_non_null(strstr(fixed2, "await app_async_b(3);"));

    /* two rename rules merged into unasync.json's "rename" object */
    before = testalloc_hook.failed;
    rc = ul_lint_source(ctx, p, "src/c.c", c2_c, strlen(c2_c), NULL, &lr2);
    if ((hit = FAILED_IN_CALL(before, rc, UL_ENOMEM))) {
        assert_int_equal(lr2.findings.n, 0);
        assert_int_equal(lr2.fixes.n, 0);
        goto done;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(lr2.fixes.n, 2);
    const ul_fix *rules[2] = {&lr2.fixes.v[0], &lr2.fixes.v[1]};
    assert_non_null(rules[0]->rule_name);
    assert_false(ul_fix_overlaps(rules[0], rules[1]));
    before = testalloc_hook.failed;
    rc = ul_fixes_apply(rules, 2, config_json, strlen(config_json), &fixed3, &fixed3_len);
    if ((hit = FAILED_IN_CALL(before, rc, UL_ENOMEM))) {
        assert_null(fixed3);
        goto done;
    }
    assert_int_equal(rc, 0);
    testrec_addf(r, "fixed unasync.json:\n%s", fixed3);
    assert_non_null(strstr(fixed3, "\"rename\": {\"helper_c\": \"sync_helper_c\",\"counter_c2\": "
                                   "\"sync_counter_c2\",\"app_async_*\": \"app_sync_*\"}"));

    /* unasync --fix's plan over the whole report: what the CLI writes and the editor applies */
    before = testalloc_hook.failed;
    rc = ul_plan_fixes(ctx, p, &rep, NULL, &plan);
    if ((hit = FAILED_IN_CALL(before, rc, UL_ENOMEM))) {
        assert_int_equal(plan.nfiles, 0);
        assert_int_equal(plan.nskips, 0);
        assert_int_equal(plan.nleft, 0);
        goto done;
    }
    assert_int_equal(rc, 0);
    assert_true(plan.nfiles >= 1);
    for (size_t i = 0; i < plan.nfiles; i++)
        testrec_addf(r, "plan %s: %zu fixes\n%s", plan.files[i].rel, plan.files[i].nfixes,
                     plan.files[i].after);
    for (size_t i = 0; i < plan.nskips; i++)
        testrec_addf(r, "plan skips %s at %u:%u for %s\n", plan.skips[i].fix.code,
                     plan.skips[i].fix.line, plan.skips[i].fix.col, plan.skips[i].by.code);

    for (size_t i = 0; i < rep.n; i++) {
        const ue_twin *t = &rep.twins[i];
        if (t->state != UE_MISSING && t->state != UE_STALE && t->state != UE_EDITED)
            continue;
        int wrote = 0;
        size_t l0 = left.n;
        before = testalloc_hook.failed;
        rc = ue_write_twin(p, t, 0, &wrote, &left);
        if ((hit = FAILED_IN_CALL(before, rc, UA_ENOMEM))) {
            assert_int_equal(wrote, 0);
            assert_int_equal(left.n, l0);
            goto done;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(wrote, 1);
        testrec_addf(r, "wrote %s\n", t->twin);
    }
    assert_int_equal(left.n, 0);

done:
    ul_plan_free(&plan);
    ua_free(fixed);
    ua_free(fixed2);
    ua_free(fixed3);
    ul_result_free(&lr);
    ul_result_free(&lr2);
    ul_ctx_free(ctx);
    ua_findings_free(&left);
    ue_report_free(&rep);
    ue_project_free(p);
    ua_findings_free(&rf);
    ua_findings_free(&of);
    ua_free(config);
    return hit;
}

/* ---- the test ---- */

static void check_lint_and_write_survive_every_failed_allocation(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/unasync-alloc-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char p[1024];
    path_of(p, sizeof p, "src");
    assert_int_equal(mkdir(p, 0755), 0);

    /* the project as it was: every twin written once, then a source changed, a twin edited by
     * hand, a twin deleted and a source deleted */
    put("unasync.json", config_json);
    put("src/a.c", a_c);
    put("src/b.c", b_c[0]);
    put("src/c.c", c_c);
    put("src/d.c", d_c);
    put("src/gone.c", gone_c);
    /* a source pattern's match that leads out of the project: skipped, with a UA400 warning */
    char outside[1024];
    snprintf(outside, sizeof outside, "%s.outside.c", dir);
    FILE *of = fopen(outside, "w");
    assert_non_null(of);
    fputs("int outside;\n", of);
    fclose(of);
    path_of(p, sizeof p, "src/out.c");
    assert_int_equal(symlink(outside, p), 0);
    {
        ua_findings f = {0};
        ue_project *pr = NULL;
        ue_report rep;
        path_of(p, sizeof p, "unasync.json");
        assert_int_equal(ue_project_open(p, &pr, &f), 0);
        assert_int_equal(ue_check(pr, NULL, 0, NULL, 1, &rep), 0);
        for (size_t i = 0; i < rep.n; i++) {
            int wrote;
            assert_int_equal(ue_write_twin(pr, &rep.twins[i], 0, &wrote, &f), 0);
            assert_int_equal(wrote, 1);
        }
        assert_int_equal(f.n, 1);
        assert_string_equal(f.v[0].code, "UA400");
        ua_findings_free(&f);
        ue_report_free(&rep);
        ue_project_free(pr);
    }
    put("src/b.c", b_c[1]);
    path_of(p, sizeof p, "src/sync_c.c");
    FILE *fp = fopen(p, "a");
    assert_non_null(fp);
    fputs("/* edited by hand */\n", fp);
    fclose(fp);
    path_of(p, sizeof p, "src/sync_a.c");
    assert_int_equal(unlink(p), 0);
    path_of(p, sizeof p, "src/gone.c");
    assert_int_equal(unlink(p), 0);
    tree old;
    tree_read(&old);

    /* the reference: the C library's allocator */
    testrec plain = {0};
    ua_set_allocator(NULL, NULL, NULL);
    assert_int_equal(run_all(&plain), 0);
    tree neu;
    tree_read(&neu);
    assert_non_null(tree_find(&neu, "src/sync_a.c"));

    /* the hook, failing nothing: the same record, the same files, and every block given back */
    testrec hooked = {0};
    tree_lay(&old);
    testalloc_reset(0);
    ua_set_allocator(testalloc_malloc, testalloc_realloc, testalloc_free);
    assert_int_equal(run_all(&hooked), 0);
    ua_set_allocator(NULL, NULL, NULL);
    assert_int_equal(testalloc_hook.live, 0);
    assert_int_equal(hooked.len, plain.len);
    assert_memory_equal(hooked.p, plain.p, plain.len);
    tree_expect_old_or_new(&neu, &neu, 0);
    const long points = testalloc_hook.calls;
    assert_true(points > 300); /* the scenario reaches every part, not a few lines */

    /* fail the 1st, 2nd, ... allocation until a run needs no more than there are */
    long n;
    for (n = 1;; n++) {
        testrec r = {0};
        tree_lay(&old);
        testalloc_reset(n);
        ua_set_allocator(testalloc_malloc, testalloc_realloc, testalloc_free);
        int hit = run_all(&r);
        ua_set_allocator(NULL, NULL, NULL);
        free(r.p);
        if (testalloc_hook.live != 0)
            fail_msg("failing allocation %ld leaks %ld block(s)", n, testalloc_hook.live);
        if (hit != testalloc_hook.failed)
            fail_msg("failing allocation %ld: hit %d, failed %d", n, hit, testalloc_hook.failed);
        tree_expect_old_or_new(&old, &neu, n);
        if (!hit)
            break;
    }
    assert_int_equal(n - 1, points); /* every allocation point was failed once */
    print_message("failed each of %ld allocations in turn\n", points);

    tree empty = {0};
    tree_lay(&empty); /* deletes every file */
    path_of(p, sizeof p, "src/out.c");
    assert_int_equal(unlink(p), 0);
    assert_int_equal(unlink(outside), 0);
    path_of(p, sizeof p, "src");
    assert_int_equal(rmdir(p), 0);
    assert_int_equal(rmdir(dir), 0);
    tree_free(&old);
    tree_free(&neu);
    free(plain.p);
    free(hooked.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(check_lint_and_write_survive_every_failed_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
