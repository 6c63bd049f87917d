import NIOCore
import RunnelProtocol

/// AlterConfigs (key 33), v0–2: replaces a topic's whole override set. Broker configs are static here
/// (INVALID_REQUEST). Invalid keys or values: INVALID_CONFIG.
struct AlterConfigsHandler: ApiHandler {
    typealias Request = AlterConfigsRequest
    var advertisedVersions: ClosedRange<Int16> { 0...2 }
    let broker: BrokerContext

    func handle(_ request: AlterConfigsRequest, context: RequestContext) -> EventLoopFuture<AlterConfigsResponse?> {
        let broker = self.broker
        return broker.runBlocking(on: context.eventLoop) { () -> AlterConfigsResponse? in
            var response = AlterConfigsResponse()
            response.throttleTimeMs = 0
            response.responses = request.resources.map { resource in
                var result = AlterConfigsResponse.AlterConfigsResourceResponse()
                result.resourceType = resource.resourceType
                result.resourceName = resource.resourceName
                guard ConfigResourceType(rawValue: resource.resourceType) == .topic else {
                    result.errorCode = ErrorCode.invalidRequest.rawValue
                    result.errorMessage = "only topic configs can be altered; broker configs are static"
                    return result
                }
                var configs: [String: String] = [:]
                for entry in resource.configs {
                    guard let value = entry.value else {
                        result.errorCode = ErrorCode.invalidConfig.rawValue
                        result.errorMessage = "null value for \(entry.name)".clampedForWire()
                        return result
                    }
                    configs[entry.name] = value
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
