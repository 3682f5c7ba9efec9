#!/bin/sh
# End-to-end test of the VS Code extension in real VS Code: installs code-server, chromium and
# playwright-core if needed, packages the .vsix, installs it into a fresh code-server on a free
# loopback port and runs vscode/vscode_e2e.js against a scratch copy of the workspace.
#
# Env: UNASYNC_BIN    the built `unasync` executable (required; put first on PATH for the extension)
#      E2E_WORKSPACE  folder with unasync.json and committed twins (default examples/quickstart)
#      E2E_ARTIFACTS  where screenshots and logs go (default tests/artifacts/vscode)
#      UNASYNC_E2E_CACHE  install cache (default $HOME/.cache/unasync-e2e)
# Every process it starts is in a process group (setsid) that is killed on exit.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${UNASYNC_E2E_CACHE:-$HOME/.cache/unasync-e2e}
workspace=${E2E_WORKSPACE:-$repo/examples/quickstart}
artifacts=${E2E_ARTIFACTS:-$repo/tests/artifacts/vscode}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
fail() {
	echo "vscode e2e: $*" >&2
	exit 1
}

[ -n "${UNASYNC_BIN:-}" ] || fail "UNASYNC_BIN is not set (meson passes the built unasync executable)"
[ -x "$UNASYNC_BIN" ] || fail "UNASYNC_BIN=$UNASYNC_BIN is not an executable"
[ -f "$workspace/unasync.json" ] || fail "no unasync.json in the workspace $workspace"

t=$(now)
sh "$here/vscode/install.sh" "$cache" || fail "set-up failed (see the message above)"
echo "vscode e2e: install check ${t:+took $(since "$t") s}"
cs=$cache/code-server-4.100.3/node_modules/.bin/code-server
pw_modules=$cache/playwright-1.65.1/node_modules

