import Logging
import NIOCore
import RunnelRecords

/// One segment of a partition: a `.log` of record batches plus its `.index` and `.timeindex` (KAFKA-FORMATS §5.2–5.5).
///
/// Invariants: `baseOffset` ≤ every offset in the segment and > every offset of earlier segments; the `.log` holds
/// exactly `size` bytes of whole, valid batches (a failed write is truncated away); every index entry points at a
/// batch start below `size`; `nextOffset` = last batch's lastOffset + 1 (or `baseOffset` when empty).
///
/// Thread-safety: none. A segment belongs to one `PartitionLog` and is only touched under its lock; what escapes
/// the lock is the Sendable `log` handle plus sizes read under it.
final class LogSegment {
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

    /// Creates the files of a new, empty segment (the `.log` must not exist yet).
    static func create(directory: String, baseOffset: Int64, config: LogConfig, now: Int64) throws(StorageError)
        -> LogSegment
    {
        let log = try SegmentFileHandle.open(path: FileNames.log(directory, baseOffset), create: true, exclusive: true)
        try FileSystem.removeFile(FileNames.index(directory, baseOffset))
        try FileSystem.removeFile(FileNames.timeIndex(directory, baseOffset))
        let offsetIndex = try OffsetIndex(
            path: FileNames.index(directory, baseOffset), baseOffset: baseOffset, maxIndexBytes: config.segmentIndexBytes)
        let timeIndex = try TimeIndex(
            path: FileNames.timeIndex(directory, baseOffset), baseOffset: baseOffset,
            maxIndexBytes: config.segmentIndexBytes)
        return LogSegment(
            baseOffset: baseOffset, directory: directory, log: log, offsetIndex: offsetIndex, timeIndex: timeIndex,
            size: 0, indexIntervalBytes: config.indexIntervalBytes, createdMs: now)
    }

    /// Opens an existing segment. `indexMissing` is set when there was no `.index` (the caller must recover the
    /// segment). A missing `.timeindex` is created empty. `nextOffset` is left at `baseOffset`: the loader sets it.
    static func open(directory: String, baseOffset: Int64, config: LogConfig, now: Int64) throws(StorageError)
        -> (segment: LogSegment, indexMissing: Bool)
    {
        let log = try SegmentFileHandle.open(path: FileNames.log(directory, baseOffset), create: false)
        let size = try log.size()
        let indexMissing = !FileSystem.exists(FileNames.index(directory, baseOffset))
        let offsetIndex = try OffsetIndex(
            path: FileNames.index(directory, baseOffset), baseOffset: baseOffset, maxIndexBytes: config.segmentIndexBytes)
        let timeIndex = try TimeIndex(
            path: FileNames.timeIndex(directory, baseOffset), baseOffset: baseOffset,
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
        close()
        let prefix = directory + "/" + FileNames.prefix(baseOffset)
        for suffix in [FileNames.logSuffix, FileNames.indexSuffix, FileNames.timeIndexSuffix, FileNames.txnIndexSuffix]
        where FileSystem.exists(prefix + suffix) {
            try FileSystem.rename(prefix + suffix, to: prefix + suffix + FileNames.deletedSuffix)
        }
        for suffix in [FileNames.logSuffix, FileNames.indexSuffix, FileNames.timeIndexSuffix, FileNames.txnIndexSuffix] {
            try FileSystem.removeFile(prefix + suffix + FileNames.deletedSuffix)
        }
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
