/* Async I/O on libuv: TCP streams, DNS and files, each a coroutine parked until its callback. */
#include "rt_sched.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* TCP                                                                                          */
/* ------------------------------------------------------------------------------------------ */

struct async_tcp_s {
    uv_tcp_t handle;
    async_task_t *reader; /* parked in read or accept */
    char *rbuf;           /* reader's buffer */
    size_t rlen;
    ssize_t rresult; /* bytes, 0 at EOF, or an error */
    int rdone;
    int pending;          /* connections waiting for accept */
    int listen_status;    /* an error reported by the connection callback */
    async_task_t *closer; /* parked in close */
    int closed;
};

static async_tcp_t *ua_tcp_new(uv_loop_t *loop)
{
    async_tcp_t *t = ua_rt_calloc(1, sizeof *t);
    if (!t)
        return NULL;
    uv_tcp_init(loop, &t->handle);
    t->handle.data = t;
    return t;
}

static void ua_tcp_on_close(uv_handle_t *h)
{
    async_tcp_t *t = h->data;
    t->closed = 1;
    if (t->closer)
        ua_wake_now(t->closer, UA_WOKEN);
    else
        ua_rt_free(t);
}

/* Closes and frees t, waiting (cancellation ignored) for libuv to let go of it. */
static int ua_tcp_close_wait(async_task_t *self, async_tcp_t *t)
{
    t->closer = self;
    uv_close((uv_handle_t *)&t->handle, ua_tcp_on_close);
    self->nocancel++;
    while (!t->closed)
        ua_park(self, UNASYNC_FOREVER);
    self->nocancel--;
    ua_rt_free(t);
    return 0;
}

struct ua_connect {
    uv_connect_t req;
    async_task_t *task;
    int status;
    int done;
};

static void ua_on_connect(uv_connect_t *req, int status)
{
    struct ua_connect *c = req->data;
    c->status = status;
    c->done = 1;
    ua_wake_now(c->task, UA_WOKEN);
}

int async_tcp_connect(async_tcp_t **out, const struct sockaddr *addr)
{
    async_task_t *self = ua_self("async_tcp_connect outside a coroutine");
    *out = NULL;
    if (!self)
        return UNASYNC_ENOTCORO;
    async_tcp_t *t = ua_tcp_new(&self->rt->loop);
    if (!t)
        return UNASYNC_ENOMEM;
    struct ua_connect c = {.task = self};
    c.req.data = &c;
    int rc = uv_tcp_connect(&c.req, &t->handle, addr, ua_on_connect);
    if (rc != 0) {
        ua_tcp_close_wait(self, t);
        return rc;
    }
    int cancelled = 0;
    while (!c.done) {
        if (ua_park(self, UNASYNC_FOREVER) == UA_CANCELED && !cancelled) {
            /* Closing the handle makes libuv call ua_on_connect with UV_ECANCELED. */
            cancelled = 1;
            self->nocancel++;
            t->closer = self;
            uv_close((uv_handle_t *)&t->handle, ua_tcp_on_close);
        }
    }
    if (cancelled) {
        while (!t->closed)
            ua_park(self, UNASYNC_FOREVER);
        self->nocancel--;
        ua_rt_free(t);
        return ua_cancelled(self);
    }
    if (c.status != 0) {
        ua_tcp_close_wait(self, t);
        return c.status;
    }
    *out = t;
    return 0;
}

static void ua_on_connection(uv_stream_t *server, int status)
{
    async_tcp_t *t = server->data;
    if (status < 0)
        t->listen_status = status;
    else
        t->pending++;
    if (t->reader)
        ua_wake_now(t->reader, UA_WOKEN);
}

