/* The limiter's behaviour suite (research/limiter.md §4), written async; its sync twin is
 * generated. Usage: test_limiter memory|redis|redis-tcp|cluster. The redis runs start their own
 * redis-server, the cluster run its own Redis Cluster (3 masters, 3 replicas). */
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

static const char *backend = "memory";
static rl_test_redis_t server;
static rl_test_cluster_t cluster;
static bool on_cluster;
static const char *redis_url; /* server's, or the cluster's seed list */

/* One test's world: a limiter on a fresh store (or key prefix) with a manual clock. */
typedef struct world {
    int64_t now;
    rl_clock_t clock;
    rl_limiter_t *lim;
    int64_t ttl_ms;
    int64_t skew_ms; /* rl_options_t.max_clock_skew_ms */
    char prefix[64];
    async int (*body)(struct world *w);
} world_t;

static async int open_world(world_t *w)
{
    rl_options_t opts;
    rl_options_init(&opts);
    w->clock = rl_manual_clock(&w->now);
    opts.clock = &w->clock;
    opts.cache_ttl_ms = w->ttl_ms;
    opts.max_clock_skew_ms = w->skew_ms;
    snprintf(w->prefix, sizeof w->prefix, "%s", rl_test_prefix());
    opts.key_prefix = w->prefix;
    rl_repo_t *repo = NULL;
    int rc;
    if (strcmp(backend, "redis") == 0)
        rc = await rl_redis_open(&repo, redis_url, &opts);
    else
        rc = rl_memory_open(&repo, &opts);
    if (rc)
        return rc;
    return rl_limiter_open(&w->lim, repo);
}

static async int run_world(void *arg)
{
    world_t *w = arg;
    int rc = await open_world(w);
    if (rc) {
        fprintf(stderr, "cannot open the %s limiter: %s\n", backend, rl_strerror(rc));
        return rc;
    }
    rc = await w->body(w);
    int rc2 = await rl_limiter_close(w->lim);
    return rc ? rc : rc2;
}

static void run_skew(async int (*body)(world_t *w), int64_t ttl_ms, int64_t skew_ms)
{
    world_t w;
    memset(&w, 0, sizeof w);
    w.now = 1700000000000LL;
    w.body = body;
    w.ttl_ms = ttl_ms;
    w.skew_ms = skew_ms;
    assert_int_equal(async_run(run_world, &w), 0);
}

static void run(async int (*body)(world_t *w), int64_t ttl_ms)
{
    run_skew(body, ttl_ms, 0);
}

