/* The Redis backend: the distributed deployment, one atomic Lua script per bucket operation. */
#ifndef RL_REDIS_H
#define RL_REDIS_H

#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Connects to `url` ("redis://host[:port][/db]" or "unix:///path[?db=N]"), loads the limiter's
 * Lua script and returns a repository. Keys start with opts->key_prefix ("rl:" by default), so
 * several limiters can share a server. The connection is re-established on the next call after a
 * failure; while the server is away, operations fail with RL_EBACKEND (repo->last_cause holds the
 * runtime's code). The connect and each command wait at most opts->timeout_ms (2 s by default):
 * a server that accepts and never answers makes the call fail with RL_EBACKEND and last_cause
 * UNASYNC_ETIMEDOUT (an acquire then follows on_unavailable), the connection is dropped and the
 * next call reconnects. A command that timed out may still be executed by the server later. In
 * the async API tasks of one loop share the connection (commands are pipelined; one timeout
 * fails them all); in the sync API threads take turns on it. 0, RL_EURL, RL_ENOMEM or
 * RL_EBACKEND (nothing to free). */
async int rl_redis_open(rl_repo_t **out, const char *url, const rl_options_t *opts);

#ifdef __cplusplus
}
#endif
#endif /* RL_REDIS_H */
