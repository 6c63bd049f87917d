#!/usr/bin/env bash
# Runs every test: the Swift unit, property-based and integration tests (swift test), then the
# compatibility suites that drive the real binaries with real Kafka clients (pytest under tools/compat).
# Installs what it needs first (Debian packages, a Python venv), idempotently.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash tools/install-deps.sh

echo "== swift build (debug, all products and tests)"
swift build --build-tests
bin="$(swift build --show-bin-path)"
export RUNNEL_BIN="$bin/runnel"
export RUNNEL_RECORDS_INTEROP="$bin/runnel-records-interop"
export RUNNEL_CRASH_WRITER="$bin/runnel-crash-writer"
export RUNNEL_MESSAGEGEN="$bin/MessageGen"

echo "== swift test"
swift test --skip-build

echo "== compatibility suites (real Kafka clients against the real binaries)"
tools/.venv/bin/python -m pytest tools/compat -q -p no:cacheprovider
