/* Unit tests of JSON-RPC decoding and encoding, including the real clients' initialize. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lsp.h"
#include "ua.h"

static const char *clients_dir;

static int decode(const char *json, lsp_msg_t *m)
{
    return lsp_decode(json, strlen(json), m);
}

/* Wraps initialize params read from a captured client file into a request. */
static int decode_client_initialize(const char *name, lsp_msg_t *m)
{
    char path[1024], *params, *msg;
    FILE *fp;
    long n;
    int rc;
    snprintf(path, sizeof(path), "%s/%s", clients_dir, name);
    fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    assert_true(n >= 0);
    params = malloc((size_t)n + 1);
    assert_non_null(params);
    assert_int_equal(fread(params, 1, (size_t)n, fp), (size_t)n);
    params[n] = 0;
    fclose(fp);
    msg = malloc((size_t)n + 100);
    assert_non_null(msg);
    snprintf(msg, (size_t)n + 100,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":%s}", params);
    rc = decode(msg, m);
    free(params);
    free(msg);
    return rc;
}

static void decode_should_read_neovim_07_initialize(void **state)
{
    lsp_msg_t m;
    assert_int_equal(decode_client_initialize("nvim-0.7.json", &m), 0);
    assert_int_equal(m.kind, LSP_MSG_REQUEST);
    assert_int_equal(m.m, LSP_M_INITIALIZE);
    assert_true(m.init.has_process_id);
    assert_false(m.init.offers_utf8);
    assert_false(m.init.configuration); /* not advertised by 0.7 */
    assert_false(m.init.watched_files_dynamic);
    assert_true(m.init.work_done_progress);
    assert_false(m.init.pull_diagnostics);
    assert_true(m.init.code_action_literals);
    assert_int_equal(m.init.n_folders, 1);
    assert_non_null(m.init.root_uri);
    lsp_msg_free(&m);
}

static void decode_should_read_eglot_initialize(void **state)
{
    lsp_msg_t m;
    assert_int_equal(decode_client_initialize("eglot-1.9.json", &m), 0);
    assert_true(m.init.configuration);
    assert_true(m.init.watched_files_dynamic);
    assert_false(m.init.work_done_progress);
    assert_false(m.init.pull_diagnostics);
    lsp_msg_free(&m);
}

static void decode_should_read_vscode_initialize(void **state)
{
    lsp_msg_t m;
    assert_int_equal(decode_client_initialize("vscode-1.100-lc9.json", &m), 0);
    assert_false(m.init.offers_utf8); /* utf-16 only */
    assert_true(m.init.configuration);
    assert_true(m.init.watched_files_dynamic);
    assert_true(m.init.pull_diagnostics);
    assert_true(m.init.work_done_progress);
    assert_true(m.init.document_changes);
    lsp_msg_free(&m);
}

static void decode_should_classify_messages(void **state)
{
    lsp_msg_t m;
    assert_int_equal(decode("{\"jsonrpc\":\"2.0\",\"method\":\"initialized\",\"params\":{}}", &m),
                     0);
    assert_int_equal(m.kind, LSP_MSG_NOTIFICATION);
    assert_int_equal(m.m, LSP_M_INITIALIZED);
    lsp_msg_free(&m);
    assert_int_equal(decode("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"foo/bar\"}", &m), 0);
    assert_int_equal(m.kind, LSP_MSG_REQUEST);
    assert_int_equal(m.m, LSP_M_UNKNOWN);
    assert_string_equal(m.method, "foo/bar");
    assert_int_equal(m.id.type, LSP_ID_STRING);
    assert_string_equal(m.id.str, "a");
    lsp_msg_free(&m);
    assert_int_equal(decode("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"applied\":true}}", &m), 0);
    assert_int_equal(m.kind, LSP_MSG_RESPONSE);
    {
        bool applied = false;
        assert_int_equal(lsp_result_applied(&m, &applied), 0);
        assert_true(applied);
    }
    lsp_msg_free(&m);
    assert_int_equal(
        decode("{\"jsonrpc\":\"2.0\",\"id\":8,\"error\":{\"code\":-32601,\"message\":\"x\"}}", &m),
        0);
    assert_true(m.is_error);
    assert_int_equal(m.error_code, -32601);
    lsp_msg_free(&m);
}

