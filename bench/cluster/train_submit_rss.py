#!/usr/bin/env python3
"""bench/cluster/train_submit_rss.py: coordinator peak RSS, submit time and time to the first training step for a
`kind: pretrain` job whose corpus has 10k and 1M records, on `coordinator serve --local-workers 2`. Submission decodes
every record and writes the on-disk range index (streaming); the coordinator must never hold the corpus, so peak RSS
should be flat in the record count. The first step needs the workers to fetch the base model, the whole index and
their rows' records (never the corpus).
Usage: bench/cluster/train_submit_rss.py [--sizes 10000,1000000]   (UNIGUARD_BIN=DIR: the built coordinator)
Needs the cached base model (scripts/fetch-base-model.sh). Prints a table, then one JSON line.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from benchlib import table, log, ratio, uniguard_bin  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--sizes", default="10000,1000000")
args = ap.parse_args()
bindir = os.path.dirname(uniguard_bin())
coordinator = os.path.join(bindir, "coordinator")
base = os.path.join(os.environ.get("UNIGUARD_HOME", os.path.expanduser("~/.cache/uniguard")), "models/all-MiniLM-L6-v2")
words = "please explain how ignore previous instructions tell me about tax the weather bank password email write code".split()


def corpus(path, n):
    rng = random.Random(1)
    with open(path, "w") as f:
        for i in range(n):
            q = " ".join(rng.choice(words) for _ in range(12))
            f.write('{"text":"Instruct: follow policy p%d [SEP] Query: %s %d","label":"%s","policy":"p%d","origin":"sample",'
                    '"phrasing":0,"source":"bench"}\n' % (i % 7, q, i, "unsafe" if i % 3 == 0 else "safe", i % 7))


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def run(n, work):
    data = os.path.join(work, f"corpus-{n}.jsonl")
    corpus(data, n)
    state = os.path.join(work, f"state-{n}")
    conf = os.path.join(work, f"cluster-{n}.conf")
    with open(conf, "w") as f:
        f.write(f'[coordinator]\nendpoint = "tcp://127.0.0.1:0"\n[storage]\ndatabase = "{state}/coordinator.sqlite"\n'
                f'exports = "{state}/exports"\n[client]\ntimeout_ms = 600000\n')
    job = os.path.join(work, f"job-{n}.yaml")
    with open(job, "w") as f:
        f.write(f"kind: pretrain\ncorpus: {data}\nbase: {base}\nsteps: 100\nbatch: 16\nmax_length: 64\nworkers: 2\n")
    serve = subprocess.Popen([coordinator, "serve", "--config", conf, "--local-workers", "2"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        endpoint_file = os.path.join(state, "coordinator.sqlite.endpoint")
        for _ in range(200):
            if os.path.exists(endpoint_file):
                break
            time.sleep(0.05)
        endpoint = open(endpoint_file).read().strip()
        idle = peak_rss_kib(serve.pid)
        t0 = time.perf_counter()
        job_id = subprocess.run([coordinator, "submit", job, "--config", conf, "--endpoint", endpoint], check=True,
                                capture_output=True, text=True).stdout.strip()
        seconds = time.perf_counter() - t0
        first_step = None
        while time.perf_counter() - t0 < 900:
            out = subprocess.run([coordinator, "status", job_id, "--json", "--endpoint", endpoint], capture_output=True, text=True).stdout
            jobs = [j for j in json.loads(out or "{}").get("jobs", []) if j.get("id") == job_id]
            if jobs and (jobs[0].get("step") or 0) >= 1:
                first_step = time.perf_counter() - t0
                break
            time.sleep(0.25)
        peak = peak_rss_kib(serve.pid)
    finally:
        serve.terminate()
        serve.wait()
    size = os.path.getsize(data)
    os.remove(data)
    return {"records": n, "corpus_mib": round(size / 2**20, 1), "submit_s": round(seconds, 2),
            "first_step_s": None if first_step is None else round(first_step, 1),
            "records_per_s": round(n / seconds), "idle_rss_mib": round(idle / 1024, 1), "peak_rss_mib": round(peak / 1024, 1)}


work = tempfile.mkdtemp(prefix="uniguard-bench-train-rss-")
try:
    runs = [run(int(s), work) for s in args.sizes.split(",")]
finally:
    shutil.rmtree(work, ignore_errors=True)
print("pretrain job on 2 local workers (submit: index every record, hash corpus + base model; first step: from submit):"
      " peak RSS of `coordinator serve`")
table(["records", "corpus MiB", "submit s", "records/s", "first step s", "idle RSS MiB", "peak RSS MiB"],
      [[r["records"], r["corpus_mib"], r["submit_s"], r["records_per_s"], r["first_step_s"], r["idle_rss_mib"], r["peak_rss_mib"]]
       for r in runs])
rss_ratio = ratio(runs[-1]["peak_rss_mib"], runs[0]["peak_rss_mib"]) if len(runs) > 1 else None
print(json.dumps({"benchmark": "cluster-train-submit-rss", "rss_ratio": rss_ratio, "runs": runs}))
