import CoreMetrics
import Prometheus
import RunnelProtocol
import Synchronization

/// The broker's metrics registry and the instruments updated on request paths (the one place that names the
/// request and topic metrics; scrape-time gauges are named in `MetricsCollector`).
///
/// Every instrument is a swift-metrics type (`Counter`, `Timer`, `Gauge`) created with an explicit `factory:` — a
/// `PrometheusMetricsFactory` over this broker's own `PrometheusCollectorRegistry` — never through
/// `MetricsSystem.bootstrap`, so several brokers in one process (tests) keep separate metrics.
///
/// Request-path metrics (names are a contract; `runnel stats` and the README rely on them):
/// - `runnel_requests_total{api}`: requests dispatched to a served API (`api` = Kafka's name, `Produce`), counted
///   when the request completes, whatever its outcome. Requests with an unknown API key are not counted.
/// - `runnel_request_errors_total{api,code}`: one per non-zero Kafka error code in a response — the top-level
///   code and every topic/partition/member-level code — for Produce, Fetch, ListOffsets and the group APIs
///   (FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, DescribeGroups,
///   ListGroups, DeleteGroups, OffsetDelete); `code` is the numeric Kafka code (`"3"`). Also, for any served API,
///   `code="closed"` when the broker answered by closing the connection (malformed body, unsupported version,
///   acks=0 produce failure) and `code="failed"` when the handler failed.
/// - `runnel_request_duration_seconds{api}`: histogram from the request leaving the connection's queue to its
///   response being ready (a long-poll Fetch includes its wait), buckets 0.1 ms … 10 s.
/// - `runnel_topic_bytes_in_total{topic}` / `runnel_topic_records_in_total{topic}`: appended batch bytes and the
///   `recordsCount` of each appended batch header (duplicates of an idempotent producer are not counted).
/// - `runnel_topic_bytes_out_total{topic}`: record bytes sent in Fetch responses.
/// - `runnel_topic_records_out_total{topic}`: offsets delivered by Fetch responses, `nextOffset − fetchOffset`
///   per partition (no batch is scanned for it). Equals the records delivered for logs without gaps; on a
///   compacted log it also counts the offsets of removed records the consumer moves past.
///
/// Thread-safety: `Sendable`. The request table is per connection (see `KafkaConnectionHandler`); topic counters
/// sit in a `Mutex`-guarded dictionary (one lookup per partition per request, never per record); error counters
/// are created on first use under their own `Mutex` (errors are rare).
final class BrokerMetrics: Sendable {
    /// The instruments of one API.
    struct RequestInstruments: Sendable {
        let requests: CoreMetrics.Counter
        let duration: CoreMetrics.Timer
    }

    /// The counters of one topic.
    struct TopicCounters: Sendable {
        let bytesIn: CoreMetrics.Counter
        let recordsIn: CoreMetrics.Counter
        let bytesOut: CoreMetrics.Counter
        let recordsOut: CoreMetrics.Counter

        fileprivate func destroy() {
            bytesIn.destroy()
            recordsIn.destroy()
            bytesOut.destroy()
            recordsOut.destroy()
        }
    }

