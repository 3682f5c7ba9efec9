/* Blocking Redis twin: hiredis' redisCommand on a redisContext, replies owned by the caller. */
#include "sync_internal.h"

#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

struct sync_redis_s {
    redisContext *c;
};

static int ua_redis_wrap(sync_redis_t **out, redisContext *c)
{
    *out = NULL;
    if (!c)
        return UNASYNC_ENOMEM;
    if (c->err) {
        redisFree(c);
        return UNASYNC_EREDIS;
    }
    sync_redis_t *r = malloc(sizeof *r);
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
    return ua_redis_wrap(out, redisConnect(host, port));
}

int sync_redis_connect_unix(sync_redis_t **out, const char *path)
{
    return ua_redis_wrap(out, redisConnectUnix(path));
}

int sync_redis_command(sync_redis_t *r, struct redisReply **reply, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    *reply = redisvCommand(r->c, fmt, ap);
    va_end(ap);
    return *reply ? 0 : UNASYNC_EREDIS;
}

int sync_redis_command_argv(sync_redis_t *r, struct redisReply **reply, int argc, const char **argv,
                            const size_t *argvlen)
{
    *reply = redisCommandArgv(r->c, argc, argv, argvlen);
    return *reply ? 0 : UNASYNC_EREDIS;
}

const char *sync_redis_errstr(sync_redis_t *r)
{
    return r->c->err ? r->c->errstr : "no error";
}

int sync_redis_close(sync_redis_t *r)
{
    if (!r)
        return 0;
    redisFree(r->c);
    free(r);
    return 0;
}
