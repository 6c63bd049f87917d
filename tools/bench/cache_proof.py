#!/usr/bin/env python3
"""Read-cache proof (issue 7): do tail consumers stay in memory and fast while a catch-up consumer scans history?

  tools/.venv/bin/python tools/bench/cache_proof.py --bin PATH [--history-gib 4] [--rate 50000] [--seconds 30]
      [--cache-bytes 268435456] [--partitions 16] [--record-bytes 100] [--data-dir DIR] [--json FILE]

A benchmark, not a test: it asserts nothing and prints a table (and, with --json, the figures).
`tools/bench/run.sh cache [ARGS]` builds the release broker and runs it.

1. Starts `runnel serve` (release, `log.cache.max.bytes` = --cache-bytes) on a fresh data directory, creates the
   topic `tail` (--partitions) and the topic `history` (1 partition), fills `history` with --history-gib GiB of
   8 KiB records, then restarts the broker so the cache and the peak-RSS counter start empty.
2. Starts one confluent-kafka consumer per `tail` partition (each its own process, assigned at the log end) and a
   producer writing --rate records/s in total, round-robin over the partitions; each record carries its
   produce time, so every consumer measures end-to-end latency (produce() call to the record in hand).
3. Phase A (--seconds): tail traffic only. Phase B (--seconds): the same, while a catch-up consumer reads
   `history` from the beginning as fast as it can (starting over at the end).
4. Reports per phase: latency p50/p99/p99.9, the tail hit ratio from the broker's /metrics
   (`runnel_cache_tail_hits_total` / `runnel_cache_tail_misses_total`; without them, hits/misses of phase A
   only), cold-admission counters, the scanner's MB/s, and the broker's peak RSS (VmHWM) against the cache
   budget. Targets (issue 7): tail hit ratio >= 99%, p99 with the scanner within 1.5x of without.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import struct
import sys
import tempfile
import time
import urllib.request
from array import array
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compat"))
from runnel_harness import Broker, resolve_binary  # noqa: E402

HISTORY_RECORD = 8 * 1024


# -- helpers -------------------------------------------------------------------


def proc_status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return -1


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (all its threads), seconds; -1 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return -1.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and its anonymous / file-backed parts (KiB)."""
    return {field: proc_status_kib(pid, field) for field in ("VmRSS", "RssAnon", "RssFile", "VmHWM")}


def scrape(url: str | None) -> dict[str, float]:
    """Sums of every `runnel_cache_*` sample (labels summed away); {} without a metrics endpoint."""
    if url is None:
        return {}
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    sums: dict[str, float] = {}
    for line in text.splitlines():
        if not line.startswith("runnel_cache_"):
            continue
        name_part, _, value = line.rpartition(" ")
        name = name_part.split("{", 1)[0]
        try:
            sums[name] = sums.get(name, 0.0) + float(value)
        except ValueError:
            continue
    return sums


def delta(after: dict[str, float], before: dict[str, float], name: str) -> float | None:
    if name not in after:
        return None
    return after[name] - before.get(name, 0.0)


def percentile(sorted_values: list[int], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, int(round(q * (len(sorted_values) - 1)))))
    return sorted_values[index]


# -- child processes (spawned: librdkafka threads and fork do not mix) -----------


def tail_consumer(bootstrap: str, partition: int, out_path: str, ready, stop) -> None:
    from confluent_kafka import OFFSET_END, Consumer, TopicPartition

    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": f"cache-proof-tail-{partition}",
        "enable.auto.commit": False, "fetch.wait.max.ms": 100, "fetch.min.bytes": 1,
    })
    consumer.assign([TopicPartition("tail", partition, OFFSET_END)])
    samples = array("q")  # pairs: receive time (ns), latency (ns)
    consumer.consume(num_messages=1, timeout=1.0)
    ready.set()
    while not stop.is_set():
        # poll() returns as soon as one record is there (consume(n, timeout) would wait for n or the timeout and
        # add that wait to every latency); then take whatever else is already queued without waiting.
        first = consumer.poll(0.1)
        if first is None:
            continue
        messages = [first] + consumer.consume(num_messages=1000, timeout=0)
        now = time.time_ns()
        for message in messages:
            if message.error() is not None:
                continue
            value = message.value()
            if value is None or len(value) < 8:
                continue
            (sent,) = struct.unpack_from("<q", value)
            samples.append(now)
            samples.append(now - sent)
    consumer.close()
    with open(out_path, "wb") as out:
        samples.tofile(out)


