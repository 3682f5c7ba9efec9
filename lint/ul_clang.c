/* ul_clang.c - loads libclang on first use and resolves the lint's clang_* functions (ul_clang.h). */
#define UL_CLANG_LOADER
#include "ul_clang.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef UL_CLANG_SONAME
#error "lint/meson.build passes UL_CLANG_SONAME (and UL_CLANG_SYSTEM_PATH)"
#endif

ul_clang_fns ul_cx;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_rc = -1;
/* what went wrong, for every later caller: the loader's own words, then our hint */
static char load_why[1024];

_Static_assert(sizeof(void *) == sizeof(void (*)(void)),
               "dlsym's object pointer must hold a function pointer (POSIX)");

/* dlopen() of one candidate; on failure, appends dlerror()'s text to load_why. */
static void *open_one(const char *lib)
{
    void *h = dlopen(lib, RTLD_LAZY | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        size_t used = strlen(load_why);
        snprintf(load_why + used, sizeof load_why - used, "%s%s", used ? "; " : "",
                 e ? e : lib);
    }
    return h;
}

static void load(void)
{
    const char *env = getenv("UNASYNC_LIBCLANG");
    void *h = NULL;
    if (env && *env) {
        h = open_one(env); /* asked for: nothing else is tried */
    } else {
        h = open_one(UL_CLANG_SONAME);
        if (!h && strcmp(UL_CLANG_SYSTEM_PATH, "") != 0)
            h = open_one(UL_CLANG_SYSTEM_PATH);
    }
    if (!h) {
        size_t used = strlen(load_why);
        snprintf(load_why + used, sizeof load_why - used,
                 " (install the libclang library %s, or name one in $UNASYNC_LIBCLANG; see docs/lint/UA000.md)",
                 UL_CLANG_SONAME);
        return;
    }
    ul_clang_fns t;
    memset(&t, 0, sizeof t);
#define UL_CLANG_RESOLVE(name)                                                                     \
    {                                                                                              \
        void *sym = dlsym(h, #name);                                                               \
        if (!sym) {                                                                                \
            snprintf(load_why, sizeof load_why, "%s has no %s (not the libclang %s)",             \
                     env && *env ? env : UL_CLANG_SONAME, #name, UL_CLANG_SONAME);                 \
            dlclose(h);                                                                            \
            return;                                                                                \
        }                                                                                          \
        memcpy(&t.name, &sym, sizeof sym);                                                         \
    }
    UL_CLANG_FUNCS(UL_CLANG_RESOLVE)
#undef UL_CLANG_RESOLVE
    ul_cx = t; /* kept loaded for the life of the process */
    load_rc = 0;
}

int ul_clang_load(const char **why)
{
    pthread_once(&load_once, load);
    if (why)
        *why = load_rc == 0 ? NULL : load_why;
    return load_rc;
}
