"""Log compaction by the broker's online cleaner: a `cleanup.policy=compact` topic
with small segments keeps only the latest record per key (tombstones included, at
their original offsets) once the cleaner has run, as read from the beginning by
kafka-python, confluent-kafka, aiokafka and kcat; tombstones disappear after
`delete.retention.ms`; compressed batches keep their codec; an idempotent producer's
sequence survives compaction of its batches (kept as an empty batch) and a SIGKILL
restart; a compacted log survives SIGKILL with no cleaner temp files; a compacted topic
rejects records without a key (INVALID_RECORD, 87)."""

from __future__ import annotations

import time

import pytest

from runnel_clients import ProduceFailed, Rec, consume, create_topic, produce, watermarks
from runnel_wire import Connection, parse_batches
from test_metrics import scrape, total as metric_total

BROKER_OVERRIDES = {"log.cleaner.backoff.ms": 200, "log.retention.check.interval.ms": 200}
INVALID_RECORD = 87
KEYS = 20
VERSIONS = 5
TOMBSTONED = range(5)          # keys 0..4 end with a tombstone
SEGMENT_BYTES = 4096           # one version round (~2.7 KiB) per segment
SEGMENT_MS = 300


def compacted_config(delete_retention_ms: int = 86_400_000) -> dict[str, str]:
    return {"cleanup.policy": "compact", "segment.bytes": str(SEGMENT_BYTES),
            "min.cleanable.dirty.ratio": "0.01", "segment.ms": str(SEGMENT_MS),
            "delete.retention.ms": str(delete_retention_ms)}


def key(k: int) -> bytes:
    return f"key-{k:02d}".encode()


def version(v: int, k: int) -> bytes:
    return f"v{v}-key-{k:02d}-".encode().ljust(110, b".")


def produce_round(bootstrap, topic, records) -> list[tuple[int, int]]:
    return produce("kafka-python", bootstrap, topic, records)


def produce_roll(bootstrap, topic, tag: str) -> int:
    """Waits past segment.ms and appends one record, so everything before it sits in
    non-active (cleanable) segments. Returns its offset."""
    time.sleep(SEGMENT_MS / 1000 * 2)
    [(_, offset)] = produce_round(bootstrap, topic, [Rec(b"roll", tag.encode())])
    return offset


def raw_log(bootstrap: str, topic: str) -> list[tuple[int, int]]:
    """(base offset, record count) of every batch from the log start to the high
    watermark, straight from Fetch v4 (an empty compacted batch counts 0 records)."""
    low, high = watermarks(bootstrap, topic, 0)
    out = []
    offset = low
    with Connection(bootstrap) as conn:
        while offset < high:
            part = conn.fetch(topic, 0, offset, max_wait_ms=0)
            assert part.error == 0, f"fetch at {offset} -> error {part.error}"
            batches = parse_batches(part.records)
            if not batches:
                raise AssertionError(f"fetch at {offset} returned no complete batch (high watermark {high})")
            out += [(b.base_offset, b.record_count) for b in batches]
            offset = batches[-1].last_offset + 1
    return out


def wait_compacted(bootstrap, topic, expected_records: int, timeout: float = 40.0) -> int:
    """Polls until the log holds exactly `expected_records` records; returns the
    seconds waited. Fails with the last record count."""
    started = time.monotonic()
    count = None
    while time.monotonic() - started < timeout:
        count = sum(n for _, n in raw_log(bootstrap, topic))
        if count == expected_records:
            return time.monotonic() - started
        time.sleep(0.3)
    raise AssertionError(f"after {timeout:.0f}s the log still holds {count} records, expected "
                         f"{expected_records} once compacted (log.cleaner.backoff.ms=200)")


def read_all(client, bootstrap, topic, n) -> list[tuple[int, bytes | None, bytes | None]]:
    got = consume(client, bootstrap, topic, [0], expected=n, timeout=30, settle=0.5)
    return [(g.offset, g.key, g.value) for g in got]


