/* JSON-RPC 2.0 encoding: the server's responses, notifications and requests, framed. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "lsp_internal.h"

void lsp_out_free(lsp_out_t *out)
{
    if (out == NULL)
        return;
    lsp__free(out->data);
    out->data = NULL;
    out->len = 0;
}

/* Prints and frames root, then deletes it. Returns 0 or LSP_ENOMEM. */
static int lsp__finish(cJSON *root, lsp_out_t *out)
{
    char *body, head[48];
    size_t blen;
    int hlen;
    memset(out, 0, sizeof *out);
    if (root == NULL)
        return LSP_ENOMEM;
    body = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (body == NULL)
        return LSP_ENOMEM;
    blen = strlen(body);
    hlen = snprintf(head, sizeof head, "Content-Length: %zu\r\n\r\n", blen);
    out->data = lsp__malloc((size_t)hlen + blen + 1);
    if (out->data == NULL) {
        lsp__free(body);
        return LSP_ENOMEM;
    }
    memcpy(out->data, head, (size_t)hlen);
    memcpy(out->data + hlen, body, blen);
    out->len = (size_t)hlen + blen;
    out->data[out->len] = '\0'; /* not counted: lets callers and tests use string functions */
    lsp__free(body);
    return 0;
}

/* The JSON building below ignores intermediate allocation failures on purpose: any failed
 * add leaves a NULL that makes a later step fail or produces a detectably incomplete object;
 * the `ok` flag collects them so that an out-of-memory message is never sent half-built. */
typedef struct {
    bool ok;
} lsp_b_t;

static cJSON *lsp__chk(lsp_b_t *b, cJSON *j)
{
    if (j == NULL)
        b->ok = false;
    return j;
}

static void lsp__add(lsp_b_t *b, cJSON *obj, const char *key, cJSON *item)
{
    if (item == NULL || obj == NULL || !cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        b->ok = false;
    }
}

static void lsp__push(lsp_b_t *b, cJSON *arr, cJSON *item)
{
    if (item == NULL || arr == NULL || !cJSON_AddItemToArray(arr, item)) {
        cJSON_Delete(item);
        b->ok = false;
    }
}

static cJSON *lsp__id_json(const lsp_id_t *id)
{
    switch (id ? id->type : LSP_ID_NULL) {
    case LSP_ID_NUMBER:
        return cJSON_CreateNumber((double)id->num);
    case LSP_ID_STRING:
        return cJSON_CreateString(id->str);
    default:
        return cJSON_CreateNull();
    }
}

static cJSON *lsp__envelope(lsp_b_t *b)
{
    cJSON *root = lsp__chk(b, cJSON_CreateObject());
    lsp__add(b, root, "jsonrpc", cJSON_CreateString("2.0"));
    return root;
}

static cJSON *lsp__response(lsp_b_t *b, const lsp_id_t *id, cJSON *result)
{
    cJSON *root = lsp__envelope(b);
    lsp__add(b, root, "id", lsp__id_json(id));
    lsp__add(b, root, "result", result);
    return root;
}

static cJSON *lsp__message(lsp_b_t *b, const char *method, cJSON *params)
{
    cJSON *root = lsp__envelope(b);
    lsp__add(b, root, "method", cJSON_CreateString(method));
    if (params != NULL)
        lsp__add(b, root, "params", params);
    return root;
}

static cJSON *lsp__request(lsp_b_t *b, int64_t id, const char *method, cJSON *params)
{
    cJSON *root = lsp__message(b, method, params);
    lsp__add(b, root, "id", cJSON_CreateNumber((double)id));
    return root;
}

static int lsp__done(lsp_b_t *b, cJSON *root, lsp_out_t *out)
{
    if (!b->ok) {
        cJSON_Delete(root);
        memset(out, 0, sizeof *out);
        return LSP_ENOMEM;
    }
    return lsp__finish(root, out);
}

static cJSON *lsp__pos_json(lsp_b_t *b, const lsp_position_t *p)
{
    cJSON *o = lsp__chk(b, cJSON_CreateObject());
    lsp__add(b, o, "line", cJSON_CreateNumber((double)p->line));
    lsp__add(b, o, "character", cJSON_CreateNumber((double)p->character));
    return o;
}

static cJSON *lsp__range_json(lsp_b_t *b, const lsp_range_t *r)
{
    cJSON *o = lsp__chk(b, cJSON_CreateObject());
    lsp__add(b, o, "start", lsp__pos_json(b, &r->start));
    lsp__add(b, o, "end", lsp__pos_json(b, &r->end));
    return o;
}

