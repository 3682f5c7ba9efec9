/* test_cli.c - the `unasync` command end to end on temporary projects: drift classification,
 * exit codes, output formats, atomic writes, and refusals that protect hand-written files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *unasync_bin;

typedef struct proj {
    char dir[256];
    char out[65536];
    char err[65536];
} proj;

static void put(const proj *p, const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", p->dir, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
    assert_int_equal(system(cmd), 0);
    *slash = '/';
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *get(const proj *p, const char *rel)
{
    static char buf[65536];
    char path[512];
    snprintf(path, sizeof path, "%s/%s", p->dir, rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int exists(const proj *p, const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", p->dir, rel);
    return access(path, F_OK) == 0;
}

static void slurp_into(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
}

/* Runs `unasync ARGS` in p->dir (or its sub-folder `sub`); returns the exit status. */
static int run_in(proj *p, const char *sub, const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd '%s/%s' && '%s' %s >'%s/.out' 2>'%s/.err' </dev/null", p->dir,
             sub, unasync_bin, args, p->dir, p->dir);
    int st = system(cmd);
    char path[512];
    snprintf(path, sizeof path, "%s/.out", p->dir);
    slurp_into(path, p->out, sizeof p->out);
    snprintf(path, sizeof path, "%s/.err", p->dir);
    slurp_into(path, p->err, sizeof p->err);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static int run(proj *p, const char *args)
{
    return run_in(p, ".", args);
}

static int setup(void **state)
{
    proj *p = calloc(1, sizeof *p);
    snprintf(p->dir, sizeof p->dir, "/tmp/unasync-cli-XXXXXX");
    assert_non_null(mkdtemp(p->dir));
    /* api_get keeps its name in the twin on purpose (the tests read it); its link-time
     * collision lint (UA005) is switched off the way a user would */
    put(p, "unasync.json",
        "{\n  \"sources\": [\"src/*.c\", \"src/*.h\"],\n  \"lint\": {\"UA005\": \"off\"}\n}\n");
    put(p, "src/api.h", "#ifndef API_H\n#define API_H\nasync int api_get(int id);\n#endif\n");
    put(p, "src/api.c", "#include \"api.h\"\n\nasync int api_get(int id)\n{\n"
                        "    return await async_fetch(id);\n}\n");
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    proj *p = *state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", p->dir);
    if (system(cmd) != 0)
        return -1;
    free(p);
    return 0;
}

static void check_reports_missing_twins(void **state)
{
    proj *p = *state;
    assert_int_equal(run(p, "--check"), 1);
    assert_non_null(strstr(p->out, "src/api.c:1:1: error: sync_api.c is missing; run "
                                   "'unasync --write' to generate it [UA201]\n"));
    assert_non_null(strstr(p->out, "src/api.h:1:1: error: sync_api.h is missing"));
    /* stable order: api.c before api.h */
    assert_true(strstr(p->out, "src/api.c") < strstr(p->out, "src/api.h"));
    assert_non_null(strstr(p->err, "2 twins checked: 0 in sync, 2 missing"));
}

static void write_generates_and_check_is_then_clean(void **state)
{
    proj *p = *state;
    assert_int_equal(run(p, "--write"), 0);
    assert_non_null(strstr(p->err, "created src/sync_api.c"));
    const char *t = get(p, "src/sync_api.c");
    assert_non_null(strstr(t, "unasync:source=src/api.c body=sha256:"));
    assert_non_null(strstr(t, "#include \"sync_api.h\"\n\nint api_get(int id)\n{\n"
                              "    return sync_fetch(id);\n}\n"));
    assert_non_null(strstr(get(p, "src/sync_api.h"), "#ifndef SYNC_API_H\n#define SYNC_API_H\n"));
    assert_int_equal(run(p, "--check"), 0);
    assert_string_equal(p->out, "");
    assert_non_null(strstr(p->err, "2 twins checked: 2 in sync"));
}

static void write_twice_changes_nothing_and_keeps_mtime(void **state)
{
    proj *p = *state;
    assert_int_equal(run(p, "--write -q"), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/src/sync_api.c", p->dir);
    struct timeval old[2] = {{1000000000, 0}, {1000000000, 0}};
    assert_int_equal(utimes(path, old), 0);
    char before[65536];
    snprintf(before, sizeof before, "%s", get(p, "src/sync_api.c"));
    assert_int_equal(run(p, "--write"), 0);
    assert_null(strstr(p->err, "regenerated"));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mtime, 1000000000);
    assert_string_equal(get(p, "src/sync_api.c"), before);
}

static void check_reports_stale_twin_at_first_hunk(void **state)
{
    proj *p = *state;
    assert_int_equal(run(p, "--write -q"), 0);
    put(p, "src/api.c", "#include \"api.h\"\n\nasync int api_get(int id)\n{\n"
                        "    return await async_fetch(id + 1);\n}\n");
    assert_int_equal(run(p, "--check"), 1);
    assert_non_null(strstr(p->out, "src/sync_api.c:6:1: error: sync_api.c is out of date with "
                                   "api.c (1 hunk); run 'unasync --write' [UA202]"));
    assert_int_equal(run(p, "--check --diff"), 1);
    assert_non_null(strstr(p->out, "--- a/src/sync_api.c\n+++ b/src/sync_api.c\n"));
    assert_non_null(strstr(p->out, "-    return sync_fetch(id);\n+    return sync_fetch(id + 1);\n"));
    assert_int_equal(run(p, "--write"), 0);
    assert_non_null(strstr(p->err, "regenerated src/sync_api.c"));
    assert_int_equal(run(p, "--check"), 0);
}

static void check_reports_hand_edited_twin(void **state)
{
    proj *p = *state;
    assert_int_equal(run(p, "--write -q"), 0);
    char edited[65536];
    snprintf(edited, sizeof edited, "%s", get(p, "src/sync_api.c"));
    char *at = strstr(edited, "sync_fetch(id)");
    memcpy(at, "sync_fetch(99)", 14);
    put(p, "src/sync_api.c", edited);
    assert_int_equal(run(p, "--check"), 1);
    assert_non_null(strstr(p->out, "src/sync_api.c:6:1: error: sync_api.c was edited by hand (1 "
                                   "hunk differs from api.c); edit api.c instead"));
    assert_non_null(strstr(p->out, "[UA203]"));
}

static void a_reformatted_header_is_an_edit_not_a_foreign_file(void **state)
{
    proj *p = *state;
    assert_int_equal(run(p, "--write -q"), 0);
    char wrapped[65536];
    snprintf(wrapped, sizeof wrapped, "%s", get(p, "src/sync_api.c"));
    char *cut = strstr(wrapped, " unasync:source=");
    memmove(cut + 4, cut + 1, strlen(cut + 1) + 1); /* a formatter broke line 1 in two */
    memcpy(cut, "\n * ", 4);
    put(p, "src/sync_api.c", wrapped);
    assert_int_equal(run(p, "--check"), 1);
    assert_non_null(strstr(p->out, "src/sync_api.c:2:1: error: sync_api.c was edited by hand"));
    assert_int_equal(run(p, "--write"), 0); /* ours: regenerated without --force */
    assert_int_equal(run(p, "--check"), 0);
}

