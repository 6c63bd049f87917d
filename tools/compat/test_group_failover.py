"""Group failover with real clients in separate processes: one member leaves cleanly
(close() -> LeaveGroup), another is SIGKILLed in the middle of a produce stream.
Within its session timeout the survivor owns every partition and consumes everything
after the committed offsets: nothing is lost, and records are consumed twice only if
the member that first read them had not committed them (at-least-once). Live members
also ride through a broker restart (SIGTERM and SIGKILL) on the same address."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

import pytest

from group_clients import MemberPool, exclusively_assigned, wait_for
from runnel_clients import Rec, create_topic, produce

BROKER_OVERRIDES = {"group.initial.rebalance.delay.ms": 0}
PARTITIONS = 6
SESSION_TIMEOUT_MS = 6000
HEARTBEAT_MS = 1000


@pytest.fixture
def pool(tmp_path):
    members = MemberPool(tmp_path / "members")
    yield members
    members.dispose_all()


def phase(tag: str, n: int) -> list[Rec]:
    return [Rec(f"{tag}-{i}".encode(), f"k{i}".encode(), (), i % PARTITIONS) for i in range(n)]


@pytest.mark.timeout(150)
def test_clean_leave_and_sigkill_hand_partitions_to_survivor_without_losing_records(broker, topic_name, pool):
    bs = broker.bootstrap
    create_topic(bs, topic_name, partitions=PARTITIONS)
    group = f"failover-{topic_name}"
    opts = dict(session_timeout_ms=SESSION_TIMEOUT_MS, heartbeat_interval_ms=HEARTBEAT_MS, max_records=20)
    leaver = pool.start("leaver-aiokafka", "aiokafka", bs, group, topic_name, **opts)
    # The victim waits 1 s between printing a batch and committing it: killed in that window,
    # it leaves records it consumed but never committed.
    victim = pool.start("victim-confluent", "confluent", bs, group, topic_name, commit_delay=1.0, **opts)
    survivor = pool.start("survivor-kafka-python", "kafka-python", bs, group, topic_name, **opts)
    everyone = [leaver, victim, survivor]
    produced: list[Rec] = []

    def consumed_positions() -> set[tuple[int, int]]:
        return {(p, o) for m in everyone for p, o, _ in m.records()}

    def wait_all_consumed(what: str, timeout: float = 60):
        # Offsets are 0.. per partition in produce order (one producer at a time here).
        want = {(p, o) for p in range(PARTITIONS)
                for o in range(sum(1 for r in produced if r.partition == p))}
        wait_for(lambda: want <= consumed_positions(), timeout, f"{what}\n{pool.describe()}")

    wait_for(lambda: exclusively_assigned(everyone, PARTITIONS), 60,
             f"3 members to split {PARTITIONS} partitions\n{pool.describe()}")

    # 1. Everyone consumes.
    records = phase("one", 300)
    produce("confluent", bs, topic_name, records)
    produced += records
    wait_all_consumed("phase 1 consumed")

    # 2. A clean leave: the others take over at once (no session timeout involved).
    left_at = time.monotonic()
    assert leaver.close() == 0, leaver.describe()
    wait_for(lambda: exclusively_assigned([victim, survivor], PARTITIONS), SESSION_TIMEOUT_MS / 1000,
             f"the 2 remaining members to own all partitions after a LeaveGroup\n{pool.describe()}")
    assert time.monotonic() - left_at < SESSION_TIMEOUT_MS / 1000
    records = phase("two", 300)
    produce("confluent", bs, topic_name, records)
    produced += records
    wait_all_consumed("phase 2 consumed")

    # 3. SIGKILL the victim while records keep arriving.
    victim_parts = set(victim.assignment())
    assert victim_parts, pool.describe()
    stream = phase("three", 600)
    errors: list[BaseException] = []

    def producer():
        try:
            for start in range(0, len(stream), 30):
                produce("confluent", bs, topic_name, stream[start:start + 30])
                time.sleep(0.1)
        except BaseException as error:  # noqa: BLE001 - re-raised in the test thread
            errors.append(error)

    thread = threading.Thread(target=producer, daemon=True)
    thread.start()
    wait_for(lambda: any(v.startswith("three-") for _, _, v in victim.records()), 30,
             f"the victim to consume phase-3 records\n{pool.describe()}")
    victim.kill()
    uncommitted = {(p, o) for p, o, _ in victim.records() if o >= victim.committed().get(p, 0)}
    assert uncommitted, "the victim was killed with no uncommitted records (the test lost its window)"
    killed_at = time.monotonic()
    wait_for(lambda: survivor.assignment() == frozenset(range(PARTITIONS)),
             SESSION_TIMEOUT_MS / 1000 + 20, f"the survivor to own every partition\n{pool.describe()}")
    takeover = time.monotonic() - killed_at
    # Detection takes the session timeout; the rejoin then needs at most a heartbeat
    # interval plus a Join/Sync round trip.
    assert takeover <= (SESSION_TIMEOUT_MS + HEARTBEAT_MS) / 1000 + 4, \
        f"takeover {takeover:.1f}s after SIGKILL (session timeout {SESSION_TIMEOUT_MS} ms)"
    thread.join(60)
    assert not errors, errors
    produced += stream
    wait_all_consumed("every record consumed after the takeover")
    time.sleep(1.0)

    # Nothing lost, nothing invented.
    values = {v for m in everyone for _, _, v in m.records()}
    assert values == {r.value.decode() for r in produced}

    # Duplicates only where the first reader had not committed.
    consumptions: dict[tuple[int, int], list[tuple[float, str]]] = defaultdict(list)
    for m in everyone:
        for ev in m.of("rec"):
            consumptions[(ev.data["p"], ev.data["o"])].append((ev.at, m.name))
    by_name = {m.name: m for m in everyone}
    for pos, readers in consumptions.items():
        readers.sort()
        for _, name in readers[:-1]:
            committed = by_name[name].committed().get(pos[0], -1)
            assert committed <= pos[1], (
                f"record {pos} was committed by {name} (its offset {committed}) and consumed again by "
                f"{[n for _, n in readers]}")
            assert name == victim.name or by_name[name].of("commit_failed"), \
                f"record {pos} consumed twice although {name} did not fail a commit: {readers}"

    dups = {pos: [n for _, n in r] for pos, r in consumptions.items() if len(r) > 1}
    print(f"takeover {takeover:.1f}s after SIGKILL; {len(dups)} records read twice: {sorted(dups)[:6]}")

    # Exactly the victim's uncommitted records were delivered again: the survivor resumed each
    # of the victim's partitions at the victim's last committed offset.
    assert set(dups) == uncommitted, f"re-read {sorted(dups)[:10]}, uncommitted {sorted(uncommitted)[:10]}"
    victim_committed = victim.committed()
    after = [ev for ev in survivor.of("rec") if ev.at > killed_at]
    for p in victim_parts:
        offsets = [ev.data["o"] for ev in after if ev.data["p"] == p]
        assert offsets, f"survivor read nothing from the victim's partition {p}"
        assert min(offsets) == victim_committed[p], \
            f"partition {p}: survivor resumed at {min(offsets)}, the committed offset is {victim_committed[p]}"
    for m in (survivor,):
        assert not m.errors(), m.describe()
    assert survivor.close() == 0, survivor.describe()


@pytest.mark.timeout(150)
@pytest.mark.parametrize("how", ("sigterm", "sigkill"))
def test_group_members_ride_through_a_broker_restart(broker_factory, topic_name, pool, how):
    """Members keep their sessions across a coordinator restart on the same address: records
    produced after the restart are all consumed, and nothing committed is read again."""
    import signal

    b = broker_factory(overrides=BROKER_OVERRIDES)
    port = b.port
    create_topic(b.bootstrap, topic_name, partitions=4)
    group = f"restart-{topic_name}"
    opts = dict(session_timeout_ms=10000, heartbeat_interval_ms=1000, max_records=20,
                extra={"reconnect.backoff.max.ms": 500})
    members = [pool.start("kp", "kafka-python", b.bootstrap, group, topic_name,
                          **{**opts, "extra": {"reconnect_backoff_max_ms": 500}}),
               pool.start("cf", "confluent", b.bootstrap, group, topic_name, **opts)]
    wait_for(lambda: exclusively_assigned(members, 4), 60, f"2 members to split 4 partitions\n{pool.describe()}")
    first = [Rec(f"before-{i}".encode(), b"k", (), i % 4) for i in range(200)]
    produce("confluent", b.bootstrap, topic_name, first)
    wait_for(lambda: {(p, o) for m in members for p, o, _ in m.records()} >=
             {(p, o) for p in range(4) for o in range(50)}, 60, f"phase 1 consumed\n{pool.describe()}")
    wait_for(lambda: all(m.committed() and min(m.committed().values()) == 50 for m in members)
             and sum(len(m.committed()) for m in members) == 4, 30, f"phase 1 committed\n{pool.describe()}")
    before = {m.name: len(m.records()) for m in members}

    if how == "sigkill":
        b.crash()
    else:
        assert b.stop(signal.SIGTERM) == 0
    b.overrides["listeners"] = f"PLAINTEXT://127.0.0.1:{port}"
    b.start()
    second = [Rec(f"after-{i}".encode(), b"k", (), i % 4) for i in range(200)]
    produce("confluent", b.bootstrap, topic_name, second)
    wait_for(lambda: {(p, o) for m in members for p, o, _ in m.records()} >=
             {(p, o) for p in range(4) for o in range(100)}, 90,
             f"phase 2 consumed after the {how} restart\n{pool.describe()}")
    time.sleep(1.0)
    reread = [(p, o) for m in members for p, o, _ in m.records()[before[m.name]:] if o < 50]
    assert not reread, f"committed records consumed again after the restart: {reread[:10]}"
    for m in members:
        assert m.close() == 0, m.describe()
