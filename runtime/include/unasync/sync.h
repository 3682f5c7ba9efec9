/* The blocking API of the unasync runtime: the twin of <unasync/async.h> with the same signatures
 * after the async_ -> sync_ rename, on threads, pthreads, blocking sockets and hiredis' blocking
 * API. Each function keeps the contract written above its async_ twin in <unasync/async.h>;
 * only the differences are written here. Needs no libuv header (the libuv adapter is
 * <unasync/sync_uv.h>). */
#ifndef UNASYNC_SYNC_H
#define UNASYNC_SYNC_H

#include <unasync/common.h>

#include <netdb.h>
#include <pthread.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 0 in a translation unit that includes only this header; see <unasync/async.h>. */
#ifndef UNASYNC_ASYNC
#define UNASYNC_ASYNC 0
#endif

/* ------------------------------------------------------------------------------------------ */
/* Tasks: threads                                                                               */
/* ------------------------------------------------------------------------------------------ */

typedef struct sync_task_s sync_task_t;

/* Calls fn(arg) on this thread and returns its result (UNASYNC_ENOMEM if the thread's
 * cancellation state cannot be allocated). Threads spawned from fn are not waited for. */
int sync_run(int (*fn)(void *), void *arg);
/* Starts fn(arg) on a new thread (stack size and guard page from sync_set_stack_size /
 * sync_set_guard_pages). NULL when out of memory or threads. */
sync_task_t *sync_spawn(int (*fn)(void *), void *arg);
int sync_join(sync_task_t *task, int *result);
int sync_join_timed(sync_task_t *task, int *result, uint64_t timeout_ms);
void sync_detach(sync_task_t *task);
/* Same one-shot semantics as async_cancel: the thread's current or next blocking call of this
 * API returns UNASYNC_ECANCELED. Plain system calls the thread makes are not interrupted. */
int sync_cancel(sync_task_t *task);
/* The calling thread's task (created on first use for threads not made by sync_spawn). */
sync_task_t *sync_self(void);
/* sched_yield(); 0 or a pending UNASYNC_ECANCELED. */
int sync_yield(void);
/* Sleeps on CLOCK_MONOTONIC; 0 or UNASYNC_ECANCELED. */
int sync_sleep_ms(uint64_t ms);
/* Stack size and guard page of threads spawned from now on by this thread. */
int sync_set_stack_size(size_t bytes);
int sync_set_guard_pages(int on);

/* ------------------------------------------------------------------------------------------ */
/* Synchronisation between threads                                                              */
/* ------------------------------------------------------------------------------------------ */

/* The same FIFO algorithms as the async primitives, guarded by a pthread mutex, with each
 * waiter parked on its own thread's condition variable (so waits are cancellable and FIFO). */
typedef struct sync_mutex_s {
    pthread_mutex_t lock;
    sync_task_t *owner;
    struct unasync_waitq waiters;
} sync_mutex_t;

int sync_mutex_init(sync_mutex_t *m);
int sync_mutex_destroy(sync_mutex_t *m);
int sync_mutex_lock(sync_mutex_t *m);
int sync_mutex_lock_timed(sync_mutex_t *m, uint64_t timeout_ms);
int sync_mutex_trylock(sync_mutex_t *m);
int sync_mutex_unlock(sync_mutex_t *m);
size_t sync_mutex_nwaiters(sync_mutex_t *m);

typedef struct sync_cond_s {
    pthread_mutex_t lock;
    struct unasync_waitq waiters;
} sync_cond_t;

int sync_cond_init(sync_cond_t *c);
int sync_cond_destroy(sync_cond_t *c);
int sync_cond_wait(sync_cond_t *c, sync_mutex_t *m);
int sync_cond_wait_timed(sync_cond_t *c, sync_mutex_t *m, uint64_t timeout_ms);
int sync_cond_signal(sync_cond_t *c);
int sync_cond_broadcast(sync_cond_t *c);

typedef struct sync_sem_s {
    pthread_mutex_t lock;
    uint64_t value;
    struct unasync_waitq waiters;
} sync_sem_t;

