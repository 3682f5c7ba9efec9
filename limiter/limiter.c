/* The rate limiter's async API: acquire, leases, capacity queries and configuration. */
#include <unasync/limiter/limiter.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct rl_limiter {
    rl_repo_t *repo;
    rl_warn_fn warn;
    void *warn_ctx;
};

int rl_limiter_open(rl_limiter_t **out, rl_repo_t *repo)
{
    if (!out || !repo)
        return RL_EINVAL;
    rl_limiter_t *lim = rl_calloc(1, sizeof *lim);
    if (!lim)
        return RL_ENOMEM;
    lim->repo = repo;
    *out = lim;
    return 0;
}

async int rl_limiter_close(rl_limiter_t *lim)
{
    if (!lim)
        return 0;
    int rc = await rl_repo_close(lim->repo);
    rl_free(lim);
    return rc;
}

rl_repo_t *rl_limiter_repo(rl_limiter_t *lim)
{
    return lim->repo;
}

void rl_limiter_set_warn(rl_limiter_t *lim, rl_warn_fn fn, void *ctx)
{
    lim->warn = fn;
    lim->warn_ctx = ctx;
}

static void warn(rl_limiter_t *lim, const char *message)
{
    if (lim->warn)
        lim->warn(lim->warn_ctx, message);
    else
        fprintf(stderr, "rl: warning: %s\n", message);
}

