/* Awaited Redis commands over hiredis' async API and its libuv adapter, returning replies the
 * caller owns, like the blocking redisCommand. */
#include "rt_sched.h"

#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct async_redis_s {
    redisAsyncContext *ac; /* NULL once hiredis has freed it */
    redisReplyObjectFunctions *orig_fn;
    redisReplyObjectFunctions keep_fn; /* the reader's table with a no-op freeObject */
    async_task_t *waiter;              /* parked in connect or close */
    int connect_status;                /* 1 connected, < 0 failed, 0 pending */
    int disconnected;
    char errstr[128];
};

/* hiredis 0.14 frees each reply after its callback returns (1.0 added
 * REDIS_OPT_NOAUTOFREEREPLIES for this). The reader frees replies only through fn->freeObject,
 * so a no-op there hands ownership to our callback, which passes it on to the caller. */
static void ua_redis_keep_reply(void *reply)
{
    (void)reply;
}

static void ua_redis_seterr(async_redis_t *r, const char *msg)
{
    snprintf(r->errstr, sizeof r->errstr, "%s", msg && *msg ? msg : "connection closed");
}

static void ua_redis_on_connect(const redisAsyncContext *ac, int status)
{
    async_redis_t *r = ac->data;
    if (status == REDIS_OK) {
        r->connect_status = 1;
    } else {
        ua_redis_seterr(r, ac->errstr);
        r->connect_status = UNASYNC_EREDIS;
        r->ac = NULL; /* hiredis frees a context whose connection failed */
    }
    if (r->waiter)
        ua_wake(r->waiter, UA_WOKEN);
}

static void ua_redis_on_disconnect(const redisAsyncContext *ac, int status)
{
    async_redis_t *r = ac->data;
    /* The reader is freed next; let it free a half-parsed reply for real. */
    ((redisAsyncContext *)ac)->c.reader->fn = r->orig_fn;
    if (status != REDIS_OK)
        ua_redis_seterr(r, ac->errstr);
    else if (!r->errstr[0])
        ua_redis_seterr(r, "connection closed");
    r->ac = NULL;
    r->disconnected = 1;
    if (r->waiter)
        ua_wake(r->waiter, UA_WOKEN);
}

static int ua_redis_attach(async_task_t *self, async_redis_t **out, redisAsyncContext *ac)
{
    *out = NULL;
    if (!ac)
        return UNASYNC_ENOMEM;
    if (ac->err) {
        redisAsyncFree(ac);
        return UNASYNC_EREDIS;
    }
    async_redis_t *r = calloc(1, sizeof *r);
    if (!r) {
        redisAsyncFree(ac);
        return UNASYNC_ENOMEM;
    }
    r->ac = ac;
    ac->data = r;
    r->orig_fn = ac->c.reader->fn;
    r->keep_fn = *r->orig_fn;
    r->keep_fn.freeObject = ua_redis_keep_reply;
    ac->c.reader->fn = &r->keep_fn;
    if (redisLibuvAttach(ac, &self->rt->loop) != REDIS_OK) {
        ac->c.reader->fn = r->orig_fn;
        redisAsyncFree(ac);
        free(r);
        return UNASYNC_ENOMEM;
    }
    redisAsyncSetConnectCallback(ac, ua_redis_on_connect);
    redisAsyncSetDisconnectCallback(ac, ua_redis_on_disconnect);
    /* Connecting is short and cannot be withdrawn from hiredis: not cancellable. */
    r->waiter = self;
    self->nocancel++;
    while (r->connect_status == 0)
        ua_park(self, UNASYNC_FOREVER);
    self->nocancel--;
    r->waiter = NULL;
    if (r->connect_status < 0) {
        free(r);
        return UNASYNC_EREDIS;
    }
    *out = r;
    return 0;
}

int async_redis_connect(async_redis_t **out, const char *host, int port)
{
    async_task_t *self = ua_self("async_redis_connect outside a coroutine");
    *out = NULL;
    if (!self)
        return UNASYNC_ENOTCORO;
    return ua_redis_attach(self, out, redisAsyncConnect(host, port));
}

