/* Load safety, written async (1,000 coroutines) with a generated sync twin (8 threads): many
 * workers draw from one bucket on the real clock; nothing is granted beyond capacity + refill and
 * rolled-back leases restore tokens exactly. On a Redis Cluster a master is killed during the
 * run and its replica promoted: calls fail as unavailable or succeed, the bound holds and the
 * limiter recovers. Usage: test_load memory|redis|redis-procs|cluster. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <unasync/async.h>

#include <unasync/limiter/limiter.h>
#include <unasync/limiter/memory.h>
#include <unasync/limiter/redis.h>

#include "rl_testutil.h"

#if UNASYNC_ASYNC
#define RL_WORKERS 1000
#else
#define RL_WORKERS 8
#endif
#define RL_PROCS 4

static const char *backend = "memory";
static rl_test_redis_t server;
static rl_test_cluster_t cluster;
static char prefix[64];

typedef struct load {
    rl_limiter_t *lim;
    rl_limit_t limit;
    int64_t deadline_ms;
    int failures;
    bool failover; /* the cluster run: unavailable calls and lost rollbacks are expected */
} load_t;

typedef struct worker {
    load_t *load;
    int index;
    int64_t granted;     /* tokens of committed leases */
    int64_t rolled_back; /* leases rolled back (their token came back) */
    int64_t rejected;
    int64_t unavailable; /* the failover run: acquires refused while a shard had no master */
    int64_t late;        /* the failover run: grants in the last second (recovered) */
    int errors;
} worker_t;

static worker_t workers[RL_WORKERS];

static async int work(void *arg)
{
    worker_t *wk = arg;
    load_t *ld = wk->load;
    rl_amount_t one[] = {{"rps", 1}};
    rl_acquire_options_t opts = {&ld->limit, 1, RL_ON_UNAVAILABLE_BLOCK};
    for (int64_t i = 0; rl_clock_now(NULL) < ld->deadline_ms; i++) {
        rl_lease_t lease;
        int rc = await rl_limiter_acquire(ld->lim, &lease, "shared", "load", one, 1, &opts, NULL);
        if (rc == RL_EEXCEEDED) {
            wk->rejected++;
            await async_sleep_ms(1);
            continue;
        }
        if (rc == RL_EUNAVAILABLE && ld->failover) {
            wk->unavailable++;
            await async_sleep_ms(10);
            continue;
        }
        if (ld->failover && rl_clock_now(NULL) > ld->deadline_ms - 1000)
            wk->late++;
        if (rc) {
            wk->errors++;
            fprintf(stderr, "worker %d: %s\n", wk->index, rl_strerror(rc));
            return rc;
        }
        if ((i + wk->index) % 5 == 0) {
            rc = await rl_lease_rollback(&lease);
            wk->rolled_back++;
        } else {
            rc = await rl_lease_commit(&lease, NULL);
            wk->granted++;
        }
        /* In the failover run a lost commit or rollback only leaves the token taken. */
        if (!ld->failover && (rc || lease.last_error)) {
            wk->errors++;
            return rc ? rc : lease.last_error;
        }
        await async_yield();
    }
    return 0;
}

static async int open_limiter(rl_limiter_t **lim)
{
    rl_options_t opts;
    rl_options_init(&opts);
    opts.key_prefix = prefix;
    rl_repo_t *repo;
    int rc;
    if (strcmp(backend, "memory") == 0) {
        rc = rl_memory_open(&repo, &opts);
    } else if (strcmp(backend, "cluster") == 0) {
        opts.timeout_ms = 1000;
        opts.replica_acks = 1; /* a grant is on the replica before it is returned */
        rc = await rl_redis_open(&repo, rl_test_cluster_url(&cluster), &opts);
    } else {
        rc = await rl_redis_open(&repo, server.url, &opts);
    }
    return rc ? rc : rl_limiter_open(lim, repo);
}

static int64_t unavailable_total, late_total;

/* Runs every worker until the deadline; sums their counts into *granted / *rolled_back. */
static async int run_workers(load_t *ld, int n, int64_t *granted, int64_t *rolled_back)
{
    unavailable_total = late_total = 0;
    async_task_t *tasks[RL_WORKERS];
    for (int i = 0; i < n; i++) {
        memset(&workers[i], 0, sizeof workers[i]);
        workers[i].load = ld;
        workers[i].index = i;
        tasks[i] = async_spawn(work, &workers[i]);
        if (!tasks[i])
            return -1;
    }
    int failed = 0;
    for (int i = 0; i < n; i++) {
        int result = 0;
        if (await async_join(tasks[i], &result) != 0 || result != 0)
            failed++;
        *granted += workers[i].granted;
        *rolled_back += workers[i].rolled_back;
        unavailable_total += workers[i].unavailable;
        late_total += workers[i].late;
    }
    return failed ? -1 : 0;
}

static int64_t seconds(void)
{
    const char *s = getenv("RL_LOAD_SECONDS");
    return s && atoi(s) > 0 ? atoi(s) : 2;
}

