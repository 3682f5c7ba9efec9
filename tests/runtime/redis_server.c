/* Starts and stops a private redis-server for the runtime's tests and benchmarks, and makes
 * servers that never answer and loopback addresses. */
#include "redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int redis_server_pings(const char *sock)
{
    redisContext *c = redisConnectUnix(sock);
    int ok = 0;
    if (c && !c->err) {
        redisReply *r = redisCommand(c, "PING");
        ok = r && r->type == REDIS_REPLY_STATUS;
        if (r)
            freeReplyObject(r);
    }
    if (c)
        redisFree(c);
    return ok;
}

const char redis_server_missing[] =
    "redis-server not found ($UNASYNC_REDIS_SERVER, else /usr/bin/redis-server): install "
    "redis-server (scripts/setup.sh does) and reconfigure the build";

int redis_server_start(struct redis_server *s)
{
    const char *bin = getenv("UNASYNC_REDIS_SERVER");
    if (!bin || !*bin)
        bin = "/usr/bin/redis-server";
    if (access(bin, X_OK) != 0)
        return 1;
    snprintf(s->dir, sizeof s->dir, "/tmp/unasync-redis-XXXXXX");
    if (!mkdtemp(s->dir))
        return -1;
    snprintf(s->sock, sizeof s->sock, "%s/redis.sock", s->dir);
    s->pid = fork();
    if (s->pid < 0) {
        rmdir(s->dir);
        return -1;
    }
    if (s->pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        execl(bin, "redis-server", "--port", "0", "--unixsocket", s->sock, "--save", "",
              "--appendonly", "no", "--dir", s->dir, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        if (redis_server_pings(s->sock))
            return 0;
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            s->pid = 0;
            break;
        }
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    redis_server_stop(s);
    return -1;
}

static void redis_server_end(struct redis_server *s, int sig)
{
    if (s->pid > 0) {
        kill(s->pid, sig);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
    unlink(s->sock);
    rmdir(s->dir);
}

void redis_server_stop(struct redis_server *s)
{
    redis_server_end(s, SIGTERM);
}

void redis_server_kill(struct redis_server *s)
{
    redis_server_end(s, SIGKILL);
}

int mute_server_open(struct mute_server *m)
{
    snprintf(m->dir, sizeof m->dir, "/tmp/unasync-mute-XXXXXX");
    if (!mkdtemp(m->dir))
        return -1;
    snprintf(m->sock, sizeof m->sock, "%s/mute.sock", m->dir);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(m->sock) >= sizeof sa.sun_path) {
        rmdir(m->dir);
        return -1;
    }
    memcpy(sa.sun_path, m->sock, strlen(m->sock) + 1);
    m->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (m->fd < 0 || bind(m->fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(m->fd, 16) != 0) {
        mute_server_close(m);
        return -1;
    }
    return 0;
}

int mute_server_accept_deaf(struct mute_server *m)
{
    int fd = accept(m->fd, NULL, NULL);
    if (fd >= 0 && shutdown(fd, SHUT_RD) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

void mute_server_close(struct mute_server *m)
{
    if (m->fd >= 0)
        close(m->fd);
    m->fd = -1;
    unlink(m->sock);
    rmdir(m->dir);
}

struct sockaddr_in loopback_addr(int port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

int black_hole_open(struct black_hole *b)
{
    struct sockaddr_in a = loopback_addr(0);
    socklen_t len = sizeof a;
    b->filler_fd = -1;
    b->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (b->listen_fd < 0 || bind(b->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(b->listen_fd, (struct sockaddr *)&a, &len) != 0 || listen(b->listen_fd, 0) != 0)
        goto fail;
    b->port = ntohs(a.sin_port);
    /* Backlog 0 holds one connection: this one fills it and is never accepted. */
    b->filler_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (b->filler_fd < 0 || connect(b->filler_fd, (struct sockaddr *)&a, sizeof a) != 0)
        goto fail;
    return 0;
fail:
    black_hole_close(b);
    return -1;
}

void black_hole_close(struct black_hole *b)
{
    if (b->filler_fd >= 0)
        close(b->filler_fd);
    if (b->listen_fd >= 0)
        close(b->listen_fd);
    b->filler_fd = b->listen_fd = -1;
}
