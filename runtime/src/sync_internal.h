/* Internal to the sync runtime: the thread task record and thread parking, the blocking
 * counterpart of sched.h. */
#ifndef UA_SYNC_INTERNAL_H
#define UA_SYNC_INTERNAL_H

#include <unasync/sync_uv.h>

#include "internal.h"

#include <stdatomic.h>

struct sync_task_s {
    pthread_mutex_t tm; /* guards wake, cancel, efd */
    pthread_cond_t tc;  /* CLOCK_MONOTONIC */
    int wake;           /* set by an unparker */
    int cancel;         /* one-shot cancellation request */
    int nocancel;       /* > 0: parks ignore cancellation */
    int efd;            /* eventfd that sync_cancel pokes while the thread polls; -1 if none */
    pthread_t thread;
    int spawned;
    int (*fn)(void *);
    void *arg;
    int result;
    sync_event_t done;
    atomic_int refs; /* the thread and the owner */
    uv_loop_t *loop; /* sync_loop(), created on first use */
};

/* Parks the calling thread (its task `t`); `pm`, when not NULL, is held on entry, released while
 * parked and held again on return. Returns the enum ua_wake reason. */
int ua_sync_park(sync_task_t *t, pthread_mutex_t *pm, uint64_t timeout_ms);
/* Wakes t (called with the lock of the primitive t waits on held). */
void ua_sync_unpark(sync_task_t *t);
/* Consumes t's pending cancellation; returns UNASYNC_ECANCELED. */
int ua_sync_cancelled(sync_task_t *t);
/* Whether t has a cancellation pending that its next park would act on. */
int ua_sync_cancel_pending(sync_task_t *t);
/* Waits until fd is ready for `events` (POLLIN/POLLOUT), the timeout passes or the calling task
 * is cancelled: 0, UNASYNC_ETIMEDOUT, UNASYNC_ECANCELED or a negative errno. */
int ua_sync_poll(int fd, short events, uint64_t timeout_ms);

#endif /* UA_SYNC_INTERNAL_H */
