/* The async API of the unasync runtime: stackful coroutines on this thread's libuv loop, with
 * a blocking twin of every function in <unasync/sync.h> (same signature after async_ -> sync_).
 * Needs no libuv header; the adapter for awaiting libuv requests is <unasync/async_uv.h>. */
#ifndef UNASYNC_ASYNC_H
#define UNASYNC_ASYNC_H

#include <unasync/common.h>

#include <netdb.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* UNASYNC_ASYNC is 1 in a translation unit that includes this header, whatever else it includes:
 * <unasync/sync.h> defines it as 0 only when it is not defined yet, and this header replaces a 0.
 * The escape hatches `#if UNASYNC_ASYNC ... #else ... #endif` are written in async sources, which
 * include this header, and the transformer keeps only their #else part in the twin. */
#undef UNASYNC_ASYNC
#define UNASYNC_ASYNC 1

/* Markers. UA_ASYNC marks a function that may suspend; UA_AWAIT marks each call to one. Under
 * clang, UA_ASYNC is an annotate attribute that libclang (the unasync linter) sees; gcc would warn
 * about an unknown attribute, so it expands to nothing there. UA_AWAIT always expands to nothing:
 * coroutines are stackful, the marker is for readers, the linter and the transformer. The short
 * spellings `async` and `await` exist unless UNASYNC_NO_SHORT_MARKERS is defined. */
#if defined(__clang__)
#define UA_ASYNC __attribute__((annotate("unasync:async")))
#else
#define UA_ASYNC
#endif
#define UA_AWAIT
#if !defined(UNASYNC_NO_SHORT_MARKERS)
#ifndef async
#define async UA_ASYNC
#endif
#ifndef await
#define await UA_AWAIT
#endif
#endif

/* ------------------------------------------------------------------------------------------ */
/* Tasks                                                                                        */
/* ------------------------------------------------------------------------------------------ */

/* A spawned coroutine. Owned by whoever spawned it until async_join or async_detach. */
typedef struct async_task_s async_task_t;

/* Runs fn(arg) as the main coroutine on this thread's libuv loop (created on first use, closed
 * when this returns) and runs the loop until every coroutine has finished. Returns fn's result,
 * or UNASYNC_EBUSY when called from inside a coroutine (async_run does not nest), or
 * UNASYNC_ENOMEM. Tasks still running when fn returns keep running until they finish; their
 * results are lost unless someone joins them. If every remaining coroutine waits for something
 * that no libuv callback can deliver (a deadlock), async_run cancels them all (a message goes to
 * stderr) rather than return with coroutines suspended; it aborts if they keep waiting. */
int async_run(int (*fn)(void *), void *arg);

/* Starts fn(arg) in a new coroutine on this thread's loop; it first runs at the next scheduling
 * point of the caller (the caller keeps running). Must be called from a coroutine. Returns the
 * task, which the caller must pass to async_join or async_detach exactly once, or NULL when out of
 * memory, out of mappings (see docs/runtime.md, vm.max_map_count) or outside a coroutine. */
async_task_t *async_spawn(int (*fn)(void *), void *arg);

/* Waits until `task` has finished, stores fn's result in *result (when result is not NULL) and
 * frees the task. Returns 0. If the caller is cancelled while waiting, returns UNASYNC_ECANCELED
 * and the task is untouched: it still belongs to the caller (join it again or detach it). Joining
 * yourself returns UNASYNC_EDEADLK. */
UA_ASYNC int async_join(async_task_t *task, int *result);

/* async_join with a timeout: UNASYNC_ETIMEDOUT after timeout_ms, the task left untouched. */
UA_ASYNC int async_join_timed(async_task_t *task, int *result, uint64_t timeout_ms);

/* Gives up ownership of `task`: it is freed when it finishes; its result is dropped. A finished
 * task keeps its stack mapping (its record lives there) until it is joined or detached. */
void async_detach(async_task_t *task);

