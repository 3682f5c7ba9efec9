#!/bin/sh
# The extension's own checks without VS Code: installs the npm dependencies when needed, then
# `tsc --strict --noEmit` (npm run lint) and the node:test unit tests (npm test).
set -eu
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	npm ci --no-audit --no-fund --ignore-scripts >&2 || { echo "check.sh: npm ci failed" >&2; exit 1; }
fi
npm run -s lint
echo "check.sh: tsc --strict clean"
npm test
