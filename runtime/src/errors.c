/* The runtime's error table (unasync_strerror, unasync_err_name), clock and misuse handler. */
#include "internal.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *unasync_strerror(int err)
{
    switch (err) {
#define UA_STR(name, value, text)                                                                  \
    case value:                                                                                    \
        return text;
        UNASYNC_ERRNO_MAP(UA_STR)
#undef UA_STR
    default:
        break;
    }
    if (err < 0 && err > UNASYNC_EBASE) {
        /* strerror_r (the GNU one, _GNU_SOURCE) into a per-thread buffer: strerror is not
         * reentrant, and coroutines' threads report errors at the same time */
        static _Thread_local char buf[128];
        return strerror_r(-err, buf, sizeof buf);
    }
    return err == 0 ? "success" : "unknown error";
}

const char *unasync_err_name(int err)
{
    switch (err) {
#define UA_NAME(name, value, text)                                                                 \
    case value:                                                                                    \
        return #name;
        UNASYNC_ERRNO_MAP(UA_NAME)
#undef UA_NAME
    default:
        return err == 0 ? "OK" : "EUNKNOWN";
    }
}

uint64_t ua_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t ua_deadline(uint64_t timeout_ms)
{
    uint64_t now = ua_now_ms();
    if (timeout_ms == UNASYNC_FOREVER || timeout_ms > UINT64_MAX - 1 - now)
        return UINT64_MAX;
    return now + timeout_ms;
}

uint64_t ua_left(uint64_t deadline)
{
    if (deadline == UINT64_MAX)
        return UNASYNC_FOREVER;
    uint64_t now = ua_now_ms();
    return now >= deadline ? 0 : deadline - now;
}

static void ua_default_misuse(const char *what)
{
#ifndef NDEBUG
    fprintf(stderr, "unasync: %s\n", what);
    abort();
#else
    (void)what;
#endif
}

static _Atomic(unasync_misuse_fn) ua_misuse_handler = ua_default_misuse;

unasync_misuse_fn unasync_set_misuse_handler(unasync_misuse_fn fn)
{
    return atomic_exchange(&ua_misuse_handler, fn ? fn : ua_default_misuse);
}

void ua_misuse(const char *what)
{
    atomic_load (&ua_misuse_handler)(what);
}
