/* Unit tests of the Content-Length framer: chunking, header case, errors and recovery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lsp.h"

static void expect_body(lsp_framer_t *f, const char *want)
{
    const char *body = NULL;
    size_t len = 0;
    assert_int_equal(lsp_framer_next(f, &body, &len), 0);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(body, want, len);
}

static void framer_should_split_two_messages_in_one_chunk(void **state)
{
    lsp_framer_t f;
    const char *in = "Content-Length: 2\r\n\r\n{}Content-Length: 3\r\n\r\n[1]";
    const char *b;
    size_t n;
    lsp_framer_init(&f, 0);
    assert_int_equal(lsp_framer_feed(&f, in, strlen(in)), 0);
    expect_body(&f, "{}");
    expect_body(&f, "[1]");
    assert_int_equal(lsp_framer_next(&f, &b, &n), LSP_EAGAIN);
    lsp_framer_free(&f);
}

static void framer_should_accept_any_chunking(void **state)
{
    const char *in = "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n"
                     "content-LENGTH:   5  \r\n\r\nhello"
                     "Content-Length: 5\n\nworld";
    size_t total = strlen(in), step;
    for (step = 1; step <= total; step++) {
        lsp_framer_t f;
        size_t off, got = 0;
        const char *b;
        size_t n;
        lsp_framer_init(&f, 0);
        for (off = 0; off < total; off += step) {
            size_t k = total - off < step ? total - off : step;
            assert_int_equal(lsp_framer_feed(&f, in + off, k), 0);
            while (lsp_framer_next(&f, &b, &n) == 0) {
                assert_int_equal(n, 5);
                assert_memory_equal(b, got == 0 ? "hello" : "world", 5);
                got++;
            }
        }
        assert_int_equal(got, 2);
        lsp_framer_free(&f);
    }
}

static void framer_should_report_missing_length_and_recover(void **state)
{
    lsp_framer_t f;
    const char *in = "Content-Type: x\r\n\r\n{}garbage\r\nContent-Length: 2\r\n\r\n{}";
    const char *b;
    size_t n;
    lsp_framer_init(&f, 0);
    assert_int_equal(lsp_framer_feed(&f, in, strlen(in)), 0);
    assert_int_equal(lsp_framer_next(&f, &b, &n), LSP_EBADHEADER);
    expect_body(&f, "{}");
    lsp_framer_free(&f);
}

static void framer_should_reject_non_numeric_length(void **state)
{
    lsp_framer_t f;
    const char *in = "Content-Length: 12abc\r\n\r\nContent-Length: -1\r\n\r\n"
                     "Content-Length: 99999999999999999999999999\r\n\r\nContent-Length: 1\r\n\r\nx";
    const char *b;
    size_t n;
    int bad = 0, rc;
    lsp_framer_init(&f, 0);
    assert_int_equal(lsp_framer_feed(&f, in, strlen(in)), 0);
    while ((rc = lsp_framer_next(&f, &b, &n)) == LSP_EBADHEADER)
        bad++;
    assert_int_equal(rc, 0);
    assert_int_equal(n, 1);
    assert_int_equal(bad, 3);
    lsp_framer_free(&f);
}

static void framer_should_skip_oversized_body(void **state)
{
    lsp_framer_t f;
    char big[100];
    const char *b;
    size_t n;
    memset(big, 'x', sizeof(big));
    lsp_framer_init(&f, 10);
    assert_int_equal(lsp_framer_feed(&f, "Content-Length: 100\r\n\r\n", 23), 0);
    assert_int_equal(lsp_framer_next(&f, &b, &n), LSP_ETOOBIG);
    assert_int_equal(lsp_framer_feed(&f, big, 60), 0);
    assert_int_equal(lsp_framer_next(&f, &b, &n), LSP_EAGAIN);
    assert_int_equal(lsp_framer_feed(&f, big, 40), 0);
    assert_int_equal(lsp_framer_feed(&f, "Content-Length: 2\r\n\r\nok", 23), 0);
    expect_body(&f, "ok");
    lsp_framer_free(&f);
}

/* issue 15: a Content-Length no client will ever send (99999999999) must not make the framer
 * wait for that many bytes: the next message is served. */
static void framer_should_resync_after_an_absurd_length(void **state)
{
    lsp_framer_t f;
    const char *b;
    size_t n;
    (void)state;
    lsp_framer_init(&f, 0);
    const char *hdr = "Content-Length: 99999999999\r\n\r\n{\"jsonrpc\":\"2.0\"}";
    assert_int_equal(lsp_framer_feed(&f, hdr, strlen(hdr)), 0);
    assert_int_equal(lsp_framer_next(&f, &b, &n), LSP_ETOOBIG);
    assert_int_equal(lsp_framer_next(&f, &b, &n), LSP_EAGAIN);
    assert_true(f.len - f.start <= 16); /* it buffers nothing of the announced body */
    assert_int_equal(lsp_framer_feed(&f, "Content-Length: 2\r\n\r\nok", 23), 0);
    expect_body(&f, "ok");
    lsp_framer_free(&f);
}

static void framer_should_reject_endless_header(void **state)
{
    lsp_framer_t f;
    char junk[LSP_MAX_HEADER_BYTES + 10];
    const char *b;
    size_t n;
    memset(junk, 'a', sizeof(junk));
    lsp_framer_init(&f, 0);
    assert_int_equal(lsp_framer_feed(&f, junk, sizeof(junk)), 0);
    assert_int_equal(lsp_framer_next(&f, &b, &n), LSP_EBADHEADER);
    assert_int_equal(lsp_framer_next(&f, &b, &n), LSP_EAGAIN);
    /* what it keeps while resyncing is bounded */
    assert_true(f.len - f.start <= 16);
    assert_int_equal(lsp_framer_feed(&f, "Content-Length: 1\r\n\r\nz", 22), 0);
    expect_body(&f, "z");
    lsp_framer_free(&f);
}

static void framer_should_reject_conflicting_lengths(void **state)
{
    lsp_framer_t f;
    const char *in = "Content-Length: 1\r\nContent-Length: 2\r\n\r\nab";
    const char *b;
    size_t n;
    lsp_framer_init(&f, 0);
    assert_int_equal(lsp_framer_feed(&f, in, strlen(in)), 0);
    assert_int_equal(lsp_framer_next(&f, &b, &n), LSP_EBADHEADER);
    lsp_framer_free(&f);
}

static void framer_should_hand_out_an_empty_body(void **state)
{
    lsp_framer_t f;
    lsp_framer_init(&f, 0);
    assert_int_equal(lsp_framer_feed(&f, "Content-Length: 0\r\n\r\n", 21), 0);
    expect_body(&f, "");
    lsp_framer_free(&f);
    lsp_framer_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(framer_should_split_two_messages_in_one_chunk),
        cmocka_unit_test(framer_should_accept_any_chunking),
        cmocka_unit_test(framer_should_report_missing_length_and_recover),
        cmocka_unit_test(framer_should_reject_non_numeric_length),
        cmocka_unit_test(framer_should_skip_oversized_body),
        cmocka_unit_test(framer_should_resync_after_an_absurd_length),
        cmocka_unit_test(framer_should_reject_endless_header),
        cmocka_unit_test(framer_should_reject_conflicting_lengths),
        cmocka_unit_test(framer_should_hand_out_an_empty_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
