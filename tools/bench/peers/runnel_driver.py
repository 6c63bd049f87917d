"""Runnel (`runnel serve`, release build) driven with librdkafka: kcat for the throughput phases (client
"kcat") or confluent-kafka's Python binding (client "confluent-kafka"); confluent-kafka for latency.

Durability: acks=1 (the leader's ack, which on one node is every replica's); Runnel, like Kafka, does not
fsync per write (`log.flush.interval.messages` unset): an acked record is in the page cache, written back by
the kernel. The read cache (`log.cache.max.bytes`, default 256 MiB) is part of RSS; the "nocache" variant
sets it to 0 so its peak RSS is the broker without the cache.
"""
from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Callable

from .common import WARMUP, BenchError, Driver, Pacer, ServerProcess, free_port, payload, stamped, wait_port

REPO = Path(__file__).resolve().parents[3]


class RunnelDriver(Driver):
    system = "runnel"
    latency_module = "peers.runnel_driver"

    def __init__(self, binary: str, client: str = "kcat", cache_bytes: int | None = None, name: str | None = None):
        if client not in ("kcat", "confluent-kafka"):
            raise ValueError(client)
        self.binary = binary
        self.client_kind = client
        self.cache_bytes = cache_bytes
        self.name = name or "runnel"
        cache = "read cache 256 MiB (default)" if cache_bytes is None else f"log.cache.max.bytes={cache_bytes}"
        self.client = (f"{'kcat 1.7 (librdkafka)' if client == 'kcat' else 'confluent-kafka (Python, librdkafka)'}"
                       f"; latency: confluent-kafka; {cache}")
        self.durability = "acks=1 (leader ack); no fsync per write (page cache), like Kafka's default"
        self.port = 0

    def version(self) -> str:
        try:
            rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                                 text=True, timeout=10).stdout.strip()
        except OSError:
            rev = ""
        try:
            dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "Sources", "Package.swift"],
                                   capture_output=True, text=True, timeout=10).stdout.strip()
        except OSError:
            dirty = ""
        return f"runnel {rev or '?'}{' + uncommitted changes' if dirty else ''} (release build)"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, workdir: Path) -> None:
        self.port = free_port()
        argv = [self.binary, "serve", "--log-dirs", str(workdir / "data"),
                "--override", f"listeners=PLAINTEXT://127.0.0.1:{self.port}",
                "--override", "num.partitions=1"]
        if self.cache_bytes is not None:
            argv += ["--override", f"log.cache.max.bytes={self.cache_bytes}"]
        self.server = ServerProcess(argv, workdir / "runnel.log", cwd=workdir)
        wait_port(self.port, 30, self.server.proc, "runnel")

    def conn(self) -> dict[str, Any]:
        return {"bootstrap": self.bootstrap}

    def create(self, topic: str) -> None:
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        for fut in admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)]).values():
            fut.result(30)

    def _end_offset(self, topic: str) -> int:
        from confluent_kafka import Consumer, TopicPartition

        c = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "bench-watermark"})
        try:
            return c.get_watermark_offsets(TopicPartition(topic, 0), timeout=30)[1]
        finally:
            c.close()

    # -- produce ------------------------------------------------------------------------------------------

    def prepare(self, topic: str, count: int, size: int) -> None:
        self._before = self._end_offset(topic)
        if self.client_kind == "kcat":
            # kcat reads the records from a file, one per line (the newline is the delimiter, not data),
            # written here before the clock starts.
            path = self._records_file(count, size)
            line = payload(size).replace(b"\n", b"x") + b"\n"
            with path.open("wb") as f:
                chunk = line * 10_000
                for _ in range(count // 10_000):
                    f.write(chunk)
                f.write(line * (count % 10_000))

    def check_stored(self, topic: str, count: int) -> None:
        stored = self._end_offset(topic) - self._before
        if stored != count:
            raise BenchError(f"runnel: {stored} of {count} records stored in {topic}")

    def _records_file(self, count: int, size: int) -> Path:
        return Path(self.server.log_path).parent / f"records-{count}-{size}.txt"

    def produce(self, topic: str, count: int, size: int) -> int:
        # Every record is acked (kcat exits non-zero on a delivery failure, confluent-kafka raises);
        # `check_stored` then confirms the log end offset moved by `count`.
        if self.client_kind == "kcat":
            self._kcat_produce(topic, count, size)
        else:
            self._py_produce(topic, count, size)
        return count

    def _kcat_produce(self, topic: str, count: int, size: int) -> None:
        path = self._records_file(count, size)
        subprocess.run(
            ["kcat", "-b", self.bootstrap, "-P", "-t", topic, "-p", "0", "-l", str(path),
             "-X", "acks=1", "-X", "linger.ms=5", "-X", "batch.size=1000000",
             "-X", "queue.buffering.max.messages=2000000", "-X", "queue.buffering.max.kbytes=2097151",
             "-X", "compression.codec=none", "-X", "enable.idempotence=false"],
            check=True, timeout=600)

    def _py_produce(self, topic: str, count: int, size: int) -> None:
        from confluent_kafka import Producer

        failed = []
        p = Producer({"bootstrap.servers": self.bootstrap, "acks": 1, "linger.ms": 5, "batch.size": 1_000_000,
                      "queue.buffering.max.messages": 1_000_000, "queue.buffering.max.kbytes": 1_048_576,
                      "compression.codec": "none", "enable.idempotence": False,
                      # every record is still acked by the broker; only failures call back into Python
                      "delivery.report.only.error": True})
        data = payload(size)
        produce, poll = p.produce, p.poll

        def on_error(err, _msg):
            failed.append(err)

        for _ in range(count):
            try:
                produce(topic, data, partition=0, on_delivery=on_error)
            except BufferError:
                poll(0.005)
                produce(topic, data, partition=0, on_delivery=on_error)
        if p.flush(120) != 0 or failed:
            raise BenchError(f"confluent-kafka produce: {len(failed)} failed, first {failed[:1]}")

    # -- consume ------------------------------------------------------------------------------------------

    def consume(self, topic: str, count: int, size: int) -> int:
        if self.client_kind == "kcat":
            out = subprocess.run(
                ["kcat", "-b", self.bootstrap, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-c", str(count),
                 # kcat prints each record's size (%S), not its bytes: the pipe stays small
                 "-e", "-q", "-f", "%S\n", "-X", "fetch.max.bytes=52428800",
                 "-X", "queued.max.messages.kbytes=1048576"],
                check=True, timeout=600, stdout=subprocess.PIPE).stdout
            sizes = out.split()
            return sizes.count(b"%d" % size) if len(sizes) == count else -len(sizes)
        return _py_consume(self.bootstrap, topic, count, lambda v: len(v) == size, 600.0)

    # -- latency ------------------------------------------------------------------------------------------

    def latency_produce(self, topic: str, rate: int, count: int, size: int) -> int:
        from confluent_kafka import Producer

        acked = [0]

        def on_delivery(err, _msg):
            if err is None:
                acked[0] += 1

        p = Producer({"bootstrap.servers": self.bootstrap, "acks": 1, "linger.ms": 0,
                      "enable.idempotence": False, "compression.codec": "none",
                      "socket.nagle.disable": True, "log_level": 3})
        p.produce(topic, WARMUP, partition=0)
        p.flush(30)
        pad = payload(size)
        pacer = Pacer(rate)
        for i in range(count):
            due = pacer.due_ns(i)
            while True:
                now = time.monotonic_ns()
                if now >= due:
                    break
                p.poll(0)
                if due - now > 300_000:
                    time.sleep(0.0001)
            p.produce(topic, stamped(i, size, pad), partition=0, on_delivery=on_delivery)
            p.poll(0)
        p.flush(60)
        return acked[0]


def _py_consume(bootstrap: str, topic: str, count: int, ok: Callable[[bytes], bool], timeout: float,
                on_ready: Callable[[], None] | None = None, low_latency: bool = False) -> int:
    from confluent_kafka import Consumer, TopicPartition

    conf = {"bootstrap.servers": bootstrap, "group.id": f"bench-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False, "auto.offset.reset": "earliest", "enable.partition.eof": False}
    if low_latency:
        conf.update({"fetch.wait.max.ms": 100, "fetch.min.bytes": 1, "socket.nagle.disable": True,
                     "fetch.queue.backoff.ms": 1})
    else:
        # librdkafka (>= 2.4) backs off fetch.queue.backoff.ms (default 1000 ms) whenever its local queue
        # passes queued.min.messages, instead of fetching again as the application drains it: with the
        # default, a fast reader stalls about 1 s per 100,000 records. 1 ms keeps the fetcher going.
        conf.update({"fetch.queue.backoff.ms": 1})
    c = Consumer(conf)
    c.assign([TopicPartition(topic, 0, 0)])
    got = good = 0
    deadline = time.monotonic() + timeout
    try:
        first = []
        if on_ready is not None:
            first = c.consume(num_messages=1, timeout=0.5)  # one fetch round trip before the producer starts
            on_ready()
        while got < count and time.monotonic() < deadline:
            if first:
                batch, first = first, []
            elif low_latency:
                # poll() returns as soon as one record is there; consume(n) would wait for n or the timeout
                m = c.poll(0.2)
                batch = [m] if m is not None else []
            else:
                batch = c.consume(num_messages=min(10_000, count - got), timeout=1.0)
            for m in batch:
                if m.error() is not None:
                    continue
                got += 1
                if ok(m.value()):
                    good += 1
    finally:
        c.close()
    return good


def latency_consume(conn: dict[str, Any], topic: str, count: int, timeout: float, on_ready: Callable[[], None],
                    on_record: Callable[[bytes], None]) -> None:
    def ok(v: bytes) -> bool:
        on_record(v)
        return True

    _py_consume(conn["bootstrap"], topic, count + 1, ok, timeout, on_ready=on_ready, low_latency=True)
