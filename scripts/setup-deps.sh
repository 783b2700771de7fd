#!/usr/bin/env bash
# Installs the Debian packages UniGuard builds against (idempotent; runs apt only when something is missing).
set -euo pipefail
PKGS="libopenblas-dev libzmq3-dev libsqlite3-dev protobuf-compiler protobuf-c-compiler libprotobuf-c-dev pkg-config unzip zip gcc g++ libgloo-dev"
command -v python3 >/dev/null 2>&1 || PKGS="$PKGS python3 python3-pip"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
command -v swift >/dev/null 2>&1 || { echo "setup: the Swift 6 toolchain is required (swift not on PATH)" >&2; exit 1; }
echo "setup: system packages present"
