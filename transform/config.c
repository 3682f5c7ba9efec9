/* config.c - reads and validates unasync.json and rule maps into ua_config and ua_map. */
#include "ua_int.h"

#include <stdio.h>

typedef struct cfg_parser {
    const char *path;
    ua_findings *findings;
    int errors;
    int oom; /* a finding could not be recorded */
} cfg_parser;

static void cfg_error(cfg_parser *cp, unsigned line, unsigned col, const char *fmt, const char *a)
{
    cp->errors++;
    if (ua_findings_add(cp->findings, cp->path, line, col, UA_ERROR, "UA300", fmt, a ? a : ""))
        cp->oom = 1;
}

static const char *type_name(uj_type t)
{
    static const char *names[] = {"null", "a boolean", "a number", "a string", "an array",
                                  "an object"};
    return names[t];
}

static int want(cfg_parser *cp, const uj_value *v, uj_type t, const char *what)
{
    if (v->type == t)
        return 1;
    char msg[256];
    snprintf(msg, sizeof msg, "%s must be %s, not %s", what, type_name(t), type_name(v->type));
    cp->errors++;
    if (ua_findings_add(cp->findings, cp->path, v->line, v->col, UA_ERROR, "UA300", "%s", msg))
        cp->oom = 1;
    return 0;
}

/* A glob is relative, '/'-separated, without '..' components or backslashes. */
static int check_glob(cfg_parser *cp, const uj_value *v, const char *key)
{
    const char *g = v->string;
    if (!*g) {
        cfg_error(cp, v->line, v->col, "%s: empty pattern", key);
        return 0;
    }
    if (strlen(g) > 1000) { /* the engine's matcher holds 1,024 elements */
        cfg_error(cp, v->line, v->col, "%s: pattern longer than 1000 characters", key);
        return 0;
    }
    if (g[0] == '/' || (g[0] && g[1] == ':')) {
        cfg_error(cp, v->line, v->col,
                  "%s: absolute paths are refused; patterns are relative to unasync.json", key);
        return 0;
    }
    if (strchr(g, '\\')) {
        cfg_error(cp, v->line, v->col, "%s: use '/' as the path separator", key);
        return 0;
    }
    for (const char *s = g; *s;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 2 && s[0] == '.' && s[1] == '.') {
            cfg_error(cp, v->line, v->col,
                      "%s: '..' is refused; nothing outside the folder of unasync.json is touched",
                      key);
            return 0;
        }
        s += n;
        if (*s == '/')
            s++;
    }
    return 1;
}

static int string_list(cfg_parser *cp, const uj_value *v, const char *key, char ***out,
                       size_t *n, int globs)
{
    if (!want(cp, v, UJ_ARRAY, key))
        return 0;
    *out = ua_calloc(v->nitems ? v->nitems : 1, sizeof **out);
    if (!*out)
        return -1;
    for (size_t i = 0; i < v->nitems; i++) {
        const uj_value *it = v->items[i];
        if (!want(cp, it, UJ_STRING, key))
            continue;
        if (globs && !check_glob(cp, it, key))
            continue;
        if (!((*out)[(*n)++] = ua_strdup(it->string)))
            return -1;
    }
    return 0;
}

/* A rename pattern: identifier characters and at most one '*'. */
static int rule_pattern_ok(const char *s, int *star)
{
    *star = 0;
    size_t n = strlen(s);
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '*') {
            if (++*star > 1)
                return 0;
            continue;
        }
        unsigned char c = (unsigned char)s[i];
        if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9')))
            return 0;
    }
    return !(s[0] >= '0' && s[0] <= '9');
}

/* "rename": {"from": "to", ...} into *rules and *nrules (both empty on entry). -1 when memory runs
 * out; problems are findings. */
