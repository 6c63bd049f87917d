import NIOCore
import RunnelProtocol

/// Kafka's `ConfigResource.Type` codes.
enum ConfigResourceType: Int8 {
    case topic = 2
    case broker = 4
    case brokerLogger = 8
}

/// DescribeConfigs (key 32), v1–4: topic resources (overrides over broker defaults) and the broker resource
/// (name = this node id, or "" for cluster defaults), with sources and, when asked, synonyms.
struct DescribeConfigsHandler: ApiHandler {
    typealias Request = DescribeConfigsRequest
    var advertisedVersions: ClosedRange<Int16> { 1...4 }
    let broker: BrokerContext

    func handle(_ request: DescribeConfigsRequest, context: RequestContext) -> EventLoopFuture<DescribeConfigsResponse?> {
        let describer = ConfigDescriber(broker: broker)
        var response = DescribeConfigsResponse()
        response.throttleTimeMs = 0
        response.results = request.resources.map { resource in
            var result = DescribeConfigsResponse.DescribeConfigsResult()
            result.resourceType = resource.resourceType
            result.resourceName = resource.resourceName
            let entries: [ConfigEntry]
            switch ConfigResourceType(rawValue: resource.resourceType) {
            case .topic:
                if let reason = TopicName.validationError(resource.resourceName) {
                    result.errorCode = ErrorCode.invalidTopicException.rawValue
                    result.errorMessage = reason.clampedForWire()
                    return result
                }
                guard let topic = broker.topics.topic(resource.resourceName) else {
                    result.errorCode = ErrorCode.unknownTopicOrPartition.rawValue
                    result.errorMessage = "topic '\(resource.resourceName)' does not exist".clampedForWire()
                    return result
                }
                entries = describer.topicEntries(
                    overrides: topic.configs, keys: resource.configurationKeys, includeSynonyms: request.includeSynonyms)
            case .broker:
                guard resource.resourceName.isEmpty || resource.resourceName == String(broker.nodeId) else {
                    result.errorCode = ErrorCode.invalidRequest.rawValue
                    result.errorMessage = "unknown broker '\(resource.resourceName)'; this node is \(broker.nodeId)".clampedForWire()
                    return result
                }
                entries = describer.brokerEntries(keys: resource.configurationKeys, includeSynonyms: request.includeSynonyms)
            default:
                result.errorCode = ErrorCode.invalidRequest.rawValue
                result.errorMessage = "unsupported resource type \(resource.resourceType)".clampedForWire()
                return result
            }
            result.errorCode = 0
            result.configs = entries.map { entry in
                var config = DescribeConfigsResponse.DescribeConfigsResourceResult()
                config.name = entry.name
                config.value = entry.value
                config.readOnly = entry.readOnly
                config.configSource = entry.source.rawValue
                config.isSensitive = false
                config.synonyms = entry.synonyms.map { .init(name: $0.name, value: $0.value, source: $0.source.rawValue) }
                config.configType = entry.type.rawValue
                config.documentation = nil
                return config
            }
            return result
        }
        return context.eventLoop.makeSucceededFuture(response)
    }
}
