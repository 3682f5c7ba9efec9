# lib.sh - what the install tests share (sourced, not run): a fresh `meson install --destdir` of
# the build tree under test, a throwaway redis-server, and running kvgate's async and sync
# binaries against the answer they must print.
# Environment (set by tests/install/meson.build): UNASYNC_SOURCE_ROOT, UNASYNC_BUILD_ROOT,
# UNASYNC_PREFIX, UNASYNC_BINDIR, UNASYNC_LIBDIR, UNASYNC_SANITIZE (b_sanitize of that build).
set -euo pipefail

# A sanitizer build installs instrumented libraries, and a program linking them must be built with
# the same sanitizers (the ASan runtime has to come first): the routes add these flags.
UA_SANITIZE=${UNASYNC_SANITIZE:-none}
UA_SAN_FLAGS=""
[ "$UA_SANITIZE" = none ] || UA_SAN_FLAGS="-fsanitize=$UA_SANITIZE -fno-omit-frame-pointer"

ua_fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# Fails, naming the tool, when one of the commands is not installed.
ua_need() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 ||
            ua_fail "$t is not installed; this test needs it (scripts/setup.sh installs it)"
    done
}

# Runs a command with its output in $UA_WORK/$1.log; on failure prints the log's end and fails.
ua_logged() {
    local log=$UA_WORK/$1.log
    shift
    "$@" >"$log" 2>&1 || { tail -60 "$log" >&2; ua_fail "$* failed"; }
}

UA_WORK=""
UA_REDIS_PID=""
ua_cleanup() {
    if [ -n "$UA_REDIS_PID" ]; then
        kill "$UA_REDIS_PID" 2>/dev/null || true
        wait "$UA_REDIS_PID" 2>/dev/null || true
    fi
    if [ -n "$UA_WORK" ]; then
        chmod -R u+w "$UA_WORK" 2>/dev/null || true
        rm -rf "$UA_WORK"
    fi
}
trap ua_cleanup EXIT

# A new temporary folder for the test, removed on exit.
ua_workdir() {
    UA_WORK=$(mktemp -d "${TMPDIR:-/tmp}/unasync-install.XXXXXX")
}

# The prefix-relative folder $1 (bindir, libdir: absolute when outside the prefix) under root $2.
ua_under() {
    case $1 in
    /*) echo "$2$1" ;;
    *) echo "$2$UNASYNC_PREFIX/$1" ;;
    esac
}

# Installs the build tree into $UA_WORK/dest and sets UA_ROOT (the installed prefix), UA_EXE,
# UA_LIB and UA_PC (the pkg-config folder).
ua_install() {
    local dest=$UA_WORK/dest
    ua_logged install meson install -C "$UNASYNC_BUILD_ROOT" --no-rebuild --destdir "$dest"
    ua_set_root "$dest"
}

# Points UA_ROOT, UA_EXE, UA_LIB, UA_PC at an installed tree whose root (the DESTDIR, or what
# replaces it after a move) is $1.
ua_set_root() {
    UA_ROOT=$1$UNASYNC_PREFIX
    UA_EXE=$(ua_under "$UNASYNC_BINDIR" "$1")/unasync
    UA_LIB=$(ua_under "$UNASYNC_LIBDIR" "$1")
    UA_PC=$UA_LIB/pkgconfig
    [ -x "$UA_EXE" ] || ua_fail "the install has no $UA_EXE"
}

# Starts redis-server on a unix socket in $UA_WORK (no TCP port) and sets UA_REDIS_URL.
ua_redis_start() {
    ua_need redis-server
    local sock=$UA_WORK/redis.sock i
    redis-server --port 0 --unixsocket "$sock" --unixsocketperm 700 --save '' \
        --appendonly no --dir "$UA_WORK" >"$UA_WORK/redis.log" 2>&1 &
    UA_REDIS_PID=$!
    for i in $(seq 100); do
        [ -S "$sock" ] && break
        kill -0 "$UA_REDIS_PID" 2>/dev/null ||
            { cat "$UA_WORK/redis.log" >&2; ua_fail "redis-server exited"; }
        sleep 0.05
    done
    [ -S "$sock" ] || ua_fail "redis-server did not open $sock"
    UA_REDIS_URL=unix://$sock
}

ua_redis_stop() {
    kill "$UA_REDIS_PID"
    wait "$UA_REDIS_PID" 2>/dev/null || true
    UA_REDIS_PID=""
}

# Copies the consumer project to $UA_WORK/kvgate (sets UA_PROJECT) and generates its twins with
# the installed unasync, then checks them. The source tree never holds a twin of it.
ua_project() {
    UA_PROJECT=$UA_WORK/kvgate
    mkdir -p "$UA_PROJECT"
    cp "$UNASYNC_SOURCE_ROOT"/tests/install/consumer/* "$UA_PROJECT"/
    (cd "$UA_PROJECT" && "$UA_EXE" --write) || ua_fail "unasync --write failed"
    local f
    for f in sync_gate.c sync_gate.h sync_kvgate.c; do
        [ -f "$UA_PROJECT/$f" ] || ua_fail "unasync --write did not write $f"
    done
    (cd "$UA_PROJECT" && "$UA_EXE" --check) || ua_fail "unasync --check fails on fresh twins"
    # The rule map, not copied rules or escape hatches, makes the twin use the limiter's sync API.
    ! grep -n 'UNASYNC_ASYNC\|rl_sync\|sync_limiter' "$UA_PROJECT"/{gate.c,gate.h,kvgate.c} ||
        ua_fail "the async sources must not spell out the sync API"
    grep -q '#include <unasync/limiter/sync_limiter.h>' "$UA_PROJECT/sync_gate.h" ||
        ua_fail "sync_gate.h does not include <unasync/limiter/sync_limiter.h>"
    grep -q 'rl_sync_limiter_acquire(' "$UA_PROJECT/sync_gate.c" ||
        ua_fail "sync_gate.c does not call rl_sync_limiter_acquire"
    ! grep -n '\brl_limiter_\|\brl_lease_\|\basync_' "$UA_PROJECT"/sync_*.[ch] ||
        ua_fail "a twin still calls the async API"
}

# What kvgate prints for backend $1 (memory or redis): the same for the async and the sync API.
ua_expected() {
    cat <<END
kvgate on $1
alpha: 8 writes, 5 granted, 3 denied, retry after 12001 ms, 5 stored
beta: 8 writes, 3 granted, 5 denied, retry after 20001 ms, 3 stored
END
}

# Fails showing what $1 printed ($2) beside what it should have for backend $3.
ua_fail_output() {
    ua_fail "$1 printed:"$'\n'"$2"$'\n'"expected:"$'\n'"$(ua_expected "$3")"
}

# Runs the async binary $1 and the sync binary $2 on the memory backend and on a fresh
# redis-server, comparing what they print with ua_expected.
ua_run_both() {
    local bin out
    ua_redis_start
    for bin in "$1" "$2"; do
        [ -x "$bin" ] || ua_fail "$bin was not built"
        out=$(LD_LIBRARY_PATH=$UA_LIB "$bin") || ua_fail "$bin (memory) exited $?: $out"
        [ "$out" = "$(ua_expected memory)" ] || ua_fail_output "$bin (memory)" "$out" memory
        out=$(LD_LIBRARY_PATH=$UA_LIB "$bin" "$UA_REDIS_URL") ||
            ua_fail "$bin (redis) exited $?: $out"
        [ "$out" = "$(ua_expected redis)" ] || ua_fail_output "$bin (redis)" "$out" redis
        echo "ok: $(basename "$bin") on memory and on redis"
    done
    ua_redis_stop
}
