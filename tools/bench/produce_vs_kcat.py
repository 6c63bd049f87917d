#!/usr/bin/env python3
"""`runnel produce` against kcat (librdkafka) on the same broker, in the same run (issue 5).

  tools/.venv/bin/python tools/bench/produce_vs_kcat.py --bin PATH [--records N] [--size B] [--reps R]

Writes one file of N lines of B bytes (newline included), starts one `runnel serve` (1 partition per topic,
read cache off, as broker_bench.py), then alternates kcat and `runnel produce` R times, each run into a fresh
pre-created topic, acks=all, no compression, linger 5 ms, batch.size 1,000,000 bytes for both. Reports wall
time, records/s, client CPU seconds (user+sys from getrusage) and runnel's rate as a fraction of kcat's in
the same repetition. Warns when a topic does not hold N records afterwards (end offset read with
kafka-python). A benchmark, not a test: nothing asserts on time.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compat"))
from runnel_harness import Broker, resolve_binary  # noqa: E402


def make_lines(path: Path, count: int, size: int) -> None:
    line = (b"x" * (size - 1)) + b"\n"
    chunk = line * 10_000
    with path.open("wb") as f:
        for _ in range(count // 10_000):
            f.write(chunk)
        f.write(line * (count % 10_000))


def timed(cmd: list[str]) -> tuple[float, float]:
    """Runs cmd; returns (wall seconds, child CPU seconds user+sys)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def end_offset(bootstrap: str, topic: str) -> int:
    from kafka import KafkaConsumer, TopicPartition

    c = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        tp = TopicPartition(topic, 0)
        return c.end_offsets([tp])[tp]
    finally:
        c.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=None, help="runnel binary (default: $RUNNEL_BIN or the debug build)")
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--size", type=int, default=100, help="bytes per line, newline included")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--extra", default="", help="extra arguments for runnel produce (space separated)")
    args = ap.parse_args()
    binary = args.bin or resolve_binary()

    with tempfile.TemporaryDirectory(prefix="runnel-produce-bench-") as tmp:
        tmp_path = Path(tmp)
        path = tmp_path / "lines.txt"
        make_lines(path, args.records, args.size)
        broker = Broker(binary, tmp_path / "data", tmp_path / "logs",
                        overrides={"num.partitions": 1, "log.cache.max.bytes": 0}).start()
        rows = []
        try:
            time.sleep(1.0)
            for rep in range(args.reps):
                result = {}
                for who in ("kcat", "runnel"):
                    topic = f"bench-{who}-{rep}"
                    subprocess.run([binary, "topics", "create", topic, "--partitions", "1",
                                    "--bootstrap-server", broker.bootstrap],
                                   check=True, capture_output=True, timeout=60)
                    if who == "kcat":
                        cmd = ["kcat", "-b", broker.bootstrap, "-P", "-t", topic, "-l", str(path),
                               "-X", "linger.ms=5", "-X", "batch.size=1000000",
                               "-X", "queue.buffering.max.messages=2000000",
                               "-X", "queue.buffering.max.kbytes=2097151", "-X", "compression.codec=none",
                               "-X", "acks=all"]
                    else:
                        cmd = [binary, "produce", topic, "--file", str(path), "--quiet", "--acks", "all",
                               "--linger-ms", "5", "--batch-size", "1000000",
                               "--bootstrap-server", broker.bootstrap] + args.extra.split()
                    wall, cpu = timed(cmd)
                    got = end_offset(broker.bootstrap, topic)
                    if got != args.records:
                        print(f"warning: {topic} holds {got} records, expected {args.records}", file=sys.stderr)
                    result[who] = (wall, cpu)
                rows.append(result)
        finally:
            broker.close()

    print(f"# runnel produce vs kcat, {args.records:,} x {args.size} B, {os.cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%d %H:%M')}, broker and client on the same machine")
    print(f"{'rep':>3} | {'kcat rec/s':>11} | {'kcat CPU s':>10} | {'runnel rec/s':>12} | {'runnel CPU s':>12} | ratio")
    ratios = []
    for i, r in enumerate(rows):
        kw, kc = r["kcat"]
        rw, rc = r["runnel"]
        ratio = kw / rw
        ratios.append(ratio)
        print(f"{i + 1:>3} | {args.records / kw:>11,.0f} | {kc:>10.2f} | {args.records / rw:>12,.0f} | "
              f"{rc:>12.2f} | {ratio:.2f}")
    print(f"ratio runnel/kcat: min {min(ratios):.2f}, median {sorted(ratios)[len(ratios) // 2]:.2f}, "
          f"max {max(ratios):.2f}")


if __name__ == "__main__":
    main()
