/* The server's libuv side: the stdio transport (fd 0 read as a pipe, a tty or a plain file;
 * framed messages written to fd 1), logging to stderr and window/logMessage, the end of the
 * server, the client-process watch, and the timers and folder watches the core asks for. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "srv_int.h"

/* A uv_close callback for a handle from srv_malloc. */
static void srv__free_handle(uv_handle_t *h)
{
    srv_free(h);
}

typedef struct srv_write {
    uv_write_t req;
    srv_t *s;
    lsp_out_t out;
} srv_write_t;

static void srv__on_eof(srv_t *s)
{
    if (s->exiting)
        return;
    srv_log(s, 3, "input closed: exiting");
    srv_exit(s, s->shutdown ? 0 : 1);
}

static void srv__alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    srv_t *s = h->data;
    buf->base = s->file_buf;
    buf->len = sizeof s->file_buf;
}

static void srv__on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    srv_t *s = st->data;
    if (n > 0)
        s->input(s, buf->base, (size_t)n);
    else if (n < 0)
        srv__on_eof(s);
}

static void srv__on_file_read(uv_fs_t *req)
{
    srv_t *s = req->data;
    ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    s->reading_file = false;
    if (n <= 0) {
        srv__on_eof(s);
        return;
    }
    s->input(s, s->file_buf, (size_t)n);
    if (!s->exiting) {
        uv_buf_t b = uv_buf_init(s->file_buf, sizeof s->file_buf);
        if (uv_fs_read(s->loop, &s->file_read, 0, &b, 1, -1, srv__on_file_read) == 0)
            s->reading_file = true;
        else
            srv__on_eof(s);
    }
}

void srv_io_use_fd(srv_t *s, int out_fd)
{
    s->in_kind = s->out_kind = UV_FILE;
    s->out_fd = out_fd;
    s->in_closed = true;
}

int srv_io_start(srv_t *s)
{
    int rc;
    s->in_kind = uv_guess_handle(0);
    s->out_kind = uv_guess_handle(1);
    /* Output: a libuv stream for pipes and ttys, plain blocking writes for files. */
    if (s->out_kind == UV_NAMED_PIPE) {
        if (uv_pipe_init(s->loop, &s->out.pipe, 0) == 0 && uv_pipe_open(&s->out.pipe, 1) == 0)
            s->out_usable = true;
    } else if (s->out_kind == UV_TTY) {
        if (uv_tty_init(s->loop, &s->out.tty, 1, 0) == 0)
            s->out_usable = true;
    }
    if (s->out_usable)
        s->out.pipe.data = s;
    else
        s->out_kind = UV_FILE;
    switch (s->in_kind) {
    case UV_NAMED_PIPE:
        if ((rc = uv_pipe_init(s->loop, &s->in.pipe, 0)) != 0 ||
            (rc = uv_pipe_open(&s->in.pipe, 0)) != 0)
            return SRV_EIO;
        break;
    case UV_TTY:
        if ((rc = uv_tty_init(s->loop, &s->in.tty, 0, 1)) != 0)
            return SRV_EIO;
        break;
    default: {
        uv_buf_t b = uv_buf_init(s->file_buf, sizeof s->file_buf);
        s->in_kind = UV_FILE;
        s->file_read.data = s;
        if (uv_fs_read(s->loop, &s->file_read, 0, &b, 1, -1, srv__on_file_read) != 0)
            return SRV_EIO;
        s->reading_file = true;
        return 0;
    }
    }
    s->in.pipe.data = s;
    if (uv_read_start((uv_stream_t *)&s->in.pipe, srv__alloc, srv__on_read) != 0)
        return SRV_EIO;
    return 0;
}

static void srv__on_out_closed(uv_handle_t *h)
{
    (void)h;
}

static void srv__on_shutdown(uv_shutdown_t *req, int status)
{
    srv_t *s = req->handle->data;
    srv_free(req);
    if (!uv_is_closing((uv_handle_t *)&s->out.pipe))
        uv_close((uv_handle_t *)&s->out.pipe, srv__on_out_closed);
}

void srv_io_stop(srv_t *s)
{
    if (!s->in_closed) {
        s->in_closed = true;
        if (s->in_kind == UV_NAMED_PIPE || s->in_kind == UV_TTY) {
            /* when fd 0 and fd 1 are one tty, the output handle still owns the tty mode */
            uv_read_stop((uv_stream_t *)&s->in.pipe);
            uv_close((uv_handle_t *)&s->in.pipe, NULL);
        } else if (s->reading_file)
            uv_cancel((uv_req_t *)&s->file_read);
    }
    if (s->out_usable) {
        uv_shutdown_t *req = srv_malloc(sizeof *req);
        s->out_usable = false;
        /* shutdown waits for queued writes, then the handle is closed */
        if (req == NULL || uv_shutdown(req, (uv_stream_t *)&s->out.pipe, srv__on_shutdown) != 0) {
            srv_free(req);
            uv_close((uv_handle_t *)&s->out.pipe, srv__on_out_closed);
        }
    }
}

