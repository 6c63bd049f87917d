public import NIOCore
import RunnelRecords
import Synchronization

/// Where a batch offered to the cache comes from.
public enum CacheInsertOrigin: Sendable, Hashable {
    /// Written through on append: the log's tail, which tail consumers will read soon. Admitted to the main queue.
    case append
    /// Cold bytes just read from disk for a consumer behind the tail. Admitted on probation: evicted first unless
    /// read again while on probation or soon after leaving it.
    case read
}

/// The answer of `ReadCache.lookup`: cached batches, or a miss with the ticket for a later read-back.
public enum CacheLookup: Sendable {
    case hit(CachedBatches)
    /// No cached batch contains the offset; the ticket dates the miss (see `offerColdRead`).
    case miss(CacheTicket)
}

/// A point in a `ReadCache`'s history of removals, taken before reading the log for a read-back insert. The insert
/// is refused if the partition's cached range was invalidated or removed after the ticket: the bytes read may be
/// from segments that retention, truncation or a compaction swap replaced meanwhile.
public struct CacheTicket: Sendable, Hashable {
    let clock: UInt64
}

/// Whole batches served from the cache: zero-copy views of the cached bytes.
public struct CachedBatches: Sendable {
    /// Whole batches in offset order; the first contains the requested offset (so it may start below it). Each
    /// buffer shares the cache's storage (no bytes copied); it stays valid after the batch is evicted.
    public let chunks: [ByteBuffer]
    /// The offset after the last returned batch (the requested offset when `chunks` is empty).
    public let nextOffset: Int64
    /// Sum of the chunks' readable bytes.
    public let byteCount: Int
}

/// A global, byte-bounded cache of record-batch bytes shared by all partitions (`log.cache.max.bytes`).
///
/// **Policy** (chosen by simulation, `tools/cachesim/RESULTS.md`): origin-aware S3-FIFO.
/// - Written-through tail batches (`.append`) enter the main FIFO. Reading them does not earn reinsertion: a tail
///   batch is read once per consumer group shortly after the append, so the read predicts nothing, and crediting
///   it would keep consumed batches in place of unread ones. Main is therefore FIFO by append order for them.
/// - Cold batches (`.read`, a lagging consumer's disk reads) enter a probation FIFO of 10% of the budget and are
///   evicted first. A cold batch read again while on probation moves to main; one evicted from probation is
///   remembered in a ghost queue (keys only), and re-admitted straight to main if read again soon. Promoted cold
///   batches keep S3-FIFO's 2-bit frequency: main reinserts them instead of evicting while they have credit.
/// - So a sequential scan of old data (read once) flows through probation and never pushes out the tail.
///
/// **Cold admission is gated by the ghost** (`offerColdRead`, the broker's path; chosen by re-running the
/// simulation, `tools/cachesim/RESULTS.md`). A fetch that misses is answered from the file with `sendfile` as
/// before: the fetch path never copies batch bytes. The missed range is then offered to a bounded background
/// read-back (`ColdReadAdmitter`, one serial queue off the event loops; offers beyond its queue are dropped and
/// counted). The read-back walks the range's batch headers and asks the ghost about each batch: one the ghost
/// does not remember (a first cold read) is only remembered there — no bytes read, nothing evicted; one it
/// remembers (read before, recently) is read from the file straight into its own buffer (the cache's one copy)
/// and admitted on probation, under the ticket taken with the miss. So a sequential scanner larger than the
/// cache costs it ghost keys only and never evicts main-queue (tail) entries, while a range read twice (a
/// replaying consumer, a second group) is cached for the next reader. The `.read` origin of `insert` stays plain
/// S3-FIFO (every offered batch on probation) for callers that already hold bytes.
///
/// **Memory accounting is exact.** The budget counts the bytes of batch storage the cache owns, and `bytes` never
/// exceeds `maxBytes`: admission evicts first and refuses a batch whose storage is larger than the whole budget.
/// Each batch is copied once, outside the lock, into a buffer of its own, and is charged that buffer's storage:
/// NIO allocates storage in powers of two, so a 5 000-byte batch is charged 8 192, which is what `malloc` holds
/// for it (on average about 1.4x the batch bytes for sizes spread over a range).
/// Copying (rather than keeping a slice of the caller's buffer) is what makes the count exact: a slice keeps its
/// whole backing storage alive, which for an append is the producer's request (other partitions' batches, the
/// request header) and for a disk read the whole read buffer, and it would let one cached batch pin its
/// neighbours after they are evicted. The exception is a buffer that holds exactly one batch in storage no larger
/// than that batch's power of two — the append path's private copy of a one-batch-per-partition request, which is
/// what clients send: it is kept as it is, charged its whole storage, with no copy.
/// Metadata (about 100 bytes per batch, the ghost's keys) is not counted; the ghost is bounded by the budget's
/// bytes and by the number of cached batches.
///
/// **Lookup.** Per partition, base offset → batch, plus sorted base offsets for "the batch containing offset X"
/// (consumers usually ask for a batch's exact base offset, which is one hash lookup). A read returns contiguous
/// batches: each next batch must start right after the previous one's last offset (a gap, e.g. from
/// compaction or an uncached batch, ends the hit; the caller reads the rest from the log).
///
/// **Thread-safety and cost.** All methods may be called from any thread. State lives in one `Mutex` (not an
/// actor): every operation is a short synchronous critical section with no I/O and no suspension, so callers on
/// event loops never hop. Eviction runs inside `insert`, O(1) amortized per batch (each reinsertion in main spends
/// a credit earned by a read; each promotion happens once per admission), and evicted buffers are released after
/// the lock is dropped. With `maxBytes ≤ 0` the cache is disabled and every method returns at once without locking.
public final class ReadCache: Sendable {
    /// The budget in bytes of batch data; ≤ 0 disables the cache.
    public let maxBytes: Int
    /// Whether the cache holds anything at all (`maxBytes > 0`).
    public let isEnabled: Bool
    let state: Mutex<State>
    /// The background read-back of cold misses (`offerColdRead`).
    let coldReads: ColdReadAdmitter