static int parse_rename(cfg_parser *cp, const uj_value *v, ua_rule **rules, size_t *nrules)
{
    if (!want(cp, v, UJ_OBJECT, "rename"))
        return 0;
    ua_rule *rv = *rules = ua_calloc(v->nmembers ? v->nmembers : 1, sizeof *rv);
    if (!rv)
        return -1;
    for (size_t i = 0; i < v->nmembers; i++) {
        const uj_member *m = &v->members[i];
        int ks, vs;
        if (!want(cp, m->value, UJ_STRING, "a rename target"))
            continue;
        if (!rule_pattern_ok(m->key, &ks)) {
            cfg_error(cp, m->line, m->col,
                      "rename: '%s' is not an identifier pattern (letters, digits, '_' and at "
                      "most one '*')",
                      m->key);
            continue;
        }
        if (!rule_pattern_ok(m->value->string, &vs)) {
            cfg_error(cp, m->value->line, m->value->col,
                      "rename: '%s' is not an identifier pattern (letters, digits, '_' and at "
                      "most one '*')",
                      m->value->string);
            continue;
        }
        if (ks != vs) {
            cfg_error(cp, m->line, m->col,
                      "rename: '%s' and its target must both have one '*' or neither", m->key);
            continue;
        }
        if (strcmp(m->key, m->value->string) == 0) {
            cfg_error(cp, m->line, m->col, "rename: '%s' is renamed to itself", m->key);
            continue;
        }
        for (size_t j = 0; j < *nrules; j++)
            if (!ks && !rv[j].is_glob && strcmp(rv[j].to, m->value->string) == 0) {
                char msg[512];
                snprintf(msg, sizeof msg, "rename: '%s' and '%s' are both renamed to '%s'",
                         rv[j].from, m->key, m->value->string);
                cfg_error(cp, m->line, m->col, "%s", msg);
            }
        ua_rule *r = &rv[(*nrules)++];
        r->from = ua_strdup(m->key);
        r->to = ua_strdup(m->value->string);
        r->line = m->line;
        r->col = m->col;
        r->is_glob = ks;
        if (!r->from || !r->to)
            return -1;
        r->from_len = strlen(r->from);
        r->prefix_len = ks ? (size_t)(strchr(r->from, '*') - r->from) : r->from_len;
        r->suffix_len = ks ? r->from_len - r->prefix_len - 1 : 0;
    }
    return 0;
}

static int parse_markers(cfg_parser *cp, const uj_value *v, ua_config *cfg)
{
    if (!want(cp, v, UJ_OBJECT, "markers"))
        return 0;
    for (size_t i = 0; i < v->nmembers; i++) {
        const uj_member *m = &v->members[i];
        char **slot;
        if (strcmp(m->key, "async") == 0)
            slot = &cfg->marker_async;
        else if (strcmp(m->key, "await") == 0)
            slot = &cfg->marker_await;
        else {
            cfg_error(cp, m->line, m->col,
                      "markers: unknown key '%s' (expected \"async\" or \"await\")", m->key);
            continue;
        }
        if (!want(cp, m->value, UJ_STRING, "a marker"))
            continue;
        if (!ua_is_ident(m->value->string, strlen(m->value->string))) {
            cfg_error(cp, m->value->line, m->value->col,
                      "markers: '%s' is not a C identifier", m->value->string);
            continue;
        }
        ua_free(*slot);
        if (!(*slot = ua_strdup(m->value->string)))
            return -1;
    }
    if (strcmp(cfg->marker_async, cfg->marker_await) == 0)
        cfg_error(cp, v->line, v->col, "markers: async and await must differ (both '%s')",
                  cfg->marker_async);
    return 0;
}

static int parse_lint(cfg_parser *cp, const uj_value *v, ua_config *cfg)
{
    static const char *levels[] = {"off", "error", "warning", "info", "hint"};
    if (!want(cp, v, UJ_OBJECT, "lint"))
        return 0;
    cfg->lint = ua_calloc(v->nmembers ? v->nmembers : 1, sizeof *cfg->lint);
    if (!cfg->lint)
        return -1;
    for (size_t i = 0; i < v->nmembers; i++) {
        const uj_member *m = &v->members[i];
        if (!(strlen(m->key) == 5 && strncmp(m->key, "UA", 2) == 0 &&
              ua_is_ident(m->key, 5))) {
            cfg_error(cp, m->line, m->col, "lint: '%s' is not a rule code such as \"UA004\"",
                      m->key);
            continue;
        }
        if (!want(cp, m->value, UJ_STRING, "a lint level"))
            continue;
        int level = -1;
        for (int k = 0; k < 5; k++)
            if (strcmp(m->value->string, levels[k]) == 0)
                level = k;
        if (level < 0) {
            cfg_error(cp, m->value->line, m->value->col,
                      "lint: '%s' is not one of off, error, warning, info, hint",
                      m->value->string);
            continue;
        }
        ua_lint_level *l = &cfg->lint[cfg->nlint++];
        snprintf(l->code, sizeof l->code, "%s", m->key);
        l->severity = level;
    }
    return 0;
}

