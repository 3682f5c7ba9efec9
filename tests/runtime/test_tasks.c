/* Tasks and synchronisation primitives of the runtime, written async; sync_test_tasks.c is its
 * generated blocking twin (threads instead of coroutines). */
#include <unasync/async.h>
/* The libuv adapter. An escape hatch until the transformer redirects this include by the
 * runtime's rule map (unasync/async_uv.h -> unasync/sync_uv.h). */
#if UNASYNC_ASYNC
#include <unasync/async_uv.h>
#else
#include <unasync/sync_uv.h>
#endif

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "check.h"

enum { NTASKS = 8, NROUNDS = 200 };

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int return_arg(void *arg)
{
    return (int)(intptr_t)arg;
}

/* ---- run, spawn, join, yield, sleep ---- */

static void run_returns_the_main_result(void **state)
{
    assert_int_equal(async_run(return_arg, (void *)42), 42);
}

static async int spawn_join_body(void *arg)
{
    async_task_t *tasks[10];
    for (int i = 0; i < 10; i++) {
        tasks[i] = async_spawn(return_arg, (void *)(intptr_t)(i * 3));
        CHECK(tasks[i] != NULL);
    }
    int sum = 0;
    for (int i = 0; i < 10; i++) {
        int result = -1;
        CHECK_RC(await async_join(tasks[i], &result), 0);
        CHECK(result == i * 3);
        sum += result;
    }
    CHECK(sum == 135);
    CHECK(async_self() != NULL);
    CHECK_RC(await async_join(async_self(), NULL), UNASYNC_EINVAL);
    return 0;
}

static void join_returns_each_spawned_result(void **state)
{
    assert_int_equal(async_run(spawn_join_body, NULL), 0);
}

static async int yield_body(void *arg)
{
    for (int i = 0; i < 100; i++)
        CHECK_RC(await async_yield(), 0);
    return 7;
}

static async int yield_main(void *arg)
{
    async_task_t *a = async_spawn(yield_body, NULL);
    async_task_t *b = async_spawn(yield_body, NULL);
    int ra = 0, rb = 0;
    CHECK_RC(await async_join(a, &ra), 0);
    CHECK_RC(await async_join(b, &rb), 0);
    CHECK(ra == 7 && rb == 7);
    return 0;
}

static void yield_lets_others_run_and_returns_zero(void **state)
{
    assert_int_equal(async_run(yield_main, NULL), 0);
}

static async int sleep_body(void *arg)
{
    uint64_t start = now_ms();
    CHECK_RC(await async_sleep_ms(20), 0);
    /* Never early (the loop clock has millisecond granularity, hence 19). */
    CHECK(now_ms() - start >= 19);
    CHECK_RC(await async_sleep_ms(0), 0);
    return 0;
}

static void sleep_does_not_return_early(void **state)
{
    assert_int_equal(async_run(sleep_body, NULL), 0);
}

static int deep_stack_body(void *arg)
{
    volatile char buf[96 * 1024];
    memset((char *)buf, 7, sizeof buf);
    return buf[sizeof buf - 1];
}

static async int stack_size_main(void *arg)
{
    CHECK_RC(async_set_stack_size(1), UNASYNC_EINVAL);
    CHECK_RC(async_set_stack_size(512 * 1024), 0);
    async_task_t *t = async_spawn(deep_stack_body, NULL);
    CHECK(t != NULL);
    int result = 0;
    CHECK_RC(await async_join(t, &result), 0);
    CHECK(result == 7);
    CHECK_RC(async_set_stack_size(256 * 1024), 0);
    return 0;
}

static void stack_size_applies_to_new_tasks(void **state)
{
    assert_int_equal(async_run(stack_size_main, NULL), 0);
}

/* ---- mutex ---- */

struct counter {
    async_mutex_t lock;
    int value;
    int inside;
    int overlaps;
    int order[NTASKS];
    int next;
};

static struct counter counter;

static async int increment_body(void *arg)
{
    for (int i = 0; i < NROUNDS; i++) {
        CHECK_RC(await async_mutex_lock(&counter.lock), 0);
        if (++counter.inside != 1)
            counter.overlaps++;
        int seen = counter.value;
        CHECK_RC(await async_yield(), 0);
        counter.value = seen + 1;
        counter.inside--;
        CHECK_RC(async_mutex_unlock(&counter.lock), 0);
    }
    return 0;
}

