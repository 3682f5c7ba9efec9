#!/usr/bin/env bash
# hostile_cli.sh - hostile projects against the real `unasync` (issue 15): each case builds a
# project in a temporary folder that tries to make the tool write or read outside it, hang,
# crash, race or misjudge a file, and checks that it does not. Every case runs under a time
# limit: a hang is a failure, not a stuck suite.
# Usage: hostile_cli.sh UNASYNC CASE
set -uo pipefail
unasync=$1
case_name=$2
work=$(mktemp -d)
trap 'chmod -R u+rwx "$work" 2>/dev/null; rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL [$case_name]: $*"; failures=$((failures + 1)); }
show() { sed 's/^/  | /' "$work/out" "$work/err" | head -40; }
# run LIMIT_S -- command...: output in $work/out and $work/err, status in $rc (124: timed out)
run() {
    local limit=$1
    shift 2
    timeout -k 5 "$limit" "$@" >"$work/out" 2>"$work/err"
    rc=$?
    cat "$work/out" "$work/err" >"$work/all"
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then fail "timed out after ${limit}s: $*"; show; fi
    if [ "$rc" -ge 128 ]; then fail "killed by signal $((rc - 128)): $*"; show; fi
    # sanitizer builds report and go on: a report is a failure
    if grep -qE 'runtime error:|AddressSanitizer|LeakSanitizer' "$work/err"; then fail "sanitizer report: $*"; show; fi
}
want_rc() { [ "$rc" -eq "$1" ] || { fail "$2: exit $rc, expected $1"; show; }; }
contains() { grep -qF -- "$2" "$1" || { fail "$3: '$2' not in $(basename "$1")"; show; }; }
lacks() { ! grep -qF -- "$2" "$1" || { fail "$3: '$2' found in $(basename "$1")"; show; }; }

# A project with one async source src/a.c and its twin written.
make_project() { # DIR
    mkdir -p "$1/src"
    printf '{ "sources": ["src/*.c"] }\n' >"$1/unasync.json"
    printf '#include <unasync/async.h>\nasync int a(void) { return 0; }\n' >"$1/src/a.c"
    (cd "$1" && "$unasync" --write -q 2>/dev/null) || true
}

case "$case_name" in
glob-start-link)
    # escape -> /outside: "escape/*.c" must not read (or --fix rewrite) files out there
    mkdir -p "$work/outside" "$work/p"
    printf 'async int secret_outside(void) { return 1; }\n' >"$work/outside/o.c"
    cp "$work/outside/o.c" "$work/o.before"
    ln -s "$work/outside" "$work/p/escape"
    printf '{ "sources": ["escape/*.c"] }\n' >"$work/p/unasync.json"
    cd "$work/p"
    run 60 -- "$unasync" --check --diff --no-lint
    lacks "$work/all" secret_outside "--check --diff printed an outside file"
    contains "$work/all" "symbolic link leading outside" "the skipped glob is a finding"
    run 60 -- "$unasync" --fix
    run 60 -- "$unasync" --write
    cmp -s "$work/outside/o.c" "$work/o.before" || fail "an outside file was rewritten"
    [ ! -e "$work/outside/sync_o.c" ] || fail "a twin was written outside the project"
    ;;
config-link)
    # unasync.json as a link: the project root stays where the link is
    make_project "$work/p"
    mkdir -p "$work/p/conf"
    mv "$work/p/unasync.json" "$work/p/conf/real.json"
    ln -s conf/real.json "$work/p/unasync.json"
    cd "$work/p"
    run 60 -- "$unasync" --check --no-lint
    want_rc 0 "a link to a configuration inside the project"
    # a link leading outside is refused: its sources would be the outside folder's
    mkdir -p "$work/other/src"
    printf '{ "sources": ["src/*.c"] }\n' >"$work/other/unasync.json"
    printf 'async int other_side(void) { return 0; }\n' >"$work/other/src/x.c"
    rm "$work/p/unasync.json"
    ln -s "$work/other/unasync.json" "$work/p/unasync.json"
    run 60 -- "$unasync" --write
    want_rc 2 "a link to a configuration outside"
    contains "$work/all" "symbolic link leading outside the project" "the refusal says why"
    [ ! -e "$work/other/src/sync_x.c" ] || fail "the root moved to the link target's folder"
    run 60 -- "$unasync" --check --no-lint --config "$work/p/unasync.json"
    want_rc 2 "--config naming the link"
    ;;
