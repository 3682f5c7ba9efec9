#!/bin/sh
# `meson dist` on a clone of this repository's HEAD: refuses while an async source was changed
# and committed without regenerating its twin (naming the stale twin), succeeds once it is in step.
# Usage: test_dist.sh SOURCE_ROOT UNASYNC
set -eu
src=$1
export UNASYNC=$2
for tool in git meson ninja; do
    command -v "$tool" >/dev/null 2>&1 || { echo "$tool not found: install it (scripts/setup.sh does)"; exit 1; }
done
git -C "$src" rev-parse --git-dir >/dev/null 2>&1 ||
    { echo "$src is not a git checkout: the dist test clones its HEAD"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git clone -q "$src" "$tmp/repo"
cd "$tmp/repo"
git config user.name "dist test"
git config user.email "dist-test@localhost"
# tests off: only the dist script matters here, and configure is faster.
meson setup -Dtests=false "$tmp/build" > "$tmp/setup.log" 2>&1 || { cat "$tmp/setup.log"; exit 1; }

# 1. In step: meson dist makes the tarball.
if ! meson dist -C "$tmp/build" --no-tests --formats gztar > "$tmp/dist1.log" 2>&1; then
    cat "$tmp/dist1.log"
    echo "FAIL: meson dist refused a clean HEAD"
    exit 1
fi
ls "$tmp/build/meson-dist/"*.tar.gz >/dev/null || { echo "FAIL: no tarball"; exit 1; }
rm -f "$tmp/build/meson-dist/"*

# 2. An async source changed and committed without `unasync --write`: no tarball.
source=tests/runtime/test_tasks.c
[ -f "$source" ] || { echo "FAIL: $source is gone; pick another async source here"; exit 1; }
printf '\n/* changed without regenerating sync_test_tasks.c */\n' >> "$source"
git commit -q -am "change an async source, not its twin"
if meson dist -C "$tmp/build" --no-tests --formats gztar > "$tmp/dist2.log" 2>&1; then
    cat "$tmp/dist2.log"
    echo "FAIL: meson dist made a tarball with a stale twin"
    exit 1
fi
grep -q "tests/runtime/sync_test_tasks.c.*out of date.*\[UA202\]" "$tmp/dist2.log" ||
    { cat "$tmp/dist2.log"; echo "FAIL: the refusal does not name the stale twin"; exit 1; }
if ls "$tmp/build/meson-dist/"*.tar.gz >/dev/null 2>&1; then
    echo "FAIL: a tarball was left behind"
    exit 1
fi
grep "UA202" "$tmp/dist2.log"
echo "ok: meson dist refuses a stale twin and packs an in-step tree"
