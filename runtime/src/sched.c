/* The async scheduler: coroutines on this thread's libuv loop, resumed only from the scheduler
 * stack (libuv callbacks and the run queue's idle handle), never from each other. */
#include "rt_sched.h"

#include "san.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Thread_local struct ua_rt *ua_rt_cur;
static _Thread_local size_t ua_cfg_stack_size = UA_STACK_DEFAULT;
static _Thread_local int ua_cfg_no_guard;

/* Rounds of "everyone is parked and nothing can wake them" before async_run gives up. */
#define UA_DEADLOCK_ROUNDS 16

/* ------------------------------------------------------------------------------------------ */
/* Switching                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* The task record lives at the top of its own stack mapping, next to the hot frames (one page
 * and fewer cache lines per resume), so the stack goes back to the cache only with the record. */
static void ua_task_free(async_task_t *t)
{
    ua_stack_put(&t->rt->stacks, t->stack);
}

static void ua_on_timer_closed(uv_handle_t *h)
{
    async_task_t *t = h->data;
    t->timer_closed = 1;
    if (t->released)
        ua_task_free(t);
}

/* On the scheduler stack, after the task's last switch: give its stack back, close its timer. */
static void ua_task_finished(struct ua_rt *rt, async_task_t *t)
{
    if (t->all_prev)
        t->all_prev->all_next = t->all_next;
    else
        rt->all = t->all_next;
    if (t->all_next)
        t->all_next->all_prev = t->all_prev;
    rt->live--;
    ua_tsan_destroy(t->tsan_fiber);
    uv_close((uv_handle_t *)&t->timer, ua_on_timer_closed);
}

static void ua_resume(async_task_t *t)
{
    struct ua_rt *rt = t->rt;
    assert(rt->current == NULL);
    rt->current = t;
    t->state = UA_RUNNING;
    ua_san_start_switch(&rt->sched_fake, t->stack->bottom, t->stack->size);
    ua_tsan_switch(t->tsan_fiber);
    ua_ctx_switch(&rt->sched_ctx, &t->ctx);
    ua_san_finish_switch(rt->sched_fake, NULL, NULL);
    rt->current = NULL;
    if (t->state == UA_DONE)
        ua_task_finished(rt, t);
}

/* From the running task to the scheduler; returns when someone resumes it. */
static void ua_suspend(async_task_t *t)
{
    struct ua_rt *rt = t->rt;
    ua_san_start_switch(&t->asan_fake, rt->sched_bottom, rt->sched_size);
    ua_tsan_switch(rt->sched_tsan);
    ua_ctx_switch(&t->ctx, &rt->sched_ctx);
    ua_san_finish_switch(t->asan_fake, &rt->sched_bottom, &rt->sched_size);
}

static void ua_entry(void *arg)
{
    async_task_t *t = arg;
    struct ua_rt *rt = t->rt;
    ua_san_finish_switch(NULL, &rt->sched_bottom, &rt->sched_size);
    t->result = t->fn(t->arg);
    async_event_set(&t->done);
    t->state = UA_DONE;
    /* NULL: this fiber is gone, ASan may free its fake stack. */
    ua_san_start_switch(NULL, rt->sched_bottom, rt->sched_size);
    ua_tsan_switch(rt->sched_tsan);
    ua_ctx_switch(&t->ctx, &rt->sched_ctx);
    abort(); /* a finished task is never resumed */
}

/* ------------------------------------------------------------------------------------------ */
/* Run queue                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static void ua_on_idle(uv_idle_t *idle)
{
    struct ua_rt *rt = idle->data;
    /* Run only what was queued before this pass, so a yielding task lets I/O in. */
    async_task_t *tail = rt->rq_tail;
    while (rt->rq_head) {
        async_task_t *t = rt->rq_head;
        rt->rq_head = t->rq_next;
        if (!rt->rq_head)
            rt->rq_tail = NULL;
        t->rq_next = NULL;
        ua_resume(t);
        if (t == tail)
            break;
    }
    if (!rt->rq_head)
        uv_idle_stop(&rt->idle);
}

static void ua_enqueue(async_task_t *t)
{
    struct ua_rt *rt = t->rt;
    t->state = UA_RUNNABLE;
    t->rq_next = NULL;
    if (rt->rq_tail)
        rt->rq_tail->rq_next = t;
    else
        rt->rq_head = t;
    rt->rq_tail = t;
    if (!uv_is_active((uv_handle_t *)&rt->idle))
        uv_idle_start(&rt->idle, ua_on_idle);
}

