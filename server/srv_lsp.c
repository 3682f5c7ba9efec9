/* The LSP adapter over the workspace core: the core's reports (diagnostics, status, progress,
 * edits) turned into protocol messages, and the requests that return core data (pull reports,
 * code actions, hover, definition, lint fixes) encoded for the client. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv_int.h"
#include "ul.h"

int srv_rpc_code(int err)
{
    /* the client's mistakes are InvalidParams; everything else is ours */
    return err == SRV_EOUTSIDE || err == SRV_EINVAL || err == SRV_ENOTFOUND
               ? LSP_RPC_INVALID_PARAMS
               : LSP_RPC_INTERNAL_ERROR;
}

int srv_request(srv_t *s, srv_pending_kind_t kind, lsp_out_t *out, int64_t id)
{
    srv_pending_t *np = srv_realloc(s->pending, (s->n_pending + 1) * sizeof *np);
    if (np == NULL) {
        lsp_out_free(out);
        return SRV_ENOMEM;
    }
    s->pending = np;
    np[s->n_pending].id = id;
    np[s->n_pending].kind = kind;
    s->n_pending++;
    return srv_send(s, out);
}

static const char *srv__base(const char *p)
{
    const char *b = strrchr(p, '/');
    return b ? b + 1 : p;
}

/* The URI to publish for a path: the client's own URI when the file is open. */
static char *srv__uri_for(srv_t *s, const char *path)
{
    ws_doc *d = ws_doc_find_path(s->ws, path);
    return d ? srv_strdup(d->uri) : srv_path_to_uri(path);
}

/* ----------------------------------------------------------------------- diagnostics */

/* The protocol's view of f's diagnostics (borrowing f's strings); *rel_out and *uris hold what
 * the related information needs. NULL when out of memory. Free all three with srv_free (and
 * each of uris[i]). */
static lsp_diagnostic_t *srv__to_lsp(srv_t *s, const ws_file *f, lsp_related_t **rel_out,
                                     char ***uris)
{
    size_t n = f->n ? f->n : 1;
    lsp_diagnostic_t *out = srv_calloc(n, sizeof *out);
    lsp_related_t *rel = srv_calloc(n, sizeof *rel);
    char **u = srv_calloc(n, sizeof *u);
    if (out == NULL || rel == NULL || u == NULL)
        goto fail;
    for (size_t i = 0; i < f->n; i++) {
        const ws_diag *d = &f->d[i];
        out[i].range = srv_lsp_range(d->range);
        out[i].severity = (lsp_severity_t)d->severity;
        out[i].code = d->code[0] ? d->code : NULL;
        out[i].code_href = out[i].code ? ul_code_href(out[i].code) : NULL;
        out[i].message = d->message;
        if (d->rel_path) {
            if ((u[i] = srv__uri_for(s, d->rel_path)) == NULL)
                goto fail;
            rel[i].location.uri = u[i];
            rel[i].location.range = srv_lsp_range(d->rel_range);
            rel[i].message = "the async source lines";
            out[i].related = &rel[i];
            out[i].n_related = 1;
        }
    }
    *rel_out = rel;
    *uris = u;
    return out;
fail:
    for (size_t i = 0; u != NULL && i < f->n; i++)
        srv_free(u[i]);
    srv_free(u);
    srv_free(out);
    srv_free(rel);
    return NULL;
}

static void srv__lsp_free(const ws_file *f, lsp_diagnostic_t *d, lsp_related_t *rel, char **uris)
{
    for (size_t i = 0; uris != NULL && i < f->n; i++)
        srv_free(uris[i]);
    srv_free(uris);
    srv_free(d);
    srv_free(rel);
}

/* Remembers the encoded set last sent under key. Returns 1 when it differs from the one
 * remembered (or there was none and the set is not empty), 0 when it is the same, or
 * SRV_ENOMEM. */
static int srv__remember(srv_t *s, const char *key, const lsp_out_t *out, size_t n)
{
    srv_published_t *pub = NULL;
    for (size_t i = 0; i < s->n_published; i++)
        if (strcmp(s->published[i].uri, key) == 0)
            pub = &s->published[i];
    if (pub != NULL && pub->key_len == out->len && memcmp(pub->key, out->data, out->len) == 0)
        return 0; /* the same set again: no publish, no flicker */
    if (pub == NULL && n == 0)
        return 0; /* never published, still nothing to say */
    char *copy = srv_malloc(out->len);
    if (copy == NULL)
        return SRV_ENOMEM;
    memcpy(copy, out->data, out->len);
    if (pub == NULL) {
        char *uri = srv_strdup(key);
        srv_published_t *np =
            uri ? srv_realloc(s->published, (s->n_published + 1) * sizeof *np) : NULL;
        if (np == NULL) {
            srv_free(uri);
            srv_free(copy);
            return SRV_ENOMEM;
        }
        s->published = np;
        pub = &np[s->n_published++];
        pub->uri = uri;
        pub->key = NULL;
    }
    srv_free(pub->key);
    pub->key = copy;
    pub->key_len = out->len;
    return 1;
}

