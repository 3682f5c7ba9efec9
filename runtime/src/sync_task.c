/* The sync runtime's tasks: threads with a parking spot each, so that every blocking call of
 * the sync API honours timeouts and sync_cancel the way its async twin does. */
#include "sync_internal.h"

#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static _Thread_local sync_task_t *ua_sync_cur;
static _Thread_local size_t ua_sync_stack_size;
static _Thread_local int ua_sync_no_guard;
static pthread_key_t ua_sync_key;
static pthread_once_t ua_sync_once = PTHREAD_ONCE_INIT;

static void ua_sync_release(sync_task_t *t)
{
    if (atomic_fetch_sub(&t->refs, 1) != 1)
        return;
    if (t->loop) {
        if (uv_loop_close(t->loop) != 0) {
            uv_run(t->loop, UV_RUN_DEFAULT);
            uv_loop_close(t->loop);
        }
        ua_rt_free(t->loop);
    }
    if (t->efd >= 0)
        close(t->efd);
    sync_event_destroy(&t->done);
    pthread_cond_destroy(&t->tc);
    pthread_mutex_destroy(&t->tm);
    ua_rt_free(t);
}

static void ua_sync_key_dtor(void *p)
{
    ua_sync_release(p);
}

static void ua_sync_key_init(void)
{
    pthread_key_create(&ua_sync_key, ua_sync_key_dtor);
}

static sync_task_t *ua_sync_new(int refs)
{
    sync_task_t *t = ua_rt_calloc(1, sizeof *t);
    if (!t)
        return NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->tc, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&t->tm, NULL);
    sync_event_init(&t->done);
    t->efd = -1;
    atomic_init(&t->refs, refs);
    return t;
}

sync_task_t *sync_self(void)
{
    if (ua_sync_cur)
        return ua_sync_cur;
    pthread_once(&ua_sync_once, ua_sync_key_init);
    sync_task_t *t = ua_sync_new(1);
    if (!t)
        return NULL;
    ua_sync_cur = t;
    pthread_setspecific(ua_sync_key, t); /* released when this thread exits */
    return t;
}

int sync_run(int (*fn)(void *), void *arg)
{
    if (!fn)
        return UNASYNC_EINVAL;
    int created = ua_sync_cur == NULL;
    if (!sync_self())
        return UNASYNC_ENOMEM;
    int rc = fn(arg);
    if (created) {
        sync_task_t *t = ua_sync_cur;
        pthread_setspecific(ua_sync_key, NULL);
        ua_sync_cur = NULL;
        ua_sync_release(t);
    }
    return rc;
}

/* ---- parking ---- */

int ua_sync_park(sync_task_t *t, pthread_mutex_t *pm, uint64_t timeout_ms)
{
    uint64_t dl = ua_deadline(timeout_ms);
    struct timespec ts = {(time_t)(dl / 1000u), (long)(dl % 1000u) * 1000000L};
    int why = UA_WOKEN;
    pthread_mutex_lock(&t->tm);
    t->wake = 0;
    if (pm)
        pthread_mutex_unlock(pm); /* an unparker now blocks on t->tm until we wait */
    for (;;) {
        if (t->wake)
            break;
        if (t->cancel && !t->nocancel) {
            why = UA_CANCELED;
            break;
        }
        if (dl == UINT64_MAX) {
            pthread_cond_wait(&t->tc, &t->tm);
        } else if (pthread_cond_timedwait(&t->tc, &t->tm, &ts) != 0) {
            why = t->wake ? UA_WOKEN : UA_TIMEOUT;
            break;
        }
    }
    pthread_mutex_unlock(&t->tm);
    if (pm)
        pthread_mutex_lock(pm);
    return why;
}

void ua_sync_unpark(sync_task_t *t)
{
    pthread_mutex_lock(&t->tm);
    t->wake = 1;
    pthread_cond_signal(&t->tc);
    pthread_mutex_unlock(&t->tm);
}

int ua_sync_cancelled(sync_task_t *t)
{
    pthread_mutex_lock(&t->tm);
    t->cancel = 0;
    pthread_mutex_unlock(&t->tm);
    return UNASYNC_ECANCELED;
}

int ua_sync_cancel_pending(sync_task_t *t)
{
    pthread_mutex_lock(&t->tm);
    int c = t->cancel && !t->nocancel;
    pthread_mutex_unlock(&t->tm);
    return c;
}

int ua_sync_poll(int fd, short events, uint64_t timeout_ms)
{
    sync_task_t *t = sync_self();
    if (!t)
        return UNASYNC_ENOMEM;
    pthread_mutex_lock(&t->tm);
    if (t->efd < 0)
        t->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int efd = t->efd;
    pthread_mutex_unlock(&t->tm);
    if (efd < 0)
        return -errno;
    uint64_t dl = ua_deadline(timeout_ms);
    for (;;) {
        if (ua_sync_cancel_pending(t))
            return ua_sync_cancelled(t);
        uint64_t left = ua_left(dl);
        int ms = left == UNASYNC_FOREVER ? -1 : left > 1000000 ? 1000000 : (int)left;
        struct pollfd p[2] = {{fd, events, 0}, {efd, POLLIN, 0}};
        int n = poll(p, 2, ms);
        if (n < 0 && errno != EINTR)
            return -errno;
        if (n > 0 && p[1].revents) {
            uint64_t v;
            ssize_t r = read(efd, &v, sizeof v);
            (void)r;
        }
        if (n > 0 && p[0].revents)
            return 0;
        if (n == 0 && ms >= 0 && ua_left(dl) == 0)
            return UNASYNC_ETIMEDOUT;
    }
}

