"""Consumer groups with real clients: members of one group share a topic's partitions
(kafka-python, confluent-kafka and aiokafka in one group; kcat -G), committed offsets
survive broker restarts (SIGTERM and SIGKILL), both admin clients list / describe /
delete groups and read committed offsets for lag, 50 members over 200 partitions
stabilise within one rebalance timeout, and a static member (group.instance.id)
restarted within its session timeout gets its partitions back without a rebalance;
raw JoinGroup/SyncGroup/Heartbeat error codes.

Member failover (a clean leave, a SIGKILLed member, a broker restart under live members)
is in test_group_failover.py."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import uuid
from collections import Counter

import pytest

from group_clients import (FENCED_INSTANCE_ID, ILLEGAL_GENERATION, MEMBER_ID_REQUIRED, NONE, UNKNOWN_MEMBER_ID,
                           GroupConnection, MemberPool, RawMember, assignment_v0, exclusively_assigned,
                           parse_assignment, subscription_v0, wait_for)
from runnel_clients import Rec, create_topic, produce, watermarks

# No 3 s wait for more members when a group leaves Empty: tests would only get slower.
GROUP_OVERRIDES = {"group.initial.rebalance.delay.ms": 0}
BROKER_OVERRIDES = GROUP_OVERRIDES


@pytest.fixture
def pool(tmp_path):
    members = MemberPool(tmp_path / "members")
    yield members
    members.dispose_all()


def group_name(topic: str) -> str:
    return f"grp-{topic}"


def text_records(n: int, partitions: int, tag: str) -> list[Rec]:
    return [Rec(f"{tag}-{i}".encode(), f"k{i}".encode(), (), i % partitions) for i in range(n)]


# --------------------------------------------------------------------------- sharing partitions

@pytest.mark.timeout(120)
def test_three_clients_in_one_group_split_six_partitions_and_read_everything_once(broker, topic_name, pool):
    create_topic(broker.bootstrap, topic_name, partitions=6)
    group = group_name(topic_name)
    members = [pool.start(f"m{i}-{client}", client, broker.bootstrap, group, topic_name)
               for i, client in enumerate(("kafka-python", "confluent", "aiokafka"))]
    wait_for(lambda: exclusively_assigned(members, 6) and all(len(m.assignment()) == 2 for m in members),
             60, "3 members (kafka-python, confluent, aiokafka) to own 2 of the 6 partitions each")
    rebalances = [m.rebalance_events() for m in members]

    records = text_records(600, 6, "three")
    produce("confluent", broker.bootstrap, topic_name, records)
    wait_for(lambda: sum(len(m.records()) for m in members) >= len(records), 60,
             f"600 records consumed by the group\n{pool.describe()}")
    time.sleep(1.0)  # anything consumed twice shows up now

    seen = Counter()
    for m in members:
        owned = m.assignment()
        for p, o, _ in m.records():
            seen[(p, o)] += 1
            assert p in owned, f"{m.name} consumed partition {p} it does not own ({sorted(owned)})"
    twice = sorted(pos for pos, n in seen.items() if n > 1)
    assert not twice, f"records consumed more than once by a stable group: {twice[:10]}"
    assert sorted(seen) == sorted((p, o) for p in range(6) for o in range(100))
    values = sorted(v for m in members for _, _, v in m.records())
    assert values == sorted(r.value.decode() for r in records)
    assert [m.rebalance_events() for m in members] == rebalances, \
        f"the group rebalanced while stable\n{pool.describe()}"
    for m in members:
        assert not m.errors(), m.describe()

    # Every member committed after each batch: the group's offsets are the log end.
    wait_for(lambda: all(m.committed() == {p: 100 for p in m.assignment()} for m in members), 10,
             f"commits of the last batches\n{pool.describe()}")
    for m in members:
        assert m.close() == 0, m.describe()
    assert committed_offsets(broker.bootstrap, group, topic_name, 6) == [100] * 6


def committed_offsets(bootstrap: str, group: str, topic: str, partitions: int) -> list[int]:
    """OffsetFetch through librdkafka (`Consumer.committed`); -1001 = none committed."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        got = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=15)
        return [tp.offset for tp in sorted(got, key=lambda tp: tp.partition)]
    finally:
        consumer.close()


