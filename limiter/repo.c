/* The backend-independent part of a repository: clock, config cache and limit resolution. */
#include <unasync/limiter/repo.h>

#include <string.h>

int rl_repo_init(rl_repo_t *repo, const rl_repo_ops_t *ops, const rl_options_t *opts)
{
    rl_options_t defaults;
    if (!opts) {
        rl_options_init(&defaults);
        opts = &defaults;
    }
    repo->ops = ops;
    repo->clock.now_ms = NULL;
    repo->clock.ctx = NULL;
    if (opts->clock)
        repo->clock = *opts->clock;
    repo->fetches = 0;
    repo->fetched_keys = 0;
    repo->last_cause = 0;
    async_mutex_init(&repo->cache_lock);
    int64_t ttl = opts->cache_ttl_ms < 0 ? RL_CACHE_DEFAULT_TTL_MS : opts->cache_ttl_ms;
    return rl_cache_init(&repo->cache, ttl);
}

void rl_repo_fini(rl_repo_t *repo)
{
    rl_cache_destroy(&repo->cache);
    async_mutex_destroy(&repo->cache_lock);
}

async int rl_repo_close(rl_repo_t *repo)
{
    if (!repo)
        return 0;
    return await repo->ops->close(repo);
}

int64_t rl_repo_now(rl_repo_t *repo)
{
    return rl_clock_now(&repo->clock);
}

/* Resolution order after an override: entity+resource, entity _default_, resource, system. */
#define RL_SLOTS 4

async int rl_repo_resolve(rl_repo_t *repo, const char *entity_id, const char *resource,
                          int64_t now_ms, rl_config_t *out, rl_source_t *source,
                          rl_report_t *report)
{
    static const rl_source_t sources[RL_SLOTS] = {RL_SOURCE_ENTITY, RL_SOURCE_ENTITY_DEFAULT,
                                                  RL_SOURCE_RESOURCE, RL_SOURCE_SYSTEM};
    rl_config_key_t keys[RL_SLOTS] = {
        {RL_CONFIG_ENTITY, entity_id, resource},
        {RL_CONFIG_ENTITY, entity_id, RL_DEFAULT_RESOURCE},
        {RL_CONFIG_RESOURCE, NULL, resource},
        {RL_CONFIG_SYSTEM, NULL, NULL},
    };
    /* For the _default_ resource the first two slots are one; ask once. */
    bool same = strcmp(resource, RL_DEFAULT_RESOURCE) == 0;
    rl_config_t cfgs[RL_SLOTS];
    bool found[RL_SLOTS] = {false, false, false, false};
    char key[RL_CACHE_KEY_MAX];
    int64_t now = now_ms;

    int rc = await async_mutex_lock(&repo->cache_lock);
    if (rc)
        return rl_report_set(report, RL_EBACKEND, rc, "cannot lock the config cache");
    rl_config_key_t miss_keys[RL_SLOTS];
    size_t miss_index[RL_SLOTS];
    size_t nmiss = 0;
    for (size_t i = same ? 1 : 0; i < RL_SLOTS; i++) {
        rl_cache_key_config(key, keys[i].kind, keys[i].entity_id, keys[i].resource);
        if (rl_cache_get(&repo->cache, key, now, &cfgs[i], sizeof cfgs[i], &found[i]))
            continue;
        miss_keys[nmiss] = keys[i];
        miss_index[nmiss++] = i;
    }
    if (nmiss) {
        rl_config_t fetched[RL_SLOTS];
        bool ok[RL_SLOTS];
        repo->fetches++;
        repo->fetched_keys += nmiss;
        rc = await repo->ops->config_get_many(repo, nmiss, miss_keys, fetched, ok);
        if (rc) {
            async_mutex_unlock(&repo->cache_lock);
            return rl_report_set(report, rc, 0, "cannot read limits of %s/%s: %s", entity_id,
                                 resource, rl_strerror(rc));
        }
        for (size_t m = 0; m < nmiss; m++) {
            size_t i = miss_index[m];
            found[i] = ok[m];
            if (ok[m])
                cfgs[i] = fetched[m];
            rl_cache_key_config(key, keys[i].kind, keys[i].entity_id, keys[i].resource);
            /* Out of memory only costs a later refetch. */
            (void)rl_cache_put(&repo->cache, key, now, ok[m] ? &cfgs[i] : NULL, sizeof cfgs[i]);
        }
    }
    async_mutex_unlock(&repo->cache_lock);

    for (size_t i = same ? 1 : 0; i < RL_SLOTS; i++) {
        if (found[i] && cfgs[i].count > 0) {
            *out = cfgs[i];
            *source = sources[i];
            return 0;
        }
    }
    *source = RL_SOURCE_NONE;
    return rl_report_set(report, RL_ENOLIMITS, 0,
                         "No limits configured for entity '%s' and resource '%s'", entity_id,
                         resource);
}

