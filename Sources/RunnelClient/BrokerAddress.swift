/// A broker's `HOST:PORT` (IPv6 hosts in brackets: `[::1]:9092`).
public struct BrokerAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    /// TCP port, 1...65535.
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`, `[V6]:PORT`, or a comma-separated list (the first entry is used).
    /// - Throws: ``ClientError/invalidAddress(_:)``.
    public init(parsing text: String) throws(ClientError) {
        let first = text.split(separator: ",").first.map(String.init)?.trimmingSpaces ?? ""
        var hostPart: Substring
        var portPart: Substring
        if first.hasPrefix("["), let close = first.firstIndex(of: "]") {
            hostPart = first[first.index(after: first.startIndex)..<close]
            let rest = first[first.index(after: close)...]
            guard rest.hasPrefix(":") else { throw .invalidAddress(text) }
            portPart = rest.dropFirst()
        } else {
            guard let colon = first.lastIndex(of: ":") else { throw .invalidAddress(text) }
            hostPart = first[..<colon]
            portPart = first[first.index(after: colon)...]
        }
        if hostPart.isEmpty { hostPart = "127.0.0.1" }
        guard let port = Int(portPart), (1...65535).contains(port) else { throw .invalidAddress(text) }
        self.host = String(hostPart)
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

extension String {
    var trimmingSpaces: String {
        var view = Substring(self)
        while view.first == " " { view = view.dropFirst() }
        while view.last == " " { view = view.dropLast() }
        return String(view)
    }
}
