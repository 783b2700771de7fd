#!/bin/sh
# bench/corpus: `uniguard corpus build` throughput and peak RSS at 100k and 1M samples (flat memory check).
# Usage: bench/corpus/run.sh [--sizes 100000,1000000] [--embed N]   (UNIGUARD_BIN=DIR to use a built binary)
exec python3 "$(dirname "$0")/corpus_bench.py" "$@"
