#!/usr/bin/env bash
# sim-bench.sh: shadowsim's own figures, on 127.0.0.1 only, bounded in time.
#   1. requests/s of non-streaming chat completions at zero latency under
#      wrk -t2 -c64 -d5s (POST body from a generated Lua script);
#   2. resident memory (VmRSS) of shadowsim holding 1000 concurrent streaming
#      connections (wrk -c1000 against a model that streams for ~6 s).
# Builds the release binary unless SHADOWSIM points at one. Needs wrk.
# Env: SHADOWSIM (binary), BUILD/BIN (make folders), DURATION (seconds, 5).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

BUILD=${BUILD:-build}
BIN=${BIN:-bin}
DURATION=${DURATION:-5}
if [ -z "${SHADOWSIM:-}" ]; then
  make --no-print-directory BUILD="$BUILD" BIN="$BIN" "$BIN/shadowsim" >/dev/null
  SHADOWSIM=$BIN/shadowsim
fi
command -v wrk >/dev/null || { echo "sim-bench: wrk is not installed (make bench installs it)" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

cat >"$tmp/profiles.json" <<'JSON'
{"seed": 1, "models": {
  "bench/zero": {"pricing": {"prompt": 0.00000015, "completion": 0.0000006}, "output_tokens": 40},
  "bench/stream": {"latency": {"ttft_ms": 200, "tokens_per_s": 20}, "output_tokens": 120}
}}
JSON
cat >"$tmp/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"bench/zero","messages":[{"role":"system","content":"Answer briefly."},{"role":"user","content":"What is the capital of France? Answer with one word."}]}'
LUA
cat >"$tmp/stream.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"bench/stream","stream":true,"messages":[{"role":"user","content":"Tell me a long story."}]}'
LUA

"$SHADOWSIM" --port 0 --profiles "$tmp/profiles.json" >"$tmp/out" &
pid=$!
for _ in $(seq 100); do grep -q listening "$tmp/out" 2>/dev/null && break; sleep 0.05; done
port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$tmp/out")
[ -n "$port" ] || { echo "sim-bench: shadowsim did not start" >&2; exit 1; }
url=http://127.0.0.1:$port/v1/chat/completions

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
echo "shadowsim: $SHADOWSIM on 127.0.0.1:$port, $(nproc) cores, idle RSS $(rss_kb) KiB"

wrk -t2 -c64 -d"${DURATION}s" -s "$tmp/post.lua" "$url" >"$tmp/wrk1"
rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk1")
lat=$(awk '$1 == "Latency" {print $2; exit}' "$tmp/wrk1")
errs=$(awk '/Non-2xx|Socket errors/' "$tmp/wrk1")
echo "zero-latency non-streaming: $rps req/s (wrk -t2 -c64 -d${DURATION}s, mean latency $lat)${errs:+, $errs}"
bench_row sim sim_requests_per_s "$rps" "" "" "bench/sim-bench.sh: wrk -t2 -c64 -d${DURATION}s, zero latency"

# 1000 streams of about 6 s each; sample while they are all open.
wrk -t2 -c1000 -d8s --timeout 20s -s "$tmp/stream.lua" "$url" >"$tmp/wrk2" &
wrkpid=$!
peak=0 conns=0
for _ in $(seq 12); do
  sleep 0.5
  r=$(rss_kb); c=$(ss -Htn state established "( sport = :$port )" 2>/dev/null | wc -l)
  [ "$r" -gt "$peak" ] && peak=$r
  [ "$c" -gt "$conns" ] && conns=$c
done
wait "$wrkpid" || true
grep -E "requests in|Socket errors|Non-2xx" "$tmp/wrk2" | sed "s/^ */  wrk: /"
echo "streaming: peak RSS $peak KiB ($((peak / 1024)) MiB) with $conns concurrent streaming connections"
bench_row sim sim_rss_mb_1000_streams "$(bench_fmt "$peak / 1024")" "" "" "bench/sim-bench.sh: wrk -t2 -c1000, streams of about 6 s"
kill -TERM "$pid"; st=0; wait "$pid" || st=$?; pid=
echo "shadowsim stopped (exit $st)"
