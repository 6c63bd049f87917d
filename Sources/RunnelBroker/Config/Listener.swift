/// One `listeners` / `advertised.listeners` entry: `NAME://host:port`.
///
/// An empty host means "all interfaces" for a listener (Kafka's `PLAINTEXT://:9092`). Port 0 binds a free port.
/// IPv6 hosts are written in brackets (`PLAINTEXT://[::1]:9092`).
public struct Listener: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var host: String
    public var port: Int

    public init(name: String, host: String, port: Int) {
        self.name = name
        self.host = host
        self.port = port
    }

    /// Parses `NAME://host:port`.
    /// - Throws: `BrokerConfigurationError.invalidListener`.
    public init(parsing text: String) throws(BrokerConfigurationError) {
        let trimmed = text.trimmingBlanks
        let parts = trimmed.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw .invalidListener(text, reason: "expected NAME://host:port")
        }
        let name = String(parts[0]).uppercased()
        let rest = parts[1]
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw .invalidListener(text, reason: "bad listener name")
        }
        guard let colon = rest.lastIndex(of: ":") else {
            throw .invalidListener(text, reason: "missing port")
        }
        var host = String(rest[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let port = Int(rest[rest.index(after: colon)...]), (0...65535).contains(port) else {
            throw .invalidListener(text, reason: "port must be 0...65535")
        }
        self.init(name: name, host: host, port: port)
    }

    /// Parses a comma-separated list of listeners.
    public static func parseList(_ text: String) throws(BrokerConfigurationError) -> [Listener] {
        var result: [Listener] = []
        for part in text.split(separator: ",") where !part.trimmingBlanks.isEmpty {
            result.append(try Listener(parsing: String(part)))
        }
        return result
    }

    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(name)://\(shownHost):\(port)"
    }
}
