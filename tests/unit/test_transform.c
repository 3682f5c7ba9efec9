/* test_transform.c - unit tests of the transformer's parts: configuration, rules, twin names,
 * SHA-256, the line diff and the source map. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ua.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- configuration ---- */

static ua_config *parse_ok(const char *json)
{
    ua_findings f = {0};
    ua_config *cfg = NULL;
    int rc = ua_config_parse(json, strlen(json), "unasync.json", &cfg, &f);
    if (rc)
        fail_msg("unexpected config error: %s", f.n ? f.v[0].message : "?");
    ua_findings_free(&f);
    return cfg;
}

/* Parses `json`, expects failure, and checks the first finding's position and message part. */
static void expect_config_error(const char *json, unsigned line, unsigned col, const char *part)
{
    ua_findings f = {0};
    ua_config *cfg = NULL;
    assert_int_equal(ua_config_parse(json, strlen(json), "unasync.json", &cfg, &f), UA_ECONFIG);
    assert_null(cfg);
    assert_true(f.n >= 1);
    if (f.v[0].line != line || f.v[0].col != col || !strstr(f.v[0].message, part))
        fail_msg("got %u:%u %s; want %u:%u ...%s...", f.v[0].line, f.v[0].col, f.v[0].message,
                 line, col, part);
    assert_string_equal(f.v[0].file, "unasync.json");
    assert_string_equal(f.v[0].code, "UA300");
    ua_findings_free(&f);
}

static void config_parses_every_key(void **state)
{
    (void)state;
    ua_config *cfg = parse_ok("{\n"
                              "  \"$schema\": \"x\",\n"
                              "  \"sources\": [\"limiter/*.c\", \"limiter/*.h\"],\n"
                              "  \"exclude\": [\"limiter/examples/*\"],\n"
                              "  \"twin\": \"{stem}_sync.{ext}\",\n"
                              "  \"rename\": {\"rl_limiter\": \"rl_sync_limiter\", \"rl_lease_*\": "
                              "\"rl_sync_lease_*\"},\n"
                              "  \"markers\": {\"async\": \"UA_ASYNC\", \"await\": \"UA_AWAIT\"},\n"
                              "  \"compile_commands\": \"build/compile_commands.json\",\n"
                              "  \"compile_flags\": [\"-Iinclude\", \"-DX=1\"],\n"
                              "  \"lint\": {\"UA004\": \"warning\", \"UA005\": \"off\"},\n"
                              "  \"blocking\": {\"db_query\": \"async_db_query\", \"x\": null, "
                              "\"sleep\": false}\n"
                              "}\n");
    assert_int_equal(cfg->nsources, 2);
    assert_string_equal(cfg->sources[1], "limiter/*.h");
    assert_int_equal(cfg->nexclude, 1);
    assert_string_equal(cfg->twin, "{stem}_sync.{ext}");
    assert_int_equal(cfg->nrules, 2);
    assert_true(cfg->rules[1].is_glob);
    assert_int_equal(cfg->rules[1].line, 6);
    assert_string_equal(cfg->marker_async, "UA_ASYNC");
    assert_string_equal(cfg->compile_commands, "build/compile_commands.json");
    assert_int_equal(cfg->ncompile_flags, 2);
    assert_int_equal(cfg->nlint, 2);
    assert_int_equal(cfg->lint[0].severity, UA_WARNING);
    assert_int_equal(cfg->lint[1].severity, 0);
    assert_int_equal(cfg->nblocking, 3);
    assert_string_equal(cfg->blocking[0].twin, "async_db_query");
    assert_null(cfg->blocking[1].twin);
    assert_true(cfg->blocking[1].blocking);
    assert_false(cfg->blocking[2].blocking);
    ua_config_free(cfg);
}