static async int contended_main(void *arg)
{
    memset(&counter, 0, sizeof counter);
    CHECK_RC(async_mutex_init(&counter.lock), 0);
    async_task_t *tasks[NTASKS];
    for (int i = 0; i < NTASKS; i++)
        tasks[i] = async_spawn(increment_body, NULL);
    for (int i = 0; i < NTASKS; i++) {
        int result = -1;
        CHECK_RC(await async_join(tasks[i], &result), 0);
        CHECK(result == 0);
    }
    CHECK(counter.value == NTASKS * NROUNDS);
    CHECK(counter.overlaps == 0);
    CHECK_RC(async_mutex_destroy(&counter.lock), 0);
    return 0;
}

static void contended_mutex_counts_exactly_with_one_holder(void **state)
{
    assert_int_equal(async_run(contended_main, NULL), 0);
}

static async int fifo_body(void *arg)
{
    CHECK_RC(await async_mutex_lock(&counter.lock), 0);
    counter.order[counter.next++] = (int)(intptr_t)arg;
    CHECK_RC(async_mutex_unlock(&counter.lock), 0);
    return 0;
}

static async int fifo_main(void *arg)
{
    memset(&counter, 0, sizeof counter);
    async_mutex_init(&counter.lock);
    CHECK_RC(await async_mutex_lock(&counter.lock), 0);
    async_task_t *tasks[NTASKS];
    for (int i = 0; i < NTASKS; i++) {
        tasks[i] = async_spawn(fifo_body, (void *)(intptr_t)i);
        /* Queue them one by one so the arrival order is known. */
        while (async_mutex_nwaiters(&counter.lock) < (size_t)i + 1)
            CHECK_RC(await async_yield(), 0);
    }
    CHECK_RC(async_mutex_unlock(&counter.lock), 0);
    for (int i = 0; i < NTASKS; i++)
        CHECK_RC(await async_join(tasks[i], NULL), 0);
    for (int i = 0; i < NTASKS; i++)
        CHECK(counter.order[i] == i);
    return 0;
}

static void mutex_hands_over_in_fifo_order(void **state)
{
    assert_int_equal(async_run(fifo_main, NULL), 0);
}

static int try_from_other(void *arg)
{
    async_mutex_t *m = arg;
    CHECK_RC(async_mutex_trylock(m), UNASYNC_EBUSY);
    CHECK_RC(async_mutex_unlock(m), UNASYNC_EPERM);
    return 0;
}

static async int misuse_main(void *arg)
{
    async_mutex_t m;
    async_mutex_init(&m);
    CHECK_RC(async_mutex_unlock(&m), UNASYNC_EPERM);
    CHECK_RC(async_mutex_trylock(&m), 0);
    CHECK_RC(await async_mutex_lock(&m), UNASYNC_EDEADLK);
    CHECK_RC(async_mutex_destroy(&m), UNASYNC_EBUSY);
    int result = -1;
    CHECK_RC(await async_join(async_spawn(try_from_other, &m), &result), 0);
    CHECK(result == 0);
    CHECK_RC(async_mutex_unlock(&m), 0);
    CHECK_RC(async_mutex_destroy(&m), 0);
    return 0;
}

static void mutex_rejects_misuse_with_error_codes(void **state)
{
    assert_int_equal(async_run(misuse_main, NULL), 0);
}

/* ---- condition variable, semaphore, event ---- */

struct queue {
    async_mutex_t lock;
    async_cond_t nonempty;
    int items[64];
    int count;
    int closed;
};

static async int consumer_body(void *arg)
{
    struct queue *q = arg;
    int sum = 0;
    CHECK_RC(await async_mutex_lock(&q->lock), 0);
    for (;;) {
        while (q->count == 0 && !q->closed)
            CHECK_RC(await async_cond_wait(&q->nonempty, &q->lock), 0);
        if (q->count == 0)
            break;
        sum += q->items[--q->count];
    }
    CHECK_RC(async_mutex_unlock(&q->lock), 0);
    return sum;
}

static async int cond_main(void *arg)
{
    struct queue q;
    memset(&q, 0, sizeof q);
    async_mutex_init(&q.lock);
    async_cond_init(&q.nonempty);
    async_task_t *consumers[4];
    for (int i = 0; i < 4; i++)
        consumers[i] = async_spawn(consumer_body, &q);
    for (int i = 1; i <= 40; i++) {
        CHECK_RC(await async_mutex_lock(&q.lock), 0);
        q.items[q.count++] = i;
        CHECK_RC(async_cond_signal(&q.nonempty), 0);
        CHECK_RC(async_mutex_unlock(&q.lock), 0);
        if (i % 8 == 0)
            CHECK_RC(await async_sleep_ms(1), 0);
    }
    CHECK_RC(await async_mutex_lock(&q.lock), 0);
    q.closed = 1;
    CHECK_RC(async_cond_broadcast(&q.nonempty), 0);
    CHECK_RC(async_mutex_unlock(&q.lock), 0);
    int total = 0;
    for (int i = 0; i < 4; i++) {
        int sum = 0;
        CHECK_RC(await async_join(consumers[i], &sum), 0);
        total += sum;
    }
    CHECK(total == 40 * 41 / 2);
    CHECK_RC(async_cond_destroy(&q.nonempty), 0);
    CHECK_RC(async_mutex_destroy(&q.lock), 0);
    return 0;
}