int async_tcp_listen(async_tcp_t **out, const struct sockaddr *addr, int backlog)
{
    *out = NULL;
    uv_loop_t *loop = async_loop();
    if (!loop) {
        ua_misuse("async_tcp_listen outside async_run");
        return UNASYNC_ENOTCORO;
    }
    async_tcp_t *t = ua_tcp_new(loop);
    if (!t)
        return UNASYNC_ENOMEM;
    int rc = uv_tcp_bind(&t->handle, addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&t->handle, backlog, ua_on_connection);
    if (rc != 0) {
        /* Not in a coroutine necessarily: let the loop free it. */
        uv_close((uv_handle_t *)&t->handle, ua_tcp_on_close);
        return rc;
    }
    *out = t;
    return 0;
}

int async_tcp_port(async_tcp_t *tcp, int *port)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    int rc = uv_tcp_getsockname(&tcp->handle, (struct sockaddr *)&ss, &len);
    if (rc != 0)
        return rc;
    if (ss.ss_family == AF_INET)
        *port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    else
        *port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

int async_tcp_accept(async_tcp_t *server, async_tcp_t **client)
{
    async_task_t *self = ua_self("async_tcp_accept outside a coroutine");
    *client = NULL;
    if (!self)
        return UNASYNC_ENOTCORO;
    if (server->reader)
        return UNASYNC_EBUSY;
    server->reader = self;
    int rc = 0;
    while (server->pending == 0 && server->listen_status == 0) {
        if (ua_park(self, UNASYNC_FOREVER) == UA_CANCELED) {
            rc = ua_cancelled(self);
            break;
        }
    }
    server->reader = NULL;
    if (rc != 0)
        return rc;
    if (server->listen_status != 0) {
        rc = server->listen_status;
        server->listen_status = 0;
        return rc;
    }
    /* Out of memory, the connection stays queued for the next accept: libuv holds it and stops
     * watching the listener until uv_accept takes it, so losing it would stall every later one. */
    async_tcp_t *t = ua_tcp_new(&self->rt->loop);
    if (!t)
        return UNASYNC_ENOMEM;
    server->pending--;
    rc = uv_accept((uv_stream_t *)&server->handle, (uv_stream_t *)&t->handle);
    if (rc != 0) {
        ua_tcp_close_wait(self, t);
        return rc;
    }
    *client = t;
    return 0;
}

static void ua_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    async_tcp_t *t = h->data;
    (void)suggested;
    *buf = uv_buf_init(t->rbuf, (unsigned)t->rlen);
}

static void ua_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    async_tcp_t *t = s->data;
    (void)buf;
    if (nread == 0)
        return; /* EAGAIN */
    uv_read_stop(s);
    t->rresult = nread == UV_EOF ? 0 : nread;
    t->rdone = 1;
    if (t->reader)
        ua_wake_now(t->reader, UA_WOKEN);
}

int async_tcp_read_timed(async_tcp_t *tcp, void *buf, size_t len, size_t *nread,
                         uint64_t timeout_ms)
{
    async_task_t *self = ua_self("async_tcp_read outside a coroutine");
    *nread = 0;
    if (!self)
        return UNASYNC_ENOTCORO;
    if (tcp->reader)
        return UNASYNC_EBUSY;
    if (len == 0)
        return 0;
    if (len > UINT32_MAX)
        len = UINT32_MAX;
    tcp->rbuf = buf;
    tcp->rlen = len;
    tcp->rdone = 0;
    int rc = uv_read_start((uv_stream_t *)&tcp->handle, ua_on_alloc, ua_on_read);
    if (rc != 0)
        return rc;
    tcp->reader = self;
    uint64_t dl = ua_deadline(timeout_ms);
    while (!tcp->rdone && rc == 0) {
        int why = ua_park(self, ua_left(dl));
        if (tcp->rdone)
            break;
        if (why == UA_CANCELED)
            rc = ua_cancelled(self);
        else if (why == UA_TIMEOUT && ua_left(dl) == 0)
            rc = UNASYNC_ETIMEDOUT;
    }
    tcp->reader = NULL;
    if (!tcp->rdone) {
        uv_read_stop((uv_stream_t *)&tcp->handle);
        return rc;
    }
    if (tcp->rresult < 0)
        return (int)tcp->rresult;
    *nread = (size_t)tcp->rresult;
    return 0;
}

