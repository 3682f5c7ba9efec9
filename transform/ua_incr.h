/* ua_incr.h - the incremental transform: keeps the twin of an edited source up to date at the
 * cost of the edit, for the engine's live drift state (engine/live.c). Private to the core. */
#ifndef UNASYNC_UA_INCR_H
#define UNASYNC_UA_INCR_H

#include "ua_int.h"

/* ---- What an incremental transform keeps ------------------------------------------------------
 *
 * ua_incr holds the source (its own copy), its tokens, the edit list of the twin and the few
 * file-wide facts that decide edits elsewhere. An edit re-lexes from a token boundary before the
 * edited lines until the token stream resynchronises (as ua_relex does), widens that to whole
 * lines that start and end on an unescaped end of line outside any token (the *region*), and
 * re-derives the twin's edits only for the tokens of the region; every edit, token and line
 * after it is shifted, not touched (gap buffers keep positions after the gap relative to the end,
 * so a shift costs nothing). It runs the whole pipeline instead (counted in ua_incr_stats) when
 * the result could change outside the region. What is file-wide in transform.c:
 *
 *  - errors: any error finding (UA100-UA103, UA006 collisions, UA008) stops the twin, and
 *    check_gaps reports only the first stray byte: a source with errors, or an edit whose region
 *    would have one, is transformed in full;
 *  - directives: a line's '#' is a directive only at the start of a line, and a directive runs
 *    over backslash-newlines; escape hatches (#if UNASYNC_ASYNC...), removed hatch lines,
 *    #include rewrites and the header's include guard all come from them. A region that holds
 *    or touches a directive line, old or new, or a '#' token, or lies in a removed hatch span,
 *    is full;
 *  - the include guard (headers): found from the first two directives being the first code and
 *    its #endif the last: in a header, a region before the end of the second directive or
 *    after the start of the last one is full;
 *  - `await` looks at the next code token, which may be on a later line: when the last code
 *    token before the region is the await marker, the region's first token decides its UA103,
 *    so that is full;
 *  - rename targets: two names renamed to one is an error, and UA006 warns (at the first renamed
 *    use) when the file also uses a target unrenamed. ua_incr counts, per target, the renamed
 *    and unrenamed uses and the first one; an edit that makes a target appear or disappear is
 *    full, one that moves its first use recomputes it from the edit list;
 *  - the byte-order mark and line 1 (the header's end of line): a region that starts at offset
 *    0 of a source with a byte-order mark is full; the end of line is re-read from line 1;
 *  - rule hit counts are file-wide sums: kept per rule and updated by the region's edits.
 *
 * Everything else (marker stripping, renames, spliced identifiers, UA006 warnings) is local to
 * the lines of its token. */

/* One edit of the twin (the source map's entry before the header is added): source bytes
 * [off, off+len) become text (text_len bytes; NULL for a removal). For a rename, rule is the
 * rule's index (or (size_t)-1 for the include guard) and key_len the length of the new name at
 * the start of text; otherwise rule is (size_t)-1 and key_len 0. */
typedef struct ua__edit {
    size_t off, len;
    char *text;
    size_t text_len;
    size_t rule, key_len;
} ua__edit;

/* The facts of a finished run that ua_incr keeps (ua__transform_keep, ua__derive_window). */
typedef struct ua__keep {
    int errors;                /* error findings of the run */
    ua__edit *edits;           /* owned; sorted */
    size_t nedits;
    unsigned char *plain;      /* per token: an identifier left as it is (neither renamed,
                                * stripped nor in a header name or a message) */
    size_t *dirs, ndirs;       /* directive lines: start, end offset pairs */
    size_t *removed, nremoved; /* hatch spans: offset, length pairs */
    char guard_from[256], guard_to[300];
    char **tkey, **tsrc;       /* rename targets, the first name renamed to each */
    size_t *toff, ntargets;    /* and the offset of that first renamed use */
    size_t *rule_hits;         /* ua__derive_window only: per rule */
} ua__keep;

void ua__keep_free(ua__keep *k);

/* ua_transform_tokens that also fills *keep (released with ua__keep_free; empty after
 * UA_ENOMEM). keep->errors is nonzero when the result is UA_ESOURCE. */
int ua__transform_keep(const ua_project *proj, const char *src_rel, const char *src, size_t len,
                       const ua_token *toks, size_t ntoks, ua_output *out, ua__keep *keep);

/* The edits that tokens [0, nderive) of `toks` (a window of the source, bytes [gap_from,
 * gap_to), with look-ahead tokens after it; those from first_in_dir on are in a directive) give,
 * after the checks of its tokens and the bytes between them, outside any directive and hatch,
 * with the include guard `guard_from` -> `guard_to` (empty: none). Fills keep->edits, plain,
 * tkey/tsrc/toff (the window's targets), rule_hits and errors. 0 or UA_ENOMEM (keep empty). */
