/// Why a broker configuration could not be built.
public enum BrokerConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The properties file could not be read.
    case unreadableFile(path: String, reason: String)
    /// A line of the properties text could not be parsed.
    case malformedProperties(line: Int, reason: String)
    /// A known key has a value of the wrong type or out of range.
    case invalidValue(key: String, value: String, reason: String)
    /// Keys Runnel does not know (an error only with `--strict-config`).
    case unknownKeys([String])
    /// A `listeners`/`advertised.listeners` entry is not `NAME://host:port` with a PLAINTEXT protocol.
    case invalidListener(String, reason: String)
    /// An `--override` argument is not `key=value`.
    case malformedOverride(String)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason): "cannot read config file \(path): \(reason)"
        case let .malformedProperties(line, reason): "config line \(line): \(reason)"
        case let .invalidValue(key, value, reason): "invalid value '\(value)' for \(key): \(reason)"
        case let .unknownKeys(keys): "unknown config keys: \(keys.joined(separator: ", "))"
        case let .invalidListener(text, reason): "invalid listener '\(text)': \(reason)"
        case let .malformedOverride(text): "override '\(text)' is not key=value"
        }
    }
}
