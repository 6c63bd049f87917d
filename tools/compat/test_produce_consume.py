"""Produce/consume round trips across clients: keys, null keys, tombstones,
headers, CreateTime timestamps, 10,000 records over several partitions, and a
900 KiB record."""

from __future__ import annotations

import random
import time
from collections import defaultdict

import pytest

from runnel_clients import CLIENTS, Got, Rec, consume, create_topic, produce, watermarks

PRODUCERS = ("kafka-python", "confluent", "aiokafka")


def sample_records(base_ts: int) -> list[Rec]:
    """Two partitions; every shape a record can take on the wire (text only, so
    kcat's JSON output can carry it)."""
    return [
        Rec(b"v-plain", b"k1", (), 0, base_ts + 1),
        Rec(b"v-headers", b"k2", (("h1", b"alpha"), ("h2", b"beta")), 0, base_ts + 2),
        Rec(b"v-no-key", None, (), 0, base_ts + 3),
        Rec(None, b"tombstone-key", (), 0, base_ts + 4),
        Rec(b"", b"empty-value", (), 0, base_ts + 5),
        Rec(b"v-dup-headers", b"k3", (("dup", b"1"), ("dup", b"2"), ("other", b"")), 0, base_ts + 6),
        Rec(b"p1-first", b"k4", (("h", b"x"),), 1, base_ts + 7),
        Rec(None, b"p1-tomb", (), 1, base_ts + 8),
        Rec(b"p1-last", None, (), 1, base_ts + 9),
    ]


def check_round_trip(records: list[Rec], acked, got: list[Got], consumer: str) -> None:
    by_partition: dict[int, list[Rec]] = defaultdict(list)
    for r in records:
        by_partition[r.partition].append(r)
    got_by_partition: dict[int, list[Got]] = defaultdict(list)
    for g in got:
        got_by_partition[g.partition].append(g)
    assert sorted(got_by_partition) == sorted(by_partition), f"partitions seen: {sorted(got_by_partition)}"
    for p, sent in by_partition.items():
        received = got_by_partition[p]
        assert [g.offset for g in received] == list(range(len(sent))), f"partition {p} offsets"
        for r, g in zip(sent, received):
            assert g.key == r.key, (p, g.offset, "key")
            assert g.value == r.value, (p, g.offset, "value")
            assert [(k, v) for k, v in g.headers] == list(r.headers), (p, g.offset, "headers")
            assert g.timestamp == r.timestamp, (p, g.offset, "CreateTime timestamp")
            if g.create_time is not None:
                assert g.create_time, (p, g.offset, f"{consumer} reports a non-CreateTime timestamp type")
    if acked is not None and all(a is not None for a in acked):
        for r, (p, off) in zip(records, acked):
            assert p == r.partition
        per_p = defaultdict(list)
        for p, off in acked:
            per_p[p].append(off)
        for p, offs in per_p.items():
            assert offs == list(range(len(offs))), f"acknowledged offsets on partition {p}: {offs}"


@pytest.mark.parametrize("consumer", CLIENTS)
@pytest.mark.parametrize("producer", PRODUCERS)
def test_round_trip_keys_null_keys_tombstones_headers_and_timestamps(broker, topic_name, producer, consumer):
    create_topic(broker.bootstrap, topic_name, partitions=2)
    base_ts = int(time.time() * 1000) - 60_000
    records = sample_records(base_ts)
    if consumer == "kcat":
        # kcat's JSON cannot tell an empty header value from a null one reliably; keep it non-empty.
        records = [Rec(r.value, r.key, tuple((k, v or b"-") for k, v in r.headers), r.partition, r.timestamp)
                   for r in records]
    acked = produce(producer, broker.bootstrap, topic_name, records)
    got = consume(consumer, broker.bootstrap, topic_name, [0, 1], expected=len(records))
    check_round_trip(records, acked, got, consumer)


def test_kcat_produced_records_are_read_by_every_client(broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=2)
    hdrs = (("origin", b"kcat"),)
    records = [Rec(f"value-{i}".encode(), f"key-{i}".encode(), hdrs, i % 2) for i in range(20)]
    produce("kcat", broker.bootstrap, topic_name, records)
    for consumer in PRODUCERS:
        got = consume(consumer, broker.bootstrap, topic_name, [0, 1], expected=20)
        assert len(got) == 20, consumer
        for g in got:
            i = int(g.value.decode().split("-")[1])
            assert g.key == f"key-{i}".encode() and g.partition == i % 2, consumer
            assert g.headers == hdrs, consumer
            assert g.create_time, consumer
            assert abs(g.timestamp - time.time() * 1000) < 120_000, (consumer, "timestamp from producer clock")


# ---------------------------------------------------------------- 10,000 records

N_TOTAL = 10_000
N_PARTITIONS = 4


def numbered_records(n: int = N_TOTAL, partitions: int = N_PARTITIONS) -> list[Rec]:
    seq = [0] * partitions
    out = []
    for i in range(n):
        p = i % partitions
        out.append(Rec(f"{p}:{seq[p]:06d}".encode(), f"k{i}".encode(), (), p))
        seq[p] += 1
    return out


def check_exactly_once_in_order(got: list[Got], n: int = N_TOTAL, partitions: int = N_PARTITIONS) -> None:
    assert len(got) == n, f"received {len(got)} records, expected {n}"
    per_p: dict[int, list[Got]] = defaultdict(list)
    for g in got:
        per_p[g.partition].append(g)
    assert sorted(per_p) == list(range(partitions))
    for p, items in per_p.items():
        want = n // partitions + (1 if p < n % partitions else 0)
        assert [g.offset for g in items] == list(range(want)), f"partition {p}: offsets not 0..{want - 1}"
        assert [g.value for g in items] == [f"{p}:{s:06d}".encode() for s in range(want)], \
            f"partition {p}: values out of order or duplicated"