@pytest.mark.timeout(90)
def test_kcat_balanced_consumer_reads_then_resumes_from_its_commits(broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=3)
    group = group_name(topic_name)
    produce("confluent", broker.bootstrap, topic_name, text_records(30, 3, "first"))

    def kcat_group_read() -> list[dict]:
        done = subprocess.run(
            ["kcat", "-b", broker.bootstrap, "-G", group, "-e", "-J", "-q",
             "-X", "auto.offset.reset=earliest", "-X", "session.timeout.ms=6000", topic_name],
            capture_output=True, timeout=60, check=False)
        assert done.returncode == 0, f"kcat -G exit {done.returncode}: {done.stderr.decode(errors='replace')}"
        return [json.loads(line) for line in done.stdout.decode().splitlines() if line.strip()]

    first = kcat_group_read()
    assert sorted((m["partition"], m["offset"]) for m in first) == [(p, o) for p in range(3) for o in range(10)]
    assert committed_offsets(broker.bootstrap, group, topic_name, 3) == [10, 10, 10]

    produce("confluent", broker.bootstrap, topic_name, text_records(6, 3, "second"))
    second = kcat_group_read()
    assert sorted((m["partition"], m["offset"]) for m in second) == [(p, o) for p in range(3) for o in (10, 11)]
    assert sorted(m["payload"] for m in second) == sorted(f"second-{i}" for i in range(6))


# --------------------------------------------------------------------------- restarts

@pytest.mark.timeout(120)
@pytest.mark.parametrize("how", ("sigterm", "sigkill"))
def test_committed_offsets_survive_broker_restart(broker_factory, topic_name, how):
    from confluent_kafka import Consumer, TopicPartition
    from kafka import KafkaConsumer, OffsetAndMetadata
    from kafka import TopicPartition as KTP

    b = broker_factory(overrides=GROUP_OVERRIDES)
    create_topic(b.bootstrap, topic_name, partitions=3)
    produce("confluent", b.bootstrap, topic_name, text_records(90, 3, "before"))
    group = group_name(topic_name)
    commits = {0: 7, 1: 15, 2: 30}

    # A kafka-python group member consumes a little, then commits chosen offsets with metadata.
    consumer = KafkaConsumer(bootstrap_servers=b.bootstrap, group_id=group, enable_auto_commit=False,
                             auto_offset_reset="earliest", session_timeout_ms=6000,
                             heartbeat_interval_ms=1000, request_timeout_ms=30000)
    try:
        # Metadata first: otherwise kafka-python may join before it knows the topic, assign nothing
        # and rejoin at once (a path this test is not about; a rare stall was seen there).
        assert len(consumer.partitions_for_topic(topic_name) or ()) == 3
        consumer.subscribe([topic_name])

        def joined():
            consumer.poll(timeout_ms=200)
            return len(consumer.assignment()) == 3

        wait_for(joined, 30, "kafka-python to join the group and own all 3 partitions")
        consumer.commit({KTP(topic_name, p): OffsetAndMetadata(o, f"meta-{p}", -1) for p, o in commits.items()})
        assert {tp.partition: consumer.committed(tp) for tp in consumer.assignment()} == commits
    finally:
        consumer.close(autocommit=False)

    if how == "sigkill":
        assert b.crash() == -signal.SIGKILL
    else:
        assert b.stop(signal.SIGTERM) == 0
    b.start()
    produce("confluent", b.bootstrap, topic_name, [Rec(f"after-{i}".encode(), b"k", (), 2) for i in range(5)])

    # A librdkafka member of the same group resumes exactly after the committed offsets.
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": group, "enable.auto.commit": False,
                  "auto.offset.reset": "earliest", "session.timeout.ms": 6000})
    got = []
    try:
        committed = c.committed([TopicPartition(topic_name, p) for p in range(3)], timeout=15)
        assert {tp.partition: tp.offset for tp in committed} == commits, "committed offsets changed by the restart"
        assert {tp.partition: tp.metadata for tp in committed} == {p: f"meta-{p}" for p in range(3)}
        c.subscribe([topic_name])
        expected = (30 - 7) + (30 - 15) + 5
        deadline = time.monotonic() + 40
        while len(got) < expected and time.monotonic() < deadline:
            for m in c.consume(num_messages=100, timeout=0.3):
                if m.error() is None:
                    got.append((m.partition(), m.offset(), m.value().decode()))
        for m in c.consume(num_messages=100, timeout=1.0):  # nothing more may arrive
            if m.error() is None:
                got.append((m.partition(), m.offset(), m.value().decode()))
    finally:
        c.close()
    positions = sorted((p, o) for p, o, _ in got)
    want = [(0, o) for o in range(7, 30)] + [(1, o) for o in range(15, 30)] + [(2, o) for o in range(30, 35)]
    assert positions == want, f"after a {how} restart the group resumed at {first_offsets(got)}, expected {commits}"
    assert [v for p, o, v in sorted(got) if p == 2] == [f"after-{i}" for i in range(5)]


