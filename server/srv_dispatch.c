/* The LSP method table: lifecycle, document sync, settings, workspace events and the requests
 * the server answers, dispatched from decoded messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv_int.h"

/* How long the server waits for answers to its start-up requests (workspace/configuration,
 * window/workDoneProgress/create) before it checks the workspace anyway. */
#define SRV_STARTUP_WAIT_MS 1500

static const char *const srv__commands[] = {"unasync.regenerate", "unasync.regenerateAll",
                                            "unasync.lintFix", "unasync.fixAll"};

/* ----------------------------------------------------------------------------- replies */

static void srv__reply_error(srv_t *s, const lsp_id_t *id, int code, const char *message)
{
    lsp_out_t out;
    if (lsp_encode_error(id, code, message, &out) == 0)
        srv_send(s, &out);
}

/* The answer to a request that was carried out when the answer itself runs out of memory: an
 * error, so that the client is not left waiting, which says the work was done. */
#define SRV_DONE_UNANSWERED "out of memory answering: the request was carried out"

static void srv__reply_null(srv_t *s, const lsp_id_t *id)
{
    lsp_out_t out;
    if (lsp_encode_null_result(id, &out) == 0 ||
        lsp_encode_error(id, LSP_RPC_INTERNAL_ERROR, SRV_DONE_UNANSWERED, &out) == 0)
        srv_send(s, &out);
}

static void srv__reply(srv_t *s, const lsp_id_t *id, int rc, lsp_out_t *out)
{
    if (rc == 0)
        srv_send(s, out);
    else
        srv__reply_error(s, id, srv_rpc_code(rc), srv_strerror(rc));
}

/* A notification cannot be answered: when handling one fails, the client hears it as an error
 * in window/logMessage, so nothing is dropped silently. */
static void srv__report(srv_t *s, int rc, const char *what, const char *uri)
{
    if (rc != 0)
        srv_log(s, 1, "%s %s failed: %s", what, uri ? uri : "", srv_strerror(rc));
}

static void srv__framing_error(srv_t *s, int err)
{
    lsp_id_t null_id = {LSP_ID_NULL, 0, NULL};
    srv_log(s, 2, "dropped input: %s", lsp_strerror(err));
    srv__reply_error(s, &null_id, lsp_rpc_code_for(err), lsp_strerror(err));
}

/* ---------------------------------------------------------------------------- documents */

int srv_doc_apply_change(ws_doc *doc, const lsp_content_change_t *ch, bool utf8)
{
    size_t start = 0, end = doc->len;
    if (ch->has_range) {
        start = srv_text_offset(doc->text, doc->len, srv_ws_pos(ch->range.start), utf8);
        end = srv_text_offset(doc->text, doc->len, srv_ws_pos(ch->range.end), utf8);
        if (end < start) { /* a reversed range: treat it as the same span */
            size_t t = start;
            start = end;
            end = t;
        }
    }
    return srv_text_replace(&doc->text, &doc->len, &doc->cap, start, end, ch->text, ch->text_len);
}

static void srv__did_open(srv_t *s, const lsp_params_t *p)
{
    ws_doc *d = ws_doc_find(s->ws, p->uri);
    char *text = NULL;
    size_t len = 0, cap = 0;
    /* everything that can fail comes first: a document is open with its text or not at all */
    int rc = srv_text_replace(&text, &len, &cap, 0, 0, p->text, p->text_len);
    if (rc != 0)
        goto fail;
    if (d == NULL) {
        rc = SRV_ENOMEM;
        if ((d = srv_calloc(1, sizeof *d)) == NULL || (d->uri = srv_strdup(p->uri)) == NULL ||
            srv_uri_path(p->uri, &d->path) != 0 || ws_doc_add(s->ws, d) != 0) {
            ws_doc_free(d);
            goto fail;
        }
    } else
        srv_free(d->text);
    d->text = text;
    d->len = len;
    d->cap = cap;
    d->version = p->version;
    d->changed_since_open = false;
    if (d->path)
        srv__report(s, ws_check_path(s->ws, d->path, WS_EV_OPEN), "checking", p->uri);
    return;
fail:
    srv_free(text);
    srv__report(s, rc, "opening", p->uri);
}

