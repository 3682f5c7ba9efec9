/* Text buffers of open documents: positions <-> byte offsets (utf-8 or exact utf-16),
 * clamping, and replacing a span. */
#include <stdlib.h>
#include <string.h>

#include "ws.h"

/* Length in bytes of the UTF-8 sequence starting at s (at most n bytes available), and its
 * code point in *cp. Invalid or truncated sequences count as one byte (U+FFFD). */
static size_t srv__utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t len, i;
    uint32_t c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xE0) == 0xC0) {
        len = 2;
        c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4;
        c &= 0x07;
    } else {
        *cp = 0xFFFD;
        return 1;
    }
    if (len > n) {
        *cp = 0xFFFD;
        return 1;
    }
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    *cp = c;
    return len;
}

/* Bounds of 0-based line `line` in text: [*start, *end) excludes the line break. A line past
 * the last one yields the end of the text. */
static void srv__line_bounds(const char *text, size_t len, int64_t line, size_t *start, size_t *end)
{
    size_t off = 0;
    int64_t l = 0;
    while (l < line) {
        const char *nl = memchr(text + off, '\n', len - off);
        if (nl == NULL) {
            *start = *end = len;
            return;
        }
        off = (size_t)(nl - text) + 1;
        l++;
    }
    *start = off;
    {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t e = nl ? (size_t)(nl - text) : len;
        if (e > off && text[e - 1] == '\r')
            e--;
        *end = e;
    }
}

size_t srv_text_offset(const char *text, size_t len, ws_pos pos, bool utf8)
{
    size_t start, end, off;
    int64_t units = 0;
    srv__line_bounds(text, len, pos.line, &start, &end);
    if (utf8) {
        off = start + (size_t)pos.character;
        if (pos.character > (int64_t)(end - start))
            return end;
        /* never split a UTF-8 sequence: back up to its lead byte */
        while (off > start && ((unsigned char)text[off] & 0xC0) == 0x80)
            off--;
        return off;
    }
    off = start;
    while (off < end && units < pos.character) {
        uint32_t cp;
        size_t n = srv__utf8_decode((const unsigned char *)text + off, end - off, &cp);
        int w = cp >= 0x10000 ? 2 : 1;
        if (units + w > pos.character)
            break; /* the position falls inside a surrogate pair: clamp to its start */
        units += w;
        off += n;
    }
    return off;
}

ws_pos srv_text_position(const char *text, size_t len, size_t off, bool utf8)
{
    ws_pos p = {0, 0};
    size_t line_start = 0, i;
    if (off > len)
        off = len;
    for (i = 0; i < off; i++)
        if (text[i] == '\n') {
            p.line++;
            line_start = i + 1;
        }
    if (utf8) {
        p.character = (int64_t)(off - line_start);
        return p;
    }
    for (i = line_start; i < off;) {
        uint32_t cp;
        size_t n = srv__utf8_decode((const unsigned char *)text + i, off - i, &cp);
        p.character += cp >= 0x10000 ? 2 : 1;
        i += n;
    }
    return p;
}

int srv_text_replace(char **text, size_t *len, size_t *cap, size_t start, size_t end,
                     const char *ins, size_t ins_len)
{
    size_t new_len;
    if (start > *len)
        start = *len;
    if (end > *len)
        end = *len;
    if (end < start)
        end = start;
    new_len = *len - (end - start) + ins_len;
    if (new_len + 1 > *cap) {
        size_t c = *cap ? *cap : 64;
        char *nt;
        while (c < new_len + 1)
            c *= 2;
        nt = srv_realloc(*text, c);
        if (nt == NULL)
            return SRV_ENOMEM;
        *text = nt;
        *cap = c;
    }
    memmove(*text + start + ins_len, *text + end, *len - end);
    memcpy(*text + start, ins, ins_len);
    *len = new_len;
    (*text)[new_len] = '\0';
    return 0;
}