def first_offsets(got) -> dict[int, int]:
    out: dict[int, int] = {}
    for p, o, _ in got:
        out[p] = min(out.get(p, o), o)
    return out


# --------------------------------------------------------------------------- admin clients

@pytest.mark.timeout(150)
def test_admin_clients_list_describe_lag_and_delete_groups(broker, topic_name, pool):
    from confluent_kafka import ConsumerGroupState, ConsumerGroupTopicPartitions, KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient
    from kafka import KafkaAdminClient, KafkaConsumer, OffsetAndMetadata
    from kafka import TopicPartition as KTP

    bs = broker.bootstrap
    create_topic(bs, topic_name, partitions=4)
    produce("confluent", bs, topic_name, text_records(80, 4, "adm"))
    active = f"active-{topic_name}"
    idle = f"idle-{topic_name}"

    members = [pool.start("kp", "kafka-python", bs, active, topic_name),
               pool.start("cf", "confluent", bs, active, topic_name)]
    wait_for(lambda: exclusively_assigned(members, 4), 60, f"2 members to split 4 partitions\n{pool.describe()}")
    wait_for(lambda: sum(len(m.committed()) for m in members) == 4
             and all(o == 20 for m in members for o in m.committed().values()), 60,
             f"the active group to consume and commit everything\n{pool.describe()}")

    # An "idle" group: offsets committed by a standalone (assign-mode) consumer, no members.
    idle_commits = {0: 5, 1: 20, 2: 0, 3: 11}
    standalone = KafkaConsumer(bootstrap_servers=bs, group_id=idle, enable_auto_commit=False)
    try:
        standalone.assign([KTP(topic_name, p) for p in range(4)])
        standalone.commit({KTP(topic_name, p): OffsetAndMetadata(o, "", -1) for p, o in idle_commits.items()})
    finally:
        standalone.close(autocommit=False)
    ends = [watermarks(bs, topic_name, p)[1] for p in range(4)]
    assert ends == [20] * 4
    expected_lag = {p: ends[p] - o for p, o in idle_commits.items()}

    # ---- kafka-python KafkaAdminClient
    kadmin = KafkaAdminClient(bootstrap_servers=bs, request_timeout_ms=30000)
    try:
        listed = {g["group_id"]: g for g in kadmin.list_groups()}
        assert active in listed and idle in listed, f"list_groups: {sorted(listed)}"
        assert listed[active]["protocol_type"] == "consumer"
        described = kadmin.describe_groups([active, idle])
        d = described[active]
        assert d["error"] is None and d["group_state"] == "Stable", d
        assert d["protocol_type"] == "consumer" and d["protocol_data"] == "range", d
        assert len(d["members"]) == 2, d
        owned = sorted(p for m in d["members"] for t in assignment_topics(m["member_assignment"])
                       for p in t[1])
        assert owned == [0, 1, 2, 3], d
        assert described[idle]["group_state"] == "Empty" and not described[idle]["members"], described[idle]
        offsets = kadmin.list_group_offsets(idle)[idle]
        assert {tp.partition: om.offset for tp, om in offsets.items() if tp.topic == topic_name} == idle_commits
        lag = {tp.partition: ends[tp.partition] - om.offset for tp, om in offsets.items()}
        assert lag == expected_lag
        active_offsets = kadmin.list_group_offsets(active)[active]
        assert {tp.partition: om.offset for tp, om in active_offsets.items()} == {p: 20 for p in range(4)}
        result = kadmin.delete_groups([active])
        assert result[active] in ("NonEmptyGroupError", "GroupNotEmptyError"), result

        # OffsetDelete: refused for a topic the active group consumes, done for the idle group.
        tp0 = KTP(topic_name, 0)
        assert kadmin.delete_group_offsets(active, [tp0])[tp0].errno == 86  # GROUP_SUBSCRIBED_TO_TOPIC
        assert kadmin.delete_group_offsets(idle, [tp0])[tp0].errno == 0
        del idle_commits[0]
        left = kadmin.list_group_offsets(idle)[idle]
        assert {tp.partition: om.offset for tp, om in left.items() if om.offset >= 0} == idle_commits
    finally:
        kadmin.close()

    # ---- confluent AdminClient
    cadmin = AdminClient({"bootstrap.servers": bs})
    listing = cadmin.list_consumer_groups(request_timeout=15).result(30)
    by_id = {g.group_id: g for g in listing.valid}
    assert not listing.errors, listing.errors
    assert by_id[active].state == ConsumerGroupState.STABLE and not by_id[active].is_simple_consumer_group
    assert by_id[idle].state == ConsumerGroupState.EMPTY
    futures = cadmin.describe_consumer_groups([active, idle], request_timeout=15)
    desc = futures[active].result(30)
    assert desc.state == ConsumerGroupState.STABLE and desc.partition_assignor == "range", desc
    assert len(desc.members) == 2
    assert sorted(tp.partition for m in desc.members for tp in m.assignment.topic_partitions) == [0, 1, 2, 3]
    # Kafka reports each member's host as "/<ip>" (what kafka-consumer-groups prints in its HOST column).
    assert {m.host for m in desc.members} == {"/127.0.0.1"}, [m.host for m in desc.members]
    assert futures[idle].result(30).state == ConsumerGroupState.EMPTY
    [fut] = cadmin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(idle)],
                                               request_timeout=15).values()
    got = fut.result(30)
    assert {tp.partition: tp.offset for tp in got.topic_partitions} == idle_commits
    with pytest.raises(KafkaException) as info:
        cadmin.delete_consumer_groups([active], request_timeout=15)[active].result(30)
    assert info.value.args[0].code() == KafkaError.NON_EMPTY_GROUP, info.value

    # Once the members leave, both clients can delete; the groups and their offsets are gone.
    for m in members:
        assert m.close() == 0, m.describe()
    wait_for(lambda: cadmin.describe_consumer_groups([active], request_timeout=15)[active].result(30).state
             == ConsumerGroupState.EMPTY, 20, "the active group to become Empty after its members left")
    assert cadmin.delete_consumer_groups([active], request_timeout=15)[active].result(30) is None
    kadmin = KafkaAdminClient(bootstrap_servers=bs, request_timeout_ms=30000)
    try:
        assert kadmin.delete_groups([idle]) == {idle: "OK"}
        assert kadmin.delete_groups([idle]) == {idle: "GroupIdNotFoundError"}
        remaining = {g["group_id"] for g in kadmin.list_groups()}
        assert active not in remaining and idle not in remaining, remaining
    finally:
        kadmin.close()
    assert committed_offsets(bs, idle, topic_name, 4) == [-1001] * 4


