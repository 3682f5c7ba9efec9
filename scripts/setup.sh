#!/usr/bin/env bash
# setup.sh - installs what building and testing unasync needs on Debian 12, then configures the
# build. Idempotent and quiet when everything is there already. Sourced by quickstart and test.
set -euo pipefail

# Debian packages: build, libraries, the real servers and editors the tests drive.
UNASYNC_APT_BUILD=(gcc clang llvm-14 libclang-dev libclang-rt-14-dev meson ninja-build pkg-config
    libuv1-dev libcjson-dev libcmocka-dev libhiredis-dev git)
UNASYNC_APT_TEST=(redis-server redis-tools valgrind neovim nodejs chromium ripgrep cmake make
    libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev python3 groff-base man-db)

ua_missing_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    printf '%s\n' "${missing[@]}"
}

ua_apt_install() {
    local missing
    mapfile -t missing < <(ua_missing_packages "$@")
    [ "${#missing[@]}" -eq 0 ] || [ -z "${missing[0]}" ] && return 0
    echo "setup: installing ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq >/dev/null
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# npm is part of the nodejs package from some repositories and separate in others.
ua_ensure_npm() {
    command -v npm >/dev/null 2>&1 || ua_apt_install npm
}

# Configures (or reconfigures) a build folder with the tests and benchmarks on (both default to
# off, so that `meson install` builds only what it installs). $1 folder, rest: meson options. An
# existing folder is reconfigured in full, so find_program() runs again: a folder configured
# before redis-server, node or nvim was installed picks them up instead of keeping their tests on
# missing-tool.sh.
ua_meson_setup() {
    local dir=$1
    shift
    set -- -Dtests=true -Dbenchmarks=true -Dpkgconfig.relocatable=true "$@"
    if [ -f "$dir/build.ninja" ]; then
        meson setup --reconfigure "$dir" "$@" >/dev/null
    else
        meson setup "$dir" "$@" >/dev/null
    fi
}
