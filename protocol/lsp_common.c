/* The protocol module's error table, allocation hook and small shared helpers. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "lsp_internal.h"
#include "ua.h"

const char *lsp_strerror(int err)
{
    switch (err) {
#define LSP_ERRNO_CASE(name, val, msg)                                                             \
    case (val):                                                                                    \
        return (msg);
        LSP_ERRNO_MAP(LSP_ERRNO_CASE)
#undef LSP_ERRNO_CASE
    case 0:
        return "success";
    default:
        return "unknown error";
    }
}

int lsp_rpc_code_for(int err)
{
    switch (err) {
    case LSP_EPARSE:
        return LSP_RPC_PARSE_ERROR;
    case LSP_EINVALID:
    case LSP_EBADHEADER:
    case LSP_ETOOBIG:
        return LSP_RPC_INVALID_REQUEST;
    case LSP_EPARAMS:
        return LSP_RPC_INVALID_PARAMS;
    default:
        return LSP_RPC_INTERNAL_ERROR;
    }
}

/* The protocol allocates through the core stack's one hook (ua_set_allocator, transform/alloc.c),
 * cJSON included. cJSON keeps its hooks in globals, so they are set once, before main and any
 * thread, to functions that call the core hook each time: a hook set later applies to cJSON
 * too, and nothing is ever freed through another allocator than the one that made it. */
/* Set when cJSON's allocation failed: cJSON answers NULL for "no memory" and "not JSON" alike,
 * and only this tells them apart (lsp__json_oom_take). Per thread, like a parse. */
static _Thread_local int lsp__json_oom;

static void *lsp__json_malloc(size_t n)
{
    void *p = ua_malloc(n);
    if (p == NULL)
        lsp__json_oom = 1;
    return p;
}

int lsp__json_oom_take(void)
{
    int oom = lsp__json_oom;
    lsp__json_oom = 0;
    return oom;
}

static void lsp__json_free(void *p)
{
    ua_free(p);
}

__attribute__((constructor)) static void lsp__json_hooks(void)
{
    cJSON_Hooks hooks = {lsp__json_malloc, lsp__json_free};
    cJSON_InitHooks(&hooks);
}

void *lsp__malloc(size_t n)
{
    return ua_malloc(n);
}

void *lsp__realloc(void *p, size_t n)
{
    return ua_realloc(p, n);
}

void lsp__free(void *p)
{
    ua_free(p);
}

char *lsp__strndup(const char *s, size_t n)
{
    char *d = lsp__malloc(n + 1);
    if (d == NULL)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}
