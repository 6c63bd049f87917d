"""The broker's metrics endpoint (`metrics.listener`) and `runnel stats`, driven by
real clients: confluent-kafka produces, kafka-python consumes in a group and
commits, and the Prometheus counters and gauges must follow (records and bytes
in/out, group lag falling to 0 after the commit, cache hits rising); /health;
`runnel stats --json` against the same broker; a disabled endpoint."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from confluent_kafka import Producer
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from runnel_clients import create_topic

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(broker) -> tuple[dict[tuple[str, frozenset], float], str]:
    """GET /metrics: {(name, labels): value} and the content type."""
    assert broker.metrics_url, "the harness did not learn the metrics URL"
    with urllib.request.urlopen(broker.metrics_url, timeout=10) as response:
        body = response.read().decode("utf-8")
        content_type = response.headers.get("Content-Type")
    samples = {}
    for line in body.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        assert m, f"malformed Prometheus line: {line!r}"
        labels = frozenset(LABEL_RE.findall(m.group(2) or ""))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples, content_type


def total(samples, name: str, **labels) -> float:
    """Sum of the samples of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))


def series(samples, name: str, **labels) -> list[float]:
    wanted = set(labels.items())
    return [v for (n, ls), v in samples.items() if n == name and wanted <= set(ls)]


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def produce_values(bootstrap: str, topic: str, count: int, size: int, partitions: int = 2) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "acks": "all"})
    errors = []
    for i in range(count):
        producer.produce(topic, value=(b"%06d" % i).ljust(size, b"."), key=b"k%d" % i, partition=i % partitions,
                         on_delivery=lambda err, msg: errors.append(err) if err else None)
    assert producer.flush(30) == 0
    assert errors == []


# --------------------------------------------------------------------------- endpoint

def test_health_and_unknown_paths(broker):
    with urllib.request.urlopen(broker.health_url, timeout=10) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"status": "ok"}
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(broker.metrics_url.replace("/metrics", "/nope"), timeout=10)
    assert missing.value.code == 404
    request = urllib.request.Request(broker.metrics_url, data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as post:
        urllib.request.urlopen(request, timeout=10)
    assert post.value.code == 405
    _, content_type = scrape(broker)
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"


@pytest.mark.timeout(120)
def test_counters_follow_produce_consume_and_commit(broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=2)
    produce_values(broker.bootstrap, topic_name, 200, 100)

    before, _ = scrape(broker)
    assert total(before, "runnel_topic_records_in_total", topic=topic_name) == 200
    assert total(before, "runnel_topic_bytes_in_total", topic=topic_name) > 200 * 100
    assert total(before, "runnel_partition_log_end_offset", topic=topic_name) == 200
    assert total(before, "runnel_partition_size_bytes", topic=topic_name) == \
        total(before, "runnel_topic_bytes_in_total", topic=topic_name)
    assert total(before, "runnel_requests_total", api="Produce") >= 1
    assert series(before, "runnel_group_lag", group=f"g-{topic_name}") == []

    group = f"g-{topic_name}"
    consumer = KafkaConsumer(topic_name, bootstrap_servers=broker.bootstrap, group_id=group,
                             enable_auto_commit=False, auto_offset_reset="earliest",
                             consumer_timeout_ms=20000)
    try:
        got = []
        for message in consumer:
            got.append(message)
            if len(got) == 200:
                break
        assert len(got) == 200
        # Commit 30 below the end of partition 0 and the end of partition 1.
        ends = {tp: consumer.position(tp) for tp in consumer.assignment()}
        p0, p1 = TopicPartition(topic_name, 0), TopicPartition(topic_name, 1)
        consumer.commit({p0: OffsetAndMetadata(ends[p0] - 30, "", -1), p1: OffsetAndMetadata(ends[p1], "", -1)})
        partial, _ = scrape(broker)
        assert total(partial, "runnel_group_lag", group=group, topic=topic_name, partition="0") == 30
        assert total(partial, "runnel_group_lag", group=group, topic=topic_name, partition="1") == 0
        assert total(partial, "runnel_group_members", group=group) == 1

        consumer.commit()
        after, _ = scrape(broker)
        assert series(after, "runnel_group_lag", group=group) == [0, 0]
        assert total(after, "runnel_topic_records_out_total", topic=topic_name) >= 200
        assert total(after, "runnel_topic_bytes_out_total", topic=topic_name) >= \
            total(after, "runnel_topic_bytes_in_total", topic=topic_name)
        # Freshly produced batches are served from the read cache.
        assert total(after, "runnel_cache_hits_total") > total(before, "runnel_cache_hits_total")
        assert total(after, "runnel_cache_hit_bytes_total") > total(before, "runnel_cache_hit_bytes_total")
        assert total(after, "runnel_requests_total", api="OffsetCommit") >= 2
        assert total(after, "runnel_requests_total", api="JoinGroup") >= 1
        assert total(after, "runnel_request_duration_seconds_count", api="Fetch") >= 1
        assert total(after, "runnel_open_connections") >= 1

        stats = run_stats(broker, "--json", "--interval", "0.3")
        report = json.loads(stats.stdout)
        row = next(t for t in report["topics"] if t["topic"] == topic_name)
        assert row["partitions"] == 2 and row["logEndOffsetSum"] == 200 and row["sizeBytes"] > 20000
        group_row = next(g for g in report["groups"] if g["group"] == group)
        assert group_row == {"group": group, "members": 1, "totalLag": 0, "maxPartitionLag": 0}
        assert report["cacheHitRatioTotal"] > 0
        assert report["openConnections"] >= 1
    finally:
        consumer.close()
    # The member left: the group stays (offsets kept) with no members.
    wait_until(lambda: total(scrape(broker)[0], "runnel_group_members", group=group) == 0, 30,
               "the group to report 0 members after the consumer closed")


def test_runnel_stats_prints_tables_and_explains_an_unreachable_endpoint(broker, topic_name, runnel_bin):
    create_topic(broker.bootstrap, topic_name, partitions=1)
    produce_values(broker.bootstrap, topic_name, 10, 10, partitions=1)
    shown = run_stats(broker, "--interval", "0.2")
    assert "TOPIC" in shown.stdout and topic_name in shown.stdout
    assert "cache hit ratio" in shown.stdout
    missing = subprocess.run([runnel_bin, "stats", "--metrics-url", "http://127.0.0.1:1/metrics", "--interval", "0.1"],
                             capture_output=True, text=True, timeout=30)
    assert missing.returncode != 0
    assert "no metrics endpoint at http://127.0.0.1:1/metrics" in missing.stderr
    assert "metrics.listener" in missing.stderr


def test_a_disabled_endpoint_is_not_announced(broker_factory):
    quiet = broker_factory(overrides={"metrics.listener": "none"})
    assert quiet.metrics_url is None
    assert quiet.health_url is None
    stdout = quiet.log_files[0].read_text()
    assert "runnel: listening on" in stdout and "metrics on" not in stdout


def run_stats(broker, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([broker.binary, "stats", "--metrics-url", broker.metrics_url, *args],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result
