#!/bin/sh
# Builds the .vsix: installs the npm dependencies when needed, copies the unasync.json schema from
# ../docs, bundles with esbuild and packages with @vscode/vsce.
#
# Usage: scripts/package.sh [OUT.vsix]    (default: dist/unasync-<version>.vsix)
# Env:   UNASYNC_SCHEMA  the schema to ship instead of ../docs/unasync.schema.json
# Exit 0 and the path of the .vsix on the last line of stdout; non-zero with a message otherwise.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
version=$(node -p 'require("./package.json").version')
out=${1:-$here/dist/unasync-$version.vsix}
case $out in /*) ;; *) out=$(pwd)/$out ;; esac

schema=${UNASYNC_SCHEMA:-$here/../docs/unasync.schema.json}
if [ ! -f "$schema" ]; then
	echo "package.sh: the JSON Schema of unasync.json is missing: $schema" >&2
	echo "package.sh: it ships from docs/unasync.schema.json (or set UNASYNC_SCHEMA=/path/to/schema.json)" >&2
	exit 1
fi
node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$schema" ||
	{ echo "package.sh: $schema is not valid JSON" >&2; exit 1; }

# npm ci only when node_modules is missing or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	npm ci --no-audit --no-fund --ignore-scripts >&2 || { echo "package.sh: npm ci failed" >&2; exit 1; }
fi

mkdir -p schemas "$(dirname "$out")"
cp "$schema" schemas/unasync.schema.json
node scripts/build.mjs >&2
npx --no-install vsce package --no-dependencies --allow-missing-repository -o "$out" >&2
echo "$out"