fifo-twin)
    make_project "$work/p"
    rm "$work/p/src/sync_a.c"
    mkfifo "$work/p/src/sync_a.c"
    mkfifo "$work/p/src/sync_b.c" # named like an orphan twin
    cd "$work/p"
    run 30 -- "$unasync" --check --no-lint
    want_rc 2 "--check with a FIFO as the twin"
    contains "$work/all" "sync_a.c" "the finding names the twin"
    contains "$work/all" "not a regular file" "the finding says why"
    run 30 -- "$unasync" --write
    want_rc 2 "--write with a FIFO as the twin (same exit as --check)"
    contains "$work/all" "sync_a.c" "--write names the twin"
    [ -p "$work/p/src/sync_a.c" ] || fail "--write replaced the FIFO"
    ;;
twin-link-out)
    make_project "$work/p"
    mkdir -p "$work/outside"
    printf 'outside_secret_bytes\n' >"$work/outside/f.c"
    rm "$work/p/src/sync_a.c"
    ln -s "$work/outside/f.c" "$work/p/src/sync_a.c"
    cd "$work/p"
    run 30 -- "$unasync" --check --diff --no-lint
    want_rc 2 "a twin linked outside"
    lacks "$work/all" outside_secret_bytes "--diff printed the outside file"
    contains "$work/all" "symbolic link leading outside" "the finding says why"
    rm "$work/p/src/sync_a.c"
    ln -s /dev/zero "$work/p/src/sync_a.c"
    run 30 -- "$unasync" --check --no-lint
    want_rc 2 "a twin linked to /dev/zero"
    rm "$work/p/src/sync_a.c"
    mkdir "$work/p/src/inner"
    printf 'x\n' > "$work/p/src/inner/t"
    ln -s inner/t "$work/p/src/sync_a.c" # a link that stays inside is still read
    run 30 -- "$unasync" --check --no-lint
    want_rc 1 "a twin linked inside is read (and is not ours)"
    contains "$work/all" "UA204" "the linked twin inside is judged"
    ;;
twin-folder-exit)
    # the same unreadable twin is exit 2 for --check and --write, and the finding names it
    make_project "$work/p"
    rm "$work/p/src/sync_a.c"
    mkdir "$work/p/src/sync_a.c"
    cd "$work/p"
    run 30 -- "$unasync" --check --no-lint
    want_rc 2 "--check, twin is a folder"
    contains "$work/all" "src/sync_a.c" "--check: the finding sits on the twin"
    run 30 -- "$unasync" --write
    want_rc 2 "--write, twin is a folder"
    contains "$work/all" "src/sync_a.c" "--write: the finding sits on the twin"
    ;;
deep-tree)
    # a "**" glob over a tree 1,900 levels deep (the path still under PATH_MAX)
    mkdir -p "$work/p"
    printf '{ "sources": ["**/*.c"] }\n' >"$work/p/unasync.json"
    d=$work/p
    rel=""
    for _ in $(seq 1 1900); do rel="${rel}d/"; done
    (cd "$work/p" && mkdir -p "$rel" && printf 'async int deep(void) { return 0; }\n' >"${rel}x.c")
    cd "$work/p"
    run 120 -- "$unasync" --check --no-lint
    want_rc 1 "--check over a deep tree (its path is too long for a header: UA100)"
    contains "$work/all" "d/d/x.c:1:1" "the deep source is found"
    ;;