static void check_and_prune_orphans(void **state)
{
    proj *p = *state;
    assert_int_equal(run(p, "--write -q"), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/src/api.c", p->dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(run(p, "--check"), 1);
    assert_non_null(strstr(p->out, "src/sync_api.c:1:1: error: sync_api.c is orphaned: its "
                                   "source src/api.c is gone"));
    assert_int_equal(run(p, "--write"), 1); /* reported, not deleted without --prune */
    assert_true(exists(p, "src/sync_api.c"));
    assert_int_equal(run(p, "--write --prune"), 0);
    assert_false(exists(p, "src/sync_api.c"));
    assert_non_null(strstr(p->err, "deleted orphan src/sync_api.c"));
}

/* A twin whose body is right but whose header line differs has no hunk in its body: the
 * finding says it is the header line, not "0 hunks". */
static void check_names_a_header_only_difference(void **state)
{
    proj *p = *state;
    assert_int_equal(run(p, "--write -q"), 0);
    char edited[65536];
    snprintf(edited, sizeof edited, "%s", get(p, "src/sync_api.c"));
    char *at = strstr(edited, "body=sha256:");
    assert_non_null(at);
    at[12] = at[12] == '0' ? '1' : '0'; /* one digit of the body's hash */
    put(p, "src/sync_api.c", edited);
    assert_int_equal(run(p, "--check"), 1);
    assert_null(strstr(p->out, "0 hunk"));
    assert_non_null(strstr(p->out, "src/sync_api.c:1:1: error: sync_api.c was edited by hand "
                                   "(only its header line differs from api.c); edit api.c"));
}

static void prune_keeps_hand_edited_orphans(void **state)
{
    proj *p = *state;
    assert_int_equal(run(p, "--write -q"), 0);
    char edited[65536];
    snprintf(edited, sizeof edited, "%s// my notes\n", get(p, "src/sync_api.c"));
    put(p, "src/sync_api.c", edited);
    put(p, "unasync.json", "{\"sources\": [\"src/*.h\"]}");
    assert_int_equal(run(p, "--write --prune"), 1);
    assert_true(exists(p, "src/sync_api.c"));
    assert_non_null(strstr(p->out, "orphaned twin was edited by hand; not deleted"));
}

static void write_refuses_a_file_it_did_not_generate(void **state)
{
    proj *p = *state;
    put(p, "src/sync_api.c", "/* hand-written blocking client */\nint api_get(int id);\n");
    assert_int_equal(run(p, "--check"), 1);
    assert_non_null(strstr(p->out, "src/sync_api.c:1:1: error: sync_api.c exists but was not "
                                   "generated by unasync; refusing to overwrite it"));
    assert_int_equal(run(p, "--write"), 1);
    assert_string_equal(get(p, "src/sync_api.c"),
                        "/* hand-written blocking client */\nint api_get(int id);\n");
    assert_true(exists(p, "src/sync_api.h")); /* the other twin was still written */
    assert_int_equal(run(p, "--write --force"), 0);
    assert_non_null(strstr(get(p, "src/sync_api.c"), "Generated by unasync"));
}

static void write_keeps_the_file_mode(void **state)
{
    proj *p = *state;
    char path[512];
    snprintf(path, sizeof path, "%s/src/api.c", p->dir);
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(run(p, "--write -q"), 0);
    snprintf(path, sizeof path, "%s/src/sync_api.c", p->dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640); /* a new twin takes its source's mode */
    assert_int_equal(chmod(path, 0600), 0);
    put(p, "src/api.c", "async int api_get(int id) { return id; }\n");
    assert_int_equal(run(p, "--write -q"), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600); /* a regenerated twin keeps its own */
    /* no temporary file is left behind */
    DIR *d = opendir(p->dir);
    char sub[512];
    snprintf(sub, sizeof sub, "%s/src", p->dir);
    closedir(d);
    d = opendir(sub);
    struct dirent *e;
    while ((e = readdir(d)))
        assert_null(strstr(e->d_name, ".unasync-"));
    closedir(d);
}

static void a_source_with_errors_gets_no_twin_others_do(void **state)
{
    proj *p = *state;
    put(p, "src/bad.c", "int x;\n#if UNASYNC_ASYNC\nint y;\n#elif 1\n#endif\n");
    assert_int_equal(run(p, "--write"), 1);
    assert_non_null(strstr(p->out, "src/bad.c:4:1: error: #elif is not allowed in an escape "
                                   "hatch; use #else [UA008]"));
    assert_false(exists(p, "src/sync_bad.c"));
    assert_true(exists(p, "src/sync_api.c"));
    assert_int_equal(run(p, "--check"), 1);
}

static void binary_source_is_refused_with_a_location(void **state)
{
    proj *p = *state;
    char path[512];
    snprintf(path, sizeof path, "%s/src/blob.c", p->dir);
    FILE *f = fopen(path, "wb");
    fwrite("int a;\n\0\1\2", 1, 10, f);
    fclose(f);
    assert_int_equal(run(p, "--write"), 1);
    assert_non_null(strstr(p->out, "src/blob.c:2:1: error: NUL byte: this is a binary file"));
    assert_false(exists(p, "src/sync_blob.c"));
}

static void bad_configuration_is_an_error_with_a_location(void **state)
{
    proj *p = *state;
    put(p, "unasync.json", "{\n  \"sources\": [\"src/*.c\"],\n  \"renames\": {}\n}\n");
    assert_int_equal(run(p, "--write"), 2);
    assert_non_null(strstr(p->out, "unasync.json:3:3: error: unknown key 'renames'"));
    assert_false(exists(p, "src/sync_api.c"));
    put(p, "unasync.json", "{\"sources\": [\"../elsewhere/*.c\"]}");
    assert_int_equal(run(p, "--check"), 2);
    assert_non_null(strstr(p->out, "'..' is refused"));
    put(p, "unasync.json", "{\"sources\": [\"src/*.c\",]}");
    assert_int_equal(run(p, "--check"), 2);
    assert_non_null(strstr(p->out, "unasync.json:1:24: error: trailing comma"));
}

static void configuration_is_found_by_walking_up(void **state)
{
    proj *p = *state;
    assert_int_equal(run_in(p, "src", "--write -q"), 0);
    assert_int_equal(run_in(p, "src", "--check"), 0);
    put(p, "src/api.c", "async int api_get(int id) { return id * 2; }\n");
    /* output paths are relative to the working directory */
    assert_int_equal(run_in(p, "src", "--check api.c"), 1);
    assert_non_null(strstr(p->out, "sync_api.c:2:1: error: sync_api.c is out of date"));
    assert_null(strstr(p->out, "src/"));
    /* a filter selects what is checked */
    assert_int_equal(run_in(p, "src", "--check api.h"), 0);
}

static void no_configuration_is_an_error(void **state)
{
    proj *p = *state;
    char path[512];
    snprintf(path, sizeof path, "%s/unasync.json", p->dir);
    unlink(path);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cd / && '%s' --check '%s/src' >/dev/null 2>'%s/.err'", unasync_bin,
             p->dir, p->dir);
    /* / may have no unasync.json above it; the temporary folder has none now */
    int st = system(cmd);
    assert_int_equal(WEXITSTATUS(st), 2);
    snprintf(path, sizeof path, "%s/.err", p->dir);
    slurp_into(path, p->err, sizeof p->err);
    assert_non_null(strstr(p->err, "no unasync.json found"));
}

static void json_and_github_formats(void **state)
{
    proj *p = *state;
    assert_int_equal(run(p, "--check --format=json"), 1);
    cJSON *doc = cJSON_Parse(p->out);
    assert_non_null(doc);
    cJSON *fs = cJSON_GetObjectItem(doc, "findings");
    assert_int_equal(cJSON_GetArraySize(fs), 2);
    cJSON *f0 = cJSON_GetArrayItem(fs, 0);
    assert_string_equal(cJSON_GetObjectItem(f0, "file")->valuestring, "src/api.c");
    assert_string_equal(cJSON_GetObjectItem(f0, "code")->valuestring, "UA201");
    assert_string_equal(cJSON_GetObjectItem(f0, "severity")->valuestring, "error");
    assert_int_equal(cJSON_GetObjectItem(f0, "line")->valueint, 1);
    cJSON_Delete(doc);
    assert_int_equal(run(p, "--check --format=github"), 1);
    assert_non_null(strstr(p->out, "::error file=src/api.c,line=1,col=1,endLine=1,endColumn=2,"
                                   "title=unasync UA201::sync_api.c is missing"));
    assert_int_equal(run(p, "--check --format=yaml"), 2);
}

