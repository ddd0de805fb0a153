#!/usr/bin/env bash
# run-bench: is `shadoweval run` latency-bound? With shadowsim answering
# every request after L = 200 ms and --concurrency C, the ideal throughput is
# C/L requests per second; this prints what the engine achieves and the ratio
# (the goal is >= 0.9 at C = 256). Figures only: it never fails on speed.
#
#   bench/run-bench.sh [ITEMS] [CONCURRENCY...]     default: 8000 items, C = 256
#
# Uses the release binaries in bin/ (make all), 127.0.0.1 only, a temp folder.
set -u
cd "$(dirname "$0")/.."
items=${1:-8000}
shift || true
concs=${*:-256}
latency_ms=200
[ -x bin/shadoweval ] && [ -x bin/shadowsim ] || make --no-print-directory all >/dev/null || exit 1

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

bin/shadowsim --port 0 --profiles "$tmp/profiles.json" --threads 8 >"$tmp/sim.out" 2>"$tmp/sim.err" &
sim_pid=$!
for _ in $(seq 100); do grep -q listening "$tmp/sim.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/sim.out")
[ -n "$port" ] || { echo "run-bench: shadowsim did not start" >&2; cat "$tmp/sim.err" >&2; exit 1; }

printf '%-6s %-8s %-9s %-10s %-10s %s\n' C items seconds 'req/s' 'C/L' ratio
for c in $concs; do
  rm -rf "$tmp/run"
  t0=$(date +%s.%N)
  bin/shadoweval run "$tmp/eval.json" -o "$tmp/run" --endpoint "sim=http://127.0.0.1:$port/v1" \
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