async int rl_repo_system_on_unavailable(rl_repo_t *repo, rl_on_unavailable_t *out)
{
    char key[RL_CACHE_KEY_MAX];
    rl_config_t cfg;
    bool found = false;
    int64_t now = rl_repo_now(repo);
    rl_cache_key_config(key, RL_CONFIG_SYSTEM, NULL, NULL);
    int rc = await async_mutex_lock(&repo->cache_lock);
    if (rc)
        return RL_EBACKEND;
    if (!rl_cache_get(&repo->cache, key, now, &cfg, sizeof cfg, &found)) {
        rl_config_key_t k = {RL_CONFIG_SYSTEM, NULL, NULL};
        repo->fetches++;
        repo->fetched_keys++;
        rc = await repo->ops->config_get_many(repo, 1, &k, &cfg, &found);
        if (rc == 0)
            (void)rl_cache_put(&repo->cache, key, now, found ? &cfg : NULL, sizeof cfg);
    }
    async_mutex_unlock(&repo->cache_lock);
    if (rc)
        return rc;
    *out = found ? cfg.on_unavailable : RL_ON_UNAVAILABLE_UNSET;
    return 0;
}

async int rl_repo_entity(rl_repo_t *repo, const char *entity_id, int64_t now_ms, rl_entity_t *out)
{
    char key[RL_CACHE_KEY_MAX];
    bool found = false;
    int64_t now = now_ms;
    rl_cache_key_entity(key, entity_id);
    int rc = await async_mutex_lock(&repo->cache_lock);
    if (rc)
        return RL_EBACKEND;
    if (!rl_cache_get(&repo->cache, key, now, out, sizeof *out, &found)) {
        repo->fetches++;
        repo->fetched_keys++;
        rc = await repo->ops->entity_get(repo, entity_id, out);
        found = rc == 0;
        if (rc == RL_ENOTFOUND)
            rc = 0;
        if (rc == 0)
            (void)rl_cache_put(&repo->cache, key, now, found ? out : NULL, sizeof *out);
    }
    async_mutex_unlock(&repo->cache_lock);
    if (rc)
        return rc;
    return found ? 0 : RL_ENOTFOUND;
}

async int rl_repo_evict_config(rl_repo_t *repo, rl_config_kind_t kind, const char *entity_id,
                               const char *resource)
{
    char key[RL_CACHE_KEY_MAX];
    rl_cache_key_config(key, kind, entity_id, resource);
    int rc = await async_mutex_lock(&repo->cache_lock);
    if (rc)
        return RL_EBACKEND;
    rl_cache_evict(&repo->cache, key);
    async_mutex_unlock(&repo->cache_lock);
    return 0;
}

async int rl_repo_evict_entity(rl_repo_t *repo, const char *entity_id)
{
    char key[RL_CACHE_KEY_MAX];
    rl_cache_key_entity(key, entity_id);
    int rc = await async_mutex_lock(&repo->cache_lock);
    if (rc)
        return RL_EBACKEND;
    rl_cache_evict(&repo->cache, key);
    async_mutex_unlock(&repo->cache_lock);
    return 0;
}

async int rl_repo_invalidate(rl_repo_t *repo)
{
    int rc = await async_mutex_lock(&repo->cache_lock);
    if (rc)
        return RL_EBACKEND;
    rl_cache_clear(&repo->cache);
    async_mutex_unlock(&repo->cache_lock);
    return 0;
}

async int rl_repo_cache_stats(rl_repo_t *repo, rl_cache_stats_t *out)
{
    int rc = await async_mutex_lock(&repo->cache_lock);
    if (rc)
        return RL_EBACKEND;
    *out = rl_cache_stats(&repo->cache);
    async_mutex_unlock(&repo->cache_lock);
    return 0;
}
