import NIOCore
import Synchronization

/// Where the group coordinator keeps its records: the partitions of the compacted `__consumer_offsets` topic
/// (KAFKA-FORMATS §8.9).
///
/// Contract for conformers:
/// - `append` returns only once the log holds the batch, so a later `readAll` (also after a process crash that
///   leaves the OS running) returns it; whether it is fsynced is the log's flush policy.
/// - `append` is all-or-nothing: on a throw, nothing of the batch is readable.
/// - `readAll` returns the partition's batches in offset order (each buffer holds one or more whole record
///   batches v2). After compaction, older records of a key may be missing; the newest one of each key remains.
/// - Both are synchronous and short (a `pwrite`, no fsync): the coordinator calls them from its actor.
protocol OffsetsLog: Sendable {
    /// Appends one record batch v2 (baseOffset is assigned by the log).
    func append(partition: Int32, batch: ByteBuffer) throws
    /// Every batch of `partition`, oldest first.
    func readAll(partition: Int32) throws -> [ByteBuffer]
}

/// An `OffsetsLog` in memory, for tests and embedding without storage.
///
/// Thread-safe: a `Mutex` guards the batches (short critical sections, no I/O).
final class InMemoryOffsetsLog: OffsetsLog {
    /// Thrown by `append` while `failAppends` is set.
    struct InjectedFailure: Error {}

    private struct State {
        var partitions: [Int32: [ByteBuffer]] = [:]
        var failAppends = false
    }

    private let state = Mutex(State())

    init() {}

    func append(partition: Int32, batch: ByteBuffer) throws {
        try state.withLock { state in
            if state.failAppends { throw InjectedFailure() }
            state.partitions[partition, default: []].append(batch)
        }
    }

    func readAll(partition: Int32) throws -> [ByteBuffer] {
        state.withLock { $0.partitions[partition] ?? [] }
    }

    /// Makes every later `append` throw (`true`) or succeed again (`false`).
    func setFailAppends(_ fail: Bool) { state.withLock { $0.failAppends = fail } }

    /// Number of batches appended to `partition`.
    func batchCount(partition: Int32) -> Int { state.withLock { $0.partitions[partition]?.count ?? 0 } }

    /// Total batches over all partitions.
    var totalBatchCount: Int { state.withLock { $0.partitions.values.reduce(0) { $0 + $1.count } } }
}
