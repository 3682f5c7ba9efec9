/* Starting and stopping a private redis-server for the limiter tests, and unique key prefixes. */
#include "rl_testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <hiredis.h>
#include <netinet/in.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int spawn(rl_test_redis_t *r)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, 1);
            close(devnull);
        }
        char port[16];
        snprintf(port, sizeof port, "%d", r->port);
        if (r->cluster)
            execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1",
                   "--unixsocket", r->socket, "--unixsocketperm", "700", "--save", "",
                   "--appendonly", "no", "--dir", r->dir, "--cluster-enabled", "yes",
                   "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",
                   "--repl-diskless-sync-delay", "0", (char *)NULL);
        else
            execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1",
                   "--unixsocket", r->socket, "--unixsocketperm", "700", "--save", "",
                   "--appendonly", r->aof ? "yes" : "no", "--appendfsync", "always", "--dir",
                   r->dir, (char *)NULL);
        _exit(127);
    }
    r->pid = pid;
    /* Wait (at most ~10 s) until it answers; this is start-up, not a timed assertion. */
    for (int i = 0; i < 1000; i++) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            fprintf(stderr, "redis-server exited at start (status %d)\n", status);
            r->pid = 0;
            return -1;
        }
        redisContext *c = redisConnectUnix(r->socket);
        if (c && !c->err) {
            redisReply *reply = redisCommand(c, "PING");
            int ok = reply && reply->type == REDIS_REPLY_STATUS;
            freeReplyObject(reply);
            redisFree(c);
            if (ok)
                return 0;
        } else if (c) {
            redisFree(c);
        }
        nap_ms(10);
    }
    fprintf(stderr, "redis-server did not answer\n");
    return -1;
}

/* True when `port` on loopback can be bound right now. */
static int port_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* A cluster node needs its port and the bus port (+10000) free, both below 65536: pick in
 * 20000-29999, starting from a point that depends on the process. */
static int free_cluster_port(void)
{
    static int next = -1;
    if (next < 0)
        next = 20000 + (int)(getpid() % 500) * 20;
    for (int tries = 0; tries < 10000; tries++) {
        int port = next;
        next = next + 1 >= 30000 ? 20000 : next + 1;
        if (port_free(port) && port_free(port + 10000))
            return port;
    }
    return -1;
}

/* A loopback port that was free a moment ago (the server binds it right after). */
int rl_test_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

int rl_test_redis_start(rl_test_redis_t *r)
{
    int aof = r->aof, tcp = r->tcp, cluster = r->cluster;
    memset(r, 0, sizeof *r);
    r->aof = aof;
    r->tcp = tcp;
    r->cluster = cluster;
    if (tcp && (r->port = cluster ? free_cluster_port() : rl_test_free_port()) <= 0)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(r->dir, sizeof r->dir, "%s/rl-redis-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(r->dir)) {
        perror("mkdtemp");
        return -1;
    }
    snprintf(r->socket, sizeof r->socket, "%s/redis.sock", r->dir);
    if (r->cluster) /* a cluster has database 0 only */
        snprintf(r->url, sizeof r->url, "redis://127.0.0.1:%d", r->port);
    else if (r->tcp)
        snprintf(r->url, sizeof r->url, "redis://127.0.0.1:%d/1", r->port);
    else
        snprintf(r->url, sizeof r->url, "unix://%s", r->socket);
    return spawn(r);
}

void rl_test_redis_kill(rl_test_redis_t *r, int hard)
{
    if (r->pid <= 0)
        return;
    kill(r->pid, hard ? SIGKILL : SIGTERM);
    kill(r->pid, SIGCONT); /* a paused server acts on SIGTERM only once resumed */
    while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    r->pid = 0;
    unlink(r->socket);
}

void rl_test_redis_pause(rl_test_redis_t *r, int paused)
{
    if (r->pid > 0)
        kill(r->pid, paused ? SIGSTOP : SIGCONT);
}

int rl_test_redis_restart(rl_test_redis_t *r)
{
    return spawn(r);
}

int rl_test_redis_command(rl_test_redis_t *r, const char *command)
{
    redisContext *c = redisConnectUnix(r->socket);
    if (!c || c->err) {
        if (c)
            redisFree(c);
        return -1;
    }
    redisReply *reply = redisCommand(c, command);
    int rc = reply && reply->type != REDIS_REPLY_ERROR ? 0 : -1;
    freeReplyObject(reply);
    redisFree(c);
    return rc;
}

long long rl_test_redis_int(rl_test_redis_t *r, const char *command)
{
    redisContext *c = redisConnectUnix(r->socket);
    if (!c || c->err) {
        if (c)
            redisFree(c);
        return LLONG_MIN;
    }
    if (r->tcp && !r->cluster) { /* the suite's TCP runs use database 1 */
        redisReply *sel = redisCommand(c, "SELECT 1");
        freeReplyObject(sel);
    }
    redisReply *reply = redisCommand(c, command);
    long long v = reply && reply->type == REDIS_REPLY_INTEGER ? reply->integer : LLONG_MIN;
    freeReplyObject(reply);
    redisFree(c);
    return v;
}

