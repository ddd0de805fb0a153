#!/usr/bin/env bash
# Runs a command and prints its peak resident set size in KiB on the last line
# of stderr as "maxrss_kib N" (from wait4's rusage, via python3 or GNU time).
set -u
if command -v python3 >/dev/null 2>&1; then
  exec python3 -c '
import os, resource, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, ru = os.wait4(pid, 0)
print("maxrss_kib %d" % ru.ru_maxrss, file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
' "$@"
fi
exec /usr/bin/time -f 'maxrss_kib %M' "$@"
