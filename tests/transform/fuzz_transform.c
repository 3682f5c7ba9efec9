/* fuzz_transform.c - libFuzzer target over the configuration reader and the transformer. The
 * first byte picks what the rest is: an unasync.json, a C source, or both split in two. Every
 * successful transform must satisfy the invariants the golden runner checks. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ua.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ua_ctx *ctx;

static void check_invariants(const char *src, size_t len, const ua_output *o)
{
    ua_header h;
    if (ua_header_parse(o->bytes, o->len, &h) != 0 || !ua_header_body_intact(o->bytes, o->len, &h))
        abort();
    size_t pos = 0, opos = 0;
    for (size_t k = 0; k < o->map.n; k++) {
        const ua_edit *e = &o->map.edits[k];
        if (e->src_off < pos || e->out_off - opos != e->src_off - pos ||
            memcmp(o->bytes + opos, src + pos, e->src_off - pos) != 0)
            abort();
        pos = e->src_off + e->src_len;
        opos = e->out_off + e->out_len;
    }
    if (o->len - opos != len - pos || memcmp(o->bytes + opos, src + pos, len - pos) != 0)
        abort();
    /* the map never points outside either file */
    for (size_t off = 0; off <= len; off += 7)
        if (ua_map_to_twin(&o->map, off) > o->len)
            abort();
    for (size_t off = 0; off <= o->len; off += 7)
        if (ua_map_to_source(&o->map, off) > len)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char dflt[] = "{\"sources\": [\"*.c\", \"*.h\"], \"rename\": {\"rl_*\": "
                               "\"rl_sync_*\", \"*_async\": \"*_blocking\", \"exact\": \"renamed\"}}";
    if (!ctx)
        ctx = ua_ctx_new();
    if (size == 0)
        return 0;
    int mode = data[0] % 3;
    const char *rest = (const char *)data + 1;
    size_t n = size - 1;
    const char *json = dflt, *src = rest;
    size_t json_len = sizeof dflt - 1, src_len = n;
    if (mode == 0) { /* configuration only */
        json = rest;
        json_len = n;
        src = "async int f(void) { return await async_g(); }\n";
        src_len = strlen(src);
    } else if (mode == 2) { /* configuration, a NUL-free separator '\x01', then a source */
        const char *sep = memchr(rest, '\x01', n);
        if (sep) {
            json = rest;
            json_len = (size_t)(sep - rest);
            src = sep + 1;
            src_len = n - json_len - 1;
        }
    }
    ua_findings f = {0};
    ua_config *cfg = NULL;
    if (ua_config_parse(json, json_len, "unasync.json", &cfg, &f) == 0) {
        /* every twin name the pattern makes is recognised as one (so no source is ever named
         * like a twin, and no twin can be its own source), in linear time */
        for (int h = 0; h < 3; h++) {
            static const char *const names[] = {"input.c", "a", ".rc"};
            char *tn = ua_twin_name(cfg->twin, names[h]);
            if (tn && (!ua_is_twin_name(cfg->twin, tn) || strcmp(tn, names[h]) == 0))
                abort();
            ua_free(tn);
        }
        (void)ua_header_looks_generated(src, src_len);
        const char *sources[] = {"input.h", "other.h"};
        ua_project pj = {cfg, sources, 2};
        for (int h = 0; h < 2; h++) {
            ua_output o;
            int rc = ua_transform(ctx, &pj, h ? "input.h" : "input.c", src, src_len, &o);
            if (rc == 0)
                check_invariants(src, src_len, &o);
            else if (rc != UA_ESOURCE || o.bytes)
                abort();
            ua_output_free(&o);
        }
        ua_config_free(cfg);
    } else if (f.n == 0) {
        abort(); /* a rejected configuration always says why */
    }
    ua_findings_free(&f);
    return 0;
}
