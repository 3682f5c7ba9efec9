/* JSON-RPC 2.0 decoding: one framed body into an lsp_msg_t of plain C structs. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "lsp_internal.h"

/* Numbers beyond 2^53 are not exact in a double; anything larger is refused as a position,
 * id or version. */
#define LSP_MAX_EXACT_INT 9007199254740992.0

static const struct {
    const char *name;
    lsp_method_t m;
} lsp__methods[] = {
    {"initialize", LSP_M_INITIALIZE},
    {"initialized", LSP_M_INITIALIZED},
    {"shutdown", LSP_M_SHUTDOWN},
    {"exit", LSP_M_EXIT},
    {"textDocument/didOpen", LSP_M_DID_OPEN},
    {"textDocument/didChange", LSP_M_DID_CHANGE},
    {"textDocument/didSave", LSP_M_DID_SAVE},
    {"textDocument/didClose", LSP_M_DID_CLOSE},
    {"textDocument/willSave", LSP_M_WILL_SAVE},
    {"textDocument/willSaveWaitUntil", LSP_M_WILL_SAVE_WAIT_UNTIL},
    {"workspace/didChangeConfiguration", LSP_M_DID_CHANGE_CONFIGURATION},
    {"workspace/didChangeWatchedFiles", LSP_M_DID_CHANGE_WATCHED_FILES},
    {"workspace/didChangeWorkspaceFolders", LSP_M_DID_CHANGE_WORKSPACE_FOLDERS},
    {"$/cancelRequest", LSP_M_CANCEL_REQUEST},
    {"$/setTrace", LSP_M_SET_TRACE},
    {"textDocument/codeAction", LSP_M_CODE_ACTION},
    {"workspace/executeCommand", LSP_M_EXECUTE_COMMAND},
    {"textDocument/hover", LSP_M_HOVER},
    {"textDocument/definition", LSP_M_DEFINITION},
    {"textDocument/diagnostic", LSP_M_DIAGNOSTIC},
};

lsp_method_t lsp_method_from_name(const char *name)
{
    size_t i;
    if (name == NULL)
        return LSP_M_UNKNOWN;
    for (i = 0; i < sizeof lsp__methods / sizeof *lsp__methods; i++)
        if (strcmp(lsp__methods[i].name, name) == 0)
            return lsp__methods[i].m;
    return LSP_M_UNKNOWN;
}

bool lsp_id_equal(const lsp_id_t *a, const lsp_id_t *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case LSP_ID_NUMBER:
        return a->num == b->num;
    case LSP_ID_STRING:
        return strcmp(a->str, b->str) == 0;
    default:
        return true;
    }
}

/* ----------------------------------------------------------------- small typed accessors */

static bool lsp__int(const cJSON *j, int64_t *out)
{
    double d;
    int64_t v;
    if (!cJSON_IsNumber(j))
        return false;
    d = j->valuedouble;
    /* NaN compares unequal to itself; the range check also rejects infinities, and comes
     * before the conversion, which is undefined for out-of-range values */
    if (d != d || d > LSP_MAX_EXACT_INT || d < -LSP_MAX_EXACT_INT)
        return false;
    v = (int64_t)d;
    if ((double)v != d)
        return false; /* not an integer */
    *out = v;
    return true;
}

/* Copies a JSON string; *len (optional) receives its length. NULL when not a string or no
 * memory: callers tell the two apart by checking cJSON_IsString first. */
static char *lsp__str(const cJSON *j, size_t *len)
{
    size_t n;
    if (!cJSON_IsString(j) || j->valuestring == NULL)
        return NULL;
    n = strlen(j->valuestring);
    if (len)
        *len = n;
    return lsp__strndup(j->valuestring, n);
}