tmp=$(mktemp -d "${TMPDIR:-/tmp}/unasync-e2e.XXXXXX")
cs_pid=
drv_pid=
# Live (not zombie) processes whose process group is $1.
group_members() {
	for st in /proc/[0-9]*/stat; do
		{ read -r line <"$st"; } 2>/dev/null || continue
		set -- "$1" ${line##*) }
		[ "$4" = "$1" ] && [ "$2" != Z ] && echo "${st%/stat}"
	done
	# the loop's status is its last test's: under set -e a failed test in $(...) would abort cleanup
	return 0
}
cleanup() {
	rc=$?
	# Both children lead their own process group: kill the groups, then anything still holding
	# this run's scratch folder (Chromium helpers that re-parented).
	for pid in $drv_pid $cs_pid; do kill -TERM "-$pid" 2>/dev/null || true; done
	for i in 1 2 3 4 5 6 7 8 9 10; do
		left=
		for pid in $drv_pid $cs_pid; do left="$left$(group_members "$pid")"; done
		[ -z "$left" ] && break
		sleep 0.3
	done
	for pid in $drv_pid $cs_pid; do kill -KILL "-$pid" 2>/dev/null || true; done
	for p in /proc/[0-9]*; do
		if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF "$tmp/"; then kill -KILL "${p#/proc/}" 2>/dev/null || true; fi
	done
	mkdir -p "$artifacts"
	cp "$tmp/code-server.log" "$artifacts/" 2>/dev/null || true
	find "$tmp/ud/logs" -name '*unasync*.log' -exec cp {} "$artifacts/" \; 2>/dev/null || true
	rm -rf "$tmp"
	sleep 0.3
	for pid in $drv_pid $cs_pid; do
		if [ -n "$(group_members "$pid")" ]; then
			echo "vscode e2e: processes of group $pid survived SIGKILL" >&2
			rc=1
		fi
	done
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t=$(now)
sh "$repo/vscode-client/scripts/package.sh" "$tmp/unasync.vsix" >"$tmp/package.log" 2>&1 ||
	{ cat "$tmp/package.log" >&2; fail "packaging the extension failed"; }
echo "vscode e2e: packaged the .vsix in $(since "$t") s"

# A scratch copy: the test edits and regenerates files.
mkdir -p "$tmp/ud/User" "$tmp/ext" "$artifacts"
rm -f "$artifacts"/vscode-*.png "$artifacts"/*.log
cp -R "$workspace" "$tmp/ws"
rm -rf "$tmp/ws/.vscode"
twin=
for pattern in '*.c' '*.h'; do
	for f in $(cd "$tmp/ws" && find . -name "$pattern" -type f | sed 's|^\./||' | sort); do
		if head -n 1 "$tmp/ws/$f" | grep -q 'unasync:source='; then twin=$f && break 2; fi
	done
done
[ -n "$twin" ] || fail "the workspace $workspace has no generated twin (line 1 with unasync:source=)"
source=$(head -n 1 "$tmp/ws/$twin" | sed -n 's/.*unasync:source=\([^ ]*\).*/\1/p' | sed 's|\*/$||')
[ -f "$tmp/ws/$source" ] || fail "$twin names the source $source, which does not exist"
echo "vscode e2e: workspace $workspace, source $source, twin $twin"

# unasync.path names the binary: the extension host's PATH comes from a login shell that
# code-server runs (resolveShellEnv), not from this script's environment.
node -e '
const [file, bin] = process.argv.slice(1);
require("fs").writeFileSync(file, JSON.stringify({
  "workbench.startupEditor": "none", "workbench.tips.enabled": false,
  "workbench.enableExperiments": false, "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off", "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false, "update.mode": "none", "git.enabled": false,
  "explorer.compactFolders": false, "files.autoSave": "off", "editor.formatOnSave": false,
  "unasync.path": bin, "unasync.trace.server": "verbose",
}, null, 2));' "$tmp/ud/User/settings.json" "$UNASYNC_BIN"
port=$(node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')
printf 'bind-addr: 127.0.0.1:%s\nauth: none\ncert: false\n' "$port" >"$tmp/config.yaml"
common="--config $tmp/config.yaml --user-data-dir $tmp/ud --extensions-dir $tmp/ext"

t=$(now)
"$cs" $common --install-extension "$tmp/unasync.vsix" >"$tmp/install-extension.log" 2>&1 ||
	{ cat "$tmp/install-extension.log" >&2; fail "code-server --install-extension failed"; }
echo "vscode e2e: installed the .vsix in $(since "$t") s"

t=$(now)
setsid "$cs" $common --bind-addr "127.0.0.1:$port" --auth none \
	--disable-telemetry --disable-update-check --disable-workspace-trust --disable-getting-started-override \
	"$tmp/ws" >"$tmp/code-server.log" 2>&1 &
cs_pid=$!
ready=
for i in $(seq 1 300); do
	if node -e 'require("http").get(process.argv[1], (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on("error", () => process.exit(1))' \
		"http://127.0.0.1:$port/healthz"; then
		ready=1 && break
	fi
	kill -0 "$cs_pid" 2>/dev/null || break
	sleep 0.1
done
[ -n "$ready" ] || { cat "$tmp/code-server.log" >&2; fail "code-server did not become ready on 127.0.0.1:$port"; }
echo "vscode e2e: code-server ready on 127.0.0.1:$port in $(since "$t") s"

t=$(now)
rc=0
CS_URL="http://127.0.0.1:$port" WS="$tmp/ws" E2E_SOURCE="$source" E2E_TWIN="$twin" SHOTS="$artifacts" \
	USER_DATA_DIR="$tmp/ud" CHROME_PROFILE="$tmp/chromium" NODE_PATH="$pw_modules" setsid node "$here/vscode/vscode_e2e.js" &
drv_pid=$!
wait "$drv_pid" || rc=$?
echo "vscode e2e: browser scenario took $(since "$t") s (exit $rc); artifacts in $artifacts"
if [ "$rc" -ne 0 ]; then
	echo "--- code-server.log (tail) ---" >&2
	tail -n 30 "$tmp/code-server.log" >&2 || true
	for f in $(find "$tmp/ud/logs" -name '*unasync*.log' 2>/dev/null); do
		echo "--- $f (tail) ---" >&2
		tail -n 40 "$f" >&2
	done
fi
exit "$rc"
