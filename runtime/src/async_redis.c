/* Awaited Redis commands over hiredis' async API on the thread's libuv loop, returning replies the
 * caller owns, like the blocking redisCommand, with connect and command timeouts. */
#include "rt_sched.h"

#include "nopipe.h"

#include <errno.h>
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
    uint64_t timeout_ms; /* per command; UNASYNC_FOREVER: none */
    char errstr[128];
};

/* ------------------------------------------------------------------------------------------ */
/* The libuv adapter                                                                            */
/* ------------------------------------------------------------------------------------------ */

/* hiredis' own adapter (adapters/libuv.h), with one difference: hiredis writes with write(2),
 * which raises SIGPIPE when the server has gone away, so each write runs under ua_nopipe. */
struct ua_redis_poll {
    redisAsyncContext *ac; /* NULL once hiredis has cleaned up */
    uv_poll_t handle;
    int events;
};

static void ua_redis_poll_cb(uv_poll_t *handle, int status, int events)
{
    struct ua_redis_poll *p = handle->data;
    /* On a socket error (a refused connect: POLLERR) libuv stops the handle and reports a status
     * with no events; hiredis must still look at the socket to learn why, or a connect to a closed
     * port would wait for its timeout instead of failing at once. */
    if (status != 0)
        events = p->events;
    if (p->ac && (events & UV_READABLE))
        redisAsyncHandleRead(p->ac);
    if (p->ac && (events & UV_WRITABLE)) {
        ua_nopipe_t guard;
        ua_nopipe_begin(&guard);
        redisAsyncHandleWrite(p->ac);
        ua_nopipe_end(&guard);
    }
}

static void ua_redis_poll_set(struct ua_redis_poll *p, int events)
{
    p->events = events;
    if (events)
        uv_poll_start(&p->handle, events, ua_redis_poll_cb);
    else
        uv_poll_stop(&p->handle);
}

static void ua_redis_add_read(void *data)
{
    struct ua_redis_poll *p = data;
    ua_redis_poll_set(p, p->events | UV_READABLE);
}

static void ua_redis_del_read(void *data)
{
    struct ua_redis_poll *p = data;
    ua_redis_poll_set(p, p->events & ~UV_READABLE);
}

static void ua_redis_add_write(void *data)
{
    struct ua_redis_poll *p = data;
    ua_redis_poll_set(p, p->events | UV_WRITABLE);
}

static void ua_redis_del_write(void *data)
{
    struct ua_redis_poll *p = data;
    ua_redis_poll_set(p, p->events & ~UV_WRITABLE);
}

static void ua_redis_poll_closed(uv_handle_t *handle)
{
    ua_rt_free(handle->data);
}

static void ua_redis_cleanup(void *data)
{
    struct ua_redis_poll *p = data;
    p->ac = NULL; /* hiredis frees the context right after */
    uv_close((uv_handle_t *)&p->handle, ua_redis_poll_closed);
}

static int ua_redis_poll_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
    if (ac->ev.data)
        return REDIS_ERR;
    struct ua_redis_poll *p = ua_rt_calloc(1, sizeof *p);
    if (!p)
        return REDIS_ERR;
    if (uv_poll_init(loop, &p->handle, ac->c.fd) != 0) {
        ua_rt_free(p);
        return REDIS_ERR;
    }
    p->ac = ac;
    p->handle.data = p;
    ac->ev.data = p;
    ac->ev.addRead = ua_redis_add_read;
    ac->ev.delRead = ua_redis_del_read;
    ac->ev.addWrite = ua_redis_add_write;
    ac->ev.delWrite = ua_redis_del_write;
    ac->ev.cleanup = ua_redis_cleanup;
    return REDIS_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Connections                                                                                  */
