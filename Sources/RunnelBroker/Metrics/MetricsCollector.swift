import CoreMetrics
import RunnelStorage
import Synchronization

/// Refreshes the scrape-time metrics from the broker's state right before `GET /metrics` renders the registry.
///
/// Scrape-time metrics (label names in braces):
/// - Partitions: `runnel_partition_log_end_offset{topic,partition}`, `runnel_partition_log_start_offset{…}`,
///   `runnel_partition_size_bytes{…}` (bytes of all segments); `runnel_partitions` and `runnel_topics` (counts,
///   internal topics such as `__consumer_offsets` included).
/// - Groups: `runnel_group_members{group}` for every group that is not Dead, and
///   `runnel_group_lag{group,topic,partition}` = max(0, log end offset − committed offset) for each partition
///   the group committed an offset for (and that still exists).
/// - Read cache (`ReadCacheStats`, mapped in `cacheSamples`), log cleaner (`CleanerStats`, in `cleanerSamples`),
///   `runnel_open_connections` (Kafka client connections), `runnel_uptime_seconds` (since `Broker.start`).
///
/// Counters among them (`*_total`) come from absolute counts kept elsewhere (the cache, the cleaner): at each
/// scrape the swift-metrics counter is advanced by the difference to the last exported value, so Prometheus sees
/// a monotonic counter whose value is the absolute count.
///
/// Series of partitions, topics and groups that no longer exist are unregistered at the next scrape, so deleted
/// topics and groups disappear from the output (a topic deleted and re-created between two scrapes keeps its
/// request-path counters).
///
/// Thread-safety: `Sendable`; one `Mutex` guards the series tables and is held only while values are applied (the
/// group snapshot is taken from the coordinator actor before it, never across an await).
final class MetricsCollector: Sendable {
    /// One exported value of a scrape-time metric.
    struct Sample {
        enum Kind {
            /// A monotonic absolute count (exported as a counter).
            case counter(Int64)
            /// A monotonic absolute amount with a fraction (exported as a counter).
            case floatingCounter(Double)
            case gauge(Double)
        }

        var name: String
        var labels: [(String, String)] = []
        var kind: Kind

        static func counter(_ name: String, _ value: Int) -> Sample {
            Sample(name: name, kind: .counter(Int64(value)))
        }

        static func counter(_ name: String, _ value: Int64) -> Sample { Sample(name: name, kind: .counter(value)) }

        static func gauge(_ name: String, _ value: Double, _ labels: [(String, String)] = []) -> Sample {
            Sample(name: name, labels: labels, kind: .gauge(value))
        }
    }

    private struct SeriesKey: Hashable {
        var name: String
        var labelValues: [String]
    }

    private enum Series {
        case gauge(CoreMetrics.Gauge)
        case counter(CoreMetrics.Counter, exported: Int64)
        case floatingCounter(CoreMetrics.FloatingPointCounter, exported: Double)

        func destroy() {
            switch self {
            case let .gauge(gauge): gauge.destroy()
            case let .counter(counter, _): counter.destroy()
            case let .floatingCounter(counter, _): counter.destroy()
            }
        }
    }

    private let metrics: BrokerMetrics
    private let topics: TopicManager
    private let readCache: ReadCache
    private let cleaner: LogCleaner?
    private let connections: ConnectionTracker
    private let started: ContinuousClock.Instant
    private let series = Mutex<[SeriesKey: Series]>([:])

    init(
        metrics: BrokerMetrics, topics: TopicManager, readCache: ReadCache, cleaner: LogCleaner?,
        connections: ConnectionTracker, started: ContinuousClock.Instant = .now
    ) {
        self.metrics = metrics
        self.topics = topics
        self.readCache = readCache
        self.cleaner = cleaner
        self.connections = connections
        self.started = started
    }

    /// Refreshes every scrape-time metric and renders the registry in the Prometheus text format 0.0.4.
    func render() async -> [UInt8] {
        let groups = await metrics.groupCoordinator?.metricsSnapshot() ?? []
        refresh(groups: groups)
        return metrics.registry.emitToBuffer()
    }

    /// Applies the current values (synchronous part of `render`).
    func refresh(groups: [GroupMetricsSnapshot]) {
        var samples: [Sample] = []
        let allTopics = topics.allTopics()
        var partitionCount = 0
        for topic in allTopics {
            for partition in 0..<max(0, topic.partitionCount) {
                guard let log = topics.log(TopicPartition(topic: topic.name, partition: partition)) else { continue }
                partitionCount += 1
                let labels = [("topic", topic.name), ("partition", String(partition))]
                samples.append(.gauge("runnel_partition_log_end_offset", Double(log.logEndOffset), labels))
                samples.append(.gauge("runnel_partition_log_start_offset", Double(log.logStartOffset), labels))
                samples.append(.gauge("runnel_partition_size_bytes", Double(log.sizeInBytes), labels))
            }
        }
        samples.append(.gauge("runnel_partitions", Double(partitionCount)))
        samples.append(.gauge("runnel_topics", Double(allTopics.count)))
        for group in groups {
            samples.append(.gauge("runnel_group_members", Double(group.members), [("group", group.groupId)]))
            for (tp, committed) in group.committed {
                guard let log = topics.log(tp) else { continue }
                let lag = max(0, log.logEndOffset - committed)
                samples.append(
                    .gauge(
                        "runnel_group_lag", Double(lag),
                        [("group", group.groupId), ("topic", tp.topic), ("partition", String(tp.partition))]))
            }
        }
        samples += Self.cacheSamples(readCache.stats)
        if let cleaner { samples += Self.cleanerSamples(cleaner.stats) }
        samples.append(.gauge("runnel_open_connections", Double(connections.count)))
        let uptime = ContinuousClock.now - started
        samples.append(
            .gauge(
                "runnel_uptime_seconds",
                Double(uptime.components.seconds) + Double(uptime.components.attoseconds) / 1e18))
        apply(samples)
        metrics.retainTopicCounters(Set(allTopics.map(\.name)))
    }

