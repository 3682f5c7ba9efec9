/* names.c - how a name becomes its twin's: twin file names from the "twin" pattern, and rename
 * rules (exact and glob, most specific first) applied to identifiers. */
#include "ua_int.h"

#include <string.h>

/* ---- Twin names ---- */

char *ua_twin_name(const char *pattern, const char *base)
{
    const char *dot = strrchr(base, '.');
    size_t stem_len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    const char *ext = dot && dot != base ? dot + 1 : "";
    ua_buf b = {0};
    for (const char *s = pattern; *s;) {
        if (strncmp(s, "{name}", 6) == 0) {
            ua_buf_adds(&b, base);
            s += 6;
        } else if (strncmp(s, "{stem}", 6) == 0) {
            ua_buf_add(&b, base, stem_len);
            s += 6;
        } else if (strncmp(s, "{ext}", 5) == 0) {
            ua_buf_adds(&b, ext);
            s += 5;
        } else {
            ua_buf_add(&b, s++, 1);
        }
    }
    return ua_buf_detach(&b, NULL);
}

/* Matches `base` against `pattern`, where {name} and {stem} match any non-empty text and {ext}
 * any text, the empty one included (ua_twin_name makes it empty for a name without a dot): so
 * every twin name ua_twin_name makes matches, and a source can never be named like a twin. The
 * pattern runs as a set of states over the name, one pass per character: linear in the name,
 * never exponential. */
static int twin_match(const char *pat, const char *s)
{
    enum { T_LIT, T_ANY, T_STAR };
    unsigned char kind[2 * TWIN_PATTERN_MAX];
    char lit[2 * TWIN_PATTERN_MAX];
    size_t m = 0;
    for (const char *q = pat; *q;) {
        if (m + 2 > sizeof kind)
            return 0;
        const char *close = *q == '{' ? strchr(q, '}') : NULL;
        if (close) {
            if (strncmp(q, "{ext}", 5) != 0)
                kind[m++] = T_ANY; /* {name}, {stem}: at least one character */
            kind[m++] = T_STAR;
            q = close + 1;
        } else {
            kind[m] = T_LIT;
            lit[m++] = *q++;
        }
    }
    unsigned char cur[2 * TWIN_PATTERN_MAX + 1], nxt[2 * TWIN_PATTERN_MAX + 1];
    memset(cur, 0, m + 1);
    cur[0] = 1;
    for (;; s++) {
        for (size_t i = 0; i < m; i++)
            if (cur[i] && kind[i] == T_STAR)
                cur[i + 1] = 1;
        if (!*s)
            return cur[m];
        int any = 0;
        memset(nxt, 0, m + 1);
        for (size_t i = 0; i < m; i++) {
            if (!cur[i])
                continue;
            if (kind[i] == T_STAR)
                nxt[i] = any = 1;
            else if (kind[i] == T_ANY || lit[i] == *s)
                nxt[i + 1] = any = 1;
        }
        if (!any)
            return 0;
        memcpy(cur, nxt, m + 1);
    }
}

int ua_is_twin_name(const char *pattern, const char *base)
{
    return twin_match(pattern, base);
}

/* ---- Rename rules ---- */

typedef struct rule_match {
    size_t lit, prefix;
} rule_match;

/* Whether `name` matches rule `r`; on success fills the capture and its specificity. */
static int rule_matches(const ua_rule *r, const char *name, size_t len, size_t *cap_off,
                        size_t *cap_len, rule_match *m)
{
    if (!r->is_glob) {
        if (r->from_len != len || memcmp(r->from, name, len) != 0)
            return 0;
        m->lit = len + 1000000; /* exact beats every glob */
        m->prefix = len;
        *cap_off = *cap_len = 0;
        return 1;
    }
    size_t pre = r->prefix_len, suf = r->suffix_len;
    if (len < pre + suf) /* the '*' matches zero or more characters */
        return 0;
    if (memcmp(name, r->from, pre) != 0 ||
        memcmp(name + len - suf, r->from + pre + 1, suf) != 0)
        return 0;
    m->lit = pre + suf;
    m->prefix = pre;
    *cap_off = pre;
    *cap_len = len - pre - suf;
    return 1;
}

static int expand(const char *to, const char *name, size_t cap_off, size_t cap_len, char *out,
                  size_t cap)
{
    size_t n = 0;
    for (const char *s = to; *s; s++) {
        if (*s == '*') {
            if (n + cap_len >= cap)
                return -1;
            memcpy(out + n, name + cap_off, cap_len);
            n += cap_len;
        } else {
            if (n + 1 >= cap)
                return -1;
            out[n++] = *s;
        }
    }
    out[n] = '\0';
    return (int)n;
}

/* The most specific of `n` rules matching `name`, or NULL; fills the capture. */
static const ua_rule *best_rule(const ua_rule *rules, size_t n, const char *name, size_t len,
                                rule_match *bm, size_t *off, size_t *clen)
{
    const ua_rule *best = NULL;
    for (size_t i = 0; i < n; i++) {
        size_t co, cl;
        rule_match m;
        if (!rule_matches(&rules[i], name, len, &co, &cl, &m))
            continue;
        if (!best || m.lit > bm->lit || (m.lit == bm->lit && m.prefix > bm->prefix)) {
            best = &rules[i];
            *bm = m;
            *off = co;
            *clen = cl;
        }
    }
    return best;
}

int ua__rule_apply(const ua_rule *r, const char *name, size_t len, char *out, size_t cap)
{
    size_t co, cl;
    rule_match m;
    if (!rule_matches(r, name, len, &co, &cl, &m))
        return 0;
    return expand(r->to, name, co, cl, out, cap);
}

int ua_rename(const ua_config *cfg, const char *name, size_t len, char *out, size_t cap,
              size_t *rule)
{
    size_t off = 0, clen = 0;
    rule_match bm = {0, 0};
    const ua_rule *r = best_rule(cfg->rules, cfg->nrules, name, len, &bm, &off, &clen);
    if (r) {
        *rule = (size_t)(r - cfg->rules);
    } else {
        /* the maps never contradict each other (ua_config_add_map refuses that), so the most
         * specific rule over all of them is the answer */
        rule_match mm = {0, 0};
        for (size_t k = 0; k < cfg->nmaps; k++) {
            rule_match m = {0, 0};
            size_t o = 0, l = 0;
            const ua_rule *c =
                best_rule(cfg->maps[k]->rules, cfg->maps[k]->nrules, name, len, &m, &o, &l);
            if (c && (!r || m.lit > mm.lit || (m.lit == mm.lit && m.prefix > mm.prefix))) {
                r = c;
                mm = m;
                off = o;
                clen = l;
            }
        }
        *rule = UA_RULE_MAPS(cfg);
    }
    int n = r ? expand(r->to, name, off, clen, out, cap) : 0;
    /* an empty result or one that is no identifier (a leading digit) is no rename */
    if (n > 0 && !ua_is_ident(out, (size_t)n))
        return 0;
    return n;
}

void ua__rules_free(ua_rule *rules, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ua_free(rules[i].from);
        ua_free(rules[i].to);
    }
    ua_free(rules);
}
