/* testfs.c - file helpers shared by the test programs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testfs.h"

#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *testfs_slurp(const char *path, size_t *len)
{
    char *b;
    size_t n;
    if (ue_read_file(path, &b, &n) != 0)
        return NULL;
    /* a plain malloc copy: the test's memory stays outside the allocation hook it may install */
    char *copy = malloc(n + 1);
    if (copy)
        memcpy(copy, b, n + 1);
    ua_free(b);
    if (copy && len)
        *len = n;
    return copy;
}

void testfs_spit(const char *path, const char *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        fprintf(stderr, "cannot write %s\n", path);
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    fclose(f);
}
