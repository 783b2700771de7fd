#!/bin/bash
# bench/serve: uniguard serve vs FastAPI/uvicorn + ONNX Runtime under wrk (see serve_bench.py).
# Installs what it needs: wrk (Debian), fastapi + uvicorn into the peer venv (../shared/peer/setup.sh builds it).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PEER_HOME=${PEER_HOME:-$HOME/.cache/uniguard-peer}
SUDO=$([[ $(id -u) == 0 ]] || echo sudo)
command -v wrk >/dev/null || { $SUDO apt-get update -qq; DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null; }
[[ -x $PEER_HOME/venv/bin/python ]] || "$HERE/../../../shared/peer/setup.sh"
"$PEER_HOME/venv/bin/python" -c "import fastapi, uvicorn" 2>/dev/null || "$PEER_HOME/venv/bin/pip" install -q fastapi uvicorn
exec python3 "$HERE/serve_bench.py" "$@"
