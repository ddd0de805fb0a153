#!/usr/bin/env bash
# Runs Criterion test binaries one after another and closes with one line,
# "tests: N passed, N failed, N skipped", summed over every binary's
# Synthesis line. Criterion 2.4 leaves skipped tests (cr_skip_test, and
# .disabled) out of its Synthesis counts and prints nothing about them
# without --verbose, so each binary also writes a TAP report (--tap=FILE),
# whose "ok - suite::name # SKIP reason" lines are counted and listed.
# Exits non-zero if any binary failed, crashed or printed no Synthesis.
# Tests run one at a time (--jobs 1): Criterion 2.4's parallel runner leaks
# its own bookkeeping, which LeakSanitizer would report, and a suppression
# broad enough to hide it would hide our leaks too (every test's stack runs
# through libcriterion).
set -u
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
passed=0 failed=0 skipped=0 rc=0
skips=()
for bin in "$@"; do
  name=${bin##*/}
  out=$(mktemp) tap=$(mktemp)
  "$bin" --short-filename --jobs 1 --tap="$tap" 2>&1 | tee "$out"
  status=${PIPESTATUS[0]}
  line=$(grep -a 'Synthesis:' "$out" | tail -n 1)
  while IFS= read -r s; do
    skips+=("$name: ${s#ok - }"); skipped=$((skipped + 1))
  done < <(grep -a -E '^ok - .* # SKIP' "$tap")
  rm -f "$out" "$tap"
  if [ -z "$line" ]; then
    echo "run.sh: $name printed no Synthesis line (exit $status)" >&2
    failed=$((failed + 1)); rc=1; continue
  fi
  t=$(sed -E 's/.*Tested: ([0-9]+).*/\1/' <<<"$line")
  p=$(sed -E 's/.*Passing: ([0-9]+).*/\1/' <<<"$line")
  passed=$((passed + p)); failed=$((failed + t - p))
  [ "$status" -ne 0 ] && rc=1
done
for s in ${skips[@]+"${skips[@]}"}; do echo "skipped: $s"; done
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] || rc=1
exit $rc
