"""Protocol edges real clients depend on: error codes for bad produces and fetches,
pipelined requests answered in order, acks=0, unsupported ApiVersions, KIP-74
(a record larger than the fetch size still arrives), seeking into the middle of a
compressed batch, LogAppendTime topics, auto-creation, topic re-creation."""

from __future__ import annotations

import time

import pytest

from runnel_clients import CLIENTS, Rec, consume, create_topic, produce, watermarks
from runnel_wire import (API_LIST_OFFSETS, API_VERSIONS, Connection, Reader, array, i32, i64, now_ms,
                         parse_batches, parse_produce_v3, record_batch, string)

CORRUPT_MESSAGE, OFFSET_OUT_OF_RANGE, UNKNOWN_TOPIC_OR_PARTITION, UNSUPPORTED_VERSION = 2, 1, 3, 35


def test_produce_to_a_missing_partition_is_unknown_topic_or_partition(broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=1)
    with Connection(broker.bootstrap) as conn:
        error, _ = conn.produce(topic_name, 7, record_batch([(b"k", b"v")], base_timestamp=now_ms()))
        assert error == UNKNOWN_TOPIC_OR_PARTITION
        assert conn.produce(topic_name, 0, record_batch([(b"k", b"v")], base_timestamp=now_ms())) == (0, 0)


def test_batch_with_a_bad_crc_is_corrupt_message_and_not_stored(broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=1)
    batch = bytearray(record_batch([(b"k", b"value")], base_timestamp=now_ms()))
    batch[-3] ^= 0xFF  # inside the record body, covered by the CRC
    with Connection(broker.bootstrap) as conn:
        error, _ = conn.produce(topic_name, 0, bytes(batch))
        assert error == CORRUPT_MESSAGE
        assert conn.produce(topic_name, 0, record_batch([(b"k", b"ok")], base_timestamp=now_ms())) == (0, 0)
    assert watermarks(broker.bootstrap, topic_name, 0) == (0, 1)


def test_fetch_past_the_log_end_is_offset_out_of_range(broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=1)
    produce("confluent", broker.bootstrap, topic_name, [Rec(b"v", b"k")])
    with Connection(broker.bootstrap) as conn:
        part = conn.fetch(topic_name, 0, 100)
        assert part.error == OFFSET_OUT_OF_RANGE
        part = conn.fetch(topic_name, 0, 0)
        assert part.error == 0 and part.high_watermark == 1
        assert [b.base_offset for b in parse_batches(part.records)] == [0]


def test_pipelined_requests_are_answered_in_order(broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=1)
    with Connection(broker.bootstrap) as conn:
        sent = [conn.send_produce(topic_name, 0, record_batch([(b"k", f"v{i}".encode())], base_timestamp=now_ms()))
                for i in range(20)]
        answers = []
        for _ in sent:
            corr, payload = conn.receive()
            answers.append((corr, parse_produce_v3(Reader(payload))))
    assert [c for c, _ in answers] == sent, "responses must come back in request order"
    assert [a for _, a in answers] == [(0, i) for i in range(20)]


def test_acks_zero_produce_gets_no_response_and_is_stored(broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=1)
    with Connection(broker.bootstrap) as conn:
        conn.send_produce(topic_name, 0, record_batch([(b"k", b"fire-and-forget")], base_timestamp=now_ms()), acks=0)
        deadline = time.monotonic() + 10
        while True:
            # The next response on this connection must belong to the ListOffsets, not the produce.
            error, _ts, offset = conn.list_offset(topic_name, 0, -1)
            assert error == 0
            if offset == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert offset == 1
    got = consume("kafka-python", broker.bootstrap, topic_name, [0], expected=1)
    assert [g.value for g in got] == [b"fire-and-forget"]


def test_api_versions_request_at_an_unknown_version_gets_unsupported_version_and_the_list(broker):
    with Connection(broker.bootstrap) as conn:
        r = conn.call(API_VERSIONS, 127, b"")
        assert r.i16() == UNSUPPORTED_VERSION
        keys = {r.i16(): (r.i16(), r.i16()) for _ in range(r.i32())}
        assert API_VERSIONS in keys and keys[API_VERSIONS][0] == 0


def test_list_offsets_for_an_unknown_topic_is_unknown_topic_or_partition(broker):
    with Connection(broker.bootstrap) as conn:
        conn.require(API_LIST_OFFSETS, 1)
        r = conn.call(API_LIST_OFFSETS, 1, i32(-1) + array([string("no-such-topic-xyz") + array([i32(0) + i64(-1)])]))
        r.i32()
        r.string()
        r.i32()
        r.i32()
        assert r.i16() == UNKNOWN_TOPIC_OR_PARTITION