glob-linear)
    # 15 "*a" against an 80-character name: exponential backtracking would never finish
    mkdir -p "$work/p"
    pat=$(printf '*a%.0s' $(seq 1 15))
    name=$(printf 'a%.0s' $(seq 1 79))b.c
    printf '{ "sources": ["%s*.c", "*.c"], "exclude": ["%sx"] }\n' "$pat" "$pat" >"$work/p/unasync.json"
    printf 'async int g(void) { return 0; }\n' >"$work/p/$name"
    cd "$work/p"
    run 20 -- "$unasync" --check --no-lint
    want_rc 1 "--check with a pathological glob"
    ;;
twin-pattern-linear)
    # 12 {stem} against a 60-character name
    mkdir -p "$work/p"
    pat=$(printf '{stem}%.0s' $(seq 1 12))
    printf '{ "sources": ["*.c"], "twin": "sync_%sq" }\n' "$pat" >"$work/p/unasync.json"
    printf 'async int g(void) { return 0; }\n' >"$work/p/$(printf 'a%.0s' $(seq 1 58)).c"
    cd "$work/p"
    run 20 -- "$unasync" --check --no-lint
    [ "$rc" -le 2 ] || fail "exit $rc"
    ;;
header-not-line1)
    # our words inside the first 1 KB of a hand-written file are not our header
    make_project "$work/p"
    printf '/* hand-written */\n/* Generated by unasync from a.c unasync:source=src/a.c */\nint mine;\n' >"$work/p/src/sync_a.c"
    cp "$work/p/src/sync_a.c" "$work/before"
    cd "$work/p"
    run 30 -- "$unasync" --write
    want_rc 1 "--write over a hand-written file"
    contains "$work/all" "UA204" "refused as not generated"
    cmp -s "$work/p/src/sync_a.c" "$work/before" || fail "the hand-written file was overwritten"
    # a header a formatter wrapped (still starting on line 1) stays ours: an edit
    printf '/* Generated by unasync from a.c\n   unasync:source=src/a.c body=sha256:00 */\nint x;\n' >"$work/p/src/sync_a.c"
    run 30 -- "$unasync" --check --no-lint
    contains "$work/all" "UA203" "a wrapped line-1 header is an edited twin"
    ;;
twin-self)
    # a twin pattern that can map a file onto itself or another source is a configuration error
    for pat in '{name}{ext}' '{stem}{ext}' '{name}' '{stem}.{ext}'; do
        rm -rf "$work/p"
        mkdir -p "$work/p"
        printf '{ "sources": ["*"], "twin": "%s" }\n' "$pat" >"$work/p/unasync.json"
        printf 'async int g(void) { return 0; }\n' >"$work/p/a"
        cp "$work/p/a" "$work/a.before"
        cd "$work/p"
        run 30 -- "$unasync" --write --force
        want_rc 2 "twin pattern '$pat'"
        contains "$work/all" "UA300" "twin pattern '$pat' is a configuration error"
        cmp -s "$work/p/a" "$work/a.before" || fail "twin pattern '$pat': the source was replaced"
        cd "$work"
    done
    ;;
long-twin-name)
    # a 250-byte source name gives a 255-byte twin name: the temporary name must fit NAME_MAX
    mkdir -p "$work/p"
    printf '{ "sources": ["*.c"] }\n' >"$work/p/unasync.json"
    name=$(printf 'n%.0s' $(seq 1 248)).c
    printf 'async int g(void) { return 0; }\n' >"$work/p/$name"
    cd "$work/p"
    run 30 -- "$unasync" --write
    want_rc 0 "--write of a 255-byte twin name"
    [ -f "$work/p/sync_$name" ] || fail "the twin was not written"
    [ -z "$(ls -A "$work/p" | grep unasync-)" ] || fail "a temporary file was left"
    ;;
