#!/usr/bin/env bash
# Installs the peer benchmark's servers and clients, idempotently (not needed by the tests or CI):
#   system: Debian's nats-server, redis-server and rabbitmq-server. The benchmark starts each one by hand as its
#           own child process (temporary data dir, free ports); it never starts or uses the system services.
#   python: the peers' clients and matplotlib (tools/bench/peers/requirements.txt) into tools/.venv, which
#           tools/install-deps.sh creates.
# Usage: tools/bench/install-peers.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tools="$(cd "$here/.." && pwd)"

need_apt=()
for pkg in nats-server redis-server rabbitmq-server; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if [[ ${#need_apt[@]} -gt 0 ]]; then
    echo "install-peers: installing Debian packages: ${need_apt[*]}" >&2
    SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >/dev/null
    $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

venv="$tools/.venv"
if [[ ! -x "$venv/bin/python" ]]; then
    bash "$tools/install-deps.sh" --python-only
fi
req="$here/peers/requirements.txt"
stamp="$venv/.peers-requirements.sha"
want="$(sha1sum "$req" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    echo "install-peers: installing Python packages into $venv" >&2
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
    echo "$want" > "$stamp"
fi
