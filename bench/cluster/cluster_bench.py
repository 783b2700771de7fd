#!/usr/bin/env python3
"""bench/cluster helper: the local merge search, then the same job on fresh local clusters of 1, 2, 4 workers,
with status queries timed while each job runs. bench/cluster/run.sh prepares the inputs and explains the
choices; this prints the table and, as its last line, one JSON object with the same figures.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from benchlib import log, table  # noqa: E402

SEED = 7
WATCH_INTERVAL_MS = 200
SEARCH_KEYS = """policy: prompt_injection
candidates: [{cands}]
top_k: 3
validation: {val}
methods: [linear, slerp]
subsets: [all, attention, attention_output, all_but_classifier]
iterations: {iters}
seed: {seed}
"""


def loadavg():
    return [round(x, 2) for x in os.getloadavg()]


def pct(xs, q):
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    s = sorted(xs)
    return s[max(0, min(len(s) - 1, int(round(q / 100 * len(s) + 0.5)) - 1))]


def summary_ms(xs):
    if not xs:
        return {"n": 0, "median_ms": None, "p95_ms": None, "max_ms": None}
    return {"n": len(xs), "median_ms": round(pct(xs, 50), 1), "p95_ms": round(pct(xs, 95), 1),
            "max_ms": round(max(xs), 1)}


def same_arms(local, cluster):
    """How many arms (by position) the cluster tried exactly as the local run did: method, weights and F1."""
    n = 0
    for a, b in zip(local, cluster):
        if a["method"] != b["method"] or abs(a["f1"] - b.get("f1", -1)) > 1e-12:
            continue
        if len(a["weights"]) != len(b["weights"]) or any(abs(x - y) > 1e-9 for x, y in zip(a["weights"], b["weights"])):
            continue
        n += 1
    return n


def run_local(binary, inputs, work, iters):
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    cands = ", ".join(os.path.join(inputs, f"taskguard-{p}") for p in ("prompt_injection", "safety"))
    cfg = os.path.join(work, "search.yml")
    with open(cfg, "w") as f:
        f.write(SEARCH_KEYS.format(cands=cands, val=os.path.join(inputs, "val.jsonl"), iters=iters, seed=SEED)
                + "strategies: [thompson]\n")
    cmd = [binary, "merge-search", "--config", cfg, "--out", os.path.join(work, "out")]
    log("$ " + " ".join(cmd))
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stamps = []  # (time, line) of stderr lines as they arrive
    with open(os.path.join(work, "merge-search.log"), "w") as logf:
        for line in p.stderr:
            stamps.append((time.time(), line))
            logf.write(line)
    stdout = p.stdout.read()
    if p.wait() != 0:
        raise SystemExit(f"local merge-search failed (see {work}/merge-search.log)")
    wall = time.time() - t0
    history = [json.loads(l) for l in open(os.path.join(work, "out", "history-thompson.jsonl"))]
    space_t = next(t for t, l in stamps if l.startswith("search space"))
    arm_t = [t for t, l in stamps if re.match(r"thompson #\d+", l)]
    search_s = arm_t[-1] - space_t
    return {
        "best_f1": max(h["f1"] for h in history), "arms": len(history),
        "search_s": round(search_s, 1), "arms_per_min": round(len(history) / search_s * 60, 1),
        "wall_s": round(wall, 1), "ranking_s": round(space_t - t0, 1),
        "arm_s_median": round(pct([h["seconds"] for h in history], 50), 2),
        "history": history, "stdout_tail": stdout.strip().splitlines()[-1] if stdout.strip() else "",
    }


class Cluster:
    """A coordinator with N local workers in a fresh directory; stopped with SIGTERM."""

    def __init__(self, bin_dir, work, workers):
        self.bin, self.work, self.workers = bin_dir, work, workers
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        conf = os.path.join(work, "cluster.conf")
        with open(conf, "w") as f:
            f.write('[coordinator]\nendpoint = "tcp://127.0.0.1:0"\n[storage]\ndatabase = "var/coordinator.sqlite"\n'
                    'exports = "var/exports"\nlocal_worker_cache = "var/worker-cache"\n')
        self.log_path = os.path.join(work, "coordinator.log")
        cmd = [os.path.join(bin_dir, "coordinator"), "serve", "--config", conf, "--local-workers", str(workers)]
        log("$ " + " ".join(cmd))
        self.proc = subprocess.Popen(cmd, stdout=open(self.log_path, "w"), stderr=subprocess.STDOUT)
        ep_file = os.path.join(work, "var", "coordinator.sqlite.endpoint")
        for _ in range(200):
            if os.path.exists(ep_file) and os.path.getsize(ep_file) > 0:
                break
            time.sleep(0.1)
        self.endpoint = open(ep_file).read().strip()
        deadline = time.time() + 30
        while len(self.status().get("workers", [])) < workers:
            if time.time() > deadline:
                raise SystemExit(f"only {len(self.status()['workers'])} of {workers} workers joined")
            time.sleep(0.2)

    def cli(self, *args, timeout_ms=None):
        cmd = [os.path.join(self.bin, "coordinator")] + list(args) + ["--endpoint", self.endpoint]
        if timeout_ms:
            cmd += ["--timeout-ms", str(timeout_ms)]
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout

    def status(self, job=None):
        return json.loads(self.cli("status", "--json", *([job] if job else [])))

    def worker_pids(self):
        return [int(m) for m in re.findall(r"started local worker \d+ \(pid (\d+)\)", open(self.log_path).read())]

    def stop(self):
        """SIGTERM, wait; returns (exit code, pids still alive afterwards: leaked workers or the coordinator)."""
        pids = self.worker_pids()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            code = None
        time.sleep(0.5)
        alive = []
        for pid in pids + ([self.proc.pid] if code is None else []):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().split(")")[-1].split()[0] != "Z":
                        alive.append(pid)
            except FileNotFoundError:
                pass
        for pid in alive:  # only our own children, by pid
            log(f"cluster: pid {pid} still running after SIGTERM; killing it")
            os.kill(pid, signal.SIGKILL)
        if code is None:
            self.proc.wait()
        return code, alive


class Watch(threading.Thread):
    """`coordinator status --json --watch --interval-ms 200`: arrival time and job state of every reply."""

    def __init__(self, cluster, job):
        super().__init__(daemon=True)
        cmd = [os.path.join(cluster.bin, "coordinator"), "status", "--json", "--watch", "--interval-ms",
               str(WATCH_INTERVAL_MS), "--endpoint", cluster.endpoint]
        self.job, self.lines = job, []
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def run(self):
        for line in self.proc.stdout:
            t = time.perf_counter()
            try:
                jobs = json.loads(line)["jobs"]
                state = next((j["state"] for j in jobs if j["id"] == self.job), None)
            except (ValueError, KeyError):
                state = None
            self.lines.append((t, state))

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        self.join(timeout=5)
        # Round trip i: gap between replies i-1 and i, less the client's sleep between them.
        return [(t1 - t0) * 1000 - WATCH_INTERVAL_MS
                for (t0, _), (t1, s1) in zip(self.lines, self.lines[1:]) if s1 == "running"]


def run_cluster(bin_dir, inputs, work, iters, workers, batch, shards, expected_s, local_history):
    c = Cluster(bin_dir, work, workers)
    try:
        job_path = os.path.join(work, "job.yaml")
        cands = ", ".join(os.path.join(inputs, f"taskguard-{p}") for p in ("prompt_injection", "safety"))
        with open(job_path, "w") as f:
            f.write("kind: merge-search\nstrategy: thompson\n"
                    + SEARCH_KEYS.format(cands=cands, val=os.path.join(inputs, "val.jsonl"), iters=iters, seed=SEED)
                    + f"batch: {batch}\nvalidation_shards: {shards}\n")
        submit_ms = time.time() * 1000
        # Submission ranks the candidates on the coordinator before it answers: allow more than the 5 s default.
        job = c.cli("submit", job_path, timeout_ms=120000).strip()
        watch = Watch(c, job)
        watch.start()
        interval = min(3.0, max(0.5, expected_s / 30))
        cli_ms, state = [], "running"
        while state not in ("done", "failed", "cancelled"):
            t0 = time.perf_counter()
            out = c.cli("status", "--json")
            dt = (time.perf_counter() - t0) * 1000
            j = next(j for j in json.loads(out)["jobs"] if j["id"] == job)
            state = j["state"]
            if state == "running":
                cli_ms.append(dt)
            time.sleep(max(0.0, interval - dt / 1000))
        rtt_ms = watch.stop()
        j = c.status(job)["jobs"][0]
    finally:
        code, leaked = c.stop()
    if j["state"] != "done":
        raise SystemExit(f"job {job} ended {j['state']}: {j.get('message')}")
    hist = sorted([h for h in j["history"] if "f1" in h], key=lambda h: h["arm"])
    first_issued = min(h["issued_unix_ms"] for h in hist)
    last_done = max(h["completed_unix_ms"] for h in hist)
    search_s = (last_done - first_issued) / 1000
    return {
        "workers": workers, "batch": batch, "shards": shards, "best_f1": j["best_f1"], "arms": len(hist),
        "search_s": round(search_s, 1), "arms_per_min": round(len(hist) / search_s * 60, 1),
        "ranking_s": round((j["created_unix_ms"] - submit_ms) / 1000, 1),
        "submit_to_done_s": round((j["finished_unix_ms"] - submit_ms) / 1000, 1),
        "first_arm_s": round((min(h["completed_unix_ms"] for h in hist) - first_issued) / 1000, 1),
        "same_arms_as_local": same_arms(local_history, hist),
        "status_cli": summary_ms(cli_ms), "status_rtt": summary_ms(rtt_ms),
        "coordinator_exit": code, "leaked_pids": leaked,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--iterations", type=int, default=32)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    a = ap.parse_args()
    inputs, out = os.path.abspath(a.inputs), os.path.abspath(a.out)
    start_load, started = loadavg(), time.time()
    cores = os.cpu_count()
    log(f"load average at start {start_load}, {cores} cores")

    # What any `coordinator` command costs before it says a word to the coordinator (process start, BLAS check).
    start_ms = []
    for _ in range(20):
        t0 = time.perf_counter()
        subprocess.run([os.path.join(a.bin, "coordinator"), "--version"], capture_output=True, check=True)
        start_ms.append((time.perf_counter() - t0) * 1000)
    cli_start = summary_ms(start_ms)
    local = run_local(os.path.join(a.bin, "uniguard"), inputs, os.path.join(out, "local"), a.iterations)
    log(f"local: best F1 {local['best_f1']:.4f}, {local['arms_per_min']} arms/min")
    per_arm = local["search_s"] / max(local["arms"], 1)
    runs = []
    plan = [(w, w, 1) for w in a.workers]
    if 4 in a.workers:
        plan.append((4, 1, 4))  # parity with 4 workers: one arm at a time, split into 4 validation shards
    for w, batch, shards in plan:
        label = f"w{w}-b{batch}-s{shards}"
        expected = a.iterations * per_arm / min(w, cores)
        r = run_cluster(a.bin, inputs, os.path.join(out, label), a.iterations, w, batch, shards, expected,
                        local["history"])
        log(f"{label}: best F1 {r['best_f1']:.4f}, {r['arms_per_min']} arms/min, status CLI median "
            f"{r['status_cli']['median_ms']} ms, round trip median {r['status_rtt']['median_ms']} ms")
        runs.append(r)
    end_load = loadavg()

    base = next((r["arms_per_min"] for r in runs if r["workers"] == 1 and r["batch"] == 1), None)
    n_val = sum(1 for _ in open(os.path.join(inputs, "val.jsonl")))
    print(f"Merge search (thompson, seed {SEED}, {a.iterations} arms, 2 TaskGuards, {n_val} validation samples) "
          f"on {cores} cores; load average start {start_load}, end {end_load}")
    rows = [["local merge-search", "-", "-", "-", f"{local['best_f1']:.4f}", f"{local['arms']}/{local['arms']}",
             local["arms_per_min"], "-", local["search_s"], local["wall_s"], "-", "-", "-", "-"]]
    for r in runs:
        cli, rtt = r["status_cli"], r["status_rtt"]
        rows.append([f"cluster {r['workers']} worker{'s' if r['workers'] > 1 else ''}", r["workers"], r["batch"],
                     r["shards"], f"{r['best_f1']:.4f}", f"{r['same_arms_as_local']}/{r['arms']}", r["arms_per_min"],
                     round(r["arms_per_min"] / base, 2) if base and r["batch"] == r["workers"] else "-",
                     r["search_s"], r["submit_to_done_s"], cli["median_ms"], cli["p95_ms"], rtt["median_ms"],
                     rtt["p95_ms"]])
    table(["run", "workers", "batch", "shards", "best F1", "same arms", "arms/min", "x 1 worker", "search s",
           "wall s", "status ms", "p95", "rtt ms", "p95"], rows)
    print("same arms: arms identical to the local run's (method, weights, F1) at the same position; "
          "search s: first arm issued -> last done; wall s: command / submit -> job done (incl. ranking, model fetch)")
    print("status ms: whole `coordinator status --json` command incl. process start, ~30 calls while the job runs; "
          f"rtt ms: the request/reply alone (`--watch` reply gaps less its {WATCH_INTERVAL_MS} ms sleep)")
    print(f"`coordinator --version` alone (process start, no request), 20 calls: median {cli_start['median_ms']} ms, "
          f"p95 {cli_start['p95_ms']} ms")
    leaks = sorted({p for r in runs for p in r["leaked_pids"]})
    print(f"coordinator exits after SIGTERM: {[r['coordinator_exit'] for r in runs]}; leaked processes: {leaks or 'none'}")
    local.pop("history")
    print(json.dumps({"benchmark": "cluster", "cores": cores, "iterations": a.iterations, "seed": SEED,
                      "load_start": start_load, "load_end": end_load, "total_s": round(time.time() - started, 1),
                      "cli_start": cli_start,
                      "local": local, "cluster": runs}))


if __name__ == "__main__":
    main()
