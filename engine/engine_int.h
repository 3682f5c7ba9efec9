/* engine_int.h - what the engine's files share beyond engine.h (files.c's helpers, and what
 * engine.c shares with the live drift state, live.c). */
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

/* Reads project file `rel` from the overlay, else from the disk (ue_read_in); *mode (may be
 * NULL) gets the file's permission bits when it exists on disk. 0, UA_ENOMEM or a read error. */
int ue__read_doc(const ue_project *p, const ue_overlay *ov, const char *rel, char **bytes,
                 size_t *len, mode_t *mode);

/* Appends the drift finding of `t` (its source, twin, state, err and err_twin are read): for a
 * stale or edited twin at twin line `line`, `nh` hunks, related to source line `src_line`.
 * 0 or UA_ENOMEM. */
int ue__drift_finding(const ue_twin *t, unsigned line, unsigned src_line, size_t nh,
                      ua_findings *f);

/* The drift finding's places: the number of body hunks of `d` (*nh) and, when there is one
 * (returns 1), the 0-based twin lines where the first starts in the actual (*a) and expected (*b)
 * twin, a hunk that begins on the header line but goes on counting from the body. */
int ue__drift_lines(const ua_diff *d, size_t *nh, size_t *a, size_t *b);

#endif
