"""Long-poll fetch: a Fetch parked with a long max wait is answered as soon as a
produce satisfies it.  The issue's one latency requirement: the record reaches
the waiting consumer within 100 ms of the produce acknowledgement (checked on the
median of several tries, not a single sample)."""

from __future__ import annotations

import statistics
import threading
import time
import uuid

import pytest

from runnel_clients import create_topic
from runnel_wire import Connection, now_ms, parse_batches, parse_fetch_v4, record_batch

LATENCY_LIMIT_S = 0.100
TRIES = 5


@pytest.mark.timeout(90)
def test_parked_fetch_is_answered_within_100ms_of_the_produce_ack(broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=1)
    latencies = []
    with Connection(broker.bootstrap) as fetcher, Connection(broker.bootstrap) as producer:
        for offset in range(TRIES):
            corr = fetcher.send_fetch(topic_name, 0, offset, max_wait_ms=5000)
            # Parked: no answer while nothing can satisfy it.
            assert not fetcher.readable_within(0.5), f"try {offset}: fetch answered before any produce"
            error, base = producer.produce(topic_name, 0,
                                           record_batch([(b"k", f"v{offset}".encode())], base_timestamp=now_ms()))
            acked = time.monotonic()
            assert (error, base) == (0, offset)
            got_corr, payload = fetcher.receive()
            received = time.monotonic()
            assert got_corr == corr
            part = parse_fetch_v4(payload)
            assert part.error == 0 and part.high_watermark == offset + 1
            assert [b.base_offset for b in parse_batches(part.records)] == [offset]
            latencies.append(max(0.0, received - acked))
    median = statistics.median(latencies)
    assert median < LATENCY_LIMIT_S, f"median produce-ack-to-fetch-answer {median * 1000:.1f} ms; all: " \
                                     f"{[round(x * 1000, 1) for x in latencies]} ms"


@pytest.mark.timeout(60)
def test_unsatisfied_fetch_returns_empty_after_its_max_wait(broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=1)
    with Connection(broker.bootstrap) as conn:
        conn.send_fetch(topic_name, 0, 0, max_wait_ms=1000)
        assert conn.readable_within(10), "a fetch must be answered once max_wait_ms passes"
        _, payload = conn.receive()
        part = parse_fetch_v4(payload)
        assert part.error == 0 and part.high_watermark == 0 and not parse_batches(part.records)


@pytest.mark.timeout(120)
def test_librdkafka_consumer_waiting_in_long_poll_gets_record_within_100ms(broker, topic_name):
    from confluent_kafka import Consumer, Producer, TopicPartition

    create_topic(broker.bootstrap, topic_name, partitions=1)
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": f"lp-{uuid.uuid4().hex}",
                         "enable.auto.commit": False, "fetch.wait.max.ms": 5000, "fetch.min.bytes": 1})
    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0, "acks": "all"})
    received: dict[bytes, float] = {}
    errors: list[str] = []
    stop = threading.Event()

    def run_consumer():
        while not stop.is_set():
            msg = consumer.poll(0.05)
            if msg is None:
                continue
            if msg.error():
                errors.append(str(msg.error()))
                continue
            received[msg.value()] = time.monotonic()

    consumer.assign([TopicPartition(topic_name, 0, 0)])
    thread = threading.Thread(target=run_consumer, daemon=True)
    thread.start()
    latencies = []
    try:
        # Warm up connections and the fetch loop.
        producer.produce(topic_name, b"warm-up", partition=0)
        producer.flush(10)
        deadline = time.monotonic() + 15
        while b"warm-up" not in received and time.monotonic() < deadline:
            time.sleep(0.01)
        assert b"warm-up" in received, f"consumer never received the warm-up record ({errors})"
        for i in range(TRIES):
            time.sleep(1.0)  # let the next fetch park in the broker
            value = f"try-{i}".encode()
            acked: list[float] = []
            producer.produce(topic_name, value, partition=0,
                             on_delivery=lambda err, msg: acked.append(time.monotonic()) if err is None else None)
            producer.flush(10)
            assert acked, "produce not acknowledged"
            deadline = time.monotonic() + 10
            while value not in received and time.monotonic() < deadline:
                time.sleep(0.001)
            assert value in received, f"record {value!r} not delivered within 10 s ({errors})"
            latencies.append(max(0.0, received[value] - acked[0]))
    finally:
        stop.set()
        thread.join(5)
        consumer.close()
    median = statistics.median(latencies)
    assert median < LATENCY_LIMIT_S, f"median {median * 1000:.1f} ms; all {[round(x * 1000, 1) for x in latencies]} ms"


@pytest.mark.timeout(60)
def test_parked_fetch_on_a_deleted_topic_is_answered_and_broker_keeps_serving(broker, topic_name):
    from confluent_kafka.admin import AdminClient

    create_topic(broker.bootstrap, topic_name, partitions=1)
    with Connection(broker.bootstrap) as conn:
        conn.send_fetch(topic_name, 0, 0, max_wait_ms=5000)
        assert not conn.readable_within(0.3)
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        admin.delete_topics([topic_name], request_timeout=15)[topic_name].result(20)
        assert conn.readable_within(10), "parked fetch never answered after its topic was deleted"
        _, payload = conn.receive()
        part = parse_fetch_v4(payload)
        assert part.error in (0, 3), f"unexpected error {part.error}"
        assert not parse_batches(part.records)
    # The broker still serves new work.
    other = topic_name + "-after"
    create_topic(broker.bootstrap, other, partitions=1)
    with Connection(broker.bootstrap) as conn:
        assert conn.produce(other, 0, record_batch([(b"k", b"v")], base_timestamp=now_ms())) == (0, 0)


@pytest.mark.timeout(60)
def test_graceful_shutdown_does_not_wait_for_parked_fetches(broker_factory, topic_name):
    import signal

    b = broker_factory()
    create_topic(b.bootstrap, topic_name, partitions=1)
    with Connection(b.bootstrap) as conn:
        conn.send_fetch(topic_name, 0, 0, max_wait_ms=30000)
        assert not conn.readable_within(0.3)
        started = time.monotonic()
        assert b.stop(signal.SIGTERM, timeout=15) == 0
        assert time.monotonic() - started < 15
    assert (b.data_dir / ".kafka_cleanshutdown").exists()


@pytest.mark.timeout(60)
def test_produce_to_any_assigned_partition_wakes_a_waiting_multi_partition_fetch(broker, topic_name):
    """kafka-python waits up to 5 s per fetch; a produce to the last of four
    assigned partitions must end the wait early (well under the 5 s)."""
    from kafka import KafkaConsumer, TopicPartition

    from runnel_clients import Rec, produce

    create_topic(broker.bootstrap, topic_name, partitions=4)
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=None, enable_auto_commit=False,
                             fetch_max_wait_ms=5000, request_timeout_ms=15000)
    try:
        tps = [TopicPartition(topic_name, p) for p in range(4)]
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, 0)
        assert consumer.poll(timeout_ms=1500) == {}
        waits = []
        for i in range(3):
            consumer.poll(timeout_ms=200)  # make sure a fetch is in flight
            produce("confluent", broker.bootstrap, topic_name, [Rec(f"w{i}".encode(), None, (), 3)])
            acked = time.monotonic()
            got = {}
            while not got and time.monotonic() - acked < 10:
                got = consumer.poll(timeout_ms=100)
            assert got, "record never delivered"
            waits.append(time.monotonic() - acked)
        assert statistics.median(waits) < 2.5, f"waits {waits} s: the fetch was not woken by the produce"
    finally:
        consumer.close(autocommit=False, timeout_ms=5000)