static void unused_rules_warn_and_strict_fails(void **state)
{
    proj *p = *state;
    put(p, "unasync.json", "{\"sources\": [\"src/*.c\", \"src/*.h\"],\n"
                           " \"rename\": {\"never_used\": \"x_used\", \"api_get\": \"api_get_sync\"}}");
    assert_int_equal(run(p, "--write -q"), 0);
    assert_non_null(strstr(p->out, "unasync.json:2:13: warning: rename rule 'never_used' never "
                                   "fires in any source [UA007]"));
    assert_non_null(strstr(get(p, "src/sync_api.h"), "int api_get_sync(int id);"));
    assert_int_equal(run(p, "--check"), 0);
    assert_int_equal(run(p, "--check --strict"), 1);
}

static void print_writes_exactly_the_twin(void **state)
{
    proj *p = *state;
    assert_int_equal(run(p, "--print src/api.c"), 0);
    assert_int_equal(strncmp(p->out, "/* Generated by unasync from api.c", 34), 0);
    assert_int_equal(run(p, "--write -q"), 0);
    assert_string_equal(p->out, "");
    assert_int_equal(run(p, "--print src/api.c"), 0);
    assert_string_equal(p->out, get(p, "src/sync_api.c"));
    assert_int_equal(run(p, "--print src/sync_api.c"), 2);
    assert_non_null(strstr(p->err, "not an async source"));
    assert_int_equal(run(p, "--print /etc/passwd"), 2);
    assert_non_null(strstr(p->err, "no unasync.json found"));
    put(p, "elsewhere/unasync.json", "{\"sources\": [\"*.c\"]}");
    assert_int_equal(run(p, "--print src/api.c --config elsewhere/unasync.json"), 2);
    assert_non_null(strstr(p->err, "outside the project"));
}

static void symlinks_that_leave_the_project_are_refused(void **state)
{
    proj *p = *state;
    char target[512], link[512];
    snprintf(target, sizeof target, "%s.outside.c", p->dir);
    FILE *f = fopen(target, "w");
    fputs("async int secret(void);\n", f);
    fclose(f);
    snprintf(link, sizeof link, "%s/src/escape.c", p->dir);
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(run(p, "--write"), 0);
    assert_false(exists(p, "src/sync_escape.c"));
    /* a twin path that is a link out of the project is never written through */
    snprintf(link, sizeof link, "%s/src/sync_api.c", p->dir);
    unlink(link);
    assert_int_equal(symlink(target, link), 0);
    put(p, "src/api.c", "async int api_get(int id) { return id + 3; }\n");
    /* it is not even read: the same exit 2 as --check, the finding on the twin */
    assert_int_equal(run(p, "--write --force"), 2);
    assert_non_null(strstr(p->out, "src/sync_api.c"));
    assert_non_null(strstr(p->out, "symbolic link leading outside the project"));
    assert_int_equal(run(p, "--check --no-lint"), 2);
    f = fopen(target, "r");
    char buf[128] = "";
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "async int secret(void);\n");
    unlink(target);
}

static void usage_errors_exit_2(void **state)
{
    proj *p = *state;
    assert_int_equal(run(p, ""), 2);
    assert_non_null(strstr(p->err, "nothing to do"));
    assert_int_equal(run(p, "--check --write"), 2);
    assert_int_equal(run(p, "--bogus"), 2);
    assert_int_equal(run(p, "--write --diff"), 2);
    assert_int_equal(run(p, "--fix --no-lint"), 2);
    assert_int_equal(run(p, "--fix --write"), 2);
    assert_int_equal(run(p, "--version"), 0);
    assert_int_equal(strncmp(p->out, "unasync ", 8), 0);
    assert_int_equal(run(p, "--help"), 0);
    assert_non_null(strstr(p->out, "--check"));
    assert_int_equal(run(p, "--check no/such/path"), 2);
}

/* ---- --fix: the lint's preferred quick fixes ---- */

static const char *runtime_include; /* the runtime's headers, for projects the lint can parse */

/* Removes the fixture's src/api.c and src/api.h (a test that brings its own sources). */
static void drop_fixture(const proj *p)
{
    char path[512];
    snprintf(path, sizeof path, "%s/src/api.c", p->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/src/api.h", p->dir);
    unlink(path);
}

/* Turns the fixture into a project the lint parses fully: only src/a.c (and what a test adds)
 * with the runtime's headers; `extra` continues unasync.json's object. */
static void lintable(proj *p, const char *extra, const char *a_c)
{
    char cfg[2048];
    snprintf(cfg, sizeof cfg,
             "{\n  \"sources\": [\"src/*.c\"],\n  \"compile_flags\": [\"-I%s\"]%s\n}\n",
             runtime_include, extra);
    put(p, "unasync.json", cfg);
    drop_fixture(p);
    put(p, "src/a.c", a_c);
}

#define PRELUDE                                                                                    \
    "#include <unasync/async.h>\n"                                                                 \
    "#include <unistd.h>\n\n"                                                                      \
    "static async int fetch(int x) { return await async_sleep_ms((uint64_t)x); }\n"                \
    "static int plain(int x) { return x + 1; }\n\n"
#define KEEP "static int (*keep)(void) = go;\nstatic int (*keep2)(int) = plain;\n"

/* Runs `unasync ARGS` with environment variable `env` ("NAME=value") set. */
static int run_env(proj *p, const char *env, const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "env %s '%s' %s", env, unasync_bin, args);
    /* run_in puts the binary first: call the shell the same way, by hand */
    char full[4096];
    snprintf(full, sizeof full, "cd '%s' && %s >'%s/.out' 2>'%s/.err' </dev/null", p->dir, cmd,
             p->dir, p->dir);
    int st = system(full);
    char path[512];
    snprintf(path, sizeof path, "%s/.out", p->dir);
    slurp_into(path, p->out, sizeof p->out);
    snprintf(path, sizeof path, "%s/.err", p->dir);
    slurp_into(path, p->err, sizeof p->err);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static struct timespec mtime_of(const proj *p, const char *rel)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", p->dir, rel);
    assert_int_equal(stat(path, &st), 0);
    return st.st_mtim;
}