/* ---- tasks ---- */

static void *ua_sync_main(void *arg)
{
    sync_task_t *t = arg;
    ua_sync_cur = t;
    t->result = t->fn(t->arg);
    sync_event_set(&t->done);
    ua_sync_cur = NULL;
    ua_sync_release(t);
    return NULL;
}

sync_task_t *sync_spawn(int (*fn)(void *), void *arg)
{
    if (!fn)
        return NULL;
    sync_task_t *t = ua_sync_new(2);
    if (!t)
        return NULL;
    t->fn = fn;
    t->arg = arg;
    t->spawned = 1;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (ua_sync_stack_size)
        pthread_attr_setstacksize(&attr, ua_sync_stack_size);
    if (ua_sync_no_guard)
        pthread_attr_setguardsize(&attr, 0);
    int rc = pthread_create(&t->thread, &attr, ua_sync_main, t);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        atomic_store(&t->refs, 1);
        ua_sync_release(t);
        return NULL;
    }
    return t;
}

int sync_join_timed(sync_task_t *task, int *result, uint64_t timeout_ms)
{
    sync_task_t *self = sync_self();
    if (!self)
        return UNASYNC_ENOMEM;
    if (!task || !task->spawned)
        return UNASYNC_EINVAL;
    if (task == self)
        return UNASYNC_EDEADLK;
    int rc = sync_event_wait_timed(&task->done, timeout_ms);
    if (rc != 0)
        return rc;
    pthread_join(task->thread, NULL);
    if (result)
        *result = task->result;
    ua_sync_release(task);
    return 0;
}

int sync_join(sync_task_t *task, int *result)
{
    return sync_join_timed(task, result, UNASYNC_FOREVER);
}

void sync_detach(sync_task_t *task)
{
    if (!task || !task->spawned)
        return;
    pthread_detach(task->thread);
    ua_sync_release(task);
}

int sync_cancel(sync_task_t *task)
{
    if (!task)
        return UNASYNC_EINVAL;
    pthread_mutex_lock(&task->tm);
    task->cancel = 1;
    pthread_cond_signal(&task->tc);
    if (task->efd >= 0) {
        uint64_t one = 1;
        ssize_t r = write(task->efd, &one, sizeof one);
        (void)r;
    }
    pthread_mutex_unlock(&task->tm);
    return 0;
}

int sync_yield(void)
{
    sync_task_t *self = sync_self();
    if (!self)
        return UNASYNC_ENOMEM;
    if (ua_sync_cancel_pending(self))
        return ua_sync_cancelled(self);
    sched_yield();
    return 0;
}

int sync_sleep_ms(uint64_t ms)
{
    sync_task_t *self = sync_self();
    if (!self)
        return UNASYNC_ENOMEM;
    uint64_t dl = ua_deadline(ms);
    for (;;) {
        int why = ua_sync_park(self, NULL, ua_left(dl));
        if (why == UA_CANCELED)
            return ua_sync_cancelled(self);
        if (why == UA_TIMEOUT && ua_left(dl) == 0)
            return 0;
    }
}

int sync_set_stack_size(size_t bytes)
{
    if (bytes < 16384 || bytes > ((size_t)1 << 40))
        return UNASYNC_EINVAL;
    ua_sync_stack_size = bytes;
    return 0;
}

int sync_set_guard_pages(int on)
{
    ua_sync_no_guard = !on;
    return 0;
}

/* ---- adapters ---- */

uv_loop_t *sync_loop(void)
{
    sync_task_t *t = sync_self();
    if (!t)
        return NULL;
    if (!t->loop) {
        uv_loop_t *loop = ua_rt_malloc(sizeof *loop);
        if (!loop || uv_loop_init(loop) != 0) {
            ua_rt_free(loop);
            return NULL;
        }
        t->loop = loop;
    }
    return t->loop;
}

struct ua_sync_req_wait {
    int status;
    int done;
};

void sync_req_done(uv_req_t *req, int status)
{
    struct ua_sync_req_wait *w = req->data;
    w->status = status;
    w->done = 1;
}

int sync_await_req(uv_req_t *req, int (*start)(uv_loop_t *, uv_req_t *, void *), void *arg)
{
    uv_loop_t *loop = sync_loop();
    if (!loop)
        return UNASYNC_ENOMEM;
    if (ua_sync_cancel_pending(ua_sync_cur))
        return ua_sync_cancelled(ua_sync_cur);
    struct ua_sync_req_wait w = {0, 0};
    req->data = &w;
    int rc = start(loop, req, arg);
    if (rc != 0)
        return rc;
    while (!w.done)
        uv_run(loop, UV_RUN_ONCE);
    return w.status;
}

/* ---- the event tasks are joined with (event.inc) ---- */

#include "prims_sync.h"

#include "event.inc"
