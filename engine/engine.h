/* engine.h - the project engine shared by the CLI and the language server: finds unasync.json,
 * lists sources, computes every twin's expected bytes, classifies drift, and writes atomically.
 *
 * Architecture invariant: the CLI and the server call these functions and nothing else to decide
 * what a twin should contain and whether it drifted, so the editor and CI cannot disagree. The
 * engine does file I/O but knows nothing of LSP, JSON-RPC or libuv.
 *
 * Paths: `rel` paths are relative to the project root (the folder holding unasync.json) and use
 * '/'; absolute paths are canonical (realpath). Ownership follows ua.h: what an out-parameter
 * receives belongs to the caller; *_free(NULL) does nothing.
 *
 * Allocation: the engine has no hook of its own. Every heap allocation and free of engine/ (and
 * of lint/) goes through transform's (ua_set_allocator: ua_malloc ... ua_free), one hook for
 * the whole core, so a test fails the Nth allocation of a check, a write or a lint. A string
 * that an engine function returns for the caller to free (ue_find_config's path, ue_abs,
 * ue_rel, ue_twin_of, ue_source_of, ue_read_file's bytes) is released with ua_free(), never
 * free(). Running out of memory is UA_ENOMEM with nothing partial handed back: out-parameters
 * are empty and findings lists hold what they held before the call. */
#ifndef UNASYNC_ENGINE_H
#define UNASYNC_ENGINE_H

#include "ua.h"

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UE_CONFIG_NAME "unasync.json"

/* Drift codes: UA201 missing, UA202 stale, UA203 hand-edited, UA204 not generated (refused),
 * UA205 orphaned. Source problems are UA1xx (transform), configuration UA300, I/O UA400. */

typedef struct ue_project {
    char *root;        /* absolute folder of unasync.json */
    char *config_path; /* absolute path of unasync.json */
    ua_config *cfg;
    char **sources; /* rel, sorted */
    size_t nsources;
    char **candidates; /* rel: files named like twins found where sources live (orphan check) */
    size_t ncandidates;
    ua_project view; /* what the transformer sees */
} ue_project;

/* Where this unasync finds its own data. Each folder is NULL when it could not be found. The
 * installed layout is found relative to the executable (<bindir>/../share/unasync/maps holds
 * unasync-runtime.json); a binary in its build tree reads unasync-uninstalled.txt, which meson
 * writes at the build root, in the executable's folder or up to two folders above it. Computed
 * once; the result lives as long as the process and is safe to read from any thread. */
typedef struct ue_layout {
    const char *includedir; /* the runtime's and limiter's headers (unasync/async.h); in a
                             * build tree, ':'-separated folders */
    const char *mapdir;     /* rule maps installed beside this unasync (NAME.json) */
    const char *docdir;     /* the lint's rule pages (UA000.md ...) */
    int installed;          /* 1: the installed layout; 0: a build tree, or nothing found */
} ue_layout;
const ue_layout *ue_layout_get(void);

/* Finds the rule map named `name` (validated: see ua_map_ref_is_path): NAME.json in each folder
 * of $UNASYNC_MAP_PATH (':'-separated), then the file that `pkg-config --variable=unasync_map
 * NAME` names, then NAME.json in ue_layout_get()->mapdir. Stores a new path in *path (release
 * with ua_free). Returns 0, -ENOENT when there is none, or UA_ENOMEM. */
int ue_find_map(const char *name, char **path);

/* Reads every map that p->cfg's "maps" names and puts it in force (ua_config_add_map). Each map
 * that cannot be found or read, is not a valid map, or contradicts another is a UA300 finding
 * (at its entry in unasync.json, or in the map file) and the result is UA_ECONFIG; UA_ENOMEM
 * when memory runs out. ue_project_open calls it. */
int ue_load_maps(ue_project *p, ua_findings *f);

/* Walks up from `start` (a file or folder; relative to the working directory) to the nearest
 * folder holding unasync.json. Stores a new absolute path in *config_path (release with
 * ua_free). Returns 0, or -ENOENT when there is none up to the file-system root, UA_ENOMEM, or
 * another -errno. */
int ue_find_config(const char *start, char **config_path);

/* Editor buffers override the disk: lookup returns the bytes of an open document (rel path) or
 * NULL. The engine does not keep the pointer past the call that received it. */
typedef struct ue_overlay {
    const char *(*lookup)(void *ud, const char *rel, size_t *len);
    void *ud;
} ue_overlay;

/* Reads and validates the configuration at `config_path` and lists the sources. Problems go to
 * `findings` (paths relative to the working directory are the caller's business: findings carry
 * project-relative paths). Returns 0, UA_ECONFIG, UA_ENOMEM or -errno. */