async bool rl_limiter_is_available(rl_limiter_t *lim)
{
    return lim && await lim->repo->ops->ping(lim->repo) == 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* Names the first amount that rl_amounts_check refuses. */
static int amount_error(rl_report_t *report, int rc, const rl_amount_t *amounts, size_t n)
{
    for (size_t a = 0; a < n; a++) {
        if (!amounts[a].name)
            return rl_report_set(report, rc, 0, "amount without a limit name");
        if (amounts[a].amount > RL_MAX_AMOUNT || amounts[a].amount < -RL_MAX_AMOUNT)
            return rl_report_set(report, rc, 0,
                                 "amount %" PRId64 " for '%s' is outside +-%" PRId64 " tokens",
                                 amounts[a].amount, amounts[a].name, RL_MAX_AMOUNT);
    }
    return rl_report_set(report, rc, 0, "invalid amounts: %s", rl_strerror(rc));
}

static int check_ids(const char *entity_id, const char *resource, rl_report_t *report)
{
    if (rl_validate_entity_id(entity_id))
        return rl_report_set(report, RL_EENTITY, 0, "Invalid entity id '%s'",
                             entity_id ? entity_id : "(null)");
    if (rl_validate_resource(resource))
        return rl_report_set(report, RL_ERESOURCE, 0, "Invalid resource '%s'",
                             resource ? resource : "(null)");
    return 0;
}

/* The limits for entity_id/resource: the override when given, else resolution. */
static async int limits_for(rl_limiter_t *lim, const char *entity_id, const char *resource,
                            int64_t now_ms, const rl_config_t *override, rl_config_t *out,
                            rl_report_t *report)
{
    if (override) {
        out->count = override->count;
        memcpy(out->limits, override->limits, override->count * sizeof override->limits[0]);
        return 0;
    }
    rl_source_t source;
    return await rl_repo_resolve(lim->repo, entity_id, resource, now_ms, out, &source, report);
}

/* The set of cfg's limits with the deltas of `amounts` (sums per name, checked bounds). */
static int fill_set(rl_bucket_set_t *set, const char *entity_id, const char *resource,
                    const rl_config_t *cfg, const rl_amount_t *amounts, size_t n)
{
    set->entity_id = entity_id;
    set->resource = resource;
    set->count = cfg->count;
    set->reconcile = false;
    set->expect_root = false;
    set->tag[0] = 0;
    for (size_t i = 0; i < cfg->count; i++) {
        set->limits[i] = cfg->limits[i];
        set->delta_milli[i] = 0;
        int rc = rl_amounts_sum(amounts, n, cfg->limits[i].name, false, &set->delta_milli[i]);
        if (rc)
            return rc;
    }
    return 0;
}

/* The limit as the stored bucket has it (stored parameters win over the requested ones). */
static rl_limit_t stored_limit(const rl_limit_t *requested, const rl_bucket_t *b)
{
    rl_limit_t l = *requested;
    l.capacity = b->capacity_milli / 1000;
    l.refill_amount = b->refill_amount_milli / 1000;
    l.refill_period_s = b->refill_period_ms / 1000;
    return l;
}

/* The retry-after hint of a deficit at now_ms: the bucket's own wait plus the clock skew allowed
 * between hosts, so that a retry at the hint is not certain to be refused. */
static int64_t hint_ms(const rl_repo_t *repo, const rl_bucket_t *b, int64_t deficit, int64_t now)
{
    int64_t wait = rl_bucket_wait_ms(b, deficit, now);
    if (wait == 0 || wait > INT64_MAX - repo->max_skew_ms)
        return wait;
    return wait + repo->max_skew_ms;
}

/* Statuses of every limit of the sets against their deltas (buckets already refilled). */
static void fill_exceeded(rl_exceeded_t *ex, const rl_repo_t *repo, const rl_bucket_set_t *sets,
                          size_t n, const char *parent_id, int64_t now)
{
    rl_exceeded_init(ex, sets[0].entity_id, parent_id, sets[0].resource);
    for (size_t s = 0; s < n; s++) {
        for (size_t i = 0; i < sets[s].count; i++) {
            const rl_bucket_t *b = &sets[s].buckets[i];
            int64_t d = sets[s].delta_milli[i] > 0 ? sets[s].delta_milli[i] : 0;
            rl_status_t st;
            st.level = (int)s;
            st.limit = stored_limit(&sets[s].limits[i], b);
            st.available = rl_bucket_available(b);
            st.requested = d / 1000;
            st.exceeded = b->tokens_milli < d;
            st.retry_after_ms = st.exceeded ? hint_ms(repo, b, d - b->tokens_milli, now) : 0;
            (void)rl_exceeded_add(ex, &st);
        }
    }
    (void)rl_exceeded_finish(ex);
}

static int report_exceeded(rl_report_t *report, const rl_repo_t *repo,
                           const rl_bucket_set_t *sets, size_t n, const char *parent_id,
                           int64_t now)
{
    if (!report)
        return RL_EEXCEEDED;
    fill_exceeded(&report->exceeded, repo, sets, n, parent_id, now);
    report->error = RL_EEXCEEDED;
    report->cause = 0;
    rl_exceeded_message(&report->exceeded, report->message, sizeof report->message);
    return RL_EEXCEEDED;
}

/* on_unavailable for a failed acquire: per call, else the (cached) system config, else block. */
static async rl_on_unavailable_t decide(rl_limiter_t *lim, const rl_acquire_options_t *opts)
{
    if (opts && opts->on_unavailable != RL_ON_UNAVAILABLE_UNSET)
        return opts->on_unavailable;
    rl_on_unavailable_t ou = RL_ON_UNAVAILABLE_UNSET;
    if (await rl_repo_system_on_unavailable(lim->repo, &ou) != 0)
        return RL_ON_UNAVAILABLE_BLOCK;
    return ou == RL_ON_UNAVAILABLE_ALLOW ? ou : RL_ON_UNAVAILABLE_BLOCK;
}

/* ------------------------------------------------------------------------------------------ */
/* Acquire                                                                                      */
/* ------------------------------------------------------------------------------------------ */

static void lease_reset(rl_lease_t *lease, rl_limiter_t *lim)
{
    lease->limiter = lim;
    lease->state = RL_STATE_IDLE;
    lease->noop = false;
    lease->nsets = 0;
    lease->last_error = 0;
    lease->entity_id[0] = lease->parent_id[0] = lease->resource[0] = 0;
}

async int rl_limiter_acquire(rl_limiter_t *lim, rl_lease_t *lease, const char *entity_id,
                             const char *resource, const rl_amount_t *consume, size_t n,
                             const rl_acquire_options_t *opts, rl_report_t *report)
{
    if (!lim || !lease || (n && !consume))
        return rl_report_set(report, RL_EINVAL, 0, "invalid argument");
    lease_reset(lease, lim);
    if (!resource)
        resource = RL_DEFAULT_RESOURCE;
    int rc = check_ids(entity_id, resource, report);
    if (rc)
        return rc;
    rc = rl_amounts_check(consume, n, false);
    if (rc)
        return amount_error(report, rc, consume, n);
    rl_config_t override_cfg;
    const rl_config_t *override = NULL;
    if (opts && opts->nlimits) {
        rc = rl_config_set(&override_cfg, opts->limits, opts->nlimits);
        if (rc)
            return rl_report_set(report, rc, 0, "invalid limits: %s", rl_strerror(rc));
        override = &override_cfg;
    }
    memcpy(lease->entity_id, entity_id, strlen(entity_id) + 1);
    memcpy(lease->resource, resource, strlen(resource) + 1);

    rl_repo_t *repo = lim->repo;
    int64_t now = rl_repo_now(repo); /* one clock reading per acquire */
    bool granted = false;
    /* A second round when the backend finds that the entity gained a cascading parent that the
     * cache did not know of (RL_ESTALE): the cache never lets a cascade skip its parent. */
    for (int round = 0; round < 2; round++) {
        rl_entity_t entity;
        rc = await rl_repo_entity(repo, entity_id, now, &entity);
        bool cascade = rc == 0 && entity.cascade && entity.parent_id[0];
        /* Both sets carry the entity's root: a cascade's buckets share one Redis slot. */
        const char *tag = rc == 0 && entity.root_id[0] ? entity.root_id : entity_id;
        if (rc == RL_ENOTFOUND)
            rc = 0;
        if (rc && !rl_is_backend_error(rc))
            return rc;
        if (rc)
            goto backend_failed;

        rl_config_t cfg;
        lease->nsets = 0;
        lease->parent_id[0] = 0;
        rc = await limits_for(lim, entity_id, resource, now, override, &cfg, report);
        if (rc == 0) {
            rc = fill_set(&lease->sets[0], lease->entity_id, lease->resource, &cfg, consume, n);
            lease->sets[0].reconcile = override == NULL;
            lease->sets[0].expect_root = !cascade;
            memcpy(lease->sets[0].tag, tag, strlen(tag) + 1);
            if (rc)
                return rl_report_set(report, rc, 0, "the amounts for one limit add up to more than %"
                                     PRId64 " tokens", RL_MAX_AMOUNT);
            lease->nsets = 1;
        }
        if (rc == 0 && cascade) {
            memcpy(lease->parent_id, entity.parent_id, strlen(entity.parent_id) + 1);
            rc = await limits_for(lim, lease->parent_id, resource, now, override, &cfg, report);
            if (rc == 0) {
                rc = fill_set(&lease->sets[1], lease->parent_id, lease->resource, &cfg, consume, n);
                lease->sets[1].reconcile = override == NULL;
                lease->sets[1].expect_root = false;
                memcpy(lease->sets[1].tag, tag, strlen(tag) + 1);
                if (rc)
                    return rl_report_set(report, rc, 0, "the amounts for one limit add up to more "
                                         "than %" PRId64 " tokens", RL_MAX_AMOUNT);
                lease->nsets = 2;
            }
        }
        if (rc && !rl_is_backend_error(rc))
            return rc;
        if (rc)
            goto backend_failed;

        rc = await repo->ops->consume(repo, lease->sets, lease->nsets, now, &granted);
        if (rc != RL_ESTALE)
            break;
        rc = await rl_repo_evict_entity(repo, entity_id);
        if (rc == 0)
            rc = RL_ESTALE;
    }
    if (rc && !rl_is_backend_error(rc))
        return rl_report_set(report, rc, 0, "cannot consume: %s", rl_strerror(rc));
    if (rc)
        goto backend_failed;
    if (!granted) {
        size_t nsets = lease->nsets;
        lease->nsets = 0;
        return report_exceeded(report, repo, lease->sets, nsets, lease->parent_id, now);
    }
    for (size_t s = 0; s < lease->nsets; s++) {
        for (size_t i = 0; i < lease->sets[s].count; i++) {
            rl_bucket_force(&lease->sets[s].buckets[i], lease->sets[s].delta_milli[i]);
            lease->consumed_milli[s][i] = lease->sets[s].delta_milli[i];
        }
    }
    lease->state = RL_STATE_ACTIVE;
    return 0;

backend_failed:
    lease->nsets = 0;
    if (await decide(lim, opts) == RL_ON_UNAVAILABLE_ALLOW) {
        lease->noop = true;
        lease->state = RL_STATE_ACTIVE;
        return 0;
    }
    return rl_report_set(report, RL_EUNAVAILABLE, repo->last_cause ? repo->last_cause : rc,
                         "Rate limiter unavailable for %s/%s (%s backend): %s%s%s", entity_id,
                         resource, repo->ops->name, rl_strerror(rc),
                         repo->last_message[0] ? ": " : "", repo->last_message);
}

/* ------------------------------------------------------------------------------------------ */
/* Lease                                                                                        */
/* ------------------------------------------------------------------------------------------ */

/* Re-points the sets at the lease's own strings (a lease moved in memory stays usable). */
static void lease_fix(rl_lease_t *lease)
{
    for (size_t s = 0; s < lease->nsets; s++) {
        lease->sets[s].entity_id = s == 0 ? lease->entity_id : lease->parent_id;
        lease->sets[s].resource = lease->resource;
    }
}

int rl_lease_consume(rl_lease_t *lease, const rl_amount_t *amounts, size_t n, rl_report_t *report)
{
    if (!lease || lease->state != RL_STATE_ACTIVE)
        return rl_report_set(report, RL_ELEASE, 0, "Lease is no longer active");
    int rc = rl_amounts_check(amounts, n, true);
    if (rc)
        return amount_error(report, rc, amounts, n);
    lease_fix(lease);
    int64_t now = rl_repo_now(lease->limiter->repo);
    rl_bucket_set_t trial[2];
    bool fits = true;
    for (size_t s = 0; s < lease->nsets; s++) {
        trial[s] = lease->sets[s];
        for (size_t i = 0; i < trial[s].count; i++) {
            int64_t d = 0;
            rc = rl_amounts_sum(amounts, n, trial[s].limits[i].name, true, &d);
            if (rc == 0 && lease->consumed_milli[s][i] + d > RL_MAX_LEASE_MILLI)
                rc = RL_ERANGE;
            if (rc)
                return rl_report_set(report, rc, 0, "lease consumption of '%s' out of range",
                                     trial[s].limits[i].name);
            trial[s].delta_milli[i] = d;
            rl_bucket_refill(&trial[s].buckets[i], now);
            if (d > 0 && trial[s].buckets[i].tokens_milli < d)
                fits = false;
        }
    }
    if (!fits)
        return report_exceeded(report, lease->limiter->repo, trial, lease->nsets,
                               lease->parent_id, now);
    for (size_t s = 0; s < lease->nsets; s++) {
        for (size_t i = 0; i < trial[s].count; i++) {
            lease->sets[s].buckets[i] = trial[s].buckets[i];
            rl_bucket_force(&lease->sets[s].buckets[i], trial[s].delta_milli[i]);
            lease->consumed_milli[s][i] += trial[s].delta_milli[i];
        }
    }
    return 0;
}

int rl_lease_adjust(rl_lease_t *lease, const rl_amount_t *amounts, size_t n)
{
    if (!lease || lease->state != RL_STATE_ACTIVE)
        return RL_ELEASE;
    int rc = rl_amounts_check(amounts, n, true);
    if (rc)
        return rc;
    int64_t d[2][RL_MAX_LIMITS];
    /* Check everything first: a refused adjust changes nothing. */
    for (size_t s = 0; s < lease->nsets; s++) {
        for (size_t i = 0; i < lease->sets[s].count; i++) {
            rc = rl_amounts_sum(amounts, n, lease->sets[s].limits[i].name, false, &d[s][i]);
            int64_t total = rc ? 0 : lease->consumed_milli[s][i] + d[s][i];
            if (rc || total > RL_MAX_LEASE_MILLI || total < -RL_MAX_LEASE_MILLI)
                return RL_ERANGE;
        }
    }
    for (size_t s = 0; s < lease->nsets; s++) {
        for (size_t i = 0; i < lease->sets[s].count; i++) {
            if (d[s][i] == 0)
                continue;
            rl_bucket_force(&lease->sets[s].buckets[i], d[s][i]);
            lease->consumed_milli[s][i] += d[s][i];
        }
    }
    return 0;
}

int rl_lease_release(rl_lease_t *lease, const rl_amount_t *amounts, size_t n)
{
    if (!lease || lease->state != RL_STATE_ACTIVE)
        return RL_ELEASE;
    if (n > RL_MAX_STATUSES || (n && !amounts))
        return RL_EINVAL;
    int rc = rl_amounts_check(amounts, n, true);
    if (rc)
        return rc;
    rl_amount_t neg[RL_MAX_STATUSES];
    for (size_t a = 0; a < n; a++) {
        neg[a].name = amounts[a].name;
        neg[a].amount = -amounts[a].amount;
    }
    return rl_lease_adjust(lease, neg, n);
}

int64_t rl_lease_consumed(const rl_lease_t *lease, const char *name, int level)
{
    int64_t milli = 0;
    for (size_t s = 0; s < lease->nsets; s++) {
        if (level >= 0 && (size_t)level != s)
            continue;
        for (size_t i = 0; i < lease->sets[s].count; i++)
            if (strcmp(lease->sets[s].limits[i].name, name) == 0)
                milli += lease->consumed_milli[s][i];
    }
    return milli / 1000;
}

/* Writes per-bucket deltas: commit (consumed - initial) or rollback (-initial). */
static async int write_deltas(rl_lease_t *lease, bool commit, bool *wrote)
{
    bool any = false;
    for (size_t s = 0; s < lease->nsets; s++) {
        for (size_t i = 0; i < lease->sets[s].count; i++) {
            int64_t initial = lease->sets[s].delta_milli[i];
            any = any || (commit ? lease->consumed_milli[s][i] != initial : initial != 0);
        }
    }
    *wrote = any;
    if (!any)
        return 0; /* the common commit: nothing changed in the lease, nothing to write */
    rl_bucket_set_t sets[2];
    lease_fix(lease);
    for (size_t s = 0; s < lease->nsets; s++) {
        sets[s] = lease->sets[s];
        for (size_t i = 0; i < sets[s].count; i++) {
            int64_t initial = lease->sets[s].delta_milli[i];
            sets[s].delta_milli[i] = commit ? lease->consumed_milli[s][i] - initial : -initial;
        }
    }
    rl_repo_t *repo = lease->limiter->repo;
    return await repo->ops->adjust(repo, sets, lease->nsets, rl_repo_now(repo));
}

async int rl_lease_commit(rl_lease_t *lease, rl_report_t *report)
{
    if (!lease || lease->state != RL_STATE_ACTIVE)
        return rl_report_set(report, RL_ELEASE, 0, "Lease is no longer active");
    bool wrote = false;
    int rc = lease->noop ? 0 : await write_deltas(lease, true, &wrote);
    if (rc)
        return rl_report_set(report, rc, lease->limiter->repo->last_cause,
                             "cannot commit the lease on %s/%s: %s", lease->entity_id,
                             lease->resource, rl_strerror(rc));
    lease->state = RL_STATE_COMMITTED;
    return 0;
}

async int rl_lease_rollback(rl_lease_t *lease)
{
    if (!lease || lease->state != RL_STATE_ACTIVE)
        return RL_ELEASE;
    bool wrote = false;
    int rc = lease->noop ? 0 : await write_deltas(lease, false, &wrote);
    if (rc) {
        char msg[RL_ENTITY_ID_MAX + RL_RESOURCE_MAX + 128];
        snprintf(msg, sizeof msg, "rollback of the lease on %s/%s failed: %s", lease->entity_id,
                 lease->resource, rl_strerror(rc));
        warn(lease->limiter, msg);
        lease->last_error = rc;
    }
    lease->state = RL_STATE_ROLLED_BACK;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Capacity                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/* Reads the buckets of entity_id/resource refilled to now into *set. */
static async int read_set(rl_limiter_t *lim, const char *entity_id, const char *resource,
                          const rl_limit_t *limits, size_t nlimits, rl_bucket_set_t *set,
                          int64_t *now_out, rl_report_t *report)
{
    int rc = check_ids(entity_id, resource, report);
    if (rc)
        return rc;
    rl_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    if (nlimits) {
        rc = rl_config_set(&cfg, limits, nlimits);
        if (rc)
            return rl_report_set(report, rc, 0, "invalid limits: %s", rl_strerror(rc));
    }
    int64_t now = rl_repo_now(lim->repo);
    *now_out = now;
    rc = await limits_for(lim, entity_id, resource, now, nlimits ? &cfg : NULL, &cfg, report);
    if (rc)
        return rc;
    (void)fill_set(set, entity_id, resource, &cfg, NULL, 0);
    set->reconcile = nlimits == 0;
    rl_entity_t entity; /* its root tags the bucket's key (Redis) */
    rc = await rl_repo_entity(lim->repo, entity_id, now, &entity);
    if (rc == 0 && entity.root_id[0])
        memcpy(set->tag, entity.root_id, strlen(entity.root_id) + 1);
    else if (rc && rc != RL_ENOTFOUND)
        return rl_report_set(report, rc, lim->repo->last_cause, "cannot read %s/%s: %s",
                             entity_id, resource, rl_strerror(rc));
    rc = await lim->repo->ops->read(lim->repo, set, 1, now);
    if (rc)
        return rl_report_set(report, rc, lim->repo->last_cause, "cannot read %s/%s: %s", entity_id,
                             resource, rl_strerror(rc));
    return 0;
}

async int rl_limiter_available(rl_limiter_t *lim, const char *entity_id, const char *resource,
                               const rl_limit_t *limits, size_t nlimits, rl_capacity_t *out,
                               rl_report_t *report)
{
    rl_bucket_set_t set;
    int64_t now;
    if (!lim || !out)
        return RL_EINVAL;
    int rc = await read_set(lim, entity_id, resource ? resource : RL_DEFAULT_RESOURCE, limits,
                            nlimits, &set, &now, report);
    if (rc)
        return rc;
    out->count = set.count;
    for (size_t i = 0; i < set.count; i++) {
        out->limits[i] = stored_limit(&set.limits[i], &set.buckets[i]);
        out->available[i] = rl_bucket_available(&set.buckets[i]);
    }
    return 0;
}

async int rl_limiter_time_until_available(rl_limiter_t *lim, const char *entity_id,
                                          const char *resource, const rl_amount_t *needed, size_t n,
                                          const rl_limit_t *limits, size_t nlimits, int64_t *ms,
                                          rl_report_t *report)
{
    rl_bucket_set_t set;
    if (!lim || !ms || (n && !needed))
        return RL_EINVAL;
    int rc = rl_amounts_check(needed, n, true);
    if (rc)
        return amount_error(report, rc, needed, n);
    int64_t set_now;
    rc = await read_set(lim, entity_id, resource ? resource : RL_DEFAULT_RESOURCE, limits,
                        nlimits, &set, &set_now, report);
    if (rc)
        return rc;
    int64_t worst = 0;
    for (size_t i = 0; i < set.count; i++) {
        int64_t need = 0;
        rc = rl_amounts_sum(needed, n, set.limits[i].name, true, &need);
        if (rc)
            return rl_report_set(report, rc, 0, "the amounts for '%s' add up to more than %" PRId64
                                 " tokens", set.limits[i].name, RL_MAX_AMOUNT);
        if (need <= 0)
            continue;
        int64_t wait = hint_ms(lim->repo, &set.buckets[i], need - set.buckets[i].tokens_milli,
                               set_now);
        if (wait > worst)
            worst = wait;
    }
    *ms = worst;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Entities                                                                                     */
/* ------------------------------------------------------------------------------------------ */

async int rl_limiter_create_entity(rl_limiter_t *lim, const char *id, const char *name,
                                   const char *parent_id, bool cascade)
{
    if (!lim)
        return RL_EINVAL;
    if (rl_validate_entity_id(id))
        return RL_EENTITY;
    if (!name)
        name = id;
    if (strlen(name) > RL_ENTITY_ID_MAX)
        return RL_EINVAL;
    rl_entity_t e;
    memset(&e, 0, sizeof e);
    memcpy(e.id, id, strlen(id) + 1);
    memcpy(e.name, name, strlen(name) + 1);
    if (parent_id && parent_id[0]) {
        if (rl_validate_entity_id(parent_id) || strcmp(parent_id, id) == 0)
            return RL_EENTITY;
        /* The backend checks that the parent exists in the same atomic step as the put. */
        memcpy(e.parent_id, parent_id, strlen(parent_id) + 1);
    }
    e.cascade = cascade;
    e.created_at_ms = rl_repo_now(lim->repo);
    int rc = await lim->repo->ops->entity_put(lim->repo, &e, true);
    if (rc == 0)
        rc = await rl_repo_evict_entity(lim->repo, id);
    return rc;
}

async int rl_limiter_get_entity(rl_limiter_t *lim, const char *id, rl_entity_t *out)
{
    if (!lim || !out)
        return RL_EINVAL;
    if (rl_validate_entity_id(id))
        return RL_EENTITY;
    return await lim->repo->ops->entity_get(lim->repo, id, out);
}

async int rl_limiter_delete_entity(rl_limiter_t *lim, const char *id)
{
    if (!lim)
        return RL_EINVAL;
    if (rl_validate_entity_id(id))
        return RL_EENTITY;
    int rc = await lim->repo->ops->entity_delete(lim->repo, id);
    /* Its entity record and every config slot of it may be cached: start afresh. */
    int rc2 = await rl_repo_invalidate(lim->repo);
    return rc ? rc : rc2;
}

async int rl_limiter_get_children(rl_limiter_t *lim, const char *parent_id, rl_entity_t *out,
                                  size_t max, size_t *n)
{
    if (!lim || !n || (max && !out))
        return RL_EINVAL;
    if (rl_validate_entity_id(parent_id))
        return RL_EENTITY;
    return await lim->repo->ops->entity_children(lim->repo, parent_id, out, max, n);
}

/* ------------------------------------------------------------------------------------------ */
/* Configuration                                                                                */
/* ------------------------------------------------------------------------------------------ */

static async int put_config(rl_limiter_t *lim, rl_config_kind_t kind, const char *entity_id,
                            const char *resource, const rl_limit_t *limits, size_t n,
                            rl_on_unavailable_t ou)
{
    rl_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.on_unavailable = ou;
    int rc = rl_config_set(&cfg, limits, n);
    if (rc)
        return rc;
    rc = await lim->repo->ops->config_put(lim->repo, kind, entity_id, resource, &cfg);
    if (rc == 0)
        rc = await rl_repo_evict_config(lim->repo, kind, entity_id, resource);
    return rc;
}

static async int delete_config(rl_limiter_t *lim, rl_config_kind_t kind, const char *entity_id,
                               const char *resource)
{
    int rc = await lim->repo->ops->config_delete(lim->repo, kind, entity_id, resource);
    int rc2 = await rl_repo_evict_config(lim->repo, kind, entity_id, resource);
    return rc ? rc : rc2;
}

async int rl_limiter_set_limits(rl_limiter_t *lim, const char *entity_id, const char *resource,
                                const rl_limit_t *limits, size_t n)
{
    if (!resource)
        resource = RL_DEFAULT_RESOURCE;
    if (!lim)
        return RL_EINVAL;
    int rc = check_ids(entity_id, resource, NULL);
    if (rc)
        return rc;
    return await put_config(lim, RL_CONFIG_ENTITY, entity_id, resource, limits, n,
                            RL_ON_UNAVAILABLE_UNSET);
}

async int rl_limiter_get_limits(rl_limiter_t *lim, const char *entity_id, const char *resource,
                                rl_config_t *out)
{
    if (!resource)
        resource = RL_DEFAULT_RESOURCE;
    if (!lim || !out)
        return RL_EINVAL;
    int rc = check_ids(entity_id, resource, NULL);
    if (rc)
        return rc;
    return await lim->repo->ops->config_get(lim->repo, RL_CONFIG_ENTITY, entity_id, resource, out);
}

async int rl_limiter_delete_limits(rl_limiter_t *lim, const char *entity_id, const char *resource)
{
    if (!resource)
        resource = RL_DEFAULT_RESOURCE;
    if (!lim)
        return RL_EINVAL;
    int rc = check_ids(entity_id, resource, NULL);
    if (rc)
        return rc;
    return await delete_config(lim, RL_CONFIG_ENTITY, entity_id, resource);
}

async int rl_limiter_set_resource_defaults(rl_limiter_t *lim, const char *resource,
                                           const rl_limit_t *limits, size_t n)
{
    if (!lim)
        return RL_EINVAL;
    if (rl_validate_resource(resource))
        return RL_ERESOURCE;
    return await put_config(lim, RL_CONFIG_RESOURCE, NULL, resource, limits, n,
                            RL_ON_UNAVAILABLE_UNSET);
}

async int rl_limiter_get_resource_defaults(rl_limiter_t *lim, const char *resource,
                                           rl_config_t *out)
{
    if (!lim || !out)
        return RL_EINVAL;
    if (rl_validate_resource(resource))
        return RL_ERESOURCE;
    return await lim->repo->ops->config_get(lim->repo, RL_CONFIG_RESOURCE, NULL, resource, out);
}

async int rl_limiter_delete_resource_defaults(rl_limiter_t *lim, const char *resource)
{
    if (!lim)
        return RL_EINVAL;
    if (rl_validate_resource(resource))
        return RL_ERESOURCE;
    return await delete_config(lim, RL_CONFIG_RESOURCE, NULL, resource);
}

async int rl_limiter_set_system_defaults(rl_limiter_t *lim, const rl_limit_t *limits, size_t n,
                                         rl_on_unavailable_t on_unavailable)
{
    if (!lim)
        return RL_EINVAL;
    return await put_config(lim, RL_CONFIG_SYSTEM, NULL, NULL, limits, n, on_unavailable);
}

async int rl_limiter_get_system_defaults(rl_limiter_t *lim, rl_config_t *out)
{
    if (!lim || !out)
        return RL_EINVAL;
    return await lim->repo->ops->config_get(lim->repo, RL_CONFIG_SYSTEM, NULL, NULL, out);
}

async int rl_limiter_delete_system_defaults(rl_limiter_t *lim)
{
    if (!lim)
        return RL_EINVAL;
    return await delete_config(lim, RL_CONFIG_SYSTEM, NULL, NULL);
}

async int rl_limiter_list_resources_with_defaults(rl_limiter_t *lim, rl_config_ref_t *out,
                                                  size_t max, size_t *n)
{
    if (!lim || !n || (max && !out))
        return RL_EINVAL;
    return await lim->repo->ops->config_list(lim->repo, RL_CONFIG_RESOURCE, NULL, NULL, out, max,
                                             n);
}

async int rl_limiter_list_entities_with_custom_limits(rl_limiter_t *lim, const char *resource,
                                                      rl_config_ref_t *out, size_t max, size_t *n)
{
    if (!lim || !n || (max && !out))
        return RL_EINVAL;
    if (resource && rl_validate_resource(resource))
        return RL_ERESOURCE;
    return await lim->repo->ops->config_list(lim->repo, RL_CONFIG_ENTITY, NULL, resource, out, max,
                                             n);
}

async int rl_limiter_list_resources_with_entity_configs(rl_limiter_t *lim, const char *entity_id,
                                                        rl_config_ref_t *out, size_t max, size_t *n)
{
    if (!lim || !n || (max && !out))
        return RL_EINVAL;
    if (rl_validate_entity_id(entity_id))
        return RL_EENTITY;
    return await lim->repo->ops->config_list(lim->repo, RL_CONFIG_ENTITY, entity_id, NULL, out, max,
                                             n);
}

async int rl_limiter_invalidate_config_cache(rl_limiter_t *lim)
{
    return lim ? await rl_repo_invalidate(lim->repo) : RL_EINVAL;
}

async int rl_limiter_cache_stats(rl_limiter_t *lim, rl_cache_stats_t *out)
{
    return lim && out ? await rl_repo_cache_stats(lim->repo, out) : RL_EINVAL;
}
