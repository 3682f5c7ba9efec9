/* The in-memory backend: the embedded default repository, one process, no persistence. */
#ifndef RL_MEMORY_H
#define RL_MEMORY_H

#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Creates an empty in-memory repository (opts may be NULL; key_prefix and timeout_ms are
 * ignored). Its operations never fail for backend reasons; one mutex guards the store, so the
 * sync API may share a repository between threads and the async API between coroutines of one
 * loop. Free it with rl_repo_close (or let rl_limiter_close do it). 0 or RL_ENOMEM. */
int rl_memory_open(rl_repo_t **out, const rl_options_t *opts);

#ifdef __cplusplus
}
#endif
#endif /* RL_MEMORY_H */
