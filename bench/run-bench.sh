#!/usr/bin/env bash
# run-bench: `shadoweval run` against shadowsim, three figures:
#  1. latency-bound: with every reply after L = 200 ms and --concurrency C, the
#     ideal is C/L requests/s; prints what the engine achieves and the ratio
#     (the goal is >= 0.9 at C = 256);
#  2. fan-out throughput at zero latency, as a ratio to what wrk gets from the
#     same shadowsim with the same request body and 64 connections;
#  3. peak RSS for 20,000 and 200,000 requests: memory must follow the
#     concurrency, not the dataset.
# Figures only: it never fails on speed.
#
#   bench/run-bench.sh [ITEMS] [CONCURRENCY...]     default: 8000 items, C = 256
#
# Uses the release binaries in $BIN (default bin/; make all), 127.0.0.1 only.
set -u
cd "$(dirname "$0")/.."
items=${1:-8000}
shift || true
concs=${*:-256}
latency_ms=200
bin=${BIN:-bin}
[ -x "$bin/shadoweval" ] && [ -x "$bin/shadowsim" ] || make --no-print-directory all >/dev/null || exit 1

tmp=$(mktemp -d)
sim_pid=
cleanup() { [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

python3 - "$tmp" "$items" "$latency_ms" <<'PY'
import json, sys
tmp, n, lat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(f"{tmp}/items.jsonl", "w") as f:
    for i in range(n):
        f.write(json.dumps({"id": f"b{i}", "task": "t", "prompt": f"What is {i} plus 1?",
                            "expected": str(i + 1)}) + "\n")
json.dump({"seed": 1, "models": {"bench/model": {
    "pricing": {"prompt": 0.000001, "completion": 0.000002},
    "latency": {"ttft_ms": lat, "tokens_per_s": 0, "jitter": "none"},
    "accuracy": {"default": 0.9}}}}, open(f"{tmp}/profiles.json", "w"))
json.dump({"name": "bench", "dataset": {"path": "items.jsonl"},
           "endpoints": {"sim": {"base_url": "http://127.0.0.1:9/v1"}},
           "slots": {"only": "bench/model"}, "routing": {"rules": [], "default": "only"},
           "checks": [{"name": "answer", "type": "exact", "normalize": ["trim"]}],
           "params": {"max_tokens": 16, "stream": False},
           "retry": {"max_attempts": 1, "base_ms": 100, "max_ms": 1000},
           "timeout_s": 30}, open(f"{tmp}/eval.json", "w"))
PY

"$bin/shadowsim" --port 0 --profiles "$tmp/profiles.json" --threads 8 >"$tmp/sim.out" 2>"$tmp/sim.err" &
sim_pid=$!
for _ in $(seq 100); do grep -q listening "$tmp/sim.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/sim.out")
[ -n "$port" ] || { echo "run-bench: shadowsim did not start" >&2; cat "$tmp/sim.err" >&2; exit 1; }

printf '%-6s %-8s %-9s %-10s %-10s %s\n' C items seconds 'req/s' 'C/L' ratio
for c in $concs; do
  rm -rf "$tmp/run"
  t0=$(date +%s.%N)
  "$bin/shadoweval" run "$tmp/eval.json" -o "$tmp/run" --endpoint "sim=http://127.0.0.1:$port/v1" \
    --concurrency "$c" --quiet >/dev/null 2>"$tmp/err" || { echo "run-bench: run failed:" >&2; cat "$tmp/err" >&2; exit 1; }
  t1=$(date +%s.%N)
  n=$(wc -l <"$tmp/run/results.jsonl")
  ok=$(grep -c '"status":"ok"' "$tmp/run/results.jsonl")
  python3 - "$c" "$n" "$ok" "$t0" "$t1" "$latency_ms" <<'PY'
import sys
c, n, ok = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
secs = float(sys.argv[5]) - float(sys.argv[4])
ideal = c / (int(sys.argv[6]) / 1000.0)
rate = n / secs
print(f"{c:<6} {n:<8} {secs:<9.2f} {rate:<10.1f} {ideal:<10.1f} {rate / ideal:.3f}"
      + ("" if ok == n else f"   ({n - ok} not ok)"))
PY
done

# ---- 2 and 3: zero latency ----
kill "$sim_pid" 2>/dev/null; wait "$sim_pid" 2>/dev/null
python3 - "$tmp" <<'PY'
import json, sys
tmp = sys.argv[1]
p = json.load(open(f"{tmp}/profiles.json"))
p["models"]["bench/model"]["latency"] = {"ttft_ms": 0, "tokens_per_s": 0, "jitter": "none"}
json.dump(p, open(f"{tmp}/profiles0.json", "w"))
PY
"$bin/shadowsim" --port 0 --profiles "$tmp/profiles0.json" >"$tmp/sim0.out" 2>"$tmp/sim0.err" &
sim_pid=$!
for _ in $(seq 100); do grep -q listening "$tmp/sim0.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/sim0.out")
[ -n "$port" ] || { echo "run-bench: shadowsim did not start" >&2; exit 1; }

gen_items() { # N items with the same shape as above
  python3 - "$1" "$2" <<'PY'
import json, sys
with open(sys.argv[2], "w") as f:
    for i in range(int(sys.argv[1])):
        f.write(json.dumps({"id": f"b{i}", "task": "t", "prompt": f"What is {i} plus 1?",
                            "expected": str(i + 1)}) + "\n")
PY
}
zero_run() { # ITEMS: prints "seconds maxrss_kib"
  gen_items "$1" "$tmp/items.jsonl"
  rm -rf "$tmp/run"
  local t0 t1 rss
  t0=$(date +%s.%N)
  rss=$(bench/maxrss.sh "$bin/shadoweval" run "$tmp/eval.json" -o "$tmp/run" \
    --endpoint "sim=http://127.0.0.1:$port/v1" --concurrency 64 --quiet 2>&1 >/dev/null |
    sed -n 's/^maxrss_kib //p')
  t1=$(date +%s.%N)
  echo "$(echo "$t1 - $t0" | bc -l) $rss"
}

echo
if command -v wrk >/dev/null; then
  cat >"$tmp/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"bench/model","messages":[{"role":"user","content":"What is 7 plus 1?"}],"max_tokens":16}'
LUA
  wrk -t2 -c64 -d5s -s "$tmp/post.lua" "http://127.0.0.1:$port/v1/chat/completions" >"$tmp/wrk"
  wrk_rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk")
else
  wrk_rps=
fi
read -r secs rss <<<"$(zero_run 20000)"
rps=$(echo "20000 / $secs" | bc -l)
printf 'zero latency, C=64: shadoweval %.0f req/s (20000 requests in %.2f s)' "$rps" "$secs"
if [ -n "$wrk_rps" ]; then
  printf ', wrk %.0f req/s, ratio %.2f\n' "$wrk_rps" "$(echo "$rps / $wrk_rps" | bc -l)"
else
  printf ' (wrk not installed: no ratio)\n'
fi
read -r secs2 rss2 <<<"$(zero_run 200000)"
printf 'peak RSS: %.1f MB for 20,000 requests, %.1f MB for 200,000 (ratio %.2f; 1.00 = flat)\n' \
  "$(echo "$rss / 1024" | bc -l)" "$(echo "$rss2 / 1024" | bc -l)" "$(echo "$rss2 / $rss" | bc -l)"
