public import RunnelRecords

/// The producer-id fields of one incoming batch (from its header).
public struct ProducerBatchFields: Sendable, Hashable {
    public var producerId: Int64
    public var producerEpoch: Int16
    public var baseSequence: Int32
    public var lastOffsetDelta: Int32
    public var isTransactional: Bool
    public var isControl: Bool

    public init(producerId: Int64, producerEpoch: Int16, baseSequence: Int32, lastOffsetDelta: Int32,
        isTransactional: Bool = false, isControl: Bool = false)
    {
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
        self.lastOffsetDelta = lastOffsetDelta
        self.isTransactional = isTransactional
        self.isControl = isControl
    }

    public init(header: RecordBatchHeader) {
        self.init(
            producerId: header.producerId, producerEpoch: header.producerEpoch, baseSequence: header.baseSequence,
            lastOffsetDelta: header.lastOffsetDelta, isTransactional: header.attributes.isTransactional,
            isControl: header.attributes.isControl)
    }

    /// The batch's last sequence (`baseSequence (+) lastOffsetDelta`, wrapping).
    public var lastSequence: Int32 {
        baseSequence < 0 ? -1 : ProducerSequence.increment(baseSequence, by: lastOffsetDelta)
    }
}

/// Offsets a successful append assigned to a batch.
public struct AppendedBatch: Sendable, Hashable {
    public var firstOffset: Int64
    public var lastOffset: Int64
    /// The batch's max timestamp, or the log-append time, ms.
    public var timestamp: Int64

    public init(firstOffset: Int64, lastOffset: Int64, timestamp: Int64) {
        self.firstOffset = firstOffset
        self.lastOffset = lastOffset
        self.timestamp = timestamp
    }
}

/// What happened to an idempotent batch.
public enum ProducerAppendOutcome: Sendable, Hashable {
    /// Validated and appended.
    case appended(AppendedBatch)
    /// A retry of a retained batch: not appended; answer with the original offsets.
    case duplicate(ProducerBatchMetadata)
}
