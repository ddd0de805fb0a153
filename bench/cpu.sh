#!/usr/bin/env bash
# bench/cpu.sh, issue 11 goal 3: at zero latency (shadowsim answers at once,
# non-streaming), user+sys CPU per request of `shadoweval run` at C = 64
# and its requests/s, beside wrk's (-t2 -c64, the same request) against
# the same server, the medians of interleaved rounds. Goal: at least 0.4
# of wrk's requests/s. shadowsim's own CPU per request over our runs is
# printed too, and the libcurl floor: bench/curl-floor.c ($BIN/curl-floor,
# built by make bench, or compiled into the temporary folder when missing),
# a bare libcurl client in shadoweval's network structure (two lanes, epoll
# + multi_socket, the same transfer options) sending the same request, N
# and C = 64, in the same rounds; its figures have no target. Then a perf
# profile of the same run: its top entries go to
# bench/profile.txt (the README's performance section quotes them), after
# the samples of each thread.
#
#   bench/cpu.sh   env: BENCH_CPU_REQS (20000), BENCH_WRK_S (2: seconds of each wrk run),
#                  BENCH_CPU_ROUNDS (3: rounds of both, medians printed),
#                  BENCH_PERF (1; 0: no profile)
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
n=${BENCH_CPU_REQS:-20000}
wrk_s=${BENCH_WRK_S:-2}
rounds=${BENCH_CPU_ROUNDS:-3}
command -v wrk >/dev/null || { echo "cpu: wrk is not installed (make bench installs it)" >&2; exit 2; }
bench_tmp
bench_floor
bench_profile "$BENCH_TMP/prof.json" bench/model 0
bench_sim "$BENCH_TMP/prof.json" || exit 1
url=http://127.0.0.1:$SIM_PORT/v1
bench_items "$n" "$BENCH_TMP/items.jsonl"
bench_eval "$BENCH_TMP/eval.json" items.jsonl false
se_run() { # [prefix command...]: the zero-latency run, C = 64
  rm -rf "$BENCH_TMP/run"
  "$@" "$BIN/shadoweval" run "$BENCH_TMP/eval.json" -o "$BENCH_TMP/run" --endpoint "sim=$url" \
    --concurrency 64 --quiet >/dev/null 2>"$BENCH_TMP/err" ||
    { echo "cpu: run failed: $(tail -3 "$BENCH_TMP/err")" >&2; exit 1; }
}
cat >"$BENCH_TMP/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"bench/model","messages":[{"role":"user","content":"What is 7 plus 1?"}],"max_tokens":16}'
LUA
# shadowsim's own CPU over our runs (it shares the 2 cores): utime + stime
# of its /proc stat, in clock ticks
sim_ticks() { awk '{ print $14 + $15 }' "/proc/$SIM_PID/stat"; }
# Rounds of our run then wrk's, interleaved, each side's median taken: the
# 2 cores are shared with other work, and one pair taken at different
# moments gave ratios from 0.27 to 0.42 within 20 minutes.
sim_total=0
: >"$BENCH_TMP/rounds"
for r in $(seq "$rounds"); do
  sim0=$(sim_ticks)
  se_run bench_measure "$BENCH_TMP/se.m"
  sim_total=$((sim_total + $(sim_ticks) - sim0))
  read -r wall user sys _ <"$BENCH_TMP/se.m"
  bench_wrk "$BENCH_TMP/wrk" -t2 -c64 -d"${wrk_s}s" -s "$BENCH_TMP/post.lua" "$url/chat/completions"
  read -r _ wuser wsys _ <"$BENCH_TMP/wrk.rusage"
  wreq=$(bench_wrk_requests "$BENCH_TMP/wrk")
  wrps=$(awk '/^Requests\/sec:/ {print $2}' "$BENCH_TMP/wrk")
  bench_measure "$BENCH_TMP/floor.m" "$floor" "$url/chat/completions" "$n" 64 \
    >"$BENCH_TMP/floor.out" 2>&1 || { echo "cpu: curl-floor failed: $(tail -3 "$BENCH_TMP/floor.out")" >&2; exit 1; }
  read -r fwall fuser fsys _ <"$BENCH_TMP/floor.m"
  # cpu_us rps wrk_cpu_us wrk_rps floor_cpu_us floor_rps
  echo "$(bench_fmt "($user + $sys) * 1000000 / $n") $(bench_fmt "$n / $wall")" \
    "$(bench_fmt "($wuser + $wsys) * 1000000 / $wreq") $wrps" \
    "$(bench_fmt "($fuser + $fsys) * 1000000 / $n") $(bench_fmt "$n / $fwall")" >>"$BENCH_TMP/rounds"
  echo "  round $r: $(tail -1 "$BENCH_TMP/rounds") (us/request, requests/s; wrk's; the libcurl floor's)"
