import Logging
public import NIOCore
import RunnelRecords
import Synchronization

/// What opening a partition's log did (recovery statistics; `recoveryBytesScanned == 0` after a clean shutdown).
public struct LogLoadSummary: Sendable, Hashable {
    /// Whether the data directory had the clean-shutdown marker.
    public var hadCleanShutdown: Bool = false
    /// Segments whose batches were re-validated and indexes rebuilt.
    public var segmentsRecovered: Int = 0
    /// Bytes of `.log` read and checked by recovery (0 after a clean shutdown).
    public var recoveryBytesScanned: Int64 = 0
    /// Bytes cut from torn or corrupt tails.
    public var bytesTruncated: Int64 = 0
    /// Whole segments removed because they followed a corrupt one.
    public var segmentsDeleted: Int = 0
    /// Index files found corrupt and rebuilt.
    public var indexesRebuilt: Int = 0

    public init() {}
}

/// The commit log of one topic-partition: an ordered list of segments, the last one active.
///
/// Invariants: there is always at least one segment; segment base offsets strictly increase;
/// `logStartOffset ≤ logEndOffset`; `recoveryPoint ≤ logEndOffset` and every byte below the recovery point is
/// fsync'd. Appends never fsync: the `flush.messages`/`flush.ms` policy is reported through
/// `AppendInfo.flushNeeded`, rolled segments are fsync'd by the background flusher, and `flush()` is a blocking
/// fsync for a thread pool.
///
/// Thread-safety: all methods may be called from any thread. State lives in a `Mutex` (not an actor): every
/// operation is a short synchronous critical section, with no suspension and no actor hop per fetch. I/O under the
/// lock is limited to the append's single `pwrite` (which must be ordered with offset assignment, as in Kafka),
/// file creation on roll and rename/unlink on retention. Reads take sizes and positions under the lock, then
/// `pread` batch headers outside it; fsyncs always run outside it.
public final class PartitionLog: Sendable {
    public let topicPartition: TopicPartition
    /// The partition directory (`<data dir>/<topic>-<partition>`).
    public let directory: String
    /// What the load at open did.
    public let loadSummary: LogLoadSummary
    let flusher: BackgroundFlusher
    let clock: @Sendable () -> Int64
    let logger: Logger
    /// The broker-wide cache of record-batch bytes (`log.cache.max.bytes`), shared by every log of a `LogManager`.
    /// Appends write through to it under this log's lock (so cached batches are always ≤ the log end offset and in
    /// append order); every path that removes or rewrites bytes invalidates it under the same lock.
    /// Lock order: this log's lock, then the cache's (the cache never calls back into a log).
    let readCache: ReadCache
    let state: Mutex<State>

    /// The mutable part, only touched under `state`'s lock.
    struct State {
        var config: LogConfig
        /// Ascending base offsets; never empty while open; the last is active.
        var segments: [LogSegment]
        var logStartOffset: Int64
        var recoveryPoint: Int64
        /// When the last `flush()` finished (ms).
        var lastFlushMs: Int64
        var isClosed = false
        /// Test hook: the next append's pwrite fails like this.
        var writeFault: WriteFault? = nil
        /// Test hook: fsyncs fail with this errno.
        var syncFault: Int32? = nil

        var active: LogSegment { segments[segments.count - 1] }
        var logEndOffset: Int64 { active.nextOffset }

        /// Index of the segment whose range holds `offset` (the last with baseOffset ≤ offset; 0 if none).
        func segmentIndex(containing offset: Int64) -> Int {
            var low = 0
            var high = segments.count - 1
            if segments[0].baseOffset > offset { return 0 }
            while low < high {
                let middle = low + (high - low + 1) / 2
                if segments[middle].baseOffset <= offset { low = middle } else { high = middle - 1 }
            }
            return low
        }
    }

    init(
        topicPartition: TopicPartition, directory: String, config: LogConfig, loaded: sending LoadedLog,
        flusher: BackgroundFlusher, clock: @escaping @Sendable () -> Int64, logger: Logger, readCache: ReadCache
    ) {
        precondition(!loaded.segments.isEmpty, "a loaded log has at least one segment")
        self.topicPartition = topicPartition
        self.readCache = readCache
        self.directory = directory
        self.loadSummary = loaded.summary
        self.flusher = flusher
        self.clock = clock
        var logger = logger
        logger[metadataKey: "partition"] = "\(topicPartition)"
        self.logger = logger
        self.state = Mutex(
            State(
                config: config, segments: loaded.segments, logStartOffset: loaded.logStartOffset,
                recoveryPoint: loaded.recoveryPoint, lastFlushMs: clock()))
    }

    // MARK: - Offsets and sizes

    public var config: LogConfig { state.withLock { $0.config } }

    /// Replaces the configuration. Index sizes apply to segments created from now on.
    public func updateConfig(_ config: LogConfig) {
        state.withLock { state in
            state.config = config
            for segment in state.segments { segment.indexIntervalBytes = config.indexIntervalBytes }
        }
    }

