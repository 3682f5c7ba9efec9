/* Redis faults, written async with a generated sync twin: the server is killed or frozen mid-run
 * and brought back; calls fail with RL_EUNAVAILABLE (or get an empty lease under allow), nothing
 * leaks, and the limiter recovers without being reopened. The server keeps its data in an fsync'd
 * AOF. SIGPIPE keeps its default action throughout: the runtime must not raise it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <unasync/async.h>

#include <unasync/limiter/limiter.h>
#include <unasync/limiter/redis.h>

#include "redis_server.h"
#include "rl_testutil.h"

static rl_test_redis_t server;
static int warnings;

static void count_warning(void *ctx, const char *message)
{
    (void)ctx;
    (void)message;
    warnings++;
}

typedef struct world {
    int64_t timeout_ms; /* rl_options_t.timeout_ms; 0: the default */
    int64_t now;
    rl_clock_t clock;
    rl_limiter_t *lim;
    async int (*body)(struct world *w);
} world_t;

static async int run_world(void *arg)
{
    world_t *w = arg;
    rl_options_t opts;
    rl_options_init(&opts);
    w->clock = rl_manual_clock(&w->now);
    opts.clock = &w->clock;
    opts.key_prefix = rl_test_prefix();
    opts.timeout_ms = w->timeout_ms;
    rl_repo_t *repo;
    int rc = await rl_redis_open(&repo, server.url, &opts);
    if (rc == 0)
        rc = rl_limiter_open(&w->lim, repo);
    if (rc)
        return rc;
    rl_limiter_set_warn(w->lim, count_warning, NULL);
    rc = await w->body(w);
    int rc2 = await rl_limiter_close(w->lim);
    return rc ? rc : rc2;
}

static void run(async int (*body)(world_t *w), int64_t timeout_ms)
{
    world_t w;
    memset(&w, 0, sizeof w);
    w.timeout_ms = timeout_ms;
    w.now = 1700000000000LL;
    w.body = body;
    warnings = 0;
    int rc = async_run(run_world, &w);
    rl_test_redis_pause(&server, 0);
    if (server.pid == 0)
        rl_test_redis_restart(&server); /* a failed body must not leave the next test without */
    assert_int_equal(rc, 0);
}

