"""`runnel produce` delivery guarantees (issue 5): retries across a broker restart (SIGTERM, then the same
port and data directory again) deliver every line exactly once; a broker that stays away makes the run give
up after --delivery-timeout-ms with a non-zero exit and a message naming the error; a non-retriable error
(a record over max.message.bytes) is not resent and exits non-zero with the error and the count."""

from __future__ import annotations

import socket
import subprocess
import time

import pytest

from runnel_clients import consume, create_topic
from runnel_harness import Broker

# Room for the 1.5 MB record of the chunk-straddling test.
BROKER_OVERRIDES = {"message.max.bytes": 4_000_000}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def fixed_port_broker(runnel_bin, tmp_path):
    port = free_port()
    broker = Broker(runnel_bin, tmp_path / "data", tmp_path / "logs",
                    overrides={"listeners": f"PLAINTEXT://127.0.0.1:{port}"}, name="fixed-port")
    broker.start()
    assert broker.port == port
    yield broker
    broker.close()


def start_produce(runnel_bin: str, bootstrap: str, topic: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [runnel_bin, "produce", topic, "--bootstrap-server", bootstrap, "--linger-ms", "1",
         "--batch-size", "16384", *extra],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen, timeout: float) -> bytes:
    """Waits for a producer whose stdin is already closed; returns its stderr."""
    assert proc.stderr is not None
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
        raise
    return proc.stderr.read()


def lines(start: int, stop: int) -> bytes:
    return b"".join(b"line-%06d\n" % i for i in range(start, stop))


@pytest.mark.timeout(120)
def test_lines_arrive_exactly_once_across_a_broker_restart(runnel_bin, fixed_port_broker):
    broker = fixed_port_broker
    bootstrap = broker.bootstrap
    topic = "restart-cli"
    create_topic(bootstrap, topic, partitions=3)
    total = 60_000
    proc = start_produce(runnel_bin, bootstrap, topic)
    assert proc.stdin is not None
    proc.stdin.write(lines(0, total // 2))
    proc.stdin.flush()
    time.sleep(0.3)
    broker.stop()  # SIGTERM: graceful; in-flight requests fail, the producer reconnects and resends
    proc.stdin.write(lines(total // 2, total * 3 // 4))  # read while the broker is down
    proc.stdin.flush()
    time.sleep(0.3)
    broker.start()
    assert broker.bootstrap == bootstrap
    proc.stdin.write(lines(total * 3 // 4, total))
    proc.stdin.close()
    err = finish(proc, timeout=90)
    assert proc.returncode == 0, err.decode()
    assert f"{total} records acknowledged".encode() in err
    assert b"reconnect" in err, err.decode()

    got = consume("kafka-python", bootstrap, topic, [0, 1, 2], expected=total)
    values = sorted(g.value for g in got)
    assert len(values) == total
    assert values == [b"line-%06d" % i for i in range(total)]


@pytest.mark.timeout(60)
def test_a_broker_that_stays_away_fails_the_run_after_the_delivery_timeout(runnel_bin, fixed_port_broker):
    broker = fixed_port_broker
    topic = "gone-cli"
    create_topic(broker.bootstrap, topic, partitions=1)
    proc = start_produce(runnel_bin, broker.bootstrap, topic, "--delivery-timeout-ms", "1500")
    assert proc.stdin is not None
    proc.stdin.write(lines(0, 100))
    proc.stdin.flush()
    time.sleep(0.5)
    broker.stop()
    proc.stdin.write(lines(100, 200))
    proc.stdin.close()
    err = finish(proc, timeout=30)
    text = err.decode()
    assert proc.returncode == 1, text
    assert "delivery timeout of 1500 ms expired" in text
    assert "not reachable" in text or "lost" in text, text  # the last error is named
    assert "100 of 200 records were not acknowledged" in text


def test_a_record_over_max_message_bytes_is_not_resent_and_exits_non_zero(runnel_bin, broker):
    topic = "strict-cli"
    subprocess.run([runnel_bin, "topics", "create", topic, "--partitions", "1", "--config",
                    "max.message.bytes=1000", "--bootstrap-server", broker.bootstrap],
                   check=True, capture_output=True, timeout=30)
    data = b"ok\n" + b"x" * 5000 + b"\n" + b"ok2\n"
    done = subprocess.run([runnel_bin, "produce", topic, "--linger-ms", "0", "--bootstrap-server",
                           broker.bootstrap], input=data, capture_output=True, timeout=60)
    text = done.stderr.decode()
    assert done.returncode == 1, text
    assert "MESSAGE_TOO_LARGE" in text
    assert "attempts" not in text  # sent once: not retriable
    assert "1 of 3 records were not acknowledged" in text, text
    got = consume("kafka-python", broker.bootstrap, topic, [0], expected=2)
    assert [g.value for g in got] == [b"ok", b"ok2"]


@pytest.mark.parametrize("offset", ["5", "-10", "@1700000000000"])
def test_consume_group_with_a_position_offset_explains_what_offset_means_for_groups(runnel_bin, broker, offset):
    done = subprocess.run([runnel_bin, "consume", "any-topic", "--group", "g1", "--offset", offset,
                           "--bootstrap-server", broker.bootstrap], capture_output=True, timeout=30)
    text = done.stderr.decode()
    assert done.returncode != 0
    assert "--offset with --group only sets where a group without committed offsets starts" in text, text
    assert "runnel groups reset-offsets" in text


@pytest.mark.parametrize("delimiter,separator", [("\\n", None), ("||", "::")])
def test_records_straddling_input_chunks_arrive_intact(runnel_bin, broker, delimiter, separator):
    """The reader scans 1 MiB chunks and carries an incomplete record into the next one: lines of every length
    (empty, 1 byte, over a whole chunk), multi-byte delimiters and separators split across chunk edges, and a
    last record without a delimiter all arrive byte for byte."""
    import random

    rng = random.Random(7 if separator is None else 11)
    delim = b"\n" if delimiter == "\\n" else delimiter.encode()
    sep = separator.encode() if separator else None
    records: list[tuple[bytes | None, bytes]] = []
    for i in range(3000):
        size = rng.choice([0, 1, 7, 100, 999, 4096, 70_000]) if i % 1000 else 1_500_000
        value = bytes(rng.choice(b"abcdefghij:|") for _ in range(min(size, 64))) * (size // 64 + 1)
        value = value[:size].replace(delim[:1], b"-")  # a record never contains (the start of) a delimiter
        key = None
        if sep:
            value = value.replace(sep, b"=")
            key = b"k%d" % i
        records.append((key, value))
    data = delim.join((k + sep + v) if k is not None and sep else v for k, v in records)  # no final delimiter
    topic = f"chunks-{len(delim)}"
    create_topic(broker.bootstrap, topic, partitions=1)
    args = [runnel_bin, "produce", topic, "--partition", "0", "--delimiter", delimiter,
            "--bootstrap-server", broker.bootstrap, "--batch-size", "2000000"]
    if separator:
        args += ["--key-separator", separator]
    done = subprocess.run(args, input=data, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    got = consume("kafka-python", broker.bootstrap, topic, [0], expected=len(records), timeout=60,
                  max_partition_fetch_bytes=4_000_000, fetch_max_bytes=8_000_000)
    assert len(got) == len(records)
    for (key, value), g in zip(records, got):
        assert g.key == key
        assert g.value == value
