#!/bin/sh
# Installs what the VS Code end-to-end test needs, idempotently, into a cache folder:
# code-server 4.100.3 (VS Code 1.100.3; the last release for node 20), playwright-core, and
# Debian's chromium. Prints nothing but one line per step that had work to do.
#
# Usage: install.sh [CACHE]   (default $UNASYNC_E2E_CACHE, else $HOME/.cache/unasync-e2e)
# Exit 0: everything is in place. Exit 1 with a message that says what failed and how to fix it.
#
# Pitfalls handled here (details: docs/vscode.md, "How the end-to-end test works"):
# - npm install of code-server runs a postinstall that downloads ripgrep from GitHub: we install
#   with --ignore-scripts and replay the postinstall by hand with Debian's rg in place.
# - kerberos and node-pty build from source: they need libkrb5-dev, libx11-dev, libxkbfile-dev,
#   libsecret-1-dev, pkg-config, build-essential and python3.
# - node-pty's post-install runs `npx node-gyp`: npm_config_yes=true lets npx fetch it.
# - playwright-core is used with Debian's chromium; it never downloads a browser.
set -eu

CS_VERSION=4.100.3
PW_VERSION=1.65.1
cache=${1:-${UNASYNC_E2E_CACHE:-$HOME/.cache/unasync-e2e}}
cs_dir=$cache/code-server-$CS_VERSION
pw_dir=$cache/playwright-$PW_VERSION

die() {
	echo "e2e install: $*" >&2
	exit 1
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

apt_install() {
	missing=
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	[ "$(id -u)" = 0 ] || die "missing Debian packages:$missing (run as root: apt-get install -y$missing)"
	t=$(now)
	echo "e2e install: apt-get install$missing"
	apt-get -o DPkg::Lock::Timeout=600 install -y $missing >"$cache/apt.log" 2>&1 ||
		{ apt-get update >>"$cache/apt.log" 2>&1 && apt-get -o DPkg::Lock::Timeout=600 install -y $missing >>"$cache/apt.log" 2>&1; } ||
		die "apt-get install$missing failed; see $cache/apt.log"
	echo "e2e install: apt packages installed in $(elapsed "$t")"
}

command -v node >/dev/null || die "node (20.x) is not installed"
command -v npm >/dev/null || die "npm is not installed"
mkdir -p "$cache"
# One installer at a time per cache (two build folders may run their e2e tests together).
if command -v flock >/dev/null; then
	exec 9>"$cache/.lock"
	flock 9
fi

apt_install chromium
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium is missing after installing the chromium package"

if [ ! -f "$pw_dir/.installed" ]; then
	t=$(now)
	echo "e2e install: playwright-core@$PW_VERSION into $pw_dir"
	rm -rf "$pw_dir" && mkdir -p "$pw_dir"
	echo '{"name":"unasync-e2e-playwright","private":true}' >"$pw_dir/package.json"
	(cd "$pw_dir" && npm install --no-audit --no-fund --ignore-scripts "playwright-core@$PW_VERSION") \
		>"$cache/playwright-install.log" 2>&1 || die "npm install playwright-core failed; see $cache/playwright-install.log"
	touch "$pw_dir/.installed"
	echo "e2e install: playwright-core installed in $(elapsed "$t")"
fi

if [ ! -f "$cs_dir/.installed" ]; then
	apt_install build-essential pkg-config python3 libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev ripgrep
	t=$(now)
	log=$cache/code-server-install.log
	echo "e2e install: code-server@$CS_VERSION into $cs_dir (about a minute; log: $log)"
	rm -rf "$cs_dir" && mkdir -p "$cs_dir"
	(
		set -eu
		cd "$cs_dir"
		echo '{"name":"unasync-e2e-code-server","private":true}' >package.json
		npm install --no-audit --no-fund --ignore-scripts "code-server@$CS_VERSION"
		npm rebuild argon2 --unsafe-perm
		cd node_modules/code-server/lib/vscode
		npm install --omit=dev --ignore-scripts --no-audit --no-fund
		mkdir -p node_modules/@vscode/ripgrep/bin
		cp /usr/bin/rg node_modules/@vscode/ripgrep/bin/rg
		npm_config_yes=true npm rebuild --unsafe-perm
		ln -sfn node_modules node_modules.asar
		(cd bin/remote-cli && ln -sfn code-linux.sh code-server)
		(cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
		(cd extensions && npm install --omit=dev --unsafe-perm --no-audit --no-fund)
	) >"$log" 2>&1 || die "installing code-server failed; see $log"
	"$cs_dir/node_modules/.bin/code-server" --version >/dev/null 2>&1 ||
		die "code-server was installed but does not run; see $log"
	touch "$cs_dir/.installed"
	echo "e2e install: code-server installed in $(elapsed "$t")"
fi