static void config_defaults(void **state)
{
    (void)state;
    ua_config *cfg = parse_ok("{\"sources\": [\"*.c\"]}");
    assert_string_equal(cfg->twin, "sync_{name}");
    assert_string_equal(cfg->marker_async, "async");
    assert_string_equal(cfg->marker_await, "await");
    assert_int_equal(cfg->nrules, 0);
    assert_null(cfg->compile_commands);
    ua_config_free(cfg);
    ua_config_free(NULL);
}

static void config_reports_json_syntax_with_position(void **state)
{
    (void)state;
    expect_config_error("{\n  \"sources\": [\"a.c\",]\n}", 2, 21, "trailing comma");
    expect_config_error("{\"sources\": [\"a.c\"]", 1, 20, "expected ','");
    expect_config_error("", 1, 1, "end of input");
    expect_config_error("{\"sources\": [\"a.c\"]} x", 1, 22, "after the JSON value");
    expect_config_error("{\"a\": 1, \"a\": 2}", 1, 10, "duplicate key");
    expect_config_error("{\"sources\": [\"\\q\"]}", 1, 16, "invalid escape");
    expect_config_error("{\"sources\": tru}", 1, 13, "expected a JSON value");
    expect_config_error("{\"x\": \"\xff\"}", 1, 8, "invalid UTF-8");
    /* a NUL byte: the length travels beside the bytes */
    static const char nul[] = "{\"sources\": [\"a\0b\"]}";
    ua_findings f = {0};
    ua_config *cfg = NULL;
    assert_int_equal(ua_config_parse(nul, sizeof nul - 1, "unasync.json", &cfg, &f), UA_ECONFIG);
    assert_int_equal(f.v[0].col, 16);
    assert_non_null(strstr(f.v[0].message, "NUL byte"));
    ua_findings_free(&f);
}

static void config_reports_unknown_keys_and_wrong_types(void **state)
{
    (void)state;
    expect_config_error("{\n  \"sources\": [\"a.c\"],\n  \"sourcez\": 1\n}", 3, 3,
                        "unknown key 'sourcez'");
    expect_config_error("{\"sources\": \"a.c\"}", 1, 13, "must be an array, not a string");
    expect_config_error("{\"sources\": [1]}", 1, 14, "must be a string, not a number");
    expect_config_error("{\"sources\": [\"a.c\"], \"twin\": 3}", 1, 30, "twin must be a string");
    expect_config_error("{\"sources\": [\"a.c\"], \"markers\": {\"sync\": \"x\"}}", 1, 34,
                        "unknown key 'sync'");
    expect_config_error("{}", 1, 1, "missing required key \"sources\"");
    expect_config_error("[]", 1, 1, "must be an object");
    expect_config_error("{\"sources\": []}", 1, 13, "at least one pattern");
}

static void config_refuses_paths_outside_the_project(void **state)
{
    (void)state;
    expect_config_error("{\"sources\": [\"../x/*.c\"]}", 1, 14, "'..' is refused");
    expect_config_error("{\"sources\": [\"a/../../b.c\"]}", 1, 14, "'..' is refused");
    expect_config_error("{\"sources\": [\"/etc/*.c\"]}", 1, 14, "absolute paths are refused");
    expect_config_error("{\"sources\": [\"a\\\\b.c\"]}", 1, 14, "use '/'");
    expect_config_error("{\"sources\": [\"a.c\"], \"twin\": \"../{name}\"}", 1, 30,
                        "must be a file name");
    expect_config_error("{\"sources\": [\"a.c\"], \"twin\": \"{name}\"}", 1, 30,
                        "overwrite the source");
    expect_config_error("{\"sources\": [\"a.c\"], \"twin\": \"sync_{nam}\"}", 1, 30,
                        "must contain {name}");
}

