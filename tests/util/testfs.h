/* testfs.h - file helpers shared by the test programs (reading expectations, writing fixtures). */
#ifndef UNASYNC_TESTFS_H
#define UNASYNC_TESTFS_H

#include <stddef.h>

/* The whole file, NUL-terminated, from plain malloc (the caller releases it with free(), whatever
 * allocator ua_set_allocator installed), its length in *len when len is not NULL; NULL when it
 * cannot be read. */
char *testfs_slurp(const char *path, size_t *len);
/* Writes `len` bytes to `path`, failing the current cmocka test when that is impossible. */
void testfs_spit(const char *path, const char *bytes, size_t len);

#endif
