import NIOCore
import RunnelProtocol
import RunnelStorage

/// OffsetForLeaderEpoch (key 23), v2–4: Java consumers validate their positions with it. A single broker keeps
/// leader epoch 0 forever, so epoch 0 ends at the log end offset and any other epoch is unknown (-1, -1).
/// `current_leader_epoch` other than -1/0 is FENCED_LEADER_EPOCH (74, below ours) or UNKNOWN_LEADER_EPOCH (75).
struct OffsetForLeaderEpochHandler: ApiHandler {
    typealias Request = OffsetForLeaderEpochRequest
    var advertisedVersions: ClosedRange<Int16> { 2...4 }
    let broker: BrokerContext

    static let leaderEpoch: Int32 = 0
    static let fencedLeaderEpoch: Int16 = 74
    static let unknownLeaderEpoch: Int16 = 75

    func handle(_ request: OffsetForLeaderEpochRequest, context: RequestContext)
        -> EventLoopFuture<OffsetForLeaderEpochResponse?>
    {
        var response = OffsetForLeaderEpochResponse()
        response.throttleTimeMs = 0
        response.topics = request.topics.map { topic in
            var result = OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult()
            result.topic = topic.topic
            result.partitions = topic.partitions.map { partition in
                var answer = OffsetForLeaderEpochResponse.EpochEndOffset()
                answer.partition = partition.partition
                answer.leaderEpoch = -1
                answer.endOffset = -1
                guard let log = broker.topics.log(TopicPartition(topic: topic.topic, partition: partition.partition)) else {
                    answer.errorCode = ErrorCode.unknownTopicOrPartition.rawValue
                    return answer
                }
                if partition.currentLeaderEpoch >= 0, partition.currentLeaderEpoch != Self.leaderEpoch {
                    answer.errorCode =
                        partition.currentLeaderEpoch < Self.leaderEpoch ? Self.fencedLeaderEpoch : Self.unknownLeaderEpoch
                    return answer
                }
                answer.errorCode = 0
                if partition.leaderEpoch == Self.leaderEpoch {
                    answer.leaderEpoch = Self.leaderEpoch
                    answer.endOffset = log.logEndOffset
                }
                return answer
            }
            return result
        }
        return context.eventLoop.makeSucceededFuture(response)
    }
}