static void srv__did_change(srv_t *s, const lsp_params_t *p)
{
    ws_doc *d = ws_doc_find(s->ws, p->uri), tmp;
    int rc = 0;
    if (d == NULL) {
        srv_log(s, 2, "didChange for a document that is not open: %s", p->uri);
        return;
    }
    /* All the changes or none: one is applied in place (srv_text_replace leaves the text as it
     * was when it fails), several to a copy, so that a failure never leaves half of them. */
    tmp = *d;
    if (p->n_changes > 1) {
        tmp.cap = d->len + 1;
        if ((tmp.text = srv_strndup(d->text ? d->text : "", d->len)) == NULL)
            rc = SRV_ENOMEM;
    }
    for (size_t i = 0; rc == 0 && i < p->n_changes; i++)
        rc = srv_doc_apply_change(p->n_changes > 1 ? &tmp : d, &p->changes[i], s->utf8);
    if (p->n_changes > 1) {
        if (rc == 0) {
            srv_free(d->text);
            d->text = tmp.text;
            d->len = tmp.len;
            d->cap = tmp.cap;
        } else
            srv_free(tmp.text);
    }
    if (rc != 0) {
        srv_log(s, 1,
                "applying a change to %s failed: %s; the server's copy is now out of step: "
                "close and reopen the document",
                p->uri, srv_strerror(rc));
        return;
    }
    if (p->has_version)
        d->version = p->version;
    d->changed_since_open = true;
    if (d->path)
        srv__report(s, ws_check_path(s->ws, d->path, WS_EV_CHANGE), "checking", p->uri);
}

static void srv__did_save(srv_t *s, const lsp_params_t *p)
{
    ws_doc *d = ws_doc_find(s->ws, p->uri);
    char *path = NULL;
    int rc = 0;
    if (d != NULL && p->text != NULL) { /* includeText: the saved text is authoritative */
        size_t len = 0;
        if ((rc = srv_text_replace(&d->text, &len, &d->cap, 0, 0, p->text, p->text_len)) == 0)
            d->len = len;
    }
    if (rc == 0) {
        if (d != NULL && d->path != NULL)
            rc = (path = srv_strdup(d->path)) != NULL ? 0 : SRV_ENOMEM;
        else
            rc = srv_uri_path(p->uri, &path);
    }
    if (rc == 0 && path != NULL)
        rc = ws_check_path(s->ws, path, WS_EV_SAVE);
    srv__report(s, rc, "checking the saved", p->uri);
    srv_free(path);
}

static void srv__did_close(srv_t *s, const lsp_params_t *p)
{
    ws_doc *d = ws_doc_take(s->ws, p->uri);
    /* the file on disk is what counts again */
    if (d != NULL && d->path)
        srv__report(s, ws_check_path(s->ws, d->path, WS_EV_CLOSE), "checking the closed", p->uri);
    ws_doc_free(d);
}

/* ------------------------------------------------------------------------------ folders */

static int srv__add_folder(srv_t *s, const char *uri)
{
    char *path = NULL;
    if (srv_uri_path(uri, &path) != 0)
        return SRV_ENOMEM;
    if (path == NULL) {
        srv_log(s, 2, "ignoring workspace folder that is not a local path: %s", uri);
        return SRV_EINVAL;
    }
    int rc = ws_folder_add(s->ws, uri, path);
    srv_free(path);
    return rc;
}

static int srv__remove_folder(srv_t *s, const char *uri)
{
    char *path = NULL;
    if (srv_uri_path(uri, &path) != 0)
        return SRV_ENOMEM;
    if (path != NULL)
        ws_folder_remove(s->ws, path);
    srv_free(path);
    return 0;
}

/* -------------------------------------------------------------------------- settings */

