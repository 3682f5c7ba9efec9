/* The TTL cache of limit configuration and entity records, with negative caching; no locking. */
#include <unasync/limiter/rl_types.h>

#include <string.h>

struct rl_cache_entry {
    rl_cache_entry_t *next;
    uint64_t hash;
    int64_t expires_ms;
    bool present;
    size_t size;
    char *key;
    unsigned char value[]; /* size bytes */
};

#define RL_CACHE_SLOTS 256

static uint64_t hash_key(const char *key)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h;
}

int rl_cache_init(rl_cache_t *c, int64_t ttl_ms)
{
    if (!c || ttl_ms < 0)
        return RL_EINVAL;
    memset(c, 0, sizeof *c);
    c->ttl_ms = ttl_ms;
    c->nslots = RL_CACHE_SLOTS;
    c->slots = rl_calloc(c->nslots, sizeof *c->slots);
    return c->slots ? 0 : RL_ENOMEM;
}

void rl_cache_clear(rl_cache_t *c)
{
    if (!c || !c->slots)
        return;
    for (size_t i = 0; i < c->nslots; i++) {
        rl_cache_entry_t *e = c->slots[i];
        while (e) {
            rl_cache_entry_t *next = e->next;
            rl_free(e);
            e = next;
        }
        c->slots[i] = NULL;
    }
    c->size = 0;
}

void rl_cache_destroy(rl_cache_t *c)
{
    if (!c)
        return;
    rl_cache_clear(c);
    rl_free(c->slots);
    c->slots = NULL;
}

/* The link that points at the entry for key (or at the NULL ending its chain). */
static rl_cache_entry_t **find(rl_cache_t *c, const char *key, uint64_t h)
{
    rl_cache_entry_t **link = &c->slots[h % c->nslots];
    while (*link && ((*link)->hash != h || strcmp((*link)->key, key) != 0))
        link = &(*link)->next;
    return link;
}

int rl_cache_get(rl_cache_t *c, const char *key, int64_t now_ms, void *value, size_t size,
                 bool *present)
{
    if (c->ttl_ms == 0 || !c->slots) {
        c->misses++;
        return 0;
    }
    uint64_t h = hash_key(key);
    rl_cache_entry_t **link = find(c, key, h);
    rl_cache_entry_t *e = *link;
    if (e && now_ms >= e->expires_ms) {
        *link = e->next;
        rl_free(e);
        c->size--;
        e = NULL;
    }
    if (!e) {
        c->misses++;
        return 0;
    }
    c->hits++;
    *present = e->present;
    if (e->present && value)
        memcpy(value, e->value, size < e->size ? size : e->size);
    return 1;
}

int rl_cache_put(rl_cache_t *c, const char *key, int64_t now_ms, const void *value, size_t size)
{
    if (c->ttl_ms == 0 || !c->slots)
        return 0;
    size_t keylen = strlen(key) + 1;
    size_t vsize = value ? size : 0;
    rl_cache_entry_t *e = rl_malloc(sizeof *e + vsize + keylen);
    if (!e)
        return RL_ENOMEM;
    e->hash = hash_key(key);
    e->expires_ms = now_ms + c->ttl_ms;
    e->present = value != NULL;
    e->size = vsize;
    if (vsize)
        memcpy(e->value, value, vsize);
    e->key = (char *)e->value + vsize;
    memcpy(e->key, key, keylen);
    rl_cache_entry_t **link = find(c, key, e->hash);
    if (*link) {
        e->next = (*link)->next;
        rl_free(*link);
    } else {
        e->next = NULL;
        c->size++;
    }
    *link = e;
    return 0;
}

void rl_cache_evict(rl_cache_t *c, const char *key)
{
    if (!c->slots)
        return;
    rl_cache_entry_t **link = find(c, key, hash_key(key));
    rl_cache_entry_t *e = *link;
    if (e) {
        *link = e->next;
        rl_free(e);
        c->size--;
    }
}

rl_cache_stats_t rl_cache_stats(const rl_cache_t *c)
{
    rl_cache_stats_t s = {c->hits, c->misses, c->size, c->ttl_ms};
    return s;
}

/* Keys: a kind letter, then the ids separated by '#', which no id or resource may contain. */
static char *put(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

void rl_cache_key_config(char *buf, rl_config_kind_t kind, const char *entity_id,
                         const char *resource)
{
    char *p = buf;
    switch (kind) {
    case RL_CONFIG_SYSTEM:
        *p++ = 's';
        break;
    case RL_CONFIG_RESOURCE:
        *p++ = 'r';
        *p++ = '#';
        p = put(p, resource);
        break;
    case RL_CONFIG_ENTITY:
        *p++ = 'e';
        *p++ = '#';
        p = put(p, entity_id);
        *p++ = '#';
        p = put(p, resource);
        break;
    }
    *p = 0;
}

void rl_cache_key_entity(char *buf, const char *entity_id)
{
    char *p = buf;
    *p++ = 'n';
    *p++ = '#';
    p = put(p, entity_id);
    *p = 0;
}

bool rl_config_ref_parse(const char *key, rl_config_ref_t *out)
{
    const char *res = NULL;
    memset(out, 0, sizeof *out);
    if (key[0] == 'r' && key[1] == '#') {
        res = key + 2;
    } else if (key[0] == 'e' && key[1] == '#') {
        const char *sep = strchr(key + 2, '#');
        size_t n = sep ? (size_t)(sep - key - 2) : 0;
        if (!sep || n == 0 || n > RL_ENTITY_ID_MAX)
            return false;
        memcpy(out->entity_id, key + 2, n);
        res = sep + 1;
    } else {
        return false;
    }
    size_t n = strlen(res);
    if (n == 0 || n > RL_RESOURCE_MAX)
        return false;
    memcpy(out->resource, res, n);
    return true;
}
