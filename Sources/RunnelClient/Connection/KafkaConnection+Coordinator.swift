import RunnelProtocol

extension KafkaConnection {
    /// FindCoordinator for a group, retrying while the coordinator loads (as a consumer does).
    public func coordinatorAddress(of group: String) async throws(ClientError) -> BrokerAddress {
        let version = try version(for: .findCoordinator)
        var attempt = 0
        while true {
            // v4 batches keys in `coordinatorKeys`; older versions take one `key`.
            let request =
                version >= 4
                ? FindCoordinatorRequest(keyType: 0, coordinatorKeys: [group])
                : FindCoordinatorRequest(key: group, keyType: 0)
            let response = try await send(request, version: version)
            var code = KafkaErrorCode(rawValue: response.errorCode)
            var host = response.host
            var port = response.port
            var message = response.errorMessage
            if version >= 4, let entry = response.coordinators.first {
                code = KafkaErrorCode(rawValue: entry.errorCode)
                (host, port, message) = (entry.host, entry.port, entry.errorMessage)
            }
            if code == .none { return BrokerAddress(host: host, port: Int(port)) }
            attempt += 1
            guard code.isRetriable, attempt < 50 else {
                throw .broker(operation: "FindCoordinator for group \(group)", code: code, message: message)
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}
