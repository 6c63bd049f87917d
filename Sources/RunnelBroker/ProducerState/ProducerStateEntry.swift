/// What one partition remembers about one producer id (Kafka's `ProducerStateEntry`).
///
/// Invariant: `batches.count <= ProducerStateEntry.retainedBatches`, oldest first, sequences increasing.
public struct ProducerStateEntry: Sendable, Hashable {
    /// Kafka's `NUM_BATCHES_TO_RETAIN`: idempotent producers keep at most 5 requests in flight.
    public static let retainedBatches = 5

    public let producerId: Int64
    /// -1 (`NO_PRODUCER_EPOCH`) when unknown.
    public var producerEpoch: Int16
    public var coordinatorEpoch: Int32
    /// ms of the last append (for expiry).
    public var lastTimestamp: Int64
    public var batches: [ProducerBatchMetadata]

    public init(producerId: Int64, producerEpoch: Int16, coordinatorEpoch: Int32 = -1, lastTimestamp: Int64 = -1,
        batches: [ProducerBatchMetadata] = [])
    {
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.coordinatorEpoch = coordinatorEpoch
        self.lastTimestamp = lastTimestamp
        self.batches = batches
    }

    /// Last sequence appended, or -1 when no batch is retained.
    public var lastSeq: Int32 { batches.last?.lastSeq ?? -1 }
    public var lastDataOffset: Int64 { batches.last?.lastOffset ?? -1 }

    /// The retained batch with exactly this sequence range (a retried duplicate), if any.
    public func duplicate(firstSeq: Int32, lastSeq: Int32) -> ProducerBatchMetadata? {
        batches.first { $0.firstSeq == firstSeq && $0.lastSeq == lastSeq }
    }

    /// Records an appended batch, evicting the oldest beyond 5. A new epoch clears the old epoch's batches.
    public mutating func record(epoch: Int16, batch: ProducerBatchMetadata) {
        if epoch != producerEpoch {
            batches.removeAll()
            producerEpoch = epoch
        }
        batches.append(batch)
        if batches.count > Self.retainedBatches { batches.removeFirst(batches.count - Self.retainedBatches) }
        lastTimestamp = max(lastTimestamp, batch.timestamp)
    }
}