int async_tcp_read(async_tcp_t *tcp, void *buf, size_t len, size_t *nread)
{
    return await async_tcp_read_timed(tcp, buf, len, nread, UNASYNC_FOREVER);
}

/* A write or shutdown request in flight; waited for without cancellation (it cannot be
 * withdrawn from libuv, and it points into the caller's stack). */
struct ua_stream_req {
    union {
        uv_write_t write;
        uv_shutdown_t shutdown;
    } u;
    async_task_t *task;
    int status;
    int done;
};

static void ua_stream_req_wait(async_task_t *self, struct ua_stream_req *r)
{
    self->nocancel++;
    while (!r->done)
        ua_park(self, UNASYNC_FOREVER);
    self->nocancel--;
}

static void ua_on_write(uv_write_t *req, int status)
{
    struct ua_stream_req *r = req->data;
    r->status = status;
    r->done = 1;
    ua_wake_now(r->task, UA_WOKEN);
}

int async_tcp_write(async_tcp_t *tcp, const void *buf, size_t len)
{
    async_task_t *self = ua_self("async_tcp_write outside a coroutine");
    if (!self)
        return UNASYNC_ENOTCORO;
    const char *p = buf;
    while (len > 0) {
        unsigned chunk = len > UINT32_MAX ? UINT32_MAX : (unsigned)len;
        uv_buf_t b = uv_buf_init((char *)(uintptr_t)p, chunk);
        struct ua_stream_req r = {.task = self};
        r.u.write.data = &r;
        int rc = uv_write(&r.u.write, (uv_stream_t *)&tcp->handle, &b, 1, ua_on_write);
        if (rc != 0)
            return rc;
        ua_stream_req_wait(self, &r);
        if (r.status != 0)
            return r.status;
        p += chunk;
        len -= chunk;
    }
    return 0;
}

static void ua_on_shutdown(uv_shutdown_t *req, int status)
{
    struct ua_stream_req *r = req->data;
    r->status = status;
    r->done = 1;
    ua_wake_now(r->task, UA_WOKEN);
}

int async_tcp_shutdown(async_tcp_t *tcp)
{
    async_task_t *self = ua_self("async_tcp_shutdown outside a coroutine");
    if (!self)
        return UNASYNC_ENOTCORO;
    struct ua_stream_req r = {.task = self};
    r.u.shutdown.data = &r;
    int rc = uv_shutdown(&r.u.shutdown, (uv_stream_t *)&tcp->handle, ua_on_shutdown);
    if (rc != 0)
        return rc;
    ua_stream_req_wait(self, &r);
    return r.status;
}

int async_tcp_close(async_tcp_t *tcp)
{
    if (!tcp)
        return 0;
    async_task_t *self = ua_self("async_tcp_close outside a coroutine");
    if (!self)
        return UNASYNC_ENOTCORO;
    return ua_tcp_close_wait(self, tcp);
}

/* ------------------------------------------------------------------------------------------ */
/* DNS                                                                                          */
/* ------------------------------------------------------------------------------------------ */

struct ua_gai {
    uv_getaddrinfo_t req;
    const char *node, *service;
    const struct addrinfo *hints;
    struct addrinfo *res;
};

static void ua_on_gai(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct ua_gai *g = (struct ua_gai *)req;
    g->res = res;
    async_req_done((uv_req_t *)req, status);
}

static int ua_start_gai(uv_loop_t *loop, uv_req_t *req, void *arg)
{
    struct ua_gai *g = arg;
    return uv_getaddrinfo(loop, (uv_getaddrinfo_t *)req, ua_on_gai, g->node, g->service, g->hints);
}

