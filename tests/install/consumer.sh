#!/usr/bin/env bash
# consumer.sh ROUTE - builds the kvgate project (tests/install/consumer) outside this repository,
# as a user would, against a fresh `meson install --destdir` of the build tree, and runs its async
# and sync binaries on the memory backend and on a redis-server started here.
# ROUTE: make (pkg-config only), meson (installed tree), subproject (unasync as a meson
# subproject: builds unasync itself), cmake (pkg_check_modules + unasync's CMake package).
source "$(dirname "$0")/lib.sh"

route=${1:?usage: consumer.sh make|meson|subproject|cmake}
ua_need pkg-config
ua_workdir
ua_install
# As a user of the installed tree would have it: pkg-config finds the libraries and unasync finds
# the limiter's rule map through `pkg-config --variable=unasync_map` (moved_prefix.sh checks the
# tool's own share/ instead).
export PKG_CONFIG_PATH=$UA_PC
ua_project
build=$UA_WORK/build
meson_san=()
[ "$UA_SANITIZE" = none ] || meson_san=(-Db_sanitize="$UA_SANITIZE" -Db_lundef=false)

case $route in
make)
    ua_need make cc
    CFLAGS="-O2 -g $UA_SAN_FLAGS" LDFLAGS="$UA_SAN_FLAGS" ua_logged make make -C "$UA_PROJECT" -j2
    make -C "$UA_PROJECT" check UNASYNC="$UA_EXE" || ua_fail "make check failed on fresh twins"
    ua_run_both "$UA_PROJECT/kvgate" "$UA_PROJECT/sync_kvgate"
    ;;
meson)
    ua_need meson ninja
    PATH=$(dirname "$UA_EXE"):$PATH \
        ua_logged setup meson setup "$build" "$UA_PROJECT" "${meson_san[@]}"
    grep -q "Program unasync found: YES ($UA_EXE)" "$UA_WORK/setup.log" ||
        ua_fail "find_program('unasync') did not find $UA_EXE (see $UA_WORK/setup.log)"
    grep -q 'Run-time dependency unasync-limiter found: YES' "$UA_WORK/setup.log" ||
        ua_fail "dependency('unasync-limiter') did not come from pkg-config"
    ua_logged ninja ninja -C "$build" -j2
    meson test -C "$build" --print-errorlogs twins || ua_fail "meson test twins failed"
    ua_run_both "$build/kvgate" "$build/sync_kvgate"
    ;;
subproject)
    ua_need meson ninja
    mkdir -p "$UA_PROJECT/subprojects"
    ln -s "$UNASYNC_SOURCE_ROOT" "$UA_PROJECT/subprojects/unasync"
    # Without PKG_CONFIG_PATH to the install, both dependencies and the program, and the map the
    # subproject's unasync uses, must come from the subproject (forced, in case some unasync is
    # installed on this machine).
    ua_logged setup env -u PKG_CONFIG_PATH meson setup "$build" "$UA_PROJECT" \
        --force-fallback-for=unasync-runtime,unasync-limiter "${meson_san[@]}"
    grep -q "Program unasync found: YES (overridden)" "$UA_WORK/setup.log" ||
        ua_fail "find_program('unasync') was not the subproject's (see $UA_WORK/setup.log)"
    grep -q 'Dependency unasync-limiter found: YES .* (overridden)' "$UA_WORK/setup.log" ||
        ua_fail "dependency('unasync-limiter') was not the subproject's"
    ua_logged ninja ninja -C "$build" -j2
    # default_options in kvgate's dependency() calls: unasync's own tests and benchmarks are off.
    [ ! -e "$build/subprojects/unasync/tests" ] && [ ! -e "$build/subprojects/unasync/bench" ] ||
        ua_fail "the subproject built unasync's tests or benchmarks"
    env -u PKG_CONFIG_PATH meson test -C "$build" --print-errorlogs twins ||
        ua_fail "meson test twins (the subproject's unasync) failed"
    ua_run_both "$build/kvgate" "$build/sync_kvgate"
    ;;
cmake)
    ua_need cmake
    ua_logged cmake cmake -S "$UA_PROJECT" -B "$build" -DCMAKE_PREFIX_PATH="$UA_ROOT" \
        -DCMAKE_C_FLAGS="$UA_SAN_FLAGS" -DCMAKE_EXE_LINKER_FLAGS="$UA_SAN_FLAGS"
    ua_logged build cmake --build "$build" -j2
    (cd "$build" && ctest --output-on-failure) || ua_fail "ctest failed on fresh twins"
    ua_run_both "$build/kvgate" "$build/sync_kvgate"
    # An async source edited without regenerating: unasync_add_check's test must now fail.
    echo '/* edited after the twins were generated */' >>"$UA_PROJECT/gate.c"
    if (cd "$build" && ctest --output-on-failure >"$UA_WORK/ctest-stale.log" 2>&1); then
        cat "$UA_WORK/ctest-stale.log" >&2
        ua_fail "ctest passed with a stale twin"
    fi
    grep -q 'sync_gate.c' "$UA_WORK/ctest-stale.log" ||
        { cat "$UA_WORK/ctest-stale.log" >&2; ua_fail "ctest failed without naming sync_gate.c"; }
    echo "ok: ctest fails once gate.c changed without regenerating sync_gate.c"
    ;;
*)
    ua_fail "unknown route $route"
    ;;
esac
echo "ok: the $route route"
