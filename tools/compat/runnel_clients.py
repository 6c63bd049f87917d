"""One small produce/consume API over the four clients the suite drives:
kafka-python, confluent-kafka (librdkafka), aiokafka and kcat.

`produce(client, bootstrap, topic, records, ...)` sends `Rec`s (explicit
partition each, so no client's partitioner matters) and returns the acknowledged
`(partition, offset)` per record (None for kcat, which does not report them).
`consume(client, bootstrap, topic, partitions, expected, ...)` reads with manual
assignment from a start offset (consumer groups are not used) and returns `Got`s.

Every call has a deadline; on timeout a consume returns what it has and the test's
assertions report the shortfall.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import uuid
from dataclasses import dataclass, field

CLIENTS = ("kafka-python", "confluent", "aiokafka", "kcat")
CODECS = ("none", "gzip", "snappy", "lz4", "zstd")


@dataclass(frozen=True)
class Rec:
    """A record to produce. `timestamp` is CreateTime in ms (None: client's clock)."""
    value: bytes | None
    key: bytes | None = None
    headers: tuple[tuple[str, bytes], ...] = ()
    partition: int = 0
    timestamp: int | None = None


@dataclass(frozen=True)
class Got:
    """A consumed record, normalised across clients. `create_time` is True when the
    client reported timestamp type CreateTime (None if the client cannot tell)."""
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = field(default=())
    timestamp: int | None = None
    create_time: bool | None = None


class ProduceFailed(Exception):
    """A record was not acknowledged. `code` is the Kafka error code when known."""

    def __init__(self, message: str, code: int | None = None, original: BaseException | None = None):
        super().__init__(message)
        self.code = code
        self.original = original


# --------------------------------------------------------------------------- produce

def produce(client: str, bootstrap: str, topic: str, records: list[Rec], *,
            compression: str = "none", timeout: float = 60.0, **config):
    if client == "kafka-python":
        return _produce_kafka_python(bootstrap, topic, records, compression, timeout, config)
    if client == "confluent":
        return _produce_confluent(bootstrap, topic, records, compression, timeout, config)
    if client == "aiokafka":
        return asyncio.run(asyncio.wait_for(
            _produce_aiokafka(bootstrap, topic, records, compression, config), timeout))
    if client == "kcat":
        return _produce_kcat(bootstrap, topic, records, compression, timeout, config)
    raise ValueError(client)


def _produce_kafka_python(bootstrap, topic, records, compression, timeout, config):
    from kafka import KafkaProducer
    from kafka.errors import KafkaError

    settings = dict(bootstrap_servers=bootstrap, acks="all", linger_ms=10,
                    compression_type=None if compression == "none" else compression,
                    request_timeout_ms=15000, max_block_ms=15000, retries=3)
    settings.update(config)
    producer = KafkaProducer(**settings)
    try:
        futures = [producer.send(topic, value=r.value, key=r.key, headers=list(r.headers) or None,
                                 partition=r.partition, timestamp_ms=r.timestamp)
                   for r in records]
        producer.flush(timeout=timeout)
        out = []
        for fut in futures:
            try:
                meta = fut.get(timeout=timeout)
            except KafkaError as error:
                raise ProduceFailed(f"kafka-python: {error!r}", getattr(error, "errno", None), error) from error
            out.append((meta.partition, meta.offset))
        return out
    finally:
        producer.close(timeout=5)


def _produce_confluent(bootstrap, topic, records, compression, timeout, config):
    from confluent_kafka import KafkaError, Producer

    settings = {"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 10,
                "compression.type": compression, "message.timeout.ms": int(timeout * 1000)}
    settings.update(config)
    producer = Producer(settings)
    results: list[object] = [None] * len(records)

    def callback_for(i):
        def on_delivery(err, msg):
            results[i] = err if err is not None else (msg.partition(), msg.offset())
        return on_delivery

    deadline = time.monotonic() + timeout
    for i, r in enumerate(records):
        kwargs = dict(value=r.value, key=r.key, partition=r.partition, on_delivery=callback_for(i))
        if r.headers:
            kwargs["headers"] = list(r.headers)
        if r.timestamp is not None:
            kwargs["timestamp"] = r.timestamp
        while True:
            try:
                producer.produce(topic, **kwargs)
                break
            except BufferError:
                producer.poll(0.05)
                if time.monotonic() > deadline:
                    raise ProduceFailed("confluent: local queue stayed full")
        producer.poll(0)
    left = producer.flush(max(0.1, deadline - time.monotonic()))
    if left:
        raise ProduceFailed(f"confluent: {left} records still unacknowledged after {timeout}s")
    for item in results:
        if isinstance(item, KafkaError):
            raise ProduceFailed(f"confluent: {item}", item.code(), None)
    return results


async def _produce_aiokafka(bootstrap, topic, records, compression, config):
    from aiokafka import AIOKafkaProducer
    from aiokafka.errors import KafkaError

    settings = dict(bootstrap_servers=bootstrap, acks="all", linger_ms=10,
                    compression_type=None if compression == "none" else compression,
                    request_timeout_ms=15000)
    settings.update(config)
    producer = AIOKafkaProducer(**settings)
    await producer.start()
    try:
        futures = []
        for r in records:
            futures.append(await producer.send(topic, value=r.value, key=r.key, partition=r.partition,
                                               timestamp_ms=r.timestamp,
                                               headers=list(r.headers) or None))
        out = []
        for fut in futures:
            try:
                meta = await fut
            except KafkaError as error:
                raise ProduceFailed(f"aiokafka: {error!r}", getattr(error, "errno", None), error) from error
            out.append((meta.partition, meta.offset))
        return out
    finally:
        await producer.stop()


def _produce_kcat(bootstrap, topic, records, compression, timeout, config):
    """One kcat run per (partition, headers) group; keys via -K'|', one record a line.
    kcat cannot set timestamps; null keys/values are not expressible here."""
    groups: dict[tuple, list[Rec]] = {}
    for r in records:
        if r.timestamp is not None or r.key is None or r.value is None:
            raise ValueError("kcat producer: records need a key and a value and no timestamp")
        for part in (r.key, r.value):
            if b"|" in part or b"\n" in part:
                raise ValueError("kcat producer: key/value must not contain '|' or newline")
        groups.setdefault((r.partition, r.headers), []).append(r)
    for (partition, headers), group in groups.items():
        args = ["kcat", "-P", "-b", bootstrap, "-t", topic, "-p", str(partition), "-K", "|",
                "-X", "linger.ms=50"]
        if compression != "none":
            args += ["-X", f"compression.codec={compression}"]
        for name, value in headers:
            args += ["-H", f"{name}={value.decode()}"]
        for k, v in config.items():
            args += ["-X", f"{k}={v}"]
        data = b"".join(r.key + b"|" + r.value + b"\n" for r in group)
        done = subprocess.run(args, input=data, capture_output=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise ProduceFailed(f"kcat exit {done.returncode}: {done.stderr.decode(errors='replace')}")
    return [None] * len(records)


# --------------------------------------------------------------------------- consume

def consume(client: str, bootstrap: str, topic: str, partitions, expected: int, *,
            start: int = 0, timeout: float = 30.0, settle: float = 0.3, **config) -> list[Got]:
    """Reads `partitions` (list of ints) from offset `start` until `expected` records
    arrived (then `settle` seconds more, to catch extras) or `timeout` passed."""
    partitions = list(partitions)
    if client == "kafka-python":
        return _consume_kafka_python(bootstrap, topic, partitions, expected, start, timeout, settle, config)
    if client == "confluent":
        return _consume_confluent(bootstrap, topic, partitions, expected, start, timeout, settle, config)
    if client == "aiokafka":
        return asyncio.run(asyncio.wait_for(
            _consume_aiokafka(bootstrap, topic, partitions, expected, start, timeout, settle, config),
            timeout + 30))
    if client == "kcat":
        return _consume_kcat(bootstrap, topic, partitions, start, timeout, config)
    raise ValueError(client)


def _consume_kafka_python(bootstrap, topic, partitions, expected, start, timeout, settle, config):
    from kafka import KafkaConsumer, TopicPartition

    settings = dict(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                    auto_offset_reset="earliest", request_timeout_ms=15000)
    settings.update(config)
    consumer = KafkaConsumer(**settings)
    got: list[Got] = []
    try:
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, start)
        deadline = time.monotonic() + timeout
        settle_until = None
        while time.monotonic() < deadline:
            if len(got) >= expected:
                settle_until = settle_until or time.monotonic() + settle
                if time.monotonic() >= settle_until:
                    break
            batch = consumer.poll(timeout_ms=200)
            for tp, messages in batch.items():
                for m in messages:
                    got.append(Got(m.partition, m.offset, m.key, m.value,
                                   tuple((k, v) for k, v in (m.headers or [])),
                                   m.timestamp, m.timestamp_type == 0))
    finally:
        consumer.close(autocommit=False, timeout_ms=5000)
    return got


def _consume_confluent(bootstrap, topic, partitions, expected, start, timeout, settle, config):
    from confluent_kafka import TIMESTAMP_CREATE_TIME, Consumer, KafkaException, TopicPartition

    settings = {"bootstrap.servers": bootstrap, "group.id": f"runnel-compat-{uuid.uuid4().hex}",
                "enable.auto.commit": False, "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest", "enable.partition.eof": False}
    settings.update(config)
    consumer = Consumer(settings)
    got: list[Got] = []
    try:
        consumer.assign([TopicPartition(topic, p, start) for p in partitions])
        deadline = time.monotonic() + timeout
        settle_until = None
        while time.monotonic() < deadline:
            if len(got) >= expected:
                settle_until = settle_until or time.monotonic() + settle
                if time.monotonic() >= settle_until:
                    break
            for m in consumer.consume(num_messages=1000, timeout=0.2):
                if m.error():
                    raise KafkaException(m.error())
                ts_type, ts = m.timestamp()
                got.append(Got(m.partition(), m.offset(), m.key(), m.value(),
                               tuple((k, v) for k, v in (m.headers() or [])),
                               ts, ts_type == TIMESTAMP_CREATE_TIME))
    finally:
        consumer.close()
    return got


async def _consume_aiokafka(bootstrap, topic, partitions, expected, start, timeout, settle, config):
    from aiokafka import AIOKafkaConsumer
    from aiokafka.structs import TopicPartition

    settings = dict(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                    auto_offset_reset="earliest", request_timeout_ms=15000)
    settings.update(config)
    consumer = AIOKafkaConsumer(**settings)
    await consumer.start()
    got: list[Got] = []
    try:
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, start)
        deadline = time.monotonic() + timeout
        settle_until = None
        while time.monotonic() < deadline:
            if len(got) >= expected:
                settle_until = settle_until or time.monotonic() + settle
                if time.monotonic() >= settle_until:
                    break
            batch = await consumer.getmany(timeout_ms=200)
            for tp, messages in batch.items():
                for m in messages:
                    got.append(Got(m.partition, m.offset, m.key, m.value,
                                   tuple((k, v) for k, v in (m.headers or [])),
                                   m.timestamp, m.timestamp_type == 0))
    finally:
        await consumer.stop()
    return got


