/* Redis through the runtime against a real redis-server that the test starts on a temporary
 * unix socket, written async; sync_test_redis.c is its generated blocking twin. */
#include <unasync/async.h>

#include <hiredis/hiredis.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "check.h"
#include "redis_server.h"

enum { NWORKERS = 100 };

static struct redis_server server;

static int start_server(void **state)
{
    int rc = redis_server_start(&server);
    if (rc == 1)
        fprintf(stderr, "redis-server not found: Redis tests are skipped\n");
    *state = rc == 0 ? &server : NULL;
    return rc < 0 ? -1 : 0;
}

static int stop_server(void **state)
{
    if (*state)
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
    if (!*state)
        skip();
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
    if (!*state)
        skip();
    assert_int_equal(async_run(many_main, NULL), 0);
}

static async int refused_main(void *arg)
{
    async_redis_t *r = NULL;
    CHECK_RC(await async_redis_connect_unix(&r, "/nonexistent/redis.sock"), UNASYNC_EREDIS);
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
    if (!*state)
        skip();
    assert_int_equal(async_run(cancel_main, NULL), 0);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(redis_round_trip_returns_replies_the_caller_owns),
        cmocka_unit_test(redis_serves_many_tasks_each_its_own_reply),
        cmocka_unit_test(redis_connect_to_a_missing_socket_fails),
#if UNASYNC_ASYNC
        cmocka_unit_test(redis_cancel_drops_the_pending_reply),
#endif
    };
    return cmocka_run_group_tests_name(UNASYNC_ASYNC ? "runtime async redis" : "runtime sync redis",
                                       tests, start_server, stop_server);
}