static int same_time(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* Fixes a project whose src/a.c is `src` and expects each line of `want` (NULL-ended) in the
 * result, `said` on stderr, the twin written by the engine, and --check clean afterwards. */
static void expect_fixed(proj *p, const char *src, const char *const *want, const char *said)
{
    lintable(p, "", src);
    assert_int_equal(run(p, "--fix"), 0);
    assert_non_null(strstr(p->err, said));
    const char *a = get(p, "src/a.c");
    for (size_t i = 0; want[i]; i++)
        if (!strstr(a, want[i]))
            fail_msg("no '%s' in the fixed file:\n%s", want[i], a);
    assert_true(exists(p, "src/sync_a.c"));
    assert_int_equal(run(p, "--check"), 0);
}

static void fix_inserts_await_regenerates_the_twin_and_keeps_the_mode(void **state)
{
    proj *p = *state;
    char path[512];
    snprintf(path, sizeof path, "%s/src/a.c", p->dir);
    put(p, "src/a.c", "");
    assert_int_equal(chmod(path, 0640), 0); /* put() keeps the mode of the file it rewrites */
    const char *const want[] = {"    return await fetch(1);\n", NULL};
    expect_fixed(p, PRELUDE "static async int go(void)\n{\n    return fetch(1);\n}\n" KEEP, want,
                 "fixed 1 finding in 1 file");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    /* the twin comes from the engine, as --write makes it */
    assert_non_null(strstr(get(p, "src/sync_a.c"), "    return fetch(1);\n"));
}

static void fix_removes_await_on_a_plain_call(void **state)
{
    const char *const want[] = {"    return plain(1);\n", NULL};
    expect_fixed(*state,
                 PRELUDE "static async int go(void)\n{\n    return await plain(1);\n}\n" KEEP, want,
                 "fixed 1 finding in 1 file");
}

static void fix_rewrites_blocking_calls_to_their_async_twins(void **state)
{
    const char *const want[] = {"    await async_sleep_ms(5);\n",
                                "    await async_sleep_ms((uint64_t)(2) * 1000);\n", NULL};
    expect_fixed(*state,
                 PRELUDE "#include <unasync/sync.h>\n\nstatic async int go(void)\n{\n"
                         "    sync_sleep_ms(5);\n    sleep(2);\n    return 0;\n}\n" KEEP,
                 want, "fixed 2 findings in 1 file");
}

static void fix_applies_two_fixes_in_one_file(void **state)
{
    const char *const want[] = {"    int a = await fetch(1);\n    return a + plain(2);\n", NULL};
    expect_fixed(*state,
                 PRELUDE "static async int go(void)\n{\n    int a = fetch(1);\n"
                         "    return a + await plain(2);\n}\n" KEEP,
                 want, "fixed 2 findings in 1 file");
}

static void fix_skips_an_overlapping_fix_and_takes_it_in_the_next_round(void **state)
{
    proj *p = *state;
    lintable(p, "",
             PRELUDE "static async int go(void)\n{\n    sleep(fetch(3));\n    return 0;\n}\n" KEEP);
    assert_int_equal(run(p, "--fix"), 0);
    /* the call's rewrite covers the argument that needs await: one waits for the other */
    assert_non_null(strstr(p->err, "fix for UA001 at src/a.c:9:11 skipped: overlaps the fix for "
                                   "UA004 at src/a.c:9:5\n"));
    assert_non_null(strstr(get(p, "src/a.c"),
                           "    await async_sleep_ms((uint64_t)(await fetch(3)) * 1000);\n"));
    assert_non_null(strstr(p->err, "fixed 2 findings in 1 file"));
    assert_int_equal(run(p, "--check"), 0);
}

/* Rename rules for UA005 land in unasync.json: several merge into one valid object that our
 * configuration reader takes (the --check after them), each rule once and in order. The names
 * share no prefix, so each gets its own rule (fix_proposes_one_glob_for_names_of_one_prefix). */
static void check_rename_rules_merged(proj *p)
{
    assert_int_equal(run(p, "--fix"), 0);
    const char *cfg = get(p, "unasync.json");
    cJSON *j = cJSON_Parse(cfg);
    assert_non_null(j);
    cJSON *rn = cJSON_GetObjectItemCaseSensitive(j, "rename");
    assert_true(cJSON_IsObject(rn));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(rn, "app_counter")->valuestring,
                        "app_sync_counter");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(rn, "lib_total")->valuestring,
                        "lib_sync_total");
    assert_true(strstr(cfg, "app_counter") < strstr(cfg, "lib_total"));
    cJSON_Delete(j);
    assert_non_null(strstr(p->err, "in 1 file"));
    assert_int_equal(run(p, "--check"), 0);
    assert_non_null(strstr(get(p, "src/sync_a.c"), "int app_sync_counter;\nint lib_sync_total;\n"));
}

static void fix_merges_rename_rules_into_an_existing_rename_object(void **state)
{
    proj *p = *state;
    lintable(p, ",\n  \"rename\": {\n    \"app_run\": \"app_sync_run\"\n  }",
             "#include <unasync/async.h>\n\nint app_counter;\nint lib_total;\n"
             "async int app_run(void) { return app_counter + lib_total; }\n");
    check_rename_rules_merged(p);
    cJSON *j = cJSON_Parse(get(p, "unasync.json"));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "rename")), 3);
    cJSON_Delete(j);
}

static void fix_adds_a_rename_object_when_there_is_none(void **state)
{
    proj *p = *state;
    lintable(p, "",
             "#include <unasync/async.h>\n\nint app_counter;\nint lib_total;\n"
             "static async int go(void) { return app_counter + lib_total; }\n"
             "static int (*keep)(void) = go;\n");
    check_rename_rules_merged(p);
    /* one "rename" key, not one per rule */
    const char *cfg = get(p, "unasync.json");
    assert_null(strstr(strstr(cfg, "\"rename\"") + 1, "\"rename\""));
}

static void fix_diff_prints_the_fixes_and_writes_nothing(void **state)
{
    proj *p = *state;
    lintable(
        p, "",
        PRELUDE
        "int app_counter;\nstatic async int go(void)\n{\n    return fetch(app_counter);\n}\n" KEEP);
    assert_int_equal(run(p, "--write -q"), 0);
    char before_a[4096], before_cfg[4096], before_twin[8192];
    snprintf(before_a, sizeof before_a, "%s", get(p, "src/a.c"));
    snprintf(before_cfg, sizeof before_cfg, "%s", get(p, "unasync.json"));
    snprintf(before_twin, sizeof before_twin, "%s", get(p, "src/sync_a.c"));
    struct timespec ta = mtime_of(p, "src/a.c"), tc = mtime_of(p, "unasync.json"),
                    tt = mtime_of(p, "src/sync_a.c");
    assert_int_equal(run(p, "--fix --diff"), 1);
    assert_non_null(strstr(p->out, "--- a/src/a.c\n+++ b/src/a.c\n"));
    assert_non_null(strstr(p->out, "-    return fetch(app_counter);\n"
                                   "+    return await fetch(app_counter);\n"));
    assert_non_null(strstr(p->out, "--- a/unasync.json\n+++ b/unasync.json\n"));
    assert_non_null(strstr(p->out, "+  \"rename\": { \"app_counter\": \"app_sync_counter\" },\n"));
    assert_non_null(strstr(p->err, "would fix 2 findings in 2 files"));
    assert_string_equal(get(p, "src/a.c"), before_a);
    assert_string_equal(get(p, "unasync.json"), before_cfg);
    assert_string_equal(get(p, "src/sync_a.c"), before_twin);
    assert_true(same_time(mtime_of(p, "src/a.c"), ta));
    assert_true(same_time(mtime_of(p, "unasync.json"), tc));
    assert_true(same_time(mtime_of(p, "src/sync_a.c"), tt));
    /* once fixed, there is nothing to show */
    assert_int_equal(run(p, "--fix -q"), 0);
    assert_int_equal(run(p, "--fix --diff"), 0);
    assert_string_equal(p->out, "");
}

/* --fix --diff shows what --fix does, twins included: a hand-edited twin that --fix regenerates,
 * and the twin of a source the fixes change, each as a diff; exit 1 while anything would change,
 * and nothing on disk moves. */
