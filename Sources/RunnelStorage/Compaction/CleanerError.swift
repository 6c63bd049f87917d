/// Why cleaning a log failed or stopped. The log is left intact in every case: cleaned output is written to
/// `.cleaned` files that are removed (or, after a crash, swept by the loader) unless the swap completed.
public enum CleanerError: Error, Sendable, CustomStringConvertible {
    /// A storage operation failed (I/O, closed log).
    case storage(StorageError)
    /// A stored batch did not decode (CRC, framing, codec). The partition is skipped until restart.
    case corruptBatch(topicPartition: TopicPartition, path: String, position: Int64, reason: String)
    /// The key → offset map cannot hold the keys of even one batch.
    case offsetMapTooSmall(topicPartition: TopicPartition, slots: Int, batchBaseOffset: Int64)
    /// Cleaning stopped: the cleaner is shutting down, the log was closed or deleted, or its segments changed under
    /// the cleaner (retention). Earlier swapped groups stay; nothing is half-applied.
    case aborted(TopicPartition, reason: String)

    public var description: String {
        switch self {
        case let .storage(error): "\(error)"
        case let .corruptBatch(tp, path, position, reason):
            "cannot clean \(tp): corrupt batch in \(path) at byte \(position): \(reason)"
        case let .offsetMapTooSmall(tp, slots, base):
            "cannot clean \(tp): the key map (\(slots) slots) cannot hold the keys of the batch at offset \(base); "
                + "increase log.cleaner.dedupe.buffer.size"
        case let .aborted(tp, reason): "cleaning of \(tp) aborted: \(reason)"
        }
    }
}
