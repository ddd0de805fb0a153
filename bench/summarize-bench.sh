#!/usr/bin/env bash
# summarize-bench.sh: `shadoweval summarize` on 1,000,000 generated result
# lines (bench/gen-results.c: 5 models, full matrix), reporting wall time and
# peak memory. Run from the repository root after `make` (bin/shadoweval).
#
#   bash bench/summarize-bench.sh [LINES]
set -euo pipefail
lines=${1:-1000000}
bin=${BIN:-bin}/shadoweval
[ -x "$bin" ] || { echo "summarize-bench: $bin not built (run make)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/se-sumbench-XXXXXX")
trap 'rm -rf "$work"' EXIT

${CC:-cc} -O2 -o "$work/gen-results" bench/gen-results.c
"$work/gen-results" "$lines" 7 > "$work/results.jsonl"
size=$(du -m "$work/results.jsonl" | cut -f1)

# GNU time gives the peak RSS; fall back to bash's time without it.
if /usr/bin/time -f '' true 2>/dev/null; then
  /usr/bin/time -f '%e %M' -o "$work/time" "$bin" summarize "$work" > "$work/table"
  read -r secs kb < "$work/time"
  echo "summarize: $lines lines (${size} MB) in ${secs} s, peak RSS $((kb / 1024)) MB"
else
  start=$(date +%s.%N)
  "$bin" summarize "$work" > "$work/table"
  end=$(date +%s.%N)
  echo "summarize: $lines lines (${size} MB) in $(echo "$end - $start" | bc) s"
fi
(cd "$work" && wc -l ./*.csv) | sed "s/^/  /"
