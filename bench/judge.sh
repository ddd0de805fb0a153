#!/usr/bin/env bash
# bench/judge.sh, issue 12: what a rubric `judge` check adds to a run. The
# same zero-latency run (C = 64, non-streaming) against one shadowsim whose
# profile has a judge model, with only an exact check ("off") and with the
# exact check plus a `judge` check graded by that model ("on"). Each graded
# line then costs two requests (the answer, then its judge request) and a
# rubric rendered and read. Printed: graded result lines per second both
# ways, the HTTP requests per second of the "on" run (answers and judge
# requests, from the manifest's counts.requests), and the lines/s ratio on
# over off (no target: issue 12 asks for the figure).
#
#   bench/judge.sh   env: BENCH_JUDGE_ITEMS (5000)
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
n=${BENCH_JUDGE_ITEMS:-5000}
bench_tmp
# bench_profile's answering model, and a judge (judge_accuracy: shadowsim
# grades the rubric request from the truth, src/sim/judge.c), both at once
cat >"$BENCH_TMP/prof.json" <<'JSON'
{"seed": 1, "models": {
 "bench/model": {"pricing": {"prompt": 0.000001, "completion": 0.000002},
  "latency": {"ttft_ms": 0, "tokens_per_s": 0, "jitter": "none"},
  "output_tokens": 8, "accuracy": {"default": 1.0}},
 "bench/judge": {"pricing": {"prompt": 0.000001, "completion": 0.000002},
  "latency": {"ttft_ms": 0, "tokens_per_s": 0, "jitter": "none"},
  "output_tokens": 8, "accuracy": {"default": 1.0}, "judge_accuracy": 1.0}}}
JSON
bench_sim "$BENCH_TMP/prof.json" || exit 1
url=http://127.0.0.1:$SIM_PORT/v1
bench_items "$n" "$BENCH_TMP/items.jsonl"
exact='{"name": "answer", "type": "exact", "normalize": ["trim"]}'
bench_eval "$BENCH_TMP/off.json" items.jsonl false "[$exact]"
bench_eval "$BENCH_TMP/on.json" items.jsonl false \
  "[$exact, {\"name\": \"quality\", \"type\": \"judge\", \"judge\": \"bench/judge\", \"rubric\": \"auto\"}]"

# judge_run NAME: the run of NAME.json; "lines requests wall_s" on stdout
judge_run() {
  local dir="$BENCH_TMP/run-$1"
  bench_measure "$BENCH_TMP/$1.m" "$BIN/shadoweval" run "$BENCH_TMP/$1.json" -o "$dir" \
    --endpoint "sim=$url" --concurrency 64 --quiet >/dev/null 2>"$BENCH_TMP/$1.err" ||
    { echo "judge: the \"$1\" run failed: $(tail -3 "$BENCH_TMP/$1.err")" >&2; return 1; }
  local lines requests wall
  lines=$(wc -l <"$dir/results.jsonl")
  requests=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["counts"]["requests"])' \
    "$dir/manifest.json")
  read -r wall _ <"$BENCH_TMP/$1.m"
  echo "$lines $requests $wall"
}
read -r off_lines off_reqs off_wall < <(judge_run off) || exit 1
read -r on_lines on_reqs on_wall < <(judge_run on) || exit 1
[ -n "${on_wall:-}" ] && [ -n "${off_wall:-}" ] || exit 1
# every line of the "on" run must carry its grade: a judge that silently
# failed would make judging look free
graded=$(python3 -c '
import json, sys
print(sum(isinstance(json.loads(l)["checks"].get("quality", {}).get("score"), (int, float))
          for l in open(sys.argv[1]) if l.strip()))' "$BENCH_TMP/run-on/results.jsonl")
if [ "$graded" -ne "$on_lines" ] || [ "$on_lines" -ne "$n" ] || [ "$off_lines" -ne "$n" ]; then
  echo "judge: expected $n lines each way, every \"on\" line judged; got off $off_lines," \
    "on $on_lines, judged $graded" >&2
  exit 1
fi
off_lps=$(bench_fmt "$off_lines / $off_wall")
on_lps=$(bench_fmt "$on_lines / $on_wall")
how="bench/judge.sh: shadoweval run --concurrency 64, $n items at zero latency, graded result lines/s with an exact check (off) and with an exact and a judge check (on: $on_reqs requests, answers and judge requests)"
bench_row judge judge_off_lines_per_s "$off_lps" "" "" "$how"
bench_row judge judge_on_lines_per_s "$on_lps" "" "" "$how"
bench_row judge judge_on_requests_per_s "$(bench_fmt "$on_reqs / $on_wall")" "" "" "$how"
bench_row judge judge_on_over_off_lines_ratio "$(bench_fmt "$on_lps / $off_lps")" "" "" "$how"
