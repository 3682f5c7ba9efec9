/* The rate limiter's async API: limiter, leases, entities and limits over a repository. */
#ifndef RL_LIMITER_H
#define RL_LIMITER_H

#include <unasync/async.h>

#include "repo.h"
#include "rl_types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rl_limiter rl_limiter_t;

/* ------------------------------------------------------------------------------------------ */
/* Leases                                                                                       */
/* ------------------------------------------------------------------------------------------ */

/* What rl_limiter_acquire grants: the initial consumption is already stored (write-on-enter);
 * consume, adjust and release act on a snapshot of the buckets; commit stores only what changed
 * since the acquire; rollback gives back exactly the initial consumption. Declare it anywhere
 * (it holds no heap memory) but do not copy an active lease. Fields are read-only. */
typedef struct rl_lease {
    rl_limiter_t *limiter;
    rl_state_t state;
    bool noop; /* granted by on_unavailable=allow while the backend failed: no entries */
    char entity_id[RL_ENTITY_ID_MAX + 1];
    char parent_id[RL_ENTITY_ID_MAX + 1]; /* "" unless the acquire cascaded */
    char resource[RL_RESOURCE_MAX + 1];
    size_t nsets;            /* 1, or 2 with cascade (sets[1] is the parent) */
    rl_bucket_set_t sets[2]; /* delta_milli: the initial consumption; buckets: the snapshot */
    int64_t consumed_milli[2][RL_MAX_LIMITS]; /* initial + everything done in the lease */
    int last_error; /* the code of a rollback write that failed (rollback still returns 0) */
} rl_lease_t;

/* Takes more from the lease's buckets, checked against the snapshot refilled to now: every
 * amount must fit (on both levels with cascade) or nothing is taken and RL_EEXCEEDED is returned
 * with the statuses in report->exceeded. Amounts <= 0 and names the lease has no limit for are
 * skipped. RL_ELEASE when the lease is not active. */
int rl_lease_consume(rl_lease_t *lease, const rl_amount_t *amounts, size_t n, rl_report_t *report);
/* Takes (or, negative, gives back) without any check; the buckets may go into debt. Zero is
 * skipped. 0 or RL_ELEASE. */
int rl_lease_adjust(rl_lease_t *lease, const rl_amount_t *amounts, size_t n);
/* rl_lease_adjust with the amounts negated. */
int rl_lease_release(rl_lease_t *lease, const rl_amount_t *amounts, size_t n);
/* Net whole tokens consumed under limit `name` in this lease, initial consumption included:
 * level 0 the entity, 1 the parent, -1 both added together (the Python model's `consumed`).
 * 0 for an unknown name or a no-op lease. */
int64_t rl_lease_consumed(const rl_lease_t *lease, const char *name, int level);

/* Stores the changes made since the acquire (consumed minus initially consumed) as unconditional
 * adds; writes nothing when nothing changed. 0 and the lease is committed; on a write failure the
 * lease stays active (so a rollback still undoes the initial consumption) and the backend's code
 * is returned. RL_ELEASE when not active. A no-op lease commits without writing. */
async int rl_lease_commit(rl_lease_t *lease, rl_report_t *report);
/* Gives back the initial consumption (changes made in the lease are dropped) and ends the lease.
 * A failing write is reported to the limiter's warning hook and kept in lease->last_error; the
 * call still returns 0, like the model's rollback that never masks the original error.
 * RL_ELEASE when the lease is not active. */
async int rl_lease_rollback(rl_lease_t *lease);

/* ------------------------------------------------------------------------------------------ */
/* Limiter                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* Creates a limiter over `repo`, which it owns from now on (rl_limiter_close closes it, and so
 * does a failing open). 0 or RL_ENOMEM / RL_EINVAL. */
int rl_limiter_open(rl_limiter_t **out, rl_repo_t *repo);
/* Closes the repository and frees the limiter; NULL does nothing. Leases must be finished. */
async int rl_limiter_close(rl_limiter_t *lim);
/* The repository (still owned by the limiter). */
rl_repo_t *rl_limiter_repo(rl_limiter_t *lim);
/* Where rollback warnings go (NULL: stderr). */
void rl_limiter_set_warn(rl_limiter_t *lim, rl_warn_fn fn, void *ctx);

/* True when the backend answers a ping; never fails. */
async bool rl_limiter_is_available(rl_limiter_t *lim);