long long rl_test_redis_info(rl_test_redis_t *r, const char *field)
{
    redisContext *c = redisConnectUnix(r->socket);
    if (!c || c->err) {
        if (c)
            redisFree(c);
        return LLONG_MIN;
    }
    redisReply *reply = redisCommand(c, "INFO");
    long long v = LLONG_MIN;
    size_t n = strlen(field);
    for (const char *p = reply && reply->type == REDIS_REPLY_STRING ? reply->str : NULL; p && *p;
         p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, field, n) == 0 && p[n] == ':') {
            v = strtoll(p + n + 1, NULL, 10);
            break;
        }
    }
    freeReplyObject(reply);
    redisFree(c);
    return v;
}

long rl_test_rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, rss = -1;
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &rss) != 2)
            rss = -1;
        fclose(f);
    }
    return rss < 0 ? -1 : rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Removes the server's folder and whatever it wrote there (AOF folder, dump). */
static void remove_tree(const char *path)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", path);
}

void rl_test_redis_stop(rl_test_redis_t *r)
{
    rl_test_redis_kill(r, 0);
    if (r->dir[0])
        remove_tree(r->dir);
}

const char *rl_test_prefix(void)
{
    static char buf[64];
    static int n;
    snprintf(buf, sizeof buf, "t%ld-%d:", (long)getpid(), ++n);
    return buf;
}

int rl_test_cluster_start(rl_test_cluster_t *c)
{
    memset(c, 0, sizeof *c);
    char cmd[1024];
    int n = snprintf(cmd, sizeof cmd, "redis-cli --cluster create");
    for (int i = 0; i < RL_TEST_CLUSTER_NODES; i++) {
        c->nodes[i].tcp = 1;
        c->nodes[i].cluster = 1;
        if (rl_test_redis_start(&c->nodes[i]) != 0) {
            rl_test_cluster_stop(c);
            return -1;
        }
        n += snprintf(cmd + n, sizeof cmd - (size_t)n, " 127.0.0.1:%d", c->nodes[i].port);
    }
    snprintf(cmd + n, sizeof cmd - (size_t)n,
             " --cluster-replicas 1 --cluster-yes > /dev/null 2>&1");
    if (system(cmd) != 0) {
        fprintf(stderr, "redis-cli --cluster create failed\n");
        rl_test_cluster_stop(c);
        return -1;
    }
    /* Wait (at most ~20 s) until every node says the cluster is up and every replica has
     * synced with its master (a replica that never synced is never promoted). */
    for (int i = 0; i < 2000; i++) {
        int ok = 0;
        for (int k = 0; k < RL_TEST_CLUSTER_NODES; k++)
            ok += rl_test_redis_info_of(&c->nodes[k], "CLUSTER INFO", "cluster_state:ok") &&
                  (rl_test_redis_info_of(&c->nodes[k], "INFO replication", "role:master") ||
                   rl_test_redis_info_of(&c->nodes[k], "INFO replication",
                                         "master_link_status:up"));
        if (ok == RL_TEST_CLUSTER_NODES)
            return 0;
        nap_ms(10);
    }
    fprintf(stderr, "the cluster did not reach cluster_state:ok\n");
    rl_test_cluster_stop(c);
    return -1;
}

void rl_test_cluster_stop(rl_test_cluster_t *c)
{
    for (int i = 0; i < RL_TEST_CLUSTER_NODES; i++)
        if (c->nodes[i].dir[0])
            rl_test_redis_stop(&c->nodes[i]);
}

int rl_test_redis_info_of(rl_test_redis_t *r, const char *command, const char *needle)
{
    redisContext *ctx = redisConnectUnix(r->socket);
    if (!ctx || ctx->err) {
        if (ctx)
            redisFree(ctx);
        return 0;
    }
    redisReply *reply = redisCommand(ctx, command);
    int found = reply && (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS) &&
                strstr(reply->str, needle) != NULL;
    freeReplyObject(reply);
    redisFree(ctx);
    return found;
}

const char *rl_test_cluster_url(rl_test_cluster_t *c)
{
    int n = snprintf(c->url, sizeof c->url, "redis-cluster://");
    for (int i = 0; i < RL_TEST_CLUSTER_NODES; i++)
        n += snprintf(c->url + n, sizeof c->url - (size_t)n, "%s127.0.0.1:%d", i ? "," : "",
                      c->nodes[i].port);
    return c->url;
}

long long rl_test_cluster_int(rl_test_cluster_t *c, const char *command)
{
    for (int i = 0; i < RL_TEST_CLUSTER_NODES; i++) {
        if (c->nodes[i].pid <= 0)
            continue;
        long long v = rl_test_redis_int(&c->nodes[i], command);
        if (v != LLONG_MIN)
            return v;
    }
    return LLONG_MIN;
}