/* A test whose limiter waits at most timeout_ms for the server (0: the default). */
#define TEST_TIMEOUT(name, timeout_ms)                                                             \
    static async int name##_body(world_t *w);                                                      \
    static void name(void **state)                                                                 \
    {                                                                                              \
        (void)state;                                                                               \
        run(name##_body, timeout_ms);                                                              \
    }                                                                                              \
    static async int name##_body(world_t *w)

#define TEST(name) TEST_TIMEOUT(name, 0)

static rl_limit_t rpm100(void)
{
    rl_limit_t l;
    rl_limit_per_minute(&l, "rpm", 100, 0);
    return l;
}

static async int64_t tokens_left(world_t *w, const rl_limit_t *l)
{
    rl_capacity_t cap;
    int rc = await rl_limiter_available(w->lim, "key-1", "gpt-4", l, 1, &cap, NULL);
    return rc ? INT64_MIN : cap.available[0];
}

TEST(killed_server_makes_acquire_unavailable_then_recovers)
{
    rl_limit_t l = rpm100();
    rl_amount_t one[] = {{"rpm", 1}};
    rl_acquire_options_t block = {&l, 1, RL_ON_UNAVAILABLE_UNSET};
    rl_lease_t lease;
    rl_report_t report;
    CHECK_EQ(await rl_limiter_acquire(w->lim, &lease, "key-1", "gpt-4", one, 1, &block, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);

    rl_test_redis_kill(&server, 1);
    CHECK(!await rl_limiter_is_available(w->lim));
    CHECK_EQ(await rl_limiter_acquire(w->lim, &lease, "key-1", "gpt-4", one, 1, &block, &report),
             RL_EUNAVAILABLE);
    CHECK(report.cause != 0);
    CHECK(strstr(report.message, "key-1") != NULL);
    CHECK_EQ(lease.state, RL_STATE_IDLE);
    /* every call keeps failing cleanly while the server is away */
    for (int i = 0; i < 3; i++)
        CHECK_EQ(await rl_limiter_acquire(w->lim, &lease, "key-1", "gpt-4", one, 1, &block, NULL),
                 RL_EUNAVAILABLE);

    CHECK_EQ(rl_test_redis_restart(&server), 0);
    CHECK(await rl_limiter_is_available(w->lim));
    CHECK_EQ(await rl_limiter_acquire(w->lim, &lease, "key-1", "gpt-4", one, 1, &block, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    CHECK_EQ(await tokens_left(w, &l), 98); /* the AOF kept the first token */
    return 0;
}

TEST(allow_gives_an_empty_lease_and_per_call_overrides_the_system)
{
    rl_limit_t l = rpm100();
    rl_amount_t one[] = {{"rpm", 1}};
    CHECK_EQ(await rl_limiter_set_system_defaults(w->lim, &l, 1, RL_ON_UNAVAILABLE_ALLOW), 0);
    rl_lease_t lease;
    /* resolve once so the system config (and its on_unavailable) is cached */
    CHECK_EQ(await rl_limiter_acquire(w->lim, &lease, "key-1", "gpt-4", one, 1, NULL, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);

    rl_test_redis_kill(&server, 1);
    /* the entity record is not cached yet for key-2: that read fails, allow applies */
    CHECK_EQ(await rl_limiter_acquire(w->lim, &lease, "key-2", "gpt-4", one, 1, NULL, NULL), 0);
    CHECK(lease.noop);
    CHECK_EQ(lease.nsets, 0);
    CHECK_EQ(rl_lease_consumed(&lease, "rpm", -1), 0);
    CHECK_EQ(rl_lease_consume(&lease, one, 1, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    /* per call block beats the system's allow */
    rl_acquire_options_t block = {NULL, 0, RL_ON_UNAVAILABLE_BLOCK};
    rl_report_t report;
    CHECK_EQ(await rl_limiter_acquire(w->lim, &lease, "key-1", "gpt-4", one, 1, &block, &report),
             RL_EUNAVAILABLE);
    CHECK_EQ(report.error, RL_EUNAVAILABLE);
    CHECK_EQ(rl_lease_adjust(&lease, one, 1), RL_ELEASE);
    CHECK_EQ(rl_test_redis_restart(&server), 0);

    /* and per call allow beats a system block */
    CHECK_EQ(await rl_limiter_set_system_defaults(w->lim, &l, 1, RL_ON_UNAVAILABLE_BLOCK), 0);
    CHECK_EQ(await rl_limiter_acquire(w->lim, &lease, "key-3", "gpt-4", one, 1, NULL, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    rl_test_redis_kill(&server, 1);
    rl_acquire_options_t allow = {NULL, 0, RL_ON_UNAVAILABLE_ALLOW};
    CHECK_EQ(await rl_limiter_acquire(w->lim, &lease, "key-4", "gpt-4", one, 1, &allow, NULL), 0);
    CHECK(lease.noop);
    CHECK_EQ(await rl_lease_rollback(&lease), 0);
    CHECK_EQ(await rl_limiter_acquire(w->lim, &lease, "key-4", "gpt-4", one, 1, NULL, NULL),
             RL_EUNAVAILABLE);
    CHECK_EQ(rl_test_redis_restart(&server), 0);
    return 0;
}

TEST(failed_commit_keeps_the_lease_and_rollback_undoes_only_the_initial_amount)
{
    rl_limit_t l = rpm100();
    rl_amount_t ten[] = {{"rpm", 10}}, five[] = {{"rpm", 5}};
    rl_acquire_options_t opts = {&l, 1, RL_ON_UNAVAILABLE_UNSET};
    rl_lease_t lease;
    rl_report_t report;
    CHECK_EQ(await rl_limiter_acquire(w->lim, &lease, "key-1", "gpt-4", ten, 1, &opts, NULL), 0);
    CHECK_EQ(rl_lease_consume(&lease, five, 1, NULL), 0);
    rl_test_redis_kill(&server, 1);
    CHECK_EQ(await rl_lease_commit(&lease, &report), RL_EBACKEND);
    CHECK(report.cause != 0);
    CHECK_EQ(lease.state, RL_STATE_ACTIVE);
    CHECK_EQ(rl_test_redis_restart(&server), 0);
    CHECK_EQ(await rl_lease_rollback(&lease), 0);
    CHECK_EQ(lease.last_error, 0);
    CHECK_EQ(warnings, 0);
    CHECK_EQ(await tokens_left(w, &l), 100);
    return 0;
}

TEST(failed_rollback_warns_and_returns_zero)
{
    rl_limit_t l = rpm100();
    rl_amount_t ten[] = {{"rpm", 10}};
    rl_acquire_options_t opts = {&l, 1, RL_ON_UNAVAILABLE_UNSET};
    rl_lease_t lease;
    CHECK_EQ(await rl_limiter_acquire(w->lim, &lease, "key-1", "gpt-4", ten, 1, &opts, NULL), 0);
    rl_test_redis_kill(&server, 1);
    CHECK_EQ(await rl_lease_rollback(&lease), 0);
    CHECK_EQ(lease.last_error, RL_EBACKEND);
    CHECK_EQ(lease.state, RL_STATE_ROLLED_BACK);
    CHECK_EQ(warnings, 1);
    CHECK_EQ(rl_test_redis_restart(&server), 0);
    CHECK_EQ(await tokens_left(w, &l), 90); /* the rollback never reached the server */
    return 0;
}

TEST(script_is_reloaded_after_script_flush)
{
    rl_limit_t l = rpm100();
    rl_amount_t one[] = {{"rpm", 1}};
    rl_acquire_options_t opts = {&l, 1, RL_ON_UNAVAILABLE_UNSET};
    rl_lease_t lease;
    CHECK_EQ(await rl_limiter_acquire(w->lim, &lease, "key-1", "gpt-4", one, 1, &opts, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    /* the live connection's next EVALSHA gets NOSCRIPT and loads the script again */
    CHECK_EQ(rl_test_redis_command(&server, "SCRIPT FLUSH"), 0);
    CHECK_EQ(await rl_limiter_acquire(w->lim, &lease, "key-1", "gpt-4", one, 1, &opts, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    CHECK_EQ(await tokens_left(w, &l), 98);
    return 0;
}

TEST(graceful_restart_costs_one_failed_call)
{
    rl_limit_t l = rpm100();
    rl_amount_t one[] = {{"rpm", 1}};
    rl_acquire_options_t opts = {&l, 1, RL_ON_UNAVAILABLE_UNSET};
    rl_lease_t lease;
    CHECK_EQ(await rl_limiter_acquire(w->lim, &lease, "key-1", "gpt-4", one, 1, &opts, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    rl_test_redis_kill(&server, 0);
    CHECK_EQ(rl_test_redis_restart(&server), 0);
    /* the old connection is dead: at most one call fails, then the limiter reconnects */
    int rc = await rl_limiter_acquire(w->lim, &lease, "key-1", "gpt-4", one, 1, &opts, NULL);
    CHECK(rc == 0 || rc == RL_EUNAVAILABLE);
    if (rc == RL_EUNAVAILABLE)
        rc = await rl_limiter_acquire(w->lim, &lease, "key-1", "gpt-4", one, 1, &opts, NULL);
    CHECK_EQ(rc, 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    CHECK_EQ(await tokens_left(w, &l), 98);
    return 0;
}

TEST_TIMEOUT(frozen_server_times_out_under_block_and_allow_then_recovers, 500)
{
    rl_limit_t l = rpm100();
    rl_amount_t one[] = {{"rpm", 1}};
    rl_acquire_options_t block = {&l, 1, RL_ON_UNAVAILABLE_BLOCK};
    rl_acquire_options_t allow = {&l, 1, RL_ON_UNAVAILABLE_ALLOW};
    rl_lease_t lease;
    rl_report_t report;
    CHECK_EQ(await rl_limiter_acquire(w->lim, &lease, "key-1", "gpt-4", one, 1, &block, NULL), 0);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);

    /* The server accepts connections and never answers: without timeout_ms this would hang.
     * 500 ms leaves a loaded machine's server time to answer once it is resumed. */
    rl_test_redis_pause(&server, 1);
    /* on the live connection: the consuming script times out */
    CHECK_EQ(await rl_limiter_acquire(w->lim, &lease, "key-1", "gpt-4", one, 1, &block, &report),
             RL_EUNAVAILABLE);
    CHECK_EQ(report.cause, UNASYNC_ETIMEDOUT);
    CHECK_EQ(lease.state, RL_STATE_IDLE);
    /* on a new connection (the kernel completes it): loading the script times out */
    CHECK_EQ(await rl_limiter_acquire(w->lim, &lease, "key-1", "gpt-4", one, 1, &block, &report),
             RL_EUNAVAILABLE);
    CHECK_EQ(report.cause, UNASYNC_ETIMEDOUT);
    CHECK_EQ(await rl_limiter_acquire(w->lim, &lease, "key-1", "gpt-4", one, 1, &allow, NULL), 0);
    CHECK(lease.noop);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    CHECK(!await rl_limiter_is_available(w->lim));

    rl_test_redis_pause(&server, 0);
    CHECK(await rl_limiter_is_available(w->lim));
    CHECK_EQ(await rl_limiter_acquire(w->lim, &lease, "key-1", "gpt-4", one, 1, &block, NULL), 0);
    CHECK(!lease.noop);
    CHECK_EQ(await rl_lease_commit(&lease, NULL), 0);
    return 0;
}

/* Opening against a black hole (SYNs dropped) ends after timeout_ms instead of the kernel's
 * minutes of retries. */
static async int open_black_hole_body(void *arg)
{
    struct black_hole *hole = arg;
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", hole->port);
    rl_options_t opts;
    rl_options_init(&opts);
    opts.timeout_ms = 100;
    rl_repo_t *repo = (rl_repo_t *)&repo;
    CHECK_EQ(await rl_redis_open(&repo, url, &opts), RL_EBACKEND);
    return 0;
}

static void open_against_a_black_hole_fails_after_the_timeout(void **state)
{
    (void)state;
    struct black_hole hole;
    assert_int_equal(black_hole_open(&hole), 0);
    int rc = async_run(open_black_hole_body, &hole);
    black_hole_close(&hole);
    assert_int_equal(rc, 0);
}

int main(void)
{
    server.aof = 1;
    if (rl_test_redis_start(&server) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(killed_server_makes_acquire_unavailable_then_recovers),
        cmocka_unit_test(allow_gives_an_empty_lease_and_per_call_overrides_the_system),
        cmocka_unit_test(failed_commit_keeps_the_lease_and_rollback_undoes_only_the_initial_amount),
        cmocka_unit_test(failed_rollback_warns_and_returns_zero),
        cmocka_unit_test(script_is_reloaded_after_script_flush),
        cmocka_unit_test(graceful_restart_costs_one_failed_call),
        cmocka_unit_test(frozen_server_times_out_under_block_and_allow_then_recovers),
        cmocka_unit_test(open_against_a_black_hole_fails_after_the_timeout),
    };
    int failed = cmocka_run_group_tests_name("limiter_faults", tests, NULL, NULL);
    rl_test_redis_stop(&server);
    return failed;
}