def assignment_topics(assignment) -> list[tuple[str, list[int]]]:
    """(topic, partitions) pairs from kafka-python's decoded member assignment (or raw bytes)."""
    if isinstance(assignment, (bytes, bytearray)):
        return list(parse_assignment(bytes(assignment)).items())
    if isinstance(assignment, dict):
        topics = assignment.get("assigned_partitions") or assignment.get("topic_partitions") or []
        return [(t.get("topic"), list(t.get("partitions"))) for t in topics]
    topics = getattr(assignment, "assigned_partitions", None) or getattr(assignment, "topic_partitions", [])
    return [(getattr(t, "topic", None), list(getattr(t, "partitions", []))) for t in topics]


# --------------------------------------------------------------------------- scale

MEMBERS_50 = 50
PARTITIONS_200 = 200
REBALANCE_TIMEOUT_MS = 20000


@pytest.mark.timeout(120)
def test_fifty_raw_members_over_two_hundred_partitions_stabilise_within_one_rebalance_timeout(broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=PARTITIONS_200)
    group = group_name(topic_name)
    members = [RawMember(broker.bootstrap, group, topic_name, PARTITIONS_200, name=f"r{i}",
                         session_timeout_ms=30000, rebalance_timeout_ms=REBALANCE_TIMEOUT_MS)
               for i in range(MEMBERS_50)]
    started = time.monotonic()
    try:
        for m in members:
            m.start()

        def stable():
            for m in members:
                if m.failure is not None:
                    raise AssertionError(f"{m.name} failed: {m.failure!r}")
            current = [m.current for m in members]
            if any(c is None for c in current) or len({c.generation for c in current}) != 1:
                return None
            parts = sorted(p for c in current for p in c.partitions)
            return current if parts == list(range(PARTITIONS_200)) else None

        current = wait_for(stable, REBALANCE_TIMEOUT_MS / 1000 + 30,
                           "50 members to hold one generation covering 200 partitions")
        elapsed = time.monotonic() - started
        print(f"50 members stable at generation {current[0].generation} after {elapsed:.1f}s, "
              f"{sum(m.joins for m in members)} JoinGroups")
        assert elapsed <= REBALANCE_TIMEOUT_MS / 1000, \
            f"the group took {elapsed:.1f}s to stabilise (rebalance timeout {REBALANCE_TIMEOUT_MS} ms)"
        assert sorted(len(c.partitions) for c in current) == [4] * MEMBERS_50
        generation = current[0].generation

        # Stays stable: heartbeats succeed and nobody is asked to rejoin.
        time.sleep(2.0)
        assert [m.current.generation for m in members] == [generation] * MEMBERS_50
        for m in members:
            assert not m.errors, f"{m.name}: {m.errors}"
        with GroupConnection(broker.bootstrap) as conn:
            [d] = conn.describe_groups([group])
        assert (d.error, d.state, d.protocol_type, d.protocol) == (NONE, "Stable", "consumer", "roundrobin")
        assert sorted(x.member_id for x in d.members) == sorted(m.member_id for m in members)
        assigned = {x.member_id: tuple(sorted(parse_assignment(x.assignment).get(topic_name, [])))
                    for x in d.members}
        assert assigned == {m.member_id: m.current.partitions for m in members}
    finally:
        for m in members:
            try:
                m.stop(leave=True, timeout=10)
            except AssertionError:
                m.abort()


