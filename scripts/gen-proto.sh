#!/usr/bin/env bash
# Regenerates Sources/Shared/Cluster/Wire/Generated/uniguard.pb.swift from proto/uniguard.proto.
#
# Uses apt's protoc plus a protoc-gen-swift built from swift-protobuf at the same version the package
# depends on (the SwiftPM plugin is avoided on purpose: it compiles protoc from C++, ~10 min per build).
# The generated file is committed; CI never runs this script.
#
# Environment:
#   SWIFT_PROTOBUF_TAG   swift-protobuf tag to build the plugin from (default 1.39.0)
#   SWIFT_PROTOBUF_SRC   git URL or path to clone from (default: the local mirror, else GitHub)
#   PROTOC_GEN_SWIFT     use this prebuilt plugin instead of building one
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TAG="${SWIFT_PROTOBUF_TAG:-1.39.0}"
WORK="$ROOT/.build-protoc"
OUT="$ROOT/Sources/Shared/Cluster/Wire/Generated"

command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }

if [[ -z "${PROTOC_GEN_SWIFT:-}" ]]; then
    SRC="${SWIFT_PROTOBUF_SRC:-}"
    if [[ -z "$SRC" ]]; then
        if [[ -d /opt/swift-packages/apple/swift-protobuf.git ]]; then
            SRC=/opt/swift-packages/apple/swift-protobuf.git
        else
            SRC=https://github.com/apple/swift-protobuf.git
        fi
    fi
    CHECKOUT="$WORK/swift-protobuf-$TAG"
    if [[ ! -d "$CHECKOUT" ]]; then
        mkdir -p "$WORK"
        git -c advice.detachedHead=false clone --quiet --depth 1 --branch "$TAG" "$SRC" "$CHECKOUT"
    fi
    # Debug is enough: the plugin runs once per regeneration, and debug builds in ~35 s instead of minutes.
    (cd "$CHECKOUT" && swift build --scratch-path .build-protoc -c debug --product protoc-gen-swift)
    PROTOC_GEN_SWIFT="$CHECKOUT/.build-protoc/debug/protoc-gen-swift"
fi

mkdir -p "$OUT"
protoc \
    --plugin=protoc-gen-swift="$PROTOC_GEN_SWIFT" \
    --proto_path="$ROOT/proto" \
    --swift_out="$OUT" \
    --swift_opt=Visibility=Public \
    --swift_opt=FileNaming=DropPath \
    "$ROOT/proto/uniguard.proto"

echo "wrote $OUT/uniguard.pb.swift"
