"""Trace generators for the read-cache simulation.

A trace is a list of events `(op, key, size, cls)`:
- op "A": a producer appended the batch `key` (the broker writes it through to the cache, origin "append");
- op "W": no cache operation; only advances the driver's warm-up clock by `size` bytes;
- op "R": a consumer read the batch `key` (class `cls` is "tail", "scan" or "replay" for the report).
`key = (partition, batch index)`; `size` is the batch's bytes. All randomness comes from `random.Random(seed)`.

Time is measured in appended bytes: a tail reader with lag L reads a batch once L more bytes have been appended
to the whole broker after it, which is what decides whether a write-through batch survives until it is read.
"""

import bisect
import random

PARTITIONS = 16


def batch_size(rng, profile):
    """Batch bytes, log-uniform within the partition's profile (small: 0.5-4 KiB, medium: 8-64 KiB,
    large: 128 KiB-1 MiB)."""
    low, high = {"small": (512, 4096), "medium": (8192, 65536), "large": (131072, 1048576)}[profile]
    return int(low * (high / low) ** rng.random())


def _profiles(rng):
    kinds = ["small"] * 6 + ["medium"] * 7 + ["large"] * 3
    rng.shuffle(kinds)
    return kinds


class _Producers:
    """16 partitions with different batch-size profiles and append rates; keeps, per partition, the batches'
    sizes and the global appended-bytes clock at which each was appended."""

    def __init__(self, rng):
        self.rng = rng
        self.profiles = _profiles(rng)
        self.weights = [rng.uniform(0.5, 2.0) for _ in range(PARTITIONS)]
        self.sizes = [[] for _ in range(PARTITIONS)]
        self.times = [[] for _ in range(PARTITIONS)]
        self.clock = 0

    def append(self, events):
        p = self.rng.choices(range(PARTITIONS), weights=self.weights)[0]
        size = batch_size(self.rng, self.profiles[p])
        index = len(self.sizes[p])
        self.sizes[p].append(size)
        self.clock += size
        self.times[p].append(self.clock)
        events.append(("A", (p, index), size, "tail"))
        return size


class _TailReaders:
    """One consumer per partition, each `lag` appended bytes behind the broker-wide tail."""

    def __init__(self, producers, lags):
        self.producers = producers
        self.lags = lags
        self.positions = [0] * PARTITIONS

    def catch_up(self, events):
        prod = self.producers
        for p in range(PARTITIONS):
            limit = prod.clock - self.lags[p]
            times = prod.times[p]
            i = self.positions[p]
            while i < len(times) and times[i] <= limit:
                events.append(("R", (p, i), prod.sizes[p][i], "tail"))
                i += 1
            self.positions[p] = i


def tail_lags(rng, cache_bytes, high_fraction):
    """Per-reader lags, uniform in [2%, high_fraction] of the cache, in broker-wide appended bytes."""
    return [int(cache_bytes * rng.uniform(0.02, high_fraction)) for _ in range(PARTITIONS)]


def trace_tail_and_scan(cache_bytes, seed, append_total_factor=6, scan_rate=2.0):
    """(a) 16 tail readers + one sequential scanner over a history 16x the cache (a consumer replaying a topic
    from the beginning), reading `scan_rate` bytes per appended byte, every read a disk miss then an `.read`
    insert. The history's batches pre-date the trace (never written through)."""
    rng = random.Random(seed)
    prod = _Producers(rng)
    readers = _TailReaders(prod, tail_lags(rng, cache_bytes, 0.5))
    history = []
    total = 0
    while total < 16 * cache_bytes:
        size = batch_size(rng, "medium")
        history.append(size)
        total += size
    events = []
    scan_i = 0
    scan_credit = 0.0
    while prod.clock < append_total_factor * cache_bytes:
        appended = prod.append(events)
        readers.catch_up(events)
        scan_credit += appended * scan_rate
        while scan_credit > 0 and scan_i < len(history):
            events.append(("R", ("history", scan_i), history[scan_i], "scan"))
            scan_credit -= history[scan_i]
            scan_i += 1
    return events


