#!/usr/bin/env bash
# check_exports.sh - an installed shared library exports exactly the functions and objects its
# installed headers declare: nothing internal leaks into users' symbol namespace, and nothing
# declared is missing at link time. Usage: check_exports.sh LIBRARY.so HEADER...
set -uo pipefail
lib=$1
shift
command -v nm >/dev/null || { echo "nm not found: install binutils"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBR]$/ { print $3 }' | sed 's/@.*//' | sort -u >"$work/exported"
# declared: identifiers followed by '(' at the start of a declaration, plus extern objects;
# comments are dropped first so prose that mentions a function does not count
for h in "$@"; do
    sed -e 's://.*$::' "$h" | perl -0pe 's:/\*.*?\*/::gs'
done >"$work/all.h"
grep -oE '\b[a-z][a-z0-9_]*[[:space:]]*\(' "$work/all.h" | sed 's/[[:space:]]*($//' | sort -u >"$work/called"
# keep only names that are exported or declared as functions (a word before them on its line)
grep -oE '^[^#(]*[[:space:]*]([a-z][a-z0-9_]*)[[:space:]]*\(' "$work/all.h" |
    grep -oE '[a-z][a-z0-9_]*[[:space:]]*\($' | sed 's/[[:space:]]*($//' | sort -u >"$work/declared"
grep -oE '^extern [^;(]*[[:space:]*]([a-z][a-z0-9_]*)[[:space:]]*(\[[^]]*\])?;' "$work/all.h" |
    sed -E 's/(\[[^]]*\])?;$//' | grep -oE '[a-z][a-z0-9_]*$' >>"$work/declared"
sort -u -o "$work/declared" "$work/declared"
extra=$(comm -23 "$work/exported" "$work/declared")
status=0
if [ -n "$extra" ]; then
    echo "$lib exports symbols that no installed header declares:"
    printf '  %s\n' $extra
    status=1
fi
# every declared function of the library's prefixes must be exported
prefixes=$(sed -E 's/^([a-z]+_).*/\1/' "$work/exported" | sort -u | tr '\n' '|' | sed 's/|$//')
missing=$(grep -E "^(${prefixes:-none})" "$work/declared" | comm -23 - "$work/exported")
if [ -n "$missing" ]; then
    echo "$lib lacks symbols that its installed headers declare:"
    printf '  %s\n' $missing
    status=1
fi
[ "$status" -eq 0 ] && echo "$(basename "$lib"): $(wc -l <"$work/exported") exported symbols, all declared in the installed headers"
exit $status