static void cond_delivers_every_item_to_consumers(void **state)
{
    assert_int_equal(async_run(cond_main, NULL), 0);
}

struct pool {
    async_sem_t slots;
    async_mutex_t lock;
    int inside;
    int most;
};

static async int pool_body(void *arg)
{
    struct pool *p = arg;
    CHECK_RC(await async_sem_wait(&p->slots), 0);
    CHECK_RC(await async_mutex_lock(&p->lock), 0);
    if (++p->inside > p->most)
        p->most = p->inside;
    CHECK_RC(async_mutex_unlock(&p->lock), 0);
    CHECK_RC(await async_sleep_ms(2), 0);
    CHECK_RC(await async_mutex_lock(&p->lock), 0);
    p->inside--;
    CHECK_RC(async_mutex_unlock(&p->lock), 0);
    CHECK_RC(async_sem_post(&p->slots), 0);
    return 0;
}

static async int sem_main(void *arg)
{
    struct pool p;
    memset(&p, 0, sizeof p);
    async_sem_init(&p.slots, 3);
    async_mutex_init(&p.lock);
    async_task_t *tasks[12];
    for (int i = 0; i < 12; i++)
        tasks[i] = async_spawn(pool_body, &p);
    for (int i = 0; i < 12; i++)
        CHECK_RC(await async_join(tasks[i], NULL), 0);
    CHECK(p.most >= 1 && p.most <= 3);
    CHECK_RC(async_sem_trywait(&p.slots), 0);
    CHECK_RC(async_sem_trywait(&p.slots), 0);
    CHECK_RC(async_sem_trywait(&p.slots), 0);
    CHECK_RC(async_sem_trywait(&p.slots), UNASYNC_EAGAIN);
    CHECK_RC(async_sem_destroy(&p.slots), 0);
    CHECK_RC(async_mutex_destroy(&p.lock), 0);
    return 0;
}

static void semaphore_limits_concurrency(void **state)
{
    assert_int_equal(async_run(sem_main, NULL), 0);
}

static async int event_waiter(void *arg)
{
    return await async_event_wait(arg);
}

static async int event_main(void *arg)
{
    async_event_t e;
    async_event_init(&e);
    async_task_t *tasks[5];
    for (int i = 0; i < 5; i++)
        tasks[i] = async_spawn(event_waiter, &e);
    CHECK_RC(await async_sleep_ms(2), 0);
    CHECK(!async_event_is_set(&e));
    CHECK_RC(async_event_set(&e), 0);
    for (int i = 0; i < 5; i++) {
        int result = -1;
        CHECK_RC(await async_join(tasks[i], &result), 0);
        CHECK(result == 0);
    }
    CHECK_RC(await async_event_wait(&e), 0); /* stays set */
    CHECK_RC(async_event_destroy(&e), 0);
    return 0;
}

static void event_wakes_every_waiter_and_stays_set(void **state)
{
    assert_int_equal(async_run(event_main, NULL), 0);
}

/* ---- timeouts ---- */

static async int sleep_long(void *arg)
{
    return await async_sleep_ms(60000);
}

static async int timeout_main(void *arg)
{
    async_mutex_t m;
    async_cond_t c;
    async_sem_t s;
    async_event_t e;
    async_mutex_init(&m);
    async_cond_init(&c);
    async_sem_init(&s, 0);
    async_event_init(&e);

    CHECK_RC(await async_sem_wait_timed(&s, 10), UNASYNC_ETIMEDOUT);
    CHECK_RC(await async_event_wait_timed(&e, 10), UNASYNC_ETIMEDOUT);
    CHECK_RC(await async_mutex_lock(&m), 0);
    CHECK_RC(await async_cond_wait_timed(&c, &m, 10), UNASYNC_ETIMEDOUT);
    CHECK_RC(async_mutex_unlock(&m), 0); /* re-acquired after the timeout */

    async_task_t *holder = async_spawn(sleep_long, NULL);
    CHECK_RC(await async_join_timed(holder, NULL, 10), UNASYNC_ETIMEDOUT);
    CHECK_RC(async_cancel(holder), 0);
    int result = 0;
    CHECK_RC(await async_join(holder, &result), 0);
    CHECK(result == UNASYNC_ECANCELED);

    CHECK_RC(async_sem_post(&s), 0);
    CHECK_RC(await async_sem_wait_timed(&s, 10), 0);
    CHECK(async_mutex_nwaiters(&m) == 0);
    async_mutex_destroy(&m);
    async_cond_destroy(&c);
    async_sem_destroy(&s);
    async_event_destroy(&e);
    return 0;
}

