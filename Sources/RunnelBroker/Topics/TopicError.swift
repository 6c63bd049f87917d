/// Why a topic-metadata operation failed. The handler boundary maps these to Kafka error codes.
public enum TopicError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidName(String, reason: String)            // INVALID_TOPIC_EXCEPTION (17)
    case alreadyExists(String)                           // TOPIC_ALREADY_EXISTS (36)
    case unknownTopic(String)                            // UNKNOWN_TOPIC_OR_PARTITION (3)
    case invalidPartitions(String, reason: String)       // INVALID_PARTITIONS (37)
    case invalidReplicationFactor(String, reason: String)  // INVALID_REPLICATION_FACTOR (38)
    case invalidConfig(String, reason: String)           // INVALID_CONFIG (40)
    case deletionDisabled(String)                        // TOPIC_DELETION_DISABLED (73)
    case storage(String, reason: String)                 // KAFKA_STORAGE_ERROR (56)
    case corruptMetadataFile(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidName(name, reason): "invalid topic name '\(name)': \(reason)"
        case let .alreadyExists(name): "topic '\(name)' already exists"
        case let .unknownTopic(name): "topic '\(name)' does not exist"
        case let .invalidPartitions(name, reason): "invalid partitions for '\(name)': \(reason)"
        case let .invalidReplicationFactor(name, reason): "invalid replication factor for '\(name)': \(reason)"
        case let .invalidConfig(name, reason): "invalid config for '\(name)': \(reason)"
        case let .deletionDisabled(name): "cannot delete '\(name)': delete.topic.enable is false"
        case let .storage(name, reason): "storage error for '\(name)': \(reason)"
        case let .corruptMetadataFile(path, reason): "corrupt topic metadata file \(path): \(reason)"
        }
    }
}
