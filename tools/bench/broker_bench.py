#!/usr/bin/env python3
"""Broker benchmark (issue 3): librdkafka clients against `runnel serve` on this machine.

  tools/.venv/bin/python tools/bench/broker_bench.py [--bin PATH] [--small N] [--large N] [--rate R] [--seconds S]

Builds nothing: pass the release binary with --bin (tools/bench/run.sh builds it). Workloads:
  * produce N=1,000,000 records of 100 bytes and 200,000 of 1 KiB with kcat (librdkafka) from a file,
    then consume them all back with kcat; records/s and MB/s for each;
  * produce latency p50/p99/p999 at a fixed 10,000 records/s with confluent-kafka (acks=all), measured
    from produce() to the delivery report;
  * the broker's idle RSS (after start) and peak RSS (VmHWM) from /proc.
Prints a table; nothing here is a test and nothing asserts on time.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compat"))
from runnel_harness import Broker, resolve_binary  # noqa: E402


def rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return -1


def make_lines(path: Path, count: int, size: int) -> None:
    line = (b"x" * (size - 1)) + b"\n"
    chunk = line * 10_000
    with path.open("wb") as f:
        for _ in range(count // 10_000):
            f.write(chunk)
        f.write(line * (count % 10_000))


def kcat_produce(bootstrap: str, topic: str, path: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        ["kcat", "-b", bootstrap, "-P", "-t", topic, "-l", str(path),
         "-X", "linger.ms=5", "-X", "batch.size=1000000", "-X", "queue.buffering.max.messages=2000000",
         "-X", "queue.buffering.max.kbytes=2097151", "-X", "compression.codec=none", "-X", "acks=all"],
        check=True, timeout=600)
    return time.perf_counter() - start


def kcat_consume(bootstrap: str, topic: str, expected: int) -> float:
    start = time.perf_counter()
    out = subprocess.run(
        ["kcat", "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "\n",
         "-X", "fetch.max.bytes=52428800", "-X", "queued.max.messages.kbytes=1048576"],
        check=True, timeout=600, stdout=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    got = out.stdout.count(b"\n")
    if got != expected:
        print(f"warning: consumed {got} records from {topic}, expected {expected}", file=sys.stderr)
    return elapsed


def latency(bootstrap: str, topic: str, rate: int, seconds: float) -> list[float]:
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 0, "enable.idempotence": False})
    samples: list[float] = []

    def report(err, _msg, sent=None):
        if err is None:
            samples.append(time.perf_counter() - sent)

    payload = b"y" * 100
    interval = 1.0 / rate
    start = time.perf_counter()
    n = int(rate * seconds)
    for i in range(n):
        target = start + i * interval
        while True:
            now = time.perf_counter()
            if now >= target:
                break
            p.poll(0)
            if target - now > 0.0005:
                time.sleep(0.0002)
        sent = time.perf_counter()
        p.produce(topic, payload, callback=lambda e, m, s=sent: report(e, m, s))
        p.poll(0)
    p.flush(30)
    return samples


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000 if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=None, help="runnel binary (default: $RUNNEL_BIN or the debug build)")
    ap.add_argument("--small", type=int, default=1_000_000, help="records of 100 bytes")
    ap.add_argument("--large", type=int, default=200_000, help="records of 1 KiB")
    ap.add_argument("--rate", type=int, default=10_000, help="records/s for the latency run")
    ap.add_argument("--seconds", type=float, default=10.0, help="length of the latency run")
    args = ap.parse_args()
    binary = args.bin or resolve_binary()

    with tempfile.TemporaryDirectory(prefix="runnel-bench-") as tmp:
        tmp_path = Path(tmp)
        small, large = tmp_path / "small.txt", tmp_path / "large.txt"
        make_lines(small, args.small, 100)
        make_lines(large, args.large, 1024)
        broker = Broker(binary, tmp_path / "data", tmp_path / "logs",
                        overrides={"num.partitions": 1, "log.cache.max.bytes": 0}).start()
        try:
            time.sleep(1.0)
            idle = rss_kib(broker.proc.pid, "VmRSS")
            rows = []
            for name, path, count, size in (("100 B", small, args.small, 100), ("1 KiB", large, args.large, 1024)):
                topic = f"bench-{size}"
                tp = kcat_produce(broker.bootstrap, topic, path)
                tc = kcat_consume(broker.bootstrap, topic, count)
                rows.append((name, count / tp, count * size / tp / 1e6, count / tc, count * size / tc / 1e6))
            lat = latency(broker.bootstrap, "bench-latency", args.rate, args.seconds)
            peak = rss_kib(broker.proc.pid, "VmHWM")
        finally:
            broker.close()

    print(f"# runnel broker benchmark, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}, clients on the same machine")
    print(f"{'records':>8} | {'produce rec/s':>14} | {'produce MB/s':>12} | {'consume rec/s':>14} | {'consume MB/s':>12}")
    for name, pr, pm, cr, cm in rows:
        print(f"{name:>8} | {pr:>14,.0f} | {pm:>12,.1f} | {cr:>14,.0f} | {cm:>12,.1f}")
    print(f"produce latency at {args.rate:,}/s (acks=all, {len(lat)} samples): "
          f"p50 {pct(lat, 0.5):.2f} ms, p99 {pct(lat, 0.99):.2f} ms, p999 {pct(lat, 0.999):.2f} ms")
    print(f"broker RSS: idle {idle / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
