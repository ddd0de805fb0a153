#!/usr/bin/env python3
"""check-ci.py: the structure of shadoweval's CI integrations, for
tests/e2e/test_ci.c: action.yml (a composite GitHub Action) and
ci/shadoweval.gitlab-ci.yml (a GitLab CI template) each install the
dependencies, build, restore the response cache, run the eval with
--cache replay, run `check` with --junit and --markdown, publish the JUnit
file and post or update the markdown as a review comment; and README.md
holds a complete copy-paste example of each.

Usage: check-ci.py REPO_ROOT. Prints each problem; exit 1 if any, 0 if none.
       check-ci.py --workflows REPO_ROOT DIR: writes README's GitHub workflow
       examples to DIR/readme-N.yml (for actionlint).
"""
import os
import re
import sys

import yaml  # python3-yaml (scripts/install-deps.sh)

problems = []


def need(cond, what):
    if not cond:
        problems.append(what)


def check_action(path):
    with open(path, encoding="utf-8") as f:
        a = yaml.safe_load(f)
    need(isinstance(a, dict), f"{path}: not a YAML mapping")
    for key in ("name", "description", "inputs", "runs"):
        need(key in a, f"{path}: no '{key}'")
    runs = a.get("runs", {})
    need(runs.get("using") == "composite", f"{path}: runs.using is not composite")
    steps = runs.get("steps", [])
    need(isinstance(steps, list) and steps, f"{path}: no steps")
    for i, s in enumerate(steps):
        need(("run" in s) != ("uses" in s), f"{path}: steps[{i}] needs one of run or uses")
        if "run" in s:
            need("shell" in s, f"{path}: steps[{i}] runs a script without 'shell' (composite actions need it)")
    runs_text = "\n".join(s.get("run", "") for s in steps)
    uses = [s.get("uses", "") for s in steps]
    need("install-deps.sh" in runs_text, f"{path}: no step installs the dependencies")
    need(re.search(r"\bmake\b.*\ball\b", runs_text), f"{path}: no step builds")
    need(any(u.startswith("actions/cache") for u in uses), f"{path}: the cache is not restored by actions/cache")
    need("--cache replay" in runs_text, f"{path}: the eval is not run with --cache replay")
    need(re.search(r"shadoweval\" check .*--baseline", runs_text), f"{path}: no shadoweval check against a baseline")
    need("--junit" in runs_text and "--markdown" in runs_text, f"{path}: check writes no JUnit or markdown file")
    up = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact")]
    need(up and "junit" in str(up[0].get("with", {}).get("path", "")), f"{path}: the JUnit file is not uploaded")
    need(up and up[0].get("if") == "always()", f"{path}: the JUnit upload does not run after a failed check")
    com = [s for s in steps if s.get("uses", "").startswith("actions/github-script")]
    script = com[0].get("with", {}).get("script", "") if com else ""
    need("updateComment" in script and "createComment" in script,
         f"{path}: the markdown is not posted or updated as a PR comment")
    for name in a.get("inputs", {}):
        need(f"inputs.{name}" in open(path, encoding="utf-8").read(), f"{path}: input '{name}' is never used")


def check_gitlab(path):
    with open(path, encoding="utf-8") as f:
        g = yaml.safe_load(f)
    need(isinstance(g, dict) and ".shadoweval" in g, f"{path}: no '.shadoweval' job template")
    job = g.get(".shadoweval", {}) if isinstance(g, dict) else {}
    script = "\n".join(job.get("script", []))
    need("install-deps.sh" in script, f"{path}: the script does not install the dependencies")
    need(re.search(r"\bmake\b.*\ball\b", script), f"{path}: the script does not build")
    cache = job.get("cache", {})
    need(".shadoweval-cache/" in cache.get("paths", []), f"{path}: the response cache is not GitLab's cache")
    need("--cache replay" in script, f"{path}: the eval is not run with --cache replay")
    need("shadoweval check" in script and "--junit" in script and "--markdown" in script,
         f"{path}: no check writing JUnit and markdown")
    arts = job.get("artifacts", {})
    need(arts.get("when") == "always", f"{path}: artifacts are not kept after a failed check")
    need("junit" in str(arts.get("reports", {}).get("junit", "")), f"{path}: no JUnit report")
    need("gitlab-mr-note.py" in script, f"{path}: the markdown is not posted as a merge-request note")


def yaml_blocks(text):
    return re.findall(r"```ya?ml\n(.*?)```", text, re.S)


def check_readme(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    gh = gl = False
    for block in yaml_blocks(text):
        try:
            doc = yaml.safe_load(block)
        except yaml.YAMLError as e:
            problems.append(f"{path}: a yaml block does not parse: {e}")
            continue
        if not isinstance(doc, dict):
            continue
        jobs = doc.get("jobs", {})
        # PyYAML reads the key `on:` as True
        if ("on" in doc or True in doc) and isinstance(jobs, dict):
            for job in jobs.values():
                for s in job.get("steps", []):
                    if "shadoweval" in str(s.get("uses", "")) and "eval" in s.get("with", {}) \
                       and "baseline" in s.get("with", {}):
                        gh = True
        if "include" in doc and any("shadoweval.gitlab-ci.yml" in str(i) for i in
                                    (doc["include"] if isinstance(doc["include"], list) else [doc["include"]])):
            gl = any(isinstance(v, dict) and v.get("extends") == ".shadoweval" for v in doc.values())
    need(gh, f"{path}: no complete GitHub workflow using the action (on:, jobs:, a step with uses: and eval, baseline)")
    need(gl, f"{path}: no complete GitLab example (include: the template, a job that extends .shadoweval)")


def is_workflow(doc):
    return isinstance(doc, dict) and ("on" in doc or True in doc) and "jobs" in doc


def write_workflows(root, out):
    with open(os.path.join(root, "README.md"), encoding="utf-8") as f:
        blocks = yaml_blocks(f.read())
    n = 0
    for block in blocks:
        if is_workflow(yaml.safe_load(block)):
            n += 1
            with open(os.path.join(out, f"readme-{n}.yml"), "w", encoding="utf-8") as f:
                f.write(block)
    return 0 if n else 1


def main(argv):
    if len(argv) == 3 and argv[0] == "--workflows":
        return write_workflows(argv[1], argv[2])
    root = argv[0] if argv else "."
    check_action(os.path.join(root, "action.yml"))
    check_gitlab(os.path.join(root, "ci", "shadoweval.gitlab-ci.yml"))
    check_readme(os.path.join(root, "README.md"))
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
