#!/usr/bin/env bash
# Installs what Runnel needs to build and test, idempotently.
#   system: the C compression libraries (lz4, zlib, zstd, snappy) and kcat
#   python: a virtual environment at tools/.venv with the Kafka clients used by
#           the compatibility suite (kafka-python, confluent-kafka, aiokafka)
# Usage: tools/install-deps.sh [--system-only|--python-only]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mode="${1:-all}"

need_apt=()
for pkg in liblz4-dev zlib1g-dev libzstd-dev libsnappy-dev kcat; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if [[ "$mode" != "--python-only" && ${#need_apt[@]} -gt 0 ]]; then
    echo "install-deps: installing Debian packages: ${need_apt[*]}" >&2
    SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >/dev/null
    $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [[ "$mode" != "--system-only" ]]; then
    venv="$here/.venv"
    if [[ ! -x "$venv/bin/python" ]]; then
        python3 -m venv "$venv"
    fi
    stamp="$venv/.requirements.sha"
    want="$(sha1sum "$here/requirements.txt" | cut -d' ' -f1)"
    if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
        echo "install-deps: installing Python packages into $venv" >&2
        "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"
        echo "$want" > "$stamp"
    fi
fi