    /// First consumable offset (may point inside a segment or a batch).
    public var logStartOffset: Int64 { state.withLock { $0.logStartOffset } }
    /// The offset the next record will get.
    public var logEndOffset: Int64 { state.withLock { $0.logEndOffset } }
    /// = `logEndOffset` on a single node.
    public var highWatermark: Int64 { logEndOffset }
    /// Every offset below this is fsync'd.
    public var recoveryPoint: Int64 { state.withLock { $0.recoveryPoint } }
    /// Bytes of all segments' `.log` files.
    public var sizeInBytes: Int64 { state.withLock { $0.segments.reduce(0) { $0 + $1.size } } }
    public var segmentCount: Int { state.withLock { $0.segments.count } }
    /// Base offsets of the segments, ascending.
    public var segmentBaseOffsets: [Int64] { state.withLock { $0.segments.map(\.baseOffset) } }
    /// Base offset of the first segment (entries of `log-start-offset-checkpoint` are written only above it).
    var firstSegmentBaseOffset: Int64 { state.withLock { $0.segments[0].baseOffset } }

    /// Whether `flush.messages` or `flush.ms` calls for a flush now (for a periodic flusher).
    public func needsFlush(now: Int64) -> Bool {
        state.withLock { Self.flushNeeded($0, now: now) }
    }

    // MARK: - Append

    /// Appends a producer's batches (one or more complete record batches v2; their baseOffset must be 0 for
    /// `.client`). Validates magic, lengths, CRC, lastOffsetDelta + 1 == recordsCount, size ≤ max.message.bytes;
    /// assigns offsets by rewriting baseOffset (and partitionLeaderEpoch = 0) only, stamps LOG_APPEND_TIME topics,
    /// writes with one pwrite, updates indexes, may roll first. On error nothing is written.
    /// - Parameter now: ms since the epoch (LOG_APPEND_TIME and segment.ms).
    /// - Throws: `StorageError.invalidBatch`, `.messageTooLarge`, `.recordListTooLarge`, `.io`, `.logClosed`.
    public func append(_ batches: ByteBuffer, now: Int64, origin: AppendOrigin = .client) throws(StorageError)
        -> AppendInfo
    {
        let config = state.withLock { $0.config }
        var prepared = try AppendValidator.prepare(batches, config: config, origin: origin, now: now)
        // Take the buffer out of `prepared` so it has one owner: patching offsets then writes in place instead of
        // copying the whole payload (ByteBuffer copies on write when its storage is shared).
        var buffer = prepared.buffer
        prepared.buffer = ByteBuffer()
        let preparedBatches = prepared.batches
        let logAppendTime = config.messageTimestampType == .logAppendTime ? now : -1
        return try state.withLock { (state) throws(StorageError) -> AppendInfo in
            guard !state.isClosed else { throw .logClosed(topicPartition) }
            let firstOffset = state.logEndOffset
            var next = firstOffset
            var summaries: [BatchSummary] = []
            summaries.reserveCapacity(preparedBatches.count)
            for (index, header) in preparedBatches {
                buffer.setBatchBaseOffset(next, at: index)
                buffer.setBatchPartitionLeaderEpoch(0, at: index)
                let lastOffset = next + Int64(header.lastOffsetDelta)
                summaries.append(BatchSummary(lastOffset: lastOffset, maxTimestamp: header.maxTimestamp))
                next = lastOffset + 1
            }
            return try writeLocked(
                &state, buffer: buffer, firstOffset: firstOffset, batches: summaries, now: now,
                logAppendTime: logAppendTime)
        }
    }

    /// Appends batches that already carry their offsets (recovery, compaction or replication style). The first
    /// baseOffset must be ≥ logEndOffset and offsets must increase; a gap starts a new segment at the batch's offset.
    /// - Throws: `StorageError.invalidBatch`, `.nonMonotonicOffsets`, `.io`, `.logClosed`.
    public func appendAsFollower(_ batches: ByteBuffer) throws(StorageError) -> AppendInfo {
        let now = clock()
        return try state.withLock { (state) throws(StorageError) -> AppendInfo in
            guard !state.isClosed else { throw .logClosed(topicPartition) }
            let prepared = try AppendValidator.prepareWithOffsets(batches, logEndOffset: state.logEndOffset)
            let summaries = prepared.batches.map {
                BatchSummary(lastOffset: $0.header.lastOffset, maxTimestamp: $0.header.maxTimestamp)
            }
            let firstOffset = prepared.batches[0].header.baseOffset
            return try writeLocked(
                &state, buffer: prepared.buffer, firstOffset: firstOffset, batches: summaries, now: now,
                logAppendTime: -1)
        }
    }

    /// Forces a roll: the next append goes to a new segment based at the log end offset (no-op when the active
    /// segment is empty).
    public func roll() throws(StorageError) {
        let now = clock()
        try state.withLock { (state) throws(StorageError) in
            guard !state.isClosed else { throw .logClosed(topicPartition) }
            try rollLocked(&state, newBaseOffset: state.logEndOffset, now: now, reason: "requested")
        }
    }

    // MARK: - Test hooks

    /// Makes the next append's pwrite write `bytesBeforeFailure` bytes and fail with `errno` (full-disk tests).
    package func injectWriteFault(_ fault: WriteFault?) {
        state.withLock { $0.writeFault = fault }
    }

