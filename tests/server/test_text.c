/* Unit tests of the server's text model: positions in utf-8 and exact utf-16, clamping,
 * incremental edits, and file URIs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "srv_int.h"

static ws_pos pos(int64_t line, int64_t ch)
{
    ws_pos p = {line, ch};
    return p;
}

static lsp_position_t lpos(int64_t line, int64_t ch)
{
    lsp_position_t p = {line, ch};
    return p;
}

/* "a😀b" : 😀 is U+1F600, 4 bytes in UTF-8 and a surrogate pair (2 units) in UTF-16. */
static const char non_bmp[] = "x\na\xF0\x9F\x98\x80"
                              "b\n";

static void utf16_positions_should_count_surrogate_pairs(void **state)
{
    size_t len = strlen(non_bmp);
    assert_int_equal(srv_text_offset(non_bmp, len, pos(1, 1), false), 3);
    assert_int_equal(srv_text_offset(non_bmp, len, pos(1, 3), false), 7); /* after the emoji */
    assert_int_equal(srv_text_offset(non_bmp, len, pos(1, 4), false), 8); /* end of line */
    /* inside the pair: clamped to the start of the character */
    assert_int_equal(srv_text_offset(non_bmp, len, pos(1, 2), false), 3);
    assert_int_equal(srv_text_position(non_bmp, len, 7, false).character, 3);
    assert_int_equal(srv_text_position(non_bmp, len, 7, true).character, 5);
}

static void utf8_positions_should_count_bytes(void **state)
{
    size_t len = strlen(non_bmp);
    assert_int_equal(srv_text_offset(non_bmp, len, pos(1, 5), true), 7);
    /* inside a UTF-8 sequence: backed up to its lead byte */
    assert_int_equal(srv_text_offset(non_bmp, len, pos(1, 3), true), 3);
}

static void out_of_range_positions_should_clamp(void **state)
{
    const char *t = "ab\r\ncd\n";
    size_t len = strlen(t);
    assert_int_equal(srv_text_offset(t, len, pos(0, 99), false), 2);  /* before \r\n */
    assert_int_equal(srv_text_offset(t, len, pos(2, 0), false), len); /* Neovim's last+1 */
    assert_int_equal(srv_text_offset(t, len, pos(99, 5), true), len);
}

static void incremental_changes_should_apply_in_order(void **state)
{
    ws_doc d;
    lsp_content_change_t ch;
    memset(&d, 0, sizeof(d));
    assert_int_equal(srv_text_replace(&d.text, &d.len, &d.cap, 0, 0, "int x = BAD;\n", 13), 0);
    memset(&ch, 0, sizeof(ch));
    ch.has_range = true;
    ch.range.start = lpos(0, 8);
    ch.range.end = lpos(0, 10);
    ch.text = "GOO";
    ch.text_len = 3;
    assert_int_equal(srv_doc_apply_change(&d, &ch, false), 0);
    assert_string_equal(d.text, "int x = GOOD;\n");
    /* append past the last line, as Neovim 0.7 sends it */
    ch.range.start = ch.range.end = lpos(1, 0);
    ch.text = "int y;\n";
    ch.text_len = 7;
    assert_int_equal(srv_doc_apply_change(&d, &ch, false), 0);
    assert_string_equal(d.text, "int x = GOOD;\nint y;\n");
    /* a surrogate pair replaced through utf-16 positions */
    ch.range.start = lpos(1, 4);
    ch.range.end = lpos(1, 5);
    ch.text = "\xF0\x9F\x98\x80";
    ch.text_len = 4;
    assert_int_equal(srv_doc_apply_change(&d, &ch, false), 0);
    assert_string_equal(d.text, "int x = GOOD;\nint \xF0\x9F\x98\x80;\n");
    ch.range.start = lpos(1, 4);
    ch.range.end = lpos(1, 6);
    ch.text = "z";
    ch.text_len = 1;
    assert_int_equal(srv_doc_apply_change(&d, &ch, false), 0);
    assert_string_equal(d.text, "int x = GOOD;\nint z;\n");
    /* full replacement */
    ch.has_range = false;
    ch.text = "";
    ch.text_len = 0;
    assert_int_equal(srv_doc_apply_change(&d, &ch, true), 0);
    assert_int_equal(d.len, 0);
    free(d.text);
}

static void uris_should_round_trip_and_normalize(void **state)
{
    char *p = srv_uri_to_path("file:///tmp/a%20b/./c/../x%C3%A9.c");
    char *u;
    assert_string_equal(p, "/tmp/a b/x\xC3\xA9.c");
    u = srv_path_to_uri(p);
    assert_string_equal(u, "file:///tmp/a%20b/x%C3%A9.c");
    free(p);
    free(u);
    assert_null(srv_uri_to_path("untitled:Untitled-1"));
    assert_null(srv_uri_to_path("file://host/share/x.c"));
    assert_null(srv_uri_to_path("file:///a%00b"));
    p = srv_uri_to_path("file:///w/../../etc/passwd");
    assert_string_equal(p, "/etc/passwd");
    assert_false(srv_path_under(p, "/w"));
    free(p);
    assert_true(srv_path_under("/w/x.c", "/w"));
    assert_false(srv_path_under("/wx/x.c", "/w"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf16_positions_should_count_surrogate_pairs),
        cmocka_unit_test(utf8_positions_should_count_bytes),
        cmocka_unit_test(out_of_range_positions_should_clamp),
        cmocka_unit_test(incremental_changes_should_apply_in_order),
        cmocka_unit_test(uris_should_round_trip_and_normalize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
