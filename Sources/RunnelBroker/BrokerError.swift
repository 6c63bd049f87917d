/// Why the broker could not start.
public enum BrokerError: Error, Sendable, CustomStringConvertible {
    case alreadyStarted
    case storage(String)
    case bind(listener: String, reason: String)

    public var description: String {
        switch self {
        case .alreadyStarted: "broker already started"
        case let .storage(reason): "cannot open the data directory: \(reason)"
        case let .bind(listener, reason): "cannot bind \(listener): \(reason)"
        }
    }
}
