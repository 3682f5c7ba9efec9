/* Helpers shared by the limiter's async tests and their generated sync twins (not a source). */
#ifndef RL_TESTUTIL_H
#define RL_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Checks for test bodies that run inside a coroutine or a thread: on failure they print where
 * and return -1 from the body (cmocka's longjmp must not cross a coroutine stack); the cmocka
 * wrapper then fails the test. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                            \
        if (check_a_ != check_b_) {                                                                \
            fprintf(stderr, "%s:%d: check failed: %s == %s (%lld != %lld)\n", __FILE__, __LINE__,  \
                    #a, #b, check_a_, check_b_);                                                   \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        if (strcmp((a), (b)) != 0) {                                                               \
            fprintf(stderr, "%s:%d: check failed: \"%s\" == \"%s\"\n", __FILE__, __LINE__, (a),    \
                    (b));                                                                          \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

/* A redis-server of our own on a unix socket in a fresh temporary folder, without persistence. */
typedef struct rl_test_redis {
    int aof; /* set before start: keep data across kills in an fsync'd append-only file */
    int tcp; /* set before start: also listen on a free loopback port; url uses it and db 1 */
    int cluster; /* set before start (with tcp): --cluster-enabled yes */
    int port;
    pid_t pid;
    char dir[256];
    char socket[300];
    char url[320];
} rl_test_redis_t;

/* Starts redis-server and waits until it answers PING. 0, or -1. SIGPIPE keeps its default
 * action: the runtime's Redis clients must not raise it when the server dies. */
int rl_test_redis_start(rl_test_redis_t *r);
/* Stops it (SIGKILL when `hard`, as a crash would), waits for it; keeps the folder. */
void rl_test_redis_kill(rl_test_redis_t *r, int hard);
/* Freezes it with SIGSTOP (paused != 0), as a hung server: the kernel still completes new
 * connections, nothing answers. SIGCONT (paused == 0) resumes it; harmless when running. */
void rl_test_redis_pause(rl_test_redis_t *r, int paused);
/* Starts it again on the same socket. 0 or -1. */
int rl_test_redis_restart(rl_test_redis_t *r);
/* Sends one command on a connection of its own; 0 when the reply is not an error. */
int rl_test_redis_command(rl_test_redis_t *r, const char *command);
/* Sends one command and returns its integer reply (LLONG_MIN on error or another reply type).
 * With `tcp` set it first selects database 1, as the suite's TCP runs do. */
long long rl_test_redis_int(rl_test_redis_t *r, const char *command);
/* A numeric field of INFO ("used_memory"), LLONG_MIN when missing. */
long long rl_test_redis_info(rl_test_redis_t *r, const char *field);
/* The resident set size of this process in KiB (-1 when unknown). */
long rl_test_rss_kb(void);
/* Stops it and removes the folder. */
void rl_test_redis_stop(rl_test_redis_t *r);

/* A loopback TCP port that was free a moment ago (nothing listens on it). */
int rl_test_free_port(void);

/* A local Redis Cluster: 3 masters and 3 replicas (cluster-enabled servers on free loopback
 * ports, joined with redis-cli --cluster create --cluster-replicas 1), for the cluster tests. */
#define RL_TEST_CLUSTER_NODES 6
typedef struct rl_test_cluster {
    rl_test_redis_t nodes[RL_TEST_CLUSTER_NODES];
    char url[RL_TEST_CLUSTER_NODES * 24 + 32];
} rl_test_cluster_t;
/* "redis-cluster://127.0.0.1:P1,...": every node as a seed (the client learns the masters). */
const char *rl_test_cluster_url(rl_test_cluster_t *c);
/* rl_test_redis_int on the node that serves the command's key (the others answer MOVED);
 * LLONG_MIN when none gives an integer. */
long long rl_test_cluster_int(rl_test_cluster_t *c, const char *command);
/* Starts the nodes, creates the cluster and waits until every node reports cluster_state:ok.
 * 0, or -1 (everything started is stopped). */
int rl_test_cluster_start(rl_test_cluster_t *c);
/* Stops every node and removes their folders. */
void rl_test_cluster_stop(rl_test_cluster_t *c);
/* 1 when the string reply of `command` on r contains needle, else 0. */
int rl_test_redis_info_of(rl_test_redis_t *r, const char *command, const char *needle);

/* A fresh key prefix per test ("t<pid>-<n>:") so tests sharing a server never share keys. */
const char *rl_test_prefix(void);

#endif /* RL_TESTUTIL_H */
