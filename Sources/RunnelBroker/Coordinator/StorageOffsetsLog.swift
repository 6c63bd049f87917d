import Dispatch
import Logging
import NIOCore
import RunnelRecords
import RunnelStorage

/// Why the storage-backed offsets log failed.
enum OffsetsLogError: Error, Sendable, CustomStringConvertible {
    /// The `__consumer_offsets` partition has no log (topic missing or fewer partitions).
    case missingPartition(Int32)
    /// The topic exists with a different partition count than `offsets.topic.num.partitions`.
    case partitionCountMismatch(existing: Int32, configured: Int32)

    var description: String {
        switch self {
        case .missingPartition(let partition): "__consumer_offsets partition \(partition) has no log"
        case .partitionCountMismatch(let existing, let configured):
            "__consumer_offsets has \(existing) partitions but offsets.topic.num.partitions is \(configured)"
        }
    }
}

/// The `OffsetsLog` the broker uses: the partitions of the compacted `__consumer_offsets` topic in storage.
///
/// Thread-safe: `TopicManager` and `PartitionLog` guard themselves; this type holds only immutable references.
/// `append` is one `PartitionLog.append` (a `pwrite`, no fsync), so it returns once the page cache has the
/// batch: a crashed *process* (SIGKILL) loses nothing; an fsync happens when the log's flush policy asks for one,
/// on a private serial queue so the coordinator actor never blocks on it.
final class StorageOffsetsLog: OffsetsLog {
    let topics: TopicManager
    let partitionCount: Int32
    /// `segment.bytes` of the topic when this type creates it.
    let segmentBytes: Int
    private let clock: @Sendable () -> Int64
    private let logger: Logger
    private let flushQueue = DispatchQueue(label: "runnel.coordinator.offsets-flush", qos: .utility)
    /// Bytes read per `PartitionLog.read` while replaying.
    private let readChunkBytes = 1 << 20

    init(
        topics: TopicManager, partitionCount: Int32, segmentBytes: Int = 104_857_600, logger: Logger,
        clock: @escaping @Sendable () -> Int64
    ) {
        self.topics = topics
        self.partitionCount = partitionCount
        self.segmentBytes = segmentBytes
        self.logger = logger
        self.clock = clock
    }

    /// Whether `__consumer_offsets` exists. Like Kafka, the topic is created on the first FindCoordinator (or
    /// the first append), not at start-up, so brokers that never see a group do not list it.
    var topicExists: Bool { topics.topic(OffsetsTopicPartitioner.topicName) != nil }

    /// Creates `__consumer_offsets` (compacted, `segmentBytes` segments) if it does not exist yet, and checks the
    /// partition count of an existing one. Blocking (directory creation, metadata fsync): call from a thread pool.
    /// - Throws: `TopicError` from creation; `OffsetsLogError.partitionCountMismatch` for an existing topic whose
    ///   partition count differs (group → partition mapping would change: Kafka forbids it too).
    func prepare() throws {
        let name = OffsetsTopicPartitioner.topicName
        if let existing = topics.topic(name) {
            guard existing.partitionCount == partitionCount else {
                throw OffsetsLogError.partitionCountMismatch(
                    existing: existing.partitionCount, configured: partitionCount)
            }
            return
        }
        do {
            try topics.createTopic(
                name, partitions: partitionCount,
                configs: [
                    "cleanup.policy": "compact", "segment.bytes": "\(segmentBytes)", "compression.type": "producer",
                ])
        } catch .alreadyExists {
            return
        }
    }

    /// Appends to the partition, creating the topic first if needed (a blocking fallback: normally FindCoordinator
    /// has created it on the thread pool already).
    func append(partition: Int32, batch: ByteBuffer) throws {
        if !topicExists { try prepare() }
        let log = try log(partition)
        let info = try log.append(batch, now: clock())
        if info.flushNeeded {
            flushQueue.async { [logger] in
                do { try log.flush() } catch {
                    logger.warning("flushing __consumer_offsets failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// The partition's batches; none while the topic does not exist.
    func readAll(partition: Int32) throws -> [ByteBuffer] {
        guard topicExists else { return [] }
        let log = try log(partition)
        var result: [ByteBuffer] = []
        var offset = log.logStartOffset
        while offset < log.logEndOffset {
            let read = try log.read(from: offset, maxBytes: readChunkBytes, minOneBatch: true)
            var bytes = ByteBuffer()
            for chunk in read.chunks {
                switch chunk {
                case .memory(let buffer):
                    bytes.writeImmutableBuffer(buffer)
                case .file(let slice):
                    var buffer = try slice.readBytes()
                    bytes.writeBuffer(&buffer)
                }
            }
            var batches = RecordBatchIterator(bytes)
            var next: Int64?
            while let batch = try batches.next() { next = batch.header.lastOffset + 1 }
            // No whole batch, or no progress: stop rather than loop (the log's recovery owns torn tails).
            guard let next, next > offset else { break }
            result.append(bytes)
            offset = next
        }
        return result
    }

    private func log(_ partition: Int32) throws -> PartitionLog {
        let tp = TopicPartition(topic: OffsetsTopicPartitioner.topicName, partition: partition)
        guard let log = topics.log(tp) else { throw OffsetsLogError.missingPartition(partition) }
        return log
    }
}