# --------------------------------------------------------------------------- static membership

@pytest.mark.timeout(90)
def test_static_member_rejoining_within_session_timeout_keeps_its_partitions_without_rebalance(broker, topic_name):
    create_topic(broker.bootstrap, topic_name, partitions=6)
    group = group_name(topic_name)

    def member(i: int, tag: str = "") -> RawMember:
        return RawMember(broker.bootstrap, group, topic_name, 6, instance_id=f"static-{i}",
                         name=f"s{i}{tag}", session_timeout_ms=10000, rebalance_timeout_ms=10000)

    members = [member(i).start() for i in range(3)]
    replacement = None
    try:
        def stable():
            current = [m.current for m in members]
            if any(c is None for c in current) or len({c.generation for c in current}) != 1:
                return None
            return current if sorted(p for c in current for p in c.partitions) == list(range(6)) else None

        current = wait_for(stable, 30, "3 static members to share 6 partitions")
        generation, leader = current[0].generation, current[0].leader
        time.sleep(1.0)   # let any trailing rebalance show itself
        assert [m.current.generation for m in members] == [generation] * 3
        restarted = next(m for m in members if m.member_id != leader)
        others = [m for m in members if m is not restarted]
        old_id, old_parts = restarted.member_id, restarted.current.partitions
        histories = [len(m.history) for m in others]
        beats = [len(m.heartbeat_codes) for m in others]

        restarted.stop(leave=False)        # "crash": no LeaveGroup, no more heartbeats
        time.sleep(1.0)
        replacement = member(members.index(restarted), "-again").start()
        back = wait_for(lambda: replacement.current, 8, "the restarted static member's assignment")
        assert not replacement.errors and replacement.failure is None, replacement.errors
        assert back.generation == generation, "a static rejoin within the session timeout caused a rebalance"
        assert back.partitions == old_parts, f"static member got {back.partitions}, had {old_parts}"
        assert replacement.joins == 1, "the static member needed more than one JoinGroup"

        time.sleep(1.5)
        for m in others:
            assert m.current.generation == generation and len(m.history) == histories[others.index(m)], \
                f"{m.name} was moved to generation {m.current.generation}"
            later = m.heartbeat_codes[beats[others.index(m)]:]
            assert later and set(later) <= {NONE}, f"{m.name} heartbeats since the restart: {Counter(later)}"
        assert replacement.current.generation == generation

        # The replaced member id is fenced.
        with GroupConnection(broker.bootstrap) as conn:
            code = conn.heartbeat(group, generation, old_id, restarted.instance_id)
            assert code == FENCED_INSTANCE_ID, f"heartbeat with the replaced member id -> {code}"
            [d] = conn.describe_groups([group])
        assert d.state == "Stable" and len(d.members) == 3, d
        assert {x.instance_id for x in d.members} == {"static-0", "static-1", "static-2"}
        assert replacement.member_id in {x.member_id for x in d.members} and old_id not in \
            {x.member_id for x in d.members}
    finally:
        for m in members + ([replacement] if replacement else []):
            try:
                m.stop(leave=True, timeout=10)
            except AssertionError:
                m.abort()


