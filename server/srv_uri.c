/* file:// URIs <-> absolute paths, and the "is this path inside that folder" test. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ws.h"

static int srv__hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Resolves "." and ".." and repeated slashes of an absolute path in place. ".." at the root
 * stays at the root, as the kernel does. */
static void srv__normalize(char *p)
{
    char *out = p, *in = p;
    while (*in) {
        while (*in == '/')
            in++;
        if (*in == '\0')
            break;
        {
            char *seg = in;
            size_t n;
            while (*in && *in != '/')
                in++;
            n = (size_t)(in - seg);
            if (n == 1 && seg[0] == '.')
                continue;
            if (n == 2 && seg[0] == '.' && seg[1] == '.') {
                while (out > p && *--out != '/')
                    ;
                continue;
            }
            *out++ = '/';
            memmove(out, seg, n);
            out += n;
        }
    }
    if (out == p)
        *out++ = '/';
    *out = '\0';
}

/* The canonical form of normalised absolute `path` (taken over) in *out: a folder resolved
 * whole (a workspace folder reached through a link is its target), anything else with its
 * folder resolved and its own name kept (a twin that is a link stays the link, which writes
 * then refuse). A path whose folder does not exist stays as it is. */
static int srv__resolve(char *path, char **out)
{
    char buf[PATH_MAX], *slash, *res;
    struct stat st;
    *out = path;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (realpath(path, buf) == NULL)
            return 0;
        res = srv_strdup(buf);
    } else {
        slash = strrchr(path, '/');
        if (slash == NULL || slash == path || slash[1] == '\0')
            return 0;
        *slash = '\0';
        if (realpath(path, buf) == NULL) {
            *slash = '/';
            return 0;
        }
        *slash = '/';
        res = srv_malloc(strlen(buf) + strlen(slash) + 1);
        if (res != NULL)
            sprintf(res, "%s%s", strcmp(buf, "/") ? buf : "", slash);
    }
    srv_free(path);
    *out = res;
    return res != NULL ? 0 : SRV_ENOMEM;
}

int srv_uri_path(const char *uri, char **out)
{
    const char *s;
    char *path, *o;
    *out = NULL;
    if (strncmp(uri, "file://", 7) != 0)
        return 0;
    s = uri + 7;
    if (strncmp(s, "localhost/", 10) == 0)
        s += 9;
    if (*s != '/')
        return 0; /* a remote host or a relative path */
    path = srv_malloc(strlen(s) + 2);
    if (path == NULL)
        return SRV_ENOMEM;
    for (o = path; *s && *s != '?' && *s != '#'; s++) {
        if (*s == '%') {
            int hi = srv__hex(s[1]), lo = hi >= 0 ? srv__hex(s[2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                srv_free(path);
                return 0;
            }
            *o++ = (char)(hi * 16 + lo);
            s += 2;
        } else
            *o++ = *s;
    }
    *o = '\0';
    srv__normalize(path);
    return srv__resolve(path, out);
}

char *srv_uri_to_path(const char *uri)
{
    char *path;
    srv_uri_path(uri, &path);
    return path;
}

char *srv_path_to_uri(const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(path);
    char *uri = srv_malloc(7 + 3 * n + 1), *o;
    if (uri == NULL)
        return NULL;
    memcpy(uri, "file://", 7);
    o = uri + 7;
    for (; *path; path++) {
        unsigned char c = (unsigned char)*path;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("/-._~!$&'()*+,;=@", c) != NULL)
            *o++ = (char)c;
        else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return uri;
}

bool srv_path_under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    if (n == 1 && dir[0] == '/')
        return path[0] == '/';
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}
