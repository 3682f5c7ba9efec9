/* libFuzzer target over framing + JSON-RPC decoding + the replies the server's dispatch makes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Feeds the input in two chunks (split by its first byte) and answers every message the way
 * the server's dispatcher does: decode, then encode a reply or an error for its id. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lsp_framer_t f;
    size_t split = size ? data[0] % (size + 1) : 0;
    const char *body;
    size_t len;
    int rc, rounds = 0;

    lsp_framer_init(&f, 1 << 16);
    if (lsp_framer_feed(&f, data, split) != 0)
        goto done;
    for (int part = 0; part < 2; part++) {
        while ((rc = lsp_framer_next(&f, &body, &len)) != LSP_EAGAIN && rounds++ < 1000) {
            lsp_msg_t m;
            lsp_out_t out = {0};
            if (rc != 0) {
                lsp_encode_error(NULL, lsp_rpc_code_for(rc), lsp_strerror(rc), &out);
                lsp_out_free(&out);
                continue;
            }
            rc = lsp_decode(body, len, &m);
            if (rc != 0)
                lsp_encode_error(&m.id, lsp_rpc_code_for(rc), lsp_strerror(rc), &out);
            else if (m.kind == LSP_MSG_REQUEST && m.m == LSP_M_INITIALIZE) {
                lsp_server_caps_t caps = {m.init.offers_utf8, m.init.pull_diagnostics, true, "f"};
                lsp_encode_initialize_result(&m.id, &caps, NULL, 0, &out);
            } else if (m.kind == LSP_MSG_REQUEST && m.m == LSP_M_HOVER) {
                lsp_range_t r = {m.p.position, m.p.position};
                lsp_encode_hover(&m.id, m.p.uri, &r, &out);
            } else if (m.kind == LSP_MSG_REQUEST && m.m == LSP_M_EXECUTE_COMMAND) {
                lsp_code_action_t a = {m.p.command, "quickfix",  true, NULL,
                                       0,           m.p.command, NULL, m.p.arg_uri};
                lsp_encode_code_actions(&m.id, &a, 1, true, &out);
            } else if (m.kind == LSP_MSG_RESPONSE) {
                bool applied;
                lsp_settings_t s;
                lsp_result_applied(&m, &applied);
                lsp_result_settings(&m, 0, &s);
            } else if (m.kind == LSP_MSG_REQUEST)
                lsp_encode_null_result(&m.id, &out);
            lsp_out_free(&out);
            lsp_msg_free(&m);
        }
        if (part == 0 && lsp_framer_feed(&f, data + split, size - split) != 0)
            break;
    }
done:
    lsp_framer_free(&f);
    return 0;
}
