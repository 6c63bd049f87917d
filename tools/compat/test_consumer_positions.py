"""Consumers moving around a log with manual assignment: re-seeking backwards,
changing the assigned partitions mid-stream (kafka-python uses incremental fetch
sessions, KIP-227, so this exercises session updates), pause/resume."""

from __future__ import annotations

import time

from runnel_clients import Rec, create_topic, produce


def poll_until(consumer, want: int, timeout: float = 20.0):
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        for _, messages in consumer.poll(timeout_ms=200).items():
            got += messages
    return got


def test_kafka_python_seek_back_and_reassign_within_one_consumer(broker, topic_name):
    from kafka import KafkaConsumer, TopicPartition

    create_topic(broker.bootstrap, topic_name, partitions=3)
    produce("confluent", broker.bootstrap, topic_name,
            [Rec(f"p{p}-{i}".encode(), None, (), p) for p in range(3) for i in range(10)])
    tp0, tp1, tp2 = (TopicPartition(topic_name, p) for p in range(3))
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=None, enable_auto_commit=False,
                             auto_offset_reset="earliest", max_poll_records=100)
    try:
        consumer.assign([tp0, tp1])
        consumer.seek_to_beginning()
        first = poll_until(consumer, 20)
        assert sorted((m.partition, m.offset) for m in first) == [(p, i) for p in (0, 1) for i in range(10)]

        consumer.seek(tp0, 7)
        again = poll_until(consumer, 3)
        assert [(m.partition, m.offset) for m in again] == [(0, 7), (0, 8), (0, 9)]

        consumer.assign([tp1, tp2])
        consumer.seek(tp2, 0)
        consumer.seek(tp1, 5)
        moved = poll_until(consumer, 15)
        assert sorted((m.partition, m.offset) for m in moved) == \
            [(1, i) for i in range(5, 10)] + [(2, i) for i in range(10)]

        # New records arrive on the same session.
        produce("confluent", broker.bootstrap, topic_name, [Rec(b"late", None, (), 2)])
        late = poll_until(consumer, 1)
        assert [(m.partition, m.offset, m.value) for m in late] == [(2, 10, b"late")]
    finally:
        consumer.close(autocommit=False, timeout_ms=5000)


def test_kafka_python_pause_and_resume(broker, topic_name):
    from kafka import KafkaConsumer, TopicPartition

    create_topic(broker.bootstrap, topic_name, partitions=2)
    produce("confluent", broker.bootstrap, topic_name,
            [Rec(f"p{p}-{i}".encode(), None, (), p) for p in range(2) for i in range(5)])
    tp0, tp1 = TopicPartition(topic_name, 0), TopicPartition(topic_name, 1)
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=None, enable_auto_commit=False)
    try:
        consumer.assign([tp0, tp1])
        consumer.seek(tp0, 0)
        consumer.seek(tp1, 0)
        consumer.pause(tp1)
        got = poll_until(consumer, 5)
        time.sleep(0.3)
        got += poll_until(consumer, 1, timeout=0.5)
        assert {m.partition for m in got} == {0} and len(got) == 5
        consumer.resume(tp1)
        got = poll_until(consumer, 5)
        assert [(m.partition, m.offset) for m in got] == [(1, i) for i in range(5)]
    finally:
        consumer.close(autocommit=False, timeout_ms=5000)


def test_confluent_seek_back_and_incremental_assign(broker, topic_name):
    from confluent_kafka import Consumer, TopicPartition
    import uuid

    create_topic(broker.bootstrap, topic_name, partitions=2)
    produce("confluent", broker.bootstrap, topic_name,
            [Rec(f"p{p}-{i}".encode(), None, (), p) for p in range(2) for i in range(10)])
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": f"pos-{uuid.uuid4().hex}",
                         "enable.auto.commit": False})

    def take(n, timeout=20):
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < n and time.monotonic() < deadline:
            for m in consumer.consume(100, 0.2):
                assert not m.error(), m.error()
                out.append((m.partition(), m.offset()))
        return out

    try:
        consumer.assign([TopicPartition(topic_name, 0, 0)])
        assert take(10) == [(0, i) for i in range(10)]
        consumer.seek(TopicPartition(topic_name, 0, 4))
        assert take(6) == [(0, i) for i in range(4, 10)]
        consumer.incremental_assign([TopicPartition(topic_name, 1, 8)])
        assert take(2) == [(1, 8), (1, 9)]
    finally:
        consumer.close()