static void config_validates_rules_and_markers(void **state)
{
    (void)state;
    expect_config_error("{\"sources\": [\"a.c\"], \"rename\": {\"a-b\": \"c\"}}", 1, 33,
                        "not an identifier pattern");
    expect_config_error("{\"sources\": [\"a.c\"], \"rename\": {\"a*\": \"b\"}}", 1, 33,
                        "both have one '*'");
    expect_config_error("{\"sources\": [\"a.c\"], \"rename\": {\"a**\": \"b**\"}}", 1, 33,
                        "not an identifier pattern");
    expect_config_error("{\"sources\": [\"a.c\"], \"rename\": {\"a\": \"a\"}}", 1, 33,
                        "renamed to itself");
    expect_config_error("{\"sources\": [\"a.c\"], \"rename\": {\"a\": \"x\", \"b\": \"x\"}}", 1,
                        43, "both renamed to 'x'");
    expect_config_error("{\"sources\": [\"a.c\"], \"markers\": {\"async\": \"await\"}}", 1, 33,
                        "must differ");
    expect_config_error("{\"sources\": [\"a.c\"], \"markers\": {\"async\": \"9x\"}}", 1, 43,
                        "not a C identifier");
    expect_config_error("{\"sources\": [\"a.c\"], \"lint\": {\"UA004\": \"loud\"}}", 1, 40,
                        "not one of off");
    expect_config_error("{\"sources\": [\"a.c\"], \"blocking\": {\"f\": true}}", 1, 40,
                        "must be its async twin");
    expect_config_error("{\"sources\": [\"a.c\"], \"blocking\": {\"f-g\": null}}", 1, 35,
                        "not a C identifier");
}

/* ---- rules ---- */

static const char *renamed(const ua_config *cfg, const char *name, size_t *rule)
{
    static char out[256];
    int n = ua_rename(cfg, name, strlen(name), out, sizeof out, rule);
    return n > 0 ? out : NULL;
}

static void rename_most_specific_rule_wins(void **state)
{
    (void)state;
    ua_config *cfg = parse_ok("{\"sources\": [\"a.c\"], \"rename\": {\"net_*\": \"n_*\", "
                              "\"net_async_*\": \"net_sync_*\", \"net_async_x\": \"special\", "
                              "\"*_async\": \"*_blocking\", \"async_io\": \"blocking_io\"}}");
    size_t rule;
    assert_string_equal(renamed(cfg, "net_open", &rule), "n_open");
    assert_int_equal(rule, 0);
    assert_string_equal(renamed(cfg, "net_async_open", &rule), "net_sync_open");
    assert_int_equal(rule, 1);
    assert_string_equal(renamed(cfg, "net_async_x", &rule), "special");
    assert_string_equal(renamed(cfg, "read_async", &rule), "read_blocking");
    assert_string_equal(renamed(cfg, "async_io", &rule), "blocking_io");
    assert_string_equal(renamed(cfg, "async_sleep_ms", &rule), "sync_sleep_ms");
    assert_int_equal(rule, UA_RULE_MAPS(cfg));
    assert_string_equal(renamed(cfg, "async_", &rule), "sync_");
    assert_null(renamed(cfg, "ASYNC_X", &rule));
    assert_null(renamed(cfg, "my_async_x", &rule));
    assert_null(renamed(cfg, "async", &rule));
    ua_config_free(cfg);
}

static void rename_refuses_results_that_are_not_identifiers(void **state)
{
    (void)state;
    ua_config *cfg = parse_ok("{\"sources\": [\"a.c\"], \"rename\": {\"x_*\": \"*\"}}");
    size_t rule;
    assert_string_equal(renamed(cfg, "x_abc", &rule), "abc");
    assert_null(renamed(cfg, "x_", &rule));  /* empty */
    assert_null(renamed(cfg, "x_9a", &rule)); /* leading digit */
    char tiny[4];
    assert_int_equal(ua_rename(cfg, "x_abcdef", 8, tiny, sizeof tiny, &rule), -1);
    ua_config_free(cfg);
}

