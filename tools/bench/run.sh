#!/usr/bin/env bash
# Runs the benchmarks (not tests): storage engine figures, then the broker with librdkafka clients.
#   tools/bench/run.sh [storage|broker]...   (default: both)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
bash tools/install-deps.sh >&2
swift build -c release --product runnel >&2
swift build -c release --product runnel-bench-storage >&2
bin="$(swift build -c release --show-bin-path)"
what=("$@"); [[ ${#what[@]} -eq 0 ]] && what=(storage broker)
for w in "${what[@]}"; do
    case "$w" in
        storage) "$bin/runnel-bench-storage" ;;
        broker) tools/.venv/bin/python tools/bench/broker_bench.py --bin "$bin/runnel" ;;
        *) echo "unknown benchmark: $w" >&2; exit 2 ;;
    esac
done
