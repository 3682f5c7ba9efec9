#!/usr/bin/env bash
# check_headers.sh - every installed header compiles on its own, included as a consumer spells it
# (<unasync/x.h>, <unasync/limiter/x.h>) and twice (include guard): as C under a strict
# -std=c11 -pedantic and as C++11, with an extern "C" block, and, except the *_uv.h adapters,
# without reading any libuv header. Also fails when a header under a root is not in the installed
# list (it would be missing from an install). Prints one line per header; exit 1 on any failure.
#
# Usage: check_headers.sh --cc CC... --cxx [CXX...] --uv-include DIR --root DIR... --header FILE...
set -u

mode='' cc=() cxx=() uv_include='' roots=() headers=()
for a in "$@"; do
    case $a in
    --cc | --cxx | --uv-include | --root | --header)
        mode=$a
        continue
        ;;
    esac
    case $mode in
    --cc) cc+=("$a") ;;
    --cxx) cxx+=("$a") ;;
    --uv-include) uv_include=$a ;;
    --root) roots+=("$(realpath "$a")") ;;
    --header) headers+=("$(realpath "$a")") ;;
    *)
        echo "check_headers: unexpected argument '$a'" >&2
        exit 2
        ;;
    esac
done

failed=0
fail() {
    echo "FAIL $*"
    failed=1
}

[ "${#cc[@]}" -gt 0 ] || {
    echo "check_headers: no C compiler given (--cc)" >&2
    exit 2
}
if [ "${#cxx[@]}" -eq 0 ]; then
    fail "no C++ compiler found (install g++ or clang++): the headers' C++ use is not checked"
fi
[ "${#headers[@]}" -gt 0 ] || fail "no headers given (--header)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
inc=()
for r in "${roots[@]}"; do
    inc+=("-I$r")
done

# The spelling of header $1 relative to the root holding it (empty when none does).
spelling() {
    local r
    for r in "${roots[@]}"; do
        case $1 in
        "$r"/*)
            echo "${1#"$r"/}"
            return
            ;;
        esac
    done
}

for h in "${headers[@]}"; do
    s=$(spelling "$h")
    if [ -z "$s" ]; then
        fail "$h: not under any include root (${roots[*]})"
        continue
    fi
    printf '#include <%s>\n#include <%s>\n' "$s" "$s" >"$work/tu.c"
    cp "$work/tu.c" "$work/tu.cpp"
    extra=()
    case $s in
    *_uv.h) # <uv.h> itself needs POSIX under a strict C11
        extra=(-D_POSIX_C_SOURCE=200809L)
        [ -n "$uv_include" ] && extra+=("-I$uv_include")
        ;;
    esac
    ok=1
    if ! out=$("${cc[@]}" -std=c11 -pedantic -Wall -Wextra -Werror -fsyntax-only "${inc[@]}" \
        "${extra[@]}" "$work/tu.c" 2>&1); then
        fail "$s: C (-std=c11 -pedantic -Werror):"
        printf '%s\n' "$out"
        ok=0
    fi
    if [ "${#cxx[@]}" -gt 0 ] && ! out=$("${cxx[@]}" -std=c++11 -Wall -Wextra -Werror \
        -fsyntax-only "${inc[@]}" "${extra[@]}" "$work/tu.cpp" 2>&1); then
        fail "$s: C++ (-std=c++11 -Werror):"
        printf '%s\n' "$out"
        ok=0
    fi
    if ! grep -q 'extern "C"' "$h"; then
        fail "$s: no extern \"C\" block for C++ callers"
        ok=0
    fi
    case $s in
    *_uv.h) ;;
    *)
        # the files the preprocessor reads, one per line
        if ! deps=$("${cc[@]}" -std=c11 -M "${inc[@]}" "$work/tu.c" 2>&1); then
            fail "$s: cannot list its includes:"
            printf '%s\n' "$deps"
            ok=0
        elif uv=$(printf '%s\n' "$deps" | tr ' \\' '\n\n' | grep -E '(^|/)uv(\.h$|/)'); then
            fail "$s: reads libuv headers, which only the *_uv.h adapters may: $(echo $uv)"
            ok=0
        fi
        ;;
    esac
    [ "$ok" -eq 1 ] && echo "ok   <$s>: C11 -pedantic, C++11, extern \"C\"${extra:+, with <uv.h>}"
done

# A header in an include root that the build does not install would break consumers silently.
for r in "${roots[@]}"; do
    while IFS= read -r f; do
        listed=0
        for h in "${headers[@]}"; do
            [ "$h" = "$f" ] && listed=1
        done
        [ "$listed" -eq 1 ] || fail "$f: in include root $r but not installed"
    done < <(find "$r" -name '*.h' -type f | sort)
done

[ "$failed" -eq 0 ] || {
    echo "check_headers: some installed headers fail (see FAIL lines above)"
    exit 1
}
echo "check_headers: ${#headers[@]} installed headers compile on their own"
