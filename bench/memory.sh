#!/usr/bin/env bash
# bench/memory.sh, issue 11 goal 1: peak RSS of `shadoweval run` at 10,000
# and at 1,000,000 requests, C = 256, against a zero-latency shadowsim. The
# goal: the large run at most 1.5 times the small one, and under 64 MB.
#
#   bench/memory.sh      env: BENCH_MEM_SMALL (10000), BENCH_MEM_LARGE (1000000)
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
small=${BENCH_MEM_SMALL:-10000}
large=${BENCH_MEM_LARGE:-1000000}
bench_tmp
bench_profile "$BENCH_TMP/prof.json" bench/model 0
bench_sim "$BENCH_TMP/prof.json" || exit 1
for n in "$small" "$large"; do
  bench_items "$n" "$BENCH_TMP/items-$n.jsonl"
  bench_eval "$BENCH_TMP/eval-$n.json" "items-$n.jsonl"
  bench_measure "$BENCH_TMP/m-$n" "$BIN/shadoweval" run "$BENCH_TMP/eval-$n.json" \
    -o "$BENCH_TMP/run-$n" --endpoint "sim=http://127.0.0.1:$SIM_PORT/v1" \
    --concurrency 256 --quiet >/dev/null 2>"$BENCH_TMP/err" ||
    { echo "memory: the run of $n items failed: $(tail -3 "$BENCH_TMP/err")" >&2; exit 1; }
  read -r _ _ _ kib <"$BENCH_TMP/m-$n"
  mb=$(bench_fmt "$kib / 1024")
  eval "mb_$n=$mb"
  if [ "$n" = "$large" ]; then fig=run_rss_mb_large target="<64"; else fig=run_rss_mb_small target=""; fi
  bench_row 1 "$fig" "$mb" "$target" "" \
    "BENCH_MEM_SMALL=$small BENCH_MEM_LARGE=$large bench/memory.sh: shadoweval run, $n items, C=256"
  rm -rf "$BENCH_TMP/run-$n" "$BENCH_TMP/items-$n.jsonl"
done
eval "a=\$mb_$small b=\$mb_$large"
bench_row 1 run_rss_large_over_small_ratio "$(bench_fmt "$b / $a")" "<=1.5" "" \
  "BENCH_MEM_SMALL=$small BENCH_MEM_LARGE=$large bench/memory.sh"
