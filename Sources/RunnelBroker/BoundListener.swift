/// A listener once bound: the configured listener and the real port (port 0 picks a free one).
public struct BoundListener: Sendable, Hashable {
    public let listener: Listener
    /// The bound IP address text.
    public let host: String
    public let port: Int

    /// How to print it: the configured host, or the bound address for an empty host; IPv6 in brackets.
    public var hostForDisplay: String {
        let shown = listener.host.isEmpty ? host : listener.host
        return shown.contains(":") ? "[\(shown)]" : shown
    }
}
