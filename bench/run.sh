#!/usr/bin/env bash
# make bench: every benchmark, one after another, on 127.0.0.1 only. Each
# prints its figures and appends them to bench/results.csv through
# bench_row (bench/lib.sh: goal,figure,value,target,met); this script starts
# the file afresh, then prints each goal as met or not met with the commands
# that produced its figures. It fails only when a script fails, never on
# speed: `make bench-check` judges the ratios.
#
# A helper adding figures writes bench/<name>.sh (sourcing bench/lib.sh,
# calling bench_row) and adds one line to the list below.
#
#   bench/run.sh [SCRIPT...]   default: the list below
set -u
cd "$(dirname "$0")/.."
scripts=(
  bench/memory.sh      # issue 11 goal 1: peak RSS at 10,000 and 1,000,000 requests
  bench/latency.sh     # goal 2: latency and TTFT error against wrk's, a CPU-heavy check
  bench/cpu.sh         # goal 3: CPU per request and requests/s against wrk's, perf profile
  bench/concurrency.sh # goal 4: C/L up to C = 4096, memory per 1,000 in flight
  bench/tls.sh         # goal 5: C/L, connections and handshakes over TLS + HTTP/2 (nghttpx)
  bench/validate-memory.sh
  bench/sim-bench.sh
  bench/summarize-bench.sh
  bench/cache.sh       # the response cache (issue 15)
  bench/shard-scale.sh # the scale model of shards (issue 15)
  bench/sweep.sh       # issue 14: 10,000 policies over 100,000 items under 10 s
  bench/diff.sh        # issue 13: diff's first item on 1,000,000 lines under 1 s
  bench/judge.sh       # issue 12: graded lines/s with a judge check on versus off
)
[ $# -gt 0 ] && scripts=("$@")
export BENCH_CSV=${BENCH_CSV:-bench/results.csv} BENCH_CMDS=${BENCH_CMDS:-bench/commands.csv}
echo "goal,figure,value,target,met" >"$BENCH_CSV"
echo "figure,command" >"$BENCH_CMDS"
load=$(cut -d' ' -f1 /proc/loadavg)
echo "bench: $(nproc) cores, load average $load, $(date -u +%Y-%m-%dT%H:%MZ)"
# the conditions of the run, for scripts/bench-table.sh
echo "run,cores,$(nproc),,-" >>"$BENCH_CSV"
echo "run,load_average,$load,,-" >>"$BENCH_CSV"
echo "run,date,$(date -u +%Y-%m-%d),,-" >>"$BENCH_CSV"
status=0
start=$(date +%s)
for b in "${scripts[@]}"; do
  echo "== $b"
  t0=$(date +%s)
  bash "$b" || { echo "bench: $b failed" >&2; status=1; }
  echo "   ($(($(date +%s) - t0)) s)"
done
echo
echo "== goals ($(($(date +%s) - start)) s in all; figures in $BENCH_CSV)"
awk -F, '
FNR == 1 { next }
FILENAME == ARGV[1] { c = substr($0, length($1) + 2); gsub(/^"|"$/, "", c); gsub(/""/, "\"", c); cmd[$1] = c; next }
$1 == "run" { next }
!($1 in seen) { seen[$1] = 1; order[++n] = $1 }
($2 in cmd) && !(($1, cmd[$2]) in had) { had[$1, cmd[$2]] = 1; cmds[$1] = cmds[$1] "\n    command: " cmd[$2] }
$4 != "" { targets[$1]++; if ($5 != "met" && $5 != "yes") { miss[$1]++; why[$1] = why[$1] sprintf("\n    %s = %s, target %s", $2, $3, $4) } }
END {
  for (i = 1; i <= n; i++) {
    g = order[i]
    if (!targets[g]) continue
    printf "goal %s: %s", g, miss[g] ? "not met" : "met"
    printf " (%d of %d figures with a target met)%s%s\n", targets[g] - miss[g], targets[g], why[g], cmds[g]
  }
}' "$BENCH_CMDS" "$BENCH_CSV"
echo "(commands per figure: $BENCH_CMDS; bash bench/check.sh judges the ratios)"
exit $status
