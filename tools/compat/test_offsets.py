"""Offsets by timestamp (ListOffsets with a timestamp) and the earliest/latest
offsets, through kafka-python, confluent-kafka, aiokafka and kcat -Q."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid

import pytest

from runnel_clients import Rec, create_topic, produce


@pytest.fixture(scope="module")
def timed_topic(broker):
    """Partition 0: ten records at base + i*1000 ms. Partition 1: timestamps out of
    order: base, base+5000, base+1000, base+6000."""
    topic = f"timed-{uuid.uuid4().hex[:8]}"
    create_topic(broker.bootstrap, topic, partitions=2)
    base = (int(time.time() * 1000) - 600_000) // 1000 * 1000
    records = [Rec(f"r{i}".encode(), None, (), 0, base + i * 1000) for i in range(10)]
    records += [Rec(f"o{i}".encode(), None, (), 1, base + d) for i, d in enumerate((0, 5000, 1000, 6000))]
    produce("confluent", broker.bootstrap, topic, records)
    return topic, base


# target offset (relative to base) -> expected (offset, timestamp-relative) on partition 0
CASES_P0 = [(-5, (0, 0)), (0, (0, 0)), (2500, (3, 3000)), (4000, (4, 4000)), (9000, (9, 9000))]
# partition 1: earliest offset whose timestamp >= target (scan in offset order)
CASES_P1 = [(900, (1, 5000)), (5500, (3, 6000))]


def test_kafka_python_offsets_for_times(broker, timed_topic):
    from kafka import KafkaConsumer, TopicPartition

    topic, base = timed_topic
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=None, enable_auto_commit=False)
    try:
        for partition, cases in ((0, CASES_P0), (1, CASES_P1)):
            tp = TopicPartition(topic, partition)
            for target, (offset, ts) in cases:
                found = consumer.offsets_for_times({tp: base + target}, timeout_ms=10000)[tp]
                assert found is not None, (partition, target)
                assert (found.offset, found.timestamp) == (offset, base + ts), (partition, target)
        tp0 = TopicPartition(topic, 0)
        assert consumer.offsets_for_times({tp0: base + 100_000}, timeout_ms=10000)[tp0] is None
        assert consumer.beginning_offsets([tp0], timeout_ms=10000) == {tp0: 0}
        assert consumer.end_offsets([tp0], timeout_ms=10000) == {tp0: 10}
    finally:
        consumer.close(autocommit=False, timeout_ms=5000)


def test_confluent_offsets_for_times(broker, timed_topic):
    from confluent_kafka import Consumer, TopicPartition

    topic, base = timed_topic
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": f"t-{uuid.uuid4().hex}",
                         "enable.auto.commit": False})
    try:
        for partition, cases in ((0, CASES_P0), (1, CASES_P1)):
            for target, (offset, _ts) in cases:
                [found] = consumer.offsets_for_times([TopicPartition(topic, partition, base + target)], timeout=10)
                assert found.error is None and found.offset == offset, (partition, target, found)
        [after] = consumer.offsets_for_times([TopicPartition(topic, 0, base + 100_000)], timeout=10)
        assert after.offset == -1, f"no record at/after the timestamp: expected -1 (end), got {after}"
        assert consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10, cached=False) == (0, 10)
    finally:
        consumer.close()


def test_confluent_admin_list_offsets(broker, timed_topic):
    from confluent_kafka import TopicPartition
    from confluent_kafka.admin import AdminClient, OffsetSpec

    topic, base = timed_topic
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    tp = TopicPartition(topic, 0)
    for spec, want in ((OffsetSpec.earliest(), 0), (OffsetSpec.latest(), 10),
                       (OffsetSpec.for_timestamp(base + 2500), 3), (OffsetSpec.max_timestamp(), 9)):
        result = admin.list_offsets({tp: spec}, request_timeout=10)[tp].result(15)
        assert result.offset == want, (spec, result)
    # KIP-734 max timestamp with out-of-order timestamps: the record holding the largest one.
    tp1 = TopicPartition(topic, 1)
    result = admin.list_offsets({tp1: OffsetSpec.max_timestamp()}, request_timeout=10)[tp1].result(15)
    assert (result.offset, result.timestamp) == (3, base + 6000), result


def test_kafka_python_admin_list_partition_offsets(broker, timed_topic):
    from kafka import TopicPartition
    from kafka.admin import KafkaAdminClient, OffsetSpec

    topic, base = timed_topic
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=15000)
    try:
        tp = TopicPartition(topic, 0)
        assert admin.list_partition_offsets({tp: OffsetSpec.EARLIEST})[tp].offset == 0
        assert admin.list_partition_offsets({tp: OffsetSpec.LATEST})[tp].offset == 10
        found = admin.list_partition_offsets({tp: base + 2500})[tp]
        assert (found.offset, found.timestamp) == (3, base + 3000)
    finally:
        admin.close()


def test_aiokafka_offsets_for_times(broker, timed_topic):
    from aiokafka import AIOKafkaConsumer
    from aiokafka.structs import TopicPartition

    topic, base = timed_topic

    async def run():
        consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=None, enable_auto_commit=False)
        await consumer.start()
        try:
            tp = TopicPartition(topic, 0)
            found = (await consumer.offsets_for_times({tp: base + 2500}))[tp]
            assert (found.offset, found.timestamp) == (3, base + 3000)
            assert (await consumer.offsets_for_times({tp: base + 100_000}))[tp] is None
            assert await consumer.beginning_offsets([tp]) == {tp: 0}
            assert await consumer.end_offsets([tp]) == {tp: 10}
        finally:
            await consumer.stop()

    asyncio.run(asyncio.wait_for(run(), 60))


def test_kcat_query_offset_by_timestamp(broker, timed_topic):
    topic, base = timed_topic
    done = subprocess.run(["kcat", "-Q", "-b", broker.bootstrap, "-t", f"{topic}:0:{base + 2500}"],
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    # e.g. "timed-xxxx [0] offset 3"
    assert "offset 3" in done.stdout, done.stdout
