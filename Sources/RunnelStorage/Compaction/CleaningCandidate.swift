/// The sections of a log for one cleaning and whether it needs one (KAFKA-FORMATS §6.1; Kafka's `LogToClean` and
/// `LogCleanerManager.cleanableOffsets`).
///
/// Sections: clean [start, firstDirtyOffset), cleanable [firstDirtyOffset, firstUncleanableOffset), uncleanable
/// [firstUncleanableOffset, logEndOffset). The first uncleanable offset is the active segment's base offset, or,
/// with `min.compaction.lag.ms` > 0, the base of the first dirty inactive segment holding a record newer than
/// now − lag; both are segment boundaries. (A single node has no undecided transactions to stop at.)
public struct CleaningCandidate: Sendable, Hashable {
    public let topicPartition: TopicPartition
    public let firstDirtyOffset: Int64
    public let firstUncleanableOffset: Int64
    /// Bytes of segments that start below the first dirty offset.
    public let cleanBytes: Int64
    /// Bytes of segments from the one holding the first dirty offset up to the first uncleanable one.
    public let cleanableBytes: Int64
    /// cleanableBytes / (cleanBytes + cleanableBytes), 0 for an empty log.
    public let dirtyRatio: Double
    /// `max.compaction.lag.ms` is exceeded: a dirty inactive segment's first batch is older than now − lag.
    public let maxCompactionLagExceeded: Bool
    /// `min.cleanable.dirty.ratio` of the log.
    public let minCleanableDirtyRatio: Double
    /// Index (in the snapshot's segments) of the segment holding the first dirty offset, and of the first
    /// uncleanable segment.
    let dirtySegmentIndex: Int
    let uncleanableSegmentIndex: Int

    /// Whether the cleaner should clean this log now: something is cleanable and the dirty ratio is above
    /// `min.cleanable.dirty.ratio`, or `max.compaction.lag.ms` is exceeded.
    public var isEligible: Bool {
        cleanableBytes > 0 && (dirtyRatio > minCleanableDirtyRatio || maxCompactionLagExceeded)
    }

    /// Whether anything lies between the first dirty and the first uncleanable offset.
    public var hasCleanableSection: Bool { firstDirtyOffset < firstUncleanableOffset }

    init(topicPartition: TopicPartition, snapshot: CleaningSnapshot, now: Int64) {
        let segments = snapshot.segments
        let config = snapshot.config
        let firstDirty = snapshot.firstDirtyOffset
        let activeIndex = segments.count - 1
        var dirtyIndex = 0
        for (index, segment) in segments.enumerated() where segment.baseOffset <= firstDirty { dirtyIndex = index }
        var uncleanableIndex = activeIndex
        if config.minCompactionLagMs > 0, dirtyIndex < activeIndex {
            let newest = now.subtractingReportingOverflow(config.minCompactionLagMs).partialValue
            for index in dirtyIndex..<activeIndex where segments[index].largestTimestamp > newest {
                uncleanableIndex = index
                break
            }
        }
        uncleanableIndex = max(uncleanableIndex, dirtyIndex)
        var clean: Int64 = 0
        for index in 0..<segments.count where segments[index].baseOffset < firstDirty && index <= dirtyIndex {
            clean += segments[index].size
        }
        var cleanable: Int64 = 0
        for index in dirtyIndex..<uncleanableIndex { cleanable += segments[index].size }
        var lagExceeded = false
        if config.maxCompactionLagMs != Int64.max, dirtyIndex < activeIndex {
            let oldestAllowed = now.subtractingReportingOverflow(max(0, config.maxCompactionLagMs)).partialValue
            let earliest = segments[dirtyIndex..<activeIndex].compactMap(\.firstBatchTimestamp).filter { $0 > 0 }.min()
            if let earliest, earliest < oldestAllowed { lagExceeded = true }
        }
        self.topicPartition = topicPartition
        self.firstDirtyOffset = firstDirty
        self.firstUncleanableOffset = segments[uncleanableIndex].baseOffset
        self.cleanBytes = clean
        self.cleanableBytes = cleanable
        self.dirtyRatio = clean + cleanable > 0 ? Double(cleanable) / Double(clean + cleanable) : 0
        self.maxCompactionLagExceeded = lagExceeded
        self.minCleanableDirtyRatio = config.minCleanableDirtyRatio
        self.dirtySegmentIndex = dirtyIndex
        self.uncleanableSegmentIndex = uncleanableIndex
    }
}
