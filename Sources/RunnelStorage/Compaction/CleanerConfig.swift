/// Broker-level settings of the log cleaner (`log.cleaner.*`, KAFKA-FORMATS §11); defaults are Kafka's.
public struct CleanerConfig: Sendable, Hashable {
    /// `log.cleaner.enable`: whether `LogCleaner.start()` runs background threads.
    public var enabled: Bool = true
    /// `log.cleaner.threads`: background cleaner threads (each cleans one log at a time).
    public var threads: Int = 1
    /// `log.cleaner.dedupe.buffer.size`: bytes of key → offset map memory, shared out over the threads.
    public var dedupeBufferBytes: Int = 134_217_728
    /// `log.cleaner.io.buffer.size`: bytes of read + write buffers, shared out over the threads.
    public var ioBufferBytes: Int = 524_288
    /// `log.cleaner.io.buffer.load.factor`: fill limit of the key → offset map per round (0 < f ≤ 1).
    public var loadFactor: Double = 0.9
    /// `log.cleaner.io.max.bytes.per.second`: read + write I/O rate limit over all cleaner threads (bytes/s).
    public var maxIoBytesPerSecond: Double = .greatestFiniteMagnitude
    /// `log.cleaner.backoff.ms`: how long an idle cleaner thread sleeps before looking for work again (ms).
    public var backoffMs: Int64 = 15_000

    /// All Kafka defaults.
    public init() {}

    /// Map memory per cleaner thread in bytes (`dedupeBufferBytes / threads`, capped at Int32.max as in Kafka).
    public var dedupeBufferBytesPerThread: Int {
        min(max(1, dedupeBufferBytes / max(1, threads)), Int(Int32.max))
    }

    /// Read (and write) buffer size per thread in bytes: `ioBufferBytes / threads / 2` (at least 64 KiB).
    public var ioBufferBytesPerThread: Int { max(64 * 1024, ioBufferBytes / max(1, threads) / 2) }

    /// `loadFactor` clamped to (0, 1].
    var effectiveLoadFactor: Double { min(1, max(0.01, loadFactor)) }
}
