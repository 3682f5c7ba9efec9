/* Fault injection for the runtime: a realistic program survives the failure of each of its
 * allocations in turn, written async; sync_test_alloc.c is its generated blocking twin. */
#include <unasync/async.h>
/* The libuv adapter. An escape hatch until the transformer redirects this include by the
 * runtime's rule map (unasync/async_uv.h -> unasync/sync_uv.h). */
#if UNASYNC_ASYNC
#include <unasync/async_uv.h>
#else
#include <unasync/sync_uv.h>
#endif

#include <arpa/inet.h>
#include <dirent.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check.h"
#include "testalloc.h"
#include "redis_server.h"

/* ---- the program: a queue between tasks, a TCP echo, an adapter request and Redis ---- */

enum { NCLIENTS = 4, NCONSUMERS = 2, NITEMS = 64, QCAP = 4, MSG = 512, ROUNDS = 4, INCRS = 3 };
enum { READ_TIMEOUT_MS = 10000 };

static struct redis_server redis;

struct world {
    /* a bounded queue from the producer to the consumers */
    async_mutex_t lock;
    async_cond_t nonempty, nonfull;
    int queue[QCAP];
    size_t qhead, qlen;
    int qclosed;
    async_tcp_t *listener;
    int port;
    const char *redis_sock; /* NULL: no redis-server here */
    /* what the run did, compared with a run under the default allocator */
    atomic_long consumed_sum;
    atomic_int echoed; /* clients whose every round came back */
    atomic_int stats;  /* adapter requests that completed */
    atomic_long redis_value;
    /* what went wrong: each allocation that fails must surface as exactly one UNASYNC_ENOMEM */
    atomic_int nomem;
    atomic_int errors; /* anything else: a failed CHECK (its line), an unexpected error */
};

/* Records the outcome of one step. The program handles every UNASYNC_ENOMEM where it happens
 * (it degrades, as a server would) so that nothing else may fail because of it. */
static void report(struct world *w, int rc, int line)
{
    if (rc == UNASYNC_ENOMEM) {
        atomic_fetch_add(&w->nomem, 1);
    } else if (rc != 0) {
        fprintf(stderr, "test_alloc: line %d: %d (%s)\n", line, rc, unasync_err_name(rc));
        atomic_fetch_add(&w->errors, 1);
    }
}
#define REPORT(w, rc) report((w), (rc), __LINE__)

/* ---- the queue ---- */

static async int queue_put(struct world *w, int item)
{
    CHECK_RC(await async_mutex_lock(&w->lock), 0);
    while (w->qlen == QCAP) {
        int rc = await async_cond_wait(&w->nonfull, &w->lock);
        if (rc != 0) {
            async_mutex_unlock(&w->lock);
            return rc;
        }
    }
    w->queue[(w->qhead + w->qlen++) % QCAP] = item;
    async_cond_signal(&w->nonempty);
    async_mutex_unlock(&w->lock);
    return 0;
}

/* 0 and *item, or 1 once the queue is closed and empty. */
static async int queue_get(struct world *w, int *item)
{
    CHECK_RC(await async_mutex_lock(&w->lock), 0);
    while (w->qlen == 0 && !w->qclosed) {
        int rc = await async_cond_wait(&w->nonempty, &w->lock);
        if (rc != 0) {
            async_mutex_unlock(&w->lock);
            return rc;
        }
    }
    int rc = 1;
    if (w->qlen > 0) {
        *item = w->queue[w->qhead];
        w->qhead = (w->qhead + 1) % QCAP;
        w->qlen--;
        async_cond_signal(&w->nonfull);
        rc = 0;
    }
    async_mutex_unlock(&w->lock);
    return rc;
}

static async int queue_close(struct world *w)
{
    CHECK_RC(await async_mutex_lock(&w->lock), 0);
    w->qclosed = 1;
    async_cond_broadcast(&w->nonempty);
    async_mutex_unlock(&w->lock);
    return 0;
}

/* ---- an adapter: any libuv request ---- */

