#!/usr/bin/env bash
# test_cli_alloc.sh - the unasync command survives the failure of each allocation in turn
# (UNASYNC_TEST_FAIL_ALLOC=N fails the Nth one through the core stack's hook, the CLI's own
# included): it says "out of memory" and exits 2, or the failure changed nothing (a run exactly
# like the plain one); never a crash, a sanitizer report, or a half-written twin.
# Usage: test_cli_alloc.sh UNASYNC
set -uo pipefail
unasync=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# A project with a twin missing, one stale, one in step and one orphaned (made once, copied).
make_template() { # DIR
    local f
    rm -rf "$1"
    mkdir -p "$1/src"
    printf '{ "sources": ["src/*.c"], "rename": { "app_*": "app_sync_*" } }\n' >"$1/unasync.json"
    for f in a b c; do
        printf '#include <unasync/async.h>\nasync int app_%s(void) { await async_sleep_ms(1); return 0; }\n' "$f" >"$1/src/$f.c"
    done
    (cd "$1" && "$unasync" --write -q 2>/dev/null)
    printf '#include <unasync/async.h>\nasync int app_b(void) { await async_sleep_ms(2); return 1; }\n' >"$1/src/b.c"
    rm "$1/src/sync_a.c"
    cp "$1/src/sync_c.c" "$1/src/sync_gone.c"
    sed -i 's/source=src\/c.c/source=src\/gone.c/' "$1/src/sync_gone.c"
}

make_template "$work/template"
make_project() { # DIR
    rm -rf "$1"
    cp -a "$work/template" "$1"
}

# one MODE ARGS...: every allocation of `unasync ARGS` fails once in turn
one() {
    local mode=$1
    shift
    make_project "$work/p"
    (cd "$work/p" && UNASYNC_TEST_FAIL_ALLOC=0 "$unasync" "$@" >"$work/plain.out" 2>"$work/plain.err")
    local plain_rc=$?
    local total
    total=$(sed -n 's/^unasync: test allocations: \([0-9]*\)$/\1/p' "$work/plain.err")
    [ -n "$total" ] && [ "$total" -gt 20 ] || { fail "$mode: no allocation count"; cat "$work/plain.err"; return; }
    cp "$work/p/src/sync_b.c" "$work/plain_twin" 2>/dev/null || true
    local n oom=0 same=0
    for ((n = 1; n <= total; n++)); do
        make_project "$work/p"
        cp "$work/p/src/sync_b.c" "$work/old_twin"
        (cd "$work/p" && UNASYNC_TEST_FAIL_ALLOC=$n timeout 60 "$unasync" "$@" >"$work/out" 2>"$work/err")
        local rc=$?
        if [ "$rc" -ge 124 ]; then fail "$mode: allocation $n: exit $rc (crash or hang)"; sed 's/^/  | /' "$work/err" | head; continue; fi
        if grep -qE 'runtime error:|AddressSanitizer|LeakSanitizer' "$work/err"; then
            fail "$mode: allocation $n: sanitizer report"; sed 's/^/  | /' "$work/err" | head -20; continue
        fi
        if [ "$rc" -eq 2 ] && grep -q "out of memory" "$work/err"; then
            oom=$((oom + 1))
        elif [ "$rc" -eq "$plain_rc" ] && cmp -s "$work/out" "$work/plain.out"; then
            same=$((same + 1))
        else
            fail "$mode: allocation $n: exit $rc, neither out of memory told nor the plain run"
            sed 's/^/  | /' "$work/out" "$work/err" | head -20
        fi
        # a twin on disk is its old bytes or all of the new ones
        if ! cmp -s "$work/p/src/sync_b.c" "$work/old_twin" && ! cmp -s "$work/p/src/sync_b.c" "$work/plain_twin"; then
            fail "$mode: allocation $n: src/sync_b.c is neither the old twin nor the new one"
        fi
        ls "$work/p/src" | grep -q '\.tmp' && fail "$mode: allocation $n: a temporary file was left"
    done
    echo "ok: $mode: failed each of $total allocations ($oom told out of memory, $same changed nothing)"
}

one check --check --no-lint -j1
one check-json --check --no-lint -j1 --format=json
one write --write --prune -j1
one print --print src/b.c
[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
