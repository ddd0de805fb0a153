#!/usr/bin/env bash
# Prints what the test suites cover, counted from the tree (the figures of
# the README's "Reliability" section): tests, bad inputs, fault classes,
# kill and resume rounds, fuzz targets. Run from anywhere; reads files only.
set -euo pipefail
cd "$(dirname "$0")/.."
count() { grep -hcE "$1" "${@:2}" 2>/dev/null | awk '{s += $1} END {print s + 0}'; }

unit=$(count '^Test\(' tests/test_*.c)
e2e=$(count '^Test\(' tests/e2e/test_*.c)
echo "tests: $((unit + e2e)) ($unit in $(ls tests/test_*.c | wc -l) unit suites, $e2e in $(ls tests/e2e/test_*.c | wc -l) end-to-end suites)"

cfg=$(ls tests/fixtures/config/bad/*.json | wc -l)
pricing=$(ls tests/fixtures/pricing/*.expect | wc -l)
checks=$(grep -c . tests/fixtures/checks/bad_checks.jsonl)
sim=$(ls tests/fixtures/sim/bad_*.json 2>/dev/null | wc -l)
dataset=$(ls tests/fixtures/dataset/ | grep -cE '^(bad_|duplicate_|field_count|missing_|not_object|stray_|unterminated)')
wire=$(awk '/^static const struct bad_case bad_(completions|chunks)\[\]/ {on = 1; next}
	    on && /^};/ {on = 0} on && /^[[:space:]]*\{"/ {n++} END {print n + 0}' tests/test_wire.c)
named=$(grep -hoE '^Test\([a-z_]+, [a-z0-9_]*(reject|refuse|bad|invalid|malformed|hostile|nul_)[a-z0-9_]*' \
	tests/test_*.c tests/e2e/test_*.c | wc -l)
echo "bad inputs: $((cfg + pricing + checks + sim + dataset + wire)) files and table cases with their expected message" \
     "(config $cfg, pricing $pricing, checks $checks, shadowsim profiles $sim, datasets $dataset, wire replies $wire);" \
     "$named tests named for a refusal"

faults=$(awk '/fault_names\[SIM_FAULT_COUNT\] = \{/ {on = 1; next} on && /^\};/ {on = 0}
	      on {gsub(/[",[:space:]]/, ""); if ($0 != "" && $0 != "none") print}' src/sim/profile.c)
echo "fault classes injected by shadowsim: $(wc -w <<<"$faults") ($(echo $faults | tr ' ' ','))"

rounds=$(grep -oE 'for \(int round = 0; round < [0-9]+' tests/e2e/test_run.c | grep -oE '[0-9]+$' | awk '{s += $1} END {print s + 0}')
sig=$(grep -hE '\bkill\([a-z_.]+, *SIG(INT|TERM|HUP|KILL)\)|run_se_sig\(args[0-9]*, [a-z_0-9]+, *SIG' tests/e2e/*.c | grep -vc '^static')
resumes=$(grep -hc '"--resume"' tests/e2e/*.c | awk '{s += $1} END {print s + 0}')
echo "kill and resume: $rounds SIGKILL rounds at random moments, each finished by one --resume;" \
     "$sig places that signal a run and $resumes --resume invocations in the end-to-end suites"

targets=$(ls fuzz/fz_*.c | grep -vE 'fz_(util|dataset)\.c' | wc -l)
seeds=$(find fuzz/corpus -type f | wc -l)
echo "fuzz targets: $targets ($(ls fuzz/fz_*.c | grep -vE 'fz_(util|dataset)\.c' | sed 's#fuzz/fz_##; s#\.c##' | tr '\n' ' ' | sed 's/ $//'); $seeds seed inputs)"