void ua_wake(async_task_t *t, int reason)
{
    if (t->state != UA_PARKED)
        return;
    t->wake_reason = reason;
    ua_enqueue(t);
}

void ua_wake_now(async_task_t *t, int reason)
{
    if (t->state != UA_PARKED)
        return;
    t->wake_reason = reason;
    if (t->rt->current == NULL)
        ua_resume(t);
    else
        ua_enqueue(t);
}

static void ua_on_timer(uv_timer_t *timer)
{
    ua_wake_now(timer->data, UA_TIMEOUT);
}

async_task_t *ua_self(const char *what)
{
    struct ua_rt *rt = ua_rt_cur;
    if (rt && rt->current)
        return rt->current;
    ua_misuse(what);
    return NULL;
}

int ua_park(async_task_t *self, uint64_t timeout_ms)
{
    if (self->cancel_pending && !self->nocancel)
        return UA_CANCELED;
    int timed = timeout_ms != UNASYNC_FOREVER;
    if (timed)
        uv_timer_start(&self->timer, ua_on_timer, timeout_ms, 0);
    self->state = UA_PARKED;
    self->wake_reason = UA_WOKEN;
    ua_suspend(self);
    if (timed)
        uv_timer_stop(&self->timer);
    return self->wake_reason;
}

int ua_cancelled(async_task_t *self)
{
    self->cancel_pending = 0;
    return UNASYNC_ECANCELED;
}

/* ------------------------------------------------------------------------------------------ */
/* Tasks                                                                                        */
/* ------------------------------------------------------------------------------------------ */

static async_task_t *ua_task_new(struct ua_rt *rt, int (*fn)(void *), void *arg)
{
    size_t rec = (sizeof(async_task_t) + 63) & ~(size_t)63;
    ua_stack_t *st = ua_stack_get(&rt->stacks, ua_cfg_stack_size + rec + 32 * 64, !ua_cfg_no_guard);
    if (!st)
        return NULL;
    /* Stagger records and stack tops over 32 cache lines: at one page offset they would all
     * compete for the same few L1 sets (4 KiB aliasing). */
    size_t colour = (rt->colour++ % 32) * 64;
    async_task_t *t = (async_task_t *)((char *)st->bottom + st->size - rec - colour);
    memset(t, 0, sizeof *t);
    t->stack = st;
    t->tsan_fiber = ua_tsan_create();
    t->fn = fn;
    t->arg = arg;
    t->rt = rt;
    async_event_init(&t->done);
    uv_timer_init(&rt->loop, &t->timer);
    t->timer.data = t;
    ua_ctx_make(&t->ctx, st->bottom, st->size - rec - colour, ua_entry, t);
    t->all_next = rt->all;
    if (rt->all)
        rt->all->all_prev = t;
    rt->all = t;
    rt->live++;
    ua_enqueue(t);
    return t;
}

async_task_t *async_spawn(int (*fn)(void *), void *arg)
{
    if (!ua_self("async_spawn outside a coroutine") || !fn)
        return NULL;
    return ua_task_new(ua_rt_cur, fn, arg);
}

async_task_t *async_self(void)
{
    return ua_rt_cur ? ua_rt_cur->current : NULL;
}

static void ua_release(async_task_t *t)
{
    t->released = 1;
    if (t->timer_closed)
        ua_task_free(t);
}

int async_join_timed(async_task_t *task, int *result, uint64_t timeout_ms)
{
    async_task_t *self = ua_self("async_join outside a coroutine");
    if (!self)
        return UNASYNC_ENOTCORO;
    if (!task || task->is_main)
        return UNASYNC_EINVAL;
    if (task == self)
        return UNASYNC_EDEADLK;
    int rc = async_event_wait_timed(&task->done, timeout_ms);
    if (rc != 0)
        return rc;
    if (result)
        *result = task->result;
    ua_release(task);
    return 0;
}

int async_join(async_task_t *task, int *result)
{
    return async_join_timed(task, result, UNASYNC_FOREVER);
}

void async_detach(async_task_t *task)
{
    if (task && !task->is_main)
        ua_release(task);
}

int async_cancel(async_task_t *task)
{
    if (!task)
        return UNASYNC_EINVAL;
    if (task->state == UA_DONE)
        return 0;
    task->cancel_pending = 1;
    if (!task->nocancel)
        ua_wake(task, UA_CANCELED);
    return 0;
}

int async_yield(void)
{
    async_task_t *self = ua_self("async_yield outside a coroutine");
    if (!self)
        return UNASYNC_ENOTCORO;
    if (self->cancel_pending && !self->nocancel)
        return ua_cancelled(self);
    ua_enqueue(self);
    ua_suspend(self);
    return 0;
}

