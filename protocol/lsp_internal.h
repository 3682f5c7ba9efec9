/* Private helpers shared by the protocol module's files: allocation through the core stack's
 * hook (ua_set_allocator) and JSON glue. */
#ifndef UNASYNC_LSP_INTERNAL_H
#define UNASYNC_LSP_INTERNAL_H

#include <stddef.h>

#include "lsp.h"

void *lsp__malloc(size_t n);
void *lsp__realloc(void *p, size_t n);
void lsp__free(void *p);
char *lsp__strndup(const char *s, size_t n);
/* Whether a cJSON allocation failed since the last call (and forgets it): a NULL from cJSON is
 * then LSP_ENOMEM, not a parse error. */
int lsp__json_oom_take(void);

#endif
