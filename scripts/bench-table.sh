#!/usr/bin/env bash
# scripts/bench-table.sh: the README's performance figures, generated from
# bench/results.csv (goal,figure,value,target,met), bench/commands.csv and
# bench/profile.txt as `make bench` left them. Prints the markdown; with
# --write, replaces the part of README.md between the bench-table markers
# instead, so that after a final `make bench` on a quiet machine
#
#   make bench && scripts/bench-table.sh --write
#
# refreshes the section. Exit 2 when a file or the markers are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
csv=${BENCH_CSV:-bench/results.csv}
cmds=${BENCH_CMDS:-bench/commands.csv}
profile=bench/profile.txt
[ -s "$csv" ] || { echo "bench-table: no $csv (run make bench)" >&2; exit 2; }
[ -f "$cmds" ] || cmds=/dev/null

table() {
  awk -F, '
  FNR == 1 { next }
  FILENAME == ARGV[1] { c = substr($0, length($1) + 2); gsub(/^"|"$/, "", c); gsub(/""/, "\"", c); cmd[$1] = c; next }
  $1 == "run" { run[$2] = $3; next }
  !($1 in seen) { seen[$1] = 1; order[++n] = $1 }
  { rows[$1] = rows[$1] sprintf("| %s | `%s` | %s | %s | %s |\n", $1, $2, $3, $4 == "" ? "" : "`" $4 "`", $4 == "" ? "" : ($5 == "met" || $5 == "yes" ? "met" : "**not met**"))
    if (($2 in cmd) && !(($1, cmd[$2]) in had)) { had[$1, cmd[$2]] = 1; how[$1] = how[$1] sprintf("- goal %s: `%s`\n", $1, cmd[$2]) } }
  END {
    if ("cores" in run) printf "Measured by `make bench` on %s cores, load average %s at the start (%s).\n\n", run["cores"], run["load_average"], run["date"]
    print "| goal | figure | value | target | |"
    print "| --- | --- | ---: | --- | --- |"
    for (i = 1; i <= n; i++) printf "%s", rows[order[i]]
    print ""
    print "Commands (the script, with the environment that sets its sizes):"
    print ""
    for (i = 1; i <= n; i++) printf "%s", how[order[i]]
  }' "$cmds" "$csv"
  if [ -s "$profile" ]; then
    echo
    echo "Where the CPU goes at zero latency (\`bench/cpu.sh\`; self time, \`perf report --no-children\`):"
    echo
    echo '```'
    sed -n '1,22p' "$profile"
    echo '```'
  fi
}

if [ "${1:-}" != --write ]; then
  table
  exit 0
fi
begin='<!-- bench-table: begin (scripts/bench-table.sh --write; do not edit by hand) -->'
end='<!-- bench-table: end -->'
grep -qF "$begin" README.md && grep -qF "$end" README.md ||
  { echo "bench-table: README.md has no bench-table markers" >&2; exit 2; }
table >README.md.table
awk -v b="$begin" -v e="$end" -v t=README.md.table '
  $0 == b { print; while ((getline l < t) > 0) print l; skip = 1; next }
  $0 == e { skip = 0 }
  !skip' README.md >README.md.tmp
rm -f README.md.table
mv README.md.tmp README.md
echo "bench-table: README.md updated from $csv"