def tail_producer(bootstrap: str, partitions: int, rate: int, record_bytes: int, out_path: str, stop) -> None:
    from confluent_kafka import Producer

    producer = Producer({
        "bootstrap.servers": bootstrap, "acks": 1, "linger.ms": 2, "enable.idempotence": False,
        "queue.buffering.max.messages": 1_000_000,
    })
    padding = b"t" * max(0, record_bytes - 8)
    sent = 0
    start = time.perf_counter()
    while not stop.is_set():
        due = int((time.perf_counter() - start) * rate)
        while sent < due:
            value = struct.pack("<q", time.time_ns()) + padding
            try:
                producer.produce("tail", value=value, partition=sent % partitions)
            except BufferError:
                producer.poll(0.01)
                continue
            sent += 1
        producer.poll(0)
        time.sleep(0.001)
    producer.flush(10)
    Path(out_path).write_text(str(sent))


def scanner(bootstrap: str, out_path: str, ready, stop, niceness: int) -> None:
    from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

    if niceness:
        os.nice(niceness)  # models a scanner on another machine: its client CPU does not compete as much

    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": "cache-proof-scanner", "enable.auto.commit": False,
        "enable.partition.eof": True,
    })
    consumer.assign([TopicPartition("history", 0, OFFSET_BEGINNING)])
    read_bytes = 0
    passes = 0
    start = time.perf_counter()
    ready.set()
    while not stop.is_set():
        for message in consumer.consume(num_messages=10_000, timeout=0.5):
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    passes += 1
                    consumer.seek(TopicPartition("history", 0, OFFSET_BEGINNING))
                continue
            read_bytes += len(message.value() or b"")
    elapsed = time.perf_counter() - start
    consumer.close()
    Path(out_path).write_text(json.dumps({"bytes": read_bytes, "seconds": elapsed, "passes": passes}))


# -- driver ----------------------------------------------------------------------