/* Publishes a diagnostics set for uri unless it equals the last one sent. */
static int srv__publish(srv_t *s, const char *uri, const lsp_diagnostic_t *d, size_t n)
{
    lsp_out_t out;
    if (lsp_encode_publish_diagnostics(uri, -1, "unasync", d, n, &out) != 0)
        return SRV_ENOMEM;
    int rc = srv__remember(s, uri, &out, n);
    if (rc != 1) {
        lsp_out_free(&out);
        return rc;
    }
    return srv_send(s, &out);
}

/* Notes a changed set of an open document for a pull client (served by textDocument/diagnostic)
 * and clears what was pushed for it. */
static int srv__note_pull(srv_t *s, const char *uri, const lsp_diagnostic_t *d, size_t n)
{
    char *key = srv_malloc(strlen(uri) + 6);
    if (key == NULL)
        return SRV_ENOMEM;
    sprintf(key, "pull:%s", uri);
    lsp_out_t out;
    int rc = srv__publish(s, uri, NULL, 0);
    if (rc == 0)
        rc = lsp_encode_diagnostic_report(NULL, d, n, &out) != 0 ? SRV_ENOMEM : 0;
    if (rc == 0) {
        rc = srv__remember(s, key, &out, n);
        lsp_out_free(&out);
        if (rc == 1) {
            s->pull_refresh = true;
            rc = 0;
        }
    }
    srv_free(key);
    return rc;
}

/* ws_hooks.diagnostics: publishes the file's current set (push), unless the client pulls
 * diagnostics for open documents: then the open document is served by textDocument/diagnostic.
 * A configuration's findings are always pushed. */
static int srv__on_diagnostics(void *ud, const ws_file *f)
{
    srv_t *s = ud;
    lsp_related_t *rel = NULL;
    char **uris = NULL;
    char *uri = srv__uri_for(s, f->path);
    lsp_diagnostic_t *d = uri ? srv__to_lsp(s, f, &rel, &uris) : NULL;
    int rc = SRV_ENOMEM;
    if (d != NULL) {
        if (!f->config && s->caps.pull_diagnostics && ws_doc_find_path(s->ws, f->path) != NULL)
            rc = srv__note_pull(s, uri, d, f->n);
        else
            rc = srv__publish(s, uri, d, f->n);
    }
    srv__lsp_free(f, d, rel, uris);
    srv_free(uri);
    return rc;
}

/* ws_hooks.settled: asks a pull client to pull again when an open document's diagnostics
 * changed. */
static int srv__on_settled(void *ud)
{
    srv_t *s = ud;
    if (!s->pull_refresh || !s->caps.diagnostic_refresh)
        return 0;
    int64_t id = s->next_id++;
    lsp_out_t out;
    if (lsp_encode_request(id, "workspace/diagnostic/refresh", &out) != 0)
        return SRV_ENOMEM;
    int rc = srv_request(s, SRV_PENDING_REFRESH, &out, id);
    if (rc == 0)
        s->pull_refresh = false;
    return rc;
}

/* ws_hooks.status: the unasync/status notification. */
static int srv__on_status(void *ud, size_t twins, size_t drifted)
{
    lsp_out_t out;
    if (lsp_encode_status((int64_t)twins, (int64_t)drifted, &out) != 0)
        return SRV_ENOMEM;
    return srv_send(ud, &out);
}

/* ws_hooks.progress: $/progress under the token of the check under way. */
static int srv__on_progress(void *ud, ws_progress stage, const char *msg, int pct)
{
    srv_t *s = ud;
    static const lsp_progress_kind_t kinds[] = {LSP_PROGRESS_BEGIN, LSP_PROGRESS_REPORT,
                                                LSP_PROGRESS_END};
    if (s->progress_token == NULL)
        return 0;
    lsp_out_t out;
    if (lsp_encode_progress(s->progress_token, kinds[stage],
                            stage == WS_PROGRESS_BEGIN ? msg : NULL,
                            stage == WS_PROGRESS_BEGIN ? NULL : msg, pct, &out) != 0)
        return SRV_ENOMEM;
    return srv_send(s, &out);
}

