/* test_glob.c - the engine's glob matcher keeps its meaning and runs in linear time (issue 15:
 * 15 "*a" against an 80-character name backtracked for ever). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "engine.h"

static void globs_keep_their_meaning(void **state)
{
    (void)state;
    assert_true(ue_glob_match("src/*.c", "src/a.c"));
    assert_false(ue_glob_match("src/*.c", "src/x/a.c"));
    assert_true(ue_glob_match("*.c", ".c"));
    assert_true(ue_glob_match("**/*.c", "a.c"));
    assert_true(ue_glob_match("**/*.c", "a/b/c.c"));
    assert_true(ue_glob_match("src/**/x.c", "src/x.c"));
    assert_true(ue_glob_match("src/**/x.c", "src/a/b/x.c"));
    assert_false(ue_glob_match("src/**/x.c", "src/ax.c"));
    assert_false(ue_glob_match("src/**/x.c", "src/ab/cx.c"));
    assert_true(ue_glob_match("src/**", "src/a/b"));
    assert_true(ue_glob_match("a?c", "abc"));
    assert_false(ue_glob_match("a?c", "a/c"));
    assert_true(ue_glob_match("[ab]x", "bx"));
    assert_false(ue_glob_match("[ab]x", "cx"));
    assert_true(ue_glob_match("[!a]x", "bx"));
    assert_false(ue_glob_match("[!a]x", "ax"));
    assert_true(ue_glob_match("[a-c]x", "bx"));
    assert_false(ue_glob_match("[a-c]x", "/x"));
    assert_true(ue_glob_match("[x", "[x"));
    assert_true(ue_glob_match("a***b", "a/x/b"));
    assert_false(ue_glob_match("src/*.c", "src/a.h"));
    assert_true(ue_glob_match("", ""));
    assert_false(ue_glob_match("", "a"));
}

static void globs_run_in_linear_time(void **state)
{
    (void)state;
    char pat[64] = "", name[128];
    for (int i = 0; i < 15; i++)
        strcat(pat, "*a");
    strcat(pat, "*.c");
    memset(name, 'a', 79);
    strcpy(name + 79, "b.x");
    assert_false(ue_glob_match(pat, name)); /* returns at once, or never when exponential */
    strcpy(name + 79, "b.c");
    assert_true(ue_glob_match(pat, name));
    char deep[4096] = "";
    for (int i = 0; i < 30; i++)
        strcat(deep, "**/");
    strcat(deep, "x");
    char path[4096] = "";
    for (int i = 0; i < 1000; i++)
        strcat(path, "d/");
    strcat(path, "y");
    assert_false(ue_glob_match(deep, path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(globs_keep_their_meaning),
        cmocka_unit_test(globs_run_in_linear_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