static void on_stat(uv_fs_t *req)
{
    async_req_done((uv_req_t *)req, (int)req->result);
}

static int start_stat(uv_loop_t *loop, uv_req_t *req, void *arg)
{
    return uv_fs_stat(loop, (uv_fs_t *)req, arg, on_stat);
}

static async int stat_dot(struct world *w)
{
    uv_fs_t req;
    int rc = await async_await_req((uv_req_t *)&req, start_stat, (void *)".");
    if (rc == UNASYNC_ENOMEM)
        return rc; /* the request never started: nothing to clean up */
    uv_fs_req_cleanup(&req);
    if (rc == 0)
        atomic_fetch_add(&w->stats, 1);
    return rc;
}

static async int producer(void *arg)
{
    struct world *w = arg;
    REPORT(w, await stat_dot(w));
    for (int i = 1; i <= NITEMS; i++) {
        if (i % 16 == 0)
            REPORT(w, await async_sleep_ms(1));
        REPORT(w, await queue_put(w, i));
    }
    REPORT(w, await queue_close(w));
    return 0;
}

static async int consumer(void *arg)
{
    struct world *w = arg;
    long sum = 0;
    int item = 0, rc;
    while ((rc = await queue_get(w, &item)) == 0)
        sum += item;
    REPORT(w, rc == 1 ? 0 : rc);
    atomic_fetch_add(&w->consumed_sum, sum);
    return 0;
}

/* ---- the TCP echo ---- */

static async int read_full(async_tcp_t *c, char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        size_t n = 0;
        int rc = await async_tcp_read_timed(c, buf + got, len - got, &n, READ_TIMEOUT_MS);
        if (rc != 0)
            return rc;
        CHECK(n > 0);
        got += n;
    }
    return 0;
}

/* Echoes until the peer's end of stream, then closes the connection. */
static async int echo_conn(void *arg)
{
    async_tcp_t *c = arg;
    char buf[MSG];
    int rc;
    for (;;) {
        size_t n = 0;
        rc = await async_tcp_read_timed(c, buf, sizeof buf, &n, READ_TIMEOUT_MS);
        if (rc != 0 || n == 0)
            break;
        rc = await async_tcp_write(c, buf, n);
        if (rc != 0)
            break;
    }
    CHECK_RC(await async_tcp_close(c), 0);
    return rc;
}

/* Accepts until cancelled. A failed accept or spawn is survived: the connection stays queued, or
 * is served inline. */
static async int echo_server(void *arg)
{
    struct world *w = arg;
    async_task_t *conns[NCLIENTS + 1];
    int nconns = 0, rc;
    for (;;) {
        async_tcp_t *c = NULL;
        rc = await async_tcp_accept(w->listener, &c);
        if (rc == UNASYNC_ECANCELED)
            break;
        if (rc != 0) {
            CHECK(c == NULL);
            REPORT(w, rc);
            if (rc != UNASYNC_ENOMEM)
                break;
            continue;
        }
        CHECK(nconns < NCLIENTS);
        conns[nconns] = async_spawn(echo_conn, c);
        if (conns[nconns]) {
            nconns++;
        } else {
            REPORT(w, UNASYNC_ENOMEM);
            REPORT(w, await echo_conn(c));
        }
    }
    for (int i = 0; i < nconns; i++) {
        int result = -1;
        CHECK_RC(await async_join(conns[i], &result), 0);
        REPORT(w, result);
    }
    return 0;
}

