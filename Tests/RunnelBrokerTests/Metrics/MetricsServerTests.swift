import NIOPosix
import Synchronization
import Testing

@testable import RunnelBroker

/// The HTTP endpoint alone, over a fixed body: health during shutdown and the listener address syntax.
@Suite struct MetricsServerTests {
    /// A flag the test flips while the server reads it from its event loop.
    final class Flag: Sendable {
        let value = Atomic<Bool>(false)
    }

    @Test func healthTurns503OnceShutdownBegins() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let shuttingDown = Flag()
        let (channel, endpoint) = try await MetricsServer.bind(
            MetricsListenerAddress(host: "127.0.0.1", port: 0), group: group,
            render: { Array("runnel_topics 7\n".utf8) },
            isShuttingDown: { shuttingDown.value.load(ordering: .relaxed) })
        let http = TestHTTPClient(port: endpoint.port)
        #expect(try await http.request("GET", "/health").status == 200)
        let metrics = try await http.request("GET", "/metrics")
        #expect(metrics.body == "runnel_topics 7\n")
        #expect(metrics.headers["content-length"] == "16")
        shuttingDown.value.store(true, ordering: .relaxed)
        let health = try await http.request("GET", "/health")
        #expect(health.status == 503)
        #expect(health.body.contains("shutting_down"))
        try await channel.close()
        try await group.shutdownGracefully()
    }

    @Test func keepAliveConnectionsServeSeveralRequests() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let (channel, endpoint) = try await MetricsServer.bind(
            MetricsListenerAddress(host: "127.0.0.1", port: 0), group: group, render: { Array("a 1\n".utf8) },
            isShuttingDown: { false })
        let request = "GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        let raw = String(decoding: try await TestHTTPClient(port: endpoint.port).exchange(Array(request.utf8)), as: UTF8.self)
        #expect(raw.ranges(of: "HTTP/1.1 200 OK").count == 2)
        #expect(raw.hasSuffix("a 1\n"))
        try await channel.close()
        try await group.shutdownGracefully()
    }

    @Test func listenerAddressesParseOrDisable() throws {
        #expect(try MetricsListenerAddress.parse("127.0.0.1:9644") == MetricsListenerAddress(host: "127.0.0.1", port: 9644))
        #expect(try MetricsListenerAddress.parse(" [::1]:0 ") == MetricsListenerAddress(host: "::1", port: 0))
        #expect(try MetricsListenerAddress.parse(":9644") == MetricsListenerAddress(host: "", port: 9644))
        #expect(try MetricsListenerAddress.parse("") == nil)
        #expect(try MetricsListenerAddress.parse("NONE") == nil)
        for bad in ["localhost", "127.0.0.1:65536", "127.0.0.1:-1", "::1:9644", "host:port"] {
            #expect(throws: BrokerConfigurationError.self) { try MetricsListenerAddress.parse(bad) }
        }
        #expect(MetricsEndpoint(host: "::1", port: 80).url == "http://[::1]:80/metrics")
    }

    @Test func theConfigurationDefaultsToLoopback9644AndRejectsBadValues() throws {
        #expect(try BrokerConfiguration().metricsListener == MetricsListenerAddress(host: "127.0.0.1", port: 9644))
        #expect(try BrokerConfiguration().metricsListenerIsExplicit == false)
        let disabled = try BrokerConfiguration(overrides: [("metrics.listener", "none")])
        #expect(disabled.metricsListener == nil)
        #expect(disabled.metricsListenerIsExplicit)
        #expect(throws: BrokerConfigurationError.self) {
            try BrokerConfiguration(overrides: [("metrics.listener", "nowhere")])
        }
        #expect(try BrokerConfiguration(environment: ["RUNNEL_METRICS_LISTENER": "0.0.0.0:0"]).metricsListener?.port == 0)
    }
}
