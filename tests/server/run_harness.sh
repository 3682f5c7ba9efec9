#!/bin/sh
# Runs the node:test protocol suites against the real server binary.
# Usage: run_harness.sh SERVER_BINARY [TEST_FILE...]
# Installs the harness' npm packages (npm ci) only when node_modules is missing or older than
# package-lock.json. Fails saying what is missing when node or npm is not installed.
set -eu
here=$(cd "$(dirname "$0")/harness" && pwd)
server=$1
shift
command -v node >/dev/null 2>&1 || { echo "node not found: install nodejs (scripts/setup.sh does)"; exit 1; }
if [ ! -f "$here/node_modules/.package-lock.json" ] ||
   [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
    command -v npm >/dev/null 2>&1 || { echo "npm not found: install npm (scripts/setup.sh does)"; exit 1; }
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
cd "$here"
if [ $# -eq 0 ]; then
    set -- *.test.js
fi
SERVER=$server exec node --test --test-concurrency=1 "$@"