static void fix_diff_shows_the_twins_fix_would_regenerate(void **state)
{
    proj *p = *state;
    lintable(p, "", PRELUDE "static async int go(void)\n{\n    return await fetch(1);\n}\n" KEEP);
    assert_int_equal(run(p, "--write -q"), 0);
    char twin[8192];
    snprintf(twin, sizeof twin, "%s", get(p, "src/sync_a.c"));
    char *edited = strdup(twin);
    assert_non_null(edited);
    char *at = strstr(edited, "return fetch(1);");
    assert_non_null(at);
    at[strlen("return fetch(")] = '7'; /* a hand edit: fetch(7) */
    put(p, "src/sync_a.c", edited);
    free(edited);
    assert_int_equal(run(p, "--fix --diff"), 1);
    assert_non_null(strstr(p->out, "--- a/src/sync_a.c\n+++ b/src/sync_a.c\n"));
    assert_non_null(strstr(p->out, "-    return fetch(7);\n+    return fetch(1);\n"));
    assert_non_null(strstr(p->err, "would fix 0 findings in 0 files; would regenerate 1 twin"));
    assert_non_null(strstr(get(p, "src/sync_a.c"), "return fetch(7);"));
    /* --fix does what the diff said */
    assert_int_equal(run(p, "--fix"), 0);
    assert_string_equal(get(p, "src/sync_a.c"), twin);
    assert_int_equal(run(p, "--fix --diff"), 0);
    assert_string_equal(p->out, "");
    /* a fix that changes the twin: the source's diff and the twin's, as --fix leaves them */
    lintable(p, "", PRELUDE "static async int go(void)\n{\n    return fetch(2);\n}\n" KEEP);
    assert_int_equal(run(p, "--write -q"), 0); /* --write does not lint */
    assert_int_equal(run(p, "--fix --diff"), 1);
    assert_non_null(strstr(p->out, "+++ b/src/a.c\n"));
    assert_non_null(strstr(p->err, "would fix 1 finding in 1 file"));
}

static void fix_refuses_a_file_changed_since_the_lint(void **state)
{
    proj *p = *state;
    lintable(p, "", PRELUDE "static async int go(void)\n{\n    return fetch(1);\n}\n" KEEP);
    put(p, "src/b.c", PRELUDE "static async int go(void)\n{\n    return fetch(2);\n}\n" KEEP);
    /* an editor saves src/a.c after the lint read it and before --fix writes */
    char env[1024];
    snprintf(env, sizeof env,
             "UNASYNC_FIX_TEST_HOOK=\"printf '/* saved by an editor */\\n' >>'%s/src/a.c'\"",
             p->dir);
    assert_int_equal(run_env(p, env, "--fix"), 2);
    assert_non_null(strstr(p->err, "src/a.c: changed on disk since the lint read it; not fixed\n"));
    /* told once: later rounds leave the file alone */
    assert_null(strstr(strstr(p->err, "changed on disk") + 1, "changed on disk"));
    const char *a = get(p, "src/a.c");
    assert_non_null(strstr(a, "    return fetch(1);\n"));
    assert_non_null(strstr(a, "/* saved by an editor */\n"));
    /* the other file was fixed */
    assert_non_null(strstr(get(p, "src/b.c"), "    return await fetch(2);\n"));
    assert_non_null(strstr(p->err, "fixed 1 finding in 1 file"));
}

static void fix_leaves_malformed_sources_untouched(void **state)
{
    proj *p = *state;
    /* C that libclang cannot make sense of, and a source the transformer refuses (UA008) */
    const char *bad_c = PRELUDE "static async int go(void)\n{\n    int a = fetch(1);\n"
                                "    return a +;\n}\n" KEEP;
    const char *bad_pp = PRELUDE "static async int go(void)\n{\n    return fetch(1);\n}\n"
                                 "#if 1\n" KEEP;
    lintable(p, "", bad_c);
    put(p, "src/b.c", bad_pp);
    assert_int_equal(run(p, "--fix"), 1);
    assert_string_equal(get(p, "src/a.c"), bad_c);
    assert_string_equal(get(p, "src/b.c"), bad_pp);
    assert_non_null(strstr(p->err, "src/a.c: the C has errors; its fixes are not applied"));
    assert_non_null(strstr(p->out, "src/b.c:11:1: error: unbalanced conditional"));
    assert_false(exists(p, "src/sync_b.c"));
    assert_non_null(strstr(p->err, "fixed 0 findings in 0 files"));
}

static void fix_twice_changes_nothing_the_second_time(void **state)
{
    proj *p = *state;
    lintable(p, ",\n  \"rename\": {}",
             PRELUDE "int app_counter;\nstatic async int go(void)\n{\n"
                     "    return fetch(app_counter) + await plain(1);\n}\n" KEEP);
    assert_int_equal(run(p, "--fix"), 0);
    assert_non_null(strstr(p->err, "fixed 3 findings in 2 files"));
    struct timespec ta = mtime_of(p, "src/a.c"), tc = mtime_of(p, "unasync.json"),
                    tt = mtime_of(p, "src/sync_a.c");
    assert_int_equal(run(p, "--fix"), 0);
    assert_non_null(strstr(p->err, "fixed 0 findings in 0 files"));
    assert_null(strstr(p->err, "created"));
    assert_true(same_time(mtime_of(p, "src/a.c"), ta));
    assert_true(same_time(mtime_of(p, "unasync.json"), tc));
    assert_true(same_time(mtime_of(p, "src/sync_a.c"), tt));
}

static void fix_leaves_marking_a_function_async_to_a_person(void **state)
{
    proj *p = *state;
    lintable(p, "", PRELUDE "static int go(void)\n{\n    return await fetch(1);\n}\n" KEEP);
    assert_int_equal(run(p, "--fix --format=json"), 1);
    assert_non_null(strstr(get(p, "src/a.c"), "static int go(void)\n"));
    /* what is left is printed as --check prints it */
    cJSON *j = cJSON_Parse(p->out);
    assert_non_null(j);
    cJSON *fs = cJSON_GetObjectItemCaseSensitive(j, "findings");
    assert_int_equal(cJSON_GetArraySize(fs), 1);
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(fs, 0), "code")->valuestring, "UA003");
    cJSON_Delete(j);
}

/* ---- the key-value client of issue 13: twins that compile but are wrong ---- */

static const char *source_root; /* this repository, for the limiter's headers */

/* Runs `unasync ARGS` and fails with its output unless it exits with `status`. */
#define expect_run(p, args, status)                                                                \
    do {                                                                                           \
        int st_ = run((p), (args));                                                                \
        if (st_ != (status))                                                                       \
            fail_msg("unasync %s exited %d, not %d:\n%s%s", (args), st_, (status), (p)->out,       \
                     (p)->err);                                                                    \
    } while (0)

/* Fails with the whole output unless it contains `want`. */
#define expect_out(p, want)                                                                        \
    do {                                                                                           \
        if (!strstr((p)->out, (want)))                                                             \
            fail_msg("no '%s' in the output:\n%s%s", (want), (p)->out, (p)->err);                  \
    } while (0)

/* The -I folder and the include spelling of the limiter's async header in this tree. */
static void limiter_include(char *dir, size_t dcap, char *spelling, size_t scap)
{
    char probe[1024];
    snprintf(probe, sizeof probe, "%s/limiter/include/unasync/limiter/limiter.h", source_root);
    if (access(probe, R_OK) == 0) {
        snprintf(dir, dcap, "%s/limiter/include", source_root);
        snprintf(spelling, scap, "<unasync/limiter/limiter.h>");
    } else {
        snprintf(dir, dcap, "%s/limiter", source_root);
        snprintf(spelling, scap, "\"limiter.h\"");
    }
    snprintf(probe, sizeof probe, "%s/%s", dir,
             spelling[0] == '<' ? "unasync/limiter/limiter.h" : "limiter.h");
    if (access(probe, R_OK) != 0)
        fail_msg("the limiter's headers are not at %s", probe);
}

