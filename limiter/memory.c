/* The in-memory backend: hash maps of entities, configs and buckets behind one mutex. */
#include <unasync/limiter/memory.h>

#include <stdio.h>
#include <string.h>

/* A composite bucket: every limit of one (entity, resource), as the Redis hash holds it. The
 * slots grow on demand (no fixed count); a record whose buckets are all full is evicted. */
typedef struct mem_slot {
    char name[RL_LIMIT_NAME_MAX + 1];
    rl_bucket_t bucket;
} mem_slot_t;

typedef struct mem_record {
    size_t count;
    size_t room;
    mem_slot_t *slots;
} mem_record_t;

/* A sweep for full buckets runs after this many bucket writes, or half as many as there are
 * records when that is more: amortised O(1) per write, and the store holds at most about three
 * times the buckets that are not full. */
#define RL_SWEEP_MIN 1024

typedef struct rl_memory {
    rl_repo_t base; /* first: a rl_repo_t * is a rl_memory_t * */
    async_mutex_t lock;
    rl_map_t entities; /* id -> rl_entity_t */
    rl_map_t configs;  /* cache key -> rl_config_t */
    rl_map_t buckets;  /* "entity#resource" -> mem_record_t */
    size_t writes;     /* bucket writes since the last sweep */
    uint64_t evicted;  /* records evicted because every bucket in them was full */
} rl_memory_t;

#define RL_BUCKET_KEY_MAX (RL_ENTITY_ID_MAX + RL_RESOURCE_MAX + 2)

static void bucket_key(char *buf, const char *entity_id, const char *resource)
{
    size_t a = strlen(entity_id), b = strlen(resource);
    memcpy(buf, entity_id, a);
    buf[a] = '#';
    memcpy(buf + a + 1, resource, b + 1);
}

