/// Where one partition's appends fell on the cache's broker-wide append clock (bytes written through, all
/// partitions together), sampled, so a read can be classed as a tail read (its offset appended within the last
/// `window` clock bytes) or a catch-up read, whatever the cache holds.
///
/// Invariants: offsets strictly increase (appends are ascending; `dropFrom` removes marks at or above a
/// truncation point); clocks never decrease; marks are at least `spacing` clock bytes apart, and only one mark
/// older than the window is kept, so at most `window / spacing + 2` marks are held.
///
/// Not thread-safe: owned by `ReadCache.State`, used under the cache's lock.
struct AppendMarks {
    private var offsets: [Int64] = []
    private var clocks: [UInt64] = []
    /// `offsets[head...]` / `clocks[head...]` are the live marks.
    private var head = 0

    /// Live marks.
    var count: Int { offsets.count - head }

    /// Records that the batch at `offset` was appended at `clock`, unless the last mark is less than `spacing`
    /// clock bytes ago; forgets marks no longer needed to class offsets of the last `window` clock bytes.
    mutating func record(offset: Int64, clock: UInt64, spacing: UInt64, window: UInt64) {
        if let lastOffset = offsets.last, let lastClock = clocks.last {
            guard offset > lastOffset, clock &- lastClock >= spacing else { return }
        }
        offsets.append(offset)
        clocks.append(clock)
        // Keep the newest mark older than the window: it bounds the offsets appended just after it.
        while count >= 2 && clock &- clocks[head + 1] > window { head += 1 }
        if head >= 32 && head * 2 >= offsets.count {
            offsets.removeSubrange(..<head)
            clocks.removeSubrange(..<head)
            head = 0
        }
    }

    /// Whether `offset` was appended within the last `window` clock bytes before `now`: the newest mark at or
    /// below `offset` is within the window (the offset was appended at or after it). False when no mark is.
    func isRecent(_ offset: Int64, now: UInt64, window: UInt64) -> Bool {
        var low = head
        var high = offsets.count
        while low < high {
            let middle = (low + high) / 2
            if offsets[middle] <= offset { low = middle + 1 } else { high = middle }
        }
        guard low > head else { return false }
        return now &- clocks[low - 1] <= window
    }

    /// Forgets marks at or above `offset` (the log was truncated there; those offsets will be reused).
    mutating func dropFrom(_ offset: Int64) {
        while count > 0, let last = offsets.last, last >= offset {
            offsets.removeLast()
            clocks.removeLast()
        }
        if count == 0 {
            offsets.removeAll()
            clocks.removeAll()
            head = 0
        }
    }
}
