"""What every driver shares: the server child process (with its CPU time and peak RSS read from /proc),
the workload's payloads, the phase measurements and the end-to-end latency harness.

Units: times in seconds unless a name says otherwise (``_ms``, ``_ns``); sizes in bytes; RSS in KiB as /proc
reports it. Latency timestamps are CLOCK_MONOTONIC nanoseconds (``time.monotonic_ns``), which on Linux is one
clock for every process on the machine, so a producer and a consumer in different processes can be compared.
"""
from __future__ import annotations

import importlib
import multiprocessing
import os
import resource
import signal
import socket
import struct
import subprocess
import threading
import time
from array import array
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

CLK_TCK = os.sysconf("SC_CLK_TCK")
WARMUP = b"warmup"  # the one unstamped record every latency producer sends (and has acked) before pacing
TS = struct.Struct(">QQ")  # (send time ns, sequence number) at the start of every latency record


class BenchError(RuntimeError):
    """A server did not start, a client failed, or a phase lost records."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float, proc: subprocess.Popen | None = None, what: str = "server") -> None:
    """Waits until 127.0.0.1:port accepts a connection; raises if `proc` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise BenchError(f"{what} exited with code {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise BenchError(f"{what} did not listen on port {port} within {timeout:.0f} s")


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def descendants(pid: int) -> list[int]:
    """`pid` and every live process below it."""
    kids = _children()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (and of its children it has waited for), seconds; 0 if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    # fields[11..14] = utime stime cutime cstime (stat fields 14..17)
    return sum(int(x) for x in fields[11:15]) / CLK_TCK


def status_kib(pid: int, key: str) -> int:
    """A `Vm*` line of /proc/PID/status in KiB, or -1."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return -1


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


class ServerProcess:
    """A server started as our child in its own session (so a signal reaches every process it forks).

    `main_pid()` is the process whose RSS is reported: the one named `main_comm` below the child (RabbitMQ's
    shell scripts exec into `beam.smp`), else the child itself. CPU time is the sum over the whole tree."""

    def __init__(self, argv: list[str], log_path: Path, env: dict[str, str] | None = None,
                 cwd: Path | None = None, main_comm: str | None = None):
        self.argv = argv
        self.log_path = log_path
        self.main_comm = main_comm
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                                     env=env, cwd=str(cwd) if cwd else None, start_new_session=True)
        self._peak_total_kib = 0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        # Sum of VmRSS over the tree every 100 ms: a cross-check of VmHWM for multi-process servers.
        while not self._stop.wait(0.1):
            total = sum(max(0, status_kib(p, "VmRSS")) for p in descendants(self.proc.pid))
            self._peak_total_kib = max(self._peak_total_kib, total)

    def main_pid(self) -> int:
        if self.main_comm:
            for p in descendants(self.proc.pid):
                if comm(p) == self.main_comm:
                    return p
        return self.proc.pid

    def cpu(self) -> float:
        return sum(cpu_seconds(p) for p in descendants(self.proc.pid))

    def peak_rss_kib(self) -> int:
        return status_kib(self.main_pid(), "VmHWM")

    def rss_kib(self) -> int:
        return status_kib(self.main_pid(), "VmRSS")

    @property
    def peak_tree_kib(self) -> int:
        return self._peak_total_kib

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(10)
        # Anything the server left in its session (e.g. a forked helper) goes too.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._log.close()

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def loadavg() -> str:
    """Load averages and CPU pressure (share of time some task waited for a CPU, last 60 s): how shared the
    machine was."""
    load = " ".join(Path("/proc/loadavg").read_text().split(" ")[:3])
    try:
        some = Path("/proc/pressure/cpu").read_text().splitlines()[0].split()
        psi = next(f for f in some if f.startswith("avg60=")).split("=")[1]
        return f"{load} (cpu pressure avg60 {psi}%)"
    except (OSError, StopIteration, IndexError):
        return load


def payload(size: int) -> bytes:
    """The throughput record: `size` bytes."""
    return bytes((i * 7 + 13) & 0xFF for i in range(size))


def stamped(seq: int, size: int, pad: bytes) -> bytes:
    """A latency record of `size` bytes starting with (monotonic send time ns, seq)."""
    return TS.pack(time.monotonic_ns(), seq) + pad[: size - TS.size]


def client_cpu() -> float:
    """CPU seconds of this process plus the children it has waited for (kcat, latency consumers)."""
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


@dataclass
class Phase:
    """One measured phase: throughput and who burnt the CPU."""
    name: str
    records: int
    size: int
    seconds: float
    verified: int  # records acknowledged (produce) or received with the right size (consume)
    server_cpu_s: float
    client_cpu_s: float

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0

    @property
    def mb_per_s(self) -> float:
        return self.records * self.size / self.seconds / 1e6 if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["records_per_s"] = round(self.records_per_s, 1)
        d["mb_per_s"] = round(self.mb_per_s, 2)
        return d


@dataclass
class Latency:
    rate: int
    seconds: float
    sent: int
    received: int
    warmup_records: int
    p50_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    server_cpu_s: float


@dataclass
class Result:
    name: str
    system: str
    version: str
    client: str
    durability: str
    phases: list[Phase] = field(default_factory=list)
    latency: Latency | None = None
    idle_rss_kib: int = -1
    peak_rss_kib: int = -1
    peak_tree_rss_kib: int = -1
    notes: list[str] = field(default_factory=list)
    load_at_start: str = ""

    def phase(self, name: str) -> Phase | None:
        return next((p for p in self.phases if p.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "system": self.system, "version": self.version, "client": self.client,
            "durability": self.durability, "phases": [p.to_json() for p in self.phases],
            "latency": asdict(self.latency) if self.latency else None,
            "idle_rss_kib": self.idle_rss_kib, "peak_rss_kib": self.peak_rss_kib,
            "peak_tree_rss_kib": self.peak_tree_rss_kib, "notes": self.notes, "load_at_start": self.load_at_start,
        }


def measure(server: ServerProcess, name: str, records: int, size: int, body: Callable[[], int]) -> Phase:
    """Runs `body` (which returns how many records it saw acknowledged or received) and times it."""
    s0, c0, t0 = server.cpu(), client_cpu(), time.perf_counter()
    verified = body()
    t1 = time.perf_counter()
    phase = Phase(name, records, size, t1 - t0, verified, round(server.cpu() - s0, 3), round(client_cpu() - c0, 3))
    if verified != records:
        raise BenchError(f"{name}: {verified} of {records} records verified")
    return phase


def percentile(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    return xs[min(len(xs) - 1, int(q * len(xs)))]


class Pacer:
    """Yields send times for `count` records at `rate` per second (absolute schedule, no drift)."""

    def __init__(self, rate: int):
        self.interval_ns = 1_000_000_000 // rate
        self.start_ns = time.monotonic_ns()

    def due_ns(self, i: int) -> int:
        return self.start_ns + i * self.interval_ns


def _consumer_entry(module: str, conn: dict[str, Any], topic: str, count: int, size: int, timeout: float,
                    ready: Any, out: Any) -> None:
    # Runs in a spawned process: the driver module's `latency_consume` calls `on_ready()` once it is
    # subscribed and `on_record(payload)` for every record; latencies are taken at delivery to this process.
    # The producer first sends one WARMUP record (and waits for its ack) so that connection and metadata
    # set-up are not inside the paced run: consumers read `count + 1` records.
    mod = importlib.import_module(module)
    lat = array("d")
    seen = bytearray(count)

    def on_record(data: bytes) -> None:
        now = time.monotonic_ns()
        if len(data) != size:
            return  # the producer's warm-up record
        sent, seq = TS.unpack_from(data)
        if seq < count and not seen[seq] and len(data) == size:
            seen[seq] = 1
            lat.append((now - sent) / 1e6)
            # index by seq too so warm-up records can be dropped
            lat.append(float(seq))

    try:
        mod.latency_consume(conn, topic, count, timeout, ready.set, on_record)
    finally:
        out.send_bytes(lat.tobytes())
        out.close()


def run_latency(server: ServerProcess, module: str, conn: dict[str, Any], topic: str,
                produce: Callable[[str, int, int, int], int], rate: int, seconds: float, size: int = 100,
                warmup_seconds: float = 1.0) -> Latency:
    """End-to-end latency: a consumer in its own process (`module.latency_consume`), then `produce(topic,
    rate, count, size)` here paced at `rate`; each record carries its send time. The first `warmup_seconds`
    of records are left out of the percentiles (connection set-up, first allocations)."""
    count = int(rate * seconds)
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    rx, tx = ctx.Pipe(duplex=False)
    timeout = seconds + 60
    p = ctx.Process(target=_consumer_entry, args=(module, conn, topic, count, size, timeout, ready, tx),
                    daemon=True)
    p.start()
    tx.close()
    if not ready.wait(60):
        p.kill()
        raise BenchError(f"{module}: latency consumer not ready within 60 s")
    time.sleep(0.3)
    s0 = server.cpu()
    sent = produce(topic, rate, count, size)
    if not rx.poll(timeout):
        p.kill()
        raise BenchError(f"{module}: latency consumer gave no result within {timeout:.0f} s")
    raw = array("d")
    raw.frombytes(rx.recv_bytes())
    p.join(10)
    server_cpu = round(server.cpu() - s0, 3)
    warm = int(rate * min(warmup_seconds, seconds / 5))  # short runs keep most of their records
    pairs = [(raw[i], raw[i + 1]) for i in range(0, len(raw), 2)]
    dump = os.environ.get("PEERS_LATENCY_DUMP")  # debugging: "seq ms" per received record
    if dump:
        Path(dump).write_text("".join(f"{int(seq)} {ms:.3f}\n" for ms, seq in pairs))
    xs = sorted(ms for ms, seq in pairs if seq >= warm)
    return Latency(rate, seconds, sent, len(pairs), warm, round(percentile(xs, 0.5), 3),
                   round(percentile(xs, 0.99), 3), round(percentile(xs, 0.999), 3),
                   round(xs[-1] if xs else float("nan"), 3), server_cpu)


class Driver:
    """One system under test. Subclasses set the class attributes and implement the methods below.

    Lifecycle: `start(workdir)`, then `produce`/`consume` per record size on its own topic/stream, then
    `latency_produce` (with the module-level `latency_consume` of the driver's module in a child process),
    then `stop()`."""

    name = "?"
    system = "?"
    client = "?"
    durability = "?"
    latency_module = "?"  # module with `latency_consume(conn, topic, count, timeout, on_ready, on_record)`

    server: ServerProcess

    def version(self) -> str:
        raise NotImplementedError

    def start(self, workdir: Path) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        if getattr(self, "server", None) is not None:
            self.server.stop()

    def conn(self) -> dict[str, Any]:
        """Picklable connection details for the latency consumer process."""
        raise NotImplementedError

    def create(self, topic: str) -> None:
        """Creates the topic/stream (outside the timed phases)."""
        raise NotImplementedError

    def prepare(self, topic: str, count: int, size: int) -> None:
        """Work before a produce phase that must not be timed (e.g. writing kcat's input file)."""

    def check_stored(self, topic: str, count: int) -> None:
        """After a produce phase: raises `BenchError` unless the server holds `count` more records."""

    def produce(self, topic: str, count: int, size: int) -> int:
        """Sends `count` records of `size` bytes as fast as the client allows; returns how many were acked."""
        raise NotImplementedError

    def consume(self, topic: str, count: int, size: int) -> int:
        """Reads the topic from its start until `count` records arrived; returns how many had `size` bytes."""
        raise NotImplementedError

    def latency_produce(self, topic: str, rate: int, count: int, size: int) -> int:
        """Sends WARMUP and waits for its ack, then `count` stamped records paced at `rate`/s, each acked;
        returns how many stamped records were acked."""
        raise NotImplementedError


def run_driver(driver: Driver, workdir: Path, small: int, large: int, rate: int, seconds: float,
               log: Callable[[str], None] = print, warmup_seconds: float = 1.0) -> Result:
    """The whole workload against one system."""
    workdir.mkdir(parents=True, exist_ok=True)
    driver.start(workdir)
    try:
        res = Result(driver.name, driver.system, driver.version(), driver.client, driver.durability)
        res.load_at_start = loadavg()
        time.sleep(1.0)
        res.idle_rss_kib = driver.server.rss_kib()
        for count, size, label in ((small, 100, "100B"), (large, 1024, "1KiB")):
            if count <= 0:
                continue
            topic = f"bench-{label.lower()}"
            driver.create(topic)
            driver.prepare(topic, count, size)
            ph = measure(driver.server, f"produce-{label}", count, size, lambda: driver.produce(topic, count, size))
            driver.check_stored(topic, count)
            log(f"  {driver.name} produce {count} x {label}: {ph.records_per_s:,.0f} rec/s {ph.mb_per_s:,.1f} MB/s "
                f"(server cpu {ph.server_cpu_s:.2f}s, client cpu {ph.client_cpu_s:.2f}s)")
            res.phases.append(ph)
            ph = measure(driver.server, f"consume-{label}", count, size, lambda: driver.consume(topic, count, size))
            log(f"  {driver.name} consume {count} x {label}: {ph.records_per_s:,.0f} rec/s {ph.mb_per_s:,.1f} MB/s "
                f"(server cpu {ph.server_cpu_s:.2f}s, client cpu {ph.client_cpu_s:.2f}s)")
            res.phases.append(ph)
        if seconds > 0:
            topic = "bench-latency"
            driver.create(topic)
            res.latency = run_latency(driver.server, driver.latency_module, driver.conn(), topic,
                                      driver.latency_produce, rate, seconds, warmup_seconds=warmup_seconds)
            lat = res.latency
            log(f"  {driver.name} latency at {rate}/s: {lat.received}/{lat.sent} received, p50 {lat.p50_ms} ms "
                f"p99 {lat.p99_ms} ms p999 {lat.p999_ms} ms max {lat.max_ms} ms")
            if lat.received != lat.sent:
                res.notes.append(f"latency run: {lat.received} of {lat.sent} records received")
        res.peak_rss_kib = driver.server.peak_rss_kib()
        res.peak_tree_rss_kib = driver.server.peak_tree_kib
        if not driver.server.alive():
            raise BenchError(f"{driver.name} server died:\n{driver.server.log_tail()}")
        return res
    finally:
        driver.stop()
