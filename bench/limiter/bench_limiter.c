/* Limiter benchmarks: memory acquire+commit (sync and async), Redis throughput beside
 * redis-benchmark running the same script with the same concurrency, and a Redis Cluster of 3
 * masters beside one node with the same client and concurrency, in the same run. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unasync/async.h>
#include <unasync/sync.h>

#include <unasync/limiter/limiter.h>
#include <unasync/limiter/memory.h>
#include <unasync/limiter/redis.h>
#include <unasync/limiter/sync_limiter.h>
#include <unasync/limiter/sync_memory.h>
#include <unasync/limiter/sync_redis.h>

#include "rl_lua.h"
#include "rl_testutil.h"

#define RL_INFLIGHT 64

static rl_test_redis_t server;
static rl_test_cluster_t cluster;
static rl_limit_t big; /* never runs out during a run */
static rl_amount_t one[] = {{"rpm", 1}};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this thread: the memory loops are CPU-bound, and on a loaded machine wall time
 * would mostly measure the other processes. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long iterations(long dflt)
{
    const char *s = getenv("RL_BENCH_SCALE");
    double scale = s ? atof(s) : 1.0;
    return (long)((double)dflt * (scale > 0 ? scale : 1.0));
}

/* ------------------------------------------------------------------------------------------ */
/* Memory backend                                                                               */
/* ------------------------------------------------------------------------------------------ */

static int sync_memory_loop(long n, double *ns_per_op)
{
    rl_sync_repo_t *repo;
    rl_sync_limiter_t *lim;
    if (rl_sync_memory_open(&repo, NULL) || rl_sync_limiter_open(&lim, repo))
        return -1;
    rl_acquire_options_t o = {&big, 1, RL_ON_UNAVAILABLE_UNSET};
    rl_sync_lease_t lease;
    double best = 1e18;
    for (int round = 0; round < 3; round++) {
        double t0 = cpu_s();
        for (long i = 0; i < n; i++) {
            if (rl_sync_limiter_acquire(lim, &lease, "key-1", "gpt-4", one, 1, &o, NULL) ||
                rl_sync_lease_commit(&lease, NULL))
                return -1;
        }
        double dt = (cpu_s() - t0) * 1e9 / (double)n;
        best = dt < best ? dt : best;
    }
    *ns_per_op = best;
    return rl_sync_limiter_close(lim);
}

typedef struct async_args {
    long n;
    double ns_per_op;
} async_args_t;

static async int async_memory_loop(void *arg)
{
    async_args_t *a = arg;
    rl_repo_t *repo;
    rl_limiter_t *lim;
    if (rl_memory_open(&repo, NULL) || rl_limiter_open(&lim, repo))
        return -1;
    rl_acquire_options_t o = {&big, 1, RL_ON_UNAVAILABLE_UNSET};
    rl_lease_t lease;
    double best = 1e18;
    for (int round = 0; round < 3; round++) {
        double t0 = cpu_s();
        for (long i = 0; i < a->n; i++) {
            if (await rl_limiter_acquire(lim, &lease, "key-1", "gpt-4", one, 1, &o, NULL) ||
                await rl_lease_commit(&lease, NULL))
                return -1;
        }
        double dt = (cpu_s() - t0) * 1e9 / (double)a->n;
        best = dt < best ? dt : best;
    }
    a->ns_per_op = best;
    return await rl_limiter_close(lim);
}

/* ------------------------------------------------------------------------------------------ */
/* Redis backend                                                                                */
/* ------------------------------------------------------------------------------------------ */

static int open_sync_redis(rl_sync_limiter_t **lim)
{
    rl_options_t opts;
    rl_options_init(&opts);
    opts.key_prefix = "bench:";
    rl_sync_repo_t *repo;
    int rc = rl_sync_redis_open(&repo, server.url, &opts);
    return rc ? rc : rl_sync_limiter_open(lim, repo);
}

static int sync_redis_loop(long n, double *ops)
{
    rl_sync_limiter_t *lim;
    if (open_sync_redis(&lim))
        return -1;
    rl_acquire_options_t o = {&big, 1, RL_ON_UNAVAILABLE_UNSET};
    rl_sync_lease_t lease;
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        if (rl_sync_limiter_acquire(lim, &lease, "key-1", "gpt-4", one, 1, &o, NULL) ||
            rl_sync_lease_commit(&lease, NULL))
            return -1;
    }
    *ops = (double)n / (now_s() - t0);
    return rl_sync_limiter_close(lim);
}