/* ------------------------------------------------------------------------------------------ */

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
    int err = errno;
    if (status == REDIS_OK) {
        r->connect_status = 1;
    } else {
        ua_redis_seterr(r, ac->errstr);
        r->connect_status = ua_redis_connect_error(ac->err, ac->errstr, err);
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

/* Drops a live connection at once (a timed-out command or connect, a cancelled connect):
 * hiredis' async context cannot forget one pending reply, so the whole context goes. Every
 * pending command's callback runs now with a NULL reply (its sender gets UNASYNC_EREDIS), the
 * disconnect callback (if it was connected) marks r disconnected. Not for use inside a hiredis
 * callback; the runtime never resumes a coroutine from one. */
static void ua_redis_drop(async_redis_t *r, const char *why)
{
    redisAsyncContext *ac = r->ac;
    if (!ac)
        return;
    ua_redis_seterr(r, why);
    ac->c.reader->fn = r->orig_fn; /* r->keep_fn must not outlive the reader */
    r->ac = NULL;
    redisAsyncFree(ac);
    r->disconnected = 1;
}

static int ua_redis_attach(async_task_t *self, async_redis_t **out, redisAsyncContext *ac,
                           uint64_t timeout_ms)
{
    int err = errno;
    *out = NULL;
    if (!ac)
        return UNASYNC_ENOMEM;
    if (ac->err) {
        int rc = ua_redis_connect_error(ac->err, ac->errstr, err);
        redisAsyncFree(ac);
        return rc;
    }
    async_redis_t *r = ua_rt_calloc(1, sizeof *r);
    if (!r) {
        redisAsyncFree(ac);
        return UNASYNC_ENOMEM;
    }
    r->ac = ac;
    r->timeout_ms = UNASYNC_FOREVER;
    ac->data = r;
    r->orig_fn = ac->c.reader->fn;
    r->keep_fn = *r->orig_fn;
    r->keep_fn.freeObject = ua_redis_keep_reply;
    ac->c.reader->fn = &r->keep_fn;
    if (ua_redis_poll_attach(ac, &self->rt->loop) != REDIS_OK) {
        ac->c.reader->fn = r->orig_fn;
        redisAsyncFree(ac);
        ua_rt_free(r);
        return UNASYNC_ENOMEM;
    }
    redisAsyncSetConnectCallback(ac, ua_redis_on_connect);
    redisAsyncSetDisconnectCallback(ac, ua_redis_on_disconnect);
    uint64_t deadline = ua_deadline(timeout_ms);
    int rc = 0;
    r->waiter = self;
    while (r->connect_status == 0 && rc == 0) {
        int why = ua_park(self, ua_left(deadline));
        if (r->connect_status != 0)
            break; /* connected or failed: that outcome wins over a late timeout or cancel */
        if (why == UA_CANCELED)
            rc = ua_cancelled(self);
        else if (why == UA_TIMEOUT)
            rc = UNASYNC_ETIMEDOUT;
    }
    r->waiter = NULL;
    if (rc == 0 && r->connect_status < 0)
        rc = r->connect_status;
    if (rc != 0) {
        ua_redis_drop(r, "connect abandoned");
        ua_rt_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

static int ua_redis_valid_timeout(uint64_t timeout_ms)
{
    return timeout_ms > 0;
}

int async_redis_connect(async_redis_t **out, const char *host, int port)
{
    return await async_redis_connect_timed(out, host, port, UNASYNC_FOREVER);
}

int async_redis_connect_unix(async_redis_t **out, const char *path)
{
    return await async_redis_connect_unix_timed(out, path, UNASYNC_FOREVER);
}

int async_redis_connect_timed(async_redis_t **out, const char *host, int port, uint64_t timeout_ms)
{
    async_task_t *self = ua_self("async_redis_connect outside a coroutine");
    *out = NULL;
    if (!self)
        return UNASYNC_ENOTCORO;
    if (!ua_redis_valid_timeout(timeout_ms))
        return UNASYNC_EINVAL;
    return ua_redis_attach(self, out, redisAsyncConnect(host, port), timeout_ms);
}

int async_redis_connect_unix_timed(async_redis_t **out, const char *path, uint64_t timeout_ms)
{
    async_task_t *self = ua_self("async_redis_connect_unix outside a coroutine");
    *out = NULL;
    if (!self)
        return UNASYNC_ENOTCORO;
    if (!ua_redis_valid_timeout(timeout_ms))
        return UNASYNC_EINVAL;
    return ua_redis_attach(self, out, redisAsyncConnectUnix(path), timeout_ms);
}

int async_redis_set_timeout(async_redis_t *r, uint64_t timeout_ms)
{
    if (!ua_redis_valid_timeout(timeout_ms))
        return UNASYNC_EINVAL;
    if (!r->ac)
        return UNASYNC_EREDIS;
    r->timeout_ms = timeout_ms;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Commands                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/* One command in flight. Heap-allocated: a caller that gives up leaves it to the callback. */
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
        ua_rt_free(cmd);
        return;
    }
    cmd->reply = reply;
    cmd->done = 1;
    ua_wake(cmd->task, UA_WOKEN);
}

/* Waits for the reply of a command queued (`sent`) with ua_redis_on_reply and `cmd`. */
static int ua_redis_wait(async_task_t *self, async_redis_t *r, struct redisReply **reply,
                         struct ua_redis_cmd *cmd, int sent)
{
    if (sent != REDIS_OK) {
        ua_rt_free(cmd);
        if (r->ac && r->ac->c.err)
            ua_redis_seterr(r, r->ac->c.errstr);
        return UNASYNC_EREDIS;
    }
    uint64_t deadline = ua_deadline(r->timeout_ms);
    while (!cmd->done) {
        int why = ua_park(self, ua_left(deadline));
        if (cmd->done)
            break; /* a reply that arrived wins over a late timeout or cancel */
        if (why == UA_CANCELED) {
            cmd->task = NULL; /* the callback frees the reply and cmd */
            return ua_cancelled(self);
        }
        if (why == UA_TIMEOUT) {
            cmd->task = NULL; /* ua_redis_drop runs the callback, which frees cmd */
            ua_redis_drop(r, "command timed out");
            return UNASYNC_ETIMEDOUT;
        }
    }
    redisReply *rep = cmd->reply;
    ua_rt_free(cmd);
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
    *cmd = ua_rt_calloc(1, sizeof **cmd);
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
    ua_rt_free(r);
    return 0;
}