/* The stored bucket of the shared entity. */
static async int stored(rl_limiter_t *lim, const rl_limit_t *limit, rl_bucket_t *out)
{
    rl_bucket_set_t set;
    memset(&set, 0, sizeof set);
    set.entity_id = "shared";
    set.resource = "load";
    set.count = 1;
    set.limits[0] = *limit;
    rl_repo_t *repo = rl_limiter_repo(lim);
    int rc = await repo->ops->read(repo, &set, 1, rl_clock_now(NULL));
    *out = set.buckets[0];
    return rc;
}

typedef struct result {
    int64_t start_ms, end_ms, granted, rolled_back;
    int64_t consumed_milli; /* the stored bucket's net counter afterwards */
} result_t;

/* One process's share: open a limiter, run the workers, report. */
static async int run_one(void *arg)
{
    result_t *res = arg;
    load_t ld;
    memset(&ld, 0, sizeof ld);
    rl_limit_per_second(&ld.limit, "rps", 500, 0);
    int rc = await open_limiter(&ld.lim);
    if (rc)
        return rc;
    res->start_ms = rl_clock_now(NULL);
    ld.deadline_ms = res->start_ms + seconds() * 1000;
    rc = await run_workers(&ld, RL_WORKERS, &res->granted, &res->rolled_back);
    res->end_ms = rl_clock_now(NULL);
    rl_bucket_t b = {0, 0, 0, 0, 0, 0};
    if (rc == 0)
        rc = await stored(ld.lim, &ld.limit, &b);
    res->consumed_milli = b.total_consumed_milli;
    int rc2 = await rl_limiter_close(ld.lim);
    return rc ? rc : rc2;
}

static void check_bound(const result_t *res)
{
    /* capacity + refill over the elapsed time; rolled-back tokens may be granted again */
    int64_t allowed = 500 + (res->end_ms - res->start_ms) * 500 / 1000;
    fprintf(stderr, "granted %lld (+%lld rolled back) in %lld ms, bound %lld\n",
            (long long)res->granted, (long long)res->rolled_back,
            (long long)(res->end_ms - res->start_ms), (long long)allowed);
    assert_true(res->granted <= allowed);
    assert_true(res->granted > 0);
    assert_true(res->rolled_back > 0);
    /* every rollback gave back exactly its token: the net counter is the committed total */
    assert_int_equal(res->consumed_milli, res->granted * 1000);
}

static void workers_never_exceed_capacity_plus_refill(void **state)
{
    (void)state;
    result_t res;
    memset(&res, 0, sizeof res);
    snprintf(prefix, sizeof prefix, "%s", rl_test_prefix());
    assert_int_equal(async_run(run_one, &res), 0);
    check_bound(&res);
}

static void processes_never_exceed_capacity_plus_refill(void **state)
{
    (void)state;
    snprintf(prefix, sizeof prefix, "%s", rl_test_prefix());
    int fds[RL_PROCS][2];
    pid_t pids[RL_PROCS];
    for (int p = 0; p < RL_PROCS; p++) {
        assert_int_equal(pipe(fds[p]), 0);
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] == 0) {
            result_t res;
            memset(&res, 0, sizeof res);
            int rc = async_run(run_one, &res);
            ssize_t n = write(fds[p][1], &res, sizeof res);
            _exit(rc == 0 && n == (ssize_t)sizeof res ? 0 : 1);
        }
        close(fds[p][1]);
    }
    result_t total;
    memset(&total, 0, sizeof total);
    total.start_ms = INT64_MAX;
    for (int p = 0; p < RL_PROCS; p++) {
        result_t res;
        assert_int_equal(read(fds[p][0], &res, sizeof res), (ssize_t)sizeof res);
        close(fds[p][0]);
        int status = 0;
        assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        total.start_ms = res.start_ms < total.start_ms ? res.start_ms : total.start_ms;
        total.end_ms = res.end_ms > total.end_ms ? res.end_ms : total.end_ms;
        total.granted += res.granted;
        total.rolled_back += res.rolled_back;
        /* the last process to finish read the counter after everyone else's work */
        if (res.end_ms >= total.end_ms)
            total.consumed_milli = res.consumed_milli;
    }
    check_bound(&total);
}

/* The node that serves `key` (the others answer MOVED), -1 when none does. */
static int owner_of(const char *key)
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "EXISTS %s", key);
    for (int i = 0; i < RL_TEST_CLUSTER_NODES; i++)
        if (cluster.nodes[i].pid > 0 && rl_test_redis_int(&cluster.nodes[i], cmd) != LLONG_MIN)
            return i;
    return -1;
}

#define FAILOVER_REFILL 50 /* tokens per second of the failover run's limit (capacity 500) */

typedef struct failover {
    int killed;   /* the master that was killed */
    int promoted; /* the replica that took over its slots */
    int64_t kill_ms, promoted_ms;
} failover_t;