static const cJSON *lsp__get(const cJSON *obj, const char *key)
{
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

static bool lsp__flag(const cJSON *obj, const char *key)
{
    return cJSON_IsTrue(lsp__get(obj, key));
}

/* Reads a required string member into *out; returns 0, LSP_EPARAMS or LSP_ENOMEM. */
static int lsp__req_str(const cJSON *obj, const char *key, char **out, size_t *len)
{
    const cJSON *j = lsp__get(obj, key);
    if (!cJSON_IsString(j))
        return LSP_EPARAMS;
    *out = lsp__str(j, len);
    return *out ? 0 : LSP_ENOMEM;
}

static int lsp__position(const cJSON *j, lsp_position_t *p)
{
    if (!cJSON_IsObject(j) || !lsp__int(lsp__get(j, "line"), &p->line) ||
        !lsp__int(lsp__get(j, "character"), &p->character) || p->line < 0 || p->character < 0)
        return LSP_EPARAMS;
    return 0;
}

static int lsp__range(const cJSON *j, lsp_range_t *r)
{
    if (!cJSON_IsObject(j) || lsp__position(lsp__get(j, "start"), &r->start) != 0 ||
        lsp__position(lsp__get(j, "end"), &r->end) != 0)
        return LSP_EPARAMS;
    return 0;
}

static int lsp__text_document_uri(const cJSON *params, char **uri)
{
    return lsp__req_str(lsp__get(params, "textDocument"), "uri", uri, NULL);
}

static lsp_trace_t lsp__trace_value(const char *s)
{
    if (strcmp(s, "messages") == 0)
        return LSP_TRACE_MESSAGES;
    if (strcmp(s, "verbose") == 0)
        return LSP_TRACE_VERBOSE;
    return LSP_TRACE_OFF;
}

/* ---------------------------------------------------------------------------- settings */

/* Looks a setting up as nested objects ("lint" → "enable") or as one dotted key
 * ("lint.enable"), both under the given object. */
static const cJSON *lsp__setting(const cJSON *obj, const char *group, const char *key)
{
    char dotted[64];
    const cJSON *j = lsp__get(lsp__get(obj, group), key);
    if (j != NULL)
        return j;
    snprintf(dotted, sizeof dotted, "%s.%s", group, key);
    return lsp__get(obj, dotted);
}

static void lsp__read_settings_in(const cJSON *obj, lsp_settings_t *s)
{
    const cJSON *j;
    if (!cJSON_IsObject(obj))
        return;
    j = lsp__setting(obj, "lint", "enable");
    if (cJSON_IsBool(j)) {
        s->has_lint_enable = true;
        s->lint_enable = cJSON_IsTrue(j);
    }
    j = lsp__setting(obj, "drift", "severity");
    if (cJSON_IsString(j)) {
        static const char *const names[] = {"error", "warning", "information", "hint"};
        size_t i;
        for (i = 0; i < 4; i++)
            if (strcmp(j->valuestring, names[i]) == 0) {
                s->has_drift_severity = true;
                s->drift_severity = (lsp_severity_t)(i + 1);
            }
    }
    j = lsp__setting(obj, "trace", "server");
    if (cJSON_IsString(j)) {
        s->has_trace = true;
        s->trace = lsp__trace_value(j->valuestring);
    }
}

/* Reads the unasync settings from an object that is either the section itself, or holds it
 * under "unasync", or holds "unasync.lint.enable"-style flat keys. Unknown keys and values of
 * the wrong type are ignored: settings are advice, never a reason to fail a message. */
static void lsp__read_settings(const cJSON *obj, lsp_settings_t *s)
{
    const cJSON *section = lsp__get(obj, "unasync");
    memset(s, 0, sizeof *s);
    if (cJSON_IsObject(section))
        lsp__read_settings_in(section, s);
    else {
        cJSON *child;
        lsp__read_settings_in(obj, s);
        if (!cJSON_IsObject(obj))
            return;
        /* flat "unasync.x.y" keys */
        cJSON_ArrayForEach(child, obj)
        {
            lsp_settings_t flat;
            cJSON *one;
            if (child->string == NULL || strncmp(child->string, "unasync.", 8) != 0)
                continue;
            memset(&flat, 0, sizeof flat);
            one = cJSON_CreateObject();
            if (one == NULL)
                return;
            if (cJSON_AddItemReferenceToObject(one, child->string + 8, child))
                lsp__read_settings_in(one, &flat);
            cJSON_Delete(one);
            if (flat.has_lint_enable) {
                s->has_lint_enable = true;
                s->lint_enable = flat.lint_enable;
            }
            if (flat.has_drift_severity) {
                s->has_drift_severity = true;
                s->drift_severity = flat.drift_severity;
            }
            if (flat.has_trace) {
                s->has_trace = true;
                s->trace = flat.trace;
            }
        }
    }
}

/* Allocates a zeroed array with one element per item of JSON array arr. Returns 0 (with *out
 * NULL for an empty array), LSP_EPARAMS when arr is not an array, or LSP_ENOMEM. */
static int lsp__array_alloc(const cJSON *arr, size_t elem, void **out)
{
    size_t count;
    *out = NULL;
    if (!cJSON_IsArray(arr))
        return LSP_EPARAMS;
    count = (size_t)cJSON_GetArraySize(arr);
    if (count == 0)
        return 0;
    if ((*out = lsp__malloc(count * elem)) == NULL)
        return LSP_ENOMEM;
    memset(*out, 0, count * elem);
    return 0;
}

/* ----------------------------------------------------------------------------- folders */

static int lsp__folders(const cJSON *arr, lsp_folder_t **out, size_t *n)
{
    size_t i = 0;
    const cJSON *it;
    void *mem;
    int rc;
    if (arr == NULL || cJSON_IsNull(arr))
        return 0;
    if ((rc = lsp__array_alloc(arr, sizeof **out, &mem)) != 0)
        return rc;
    *out = mem;
    cJSON_ArrayForEach(it, arr)
    {
        rc = lsp__req_str(it, "uri", &(*out)[i].uri, NULL);
        *n = ++i;
        if (rc != 0)
            return rc;
        if (cJSON_IsString(lsp__get(it, "name")) &&
            ((*out)[i - 1].name = lsp__str(lsp__get(it, "name"), NULL)) == NULL)
            return LSP_ENOMEM;
    }
    return 0;
}

static void lsp__folders_free(lsp_folder_t *f, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        lsp__free(f[i].uri);
        lsp__free(f[i].name);
    }
    lsp__free(f);
}

