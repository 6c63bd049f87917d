"""The idempotent producer: no duplicates, order kept, producer ids stored in the
batches; plus raw-protocol checks that a resent ProduceRequest is acknowledged
without a second copy and that a sequence gap is refused."""

from __future__ import annotations

import pytest

from runnel_clients import Rec, consume, create_topic, produce, watermarks
from runnel_wire import Connection, now_ms, parse_batches, parse_fetch_v4, record_batch

OUT_OF_ORDER_SEQUENCE_NUMBER = 45

IDEMPOTENT = {
    "confluent": {"enable.idempotence": True, "max.in.flight.requests.per.connection": 5,
                  "linger.ms": 2, "batch.num.messages": 50},
    "kafka-python": {"enable_idempotence": True, "max_in_flight_requests_per_connection": 5,
                     "batch_size": 2048, "linger_ms": 2},
    "aiokafka": {"enable_idempotence": True, "max_batch_size": 2048, "linger_ms": 2},
}
N = {"confluent": 3000, "kafka-python": 1500, "aiokafka": 1500}
PARTITIONS = 3


def fetch_all_batches(bootstrap, topic, partition):
    with Connection(bootstrap) as conn:
        conn.send_fetch(topic, partition, 0, max_wait_ms=100)
        _, payload = conn.receive()
    result = parse_fetch_v4(payload)
    assert result.error == 0
    return parse_batches(result.records)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("producer", ("confluent", "kafka-python", "aiokafka"))
def test_idempotent_producer_writes_each_record_once_in_order(broker, topic_name, producer):
    create_topic(broker.bootstrap, topic_name, partitions=PARTITIONS)
    n = N[producer]
    records = [Rec(f"{i % PARTITIONS}:{i // PARTITIONS:06d}".encode(), f"k{i}".encode(), (), i % PARTITIONS)
               for i in range(n)]
    produce(producer, broker.bootstrap, topic_name, records, timeout=120, **IDEMPOTENT[producer])
    got = consume("confluent", broker.bootstrap, topic_name, range(PARTITIONS), expected=n, timeout=60)
    assert len(got) == n, f"received {len(got)} of {n}"
    for p in range(PARTITIONS):
        values = [g.value for g in got if g.partition == p]
        want = [f"{p}:{s:06d}".encode() for s in range(len(values))]
        assert values == want, f"partition {p}: duplicates or reordering"
        assert watermarks(broker.bootstrap, topic_name, p)[1] == len(values)
        batches = fetch_all_batches(broker.bootstrap, topic_name, p)
        assert batches, "no batches fetched"
        assert all(b.producer_id >= 0 for b in batches), "idempotent batches must keep their producer id"
        # Sequences continue batch to batch within one producer session.
        first = batches[0]
        expected_seq = first.base_sequence
        for b in batches:
            if b.producer_id != first.producer_id:
                break
            assert b.base_sequence == expected_seq, f"partition {p}: sequence gap at offset {b.base_offset}"
            expected_seq += b.record_count


def test_resent_produce_request_is_acknowledged_without_a_second_copy(broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=1)
    with Connection(broker.bootstrap) as conn:
        error, pid, epoch = conn.init_producer_id()
        assert error == 0 and pid >= 0 and epoch >= 0, (error, pid, epoch)
        ts = now_ms()
        first = record_batch([(b"a", b"1"), (b"b", b"2"), (b"c", b"3")], base_timestamp=ts,
                             producer_id=pid, producer_epoch=epoch, base_sequence=0)
        assert conn.produce(topic_name, 0, first) == (0, 0)
        assert conn.produce(topic_name, 0, first) == (0, 0), "a duplicate batch is acknowledged at its first offset"
        second = record_batch([(b"d", b"4"), (b"e", b"5")], base_timestamp=ts,
                              producer_id=pid, producer_epoch=epoch, base_sequence=3)
        assert conn.produce(topic_name, 0, second) == (0, 3)
        assert conn.produce(topic_name, 0, first) == (0, 0), "still recognised once a later batch landed"
    assert watermarks(broker.bootstrap, topic_name, 0) == (0, 5)
    got = consume("kafka-python", broker.bootstrap, topic_name, [0], expected=5)
    assert [(g.offset, g.key) for g in got] == list(enumerate([b"a", b"b", b"c", b"d", b"e"]))


def test_sequence_gap_is_out_of_order_sequence(broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=1)
    with Connection(broker.bootstrap) as conn:
        error, pid, epoch = conn.init_producer_id()
        assert error == 0
        ts = now_ms()
        batch = record_batch([(b"a", b"1")], base_timestamp=ts, producer_id=pid, producer_epoch=epoch,
                             base_sequence=0)
        assert conn.produce(topic_name, 0, batch) == (0, 0)
        gap = record_batch([(b"z", b"9")], base_timestamp=ts, producer_id=pid, producer_epoch=epoch,
                           base_sequence=5)
        error, _ = conn.produce(topic_name, 0, gap)
        assert error == OUT_OF_ORDER_SEQUENCE_NUMBER
        # The broker keeps serving this connection and producer.
        nxt = record_batch([(b"b", b"2")], base_timestamp=ts, producer_id=pid, producer_epoch=epoch,
                           base_sequence=1)
        assert conn.produce(topic_name, 0, nxt) == (0, 1)
    assert watermarks(broker.bootstrap, topic_name, 0) == (0, 2)


def test_non_idempotent_raw_batches_are_all_appended(broker, topic_name):
    """Without a producer id a resend is a new write (at-least-once)."""
    create_topic(broker.bootstrap, topic_name, partitions=1)
    with Connection(broker.bootstrap) as conn:
        batch = record_batch([(b"k", b"v")], base_timestamp=now_ms())
        assert conn.produce(topic_name, 0, batch) == (0, 0)
        assert conn.produce(topic_name, 0, batch) == (0, 1)
    assert watermarks(broker.bootstrap, topic_name, 0) == (0, 2)
