#!/usr/bin/env bash
# Checks the build's structure (README "Layout"), run by `make lint`:
# - only src/cli/ and src/main.c include cli/cli.h (the commands' header);
# - libse.a, what shadoweval links, holds no libmicrohttpd reference: only
#   shadowsim (libsim.a) links it.
# Usage: check-layout.sh LIBSE_A
set -euo pipefail
cd "$(dirname "$0")/.."
rc=0
bad=$(grep -rlE '#include[[:space:]]+"cli/cli\.h"' src | grep -vE '^src/(cli/|main\.c$)' || true)
if [ -n "$bad" ]; then
  echo "check-layout: only src/cli/ and src/main.c may include cli/cli.h; also in:" >&2
  echo "$bad" | sed 's/^/  /' >&2
  rc=1
fi
lib=${1:?usage: check-layout.sh LIBSE_A}
mhd=$(nm -A "$lib" 2>/dev/null | grep -E ' [UTt] MHD_' || true)
if [ -n "$mhd" ]; then
  echo "check-layout: $lib refers to libmicrohttpd (only libsim.a may):" >&2
  echo "$mhd" | sed 's/^/  /' >&2
  rc=1
fi
exit $rc