    static let requestDurationName = "runnel_request_duration_seconds"
    /// 0.1 ms … 10 s, roughly 1-2.5-5 per decade.
    static let requestDurationBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2) + .microseconds(500),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    /// The registry rendered by `GET /metrics`.
    let registry: PrometheusCollectorRegistry
    /// Creates swift-metrics instruments in `registry`.
    let factory: PrometheusMetricsFactory
    private let requestTable = Mutex<[ApiKey: RequestInstruments]>([:])
    private let errorCounters = Mutex<[ErrorKey: CoreMetrics.Counter]>([:])
    private let topicTable = Mutex<[String: TopicCounters]>([:])
    /// Set once the group coordinator exists (scrape-time group gauges).
    private let coordinator = Mutex<GroupCoordinator?>(nil)

    private struct ErrorKey: Hashable {
        var api: ApiKey
        var code: String
    }

    init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = [Self.requestDurationName: Self.requestDurationBuckets]
        self.factory = factory
    }

    // MARK: - Requests

    /// The instruments of `api`, created on first use. Connections cache the result, so this lock is taken
    /// once per API per connection.
    func requestInstruments(for api: ApiKey) -> RequestInstruments {
        requestTable.withLock { table in
            if let existing = table[api] { return existing }
            let dimensions = [("api", api.name)]
            let created = RequestInstruments(
                requests: CoreMetrics.Counter(label: "runnel_requests_total", dimensions: dimensions, factory: factory),
                duration: CoreMetrics.Timer(label: Self.requestDurationName, dimensions: dimensions, factory: factory))
            table[api] = created
            return created
        }
    }

    /// Counts `count` occurrences of a non-zero error `code` in a response of `api`.
    func recordError(api: ApiKey, code: Int16, count: Int = 1) {
        guard code != 0 else { return }
        recordError(api: api, code: String(code), count: count)
    }

    /// Counts a request answered by closing the connection (`"closed"`) or a failed handler (`"failed"`).
    func recordError(api: ApiKey, code: String, count: Int = 1) {
        guard count > 0 else { return }
        let counter = errorCounters.withLock { table in
            let key = ErrorKey(api: api, code: code)
            if let existing = table[key] { return existing }
            let created = CoreMetrics.Counter(
                label: "runnel_request_errors_total", dimensions: [("api", api.name), ("code", code)], factory: factory)
            table[key] = created
            return created
        }
        counter.increment(by: count)
    }

    /// Counts every non-zero error code `response` carries.
    func recordErrors(in response: some ErrorCodeReporting, api: ApiKey) {
        response.forEachErrorCode { code in recordError(api: api, code: code) }
    }

    // MARK: - Topics

    /// The counters of `topic`, created on first use.
    func topicCounters(_ topic: String) -> TopicCounters {
        topicTable.withLock { table in
            if let existing = table[topic] { return existing }
            let dimensions = [("topic", topic)]
            let created = TopicCounters(
                bytesIn: CoreMetrics.Counter(label: "runnel_topic_bytes_in_total", dimensions: dimensions, factory: factory),
                recordsIn: CoreMetrics.Counter(
                    label: "runnel_topic_records_in_total", dimensions: dimensions, factory: factory),
                bytesOut: CoreMetrics.Counter(
                    label: "runnel_topic_bytes_out_total", dimensions: dimensions, factory: factory),
                recordsOut: CoreMetrics.Counter(
                    label: "runnel_topic_records_out_total", dimensions: dimensions, factory: factory))
            table[topic] = created
            return created
        }
    }

    /// One appended batch: its bytes and the `recordsCount` of its header.
    func recordAppend(topic: String, bytes: Int, records: Int32) {
        let counters = topicCounters(topic)
        counters.bytesIn.increment(by: max(0, bytes))
        counters.recordsIn.increment(by: max(0, records))
    }

    /// One partition of a Fetch response: record bytes sent and offsets delivered.
    func recordFetch(topic: String, bytes: Int, records: Int64) {
        guard bytes > 0 || records > 0 else { return }
        let counters = topicCounters(topic)
        counters.bytesOut.increment(by: max(0, bytes))
        counters.recordsOut.increment(by: max(0, records))
    }

    /// Unregisters the counters of topics not in `existing` (deleted topics leave the output).
    func retainTopicCounters(_ existing: Set<String>) {
        let removed = topicTable.withLock { table -> [TopicCounters] in
            let gone = table.keys.filter { !existing.contains($0) }
            return gone.compactMap { table.removeValue(forKey: $0) }
        }
        for counters in removed { counters.destroy() }
    }

    // MARK: - Groups

    /// Lets scrapes read group membership and committed offsets.
    func observe(groups: GroupCoordinator) {
        coordinator.withLock { $0 = groups }
    }

    var groupCoordinator: GroupCoordinator? { coordinator.withLock { $0 } }
}
