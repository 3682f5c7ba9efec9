#!/bin/sh
# The unasync executable does not link libclang (or libLLVM): a check without the lint and a
# --write never load it, and the lint loads it when it runs (lint/ul_clang.c). Checks the
# executable's NEEDED entries and what the dynamic loader actually opens in each mode.
# Usage: check_libclang_on_demand.sh UNASYNC
set -eu
unasync=$1
command -v readelf >/dev/null 2>&1 ||
    { echo "readelf not found: install binutils (scripts/setup.sh installs gcc, which has it)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if readelf -d "$unasync" | grep -E 'NEEDED.*(libclang|libLLVM)'; then
    echo "FAIL: $unasync links libclang; it must load it only when the lint runs"
    exit 1
fi
mkdir "$tmp/src"
printf '{"sources": ["src/*.c"]}\n' > "$tmp/unasync.json"
printf '#include <unasync/async.h>\nasync int f(void) { return await async_yield(); }\n' \
    > "$tmp/src/a.c"
# loaded: what LD_DEBUG=files says the loader opened for one run
loaded() {
    (cd "$tmp" && LD_DEBUG=files LD_DEBUG_OUTPUT="$tmp/ld" "$unasync" "$@" >/dev/null 2>&1) || true
    cat "$tmp"/ld.* 2>/dev/null | grep -E 'file=[^ ]*lib(clang|LLVM)' || true
    rm -f "$tmp"/ld.*
}
for mode in "--version" "--write -q" "--check --no-lint -q"; do
    # shellcheck disable=SC2086 # the mode is words
    got=$(loaded $mode)
    if [ -n "$got" ]; then
        echo "FAIL: unasync $mode loaded libclang:"
        echo "$got"
        exit 1
    fi
done
got=$(loaded --check -q)
if [ -z "$got" ]; then
    echo "FAIL: unasync --check (with the lint) did not load libclang"
    exit 1
fi
echo "ok: libclang is loaded only by the lint"
