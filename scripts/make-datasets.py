#!/usr/bin/env python3
"""make-datasets.py: builds the example datasets in datasets/ from the
converted public datasets in ../shared/datasets (GSM8K, Banking77).

Documents how the committed files were made; it is not run by the build or
CI. Deterministic: the same inputs give byte-identical outputs. Python 3
standard library only.

    python3 scripts/make-datasets.py [--shared DIR] [--out DIR]

Writes datasets/gsm8k-100.jsonl, datasets/banking77-154.csv and
datasets/mixed.jsonl, and prints each file's item count, size and sha256
(the table in datasets/README.md). Provenance and licences: datasets/README.md.
"""
import argparse
import csv
import hashlib
import io
import json
import os
import random
import re
import sys

# Complexity bands of the routing seed: chars/4 tokens with thresholds 500 and
# 2000, i.e. prompts under 2000 characters, 2000-7999, and 8000 or more. Each
# band's prompts keep a margin from the edges so that a system prompt of a few
# hundred characters does not move an item into another band.
BAND_LIMITS = {1: (0, 1700), 2: (2300, 7000), 3: (9000, 10**9)}

# task -> number of items per band (1, 2, 3)
PLAN = {
    "reason": (20, 6, 4),
    "classify": (14, 6, 3),
    "summarize": (8, 8, 4),
    "code": (14, 5, 3),
    "draft": (16, 6, 3),
}
TASK_ORDER = ["reason", "classify", "summarize", "code", "draft"]

GSM_INSTRUCTION = ("Solve the problem step by step. End your answer with a line '#### <number>' "
                   "where <number> is the final numeric answer only (no units, no commas).")
CODE_INSTRUCTION = ("Write a Python 3 program that computes the answer to this problem and prints "
                    "it as a bare number. Show the program, then end your reply with a final line "
                    "'#### <number>' giving the number the program prints (no units, no commas).")


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def clean(text):
    """One line of text: Banking77 messages may hold line breaks."""
    return " ".join(text.split())


def solution(ref):
    """A GSM8K worked solution without the calculator annotations <<...>>."""
    return re.sub(r"<<[^>]*>>", "", ref)


def band_of(prompt):
    n = len(prompt)
    return 1 if n < 2000 else (2 if n < 8000 else 3)


class Sources:
    def __init__(self, shared):
        self.gsm = read_jsonl(os.path.join(shared, "gsm8k", "items.jsonl"))
        bdir = os.path.join(shared, "banking77")
        self.bank = read_jsonl(os.path.join(bdir, "items.jsonl"))
        with open(os.path.join(bdir, "raw", "categories.json"), encoding="utf-8") as f:
            self.labels = json.load(f)
        with open(os.path.join(bdir, "raw", "test.csv"), newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))[1:]
        # Messages per intent beyond the first 8 (those are the items of
        # banking77/items.jsonl): examples and message groups come from here,
        # so they never repeat an item's own message.
        seen = {}
        self.extra = {label: [] for label in self.labels}
        for row_no, (text, label) in enumerate(rows, start=1):
            seen[label] = seen.get(label, 0) + 1
            if seen[label] > 8:
                self.extra[label].append((row_no, clean(text)))
        self.label_line = ", ".join(self.labels)
        self.shot_pos = 1000  # GSM8K worked examples come from items 1001 on

    def next_shot(self):
        g = self.gsm[self.shot_pos]
        self.shot_pos += 1
        return g


def candidates(rng, labels, answer, n):
    others = [x for x in labels if x != answer]
    pick = rng.sample(others, n - 1) + [answer]
    rng.shuffle(pick)
    return ", ".join(pick)


def labelled_examples(src, rng, per_label=None, count=None, exclude=None):
    """Lines 'Message: ... -> label' drawn from the extra Banking77 rows."""
    out = []
    if per_label:
        for label in src.labels:
            for row_no, text in rng.sample(src.extra[label], per_label):
                out.append((row_no, text, label))
        rng.shuffle(out)
    else:
        labels = [x for x in src.labels if x != exclude]
        for label in rng.sample(labels, count):
            row_no, text = rng.choice(src.extra[label])
            out.append((row_no, text, label))
    lines = "\n".join(f"Message: {t}\nIntent: {lab}" for _, t, lab in out)
    return lines, [r for r, _, _ in out]


