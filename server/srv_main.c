/* srv_run_stdio: the server's life from loop start to exit status. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv_int.h"

static void srv__free_state(srv_t *s)
{
    ws_free(s->ws);
    for (size_t i = 0; i < s->n_published; i++) {
        srv_free(s->published[i].uri);
        srv_free(s->published[i].key);
    }
    srv_free(s->published);
    for (size_t i = 0; i < s->queue_len; i++)
        lsp_msg_free(&s->queue[i]);
    srv_free(s->queue);
    srv_free(s->pending);
    lsp_framer_free(&s->framer);
}

int srv_create(uv_loop_t *loop, srv_t **out)
{
    srv_t *s = srv_calloc(1, sizeof *s);
    *out = NULL;
    if (s == NULL)
        return SRV_ENOMEM;
    s->loop = loop;
    s->input = srv_input;
    s->exit_status = 1;
    s->next_id = 1;
    s->out_fd = 1;
    s->settings.lint_enable = true;
    s->settings.drift_severity = LSP_SEVERITY_WARNING;
    lsp_framer_init(&s->framer, 0);
    uv_timer_init(loop, &s->parent_timer);
    uv_timer_init(loop, &s->config_timer);
    s->parent_timer.data = s->config_timer.data = s;
    ws_hooks hooks;
    srv_lsp_hooks(s, &hooks);
    /* input room for a read of the transport's size and then some, reserved where running out
     * can still be told (srv_create fails): a message of usual size never needs memory to be
     * buffered, so it is never dropped before its id is known */
    if (lsp_framer_reserve(&s->framer, SRV_INPUT_RESERVE) != 0 || ws_new(&hooks, &s->ws) != 0) {
        /* the timers are closed before the state they point to is freed */
        uv_close((uv_handle_t *)&s->parent_timer, NULL);
        uv_close((uv_handle_t *)&s->config_timer, NULL);
        uv_run(loop, UV_RUN_NOWAIT);
        srv__free_state(s);
        srv_free(s);
        return SRV_ENOMEM;
    }
    ws_settings *set = ws_settings_of(s->ws);
    set->lint = s->settings.lint_enable;
    set->drift_severity = (int)s->settings.drift_severity;
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
    signal(SIGPIPE, SIG_IGN); /* a vanished client is an EPIPE, handled as end of output */
    /* libclang parses on the engine's big-stack, crash-guarded thread (ue_run_guarded), not
     * on its own 8 MiB one: set before the loop starts any thread */
    setenv("LIBCLANG_NOTHREADS", "1", 0);
    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0) {
        fprintf(stderr, "unasync: cannot start the event loop\n");
        return 1;
    }
    srv_t *s;
    if (srv_create(&loop, &s) != 0) {
        fprintf(stderr, "unasync: out of memory starting the server\n");
        uv_loop_close(&loop);
        return 1;
    }
    if (!precheck)
        ws_settings_of(s->ws)->idle_ms = 0;
    /* a save never waits for a lint's parse: the lint runs on libuv's thread pool */
    ws_settings_of(s->ws)->lint_thread = true;
    if (srv_io_start(s) != 0) {
        fprintf(stderr, "unasync: cannot start the server on stdin/stdout\n");
        srv_exit(s, 1);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    int status = s->exit_status;
    srv_destroy(s);
    if (uv_loop_close(&loop) != 0)
        fprintf(stderr, "unasync: event loop closed with handles still open\n");
    return status;
}