int ue_project_open(const char *config_path, ue_project **out, ua_findings *findings);
/* ue_project_open with unasync.json's bytes from `ov` when it holds UE_CONFIG_NAME (an editor's
 * unsaved buffer, or the configuration a fix would write): the path is still resolved and
 * checked as above. */
int ue_project_open_overlay(const char *config_path, const ue_overlay *ov, ue_project **out,
                            ua_findings *findings);
/* Lists the sources again (files were added or removed). */
int ue_project_rescan(ue_project *p, ua_findings *findings);
void ue_project_free(ue_project *p);

/* Path helpers, whose strings the caller releases with ua_free. ue_abs: a new absolute path for
 * `rel`, or NULL on allocation failure. */
char *ue_abs(const ue_project *p, const char *rel);
/* Stores in *rel a new project-relative path for `path` (absolute or relative to the working
 * directory; symbolic links resolved, a file that does not exist yet by its folder). Returns 0,
 * UE_EOUTSIDE when the path is outside the project, or UA_ENOMEM; *rel is NULL unless 0. */
int ue_rel(const ue_project *p, const char *path, char **rel);
/* Whether `rel` is a source; the index via *idx when idx is not NULL. */
int ue_is_source(const ue_project *p, const char *rel, size_t *idx);
/* The twin of source `rel` (new string, rel; ua_free) or NULL on allocation failure. */
char *ue_twin_of(const ue_project *p, const char *rel);
/* Stores in *src the source whose twin is `twin_rel`, found by name among the sources (a new
 * string; ua_free). Returns 0, UE_ENOSOURCE when no source has that twin, or UA_ENOMEM; *src is
 * NULL unless 0. */
int ue_source_of(const ue_project *p, const char *twin_rel, char **src);

typedef enum {
    UE_OK,           /* the twin matches its source */
    UE_MISSING,      /* no twin */
    UE_STALE,        /* generated, untouched since, but its source or the rules changed */
    UE_EDITED,       /* generated, then edited by hand (body hash mismatch) */
    UE_UNMANAGED,    /* a file without our header stands where the twin goes */
    UE_ORPHANED,     /* generated, but its source is gone or no longer a source */
    UE_SOURCE_ERROR, /* the source has errors: no twin can be produced */
    UE_IO_ERROR      /* a file could not be read */
} ue_state;

const char *ue_state_name(ue_state s);

typedef struct ue_twin {
    char *source; /* rel; for an orphan, the source its header names */
    char *twin;   /* rel */
    ue_state state;
    char *expected; /* the twin as it should be; NULL for errors and orphans */
    size_t expected_len;
    char *actual; /* the twin as it is (overlay or disk); NULL when missing */
    size_t actual_len;
    char *src_bytes; /* the source as transformed */
    size_t src_len;
    ua_output out; /* transform result: source map, findings, rule hits */
    ua_diff diff;  /* actual -> expected, when both exist and differ */
    mode_t mode;   /* mode of the existing twin, else of the source */
    int err;       /* -errno or UE_E* for UE_IO_ERROR */
    int err_twin;  /* UE_IO_ERROR: 1 when the twin (not the source) could not be read */
} ue_twin;

/* Computes the expected twin of source `src_rel` and compares it with the twin (overlay, else
 * disk). `ctx` may be NULL. Returns 0 (the state is in t->state) or UA_ENOMEM (with *t empty).
 * Release t with ue_twin_free either way. */
int ue_check_source(ue_project *p, ua_ctx *ctx, const char *src_rel, const ue_overlay *ov,
                    ue_twin *t);
void ue_twin_free(ue_twin *t);

/* The findings that describe twin `t` (transform findings, then one drift finding), as --check
 * prints them and the server publishes them. Appended to `f`. Returns 0 or UA_ENOMEM (with `f`
 * as it was). */
int ue_twin_findings(const ue_twin *t, ua_findings *f);

/* Hunks of t->diff other than one that only rewrites line 1 (the header, whose body hash follows
 * every change), and the index of the first such hunk (d->n when none). */
size_t ue_body_hunks(const ua_diff *d);
size_t ue_first_body_hunk(const ua_diff *d);

typedef struct ue_report {
    ue_twin *twins; /* sorted by twin path */
    size_t n;
    ua_findings findings; /* everything, in the stable order */
} ue_report;

/* Checks every source (or only those under the `nfilters` rel paths: a file or a folder) plus
 * orphans, and reports rules that never fire (only when unfiltered). Uses up to `jobs` threads
 * (0: one per core). A twin that is in sync and has no findings keeps only its paths, state and
 * rule hits in the report (its bytes are released early); every other twin keeps everything.
 * Returns 0 or UA_ENOMEM (with *r empty). Release r with ue_report_free either way. */
