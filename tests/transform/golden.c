/* golden.c - data-driven transformer tests: every folder under cases/ holds an input, an optional
 * unasync.json, and the expected twin and findings. UNASYNC_UPDATE_GOLDEN=1 rewrites them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "engine.h"
#include "testfs.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *cases_dir;
static const char *runtime_include;
static int update;

typedef struct gcase {
    char name[256];
    char dir[4096];
} gcase;

/* Lists the case's files (relative, recursive) other than the expectations. */
static void list_files(const char *dir, const char *rel, char ***out, size_t *n)
{
    char path[8192];
    snprintf(path, sizeof path, "%s%s%s", dir, *rel ? "/" : "", rel);
    DIR *d = opendir(path);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        char full[8192];
        snprintf(full, sizeof full, "%s/%s", dir, sub);
        struct stat st;
        assert_int_equal(stat(full, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            list_files(dir, sub, out, n);
            continue;
        }
        if (!*rel && (strncmp(e->d_name, "expected", 8) == 0 || strcmp(e->d_name, "compile") == 0 ||
                      strcmp(e->d_name, "README") == 0 || strcmp(e->d_name, "unasync.json") == 0))
            continue;
        *out = realloc(*out, (*n + 1) * sizeof **out);
        (*out)[(*n)++] = strdup(sub);
    }
    closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *format_findings(const ua_findings *fs, size_t *len)
{
    size_t cap = 256, n = 0;
    char *b = malloc(cap);
    b[0] = '\0';
    for (size_t i = 0; i < fs->n; i++) {
        const ua_finding *f = &fs->v[i];
        static const char *sev[] = {"", "error", "warning", "info", "hint"};
        char line[4096];
        int l = snprintf(line, sizeof line, "%s:%u:%u: %s: %s [%s]\n", f->file, f->line, f->col,
                         sev[f->severity], f->message, f->code);
        while (n + (size_t)l + 1 > cap)
            b = realloc(b, cap *= 2);
        memcpy(b + n, line, (size_t)l + 1);
        n += (size_t)l;
    }
    *len = n;
    return b;
}

/* Compares `got` with the expectation file, or rewrites it in update mode. */
static void expect_file(const gcase *c, const char *name, const char *got, size_t got_len)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", c->dir, name);
    if (update) {
        if (got)
            testfs_spit(path, got, got_len);
        else
            unlink(path);
        return;
    }
    size_t len = 0;
    char *want = testfs_slurp(path, &len);
    if (!got) {
        if (want)
            fail_msg("%s: expected %s to exist in the output, but nothing was produced", c->name,
                     name);
        return;
    }
    if (!want)
        fail_msg("%s: produced %s but %s is missing (run with UNASYNC_UPDATE_GOLDEN=1)\n%.*s",
                 c->name, name, name, (int)got_len, got);
    if (len != got_len || memcmp(want, got, len) != 0)
        fail_msg("%s: %s differs\n--- expected\n%s\n--- got\n%.*s", c->name, name, want,
                 (int)got_len, got);
    free(want);
}

static void compile_twins(const gcase *c, const ua_project *proj, char **files, size_t nfiles,
                          const char *twin_rel)
{
    char tmp[] = "/tmp/unasync-golden-XXXXXX";
    assert_non_null(mkdtemp(tmp));
    for (size_t i = 0; i < nfiles; i++) {
        char src_path[8192], dst[8192];
        snprintf(src_path, sizeof src_path, "%s/%s", c->dir, files[i]);
        size_t len = 0;
        char *bytes = testfs_slurp(src_path, &len);
        assert_non_null(bytes);
        const char *slash = strrchr(files[i], '/');
        if (slash) {
            snprintf(dst, sizeof dst, "%s/%.*s", tmp, (int)(slash - files[i]), files[i]);
            mkdir(dst, 0755);
        }
        snprintf(dst, sizeof dst, "%s/%s", tmp, files[i]);
        testfs_spit(dst, bytes, len);
        ua_output out;
        if (ua_transform(NULL, proj, files[i], bytes, len, &out) == 0) {
            char *tw = ua_twin_name(proj->cfg->twin, slash ? slash + 1 : files[i]);
            snprintf(dst, sizeof dst, "%s/%.*s%s", tmp, slash ? (int)(slash - files[i] + 1) : 0,
                     files[i], tw);
            testfs_spit(dst, out.bytes, out.len);
            ua_free(tw);
        }
        ua_output_free(&out);
        free(bytes);
    }
    const char *cc = getenv("CC") && *getenv("CC") ? getenv("CC") : "cc";
    char cmd[16384];
    /* a header is checked the way it is used: included by a translation unit */
    int header = strlen(twin_rel) > 2 && strcmp(twin_rel + strlen(twin_rel) - 2, ".h") == 0;
    snprintf(cmd, sizeof cmd,
             "cd '%s' && %s%s%s -std=gnu11 -fsyntax-only -Wall -Wextra -Werror -I '%s' -I . "
             "-x c %s 2>&1",
             tmp, header ? "printf '#include \"%s\"\\n' | " : "", cc, "", runtime_include,
             header ? "-" : twin_rel);
    if (header) {
        char tmpl[16384];
        snprintf(tmpl, sizeof tmpl, cmd, twin_rel);
        snprintf(cmd, sizeof cmd, "%s", tmpl);
    }
    FILE *p = popen(cmd, "r");
    char out[8192];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp);
    if (status != 0)
        fail_msg("%s: the twin does not compile:\n%s", c->name, out);
}

