/* A string-keyed hash map with in-place values: the storage of the in-memory backend. */
#include <unasync/limiter/rl_types.h>

#include <string.h>

struct rl_map_node {
    rl_map_node_t *next;
    uint64_t hash;
    char *key;
    _Alignas(16) unsigned char value[];
};

static uint64_t hash_str(const char *key)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

int rl_map_init(rl_map_t *m)
{
    m->size = 0;
    m->nslots = 64;
    m->slots = rl_calloc(m->nslots, sizeof *m->slots);
    return m->slots ? 0 : RL_ENOMEM;
}

void rl_map_destroy(rl_map_t *m)
{
    if (!m || !m->slots)
        return;
    for (size_t i = 0; i < m->nslots; i++) {
        rl_map_node_t *n = m->slots[i];
        while (n) {
            rl_map_node_t *next = n->next;
            rl_free(n);
            n = next;
        }
    }
    rl_free(m->slots);
    m->slots = NULL;
    m->size = 0;
}

static rl_map_node_t **find(const rl_map_t *m, const char *key, uint64_t h)
{
    rl_map_node_t **link = &m->slots[h & (m->nslots - 1)];
    while (*link && ((*link)->hash != h || strcmp((*link)->key, key) != 0))
        link = &(*link)->next;
    return link;
}

void *rl_map_get(const rl_map_t *m, const char *key)
{
    rl_map_node_t *n = *find(m, key, hash_str(key));
    return n ? n->value : NULL;
}

/* Doubles the slot array; on allocation failure the map just stays denser. */
static void grow(rl_map_t *m)
{
    size_t nslots = m->nslots * 2;
    rl_map_node_t **slots = rl_calloc(nslots, sizeof *slots);
    if (!slots)
        return;
    for (size_t i = 0; i < m->nslots; i++) {
        rl_map_node_t *n = m->slots[i];
        while (n) {
            rl_map_node_t *next = n->next;
            rl_map_node_t **link = &slots[n->hash & (nslots - 1)];
            n->next = *link;
            *link = n;
            n = next;
        }
    }
    rl_free(m->slots);
    m->slots = slots;
    m->nslots = nslots;
}

void *rl_map_put(rl_map_t *m, const char *key, size_t size, bool *created)
{
    uint64_t h = hash_str(key);
    rl_map_node_t **link = find(m, key, h);
    if (*link) {
        if (created)
            *created = false;
        return (*link)->value;
    }
    size_t keylen = strlen(key) + 1;
    size = (size + 15) & ~(size_t)15;
    rl_map_node_t *n = rl_calloc(1, sizeof *n + size + keylen);
    if (!n)
        return NULL;
    n->hash = h;
    n->key = (char *)n->value + size;
    memcpy(n->key, key, keylen);
    n->next = NULL;
    *link = n;
    m->size++;
    if (created)
        *created = true;
    if (m->size > m->nslots)
        grow(m);
    return n->value;
}

bool rl_map_del(rl_map_t *m, const char *key)
{
    rl_map_node_t **link = find(m, key, hash_str(key));
    rl_map_node_t *n = *link;
    if (!n)
        return false;
    *link = n->next;
    rl_free(n);
    m->size--;
    return true;
}

void rl_map_sweep(rl_map_t *m, bool (*fn)(const char *key, void *value, void *ctx), void *ctx)
{
    for (size_t i = 0; i < m->nslots; i++) {
        rl_map_node_t **link = &m->slots[i];
        while (*link) {
            rl_map_node_t *n = *link;
            if (fn(n->key, n->value, ctx)) {
                *link = n->next;
                rl_free(n);
                m->size--;
            } else {
                link = &n->next;
            }
        }
    }
}
