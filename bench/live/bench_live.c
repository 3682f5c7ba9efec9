/* bench_live.c - per-edit cost of the live drift state (ue_live_edit + ue_live_findings) on the
 * 10,000- and 100,000-line sources that bench/server generates, beside a full ue_check_source +
 * ue_twin_findings of the same buffer measured in the same run. */
#include "engine.h"

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

static double pct(double *v, size_t n, int p)
{
    qsort(v, n, sizeof *v, cmp_double);
    size_t i = (size_t)((double)p / 100.0 * (double)n);
    return v[i < n ? i : n - 1];
}

/* bench/server/bench_server.js: bigSource(lines) */
static char *big_source(size_t lines, size_t *len)
{
    size_t cap = lines * 64 + 1024, n = 0, l = 0;
    char *s = malloc(cap);
    if (!s)
        exit(2);
    n += (size_t)sprintf(s + n, "#include <unasync/async.h>\n\n");
    l = 2;
    for (size_t i = 0; l < lines - 6; i++, l += 7)
        n += (size_t)sprintf(s + n,
                             "async int fetch_%zu(client_t *c, int id) {\n"
                             "    await async_mutex_lock(&c->lock);\n"
                             "    int rc = await async_tcp_write(c->conn, id); /* call %zu */\n"
                             "    await async_sleep_ms(rc);\n"
                             "    return rc;\n"
                             "}\n\n",
                             i, i);
    for (; l < lines; l++)
        s[n++] = '\n';
    s[n] = '\0';
    *len = n;
    return s;
}

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

static const char *lookup(void *ud, const char *rel, size_t *len)
{
    const buf *b = ud;
    if (strcmp(rel, "big.c") != 0)
        return NULL;
    *len = b->len;
    return b->p;
}

static size_t line_offset(const buf *b, size_t line)
{
    size_t off = 0;
    for (size_t l = 1; l < line && off < b->len; off++)
        if (b->p[off] == '\n')
            l++;
    return off;
}

static void edit(buf *b, ue_live *l, size_t off, size_t del, const char *ins, double *t)
{
    size_t il = strlen(ins);
    memmove(b->p + off + il, b->p + off + del, b->len - off - del);
    memcpy(b->p + off, ins, il);
    b->len = b->len - del + il;
    ua_findings f = {0};
    double t0 = now_ms();
    if (ue_live_edit(l, off, del, b->p + off, il) || ue_live_findings(l, &f))
        exit(2);
    *t = now_ms() - t0;
    ua_findings_free(&f);
}

static void run(const char *dir, size_t lines, int edits, int fulls)
{
    char path[512];
    buf b;
    b.p = big_source(lines, &b.len);
    b.cap = b.len + 4096;
    b.p = realloc(b.p, b.cap);
    snprintf(path, sizeof path, "%s/big.c", dir);
    FILE *f = fopen(path, "wb");
    fwrite(b.p, 1, b.len, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/unasync.json", dir);
    ue_project *p;
    ua_findings pf = {0};
    if (ue_project_open(path, &p, &pf))
        exit(2);
    ue_twin t;
    if (ue_check_source(p, NULL, "big.c", NULL, &t) || !t.expected)
        exit(2);
    snprintf(path, sizeof path, "%s/sync_big.c", dir);
    if (ue_write_atomic(path, t.expected, t.expected_len, 0644))
        exit(2);
    ue_twin_free(&t);
    ue_live *l;
    if (ue_live_new(p, "big.c", b.p, b.len, NULL, &l))
        exit(2);
    double *lat = malloc((size_t)edits * sizeof *lat), *full = malloc((size_t)fulls * sizeof *full);
    /* a save-like toggle on `    return rc;` of fetch_0 (line 7) and typing (a character in,
     * then out again) in the comment of a function picked at random, alternately */
    unsigned seed = 12345;
    for (int i = 0; i < edits; i += 2) {
        if ((i / 2) % 2 == 0) {
            size_t off = line_offset(&b, 7) + strlen("    return rc");
            edit(&b, l, off, 0, " + 1", &lat[i]);
            edit(&b, l, off, 4, "", &lat[i + 1]);
        } else {
            seed = seed * 1103515245u + 12345u;
            size_t fn = (seed >> 8) % ((lines - 8) / 7);
            size_t off = line_offset(&b, 3 + fn * 7 + 2) + strlen("    int rc = await async_tcp_write(c->conn, id); /* call");
            edit(&b, l, off, 0, "x", &lat[i]);
            edit(&b, l, off, 1, "", &lat[i + 1]);
        }
    }
    ue_live_stats st;
    ue_live_get_stats(l, &st);
    {
        ue_overlay ov = {lookup, &b};
        for (int i = 0; i < fulls; i++) {
            double t0 = now_ms();
            ua_findings ff = {0};
            if (ue_check_source(p, NULL, "big.c", &ov, &t) || ue_twin_findings(&t, &ff))
                exit(2);
            full[i] = now_ms() - t0;
            ua_findings_free(&ff);
            ue_twin_free(&t);
        }
    }
    double f50 = pct(full, (size_t)fulls, 50), f99 = pct(full, (size_t)fulls, 99);
    double l50 = pct(lat, (size_t)edits, 50), l99 = pct(lat, (size_t)edits, 99);
    const char *target = lines >= 100000 ? "<= 5 ms" : "<= 1 ms";
    printf("bench live_edit_%zuk_lines_p50 (%.1f MB, %d edits, %zu full transforms): %.3f ms | "
           "baseline full ue_check_source p50: %.3f ms | ratio %.4f | target %s\n",
           lines / 1000, (double)b.len / 1e6, edits, st.full_transforms, l50, f50, l50 / f50,
           target);
    printf("bench live_edit_%zuk_lines_p99: %.3f ms | baseline full ue_check_source p99: %.3f ms | "
           "ratio %.4f | target %s\n",
           lines / 1000, l99, f99, l99 / f99, target);
    fflush(stdout);
    ue_live_free(l);
    ue_project_free(p);
    ua_findings_free(&pf);
    free(lat);
    free(full);
    free(b.p);
    snprintf(path, sizeof path, "%s/sync_big.c", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/big.c", dir);
    unlink(path);
}

int main(int argc, char **argv)
{
    int edits = argc > 1 ? atoi(argv[1]) : 400;
    char dir[] = "/tmp/ua-bench-live-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    char path[512];
    snprintf(path, sizeof path, "%s/unasync.json", dir);
    FILE *f = fopen(path, "wb");
    fputs("{ \"sources\": [\"big.c\"] }\n", f);
    fclose(f);
    run(dir, 10000, edits, 30);
    run(dir, 100000, edits, 15);
    unlink(path);
    rmdir(dir);
    return 0;
}
