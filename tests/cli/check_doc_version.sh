#!/bin/sh
# The release tag the docs name (pre-commit `rev:`, a wrap file's `revision`, `git clone --branch`)
# and the man page's version are 'v' + the meson project version, so they cannot drift apart.
# Usage: check_doc_version.sh VERSION SOURCE_ROOT
set -eu
version=$1
root=$2
tag=v$version
rc=0
found=0
for doc in docs/ci.md docs/install.md; do
    refs=$(grep -noE 'rev: v[0-9][0-9.]*|revision = v[0-9][0-9.]*|--branch v[0-9][0-9.]*' "$root/$doc" || true)
    [ -n "$refs" ] || { echo "$doc: names no release tag (rev: / revision = / --branch)"; rc=1; continue; }
    for ref in $(printf '%s\n' "$refs" | tr ' ' '_'); do
        found=$((found + 1))
        case $ref in
        *"$tag") ;;
        *) echo "$doc:${ref%%:*}: names ${ref##*[_=]} but the meson project version is $version (tag $tag)"; rc=1 ;;
        esac
    done
done
grep -q "^\.TH UNASYNC 1 .* \"unasync $version\"" "$root/docs/unasync.1" ||
    { echo "docs/unasync.1: .TH does not say \"unasync $version\""; rc=1; }
[ "$rc" -ne 0 ] || echo "$found tag references and the man page name $tag"
exit "$rc"
