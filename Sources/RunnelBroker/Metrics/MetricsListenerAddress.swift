/// Where the metrics HTTP endpoint listens (`metrics.listener`): `host:port`.
///
/// Accepted text: `127.0.0.1:9644`, `[::1]:9644`, `:9644` (all interfaces), port 0 for a free port; an empty
/// value or `none` disables the endpoint.
public struct MetricsListenerAddress: Sendable, Hashable, CustomStringConvertible {
    /// The host or IP to bind; empty = all interfaces.
    public var host: String
    /// 0...65535; 0 picks a free port.
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses a `metrics.listener` value; nil when the endpoint is disabled (empty or `none`).
    /// - Throws: `BrokerConfigurationError.invalidValue`.
    public static func parse(_ text: String) throws(BrokerConfigurationError) -> MetricsListenerAddress? {
        let trimmed = text.trimmingBlanks
        if trimmed.isEmpty || trimmed.lowercased() == "none" { return nil }
        guard let colon = trimmed.lastIndex(of: ":") else {
            throw .invalidValue(key: "metrics.listener", value: text, reason: "expected host:port, '' or none")
        }
        var host = String(trimmed[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            throw .invalidValue(key: "metrics.listener", value: text, reason: "write IPv6 hosts in brackets: [::1]:9644")
        }
        guard let port = Int(trimmed[trimmed.index(after: colon)...]), (0...65535).contains(port) else {
            throw .invalidValue(key: "metrics.listener", value: text, reason: "port must be 0...65535")
        }
        return MetricsListenerAddress(host: host, port: port)
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
