/* test_incr.c - the incremental transform (ua_incr) and the live drift state (ue_live) against
 * the full path after each of thousands of random edits (inserts, deletes and splices across
 * comments, strings, directives, markers and include lines) of real sources: the golden cases,
 * the runtime's and the limiter's C. ua_incr_output must equal ua_transform byte for byte, and
 * ue_live's state, hunks, twin and findings what ue_check_source + ue_twin_findings give with the
 * buffer as the overlay, also while the twin on disk or in an overlay changes between edits.
 * Then the same run with each allocation failed in turn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "engine.h"
#include "testalloc.h"
#include "testfs.h"
#include "testrand.h"
#include "ua_incr.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *case_dir, *src_dirs[3];

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static unsigned rnd(unsigned n)
{
    return testrand(&rng, n);
}

static const char *const inserts[] = {
    "/*", "*/", "//", "\"", "'", "\\\n", "\n", "#if UNASYNC_ASYNC\n", "#else\n", "#endif\n",
    "#include \"input.h\"\n", "#include <unasync/async.h>\n", "#define A 1 \\\n", "async ",
    "await ", "await", "async_sleep_ms(1);", "sync_sleep_ms", " x", "\"s\"", "/* c */", "%:",
    "\\u00e9", "1e+", "\r\n", "#", "}", "{", ";", "rl_limiter_new", "rl_sync_limiter_new", "(",
    "    await async_mutex_lock(&m);\n", "async int f(void);\n", "ab", "x", "_", "\t",
};

/* ---- comparing results ---- */

static void same_findings(const ua_findings *a, const ua_findings *b, const char *what)
{
    if (a->n != b->n)
        fail_msg("%s: %zu findings, the full path %zu (%s)", what, a->n, b->n,
                 b->n ? b->v[0].message : a->v[0].message);
    for (size_t i = 0; i < a->n; i++) {
        const ua_finding *x = &a->v[i], *y = &b->v[i];
        int same = strcmp(x->file, y->file) == 0 && x->line == y->line && x->col == y->col &&
                   x->end_line == y->end_line && x->end_col == y->end_col &&
                   x->severity == y->severity && strcmp(x->code, y->code) == 0 &&
                   strcmp(x->message, y->message) == 0 &&
                   !x->related_file == !y->related_file &&
                   (!x->related_file || strcmp(x->related_file, y->related_file) == 0) &&
                   x->related_line == y->related_line && x->related_col == y->related_col;
        if (!same)
            fail_msg("%s: finding %zu: %u:%u-%u:%u %s %s (rel %u) vs the full path's %u:%u-%u:%u %s "
                     "%s (rel %u)",
                     what, i, x->line, x->col, x->end_line, x->end_col, x->code, x->message,
                     x->related_line, y->line, y->col, y->end_line, y->end_col, y->code,
                     y->message, y->related_line);
    }
}

static void same_output(const ua_output *a, const ua_output *b, size_t nhits, const char *what)
{
    if (a->len != b->len || !a->bytes != !b->bytes ||
        (a->bytes && memcmp(a->bytes, b->bytes, a->len) != 0))
        fail_msg("%s: twin bytes differ (%zu vs %zu)", what, a->len, b->len);
    assert_int_equal(a->header_len, b->header_len);
    assert_int_equal(a->map.n, b->map.n);
    for (size_t i = 0; i < a->map.n; i++)
        if (memcmp(&a->map.edits[i], &b->map.edits[i], sizeof a->map.edits[i]) != 0)
            fail_msg("%s: source map entry %zu differs", what, i);
    for (size_t i = 0; i < nhits; i++)
        if (a->rule_hits[i] != b->rule_hits[i])
            fail_msg("%s: rule %zu hit %zu times, the full path says %zu", what, i,
                     a->rule_hits[i], b->rule_hits[i]);
    same_findings(&a->findings, &b->findings, what);
}

