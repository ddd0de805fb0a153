#!/usr/bin/env bash
# sweep.sh: issue 14's sweep goal, "at least 10,000 policies over 100,000
# items in under 10 s": `shadoweval sweep --max-policies 20000` on a
# generated full matrix of 100,000 items (bench/gen-results.c: 5 models, all
# 5 of them slots, 6 tasks: 15,620 task maps, 1,900 complexity policies).
# The time counts reading and parsing results.jsonl, as a user waits for it;
# the CPU time is printed beside it (the machine is shared). Figures go to
# bench/results.csv through bench_row (bench/lib.sh). Run from the
# repository root after `make`.
#
#   bash bench/sweep.sh [ITEMS]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
items=${1:-100000}
bin=$BIN/shadoweval
[ -x "$bin" ] || { echo "sweep-bench: $bin not built (run make)" >&2; exit 2; }
bench_tmp
work=$BENCH_TMP

${CC:-cc} -O2 -o "$work/gen-results" bench/gen-results.c
"$work/gen-results" $((items * 5)) 7 5 6 > "$work/results.jsonl"
# The generator's slots, as a run's manifest would name them (sweep reads them).
cat > "$work/manifest.json" <<'JSON'
{"tool": "shadoweval", "eval": "bench", "slots": {"fast": "google/gemini-flash-1.5",
 "balanced": "openai/gpt-4o-mini", "deep": "anthropic/claude-opus-4",
 "extra": "openai/gpt-4.1-mini", "reserve": "meta-llama/llama-3.1-8b-instruct"},
 "shadows": "all-slots"}
JSON

# exit 1 (no policy qualifies) is a finding of the data, not a failed bench
bench_measure "$work/time" "$bin" sweep "$work" --max-policies 20000 > "$work/out" ||
  [ $? -eq 1 ]
read -r wall user sys _ < "$work/time"
policies=$(sed -n 's/^policies: \([0-9]*\) .*/\1/p' "$work/out")
simulated=$(sed -n 's/^sweep: \([0-9]*\) items simulated.*/\1/p' "$work/out")
[ -n "$policies" ] && [ -n "$simulated" ] || { cat "$work/out" >&2; exit 1; }
cmd="bash bench/sweep.sh $items"
bench_row 14.5 sweep_policies "$policies" ">=10000" "" "$cmd"
bench_row 14.5 sweep_items "$simulated" ">=100000" "" "$cmd"
bench_row 14.5 sweep_wall_s "$wall" "<10" "" "$cmd"
bench_row 14.5 sweep_cpu_s "$(bench_fmt "$user + $sys")" "" "" "$cmd"
