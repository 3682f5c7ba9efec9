/* json.c - a small JSON reader that remembers where every value and key stands, so that
 * unasync.json problems can be reported as file:line:col (cJSON keeps no positions). */
#include "ua_int.h"

#include <stdio.h>

typedef struct uj_parser {
    const char *s;
    size_t len, pos;
    unsigned line, col;
    unsigned eline, ecol;
    char *emsg;
    size_t emsg_cap;
    int failed;
    int oom; /* an allocation failed: the input may be fine */
} uj_parser;

static void fail_at(uj_parser *p, unsigned line, unsigned col, const char *msg)
{
    if (p->failed)
        return;
    p->failed = 1;
    p->eline = line;
    p->ecol = col;
    snprintf(p->emsg, p->emsg_cap, "%s", msg);
}

static void fail(uj_parser *p, const char *msg)
{
    fail_at(p, p->line, p->col, msg);
}

static void fail_oom(uj_parser *p)
{
    p->oom = 1;
    fail(p, "out of memory");
}

static int peek(const uj_parser *p)
{
    return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static void advance(uj_parser *p)
{
    if (p->pos >= p->len)
        return;
    if (p->s[p->pos] == '\n') {
        p->line++;
        p->col = 1;
    } else if (((unsigned char)p->s[p->pos] & 0xC0) != 0x80) {
        p->col++; /* columns count characters, not UTF-8 continuation bytes */
    }
    p->pos++;
}

static void skip_ws(uj_parser *p)
{
    for (;;) {
        int c = peek(p);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            advance(p);
        else
            return;
    }
}

static uj_value *new_value(uj_parser *p, uj_type t, unsigned line, unsigned col)
{
    uj_value *v = ua_calloc(1, sizeof *v);
    if (!v) {
        fail_oom(p);
        return NULL;
    }
    v->type = t;
    v->line = line;
    v->col = col;
    return v;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int read_hex4(uj_parser *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(peek(p));
        if (h < 0) {
            fail(p, "invalid \\u escape: expected 4 hex digits");
            return -1;
        }
        v = v * 16 + (unsigned)h;
        advance(p);
    }
    *out = v;
    return 0;
}

static void put_utf8(ua_buf *b, unsigned cp)
{
    char t[4];
    size_t n;
    if (cp < 0x80) {
        t[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        t[0] = (char)(0xC0 | (cp >> 6));
        t[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        t[0] = (char)(0xE0 | (cp >> 12));
        t[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        t[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        t[0] = (char)(0xF0 | (cp >> 18));
        t[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        t[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        t[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    ua_buf_add(b, t, n);
}

static char *parse_string_raw(uj_parser *p)
{
    ua_buf b = {0};
    advance(p); /* opening quote */
    for (;;) {
        int c = peek(p);
        if (c < 0) {
            fail(p, "unterminated string");
            break;
        }
        if (c == '"') {
            advance(p);
            char *s = ua_buf_detach(&b, NULL);
            if (!s)
                fail_oom(p);
            return s;
        }
        if (c < 0x20) {
            fail(p, "control character in string (escape it)");
            break;
        }
        if (c == '\\') {
            advance(p);
            int e = peek(p);
            unsigned cp;
            switch (e) {
            case '"':
            case '\\':
            case '/':
                ua_buf_add(&b, &(char){(char)e}, 1);
                advance(p);
                continue;
            case 'b':
                ua_buf_add(&b, "\b", 1);
                advance(p);
                continue;
            case 'f':
                ua_buf_add(&b, "\f", 1);
                advance(p);
                continue;
            case 'n':
                ua_buf_add(&b, "\n", 1);
                advance(p);
                continue;
            case 'r':
                ua_buf_add(&b, "\r", 1);
                advance(p);
                continue;
            case 't':
                ua_buf_add(&b, "\t", 1);
                advance(p);
                continue;
            case 'u':
                advance(p);
                if (read_hex4(p, &cp))
                    break;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned lo;
                    if (peek(p) != '\\') {
                        fail(p, "unpaired UTF-16 surrogate in \\u escape");
                        break;
                    }
                    advance(p);
                    if (peek(p) != 'u') {
                        fail(p, "unpaired UTF-16 surrogate in \\u escape");
                        break;
                    }
                    advance(p);
                    if (read_hex4(p, &lo))
                        break;
                    if (lo < 0xDC00 || lo > 0xDFFF) {
                        fail(p, "unpaired UTF-16 surrogate in \\u escape");
                        break;
                    }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    fail(p, "unpaired UTF-16 surrogate in \\u escape");
                    break;
                }
                if (cp == 0) {
                    fail(p, "\\u0000 is not allowed here");
                    break;
                }
                put_utf8(&b, cp);
                continue;
            default:
                fail(p, "invalid escape in string");
                break;
            }
            break;
        }
        size_t n = ua_utf8_len((const unsigned char *)p->s + p->pos, p->len - p->pos);
        if (n == 0) {
            fail(p, "invalid UTF-8 in string");
            break;
        }
        ua_buf_add(&b, p->s + p->pos, n);
        for (size_t i = 0; i < n; i++)
            advance(p);
    }
    if (b.oom)
        p->oom = 1; /* whatever else went wrong, the bytes could not be kept */
    ua_buf_free(&b);
    return NULL;
}

static uj_value *parse_value(uj_parser *p, int depth);

static int expect_word(uj_parser *p, const char *w)
{
    size_t n = strlen(w);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, w, n) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        advance(p);
    return 0;
}

static uj_value *parse_number(uj_parser *p, unsigned line, unsigned col)
{
    size_t start = p->pos;
    if (peek(p) == '-')
        advance(p);
    if (peek(p) == '0') {
        advance(p);
    } else if (peek(p) >= '1' && peek(p) <= '9') {
        while (peek(p) >= '0' && peek(p) <= '9')
            advance(p);
    } else {
        fail(p, "invalid number");
        return NULL;
    }
    if (peek(p) == '.') {
        advance(p);
        if (!(peek(p) >= '0' && peek(p) <= '9')) {
            fail(p, "invalid number: digit expected after '.'");
            return NULL;
        }
        while (peek(p) >= '0' && peek(p) <= '9')
            advance(p);
    }
    if (peek(p) == 'e' || peek(p) == 'E') {
        advance(p);
        if (peek(p) == '+' || peek(p) == '-')
            advance(p);
        if (!(peek(p) >= '0' && peek(p) <= '9')) {
            fail(p, "invalid number: digit expected in exponent");
            return NULL;
        }
        while (peek(p) >= '0' && peek(p) <= '9')
            advance(p);
    }
    char tmp[64];
    size_t n = p->pos - start;
    if (n >= sizeof tmp) {
        fail_at(p, line, col, "number too long");
        return NULL;
    }
    memcpy(tmp, p->s + start, n);
    tmp[n] = '\0';
    uj_value *v = new_value(p, UJ_NUMBER, line, col);
    if (v)
        v->number = strtod(tmp, NULL);
    return v;
}

static uj_value *parse_array(uj_parser *p, unsigned line, unsigned col, int depth)
{
    uj_value *v = new_value(p, UJ_ARRAY, line, col);
    size_t cap = 0;
    if (!v)
        return NULL;
    advance(p);
    skip_ws(p);
    if (peek(p) == ']') {
        advance(p);
        return v;
    }
    for (;;) {
        skip_ws(p);
        uj_value *item = parse_value(p, depth + 1);
        if (!item)
            goto fail;
        if (ua_grow((void **)&v->items, &cap, v->nitems + 1, sizeof *v->items)) {
            uj_free(item);
            fail_oom(p);
            goto fail;
        }
        v->items[v->nitems++] = item;
        skip_ws(p);
        if (peek(p) == ',') {
            advance(p);
            skip_ws(p);
            if (peek(p) == ']') {
                fail(p, "trailing comma before ']'");
                goto fail;
            }
            continue;
        }
        if (peek(p) == ']') {
            advance(p);
            return v;
        }
        fail(p, "expected ',' or ']' in array");
        goto fail;
    }
fail:
    uj_free(v);
    return NULL;
}

static uj_value *parse_object(uj_parser *p, unsigned line, unsigned col, int depth)
{
    uj_value *v = new_value(p, UJ_OBJECT, line, col);
    size_t cap = 0;
    if (!v)
        return NULL;
    advance(p);
    skip_ws(p);
    if (peek(p) == '}') {
        advance(p);
        return v;
    }
    for (;;) {
        skip_ws(p);
        if (peek(p) != '"') {
            fail(p, peek(p) == '}' ? "trailing comma before '}'" : "expected a string key");
            goto fail;
        }
        unsigned kl = p->line, kc = p->col;
        char *key = parse_string_raw(p);
        if (!key)
            goto fail;
        for (size_t i = 0; i < v->nmembers; i++)
            if (strcmp(v->members[i].key, key) == 0) {
                ua_free(key);
                fail_at(p, kl, kc, "duplicate key");
                goto fail;
            }
        skip_ws(p);
        if (peek(p) != ':') {
            ua_free(key);
            fail(p, "expected ':' after key");
            goto fail;
        }
        advance(p);
        skip_ws(p);
        uj_value *item = parse_value(p, depth + 1);
        if (!item) {
            ua_free(key);
            goto fail;
        }
        if (ua_grow((void **)&v->members, &cap, v->nmembers + 1, sizeof *v->members)) {
            ua_free(key);
            uj_free(item);
            fail_oom(p);
            goto fail;
        }
        v->members[v->nmembers++] = (uj_member){key, kl, kc, item};
        skip_ws(p);
        if (peek(p) == ',') {
            advance(p);
            continue;
        }
        if (peek(p) == '}') {
            advance(p);
            return v;
        }
        fail(p, "expected ',' or '}' in object");
        goto fail;
    }
fail:
    uj_free(v);
    return NULL;
}

static uj_value *parse_value(uj_parser *p, int depth)
{
    unsigned line = p->line, col = p->col;
    if (depth > UJ_MAX_DEPTH) {
        fail(p, "nesting too deep");
        return NULL;
    }
    int c = peek(p);
    uj_value *v;
    switch (c) {
    case '{':
        return parse_object(p, line, col, depth);
    case '[':
        return parse_array(p, line, col, depth);
    case '"': {
        char *s = parse_string_raw(p);
        if (!s)
            return NULL;
        v = new_value(p, UJ_STRING, line, col);
        if (!v) {
            ua_free(s);
            return NULL;
        }
        v->string = s;
        return v;
    }
    case 't':
    case 'f':
        if (expect_word(p, c == 't' ? "true" : "false") == 0) {
            v = new_value(p, UJ_BOOL, line, col);
            if (v)
                v->boolean = c == 't';
            return v;
        }
        break;
    case 'n':
        if (expect_word(p, "null") == 0)
            return new_value(p, UJ_NULL, line, col);
        break;
    case -1:
        fail(p, "unexpected end of input");
        return NULL;
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return parse_number(p, line, col);
        break;
    }
    fail(p, "unexpected character; expected a JSON value");
    return NULL;
}

uj_value *uj_parse(const char *s, size_t len, unsigned *eline, unsigned *ecol, char *emsg,
                   size_t emsg_cap, int *oom)
{
    uj_parser p = {s, len, 0, 1, 1, 0, 0, emsg, emsg_cap, 0, 0};
    *oom = 0;
    if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        p.pos = 3;
    if (memchr(s, '\0', len)) {
        size_t at = (size_t)((const char *)memchr(s, '\0', len) - s);
        ua_offset_to_linecol(s, len, at, &p.line, &p.col);
        fail(&p, "NUL byte: this is not a text file");
        *eline = p.eline;
        *ecol = p.ecol;
        return NULL;
    }
    skip_ws(&p);
    uj_value *v = parse_value(&p, 0);
    if (v) {
        skip_ws(&p);
        if (p.pos < p.len) {
            fail(&p, "unexpected text after the JSON value");
            uj_free(v);
            v = NULL;
        }
    }
    if (!v) {
        *eline = p.eline;
        *ecol = p.ecol;
        *oom = p.oom;
    }
    return v;
}

void uj_free(uj_value *v)
{
    if (!v)
        return;
    ua_free(v->string);
    for (size_t i = 0; i < v->nitems; i++)
        uj_free(v->items[i]);
    ua_free(v->items);
    for (size_t i = 0; i < v->nmembers; i++) {
        ua_free(v->members[i].key);
        uj_free(v->members[i].value);
    }
    ua_free(v->members);
    ua_free(v);
}

/* ---- compile_commands.json, vetted before libclang reads it ---- */

int ua_compile_db_check(const char *json, size_t len, unsigned *line, unsigned *col, char *msg,
                        size_t cap)
{
    int oom = 0;
    *line = *col = 1;
    uj_value *root = uj_parse(json, len, line, col, msg, cap, &oom);
    if (!root)
        return oom ? UA_ENOMEM : UA_ECONFIG;
    int rc = 0;
    const uj_value *bad = root;
    const char *why = NULL;
    char key[160] = "";
    unsigned kline = 0, kcol = 0;
    if (root->type != UJ_ARRAY) {
        why = "not a JSON array of compile commands";
        goto done;
    }
    /* what LLVM's JSONCompilationDatabase accepts: objects of strings with "directory", "file"
     * and "command" or "arguments" (a list of strings); "output" is optional; any other key is
     * an error there */
    for (size_t i = 0; i < root->nitems && !why; i++) {
        const uj_value *e = root->items[i];
        bad = e;
        if (e->type != UJ_OBJECT) {
            why = "an entry is not an object";
            break;
        }
        int dir = 0, file = 0, cmd = 0;
        for (size_t k = 0; k < e->nmembers && !why; k++) {
            const uj_member *m = &e->members[k];
            const uj_value *v = m->value;
            bad = v;
            if (strcmp(m->key, "arguments") == 0) {
                cmd = 1;
                if (v->type != UJ_ARRAY)
                    why = "\"arguments\" is not a list";
                for (size_t j = 0; !why && j < v->nitems; j++)
                    if (v->items[j]->type != UJ_STRING)
                        why = "\"arguments\" holds something other than strings";
                continue;
            }
            int known = strcmp(m->key, "directory") == 0 || strcmp(m->key, "file") == 0 ||
                        strcmp(m->key, "command") == 0 || strcmp(m->key, "output") == 0;
            if (!known) {
                snprintf(key, sizeof key, "unknown key '%.100s'", m->key);
                why = key;
                kline = m->line; /* the key, not its value */
                kcol = m->col;
            } else if (v->type != UJ_STRING) {
                why = "a value is not a string";
            }
            dir |= strcmp(m->key, "directory") == 0;
            file |= strcmp(m->key, "file") == 0;
            cmd |= strcmp(m->key, "command") == 0;
        }
        if (!why && (!dir || !file || !cmd)) {
            bad = e;
            why = !dir ? "an entry has no \"directory\"" : !file ? "an entry has no \"file\""
                                                                 : "an entry has no \"command\" "
                                                                   "or \"arguments\"";
        }
    }
done:
    if (why) {
        *line = kline ? kline : bad->line;
        *col = kline ? kcol : bad->col;
        snprintf(msg, cap, "%s", why);
        rc = UA_ECONFIG;
    }
    uj_free(root);
    return rc;
}
