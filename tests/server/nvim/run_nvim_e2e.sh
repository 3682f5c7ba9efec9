#!/bin/sh
# Neovim 0.7 headless end-to-end test of the language server; exit status = test result.
# Usage: run_nvim_e2e.sh SERVER_BINARY. Without nvim it fails saying so (never skips).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
server=$1
command -v nvim >/dev/null 2>&1 || { echo "nvim not found: install neovim (scripts/setup.sh does)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ws="$work/ws"
mkdir -p "$ws"
printf '{ "sources": ["*.c"], "lint": { "UA000": "off", "UA005": "off" } }\n' > "$ws/unasync.json"
printf '#include <unasync/async.h>\n\nasync int fetch(int id) {\n    await async_sleep_ms(10);\n    return id;\n}\n' > "$ws/x.c"
# Generate the twin with the server itself, its stdin a plain file.
frame() { printf 'Content-Length: %d\r\n\r\n%s' "$(printf '%s' "$1" | wc -c)" "$1"; }
{
    frame '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":"file://'"$ws"'","capabilities":{}}}'
    frame '{"jsonrpc":"2.0","method":"initialized","params":{}}'
    frame '{"jsonrpc":"2.0","id":2,"method":"workspace/executeCommand","params":{"command":"unasync.regenerateAll"}}'
    frame '{"jsonrpc":"2.0","id":3,"method":"shutdown"}'
    frame '{"jsonrpc":"2.0","method":"exit"}'
} > "$work/session.in"
"$server" < "$work/session.in" > "$work/session.out" 2> "$work/session.err"
[ -f "$ws/sync_x.c" ] || { echo "twin generation failed"; cat "$work/session.err"; exit 1; }
export E2E_WS="$ws" E2E_SERVER="$server"
export XDG_CACHE_HOME="$work/cache" XDG_STATE_HOME="$work/state" XDG_CONFIG_HOME="$work/config"
rc=0
timeout 120 nvim --headless -u NONE -i NONE -n -c "luafile $here/e2e.lua" || rc=$?
echo "nvim exit status: $rc"
if [ "$rc" -ne 0 ]; then
    echo "--- lsp.log:"; find "$work" -name lsp.log -exec tail -50 {} \;
fi
exit $rc
