/* ua_int.h - helpers shared by the transformer's own files; not part of the public API. */
#ifndef UNASYNC_UA_INT_H
#define UNASYNC_UA_INT_H

#include "ua.h"

#include <stdlib.h>
#include <string.h>

/* A growable byte buffer. Zero-initialise; `oom` becomes 1 after a failed allocation and every
 * later append is ignored, so callers check once at the end. */
typedef struct ua_buf {
    char *p;
    size_t len, cap;
    int oom;
} ua_buf;

void ua_buf_add(ua_buf *b, const void *data, size_t len);
void ua_buf_adds(ua_buf *b, const char *s);
void ua_buf_addf(ua_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* NUL-terminates and hands the bytes to the caller (NULL after oom). */
char *ua_buf_detach(ua_buf *b, size_t *len);
void ua_buf_free(ua_buf *b);

/* Grows *v (element size `elem`) so that it holds at least `need` elements. 0 or UA_ENOMEM. */
int ua_grow(void **v, size_t *cap, size_t need, size_t elem);

/* Length of the valid UTF-8 sequence at s (n bytes available): 1-4, or 0 when it is invalid
 * (overlong forms, surrogates and code points past U+10FFFF included). */
size_t ua_utf8_len(const unsigned char *s, size_t n);

/* Whether [s, s+n) is a C identifier (ASCII letters, digits, '_'; not starting with a digit). */
int ua_is_ident(const char *s, size_t n);


/* The longest "twin" pattern: config.c refuses longer ones, names.c matches within it. */
#define TWIN_PATTERN_MAX 128

/* Releases n rules (their strings and the array). */
void ua__rules_free(ua_rule *rules, size_t n);

/* Applies one rename rule to `name`: the new length (written to `out`, NUL-terminated), 0 when
 * the rule does not match, -1 when the result would not fit in `cap`. */
int ua__rule_apply(const ua_rule *r, const char *name, size_t len, char *out, size_t cap);

/* ---- the C lexer (lex.c) ---- */

/* Token kinds, in libclang's CXTokenKind order. */
enum { UA_TK_PUNCT, UA_TK_KEYWORD, UA_TK_IDENT, UA_TK_LITERAL, UA_TK_COMMENT };

/* One token: raw bytes [off, off + len) of the buffer, splices included. An unterminated string
 * or character literal (and '') is UA_TK_PUNCT, as clang reports it; an unterminated block
 * comment is no token at all. */
typedef struct ua_token {
    size_t off, len;
    int kind;
} ua_token;

/* Lexes the token that starts at or after *pos, which must be 0 or the end of a token (the
 * lexer keeps no other state; a byte-order mark is skipped at 0). Returns 1 with *t filled and
 * *pos at its end, or 0 at the end of the buffer. Needs no translation unit: exactly the tokens
 * clang_tokenize reports for the buffer as C (-std=gnu17). */
int ua_lex_next(const char *src, size_t len, size_t *pos, ua_token *t);
/* Every token of the buffer into *toks (ua_malloc'd; *ntoks of them). 0 or UA_ENOMEM. */
int ua_lex(const char *src, size_t len, ua_token **toks, size_t *ntoks);
/* A token's spelling into buf (capacity cap, NUL-terminated, truncated to fit): splices
 * removed, and in an identifier each UCN as UTF-8 (the name clang gives it). Returns its
 * length. */
size_t ua_lex_spelling(const char *src, size_t len, const ua_token *t, char *buf, size_t cap);

/* After an edit that replaced old bytes [eoff, eoff + olen) by the nlen bytes now at eoff of
 * `src` (len bytes in all), the new token list from the old one (old, n_old, of the old bytes):
 * the tokens before the edited lines are kept, lexing restarts at a token boundary before them
 * and stops where a token past the edit starts where an old one did (shifted), and the rest is
 * the old tokens moved by nlen - olen. Exactly what ua_lex gives on src. *relexed (may be NULL)
 * is how many tokens were lexed. 0, UA_EINVAL or UA_ENOMEM (nothing in *out). */
int ua_relex(const char *src, size_t len, const ua_token *old, size_t n_old, size_t eoff,
             size_t olen, size_t nlen, ua_token **out, size_t *n_out, size_t *relexed);

/* ua_transform with the source's tokens given (as ua_lex or ua_relex makes them). */
int ua_transform_tokens(ua_ctx *ctx, const ua_project *proj, const char *src_rel, const char *src,
                        size_t len, const ua_token *toks, size_t ntoks, ua_output *out);

/* ---- JSON with positions (for unasync.json; cJSON keeps no locations) ---- */

typedef enum { UJ_NULL, UJ_BOOL, UJ_NUMBER, UJ_STRING, UJ_ARRAY, UJ_OBJECT } uj_type;

typedef struct uj_value uj_value;
typedef struct uj_member {
    char *key;
    unsigned line, col;
    uj_value *value;
} uj_member;

struct uj_value {
    uj_type type;
    unsigned line, col;
    int boolean;
    double number;
    char *string; /* UJ_STRING, NUL-terminated (embedded NULs are rejected) */
    uj_value **items;
    size_t nitems;
    uj_member *members;
    size_t nmembers;
};

/* Parses one JSON document. On error returns NULL and fills *eline, *ecol and emsg (capacity
 * emsg_cap); *oom is 1 when the error is an allocation failure rather than the input's. Nesting
 * deeper than UJ_MAX_DEPTH is an error, to keep the stack bounded. */
#define UJ_MAX_DEPTH 64
uj_value *uj_parse(const char *s, size_t len, unsigned *eline, unsigned *ecol, char *emsg,
                   size_t emsg_cap, int *oom);
void uj_free(uj_value *v);

#endif
