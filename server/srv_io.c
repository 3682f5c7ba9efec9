/* The stdio transport on the libuv loop: fd 0 read as a pipe, a tty or a plain file; framed
 * messages written to fd 1; logging to stderr and window/logMessage. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "srv_int.h"

typedef struct srv_write {
    uv_write_t req;
    srv_t *s;
    lsp_out_t out;
} srv_write_t;

void srv_input(srv_t *s, const char *data, size_t n)
{
    const char *body;
    size_t len;
    int rc;
    if (lsp_framer_feed(&s->framer, data, n) != 0) {
        srv_log(s, 1, "out of memory reading input: message dropped");
        return;
    }
    while (!s->exiting && (rc = lsp_framer_next(&s->framer, &body, &len)) != LSP_EAGAIN) {
        if (rc != 0)
            srv_framing_error(s, rc);
        else
            srv_dispatch_body(s, body, len);
    }
    srv_dispatch_queue(s);
}

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
    buf->len = sizeof(s->file_buf);
}

static void srv__on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    srv_t *s = st->data;
    if (n > 0)
        srv_input(s, buf->base, (size_t)n);
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
    srv_input(s, s->file_buf, (size_t)n);
    if (!s->exiting) {
        uv_buf_t b = uv_buf_init(s->file_buf, sizeof(s->file_buf));
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
        uv_buf_t b = uv_buf_init(s->file_buf, sizeof(s->file_buf));
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
        uv_shutdown_t *req = srv_malloc(sizeof(*req));
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
    w = srv_malloc(sizeof(*w));
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
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "unasync[%s]: %s\n", names[type >= 1 && type <= 4 ? type : 4], msg);
    /* window/logMessage only once the client knows us, and never after exit */
    if (s->initialize_answered && !s->exiting) {
        lsp_out_t out;
        if (lsp_encode_log_message(type, msg, &out) == 0)
            srv_send(s, &out);
        if (s->trace != LSP_TRACE_OFF && lsp_encode_log_trace(msg, &out) == 0)
            srv_send(s, &out);
    }
}
