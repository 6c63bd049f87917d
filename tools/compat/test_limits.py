"""Records over `message.max.bytes` (broker) / `max.message.bytes` (topic) are
rejected with MESSAGE_TOO_LARGE (10) and the broker keeps serving."""

from __future__ import annotations

import os

import pytest

from runnel_clients import ProduceFailed, Rec, consume, create_topic, produce, watermarks

MESSAGE_TOO_LARGE = 10
KAFKA_DEFAULT_MESSAGE_MAX_BYTES = 1048588

# Client-side limits well above the broker's, so the record reaches the broker.
LARGE_CLIENT_LIMITS = {
    "kafka-python": {"max_request_size": 4_000_000, "retries": 0},
    "confluent": {"message.max.bytes": 4_000_000, "retries": 0},
    "aiokafka": {"max_request_size": 4_000_000},
}


@pytest.mark.parametrize("producer", ("kafka-python", "confluent", "aiokafka"))
def test_record_over_default_message_max_bytes_is_rejected_and_broker_keeps_serving(broker, topic_name, producer):
    create_topic(broker.bootstrap, topic_name, partitions=1)
    too_big = os.urandom(KAFKA_DEFAULT_MESSAGE_MAX_BYTES + 150_000)
    with pytest.raises(ProduceFailed) as failure:
        produce(producer, broker.bootstrap, topic_name, [Rec(too_big, b"too-big")], timeout=30,
                **LARGE_CLIENT_LIMITS[producer])
    assert failure.value.code == MESSAGE_TOO_LARGE, f"expected MESSAGE_TOO_LARGE(10): {failure.value}"
    assert watermarks(broker.bootstrap, topic_name, 0) == (0, 0), "a rejected record must not take an offset"

    acked = produce(producer, broker.bootstrap, topic_name, [Rec(b"still-serving", b"after")])
    assert acked == [(0, 0)]
    got = consume("confluent", broker.bootstrap, topic_name, [0], expected=1)
    assert [(g.offset, g.key, g.value) for g in got] == [(0, b"after", b"still-serving")]


def test_topic_max_message_bytes_is_enforced(broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=1, config={"max.message.bytes": "50000"})
    with pytest.raises(ProduceFailed) as failure:
        produce("confluent", broker.bootstrap, topic_name, [Rec(os.urandom(60_000), b"x")],
                **LARGE_CLIENT_LIMITS["confluent"])
    assert failure.value.code == MESSAGE_TOO_LARGE
    acked = produce("confluent", broker.bootstrap, topic_name, [Rec(os.urandom(40_000), b"y")])
    assert acked == [(0, 0)]


def test_broker_message_max_bytes_override_is_enforced(broker_factory, topic_name):
    small = broker_factory(overrides={"message.max.bytes": 100_000})
    create_topic(small.bootstrap, topic_name, partitions=1)
    with pytest.raises(ProduceFailed) as failure:
        produce("kafka-python", small.bootstrap, topic_name, [Rec(os.urandom(150_000), b"x")],
                **LARGE_CLIENT_LIMITS["kafka-python"])
    assert failure.value.code == MESSAGE_TOO_LARGE
    acked = produce("kafka-python", small.bootstrap, topic_name, [Rec(os.urandom(90_000), b"y")])
    assert acked == [(0, 0)]
    got = consume("kafka-python", small.bootstrap, topic_name, [0], expected=1)
    assert [g.key for g in got] == [b"y"]
