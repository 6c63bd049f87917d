/// A batch remembered after its bytes left the probation queue: a partition's unique id and a base offset.
struct GhostKey: Hashable {
    /// `ReadCache.PartitionEntries.uid`: never reused, so a recreated topic cannot match old ghosts.
    var partitionUID: UInt64
    var baseOffset: Int64
}

/// S3-FIFO's ghost queue: the keys (no bytes) of batches recently evicted from probation without a second read,
/// oldest first. A cold batch read again while remembered here skips probation (it has shown reuse).
///
/// Bounded both in bytes (the sum of the remembered batches' sizes ≤ `maxBytes`, as S3-FIFO sizes its ghost
/// like the main queue) and in count (≤ `maxCount`, so tiny batches cannot grow the metadata without limit).
/// A key removed by a hit stays in the ring (its bytes still counted) until it ages out, which only makes the
/// ghost remember a little less. All operations are O(1) amortized.
///
/// Not thread-safe: owned by `ReadCache.State`, used under the cache's lock.
struct GhostQueue {
    private struct Record {
        var key: GhostKey
        var bytes: Int
        var sequence: UInt64
    }

    let maxBytes: Int
    /// Raised by the owner as the cache holds more batches.
    var maxCount: Int
    /// `ring[head...]` are the remembered records, oldest first.
    private var ring: [Record] = []
    private var head = 0
    /// Live members and the sequence number of the record that added them (a re-added key gets a new one).
    private var members: [GhostKey: UInt64] = [:]
    private var nextSequence: UInt64 = 0
    /// Bytes of the records in the ring.
    private(set) var bytes = 0

    init(maxBytes: Int, maxCount: Int) {
        self.maxBytes = maxBytes
        self.maxCount = maxCount
    }

    /// Keys currently remembered.
    var count: Int { members.count }

    /// Remembers `key` (a batch of `bytes` bytes just evicted from probation), forgetting the oldest as needed.
    mutating func add(_ key: GhostKey, bytes batchBytes: Int) {
        guard batchBytes <= maxBytes, maxCount > 0 else { return }
        nextSequence &+= 1
        members[key] = nextSequence
        ring.append(Record(key: key, bytes: batchBytes, sequence: nextSequence))
        bytes += batchBytes
        while bytes > maxBytes || ring.count - head > maxCount {
            let oldest = ring[head]
            head += 1
            bytes -= oldest.bytes
            if members[oldest.key] == oldest.sequence { members[oldest.key] = nil }
        }
        if head >= 64 && head * 2 >= ring.count {
            ring.removeSubrange(..<head)
            head = 0
        }
    }

    /// Forgets `key` and says whether it was remembered (a ghost hit).
    mutating func remove(_ key: GhostKey) -> Bool {
        members.removeValue(forKey: key) != nil
    }

    /// Forgets everything.
    mutating func removeAll() {
        ring.removeAll()
        head = 0
        members.removeAll()
        bytes = 0
    }
}
