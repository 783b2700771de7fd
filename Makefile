# UniGuard: `make demo` sets everything up and runs the pipeline; `make test` runs the test suite.
SHELL := /bin/bash
# One optimised configuration for binaries and tests (testing enabled), and one build step for both
# (`--build-tests`; `swift test --skip-build`), so `make test` after `make demo`, or the reverse, rebuilds nothing.
SWIFT_FLAGS := -c release -Xswiftc -enable-testing
BIN = $(shell swift build $(SWIFT_FLAGS) --show-bin-path 2>/dev/null)
# The test runner cannot re-exec itself like our binaries do, so pick the OpenBLAS kernel for it here.
export OPENBLAS_CORETYPE ?= $(shell scripts/blas-coretype)

.PHONY: all deps model build test demo bench bench-infer clean

all: build

deps:
	@scripts/setup-deps.sh

model: deps
	@scripts/fetch-base-model.sh

build: deps
	swift build $(SWIFT_FLAGS) --build-tests

# Strict: a test whose prerequisite is missing fails instead of skipping, and any skip at all fails the run.
test: model build
	set -o pipefail; UNIGUARD_STRICT_TESTS=1 UNIGUARD_BIN="$(BIN)" swift test $(SWIFT_FLAGS) --skip-build 2>&1 | tee .build/test.log
	@if grep -qE "' skipped \(|with [1-9][0-9]* tests? skipped" .build/test.log; then \
	  echo "make test: some tests were skipped (see .build/test.log); every test must run" >&2; exit 1; fi

demo: model build
	UNIGUARD_BIN="$(BIN)" scripts/demo.sh

bench-infer: model build
	UNIGUARD_BIN="$(BIN)" bench/infer

bench: bench-infer

clean:
	rm -rf .build