/* -------------------------------------------------------------------------- per method */

static int lsp__decode_initialize(const cJSON *params, lsp_initialize_params_t *ip)
{
    const cJSON *caps, *j, *td, *ws, *win, *gen;
    int rc;
    if (!cJSON_IsObject(params))
        return LSP_EPARAMS;
    j = lsp__get(params, "processId");
    if (j != NULL && !cJSON_IsNull(j)) {
        if (!lsp__int(j, &ip->process_id))
            return LSP_EPARAMS;
        ip->has_process_id = true;
    }
    j = lsp__get(params, "rootUri");
    if (cJSON_IsString(j)) {
        if ((ip->root_uri = lsp__str(j, NULL)) == NULL)
            return LSP_ENOMEM;
    } else if (j != NULL && !cJSON_IsNull(j))
        return LSP_EPARAMS;
    j = lsp__get(params, "workspaceFolders");
    ip->has_folders = cJSON_IsArray(j);
    if ((rc = lsp__folders(j, &ip->folders, &ip->n_folders)) != 0)
        return rc;
    j = lsp__get(params, "trace");
    if (cJSON_IsString(j)) {
        ip->has_trace = true;
        ip->trace = lsp__trace_value(j->valuestring);
    }
    lsp__read_settings(lsp__get(params, "initializationOptions"), &ip->settings);

    caps = lsp__get(params, "capabilities");
    if (caps != NULL && !cJSON_IsObject(caps))
        return LSP_EPARAMS;
    gen = lsp__get(caps, "general");
    j = lsp__get(gen, "positionEncodings");
    if (cJSON_IsArray(j)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, j) if (cJSON_IsString(e) && strcmp(e->valuestring, "utf-8") == 0)
            ip->offers_utf8 = true;
    }
    ws = lsp__get(caps, "workspace");
    ip->configuration = lsp__flag(ws, "configuration");
    ip->apply_edit = lsp__flag(ws, "applyEdit");
    ip->workspace_folders = lsp__flag(ws, "workspaceFolders");
    ip->watched_files_dynamic =
        lsp__flag(lsp__get(ws, "didChangeWatchedFiles"), "dynamicRegistration");
    ip->watched_relative_pattern =
        lsp__flag(lsp__get(ws, "didChangeWatchedFiles"), "relativePatternSupport");
    ip->document_changes = lsp__flag(lsp__get(ws, "workspaceEdit"), "documentChanges");
    ip->diagnostic_refresh = lsp__flag(lsp__get(ws, "diagnostics"), "refreshSupport");
    win = lsp__get(caps, "window");
    ip->work_done_progress = lsp__flag(win, "workDoneProgress");
    td = lsp__get(caps, "textDocument");
    ip->pull_diagnostics = cJSON_IsObject(lsp__get(td, "diagnostic"));
    ip->code_action_literals =
        cJSON_IsObject(lsp__get(lsp__get(td, "codeAction"), "codeActionLiteralSupport"));
    ip->related_information = lsp__flag(lsp__get(td, "publishDiagnostics"), "relatedInformation");
    return 0;
}