/* Checks every resolved limit of entity_id for resource (NULL: "_default_") and, when all pass,
 * consumes `consume` from them (and from the parent's limits when the entity cascades), storing
 * the consumption before returning. Limits not named in `consume` are checked with 0; names in
 * `consume` that match no limit are ignored. Amounts must be >= 0.
 * 0: *lease is active. RL_EEXCEEDED: nothing consumed, report->exceeded holds every status.
 * RL_EENTITY / RL_ERESOURCE / RL_EINVAL / RL_ENOLIMITS: bad input or nothing configured.
 * When the backend fails: with on_unavailable allow (per call, else the system config) 0 and a
 * no-op lease; otherwise RL_EUNAVAILABLE with report->cause set. */
async int rl_limiter_acquire(rl_limiter_t *lim, rl_lease_t *lease, const char *entity_id,
                             const char *resource, const rl_amount_t *consume, size_t n,
                             const rl_acquire_options_t *opts, rl_report_t *report);

/* Whole tokens available now per limit of entity_id/resource (a missing bucket counts as full).
 * limits/nlimits: an override, or NULL/0 to resolve. */
async int rl_limiter_available(rl_limiter_t *lim, const char *entity_id, const char *resource,
                               const rl_limit_t *limits, size_t nlimits, rl_capacity_t *out,
                               rl_report_t *report);
/* Milliseconds until every amount in `needed` could be consumed (the maximum over limits;
 * amounts <= 0 and unknown names are skipped); 0 when it could be now. */
async int rl_limiter_time_until_available(rl_limiter_t *lim, const char *entity_id,
                                          const char *resource, const rl_amount_t *needed, size_t n,
                                          const rl_limit_t *limits, size_t nlimits, int64_t *ms,
                                          rl_report_t *report);

/* Entities. name NULL: the id. parent_id NULL or "": none. RL_EEXIST when the id exists,
 * RL_ENOTFOUND when the parent does not. */
async int rl_limiter_create_entity(rl_limiter_t *lim, const char *id, const char *name,
                                   const char *parent_id, bool cascade);
async int rl_limiter_get_entity(rl_limiter_t *lim, const char *id, rl_entity_t *out);
/* Deletes the entity with its limits and buckets. */
async int rl_limiter_delete_entity(rl_limiter_t *lim, const char *id);
async int rl_limiter_get_children(rl_limiter_t *lim, const char *parent_id, rl_entity_t *out,
                                  size_t max, size_t *n);

/* Entity limits for a resource (NULL: "_default_"); set also updates existing buckets' params
 * and evicts the cache slot. get: RL_ENOTFOUND when none are stored. */
async int rl_limiter_set_limits(rl_limiter_t *lim, const char *entity_id, const char *resource,
                                const rl_limit_t *limits, size_t n);
async int rl_limiter_get_limits(rl_limiter_t *lim, const char *entity_id, const char *resource,
                                rl_config_t *out);
async int rl_limiter_delete_limits(rl_limiter_t *lim, const char *entity_id, const char *resource);

/* Resource defaults. */
async int rl_limiter_set_resource_defaults(rl_limiter_t *lim, const char *resource,
                                           const rl_limit_t *limits, size_t n);
async int rl_limiter_get_resource_defaults(rl_limiter_t *lim, const char *resource,
                                           rl_config_t *out);
async int rl_limiter_delete_resource_defaults(rl_limiter_t *lim, const char *resource);

/* System defaults, with the system-wide on_unavailable (UNSET keeps "block"). */
async int rl_limiter_set_system_defaults(rl_limiter_t *lim, const rl_limit_t *limits, size_t n,
                                         rl_on_unavailable_t on_unavailable);
async int rl_limiter_get_system_defaults(rl_limiter_t *lim, rl_config_t *out);
async int rl_limiter_delete_system_defaults(rl_limiter_t *lim);

/* List queries over stored configs (at most max refs, in no order; *n how many):
 * resources that have defaults; entities with their own limits for `resource` (NULL: any
 * resource); resources for which `entity_id` has its own limits. */
async int rl_limiter_list_resources_with_defaults(rl_limiter_t *lim, rl_config_ref_t *out,
                                                  size_t max, size_t *n);
async int rl_limiter_list_entities_with_custom_limits(rl_limiter_t *lim, const char *resource,
                                                      rl_config_ref_t *out, size_t max, size_t *n);
async int rl_limiter_list_resources_with_entity_configs(rl_limiter_t *lim, const char *entity_id,
                                                        rl_config_ref_t *out, size_t max,
                                                        size_t *n);

/* Clears the config cache; stats reports hits, misses, size and ttl. */
async int rl_limiter_invalidate_config_cache(rl_limiter_t *lim);
async int rl_limiter_cache_stats(rl_limiter_t *lim, rl_cache_stats_t *out);

#ifdef __cplusplus
}
#endif
#endif /* RL_LIMITER_H */