#define KV_H_BODY                                                                                  \
    "struct kv_client {\n"                                                                         \
    "    async_mutex_t lock;\n"                                                                    \
    "    async_tcp_t *conn;\n"                                                                     \
    "    rl_limiter_t *lim;\n"                                                                     \
    "};\n"                                                                                         \
    "typedef struct kv_client kv_client_t;\n\n"                                                    \
    "async int kv_get(kv_client_t *c, const char *key, char *out, size_t cap);\n"                  \
    "async int kv_set(kv_client_t *c, const char *key, const char *value);\n"                      \
    "#endif\n"

#define KV_C                                                                                       \
    "#include \"kv.h\"\n#include <string.h>\n\n"                                                   \
    "static async int kv_take(kv_client_t *c, const char *op)\n{\n"                                \
    "    rl_amount_t want[] = {{\"ops\", 1}};\n"                                                   \
    "    rl_lease_t lease;\n    rl_report_t report;\n"                                             \
    "    int rc = await rl_limiter_acquire(c->lim, &lease, \"kv\", op, want, 1, NULL, &report);\n" \
    "    return rc ? rc : await rl_lease_commit(&lease, &report);\n}\n\n"                          \
    "async int kv_get(kv_client_t *c, const char *key, char *out, size_t cap)\n{\n"                \
    "    int rc = await kv_take(c, \"get\");\n"                                                    \
    "    size_t n = 0;\n"                                                                          \
    "    if (rc == 0 && (rc = await async_mutex_lock(&c->lock)) == 0) {\n"                         \
    "        rc = await async_tcp_write(c->conn, key, strlen(key));\n"                             \
    "        if (rc == 0)\n"                                                                       \
    "            rc = await async_tcp_read(c->conn, out, cap - 1, &n);\n"                          \
    "        out[n] = '\\0';\n"                                                                    \
    "        async_mutex_unlock(&c->lock);\n"                                                      \
    "    }\n    return rc;\n}\n\n"                                                                 \
    "async int kv_set(kv_client_t *c, const char *key, const char *value)\n{\n"                    \
    "    int rc = await kv_take(c, \"set\");\n"                                                    \
    "    if (rc == 0 && (rc = await async_mutex_lock(&c->lock)) == 0) {\n"                         \
    "        rc = await async_tcp_write(c->conn, key, strlen(key));\n"                             \
    "        if (rc == 0)\n"                                                                       \
    "            rc = await async_tcp_write(c->conn, value, strlen(value));\n"                     \
    "        async_mutex_unlock(&c->lock);\n"                                                      \
    "    }\n    return rc;\n}\n"

/* Writes the key-value client: kv.h, kv.c and an unasync.json whose "rename" object is
 * `rename` (the limiter's headers on the include path by compile flags). */
static void kv_project(proj *p, const char *rename)
{
    char dir[1024], spelling[128], buf[8192];
    limiter_include(dir, sizeof dir, spelling, sizeof spelling);
    snprintf(buf, sizeof buf,
             "{\n  \"sources\": [\"kv.c\", \"kv.h\"],\n"
             "  \"compile_flags\": [\"-I%s\", \"-I%s\"],\n"
             "  \"rename\": %s\n}\n",
             dir, runtime_include, rename);
    put(p, "unasync.json", buf);
    snprintf(buf, sizeof buf,
             "#ifndef KV_H\n#define KV_H\n#include <unasync/async.h>\n#include %s\n\n" KV_H_BODY,
             spelling);
    /* the twin includes the limiter's sync header (the escape hatch; a rule map does it too) */
    char *inc = strstr(buf, "#include \"limiter.h\"\n");
    if (!inc)
        inc = strstr(buf, "#include <unasync/limiter/limiter.h>\n");
    assert_non_null(inc);
    char hatch[512];
    snprintf(hatch, sizeof hatch, "#if UNASYNC_ASYNC\n#include %s\n#else\n#include %s\n#endif\n",
             spelling,
             spelling[0] == '<' ? "<unasync/limiter/sync_limiter.h>" : "\"sync_limiter.h\"");
    char rest[8192];
    snprintf(rest, sizeof rest, "%s", strchr(inc, '\n') + 1);
    snprintf(inc, sizeof buf - (size_t)(inc - buf), "%s%s", hatch, rest);
    put(p, "kv.h", buf);
    put(p, "kv.c", KV_C);
    drop_fixture(p);
}

/* With rules for its own kv_* names only, the client's twin keeps calling the limiter's async
 * API: it compiles, links and aborts at run time. --check now fails with UA009 at each call. */
static void kv_client_twin_calling_the_async_limiter_fails_check(void **state)
{
    proj *p = *state;
    kv_project(p, "{\n    \"kv_*\": \"kv_sync_*\"\n  }");
    expect_run(p, "--write -q", 0);
    expect_run(p, "--check", 1);
    expect_out(p, "kv.c:9:20: error: call to async function 'rl_limiter_acquire'");
    expect_out(p, "kv.c:10:28: error: call to async function 'rl_lease_commit'");
    expect_out(p, "[UA009]");
    /* the runtime's own async_* are renamed by the built-in rule: no UA009 for them */
    assert_null(strstr(p->out, "'async_"));
    assert_null(strstr(p->out, "UA010"));
    /* the fix: the limiter's rule map, which this build generates beside unasync
     * (build/limiter/unasync-limiter.json, found through unasync-uninstalled.txt) */
    expect_out(p, "(add \"unasync-limiter\" to \"maps\" in unasync.json");
    expect_run(p, "--fix --diff", 1);
    expect_out(p, "+  \"maps\": [\"unasync-limiter\"],\n");
    /* the negative: rules for the limiter's names too, and the twin is right */
    kv_project(p, "{\n    \"kv_*\": \"kv_sync_*\",\n    \"rl_limiter*\": \"rl_sync_limiter*\",\n"
                  "    \"rl_lease*\": \"rl_sync_lease*\"\n  }");
    expect_run(p, "--write -q", 0);
    expect_run(p, "--check", 0);
    assert_null(strstr(p->out, "UA009"));
    assert_non_null(strstr(get(p, "sync_kv.c"), "rl_sync_limiter_acquire(c->lim"));
}

/* Rules for the client's functions only: sync_kv.h defines struct kv_client with sync_mutex_t
 * under the same name, and a program including both headers fails to compile. --check fails
 * with UA010; --fix proposes one kv_* glob, keeps unasync.json's formatting, and then both
 * headers compile in one program. */