static void srv__merge_settings(srv_t *s, const lsp_settings_t *in)
{
    if (in->has_lint_enable)
        s->settings.lint_enable = in->lint_enable;
    if (in->has_drift_severity)
        s->settings.drift_severity = in->drift_severity;
    if (in->has_trace) {
        s->settings.trace = in->trace;
        s->trace = in->trace;
    }
    ws_settings *set = ws_settings_of(s->ws);
    set->lint = s->settings.lint_enable;
    set->drift_severity = (int)s->settings.drift_severity;
}

/* Watches the workspace folders with libuv when the client does not watch files for us. */
static int srv__watch_folders(srv_t *s)
{
    ws_settings_of(s->ws)->watch = !s->watching_by_client;
    return s->watching_by_client ? 0 : ws_watch_folders(s->ws);
}

/* -------------------------------------------------------------------------- start-up */

static bool srv__startup_pending(srv_t *s)
{
    for (size_t i = 0; i < s->n_pending; i++)
        if (s->pending[i].kind == SRV_PENDING_CONFIGURATION ||
            s->pending[i].kind == SRV_PENDING_PROGRESS_CREATE)
            return true;
    return false;
}

static void srv__startup_check(srv_t *s)
{
    if (s->startup_done || s->exiting)
        return;
    s->startup_done = true;
    if (s->config_timer_on) {
        uv_timer_stop(&s->config_timer);
        s->config_timer_on = false;
    }
    srv__report(s, srv_check_all(s, s->progress_ok ? "unasync-startup" : NULL),
                "checking the workspace", NULL);
}

static void srv__on_startup_timer(uv_timer_t *t)
{
    srv_t *s = t->data;
    size_t j = 0;
    s->config_timer_on = false;
    /* forget the unanswered start-up requests: their late answers are ignored */
    for (size_t i = 0; i < s->n_pending; i++)
        if (s->pending[i].kind != SRV_PENDING_CONFIGURATION &&
            s->pending[i].kind != SRV_PENDING_PROGRESS_CREATE)
            s->pending[j++] = s->pending[i];
    s->n_pending = j;
    srv_log(s, 4, "start-up requests unanswered: checking with the settings at hand");
    srv__startup_check(s);
}

static int srv__request_configuration(srv_t *s)
{
    size_t n_folders;
    const ws_folder *folders = ws_folders(s->ws, &n_folders);
    size_t n = n_folders ? n_folders : 1;
    const char **scopes = srv_calloc(n, sizeof *scopes);
    lsp_out_t out;
    int64_t id = s->next_id++;
    int rc;
    if (scopes == NULL)
        return SRV_ENOMEM;
    for (size_t i = 0; i < n_folders; i++)
        scopes[i] = folders[i].uri;
    rc = lsp_encode_configuration_request(id, scopes, n, &out) == 0
             ? srv_request(s, SRV_PENDING_CONFIGURATION, &out, id)
             : SRV_ENOMEM;
    srv_free(scopes);
    return rc;
}

static void srv__initialized(srv_t *s)
{
    lsp_out_t out;
    int rc;
    if (s->initialized)
        return;
    s->initialized = true;
    if (s->caps.watched_files_dynamic) {
        static const char *const globs[] = {"**/unasync.json", "**/*.c", "**/*.h"};
        int64_t id = s->next_id++;
        rc = lsp_encode_register_watchers(id, "unasync-watch", globs, 3, &out) == 0
                 ? srv_request(s, SRV_PENDING_REGISTER, &out, id)
                 : SRV_ENOMEM;
        if (rc == 0)
            s->watching_by_client = true;
        else /* the server watches by itself instead */
            srv__report(s, rc, "asking the client to watch files", NULL);
    }
    srv__report(s, srv__watch_folders(s), "watching the workspace folders", NULL);
    if (s->caps.configuration)
        srv__report(s, srv__request_configuration(s), "asking for the settings", NULL);
    if (s->caps.work_done_progress) {
        int64_t id = s->next_id++;
        rc = lsp_encode_work_done_create(id, "unasync-startup", &out) == 0
                 ? srv_request(s, SRV_PENDING_PROGRESS_CREATE, &out, id)
                 : SRV_ENOMEM;
        srv__report(s, rc, "creating the start-up progress", NULL);
    }
    if (srv__startup_pending(s)) {
        if (uv_timer_start(&s->config_timer, srv__on_startup_timer, SRV_STARTUP_WAIT_MS, 0) == 0)
            s->config_timer_on = true;
    } else
        srv__startup_check(s);
}

