#!/usr/bin/env bash
# cache.sh: the response cache's three goals (issue 15), against shadowsim at
# zero latency, release binaries:
#  1. a run with --cache use (filling an empty cache) reaches >= 0.8 of the
#     requests/s of the same run with --cache off (best of 2 runs each);
#  2. the cache's files take <= 1.5 times the raw response bytes
#     (`shadoweval cache stats` after the fill);
#  3. replaying REPLAY cached responses (--cache replay, shadowsim stopped)
#     takes <= 60 s, in bounded memory (peak RSS printed for REPLAY/10 and
#     REPLAY responses: it must not follow the count).
# Figures only: it never fails on speed. Rows go to bench/results.csv
# (goal,figure,value,target,met).
#
#   bench/cache.sh [ITEMS] [REPLAY]      default: 20000 items, 1000000 replayed
#
# Small sizes (bench/cache.sh 500 2000) check the script itself in seconds.
set -u
cd "$(dirname "$0")/.."
items=${1:-20000}
replay=${2:-1000000}
bin=${BIN:-bin}
csv=${BENCH_CSV:-bench/results.csv}
[ -x "$bin/shadoweval" ] && [ -x "$bin/shadowsim" ] || make --no-print-directory all >/dev/null || exit 1

tmp=$(mktemp -d)
sim_pid=
cleanup() { [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

row() { # goal figure value target met
  [ -s "$csv" ] || echo "goal,figure,value,target,met" >"$csv"
  echo "$1,$2,$3,$4,$5" >>"$csv"
  printf '%-22s %-34s %-12s %-8s %s\n' "$1" "$2" "$3" "$4" "$5"
}

# items N: a dataset of N items (one request each) in $tmp/items-N.jsonl
dataset() {
  python3 - "$tmp/items-$1.jsonl" "$1" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write(json.dumps({"id": f"c{i}", "task": "t", "prompt": f"What is {i} plus 1?",
                            "expected": str(i + 1)}) + "\n")
PY
}
python3 - "$tmp" <<'PY'
import json, sys
tmp = sys.argv[1]
json.dump({"seed": 1, "models": {"bench/model": {
    "pricing": {"prompt": 0.000001, "completion": 0.000002},
    "latency": {"ttft_ms": 0, "tokens_per_s": 0, "jitter": "none"},
    "accuracy": {"default": 0.9}}}}, open(f"{tmp}/profiles.json", "w"))
PY
# eval N: an eval over items-N.jsonl, written to $tmp/eval-N.json
evalfile() {
  python3 - "$tmp" "$1" <<'PY'
import json, sys
tmp, n = sys.argv[1], sys.argv[2]
json.dump({"name": "cache-bench", "dataset": {"path": f"items-{n}.jsonl"},
           "endpoints": {"sim": {"base_url": "http://127.0.0.1:9/v1"}},
           "slots": {"only": "bench/model"}, "routing": {"rules": [], "default": "only"},
           "checks": [{"name": "answer", "type": "exact", "normalize": ["trim"]}],
           "params": {"max_tokens": 16, "stream": False},
           "retry": {"max_attempts": 1, "base_ms": 100, "max_ms": 1000},
           "timeout_s": 30}, open(f"{tmp}/eval-{n}.json", "w"))
PY
}

"$bin/shadowsim" --port 0 --profiles "$tmp/profiles.json" --threads 8 >"$tmp/sim.out" 2>"$tmp/sim.err" &
sim_pid=$!
for _ in $(seq 100); do grep -q listening "$tmp/sim.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/sim.out")
[ -n "$port" ] || { echo "cache-bench: shadowsim did not start" >&2; cat "$tmp/sim.err" >&2; exit 1; }
ep="sim=http://127.0.0.1:$port/v1"

# run N MODE CACHEDIR: prints the seconds the run took (fails loudly)
run() {
  rm -rf "$tmp/run"
  local t0 t1
  t0=$(date +%s.%N)
  "$bin/shadoweval" run "$tmp/eval-$1.json" -o "$tmp/run" --endpoint "$ep" --concurrency 64 \
    --cache "$2" --cache-dir "$3" --quiet >/dev/null 2>"$tmp/err" ||
    { echo "cache-bench: run --cache $2 failed:" >&2; cat "$tmp/err" >&2; exit 1; }
  t1=$(date +%s.%N)
  local n
  n=$(wc -l <"$tmp/run/results.jsonl")
  [ "$n" -eq "$1" ] || { echo "cache-bench: $n results, expected $1" >&2; exit 1; }
  python3 -c "print(float('$t1') - float('$t0'))"
}

# ---- 1: --cache use against --cache off, zero latency ----
dataset "$items"
evalfile "$items"
best_off=1e9 best_use=1e9
for i in 1 2; do
  s=$(run "$items" off "$tmp/unused") || exit 1
  best_off=$(python3 -c "print(min($best_off, $s))")
  rm -rf "$tmp/cache"
  s=$(run "$items" use "$tmp/cache") || exit 1
  best_use=$(python3 -c "print(min($best_use, $s))")
done
off_rate=$(python3 -c "print(round($items / $best_off, 1))")
use_rate=$(python3 -c "print(round($items / $best_use, 1))")
ratio=$(python3 -c "print(round($best_off / $best_use, 3))")
echo "$items requests at zero latency: --cache off $off_rate req/s, --cache use (filling) $use_rate req/s"
row cache-fill-speed "use/off requests per second" "$ratio" ">=0.8" \
  "$(python3 -c "print('yes' if $ratio >= 0.8 else 'no')")"

# ---- 2: disk use against the raw response bytes ----
"$bin/shadoweval" cache stats --cache-dir "$tmp/cache" >"$tmp/stats" ||
  { echo "cache-bench: cache stats failed" >&2; exit 1; }
raw=$(sed -n 's/^response bytes *\([0-9]*\).*/\1/p' "$tmp/stats")
disk=$(sed -n 's/^file bytes *\([0-9]*\).*/\1/p' "$tmp/stats")
dratio=$(python3 -c "print(round($disk / $raw, 3))")
echo "$items entries: $raw response bytes, $disk bytes on disk"
row cache-disk-use "file bytes / response bytes" "$dratio" "<=1.5" \
  "$(python3 -c "print('yes' if $dratio <= 1.5 else 'no')")"

# ---- 3: replaying REPLAY responses, and memory at REPLAY/10 and REPLAY ----
small=$((replay / 10))
for n in "$small" "$replay"; do
  dataset "$n"
  evalfile "$n"
  rm -rf "$tmp/big"
  run "$n" use "$tmp/big" >/dev/null || exit 1 # the fill, not measured
  kill "$sim_pid" 2>/dev/null
  wait "$sim_pid" 2>/dev/null
  sim_pid=
  rm -rf "$tmp/run"
  t0=$(date +%s.%N)
  bash bench/maxrss.sh "$bin/shadoweval" run "$tmp/eval-$n.json" -o "$tmp/run" --endpoint "$ep" \
    --cache replay --cache-dir "$tmp/big" --quiet >/dev/null 2>"$tmp/err" ||
    { echo "cache-bench: replay failed:" >&2; cat "$tmp/err" >&2; exit 1; }
  t1=$(date +%s.%N)
  rss=$(sed -n 's/^maxrss_kib //p' "$tmp/err" | tail -1)
  secs=$(python3 -c "print(round(float('$t1') - float('$t0'), 1))")
  echo "replayed $n responses in $secs s, peak RSS $rss KiB"
  if [ "$n" = "$replay" ]; then
    row cache-replay-time "seconds to replay $n responses" "$secs" "<=60" \
      "$(python3 -c "print('yes' if $secs <= 60 else 'no')")"
    row cache-replay-memory "peak RSS KiB at $n (vs $small: $small_rss)" "$rss" \
      "<=2x" "$(python3 -c "print('yes' if $rss <= 2 * $small_rss else 'no')")"
  fi
  small_rss=$rss
  rm -rf "$tmp/big" "$tmp/run" "$tmp/items-$n.jsonl"
  # shadowsim again for the next fill
  if [ "$n" != "$replay" ]; then
    "$bin/shadowsim" --port "$port" --profiles "$tmp/profiles.json" --threads 8 >"$tmp/sim.out" 2>"$tmp/sim.err" &
    sim_pid=$!
    for _ in $(seq 100); do grep -q listening "$tmp/sim.out" 2>/dev/null && break; sleep 0.1; done
    grep -q listening "$tmp/sim.out" || { echo "cache-bench: shadowsim did not restart" >&2; exit 1; }
  fi
done
