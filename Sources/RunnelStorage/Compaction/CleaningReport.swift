/// What one cleaning round of one partition did (or, for a dry run, would do). "Before" counts cover the segments
/// the round rewrote (from the start of the log up to `nextDirtyOffset`'s segment); "after" counts their
/// replacement.
public struct CleaningReport: Sendable, Hashable, Codable {
    public var topic: String
    public var partition: Int32
    /// Nothing was written (a dry run).
    public var dryRun: Bool
    /// First dirty offset at the start of the round (from `cleaner-offset-checkpoint`, else the log start offset).
    public var firstDirtyOffset: Int64
    /// First offset the round could not clean (active segment, `min.compaction.lag.ms`).
    public var firstUncleanableOffset: Int64
    /// The new first dirty offset: the checkpoint written after the round (= firstDirtyOffset when nothing was done).
    public var nextDirtyOffset: Int64
    /// cleanableBytes / (cleanBytes + cleanableBytes) at the start of the round.
    public var dirtyRatio: Double
    public var segmentsBefore: Int = 0
    public var segmentsAfter: Int = 0
    public var bytesBefore: Int64 = 0
    public var bytesAfter: Int64 = 0
    /// Records (and batches) read by the rewrite, and kept.
    public var recordsBefore: Int64 = 0
    public var recordsAfter: Int64 = 0
    public var batchesBefore: Int64 = 0
    public var batchesAfter: Int64 = 0
    /// Distinct keys in the offset map (keys of the dirty section this round covered).
    public var keys: Int = 0
    /// Records with a null value removed (superseded, or past their delete horizon).
    public var tombstonesRemoved: Int64 = 0
    /// Records without a key removed (they cannot be compacted; Kafka counts them as invalid).
    public var recordsWithoutKeyRemoved: Int64 = 0
    /// Bytes read in total (map building + rewrite) and written.
    public var bytesRead: Int64 = 0
    public var bytesWritten: Int64 = 0
    /// Whether the key map filled up before the end of the dirty section (another round is needed).
    public var mapFilled: Bool = false
    /// Fraction of the map's slots used.
    public var mapUtilization: Double = 0
    public var durationMs: Int64 = 0

    public init(
        topicPartition: TopicPartition, dryRun: Bool, firstDirtyOffset: Int64, firstUncleanableOffset: Int64,
        nextDirtyOffset: Int64, dirtyRatio: Double
    ) {
        self.topic = topicPartition.topic
        self.partition = topicPartition.partition
        self.dryRun = dryRun
        self.firstDirtyOffset = firstDirtyOffset
        self.firstUncleanableOffset = firstUncleanableOffset
        self.nextDirtyOffset = nextDirtyOffset
        self.dirtyRatio = dirtyRatio
    }

    public var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }
    /// Records removed by the round.
    public var recordsRemoved: Int64 { recordsBefore - recordsAfter }
    /// Whether the round rewrote anything.
    public var didWork: Bool { segmentsBefore > 0 }
}

/// Where a cleaning is, for progress reports: `bytesDone` of `bytesTotal` (map building reads the dirty section,
/// the rewrite reads the rewritten segments; totals are estimates from segment sizes).
public struct CleaningProgress: Sendable, Hashable {
    public enum Phase: String, Sendable, Hashable {
        case indexing
        case rewriting
    }
    public var topicPartition: TopicPartition
    public var phase: Phase
    public var bytesDone: Int64
    public var bytesTotal: Int64
}

/// Cumulative counters of a `LogCleaner` (all threads), for metrics and logs.
public struct CleanerStats: Sendable, Hashable {
    /// Cleaning rounds completed (dry runs excluded).
    public var cleanings: Int64 = 0
    /// Cleanings that failed or were aborted.
    public var failures: Int64 = 0
    public var bytesRead: Int64 = 0
    public var bytesWritten: Int64 = 0
    public var recordsRead: Int64 = 0
    public var recordsRemoved: Int64 = 0
    public var tombstonesRemoved: Int64 = 0
    /// Total time spent cleaning (ms) and the last round's duration (ms).
    public var totalDurationMs: Int64 = 0
    public var lastDurationMs: Int64 = 0
    /// The highest dirty ratio seen by the last look for work (Kafka's `max-dirty-percent` / 100).
    public var maxDirtyRatio: Double = 0
    /// The last round's map utilization (Kafka's `max-buffer-utilization-percent` / 100).
    public var lastMapUtilization: Double = 0

    public init() {}

    mutating func record(_ report: CleaningReport) {
        guard !report.dryRun else { return }
        cleanings += 1
        bytesRead += report.bytesRead
        bytesWritten += report.bytesWritten
        recordsRead += report.recordsBefore
        recordsRemoved += report.recordsRemoved
        tombstonesRemoved += report.tombstonesRemoved
        totalDurationMs += report.durationMs
        lastDurationMs = report.durationMs
        lastMapUtilization = report.mapUtilization
    }
}
