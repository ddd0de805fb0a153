# bench/lib.sh: what the bench scripts share; sourced, never run.
#
#   bench_row GOAL FIGURE VALUE TARGET [MET] [COMMAND]
#       appends "GOAL,FIGURE,VALUE,TARGET,MET" to bench/results.csv (made
#       with its header when missing) and prints it with the command that
#       produced the figure. TARGET is "<=X", ">=X", "<X", ">X" or "" (a
#       figure without a goal); MET is computed from it when left empty:
#       "met", "not met", or "-" without a target. Commands go to
#       bench/commands.csv (FIGURE,COMMAND) for scripts/bench-table.sh.
#   bench_tmp                 a temporary folder in $BENCH_TMP, removed on exit
#   bench_sim PROFILES [ARGS] starts shadowsim, sets SIM_PORT (killed on exit)
#   bench_profile FILE MODEL TTFT_MS [OUTPUT_TOKENS]  a fixed-latency profile
#   bench_items N FILE        N items "What is i plus 1?" with unique ids
#   bench_eval FILE ITEMS [STREAM] [CHECKS_JSON]  a one-endpoint eval
#   bench_measure OUT CMD...  runs CMD, writes "wall_s user_s sys_s maxrss_kib"
#   bench_wrk OUT ARGS...     wrk under bench_measure (CPU of the load generator)
#   bench_fmt EXPR            a number from bc, printed with 3 decimals
#
# Figures are printed, never asserted: only `make bench-check` judges them,
# the ratios among them (a FIGURE name holding "ratio" or a "/").
# Everything listens on 127.0.0.1 and every process started here is stopped
# by the EXIT trap.

BENCH_CSV=${BENCH_CSV:-bench/results.csv}
BENCH_CMDS=${BENCH_CMDS:-bench/commands.csv}
BIN=${BIN:-bin}
BENCH_PIDS=()

bench_cleanup() {
  local p
  for p in "${BENCH_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${BENCH_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  [ -n "${BENCH_TMP:-}" ] && rm -rf "$BENCH_TMP"
  return 0
}
trap bench_cleanup EXIT

bench_tmp() {
  BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/se-bench-XXXXXX")
}

# bench_floor: sets $floor to the libcurl floor, bench/curl-floor.c (a bare
# libcurl client in shadoweval's network structure): $BIN/curl-floor, made
# by make bench, or compiled into $BENCH_TMP when missing.
bench_floor() {
  floor=$BIN/curl-floor
  [ -x "$floor" ] && return 0
  floor=$BENCH_TMP/curl-floor
  echo "  no $BIN/curl-floor: compiling bench/curl-floor.c into $floor"
  ${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 bench/curl-floor.c -lcurl -lpthread -o "$floor" ||
    { echo "bench: cannot compile bench/curl-floor.c" >&2; exit 2; }
}

# met when VALUE satisfies TARGET ("<=1.5"), "not met" otherwise, "-" without one.
bench_met() {
  local value=$1 target=$2 op num
  [ -z "$target" ] && { echo -; return; }
  op=${target%%[0-9.]*}
  num=${target#"$op"}
  [ -z "$value" ] || [ "$value" = nan ] && { echo "not met"; return; }
  if [ "$(echo "$value $op $num" | bc -l)" = 1 ]; then echo met; else echo "not met"; fi
}

bench_row() {
  local goal=$1 figure=$2 value=$3 target=$4 met=${5:-} cmd=${6:-}
  [ -z "$met" ] && met=$(bench_met "$value" "$target")
  [ -s "$BENCH_CSV" ] || echo "goal,figure,value,target,met" >"$BENCH_CSV"
  echo "$goal,$figure,$value,$target,$met" >>"$BENCH_CSV"
  if [ -n "$cmd" ]; then
    [ -s "$BENCH_CMDS" ] || echo "figure,command" >"$BENCH_CMDS"
    printf '%s,"%s"\n' "$figure" "${cmd//\"/\"\"}" >>"$BENCH_CMDS"
  fi
  [ -n "$cmd" ] && [ "$cmd" != "${BENCH_LAST_CMD:-}" ] && printf '    %s\n' "$cmd" && BENCH_LAST_CMD=$cmd
  printf '  goal %-8s %-34s %12s  %-9s %s\n' "$goal" "$figure" "$value" "${target:--}" "$met"
  return 0
}

# bench_median: the median of the numbers on stdin, one a line (the lower
# middle one of an even count).
bench_median() { # of the numbers read, "nan"s left out ("nan" when none)
  grep -v '^nan$' | sort -g | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "nan" }'
}

# VALUE minus SUB, formatted; "nan" stays "nan".
bench_minus() {
  if [ "$1" = nan ]; then echo nan; else bench_fmt "$1 - $2"; fi
}

bench_fmt() {
  printf '%.3f' "$(echo "$1" | bc -l)"
}

# bench_sim PROFILES [ARGS...]: shadowsim on a free port; waits for its
# "listening on" line (a line in a file, bounded to 30 s).
bench_sim() {
  local out="$BENCH_TMP/sim.$RANDOM.out"
  "$BIN/shadowsim" --port 0 --profiles "$@" >"$out" 2>"$out.err" &
  local pid=$!
  BENCH_PIDS+=("$pid")
  local i
  for i in $(seq 300); do
    grep -q '^listening on' "$out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  SIM_PID=$pid
  SIM_PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$out")
  [ -n "$SIM_PORT" ] || { echo "bench: shadowsim did not start: $(cat "$out.err")" >&2; return 1; }
}

bench_sim_stop() {
  kill "$SIM_PID" 2>/dev/null
  wait "$SIM_PID" 2>/dev/null
  return 0
}

# bench_profile FILE MODEL TTFT_MS [OUTPUT_TOKENS]: every reply after exactly
# TTFT_MS (no jitter, all tokens at once), always right.
bench_profile() {
  cat >"$1" <<JSON
{"seed": 1, "models": {"$2": {
  "pricing": {"prompt": 0.000001, "completion": 0.000002},
  "latency": {"ttft_ms": $3, "tokens_per_s": 0, "jitter": "none"},
  "output_tokens": ${4:-8}, "accuracy": {"default": 1.0}}}}
JSON
}

bench_items() {
  awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++)
    printf "{\"id\":\"b%d\",\"task\":\"t\",\"prompt\":\"What is %d plus 1?\",\"expected\":\"%d\"}\n", i, i, i + 1 }' >"$2"
}