static int lsp__decode_changes(const cJSON *arr, lsp_params_t *p)
{
    const cJSON *it;
    size_t i = 0;
    void *mem;
    int rc0 = lsp__array_alloc(arr, sizeof *p->changes, &mem);
    if (rc0 != 0)
        return rc0;
    p->changes = mem;
    cJSON_ArrayForEach(it, arr)
    {
        lsp_content_change_t *c = &p->changes[i];
        const cJSON *range = lsp__get(it, "range");
        int rc;
        p->n_changes = ++i;
        if ((rc = lsp__req_str(it, "text", &c->text, &c->text_len)) != 0)
            return rc;
        if (range != NULL) {
            if (lsp__range(range, &c->range) != 0)
                return LSP_EPARAMS;
            c->has_range = true;
        }
    }
    return 0;
}

static int lsp__decode_strings(const cJSON *arr, char ***out, size_t *n)
{
    const cJSON *it;
    size_t count, i = 0;
    if (!cJSON_IsArray(arr))
        return LSP_EPARAMS;
    count = (size_t)cJSON_GetArraySize(arr);
    *out = lsp__malloc((count ? count : 1) * sizeof(char *));
    if (*out == NULL)
        return LSP_ENOMEM;
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsString(it))
            return LSP_EPARAMS;
        if (((*out)[i] = lsp__str(it, NULL)) == NULL)
            return LSP_ENOMEM;
        *n = ++i;
    }
    return 0;
}

static int lsp__decode_events(const cJSON *arr, lsp_params_t *p)
{
    const cJSON *it;
    size_t i = 0;
    void *mem;
    int rc0 = lsp__array_alloc(arr, sizeof *p->events, &mem);
    if (rc0 != 0)
        return rc0;
    p->events = mem;
    cJSON_ArrayForEach(it, arr)
    {
        int64_t type;
        int rc;
        p->n_events = ++i;
        if ((rc = lsp__req_str(it, "uri", &p->events[i - 1].uri, NULL)) != 0)
            return rc;
        if (!lsp__int(lsp__get(it, "type"), &type) || type < 1 || type > 3)
            return LSP_EPARAMS;
        p->events[i - 1].type = (int)type;
    }
    return 0;
}

