#!/usr/bin/env bash
# bench/latency.sh, issue 11 goal 2: recorded latency and TTFT minus
# shadowsim's configured fixed latency L (streaming, no jitter), p50 and
# p99, at C = 64, 256 and 1024, beside wrk's error against the same server
# with the same streaming request. Goal: the p99 error at most 1.5 times
# wrk's at every C. Then, at C = 64, the p99 error with a CPU-heavy check
# (two regexes run to PCRE2's match limit, a few ms per output; the cost
# is printed) minus the p99 error without it: under 2 ms.
#
# Both sides run the same number of waves of C requests: wrk for BENCH_WRK_S
# seconds (BENCH_WRK_S * 1000 / L waves), shadoweval for as many waves. The
# first wave (every connection opened at once, a burst the server answers
# late) then weighs the same in both p99s; with 5 waves against wrk's 30 it
# was a fifth of ours and a thirtieth of wrk's, and our p99 was that burst.
#
# Both sides meet a warm server: before each measured run (ours and wrk's),
# an unmeasured wrk run of BENCH_LAT_WARM_S seconds at the same C. Against a
# fresh shadowsim, wrk's own first wave came back 11 ms late (max 111.4 ms
# at L = 100, then 102.5 ms on the next run against the same server), and
# ours always ran first, so only ours paid for the server's warm-up.
#
# Each side's p99 is a first-wave figure: the server answers a burst of C
# new connections late, by 1.5 to 4.7 ms at C = 64 from one wrk run to the
# next (ours: 2.0 to 4.1 ms), so the ratio of one pair of runs moved from
# 0.7 to 2.6 within minutes; each figure is the median of BENCH_LAT_ROUNDS
# alternated rounds. tcpdump on the loopback put the same first-wave delay
# on the wire, between the request's packet and the reply's (1 December
# 2026: first wave 1.7 ms late at p50, 4.5 ms at most; ours recorded within
# 0.5 ms of the wire's figures).
#
# The CPU-heavy check's shift is the median over BENCH_LAT_HEAVY_ROUNDS
# alternated pairs (plain, heavy) of the p99 differences: a single pair's
# p99s are first-wave figures whose spread from run to run (4 to 14 ms at
# C = 64) is larger than the 2 ms goal.
#
#   bench/latency.sh   env: BENCH_LAT_MS (100), BENCH_LAT_CONCS ("64 256 1024"),
#                      BENCH_WRK_S (3: seconds of each wrk run),
#                      BENCH_LAT_WAVES (default BENCH_WRK_S * 1000 / L:
#                      requests = waves * C, at least 1000),
#                      BENCH_LAT_WARM_S (1), BENCH_LAT_HEAVY_ROUNDS (5),
#                      BENCH_LAT_ROUNDS (3: alternated rounds of ours and wrk's
#                      at each C, every figure the median of its rounds)
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
lat=${BENCH_LAT_MS:-100}
concs=${BENCH_LAT_CONCS:-64 256 1024}
wrk_s=${BENCH_WRK_S:-3}
waves=${BENCH_LAT_WAVES:-$((wrk_s * 1000 / lat))}
warm_s=${BENCH_LAT_WARM_S:-1}
heavy_rounds=${BENCH_LAT_HEAVY_ROUNDS:-5}
rounds=${BENCH_LAT_ROUNDS:-3}
[ "$waves" -ge 1 ] || waves=1
command -v wrk >/dev/null || { echo "latency: wrk is not installed (make bench installs it)" >&2; exit 2; }
bench_nofile
bench_tmp
bench_profile "$BENCH_TMP/prof.json" bench/model "$lat"
bench_sim "$BENCH_TMP/prof.json" || exit 1
url=http://127.0.0.1:$SIM_PORT/v1
cat >"$BENCH_TMP/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"bench/model","stream":true,"messages":[{"role":"user","content":"What is 7 plus 1?"}],"max_tokens":16}'
LUA
heavy='[{"name": "answer", "type": "exact", "normalize": ["trim"]},
 {"name": "heavy1", "type": "not_regex", "pattern": "(?s)^(\\w+\\s?)*$"},
 {"name": "heavy2", "type": "not_regex", "pattern": "(?s)^(\\w+\\s?)*$"}]'

# warm C: the unmeasured run that warms the server before a measured one
warm() {
  wrk -t2 -c"$1" -d"${warm_s}s" --timeout 30s -s "$BENCH_TMP/post.lua" \
    "$url/chat/completions" >/dev/null 2>&1
}

# run N C NAME [CHECKS]: the p50/p99 errors of latency_ms and ttft_ms into
# $BENCH_TMP/NAME.err ("lat50 lat99 ttft50 ttft99"), its rusage in NAME.m.
run() {
  local n=$1 c=$2 name=$3
  bench_items "$n" "$BENCH_TMP/items.jsonl"
  bench_eval "$BENCH_TMP/eval.json" items.jsonl true "${4:-}"
  rm -rf "$BENCH_TMP/run"
  warm "$c"
  bench_measure "$BENCH_TMP/$name.m" "$BIN/shadoweval" run "$BENCH_TMP/eval.json" \
    -o "$BENCH_TMP/run" --endpoint "sim=$url" --concurrency "$c" --quiet >/dev/null \
    2>"$BENCH_TMP/err" || { echo "latency: run failed: $(tail -3 "$BENCH_TMP/err")" >&2; exit 1; }
  read -r l50 l99 <<<"$(bench_pcts "$BENCH_TMP/run/results.jsonl" latency_ms)"
  read -r t50 t99 <<<"$(bench_pcts "$BENCH_TMP/run/results.jsonl" ttft_ms)"
  echo "$(bench_minus "$l50" "$lat") $(bench_minus "$l99" "$lat") $(bench_minus "$t50" "$lat") $(bench_minus "$t99" "$lat")" \
    >"$BENCH_TMP/$name.err"
  bench_not_ok "$BENCH_TMP/run/results.jsonl" >"$BENCH_TMP/$name.bad"
}

