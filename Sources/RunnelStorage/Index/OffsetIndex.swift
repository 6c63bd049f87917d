/// The sparse offset index of one segment (`.index`, KAFKA-FORMATS §5.3): maps offsets to `.log` positions.
///
/// | off | size | field |
/// |---|---|---|
/// | 0 | 4 | relativeOffset int32 = offset − baseOffset |
/// | 4 | 4 | position int32 = byte position of a batch start in the `.log` |
///
/// 8-byte big-endian entries, no header, no checksum (it can always be rebuilt from the `.log`). Invariants:
/// entries strictly increase in offset and in position; `0 ≤ relativeOffset ≤ Int32.max`; `entries ≤ maxEntries`.
/// The file is preallocated to `maxEntries × 8` bytes and memory-mapped while the segment is active; it is
/// trimmed to `entries × 8` bytes on roll and close.
///
/// Thread-safety: none; owned by a `LogSegment` under its `PartitionLog`'s lock.
final class OffsetIndex {
    static let entrySize = 8

    let baseOffset: Int64
    let path: String
    private let mapped: MappedFile
    /// Valid entries.
    private(set) var entries: Int
    /// Capacity of the current mapping, in entries.
    var maxEntries: Int { mapped.length / Self.entrySize }

    /// Opens or creates the index at `path`. A new file is preallocated to `maxIndexBytes` rounded down to
    /// whole entries; an existing one is taken as fully valid (`entries = length / 8`), as Kafka does.
    init(path: String, baseOffset: Int64, maxIndexBytes: Int) throws(StorageError) {
        self.path = path
        self.baseOffset = baseOffset
        let isNew = !FileSystem.exists(path)
        let file = try SegmentFileHandle.open(path: path, create: true)
        let existing = try file.size()
        if isNew {
            mapped = try MappedFile(file: file, length: Self.roundDown(maxIndexBytes))
            entries = 0
        } else {
            mapped = try MappedFile(file: file, length: Int(existing))
            entries = Int(existing) / Self.entrySize
        }
    }

    /// The file handle (for fsync).
    var file: SegmentFileHandle { mapped.file }
    var isFull: Bool { entries >= maxEntries }

    /// The entry at `slot` as (absolute offset, position).
    func entry(at slot: Int) -> (offset: Int64, position: Int64) {
        precondition(slot >= 0 && slot < entries, "index slot \(slot) out of 0..<\(entries)")
        let relative = mapped.loadInt32(at: slot * Self.entrySize)
        let position = mapped.loadInt32(at: slot * Self.entrySize + 4)
        return (baseOffset + Int64(relative), Int64(position))
    }

    /// The last entry, or (baseOffset, 0) when empty.
    var lastEntry: (offset: Int64, position: Int64) {
        entries == 0 ? (baseOffset, 0) : entry(at: entries - 1)
    }

    /// The largest entry with offset ≤ `target`, or (baseOffset, 0) if there is none. O(log n).
    func lookup(_ target: Int64) -> (offset: Int64, position: Int64) {
        guard let slot = IndexSearch.largestSlot(count: entries, atMost: target, key: { entry(at: $0).offset }) else {
            return (baseOffset, 0)
        }
        return entry(at: slot)
    }

    /// Appends (offset, position). Precondition: not full, offset and position above the last entry's, and the
    /// relative offset and position fit in an int32 (the roll rules and `segment.bytes ≤ Int32.max` guarantee it).
    func append(offset: Int64, position: Int64) {
        precondition(!isFull, "offset index \(path) is full")
        if entries > 0 {
            let last = entry(at: entries - 1)
            precondition(offset > last.offset && position > last.position, "offset index entries must increase")
        }
        guard let relative = Int32(exactly: offset - baseOffset), relative >= 0,
            let position32 = Int32(exactly: position)
        else { preconditionFailure("offset \(offset) / position \(position) do not fit segment \(baseOffset)") }
        mapped.store(relative, at: entries * Self.entrySize)
        mapped.store(position32, at: entries * Self.entrySize + 4)
        entries += 1
    }

    /// Drops every entry with offset ≥ `offset` (Kafka's `truncateTo`).
    func truncate(to offset: Int64) {
        var keep = entries
        while keep > 0, entry(at: keep - 1).offset >= offset { keep -= 1 }
        entries = keep
    }

    /// Drops every entry (used before rebuilding the index from the `.log`).
    func reset() { entries = 0 }

    /// Keeps only the first `count` entries (recovery keeps the prefix it checked). Precondition: count ≤ entries.
    func keepFirst(_ count: Int) {
        precondition(count >= 0 && count <= entries, "cannot keep \(count) of \(entries) entries")
        entries = count
    }

    /// Kafka's `sanityCheck` plus a bound on positions, O(1) so that a clean open reads almost nothing: the file is
    /// whole entries and the last entry points inside the `.log` (offset ≥ base holds by construction).
    /// - Throws: `StorageError.corruptIndex`.
    func sanityCheck(logSize: Int64) throws(StorageError) {
        if mapped.length % Self.entrySize != 0 {
            throw .corruptIndex(path: path, reason: "length \(mapped.length) is not a multiple of 8")
        }
        guard entries > 0 else { return }
        let last = entry(at: entries - 1)
        if last.offset < baseOffset || last.position >= logSize || last.position < 0 {
            throw .corruptIndex(path: path, reason: "last entry (\(last.offset), \(last.position)) outside the log")
        }
        if entries > 1, entry(at: entries - 2).position >= last.position {
            throw .corruptIndex(path: path, reason: "last entries do not increase")
        }
    }

    /// Shrinks the file to exactly the valid entries (on roll and close).
    func trimToValidSize() throws(StorageError) {
        try mapped.resize(to: entries * Self.entrySize)
    }

    /// Grows (or shrinks) the file to `maxIndexBytes` rounded down to whole entries, keeping the entries.
    func resize(to maxIndexBytes: Int) throws(StorageError) {
        let target = max(Self.roundDown(maxIndexBytes), entries * Self.entrySize)
        if target != mapped.length { try mapped.resize(to: target) }
    }

    /// Releases the mapping; the object must not be used afterwards.
    func close() { mapped.unmap() }

    private static func roundDown(_ bytes: Int) -> Int { max(0, bytes) / entrySize * entrySize }
}

/// Binary search shared by both indexes.
enum IndexSearch {
    /// The largest slot in 0..<count whose key is ≤ `target`, assuming keys are non-decreasing; nil if none.
    static func largestSlot(count: Int, atMost target: Int64, key: (Int) -> Int64) -> Int? {
        guard count > 0, key(0) <= target else { return nil }
        var low = 0  // key(low) <= target
        var high = count - 1
        while low < high {
            let middle = low + (high - low + 1) / 2
            if key(middle) <= target { low = middle } else { high = middle - 1 }
        }
        return low
    }
}
