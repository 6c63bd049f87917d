"""Byte-budgeted cache policies for the read-cache simulation.

Every policy holds items (a key and a byte size) within `capacity` bytes and offers:

- `insert(key, size, origin)`: `origin` is "append" (write-through of the log tail) or "read" (cold data a
  lagging consumer just read from disk). Origin-blind policies ignore it.
- `access(key) -> bool`: a consumer read of one batch; True on a hit (and the policy's hit bookkeeping).

Items bigger than the capacity are never admitted. A miss is followed by `insert(key, size, "read")` from the
driver, exactly like the broker: read from disk, then offer the bytes to the cache.
"""

from collections import OrderedDict


class LRU:
    """Plain LRU: insert at MRU, hit moves to MRU, evict from LRU."""

    name = "LRU"

    def __init__(self, capacity):
        self.capacity = capacity
        self.used = 0
        self.items = OrderedDict()  # key -> size, LRU first

    def access(self, key):
        if key in self.items:
            self.items.move_to_end(key)
            return True
        return False

    def insert(self, key, size, origin):
        if size > self.capacity or key in self.items:
            return
        while self.used + size > self.capacity:
            _, evicted = self.items.popitem(last=False)
            self.used -= evicted
        self.items[key] = size
        self.used += size
        self._placed(key, origin)

    def _placed(self, key, origin):
        pass


class LRUColdAtTail(LRU):
    """LRU that inserts cold (.read) items at the LRU end (evicted first unless hit again): the cheapest
    origin-aware variant (like BIP/LIP insertion)."""

    name = "LRU+cold-at-tail"

    def _placed(self, key, origin):
        if origin == "read":
            self.items.move_to_end(key, last=False)


class FIFO(LRU):
    """FIFO: hits do not reorder (reference point)."""

    name = "FIFO"

    def access(self, key):
        return key in self.items


class SIEVE:
    """SIEVE (Zhang et al., NSDI'24): one FIFO queue, a visited bit per item, a hand moving from the oldest item
    towards the newest; visited items the hand passes are kept (bit cleared), the first unvisited one is evicted.
    New items enter at the head (newest end)."""

    name = "SIEVE"

    def __init__(self, capacity, cold_at_hand=False):
        self.capacity = capacity
        self.used = 0
        self.size = {}
        self.visited = {}
        self.newer = {}  # key -> the next newer key (None at the head)
        self.older = {}  # key -> the next older key (None at the tail)
        self.head = None  # newest
        self.tail = None  # oldest
        self.hand = None
        self.cold_at_hand = cold_at_hand
        if cold_at_hand:
            self.name = "SIEVE+cold-at-hand"

    def access(self, key):
        if key in self.size:
            self.visited[key] = True
            return True
        return False

    def _unlink(self, key):
        newer, older = self.newer.pop(key), self.older.pop(key)
        if newer is None:
            self.head = older
        else:
            self.older[newer] = older
        if older is None:
            self.tail = newer
        else:
            self.newer[older] = newer
        self.used -= self.size.pop(key)
        del self.visited[key]

    def _evict(self):
        hand = self.hand if self.hand is not None else self.tail
        while self.visited[hand]:
            self.visited[hand] = False
            hand = self.newer[hand]
            if hand is None:
                hand = self.tail
        self.hand = self.newer[hand]
        self._unlink(hand)

    def insert(self, key, size, origin):
        if size > self.capacity or key in self.size:
            return
        while self.used + size > self.capacity:
            self._evict()
        self.size[key] = size
        self.visited[key] = False
        self.used += size
        if self.cold_at_hand and origin == "read" and self.hand is not None:
            # Insert just newer than... no: just *at* the hand, so it is the next candidate.
            older = self.older[self.hand]
            self.older[key], self.newer[key] = older, self.hand
            self.older[self.hand] = key
            if older is None:
                self.tail = key
            else:
                self.newer[older] = key
            self.hand = key
            return
        self.older[key], self.newer[key] = self.head, None
        if self.head is not None:
            self.newer[self.head] = key
        self.head = key
        if self.tail is None:
            self.tail = key