@pytest.mark.timeout(150)
def test_cleaner_keeps_latest_value_per_key_at_original_offsets(broker, topic_name):
    bs = broker.bootstrap
    create_topic(bs, topic_name, partitions=1, config=compacted_config())
    latest: dict[bytes, tuple[int, bytes | None]] = {}
    for v in range(VERSIONS):
        records = [Rec(version(v, k), key(k)) for k in range(KEYS)]
        for r, (_, offset) in zip(records, produce_round(bs, topic_name, records)):
            latest[r.key] = (offset, r.value)
    tombstones = [Rec(None, key(k)) for k in TOMBSTONED]
    for r, (_, offset) in zip(tombstones, produce_round(bs, topic_name, tombstones)):
        latest[r.key] = (offset, None)
    roll_offset = produce_roll(bs, topic_name, "roll-1")
    total = KEYS * VERSIONS + len(tombstones) + 1
    assert roll_offset == total - 1
    # (The cleaner may already be at work here: segment counts are not checked.)

    expected = sorted([(off, k, v) for k, (off, v) in latest.items()] + [(roll_offset, b"roll-1", b"roll")])
    wait_compacted(bs, topic_name, len(expected))

    low, high = watermarks(bs, topic_name, 0)
    assert (low, high) == (0, total), "compaction must not move the log start or the log end"
    for client in ("kafka-python", "confluent", "aiokafka"):
        got = read_all(client, bs, topic_name, len(expected))
        assert got == expected, f"{client} read {len(got)} records, first differences: " \
                                f"{[x for x in got if x not in expected][:3]} / missing " \
                                f"{[x for x in expected if x not in got][:3]}"
    kcat = consume("kcat", bs, topic_name, [0], expected=len(expected))
    assert [(g.offset, g.key, g.value) for g in kcat] == expected

    checkpoint = broker.data_dir / "cleaner-offset-checkpoint"
    assert checkpoint.exists(), "no cleaner-offset-checkpoint in the data directory after a cleaning"
    entries = {tuple(line.split()[:2]): int(line.split()[2])
               for line in checkpoint.read_text().splitlines()[2:] if len(line.split()) == 3}
    assert entries.get((topic_name, "0"), 0) > 0, f"cleaner-offset-checkpoint: {checkpoint.read_text()!r}"

    # The cleaner's work shows in /metrics (issue 6: bytes read and written, records removed, duration, ratio).
    samples, _ = scrape(broker)
    assert metric_total(samples, "runnel_cleaner_cleanings_total") >= 1
    assert metric_total(samples, "runnel_cleaner_bytes_read_total") > metric_total(samples, "runnel_cleaner_bytes_written_total") > 0
    assert metric_total(samples, "runnel_cleaner_records_removed_total") >= KEYS * (VERSIONS - 1) - KEYS
    assert ("runnel_cleaner_duration_seconds_total", frozenset()) in samples  # ms resolution: may be 0 here
    assert ("runnel_cleaner_max_dirty_ratio", frozenset()) in samples

    # New versions after a cleaning are compacted again on the next round.
    more = [Rec(version(9, k), key(k)) for k in range(10, KEYS)]
    for r, (_, offset) in zip(more, produce_round(bs, topic_name, more)):
        latest[r.key] = (offset, r.value)
    roll2 = produce_roll(bs, topic_name, "roll-2")
    expected = sorted([(off, k, v) for k, (off, v) in latest.items()]
                      + [(roll_offset, b"roll-1", b"roll"), (roll2, b"roll-2", b"roll")])
    wait_compacted(bs, topic_name, len(expected))
    assert read_all("confluent", bs, topic_name, len(expected)) == expected


@pytest.mark.timeout(120)
def test_tombstones_are_removed_after_delete_retention(broker, topic_name):
    bs = broker.bootstrap
    create_topic(bs, topic_name, partitions=1, config=compacted_config(delete_retention_ms=500))
    latest: dict[bytes, tuple[int, bytes | None]] = {}
    for v in range(2):
        records = [Rec(version(v, k), key(k)) for k in range(KEYS)]
        for r, (_, offset) in zip(records, produce_round(bs, topic_name, records)):
            latest[r.key] = (offset, r.value)
    tombstones = [Rec(None, key(k)) for k in TOMBSTONED]
    produce_round(bs, topic_name, tombstones)
    for k in TOMBSTONED:
        del latest[key(k)]
    rolls = []
    # The first cleaning stamps the tombstones' delete horizon; a later cleaning (new dirty
    # data past the horizon) drops them. Keep adding a little dirty data until it happens.
    deadline = time.monotonic() + 40
    expected = None
    while time.monotonic() < deadline:
        rolls.append(produce_roll(bs, topic_name, f"roll-{len(rolls)}"))
        expected = sorted([(off, k, v) for k, (off, v) in latest.items()]
                          + [(off, f"roll-{i}".encode(), b"roll") for i, off in enumerate(rolls)])
        if sum(n for _, n in raw_log(bs, topic_name)) == len(expected):
            break
        time.sleep(0.7)
    got = read_all("kafka-python", bs, topic_name, len(expected))
    assert got == expected, f"tombstones still present after delete.retention.ms=500: " \
                            f"{[x for x in got if x[2] is None][:5]}"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("client", ("kafka-python", "confluent"))
