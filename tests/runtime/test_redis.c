/* Redis through the runtime against a real redis-server that the test starts on a temporary
 * unix socket, written async; sync_test_redis.c is its generated blocking twin. */
#include <unasync/async.h>

#include <hiredis/hiredis.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "redis_server.h"

enum { NWORKERS = 100 };

static struct redis_server server;

static int start_server(void **state)
{
    int rc = redis_server_start(&server);
    if (rc == 1)
        fprintf(stderr, "%s\n", redis_server_missing);
    *state = rc == 0 ? &server : NULL;
    return rc == 0 ? 0 : -1;
}

static int stop_server(void **state)
{
    if (*state) /* only a server that started: its pid is real */
        redis_server_stop(&server);
    return 0;
}

static async int round_trip_main(void *arg)
{
    async_redis_t *r = NULL;
    CHECK_RC(await async_redis_connect_unix(&r, server.sock), 0);
    redisReply *reply = NULL;
    CHECK_RC(await async_redis_command(r, &reply, "SET %s %s", "greeting", "hello"), 0);
    CHECK(reply->type == REDIS_REPLY_STATUS && strcmp(reply->str, "OK") == 0);
    freeReplyObject(reply); /* the caller owns every reply */
    CHECK_RC(await async_redis_command(r, &reply, "GET %s", "greeting"), 0);
    CHECK(reply->type == REDIS_REPLY_STRING && strcmp(reply->str, "hello") == 0);
    freeReplyObject(reply);

    const char *argv[] = {"SET", "binary", "a\0b"};
    const size_t argvlen[] = {3, 6, 3};
    CHECK_RC(await async_redis_command_argv(r, &reply, 3, argv, argvlen), 0);
    freeReplyObject(reply);
    CHECK_RC(await async_redis_command(r, &reply, "GET binary"), 0);
    CHECK(reply->type == REDIS_REPLY_STRING && reply->len == 3 &&
          memcmp(reply->str, "a\0b", 3) == 0);
    freeReplyObject(reply);

    /* A Redis error is a reply, as with the blocking API, not a failed call. */
    CHECK_RC(await async_redis_command(r, &reply, "INCR greeting"), 0);
    CHECK(reply->type == REDIS_REPLY_ERROR);
    freeReplyObject(reply);
    CHECK_RC(await async_redis_close(r), 0);
    return 0;
}

static void redis_round_trip_returns_replies_the_caller_owns(void **state)
{
    assert_int_equal(async_run(round_trip_main, NULL), 0);
}

struct incr {
    async_redis_t *shared;
    async_mutex_t lock;
    int seen[NWORKERS + 1];
};

static async int incr_worker(void *arg)
{
    struct incr *ctx = arg;
    async_redis_t *r = ctx->shared;
#if !UNASYNC_ASYNC
    /* A blocking connection serves one thread at a time: each thread opens its own. */
    CHECK_RC(async_redis_connect_unix(&r, server.sock), 0);
#endif
    redisReply *reply = NULL;
    CHECK_RC(await async_redis_command(r, &reply, "INCR counter"), 0);
    CHECK(reply->type == REDIS_REPLY_INTEGER);
    long long v = reply->integer;
    freeReplyObject(reply);
    CHECK(v >= 1 && v <= NWORKERS);
    CHECK_RC(await async_mutex_lock(&ctx->lock), 0);
    ctx->seen[v]++;
    CHECK_RC(async_mutex_unlock(&ctx->lock), 0);
#if !UNASYNC_ASYNC
    CHECK_RC(async_redis_close(r), 0);
#endif
    return 0;
}

static async int many_main(void *arg)
{
    static struct incr ctx;
    memset(&ctx, 0, sizeof ctx);
    async_mutex_init(&ctx.lock);
    CHECK_RC(await async_redis_connect_unix(&ctx.shared, server.sock), 0);
    redisReply *reply = NULL;
    CHECK_RC(await async_redis_command(ctx.shared, &reply, "DEL counter"), 0);
    freeReplyObject(reply);
    async_task_t *tasks[NWORKERS];
    for (int i = 0; i < NWORKERS; i++)
        tasks[i] = async_spawn(incr_worker, &ctx);
    for (int i = 0; i < NWORKERS; i++) {
        int result = -1;
        CHECK_RC(await async_join(tasks[i], &result), 0);
        CHECK(result == 0);
    }
    for (int v = 1; v <= NWORKERS; v++)
        CHECK(ctx.seen[v] == 1); /* every reply reached the task that sent its command */
    CHECK_RC(await async_redis_close(ctx.shared), 0);
    return 0;
}

