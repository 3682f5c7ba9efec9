/* test_errors.c - every library's error codes lie outside the errno range and apart from each
 * other's, each code has its own text in its library's strerror (which also names the codes it
 * passes on from the libraries under it), and no engine function answers one value for two
 * things (ue_rel, ue_source_of). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lsp.h"
#include "server.h"
#include "testfs.h"
#include "ul.h"
#include <unasync/common.h>
#include <unasync/limiter/rl_types.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The largest errno value Linux (and libuv's scheme) reserves: -4095 .. -1 are system errors. */
enum { ERRNO_MAX = 4095 };

typedef struct code {
    const char *lib, *name;
    int value;
    const char *text;
} code;

#define UA_CODE(name, value, text) {"transform", "UA_E" #name, value, text},
#define UE_CODE(name, value, text) {"engine", "UE_E" #name, value, text},
#define UL_CODE(name, value, text) {"lint", "UL_E" #name, value, text},
#define LSP_CODE(name, value, text) {"protocol", "LSP_E" #name, value, text},
#define RL_CODE(name, value, text) {"limiter", "RL_" #name, value, text},
#define SRV_CODE(name, value, text) {"server", "SRV_E" #name, value, text},
static const code ua_codes[] = {UA_ERRNO_MAP(UA_CODE)};
static const code ue_codes[] = {UE_ERRNO_MAP(UE_CODE)};
static const code ul_codes[] = {UL_ERRNO_MAP(UL_CODE)};
static const code lsp_codes[] = {LSP_ERRNO_MAP(LSP_CODE)};
static const code rl_codes[] = {RL_ERRNO_MAP(RL_CODE)};
static const code srv_codes[] = {SRV_ERRNO_MAP(SRV_CODE)};
#define N(a) (sizeof a / sizeof *a)

/* Each library's own codes lie in [base - 99, base - 1], below -4096. */
static void check_range(const code *v, size_t n, int base)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i].value >= -ERRNO_MAX - 1 || v[i].value > base - 1 || v[i].value < base - 99)
            fail_msg("%s: %s = %d lies outside its range [%d, %d] below the errno range",
                     v[i].lib, v[i].name, v[i].value, base - 99, base - 1);
    }
}

static void own_codes_lie_below_errno_in_ranges_of_their_own(void **state)
{
    (void)state;
    check_range(ua_codes, N(ua_codes), UA_EBASE);
    check_range(ue_codes, N(ue_codes), UE_EBASE);
    check_range(lsp_codes, N(lsp_codes), LSP_EBASE);
    check_range(rl_codes, N(rl_codes), RL_EBASE);
    check_range(srv_codes, N(srv_codes), SRV_EBASE);
    /* the runtime's codes are -errno (libuv's scheme) or below UNASYNC_EBASE */
    static const int rt[] = {UNASYNC_ENOTCORO, UNASYNC_ENOTFOUND, UNASYNC_EDNS, UNASYNC_EREDIS};
    for (size_t i = 0; i < N(rt); i++)
        assert_true(rt[i] < UNASYNC_EBASE && rt[i] > UNASYNC_EBASE - 100);
    assert_int_equal(UNASYNC_ENOMEM, -ENOMEM);
    /* the lint's codes are the transformer's (one condition, one value) or its own range's */
    for (size_t i = 0; i < N(ul_codes); i++) {
        int found = 0;
        for (size_t k = 0; k < N(ua_codes); k++)
            found |= ua_codes[k].value == ul_codes[i].value &&
                     strcmp(ua_codes[k].text, ul_codes[i].text) == 0;
        if (!found)
            check_range(&ul_codes[i], 1, UL_EBASE);
    }
    /* the bases are far enough apart that no two libraries' ranges meet */
    const int bases[] = {UA_EBASE,      UE_EBASE, UL_EBASE, LSP_EBASE,
                         UNASYNC_EBASE, RL_EBASE, SRV_EBASE};
    for (size_t i = 0; i < N(bases); i++)
        for (size_t k = i + 1; k < N(bases); k++)
            assert_true(abs(bases[i] - bases[k]) >= 100);
}

static void no_two_codes_share_a_value(void **state)
{
    (void)state;
    const code *all[] = {ua_codes, ue_codes, ul_codes + 2, lsp_codes, rl_codes, srv_codes};
    const size_t n[] = {N(ua_codes),  N(ue_codes), N(ul_codes) - 2,
                        N(lsp_codes), N(rl_codes), N(srv_codes)};
    assert_int_equal(ul_codes[0].value, UA_ENOMEM); /* the two aliases come first */
    assert_int_equal(ul_codes[1].value, UA_EINVAL);
    for (size_t a = 0; a < N(all); a++)
        for (size_t i = 0; i < n[a]; i++)
            for (size_t b = 0; b < N(all); b++)
                for (size_t k = 0; k < n[b]; k++) {
                    if (a == b && i == k)
                        continue;
                    if (all[a][i].value == all[b][k].value)
                        fail_msg("%s and %s are both %d", all[a][i].name, all[b][k].name,
                                 all[a][i].value);
                }
}

/* Every code of a table gets exactly its text from `fn`. */
static void check_texts(const char *(*fn)(int), const char *fn_name, const code *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(fn(v[i].value), v[i].text) != 0)
            fail_msg("%s(%s) is \"%s\", not \"%s\"", fn_name, v[i].name, fn(v[i].value),
                     v[i].text);
}

