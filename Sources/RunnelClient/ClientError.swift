/// Errors raised by RunnelClient. Each case carries enough context for a message that says what went wrong
/// and, where there is one, what to do about it (``description``).
public enum ClientError: Error, Sendable, CustomStringConvertible {
    /// A bootstrap address that is not `HOST:PORT`.
    case invalidAddress(String)
    /// TCP connect failed (refused, unreachable, timed out).
    case brokerNotReachable(host: String, port: Int, reason: String)
    /// The connection closed (or failed) while requests were outstanding.
    case connectionClosed(host: String, port: Int, reason: String)
    /// No response within the request timeout (ms).
    case requestTimedOut(api: String, timeoutMs: Int64)
    /// The broker does not serve this API, or no version both sides support.
    case unsupportedApi(api: String)
    /// A response could not be decoded.
    case malformedResponse(api: String, reason: String)
    /// The topic does not exist (and was not auto-created).
    case unknownTopic(String)
    /// The partition does not exist in the topic.
    case unknownPartition(topic: String, partition: Int32, partitionCount: Int)
    /// A Kafka error code from the broker, with the operation it answered.
    case broker(operation: String, code: KafkaErrorCode, message: String?)
    /// A record batch in a fetch response could not be decoded.
    case corruptRecords(topic: String, partition: Int32, reason: String)
    /// The producer or consumer was closed.
    case closed
    /// A caller error (bad option value and the like).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .invalidAddress(let text):
            return "invalid broker address '\(text)': expected HOST:PORT, e.g. 127.0.0.1:9092"
        case .brokerNotReachable(let host, let port, let reason):
            return "broker not reachable at \(host):\(port) (\(reason)): is `runnel serve` running?"
        case .connectionClosed(let host, let port, let reason):
            return "connection to \(host):\(port) lost: \(reason)"
        case .requestTimedOut(let api, let timeoutMs):
            return "\(api) request timed out after \(timeoutMs) ms"
        case .unsupportedApi(let api):
            return "the broker does not support \(api) in any version this client speaks"
        case .malformedResponse(let api, let reason):
            return "malformed \(api) response: \(reason)"
        case .unknownTopic(let topic):
            return "topic \(topic) does not exist: create it with `runnel topics create \(topic)`"
        case .unknownPartition(let topic, let partition, let count):
            return "partition \(partition) does not exist: topic \(topic) has \(count) partition(s) (0...\(count - 1))"
        case .broker(let operation, let code, let message):
            var text = "\(operation) failed: \(code)"
            if let message, !message.isEmpty { text += ": \(message)" }
            if let hint = code.hint { text += " (\(hint))" }
            return text
        case .corruptRecords(let topic, let partition, let reason):
            return "corrupt records in \(topic)/\(partition): \(reason)"
        case .closed:
            return "the client is closed"
        case .invalidArgument(let text):
            return text
        }
    }
}
