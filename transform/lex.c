/* lex.c - a C lexer that needs no translation unit. It reports exactly the tokens, kinds and
 * byte extents that clang_tokenize reports for a C file parsed as -std=gnu17 (libclang 14's raw
 * lexer with comments kept): no header names, no trigraphs, digraphs on, '$' in identifiers,
 * C11 identifier characters, line splices anywhere, unterminated literals as one punctuation
 * token up to the end of the line, an unterminated block comment as no token at all.
 * tests/transform/lexdiff.c checks this against clang_tokenize itself.
 *
 * It is iterative and linear: every byte is looked at a bounded number of times, and lexing can
 * start at any token boundary (the raw lexer keeps no state between tokens), which is what the
 * server's incremental re-lex relies on. */
#include "ua_int.h"

#include <stdint.h>

typedef struct lx {
    const unsigned char *s;
    size_t n;
} lx;

static inline unsigned at(const lx *L, size_t p)
{
    return p < L->n ? L->s[p] : 0;
}

/* Byte classes for the hot loops, one load instead of a chain of compares: 1 continues an
 * identifier (ASCII letter, digit, '_'), 2 is white space, 4 is white space or NUL (skipped
 * between tokens). */
static const unsigned char byte_class[256] = {
    4, 0, 0, 0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static inline int is_ws(unsigned c)
{
    return c < 256 && (byte_class[c] & 2);
}

static inline int is_hws(unsigned c)
{
    return c == ' ' || c == '\t' || c == '\f' || c == '\v';
}

static inline int is_ident_body(unsigned c)
{
    return c < 256 && (byte_class[c] & 1);
}

static inline int is_ppnum_body(unsigned c)
{
    return is_ident_body(c) || c == '.';
}

/* Bytes of the escaped newline that starts at p (just after a backslash): horizontal white
 * space, then \n, \r, \r\n or \n\r. 0 when there is none. */
static size_t esc_nl(const lx *L, size_t p)
{
    size_t k = 0;
    while (is_ws(at(L, p + k))) {
        unsigned c = at(L, p + k);
        k++;
        if (c != '\n' && c != '\r')
            continue;
        unsigned d = at(L, p + k);
        if ((d == '\n' || d == '\r') && d != c)
            k++;
        return k;
    }
    return 0;
}

static unsigned trigraph(unsigned c)
{
    switch (c) {
    case '=': return '#';
    case '(': return '[';
    case '/': return '\\';
    case ')': return ']';
    case '\'': return '^';
    case '<': return '{';
    case '!': return '|';
    case '>': return '}';
    case '-': return '~';
    default: return 0;
    }
}

/* The character at p after line splices (and trigraphs when `tri`); *next follows it. */
static unsigned char_slow(const lx *L, size_t p, int tri, size_t *next)
{
    for (;;) {
        unsigned c = at(L, p);
        if (tri && c == '?' && at(L, p + 1) == '?' && trigraph(at(L, p + 2))) {
            c = trigraph(at(L, p + 2));
            p += 2; /* a ??/ goes on as a backslash below */
        }
        if (c != '\\') {
            *next = p + 1;
            return c;
        }
        size_t e = esc_nl(L, p + 1);
        if (!e) {
            *next = p + 1;
            return '\\';
        }
        p += 1 + e;
    }
}

/* The character at p once line splices are removed; *next is where the following one starts.
 * Past the end it is 0 with *next = n + 1 (clang's NUL sentinel). */
static inline unsigned getc_(const lx *L, size_t p, size_t *next)
{
    if (p < L->n && L->s[p] != '\\') {
        *next = p + 1;
        return L->s[p];
    }
    return char_slow(L, p, 0, next);
}

/* clang peeks at the next character in two ways. getAndAdvanceChar (getc_ above) knows that
 * trigraphs are off in gnu17; getCharAndSize, with which it looks ahead at the character after
 * a token's first, decodes trigraphs whatever the language, and ConsumeChar then steps over what
 * it saw only by re-reading it the first way. So "<??/" "\n<" is the token "<?": the look-ahead
 * saw '<' after a trigraph splice, the step took one '?'. peek() and consume() are those two. */
static inline unsigned peek(const lx *L, size_t p, size_t *size)
{
    if (p < L->n && L->s[p] != '\\' && L->s[p] != '?') {
        *size = 1;
        return L->s[p];
    }
    size_t q;
    unsigned c = char_slow(L, p, 1, &q);
    *size = q - p;
    return c;
}

static inline size_t consume(const lx *L, size_t p, size_t size)
{
    size_t q;
    if (size == 1)
        return p + 1;
    getc_(L, p, &q);
    return q;
}

/* ---- identifier characters (C11 Annex D) ---- */

static const uint32_t c11_allowed[][2] = {
    {0x00A8, 0x00A8},   {0x00AA, 0x00AA},   {0x00AD, 0x00AD},   {0x00AF, 0x00AF},
    {0x00B2, 0x00B5},   {0x00B7, 0x00BA},   {0x00BC, 0x00BE},   {0x00C0, 0x00D6},
    {0x00D8, 0x00F6},   {0x00F8, 0x00FF},   {0x0100, 0x167F},   {0x1681, 0x180D},
    {0x180F, 0x1FFF},   {0x200B, 0x200D},   {0x202A, 0x202E},   {0x203F, 0x2040},
    {0x2054, 0x2054},   {0x2060, 0x206F},   {0x2070, 0x218F},   {0x2460, 0x24FF},
    {0x2776, 0x2793},   {0x2C00, 0x2DFF},   {0x2E80, 0x2FFF},   {0x3004, 0x3007},
    {0x3021, 0x302F},   {0x3031, 0x303F},   {0x3040, 0xD7FF},   {0xF900, 0xFD3D},
    {0xFD40, 0xFDCF},   {0xFDF0, 0xFE44},   {0xFE47, 0xFFFD},   {0x10000, 0x1FFFD},
    {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD}, {0x40000, 0x4FFFD}, {0x50000, 0x5FFFD},
    {0x60000, 0x6FFFD}, {0x70000, 0x7FFFD}, {0x80000, 0x8FFFD}, {0x90000, 0x9FFFD},
    {0xA0000, 0xAFFFD}, {0xB0000, 0xBFFFD}, {0xC0000, 0xCFFFD}, {0xD0000, 0xDFFFD},
    {0xE0000, 0xEFFFD},
};

static const uint32_t c11_not_initial[][2] = {
    {0x0300, 0x036F}, {0x1DC0, 0x1DFF}, {0x20D0, 0x20FF}, {0xFE20, 0xFE2F}};

static int in_ranges(const uint32_t (*r)[2], size_t n, uint32_t c)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < r[mid][0])
            hi = mid;
        else if (c > r[mid][1])
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