def _consume_kcat(bootstrap, topic, partitions, start, timeout, config):
    """`kcat -C -o <start> -e -J` per partition; keys/values must be UTF-8 text."""
    got: list[Got] = []
    for p in partitions:
        args = ["kcat", "-C", "-b", bootstrap, "-t", topic, "-p", str(p), "-o", str(start),
                "-e", "-J", "-q"]
        for k, v in config.items():
            args += ["-X", f"{k}={v}"]
        done = subprocess.run(args, capture_output=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise AssertionError(f"kcat -C exit {done.returncode}: {done.stderr.decode(errors='replace')}")
        for line in done.stdout.decode().splitlines():
            if not line.strip():
                continue
            got.append(parse_kcat_json(line))
    return got


def parse_kcat_json(line: str) -> Got:
    obj = json.loads(line)
    raw_headers = obj.get("headers") or []
    if isinstance(raw_headers, dict):
        pairs = list(raw_headers.items())
    else:
        pairs = list(zip(raw_headers[0::2], raw_headers[1::2]))
    headers = tuple((k, None if v is None else v.encode()) for k, v in pairs)

    def enc(s):
        return None if s is None else s.encode()

    ts_type = obj.get("tstype")
    return Got(obj["partition"], obj["offset"], enc(obj.get("key")), enc(obj.get("payload")),
               headers, obj.get("ts"), None if ts_type is None else ts_type == "create")


# --------------------------------------------------------------------------- admin / offsets

def create_topic(bootstrap: str, topic: str, partitions: int = 1, config: dict | None = None,
                 timeout: float = 20.0) -> None:
    """Creates a topic through librdkafka's AdminClient and waits until metadata
    shows every partition with a leader."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1,
                                            config=config or {})], request_timeout=timeout)
    futures[topic].result(timeout)
    deadline = time.monotonic() + timeout
    while True:
        md = admin.list_topics(topic, timeout=5).topics.get(topic)
        if md is not None and md.error is None and len(md.partitions) == partitions and \
                all(p.leader >= 0 for p in md.partitions.values()):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"topic {topic} not visible with {partitions} partitions: {md}")
        time.sleep(0.1)


def watermarks(bootstrap: str, topic: str, partition: int, timeout: float = 10.0) -> tuple[int, int]:
    """(low, high) watermark offsets via librdkafka (ListOffsets earliest/latest)."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"wm-{uuid.uuid4().hex}",
                         "enable.auto.commit": False})
    try:
        return consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout,
                                              cached=False)
    finally:
        consumer.close()