/* ws_hooks.apply_edit: a workspace/applyEdit of byte edits of doc's text. */
static int srv__on_apply_edit(void *ud, const ws_doc *doc, const char *label, const ws_edit *e,
                              size_t n)
{
    srv_t *s = ud;
    lsp_text_edit_t *edits = srv_calloc(n ? n : 1, sizeof *edits);
    if (edits == NULL)
        return SRV_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        edits[i].range.start =
            srv_lsp_pos(srv_text_position(doc->text, doc->len, e[i].off, s->utf8));
        edits[i].range.end =
            srv_lsp_pos(srv_text_position(doc->text, doc->len, e[i].off + e[i].del, s->utf8));
        edits[i].new_text = e[i].text;
    }
    int64_t id = s->next_id++;
    lsp_out_t out;
    int rc =
        lsp_encode_apply_edit(id, label, doc->uri, s->caps.document_changes ? doc->version : -1,
                              edits, n, &out) == 0
            ? srv_request(s, SRV_PENDING_APPLY_EDIT, &out, id)
            : SRV_ENOMEM;
    srv_free(edits);
    return rc;
}

void srv_lsp_hooks(srv_t *s, ws_hooks *hooks)
{
    memset(hooks, 0, sizeof *hooks);
    hooks->ud = s;
    hooks->diagnostics = srv__on_diagnostics;
    hooks->settled = srv__on_settled;
    hooks->status = srv__on_status;
    hooks->progress = srv__on_progress;
    hooks->log = srv_io_log;
    hooks->watch = srv_io_watch;
    hooks->timer = srv_io_timer;
    hooks->apply_edit = srv__on_apply_edit;
    hooks->work = srv_io_work;
}

int srv_check_all(srv_t *s, const char *token)
{
    s->progress_token = token;
    int rc = ws_check_all(s->ws, token != NULL);
    s->progress_token = NULL;
    return rc;
}

/* ------------------------------------------------------------------------- requests */

int srv_encode_report(srv_t *s, const lsp_id_t *id, const char *path, lsp_out_t *out)
{
    const ws_file *f = NULL;
    if (path != NULL && ws_file_of(s->ws, path, &f) != 0)
        return SRV_ENOMEM;
    lsp_related_t *rel = NULL;
    char **uris = NULL;
    lsp_diagnostic_t *d = NULL;
    if (f != NULL && (d = srv__to_lsp(s, f, &rel, &uris)) == NULL)
        return SRV_ENOMEM;
    int rc = lsp_encode_diagnostic_report(id, d, f ? f->n : 0, out) == 0 ? 0 : SRV_ENOMEM;
    if (f != NULL)
        srv__lsp_free(f, d, rel, uris);
    return rc;
}

/* The protocol's view of the core's actions a for the document named uri; the lint fixes'
 * command arguments ("<document URI>#<line>:<col>:<code>:<index>") go to args[i]. */
static int srv__actions_to_lsp(srv_t *s, const ws_actions *a, const char *uri, lsp_diagnostic_t *d,
                               lsp_code_action_t *acts, lsp_diagnostic_t **sel, char **args)
{
    for (size_t i = 0; i < a->n; i++) {
        const ws_action *x = &a->v[i];
        acts[i].title = x->title;
        acts[i].kind = x->kind;
        acts[i].is_preferred = x->preferred;
        acts[i].command = x->command;
        acts[i].arg_uri = NULL;
        if (x->n_diags > 0) {
            if ((sel[i] = srv_calloc(x->n_diags, sizeof *sel[i])) == NULL)
                return SRV_ENOMEM;
            for (size_t k = 0; k < x->n_diags; k++)
                sel[i][k] = d[x->diags[k]];
            acts[i].diagnostics = sel[i];
            acts[i].n_diagnostics = x->n_diags;
        }
        if (strcmp(x->command, "unasync.lintFix") == 0) {
            acts[i].command_title = x->title;
            if ((args[i] = srv_malloc(strlen(uri) + 64)) == NULL)
                return SRV_ENOMEM;
            sprintf(args[i], "%s#%u:%u:%s:%zu", uri, x->fix_line, x->fix_col, x->fix_code,
                    x->fix_index);
        } else if (x->arg_path != NULL && (args[i] = srv__uri_for(s, x->arg_path)) == NULL)
            return SRV_ENOMEM;
        acts[i].arg_uri = args[i];
    }
    return 0;
}

