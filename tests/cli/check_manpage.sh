#!/bin/sh
# Checks docs/unasync.1 against the CLI: every option `unasync --help` prints is in the man page's
# SYNOPSIS, DESCRIPTION or OPTIONS and vice versa, and groff renders the page without a warning.
# Usage: check_manpage.sh UNASYNC MANPAGE
set -eu
unasync=$1
page=$2
command -v groff >/dev/null 2>&1 ||
    { echo "groff not found: install groff-base (scripts/setup.sh does)"; exit 1; }
[ -f "$page" ] || { echo "$page: no such man page"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Options as words: --long and -x (a short option stands after a space, a comma or '[').
options() {
    grep -oE -- '--[a-z][a-z-]*|(^|[ ,[])-[a-z]\b' | sed 's/^[ ,[]//' | sort -u
}
"$unasync" --help > "$tmp/help" || { echo "unasync --help failed"; exit 1; }
options < "$tmp/help" > "$tmp/help.opts"
# The roff source up to EXIT STATUS, with \- as -: options are written \-\-name there.
sed -n '1,/^\.SH EXIT STATUS/p' "$page" | grep -v '^\.\\"' | sed 's/\\-/-/g' | options > "$tmp/man.opts"
[ -s "$tmp/help.opts" ] || { echo "no options found in unasync --help"; exit 1; }

rc=0
only_help=$(comm -23 "$tmp/help.opts" "$tmp/man.opts")
only_man=$(comm -13 "$tmp/help.opts" "$tmp/man.opts")
if [ -n "$only_help" ]; then
    echo "in unasync --help but not in $page:" $only_help
    rc=1
fi
if [ -n "$only_man" ]; then
    echo "in $page but not in unasync --help:" $only_man
    rc=1
fi

# groff -ww: every warning; -z: no output, only the diagnostics.
groff -man -Tutf8 -ww -z "$page" > "$tmp/groff.err" 2>&1 || { cat "$tmp/groff.err"; rc=1; }
if [ -s "$tmp/groff.err" ]; then
    echo "groff warns on $page:"
    cat "$tmp/groff.err"
    rc=1
fi
[ "$rc" -ne 0 ] || echo "$(wc -l < "$tmp/help.opts") options in step; $page renders cleanly"
exit "$rc"
