import NIOCore
import NIOPosix
import RunnelProtocol
import Testing

@testable import RunnelBroker

/// The metrics endpoint of an in-process broker (Kafka listener and metrics both on port 0).
@Suite struct MetricsEndpointTests {
    /// A started broker and the port of its metrics endpoint.
    struct Fixture {
        let directory: TemporaryDirectory
        let broker: TestBroker
        let http: TestHTTPClient

        static func start(overrides: [(String, String)] = []) async throws -> Fixture {
            let directory = try TemporaryDirectory()
            let broker = try await TestBroker.start(
                directory: directory.path, overrides: [("metrics.listener", "127.0.0.1:0")] + overrides)
            let endpoint = try #require(await broker.broker.metricsEndpoint)
            #expect(endpoint.port != 0)
            #expect(endpoint.url == "http://127.0.0.1:\(endpoint.port)/metrics")
            return Fixture(directory: directory, broker: broker, http: TestHTTPClient(port: endpoint.port))
        }

        func scrape() async throws -> PrometheusText {
            let response = try await http.request("GET", "/metrics")
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
            return try PrometheusText(parsing: response.body)
        }
    }

    typealias Helpers = BrokerIntegrationTests

    @Test func producedAndFetchedRecordsMoveTheTopicAndRequestCounters() async throws {
        let fixture = try await Fixture.start()
        let client = try TestKafkaClient(port: fixture.broker.port)
        _ = try client.request(Helpers.metadata(["flow"]), version: 12)
        let first = try Helpers.batch(["a", "b"])
        let second = try Helpers.batch(["c"])
        #expect(try client.request(Helpers.produce("flow", first), version: 9).responses.first?.partitionResponses.first?.errorCode == 0)
        #expect(try client.request(Helpers.produce("flow", second), version: 9).responses.first?.partitionResponses.first?.errorCode == 0)
        let fetched = try client.request(Helpers.fetch("flow", offset: 0), version: 12)
        #expect(try Helpers.values(in: fetched.responses.first?.partitions.first?.records) == ["a", "b", "c"])
        // A fetch from the middle delivers only the offsets past the fetch position.
        _ = try client.request(Helpers.fetch("flow", offset: 2), version: 12)

        let metrics = try await fixture.scrape()
        let topic = ["topic": "flow"]
        #expect(metrics.value("runnel_topic_records_in_total", labels: topic) == 3)
        #expect(metrics.value("runnel_topic_bytes_in_total", labels: topic) == Double(first.readableBytes + second.readableBytes))
        #expect(metrics.value("runnel_topic_records_out_total", labels: topic) == 4)
        #expect(metrics.value("runnel_topic_bytes_out_total", labels: topic) == Double(first.readableBytes + 2 * second.readableBytes))
        #expect(metrics.value("runnel_requests_total", labels: ["api": "Produce"]) == 2)
        #expect(metrics.value("runnel_requests_total", labels: ["api": "Fetch"]) == 2)
        #expect(metrics.value("runnel_request_duration_seconds_count", labels: ["api": "Produce"]) == 2)
        #expect(metrics.value("runnel_request_duration_seconds_bucket", labels: ["api": "Produce", "le": "+Inf"]) == 2)
        #expect(metrics.types["runnel_request_duration_seconds"] == "histogram")
        #expect(metrics.types["runnel_topic_bytes_in_total"] == "counter")
        let partition = ["topic": "flow", "partition": "0"]
        #expect(metrics.value("runnel_partition_log_end_offset", labels: partition) == 3)
        #expect(metrics.value("runnel_partition_log_start_offset", labels: partition) == 0)
        #expect(metrics.value("runnel_partition_size_bytes", labels: partition) == Double(first.readableBytes + second.readableBytes))
        #expect(metrics.value("runnel_topics") == 1)
        #expect(metrics.value("runnel_partitions") == 1)
        #expect(metrics.value("runnel_open_connections") == 1)
        #expect((metrics.value("runnel_uptime_seconds") ?? -1) >= 0)
        // Appends write through to the read cache and the tail fetch is served from it.
        #expect((metrics.value("runnel_cache_inserts_total") ?? 0) >= 2)
        #expect((metrics.value("runnel_cache_hits_total") ?? 0) >= 1)
        #expect(metrics.value("runnel_cache_max_bytes") == Double(fixture.broker.broker.configuration.logCacheMaxBytes))
        #expect(metrics.value("runnel_cleaner_cleanings_total") == 0)
        await fixture.broker.stop()
    }

