/* maps.c - finds the rule maps a configuration names ("maps") and puts them in force: a path in
 * the project, or a name looked up in $UNASYNC_MAP_PATH, through pkg-config, then beside this
 * unasync. */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* A map is a small JSON file; anything larger is not one. */
#define UE_MAP_MAX (1u << 20)

static int is_regular(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* `pkg-config --variable=unasync_map NAME`: the map file a package's .pc names, in `out`
 * (capacity PATH_MAX). 1 when it names an existing file, 0 otherwise (no pkg-config, no such
 * package, no variable). `name` was validated by the configuration parser: it cannot start with
 * '-', so it is never taken for an option. */
static int from_pkg_config(const char *name, char *out)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return 0;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    char *argv[] = {"pkg-config", "--variable=unasync_map", (char *)name, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, "pkg-config", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    size_t n = 0;
    if (rc == 0) {
        ssize_t r;
        while (n < PATH_MAX - 1 &&
               ((r = read(fds[0], out + n, PATH_MAX - 1 - n)) > 0 || (r < 0 && errno == EINTR)))
            n += r > 0 ? (size_t)r : 0;
    }
    close(fds[0]);
    int status = 1;
    if (rc == 0)
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    out[n] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    return rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 && out[0] == '/' &&
           is_regular(out);
}

int ue_find_map(const char *name, char **path)
{
    char buf[PATH_MAX];
    *path = NULL;
    const char *env = getenv("UNASYNC_MAP_PATH");
    for (const char *d = env ? env : ""; *d;) {
        size_t n = strcspn(d, ":");
        if (n && snprintf(buf, sizeof buf, "%.*s/%s.json", (int)n, d, name) < (int)sizeof buf &&
            is_regular(buf))
            goto found;
        d += n + (d[n] == ':');
    }
    if (from_pkg_config(name, buf))
        goto found;
    const ue_layout *l = ue_layout_get();
    if (l->mapdir && snprintf(buf, sizeof buf, "%s/%s.json", l->mapdir, name) < (int)sizeof buf &&
        is_regular(buf))
        goto found;
    return -ENOENT;
found:
    return (*path = ua_strdup(buf)) ? 0 : UA_ENOMEM;
}

/* Reads one map for `ref` into *map; a missing or unreadable map is a finding at the ref. */
static int load_one(const ue_project *p, const ua_map_ref *ref, ua_map **map, ua_findings *f)
{
    char *path = NULL, *display = NULL, *bytes = NULL;
    size_t len = 0;
    int rc, is_path = ua_map_ref_is_path(ref->name);
    *map = NULL;
    if (is_path) {
        /* inside the project: the parser refused absolute paths and '..', and the file must
         * still lie inside once links are resolved */
        char *rel = NULL;
        if (!(path = ue_abs(p, ref->name)))
            return UA_ENOMEM;
        rc = ue_rel(p, path, &rel);
        if (rc == UA_ENOMEM) {
            ua_free(path);
            return rc;
        }
        if (rc == UE_EOUTSIDE) {
            rc = ua_findings_add(f, UE_CONFIG_NAME, ref->line, ref->col, UA_ERROR, "UA300",
                                 "maps: '%s' leads outside the project", ref->name);
            goto fail_config;
        }
        ua_free(rel);
        display = ua_strdup(ref->name);
    } else {
        rc = ue_find_map(ref->name, &path);
        if (rc == -ENOENT) {
            const ue_layout *l = ue_layout_get();
            rc = ua_findings_add(f, UE_CONFIG_NAME, ref->line, ref->col, UA_ERROR, "UA300",
                                 "maps: no rule map named '%s' (looked for %s.json in "
                                 "$UNASYNC_MAP_PATH, for the variable unasync_map in "
                                 "`pkg-config %s` (set PKG_CONFIG_PATH), and in %s)",
                                 ref->name, ref->name, ref->name,
                                 l->mapdir ? l->mapdir : "this unasync's share/unasync/maps");
            goto fail_config;
        }
        if (rc)
            return rc;
        display = ua_strdup(path);
    }
    if (!display) {
        ua_free(path);
        return UA_ENOMEM;
    }
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > UE_MAP_MAX) {
        rc = ua_findings_add(f, display, 1, 1, UA_ERROR, "UA300",
                             "rule map: larger than %u bytes; not a rule map", UE_MAP_MAX);
        goto fail_config;
    }
    /* a path is resolved and checked against the root again as it is opened */
    rc = is_path ? ue_read_in(p, ref->name, &bytes, &len) : ue_read_file(path, &bytes, &len);
    if (rc == UA_ENOMEM)
        goto fail;
    if (rc) {
        rc = ua_findings_add(f, UE_CONFIG_NAME, ref->line, ref->col, UA_ERROR, "UA300",
                             "maps: cannot read '%s': %s", display, ue_strerror(rc));
        goto fail_config;
    }
    rc = ua_map_parse(bytes, len, display, map, f);
    if (rc)
        goto fail;
    if (!is_path && strcmp((*map)->name, ref->name) != 0) {
        rc = ua_findings_add(f, display, 1, 1, UA_ERROR, "UA300",
                             "rule map: it calls itself '%s', but was found as '%s'",
                             (*map)->name, ref->name);
        ua_map_free(*map);
        *map = NULL;
        goto fail_config;
    }
    rc = 0;
    goto fail;
fail_config:
    if (rc == 0)
        rc = UA_ECONFIG;
fail:
    ua_free(bytes);
    ua_free(path);
    ua_free(display);
    return rc;
}

int ue_load_maps(ue_project *p, ua_findings *f)
{
    int result = 0;
    for (size_t i = 0; i < p->cfg->nmap_refs; i++) {
        const ua_map_ref *ref = &p->cfg->map_refs[i];
        ua_map *map;
        int rc = load_one(p, ref, &map, f);
        if (rc == 0)
            rc = ua_config_add_map(p->cfg, map, ref, f);
        if (rc == UA_ENOMEM)
            return rc;
        if (rc)
            result = UA_ECONFIG; /* go on: every missing or conflicting map is reported */
    }
    return result;
}
