#!/usr/bin/env bash
# run-shards.sh: one eval in N shard processes on one big machine (GNU
# parallel), then merged into one run folder.
#
#   examples/gnu-parallel/run-shards.sh EVAL.json N [RUNS] [-- run flags...]
#
# Shard K writes RUNS/shard-K (RUNS defaults to runs/<eval file name>); the
# merged run is RUNS/merged. Every shard takes 1/N of each endpoint's rpm
# and max_concurrency (--shard-limits split, the default), so the N
# processes together keep the provider's limits. Flags after "--" go to
# every `shadoweval run` (for example --endpoint NAME=URL, --max-cost USD:
# a budget is per shard). Run it from the folder the eval's relative paths
# start from: merge reads the dataset through the recorded config path to
# list the items no shard holds.
#
# Exit: the first failing shard's status (the merge still runs, so the
# shards that finished are joined and the merged status says "incomplete"),
# else merge's. SHADOWEVAL names the binary (default: shadoweval on PATH).
set -uo pipefail

usage() {
  echo "usage: $0 EVAL.json N [RUNS] [-- run flags...]" >&2
  exit 2
}
[ $# -ge 2 ] || usage
eval_file=$1 n=$2
shift 2
runs=runs/$(basename "$eval_file" .json)
if [ $# -gt 0 ] && [ "$1" != -- ]; then
  runs=$1
  shift
fi
if [ $# -gt 0 ]; then
  [ "$1" = -- ] || usage
  shift
fi
case $n in '' | *[!0-9]* | 0) echo "$0: N must be a whole number of shards, got \"$n\"" >&2; exit 2 ;; esac
se=${SHADOWEVAL:-shadoweval}
command -v parallel >/dev/null || { echo "$0: GNU parallel is not installed (Debian: apt-get install parallel)" >&2; exit 2; }

mkdir -p "$runs" || exit 2
# One job per shard, all at once; a failed shard does not stop the others.
# --halt never: every shard runs; parallel's exit status is the number of
# failed jobs. The joblog keeps each shard's exit status.
seq 1 "$n" | parallel --jobs "$n" --halt never --line-buffer --tag \
  --joblog "$runs/joblog.tsv" \
  "$se" run "$eval_file" --shard "{}/$n" -o "$runs/shard-{}" --quiet "$@"
failed=$?
"$se" merge "$runs"/shard-* -o "$runs/merged" --allow-partial
merged=$?
if [ "$failed" -ne 0 ]; then
  echo "$0: $failed of $n shards failed (see $runs/joblog.tsv); the merged run is partial" >&2
  status=$(awk -F'\t' 'NR > 1 && $7 != 0 { print $7; exit }' "$runs/joblog.tsv")
  exit "${status:-1}"
fi
exit "$merged"
