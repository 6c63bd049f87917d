import Logging

/// What the cleaner knows of one segment, taken under the log's lock (KAFKA-FORMATS §6.1).
struct CleanableSegment: Sendable {
    /// `LogSegment.id`: names the segment at swap time.
    let id: UInt64
    let baseOffset: Int64
    /// Bytes of whole batches at snapshot time (final for every segment but the active one).
    let size: Int64
    /// The offset after its last batch (in memory; the next segment's base after a reopen).
    let nextOffset: Int64
    let file: SegmentFileHandle
    /// Bytes of valid offset-index and time-index entries (for grouping, §6.3).
    let offsetIndexBytes: Int
    let timeIndexBytes: Int
    /// Newest record timestamp (ms) or the file's mtime when it has none (`min.compaction.lag.ms`).
    let largestTimestamp: Int64
    /// maxTimestamp of the first batch (`max.compaction.lag.ms`); nil when unknown or not asked for.
    let firstBatchTimestamp: Int64?
    /// The `.log` mtime in ms (kept by the cleaned segment).
    let modificationTimeMs: Int64
}

/// A consistent view of a log for one cleaning: its segments (the last one active), offsets and config.
struct CleaningSnapshot: Sendable {
    let segments: [CleanableSegment]
    let logStartOffset: Int64
    let logEndOffset: Int64
    let config: LogConfig
    /// The first dirty offset: the checkpoint, reset to the log start offset when absent or out of
    /// [logStartOffset, logEndOffset] (KAFKA-FORMATS §6.1).
    let firstDirtyOffset: Int64
    /// Position in the `.log` of the segment containing `firstDirtyOffset` from which to scan for it (from its
    /// offset index).
    let dirtyStartPosition: Int64
}

extension PartitionLog {
    /// A snapshot for the cleaner, given the checkpointed first dirty offset (nil when none). Each segment's first
    /// batch timestamp is read (one 61-byte pread per segment, once) only when `max.compaction.lag.ms` is set.
    /// - Throws: `.logClosed`.
    func cleaningSnapshot(checkpoint: Int64?) throws(StorageError) -> CleaningSnapshot {
        try state.withLock { (state) throws(StorageError) -> CleaningSnapshot in
            guard !state.isClosed else { throw .logClosed(topicPartition) }
            let firstBatchTimestamps = state.config.maxCompactionLagMs != Int64.max
            var dirtyLookupOffset = state.logStartOffset
            if let checkpoint, checkpoint >= state.logStartOffset, checkpoint <= state.logEndOffset {
                dirtyLookupOffset = checkpoint
            }
            let segments = state.segments.map { segment in
                CleanableSegment(
                    id: segment.id, baseOffset: segment.baseOffset, size: segment.size,
                    nextOffset: segment.nextOffset, file: segment.log,
                    offsetIndexBytes: segment.offsetIndex.entries * OffsetIndex.entrySize,
                    timeIndexBytes: segment.timeIndex.entries * TimeIndex.entrySize,
                    largestTimestamp: segment.largestTimestamp(),
                    firstBatchTimestamp: firstBatchTimestamps ? segment.firstBatchTimestamp() : nil,
                    modificationTimeMs: (try? segment.log.modificationTimeMs()) ?? 0)
            }
            let holder = state.segments[state.segmentIndex(containing: dirtyLookupOffset)]
            let position = holder.baseOffset <= dirtyLookupOffset ? holder.offsetIndex.lookup(dirtyLookupOffset).position : 0
            return CleaningSnapshot(
                segments: segments, logStartOffset: state.logStartOffset, logEndOffset: state.logEndOffset,
                config: state.config, firstDirtyOffset: dirtyLookupOffset, dirtyStartPosition: position)
        }
    }

    /// Swaps the cleaned segment in for the segments `oldIds` (KAFKA-FORMATS §6.6), under the lock so readers see
    /// either the old or the new segment list, never a mix; readers already holding old segments' file handles keep
    /// reading the old bytes through them.
    ///
    /// The cleaned files (complete, finalized and fsync'd by the caller, their indexes unmapped) are renamed
    /// `.cleaned` → `.swap` and opened, the old segments' files renamed to `.deleted`, then `.swap` → final names:
    /// every crash point is completed or rolled back by `LogLoader` at the next open. The caller then fsyncs the
    /// directory and unlinks the returned `.deleted` paths (outside the lock). Renames and the open of the new
    /// segment (two small index mappings) are the only I/O under the lock.
    /// - Parameters:
    ///   - cleanedBaseOffset: base offset (file name) of the `.cleaned` segment; `cleanedNextOffset`: the offset
    ///     after its last batch (its base when empty).
    /// - Returns: the `.deleted` paths, or nil when the swap was abandoned because the old segments are no longer
    ///   all in the log as one run of inactive segments (retention removed some meanwhile) or the log was closed;
    ///   the cleaned files are then removed.
    /// - Throws: `.io` from a rename or open (files are left for the loader to complete or roll back).
    func replaceSegments(_ oldIds: [UInt64], cleanedBaseOffset: Int64, cleanedNextOffset: Int64)
        throws(StorageError) -> [String]?
    {
        let directory = directory
        let now = clock()
        return try state.withLock { (state) throws(StorageError) -> [String]? in
            guard !state.isClosed, let first = state.segments.firstIndex(where: { $0.id == oldIds.first }),
                first + oldIds.count < state.segments.count,  // never the active segment
                zip(state.segments[first...], oldIds).allSatisfy({ $0.id == $1 })
            else {
                LogSegment.removeFiles(directory: directory, baseOffset: cleanedBaseOffset, suffix: FileNames.cleanedSuffix)
                return nil
            }
            try LogSegment.renameFiles(
                directory: directory, baseOffset: cleanedBaseOffset, fromSuffix: FileNames.cleanedSuffix,
                toSuffix: FileNames.swapSuffix)
            let opened: LogSegment
            do throws(StorageError) {
                opened = try LogSegment.open(
                    directory: directory, baseOffset: cleanedBaseOffset, config: state.config, now: now,
                    suffix: FileNames.swapSuffix
                ).segment
            } catch {
                LogSegment.removeFiles(directory: directory, baseOffset: cleanedBaseOffset, suffix: FileNames.swapSuffix)
                throw error
            }
            opened.nextOffset = cleanedNextOffset
            var deleted: [String] = []
            for segment in state.segments[first..<(first + oldIds.count)] {
                deleted += try segment.renameToDeleted()
            }
            try LogSegment.renameFiles(
                directory: directory, baseOffset: cleanedBaseOffset, fromSuffix: FileNames.swapSuffix, toSuffix: "")
            // The replaced segments' offsets, up to the next segment's base (which exists: never the active one).
            let replaced = state.segments[first].baseOffset..<state.segments[first + oldIds.count].baseOffset
            state.segments.replaceSubrange(first..<(first + oldIds.count), with: [opened])
            readCache.remove(topicPartition, offsets: replaced)
            return deleted
        }
    }
}