done
cpu=$(cut -d' ' -f1 "$BENCH_TMP/rounds" | bench_median)
rps=$(cut -d' ' -f2 "$BENCH_TMP/rounds" | bench_median)
wcpu=$(cut -d' ' -f3 "$BENCH_TMP/rounds" | bench_median)
wrps=$(cut -d' ' -f4 "$BENCH_TMP/rounds" | bench_median)
fcpu=$(cut -d' ' -f5 "$BENCH_TMP/rounds" | bench_median)
frps=$(cut -d' ' -f6 "$BENCH_TMP/rounds" | bench_median)

how="BENCH_CPU_REQS=$n bench/cpu.sh: shadoweval run --concurrency 64, $n requests at zero latency; wrk -t2 -c64 -d${wrk_s}s; curl-floor URL $n 64; medians of $rounds interleaved rounds"
bench_row 3 cpu_us_per_request "$cpu" "" "" "$how"
bench_row 3 wrk_cpu_us_per_request "$wcpu" "" "" "$how"
bench_row 3 sim_cpu_us_per_request "$(bench_fmt "$sim_total * 1000000 / $(getconf CLK_TCK) / ($n * $rounds)")" "" "" "$how"
bench_row 3 cpu_per_request_over_wrk_ratio "$(bench_fmt "$cpu / $wcpu")" "" "" "$how"
bench_row 3 requests_per_s "$rps" "" "" "$how"
bench_row 3 wrk_requests_per_s "$wrps" "" "" "$how"
bench_row 3 requests_per_s_over_wrk_ratio "$(bench_fmt "$rps / $wrps")" ">=0.4" "" "$how"
# the libcurl floor: figures without a target
bench_row 3 libcurl_floor_requests_per_s "$frps" "" "" "$how"
bench_row 3 libcurl_floor_cpu_us_per_request "$fcpu" "" "" "$how"
bench_row 3 libcurl_floor_over_wrk_ratio "$(bench_fmt "$frps / $wrps")" "" "" "$how"
bench_row 3 requests_per_s_over_libcurl_floor_ratio "$(bench_fmt "$rps / $frps")" "" "" "$how"

# Where the CPU goes: perf's flat profile of the same run (self time).
if [ "${BENCH_PERF:-1}" = 1 ]; then
  if command -v perf >/dev/null && perf record -q -F 999 -g -o "$BENCH_TMP/perf.data" true 2>/dev/null; then
    se_run perf record -q -F 999 -g -o "$BENCH_TMP/perf.data" --
    {
      echo "# perf record -F 999 -g -- shadoweval run --concurrency 64 ($n requests, zero latency)"
      echo "# samples by thread (perf report --sort pid): the loop with lane 0, lane 1 and the scoring worker, most first"
      perf report -i "$BENCH_TMP/perf.data" --stdio --no-children --sort pid -g none 2>/dev/null |
        grep -E '^ +[0-9]' | sed 's/[[:space:]]*$//' | head -4
      echo "# perf report --no-children --sort dso,symbol: the entries over 1% of samples"
      perf report -i "$BENCH_TMP/perf.data" --stdio --no-children --sort dso,symbol \
        --percent-limit 1 -g none 2>/dev/null | grep -E '^ +[0-9]' |
        sed 's/[[:space:]-]*$//' | head -25
    } >bench/profile.txt
    echo "  perf profile: bench/profile.txt"
    sed -n '2,16p' bench/profile.txt
  else
    echo "  perf profile: perf is missing or not allowed here (kernel.perf_event_paranoid)" >&2
  fi
fi