    /// Fraction of the budget for the probation queue (S3-FIFO's "small" queue, 10%).
    static let probationFraction = 0.1

    /// - Parameters:
    ///   - maxBytes: the budget in bytes (`log.cache.max.bytes`, default 256 MiB); ≤ 0 disables the cache.
    ///   - coldReadQueueLimit: read-backs of cold misses that may wait at once; further offers are dropped
    ///     (`stats.coldRejected`).
    public init(maxBytes: Int, coldReadQueueLimit: Int = ColdReadAdmitter.defaultQueueLimit) {
        self.maxBytes = max(0, maxBytes)
        self.isEnabled = maxBytes > 0
        self.state = Mutex(State(maxBytes: max(0, maxBytes), probationFraction: Self.probationFraction))
        self.coldReads = ColdReadAdmitter(queueLimit: coldReadQueueLimit)
    }

    // MARK: - Insert

    /// Offers whole batches of `tp` to the cache: `bytes` holds one or more batches in offset order, the first
    /// based at `baseOffset`, the last ending at `lastOffset` (inclusive), with their final offsets (after the log
    /// assigned them). Each batch is copied once into its own buffer, outside the lock.
    ///
    /// Batches already cached (same base offset and last offset) are skipped; a cached batch overlapping a new one
    /// otherwise is replaced (the caller's bytes come from the log now). A batch larger than `maxBytes`, or bytes
    /// that do not parse as batches from `baseOffset` to `lastOffset`, are not admitted (`stats.rejected`).
    /// - Parameters:
    ///   - origin: `.append` for the write-through of an append, `.read` for cold bytes read from disk.
    ///   - ticket: for `.read`, the `ticket()` taken before reading the log; the insert is refused
    ///     (`stats.rejected`) if `invalidate`, `removeBelow`, `remove(_:offsets:)` or `remove(_:)` ran for `tp`
    ///     since. Write-through inserts made under the log's lock need none.
    public func insert(
        _ tp: TopicPartition, baseOffset: Int64, lastOffset: Int64, bytes: ByteBuffer, origin: CacheInsertOrigin,
        ticket: CacheTicket? = nil
    ) {
        guard isEnabled else { return }
        let batches = Self.copyBatches(bytes, baseOffset: baseOffset, lastOffset: lastOffset, maxBytes: maxBytes)
        let released = state.withLock { state in
            if origin == .append {
                state.recordAppend(tp, baseOffset: baseOffset, byteCount: bytes.readableBytes)
            }
            guard let batches, state.isCurrent(ticket, for: tp) else {
                state.stats.rejected += 1
                return state.takeReleased()
            }
            for batch in batches { state.admit(tp, batch, origin: origin) }
            return state.takeReleased()
        }
        _ = released  // Freed here, after the lock: deallocation never lengthens the critical section.
    }