# bench_eval FILE ITEMS [STREAM] [CHECKS_JSON]: model bench/model on endpoint
# "sim" (pointed at shadowsim with --endpoint), no retries.
bench_eval() {
  local checks=${4:-'[{"name": "answer", "type": "exact", "normalize": ["trim"]}]'}
  cat >"$1" <<JSON
{"name": "bench", "dataset": {"path": "$2"},
 "endpoints": {"sim": {"base_url": "http://127.0.0.1:9/v1"}},
 "slots": {"only": "bench/model"}, "routing": {"rules": [], "default": "only"},
 "checks": $checks,
 "params": {"max_tokens": 16, "stream": ${3:-false}},
 "retry": {"max_attempts": 1, "base_ms": 100, "max_ms": 1000}, "timeout_s": 60}
JSON
}

# bench_measure OUT CMD...: wall time, user and sys CPU and peak RSS of CMD
# (wait4's rusage) into OUT as "wall_s user_s sys_s maxrss_kib".
bench_measure() {
  local out=$1
  shift
  python3 - "$out" "$@" <<'PY'
import os, sys, time
out, argv = sys.argv[1], sys.argv[2:]
t0 = time.monotonic()
pid = os.fork()
if pid == 0:
    os.execvp(argv[0], argv)
_, status, ru = os.wait4(pid, 0)
wall = time.monotonic() - t0
with open(out, "w") as f:
    f.write("%.6f %.6f %.6f %d\n" % (wall, ru.ru_utime, ru.ru_stime, ru.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
PY
}

# bench_wrk OUT ARGS...: wrk's report in OUT, its rusage in OUT.rusage.
bench_wrk() {
  local out=$1
  shift
  bench_measure "$out.rusage" wrk "$@" >"$out"
}

# The requests wrk completed, from its report.
bench_wrk_requests() {
  awk '/requests in/ {print $1; exit}' "$1"
}

# bench_pcts FILE FIELD: "p50 p99" of a numeric field of results.jsonl lines.
bench_pcts() {
  python3 - "$1" "$2" <<'PY'
import json, sys
v = sorted(x for x in (json.loads(l)[sys.argv[2]] for l in open(sys.argv[1]) if l.strip())
           if x is not None)
pick = lambda q: v[min(len(v) - 1, int(q * len(v)))]
print("%.3f %.3f" % (pick(0.50), pick(0.99)) if v else "nan nan")
PY
}

# wrk's percentile (50%, 99%) in ms from a report made with --latency
# ("nan" when the report has none).
bench_wrk_pct() {
  awk -v p="$2" '$1 == p {
    v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
    if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
    printf "%.3f\n", v; found = 1; exit } END { if (!found) print "nan" }' "$1"
}

# The result lines of a run folder's results.jsonl whose status is not ok.
bench_not_ok() {
  grep -vc '"status":"ok"' "$1" || true
}

# Raises the soft open-file limit to the hard one (C = 4096 needs about 8,300
# descriptors in shadoweval and as many in shadowsim) and says so.
bench_nofile() {
  local before
  before=$(ulimit -n)
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  echo "  open-file limit: soft $before raised to $(ulimit -n) (the hard limit)"
}
