/* testalloc.h - the fault tests' allocation hook (fails exactly the Nth call, counts live blocks)
 * and the text record that compares a run under the hook with a run under malloc. */
#ifndef UNASYNC_TESTALLOC_H
#define UNASYNC_TESTALLOC_H

#include <stdatomic.h>
#include <stddef.h>

/* The hook's state: reset it (testalloc_reset) before each run. Atomic, so that a library that
 * allocates on several threads (the runtime's sync twin) is counted right. */
typedef struct testalloc {
    atomic_long calls;   /* malloc and realloc calls so far */
    atomic_long fail_at; /* the call that fails (1-based); 0 for none */
    atomic_int failed;   /* whether it has failed */
    atomic_long live;    /* blocks allocated and not yet freed */
} testalloc;

extern testalloc testalloc_hook;

/* Forgets every count, and makes call `fail_at` fail (0: none). */
void testalloc_reset(long fail_at);

/* malloc/realloc/free that count, and fail call testalloc_hook.fail_at; pass them to a
 * library's set_allocator. */
void *testalloc_malloc(size_t n);
void *testalloc_realloc(void *p, size_t n);
void testalloc_free(void *p);

/* Hooks that only count (they never fail), for the libraries a test watches without failing
 * them: its live blocks are testalloc_counted[0], so memory freed through another library's
 * hook shows as a count out of balance. testalloc_reset zeroes them too. */
extern atomic_long testalloc_counted[1];
void *testalloc_count0_malloc(size_t n);
void *testalloc_count0_realloc(void *p, size_t n);
void testalloc_count0_free(void *p);

/* Whether the call just made saw the injected failure (`before` is testalloc_hook.failed from
 * before it); if so it must have returned `enomem`, which fails the current cmocka test
 * otherwise. */
#define TESTALLOC_FAILED_IN_CALL(before, rc, enomem)                                               \
    ((before) == 0 && testalloc_hook.failed ? (assert_int_equal((rc), (enomem)), 1) : 0)

/* The record of a run, in plain malloc (outside any hook): text that the test appends to. */
typedef struct testrec {
    char *p;
    size_t len, cap;
} testrec;

/* Appends bytes / printf output (at most 4 KiB at a time), failing the test when memory runs
 * out. Release p with free(). */
void testrec_add(testrec *r, const void *data, size_t n);
void testrec_addf(testrec *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
