#!/usr/bin/env bash
# shard-scale: the figures of the README's scale model (issue 15): for one
# `shadoweval run` process against shadowsim at a fixed model latency L and
# --concurrency C, the requests/s it sustains (the ideal is C/L) and its
# peak RSS, from which the memory per 1,000 requests in flight follows
# (RSS at C = 1000 minus RSS at C = 100, over 900 requests). Figures only: it
# never fails on speed.
#
#   bench/shard-scale.sh            L in {0, 200, 2000} ms; C in {100, 1000}
#
# Release binaries in $BIN (default bin/; make all); 127.0.0.1 only.
set -u
cd "$(dirname "$0")/.."
bin=${BIN:-bin}
[ -x "$bin/shadoweval" ] && [ -x "$bin/shadowsim" ] || make --no-print-directory all >/dev/null || exit 1
tmp=$(mktemp -d)
sim_pid=
cleanup() { [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# one (L, C, items) measurement: prints "L C items seconds req/s C/L ratio rss_mib"
measure() {
  local lat=$1 c=$2 items=$3
  python3 - "$tmp" "$items" "$lat" <<'PY'
import json, sys
tmp, n, lat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(f"{tmp}/items.jsonl", "w") as f:
    for i in range(n):
        f.write(json.dumps({"id": f"s{i}", "prompt": f"What is {i} plus 1?", "expected": str(i + 1)}) + "\n")
json.dump({"seed": 1, "models": {"bench/model": {
    "latency": {"ttft_ms": lat, "tokens_per_s": 0, "jitter": "none"},
    "accuracy": {"default": 0.9}}}}, open(f"{tmp}/profiles.json", "w"))
json.dump({"name": "scale", "dataset": {"path": "items.jsonl"},
           "endpoints": {"sim": {"base_url": "http://127.0.0.1:9/v1"}},
           "slots": {"only": "bench/model"}, "routing": {"default": "only"},
           "checks": [{"name": "answer", "type": "exact", "normalize": ["trim"]}],
           "params": {"max_tokens": 16}, "retry": {"max_attempts": 1, "base_ms": 100, "max_ms": 1000},
           "timeout_s": 60}, open(f"{tmp}/eval.json", "w"))
PY
  "$bin/shadowsim" --port 0 --profiles "$tmp/profiles.json" --threads 8 >"$tmp/sim.out" 2>"$tmp/sim.err" &
  sim_pid=$!
  for _ in $(seq 100); do grep -q listening "$tmp/sim.out" 2>/dev/null && break; sleep 0.1; done
  local port
  port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/sim.out")
  [ -n "$port" ] || { echo "shard-scale: shadowsim did not start" >&2; exit 1; }
  rm -rf "$tmp/run"
  local t0 t1
  t0=$(date +%s.%N)
  bash bench/maxrss.sh "$bin/shadoweval" run "$tmp/eval.json" -o "$tmp/run" \
    --endpoint "sim=http://127.0.0.1:$port/v1" --concurrency "$c" --quiet >/dev/null 2>"$tmp/err" ||
    { echo "shard-scale: run failed:" >&2; cat "$tmp/err" >&2; exit 1; }
  t1=$(date +%s.%N)
  kill "$sim_pid" 2>/dev/null; wait "$sim_pid" 2>/dev/null; sim_pid=
  local rss
  rss=$(sed -n 's/^maxrss_kib //p' "$tmp/err" | tail -n 1)
  awk -v l="$lat" -v c="$c" -v n="$items" -v t0="$t0" -v t1="$t1" -v rss="$rss" 'BEGIN {
    s = t1 - t0; r = n / s; ideal = l > 0 ? c * 1000 / l : 0
    printf "%-6d %-6d %-7d %-8.2f %-9.0f %-9s %-6s %.1f\n", l, c, n, s, r,
      ideal ? sprintf("%.0f", ideal) : "-", ideal ? sprintf("%.2f", r / ideal) : "-", rss / 1024 }'
}

printf '%-6s %-6s %-7s %-8s %-9s %-9s %-6s %s\n' L_ms C items seconds 'req/s' 'C/L' ratio rss_mib
measure 0 100 20000
measure 200 100 2000
measure 200 1000 10000
measure 2000 100 300
measure 2000 1000 3000
