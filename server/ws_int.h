/* ws_int.h - private to the workspace core (ws.c, ws_check.c, ws_act.c): its state and the
 * helpers its files share. The files call downwards only: ws_act.c (actions, regenerate, fixes,
 * navigation) -> ws_check.c (drift, scheduling, checks) -> ws.c (state, documents, projects,
 * caches, diagnostic sets, pairs). */
#ifndef UNASYNC_WS_INT_H
#define UNASYNC_WS_INT_H

#include <pthread.h>

#include "engine.h"
#include "ul.h"
#include "ws.h"

/* The last lint result per source, with the bytes it was computed from (quick fixes are byte
 * edits of those bytes; an unchanged buffer is not linted again). */
typedef struct ws_lint {
    ue_project *p;
    char *path; /* absolute */
    char *bytes;
    size_t len;
    ul_result r;
} ws_lint;

/* A lint run off the loop thread (ws_settings.lint_thread) through hooks.work: the core makes it
 * on the loop thread with copies of what the lint reads (the source's bytes, an open
 * configuration's), the worker runs ws__lint_job_run, and its done callback applies the result
 * on the loop thread if the source still has those bytes. One runs at a time (ws->job); the lint
 * context is the job's until its worker part is done, so every other use of the context waits
 * for it first (ws__lint_quiesce), as does freeing the project it reads. */
enum { WS_JOB_QUEUED, WS_JOB_RUNNING, WS_JOB_FINISHED };

typedef struct ws_lint_job {
    ws_t *ws;       /* NULL once ws_free orphaned it: done only frees it */
    ue_project *p;  /* NULL once its project went (ws__lint_forget): the result is dropped */
    ul_ctx **ctx;   /* &ws->lint: made by the first job, off the loop thread */
    char *rel, *abs;
    char *bytes;    /* the source as linted */
    size_t len;
    char *cfg;      /* the open unasync.json's bytes; NULL: not open (read from disk) */
    size_t cfg_len;
    ul_result r;
    int rc;         /* 0, 1 (the source could not be linted) or SRV_ENOMEM */
    bool detached;  /* no longer ws->job (applied early, or orphaned): done only frees it */
    bool sync;      /* mu and cv are initialised */
    pthread_mutex_t mu; /* guards stage */
    pthread_cond_t cv;  /* stage became WS_JOB_FINISHED */
    int stage;
} ws_lint_job;

/* ws__lint_job_store: the source no longer has the bytes the job linted (or its project
 * went); the result is dropped. */
#define WS_LINT_STALE 2

/* The last engine result per source. ue_check_source is a pure function of the source bytes,
 * the twin bytes and the configuration, so a result whose inputs are byte-for-byte unchanged
 * is reused instead of transforming again (the transformer dominates a check's cost). */
typedef struct ws_cached {
    ue_project *p;
    ue_twin t;
} ws_cached;

/* The live drift state of an open source (engine's ue_live): told each change of the buffer
 * and of the twin, it re-transforms only the edited lines, so a save right after typing needs
 * no whole transform. It keeps its project pointer: ws__cache_clear, which runs whenever a
 * project is freed or rescanned, drops every one. */
typedef struct ws_live {
    ue_project *p;
    char *path; /* the source, absolute */
    ue_live *l;
} ws_live;

/* One async source and its twin, as last checked. */
typedef struct ws_pair {
    char *source; /* absolute paths */
    char *twin;
    ue_state state; /* as last checked: anything but UE_OK is drifted */
} ws_pair;

struct ws {
    ws_hooks h;
    ws_settings set;
    bool stopped;
    ws_doc **docs;
    size_t n_docs;
    ws_folder *folders;
    size_t n_folders;
    ue_project **projects;
    size_t n_projects;
    ua_ctx *ctx;
    ws_cached *cache;
    size_t n_cache;
    ws_live *lives;
    size_t n_lives;
    ws_file *files;
    size_t n_files;
    ws_pair *pairs;
    size_t n_pairs;
    int64_t status_twins, status_drifted; /* last reported; -1 = never */
    char *idle_path;                      /* the source to pre-check once typing pauses */
    ul_ctx *lint; /* keeps a translation unit per source: reparse with a precompiled preamble */
    ws_lint *lints;
    size_t n_lints;
    char **lint_paths; /* sources whose lint a drift report did not wait for */
    size_t n_lint_paths;
    ws_lint_job *job; /* the lint running off the loop thread; NULL: none */
    bool lint_due;    /* input has paused: queued lints may start (ws_settings.lint_thread) */
};

typedef struct ws_ov {
    ws_t *ws;
    const ue_project *p;
} ws_ov;

