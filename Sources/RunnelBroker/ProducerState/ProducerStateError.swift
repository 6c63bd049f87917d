/// Why a batch from an idempotent producer was refused (§9). Maps to the Kafka error code in `kafkaCode`.
public enum ProducerStateError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The batch's epoch is older than the producer's current epoch: INVALID_PRODUCER_EPOCH (47).
    case invalidProducerEpoch(producerId: Int64, batchEpoch: Int16, currentEpoch: Int16)
    /// A gap or reorder in sequence numbers: OUT_OF_ORDER_SEQUENCE_NUMBER (45).
    case outOfOrderSequence(producerId: Int64, expectedAfter: Int32, received: Int32)
    /// producerId >= 0 with baseSequence < 0, or a transactional/control batch from a client: INVALID_RECORD (87).
    case invalidRecord(String)

    /// The Kafka error code.
    public var kafkaCode: Int16 {
        switch self {
        case .invalidProducerEpoch: 47
        case .outOfOrderSequence: 45
        case .invalidRecord: 87
        }
    }

    public var description: String {
        switch self {
        case let .invalidProducerEpoch(id, batch, current):
            "producer \(id): epoch \(batch) is older than the current epoch \(current)"
        case let .outOfOrderSequence(id, last, received):
            "producer \(id): out of order sequence \(received) (last appended \(last))"
        case let .invalidRecord(why): why
        }
    }
}
