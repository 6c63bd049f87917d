import NIOCore
import RunnelProtocol
import RunnelStorage

/// DeleteRecords (key 21), v0–2 (§7): moves the log start offset to `offset` (-1 = high watermark). Topics whose
/// cleanup.policy lacks `delete` get POLICY_VIOLATION; offsets outside [0, high watermark] OFFSET_OUT_OF_RANGE.
struct DeleteRecordsHandler: ApiHandler {
    typealias Request = DeleteRecordsRequest
    var advertisedVersions: ClosedRange<Int16> { 0...2 }
    let broker: BrokerContext

    func handle(_ request: DeleteRecordsRequest, context: RequestContext) -> EventLoopFuture<DeleteRecordsResponse?> {
        let broker = self.broker
        return broker.runBlocking(on: context.eventLoop) { () -> DeleteRecordsResponse? in
            var response = DeleteRecordsResponse()
            response.throttleTimeMs = 0
            response.topics = request.topics.map { topic in
                var topicResult = DeleteRecordsResponse.DeleteRecordsTopicResult()
                topicResult.name = topic.name
                topicResult.partitions = topic.partitions.map { partition in
                    var result = DeleteRecordsResponse.DeleteRecordsPartitionResult()
                    result.partitionIndex = partition.partitionIndex
                    result.lowWatermark = -1
                    let tp = TopicPartition(topic: topic.name, partition: partition.partitionIndex)
                    guard let log = broker.topics.log(tp) else {
                        result.errorCode = ErrorCode.unknownTopicOrPartition.rawValue
                        return result
                    }
                    guard log.config.cleanupPolicy.deletesSegments else {
                        result.errorCode = ErrorCode.policyViolation.rawValue
                        return result
                    }
                    let offset = partition.offset == -1 ? log.highWatermark : partition.offset
                    guard offset >= 0, offset <= log.highWatermark else {
                        result.errorCode = ErrorCode.offsetOutOfRange.rawValue
                        return result
                    }
                    do {
                        result.lowWatermark = try log.deleteRecords(before: offset)
                        result.errorCode = 0
                        broker.fetchWaiters.notify(tp)
                    } catch {
                        result.errorCode = ErrorCode(any: error).rawValue
                    }
                    return result
                }
                return topicResult
            }
            return response
        }
    }
}