int async_redis_connect_unix(async_redis_t **out, const char *path)
{
    async_task_t *self = ua_self("async_redis_connect_unix outside a coroutine");
    *out = NULL;
    if (!self)
        return UNASYNC_ENOTCORO;
    return ua_redis_attach(self, out, redisAsyncConnectUnix(path));
}

/* One command in flight. Heap-allocated: a cancelled caller leaves it to the callback. */
struct ua_redis_cmd {
    async_task_t *task; /* NULL once the caller has given up */
    redisReply *reply;
    int done;
};

static void ua_redis_on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct ua_redis_cmd *cmd = privdata;
    (void)ac;
    if (!cmd->task) {
        if (reply)
            freeReplyObject(reply);
        free(cmd);
        return;
    }
    cmd->reply = reply;
    cmd->done = 1;
    ua_wake(cmd->task, UA_WOKEN);
}

/* Sends with `send` (which queues the command with our callback) and waits for the reply. */
static int ua_redis_wait(async_task_t *self, async_redis_t *r, struct redisReply **reply,
                         struct ua_redis_cmd *cmd, int sent)
{
    if (sent != REDIS_OK) {
        free(cmd);
        if (r->ac && r->ac->c.err)
            ua_redis_seterr(r, r->ac->c.errstr);
        return UNASYNC_EREDIS;
    }
    while (!cmd->done) {
        if (ua_park(self, UNASYNC_FOREVER) == UA_CANCELED && !cmd->done) {
            cmd->task = NULL; /* the callback frees the reply and cmd */
            return ua_cancelled(self);
        }
    }
    redisReply *rep = cmd->reply;
    free(cmd);
    if (!rep)
        return UNASYNC_EREDIS;
    *reply = rep;
    return 0;
}

/* The common start of a command: checks the caller and the connection, allocates the record.
 * 0 with *self and *cmd set, or the error to return. */
static int ua_redis_begin(const char *what, async_redis_t *r, struct redisReply **reply,
                          async_task_t **self, struct ua_redis_cmd **cmd)
{
    *reply = NULL;
    *self = ua_self(what);
    if (!*self)
        return UNASYNC_ENOTCORO;
    if (!r->ac)
        return UNASYNC_EREDIS;
    *cmd = calloc(1, sizeof **cmd);
    if (!*cmd)
        return UNASYNC_ENOMEM;
    (*cmd)->task = *self;
    return 0;
}

int async_redis_command(async_redis_t *r, struct redisReply **reply, const char *fmt, ...)
{
    async_task_t *self;
    struct ua_redis_cmd *cmd;
    int rc = ua_redis_begin("async_redis_command outside a coroutine", r, reply, &self, &cmd);
    if (rc != 0)
        return rc;
    va_list ap;
    va_start(ap, fmt);
    int sent = redisvAsyncCommand(r->ac, ua_redis_on_reply, cmd, fmt, ap);
    va_end(ap);
    return ua_redis_wait(self, r, reply, cmd, sent);
}

int async_redis_command_argv(async_redis_t *r, struct redisReply **reply, int argc,
                             const char **argv, const size_t *argvlen)
{
    async_task_t *self;
    struct ua_redis_cmd *cmd;
    int rc = ua_redis_begin("async_redis_command_argv outside a coroutine", r, reply, &self, &cmd);
    if (rc != 0)
        return rc;
    int sent = redisAsyncCommandArgv(r->ac, ua_redis_on_reply, cmd, argc, argv, argvlen);
    return ua_redis_wait(self, r, reply, cmd, sent);
}

const char *async_redis_errstr(async_redis_t *r)
{
    if (r->ac && r->ac->errstr[0])
        return r->ac->errstr;
    return r->errstr[0] ? r->errstr : "no error";
}

int async_redis_close(async_redis_t *r)
{
    if (!r)
        return 0;
    async_task_t *self = ua_self("async_redis_close outside a coroutine");
    if (!self)
        return UNASYNC_ENOTCORO;
    if (r->ac) {
        r->waiter = self;
        redisAsyncDisconnect(r->ac); /* replies still pending are delivered first */
        self->nocancel++;
        while (!r->disconnected)
            ua_park(self, UNASYNC_FOREVER);
        self->nocancel--;
    }
    free(r);
    return 0;
}
