/* The cache never lets a cascade skip its parent (issue 12, point 4), written async with a
 * generated sync twin: two processes share a Redis key prefix, each with its own repository and
 * config cache (60 s TTL). Process A caches "no such entity" for a child, then acquires for it in
 * a loop while process B creates the child with a cascade to a parent limited to 1/min. Once B
 * has created it, A's acquires must charge the parent: at most one more is granted. Creation is
 * atomic (one script), so A never sees half an entity. Usage: test_race (starts redis-server). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>
#include <unasync/async.h>

#include <unasync/limiter/limiter.h>
#include <unasync/limiter/redis.h>

#include "rl_testutil.h"

static rl_test_redis_t server;
static char prefix[64];
static int go[2], done[2]; /* A -> B: the child is cached as missing; B -> A: created */

/* Pipe signals between the processes. Plain functions: B's wait may block its only task, A's
 * polls a non-blocking pipe between acquires. */
static int signal_fd(int fd, char c)
{
    return write(fd, &c, 1) == 1 ? 0 : -1;
}

static int wait_fd(int fd)
{
    char c;
    return read(fd, &c, 1) == 1 ? 0 : -1;
}

static async int open_limiter(rl_limiter_t **lim)
{
    rl_options_t opts;
    rl_options_init(&opts);
    opts.key_prefix = prefix;
    opts.cache_ttl_ms = 60000;
    rl_repo_t *repo;
    int rc = await rl_redis_open(&repo, server.url, &opts);
    return rc ? rc : rl_limiter_open(lim, repo);
}

static async int take(rl_limiter_t *lim)
{
    rl_amount_t one[] = {{"rpm", 1}};
    rl_lease_t lease;
    int rc = await rl_limiter_acquire(lim, &lease, "child", "gpt-4", one, 1, NULL, NULL);
    if (rc == 0)
        rc = await rl_lease_commit(&lease, NULL);
    return rc;
}

/* Process A. */
static async int acquirer(void *arg)
{
    int *after = arg;
    rl_limiter_t *lim;
    CHECK_EQ(await open_limiter(&lim), 0);
    rl_limit_t many, one;
    CHECK_EQ(rl_limit_per_minute(&many, "rpm", 1000, 0), 0);
    CHECK_EQ(rl_limit_per_minute(&one, "rpm", 1, 0), 0);
    CHECK_EQ(await rl_limiter_set_system_defaults(lim, &many, 1, RL_ON_UNAVAILABLE_UNSET), 0);
    CHECK_EQ(await rl_limiter_create_entity(lim, "parent", NULL, NULL, false), 0);
    CHECK_EQ(await rl_limiter_set_limits(lim, "parent", "gpt-4", &one, 1), 0);
    CHECK_EQ(await take(lim), 0); /* "child" is not an entity yet: cached as missing */
    rl_entity_t e;
    CHECK_EQ(await rl_limiter_get_entity(lim, "child", &e), RL_ENOTFOUND);
    CHECK_EQ(signal_fd(go[1], 'g'), 0);
    /* Race B's create: acquire until B says it is done, then five more. */
    int before = 0;
    for (int spins = 0; wait_fd(done[0]) != 0; spins++) {
        CHECK(spins < 200000);
        before += await take(lim) == 0;
    }
    for (int i = 0; i < 5; i++)
        *after += await take(lim) == 0;
    /* The parent's one token went to a cascading acquire, before or after B said done. */
    rl_capacity_t cap;
    cap.available[0] = -1;
    int rc1 = await rl_limiter_available(lim, "parent", "gpt-4", NULL, 0, &cap, NULL);
    int rc2 = await rl_limiter_get_entity(lim, "child", &e);
    CHECK_EQ(await rl_limiter_close(lim), 0); /* before any check can fail: nothing left open */
    fprintf(stderr, "race: %d granted while B created the child, %d of 5 after\n", before,
            *after);
    CHECK_EQ(rc1, 0);
    CHECK_EQ(cap.available[0], 0);
    CHECK_EQ(rc2, 0);
    CHECK_STR(e.parent_id, "parent");
    CHECK(e.cascade);
    return 0;
}

/* Process B. */
static async int creator(void *arg)
{
    (void)arg;
    CHECK_EQ(wait_fd(go[0]), 0);
    rl_limiter_t *lim;
    CHECK_EQ(await open_limiter(&lim), 0);
    CHECK_EQ(await rl_limiter_create_entity(lim, "child", NULL, "parent", true), 0);
    /* Creating it again, or a child of a missing parent, fails and changes nothing. */
    CHECK_EQ(await rl_limiter_create_entity(lim, "child", NULL, "parent", true), RL_EEXIST);
    CHECK_EQ(await rl_limiter_create_entity(lim, "orphan", NULL, "nobody", true), RL_ENOTFOUND);
    rl_entity_t e;
    CHECK_EQ(await rl_limiter_get_entity(lim, "orphan", &e), RL_ENOTFOUND);
    CHECK_EQ(signal_fd(done[1], 'd'), 0);
    return await rl_limiter_close(lim);
}

static void a_cached_missing_entity_never_skips_its_new_parent(void **state)
{
    (void)state;
    snprintf(prefix, sizeof prefix, "%s", rl_test_prefix());
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(done), 0);
    assert_int_equal(fcntl(done[0], F_SETFL, O_NONBLOCK), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(async_run(creator, NULL) == 0 ? 0 : 1);
    int after = 0;
    int rc = async_run(acquirer, &after);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(rc, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(after <= 1);
    for (int i = 0; i < 2; i++) {
        close(go[i]);
        close(done[i]);
    }
}

int main(void)
{
    alarm(100); /* a failure must never hang the suite */
    if (rl_test_redis_start(&server) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_cached_missing_entity_never_skips_its_new_parent),
    };
    int failed = cmocka_run_group_tests_name("limiter_race", tests, NULL, NULL);
    rl_test_redis_stop(&server);
    return failed;
}
