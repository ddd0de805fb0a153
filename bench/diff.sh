#!/usr/bin/env bash
# diff.sh: issue 13's goal for `shadoweval diff` on a large run: on 1,000,000
# generated result lines (bench/gen-results.c: 542 MB, 5 models, the file in
# the page cache), the seconds from start to the first item `diff --limit 1`
# prints (target < 1 s), the CPU seconds and the peak RSS of the whole
# command (bounded: about 16 bytes per line, never the outputs).
#
#   bash bench/diff.sh [LINES]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
lines=${1:-${BENCH_DIFF_LINES:-1000000}}
bin=${BIN:-bin}/shadoweval
[ -x "$bin" ] || { echo "diff.sh: $bin not built (run make)" >&2; exit 2; }
bench_tmp
${CC:-cc} -O2 -o "$BENCH_TMP/gen-results" bench/gen-results.c
"$BENCH_TMP/gen-results" "$lines" 7 >"$BENCH_TMP/results.jsonl"
size=$(du -m "$BENCH_TMP/results.jsonl" | cut -f1)
cat "$BENCH_TMP/results.jsonl" >/dev/null # in the page cache: diff's time, not the disk's

# "first_s wall_s cpu_s maxrss_kib": the first item is the first line of a
# kind heading ("a-better  ID ...") in the text output.
python3 - "$bin" "$BENCH_TMP" >"$BENCH_TMP/m" <<'PY'
import os, re, subprocess, sys, time
t0 = time.monotonic()
p = subprocess.Popen([sys.argv[1], "diff", sys.argv[2], "--limit", "1"],
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
first = None
for line in p.stdout:
    if first is None and re.match(rb"(a-better|b-better|both-pass|neither) ", line):
        first = time.monotonic() - t0
_, status, ru = os.wait4(p.pid, 0)
wall = time.monotonic() - t0
if first is None or os.waitstatus_to_exitcode(status) != 0:
    sys.exit("diff.sh: no item listed (exit %d)" % os.waitstatus_to_exitcode(status))
print("%.3f %.3f %.3f %d" % (first, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss))
PY
read -r first wall cpu kib <"$BENCH_TMP/m"
cmd="bash bench/diff.sh $lines"
echo "diff --limit 1: $lines lines (${size} MB): first item at ${first} s, ${cpu} s CPU," \
  "peak RSS $((kib / 1024)) MB (load average $(cut -d' ' -f1 /proc/loadavg))"
bench_row diff diff_first_item_s "$first" "<1" "" "$cmd"
bench_row diff diff_cpu_s "$cpu" "" "" "$cmd"
bench_row diff diff_rss_mb "$(bench_fmt "$kib / 1024")" "" "" "$cmd"