int ue_check(ue_project *p, const char *const *filters, size_t nfilters, const ue_overlay *ov,
             int jobs, ue_report *r);
void ue_report_free(ue_report *r);

/* Writes t->expected to the twin when it differs from what is on disk: atomically (a temporary
 * file in the same folder, then rename), keeping the file mode. Refuses (UA204 finding, returns
 * 1) a file without our header unless `force`; refuses paths that leave the project. Returns 0
 * when nothing had to be written or it was written (*wrote says which), 1 when refused, or a
 * negative error: UA_ENOMEM (nothing written, no finding) or -errno (with a UA400 finding). The
 * file on disk always holds either its old bytes or all of the new ones. */
int ue_write_twin(ue_project *p, const ue_twin *t, int force, int *wrote, ua_findings *f);

/* Deletes orphaned twin t->twin (--write --prune) through the same checks as ue_write_twin: its
 * folder resolves inside the project, the file itself is a regular file and no symbolic link
 * (unlinked from its canonical folder, so nothing is deleted through a link), and it holds our
 * header with an intact body hash. Returns 0 (*deleted says whether it went), 1 when refused (a
 * UA205 finding for a hand-edited orphan, UA400 for a link or a path that leaves the project),
 * UA_ENOMEM (no finding) or -errno (with a UA400 finding). */
int ue_delete_orphan(ue_project *p, const ue_twin *t, int *deleted, ua_findings *f);

/* Writes `len` bytes over project file `rel` (a source, or UE_CONFIG_NAME for the project's
 * unasync.json) when it still holds exactly the `expect_len` bytes `expect` (an editor or a
 * formatter may have saved since they were read): read as ue_read_in reads, then atomically,
 * keeping the file's mode. Returns 0, UE_ECHANGED (nothing written), UA_ENOMEM, or -errno /
 * UE_E* from reading or writing. --fix writes a fix plan's files with it. */
int ue_write_over(const ue_project *p, const char *rel, const char *expect, size_t expect_len,
                  const char *bytes, size_t len);

/* Writes `len` bytes to `abs_path` atomically with permission bits `mode` (as for open(2)).
 * Returns 0 or -errno; on failure the original file is untouched and no temporary is left. */
int ue_write_atomic(const char *abs_path, const char *bytes, size_t len, mode_t mode);

/* Input rules (docs/architecture.md, "Paths and inputs"): only regular files are read, opened
 * with O_NONBLOCK (a FIFO never blocks the tool) and at most UE_MAX_FILE bytes. Besides -errno
 * and UA_ENOMEM, reads return UE_ENOTREG (a FIFO, device or socket), UE_ELINKOUT (a symbolic
 * link leading outside the project), -EISDIR or -EFBIG (over the limit). */
#define UE_MAX_FILE (64L * 1024 * 1024)
#define UE_MAX_FILE_TEXT "64 MiB"

/* The engine's own codes, below UE_EBASE (see ua.h for the ranges). Engine functions also return
 * the transformer's UA_E* codes and -errno for a failed system call. */
#define UE_EBASE (-10100)
#define UE_ERRNO_MAP(X)                                                                            \
    X(NOTREG, UE_EBASE - 1, "not a regular file (a FIFO, device or socket is never read)")         \
    X(LINKOUT, UE_EBASE - 2, "a symbolic link leading outside the project")                        \
    X(CRASHED, UE_EBASE - 3, "the parser crashed on this file")                                    \
    X(OUTSIDE, UE_EBASE - 4, "outside the project")                                                \
    X(NOSOURCE, UE_EBASE - 5, "no source has this twin")                                          \
    X(CHANGED, UE_EBASE - 6, "changed on disk since the lint read it")

enum {
#define UE_ERR_ENUM(name, value, text) UE_E##name = value,
    UE_ERRNO_MAP(UE_ERR_ENUM)
#undef UE_ERR_ENUM
};

/* A static text for any code an engine function returns: the engine's own, the transformer's
 * (ua_strerror) and -errno (the C library's text; "is a folder" and the size limit for -EISDIR
 * and -EFBIG); "unknown error" for anything else. Never NULL; safe on any thread. */
const char *ue_strerror(int err);

/* Reads a whole file by the input rules above (links followed: the caller checked the path).
 * Returns 0, UA_ENOMEM or an error above. *bytes is NUL-terminated (not counted in *len) and
 * released with ua_free; it is NULL after a failure. */
int ue_read_file(const char *path, char **bytes, size_t *len);

