/* The unasync language server's entry point: an LSP 3.17 server over stdin/stdout. */
#ifndef UNASYNC_SERVER_H
#define UNASYNC_SERVER_H

/* The module's one error table. As in libuv, a system error is -errno, and the server's own
 * codes lie in a range of their own, SRV_ERRNO_BASE - 1 and below: under -4095 (the lowest
 * -errno Linux uses) and above the engine's UE_E* (-100001 and below), so no code can be taken
 * for another. srv_strerror names both. */
#define SRV_ERRNO_BASE (-30000)
#define SRV_ERRNO_MAP(X)                                                                           \
    X(NOMEM, SRV_ERRNO_BASE - 1, "out of memory")                                                  \
    X(IO, SRV_ERRNO_BASE - 2, "input/output error")                                                \
    X(INVAL, SRV_ERRNO_BASE - 3, "invalid argument")                                               \
    X(OUTSIDE, SRV_ERRNO_BASE - 4, "path is outside the workspace folders")                        \
    X(NOTFOUND, SRV_ERRNO_BASE - 5, "no such file, document or project")                           \
    X(ENGINE, SRV_ERRNO_BASE - 6, "the engine could not process the file")

enum {
#define SRV_ERRNO_ENUM(name, val, msg) SRV_E##name = (val),
    SRV_ERRNO_MAP(SRV_ERRNO_ENUM)
#undef SRV_ERRNO_ENUM
};

/* A static message for an error code of this module or a -errno. Never NULL. */
const char *srv_strerror(int err);

#include <stddef.h>

/* Every heap allocation and free of the server goes through these, so tests can fail the Nth
 * allocation. Passing NULL for all three restores malloc/realloc/free. Not thread-safe: set it
 * before the server starts and keep it until the server has returned (memory must be released by
 * the free_fn that matches its malloc_fn). This hook is the server's own: the protocol's
 * (lsp_set_allocator) and the engine's and transformer's (ua_set_allocator) are set apart, and
 * memory those libraries hand to the server is released through their hooks, never this one. */
void srv_set_allocator(void *(*malloc_fn)(size_t), void *(*realloc_fn)(void *, size_t),
                       void (*free_fn)(void *));

/* Runs the language server on file descriptors 0 (requests) and 1 (responses) until the client
 * sends `exit`, stdin reaches end of file, or the client process named in `initialize` dies.
 * Logs go to stderr and window/logMessage, never to stdout. Returns the process exit status:
 * 0 when `exit` (or end of input) followed a `shutdown` request, 1 otherwise. */
int srv_run_stdio(void);
/* The same with the idle pre-check (the check prepared when typing pauses) switched off when
 * `precheck` is 0, so that every save does all its work when it arrives (bench/server). */
int srv_run_stdio_precheck(int precheck);

#endif