@pytest.mark.parametrize("consumer", ("kafka-python", "aiokafka", "confluent"))
def test_record_larger_than_the_partition_fetch_size_still_arrives(broker, topic_name, consumer):
    """KIP-74: the first batch is returned even if it exceeds the fetch limits."""
    create_topic(broker.bootstrap, topic_name, partitions=1)
    big = b"x" * 20_000
    produce("confluent", broker.bootstrap, topic_name, [Rec(big, b"big"), Rec(b"small", b"s")],
            **{"linger.ms": 0, "batch.num.messages": 1})
    small_fetch = {"kafka-python": {"max_partition_fetch_bytes": 1024, "fetch_max_bytes": 1024},
                   "aiokafka": {"max_partition_fetch_bytes": 1024, "fetch_max_bytes": 1024},
                   "confluent": {"fetch.message.max.bytes": 1024, "fetch.max.bytes": 1024,
                                 "message.max.bytes": 1000}}[consumer]
    got = consume(consumer, broker.bootstrap, topic_name, [0], expected=2, **small_fetch)
    assert [(g.offset, g.key, len(g.value)) for g in got] == [(0, b"big", 20_000), (1, b"s", 5)]


@pytest.mark.parametrize("consumer", CLIENTS)
def test_seek_into_the_middle_of_a_compressed_batch(broker, topic_name, consumer):
    create_topic(broker.bootstrap, topic_name, partitions=1)
    records = [Rec(f"value-{i:03d}".encode() * 4, f"k{i:03d}".encode()) for i in range(60)]
    produce("confluent", broker.bootstrap, topic_name, records, compression="gzip", **{"linger.ms": 100})
    got = consume(consumer, broker.bootstrap, topic_name, [0], expected=30, start=30)
    assert [g.offset for g in got] == list(range(30, 60))
    assert [g.key for g in got] == [f"k{i:03d}".encode() for i in range(30, 60)]


def test_log_append_time_topic_stamps_records_with_the_broker_clock(broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=1, config={"message.timestamp.type": "LogAppendTime"})
    old = now_ms() - 3_600_000
    before = now_ms()
    produce("kafka-python", broker.bootstrap, topic_name, [Rec(f"v{i}".encode(), None, (), 0, old) for i in range(3)])
    after = now_ms()
    for consumer in ("kafka-python", "confluent", "aiokafka"):
        got = consume(consumer, broker.bootstrap, topic_name, [0], expected=3)
        assert len(got) == 3, consumer
        for g in got:
            assert g.create_time is False, f"{consumer}: timestamp type should be LogAppendTime"
            assert before - 1000 <= g.timestamp <= after + 1000, f"{consumer}: {g.timestamp} not the append time"


def test_producing_to_an_unknown_topic_auto_creates_it_with_num_partitions(broker_factory, topic_name):
    b = broker_factory(overrides={"num.partitions": 3})
    acked = produce("confluent", b.bootstrap, topic_name, [Rec(b"v", b"k", (), 2)])
    assert acked == [(2, 0)]
    from confluent_kafka.admin import AdminClient
    md = AdminClient({"bootstrap.servers": b.bootstrap}).list_topics(topic_name, timeout=10).topics[topic_name]
    assert md.error is None and len(md.partitions) == 3


def test_auto_create_disabled_reports_unknown_topic(broker_factory, topic_name):
    b = broker_factory(overrides={"auto.create.topics.enable": "false"})
    with Connection(b.bootstrap) as conn:
        error, _ = conn.produce(topic_name, 0, record_batch([(b"k", b"v")], base_timestamp=now_ms()))
        assert error == UNKNOWN_TOPIC_OR_PARTITION
    from kafka import KafkaConsumer
    consumer = KafkaConsumer(bootstrap_servers=b.bootstrap, group_id=None, enable_auto_commit=False,
                             allow_auto_create_topics=True)
    try:
        assert topic_name not in consumer.topics()
    finally:
        consumer.close(autocommit=False, timeout_ms=5000)


def test_deleted_then_recreated_topic_starts_empty(broker, topic_name):
    from confluent_kafka.admin import AdminClient

    create_topic(broker.bootstrap, topic_name, partitions=1)
    produce("confluent", broker.bootstrap, topic_name, [Rec(f"old{i}".encode(), None) for i in range(5)])
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.delete_topics([topic_name], request_timeout=15)[topic_name].result(20)
    deadline = time.monotonic() + 10
    while topic_name in admin.list_topics(timeout=10).topics:
        assert time.monotonic() < deadline, "topic still listed after delete"
        time.sleep(0.1)
    create_topic(broker.bootstrap, topic_name, partitions=1)
    assert watermarks(broker.bootstrap, topic_name, 0) == (0, 0)
    assert produce("confluent", broker.bootstrap, topic_name, [Rec(b"new", None)]) == [(0, 0)]
    got = consume("kafka-python", broker.bootstrap, topic_name, [0], expected=1)
    assert [g.value for g in got] == [b"new"]


def test_idle_connections_are_closed_after_connections_max_idle_ms(broker_factory):
    b = broker_factory(overrides={"connections.max.idle.ms": 600})
    with Connection(b.bootstrap) as idle, Connection(b.bootstrap) as busy:
        assert idle.api_versions() and busy.api_versions()
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:      # the busy connection talks every 200 ms: it stays open
            time.sleep(0.2)
            assert busy.api_versions()
        idle.sock.settimeout(5)
        assert idle.sock.recv(1) == b"", "an idle connection must be closed by the broker"
        assert busy.api_versions()