    /// A ticket for a later read-back `insert` (take it before reading the log).
    public func ticket() -> CacheTicket {
        guard isEnabled else { return CacheTicket(clock: 0) }
        return state.withLock { CacheTicket(clock: $0.removalClock) }
    }

    // MARK: - Read

    /// Cached whole batches of `tp` starting with the one containing `offset`: that batch (always, even when larger
    /// than `maxBytes`, like `PartitionLog.read` with `minOneBatch`), then each following batch while it starts right
    /// after the previous one, fits in `maxBytes` in total, and ends below `maxOffset` (exclusive).
    /// - Returns: nil on a miss (no cached batch contains `offset`); empty chunks when the containing batch ends at
    ///   or past `maxOffset`.
    public func read(_ tp: TopicPartition, from offset: Int64, maxBytes: Int, maxOffset: Int64 = .max)
        -> CachedBatches?
    {
        guard isEnabled else { return nil }
        return state.withLock { $0.read(tp, from: offset, maxBytes: maxBytes, maxOffset: maxOffset) }
    }

    /// Whether a batch of `tp` containing `offset` is cached (a peek: no counters, no frequency credit).
    public func holdsBatch(_ tp: TopicPartition, containing offset: Int64) -> Bool {
        guard isEnabled else { return false }
        return state.withLock { state in
            guard let slot = state.partitionSlots[tp], let partition = state.partitions[Int(slot)] else { return false }
            return state.slot(in: partition, containing: offset) != nil
        }
    }

    /// `read`, with the ticket for a read-back on a miss taken in the same critical section (so a caller holding
    /// its log's lock dates the miss exactly at the snapshot it will read from disk).
    public func lookup(_ tp: TopicPartition, from offset: Int64, maxBytes: Int, maxOffset: Int64 = .max)
        -> CacheLookup
    {
        guard isEnabled else { return .miss(CacheTicket(clock: 0)) }
        return state.withLock { state in
            if let hit = state.read(tp, from: offset, maxBytes: maxBytes, maxOffset: maxOffset) { return .hit(hit) }
            return .miss(CacheTicket(clock: state.removalClock))
        }
    }

    // MARK: - Removal

    /// Drops every cached batch of `tp` with an offset ≥ `offset` (its last offset ≥ `offset`): the log was
    /// truncated to `offset`, or rewritten from there.
    public func invalidate(_ tp: TopicPartition, from offset: Int64) {
        guard isEnabled else { return }
        let released = state.withLock { state in
            state.invalidate(tp, from: offset)
            return state.takeReleased()
        }
        _ = released
    }

    /// Drops every cached batch of `tp` entirely below `offset` (its last offset < `offset`): retention or
    /// DeleteRecords moved the log start offset to `offset`.
    public func removeBelow(_ tp: TopicPartition, offset: Int64) {
        guard isEnabled else { return }
        let released = state.withLock { state in
            state.removeBelow(tp, offset: offset)
            return state.takeReleased()
        }
        _ = released
    }

