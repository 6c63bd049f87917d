/// A topic name and a partition number: the unit of storage (one directory, one `PartitionLog`).
///
/// Ordering is by topic, then partition, so sorted lists read like `ls`.
public struct TopicPartition: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let topic: String
    public let partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    /// `<topic>-<partition>`, the partition's directory name inside a data directory (KAFKA-FORMATS §5.1).
    public var directoryName: String { "\(topic)-\(partition)" }

    /// Parses `<topic>-<partition>` by splitting at the last `-` (topics may contain `-`).
    /// Returns nil when there is no `-`, the topic is empty, or the partition is not a non-negative int32.
    public init?(directoryName: String) {
        guard let dash = directoryName.lastIndex(of: "-") else { return nil }
        let topic = String(directoryName[..<dash])
        let digits = directoryName[directoryName.index(after: dash)...]
        guard !topic.isEmpty, !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            let partition = Int32(digits), partition >= 0
        else { return nil }
        self.init(topic: topic, partition: partition)
    }

    public var description: String { directoryName }

    public static func < (lhs: TopicPartition, rhs: TopicPartition) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }
}
