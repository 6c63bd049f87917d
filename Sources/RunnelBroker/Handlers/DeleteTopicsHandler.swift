import NIOCore
import RunnelProtocol
import RunnelStorage

/// DeleteTopics (key 20), v1–5 (v6's topic ids are not served): deletes topics and their logs, unless
/// `delete.topic.enable` is false (TOPIC_DELETION_DISABLED 73).
struct DeleteTopicsHandler: ApiHandler {
    typealias Request = DeleteTopicsRequest
    var advertisedVersions: ClosedRange<Int16> { 1...5 }
    let broker: BrokerContext

    func handle(_ request: DeleteTopicsRequest, context: RequestContext) -> EventLoopFuture<DeleteTopicsResponse?> {
        let broker = self.broker
        return broker.runBlocking(on: context.eventLoop) { () -> DeleteTopicsResponse? in
            var response = DeleteTopicsResponse()
            response.throttleTimeMs = 0
            response.responses = request.topicNames.map { name in
                var result = DeleteTopicsResponse.DeletableTopicResult()
                result.name = name
                guard broker.configuration.deleteTopicEnable else {
                    result.errorCode = ErrorCode.topicDeletionDisabled.rawValue
                    result.errorMessage = "delete.topic.enable is false"
                    return result
                }
                do {
                    let deleted = try broker.topics.deleteTopic(name)
                    result.topicId = deleted.topicId
                    result.errorCode = 0
                    for partition in 0..<deleted.partitionCount {
                        let tp = TopicPartition(topic: name, partition: partition)
                        broker.producerStates.remove(tp)
                        broker.fetchWaiters.notify(tp)
                    }
                } catch {
                    result.errorCode = ErrorCode(any: error).rawValue
                    result.errorMessage = "\(error)".clampedForWire()
                }
                return result
            }
            return response
        }
    }
}