    /// Drops every cached batch of `tp` with an offset in `offsets` (a batch intersecting the range): a
    /// compaction swap replaced the segments holding them.
    public func remove(_ tp: TopicPartition, offsets: Range<Int64>) {
        guard isEnabled, !offsets.isEmpty else { return }
        let released = state.withLock { state in
            state.removeRange(tp, offsets: offsets)
            return state.takeReleased()
        }
        _ = released
    }

    /// Drops everything cached for `tp` (topic deleted, log closed).
    public func remove(_ tp: TopicPartition) {
        guard isEnabled else { return }
        let released = state.withLock { state in
            state.removePartition(tp)
            return state.takeReleased()
        }
        _ = released
    }

    /// A consistent snapshot of the counters.
    public var stats: ReadCacheStats {
        guard isEnabled else { return ReadCacheStats() }
        var snapshot = state.withLock { $0.snapshot() }
        snapshot.coldRejected += coldReads.droppedOffers
        return snapshot
    }

    // MARK: - Copying

    /// Splits `bytes` into batches and copies each into a buffer of its own; nil if the bytes are not whole
    /// batches from `baseOffset` through `lastOffset` with increasing offsets. Batches larger than `maxBytes` come
    /// back with nil bytes so they are counted as rejected without being copied.
    static func copyBatches(_ bytes: ByteBuffer, baseOffset: Int64, lastOffset: Int64, maxBytes: Int)
        -> [CopiedBatch]?
    {
        var batches: [CopiedBatch] = []
        var index = bytes.readerIndex
        var expectedMinimumBase = baseOffset
        while index < bytes.writerIndex {
            guard let header = try? RecordBatchHeader(parsing: bytes, at: index) else { return nil }
            let size = header.sizeInBytes
            guard size <= bytes.writerIndex - index, header.lastOffsetDelta >= 0,
                batches.isEmpty ? header.baseOffset == baseOffset : header.baseOffset >= expectedMinimumBase
            else { return nil }
            let (last, overflow) = header.baseOffset.addingReportingOverflow(Int64(header.lastOffsetDelta))
            guard !overflow, last <= lastOffset else { return nil }
            if size > maxBytes {
                batches.append(CopiedBatch(baseOffset: header.baseOffset, lastOffset: last, bytes: nil))
            } else if batches.isEmpty, index == bytes.readerIndex, size == bytes.readableBytes,
                bytes.readerIndex == 0, bytes.storageCapacity <= max(size, 1).nextPowerOf2ClampedForCache()
            {
                // The buffer is exactly this batch in storage of its own (the append path's private, validated
                // copy of a one-batch request, the usual case): keep it, charged its whole storage — no copy.
                batches.append(CopiedBatch(baseOffset: header.baseOffset, lastOffset: last, bytes: bytes))
            } else if let view = bytes.getSlice(at: index, length: size) {
                var copy = ByteBufferAllocator().buffer(capacity: size)
                copy.writeImmutableBuffer(view)
                batches.append(CopiedBatch(baseOffset: header.baseOffset, lastOffset: last, bytes: copy))
            } else {
                return nil
            }
            expectedMinimumBase = last + 1
            index += size
        }
        guard let final = batches.last, final.lastOffset == lastOffset else { return nil }
        return batches
    }
}

/// One batch split from an insert: its offsets and its copy (nil when larger than the budget).
struct CopiedBatch {
    var baseOffset: Int64
    var lastOffset: Int64
    var bytes: ByteBuffer?
}

extension Int {
    /// The power of two NIO rounds a `size`-byte allocation up to (the storage a fresh buffer of `size` gets).
    fileprivate func nextPowerOf2ClampedForCache() -> Int {
        guard self > 1 else { return 1 }
        let shift = Int.bitWidth - (self - 1).leadingZeroBitCount
        return shift >= Int.bitWidth - 1 ? Int(UInt32.max) : 1 << shift
    }
}
