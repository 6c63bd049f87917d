/// Counters and gauges of a `ReadCache` (a snapshot taken under its lock, so the fields agree with each other).
///
/// Counts are since the cache was created; sizes are bytes charged: the capacity of each batch's own buffer
/// (NIO allocates powers of two, so a batch is charged up to twice its length; `hitBytes` counts batch bytes).
///
/// **Reader classes** (scan resistance at a glance). Every `read` that hits or misses is also counted as a *tail*
/// or a *catch-up* read. A tail read asks for an offset appended within the last `maxBytes` bytes of broker-wide
/// appends (all partitions together), i.e. data a FIFO of the cache's budget would still hold; anything older,
/// or written before the cache started (broker restart), is catch-up. The class depends only on the offset's age,
/// never on what the cache holds, so `tailHits / (tailHits + tailMisses)` drops if a scanner pushes the tail out.
/// Ages are sampled (about every `maxBytes / 64` appended bytes per partition), so a read within that margin of
/// the window's edge may be classed catch-up.
///
/// **Cold admission.** A miss served from disk is offered to the cache after the fetch answer is built (the
/// fetch itself sends the file range with `sendfile`): a background read-back walks the batch headers and
/// admits, on probation, only batches the ghost remembers (read before, recently); the others are only remembered
/// (`coldRemembered`). See `ReadCache`.
public struct ReadCacheStats: Sendable, Hashable {
    /// The budget (`log.cache.max.bytes`); 0 when disabled.
    public var maxBytes: Int = 0
    /// Bytes held now; always ≤ `maxBytes`.
    public var bytes: Int = 0
    /// Of `bytes`, those in the probation queue (cold batches not read again yet).
    public var probationBytes: Int = 0
    /// Batches held now.
    public var entries: Int = 0
    /// `read` calls that returned batches (= `tailHits + catchUpHits`).
    public var hits: Int = 0
    /// `read` calls that found no batch containing the offset (= `tailMisses + catchUpMisses`).
    public var misses: Int = 0
    /// Bytes returned by hits.
    public var hitBytes: Int = 0
    /// Hits of tail reads (offset appended within the last `maxBytes` of broker-wide appends).
    public var tailHits: Int = 0
    /// Misses of tail reads: tail data the cache should have held but did not (evicted, invalidated, too big).
    public var tailMisses: Int = 0
    /// Hits of catch-up reads (older offsets): cold batches admitted after a repeated read.
    public var catchUpHits: Int = 0
    /// Misses of catch-up reads (served from the files with `sendfile`).
    public var catchUpMisses: Int = 0
    /// Batches admitted (written through or read back).
    public var inserts: Int = 0
    /// Bytes admitted.
    public var insertedBytes: Int = 0
    /// Batches evicted to make room (not counting invalidations and removals).
    public var evictions: Int = 0
    /// Bytes evicted to make room.
    public var evictedBytes: Int = 0
    /// Batches moved from probation to the main queue: read again on probation, or re-read while in the ghost.
    public var promotions: Int = 0
    /// Batches not admitted: bigger than the budget, or bytes that did not parse as the batches announced.
    public var rejected: Int = 0
    /// Missed batches read back from disk and admitted to probation (the ghost remembered an earlier read).
    public var coldAdmissions: Int = 0
    /// Bytes charged for `coldAdmissions`.
    public var coldAdmittedBytes: Int = 0
    /// Missed batches read for the first time recently: only their keys were remembered in the ghost (no bytes
    /// read, nothing evicted). A sequential scanner shows up here and not in `coldAdmissions`.
    public var coldRemembered: Int = 0
    /// Read-backs dropped whole: the read-back queue was full, the partition's cached range was invalidated
    /// while reading, or the file could not be read.
    public var coldRejected: Int = 0

    public init() {}

    /// hits / (hits + misses), or 0 before any read.
    public var hitRatio: Double {
        let reads = hits + misses
        return reads == 0 ? 0 : Double(hits) / Double(reads)
    }

    /// tailHits / (tailHits + tailMisses), or 0 before any tail read.
    public var tailHitRatio: Double {
        let reads = tailHits + tailMisses
        return reads == 0 ? 0 : Double(tailHits) / Double(reads)
    }
}
