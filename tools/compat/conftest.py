"""Fixtures for the Runnel compatibility suite: a real broker process per module
(`broker`) or per test (`broker_factory`), per-test time limits, and the broker's
logs attached to every failure report."""

from __future__ import annotations

import os
import signal
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from runnel_harness import LIVE_BROKERS, Broker, BrokerError, resolve_binary  # noqa: E402

DEFAULT_TEST_TIMEOUT_S = 120


class SuiteTimeout(Exception):
    """A test ran past its time limit (see the `timeout` marker)."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", f"timeout(seconds): time limit for the test body (default {DEFAULT_TEST_TIMEOUT_S} s)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    marker = item.get_closest_marker("timeout")
    seconds = float(marker.args[0]) if marker else DEFAULT_TEST_TIMEOUT_S

    def on_alarm(signum, frame):
        raise SuiteTimeout(f"{item.nodeid} exceeded its {seconds:.0f} s time limit")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.when in ("setup", "call"):
        for broker in list(LIVE_BROKERS):
            report.sections.append((f"runnel logs ({broker.name})", broker.log_tail()))


@pytest.fixture(scope="session")
def runnel_bin() -> str:
    try:
        return resolve_binary()
    except BrokerError as error:
        pytest.fail(str(error), pytrace=False)


def _start(runnel_bin, tmp_path_factory, name, overrides):
    base = tmp_path_factory.mktemp(name)
    broker = Broker(runnel_bin, base / "data", base / "logs", overrides, name=name)
    try:
        broker.start()
    except BrokerError as error:
        broker.close()
        pytest.fail(str(error), pytrace=False)
    return broker


@pytest.fixture(scope="module")
def broker(runnel_bin, tmp_path_factory, request):
    """A broker shared by one test module, on a fresh data directory.
    A module may set `BROKER_OVERRIDES = {"key": value}` for extra `--override`s."""
    overrides = getattr(request.module, "BROKER_OVERRIDES", {})
    name = request.module.__name__.rsplit(".", 1)[-1]
    b = _start(runnel_bin, tmp_path_factory, name, overrides)
    yield b
    b.close()


@pytest.fixture
def broker_factory(runnel_bin, tmp_path_factory, request):
    """Starts extra brokers for one test (each on its own data dir); all are
    killed at teardown. Call `broker_factory(overrides={...})`."""
    started: list[Broker] = []

    def make(overrides=None) -> Broker:
        b = _start(runnel_bin, tmp_path_factory, f"fn-{len(started)}", overrides or {})
        started.append(b)
        return b

    yield make
    for b in started:
        b.close()


@pytest.fixture
def topic_name(request) -> str:
    """A topic name unique to the test (Kafka-legal characters only)."""
    base = "".join(c if c.isalnum() else "-" for c in request.node.name)[:60].strip("-")
    return f"{base}-{uuid.uuid4().hex[:8]}"
