#!/usr/bin/env python3
"""Synthetic sample JSONL for bench/corpus: N lines spread over the bundled policies, both labels, with
varied prompts (each policy's example prompts recombined with seeded filler) and ~2% repeats that differ
only in case, spacing or end punctuation, so exact dedup has work. Deterministic for a seed.
Usage: gen_samples.py POLICIES_DIR N OUT [SEED]
"""
import json
import os
import random
import sys


def examples(path):
    """(id, {"safe": [...], "unsafe": [...]}) from a policy YAML, read line by line (no YAML library)."""
    pid, lists, current = None, {"safe": [], "unsafe": []}, None
    for line in open(path, encoding="utf-8"):
        s = line.rstrip("\n")
        if s.startswith("id:"):
            pid = s.split(":", 1)[1].strip()
        elif s.strip() in ("safe:", "unsafe:") and s.startswith("  ") and not s.startswith("    "):
            current = s.strip()[:-1]
        elif current and s.startswith("    - "):
            lists[current].append(s[6:].strip().strip('"'))
        elif s and not s.startswith(" "):
            current = None
    return pid, lists


def main():
    directory, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    packs = [examples(os.path.join(directory, f)) for f in sorted(os.listdir(directory)) if f.endswith((".yaml", ".yml"))]
    openers = ["", "Quick question: ", "Hi! ", "For a project, ", "Honestly, ", "My friend asked me this. ", "Please help. "]
    fillers = ["today", "this week", "for my family", "in plain words", "step by step", "asap", "if you can",
               "in 2025", "for a class", "before Friday", "in Canada", "in the UK", "near Boston", "for work"]
    recent = {}  # (policy, label) -> recent prompts, so a repeat is a duplicate under the same key
    with open(out, "w", encoding="utf-8") as f:
        for i in range(n):
            pid, lists = packs[i % len(packs)]
            label = "unsafe" if (i // len(packs)) % 2 else "safe"
            pool = recent.setdefault((pid, label), [])
            if pool and rng.random() < 0.02:
                prompt = rng.choice(pool)
                prompt = rng.choice([prompt.upper(), "  " + prompt + " ", prompt.rstrip("?.!") + "!!"])
            else:
                base = rng.choice(lists[label])
                prompt = f"{rng.choice(openers)}{base} ({rng.choice(fillers)}, ref {rng.randrange(10**9)})"
                pool.append(prompt)
                del pool[:-64]
            f.write(json.dumps({"policy": pid, "prompt": prompt, "label": label, "source": f"bench#{i}"}) + "\n")


if __name__ == "__main__":
    main()
