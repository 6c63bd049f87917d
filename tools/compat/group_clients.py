"""Consumer-group helpers for the compatibility suite.

* `MemberProcess`: a real group consumer (kafka-python, confluent-kafka or aiokafka)
  running as a **separate process** (so it can be SIGKILLed).  The child is this very
  file run as `python group_clients.py member '<json config>'`; it subscribes to one
  topic, prints one JSON line per event on stdout (`assign`, `revoke`, `rec`, `commit`,
  `commit_failed`, `error`, `closed`) and commits synchronously after every poll batch
  (`commit_delay` seconds after printing its records: a window for SIGKILL tests).
  Writing `close` (or closing stdin) makes it leave the group with `close()`.
* `GroupConnection`: the raw group APIs on top of `runnel_wire.Connection`
  (non-flexible versions only: FindCoordinator v1, JoinGroup v5, SyncGroup v3,
  Heartbeat v3, LeaveGroup v3, DescribeGroups v4) and the ConsumerProtocol
  subscription/assignment encodings (KAFKA-FORMATS 8.7).
* `RawMember`: a minimal group member on one connection in one thread: join (with the
  MEMBER_ID_REQUIRED round trip), sync (the leader assigns round-robin), heartbeat,
  rejoin on REBALANCE_IN_PROGRESS.  Cheap enough for 50 members in one test.
* `group_apis_missing(bootstrap)`: the capability probe (ApiVersions) the group tests
  use to skip on a broker without a group coordinator.

Every wait has a deadline.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from runnel_wire import Connection, Reader, array, i8, i16, i32, nbytes, string  # noqa: E402

API_FIND_COORDINATOR, API_JOIN_GROUP, API_HEARTBEAT, API_LEAVE_GROUP, API_SYNC_GROUP = 10, 11, 12, 13, 14
API_DESCRIBE_GROUPS, API_LIST_GROUPS, API_DELETE_GROUPS, API_OFFSET_COMMIT, API_OFFSET_FETCH = 15, 16, 42, 8, 9

GROUP_APIS = {
    API_OFFSET_COMMIT: "OffsetCommit", API_OFFSET_FETCH: "OffsetFetch", API_FIND_COORDINATOR: "FindCoordinator",
    API_JOIN_GROUP: "JoinGroup", API_HEARTBEAT: "Heartbeat", API_LEAVE_GROUP: "LeaveGroup",
    API_SYNC_GROUP: "SyncGroup", API_DESCRIBE_GROUPS: "DescribeGroups", API_LIST_GROUPS: "ListGroups",
    API_DELETE_GROUPS: "DeleteGroups",
}

# Kafka error codes used by the group tests.
NONE = 0
COORDINATOR_NOT_AVAILABLE = 15
ILLEGAL_GENERATION = 22
UNKNOWN_MEMBER_ID = 25
REBALANCE_IN_PROGRESS = 27
NON_EMPTY_GROUP = 68
GROUP_ID_NOT_FOUND = 69
MEMBER_ID_REQUIRED = 79
FENCED_INSTANCE_ID = 82


def group_apis_missing(bootstrap: str) -> list[str]:
    """Names of the group APIs the broker at `bootstrap` does not advertise."""
    with Connection(bootstrap) as conn:
        versions = conn.api_versions()
    return [name for key, name in GROUP_APIS.items() if key not in versions]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
    """Polls `predicate()` until it returns a truthy value (returned) or `timeout`
    seconds pass (AssertionError naming `what`)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


# ============================================================== member subprocess (parent side)

@dataclass
class Event:
    """One JSON line from a member process; `at` is the parent's monotonic clock."""
    at: float
    data: dict