    @Test func errorCodesInResponsesAndClosedConnectionsAreCounted() async throws {
        let fixture = try await Fixture.start()
        let client = try TestKafkaClient(port: fixture.broker.port)
        _ = try client.request(Helpers.metadata(["errs"]), version: 12)
        // Partition 7 does not exist: UNKNOWN_TOPIC_OR_PARTITION (3) in Produce and in ListOffsets.
        let produced = try client.request(Helpers.produce("errs", try Helpers.batch(["x"]), partition: 7), version: 9)
        #expect(produced.responses.first?.partitionResponses.first?.errorCode == 3)
        var listOffsets = ListOffsetsRequest()
        var topic = ListOffsetsRequest.ListOffsetsTopic()
        topic.name = "errs"
        var missing = ListOffsetsRequest.ListOffsetsPartition()
        missing.partitionIndex = 7
        missing.timestamp = -1
        var present = ListOffsetsRequest.ListOffsetsPartition()
        present.partitionIndex = 0
        present.timestamp = -1
        topic.partitions = [missing, present]
        listOffsets.topics = [topic]
        let listed = try client.request(listOffsets, version: 7)
        #expect(listed.topics.first?.partitions.map(\.errorCode) == [3, 0])
        // Produce v1 is advertised but not served: the connection is closed.
        let closing = try TestKafkaClient(port: fixture.broker.port)
        _ = try closing.send(Helpers.produce("errs", try Helpers.batch(["y"])), version: 1)
        #expect(try closing.isClosedByPeer())

        let metrics = try await fixture.scrape()
        #expect(metrics.value("runnel_request_errors_total", labels: ["api": "Produce", "code": "3"]) == 1)
        #expect(metrics.value("runnel_request_errors_total", labels: ["api": "ListOffsets", "code": "3"]) == 1)
        #expect(metrics.value("runnel_request_errors_total", labels: ["api": "Produce", "code": "closed"]) == 1)
        #expect(metrics.samples(named: "runnel_request_errors_total").allSatisfy { $0.labels["code"] != "0" })
        await fixture.broker.stop()
    }

    @Test func committedOffsetsShowAsGroupLagAndMembers() async throws {
        let fixture = try await Fixture.start()
        let client = try TestKafkaClient(port: fixture.broker.port)
        _ = try client.request(Helpers.metadata(["lagging"]), version: 12)
        _ = try client.request(Helpers.produce("lagging", try Helpers.batch(["1", "2", "3", "4", "5"])), version: 9)
        var find = FindCoordinatorRequest()
        find.key = "watchers"
        let port = fixture.broker.port
        // Group APIs are answered by the coordinator actor (a Swift task): the blocking client runs on NIO's thread
        // pool so it never holds a cooperative thread the answer needs.
        try await retryUntil { [find] in
            try await Self.offloaded { try TestKafkaClient(port: port).request(find, version: 3).errorCode == 0 }
        }
        var commit = OffsetCommitRequest()
        commit.groupId = "watchers"
        var topic = OffsetCommitRequest.OffsetCommitRequestTopic()
        topic.name = "lagging"
        var partition = OffsetCommitRequest.OffsetCommitRequestPartition()
        partition.partitionIndex = 0
        partition.committedOffset = 2
        topic.partitions = [partition]
        commit.topics = [topic]
        try await retryUntil { [commit] in
            try await Self.offloaded {
                try TestKafkaClient(port: port).request(commit, version: 8).topics.first?.partitions.first?.errorCode == 0
            }
        }

        let metrics = try await fixture.scrape()
        let labels = ["group": "watchers", "topic": "lagging", "partition": "0"]
        #expect(metrics.value("runnel_group_lag", labels: labels) == 3)
        #expect(metrics.value("runnel_group_members", labels: ["group": "watchers"]) == 0)
        #expect((metrics.value("runnel_requests_total", labels: ["api": "OffsetCommit"]) ?? 0) >= 1)

        partition.committedOffset = 5
        topic.partitions = [partition]
        commit.topics = [topic]
        let recommitted = try await Self.offloaded { [commit] in
            try TestKafkaClient(port: port).request(commit, version: 8).topics.first?.partitions.first?.errorCode
        }
        #expect(recommitted == 0)
        #expect(try await fixture.scrape().value("runnel_group_lag", labels: labels) == 0)
        await fixture.broker.stop()
    }

