#!/usr/bin/env bash
# fuzz/smoke.sh SECONDS BIN...: runs each libFuzzer binary for SECONDS on a
# scratch copy of its seed corpus (fuzz/corpus/<target>/, kept unchanged) and
# fails on the first crash, leak, timeout or sanitizer report. The crashing
# input is kept in build/fuzz/crashes/ and its reproduction printed.
set -u
secs=$1; shift
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/build/fuzz/crashes"
mkdir -p "$out"
rc=0 ran=0
for bin in "$@"; do
  name=${bin##*/fz_}
  seeds="$root/fuzz/corpus/$name"
  if [ ! -d "$seeds" ] || [ -z "$(ls -A "$seeds")" ]; then
    echo "fuzz-smoke: $name: no seed corpus in fuzz/corpus/$name" >&2; rc=1; continue
  fi
  work=$(mktemp -d)
  log=$(mktemp)
  # -max_len: room for the largest seed; -timeout: one input may take 10 s
  # (a hang is a finding); -rss_limit_mb: a memory blow-up is a finding.
  "$bin" "$work" "$seeds" -max_total_time="$secs" -max_len=65536 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="$out/$name-" -print_final_stats=1 >"$log" 2>&1
  status=$?
  runs=$(grep -a 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  if [ "$status" -ne 0 ]; then
    grep -a -B2 -A40 -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|==ERROR' "$log" >&2 ||
      tail -n 60 "$log" >&2
    echo "fuzz-smoke: $name FAILED (exit $status); reproduce: $bin $out/$name-*" >&2
    rc=1
  else
    echo "fuzz-smoke: $name: ${runs:-?} inputs in ${secs} s, no crash"
  fi
  ran=$((ran + 1))
  rm -rf "$work" "$log"
done
echo "fuzz-smoke: $ran targets, $([ $rc -eq 0 ] && echo ok || echo FAILED)"
exit $rc
