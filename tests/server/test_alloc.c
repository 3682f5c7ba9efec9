/* test_alloc.c - fault injection: a scripted editor session survives the failure of each of the
 * server's allocations in turn: the request at hand gets a JSON-RPC error (a notification a
 * window/logMessage error), the next requests are served, no twin is half written, nothing leaks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "engine.h"
#include "srv_int.h"
#include "testalloc.h"
#include "testfs.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the hook: the core stack's one (ua_set_allocator: transform, engine, lint, protocol,
 * cJSON and the server) is testalloc's, which fails exactly one call ---- */

static void hooks_on(void)
{
    ua_set_allocator(testalloc_malloc, testalloc_realloc, testalloc_free);
}

static void hooks_off(void)
{
    ua_set_allocator(NULL, NULL, NULL);
}

/* ---- the project: an async source whose committed twin the session finds stale ---- */

/* UA005 stays on: the unrenamed `fetch` is a lint finding with quick fixes */
static const char config_json[] = "{ \"sources\": [\"*.c\"], \"lint\": { \"UA000\": \"off\" } }\n";

static const char source_c[] = "#include <unasync/async.h>\n"
                               "\n"
                               "async int fetch(int id) {\n"
                               "    await async_sleep_ms(10);\n"
                               "    return id;\n"
                               "}\n";

/* source_c after the session's two edits (one didChange with two ranged changes; the second
 * outgrows the buffer, so that it needs memory after the first one was applied) */
static const char edited_c[] = "#include <unasync/async.h>\n"
                               "\n"
                               "async int fetch(int id) {\n"
                               "    await async_sleep_ms(20);\n"
                               "    return id + 1; /* the next one, and a longer line */\n"
                               "}\n";

typedef struct project {
    char dir[PATH_MAX];
    char src[PATH_MAX + 16], twin[PATH_MAX + 16];
    char src_uri[PATH_MAX + 32], twin_uri[PATH_MAX + 32], dir_uri[PATH_MAX + 32];
    char *old_twin; /* the committed twin of source_c */
    size_t old_len;
} project;

static void project_reset(const project *p)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/unasync.json", p->dir);
    testfs_spit(path, config_json, strlen(config_json));
    testfs_spit(p->src, source_c, strlen(source_c));
    if (p->old_twin != NULL)
        testfs_spit(p->twin, p->old_twin, p->old_len);
}

/* The names in the project folder: exactly the three files, no temporary left behind. */
static void assert_only_project_files(const project *p)
{
    DIR *d = opendir(p->dir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (strcmp(e->d_name, "unasync.json") != 0 && strcmp(e->d_name, "x.c") != 0 &&
            strcmp(e->d_name, "sync_x.c") != 0)
            fail_msg("unexpected file %s in the project", e->d_name);
        n++;
    }
    closedir(d);
    assert_int_equal(n, 3);
}

/* ---- the session ---- */

enum { MAX_MSGS = 16 };

typedef struct step {
    int id; /* request id, 0 for a notification */
    char body[4096];
} step;

typedef struct script {
    step v[MAX_MSGS];
    int n;
    int did_change, did_save, execute; /* where these messages are */
} script;

static void add(script *sc, int id, const char *fmt, ...)
{
    va_list ap;
    step *st = &sc->v[sc->n++];
    assert_true(sc->n <= MAX_MSGS);
    st->id = id;
    va_start(ap, fmt);
    int n = vsnprintf(st->body, sizeof(st->body), fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof(st->body));
}

