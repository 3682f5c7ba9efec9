/* Bounded state under churn (issue 12, point 2), written async with a generated sync twin:
 * RL_SOAK_ENTITIES distinct entities (1,000,000 by default) each drain a 5-per-second bucket once,
 * on the real clock for Redis (it expires keys on its own clock) and, for the memory backend, on
 * a manual clock that advances 1 ms every 50 entities (20 s for a million, however fast the
 * machine, so the churn always outlasts the TTL many times). Buckets refill within a second, so
 * Redis expires them (used_memory) and the memory backend evicts them (process RSS): memory is
 * sampled half-way, when the churn is well past the TTL, and must stay flat to the end. Every 100th entity
 * asks again at once and must be refused unless a token has accrued since (no over-grant).
 * The async run keeps 64 acquires in flight; the sync run is sequential.
 * Usage: test_soak memory|redis [entities]. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <unasync/async.h>

#include <unasync/limiter/limiter.h>
#include <unasync/limiter/memory.h>
#include <unasync/limiter/redis.h>

#include "rl_testutil.h"

#if UNASYNC_ASYNC
#define RL_LANES 64
#else
#define RL_LANES 1
#endif

/* Under AddressSanitizer freed memory waits in a quarantine (256 MiB by default) before it is
 * reused, so RSS would grow by the churn until that fills: keep it small, so that what is
 * measured is the limiter's memory. */
#if defined(__SANITIZE_ADDRESS__)
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=16";
}
#endif

static const char *backend = "memory";
static rl_test_redis_t server;
static long entities = 1000000;
static int64_t manual_ms;
static rl_clock_t manual;
static const rl_clock_t *soak_clock; /* NULL (real time) on Redis */

typedef struct soak {
    rl_limiter_t *lim;
    rl_limit_t limit;
    long next;        /* next entity to churn */
    long granted;     /* first acquires granted (must be all of them) */
    long regranted;   /* second acquires granted */
    long excused;     /* second acquires that came after a token could have accrued */
    long failed;      /* calls that failed otherwise */
    long long mem[2]; /* memory (bytes) half-way and at the end */
} soak_t;

static long long memory_now(void)
{
    if (strcmp(backend, "redis") == 0)
        return rl_test_redis_info(&server, "used_memory");
    return (long long)rl_test_rss_kb() * 1024;
}

static async int churn_one(soak_t *s, long i)
{
    char id[32];
    snprintf(id, sizeof id, "e%ld", i);
    rl_amount_t all[] = {{"rps", 5}}, one[] = {{"rps", 1}};
    rl_acquire_options_t o = {&s->limit, 1, RL_ON_UNAVAILABLE_BLOCK};
    rl_lease_t lease;
    int64_t t0 = rl_clock_now(soak_clock);
    int rc = await rl_limiter_acquire(s->lim, &lease, id, "gpt-4", all, 1, &o, NULL);
    if (rc == 0) {
        s->granted++;
        rc = await rl_lease_commit(&lease, NULL);
    }
    if (rc)
        s->failed++;
    if (i % 100 != 0)
        return 0;
    rc = await rl_limiter_acquire(s->lim, &lease, id, "gpt-4", one, 1, &o, NULL);
    if (rc == 0) {
        s->regranted++;
        /* One token accrues every 200 ms: a grant is only fair after that long. */
        if (rl_clock_now(soak_clock) - t0 >= 200)
            s->excused++;
        rc = await rl_lease_commit(&lease, NULL);
    }
    if (rc && rc != RL_EEXCEEDED)
        s->failed++;
    return 0;
}

static async int lane(void *arg)
{
    soak_t *s = arg;
    while (s->next < entities) {
        long i = s->next++;
        if (soak_clock && i % 50 == 0)
            manual_ms++;
        if (i == entities / 2)
            s->mem[0] = memory_now();
        if (i % (entities / 10) == 0)
            fprintf(stderr, "  %ld: %lld KiB\n", i, memory_now() / 1024);
        await churn_one(s, i);
    }
    return 0;
}

static async int soak_main(void *arg)
{
    soak_t *s = arg;
    rl_options_t opts;
    rl_options_init(&opts);
    opts.key_prefix = rl_test_prefix();
    opts.cache_ttl_ms = 500;
    opts.clock = soak_clock;
    rl_repo_t *repo = NULL;
    int rc = strcmp(backend, "redis") == 0 ? await rl_redis_open(&repo, server.url, &opts)
                                           : rl_memory_open(&repo, &opts);
    CHECK_EQ(rc, 0);
    CHECK_EQ(rl_limiter_open(&s->lim, repo), 0);
    CHECK_EQ(rl_limit_per_second(&s->limit, "rps", 5, 0), 0);
#if UNASYNC_ASYNC
    async_task_t *tasks[RL_LANES];
    for (int l = 0; l < RL_LANES; l++)
        tasks[l] = async_spawn(lane, s);
    for (int l = 0; l < RL_LANES; l++)
        if (tasks[l])
            await async_join(tasks[l], NULL);
#else
    await lane(s);
#endif
    s->mem[1] = memory_now();
    return await rl_limiter_close(s->lim);
}

static void churned_entities_leave_memory_flat_and_nothing_over_granted(void **state)
{
    (void)state;
    soak_t s;
    memset(&s, 0, sizeof s);
    int64_t t0 = rl_clock_now(NULL);
    assert_int_equal(async_run(soak_main, &s), 0);
    int64_t ms = rl_clock_now(NULL) - t0;
    fprintf(stderr,
            "soak %s: %ld entities in %lld ms (%.0f/s); memory %lld KiB half-way, %lld KiB at the "
            "end; %ld second acquires granted (%ld after a refill)\n",
            backend, entities, (long long)ms, entities * 1000.0 / (double)(ms ? ms : 1),
            s.mem[0] / 1024, s.mem[1] / 1024, s.regranted, s.excused);
    assert_int_equal(s.failed, 0);
    assert_int_equal(s.granted, entities); /* a fresh or expired bucket is a full one */
    assert_int_equal(s.regranted, s.excused); /* no over-grant */
    assert_true(s.mem[0] > 0 && s.mem[1] > 0);
    /* Flat: 50% more entities may not add more than a quarter plus 8 MiB (without expiry the
     * buckets alone would add ~150 bytes each, >100 MiB for a million). */
    assert_true(s.mem[1] <= s.mem[0] + s.mem[0] / 4 + 8 * 1024 * 1024);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        backend = argv[1];
    if (argc > 2)
        entities = atol(argv[2]);
    if (strcmp(backend, "redis") == 0 && rl_test_redis_start(&server) != 0)
        return 1;
    if (strcmp(backend, "redis") != 0) {
        manual_ms = 1700000000000LL;
        manual = rl_manual_clock(&manual_ms);
        soak_clock = &manual;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(churned_entities_leave_memory_flat_and_nothing_over_granted),
    };
    int failed = cmocka_run_group_tests_name("limiter_soak", tests, NULL, NULL);
    if (strcmp(backend, "redis") == 0)
        rl_test_redis_stop(&server);
    return failed;
}
