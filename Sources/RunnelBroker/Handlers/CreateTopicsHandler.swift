import NIOCore
import RunnelProtocol

/// CreateTopics (key 19), v2–7: partitions -1 / replication factor -1 take the broker defaults (v4+); manual
/// assignments must name this node only; configs are topic-level keys validated by `LogConfig`; validate_only
/// changes nothing. Errors: TOPIC_ALREADY_EXISTS 36, INVALID_TOPIC_EXCEPTION 17, INVALID_PARTITIONS 37,
/// INVALID_REPLICATION_FACTOR 38, INVALID_REPLICA_ASSIGNMENT 39, INVALID_CONFIG 40, INVALID_REQUEST 42 (a name
/// twice in one request).
struct CreateTopicsHandler: ApiHandler {
    typealias Request = CreateTopicsRequest
    var advertisedVersions: ClosedRange<Int16> { 2...7 }
    let broker: BrokerContext

    func handle(_ request: CreateTopicsRequest, context: RequestContext) -> EventLoopFuture<CreateTopicsResponse?> {
        let broker = self.broker
        let version = context.version
        return broker.runBlocking(on: context.eventLoop) { () -> CreateTopicsResponse? in
            var counts: [String: Int] = [:]
            for topic in request.topics { counts[topic.name, default: 0] += 1 }
            var response = CreateTopicsResponse()
            response.throttleTimeMs = 0
            response.topics = request.topics.map { topic in
                var result = CreateTopicsResponse.CreatableTopicResult()
                result.name = topic.name
                result.numPartitions = -1
                result.replicationFactor = -1
                if counts[topic.name, default: 0] > 1 {
                    result.errorCode = ErrorCode.invalidRequest.rawValue
                    result.errorMessage = "topic '\(topic.name)' appears more than once in the request".clampedForWire()
                    return result
                }
                var partitions = topic.numPartitions == -1 ? broker.configuration.numPartitions : topic.numPartitions
                var replication = topic.replicationFactor == -1 ? broker.configuration.defaultReplicationFactor : topic.replicationFactor
                if !topic.assignments.isEmpty {
                    guard topic.numPartitions == -1, topic.replicationFactor == -1 else {
                        result.errorCode = ErrorCode.invalidRequest.rawValue
                        result.errorMessage = "give either assignments or partitions/replication factor"
                        return result
                    }
                    let valid = topic.assignments.allSatisfy { $0.brokerIds == [broker.nodeId] }
                        && Set(topic.assignments.map(\.partitionIndex)) == Set(0..<Int32(topic.assignments.count))
                    guard valid else {
                        result.errorCode = ErrorCode.invalidReplicaAssignment.rawValue
                        result.errorMessage = "assignments must cover partitions 0..<n with broker \(broker.nodeId) only".clampedForWire()
                        return result
                    }
                    partitions = Int32(topic.assignments.count)
                    replication = 1
                }
                var configs: [String: String] = [:]
                for entry in topic.configs {
                    guard let value = entry.value else {
                        result.errorCode = ErrorCode.invalidConfig.rawValue
                        result.errorMessage = "null value for config \(entry.name)".clampedForWire()
                        return result
                    }
                    configs[entry.name] = value
                }
                do {
                    let created = try broker.topics.createTopic(
                        topic.name, partitions: partitions, replicationFactor: replication, configs: configs,
                        validateOnly: request.validateOnly)
                    result.errorCode = 0
                    result.topicId = request.validateOnly ? .zero : created.topicId
                    result.numPartitions = partitions
                    result.replicationFactor = 1
                    if version >= 5 {
                        result.configs = ConfigDescriber(broker: broker).topicEntries(
                            overrides: configs, keys: nil, includeSynonyms: false
                        ).map {
                            CreateTopicsResponse.CreatableTopicConfigs(
                                name: $0.name, value: $0.value, readOnly: $0.readOnly, configSource: $0.source.rawValue,
                                isSensitive: false)
                        }
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