static void same_diff(const ua_diff *a, const ua_diff *b, const char *what)
{
    if (a->n != b->n)
        fail_msg("%s: %zu hunks, the full path %zu", what, a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        if (memcmp(&a->hunks[i], &b->hunks[i], sizeof a->hunks[i]) != 0)
            fail_msg("%s: hunk %zu: %zu,%zu -> %zu,%zu vs the full path's %zu,%zu -> %zu,%zu", what,
                     i, a->hunks[i].a_line, a->hunks[i].a_count, a->hunks[i].b_line,
                     a->hunks[i].b_count, b->hunks[i].a_line, b->hunks[i].a_count,
                     b->hunks[i].b_line, b->hunks[i].b_count);
}

/* ---- the project on disk and the overlay ---- */

typedef struct docs {
    const char *src_rel, *twin_rel;
    const char *src;
    size_t src_len;
    const char *twin; /* NULL: the twin comes from the disk */
    size_t twin_len;
} docs;

static const char *lookup(void *ud, const char *rel, size_t *len)
{
    const docs *d = ud;
    if (strcmp(rel, d->src_rel) == 0) {
        *len = d->src_len;
        return d->src;
    }
    if (d->twin && strcmp(rel, d->twin_rel) == 0) {
        *len = d->twin_len;
        return d->twin;
    }
    return NULL;
}

typedef struct run {
    ue_project *p;
    char root[256];
    const char *src_rel;
    char *twin_rel;
    char twin_path[512];
    size_t edits, full_transforms, full_checks, drifted, warned, big_edits, big_full;
} run;

/* Compares the live state with a full check of the same buffer (and twin overlay). */
static int check_live(run *r, const ue_live *l, docs *d, const char *what)
{
    ue_overlay ov = {lookup, d};
    ue_twin t, u;
    int rc = ue_check_source(r->p, NULL, r->src_rel, &ov, &t);
    if (rc)
        return rc;
    rc = ue_live_twin(l, &u);
    if (rc) {
        ue_twin_free(&t);
        return rc;
    }
    if (ue_live_state(l) != t.state || u.state != t.state)
        fail_msg("%s: live state %s, the full check says %s", what,
                 ue_state_name(ue_live_state(l)), ue_state_name(t.state));
    same_diff(ue_live_diff(l), &t.diff, what);
    same_diff(&u.diff, &t.diff, what);
    assert_int_equal(u.expected_len, t.expected_len);
    assert_true(!u.expected == !t.expected);
    assert_true(!t.expected || memcmp(u.expected, t.expected, t.expected_len) == 0);
    assert_int_equal(u.actual_len, t.actual_len);
    assert_true(!u.actual == !t.actual);
    assert_true(!t.actual || memcmp(u.actual, t.actual, t.actual_len) == 0);
    assert_int_equal(u.src_len, t.src_len);
    assert_memory_equal(u.src_bytes, t.src_bytes, t.src_len);
    assert_int_equal(u.mode, t.mode);
    assert_int_equal(u.err, t.err);
    assert_int_equal(u.err_twin, t.err_twin);
    same_output(&u.out, &t.out, r->p->cfg->nrules + 1, what);
    ua_findings fa = {0}, fb = {0};
    rc = ue_live_findings(l, &fa);
    if (!rc)
        rc = ue_twin_findings(&t, &fb);
    if (!rc)
        same_findings(&fa, &fb, what);
    r->drifted += t.state == UE_STALE || t.state == UE_EDITED;
    ua_findings_free(&fa);
    ua_findings_free(&fb);
    ue_twin_free(&t);
    ue_twin_free(&u);
    return rc;
}

/* Changes the twin: regenerated from the buffer, hand-edited, removed, replaced by a file of
 * someone else's, or served from an overlay instead of the disk. */
static int change_twin(run *r, ue_live *l, docs *d, char **ovbuf)
{
    ue_overlay ov = {lookup, d};
    ue_twin t;
    int rc = ue_check_source(r->p, NULL, r->src_rel, &ov, &t);
    if (rc)
        return rc;
    free(*ovbuf);
    *ovbuf = NULL;
    d->twin = NULL;
    unsigned what = rnd(6);
    const char *bytes = t.expected;
    size_t n = t.expected_len;
    char *edited = NULL;
    if (bytes && (what == 1 || what == 5) && n > 2) { /* a hand edit somewhere in the body */
        edited = malloc(n + 8);
        assert_non_null(edited);
        size_t at = t.out.header_len + rnd((unsigned)(n - t.out.header_len) + 1);
        memcpy(edited, bytes, at);
        memcpy(edited + at, "/*h*/", 5);
        memcpy(edited + at + 5, bytes + at, n - at);
        bytes = edited;
        n += 5;
    }
    if (what == 2) {
        unlink(r->twin_path);
    } else if (what == 3) {
        testfs_spit(r->twin_path, "int mine;\n", 10);
    } else if (bytes && what >= 4) { /* an editor's buffer of the twin */
        *ovbuf = malloc(n + 1);
        assert_non_null(*ovbuf);
        memcpy(*ovbuf, bytes, n);
        d->twin = *ovbuf;
        d->twin_len = n;
    } else if (bytes) {
        testfs_spit(r->twin_path, bytes, n);
    }
    free(edited);
    ue_twin_free(&t);
    return ue_live_twin_changed(l, d->twin ? &ov : NULL);
}

/* Edits one source many times; returns 0 or UA_ENOMEM (from a failed allocation). */
static int edit_many(run *r, const char *text, size_t len0, int nedits, int check_every)
{
    size_t cap = len0 * 2 + 8192, len = len0;
    char *buf = malloc(cap), *ovbuf = NULL;
    assert_non_null(buf);
    memcpy(buf, text, len);
    docs d = {r->src_rel, r->twin_rel, buf, len, NULL, 0};
    ue_live *l = NULL;
    ua_incr *in = NULL;
    int rc = ue_live_new(r->p, r->src_rel, buf, len, NULL, &l);
    if (!rc)
        rc = ua_incr_new(&r->p->view, r->src_rel, buf, len, &in);
    char what[600];
    char *good = malloc(cap);
    assert_non_null(good);
    memcpy(good, text, len0);
    size_t good_len = len0, big_full0 = 0;
    int good_now = 1;
    for (int e = 0; e < nedits && !rc; e++) {
        size_t off, del;
        const char *ins;
        size_t il;
        unsigned kind = rnd(20);
        if (!good_now && rnd(2) == 0) {
            /* a source with errors is mostly a token half typed: the next keystroke often
             * completes it; here the edit that brings back the last text without errors */
            size_t p = 0, q = 0;
            while (p < len && p < good_len && buf[p] == good[p])
                p++;
            while (q < len - p && q < good_len - p && buf[len - 1 - q] == good[good_len - 1 - q])
                q++;
            off = p;
            del = len - p - q;
            ins = good + p;
            il = good_len - p - q;
        } else if (kind == 0) { /* back to the original text, as one edit */
            off = 0;
            del = len;
            ins = text;
            il = len0;
        } else {
            off = len ? rnd((unsigned)len + 1) : 0;
            del = rnd(4) == 0 ? 0 : rnd(kind < 4 ? 64 : 12);
            if (del > len - off)
                del = len - off;
            ins = rnd(3) == 0 ? "" : inserts[rnd(sizeof inserts / sizeof *inserts)];
            il = strlen(ins);
            if (del == 0 && il == 0)
                il = strlen(ins = " ");
        }
        if (len - del + il >= cap)
            continue;
        memmove(buf + off + il, buf + off + del, len - off - del);
        memcpy(buf + off, ins, il);
        len = len - del + il;
        d.src_len = len;
        snprintf(what, sizeof what, "%s, edit %d (at %zu, -%zu +%zu)", r->src_rel, e, off, del,
                 il);
        if ((rc = ue_live_edit(l, off, del, buf + off, il)))
            break;
        if ((rc = ua_incr_edit(in, off, del, buf + off, il)))
            break;
        good_now = ua_incr_has_body(in);
        if (good_now) {
            memcpy(good, buf, len);
            good_len = len;
        }
        r->edits++;
        if (len0 > 4000) {
            size_t ne, nf;
            ua_incr_stats(in, &ne, &nf);
            r->big_edits++;
            r->big_full += nf - big_full0;
            big_full0 = nf;
        }
        if (e % check_every == 0 || e == nedits - 1) {
            ua_output a, b;
            rc = ua_incr_output(in, &a);
            if (rc == UA_ENOMEM)
                break;
            int rb = ua_transform(NULL, &r->p->view, r->src_rel, buf, len, &b);
            if (rb == UA_ENOMEM) {
                ua_output_free(&a);
                rc = rb;
                break;
            }
            if (rc != rb)
                fail_msg("%s: ua_incr_output says %d, ua_transform %d (%s %s at %u:%u)", what, rc,
                         rb, b.findings.n ? b.findings.v[0].code : "",
                         b.findings.n ? b.findings.v[0].message : "",
                         b.findings.n ? b.findings.v[0].line : 0,
                         b.findings.n ? b.findings.v[0].col : 0);
            same_output(&a, &b, r->p->cfg->nrules + 1, what);
            for (size_t i = 0; i < b.findings.n; i++)
                r->warned += b.findings.v[i].severity == UA_WARNING;
            ua_output_free(&a);
            ua_output_free(&b);
            if ((rc = check_live(r, l, &d, what)))
                break;
        }
        if (rnd(40) == 0 && (rc = change_twin(r, l, &d, &ovbuf)))
            break;
    }
    if (l) {
        ue_live_stats st;
        ue_live_get_stats(l, &st);
        r->full_transforms += st.full_transforms;
        r->full_checks += st.full_checks;
    }
    ue_live_free(l);
    ua_incr_free(in);
    free(buf);
    free(ovbuf);
    free(good);
    return rc;
}

/* Writes source `name` with `text` and its twin into a fresh project under r->root. */
static void open_project(run *r, const char *json, const char *name, const char *text, size_t len)
{
    char path[600];
    snprintf(r->root, sizeof r->root, "/tmp/ua-incr-XXXXXX");
    assert_non_null(mkdtemp(r->root));
    snprintf(path, sizeof path, "%s/unasync.json", r->root);
    testfs_spit(path, json, strlen(json));
    snprintf(path, sizeof path, "%s/%s", r->root, name);
    testfs_spit(path, text, len);
    ua_findings f = {0};
    snprintf(path, sizeof path, "%s/unasync.json", r->root);
    if (ue_project_open(path, &r->p, &f) != 0 || !ue_is_source(r->p, name, NULL)) {
        ue_project_free(r->p);
        r->p = NULL;
    }
    ua_findings_free(&f);
    r->src_rel = name;
    if (!r->p)
        return;
    r->twin_rel = ue_twin_of(r->p, name);
    assert_non_null(r->twin_rel);
    snprintf(r->twin_path, sizeof r->twin_path, "%s/%s", r->root, r->twin_rel);
    ue_twin t;
    assert_int_equal(ue_check_source(r->p, NULL, name, NULL, &t), 0);
    if (t.expected)
        testfs_spit(r->twin_path, t.expected, t.expected_len);
    ue_twin_free(&t);
}

static void close_project(run *r)
{
    char cmd[600];
    ue_project_free(r->p);
    ua_free(r->twin_rel);
    r->p = NULL;
    r->twin_rel = NULL;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", r->root);
    assert_int_equal(system(cmd), 0);
}

static const char default_json[] =
    "{\"sources\": [\"*.c\", \"*.h\"], \"rename\": {\"rl_limiter*\": \"rl_sync_limiter*\", "
    "\"RL_ASYNC_H\": \"RL_SYNC_H\"}}";

typedef void (*source_fn)(const char *name, const char *json, const char *text, size_t len,
                          void *ud);

/* Calls fn on every real source: each golden case (with its own configuration when it has one)
 * and the .c/.h files of the source folders. */
static size_t each_source(source_fn fn, void *ud)
{
    size_t n = 0;
    DIR *dh = opendir(case_dir);
    assert_non_null(dh);
    struct dirent *de;
    while ((de = readdir(dh))) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        size_t len;
        const char *name = "input.c";
        snprintf(path, sizeof path, "%s/%s/input.c", case_dir, de->d_name);
        char *text = testfs_slurp(path, &len);
        if (!text) {
            name = "input.h";
            snprintf(path, sizeof path, "%s/%s/input.h", case_dir, de->d_name);
            text = testfs_slurp(path, &len);
        }
        if (!text)
            continue;
        snprintf(path, sizeof path, "%s/%s/unasync.json", case_dir, de->d_name);
        char *json = testfs_slurp(path, NULL);
        fn(name, json ? json : default_json, text, len, ud);
        n++;
        free(json);
        free(text);
    }
    closedir(dh);
    for (int k = 0; k < 3 && src_dirs[k]; k++) {
        dh = opendir(src_dirs[k]);
        assert_non_null(dh);
        while ((de = readdir(dh))) {
            size_t nl = strlen(de->d_name);
            if (nl < 3 || strncmp(de->d_name, "sync_", 5) == 0 ||
                (strcmp(de->d_name + nl - 2, ".c") != 0 && strcmp(de->d_name + nl - 2, ".h") != 0))
                continue;
            char path[4096];
            size_t len;
            snprintf(path, sizeof path, "%s/%s", src_dirs[k], de->d_name);
            char *text = testfs_slurp(path, &len);
            if (!text)
                continue;
            fn(de->d_name[nl - 1] == 'h' ? "input.h" : "input.c", default_json, text, len, ud);
            n++;
            free(text);
        }
        closedir(dh);
    }
    return n;
}

