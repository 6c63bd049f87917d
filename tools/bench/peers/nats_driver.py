"""NATS JetStream (Debian's nats-server, `-js` with file storage) driven with nats-py on uvloop.

Produce: JetStream async publish (`publish_async`) with a window of pending acks; every record gets its PubAck.
Consume: a pull consumer (AckNone, deliver all) fetched in batches. Latency: an ordered push consumer.
Durability: one replica, file storage, JetStream's default: an acked message is written to the store's
block file (OS page cache) without an fsync per message; the server syncs periodically.
"""
from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

from .common import WARMUP, BenchError, Driver, Pacer, ServerProcess, free_port, payload, stamped, wait_port

WINDOW = 4096  # unacked async publishes in flight
FETCH = 2000   # records per pull request


def _run(coro):
    try:
        import uvloop
        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


def _stream(topic: str) -> str:
    return topic.replace(".", "_").upper()


class NatsDriver(Driver):
    name = "nats"
    system = "nats"
    latency_module = "peers.nats_driver"

    def __init__(self) -> None:
        self.client = f"nats-py (asyncio + uvloop), publish_async window {WINDOW}, pull fetch {FETCH}"
        self.durability = ("JetStream file storage, 1 replica, PubAck per record; default sync "
                           "(no fsync per message, page cache)")
        self.port = 0

    def version(self) -> str:
        out = subprocess.run(["nats-server", "--version"], capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or out.stderr.strip()

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, workdir: Path) -> None:
        self.port = free_port()
        store = workdir / "jetstream"
        store.mkdir(parents=True, exist_ok=True)
        argv = ["nats-server", "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(store),
                "-n", "bench"]
        self.server = ServerProcess(argv, workdir / "nats.log", cwd=workdir)
        wait_port(self.port, 30, self.server.proc, "nats-server")

    def conn(self) -> dict[str, Any]:
        return {"url": self.url}

    def create(self, topic: str) -> None:
        async def go():
            import nats
            from nats.js.api import StorageType

            nc = await nats.connect(self.url)
            try:
                await nc.jetstream().add_stream(name=_stream(topic), subjects=[topic], storage=StorageType.FILE,
                                                num_replicas=1)
            finally:
                await nc.close()

        _run(go())

    def check_stored(self, topic: str, count: int) -> None:
        async def go() -> int:
            import nats

            nc = await nats.connect(self.url)
            try:
                info = await nc.jetstream().stream_info(_stream(topic))
                return info.state.messages
            finally:
                await nc.close()

        stored = _run(go())
        if stored != count:
            raise BenchError(f"nats: {stored} of {count} records stored in {topic}")

    def produce(self, topic: str, count: int, size: int) -> int:
        async def go() -> int:
            import nats

            nc = await nats.connect(self.url, pending_size=64 * 1024 * 1024)
            js = nc.jetstream(publish_async_max_pending=WINDOW)
            ok = [0]
            bad: list[BaseException] = []

            def done(f: asyncio.Future) -> None:
                if f.cancelled() or f.exception() is not None:
                    bad.append(f.exception() if not f.cancelled() else RuntimeError("cancelled"))
                else:
                    ok[0] += 1

            data = payload(size)
            try:
                for _ in range(count):
                    fut = await js.publish_async(topic, data)
                    fut.add_done_callback(done)
                await asyncio.wait_for(js.publish_async_completed(), 120)
                await asyncio.sleep(0)
            finally:
                await nc.close()
            if bad:
                raise BenchError(f"nats publish: {len(bad)} failed, first: {bad[0]!r}")
            return ok[0]

        return _run(go())

    def consume(self, topic: str, count: int, size: int) -> int:
        async def go() -> int:
            import nats
            from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

            nc = await nats.connect(self.url, pending_size=64 * 1024 * 1024)
            try:
                js = nc.jetstream()
                sub = await js.pull_subscribe(topic, durable=None, stream=_stream(topic),
                                              config=ConsumerConfig(ack_policy=AckPolicy.NONE,
                                                                    deliver_policy=DeliverPolicy.ALL),
                                              pending_msgs_limit=4 * FETCH, pending_bytes_limit=256 * 1024 * 1024)
                got = good = 0
                deadline = time.monotonic() + 600
                while got < count and time.monotonic() < deadline:
                    try:
                        msgs = await sub.fetch(batch=min(FETCH, count - got), timeout=5)
                    except asyncio.TimeoutError:
                        continue
                    for m in msgs:
                        got += 1
                        if len(m.data) == size:
                            good += 1
                return good
            finally:
                await nc.close()

        return _run(go())

    def latency_produce(self, topic: str, rate: int, count: int, size: int) -> int:
        async def go() -> int:
            import nats

            nc = await nats.connect(self.url)
            js = nc.jetstream(publish_async_max_pending=WINDOW)
            ok = [0]

            def done(f: asyncio.Future) -> None:
                if not f.cancelled() and f.exception() is None:
                    ok[0] += 1

            await js.publish(topic, WARMUP)
            pad = payload(size)
            pacer = Pacer(rate)
            try:
                for i in range(count):
                    due = pacer.due_ns(i)
                    while True:
                        now = time.monotonic_ns()
                        if now >= due:
                            break
                        await asyncio.sleep(0 if due - now < 300_000 else 0.0001)
                    fut = await js.publish_async(topic, stamped(i, size, pad))
                    fut.add_done_callback(done)
                await asyncio.wait_for(js.publish_async_completed(), 60)
                await asyncio.sleep(0)
            finally:
                await nc.close()
            return ok[0]

        return _run(go())


def latency_consume(conn: dict[str, Any], topic: str, count: int, timeout: float, on_ready: Callable[[], None],
                    on_record: Callable[[bytes], None]) -> None:
    async def go() -> None:
        import nats

        nc = await nats.connect(conn["url"])
        done = asyncio.Event()
        got = [0]

        async def cb(msg) -> None:
            on_record(msg.data)
            got[0] += 1
            if got[0] >= count + 1:
                done.set()

        try:
            js = nc.jetstream()
            await js.subscribe(topic, stream=_stream(topic), cb=cb, ordered_consumer=True)
            on_ready()
            try:
                await asyncio.wait_for(done.wait(), timeout)
            except asyncio.TimeoutError:
                pass
        finally:
            await nc.close()

    _run(go())
