/// A Kafka protocol error code (`int16`) with Kafka's name for the common ones.
///
/// A struct over the raw value, not an enum, so codes this table does not name still round-trip.
public struct KafkaErrorCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int16

    public init(rawValue: Int16) { self.rawValue = rawValue }

    public static let none = KafkaErrorCode(rawValue: 0)
    public static let offsetOutOfRange = KafkaErrorCode(rawValue: 1)
    public static let corruptMessage = KafkaErrorCode(rawValue: 2)
    public static let unknownTopicOrPartition = KafkaErrorCode(rawValue: 3)
    public static let leaderNotAvailable = KafkaErrorCode(rawValue: 5)
    public static let notLeaderOrFollower = KafkaErrorCode(rawValue: 6)
    public static let requestTimedOut = KafkaErrorCode(rawValue: 7)
    public static let messageTooLarge = KafkaErrorCode(rawValue: 10)
    public static let coordinatorLoadInProgress = KafkaErrorCode(rawValue: 14)
    public static let coordinatorNotAvailable = KafkaErrorCode(rawValue: 15)
    public static let notCoordinator = KafkaErrorCode(rawValue: 16)
    public static let illegalGeneration = KafkaErrorCode(rawValue: 22)
    public static let unknownMemberId = KafkaErrorCode(rawValue: 25)
    public static let rebalanceInProgress = KafkaErrorCode(rawValue: 27)
    public static let unsupportedVersion = KafkaErrorCode(rawValue: 35)
    public static let topicAlreadyExists = KafkaErrorCode(rawValue: 36)
    public static let outOfOrderSequenceNumber = KafkaErrorCode(rawValue: 45)
    public static let duplicateSequenceNumber = KafkaErrorCode(rawValue: 46)
    public static let memberIdRequired = KafkaErrorCode(rawValue: 79)

    /// Kafka's name for the code (e.g. `UNKNOWN_TOPIC_OR_PARTITION`), or nil if this table does not know it.
    public var name: String? { Self.names[rawValue] }

    /// `NAME (code)`, or `error code N`.
    public var description: String {
        if let name { return "\(name) (\(rawValue))" }
        return "error code \(rawValue)"
    }

    /// Whether a retry of the same request may succeed (Kafka's `RetriableException` subclasses we meet).
    public var isRetriable: Bool {
        [2, 3, 5, 6, 7, 13, 14, 15, 16, 19, 20, 56].contains(rawValue)
    }

    /// What a user can do about it, for the codes a CLI user meets most.
    public var hint: String? {
        switch rawValue {
        case 10: "the record or batch is larger than the topic's max.message.bytes; use a smaller --batch-size"
        case 17: "topic names use only letters, digits, '.', '_' and '-', at most 249 characters"
        case 36: "use a different name, or `runnel topics delete` it first"
        case 37: "the partition count can only grow"
        case 40: "check the key and value with `runnel topics describe`"
        default: nil
        }
    }

    private static let names: [Int16: String] = [
        -1: "UNKNOWN_SERVER_ERROR", 0: "NONE", 1: "OFFSET_OUT_OF_RANGE", 2: "CORRUPT_MESSAGE",
        3: "UNKNOWN_TOPIC_OR_PARTITION", 4: "INVALID_FETCH_SIZE", 5: "LEADER_NOT_AVAILABLE",
        6: "NOT_LEADER_OR_FOLLOWER", 7: "REQUEST_TIMED_OUT", 8: "BROKER_NOT_AVAILABLE", 10: "MESSAGE_TOO_LARGE",
        12: "OFFSET_METADATA_TOO_LARGE", 13: "NETWORK_EXCEPTION", 14: "COORDINATOR_LOAD_IN_PROGRESS",
        15: "COORDINATOR_NOT_AVAILABLE", 16: "NOT_COORDINATOR", 17: "INVALID_TOPIC_EXCEPTION",
        18: "RECORD_LIST_TOO_LARGE", 19: "NOT_ENOUGH_REPLICAS", 20: "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
        21: "INVALID_REQUIRED_ACKS", 22: "ILLEGAL_GENERATION", 23: "INCONSISTENT_GROUP_PROTOCOL",
        24: "INVALID_GROUP_ID", 25: "UNKNOWN_MEMBER_ID", 26: "INVALID_SESSION_TIMEOUT", 27: "REBALANCE_IN_PROGRESS",
        28: "INVALID_COMMIT_OFFSET_SIZE", 31: "CLUSTER_AUTHORIZATION_FAILED", 32: "INVALID_TIMESTAMP",
        33: "UNSUPPORTED_SASL_MECHANISM", 35: "UNSUPPORTED_VERSION", 36: "TOPIC_ALREADY_EXISTS",
        37: "INVALID_PARTITIONS", 38: "INVALID_REPLICATION_FACTOR", 39: "INVALID_REPLICA_ASSIGNMENT",
        40: "INVALID_CONFIG", 41: "NOT_CONTROLLER", 42: "INVALID_REQUEST", 43: "UNSUPPORTED_FOR_MESSAGE_FORMAT",
        44: "POLICY_VIOLATION", 45: "OUT_OF_ORDER_SEQUENCE_NUMBER", 46: "DUPLICATE_SEQUENCE_NUMBER",
        47: "INVALID_PRODUCER_EPOCH", 48: "INVALID_TXN_STATE", 53: "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
        56: "KAFKA_STORAGE_ERROR", 59: "UNKNOWN_PRODUCER_ID", 69: "GROUP_ID_NOT_FOUND",
        73: "TOPIC_DELETION_DISABLED", 76: "UNSUPPORTED_COMPRESSION_TYPE", 79: "MEMBER_ID_REQUIRED",
        87: "INVALID_RECORD", 100: "UNKNOWN_TOPIC_ID",
    ]
}
