#!/usr/bin/env bash
# Installs the Debian packages shadoweval needs to build, test and benchmark,
# only those that are missing. Idempotent: a machine that has them all is left
# untouched and no package index is fetched.
set -euo pipefail

packages=(
  build-essential pkg-config
  libcurl4-openssl-dev libcjson-dev libcsv-dev libpcre2-dev
  libmicrohttpd-dev libcriterion-dev
)
# Benchmark-only tools: installed by `make bench` (BENCH=1), not needed to test.
if [ "${BENCH:-0}" = 1 ]; then
  packages+=(wrk)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
SUDO=
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 2; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done" >&2
