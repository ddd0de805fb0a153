#!/usr/bin/env bash
# make demo: start shadowsim on a free loopback port, run the demo shadow eval
# against it, print where the summaries are, then run the judge eval
# (evals/judge.json: a judge check and a pairwise check on the summarize and
# draft items) against the same shadowsim and print its pairwise table, and
# stop shadowsim.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${BIN:-bin}
out=${DEMO_OUT:-runs/demo-$(date -u +%Y%m%d-%H%M%S)}
log=$(mktemp)
jlog=$(mktemp)
sim_pid=
cleanup() {
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
  rm -f "$log" "$jlog"
}
trap cleanup EXIT

"$bin/shadowsim" --port 0 --profiles evals/sim-profiles.json --eval evals/demo.json \
  --seed 7 >"$log" 2>&1 &
sim_pid=$!
port=
for _ in $(seq 1 100); do
  port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$log")
  [ -n "$port" ] && break
  kill -0 "$sim_pid" 2>/dev/null || { cat "$log" >&2; echo "demo: shadowsim did not start" >&2; exit 2; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$log" >&2; echo "demo: shadowsim printed no port" >&2; exit 2; }
echo "demo: shadowsim listening on 127.0.0.1:$port"

"$bin/shadoweval" validate evals/demo.json | sed -n '1,3p'
echo
"$bin/shadoweval" run evals/demo.json --endpoint "sim=http://127.0.0.1:$port/v1" \
  -o "$out" --concurrency 32

"$bin/shadoweval" report "$out" >/dev/null

echo
echo "demo: results and summaries in $out/ (open report.html in a browser)"
ls -1 "$out" | sed 's/^/  /'

# The judge eval: same shadowsim (its judge model openai/gpt-4.1 answers the
# judge and pairwise requests), same dataset; only its pairwise table shown.
jout="$out-judge"
echo
echo "demo: evals/judge.json: a judge grades the summarize and draft answers and"
echo "  compares the shadow's answer with the primary's in both orders (A/B, B/A)"
"$bin/shadoweval" run evals/judge.json --endpoint "sim=http://127.0.0.1:$port/v1" \
  -o "$jout" --concurrency 32 >"$jlog"
awk '/^pairwise:/,/^$/' "$jlog"
grep -q '^pairwise:' "$jlog" || { cat "$jlog" >&2; echo "demo: the judge run printed no pairwise table" >&2; exit 2; }
echo "demo: the judge run's results and summaries (pairwise.csv, agreement.csv) in $jout/"