static cJSON *lsp__location_json(lsp_b_t *b, const lsp_location_t *l)
{
    cJSON *o = lsp__chk(b, cJSON_CreateObject());
    lsp__add(b, o, "uri", cJSON_CreateString(l->uri));
    lsp__add(b, o, "range", lsp__range_json(b, &l->range));
    return o;
}

static cJSON *lsp__diag_json(lsp_b_t *b, const lsp_diagnostic_t *d, const char *source)
{
    cJSON *o = lsp__chk(b, cJSON_CreateObject());
    size_t i;
    lsp__add(b, o, "range", lsp__range_json(b, &d->range));
    lsp__add(b, o, "severity", cJSON_CreateNumber(d->severity));
    if (d->code)
        lsp__add(b, o, "code", cJSON_CreateString(d->code));
    if (d->code && d->code_href) {
        cJSON *cd = lsp__chk(b, cJSON_CreateObject());
        lsp__add(b, cd, "href", cJSON_CreateString(d->code_href));
        lsp__add(b, o, "codeDescription", cd);
    }
    lsp__add(b, o, "source", cJSON_CreateString(source ? source : "unasync"));
    lsp__add(b, o, "message", cJSON_CreateString(d->message ? d->message : ""));
    if (d->n_related > 0) {
        cJSON *arr = lsp__chk(b, cJSON_CreateArray());
        for (i = 0; i < d->n_related; i++) {
            cJSON *r = lsp__chk(b, cJSON_CreateObject());
            lsp__add(b, r, "location", lsp__location_json(b, &d->related[i].location));
            lsp__add(b, r, "message", cJSON_CreateString(d->related[i].message));
            lsp__push(b, arr, r);
        }
        lsp__add(b, o, "relatedInformation", arr);
    }
    return o;
}

static cJSON *lsp__diags_json(lsp_b_t *b, const lsp_diagnostic_t *d, size_t n, const char *source)
{
    cJSON *arr = lsp__chk(b, cJSON_CreateArray());
    size_t i;
    for (i = 0; i < n; i++)
        lsp__push(b, arr, lsp__diag_json(b, &d[i], source));
    return arr;
}

/* --------------------------------------------------------------------------- responses */

int lsp_encode_initialize_result(const lsp_id_t *id, const lsp_server_caps_t *caps,
                                 const char *const *commands, size_t n_commands, lsp_out_t *out)
{
    lsp_b_t b = {true};
    cJSON *res = lsp__chk(&b, cJSON_CreateObject());
    cJSON *c = lsp__chk(&b, cJSON_CreateObject());
    cJSON *sync = lsp__chk(&b, cJSON_CreateObject());
    cJSON *save = lsp__chk(&b, cJSON_CreateObject());
    cJSON *ca = lsp__chk(&b, cJSON_CreateObject());
    cJSON *kinds = lsp__chk(&b, cJSON_CreateArray());
    cJSON *exec = lsp__chk(&b, cJSON_CreateObject());
    cJSON *cmds = lsp__chk(&b, cJSON_CreateArray());
    cJSON *ws = lsp__chk(&b, cJSON_CreateObject());
    cJSON *wsf = lsp__chk(&b, cJSON_CreateObject());
    cJSON *info = lsp__chk(&b, cJSON_CreateObject());
    size_t i;

    lsp__add(&b, c, "positionEncoding", cJSON_CreateString(caps->utf8 ? "utf-8" : "utf-16"));
    lsp__add(&b, sync, "openClose", cJSON_CreateTrue());
    lsp__add(&b, sync, "change", cJSON_CreateNumber(2)); /* incremental */
    lsp__add(&b, save, "includeText", cJSON_CreateFalse());
    lsp__add(&b, sync, "save", save);
    lsp__add(&b, c, "textDocumentSync", sync);
    lsp__push(&b, kinds, cJSON_CreateString("quickfix"));
    lsp__push(&b, kinds, cJSON_CreateString("source.fixAll.unasync"));
    lsp__add(&b, ca, "codeActionKinds", kinds);
    lsp__add(&b, c, "codeActionProvider", ca);
    for (i = 0; i < n_commands; i++)
        lsp__push(&b, cmds, cJSON_CreateString(commands[i]));
    lsp__add(&b, exec, "commands", cmds);
    lsp__add(&b, c, "executeCommandProvider", exec);
    lsp__add(&b, c, "hoverProvider", cJSON_CreateTrue());
    lsp__add(&b, c, "definitionProvider", cJSON_CreateTrue());
    if (caps->pull_diagnostics) {
        cJSON *dp = lsp__chk(&b, cJSON_CreateObject());
        lsp__add(&b, dp, "identifier", cJSON_CreateString("unasync"));
        lsp__add(&b, dp, "interFileDependencies", cJSON_CreateTrue());
        lsp__add(&b, dp, "workspaceDiagnostics", cJSON_CreateFalse());
        lsp__add(&b, c, "diagnosticProvider", dp);
    }
    lsp__add(&b, wsf, "supported", cJSON_CreateTrue());
    lsp__add(&b, wsf, "changeNotifications", cJSON_CreateBool(caps->workspace_folders_notify));
    lsp__add(&b, ws, "workspaceFolders", wsf);
    lsp__add(&b, c, "workspace", ws);
    lsp__add(&b, res, "capabilities", c);
    lsp__add(&b, info, "name", cJSON_CreateString("unasync"));
    lsp__add(&b, info, "version", cJSON_CreateString(caps->version ? caps->version : "0"));
    lsp__add(&b, res, "serverInfo", info);
    return lsp__done(&b, lsp__response(&b, id, res), out);
}