static void twin_names_follow_the_pattern(void **state)
{
    (void)state;
    char *t = ua_twin_name("sync_{name}", "limiter.c");
    assert_string_equal(t, "sync_limiter.c");
    ua_free(t);
    t = ua_twin_name("{stem}_sync.{ext}", "limiter.h");
    assert_string_equal(t, "limiter_sync.h");
    ua_free(t);
    assert_true(ua_is_twin_name("sync_{name}", "sync_limiter.c"));
    assert_false(ua_is_twin_name("sync_{name}", "limiter.c"));
    assert_false(ua_is_twin_name("sync_{name}", "sync_"));
    assert_true(ua_is_twin_name("{stem}_sync.{ext}", "a_sync.c"));
}

/* ---- sha256 ---- */

static void sha256_matches_known_vectors(void **state)
{
    (void)state;
    char hex[65];
    ua_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ua_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    ua_sha256_hex(m, strlen(m), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *mil = malloc(1000000);
    memset(mil, 'a', 1000000);
    ua_sha256_hex(mil, 1000000, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(mil);
}

/* ---- header ---- */

static void header_parse_and_body_hash(void **state)
{
    (void)state;
    char buf[512], hex[65];
    const char *body = "int x;\n";
    ua_sha256_hex(body, strlen(body), hex);
    snprintf(buf, sizeof buf,
             "/* Generated by unasync from a.c \xE2\x80\x94 DO NOT EDIT. unasync:source=src/a.c "
             "body=sha256:%s */\n%s",
             hex, body);
    ua_header h;
    assert_int_equal(ua_header_parse(buf, strlen(buf), &h), 0);
    assert_string_equal(h.source, "src/a.c");
    assert_true(ua_header_body_intact(buf, strlen(buf), &h));
    buf[strlen(buf) - 2] = 'y'; /* a hand edit */
    assert_false(ua_header_body_intact(buf, strlen(buf), &h));
    assert_int_equal(ua_header_parse("/* hand-written */\n", 19, &h), UA_EHEADER);
    assert_int_equal(ua_header_parse("", 0, &h), UA_EHEADER);
}

/* ---- diff ---- */

static void diff_finds_minimal_hunks(void **state)
{
    (void)state;
    const char *a = "a\nb\nc\nd\ne\nf\n", *b = "a\nB\nc\nd\ne\nf\ng\n";
    ua_diff d;
    assert_int_equal(ua_diff_lines(a, strlen(a), b, strlen(b), &d), 0);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.hunks[0].a_line, 1);
    assert_int_equal(d.hunks[0].a_count, 1);
    assert_int_equal(d.hunks[0].b_count, 1);
    assert_int_equal(d.hunks[1].a_line, 6);
    assert_int_equal(d.hunks[1].a_count, 0);
    assert_int_equal(d.hunks[1].b_line, 6);
    assert_int_equal(d.hunks[1].b_count, 1);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(ua_diff_unified(a, strlen(a), b, strlen(b), &d, "a/x", "b/x", 1, &text, &len),
                     0);
    assert_string_equal(text, "--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
                              "@@ -6 +6,2 @@\n f\n+g\n");
    ua_free(text);
    ua_diff_free(&d);
}

static void diff_of_equal_and_empty_inputs(void **state)
{
    (void)state;
    ua_diff d;
    assert_int_equal(ua_diff_lines("x\n", 2, "x\n", 2, &d), 0);
    assert_int_equal(d.n, 0);
    ua_diff_free(&d);
    assert_int_equal(ua_diff_lines("", 0, "a\nb\n", 4, &d), 0);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.hunks[0].b_count, 2);
    ua_diff_free(&d);
    assert_int_equal(ua_diff_lines("a", 1, "b", 1, &d), 0); /* no final newline */
    assert_int_equal(d.n, 1);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(ua_diff_unified("a", 1, "b", 1, &d, "x", "y", 3, &text, &len), 0);
    assert_non_null(strstr(text, "\\ No newline at end of file"));
    ua_free(text);
    ua_diff_free(&d);
}

