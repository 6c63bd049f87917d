#!/usr/bin/env python3
"""Read-cache policy simulation for Runnel (see README.md).

Replays each trace of traces.py against each policy of policies.py with a byte budget and prints a Markdown table
of byte hit ratios: tail readers, the scanner / replayers ("cold"), and overall. Appends are written through
(`insert(..., "append")`); a read miss is followed by `insert(..., "read")`, as the broker does (a policy with
a cold-admission gate may only remember the key).
Statistics start after a warm-up of one cache's worth of appended bytes.

    python3 tools/cachesim/cachesim.py --cache-mib 64 --seeds 1 2 3
"""

import argparse
import sys

from policies import make_policies
from traces import TRACES


def run(policy, events, warmup_bytes):
    appended = 0
    hit = {"tail": 0, "cold": 0}
    total = {"tail": 0, "cold": 0}
    for op, key, size, cls in events:
        if op == "W":
            appended += size
            continue
        if op == "A":
            policy.insert(key, size, "append")
            appended += size
            continue
        is_hit = policy.access(key)
        if not is_hit:
            policy.insert(key, size, "read")
        if appended >= warmup_bytes:
            group = "tail" if cls == "tail" else "cold"
            total[group] += size
            if is_hit:
                hit[group] += size
        used = getattr(policy, "used", None)
        if used is not None and used > policy.capacity:
            raise AssertionError(f"{policy.name} over budget: {used} > {policy.capacity}")
    return hit, total


def ratio(h, t):
    return f"{100.0 * h / t:5.1f}%" if t else "   - "


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache-mib", type=int, default=64)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    capacity = args.cache_mib * 1024 * 1024
    print(f"Byte hit ratios, cache {args.cache_mib} MiB, seeds {args.seeds} (sums over seeds).\n")
    for trace_name, generate in TRACES.items():
        sums = {}
        event_count = 0
        for seed in args.seeds:
            events = generate(capacity, seed)
            event_count += len(events)
            for policy in make_policies(capacity):
                hit, total = run(policy, events, warmup_bytes=capacity)
                acc = sums.setdefault(policy.name, {"th": 0, "tt": 0, "ch": 0, "ct": 0, "adm": 0, "miss": 0})
                acc["adm"] += getattr(policy, "cold_admitted", -1)
                acc["miss"] += total["cold"] - hit["cold"]
                acc["th"] += hit["tail"]
                acc["tt"] += total["tail"]
                acc["ch"] += hit["cold"]
                acc["ct"] += total["cold"]
        print(f"### Trace {trace_name}\n")
        print(f"{event_count} events over {len(args.seeds)} seeds.\n")
        print("| policy | tail byte hit | cold (scan/replay) byte hit | overall byte hit | cold bytes read back |")
        print("|---|---:|---:|---:|---:|")
        for name, acc in sums.items():
            overall = ratio(acc["th"] + acc["ch"], acc["tt"] + acc["ct"])
            # Bytes of cold misses copied into the cache, over the whole run (S3-FIFO variants only).
            adm = f"{acc['adm'] / 2**20:,.0f} MiB" if acc["adm"] >= 0 else "-"
            print(f"| {name} | {ratio(acc['th'], acc['tt'])} | {ratio(acc['ch'], acc['ct'])} | {overall} | {adm} |")
        print()
        sys.stdout.flush()


if __name__ == "__main__":
    main()
