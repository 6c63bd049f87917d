"""`runnel produce` / `runnel consume` (the RunnelClient CLI) against other clients:
records produced by the CLI are read correctly by kafka-python and kcat, and records
produced by kafka-python and kcat are read correctly by `runnel consume`.

The CLI is the same binary as the broker (`runnel_bin` fixture)."""

from __future__ import annotations

import json
import subprocess

import pytest

from runnel_clients import Rec, consume, create_topic, parse_kcat_json, produce


def runnel(runnel_bin: str, broker, *args: str, stdin: bytes | None = None, timeout: float = 60) -> bytes:
    done = subprocess.run([runnel_bin, *args, "--bootstrap-server", broker.bootstrap], input=stdin,
                          capture_output=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"runnel {' '.join(args)} -> exit {done.returncode}: {done.stderr.decode()}"
    return done.stdout


def kcat(*args: str, stdin: bytes | None = None, timeout: float = 30) -> bytes:
    done = subprocess.run(["kcat", *args], input=stdin, capture_output=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"kcat {' '.join(args)} -> exit {done.returncode}: {done.stderr.decode()}"
    return done.stdout


@pytest.mark.parametrize("compression", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_runnel_produce_is_read_by_kafka_python_and_kcat(runnel_bin, broker, topic_name, compression):
    create_topic(broker.bootstrap, topic_name, partitions=1)
    lines = b"".join(f"key{i}:value {i}\n".encode() for i in range(200))
    runnel(runnel_bin, broker, "produce", topic_name, "--key-separator", ":", "--header", "app=cli",
           "--header", "n=1", "--compression", compression, "--quiet", stdin=lines)

    got = consume("kafka-python", broker.bootstrap, topic_name, [0], expected=200)
    assert [(g.offset, g.key, g.value) for g in got] == [(i, f"key{i}".encode(), f"value {i}".encode())
                                                          for i in range(200)]
    assert all(g.headers == (("app", b"cli"), ("n", b"1")) for g in got)
    assert all(g.create_time for g in got)

    out = kcat("-b", broker.bootstrap, "-t", topic_name, "-C", "-p", "0", "-o", "beginning", "-e", "-q", "-J")
    rows = [parse_kcat_json(line) for line in out.decode().splitlines()]
    assert [(r.offset, r.key, r.value) for r in rows] == [(i, f"key{i}".encode(), f"value {i}".encode())
                                                           for i in range(200)]


def test_runnel_keyed_records_land_where_kafka_python_would_put_them(runnel_bin, broker, topic_name):
    from kafka.partitioner.default import murmur2

    create_topic(broker.bootstrap, topic_name, partitions=5)
    keys = [f"user-{i}" for i in range(50)]
    runnel(runnel_bin, broker, "produce", topic_name, "--key-separator", "=", "--quiet",
           stdin="".join(f"{k}=v-{k}\n" for k in keys).encode())
    got = consume("kafka-python", broker.bootstrap, topic_name, range(5), expected=50)
    assert sorted(g.key.decode() for g in got) == sorted(keys)
    for g in got:
        assert g.value == b"v-" + g.key
        assert g.partition == (murmur2(g.key) & 0x7FFFFFFF) % 5, g


def test_runnel_consume_reads_kafka_python_records(runnel_bin, broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=2)
    records = [Rec(value=f"value-{i}".encode(), key=f"k{i}".encode() if i % 3 else None,
                   headers=(("h", f"{i}".encode()),), partition=i % 2, timestamp=1_700_000_000_000 + i)
               for i in range(100)]
    records.append(Rec(value=None, key=b"tombstone", partition=0, timestamp=1_700_000_001_000))
    produce("kafka-python", broker.bootstrap, topic_name, records, compression="gzip")

    out = runnel(runnel_bin, broker, "consume", topic_name, "--from-beginning", "--exit-at-end", "--json")
    rows = [json.loads(line) for line in out.decode().splitlines()]
    assert len(rows) == 101
    by_value = {r["value"]: r for r in rows}
    for i in range(100):
        row = by_value[f"value-{i}"]
        assert row["topic"] == topic_name and row["partition"] == i % 2
        assert row["key"] == (f"k{i}" if i % 3 else None)
        assert row["headers"] == {"h": str(i)}
        assert row["timestamp"] == 1_700_000_000_000 + i
    [tomb] = [r for r in rows if r["value"] is None]
    assert tomb["key"] == "tombstone"
    # Per partition, offsets are consecutive from 0 and in order.
    for p in (0, 1):
        offsets = [r["offset"] for r in rows if r["partition"] == p]
        assert offsets == list(range(len(offsets)))


def test_runnel_consume_reads_kcat_records_with_format(runnel_bin, broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=1)
    lines = b"".join(f"key{i}:value {i}\n".encode() for i in range(20))
    kcat("-b", broker.bootstrap, "-t", topic_name, "-P", "-p", "0", "-K:", "-H", "app=kcat", "-z", "snappy",
         stdin=lines)
    out = runnel(runnel_bin, broker, "consume", topic_name, "--offset", "earliest", "--exit-at-end",
                 "--format", "%p|%o|%k|%s|%h\\n")
    assert out.decode().splitlines() == [f"0|{i}|key{i}|value {i}|app=kcat" for i in range(20)]

    tail = runnel(runnel_bin, broker, "consume", topic_name, "--offset", "-3", "--exit-at-end")
    assert tail.decode().splitlines() == [f"value {i}" for i in range(17, 20)]


def test_runnel_json_round_trip_through_kcat(runnel_bin, broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=1)
    src = [{"key": f"k{i}", "value": f"v \"{i}\"", "headers": {"a": "1"}, "timestamp": 1_600_000_000_000 + i}
           for i in range(10)]
    runnel(runnel_bin, broker, "produce", topic_name, "--json", "--quiet",
           stdin="".join(json.dumps(s) + "\n" for s in src).encode())
    rows = [parse_kcat_json(line) for line in
            kcat("-b", broker.bootstrap, "-t", topic_name, "-C", "-o", "beginning", "-e", "-q", "-J")
            .decode().splitlines()]
    assert [(r.key, r.value, r.timestamp, r.headers) for r in rows] == [
        (s["key"].encode(), s["value"].encode(), s["timestamp"], (("a", b"1"),)) for s in src]


def test_runnel_topics_commands_agree_with_kcat_metadata(runnel_bin, broker, topic_name):
    out = runnel(runnel_bin, broker, "topics", "create", topic_name, "--partitions", "3",
                 "--config", "retention.ms=3600000")
    assert b"created topic" in out
    md = json.loads(kcat("-b", broker.bootstrap, "-L", "-J", "-t", topic_name))
    assert len(md["topics"][0]["partitions"]) == 3
    assert topic_name in runnel(runnel_bin, broker, "topics", "list").decode().splitlines()
    described = runnel(runnel_bin, broker, "topics", "describe", topic_name).decode()
    assert "Partitions: 3" in described and "retention.ms=3600000" in described
    runnel(runnel_bin, broker, "topics", "delete", topic_name)
    assert topic_name not in runnel(runnel_bin, broker, "topics", "list").decode().splitlines()