def trace_zipf_replay(cache_bytes, seed, append_total_factor=6, replay_rate=1.0, zipf_s=1.0, replayers=8):
    """(b) Tail readers plus `replayers` consumers replaying history: each picks a partition and a start among
    64 recent "replay points" (Zipf-ranked by recency: restarts from recent commits/timestamps are most common,
    s = `zipf_s`), reads 0.02-0.1 x cache bytes sequentially, then picks again. Histories: 2x the cache per
    partition (32x in total), appended before the trace starts (not in the cache)."""
    rng = random.Random(seed)
    prod = _Producers(rng)
    history_bytes = 2 * cache_bytes
    # Pre-fill history by appending without events (they were written through long ago and evicted since).
    for p in range(PARTITIONS):
        filled = 0
        while filled < history_bytes:
            size = batch_size(rng, prod.profiles[p])
            prod.sizes[p].append(size)
            filled += size
            prod.times[p].append(-1)
    prod.clock = 0
    readers = _TailReaders(prod, tail_lags(rng, cache_bytes, 0.5))
    readers.positions = [len(prod.sizes[p]) for p in range(PARTITIONS)]
    points = 64
    weights = [1.0 / (rank + 1) ** zipf_s for rank in range(points)]
    pweights = [1.0 / (rank + 1) ** zipf_s for rank in range(PARTITIONS)]
    prefix = []
    for p in range(PARTITIONS):
        acc, sums = 0, []
        for s in prod.sizes[p]:
            acc += s
            sums.append(acc)
        prefix.append(sums)

    def new_replay():
        p = rng.choices(range(PARTITIONS), weights=pweights)[0]
        rank = rng.choices(range(points), weights=weights)[0]
        hist_len = prefix[p][-1]
        # Rank 0 = most recent replay point; points are evenly spaced over the partition's history.
        start_byte = hist_len - (rank + 1) * hist_len // points
        i = bisect.bisect_left(prefix[p], max(1, start_byte))
        length = int(cache_bytes * rng.uniform(0.02, 0.1))
        return [p, i, length]

    active = [new_replay() for _ in range(replayers)]
    events = []
    credit = 0.0
    history_counts = [len(prod.sizes[p]) for p in range(PARTITIONS)]
    while prod.clock < append_total_factor * cache_bytes:
        appended = prod.append(events)
        readers.catch_up(events)
        credit += appended * replay_rate
        while credit > 0:
            r = active[rng.randrange(replayers)]
            p, i, left = r
            if left <= 0 or i >= history_counts[p]:
                active[active.index(r)] = new_replay()
                continue
            size = prod.sizes[p][i]
            events.append(("R", (p, i), size, "replay"))
            credit -= size
            r[1] += 1
            r[2] -= size
    return events


def trace_tail_only(cache_bytes, seed, append_total_factor=6, groups=1):
    """(c) Only tail readers: `groups` consumer groups, each with one reader per partition, lags up to 0.9x the
    cache (some readers nearly a cache behind)."""
    rng = random.Random(seed)
    prod = _Producers(rng)
    readers = [_TailReaders(prod, tail_lags(rng, cache_bytes, 0.9)) for _ in range(groups)]
    events = []
    while prod.clock < append_total_factor * cache_bytes:
        prod.append(events)
        for group in readers:
            group.catch_up(events)
    return events


def trace_tail_groups(cache_bytes, seed):
    """(d) Like (c) with 3 consumer groups: every tail batch is read 3 times at different lags."""
    return trace_tail_only(cache_bytes, seed, groups=3)


def trace_zipf_reads(cache_bytes, seed, accesses=150_000, zipf_s=0.9):
    """(e) Sanity check of the implementations on the classic workload: no appends, Zipf(`zipf_s`) reads over
    items 8x the cache (scan-resistant policies should beat LRU and FIFO here)."""
    rng = random.Random(seed)
    sizes, total = [], 0
    while total < 8 * cache_bytes:
        sizes.append(batch_size(rng, "medium"))
        total += sizes[-1]
    order = list(range(len(sizes)))
    rng.shuffle(order)
    weights = [1.0 / (rank + 1) ** zipf_s for rank in range(len(sizes))]
    picks = rng.choices(order, weights=weights, k=accesses)
    # The driver's warm-up is measured in appended bytes; a "W" event advances that clock without an append,
    # ending the warm-up after a third of the trace.
    events = [("R", ("item", i), sizes[i], "replay") for i in picks]
    events.insert(len(events) // 3, ("W", None, cache_bytes, "tail"))
    return events


TRACES = {
    "a: 16 tail + 16x scanner": trace_tail_and_scan,
    "b: tail + Zipf replay": trace_zipf_replay,
    "c: tail only": trace_tail_only,
    "d: tail only, 3 consumer groups": trace_tail_groups,
    "e: Zipf reads only (sanity check)": trace_zipf_reads,
}