#define TEST(name)                                                                                 \
    static async int name##_body(world_t *w);                                                      \
    static void name(void **state)                                                                 \
    {                                                                                              \
        (void)state;                                                                               \
        run(name##_body, -1);                                                                      \
    }                                                                                              \
    static async int name##_body(world_t *w)

#define TEST_TTL(name, ttl)                                                                        \
    static async int name##_body(world_t *w);                                                      \
    static void name(void **state)                                                                 \
    {                                                                                              \
        (void)state;                                                                               \
        run(name##_body, ttl);                                                                     \
    }                                                                                              \
    static async int name##_body(world_t *w)

#define TEST_SKEW(name, skew)                                                                      \
    static async int name##_body(world_t *w);                                                      \
    static void name(void **state)                                                                 \
    {                                                                                              \
        (void)state;                                                                               \
        run_skew(name##_body, -1, skew);                                                           \
    }                                                                                              \
    static async int name##_body(world_t *w)

static rl_limit_t per_minute(const char *name, int64_t rate)
{
    rl_limit_t l;
    rl_limit_per_minute(&l, name, rate, 0);
    return l;
}

/* Acquire with an override of n limits; amounts as name/amount pairs. */
static async int acquire(world_t *w, rl_lease_t *lease, const char *entity, const rl_limit_t *lims,
                         size_t nlims, const rl_amount_t *amounts, size_t n, rl_report_t *report)
{
    rl_acquire_options_t opts = {lims, nlims, RL_ON_UNAVAILABLE_UNSET};
    return await rl_limiter_acquire(w->lim, lease, entity, "gpt-4", amounts, n,
                                    nlims ? &opts : NULL, report);
}

static async int64_t available(world_t *w, const char *entity, const char *resource,
                               const rl_limit_t *lims, size_t nlims, const char *name)
{
    rl_capacity_t cap;
    if (await rl_limiter_available(w->lim, entity, resource, lims, nlims, &cap, NULL) != 0)
        return INT64_MIN;
    for (size_t i = 0; i < cap.count; i++)
        if (strcmp(cap.limits[i].name, name) == 0)
            return cap.available[i];
    return INT64_MIN;
}

/* The stored bucket of one limit (for the net counter and write-on-enter checks). */
static async int stored_bucket(world_t *w, const char *entity, const rl_limit_t *limit,
                               rl_bucket_t *out)
{
    rl_bucket_set_t set;
    memset(&set, 0, sizeof set);
    set.entity_id = entity;
    set.resource = "gpt-4";
    set.count = 1;
    set.limits[0] = *limit;
    rl_repo_t *repo = rl_limiter_repo(w->lim);
    int rc = await repo->ops->read(repo, &set, 1, w->now);
    *out = set.buckets[0];
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Acquire (§4 #14-#21)                                                                         */
/* ------------------------------------------------------------------------------------------ */

TEST(acquire_records_consumption)
{
    rl_limit_t lims[2] = {per_minute("rpm", 100), per_minute("tpm", 10000)};
    rl_amount_t one[] = {{"rpm", 1}};
    rl_lease_t lease;
    CHECK_EQ(await acquire(w, &lease, "key-1", lims, 1, one, 1, NULL), 0);
    CHECK_EQ(rl_lease_consumed(&lease, "rpm", -1), 1);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    rl_amount_t both[] = {{"rpm", 1}, {"tpm", 500}};
    CHECK_EQ(await acquire(w, &lease, "key-2", lims, 2, both, 2, NULL), 0);
    CHECK_EQ(rl_lease_consumed(&lease, "rpm", -1), 1);
    CHECK_EQ(rl_lease_consumed(&lease, "tpm", -1), 500);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    CHECK_EQ(await available(w, "key-2", "gpt-4", lims, 2, "tpm"), 9500);
    return 0;
}

TEST(over_limit_reports_one_violation_with_exact_retry)
{
    rl_limit_t l = per_minute("rpm", 10);
    rl_amount_t twenty[] = {{"rpm", 20}};
    rl_lease_t lease;
    rl_report_t report;
    CHECK_EQ(await acquire(w, &lease, "key-1", &l, 1, twenty, 1, &report), RL_EEXCEEDED);
    CHECK_EQ(report.error, RL_EEXCEEDED);
    CHECK_EQ(report.exceeded.count, 1);
    CHECK_EQ(rl_exceeded_violations(&report.exceeded), 1);
    const rl_status_t *st = &report.exceeded.statuses[report.exceeded.primary];
    CHECK_EQ(st->requested, 20);
    CHECK_EQ(st->available, 10);
    CHECK_EQ(report.exceeded.retry_after_ms, 60001);
    char header[16];
    rl_retry_after_header(report.exceeded.retry_after_ms, header, sizeof header);
    CHECK_STR(header, "61");
    CHECK_STR(report.message, "Rate limit exceeded for key-1/gpt-4: ['rpm']. Retry after 60.0s");
    /* nothing was consumed, and the lease is not active */
    CHECK_EQ(await available(w, "key-1", "gpt-4", &l, 1, "rpm"), 10);
    CHECK_EQ(rl_lease_adjust(&lease, twenty, 1), RL_ELEASE);
    /* the brief's example: capacity 10, consume 11 -> 6.001 s */
    rl_amount_t eleven[] = {{"rpm", 11}};
    CHECK_EQ(await acquire(w, &lease, "key-2", &l, 1, eleven, 1, &report), RL_EEXCEEDED);
    CHECK_EQ(report.exceeded.retry_after_ms, 6001);
    return 0;
}

TEST(every_limit_gets_a_status)
{
    rl_limit_t lims[2] = {per_minute("rpm", 100), per_minute("tpm", 100)};
    rl_amount_t amounts[] = {{"rpm", 1}, {"tpm", 200}, {"unknown", 5}};
    rl_lease_t lease;
    rl_report_t report;
    CHECK_EQ(await acquire(w, &lease, "key-1", lims, 2, amounts, 3, &report), RL_EEXCEEDED);
    CHECK_EQ(report.exceeded.count, 2);
    CHECK_EQ(rl_exceeded_violations(&report.exceeded), 1);
    CHECK_STR(report.exceeded.statuses[report.exceeded.primary].limit.name, "tpm");
    CHECK(!report.exceeded.statuses[0].exceeded);
    CHECK_STR(report.exceeded.statuses[0].limit.name, "rpm");
    /* all-or-nothing: rpm was not consumed either */
    CHECK_EQ(await available(w, "key-1", "gpt-4", lims, 2, "rpm"), 100);
    return 0;
}

TEST(rollback_gives_back_the_initial_consumption)
{
    rl_limit_t l = per_minute("rpm", 100);
    rl_amount_t ten[] = {{"rpm", 10}};
    rl_lease_t lease;
    CHECK_EQ(await acquire(w, &lease, "key-1", &l, 1, ten, 1, NULL), 0);
    CHECK_EQ(await available(w, "key-1", "gpt-4", &l, 1, "rpm"), 90);
    rl_amount_t more[] = {{"rpm", 30}};
    CHECK_EQ(rl_lease_adjust(&lease, more, 1), 0); /* dropped by the rollback */
    CHECK_EQ(await rl_lease_rollback(&lease), 0);
    CHECK_EQ(await available(w, "key-1", "gpt-4", &l, 1, "rpm"), 100);
    CHECK_EQ(await rl_lease_rollback(&lease), RL_ELEASE);
    return 0;
}

TEST(drained_bucket_recovers_after_refill)
{
    rl_limit_t l;
    CHECK_EQ(rl_limit_custom(&l, "rps", 100, 100, 1), 0);
    rl_amount_t hundred[] = {{"rps", 100}}, fifty[] = {{"rps", 50}};
    rl_lease_t lease;
    rl_report_t report;
    CHECK_EQ(await acquire(w, &lease, "key-1", &l, 1, hundred, 1, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    CHECK_EQ(await acquire(w, &lease, "key-1", &l, 1, hundred, 1, &report), RL_EEXCEEDED);
    CHECK(report.exceeded.retry_after_ms > 0);
    CHECK_EQ(report.exceeded.retry_after_ms, 1001);
    w->now += 1100;
    CHECK_EQ(await acquire(w, &lease, "key-1", &l, 1, fifty, 1, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    return 0;
}

TEST(acquire_writes_before_the_body_runs)
{
    rl_limit_t l = per_minute("rpm", 100);
    rl_amount_t ten[] = {{"rpm", 10}};
    rl_lease_t lease;
    CHECK_EQ(await acquire(w, &lease, "key-1", &l, 1, ten, 1, NULL), 0);
    rl_bucket_t b;
    CHECK_EQ(await stored_bucket(w, "key-1", &l, &b), 0);
    CHECK(b.tokens_milli <= 90000);
    CHECK_EQ(b.tokens_milli, 90000);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    return 0;
}

TEST(bad_entity_or_resource_is_rejected)
{
    rl_limit_t l = per_minute("rpm", 100);
    rl_amount_t one[] = {{"rpm", 1}};
    rl_acquire_options_t opts = {&l, 1, RL_ON_UNAVAILABLE_UNSET};
    rl_lease_t lease;
    rl_report_t report;
    CHECK_EQ(await rl_limiter_acquire(w->lim, &lease, "", "gpt-4", one, 1, &opts, &report),
             RL_EENTITY);
    CHECK_EQ(await rl_limiter_acquire(w->lim, &lease, "a#b", "gpt-4", one, 1, &opts, &report),
             RL_EENTITY);
    CHECK_EQ(await rl_limiter_acquire(w->lim, &lease, "key-1", "", one, 1, &opts, &report),
             RL_ERESOURCE);
    CHECK_EQ(await rl_limiter_acquire(w->lim, &lease, "key-1", "g#4", one, 1, &opts, &report),
             RL_ERESOURCE);
    rl_amount_t negative[] = {{"rpm", -1}};
    CHECK_EQ(
        await rl_limiter_acquire(w->lim, &lease, "key-1", "gpt-4", negative, 1, &opts, &report),
        RL_EINVAL);
    return 0;
}

TEST(no_limits_anywhere_is_an_error_naming_entity_and_resource)
{
    rl_amount_t one[] = {{"rpm", 1}};
    rl_lease_t lease;
    rl_report_t report;
    CHECK_EQ(await acquire(w, &lease, "key-1", NULL, 0, one, 1, &report), RL_ENOLIMITS);
    CHECK(strstr(report.message, "No limits configured") != NULL);
    CHECK(strstr(report.message, "key-1") != NULL);
    CHECK(strstr(report.message, "gpt-4") != NULL);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Lease (§4 #22-#29)                                                                           */
/* ------------------------------------------------------------------------------------------ */

TEST(lease_consume_is_checked)
{
    rl_limit_t big = per_minute("tpm", 10000), small = per_minute("tpm", 1000);
    rl_amount_t five[] = {{"tpm", 500}}, six[] = {{"tpm", 600}};
    rl_lease_t lease;
    rl_report_t report;
    CHECK_EQ(await acquire(w, &lease, "key-1", &big, 1, five, 1, NULL), 0);
    CHECK_EQ(rl_lease_consume(&lease, five, 1, NULL), 0);
    CHECK_EQ(rl_lease_consumed(&lease, "tpm", -1), 1000);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    CHECK_EQ(await available(w, "key-1", "gpt-4", &big, 1, "tpm"), 9000);

    CHECK_EQ(await acquire(w, &lease, "key-2", &small, 1, five, 1, NULL), 0);
    CHECK_EQ(rl_lease_consume(&lease, six, 1, &report), RL_EEXCEEDED);
    CHECK_EQ(report.exceeded.statuses[0].available, 500);
    CHECK_EQ(report.exceeded.statuses[0].requested, 600);
    CHECK_EQ(rl_lease_consumed(&lease, "tpm", -1), 500);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    return 0;
}

TEST(lease_adjust_and_release_are_unchecked)
{
    rl_limit_t l = per_minute("tpm", 1000);
    rl_amount_t five[] = {{"tpm", 500}}, thousand[] = {{"tpm", 1000}}, two[] = {{"tpm", 200}};
    rl_lease_t lease;
    CHECK_EQ(await acquire(w, &lease, "key-1", &l, 1, five, 1, NULL), 0);
    CHECK_EQ(rl_lease_adjust(&lease, thousand, 1), 0);
    CHECK_EQ(rl_lease_consumed(&lease, "tpm", -1), 1500);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    CHECK_EQ(await available(w, "key-1", "gpt-4", &l, 1, "tpm"), -500);

    CHECK_EQ(await acquire(w, &lease, "key-2", &l, 1, five, 1, NULL), 0);
    CHECK_EQ(rl_lease_release(&lease, two, 1), 0);
    CHECK_EQ(rl_lease_consumed(&lease, "tpm", -1), 300);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    CHECK_EQ(await available(w, "key-2", "gpt-4", &l, 1, "tpm"), 700);
    return 0;
}

TEST(zero_amounts_are_skipped)
{
    rl_limit_t lims[2] = {per_minute("rpm", 100), per_minute("tpm", 10000)};
    rl_amount_t first[] = {{"rpm", 1}, {"tpm", 100}};
    rl_amount_t rpm1[] = {{"rpm", 1}, {"tpm", 0}}, rpm5[] = {{"rpm", 5}, {"tpm", 0}};
    rl_lease_t lease;
    CHECK_EQ(await acquire(w, &lease, "key-1", lims, 2, first, 2, NULL), 0);
    CHECK_EQ(rl_lease_consume(&lease, rpm1, 2, NULL), 0);
    CHECK_EQ(rl_lease_consumed(&lease, "rpm", -1), 2);
    CHECK_EQ(rl_lease_consumed(&lease, "tpm", -1), 100);
    CHECK_EQ(rl_lease_adjust(&lease, rpm5, 2), 0);
    CHECK_EQ(rl_lease_consumed(&lease, "rpm", -1), 7);
    CHECK_EQ(rl_lease_consumed(&lease, "tpm", -1), 100);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    return 0;
}

TEST(finished_lease_refuses_everything)
{
    rl_limit_t l = per_minute("rpm", 100);
    rl_amount_t one[] = {{"rpm", 1}};
    rl_lease_t lease;
    CHECK_EQ(await acquire(w, &lease, "key-1", &l, 1, one, 1, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    rl_report_t report;
    CHECK_EQ(rl_lease_consume(&lease, one, 1, &report), RL_ELEASE);
    CHECK_STR(report.message, "Lease is no longer active");
    CHECK_EQ(rl_lease_adjust(&lease, one, 1), RL_ELEASE);
    CHECK_EQ(rl_lease_release(&lease, one, 1), RL_ELEASE);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), RL_ELEASE);
    CHECK_EQ(await rl_lease_rollback(&lease), RL_ELEASE);
    return 0;
}

/* §4 #27: each row starts from an acquire of 100. */
static async int net_counter_after(world_t *w, const char *entity, const char *op, int64_t amount,
                                   int64_t *counter)
{
    rl_limit_t l = per_minute("tpm", 100000);
    rl_amount_t hundred[] = {{"tpm", 100}}, a[] = {{"tpm", amount}};
    rl_lease_t lease;
    int rc = await acquire(w, &lease, entity, &l, 1, hundred, 1, NULL);
    if (rc)
        return rc;
    if (strcmp(op, "consume") == 0)
        rc = rl_lease_consume(&lease, a, 1, NULL);
    else if (strcmp(op, "adjust") == 0)
        rc = rl_lease_adjust(&lease, a, 1);
    else if (strcmp(op, "release") == 0)
        rc = rl_lease_release(&lease, a, 1);
    if (rc == 0)
        rc = await rl_lease_commit(&lease, NULL);
    rl_bucket_t b;
    if (rc == 0)
        rc = await stored_bucket(w, entity, &l, &b);
    *counter = b.total_consumed_milli;
    return rc;
}

TEST(net_consumption_counter_follows_the_lease)
{
    int64_t c = 0;
    CHECK_EQ(await net_counter_after(w, "e1", "nothing", 0, &c), 0);
    CHECK_EQ(c, 100000);
    CHECK_EQ(await net_counter_after(w, "e2", "consume", 50, &c), 0);
    CHECK_EQ(c, 150000);
    CHECK_EQ(await net_counter_after(w, "e3", "adjust", -30, &c), 0);
    CHECK_EQ(c, 70000);
    CHECK_EQ(await net_counter_after(w, "e4", "release", 40, &c), 0);
    CHECK_EQ(c, 60000);
    CHECK_EQ(await net_counter_after(w, "e5", "adjust", 200, &c), 0);
    CHECK_EQ(c, 300000);
    return 0;
}

TEST(interleaved_leases_lose_no_update)
{
    rl_limit_t l;
    CHECK_EQ(rl_limit_per_day(&l, "rpd", 1000, 0), 0);
    rl_amount_t ten[] = {{"rpd", 10}}, twenty[] = {{"rpd", 20}}, five[] = {{"rpd", 5}},
                fifteen[] = {{"rpd", 15}};
    rl_lease_t a, b;
    CHECK_EQ(await acquire(w, &a, "key-1", &l, 1, ten, 1, NULL), 0);
    CHECK_EQ(await acquire(w, &b, "key-1", &l, 1, five, 1, NULL), 0);
    CHECK_EQ(rl_lease_adjust(&a, twenty, 1), 0);
    CHECK_EQ(rl_lease_adjust(&b, fifteen, 1), 0);
    CHECK_EQ(await rl_lease_commit(&b, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&a, NULL), 0);
    CHECK_EQ(await available(w, "key-1", "gpt-4", &l, 1, "rpd"), 950);
    rl_bucket_t bucket;
    CHECK_EQ(await stored_bucket(w, "key-1", &l, &bucket), 0);
    CHECK_EQ(bucket.total_consumed_milli, 50000);
    return 0;
}

TEST(rejection_reports_pre_request_tokens)
{
    rl_limit_t l = per_minute("rpm", 100);
    rl_amount_t fifty[] = {{"rpm", 50}}, sixty[] = {{"rpm", 60}};
    rl_lease_t lease;
    rl_report_t report;
    CHECK_EQ(await acquire(w, &lease, "key-1", &l, 1, fifty, 1, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    CHECK_EQ(await acquire(w, &lease, "key-1", &l, 1, sixty, 1, &report), RL_EEXCEEDED);
    CHECK_EQ(report.exceeded.statuses[0].available, 50);
    CHECK(report.exceeded.statuses[0].exceeded);
    CHECK_EQ(report.exceeded.retry_after_ms, 6001);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Cascade (§4 #33-#36)                                                                         */
/* ------------------------------------------------------------------------------------------ */

TEST(cascade_consumes_from_parent_too)
{
    rl_limit_t l = per_minute("rpm", 100);
    rl_amount_t one[] = {{"rpm", 1}};
    CHECK_EQ(await rl_limiter_create_entity(w->lim, "proj-1", NULL, NULL, false), 0);
    CHECK_EQ(await rl_limiter_create_entity(w->lim, "key-1", NULL, "proj-1", true), 0);
    CHECK_EQ(await rl_limiter_create_entity(w->lim, "key-2", NULL, "proj-1", false), 0);
    rl_lease_t lease;
    CHECK_EQ(await acquire(w, &lease, "key-1", &l, 1, one, 1, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    CHECK_EQ(await available(w, "key-1", "gpt-4", &l, 1, "rpm"), 99);
    CHECK_EQ(await available(w, "proj-1", "gpt-4", &l, 1, "rpm"), 99);
    CHECK_EQ(await acquire(w, &lease, "key-2", &l, 1, one, 1, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    CHECK_EQ(await available(w, "key-2", "gpt-4", &l, 1, "rpm"), 99);
    CHECK_EQ(await available(w, "proj-1", "gpt-4", &l, 1, "rpm"), 99);
    return 0;
}

TEST(parent_limit_blocks_the_child)
{
    rl_limit_t parent = per_minute("rpm", 5), child = per_minute("rpm", 100);
    CHECK_EQ(await rl_limiter_create_entity(w->lim, "proj-1", NULL, NULL, false), 0);
    CHECK_EQ(await rl_limiter_create_entity(w->lim, "key-1", NULL, "proj-1", true), 0);
    CHECK_EQ(await rl_limiter_set_limits(w->lim, "proj-1", "gpt-4", &parent, 1), 0);
    CHECK_EQ(await rl_limiter_set_limits(w->lim, "key-1", "gpt-4", &child, 1), 0);
    rl_amount_t five[] = {{"rpm", 5}}, one[] = {{"rpm", 1}};
    rl_lease_t lease;
    rl_report_t report;
    CHECK_EQ(await acquire(w, &lease, "proj-1", NULL, 0, five, 1, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    CHECK_EQ(await acquire(w, &lease, "key-1", NULL, 0, one, 1, &report), RL_EEXCEEDED);
    CHECK_EQ(report.exceeded.count, 2);
    const rl_status_t *primary = &report.exceeded.statuses[report.exceeded.primary];
    CHECK_STR(rl_status_entity(&report.exceeded, primary), "proj-1");
    CHECK_EQ(primary->level, 1);
    /* the child was not charged */
    CHECK_EQ(await available(w, "key-1", "gpt-4", NULL, 0, "rpm"), 100);
    return 0;
}

TEST(cascade_without_parent_is_harmless)
{
    rl_limit_t l = per_minute("rpm", 100);
    rl_amount_t one[] = {{"rpm", 1}};
    CHECK_EQ(await rl_limiter_create_entity(w->lim, "key-1", NULL, NULL, true), 0);
    rl_lease_t lease;
    CHECK_EQ(await acquire(w, &lease, "key-1", &l, 1, one, 1, NULL), 0);
    CHECK_EQ(lease.nsets, 1);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    CHECK_EQ(await available(w, "key-1", "gpt-4", &l, 1, "rpm"), 99);
    return 0;
}

TEST(cascade_writes_both_on_enter_and_rolls_back_both)
{
    rl_limit_t l = per_minute("rpm", 100);
    rl_amount_t five[] = {{"rpm", 5}};
    CHECK_EQ(await rl_limiter_create_entity(w->lim, "proj-1", NULL, NULL, false), 0);
    CHECK_EQ(await rl_limiter_create_entity(w->lim, "key-1", NULL, "proj-1", true), 0);
    rl_lease_t lease;
    CHECK_EQ(await acquire(w, &lease, "key-1", &l, 1, five, 1, NULL), 0);
    CHECK_EQ(await available(w, "key-1", "gpt-4", &l, 1, "rpm"), 95);
    CHECK_EQ(await available(w, "proj-1", "gpt-4", &l, 1, "rpm"), 95);
    CHECK_EQ(rl_lease_consumed(&lease, "rpm", 0), 5);
    CHECK_EQ(rl_lease_consumed(&lease, "rpm", 1), 5);
    CHECK_EQ(rl_lease_consumed(&lease, "rpm", -1), 10);
    CHECK_EQ(await rl_lease_rollback(&lease), 0);
    CHECK_EQ(await available(w, "key-1", "gpt-4", &l, 1, "rpm"), 100);
    CHECK_EQ(await available(w, "proj-1", "gpt-4", &l, 1, "rpm"), 100);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Resolution and capacity (§4 #38-#39, #41-#44)                                                */
/* ------------------------------------------------------------------------------------------ */

TEST(limit_resolution_follows_the_documented_order)
{
    rl_limit_t sys = per_minute("rpm", 10), res = per_minute("rpm", 50),
               ent = per_minute("rpm", 100);
    rl_amount_t a75[] = {{"rpm", 75}}, a25[] = {{"rpm", 25}}, a50[] = {{"rpm", 50}};
    rl_lease_t lease;
    CHECK_EQ(await rl_limiter_set_system_defaults(w->lim, &sys, 1, RL_ON_UNAVAILABLE_UNSET), 0);
    CHECK_EQ(await rl_limiter_set_resource_defaults(w->lim, "gpt-4", &res, 1), 0);
    CHECK_EQ(await rl_limiter_set_limits(w->lim, "e-ent", "gpt-4", &ent, 1), 0);
    CHECK_EQ(await rl_limiter_set_limits(w->lim, "e-def", NULL, &ent, 1), 0);
    /* entity config for the resource wins */
    CHECK_EQ(await acquire(w, &lease, "e-ent", NULL, 0, a75, 1, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    /* entity _default_ (100) beats the resource default (50) */
    CHECK_EQ(await acquire(w, &lease, "e-def", NULL, 0, a75, 1, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    /* resource default (50) beats the system default (10) */
    CHECK_EQ(await acquire(w, &lease, "e-res", NULL, 0, a25, 1, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    rl_report_t report;
    CHECK_EQ(await acquire(w, &lease, "e-res2", NULL, 0, a75, 1, &report), RL_EEXCEEDED);
    CHECK_EQ(report.exceeded.statuses[0].limit.capacity, 50);
    /* system alone */
    rl_limit_t sys100 = per_minute("rpm", 100);
    CHECK_EQ(await rl_limiter_delete_resource_defaults(w->lim, "gpt-4"), 0);
    CHECK_EQ(await rl_limiter_set_system_defaults(w->lim, &sys100, 1, RL_ON_UNAVAILABLE_UNSET), 0);
    CHECK_EQ(await acquire(w, &lease, "e-sys", NULL, 0, a50, 1, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    /* an override alone */
    CHECK_EQ(await rl_limiter_delete_system_defaults(w->lim), 0);
    CHECK_EQ(await acquire(w, &lease, "e-ovr", &ent, 1, a50, 1, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    CHECK_EQ(await acquire(w, &lease, "e-none", NULL, 0, a50, 1, NULL), RL_ENOLIMITS);
    return 0;
}

TEST(resource_default_capacity_and_wait)
{
    rl_limit_t res = per_minute("rpm", 100);
    CHECK_EQ(await rl_limiter_set_resource_defaults(w->lim, "gpt-4", &res, 1), 0);
    CHECK_EQ(await available(w, "key-1", "gpt-4", NULL, 0, "rpm"), 100);
    rl_amount_t need[] = {{"rpm", 50}};
    int64_t ms = -1;
    CHECK_EQ(await rl_limiter_time_until_available(w->lim, "key-1", "gpt-4", need, 1, NULL, 0, &ms,
                                                   NULL),
             0);
    CHECK_EQ(ms, 0);
    return 0;
}

TEST(available_and_time_until_available_after_use)
{
    rl_limit_t l = per_minute("rpm", 100);
    rl_amount_t thirty[] = {{"rpm", 30}}, seventy[] = {{"rpm", 70}};
    rl_lease_t lease;
    CHECK_EQ(await available(w, "key-1", "gpt-4", &l, 1, "rpm"), 100);
    CHECK_EQ(await acquire(w, &lease, "key-1", &l, 1, thirty, 1, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    CHECK_EQ(await available(w, "key-1", "gpt-4", &l, 1, "rpm"), 70);
    CHECK_EQ(await acquire(w, &lease, "key-1", &l, 1, seventy, 1, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    rl_amount_t need[] = {{"rpm", 50}, {"other", 0}};
    int64_t ms = -1;
    CHECK_EQ(
        await rl_limiter_time_until_available(w->lim, "key-1", "gpt-4", need, 2, &l, 1, &ms, NULL),
        0);
    CHECK_EQ(ms, 30001);
    return 0;
}

TEST(second_acquire_of_a_one_per_minute_limit_fails)
{
    rl_limit_t sys = per_minute("rpm", 1);
    CHECK_EQ(await rl_limiter_set_system_defaults(w->lim, &sys, 1, RL_ON_UNAVAILABLE_UNSET), 0);
    rl_amount_t one[] = {{"rpm", 1}};
    rl_lease_t lease;
    CHECK_EQ(await acquire(w, &lease, "key-1", NULL, 0, one, 1, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    CHECK_EQ(await acquire(w, &lease, "key-1", NULL, 0, one, 1, NULL), RL_EEXCEEDED);
    return 0;
}

TEST(last_token_can_be_taken)
{
    rl_limit_t l = per_minute("rpm", 1000);
    rl_amount_t a999[] = {{"rpm", 999}}, one[] = {{"rpm", 1}};
    rl_lease_t lease;
    CHECK_EQ(await acquire(w, &lease, "key-1", &l, 1, a999, 1, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    CHECK_EQ(await acquire(w, &lease, "key-1", &l, 1, one, 1, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    CHECK_EQ(await available(w, "key-1", "gpt-4", &l, 1, "rpm"), 0);
    return 0;
}

TEST(stored_parameters_win_until_set_limits_pushes_new_ones)
{
    rl_limit_t ten = per_minute("rpm", 10), hundred = per_minute("rpm", 100);
    rl_amount_t one[] = {{"rpm", 1}}, twenty[] = {{"rpm", 20}};
    rl_lease_t lease;
    rl_report_t report;
    CHECK_EQ(await acquire(w, &lease, "key-1", &ten, 1, one, 1, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    /* a bigger override does not change the existing bucket */
    CHECK_EQ(await acquire(w, &lease, "key-1", &hundred, 1, twenty, 1, &report), RL_EEXCEEDED);
    CHECK_EQ(report.exceeded.statuses[0].limit.capacity, 10);
    /* set_limits pushes the new capacity into the bucket, keeping its tokens */
    CHECK_EQ(await rl_limiter_set_limits(w->lim, "key-1", "gpt-4", &hundred, 1), 0);
    CHECK_EQ(await available(w, "key-1", "gpt-4", NULL, 0, "rpm"), 9);
    w->now += 60000;
    CHECK_EQ(await available(w, "key-1", "gpt-4", NULL, 0, "rpm"), 100);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Entities and configuration                                                                   */
/* ------------------------------------------------------------------------------------------ */

TEST(entities_are_created_listed_and_deleted)
{
    CHECK_EQ(await rl_limiter_create_entity(w->lim, "proj-1", "Project", NULL, false), 0);
    CHECK_EQ(await rl_limiter_create_entity(w->lim, "proj-1", NULL, NULL, false), RL_EEXIST);
    CHECK_EQ(await rl_limiter_create_entity(w->lim, "key-1", NULL, "nope", true), RL_ENOTFOUND);
    CHECK_EQ(await rl_limiter_create_entity(w->lim, "key-1", NULL, "proj-1", true), 0);
    CHECK_EQ(await rl_limiter_create_entity(w->lim, "key-2", NULL, "proj-1", false), 0);
    rl_entity_t e;
    CHECK_EQ(await rl_limiter_get_entity(w->lim, "key-1", &e), 0);
    CHECK_STR(e.parent_id, "proj-1");
    CHECK(e.cascade);
    CHECK_STR(e.name, "key-1");
    CHECK_EQ(e.created_at_ms, w->now);
    CHECK_EQ(await rl_limiter_get_entity(w->lim, "proj-1", &e), 0);
    CHECK_STR(e.name, "Project");
    rl_entity_t kids[4];
    size_t n = 0;
    CHECK_EQ(await rl_limiter_get_children(w->lim, "proj-1", kids, 4, &n), 0);
    CHECK_EQ(n, 2);
    rl_limit_t l = per_minute("rpm", 10);
    CHECK_EQ(await rl_limiter_set_limits(w->lim, "key-2", NULL, &l, 1), 0);
    rl_config_t cfg;
    CHECK_EQ(await rl_limiter_get_limits(w->lim, "key-2", NULL, &cfg), 0);
    CHECK_EQ(cfg.count, 1);
    CHECK_EQ(cfg.limits[0].capacity, 10);
    CHECK_EQ(await rl_limiter_delete_entity(w->lim, "key-2"), 0);
    CHECK_EQ(await rl_limiter_get_entity(w->lim, "key-2", &e), RL_ENOTFOUND);
    CHECK_EQ(await rl_limiter_get_limits(w->lim, "key-2", NULL, &cfg), RL_ENOTFOUND);
    CHECK_EQ(await rl_limiter_get_children(w->lim, "proj-1", kids, 4, &n), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(await rl_limiter_delete_entity(w->lim, "key-2"), RL_ENOTFOUND);
    return 0;
}

TEST(system_defaults_keep_on_unavailable)
{
    rl_limit_t l = per_minute("rpm", 10);
    CHECK_EQ(await rl_limiter_set_system_defaults(w->lim, &l, 1, RL_ON_UNAVAILABLE_ALLOW), 0);
    rl_config_t cfg;
    CHECK_EQ(await rl_limiter_get_system_defaults(w->lim, &cfg), 0);
    CHECK_EQ(cfg.on_unavailable, RL_ON_UNAVAILABLE_ALLOW);
    CHECK_EQ(cfg.count, 1);
    CHECK_STR(cfg.limits[0].name, "rpm");
    CHECK_EQ(await rl_limiter_delete_system_defaults(w->lim), 0);
    CHECK_EQ(await rl_limiter_get_system_defaults(w->lim, &cfg), RL_ENOTFOUND);
    CHECK(await rl_limiter_is_available(w->lim));
    return 0;
}

static bool has_ref(const rl_config_ref_t *refs, size_t n, const char *entity, const char *res)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(refs[i].entity_id, entity) == 0 && strcmp(refs[i].resource, res) == 0)
            return true;
    return false;
}

TEST(list_queries_find_stored_configs)
{
    rl_limit_t l = per_minute("rpm", 10);
    CHECK_EQ(await rl_limiter_set_resource_defaults(w->lim, "gpt-4", &l, 1), 0);
    CHECK_EQ(await rl_limiter_set_resource_defaults(w->lim, "openai/o1", &l, 1), 0);
    CHECK_EQ(await rl_limiter_set_limits(w->lim, "key-1", "gpt-4", &l, 1), 0);
    CHECK_EQ(await rl_limiter_set_limits(w->lim, "key-1", NULL, &l, 1), 0);
    CHECK_EQ(await rl_limiter_set_limits(w->lim, "key:2", "gpt-4", &l, 1), 0);
    CHECK_EQ(await rl_limiter_set_system_defaults(w->lim, &l, 1, RL_ON_UNAVAILABLE_UNSET), 0);
    rl_config_ref_t refs[8];
    size_t n = 0;
    CHECK_EQ(await rl_limiter_list_resources_with_defaults(w->lim, refs, 8, &n), 0);
    CHECK_EQ(n, 2);
    CHECK(has_ref(refs, n, "", "gpt-4"));
    CHECK(has_ref(refs, n, "", "openai/o1"));
    CHECK_EQ(await rl_limiter_list_entities_with_custom_limits(w->lim, "gpt-4", refs, 8, &n), 0);
    CHECK_EQ(n, 2);
    CHECK(has_ref(refs, n, "key-1", "gpt-4"));
    CHECK(has_ref(refs, n, "key:2", "gpt-4"));
    CHECK_EQ(await rl_limiter_list_entities_with_custom_limits(w->lim, NULL, refs, 8, &n), 0);
    CHECK_EQ(n, 3);
    CHECK_EQ(await rl_limiter_list_resources_with_entity_configs(w->lim, "key-1", refs, 8, &n), 0);
    CHECK_EQ(n, 2);
    CHECK(has_ref(refs, n, "key-1", RL_DEFAULT_RESOURCE));
    CHECK_EQ(await rl_limiter_list_resources_with_entity_configs(w->lim, "key-1", refs, 1, &n), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(await rl_limiter_delete_limits(w->lim, "key-1", "gpt-4"), 0);
    CHECK_EQ(await rl_limiter_list_resources_with_entity_configs(w->lim, "key-1", refs, 8, &n), 0);
    CHECK_EQ(n, 1);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Config cache (§4 #54-#58)                                                                    */
/* ------------------------------------------------------------------------------------------ */

TEST_TTL(cache_refetches_after_its_ttl, 1000)
{
    rl_repo_t *repo = rl_limiter_repo(w->lim);
    rl_limit_t l = per_minute("rpm", 10);
    CHECK_EQ(await rl_limiter_set_system_defaults(w->lim, &l, 1, RL_ON_UNAVAILABLE_UNSET), 0);
    rl_config_t cfg;
    rl_source_t src;
    CHECK_EQ(await rl_repo_resolve(repo, "key-1", "gpt-4", w->now, &cfg, &src, NULL), 0);
    CHECK_EQ(src, RL_SOURCE_SYSTEM);
    /* all four slots missed: one batch asking for four keys */
    CHECK_EQ(repo->fetches, 1);
    CHECK_EQ(repo->fetched_keys, 4);
    w->now += 500;
    CHECK_EQ(await rl_repo_resolve(repo, "key-1", "gpt-4", w->now, &cfg, &src, NULL), 0);
    CHECK_EQ(repo->fetches, 1);
    w->now += 600;
    CHECK_EQ(await rl_repo_resolve(repo, "key-1", "gpt-4", w->now, &cfg, &src, NULL), 0);
    CHECK_EQ(repo->fetches, 2);
    return 0;
}

TEST(cache_remembers_that_nothing_is_configured)
{
    rl_repo_t *repo = rl_limiter_repo(w->lim);
    rl_config_t cfg;
    rl_source_t src;
    CHECK_EQ(await rl_repo_resolve(repo, "key-1", "gpt-4", w->now, &cfg, &src, NULL), RL_ENOLIMITS);
    CHECK_EQ(await rl_repo_resolve(repo, "key-1", "gpt-4", w->now, &cfg, &src, NULL), RL_ENOLIMITS);
    CHECK_EQ(repo->fetches, 1);
    rl_cache_stats_t st;
    CHECK_EQ(await rl_limiter_cache_stats(w->lim, &st), 0);
    CHECK_EQ(st.size, 4);
    CHECK_EQ(st.hits, 4);
    CHECK_EQ(st.misses, 4);
    CHECK_EQ(st.ttl_ms, 60000);
    return 0;
}

TEST(invalidate_empties_the_cache_and_forces_fetches)
{
    rl_repo_t *repo = rl_limiter_repo(w->lim);
    rl_config_t cfg;
    rl_source_t src;
    CHECK_EQ(await rl_repo_resolve(repo, "key-1", RL_DEFAULT_RESOURCE, w->now, &cfg, &src, NULL),
             RL_ENOLIMITS);
    rl_cache_stats_t st;
    CHECK_EQ(await rl_limiter_cache_stats(w->lim, &st), 0);
    CHECK_EQ(st.size, 3); /* for _default_ the entity slots are one */
    CHECK_EQ(await rl_limiter_invalidate_config_cache(w->lim), 0);
    CHECK_EQ(await rl_limiter_cache_stats(w->lim, &st), 0);
    CHECK_EQ(st.size, 0);
    CHECK_EQ(await rl_repo_resolve(repo, "key-1", RL_DEFAULT_RESOURCE, w->now, &cfg, &src, NULL),
             RL_ENOLIMITS);
    CHECK_EQ(repo->fetches, 2);
    return 0;
}

TEST(batch_fetches_only_the_missing_slots)
{
    rl_repo_t *repo = rl_limiter_repo(w->lim);
    rl_limit_t l = per_minute("rpm", 10);
    rl_config_t cfg;
    rl_source_t src;
    /* the entity slots become cached "nothing here"... */
    CHECK_EQ(await rl_repo_resolve(repo, "key-1", "gpt-4", w->now, &cfg, &src, NULL), RL_ENOLIMITS);
    CHECK_EQ(repo->fetched_keys, 4);
    /* ...then resource and system change, which evicts just those slots */
    CHECK_EQ(await rl_limiter_set_resource_defaults(w->lim, "gpt-4", &l, 1), 0);
    CHECK_EQ(await rl_limiter_set_system_defaults(w->lim, &l, 1, RL_ON_UNAVAILABLE_UNSET), 0);
    CHECK_EQ(await rl_repo_resolve(repo, "key-1", "gpt-4", w->now, &cfg, &src, NULL), 0);
    CHECK_EQ(src, RL_SOURCE_RESOURCE);
    CHECK_EQ(repo->fetches, 2);
    CHECK_EQ(repo->fetched_keys, 6);
    return 0;
}

TEST_TTL(zero_ttl_fetches_every_time, 0)
{
    rl_repo_t *repo = rl_limiter_repo(w->lim);
    rl_limit_t l = per_minute("rpm", 10);
    CHECK_EQ(await rl_limiter_set_system_defaults(w->lim, &l, 1, RL_ON_UNAVAILABLE_UNSET), 0);
    rl_config_t cfg;
    rl_source_t src;
    for (int i = 0; i < 3; i++)
        CHECK_EQ(await rl_repo_resolve(repo, "key-1", "gpt-4", w->now, &cfg, &src, NULL), 0);
    CHECK_EQ(repo->fetches, 3);
    return 0;
}

TEST(set_limits_evicts_the_cached_slot)
{
    rl_limit_t ten = per_minute("rpm", 10), twenty = per_minute("rpm", 20);
    rl_amount_t fifteen[] = {{"rpm", 15}};
    rl_lease_t lease;
    CHECK_EQ(await rl_limiter_set_limits(w->lim, "key-1", "gpt-4", &ten, 1), 0);
    CHECK_EQ(await acquire(w, &lease, "key-1", NULL, 0, fifteen, 1, NULL), RL_EEXCEEDED);
    CHECK_EQ(await rl_limiter_set_limits(w->lim, "key-1", "gpt-4", &twenty, 1), 0);
    CHECK_EQ(await acquire(w, &lease, "key-1", NULL, 0, fifteen, 1, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Allocation failures                                                                          */
/* ------------------------------------------------------------------------------------------ */

static long alloc_budget = -1; /* -1: unlimited */

static void *budget_malloc(size_t n)
{
    if (alloc_budget == 0)
        return NULL;
    if (alloc_budget > 0)
        alloc_budget--;
    return malloc(n);
}

/* Opens a limiter and runs a small workload with the Nth allocation failing: every call either
 * succeeds or reports RL_ENOMEM, and everything is freed (ASan's leak check runs at exit). */
static async int workload_under_budget(long budget, int *saw_enomem)
{
    alloc_budget = budget;
    rl_set_allocator(budget_malloc, NULL, NULL);
    rl_repo_t *repo = NULL;
    rl_limiter_t *lim = NULL;
    rl_options_t opts;
    rl_options_init(&opts);
    opts.key_prefix = rl_test_prefix();
    int rc = strcmp(backend, "redis") == 0 ? await rl_redis_open(&repo, redis_url, &opts)
                                           : rl_memory_open(&repo, &opts);
    if (rc == 0)
        rc = rl_limiter_open(&lim, repo);
    else
        repo = NULL;
    if (rc == 0) {
        rl_limit_t l = per_minute("rpm", 10);
        rl_amount_t one[] = {{"rpm", 1}};
        int steps[4];
        steps[0] = await rl_limiter_create_entity(lim, "proj-1", NULL, NULL, false);
        steps[1] = await rl_limiter_create_entity(lim, "key-1", NULL, "proj-1", true);
        steps[2] = await rl_limiter_set_limits(lim, "key-1", NULL, &l, 1);
        rl_lease_t lease;
        steps[3] = await rl_limiter_acquire(lim, &lease, "key-1", NULL, one, 1, NULL, NULL);
        if (steps[3] == 0)
            steps[3] = await rl_lease_commit(&lease, NULL);
        for (int i = 0; i < 4; i++) {
            if (steps[i] == RL_ENOMEM || (i == 3 && steps[i] == RL_ENOLIMITS))
                *saw_enomem = 1;
            else if (steps[i] != 0 && steps[i] != RL_EEXIST && steps[i] != RL_ENOTFOUND) {
                fprintf(stderr, "step %d: %s\n", i, rl_strerror(steps[i]));
                rc = steps[i];
            }
        }
    } else if (rc == RL_ENOMEM) {
        *saw_enomem = 1;
        rc = 0;
    }
    int rc2 = lim ? await rl_limiter_close(lim) : repo ? await rl_repo_close(repo) : 0;
    rl_set_allocator(NULL, NULL, NULL);
    alloc_budget = -1;
    return rc ? rc : rc2;
}

TEST(allocation_failures_are_reported_and_leak_nothing)
{
    (void)w;
    int saw = 0;
    for (long budget = 0; budget < 40; budget++)
        CHECK_EQ(await workload_under_budget(budget, &saw), 0);
    CHECK(saw);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Bounds (issue 12, point 1)                                                                   */
/* ------------------------------------------------------------------------------------------ */

TEST(amounts_are_bounded_at_ten_to_the_twelve_tokens)
{
    const int64_t max = RL_MAX_AMOUNT;
    rl_limit_t big, small = per_minute("rpm", 100);
    CHECK_EQ(rl_limit_custom(&big, "tpm", max, max, 60), 0);
    CHECK_EQ(rl_limit_custom(&big, "tpm", max + 1, max, 60), RL_ERANGE);
    CHECK_EQ(rl_limit_custom(&big, "tpm", max, max, 60), 0);
    rl_lease_t lease;
    rl_report_t report;
    /* The probe: 9,223,372,036,854,776 tokens on a 100/min limit. */
    rl_amount_t probe[] = {{"rpm", INT64_C(9223372036854776)}};
    CHECK_EQ(await acquire(w, &lease, "key-1", &small, 1, probe, 1, &report), RL_ERANGE);
    CHECK_EQ(report.error, RL_ERANGE);
    CHECK(strstr(report.message, "rpm") != NULL);
    rl_amount_t imax[] = {{"rpm", INT64_MAX}};
    CHECK_EQ(await acquire(w, &lease, "key-1", &small, 1, imax, 1, NULL), RL_ERANGE);
    CHECK_EQ(await available(w, "key-1", "gpt-4", &small, 1, "rpm"), 100);
    /* A name repeated: each part is in range, the sum is not. */
    rl_amount_t twice[] = {{"tpm", max}, {"tpm", 1}};
    CHECK_EQ(await acquire(w, &lease, "key-2", &big, 1, twice, 2, NULL), RL_ERANGE);
    CHECK_EQ(await available(w, "key-2", "gpt-4", &big, 1, "tpm"), max);
    /* Exactly the bound: granted, the bucket ends at 0, one more token is refused. */
    rl_amount_t all[] = {{"tpm", max}};
    CHECK_EQ(await acquire(w, &lease, "key-2", &big, 1, all, 1, NULL), 0);
    CHECK_EQ(await available(w, "key-2", "gpt-4", &big, 1, "tpm"), 0);
    /* Lease: adjust and release past the bound change nothing. */
    rl_amount_t over[] = {{"tpm", max + 1}};
    CHECK_EQ(rl_lease_adjust(&lease, over, 1), RL_ERANGE);
    CHECK_EQ(rl_lease_release(&lease, over, 1), RL_ERANGE);
    CHECK_EQ(rl_lease_consume(&lease, over, 1, NULL), RL_ERANGE);
    CHECK_EQ(rl_lease_consumed(&lease, "tpm", 0), max);
    rl_amount_t plus[] = {{"tpm", max}};
    CHECK_EQ(rl_lease_adjust(&lease, plus, 1), 0);  /* 2 * max */
    CHECK_EQ(rl_lease_adjust(&lease, plus, 1), 0);  /* 3 * max: the lease bound */
    CHECK_EQ(rl_lease_adjust(&lease, (rl_amount_t[]){{"tpm", 1}}, 1), RL_ERANGE);
    CHECK_EQ(rl_lease_consumed(&lease, "tpm", 0), 3 * max);
    /* adjust(+huge) never gives tokens back: the commit writes 2 * max of debt. */
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    CHECK_EQ(await available(w, "key-2", "gpt-4", &big, 1, "tpm"), -2 * max);
    /* A bucket that deep in debt refuses even a zero request: no second lease adds to it. */
    for (int k = 0; k < 3; k++) {
        rl_amount_t zero[] = {{"rpm", 0}};
        rl_limit_t both[2] = {big, small};
        CHECK_EQ(await acquire(w, &lease, "key-3", both, 2, zero, 1, NULL), k == 0 ? 0 : RL_EEXCEEDED);
        if (k == 0) {
            CHECK_EQ(rl_lease_adjust(&lease, (rl_amount_t[]){{"tpm", max}}, 1), 0);
            CHECK_EQ(rl_lease_adjust(&lease, (rl_amount_t[]){{"tpm", max}}, 1), 0);
            CHECK_EQ(rl_lease_adjust(&lease, (rl_amount_t[]){{"tpm", max}}, 1), 0);
            CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
        }
    }
    CHECK_EQ(await available(w, "key-3", "gpt-4", &big, 1, "tpm"), -2 * max);
    /* Capacity queries. */
    int64_t ms = 0;
    CHECK_EQ(await rl_limiter_time_until_available(w->lim, "key-4", "gpt-4", over, 1, &big, 1,
                                                   &ms, NULL),
             RL_ERANGE);
    CHECK_EQ(await rl_limiter_time_until_available(w->lim, "key-4", "gpt-4", twice, 2, &big, 1,
                                                   &ms, NULL),
             RL_ERANGE);
    CHECK_EQ(await rl_limiter_time_until_available(w->lim, "key-4", "gpt-4", all, 1, &big, 1, &ms,
                                                   NULL),
             0);
    CHECK_EQ(ms, 0);
    /* The backends (and the Redis script) refuse a delta past the bound before writing. */
    rl_bucket_set_t set;
    memset(&set, 0, sizeof set);
    set.entity_id = "key-5";
    set.resource = "gpt-4";
    set.count = 1;
    set.limits[0] = big;
    set.delta_milli[0] = RL_MAX_DELTA_MILLI + 1;
    rl_repo_t *repo = rl_limiter_repo(w->lim);
    bool granted = true;
    CHECK_EQ(await repo->ops->consume(repo, &set, 1, w->now, &granted), RL_ERANGE);
    CHECK_EQ(await repo->ops->adjust(repo, &set, 1, w->now), RL_ERANGE);
    CHECK_EQ(await available(w, "key-5", "gpt-4", &big, 1, "tpm"), max);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Reconciliation (issue 12, point 3)                                                           */
/* ------------------------------------------------------------------------------------------ */

static async int take(world_t *w, const char *entity, int64_t n)
{
    rl_amount_t a[] = {{"rpm", n}};
    rl_lease_t lease;
    int rc = await rl_limiter_acquire(w->lim, &lease, entity, "gpt-4", a, 1, NULL, NULL);
    if (rc == 0)
        rc = await rl_lease_commit(&lease, NULL);
    return rc;
}

TEST(deleting_custom_limits_reconciles_the_bucket_to_the_defaults)
{
    rl_limit_t ten = per_minute("rpm", 10), hundred = per_minute("rpm", 100);
    CHECK_EQ(await rl_limiter_set_resource_defaults(w->lim, "gpt-4", &ten, 1), 0);
    CHECK_EQ(await rl_limiter_set_limits(w->lim, "key-1", "gpt-4", &hundred, 1), 0);
    CHECK_EQ(await take(w, "key-1", 1), 0);
    CHECK_EQ(await available(w, "key-1", "gpt-4", NULL, 0, "rpm"), 99);
    /* The probe: after the delete 9 more are granted, not 99. */
    CHECK_EQ(await rl_limiter_delete_limits(w->lim, "key-1", "gpt-4"), 0);
    CHECK_EQ(await available(w, "key-1", "gpt-4", NULL, 0, "rpm"), 9);
    int granted = 0;
    for (int i = 0; i < 20; i++)
        granted += await take(w, "key-1", 1) == 0;
    CHECK_EQ(granted, 9);
    /* The refill follows the new parameters: 10/min is one token per 6 s. */
    w->now += 6000;
    CHECK_EQ(await available(w, "key-1", "gpt-4", NULL, 0, "rpm"), 1);
    return 0;
}

TEST(set_limits_lowering_capacity_clamps_tokens_and_replaces_refill)
{
    rl_limit_t hundred = per_minute("rpm", 100), slow;
    CHECK_EQ(rl_limit_custom(&slow, "rpm", 10, 1, 60), 0); /* 10 tokens, 1 per minute */
    CHECK_EQ(await rl_limiter_set_limits(w->lim, "key-1", "gpt-4", &hundred, 1), 0);
    CHECK_EQ(await take(w, "key-1", 3), 0);
    CHECK_EQ(await rl_limiter_set_limits(w->lim, "key-1", "gpt-4", &slow, 1), 0);
    CHECK_EQ(await available(w, "key-1", "gpt-4", NULL, 0, "rpm"), 7); /* 3 used stay used */
    w->now += 59000;
    CHECK_EQ(await available(w, "key-1", "gpt-4", NULL, 0, "rpm"), 7); /* not 100/min any more */
    w->now += 1000;
    CHECK_EQ(await available(w, "key-1", "gpt-4", NULL, 0, "rpm"), 8);
    /* A bucket used beyond the new capacity is empty, not in debt. */
    CHECK_EQ(await rl_limiter_set_limits(w->lim, "key-2", "gpt-4", &hundred, 1), 0);
    CHECK_EQ(await take(w, "key-2", 50), 0);
    CHECK_EQ(await rl_limiter_set_limits(w->lim, "key-2", "gpt-4", &slow, 1), 0);
    CHECK_EQ(await available(w, "key-2", "gpt-4", NULL, 0, "rpm"), 0);
    /* Raising the capacity keeps the tokens. */
    CHECK_EQ(await rl_limiter_set_limits(w->lim, "key-1", "gpt-4", &hundred, 1), 0);
    CHECK_EQ(await available(w, "key-1", "gpt-4", NULL, 0, "rpm"), 8);
    return 0;
}

TEST(changed_defaults_reconcile_buckets_that_resolve_to_them)
{
    rl_limit_t ten = per_minute("rpm", 10), five = per_minute("rpm", 5);
    CHECK_EQ(await rl_limiter_set_resource_defaults(w->lim, "gpt-4", &ten, 1), 0);
    CHECK_EQ(await take(w, "key-1", 2), 0);
    CHECK_EQ(await rl_limiter_set_resource_defaults(w->lim, "gpt-4", &five, 1), 0);
    CHECK_EQ(await available(w, "key-1", "gpt-4", NULL, 0, "rpm"), 3);
    CHECK_EQ(await take(w, "key-1", 3), 0);
    CHECK_EQ(await take(w, "key-1", 1), RL_EEXCEEDED);
    /* System defaults: the same once the resource defaults are gone. */
    CHECK_EQ(await rl_limiter_set_system_defaults(w->lim, &ten, 1, RL_ON_UNAVAILABLE_UNSET), 0);
    CHECK_EQ(await take(w, "key-2", 4), 0);
    CHECK_EQ(await rl_limiter_set_system_defaults(w->lim, &five, 1, RL_ON_UNAVAILABLE_UNSET), 0);
    CHECK_EQ(await available(w, "key-2", "gpt-4", NULL, 0, "rpm"), 1);
    CHECK_EQ(await take(w, "key-2", 2), RL_EEXCEEDED);
    CHECK_EQ(await take(w, "key-2", 1), 0);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Clocks and retry-after (issue 12, point 5)                                                   */
/* ------------------------------------------------------------------------------------------ */

/* Acquires n of a 10/min limit; the hint of a refusal in *hint. */
static async int try_ten(world_t *w, const char *entity, int64_t n, int64_t *hint)
{
    rl_limit_t ten = per_minute("rpm", 10);
    rl_amount_t a[] = {{"rpm", n}};
    rl_lease_t lease;
    rl_report_t report;
    int rc = await acquire(w, &lease, entity, &ten, 1, a, 1, &report);
    if (rc == 0)
        rc = await rl_lease_commit(&lease, NULL);
    if (rc == RL_EEXCEEDED)
        *hint = report.exceeded.retry_after_ms;
    return rc;
}

TEST(retry_after_holds_after_the_clock_steps_back)
{
    int64_t hint = 0;
    for (int64_t n = 1; n <= 10; n += 3) {
        char id[16];
        snprintf(id, sizeof id, "key-%d", (int)n);
        CHECK_EQ(await try_ten(w, id, 10, &hint), 0); /* drained at t0 */
        int64_t t0 = w->now;
        w->now -= 60000; /* the clock steps back a minute */
        CHECK_EQ(await try_ten(w, id, n, &hint), RL_EEXCEEDED);
        /* The probe gave 601 ms: now the minute is counted. */
        CHECK(hint > 60000);
        int64_t at = w->now + hint;
        int64_t later = 0;
        w->now = at - 1002; /* a second early: still refused (the hint is at most 1 ms late) */
        CHECK_EQ(await try_ten(w, id, n, &later), RL_EEXCEEDED);
        w->now = at;
        CHECK_EQ(await try_ten(w, id, n, &later), 0); /* at the hint: granted */
        w->now = t0 + 60000; /* the next entity starts with a clock past every timestamp */
    }
    /* time_until_available after a step back */
    CHECK_EQ(await try_ten(w, "key-x", 10, &hint), 0);
    w->now -= 30000;
    rl_limit_t ten = per_minute("rpm", 10);
    rl_amount_t one[] = {{"rpm", 1}};
    int64_t ms = 0;
    CHECK_EQ(await rl_limiter_time_until_available(w->lim, "key-x", "gpt-4", one, 1, &ten, 1, &ms,
                                                   NULL),
             0);
    CHECK_EQ(ms, 30000 + 6001);
    return 0;
}

/* Two hosts share the buckets; host B's clock is 5 s behind host A's. With max_clock_skew_ms
 * 5000 a hint from either host holds on both. The store is one, so switching w->now between
 * the hosts' readings is exactly what the two processes see. */
TEST_SKEW(retry_after_holds_between_hosts_whose_clocks_differ, 5000)
{
    const int64_t skew = 5000;
    int64_t a = w->now, hint = 0, dummy = 0;
    CHECK_EQ(await try_ten(w, "key-1", 10, &hint), 0); /* host A drains it */
    /* Host A's hint, obeyed, then served by host B (behind): granted. */
    CHECK_EQ(await try_ten(w, "key-1", 1, &hint), RL_EEXCEEDED);
    CHECK_EQ(hint, 6001 + skew);
    w->now = a - skew + hint; /* B's clock when the client comes back */
    CHECK_EQ(await try_ten(w, "key-1", 1, &dummy), 0);
    /* Host B's hint on a bucket host A wrote (its timestamp is ahead of B's clock). */
    w->now = a + 100000;
    CHECK_EQ(await try_ten(w, "key-2", 10, &hint), 0); /* A drains */
    int64_t b = w->now - skew;
    w->now = b;
    CHECK_EQ(await try_ten(w, "key-2", 1, &hint), RL_EEXCEEDED);
    CHECK(hint >= skew + 6001);
    w->now = b + hint; /* served by B again */
    CHECK_EQ(await try_ten(w, "key-2", 1, &dummy), 0);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Bounded state (issue 12, point 2)                                                            */
/* ------------------------------------------------------------------------------------------ */

/* PTTL of one of this world's keys (Redis only). */
static long long pttl(world_t *w, const char *key)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "PTTL %s%s", w->prefix, key);
    return on_cluster ? rl_test_cluster_int(&cluster, cmd) : rl_test_redis_int(&server, cmd);
}

TEST(bucket_keys_expire_when_full_again_entity_and_config_keys_never)
{
    rl_limit_t ten = per_minute("rpm", 10), slow;
    CHECK_EQ(rl_limit_custom(&slow, "tpd", 100, 100, 86400), 0);
    CHECK_EQ(await rl_limiter_create_entity(w->lim, "key-1", NULL, NULL, false), 0);
    rl_limit_t both[2] = {ten, slow};
    CHECK_EQ(await rl_limiter_set_limits(w->lim, "key-1", "gpt-4", both, 2), 0);
    rl_amount_t a[] = {{"rpm", 10}, {"tpd", 1}};
    rl_lease_t lease;
    CHECK_EQ(await rl_limiter_acquire(w->lim, &lease, "key-1", "gpt-4", a, 2, NULL, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    /* No fixed number of limits per bucket: 3 rounds of 8 new names on one entity+resource. */
    for (int round = 0; round < 3; round++) {
        rl_limit_t many[RL_MAX_LIMITS];
        rl_amount_t one[RL_MAX_LIMITS];
        char names[RL_MAX_LIMITS][16];
        for (int i = 0; i < RL_MAX_LIMITS; i++) {
            snprintf(names[i], sizeof names[i], "l%d_%d", round, i);
            CHECK_EQ(rl_limit_custom(&many[i], names[i], 1000, 1000, 60), 0);
            one[i].name = names[i];
            one[i].amount = 1;
        }
        CHECK_EQ(await acquire(w, &lease, "key-9", many, RL_MAX_LIMITS, one, RL_MAX_LIMITS, NULL),
                 0);
        CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    }
    if (strcmp(backend, "redis") != 0)
        return 0;
    /* The slowest bucket written (1 of 100 per day used: 864 s to refill) sets the TTL. */
    long long t = pttl(w, "b#{key-1}#key-1#gpt-4");
    CHECK(t > 864000 && t <= 864001 + 1000);
    CHECK_EQ(pttl(w, "e#{key-1}"), -1);
    CHECK_EQ(pttl(w, "c#e#{key-1}#gpt-4"), -1);
    /* A later, shorter write keeps the longer TTL (it covers the untouched bucket). */
    rl_amount_t r1[] = {{"rpm", 0}};
    w->now += 60000;
    CHECK_EQ(await rl_limiter_acquire(w->lim, &lease, "key-1", "gpt-4", r1, 1, NULL, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    CHECK(pttl(w, "b#{key-1}#key-1#gpt-4") > 800000);
    /* A fast bucket gets a short TTL: a drained 10/min bucket is full after 60 s. */
    CHECK_EQ(await acquire(w, &lease, "key-2", &ten, 1, a, 1, NULL), 0);
    t = pttl(w, "b#{key-2}#key-2#gpt-4");
    CHECK(t > 60000 && t <= 61001);
    return 0;
}

/* Issue 12, point 6: a cascade's buckets share their root's hash tag, so a grandchild that
 * cascades twice draws from one Redis Cluster slot. */
TEST(buckets_of_a_cascading_tree_carry_their_roots_tag)
{
    CHECK_EQ(await rl_limiter_create_entity(w->lim, "proj-1", NULL, NULL, false), 0);
    CHECK_EQ(await rl_limiter_create_entity(w->lim, "team-1", NULL, "proj-1", true), 0);
    CHECK_EQ(await rl_limiter_create_entity(w->lim, "key-1", NULL, "team-1", true), 0);
    CHECK_EQ(await rl_limiter_create_entity(w->lim, "key-2", NULL, "team-1", false), 0);
    static const char *const ids[][2] = {
        {"proj-1", "proj-1"}, {"team-1", "proj-1"}, {"key-1", "proj-1"}, {"key-2", "key-2"}};
    for (size_t i = 0; i < 4; i++) {
        rl_entity_t e;
        CHECK_EQ(await rl_limiter_get_entity(w->lim, ids[i][0], &e), 0);
        CHECK_STR(e.root_id, ids[i][1]);
    }
    rl_limit_t l = per_minute("rpm", 100);
    rl_amount_t one[] = {{"rpm", 1}};
    rl_lease_t lease;
    CHECK_EQ(await acquire(w, &lease, "key-1", &l, 1, one, 1, NULL), 0); /* key-1 + team-1 */
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    CHECK_EQ(await acquire(w, &lease, "team-1", &l, 1, one, 1, NULL), 0); /* team-1 + proj-1 */
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    CHECK_EQ(await acquire(w, &lease, "key-2", &l, 1, one, 1, NULL), 0); /* key-2 alone */
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    CHECK_EQ(await available(w, "team-1", "gpt-4", &l, 1, "rpm"), 98);
    CHECK_EQ(await available(w, "proj-1", "gpt-4", &l, 1, "rpm"), 99);
    CHECK_EQ(await available(w, "key-2", "gpt-4", &l, 1, "rpm"), 99);
    if (strcmp(backend, "redis") != 0)
        return 0;
    CHECK(pttl(w, "b#{proj-1}#key-1#gpt-4") > 0);
    CHECK(pttl(w, "b#{proj-1}#team-1#gpt-4") > 0);
    CHECK(pttl(w, "b#{proj-1}#proj-1#gpt-4") > 0);
    CHECK(pttl(w, "b#{key-2}#key-2#gpt-4") > 0);
    CHECK_EQ(pttl(w, "e#{key-1}"), -1); /* the record stays in the entity's own slot */
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        backend = argv[1];
    if (strcmp(backend, "redis-tcp") == 0) {
        backend = "redis"; /* the same suite over TCP, in database 1 (SELECT) */
        server.tcp = 1;
    }
    if (strcmp(backend, "cluster") == 0) {
        backend = "redis"; /* the same suite on a Redis Cluster, routed by slot */
        on_cluster = true;
        if (rl_test_cluster_start(&cluster) != 0)
            return 1;
        redis_url = rl_test_cluster_url(&cluster);
    } else if (strcmp(backend, "redis") == 0) {
        if (rl_test_redis_start(&server) != 0)
            return 1;
        redis_url = server.url;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(acquire_records_consumption),
        cmocka_unit_test(over_limit_reports_one_violation_with_exact_retry),
        cmocka_unit_test(every_limit_gets_a_status),
        cmocka_unit_test(rollback_gives_back_the_initial_consumption),
        cmocka_unit_test(drained_bucket_recovers_after_refill),
        cmocka_unit_test(acquire_writes_before_the_body_runs),
        cmocka_unit_test(bad_entity_or_resource_is_rejected),
        cmocka_unit_test(no_limits_anywhere_is_an_error_naming_entity_and_resource),
        cmocka_unit_test(lease_consume_is_checked),
        cmocka_unit_test(lease_adjust_and_release_are_unchecked),
        cmocka_unit_test(zero_amounts_are_skipped),
        cmocka_unit_test(finished_lease_refuses_everything),
        cmocka_unit_test(net_consumption_counter_follows_the_lease),
        cmocka_unit_test(interleaved_leases_lose_no_update),
        cmocka_unit_test(rejection_reports_pre_request_tokens),
        cmocka_unit_test(cascade_consumes_from_parent_too),
        cmocka_unit_test(parent_limit_blocks_the_child),
        cmocka_unit_test(cascade_without_parent_is_harmless),
        cmocka_unit_test(cascade_writes_both_on_enter_and_rolls_back_both),
        cmocka_unit_test(limit_resolution_follows_the_documented_order),
        cmocka_unit_test(resource_default_capacity_and_wait),
        cmocka_unit_test(available_and_time_until_available_after_use),
        cmocka_unit_test(second_acquire_of_a_one_per_minute_limit_fails),
        cmocka_unit_test(last_token_can_be_taken),
        cmocka_unit_test(stored_parameters_win_until_set_limits_pushes_new_ones),
        cmocka_unit_test(entities_are_created_listed_and_deleted),
        cmocka_unit_test(system_defaults_keep_on_unavailable),
        cmocka_unit_test(list_queries_find_stored_configs),
        cmocka_unit_test(cache_refetches_after_its_ttl),
        cmocka_unit_test(cache_remembers_that_nothing_is_configured),
        cmocka_unit_test(invalidate_empties_the_cache_and_forces_fetches),
        cmocka_unit_test(batch_fetches_only_the_missing_slots),
        cmocka_unit_test(zero_ttl_fetches_every_time),
        cmocka_unit_test(set_limits_evicts_the_cached_slot),
        cmocka_unit_test(allocation_failures_are_reported_and_leak_nothing),
        cmocka_unit_test(amounts_are_bounded_at_ten_to_the_twelve_tokens),
        cmocka_unit_test(deleting_custom_limits_reconciles_the_bucket_to_the_defaults),
        cmocka_unit_test(set_limits_lowering_capacity_clamps_tokens_and_replaces_refill),
        cmocka_unit_test(changed_defaults_reconcile_buckets_that_resolve_to_them),
        cmocka_unit_test(retry_after_holds_after_the_clock_steps_back),
        cmocka_unit_test(retry_after_holds_between_hosts_whose_clocks_differ),
        cmocka_unit_test(bucket_keys_expire_when_full_again_entity_and_config_keys_never),
        cmocka_unit_test(buckets_of_a_cascading_tree_carry_their_roots_tag),
    };
    char name[64];
    snprintf(name, sizeof name, "limiter_%s%s", on_cluster ? "cluster" : backend,
             server.tcp ? "_tcp" : "");
    int failed = cmocka_run_group_tests_name(name, tests, NULL, NULL);
    if (on_cluster)
        rl_test_cluster_stop(&cluster);
    else if (strcmp(backend, "redis") == 0)
        rl_test_redis_stop(&server);
    return failed;
}
