/* Starts and stops a private redis-server for the runtime's tests and benchmarks. */
#include "redis_server.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

void redis_server_stop(struct redis_server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
    unlink(s->sock);
    rmdir(s->dir);
}