static void srv__on_write(uv_write_t *req, int status)
{
    srv_write_t *w = (srv_write_t *)req;
    w->s->pending_writes--;
    if (status != 0 && !w->s->exiting) {
        fprintf(stderr, "unasync: write to client failed: %s\n", uv_strerror(status));
        srv_exit(w->s, 1);
    }
    lsp_out_free(&w->out);
    srv_free(w);
}

/* Writes all of buf to fd with blocking semantics, even if fd is non-blocking. */
static int srv__write_fd(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = {fd, POLLOUT, 0};
            poll(&p, 1, -1);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return SRV_EIO;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int srv_send(srv_t *s, lsp_out_t *out)
{
    srv_write_t *w;
    uv_buf_t b;
    if (out->data == NULL)
        return SRV_EINVAL;
    if (s->out_kind == UV_FILE || !s->out_usable) {
        int rc = s->out_kind == UV_FILE ? srv__write_fd(s->out_fd, out->data, out->len) : SRV_EIO;
        lsp_out_free(out);
        return rc;
    }
    w = srv_malloc(sizeof *w);
    if (w == NULL) {
        lsp_out_free(out);
        return SRV_ENOMEM;
    }
    w->s = s;
    w->out = *out;
    out->data = NULL;
    out->len = 0;
    b = uv_buf_init(w->out.data, (unsigned)w->out.len);
    if (uv_write(&w->req, (uv_stream_t *)&s->out.pipe, &b, 1, srv__on_write) != 0) {
        lsp_out_free(&w->out);
        srv_free(w);
        return SRV_EIO;
    }
    s->pending_writes++;
    return 0;
}

void srv_log(srv_t *s, int type, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    static const char *const names[] = {"", "error", "warning", "info", "log"};
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "unasync[%s]: %s\n", names[type >= 1 && type <= 4 ? type : 4], msg);
    /* window/logMessage only once the client knows us, and never after exit */
    if (s->initialize_answered && !s->exiting) {
        lsp_out_t out;
        /* a message that cannot be encoded is lost, and the client is told that much (the
         * shorter message may still fit) */
        if (lsp_encode_log_message(type, msg, &out) == 0 ||
            lsp_encode_log_message(1, "out of memory: a log message was lost", &out) == 0)
            srv_send(s, &out);
        if (s->trace != LSP_TRACE_OFF && lsp_encode_log_trace(msg, &out) == 0)
            srv_send(s, &out);
    }
}

void srv_io_log(void *ud, int level, const char *msg)
{
    srv_log(ud, level, "%s", msg);
}

/* ------------------------------------------------------------------ the core's timers */

static void srv__on_timer(uv_timer_t *h)
{
    srv_t *s = h->data;
    for (int i = 0; i < WS_N_TIMERS; i++)
        if (s->timers[i] == h && !s->exiting)
            ws_timer_fired(s->ws, (ws_timer)i);
}

int srv_io_timer(void *ud, ws_timer which, int64_t ms)
{
    srv_t *s = ud;
    if (ms < 0) {
        if (s->timers[which] != NULL)
            uv_timer_stop(s->timers[which]);
        return 0;
    }
    if (s->exiting)
        return 0;
    if (s->timers[which] == NULL) {
        uv_timer_t *t = srv_malloc(sizeof *t);
        if (t == NULL)
            return SRV_ENOMEM;
        if (uv_timer_init(s->loop, t) != 0) {
            srv_free(t);
            return SRV_EIO;
        }
        t->data = s;
        s->timers[which] = t;
    }
    uv_timer_start(s->timers[which], srv__on_timer, (uint64_t)ms, 0);
    return 0;
}

/* ------------------------------------------------------------- the core's worker */

/* One hooks.work call: run on libuv's thread pool, done back on the loop thread. */
typedef struct srv_work {
    uv_work_t req;
    void (*run)(void *arg);
    void (*done)(void *arg);
    void *arg;
} srv_work_t;

static void srv__work_run(uv_work_t *req)
{
    srv_work_t *w = req->data;
    w->run(w->arg);
}

/* Also for a request cancelled before it ran (status UV_ECANCELED): the core's done finishes
 * the work itself then. */
static void srv__work_done(uv_work_t *req, int status)
{
    srv_work_t *w = req->data;
    (void)status;
    w->done(w->arg);
    srv_free(w);
}