def gsm_fewshot(src, g, want_min, header, instruction):
    shots, parts = [], []
    while True:
        s = src.next_shot()
        shots.append(s["id"])
        n = len(shots)
        parts.append(f"Example {n}\nProblem: {s['metadata']['question']}\n"
                     f"Solution:\n{solution(s['metadata']['reference_solution'])}")
        prompt = (header + "\n\n" + "\n\n".join(parts) + "\n\nNow the problem to solve.\n"
                  f"Problem: {g['metadata']['question']}\n\n{instruction}")
        if len(prompt) >= want_min:
            return prompt, shots


def make_reason(src, rng, band, g):
    meta = {"dataset": "gsm8k", "source_id": g["id"]}
    if band == 1:
        return g["prompt"], g["expected"], meta
    want = 3000 if band == 2 else 9500
    prompt, shots = gsm_fewshot(
        src, g, want, "Here are worked solutions of grade-school math problems.",
        GSM_INSTRUCTION)
    meta["shots"] = shots
    return prompt, g["expected"], meta


def make_code(src, rng, band, g):
    meta = {"dataset": "gsm8k", "source_id": g["id"]}
    if band == 1:
        prompt = f"Problem: {g['metadata']['question']}\n\n{CODE_INSTRUCTION}"
        return prompt, g["expected"], meta
    want = 3200 if band == 2 else 9500
    prompt, shots = gsm_fewshot(
        src, g, want,
        "For reference, here are worked solutions of similar problems; your program may "
        "follow the same reasoning.", CODE_INSTRUCTION)
    meta["shots"] = shots
    return prompt, g["expected"], meta


def make_classify(src, rng, band, b):
    label = b["expected"]
    text = b["metadata"]["text"].strip()
    meta = {"dataset": "banking77", "source_id": b["id"]}
    tail = f"Message: {text}\n\nAnswer with the label only, exactly as written above."
    if band == 1:
        head = ("Classify the following online banking customer message into exactly one of "
                "these intent labels:\n" + candidates(rng, src.labels, label, 10))
        return head + "\n\n" + tail, label, meta
    if band == 2:
        ex, rows = labelled_examples(src, rng, count=14, exclude=label)
    else:
        ex, rows = labelled_examples(src, rng, per_label=2)
    meta["example_rows"] = rows
    prompt = ("Classify the following online banking customer message into exactly one of "
              "these intent labels:\n" + src.label_line +
              "\n\nLabelled examples:\n" + ex + "\n\n" + tail)
    return prompt, label, meta


def make_draft(src, rng, band, b):
    label = b["expected"]
    text = b["metadata"]["text"].strip()
    meta = {"dataset": "banking77", "source_id": b["id"]}
    head = ("You are a support agent at an online bank. Draft a short, polite reply to the "
            "customer message below. After the reply, on the last line, name the message's "
            "intent as '#### <intent label>', using exactly one of these labels:\n")
    tail = f"Customer message: {text}"
    if band == 1:
        return head + candidates(rng, src.labels, label, 10) + "\n\n" + tail, label, meta
    if band == 2:
        ex, rows = labelled_examples(src, rng, count=16, exclude=label)
    else:
        ex, rows = labelled_examples(src, rng, per_label=2)
    meta["example_rows"] = rows
    prompt = (head + src.label_line + "\n\nHow earlier messages were labelled:\n" + ex +
              "\n\n" + tail)
    return prompt, label, meta