def test_compacted_topic_rejects_records_without_key(broker, topic_name, client):
    bs = broker.bootstrap
    create_topic(bs, topic_name, partitions=1, config=compacted_config())
    produce(client, bs, topic_name, [Rec(b"keyed", b"k")])
    with pytest.raises(ProduceFailed) as info:
        produce(client, bs, topic_name, [Rec(b"no key", None)], timeout=20,
                **({"retries": 0} if client == "kafka-python" else {"message.send.max.retries": 0}))
    assert info.value.code == INVALID_RECORD, f"{client}: {info.value}"
    assert watermarks(bs, topic_name, 0) == (0, 1), "the rejected record took an offset"
    produce(client, bs, topic_name, [Rec(b"keyed again", b"k")])
    assert [(g.offset, g.value) for g in consume("confluent", bs, topic_name, [0], expected=2)] == \
        [(0, b"keyed"), (1, b"keyed again")]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("codec", ("gzip", "zstd"))
def test_compressed_batches_are_compacted_and_keep_their_codec(broker, topic_name, codec):
    bs = broker.bootstrap
    create_topic(bs, topic_name, partitions=1, config=compacted_config())
    latest: dict[bytes, tuple[int, bytes | None]] = {}
    for v in range(3):
        # Distinct values per key so compression cannot shrink a round below the segment size much.
        records = [Rec(version(v, k) + bytes(f"{v * k:08x}" * 6, "ascii"), key(k)) for k in range(KEYS)]
        acked = produce("confluent", bs, topic_name, records, compression=codec)
        for r, (_, offset) in zip(records, acked):
            latest[r.key] = (offset, r.value)
    roll = produce_roll(bs, topic_name, "roll")
    expected = sorted([(off, k, v) for k, (off, v) in latest.items()] + [(roll, b"roll", b"roll")])
    wait_compacted(bs, topic_name, len(expected))
    for client in ("kafka-python", "confluent"):
        assert read_all(client, bs, topic_name, len(expected)) == expected, client
    with Connection(bs) as conn:
        batches = parse_batches(conn.fetch(topic_name, 0, 0).records)
    codecs = {b.codec for b in batches if b.record_count > 0 and b.base_offset < roll}
    assert codecs == {{"gzip": 1, "zstd": 4}[codec]}, f"codecs after cleaning: {codecs}"


@pytest.mark.timeout(120)
def test_idempotent_producer_continues_after_its_batches_were_compacted(broker, topic_name):
    from confluent_kafka import Producer

    bs = broker.bootstrap
    create_topic(bs, topic_name, partitions=1, config=compacted_config())
    producer = Producer({"bootstrap.servers": bs, "enable.idempotence": True, "linger.ms": 5,
                         "message.timeout.ms": 30000})
    acked: dict[bytes, tuple[int, bytes]] = {}
    failures = []

    def send_round(v: int, keys) -> None:
        for k in keys:
            value = version(v, k)

            def on_delivery(err, msg, value=value):
                if err is not None:
                    failures.append(err)
                else:
                    acked[msg.key()] = (msg.offset(), value)
            producer.produce(topic_name, key=key(k), value=value, partition=0, on_delivery=on_delivery)
        assert producer.flush(30) == 0
        assert not failures, failures

    for v in range(4):
        send_round(v, range(KEYS))
    time.sleep(SEGMENT_MS / 1000 * 2)
    send_round(4, [0])                     # rolls: the earlier rounds become cleanable
    # Round 3 for every key (its key-0 record is still in the cleanable part) + round 4's record.
    wait_compacted(bs, topic_name, KEYS + 1)
    with Connection(bs) as conn:
        [first] = parse_batches(conn.fetch(topic_name, 0, acked[key(0)][0]).records)[:1]
    producer_id = first.producer_id
    assert producer_id >= 0, "the idempotent batch lost its producer id"

    # The same producer id continues its sequence after the cleaning.
    send_round(5, range(5))
    start = acked[key(0)][0]
    assert start == 4 * KEYS + 1
    with Connection(bs) as conn:
        [batch] = parse_batches(conn.fetch(topic_name, 0, start).records)[:1]
    assert (batch.base_offset, batch.producer_id, batch.base_sequence) == (start, producer_id, 4 * KEYS + 1)
    got = consume("confluent", bs, topic_name, [0], expected=5, start=start)
    assert [(g.offset, g.key, g.value) for g in got] == [(start + k, key(k), version(5, k)) for k in range(5)]