/* The hunks, applied to A, must give B: checked on pseudo-random edits of many sizes. */
static void diff_hunks_rebuild_the_target(void **state)
{
    (void)state;
    unsigned seed = 12345;
    for (int round = 0; round < 200; round++) {
        char a[4096], b[4096];
        size_t al = 0, bl = 0;
        int na = (int)(seed % 40), nb;
        for (int i = 0; i < na; i++) {
            seed = seed * 1103515245 + 12345;
            al += (size_t)snprintf(a + al, sizeof a - al, "l%u\n", (seed >> 16) % 6);
        }
        /* b: a copy of a with random deletions, insertions and replacements */
        const char *p = a;
        nb = 0;
        while (*p) {
            const char *nl = strchr(p, '\n');
            seed = seed * 1103515245 + 12345;
            unsigned r = (seed >> 16) % 10;
            if (r == 0) { /* delete */
            } else if (r == 1) {
                bl += (size_t)snprintf(b + bl, sizeof b - bl, "new%d\n", nb++);
            } else {
                memcpy(b + bl, p, (size_t)(nl - p + 1));
                bl += (size_t)(nl - p + 1);
                if (r == 2)
                    bl += (size_t)snprintf(b + bl, sizeof b - bl, "ins%d\n", nb++);
            }
            p = nl + 1;
        }
        ua_diff d;
        assert_int_equal(ua_diff_lines(a, al, b, bl, &d), 0);
        /* apply */
        char out[8192];
        size_t ol = 0, ai = 0;
        const char *alines[64], *blines[64];
        size_t alens[64], blens[64], nal = 0, nbl = 0;
        for (const char *q = a; q < a + al; q = strchr(q, '\n') + 1) {
            alines[nal] = q;
            alens[nal++] = (size_t)(strchr(q, '\n') - q + 1);
        }
        for (const char *q = b; q < b + bl; q = strchr(q, '\n') + 1) {
            blines[nbl] = q;
            blens[nbl++] = (size_t)(strchr(q, '\n') - q + 1);
        }
        for (size_t h = 0; h < d.n; h++) {
            for (; ai < d.hunks[h].a_line; ai++) {
                memcpy(out + ol, alines[ai], alens[ai]);
                ol += alens[ai];
            }
            for (size_t k = 0; k < d.hunks[h].b_count; k++) {
                size_t j = d.hunks[h].b_line + k;
                memcpy(out + ol, blines[j], blens[j]);
                ol += blens[j];
            }
            ai += d.hunks[h].a_count;
        }
        for (; ai < nal; ai++) {
            memcpy(out + ol, alines[ai], alens[ai]);
            ol += alens[ai];
        }
        assert_int_equal(ol, bl);
        assert_memory_equal(out, b, bl);
        ua_diff_free(&d);
    }
}

/* One side much longer than the other: the backward search's diagonals reach |N - M| past the
 * forward ones, and its vector must hold them (ASan saw writes before it). */
static void diff_of_very_unequal_lengths(void **state)
{
    (void)state;
    char b[2048];
    size_t bl = 0;
    for (int i = 0; i < 100; i++)
        bl += (size_t)snprintf(b + bl, sizeof b - bl, "%s\n", i == 50 ? "y" : "l");
    for (int swap = 0; swap < 2; swap++) {
        const char *a = "x\ny\n";
        ua_diff d;
        if (swap)
            assert_int_equal(ua_diff_lines(b, bl, a, 4, &d), 0);
        else
            assert_int_equal(ua_diff_lines(a, 4, b, bl, &d), 0);
        size_t del = 0, ins = 0;
        for (size_t h = 0; h < d.n; h++) {
            del += swap ? d.hunks[h].b_count : d.hunks[h].a_count;
            ins += swap ? d.hunks[h].a_count : d.hunks[h].b_count;
        }
        assert_int_equal(del, 1); /* "x" goes, "y" stays */
        assert_int_equal(ins, 99);
        ua_diff_free(&d);
    }
}

/* ---- source map ---- */

