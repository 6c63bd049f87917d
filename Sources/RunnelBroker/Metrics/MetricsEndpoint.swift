/// The metrics endpoint once bound (port 0 becomes the real port).
public struct MetricsEndpoint: Sendable, Hashable {
    /// The bound IP address text (or the configured host when it was a name).
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `http://HOST:PORT/metrics`, IPv6 in brackets.
    public var url: String {
        let shown = host.contains(":") ? "[\(host)]" : host
        return "http://\(shown):\(port)/metrics"
    }
}