/* "blocking": {"name": "async_twin" | null | false} */
static int parse_blocking(cfg_parser *cp, const uj_value *v, ua_config *cfg)
{
    if (!want(cp, v, UJ_OBJECT, "blocking"))
        return 0;
    cfg->blocking = ua_calloc(v->nmembers ? v->nmembers : 1, sizeof *cfg->blocking);
    if (!cfg->blocking)
        return -1;
    for (size_t i = 0; i < v->nmembers; i++) {
        const uj_member *m = &v->members[i];
        const uj_value *t = m->value;
        if (!ua_is_ident(m->key, strlen(m->key))) {
            cfg_error(cp, m->line, m->col, "blocking: '%s' is not a C identifier", m->key);
            continue;
        }
        if (!(t->type == UJ_STRING || t->type == UJ_NULL ||
              (t->type == UJ_BOOL && !t->boolean))) {
            cfg_error(cp, t->line, t->col,
                      "blocking: the value for '%s' must be its async twin (a string), null (no "
                      "twin), or false (not blocking)",
                      m->key);
            continue;
        }
        if (t->type == UJ_STRING && !ua_is_ident(t->string, strlen(t->string))) {
            cfg_error(cp, t->line, t->col, "blocking: '%s' is not a C identifier", t->string);
            continue;
        }
        ua_blocking_rule *b = &cfg->blocking[cfg->nblocking++];
        b->name = ua_strdup(m->key);
        b->twin = t->type == UJ_STRING ? ua_strdup(t->string) : NULL;
        b->blocking = t->type != UJ_BOOL;
        if (!b->name || (t->type == UJ_STRING && !b->twin))
            return -1;
    }
    return 0;
}

/* The end of a parse of a configuration or a map: the JSON tree goes; a finding that could not
 * be recorded, or any other failed allocation (cp->oom), is UA_ENOMEM with the parse's findings
 * taken back. Returns 0, UA_ECONFIG or UA_ENOMEM; the caller frees what it built on failure. */
static int parse_end(cfg_parser *cp, uj_value *root, size_t n0)
{
    uj_free(root);
    if (cp->oom) {
        ua_findings_truncate(cp->findings, n0);
        return UA_ENOMEM;
    }
    return cp->errors ? UA_ECONFIG : 0;
}

/* Parses the JSON of a configuration or a map file into *root; a syntax error is one UA300
 * finding and UA_ECONFIG. */
static int parse_json(const char *json, size_t len, const char *display_path,
                      ua_findings *findings, uj_value **root)
{
    unsigned el = 0, ec = 0;
    char emsg[256];
    int oom = 0;
    if ((*root = uj_parse(json, len, &el, &ec, emsg, sizeof emsg, &oom)))
        return 0;
    if (oom || ua_findings_add(findings, display_path, el, ec, UA_ERROR, "UA300", "%s", emsg))
        return UA_ENOMEM;
    return UA_ECONFIG;
}

/* ---- Rule maps ---- */

/* A map's name: what pkg-config calls a package (letters, digits, '.', '_', '+', '-'; not
 * starting with '-' so that it can never be taken for an option). */
int ua_map_name_ok(const char *s)
{
    if (!*s || *s == '-' || *s == '.' || strlen(s) > 200)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '+' || c == '-'))
            return 0;
    }
    return 1;
}

int ua_map_ref_is_path(const char *ref)
{
    size_t n = strlen(ref);
    return strchr(ref, '/') != NULL || (n > 5 && strcmp(ref + n - 5, ".json") == 0);
}