int srv_io_work(void *ud, void (*run)(void *arg), void (*done)(void *arg), void *arg)
{
    srv_t *s = ud;
    srv_work_t *w = srv_malloc(sizeof *w);
    if (w == NULL)
        return SRV_ENOMEM;
    w->req.data = w;
    w->run = run;
    w->done = done;
    w->arg = arg;
    if (uv_queue_work(s->loop, &w->req, srv__work_run, srv__work_done) != 0) {
        srv_free(w);
        return SRV_EIO;
    }
    return 0;
}

/* --------------------------------------------------------------------- libuv watching */

static void srv__on_fs_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
    srv_t *s = h->data;
    char dir[PATH_MAX], path[2 * PATH_MAX + 2];
    size_t n = sizeof dir;
    (void)events;
    if (status != 0 || filename == NULL || s->exiting || uv_fs_event_getpath(h, dir, &n) != 0)
        return;
    size_t len = strlen(filename);
    if (!(strcmp(filename, UE_CONFIG_NAME) == 0 ||
          (len > 2 &&
           (strcmp(filename + len - 2, ".c") == 0 || strcmp(filename + len - 2, ".h") == 0))))
        return;
    snprintf(path, sizeof path, "%s/%s", dir, filename);
    /* an open document is the editor's: its buffer, not the disk, is what counts */
    int rc;
    if (ws_doc_find_path(s->ws, path) == NULL && (rc = ws_check_path(s->ws, path, WS_EV_DISK)) != 0)
        srv_log(s, 1, "checking %s after it changed on disk failed: %s", path, srv_strerror(rc));
}

int srv_io_watch(void *ud, const char *dir)
{
    srv_t *s = ud;
    if (s->exiting)
        return 0;
    for (size_t i = 0; i < s->n_watches; i++)
        if (strcmp(s->watches[i].dir, dir) == 0)
            return 0;
    char *copy = srv_strdup(dir);
    if (copy == NULL)
        return SRV_ENOMEM;
    srv_watch_t *nw = srv_realloc(s->watches, (s->n_watches + 1) * sizeof *nw);
    uv_fs_event_t *h = nw != NULL ? srv_malloc(sizeof *h) : NULL;
    if (nw != NULL)
        s->watches = nw;
    if (h == NULL || uv_fs_event_init(s->loop, h) != 0) {
        srv_free(h);
        srv_free(copy);
        return h == NULL ? SRV_ENOMEM : SRV_EIO;
    }
    h->data = s;
    if (uv_fs_event_start(h, srv__on_fs_event, dir, 0) != 0) {
        /* a folder that cannot be watched (gone, or no watches left): checked on events only */
        uv_close((uv_handle_t *)h, srv__free_handle);
        srv_free(copy);
        return 0;
    }
    nw[s->n_watches].dir = copy;
    nw[s->n_watches].h = h;
    s->n_watches++;
    return 0;
}

/* ------------------------------------------------------------------- end of the server */

void srv_exit(srv_t *s, int status)
{
    if (s->exiting)
        return;
    s->exiting = true;
    s->exit_status = status;
    if (s->parent_timer_on)
        uv_timer_stop(&s->parent_timer);
    if (s->config_timer_on)
        uv_timer_stop(&s->config_timer);
    ws_stop(s->ws);
    for (int i = 0; i < WS_N_TIMERS; i++)
        if (s->timers[i] != NULL) {
            uv_close((uv_handle_t *)s->timers[i], srv__free_handle);
            s->timers[i] = NULL;
        }
    for (size_t i = 0; i < s->n_watches; i++) {
        uv_fs_event_stop(s->watches[i].h);
        uv_close((uv_handle_t *)s->watches[i].h, srv__free_handle);
        srv_free(s->watches[i].dir);
    }
    srv_free(s->watches);
    s->watches = NULL;
    s->n_watches = 0;
    srv_io_stop(s);
}

/* How often the client's process is looked for (kill(pid, 0)). */
#define SRV_PARENT_POLL_MS 1000

static void srv__on_parent_timer(uv_timer_t *t)
{
    srv_t *s = t->data;
    if (kill((pid_t)s->parent_pid, 0) != 0 && errno == ESRCH) {
        srv_log(s, 2, "client process %lld is gone: exiting", (long long)s->parent_pid);
        srv_exit(s, s->shutdown ? 0 : 1);
    }
}

void srv_watch_parent(srv_t *s, int64_t pid)
{
    uint64_t every = SRV_PARENT_POLL_MS;
    const char *env = getenv("UNASYNC_PARENT_POLL_MS"); /* tests shorten the poll */
    if (pid <= 0 || s->parent_timer_on)
        return;
    if (env != NULL && atoi(env) > 0)
        every = (uint64_t)atoi(env);
    s->parent_pid = pid;
    if (uv_timer_start(&s->parent_timer, srv__on_parent_timer, every, every) == 0)
        s->parent_timer_on = true;
}