static void srv__on_response(srv_t *s, const lsp_msg_t *m)
{
    size_t i;
    srv_pending_t p;
    if (m->id.type != LSP_ID_NUMBER)
        return;
    for (i = 0; i < s->n_pending; i++)
        if (s->pending[i].id == m->id.num)
            break;
    if (i == s->n_pending)
        return; /* late or unknown: ignored */
    p = s->pending[i];
    s->pending[i] = s->pending[--s->n_pending];
    switch (p.kind) {
    case SRV_PENDING_CONFIGURATION: {
        lsp_settings_t st;
        /* one item per folder; the server keeps one set: the first folder's wins */
        if (!m->is_error && lsp_result_settings(m, 0, &st) == 0) {
            lsp_severity_t before = s->settings.drift_severity;
            srv__merge_settings(s, &st);
            if (s->startup_done && before != s->settings.drift_severity)
                srv__report(s, srv_check_all(s, NULL), "checking the workspace", NULL);
        }
        break;
    }
    case SRV_PENDING_PROGRESS_CREATE:
        s->progress_ok = !m->is_error;
        break;
    case SRV_PENDING_APPLY_EDIT: {
        bool applied = false;
        if (m->is_error || lsp_result_applied(m, &applied) != 0 || !applied)
            srv_log(s, 2, "the client did not apply a regenerate edit");
        break;
    }
    case SRV_PENDING_REFRESH:
        break;
    case SRV_PENDING_REGISTER:
        if (m->is_error) {
            srv_log(s, 2, "client refused file watching; watching with libuv");
            s->watching_by_client = false;
            srv__report(s, srv__watch_folders(s), "watching the workspace folders", NULL);
        }
        break;
    }
    if (!s->startup_done && s->initialized && !srv__startup_pending(s))
        srv__startup_check(s);
}

/* --------------------------------------------------------------------------- requests */

static void srv__initialize(srv_t *s, lsp_msg_t *m)
{
    lsp_server_caps_t caps;
    lsp_out_t out;
    lsp_initialize_params_t *ip = &m->init;
    int rc = 0;
    if (s->initialize_answered) {
        srv__reply_error(s, &m->id, LSP_RPC_INVALID_REQUEST, "initialize was already received");
        return;
    }
    s->caps = *ip;
    s->caps.root_uri = NULL;
    s->caps.folders = NULL;
    s->caps.n_folders = 0;
    s->utf8 = ip->offers_utf8;
    ws_settings_of(s->ws)->utf8 = s->utf8;
    srv__merge_settings(s, &ip->settings);
    if (ip->has_trace)
        s->trace = ip->trace;
    for (size_t i = 0; i < ip->n_folders; i++)
        if ((rc = srv__add_folder(s, ip->folders[i].uri)) == SRV_ENOMEM)
            break;
    if (rc == 0 && ip->n_folders == 0 && ip->root_uri != NULL)
        rc = srv__add_folder(s, ip->root_uri);
    if (rc == SRV_ENOMEM) { /* not answered: the client may send initialize again */
        srv__reply_error(s, &m->id, srv_rpc_code(rc), srv_strerror(rc));
        return;
    }
    if (ip->has_process_id)
        srv_watch_parent(s, ip->process_id);
    memset(&caps, 0, sizeof caps);
    caps.utf8 = s->utf8;
    caps.pull_diagnostics = ip->pull_diagnostics;
    caps.workspace_folders_notify = ip->workspace_folders;
    caps.version = "0.1.0";
    if (lsp_encode_initialize_result(&m->id, &caps, srv__commands,
                                     sizeof srv__commands / sizeof *srv__commands, &out) != 0) {
        srv__reply_error(s, &m->id, srv_rpc_code(SRV_ENOMEM), srv_strerror(SRV_ENOMEM));
        return;
    }
    srv_send(s, &out);
    s->initialize_answered = true;
    size_t n_folders;
    ws_folders(s->ws, &n_folders);
    srv_log(s, 4, "initialized: %zu folder(s), position encoding %s", n_folders,
            s->utf8 ? "utf-8" : "utf-16");
}

