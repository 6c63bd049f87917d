"""Time and size retention: with small segments and a short
`log.retention.check.interval.ms`, the broker deletes whole old segments, the log
start offset (ListOffsets -2 / low watermark) advances to a segment boundary, reads
below it are OFFSET_OUT_OF_RANGE, and the newer data stays readable by real clients."""

from __future__ import annotations

import time

import pytest

from runnel_clients import Rec, consume, create_topic, produce, watermarks
from runnel_wire import Connection, now_ms

BROKER_OVERRIDES = {"log.retention.check.interval.ms": 200}
SEGMENT_BYTES = 2048
VALUE = 1500                   # one record per batch; two such batches never share a segment
OFFSET_OUT_OF_RANGE = 1
ONE_RECORD_BATCHES = {"batch.num.messages": 1, "linger.ms": 0}


def big(tag: str, i: int) -> bytes:
    return f"{tag}-{i:04d}-".encode().ljust(VALUE, b"r")


def produce_singles(bootstrap, topic, tag: str, n: int, timestamp: int | None = None) -> list[int]:
    records = [Rec(big(tag, i), f"k{i}".encode(), (), 0, None if timestamp is None else timestamp + i)
               for i in range(n)]
    return [offset for _, offset in produce("confluent", bootstrap, topic, records, **ONE_RECORD_BATCHES)]


def earliest(bootstrap, topic) -> int:
    """ListOffsets v1 with timestamp -2 (EARLIEST), raw."""
    with Connection(bootstrap) as conn:
        error, _, offset = conn.list_offset(topic, 0, -2)
    assert error == 0, f"ListOffsets -2 -> error {error}"
    return offset


def wait_log_start(bootstrap, topic, want: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        seen = earliest(bootstrap, topic)
        if seen == want:
            return
        time.sleep(0.2)
    raise AssertionError(f"log start offset is {seen} after {timeout:.0f}s, expected {want} "
                         f"(log.retention.check.interval.ms=200)")


def live_segments(broker, topic) -> list[tuple[int, int]]:
    """(base offset, bytes) of the partition's .log files not scheduled for deletion."""
    out = []
    for path in broker.partition_dir(topic, 0).glob("*.log"):
        out.append((int(path.name[:-4]), path.stat().st_size))
    return sorted(out)


def assert_readable(bootstrap, topic, start: int, values: list[bytes]) -> None:
    for client in ("kafka-python", "confluent"):
        got = consume(client, bootstrap, topic, [0], expected=len(values), start=start, timeout=30,
                      **({"max_partition_fetch_bytes": 1 << 20} if client == "kafka-python" else {}))
        assert [(g.offset, g.value) for g in got] == list(zip(range(start, start + len(values)), values)), \
            f"{client} read {[g.offset for g in got][:10]}..."


@pytest.mark.timeout(120)
def test_retention_ms_deletes_old_segments_and_keeps_new_data(broker, topic_name):
    bs = broker.bootstrap
    create_topic(bs, topic_name, partitions=1,
                 config={"segment.bytes": str(SEGMENT_BYTES), "retention.ms": "60000"})
    hour_ago = now_ms() - 3_600_000
    old = produce_singles(bs, topic_name, "old", 10, timestamp=hour_ago)
    new = produce_singles(bs, topic_name, "new", 5)
    assert old == list(range(10)) and new == list(range(10, 15))

    wait_log_start(bs, topic_name, 10)
    assert watermarks(bs, topic_name, 0) == (10, 15)
    assert [base for base, _ in live_segments(broker, topic_name)][0] >= 10, live_segments(broker, topic_name)
    with Connection(bs) as conn:
        assert conn.fetch(topic_name, 0, 0).error == OFFSET_OUT_OF_RANGE
    assert_readable(bs, topic_name, 10, [big("new", i) for i in range(5)])

    # Newer data keeps arriving and stays; the log start does not move again.
    more = produce_singles(bs, topic_name, "more", 3)
    time.sleep(2.5)   # at least two retention passes (the broker checks at most once a second)
    assert earliest(bs, topic_name) == 10 and more == [15, 16, 17]
    assert_readable(bs, topic_name, 10, [big("new", i) for i in range(5)] + [big("more", i) for i in range(3)])


RETENTION_BYTES = 6000


@pytest.mark.timeout(120)
def test_retention_bytes_trims_oldest_segments_while_new_data_stays_readable(broker, topic_name):
    bs = broker.bootstrap
    create_topic(bs, topic_name, partitions=1,
                 config={"segment.bytes": str(SEGMENT_BYTES), "retention.bytes": str(RETENTION_BYTES)})
    first = produce_singles(bs, topic_name, "a", 20)
    assert first == list(range(20))
    # Every segment holds one batch of the same size.
    segment_size = live_segments(broker, topic_name)[-1][1]
    assert 1500 < segment_size <= SEGMENT_BYTES

    def expected_start(count: int) -> int:
        # Kafka: delete the oldest segments while (log size - retention.bytes) - segment size >= 0.
        excess = count * segment_size - RETENTION_BYTES
        return max(0, excess // segment_size)

    want = expected_start(20)
    assert want > 0
    wait_log_start(bs, topic_name, want)
    remaining = live_segments(broker, topic_name)
    assert remaining[0][0] == want, remaining
    assert sum(size for _, size in remaining) >= RETENTION_BYTES
    assert_readable(bs, topic_name, want, [big("a", i) for i in range(want, 20)])

    # More data: the log start advances again by the same number of segments.
    produce_singles(bs, topic_name, "b", 4)
    wait_log_start(bs, topic_name, want + 4)
    assert watermarks(bs, topic_name, 0) == (want + 4, 24)
    assert_readable(bs, topic_name, want + 4, [big("a", i) for i in range(want + 4, 20)]
                    + [big("b", i) for i in range(4)])