/* Requests cancellation of `task`. Cancellation is one-shot and cooperative: the task's current
 * suspension (or, if it is running or runnable, its next one) returns UNASYNC_ECANCELED, once;
 * later awaits behave normally so cleanup code can still await (close a socket, unlock). A
 * primitive that has already granted what the task waited for (a mutex handed over, a request
 * that completed) returns success and leaves the cancellation pending for the next suspension.
 * A task is never destroyed while suspended. Returns 0, or UNASYNC_EINVAL for NULL. */
int async_cancel(async_task_t *task);

/* The task running now, or NULL outside a coroutine. The main coroutine of async_run has a task
 * too (it can be cancelled, never joined). */
async_task_t *async_self(void);

/* Lets every other runnable coroutine run once, then continues. 0, UNASYNC_ECANCELED, or
 * UNASYNC_ENOTCORO outside a coroutine (this and every other awaitable asserts in debug builds). */
UA_ASYNC int async_yield(void);

/* Suspends for `ms` milliseconds on the loop's clock (0: until the next loop iteration's timers).
 * 0, UNASYNC_ECANCELED or UNASYNC_ENOTCORO. Allocates nothing. */
UA_ASYNC int async_sleep_ms(uint64_t ms);

/* Stack size of coroutines spawned from now on by this thread, rounded up to whole pages; default
 * 64 KiB (256 KiB in sanitizer builds). async_set_guard_pages(0) turns off the PROT_NONE guard
 * page below each new stack (a stack overflow then corrupts memory silently; see
 * docs/runtime.md for why you might want that). Both return 0 or UNASYNC_EINVAL. */
int async_set_stack_size(size_t bytes);
int async_set_guard_pages(int on);

/* ------------------------------------------------------------------------------------------ */
/* Synchronisation between coroutines of one loop (not between threads)                        */
/* ------------------------------------------------------------------------------------------ */

/* FIFO mutex: unlock hands the mutex to the longest waiter. Not recursive. */
typedef struct async_mutex_s {
    async_task_t *owner;
    struct unasync_waitq waiters;
} async_mutex_t;

/* init: 0. destroy: 0, or UNASYNC_EBUSY (nothing changed) while it is held or waited for. */
int async_mutex_init(async_mutex_t *m);
int async_mutex_destroy(async_mutex_t *m);
/* Waits for the mutex in FIFO order. 0 (the caller owns it), UNASYNC_ECANCELED or, for the timed
 * form, UNASYNC_ETIMEDOUT (the caller does not own it), UNASYNC_EDEADLK if it already owns it,
 * UNASYNC_ENOTCORO. */
UA_ASYNC int async_mutex_lock(async_mutex_t *m);
UA_ASYNC int async_mutex_lock_timed(async_mutex_t *m, uint64_t timeout_ms);
/* 0 if taken without waiting, UNASYNC_EBUSY otherwise. */
int async_mutex_trylock(async_mutex_t *m);
/* 0, or UNASYNC_EPERM when the caller is not the owner. */
int async_mutex_unlock(async_mutex_t *m);
/* How many tasks are waiting for the mutex now (for tests and diagnostics). */
size_t async_mutex_nwaiters(async_mutex_t *m);

/* Condition variable over an async_mutex_t. */
typedef struct async_cond_s {
    struct unasync_waitq waiters;
} async_cond_t;

int async_cond_init(async_cond_t *c);
int async_cond_destroy(async_cond_t *c); /* UNASYNC_EBUSY while waited for */
/* Releases m (which the caller must own: else UNASYNC_EPERM), waits for a signal, re-acquires m
 * (always, also on error) and returns 0, UNASYNC_ECANCELED or UNASYNC_ETIMEDOUT. Re-check the
 * predicate in a loop, as with pthreads. */
UA_ASYNC int async_cond_wait(async_cond_t *c, async_mutex_t *m);
UA_ASYNC int async_cond_wait_timed(async_cond_t *c, async_mutex_t *m, uint64_t timeout_ms);
/* Wakes the longest waiter / every waiter. 0. */
int async_cond_signal(async_cond_t *c);
int async_cond_broadcast(async_cond_t *c);

/* Counting semaphore; waiters are served in FIFO order. */
typedef struct async_sem_s {
    uint64_t value;
    struct unasync_waitq waiters;
} async_sem_t;

