#!/usr/bin/env bash
# summarize-bench.sh: `shadoweval summarize`, then `shadoweval sweep`, on
# 1,000,000 generated result lines (bench/gen-results.c: 5 models, a full
# matrix of 3 slots), reporting wall time and peak memory of each. Run from
# the repository root after `make` (bin/shadoweval).
#
#   bash bench/summarize-bench.sh [LINES]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
lines=${1:-${BENCH_SUM_LINES:-1000000}}
bin=${BIN:-bin}/shadoweval
[ -x "$bin" ] || { echo "summarize-bench: $bin not built (run make)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/se-sumbench-XXXXXX")
trap 'rm -rf "$work"' EXIT

${CC:-cc} -O2 -o "$work/gen-results" bench/gen-results.c
"$work/gen-results" "$lines" 7 > "$work/results.jsonl"
size=$(du -m "$work/results.jsonl" | cut -f1)

# The generator's slots, as a run's manifest would name them (sweep reads them).
cat > "$work/manifest.json" <<'JSON'
{"tool": "shadoweval", "eval": "bench", "slots": {"fast": "google/gemini-flash-1.5",
 "balanced": "openai/gpt-4o-mini", "deep": "anthropic/claude-opus-4"}, "shadows": "all-slots"}
JSON

# Wall time and peak RSS of one command ("NAME: N lines (S MB) in T s, peak RSS M MB").
measure() {
  local name=$1; shift
  if /usr/bin/time -f '' true 2>/dev/null; then
    /usr/bin/time -f '%e %M' -o "$work/time" "$@" > "$work/out.$name"
    read -r secs kb < <(tail -n 1 "$work/time") # after "Command exited with ..."
    echo "$name: $lines lines (${size} MB) in ${secs} s, peak RSS $((kb / 1024)) MB"
    bench_row "$name" "${name}_seconds" "$secs" "" "" "bench/summarize-bench.sh $lines"
    bench_row "$name" "${name}_rss_mb" "$(bench_fmt "$kb / 1024")" "" "" "bench/summarize-bench.sh $lines"
  else # GNU time gives the peak RSS; without it, bash's clock only
    local start end
    start=$(date +%s.%N)
    "$@" > "$work/out.$name"
    end=$(date +%s.%N)
    echo "$name: $lines lines (${size} MB) in $(echo "$end - $start" | bc) s"
  fi
}
measure summarize "$bin" summarize "$work"
(cd "$work" && wc -l ./*.csv) | sed "s/^/  /"
measure sweep "$bin" sweep "$work" || true # exit 1 when no policy qualifies is a finding
sed -n 1,3p "$work/out.sweep" | sed "s/^/  /"