no-sources)
    # no source at all (UBSan once saw bsearch over a NULL array here)
    mkdir -p "$work/p/src"
    printf '{ "sources": ["src/*.c"] }\n' >"$work/p/unasync.json"
    printf 'x\n' >"$work/p/src/sync_orphan.c"
    cd "$work/p"
    run 30 -- "$unasync" --check --no-lint
    [ "$rc" -le 1 ] || fail "exit $rc"
    contains "$work/all" "matches no file" "the empty project is told"
    ;;
jobs-determinism)
    # hundreds of sources including each other: -j1 and -j8 give identical twins
    mkdir -p "$work/p/src/sub"
    printf '{ "sources": ["src/**/*.c", "src/**/*.h"], "rename": { "m_*": "ms_*" } }\n' >"$work/p/unasync.json"
    for i in $(seq 1 300); do
        j=$(( (i % 300) + 1 ))
        printf '#ifndef H%d\n#define H%d\n#include <unasync/async.h>\nasync int m_%d(void);\n#endif\n' "$i" "$i" "$i" >"$work/p/src/sub/h$i.h"
        printf '#include "sub/h%d.h"\n#include "./sub/../sub/h%d.h"\n#include "sub/h%d.h"\nasync int m_%d(void) { return await m_%d(); }\n' "$i" "$j" "$i" "$i" "$j" >"$work/p/src/c$i.c"
    done
    cp -r "$work/p" "$work/q"
    (cd "$work/p" && timeout 300 "$unasync" --write -q -j1) || fail "-j1 --write"
    for round in 1 2 3; do
        rm -rf "$work/r"
        cp -r "$work/q" "$work/r"
        (cd "$work/r" && timeout 300 "$unasync" --write -q -j8) || fail "-j8 --write"
        diff -r "$work/p" "$work/r" >"$work/out" 2>&1 || { fail "round $round: -j8 differs from -j1"; head -20 "$work/out"; }
        (cd "$work/r" && timeout 300 "$unasync" --check -q --no-lint -j8) || fail "round $round: --check -j8 flaps"
    done
    grep -q '#include "sub/sync_h1.h"' "$work/p/src/sync_c1.c" || fail "includes of sources are redirected"
    ;;
flags-allowlist)
    # every option that makes clang write a file or print, through compile_flags and through
    # compile_commands.json: nothing appears on disk or on stdout, and one finding names them
    command -v python3 >/dev/null || { echo "python3 not found: install python3 (it checks the JSON output)"; exit 1; }
    T=$work/sink
    mkdir -p "$T"
    outs=(-MD -MF "$T/mf.d" -MMD -M -MM -MG -MP -MJ "$T/mj.json" "-Wp,-MD,$T/wp.d" "-Wp,-MMD,$T/wp2.d"
        -o "$T/out.o" --serialize-diagnostics "$T/diag.dia" -dependency-file "$T/dep.d"
        -dependency-dot "$T/dep.dot" -fmodules "-fmodules-cache-path=$T/mcache" -ftime-trace
        "-ftime-trace=$T/tt.json" -save-temps -save-temps=obj "-fcrash-diagnostics-dir=$T/crash"
        -v '-###' -E -fsave-optimization-record "-foptimization-record-file=$T/opt.yaml"
        "-fproc-stat-report=$T/stat" -gsplit-dwarf -fstack-usage -Xclang -ast-dump
        -Xclang -dependency-file -Xclang "$T/xc.d" -MF - -Xclang -fdump-record-layouts
        "-Wl,-Map=$T/map" -DKEEP_ME=1 -I.)
    json_list() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$@"; }
    for route in compile_flags compile_commands; do
        rm -rf "$work/p" "$T"
        mkdir -p "$T"
        make_project "$work/p"
        printf '#ifndef KEEP_ME
#error the allowed -D was dropped
#endif
' >>"$work/p/src/a.c"
        (cd "$work/p" && "$unasync" --write -q 2>/dev/null)
        if [ "$route" = compile_flags ]; then
            printf '{ "sources": ["src/*.c"], "compile_flags": %s }
