"""`runnel groups list|describe|reset-offsets|delete` (the CLI's kafka-consumer-groups.sh)
against groups of real clients, and two `runnel consume --group` processes sharing a
topic's partitions.

* list shows a group once a kafka-python member has committed; describe shows the
  live member (id, client id, assignment) with per-partition offsets and lag, and an
  Empty group's offsets and lag after the member left;
* reset-offsets --to-earliest / --to-offset / --shift-by / --to-datetime / --to-latest:
  a dry run changes nothing (describe and kafka-python's committed() agree), --execute
  moves the committed offsets (clamped to the log), and a kafka-python member of the
  group then starts reading at the reset offsets;
* reset-offsets and delete are refused while the group has a member; delete removes an
  empty group (and then reports GROUP_ID_NOT_FOUND);
* two `runnel consume --group` processes on a 4-partition topic own disjoint
  partitions and together print every record once.

The CLI is the broker's own binary (`runnel_bin` fixture)."""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import time
from collections import Counter

import pytest

from group_clients import MemberPool, wait_for
from runnel_clients import Rec, create_topic, produce

# No 3 s wait for more members when a group leaves Empty: tests would only get slower.
BROKER_OVERRIDES = {"group.initial.rebalance.delay.ms": 0}

BASE_TS = 1_700_000_000_000


