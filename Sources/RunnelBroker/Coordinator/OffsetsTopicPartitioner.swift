/// Which `__consumer_offsets` partition owns a group (KAFKA-FORMATS §8.1).
enum OffsetsTopicPartitioner {
    /// The internal topic's name.
    static let topicName = "__consumer_offsets"

    /// Java's `String.hashCode`: h = 31·h + c over UTF-16 code units, with Int32 wrap-around.
    static func javaStringHashCode(_ string: String) -> Int32 {
        var hash: Int32 = 0
        for unit in string.utf16 { hash = hash &* 31 &+ Int32(unit) }
        return hash
    }

    /// Kafka's `Utils.abs`: abs, except abs(Int32.min) = 0 (plain abs would overflow).
    static func kafkaAbs(_ value: Int32) -> Int32 {
        value == Int32.min ? 0 : abs(value)
    }

    /// `abs(javaHash(groupId)) % partitionCount`.
    /// - Precondition: `partitionCount > 0`.
    static func partition(for groupId: String, partitionCount: Int32) -> Int32 {
        precondition(partitionCount > 0, "offsets topic needs at least one partition")
        return kafkaAbs(javaStringHashCode(groupId)) % partitionCount
    }
}
