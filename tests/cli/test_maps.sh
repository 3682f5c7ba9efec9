#!/usr/bin/env bash
# test_maps.sh - rule maps end to end: a library publishes its map with --print-map, a consumer
# names it in "maps" (by path, by $UNASYNC_MAP_PATH, through pkg-config), and its twin then
# includes the library's sync headers and calls its sync API. Missing and conflicting maps are
# configuration errors with a location. Usage: test_maps.sh UNASYNC
set -uo pipefail
unasync=$1
command -v pkg-config >/dev/null || { echo "pkg-config not found: install pkg-config (scripts/setup.sh does)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# expect STATUS WHAT -- command...: runs it with output in $work/out and $work/err
expect() {
    local want=$1 what=$2
    shift 3
    "$@" >"$work/out" 2>"$work/err"
    local got=$?
    [ "$got" -eq "$want" ] || { fail "$what: exit $got, expected $want"; sed 's/^/  | /' "$work/out" "$work/err"; }
}
contains() { # FILE TEXT WHAT
    grep -qF -- "$2" "$1" || { fail "$3: '$2' not in $1"; sed 's/^/  | /' "$1"; }
}

# ---- the library: async sources of truth under include/, its twins, and its map ----
lib=$work/kvlib
mkdir -p "$lib/include/kv"
cat >"$lib/unasync.json" <<'JSON'
{
  "sources": ["include/kv/*.h"],
  "rename": { "kv_*": "kv_sync_*", "kv_t": "kv_sync_t" }
}
JSON
cat >"$lib/include/kv/kv.h" <<'C'
#ifndef KV_H
#define KV_H
#include <unasync/async.h>
typedef struct kv kv_t;
async int kv_get(kv_t *kv, int key, int *value);
#endif
C
(cd "$lib" && "$unasync" --write -q) || fail "library: --write"
expect 0 "print-map" -- sh -c "cd '$lib' && '$unasync' --print-map kvlib --include-dir include"
cp "$work/out" "$work/kvlib.json"
contains "$work/kvlib.json" '"name": "kvlib"' "print-map names the map"
contains "$work/kvlib.json" '"kv/kv.h": "kv/sync_kv.h"' "print-map spells headers from the include dir"
contains "$work/kvlib.json" '"kv_*": "kv_sync_*"' "print-map carries the rules"
expect 0 "print-map is deterministic" -- sh -c "cd '$lib' && '$unasync' --print-map kvlib --include-dir include | cmp - '$work/kvlib.json'"
expect 2 "print-map refuses a bad name" -- sh -c "cd '$lib' && '$unasync' --print-map -x"

# ---- a consumer that uses the library without copying a rule ----
app=$work/app
mkdir -p "$app/src"
consumer() { # $1: the "maps" list as JSON
    cat >"$app/unasync.json" <<JSON
{
  "sources": ["src/*.c"],
  "maps": $1
}
JSON
}
cat >"$app/src/client.c" <<'C'
#include <unasync/async.h>
#include <kv/kv.h>

async int lookup(kv_t *kv, int key)
{
    int v = 0;
    int rc = await kv_get(kv, key, &v);
    await async_sleep_ms(1);
    return rc ? rc : v;
}
C
twin_is_sync() { # WHAT
    local t=$app/src/sync_client.c
    contains "$t" '#include <kv/sync_kv.h>' "$1: the library's header is redirected"
    contains "$t" '#include <unasync/sync.h>' "$1: the runtime's header is redirected"
    contains "$t" 'kv_sync_get(kv, key, &v)' "$1: the library's call is renamed"
    contains "$t" 'kv_sync_t *kv' "$1: the library's type is renamed"
    contains "$t" 'sync_sleep_ms(1)' "$1: the runtime's call is renamed"
}

# by path inside the project
mkdir -p "$app/vendor"
cp "$work/kvlib.json" "$app/vendor/kvlib.json"
consumer '["vendor/kvlib.json"]'
expect 0 "map by path: --write" -- sh -c "cd '$app' && '$unasync' --write -q"
twin_is_sync "map by path"
expect 0 "map by path: --check" -- sh -c "cd '$app' && '$unasync' --check --no-lint -q"
rm -f "$app/src/sync_client.c"

# by name, from $UNASYNC_MAP_PATH
mkdir -p "$work/maps"
cp "$work/kvlib.json" "$work/maps/kvlib.json"
consumer '["kvlib"]'
expect 0 "map by name: --write" -- env UNASYNC_MAP_PATH="$work/nothing:$work/maps" sh -c "cd '$app' && '$unasync' --write -q"
twin_is_sync "map by UNASYNC_MAP_PATH"
rm -f "$app/src/sync_client.c"

# by name, through pkg-config's unasync_map variable
mkdir -p "$work/pc"
cat >"$work/pc/kvlib.pc" <<PC
prefix=$work
unasync_map=\${prefix}/maps/kvlib.json
Name: kvlib
Description: a test library
Version: 1.0
PC
expect 0 "map by pkg-config: --write" -- env PKG_CONFIG_PATH="$work/pc" UNASYNC_MAP_PATH= sh -c "cd '$app' && '$unasync' --write -q"
twin_is_sync "map by pkg-config"

# without the map the twin would call the async API: the map is what renames
consumer '[]'
expect 0 "no map: --write" -- sh -c "cd '$app' && '$unasync' --write -q"
contains "$app/src/sync_client.c" '#include <kv/kv.h>' "no map: the include stays"
contains "$app/src/sync_client.c" 'sync_sleep_ms(1)' "no map: the built-in runtime map still applies"

# two maps whose rules never meet stand together
sed -e 's/"name": "kvlib"/"name": "dblib"/' -e 's/kv_/db_/g' -e 's/kv\//db\//g' "$work/kvlib.json" >"$work/maps/dblib.json"
consumer '["kvlib", "dblib"]'
expect 0 "two maps: --write" -- env UNASYNC_MAP_PATH="$work/maps" sh -c "cd '$app' && '$unasync' --write -q"
twin_is_sync "two maps"

# a map that cannot be found: an error at its entry, nothing written
consumer '["kvlib", "nosuchlib"]'
rm -f "$app/src/sync_client.c"
expect 2 "missing map" -- env PKG_CONFIG_PATH="$work/pc" UNASYNC_MAP_PATH= sh -c "cd '$app' && '$unasync' --write"
contains "$work/out" "unasync.json:3:21: error: maps: no rule map named 'nosuchlib'" "missing map: located"
[ ! -e "$app/src/sync_client.c" ] || fail "missing map: a twin was written"

# two maps that rename one name differently
sed -e 's/"name": "kvlib"/"name": "kvother"/' -e 's/kv_sync_\*/kv_blocking_*/' "$work/kvlib.json" >"$work/maps/kvother.json"
consumer '["kvlib", "kvother"]'
expect 2 "conflicting maps" -- env UNASYNC_MAP_PATH="$work/maps" sh -c "cd '$app' && '$unasync' --check"
contains "$work/out" "unasync.json:3:21: error: maps: 'kvother'" "conflict: located at the second map"
contains "$work/out" "renames 'kv_x' by rule 'kv_*' -> 'kv_blocking_*', but 'kvlib'" "conflict: names both rules"

# a map that redirects a header differently from the runtime's
cat >"$work/maps/badrt.json" <<'JSON'
{ "unasync_map": 1, "name": "badrt", "headers": { "unasync/async.h": "other/sync.h" } }
JSON
consumer '["badrt"]'
expect 2 "header conflict with the runtime" -- env UNASYNC_MAP_PATH="$work/maps" sh -c "cd '$app' && '$unasync' --check"
contains "$work/out" "redirects <unasync/async.h> to <other/sync.h>, but 'unasync-runtime'" "header conflict: named"

# a broken map file is reported in the map itself
printf '{ "unasync_map": 1, "name": "broken", "rename": { "a*": "b" } }\n' >"$work/maps/broken.json"
consumer '["broken"]'
expect 2 "broken map" -- env UNASYNC_MAP_PATH="$work/maps" sh -c "cd '$app' && '$unasync' --check"
contains "$work/out" "broken.json:1:51: error: rename: 'a*' and its target must both have one '*' or neither [UA300]" "broken map: located in the map"

# a map file that calls itself by another name than it was found as
cp "$work/kvlib.json" "$work/maps/liar.json"
consumer '["liar"]'
expect 2 "misnamed map" -- env UNASYNC_MAP_PATH="$work/maps" sh -c "cd '$app' && '$unasync' --check"
contains "$work/out" "it calls itself 'kvlib', but was found as 'liar'" "misnamed map"

# entries that are neither names nor paths inside the project
consumer '["-rf", "../kvlib.json"]'
expect 2 "bad entries" -- sh -c "cd '$app' && '$unasync' --check"
contains "$work/out" "maps: '-rf' is neither a map's name" "option-like name refused"
contains "$work/out" "'..' is refused" "path outside refused"

# a map path through a link that leaves the project
ln -s "$work/maps" "$app/outside"
consumer '["outside/kvlib.json"]'
expect 2 "map through a link out" -- sh -c "cd '$app' && '$unasync' --check"
contains "$work/out" "maps: 'outside/kvlib.json' leads outside the project" "link out refused"

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "rule maps: all checks passed"
