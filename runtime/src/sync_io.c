/* Blocking I/O twins: non-blocking sockets waited on with poll(2) (so timeouts and sync_cancel
 * behave as in the async API), getaddrinfo(3) and plain file system calls. */
#include "sync_internal.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct sync_tcp_s {
    int fd;
};

/* The record is allocated before the socket exists or a connection is taken, so that running out
 * of memory connects nothing and leaves a pending connection queued for the next accept. */
static sync_tcp_t *ua_tcp_new(void)
{
    sync_tcp_t *t = ua_rt_malloc(sizeof *t);
    if (t)
        t->fd = -1;
    return t;
}

static socklen_t ua_addr_len(const struct sockaddr *addr)
{
    return addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

int sync_tcp_connect(sync_tcp_t **out, const struct sockaddr *addr)
{
    *out = NULL;
    sync_tcp_t *t = ua_tcp_new();
    if (!t)
        return UNASYNC_ENOMEM;
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int rc = -errno;
        ua_rt_free(t);
        return rc;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int rc = 0;
    if (connect(fd, addr, ua_addr_len(addr)) != 0) {
        rc = errno == EINPROGRESS ? 0 : -errno;
        if (rc == 0)
            rc = ua_sync_poll(fd, POLLOUT, UNASYNC_FOREVER);
        if (rc == 0) {
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
            rc = -err;
        }
    }
    if (rc != 0) {
        close(fd);
        ua_rt_free(t);
        return rc;
    }
    t->fd = fd;
    *out = t;
    return 0;
}

int sync_tcp_listen(sync_tcp_t **out, const struct sockaddr *addr, int backlog)
{
    *out = NULL;
    sync_tcp_t *t = ua_tcp_new();
    if (!t)
        return UNASYNC_ENOMEM;
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, addr, ua_addr_len(addr)) != 0 || listen(fd, backlog) != 0)
        goto fail;
    t->fd = fd;
    *out = t;
    return 0;
fail:;
    int rc = -errno;
    if (fd >= 0)
        close(fd);
    ua_rt_free(t);
    return rc;
}

int sync_tcp_port(sync_tcp_t *tcp, int *port)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(tcp->fd, (struct sockaddr *)&ss, &len) != 0)
        return -errno;
    if (ss.ss_family == AF_INET)
        *port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    else
        *port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

int sync_tcp_accept(sync_tcp_t *server, sync_tcp_t **client)
{
    *client = NULL;
    sync_tcp_t *t = ua_tcp_new();
    if (!t)
        return UNASYNC_ENOMEM;
    for (;;) {
        int fd = accept4(server->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            t->fd = fd;
            *client = t;
            return 0;
        }
        int rc = -errno;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            rc = ua_sync_poll(server->fd, POLLIN, UNASYNC_FOREVER);
        if (rc != 0) {
            ua_rt_free(t);
            return rc;
        }
    }
}

int sync_tcp_read_timed(sync_tcp_t *tcp, void *buf, size_t len, size_t *nread, uint64_t timeout_ms)
{
    *nread = 0;
    if (len == 0)
        return 0;
    uint64_t dl = ua_deadline(timeout_ms);
    for (;;) {
        int rc = ua_sync_poll(tcp->fd, POLLIN, ua_left(dl));
        if (rc != 0)
            return rc;
        ssize_t n = recv(tcp->fd, buf, len, 0);
        if (n >= 0) {
            *nread = (size_t)n;
            return 0;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -errno;
    }
}

int sync_tcp_read(sync_tcp_t *tcp, void *buf, size_t len, size_t *nread)
{
    return sync_tcp_read_timed(tcp, buf, len, nread, UNASYNC_FOREVER);
}

int sync_tcp_write(sync_tcp_t *tcp, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(tcp->fd, p, len, MSG_NOSIGNAL);
        if (n >= 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -errno;
        /* Like the async write, a started write is not abandoned on cancellation. */
        struct pollfd pfd = {tcp->fd, POLLOUT, 0};
        if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
            return -errno;
    }
    return 0;
}

int sync_tcp_shutdown(sync_tcp_t *tcp)
{
    return shutdown(tcp->fd, SHUT_WR) == 0 ? 0 : -errno;
}

int sync_tcp_close(sync_tcp_t *tcp)
{
    if (!tcp)
        return 0;
    close(tcp->fd);
    ua_rt_free(tcp);
    return 0;
}

int sync_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                     struct addrinfo **res)
{
    *res = NULL;
    sync_task_t *self = sync_self();
    if (self && ua_sync_cancel_pending(self))
        return ua_sync_cancelled(self);
    int rc = getaddrinfo(node, service, hints, res);
    switch (rc) {
    case 0:
        return 0;
    case EAI_NONAME:
    case EAI_NODATA:
    case EAI_SERVICE:
    case EAI_ADDRFAMILY:
        return UNASYNC_ENOTFOUND;
    case EAI_MEMORY:
        return UNASYNC_ENOMEM;
    default:
        return UNASYNC_EDNS;
    }
}

void sync_freeaddrinfo(struct addrinfo *res)
{
    if (res)
        freeaddrinfo(res);
}

int sync_file_open(const char *path, int flags, int mode, int *fd)
{
    *fd = open(path, flags | O_CLOEXEC, mode);
    return *fd < 0 ? -errno : 0;
}

int sync_file_read(int fd, void *buf, size_t len, int64_t offset, size_t *nread)
{
    ssize_t n = offset < 0 ? read(fd, buf, len) : pread(fd, buf, len, (off_t)offset);
    *nread = n < 0 ? 0 : (size_t)n;
    return n < 0 ? -errno : 0;
}

int sync_file_write(int fd, const void *buf, size_t len, int64_t offset, size_t *nwritten)
{
    ssize_t n = offset < 0 ? write(fd, buf, len) : pwrite(fd, buf, len, (off_t)offset);
    *nwritten = n < 0 ? 0 : (size_t)n;
    return n < 0 ? -errno : 0;
}

int sync_file_close(int fd)
{
    return close(fd) == 0 ? 0 : -errno;
}
