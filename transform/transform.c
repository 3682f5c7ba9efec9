/* transform.c - the rewrite: the tokens of an async source (lex.c) in, its sync twin out, with
 * the edit list (source map) and findings. Bytes between tokens are copied unchanged. */
#include "ua_int.h"
#include "ua_incr.h"

#include <stdarg.h>
#include <stdio.h>

/* Nothing is worth keeping between calls since the lexer replaced libclang; the type stays so
 * that callers keep one per thread, as the API says. */
struct ua_ctx {
    int unused;
};

ua_ctx *ua_ctx_new(void)
{
    return ua_calloc(1, sizeof(ua_ctx));
}

void ua_ctx_free(ua_ctx *ctx)
{
    ua_free(ctx);
}

/* ---- Tokens ---- */

enum {
    T_PUNCT = UA_TK_PUNCT,
    T_KEYWORD = UA_TK_KEYWORD,
    T_IDENT = UA_TK_IDENT,
    T_LITERAL = UA_TK_LITERAL,
    T_COMMENT = UA_TK_COMMENT
};

enum {
    F_NORENAME = 1,   /* header name or diagnostic text: never rewritten */
    F_MACRO_NAME = 2, /* the name in #define/#undef/#ifdef/#ifndef/defined: markers stay */
    F_MESSAGE = 4,    /* inside #error/#warning: prose, may hold a lone quote */
    F_SPLICED = 8,    /* raw bytes differ from the spelling (backslash-newline or trigraph) */
    F_CHANGED = 16,   /* renamed or stripped */
    F_NL = 32,        /* a line end (no backslash before it) lies between it and the token before */
};

/* 16 bytes, so that the passes over the token array move half the memory a ua_token would;
 * hence sources of at most TOK_MAX_SRC bytes (transform() refuses larger ones). */
typedef struct tok {
    uint32_t off, len;
    uint32_t dir; /* index of the directive holding it, or NO_DIR */
    unsigned char kind, flags;
} tok;

#define NO_DIR UINT32_MAX
#define TOK_MAX_SRC ((size_t)UINT32_MAX - 1)

typedef struct directive {
    size_t first, end;        /* tokens [first, end) */
    size_t start_off, end_off; /* whole physical lines, end of line included */
    const char *name;          /* points into the source; NULL for a null directive */
    size_t name_len;
} directive;

typedef struct span {
    size_t off, len;
} span;

typedef ua__edit pending_edit; /* ua_incr.h: the incremental transform keeps them */

typedef struct strset {
    char **keys;
    char **vals; /* for the rename map: the first source name; NULL in a plain set */
    size_t *offs;
    size_t *lens;
    unsigned char *done; /* the memo's: the name's target is known to be its own in `renamed` */
    size_t cap, n;
} strset;

typedef struct xf {
    const ua_project *proj;
    const ua_config *cfg;
    const char *path;
    const char *src;
    size_t len;
    tok *toks;
    size_t ntoks;
    size_t nderive; /* edits come from tokens [0, nderive); the rest is look-ahead */
    directive *dirs;
    size_t ndirs, dircap;
    size_t *line_starts;
    size_t nlines;
    span *removed;
    size_t nremoved, remcap;
    pending_edit *edits;
    size_t nedits, editcap;
    ua_output *out;
    int errors;
    char guard_from[256], guard_to[300];
    size_t guard_len, async_len, await_len;
    strset renamed; /* target -> first source name */
    strset memo;    /* identifier -> what the rules make of it (NULL: nothing), rule in offs */
    uint64_t targets[64]; /* bit (first byte & 63) of [length, 63 at most]: of `renamed`'s keys */
    size_t gap_bad;  /* the first byte check_gaps reports, or (size_t)-1: found by tokenize() */
    size_t suspects; /* tokens check_tokens may report (an upper bound; 0: it has nothing to do) */
    int oom;
} xf;

/* ---- small string set (open addressing) ---- */

uint64_t ua__fnv(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* The sets' own hash: a word at a time, where FNV-1a takes a byte at a time (the rename memo
 * looks up every identifier of a file). Slot order is all it decides. */
static uint64_t name_hash(const char *s, size_t n)
{
    const uint64_t m = 0xff51afd7ed558ccdULL;
    uint64_t h = (uint64_t)n * 0x9E3779B97F4A7C15ULL, v;
    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&v, s, 8);
        h = (h ^ v) * m;
        h ^= h >> 32;
    }
    v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)(unsigned char)s[i] << (8 * i);
    h = (h ^ v) * m;
    h ^= h >> 29;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 32);
}


static long set_find(const strset *s, const char *k, size_t n)
{
    if (!s->cap)
        return -1;
    size_t i = name_hash(k, n) & (s->cap - 1);
    while (s->keys[i]) {
        if (s->lens[i] == n && memcmp(s->keys[i], k, n) == 0)
            return (long)i;
        i = (i + 1) & (s->cap - 1);
    }
    return -1;
}

/* Inserts k (copying) unless present; returns its slot or -1 on allocation failure. */
static long set_put(strset *s, const char *k, size_t n, const char *val, size_t off)
{
    long f = set_find(s, k, n);
    if (f >= 0)
        return f;
    if ((s->n + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 64;
        strset t = {ua_calloc(ncap, sizeof(char *)),
                    ua_calloc(ncap, sizeof(char *)),
                    ua_calloc(ncap, sizeof(size_t)),
                    ua_calloc(ncap, sizeof(size_t)),
                    ua_calloc(ncap, 1),
                    ncap,
                    0};
        if (!t.keys || !t.vals || !t.offs || !t.lens || !t.done) {
            ua_free(t.keys);
            ua_free(t.vals);
            ua_free(t.offs);
            ua_free(t.lens);
            ua_free(t.done);
            return -1;
        }
        for (size_t i = 0; i < s->cap; i++)
            if (s->keys[i]) {
                size_t j = name_hash(s->keys[i], s->lens[i]) & (ncap - 1);
                while (t.keys[j])
                    j = (j + 1) & (ncap - 1);
                t.keys[j] = s->keys[i];
                t.vals[j] = s->vals[i];
                t.offs[j] = s->offs[i];
                t.lens[j] = s->lens[i];
                t.done[j] = s->done[i];
                t.n++;
            }
        ua_free(s->keys);
        ua_free(s->vals);
        ua_free(s->offs);
        ua_free(s->lens);
        ua_free(s->done);
        *s = t;
    }
    size_t i = name_hash(k, n) & (s->cap - 1);
    while (s->keys[i])
        i = (i + 1) & (s->cap - 1);
    char *key = ua_strndup(k, n), *v = val ? ua_strdup(val) : NULL;
    if (!key || (val && !v)) {
        /* a half-filled slot would be found later with no value */
        ua_free(key);
        ua_free(v);
        return -1;
    }
    s->keys[i] = key;
    s->vals[i] = v;
    s->offs[i] = off;
    s->lens[i] = n;
    s->n++;
    return (long)i;
}

static void set_free(strset *s)
{
    for (size_t i = 0; i < s->cap; i++) {
        ua_free(s->keys[i]);
        ua_free(s->vals[i]);
    }
    ua_free(s->keys);
    ua_free(s->vals);
    ua_free(s->offs);
    ua_free(s->lens);
    ua_free(s->done);
    memset(s, 0, sizeof *s);
}

/* ---- positions and findings ---- */

static void linecol(const xf *x, size_t off, unsigned *line, unsigned *col)
{
    size_t lo = 0, hi = x->nlines;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (x->line_starts[mid] <= off)
            lo = mid;
        else
            hi = mid;
    }
    *line = (unsigned)lo + 1;
    *col = (unsigned)(off - x->line_starts[lo]) + 1;
}