def fill_history(bootstrap: str, total_bytes: int) -> float:
    from confluent_kafka import Producer

    producer = Producer({
        "bootstrap.servers": bootstrap, "acks": 1, "linger.ms": 20, "batch.size": 1_000_000,
        "queue.buffering.max.kbytes": 1_048_576, "enable.idempotence": False,
    })
    value = bytes(range(256)) * (HISTORY_RECORD // 256)
    start = time.perf_counter()
    written = 0
    while written < total_bytes:
        try:
            producer.produce("history", value=value, partition=0)
            written += len(value)
        except BufferError:
            producer.poll(0.05)
        producer.poll(0)
    producer.flush(600)
    return time.perf_counter() - start


def latencies_between(paths: list[Path], ranges: list[tuple[int, int]]) -> list[int]:
    """Latencies (ns) of the records received within any of `ranges` (ns since the epoch), sorted."""
    values: list[int] = []
    for path in paths:
        samples = array("q")
        with open(path, "rb") as f:
            samples.frombytes(f.read())
        for index in range(0, len(samples) - 1, 2):
            received = samples[index]
            if any(t0 <= received < t1 for t0, t1 in ranges):
                values.append(samples[index + 1])
    values.sort()
    return values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", help="the runnel binary (default: RUNNEL_BIN or a built one)")
    parser.add_argument("--history-gib", type=float, default=4.0)
    parser.add_argument("--rate", type=int, default=50_000, help="tail records/s, all partitions together")
    parser.add_argument("--record-bytes", type=int, default=100)
    parser.add_argument("--partitions", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each measured phase")
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2, help="A/B phase pairs, alternated (pooled in the summary)")
    parser.add_argument("--scanner-nice", type=int, default=0,
                        help="nice value for the scanner process (0: same priority as the tail clients)")
    parser.add_argument("--cache-bytes", type=int, default=268_435_456)
    parser.add_argument("--data-dir", help="parent of the broker's temporary data directory (default: $TMPDIR)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    binary = args.bin or resolve_binary()
    work = Path(tempfile.mkdtemp(prefix="runnel-cache-proof-", dir=args.data_dir))
    broker = Broker(binary, work / "data", work / "logs", overrides={
        "log.cache.max.bytes": args.cache_bytes, "auto.create.topics.enable": "false"})
    ctx = mp.get_context("spawn")
    children: list = []
    stop = ctx.Event()
    try:
        broker.start()
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        for future in admin.create_topics([
            NewTopic("tail", args.partitions, 1), NewTopic("history", 1, 1)]).values():
            future.result(30)
        del admin  # its connections would retry through the restart below
        history_bytes = int(args.history_gib * (1 << 30))
        print(f"filling history with {history_bytes / 2**30:.2f} GiB ...", file=sys.stderr)
        fill_seconds = fill_history(broker.bootstrap, history_bytes)
        print(f"  {fill_seconds:.1f} s ({history_bytes / fill_seconds / 1e6:.0f} MB/s)", file=sys.stderr)
        broker.stop()
        broker.start()
        pid = broker.proc.pid
        memory = {"start": memory_kib(pid)}
        if broker.metrics_url is None:
            print("warning: no metrics endpoint announced: hit ratios unavailable", file=sys.stderr)

        readies = []
        sample_paths = [work / f"tail-{p}.samples" for p in range(args.partitions)]
        for partition in range(args.partitions):
            ready = ctx.Event()
            child = ctx.Process(target=tail_consumer,
                                args=(broker.bootstrap, partition, str(sample_paths[partition]), ready, stop))
            child.start()
            children.append(child)
            readies.append(ready)
        for ready in readies:
            if not ready.wait(60):
                raise RuntimeError("a tail consumer did not start")
        produced_path = work / "produced"
        producer = ctx.Process(target=tail_producer, args=(
            broker.bootstrap, args.partitions, args.rate, args.record_bytes, str(produced_path), stop))
        producer.start()
        children.append(producer)

        print(f"warm-up {args.warmup:.0f} s, then {args.rounds} x (phase A: tail only, phase B: tail + "
              f"catch-up scanner), {args.seconds:.0f} s each ...", file=sys.stderr)
        time.sleep(args.warmup)
        windows: list[tuple[str, int, int, dict, dict]] = []
        scan_results = []
        cpu: dict[str, dict[str, float]] = {}
        for round_index in range(1, args.rounds + 1):
            t0, m0, c0 = time.time_ns(), scrape(broker.metrics_url), cpu_seconds(pid)
            time.sleep(args.seconds)
            windows.append((f"A{round_index}", t0, time.time_ns(), m0, scrape(broker.metrics_url)))
            cpu[f"A{round_index}"] = {"broker": (cpu_seconds(pid) - c0) / args.seconds}
            memory[f"after A{round_index}"] = memory_kib(pid)
            scan_ready = ctx.Event()
            scan_stop = ctx.Event()
            scan_path = work / f"scanner-{round_index}.json"
            scan = ctx.Process(target=scanner, args=(
                broker.bootstrap, str(scan_path), scan_ready, scan_stop, args.scanner_nice))
            scan.start()
            children.append(scan)
            scan_ready.wait(60)
            time.sleep(3)  # let the scanner's first fetches start
            t0, m0, c0, s0 = time.time_ns(), scrape(broker.metrics_url), cpu_seconds(pid), cpu_seconds(scan.pid)
            time.sleep(args.seconds)
            windows.append((f"B{round_index}", t0, time.time_ns(), m0, scrape(broker.metrics_url)))
            cpu[f"B{round_index}"] = {"broker": (cpu_seconds(pid) - c0) / args.seconds,
                                      "scanner": (cpu_seconds(scan.pid) - s0) / args.seconds}
            memory[f"after B{round_index}"] = memory_kib(pid)
            scan_stop.set()
            scan.join(60)
            if scan_path.exists():
                scan_results.append(json.loads(scan_path.read_text()))
        rss_peak_kib = proc_status_kib(pid, "VmHWM")
        rss_now_kib = proc_status_kib(pid, "VmRSS")
        last_metrics = windows[-1][4]
        stop.set()
        for child in children:
            child.join(60)

        def phase(t_ranges: list[tuple[int, int]], metric_pairs: list[tuple[dict, dict]], tail_only: bool) -> dict:
            lat = latencies_between(sample_paths, t_ranges)

            def total(name: str) -> float | None:
                values = [delta(m1, m0, name) for m0, m1 in metric_pairs]
                return None if any(v is None for v in values) else sum(values)

            tail_hits, tail_misses = total("runnel_cache_tail_hits_total"), total("runnel_cache_tail_misses_total")
            hits, misses = total("runnel_cache_hits_total"), total("runnel_cache_misses_total")
            if tail_hits is not None and tail_misses is not None and tail_hits + tail_misses > 0:
                tail_ratio = tail_hits / (tail_hits + tail_misses)
            elif tail_only and hits is not None and misses is not None and hits + misses > 0:
                tail_ratio = hits / (hits + misses)  # phase A has only tail readers
            else:
                tail_ratio = None
            return {
                "records": len(lat), "p50_ms": percentile(lat, 0.50) / 1e6, "p99_ms": percentile(lat, 0.99) / 1e6,
                "p999_ms": percentile(lat, 0.999) / 1e6, "tail_hit_ratio": tail_ratio,
                "tail_hits": tail_hits, "tail_misses": tail_misses, "hits": hits, "misses": misses,
                "catch_up_misses": total("runnel_cache_catch_up_misses_total"),
                "catch_up_hits": total("runnel_cache_catch_up_hits_total"),
                "cold_admissions": total("runnel_cache_cold_admissions_total"),
                "cold_remembered": total("runnel_cache_cold_remembered_total"),
                "cold_rejected": total("runnel_cache_cold_rejected_total"),
                "evictions": total("runnel_cache_evictions_total"),
            }

        phases = {name: phase([(t0, t1)], [(m0, m1)], name.startswith("A"))
                  for name, t0, t1, m0, m1 in windows}
        for kind in ("A", "B"):
            chosen = [w for w in windows if w[0].startswith(kind)]
            phases[kind] = phase([(w[1], w[2]) for w in chosen], [(w[3], w[4]) for w in chosen], kind == "A")
        scanned = sum(r["bytes"] for r in scan_results)
        scan_seconds = sum(r["seconds"] for r in scan_results)
        scan_result = {"bytes": scanned, "seconds": scan_seconds, "passes": sum(r["passes"] for r in scan_results)}
        produced = int(produced_path.read_text()) if produced_path.exists() else -1
        result = {
            "history_gib": args.history_gib, "rate": args.rate, "partitions": args.partitions,
            "record_bytes": args.record_bytes, "seconds": args.seconds, "cache_bytes": args.cache_bytes,
            "fill_seconds": fill_seconds, "produced": produced, "phases": phases, "rounds": args.rounds,
            "scanner_nice": args.scanner_nice, "cpu_cores": cpu,
            "p99_ratio": phases["B"]["p99_ms"] / phases["A"]["p99_ms"] if phases["A"]["p99_ms"] else None,
            "scanner": scan_result,
            "scanner_mb_s": scan_result.get("bytes", 0) / scan_result["seconds"] / 1e6
            if scan_result.get("seconds") else None,
            "rss_peak_mib": rss_peak_kib / 1024, "rss_end_mib": rss_now_kib / 1024, "memory_kib": memory,
            "cache_bytes_after_b": last_metrics.get("runnel_cache_bytes"),
            "cache_entries_after_b": last_metrics.get("runnel_cache_entries"),
        }
        report(result)
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2))
        return 0
    finally:
        stop.set()
        for child in children:
            if child.is_alive():
                child.join(10)
            if child.is_alive():
                child.kill()
        if broker.running:
            broker.stop()
        shutil.rmtree(work, ignore_errors=True)