static void redis_serves_many_tasks_each_its_own_reply(void **state)
{
    assert_int_equal(async_run(many_main, NULL), 0);
}

static async int refused_main(void *arg)
{
    async_redis_t *r = NULL;
    /* The system error is the code: the cause of the failure is not lost. */
    CHECK_RC(await async_redis_connect_unix(&r, "/nonexistent/redis.sock"), -ENOENT);
    CHECK(r == NULL);
    /* A loopback port nothing listens on fails at once, not after a timeout. */
    CHECK_RC(await async_redis_connect_timed(&r, "127.0.0.1", 1, 60000), -ECONNREFUSED);
    CHECK(r == NULL);
    return 0;
}

static void redis_connect_to_a_missing_socket_fails(void **state)
{
    assert_int_equal(async_run(refused_main, NULL), 0);
}

#if UNASYNC_ASYNC
static async int blpop_body(void *arg)
{
    async_redis_t *r = arg;
    redisReply *reply = (redisReply *)&reply;
    CHECK_RC(await async_redis_command(r, &reply, "BLPOP nothing-here 0.2"), UNASYNC_ECANCELED);
    CHECK(reply == NULL);
    return 0;
}

/* A cancelled command's reply is dropped (freed) when it arrives; the connection lives on. */
static async int cancel_main(void *arg)
{
    async_redis_t *r = NULL;
    CHECK_RC(await async_redis_connect_unix(&r, server.sock), 0);
    async_task_t *t = async_spawn(blpop_body, r);
    CHECK_RC(await async_sleep_ms(20), 0);
    CHECK_RC(async_cancel(t), 0);
    int result = -1;
    CHECK_RC(await async_join(t, &result), 0);
    CHECK(result == 0);
    redisReply *reply = NULL;
    CHECK_RC(await async_redis_command(r, &reply, "PING"), 0);
    CHECK(reply->type == REDIS_REPLY_STATUS);
    freeReplyObject(reply);
    CHECK_RC(await async_redis_close(r), 0);
    return 0;
}

static void redis_cancel_drops_the_pending_reply(void **state)
{
    assert_int_equal(async_run(cancel_main, NULL), 0);
}
#endif

/* ------------------------------------------------------------------------------------------ */
/* Timeouts                                                                                     */
/* ------------------------------------------------------------------------------------------ */

static struct mute_server mute;
static struct black_hole hole;

static async int timed_live_main(void *arg)
{
    async_redis_t *r = NULL;
    CHECK_RC(await async_redis_connect_unix_timed(&r, server.sock, 0), UNASYNC_EINVAL);
    CHECK(r == NULL);
    CHECK_RC(await async_redis_connect_unix_timed(&r, server.sock, 5000), 0);
    CHECK_RC(async_redis_set_timeout(r, 0), UNASYNC_EINVAL);
    CHECK_RC(async_redis_set_timeout(r, 5000), 0);
    redisReply *reply = NULL;
    CHECK_RC(await async_redis_command(r, &reply, "PING"), 0);
    CHECK(reply->type == REDIS_REPLY_STATUS);
    freeReplyObject(reply);
    CHECK_RC(async_redis_set_timeout(r, UNASYNC_FOREVER), 0);
    CHECK_RC(await async_redis_command(r, &reply, "PING"), 0);
    freeReplyObject(reply);
    CHECK_RC(await async_redis_close(r), 0);
    return 0;
}

static void redis_timed_connect_and_commands_work_on_a_live_server(void **state)
{
    assert_int_equal(async_run(timed_live_main, NULL), 0);
}

