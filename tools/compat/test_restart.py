"""Durability across restarts: every record acknowledged with acks=all is there,
at the same offset, after SIGKILL + restart and after a graceful SIGTERM restart;
offsets continue where they stopped; consumers positioned by offset read the same
records as before; topic configs survive."""

from __future__ import annotations

import signal

import pytest

from runnel_clients import Rec, consume, create_topic, produce, watermarks

PARTITIONS = 3
N = 3600           # ~1.2 MiB per partition with 1 KiB values: more than one 1 MiB segment
SEGMENT_BYTES = 1_048_576


def durable_records(tag: str, n: int = N, start: int = 0) -> list[Rec]:
    return [Rec(f"{tag}-{i:06d}-".encode().ljust(1000, b"x"), f"k{i}".encode(), (), i % PARTITIONS)
            for i in range(start, start + n)]


def produce_acked(bootstrap, topic, records) -> dict[tuple[int, int], Rec]:
    acked = produce("confluent", bootstrap, topic, records, timeout=90,
                    **{"acks": "all", "batch.num.messages": 200})
    return {pos: r for pos, r in zip(acked, records)}


def assert_all_present(bootstrap, topic, acked: dict[tuple[int, int], Rec], consumer="kafka-python"):
    by_p: dict[int, dict[int, Rec]] = {}
    for (p, off), r in acked.items():
        by_p.setdefault(p, {})[off] = r
    got = consume(consumer, bootstrap, topic, range(PARTITIONS), expected=len(acked), timeout=90,
                  **({"max_partition_fetch_bytes": 4_000_000} if consumer == "kafka-python" else {}))
    seen = {(g.partition, g.offset): g for g in got}
    missing = sorted(set(acked) - set(seen))
    assert not missing, f"{len(missing)} acknowledged records missing after restart, first: {missing[:5]}"
    for pos, r in acked.items():
        assert (seen[pos].key, seen[pos].value) == (r.key, r.value), f"record at {pos} changed"
    assert len(got) == len(acked), f"{len(got) - len(acked)} unexpected extra records"


def end_offsets(bootstrap, topic) -> list[int]:
    return [watermarks(bootstrap, topic, p)[1] for p in range(PARTITIONS)]


