/* files.c - the engine's file reads and project paths: the input rules (regular files only,
 * without blocking, at most UE_MAX_FILE), paths made canonical and checked against the project
 * root, and the engine's error texts. */
#include "engine_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *ue__join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = ua_malloc(la + lb + 2);
    if (!p)
        return NULL;
    memcpy(p, a, la);
    p[la] = '/';
    memcpy(p + la + 1, b, lb + 1);
    return p;
}

const char *ue_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
#define UE_ERR_CASE(name, value, text)                                                             \
    case value:                                                                                    \
        return text;
        UE_ERRNO_MAP(UE_ERR_CASE)
#undef UE_ERR_CASE
    case -EISDIR:
        return "is a folder";
    case -EFBIG:
        return "larger than the " UE_MAX_FILE_TEXT " limit";
    }
    if (err < 0 && err > -4096) {
        const char *text = strerrordesc_np(-err); /* static text, no hidden state (glibc) */
        return text ? text : "unknown error";
    }
    return ua_strerror(err);
}

/* Reads from an open descriptor of a regular file, at most UE_MAX_FILE bytes. */
static int read_fd(int fd, char **bytes, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (S_ISDIR(st.st_mode))
        return -EISDIR;
    if (!S_ISREG(st.st_mode))
        return UE_ENOTREG;
    if (st.st_size > UE_MAX_FILE)
        return -EFBIG;
    size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096, n = 0;
    char *b = ua_malloc(cap);
    if (!b)
        return UA_ENOMEM;
    for (;;) {
        /* Full at the size fstat gave: a small read tells the end of the file from a file that
         * grew, so that an exact-size buffer is not doubled (and copied) only to see EOF. */
        char probe[512];
        int full = n + 1 >= cap;
        ssize_t r = full ? read(fd, probe, sizeof probe) : read(fd, b + n, cap - n - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = -errno;
            ua_free(b);
            return e;
        }
        if (r == 0)
            break;
        if (n + (size_t)r > UE_MAX_FILE) { /* it grew while we read */
            ua_free(b);
            return -EFBIG;
        }
        if (full) {
            char *nb = ua_realloc(b, cap * 2);
            if (!nb) {
                ua_free(b);
                return UA_ENOMEM;
            }
            b = nb;
            cap *= 2;
            memcpy(b + n, probe, (size_t)r);
        }
        n += (size_t)r;
    }
    b[n] = '\0';
    *bytes = b;
    *len = n;
    return 0;
}

/* Opens without blocking (a FIFO would wait for a writer) and, with `nofollow`, refuses a
 * symbolic link as the last component. */
int ue__read_path(const char *path, int nofollow, char **bytes, size_t *len)
{
    *bytes = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (nofollow ? O_NOFOLLOW : 0));
    if (fd < 0)
        return errno == ELOOP && nofollow ? UE_ELINKOUT : -errno;
    int rc = read_fd(fd, bytes, len);
    close(fd);
    return rc;
}

int ue_read_file(const char *path, char **bytes, size_t *len)
{
    return ue__read_path(path, 0, bytes, len);
}

/* Whether absolute `path` (already canonical) lies inside root. */
int ue__inside(const char *root, const char *path)
{
    size_t n = strlen(root);
    return strncmp(root, path, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

char *ue_abs(const ue_project *p, const char *rel)
{
    return ue__join(p->root, rel);
}

int ue_rel(const ue_project *p, const char *path, char **out)
{
    char real[PATH_MAX];
    char *tmp = NULL;
    *out = NULL;
    if (!realpath(path, real)) {
        /* a file that does not exist yet: resolve its folder */
        char *copy = ua_strdup(path);
        if (!copy)
            return UA_ENOMEM;
        char *slash = strrchr(copy, '/');
        const char *name = slash ? slash + 1 : copy;
        if (slash)
            *slash = '\0';
        char dirreal[PATH_MAX];
        if (!realpath(slash ? (*copy ? copy : "/") : ".", dirreal) || !*name ||
            strcmp(name, "..") == 0 || strcmp(name, ".") == 0) {
            ua_free(copy);
            return UE_EOUTSIDE;
        }
        tmp = ue__join(dirreal, name);
        ua_free(copy);
        if (!tmp)
            return UA_ENOMEM;
        snprintf(real, sizeof real, "%s", tmp);
        ua_free(tmp);
    }
    if (!ue__inside(p->root, real))
        return UE_EOUTSIDE;
    size_t n = strlen(p->root);
    if (strcmp(p->root, "/") == 0)
        n = 0;
    *out = ua_strdup(real[n] == '/' ? real + n + 1 : real + n);
    return *out ? 0 : UA_ENOMEM;
}

int ue_read_in(const ue_project *p, const char *rel, char **bytes, size_t *len)
{
    *bytes = NULL;
    *len = 0;
    char *abs = ue_abs(p, rel);
    if (!abs)
        return UA_ENOMEM;
    char real[PATH_MAX];
    struct stat st;
    int rc = 0;
    if (!realpath(abs, real)) /* a link that resolves to nothing (dangling, /dev/stdin's pipe) */
        rc = errno == ENOENT && lstat(abs, &st) == 0 && S_ISLNK(st.st_mode) ? UE_ELINKOUT : -errno;
    else if (!ue__inside(p->root, real))
        rc = UE_ELINKOUT;
    ua_free(abs);
    return rc ? rc : ue__read_path(real, 1, bytes, len);
}
