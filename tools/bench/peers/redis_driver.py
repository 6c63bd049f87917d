"""Redis 7 Streams (Debian's redis-server) driven with redis-py and the hiredis reply parser.

Produce: XADD pipelined (no MULTI) in batches; every XADD's reply (the entry id) is the ack. Consume: XREAD
with a large COUNT from the last id. Latency: XREAD BLOCK in the consumer process.
Durability: appendonly yes, appendfsync everysec (the AOF is fsynced once a second; a reply means the
command is in memory and in the AOF buffer/page cache), RDB snapshots off. Redis keeps the whole stream in
memory, so its RSS grows with the data.
"""
from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any, Callable

from .common import WARMUP, BenchError, Driver, Pacer, ServerProcess, free_port, payload, stamped, wait_port

BATCH = 1000   # XADDs per pipeline round trip
COUNT = 10000  # entries per XREAD


class RedisDriver(Driver):
    name = "redis"
    system = "redis"
    latency_module = "peers.redis_driver"

    def __init__(self, producer: str = "redis-py", name: str = "redis") -> None:
        if producer not in ("redis-py", "redis-benchmark"):
            raise ValueError(producer)
        self.producer = producer
        self.name = name
        if producer == "redis-py":
            self.client = f"redis-py + hiredis, XADD pipelined x{BATCH}, XREAD COUNT {COUNT}"
        else:
            self.client = (f"produce: redis-benchmark (C, 1 connection, XADD pipelined x{BATCH}); consume and "
                           f"latency: redis-py + hiredis, XREAD COUNT {COUNT}")
        self.durability = "appendonly yes, appendfsync everysec (AOF fsync once a second), RDB off"
        self.port = 0

    def version(self) -> str:
        return subprocess.run(["redis-server", "--version"], capture_output=True, text=True,
                              timeout=10).stdout.strip()

    def start(self, workdir: Path) -> None:
        self.port = free_port()
        data = workdir / "redis"
        data.mkdir(parents=True, exist_ok=True)
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(data),
                "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--daemonize", "no",
                "--protected-mode", "no", "--logfile", ""]
        self.server = ServerProcess(argv, workdir / "redis.log", cwd=workdir, main_comm="redis-server")
        wait_port(self.port, 30, self.server.proc, "redis-server")

    def conn(self) -> dict[str, Any]:
        return {"port": self.port}

    def _client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=120)

    def create(self, topic: str) -> None:
        self._client().delete(topic)

    def check_stored(self, topic: str, count: int) -> None:
        stored = self._client().xlen(topic)
        if stored != count:
            raise BenchError(f"redis: {stored} of {count} entries in {topic}")

    def produce(self, topic: str, count: int, size: int) -> int:
        if self.producer == "redis-benchmark":
            # Redis's own C load generator: `count` XADDs on one connection, BATCH in flight; it reads every
            # reply. `check_stored` then confirms XLEN.
            # It sends whole pipelines, so it gets a multiple of BATCH and redis-py sends the rest.
            value = ("x" * size)
            bulk = count - count % BATCH
            if bulk:
                subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(self.port), "-c", "1", "-P",
                                str(BATCH), "-n", str(bulk), "-q", "XADD", topic, "*", "d", value],
                               check=True, timeout=600, stdout=subprocess.DEVNULL)
            if count > bulk:
                pipe = self._client().pipeline(transaction=False)
                for _ in range(count - bulk):
                    pipe.xadd(topic, {b"d": value.encode()})
                pipe.execute()
            return count
        r = self._client()
        data = payload(size)
        acked = 0
        done = 0
        while done < count:
            n = min(BATCH, count - done)
            pipe = r.pipeline(transaction=False)
            for _ in range(n):
                pipe.xadd(topic, {b"d": data})
            replies = pipe.execute()
            acked += sum(1 for x in replies if isinstance(x, bytes))
            done += n
        return acked

    def consume(self, topic: str, count: int, size: int) -> int:
        r = self._client()
        last = b"0-0"
        got = good = 0
        deadline = time.monotonic() + 600
        while got < count and time.monotonic() < deadline:
            reply = r.xread({topic: last}, count=COUNT)
            if not reply:
                continue
            entries = reply[0][1]
            for _id, fields in entries:
                got += 1
                if len(fields[b"d"]) == size:
                    good += 1
            last = entries[-1][0]
        return good

    def latency_produce(self, topic: str, rate: int, count: int, size: int) -> int:
        r = self._client()
        pad = payload(size)
        r.xadd(topic, {b"d": WARMUP})
        pacer = Pacer(rate)
        acked = 0
        i = 0
        while i < count:
            due = pacer.due_ns(i)
            while True:
                now = time.monotonic_ns()
                if now >= due:
                    break
                if due - now > 300_000:
                    time.sleep(0.0001)
            # every record that is due goes in one pipeline round trip (usually one XADD)
            pipe = r.pipeline(transaction=False)
            while i < count and pacer.due_ns(i) <= time.monotonic_ns():
                pipe.xadd(topic, {b"d": stamped(i, size, pad)})
                i += 1
            acked += sum(1 for x in pipe.execute() if isinstance(x, bytes))
        return acked


def latency_consume(conn: dict[str, Any], topic: str, count: int, timeout: float, on_ready: Callable[[], None],
                    on_record: Callable[[bytes], None]) -> None:
    import redis

    r = redis.Redis(host="127.0.0.1", port=conn["port"], socket_timeout=timeout)
    last = b"0-0"
    got = 0
    deadline = time.monotonic() + timeout
    on_ready()
    while got < count + 1 and time.monotonic() < deadline:
        reply = r.xread({topic: last}, count=COUNT, block=1000)
        if not reply:
            continue
        entries = reply[0][1]
        for _id, fields in entries:
            on_record(fields[b"d"])
            got += 1
        last = entries[-1][0]
