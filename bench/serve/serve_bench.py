#!/usr/bin/env python3
"""bench/serve: `uniguard serve` vs FastAPI/uvicorn + ONNX Runtime serving the same guard, under wrk.

The same model (all-MiniLM-L6-v2 + mean pool + Linear(384,2), the peer's seeded head) is written once as a
UniGuard guard directory and once as ONNX (make_guard.py); each server runs alone in turn on 127.0.0.1 with
2 threads, and wrk posts one ~48-token moderation request at concurrency 1, 8 and 64. Both servers' scores
for the prompt are compared first (they must agree: same model). Prints a table, then one JSON line.
Usage: bench/serve/run.sh [--quick] [--threads N]   (needs ../shared/peer set up; installs wrk, fastapi, uvicorn)
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
from benchlib import PEER_DIR, PEER_HOME, log, ratio, table, uniguard_bin  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
quick = "--quick" in sys.argv
duration = "5s" if quick else "20s"
# Threads for both servers' inference (BLAS / ORT intra-op); 2 = every core of the 2-core reference machine.
threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 2
PROMPT = ("The quarterly report shows that customer satisfaction improved after we changed suppliers, but "
          "several customers still complain about slow response times from the support team during the peak "
          "season, so please summarise the main risks for next year")
py = os.path.join(PEER_HOME, "venv", "bin", "python")
work = os.path.join(PEER_HOME, "serve-bench")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, proc, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("server did not become ready")


def score(port):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/moderations", data=json.dumps({"input": PROMPT}).encode(),
                                 headers={"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(req, timeout=30).read())["results"][0]["category_scores"]["bench"]


def to_ms(text):
    v, unit = float(re.match(r"([\d.]+)", text).group(1)), re.sub(r"[\d.]", "", text)
    return round(v * {"us": 1e-3, "ms": 1, "s": 1e3, "m": 6e4}[unit], 2)


def wrk(port, conns):
    env = dict(os.environ, BODY=json.dumps({"input": PROMPT}))
    cmd = ["wrk", "-t", str(min(conns, 2)), "-c", str(conns), "-d", duration, "--latency", "--timeout", "30s",
           "-s", os.path.join(HERE, "post.lua"), f"http://127.0.0.1:{port}/v1/moderations"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    lat = dict(re.findall(r"^\s*(50|99)(?:\.0+)?%\s+(\S+)\s*$", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"timeout (\d+)", out)
    if "50" not in lat or "99" not in lat:
        log("wrk printed no latency distribution:\n" + out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": to_ms(lat["50"]) if "50" in lat else None, "p99_ms": to_ms(lat["99"]) if "99" in lat else None,
            "non_2xx": int(errors.group(1)) if errors else 0, "timeouts": int(timeouts.group(1)) if timeouts else 0}


def run_server(cmd, port):
    log("$ " + " ".join(cmd))
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_ready(port, proc)
    return proc


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def load1():
    return round(os.getloadavg()[0], 2)


made = {"guard": os.path.join(work, "guard"), "onnx": os.path.join(work, "guard.onnx")}
if not (os.path.exists(os.path.join(made["guard"], "uniguard.json")) and os.path.exists(made["onnx"])):
    # Made once and reused: the tensors are seeded, so a rebuild writes the same model.
    subprocess.run([py, os.path.join(HERE, "make_guard.py"), os.path.join(PEER_HOME, "model"), PEER_DIR, work],
                   check=True, capture_output=True, text=True)
binary = uniguard_bin()
levels = [1, 8, 64]
results = {}
servers = {
    "uniguard": lambda port: [binary, "serve", "--model", made["guard"], "--port", str(port), "--threads", str(threads),
                              "--max-batch", "32", "--max-wait-ms", "2"],
    "peer_ort": lambda port: [py, os.path.join(HERE, "peer_app.py"), made["onnx"], os.path.join(PEER_HOME, "model"), str(port), str(threads)],
}
scores = {}
for name, make in servers.items():
    port = free_port()
    proc = run_server(make(port), port)
    try:
        scores[name] = score(port)
        wrk(port, 8)  # warm-up
        results[name] = {}
        for c in levels:
            results[name][c] = dict(wrk(port, c), load1=load1())
            log(f"{name} c={c}: {results[name][c]}")
    finally:
        stop(proc)

rows = []
for c in levels:
    o, p = results["uniguard"][c], results["peer_ort"][c]
    rows.append([c, o["rps"], p["rps"], ratio(o["rps"], p["rps"]), o["p50_ms"], p["p50_ms"], o["p99_ms"], p["p99_ms"],
                 o["load1"], p["load1"]])
print(f"POST /v1/moderations, one ~48-token prompt, wrk {duration} per level, 127.0.0.1, {threads} thread(s) each; "
      f"score uniguard {scores['uniguard']:.6f} vs peer {scores['peer_ort']:.6f}")
table(["conc", "uniguard req/s", "peer req/s", "x peer", "ug p50 ms", "peer p50 ms", "ug p99 ms", "peer p99 ms",
       "load ug", "load peer"], rows)
print("x peer = uniguard/peer requests/s (target >= 1.5 at p99 <= the peer's); load = 1-min load average during the run")
summary = {"benchmark": "serve", "duration": duration, "threads": threads, "score_uniguard": scores["uniguard"], "score_peer": scores["peer_ort"],
           "rows": [dict(zip(["concurrency", "uniguard_rps", "peer_rps", "ratio_rps", "uniguard_p50_ms", "peer_p50_ms",
                              "uniguard_p99_ms", "peer_p99_ms", "load_uniguard", "load_peer"], r)) for r in rows]}
print(json.dumps(summary))