static void timed_waits_expire_and_leave_primitives_usable(void **state)
{
    assert_int_equal(async_run(timeout_main, NULL), 0);
}

static async_mutex_t held;

static async int lock_timed_body(void *arg)
{
    return await async_mutex_lock_timed(&held, 10);
}

static async int mutex_timeout_main(void *arg)
{
    async_mutex_init(&held);
    CHECK_RC(await async_mutex_lock(&held), 0);
    int result = 0;
    CHECK_RC(await async_join(async_spawn(lock_timed_body, NULL), &result), 0);
    CHECK(result == UNASYNC_ETIMEDOUT);
    CHECK(async_mutex_nwaiters(&held) == 0);
    CHECK_RC(async_mutex_unlock(&held), 0);
    CHECK_RC(async_mutex_destroy(&held), 0);
    return 0;
}

static void mutex_lock_times_out_while_held(void **state)
{
    assert_int_equal(async_run(mutex_timeout_main, NULL), 0);
}

/* ---- cancellation ---- */

enum blocker { ON_SLEEP, ON_MUTEX, ON_COND, ON_SEM, ON_EVENT, ON_JOIN, ON_YIELD, NBLOCKERS };

struct blocked {
    enum blocker kind;
    async_mutex_t m;
    async_cond_t c;
    async_sem_t s;
    async_event_t e;
};

/* Blocks on one primitive, expects the cancellation, then checks that it was one-shot. */
static async int blocked_body(void *arg)
{
    struct blocked *b = arg;
    int rc = 0;
    switch (b->kind) {
    case ON_SLEEP:
        rc = await async_sleep_ms(60000);
        break;
    case ON_MUTEX:
        rc = await async_mutex_lock(&b->m);
        break;
    case ON_COND:
        CHECK_RC(await async_mutex_lock(&b->m), 0);
        rc = await async_cond_wait(&b->c, &b->m);
        CHECK_RC(async_mutex_unlock(&b->m), 0); /* held again after the cancellation */
        break;
    case ON_SEM:
        rc = await async_sem_wait(&b->s);
        break;
    case ON_EVENT:
        rc = await async_event_wait(&b->e);
        break;
    case ON_JOIN: {
        async_task_t *sleeper = async_spawn(sleep_long, NULL);
        rc = await async_join(sleeper, NULL);
        async_cancel(sleeper);
        CHECK_RC(await async_join(sleeper, NULL), 0); /* cleanup may await */
        break;
    }
    case ON_YIELD:
        while ((rc = await async_yield()) == 0)
            ;
        break;
    default:
        return -1;
    }
    CHECK_RC(rc, UNASYNC_ECANCELED);
    CHECK_RC(await async_sleep_ms(1), 0); /* the cancellation was consumed */
    return 0;
}

static async int cancel_main(void *arg)
{
    for (int kind = 0; kind < NBLOCKERS; kind++) {
        struct blocked b;
        memset(&b, 0, sizeof b);
        b.kind = (enum blocker)kind;
        async_mutex_init(&b.m);
        async_cond_init(&b.c);
        async_sem_init(&b.s, 0);
        async_event_init(&b.e);
        if (kind == ON_MUTEX)
            CHECK_RC(await async_mutex_lock(&b.m), 0);
        async_task_t *t = async_spawn(blocked_body, &b);
        CHECK(t != NULL);
        if (kind == ON_MUTEX) {
            while (async_mutex_nwaiters(&b.m) == 0)
                CHECK_RC(await async_yield(), 0);
        } else {
            CHECK_RC(await async_sleep_ms(5), 0);
        }
        CHECK_RC(async_cancel(t), 0);
        int result = -1;
        CHECK_RC(await async_join(t, &result), 0);
        if (result != 0)
            fprintf(stderr, "blocker %d failed at line %d\n", kind, result);
        CHECK(result == 0);
        if (kind == ON_MUTEX)
            CHECK_RC(async_mutex_unlock(&b.m), 0);
        CHECK_RC(async_mutex_destroy(&b.m), 0);
        CHECK_RC(async_cond_destroy(&b.c), 0);
        CHECK_RC(async_sem_destroy(&b.s), 0);
        CHECK_RC(async_event_destroy(&b.e), 0);
    }
    return 0;
}

