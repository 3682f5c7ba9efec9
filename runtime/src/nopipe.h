/* SIGPIPE safety for the Redis clients: hiredis writes with write(2), which raises SIGPIPE on a
 * connection whose peer went away, so each write is bracketed by a guard instead. */
#ifndef UA_NOPIPE_H
#define UA_NOPIPE_H

#include <signal.h>

/* The calling thread's state before ua_nopipe_begin. Lives on the caller's stack. */
typedef struct ua_nopipe {
    sigset_t old_mask;
    int was_pending; /* a SIGPIPE was pending already: not ours to consume */
} ua_nopipe_t;

/* Blocks SIGPIPE in the calling thread only; the process' signal disposition is never touched.
 * A write in between then fails with EPIPE and leaves a SIGPIPE pending on the thread. */
void ua_nopipe_begin(ua_nopipe_t *g);
/* Consumes a SIGPIPE that became pending since ua_nopipe_begin (with sigtimedwait, no wait) and
 * restores the thread's mask. errno is preserved. A SIGPIPE that was already pending, or that
 * the caller had blocked itself, is left alone. */
void ua_nopipe_end(ua_nopipe_t *g);

#endif /* UA_NOPIPE_H */
