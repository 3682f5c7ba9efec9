#!/usr/bin/env bash
# moved_prefix.sh - installs to a DESTDIR, moves the installed prefix to another folder and checks
# that the moved `unasync` still finds its own data relative to itself: the runtime and limiter
# headers for the lint (a forgotten await is UA001, never UA000 "headers not found") and the
# limiter's rule map, with no compile flags, no PKG_CONFIG_PATH and no UNASYNC_MAP_PATH.
source "$(dirname "$0")/lib.sh"

ua_workdir
ua_install
moved=$UA_WORK/elsewhere/opt/moved
mkdir -p "$(dirname "$moved")"
mv "$UA_ROOT" "$moved"
rm -rf "$UA_WORK/dest"
# The moved tree stands in for the DESTDIR + prefix: re-derive the paths under it.
UNASYNC_PREFIX="" ua_set_root "$moved"

# Only the moved tree's copy of <unasync/async.h> declares this: a lint that took the header from
# anywhere else (the source tree, a path compiled into the binary) cannot know it is async.
probe='UA_ASYNC int ua_moved_prefix_probe(void);'
header=$moved/include/unasync/async.h
[ -f "$header" ] || ua_fail "the install has no include/unasync/async.h"
sed -i "s|^#endif /\* UNASYNC_ASYNC_H \*/|$probe\n&|" "$header"
grep -qF "$probe" "$header" || ua_fail "could not add the probe to $header"

project=$UA_WORK/forgetful
mkdir -p "$project"
cat >"$project/unasync.json" <<'END'
{
  "sources": ["fetch.c"],
  "maps": ["unasync-limiter"],
  "rename": { "fetch": "sync_fetch" }
}
END
cat >"$project/fetch.c" <<'END'
/* Forgets three awaits: on the runtime, on the limiter and on the probe. */
#include <unasync/async.h>
#include <unasync/limiter/limiter.h>

async int fetch(rl_limiter_t *lim)
{
    async_sleep_ms(10);
    rl_limiter_is_available(lim);
    return ua_moved_prefix_probe();
}
END

cd "$project"
run() { env -u PKG_CONFIG_PATH -u UNASYNC_MAP_PATH -u CPATH -u C_INCLUDE_PATH "$UA_EXE" "$@"; }
ua_logged write run --write
grep -q '#include <unasync/limiter/sync_limiter.h>' sync_fetch.c ||
    ua_fail "the moved unasync did not apply the installed limiter map to sync_fetch.c"

set +e
run --check >"$UA_WORK/check.log" 2>&1
rc=$?
set -e
cat "$UA_WORK/check.log"
[ "$rc" -eq 1 ] || ua_fail "unasync --check exited $rc, expected 1 (lint errors)"
! grep -q 'UA000' "$UA_WORK/check.log" ||
    ua_fail "the moved unasync did not find the installed headers"
for line in 7 8 9; do
    grep -q "fetch.c:$line:.*UA001" "$UA_WORK/check.log" || ua_fail "no UA001 on fetch.c:$line"
done
echo "ok: the moved unasync lints with the moved headers and map"
