#!/bin/sh
# Builds the protocol fuzz target with clang's libFuzzer (ASan+UBSan) and runs it for a bounded
# time over the committed corpus. Fails saying so when clang or libFuzzer is missing. The
# protocol allocates through the core stack's hook, transform/alloc.c, which is built in too.
# Usage: run_fuzz.sh SOURCE_ROOT BUILD_DIR [SECONDS]
set -eu
src=$1 out=$2 secs=${3:-20}
clang=$(command -v clang-14 || command -v clang || true)
[ -n "$clang" ] || { echo "clang not found: install clang (scripts/setup.sh does)"; exit 1; }
mkdir -p "$out"
bin="$out/fuzz_protocol"
if ! "$clang" -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -I"$src/protocol" -I"$src/transform" \
    "$src/tests/protocol/fuzz_protocol.c" "$src"/protocol/lsp_*.c "$src/transform/alloc.c" \
    -lcjson -o "$bin" 2>"$out/fuzz_build.log"; then
    if grep -q -e 'libclang_rt.fuzzer' -e 'fsanitize=fuzzer' "$out/fuzz_build.log"; then
        cat "$out/fuzz_build.log"; echo "libFuzzer runtime missing: install libclang-rt-14-dev (scripts/setup.sh does)"; exit 1
    fi
    cat "$out/fuzz_build.log"; exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# new inputs go to the temp dir (first); the committed corpus is read-only input
"$bin" -max_total_time="$secs" -error_exitcode=1 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/" \
    "$work" "$src/tests/protocol/corpus"
