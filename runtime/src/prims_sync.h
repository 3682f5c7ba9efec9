/* prims_sync.h - the sync instance of prims.inc and event.inc: threads, each primitive guarded by a
 * pthread mutex, waiters parked on their own thread's condition variable. */
#ifndef UNASYNC_PRIMS_SYNC_H
#define UNASYNC_PRIMS_SYNC_H

#include "sync_internal.h"

#define UA_P(name)           sync_##name
#define UA_TASK              sync_task_t
#define UA_SELF(what)        sync_self()
#define UA_ENOSELF           UNASYNC_ENOMEM
#define UA_LOCK_INIT(p)      pthread_mutex_init(&(p)->lock, NULL)
#define UA_LOCK_FINI(p)      pthread_mutex_destroy(&(p)->lock)
#define UA_LOCK(p)           pthread_mutex_lock(&(p)->lock)
#define UA_UNLOCK(p)         pthread_mutex_unlock(&(p)->lock)
#define UA_PARK(self, p, ms) ua_sync_park(self, &(p)->lock, ms)
#define UA_UNPARK(w)         ((w)->granted = 1, ua_sync_unpark((sync_task_t *)(w)->task))
#define UA_CANCELLED(self)   ua_sync_cancelled(self)
#define UA_NOCANCEL(self, d) ((self)->nocancel += (d))

#endif
