/* Blocking Redis twin: hiredis' redisCommand on a redisContext, replies owned by the caller, with
 * connect and command timeouts and no SIGPIPE when the server has gone away. */
#include "sync_internal.h"

#include "nopipe.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

struct sync_redis_s {
    redisContext *c;
    int timed_out; /* the last command timed out: the context is broken */
};

static int ua_redis_valid_timeout(uint64_t timeout_ms)
{
    return timeout_ms > 0;
}

/* UNASYNC_FOREVER is "no timeout", which hiredis and SO_RCVTIMEO spell as zero. */
static struct timeval ua_redis_tv(uint64_t timeout_ms)
{
    struct timeval tv = {0, 0};
    if (timeout_ms != UNASYNC_FOREVER) {
        uint64_t s = timeout_ms / 1000u;
        tv.tv_sec = s > (uint64_t)INT32_MAX ? INT32_MAX : (time_t)s;
        tv.tv_usec = (suseconds_t)(timeout_ms % 1000u) * 1000;
    }
    return tv;
}

/* `err` is errno right after hiredis failed. A blocking socket whose SO_RCVTIMEO/SO_SNDTIMEO
 * expired reports EAGAIN; a connect whose poll(2) expired reports ETIMEDOUT. */
static int ua_redis_is_timeout(const redisContext *c, int err)
{
    return c->err == REDIS_ERR_IO && (err == EAGAIN || err == EWOULDBLOCK || err == ETIMEDOUT);
}

static int ua_redis_wrap(sync_redis_t **out, redisContext *c, int err)
{
    *out = NULL;
    if (!c)
        return UNASYNC_ENOMEM;
    if (c->err) {
        int rc = ua_redis_is_timeout(c, err) ? UNASYNC_ETIMEDOUT
                                             : ua_redis_connect_error(c->err, c->errstr, err);
        redisFree(c);
        return rc;
    }
    sync_redis_t *r = ua_rt_calloc(1, sizeof *r);
    if (!r) {
        redisFree(c);
        return UNASYNC_ENOMEM;
    }
    r->c = c;
    *out = r;
    return 0;
}

int sync_redis_connect(sync_redis_t **out, const char *host, int port)
{
    return sync_redis_connect_timed(out, host, port, UNASYNC_FOREVER);
}

int sync_redis_connect_unix(sync_redis_t **out, const char *path)
{
    return sync_redis_connect_unix_timed(out, path, UNASYNC_FOREVER);
}

/* hiredis may keep the connect timeout as the socket's I/O timeout; commands have their own
 * (sync_redis_set_timeout), so it is cleared. */
static redisContext *ua_redis_untimed(redisContext *c)
{
    if (c && !c->err)
        redisSetTimeout(c, ua_redis_tv(UNASYNC_FOREVER));
    return c;
}

int sync_redis_connect_timed(sync_redis_t **out, const char *host, int port, uint64_t timeout_ms)
{
    *out = NULL;
    if (!ua_redis_valid_timeout(timeout_ms))
        return UNASYNC_EINVAL;
    redisContext *c = timeout_ms == UNASYNC_FOREVER
                          ? redisConnect(host, port)
                          : redisConnectWithTimeout(host, port, ua_redis_tv(timeout_ms));
    int err = errno;
    return ua_redis_wrap(out, ua_redis_untimed(c), err);
}

int sync_redis_connect_unix_timed(sync_redis_t **out, const char *path, uint64_t timeout_ms)
{
    *out = NULL;
    if (!ua_redis_valid_timeout(timeout_ms))
        return UNASYNC_EINVAL;
    redisContext *c = timeout_ms == UNASYNC_FOREVER
                          ? redisConnectUnix(path)
                          : redisConnectUnixWithTimeout(path, ua_redis_tv(timeout_ms));
    int err = errno;
    return ua_redis_wrap(out, ua_redis_untimed(c), err);
}

int sync_redis_set_timeout(sync_redis_t *r, uint64_t timeout_ms)
{
    if (!ua_redis_valid_timeout(timeout_ms))
        return UNASYNC_EINVAL;
    if (r->c->err)
        return UNASYNC_EREDIS;
    return redisSetTimeout(r->c, ua_redis_tv(timeout_ms)) == REDIS_OK ? 0 : UNASYNC_EREDIS;
}

/* The outcome of one blocking command; `err` is errno right after hiredis returned. */
static int ua_redis_result(sync_redis_t *r, const redisReply *reply, int err)
{
    if (reply)
        return 0;
    if (ua_redis_is_timeout(r->c, err)) {
        r->timed_out = 1;
        return UNASYNC_ETIMEDOUT;
    }
    return UNASYNC_EREDIS;
}

int sync_redis_command(sync_redis_t *r, struct redisReply **reply, const char *fmt, ...)
{
    /* A broken context stays broken; hiredis would fail without a system call, errno stale. */
    *reply = NULL;
    if (r->c->err)
        return UNASYNC_EREDIS;
    ua_nopipe_t guard;
    va_list ap;
    va_start(ap, fmt);
    ua_nopipe_begin(&guard);
    *reply = redisvCommand(r->c, fmt, ap);
    int err = errno;
    ua_nopipe_end(&guard);
    va_end(ap);
    return ua_redis_result(r, *reply, err);
}

int sync_redis_command_argv(sync_redis_t *r, struct redisReply **reply, int argc, const char **argv,
                            const size_t *argvlen)
{
    *reply = NULL;
    if (r->c->err)
        return UNASYNC_EREDIS;
    ua_nopipe_t guard;
    ua_nopipe_begin(&guard);
    *reply = redisCommandArgv(r->c, argc, argv, argvlen);
    int err = errno;
    ua_nopipe_end(&guard);
    return ua_redis_result(r, *reply, err);
}

const char *sync_redis_errstr(sync_redis_t *r)
{
    if (r->timed_out)
        return "command timed out";
    return r->c->err ? r->c->errstr : "no error";
}

int sync_redis_close(sync_redis_t *r)
{
    if (!r)
        return 0;
    redisFree(r->c);
    ua_rt_free(r);
    return 0;
}
