/* One program linking the async limiter and its generated sync twin: both APIs, one process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <unasync/async.h>
#include <unasync/sync.h>

#include <unasync/limiter/limiter.h>
#include <unasync/limiter/memory.h>
#include <unasync/limiter/redis.h>
#include <unasync/limiter/sync_limiter.h>
#include <unasync/limiter/sync_memory.h>
#include <unasync/limiter/sync_redis.h>

#include "rl_testutil.h"

static rl_test_redis_t server;
static char prefix[64];

/* The async half: takes 3 tokens on the shared Redis bucket, reports what it sees. */
static async int async_side(void *arg)
{
    int64_t *seen = arg;
    rl_options_t opts;
    rl_options_init(&opts);
    opts.key_prefix = prefix;
    rl_repo_t *repo;
    int rc = await rl_redis_open(&repo, server.url, &opts);
    if (rc)
        return rc;
    rl_limiter_t *lim;
    if ((rc = rl_limiter_open(&lim, repo)) != 0)
        return rc;
    rl_limit_t l;
    rl_limit_per_minute(&l, "rpm", 100, 0);
    rl_amount_t three[] = {{"rpm", 3}};
    rl_acquire_options_t o = {&l, 1, RL_ON_UNAVAILABLE_UNSET};
    rl_lease_t lease;
    rc = await rl_limiter_acquire(lim, &lease, "key-1", "gpt-4", three, 1, &o, NULL);
    if (rc == 0)
        rc = await rl_lease_commit(&lease, NULL);
    rl_capacity_t cap;
    if (rc == 0)
        rc = await rl_limiter_available(lim, "key-1", "gpt-4", &l, 1, &cap, NULL);
    *seen = rc == 0 ? cap.available[0] : -1;
    int rc2 = await rl_limiter_close(lim);
    return rc ? rc : rc2;
}

static void both_apis_share_one_redis_bucket(void **state)
{
    (void)state;
    snprintf(prefix, sizeof prefix, "%s", rl_test_prefix());
    rl_options_t opts;
    rl_options_init(&opts);
    opts.key_prefix = prefix;
    rl_sync_repo_t *repo;
    assert_int_equal(rl_sync_redis_open(&repo, server.url, &opts), 0);
    rl_sync_limiter_t *lim;
    assert_int_equal(rl_sync_limiter_open(&lim, repo), 0);
    rl_limit_t l;
    rl_limit_per_minute(&l, "rpm", 100, 0);
    rl_amount_t five[] = {{"rpm", 5}};
    rl_acquire_options_t o = {&l, 1, RL_ON_UNAVAILABLE_UNSET};
    rl_sync_lease_t lease;
    assert_int_equal(rl_sync_limiter_acquire(lim, &lease, "key-1", "gpt-4", five, 1, &o, NULL), 0);
    assert_int_equal(rl_sync_lease_commit(&lease, NULL), 0);
    int64_t seen = 0;
    assert_int_equal(async_run(async_side, &seen), 0);
    assert_int_equal(seen, 92); /* the async side saw the sync side's 5 and its own 3 */
    rl_capacity_t cap;
    assert_int_equal(rl_sync_limiter_available(lim, "key-1", "gpt-4", &l, 1, &cap, NULL), 0);
    assert_int_equal(cap.available[0], 92);
    assert_int_equal(rl_sync_limiter_close(lim), 0);
}

/* The shared types are one: an exceeded result from either API reads the same. */
static async int async_memory(void *arg)
{
    rl_report_t *report = arg;
    rl_repo_t *repo;
    rl_limiter_t *lim;
    if (rl_memory_open(&repo, NULL) || rl_limiter_open(&lim, repo))
        return -1;
    rl_limit_t l;
    rl_limit_per_minute(&l, "rpm", 10, 0);
    rl_amount_t twenty[] = {{"rpm", 20}};
    rl_acquire_options_t o = {&l, 1, RL_ON_UNAVAILABLE_UNSET};
    rl_lease_t lease;
    int rc = await rl_limiter_acquire(lim, &lease, "key-1", NULL, twenty, 1, &o, report);
    await rl_limiter_close(lim);
    return rc == RL_EEXCEEDED ? 0 : -1;
}

static void both_apis_report_the_same_exceeded_result(void **state)
{
    (void)state;
    rl_report_t a, s;
    assert_int_equal(async_run(async_memory, &a), 0);
    rl_sync_repo_t *repo;
    rl_sync_limiter_t *lim;
    assert_int_equal(rl_sync_memory_open(&repo, NULL), 0);
    assert_int_equal(rl_sync_limiter_open(&lim, repo), 0);
    rl_limit_t l;
    rl_limit_per_minute(&l, "rpm", 10, 0);
    rl_amount_t twenty[] = {{"rpm", 20}};
    rl_acquire_options_t o = {&l, 1, RL_ON_UNAVAILABLE_UNSET};
    rl_sync_lease_t lease;
    assert_int_equal(rl_sync_limiter_acquire(lim, &lease, "key-1", NULL, twenty, 1, &o, &s),
                     RL_EEXCEEDED);
    assert_int_equal(rl_sync_limiter_close(lim), 0);
    assert_string_equal(a.message, s.message);
    assert_int_equal(a.exceeded.retry_after_ms, s.exceeded.retry_after_ms);
    assert_int_equal(a.exceeded.retry_after_ms, 60001);
}

int main(void)
{
    if (rl_test_redis_start(&server) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(both_apis_share_one_redis_bucket),
        cmocka_unit_test(both_apis_report_the_same_exceeded_result),
    };
    int failed = cmocka_run_group_tests_name("limiter_both", tests, NULL, NULL);
    rl_test_redis_stop(&server);
    return failed;
}