static void finding(xf *x, size_t off, size_t len, ua_severity sev, const char *code,
                    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

static void finding(xf *x, size_t off, size_t len, ua_severity sev, const char *code,
                    const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    unsigned l, c, el, ec;
    linecol(x, off, &l, &c);
    linecol(x, off + (len ? len : 1), &el, &ec);
    if (len == 0 && el != l) { /* a point at the end of a line */
        el = l;
        ec = c + 1;
    }
    if (ua_findings_addr(&x->out->findings, x->path, l, c, el, ec, sev, code, "%s", msg))
        x->oom = 1;
    if (sev == UA_ERROR)
        x->errors++;
}

static int tok_is(const xf *x, size_t i, const char *s)
{
    size_t n = strlen(s);
    return i < x->ntoks && x->toks[i].len == n && memcmp(x->src + x->toks[i].off, s, n) == 0;
}

static int tok_is_hash(const xf *x, size_t i)
{
    return x->toks[i].kind == T_PUNCT && (tok_is(x, i, "#") || tok_is(x, i, "%:"));
}

/* Next token at or after i that is not a comment, or ntoks. */
static size_t next_code(const xf *x, size_t i)
{
    while (i < x->ntoks && x->toks[i].kind == T_COMMENT)
        i++;
    return i;
}

/* ---- stage 1: bytes and tokens ---- */

static int check_bytes(xf *x)
{
    const char *nul = memchr(x->src, '\0', x->len);
    if (nul) {
        finding(x, (size_t)(nul - x->src), 1, UA_ERROR, "UA100",
                "NUL byte: this is a binary file, not C source");
        return -1;
    }
    return 0;
}

/* Whether check_tokens could report token t (whatever its flags): an unterminated block
 * comment, punctuation that starts like a literal, or a byte of 0x80 or more. */
static int suspect(const tok *t, const char *src)
{
    const char *s = src + t->off;
    if (t->kind == T_COMMENT)
        return t->len >= 2 && s[1] == '*' &&
               (t->len < 4 || s[t->len - 2] != '*' || s[t->len - 1] != '/');
    if (t->kind != T_PUNCT)
        return 0;
    unsigned char c = (unsigned char)s[0];
    return c >= 0x80 || c == '"' || c == '\'' || c == 'L' || c == 'u' || c == 'U' || c == '8';
}

static void tok_from(xf *x, tok *k, const ua_token *t)
{
    const char *src = x->src;
    k->off = (uint32_t)t->off;
    k->len = (uint32_t)t->len;
    k->kind = (unsigned char)t->kind;
    k->flags = 0;
    k->dir = NO_DIR;
    if (t->kind == T_IDENT || t->kind == T_KEYWORD) { /* the only ones spelled (ident_text) */
        const char *p = src + t->off, *end = p + t->len;
        unsigned char any = 0;
        for (const char *q = p; q < end; q++) /* no branch per byte: most names have neither */
            any |= (unsigned char)(*q == '\\') | (unsigned char)(*q == '?');
        if (any)
            for (size_t i = t->off; i < t->off + t->len; i++)
                if (src[i] == '\\' ||
                    (src[i] == '?' && i + 2 < t->off + t->len && src[i + 1] == '?'))
                    k->flags |= F_SPLICED;
    } else if (suspect(k, src)) {
        x->suspects++;
    }
}

#define is_line_end ua__is_line_end

/* Scans the bytes [from, to) between two tokens, as check_gaps_in does: notes the first byte
 * that is neither white space nor a backslash-newline in x->gap_bad, and returns F_NL when a
 * line end lies there (find_directives needs it). One pass while the bytes are in cache. */
static unsigned scan_gap(xf *x, size_t from, size_t to)
{
    const char *s = x->src;
    unsigned nl = 0;
    for (size_t p = from; p < to; p++) {
        char c = s[p];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f')
            continue;
        if (c == '\n') {
            if (!nl && is_line_end(s, p))
                nl = F_NL;
            continue;
        }
        if (c == '\\') {
            size_t q = p + 1;
            if (q < to && s[q] == '\r')
                q++;
            if (q < to && s[q] == '\n') {
                p = q; /* never a line end: a backslash comes before it */
                continue;
            }
        }
        if (x->gap_bad == (size_t)-1)
            x->gap_bad = p;
    }
    return nl;
}

static int tokenize(xf *x, const ua_token *given, size_t ngiven)
{
    size_t cap = 0, pos = 0, prev_end = 0;
    ua_token t;
    x->gap_bad = (size_t)-1;
    if (x->len >= 3 && memcmp(x->src, "\xEF\xBB\xBF", 3) == 0)
        prev_end = 3; /* check_gaps_in skips the byte-order mark too */
    if (given) {
        if (ua_grow((void **)&x->toks, &cap, ngiven + 1, sizeof *x->toks))
            return UA_ENOMEM;
        for (size_t i = 0; i < ngiven; i++) {
            tok_from(x, &x->toks[i], &given[i]);
            x->toks[i].flags |= (unsigned char)scan_gap(x, i ? prev_end : 0, given[i].off);
            prev_end = given[i].off + given[i].len;
        }
        x->ntoks = ngiven;
        x->gap_bad = (size_t)-2; /* not the whole file's gaps: check_gaps looks itself */
        return 0;
    }
    /* about one token per 5 bytes of C: reserve that, grow when a file is denser */
    if (ua_grow((void **)&x->toks, &cap, x->len / 5 + 16, sizeof *x->toks))
        return UA_ENOMEM;
    while (ua_lex_next(x->src, x->len, &pos, &t)) {
        if (x->ntoks == cap && ua_grow((void **)&x->toks, &cap, x->ntoks + 1, sizeof *x->toks))
            return UA_ENOMEM;
        tok *k = &x->toks[x->ntoks++];
        tok_from(x, k, &t);
        k->flags |= (unsigned char)scan_gap(x, prev_end, t.off);
        prev_end = t.off + t.len;
    }
    scan_gap(x, prev_end, x->len);
    return 0;
}

static int build_lines(xf *x)
{
    size_t cap = 0;
    if (ua_grow((void **)&x->line_starts, &cap, 1, sizeof *x->line_starts))
        return UA_ENOMEM;
    x->line_starts[x->nlines++] = 0;
    for (const char *p = x->src, *end = x->src + x->len;
         (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) {
        if (x->nlines == cap &&
            ua_grow((void **)&x->line_starts, &cap, x->nlines + 1, sizeof *x->line_starts))
            return UA_ENOMEM;
        x->line_starts[x->nlines++] = (size_t)(p - x->src) + 1;
    }
    return 0;
}

int ua__is_line_end(const char *src, size_t p)
{
    if (src[p] != '\n')
        return 0;
    size_t q = p;
    if (q > 0 && src[q - 1] == '\r')
        q--;
    return !(q > 0 && src[q - 1] == '\\');
}

/* Checks the bytes between tokens: only white space and backslash-newlines may stand there. */
static void check_gaps_in(xf *x, size_t from, size_t to, size_t ntoks);

static void check_gaps(xf *x)
{
    if (x->gap_bad == (size_t)-2) { /* tokens given: their gaps were not all scanned */
        check_gaps_in(x, 0, x->len, x->ntoks);
        return;
    }
    if (x->gap_bad == (size_t)-1)
        return;
    size_t p = x->gap_bad;
    if (x->src[p] == '/' && p + 1 < x->len && x->src[p + 1] == '*')
        finding(x, p, 2, UA_ERROR, "UA101", "unterminated comment: '/*' has no matching '*/'");
    else
        finding(x, p, 1, UA_ERROR, "UA100", "unexpected byte 0x%02x", (unsigned char)x->src[p]);
}

/* The gaps of bytes [from, to) around tokens [0, ntoks), which lie inside it. */
static void check_gaps_in(xf *x, size_t from, size_t to, size_t ntoks)
{
    size_t pos = from;
    if (from == 0 && x->len >= 3 && memcmp(x->src, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    for (size_t i = 0; i <= ntoks; i++) {
        size_t end = i < ntoks ? x->toks[i].off : to;
        for (size_t p = pos; p < end; p++) {
            char c = x->src[p];
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f')
                continue;
            if (c == '\\') {
                size_t q = p + 1;
                if (q < end && x->src[q] == '\r')
                    q++;
                if (q < end && x->src[q] == '\n') {
                    p = q;
                    continue;
                }
            }
            if (c == '/' && p + 1 < x->len && x->src[p + 1] == '*')
                finding(x, p, 2, UA_ERROR, "UA101",
                        "unterminated comment: '/*' has no matching '*/'");
            else
                finding(x, p, 1, UA_ERROR, "UA100", "unexpected byte 0x%02x",
                        (unsigned char)c);
            return;
        }
        if (i < ntoks)
            pos = x->toks[i].off + x->toks[i].len;
    }
}

/* Literal-looking punctuation is an unterminated literal; other stray bytes are errors too. */
static void check_tokens(xf *x)
{
    if (!x->suspects)
        return;
    for (size_t i = 0; i < x->nderive; i++) {
        const tok *t = &x->toks[i];
        const char *s = x->src + t->off;
        if (t->kind == T_COMMENT && t->len >= 2 && s[1] == '*' &&
            (t->len < 4 || s[t->len - 2] != '*' || s[t->len - 1] != '/')) {
            finding(x, t->off, 2, UA_ERROR, "UA101",
                    "unterminated comment: '/*' has no matching '*/'");
            continue;
        }
        if (t->kind != T_PUNCT || (t->flags & F_MESSAGE))
            continue;
        size_t k = 0;
        while (k < t->len && k < 2 && (s[k] == 'L' || s[k] == 'u' || s[k] == 'U' || s[k] == '8'))
            k++;
        if (k < t->len && (s[k] == '"' || s[k] == '\'')) {
            finding(x, t->off, 1, UA_ERROR, "UA102",
                    "unterminated %s literal (missing closing %c)",
                    s[k] == '"' ? "string" : "character", s[k]);
            continue;
        }
        if ((unsigned char)s[0] >= 0x80 && !ua_utf8_len((const unsigned char *)s, t->len))
            finding(x, t->off, 1, UA_ERROR, "UA100", "invalid UTF-8 byte 0x%02x",
                    (unsigned char)s[0]);
    }
}

/* ---- stage 2: preprocessor directives ---- */

/* The first line end in bytes [p, to), or `to` when there is none. */
static size_t first_line_end(const xf *x, size_t p, size_t to)
{
    for (; p < to; p++)
        if (x->src[p] == '\n' && is_line_end(x->src, p))
            return p;
    return to;
}

/* A directive starts at a '#' with a line end (F_NL, which tokenize() found in the gaps) since
 * the last token that was not a comment, and runs to the first line end after it. */
static int find_directives(xf *x)
{
    int bol = 1;
    for (size_t i = 0; i < x->ntoks;) {
        if (x->toks[i].flags & F_NL)
            bol = 1;
        if (x->toks[i].kind == T_COMMENT) {
            i++;
            continue;
        }
        if (!(bol && tok_is_hash(x, i))) {
            bol = 0;
            i++;
            continue;
        }
        directive d = {i, i + 1, 0, x->len, NULL, 0};
        size_t e = i + 1;
        while (e < x->ntoks && !(x->toks[e].flags & F_NL))
            e++;
        size_t from = x->toks[e - 1].off + x->toks[e - 1].len;
        size_t p = first_line_end(x, from, e < x->ntoks ? x->toks[e].off : x->len);
        d.end_off = p < x->len ? p + 1 : x->len;
        d.end = e;
        /* whole physical lines: back up to the start of the line holding '#' */
        size_t s = x->toks[i].off;
        while (s > 0 && x->src[s - 1] != '\n')
            s--;
        d.start_off = s;
        size_t nm = next_code(x, i + 1);
        if (nm < e && (x->toks[nm].kind == T_IDENT || x->toks[nm].kind == T_KEYWORD)) {
            d.name = x->src + x->toks[nm].off;
            d.name_len = x->toks[nm].len;
        }
        if (ua_grow((void **)&x->dirs, &x->dircap, x->ndirs + 1, sizeof *x->dirs))
            return UA_ENOMEM;
        for (size_t k = i; k < e; k++)
            x->toks[k].dir = (uint32_t)x->ndirs;
        x->dirs[x->ndirs++] = d;
        bol = 1;
        i = e;
    }
    return 0;
}

static int dir_is(const directive *d, const char *name)
{
    size_t n = strlen(name);
    return d->name && d->name_len == n && memcmp(d->name, name, n) == 0;
}

/* Index of the first code token after the directive's name, or d->end. */
static size_t dir_args(const xf *x, const directive *d)
{
    size_t nm = next_code(x, d->first + 1);
    return nm < d->end ? next_code(x, nm + 1) : d->end;
}

static void mark_directive_tokens(xf *x)
{
    for (size_t k = 0; k < x->ndirs; k++) {
        directive *d = &x->dirs[k];
        size_t a = dir_args(x, d);
        if (dir_is(d, "error") || dir_is(d, "warning") || dir_is(d, "line") || dir_is(d, "ident")) {
            for (size_t i = a; i < d->end; i++)
                x->toks[i].flags |= F_NORENAME | F_MESSAGE;
        } else if (dir_is(d, "include") || dir_is(d, "include_next") || dir_is(d, "import")) {
            if (a < d->end && (x->toks[a].kind == T_LITERAL || tok_is(x, a, "<")))
                for (size_t i = a; i < d->end; i++)
                    x->toks[i].flags |= F_NORENAME;
        } else if (dir_is(d, "define") || dir_is(d, "undef") || dir_is(d, "ifdef") ||
                   dir_is(d, "ifndef")) {
            if (a < d->end && x->toks[a].kind == T_IDENT)
                x->toks[a].flags |= F_MACRO_NAME;
        }
        if (dir_is(d, "if") || dir_is(d, "elif")) {
            for (size_t i = a; i < d->end; i++) {
                if (!tok_is(x, i, "defined"))
                    continue;
                size_t j = next_code(x, i + 1);
                if (j < d->end && tok_is(x, j, "("))
                    j = next_code(x, j + 1);
                if (j < d->end && x->toks[j].kind == T_IDENT)
                    x->toks[j].flags |= F_MACRO_NAME;
            }
        }
    }
}

/* ---- stage 3: escape hatches and the include guard ---- */

enum { H_NONE, H_ASYNC, H_SYNC, H_BAD };

static const char HATCH[] = "UNASYNC_ASYNC";

/* Classifies a conditional directive's condition. */
static int hatch_kind(const xf *x, const directive *d)
{
    size_t a = dir_args(x, d);
    size_t v[8], n = 0;
    int mentions = 0;
    for (size_t i = a; i < d->end; i++) {
        if (x->toks[i].kind == T_COMMENT)
            continue;
        if (tok_is(x, i, HATCH))
            mentions = 1;
        if (n < 8)
            v[n] = i;
        n++;
    }
    if (!mentions)
        return H_NONE;
    if (dir_is(d, "ifdef") || dir_is(d, "ifndef")) {
        if (n == 1)
            return dir_is(d, "ifdef") ? H_ASYNC : H_SYNC;
        return H_BAD;
    }
    if (!dir_is(d, "if") || n > 5) /* the longest accepted form: ! defined ( X ) */
        return H_BAD;
    size_t i = 0;
    int neg = tok_is(x, v[0], "!");
    i += (size_t)neg;
    if (i < n && tok_is(x, v[i], "defined")) {
        i++;
        int paren = i < n && tok_is(x, v[i], "(");
        i += (size_t)paren;
        if (i < n && tok_is(x, v[i], HATCH) && i + 1 + (size_t)paren == n &&
            (!paren || tok_is(x, v[i + 1], ")")))
            return neg ? H_SYNC : H_ASYNC;
        return H_BAD;
    }
    if (i + 1 == n && tok_is(x, v[i], HATCH))
        return neg ? H_SYNC : H_ASYNC;
    return H_BAD;
}

static void add_removed(xf *x, size_t from, size_t to)
{
    if (to <= from)
        return;
    if (ua_grow((void **)&x->removed, &x->remcap, x->nremoved + 1, sizeof *x->removed)) {
        x->oom = 1;
        return;
    }
    x->removed[x->nremoved++] = (span){from, to - from};
}

static int span_cmp(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

typedef struct frame {
    size_t if_dir, else_dir;
    int hatch;
} frame;

/* The open conditionals while the directives are walked, and which of them is the hatch. */
typedef struct cond_stack {
    frame *v;
    size_t depth, cap;
    size_t hatch_open; /* index of the open hatch, or (size_t)-1 */
} cond_stack;

/* The token that names the include guard in directive `d0` (#ifndef X, #if !defined X,
 * #if !defined(X)), or d0->end when it has none. */
static size_t guard_name(const xf *x, const directive *d0)
{
    size_t a0 = dir_args(x, d0);
    if (dir_is(d0, "ifndef"))
        return a0 < d0->end ? a0 : d0->end;
    if (dir_is(d0, "if") && tok_is(x, a0, "!") && tok_is(x, next_code(x, a0 + 1), "defined")) {
        size_t j = next_code(x, next_code(x, a0 + 1) + 1);
        if (tok_is(x, j, "("))
            j = next_code(x, j + 1);
        return j;
    }
    return d0->end;
}

/* Whether a header opens with an include guard: the first code token is #ifndef X (or #if
 * !defined X), the next directive is #define X. Its #endif is checked when it closes. */
static int guard_opens(const xf *x)
{
    size_t plen = strlen(x->path);
    if (plen <= 2 || strcmp(x->path + plen - 2, ".h") != 0 || x->ndirs < 2)
        return 0;
    const directive *d0 = &x->dirs[0], *d1 = &x->dirs[1];
    if (next_code(x, 0) != d0->first || next_code(x, d0->end) != d1->first ||
        !dir_is(d1, "define"))
        return 0;
    size_t a1 = dir_args(x, d1), name = guard_name(x, d0);
    return name < d0->end && x->toks[name].kind == T_IDENT && a1 < d1->end &&
           x->toks[a1].len == x->toks[name].len &&
           memcmp(x->src + x->toks[a1].off, x->src + x->toks[name].off, x->toks[name].len) ==
               0 &&
           x->toks[name].len < sizeof x->guard_from - 1 && !tok_is(x, name, HATCH);
}

/* #if, #ifdef, #ifndef: pushes a frame, noting an escape hatch (a malformed or nested one is
 * a finding and counts as a plain conditional). Returns 0 or -1 when memory runs out. */
static int open_conditional(xf *x, cond_stack *st, size_t k)
{
    const directive *d = &x->dirs[k];
    int h = hatch_kind(x, d);
    if (h == H_BAD) {
        finding(x, x->toks[d->first].off, d->end_off - x->toks[d->first].off - 1, UA_ERROR,
                "UA008",
                "unsupported escape-hatch condition: write '#if UNASYNC_ASYNC' or "
                "'#if !UNASYNC_ASYNC' (or #ifdef/#ifndef UNASYNC_ASYNC) alone");
        h = H_NONE;
    }
    if (h != H_NONE && st->hatch_open != (size_t)-1) {
        unsigned ol, oc;
        linecol(x, x->toks[x->dirs[st->v[st->hatch_open].if_dir].first].off, &ol, &oc);
        finding(x, x->toks[d->first].off, 1, UA_ERROR, "UA008",
                "escape hatch nested in the one opened at line %u; hatches cannot nest", ol);
        h = H_NONE;
    }
    if (ua_grow((void **)&st->v, &st->cap, st->depth + 1, sizeof *st->v)) {
        x->oom = 1;
        return -1;
    }
    st->v[st->depth] = (frame){k, (size_t)-1, h};
    if (h != H_NONE)
        st->hatch_open = st->depth;
    st->depth++;
    return 0;
}

/* #elif and its variants: never in a hatch, never naming the hatch macro. */
static void check_elif(xf *x, const cond_stack *st, const directive *d)
{
    if (st->depth == 0) {
        finding(x, x->toks[d->first].off, 1, UA_ERROR, "UA008", "#elif without #if");
        return;
    }
    if (st->v[st->depth - 1].hatch != H_NONE) {
        finding(x, x->toks[d->first].off, 1, UA_ERROR, "UA008",
                "#elif is not allowed in an escape hatch; use #else");
        return;
    }
    for (size_t i = dir_args(x, d); i < d->end; i++)
        if (tok_is(x, i, HATCH)) {
            finding(x, x->toks[i].off, x->toks[i].len, UA_ERROR, "UA008",
                    "UNASYNC_ASYNC in #elif: an escape hatch must be its own #if");
            break;
        }
}

/* The lines a closed hatch removes from the twin: the async part with its #if/#else/#endif
 * lines for `#if UNASYNC_ASYNC`, only the directive lines for `#if !UNASYNC_ASYNC`. */
static void remove_hatch(xf *x, const frame *f, const directive *endif)
{
    const directive *di = &x->dirs[f->if_dir];
    const directive *de = f->else_dir != (size_t)-1 ? &x->dirs[f->else_dir] : NULL;
    if (f->hatch == H_ASYNC) {
        if (de) {
            add_removed(x, di->start_off, de->end_off);
            add_removed(x, endif->start_off, endif->end_off);
        } else {
            add_removed(x, di->start_off, endif->end_off);
        }
    } else {
        add_removed(x, di->start_off, di->end_off);
        add_removed(x, de ? de->start_off : endif->start_off, endif->end_off);
    }
}

/* #endif: pops a frame; a hatch's lines are removed, and the include guard is recognised when
 * its #endif is the last code of the file. */
static void close_conditional(xf *x, cond_stack *st, const directive *d, int guard)
{
    frame f = st->v[--st->depth];
    if (f.hatch != H_NONE) {
        remove_hatch(x, &f, d);
        st->hatch_open = (size_t)-1;
    }
    if (guard && f.if_dir == 0 && st->depth == 0 && next_code(x, d->end) == x->ntoks) {
        size_t name = guard_name(x, &x->dirs[0]);
        snprintf(x->guard_from, sizeof x->guard_from, "%.*s", (int)x->toks[name].len,
                 x->src + x->toks[name].off);
    }
}

/* The include guard's twin name: a rename rule's, else SYNC_ in front. */
static void rename_guard(xf *x)
{
    if (!x->guard_from[0])
        return;
    char buf[300];
    size_t rule;
    int n = ua_rename(x->cfg, x->guard_from, strlen(x->guard_from), buf, sizeof buf, &rule);
    if (n > 0)
        snprintf(x->guard_to, sizeof x->guard_to, "%s", buf);
    else
        snprintf(x->guard_to, sizeof x->guard_to, "SYNC_%s", x->guard_from);
    x->guard_len = strlen(x->guard_from);
}

/* Walks the conditionals: resolves escape hatches into removed spans, reports malformed and
 * unbalanced ones (UA008), and finds the include guard. */
static void process_conditionals(xf *x)
{
    cond_stack st = {NULL, 0, 0, (size_t)-1};
    int guard = guard_opens(x);
    for (size_t k = 0; k < x->ndirs; k++) {
        const directive *d = &x->dirs[k];
        if (dir_is(d, "if") || dir_is(d, "ifdef") || dir_is(d, "ifndef")) {
            if (open_conditional(x, &st, k))
                break;
        } else if (dir_is(d, "elif") || dir_is(d, "elifdef") || dir_is(d, "elifndef")) {
            check_elif(x, &st, d);
        } else if (dir_is(d, "else") || dir_is(d, "endif")) {
            if (st.depth == 0)
                finding(x, x->toks[d->first].off, 1, UA_ERROR, "UA008",
                        dir_is(d, "else") ? "#else without #if" : "#endif without #if");
            else if (dir_is(d, "else"))
                st.v[st.depth - 1].else_dir = k;
            else
                close_conditional(x, &st, d, guard);
        }
    }
    for (size_t i = st.depth; i-- > 0;) {
        const directive *d = &x->dirs[st.v[i].if_dir];
        finding(x, x->toks[d->first].off, 1, UA_ERROR, "UA008",
                st.v[i].hatch != H_NONE ? "escape hatch is never closed: #endif missing"
                                        : "unbalanced conditional: #endif missing for this #if");
    }
    ua_free(st.v);
    if (x->nremoved > 1)
        qsort(x->removed, x->nremoved, sizeof *x->removed, span_cmp);
    rename_guard(x);
}

/* ---- stage 4: edits ---- */

static void add_edit(xf *x, size_t off, size_t len, const char *text, size_t text_len)
{
    if (ua_grow((void **)&x->edits, &x->editcap, x->nedits + 1, sizeof *x->edits)) {
        x->oom = 1;
        return;
    }
    pending_edit *e = &x->edits[x->nedits++];
    e->off = off;
    e->len = len;
    e->text = text_len ? ua_strndup(text, text_len) : NULL;
    e->text_len = text_len;
    e->rule = (size_t)-1;
    e->key_len = 0;
    if (text_len && !e->text)
        x->oom = 1;
}

static size_t edits_end(const xf *x)
{
    return x->nedits ? x->edits[x->nedits - 1].off + x->edits[x->nedits - 1].len : 0;
}

/* The identifier's spelling (resolving backslash-newlines) into buf; returns its length. */
static size_t spelling(const xf *x, size_t i, char *buf, size_t cap)
{
    const tok *t = &x->toks[i];
    if (!(t->flags & F_SPLICED)) {
        size_t n = t->len < cap - 1 ? t->len : cap - 1;
        memcpy(buf, x->src + t->off, n);
        buf[n] = '\0';
        return n;
    }
    ua_token k = {t->off, t->len, t->kind};
    return ua_lex_spelling(x->src, x->len, &k, buf, cap);
}

/* Tokens that cannot begin an expression: `await` before one of them has nothing to await. */
static int cannot_start_expression(const xf *x, size_t i)
{
    static const char *puncts[] = {";",  ",",  ")",   "]",   "}",  ":",  "?",  "=",  "==", "!=",
                                   "<",  ">",  "<=",  ">=",  "+=", "-=", "*=", "/=", "%=", "&=",
                                   "|=", "^=", "<<=", ">>=", "||", "&&", "|",  "^",  "/",  "%",
                                   ".",  "->", "<<",  ">>",  "#",  "##", ":>", "%>", "%:", "..."};
    static const char *keywords[] = {"sizeof", "_Alignof", "alignof", "_Generic"};
    const tok *t = &x->toks[i];
    if (t->kind == T_PUNCT) {
        for (size_t k = 0; k < sizeof puncts / sizeof *puncts; k++)
            if (tok_is(x, i, puncts[k]))
                return 1;
        return 0;
    }
    if (t->kind == T_KEYWORD) {
        for (size_t k = 0; k < sizeof keywords / sizeof *keywords; k++)
            if (tok_is(x, i, keywords[k]))
                return 0;
        return 1;
    }
    return 0;
}

static int is_hspace(char c)
{
    return c == ' ' || c == '\t';
}

static void strip_marker(xf *x, size_t i, int is_await)
{
    const tok *t = &x->toks[i];
    if (is_await) {
        size_t n = next_code(x, i + 1);
        if (n >= x->ntoks || x->toks[n].dir != t->dir || cannot_start_expression(x, n)) {
            finding(x, t->off, t->len, UA_ERROR, "UA103",
                    "'%s' must be followed by the expression it awaits", x->cfg->marker_await);
            return;
        }
    }
    size_t from = t->off, to = t->off + t->len;
    size_t p = to;
    while (p < x->len && is_hspace(x->src[p]))
        p++;
    int at_eol = p >= x->len || x->src[p] == '\n' || x->src[p] == '\r';
    if (!at_eol) {
        to = p;
    } else {
        to = p; /* trailing blanks before the newline go too */
        while (from > 0 && is_hspace(x->src[from - 1]) && from - 1 >= edits_end(x))
            from--;
    }
    add_edit(x, from, to - from, NULL, 0);
}

/* Finds a project source that a quoted or angled include names. */
static const char *resolve_include(const xf *x, const char *name, size_t n, int quoted,
                                   char *joined, size_t cap)
{
    const ua_project *pj = x->proj;
    /* 1. relative to the including file's folder (quoted includes only) */
    if (quoted) {
        const char *slash = strrchr(x->path, '/');
        size_t dl = slash ? (size_t)(slash - x->path) + 1 : 0;
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%.*s%.*s", (int)dl, x->path, (int)n, name);
        /* normalise "./" and "dir/../" */
        char *parts[256];
        size_t np = 0;
        char *save = NULL; /* strtok_r: worker threads transform at the same time */
        for (char *tokp = strtok_r(tmp, "/", &save); tokp && np < 256;
             tokp = strtok_r(NULL, "/", &save)) {
            if (strcmp(tokp, ".") == 0)
                continue;
            if (strcmp(tokp, "..") == 0) {
                if (np == 0) {
                    np = (size_t)-1;
                    break;
                }
                np--;
                continue;
            }
            parts[np++] = tokp;
        }
        if (np != (size_t)-1) {
            joined[0] = '\0';
            size_t used = 0;
            for (size_t k = 0; k < np; k++)
                used += (size_t)snprintf(joined + used, used < cap ? cap - used : 0, "%s%s",
                                         k ? "/" : "", parts[k]);
            for (size_t k = 0; k < pj->nsources; k++)
                if (strcmp(pj->sources[k], joined) == 0)
                    return pj->sources[k];
        }
    }
    /* 2. relative to the project root, or 3. a unique source whose path ends with it (never
     * the including file itself, and for <...> only a name with a folder: a bare <errno.h> is
     * far more likely the system's than a project file's) */
    const char *found = NULL;
    int suffix_ok = quoted || memchr(name, '/', n) != NULL;
    for (size_t k = 0; k < pj->nsources; k++) {
        const char *s = pj->sources[k];
        size_t sl = strlen(s);
        if (strcmp(s, x->path) == 0)
            continue;
        if (sl == n && memcmp(s, name, n) == 0)
            return s;
        if (suffix_ok && sl > n && s[sl - n - 1] == '/' && memcmp(s + sl - n, name, n) == 0) {
            if (found)
                return NULL; /* ambiguous: leave it */
            found = s;
        }
    }
    return found;
}

static void rewrite_include(xf *x, const directive *d)
{
    size_t a = dir_args(x, d);
    if (a >= d->end)
        return;
    size_t hs, he; /* header-name bytes, quotes/brackets excluded */
    int quoted;
    if (x->toks[a].kind == T_LITERAL && x->src[x->toks[a].off] == '"') {
        hs = x->toks[a].off + 1;
        he = x->toks[a].off + x->toks[a].len - 1;
        quoted = 1;
    } else if (tok_is(x, a, "<")) {
        size_t j = a + 1;
        while (j < d->end && !tok_is(x, j, ">"))
            j++;
        if (j >= d->end)
            return;
        hs = x->toks[a].off + 1;
        he = x->toks[j].off;
        quoted = 0;
    } else {
        return;
    }
    const char *name = x->src + hs;
    size_t n = he - hs;
    char joined[4096];
    if (!resolve_include(x, name, n, quoted, joined, sizeof joined)) {
        /* not one of the project's sources: a header that a rule map redirects */
        const char *to = ua_map_header(x->cfg, name, n);
        if (to)
            add_edit(x, hs, n, to, strlen(to));
        return;
    }
    /* replace the last path component as written */
    size_t base = n;
    while (base > 0 && name[base - 1] != '/')
        base--;
    char b[1024];
    snprintf(b, sizeof b, "%.*s", (int)(n - base), name + base);
    char *tw = ua_twin_name(x->cfg->twin, b);
    if (!tw) {
        x->oom = 1;
        return;
    }
    add_edit(x, hs + base, n - base, tw, strlen(tw));
    ua_free(tw);
}

/* The identifier's text: the raw bytes, or its spelling when a backslash-newline splits it. */
static const char *ident_text(const xf *x, size_t i, char *buf, size_t cap, size_t *len)
{
    const tok *t = &x->toks[i];
    if (!(t->flags & F_SPLICED)) {
        *len = t->len;
        return x->src + t->off;
    }
    *len = spelling(x, i, buf, cap);
    return buf;
}

/* A cheap filter for report_existing_targets: most names cannot be a target (length and first
 * byte differ), and those skip the hash. */
static void target_mark(xf *x, const char *to, size_t n)
{
    x->targets[n < 63 ? n : 63] |= (uint64_t)1 << ((unsigned char)to[0] & 63);
}

static int maybe_target(const xf *x, const char *name, size_t n)
{
    return n && (x->targets[n < 63 ? n : 63] >> ((unsigned char)name[0] & 63) & 1);
}

static void rename_ident(xf *x, size_t i, const char *name, size_t n)
{
    char to[600];
    size_t rule = (size_t)-1;
    long memo = -1;
    int m;
    if (x->guard_len && n == x->guard_len && memcmp(name, x->guard_from, n) == 0) {
        m = snprintf(to, sizeof to, "%s", x->guard_to);
    } else {
        /* a file uses few names many times: the rules are applied once per name */
        long k = memo = set_find(&x->memo, name, n);
        if (k >= 0) {
            const char *v = x->memo.vals[k];
            m = v ? (int)strlen(v) : 0;
            if (v)
                memcpy(to, v, (size_t)m + 1);
            rule = x->memo.offs[k];
        } else {
            m = ua_rename(x->cfg, name, n, to, sizeof to, &rule);
            if (m >= 0 && (memo = set_put(&x->memo, name, n, m > 0 ? to : NULL, rule)) < 0)
                x->oom = 1;
        }
    }
    if (m < 0) {
        finding(x, x->toks[i].off, x->toks[i].len, UA_ERROR, "UA006",
                "renaming '%.*s' gives a name that is too long", (int)n, name);
        return;
    }
    if (m == 0)
        return;
    x->toks[i].flags |= F_CHANGED;
    if (rule != (size_t)-1)
        x->out->rule_hits[rule]++;
    /* once `to` maps back to this very name it always will (set_put never replaces), so the
     * memo remembers that and later uses of the name skip the look-up */
    long slot = memo >= 0 && x->memo.done[memo] ? -2 : set_find(&x->renamed, to, (size_t)m);
    int same = 0;
    if (slot >= 0 && (strlen(x->renamed.vals[slot]) != n ||
                      memcmp(x->renamed.vals[slot], name, n) != 0)) {
        finding(x, x->toks[i].off, x->toks[i].len, UA_ERROR, "UA006",
                "'%s' and '%.*s' are both renamed to '%s'", x->renamed.vals[slot], (int)n, name,
                to);
    } else if (slot >= 0) {
        same = 1;
    } else if (slot == -1) {
        char nm[512];
        snprintf(nm, sizeof nm, "%.*s", (int)n, name);
        if (set_put(&x->renamed, to, (size_t)m, nm, x->toks[i].off) < 0)
            x->oom = 1;
        else
            same = n < sizeof nm; /* a longer name was cut: it will not compare equal */
        target_mark(x, to, (size_t)m);
    }
    if (same && memo >= 0)
        x->memo.done[memo] = 1;
    /* keep the line count when the identifier was spliced over lines */
    char text[700];
    size_t tl = (size_t)m;
    memcpy(text, to, tl);
    if (x->toks[i].flags & F_SPLICED)
        for (size_t k = x->toks[i].off; k < x->toks[i].off + x->toks[i].len && tl + 3 < sizeof text; k++)
            if (x->src[k] == '\n') {
                if (k > 0 && x->src[k - 1] == '\r') {
                    memcpy(text + tl, "\\\r\n", 3);
                    tl += 3;
                } else {
                    memcpy(text + tl, "\\\n", 2);
                    tl += 2;
                }
            }
    add_edit(x, x->toks[i].off, x->toks[i].len, text, tl);
    if (!x->oom) { /* what the incremental transform needs to undo it */
        x->edits[x->nedits - 1].rule = rule;
        x->edits[x->nedits - 1].key_len = (size_t)m;
    }
}

static void collect_edits(xf *x)
{
    size_t r = 0;
    size_t last_dir = (size_t)-1;
    for (size_t i = 0; i < x->nderive; i++) {
        tok *t = &x->toks[i];
        while (r < x->nremoved && t->off >= x->removed[r].off + x->removed[r].len)
            r++;
        if (r < x->nremoved && t->off >= x->removed[r].off) {
            if (edits_end(x) <= x->removed[r].off)
                add_edit(x, x->removed[r].off, x->removed[r].len, NULL, 0);
            continue;
        }
        if (t->dir != NO_DIR && t->dir != last_dir) {
            last_dir = t->dir;
            const directive *d = &x->dirs[t->dir];
            if (dir_is(d, "include") || dir_is(d, "include_next") || dir_is(d, "import"))
                rewrite_include(x, d);
        }
        if (t->kind != T_IDENT || (t->flags & F_NORENAME))
            continue;
        if (t->off < edits_end(x))
            continue; /* already covered (an include header name) */
        char buf[512];
        size_t n;
        const char *name = ident_text(x, i, buf, sizeof buf, &n);
        int is_async = n == x->async_len && memcmp(name, x->cfg->marker_async, n) == 0;
        int is_await = n == x->await_len && memcmp(name, x->cfg->marker_await, n) == 0;
        if ((is_async || is_await) && !(t->flags & F_MACRO_NAME)) {
            t->flags |= F_CHANGED;
            strip_marker(x, i, is_await);
            continue;
        }
        rename_ident(x, i, name, n);
    }
    for (; r < x->nremoved; r++)
        if (edits_end(x) <= x->removed[r].off)
            add_edit(x, x->removed[r].off, x->removed[r].len, NULL, 0);
}

/* A rename target that the file already uses unrenamed: in the twin both are one name. */
static void report_existing_targets(xf *x)
{
    if (x->renamed.n == 0)
        return;
    char *reported = ua_calloc(x->renamed.cap, 1);
    if (!reported) {
        x->oom = 1;
        return;
    }
    for (size_t i = 0; i < x->ntoks; i++) {
        const tok *t = &x->toks[i];
        if (t->kind != T_IDENT || (t->flags & (F_CHANGED | F_NORENAME)))
            continue;
        char buf[512];
        size_t n;
        if (!(t->flags & F_SPLICED) && !maybe_target(x, x->src + t->off, t->len))
            continue;
        const char *name = ident_text(x, i, buf, sizeof buf, &n);
        long k = set_find(&x->renamed, name, n);
        if (k < 0 || reported[k])
            continue;
        reported[k] = 1;
        finding(x, x->renamed.offs[k], strlen(x->renamed.vals[k]), UA_WARNING, "UA006",
                UA__TARGET_MSG, x->renamed.vals[k], x->renamed.keys[k]);
    }
    ua_free(reported);
}

/* ---- stage 5: output ---- */

size_t ua__header_line(const char *path, const char *src, size_t len, const char *hash, char *buf,
                       size_t cap)
{
    const char *nl = memchr(src, '\n', len);
    const char *eol = nl && nl > src && nl[-1] == '\r' ? "\r\n" : "\n";
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    int n = snprintf(buf, cap,
                     "/* Generated by unasync from %s \xE2\x80\x94 DO NOT EDIT. unasync:source=%s "
                     "body=sha256:%s */%s",
                     base, path, hash, eol);
    return n < 0 ? 0 : (size_t)n;
}

/* The twin is written once: the header line's length does not depend on the hash (64 hex
 * digits whatever they are), so the body goes right after room for it, is hashed where it lies,
 * and the header is written into the room last. A byte-order mark the body starts with moves in
 * front of the header. One allocation of the exact size: the body's length is the source's plus
 * what the edits add. */
int ua__build_output(const char *path, const char *src, size_t len, const ua__edit *edits,
                     size_t nedits, ua_output *o)
{
    char zeros[65], line[2200];
    memset(zeros, '0', 64);
    zeros[64] = '\0';
    size_t hl = ua__header_line(path, src, len, zeros, line, sizeof line);
    size_t blen = len;
    for (size_t k = 0; k < nedits; k++)
        blen += edits[k].text_len - edits[k].len; /* wraps and comes back: edits lie in src */
    if (hl >= sizeof line || blen > SIZE_MAX - hl - 1)
        return UA_ENOMEM;
    if (ua_grow((void **)&o->map.edits, &o->map.cap, nedits + 1, sizeof *o->map.edits))
        return UA_ENOMEM;
    char *out = ua_malloc(hl + blen + 1);
    if (!out)
        return UA_ENOMEM;
    char *w = out + hl;
    size_t pos = 0;
    o->map.n = 1; /* slot 0: the header line */
    for (size_t k = 0; k < nedits; k++) {
        const ua__edit *e = &edits[k];
        memcpy(w, src + pos, e->off - pos);
        w += e->off - pos;
        if (e->text_len)
            memcpy(w, e->text, e->text_len);
        o->map.edits[o->map.n++] = (ua_edit){e->off, e->len, (size_t)(w - out), e->text_len};
        w += e->text_len;
        pos = e->off + e->len;
    }
    if (len > pos)
        memcpy(w, src + pos, len - pos);
    const char *body = out + hl;
    /* a byte-order mark stays first: the header goes right after it (unless an edit at offset
     * 0 moved it; then the plain layout), and the hash leaves it out */
    size_t bom = len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0 && blen >= 3 &&
                         memcmp(body, src, 3) == 0
                     ? 3
                     : 0;
    char hash[65];
    ua_sha256_hex(body + bom, blen - bom, hash);
    ua__header_line(path, src, len, hash, line, sizeof line);
    memcpy(out, body, bom); /* before the header covers those bytes */
    memcpy(out + bom, line, hl);
    out[hl + blen] = '\0';
    o->header_len = hl + bom;
    o->map.edits[0] = (ua_edit){bom, 0, bom, hl};
    o->bytes = out;
    o->len = hl + blen;
    return 0;
}

static int build_output(xf *x)
{
    return ua__build_output(x->path, x->src, x->len, x->edits, x->nedits, x->out);
}

static int valid_path(const char *p)
{
    return *p && !strstr(p, "*/") && !strchr(p, '\n') && !strchr(p, '\r') && strlen(p) < 1000;
}

static int transform(const ua_project *proj, const char *src_rel, const char *src, size_t len,
                     const ua_token *given, size_t ngiven, ua_output *out, ua__keep *keep);

int ua_transform(ua_ctx *ctx, const ua_project *proj, const char *src_rel, const char *src,
                 size_t len, ua_output *out)
{
    (void)ctx;
    return transform(proj, src_rel, src, len, NULL, 0, out, NULL);
}

int ua_transform_tokens(ua_ctx *ctx, const ua_project *proj, const char *src_rel, const char *src,
                        size_t len, const ua_token *toks, size_t ntoks, ua_output *out)
{
    static const ua_token none = {0, 0, 0};
    (void)ctx;
    return transform(proj, src_rel, src, len, toks ? toks : &none, toks ? ntoks : 0, out, NULL);
}

int ua__transform_keep(const ua_project *proj, const char *src_rel, const char *src, size_t len,
                       const ua_token *toks, size_t ntoks, ua_output *out, ua__keep *keep)
{
    static const ua_token none = {0, 0, 0};
    memset(keep, 0, sizeof *keep);
    int rc = transform(proj, src_rel, src, len, toks ? toks : &none, toks ? ntoks : 0, out, keep);
    if (rc == UA_ENOMEM)
        ua__keep_free(keep);
    if (rc == UA_ESOURCE)
        keep->errors = keep->errors ? keep->errors : 1;
    return rc;
}

/* Hands what an incremental transform needs of a finished run to *k (see ua__keep). */
static int keep_state(xf *x, ua__keep *k)
{
    k->errors = x->errors;
    memcpy(k->guard_from, x->guard_from, sizeof k->guard_from);
    memcpy(k->guard_to, x->guard_to, sizeof k->guard_to);
    k->plain = ua_malloc(x->nderive + 1);
    k->dirs = ua_malloc((x->ndirs + 1) * 2 * sizeof *k->dirs);
    k->removed = ua_malloc((x->nremoved + 1) * 2 * sizeof *k->removed);
    k->tkey = ua_calloc(x->renamed.n + 1, sizeof *k->tkey);
    k->tsrc = ua_calloc(x->renamed.n + 1, sizeof *k->tsrc);
    k->toff = ua_calloc(x->renamed.n + 1, sizeof *k->toff);
    if (!k->plain || !k->dirs || !k->removed || !k->tkey || !k->tsrc || !k->toff)
        return UA_ENOMEM;
    for (size_t i = 0; i < x->nderive; i++)
        k->plain[i] = x->toks[i].kind == T_IDENT && !(x->toks[i].flags & (F_CHANGED | F_NORENAME));
    for (size_t i = 0; i < x->ndirs; i++) {
        k->dirs[2 * i] = x->dirs[i].start_off;
        k->dirs[2 * i + 1] = x->dirs[i].end_off;
    }
    k->ndirs = x->ndirs;
    for (size_t i = 0; i < x->nremoved; i++) {
        k->removed[2 * i] = x->removed[i].off;
        k->removed[2 * i + 1] = x->removed[i].len;
    }
    k->nremoved = x->nremoved;
    for (size_t i = 0; i < x->renamed.cap; i++)
        if (x->renamed.keys[i]) { /* the set gives its strings away */
            k->tkey[k->ntargets] = x->renamed.keys[i];
            k->tsrc[k->ntargets] = x->renamed.vals[i];
            k->toff[k->ntargets++] = x->renamed.offs[i];
            x->renamed.keys[i] = x->renamed.vals[i] = NULL;
        }
    k->edits = x->edits;
    k->nedits = x->nedits;
    x->edits = NULL;
    x->nedits = 0;
    return 0;
}

void ua__keep_free(ua__keep *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->nedits; i++)
        ua_free(k->edits[i].text);
    ua_free(k->edits);
    for (size_t i = 0; i < k->ntargets; i++) {
        ua_free(k->tkey[i]);
        ua_free(k->tsrc[i]);
    }
    ua_free(k->tkey);
    ua_free(k->tsrc);
    ua_free(k->toff);
    ua_free(k->plain);
    ua_free(k->dirs);
    ua_free(k->removed);
    ua_free(k->rule_hits);
    memset(k, 0, sizeof *k);
}

int ua__derive_window(const ua_project *proj, const char *src_rel, const char *src, size_t len,
                      const ua_token *toks, size_t ntoks, size_t nderive, size_t first_in_dir,
                      size_t gap_from, size_t gap_to, const char *guard_from,
                      const char *guard_to, ua__keep *keep)
{
    memset(keep, 0, sizeof *keep);
    ua_output out;
    memset(&out, 0, sizeof out);
    xf x;
    memset(&x, 0, sizeof x);
    size_t line0 = 0;
    x.proj = proj;
    x.cfg = proj->cfg;
    x.path = src_rel;
    x.src = src;
    x.len = len;
    x.out = &out;
    x.line_starts = &line0; /* findings are only counted here: an error makes a full run */
    x.nlines = 1;
    x.async_len = strlen(x.cfg->marker_async);
    x.await_len = strlen(x.cfg->marker_await);
    snprintf(x.guard_from, sizeof x.guard_from, "%s", guard_from);
    snprintf(x.guard_to, sizeof x.guard_to, "%s", guard_to);
    x.guard_len = strlen(x.guard_from);
    if (len > TOK_MAX_SRC) { /* the full run reports it */
        keep->errors = 1;
        return 0;
    }
    int rc = UA_ENOMEM;
    out.rule_hits = ua_calloc(proj->cfg->nrules + 1, sizeof *out.rule_hits);
    if (!out.rule_hits || tokenize(&x, toks, ntoks))
        goto done;
    for (size_t i = first_in_dir; i < x.ntoks; i++)
        x.toks[i].dir = 0; /* only compared: "the next token is in another directive" */
    x.nderive = nderive;
    check_gaps_in(&x, gap_from, gap_to, nderive);
    check_tokens(&x);
    if (!x.errors)
        collect_edits(&x);
    if (x.oom || keep_state(&x, keep))
        goto done;
    keep->errors = x.errors;
    keep->rule_hits = out.rule_hits;
    out.rule_hits = NULL;
    rc = 0;
done:
    for (size_t k = 0; k < x.nedits; k++)
        ua_free(x.edits[k].text);
    ua_free(x.edits);
    ua_free(x.toks);
    set_free(&x.renamed);
    set_free(&x.memo);
    ua_output_free(&out);
    if (rc)
        ua__keep_free(keep);
    return rc;
}

static int transform(const ua_project *proj, const char *src_rel, const char *src, size_t len,
                     const ua_token *given, size_t ngiven, ua_output *out, ua__keep *keep)
{
    memset(out, 0, sizeof *out);
    if (!proj || !proj->cfg || !src_rel || (!src && len))
        return UA_EINVAL;
    out->rule_hits = ua_calloc(proj->cfg->nrules + 1, sizeof *out->rule_hits);
    if (!out->rule_hits)
        return UA_ENOMEM;
    if (!valid_path(src_rel) || len > TOK_MAX_SRC) {
        const char *why = len > TOK_MAX_SRC ? "source larger than 4 GiB: too large to transform"
                                            : "file name cannot be recorded in a generated header";
        if (ua_findings_add(&out->findings, src_rel, 1, 1, UA_ERROR, "UA100", "%s", why)) {
            ua_output_free(out);
            return UA_ENOMEM;
        }
        return UA_ESOURCE;
    }
    xf x;
    memset(&x, 0, sizeof x);
    x.proj = proj;
    x.cfg = proj->cfg;
    x.path = src_rel;
    x.src = src ? src : "";
    x.len = len;
    x.out = out;
    x.async_len = strlen(x.cfg->marker_async);
    x.await_len = strlen(x.cfg->marker_await);
    int rc = build_lines(&x);
    if (rc)
        goto done;
    if (check_bytes(&x) < 0) {
        rc = UA_ESOURCE;
        goto done;
    }
    if ((rc = tokenize(&x, given, ngiven)))
        goto done;
    x.nderive = x.ntoks;
    if ((rc = find_directives(&x)))
        goto done;
    mark_directive_tokens(&x);
    check_gaps(&x);
    check_tokens(&x);
    process_conditionals(&x);
    if (!x.errors) {
        collect_edits(&x);
        report_existing_targets(&x);
    }
    if (x.oom) {
        rc = UA_ENOMEM;
        goto done;
    }
    if (x.errors) {
        rc = UA_ESOURCE;
        goto done;
    }
    rc = build_output(&x);
done:
    if (keep && (rc == 0 || rc == UA_ESOURCE) && !x.oom && keep_state(&x, keep))
        rc = UA_ENOMEM;
    if (x.oom) /* a finding or an edit was lost, whatever else went wrong */
        rc = UA_ENOMEM;
    ua_findings_sort(&out->findings);
    for (size_t k = 0; k < x.nedits; k++)
        ua_free(x.edits[k].text);
    ua_free(x.edits);
    ua_free(x.removed);
    ua_free(x.dirs);
    ua_free(x.toks);
    ua_free(x.line_starts);
    set_free(&x.renamed);
    set_free(&x.memo);
    if (rc == UA_ENOMEM)
        ua_output_free(out); /* no partial result */
    return rc;
}

void ua_output_free(ua_output *out)
{
    if (!out)
        return;
    ua_free(out->bytes);
    ua_free(out->map.edits);
    ua_findings_free(&out->findings);
    ua_free(out->rule_hits);
    memset(out, 0, sizeof *out);
}

/* ---- header ---- */

int ua_header_parse(const char *buf, size_t len, ua_header *h)
{
    memset(h, 0, sizeof *h);
    size_t bom = len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    buf += bom;
    len -= bom;
    const char *nl = memchr(buf, '\n', len);
    size_t l1 = nl ? (size_t)(nl - buf) : len;
    static const char pre[] = "/* Generated by unasync from ";
    if (l1 < sizeof pre - 1 || memcmp(buf, pre, sizeof pre - 1) != 0)
        return UA_EHEADER;
    char line[2048];
    if (l1 >= sizeof line)
        return UA_EHEADER;
    memcpy(line, buf, l1);
    line[l1] = '\0';
    char *s = strstr(line, " unasync:source=");
    char *b = s ? strstr(s, " body=sha256:") : NULL;
    if (!s || !b)
        return UA_EHEADER;
    s += strlen(" unasync:source=");
    size_t sl = (size_t)(b - s);
    if (sl == 0 || sl >= sizeof h->source)
        return UA_EHEADER;
    memcpy(h->source, s, sl);
    h->source[sl] = '\0';
    b += strlen(" body=sha256:");
    for (int i = 0; i < 64; i++) {
        char c = b[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return UA_EHEADER;
        h->body_sha256[i] = c;
    }
    h->body_sha256[64] = '\0';
    h->header_len = (nl ? l1 + 1 : len) + bom;
    return 0;
}

static const char *find_in(const char *buf, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (buf[i] == needle[0] && memcmp(buf + i, needle, n) == 0)
            return buf + i;
    return NULL;
}

/* Our header, wrapped by a formatter: line 1 starts exactly like ours, and the comment that
 * line 1 opens (within the first 1 KB) goes on to hold "unasync:source=". Words anywhere else
 * in a file never make it ours. */
int ua_header_looks_generated(const char *buf, size_t len)
{
    static const char pre[] = "/* Generated by unasync from ";
    size_t bom = len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    buf += bom;
    len -= bom;
    if (len < sizeof pre - 1 || memcmp(buf, pre, sizeof pre - 1) != 0)
        return 0;
    size_t head = len < 1024 ? len : 1024;
    const char *end = find_in(buf + 2, head - 2, "*/");
    size_t comment = end ? (size_t)(end - buf) : head;
    return find_in(buf, comment, "unasync:source=") != NULL;
}

int ua_header_body_intact(const char *buf, size_t len, const ua_header *h)
{
    char hex[65];
    if (h->header_len > len)
        return 0;
    ua_sha256_hex(buf + h->header_len, len - h->header_len, hex);
    return strcmp(hex, h->body_sha256) == 0;
}
