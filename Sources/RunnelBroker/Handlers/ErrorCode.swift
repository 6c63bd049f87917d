import RunnelRecords
import RunnelStorage

/// Kafka error codes the broker returns (KAFKA-FORMATS §10), and the one place that maps internal errors to them.
enum ErrorCode: Int16, Sendable {
    case unknownServerError = -1
    case none = 0
    case offsetOutOfRange = 1
    case corruptMessage = 2
    case unknownTopicOrPartition = 3
    case leaderNotAvailable = 5
    case notLeaderOrFollower = 6
    case requestTimedOut = 7
    case messageTooLarge = 10
    case invalidTopicException = 17
    case recordListTooLarge = 18
    case invalidRequiredAcks = 21
    case clusterAuthorizationFailed = 31
    case invalidTimestamp = 32
    case unsupportedVersion = 35
    case topicAlreadyExists = 36
    case invalidPartitions = 37
    case invalidReplicationFactor = 38
    case invalidReplicaAssignment = 39
    case invalidConfig = 40
    case invalidRequest = 42
    case policyViolation = 44
    case outOfOrderSequenceNumber = 45
    case invalidProducerEpoch = 47
    case invalidTxnState = 48
    case kafkaStorageError = 56
    case transactionalIdAuthorizationFailed = 53
    case unknownProducerId = 59
    case topicDeletionDisabled = 73
    case unsupportedCompressionType = 76
    case invalidRecord = 87
    case unknownTopicId = 100

    /// Maps a storage failure (§2.9 / §10).
    init(_ error: StorageError) {
        switch error {
        case let .invalidBatch(records):
            self.init(records)
        case .messageTooLarge: self = .messageTooLarge
        case .recordListTooLarge: self = .recordListTooLarge
        case .offsetOutOfRange: self = .offsetOutOfRange
        case .logClosed: self = .notLeaderOrFollower
        case .invalidConfig: self = .invalidConfig
        case .nonMonotonicOffsets: self = .invalidRecord
        default: self = .kafkaStorageError
        }
    }

    /// Maps a topic-table failure.
    init(_ error: TopicError) {
        switch error {
        case .invalidName: self = .invalidTopicException
        case .alreadyExists: self = .topicAlreadyExists
        case .unknownTopic: self = .unknownTopicOrPartition
        case .invalidPartitions: self = .invalidPartitions
        case .invalidReplicationFactor: self = .invalidReplicationFactor
        case .invalidConfig: self = .invalidConfig
        case .deletionDisabled: self = .topicDeletionDisabled
        case .storage, .corruptMetadataFile: self = .kafkaStorageError
        }
    }

    /// Maps a records validation failure (produce-time record checks).
    init(_ error: RecordsError) {
        switch error {
        case .crcMismatch, .truncated, .invalidBatchLength: self = .corruptMessage
        case .invalidTimestamp: self = .invalidTimestamp
        default: self = .invalidRecord
        }
    }

    /// Maps any error thrown below a handler.
    init(any error: any Error) {
        switch error {
        case let error as StorageError: self.init(error)
        case let error as TopicError: self.init(error)
        case let error as RecordsError: self.init(error)
        case let error as ProducerStateError:
            self = ErrorCode(rawValue: error.kafkaCode) ?? .unknownServerError
        case is FileIOError: self = .kafkaStorageError
        default: self = .unknownServerError
        }
    }
}

extension String {
    /// The string cut to at most `maxUTF8Bytes` bytes on a character boundary, for error messages sent to clients:
    /// they may quote client input (a topic name can be 32767 bytes) and must stay within a wire string's limit.
    func clampedForWire(maxUTF8Bytes: Int = 1024) -> String {
        guard utf8.count > maxUTF8Bytes else { return self }
        var result = ""
        var used = 0
        for character in self {
            let size = character.utf8.count
            if used + size > maxUTF8Bytes - 3 { break }
            result.append(character)
            used += size
        }
        return result + "..."
    }
}