static void cancel_interrupts_a_task_blocked_on_each_primitive(void **state)
{
    assert_int_equal(async_run(cancel_main, NULL), 0);
}

static async int granted_body(void *arg)
{
    CHECK_RC(await async_mutex_lock(&held), 0);
    CHECK_RC(async_mutex_unlock(&held), 0);
    CHECK_RC(await async_sleep_ms(60000), UNASYNC_ECANCELED);
    return 0;
}

static async int granted_main(void *arg)
{
    async_mutex_init(&held);
    CHECK_RC(await async_mutex_lock(&held), 0);
    async_task_t *t = async_spawn(granted_body, NULL);
    while (async_mutex_nwaiters(&held) == 0)
        CHECK_RC(await async_yield(), 0);
    CHECK_RC(async_mutex_unlock(&held), 0); /* hands the mutex over ... */
    CHECK_RC(async_cancel(t), 0);           /* ... before the cancellation arrives */
    int result = -1;
    CHECK_RC(await async_join(t, &result), 0);
    CHECK(result == 0);
    CHECK_RC(async_mutex_destroy(&held), 0);
    return 0;
}

static void cancel_after_a_grant_keeps_it_and_stays_pending(void **state)
{
    assert_int_equal(async_run(granted_main, NULL), 0);
}

#if UNASYNC_ASYNC
static int misuse_count;

static void count_misuse(const char *what)
{
    misuse_count++;
}

/* Async primitives need a coroutine; called from plain code they report and fail cleanly. */
static void async_calls_outside_a_coroutine_return_enotcoro(void **state)
{
    unasync_misuse_fn old = unasync_set_misuse_handler(count_misuse);
    async_mutex_t m;
    async_mutex_init(&m);
    assert_int_equal(async_sleep_ms(1), UNASYNC_ENOTCORO);
    assert_int_equal(async_yield(), UNASYNC_ENOTCORO);
    assert_int_equal(async_mutex_lock(&m), UNASYNC_ENOTCORO);
    assert_null(async_spawn(return_arg, NULL));
    assert_null(async_loop());
    assert_int_equal(misuse_count, 4);
    unasync_set_misuse_handler(old);
    assert_string_equal(unasync_err_name(UNASYNC_ENOTCORO), "ENOTCORO");
}

static int nested_run(void *arg)
{
    CHECK_RC(async_run(return_arg, NULL), UNASYNC_EBUSY);
    return 0;
}

static void run_does_not_nest(void **state)
{
    assert_int_equal(async_run(nested_run, NULL), 0);
}

static async int wait_forever(void *arg)
{
    async_event_t never;
    async_event_init(&never);
    return await async_event_wait(&never);
}

/* When every coroutine waits for something no callback can deliver, async_run cancels them
 * instead of returning with coroutines suspended (or hanging). */
static void a_deadlocked_run_cancels_its_waiters(void **state)
{
    assert_int_equal(async_run(wait_forever, NULL), UNASYNC_ECANCELED);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(run_returns_the_main_result),
        cmocka_unit_test(join_returns_each_spawned_result),
        cmocka_unit_test(yield_lets_others_run_and_returns_zero),
        cmocka_unit_test(sleep_does_not_return_early),
        cmocka_unit_test(stack_size_applies_to_new_tasks),
        cmocka_unit_test(contended_mutex_counts_exactly_with_one_holder),
        cmocka_unit_test(mutex_hands_over_in_fifo_order),
        cmocka_unit_test(mutex_rejects_misuse_with_error_codes),
        cmocka_unit_test(cond_delivers_every_item_to_consumers),
        cmocka_unit_test(semaphore_limits_concurrency),
        cmocka_unit_test(event_wakes_every_waiter_and_stays_set),
        cmocka_unit_test(timed_waits_expire_and_leave_primitives_usable),
        cmocka_unit_test(mutex_lock_times_out_while_held),
        cmocka_unit_test(cancel_interrupts_a_task_blocked_on_each_primitive),
        cmocka_unit_test(cancel_after_a_grant_keeps_it_and_stays_pending),
#if UNASYNC_ASYNC
        cmocka_unit_test(async_calls_outside_a_coroutine_return_enotcoro),
        cmocka_unit_test(run_does_not_nest),
        cmocka_unit_test(a_deadlocked_run_cancels_its_waiters),
#endif
    };
    return cmocka_run_group_tests_name(UNASYNC_ASYNC ? "runtime async tasks" : "runtime sync tasks",
                                       tests, NULL, NULL);
}
