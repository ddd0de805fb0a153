#!/usr/bin/env bash
# validate on a 100,000-item JSONL: memory must not follow the dataset's size.
# Prints the peak RSS for 1,000 and for 100,000 items and their ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gen() { # N items cycling over the shipped GSM8K items, with unique ids
  awk -v n="$1" 'BEGIN{i=0} {line[i++]=$0} END{for(k=0;k<n;k++){l=line[k%i]; sub(/"id": "[^"]*"/, "\"id\": \"bench-" k "\"", l); print l}}' datasets/gsm8k-100.jsonl
}
for n in 1000 100000; do
  gen $n > "$work/items-$n.jsonl"
  sed "s|\"path\": \"[^\"]*\"|\"path\": \"items-$n.jsonl\"|" evals/openrouter.json |
    sed 's|"pricing": "pricing/openrouter-models.json"|"pricing": "pricing.json"|' > "$work/eval-$n.json"
  cp evals/pricing/openrouter-models.json "$work/pricing.json"
  size=$(du -m "$work/items-$n.jsonl" | cut -f1)
  start=$(date +%s.%N)
  # validate needs the endpoint's key variable set (never sent anywhere here)
  rss=$(OPENROUTER_API_KEY=bench-placeholder bench/maxrss.sh ${BIN:-bin}/shadoweval validate "$work/eval-$n.json" 2>&1 >/dev/null | sed -n 's/^maxrss_kib //p')
  end=$(date +%s.%N)
  printf 'validate %7d items (%4d MB): peak RSS %6.1f MB, %.2f s\n' "$n" "$size" "$(echo "$rss/1024" | bc -l)" "$(echo "$end-$start" | bc -l)"
  eval "rss_$n=$rss"
  bench_row validate "validate_rss_mb_$n" "$(bench_fmt "$rss / 1024")" "" "" "bench/validate-memory.sh"
done
printf 'RSS ratio 100,000 / 1,000 items: %.2f (1.00 = flat)\n' "$(echo "$rss_100000/$rss_1000" | bc -l)"
