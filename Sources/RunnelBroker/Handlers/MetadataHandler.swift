import NIOCore
import RunnelProtocol

/// Metadata (key 3), v0–12: the single broker (node id, advertised host/port), controller = this node, the
/// cluster id, and topics with their partitions, auto-creating requested topics when allowed.
///
/// v0: an empty topic list means all topics; v1+: null = all, empty = none. v4+: `allow_auto_topic_creation`
/// (and the broker's `auto.create.topics.enable`) gate creation. v10+: topic ids; a topic may be named by id.
struct MetadataHandler: ApiHandler {
    typealias Request = MetadataRequest
    var advertisedVersions: ClosedRange<Int16> { 0...12 }
    let broker: BrokerContext

    func handle(_ request: MetadataRequest, context: RequestContext) -> EventLoopFuture<MetadataResponse?> {
        let version = context.version
        let allTopics = request.topics == nil || (version == 0 && request.topics?.isEmpty == true)
        let mayCreate = broker.configuration.autoCreateTopicsEnable && (version < 4 || request.allowAutoTopicCreation)
        let requested = request.topics ?? []
        let missing = requested.compactMap(\.name).filter { self.broker.topics.topic($0) == nil }
        let needsCreation = !allTopics && mayCreate
            && missing.contains { TopicName.validationError($0) == nil }
        guard needsCreation else {
            return context.eventLoop.makeSucceededFuture(
                respond(request, allTopics: allTopics, mayCreate: mayCreate, failures: [:]))
        }
        // Creating topics makes directories and fsyncs metadata: off the event loop.
        let broker = self.broker
        return broker.runBlocking(on: context.eventLoop) { () -> [String: ErrorCode] in
            var failures: [String: ErrorCode] = [:]
            for name in missing where TopicName.validationError(name) == nil {
                do {
                    _ = try broker.autoCreateTopic(name)
                } catch {
                    broker.logger.warning("auto-create failed", metadata: ["topic": "\(name)", "error": "\(error)"])
                    failures[name] = ErrorCode(any: error)
                }
            }
            return failures
        }.map { failures in
            respond(request, allTopics: allTopics, mayCreate: mayCreate, failures: failures)
        }
    }

    private func respond(_ request: MetadataRequest, allTopics: Bool, mayCreate: Bool, failures: [String: ErrorCode])
        -> MetadataResponse
    {
        let endpoint = broker.primaryEndpoint
        var response = MetadataResponse()
        response.throttleTimeMs = 0
        response.brokers = [.init(nodeId: broker.nodeId, host: endpoint.host, port: endpoint.port, rack: nil)]
        response.clusterId = broker.clusterId
        response.controllerId = broker.nodeId
        if allTopics {
            response.topics = broker.topics.allTopics().map(describe)
        } else {
            response.topics = (request.topics ?? []).map { requested in
                if let name = requested.name {
                    if TopicName.validationError(name) != nil {
                        return errorTopic(name: name, id: .zero, code: .invalidTopicException)
                    }
                    if let topic = broker.topics.topic(name) { return describe(topic) }
                    return errorTopic(name: name, id: .zero, code: failures[name] ?? .unknownTopicOrPartition)
                }
                if let topic = broker.topics.topic(id: requested.topicId) { return describe(topic) }
                return errorTopic(name: nil, id: requested.topicId, code: .unknownTopicId)
            }
        }
        return response
    }

    private func describe(_ topic: TopicMetadata) -> MetadataResponse.MetadataResponseTopic {
        var result = MetadataResponse.MetadataResponseTopic()
        result.errorCode = 0
        result.name = topic.name
        result.topicId = topic.topicId
        result.isInternal = topic.isInternal
        result.partitions = (0..<topic.partitionCount).map { index in
            var partition = MetadataResponse.MetadataResponsePartition()
            partition.errorCode = 0
            partition.partitionIndex = index
            partition.leaderId = broker.nodeId
            partition.leaderEpoch = 0
            partition.replicaNodes = [broker.nodeId]
            partition.isrNodes = [broker.nodeId]
            partition.offlineReplicas = []
            return partition
        }
        return result
    }

    private func errorTopic(name: String?, id: KafkaUUID, code: ErrorCode) -> MetadataResponse.MetadataResponseTopic {
        var result = MetadataResponse.MetadataResponseTopic()
        result.errorCode = code.rawValue
        result.name = name
        result.topicId = id
        result.partitions = []
        return result
    }
}
