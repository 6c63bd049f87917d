/// Ascending, distinct batch base offsets of one partition's cached batches, for "which batch contains offset X"
/// (a floor search) and for range removals (truncation, retention).
///
/// Deletion is lazy: evicting a batch does not touch this list, so some keys may name batches no longer cached
/// (the owner checks liveness in its dictionary and calls `retainOnly(_:)` once stale keys outnumber live ones, which
/// keeps removal amortized O(1)). Keys arrive almost always in ascending order (the tail, or a sequential reader),
/// so `insert` is an append in the common case; an out-of-order key costs a `memmove` of the keys after it.
///
/// Not thread-safe: owned by `ReadCache.State`, used under the cache's lock.
struct SortedOffsets {
    /// `keys[start...]` are the keys; `keys[..<start]` is a dropped prefix kept until compaction.
    private(set) var keys: [Int64] = []
    private(set) var start = 0

    /// Keys held (live or stale).
    var count: Int { keys.count - start }
    var isEmpty: Bool { count == 0 }

    /// Adds `key` unless present. O(1) amortized when `key` is above every key, else O(count).
    mutating func insert(_ key: Int64) {
        if let last = keys.last, start < keys.count {
            if key > last {
                keys.append(key)
                return
            }
            let index = lowerBound(key)
            if index < keys.count && keys[index] == key { return }
            keys.insert(key, at: index)
        } else {
            keys.removeAll(keepingCapacity: true)
            start = 0
            keys.append(key)
        }
    }

    /// Index (into `keys`) of the first key ≥ `key`; `keys.count` if none. O(log count).
    func lowerBound(_ key: Int64) -> Int {
        var low = start
        var high = keys.count
        while low < high {
            let middle = low + (high - low) / 2
            if keys[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The largest key ≤ `offset`, if any. O(log count).
    func floor(_ offset: Int64) -> Int64? {
        let index = lowerBound(offset)
        if index < keys.count && keys[index] == offset { return offset }
        return index > start ? keys[index - 1] : nil
    }

    /// Removes the keys at indices `index...` (into `keys`).
    mutating func truncate(fromIndex index: Int) {
        precondition(index >= start && index <= keys.count, "truncation index out of range")
        keys.removeSubrange(index...)
        if keys.count == start {
            keys.removeAll(keepingCapacity: true)
            start = 0
        }
    }

    /// Removes the keys at indices `..<index` (into `keys`). O(1) amortized: the prefix is released once it is
    /// at least half of the storage.
    mutating func dropPrefix(upToIndex index: Int) {
        precondition(index >= start && index <= keys.count, "prefix index out of range")
        start = index
        if start == keys.count {
            keys.removeAll(keepingCapacity: true)
            start = 0
        } else if start >= 64 && start * 2 >= keys.count {
            keys.removeSubrange(..<start)
            start = 0
        }
    }

    /// Keeps only the keys for which `isLive` is true (compaction of stale keys). O(count).
    mutating func retainOnly(_ isLive: (Int64) -> Bool) {
        var kept: [Int64] = []
        kept.reserveCapacity(count)
        for index in start..<keys.count where isLive(keys[index]) { kept.append(keys[index]) }
        keys = kept
        start = 0
    }

    /// Whether the keys strictly increase (for invariant checks).
    var isStrictlyAscending: Bool {
        var index = start + 1
        while index < keys.count {
            if keys[index - 1] >= keys[index] { return false }
            index += 1
        }
        return true
    }
}
