/* map.c - puts rule maps in force in a configuration: conflicts between maps, header lookups,
 * and a map's release. */
#include "ua_int.h"

#include <stdio.h>

/* A name that both rules may match: an exact rule's name, or the longer literal prefix and the
 * longer suffix of two globs around `middle`. 0 when no name can match both globs. */
static int witness(const ua_rule *a, const ua_rule *b, const char *middle, char *out, size_t cap)
{
    if (!a->is_glob || !b->is_glob) {
        const ua_rule *e = !a->is_glob ? a : b;
        snprintf(out, cap, "%s", e->from); /* rules_conflict checks that both match it */
        return 1;
    }
    const ua_rule *p = a->prefix_len >= b->prefix_len ? a : b;
    const ua_rule *q = p == a ? b : a;
    const ua_rule *s = a->suffix_len >= b->suffix_len ? a : b;
    const ua_rule *t = s == a ? b : a;
    /* the shorter prefix must start the longer, the shorter suffix end the longer */
    if (memcmp(p->from, q->from, q->prefix_len) != 0)
        return 0;
    const char *ls = s->from + s->prefix_len + 1, *ts = t->from + t->prefix_len + 1;
    if (memcmp(ls + s->suffix_len - t->suffix_len, ts, t->suffix_len) != 0)
        return 0;
    int n = snprintf(out, cap, "%.*s%s%s", (int)p->prefix_len, p->from, middle, ls);
    return n > 0 && (size_t)n < cap;
}

/* Whether two rules of different maps give one name two different new names; fills `name`. */
static int rules_conflict(const ua_rule *a, const ua_rule *b, char *name, size_t cap)
{
    static const char *middles[] = {"x", "", "Q9_"};
    for (size_t k = 0; k < sizeof middles / sizeof *middles; k++) {
        if (!witness(a, b, middles[k], name, cap))
            return 0;
        char ra[600], rb[600];
        size_t n = strlen(name);
        int la = ua__rule_apply(a, name, n, ra, sizeof ra);
        int lb = ua__rule_apply(b, name, n, rb, sizeof rb);
        if (la > 0 && lb > 0 && (la != lb || memcmp(ra, rb, (size_t)la) != 0))
            return 1;
        if (!a->is_glob || !b->is_glob)
            return 0; /* one name only */
    }
    return 0;
}

static int conflict(ua_config *cfg, const ua_map *old, const ua_map *map, const ua_map_ref *ref,
                    ua_findings *findings)
{
    char name[600];
    unsigned line = ref ? ref->line : 1, col = ref ? ref->col : 1;
    for (size_t i = 0; i < map->nrules; i++)
        for (size_t j = 0; j < old->nrules; j++)
            if (rules_conflict(&map->rules[i], &old->rules[j], name, sizeof name))
                return ua_findings_add(findings, cfg->path, line, col, UA_ERROR, "UA300",
                                       "maps: '%s' (%s) renames '%s' by rule '%s' -> '%s', but "
                                       "'%s' (%s) by rule '%s' -> '%s'",
                                       map->name, map->path, name, map->rules[i].from,
                                       map->rules[i].to, old->name, old->path,
                                       old->rules[j].from, old->rules[j].to)
                           ? UA_ENOMEM
                           : UA_ECONFIG;
    for (size_t i = 0; i < map->nheaders; i++)
        for (size_t j = 0; j < old->nheaders; j++)
            if (strcmp(map->headers[i].from, old->headers[j].from) == 0 &&
                strcmp(map->headers[i].to, old->headers[j].to) != 0)
                return ua_findings_add(findings, cfg->path, line, col, UA_ERROR, "UA300",
                                       "maps: '%s' (%s) redirects <%s> to <%s>, but '%s' (%s) "
                                       "to <%s>",
                                       map->name, map->path, map->headers[i].from,
                                       map->headers[i].to, old->name, old->path,
                                       old->headers[j].to)
                           ? UA_ENOMEM
                           : UA_ECONFIG;
    return 0;
}

int ua_config_add_map(ua_config *cfg, ua_map *map, const ua_map_ref *ref, ua_findings *findings)
{
    size_t same = cfg->nmaps;
    for (size_t k = 0; k < cfg->nmaps; k++) {
        if (strcmp(cfg->maps[k]->name, map->name) == 0) {
            same = k;
            continue;
        }
        int rc = conflict(cfg, cfg->maps[k], map, ref, findings);
        if (rc) {
            ua_map_free(map);
            return rc;
        }
    }
    if (same < cfg->nmaps) {
        ua_map_free(cfg->maps[same]);
        cfg->maps[same] = map;
        return 0;
    }
    ua_map **v = ua_realloc(cfg->maps, (cfg->nmaps + 1) * sizeof *v);
    if (!v) {
        ua_map_free(map);
        return UA_ENOMEM;
    }
    cfg->maps = v;
    cfg->maps[cfg->nmaps++] = map;
    return 0;
}

const ua_map *ua_config_map(const ua_config *cfg, const char *name)
{
    for (size_t k = 0; k < cfg->nmaps; k++)
        if (strcmp(cfg->maps[k]->name, name) == 0)
            return cfg->maps[k];
    return NULL;
}

const char *ua_map_header(const ua_config *cfg, const char *name, size_t len)
{
    for (size_t k = 0; k < cfg->nmaps; k++)
        for (size_t i = 0; i < cfg->maps[k]->nheaders; i++) {
            const ua_header_pair *h = &cfg->maps[k]->headers[i];
            if (strlen(h->from) == len && memcmp(h->from, name, len) == 0)
                return h->to;
        }
    return NULL;
}

void ua_map_free(ua_map *map)
{
    if (!map)
        return;
    ua_free(map->name);
    ua_free(map->path);
    ua__rules_free(map->rules, map->nrules);
    for (size_t i = 0; i < map->nheaders; i++) {
        ua_free(map->headers[i].from);
        ua_free(map->headers[i].to);
    }
    ua_free(map->headers);
    ua_free(map);
}
