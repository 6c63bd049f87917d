/// Where `reset-offsets` moves a group's committed offsets (the options of Kafka's `kafka-consumer-groups.sh`).
public enum OffsetResetSpec: Sendable, Equatable {
    /// The partition's log start offset.
    case earliest
    /// The partition's log end offset (high watermark).
    case latest
    /// This offset, clamped to `[earliest, latest]`.
    case offset(Int64)
    /// The committed offset plus this (may be negative), clamped; partitions need a committed offset.
    case shiftBy(Int64)
    /// The first offset whose record timestamp is at or after this many ms since the epoch (ListOffsets by
    /// timestamp); the log end offset when no record is that new.
    case timestamp(Int64)
}

/// One partition's row of a reset plan.
public struct OffsetResetEntry: Sendable, Equatable {
    public var topicPartition: TopicPartition
    /// The group's committed offset before the reset (nil: none).
    public var currentOffset: Int64?
    /// The offset the reset commits.
    public var newOffset: Int64

    public init(topicPartition: TopicPartition, currentOffset: Int64?, newOffset: Int64) {
        self.topicPartition = topicPartition
        self.currentOffset = currentOffset
        self.newOffset = newOffset
    }
}

/// The new committed offset of every partition a reset touches, computed from the partitions' current
/// earliest / latest offsets (and timestamp lookups), as Kafka's `ConsumerGroupCommand` computes it.
///
/// A pure value: ``compute(spec:partitions:committed:earliest:latest:timestampOffsets:)`` does no I/O, so the
/// rules are testable without a broker; ``KafkaAdmin/planOffsetReset(group:partitions:spec:)`` gathers the inputs.
public struct OffsetResetPlan: Sendable, Equatable {
    public var groupId: String
    /// Sorted by topic, then partition.
    public var entries: [OffsetResetEntry]

    public init(groupId: String, entries: [OffsetResetEntry]) {
        self.groupId = groupId
        self.entries = entries
    }

    /// The offsets to commit.
    public var offsets: [TopicPartition: Int64] {
        Dictionary(entries.map { ($0.topicPartition, $0.newOffset) }, uniquingKeysWith: { $1 })
    }

    /// Computes the new offset of each partition.
    ///
    /// Every target is clamped to `[earliest, latest]` (Kafka warns and does the same).
    /// - Parameters:
    ///   - committed: the group's committed offsets (partitions without one are absent).
    ///   - earliest: log start offset per partition; `latest`: log end offset per partition.
    ///   - timestampOffsets: for ``OffsetResetSpec/timestamp(_:)``, the ListOffsets answer per partition
    ///     (-1 or absent: no record at or after the timestamp, so the log end).
    /// - Throws: ``ClientError/invalidArgument(_:)`` for `shiftBy` on a partition without a committed offset, or
    ///   a partition whose earliest/latest offset is missing.
    public static func compute(
        spec: OffsetResetSpec, partitions: [TopicPartition], committed: [TopicPartition: Int64],
        earliest: [TopicPartition: Int64], latest: [TopicPartition: Int64],
        timestampOffsets: [TopicPartition: Int64] = [:]
    ) throws(ClientError) -> [OffsetResetEntry] {
        var entries: [OffsetResetEntry] = []
        for tp in Set(partitions).sorted() {
            guard let low = earliest[tp], let high = latest[tp], low >= 0, high >= low else {
                throw .invalidArgument("no earliest/latest offset known for \(tp)")
            }
            let current = committed[tp]
            let target: Int64
            switch spec {
            case .earliest: target = low
            case .latest: target = high
            case .offset(let offset): target = offset
            case .shiftBy(let delta):
                guard let current else {
                    throw .invalidArgument(
                        "cannot shift \(tp): the group has no committed offset there; use --to-earliest, --to-latest "
                            + "or --to-offset for it first")
                }
                let (sum, overflow) = current.addingReportingOverflow(delta)
                target = overflow ? (delta < 0 ? Int64.min : Int64.max) : sum
            case .timestamp:
                let found = timestampOffsets[tp] ?? -1
                target = found >= 0 ? found : high
            }
            entries.append(
                OffsetResetEntry(topicPartition: tp, currentOffset: current, newOffset: min(max(target, low), high)))
        }
        return entries
    }
}
