import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension PartitionLog {
    // MARK: - Log start offset and retention (KAFKA-FORMATS §7)

    /// DeleteRecords: moves logStartOffset to max(current, `offset`) and returns it. Whole segments below it are
    /// removed by the next `applyRetention`; the new value is persisted by the next checkpoint write.
    /// - Throws: `.offsetOutOfRange` if `offset` < 0 or > highWatermark; `.logClosed`.
    public func deleteRecords(before offset: Int64) throws(StorageError) -> Int64 {
        try state.withLock { (state) throws(StorageError) -> Int64 in
            guard !state.isClosed else { throw .logClosed(topicPartition) }
            guard offset >= 0, offset <= state.logEndOffset else {
                throw .offsetOutOfRange(
                    requested: offset, logStartOffset: state.logStartOffset, logEndOffset: state.logEndOffset)
            }
            if offset > state.logStartOffset {
                state.logStartOffset = offset
                readCache.removeBelow(topicPartition, offset: offset)
                logger.info("log start offset moved", metadata: ["logStartOffset": "\(offset)"])
            }
            return state.logStartOffset
        }
    }

    /// Deletes whole old segments, oldest first, while one of these holds (never the active segment):
    /// its next segment's base ≤ logStartOffset; `retention.ms` ≥ 0 and now − its largest timestamp > retention.ms;
    /// `retention.bytes` ≥ 0 and the log stays at or above it without the segment. Time and size rules apply only
    /// when `cleanup.policy` contains `delete`. Files are renamed `.deleted` and unlinked at once (open slices keep
    /// their fds). Then logStartOffset := max(logStartOffset, first remaining base offset).
    /// - Returns: segments deleted.
    public func applyRetention(now: Int64) throws(StorageError) -> Int {
        try state.withLock { (state) throws(StorageError) -> Int in
            guard !state.isClosed else { throw .logClosed(topicPartition) }
            let config = state.config
            var excess: Int64 =
                config.retentionBytes >= 0 ? state.segments.reduce(0) { $0 + $1.size } - config.retentionBytes : -1
            var count = 0
            while count < state.segments.count - 1 {
                let segment = state.segments[count]
                let startBreach = state.segments[count + 1].baseOffset <= state.logStartOffset
                let timeBreach =
                    config.cleanupPolicy.deletesSegments && config.retentionMs >= 0
                    && now - segment.largestTimestamp() > config.retentionMs
                let sizeBreach =
                    config.cleanupPolicy.deletesSegments && config.retentionBytes >= 0 && excess - segment.size >= 0
                guard startBreach || timeBreach || sizeBreach else { break }
                if config.retentionBytes >= 0 { excess -= segment.size }
                count += 1
            }
            guard count > 0 else { return 0 }
            let doomed = Array(state.segments[0..<count])
            state.segments.removeFirst(count)
            let newStart = state.segments[0].baseOffset
            state.logStartOffset = max(state.logStartOffset, newStart)
            readCache.removeBelow(topicPartition, offset: state.logStartOffset)
            state.recoveryPoint = max(state.recoveryPoint, min(newStart, state.logEndOffset))
            for segment in doomed {
                try segment.deleteFiles()
                logger.info(
                    "deleted segment by retention",
                    metadata: ["segment.baseOffset": "\(segment.baseOffset)", "segment.size": "\(segment.size)"])
            }
            return count
        }
    }

    // MARK: - Durability

    /// fsyncs every segment not yet under the recovery point (`.log` and both indexes) and the directory, then
    /// advances the recovery point to the log end offset seen at the start. Blocking: call it from a thread pool,
    /// never an event loop. Concurrent appends continue meanwhile (the lock is not held during fsync).
    /// - Throws: `StorageError.io` (the recovery point then stays where it was).
    public func flush() throws(StorageError) {
        let (handles, target, fault) = try state.withLock {
            (state) throws(StorageError) -> ([SegmentFileHandle], Int64, Int32?) in
            guard !state.isClosed else { throw .logClosed(topicPartition) }
            return (Self.unflushedHandles(state), state.logEndOffset, state.syncFault)
        }
        if let fault { throw .io(operation: "fsync", path: directory, errno: fault) }
        for handle in handles { try handle.sync() }
        try FileSystem.syncDirectory(directory)
        let now = clock()
        state.withLock { state in
            state.recoveryPoint = max(state.recoveryPoint, min(target, state.logEndOffset))
            state.lastFlushMs = now
        }
    }

    /// Closes the log: finalizes the active segment (final time-index entry, indexes trimmed), fsyncs what is not
    /// yet durable, sets the recovery point to the log end offset and unmaps the indexes. Later calls throw
    /// `.logClosed`; slices already handed out stay readable.
    func close() throws(StorageError) {
        let pending = try state.withLock { (state) throws(StorageError) -> ([SegmentFileHandle], Int64)? in
            guard !state.isClosed else { return nil }
            state.isClosed = true
            readCache.remove(topicPartition)
            try state.active.onBecomeInactive()
            return (Self.unflushedHandles(state), state.logEndOffset)
        }
        guard let (handles, target) = pending else { return }
        for handle in handles { try handle.sync() }
        try FileSystem.syncDirectory(directory)
        state.withLock { state in
            state.recoveryPoint = max(state.recoveryPoint, target)
            for segment in state.segments { segment.close() }
        }
    }

    /// Marks the log closed and unmaps its indexes without flushing (the directory is being deleted).
    func closeForDeletion() {
        state.withLock { state in
            state.isClosed = true
            readCache.remove(topicPartition)
            for segment in state.segments { segment.close() }
        }
    }

    /// Handles of segments holding offsets at or above the recovery point, plus the active one.
    static func unflushedHandles(_ state: State) -> [SegmentFileHandle] {
        var handles: [SegmentFileHandle] = []
        for (index, segment) in state.segments.enumerated() {
            let upperBound = index + 1 < state.segments.count ? state.segments[index + 1].baseOffset : Int64.max
            if upperBound > state.recoveryPoint { handles += segment.syncHandles }
        }
        return handles
    }
}
