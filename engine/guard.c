/* guard.c - runs libclang's work on a thread with a large stack and survives its crash.
 *
 * libclang recurses on the input's structure: ~40,000 chained '+' terms overflow the 8 MiB of
 * a normal thread (and of libclang's own parse thread). ue_run_guarded runs a function on a
 * thread of UE_GUARD_STACK bytes (reserved, touched only as deep as it goes) with a SIGSEGV /
 * SIGBUS handler on an alternate signal stack: a fault on that thread jumps back out and is
 * reported as UE_ECRASHED, so the caller turns it into a finding instead of dying. A fault on
 * any other thread goes to the handler that was there before (or the default action). */
#include "engine.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UE_GUARD_STACK ((size_t)512 * 1024 * 1024)
#define UE_GUARD_ALTSTACK ((size_t)64 * 1024)

static _Thread_local sigjmp_buf *guard_jmp; /* set only on a guarded thread, while it runs */
static struct sigaction prev_segv, prev_bus;
static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    if (guard_jmp)
        siglongjmp(*guard_jmp, sig);
    /* not ours: whoever handled it before (a sanitizer, libclang's crash recovery) or the
     * default action */
    struct sigaction *prev = sig == SIGSEGV ? &prev_segv : &prev_bus;
    if (prev->sa_flags & SA_SIGINFO) {
        if (prev->sa_sigaction) {
            prev->sa_sigaction(sig, si, uc);
            return;
        }
    } else if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
        prev->sa_handler(sig);
        return;
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Puts on_fault in place (again, if something replaced it since: libclang's crash recovery
 * installs its own handler, which cannot run on an overflowed stack). */
static void install(void)
{
    pthread_mutex_lock(&install_lock);
    int sigs[2] = {SIGSEGV, SIGBUS};
    for (int i = 0; i < 2; i++) {
        struct sigaction cur;
        if (sigaction(sigs[i], NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
            cur.sa_sigaction == on_fault)
            continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_fault;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, i == 0 ? &prev_segv : &prev_bus);
    }
    pthread_mutex_unlock(&install_lock);
}

typedef struct guarded {
    void (*fn)(void *);
    void *arg;
    int crashed;
} guarded;

static void *guard_main(void *p)
{
    guarded *g = p;
    /* the alternate stack is the C library's memory: the handler must run even when the
     * allocation hook is failing, and it is given back before the thread ends */
    stack_t alt, old;
    alt.ss_sp = malloc(UE_GUARD_ALTSTACK);
    alt.ss_size = UE_GUARD_ALTSTACK;
    alt.ss_flags = 0;
    int have_alt = alt.ss_sp && sigaltstack(&alt, &old) == 0;
    sigjmp_buf jb;
    if (sigsetjmp(jb, 1) == 0) {
        guard_jmp = &jb;
        g->fn(g->arg);
    } else {
        g->crashed = 1;
    }
    guard_jmp = NULL;
    if (have_alt)
        sigaltstack(&old, NULL);
    free(alt.ss_sp);
    return NULL;
}

/* The stack size: UE_GUARD_STACK, or $UNASYNC_GUARD_STACK_KB (tests make it small to reach
 * the crash recovery with an input of reasonable size). */
static size_t stack_size(void)
{
    const char *env = getenv("UNASYNC_GUARD_STACK_KB");
    long kb = env ? atol(env) : 0;
    return kb >= 64 ? (size_t)kb * 1024 : UE_GUARD_STACK;
}

int ue_run_guarded(void (*fn)(void *), void *arg)
{
    guarded g = {fn, arg, 0};
    pthread_attr_t at;
    pthread_t th;
    install();
    int ok = pthread_attr_init(&at) == 0;
    if (ok && pthread_attr_setstacksize(&at, stack_size()) == 0 &&
        pthread_create(&th, &at, guard_main, &g) == 0) {
        pthread_attr_destroy(&at);
        pthread_join(th, NULL);
        return g.crashed ? UE_ECRASHED : 0;
    }
    if (ok)
        pthread_attr_destroy(&at);
    /* no thread of that size (address space limits): run here, guarded all the same */
    guard_main(&g);
    return g.crashed ? UE_ECRASHED : 0;
}