/* Reads project file `rel`: its path resolved once (realpath) and checked against the project
 * root (UE_ELINKOUT when it leads outside), then opened with O_NOFOLLOW by the input rules. */
int ue_read_in(const ue_project *p, const char *rel, char **bytes, size_t *len);

/* Runs fn(arg) on a thread with a 512 MiB stack (reserved, not committed) and recovers from a
 * crash on it (SIGSEGV, SIGBUS: a stack overflow deep inside libclang): returns 0 when fn
 * returned, UE_ECRASHED when it crashed (what it allocated is lost, its results must be
 * ignored). libclang parses on this thread only when LIBCLANG_NOTHREADS is set (else it starts
 * its own 8 MiB thread): the executables set it before any thread starts. */
int ue_run_guarded(void (*fn)(void *), void *arg);

/* Sets the C library's allocator up for a one-shot run over many files (engine/batch.c): freed
 * blocks, however large, are kept for the next file instead of going back to the kernel and
 * coming back as fresh pages. Process-wide; for `--check`, `--write` and the like, not for the
 * long-lived server. Does nothing outside glibc. */
void ue_batch_memory(void);

/* ---- Live drift state of an open source (the language server's didChange path) ------------
 *
 * ue_live keeps the drift of one source buffer up to date at the cost of each edit: an
 * incremental transform (transform/ua_incr.h) and, against the twin as it was last read, the
 * longest common prefix and suffix of the expected and actual bodies, so that equality and the
 * diff's region come from the edited window alone; the twin's header and body hash are checked
 * once per change of the twin. Results equal ue_check_source with the buffer as the source's
 * overlay and ue_twin_findings on that: state, hunks, findings, byte for byte. Not thread-safe:
 * one thread uses a ue_live at a time. It keeps `p` (which must outlive it and not be rescanned
 * under it: make a new ue_live after a configuration change or a rescan). */
typedef struct ue_live ue_live;

/* A live state for source `src_rel` whose buffer holds `len` bytes (copied). The twin is read
 * from `ov` (may be NULL), else from the disk, as ue_check_source reads it. 0, UA_EINVAL (not a
 * source of p), or UA_ENOMEM (*out NULL). */
int ue_live_new(ue_project *p, const char *src_rel, const char *buf, size_t len,
                const ue_overlay *ov, ue_live **out);
void ue_live_free(ue_live *l);

/* The buffer changed: bytes [off, off + olen) became the nlen bytes of `text`. 0, UA_EINVAL
 * (range outside the buffer; nothing changed) or UA_ENOMEM (the state is unusable: free it and
 * make a new one). */
int ue_live_edit(ue_live *l, size_t off, size_t olen, const char *text, size_t nlen);

/* The twin changed (on disk, or in `ov`, the overlay to read it from now; may be NULL): reads it
 * again and checks its header and body hash once. 0 or UA_ENOMEM (unusable, as above). */
int ue_live_twin_changed(ue_live *l, const ue_overlay *ov);

/* The drift now: the state and the diff (actual -> expected), valid until the next call. */
ue_state ue_live_state(const ue_live *l);
const ua_diff *ue_live_diff(const ue_live *l);

/* The findings ue_twin_findings gives for the ue_check_source result (transform findings, then
 * the drift finding), appended to `f`, without building the twin's bytes. 0 or UA_ENOMEM (f as
 * it was). */
int ue_live_findings(const ue_live *l, ua_findings *f);

/* The whole ue_twin that ue_check_source gives (the twin's bytes built: O(size)), for a
 * regeneration or a code action. Release with ue_twin_free. 0 or UA_ENOMEM (*t empty). */
int ue_live_twin(const ue_live *l, ue_twin *t);

/* Counters: edits, edits that took the transformer's full pipeline, and checks that had to
 * build the whole twin (a source with a byte-order mark, a twin whose header does not parse, a
 * hand-edited twin whose header hash the incremental state cannot decide). */
typedef struct ue_live_stats {
    size_t edits, full_transforms, full_checks;
} ue_live_stats;
void ue_live_get_stats(const ue_live *l, ue_live_stats *s);

/* What the state was last given, for a caller that keeps the buffer itself (the language
 * server) and tells the state only what changed: the source buffer (len bytes), and the twin as
 * last read (NULL when it is missing or could not be read). Valid until the next call. */
const char *ue_live_source(const ue_live *l, size_t *len);
const char *ue_live_actual(const ue_live *l, size_t *len);

/* Glob matching used for sources/exclude: '*' and '?' within one path component, '**' across
 * components, '[abc]' classes. */
int ue_glob_match(const char *pattern, const char *path);

#ifdef __cplusplus
}
#endif
#endif