static void srv__execute_command(srv_t *s, lsp_msg_t *m)
{
    int rc;
    if (strcmp(m->p.command, "unasync.regenerateAll") == 0)
        rc = ws_regenerate(s->ws, NULL);
    else if (strcmp(m->p.command, "unasync.lintFix") == 0)
        rc = srv_lint_fix(s, m->p.arg_uri);
    else if (strcmp(m->p.command, "unasync.fixAll") == 0)
        rc = ws_fix_all(s->ws);
    else if (strcmp(m->p.command, "unasync.regenerate") == 0) {
        char *path = NULL;
        if (m->p.arg_uri != NULL && srv_uri_path(m->p.arg_uri, &path) != 0) {
            srv__reply_error(s, &m->id, srv_rpc_code(SRV_ENOMEM), srv_strerror(SRV_ENOMEM));
            return;
        }
        if (path == NULL) {
            srv__reply_error(s, &m->id, srv_rpc_code(SRV_EINVAL),
                             "unasync.regenerate needs a file URI argument");
            return;
        }
        rc = ws_regenerate(s->ws, path);
        srv_free(path);
    } else {
        srv__reply_error(s, &m->id, srv_rpc_code(SRV_EINVAL), "unknown command");
        return;
    }
    if (rc != 0)
        srv__reply_error(s, &m->id, srv_rpc_code(rc), srv_strerror(rc));
    else
        srv__reply_null(s, &m->id);
}

static void srv__handle_request(srv_t *s, lsp_msg_t *m)
{
    lsp_out_t out;
    int rc;
    if (m->m == LSP_M_INITIALIZE) {
        if (s->shutdown)
            srv__reply_error(s, &m->id, LSP_RPC_INVALID_REQUEST, "server is shut down");
        else
            srv__initialize(s, m);
        return;
    }
    if (!s->initialize_answered) {
        srv__reply_error(s, &m->id, LSP_RPC_SERVER_NOT_INITIALIZED, "server not initialized");
        return;
    }
    if (s->shutdown) {
        srv__reply_error(s, &m->id, LSP_RPC_INVALID_REQUEST, "server is shut down");
        return;
    }
    switch (m->m) {
    case LSP_M_SHUTDOWN:
        s->shutdown = true;
        srv__reply_null(s, &m->id);
        return;
    case LSP_M_CODE_ACTION:
        rc = srv_code_actions(s, m, &out);
        srv__reply(s, &m->id, rc, &out);
        return;
    case LSP_M_EXECUTE_COMMAND:
        srv__execute_command(s, m);
        return;
    case LSP_M_HOVER:
        rc = srv_hover(s, m, &out);
        srv__reply(s, &m->id, rc, &out);
        return;
    case LSP_M_DEFINITION:
        rc = srv_definition(s, m, &out);
        srv__reply(s, &m->id, rc, &out);
        return;
    case LSP_M_DIAGNOSTIC:
        if (s->caps.pull_diagnostics) {
            char *path = NULL;
            if ((rc = srv_uri_path(m->p.uri, &path)) == 0)
                rc = srv_encode_report(s, &m->id, path, &out);
            srv_free(path);
            srv__reply(s, &m->id, rc, &out);
            return;
        }
        break;
    case LSP_M_WILL_SAVE_WAIT_UNTIL:
        srv__reply_null(s, &m->id);
        return;
    default:
        break;
    }
    {
        char msg[300];
        snprintf(msg, sizeof msg, "method not found: %.200s", m->method);
        srv__reply_error(s, &m->id, LSP_RPC_METHOD_NOT_FOUND, msg);
    }
}