@pytest.mark.timeout(90)
def test_static_librdkafka_member_restarted_after_sigkill_gets_same_partitions_without_rebalance(
        broker, topic_name, pool):
    create_topic(broker.bootstrap, topic_name, partitions=6)
    group = group_name(topic_name)
    run = uuid.uuid4().hex[:6]

    def start(i: int, tag: str = ""):
        return pool.start(f"static{i}{tag}", "confluent", broker.bootstrap, group, topic_name,
                          instance_id=f"inst-{run}-{i}", session_timeout_ms=10000, heartbeat_interval_ms=500)

    # The first member alone becomes the group leader (an existing leader keeps the role);
    # the restarted one is a follower, so no protocol version question about leader rejoins.
    members = [start(0)]
    wait_for(lambda: len(members[0].assignment()) == 6, 60, f"the first member's assignment\n{pool.describe()}")
    members += [start(1), start(2)]
    wait_for(lambda: exclusively_assigned(members, 6) and all(len(m.assignment()) == 2 for m in members), 60,
             f"3 static librdkafka members to own 2 partitions each\n{pool.describe()}")
    time.sleep(1.0)
    victim, others = members[1], [members[0], members[2]]
    before = victim.assignment()
    events = [m.rebalance_events() for m in others]

    victim.kill()
    time.sleep(1.0)
    again = start(1, "-again")
    wait_for(lambda: again.assignment(), 8, f"the restarted static member to get an assignment\n{pool.describe()}")
    assert again.assignment() == before
    produce("confluent", broker.bootstrap, topic_name, text_records(60, 6, "static"))
    wait_for(lambda: sum(len(m.records()) for m in others + [again]) >= 60, 30,
             f"the group to read 60 records\n{pool.describe()}")
    assert [m.rebalance_events() for m in others] == events, \
        f"the other members were rebalanced by a static restart\n{pool.describe()}"
    assert {p for p, _, _ in again.records()} <= before