static async int mute_main(void *arg)
{
    async_redis_t *r = NULL;
    /* The kernel completes the connection; nobody ever reads the command. */
    CHECK_RC(await async_redis_connect_unix_timed(&r, mute.sock, 5000), 0);
    CHECK_RC(async_redis_set_timeout(r, 50), 0);
    redisReply *reply = (redisReply *)&reply;
    CHECK_RC(await async_redis_command(r, &reply, "PING"), UNASYNC_ETIMEDOUT);
    CHECK(reply == NULL);
    CHECK(strstr(async_redis_errstr(r), "timed out") != NULL);
    /* A timed-out command breaks the connection: later calls fail at once. */
    CHECK_RC(await async_redis_command(r, &reply, "PING"), UNASYNC_EREDIS);
    CHECK_RC(async_redis_set_timeout(r, 50), UNASYNC_EREDIS);
    CHECK_RC(await async_redis_close(r), 0);
    return 0;
}

static void redis_command_to_a_mute_server_times_out(void **state)
{
    (void)state;
    assert_int_equal(mute_server_open(&mute), 0);
    int rc = async_run(mute_main, NULL);
    mute_server_close(&mute);
    assert_int_equal(rc, 0);
}

static async int black_hole_main(void *arg)
{
    async_redis_t *r = (async_redis_t *)&r;
    CHECK_RC(await async_redis_connect_timed(&r, "127.0.0.1", hole.port, 100), UNASYNC_ETIMEDOUT);
    CHECK(r == NULL);
    return 0;
}

static void redis_connect_to_a_black_hole_times_out(void **state)
{
    (void)state;
    assert_int_equal(black_hole_open(&hole), 0);
    int rc = async_run(black_hole_main, NULL);
    black_hole_close(&hole);
    assert_int_equal(rc, 0);
}

#if UNASYNC_ASYNC
enum { NMUTE = 3 };

struct mute_waiters {
    async_redis_t *r;
    int rc[NMUTE];
    int next;
};

static async int mute_waiter(void *arg)
{
    struct mute_waiters *w = arg;
    int i = w->next++;
    redisReply *reply = NULL;
    w->rc[i] = await async_redis_command(w->r, &reply, "PING");
    CHECK(reply == NULL);
    return 0;
}

/* Pipelined commands share the fate of the connection: the first to time out breaks it. */
static async int mute_many_main(void *arg)
{
    struct mute_waiters w;
    memset(&w, 0, sizeof w);
    CHECK_RC(await async_redis_connect_unix(&w.r, mute.sock), 0);
    CHECK_RC(async_redis_set_timeout(w.r, 50), 0);
    async_task_t *tasks[NMUTE];
    for (int i = 0; i < NMUTE; i++)
        tasks[i] = async_spawn(mute_waiter, &w);
    for (int i = 0; i < NMUTE; i++) {
        int result = -1;
        CHECK_RC(await async_join(tasks[i], &result), 0);
        CHECK(result == 0);
    }
    int timed_out = 0, broken = 0;
    for (int i = 0; i < NMUTE; i++) {
        timed_out += w.rc[i] == UNASYNC_ETIMEDOUT;
        broken += w.rc[i] == UNASYNC_EREDIS;
    }
    CHECK(timed_out == 1 && broken == NMUTE - 1);
    CHECK_RC(await async_redis_close(w.r), 0);
    return 0;
}

static void redis_timeout_fails_every_command_on_the_connection(void **state)
{
    (void)state;
    assert_int_equal(mute_server_open(&mute), 0);
    int rc = async_run(mute_many_main, NULL);
    mute_server_close(&mute);
    assert_int_equal(rc, 0);
}

static async int hole_connector(void *arg)
{
    async_redis_t *r = (async_redis_t *)&r;
    CHECK_RC(await async_redis_connect(&r, "127.0.0.1", hole.port), UNASYNC_ECANCELED);
    CHECK(r == NULL);
    return 0;
}

static async int cancel_connect_main(void *arg)
{
    async_task_t *t = async_spawn(hole_connector, NULL);
    CHECK_RC(await async_sleep_ms(20), 0);
    CHECK_RC(async_cancel(t), 0);
    int result = -1;
    CHECK_RC(await async_join(t, &result), 0);
    CHECK(result == 0);
    return 0;
}

