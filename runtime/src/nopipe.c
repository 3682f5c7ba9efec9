/* Blocks SIGPIPE in the calling thread around a Redis write and consumes the one it caused. */
#include "nopipe.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

static void ua_nopipe_set(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGPIPE);
}

void ua_nopipe_begin(ua_nopipe_t *g)
{
    sigset_t pipe_set, pending;
    ua_nopipe_set(&pipe_set);
    sigemptyset(&pending);
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_set, &g->old_mask);
}

void ua_nopipe_end(ua_nopipe_t *g)
{
    int saved = errno;
    /* If the caller blocks SIGPIPE itself, a pending one is its business. */
    if (!g->was_pending && sigismember(&g->old_mask, SIGPIPE) != 1) {
        sigset_t pipe_set, pending;
        ua_nopipe_set(&pipe_set);
        sigemptyset(&pending);
        sigpending(&pending);
        if (sigismember(&pending, SIGPIPE) == 1) {
            const struct timespec now = {0, 0};
            while (sigtimedwait(&pipe_set, NULL, &now) < 0 && errno == EINTR)
                ;
        }
    }
    pthread_sigmask(SIG_SETMASK, &g->old_mask, NULL);
    errno = saved;
}
