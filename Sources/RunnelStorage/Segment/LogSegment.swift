import Logging
import NIOCore
import RunnelRecords
import Synchronization

/// Source of `LogSegment.id`s (process-wide, never reused).
private let segmentIdentifiers = Atomic<UInt64>(1)

/// One segment of a partition: a `.log` of record batches plus its `.index` and `.timeindex` (KAFKA-FORMATS §5.2–5.5).
///
/// Invariants: `baseOffset` ≤ every offset in the segment and > every offset of earlier segments; the `.log` holds
/// exactly `size` bytes of whole, valid batches (a failed write is truncated away); every index entry points at a
/// batch start below `size`; `nextOffset` = last batch's lastOffset + 1 (or `baseOffset` when empty).
///
/// Thread-safety: none. A segment belongs to one `PartitionLog` and is only touched under its lock; what escapes
/// the lock is the Sendable `log` handle plus sizes read under it.
final class LogSegment {
    /// Process-unique identity: lets the cleaner name the segments it read (outside the log's lock) when it swaps
    /// them, without holding references to them.
    let id: UInt64 = segmentIdentifiers.wrappingAdd(1, ordering: .relaxed).oldValue
    let baseOffset: Int64
    let directory: String
    /// The `.log` file (ref-counted: slices keep it open after roll/delete).
    let log: SegmentFileHandle
    let offsetIndex: OffsetIndex
    let timeIndex: TimeIndex
    /// Bytes of whole batches in the `.log`.
    private(set) var size: Int64
    /// The offset after the last batch (`baseOffset` when empty).
    var nextOffset: Int64
    /// Largest batch maxTimestamp seen (ms), -1 if none.
    private(set) var maxTimestampSoFar: Int64
    /// lastOffset of the (first) batch holding `maxTimestampSoFar`.
    private(set) var offsetOfMaxTimestampSoFar: Int64
    /// `index.interval.bytes` for new entries.
    var indexIntervalBytes: Int
    /// Bytes appended since the last index entry (counts previous appends only, KAFKA-FORMATS §5.5).
    private var bytesSinceLastIndexEntry: Int = 0
    /// When this object was created (ms): the `segment.ms` clock for segments without timestamps.
    let createdMs: Int64
    /// maxTimestamp of the first batch (the `segment.ms` clock), loaded lazily; nil while unknown or empty.
    private var rollingTimestamp: Int64?

    private init(
        baseOffset: Int64, directory: String, log: SegmentFileHandle, offsetIndex: OffsetIndex, timeIndex: TimeIndex,
        size: Int64, indexIntervalBytes: Int, createdMs: Int64
    ) {
        self.baseOffset = baseOffset
        self.directory = directory
        self.log = log
        self.offsetIndex = offsetIndex
        self.timeIndex = timeIndex
        self.size = size
        self.nextOffset = baseOffset
        self.indexIntervalBytes = indexIntervalBytes
        self.createdMs = createdMs
        let last = timeIndex.lastEntry
        self.maxTimestampSoFar = last.timestamp
        self.offsetOfMaxTimestampSoFar = last.offset
    }

    /// Creates the files of a new, empty segment (the `.log` must not exist yet). With a `suffix` (the cleaner's
    /// `.cleaned`), every file name gets it appended and stale files of that name are removed first.
    static func create(
        directory: String, baseOffset: Int64, config: LogConfig, now: Int64, suffix: String = ""
    ) throws(StorageError) -> LogSegment {
        let logPath = FileNames.log(directory, baseOffset) + suffix
        if !suffix.isEmpty { try FileSystem.removeFile(logPath) }
        let log = try SegmentFileHandle.open(path: logPath, create: true, exclusive: true)
        try FileSystem.removeFile(FileNames.index(directory, baseOffset) + suffix)
        try FileSystem.removeFile(FileNames.timeIndex(directory, baseOffset) + suffix)
        let offsetIndex = try OffsetIndex(
            path: FileNames.index(directory, baseOffset) + suffix, baseOffset: baseOffset,
            maxIndexBytes: config.segmentIndexBytes)
        let timeIndex = try TimeIndex(
            path: FileNames.timeIndex(directory, baseOffset) + suffix, baseOffset: baseOffset,
            maxIndexBytes: config.segmentIndexBytes)
        return LogSegment(
            baseOffset: baseOffset, directory: directory, log: log, offsetIndex: offsetIndex, timeIndex: timeIndex,
            size: 0, indexIntervalBytes: config.indexIntervalBytes, createdMs: now)
    }

