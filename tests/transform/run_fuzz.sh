#!/bin/sh
# Builds the configuration + transformer fuzz target with clang's libFuzzer (ASan+UBSan) and runs it
# for a bounded time over the committed corpus. Fails saying so without clang/libFuzzer.
# Usage: run_fuzz.sh SOURCE_ROOT BUILD_DIR SECONDS RUNTIME_MAP_C (the embedded runtime map that
# the build generates from runtime/unasync-runtime.json)
set -eu
src=$1 out=$2 secs=$3 runtime_map_c=$4
clang=$(command -v clang-14 || command -v clang || true)
[ -n "$clang" ] || { echo "clang not found: install clang (scripts/setup.sh does)"; exit 1; }
llvm_config=$(command -v llvm-config-14 || command -v llvm-config)
mkdir -p "$out"
bin="$out/fuzz_transform"
if ! "$clang" -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -I"$src/transform" -I"$("$llvm_config" --includedir)" \
    "$src/tests/transform/fuzz_transform.c" $(ls "$src"/transform/*.c | grep -v '/embed\.c$') \
    "$runtime_map_c" \
    -L"$("$llvm_config" --libdir)" -lclang -Wl,-rpath,"$("$llvm_config" --libdir)" \
    -o "$bin" 2>"$out/fuzz_build.log"; then
    if grep -q -e 'libclang_rt.fuzzer' -e 'fsanitize=fuzzer' "$out/fuzz_build.log"; then
        cat "$out/fuzz_build.log"; echo "libFuzzer runtime missing: install libclang-rt-14-dev (scripts/setup.sh does)"; exit 1
    fi
    cat "$out/fuzz_build.log"; exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# libclang keeps per-process caches that LeakSanitizer cannot see through: leaks are checked by
# the cmocka suites under ASan instead.
ASAN_OPTIONS=detect_leaks=0 "$bin" -max_total_time="$secs" -error_exitcode=1 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$out/" "$work" "$src/tests/transform/fuzz_corpus"