int srv_code_actions(srv_t *s, const lsp_msg_t *m, lsp_out_t *out)
{
    char *path = NULL;
    ws_actions a = {0};
    int rc = srv_uri_path(m->p.uri, &path);
    if (rc == 0 && path != NULL)
        rc = ws_code_actions(s->ws, path, srv_ws_range(m->p.range), (const char *const *)m->p.only,
                             m->p.n_only, m->p.has_only, &a);
    srv_free(path);
    if (rc != 0)
        return rc;
    size_t n = a.n ? a.n : 1;
    lsp_code_action_t *acts = srv_calloc(n, sizeof *acts);
    lsp_diagnostic_t **sel = srv_calloc(n, sizeof *sel), *d = NULL;
    char **args = srv_calloc(n, sizeof *args), **uris = NULL;
    lsp_related_t *rel = NULL;
    rc = SRV_ENOMEM;
    if (acts == NULL || sel == NULL || args == NULL ||
        (a.file != NULL && (d = srv__to_lsp(s, a.file, &rel, &uris)) == NULL))
        goto done;
    if ((rc = srv__actions_to_lsp(s, &a, m->p.uri, d, acts, sel, args)) == 0)
        rc = lsp_encode_code_actions(&m->id, acts, a.n, s->caps.code_action_literals, out) == 0
                 ? 0
                 : SRV_ENOMEM;
done:
    for (size_t i = 0; i < a.n; i++) {
        srv_free(sel ? sel[i] : NULL);
        srv_free(args ? args[i] : NULL);
    }
    if (a.file != NULL)
        srv__lsp_free(a.file, d, rel, uris);
    srv_free(sel);
    srv_free(args);
    srv_free(acts);
    ws_actions_free(&a);
    return rc;
}

int srv_lint_fix(srv_t *s, const char *arg)
{
    const char *hash = arg ? strrchr(arg, '#') : NULL;
    char code[8] = "";
    unsigned line = 0, col = 0;
    size_t k = 0;
    if (hash == NULL || sscanf(hash + 1, "%u:%u:%7[A-Z0-9]:%zu", &line, &col, code, &k) != 4)
        return SRV_EINVAL;
    char *uri = srv_strndup(arg, (size_t)(hash - arg)), *path = NULL;
    if (uri == NULL)
        return SRV_ENOMEM;
    int rc = srv_uri_path(uri, &path);
    if (rc == 0)
        rc = path == NULL ? SRV_EINVAL : ws_lint_fix(s->ws, path, line, col, code, k);
    srv_free(uri);
    srv_free(path);
    return rc;
}

/* Maps the request's position in a twin to its source: 0 with *o set, 1 when the document is
 * not a twin, or SRV_ENOMEM. */
static int srv__origin(srv_t *s, const lsp_msg_t *m, ws_origin *o)
{
    char *path = NULL;
    memset(o, 0, sizeof *o);
    int rc = srv_uri_path(m->p.uri, &path);
    if (rc == 0)
        rc = path == NULL ? 1 : ws_twin_origin(s->ws, path, srv_ws_pos(m->p.position), o);
    srv_free(path);
    return rc;
}

int srv_hover(srv_t *s, const lsp_msg_t *m, lsp_out_t *out)
{
    ws_origin o;
    int rc = srv__origin(s, m, &o);
    if (rc != 0)
        return rc < 0 ? rc : lsp_encode_null_result(&m->id, out) == 0 ? 0 : SRV_ENOMEM;
    char *uri = srv__uri_for(s, o.source), md[1024];
    rc = SRV_ENOMEM;
    if (uri != NULL) {
        snprintf(md, sizeof md, "generated from [%s:%u](%s#L%u)%s%s", srv__base(o.source), o.line,
                 uri, o.line, o.drift ? "\n\n" : "", o.drift ? o.drift : "");
        rc = lsp_encode_hover(&m->id, md, NULL, out) == 0 ? 0 : SRV_ENOMEM;
    }
    srv_free(uri);
    srv_free(o.source);
    srv_free(o.drift);
    return rc;
}

int srv_definition(srv_t *s, const lsp_msg_t *m, lsp_out_t *out)
{
    ws_origin o;
    int rc = srv__origin(s, m, &o);
    if (rc != 0)
        return rc < 0 ? rc : lsp_encode_null_result(&m->id, out) == 0 ? 0 : SRV_ENOMEM;
    char *uri = srv__uri_for(s, o.source);
    lsp_location_t loc;
    loc.uri = uri;
    loc.range.start = loc.range.end = srv_lsp_pos(o.pos);
    rc = uri && lsp_encode_locations(&m->id, &loc, 1, out) == 0 ? 0 : SRV_ENOMEM;
    srv_free(uri);
    srv_free(o.source);
    srv_free(o.drift);
    return rc;
}
