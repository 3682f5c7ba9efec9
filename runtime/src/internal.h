/* Internal pieces shared by the async and the sync implementation: wait queues, the clock,
 * wake reasons and misuse reporting. */
#ifndef UA_INTERNAL_H
#define UA_INTERNAL_H

#include <unasync/common.h>

#include <stddef.h>
#include <stdint.h>

/* One task waiting on a primitive; lives on the waiting task's stack. */
struct unasync_waiter {
    struct unasync_waiter *next;
    struct unasync_waiter *prev;
    void *task;  /* async_task_t * or sync_task_t * */
    int granted; /* set (under the primitive's lock) by whoever hands it what it waited for */
};

/* Why a parked task continued. */
enum ua_wake { UA_WOKEN = 0, UA_TIMEOUT = 1, UA_CANCELED = 2 };

static inline void ua_waitq_push(struct unasync_waitq *q, struct unasync_waiter *w)
{
    w->next = NULL;
    w->prev = q->tail;
    if (q->tail)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
    q->count++;
}

static inline void ua_waitq_remove(struct unasync_waitq *q, struct unasync_waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        q->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        q->tail = w->prev;
    w->next = w->prev = NULL;
    q->count--;
}

static inline struct unasync_waiter *ua_waitq_pop(struct unasync_waitq *q)
{
    struct unasync_waiter *w = q->head;
    if (w)
        ua_waitq_remove(q, w);
    return w;
}

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t ua_now_ms(void);
/* The code of a failed hiredis connect: the system error (-errno) when hiredis saw one (`err` is
 * errno right after hiredis returned; errstr is matched too), else UNASYNC_EREDIS. */
int ua_redis_connect_error(int redis_err, const char *errstr, int err);
/* ms from now as an absolute deadline (UINT64_MAX for UNASYNC_FOREVER or on overflow). */
uint64_t ua_deadline(uint64_t timeout_ms);
/* What is left until `deadline` (UNASYNC_FOREVER for UINT64_MAX, 0 when passed). */
uint64_t ua_left(uint64_t deadline);
/* Reports misuse through the handler set with unasync_set_misuse_handler. */
void ua_misuse(const char *what);

/* Every heap allocation of runtime/src goes through these (alloc.c), so that the hook set with
 * unasync_set_allocator sees it. ua_rt_calloc zeroes and returns NULL when n * size overflows;
 * ua_rt_free(NULL) does nothing. Coroutine stacks are mmap'd and stay outside. */
void *ua_rt_malloc(size_t n);
void *ua_rt_calloc(size_t n, size_t size);
void ua_rt_free(void *p);

#endif /* UA_INTERNAL_H */
