import NIOCore
import RunnelProtocol
import RunnelStorage

/// ListOffsets (key 2), v1–7: -2 earliest (log start offset), -1 latest (high watermark; read_committed is the
/// same without transactions), -3 the record with the max timestamp (v7+), else the first offset whose
/// timestamp ≥ the given one (offset -1 / timestamp -1 when none).
struct ListOffsetsHandler: ApiHandler {
    typealias Request = ListOffsetsRequest
    var advertisedVersions: ClosedRange<Int16> { 1...7 }
    let broker: BrokerContext

    static let latest: Int64 = -1
    static let earliest: Int64 = -2
    static let maxTimestamp: Int64 = -3

    func handle(_ request: ListOffsetsRequest, context: RequestContext) -> EventLoopFuture<ListOffsetsResponse?> {
        var response = ListOffsetsResponse()
        response.throttleTimeMs = 0
        response.topics = request.topics.map { topic in
            var topicResponse = ListOffsetsResponse.ListOffsetsTopicResponse()
            topicResponse.name = topic.name
            topicResponse.partitions = topic.partitions.map { partition in
                lookup(
                    TopicPartition(topic: topic.name, partition: partition.partitionIndex), partition.timestamp,
                    version: context.version)
            }
            return topicResponse
        }
        return context.eventLoop.makeSucceededFuture(response)
    }

    private func lookup(_ tp: TopicPartition, _ timestamp: Int64, version: Int16)
        -> ListOffsetsResponse.ListOffsetsPartitionResponse
    {
        var result = ListOffsetsResponse.ListOffsetsPartitionResponse()
        result.partitionIndex = tp.partition
        result.timestamp = -1
        result.offset = -1
        result.leaderEpoch = -1
        guard let log = broker.topics.log(tp) else {
            result.errorCode = ErrorCode.unknownTopicOrPartition.rawValue
            return result
        }
        do {
            switch timestamp {
            case Self.latest:
                result.offset = log.highWatermark
                result.leaderEpoch = 0
            case Self.earliest:
                result.offset = log.logStartOffset
                result.leaderEpoch = 0
            case Self.maxTimestamp:
                if let found = try log.offsetOfMaxTimestamp() {
                    result.offset = found.offset
                    result.timestamp = found.timestamp
                    result.leaderEpoch = 0
                }
            default:
                guard timestamp >= 0 else {
                    result.errorCode = ErrorCode.invalidRequest.rawValue
                    return result
                }
                if let found = try log.offsetForTimestamp(timestamp) {
                    result.offset = found.offset
                    result.timestamp = found.timestamp
                    result.leaderEpoch = 0
                }
            }
            result.errorCode = 0
            // leader_epoch exists from v4 on; earlier versions must keep the default.
            if version < 4 { result.leaderEpoch = -1 }
        } catch {
            result.errorCode = ErrorCode(error).rawValue
        }
        return result
    }
}
