/* The unasync language server's entry point: an LSP 3.17 server over stdin/stdout. */
#ifndef UNASYNC_SERVER_H
#define UNASYNC_SERVER_H

/* The module's one error table. The project's scheme (transform/ua.h, libuv's): a system error
 * is -errno, and each library's own codes lie in [base - 99, base - 1] below -4096; the server's
 * base is SRV_EBASE, apart from every other library's. srv_strerror names both kinds. */
#define SRV_EBASE (-10400)
#define SRV_ERRNO_MAP(X)                                                                           \
    X(NOMEM, SRV_EBASE - 1, "out of memory")                                                       \
    X(IO, SRV_EBASE - 2, "input/output error")                                                     \
    X(INVAL, SRV_EBASE - 3, "invalid argument")                                                    \
    X(OUTSIDE, SRV_EBASE - 4, "path is outside the workspace folders")                             \
    X(NOTFOUND, SRV_EBASE - 5, "no such file, document or project")                                \
    X(ENGINE, SRV_EBASE - 6, "the engine could not process the file")

enum {
#define SRV_ERRNO_ENUM(name, val, msg) SRV_E##name = (val),
    SRV_ERRNO_MAP(SRV_ERRNO_ENUM)
#undef SRV_ERRNO_ENUM
};

/* A static message for an error code of this module or a -errno. Never NULL. */
const char *srv_strerror(int err);

#include <stddef.h>

/* The server has no allocation hook of its own: every heap allocation and free of server/ goes
 * through the core stack's (transform/ua.h's ua_set_allocator: transform, engine, lint,
 * protocol, cJSON and the server), so one setter fails the Nth allocation of the whole stack.
 * srv_set_allocator is an alias of ua_set_allocator with its signature and contract: NULL for
 * all three restores malloc/realloc/free; not thread-safe: set it before the server starts and
 * keep it until the server has returned. */
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