@pytest.mark.timeout(240)
@pytest.mark.parametrize("how", ("sigkill", "sigterm"))
def test_acknowledged_records_survive_restart(broker_factory, topic_name, how):
    b = broker_factory(overrides={"log.segment.bytes": SEGMENT_BYTES})
    create_topic(b.bootstrap, topic_name, partitions=PARTITIONS)
    acked = produce_acked(b.bootstrap, topic_name, durable_records("first"))
    before = end_offsets(b.bootstrap, topic_name)
    assert before == [N // PARTITIONS] * PARTITIONS
    assert len(list(b.partition_dir(topic_name, 0).glob("*.log"))) >= 2, "expected a rolled segment"

    if how == "sigkill":
        assert b.crash() == -signal.SIGKILL
        assert not (b.data_dir / ".kafka_cleanshutdown").exists(), \
            "clean-shutdown marker present after SIGKILL (it must only exist after a clean stop)"
    else:
        code = b.stop(signal.SIGTERM)
        assert code == 0, f"graceful stop exited with {code}"
        assert (b.data_dir / ".kafka_cleanshutdown").exists(), "no .kafka_cleanshutdown after SIGTERM"
    b.start()

    assert end_offsets(b.bootstrap, topic_name) == before, "log end offsets changed across restart"
    assert_all_present(b.bootstrap, topic_name, acked)

    # A consumer positioned by offset (no committed offsets involved) reads the same record.
    middle = before[1] // 2
    [g] = consume("confluent", b.bootstrap, topic_name, [1], expected=1, start=middle, settle=0)[:1]
    assert (g.partition, g.offset, g.value) == (1, middle, acked[(1, middle)].value)

    # Offsets continue; nothing is reused.
    more = produce_acked(b.bootstrap, topic_name, durable_records("second", n=30, start=N))
    for (p, off) in more:
        assert off >= before[p], f"offset {off} on partition {p} reused after restart"
    acked.update(more)

    # A second crash right after the first recovery.
    assert b.crash() == -signal.SIGKILL
    b.start()
    assert_all_present(b.bootstrap, topic_name, acked, consumer="confluent")


@pytest.mark.timeout(90)
def test_topic_partitions_and_configs_survive_restart(broker_factory, topic_name):
    from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType

    b = broker_factory()
    create_topic(b.bootstrap, topic_name, partitions=4, config={"retention.ms": "3600000",
                                                                  "cleanup.policy": "compact"})
    produce("confluent", b.bootstrap, topic_name, [Rec(b"v", b"k", (), 3)])
    b.restart(signal.SIGTERM)
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    md = admin.list_topics(topic_name, timeout=10).topics[topic_name]
    assert md.error is None and len(md.partitions) == 4
    resource = ConfigResource(ResourceType.TOPIC, topic_name)
    configs = admin.describe_configs([resource], request_timeout=15)[resource].result(20)
    assert configs["retention.ms"].value == "3600000"
    assert configs["cleanup.policy"].value == "compact"
    assert watermarks(b.bootstrap, topic_name, 3) == (0, 1)


@pytest.mark.timeout(90)
def test_deleted_records_stay_deleted_after_graceful_restart(broker_factory, topic_name):
    from confluent_kafka import TopicPartition
    from confluent_kafka.admin import AdminClient

    b = broker_factory()
    create_topic(b.bootstrap, topic_name, partitions=1)
    produce("confluent", b.bootstrap, topic_name, [Rec(f"v{i}".encode(), None) for i in range(10)])
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    [fut] = admin.delete_records([TopicPartition(topic_name, 0, 6)], request_timeout=15).values()
    assert fut.result(20).low_watermark == 6
    # Kafka checkpoints log start offsets on a clean stop (a crash may lose the last move).
    b.restart(signal.SIGTERM)
    assert watermarks(b.bootstrap, topic_name, 0) == (6, 10), "log start offset lost across restart"


@pytest.mark.timeout(90)
@pytest.mark.parametrize("how", ("sigkill", "sigterm"))
def test_idempotent_duplicate_detection_survives_restart(broker_factory, topic_name, how):
    """Producer state is rebuilt on restart: a retried batch is still recognised, and
    a producer id handed out after the restart never collides with an earlier one
    (a collision would make the new producer's first batch look like a duplicate)."""
    from runnel_wire import Connection, now_ms, record_batch

    b = broker_factory()
    create_topic(b.bootstrap, topic_name, partitions=1)
    with Connection(b.bootstrap) as conn:
        error, pid, epoch = conn.init_producer_id()
        assert error == 0
        first = record_batch([(b"a", b"1"), (b"b", b"2")], base_timestamp=now_ms(),
                             producer_id=pid, producer_epoch=epoch, base_sequence=0)
        assert conn.produce(topic_name, 0, first) == (0, 0)
    if how == "sigkill":
        b.crash()
        b.start()
    else:
        b.restart(signal.SIGTERM)
    with Connection(b.bootstrap) as conn:
        assert conn.produce(topic_name, 0, first) == (0, 0), "retry after restart must be deduplicated"
        nxt = record_batch([(b"c", b"3")], base_timestamp=now_ms(), producer_id=pid, producer_epoch=epoch,
                           base_sequence=2)
        assert conn.produce(topic_name, 0, nxt) == (0, 2)
        error, pid2, epoch2 = conn.init_producer_id()
        assert error == 0
        assert pid2 != pid, f"producer id {pid} handed out again after restart"
        other = record_batch([(b"n", b"new-producer")], base_timestamp=now_ms(), producer_id=pid2,
                             producer_epoch=epoch2, base_sequence=0)
        assert conn.produce(topic_name, 0, other) == (0, 3)
    got = consume("kafka-python", b.bootstrap, topic_name, [0], expected=4)
    assert [g.key for g in got] == [b"a", b"b", b"c", b"n"]


@pytest.mark.timeout(120)
def test_sigkill_during_a_produce_stream_loses_no_acknowledged_record(broker_factory, topic_name):
    """Kill the broker while a producer is mid-stream: after restart every record
    acknowledged before the kill is readable at its offset, the log is contiguous
    and every stored record is one that was sent (no torn or invented data)."""
    import threading
    import time as _time

    from confluent_kafka import Producer

    b = broker_factory(overrides={"log.segment.bytes": SEGMENT_BYTES})
    create_topic(b.bootstrap, topic_name, partitions=PARTITIONS)
    acked: dict[tuple[int, int], bytes] = {}
    sent: set[bytes] = set()
    stop = threading.Event()
    producer = Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 2,
                         "message.timeout.ms": 5000, "retries": 0, "enable.idempotence": False})

    def on_delivery(err, msg):
        if err is None:
            acked[(msg.partition(), msg.offset())] = msg.value()

    def stream():
        i = 0
        while not stop.is_set():
            value = f"s-{i:07d}-".encode().ljust(300, b"y")
            sent.add(value)
            try:
                producer.produce(topic_name, value, partition=i % PARTITIONS, on_delivery=on_delivery)
                i += 1
            except BufferError:
                pass
            producer.poll(0.001)

    thread = threading.Thread(target=stream, daemon=True)
    thread.start()
    deadline = _time.monotonic() + 20
    while len(acked) < 3000 and _time.monotonic() < deadline:
        _time.sleep(0.05)
    assert b.crash() == -signal.SIGKILL
    stop.set()
    thread.join(10)
    producer.flush(8)  # the rest fail (broker gone); their callbacks are ignored
    assert len(acked) >= 1000, f"only {len(acked)} records acknowledged before the kill"

    b.start()
    ends = end_offsets(b.bootstrap, topic_name)
    total = sum(ends)
    got = consume("kafka-python", b.bootstrap, topic_name, range(PARTITIONS), expected=total, timeout=90)
    by_pos = {(g.partition, g.offset): g.value for g in got}
    for p in range(PARTITIONS):
        offsets = sorted(o for (q, o) in by_pos if q == p)
        assert offsets == list(range(ends[p])), f"partition {p}: log not contiguous up to {ends[p]}"
    missing = [pos for pos in acked if pos not in by_pos]
    assert not missing, f"{len(missing)} acknowledged records lost, e.g. {sorted(missing)[:5]}"
    assert all(by_pos[pos] == v for pos, v in acked.items()), "acknowledged record changed"
    assert set(by_pos.values()) <= sent, "log holds records that were never sent"
