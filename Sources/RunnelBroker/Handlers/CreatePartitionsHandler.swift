import NIOCore
import RunnelProtocol

/// CreatePartitions (key 37), v0–3: grows a topic's partition count; assignments, when given, must name this
/// node only.
struct CreatePartitionsHandler: ApiHandler {
    typealias Request = CreatePartitionsRequest
    var advertisedVersions: ClosedRange<Int16> { 0...3 }
    let broker: BrokerContext

    func handle(_ request: CreatePartitionsRequest, context: RequestContext) -> EventLoopFuture<CreatePartitionsResponse?> {
        let broker = self.broker
        return broker.runBlocking(on: context.eventLoop) { () -> CreatePartitionsResponse? in
            var counts: [String: Int] = [:]
            for topic in request.topics { counts[topic.name, default: 0] += 1 }
            var response = CreatePartitionsResponse()
            response.throttleTimeMs = 0
            response.results = request.topics.map { topic in
                var result = CreatePartitionsResponse.CreatePartitionsTopicResult()
                result.name = topic.name
                if counts[topic.name, default: 0] > 1 {
                    result.errorCode = ErrorCode.invalidRequest.rawValue
                    result.errorMessage = "topic appears more than once"
                    return result
                }
                if let assignments = topic.assignments, !assignments.allSatisfy({ $0.brokerIds == [broker.nodeId] }) {
                    result.errorCode = ErrorCode.invalidReplicaAssignment.rawValue
                    result.errorMessage = "assignments must name broker \(broker.nodeId) only".clampedForWire()
                    return result
                }
                do {
                    try broker.topics.createPartitions(topic.name, newTotal: topic.count, validateOnly: request.validateOnly)
                    result.errorCode = 0
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
