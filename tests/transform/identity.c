/* identity.c - every C header of the system comes back byte-identical from the transformer, apart
 * from the built-in renames, when the markers never occur and there are no rules. Thousands of
 * real files exercise the tokenizer, the gap check and the edit list on code we did not write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "engine.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *root_dir = "/usr/include";

typedef struct stats {
    size_t files, bytes, renamed, guards, includes, errors, failures, skipped;
} stats;

/* Is edit `e` one of the built-in renames (async_X -> sync_X, guard G -> SYNC_G)? */
static int builtin_edit(const char *src, const ua_output *o, const ua_edit *e, stats *st)
{
    const char *a = src + e->src_off, *b = o->bytes + e->out_off;
    size_t an = e->src_len, bn = e->out_len;
    if (an >= 6 && memcmp(a, "async_", 6) == 0 && bn == an - 1 && memcmp(b, "sync_", 5) == 0 &&
        memcmp(a + 6, b + 5, an - 6) == 0) {
        st->renamed++;
        return 1;
    }
    if (bn == an + 5 && memcmp(b, "SYNC_", 5) == 0 && memcmp(b + 5, a, an) == 0) {
        st->guards++;
        return 1;
    }
    /* #include of a file that has a twin (here: the header naming itself) */
    if (bn == an + 5 && memcmp(b, "sync_", 5) == 0 && memcmp(b + 5, a, an) == 0 &&
        an > 2 && memcmp(a + an - 2, ".h", 2) == 0) {
        st->includes++;
        return 1;
    }
    return 0;
}

static void check_file(const ua_config *cfg, ua_ctx *ctx, const char *path, const char *rel,
                       stats *st)
{
    char *src;
    size_t len;
    if (ue_read_file(path, &src, &len) != 0)
        return;
    const char *sources[] = {rel};
    ua_project proj = {cfg, sources, 1};
    ua_output o;
    int rc = ua_transform(ctx, &proj, rel, src, len, &o);
    st->files++;
    st->bytes += len;
    if (rc != 0) {
        st->errors++;
        if (st->errors <= 20)
            fprintf(stderr, "%s: %s: %s\n", path, ua_strerror(rc),
                    o.findings.n ? o.findings.v[0].message : "");
        goto done;
    }
    /* rebuild the twin body from the source and the edits: every other byte must be equal */
    size_t pos = 0, opos = o.header_len;
    int ok = 1;
    for (size_t k = 1; k < o.map.n && ok; k++) {
        const ua_edit *e = &o.map.edits[k];
        ok = e->src_off - pos == e->out_off - opos &&
             memcmp(src + pos, o.bytes + opos, e->src_off - pos) == 0 &&
             builtin_edit(src, &o, e, st);
        pos = e->src_off + e->src_len;
        opos = e->out_off + e->out_len;
    }
    ok = ok && o.len - opos == len - pos && memcmp(src + pos, o.bytes + opos, len - pos) == 0;
    if (!ok) {
        st->failures++;
        if (st->failures <= 20)
            fprintf(stderr, "%s: twin differs from the source beyond the built-in renames\n",
                    path);
    }
done:
    ua_output_free(&o);
    ua_free(src);
}

static void walk(const ua_config *cfg, ua_ctx *ctx, const char *dir, const char *rel, stats *st)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096], sub[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        struct stat s;
        if (lstat(path, &s) != 0 || S_ISLNK(s.st_mode))
            continue;
        /* C++ trees are not C: digit separators (0x1'0000) and raw strings lex differently */
        if (S_ISDIR(s.st_mode) && (strcmp(e->d_name, "c++") == 0 || strcmp(e->d_name, "llvm") == 0))
            st->skipped++;
        else if (S_ISDIR(s.st_mode))
            walk(cfg, ctx, path, sub, st);
        else if (S_ISREG(s.st_mode) && strlen(e->d_name) > 2 &&
                 strcmp(e->d_name + strlen(e->d_name) - 2, ".h") == 0)
            check_file(cfg, ctx, path, sub, st);
    }
    closedir(d);
}

static void system_headers_are_identical_apart_from_builtin_renames(void **state)
{
    (void)state;
    static const char json[] =
        "{\"sources\": [\"**/*.h\"], \"markers\": {\"async\": \"__ua_never_async\", "
        "\"await\": \"__ua_never_await\"}}";
    ua_findings f = {0};
    ua_config *cfg;
    assert_int_equal(ua_config_parse(json, sizeof json - 1, "unasync.json", &cfg, &f), 0);
    ua_ctx *ctx = ua_ctx_new();
    stats st = {0};
    walk(cfg, ctx, root_dir, "", &st);
    fprintf(stderr,
            "identity: %zu headers, %zu bytes: %zu async_ renames, %zu include guards, "
            "%zu self-includes, %zu with errors, %zu differing (%zu C++ trees skipped)\n",
            st.files, st.bytes, st.renamed, st.guards, st.includes, st.errors, st.failures,
            st.skipped);
    assert_true(st.files >= 1000);
    assert_int_equal(st.failures, 0);
    assert_int_equal(st.errors, 0);
    ua_ctx_free(ctx);
    ua_config_free(cfg);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        root_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(system_headers_are_identical_apart_from_builtin_renames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
