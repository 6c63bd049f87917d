#!/usr/bin/env bash
# Builds the broker (release) and starts it on embedded defaults:
#   Kafka listener PLAINTEXT://127.0.0.1:9092, data in ./data/runnel, topics auto-created.
# Extra arguments go to `runnel serve` (see `runnel serve --help`), e.g.
#   tools/serve.sh --config server.properties --override num.partitions=3
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash tools/install-deps.sh --system-only
swift build -c release --product runnel >&2
exec "$(swift build -c release --show-bin-path)/runnel" serve "$@"