    /// Makes every fsync of `flush()` fail with `errno` (nil: stop).
    package func injectSyncFault(errno: Int32?) {
        state.withLock { $0.syncFault = errno }
    }

    // MARK: - Internals

    /// lastOffset and maxTimestamp of one batch being appended.
    struct BatchSummary {
        var lastOffset: Int64
        var maxTimestamp: Int64
    }

    /// The write path shared by both appends: maybe roll, one pwrite, indexes, result.
    private func writeLocked(
        _ state: inout State, buffer: ByteBuffer, firstOffset: Int64, batches: [BatchSummary], now: Int64,
        logAppendTime: Int64
    ) throws(StorageError) -> AppendInfo {
        let lastOffset = batches[batches.count - 1].lastOffset
        var largestTimestamp = Int64.min
        var offsetOfLargest = lastOffset
        for batch in batches where batch.maxTimestamp > largestTimestamp {
            largestTimestamp = batch.maxTimestamp
            offsetOfLargest = batch.lastOffset
        }
        if let reason = state.active.rollReason(
            chunkSize: buffer.readableBytes, maxTimestampInChunk: largestTimestamp, lastOffset: lastOffset, now: now,
            segmentBytes: state.config.segmentBytes, segmentMs: state.config.effectiveSegmentMs)
        {
            try rollLocked(&state, newBaseOffset: max(firstOffset, state.logEndOffset), now: now, reason: reason.rawValue)
        }
        let fault = state.writeFault
        state.writeFault = nil
        try state.active.append(
            buffer, largestOffset: lastOffset, largestTimestamp: largestTimestamp,
            offsetOfLargestTimestamp: offsetOfLargest, firstBatchMaxTimestamp: batches[0].maxTimestamp, fault: fault)
        // Write-through after the pwrite succeeded, still under the lock: cache order = log order, no ticket needed.
        readCache.insert(
            topicPartition, baseOffset: firstOffset, lastOffset: lastOffset, bytes: buffer, origin: .append)
        return AppendInfo(
            firstOffset: firstOffset, lastOffset: lastOffset, logAppendTime: logAppendTime,
            logStartOffset: state.logStartOffset, flushNeeded: Self.flushNeeded(state, now: now),
            batchCount: batches.count, byteCount: buffer.readableBytes)
    }

    /// Makes a new active segment at `newBaseOffset` (KAFKA-FORMATS §5.11): finalizes the old one (final time
    /// index entry, indexes trimmed) and schedules its fsync on the background flusher, which then advances the
    /// recovery point. An empty active segment is reused (same base) or replaced (higher base).
    func rollLocked(_ state: inout State, newBaseOffset: Int64, now: Int64, reason: String) throws(StorageError) {
        let old = state.active
        if old.size == 0 {
            if old.baseOffset == newBaseOffset { return }
            try old.deleteFiles()
            let fresh = try LogSegment.create(directory: directory, baseOffset: newBaseOffset, config: state.config, now: now)
            state.segments[state.segments.count - 1] = fresh
            return
        }
        try old.onBecomeInactive()
        let fresh = try LogSegment.create(directory: directory, baseOffset: newBaseOffset, config: state.config, now: now)
        state.segments.append(fresh)
        logger.debug(
            "rolled segment",
            metadata: ["segment.baseOffset": "\(newBaseOffset)", "reason": "\(reason)", "previous.size": "\(old.size)"])
        scheduleFlush(&state, upTo: newBaseOffset)
    }

    /// Queues an fsync of every segment below `offset` not yet under the recovery point, plus the directory.
    private func scheduleFlush(_ state: inout State, upTo offset: Int64) {
        var handles: [SegmentFileHandle] = []
        for index in 0..<(state.segments.count - 1) where state.segments[index + 1].baseOffset > state.recoveryPoint {
            handles += state.segments[index].syncHandles
        }
        let directory = directory
        let logger = logger
        let toSync = handles
        flusher.submit { [weak self] in
            do {
                for handle in toSync { try handle.sync() }
                try FileSystem.syncDirectory(directory)
                self?.advanceRecoveryPoint(to: offset)
            } catch {
                logger.error("background flush after roll failed", metadata: ["error": "\(error)"])
            }
        }
    }

    func advanceRecoveryPoint(to offset: Int64) {
        state.withLock { state in
            guard !state.isClosed else { return }
            state.recoveryPoint = max(state.recoveryPoint, min(offset, state.logEndOffset))
        }
    }

    static func flushNeeded(_ state: State, now: Int64) -> Bool {
        let unflushed = state.logEndOffset - state.recoveryPoint
        if unflushed <= 0 { return false }
        if unflushed >= state.config.flushMessages { return true }
        let elapsed = now.subtractingReportingOverflow(state.lastFlushMs)
        return !elapsed.overflow && elapsed.partialValue >= state.config.flushMs
    }
}

/// Segments and offsets produced by `LogLoader` for a `PartitionLog`.
struct LoadedLog {
    var segments: [LogSegment]
    var logStartOffset: Int64
    var recoveryPoint: Int64
    var summary: LogLoadSummary
}