int async_sem_init(async_sem_t *s, uint64_t value);
int async_sem_destroy(async_sem_t *s); /* UNASYNC_EBUSY while waited for */
/* Takes one unit, waiting while there is none. 0, UNASYNC_ECANCELED, UNASYNC_ETIMEDOUT. */
UA_ASYNC int async_sem_wait(async_sem_t *s);
UA_ASYNC int async_sem_wait_timed(async_sem_t *s, uint64_t timeout_ms);
int async_sem_trywait(async_sem_t *s); /* 0 or UNASYNC_EAGAIN */
int async_sem_post(async_sem_t *s);    /* 0, or UNASYNC_EINVAL on overflow */

/* One-shot event: once set it stays set and every wait returns at once. */
typedef struct async_event_s {
    int set;
    struct unasync_waitq waiters;
} async_event_t;

int async_event_init(async_event_t *e);
int async_event_destroy(async_event_t *e); /* UNASYNC_EBUSY while waited for */
UA_ASYNC int async_event_wait(async_event_t *e);
UA_ASYNC int async_event_wait_timed(async_event_t *e, uint64_t timeout_ms);
int async_event_set(async_event_t *e); /* wakes every waiter; 0 */
int async_event_is_set(async_event_t *e);

/* ------------------------------------------------------------------------------------------ */
/* TCP                                                                                          */
/* ------------------------------------------------------------------------------------------ */

/* A TCP socket (listening or connected), owned by the caller until async_tcp_close. One task
 * reads and one task writes at a time (a second concurrent reader gets UNASYNC_EBUSY). */
typedef struct async_tcp_s async_tcp_t;

/* Connects to addr (IPv4 or IPv6). 0 and *out set, or a negative errno such as -ECONNREFUSED
 * (nothing to free), or UNASYNC_ECANCELED. */
UA_ASYNC int async_tcp_connect(async_tcp_t **out, const struct sockaddr *addr);
/* Binds and listens (port 0 picks a free one; see async_tcp_port). Does not suspend. */
int async_tcp_listen(async_tcp_t **out, const struct sockaddr *addr, int backlog);
/* The local port of a socket. 0 or a negative errno. */
int async_tcp_port(async_tcp_t *tcp, int *port);
/* Waits for a connection on a listening socket. 0 and *client set, or an error. */
UA_ASYNC int async_tcp_accept(async_tcp_t *server, async_tcp_t **client);
/* Reads what is available, at most len bytes, waiting until at least one byte (or EOF) arrives.
 * 0 with *nread > 0, 0 with *nread == 0 at end of stream, or an error (*nread == 0). */
UA_ASYNC int async_tcp_read(async_tcp_t *tcp, void *buf, size_t len, size_t *nread);
UA_ASYNC int async_tcp_read_timed(async_tcp_t *tcp, void *buf, size_t len, size_t *nread,
                                  uint64_t timeout_ms);
/* Writes all len bytes. 0 or an error (then an unknown prefix may have been sent). */
UA_ASYNC int async_tcp_write(async_tcp_t *tcp, const void *buf, size_t len);
/* Half-closes the sending side once pending writes are done. */
UA_ASYNC int async_tcp_shutdown(async_tcp_t *tcp);
/* Closes and frees the socket (NULL does nothing). Always 0; tcp is invalid afterwards. */
UA_ASYNC int async_tcp_close(async_tcp_t *tcp);

/* ------------------------------------------------------------------------------------------ */
/* DNS and files (libuv's thread pool)                                                          */
/* ------------------------------------------------------------------------------------------ */

/* <netdb.h> defines struct addrinfo only for POSIX (not under a strict -std=c11). */
struct addrinfo;

/* getaddrinfo(3) off the loop. 0 and *res (free it with async_freeaddrinfo), UNASYNC_ENOTFOUND,
 * UNASYNC_EDNS, UNASYNC_ECANCELED (the lookup is abandoned, nothing to free). */
UA_ASYNC int async_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                               struct addrinfo **res);
void async_freeaddrinfo(struct addrinfo *res);