def report(r: dict) -> None:
    def fmt(value, spec=".2f", suffix=""):
        return "n/a" if value is None else f"{value:{spec}}{suffix}"

    a, b = r["phases"]["A"], r["phases"]["B"]
    print(f"\nRead-cache proof: {r['partitions']} tail partitions at {r['rate']:,} records/s of "
          f"{r['record_bytes']} B, history {r['history_gib']:g} GiB, cache {r['cache_bytes'] / 2**20:.0f} MiB, "
          f"{r['seconds']:.0f} s per phase, {r['rounds']} rounds, scanner nice {r['scanner_nice']}\n")
    print("| phase | records | p50 ms | p99 ms | p99.9 ms | tail hit ratio | tail hits / misses | "
          "catch-up misses | cold admitted / remembered / rejected |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = [(name, name, p) for name, p in r["phases"].items() if name not in ("A", "B")]
    rows += [("A", "A (all): tail only", a), ("B", "B (all): tail + scanner", b)]
    for name, label, p in rows:
        print(f"| {label} | {p['records']:,} | {p['p50_ms']:.2f} | {p['p99_ms']:.2f} | {p['p999_ms']:.2f} | "
              f"{fmt(p['tail_hit_ratio'] and 100 * p['tail_hit_ratio'], '.2f', '%')} | "
              f"{fmt(p['tail_hits'], '.0f')} / {fmt(p['tail_misses'], '.0f')} | {fmt(p['catch_up_misses'], '.0f')} | "
              f"{fmt(p['cold_admissions'], '.0f')} / {fmt(p['cold_remembered'], '.0f')} / "
              f"{fmt(p['cold_rejected'], '.0f')} |")
    print()
    ratio = r["p99_ratio"]
    print(f"p99 with / without scanner: {fmt(ratio, '.2f', 'x')} (target <= 1.5x)")
    tail_b = b["tail_hit_ratio"]
    print(f"tail hit ratio with scanner: {fmt(tail_b and 100 * tail_b, '.2f', '%')} (target >= 99%)")
    s = r["scanner"]
    print(f"scanner: {fmt(r['scanner_mb_s'], '.0f', ' MB/s')}, {s.get('passes', 0)} full passes")
    print("CPU (cores busy): " + ", ".join(
        f"{name} broker {c['broker']:.2f}" + (f" scanner {c['scanner']:.2f}" if "scanner" in c else "")
        for name, c in r["cpu_cores"].items()))
    print(f"broker peak RSS (VmHWM): {r['rss_peak_mib']:.0f} MiB for a {r['cache_bytes'] / 2**20:.0f} MiB cache "
          f"(RSS at the end {r['rss_end_mib']:.0f} MiB)")
    for when, m in r["memory_kib"].items():
        print(f"  {when}: RSS {m['VmRSS'] / 1024:.0f} MiB (anonymous {m['RssAnon'] / 1024:.0f}, "
              f"file-backed {m['RssFile'] / 1024:.0f}), peak {m['VmHWM'] / 1024:.0f} MiB")
    if r.get("cache_bytes_after_b") is not None:
        print(f"cache after B: {r['cache_bytes_after_b'] / 2**20:.0f} MiB charged in "
              f"{r['cache_entries_after_b']:.0f} batches")
    print(f"tail records produced: {r['produced']:,}; history filled in {r['fill_seconds']:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