static int ua_gai_error(int status)
{
    switch (status) {
    case UV_EAI_NONAME:
    case UV_EAI_NODATA:
    case UV_EAI_SERVICE:
    case UV_EAI_ADDRFAMILY:
        return UNASYNC_ENOTFOUND;
    case UV_EAI_MEMORY:
        return UNASYNC_ENOMEM;
    default:
        return UNASYNC_EDNS;
    }
}

int async_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                      struct addrinfo **res)
{
    struct ua_gai g = {.node = node, .service = service, .hints = hints};
    *res = NULL;
    int rc = await async_await_req((uv_req_t *)&g.req, ua_start_gai, &g);
    if (rc == 0) {
        *res = g.res;
        return 0;
    }
    if (g.res)
        uv_freeaddrinfo(g.res);
    if (rc == UNASYNC_ECANCELED || rc == UNASYNC_ENOTCORO || rc == UNASYNC_ENOMEM)
        return rc;
    return ua_gai_error(rc);
}

void async_freeaddrinfo(struct addrinfo *res)
{
    uv_freeaddrinfo(res);
}

/* ------------------------------------------------------------------------------------------ */
/* Files                                                                                        */
/* ------------------------------------------------------------------------------------------ */

struct ua_fs {
    uv_fs_t req;
    int op; /* 'o'pen, 'r'ead, 'w'rite, 'c'lose */
    const char *path;
    int flags, mode, fd;
    uv_buf_t buf;
    int64_t offset;
};

static void ua_on_fs(uv_fs_t *req)
{
    async_req_done((uv_req_t *)req, (int)req->result);
}

static int ua_start_fs(uv_loop_t *loop, uv_req_t *req, void *arg)
{
    struct ua_fs *f = arg;
    uv_fs_t *r = (uv_fs_t *)req;
    switch (f->op) {
    case 'o':
        return uv_fs_open(loop, r, f->path, f->flags, f->mode, ua_on_fs);
    case 'r':
        return uv_fs_read(loop, r, f->fd, &f->buf, 1, f->offset, ua_on_fs);
    case 'w':
        return uv_fs_write(loop, r, f->fd, &f->buf, 1, f->offset, ua_on_fs);
    default:
        return uv_fs_close(loop, r, f->fd, ua_on_fs);
    }
}

/* Runs one fs operation in the pool; returns its result (>= 0) or a negative error. */
static async int ua_fs_run(struct ua_fs *f)
{
    int rc = await async_await_req((uv_req_t *)&f->req, ua_start_fs, f);
    if (rc != UNASYNC_ENOTCORO)
        uv_fs_req_cleanup(&f->req);
    return rc;
}

int async_file_open(const char *path, int flags, int mode, int *fd)
{
    struct ua_fs f = {.op = 'o', .path = path, .flags = flags, .mode = mode};
    *fd = -1;
    int rc = await ua_fs_run(&f);
    if (rc < 0)
        return rc;
    *fd = rc;
    return 0;
}

int async_file_read(int fd, void *buf, size_t len, int64_t offset, size_t *nread)
{
    struct ua_fs f = {.op = 'r', .fd = fd, .offset = offset};
    f.buf = uv_buf_init(buf, len > INT32_MAX ? INT32_MAX : (unsigned)len);
    *nread = 0;
    int rc = await ua_fs_run(&f);
    if (rc < 0)
        return rc;
    *nread = (size_t)rc;
    return 0;
}

int async_file_write(int fd, const void *buf, size_t len, int64_t offset, size_t *nwritten)
{
    struct ua_fs f = {.op = 'w', .fd = fd, .offset = offset};
    f.buf = uv_buf_init((char *)(uintptr_t)buf, len > INT32_MAX ? INT32_MAX : (unsigned)len);
    *nwritten = 0;
    int rc = await ua_fs_run(&f);
    if (rc < 0)
        return rc;
    *nwritten = (size_t)rc;
    return 0;
}

int async_file_close(int fd)
{
    struct ua_fs f = {.op = 'c', .fd = fd};
    int rc = await ua_fs_run(&f);
    return rc < 0 ? rc : 0;
}
