"""RabbitMQ 3.10 streams (Debian's rabbitmq-server with the rabbitmq_stream plugin) driven with rstream
(the Python client of the stream protocol) on uvloop.

The node runs as our child: its own epmd on a free port, its own node name, Mnesia/stream data and config in
the work dir, AMQP/stream/distribution ports chosen free; the system service is never touched.
Produce: `send_batch` of raw records with publisher confirms, a window of unconfirmed records. Consume: a
stream consumer from the first offset with chunk credit. Durability: one replica stream (`x-queue-type:
stream`); a confirm means the chunk is written to the segment file (page cache): streams do not fsync.
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

from .common import WARMUP, BenchError, Driver, Pacer, ServerProcess, free_port, payload, stamped, wait_port

WINDOW = 20_000  # unconfirmed records in flight
BATCH = 500      # records per send_batch (one publish frame)
CREDIT = 64      # chunks the consumer lets the server send ahead

RABBIT_BIN = "/usr/lib/rabbitmq/bin/rabbitmq-server"


def _run(coro):
    try:
        import uvloop
        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


class RabbitmqDriver(Driver):
    name = "rabbitmq"
    system = "rabbitmq"
    latency_module = "peers.rabbitmq_driver"

    def __init__(self) -> None:
        self.client = (f"rstream (stream protocol, asyncio + uvloop), send_batch x{BATCH}, confirm window "
                       f"{WINDOW}, consumer credit {CREDIT}")
        self.durability = ("stream queue, 1 replica, publisher confirm per record; streams do not fsync "
                           "(page cache)")
        self.stream_port = 0
        self.epmd: ServerProcess | None = None

    def version(self) -> str:
        try:
            out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "rabbitmq-server"], capture_output=True,
                                 text=True, timeout=10).stdout.strip()
            erl = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "erlang-base"], capture_output=True,
                                 text=True, timeout=10).stdout.strip()
        except OSError:
            return "rabbitmq ?"
        return f"rabbitmq-server {out} (Erlang {erl})"

    def start(self, workdir: Path) -> None:
        base = workdir / "rabbitmq"
        (base / "mnesia").mkdir(parents=True, exist_ok=True)
        (base / "log").mkdir(parents=True, exist_ok=True)
        epmd_port, amqp_port, dist_port = free_port(), free_port(), free_port()
        self.stream_port = free_port()
        conf = base / "rabbitmq.conf"
        conf.write_text(
            f"listeners.tcp.default = 127.0.0.1:{amqp_port}\n"
            f"stream.listeners.tcp.1 = 127.0.0.1:{self.stream_port}\n"
            "stream.advertised_host = 127.0.0.1\n"
            f"stream.advertised_port = {self.stream_port}\n"
            "log.console = true\nlog.console.level = warning\nlog.file = false\n")
        (base / "enabled_plugins").write_text("[rabbitmq_stream].\n")
        cookie = base / ".erlang.cookie"
        cookie.write_text("RUNNELBENCHCOOKIE")
        os.chmod(cookie, 0o400)
        env = dict(os.environ)
        env.update({
            "HOME": str(base), "ERL_EPMD_PORT": str(epmd_port), "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODENAME": "runnelbench@localhost", "RABBITMQ_USE_LONGNAME": "false",
            "RABBITMQ_CONFIG_FILE": str(conf), "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"), "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_PID_FILE": str(base / "rabbit.pid"), "RABBITMQ_DIST_PORT": str(dist_port),
            "RABBITMQ_PLUGINS_EXPAND_DIR": str(base / "plugins-expand"), "RABBITMQ_LOGS": "-",
            "RABBITMQ_CONF_ENV_FILE": str(base / "rabbitmq-env.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(base / "advanced.config"),
            # No scheduler busy-waiting: on 2 shared cores a spinning scheduler takes CPU from the clients
            # and inflates the server CPU figure (the usual advice for small or shared hosts).
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "+sbwt none +sbwtdcpu none +sbwtdio none",
        })
        # Our own epmd (not `-daemon`), so nothing outlives the run.
        self.epmd = ServerProcess(["epmd", "-port", str(epmd_port), "-address", "127.0.0.1"], base / "epmd.log",
                                  env=env)
        wait_port(epmd_port, 10, self.epmd.proc, "epmd")
        self.server = ServerProcess([RABBIT_BIN], base / "rabbitmq.log", env=env, cwd=base, main_comm="beam.smp")
        wait_port(self.stream_port, 120, self.server.proc, "rabbitmq-server")

    def stop(self) -> None:
        super().stop()
        if self.epmd is not None:
            self.epmd.stop()

    def conn(self) -> dict[str, Any]:
        return {"port": self.stream_port}

    def _producer(self):
        from rstream import Producer

        return Producer("127.0.0.1", self.stream_port, username="guest", password="guest",
                        frame_max=8 * 1024 * 1024)

    def create(self, topic: str) -> None:
        async def go() -> None:
            async with self._producer() as p:
                await p.create_stream(topic, exists_ok=True)

        _run(go())

    def produce(self, topic: str, count: int, size: int) -> int:
        async def go() -> int:
            data = payload(size)
            confirmed = [0]
            failed = [0]
            room = asyncio.Condition()

            async def on_confirm(status) -> None:
                if status.is_confirmed:
                    confirmed[0] += 1
                else:
                    failed[0] += 1
                if (confirmed[0] + failed[0]) % BATCH == 0:
                    async with room:
                        room.notify_all()

            async with self._producer() as p:
                sent = 0
                while sent < count:
                    n = min(BATCH, count - sent)
                    async with room:
                        await room.wait_for(lambda: sent - confirmed[0] - failed[0] < WINDOW)
                    await p.send_batch(topic, [data] * n, on_publish_confirm=on_confirm)
                    sent += n
                deadline = time.monotonic() + 120
                while confirmed[0] + failed[0] < count and time.monotonic() < deadline:
                    await asyncio.sleep(0.005)
            if failed[0]:
                raise BenchError(f"rabbitmq: {failed[0]} records not confirmed")
            return confirmed[0]

        return _run(go())

    def consume(self, topic: str, count: int, size: int) -> int:
        return _consume(self.stream_port, topic, count, lambda d: len(d) == size, 600.0, None, CREDIT)

    def latency_produce(self, topic: str, rate: int, count: int, size: int) -> int:
        async def go() -> int:
            pad = payload(size)
            confirmed = [0]

            async def on_confirm(status) -> None:
                if status.is_confirmed:
                    confirmed[0] += 1

            async with self._producer() as p:
                await p.send_wait(topic, WARMUP)
                pacer = Pacer(rate)
                i = 0
                while i < count:
                    due = pacer.due_ns(i)
                    while True:
                        now = time.monotonic_ns()
                        if now >= due:
                            break
                        await asyncio.sleep(0 if due - now < 300_000 else 0.0001)
                    # every record that is due goes in this publish frame (usually one)
                    batch = []
                    while i < count and pacer.due_ns(i) <= time.monotonic_ns():
                        batch.append(stamped(i, size, pad))
                        i += 1
                    await p.send_batch(topic, batch, on_publish_confirm=on_confirm)
                deadline = time.monotonic() + 60
                while confirmed[0] < count and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)
            return confirmed[0]

        return _run(go())


def _consume(port: int, topic: str, count: int, ok: Callable[[bytes], bool], timeout: float,
             on_ready: Callable[[], None] | None, credit: int) -> int:
    async def go() -> int:
        from rstream import Consumer, ConsumerOffsetSpecification, OffsetType

        got = [0, 0]
        done = asyncio.Event()

        def on_message(msg, _ctx) -> None:
            got[0] += 1
            if ok(bytes(msg)):
                got[1] += 1
            if got[0] >= count:
                done.set()

        consumer = Consumer("127.0.0.1", port, username="guest", password="guest", frame_max=8 * 1024 * 1024)
        await consumer.start()
        try:
            await consumer.subscribe(topic, on_message, initial_credit=credit,
                                     offset_specification=ConsumerOffsetSpecification(OffsetType.FIRST, None))
            if on_ready is not None:
                on_ready()
            try:
                await asyncio.wait_for(done.wait(), timeout)
            except asyncio.TimeoutError:
                pass
        finally:
            await consumer.close()
        return got[1]

    return _run(go())


def latency_consume(conn: dict[str, Any], topic: str, count: int, timeout: float, on_ready: Callable[[], None],
                    on_record: Callable[[bytes], None]) -> None:
    def ok(d: bytes) -> bool:
        on_record(d)
        return True

    _consume(conn["port"], topic, count + 1, ok, timeout, on_ready, CREDIT)