static int id_char(uint32_t c)
{
    return c == '$' || in_ranges(c11_allowed, sizeof c11_allowed / sizeof *c11_allowed, c);
}

static int id_initial(uint32_t c)
{
    return id_char(c) &&
           !in_ranges(c11_not_initial, sizeof c11_not_initial / sizeof *c11_not_initial, c);
}

static int hexval(unsigned c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return (int)(c - 'A' + 10);
    return -1;
}

/* A universal character name whose 'u' or 'U' is at p (the backslash just before), splices
 * allowed between its characters. When its hex digits are all there, *end is set after them;
 * the result is its code point, or 0 when C accepts none there (below U+00A0 other than $ @ `,
 * a surrogate) or the digits are missing. */
static uint32_t read_ucn(const lx *L, size_t p, size_t *end)
{
    size_t sz;
    unsigned k = peek(L, p, &sz);
    int nd = k == 'u' ? 4 : k == 'U' ? 8 : 0;
    if (!nd)
        return 0;
    p += sz;
    uint32_t cp = 0;
    for (int i = 0; i < nd; i++) {
        int v = hexval(peek(L, p, &sz));
        if (v < 0)
            return 0;
        cp = (cp << 4) | (uint32_t)v;
        p += sz;
    }
    *end = p;
    if (cp < 0xA0)
        return cp == 0x24 || cp == 0x40 || cp == 0x60 ? cp : 0;
    if (cp >= 0xD800 && cp <= 0xDFFF)
        return 0;
    return cp;
}

