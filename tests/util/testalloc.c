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

void testalloc_reset(long fail_at)
{
    memset(&testalloc_hook, 0, sizeof testalloc_hook);
    testalloc_hook.fail_at = fail_at;
}

void *testalloc_malloc(size_t n)
{
    if (++testalloc_hook.calls == testalloc_hook.fail_at) {
        testalloc_hook.failed = 1;
        return NULL;
    }
    void *p = malloc(n);
    if (p)
        testalloc_hook.live++;
    return p;
}

void *testalloc_realloc(void *p, size_t n)
{
    if (++testalloc_hook.calls == testalloc_hook.fail_at) {
        testalloc_hook.failed = 1;
        return NULL;
    }
    void *q = realloc(p, n);
    if (q && !p)
        testalloc_hook.live++;
    return q;
}

void testalloc_free(void *p)
{
    testalloc_hook.live--;
    free(p);
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