    /// Opens an existing segment. `indexMissing` is set when there was no `.index` (the caller must recover the
    /// segment). A missing `.timeindex` is created empty. `nextOffset` is left at `baseOffset`: the loader sets it.
    /// `suffix`: open the files named `<name><suffix>` (the cleaner opens its `.swap` output this way; the
    /// handles stay valid when the files are then renamed to their final names).
    static func open(
        directory: String, baseOffset: Int64, config: LogConfig, now: Int64, suffix: String = ""
    ) throws(StorageError) -> (segment: LogSegment, indexMissing: Bool) {
        let log = try SegmentFileHandle.open(path: FileNames.log(directory, baseOffset) + suffix, create: false)
        let size = try log.size()
        let indexMissing = !FileSystem.exists(FileNames.index(directory, baseOffset) + suffix)
        let offsetIndex = try OffsetIndex(
            path: FileNames.index(directory, baseOffset) + suffix, baseOffset: baseOffset,
            maxIndexBytes: config.segmentIndexBytes)
        let timeIndex = try TimeIndex(
            path: FileNames.timeIndex(directory, baseOffset) + suffix, baseOffset: baseOffset,
            maxIndexBytes: config.segmentIndexBytes)
        let segment = LogSegment(
            baseOffset: baseOffset, directory: directory, log: log, offsetIndex: offsetIndex, timeIndex: timeIndex,
            size: size, indexIntervalBytes: config.indexIntervalBytes, createdMs: now)
        return (segment, indexMissing)
    }

    /// The three files to fsync for durability of this segment.
    var syncHandles: [SegmentFileHandle] { [log, offsetIndex.file, timeIndex.file] }

    // MARK: - Append

    /// Appends `chunk` (whole batches with their final offsets) at the end of the `.log` with one pwrite, then
    /// updates the sparse indexes. On a write error the file is truncated back and nothing else changes.
    /// - Parameters:
    ///   - largestOffset: last offset in the chunk; `largestTimestamp`/`offsetOfLargestTimestamp`: max batch
    ///     timestamp and the lastOffset of its batch; `firstBatchMaxTimestamp`: maxTimestamp of the first batch.
    /// - Throws: `StorageError.io` (ENOSPC, ...).
    func append(
        _ chunk: ByteBuffer, largestOffset: Int64, largestTimestamp: Int64, offsetOfLargestTimestamp: Int64,
        firstBatchMaxTimestamp: Int64, fault: WriteFault? = nil
    ) throws(StorageError) {
        let position = size
        do {
            try log.write(chunk, at: position, fault: fault)
        } catch {
            // Leave the file exactly as it was: a torn prefix must not linger after the valid batches.
            try? log.truncate(to: position)
            throw error
        }
        if size == 0 && rollingTimestamp == nil { rollingTimestamp = firstBatchMaxTimestamp }
        if largestTimestamp > maxTimestampSoFar {
            maxTimestampSoFar = largestTimestamp
            offsetOfMaxTimestampSoFar = offsetOfLargestTimestamp
        }
        if bytesSinceLastIndexEntry > indexIntervalBytes {
            offsetIndex.append(offset: largestOffset, position: position)
            timeIndex.maybeAppend(timestamp: maxTimestampSoFar, offset: offsetOfMaxTimestampSoFar)
            bytesSinceLastIndexEntry = 0
        }
        bytesSinceLastIndexEntry += chunk.readableBytes
        size += Int64(chunk.readableBytes)
        nextOffset = largestOffset + 1
    }

