#!/usr/bin/env python3
"""schema-check.py: validates eval configs against evals/schema.json (JSON
Schema draft 2020-12) with python3-jsonschema, for tests/test_schema.c.

Usage: schema-check.py SCHEMA CONFIG...
       schema-check.py SCHEMA --list FILE   (the configs, one path a line)
Prints one line per config: "ok<TAB>FILE" or "invalid<TAB>FILE<TAB>why"
(a file that is not JSON is invalid too). Exit 0, or 2 when the schema
itself is not a valid draft 2020-12 schema or jsonschema is missing.
"""
import json
import sys

try:
    from jsonschema import Draft202012Validator
except ImportError as e:  # the test set-up installs python3-jsonschema
    print(f"schema-check: {e}: install python3-jsonschema (scripts/install-deps.sh)",
          file=sys.stderr)
    sys.exit(2)


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as f:
        schema = json.load(f)
    try:
        Draft202012Validator.check_schema(schema)
    except Exception as e:  # jsonschema.SchemaError
        print(f"schema-check: {argv[0]}: not a draft 2020-12 schema: {e}", file=sys.stderr)
        return 2
    validator = Draft202012Validator(schema)
    paths = argv[1:]
    if paths[0] == "--list" and len(paths) == 2:
        with open(paths[1], encoding="utf-8") as f:
            paths = [line.rstrip("\n") for line in f if line.strip()]
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (ValueError, UnicodeDecodeError) as e:
            print(f"invalid\t{path}\tnot JSON: {e}")
            continue
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        if errors:
            where = "/".join(str(p) for p in errors[0].path) or "(root)"
            print(f"invalid\t{path}\t{where}: {errors[0].message}")
        else:
            print(f"ok\t{path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