typedef struct flight {
    char entity[16]; /* "key-1", or one entity per flight (spread over the slots) */
    rl_limiter_t *lim;
    long n;
    int rc;
} flight_t;

static async int one_flight(void *arg)
{
    flight_t *f = arg;
    rl_acquire_options_t o = {&big, 1, RL_ON_UNAVAILABLE_UNSET};
    for (long i = 0; i < f->n; i++) {
        rl_lease_t lease;
        int rc = await rl_limiter_acquire(f->lim, &lease, f->entity, "gpt-4", one, 1, &o, NULL);
        if (rc == 0)
            rc = await rl_lease_commit(&lease, NULL);
        if (rc)
            return f->rc = rc;
    }
    return 0;
}

typedef struct redis_args {
    long n;
    double ops;
    const char *url; /* NULL: server's */
    bool spread;     /* one entity per flight instead of one shared entity */
} redis_args_t;

static async int async_redis_loop(void *arg)
{
    redis_args_t *a = arg;
    rl_options_t opts;
    rl_options_init(&opts);
    opts.key_prefix = "bench:";
    rl_repo_t *repo;
    rl_limiter_t *lim;
    if (await rl_redis_open(&repo, a->url ? a->url : server.url, &opts) ||
        rl_limiter_open(&lim, repo))
        return -1;
    flight_t flights[RL_INFLIGHT];
    async_task_t *tasks[RL_INFLIGHT];
    /* warm the caches (and on a cluster every master's connection) outside the timed part, as
     * the sync loop's first call does */
    rl_acquire_options_t o = {&big, 1, RL_ON_UNAVAILABLE_UNSET};
    for (int i = 0; i < RL_INFLIGHT; i++) {
        snprintf(flights[i].entity, sizeof flights[i].entity, "key-%d", a->spread ? i : 1);
        rl_lease_t lease;
        if (await rl_limiter_acquire(lim, &lease, flights[i].entity, "gpt-4", one, 1, &o, NULL) ||
            await rl_lease_commit(&lease, NULL))
            return -1;
    }
    double t0 = now_s();
    for (int i = 0; i < RL_INFLIGHT; i++) {
        flights[i].lim = lim;
        flights[i].n = a->n / RL_INFLIGHT;
        flights[i].rc = 0;
        tasks[i] = async_spawn(one_flight, &flights[i]);
    }
    int failed = 0;
    for (int i = 0; i < RL_INFLIGHT; i++) {
        int result = 0;
        if (!tasks[i] || await async_join(tasks[i], &result) || result)
            failed = 1;
    }
    a->ops = (double)(a->n / RL_INFLIGHT * RL_INFLIGHT) / (now_s() - t0);
    int rc = await rl_limiter_close(lim);
    return failed ? -1 : rc;
}

