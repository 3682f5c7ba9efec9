/* prims_wait.h - the wait every FIFO primitive and the event share (prims.inc, event.inc), in
 * terms of the instance's macros (prims_async.h, prims_sync.h). */
#ifndef UNASYNC_PRIMS_WAIT_H
#define UNASYNC_PRIMS_WAIT_H

/* Waits until w is granted, its deadline passes or the task is cancelled; p's lock is held on
 * entry and exit. 0 when granted (a pending cancellation stays pending), else w is removed. */
#define UA_WAIT_GRANTED(rc, self, p, q, w, timeout_ms)                                             \
    do {                                                                                           \
        uint64_t ua_dl_ = ua_deadline(timeout_ms);                                                 \
        for (;;) {                                                                                 \
            int ua_why_ = UA_PARK(self, p, ua_left(ua_dl_));                                       \
            if ((w)->granted) {                                                                    \
                (rc) = 0;                                                                          \
                break;                                                                             \
            }                                                                                      \
            if (ua_why_ == UA_CANCELED) {                                                          \
                ua_waitq_remove(q, w);                                                             \
                (rc) = UA_CANCELLED(self);                                                         \
                break;                                                                             \
            }                                                                                      \
            if (ua_why_ == UA_TIMEOUT && ua_left(ua_dl_) == 0) {                                   \
                ua_waitq_remove(q, w);                                                             \
                (rc) = UNASYNC_ETIMEDOUT;                                                          \
                break;                                                                             \
            }                                                                                      \
        }                                                                                          \
    } while (0)

#endif