/* ---- the property test ---- */

static void random_source(const char *name, const char *json, const char *text, size_t len,
                          void *ud)
{
    run *total = ud, r;
    memset(&r, 0, sizeof r);
    open_project(&r, json, name, text, len);
    if (!r.p) /* its configuration does not take input.c: the default does */
        open_project(&r, default_json, name, text, len);
    assert_non_null(r.p);
    assert_int_equal(edit_many(&r, text, len, len > 20000 ? 60 : len > 4000 ? 100 : 55, 1), 0);
    total->edits += r.edits;
    total->full_transforms += r.full_transforms;
    total->full_checks += r.full_checks;
    total->drifted += r.drifted;
    total->warned += r.warned;
    total->big_edits += r.big_edits;
    total->big_full += r.big_full;
    close_project(&r);
}

static void incremental_twin_and_drift_equal_the_full_path(void **state)
{
    (void)state;
    run total;
    memset(&total, 0, sizeof total);
    size_t files = each_source(random_source, &total);
    fprintf(stderr,
            "incr: %zu sources, %zu random edits, %zu full transforms, %zu full checks, %zu "
            "drifted, %zu warnings; sources over 4 KB: %zu edits, %zu full transforms\n",
            files, total.edits, total.full_transforms, total.full_checks, total.drifted,
            total.warned, total.big_edits, total.big_full);
    assert_true(files >= 60);
    assert_true(total.edits >= 4000);
    /* it is incremental: in real-sized sources most edits re-derive their lines only (the
     * golden cases are a few lines, most of them directives), and drift is mostly decided
     * without building the twin */
    assert_true(total.big_edits >= 1000);
    assert_true(total.big_full * 2 < total.big_edits);
    assert_true(total.full_checks * 4 < total.edits);
    assert_true(total.drifted * 4 > total.edits);
    assert_true(total.warned > 0);
}