' "$(json_list "${outs[@]}")" >"$work/p/unasync.json"
        else
            printf '{ "sources": ["src/*.c"], "compile_commands": "build" }
' >"$work/p/unasync.json"
            mkdir -p "$work/p/build"
            printf '[{ "directory": "%s", "file": "%s", "arguments": %s }]
' "$work/p" "$work/p/src/a.c" \
                "$(json_list cc "${outs[@]}" -c "$work/p/src/a.c")" >"$work/p/build/compile_commands.json"
        fi
        (cd "$work/p" && find . | sort) >"$work/before"
        cd "$work/p"
        run 120 -- "$unasync" --check --format=json
        cd "$work"
        (cd "$work/p" && find . | sort) >"$work/after"
        diff "$work/before" "$work/after" >/dev/null || { fail "$route: files appeared in the project"; diff "$work/before" "$work/after" | head; }
        [ -z "$(ls -A "$T")" ] || { fail "$route: files appeared in the sink folder"; ls -A "$T"; }
        python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/out" || { fail "$route: stdout is not one JSON document"; show; }
        lacks "$work/err" "search starts here" "$route: libclang printed its search path (-v)"
        lacks "$work/err" "clang version" "$route: libclang printed its version (-v, -###)"
        contains "$work/out" "compile flags dropped" "$route: one finding names the dropped flags"
        contains "$work/out" "-MJ" "$route: -MJ is named"
        contains "$work/out" "-fmodules-cache-path" "$route: -fmodules-cache-path is named"
        lacks "$work/out" "KEEP_ME" "$route: an allowed -D is not dropped"
        lacks "$work/out" "UA000\", \"message\": \"lint is limited" "$route: the parse still works"
        [ "$(grep -c 'compile flags dropped' "$work/out")" -eq 1 ] || fail "$route: more than one finding"
    done
    # each writer on its own too (together, some of them stop libclang before it would write)
    groups=("-MD -MF $T/a.d" "-MMD -MF $T/b.d" "-MJ $T/c.json" "-Wp,-MD,$T/d.d"
        "--serialize-diagnostics $T/e.dia" "-dependency-file $T/f.d -MT x" "-dependency-dot $T/g.dot"
        "-fmodules -fmodules-cache-path=$T/h" "-ftime-trace=$T/i.json" "-save-temps=obj -o $T/j.o"
        "-fcrash-diagnostics-dir=$T/k" "-MD -MF -")
    for route in compile_flags compile_commands; do
      for g in "${groups[@]}"; do
        rm -rf "$T"
        mkdir -p "$T"
        # shellcheck disable=SC2086 # the group is split into its flags on purpose
        if [ "$route" = compile_flags ]; then
            printf '{ "sources": ["src/*.c"], "compile_flags": %s }\n' "$(json_list $g)" >"$work/p/unasync.json"
        else
            printf '{ "sources": ["src/*.c"], "compile_commands": "build" }\n' >"$work/p/unasync.json"
            printf '[{ "directory": "%s", "file": "%s", "arguments": %s }]\n' "$work/p" "$work/p/src/a.c" \
                "$(json_list cc -DKEEP_ME $g -c "$work/p/src/a.c")" >"$work/p/build/compile_commands.json"
        fi
        cd "$work/p"
        run 60 -- "$unasync" --check --format=json
        cd "$work"
        [ -z "$(ls -A "$T")" ] || { fail "$route '$g': files appeared: $(ls -A "$T")"; }
        python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/out" || { fail "$route '$g': stdout is not one JSON document"; show; }
      done
    done
    ;;