static void kv_client_header_types_fail_check_until_one_glob_renames_them(void **state)
{
    proj *p = *state;
    kv_project(p, "{\n    \"kv_get\": \"kv_sync_get\",\n    \"kv_set\": \"kv_sync_set\",\n"
                  "    \"rl_limiter*\": \"rl_sync_limiter*\",\n"
                  "    \"rl_lease*\": \"rl_sync_lease*\"\n  }");
    expect_run(p, "--write -q", 0);
    /* the failure the issue saw, first: both headers in one program */
    char dir[1024], spelling[128], cmd[4096];
    limiter_include(dir, sizeof dir, spelling, sizeof spelling);
    put(p, "both.c", "#include \"kv.h\"\n#include \"sync_kv.h\"\nint main(void) { return 0; }\n");
    snprintf(cmd, sizeof cmd,
             "cd '%s' && cc -std=c11 -D_GNU_SOURCE -fsyntax-only -I'%s' -I'%s' both.c 2>.cc-err",
             p->dir, dir, runtime_include);
    assert_int_not_equal(system(cmd), 0);
    const char *cc_err = get(p, ".cc-err");
    if (!cc_err || !strstr(cc_err, "redefinition of"))
        fail_msg("both headers should collide with a redefinition:\n%s", cc_err ? cc_err : "");
    expect_run(p, "--check", 1);
    expect_out(p, "kv.h:10:8: error: 'struct kv_client' keeps its name in the twin "
                  "header, whose definition differs ('async_mutex_t' becomes "
                  "'sync_mutex_t')");
    expect_out(p, "kv.h:15:26: error: 'kv_client_t' keeps its name");
    expect_out(p, "[UA010]");
    assert_null(strstr(p->out, "UA009"));
    expect_run(p, "--fix", 0);
    /* one glob, in the shape of the existing rules; the rest of the file byte for byte */
    char want[8192];
    snprintf(want, sizeof want,
             "{\n  \"sources\": [\"kv.c\", \"kv.h\"],\n"
             "  \"compile_flags\": [\"-I%s\", \"-I%s\"],\n"
             "  \"rename\": {\n    \"kv_*\": \"kv_sync_*\",\n"
             "    \"kv_get\": \"kv_sync_get\",\n    \"kv_set\": \"kv_sync_set\",\n"
             "    \"rl_limiter*\": \"rl_sync_limiter*\",\n"
             "    \"rl_lease*\": \"rl_sync_lease*\"\n  }\n}\n",
             dir, runtime_include);
    assert_string_equal(get(p, "unasync.json"), want);
    assert_non_null(strstr(get(p, "sync_kv.h"), "struct kv_sync_client {\n"));
    *strstr(cmd, " 2>.cc-err") = '\0'; /* it must compile now: tell why not */
    assert_int_equal(system(cmd), 0);
    expect_run(p, "--check", 0);
}

/* No compile_commands.json yet (pre-commit before the first build): --check fails with one
 * UA000 that says what is missing and how to provide it, and libclang's loader says nothing on
 * stderr. Off in the configuration, or with --no-lint, the check passes. */