    @Test func deletedTopicsLeaveTheOutput() async throws {
        let fixture = try await Fixture.start()
        let client = try TestKafkaClient(port: fixture.broker.port)
        _ = try client.request(Helpers.metadata(["doomed", "kept"]), version: 12)
        _ = try client.request(Helpers.produce("doomed", try Helpers.batch(["d"])), version: 9)
        _ = try client.request(Helpers.produce("kept", try Helpers.batch(["k"])), version: 9)
        let before = try await fixture.scrape()
        #expect(before.value("runnel_topic_records_in_total", labels: ["topic": "doomed"]) == 1)
        #expect(before.value("runnel_partition_log_end_offset", labels: ["topic": "doomed"]) == 1)
        var delete = DeleteTopicsRequest()
        delete.topicNames = ["doomed"]
        delete.timeoutMs = 5000
        #expect(try client.request(delete, version: 4).responses.first?.errorCode == 0)

        let after = try await fixture.scrape()
        #expect(after.samples.allSatisfy { $0.labels["topic"] != "doomed" })
        #expect(after.value("runnel_topic_records_in_total", labels: ["topic": "kept"]) == 1)
        #expect(after.value("runnel_partition_log_end_offset", labels: ["topic": "kept"]) == 1)
        #expect(after.value("runnel_topics") == 1)
        await fixture.broker.stop()
    }

    @Test func healthUnknownPathsAndOtherMethodsGetTheirStatus() async throws {
        let fixture = try await Fixture.start()
        let health = try await fixture.http.request("GET", "/health")
        #expect(health.status == 200)
        #expect(health.body.contains("ok"))
        #expect(try await fixture.http.request("GET", "/metrics?debug=1").status == 200)
        #expect(try await fixture.http.request("GET", "/nothing").status == 404)
        let post = try await fixture.http.request("POST", "/metrics")
        #expect(post.status == 405)
        #expect(post.headers["allow"] == "GET")
        await fixture.broker.stop()
    }

    @Test func malformedHTTPClosesTheConnectionAndTheEndpointKeepsServing() async throws {
        let fixture = try await Fixture.start()
        let garbage = try await fixture.http.exchange(Array("\u{0}\u{1}NOT HTTP AT ALL\r\n\r\n".utf8))
        #expect(String(decoding: garbage, as: UTF8.self).hasPrefix("HTTP/1.1 400"))
        let badHeader = try await fixture.http.exchange(Array("GET /metrics HTTP/1.1\r\nHost\r\n\r\n".utf8))
        #expect(!String(decoding: badHeader, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        // A request cut off mid-header and then abandoned does not disturb other clients.
        _ = try? await TestHTTPClient(port: fixture.http.port).exchange(Array("GET /met".utf8), receiveTimeoutSeconds: 1)
        #expect(try await fixture.http.request("GET", "/health").status == 200)
        #expect(try await fixture.scrape().value("runnel_topics") == 0)
        await fixture.broker.stop()
    }

    @Test func aDisabledListenerServesNothing() async throws {
        for value in ["none", ""] {
            let directory = try TemporaryDirectory()
            let broker = try await TestBroker.start(directory: directory.path, overrides: [("metrics.listener", value)])
            #expect(await broker.broker.metricsEndpoint == nil)
            await broker.stop()
        }
    }

    @Test func anExplicitAddressInUseStopsStartUp() async throws {
        let first = try await Fixture.start()
        let taken = first.http.port
        let directory = try TemporaryDirectory()
        await #expect(throws: BrokerError.self) {
            _ = try await TestBroker.start(directory: directory.path, overrides: [("metrics.listener", "127.0.0.1:\(taken)")])
        }
        await first.broker.stop()
    }

    /// Runs blocking client work on NIO's thread pool.
    private static func offloaded<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }

    /// Retries `body` (coordinator loading, topic creation) up to ~10 s.
    private func retryUntil(_ body: () async throws -> Bool) async throws {
        for _ in 0..<200 {
            if try await body() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("condition not reached in time")
    }
}
