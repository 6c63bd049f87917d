"""Runs the peer benchmark: every selected system one at a time, then one table, a JSON file and a chart.

  tools/.venv/bin/python -m peers [--bin RUNNEL] [--records-100b N] [--records-1k N] [--latency-seconds S]
                                  [--rate R] [--only runnel,nats,...] [--json PATH] [--png PATH]
(run from tools/bench, or use `tools/bench/run.sh peers`, which installs the peers and builds Runnel first).

Systems: runnel (kcat), runnel-py (confluent-kafka), runnel-nocache (kcat, log.cache.max.bytes=0), nats,
redis (redis-py), redis-bench (produce with redis-benchmark, Redis's C load generator), rabbitmq.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path

from .common import BenchError, Driver, Result, loadavg, run_driver

REPO = Path(__file__).resolve().parents[3]
ALL = ["runnel", "runnel-py", "runnel-nocache", "nats", "redis", "redis-bench", "rabbitmq"]
PEERS = ["nats", "redis", "redis-bench", "rabbitmq"]


def make_driver(name: str, runnel_bin: str | None) -> Driver:
    if name.startswith("runnel"):
        from .runnel_driver import RunnelDriver

        if not runnel_bin:
            raise BenchError("--bin (the runnel release binary) is required for the runnel rows")
        if name == "runnel":
            return RunnelDriver(runnel_bin, "kcat", None, name)
        if name == "runnel-py":
            return RunnelDriver(runnel_bin, "confluent-kafka", None, name)
        if name == "runnel-nocache":
            return RunnelDriver(runnel_bin, "kcat", 0, name)
    if name == "nats":
        from .nats_driver import NatsDriver
        return NatsDriver()
    if name in ("redis", "redis-bench"):
        from .redis_driver import RedisDriver
        return RedisDriver("redis-py" if name == "redis" else "redis-benchmark", name)
    if name == "rabbitmq":
        from .rabbitmq_driver import RabbitmqDriver
        return RabbitmqDriver()
    raise BenchError(f"unknown system {name!r} (known: {', '.join(ALL)})")


def machine() -> dict:
    mem = next((ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines()
                if ln.startswith("MemTotal:")), "?")
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), "?")
    return {"cpu": cpu, "cores": os.cpu_count(), "mem_gib": round(int(mem) / 1024 / 1024, 1),
            "kernel": platform.release(), "python": platform.python_version()}


def _rate(res: Result, phase: str) -> float:
    p = res.phase(phase)
    return p.records_per_s if p else float("nan")


def _mb(res: Result, phase: str) -> float:
    p = res.phase(phase)
    return p.mb_per_s if p else float("nan")


def _cpu(res: Result, phase: str, attr: str = "server_cpu_s") -> str:
    p = res.phase(phase)
    return f"{getattr(p, attr):.2f}" if p else "-"


def _ratio(a: float, b: float) -> str:
    if a != a or b != b or b == 0:
        return "-"
    return f"{a / b:.2f}x"


def table(results: list[Result]) -> str:
    head = (f"{'system':<15}|{'prod 100B rec/s':>16} {'MB/s':>6} |{'prod 1KiB rec/s':>16} {'MB/s':>6} |"
            f"{'cons 100B rec/s':>16} {'MB/s':>6} |{'cons 1KiB rec/s':>16} {'MB/s':>6} |"
            f"{'p50 ms':>7} {'p99 ms':>7} {'p999 ms':>8} |{'peak RSS MB':>12} |"
            f" server CPU s p100/c100/p1k/c1k/lat | client CPU s p100/c100/p1k/c1k")
    lines = [head, "-" * len(head)]
    for r in results:
        lat = r.latency
        lat_s = (f"{lat.p50_ms:>7.2f} {lat.p99_ms:>7.2f} {lat.p999_ms:>8.2f}" if lat else f"{'-':>7} {'-':>7} {'-':>8}")
        srv = "/".join(_cpu(r, p) for p in ("produce-100B", "consume-100B", "produce-1KiB", "consume-1KiB"))
        srv += f"/{lat.server_cpu_s:.2f}" if lat else "/-"
        cli = "/".join(_cpu(r, p, "client_cpu_s") for p in ("produce-100B", "consume-100B", "produce-1KiB",
                                                            "consume-1KiB"))
        lines.append(
            f"{r.name:<15}|{_rate(r, 'produce-100B'):>16,.0f} {_mb(r, 'produce-100B'):>6.1f} |"
            f"{_rate(r, 'produce-1KiB'):>16,.0f} {_mb(r, 'produce-1KiB'):>6.1f} |"
            f"{_rate(r, 'consume-100B'):>16,.0f} {_mb(r, 'consume-100B'):>6.1f} |"
            f"{_rate(r, 'consume-1KiB'):>16,.0f} {_mb(r, 'consume-1KiB'):>6.1f} |{lat_s} |"
            f"{r.peak_rss_kib / 1024:>12.1f} | {srv:<35} | {cli}")
    by_name = {r.name: r for r in results}
    peers = [by_name[p] for p in PEERS if p in by_name]
    phases = ("produce-100B", "produce-1KiB", "consume-100B", "consume-1KiB")
    # "runnel best": per figure, the faster of Runnel's two clients (kcat, confluent-kafka), default config;
    # "runnel-py": Python client against Python clients. RSS "cache off" is the runnel-nocache row.
    refs: list[tuple[str, dict[str, float], float, float]] = []
    runnel_rows = [by_name[n] for n in ("runnel", "runnel-py") if n in by_name]
    if runnel_rows:
        best = {ph: max(_rate(r, ph) for r in runnel_rows) for ph in phases}
        p99s = [r.latency.p99_ms for r in runnel_rows if r.latency]
        refs.append(("runnel best", best, min(p99s) if p99s else float("nan"),
                     min(r.peak_rss_kib for r in runnel_rows)))
    if "runnel-py" in by_name:
        r = by_name["runnel-py"]
        refs.append(("runnel-py", {ph: _rate(r, ph) for ph in phases},
                     r.latency.p99_ms if r.latency else float("nan"), r.peak_rss_kib))
    nocache = by_name.get("runnel-nocache")
    if refs and peers:
        # the targets: each figure against the best peer for that figure
        _, rates, p99, rss = refs[0]
        parts = []
        for ph in phases:
            top = max(peers, key=lambda p: _rate(p, ph) if _rate(p, ph) == _rate(p, ph) else -1)
            parts.append(f"{ph} {_ratio(rates[ph], _rate(top, ph))} (best peer {top.name})")
        lat_peers = [p for p in peers if p.latency]
        if lat_peers:
            top = min(lat_peers, key=lambda p: p.latency.p99_ms)
            parts.append(f"p99 {_ratio(p99, top.latency.p99_ms)} (best peer {top.name}, lower is better)")
        top = min(peers, key=lambda p: p.peak_rss_kib)
        parts.append(f"peak RSS cache off {_ratio(nocache.peak_rss_kib, top.peak_rss_kib) if nocache else '-'}"
                     f" (smallest peer {top.name})")
        lines.append("runnel best vs best peer:  " + "; ".join(parts))
    for ref_name, rates, p99, rss in refs:
        for peer in peers:
            rss_off = _ratio(nocache.peak_rss_kib, peer.peak_rss_kib) if nocache else "-"
            peer_p99 = peer.latency.p99_ms if peer.latency else float("nan")
            lines.append(
                f"{ref_name + ' / ' + peer.name:<26} produce 100B {_ratio(rates['produce-100B'], _rate(peer, 'produce-100B'))}"
                f", 1KiB {_ratio(rates['produce-1KiB'], _rate(peer, 'produce-1KiB'))};"
                f" consume 100B {_ratio(rates['consume-100B'], _rate(peer, 'consume-100B'))}"
                f", 1KiB {_ratio(rates['consume-1KiB'], _rate(peer, 'consume-1KiB'))};"
                f" p99 {_ratio(p99, peer_p99)} (lower is better); peak RSS {_ratio(rss, peer.peak_rss_kib)}"
                f" (cache off: {rss_off})")
    return "\n".join(lines)


def _log_if_positive(ax) -> None:
    heights = [p.get_height() for p in ax.patches]
    if any(h > 0 for h in heights if h == h):
        ax.set_yscale("log")


def chart(results: list[Result], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r.name for r in results]
    colors = {"runnel": "#1f77b4", "runnel-py": "#6baed6", "runnel-nocache": "#9ecae1", "nats": "#2ca02c",
              "redis": "#d62728", "redis-bench": "#f08080", "rabbitmq": "#ff7f0e"}
    fig, axes = plt.subplots(1, 4, figsize=(20, 6), gridspec_kw={"width_ratios": [2.2, 1.4, 1.6, 1.1]})
    groups = [("produce-100B", "produce 100 B"), ("consume-100B", "consume 100 B"),
              ("produce-1KiB", "produce 1 KiB"), ("consume-1KiB", "consume 1 KiB")]
    width = 0.8 / max(1, len(results))
    ax = axes[0]
    for i, r in enumerate(results):
        ys = [_rate(r, g) for g, _ in groups]
        xs = [j + i * width for j in range(len(groups))]
        ax.bar(xs, ys, width, label=r.name, color=colors.get(r.name))
    ax.set_xticks([j + width * (len(results) - 1) / 2 for j in range(len(groups))], [g for _, g in groups])
    _log_if_positive(ax)
    ax.set_ylabel("records/s (log)")
    ax.set_title("throughput (every record acked; all consumed)")
    ax.grid(axis="y", alpha=0.3, which="both")

    ax = axes[1]
    lat_rows = [r for r in results if r.latency]
    qs = [("p50_ms", "p50"), ("p99_ms", "p99"), ("p999_ms", "p999")]
    width2 = 0.8 / max(1, len(lat_rows))
    for i, r in enumerate(lat_rows):
        xs = [j + i * width2 for j in range(len(qs))]
        ax.bar(xs, [getattr(r.latency, q) for q, _ in qs], width2, label=r.name, color=colors.get(r.name))
    ax.set_xticks([j + width2 * (len(lat_rows) - 1) / 2 for j in range(len(qs))], [q for _, q in qs])
    _log_if_positive(ax)
    ax.set_ylabel("ms (log)")
    rate = lat_rows[0].latency.rate if lat_rows else 0
    ax.set_title(f"end-to-end latency at {rate:,} records/s")
    ax.grid(axis="y", alpha=0.3, which="both")

    ax = axes[2]
    # server CPU per million records: what the server itself spends, whatever the client's speed
    for i, r in enumerate(results):
        ys = []
        for g, _ in groups:
            p = r.phase(g)
            ys.append(p.server_cpu_s / p.records * 1e6 if p and p.records else float("nan"))
        xs = [j + i * width for j in range(len(groups))]
        ax.bar(xs, ys, width, label=r.name, color=colors.get(r.name))
    ax.set_xticks([j + width * (len(results) - 1) / 2 for j in range(len(groups))],
                  [g.replace(" ", "\n", 1) for _, g in groups])
    _log_if_positive(ax)
    ax.set_ylabel("server CPU s per 1M records (log)")
    ax.set_title("server CPU time (utime+stime)")
    ax.grid(axis="y", alpha=0.3, which="both")

    ax = axes[3]
    ax.bar(names, [r.peak_rss_kib / 1024 for r in results], color=[colors.get(n) for n in names])
    ax.set_ylabel("MiB")
    ax.set_title("peak server RSS (VmHWM)")
    ax.tick_params(axis="x", rotation=40)
    ax.grid(axis="y", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(results), fontsize=9, frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.environ.get("RUNNEL_BIN"), help="runnel release binary")
    ap.add_argument("--records-100b", type=int, default=1_000_000)
    ap.add_argument("--records-1k", type=int, default=200_000)
    ap.add_argument("--latency-seconds", type=float, default=10.0)
    ap.add_argument("--rate", type=int, default=10_000, help="records/s of the latency run")
    ap.add_argument("--only", default=",".join(ALL), help=f"comma-separated subset of {','.join(ALL)}")
    ap.add_argument("--json", default=None, help="default: tools/bench/results/peers-YYYY-MM-DD.json")
    ap.add_argument("--png", default=None, help="default: docs/bench/peers.png")
    ap.add_argument("--no-output", action="store_true", help="print the table only (no JSON, no chart)")
    args = ap.parse_args(argv)

    names = [n.strip() for n in args.only.split(",") if n.strip()]
    day = time.strftime("%Y-%m-%d")
    load_before = loadavg()
    results: list[Result] = []
    failures: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="runnel-peers-") as tmp:
        for name in names:
            print(f"== {name}", file=sys.stderr, flush=True)
            try:
                driver = make_driver(name, args.bin)
                results.append(run_driver(driver, Path(tmp) / name, args.records_100b, args.records_1k, args.rate,
                                          args.latency_seconds, log=lambda s: print(s, file=sys.stderr, flush=True)))
            except Exception as error:  # one system failing must not lose the others' figures
                traceback.print_exc()
                failures[name] = f"{type(error).__name__}: {error}"
    title = (f"{args.records_100b:,} x 100 B and {args.records_1k:,} x 1 KiB, latency at {args.rate:,}/s for "
             f"{args.latency_seconds:g} s; {machine()['cores']} cores, clients on the same machine; {day}")
    print(f"# peer benchmark: {title}")
    print(f"# load average before {load_before}, after {loadavg()}")
    print(table(results))
    for r in results:
        print(f"# {r.name}: {r.version}; client {r.client}; durability: {r.durability}; load at start {r.load_at_start}"
              + (f"; notes: {'; '.join(r.notes)}" if r.notes else ""))
    for name, why in failures.items():
        print(f"# {name}: FAILED: {why}")
    if not args.no_output and results:
        doc = {"date": day, "machine": machine(), "load_before": load_before, "load_after": loadavg(),
               "args": vars(args), "results": [r.to_json() for r in results], "failures": failures}
        jpath = Path(args.json) if args.json else REPO / "tools" / "bench" / "results" / f"peers-{day}.json"
        jpath.parent.mkdir(parents=True, exist_ok=True)
        jpath.write_text(json.dumps(doc, indent=1) + "\n")
        ppath = Path(args.png) if args.png else REPO / "docs" / "bench" / "peers.png"
        chart(results, ppath, title)
        print(f"# wrote {jpath} and {ppath}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
