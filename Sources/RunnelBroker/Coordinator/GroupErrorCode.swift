/// The Kafka error codes the group coordinator answers with (KAFKA-FORMATS §8.11, §10).
///
/// Kept apart from the broker's `ErrorCode` so the coordinator can grow without touching the broker's table;
/// the raw values are Kafka's.
enum GroupErrorCode: Int16, Sendable, Error {
    case unknownServerError = -1
    case none = 0
    case unknownTopicOrPartition = 3
    case offsetMetadataTooLarge = 12
    case coordinatorLoadInProgress = 14
    case coordinatorNotAvailable = 15
    case notCoordinator = 16
    case illegalGeneration = 22
    case inconsistentGroupProtocol = 23
    case invalidGroupId = 24
    case unknownMemberId = 25
    case invalidSessionTimeout = 26
    case rebalanceInProgress = 27
    case invalidCommitOffsetSize = 28
    case invalidRequest = 42
    case nonEmptyGroup = 68
    case groupIdNotFound = 69
    case memberIdRequired = 79
    case groupMaxSizeReached = 81
    case fencedInstanceId = 82
    case groupSubscribedToTopic = 86

    /// The wire value.
    var code: Int16 { rawValue }
}
