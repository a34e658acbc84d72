#!/usr/bin/env bash
# Install the Debian packages the project needs. A fast no-op when all are present;
# when something is missing and we are not root, print the exact apt-get line and fail.
set -euo pipefail

PKGS=(build-essential pkg-config clang clang-format libclang-rt-14-dev
      libzmq3-dev libmsgpack-dev libcurl4-openssl-dev libwebsockets-dev libhiredis-dev
      libcjson-dev libssl-dev libcmocka-dev redis-server redis-tools supervisor openssl)

missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

line="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=sudo
    else
        echo "install-deps: missing packages: ${missing[*]}" >&2
        echo "install-deps: run as root:  apt-get update && $line" >&2
        exit 1
    fi
else
    SUDO=
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian redis-server package starts a system instance; the project runs its own.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true; fi
if [ -x /etc/init.d/redis-server ]; then $SUDO /etc/init.d/redis-server stop >/dev/null 2>&1 || true; fi
echo "install-deps: done" >&2
