#!/usr/bin/env bash
# Runs the benchmarks (not tests): storage engine figures, then the broker with librdkafka clients.
#   tools/bench/run.sh [storage|broker|compaction]...   (default: storage broker; broker includes
#       tools/bench/produce_vs_kcat.py, `runnel produce` against kcat on the same file)
#   tools/bench/run.sh peers [--records-100b N] [--records-1k N] [--latency-seconds S] [--rate R]
#                            [--only runnel,runnel-py,runnel-nocache,nats,redis,redis-bench,rabbitmq]
#       Runnel side by side with NATS JetStream, Redis Streams and RabbitMQ streams (tools/bench/peers):
#       installs the peers (tools/bench/install-peers.sh), builds runnel (release), runs each system one at a
#       time, prints the table, writes tools/bench/results/peers-DATE.json and docs/bench/peers.png.
#   tools/bench/run.sh cache [--history-gib G] [--rate R] [--seconds S] [--json FILE]
#       Read-cache proof (tools/bench/cache_proof.py): 16 tail consumers at 50,000 records/s, latency and tail hit
#       ratio without and with a catch-up consumer scanning a 4 GiB history topic; peak RSS vs the cache budget.
# RUNNEL_SCRATCH=PATH builds in that scratch path instead of .build; for peers, RUNNEL_BIN=PATH uses that
# runnel binary instead of building one.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
scratch=()
[[ -n "${RUNNEL_SCRATCH:-}" ]] && scratch=(--scratch-path "$RUNNEL_SCRATCH")
bash tools/install-deps.sh >&2

if [[ "${1:-}" == "peers" ]]; then
    shift
    bash tools/bench/install-peers.sh >&2
    if [[ -n "${RUNNEL_BIN:-}" ]]; then
        runnel="$RUNNEL_BIN"
    else
        nice -n 5 swift build -c release "${scratch[@]}" --product runnel >&2
        runnel="$(swift build -c release "${scratch[@]}" --show-bin-path)/runnel"
    fi
    cd tools/bench
    exec ../.venv/bin/python -m peers --bin "$runnel" "$@"
fi

if [[ "${1:-}" == "cache" ]]; then
    shift
    nice -n 5 swift build -c release "${scratch[@]}" --product runnel >&2
    bin="$(swift build -c release "${scratch[@]}" --show-bin-path)"
    exec tools/.venv/bin/python tools/bench/cache_proof.py --bin "$bin/runnel" "$@"
fi

swift build -c release "${scratch[@]}" --product runnel >&2
swift build -c release "${scratch[@]}" --product runnel-bench-storage >&2
bin="$(swift build -c release "${scratch[@]}" --show-bin-path)"
what=("$@"); [[ ${#what[@]} -eq 0 ]] && what=(storage broker)
for w in "${what[@]}"; do
    case "$w" in
        storage) "$bin/runnel-bench-storage" ;;
        broker) tools/.venv/bin/python tools/bench/broker_bench.py --bin "$bin/runnel"
                tools/.venv/bin/python tools/bench/produce_vs_kcat.py --bin "$bin/runnel" ;;
        compaction)
            swift build -c release "${scratch[@]}" --product runnel-bench-compaction >&2
            "$bin/runnel-bench-compaction" ;;
        *) echo "unknown benchmark: $w" >&2; exit 2 ;;
    esac
done
