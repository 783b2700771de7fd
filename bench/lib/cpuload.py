"""How busy the machine was while a benchmark's child process ran: the cores the child used and the cores every
other process used (/proc/stat minus the child's own CPU time). On this project's 2-core machines a figure taken
with other_cores well above 0 is slowed by someone else; benchmarks print it beside the figure."""
import os
import subprocess
import time


def _busy_and_total():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v[:8]) - (v[3] + v[4]), v[7]


def run_measured(cmd, env=None):
    """Runs `cmd` (check=True, stdout captured) and returns (stdout, load) with load = own_cores, other_cores,
    steal_cores averaged over the run's wall time."""
    hz = os.sysconf("SC_CLK_TCK")
    busy0, steal0 = _busy_and_total()
    t0 = os.times()
    w0 = time.perf_counter()
    r = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - w0
    busy1, steal1 = _busy_and_total()
    t1 = os.times()
    own = (t1.children_user + t1.children_system) - (t0.children_user + t0.children_system)
    busy = (busy1 - busy0) / hz
    load = {"own_cores": round(own / wall, 2), "other_cores": round(max(0.0, busy - own) / wall, 2),
            "steal_cores": round((steal1 - steal0) / hz / wall, 3), "loadavg1_after": round(os.getloadavg()[0], 2)}
    return r.stdout, load
