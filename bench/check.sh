#!/usr/bin/env bash
# bench/check.sh (make bench-check): reads bench/results.csv and exits 1 when
# a ratio (a figure whose name holds "ratio" or a "/") misses its target by more than
# 20%: under 0.8 times a ">=" target, over 1.2 times a "<=" one. Other
# figures and misses within 20% are printed, not failed: the machine is
# shared and noisy. Exit 2 when there is no results file (run make bench).
set -u
cd "$(dirname "$0")/.."
csv=${BENCH_CSV:-bench/results.csv}
[ -s "$csv" ] || { echo "bench-check: no $csv (run make bench first)" >&2; exit 2; }
awk -F, '
NR == 1 { next }
$2 ~ /ratio|\// && $4 ~ /^(<=|>=|<|>)[0-9.]+$/ {
  op = $4; sub(/[0-9.]+$/, "", op); t = substr($4, length(op) + 1) + 0
  if ($3 == "nan" || $3 == "") { bad++; printf "bench-check: goal %s %s: no figure (target %s)\n", $1, $2, $4; next }
  v = $3 + 0
  far = (op ~ />/) ? v < 0.8 * t : v > 1.2 * t
  if (far) { bad++; printf "bench-check: goal %s %s = %s misses %s by more than 20%%\n", $1, $2, $3, $4 }
  else if ($5 != "met" && $5 != "yes") printf "bench-check: goal %s %s = %s misses %s, within 20%%\n", $1, $2, $3, $4
  n++
}
END {
  printf "bench-check: %d ratios, %d missing their goal by more than 20%%\n", n, bad
  exit bad > 0
}' "$csv"