for c in $concs; do
  n=$((waves * c))
  [ "$n" -lt 1000 ] && n=1000
  # rounds of ours then wrk's, each figure the median of its rounds
  : >"$BENCH_TMP/rounds$c"
  bad=0
  for r in $(seq "$rounds"); do
    run "$n" "$c" "c$c"
    warm "$c"
    bench_wrk "$BENCH_TMP/wrk$c" -t2 -c"$c" -d"${wrk_s}s" --timeout 30s --latency \
      -s "$BENCH_TMP/post.lua" "$url/chat/completions"
    # lat50 lat99 ttft50 ttft99 wrk50 wrk99
    echo "$(<"$BENCH_TMP/c$c.err")" \
      "$(bench_minus "$(bench_wrk_pct "$BENCH_TMP/wrk$c" 50%)" "$lat")" \
      "$(bench_minus "$(bench_wrk_pct "$BENCH_TMP/wrk$c" 99%)" "$lat")" >>"$BENCH_TMP/rounds$c"
    nb=$(<"$BENCH_TMP/c$c.bad")
    bad=$((bad + nb))
    werr=$(grep -E '^ +(Socket errors|Non-2xx)' "$BENCH_TMP/wrk$c" | tr -s ' ' | tr '\n' ';')
    note=
    [ "$nb" = 0 ] || note=" $nb of our requests not ok;"
    [ -z "$werr" ] || note="$note wrk: $werr"
    echo "  C=$c round $r: $(tail -1 "$BENCH_TMP/rounds$c") (ms: our p50 p99, TTFT p50 p99; wrk's p50 p99)$note"
  done
  col() { cut -d' ' -f"$1" "$BENCH_TMP/rounds$c" | bench_median; }
  l50=$(col 1) l99=$(col 2) t50=$(col 3) t99=$(col 4) w50=$(col 5) w99=$(col 6)
  how="BENCH_LAT_CONCS=$c bench/latency.sh: shadoweval run, $n streamed requests, L=${lat}ms, C=$c; wrk -t2 -c$c -d${wrk_s}s --latency; each after a ${warm_s}s wrk warm-up at C; medians of $rounds alternated rounds"
  [ "$bad" = 0 ] || how="$how ($bad of our requests not ok)"
  bench_row 2 "latency_err_p50_ms_c$c" "$l50" "" "" "$how"
  bench_row 2 "latency_err_p99_ms_c$c" "$l99" "" "" "$how"
  bench_row 2 "ttft_err_p50_ms_c$c" "$t50" "" "" "$how"
  bench_row 2 "ttft_err_p99_ms_c$c" "$t99" "" "" "$how"
  bench_row 2 "wrk_err_p50_ms_c$c" "$w50" "" "" "$how"
  bench_row 2 "wrk_err_p99_ms_c$c" "$w99" "" "" "$how"
  if [ "$l99" != nan ] && [ "$w99" != nan ] && [ "$(echo "$w99 > 0" | bc -l)" = 1 ]; then
    bench_row 2 "p99_err_over_wrk_ratio_c$c" "$(bench_fmt "$l99 / $w99")" "<=1.5" "" "$how"
  else
    bench_row 2 "p99_err_over_wrk_ratio_c$c" nan "<=1.5" "not met" "$how (wrk's p99 error is $w99 ms: no ratio)"
  fi
done

# A CPU-heavy check, at C = 64: the shift of the p99 error (the median of
# alternated pairs), and its cost.
n=1000 # the heavy check costs ~6 ms of CPU per output: 6 s a run here
: >"$BENCH_TMP/pairs"
for r in $(seq "$heavy_rounds"); do
  run "$n" 64 plain
  run "$n" 64 heavy "$heavy"
  read -r _ p99 _ _ <"$BENCH_TMP/plain.err"
  read -r _ h99 _ _ <"$BENCH_TMP/heavy.err"
  read -r _ pu ps _ <"$BENCH_TMP/plain.m"
  read -r _ hu hs _ <"$BENCH_TMP/heavy.m"
  # shift cpu_ms_per_output
  echo "$(bench_fmt "$h99 - $p99") $(bench_fmt "($hu + $hs - $pu - $ps) * 1000 / $n")" >>"$BENCH_TMP/pairs"
  echo "  heavy pair $r: p99 error $p99 ms plain, $h99 ms heavy"
done
how="bench/latency.sh: shadoweval run, $n streamed requests, L=${lat}ms, C=64, with and without two checks \"(?s)^(\\w+\\s?)*\$\", medians of $heavy_rounds alternated pairs"
bench_row 2 heavy_check_cpu_ms_per_output "$(cut -d' ' -f2 "$BENCH_TMP/pairs" | bench_median)" "" "" "$how"
bench_row 2 heavy_check_p99_shift_ms "$(cut -d' ' -f1 "$BENCH_TMP/pairs" | bench_median)" "<2" "" "$how"
