/* The unasync language server's entry point: an LSP 3.17 server over stdin/stdout. */
#ifndef UNASYNC_SERVER_H
#define UNASYNC_SERVER_H

/* The module's one error table. */
#define SRV_ERRNO_MAP(X)                                                                           \
    X(NOMEM, -1, "out of memory")                                                                  \
    X(IO, -2, "input/output error")                                                                \
    X(INVAL, -3, "invalid argument")                                                               \
    X(OUTSIDE, -4, "path is outside the workspace folders")                                        \
    X(NOTFOUND, -5, "no such file, document or project")                                           \
    X(ENGINE, -6, "the engine could not process the file")

enum {
#define SRV_ERRNO_ENUM(name, val, msg) SRV_E##name = (val),
    SRV_ERRNO_MAP(SRV_ERRNO_ENUM)
#undef SRV_ERRNO_ENUM
};

/* A static message for an error code of this module. Never NULL. */
const char *srv_strerror(int err);

/* Runs the language server on file descriptors 0 (requests) and 1 (responses) until the client
 * sends `exit`, stdin reaches end of file, or the client process named in `initialize` dies.
 * Logs go to stderr and window/logMessage, never to stdout. Returns the process exit status:
 * 0 when `exit` (or end of input) followed a `shutdown` request, 1 otherwise. */
int srv_run_stdio(void);

#endif
