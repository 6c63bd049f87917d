"""Starts and stops a real `runnel serve` process for the compatibility suite.

A `Broker` owns one data directory and runs the binary in its own process group
(so a stop signal reaches every child).  It binds an ephemeral port
(`listeners=PLAINTEXT://127.0.0.1:0`) and learns the real port from the line
`runnel: listening on HOST:PORT` on stdout.  The metrics endpoint also binds an
ephemeral port (`metrics.listener=127.0.0.1:0`, unless the overrides set it) and
its URL is read from `runnel: metrics on http://HOST:PORT/metrics` into
`metrics_url` (None when disabled or not announced).  stderr (the logs) goes to a
file per start; `log_tail()` returns the end of every start's logs for failure
reports.

Every wait has a time limit: a hung broker fails a test instead of hanging CI.
"""

from __future__ import annotations

import atexit
import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LISTEN_RE = re.compile(r"runnel: listening on (\S+):(\d+)")
METRICS_RE = re.compile(r"runnel: metrics on (http://\S+)")

# Every broker that has been started and not yet closed; the conftest reports
# their logs when a test fails and the atexit hook kills any left over.
LIVE_BROKERS: list["Broker"] = []
_LIVE_LOCK = threading.Lock()


class BrokerError(RuntimeError):
    """The broker binary is missing, did not start, or did not stop in time."""


def resolve_binary() -> str:
    """Path of the `runnel` executable: $RUNNEL_BIN, `.build/debug/runnel`, or
    `$(swift build --show-bin-path)/runnel`; raises `BrokerError` if none exists."""
    env = os.environ.get("RUNNEL_BIN")
    if env:
        if os.path.isfile(env) and os.access(env, os.X_OK):
            return env
        raise BrokerError(f"RUNNEL_BIN={env!r} is not an executable file")
    default = REPO / ".build" / "debug" / "runnel"
    if default.is_file():
        return str(default)
    try:
        out = subprocess.run(
            ["swift", "build", "--show-bin-path"],
            cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
        )
        candidate = Path(out.stdout.strip()) / "runnel"
        if out.returncode == 0 and candidate.is_file():
            return str(candidate)
    except (OSError, subprocess.TimeoutExpired):
        pass
    raise BrokerError(
        "runnel binary not found: build it (`swift build --product runnel`) "
        "or point RUNNEL_BIN at it"
    )