/* JSON string contents of C text (the sources hold no quotes or backslashes). */
static void json_text(char *out, size_t cap, const char *s)
{
    size_t o = 0;
    for (; *s; s++) {
        assert_true(o + 3 < cap);
        if (*s == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else
            out[o++] = *s;
    }
    out[o] = '\0';
}

static void add_initialize(script *sc, const project *p, const char *capabilities)
{
    add(sc, 1,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"processId\":null,"
        "\"rootUri\":\"%s\",\"workspaceFolders\":[{\"uri\":\"%s\",\"name\":\"ws\"}],"
        "\"capabilities\":%s}}",
        p->dir_uri, p->dir_uri, capabilities);
    add(sc, 0, "{\"jsonrpc\":\"2.0\",\"method\":\"initialized\",\"params\":{}}");
}

/* didOpen of the source, then one didChange with two ranged changes: 10 -> 20 on line 3, then
 * " + 1 ..." on line 4 */
static void add_open_change(script *sc, const project *p)
{
    char text[1024];
    json_text(text, sizeof(text), source_c);
    add(sc, 0,
        "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\",\"params\":{\"textDocument\":"
        "{\"uri\":\"%s\",\"languageId\":\"c\",\"version\":1,\"text\":\"%s\"}}}",
        p->src_uri, text);
    sc->did_change = sc->n;
    add(sc, 0,
        "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didChange\",\"params\":{\"textDocument\":"
        "{\"uri\":\"%s\",\"version\":2},\"contentChanges\":["
        "{\"range\":{\"start\":{\"line\":3,\"character\":25},\"end\":{\"line\":3,\"character\":27}}"
        ",\"text\":\"20\"},"
        "{\"range\":{\"start\":{\"line\":4,\"character\":13},\"end\":{\"line\":4,\"character\":14}}"
        ",\"text\":\" + 1; /* the next one, and a longer line */\"}]}}",
        p->src_uri);
}

/* didSave of the source, after the edit reached the disk */
static void add_save(script *sc, const project *p)
{
    sc->did_save = sc->n;
    add(sc, 0,
        "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didSave\",\"params\":{\"textDocument\":"
        "{\"uri\":\"%s\"}}}",
        p->src_uri);
}

static void add_regenerate_shutdown_exit(script *sc, const project *p, int id)
{
    sc->execute = sc->n;
    add(sc, id,
        "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"workspace/executeCommand\",\"params\":"
        "{\"command\":\"unasync.regenerate\",\"arguments\":[\"%s\"]}}",
        id, p->src_uri);
    add(sc, id + 1, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"shutdown\"}", id + 1);
    add(sc, 0, "{\"jsonrpc\":\"2.0\",\"method\":\"exit\"}");
}

/* A client that pushes: initialize, initialized, didOpen, didChange, (a turn of the loop),
 * didSave, codeAction on the stale twin, hover in it, the source action on the source's line 1,
 * executeCommand regenerate, shutdown,
 * exit. It cannot watch files: the server watches with libuv. */
static void push_script(script *sc, const project *p)
{
    memset(sc, 0, sizeof(*sc));
    add_initialize(sc, p,
                   "{\"textDocument\":{\"codeAction\":{\"codeActionLiteralSupport\":"
                   "{\"codeActionKind\":{\"valueSet\":[\"quickfix\",\"source\"]}}}}}");
    add_open_change(sc, p);
    add_save(sc, p);
    add(sc, 2,
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"textDocument/codeAction\",\"params\":"
        "{\"textDocument\":{\"uri\":\"%s\"},\"range\":{\"start\":{\"line\":0,\"character\":0},"
        "\"end\":{\"line\":9,\"character\":0}},\"context\":{\"diagnostics\":[]}}}",
        p->twin_uri);
    add(sc, 3,
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"textDocument/hover\",\"params\":"
        "{\"textDocument\":{\"uri\":\"%s\"},\"position\":{\"line\":4,\"character\":5}}}",
        p->twin_uri);
    /* the source action, on a line with no diagnostic */
    add(sc, 4,
        "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"textDocument/codeAction\",\"params\":"
        "{\"textDocument\":{\"uri\":\"%s\"},\"range\":{\"start\":{\"line\":0,\"character\":0},"
        "\"end\":{\"line\":0,\"character\":0}},\"context\":{\"diagnostics\":[],"
        "\"only\":[\"source\"]}}}",
        p->src_uri);
    add_regenerate_shutdown_exit(sc, p, 5);
}

/* A client that pulls diagnostics and does the rest too: utf-8 positions, settings asked with
 * workspace/configuration, files watched by the client, work-done progress. It answers the
 * server's three start-up requests (ids 1 to 3), asks for fix-all before it saves, pulls the
 * source's diagnostics after, regenerates, and leaves. */
static void pull_script(script *sc, const project *p)
{
    memset(sc, 0, sizeof(*sc));
    add_initialize(
        sc, p,
        "{\"general\":{\"positionEncodings\":[\"utf-8\"]},"
        "\"workspace\":{\"configuration\":true,\"didChangeWatchedFiles\":"
        "{\"dynamicRegistration\":true},\"diagnostics\":{\"refreshSupport\":true}},"
        "\"window\":{\"workDoneProgress\":true},"
        "\"textDocument\":{\"diagnostic\":{},\"codeAction\":{\"codeActionLiteralSupport\":"
        "{\"codeActionKind\":{\"valueSet\":[\"quickfix\",\"source\"]}}}}}");
    add(sc, 0, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":null}");
    add(sc, 0,
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":[{\"unasync\":{\"lint\":{\"enable\":true},"
        "\"drift\":{\"severity\":\"error\"}}}]}");
    add(sc, 0, "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":null}");
    add_open_change(sc, p);
    add(sc, 2,
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"textDocument/codeAction\",\"params\":"
        "{\"textDocument\":{\"uri\":\"%s\"},\"range\":{\"start\":{\"line\":0,\"character\":0},"
        "\"end\":{\"line\":0,\"character\":0}},\"context\":{\"diagnostics\":[],"
        "\"only\":[\"source.fixAll\"]}}}",
        p->src_uri);
    add_save(sc, p);
    add(sc, 3,
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"textDocument/diagnostic\",\"params\":"
        "{\"textDocument\":{\"uri\":\"%s\"}}}",
        p->src_uri);
    add(sc, 4,
        "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"textDocument/codeAction\",\"params\":"
        "{\"textDocument\":{\"uri\":\"%s\"},\"range\":{\"start\":{\"line\":0,\"character\":0},"
        "\"end\":{\"line\":9,\"character\":0}},\"context\":{\"diagnostics\":[]}}}",
        p->src_uri);
    add_regenerate_shutdown_exit(sc, p, 5);
}

/* What one session did: everything the server wrote, split per message of the script. */
typedef struct run {
    char *out; /* all output (plain malloc) */
    size_t len;
    size_t end[MAX_MSGS]; /* out[end[k-1]..end[k]) was written while message k was handled */
    int hit;              /* the message during which the failing allocation happened; -1 */
    int status;           /* exit status */
    char *twin;           /* the twin on disk afterwards */
    size_t twin_len;
} run;

static void run_free(run *r)
{
    free(r->out);
    free(r->twin);
}

static size_t file_size(int fd)
{
    off_t n = lseek(fd, 0, SEEK_END);
    assert_true(n >= 0);
    return (size_t)n;
}

/* The whole file in plain malloc, read without the engine: ue_read_file (testfs_slurp)
 * allocates through the hook a run is failing. */
static char *slurp_plain(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void run_session(const project *p, const script *sc, run *r)
{
    char tmpl[] = "/tmp/ua-srvalloc-out-XXXXXX";
    int fd = mkstemp(tmpl);
    uv_loop_t loop;
    srv_t *s = NULL;
    int k;
    memset(r, 0, sizeof(*r));
    r->hit = -1;
    assert_true(fd >= 0);
    unlink(tmpl);
    project_reset(p);
    assert_int_equal(uv_loop_init(&loop), 0);
    int rc = srv_create(&loop, &s);
    if (rc != 0) {
        /* the very first allocations: nothing to answer with; the process would exit 1 */
        assert_int_equal(rc, SRV_ENOMEM);
        assert_true(testalloc_hook.failed);
        r->hit = 0;
        r->status = -1;
    } else {
        srv_io_use_fd(s, fd);
        /* no idle pre-check: when a timer fires depends on the clock, and every run of the
         * session must give the same bytes */
        ws_settings_of(s->ws)->idle_ms = 0;
        for (k = 0; k < sc->n; k++) {
            char frame[4200];
            int before = testalloc_hook.failed;
            int n = snprintf(frame, sizeof(frame), "Content-Length: %zu\r\n\r\n%s",
                             strlen(sc->v[k].body), sc->v[k].body);
            if (k == sc->did_save) /* the editor wrote the buffer before it says so */
                testfs_spit(p->src, edited_c, strlen(edited_c));
            srv_input(s, frame, (size_t)n);
            if (k == sc->did_change)
                uv_run(&loop, UV_RUN_NOWAIT); /* a turn of the loop between typing and saving */
            if (!before && testalloc_hook.failed)
                r->hit = k;
            r->end[k] = file_size(fd);
        }
        r->status = s->exit_status;
        srv_destroy(s);
    }
    assert_int_equal(uv_loop_close(&loop), 0);
    r->len = file_size(fd);
    r->out = malloc(r->len + 1);
    assert_non_null(r->out);
    assert_int_equal(pread(fd, r->out, r->len, 0), (ssize_t)r->len);
    r->out[r->len] = '\0';
    close(fd);
    r->twin = slurp_plain(p->twin, &r->twin_len);
}

/* ---- reading the output ---- */

/* The body of the last response in out[from..to) whose body holds `want` (its id), or NULL;
 * *count gets how many there were. Bodies are NUL-terminated copies in buf. */
static const char *find_response_with(const char *out, size_t from, size_t to, const char *want,
                                      int *count, char *buf, size_t cap)
{
    const char *found = NULL;
    size_t off = from;
    *count = 0;
    while (off < to) {
        size_t n;
        const char *body = strstr(out + off, "\r\n\r\n");
        assert_non_null(body);
        assert_int_equal(sscanf(out + off, "Content-Length: %zu", &n), 1);
        body += 4;
        /* a response: an id and no method (the server's own requests have both) */
        if (strstr(body, want) != NULL && (size_t)(strstr(body, want) - body) < n &&
            !(strstr(body, "\"method\"") && (size_t)(strstr(body, "\"method\"") - body) < n)) {
            (*count)++;
            assert_true(n < cap);
            memcpy(buf, body, n);
            buf[n] = '\0';
            found = buf;
        }
        off = (size_t)(body - out) + n;
    }
    assert_int_equal(off, to);
    return found;
}

/* The response to request id in out[from..to), as find_response_with. */
static const char *find_response(const char *out, size_t from, size_t to, int id, int *count,
                                 char *buf, size_t cap)
{
    char want[32];
    snprintf(want, sizeof(want), "\"id\":%d,", id);
    return find_response_with(out, from, to, want, count, buf, cap);
}

/* A response with a null id in out[from..to) (an error for a request whose id was lost). */
static const char *find_null_response(const char *out, size_t from, size_t to, char *buf,
                                      size_t cap)
{
    int count;
    return find_response_with(out, from, to, "\"id\":null", &count, buf, cap);
}

/* Whether out[from..to) holds a window/logMessage of type 1 (error). */
static int has_error_log(const char *out, size_t from, size_t to)
{
    const char *p = out + from;
    while ((p = strstr(p, "\"method\":\"window/logMessage\",\"params\":{\"type\":1,")) != NULL &&
           (size_t)(p - out) < to)
        return 1;
    return 0;
}

static int is_error(const char *body)
{
    return body != NULL && strstr(body, "\"error\":{") != NULL;
}

/* An error a client can act on: InternalError or RequestFailed, with a message. */
static int is_failure(const char *body)
{
    return body != NULL &&
           (strstr(body, "\"error\":{\"code\":-32603,\"message\":\"") != NULL ||
            strstr(body, "\"error\":{\"code\":-32803,\"message\":\"") != NULL) &&
           strstr(body, "\"message\":\"\"") == NULL;
}

/* ---- the test ---- */

static void setup_project(project *p)
{
    char tmpl[] = "/tmp/ua-srvalloc-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    assert_non_null(realpath(tmpl, p->dir));
    snprintf(p->src, sizeof(p->src), "%s/x.c", p->dir);
    snprintf(p->twin, sizeof(p->twin), "%s/sync_x.c", p->dir);
    snprintf(p->dir_uri, sizeof(p->dir_uri), "file://%s", p->dir);
    snprintf(p->src_uri, sizeof(p->src_uri), "file://%s", p->src);
    snprintf(p->twin_uri, sizeof(p->twin_uri), "file://%s", p->twin);
    p->old_twin = NULL;
}

/* The committed twin: what the server writes for source_c (a session regenerating all). */
static void generate_old_twin(project *p)
{
    script sc;
    run r;
    memset(&sc, 0, sizeof(sc));
    sc.did_change = sc.did_save = sc.execute = -1; /* none of these */
    add(&sc, 1,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"processId\":null,"
        "\"rootUri\":\"%s\",\"capabilities\":{}}}",
        p->dir_uri);
    add(&sc, 0, "{\"jsonrpc\":\"2.0\",\"method\":\"initialized\",\"params\":{}}");
    add(&sc, 2,
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"workspace/executeCommand\",\"params\":"
        "{\"command\":\"unasync.regenerateAll\",\"arguments\":[]}}");
    add(&sc, 3, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"shutdown\"}");
    add(&sc, 0, "{\"jsonrpc\":\"2.0\",\"method\":\"exit\"}");
    run_session(p, &sc, &r); /* no twin yet: the regeneration writes it */
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.twin, "int fetch(int id)"));
    p->old_twin = r.twin;
    p->old_len = r.twin_len;
    r.twin = NULL;
    run_free(&r);
}