int sync_sem_init(sync_sem_t *s, uint64_t value);
int sync_sem_destroy(sync_sem_t *s);
int sync_sem_wait(sync_sem_t *s);
int sync_sem_wait_timed(sync_sem_t *s, uint64_t timeout_ms);
int sync_sem_trywait(sync_sem_t *s);
int sync_sem_post(sync_sem_t *s);

typedef struct sync_event_s {
    pthread_mutex_t lock;
    int set;
    struct unasync_waitq waiters;
} sync_event_t;

int sync_event_init(sync_event_t *e);
int sync_event_destroy(sync_event_t *e);
int sync_event_wait(sync_event_t *e);
int sync_event_wait_timed(sync_event_t *e, uint64_t timeout_ms);
int sync_event_set(sync_event_t *e);
int sync_event_is_set(sync_event_t *e);

/* ------------------------------------------------------------------------------------------ */
/* TCP: blocking sockets; waits use poll(2) so they honour timeouts and sync_cancel            */
/* ------------------------------------------------------------------------------------------ */

typedef struct sync_tcp_s sync_tcp_t;

int sync_tcp_connect(sync_tcp_t **out, const struct sockaddr *addr);
int sync_tcp_listen(sync_tcp_t **out, const struct sockaddr *addr, int backlog);
int sync_tcp_port(sync_tcp_t *tcp, int *port);
int sync_tcp_accept(sync_tcp_t *server, sync_tcp_t **client);
int sync_tcp_read(sync_tcp_t *tcp, void *buf, size_t len, size_t *nread);
int sync_tcp_read_timed(sync_tcp_t *tcp, void *buf, size_t len, size_t *nread, uint64_t timeout_ms);
int sync_tcp_write(sync_tcp_t *tcp, const void *buf, size_t len);
int sync_tcp_shutdown(sync_tcp_t *tcp);
int sync_tcp_close(sync_tcp_t *tcp);

/* ------------------------------------------------------------------------------------------ */
/* DNS and files: getaddrinfo(3) and plain system calls on the calling thread                   */
/* ------------------------------------------------------------------------------------------ */

/* <netdb.h> defines struct addrinfo only for POSIX (not under a strict -std=c11). */
struct addrinfo;
int sync_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                     struct addrinfo **res);
void sync_freeaddrinfo(struct addrinfo *res);
int sync_file_open(const char *path, int flags, int mode, int *fd);
int sync_file_read(int fd, void *buf, size_t len, int64_t offset, size_t *nread);
int sync_file_write(int fd, const void *buf, size_t len, int64_t offset, size_t *nwritten);
int sync_file_close(int fd);

/* ------------------------------------------------------------------------------------------ */
/* Redis: hiredis' blocking API                                                                 */
/* ------------------------------------------------------------------------------------------ */

struct redisReply;
typedef struct sync_redis_s sync_redis_t;

int sync_redis_connect(sync_redis_t **out, const char *host, int port);
int sync_redis_connect_unix(sync_redis_t **out, const char *path);
/* hiredis' redisConnectWithTimeout / redisConnectUnixWithTimeout; the connect timeout does not
 * stay on the socket. Not interruptible by sync_cancel. */
int sync_redis_connect_timed(sync_redis_t **out, const char *host, int port, uint64_t timeout_ms);
int sync_redis_connect_unix_timed(sync_redis_t **out, const char *path, uint64_t timeout_ms);
/* redisSetTimeout: SO_RCVTIMEO and SO_SNDTIMEO, so the limit applies to each read(2) and
 * write(2) of a command, not to the command as a whole (a reply trickling in can take longer).
 * A timed-out command breaks the connection as in the async API. */
int sync_redis_set_timeout(sync_redis_t *r, uint64_t timeout_ms);
/* A connection is used by one thread at a time (the blocking redisContext is not shared).
 * SIGPIPE is blocked in the calling thread during the command (and one it raised is consumed),
 * so a write to a server that went away returns UNASYNC_EREDIS instead of killing the process. */
int sync_redis_command(sync_redis_t *r, struct redisReply **reply, const char *fmt, ...);
int sync_redis_command_argv(sync_redis_t *r, struct redisReply **reply, int argc, const char **argv,
                            const size_t *argvlen);
const char *sync_redis_errstr(sync_redis_t *r);
int sync_redis_close(sync_redis_t *r);

#ifdef __cplusplus
}
#endif
#endif /* UNASYNC_SYNC_H */
