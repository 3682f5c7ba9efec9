/* srv_run_stdio: the server's life from loop start to exit status, and its timers. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv_int.h"

/* How often the client's process is looked for (kill(pid, 0)). */
#define SRV_PARENT_POLL_MS 1000
/* How long typing must pause before the pre-check runs. */
#define SRV_IDLE_MS 50

const char *srv_strerror(int err)
{
    switch (err) {
#define SRV_ERRNO_CASE(name, val, msg)                                                             \
    case (val):                                                                                    \
        return (msg);
        SRV_ERRNO_MAP(SRV_ERRNO_CASE)
#undef SRV_ERRNO_CASE
    case 0:
        return "success";
    default:
        return "unknown error";
    }
}

uint64_t srv_now_ms(srv_t *s)
{
    return uv_now(s->loop);
}

static void srv__close_folder_watch(srv_folder_t *f)
{
    if (f->watch != NULL) {
        uv_fs_event_stop(f->watch);
        uv_close((uv_handle_t *)f->watch, srv_free_handle);
        f->watch = NULL;
    }
}

void srv_exit(srv_t *s, int status)
{
    size_t i;
    if (s->exiting)
        return;
    s->exiting = true;
    s->exit_status = status;
    if (s->parent_timer_on)
        uv_timer_stop(&s->parent_timer);
    if (s->config_timer_on)
        uv_timer_stop(&s->config_timer);
    for (i = 0; i < s->n_folders; i++)
        srv__close_folder_watch(&s->folders[i]);
    srv_engine_free(s); /* closes the engine's own watchers */
    srv_io_stop(s);
}

static void srv__on_parent_timer(uv_timer_t *t)
{
    srv_t *s = t->data;
    if (kill((pid_t)s->parent_pid, 0) != 0 && errno == ESRCH) {
        srv_log(s, 2, "client process %lld is gone: exiting", (long long)s->parent_pid);
        srv_exit(s, s->shutdown ? 0 : 1);
    }
}

/* Starts watching for the client's process to die (LSP: initialize.processId). */
void srv_watch_parent(srv_t *s, int64_t pid);
void srv_watch_parent(srv_t *s, int64_t pid)
{
    uint64_t every = SRV_PARENT_POLL_MS;
    const char *env = getenv("UNASYNC_PARENT_POLL_MS"); /* tests shorten the poll */
    if (pid <= 0 || s->parent_timer_on)
        return;
    if (env != NULL && atoi(env) > 0)
        every = (uint64_t)atoi(env);
    s->parent_pid = pid;
    if (uv_timer_start(&s->parent_timer, srv__on_parent_timer, every, every) == 0)
        s->parent_timer_on = true;
}

static void srv__free_state(srv_t *s)
{
    size_t i;
    for (i = 0; i < s->n_docs; i++) {
        srv_free(s->docs[i]->uri);
        srv_free(s->docs[i]->path);
        srv_free(s->docs[i]->text);
        srv_free(s->docs[i]);
    }
    srv_free(s->docs);
    for (i = 0; i < s->n_folders; i++) {
        srv_free(s->folders[i].uri);
        srv_free(s->folders[i].path);
    }
    srv_free(s->folders);
    for (i = 0; i < s->n_published; i++) {
        srv_free(s->published[i].uri);
        srv_free(s->published[i].key);
    }
    srv_free(s->published);
    for (i = 0; i < s->n_pairs; i++) {
        srv_free(s->pairs[i].source);
        srv_free(s->pairs[i].twin);
        srv_free(s->pairs[i].root);
    }
    srv_free(s->pairs);
    for (i = 0; i < s->queue_len; i++)
        lsp_msg_free(&s->queue[i]);
    srv_free(s->queue);
    srv_free(s->pending);
    lsp_framer_free(&s->framer);
}

int srv_create(uv_loop_t *loop, srv_t **out)
{
    srv_t *s = srv_calloc(1, sizeof(*s));
    *out = NULL;
    if (s == NULL)
        return SRV_ENOMEM;
    s->loop = loop;
    s->exit_status = 1;
    s->status_twins = s->status_stale = -1;
    s->next_id = 1;
    s->out_fd = 1;
    s->idle_ms = SRV_IDLE_MS;
    s->settings.lint_enable = true;
    s->settings.drift_severity = LSP_SEVERITY_WARNING;
    lsp_framer_init(&s->framer, 0);
    uv_timer_init(loop, &s->parent_timer);
    uv_timer_init(loop, &s->config_timer);
    s->parent_timer.data = s->config_timer.data = s;
    if (srv_engine_new(s) != 0) {
        /* the timers are closed before the state they point to is freed */
        uv_close((uv_handle_t *)&s->parent_timer, NULL);
        uv_close((uv_handle_t *)&s->config_timer, NULL);
        uv_run(loop, UV_RUN_NOWAIT);
        srv__free_state(s);
        srv_free(s);
        return SRV_ENOMEM;
    }
    *out = s;
    return 0;
}

void srv_destroy(srv_t *s)
{
    if (s == NULL)
        return;
    srv_exit(s, s->exit_status);
    uv_close((uv_handle_t *)&s->parent_timer, NULL);
    uv_close((uv_handle_t *)&s->config_timer, NULL);
    uv_run(s->loop, UV_RUN_DEFAULT);
    srv__free_state(s);
    srv_free(s);
}

int srv_run_stdio(void)
{
    return srv_run_stdio_precheck(1);
}

int srv_run_stdio_precheck(int precheck)
{
    uv_loop_t loop;
    srv_t *s;
    int status;

    signal(SIGPIPE, SIG_IGN); /* a vanished client is an EPIPE, handled as end of output */
    /* libclang parses on the engine's big-stack, crash-guarded thread (ue_run_guarded), not
     * on its own 8 MiB one: set before the loop starts any thread */
    setenv("LIBCLANG_NOTHREADS", "1", 0);
    if (uv_loop_init(&loop) != 0) {
        fprintf(stderr, "unasync: cannot start the event loop\n");
        return 1;
    }
    if (srv_create(&loop, &s) != 0) {
        fprintf(stderr, "unasync: out of memory starting the server\n");
        uv_loop_close(&loop);
        return 1;
    }
    if (!precheck)
        s->idle_ms = 0;
    if (srv_io_start(s) != 0) {
        fprintf(stderr, "unasync: cannot start the server on stdin/stdout\n");
        srv_exit(s, 1);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    status = s->exit_status;
    srv_destroy(s);
    if (uv_loop_close(&loop) != 0)
        fprintf(stderr, "unasync: event loop closed with handles still open\n");
    return status;
}