    /// The read cache's fields as metrics: one line per field.
    static func cacheSamples(_ stats: ReadCacheStats) -> [Sample] {
        [
            .counter("runnel_cache_hits_total", stats.hits),
            .counter("runnel_cache_misses_total", stats.misses),
            .counter("runnel_cache_hit_bytes_total", stats.hitBytes),
            .counter("runnel_cache_inserts_total", stats.inserts),
            .counter("runnel_cache_inserted_bytes_total", stats.insertedBytes),
            .counter("runnel_cache_evictions_total", stats.evictions),
            .counter("runnel_cache_evicted_bytes_total", stats.evictedBytes),
            .counter("runnel_cache_promotions_total", stats.promotions),
            .counter("runnel_cache_rejected_total", stats.rejected),
            .counter("runnel_cache_tail_hits_total", stats.tailHits),
            .counter("runnel_cache_tail_misses_total", stats.tailMisses),
            .counter("runnel_cache_catch_up_hits_total", stats.catchUpHits),
            .counter("runnel_cache_catch_up_misses_total", stats.catchUpMisses),
            .counter("runnel_cache_cold_admissions_total", stats.coldAdmissions),
            .counter("runnel_cache_cold_admitted_bytes_total", stats.coldAdmittedBytes),
            .counter("runnel_cache_cold_remembered_total", stats.coldRemembered),
            .counter("runnel_cache_cold_rejected_total", stats.coldRejected),
            .gauge("runnel_cache_bytes", Double(stats.bytes)),
            .gauge("runnel_cache_probation_bytes", Double(stats.probationBytes)),
            .gauge("runnel_cache_max_bytes", Double(stats.maxBytes)),
            .gauge("runnel_cache_entries", Double(stats.entries)),
        ]
    }

    /// The log cleaner's fields as metrics: one line per field.
    static func cleanerSamples(_ stats: CleanerStats) -> [Sample] {
        [
            .counter("runnel_cleaner_cleanings_total", stats.cleanings),
            .counter("runnel_cleaner_failures_total", stats.failures),
            .counter("runnel_cleaner_bytes_read_total", stats.bytesRead),
            .counter("runnel_cleaner_bytes_written_total", stats.bytesWritten),
            .counter("runnel_cleaner_records_read_total", stats.recordsRead),
            .counter("runnel_cleaner_records_removed_total", stats.recordsRemoved),
            .counter("runnel_cleaner_tombstones_removed_total", stats.tombstonesRemoved),
            Sample(
                name: "runnel_cleaner_duration_seconds_total",
                kind: .floatingCounter(Double(stats.totalDurationMs) / 1000)),
            .gauge("runnel_cleaner_last_duration_seconds", Double(stats.lastDurationMs) / 1000),
            .gauge("runnel_cleaner_max_dirty_ratio", stats.maxDirtyRatio),
            .gauge("runnel_cleaner_last_map_utilization", stats.lastMapUtilization),
        ]
    }

    // MARK: - Series bookkeeping

    private func apply(_ samples: [Sample]) {
        let factory = metrics.factory
        let removed = series.withLock { table -> [Series] in
            var seen = Set<SeriesKey>()
            seen.reserveCapacity(samples.count)
            for sample in samples {
                let key = SeriesKey(name: sample.name, labelValues: sample.labels.map(\.1))
                seen.insert(key)
                switch (sample.kind, table[key]) {
                case let (.gauge(value), .gauge(gauge)?):
                    gauge.record(value)
                case let (.gauge(value), _):
                    let gauge = CoreMetrics.Gauge(label: sample.name, dimensions: sample.labels, factory: factory)
                    gauge.record(value)
                    table[key] = .gauge(gauge)
                case let (.counter(value), .counter(counter, exported)?):
                    // A count that went backwards (cannot happen for these sources) is held, not subtracted.
                    if value > exported {
                        counter.increment(by: value - exported)
                        table[key] = .counter(counter, exported: value)
                    }
                case let (.counter(value), _):
                    let counter = CoreMetrics.Counter(label: sample.name, dimensions: sample.labels, factory: factory)
                    counter.increment(by: max(0, value))
                    table[key] = .counter(counter, exported: max(0, value))
                case let (.floatingCounter(value), .floatingCounter(counter, exported)?):
                    if value > exported {
                        counter.increment(by: value - exported)
                        table[key] = .floatingCounter(counter, exported: value)
                    }
                case let (.floatingCounter(value), _):
                    let counter = CoreMetrics.FloatingPointCounter(
                        label: sample.name, dimensions: sample.labels, factory: factory)
                    if value > 0 { counter.increment(by: value) }
                    table[key] = .floatingCounter(counter, exported: max(0, value))
                }
            }
            let gone = table.keys.filter { !seen.contains($0) }
            return gone.compactMap { table.removeValue(forKey: $0) }
        }
        for series in removed { series.destroy() }
    }
}
