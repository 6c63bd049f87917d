import NIOCore
import RunnelProtocol

/// DescribeCluster (key 60), v0–1: this node as the only broker and the controller.
struct DescribeClusterHandler: ApiHandler {
    typealias Request = DescribeClusterRequest
    var advertisedVersions: ClosedRange<Int16> { 0...1 }
    let broker: BrokerContext

    /// Kafka's UNSUPPORTED_ENDPOINT_TYPE: a broker asked for controller endpoints.
    static let unsupportedEndpointType: Int16 = 119

    func handle(_ request: DescribeClusterRequest, context: RequestContext) -> EventLoopFuture<DescribeClusterResponse?> {
        var response = DescribeClusterResponse()
        response.throttleTimeMs = 0
        response.endpointType = request.endpointType
        if context.version >= 1, request.endpointType != 1 {
            response.errorCode = Self.unsupportedEndpointType
            response.errorMessage = "only broker endpoints (type 1) are served"
            return context.eventLoop.makeSucceededFuture(response)
        }
        let endpoint = broker.primaryEndpoint
        response.errorCode = 0
        response.clusterId = broker.clusterId
        response.controllerId = broker.nodeId
        response.brokers = [.init(brokerId: broker.nodeId, host: endpoint.host, port: endpoint.port, rack: nil)]
        return context.eventLoop.makeSucceededFuture(response)
    }
}