    /// Appends whole batches that already carry their final offsets with one pwrite, adding index entries batch by
    /// batch (as Kafka's `LogSegment.append` does for each batch of its input): the cleaner's write path, so a
    /// cleaned segment is indexed as finely as one written by producers. An index that is full gets no more
    /// entries (a sparser index is still correct: lookups scan forward from the entry found).
    /// - Parameter batches: per batch in order: its size in bytes, lastOffset and maxTimestamp.
    /// - Throws: `StorageError.io`; on a write error the file is truncated back and nothing else changes.
    func appendBatches(_ chunk: ByteBuffer, batches: [CleanedBatchInfo]) throws(StorageError) {
        guard !batches.isEmpty else { return }
        let start = size
        do {
            try log.write(chunk, at: start)
        } catch {
            try? log.truncate(to: start)
            throw error
        }
        var position = start
        for batch in batches {
            if size == 0 && rollingTimestamp == nil { rollingTimestamp = batch.maxTimestamp }
            if batch.maxTimestamp > maxTimestampSoFar {
                maxTimestampSoFar = batch.maxTimestamp
                offsetOfMaxTimestampSoFar = batch.lastOffset
            }
            if bytesSinceLastIndexEntry > indexIntervalBytes && !offsetIndex.isFull && !timeIndex.isFull {
                offsetIndex.append(offset: batch.lastOffset, position: position)
                timeIndex.maybeAppend(timestamp: maxTimestampSoFar, offset: offsetOfMaxTimestampSoFar)
                bytesSinceLastIndexEntry = 0
            }
            bytesSinceLastIndexEntry += batch.sizeInBytes
            position += Int64(batch.sizeInBytes)
            size = position
            nextOffset = batch.lastOffset + 1
        }
        precondition(size == start + Int64(chunk.readableBytes), "batch sizes must add up to the chunk size")
    }

    /// Why the next append must go to a new segment (KAFKA-FORMATS §5.11), or nil.
    func rollReason(
        chunkSize: Int, maxTimestampInChunk: Int64, lastOffset: Int64, now: Int64, segmentBytes: Int,
        segmentMs: Int64
    ) -> RollReason? {
        if size > Int64(segmentBytes) - Int64(chunkSize) { return .segmentBytes }
        if size > 0 {
            let rolling = loadRollingTimestamp()
            let waited: Int64 =
                if let rolling, rolling >= 0 {
                    maxTimestampInChunk.subtractingReportingOverflow(rolling).partialValue
                } else {
                    now - createdMs
                }
            if waited > segmentMs { return .segmentMs }
        }
        if offsetIndex.isFull || timeIndex.isFull { return .indexFull }
        if lastOffset - baseOffset > Int64(Int32.max) { return .relativeOffsetOverflow }
        return nil
    }

    // MARK: - Lifecycle

    /// The segment stops being active (roll or close): final time-index entry, indexes trimmed to their entries.
    func onBecomeInactive() throws(StorageError) {
        if timeIndex.entries < timeIndex.maxEntries {
            timeIndex.maybeAppend(timestamp: maxTimestampSoFar, offset: offsetOfMaxTimestampSoFar, skipFullCheck: true)
        }
        try offsetIndex.trimToValidSize()
        try timeIndex.trimToValidSize()
    }

    /// Grows both indexes back to `segment.index.bytes` (the active segment after load).
    func resizeIndexes(to maxIndexBytes: Int) throws(StorageError) {
        try offsetIndex.resize(to: maxIndexBytes)
        try timeIndex.resize(to: maxIndexBytes)
    }

    /// Unmaps the indexes. The `.log` handle closes when its last reference (segment or slice) is gone.
    func close() {
        offsetIndex.close()
        timeIndex.close()
    }

    /// Renames every file of the segment to `<name>.deleted`, then unlinks them (KAFKA-FORMATS §5.13). Readers that
    /// hold the `.log` handle keep reading through their open fd.
    func deleteFiles() throws(StorageError) {
        for path in try renameToDeleted() { try FileSystem.removeFile(path) }
    }

    /// Unmaps the indexes and renames the segment's files (`.log` first) to `<name>.deleted`; returns the new paths
    /// for the caller to unlink (the cleaner unlinks them after an fsync of the directory, outside the lock).
    /// The indexes are unmapped only once every rename succeeded, so a failed rename leaves the segment usable.
    func renameToDeleted() throws(StorageError) -> [String] {
        let prefix = directory + "/" + FileNames.prefix(baseOffset)
        var renamed: [String] = []
        for suffix in [FileNames.logSuffix, FileNames.indexSuffix, FileNames.timeIndexSuffix, FileNames.txnIndexSuffix]
        where FileSystem.exists(prefix + suffix) {
            try FileSystem.rename(prefix + suffix, to: prefix + suffix + FileNames.deletedSuffix)
            renamed.append(prefix + suffix + FileNames.deletedSuffix)
        }
        close()
        return renamed
    }

