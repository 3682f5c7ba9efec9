/* test_relex.c - the incremental re-lex (ua_relex) against a full lex and the transform of its
 * tokens against a full transform, after each of thousands of random edits (inserts, deletes and
 * splices, many of them opening or closing comments, strings and directives) of real sources:
 * the golden cases and the runtime's C. Byte for byte, every time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ua_int.h"
#include "testfs.h"
#include "testrand.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *case_dir, *runtime_src;

static uint64_t rng = 0x2545F4914F6CDD1DULL;

static unsigned rnd(unsigned n)
{
    return testrand(&rng, n);
}

static const char *const inserts[] = {
    "/*", "*/", "//", "\"", "'", "\\\n", "\\", "\n", "#if UNASYNC_ASYNC\n", "#else\n", "#endif\n",
    "#include \"x.h\"\n", "#define A 1 \\\n", "async ", "await ", "async_sleep_ms(1);", " x", "\"s\"",
    "/* c */", "%:", "<:", "?" "?/\n", "\\u00e9", "u8\"", "L'", "1e+", "\r\n", "#", "}", "{",
};

/* One buffer edited many times: after each edit the re-lexed tokens equal a full lex, and the
 * transform of them equals a full transform. Returns how many edits were checked. */
static size_t edit_many(const char *name, const char *text, size_t len0, int edits,
                        const ua_project *proj, size_t *relexed_total, size_t *full_total)
{
    size_t cap = len0 * 2 + 4096, len = len0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    memcpy(buf, text, len);
    ua_token *toks;
    size_t n;
    assert_int_equal(ua_lex(buf, len, &toks, &n), 0);
    size_t checked = 0;
    for (int e = 0; e < edits; e++) {
        size_t off = len ? rnd((unsigned)len + 1) : 0;
        size_t del = rnd(4) == 0 ? 0 : rnd(24);
        if (del > len - off)
            del = len - off;
        const char *ins = rnd(3) == 0 ? "" : inserts[rnd(sizeof inserts / sizeof *inserts)];
        size_t il = strlen(ins);
        if (del == 0 && il == 0)
            il = strlen(ins = " ");
        if (len - del + il >= cap)
            break;
        memmove(buf + off + il, buf + off + del, len - off - del);
        memcpy(buf + off, ins, il);
        len = len - del + il;

        ua_token *inc, *full;
        size_t ninc, nfull, lexed;
        assert_int_equal(ua_relex(buf, len, toks, n, off, del, il, &inc, &ninc, &lexed), 0);
        assert_int_equal(ua_lex(buf, len, &full, &nfull), 0);
        *relexed_total += lexed;
        *full_total += nfull;
        size_t i = 0;
        while (i < ninc && i < nfull && inc[i].off == full[i].off && inc[i].len == full[i].len &&
               inc[i].kind == full[i].kind)
            i++;
        if (i < ninc || i < nfull)
            fail_msg("%s, edit %d (at %zu, -%zu +%zu): token %zu of %zu (%zu) differs from a full "
                     "lex: [%zu +%zu] vs [%zu +%zu]",
                     name, e, off, del, il, i, nfull, ninc, i < ninc ? inc[i].off : 0,
                     i < ninc ? inc[i].len : 0, i < nfull ? full[i].off : 0,
                     i < nfull ? full[i].len : 0);
        ua_output a, b;
        int ra = ua_transform_tokens(NULL, proj, "x.c", buf, len, inc, ninc, &a);
        int rb = ua_transform(NULL, proj, "x.c", buf, len, &b);
        assert_int_equal(ra, rb);
        assert_int_equal(a.len, b.len);
        assert_true(a.len == 0 || memcmp(a.bytes, b.bytes, a.len) == 0);
        assert_int_equal(a.findings.n, b.findings.n);
        ua_output_free(&a);
        ua_output_free(&b);
        ua_free(full);
        ua_free(toks);
        toks = inc;
        n = ninc;
        checked++;
    }
    ua_free(toks);
    free(buf);
    return checked;
}

static void random_edits_relex_like_a_full_lex(void **state)
{
    (void)state;
    static const char json[] = "{\"sources\": [\"x.c\", \"x.h\"]}";
    ua_findings f = {0};
    ua_config *cfg;
    assert_int_equal(ua_config_parse(json, sizeof json - 1, "unasync.json", &cfg, &f), 0);
    const char *srcs[] = {"x.c", "x.h"};
    ua_project proj = {cfg, srcs, 2};
    size_t files = 0, edits = 0, relexed = 0, full = 0;
    const char *dirs[] = {case_dir, runtime_src};
    for (int d = 0; d < 2; d++) {
        DIR *dh = opendir(dirs[d]);
        assert_non_null(dh);
        struct dirent *de;
        while ((de = readdir(dh))) {
            if (de->d_name[0] == '.')
                continue;
            char path[4096];
            size_t len;
            char *text = NULL;
            if (d == 0) {
                snprintf(path, sizeof path, "%s/%s/input.c", dirs[d], de->d_name);
                if (!(text = testfs_slurp(path, &len))) {
                    snprintf(path, sizeof path, "%s/%s/input.h", dirs[d], de->d_name);
                    text = testfs_slurp(path, &len);
                }
            } else if (strlen(de->d_name) > 2 && strcmp(de->d_name + strlen(de->d_name) - 2, ".c") == 0) {
                snprintf(path, sizeof path, "%s/%s", dirs[d], de->d_name);
                text = testfs_slurp(path, &len);
            }
            if (!text)
                continue;
            files++;
            edits += edit_many(path, text, len, d == 0 ? 60 : 150, &proj, &relexed, &full);
            free(text);
        }
        closedir(dh);
    }
    fprintf(stderr, "relex: %zu files, %zu random edits, %zu tokens re-lexed (a full lex: %zu)\n",
            files, edits, relexed, full);
    assert_true(files >= 20);
    assert_true(edits >= 3000);
    assert_true(relexed * 4 < full); /* it is incremental: most tokens are reused */
    ua_config_free(cfg);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_relex GOLDEN-CASES-DIR RUNTIME-SRC-DIR\n");
        return 2;
    }
    case_dir = argv[1];
    runtime_src = argv[2];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_edits_relex_like_a_full_lex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