static int lsp__decode_params(lsp_method_t m, const cJSON *params, lsp_params_t *p)
{
    const cJSON *td = lsp__get(params, "textDocument"), *j;
    int rc;
    switch (m) {
    case LSP_M_DID_OPEN:
        if ((rc = lsp__req_str(td, "uri", &p->uri, NULL)) != 0 ||
            (rc = lsp__req_str(td, "text", &p->text, &p->text_len)) != 0)
            return rc;
        if (!lsp__int(lsp__get(td, "version"), &p->version))
            return LSP_EPARAMS;
        p->has_version = true;
        return 0;
    case LSP_M_DID_CHANGE:
        if ((rc = lsp__req_str(td, "uri", &p->uri, NULL)) != 0)
            return rc;
        j = lsp__get(td, "version");
        if (j != NULL && !cJSON_IsNull(j)) {
            if (!lsp__int(j, &p->version))
                return LSP_EPARAMS;
            p->has_version = true;
        }
        return lsp__decode_changes(lsp__get(params, "contentChanges"), p);
    case LSP_M_DID_SAVE:
        if ((rc = lsp__req_str(td, "uri", &p->uri, NULL)) != 0)
            return rc;
        j = lsp__get(params, "text");
        if (cJSON_IsString(j) && (p->text = lsp__str(j, &p->text_len)) == NULL)
            return LSP_ENOMEM;
        return 0;
    case LSP_M_DID_CLOSE:
    case LSP_M_DIAGNOSTIC:
    case LSP_M_WILL_SAVE:
    case LSP_M_WILL_SAVE_WAIT_UNTIL:
        return lsp__text_document_uri(params, &p->uri);
    case LSP_M_HOVER:
    case LSP_M_DEFINITION:
        if ((rc = lsp__text_document_uri(params, &p->uri)) != 0)
            return rc;
        return lsp__position(lsp__get(params, "position"), &p->position);
    case LSP_M_CODE_ACTION: {
        const cJSON *ctx = lsp__get(params, "context");
        if ((rc = lsp__text_document_uri(params, &p->uri)) != 0)
            return rc;
        if (lsp__range(lsp__get(params, "range"), &p->range) != 0)
            return LSP_EPARAMS;
        if (ctx != NULL && !cJSON_IsObject(ctx))
            return LSP_EPARAMS;
        j = lsp__get(ctx, "only");
        if (j != NULL && !cJSON_IsNull(j)) {
            p->has_only = true;
            return lsp__decode_strings(j, &p->only, &p->n_only);
        }
        return 0;
    }
    case LSP_M_EXECUTE_COMMAND:
        if ((rc = lsp__req_str(params, "command", &p->command, NULL)) != 0)
            return rc;
        j = lsp__get(params, "arguments");
        if (j != NULL && !cJSON_IsNull(j)) {
            const cJSON *a;
            if (!cJSON_IsArray(j))
                return LSP_EPARAMS;
            a = cJSON_GetArrayItem(j, 0);
            if (cJSON_IsObject(a))
                a = lsp__get(a, "uri");
            if (a != NULL) {
                if (!cJSON_IsString(a))
                    return LSP_EPARAMS;
                if ((p->arg_uri = lsp__str(a, NULL)) == NULL)
                    return LSP_ENOMEM;
            }
        }
        return 0;
    case LSP_M_DID_CHANGE_CONFIGURATION:
        if (!cJSON_IsObject(params))
            return LSP_EPARAMS;
        lsp__read_settings(lsp__get(params, "settings"), &p->settings);
        return 0;
    case LSP_M_DID_CHANGE_WATCHED_FILES:
        return lsp__decode_events(lsp__get(params, "changes"), p);
    case LSP_M_DID_CHANGE_WORKSPACE_FOLDERS: {
        const cJSON *ev = lsp__get(params, "event");
        if (!cJSON_IsObject(ev))
            return LSP_EPARAMS;
        if ((rc = lsp__folders(lsp__get(ev, "added"), &p->added, &p->n_added)) != 0)
            return rc;
        return lsp__folders(lsp__get(ev, "removed"), &p->removed, &p->n_removed);
    }
    case LSP_M_CANCEL_REQUEST:
        j = lsp__get(params, "id");
        if (lsp__int(j, &p->cancel_id.num))
            p->cancel_id.type = LSP_ID_NUMBER;
        else if (cJSON_IsString(j)) {
            p->cancel_id.type = LSP_ID_STRING;
            if ((p->cancel_id.str = lsp__str(j, NULL)) == NULL)
                return LSP_ENOMEM;
        } else
            return LSP_EPARAMS;
        return 0;
    case LSP_M_SET_TRACE:
        j = lsp__get(params, "value");
        if (!cJSON_IsString(j))
            return LSP_EPARAMS;
        p->trace = lsp__trace_value(j->valuestring);
        return 0;
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------------------ decode */

static int lsp__decode_id(const cJSON *j, lsp_id_t *id)
{
    if (j == NULL) {
        id->type = LSP_ID_NONE;
        return 0;
    }
    if (cJSON_IsNull(j)) {
        id->type = LSP_ID_NULL;
        return 0;
    }
    if (lsp__int(j, &id->num)) {
        id->type = LSP_ID_NUMBER;
        return 0;
    }
    if (cJSON_IsString(j)) {
        if ((id->str = lsp__str(j, NULL)) == NULL)
            return LSP_ENOMEM;
        id->type = LSP_ID_STRING;
        return 0;
    }
    return LSP_EINVALID;
}

int lsp_decode(const char *body, size_t len, lsp_msg_t *msg)
{
    cJSON *root;
    const cJSON *j, *method, *params;
    const char *end = NULL;
    int rc;

    memset(msg, 0, sizeof *msg);
    msg->kind = LSP_MSG_NOTIFICATION;
    lsp__json_oom_take();
    root = cJSON_ParseWithLengthOpts(body, len, &end, false);
    if (root == NULL)
        return lsp__json_oom_take() ? LSP_ENOMEM : LSP_EPARSE;
    while (end != NULL && end < body + len &&
           (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n' || *end == '\0'))
        end++;
    if (end != NULL && end < body + len) {
        rc = LSP_EPARSE; /* trailing garbage after the value */
        goto done;
    }
    if (!cJSON_IsObject(root)) {
        rc = LSP_EINVALID;
        goto done;
    }
    /* Read the id first so that even an invalid request can be answered by id. */
    if ((rc = lsp__decode_id(lsp__get(root, "id"), &msg->id)) != 0) {
        msg->id.type = LSP_ID_NULL;
        goto done;
    }
    method = lsp__get(root, "method");
    if (msg->id.type != LSP_ID_NONE && method == NULL)
        msg->kind = LSP_MSG_RESPONSE;
    else if (msg->id.type != LSP_ID_NONE)
        msg->kind = LSP_MSG_REQUEST;
    j = lsp__get(root, "jsonrpc");
    if (!cJSON_IsString(j) || strcmp(j->valuestring, "2.0") != 0) {
        rc = LSP_EINVALID;
        goto done;
    }
    if (msg->kind == LSP_MSG_RESPONSE) {
        cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");
        if (err != NULL) {
            int64_t code = 0;
            msg->is_error = true;
            if (!lsp__int(lsp__get(err, "code"), &code)) {
                rc = LSP_EINVALID;
                goto done;
            }
            msg->error_code = (int)code;
        } else if (lsp__get(root, "result") != NULL) {
            msg->result = cJSON_DetachItemFromObjectCaseSensitive(root, "result");
        } else {
            rc = LSP_EINVALID;
        }
        goto done;
    }
    if (!cJSON_IsString(method)) {
        rc = LSP_EINVALID;
        goto done;
    }
    if ((msg->method = lsp__str(method, NULL)) == NULL) {
        rc = LSP_ENOMEM;
        goto done;
    }
    msg->m = lsp_method_from_name(msg->method);
    params = lsp__get(root, "params");
    if (cJSON_IsNull(params))
        params = NULL; /* Neovim sends "params": null for shutdown and exit */
    if (params != NULL && !cJSON_IsObject(params) && !cJSON_IsArray(params)) {
        rc = LSP_EPARAMS; /* JSON-RPC: params is structured when present */
        goto done;
    }
    if (msg->m == LSP_M_INITIALIZE)
        rc = lsp__decode_initialize(params, &msg->init);
    else if (msg->m != LSP_M_UNKNOWN) {
        rc = lsp__decode_params(msg->m, params, &msg->p);
        if (rc == 0 && cJSON_IsString(lsp__get(params, "workDoneToken")))
            msg->p.work_done_token = lsp__str(lsp__get(params, "workDoneToken"), NULL);
    }
done:
    cJSON_Delete(root);
    return rc;
}

void lsp_msg_free(lsp_msg_t *msg)
{
    size_t i;
    lsp_params_t *p;
    if (msg == NULL)
        return;
    p = &msg->p;
    lsp__free(msg->id.str);
    lsp__free(msg->method);
    cJSON_Delete(msg->result);
    lsp__free(msg->init.root_uri);
    lsp__folders_free(msg->init.folders, msg->init.n_folders);
    lsp__free(p->uri);
    lsp__free(p->text);
    for (i = 0; i < p->n_changes; i++)
        lsp__free(p->changes[i].text);
    lsp__free(p->changes);
    for (i = 0; i < p->n_only; i++)
        lsp__free(p->only[i]);
    lsp__free(p->only);
    lsp__free(p->command);
    lsp__free(p->arg_uri);
    for (i = 0; i < p->n_events; i++)
        lsp__free(p->events[i].uri);
    lsp__free(p->events);
    lsp__folders_free(p->added, p->n_added);
    lsp__folders_free(p->removed, p->n_removed);
    lsp__free(p->cancel_id.str);
    lsp__free(p->work_done_token);
    memset(msg, 0, sizeof *msg);
}

int lsp_result_applied(const lsp_msg_t *msg, bool *applied)
{
    const cJSON *j = lsp__get(msg->result, "applied");
    if (!cJSON_IsBool(j))
        return LSP_EPARAMS;
    *applied = cJSON_IsTrue(j);
    return 0;
}

int lsp_result_settings(const lsp_msg_t *msg, size_t i, lsp_settings_t *out)
{
    const cJSON *item;
    if (!cJSON_IsArray((const cJSON *)msg->result) || i >= (size_t)cJSON_GetArraySize(msg->result))
        return LSP_EPARAMS;
    item = cJSON_GetArrayItem(msg->result, (int)i);
    lsp__read_settings(item, out);
    return 0;
}