    /// Renames the `.log`, `.index` and `.timeindex` of the segment at `baseOffset` in `directory` from
    /// `<name><from>` to `<name><to>`, `.log` first. Crash-safe with the loader (KAFKA-FORMATS §5.12): a `.log.swap`
    /// whose indexes are still `.cleaned` is discarded (`LogLoader.sweepTemporaryFiles`); `.index.swap` files
    /// left after the `.log` reached its final name are just renamed (`LogLoader.completeSwaps`).
    static func renameFiles(directory: String, baseOffset: Int64, fromSuffix from: String, toSuffix to: String)
        throws(StorageError)
    {
        let prefix = directory + "/" + FileNames.prefix(baseOffset)
        for suffix in [FileNames.logSuffix, FileNames.indexSuffix, FileNames.timeIndexSuffix]
        where FileSystem.exists(prefix + suffix + from) {
            try FileSystem.rename(prefix + suffix + from, to: prefix + suffix + to)
        }
    }

    /// Removes the `.log`, `.index` and `.timeindex` named `<name><suffix>` of the segment at `baseOffset`.
    static func removeFiles(directory: String, baseOffset: Int64, suffix: String) {
        let prefix = directory + "/" + FileNames.prefix(baseOffset)
        for name in [FileNames.logSuffix, FileNames.indexSuffix, FileNames.timeIndexSuffix] {
            try? FileSystem.removeFile(prefix + name + suffix)
        }
    }

    /// Removes the files of a segment that never joined a log (an aborted cleaning's `.cleaned` output).
    func discardFiles(suffix: String) {
        close()
        Self.removeFiles(directory: directory, baseOffset: baseOffset, suffix: suffix)
    }

    /// The newest record time for retention: `maxTimestampSoFar`, or the `.log` mtime when there is none.
    func largestTimestamp() -> Int64 {
        if maxTimestampSoFar >= 0 { return maxTimestampSoFar }
        return (try? log.modificationTimeMs()) ?? 0
    }

    /// Reads the header of the batch at `position` (nil past the end of whole batches).
    func header(at position: Int64) throws(StorageError) -> RecordBatchHeader? {
        try BatchScanner(file: log, limit: size).header(at: position)
    }

    // MARK: - Loading helpers

    /// Computes `nextOffset` by scanning batch headers from the last offset-index entry to the end (Kafka's
    /// `readNextOffset`): at most `index.interval.bytes` of headers after a clean shutdown.
    func loadNextOffset() throws(StorageError) {
        let scanner = BatchScanner(file: log, limit: size)
        var position = offsetIndex.lastEntry.position
        var next = max(baseOffset, offsetIndex.entries > 0 ? offsetIndex.lastEntry.offset + 1 : baseOffset)
        while let header = try scanner.header(at: position) {
            next = header.nextOffset
            position += Int64(header.sizeInBytes)
        }
        nextOffset = next
    }

    /// Sets the recovered state after `recover()`.
    func setRecovered(size: Int64, nextOffset: Int64, maxTimestamp: Int64, offsetOfMaxTimestamp: Int64,
                      firstBatchMaxTimestamp: Int64?, bytesSinceLastIndexEntry: Int) {
        self.size = size
        self.nextOffset = nextOffset
        self.maxTimestampSoFar = maxTimestamp
        self.offsetOfMaxTimestampSoFar = offsetOfMaxTimestamp
        self.rollingTimestamp = firstBatchMaxTimestamp
        self.bytesSinceLastIndexEntry = bytesSinceLastIndexEntry
    }

    /// maxTimestamp of the first batch (read once from the `.log`), nil when empty: the `segment.ms` clock and the
    /// cleaner's `max.compaction.lag.ms` clock.
    func firstBatchTimestamp() -> Int64? { loadRollingTimestamp() }

    private func loadRollingTimestamp() -> Int64? {
        if let rollingTimestamp { return rollingTimestamp }
        guard size > 0, let first = try? header(at: 0) else { return nil }
        rollingTimestamp = first.maxTimestamp
        return first.maxTimestamp
    }
}

/// Why a segment was rolled (KAFKA-FORMATS §5.11).
enum RollReason: String, Sendable {
    case segmentBytes = "segment.bytes"
    case segmentMs = "segment.ms"
    case indexFull = "index full"
    case relativeOffsetOverflow = "relative offset overflow"
}

/// Size, lastOffset and maxTimestamp of one batch handed to `LogSegment.appendBatches`.
struct CleanedBatchInfo: Sendable {
    var sizeInBytes: Int
    var lastOffset: Int64
    var maxTimestamp: Int64
}
