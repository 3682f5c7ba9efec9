/* lexdiff.c - the transformer's lexer (transform/lex.c) against clang_tokenize, the tokenizer it
 * replaced: the same token kinds, byte extents and identifier spellings, on every system header
 * of the identity test, every golden case, the real C of runtime/ and limiter/, and generated
 * hostile inputs (line splices inside identifiers, strings and comments, digraphs, UCNs, digit
 * separators, literal prefixes, #include forms, unterminated constructs, NUL and invalid bytes).
 * libclang is parsed exactly as transform.c parsed it before the lexer existed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "engine.h"
#include "ua_int.h"

#include <clang-c/Index.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *dirs[3]; /* system headers, golden cases, project root */
static CXIndex cx;

typedef struct stats {
    size_t files, bytes, tokens, differing;
} stats;

/* Compares the two token streams of one buffer; prints the first difference. */
static int compare(const char *name, const char *src, size_t len, stats *st)
{
    const char *vpath = "/__unasync__/lexdiff.c";
    const char *args[] = {"-x",        "c",   "-std=gnu17",    "-nostdinc", "-nobuiltininc",
                          "-ferror-limit=0", "-w", "-fno-spell-checking"};
    struct CXUnsavedFile uf = {vpath, src, (unsigned long)len};
    CXTranslationUnit tu = NULL;
    unsigned opts = CXTranslationUnit_SingleFileParse | CXTranslationUnit_SkipFunctionBodies |
                    CXTranslationUnit_KeepGoing;
    if (clang_parseTranslationUnit2(cx, vpath, args, (int)(sizeof args / sizeof *args), &uf, 1,
                                    opts, &tu) != CXError_Success || !tu) {
        fprintf(stderr, "lexdiff: %s: libclang could not parse it\n", name);
        return -1;
    }
    CXFile file = clang_getFile(tu, vpath);
    CXSourceRange r = clang_getRange(clang_getLocationForOffset(tu, file, 0),
                                     clang_getLocationForOffset(tu, file, (unsigned)len));
    CXToken *ct = NULL;
    unsigned cn = 0;
    clang_tokenize(tu, r, &ct, &cn);
    ua_token *ut = NULL;
    size_t un = 0;
    int bad = 0;
    if (ua_lex(src, len, &ut, &un) != 0) {
        fprintf(stderr, "lexdiff: %s: out of memory\n", name);
        bad = 1;
    }
    for (size_t i = 0; !bad && i < (cn > un ? cn : un); i++) {
        unsigned s = 0, e = 0;
        int kind = -1;
        char csp[512] = "", usp[512] = "";
        if (i < cn) {
            CXSourceRange ext = clang_getTokenExtent(tu, ct[i]);
            clang_getFileLocation(clang_getRangeStart(ext), NULL, NULL, NULL, &s);
            clang_getFileLocation(clang_getRangeEnd(ext), NULL, NULL, NULL, &e);
            kind = (int)clang_getTokenKind(ct[i]);
            if (kind == CXToken_Identifier || kind == CXToken_Keyword) {
                CXString sp = clang_getTokenSpelling(tu, ct[i]);
                snprintf(csp, sizeof csp, "%s", clang_getCString(sp));
                clang_disposeString(sp);
            }
        }
        if (i < un && (ut[i].kind == UA_TK_IDENT || ut[i].kind == UA_TK_KEYWORD))
            ua_lex_spelling(src, len, &ut[i], usp, sizeof usp);
        if (i >= cn || i >= un || ut[i].off != s || ut[i].len != e - s || ut[i].kind != kind ||
            strcmp(csp, usp) != 0) {
            fprintf(stderr, "lexdiff: %s: token %zu: clang ", name, i);
            if (i < cn)
                fprintf(stderr, "kind %d [%u, %u) '%s'", kind, s, e, csp);
            else
                fprintf(stderr, "(none)");
            fprintf(stderr, ", ours ");
            if (i < un)
                fprintf(stderr, "kind %d [%zu, %zu) '%s'\n", ut[i].kind, ut[i].off,
                        ut[i].off + ut[i].len, usp);
            else
                fprintf(stderr, "(none)\n");
            size_t at = i < un ? ut[i].off : s;
            size_t from = at > 40 ? at - 40 : 0, to = at + 40 < len ? at + 40 : len;
            fprintf(stderr, "  around: \"");
            for (size_t k = from; k < to; k++) {
                unsigned char c = (unsigned char)src[k];
                if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
                    fputc(c, stderr);
                else
                    fprintf(stderr, "\\x%02x", c);
            }
            fprintf(stderr, "\"\n");
            bad = 1;
        }
    }
    st->files++;
    st->bytes += len;
    st->tokens += un;
    st->differing += (size_t)bad;
    ua_free(ut);
    clang_disposeTokens(tu, ct, cn);
    clang_disposeTranslationUnit(tu);
    return bad;
}