static int find_slot(const mem_record_t *rec, const char *name)
{
    for (size_t i = 0; i < rec->count; i++)
        if (strcmp(rec->slots[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Makes room for `more` slots in rec. 0 or RL_ENOMEM (rec unchanged). */
static int reserve(mem_record_t *rec, size_t more)
{
    if (rec->count + more <= rec->room)
        return 0;
    size_t room = rec->room ? rec->room * 2 : more; /* most records hold one or two limits */
    while (room < rec->count + more)
        room *= 2;
    mem_slot_t *slots = rl_realloc(rec->slots, room * sizeof *slots);
    if (!slots)
        return RL_ENOMEM;
    rec->slots = slots;
    rec->room = room;
    return 0;
}

/* The slot for limit l in rec, appended full at now_ms when missing (room was reserved). */
static mem_slot_t *slot_for(mem_record_t *rec, const rl_limit_t *l, int64_t now_ms)
{
    int i = find_slot(rec, l->name);
    if (i >= 0)
        return &rec->slots[i];
    mem_slot_t *s = &rec->slots[rec->count++];
    memcpy(s->name, l->name, sizeof s->name);
    rl_bucket_init(&s->bucket, l, now_ms);
    return s;
}

static async int lock_store(rl_memory_t *m)
{
    int rc = await async_mutex_lock(&m->lock);
    return rc ? RL_EBACKEND : 0;
}

/* Copies the buckets of set s, refilled (and reconciled when set->reconcile) to now_ms, into its
 * buckets[] (rec may be NULL). True when a stored bucket was reconciled. */
static bool load_set(const mem_record_t *rec, rl_bucket_set_t *set, int64_t now_ms)
{
    bool changed = false;
    for (size_t i = 0; i < set->count; i++) {
        int slot = rec ? find_slot(rec, set->limits[i].name) : -1;
        if (slot >= 0)
            set->buckets[i] = rec->slots[slot].bucket;
        else
            rl_bucket_init(&set->buckets[i], &set->limits[i], now_ms);
        if (set->reconcile && slot >= 0)
            changed |= rl_bucket_reconcile(&set->buckets[i], &set->limits[i], now_ms);
        rl_bucket_refill(&set->buckets[i], now_ms);
    }
    return changed;
}

/* Copies every bucket of the sets, refilled to now_ms, into sets[].buckets. */
static void load_sets(rl_memory_t *m, rl_bucket_set_t *sets, size_t n, int64_t now_ms)
{
    char key[RL_BUCKET_KEY_MAX];
    for (size_t s = 0; s < n; s++) {
        bucket_key(key, sets[s].entity_id, sets[s].resource);
        (void)load_set(rl_map_get(&m->buckets, key), &sets[s], now_ms);
    }
}

/* Finds or creates the records of all sets and makes room in them, before anything is written,
 * so a failure leaves the buckets untouched (an empty record reads as full buckets). */
static int prepare_records(rl_memory_t *m, rl_bucket_set_t *sets, size_t n, mem_record_t **recs)
{
    char key[RL_BUCKET_KEY_MAX];
    for (size_t s = 0; s < n; s++) {
        bucket_key(key, sets[s].entity_id, sets[s].resource);
        recs[s] = rl_map_put(&m->buckets, key, sizeof(mem_record_t), NULL);
        if (!recs[s])
            return RL_ENOMEM;
        size_t missing = 0;
        for (size_t i = 0; i < sets[s].count; i++)
            missing += find_slot(recs[s], sets[s].limits[i].name) < 0;
        if (reserve(recs[s], missing))
            return RL_ENOMEM;
    }
    return 0;
}

static void free_record(void *value)
{
    mem_record_t *rec = value;
    rl_free(rec->slots);
    rec->slots = NULL;
}

/* True when every bucket of the record is full at now (it reads the same as no record). */
static bool record_full(const mem_record_t *rec, int64_t now)
{
    for (size_t i = 0; i < rec->count; i++) {
        rl_bucket_t b = rec->slots[i].bucket;
        rl_bucket_refill(&b, now);
        if (b.tokens_milli < b.capacity_milli)
            return false;
    }
    return true;
}

typedef struct sweep_ctx {
    int64_t now;
    uint64_t evicted;
} sweep_ctx_t;

static bool evict_full(const char *key, void *value, void *ctx)
{
    sweep_ctx_t *c = ctx;
    (void)key;
    if (!record_full(value, c->now))
        return false;
    free_record(value);
    c->evicted++;
    return true;
}

/* Counts a bucket write and, every so often, evicts the records that are full and idle. */
static void after_write(rl_memory_t *m, int64_t now)
{
    /* Half the size: the size grows with the writes, the whole of it might never be reached. */
    size_t due = m->buckets.size / 2 > RL_SWEEP_MIN ? m->buckets.size / 2 : RL_SWEEP_MIN;
    if (++m->writes < due)
        return;
    m->writes = 0;
    sweep_ctx_t c = {now, 0};
    rl_map_sweep(&m->buckets, evict_full, &c);
    m->evicted += c.evicted;
}

static async int mem_consume(rl_repo_t *repo, rl_bucket_set_t *sets, size_t n, int64_t now_ms,
                             bool *granted)
{
    rl_memory_t *m = (rl_memory_t *)repo;
    mem_record_t *recs[2];
    if (n > 2)
        return RL_EINVAL;
    if (rl_bucket_sets_check(sets, n))
        return RL_ERANGE;
    int rc = await lock_store(m);
    if (rc)
        return rc;
    for (size_t s = 0; s < n; s++) {
        const rl_entity_t *e = sets[s].expect_root ? rl_map_get(&m->entities, sets[s].entity_id)
                                                   : NULL;
        if (e && e->cascade && e->parent_id[0]) {
            async_mutex_unlock(&m->lock);
            return RL_ESTALE;
        }
    }
    /* An empty record left by a rejected request reads as full buckets: harmless. */
    rc = prepare_records(m, sets, n, recs);
    bool changed[2] = {false, false};
    for (size_t s = 0; rc == 0 && s < n; s++)
        changed[s] = load_set(recs[s], &sets[s], now_ms);
    *granted = rc == 0 && rl_bucket_sets_fit(sets, n);
    for (size_t s = 0; rc == 0 && s < n; s++) {
        /* A rejected request still stores a reconciliation (the refilled state is the same). */
        if (!*granted && !changed[s])
            continue;
        for (size_t i = 0; i < sets[s].count; i++) {
            mem_slot_t *slot = slot_for(recs[s], &sets[s].limits[i], now_ms);
            slot->bucket = sets[s].buckets[i];
            if (*granted)
                rl_bucket_force(&slot->bucket, sets[s].delta_milli[i]);
        }
    }
    if (rc == 0)
        after_write(m, now_ms);
    async_mutex_unlock(&m->lock);
    return rc;
}

static async int mem_adjust(rl_repo_t *repo, rl_bucket_set_t *sets, size_t n, int64_t now_ms)
{
    rl_memory_t *m = (rl_memory_t *)repo;
    mem_record_t *recs[2];
    if (n > 2)
        return RL_EINVAL;
    if (rl_bucket_sets_check(sets, n))
        return RL_ERANGE;
    int rc = await lock_store(m);
    if (rc)
        return rc;
    rc = prepare_records(m, sets, n, recs);
    for (size_t s = 0; rc == 0 && s < n; s++) {
        for (size_t i = 0; i < sets[s].count; i++) {
            if (sets[s].delta_milli[i] == 0)
                continue;
            mem_slot_t *slot = slot_for(recs[s], &sets[s].limits[i], now_ms);
            rl_bucket_force(&slot->bucket, sets[s].delta_milli[i]);
        }
    }
    if (rc == 0)
        after_write(m, now_ms);
    async_mutex_unlock(&m->lock);
    return rc;
}

static async int mem_read(rl_repo_t *repo, rl_bucket_set_t *sets, size_t n, int64_t now_ms)
{
    rl_memory_t *m = (rl_memory_t *)repo;
    int rc = await lock_store(m);
    if (rc)
        return rc;
    load_sets(m, sets, n, now_ms);
    async_mutex_unlock(&m->lock);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Configs                                                                                      */
/* ------------------------------------------------------------------------------------------ */

static async int mem_config_put(rl_repo_t *repo, rl_config_kind_t kind, const char *entity_id,
                                const char *resource, const rl_config_t *cfg)
{
    rl_memory_t *m = (rl_memory_t *)repo;
    char key[RL_CACHE_KEY_MAX];
    rl_cache_key_config(key, kind, entity_id, resource);
    int rc = await lock_store(m);
    if (rc)
        return rc;
    rl_config_t *stored = rl_map_put(&m->configs, key, sizeof *stored, NULL);
    if (!stored) {
        rc = RL_ENOMEM;
    } else {
        *stored = *cfg;
    }
    if (rc == 0 && kind == RL_CONFIG_ENTITY) {
        /* Reconcile existing buckets to the new parameters (rl_bucket_reconcile). */
        char bkey[RL_BUCKET_KEY_MAX];
        bucket_key(bkey, entity_id, resource);
        mem_record_t *rec = rl_map_get(&m->buckets, bkey);
        int64_t now = rl_repo_now(repo);
        for (size_t i = 0; rec && i < cfg->count; i++) {
            int slot = find_slot(rec, cfg->limits[i].name);
            if (slot >= 0)
                (void)rl_bucket_reconcile(&rec->slots[slot].bucket, &cfg->limits[i], now);
        }
    }
    async_mutex_unlock(&m->lock);
    return rc;
}

static async int mem_config_get(rl_repo_t *repo, rl_config_kind_t kind, const char *entity_id,
                                const char *resource, rl_config_t *out)
{
    rl_memory_t *m = (rl_memory_t *)repo;
    char key[RL_CACHE_KEY_MAX];
    rl_cache_key_config(key, kind, entity_id, resource);
    int rc = await lock_store(m);
    if (rc)
        return rc;
    const rl_config_t *stored = rl_map_get(&m->configs, key);
    if (stored)
        *out = *stored;
    async_mutex_unlock(&m->lock);
    return stored ? 0 : RL_ENOTFOUND;
}

static async int mem_config_delete(rl_repo_t *repo, rl_config_kind_t kind, const char *entity_id,
                                   const char *resource)
{
    rl_memory_t *m = (rl_memory_t *)repo;
    char key[RL_CACHE_KEY_MAX];
    rl_cache_key_config(key, kind, entity_id, resource);
    int rc = await lock_store(m);
    if (rc)
        return rc;
    bool had = rl_map_del(&m->configs, key);
    async_mutex_unlock(&m->lock);
    return had ? 0 : RL_ENOTFOUND;
}

typedef struct list_ctx {
    rl_config_kind_t kind;
    const char *entity_id;
    const char *resource;
    rl_config_ref_t *out;
    size_t max;
    size_t n;
} list_ctx_t;

static bool collect_config(const char *key, void *value, void *ctx)
{
    list_ctx_t *c = ctx;
    rl_config_ref_t ref;
    (void)value;
    if (key[0] != (c->kind == RL_CONFIG_ENTITY ? 'e' : 'r') || !rl_config_ref_parse(key, &ref))
        return false;
    if ((c->entity_id && strcmp(ref.entity_id, c->entity_id) != 0) ||
        (c->resource && strcmp(ref.resource, c->resource) != 0))
        return false;
    if (c->n < c->max)
        c->out[c->n++] = ref;
    return false;
}

static async int mem_config_list(rl_repo_t *repo, rl_config_kind_t kind, const char *entity_id,
                                 const char *resource, rl_config_ref_t *out, size_t max, size_t *n)
{
    rl_memory_t *m = (rl_memory_t *)repo;
    int rc = await lock_store(m);
    if (rc)
        return rc;
    list_ctx_t c = {kind, entity_id, resource, out, max, 0};
    rl_map_sweep(&m->configs, collect_config, &c);
    async_mutex_unlock(&m->lock);
    *n = c.n;
    return 0;
}

static async int mem_config_get_many(rl_repo_t *repo, size_t n, const rl_config_key_t *keys,
                                     rl_config_t *outs, bool *found)
{
    rl_memory_t *m = (rl_memory_t *)repo;
    char key[RL_CACHE_KEY_MAX];
    int rc = await lock_store(m);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        rl_cache_key_config(key, keys[i].kind, keys[i].entity_id, keys[i].resource);
        const rl_config_t *stored = rl_map_get(&m->configs, key);
        found[i] = stored != NULL;
        if (stored)
            outs[i] = *stored;
    }
    async_mutex_unlock(&m->lock);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Entities                                                                                     */
/* ------------------------------------------------------------------------------------------ */

static async int mem_entity_put(rl_repo_t *repo, const rl_entity_t *entity, bool exclusive)
{
    rl_memory_t *m = (rl_memory_t *)repo;
    int rc = await lock_store(m);
    if (rc)
        return rc;
    bool created = false;
    rl_entity_t *stored = NULL;
    const rl_entity_t *parent = NULL;
    if (exclusive && rl_map_get(&m->entities, entity->id))
        rc = RL_EEXIST;
    else if (entity->parent_id[0] && !(parent = rl_map_get(&m->entities, entity->parent_id)))
        rc = RL_ENOTFOUND;
    else if (!(stored = rl_map_put(&m->entities, entity->id, sizeof *stored, &created)))
        rc = RL_ENOMEM;
    else {
        /* The same root as the Redis backend's hash tag, so both backends report one value. */
        const char *root = parent && entity->cascade
                               ? (parent->root_id[0] ? parent->root_id : parent->id)
                               : entity->id;
        char copy[sizeof stored->root_id];
        memcpy(copy, root, strlen(root) + 1); /* root may live in *stored (put over itself) */
        *stored = *entity;
        memcpy(stored->root_id, copy, strlen(copy) + 1);
    }
    async_mutex_unlock(&m->lock);
    return rc;
}

static async int mem_entity_get(rl_repo_t *repo, const char *id, rl_entity_t *out)
{
    rl_memory_t *m = (rl_memory_t *)repo;
    int rc = await lock_store(m);
    if (rc)
        return rc;
    const rl_entity_t *stored = rl_map_get(&m->entities, id);
    if (stored)
        *out = *stored;
    async_mutex_unlock(&m->lock);
    return stored ? 0 : RL_ENOTFOUND;
}

typedef struct prefix_ctx {
    const char *prefix;
    size_t len;
} prefix_ctx_t;

static bool has_prefix(const char *key, void *value, void *ctx)
{
    const prefix_ctx_t *p = ctx;
    (void)value;
    return strncmp(key, p->prefix, p->len) == 0;
}

static bool record_has_prefix(const char *key, void *value, void *ctx)
{
    if (!has_prefix(key, value, ctx))
        return false;
    free_record(value);
    return true;
}

static bool free_every_record(const char *key, void *value, void *ctx)
{
    (void)key;
    (void)ctx;
    free_record(value);
    return true;
}

static async int mem_entity_delete(rl_repo_t *repo, const char *id)
{
    rl_memory_t *m = (rl_memory_t *)repo;
    char prefix[RL_CACHE_KEY_MAX];
    int rc = await lock_store(m);
    if (rc)
        return rc;
    bool had = rl_map_del(&m->entities, id);
    snprintf(prefix, sizeof prefix, "e#%s#", id);
    prefix_ctx_t cfg = {prefix, strlen(prefix)};
    rl_map_sweep(&m->configs, has_prefix, &cfg);
    snprintf(prefix, sizeof prefix, "%s#", id);
    prefix_ctx_t bkt = {prefix, strlen(prefix)};
    rl_map_sweep(&m->buckets, record_has_prefix, &bkt);
    async_mutex_unlock(&m->lock);
    return had ? 0 : RL_ENOTFOUND;
}

typedef struct children_ctx {
    const char *parent_id;
    rl_entity_t *out;
    size_t max;
    size_t n;
} children_ctx_t;

static bool collect_child(const char *key, void *value, void *ctx)
{
    children_ctx_t *c = ctx;
    const rl_entity_t *e = value;
    (void)key;
    if (strcmp(e->parent_id, c->parent_id) == 0 && c->n < c->max)
        c->out[c->n++] = *e;
    return false;
}

static async int mem_entity_children(rl_repo_t *repo, const char *parent_id, rl_entity_t *out,
                                     size_t max, size_t *n)
{
    rl_memory_t *m = (rl_memory_t *)repo;
    int rc = await lock_store(m);
    if (rc)
        return rc;
    children_ctx_t c = {parent_id, out, max, 0};
    rl_map_sweep(&m->entities, collect_child, &c);
    async_mutex_unlock(&m->lock);
    *n = c.n;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Lifecycle                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static async int mem_ping(rl_repo_t *repo)
{
    (void)repo;
    return 0;
}

static void mem_free(rl_memory_t *m)
{
    rl_map_destroy(&m->entities);
    rl_map_destroy(&m->configs);
    if (m->buckets.slots)
        rl_map_sweep(&m->buckets, free_every_record, NULL);
    rl_map_destroy(&m->buckets);
    async_mutex_destroy(&m->lock);
    rl_repo_fini(&m->base);
    rl_free(m);
}

static async int mem_close(rl_repo_t *repo)
{
    mem_free((rl_memory_t *)repo);
    return 0;
}

static const rl_repo_ops_t rl_memory_ops = {
    .name = "memory",
    .ping = mem_ping,
    .close = mem_close,
    .entity_put = mem_entity_put,
    .entity_get = mem_entity_get,
    .entity_delete = mem_entity_delete,
    .entity_children = mem_entity_children,
    .config_put = mem_config_put,
    .config_get = mem_config_get,
    .config_delete = mem_config_delete,
    .config_list = mem_config_list,
    .config_get_many = mem_config_get_many,
    .consume = mem_consume,
    .adjust = mem_adjust,
    .read = mem_read,
};

int rl_memory_open(rl_repo_t **out, const rl_options_t *opts)
{
    rl_memory_t *m = rl_calloc(1, sizeof *m);
    if (!m)
        return RL_ENOMEM;
    async_mutex_init(&m->lock);
    int rc = rl_repo_init(&m->base, &rl_memory_ops, opts);
    if (rc == 0)
        rc = rl_map_init(&m->entities);
    if (rc == 0)
        rc = rl_map_init(&m->configs);
    if (rc == 0)
        rc = rl_map_init(&m->buckets);
    if (rc) {
        mem_free(m);
        return rc;
    }
    *out = &m->base;
    return 0;
}