class MemberProcess:
    """A group consumer in its own process. See the module docstring for the events."""

    def __init__(self, name: str, client: str, bootstrap: str, group: str, topic: str, *,
                 session_timeout_ms: int = 10000, heartbeat_interval_ms: int = 1000,
                 instance_id: str | None = None, max_records: int = 50, log_dir: Path | None = None,
                 commit_delay: float = 0.0, extra: dict | None = None):
        self.name = name
        self.client = client
        self.config = dict(client=client, bootstrap=bootstrap, group=group, topic=topic,
                           session_timeout_ms=session_timeout_ms,
                           heartbeat_interval_ms=heartbeat_interval_ms,
                           instance_id=instance_id, max_records=max_records, commit_delay=commit_delay,
                           extra=extra or {})
        self.events: list[Event] = []
        self._lock = threading.Lock()
        log_dir = Path(log_dir or "/tmp")
        log_dir.mkdir(parents=True, exist_ok=True)
        self.stderr_path = log_dir / f"member-{name}-{os.getpid()}-{time.monotonic_ns()}.stderr"
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "group_clients.py"), "member", json.dumps(self.config)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            start_new_session=True, cwd=str(HERE))
        self._reader = threading.Thread(target=self._pump, name=f"member-{name}", daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in iter(self.proc.stdout.readline, b""):
            try:
                data = json.loads(line)
            except ValueError:
                data = {"e": "garbage", "line": line.decode(errors="replace")}
            with self._lock:
                self.events.append(Event(time.monotonic(), data))

    # -- views over the event log ------------------------------------------

    def snapshot(self) -> list[Event]:
        with self._lock:
            return list(self.events)

    def of(self, kind: str) -> list[Event]:
        return [ev for ev in self.snapshot() if ev.data.get("e") == kind]

    def assignment(self) -> frozenset[int]:
        """Partitions currently owned according to the assign/revoke callbacks (eager protocol)."""
        owned: set[int] = set()
        for ev in self.snapshot():
            kind = ev.data.get("e")
            if kind == "assign":
                owned = set(ev.data["parts"])
            elif kind == "revoke":
                owned -= set(ev.data["parts"])
        return frozenset(owned)

    def rebalance_events(self) -> int:
        return len([ev for ev in self.snapshot() if ev.data.get("e") in ("assign", "revoke")])

    def records(self) -> list[tuple[int, int, str | None]]:
        return [(ev.data["p"], ev.data["o"], ev.data.get("v")) for ev in self.of("rec")]

    def committed(self) -> dict[int, int]:
        """partition -> highest offset this member committed successfully."""
        out: dict[int, int] = {}
        for ev in self.of("commit"):
            for p, o in ev.data["offsets"].items():
                out[int(p)] = max(out.get(int(p), -1), o)
        return out

    def errors(self) -> list[dict]:
        return [ev.data for ev in self.snapshot() if ev.data.get("e") in ("error", "garbage", "fatal")]

    def stderr_tail(self, n: int = 3000) -> str:
        try:
            return self.stderr_path.read_bytes()[-n:].decode(errors="replace")
        except OSError:
            return ""

    def describe(self) -> str:
        return (f"member {self.name} ({self.client}, pid {self.proc.pid}, rc {self.proc.poll()}): "
                f"owns {sorted(self.assignment())}, {len(self.of('rec'))} records, "
                f"errors {self.errors()[-3:]}\nstderr tail:\n{self.stderr_tail(1500)}")

    # -- lifecycle ----------------------------------------------------------

    def close(self, timeout: float = 30.0) -> int:
        """Graceful: asks the child to `close()` its consumer (LeaveGroup) and waits."""
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(b"close\n")
                self.proc.stdin.flush()
                self.proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"member {self.name} did not close within {timeout:.0f}s\n{self.describe()}")
        self._reader.join(5)
        return code

    def kill(self) -> None:
        """SIGKILL: no LeaveGroup, no commit, no goodbye."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        self._reader.join(5)

    def dispose(self) -> None:
        self.kill()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        self._stderr.close()


class MemberPool:
    """Owns member processes for one test; `dispose_all()` kills whatever is left."""

    def __init__(self, log_dir: Path):
        self.log_dir = Path(log_dir)
        self.members: list[MemberProcess] = []

    def start(self, name, client, bootstrap, group, topic, **kwargs) -> MemberProcess:
        member = MemberProcess(name, client, bootstrap, group, topic, log_dir=self.log_dir, **kwargs)
        self.members.append(member)
        return member

    def describe(self) -> str:
        return "\n".join(m.describe() for m in self.members)

    def dispose_all(self) -> None:
        for member in self.members:
            member.dispose()


def owners(members) -> dict[int, list[str]]:
    """partition -> names of the members currently owning it."""
    out: dict[int, list[str]] = {}
    for m in members:
        for p in m.assignment():
            out.setdefault(p, []).append(m.name)
    return out


def exclusively_assigned(members, partitions: int, require_all_members: bool = True) -> bool:
    """True when every partition is owned by exactly one of `members` (and, if asked,
    every member owns at least one)."""
    own = owners(members)
    if sorted(own) != list(range(partitions)) or any(len(v) != 1 for v in own.values()):
        return False
    return not require_all_members or all(m.assignment() for m in members)


# ============================================================== member subprocess (child side)

def _emit(**data) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


def _watch_stdin(stop: threading.Event) -> None:
    for line in sys.stdin:
        if line.strip() == "close":
            break
    stop.set()


def _text(b):
    return None if b is None else b.decode("utf-8", "replace")


def _member_kafka_python(cfg: dict, stop: threading.Event) -> None:
    from kafka import ConsumerRebalanceListener, KafkaConsumer, OffsetAndMetadata

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            _emit(e="revoke", parts=sorted(tp.partition for tp in revoked))

        def on_partitions_assigned(self, assigned):
            _emit(e="assign", parts=sorted(tp.partition for tp in assigned))

    settings = dict(bootstrap_servers=cfg["bootstrap"], group_id=cfg["group"], enable_auto_commit=False,
                    auto_offset_reset="earliest", session_timeout_ms=cfg["session_timeout_ms"],
                    heartbeat_interval_ms=cfg["heartbeat_interval_ms"], max_poll_records=cfg["max_records"],
                    request_timeout_ms=30000, group_instance_id=cfg["instance_id"])
    settings.update(cfg["extra"])
    consumer = KafkaConsumer(**settings)
    consumer.subscribe([cfg["topic"]], listener=Listener())
    while not stop.is_set():
        batch = consumer.poll(timeout_ms=200)
        offsets = {}
        for tp, messages in batch.items():
            for m in messages:
                _emit(e="rec", p=m.partition, o=m.offset, k=_text(m.key), v=_text(m.value))
                offsets[tp] = m.offset + 1
        if offsets:
            time.sleep(cfg["commit_delay"])
            try:
                consumer.commit({tp: OffsetAndMetadata(o, "", -1) for tp, o in offsets.items()})
                _emit(e="commit", offsets={tp.partition: o for tp, o in offsets.items()})
            except Exception as error:  # noqa: BLE001 - reported to the parent
                _emit(e="commit_failed", offsets={tp.partition: o for tp, o in offsets.items()},
                      err=repr(error))
    consumer.close(autocommit=False)


def _member_confluent(cfg: dict, stop: threading.Event) -> None:
    from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

    settings = {"bootstrap.servers": cfg["bootstrap"], "group.id": cfg["group"],
                "enable.auto.commit": False, "auto.offset.reset": "earliest",
                "session.timeout.ms": cfg["session_timeout_ms"],
                "heartbeat.interval.ms": cfg["heartbeat_interval_ms"]}
    if cfg["instance_id"]:
        settings["group.instance.id"] = cfg["instance_id"]
    settings.update(cfg["extra"])
    consumer = Consumer(settings)

    def on_assign(c, partitions):
        _emit(e="assign", parts=sorted(tp.partition for tp in partitions))

    def on_revoke(c, partitions):
        _emit(e="revoke", parts=sorted(tp.partition for tp in partitions))

    consumer.subscribe([cfg["topic"]], on_assign=on_assign, on_revoke=on_revoke)
    while not stop.is_set():
        messages = consumer.consume(num_messages=cfg["max_records"], timeout=0.2)
        offsets = {}
        for m in messages:
            if m.error():
                if m.error().code() != KafkaError._PARTITION_EOF:
                    _emit(e="error", err=str(m.error()))
                continue
            _emit(e="rec", p=m.partition(), o=m.offset(), k=_text(m.key()), v=_text(m.value()))
            offsets[m.partition()] = m.offset() + 1
        if offsets:
            time.sleep(cfg["commit_delay"])   # a window in which a SIGKILL leaves records uncommitted
            try:
                result = consumer.commit(offsets=[TopicPartition(cfg["topic"], p, o) for p, o in offsets.items()],
                                         asynchronous=False)
                good = {tp.partition: tp.offset for tp in result or [] if tp.error is None}
                bad = {tp.partition: str(tp.error) for tp in result or [] if tp.error is not None}
                if good:
                    _emit(e="commit", offsets=good)
                if bad:
                    _emit(e="commit_failed", offsets={p: offsets[p] for p in bad}, err=bad)
            except KafkaException as error:
                _emit(e="commit_failed", offsets=offsets, err=str(error))
    consumer.close()


def _member_aiokafka(cfg: dict, stop: threading.Event) -> None:
    import asyncio

    from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
    from aiokafka.structs import OffsetAndMetadata

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            _emit(e="revoke", parts=sorted(tp.partition for tp in revoked))

        def on_partitions_assigned(self, assigned):
            _emit(e="assign", parts=sorted(tp.partition for tp in assigned))

    async def run():
        settings = dict(bootstrap_servers=cfg["bootstrap"], group_id=cfg["group"], enable_auto_commit=False,
                        auto_offset_reset="earliest", session_timeout_ms=cfg["session_timeout_ms"],
                        heartbeat_interval_ms=cfg["heartbeat_interval_ms"], request_timeout_ms=30000,
                        group_instance_id=cfg["instance_id"])
        settings.update(cfg["extra"])
        consumer = AIOKafkaConsumer(**settings)
        consumer.subscribe([cfg["topic"]], listener=Listener())
        await consumer.start()
        try:
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=200, max_records=cfg["max_records"])
                offsets = {}
                for tp, messages in batch.items():
                    for m in messages:
                        _emit(e="rec", p=m.partition, o=m.offset, k=_text(m.key), v=_text(m.value))
                        offsets[tp] = m.offset + 1
                if offsets:
                    await asyncio.sleep(cfg["commit_delay"])
                    try:
                        await consumer.commit({tp: OffsetAndMetadata(o, "") for tp, o in offsets.items()})
                        _emit(e="commit", offsets={tp.partition: o for tp, o in offsets.items()})
                    except Exception as error:  # noqa: BLE001 - reported to the parent
                        _emit(e="commit_failed", offsets={tp.partition: o for tp, o in offsets.items()},
                              err=repr(error))
        finally:
            await consumer.stop()

    asyncio.run(run())


def _member_main(raw_config: str) -> int:
    cfg = json.loads(raw_config)
    stop = threading.Event()
    threading.Thread(target=_watch_stdin, args=(stop,), daemon=True).start()
    runner = {"kafka-python": _member_kafka_python, "confluent": _member_confluent,
              "aiokafka": _member_aiokafka}[cfg["client"]]
    _emit(e="start", client=cfg["client"], pid=os.getpid())
    try:
        runner(cfg, stop)
    except Exception as error:  # noqa: BLE001 - reported to the parent, then non-zero exit
        _emit(e="fatal", err=repr(error))
        raise
    _emit(e="closed")
    return 0


# ============================================================== raw group protocol

def subscription_v0(topics: list[str], user_data: bytes | None = None) -> bytes:
    """ConsumerProtocolSubscription v0 with its int16 version prefix."""
    return i16(0) + array([string(t) for t in topics]) + nbytes(user_data)


def assignment_v0(assigned: dict[str, list[int]]) -> bytes:
    """ConsumerProtocolAssignment v0 with its int16 version prefix."""
    return i16(0) + array([string(t) + array([i32(p) for p in parts]) for t, parts in assigned.items()]) \
        + nbytes(None)


def parse_assignment(data: bytes | None) -> dict[str, list[int]]:
    """Reads a ConsumerProtocolAssignment (any version: later fields are ignored)."""
    if not data:
        return {}
    r = Reader(data)
    r.i16()
    out = {}
    for _ in range(r.i32()):
        topic = r.string()
        out[topic] = [r.i32() for _ in range(r.i32())]
    return out


def parse_subscription(data: bytes | None) -> list[str]:
    if not data:
        return []
    r = Reader(data)
    r.i16()
    return [r.string() for _ in range(r.i32())]


@dataclass
class JoinResult:
    error: int
    generation: int
    protocol: str | None
    leader: str
    member_id: str
    members: list[tuple[str, str | None, bytes]]   # (member id, instance id, metadata); leader only


@dataclass
class DescribedMember:
    member_id: str
    instance_id: str | None
    client_id: str
    client_host: str
    metadata: bytes | None
    assignment: bytes | None


@dataclass
class DescribedGroup:
    error: int
    group_id: str
    state: str
    protocol_type: str
    protocol: str
    members: list[DescribedMember]


class GroupConnection(Connection):
    """`runnel_wire.Connection` plus the classic group APIs (non-flexible versions)."""

    def find_coordinator(self, group: str) -> tuple[int, int, str, int]:
        """(error, node id, host, port) from FindCoordinator v1."""
        self.require(API_FIND_COORDINATOR, 1)
        r = self.call(API_FIND_COORDINATOR, 1, string(group) + i8(0))
        r.i32()
        error = r.i16()
        r.string()
        return error, r.i32(), r.string(), r.i32()

    def join_group(self, group: str, member_id: str, protocols: list[tuple[str, bytes]], *,
                   session_timeout_ms: int, rebalance_timeout_ms: int,
                   instance_id: str | None = None, protocol_type: str = "consumer") -> JoinResult:
        self.require(API_JOIN_GROUP, 5)
        body = (string(group) + i32(session_timeout_ms) + i32(rebalance_timeout_ms) + string(member_id)
                + string(instance_id) + string(protocol_type)
                + array([string(name) + nbytes(meta) for name, meta in protocols]))
        r = self.call(API_JOIN_GROUP, 5, body)
        r.i32()
        error, generation, protocol, leader, mid = r.i16(), r.i32(), r.string(), r.string(), r.string()
        members = []
        for _ in range(r.i32()):
            members.append((r.string(), r.string(), r.nbytes()))
        return JoinResult(error, generation, protocol, leader, mid, members)

    def sync_group(self, group: str, generation: int, member_id: str, assignments: dict[str, bytes],
                   instance_id: str | None = None) -> tuple[int, bytes | None]:
        self.require(API_SYNC_GROUP, 3)
        body = (string(group) + i32(generation) + string(member_id) + string(instance_id)
                + array([string(m) + nbytes(a) for m, a in assignments.items()]))
        r = self.call(API_SYNC_GROUP, 3, body)
        r.i32()
        return r.i16(), r.nbytes()

    def heartbeat(self, group: str, generation: int, member_id: str, instance_id: str | None = None) -> int:
        self.require(API_HEARTBEAT, 3)
        r = self.call(API_HEARTBEAT, 3, string(group) + i32(generation) + string(member_id) + string(instance_id))
        r.i32()
        return r.i16()

    def leave_group(self, group: str, members: list[tuple[str, str | None]]) -> tuple[int, list[int]]:
        self.require(API_LEAVE_GROUP, 3)
        r = self.call(API_LEAVE_GROUP, 3, string(group) + array([string(m) + string(i) for m, i in members]))
        r.i32()
        error = r.i16()
        per_member = []
        for _ in range(r.i32()):
            r.string()
            r.string()
            per_member.append(r.i16())
        return error, per_member

    def describe_groups(self, groups: list[str]) -> list[DescribedGroup]:
        self.require(API_DESCRIBE_GROUPS, 4)
        r = self.call(API_DESCRIBE_GROUPS, 4, array([string(g) for g in groups]) + i8(0))
        r.i32()
        out = []
        for _ in range(r.i32()):
            error, gid, state, ptype, proto = r.i16(), r.string(), r.string(), r.string(), r.string()
            members = []
            for _ in range(r.i32()):
                members.append(DescribedMember(r.string(), r.string(), r.string(), r.string(),
                                               r.nbytes(), r.nbytes()))
            r.i32()  # authorized operations
            out.append(DescribedGroup(error, gid, state, ptype, proto, members))
        return out


def round_robin(member_ids: list[str], topic: str, partitions: int) -> dict[str, bytes]:
    """The leader's assignment: partitions dealt round-robin over the sorted member ids."""
    ordered = sorted(member_ids)
    parts: dict[str, list[int]] = {m: [] for m in ordered}
    for p in range(partitions):
        parts[ordered[p % len(ordered)]].append(p)
    return {m: assignment_v0({topic: ps}) for m, ps in parts.items()}


