#!/bin/sh
# long-functions.sh: lists the functions of src/ longer than N lines (default
# 80), longest first, as "lines file:line name". A function is what the
# project's clang-format layout makes it: a line "{" at column 0 after its
# signature, up to the next "}" at column 0 (body lines, braces included).
# Usage: scripts/long-functions.sh [N] [DIR]
n=${1:-80}
dir=${2:-src}
find "$dir" -name '*.c' | sort | xargs awk -v max="$n" '
	FNR == 1 { sig = ""; start = 0 }
	/^[A-Za-z_].*\(/ { sig = $0; sigline = FNR }
	/^\{/ { start = FNR; name = sig; at = sigline }
	/^\}/ && start {
		len = FNR - start + 1
		if (len > max) {
			sub(/\(.*/, "", name)
			k = split(name, w, /[ *]+/)
			printf "%d %s:%d %s\n", len, FILENAME, at, w[k]
		}
		start = 0
	}' | sort -rn