deep-expression)
    # ~40,000 chained '+' terms at file scope and in a body (~240 KB of C): libclang recursed
    # past its 8 MiB thread; it now parses on a big stack, and a crash is a finding
    mkdir -p "$work/p/src"
    printf '{ "sources": ["src/*.c"] }\n' >"$work/p/unasync.json"
    terms=$(printf '1+%.0s' $(seq 1 40000))
    { printf '#include <unasync/async.h>\nstatic int big = %s1;\n' "$terms"
      printf 'static async int f(void) { return big + %s1; }\n' "$terms"; } >"$work/p/src/a.c"
    cd "$work/p"
    run 120 -- "$unasync" --check
    want_rc 1 "--check (lint on) of a deep expression: the twin is missing"
    contains "$work/all" "sync_a.c is missing" "the deep source is transformed"
    run 120 -- "$unasync" --write
    want_rc 0 "--write of a deep expression"
    run 120 -- "$unasync" --print src/a.c
    want_rc 0 "--print of a deep expression"
    run 120 -- "$unasync" --check
    want_rc 0 "--check after --write"
    # a stack too small for libclang: the lint's parse crashes and the crash is an error
    # finding, never a silent pass; the transformer lexes without recursion (transform/lex.c),
    # so the twin is still checked and in step (what the crashed parse had allocated is lost by
    # design: no leak report for this run)
    run 120 -- env UNASYNC_GUARD_STACK_KB=1024 ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$unasync" --check
    want_rc 1 "--check when libclang crashes"
    contains "$work/all" "error: lint is limited: libclang crashed" "the lint's parse crash is a UA000 error"
    contains "$work/all" "1 in sync" "the transformer needs no parse: the twin is still checked"
    run 120 -- env UNASYNC_GUARD_STACK_KB=1024 "$unasync" --check --no-lint
    want_rc 0 "--check --no-lint on a tiny stack: nothing recurses on the input"
    ;;
prune-link)
    # --write --prune deletes only through the engine's path checks: an orphan that is a
    # symbolic link (to a generated file inside or outside), or that lies in a folder leading
    # outside, is never deleted, neither the link nor what it points at; a plain orphan is
    make_project "$work/p"
    mkdir -p "$work/p/gen" "$work/outside"
    cd "$work/p"
    for n in z w y q; do printf 'static int %s(void) { return 0; }\n' "$n" >"src/$n.c"; done
    "$unasync" --write -q 2>/dev/null
    mv src/sync_z.c gen/sync_z.c && ln -s ../gen/sync_z.c src/sync_z.c
    mv src/sync_w.c "$work/outside/sync_w.c" && ln -s "$work/outside/sync_w.c" src/sync_w.c
    mkdir -p "$work/outside/dir" && mv src/sync_y.c "$work/outside/dir/sync_y.c"
    ln -s "$work/outside/dir" src/out
    rm src/z.c src/w.c src/y.c src/q.c
    run 60 -- "$unasync" --check --no-lint
    contains "$work/all" "src/sync_z.c:1:1: error: sync_z.c is orphaned" "a linked orphan is an orphan"
    contains "$work/all" "src/sync_q.c:1:1: error: sync_q.c is orphaned" "a plain orphan is an orphan"
    run 60 -- "$unasync" --write --prune
    want_rc 1 "--write --prune with a linked orphan"
    contains "$work/all" "src/sync_z.c:1:1: error: refusing to delete: the path leaves the project or is a symbolic link; not deleted [UA400]" "the linked orphan is refused"
    contains "$work/all" "deleted orphan src/sync_q.c" "the plain orphan is deleted"
    [ ! -e src/sync_q.c ] || fail "the plain orphan is still there"
    [ -L src/sync_z.c ] || fail "the link to an orphan was deleted"
    [ -f gen/sync_z.c ] || fail "a file was deleted through a link"
    [ -L src/sync_w.c ] && [ -f "$work/outside/sync_w.c" ] || fail "a link out, or its target, was deleted"
    [ -f "$work/outside/dir/sync_y.c" ] || fail "a file was deleted through a folder leading outside"
    ;;
*)
    echo "unknown case $case_name"
    exit 1
    ;;
esac
[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok: $case_name"
