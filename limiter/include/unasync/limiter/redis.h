/* The Redis backend: the distributed deployment, one atomic Lua script per bucket operation. */
#ifndef RL_REDIS_H
#define RL_REDIS_H

#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Connects to `url` ("redis://host[:port][/db]" or "unix:///path[?db=N]"), or to a Redis
 * Cluster through its seed nodes ("redis-cluster://host[:port][,host[:port]]*": commands are
 * routed by hash slot, MOVED and ASK followed, the slot map refreshed and the command retried
 * within timeout_ms when a master is away; see docs/limiter.md, "Redis Cluster"), loads the
 * limiter's Lua script and returns a repository. Keys start with opts->key_prefix ("rl:" by default), so
 * several limiters can share a server. The connection is re-established on the next call after a
 * failure; while the server is away, operations fail with RL_EBACKEND (repo->last_cause holds the
 * runtime's code). The connect and each command wait at most opts->timeout_ms (2 s by default):
 * a server that accepts and never answers makes the call fail with RL_EBACKEND and last_cause
 * UNASYNC_ETIMEDOUT (an acquire then follows on_unavailable), the connection is dropped and the
 * next call reconnects. A command that timed out may still be executed by the server later. In
 * the async API tasks of one loop share the connection (commands are pipelined; one timeout
 * fails them all); in the sync API threads take turns on it. A key prefix holding '{' or '}'
 * is refused (RL_EINVAL: it would replace the keys' hash tags). 0, RL_EURL, RL_EINVAL,
 * RL_ENOMEM or RL_EBACKEND (nothing to free). */
async int rl_redis_open(rl_repo_t **out, const char *url, const rl_options_t *opts);
/* rl_redis_open that explains a failure in *report (may be NULL): report->cause is the runtime's
 * code (a negative errno such as -ECONNREFUSED, or UNASYNC_ETIMEDOUT) and the message names the
 * server ("cannot connect to redis at 127.0.0.1:1: Connection refused (ECONNREFUSED)"), or where
 * a cluster URL is malformed ("... at offset 24: expected a host name"). */
async int rl_redis_open_report(rl_repo_t **out, const char *url, const rl_options_t *opts,
                               rl_report_t *report);

#ifdef __cplusplus
}
#endif
#endif /* RL_REDIS_H */
