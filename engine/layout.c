/* layout.c - where this unasync finds its own data (the runtime's headers, rule maps, lint pages):
 * beside its executable in the installed layout, or, for a binary in its build tree, where the
 * build's unasync-uninstalled.txt says. No build path is compiled in. */
#include "engine.h"

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The install layout relative to the prefix, from meson (engine/meson.build). */
#ifndef UE_BIN_TO_PREFIX
#define UE_BIN_TO_PREFIX ".."
#endif
#ifndef UE_DATADIR
#define UE_DATADIR "share"
#endif
#ifndef UE_INCLUDEDIR
#define UE_INCLUDEDIR "include"
#endif

static char includedir[PATH_MAX], mapdir[PATH_MAX], docdir[PATH_MAX];
static ue_layout layout;
static pthread_once_t layout_once = PTHREAD_ONCE_INIT;

/* snprintf into a PATH_MAX buffer; 0 (and an empty string) when it does not fit. */
static int pathf(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, PATH_MAX, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= PATH_MAX) {
        out[0] = '\0';
        return 0;
    }
    return 1;
}

static int exists(const char *path)
{
    return access(path, R_OK) == 0;
}

/* "a/b/.." and the like are left to the file system: the paths are only ever opened. A relative
 * install directory is taken from the prefix; an absolute one (configured outside the prefix)
 * as it is. */
static void under(char *out, const char *prefix, const char *dir, const char *tail)
{
    if (dir[0] == '/')
        pathf(out, "%s%s", dir, tail);
    else
        pathf(out, "%s/%s%s", prefix, dir, tail);
}

/* Reads `key=value` lines; unknown keys are ignored so older binaries read newer files. */
static int read_uninstalled(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    char line[PATH_MAX + 32];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *eq = strchr(line, '=');
        if (line[0] == '#' || !eq)
            continue;
        *eq = '\0';
        char *dst = strcmp(line, "includedir") == 0 ? includedir
                    : strcmp(line, "mapdir") == 0   ? mapdir
                    : strcmp(line, "docdir") == 0   ? docdir
                                                    : NULL;
        if (dst)
            pathf(dst, "%s", eq + 1);
    }
    fclose(f);
    return 1;
}

static void find_layout(void)
{
    char exe[PATH_MAX];
    if (!realpath("/proc/self/exe", exe))
        return;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return;
    *slash = '\0'; /* exe is now the folder of the executable */
    char prefix[PATH_MAX], probe[PATH_MAX];
    if (!(UE_BIN_TO_PREFIX[0] == '/' ? pathf(prefix, "%s", UE_BIN_TO_PREFIX)
                                     : pathf(prefix, "%s/%s", exe, UE_BIN_TO_PREFIX)))
        return;
    under(probe, prefix, UE_DATADIR, "/unasync/maps/unasync-runtime.json");
    if (probe[0] && exists(probe)) {
        under(mapdir, prefix, UE_DATADIR, "/unasync/maps");
        under(docdir, prefix, UE_DATADIR, "/doc/unasync/lint");
        under(includedir, prefix, UE_INCLUDEDIR, "");
        layout.installed = 1;
    } else {
        /* a build tree: the file sits at the build root, the binary in a folder below it */
        for (int up = 0; up <= 2; up++) {
            if (pathf(probe, "%s/unasync-uninstalled.txt", exe) && read_uninstalled(probe))
                break;
            char *s = strrchr(exe, '/');
            if (!s || s == exe)
                break;
            *s = '\0';
        }
    }
    layout.includedir = includedir[0] ? includedir : NULL;
    layout.mapdir = mapdir[0] ? mapdir : NULL;
    layout.docdir = docdir[0] ? docdir : NULL;
}

const ue_layout *ue_layout_get(void)
{
    pthread_once(&layout_once, find_layout);
    return &layout;
}