static void remove_project(const project *p)
{
    char path[PATH_MAX + 32];
    const char *names[] = {"unasync.json", "x.c", "sync_x.c"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", p->dir, names[i]);
        unlink(path);
    }
    assert_int_equal(rmdir(p->dir), 0);
}

/* Runs the client's script once under malloc, once under the counting hooks, then once with
 * each of the server's allocations failing in turn. `marker` is in every normal run's output. */
static void survives_every_failed_allocation(void (*make)(script *, const project *),
                                             const char *marker)
{
    project p;
    script sc;
    run plain, hooked;
    setup_project(&p);
    generate_old_twin(&p);
    make(&sc, &p);

    /* the reference: the C library's allocators */
    hooks_off();
    run_session(&p, &sc, &plain);
    assert_int_equal(plain.status, 0);
    assert_true(plain.twin_len != p.old_len || memcmp(plain.twin, p.old_twin, p.old_len) != 0);
    assert_non_null(strstr(plain.twin, "return id + 1; /* the next one, and a longer line */"));
    assert_non_null(strstr(plain.out, "\"code\":\"UA202\""));
    assert_non_null(strstr(plain.out, "\"command\":\"unasync.regenerate\""));
    assert_non_null(strstr(plain.out, marker));

    /* the hooks, failing nothing: the same bytes, and every block given back */
    testalloc_reset(0);
    hooks_on();
    run_session(&p, &sc, &hooked);
    hooks_off();
    assert_int_equal(testalloc_hook.live, 0);
    assert_int_equal(hooked.len, plain.len);
    assert_memory_equal(hooked.out, plain.out, plain.len);
    const long points = testalloc_hook.calls;
    assert_true(points > 80); /* the session reaches every part, not a few lines */

    /* fail the 1st, 2nd, ... allocation of the server until a run needs no more than there are */
    long n, absorbed = 0;
    for (n = 1;; n++) {
        run r;
        char buf[65536];
        testalloc_reset(n);
        hooks_on();
        run_session(&p, &sc, &r);
        hooks_off();
        if (testalloc_hook.live != 0)
            fail_msg("failing allocation %ld leaks %ld block(s)", n, (long)testalloc_hook.live);
        if (!testalloc_hook.failed) {
            assert_int_equal(r.len, plain.len);
            assert_memory_equal(r.out, plain.out, plain.len);
            run_free(&r);
            break;
        }
        if (r.hit < 0)
            fail_msg("failing allocation %ld: it happened outside the session's messages", n);
        if (r.status == -1) { /* srv_create failed: no session at all */
            run_free(&r);
            continue;
        }
        /* every request answered exactly once */
        int init_failed = 0, exec_ok = 0;
        for (int k = 0; k < sc.n; k++) {
            int count;
            const char *body;
            if (sc.v[k].id == 0)
                continue;
            body = find_response(r.out, k ? r.end[k - 1] : 0, r.end[k], sc.v[k].id, &count, buf,
                                 sizeof(buf));
            /* out of memory before the id could be read (framing, parsing): an InternalError
             * with a null id, as JSON-RPC has it, tells the client instead */
            if (count == 0 && k == r.hit &&
                is_failure(
                    find_null_response(r.out, k ? r.end[k - 1] : 0, r.end[k], buf, sizeof(buf)))) {
                init_failed |= k == 0;
                continue;
            }
            if (count != 1)
                fail_msg("failing allocation %ld (message %d): request %d answered %d times", n,
                         r.hit, sc.v[k].id, count);
            if (k == r.hit && is_error(body) && !is_failure(body))
                fail_msg("failing allocation %ld: request %d: not an InternalError or "
                         "RequestFailed with a message: %s",
                         n, sc.v[k].id, body);
            if (k == 0 && is_error(body))
                init_failed = 1;
            if (k > r.hit && is_error(body) &&
                !(init_failed && strstr(body, "\"code\":-32002") != NULL))
                fail_msg("failing allocation %ld (message %d): a later request failed: %s", n,
                         r.hit, body);
            if (k == sc.execute) /* an answer that ran out of memory says the work was done */
                exec_ok = !is_error(body) ||
                          strstr(body, "out of memory answering: the request was carried out");
        }
        /* the failure was told, or it changed nothing the client can see */
        size_t from = r.hit ? r.end[r.hit - 1] : 0;
        int told = has_error_log(r.out, from, r.end[r.hit]) ||
                   is_failure(find_null_response(r.out, from, r.end[r.hit], buf, sizeof(buf)));
        if (sc.v[r.hit].id != 0) {
            int count;
            told = told || is_failure(find_response(r.out, from, r.end[r.hit], sc.v[r.hit].id,
                                                    &count, buf, sizeof(buf)));
        }
        if (!told) {
            if (r.len != plain.len || memcmp(r.out, plain.out, plain.len) != 0)
                fail_msg("failing allocation %ld (message %d) changed the session silently", n,
                         r.hit);
            absorbed++;
        }
        /* the twin: as committed, or regenerated whole; never anything in between. A dropped
         * didChange leaves the server with the unedited buffer (it said so), whose twin is
         * the committed one; otherwise a regenerate that succeeded wrote the edited one. */
        int is_old = r.twin_len == p.old_len && memcmp(r.twin, p.old_twin, p.old_len) == 0;
        int is_new = r.twin_len == plain.twin_len && memcmp(r.twin, plain.twin, r.twin_len) == 0;
        if (!is_old && !is_new)
            fail_msg("failing allocation %ld: a twin that is neither the committed one nor the "
                     "regenerated one",
                     n);
        if (exec_ok && !is_new && r.hit != sc.did_change)
            fail_msg("failing allocation %ld (message %d): regenerate succeeded but the twin is "
                     "not the generated one",
                     n, r.hit);
        if (!exec_ok && !is_old)
            fail_msg("failing allocation %ld: regenerate failed but the twin changed", n);
        /* shutdown or exit dropped (told above): the client did not shut the server down */
        bool lifecycle_hit = r.hit > sc.execute;
        if (!init_failed && !lifecycle_hit && r.status != 0)
            fail_msg("failing allocation %ld: exit status %d after shutdown", n, r.status);
        assert_only_project_files(&p);
        run_free(&r);
    }
    assert_int_equal(n - 1, points); /* every allocation point was failed once */
    print_message("failed each of %ld server allocations in turn (%ld changed nothing visible)\n",
                  points, absorbed);

    run_free(&plain);
    run_free(&hooked);
    free(p.old_twin);
    remove_project(&p);
}

static void session_survives_every_failed_allocation(void **state)
{
    (void)state;
    survives_every_failed_allocation(push_script, "\"method\":\"textDocument/publishDiagnostics\"");
}

static void pull_session_survives_every_failed_allocation(void **state)
{
    (void)state;
    survives_every_failed_allocation(pull_script, "\"command\":\"unasync.lintFix\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(session_survives_every_failed_allocation),
        cmocka_unit_test(pull_session_survives_every_failed_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
