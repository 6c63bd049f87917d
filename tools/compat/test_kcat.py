"""kcat (librdkafka 2.0 built in): -L metadata, -P/-C round trip with keys (-K:)
and headers (-H), `-o beginning -e`, relative offsets, and timestamp start."""

from __future__ import annotations

import json
import subprocess
import time

from runnel_clients import Rec, consume, create_topic, parse_kcat_json, produce


def kcat(*args: str, stdin: bytes | None = None, timeout: float = 30) -> str:
    done = subprocess.run(["kcat", *args], input=stdin, capture_output=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"kcat {' '.join(args)} -> exit {done.returncode}: {done.stderr.decode()}"
    return done.stdout.decode()


def test_kcat_metadata_lists_broker_and_topic_partitions(broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=3)
    text = kcat("-b", broker.bootstrap, "-L")
    assert "1 brokers:" in text, text
    assert f"at {broker.host}:{broker.port}" in text, text
    assert f'topic "{topic_name}" with 3 partitions:' in text, text

    md = json.loads(kcat("-b", broker.bootstrap, "-L", "-J", "-t", topic_name))
    [b] = md["brokers"]
    assert b["name"] == f"{broker.host}:{broker.port}", md
    [t] = md["topics"]
    assert t["topic"] == topic_name and not t.get("error"), t
    parts = sorted(t["partitions"], key=lambda p: p["partition"])
    assert [p["partition"] for p in parts] == [0, 1, 2]
    for p in parts:
        assert p["leader"] == b["id"], p
        assert [r["id"] for r in p["replicas"]] == [b["id"]], p
        assert [r["id"] for r in p["isrs"]] == [b["id"]], p


def test_kcat_produce_and_consume_with_keys_and_headers(broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=1)
    lines = b"".join(f"key{i}:value {i}\n".encode() for i in range(5))
    kcat("-b", broker.bootstrap, "-t", topic_name, "-P", "-p", "0", "-K:", "-H", "app=compat", "-H", "trace=42",
         stdin=lines)

    out = kcat("-b", broker.bootstrap, "-t", topic_name, "-C", "-p", "0", "-o", "beginning", "-e", "-q",
               "-f", "%o|%k|%s|%h\n")
    rows = [line.split("|") for line in out.splitlines()]
    assert rows == [[str(i), f"key{i}", f"value {i}", "app=compat,trace=42"] for i in range(5)], out

    got = [parse_kcat_json(line) for line in
           kcat("-b", broker.bootstrap, "-t", topic_name, "-C", "-o", "beginning", "-e", "-q", "-J").splitlines()]
    assert [(g.offset, g.key, g.value) for g in got] == [(i, f"key{i}".encode(), f"value {i}".encode())
                                                          for i in range(5)]
    assert all(g.headers == (("app", b"compat"), ("trace", b"42")) for g in got)
    assert all(g.create_time and abs(g.timestamp - time.time() * 1000) < 120_000 for g in got)

    # The same records through a different client.
    other = consume("kafka-python", broker.bootstrap, topic_name, [0], expected=5)
    assert [(g.key, g.headers) for g in other] == [(f"key{i}".encode(), (("app", b"compat"), ("trace", b"42")))
                                                   for i in range(5)]


def test_kcat_consumes_all_partitions_from_beginning_and_exits(broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=3)
    produce("confluent", broker.bootstrap, topic_name,
            [Rec(f"v{i}".encode(), f"k{i}".encode(), (), i % 3) for i in range(30)])
    out = kcat("-b", broker.bootstrap, "-t", topic_name, "-C", "-o", "beginning", "-e", "-q", "-f", "%p %o %s\n",
               timeout=60)
    rows = sorted(tuple(line.split()) for line in out.splitlines())
    assert rows == sorted((str(i % 3), str(i // 3), f"v{i}") for i in range(30))


def test_kcat_relative_and_timestamp_offsets(broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=1)
    base = (int(time.time() * 1000) - 60_000) // 1000 * 1000
    produce("confluent", broker.bootstrap, topic_name,
            [Rec(f"v{i}".encode(), None, (), 0, base + i * 1000) for i in range(10)])
    last_two = kcat("-b", broker.bootstrap, "-t", topic_name, "-C", "-p", "0", "-o", "-2", "-e", "-q", "-f", "%o\n")
    assert last_two.split() == ["8", "9"]
    from_ts = kcat("-b", broker.bootstrap, "-t", topic_name, "-C", "-p", "0", "-o", f"s@{base + 6500}", "-e", "-q",
                   "-f", "%o %T\n")
    assert [line.split() for line in from_ts.splitlines()] == [[str(i), str(base + i * 1000)] for i in range(7, 10)]
