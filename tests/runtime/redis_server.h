/* A throwaway redis-server for tests and benchmarks: started on a unix socket in a new
 * temporary directory, stopped (and the directory removed) afterwards. */
#ifndef RUNTIME_TEST_REDIS_SERVER_H
#define RUNTIME_TEST_REDIS_SERVER_H

#include <sys/types.h>

struct redis_server {
    pid_t pid;
    char dir[64];
    char sock[128];
};

/* Starts redis-server ($UNASYNC_REDIS_SERVER, else /usr/bin/redis-server) with
 * `--port 0 --unixsocket <dir>/redis.sock --save ''` and waits until it answers PING.
 * Returns 0, 1 when the binary is missing (skip), or -1 on failure (nothing left running). */
int redis_server_start(struct redis_server *s);
/* Stops the server with SIGTERM, reaps it and removes its directory. */
void redis_server_stop(struct redis_server *s);

#endif /* RUNTIME_TEST_REDIS_SERVER_H */
