public import NIOCore

/// Chooses a partition for a record as Java's default partitioner does.
///
/// - Keyed records: `toPositive(murmur2(key)) % numPartitions`, so a key always lands on the same partition as it
///   would with the Java client, librdkafka's `murmur2_random` partitioner or kafka-python.
/// - Null keys: sticky (KIP-480): stay on one partition until its batch is closed, then move to the next one
///   (round robin), which fills batches quickly and still spreads records over every partition.
///
/// A value type, one per topic, owned by the producer.
public struct Partitioner: Sendable {
    /// The partition null-key records currently go to.
    public private(set) var stickyPartition: Int32

    /// - Parameter start: the first sticky partition (the producer picks it at random).
    public init(start: Int32 = 0) {
        self.stickyPartition = max(0, start)
    }

    /// The partition for a record with `key` in a topic of `partitionCount` (> 0) partitions.
    public func partition(key: ByteBuffer?, partitionCount: Int32) -> Int32 {
        precondition(partitionCount > 0, "a topic has at least one partition")
        guard let key else { return stickyPartition % partitionCount }
        return Self.keyedPartition(key: key, partitionCount: partitionCount)
    }

    /// `toPositive(murmur2(key)) % partitionCount`.
    public static func keyedPartition(key: ByteBuffer, partitionCount: Int32) -> Int32 {
        let hash = key.withUnsafeReadableBytes { Murmur2.hash($0) }
        return Murmur2.toPositive(hash) % partitionCount
    }

    /// Called when the batch of `partition` was closed: null-key records move on if it was the sticky one.
    public mutating func batchClosed(partition: Int32, partitionCount: Int32) {
        guard partitionCount > 0, partition == stickyPartition % partitionCount else { return }
        stickyPartition = (partition + 1) % partitionCount
    }
}