/* "maps": ["unasync-limiter", "vendor/foo.unasync-map.json"] */
static int parse_map_refs(cfg_parser *cp, const uj_value *v, ua_config *cfg)
{
    if (!want(cp, v, UJ_ARRAY, "maps"))
        return 0;
    cfg->map_refs = ua_calloc(v->nitems ? v->nitems : 1, sizeof *cfg->map_refs);
    if (!cfg->map_refs)
        return -1;
    for (size_t i = 0; i < v->nitems; i++) {
        const uj_value *it = v->items[i];
        if (!want(cp, it, UJ_STRING, "a map"))
            continue;
        if (ua_map_ref_is_path(it->string)) {
            if (!check_glob(cp, it, "maps"))
                continue;
        } else if (!ua_map_name_ok(it->string)) {
            cfg_error(cp, it->line, it->col,
                      "maps: '%s' is neither a map's name (as pkg-config names a package) nor a "
                      "path to a .json file",
                      it->string);
            continue;
        }
        int dup = 0;
        for (size_t j = 0; j < cfg->nmap_refs; j++)
            dup |= strcmp(cfg->map_refs[j].name, it->string) == 0;
        if (dup) {
            cfg_error(cp, it->line, it->col, "maps: '%s' is listed twice", it->string);
            continue;
        }
        ua_map_ref *r = &cfg->map_refs[cfg->nmap_refs++];
        r->line = it->line;
        r->col = it->col;
        if (!(r->name = ua_strdup(it->string)))
            return -1;
    }
    return 0;
}

/* An #include's header name as a map may list it: a relative path of printable characters. */
static int header_name_ok(const char *s)
{
    if (!*s || *s == '/' || strlen(s) > 1000)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || *s == '"' || *s == '<' || *s == '>' || *s == '\\')
            return 0;
    return 1;
}

static int parse_headers(cfg_parser *cp, const uj_value *v, ua_map *map)
{
    if (!want(cp, v, UJ_OBJECT, "headers"))
        return 0;
    map->headers = ua_calloc(v->nmembers ? v->nmembers : 1, sizeof *map->headers);
    if (!map->headers)
        return -1;
    for (size_t i = 0; i < v->nmembers; i++) {
        const uj_member *m = &v->members[i];
        if (!want(cp, m->value, UJ_STRING, "a header's twin"))
            continue;
        if (!header_name_ok(m->key) || !header_name_ok(m->value->string)) {
            cfg_error(cp, m->line, m->col,
                      "headers: '%s' must map one relative header name (as written in "
                      "#include) to another",
                      m->key);
            continue;
        }
        if (strcmp(m->key, m->value->string) == 0) {
            cfg_error(cp, m->line, m->col, "headers: '%s' is redirected to itself", m->key);
            continue;
        }
        ua_header_pair *h = &map->headers[map->nheaders++];
        h->from = ua_strdup(m->key);
        h->to = ua_strdup(m->value->string);
        if (!h->from || !h->to)
            return -1;
    }
    return 0;
}

int ua_map_parse(const char *json, size_t len, const char *display_path, ua_map **out,
                 ua_findings *findings)
{
    cfg_parser cp = {display_path, findings, 0, 0};
    size_t n0 = findings->n;
    uj_value *root;
    *out = NULL;
    int jrc = parse_json(json, len, display_path, findings, &root);
    if (jrc)
        return jrc;
    ua_map *map = ua_calloc(1, sizeof *map);
    if (!map || !(map->path = ua_strdup(display_path)))
        goto oom;
    if (!want(&cp, root, UJ_OBJECT, "a rule map"))
        goto done;
    int have_version = 0;
    for (size_t i = 0; i < root->nmembers; i++) {
        const uj_member *m = &root->members[i];
        const uj_value *v = m->value;
        int rc = 0;
        if (strcmp(m->key, "$schema") == 0 || strcmp(m->key, "description") == 0) {
            want(&cp, v, UJ_STRING, m->key);
        } else if (strcmp(m->key, "unasync_map") == 0) {
            have_version = 1;
            if (want(&cp, v, UJ_NUMBER, "unasync_map") && v->number != 1)
                cfg_error(&cp, v->line, v->col,
                          "unasync_map: this unasync reads version 1 of the map format%s", NULL);
        } else if (strcmp(m->key, "name") == 0) {
            if (!want(&cp, v, UJ_STRING, "name"))
                continue;
            if (!ua_map_name_ok(v->string)) {
                cfg_error(&cp, v->line, v->col,
                          "name: '%s' is not a package name (letters, digits, '.', '_', '+', "
                          "'-')",
                          v->string);
                continue;
            }
            ua_free(map->name);
            if (!(map->name = ua_strdup(v->string)))
                goto oom;
        } else if (strcmp(m->key, "rename") == 0) {
            if (map->rules)
                continue;
            rc = parse_rename(&cp, v, &map->rules, &map->nrules);
        } else if (strcmp(m->key, "headers") == 0) {
            if (map->headers)
                continue;
            rc = parse_headers(&cp, v, map);
        } else {
            cfg_error(&cp, m->line, m->col,
                      "unknown key '%s' (expected unasync_map, name, description, rename, "
                      "headers)",
                      m->key);
        }
        if (rc < 0)
            goto oom;
    }
    if (!have_version)
        cfg_error(&cp, root->line, root->col,
                  "missing required key \"unasync_map\" (the format's version, 1)%s", NULL);
    if (!map->name)
        cfg_error(&cp, root->line, root->col, "missing required key \"name\"%s", NULL);
    goto done;
oom:
    cp.oom = 1;
done:;
    int prc = parse_end(&cp, root, n0);
    if (prc) {
        ua_map_free(map);
        return prc;
    }
    *out = map;
    return 0;
}

