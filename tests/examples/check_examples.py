#!/usr/bin/env python3
"""check_examples.py: structure checks of the job-engine examples in
examples/ (GitHub Actions, Kubernetes, Slurm), and the shell each one runs,
extracted so that tests/e2e/test_examples.c can run it for real against
shadowsim.

  check_examples.py github WORKFLOW.yml
  check_examples.py kubernetes SHARDS_JOB.yaml MERGE_JOB.yaml
  check_examples.py slurm SHARDS.sbatch MERGE.sbatch
  check_examples.py gha-run WORKFLOW.yml JOB NEEDLE   # the run: of JOB's step containing NEEDLE
  check_examples.py k8s-script FILE.yaml JOB          # the Job's container script

A check prints one line per problem, "FILE: path.to.field: what is wrong",
and exits 1; 0 when the file is as its engine needs it. Needs PyYAML
(Debian: python3-yaml, installed by scripts/install-deps.sh).
"""
import re
import sys

import yaml

problems = []


def bad(path, field, msg):
    problems.append(f"{path}: {field}: {msg}")


def get(obj, dotted):
    for part in dotted.split("."):
        if isinstance(obj, list):
            try:
                obj = obj[int(part)]
            except (ValueError, IndexError):
                return None
        elif isinstance(obj, dict):
            obj = obj.get(part)
        else:
            return None
    return obj


def need(path, obj, dotted, kind=None):
    v = get(obj, dotted)
    if v is None:
        bad(path, dotted, "missing")
    elif kind is not None and not isinstance(v, kind):
        bad(path, dotted, f"expected {kind.__name__}, got {type(v).__name__}")
    return v