def run(runnel_bin: str, broker, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([runnel_bin, *args, "--bootstrap-server", broker.bootstrap], capture_output=True,
                          text=True, timeout=timeout, check=False)


def ok(runnel_bin: str, broker, *args: str) -> str:
    done = run(runnel_bin, broker, *args)
    assert done.returncode == 0, f"runnel {' '.join(args)} -> exit {done.returncode}: {done.stderr}"
    return done.stdout


def describe(runnel_bin: str, broker, group: str) -> dict:
    [described] = json.loads(ok(runnel_bin, broker, "groups", "describe", group, "--json"))
    return described


def committed(runnel_bin: str, broker, group: str) -> dict[tuple[str, int], int | None]:
    return {(o["topic"], o["partition"]): o["currentOffset"] for o in describe(runnel_bin, broker, group)["offsets"]}


def kafka_python_committed(bootstrap: str, group: str, topic: str, partitions: int) -> dict[int, int | None]:
    """The group's committed offsets as kafka-python reads them (OffsetFetch, no membership)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        return {p: consumer.committed(TopicPartition(topic, p)) for p in range(partitions)}
    finally:
        consumer.close(autocommit=False)


def kafka_python_commit(bootstrap: str, group: str, topic: str, offsets: dict[int, int]) -> None:
    """Commits as a standalone (assign-mode) kafka-python consumer: generation -1, no member."""
    from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        tps = {p: TopicPartition(topic, p) for p in offsets}
        consumer.assign(list(tps.values()))
        consumer.commit({tps[p]: OffsetAndMetadata(o, "", -1) for p, o in offsets.items()})
    finally:
        consumer.close(autocommit=False)


@pytest.fixture(scope="module", autouse=True)
def offsets_topic(runnel_bin, broker):
    """Creates `__consumer_offsets` with one serial FindCoordinator (what `groups describe` sends first)
    before any test starts group members: the broker creates it on the first FindCoordinator, and members
    racing that creation can see COORDINATOR_NOT_AVAILABLE (a broker-side window, reported separately)."""
    run(runnel_bin, broker, "groups", "describe", "warm-up")


@pytest.fixture
def pool(tmp_path):
    members = MemberPool(tmp_path / "members")
    yield members
    members.dispose_all()


def records(partitions: int, per_partition: int, tag: str) -> list[Rec]:
    """`per_partition` records in each partition; offset i has CreateTime BASE_TS + 1000 * i."""
    return [Rec(f"{tag}-{p}-{i}".encode(), f"k{i}".encode(), (), p, BASE_TS + 1000 * i)
            for i in range(per_partition) for p in range(partitions)]


# --------------------------------------------------------------------------- list / describe

@pytest.mark.timeout(120)
def test_list_and_describe_follow_a_kafka_python_group_from_active_to_empty(runnel_bin, broker, topic_name, pool):
    create_topic(broker.bootstrap, topic_name, partitions=3)
    produce("kafka-python", broker.bootstrap, topic_name, records(3, 10, "a"))
    group = f"grp-{topic_name}"
    member = pool.start("m0", "kafka-python", broker.bootstrap, group, topic_name)
    wait_for(lambda: member.committed() == {0: 10, 1: 10, 2: 10}, 60,
             "the kafka-python member to consume and commit all 30 records")

    listed = {g["group"]: g for g in json.loads(ok(runnel_bin, broker, "groups", "list", "--json"))}
    assert listed[group] == {"group": group, "state": "Stable", "protocolType": "consumer"}
    table = ok(runnel_bin, broker, "groups", "list")
    assert table.splitlines()[0].split() == ["GROUP", "STATE", "PROTOCOL-TYPE"]
    assert [group, "Stable", "consumer"] in [line.split() for line in table.splitlines()]

    active = describe(runnel_bin, broker, group)
    assert active["state"] == "Stable" and active["protocolType"] == "consumer"
    assert active["assignor"] in ("range", "roundrobin")
    [m] = active["members"]
    assert m["clientId"].startswith("kafka-python")
    assert sorted((a["topic"], a["partition"]) for a in m["assignment"]) == [(topic_name, p) for p in range(3)]
    assert active["offsets"] == [
        {"topic": topic_name, "partition": p, "currentOffset": 10, "logEndOffset": 10, "lag": 0,
         "memberId": m["memberId"]} for p in range(3)]
    text = ok(runnel_bin, broker, "groups", "describe", group)
    assert "STATE: Stable" in text and m["memberId"] in text
    assert ["TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "MEMBER-ID"] in [
        line.split() for line in text.splitlines()]

    assert member.close() == 0
    produce("kafka-python", broker.bootstrap, topic_name,
            [Rec(b"late", None, (), 1, BASE_TS + 99_000) for _ in range(4)])
    empty = describe(runnel_bin, broker, group)
    assert empty["state"] == "Empty" and empty["members"] == []
    assert [(o["partition"], o["currentOffset"], o["logEndOffset"], o["lag"], o["memberId"])
            for o in empty["offsets"]] == [(0, 10, 10, 0, None), (1, 10, 14, 4, None), (2, 10, 10, 0, None)]
    text = ok(runnel_bin, broker, "groups", "describe", group)
    assert f"Consumer group '{group}' has no active members." in text
    rows = [line.split() for line in text.splitlines() if line.startswith(topic_name)]
    assert rows == [[topic_name, "0", "10", "10", "0", "-"], [topic_name, "1", "10", "14", "4", "-"],
                    [topic_name, "2", "10", "10", "0", "-"]]

    missing = run(runnel_bin, broker, "groups", "describe", f"no-such-{topic_name}")
    assert missing.returncode == 1
    assert f"consumer group no-such-{topic_name} does not exist" in missing.stderr


# --------------------------------------------------------------------------- reset-offsets

def reset(runnel_bin, broker, group: str, *args: str) -> list[dict]:
    out = ok(runnel_bin, broker, "groups", "reset-offsets", "--group", group, *args, "--json")
    plan = json.loads(out)
    assert plan["group"] == group and plan["executed"] == ("--execute" in args)
    return [{k: row[k] for k in ("partition", "currentOffset", "newOffset")} for row in plan["partitions"]]


@pytest.mark.timeout(120)
def test_reset_offsets_dry_run_changes_nothing_and_execute_moves_the_commits(runnel_bin, broker, topic_name, pool):
    create_topic(broker.bootstrap, topic_name, partitions=2)
    produce("kafka-python", broker.bootstrap, topic_name, records(2, 20, "r"))
    group = f"grp-{topic_name}"
    kafka_python_commit(broker.bootstrap, group, topic_name, {0: 20, 1: 15})
    start = {(topic_name, 0): 20, (topic_name, 1): 15}
    assert committed(runnel_bin, broker, group) == start

    def row(p, current, new):
        return {"partition": p, "currentOffset": current, "newOffset": new}

    # Dry runs (the default, and --dry-run): the plan, and nothing committed.
    assert reset(runnel_bin, broker, group, "--topic", topic_name, "--to-earliest") == [row(0, 20, 0), row(1, 15, 0)]
    assert reset(runnel_bin, broker, group, "--all-topics", "--to-offset", "7", "--dry-run") == [row(0, 20, 7), row(1, 15, 7)]
    assert reset(runnel_bin, broker, group, "--all-topics", "--shift-by", "-5") == [row(0, 20, 15), row(1, 15, 10)]
    text = run(runnel_bin, broker, "groups", "reset-offsets", "--group", group, "--all-topics", "--to-latest")
    assert text.returncode == 0 and "add --execute" in text.stderr
    assert [line.split() for line in text.stdout.splitlines()] == [
        ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET"],
        [group, topic_name, "0", "20", "20"], [group, topic_name, "1", "15", "20"]]
    assert committed(runnel_bin, broker, group) == start
    assert kafka_python_committed(broker.bootstrap, group, topic_name, 2) == {0: 20, 1: 15}

    # --execute: describe and kafka-python see the new offsets.
    assert reset(runnel_bin, broker, group, "--topic", topic_name, "--to-earliest", "--execute") == [
        row(0, 20, 0), row(1, 15, 0)]
    assert committed(runnel_bin, broker, group) == {(topic_name, 0): 0, (topic_name, 1): 0}
    assert reset(runnel_bin, broker, group, "--topic", f"{topic_name}:1", "--to-offset", "12", "--execute") == [
        row(1, 0, 12)]
    assert reset(runnel_bin, broker, group, "--all-topics", "--shift-by", "5", "--execute") == [
        row(0, 0, 5), row(1, 12, 17)]
    # Clamped to the log end, as Kafka does.
    assert reset(runnel_bin, broker, group, "--topic", f"{topic_name}:1", "--shift-by", "100", "--execute") == [
        row(1, 17, 20)]
    assert kafka_python_committed(broker.bootstrap, group, topic_name, 2) == {0: 5, 1: 20}

    # --to-datetime: the first record at or after the time (offset i has CreateTime BASE_TS + 1000 i);
    # the log end when no record is that new. UTC with Z and an explicit offset.
    at_7 = datetime.datetime.fromtimestamp((BASE_TS + 6_500) / 1000, datetime.timezone.utc)
    iso_z = at_7.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    assert reset(runnel_bin, broker, group, "--all-topics", "--to-datetime", iso_z) == [row(0, 5, 7), row(1, 20, 7)]
    assert committed(runnel_bin, broker, group) == {(topic_name, 0): 5, (topic_name, 1): 20}
    at_3_plus2 = datetime.datetime.fromtimestamp((BASE_TS + 3_000) / 1000,
                                                 datetime.timezone(datetime.timedelta(hours=2)))
    assert reset(runnel_bin, broker, group, "--topic", f"{topic_name}:0", "--to-datetime",
                 at_3_plus2.isoformat(timespec="seconds"), "--execute") == [row(0, 5, 3)]
    assert reset(runnel_bin, broker, group, "--topic", f"{topic_name}:1", "--to-datetime",
                 "2100-01-01T00:00:00Z", "--execute") == [row(1, 20, 20)]
    assert committed(runnel_bin, broker, group) == {(topic_name, 0): 3, (topic_name, 1): 20}
    assert reset(runnel_bin, broker, group, "--topic", f"{topic_name}:1", "--to-offset", "18", "--execute") == [
        row(1, 20, 18)]

    # A member of the group resumes at the reset offsets.
    member = pool.start("m0", "kafka-python", broker.bootstrap, group, topic_name)
    wait_for(lambda: len(member.records()) == 19, 60, "the member to read 17 + 2 records from the reset offsets")
    got = member.records()
    assert min(o for p, o, _ in got if p == 0) == 3 and min(o for p, o, _ in got if p == 1) == 18
    assert sorted((p, o) for p, o, _ in got) == [(0, o) for o in range(3, 20)] + [(1, 18), (1, 19)]
    assert member.close() == 0


@pytest.mark.timeout(120)
def test_reset_and_delete_are_refused_while_the_group_has_members(runnel_bin, broker, topic_name, pool):
    create_topic(broker.bootstrap, topic_name, partitions=2)
    produce("kafka-python", broker.bootstrap, topic_name, records(2, 3, "d"))
    group = f"grp-{topic_name}"
    member = pool.start("m0", "kafka-python", broker.bootstrap, group, topic_name)
    wait_for(lambda: member.committed() == {0: 3, 1: 3}, 60, "the member to commit 3 + 3 records")

    refused = run(runnel_bin, broker, "groups", "reset-offsets", "--group", group, "--all-topics", "--to-earliest",
                  "--execute")
    assert refused.returncode == 1, refused.stdout
    assert f"cannot reset offsets of group {group}: it has 1 active member(s) (state Stable)" in refused.stderr
    assert "stop its" in refused.stderr
    assert committed(runnel_bin, broker, group) == {(topic_name, 0): 3, (topic_name, 1): 3}

    busy = run(runnel_bin, broker, "groups", "delete", group)
    assert busy.returncode == 1
    assert f"cannot delete consumer group {group}: NON_EMPTY_GROUP (68): The group is not empty" in busy.stderr
    assert group in {g["group"] for g in json.loads(ok(runnel_bin, broker, "groups", "list", "--json"))}

    assert member.close() == 0
    wait_for(lambda: describe(runnel_bin, broker, group)["state"] == "Empty", 30, "the group to become Empty")
    assert ok(runnel_bin, broker, "groups", "delete", group) == f"deleted consumer group {group}\n"
    assert group not in {g["group"] for g in json.loads(ok(runnel_bin, broker, "groups", "list", "--json"))}
    assert kafka_python_committed(broker.bootstrap, group, topic_name, 2) == {0: None, 1: None}
    again = run(runnel_bin, broker, "groups", "delete", group)
    assert again.returncode == 1 and "GROUP_ID_NOT_FOUND (69)" in again.stderr


# --------------------------------------------------------------------------- runnel consume --group

@pytest.mark.timeout(150)
def test_two_runnel_consume_group_processes_split_a_topics_partitions(runnel_bin, broker, topic_name, tmp_path):
    create_topic(broker.bootstrap, topic_name, partitions=4)
    group = f"grp-{topic_name}"
    procs = []
    try:
        for i in range(2):
            out = open(tmp_path / f"consumer-{i}.out", "wb")
            err = open(tmp_path / f"consumer-{i}.err", "wb")
            procs.append((subprocess.Popen(
                [runnel_bin, "consume", topic_name, "--group", group, "--offset", "earliest", "--format",
                 "%p %o %s\\n", "--commit-every", "10", "--bootstrap-server", broker.bootstrap],
                stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True), out, err))

        def split() -> bool:
            done = run(runnel_bin, broker, "groups", "describe", group, "--json")
            if done.returncode != 0:  # not joined yet
                return False
            [d] = json.loads(done.stdout)
            return d["state"] == "Stable" and len(d["members"]) == 2 and \
                all(len(m["assignment"]) == 2 for m in d["members"])
        wait_for(split, 60, "both runnel consumers to be Stable members with 2 partitions each", interval=0.3)

        recs = records(4, 50, "split")
        produce("kafka-python", broker.bootstrap, topic_name, recs)

        def lines(i: int) -> list[tuple[int, int, str]]:
            text = (tmp_path / f"consumer-{i}.out").read_text()
            return [(int(p), int(o), v) for p, o, v in (line.split(" ", 2) for line in text.splitlines())]
        wait_for(lambda: len(lines(0)) + len(lines(1)) >= len(recs), 60, "the two consumers to print every record")
        first, second = lines(0), lines(1)
        parts = [{p for p, _, _ in first}, {p for p, _, _ in second}]
        assert parts[0] and parts[1] and not parts[0] & parts[1], parts
        assert parts[0] | parts[1] == {0, 1, 2, 3}
        counts = Counter((p, o) for p, o, _ in first + second)
        assert len(counts) == len(recs) and set(counts.values()) == {1}
        assert sorted(v for _, _, v in first + second) == sorted(r.value.decode() for r in recs)

        # Ctrl-C commits what was printed and leaves: the group ends Empty with every offset at the end.
        for proc, _, _ in procs:
            os.killpg(proc.pid, signal.SIGINT)
        for proc, _, _ in procs:
            assert proc.wait(30) == 0
        final = describe(runnel_bin, broker, group)
        assert final["state"] == "Empty"
        assert [(o["partition"], o["currentOffset"], o["lag"]) for o in final["offsets"]] == [
            (p, 50, 0) for p in range(4)]
    finally:
        for proc, out, err in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
            out.close()
            err.close()
