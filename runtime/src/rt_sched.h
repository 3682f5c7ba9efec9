/* Internal to the async runtime: the task (coroutine) record, the per-thread scheduler and the
 * park/wake protocol that every async primitive is built on. */
#ifndef UA_RT_SCHED_H
#define UA_RT_SCHED_H

#include <unasync/async_uv.h>

#include "ctx.h"
#include "internal.h"
#include "stack.h"

enum ua_task_state { UA_RUNNING, UA_RUNNABLE, UA_PARKED, UA_DONE };

struct async_task_s {
    ua_ctx_t ctx;
    ua_stack_t *stack;
    void *asan_fake;
    void *tsan_fiber;
    uv_timer_t timer; /* for timeouts and sleeps: a sleep allocates nothing */
    int (*fn)(void *);
    void *arg;
    int result;
    int state;          /* enum ua_task_state */
    int cancel_pending; /* one-shot cancellation request */
    int nocancel;       /* > 0: parks ignore cancellation (cleanup that must complete) */
    int wake_reason;    /* enum ua_wake, set by whoever made it runnable */
    int timer_closed;   /* the timer's close callback ran */
    int released;       /* joined or detached: free when timer_closed */
    int is_main;
    async_task_t *rq_next;
    async_task_t *all_prev, *all_next;
    async_event_t done;
    struct ua_rt *rt;
};

/* One per thread inside async_run. */
struct ua_rt {
    uv_loop_t loop;
    uv_idle_t idle; /* active while the run queue is not empty */
    async_task_t *rq_head, *rq_tail;
    async_task_t *current; /* NULL on the scheduler stack */
    async_task_t *all;     /* every live task, for the deadlock breaker */
    size_t live;
    ua_ctx_t sched_ctx;
    const void *sched_bottom; /* scheduler stack bounds, for ASan */
    size_t sched_size;
    void *sched_fake;
    void *sched_tsan; /* the scheduler's TSan fiber (the thread's own) */
    ua_stack_cache_t stacks;
    unsigned colour; /* next stack colour, see ua_task_new */
};

extern _Thread_local struct ua_rt *ua_rt_cur;

/* The running task, or NULL (after reporting misuse of `what`) outside a coroutine. */
async_task_t *ua_self(const char *what);
/* Suspends the running task until it is woken, its timeout (UNASYNC_FOREVER: none) expires or
 * it is cancelled; returns the enum ua_wake reason. A pending cancellation returns UA_CANCELED
 * at once (unless nocancel). Never consumes the cancellation: the caller does that when it
 * returns UNASYNC_ECANCELED. */
int ua_park(async_task_t *self, uint64_t timeout_ms);
/* Makes a parked task runnable with `reason` through the run queue. No-op unless parked. */
void ua_wake(async_task_t *t, int reason);
/* Resumes a parked task at once when called on the scheduler stack (a libuv callback), else as
 * ua_wake. */
void ua_wake_now(async_task_t *t, int reason);
/* Consumes the running task's pending cancellation; returns UNASYNC_ECANCELED. */
int ua_cancelled(async_task_t *self);

#endif /* UA_RT_SCHED_H */