static void compare_file(const char *path, stats *st)
{
    char *src;
    size_t len;
    if (ue_read_file(path, &src, &len) != 0) {
        fprintf(stderr, "lexdiff: cannot read %s\n", path);
        st->differing++;
        return;
    }
    compare(path, src, len, st);
    ua_free(src);
}

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n > m && strcmp(s + n - m, suf) == 0;
}

/* Every regular file under dir whose name ends in one of the suffixes; symbolic links and the
 * C++ trees (not C) are left out, as the identity test leaves them out. */
static void walk(const char *dir, const char *const *suffixes, stats *st)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "lexdiff: cannot open %s\n", dir);
        st->differing++;
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat s;
        if (lstat(path, &s) != 0 || S_ISLNK(s.st_mode))
            continue;
        if (S_ISDIR(s.st_mode)) {
            if (strcmp(e->d_name, "c++") != 0 && strcmp(e->d_name, "llvm") != 0)
                walk(path, suffixes, st);
            continue;
        }
        if (!S_ISREG(s.st_mode))
            continue;
        for (const char *const *x = suffixes; *x; x++)
            if (has_suffix(e->d_name, *x)) {
                compare_file(path, st);
                break;
            }
    }
    closedir(d);
}

static void system_headers(void **state)
{
    (void)state;
    stats st = {0};
    static const char *const h[] = {".h", NULL};
    walk(dirs[0], h, &st);
    fprintf(stderr, "lexdiff: %zu system headers, %zu bytes, %zu tokens, %zu differing\n",
            st.files, st.bytes, st.tokens, st.differing);
    assert_true(st.files >= 1000);
    assert_int_equal(st.differing, 0);
}

static void golden_cases_and_project_c(void **state)
{
    (void)state;
    stats st = {0};
    static const char *const c[] = {".c", ".h", ".twin", ".inc", NULL};
    walk(dirs[1], c, &st);
    char p[4096];
    static const char *const sub[] = {"runtime", "limiter", "transform", "engine", "server"};
    for (size_t k = 0; k < sizeof sub / sizeof *sub; k++) {
        snprintf(p, sizeof p, "%s/%s", dirs[2], sub[k]);
        walk(p, c, &st);
    }
    fprintf(stderr, "lexdiff: %zu golden and project files, %zu bytes, %zu differing\n",
            st.files, st.bytes, st.differing);
    assert_true(st.files >= 100);
    assert_int_equal(st.differing, 0);
}

/* ---- hostile inputs ---- */