@dataclass
class Generation:
    """What one member learnt from one completed Join+Sync."""
    generation: int
    member_id: str
    leader: str
    partitions: tuple[int, ...]
    at: float


class RawMember:
    """A group member speaking the raw protocol in its own thread (see module docstring).
    `history` lists every generation it completed; `errors` every unexpected error code."""

    def __init__(self, bootstrap: str, group: str, topic: str, partitions: int, *,
                 instance_id: str | None = None, session_timeout_ms: int = 30000,
                 rebalance_timeout_ms: int = 30000, heartbeat_interval: float = 0.3,
                 name: str = "raw"):
        self.bootstrap, self.group, self.topic, self.partitions = bootstrap, group, topic, partitions
        self.instance_id = instance_id
        self.session_timeout_ms, self.rebalance_timeout_ms = session_timeout_ms, rebalance_timeout_ms
        self.heartbeat_interval = heartbeat_interval
        self.name = name
        self.member_id = ""
        self.history: list[Generation] = []
        self.errors: list[tuple[str, int]] = []
        self.heartbeat_codes: list[int] = []
        self.joins = 0
        self.failure: BaseException | None = None
        self._stop = threading.Event()
        self._leave_on_stop = True
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"raw-{name}", daemon=True)
        self.conn: GroupConnection | None = None

    def start(self) -> "RawMember":
        self._thread.start()
        return self

    @property
    def current(self) -> Generation | None:
        with self._lock:
            return self.history[-1] if self.history else None

    def _run(self) -> None:
        try:
            self.conn = GroupConnection(self.bootstrap, timeout=max(60.0, self.rebalance_timeout_ms / 1000 + 30),
                                        client_id=f"raw-{self.name}")
            self._loop(self.conn)
        except BaseException as error:  # noqa: BLE001 - surfaced through `failure`
            if not self._stop.is_set():
                self.failure = error
        finally:
            if self.conn is not None:
                self.conn.close()

    def _loop(self, conn: GroupConnection) -> None:
        protocols = [("roundrobin", subscription_v0([self.topic]))]
        while not self._stop.is_set():
            self.joins += 1
            join = conn.join_group(self.group, self.member_id, protocols,
                                   session_timeout_ms=self.session_timeout_ms,
                                   rebalance_timeout_ms=self.rebalance_timeout_ms,
                                   instance_id=self.instance_id)
            if join.error == MEMBER_ID_REQUIRED:
                self.member_id = join.member_id
                continue
            if join.error != NONE:
                self.errors.append(("join", join.error))
                if join.error in (UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID):
                    self.member_id = ""
                time.sleep(0.1)
                continue
            self.member_id = join.member_id
            assignments = {}
            if join.leader == join.member_id:
                assignments = round_robin([m for m, _, _ in join.members], self.topic, self.partitions)
            error, data = conn.sync_group(self.group, join.generation, self.member_id, assignments,
                                          self.instance_id)
            if error != NONE:
                if error != REBALANCE_IN_PROGRESS:
                    self.errors.append(("sync", error))
                continue
            parts = tuple(sorted(parse_assignment(data).get(self.topic, [])))
            with self._lock:
                self.history.append(Generation(join.generation, self.member_id, join.leader, parts,
                                               time.monotonic()))
            while not self._stop.wait(self.heartbeat_interval):
                code = conn.heartbeat(self.group, join.generation, self.member_id, self.instance_id)
                self.heartbeat_codes.append(code)
                if code == NONE:
                    continue
                if code != REBALANCE_IN_PROGRESS:
                    self.errors.append(("heartbeat", code))
                if code == UNKNOWN_MEMBER_ID:
                    self.member_id = ""
                break
        if self._leave_on_stop and self.member_id:
            conn.leave_group(self.group, [(self.member_id, self.instance_id)])

    def stop(self, leave: bool = True, timeout: float = 30.0) -> None:
        """Stops heartbeating; sends LeaveGroup if `leave`. Without it the broker only
        learns of the departure from the session timeout (like a crashed client)."""
        self._leave_on_stop = leave
        self._stop.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            self.abort()
            raise AssertionError(f"raw member {self.name} did not stop within {timeout:.0f}s")

    def abort(self) -> None:
        """Tears the connection down under a blocked request (teardown only)."""
        self._leave_on_stop = False
        self._stop.set()
        conn = self.conn
        if conn is not None:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(5)


# ============================================================== entry point for member processes

if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "member":
        sys.exit(_member_main(sys.argv[2]))
    sys.stderr.write("usage: group_clients.py member '<json config>'\n")
    sys.exit(2)
