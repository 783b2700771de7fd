#!/usr/bin/env python3
"""bench/corpus: `uniguard corpus build --no-embedding-dedup` on synthetic sample files of 100k and 1M lines
(gen_samples.py), whole command under /usr/bin/time: records/s and peak RSS. Memory should be flat in the
number of samples apart from the exact-dedup set (8-byte fingerprints), so RSS(1M)/RSS(100k) should stay
close to 1 plus that set's growth. Optionally a small run with embedding near-dup dedup (--embed N, needs
the cached base model) for the near-dup path's throughput. No peer: this measures our memory contract.
Usage: bench/corpus/run.sh [--sizes 100000,1000000] [--embed 2000]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from benchlib import ROOT, uniguard_bin, table, log, ratio  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--sizes", default="100000,1000000")
ap.add_argument("--embed", type=int, default=2000, help="samples for one run with embedding dedup (0: skip)")
args = ap.parse_args()

binary = uniguard_bin()
policies = os.path.join(ROOT, "policies")
work = tempfile.mkdtemp(prefix="uniguard-bench-corpus-")


def build(samples, extra):
    out = os.path.join(work, "corpus.jsonl")
    cmd = ["/usr/bin/time", "-f", "%M %e", binary, "corpus", "build", "--policies", policies, "--data", samples, "--out", out] + extra
    log("$ " + " ".join(cmd[3:]))
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        log(r.stderr[-3000:])
        sys.exit(1)
    err = r.stderr
    rss_kib = int(err.strip().splitlines()[-1].split()[0])
    records = int(re.search(r"records written (\d+)", err).group(1))
    read = int(re.search(r"samples read (\d+)", err).group(1))
    keys = int(re.search(r"(\d+) dedup keys", err).group(1))
    exact = int(re.search(r"exact duplicates dropped (\d+)", err).group(1))
    near = int(re.search(r"near duplicates dropped (\d+)", err).group(1))
    size = os.path.getsize(out)
    os.remove(out)
    return {"samples": read, "records": records, "exact_dup": exact, "near_dup": near, "dedup_keys": keys,
            "wall_s": round(wall, 2), "records_per_s": round(records / wall), "peak_rss_mib": round(rss_kib / 1024, 1),
            "output_mib": round(size / 2**20, 1)}


try:
    runs = []
    for n in [int(s) for s in args.sizes.split(",")]:
        samples = os.path.join(work, f"samples-{n}.jsonl")
        log(f"generating {n} samples")
        subprocess.run([sys.executable, os.path.join(HERE, "gen_samples.py"), policies, str(n), samples], check=True)
        runs.append(("exact only", build(samples, ["--no-embedding-dedup", "--threads", "1"])))
        os.remove(samples)
    if args.embed > 0:
        model = os.path.join(os.environ.get("UNIGUARD_HOME", os.path.expanduser("~/.cache/uniguard")), "models/all-MiniLM-L6-v2")
        if os.path.exists(os.path.join(model, "model.safetensors")):
            samples = os.path.join(work, f"samples-{args.embed}.jsonl")
            subprocess.run([sys.executable, os.path.join(HERE, "gen_samples.py"), policies, str(args.embed), samples], check=True)
            runs.append(("embedding near-dup", build(samples, ["--threads", "2"])))
        else:
            log(f"embedding run skipped: no base model at {model}")
finally:
    shutil.rmtree(work, ignore_errors=True)

print("uniguard corpus build, synthetic samples over the bundled policies, cross pairs 1, whole command")
table(["dedup", "samples", "records", "exact dup", "near dup", "wall s", "records/s", "peak RSS MiB", "dedup keys", "output MiB"],
      [[m, r["samples"], r["records"], r["exact_dup"], r["near_dup"], r["wall_s"], r["records_per_s"], r["peak_rss_mib"], r["dedup_keys"], r["output_mib"]] for m, r in runs])
flat = [r for m, r in runs if m == "exact only"]
rss_ratio = ratio(flat[-1]["peak_rss_mib"], flat[0]["peak_rss_mib"]) if len(flat) > 1 else None


def set_peak_mib(keys):
    """Peak bytes of a Swift Set<UInt64> of `keys` elements: power-of-two buckets at load <= 3/4, plus the
    half-size table still alive while the last resize copies it."""
    buckets = 1
    while buckets * 3 // 4 < keys:
        buckets *= 2
    return (buckets * 8 + buckets // 2 * 8) / 2**20


if rss_ratio is not None:
    growth = round(flat[-1]["peak_rss_mib"] - flat[0]["peak_rss_mib"], 1)
    expected = round(set_peak_mib(flat[-1]["dedup_keys"]) - set_peak_mib(flat[0]["dedup_keys"]), 1)
    print(f"RSS({flat[-1]['samples']})/RSS({flat[0]['samples']}) = {rss_ratio}: +{growth} MiB for "
          f"{flat[-1]['samples'] - flat[0]['samples']} more samples; the exact-dedup set's own growth "
          f"(Swift Set of 8-byte keys, power-of-two tables, old table alive while resizing) is {expected} MiB")
print(json.dumps({"benchmark": "corpus", "rss_ratio": rss_ratio, "runs": [dict(mode=m, **r) for m, r in runs]}))