static void source_map_maps_both_ways(void **state)
{
    (void)state;
    static const char json[] = "{\"sources\": [\"a.c\"]}";
    ua_findings f = {0};
    ua_config *cfg;
    assert_int_equal(ua_config_parse(json, sizeof json - 1, "unasync.json", &cfg, &f), 0);
    const char *src = "async int f(void) { return await async_get(); }\n";
    const char *sources[] = {"a.c"};
    ua_project pj = {cfg, sources, 1};
    ua_output o;
    assert_int_equal(ua_transform(NULL, &pj, "a.c", src, strlen(src), &o), 0);
    const char *body = o.bytes + o.header_len;
    assert_string_equal(body, "int f(void) { return sync_get(); }\n");
    /* 'f' in the source -> 'f' in the twin, and back */
    size_t sf = (size_t)(strchr(src, 'f') - src);
    size_t tf = ua_map_to_twin(&o.map, sf);
    assert_int_equal(o.bytes[tf], 'f');
    assert_int_equal(ua_map_to_source(&o.map, tf), sf);
    /* the renamed call maps to its source token */
    size_t sg = (size_t)(strstr(src, "async_get") - src);
    size_t tg = ua_map_to_twin(&o.map, sg);
    assert_memory_equal(o.bytes + tg, "sync_get", 8);
    assert_int_equal(ua_map_to_source(&o.map, tg), sg);
    /* the header maps to the start of the source; a removed marker maps to where it stood */
    assert_int_equal(ua_map_to_source(&o.map, 5), 0);
    size_t sa = (size_t)(strstr(src, "await") - src);
    assert_int_equal(ua_map_to_twin(&o.map, sa), (size_t)(strstr(o.bytes, "sync_get") - o.bytes));
    /* line N of the source is line N+1 of the twin */
    unsigned l, c;
    ua_offset_to_linecol(o.bytes, o.len, tf, &l, &c);
    assert_int_equal(l, 2);
    ua_output_free(&o);
    ua_config_free(cfg);
}

static void findings_sort_in_a_stable_order(void **state)
{
    (void)state;
    ua_findings f = {0};
    ua_findings_add(&f, "b.c", 1, 1, UA_ERROR, "UA1", "x");
    ua_findings_add(&f, "a.c", 9, 2, UA_ERROR, "UA1", "x");
    ua_findings_add(&f, "a.c", 9, 1, UA_WARNING, "UA2", "y");
    ua_findings_add(&f, "a.c", 2, 5, UA_ERROR, "UA1", "z");
    ua_findings_sort(&f);
    assert_string_equal(f.v[0].message, "z");
    assert_int_equal(f.v[1].col, 1);
    assert_int_equal(f.v[2].col, 2);
    assert_string_equal(f.v[3].file, "b.c");
    assert_int_equal(ua_findings_count(&f, UA_ERROR), 3);
    ua_findings_free(&f);
    ua_findings_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_parses_every_key),
        cmocka_unit_test(config_defaults),
        cmocka_unit_test(config_reports_json_syntax_with_position),
        cmocka_unit_test(config_reports_unknown_keys_and_wrong_types),
        cmocka_unit_test(config_refuses_paths_outside_the_project),
        cmocka_unit_test(config_validates_rules_and_markers),
        cmocka_unit_test(rename_most_specific_rule_wins),
        cmocka_unit_test(rename_refuses_results_that_are_not_identifiers),
        cmocka_unit_test(twin_names_follow_the_pattern),
        cmocka_unit_test(sha256_matches_known_vectors),
        cmocka_unit_test(header_parse_and_body_hash),
        cmocka_unit_test(diff_finds_minimal_hunks),
        cmocka_unit_test(diff_of_equal_and_empty_inputs),
        cmocka_unit_test(diff_hunks_rebuild_the_target),
        cmocka_unit_test(diff_of_very_unequal_lengths),
        cmocka_unit_test(source_map_maps_both_ways),
        cmocka_unit_test(findings_sort_in_a_stable_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