/* The runtime's map, built into the tool from runtime/unasync-runtime.json (transform/meson.build
 * embeds the file, which is also installed as share/unasync/maps/unasync-runtime.json). */
extern const char ua__runtime_map[];
extern const size_t ua__runtime_map_len;

static int add_builtin_map(ua_config *cfg, ua_findings *findings)
{
    ua_findings own = {0};
    ua_map *map;
    int rc = ua_map_parse(ua__runtime_map, ua__runtime_map_len,
                          "unasync-runtime.json (built in)", &map, &own);
    ua_findings_free(&own);
    if (rc)
        return rc;
    return ua_config_add_map(cfg, map, NULL, findings);
}

static int check_twin_pattern(cfg_parser *cp, const uj_value *v)
{
    const char *t = v->string;
    if (strchr(t, '/') || strchr(t, '\\')) {
        cfg_error(cp, v->line, v->col, "twin: '%s' must be a file name (twins live beside their source)", t);
        return 0;
    }
    if (!strstr(t, "{name}") && !strstr(t, "{stem}")) {
        cfg_error(cp, v->line, v->col, "twin: '%s' must contain {name} or {stem}", t);
        return 0;
    }
    if (strlen(t) > TWIN_PATTERN_MAX) {
        cfg_error(cp, v->line, v->col, "twin: '%s' is longer than 128 characters", t);
        return 0;
    }
    if (strcmp(t, "{name}") == 0 || strcmp(t, "{stem}.{ext}") == 0) {
        cfg_error(cp, v->line, v->col, "twin: '%s' would overwrite the source itself", t);
        return 0;
    }
    /* only placeholders ("{name}{ext}", "{stem}{ext}"): for a name without a dot the twin is
     * the source itself, and every name would look like a twin */
    int own_text = 0;
    for (const char *s = t; *s;) {
        const char *close = *s == '{' ? strchr(s, '}') : NULL;
        if (close) {
            s = close + 1;
        } else {
            own_text = 1;
            s++;
        }
    }
    if (!own_text) {
        cfg_error(cp, v->line, v->col,
                  "twin: '%s' has no text besides placeholders: it can name the source itself "
                  "or another source (add a prefix or suffix, as in sync_{name})",
                  t);
        return 0;
    }
    for (const char *s = t; (s = strchr(s, '{')); s++) {
        if (strncmp(s, "{name}", 6) && strncmp(s, "{stem}", 6) && strncmp(s, "{ext}", 5)) {
            cfg_error(cp, v->line, v->col,
                      "twin: unknown placeholder in '%s' (use {name}, {stem}, {ext})", t);
            return 0;
        }
    }
    return 1;
}