int async_sleep_ms(uint64_t ms)
{
    async_task_t *self = ua_self("async_sleep_ms outside a coroutine");
    if (!self)
        return UNASYNC_ENOTCORO;
    if (ms == UNASYNC_FOREVER)
        ms = UNASYNC_FOREVER - 1;
    for (;;) {
        int why = ua_park(self, ms);
        if (why == UA_TIMEOUT)
            return 0;
        if (why == UA_CANCELED)
            return ua_cancelled(self);
    }
}

int async_set_stack_size(size_t bytes)
{
    if (bytes < 2 * ua_page_size() || bytes > ((size_t)1 << 40))
        return UNASYNC_EINVAL;
    ua_cfg_stack_size = bytes;
    return 0;
}

int async_set_guard_pages(int on)
{
    ua_cfg_no_guard = !on;
    return 0;
}

uv_loop_t *async_loop(void)
{
    return ua_rt_cur ? &ua_rt_cur->loop : NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* async_run                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static void ua_break_deadlock(struct ua_rt *rt)
{
    fprintf(stderr,
            "unasync: %zu coroutine(s) wait for something that cannot happen; "
            "cancelling them\n",
            rt->live);
    for (async_task_t *t = rt->all; t; t = t->all_next) {
        t->cancel_pending = 1;
        t->nocancel = 0;
        ua_wake(t, UA_CANCELED);
    }
}

int async_run(int (*fn)(void *), void *arg)
{
    if (ua_rt_cur)
        return UNASYNC_EBUSY;
    if (!fn)
        return UNASYNC_EINVAL;
    struct ua_rt *rt = ua_rt_calloc(1, sizeof *rt);
    if (!rt)
        return UNASYNC_ENOMEM;
    int rc = uv_loop_init(&rt->loop);
    if (rc != 0) {
        ua_rt_free(rt);
        return rc;
    }
    uv_idle_init(&rt->loop, &rt->idle);
    rt->idle.data = rt;
    rt->sched_tsan = ua_tsan_current();
    ua_rt_cur = rt;
    async_task_t *main_task = ua_task_new(rt, fn, arg);
    if (!main_task) {
        rc = UNASYNC_ENOMEM;
    } else {
        main_task->is_main = 1;
        for (int round = 0;; round++) {
            uv_run(&rt->loop, UV_RUN_DEFAULT);
            if (rt->live == 0)
                break;
            if (round == UA_DEADLOCK_ROUNDS) {
                fprintf(stderr, "unasync: coroutines keep waiting after cancellation\n");
                abort();
            }
            ua_break_deadlock(rt);
        }
        rc = main_task->result;
        main_task->released = 1;
        if (main_task->timer_closed)
            ua_task_free(main_task);
    }
    uv_close((uv_handle_t *)&rt->idle, NULL);
    uv_run(&rt->loop, UV_RUN_DEFAULT);
    int closed = uv_loop_close(&rt->loop);
    assert(closed == 0);
    (void)closed;
    ua_stack_cache_clear(&rt->stacks);
    ua_rt_cur = NULL;
    ua_rt_free(rt);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Awaiting any libuv request                                                                   */
/* ------------------------------------------------------------------------------------------ */

struct ua_req_wait {
    async_task_t *task;
    int status;
    int done;
};

void async_req_done(uv_req_t *req, int status)
{
    struct ua_req_wait *w = req->data;
    w->status = status;
    w->done = 1;
    ua_wake_now(w->task, UA_WOKEN);
}

int async_await_req(uv_req_t *req, int (*start)(uv_loop_t *, uv_req_t *, void *), void *arg)
{
    async_task_t *self = ua_self("async_await_req outside a coroutine");
    if (!self)
        return UNASYNC_ENOTCORO;
    struct ua_req_wait w = {self, 0, 0};
    req->data = &w;
    int rc = start(&self->rt->loop, req, arg);
    if (rc != 0)
        return rc;
    int cancelled = 0;
    while (!w.done) {
        if (ua_park(self, UNASYNC_FOREVER) == UA_CANCELED && !cancelled) {
            cancelled = 1;
            uv_cancel(req);
            self->nocancel++; /* the callback still has to come: req points into our stack */
        }
    }
    if (cancelled)
        self->nocancel--;
    if (w.status == UV_ECANCELED || w.status == UV_EAI_CANCELED)
        return cancelled ? ua_cancelled(self) : UNASYNC_ECANCELED;
    return w.status;
}

/* ---- the event tasks are joined with (event.inc) ---- */

#include "prims_async.h"

#include "event.inc"
