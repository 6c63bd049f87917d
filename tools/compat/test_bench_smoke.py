"""Smoke test of the peer benchmark's harness (tools/bench/peers) with the Runnel driver only: tiny counts, so CI
exercises the workload code without the peers' servers. Asserts that every record is produced, stored and
consumed, and that the latency run delivers every stamped record; never asserts on time."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from peers.common import run_driver  # noqa: E402
from peers.main import table  # noqa: E402
from peers.runnel_driver import RunnelDriver  # noqa: E402

SMALL, LARGE, RATE, SECONDS = 3_000, 500, 500, 1.0


@pytest.mark.timeout(180)
@pytest.mark.parametrize("client,cache", [("kcat", None), ("confluent-kafka", 0)])
def test_runnel_driver_produces_and_consumes_every_record(runnel_bin, tmp_path, client, cache):
    driver = RunnelDriver(runnel_bin, client, cache, name=f"runnel-{client}")
    result = run_driver(driver, tmp_path / "work", SMALL, LARGE, RATE, SECONDS, log=lambda _s: None,
                        warmup_seconds=0.0)

    assert not driver.server.alive(), "the driver stops its broker"
    phases = {p.name: p for p in result.phases}
    assert sorted(phases) == ["consume-100B", "consume-1KiB", "produce-100B", "produce-1KiB"]
    for name, count, size in (("100B", SMALL, 100), ("1KiB", LARGE, 1024)):
        for kind in ("produce", "consume"):
            phase = phases[f"{kind}-{name}"]
            assert (phase.records, phase.size, phase.verified) == (count, size, count)
            assert phase.seconds > 0 and phase.server_cpu_s >= 0
    lat = result.latency
    assert lat is not None
    assert lat.sent == lat.received == int(RATE * SECONDS)
    assert 0 <= lat.p50_ms <= lat.p99_ms <= lat.p999_ms <= lat.max_ms
    assert result.peak_rss_kib > 0
    json.dumps(result.to_json())  # what the benchmark writes
    assert result.name in table([result])
