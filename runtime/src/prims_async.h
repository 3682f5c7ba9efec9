/* prims_async.h - the async instance of prims.inc and event.inc: coroutines of one loop, no locks
 * (only one coroutine of a loop runs at a time and switches happen only inside UA_PARK). */
#ifndef UNASYNC_PRIMS_ASYNC_H
#define UNASYNC_PRIMS_ASYNC_H

#include "rt_sched.h"

#define UA_P(name)           async_##name
#define UA_TASK              async_task_t
#define UA_SELF(what)        ua_self("async_" what)
#define UA_ENOSELF           UNASYNC_ENOTCORO
#define UA_LOCK_INIT(p)      ((void)(p))
#define UA_LOCK_FINI(p)      ((void)(p))
#define UA_LOCK(p)           ((void)(p))
#define UA_UNLOCK(p)         ((void)(p))
#define UA_PARK(self, p, ms) ua_park(self, ms)
#define UA_UNPARK(w)         ((w)->granted = 1, ua_wake((async_task_t *)(w)->task, UA_WOKEN))
#define UA_CANCELLED(self)   ua_cancelled(self)
#define UA_NOCANCEL(self, d) ((self)->nocancel += (d))

#endif
