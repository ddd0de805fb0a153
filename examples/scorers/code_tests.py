#!/usr/bin/env python3
"""code_tests.py: a shadoweval `command` scorer that grades code answers by
running the item's unit tests against them.

Protocol (see the README, "Checks"): one JSON request per line on stdin,
{"id": N, "check": ..., "item": {...}, "input": ..., "output": ...,
"expected": [...]}, and one JSON reply per line on stdout,
{"id": N, "pass": bool, "score": number, "detail": string}.

The item names its tests in the field "tests" (Python source, typically
assert lines) and may set "time_limit_s" (default 5). The code is taken
from the answer's last ```python fenced block, else from after its last
"#### " marker, else the whole answer. Code and tests run together in a
fresh `python3 -I` subprocess in a temporary folder, with stdin closed and
the time limit; the answer passes when that process exits with status 0.
Standard library only.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

DEFAULT_LIMIT_S = 5.0
FENCE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.S)


def extract_code(output):
    """The program in an answer: fenced block, text after '#### ', or all."""
    blocks = FENCE.findall(output)
    if blocks:
        return blocks[-1]
    marker = output.rfind("#### ")
    if marker >= 0:
        return output[marker + len("#### "):]
    return output


def last_line(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1] if lines else ""


def grade(item, output):
    """(pass, score, detail) for one answer."""
    tests = item.get("tests")
    if not isinstance(tests, str) or not tests.strip():
        return False, 0.0, "the item has no \"tests\" field"
    limit = item.get("time_limit_s", DEFAULT_LIMIT_S)
    if not isinstance(limit, (int, float)) or limit <= 0:
        limit = DEFAULT_LIMIT_S
    program = extract_code(output) + "\n\n" + tests + "\n"
    with tempfile.TemporaryDirectory(prefix="code_tests.") as tmp:
        path = os.path.join(tmp, "answer_test.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(program)
        try:
            done = subprocess.run([sys.executable, "-I", path], cwd=tmp,
                                  stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=limit)
        except subprocess.TimeoutExpired:
            return False, 0.0, "tests ran over %g s" % limit
    if done.returncode == 0:
        return True, 1.0, "tests passed"
    why = last_line(done.stderr) or "exit status %d" % done.returncode
    return False, 0.0, why[:300]


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        item = req.get("item") or {}
        ok, score, detail = grade(item, req.get("output") or "")
        reply = {"id": req["id"], "pass": ok, "score": score, "detail": detail}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
