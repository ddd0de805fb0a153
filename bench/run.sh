#!/usr/bin/env bash
# make bench: every benchmark, one after another. Each prints its figures and
# ratios; none fails on speed (machines are shared and noisy). Only loopback.
set -u
cd "$(dirname "$0")/.."
status=0
for b in bench/validate-memory.sh bench/sim-bench.sh bench/run-bench.sh bench/summarize-bench.sh bench/cache.sh bench/shard-scale.sh; do
  [ -x "$b" ] || continue
  echo "== $b"
  bash "$b" || { echo "bench: $b failed" >&2; status=1; }
  echo
done
exit $status
