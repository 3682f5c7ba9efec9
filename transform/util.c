/* util.c - buffers, strings and findings shared by the transformer's files. */
#include "ua_int.h"

#include <stdarg.h>
#include <stdio.h>

const char *ua_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
#define UA_ERR_CASE(name, value, text)                                                             \
    case value:                                                                                    \
        return text;
        UA_ERRNO_MAP(UA_ERR_CASE)
#undef UA_ERR_CASE
    }
    return "unknown error";
}

int ua_grow(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 8;
    while (n < need)
        n *= 2;
    void *p = ua_realloc(*v, n * elem);
    if (!p)
        return UA_ENOMEM;
    *v = p;
    *cap = n;
    return 0;
}

void ua_buf_add(ua_buf *b, const void *data, size_t len)
{
    if (b->oom)
        return;
    if (b->len + len + 1 > b->cap) {
        size_t n = b->cap ? b->cap : 256;
        while (n < b->len + len + 1)
            n *= 2;
        char *p = ua_realloc(b->p, n);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = n;
    }
    if (len)
        memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
}

void ua_buf_adds(ua_buf *b, const char *s)
{
    ua_buf_add(b, s, strlen(s));
}

void ua_buf_addf(ua_buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        ua_buf_add(b, small, (size_t)n);
        return;
    }
    char *big = ua_malloc((size_t)n + 1);
    if (!big) {
        b->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    ua_buf_add(b, big, (size_t)n);
    ua_free(big);
}

char *ua_buf_detach(ua_buf *b, size_t *len)
{
    if (!b->oom)
        ua_buf_add(b, "", 0);
    if (b->oom) {
        ua_buf_free(b);
        return NULL;
    }
    char *p = b->p;
    if (len)
        *len = b->len;
    memset(b, 0, sizeof *b);
    return p;
}

void ua_buf_free(ua_buf *b)
{
    ua_free(b->p);
    memset(b, 0, sizeof *b);
}

/* Length of the valid UTF-8 sequence at s (max n bytes), or 0 when invalid. */
size_t ua_utf8_len(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return 1;
    size_t need;
    unsigned cp;
    if ((s[0] & 0xE0) == 0xC0) {
        need = 2;
        cp = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        need = 3;
        cp = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        need = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (need > n)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((need == 2 && cp < 0x80) || (need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return need;
}

int ua_is_ident(const char *s, size_t n)
{
    if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9')))
            return 0;
    }
    return 1;
}

static int findings_vadd(ua_findings *fs, const char *file, unsigned line, unsigned col,
                         unsigned end_line, unsigned end_col, ua_severity sev, const char *code,
                         const char *fmt, va_list ap)
{
    if (ua_grow((void **)&fs->v, &fs->cap, fs->n + 1, sizeof *fs->v))
        return UA_ENOMEM;
    ua_finding *f = &fs->v[fs->n];
    memset(f, 0, sizeof *f);
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    f->file = ua_strdup(file ? file : "");
    f->message = ua_strdup(msg);
    if (!f->file || !f->message) {
        ua_free(f->file);
        ua_free(f->message);
        return UA_ENOMEM;
    }
    f->line = line ? line : 1;
    f->col = col ? col : 1;
    f->end_line = end_line ? end_line : f->line;
    f->end_col = end_col ? end_col : f->col + 1;
    f->severity = sev;
    snprintf(f->code, sizeof f->code, "%s", code);
    fs->n++;
    return 0;
}

int ua_findings_add(ua_findings *fs, const char *file, unsigned line, unsigned col,
                    ua_severity sev, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = findings_vadd(fs, file, line, col, 0, 0, sev, code, fmt, ap);
    va_end(ap);
    return rc;
}

int ua_findings_addr(ua_findings *fs, const char *file, unsigned line, unsigned col,
                     unsigned end_line, unsigned end_col, ua_severity sev, const char *code,
                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = findings_vadd(fs, file, line, col, end_line, end_col, sev, code, fmt, ap);
    va_end(ap);
    return rc;
}

int ua_findings_copy(ua_findings *fs, const ua_finding *f)
{
    int rc = ua_findings_addr(fs, f->file, f->line, f->col, f->end_line, f->end_col, f->severity,
                              f->code, "%s", f->message);
    if (rc == 0 && f->related_file) {
        ua_finding *c = &fs->v[fs->n - 1];
        if (!(c->related_file = ua_strdup(f->related_file))) {
            ua_findings_truncate(fs, fs->n - 1);
            return UA_ENOMEM;
        }
        c->related_line = f->related_line;
        c->related_col = f->related_col;
    }
    return rc;
}

void ua_findings_truncate(ua_findings *fs, size_t n)
{
    while (fs->n > n) {
        ua_finding *f = &fs->v[--fs->n];
        ua_free(f->file);
        ua_free(f->message);
        ua_free(f->related_file);
    }
}

int ua_findings_take(ua_findings *to, ua_findings *from)
{
    if (from->n == 0)
        return 0;
    if (ua_grow((void **)&to->v, &to->cap, to->n + from->n, sizeof *to->v))
        return UA_ENOMEM;
    memcpy(to->v + to->n, from->v, from->n * sizeof *from->v);
    to->n += from->n;
    ua_free(from->v);
    memset(from, 0, sizeof *from);
    return 0;
}

static int finding_cmp(const void *pa, const void *pb)
{
    const ua_finding *a = pa, *b = pb;
    int c = strcmp(a->file, b->file);
    if (c)
        return c;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->col != b->col)
        return a->col < b->col ? -1 : 1;
    c = strcmp(a->code, b->code);
    if (c)
        return c;
    return strcmp(a->message, b->message);
}

void ua_findings_sort(ua_findings *fs)
{
    if (fs->n > 1)
        qsort(fs->v, fs->n, sizeof *fs->v, finding_cmp);
}

size_t ua_findings_count(const ua_findings *fs, ua_severity sev)
{
    size_t n = 0;
    for (size_t i = 0; i < fs->n; i++)
        n += fs->v[i].severity == sev;
    return n;
}

void ua_findings_free(ua_findings *fs)
{
    if (!fs)
        return;
    for (size_t i = 0; i < fs->n; i++) {
        ua_free(fs->v[i].file);
        ua_free(fs->v[i].message);
        ua_free(fs->v[i].related_file);
    }
    ua_free(fs->v);
    memset(fs, 0, sizeof *fs);
}

void ua_offset_to_linecol(const char *buf, size_t len, size_t off, unsigned *line, unsigned *col)
{
    unsigned l = 1;
    size_t ls = 0;
    if (off > len)
        off = len;
    for (size_t i = 0; i < off; i++)
        if (buf[i] == '\n') {
            l++;
            ls = i + 1;
        }
    *line = l;
    *col = (unsigned)(off - ls) + 1;
}

size_t ua_line_offset(const char *buf, size_t len, unsigned line)
{
    unsigned l = 1;
    if (line <= 1)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (buf[i] == '\n' && ++l == line)
            return i + 1;
    return len;
}
