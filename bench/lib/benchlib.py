"""Shared plumbing for UniGuard's benchmarks: find our binary, run the peers side by side, print tables.

Every benchmark prints a table for people and, as its last line, one JSON object with the same figures.
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEER_DIR = os.path.join(os.path.dirname(ROOT), "shared", "peer")
PEER_HOME = os.environ.get("PEER_HOME", os.path.expanduser("~/.cache/uniguard-peer"))


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def uniguard_bin():
    """Path of our `uniguard` executable, building the release configuration if needed."""
    b = os.environ.get("UNIGUARD_BIN")
    if b and os.path.exists(os.path.join(b, "uniguard")):
        return os.path.join(b, "uniguard")
    flags = ["-c", "release", "-Xswiftc", "-enable-testing"]
    subprocess.run(["swift", "build"] + flags, cwd=ROOT, check=True)
    path = subprocess.run(["swift", "build"] + flags + ["--show-bin-path"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()
    return os.path.join(path, "uniguard")


def run_json(cmd, env=None):
    """Runs a command whose last stdout line is a JSON object; returns that object."""
    log("$ " + " ".join(cmd))
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout.strip().splitlines()
    return json.loads(out[-1])


def peer(skip, extra=()):
    """Runs shared/peer/peer_bench.py (when set up) and returns its JSON, or None with the reason logged."""
    script = os.path.join(PEER_DIR, "peer_bench.py")
    py = os.path.join(PEER_HOME, "venv", "bin", "python")
    if not os.path.exists(script):
        log(f"peer: {script} not present; printing our figures only")
        return None
    if not os.path.exists(py):
        log(f"peer: {py} missing; run {PEER_DIR}/setup.sh first; printing our figures only")
        return None
    cmd = [py, script, "--skip", ",".join(skip), "--out", ""] + list(extra)
    log("$ " + " ".join(cmd))
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        log("peer failed: " + r.stderr[-2000:])
        return None
    return json.loads(r.stdout)


def dig(d, *keys):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def table(headers, rows):
    """Prints an aligned text table."""
    cells = [[("-" if c is None else str(c)) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for r in cells:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