def make_summarize(src, rng, band, label):
    meta = {"dataset": "banking77"}
    n_msgs = {1: 5, 2: 22, 3: 20}[band]
    picked = rng.sample(src.extra[label], n_msgs)
    meta["source_rows"] = [r for r, _ in picked]
    msgs = "\n".join(f"- {t}" for _, t in picked)
    ask = ("These messages were sent to an online bank's support team and share a single "
           "intent. Summarize them by naming that intent. End your answer with a line "
           "'#### <label>', where <label> is exactly one of these intent labels:\n")
    if band == 1:
        prompt = (ask + candidates(rng, src.labels, label, 8) + "\n\nMessages:\n" + msgs)
        return prompt, label, meta
    if band == 2:
        return ask + src.label_line + "\n\nMessages:\n" + msgs, label, meta
    # Band 3: worked examples (other intents' message groups) before the task.
    groups, used = [], []
    others = [x for x in src.labels if x != label]
    for other in rng.sample(others, 20):
        grp = rng.sample(src.extra[other], 8)
        used.append(other)
        groups.append("Messages:\n" + "\n".join(f"- {t}" for _, t in grp) +
                      f"\nAnswer: #### {other}")
        prompt = (ask + src.label_line + "\n\nWorked examples:\n\n" + "\n\n".join(groups) +
                  "\n\nNow the messages to summarize.\nMessages:\n" + msgs)
        if len(prompt) >= 9500:
            break
    meta["example_intents"] = used
    return prompt, label, meta


def build_mixed(src):
    rng = random.Random(20241125)
    per_task = {}
    gsm_next = iter(src.gsm[:200])
    bank_next = iter(src.bank)
    label_cycle = iter([src.labels[(i * 29) % len(src.labels)] for i in range(len(src.labels))])
    for task in TASK_ORDER:
        items = []
        for band, count in zip((1, 2, 3), PLAN[task]):
            for _ in range(count):
                if task == "reason":
                    p, e, m = make_reason(src, rng, band, next(gsm_next))
                elif task == "code":
                    p, e, m = make_code(src, rng, band, next(gsm_next))
                elif task == "classify":
                    p, e, m = make_classify(src, rng, band, next(bank_next))
                elif task == "draft":
                    p, e, m = make_draft(src, rng, band, next(bank_next))
                else:
                    p, e, m = make_summarize(src, rng, band, next(label_cycle))
                lo, hi = BAND_LIMITS[band]
                if not lo <= len(p) <= hi:
                    sys.exit(f"make-datasets: {task} band {band}: prompt of {len(p)} chars")
                items.append((task, p, e, m))
        rng.shuffle(items)  # spread the bands through each task's items
        per_task[task] = items
    out = []
    while any(per_task.values()):
        for task in TASK_ORDER:
            if per_task[task]:
                out.append(per_task[task].pop(0))
    lines = []
    for i, (task, prompt, expected, meta) in enumerate(out, start=1):
        meta = dict(meta)
        meta["tier"] = "premium" if i % 8 == 0 else "standard"
        meta["bucket"] = "a" if i % 2 else "b"
        item = {"id": f"mixed-{i:04d}", "task": task, "prompt": prompt,
                "expected": expected, "metadata": meta}
        lines.append(json.dumps(item, ensure_ascii=False) + "\n")
    return "".join(lines)


def build_banking_csv(src, n):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["id", "task", "prompt", "expected"])
    for b in src.bank[:n]:
        w.writerow([b["id"], b["task"], b["prompt"], b["expected"]])
    return buf.getvalue()


def write(path, text):
    data = text.encode("utf-8")
    with open(path, "wb") as f:
        f.write(data)
    return data


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(root, "..", "shared", "datasets"))
    ap.add_argument("--out", default=os.path.join(root, "datasets"))
    a = ap.parse_args()
    src = Sources(a.shared)
    os.makedirs(a.out, exist_ok=True)

    with open(os.path.join(a.shared, "gsm8k", "items.jsonl"), encoding="utf-8") as f:
        gsm_lines = f.readlines()[:100]
    outputs = [
        ("gsm8k-100.jsonl", "".join(gsm_lines), 100),
        ("banking77-154.csv", build_banking_csv(src, 154), 154),
        ("mixed.jsonl", build_mixed(src), None),
    ]
    for name, text, n in outputs:
        data = write(os.path.join(a.out, name), text)
        if n is None:
            n = text.count("\n")
        print(f"| `{name}` | {n} | {len(data)} | `{hashlib.sha256(data).hexdigest()}` |")
    mixed = [json.loads(x) for x in outputs[2][1].splitlines()]
    table = {}
    for it in mixed:
        key = (it["task"], band_of(it["prompt"]))
        table[key] = table.get(key, 0) + 1
    for task in TASK_ORDER:
        print(task, [table.get((task, b), 0) for b in (1, 2, 3)], file=sys.stderr)


if __name__ == "__main__":
    main()
