public import RunnelRecords
import Synchronization

/// Per-partition idempotent-producer state (Kafka's `ProducerStateManager`, without transactions).
///
/// Thread-safe. The Mutex is deliberately held across the storage append in `append(_:now:perform:)`: the
/// duplicate/sequence decision and the append must be atomic (Kafka holds the log lock the same way). The append
/// is a pwrite into the page cache, never an fsync. Only batches with a producer id take this lock.
public final class PartitionProducerState: Sendable {
    private struct State {
        var producers: [Int64: ProducerStateEntry] = [:]
        /// Offset after the last batch applied to the state (Kafka's map end offset).
        var mapEndOffset: Int64 = 0
        /// mapEndOffset of the last snapshot written (or loaded).
        var lastSnapshotOffset: Int64 = -1
    }

    private let state: Mutex<State>

    public init() { state = Mutex(State()) }

    /// Current entry of a producer.
    public func entry(for producerId: Int64) -> ProducerStateEntry? { state.withLock { $0.producers[producerId] } }

    public var producerCount: Int { state.withLock { $0.producers.count } }
    public var mapEndOffset: Int64 { state.withLock { $0.mapEndOffset } }
    public var lastSnapshotOffset: Int64 { state.withLock { $0.lastSnapshotOffset } }

    /// Checks `fields` against the stored state (§9) and, unless it is a duplicate, runs `perform` (the storage
    /// append) and records the batch, all under one lock.
    /// - Throws: `ProducerStateError` (nothing appended), or whatever `perform` throws.
    public func append(_ fields: ProducerBatchFields, perform: () throws -> AppendedBatch) throws
        -> ProducerAppendOutcome
    {
        try state.withLock { state throws -> ProducerAppendOutcome in
            let current = state.producers[fields.producerId]
            if let duplicate = try Self.check(fields, against: current) { return .duplicate(duplicate) }
            let appended = try perform()
            var entry = current ?? ProducerStateEntry(producerId: fields.producerId, producerEpoch: fields.producerEpoch)
            entry.record(
                epoch: fields.producerEpoch,
                batch: ProducerBatchMetadata(
                    firstSeq: fields.baseSequence, lastSeq: fields.lastSequence, firstOffset: appended.firstOffset,
                    lastOffset: appended.lastOffset, timestamp: appended.timestamp))
            state.producers[fields.producerId] = entry
            state.mapEndOffset = max(state.mapEndOffset, appended.lastOffset + 1)
            return .appended(appended)
        }
    }

    /// Validation only (§9 steps 1–3): returns the retained batch when `fields` is a duplicate, nil when the batch
    /// may be appended.
    /// - Throws: `ProducerStateError`.
    public static func check(_ fields: ProducerBatchFields, against entry: ProducerStateEntry?)
        throws(ProducerStateError) -> ProducerBatchMetadata?
    {
        guard fields.baseSequence >= 0 else {
            throw .invalidRecord("producer \(fields.producerId) sent a batch without a base sequence")
        }
        if fields.isControl { throw .invalidRecord("clients may not send control batches") }
        guard let entry, entry.producerEpoch >= 0 else {
            return nil  // Unknown (new or expired) producer: any first sequence is accepted.
        }
        if fields.producerEpoch == entry.producerEpoch,
            let duplicate = entry.duplicate(firstSeq: fields.baseSequence, lastSeq: fields.lastSequence)
        {
            return duplicate
        }
        if fields.producerEpoch < entry.producerEpoch {
            throw .invalidProducerEpoch(
                producerId: fields.producerId, batchEpoch: fields.producerEpoch, currentEpoch: entry.producerEpoch)
        }
        if fields.producerEpoch > entry.producerEpoch {
            guard fields.baseSequence == 0 else {
                throw .outOfOrderSequence(producerId: fields.producerId, expectedAfter: -1, received: fields.baseSequence)
            }
            return nil
        }
        guard ProducerSequence.isInSequence(last: entry.lastSeq, next: fields.baseSequence) else {
            throw .outOfOrderSequence(
                producerId: fields.producerId, expectedAfter: entry.lastSeq, received: fields.baseSequence)
        }
        return nil
    }

    // MARK: - Recovery and snapshots

    /// Replays a batch already in the log (recovery: no sequence checks, Kafka's replication/recovery path).
    public func replay(_ header: RecordBatchHeader) {
        state.withLock { state in
            state.mapEndOffset = max(state.mapEndOffset, header.nextOffset)
            guard header.hasProducerId else { return }
            var entry =
                state.producers[header.producerId]
                ?? ProducerStateEntry(producerId: header.producerId, producerEpoch: header.producerEpoch)
            if header.attributes.isControl {
                if header.producerEpoch > entry.producerEpoch {
                    entry.producerEpoch = header.producerEpoch
                    entry.batches.removeAll()
                }
            } else if header.recordsCount > 0 || header.baseSequence >= 0 {
                let fields = ProducerBatchFields(header: header)
                entry.record(
                    epoch: header.producerEpoch,
                    batch: ProducerBatchMetadata(
                        firstSeq: header.baseSequence, lastSeq: fields.lastSequence, firstOffset: header.baseOffset,
                        lastOffset: header.lastOffset, timestamp: header.maxTimestamp))
            }
            state.producers[header.producerId] = entry
        }
    }

    /// Replaces the state with a loaded snapshot.
    public func restore(_ snapshot: ProducerSnapshot) {
        state.withLock { state in
            state.producers = [:]
            for entry in snapshot.entries { state.producers[entry.producerId] = entry }
            state.mapEndOffset = snapshot.offset
            state.lastSnapshotOffset = snapshot.offset
        }
    }

    /// Moves the map end offset forward (after recovery found no more batches).
    public func advanceMapEndOffset(to offset: Int64) {
        state.withLock { $0.mapEndOffset = max($0.mapEndOffset, offset) }
    }

    /// A snapshot of the current state, or nil when nothing changed since the last one.
    public func snapshotIfChanged() -> ProducerSnapshot? {
        state.withLock { state in
            guard state.mapEndOffset != state.lastSnapshotOffset else { return nil }
            return ProducerSnapshot(
                offset: state.mapEndOffset, entries: state.producers.values.sorted { $0.producerId < $1.producerId })
        }
    }

    /// Notes that a snapshot at `offset` was written.
    public func markSnapshotWritten(at offset: Int64) { state.withLock { $0.lastSnapshotOffset = offset } }

    /// Drops producers idle for longer than `expirationMs` (Kafka's `producer.id.expiration.ms`). Returns count.
    @discardableResult
    public func expire(now: Int64, expirationMs: Int64) -> Int {
        state.withLock { state in
            let before = state.producers.count
            state.producers = state.producers.filter { now - $0.value.lastTimestamp <= expirationMs }
            return before - state.producers.count
        }
    }
}
