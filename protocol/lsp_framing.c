/* Incremental Content-Length framing: bytes in any chunking in, complete message bodies out. */
#include <ctype.h>
#include <string.h>

#include "lsp_internal.h"

static const char lsp__cl_name[] = "content-length";
#define LSP_CL_NAME_LEN (sizeof lsp__cl_name - 1)

void lsp_framer_init(lsp_framer_t *f, size_t max_body)
{
    memset(f, 0, sizeof *f);
    f->max_body = max_body ? max_body : LSP_DEFAULT_MAX_BODY;
}

void lsp_framer_free(lsp_framer_t *f)
{
    if (f == NULL)
        return;
    lsp__free(f->buf);
    f->buf = NULL;
    f->len = f->cap = f->start = 0;
}

int lsp_framer_reserve(lsp_framer_t *f, size_t cap)
{
    if (cap <= f->cap)
        return 0;
    char *nb = lsp__realloc(f->buf, cap);
    if (nb == NULL)
        return LSP_ENOMEM;
    f->buf = nb;
    f->cap = cap;
    return 0;
}

int lsp_framer_feed(lsp_framer_t *f, const void *data, size_t n)
{
    size_t live = f->len - f->start;
    if (n == 0)
        return 0;
    if (f->start > 0) { /* compact: earlier bodies were handed out before this call */
        memmove(f->buf, f->buf + f->start, live);
        f->len = live;
        f->start = 0;
    }
    if (f->len + n > f->cap) {
        size_t cap = f->cap ? f->cap : 4096;
        char *nb;
        while (cap < f->len + n)
            cap *= 2;
        nb = lsp__realloc(f->buf, cap);
        if (nb == NULL)
            return LSP_ENOMEM;
        f->buf = nb;
        f->cap = cap;
    }
    memcpy(f->buf + f->len, data, n);
    f->len += n;
    return 0;
}

/* Case-insensitive search for "content-length" in [p, p+n). */
static const char *lsp__find_cl(const char *p, size_t n)
{
    size_t i, j;
    for (i = 0; i + LSP_CL_NAME_LEN <= n; i++) {
        for (j = 0; j < LSP_CL_NAME_LEN; j++)
            if (tolower((unsigned char)p[i + j]) != lsp__cl_name[j])
                break;
        if (j == LSP_CL_NAME_LEN)
            return p + i;
    }
    return NULL;
}

/* Parses a decimal Content-Length value (surrounding blanks allowed). */
static int lsp__parse_length(const char *v, size_t n, size_t *out)
{
    size_t i = 0, val = 0;
    bool digits = false;
    while (i < n && (v[i] == ' ' || v[i] == '\t'))
        i++;
    while (i < n && v[i] >= '0' && v[i] <= '9') {
        size_t d = (size_t)(v[i] - '0');
        if (val > (SIZE_MAX - d) / 10)
            return LSP_EBADHEADER;
        val = val * 10 + d;
        digits = true;
        i++;
    }
    while (i < n && (v[i] == ' ' || v[i] == '\t'))
        i++;
    if (!digits || i != n)
        return LSP_EBADHEADER;
    *out = val;
    return 0;
}

/* Tries to parse the header block at the start of p. Returns 0 with the consumed size and body
 * length set, LSP_EAGAIN when the block is incomplete, LSP_EBADHEADER when it is malformed. */
static int lsp__parse_header(const char *p, size_t n, size_t *consumed, size_t *body_len)
{
    size_t pos = 0, length = 0;
    bool have_length = false;
    while (pos < n) {
        const char *nl = memchr(p + pos, '\n', n - pos);
        size_t line_len, name_len;
        const char *line = p + pos, *colon;
        if (nl == NULL)
            return n > LSP_MAX_HEADER_BYTES ? LSP_EBADHEADER : LSP_EAGAIN;
        line_len = (size_t)(nl - line);
        pos += line_len + 1;
        if (pos > LSP_MAX_HEADER_BYTES)
            return LSP_EBADHEADER;
        if (line_len > 0 && line[line_len - 1] == '\r')
            line_len--;
        if (line_len == 0) {
            if (!have_length)
                return LSP_EBADHEADER;
            *consumed = pos;
            *body_len = length;
            return 0;
        }
        colon = memchr(line, ':', line_len);
        if (colon == NULL)
            return LSP_EBADHEADER;
        name_len = (size_t)(colon - line);
        if (name_len == LSP_CL_NAME_LEN && lsp__find_cl(line, name_len) == line) {
            size_t v;
            if (lsp__parse_length(colon + 1, line_len - name_len - 1, &v) != 0)
                return LSP_EBADHEADER;
            if (have_length && v != length)
                return LSP_EBADHEADER;
            length = v;
            have_length = true;
        }
        /* Content-Type and any other header: ignored. */
    }
    return n > LSP_MAX_HEADER_BYTES ? LSP_EBADHEADER : LSP_EAGAIN;
}

int lsp_framer_next(lsp_framer_t *f, const char **body, size_t *len)
{
    if (f->buf == NULL)
        return LSP_EAGAIN;
    for (;;) {
        size_t avail = f->len - f->start;
        const char *p = f->buf + f->start;
        if (f->resync) {
            const char *cl = avail ? lsp__find_cl(p, avail) : NULL;
            if (cl == NULL) {
                /* keep a tail that may be the start of a split header name */
                if (avail > LSP_CL_NAME_LEN)
                    f->start += avail - LSP_CL_NAME_LEN;
                return LSP_EAGAIN;
            }
            f->start += (size_t)(cl - p);
            f->resync = false;
            continue;
        }
        if (f->have_header) {
            if (avail < f->body_len)
                return LSP_EAGAIN;
            *body = p;
            *len = f->body_len;
            f->start += f->body_len;
            f->have_header = false;
            return 0;
        }
        if (avail == 0)
            return LSP_EAGAIN;
        {
            size_t consumed = 0, blen = 0;
            int rc = lsp__parse_header(p, avail, &consumed, &blen);
            if (rc == LSP_EAGAIN)
                return rc;
            if (rc == LSP_EBADHEADER) {
                /* skip at least one byte so resync cannot find the same header again */
                f->start += 1;
                f->resync = true;
                return rc;
            }
            f->start += consumed;
            if (blen > f->max_body) {
                /* Not "skip blen bytes": a length no client will ever send (99999999999) would
                 * leave the server deaf for the session. The oversized body is discarded as
                 * any garbage is, up to the next "Content-Length" header. */
                f->resync = true;
                return LSP_ETOOBIG;
            }
            f->body_len = blen;
            f->have_header = true;
        }
    }
}
