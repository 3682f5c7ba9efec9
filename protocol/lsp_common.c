/* The protocol module's error table, allocation hook and small shared helpers. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "lsp_internal.h"

static void *(*lsp__alloc_fn)(size_t) = malloc;
static void (*lsp__free_fn)(void *) = free;

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

void lsp_set_allocator(void *(*alloc)(size_t), void (*release)(void *))
{
    cJSON_Hooks hooks;
    lsp__alloc_fn = alloc ? alloc : malloc;
    lsp__free_fn = release ? release : free;
    hooks.malloc_fn = lsp__alloc_fn;
    hooks.free_fn = lsp__free_fn;
    cJSON_InitHooks(&hooks);
}

void *lsp__malloc(size_t n)
{
    return lsp__alloc_fn(n ? n : 1);
}

/* realloc through the hook: the hook has no realloc, so copy. old is the used size. */
void *lsp__realloc(void *p, size_t old, size_t n)
{
    void *q;
    if (lsp__alloc_fn == malloc)
        return realloc(p, n ? n : 1);
    q = lsp__alloc_fn(n ? n : 1);
    if (q == NULL)
        return NULL;
    if (p != NULL) {
        memcpy(q, p, old < n ? old : n);
        lsp__free_fn(p);
    }
    return q;
}

void lsp__free(void *p)
{
    if (p != NULL)
        lsp__free_fn(p);
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