@pytest.mark.timeout(120)
def test_compacted_log_survives_sigkill_restart(broker_factory, topic_name):
    b = broker_factory(overrides=BROKER_OVERRIDES)
    create_topic(b.bootstrap, topic_name, partitions=1, config=compacted_config())
    latest: dict[bytes, tuple[int, bytes | None]] = {}
    for v in range(3):
        records = [Rec(version(v, k), key(k)) for k in range(KEYS)]
        for r, (_, offset) in zip(records, produce_round(b.bootstrap, topic_name, records)):
            latest[r.key] = (offset, r.value)
    roll = produce_roll(b.bootstrap, topic_name, "roll")
    expected = sorted([(off, k, v) for k, (off, v) in latest.items()] + [(roll, b"roll", b"roll")])
    wait_compacted(b.bootstrap, topic_name, len(expected))
    b.crash()
    b.start()
    assert watermarks(b.bootstrap, topic_name, 0) == (0, roll + 1)
    assert read_all("confluent", b.bootstrap, topic_name, len(expected)) == expected
    leftovers = [p.name for p in b.partition_dir(topic_name, 0).iterdir()
                 if p.suffix in (".cleaned", ".swap")]
    assert not leftovers, f"temporary cleaner files left after recovery: {leftovers}"
    # And it keeps compacting after the restart.
    more = [Rec(version(7, k), key(k)) for k in range(KEYS)]
    for r, (_, offset) in zip(more, produce_round(b.bootstrap, topic_name, more)):
        latest[r.key] = (offset, r.value)
    roll2 = produce_roll(b.bootstrap, topic_name, "roll-2")
    expected = sorted([(off, k, v) for k, (off, v) in latest.items()]
                      + [(roll, b"roll", b"roll"), (roll2, b"roll-2", b"roll")])
    wait_compacted(b.bootstrap, topic_name, len(expected))
    assert read_all("kafka-python", b.bootstrap, topic_name, len(expected)) == expected


@pytest.mark.timeout(120)
def test_producer_state_survives_compaction_of_its_batches_and_a_sigkill_restart(broker_factory, topic_name):
    """Kafka keeps an idempotent producer's last batch (emptied) when compaction removes all its
    records, so the producer's sequence survives a restart that rebuilds producer state."""
    from confluent_kafka import Producer

    b = broker_factory(overrides=BROKER_OVERRIDES)
    port = b.port
    create_topic(b.bootstrap, topic_name, partitions=1, config=compacted_config())
    producer = Producer({"bootstrap.servers": b.bootstrap, "enable.idempotence": True, "linger.ms": 5,
                         "message.timeout.ms": 60000, "reconnect.backoff.max.ms": 500})
    failures, offsets = [], []

    def on_delivery(err, msg):
        failures.append(err) if err is not None else offsets.append(msg.offset())

    def idempotent_round(v: int, keys) -> None:
        for k in keys:
            producer.produce(topic_name, key=key(k), value=version(v, k), partition=0, on_delivery=on_delivery)
        assert producer.flush(60) == 0
        assert not failures, failures

    idempotent_round(0, range(KEYS))
    with Connection(b.bootstrap) as conn:
        idempotent_pid = parse_batches(conn.fetch(topic_name, 0, 0).records)[0].producer_id
    assert idempotent_pid >= 0
    for v in (1, 2):
        idempotent_round(v, range(KEYS))
    # Another producer overwrites every key, so none of the idempotent producer's records survive.
    produce_round(b.bootstrap, topic_name, [Rec(version(3, k), key(k)) for k in range(KEYS)])
    roll = produce_roll(b.bootstrap, topic_name, "roll")
    wait_compacted(b.bootstrap, topic_name, KEYS + 1)
    with Connection(b.bootstrap) as conn:
        batches = parse_batches(conn.fetch(topic_name, 0, 0).records)
    retained = [x for x in batches if x.producer_id == idempotent_pid]
    assert [(x.record_count, x.last_offset) for x in retained] == [(0, 3 * KEYS - 1)], \
        f"the producer's last batch must remain as an empty batch: {retained}"

    b.crash()
    b.overrides["listeners"] = f"PLAINTEXT://127.0.0.1:{port}"   # same address for the live producer
    b.start()
    start = roll + 1
    idempotent_round(5, range(5))
    assert offsets[-5:] == list(range(start, start + 5))
    with Connection(b.bootstrap) as conn:
        [batch] = parse_batches(conn.fetch(topic_name, 0, start).records)[:1]
    assert (batch.producer_id, batch.base_sequence) == (idempotent_pid, 3 * KEYS), \
        "the producer's sequence did not continue after compaction + restart"
