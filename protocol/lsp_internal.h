/* Private helpers shared by the protocol module's files: the allocation hook and JSON glue. */
#ifndef UNASYNC_LSP_INTERNAL_H
#define UNASYNC_LSP_INTERNAL_H

#include <stddef.h>

#include "lsp.h"

void *lsp__malloc(size_t n);
void *lsp__realloc(void *p, size_t old, size_t n);
void lsp__free(void *p);
char *lsp__strndup(const char *s, size_t n);

#endif