static void srv__handle_notification(srv_t *s, lsp_msg_t *m)
{
    if (m->m == LSP_M_EXIT) {
        srv_exit(s, s->shutdown ? 0 : 1);
        return;
    }
    if (!s->initialize_answered || s->shutdown)
        return; /* LSP: notifications before initialize / after shutdown are dropped */
    switch (m->m) {
    case LSP_M_INITIALIZED:
        srv__initialized(s);
        break;
    case LSP_M_DID_OPEN:
        srv__did_open(s, &m->p);
        break;
    case LSP_M_DID_CHANGE:
        srv__did_change(s, &m->p);
        break;
    case LSP_M_DID_SAVE:
        srv__did_save(s, &m->p);
        break;
    case LSP_M_DID_CLOSE:
        srv__did_close(s, &m->p);
        break;
    case LSP_M_DID_CHANGE_CONFIGURATION: {
        lsp_settings_t before = s->settings;
        srv__merge_settings(s, &m->p.settings);
        /* a client with workspace/configuration sends an empty settings object: ask */
        if (s->caps.configuration)
            srv__report(s, srv__request_configuration(s), "asking for the settings", NULL);
        if (before.drift_severity != s->settings.drift_severity && s->startup_done)
            srv__report(s, srv_check_all(s, NULL), "checking the workspace", NULL);
        break;
    }
    case LSP_M_DID_CHANGE_WATCHED_FILES:
        for (size_t i = 0; i < m->p.n_events; i++) {
            char *path = NULL;
            int rc = srv_uri_path(m->p.events[i].uri, &path);
            if (rc == 0 && path != NULL)
                rc = ws_check_path(s->ws, path, WS_EV_DISK);
            srv__report(s, rc, "checking the changed file", m->p.events[i].uri);
            srv_free(path);
        }
        break;
    case LSP_M_DID_CHANGE_WORKSPACE_FOLDERS:
        for (size_t i = 0; i < m->p.n_removed; i++)
            srv__report(s, srv__remove_folder(s, m->p.removed[i].uri),
                        "removing the workspace folder", m->p.removed[i].uri);
        for (size_t i = 0; i < m->p.n_added; i++)
            if (srv__add_folder(s, m->p.added[i].uri) == SRV_ENOMEM)
                srv__report(s, SRV_ENOMEM, "adding the workspace folder", m->p.added[i].uri);
        srv__report(s, srv__watch_folders(s), "watching the workspace folders", NULL);
        srv__report(s, srv_check_all(s, NULL), "checking the workspace", NULL);
        break;
    case LSP_M_SET_TRACE:
        s->trace = m->p.trace;
        break;
    default:
        break; /* $/cancelRequest is handled in the queue; others are optional */
    }
}

static void srv__trace_in(srv_t *s, const lsp_msg_t *m)
{
    char msg[300];
    lsp_out_t out;
    if (s->trace == LSP_TRACE_OFF || !s->initialize_answered || m->kind == LSP_MSG_RESPONSE)
        return;
    snprintf(msg, sizeof msg, "received %s '%.200s'",
             m->kind == LSP_MSG_REQUEST ? "request" : "notification", m->method ? m->method : "?");
    if (lsp_encode_log_trace(msg, &out) == 0)
        srv_send(s, &out);
}

/* ----------------------------------------------------------------------- the queue */

