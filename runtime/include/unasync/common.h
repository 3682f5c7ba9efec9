/* What <unasync/async.h> and <unasync/sync.h> share: error codes and internal queue types whose
 * names the async_* -> sync_* rename leaves alone, so both headers can be included together. */
#ifndef UNASYNC_COMMON_H
#define UNASYNC_COMMON_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The runtime's one error table. Every function of both APIs returns 0 or a negative code.
 * Codes with an errno counterpart are exactly -errno (libuv uses the same values on Unix), so an
 * I/O error that is not listed here is also a negative errno, identical in the async and the sync
 * API. The others lie below UNASYNC_EBASE, outside the errno range. */
#define UNASYNC_EBASE (-20000)
#define UNASYNC_ERRNO_MAP(XX)                                                                      \
    XX(ECANCELED, -ECANCELED, "operation canceled")                                                \
    XX(ETIMEDOUT, -ETIMEDOUT, "timed out")                                                         \
    XX(ENOMEM, -ENOMEM, "out of memory")                                                           \
    XX(EINVAL, -EINVAL, "invalid argument")                                                        \
    XX(EBUSY, -EBUSY, "resource busy")                                                             \
    XX(EPERM, -EPERM, "operation not permitted")                                                   \
    XX(EAGAIN, -EAGAIN, "resource temporarily unavailable")                                        \
    XX(ENOTCORO, UNASYNC_EBASE - 1, "async primitive called outside a coroutine")                  \
    XX(ENOTFOUND, UNASYNC_EBASE - 2, "host or service not found")                                  \
    XX(EDNS, UNASYNC_EBASE - 3, "name resolution failed")                                          \
    XX(EREDIS, UNASYNC_EBASE - 4, "redis error")                                                   \
    XX(EDEADLK, -EDEADLK, "resource deadlock would occur")

enum unasync_error {
#define UNASYNC_ERR_ENUM(name, value, text) UNASYNC_##name = (value),
    UNASYNC_ERRNO_MAP(UNASYNC_ERR_ENUM)
#undef UNASYNC_ERR_ENUM
};

/* Returns a static, human-readable description of `err` (a code from the table above or any
 * negative errno); never NULL. unasync_err_name returns the symbolic name ("ECANCELED"), or
 * "EUNKNOWN" for a code outside the table. */
const char *unasync_strerror(int err);
const char *unasync_err_name(int err);

/* Lets a library built on the runtime (the limiter) name its own codes: unasync_strerror and
 * unasync_err_name hand a code in [lo, hi] that the runtime's table lacks to str/name. Registering
 * the same str again does nothing. 0, UNASYNC_EINVAL (lo > hi, a range that overlaps the
 * runtime's codes or errno, NULL functions) or UNASYNC_ENOMEM (more than 8 tables).
 * Thread-safe. */
int unasync_register_errors(int lo, int hi, const char *(*str)(int), const char *(*name)(int));

/* Called when an async primitive is used outside a coroutine; the call then returns
 * UNASYNC_ENOTCORO. The default handler prints `what` on stderr and aborts in a runtime built
 * without NDEBUG (debug builds) and does nothing with NDEBUG. NULL restores the default. Returns
 * the previous handler. Process-wide; set it before starting threads. */
typedef void (*unasync_misuse_fn)(const char *what);
unasync_misuse_fn unasync_set_misuse_handler(unasync_misuse_fn fn);

/* Every heap allocation and free of the runtime (both APIs: task records, stack bookkeeping,
 * sockets, Redis connections and commands, the sync twin's per-thread records and loops) goes
 * through malloc_fn / free_fn, so that tests can fail the Nth allocation; a failed one makes the
 * call that needed it return UNASYNC_ENOMEM (NULL from async_spawn / sync_spawn) with nothing
 * half-done left behind. NULL for both restores malloc/free. The runtime never reallocates and
 * asks for at least one byte, so NULL from malloc_fn always means failure. Process-wide and not
 * synchronised: set it before any other runtime call and before starting threads, and keep it
 * while anything allocated under it lives (memory is released by the free_fn that matches its
 * malloc_fn). The hook must be thread-safe when the sync API is used from several threads.
 * Outside its reach: coroutine stacks (mmap), and the allocations made inside libuv and hiredis
 * (see docs/runtime.md for why the runtime does not redirect those). */
void unasync_set_allocator(void *(*malloc_fn)(size_t), void (*free_fn)(void *));

/* A timeout that never expires, for the *_timed functions. */
#define UNASYNC_FOREVER UINT64_MAX

/* Internal: the FIFO of tasks blocked on a primitive. Embedded in the primitives so they can be
 * declared by value; never touch its fields. */
struct unasync_waiter;
struct unasync_waitq {
    struct unasync_waiter *head;
    struct unasync_waiter *tail;
    size_t count;
};

#ifdef __cplusplus
}
#endif
#endif /* UNASYNC_COMMON_H */