class Broker:
    """One `runnel serve` process over one data directory (restartable)."""

    def __init__(self, binary: str, data_dir: Path, log_dir: Path,
                 overrides: dict[str, object] | None = None, name: str = "runnel"):
        self.binary = binary
        self.data_dir = Path(data_dir)
        self.log_dir = Path(log_dir)
        self.overrides = dict(overrides or {})
        self.name = name
        self.proc: subprocess.Popen | None = None
        self.host: str | None = None
        self.port: int | None = None
        # http://HOST:PORT/metrics of the running process, when its metrics endpoint is on.
        self.metrics_url: str | None = None
        self.starts = 0
        self.log_files: list[Path] = []
        self.returncodes: list[int] = []
        self._stdout_thread: threading.Thread | None = None
        self._stderr_fh = None

    # -- lifecycle -----------------------------------------------------------

    @property
    def bootstrap(self) -> str:
        if self.port is None:
            raise BrokerError(f"{self.name} is not running")
        return f"{self.host}:{self.port}"

    @property
    def health_url(self) -> str | None:
        """http://HOST:PORT/health beside `metrics_url` (None when metrics are off)."""
        if self.metrics_url is None:
            return None
        return self.metrics_url.rsplit("/", 1)[0] + "/health"

    @property
    def metrics_expected(self) -> bool:
        value = str(self.overrides.get("metrics.listener", "127.0.0.1:0")).strip()
        return value not in ("", "none")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def command(self) -> list[str]:
        args = [self.binary, "serve",
                "--override", "listeners=PLAINTEXT://127.0.0.1:0",
                "--log-dirs", str(self.data_dir)]
        if "metrics.listener" not in self.overrides:
            # An ephemeral port: parallel brokers never collide on the default 9644.
            args += ["--override", "metrics.listener=127.0.0.1:0"]
        for key, value in self.overrides.items():
            args += ["--override", f"{key}={value}"]
        return args

    def start(self, timeout: float = 30.0) -> "Broker":
        if self.running:
            raise BrokerError(f"{self.name} is already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        stem = f"{self.name}-{self.starts}"
        stderr_path = self.log_dir / f"{stem}.stderr.log"
        stdout_path = self.log_dir / f"{stem}.stdout.log"
        self.log_files += [stdout_path, stderr_path]
        self._stderr_fh = open(stderr_path, "wb")
        self.host = self.port = None
        self.metrics_url = None
        self.proc = subprocess.Popen(
            self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=self._stderr_fh, start_new_session=True, cwd=str(self.log_dir),
        )
        with _LIVE_LOCK:
            if self not in LIVE_BROKERS:
                LIVE_BROKERS.append(self)
        listening = threading.Event()
        metrics_announced = threading.Event()
        proc = self.proc

        def pump() -> None:
            # Drains stdout for the process lifetime (so it never blocks on a
            # full pipe) and records the announced address.
            assert proc.stdout is not None
            with open(stdout_path, "wb") as out:
                for line in iter(proc.stdout.readline, b""):
                    out.write(line)
                    out.flush()
                    text = line.decode("utf-8", "replace")
                    if not listening.is_set():
                        m = LISTEN_RE.search(text)
                        if m:
                            self.host, self.port = m.group(1), int(m.group(2))
                            listening.set()
                    if not metrics_announced.is_set():
                        m = METRICS_RE.search(text)
                        if m:
                            self.metrics_url = m.group(1)
                            metrics_announced.set()
            listening.set()
            metrics_announced.set()

        self._stdout_thread = threading.Thread(target=pump, name=f"{stem}-stdout", daemon=True)
        self._stdout_thread.start()
        if not listening.wait(timeout) or self.port is None:
            code = proc.poll()
            self.kill()
            raise BrokerError(
                f"{self.name} did not announce 'runnel: listening on HOST:PORT' within "
                f"{timeout:.0f}s (exit code {code}); command: {' '.join(self.command())}\n"
                + self.log_tail())
        # The metrics line follows the listening line(s) at once; a binary that
        # predates it (or a disabled endpoint) leaves metrics_url None.
        if self.metrics_expected:
            metrics_announced.wait(5)
        # The announcement should mean the socket is bound; confirm it accepts.
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection((self.host, self.port), timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    self.kill()
                    raise BrokerError(f"{self.name} announced {self.bootstrap} but does not accept "
                                      "connections\n" + self.log_tail())
                time.sleep(0.05)
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Sends `sig` to the process group and waits; escalates to SIGKILL after
        `timeout` seconds and then raises. Returns the exit code."""
        proc = self.proc
        if proc is None:
            raise BrokerError(f"{self.name} was never started")
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise BrokerError(f"{self.name} did not exit within {timeout:.0f}s of signal {sig}\n"
                              + self.log_tail())
        self._reap()
        return code

    def crash(self) -> int:
        """SIGKILL: no chance to flush or write a clean-shutdown marker."""
        return self.stop(signal.SIGKILL, timeout=10)

    def kill(self) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        self._reap()

    def _reap(self) -> None:
        proc = self.proc
        if proc is not None and proc.returncode is not None and \
                len(self.returncodes) < self.starts:
            self.returncodes.append(proc.returncode)
        if self._stdout_thread is not None:
            self._stdout_thread.join(5)
            self._stdout_thread = None
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()
        if self._stderr_fh is not None:
            self._stderr_fh.close()
            self._stderr_fh = None
        self.port = None
        self.metrics_url = None

    def restart(self, sig: int = signal.SIGTERM) -> "Broker":
        if self.running:
            self.stop(sig)
        return self.start()

    def close(self) -> None:
        """Kills the process if it still runs (fixtures' finalizer)."""
        self.kill()
        with _LIVE_LOCK:
            if self in LIVE_BROKERS:
                LIVE_BROKERS.remove(self)

    # -- diagnostics ---------------------------------------------------------

    def log_tail(self, max_bytes: int = 12000) -> str:
        parts = []
        for path in self.log_files[-4:]:
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if not data:
                continue
            cut = data[-max_bytes:]
            prefix = "...\n" if len(data) > max_bytes else ""
            parts.append(f"--- {path} ---\n{prefix}{cut.decode('utf-8', 'replace')}")
        return "\n".join(parts) if parts else "(no broker output)"

    def partition_dir(self, topic: str, partition: int) -> Path:
        return self.data_dir / f"{topic}-{partition}"


@atexit.register
def _kill_leftovers() -> None:
    for broker in list(LIVE_BROKERS):
        broker.kill()
