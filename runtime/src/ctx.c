/* ua_ctx_make for both context backends: lays out a new coroutine's first frame. */
#include "ctx.h"

#include <stdint.h>
#include <string.h>

#ifdef UA_CTX_UCONTEXT

/* makecontext passes int arguments only, so the two pointers travel as 32-bit halves. */
static void ua__ucontext_entry(unsigned e_hi, unsigned e_lo, unsigned a_hi, unsigned a_lo)
{
    uintptr_t e = ((uintptr_t)e_hi << 16 << 16) | (uintptr_t)e_lo;
    uintptr_t a = ((uintptr_t)a_hi << 16 << 16) | (uintptr_t)a_lo;
    void (*entry)(void *);
    memcpy(&entry, &e, sizeof entry);
    entry((void *)a);
}

void ua_ctx_make(ua_ctx_t *ctx, void *base, size_t size, void (*entry)(void *), void *arg)
{
    uintptr_t e, a = (uintptr_t)arg;
    memcpy(&e, &entry, sizeof e);
    getcontext(&ctx->uc);
    ctx->uc.uc_stack.ss_sp = base;
    ctx->uc.uc_stack.ss_size = size;
    ctx->uc.uc_link = NULL;
    makecontext(&ctx->uc, (void (*)(void))ua__ucontext_entry, 4, (unsigned)(e >> 16 >> 16),
                (unsigned)e, (unsigned)(a >> 16 >> 16), (unsigned)a);
}

#else

void ua__ctx_trampoline(void);

void ua_ctx_make(ua_ctx_t *ctx, void *base, size_t size, void (*entry)(void *), void *arg)
{
    uintptr_t top = ((uintptr_t)base + size) & ~(uintptr_t)15;
    void *tramp = (void *)(uintptr_t)ua__ctx_trampoline;
#if defined(__x86_64__)
    /* Popped by ua__ctx_swap: r15 r14 r13 r12 rbx rbp, then the address it jumps to; two words
     * of padding leave rsp 16-byte aligned when the trampoline starts, as its call expects. */
    uintptr_t *sp = (uintptr_t *)(top - 9 * sizeof(uintptr_t));
    memset(sp, 0, 9 * sizeof(uintptr_t));
    memcpy(&sp[3], &entry, sizeof(uintptr_t)); /* r12 */
    sp[2] = (uintptr_t)arg;                    /* r13 */
    sp[6] = (uintptr_t)tramp;
#else /* aarch64: 160-byte frame, x19 at +0, x20 at +8, x29 at +80, x30 at +88 */
    uintptr_t *sp = (uintptr_t *)(top - 160);
    memset(sp, 0, 160);
    memcpy(&sp[0], &entry, sizeof(uintptr_t));
    sp[1] = (uintptr_t)arg;
    sp[11] = (uintptr_t)tramp;
#endif
    ctx->sp = sp;
}

#endif