static void missing_compile_commands_fails_check_without_libclang_noise(void **state)
{
    proj *p = *state;
    put(p, "unasync.json",
        "{\n  \"sources\": [\"src/*.c\"],\n"
        "  \"compile_commands\": \"build/compile_commands.json\"\n}\n");
    drop_fixture(p);
    put(p, "src/api.c",
        "#include <unasync/async.h>\n#include \"not_built_yet.h\"\n\n"
        "static async int go(void) { return await async_yield(); }\n"
        "int (*keep)(void) = go;\n");
    put(p, "src/b.c",
        "#include <unasync/async.h>\n#include \"not_built_yet.h\"\n\n"
        "static async int go(void) { return await async_yield(); }\n"
        "static int (*keep)(void) = go;\n");
    expect_run(p, "--write -q", 0);
    expect_run(p, "--check", 1);
    assert_null(strstr(p->err, "LIBCLANG"));
    expect_out(p, "[UA000]");
    expect_out(p, "error: lint is limited: \"compile_commands\": "
                  "build/compile_commands.json does not exist: build the project "
                  "first");
    expect_out(p, "(2 sources are affected; this is the first)");
    /* one finding, not one per source */
    assert_null(strstr(strstr(p->out, "[UA000]") + 1, "[UA000]"));
    expect_run(p, "--check --no-lint", 0);
    put(p, "unasync.json",
        "{\n  \"sources\": [\"src/*.c\"],\n"
        "  \"compile_commands\": \"build/compile_commands.json\",\n"
        "  \"lint\": { \"UA000\": \"off\" }\n}\n");
    expect_run(p, "--check", 0);
    assert_null(strstr(p->err, "LIBCLANG"));
    /* a malformed database: told, and libclang stays quiet too */
    put(p, "unasync.json",
        "{\n  \"sources\": [\"src/*.c\"],\n"
        "  \"compile_commands\": \"build/compile_commands.json\"\n}\n");
    put(p, "build/compile_commands.json", "{ not a database");
    expect_run(p, "--check", 1);
    assert_null(strstr(p->err, "LIBCLANG"));
    expect_out(p, "compile_commands.json is not a compile database libclang accepts (1:3: ");
    /* an array whose inside libclang's loader refuses (an entry without "file", an unknown
     * key, a truncated document): told with the place, libclang never sees it */
    static const char *const refused[][2] = {
        {"[{\"directory\": \"/\", \"command\": \"cc -c a.c\"}]", "1:2: an entry has no \"file\""},
        {"[\n {\"directory\": \"/\", \"file\": \"a.c\", \"command\": \"cc\", \"x\": \"\"}]",
         "2:53: unknown key 'x'"},
        {"[{\"directory\": \"/\", \"file\": \"a.c\", \"arguments\": [\"cc\", 1]}]",
         "\"arguments\" holds something other than strings"},
        {"[{\"directory\": \"/\", \"file\": \"a.c\", \"command\": \"cc\"}", "1:"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        put(p, "build/compile_commands.json", refused[i][0]);
        expect_run(p, "--check", 1);
        assert_null(strstr(p->err, "LIBCLANG"));
        expect_out(p, "compile_commands.json is not a compile database libclang accepts");
        expect_out(p, refused[i][1]);
    }
    /* the same database found by the search, not configured: told too, not passed by */
    put(p, "build/compile_commands.json", "{ not a database");
    put(p, "unasync.json", "{\n  \"sources\": [\"src/*.c\"]\n}\n");
    expect_run(p, "--check", 1);
    assert_null(strstr(p->err, "LIBCLANG"));
    expect_out(p, "lint is limited: build/compile_commands.json is not a compile database "
                  "libclang accepts (1:3: ");
    expect_out(p, "(found by the search");
}

/* The executable does not link libclang; the lint loads it when it runs. A libclang that cannot
 * be loaded (here $UNASYNC_LIBCLANG names a missing library, then one without libclang's
 * functions) is one UA000 error that says what is missing, never a silent pass: --check and
 * --fix exit 1 and --fix changes nothing. What does not lint (--no-lint, --write) works without
 * it, and without the variable the lint finds libclang by itself and reports the real rule. */
static void lint_without_loadable_libclang_fails_with_what_is_missing(void **state)
{
    proj *p = *state;
    lintable(p, "", PRELUDE "static async int go(void) { return fetch(2); }\n" KEEP);
    const char *missing = "UNASYNC_LIBCLANG=/nonexistent/libclang-missing.so";
    assert_int_equal(run_env(p, missing, "--write -q"), 0);
    assert_true(exists(p, "src/sync_a.c"));
    assert_int_equal(run_env(p, missing, "--check --no-lint"), 0);
    assert_int_equal(run_env(p, missing, "--check"), 1);
    expect_out(p, "src/a.c:1:1: error: lint is limited: libclang could not be loaded: "
                  "/nonexistent/libclang-missing.so: cannot open shared object file");
    expect_out(p, "$UNASYNC_LIBCLANG");
    expect_out(p, "[UA000]");
    assert_null(strstr(p->out, "[UA001]")); /* nothing from a lint that did not run */
    char before[4096];
    snprintf(before, sizeof before, "%s", get(p, "src/a.c"));
    assert_int_equal(run_env(p, missing, "--fix"), 1);
    expect_out(p, "libclang could not be loaded");
    assert_string_equal(get(p, "src/a.c"), before);
    assert_int_equal(run_env(p, "UNASYNC_LIBCLANG=libc.so.6", "--check --format=json"), 1);
    expect_out(p, "libc.so.6 has no clang_");
    expect_out(p, "\"UA000\"");
    /* by its soname: the real lint, the real finding */
    expect_run(p, "--check", 1);
    expect_out(p, "[UA001]");
    assert_null(strstr(p->out, "[UA000]"));
}

/* An async function of a library whose rule map is available (here through $UNASYNC_MAP_PATH)
 * but not named in "maps": UA009 names the map, and --fix adds it to "maps"; with the map in
 * force the twin calls the library's sync API and --check passes. */
static void ua009_names_the_available_rule_map_and_fix_adds_it(void **state)
{
    proj *p = *state;
    char cfg[2048], env[1024];
    snprintf(
        cfg, sizeof cfg,
        "{\n  \"sources\": [\"src/*.c\"],\n  \"compile_flags\": [\"-I%s\", \"-Ilib/include\"]\n}\n",
        runtime_include);
    put(p, "unasync.json", cfg);
    drop_fixture(p);
    put(p, "lib/include/rt/ratelib.h",
        "#ifndef RATELIB_H\n#define RATELIB_H\n#include <unasync/async.h>\n"
        "typedef struct rt rt_t;\nasync int rt_acquire(rt_t *r);\n#endif\n");
    put(p, "maps/ratelib.json",
        "{\"unasync_map\": 1, \"name\": \"ratelib\", \"rename\": {\"rt_*\": \"rt_sync_*\"},\n"
        " \"headers\": {\"rt/ratelib.h\": \"rt/sync_ratelib.h\"}}\n");
    put(p, "src/a.c",
        "#include <unasync/async.h>\n#include <rt/ratelib.h>\n\n"
        "static async int go(rt_t *r) { return await rt_acquire(r); }\n"
        "static int (*keep)(rt_t *) = go;\n");
    snprintf(env, sizeof env, "UNASYNC_MAP_PATH='%s/maps'", p->dir);
    expect_run(p, "--write -q", 0);
    assert_int_equal(run_env(p, env, "--check"), 1);
    expect_out(p, "src/a.c:4:45: error: call to async function 'rt_acquire'");
    expect_out(p, "(add \"ratelib\" to \"maps\" in unasync.json: that rule map lists its header) "
                  "[UA009]");
    /* without the map on the search path, the fix is a rename rule */
    expect_run(p, "--fix --diff", 1);
    expect_out(p, "+  \"rename\": { \"rt_acquire\": \"rt_sync_acquire\" },\n");
    assert_int_equal(run_env(p, env, "--fix"), 0);
    expect_out(p, "");
    assert_non_null(strstr(get(p, "unasync.json"), "  \"maps\": [\"ratelib\"],\n  \"sources\""));
    assert_non_null(strstr(get(p, "src/sync_a.c"), "#include <rt/sync_ratelib.h>\n"));
    assert_non_null(strstr(get(p, "src/sync_a.c"), "return rt_sync_acquire(r);"));
    assert_int_equal(run_env(p, env, "--check"), 0);
}

/* A lintable project (see lintable) whose twins are written, checked: --check's status. */
static void lint_check(proj *p, const char *extra, const char *a_c, int status)
{
    lintable(p, extra, a_c);
    expect_run(p, "--write -q", 0);
    expect_run(p, "--check", status);
}

/* A blocking call in async code fails --check by default (no --strict); a severity in the
 * configuration still lowers it. */
static void blocking_call_fails_check_by_default(void **state)
{
    proj *p = *state;
    const char *src =
        PRELUDE "static async int go(void)\n{\n    sleep(1);\n    return 0;\n}\n" KEEP;
    lint_check(p, "", src, 1);
    expect_out(p, "src/a.c:9:5: error: blocking call to 'sleep'");
    lint_check(p, ",\n  \"lint\": { \"UA004\": \"warning\" }", src, 0);
    expect_out(p, "src/a.c:9:5: warning: blocking call to 'sleep'");
    expect_run(p, "--check --strict", 1);
}

/* A function started with async_spawn is a coroutine: awaits in it are fine (runtime.md's first
 * example); the same function called directly from plain code is still UA003. */
static void a_spawned_function_is_an_async_context(void **state)
{
    proj *p = *state;
#define WORKER "static int worker(void *arg)\n{\n    (void)arg;\n    return await fetch(1);\n}\n"
    lint_check(p, "",
               PRELUDE WORKER
               "static int go(void)\n{\n    async_task_t *t = async_spawn(worker, NULL);\n"
               "    async_detach(t);\n    return 0;\n}\n" KEEP,
               0);
    lint_check(p, "", PRELUDE WORKER "static int go(void)\n{\n    return worker(NULL);\n}\n" KEEP,
               1);
#undef WORKER
    expect_out(p, "inside 'worker', which is not async");
    expect_out(p, "[UA003]");
}

/* await on a function the parse cannot see says it is undeclared. */
static void await_on_an_undeclared_callee_says_so(void **state)
{
    proj *p = *state;
    lint_check(p, "",
               PRELUDE "static async int go(void)\n{\n    return await nowhere(1);\n}\n" KEEP, 1);
    expect_out(p, "await on 'nowhere', which is not declared here");
    assert_null(strstr(p->out, "not async: nothing suspends"));
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s UNASYNC_BINARY [RUNTIME_INCLUDE [SOURCE_ROOT]]\n", argv[0]);
        return 2;
    }
    unasync_bin = argv[1];
    runtime_include = argc > 2 ? argv[2] : "runtime/include";
    source_root = argc > 3 ? argv[3] : ".";
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(check_reports_missing_twins),
        T(write_generates_and_check_is_then_clean),
        T(write_twice_changes_nothing_and_keeps_mtime),
        T(check_reports_stale_twin_at_first_hunk),
        T(check_reports_hand_edited_twin),
        T(a_reformatted_header_is_an_edit_not_a_foreign_file),
        T(check_and_prune_orphans),
        T(check_names_a_header_only_difference),
        T(prune_keeps_hand_edited_orphans),
        T(write_refuses_a_file_it_did_not_generate),
        T(write_keeps_the_file_mode),
        T(a_source_with_errors_gets_no_twin_others_do),
        T(binary_source_is_refused_with_a_location),
        T(bad_configuration_is_an_error_with_a_location),
        T(configuration_is_found_by_walking_up),
        T(no_configuration_is_an_error),
        T(json_and_github_formats),
        T(unused_rules_warn_and_strict_fails),
        T(print_writes_exactly_the_twin),
        T(symlinks_that_leave_the_project_are_refused),
        T(usage_errors_exit_2),
        T(fix_inserts_await_regenerates_the_twin_and_keeps_the_mode),
        T(fix_removes_await_on_a_plain_call),
        T(fix_rewrites_blocking_calls_to_their_async_twins),
        T(fix_applies_two_fixes_in_one_file),
        T(fix_skips_an_overlapping_fix_and_takes_it_in_the_next_round),
        T(fix_merges_rename_rules_into_an_existing_rename_object),
        T(fix_adds_a_rename_object_when_there_is_none),
        T(fix_diff_prints_the_fixes_and_writes_nothing),
        T(fix_diff_shows_the_twins_fix_would_regenerate),
        T(fix_refuses_a_file_changed_since_the_lint),
        T(fix_leaves_malformed_sources_untouched),
        T(fix_twice_changes_nothing_the_second_time),
        T(fix_leaves_marking_a_function_async_to_a_person),
        T(kv_client_twin_calling_the_async_limiter_fails_check),
        T(kv_client_header_types_fail_check_until_one_glob_renames_them),
        T(missing_compile_commands_fails_check_without_libclang_noise),
        T(blocking_call_fails_check_by_default),
        T(a_spawned_function_is_an_async_context),
        T(await_on_an_undeclared_callee_says_so),
        T(ua009_names_the_available_rule_map_and_fix_adds_it),
        T(lint_without_loadable_libclang_fails_with_what_is_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
