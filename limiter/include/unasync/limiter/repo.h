/* The repository interface between the limiter and a storage backend, with its cached resolution.
 */
#ifndef RL_REPO_H
#define RL_REPO_H

#include <unasync/async.h>

#include "rl_types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rl_repo rl_repo_t;

/* What a backend implements. Every operation returns 0 or a negative RL_ code; a failure to reach
 * or understand the backend is RL_EBACKEND or RL_EPROTO (the cause goes to report when given).
 * Operations on buckets take `now_ms` from the caller's clock so one clock rules every backend. */
typedef struct rl_repo_ops {
    const char *name;
    /* 0 when the backend answers. */
    async int (*ping)(rl_repo_t *repo);
    /* Releases the backend's resources (not the generic part; rl_repo_close does both). */
    async int (*close)(rl_repo_t *repo);

    /* Entities. put fails with RL_EEXIST when `exclusive` and the id exists. get fails with
     * RL_ENOTFOUND. delete removes the entity, its configs and its buckets (RL_ENOTFOUND when
     * absent). children lists at most max entities whose parent is `parent_id`, in no order. */
    async int (*entity_put)(rl_repo_t *repo, const rl_entity_t *entity, bool exclusive);
    async int (*entity_get)(rl_repo_t *repo, const char *id, rl_entity_t *out);
    async int (*entity_delete)(rl_repo_t *repo, const char *id);
    async int (*entity_children)(rl_repo_t *repo, const char *parent_id, rl_entity_t *out,
                                 size_t max, size_t *n);

    /* Stored configs (entity_id is ignored for SYSTEM and RESOURCE, resource for SYSTEM).
     * config_put on an ENTITY config also pushes the new parameters into that entity's existing
     * buckets for the resource (tokens are kept). config_get fails with RL_ENOTFOUND. */
    async int (*config_put)(rl_repo_t *repo, rl_config_kind_t kind, const char *entity_id,
                            const char *resource, const rl_config_t *cfg);
    async int (*config_get)(rl_repo_t *repo, rl_config_kind_t kind, const char *entity_id,
                            const char *resource, rl_config_t *out);
    async int (*config_delete)(rl_repo_t *repo, rl_config_kind_t kind, const char *entity_id,
                               const char *resource);
    /* Lists stored configs of one kind (RESOURCE or ENTITY), optionally only those of entity_id
     * or of resource (NULL: any): at most max refs, in no order; *n tells how many. */
    async int (*config_list)(rl_repo_t *repo, rl_config_kind_t kind, const char *entity_id,
                             const char *resource, rl_config_ref_t *out, size_t max, size_t *n);
    /* Reads n configs in one batch (one round trip where the backend allows): found[i] tells
     * whether outs[i] was filled. */
    async int (*config_get_many)(rl_repo_t *repo, size_t n, const rl_config_key_t *keys,
                                 rl_config_t *outs, bool *found);

    /* Atomically, over all n sets: creates missing buckets full (from limits[i], at now_ms),
     * refills every bucket to now_ms and, only if every bucket holds at least delta_milli[i],
     * takes the deltas. Either way buckets[i] receives the refilled state *before* consumption,
     * with the stored parameters (which win over limits[i]). *granted tells which happened. */
    async int (*consume)(rl_repo_t *repo, rl_bucket_set_t *sets, size_t n, int64_t now_ms,
                         bool *granted);
    /* Unconditionally takes delta_milli[i] (negative: gives back) from every bucket, without a
     * refill, creating missing buckets full first. buckets[] are not read or written. */
    async int (*adjust)(rl_repo_t *repo, rl_bucket_set_t *sets, size_t n, int64_t now_ms);
    /* Reads the buckets refilled to now_ms into buckets[i] without storing anything; a missing
     * bucket reads as full with limits[i]'s parameters. */
    async int (*read)(rl_repo_t *repo, rl_bucket_set_t *sets, size_t n, int64_t now_ms);
} rl_repo_ops_t;

/* The generic part of every repository; a backend embeds it as its first member. */
struct rl_repo {
    const rl_repo_ops_t *ops;
    rl_clock_t clock;
    async_mutex_t cache_lock; /* one lock per cache, held across the fetch */
    rl_cache_t cache;
    uint64_t fetches;      /* batch reads that resolution sent to the backend */
    uint64_t fetched_keys; /* config slots and entity records those batches asked for */
    int last_cause;        /* the runtime's or hiredis' code behind the last RL_EBACKEND */
};

/* Sets up the generic part (clock and cache from opts, NULL for defaults). 0 or RL_ENOMEM. */
int rl_repo_init(rl_repo_t *repo, const rl_repo_ops_t *ops, const rl_options_t *opts);
/* Releases the generic part. */
void rl_repo_fini(rl_repo_t *repo);
/* Closes the backend and frees the repository; NULL does nothing. Returns the backend's code. */
async int rl_repo_close(rl_repo_t *repo);

int64_t rl_repo_now(rl_repo_t *repo);

/* Limit resolution at now_ms (cache expiry), first match wins: the entity's config for the
 * resource, the entity's _default_ config, the resource's defaults, the system defaults. Reads go
 * through the config cache (a cached "nothing here" counts as found-empty). Sets *out and *source;
 * RL_ENOLIMITS when nothing is configured (report names entity and resource); backend errors pass
 * through. */
async int rl_repo_resolve(rl_repo_t *repo, const char *entity_id, const char *resource,
                          int64_t now_ms, rl_config_t *out, rl_source_t *source,
                          rl_report_t *report);
/* The system config's on_unavailable, through the cache (UNSET when none is stored). */
async int rl_repo_system_on_unavailable(rl_repo_t *repo, rl_on_unavailable_t *out);
/* The entity record through the cache (now_ms: the caller's clock reading, for expiry);
 * RL_ENOTFOUND when there is none. */
async int rl_repo_entity(rl_repo_t *repo, const char *entity_id, int64_t now_ms, rl_entity_t *out);

/* Drops one cached config slot / entity record, or everything. */
async int rl_repo_evict_config(rl_repo_t *repo, rl_config_kind_t kind, const char *entity_id,
                               const char *resource);
async int rl_repo_evict_entity(rl_repo_t *repo, const char *entity_id);
async int rl_repo_invalidate(rl_repo_t *repo);
async int rl_repo_cache_stats(rl_repo_t *repo, rl_cache_stats_t *out);

#ifdef __cplusplus
}
#endif
#endif /* RL_REPO_H */