/* The UTF-8 sequence at raw offset p: its code point and length, or 0 when it is invalid. */
static size_t read_utf8(const lx *L, size_t p, uint32_t *cp)
{
    size_t k = ua_utf8_len(L->s + p, L->n - p);
    if (!k)
        return 0;
    const unsigned char *s = L->s + p;
    if (k == 1)
        *cp = s[0];
    else if (k == 2)
        *cp = (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
    else if (k == 3)
        *cp = (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
    else
        *cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
              (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
    return k;
}

/* Unicode white space as clang 14 lists it: never part of an identifier. */
static int unicode_space(uint32_t c)
{
    return c == 0x85 || c == 0xA0 || c == 0x1680 || c == 0x180E || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Whether an identifier (or pp-number) goes on with code point c: clang 14 accepts there, for
 * recovery, every non-ASCII character that is not white space, allowed in C11 or not. */
static int continues_ident(uint32_t c)
{
    return id_char(c) || (c >= 0x80 && !unicode_space(c));
}

/* An identifier goes on with a UCN whose backslash-character ends at q, or with a UTF-8
 * character at raw offset p (clang reads it there, before any splice). */
static int ident_ucn(const lx *L, size_t q, size_t *end)
{
    uint32_t cp = read_ucn(L, q, end);
    return cp && continues_ident(cp);
}

static int ident_utf8(const lx *L, size_t p, size_t *end)
{
    uint32_t cp;
    size_t k = p < L->n ? read_utf8(L, p, &cp) : 0;
    if (!k || cp < 0x80 || !continues_ident(cp))
        return 0;
    *end = p + k;
    return 1;
}

/* ---- token bodies: each takes the offset after what was matched and returns the end ---- */

/* An identifier or pp-number goes on at p with character c (seen by peek, sz bytes) when it
 * is a UCN or a UTF-8 character that may continue one: *end is then after it. */
static int ident_more(const lx *L, size_t p, unsigned c, size_t sz, size_t *end)
{
    return (c == '\\' && ident_ucn(L, p + sz, end)) || (c >= 0x80 && ident_utf8(L, p, end));
}

static size_t lex_ident(const lx *L, size_t p)
{
    for (;;) {
        while (p < L->n && is_ident_body(L->s[p]))
            p++;
        size_t sz, e;
        unsigned c = peek(L, p, &sz);
        if (c == '$' || is_ident_body(c))
            p = consume(L, p, sz);
        else if (ident_more(L, p, c, sz, &e))
            p = e;
        else
            return p;
    }
}

static size_t lex_number(const lx *L, size_t p)
{
    for (;;) {
        unsigned prev = 0;
        size_t sz, e;
        unsigned c = peek(L, p, &sz);
        while (is_ppnum_body(c)) {
            p = consume(L, p, sz);
            prev = c;
            c = peek(L, p, &sz);
        }
        if ((c == '-' || c == '+') &&
            (prev == 'e' || prev == 'E' || prev == 'p' || prev == 'P'))
            p = consume(L, p, sz);
        else if (ident_more(L, p, c, sz, &e))
            p = e;
        else
            return p;
    }
}

/* A string or character literal after its opening quote. Returns the end; *bad is set when
 * it is unterminated (the token then stops before the end of the line). */
static size_t lex_quoted(const lx *L, size_t p, unsigned quote, int *bad)
{
    size_t q;
    if (quote == '\'' && getc_(L, p, &q) == '\'') { /* '' is no character constant */
        *bad = 1;
        return q;
    }
    for (;;) {
        /* plain bytes first */
        while (p < L->n) {
            unsigned b = L->s[p];
            if (b == quote || b == '\\' || b == '\n' || b == '\r')
                break;
            p++;
        }
        unsigned c = getc_(L, p, &q);
        p = q;
        if (c == quote)
            return p;
        if (c == '\\') {
            c = getc_(L, p, &q);
            p = q;
        }
        if (c == '\n' || c == '\r' || (c == 0 && p - 1 >= L->n)) {
            *bad = 1;
            return p - 1;
        }
    }
}

/* A // comment after its second slash: it ends before the first newline no splice joins. */
static size_t lex_line_comment(const lx *L, size_t p)
{
    for (;;) {
        while (p < L->n && L->s[p] != '\n' && L->s[p] != '\r')
            p++;
        if (p >= L->n)
            return L->n;
        size_t e = p - 1;
        while (is_hws(L->s[e]))
            e--;
        if (L->s[e] != '\\')
            return p;
        size_t q;
        unsigned c = getc_(L, e, &q);
        if (c == '\n' || c == '\r' || q == L->n + 1)
            return q - 1;
        p = q;
    }
}

/* Whether the newline at p, just before a '/', is the end of a backslash-newline chain that
 * follows a '*', so that after splicing the comment ends there. */
static int star_splice_slash(const lx *L, size_t p, size_t floor)
{
    const unsigned char *s = L->s;
    for (;;) {
        if (p <= floor)
            return 0;
        p--;
        if (s[p] == '\n' || s[p] == '\r') {
            if (s[p] == s[p + 1])
                return 0;
            if (p <= floor)
                return 0;
            p--;
        }
        while (p > floor && (is_hws(s[p]) || s[p] == 0))
            p--;
        if (s[p] != '\\' || p <= floor)
            return 0; /* a ??/ trigraph would be one, but trigraphs are off */
        p--;
        if (s[p] == '*')
            return 1;
        if (s[p] != '\n' && s[p] != '\r')
            return 0;
    }
}

/* A block comment after its opening; returns its end, or (size_t)-1 when it never ends. */
static size_t lex_block_comment(const lx *L, size_t p, size_t start)
{
    size_t sz;
    unsigned c = peek(L, p, &sz);
    p += sz;
    if (c == 0 && p == L->n + 1)
        return (size_t)-1;
    if (c == '/') { /* a slash right after the opening does not end it */
        c = at(L, p);
        p++;
    }
    for (;;) {
        if (c != '/') {
            if (p >= L->n)
                return (size_t)-1;
            const unsigned char *sl = memchr(L->s + p, '/', L->n - p);
            if (!sl)
                return (size_t)-1;
            p = (size_t)(sl - L->s) + 1;
        }
        /* s[p - 1] is a '/' */
        unsigned b = L->s[p - 2];
        if (b == '*')
            return p;
        if ((b == '\n' || b == '\r') && star_splice_slash(L, p - 2, start + 1))
            return p;
        c = at(L, p);
        p++;
    }
}

/* ---- keywords of C (gnu17) as libclang 14 reports them: FNV-1a, open addressing ---- */

static const char *const keywords[512] = {
    [0] = "__builtin_bit_cast",
    [1] = "enum",
    [6] = "if",
    [16] = "__inline__",
    [20] = "do",
    [21] = "signed",
    [25] = "__alignof",
    [27] = "_Alignas",
    [32] = "struct",
    [36] = "typedef",
    [43] = "__thread",
    [50] = "_Alignof",
    [52] = "inline",
    [59] = "static",
    [68] = "continue",
    [69] = "_Accum",
    [81] = "__complex",
    [88] = "__stdcall",
    [94] = "int",
    [95] = "void",
    [105] = "__module_private__",
    [111] = "__signed",
    [121] = "__volatile__",
    [122] = "_Fract",
    [135] = "__func__",
    [140] = "__builtin_choose_expr",
    [148] = "__ibm128",
    [150] = "__fp16",
    [155] = "_Float16",
    [156] = "__cdecl",
    [157] = "__builtin_LINE",
    [159] = "__builtin_FUNCTION",
    [160] = "asm",
    [161] = "typeof",
    [162] = "_Bool",
    [177] = "case",
    [180] = "__const__",
    [183] = "_Atomic",
    [186] = "__extension__",
    [187] = "__pascal",
    [192] = "__builtin_types_compatible_p",
    [198] = "__asm",
    [202] = "_BitInt",
    [206] = "while",
    [221] = "__signed__",
    [229] = "restrict",
    [232] = "_Nonnull",
    [237] = "__imag",
    [238] = "__const",
    [241] = "__builtin_convertvector",
    [244] = "union",
    [253] = "sizeof",
    [255] = "__real",
    [263] = "_Imaginary",
    [264] = "double",
    [269] = "__auto_type",
    [273] = "__fastcall",
    [274] = "_Sat",
    [276] = "__typeof__",
    [281] = "__objc_no",
    [283] = "_Nullable",
    [285] = "char",
    [287] = "_Decimal64",
    [292] = "__bf16",
    [294] = "unsigned",
    [303] = "_Generic",
    [309] = "__objc_yes",
    [327] = "__attribute__",
    [328] = "_Decimal32",
    [329] = "__attribute",
    [331] = "__imag__",
    [337] = "__builtin_FILE",
    [339] = "long",
    [345] = "__label__",
    [350] = "_Complex",
    [355] = "__private_extern__",
    [363] = "__builtin_omp_required_simd_align",
    [365] = "volatile",
    [369] = "__FUNCTION__",
    [370] = "switch",
    [374] = "_ExtInt",
    [376] = "break",
    [384] = "__vectorcall",
    [389] = "float",
    [399] = "_Null_unspecified",
    [400] = "for",
    [401] = "__builtin_va_arg",
    [403] = "__restrict",
    [406] = "auto",
    [407] = "__alignof__",
    [417] = "__restrict__",
    [423] = "_Noreturn",
    [427] = "__thiscall",
    [428] = "__volatile",
    [429] = "__builtin_COLUMN",
    [430] = "__builtin_available",
    [431] = "__real__",
    [437] = "_Nullable_result",
    [439] = "extern",
    [440] = "__float128",
    [446] = "_Thread_local",
    [447] = "return",
    [448] = "register",
    [460] = "__asm__",
    [462] = "_Decimal128",
    [463] = "__complex__",
    [464] = "__typeof",
    [468] = "const",
    [469] = "short",
    [478] = "default",
    [486] = "goto",
    [490] = "__inline",
    [495] = "_Static_assert",
    [496] = "else",
    [501] = "__builtin_offsetof",
    [502] = "__PRETTY_FUNCTION__",
    [503] = "__int128",
    [511] = "__regcall",
};

/* Bit n of kw_len[c]: a keyword of n bytes starts with c. Built from `keywords` on first use
 * (threads that race build the same bits; relaxed atomics keep that defined), it rejects most
 * names before any hashing: "rc", "conn_t", "retries" share no length with c's or r's keywords. */
static uint64_t kw_len[128];
static int kw_len_ready;

static void kw_len_build(void)
{
    uint64_t t[128] = {0};
    for (size_t i = 0; i < sizeof keywords / sizeof *keywords; i++)
        if (keywords[i])
            t[(unsigned char)keywords[i][0] & 127] |= (uint64_t)1 << strlen(keywords[i]);
    for (size_t c = 0; c < 128; c++)
        __atomic_store_n(&kw_len[c], t[c], __ATOMIC_RELAXED);
    __atomic_store_n(&kw_len_ready, 1, __ATOMIC_RELEASE);
}

static int is_keyword(const char *s, size_t n)
{
    if (n < 2 || n > 40)
        return 0;
    if (!__atomic_load_n(&kw_len_ready, __ATOMIC_ACQUIRE))
        kw_len_build();
    unsigned char c0 = (unsigned char)s[0];
    if (c0 >= 128 || !(__atomic_load_n(&kw_len[c0], __ATOMIC_RELAXED) >> n & 1))
        return 0;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    for (size_t i = h & 511;; i = (i + 1) & 511) {
        const char *k = keywords[i];
        if (!k)
            return 0;
        if (k[0] == s[0] && strncmp(k, s, n) == 0 && k[n] == '\0') /* most probes differ at once */
            return 1;
    }
}

static int ident_kind(const lx *L, size_t off, size_t len)
{
    const char *s = (const char *)L->s + off;
    if (len > 120)
        return UA_TK_IDENT;
    size_t i = 0;
    while (i < len && s[i] != '\\') /* names are short: a loop, not a call to memchr */
        i++;
    if (i == len)
        return is_keyword(s, len) ? UA_TK_KEYWORD : UA_TK_IDENT;
    char buf[128];
    ua_token t = {off, len, UA_TK_IDENT};
    size_t n = ua_lex_spelling((const char *)L->s, L->n, &t, buf, sizeof buf);
    for (i = 0; i < n; i++)
        if ((unsigned char)buf[i] >= 0x80)
            return UA_TK_IDENT;
    return is_keyword(buf, n) ? UA_TK_KEYWORD : UA_TK_IDENT;
}

/* ---- the token ---- */

int ua_lex_next(const char *src, size_t len, size_t *pos, ua_token *t)
{
    lx Lv = {(const unsigned char *)src, len}, *L = &Lv;
    size_t p = *pos;
    if (p == 0 && len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0)
        p = 3;
    for (;;) {
        while (p < len && (byte_class[L->s[p]] & 4))
            p++;
        size_t start = p, q, end = 0;
        int kind = UA_TK_PUNCT, bad = 0;
        unsigned c = getc_(L, p, &q);
        if (c == 0) {
            if (q > len) {
                *pos = len;
                return 0;
            }
            p = q; /* a NUL byte is white space */
            continue;
        }
        if (is_ws(c)) { /* after a splice */
            p = q;
            continue;
        }
        if ((c >= 'a' && c <= 'z' && c != 'u') || (c >= 'A' && c <= 'Z' && c != 'L' && c != 'U') ||
            c == '_' || c == '$') { /* the common case first: no look-ahead needed */
            end = lex_ident(L, q);
            t->off = start;
            t->len = end - start;
            t->kind = ident_kind(L, start, end - start);
            *pos = end;
            return 1;
        }
        /* the character after the first, looked at as clang looks ahead (see peek) */
        size_t s2, s3;
        unsigned c2 = peek(L, q, &s2);
        size_t q2 = consume(L, q, s2);
        switch (c) {
        case '0': case '1': case '2': case '3': case '4':
        case '5': case '6': case '7': case '8': case '9':
            end = lex_number(L, q);
            kind = UA_TK_LITERAL;
            break;
        case 'L':
        case 'u':
        case 'U':
            if (c2 == '"' || c2 == '\'') {
                end = lex_quoted(L, q2, c2, &bad);
                kind = UA_TK_LITERAL;
            } else if (c == 'u' && c2 == '8' && peek(L, q + s2, &s3) == '"') {
                end = lex_quoted(L, consume(L, q2, s3), '"', &bad);
                kind = UA_TK_LITERAL;
            } else {
                end = lex_ident(L, q);
                kind = UA_TK_IDENT;
            }
            break;
        case '"':
        case '\'':
            end = lex_quoted(L, q, c, &bad);
            kind = UA_TK_LITERAL;
            break;
        case '/':
            if (c2 == '/') {
                end = lex_line_comment(L, q2);
                kind = UA_TK_COMMENT;
            } else if (c2 == '*') {
                end = lex_block_comment(L, q2, start);
                if (end == (size_t)-1) { /* unterminated: clang drops it */
                    *pos = len;
                    return 0;
                }
                kind = UA_TK_COMMENT;
            } else {
                end = c2 == '=' ? q2 : q;
            }
            break;
        case '\\': {
            size_t e = q; /* digits missing: the backslash alone */
            uint32_t cp = read_ucn(L, q, &e);
            if (!cp) {
                end = e; /* a UCN C refuses is one unknown token */
            } else if (id_initial(cp)) {
                end = lex_ident(L, e);
                kind = UA_TK_IDENT;
            } else {
                end = e;
            }
            break;
        }
        case '.':
            if (c2 >= '0' && c2 <= '9') {
                end = lex_number(L, q2);
                kind = UA_TK_LITERAL;
            } else if (c2 == '.' && peek(L, q + s2, &s3) == '.') {
                end = consume(L, q2, s3);
            } else {
                end = q;
            }
            break;
        case '&':
            end = c2 == '&' || c2 == '=' ? q2 : q;
            break;
        case '|':
            end = c2 == '|' || c2 == '=' ? q2 : q;
            break;
        case '+':
            end = c2 == '+' || c2 == '=' ? q2 : q;
            break;
        case '-':
            end = c2 == '-' || c2 == '=' || c2 == '>' ? q2 : q;
            break;
        case '*': case '!': case '=': case '^':
            end = c2 == '=' ? q2 : q;
            break;
        case '#':
            end = c2 == '#' ? q2 : q;
            break;
        case ':':
            end = c2 == '>' ? q2 : q;
            break;
        case '%':
            if (c2 == '=' || c2 == '>') {
                end = q2;
            } else if (c2 == ':') { /* %: and %:%: */
                end = q2;
                if (peek(L, q2, &s2) == '%' && peek(L, q2 + s2, &s3) == ':')
                    end = consume(L, consume(L, q2, s2), s3);
            } else {
                end = q;
            }
            break;
        case '<':
        case '>':
            if (c2 == c)
                end = peek(L, q + s2, &s3) == '=' ? consume(L, q2, s3) : q2;
            else if (c2 == '=' || (c == '<' && (c2 == ':' || c2 == '%')))
                end = q2;
            else
                end = q;
            break;
        default:
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$') {
                end = lex_ident(L, q);
                kind = UA_TK_IDENT;
            } else if (c >= 0x80) {
                uint32_t cp;
                size_t k = read_utf8(L, q - 1, &cp);
                if (!k) {
                    end = q;
                } else if (id_initial(cp)) {
                    end = lex_ident(L, q - 1 + k);
                    kind = UA_TK_IDENT;
                } else {
                    end = q - 1 + k;
                }
            } else {
                end = q; /* [ ] ( ) { } ~ , ; ? and unknown bytes */
            }
            break;
        }
        if (bad)
            kind = UA_TK_PUNCT;
        if (end > len)
            end = len;
        if (kind == UA_TK_IDENT)
            kind = ident_kind(L, start, end - start);
        t->off = start;
        t->len = end - start;
        t->kind = kind;
        *pos = end;
        return 1;
    }
}

size_t ua_lex_spelling(const char *src, size_t len, const ua_token *t, char *buf, size_t cap)
{
    lx Lv = {(const unsigned char *)src, len}, *L = &Lv;
    size_t p = t->off, end = t->off + t->len, n = 0;
    int ident = t->kind == UA_TK_IDENT || t->kind == UA_TK_KEYWORD;
    while (p < end) {
        size_t q;
        unsigned c = getc_(L, p, &q);
        if (q > end)
            break; /* a splice at the very end belongs to no token */
        char u[4];
        size_t un = 0;
        if (ident && c == '\\') {
            /* clang names an identifier by its spliced text with each UCN in UTF-8; a code
             * point UTF-8 cannot hold adds nothing */
            unsigned k = getc_(L, q, &q);
            uint32_t cp = 0;
            for (int i = k == 'u' ? 4 : 8; i > 0 && q <= end; i--) {
                int v = hexval(getc_(L, q, &q));
                cp = (cp << 4) + (uint32_t)v;
            }
            if (q > end)
                q = end;
            if (cp < 0x80) {
                u[un++] = (char)cp;
            } else if (cp < 0x800) {
                u[un++] = (char)(0xC0 | (cp >> 6));
                u[un++] = (char)(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                if (cp < 0xD800 || cp > 0xDFFF) {
                    u[un++] = (char)(0xE0 | (cp >> 12));
                    u[un++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                    u[un++] = (char)(0x80 | (cp & 0x3F));
                }
            } else if (cp <= 0x10FFFF) {
                u[un++] = (char)(0xF0 | (cp >> 18));
                u[un++] = (char)(0x80 | ((cp >> 12) & 0x3F));
                u[un++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                u[un++] = (char)(0x80 | (cp & 0x3F));
            }
        } else {
            u[un++] = (char)c;
        }
        for (size_t k = 0; k < un; k++)
            if (n + 1 < cap)
                buf[n++] = u[k];
        p = q;
    }
    if (cap)
        buf[n] = '\0';
    return n;
}

int ua_lex(const char *src, size_t len, ua_token **toks, size_t *ntoks)
{
    size_t cap = 0, n = 0, pos = 0;
    ua_token *v = NULL, t;
    *toks = NULL;
    *ntoks = 0;
    /* a token takes at least one byte: reserve for a typical density, grow when needed */
    if (ua_grow((void **)&v, &cap, len / 4 + 16, sizeof *v))
        return UA_ENOMEM;
    while (ua_lex_next(src, len, &pos, &t)) {
        if (n == cap && ua_grow((void **)&v, &cap, n + 1, sizeof *v)) {
            ua_free(v);
            return UA_ENOMEM;
        }
        v[n++] = t;
    }
    *toks = v;
    *ntoks = n;
    return 0;
}

/* ---- re-lexing after an edit ---- */

int ua_relex(const char *src, size_t len, const ua_token *old, size_t n_old, size_t eoff,
             size_t olen, size_t nlen, ua_token **out, size_t *n_out, size_t *relexed)
{
    size_t line = eoff, k, cap = 0, n = 0, pos, lexed = 0;
    ua_token *v = NULL, t;
    *out = NULL;
    *n_out = 0;
    if (relexed)
        *relexed = 0;
    if (eoff > len || nlen > len - eoff)
        return UA_EINVAL;
    /* Restart at the end of an old token on an earlier line whose look-ahead cannot have
     * reached the edit: a token looks at most a UCN (10 bytes) past its end, plus splices, and
     * a splice needs a backslash (or ??/). So: 16 bytes before the edit at least, and no
     * backslash or '?' in the 32 bytes after the restart point (earlier tokens' look-ahead
     * crosses it only through a splice chain that would show there). */
    while (line > 0 && src[line - 1] != '\n')
        line--;
    k = 0;
    {
        size_t lo = 0, hi = n_old; /* old tokens are sorted: the first ending past `line` */
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (old[mid].off + old[mid].len <= line)
                lo = mid + 1;
            else
                hi = mid;
        }
        k = lo;
    }
    while (k > 0) {
        size_t from = old[k - 1].off + old[k - 1].len, i;
        int safe = from + 16 <= eoff;
        for (i = from; safe && i < from + 32 && i < eoff; i++)
            if (src[i] == '\\' || src[i] == '?')
                safe = 0;
        if (safe)
            break;
        k--;
    }
    if (ua_grow((void **)&v, &cap, k + 64, sizeof *v))
        return UA_ENOMEM;
    if (k)
        memcpy(v, old, k * sizeof *v);
    n = k;
    pos = k ? old[k - 1].off + old[k - 1].len : 0;
    /* lex until a token starts, past the edit, where an old one started (shifted): from there
     * on both streams see the same bytes, and the raw lexer has no other state */
    size_t j = k, edit_end = eoff + nlen;
    while (ua_lex_next(src, len, &pos, &t)) {
        lexed++;
        if (t.off >= edit_end) {
            size_t want = t.off - nlen + olen;
            while (j < n_old && old[j].off < want)
                j++;
            if (j < n_old && old[j].off == want && old[j].len == t.len && old[j].kind == t.kind) {
                size_t rest = n_old - j;
                if (ua_grow((void **)&v, &cap, n + rest, sizeof *v)) {
                    ua_free(v);
                    return UA_ENOMEM;
                }
                for (size_t r = 0; r < rest; r++) {
                    v[n + r] = old[j + r];
                    v[n + r].off = old[j + r].off - olen + nlen;
                }
                n += rest;
                goto done;
            }
        }
        if (n == cap && ua_grow((void **)&v, &cap, n + 1, sizeof *v)) {
            ua_free(v);
            return UA_ENOMEM;
        }
        v[n++] = t;
    }
done:
    *out = v;
    *n_out = n;
    if (relexed)
        *relexed = lexed;
    return 0;
}