static void decode_should_refuse_malformed_input(void **state)
{
    lsp_msg_t m;
    assert_int_equal(decode("{\"jsonrpc\":\"2.0\",", &m), LSP_EPARSE);
    lsp_msg_free(&m);
    assert_int_equal(decode("{} x", &m), LSP_EPARSE);
    lsp_msg_free(&m);
    assert_int_equal(decode("[1,2]", &m), LSP_EINVALID);
    lsp_msg_free(&m);
    assert_int_equal(decode("{\"jsonrpc\":\"1.0\",\"id\":3,\"method\":\"shutdown\"}", &m),
                     LSP_EINVALID);
    assert_int_equal(m.kind, LSP_MSG_REQUEST);
    assert_int_equal(m.id.num, 3);
    lsp_msg_free(&m);
    assert_int_equal(decode("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":17}", &m), LSP_EINVALID);
    lsp_msg_free(&m);
    assert_int_equal(decode("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"x\"}", &m), LSP_EINVALID);
    lsp_msg_free(&m);
    /* wrong types and missing params of known methods */
    assert_int_equal(decode("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"textDocument/hover\","
                            "\"params\":{\"textDocument\":{\"uri\":1},\"position\":{}}}",
                            &m),
                     LSP_EPARAMS);
    assert_int_equal(m.kind, LSP_MSG_REQUEST);
    assert_int_equal(m.id.num, 5);
    lsp_msg_free(&m);
    assert_int_equal(decode("{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"textDocument/hover\","
                            "\"params\":{\"textDocument\":{\"uri\":\"file:///a\"},"
                            "\"position\":{\"line\":-1,\"character\":0}}}",
                            &m),
                     LSP_EPARAMS);
    lsp_msg_free(&m);
    assert_int_equal(decode("{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\"}", &m),
                     LSP_EPARAMS);
    lsp_msg_free(&m);
    assert_int_equal(decode("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
                            "\"params\":{\"processId\":\"x\"}}",
                            &m),
                     LSP_EPARAMS);
    lsp_msg_free(&m);
    assert_int_equal(
        decode("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"shutdown\",\"params\":3}", &m),
        LSP_EPARAMS);
    lsp_msg_free(&m);
    assert_int_equal(lsp_rpc_code_for(LSP_EPARSE), -32700);
    assert_int_equal(lsp_rpc_code_for(LSP_EINVALID), -32600);
    assert_int_equal(lsp_rpc_code_for(LSP_EPARAMS), -32602);
}

static void decode_should_read_incremental_changes(void **state)
{
    lsp_msg_t m;
    assert_int_equal(
        decode("{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didChange\",\"params\":{"
               "\"textDocument\":{\"uri\":\"file:///x.c\",\"version\":3},\"contentChanges\":["
               "{\"range\":{\"start\":{\"line\":1,\"character\":12},\"end\":{\"line\":1,"
               "\"character\":14}},\"text\":\"GOO\"},{\"text\":\"all\"}]}}",
               &m),
        0);
    assert_int_equal(m.p.n_changes, 2);
    assert_true(m.p.changes[0].has_range);
    assert_int_equal(m.p.changes[0].range.start.character, 12);
    assert_string_equal(m.p.changes[0].text, "GOO");
    assert_false(m.p.changes[1].has_range);
    assert_int_equal(m.p.version, 3);
    lsp_msg_free(&m);
}

static void decode_should_read_settings_in_every_shape(void **state)
{
    lsp_msg_t m;
    assert_int_equal(
        decode("{\"jsonrpc\":\"2.0\",\"method\":\"workspace/didChangeConfiguration\",\"params\":{"
               "\"settings\":{\"unasync\":{\"lint\":{\"enable\":false},\"drift\":{\"severity\":"
               "\"hint\"},\"trace\":{\"server\":\"verbose\"}}}}}",
               &m),
        0);
    assert_true(m.p.settings.has_lint_enable);
    assert_false(m.p.settings.lint_enable);
    assert_int_equal(m.p.settings.drift_severity, LSP_SEVERITY_HINT);
    assert_int_equal(m.p.settings.trace, LSP_TRACE_VERBOSE);
    lsp_msg_free(&m);
    assert_int_equal(
        decode("{\"jsonrpc\":\"2.0\",\"method\":\"workspace/didChangeConfiguration\",\"params\":{"
               "\"settings\":{\"unasync.drift.severity\":\"error\"}}}",
               &m),
        0);
    assert_true(m.p.settings.has_drift_severity);
    assert_int_equal(m.p.settings.drift_severity, LSP_SEVERITY_ERROR);
    assert_false(m.p.settings.has_lint_enable);
    lsp_msg_free(&m);
    /* eglot sends {settings: {}} right after initialize: nothing is set */
    assert_int_equal(decode("{\"jsonrpc\":\"2.0\",\"method\":\"workspace/didChangeConfiguration\","
                            "\"params\":{\"settings\":{}}}",
                            &m),
                     0);
    assert_false(m.p.settings.has_drift_severity);
    lsp_msg_free(&m);
    assert_int_equal(decode("{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":[{\"drift\":{\"severity\":"
                            "\"information\"}},null]}",
                            &m),
                     0);
    {
        lsp_settings_t s;
        assert_int_equal(lsp_result_settings(&m, 0, &s), 0);
        assert_int_equal(s.drift_severity, LSP_SEVERITY_INFORMATION);
        assert_int_equal(lsp_result_settings(&m, 1, &s), 0);
        assert_false(s.has_drift_severity);
        assert_int_equal(lsp_result_settings(&m, 2, &s), LSP_EPARAMS);
    }
    lsp_msg_free(&m);
}

static void decode_should_read_command_arguments(void **state)
{
    lsp_msg_t m;
    assert_int_equal(decode("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"workspace/executeCommand\","
                            "\"params\":{\"command\":\"unasync.regenerate\",\"arguments\":"
                            "[{\"uri\":\"file:///a/x.c\"}]}}",
                            &m),
                     0);
    assert_string_equal(m.p.command, "unasync.regenerate");
    assert_string_equal(m.p.arg_uri, "file:///a/x.c");
    lsp_msg_free(&m);
    assert_int_equal(decode("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"workspace/executeCommand\","
                            "\"params\":{\"command\":\"unasync.regenerate\",\"arguments\":[3]}}",
                            &m),
                     LSP_EPARAMS);
    lsp_msg_free(&m);
}

static void encode_should_frame_and_escape(void **state)
{
    lsp_out_t out;
    lsp_id_t id = {LSP_ID_NUMBER, 42, NULL};
    lsp_msg_t m;
    lsp_framer_t f;
    const char *body;
    size_t len;
    assert_int_equal(lsp_encode_error(&id, -32601, "no \"such\" method", &out), 0);
    lsp_framer_init(&f, 0);
    assert_int_equal(lsp_framer_feed(&f, out.data, out.len), 0);
    assert_int_equal(lsp_framer_next(&f, &body, &len), 0);
    assert_int_equal(lsp_decode(body, len, &m), 0);
    assert_true(m.is_error);
    assert_int_equal(m.error_code, -32601);
    assert_int_equal(m.id.num, 42);
    lsp_msg_free(&m);
    lsp_framer_free(&f);
    lsp_out_free(&out);
    lsp_out_free(NULL);
}

static void encode_should_build_diagnostics_with_related_information(void **state)
{
    lsp_out_t out;
    lsp_related_t rel = {{"file:///w/x.c", {{3, 0}, {4, 0}}}, "source lines"};
    lsp_diagnostic_t d = {{{4, 0}, {5, 0}}, LSP_SEVERITY_WARNING, "drift", "out of date", &rel, 1,
                          NULL};
    assert_int_equal(
        lsp_encode_publish_diagnostics("file:///w/sync_x.c", -1, "unasync", &d, 1, &out), 0);
    assert_non_null(
        strstr(out.data, "\"relatedInformation\":[{\"location\":{\"uri\":\"file:///w/x.c\""));
    assert_non_null(strstr(out.data, "\"severity\":2"));
    assert_null(strstr(out.data, "\"version\""));
    assert_null(strstr(out.data, "codeDescription"));
    lsp_out_free(&out);
    /* a rule with a documentation page links to it */
    d.code = "UA004";
    d.code_href = "file:///usr/share/doc/unasync/lint/UA004.md";
    assert_int_equal(
        lsp_encode_publish_diagnostics("file:///w/x.c", -1, "unasync", &d, 1, &out), 0);
    assert_non_null(strstr(out.data, "\"codeDescription\":{\"href\":"
                                     "\"file:///usr/share/doc/unasync/lint/UA004.md\"}"));
    lsp_out_free(&out);
}

static int fail_after = -1;
static void *failing_malloc(size_t n)
{
    if (fail_after == 0)
        return NULL;
    if (fail_after > 0)
        fail_after--;
    return malloc(n);
}

static void *failing_realloc(void *p, size_t n)
{
    if (fail_after == 0)
        return NULL;
    if (fail_after > 0)
        fail_after--;
    return realloc(p, n);
}

/* Every allocation of a decode+encode round fails in turn: no leak, no crash (ASan checks). */
static void decode_and_encode_should_survive_every_failed_allocation(void **state)
{
    const char *json = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"textDocument/didChange\","
                       "\"params\":{\"textDocument\":{\"uri\":\"file:///x.c\",\"version\":3},"
                       "\"contentChanges\":[{\"text\":\"a\"},{\"text\":\"b\"}]}}";
    int i, failures = 0;
    ua_set_allocator(failing_malloc, failing_realloc, free); /* the core stack's one hook */
    for (i = 0; i < 200; i++) {
        lsp_msg_t m;
        lsp_out_t out;
        lsp_related_t rel = {{"file:///w/x.c", {{3, 0}, {4, 0}}}, "src"};
        lsp_diagnostic_t d = {{{4, 0}, {5, 0}}, LSP_SEVERITY_WARNING, "drift", "m", &rel, 1, NULL};
        int rc;
        fail_after = i;
        rc = decode(json, &m);
        lsp_msg_free(&m);
        if (rc != 0 && rc != LSP_ENOMEM) /* valid JSON: out of memory is never a parse error */
            fail_msg("allocation %d failing: decode says %s", i, lsp_strerror(rc));
        if (rc == LSP_ENOMEM)
            failures++;
        fail_after = i;
        if (lsp_encode_publish_diagnostics("file:///a", 1, NULL, &d, 1, &out) == LSP_ENOMEM)
            failures++;
        lsp_out_free(&out);
    }
    fail_after = -1;
    ua_set_allocator(NULL, NULL, NULL);
    assert_true(failures > 10);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_should_read_neovim_07_initialize),
        cmocka_unit_test(decode_should_read_eglot_initialize),
        cmocka_unit_test(decode_should_read_vscode_initialize),
        cmocka_unit_test(decode_should_classify_messages),
        cmocka_unit_test(decode_should_refuse_malformed_input),
        cmocka_unit_test(decode_should_read_incremental_changes),
        cmocka_unit_test(decode_should_read_settings_in_every_shape),
        cmocka_unit_test(decode_should_read_command_arguments),
        cmocka_unit_test(encode_should_frame_and_escape),
        cmocka_unit_test(encode_should_build_diagnostics_with_related_information),
        cmocka_unit_test(decode_and_encode_should_survive_every_failed_allocation),
    };
    clients_dir = argc > 1 ? argv[1] : "tests/protocol/clients";
    return cmocka_run_group_tests(tests, NULL, NULL);
}