static const char *const pieces[] = {
    /* splices */
    "\\\n", "\\\r\n", "\\ \t\n", "\\\r", "\\\n\r", "\\", "?" "?/\n", "\\\f\n", "\\\v\n",
    /* identifiers, keywords, UCNs */
    "abc", "int", "in\\\nt", "_Bool", "__attribute__", "$x", "a$b", "\\u00e9", "\\U0001F600",
    "\\u0040", "\\u0024", "\\u0060", "\\u0300", "\\uD800", "\\u12", "\\U00110000", "\\u00A0",
    "x\\u00e9y", "\\u00", "\xc3\xa9", "\xcc\x80", "\xe2\x80\x8b", "\xc2\xa0", "\xe3\x80\x80",
    "\xf0\x9f\x98\x80", "\xc2\x85", "\xe1\x9a\x80", "\xe1\xa0\x8e", "\xe2\x80\x80",
    "\xe2\x80\x8a", "\xe2\x80\xa8", "\xe2\x80\xaf", "\xe2\x81\x9f", "\xef\xbf\xbe",
    "\xcd\xbe", "\xf3\xa0\x80\x81", "\u2028", "\u180E", "x\u2028", "x\xe2\x80\xa8", "\xef\xbb\xbf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf",
    "\xff", "\xfe", "\x80", "\xc3", "\xe2\x82", "\x01", "\x1a", "\x7f", "@", "`",
    /* numbers */
    "0", "123", "1'000", "0x1'0000", "0b1010", "1e+5", "1E-", "0x1p-3", "0x1.8P+4", ".5", "1.",
    "1..2", "1.e+e+3", "0x1e+1", "1_000", "1\\\n2", "1e\\\n+2", "08\xc3\xa9", "1\\u00e9",
    /* strings and characters */
    "\"s\"", "\"", "'", "''", "'a'", "'\\''", "\"\\\"\"", "\"a\\\nb\"", "\"\\\\\"", "u8\"x\"",
    "u8'x'", "u\"x\"", "U\"x\"", "L\"x\"", "u'x'", "U'x'", "L'x'", "u8", "R\"(x)\"",
    "LR\"(x)\"", "u8R\"(x)\"", "'ab", "\"ab", "\"\\", "'\\", "L'", "u8\"", "\"a\rb\"",
    /* comments */
    "/*", "*/", "/**/", "/*/", "/* * /", "//", "// x\\\ny", "// x \\ \ny", "/* a *\\\n/",
    "/* a *\\\n\\\n/", "*\\\n/", "/\\\n*", "/\\\n/", "/*/*/", "// ?" "?/\n", "/* ?" "?/\n/",
    "/* *\\ \n/", "/*\\\n/ */",
    /* punctuation and digraphs */
    "<:", ":>", "<%", "%>", "%:", "%:%:", "%:%", "<::", "::", "->", "->*", "...", "..", ".*",
    "<<=", ">>=", "<=>", "<<<<<<<", ">>>>", "=======", "|||||||", "<#x#>", "##", "#@", "#",
    "&&", "||", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "!=", "==",
    "<\\\n<", "-\\\n>", "%\\\n:", ".\\\n.\\\n.", "?", "~", ",", ";", "(", ")", "[", "]", "{", "}",
    /* directives */
    "#include <stdio.h>", "#include <a/b c.h>", "#include \"x.h\"", "#include <", "#include >",
    "# include <x.h> // c", "%:include <x.h>", "#define A(x) #x", "#if 0", "#endif", "#error '",
    "#pragma once", "#import <x.h>", "#include_next <x.h>",
    /* trigraphs are off, but clang's look-ahead decodes them (transform/lex.c, peek) */
    "?" "?=", "?" "?!", "?" "?'", "?" "?-", "?" "?(", "?" "?)", "?" "?<", "?" "?>", "?" "?/",
    "<?" "?/\n<", "#?" "?=", "|?" "?!", ".?" "?/\n5", "/?" "?/\n/", "/?" "?/\n*", "/*?" "?/\n/ */",
    "u?" "?/\n\"x\"", "u8?" "?/\n\"x\"", "1?" "?/\n2", "1e?" "?/\n+2", "x?" "?/u00e9", "x?" "?/\nu",
    "\\?" "?/\nu00e9", "\\u00?" "?/\ne9", ".?" "?/\n.?" "?/\n.", "%:?" "?/\n%:", "<<?" "?/\n=", "a?" "?/",
    "?" "?" "?/\n", "/* *?" "?/\n/", "*?" "?/\n/",
    /* white space and bytes */
    " ", "\t", "\n", "\r\n", "\r", "\f", "\v", "\0", "\n\n",
};

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static unsigned next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng >> 32);
}

static void hostile_inputs(void **state)
{
    (void)state;
    stats st = {0};
    size_t np = sizeof pieces / sizeof *pieces;
    char buf[4096];
    char name[64];
    /* each piece alone and after an identifier, then random mixtures */
    for (size_t k = 0; k < np; k++) {
        size_t pl = strlen(pieces[k]) + (pieces[k][0] == '\0');
        snprintf(name, sizeof name, "piece %zu", k);
        compare(name, pieces[k], pl, &st);
        memcpy(buf, "x ", 2);
        memcpy(buf + 2, pieces[k], pl);
        memcpy(buf + 2 + pl, " y\n", 3);
        compare(name, buf, pl + 5, &st);
    }
    for (int round = 0; round < 6000; round++) {
        size_t len = 0;
        unsigned n = 1 + next_rand() % 32;
        for (unsigned i = 0; i < n; i++) {
            const char *p = pieces[next_rand() % np];
            size_t pl = strlen(p) + (p[0] == '\0');
            if (len + pl + 1 >= sizeof buf)
                break;
            memcpy(buf + len, p, pl);
            len += pl;
            if (next_rand() % 3 == 0)
                buf[len++] = " \n\t"[next_rand() % 3];
        }
        snprintf(name, sizeof name, "mixture %d", round);
        compare(name, buf, len, &st);
    }
    fprintf(stderr, "lexdiff: %zu hostile inputs, %zu differing\n", st.files, st.differing);
    assert_int_equal(st.differing, 0);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: lexdiff SYSTEM-INCLUDE-DIR GOLDEN-CASES-DIR PROJECT-ROOT\n");
        return 2;
    }
    dirs[0] = argv[1];
    dirs[1] = argv[2];
    dirs[2] = argv[3];
    cx = clang_createIndex(0, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hostile_inputs),
        cmocka_unit_test(golden_cases_and_project_c),
        cmocka_unit_test(system_headers),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    clang_disposeIndex(cx);
    return rc;
}