int lsp_encode_null_result(const lsp_id_t *id, lsp_out_t *out)
{
    lsp_b_t b = {true};
    return lsp__done(&b, lsp__response(&b, id, cJSON_CreateNull()), out);
}

int lsp_encode_error(const lsp_id_t *id, int code, const char *message, lsp_out_t *out)
{
    lsp_b_t b = {true};
    cJSON *root = lsp__envelope(&b);
    cJSON *err = lsp__chk(&b, cJSON_CreateObject());
    lsp__add(&b, root, "id", lsp__id_json(id));
    lsp__add(&b, err, "code", cJSON_CreateNumber(code));
    lsp__add(&b, err, "message", cJSON_CreateString(message ? message : ""));
    lsp__add(&b, root, "error", err);
    return lsp__done(&b, root, out);
}

int lsp_encode_hover(const lsp_id_t *id, const char *markdown, const lsp_range_t *range,
                     lsp_out_t *out)
{
    lsp_b_t b = {true};
    cJSON *res = lsp__chk(&b, cJSON_CreateObject());
    cJSON *contents = lsp__chk(&b, cJSON_CreateObject());
    lsp__add(&b, contents, "kind", cJSON_CreateString("markdown"));
    lsp__add(&b, contents, "value", cJSON_CreateString(markdown));
    lsp__add(&b, res, "contents", contents);
    if (range)
        lsp__add(&b, res, "range", lsp__range_json(&b, range));
    return lsp__done(&b, lsp__response(&b, id, res), out);
}

int lsp_encode_locations(const lsp_id_t *id, const lsp_location_t *locs, size_t n, lsp_out_t *out)
{
    lsp_b_t b = {true};
    cJSON *arr = lsp__chk(&b, cJSON_CreateArray());
    size_t i;
    for (i = 0; i < n; i++)
        lsp__push(&b, arr, lsp__location_json(&b, &locs[i]));
    return lsp__done(&b, lsp__response(&b, id, arr), out);
}

static cJSON *lsp__command_json(lsp_b_t *b, const lsp_code_action_t *a)
{
    cJSON *cmd = lsp__chk(b, cJSON_CreateObject());
    cJSON *args = lsp__chk(b, cJSON_CreateArray());
    lsp__add(b, cmd, "title", cJSON_CreateString(a->command_title ? a->command_title : a->title));
    lsp__add(b, cmd, "command", cJSON_CreateString(a->command));
    if (a->arg_uri)
        lsp__push(b, args, cJSON_CreateString(a->arg_uri));
    lsp__add(b, cmd, "arguments", args);
    return cmd;
}

