import NIOCore
import RunnelProtocol

/// IncrementalAlterConfigs (key 44), v0–1: SET (0), DELETE (1), APPEND (2) and SUBTRACT (3) on a topic's
/// overrides; APPEND/SUBTRACT work on list keys (`cleanup.policy`). Broker configs are static (INVALID_REQUEST).
struct IncrementalAlterConfigsHandler: ApiHandler {
    typealias Request = IncrementalAlterConfigsRequest
    var advertisedVersions: ClosedRange<Int16> { 0...1 }
    let broker: BrokerContext

    func handle(_ request: IncrementalAlterConfigsRequest, context: RequestContext)
        -> EventLoopFuture<IncrementalAlterConfigsResponse?>
    {
        let broker = self.broker
        return broker.runBlocking(on: context.eventLoop) { () -> IncrementalAlterConfigsResponse? in
            var response = IncrementalAlterConfigsResponse()
            response.throttleTimeMs = 0
            response.responses = request.resources.map { resource in
                var result = IncrementalAlterConfigsResponse.AlterConfigsResourceResponse()
                result.resourceType = resource.resourceType
                result.resourceName = resource.resourceName
                guard ConfigResourceType(rawValue: resource.resourceType) == .topic else {
                    result.errorCode = ErrorCode.invalidRequest.rawValue
                    result.errorMessage = "only topic configs can be altered; broker configs are static"
                    return result
                }
                guard let topic = broker.topics.topic(resource.resourceName) else {
                    result.errorCode = ErrorCode.unknownTopicOrPartition.rawValue
                    return result
                }
                var configs = topic.configs
                let effective = Dictionary(
                    ConfigDescriber(broker: broker).topicEntries(overrides: configs, keys: nil, includeSynonyms: false)
                        .map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { first, _ in first })
                for entry in resource.configs {
                    switch entry.configOperation {
                    case 0:
                        guard let value = entry.value else {
                            result.errorCode = ErrorCode.invalidConfig.rawValue
                            result.errorMessage = "null value for \(entry.name)".clampedForWire()
                            return result
                        }
                        configs[entry.name] = value
                    case 1:
                        configs.removeValue(forKey: entry.name)
                    case 2, 3:
                        var items = (configs[entry.name] ?? effective[entry.name] ?? "").split(separator: ",").map {
                            $0.trimmingBlanks
                        }.filter { !$0.isEmpty }
                        let given = (entry.value ?? "").split(separator: ",").map { $0.trimmingBlanks }
                        if entry.configOperation == 2 {
                            for item in given where !items.contains(item) { items.append(item) }
                        } else {
                            items.removeAll { given.contains($0) }
                        }
                        configs[entry.name] = items.joined(separator: ",")
                    default:
                        result.errorCode = ErrorCode.invalidRequest.rawValue
                        result.errorMessage = "unknown config operation \(entry.configOperation)".clampedForWire()
                        return result
                    }
                }
                do {
                    try broker.topics.setConfigs(resource.resourceName, configs: configs, validateOnly: request.validateOnly)
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