int ua__derive_window(const ua_project *proj, const char *src_rel, const char *src, size_t len,
                      const ua_token *toks, size_t ntoks, size_t nderive, size_t first_in_dir,
                      size_t gap_from, size_t gap_to, const char *guard_from,
                      const char *guard_to, ua__keep *keep);

/* The twin's output from the source and its edits, as ua_transform builds it. */
int ua__build_output(const char *path, const char *src, size_t len, const ua__edit *edits,
                     size_t nedits, ua_output *o);

/* Line 1 of the twin of `path` for a body hash `hash` (the source decides its end of line) into
 * buf; returns its length, end of line included. */
size_t ua__header_line(const char *path, const char *src, size_t len, const char *hash, char *buf,
                       size_t cap);

/* Whether src[p] is an unescaped end of line (not part of a backslash-newline). */
int ua__is_line_end(const char *src, size_t p);

/* FNV-1a of n bytes: the transformer's string sets hash with it. */
uint64_t ua__fnv(const char *s, size_t n);

/* The words of the UA006 warning about a rename target the file already uses (%s: the name
 * renamed first, then the target). */
#define UA__TARGET_MSG                                                                             \
    "'%s' becomes '%s', which this file already uses; in the twin both are one name"

/* ua_diff_lines of two twins with line 1 (the header, whose body hash follows every change)
 * compared on its own and the rest after it: so that the body's hunks depend on the bodies
 * alone, and an incremental check can diff only the region where they differ. */
int ua__diff_twin(const char *a, size_t alen, const char *b, size_t blen, ua_diff *out);

/* ---- The incremental transform ---------------------------------------------------------------- */

typedef struct ua_incr ua_incr;

/* A new incremental transform of `len` bytes of source `src_rel` (copied; `proj` must outlive
 * it). Runs the full transform once. 0 or UA_ENOMEM/UA_EINVAL (*out NULL). A source with errors is
 * fine: ua_incr_has_body says 0 and ua_incr_output gives the findings. */
int ua_incr_new(const ua_project *proj, const char *src_rel, const char *src, size_t len,
                ua_incr **out);
void ua_incr_free(ua_incr *st);

/* Applies an edit: source bytes [eoff, eoff + olen) become the nlen bytes of `text`. 0,
 * UA_EINVAL (a range outside the source: nothing changed) or UA_ENOMEM (the state is then
 * unusable: free it). */
int ua_incr_edit(ua_incr *st, size_t eoff, size_t olen, const char *text, size_t nlen);

/* The source as it is now (the state's copy; valid until the next edit). */
const char *ua_incr_source(const ua_incr *st, size_t *len);

/* The full result, equal to ua_transform of the current source byte for byte: bytes, header,
 * source map, findings, rule hits. O(size of the source). Release with ua_output_free. */
int ua_incr_output(const ua_incr *st, ua_output *out);

/* Whether the source has no error (the twin has a body), and the body's length (the twin
 * after its header line). */
int ua_incr_has_body(const ua_incr *st);
size_t ua_incr_body_len(const ua_incr *st);

/* Where the body changed in the last edit: bytes [*lo, *old_hi) of the old body became
 * [*lo, *new_hi) of the new one; *whole is 1 when anything may have changed (a full run). */
void ua_incr_changed(const ua_incr *st, size_t *lo, size_t *old_hi, size_t *new_hi, int *whole);

/* Compares the body from `off` forward with `b` (n bytes): how many bytes match. */
size_t ua_incr_match_fwd(const ua_incr *st, size_t off, const char *b, size_t n);
/* Compares the body before `end` backward with the n bytes before b + n: how many match. */
size_t ua_incr_match_bwd(const ua_incr *st, size_t end, const char *b, size_t n);
/* Copies body bytes [off, off + n) into buf. */
void ua_incr_read(const ua_incr *st, size_t off, size_t n, char *buf);
/* The source offset of body offset `off`: ua_map_to_source of (header + off) on the twin. */
size_t ua_incr_body_to_source(const ua_incr *st, size_t off);
/* Line and column (1-based) of source offset `off`, as ua_offset_to_linecol counts. */
void ua_incr_linecol(const ua_incr *st, size_t off, unsigned *line, unsigned *col);
/* The transform's findings and rule hits as ua_transform gives them (appended, sorted as a
 * whole when `fs` was empty); 0 or UA_ENOMEM (fs as it was). */
int ua_incr_findings(const ua_incr *st, ua_findings *fs);

/* Edits applied, and how many of them took the full pipeline. */
void ua_incr_stats(const ua_incr *st, size_t *edits, size_t *full);

#endif
