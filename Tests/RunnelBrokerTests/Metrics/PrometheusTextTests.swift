import CoreMetrics
import Prometheus
import Testing

@testable import RunnelBroker

/// The Prometheus text parser behind `runnel stats`, and the report it computes from two scrapes.
@Suite struct PrometheusTextTests {
    @Test func samplesLabelsEscapesAndSpecialValuesParse() throws {
        let text = """
            # HELP runnel_x A help line with "quotes".
            # TYPE runnel_x counter
            runnel_x 12
            runnel_y{topic="a",partition="0"} 3.5
            runnel_y{ topic = "b" , partition="1", } -2e3 1700000000000
            runnel_z{group="q\\"uote\\\\back\\nline"} +Inf
            runnel_w NaN

            runnel_v -Inf\r
            """
        let parsed = try PrometheusText(parsing: text)
        #expect(parsed.types == ["runnel_x": "counter"])
        #expect(parsed.value("runnel_x") == 12)
        #expect(parsed.value("runnel_y", labels: ["topic": "a"]) == 3.5)
        #expect(parsed.value("runnel_y", labels: ["topic": "b", "partition": "1"]) == -2000)
        #expect(parsed.sum("runnel_y") == -1996.5)
        #expect(parsed.samples(named: "runnel_z").first?.labels["group"] == "q\"uote\\back\nline")
        #expect(parsed.value("runnel_z") == .infinity)
        #expect(parsed.value("runnel_w")?.isNaN == true)
        #expect(parsed.value("runnel_v") == -.infinity)
        #expect(parsed.value("runnel_missing") == nil)
        #expect(parsed.sum("runnel_missing") == 0)
    }

    @Test func malformedLinesReportTheirLineNumber() {
        for (text, line) in [
            ("ok 1\nbroken{a=\"1\" 2", 2), ("x{a=1} 2", 1), ("x 1 2 3", 1), ("x", 1), ("9lives 1", 1),
            ("ok 1\n\nx{a=\"unterminated} 1", 3), ("x one", 1),
        ] {
            #expect(throws: PrometheusTextError.self) { try PrometheusText(parsing: text) }
            do {
                _ = try PrometheusText(parsing: text)
            } catch {
                guard case let .malformedLine(number, _) = error else { continue }
                #expect(number == line, "\(text)")
            }
        }
    }

    @Test func theRegistryOutputParsesBack() throws {
        let metrics = BrokerMetrics()
        metrics.recordAppend(topic: "odd \"name\"", bytes: 100, records: 4)
        metrics.recordFetch(topic: "odd \"name\"", bytes: 60, records: 2)
        metrics.recordError(api: .fetch, code: 1, count: 2)
        metrics.requestInstruments(for: .produce).duration.recordNanoseconds(300_000)
        metrics.requestInstruments(for: .produce).requests.increment()
        let parsed = try PrometheusText(parsing: metrics.registry.emitToString())
        let topic = ["topic": "odd \"name\""]
        #expect(parsed.value("runnel_topic_bytes_in_total", labels: topic) == 100)
        #expect(parsed.value("runnel_topic_records_in_total", labels: topic) == 4)
        #expect(parsed.value("runnel_topic_bytes_out_total", labels: topic) == 60)
        #expect(parsed.value("runnel_topic_records_out_total", labels: topic) == 2)
        #expect(parsed.value("runnel_request_errors_total", labels: ["api": "Fetch", "code": "1"]) == 2)
        #expect(parsed.value("runnel_requests_total", labels: ["api": "Produce"]) == 1)
        // 0.3 ms lands in the 0.5 ms bucket, not in the 0.25 ms one.
        #expect(parsed.value("runnel_request_duration_seconds_bucket", labels: ["api": "Produce", "le": "0.00025"]) == 0)
        #expect(parsed.value("runnel_request_duration_seconds_bucket", labels: ["api": "Produce", "le": "0.0005"]) == 1)
        metrics.retainTopicCounters([])
        let after = try PrometheusText(parsing: metrics.registry.emitToString())
        #expect(after.samples(named: "runnel_topic_bytes_in_total").isEmpty)
    }

    @Test func theReportComputesRatesTablesAndRatios() throws {
        let before = try PrometheusText(
            parsing: """
                runnel_partition_log_end_offset{topic="orders",partition="0"} 100
                runnel_partition_log_end_offset{topic="orders",partition="1"} 50
                runnel_partition_log_end_offset{topic="__consumer_offsets",partition="0"} 9
                runnel_topic_records_in_total{topic="orders"} 1000
                runnel_topic_bytes_in_total{topic="orders"} 100000
                runnel_topic_records_out_total{topic="orders"} 10
                runnel_requests_total{api="Produce"} 5
                runnel_requests_total{api="Fetch"} 5
                runnel_cache_hits_total 10
                runnel_cache_misses_total 10
                """)
        let after = try PrometheusText(
            parsing: """
                runnel_partition_log_end_offset{topic="orders",partition="0"} 300
                runnel_partition_log_end_offset{topic="orders",partition="1"} 50
                runnel_partition_log_end_offset{topic="__consumer_offsets",partition="0"} 9
                runnel_partition_size_bytes{topic="orders",partition="0"} 4096
                runnel_partition_size_bytes{topic="orders",partition="1"} 1024
                runnel_topic_records_in_total{topic="orders"} 1200
                runnel_topic_bytes_in_total{topic="orders"} 120000
                runnel_topic_records_out_total{topic="orders"} 4
                runnel_group_members{group="billing"} 2
                runnel_group_lag{group="billing",topic="orders",partition="0"} 30
                runnel_group_lag{group="billing",topic="orders",partition="1"} 12
                runnel_group_members{group="idle"} 0
                runnel_requests_total{api="Produce"} 25
                runnel_requests_total{api="Fetch"} 5
                runnel_cache_hits_total 40
                runnel_cache_misses_total 10
                runnel_cache_bytes 2048
                runnel_cache_max_bytes 65536
                runnel_open_connections 3
                """)
        let report = MetricsReport(previous: before, current: after, intervalSeconds: 2)
        #expect(report.topics.map(\.topic) == ["orders"])
        let orders = try #require(report.topics.first)
        #expect(orders.partitions == 2)
        #expect(orders.logEndOffsetSum == 350)
        #expect(orders.sizeBytes == 5120)
        #expect(orders.recordsInPerSecond == 100)
        #expect(orders.bytesInPerSecond == 10000)
        #expect(orders.recordsOutPerSecond == 2)  // the counter went backwards: counted from zero
        #expect(report.groups.map(\.group) == ["billing", "idle"])
        #expect(report.groups.first?.members == 2)
        #expect(report.groups.first?.totalLag == 42)
        #expect(report.groups.first?.maxPartitionLag == 30)
        #expect(report.groups.last?.totalLag == 0)
        #expect(report.cacheHitRatioInterval == 1)
        #expect(report.cacheHitRatioTotal == 0.8)
        #expect(report.cacheBytes == 2048)
        #expect(report.cacheMaxBytes == 65536)
        #expect(report.openConnections == 3)
        #expect(report.requestsPerSecond == 10)
        let withInternal = MetricsReport(previous: before, current: after, intervalSeconds: 2, includeInternal: true)
        #expect(withInternal.topics.map(\.topic) == ["__consumer_offsets", "orders"])
        let idle = MetricsReport(previous: after, current: after, intervalSeconds: 1)
        #expect(idle.cacheHitRatioInterval == nil)
    }
}