/* How long typing must pause before the pre-check runs (the default of ws_settings.idle_ms). */
#define WS_IDLE_MS 50

/* How long input must pause before the lint that a drift report did not wait for runs: a lint
 * reparse takes longer than a drift check, and must not hold up the next save. */
#define WS_LINT_LATER_MS 50

/* ---- ws.c: state, overlay, caches, diagnostic sets, pairs and projects. Each has its contract
 * above its definition; ws__ names are internal to the core, as uv__ ones are to libuv. */
ws_diag *ws__add_diag(ws_file *f, ws_range r, int sev, const char *code, bool drift,
                      const char *msg);
ws_diag *ws__add_diagf(ws_file *f, ws_range r, int sev, const char *code, bool drift,
                       const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;
int ws__add_lint_diag(ws_file *f, ws_range r, int sev, const char *code, const char *message,
                      unsigned line, unsigned col);
const char *ws__base(const char *p);
void ws__cache_clear(ws_t *ws);
char *ws__canonical(const char *path);
int ws__current_bytes(ws_ov *ov, const char *rel, const char **bytes, size_t *len, char **owned);
void ws__diags_clear(ws_diag *d, size_t n);
const char *ws__doc_bytes(void *ud, const char *rel, size_t *len);
int ws__discover(ws_t *ws);
size_t ws__drifted(const ws_t *ws);
void ws__drop_pair(ws_t *ws, const char *src);
ws_file *ws__file(ws_t *ws, const char *path, bool create);
bool ws__in_folders(const ws_t *ws, const char *path);
ws_pos ws__lc_pos(const ws_t *ws, const char *b, size_t n, unsigned line, unsigned col);
/* The lint of source rel of p over its current bytes (open buffer, else disk), with the
 * configuration's severities and the ignore comments applied, on the calling thread (after a
 * running job's worker is done); the cached one when the bytes did not change. Returns 0 with
 * *out set, 1 when the source cannot be read or linted, or SRV_ENOMEM; the previous result for
 * the source is kept unless a new one replaces it. */
int ws__lint(ws_t *ws, ue_project *p, const char *rel, const ws_lint **out);
/* A job to lint source rel of p as it is now: 0 with *out set, or with *cached set (and *out
 * NULL) when the last lint was of these very bytes; 1 when the source cannot be read, or
 * SRV_ENOMEM. */
int ws__lint_job_new(ws_t *ws, ue_project *p, const char *rel, const ws_lint **cached,
                     ws_lint_job **out);
/* hooks.work's run: the lint, unless ws__lint_job_wait took the job over before it began. */
void ws__lint_job_run(void *arg);
/* Returns once job j's lint is done: waits for its worker, or runs it here when it has not
 * begun (a thread pool that is busy, or a work request cancelled). */
void ws__lint_job_wait(ws_lint_job *j);
/* ws__lint_job_wait on the running job, if any. */
void ws__lint_quiesce(ws_t *ws);
/* Makes finished job j's result the last lint of its source (taking it out of j): 0 with *out
 * set; WS_LINT_STALE when the source changed since or its project went; j->rc when the lint
 * could not run (1, SRV_ENOMEM); SRV_ENOMEM (nothing changed). */
int ws__lint_job_store(ws_t *ws, ws_lint_job *j, const ws_lint **out);
void ws__lint_job_free(ws_lint_job *j);
ws_lint *ws__lint_find(ws_t *ws, const char *path);
void ws__log(ws_t *ws, int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
int ws__project_by_config(ws_t *ws, const char *config_path, bool reload, ue_project **out);
int ws__project_for(ws_t *ws, const char *path, ue_project **out);
int ws__rel(const ue_project *p, const char *path, char **out);
int ws__report(ws_t *ws, const ws_file *f);
const ue_twin *ws__result(ws_t *ws, ue_project *p, const char *rel);
/* Makes the live state of source rel when it is open and has none yet (on didOpen: the whole
 * transform is paid when the file opens, not on its first save). 0 or SRV_ENOMEM. */
int ws__live_open(ws_t *ws, ue_project *p, const char *rel);
bool ws__same(const char *a, size_t alen, const char *b, size_t blen);
int ws__set_pair(ws_t *ws, const char *src, const char *twin, ue_state state);
int ws__source_for(ws_t *ws, const char *path, ue_project **p, char **src);
int ws__source_of(const ue_project *p, const char *twin_rel, char **out);
int ws__update_status(ws_t *ws);

/* ---- ws_check.c */
/* Runs the lints queued for after a drift report now (a request shows lint results). */
void ws__lint_pending_now(ws_t *ws);

#endif
