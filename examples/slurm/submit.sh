#!/usr/bin/env bash
# submit.sh: queues the shard array and the merge behind it.
#
#   examples/slurm/submit.sh EVAL.json N
#
# Run from the folder the eval's relative paths start from, on a file system
# every node shares; OPENROUTER_API_KEY (or your endpoint's api_key_env)
# exported beforehand: sbatch passes the environment on, no file holds it.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 EVAL.json N" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
runs=runs/slurm-$(date -u +%Y%m%dT%H%M%SZ)
array=$(sbatch --parsable --array="1-$2" --export="ALL,EVAL=$1,RUNS=$runs" "$here/shards.sbatch")
sbatch --dependency="afterany:${array%%;*}" --export="ALL,RUNS=$runs" "$here/merge.sbatch"
echo "shards: job $array; results in $runs/merged when the merge job ends"