static async int echo_client(void *arg)
{
    struct world *w = arg;
    static atomic_int next_id;
    int id = atomic_fetch_add(&next_id, 1);
    REPORT(w, await async_sleep_ms(1));
    struct sockaddr_in addr = loopback_addr(w->port);
    async_tcp_t *c = NULL;
    int rc = await async_tcp_connect(&c, (const struct sockaddr *)&addr);
    if (rc != 0) {
        CHECK(c == NULL);
        REPORT(w, rc);
        return 0;
    }
    char out[MSG], in[MSG];
    int ok = 1;
    for (int r = 0; r < ROUNDS && ok; r++) {
        for (int j = 0; j < MSG; j++)
            out[j] = (char)(id * 7 + r * 31 + j);
        rc = await async_tcp_write(c, out, sizeof out);
        if (rc == 0)
            rc = await read_full(c, in, sizeof in);
        if (rc == 0 && memcmp(in, out, sizeof out) != 0)
            rc = __LINE__;
        REPORT(w, rc);
        ok = rc == 0;
    }
    if (ok) {
        REPORT(w, await async_tcp_shutdown(c));
        size_t n = 1;
        REPORT(w, await async_tcp_read_timed(c, in, sizeof in, &n, READ_TIMEOUT_MS));
        REPORT(w, n == 0 ? 0 : __LINE__); /* the server closed after our shutdown */
        atomic_fetch_add(&w->echoed, 1);
    }
    CHECK_RC(await async_tcp_close(c), 0);
    return 0;
}

/* ---- Redis ---- */

static async int redis_worker(void *arg)
{
    struct world *w = arg;
    async_redis_t *r = NULL;
    int rc = await async_redis_connect_unix_timed(&r, w->redis_sock, 5000);
    if (rc != 0) {
        CHECK(r == NULL);
        REPORT(w, rc);
        return 0;
    }
    redisReply *reply = NULL;
    rc = await async_redis_command(r, &reply, "SET %s %d", "alloc:n", 0);
    for (int i = 0; i < INCRS; i++) {
        if (reply)
            freeReplyObject(reply);
        reply = NULL;
        if (rc != 0)
            break;
        rc = await async_redis_command(r, &reply, "INCR %s", "alloc:n");
        CHECK(rc != 0 || reply->type == REDIS_REPLY_INTEGER);
    }
    if (rc == 0) {
        freeReplyObject(reply);
        reply = NULL;
        const char *argv[] = {"GET", "alloc:n"};
        rc = await async_redis_command_argv(r, &reply, 2, argv, NULL);
    }
    if (rc == 0) {
        CHECK(reply->type == REDIS_REPLY_STRING);
        atomic_store(&w->redis_value, atol(reply->str));
        freeReplyObject(reply);
    } else {
        CHECK(reply == NULL);
    }
    REPORT(w, rc);
    CHECK_RC(await async_redis_close(r), 0);
    return 0;
}

/* ---- the main task ---- */

static async int program(void *arg)
{
    struct world *w = arg;
    struct sockaddr_in addr = loopback_addr(0);
    int rc = async_tcp_listen(&w->listener, (const struct sockaddr *)&addr, 16);
    if (rc != 0) {
        CHECK(w->listener == NULL);
        return rc;
    }
    CHECK_RC(async_tcp_port(w->listener, &w->port), 0);

    /* Each spawn that fails costs its part of the program, nothing else. */
    async_task_t *server = async_spawn(echo_server, w);
    async_task_t *consumers[NCONSUMERS], *clients[NCLIENTS], *producer_task, *redis_task = NULL;
    for (int i = 0; i < NCONSUMERS; i++)
        if (!(consumers[i] = async_spawn(consumer, w)))
            REPORT(w, UNASYNC_ENOMEM);
    producer_task = async_spawn(producer, w);
    if (!producer_task) {
        REPORT(w, UNASYNC_ENOMEM);
        CHECK_RC(await queue_close(w), 0);
    }
    if (!server)
        REPORT(w, UNASYNC_ENOMEM); /* no server: no clients either */
    for (int i = 0; i < NCLIENTS; i++) {
        clients[i] = server ? async_spawn(echo_client, w) : NULL;
        if (server && !clients[i])
            REPORT(w, UNASYNC_ENOMEM);
    }
    if (w->redis_sock && !(redis_task = async_spawn(redis_worker, w)))
        REPORT(w, UNASYNC_ENOMEM);

    for (int i = 0; i < NCLIENTS; i++)
        if (clients[i])
            CHECK_RC(await async_join(clients[i], NULL), 0);
    if (server) {
        CHECK_RC(async_cancel(server), 0);
        CHECK_RC(await async_join(server, NULL), 0);
    }
    if (producer_task)
        CHECK_RC(await async_join(producer_task, NULL), 0);
    for (int i = 0; i < NCONSUMERS; i++)
        if (consumers[i])
            CHECK_RC(await async_join(consumers[i], NULL), 0);
    if (redis_task)
        CHECK_RC(await async_join(redis_task, NULL), 0);
    CHECK_RC(await async_tcp_close(w->listener), 0);
    return 0;
}

