/* bench_lint.c - edit -> lint diagnostics on a 10,000-line async source with real headers
 * (a kept unit reparsed with a precompiled preamble, as the language server does), beside a
 * cold parse + lint of the same source. Prints one line in the bench format. */
#include "ul.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* About 10,000 lines: 1,000 async functions of ten lines that await each other, over the
 * runtime, libuv, hiredis, pthread and stdio headers. */
static char *make_source(size_t *len)
{
    size_t cap = 1 << 20, n = 0;
    char *b = malloc(cap);
    n += (size_t)snprintf(b + n, cap - n,
                          "#include <unasync/async.h>\n#include <hiredis.h>\n#include <pthread.h>\n"
                          "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include "
                          "<uv.h>\n\nstatic async int step0(int x) { return await "
                          "async_sleep_ms((uint64_t)x); }\n");
    for (int i = 1; i < 1000; i++) {
        if (cap - n < 1024) {
            cap *= 2;
            b = realloc(b, cap);
        }
        n += (size_t)snprintf(b + n, cap - n,
                              "static async int step%d(int x)\n{\n    int r = await step%d(x);\n"
                              "    if (r < 0)\n        return r;\n    r += await async_yield();\n"
                              "    /* edit point %d */\n    r += x * %d;\n    return r;\n}\n",
                              i, i - 1, i, i);
    }
    n += (size_t)snprintf(b + n, cap - n, "int (*bench_entry)(int) = step999;\n");
    *len = n;
    return b;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_lint RUNTIME_INCLUDE\n");
        return 2;
    }
    char dir[] = "/tmp/unasync-bench-lint-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/unasync.json", dir);
    FILE *f = fopen(path, "w");
    fprintf(f,
            "{\"sources\": [\"big.c\"], \"compile_flags\": [\"-I%s\", \"-I/usr/include/hiredis\"], "
            "\"rename\": {\"bench_entry\": \"sync_bench_entry\"}}\n",
            argv[1]);
    fclose(f);
    size_t len;
    char *src = make_source(&len);
    snprintf(path, sizeof path, "%s/big.c", dir);
    f = fopen(path, "w");
    fwrite(src, 1, len, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/unasync.json", dir);
    ua_findings cf = {0};
    ue_project *p = NULL;
    if (ue_project_open(path, &p, &cf) != 0) {
        fprintf(stderr, "bench_lint: cannot open the project\n");
        return 1;
    }
    /* cold: a fresh context parses and lints (best of 3) */
    double cold = 1e9;
    for (int k = 0; k < 3; k++) {
        ul_ctx *ctx = ul_ctx_new(NULL);
        ul_result r = {0};
        double t0 = now_ms();
        ul_lint_source(ctx, p, "big.c", src, len, NULL, &r);
        double dt = now_ms() - t0;
        if (dt < cold)
            cold = dt;
        if (r.findings.n != 0) {
            fprintf(stderr, "bench_lint: the source should be clean: %s\n",
                    r.findings.v[0].message);
            return 1;
        }
        ul_result_free(&r);
        ul_ctx_free(ctx);
    }
    /* warm: the server's context; each edit changes one function body, then lints */
    ul_options opt = {0};
    opt.keep = 1;
    ul_ctx *ctx = ul_ctx_new(&opt);
    ul_result r = {0};
    ul_lint_source(ctx, p, "big.c", src, len, NULL, &r);
    ul_result_free(&r);
    enum { EDITS = 60 };
    double t[EDITS];
    char *edited = malloc(len + 64);
    size_t found = 0;
    for (int e = 0; e < EDITS; e++) {
        /* "edit point N" -> a missing await appears in function N, then disappears again */
        char needle[64];
        snprintf(needle, sizeof needle, "/* edit point %d */", 100 + e * 13);
        const char *at = strstr(src, needle);
        size_t off = (size_t)(at - src);
        size_t elen = len;
        memcpy(edited, src, len);
        if (e % 2 == 0) {
            const char *ins = "r += step0(1);";
            memcpy(edited + off, ins, strlen(ins));
            memset(edited + off + strlen(ins), ' ', strlen(needle) - strlen(ins));
        }
        double t0 = now_ms();
        ul_lint_source(ctx, p, "big.c", edited, elen, NULL, &r);
        t[e] = now_ms() - t0;
        found += r.findings.n;
        ul_result_free(&r);
    }
    if (found != EDITS / 2) {
        fprintf(stderr, "bench_lint: expected %d UA001 findings, got %zu\n", EDITS / 2, found);
        return 1;
    }
    qsort(t, EDITS, sizeof *t, cmp_double);
    double p99 = t[(EDITS * 99 + 99) / 100 - 1];
    fprintf(stderr, "bench_lint: edit min %.1f median %.1f max %.1f ms\n", t[0], t[EDITS / 2],
            t[EDITS - 1]);
    printf("bench lint-edit-p99 (10,000 lines, reparse + lint): %.1f ms | baseline cold parse + "
           "lint: %.1f ms | ratio %.2f | target p99 <= 50 ms\n",
           p99, cold, p99 / cold);
    ul_ctx_free(ctx);
    ue_project_free(p);
    ua_findings_free(&cf);
    free(edited);
    free(src);
    snprintf(path, sizeof path, "%s/big.c", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/unasync.json", dir);
    unlink(path);
    rmdir(dir);
    return 0;
}
