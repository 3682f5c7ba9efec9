/* One context-switch API over two backends chosen at build time: hand-written assembly for
 * x86-64 and aarch64 (UA_CTX_ASM) or POSIX ucontext for everything else (UA_CTX_UCONTEXT). */
#ifndef UA_CTX_H
#define UA_CTX_H

#include <stddef.h>

#if !defined(UA_CTX_ASM) && !defined(UA_CTX_UCONTEXT)
#error "meson must define UA_CTX_ASM or UA_CTX_UCONTEXT"
#endif

#ifdef UA_CTX_UCONTEXT
#include <ucontext.h>
typedef struct ua_ctx {
    ucontext_t uc;
} ua_ctx_t;
#else
/* The saved stack pointer; the callee-saved registers and the resume address sit on the stack. */
typedef struct ua_ctx {
    void *sp;
} ua_ctx_t;
/* Saves the callee-saved registers on the current stack, stores the stack pointer in *save,
 * loads `load` and resumes there (pop + indirect jump, not ret: see research/coroutines.md). */
void ua__ctx_swap(void **save, void *load);
#endif

/* Prepares `ctx` so that switching to it runs entry(arg) on the stack [base, base+size).
 * entry must never return: it ends by switching away for good. */
void ua_ctx_make(ua_ctx_t *ctx, void *base, size_t size, void (*entry)(void *), void *arg);

/* Saves the running context into `from` and continues `to`. */
static inline void ua_ctx_switch(ua_ctx_t *from, ua_ctx_t *to)
{
#ifdef UA_CTX_UCONTEXT
    swapcontext(&from->uc, &to->uc);
#else
    ua__ctx_swap(&from->sp, to->sp);
#endif
}

#endif /* UA_CTX_H */
