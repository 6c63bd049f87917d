import NIOCore
import NIOHTTP1
import NIOPosix

/// Binds the metrics HTTP/1.1 endpoint on the broker's event loop group.
///
/// Each connection runs NIO's HTTP/1 server pipeline (with its protocol error handler: malformed requests get
/// 400 and a close), an idle timeout, and a `MetricsHTTPHandler`.
enum MetricsServer {
    /// Connections idle this long (no request read) are closed.
    static let idleTimeout: TimeAmount = .seconds(60)

    /// Binds `address`; returns the server channel and the bound endpoint (a wildcard bind reports 127.0.0.1, or
    /// ::1 for `::`, so the announced URL can be fetched locally).
    /// - Throws: NIO's bind errors (address in use, bad host).
    /// - Parameters:
    ///   - render: the `/metrics` body (the broker passes `MetricsCollector.render`).
    ///   - isShuttingDown: whether `/health` answers 503.
    static func bind(
        _ address: MetricsListenerAddress, group: any EventLoopGroup, render: @escaping @Sendable () async -> [UInt8],
        isShuttingDown: @escaping @Sendable () -> Bool
    ) async throws -> (any Channel, MetricsEndpoint) {
        let host = address.host.isEmpty ? "0.0.0.0" : address.host
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                    try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
                    try pipeline.addHandler(MetricsHTTPHandler(render: render, isShuttingDown: isShuttingDown))
                }
            }
            .bind(host: host, port: address.port).get()
        var shown = channel.localAddress?.ipAddress ?? host
        if shown == "0.0.0.0" { shown = "127.0.0.1" }
        if shown == "::" { shown = "::1" }
        let port = channel.localAddress?.port ?? address.port
        return (channel, MetricsEndpoint(host: shown, port: port))
    }
}