class S3FIFO:
    """S3-FIFO (Yang et al., SOSP'23): a small FIFO S (10% of bytes), a main FIFO M with reinsertion (2-bit
    frequency) and a ghost FIFO G of keys recently evicted from S (as many bytes as M).

    `origin_aware=True` is the Kafka variant: write-through (append) items go straight to M, because a tail
    batch is known to be wanted soon even though nobody has read it yet; cold (read) items enter S on probation and
    reach M only if read again while in S or within the ghost's memory.
    `fifo_main=True`: M is a plain FIFO (no reinsertion). Tail batches are read once per consumer group, soon after
the append, so a read says nothing about a future read; reinsertion would keep consumed batches instead of unread
ones.
`credit_appended=False`: reads of write-through items do not raise their frequency (same reason), while cold
items promoted from S keep S3-FIFO's reinsertion (they proved reuse).
`promote_threshold`: minimum frequency for S -> M (1: read once more after admission).
`cold_gate`: None admits every cold miss to S. "probation" or "main" gate cold admission on the ghost: a cold
miss whose key the ghost does not hold is only remembered there (no bytes cached, nothing evicted, and the broker
reads nothing back); a miss the ghost remembers (read before, recently) is admitted to S ("probation") or M
("main"). A sequential scan read once then costs the cache nothing but ghost keys.
    """

    def __init__(
        self, capacity, origin_aware=False, fifo_main=False, credit_appended=True, small_fraction=0.1,
        promote_threshold=1, max_freq=3, cold_gate=None,
    ):
        self.capacity = capacity
        self.fifo_main = fifo_main
        self.credit_appended = credit_appended
        self.appended = set()  # keys inserted by "append" (origin-aware only)
        self.small_target = int(capacity * small_fraction)
        self.origin_aware = origin_aware
        self.promote_threshold = promote_threshold
        self.max_freq = max_freq
        self.small = OrderedDict()  # key -> size, oldest first
        self.main = OrderedDict()
        self.small_used = 0
        self.main_used = 0
        self.freq = {}
        self.ghost = OrderedDict()  # key -> size
        self.ghost_used = 0
        self.cold_gate = cold_gate
        self.cold_admitted = 0  # bytes of "read" inserts actually cached (what the broker reads back)
        self.name = "S3-FIFO+origin" if origin_aware else "S3-FIFO"
        if fifo_main:
            self.name += ", FIFO main"
        if not credit_appended:
            self.name += ", no read credit for appended"
        if cold_gate:
            self.name += f", ghost-gated cold -> {cold_gate}"

    def access(self, key):
        if key in self.freq:
            if self.credit_appended or key not in self.appended:
                self.freq[key] = min(self.freq[key] + 1, self.max_freq)
            return True
        return False

    def _ghost_add(self, key, size):
        self.ghost[key] = size
        self.ghost_used += size
        while self.ghost_used > self.capacity - self.small_target:
            _, s = self.ghost.popitem(last=False)
            self.ghost_used -= s

    def _evict_main(self):
        while self.main:
            key, size = self.main.popitem(last=False)
            if self.freq[key] > 0 and not self.fifo_main:
                self.freq[key] -= 1
                self.main[key] = size
            else:
                del self.freq[key]
                self.appended.discard(key)
                self.main_used -= size
                return

    def _evict_small(self):
        while self.small:
            key, size = self.small.popitem(last=False)
            self.small_used -= size
            if self.freq[key] >= self.promote_threshold:
                self.freq[key] = 0
                self.main[key] = size
                self.main_used += size
                # Moving bytes between queues does not free any: keep going until something leaves.
            else:
                del self.freq[key]
                self._ghost_add(key, size)
                return
        self._evict_main()

    def _evict(self):
        if self.small_used >= self.small_target or not self.main:
            self._evict_small()
        else:
            self._evict_main()

    def insert(self, key, size, origin):
        if size > self.capacity or key in self.freq:
            return
        gated_to_main = False
        if self.cold_gate and origin == "read":
            if key not in self.ghost:
                self._ghost_add(key, size)
                return
            self.ghost_used -= self.ghost.pop(key)
            gated_to_main = self.cold_gate == "main"
        if origin == "read":
            self.cold_admitted += size
        while self.small_used + self.main_used + size > self.capacity:
            self._evict()
        self.freq[key] = 0
        to_main = (self.origin_aware and origin == "append") or key in self.ghost or gated_to_main
        if key in self.ghost:
            self.ghost_used -= self.ghost.pop(key)
        if self.origin_aware and origin == "append":
            self.appended.add(key)
        if to_main:
            self.main[key] = size
            self.main_used += size
        else:
            self.small[key] = size
            self.small_used += size


class TwoQ:
    """Full 2Q (Johnson & Shasha, VLDB'94), byte version: A1in FIFO (25% of bytes) for first-time items, A1out
    ghost of keys evicted from A1in (50% of capacity in bytes), Am LRU for items seen again (hit while in A1out)."""

    def __init__(self, capacity, origin_aware=False, in_fraction=0.25, out_fraction=0.5):
        self.capacity = capacity
        self.in_target = int(capacity * in_fraction)
        self.out_limit = int(capacity * out_fraction)
        self.a1in = OrderedDict()
        self.am = OrderedDict()
        self.in_used = 0
        self.am_used = 0
        self.a1out = OrderedDict()
        self.out_used = 0
        self.origin_aware = origin_aware
        self.name = "2Q+origin" if origin_aware else "2Q"

    def access(self, key):
        if key in self.am:
            self.am.move_to_end(key)
            return True
        return key in self.a1in

    def _evict(self):
        if self.in_used > self.in_target or not self.am:
            key, size = self.a1in.popitem(last=False)
            self.in_used -= size
            self.a1out[key] = size
            self.out_used += size
            while self.out_used > self.out_limit:
                _, s = self.a1out.popitem(last=False)
                self.out_used -= s
        else:
            _, size = self.am.popitem(last=False)
            self.am_used -= size

    def insert(self, key, size, origin):
        if size > self.capacity or key in self.am or key in self.a1in:
            return
        while self.in_used + self.am_used + size > self.capacity:
            self._evict()
        if key in self.a1out or (self.origin_aware and origin == "append"):
            if key in self.a1out:
                self.out_used -= self.a1out.pop(key)
            self.am[key] = size
            self.am_used += size
        else:
            self.a1in[key] = size
            self.in_used += size


def make_policies(capacity):
    """The policies compared in RESULTS.md, in table order."""
    return [
        LRU(capacity),
        FIFO(capacity),
        SIEVE(capacity),
        S3FIFO(capacity),
        TwoQ(capacity),
        LRUColdAtTail(capacity),
        SIEVE(capacity, cold_at_hand=True),
        TwoQ(capacity, origin_aware=True),
        S3FIFO(capacity, origin_aware=True),
        S3FIFO(capacity, origin_aware=True, fifo_main=True),
        S3FIFO(capacity, origin_aware=True, credit_appended=False),
        S3FIFO(capacity, origin_aware=True, credit_appended=False, cold_gate="probation"),
        S3FIFO(capacity, origin_aware=True, credit_appended=False, cold_gate="main"),
    ]
