/// Why a producer snapshot file was rejected (it is then ignored and the state rebuilt from the log).
public enum ProducerSnapshotError: Error, Sendable, Hashable {
    case truncated
    case unsupportedVersion(Int16)
    case crcMismatch(expected: UInt32, actual: UInt32)
}