@pytest.mark.timeout(60)
def test_group_protocol_errors_on_the_wire(broker, topic_name):
    """Raw JoinGroup/SyncGroup/Heartbeat/DescribeGroups error codes (KAFKA-FORMATS 8.3-8.5)."""
    group = group_name(topic_name)
    sub = subscription_v0([topic_name])
    with GroupConnection(broker.bootstrap) as conn:
        error, node, host, port = conn.find_coordinator(group)
        assert (error, host, port) == (NONE, broker.host, broker.port), (error, node, host, port)
        # Session timeout below group.min.session.timeout.ms (6000) -> INVALID_SESSION_TIMEOUT (26).
        bad = conn.join_group(group, "", [("range", sub)], session_timeout_ms=1000, rebalance_timeout_ms=1000)
        assert bad.error == 26, bad
        assert conn.join_group("", "", [("range", sub)], session_timeout_ms=10000,
                               rebalance_timeout_ms=10000).error == 24          # INVALID_GROUP_ID
        first = conn.join_group(group, "", [("range", sub)], session_timeout_ms=10000, rebalance_timeout_ms=10000)
        assert first.error == MEMBER_ID_REQUIRED and first.member_id, first
        joined = conn.join_group(group, first.member_id, [("range", sub)], session_timeout_ms=10000,
                                 rebalance_timeout_ms=10000)
        assert (joined.error, joined.generation, joined.protocol, joined.leader) == \
            (NONE, 1, "range", first.member_id), joined
        assert [(m, meta) for m, _, meta in joined.members] == [(first.member_id, sub)]
        me = first.member_id
        assert conn.sync_group(group, 7, me, {})[0] == ILLEGAL_GENERATION
        assert conn.sync_group(group, 1, "nobody", {})[0] == UNKNOWN_MEMBER_ID
        error, data = conn.sync_group(group, 1, me, round_robin_one(me, topic_name))
        assert error == NONE and parse_assignment(data) == {topic_name: [0]}
        assert conn.heartbeat(group, 1, me) == NONE
        assert conn.heartbeat(group, 2, me) == ILLEGAL_GENERATION
        assert conn.heartbeat(group, 1, "nobody") == UNKNOWN_MEMBER_ID
        # A member with no protocol in common with the group -> INCONSISTENT_GROUP_PROTOCOL (23).
        with GroupConnection(broker.bootstrap) as other:
            odd = other.join_group(group, "", [("no-such-assignor", sub)], session_timeout_ms=10000,
                                   rebalance_timeout_ms=10000)
            if odd.error == MEMBER_ID_REQUIRED:
                odd = other.join_group(group, odd.member_id, [("no-such-assignor", sub)],
                                       session_timeout_ms=10000, rebalance_timeout_ms=10000)
            assert odd.error == 23, odd
        [d] = conn.describe_groups([group])
        assert (d.error, d.state, d.protocol, [x.member_id for x in d.members]) == (NONE, "Stable", "range", [me])
        assert conn.leave_group(group, [(me, None)]) == (NONE, [NONE])
        [d] = conn.describe_groups([group])
        assert (d.state, d.members) == ("Empty", [])
        [unknown] = conn.describe_groups([f"never-{topic_name}"])
        assert (unknown.error, unknown.state) == (NONE, "Dead"), unknown


def round_robin_one(member: str, topic: str) -> dict[str, bytes]:
    return {member: assignment_v0({topic: [0]})}