/* redis-benchmark running the limiter's own script with the arguments of one acquire. */
static double redis_benchmark(int clients, long n)
{
    char sha[64] = "";
    /* load the script through redis-cli, as an operator would */
    char path[400], cmd[1024];
    snprintf(path, sizeof path, "%s/script.lua", server.dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return 0;
    fputs(rl_lua_script, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "redis-cli -s '%s' SCRIPT LOAD \"$(cat '%s')\"", server.socket, path);
    FILE *p = popen(cmd, "r");
    if (!p || !fgets(sha, sizeof sha, p)) {
        if (p)
            pclose(p);
        return 0;
    }
    pclose(p);
    remove(path);
    sha[strcspn(sha, "\r\n")] = 0;
    /* KEYS[1] = the bucket hash; ARGV = consume now 1 {1 0 rpm cap amt period delta}: one set of
     * one limit, no reconciliation (an acquire with an override sends the same) */
    snprintf(cmd, sizeof cmd,
             "redis-benchmark -s '%s' -c %d -n %ld --csv EVALSHA %s 1 "
             "bench-rb:b#{key-1}#key-1#gpt-4 consume %" PRId64 " 1 1 0 rpm %" PRId64
             " %" PRId64 " %" PRId64 " 1000",
             server.socket, clients, n, sha, rl_clock_now(NULL), big.capacity * 1000,
             big.refill_amount * 1000, big.refill_period_s * 1000);
    p = popen(cmd, "r");
    if (!p)
        return 0;
    char line[512];
    double rps = 0;
    while (fgets(line, sizeof line, p)) {
        char *q = strstr(line, "\",\"");
        if (strncmp(line, "\"EVALSHA", 8) == 0 && q)
            rps = atof(q + 3);
    }
    pclose(p);
    return rps;
}

static void line(const char *name, double value, const char *unit, const char *base_name,
                 double base, const char *target)
{
    printf("bench %s: %.1f %s | baseline %s: %.1f %s | ratio %.2f | target %s\n", name, value, unit,
           base_name, base, unit, base > 0 ? value / base : 0.0, target);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A cluster of 3 masters (+3 replicas) beside one cluster-less node on loopback TCP, with the
 * same async client and 64 acquires in flight over 64 entities (spread over the slots), in
 * alternating rounds; the medians are printed. */
static int bench_cluster(void)
{
    rl_test_redis_t single;
    memset(&single, 0, sizeof single);
    single.tcp = 1;
    if (rl_test_redis_start(&single) != 0)
        return 1;
    if (rl_test_cluster_start(&cluster) != 0) {
        rl_test_redis_stop(&single);
        return 1;
    }
    enum { ROUNDS = 5 };
    double one_node[ROUNDS], three[ROUNDS];
    int rc = 0;
    for (int round = 0; round < ROUNDS && rc == 0; round++) {
        redis_args_t s1 = {iterations(32000), 0, single.url, true};
        redis_args_t s3 = {iterations(32000), 0, rl_test_cluster_url(&cluster), true};
        if (async_run(async_redis_loop, &s1) || async_run(async_redis_loop, &s3)) {
            fprintf(stderr, "cluster benchmark failed\n");
            rc = 1;
        }
        one_node[round] = s1.ops;
        three[round] = s3.ops;
    }
    if (rc == 0) {
        qsort(one_node, ROUNDS, sizeof one_node[0], cmp_double);
        qsort(three, ROUNDS, sizeof three[0], cmp_double);
        line("limiter_cluster_acquire_per_s", three[ROUNDS / 2], "ops/s",
             "single node, same client, 64 in flight", one_node[ROUNDS / 2],
             "ratio >= 1.0 (3 masters; more only with a core per master)");
    }
    rl_test_cluster_stop(&cluster);
    rl_test_redis_stop(&single);
    return rc;
}

int main(int argc, char **argv)
{
    rl_limit_per_minute(&big, "rpm", 1000000000000LL, 0);
    int rc = 0;
    if (argc > 1 && strcmp(argv[1], "cluster") == 0) /* the cluster figure alone */
        return bench_cluster();

    double sync_ns = 0;
    async_args_t am = {iterations(200000), 0};
    if (sync_memory_loop(iterations(200000), &sync_ns) || async_run(async_memory_loop, &am)) {
        fprintf(stderr, "memory benchmark failed\n");
        return 1;
    }
    line("limiter_memory_sync_acquire_commit", sync_ns, "cpu-ns/op", "budget (DESIGN.md §11)", 300,
         "ratio <= 1.0");
    line("limiter_memory_async_acquire_commit", am.ns_per_op, "cpu-ns/op",
         "limiter_memory_sync_acquire_commit", sync_ns, "ratio <= 2.0");

    if (argc > 1 && strcmp(argv[1], "memory") == 0)
        return 0;
    if (rl_test_redis_start(&server) != 0)
        return 1;
    /* Alternate ours and redis-benchmark over several rounds and keep each side's best: on a
     * shared machine the best round is the one least disturbed by other processes. */
    long n = iterations(10000);
    double sync_best = 0, async_best = 0, rb1_best = 0, rb64_best = 0;
    for (int round = 0; round < 3 && rc == 0; round++) {
        double sync_ops = 0;
        redis_args_t ar = {iterations(32000), 0, NULL, false};
        if (sync_redis_loop(n, &sync_ops) || async_run(async_redis_loop, &ar)) {
            fprintf(stderr, "redis benchmark failed\n");
            rc = 1;
            break;
        }
        double rb1 = redis_benchmark(1, n);
        double rb64 = redis_benchmark(RL_INFLIGHT, ar.n);
        sync_best = sync_ops > sync_best ? sync_ops : sync_best;
        async_best = ar.ops > async_best ? ar.ops : async_best;
        rb1_best = rb1 > rb1_best ? rb1 : rb1_best;
        rb64_best = rb64 > rb64_best ? rb64 : rb64_best;
    }
    if (rc == 0) {
        line("limiter_redis_sync_acquire_commit", sync_best, "ops/s",
             "redis-benchmark -c 1, same script", rb1_best, "ratio >= 0.8");
        line("limiter_redis_async_64_in_flight", async_best, "ops/s",
             "redis-benchmark -c 64, same script", rb64_best, "ratio >= 0.8");
    }
    rl_test_redis_stop(&server);
    if (rc == 0)
        rc = bench_cluster();
    return rc;
}
