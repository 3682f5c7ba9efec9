/* test_read.c - the engine reads a file by the input rules, completely and exactly: a file read
 * into a buffer of the size fstat gave (no growth just to see the end), one whose size fstat
 * does not know (procfs says 0: the buffer grows while the bytes come), an empty one, and one
 * over UE_MAX_FILE refused before a byte is read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/unasync-read-XXXXXX";

static void put_bytes(const char *path, const char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* Sizes around the buffer's edges: each comes back byte for byte, NUL-terminated. */
static void regular_files_read_exactly(void **state)
{
    (void)state;
    size_t sizes[] = {0, 1, 511, 512, 513, 4095, 4096, 4097, 100000};
    char path[256];
    snprintf(path, sizeof path, "%s/f", dir);
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        size_t n = sizes[k];
        char *want = malloc(n + 1);
        for (size_t i = 0; i < n; i++)
            want[i] = (char)('a' + (i * 7 + k) % 26);
        put_bytes(path, want, n);
        char *got = NULL;
        size_t len = 99;
        assert_int_equal(ue_read_file(path, &got, &len), 0);
        assert_int_equal(len, n);
        if (n)
            assert_memory_equal(got, want, n);
        assert_int_equal(got[n], '\0');
        ua_free(got);
        free(want);
    }
}

/* /proc/PID/cmdline is a regular file whose size fstat gives as 0: the reader must grow its
 * buffer as bytes keep coming and lose none (the bytes past each full buffer arrive through a
 * small probe read). The child's arguments are ours, so the bytes are known. */
static void a_file_larger_than_its_stat_size_reads_whole(void **state)
{
    (void)state;
    enum { NARGS = 300, ARGLEN = 97 }; /* ~29 KiB: several growths from 4 KiB */
    static char args[NARGS][ARGLEN + 1];
    char *argv[NARGS + 4];
    argv[0] = "sh";
    argv[1] = "-c";
    argv[2] = "read x"; /* waits on our pipe: stays sh (a command it would exec changes the bytes) */
    for (int i = 0; i < NARGS; i++) {
        for (int c = 0; c < ARGLEN; c++)
            args[i][c] = (char)('A' + (i + c) % 26);
        args[i][ARGLEN] = '\0';
        argv[3 + i] = args[i];
    }
    argv[3 + NARGS] = NULL;
    int ready[2], hold[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(hold), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        close(hold[1]);
        dup2(hold[0], 0);
        fcntl(ready[1], F_SETFD, FD_CLOEXEC); /* closed by the exec: then the bytes are sh's */
        execv("/bin/sh", argv);
        _exit(127);
    }
    close(ready[1]);
    close(hold[0]);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 0); /* EOF: the exec happened */
    close(ready[0]);
    size_t n = 0;
    char *want = malloc(8 + 8 + 16 + (size_t)NARGS * (ARGLEN + 1));
    for (int i = 0; i < 3 + NARGS; i++) {
        size_t l = strlen(argv[i]) + 1;
        memcpy(want + n, argv[i], l);
        n += l;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_size, 0); /* what makes this the growth path */
    char *got = NULL;
    size_t len = 0;
    int rc = ue_read_file(path, &got, &len);
    close(hold[1]); /* its read ends: sh exits */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    assert_int_equal(rc, 0);
    assert_int_equal(len, n);
    assert_memory_equal(got, want, n);
    assert_int_equal(got[n], '\0');
    ua_free(got);
    free(want);
}

/* Over the limit: refused as -EFBIG (a sparse file: no 64 MiB written). */
static void a_file_over_the_limit_is_refused(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/huge", dir);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, UE_MAX_FILE + 1), 0);
    close(fd);
    char *got = (char *)1;
    size_t len = 7;
    assert_int_equal(ue_read_file(path, &got, &len), -EFBIG);
    assert_null(got);
    assert_int_equal(len, 0);
    unlink(path);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(regular_files_read_exactly),
        cmocka_unit_test(a_file_larger_than_its_stat_size_reads_whole),
        cmocka_unit_test(a_file_over_the_limit_is_refused),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    return rc;
}