int ua_config_parse(const char *json, size_t len, const char *display_path, ua_config **out,
                    ua_findings *findings)
{
    cfg_parser cp = {display_path, findings, 0, 0};
    size_t n0 = findings->n;
    uj_value *root;
    *out = NULL;
    int jrc = parse_json(json, len, display_path, findings, &root);
    if (jrc)
        return jrc;
    ua_config *cfg = ua_calloc(1, sizeof *cfg);
    if (!cfg)
        goto oom;
    cfg->path = ua_strdup(display_path);
    cfg->twin = ua_strdup("sync_{name}");
    cfg->marker_async = ua_strdup("async");
    cfg->marker_await = ua_strdup("await");
    if (!cfg->path || !cfg->twin || !cfg->marker_async || !cfg->marker_await)
        goto oom;
    {
        int brc = add_builtin_map(cfg, findings);
        if (brc == UA_ENOMEM)
            goto oom;
        if (brc) { /* the tool's own data is broken: never a user's configuration error */
            uj_free(root);
            ua_config_free(cfg);
            return UA_EINVAL;
        }
    }
    if (!want(&cp, root, UJ_OBJECT, "the configuration"))
        goto done;
    int have_sources = 0;
    for (size_t i = 0; i < root->nmembers; i++) {
        const uj_member *m = &root->members[i];
        const uj_value *v = m->value;
        int rc = 0;
        if (strcmp(m->key, "$schema") == 0) {
            want(&cp, v, UJ_STRING, "$schema");
        } else if (strcmp(m->key, "sources") == 0) {
            have_sources = 1;
            cfg->sources_line = m->line;
            cfg->sources_col = m->col;
            rc = string_list(&cp, v, "sources", &cfg->sources, &cfg->nsources, 1);
            if (rc == 0 && v->type == UJ_ARRAY && v->nitems == 0)
                cfg_error(&cp, v->line, v->col, "sources: list at least one pattern%s", NULL);
        } else if (strcmp(m->key, "exclude") == 0) {
            rc = string_list(&cp, v, "exclude", &cfg->exclude, &cfg->nexclude, 1);
        } else if (strcmp(m->key, "twin") == 0) {
            if (want(&cp, v, UJ_STRING, "twin") && check_twin_pattern(&cp, v)) {
                ua_free(cfg->twin);
                if (!(cfg->twin = ua_strdup(v->string)))
                    goto oom;
            }
        } else if (strcmp(m->key, "rename") == 0) {
            rc = parse_rename(&cp, v, &cfg->rules, &cfg->nrules);
        } else if (strcmp(m->key, "markers") == 0) {
            rc = parse_markers(&cp, v, cfg);
        } else if (strcmp(m->key, "compile_commands") == 0) {
            if (want(&cp, v, UJ_STRING, "compile_commands") &&
                check_glob(&cp, v, "compile_commands") &&
                !(cfg->compile_commands = ua_strdup(v->string)))
                goto oom;
        } else if (strcmp(m->key, "compile_flags") == 0) {
            rc = string_list(&cp, v, "compile_flags", &cfg->compile_flags,
                             &cfg->ncompile_flags, 0);
        } else if (strcmp(m->key, "lint") == 0) {
            rc = parse_lint(&cp, v, cfg);
        } else if (strcmp(m->key, "blocking") == 0) {
            rc = parse_blocking(&cp, v, cfg);
        } else if (strcmp(m->key, "maps") == 0) {
            rc = parse_map_refs(&cp, v, cfg);
        } else {
            cfg_error(&cp, m->line, m->col,
                      "unknown key '%s' (expected sources, exclude, twin, rename, maps, markers, "
                      "compile_commands, compile_flags, lint, blocking)",
                      m->key);
        }
        if (rc < 0)
            goto oom;
    }
    if (!have_sources)
        cfg_error(&cp, root->line, root->col, "missing required key \"sources\"%s", NULL);
    goto done;
oom:
    cp.oom = 1;
done:;
    int prc = parse_end(&cp, root, n0);
    if (prc) {
        ua_config_free(cfg);
        return prc;
    }
    *out = cfg;
    return 0;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ua_free(v[i]);
    ua_free(v);
}

void ua_config_free(ua_config *cfg)
{
    if (!cfg)
        return;
    ua_free(cfg->path);
    free_list(cfg->sources, cfg->nsources);
    free_list(cfg->exclude, cfg->nexclude);
    ua_free(cfg->twin);
    ua__rules_free(cfg->rules, cfg->nrules);
    ua_free(cfg->marker_async);
    ua_free(cfg->marker_await);
    ua_free(cfg->compile_commands);
    free_list(cfg->compile_flags, cfg->ncompile_flags);
    ua_free(cfg->lint);
    for (size_t i = 0; i < cfg->nblocking; i++) {
        ua_free(cfg->blocking[i].name);
        ua_free(cfg->blocking[i].twin);
    }
    ua_free(cfg->blocking);
    for (size_t i = 0; i < cfg->nmap_refs; i++)
        ua_free(cfg->map_refs[i].name);
    ua_free(cfg->map_refs);
    for (size_t i = 0; i < cfg->nmaps; i++)
        ua_map_free(cfg->maps[i]);
    ua_free(cfg->maps);
    ua_free(cfg);
}