/* ---- allocation faults ---- */

static const char fault_src[] = "#include <unasync/async.h>\n"
                                "#include \"input.h\"\n"
                                "static async int fetch(int x)\n"
                                "{\n"
                                "    await async_sleep_ms(1);\n"
                                "    return x + rl_limiter_count;\n"
                                "}\n"
                                "int rl_sync_limiter_count;\n"
                                "async int go(void)\n"
                                "{\n"
                                "    return await fetch(2);\n"
                                "}\n";

static void live_survives_every_failed_allocation(void **state)
{
    (void)state;
    long n;
    int done = 0;
    run r;
    memset(&r, 0, sizeof r);
    open_project(&r, default_json, "input.c", fault_src, sizeof fault_src - 1);
    assert_non_null(r.p);
    size_t tl;
    char *twin0 = testfs_slurp(r.twin_path, &tl);
    assert_non_null(twin0);
    for (n = 1; !done; n++) {
        testfs_spit(r.twin_path, twin0, tl); /* the twin as the run before found it */
        uint64_t seed = rng;
        testalloc_reset(n);
        ua_set_allocator(testalloc_malloc, testalloc_realloc, testalloc_free);
        /* the comparisons with the full path allocate too: failing there is ENOMEM as well */
        int rc = edit_many(&r, fault_src, sizeof fault_src - 1, 8, 1);
        int failed = testalloc_hook.failed;
        ua_set_allocator(NULL, NULL, NULL);
        rng = seed;
        if (!failed && rc)
            fail_msg("allocation %ld: nothing failed, yet rc %d", n, rc);
        if (failed && rc != UA_ENOMEM)
            fail_msg("failing allocation %ld was swallowed (rc %d)", n, rc);
        if (testalloc_hook.live != 0)
            fail_msg("failing allocation %ld leaks %ld block(s)", n, (long)testalloc_hook.live);
        done = !failed;
    }
    free(twin0);
    close_project(&r);
    print_message("failed each of %ld allocations in turn\n", n - 2);
    assert_true(n > 100);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_incr GOLDEN-CASES-DIR SOURCE-DIR...\n");
        return 2;
    }
    case_dir = argv[1];
    for (int k = 2; k < argc && k < 5; k++)
        src_dirs[k - 2] = argv[k];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(incremental_twin_and_drift_equal_the_full_path),
        cmocka_unit_test(live_survives_every_failed_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
