/* testalloc.c - the fault tests' allocation hook and run record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

testalloc testalloc_hook;
atomic_long testalloc_counted[1];

void testalloc_reset(long fail_at)
{
    atomic_store(&testalloc_hook.calls, 0);
    atomic_store(&testalloc_hook.failed, 0);
    atomic_store(&testalloc_hook.live, 0);
    atomic_store(&testalloc_counted[0], 0);
    atomic_store(&testalloc_hook.fail_at, fail_at);
}

/* Whether this call is the one that fails. */
static int fails_now(void)
{
    long call = atomic_fetch_add(&testalloc_hook.calls, 1) + 1;
    if (call != atomic_load(&testalloc_hook.fail_at))
        return 0;
    atomic_store(&testalloc_hook.failed, 1);
    return 1;
}

/* malloc / realloc / free that keep `*live` right; free(NULL) releases nothing. */
static void *counted_malloc(atomic_long *live, size_t n)
{
    void *p = malloc(n);
    if (p)
        atomic_fetch_add(live, 1);
    return p;
}

static void *counted_realloc(atomic_long *live, void *p, size_t n)
{
    void *q = realloc(p, n);
    if (q && !p)
        atomic_fetch_add(live, 1);
    return q;
}

static void counted_free(atomic_long *live, void *p)
{
    if (p)
        atomic_fetch_sub(live, 1);
    free(p);
}

void *testalloc_malloc(size_t n)
{
    return fails_now() ? NULL : counted_malloc(&testalloc_hook.live, n);
}

void *testalloc_realloc(void *p, size_t n)
{
    return fails_now() ? NULL : counted_realloc(&testalloc_hook.live, p, n);
}

void testalloc_free(void *p)
{
    counted_free(&testalloc_hook.live, p);
}

void *testalloc_count0_malloc(size_t n)
{
    return counted_malloc(&testalloc_counted[0], n);
}

void *testalloc_count0_realloc(void *p, size_t n)
{
    return counted_realloc(&testalloc_counted[0], p, n);
}

void testalloc_count0_free(void *p)
{
    counted_free(&testalloc_counted[0], p);
}

void testrec_add(testrec *r, const void *data, size_t n)
{
    if (r->len + n + 1 > r->cap) {
        r->cap = (r->len + n + 1) * 2;
        r->p = realloc(r->p, r->cap);
        assert_non_null(r->p);
    }
    memcpy(r->p + r->len, data, n);
    r->len += n;
    r->p[r->len] = '\0';
}

void testrec_addf(testrec *r, const char *fmt, ...)
{
    char tmp[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof tmp);
    testrec_add(r, tmp, (size_t)n);
}