static void srv__dispatch_body(srv_t *s, const char *body, size_t len)
{
    lsp_msg_t m;
    int rc = lsp_decode(body, len, &m);
    if (rc != 0) {
        if (m.kind == LSP_MSG_REQUEST || rc == LSP_EPARSE || m.kind == LSP_MSG_RESPONSE ||
            m.method == NULL) {
            lsp_id_t id = m.id;
            if (id.type == LSP_ID_NONE || m.kind == LSP_MSG_RESPONSE)
                id.type = LSP_ID_NULL;
            srv__reply_error(s, &id, lsp_rpc_code_for(rc), lsp_strerror(rc));
        }
        /* out of memory is ours, an error; the rest is the client's, a warning */
        srv_log(s, rc == LSP_ENOMEM ? 1 : 2, "%s%s%s: %s",
                rc == LSP_ENOMEM ? "message dropped" : "bad message", m.method ? " " : "",
                m.method ? m.method : "", lsp_strerror(rc));
        lsp_msg_free(&m);
        return;
    }
    if (s->queue_len == s->queue_cap) {
        size_t cap = s->queue_cap ? s->queue_cap * 2 : 16;
        lsp_msg_t *nq = srv_realloc(s->queue, cap * sizeof *nq);
        if (nq == NULL) {
            if (m.kind == LSP_MSG_REQUEST)
                srv__reply_error(s, &m.id, srv_rpc_code(SRV_ENOMEM), srv_strerror(SRV_ENOMEM));
            else
                srv__report(s, SRV_ENOMEM, "queueing", m.method);
            lsp_msg_free(&m);
            return;
        }
        s->queue = nq;
        s->queue_cap = cap;
    }
    s->queue[s->queue_len++] = m;
}

static void srv__dispatch_queue(srv_t *s)
{
    /* $/cancelRequest for a request still waiting in the queue: answer it as cancelled */
    for (size_t i = 0; i < s->queue_len; i++) {
        lsp_msg_t *c = &s->queue[i];
        if (c->kind != LSP_MSG_NOTIFICATION || c->m != LSP_M_CANCEL_REQUEST)
            continue;
        for (size_t j = 0; j < i; j++) {
            lsp_msg_t *r = &s->queue[j];
            if (r->kind == LSP_MSG_REQUEST && r->m != LSP_M_INITIALIZE && r->m != LSP_M_SHUTDOWN &&
                lsp_id_equal(&r->id, &c->p.cancel_id)) {
                srv__reply_error(s, &r->id, LSP_RPC_REQUEST_CANCELLED, "request cancelled");
                lsp_msg_free(r);
                r->kind = LSP_MSG_RESPONSE; /* consumed: a response with no id is skipped */
                r->id.type = LSP_ID_NONE;
            }
        }
    }
    for (size_t i = 0; i < s->queue_len && !s->exiting; i++) {
        lsp_msg_t *m = &s->queue[i];
        srv__trace_in(s, m);
        if (m->kind == LSP_MSG_REQUEST)
            srv__handle_request(s, m);
        else if (m->kind == LSP_MSG_NOTIFICATION)
            srv__handle_notification(s, m);
        else if (m->id.type != LSP_ID_NONE)
            srv__on_response(s, m);
    }
    for (size_t i = 0; i < s->queue_len; i++)
        lsp_msg_free(&s->queue[i]);
    s->queue_len = 0;
}

void srv_input(srv_t *s, const char *data, size_t n)
{
    if (lsp_framer_feed(&s->framer, data, n) != 0) {
        /* the id of what was lost is unknown: an error with a null id, as JSON-RPC has it for
         * a request whose id cannot be read, so that a client waiting on one is told */
        lsp_id_t null_id = {LSP_ID_NULL, 0, NULL};
        srv_log(s, 1, "out of memory reading input: message dropped");
        srv__reply_error(s, &null_id, srv_rpc_code(SRV_ENOMEM),
                         "out of memory reading input: message dropped");
        return;
    }
    const char *body;
    size_t len;
    int rc;
    while (!s->exiting && (rc = lsp_framer_next(&s->framer, &body, &len)) != LSP_EAGAIN) {
        if (rc != 0)
            srv__framing_error(s, rc);
        else
            srv__dispatch_body(s, body, len);
    }
    srv__dispatch_queue(s);
}