static void each_strerror_names_what_its_library_returns(void **state)
{
    (void)state;
    check_texts(ua_strerror, "ua_strerror", ua_codes, N(ua_codes));
    check_texts(lsp_strerror, "lsp_strerror", lsp_codes, N(lsp_codes));
    /* the engine passes on the transformer's codes and -errno, the lint the engine's */
    const char *(*core[])(int) = {ue_strerror, ul_strerror};
    const char *names[] = {"ue_strerror", "ul_strerror"};
    for (size_t c = 0; c < N(core); c++) {
        check_texts(core[c], names[c], ua_codes, N(ua_codes));
        check_texts(core[c], names[c], ue_codes, N(ue_codes));
        /* a system error is the C library's text, never one of ours: -EPERM is not "out of
         * memory", -ENOENT is not "invalid argument" */
        assert_string_equal(core[c](-EPERM), strerrordesc_np(EPERM));
        assert_string_equal(core[c](-ENOENT), strerrordesc_np(ENOENT));
        assert_string_equal(core[c](-EACCES), strerrordesc_np(EACCES));
        assert_string_equal(core[c](-EISDIR), "is a folder");
        assert_string_equal(core[c](0), "success");
        assert_string_equal(core[c](1), "unknown error");
    }
    check_texts(ul_strerror, "ul_strerror", ul_codes, N(ul_codes));
    /* the server's table, and a system error in the C library's words */
    check_texts(srv_strerror, "srv_strerror", srv_codes, N(srv_codes));
    assert_string_equal(srv_strerror(-EPERM), strerrordesc_np(EPERM));
    assert_string_equal(srv_strerror(0), "success");
    assert_string_equal(srv_strerror(1), "unknown error");
    assert_string_equal(ua_strerror(-ENOENT), "unknown error");
    assert_string_equal(lsp_strerror(-EPERM), "unknown error");
}

/* ---- ue_rel and ue_source_of: a code and an out-parameter ---- */

typedef struct fixture {
    char dir[64];
    ue_project *p;
} fixture;

static int project_setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    snprintf(fx->dir, sizeof fx->dir, "/tmp/ua-errors-XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/src", fx->dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/unasync.json", fx->dir);
    testfs_spit(path, "{\"sources\": [\"src/*.c\"]}\n", 25);
    snprintf(path, sizeof path, "%s/src/a.c", fx->dir);
    testfs_spit(path, "int a;\n", 7);
    snprintf(path, sizeof path, "%s/unasync.json", fx->dir);
    ua_findings f = {0};
    int rc = ue_project_open(path, &fx->p, &f);
    ua_findings_free(&f);
    *state = fx;
    return rc;
}

static int project_teardown(void **state)
{
    fixture *fx = *state;
    char cmd[128];
    ue_project_free(fx->p);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
    int rc = system(cmd);
    free(fx);
    return rc;
}

static void rel_tells_outside_from_inside(void **state)
{
    fixture *fx = *state;
    char path[PATH_MAX], *rel = (char *)"junk";
    snprintf(path, sizeof path, "%s/src/a.c", fx->dir);
    assert_int_equal(ue_rel(fx->p, path, &rel), 0);
    assert_string_equal(rel, "src/a.c");
    ua_free(rel);
    snprintf(path, sizeof path, "%s/src/new.c", fx->dir); /* not there yet: by its folder */
    assert_int_equal(ue_rel(fx->p, path, &rel), 0);
    assert_string_equal(rel, "src/new.c");
    ua_free(rel);
    rel = (char *)"junk";
    assert_int_equal(ue_rel(fx->p, "/etc/passwd", &rel), UE_EOUTSIDE);
    assert_null(rel);
    snprintf(path, sizeof path, "%s/src/link", fx->dir); /* a link out is outside */
    assert_int_equal(symlink("/etc", path), 0);
    snprintf(path, sizeof path, "%s/src/link/passwd", fx->dir);
    rel = (char *)"junk";
    assert_int_equal(ue_rel(fx->p, path, &rel), UE_EOUTSIDE);
    assert_null(rel);
}

static void source_of_tells_no_source_from_a_source(void **state)
{
    fixture *fx = *state;
    char *src = (char *)"junk";
    assert_int_equal(ue_source_of(fx->p, "src/sync_a.c", &src), 0);
    assert_string_equal(src, "src/a.c");
    ua_free(src);
    src = (char *)"junk";
    assert_int_equal(ue_source_of(fx->p, "src/sync_b.c", &src), UE_ENOSOURCE);
    assert_null(src);
    src = (char *)"junk";
    assert_int_equal(ue_source_of(fx->p, "src/a.c", &src), UE_ENOSOURCE);
    assert_null(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(own_codes_lie_below_errno_in_ranges_of_their_own),
        cmocka_unit_test(no_two_codes_share_a_value),
        cmocka_unit_test(each_strerror_names_what_its_library_returns),
        cmocka_unit_test_setup_teardown(rel_tells_outside_from_inside, project_setup,
                                        project_teardown),
        cmocka_unit_test_setup_teardown(source_of_tells_no_source_from_a_source, project_setup,
                                        project_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