int lsp_encode_code_actions(const lsp_id_t *id, const lsp_code_action_t *actions, size_t n,
                            bool literals, lsp_out_t *out)
{
    lsp_b_t b = {true};
    cJSON *arr = lsp__chk(&b, cJSON_CreateArray());
    size_t i;
    for (i = 0; i < n; i++) {
        const lsp_code_action_t *a = &actions[i];
        if (!literals) { /* clients without literal support take bare Commands */
            lsp__push(&b, arr, lsp__command_json(&b, a));
            continue;
        }
        {
            cJSON *o = lsp__chk(&b, cJSON_CreateObject());
            lsp__add(&b, o, "title", cJSON_CreateString(a->title));
            lsp__add(&b, o, "kind", cJSON_CreateString(a->kind));
            if (a->is_preferred)
                lsp__add(&b, o, "isPreferred", cJSON_CreateTrue());
            if (a->n_diagnostics > 0)
                lsp__add(&b, o, "diagnostics",
                         lsp__diags_json(&b, a->diagnostics, a->n_diagnostics, NULL));
            lsp__add(&b, o, "command", lsp__command_json(&b, a));
            lsp__push(&b, arr, o);
        }
    }
    return lsp__done(&b, lsp__response(&b, id, arr), out);
}

int lsp_encode_diagnostic_report(const lsp_id_t *id, const lsp_diagnostic_t *diags, size_t n,
                                 lsp_out_t *out)
{
    lsp_b_t b = {true};
    cJSON *res = lsp__chk(&b, cJSON_CreateObject());
    lsp__add(&b, res, "kind", cJSON_CreateString("full"));
    lsp__add(&b, res, "items", lsp__diags_json(&b, diags, n, NULL));
    return lsp__done(&b, lsp__response(&b, id, res), out);
}

/* ------------------------------------------------------------------------ notifications */

int lsp_encode_publish_diagnostics(const char *uri, int64_t version, const char *source,
                                   const lsp_diagnostic_t *diags, size_t n, lsp_out_t *out)
{
    lsp_b_t b = {true};
    cJSON *p = lsp__chk(&b, cJSON_CreateObject());
    lsp__add(&b, p, "uri", cJSON_CreateString(uri));
    if (version >= 0)
        lsp__add(&b, p, "version", cJSON_CreateNumber((double)version));
    lsp__add(&b, p, "diagnostics", lsp__diags_json(&b, diags, n, source));
    return lsp__done(&b, lsp__message(&b, "textDocument/publishDiagnostics", p), out);
}

int lsp_encode_log_message(int type, const char *message, lsp_out_t *out)
{
    lsp_b_t b = {true};
    cJSON *p = lsp__chk(&b, cJSON_CreateObject());
    lsp__add(&b, p, "type", cJSON_CreateNumber(type));
    lsp__add(&b, p, "message", cJSON_CreateString(message));
    return lsp__done(&b, lsp__message(&b, "window/logMessage", p), out);
}

int lsp_encode_log_trace(const char *message, lsp_out_t *out)
{
    lsp_b_t b = {true};
    cJSON *p = lsp__chk(&b, cJSON_CreateObject());
    lsp__add(&b, p, "message", cJSON_CreateString(message));
    return lsp__done(&b, lsp__message(&b, "$/logTrace", p), out);
}

int lsp_encode_status(int64_t twins, int64_t out_of_date, lsp_out_t *out)
{
    lsp_b_t b = {true};
    cJSON *p = lsp__chk(&b, cJSON_CreateObject());
    lsp__add(&b, p, "twins", cJSON_CreateNumber((double)twins));
    lsp__add(&b, p, "outOfDate", cJSON_CreateNumber((double)out_of_date));
    return lsp__done(&b, lsp__message(&b, "unasync/status", p), out);
}

int lsp_encode_progress(const char *token, lsp_progress_kind_t kind, const char *title,
                        const char *message, int percentage, lsp_out_t *out)
{
    static const char *const kinds[] = {"begin", "report", "end"};
    lsp_b_t b = {true};
    cJSON *p = lsp__chk(&b, cJSON_CreateObject());
    cJSON *v = lsp__chk(&b, cJSON_CreateObject());
    lsp__add(&b, p, "token", cJSON_CreateString(token));
    lsp__add(&b, v, "kind", cJSON_CreateString(kinds[kind]));
    if (kind == LSP_PROGRESS_BEGIN)
        lsp__add(&b, v, "title", cJSON_CreateString(title ? title : ""));
    if (message)
        lsp__add(&b, v, "message", cJSON_CreateString(message));
    if (percentage >= 0 && kind != LSP_PROGRESS_END)
        lsp__add(&b, v, "percentage", cJSON_CreateNumber(percentage));
    lsp__add(&b, p, "value", v);
    return lsp__done(&b, lsp__message(&b, "$/progress", p), out);
}

/* ----------------------------------------------------------------------------- requests */

