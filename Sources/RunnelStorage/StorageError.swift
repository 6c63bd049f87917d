public import RunnelRecords

/// Why a storage operation failed. Every case carries the context needed to act on it (path, errno, offsets).
///
/// Mapping to Kafka error codes happens at the broker's handler boundary; the suggested code is noted per case.
public enum StorageError: Error, Sendable, CustomStringConvertible {
    /// A batch failed validation (magic, length, CRC, counts, ...). Kafka: CORRUPT_MESSAGE (2) for a CRC
    /// mismatch or a batch shorter than 61 bytes, INVALID_RECORD (87) otherwise.
    case invalidBatch(RecordsError)
    /// One batch is larger than the topic's `max.message.bytes`. Kafka: MESSAGE_TOO_LARGE (10).
    case messageTooLarge(size: Int, limit: Int)
    /// The whole append is larger than `segment.bytes`. Kafka: RECORD_LIST_TOO_LARGE (18).
    case recordListTooLarge(size: Int, limit: Int)
    /// The requested offset is outside [logStartOffset, logEndOffset]. Kafka: OFFSET_OUT_OF_RANGE (1).
    case offsetOutOfRange(requested: Int64, logStartOffset: Int64, logEndOffset: Int64)
    /// `appendAsFollower` got batches whose offsets go backwards or start below the log end offset.
    case nonMonotonicOffsets(expectedAtLeast: Int64, found: Int64)
    /// Another `LogManager` (in this or another process) holds the data directory's `.lock`.
    case directoryLocked(path: String, holderPid: Int32?)
    /// A system call failed (ENOSPC, EIO, ...). Kafka: KAFKA_STORAGE_ERROR (56).
    case io(operation: String, path: String, errno: Int32)
    /// An index file failed its sanity check (it is rebuilt from the `.log` when this happens at load).
    case corruptIndex(path: String, reason: String)
    /// A checkpoint file could not be parsed (it is ignored, with a log line, when this happens at load).
    case corruptCheckpoint(path: String, reason: String)
    /// The log (or its manager) was closed or deleted.
    case logClosed(TopicPartition)
    /// A directory entry that should be a partition directory has a name that is not `<topic>-<partition>`.
    case invalidPartitionDirectory(path: String)
    /// A topic-level configuration value was rejected.
    case invalidConfig(LogConfigError)

    public var description: String {
        switch self {
        case let .invalidBatch(error): "invalid record batch: \(error)"
        case let .messageTooLarge(size, limit): "batch of \(size) bytes exceeds max.message.bytes \(limit)"
        case let .recordListTooLarge(size, limit): "append of \(size) bytes exceeds segment.bytes \(limit)"
        case let .offsetOutOfRange(requested, start, end):
            "offset \(requested) out of range [\(start), \(end)]"
        case let .nonMonotonicOffsets(expected, found):
            "batch offset \(found) is below the expected next offset \(expected)"
        case let .directoryLocked(path, pid):
            "data directory \(path) is locked by another process (pid \(pid.map(String.init) ?? "unknown"))"
        case let .io(operation, path, errno): "\(operation) failed on \(path): \(StorageError.errnoName(errno))"
        case let .corruptIndex(path, reason): "corrupt index \(path): \(reason)"
        case let .corruptCheckpoint(path, reason): "corrupt checkpoint \(path): \(reason)"
        case let .logClosed(tp): "log \(tp) is closed"
        case let .invalidPartitionDirectory(path): "not a partition directory: \(path)"
        case let .invalidConfig(error): "invalid config: \(error)"
        }
    }

    /// `strerror` text plus the number, e.g. "No space left on device (errno 28)".
    static func errnoName(_ code: Int32) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