static void run_case(void **state)
{
    const gcase *c = *state;
    char path[8192];
    snprintf(path, sizeof path, "%s/unasync.json", c->dir);
    size_t cfg_len;
    char *cfg_json = testfs_slurp(path, &cfg_len);
    static const char deflt[] = "{\"sources\": [\"*.c\", \"*.h\", \"**/*.h\"]}";
    ua_findings cf = {0};
    ua_config *cfg = NULL;
    int rc = cfg_json ? ua_config_parse(cfg_json, cfg_len, "unasync.json", &cfg, &cf)
                      : ua_config_parse(deflt, sizeof deflt - 1, "unasync.json", &cfg, &cf);
    if (rc)
        fail_msg("%s: bad unasync.json: %s", c->name, cf.n ? cf.v[0].message : "?");
    free(cfg_json);
    char **files = NULL;
    size_t nfiles = 0;
    list_files(c->dir, "", &files, &nfiles);
    qsort(files, nfiles, sizeof *files, cmp_str);
    const char **sources = calloc(nfiles + 1, sizeof *sources);
    size_t nsources = 0;
    const char *input = NULL;
    for (size_t i = 0; i < nfiles; i++) {
        int is_src = 0;
        for (size_t k = 0; k < cfg->nsources; k++)
            is_src |= ue_glob_match(cfg->sources[k], files[i]);
        if (is_src)
            sources[nsources++] = files[i];
        if (strcmp(files[i], "input.c") == 0 || strcmp(files[i], "input.h") == 0)
            input = files[i];
    }
    assert_non_null(input);
    ua_project proj = {cfg, sources, nsources};
    snprintf(path, sizeof path, "%s/%s", c->dir, input);
    size_t len = 0;
    char *src = testfs_slurp(path, &len);
    assert_non_null(src);
    ua_output out, again;
    rc = ua_transform(NULL, &proj, input, src, len, &out);
    assert_true(rc == 0 || rc == UA_ESOURCE);
    assert_true((rc == 0) == (out.bytes != NULL));
    /* determinism: a second run, with a fresh libclang index, gives the same bytes */
    ua_ctx *ctx = ua_ctx_new();
    assert_int_equal(ua_transform(ctx, &proj, input, src, len, &again), rc);
    if (out.bytes) {
        assert_int_equal(again.len, out.len);
        assert_memory_equal(again.bytes, out.bytes, out.len);
        /* line 1 parses as our header and the body hash holds */
        ua_header h;
        assert_int_equal(ua_header_parse(out.bytes, out.len, &h), 0);
        assert_string_equal(h.source, input);
        assert_true(ua_header_body_intact(out.bytes, out.len, &h));
        /* the source map reproduces the twin from the source */
        size_t pos = 0, opos = 0;
        for (size_t k = 0; k < out.map.n; k++) {
            const ua_edit *e = &out.map.edits[k];
            assert_true(e->src_off >= pos);
            assert_int_equal(e->out_off - opos, e->src_off - pos);
            assert_memory_equal(out.bytes + opos, src + pos, e->src_off - pos);
            pos = e->src_off + e->src_len;
            opos = e->out_off + e->out_len;
        }
        assert_int_equal(out.len - opos, len - pos);
        assert_memory_equal(out.bytes + opos, src + pos, len - pos);
    }
    ua_output_free(&again);
    ua_ctx_free(ctx);
    char twin_name[64];
    snprintf(twin_name, sizeof twin_name, "expected.twin");
    expect_file(c, twin_name, out.bytes, out.len);
    size_t flen;
    char *ftext = format_findings(&out.findings, &flen);
    expect_file(c, "expected.findings", flen ? ftext : NULL, flen);
    free(ftext);
    snprintf(path, sizeof path, "%s/compile", c->dir);
    if (!update && access(path, F_OK) == 0) {
        assert_non_null(out.bytes);
        char *tw = ua_twin_name(cfg->twin, input);
        compile_twins(c, &proj, files, nfiles, tw);
        ua_free(tw);
    }
    ua_output_free(&out);
    free(src);
    free(sources);
    for (size_t i = 0; i < nfiles; i++)
        free(files[i]);
    free(files);
    ua_config_free(cfg);
    ua_findings_free(&cf);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s CASES_DIR RUNTIME_INCLUDE\n", argv[0]);
        return 2;
    }
    cases_dir = argv[1];
    runtime_include = argv[2];
    update = getenv("UNASYNC_UPDATE_GOLDEN") && strcmp(getenv("UNASYNC_UPDATE_GOLDEN"), "1") == 0;
    DIR *d = opendir(cases_dir);
    if (!d) {
        perror(cases_dir);
        return 2;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            names = realloc(names, (n + 1) * sizeof *names);
            names[n++] = strdup(e->d_name);
        }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    gcase *cases = calloc(n, sizeof *cases);
    struct CMUnitTest *tests = calloc(n, sizeof *tests);
    for (size_t i = 0; i < n; i++) {
        snprintf(cases[i].name, sizeof cases[i].name, "%s", names[i]);
        snprintf(cases[i].dir, sizeof cases[i].dir, "%s/%s", cases_dir, names[i]);
        tests[i].name = cases[i].name;
        tests[i].test_func = run_case;
        tests[i].initial_state = &cases[i];
    }
    int rc = _cmocka_run_group_tests("golden", tests, n, NULL, NULL);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(cases);
    free(tests);
    return rc;
}
