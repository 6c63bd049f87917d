/// One batch the broker acknowledged.
public struct ProduceAck: Sendable, Equatable {
    public var topicPartition: TopicPartition
    /// Offset of the batch's first record.
    public var baseOffset: Int64
    public var recordCount: Int
}

/// Records the producer could not deliver, with why.
public struct ProduceFailure: Sendable, CustomStringConvertible {
    public var topicPartition: TopicPartition?
    /// Which records (indices in the order they were handed to the producer, 0-based).
    public var recordIndices: IndexRanges
    public var error: ClientError
    /// How many times the batch was sent (0: never sent, e.g. an unknown partition).
    public var attempts: Int
    /// Set when the batch was given up because `delivery.timeout.ms` (this many ms) passed; `error` is then the
    /// last error it met.
    public var deliveryTimeoutMs: Int64?

    public init(topicPartition: TopicPartition?, recordIndices: IndexRanges, error: ClientError, attempts: Int = 0) {
        self.topicPartition = topicPartition
        self.recordIndices = recordIndices
        self.error = error
        self.attempts = attempts
    }

    public var recordCount: Int { recordIndices.count }

    public var description: String {
        let place = topicPartition.map { " to \($0)" } ?? ""
        var tries = attempts > 1 ? " after \(attempts) attempts" : ""
        if let deliveryTimeoutMs { tries += " (delivery timeout of \(deliveryTimeoutMs) ms expired)" }
        return "\(recordCount) record(s)\(place) not acknowledged\(tries) (records \(recordIndices)): \(error)"
    }
}

/// What a producer has done so far: counts, acknowledged batches and failures.
public struct ProduceReport: Sendable {
    /// Records handed to `send`.
    public var recordsAccepted = 0
    /// Records the broker acknowledged (acks 1/all).
    public var recordsAcknowledged = 0
    /// Records written to the socket with acks=0 (no acknowledgement exists).
    public var recordsWrittenUnacknowledged = 0
    /// Bytes of record batches sent (after compression).
    public var batchBytesSent = 0
    public var acknowledgements: [ProduceAck] = []
    public var failures: [ProduceFailure] = []
    /// Batch sends repeated after a retriable error.
    public var retriedBatches = 0
    /// Batches split in two after MESSAGE_TOO_LARGE (each half is then sent on its own).
    public var splitBatches = 0
    /// Connections re-established after the broker connection failed.
    public var reconnects = 0

    public init() {}

    public var recordsFailed: Int { failures.reduce(0) { $0 + $1.recordCount } }
    /// Records neither acknowledged, written (acks=0) nor failed: still buffered or in flight.
    public var recordsPending: Int {
        recordsAccepted - recordsAcknowledged - recordsWrittenUnacknowledged - recordsFailed
    }
}