def load_all(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


# ---- GitHub Actions ---------------------------------------------------------

def step_runs(job):
    return [s.get("run", "") for s in job.get("steps", []) if isinstance(s, dict)]


def step_uses(job):
    return [s.get("uses", "") for s in job.get("steps", []) if isinstance(s, dict)]


def check_github(path):
    (wf,) = load_all(path)
    # YAML 1.1 reads the key `on` as true
    if "on" not in wf and True not in wf:
        bad(path, "on", "missing (no trigger)")
    jobs = need(path, wf, "jobs", dict) or {}
    for name, job in jobs.items():
        if not isinstance(job, dict):
            bad(path, f"jobs.{name}", "expected a mapping")
            continue
        need(path, job, "runs-on")
        steps = need(path, job, "steps", list) or []
        for i, s in enumerate(steps):
            if not isinstance(s, dict) or ("run" in s) == ("uses" in s):
                bad(path, f"jobs.{name}.steps.{i}", "a step has exactly one of run and uses")
        needs = job.get("needs", [])
        for n in [needs] if isinstance(needs, str) else needs:
            if n not in jobs:
                bad(path, f"jobs.{name}.needs", f"no job \"{n}\"")
    shard = jobs.get("shard") or {}
    merge = jobs.get("merge") or {}
    if not shard:
        bad(path, "jobs.shard", "missing")
    if not merge:
        bad(path, "jobs.merge", "missing")
    matrix = get(shard, "strategy.matrix.shard")
    shards = get(wf, "env.SHARDS")
    if not isinstance(matrix, list) or not matrix:
        bad(path, "jobs.shard.strategy.matrix.shard", "expected a list of shard numbers")
    elif sorted(matrix) != list(range(1, len(matrix) + 1)):
        bad(path, "jobs.shard.strategy.matrix.shard", f"expected 1..N, got {matrix}")
    elif str(shards) != str(len(matrix)):
        bad(path, "env.SHARDS", f"{shards} but the matrix has {len(matrix)} shards")
    if get(shard, "strategy.fail-fast") is not False:
        bad(path, "jobs.shard.strategy.fail-fast", "expected false (one failed shard would cancel the rest)")
    if not any("--shard" in r and "shadoweval run" in r for r in step_runs(shard)):
        bad(path, "jobs.shard.steps", "no step runs `shadoweval run ... --shard`")
    if not any(u.startswith("actions/upload-artifact@") for u in step_uses(shard)):
        bad(path, "jobs.shard.steps", "no actions/upload-artifact step")
    for s in shard.get("steps", []):
        if isinstance(s, dict) and "secrets." in str(s.get("run", "")):
            bad(path, "jobs.shard.steps", "a secret in a run: line (put it in env:)")
    needs = merge.get("needs", [])
    if "shard" not in ([needs] if isinstance(needs, str) else needs):
        bad(path, "jobs.merge.needs", "expected shard")
    if not any(u.startswith("actions/download-artifact@") for u in step_uses(merge)):
        bad(path, "jobs.merge.steps", "no actions/download-artifact step")
    runs = "\n".join(step_runs(merge))
    for needle, what in (("shadoweval merge", "merge"), ("shadoweval check", "check"),
                         ("--markdown", "check --markdown"), ("gh pr comment", "a PR comment")):
        if needle not in runs:
            bad(path, "jobs.merge.steps", f"no step runs {what}")
    if get(merge, "permissions.pull-requests") != "write":
        bad(path, "jobs.merge.permissions.pull-requests", "expected write (to comment)")


def gha_run(path, job, needle):
    (wf,) = load_all(path)
    for r in step_runs(get(wf, f"jobs.{job}") or {}):
        if needle in r:
            sys.stdout.write(r if r.endswith("\n") else r + "\n")
            return 0
    print(f"{path}: jobs.{job}: no step runs \"{needle}\"", file=sys.stderr)
    return 1


# ---- Kubernetes -------------------------------------------------------------

def container_env(c):
    return {e.get("name"): e for e in c.get("env", []) if isinstance(e, dict)}


def check_object(path, i, d):
    for f in ("apiVersion", "kind", "metadata.name"):
        need(path, d, f, str)


def check_job_pod(path, where, job, claims):
    spec = get(job, "spec.template.spec") or {}
    if spec.get("restartPolicy") not in ("Never", "OnFailure"):
        bad(path, f"{where}.spec.template.spec.restartPolicy", "a Job needs Never or OnFailure")
    cs = spec.get("containers")
    if not isinstance(cs, list) or not cs:
        bad(path, f"{where}.spec.template.spec.containers", "missing")
        return None
    for j, c in enumerate(cs):
        for f in ("name", "image"):
            need(path, c, f, str)
    mounts = {m.get("name") for c in cs for m in c.get("volumeMounts", [])}
    vols = {v.get("name"): v for v in spec.get("volumes", [])}
    for m in mounts:
        if m not in vols:
            bad(path, f"{where}.spec.template.spec.volumes", f"no volume \"{m}\" for its mount")
    for name, v in vols.items():
        claim = get(v, "persistentVolumeClaim.claimName")
        if claim is not None and claims is not None and claim not in claims:
            bad(path, f"{where}.spec.template.spec.volumes.{name}", f"no PersistentVolumeClaim \"{claim}\"")
    return cs[0]


def script_of(c):
    return "\n".join(str(x) for x in (c.get("command", []) or []) + (c.get("args", []) or []))


def check_kubernetes(shards_path, merge_path):
    docs = load_all(shards_path)
    for i, d in enumerate(docs):
        check_object(shards_path, i, d)
    claims = {get(d, "metadata.name") for d in docs if d.get("kind") == "PersistentVolumeClaim"}
    for d in docs:
        if d.get("kind") == "PersistentVolumeClaim" and "ReadWriteMany" not in (get(d, "spec.accessModes") or []):
            bad(shards_path, "spec.accessModes", "shards on several nodes need ReadWriteMany")
    jobs = [d for d in docs if d.get("kind") == "Job"]
    if len(jobs) != 1:
        bad(shards_path, "kind", f"expected one Job, found {len(jobs)}")
        return
    job = jobs[0]
    if get(job, "spec.completionMode") != "Indexed":
        bad(shards_path, "spec.completionMode", "expected Indexed")
    completions = get(job, "spec.completions")
    if not isinstance(completions, int) or completions < 1:
        bad(shards_path, "spec.completions", "expected the shard count")
    c = check_job_pod(shards_path, "Job", job, claims)
    if c is not None:
        env = container_env(c)
        shards = get(env.get("SHARDS") or {}, "value")
        if str(shards) != str(completions):
            bad(shards_path, "spec.template.spec.containers.0.env.SHARDS", f"{shards} but completions is {completions}")
        script = script_of(c)
        if "JOB_COMPLETION_INDEX" not in script or "--shard" not in script:
            bad(shards_path, "spec.template.spec.containers.0", "the command must map JOB_COMPLETION_INDEX to --shard")
        keyed = [n for n, e in env.items() if get(e, "valueFrom.secretKeyRef.name")]
        if not keyed:
            bad(shards_path, "spec.template.spec.containers.0.env", "no API key from a Secret (valueFrom.secretKeyRef)")
        for n, e in env.items():
            if "KEY" in (n or "") and "value" in e:
                bad(shards_path, f"spec.template.spec.containers.0.env.{n}", "a key as a literal value")
    (merge,) = load_all(merge_path)
    check_object(merge_path, 0, merge)
    if merge.get("kind") != "Job":
        bad(merge_path, "kind", "expected Job")
    mc = check_job_pod(merge_path, "Job", merge, claims)
    if mc is not None and "shadoweval merge" not in script_of(mc):
        bad(merge_path, "spec.template.spec.containers.0", "does not run shadoweval merge")


def k8s_script(path, name):
    for d in load_all(path):
        if d.get("kind") == "Job" and get(d, "metadata.name") == name:
            c = get(d, "spec.template.spec.containers.0")
            for n, e in container_env(c).items():
                if "value" in e:  # defaults the caller's environment may override
                    print(f": \"${{{n}:={e['value']}}}\"")
            args = c.get("args") or []
            print(args[0] if args else "")
            return 0
    print(f"{path}: no Job \"{name}\"", file=sys.stderr)
    return 1


# ---- Slurm --------------------------------------------------------------------

def check_slurm(shards_path, merge_path):
    for path in (shards_path, merge_path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if not text.startswith("#!"):
            bad(path, "line 1", "sbatch needs a #! line")
        # #SBATCH lines count only before the first command
        directives = []
        for line in text.splitlines()[1:]:
            if line.startswith("#SBATCH"):
                directives.append(line)
            elif line.strip() and not line.startswith("#"):
                break
        if not any(d.startswith("#SBATCH --time=") for d in directives):
            bad(path, "#SBATCH", "no --time (many clusters refuse a job without one)")
        if path == shards_path:
            if not any(re.match(r"#SBATCH --array=\d+-\d+", d) for d in directives):
                bad(path, "#SBATCH", "no --array=FIRST-LAST before the first command")
            if "SLURM_ARRAY_TASK_ID" not in text or "--shard" not in text:
                bad(path, "script", "must map SLURM_ARRAY_TASK_ID to --shard")
        elif "shadoweval" not in text or " merge " not in text:
            bad(path, "script", "does not run shadoweval merge")


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    cmd = argv[1]
    if cmd == "gha-run" and len(argv) == 5:
        return gha_run(*argv[2:])
    if cmd == "k8s-script" and len(argv) == 4:
        return k8s_script(*argv[2:])
    if cmd == "github" and len(argv) == 3:
        check_github(argv[2])
    elif cmd == "kubernetes" and len(argv) == 4:
        check_kubernetes(argv[2], argv[3])
    elif cmd == "slurm" and len(argv) == 4:
        check_slurm(argv[2], argv[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (OSError, yaml.YAMLError) as e:
        print(f"check_examples.py: {e}")
        sys.exit(1)
