/* Self-test of the context-switch layer alone (no libuv): callee-saved integer and FP registers
 * survive switches in both directions, a new context starts 16-byte aligned, and a million
 * ping-pongs keep counting. Small enough to cross-compile for aarch64 and run under qemu-user
 * (see docs/runtime.md); also run natively by meson. */
#include "ctx.h"
#include "san.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>

static ua_ctx_t main_ctx, co_ctx;
static volatile long pings;
static int failures;

#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "ctx_selftest:%d: %s\n", __LINE__, #cond);                             \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static void __attribute__((noinline)) check_alignment(void)
{
    alignas(16) volatile char probe[16];
    EXPECT(((uintptr_t)probe & 15) == 0);
}

static void entry(void *arg)
{
    EXPECT(arg == (void *)&pings);
    check_alignment();
    /* Values live across switches, so they sit in callee-saved registers on this side too. */
    long a = 3, b = 5, c = 7, d = 11, e = 13, f = 17;
    double x = 0.25, y = 0.5;
    for (;;) {
        pings++;
        ua_ctx_switch(&co_ctx, &main_ctx);
        a += 1, b += 2, c += 3, d += 4, e += 5, f += 6;
        x *= 1.0, y += 0.0;
        EXPECT(x == 0.25 && y == 0.5);
        EXPECT(b - a == 2 + (a - 3) && f - e == 4 + (e - 13) / 5);
        (void)c, (void)d;
    }
}

int main(void)
{
    size_t size = 64 * 1024;
    void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack == MAP_FAILED)
        return 2;
    unsigned vg_id = ua_vg_stack_register(stack, (char *)stack + size);
    ua_ctx_make(&co_ctx, stack, size, entry, (void *)&pings);
    long r1 = 101, r2 = 202, r3 = 303, r4 = 404, r5 = 505, r6 = 606;
    double f1 = 1.5, f2 = -2.25, f3 = 3.125;
    for (long i = 1; i <= 1000000; i++) {
        ua_ctx_switch(&main_ctx, &co_ctx);
        if (pings != i) {
            EXPECT(pings == i);
            break;
        }
        r1++, r2 += 2, r3 += 3, r4 += 4, r5 += 5, r6 += 6;
        f1 += 1.0, f2 -= 1.0, f3 *= 1.0;
    }
    EXPECT(r1 == 101 + 1000000 && r2 == 202 + 2000000 && r3 == 303 + 3000000);
    EXPECT(r4 == 404 + 4000000 && r5 == 505 + 5000000 && r6 == 606 + 6000000);
    EXPECT(f1 == 1.5 + 1000000.0 && f2 == -2.25 - 1000000.0 && f3 == 3.125);
    ua_vg_stack_deregister(vg_id);
    munmap(stack, size);
    printf("ctx_selftest: %ld switches, %d failures\n", 2 * (long)pings, failures);
    return failures != 0;
}
