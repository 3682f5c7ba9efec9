/* Network fixtures for the runtime tests and benchmarks: a throwaway redis-server (started on a
 * unix socket in a new temporary directory, stopped and the directory removed afterwards), a
 * server that never answers, a black hole, and loopback addresses. */
#ifndef RUNTIME_TEST_REDIS_SERVER_H
#define RUNTIME_TEST_REDIS_SERVER_H

#include <netinet/in.h>
#include <sys/types.h>

struct redis_server {
    pid_t pid;
    char dir[64];
    char sock[128];
};

/* Starts redis-server ($UNASYNC_REDIS_SERVER, else /usr/bin/redis-server) with
 * `--port 0 --unixsocket <dir>/redis.sock --save ''` and waits until it answers PING.
 * Returns 0, 1 when the binary is missing (a test then fails with redis_server_missing), or -1
 * on failure (nothing left running). */
int redis_server_start(struct redis_server *s);
/* What a test prints when redis_server_start returns 1: what is missing and how to get it. */
extern const char redis_server_missing[];
/* Stops the server with SIGTERM, reaps it and removes its directory. */
void redis_server_stop(struct redis_server *s);
/* Kills the server with SIGKILL, as a crash would, then cleans up as redis_server_stop. */
void redis_server_kill(struct redis_server *s);

/* A "server" that never answers: a unix socket listening in a new temporary directory. The
 * kernel completes connections (they wait in the backlog), nobody reads them. */
struct mute_server {
    int fd;
    char dir[64];
    char sock[128];
};

/* 0, or -1 with nothing left open. */
int mute_server_open(struct mute_server *m);
/* Takes the oldest pending connection and shuts down its reading side: the client's next write
 * fails with EPIPE (and raises SIGPIPE unless the writer prevents it). Returns the accepted
 * descriptor (close it when done) or -1. */
int mute_server_accept_deaf(struct mute_server *m);
void mute_server_close(struct mute_server *m);

/* A TCP listener on 127.0.0.1 whose accept queue is full: Linux drops further SYNs, so a connect
 * to `port` stays in SYN-SENT until the client gives up (a black hole on loopback). */
struct black_hole {
    int listen_fd;
    int filler_fd;
    int port;
};

/* 0, or -1 with nothing left open. */
int black_hole_open(struct black_hole *b);
void black_hole_close(struct black_hole *b);

/* 127.0.0.1:port (port 0: any free port, for a listener). */
struct sockaddr_in loopback_addr(int port);

#endif /* RUNTIME_TEST_REDIS_SERVER_H */
