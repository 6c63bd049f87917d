/// Counters and gauges of a `ReadCache` (a snapshot taken under its lock, so the fields agree with each other).
///
/// Counts are since the cache was created; sizes are bytes charged: the capacity of each batch's own buffer
/// (NIO allocates powers of two, so a batch is charged up to twice its length; `hitBytes` counts batch bytes).
public struct ReadCacheStats: Sendable, Hashable {
    /// The budget (`log.cache.max.bytes`); 0 when disabled.
    public var maxBytes: Int = 0
    /// Bytes held now; always ≤ `maxBytes`.
    public var bytes: Int = 0
    /// Of `bytes`, those in the probation queue (cold batches not read again yet).
    public var probationBytes: Int = 0
    /// Batches held now.
    public var entries: Int = 0
    /// `read` calls that returned batches.
    public var hits: Int = 0
    /// `read` calls that found no batch containing the offset.
    public var misses: Int = 0
    /// Bytes returned by hits.
    public var hitBytes: Int = 0
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

    public init() {}

    /// hits / (hits + misses), or 0 before any read.
    public var hitRatio: Double {
        let reads = hits + misses
        return reads == 0 ? 0 : Double(hits) / Double(reads)
    }
}