/* Kills the master of the shared bucket 1.5 s into the run, waits until its replica serves the
 * slot, then restarts the killed node (it rejoins as the new master's replica, so writes can be
 * acknowledged by a replica again). */
static async int kill_master(void *arg)
{
    failover_t *f = arg;
    char key[128];
    snprintf(key, sizeof key, "%sb#{shared}#shared#load", prefix);
    await async_sleep_ms(1500);
    f->killed = owner_of(key);
    if (f->killed < 0)
        return -1;
    f->kill_ms = rl_clock_now(NULL);
    rl_test_redis_kill(&cluster.nodes[f->killed], 1);
    for (int i = 0; i < 300 && f->promoted < 0; i++) { /* ~15 s at most: start-up, not a timing */
        await async_sleep_ms(50);
        int owner = owner_of(key);
        if (owner >= 0 && owner != f->killed)
            f->promoted = owner;
    }
    if (f->promoted < 0)
        return -1;
    f->promoted_ms = rl_clock_now(NULL);
    return rl_test_redis_restart(&cluster.nodes[f->killed]) == 0 ? 0 : -1;
}

static async int run_failover(void *arg)
{
    result_t *res = arg;
    failover_t f = {-1, -1, 0, 0};
    load_t ld;
    memset(&ld, 0, sizeof ld);
    ld.failover = true;
    /* A slow refill makes the bound sharp: a failover that forgot the drained bucket would hand
     * out its capacity again, well past capacity + refill. */
    if (rl_limit_custom(&ld.limit, "rps", 500, FAILOVER_REFILL, 1) != 0)
        return -1;
    int rc = await open_limiter(&ld.lim);
    if (rc)
        return rc;
    res->start_ms = rl_clock_now(NULL);
    ld.deadline_ms = res->start_ms + 4000 + seconds() * 1000;
    async_task_t *killer = async_spawn(kill_master, &f);
    if (!killer)
        return -1;
    rc = await run_workers(&ld, RL_WORKERS, &res->granted, &res->rolled_back);
    res->end_ms = rl_clock_now(NULL);
    int krc = -1;
    if (await async_join(killer, &krc) != 0 || krc != 0) {
        fprintf(stderr, "the failover did not happen (killed %d, promoted %d)\n", f.killed,
                f.promoted);
        rc = rc ? rc : -1;
    }
    fprintf(stderr, "failover: master %d killed at +%lld ms, replica %d serving at +%lld ms; "
            "%lld unavailable calls, %lld grants in the last second\n", f.killed,
            (long long)(f.kill_ms - res->start_ms), f.promoted,
            (long long)(f.promoted_ms - res->start_ms), (long long)unavailable_total,
            (long long)late_total);
    int rc2 = await rl_limiter_close(ld.lim);
    return rc ? rc : rc2;
}

static void failover_keeps_the_bound_and_recovers(void **state)
{
    (void)state;
    result_t res;
    memset(&res, 0, sizeof res);
    snprintf(prefix, sizeof prefix, "%s", rl_test_prefix());
    assert_int_equal(async_run(run_failover, &res), 0);
    int64_t allowed = 500 + (res.end_ms - res.start_ms) * FAILOVER_REFILL / 1000;
    fprintf(stderr, "granted %lld (+%lld rolled back) in %lld ms, bound %lld\n",
            (long long)res.granted, (long long)res.rolled_back,
            (long long)(res.end_ms - res.start_ms), (long long)allowed);
    assert_true(res.granted <= allowed);
    assert_true(unavailable_total > 0); /* the kill was felt */
    assert_true(late_total > 0);        /* and the same limiter grants again afterwards */
}

int main(int argc, char **argv)
{
    if (argc > 1)
        backend = argv[1];
    bool procs = strcmp(backend, "redis-procs") == 0;
    if (procs)
        backend = "redis";
    if (strcmp(backend, "cluster") == 0) {
        if (rl_test_cluster_start(&cluster) != 0)
            return 1;
        const struct CMUnitTest failover[] = {
            cmocka_unit_test(failover_keeps_the_bound_and_recovers),
        };
        int failed = cmocka_run_group_tests_name("limiter_load_failover", failover, NULL, NULL);
        rl_test_cluster_stop(&cluster);
        return failed;
    }
    if (strcmp(backend, "redis") == 0 && rl_test_redis_start(&server) != 0)
        return 1;
    const struct CMUnitTest threads[] = {
        cmocka_unit_test(workers_never_exceed_capacity_plus_refill),
    };
    const struct CMUnitTest processes[] = {
        cmocka_unit_test(processes_never_exceed_capacity_plus_refill),
    };
    int failed = procs ? cmocka_run_group_tests_name("limiter_load_procs", processes, NULL, NULL)
                       : cmocka_run_group_tests_name("limiter_load", threads, NULL, NULL);
    if (strcmp(backend, "redis") == 0)
        rl_test_redis_stop(&server);
    return failed;
}