static void redis_cancel_abandons_a_hanging_connect(void **state)
{
    (void)state;
    assert_int_equal(black_hole_open(&hole), 0);
    int rc = async_run(cancel_connect_main, NULL);
    black_hole_close(&hole);
    assert_int_equal(rc, 0);
}
#endif

/* ------------------------------------------------------------------------------------------ */
/* SIGPIPE                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* Runs child_fn in a child process whose SIGPIPE has its default action (death), whatever this
 * process inherited. 0 when the child exited normally with status 0. */
static int run_in_child_with_default_sigpipe(int (*child_fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        _exit(child_fn() == 0 ? 0 : 1);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    if (WIFSIGNALED(status))
        fprintf(stderr, "child killed by signal %d\n", WTERMSIG(status));
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static struct redis_server doomed;

static async int killed_server_main(void *arg)
{
    async_redis_t *r = NULL;
    CHECK_RC(await async_redis_connect_unix(&r, doomed.sock), 0);
    redisReply *reply = NULL;
    CHECK_RC(await async_redis_command(r, &reply, "PING"), 0);
    freeReplyObject(reply);
    redis_server_kill(&doomed);
    /* Writing to the dead server's socket fails with EPIPE and raises SIGPIPE in the writer. */
    CHECK_RC(await async_redis_command(r, &reply, "PING"), UNASYNC_EREDIS);
    CHECK(reply == NULL);
    CHECK_RC(await async_redis_command(r, &reply, "PING"), UNASYNC_EREDIS);
    CHECK_RC(await async_redis_close(r), 0);
    return 0;
}

static int killed_server_child(void)
{
    if (redis_server_start(&doomed) != 0)
        return 1;
    int rc = async_run(killed_server_main, NULL);
    redis_server_stop(&doomed);
    return rc;
}

static void redis_survives_writing_to_a_killed_server(void **state)
{
    assert_int_equal(run_in_child_with_default_sigpipe(killed_server_child), 0);
}

static async int deaf_peer_main(void *arg)
{
    async_redis_t *r = NULL;
    CHECK_RC(await async_redis_connect_unix(&r, mute.sock), 0);
    int fd = mute_server_accept_deaf(&mute);
    CHECK(fd >= 0);
    /* No end of stream arrives first: the write itself is what fails. */
    redisReply *reply = NULL;
    int rc = await async_redis_command(r, &reply, "PING");
    close(fd);
    CHECK_RC(rc, UNASYNC_EREDIS);
    CHECK_RC(await async_redis_close(r), 0);
    return 0;
}

static int deaf_peer_child(void)
{
    if (mute_server_open(&mute) != 0)
        return 1;
    int rc = async_run(deaf_peer_main, NULL);
    mute_server_close(&mute);
    return rc;
}

static void redis_write_to_a_peer_that_stopped_reading_fails_without_sigpipe(void **state)
{
    (void)state;
    assert_int_equal(run_in_child_with_default_sigpipe(deaf_peer_child), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(redis_round_trip_returns_replies_the_caller_owns),
        cmocka_unit_test(redis_serves_many_tasks_each_its_own_reply),
        cmocka_unit_test(redis_connect_to_a_missing_socket_fails),
        cmocka_unit_test(redis_timed_connect_and_commands_work_on_a_live_server),
        cmocka_unit_test(redis_command_to_a_mute_server_times_out),
        cmocka_unit_test(redis_connect_to_a_black_hole_times_out),
        cmocka_unit_test(redis_survives_writing_to_a_killed_server),
        cmocka_unit_test(redis_write_to_a_peer_that_stopped_reading_fails_without_sigpipe),
#if UNASYNC_ASYNC
        cmocka_unit_test(redis_cancel_drops_the_pending_reply),
        cmocka_unit_test(redis_timeout_fails_every_command_on_the_connection),
        cmocka_unit_test(redis_cancel_abandons_a_hanging_connect),
#endif
    };
    return cmocka_run_group_tests_name(UNASYNC_ASYNC ? "runtime async redis" : "runtime sync redis",
                                       tests, start_server, stop_server);
}
