/* A coroutine (in the twin: a thread) that overflows its stack dies on the guard page with
 * SIGSEGV instead of silently corrupting memory; checked in a child process that runs this
 * program again (an exec, so a valgrind run does not report on the intended crash). */
#include <unasync/async.h>

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"

static int __attribute__((noinline)) recurse(int depth)
{
    volatile char frame[512];
    frame[0] = (char)depth;
    frame[sizeof frame - 1] = (char)depth;
    if (depth > 100000000)
        return frame[0];
    return recurse(depth + 1) + frame[sizeof frame - 1];
}

static int overflow_body(void *arg)
{
    return recurse(0);
}

static async int overflow_main(void *arg)
{
    async_task_t *t = async_spawn(overflow_body, NULL);
    CHECK(t != NULL);
    CHECK_RC(await async_join(t, NULL), 0);
    return 0;
}

/* The child: overflow a task's stack. Returning at all means the overflow went unnoticed. */
static int overflow_child(void)
{
    /* Sanitizers install their own SIGSEGV reporter; the default action is what we test. */
    signal(SIGSEGV, SIG_DFL);
    async_set_stack_size(64 * 1024);
    async_set_guard_pages(1);
    async_run(overflow_main, NULL);
    return 0;
}

static const char *self_path; /* argv[0]: /proc/self/exe would be valgrind itself */

static void stack_overflow_dies_with_sigsegv_on_the_guard_page(void **state)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl(self_path, self_path, "--overflow", (char *)NULL);
        _exit(127);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGSEGV);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--overflow") == 0)
        return overflow_child();
    self_path = argv[0];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stack_overflow_dies_with_sigsegv_on_the_guard_page),
    };
    return cmocka_run_group_tests_name(UNASYNC_ASYNC ? "runtime async guard" : "runtime sync guard",
                                       tests, NULL, NULL);
}
