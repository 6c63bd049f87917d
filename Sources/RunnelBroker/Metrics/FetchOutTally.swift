import Synchronization

/// What the latest read of one Fetch request returned per partition, for `runnel_topic_bytes_out_total` and
/// `runnel_topic_records_out_total`.
///
/// A long-poll Fetch may read several times before it answers; the response always carries the latest read, so
/// the tally keeps only that one and `recordSent` counts it once, when the response is encoded.
/// Thread-safety: `Mutex` (reads and the encode run on the request's event loop, but the type does not rely on it).
final class FetchOutTally: Sendable {
    /// One partition's share of a read.
    struct Entry: Sendable {
        var topic: String
        var bytes: Int
        /// Offsets delivered: nextOffset − fetchOffset (0 when nothing was returned).
        var offsets: Int64
    }

    private let latest = Mutex<[Entry]>([])

    /// Replaces the tally with the latest read's entries.
    func set(_ entries: [Entry]) {
        latest.withLock { $0 = entries }
    }

    /// Counts the latest read as sent.
    func recordSent(into metrics: BrokerMetrics) {
        let entries = latest.withLock { $0 }
        for entry in entries { metrics.recordFetch(topic: entry.topic, bytes: entry.bytes, records: entry.offsets) }
    }
}
