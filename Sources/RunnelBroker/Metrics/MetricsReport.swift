/// What `runnel stats` shows: per-topic and per-group figures and broker-wide rates, computed from two scrapes
/// of `GET /metrics` taken `intervalSeconds` apart.
///
/// Rates are `(current − previous) / intervalSeconds` of the `*_total` counters; a counter that went backwards
/// (broker restarted, topic re-created) counts from zero. Internal topics (`__consumer_offsets`) are listed only
/// with `includeInternal`.
public struct MetricsReport: Sendable, Codable, Equatable {
    /// One topic row.
    public struct Topic: Sendable, Codable, Equatable {
        public var topic: String
        public var partitions: Int
        /// Sum of the partitions' log end offsets.
        public var logEndOffsetSum: Int64
        /// Bytes on disk over all partitions.
        public var sizeBytes: Int64
        public var recordsInPerSecond: Double
        public var bytesInPerSecond: Double
        /// Offsets delivered to consumers per second (see `runnel_topic_records_out_total`).
        public var recordsOutPerSecond: Double
        public var bytesOutPerSecond: Double
    }

    /// One consumer group row.
    public struct Group: Sendable, Codable, Equatable {
        public var group: String
        public var members: Int
        /// Sum of `runnel_group_lag` over the group's partitions.
        public var totalLag: Int64
        /// The largest partition lag (0 without committed offsets).
        public var maxPartitionLag: Int64
    }

    public var intervalSeconds: Double
    public var topics: [Topic]
    public var groups: [Group]
    /// Cache hits / (hits + misses) during the interval; nil without reads in it.
    public var cacheHitRatioInterval: Double?
    /// The same since the broker started; nil before any read.
    public var cacheHitRatioTotal: Double?
    /// Bytes the read cache holds, and its budget (`log.cache.max.bytes`).
    public var cacheBytes: Int64
    public var cacheMaxBytes: Int64
    public var openConnections: Int
    /// Requests per second over every API.
    public var requestsPerSecond: Double
    public var uptimeSeconds: Double

    /// Computes the report.
    /// - Parameters:
    ///   - previous: the first scrape; `current`: the second.
    ///   - intervalSeconds: time between them (> 0; smaller values are treated as 1 ms).
    public init(previous: PrometheusText, current: PrometheusText, intervalSeconds: Double, includeInternal: Bool = false) {
        let seconds = max(intervalSeconds, 0.001)
        func rate(_ name: String, _ labels: [String: String] = [:]) -> Double {
            let now = current.sum(name, labels: labels)
            let before = previous.sum(name, labels: labels)
            return (now >= before ? now - before : now) / seconds
        }
        var topicNames = Set(current.samples(named: "runnel_partition_log_end_offset").compactMap { $0.labels["topic"] })
        if !includeInternal { topicNames = topicNames.filter { !$0.hasPrefix("__") } }
        self.intervalSeconds = intervalSeconds
        self.topics = topicNames.sorted().map { name in
            let labels = ["topic": name]
            return Topic(
                topic: name,
                partitions: current.samples(named: "runnel_partition_log_end_offset").filter { $0.labels["topic"] == name }
                    .count,
                logEndOffsetSum: whole(current.sum("runnel_partition_log_end_offset", labels: labels)),
                sizeBytes: whole(current.sum("runnel_partition_size_bytes", labels: labels)),
                recordsInPerSecond: rate("runnel_topic_records_in_total", labels),
                bytesInPerSecond: rate("runnel_topic_bytes_in_total", labels),
                recordsOutPerSecond: rate("runnel_topic_records_out_total", labels),
                bytesOutPerSecond: rate("runnel_topic_bytes_out_total", labels))
        }
        self.groups = current.samples(named: "runnel_group_members").compactMap { sample -> Group? in
            guard let name = sample.labels["group"] else { return nil }
            let lags = current.samples(named: "runnel_group_lag").filter { $0.labels["group"] == name }.map(\.value)
            return Group(
                group: name, members: Int(whole(sample.value)),
                totalLag: whole(lags.reduce(0, +)), maxPartitionLag: whole(lags.max() ?? 0))
        }.sorted { $0.group < $1.group }
        let hits = current.sum("runnel_cache_hits_total")
        let misses = current.sum("runnel_cache_misses_total")
        let hitsDelta = max(0, hits - previous.sum("runnel_cache_hits_total"))
        let missesDelta = max(0, misses - previous.sum("runnel_cache_misses_total"))
        cacheHitRatioInterval = hitsDelta + missesDelta > 0 ? hitsDelta / (hitsDelta + missesDelta) : nil
        cacheHitRatioTotal = hits + misses > 0 ? hits / (hits + misses) : nil
        cacheBytes = whole(current.sum("runnel_cache_bytes"))
        cacheMaxBytes = whole(current.sum("runnel_cache_max_bytes"))
        openConnections = Int(whole(current.sum("runnel_open_connections")))
        requestsPerSecond = rate("runnel_requests_total")
        uptimeSeconds = current.sum("runnel_uptime_seconds")
    }
}

/// Rounds a metric value to an integer, saturating at the bounds and mapping NaN to 0.
private func whole(_ value: Double) -> Int64 {
    if value.isNaN { return 0 }
    if value >= 9.2e18 { return .max }
    if value <= -9.2e18 { return .min }
    return Int64(value.rounded())
}