/* open(2)/pread(2)/pwrite(2)/close(2) in the thread pool. offset < 0 means the current file
 * position. read stores the byte count (0 at end of file), write stores the count written.
 * Cancellation withdraws an operation still queued in the pool (UNASYNC_ECANCELED, nothing was
 * done); one already running completes and its result is returned, with the cancellation left
 * pending for the next suspension (the rule of async_await_req). */
UA_ASYNC int async_file_open(const char *path, int flags, int mode, int *fd);
UA_ASYNC int async_file_read(int fd, void *buf, size_t len, int64_t offset, size_t *nread);
UA_ASYNC int async_file_write(int fd, const void *buf, size_t len, int64_t offset,
                              size_t *nwritten);
UA_ASYNC int async_file_close(int fd);

/* ------------------------------------------------------------------------------------------ */
/* Redis (hiredis' async API on the loop)                                                     */
/* ------------------------------------------------------------------------------------------ */

struct redisReply;
typedef struct async_redis_s async_redis_t;

/* Connects over TCP or a unix socket. 0 and *out (the caller owns it: async_redis_close), or
 * UNASYNC_EREDIS / a negative errno (nothing to free). Without a deadline: prefer the _timed
 * forms when the server may not answer. Cancellation abandons the connect (UNASYNC_ECANCELED). */
UA_ASYNC int async_redis_connect(async_redis_t **out, const char *host, int port);
UA_ASYNC int async_redis_connect_unix(async_redis_t **out, const char *path);
/* The same, giving up after timeout_ms (> 0; UNASYNC_FOREVER: never): UNASYNC_ETIMEDOUT, the
 * half-open connection is closed and *out is NULL. A TCP server whose accept queue is full (SYN
 * dropped) times out; a unix socket whose queue is full fails at once (UNASYNC_EREDIS, EAGAIN).
 * UNASYNC_EINVAL for a timeout of 0. The timeout covers the connect only; see
 * async_redis_set_timeout. */
UA_ASYNC int async_redis_connect_timed(async_redis_t **out, const char *host, int port,
                                       uint64_t timeout_ms);
UA_ASYNC int async_redis_connect_unix_timed(async_redis_t **out, const char *path,
                                            uint64_t timeout_ms);
/* Sets how long each later command on r may wait for its reply (> 0 ms; UNASYNC_FOREVER, the
 * default: no limit). A command that times out returns UNASYNC_ETIMEDOUT and **breaks the
 * connection**: hiredis cannot drop one pending reply, so the connection is closed at once,
 * every other command waiting on it returns UNASYNC_EREDIS, and every later command returns
 * UNASYNC_EREDIS ("command timed out" in async_redis_errstr). Open a new connection then; r
 * must still be closed. A command the server had received may still be executed by it. 0,
 * UNASYNC_EINVAL for 0 ms, or UNASYNC_EREDIS when the connection is already broken. */
int async_redis_set_timeout(async_redis_t *r, uint64_t timeout_ms);
/* Sends one command (printf-like format as redisCommand) and waits for its reply. Many tasks may
 * share one connection; their commands are pipelined and replies matched in order. On 0, *reply
 * is owned by the caller: free it with freeReplyObject, exactly as with the blocking
 * redisCommand. On error *reply is NULL: UNASYNC_EREDIS (connection broken, see
 * async_redis_errstr), UNASYNC_ETIMEDOUT (see async_redis_set_timeout) or UNASYNC_ECANCELED
 * (the command was sent; its reply is discarded; the connection lives on). A write to a server
 * that went away fails with an error, never with SIGPIPE (it is blocked in the thread around
 * hiredis' writes; the process' signal disposition is left alone). */
UA_ASYNC int async_redis_command(async_redis_t *r, struct redisReply **reply, const char *fmt, ...);
UA_ASYNC int async_redis_command_argv(async_redis_t *r, struct redisReply **reply, int argc,
                                      const char **argv, const size_t *argvlen);
/* Description of the connection's last error (never NULL). */
const char *async_redis_errstr(async_redis_t *r);
/* Disconnects (pending commands get UNASYNC_EREDIS) and frees r; NULL does nothing. 0. */
UA_ASYNC int async_redis_close(async_redis_t *r);

#ifdef __cplusplus
}
#endif
#endif /* UNASYNC_ASYNC_H */