@pytest.fixture(scope="module")
def ten_thousand_topic(broker):
    topic = f"ten-thousand-{int(time.time())}"
    create_topic(broker.bootstrap, topic, partitions=N_PARTITIONS)
    produce("confluent", broker.bootstrap, topic, numbered_records(), **{"batch.num.messages": 500})
    return topic


@pytest.mark.timeout(180)
@pytest.mark.parametrize("consumer", CLIENTS)
def test_ten_thousand_records_read_back_exactly_once_in_order(broker, ten_thousand_topic, consumer):
    for p in range(N_PARTITIONS):
        assert watermarks(broker.bootstrap, ten_thousand_topic, p) == (0, N_TOTAL // N_PARTITIONS)
    got = consume(consumer, broker.bootstrap, ten_thousand_topic, range(N_PARTITIONS),
                  expected=N_TOTAL, timeout=90)
    check_exactly_once_in_order(got)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("producer", ("kafka-python", "aiokafka"))
def test_ten_thousand_records_from_pure_python_producers(broker, topic_name, producer):
    create_topic(broker.bootstrap, topic_name, partitions=N_PARTITIONS)
    acked = produce(producer, broker.bootstrap, topic_name, numbered_records(), timeout=120)
    assert sorted(acked) == sorted((p, o) for p in range(N_PARTITIONS) for o in range(N_TOTAL // N_PARTITIONS))
    got = consume("confluent", broker.bootstrap, topic_name, range(N_PARTITIONS), expected=N_TOTAL, timeout=60)
    check_exactly_once_in_order(got)


# ---------------------------------------------------------------- 900 KiB record

BIG = 900 * 1024
BIG_PRODUCER_CONFIG = {
    "kafka-python": {"max_request_size": 2_000_000},
    "confluent": {"message.max.bytes": 2_000_000},
    "aiokafka": {"max_request_size": 2_000_000},
}
BIG_CONSUMER_CONFIG = {
    "kafka-python": {"max_partition_fetch_bytes": 2_000_000},
    "confluent": {"fetch.message.max.bytes": 2_000_000},
    "aiokafka": {"max_partition_fetch_bytes": 2_000_000},
    "kcat": {"fetch.message.max.bytes": 2_000_000},
}


@pytest.mark.parametrize("producer", PRODUCERS)
def test_900_kib_record_round_trip(broker, topic_name, producer):
    create_topic(broker.bootstrap, topic_name, partitions=1)
    rng = random.Random(900)
    # Printable (so kcat can read it) and not trivially compressible.
    big = bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(BIG))
    records = [Rec(b"small-before", b"a"), Rec(big, b"big"), Rec(b"small-after", b"c")]
    acked = produce(producer, broker.bootstrap, topic_name, records, **BIG_PRODUCER_CONFIG[producer])
    assert acked == [(0, 0), (0, 1), (0, 2)]
    for consumer in CLIENTS:
        got = consume(consumer, broker.bootstrap, topic_name, [0], expected=3, timeout=30,
                      **BIG_CONSUMER_CONFIG[consumer])
        assert [g.offset for g in got] == [0, 1, 2], consumer
        assert [g.key for g in got] == [b"a", b"big", b"c"], consumer
        assert got[1].value == big, f"{consumer}: 900 KiB value differs (len {len(got[1].value or b'')})"
        assert got[2].value == b"small-after", consumer


def test_null_header_values_round_trip(broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=1)
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": broker.bootstrap})
    p.produce(topic_name, b"v", b"k", partition=0, headers=[("null-value", None), ("set", b"1")])
    assert p.flush(15) == 0
    for consumer in PRODUCERS:
        [g] = consume(consumer, broker.bootstrap, topic_name, [0], expected=1)
        assert list(g.headers) == [("null-value", None), ("set", b"1")], consumer


@pytest.mark.timeout(120)
def test_concurrent_producers_and_a_tailing_consumer(broker, topic_name):
    """Three producers append to one partition while a consumer reads the tail."""
    import threading

    create_topic(broker.bootstrap, topic_name, partitions=1)
    per_producer = 2000
    result: dict[str, list] = {}

    def tail():
        result["got"] = consume("kafka-python", broker.bootstrap, topic_name, [0], expected=3 * per_producer,
                                timeout=90)

    def write(n):
        produce("confluent", broker.bootstrap, topic_name,
                [Rec(f"{n}:{i:05d}".encode(), None) for i in range(per_producer)], **{"linger.ms": 1})

    reader = threading.Thread(target=tail)
    reader.start()
    writers = [threading.Thread(target=write, args=(n,)) for n in range(3)]
    for w in writers:
        w.start()
    for w in writers:
        w.join(90)
    reader.join(100)
    got = result.get("got", [])
    assert [g.offset for g in got] == list(range(3 * per_producer))
    for n in range(3):
        mine = [g.value for g in got if g.value.startswith(f"{n}:".encode())]
        assert mine == [f"{n}:{i:05d}".encode() for i in range(per_producer)], f"producer {n} order"


def test_many_partitions_in_one_fetch(broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=64)
    records = [Rec(f"p{p}-{i}".encode(), None, (), p) for p in range(64) for i in range(5)]
    produce("confluent", broker.bootstrap, topic_name, records)
    for consumer in ("kafka-python", "confluent", "aiokafka"):
        got = consume(consumer, broker.bootstrap, topic_name, range(64), expected=320)
        assert sorted((g.partition, g.offset) for g in got) == [(p, i) for p in range(64) for i in range(5)], consumer
        assert all(g.value == f"p{g.partition}-{g.offset}".encode() for g in got), consumer
