#!/usr/bin/env bash
# Installs the Debian packages shadoweval needs to build, test and benchmark,
# only those that are missing. Idempotent: a machine that has them all is left
# untouched and no package index is fetched.
set -euo pipefail

packages=(
  build-essential pkg-config
  libcurl4-openssl-dev libcjson-dev libcsv-dev libpcre2-dev
  libmicrohttpd-dev libcriterion-dev
  libsqlite3-dev libzstd-dev   # the response cache (src/engine/cache.c) and its bundles
  mandoc zsh            # man-page lint and the zsh completion check (tests/e2e/test_install.c)
  openssl nghttp2-proxy # the TLS + HTTP/2 end-to-end test: a test CA, nghttpx (tests/e2e/test_tls.c)
  python3-jsonschema    # the config schema (tests/test_schema.c); python3-yaml below: test_ci too
  clang-format cppcheck clang-tidy  # make lint and make analyze (.ci/run)
  python3-yaml parallel # the examples/ checks and the GNU parallel example (tests/e2e/test_examples.c)
  chromium fonts-dejavu-core python3  # report.html rendered headless (tests/e2e/test_browser.c)
)
# Benchmark-only tools: installed by `make bench` (BENCH=1), not needed to test.
if [ "${BENCH:-0}" = 1 ]; then
  packages+=(wrk linux-perf)
fi
# Fuzzing (`make fuzz`, `make fuzz-smoke`, FUZZ=1): clang and its runtime
# libraries, libFuzzer's among them (libclang-rt-dev matches clang's version).
if [ "${FUZZ:-0}" = 1 ]; then
  packages+=(clang libclang-rt-dev)
fi

# The official openai npm client, when node is here: shadowsim's tests check
# that it understands shadowsim (streaming and not). Installed into the
# repository's node_modules/ (git-ignored); without it that one test skips.
install_openai_client() {
  command -v npm >/dev/null 2>&1 || return 0
  [ -d "$root/node_modules/openai" ] && return 0
  echo "install-deps: installing the openai npm package (for shadowsim's client test)" >&2
  (cd "$root" && npm install --no-save --no-package-lock --no-audit --no-fund --silent openai@4 >/dev/null 2>&1) ||
    echo "install-deps: could not install the openai npm package; its test will be skipped" >&2
}
root=$(cd "$(dirname "$0")/.." && pwd)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  install_openai_client
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 2; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
install_openai_client
echo "install-deps: done" >&2
