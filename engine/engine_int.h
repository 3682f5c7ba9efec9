/* engine_int.h - what the engine's files share beyond engine.h (files.c's helpers). */
#ifndef UNASYNC_ENGINE_INT_H
#define UNASYNC_ENGINE_INT_H

#include "engine.h"

/* Folder a and name b joined with one '/': a new string (ua_free), NULL when out of memory. */
char *ue__join(const char *a, const char *b);

/* Whether absolute `path` (already canonical) lies inside (or is) `root`. */
int ue__inside(const char *root, const char *path);

/* Reads a whole file by the input rules (engine.h), opened without blocking and, with
 * `nofollow`, refusing a symbolic link as the last component (UE_ELINKOUT). Returns 0, UA_ENOMEM,
 * -errno or a UE_E* code; *bytes (NUL-terminated, ua_free) is NULL after a failure. */
int ue__read_path(const char *path, int nofollow, char **bytes, size_t *len);

#endif
