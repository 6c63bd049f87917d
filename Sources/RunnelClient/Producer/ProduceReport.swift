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

    public var recordCount: Int { recordIndices.count }

    public var description: String {
        let place = topicPartition.map { " to \($0)" } ?? ""
        return "\(recordCount) record(s)\(place) not acknowledged (records \(recordIndices)): \(error)"
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

    public init() {}

    public var recordsFailed: Int { failures.reduce(0) { $0 + $1.recordCount } }
    /// Records neither acknowledged, written (acks=0) nor failed: still buffered or in flight.
    public var recordsPending: Int {
        recordsAccepted - recordsAcknowledged - recordsWrittenUnacknowledged - recordsFailed
    }
}