int lsp_encode_work_done_create(int64_t id, const char *token, lsp_out_t *out)
{
    lsp_b_t b = {true};
    cJSON *p = lsp__chk(&b, cJSON_CreateObject());
    lsp__add(&b, p, "token", cJSON_CreateString(token));
    return lsp__done(&b, lsp__request(&b, id, "window/workDoneProgress/create", p), out);
}

int lsp_encode_request(int64_t id, const char *method, lsp_out_t *out)
{
    lsp_b_t b = {true};
    return lsp__done(&b, lsp__request(&b, id, method, NULL), out);
}

int lsp_encode_configuration_request(int64_t id, const char *const *scope_uris, size_t n,
                                     lsp_out_t *out)
{
    lsp_b_t b = {true};
    cJSON *p = lsp__chk(&b, cJSON_CreateObject());
    cJSON *items = lsp__chk(&b, cJSON_CreateArray());
    size_t i;
    for (i = 0; i < n; i++) {
        cJSON *it = lsp__chk(&b, cJSON_CreateObject());
        if (scope_uris[i])
            lsp__add(&b, it, "scopeUri", cJSON_CreateString(scope_uris[i]));
        lsp__add(&b, it, "section", cJSON_CreateString("unasync"));
        lsp__push(&b, items, it);
    }
    lsp__add(&b, p, "items", items);
    return lsp__done(&b, lsp__request(&b, id, "workspace/configuration", p), out);
}

int lsp_encode_register_watchers(int64_t id, const char *reg_id, const char *const *globs, size_t n,
                                 lsp_out_t *out)
{
    lsp_b_t b = {true};
    cJSON *p = lsp__chk(&b, cJSON_CreateObject());
    cJSON *regs = lsp__chk(&b, cJSON_CreateArray());
    cJSON *reg = lsp__chk(&b, cJSON_CreateObject());
    cJSON *opts = lsp__chk(&b, cJSON_CreateObject());
    cJSON *watchers = lsp__chk(&b, cJSON_CreateArray());
    size_t i;
    for (i = 0; i < n; i++) {
        cJSON *w = lsp__chk(&b, cJSON_CreateObject());
        lsp__add(&b, w, "globPattern", cJSON_CreateString(globs[i]));
        lsp__push(&b, watchers, w);
    }
    lsp__add(&b, opts, "watchers", watchers);
    lsp__add(&b, reg, "id", cJSON_CreateString(reg_id));
    lsp__add(&b, reg, "method", cJSON_CreateString("workspace/didChangeWatchedFiles"));
    lsp__add(&b, reg, "registerOptions", opts);
    lsp__push(&b, regs, reg);
    lsp__add(&b, p, "registrations", regs);
    return lsp__done(&b, lsp__request(&b, id, "client/registerCapability", p), out);
}

int lsp_encode_apply_edit(int64_t id, const char *label, const char *uri, int64_t version,
                          const lsp_text_edit_t *edits, size_t n, lsp_out_t *out)
{
    lsp_b_t b = {true};
    cJSON *p = lsp__chk(&b, cJSON_CreateObject());
    cJSON *we = lsp__chk(&b, cJSON_CreateObject());
    cJSON *arr = lsp__chk(&b, cJSON_CreateArray());
    size_t i;
    for (i = 0; i < n; i++) {
        cJSON *e = lsp__chk(&b, cJSON_CreateObject());
        lsp__add(&b, e, "range", lsp__range_json(&b, &edits[i].range));
        lsp__add(&b, e, "newText", cJSON_CreateString(edits[i].new_text));
        lsp__push(&b, arr, e);
    }
    if (version < 0) {
        cJSON *changes = lsp__chk(&b, cJSON_CreateObject());
        lsp__add(&b, changes, uri, arr);
        lsp__add(&b, we, "changes", changes);
    } else {
        cJSON *dcs = lsp__chk(&b, cJSON_CreateArray());
        cJSON *dc = lsp__chk(&b, cJSON_CreateObject());
        cJSON *td = lsp__chk(&b, cJSON_CreateObject());
        lsp__add(&b, td, "uri", cJSON_CreateString(uri));
        lsp__add(&b, td, "version", cJSON_CreateNumber((double)version));
        lsp__add(&b, dc, "textDocument", td);
        lsp__add(&b, dc, "edits", arr);
        lsp__push(&b, dcs, dc);
        lsp__add(&b, we, "documentChanges", dcs);
    }
    if (label)
        lsp__add(&b, p, "label", cJSON_CreateString(label));
    lsp__add(&b, p, "edit", we);
    return lsp__done(&b, lsp__request(&b, id, "workspace/applyEdit", p), out);
}