/* One run: the world it leaves, and async_run's result folded into its counters. */
static void run_program(struct world *w)
{
    memset(w, 0, sizeof *w);
    async_mutex_init(&w->lock);
    async_cond_init(&w->nonempty);
    async_cond_init(&w->nonfull);
    w->redis_sock = redis.pid > 0 ? redis.sock : NULL;
    int rc = async_run(program, w);
    REPORT(w, rc);
    assert_int_equal(async_mutex_destroy(&w->lock), 0);
    assert_int_equal(async_cond_destroy(&w->nonempty), 0);
    assert_int_equal(async_cond_destroy(&w->nonfull), 0);
}

/* Open file descriptors of the process: a failed run must not leak sockets or loops either. */
static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static void spawn_and_io_survive_every_failed_allocation(void **state)
{
    (void)state;
    struct world base, w;
    unasync_set_allocator(NULL, NULL);
    run_program(&base);
    assert_int_equal(base.nomem, 0);
    assert_int_equal(base.errors, 0);
    assert_int_equal(base.consumed_sum, NITEMS * (NITEMS + 1) / 2);
    assert_int_equal(base.echoed, NCLIENTS);
    assert_int_equal(base.stats, 1);
    assert_int_equal(base.redis_value, base.redis_sock ? INCRS : 0);
    int fds = count_fds(); /* after one run: libuv opens some process-wide ones once */

    /* testalloc's hook is atomic: the sync twin's blocking calls allocate on worker threads */
    unasync_set_allocator(testalloc_malloc, testalloc_free);
    long n;
    for (n = 1; n < 100000; n++) {
        testalloc_reset(n);
        run_program(&w);
        long live = testalloc_hook.live;
        int failed = testalloc_hook.failed;
        if (live != 0 || w.errors != 0 || w.nomem != (failed ? 1 : 0))
            fprintf(stderr,
                    "allocation %ld of %ld failed=%d: nomem %d errors %d, %ld block(s) live\n", n,
                    (long)testalloc_hook.calls, failed, (int)w.nomem, (int)w.errors, live);
        assert_int_equal(w.errors, 0);
        assert_int_equal(w.nomem, failed ? 1 : 0);
        assert_int_equal(live, 0);
        assert_int_equal(count_fds(), fds);
        if (!failed)
            break; /* every allocation of the program has failed once */
    }
    unasync_set_allocator(NULL, NULL);
    fprintf(stderr, "%s: %ld allocation points\n", UNASYNC_ASYNC ? "async" : "sync", n - 1);
    assert_true(n > 10);
    /* The run where nothing failed did exactly what a run under the default allocator did. */
    assert_int_equal(w.consumed_sum, base.consumed_sum);
    assert_int_equal(w.echoed, base.echoed);
    assert_int_equal(w.stats, base.stats);
    assert_int_equal(w.redis_value, base.redis_value);
}

static int start_redis(void **state)
{
    (void)state;
    int rc = redis_server_start(&redis);
    if (rc == 1)
        fprintf(stderr, "redis-server not found: the program runs without its Redis part\n");
    if (rc != 0)
        redis.pid = 0;
    return rc < 0 ? -1 : 0;
}

static int stop_redis(void **state)
{
    (void)state;
    if (redis.pid > 0)
        redis_server_stop(&redis);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spawn_and_io_survive_every_failed_allocation),
    };
    return cmocka_run_group_tests_name(UNASYNC_ASYNC ? "runtime async alloc" : "runtime sync alloc",
                                       tests, start_redis, stop_redis);
}
