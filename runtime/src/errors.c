/* The runtime's error table (unasync_strerror, unasync_err_name), clock and misuse handler. */
#include "internal.h"

#include <errno.h>
#include <hiredis/hiredis.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Error tables of the libraries above the runtime (unasync_register_errors). */
#define UA_ERROR_TABLES 8
typedef struct ua_error_table {
    int lo, hi;
    const char *(*str)(int);
    const char *(*name)(int);
} ua_error_table_t;
static ua_error_table_t ua_tables[UA_ERROR_TABLES];
static atomic_int ua_ntables;
static pthread_mutex_t ua_tables_lock = PTHREAD_MUTEX_INITIALIZER;

int unasync_register_errors(int lo, int hi, const char *(*str)(int), const char *(*name)(int))
{
    /* Runtime codes lie in [UNASYNC_EBASE - 99, -1]: the whole errno range and our own. */
    if (lo > hi || !str || !name || hi >= UNASYNC_EBASE - 99)
        return UNASYNC_EINVAL;
    int rc = 0;
    pthread_mutex_lock(&ua_tables_lock);
    int n = atomic_load(&ua_ntables);
    for (int i = 0; i < n; i++)
        if (ua_tables[i].str == str)
            goto out;
    if (n == UA_ERROR_TABLES) {
        rc = UNASYNC_ENOMEM;
        goto out;
    }
    ua_tables[n] = (ua_error_table_t){lo, hi, str, name};
    atomic_store(&ua_ntables, n + 1); /* published after the entry is written */
out:
    pthread_mutex_unlock(&ua_tables_lock);
    return rc;
}

static const ua_error_table_t *ua_table_for(int err)
{
    int n = atomic_load(&ua_ntables);
    for (int i = 0; i < n; i++)
        if (err >= ua_tables[i].lo && err <= ua_tables[i].hi)
            return &ua_tables[i];
    return NULL;
}

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
    const ua_error_table_t *t = ua_table_for(err);
    if (t)
        return t->str(err);
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
        break;
    }
    /* The system errors a connection reports, named as errno names them. */
    static const struct {
        int code;
        const char *name;
    } sys[] = {
        {-ECONNREFUSED, "ECONNREFUSED"}, {-ENOENT, "ENOENT"},           {-ECONNRESET, "ECONNRESET"},
        {-EHOSTUNREACH, "EHOSTUNREACH"}, {-ENETUNREACH, "ENETUNREACH"}, {-EACCES, "EACCES"},
        {-EADDRNOTAVAIL, "EADDRNOTAVAIL"}, {-EADDRINUSE, "EADDRINUSE"}, {-EPIPE, "EPIPE"},
        {-ENOTSOCK, "ENOTSOCK"},         {-ECONNABORTED, "ECONNABORTED"}, {-EMFILE, "EMFILE"},
        {-EIO, "EIO"},                   {-ENOTCONN, "ENOTCONN"},
    };
    for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++)
        if (sys[i].code == err)
            return sys[i].name;
    const ua_error_table_t *t = ua_table_for(err);
    if (t)
        return t->name(err);
    return err == 0 ? "OK" : "EUNKNOWN";
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

int ua_redis_connect_error(int redis_err, const char *errstr, int err)
{
    /* hiredis keeps the system error only as text; errno right after it usually still holds it,
     * else the text is matched against the errors a connect can fail with. */
    static const int likely[] = {ECONNREFUSED, ENOENT,       EHOSTUNREACH, ENETUNREACH,
                                 ECONNRESET,   EACCES,       ETIMEDOUT,    EADDRNOTAVAIL,
                                 ENOTSOCK,     ECONNABORTED, EPERM,        EMFILE};
    /* hiredis 0.14 calls the async connect callback before it copies the error code into the
     * async context, so 0 there means "look at the text". */
    if ((redis_err != REDIS_ERR_IO && redis_err != 0) || !errstr)
        return UNASYNC_EREDIS;
    char text[128];
    if (err > 0 && strstr(errstr, strerror_r(err, text, sizeof text)))
        return -err;
    for (size_t i = 0; i < sizeof likely / sizeof likely[0]; i++)
        if (strstr(errstr, strerror_r(likely[i], text, sizeof text)))
            return -likely[i];
    return UNASYNC_EREDIS;
}
