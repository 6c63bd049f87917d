/// The sparse time index of one segment (`.timeindex`, KAFKA-FORMATS §5.4): maps timestamps to offsets.
///
/// | off | size | field |
/// |---|---|---|
/// | 0 | 8 | timestamp int64 (ms) |
/// | 8 | 4 | relativeOffset int32 |
///
/// An entry (T, O) says: T is the largest timestamp in the segment up to and including the batch whose last offset
/// is O. Invariants: timestamps strictly increase, offsets never decrease; `entries ≤ maxEntries`. The index counts
/// as full at `maxEntries − 1` entries: the last slot is kept for the final entry written on roll/close.
///
/// Thread-safety: none; owned by a `LogSegment` under its `PartitionLog`'s lock.
final class TimeIndex {
    static let entrySize = 12

    let baseOffset: Int64
    let path: String
    private let mapped: MappedFile
    private(set) var entries: Int
    var maxEntries: Int { mapped.length / Self.entrySize }

    /// Opens or creates the index at `path`: a new file is preallocated to `maxIndexBytes` rounded down to whole
    /// entries, an existing one is taken as fully valid (`entries = length / 12`).
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

    var file: SegmentFileHandle { mapped.file }
    /// Full one entry early: the last slot is reserved for the final entry of a rolled segment.
    var isFull: Bool { entries >= maxEntries - 1 }

    func entry(at slot: Int) -> (timestamp: Int64, offset: Int64) {
        precondition(slot >= 0 && slot < entries, "time index slot \(slot) out of 0..<\(entries)")
        let timestamp = mapped.loadInt64(at: slot * Self.entrySize)
        let relative = mapped.loadInt32(at: slot * Self.entrySize + 8)
        return (timestamp, baseOffset + Int64(relative))
    }

    /// The last entry, or (-1, baseOffset) when empty.
    var lastEntry: (timestamp: Int64, offset: Int64) {
        entries == 0 ? (-1, baseOffset) : entry(at: entries - 1)
    }

    /// The largest entry with timestamp ≤ `timestamp`, else (-1, baseOffset). O(log n).
    func lookup(_ timestamp: Int64) -> (timestamp: Int64, offset: Int64) {
        guard let slot = IndexSearch.largestSlot(count: entries, atMost: timestamp, key: { entry(at: $0).timestamp })
        else { return (-1, baseOffset) }
        return entry(at: slot)
    }

    /// Appends (timestamp, offset) if `timestamp` is greater than the last entry's. `skipFullCheck` lets the final
    /// entry of a rolled segment use the reserved slot. Precondition: room left, offset not below the last entry's.
    func maybeAppend(timestamp: Int64, offset: Int64, skipFullCheck: Bool = false) {
        precondition(skipFullCheck ? entries < maxEntries : !isFull, "time index \(path) is full")
        if entries > 0 {
            let last = entry(at: entries - 1)
            guard timestamp > last.timestamp else { return }
            precondition(offset >= last.offset, "time index offsets must not decrease")
        }
        guard let relative = Int32(exactly: offset - baseOffset), relative >= 0 else {
            preconditionFailure("offset \(offset) does not fit segment \(baseOffset)")
        }
        mapped.store(timestamp, at: entries * Self.entrySize)
        mapped.store(relative, at: entries * Self.entrySize + 8)
        entries += 1
    }

    /// Drops every entry with offset ≥ `offset`.
    func truncate(to offset: Int64) {
        var keep = entries
        while keep > 0, entry(at: keep - 1).offset >= offset { keep -= 1 }
        entries = keep
    }

    func reset() { entries = 0 }

    /// Keeps only the first `count` entries (recovery keeps the prefix it checked). Precondition: count ≤ entries.
    func keepFirst(_ count: Int) {
        precondition(count >= 0 && count <= entries, "cannot keep \(count) of \(entries) entries")
        entries = count
    }

    /// O(1) check like Kafka's: whole entries, the last entry's offset within [baseOffset, nextOffset).
    /// - Throws: `StorageError.corruptIndex`.
    func sanityCheck(nextOffset: Int64) throws(StorageError) {
        if mapped.length % Self.entrySize != 0 {
            throw .corruptIndex(path: path, reason: "length \(mapped.length) is not a multiple of 12")
        }
        guard entries > 0 else { return }
        let last = entry(at: entries - 1)
        if last.offset < baseOffset || last.offset >= max(nextOffset, baseOffset + 1) {
            throw .corruptIndex(path: path, reason: "last entry offset \(last.offset) outside the segment")
        }
        if entries > 1, entry(at: entries - 2).timestamp >= last.timestamp {
            throw .corruptIndex(path: path, reason: "last entries do not increase")
        }
    }

    func trimToValidSize() throws(StorageError) {
        try mapped.resize(to: entries * Self.entrySize)
    }

    func resize(to maxIndexBytes: Int) throws(StorageError) {
        let target = max(Self.roundDown(maxIndexBytes), entries * Self.entrySize)
        if target != mapped.length { try mapped.resize(to: target) }
    }

    func close() { mapped.unmap() }

    private static func roundDown(_ bytes: Int) -> Int { max(0, bytes) / entrySize * entrySize }
}
