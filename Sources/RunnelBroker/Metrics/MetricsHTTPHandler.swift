import NIOCore
import NIOHTTP1

/// Serves one HTTP/1.1 connection of the metrics endpoint.
///
/// Routes: `GET /metrics` → 200, Prometheus text format 0.0.4; `GET /health` → 200 `{"status":"ok"}`, or 503
/// `{"status":"shutting_down"}` once graceful shutdown began; any other path → 404; any other method → 405 with
/// `Allow: GET`. A query string is ignored. Request bodies are discarded. Malformed HTTP is answered 400 by NIO's
/// `HTTPServerProtocolErrorHandler` and the connection closed; other errors close the connection.
///
/// Loop-bound (NIO handler contract): `pendingHead` is touched only on the channel's event loop. NIO's
/// `HTTPServerPipelineHandler` (added by `configureHTTPServerPipeline`) holds back pipelined requests until the
/// current response's `.end` is written, so at most one request is handled at a time.
final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

    private let render: @Sendable () async -> [UInt8]
    private let isShuttingDown: @Sendable () -> Bool
    private var pendingHead: HTTPRequestHead?

    /// - Parameters:
    ///   - render: the `/metrics` body (`MetricsCollector.render`), run off the event loop.
    ///   - isShuttingDown: whether `/health` answers 503.
    init(render: @escaping @Sendable () async -> [UInt8], isShuttingDown: @escaping @Sendable () -> Bool) {
        self.render = render
        self.isShuttingDown = isShuttingDown
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(head):
            pendingHead = head
        case .body:
            break  // GET has no meaningful body; whatever arrives is dropped
        case .end:
            guard let head = pendingHead else { return }
            pendingHead = nil
            respond(to: head, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: - Routing

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard head.method == .GET else {
            let known = path == "/metrics" || path == "/health"
            write(
                status: known ? .methodNotAllowed : .notFound, contentType: "text/plain; charset=utf-8",
                body: Array((known ? "method not allowed\n" : "not found\n").utf8), head: head, context: context,
                extraHeaders: known ? [("Allow", "GET")] : [])
            return
        }
        switch path {
        case "/metrics":
            let promise = context.eventLoop.makePromise(of: [UInt8].self)
            let render = self.render
            promise.completeWithTask { await render() }
            promise.futureResult.assumeIsolated().whenComplete { result in
                switch result {
                case let .success(body):
                    self.write(
                        status: .ok, contentType: Self.metricsContentType, body: body, head: head, context: context)
                case .failure:
                    self.write(
                        status: .internalServerError, contentType: "text/plain; charset=utf-8",
                        body: Array("metrics unavailable\n".utf8), head: head, context: context)
                }
            }
        case "/health":
            let down = isShuttingDown()
            write(
                status: down ? .serviceUnavailable : .ok, contentType: "application/json",
                body: Array((down ? #"{"status":"shutting_down"}"# : #"{"status":"ok"}"#).utf8) + [0x0A],
                head: head, context: context)
        default:
            write(
                status: .notFound, contentType: "text/plain; charset=utf-8", body: Array("not found\n".utf8),
                head: head, context: context)
        }
    }

    private func write(
        status: HTTPResponseStatus, contentType: String, body: [UInt8], head: HTTPRequestHead,
        context: ChannelHandlerContext, extraHeaders: [(String, String)] = []
    ) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.count))
        for (name, value) in extraHeaders { headers.add(name: name, value: value) }
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let response = HTTPResponseHead(version: head.version, status: status, headers: headers)
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        if head.method != .HEAD {
            var buffer = context.channel.allocator.buffer(capacity: body.count)
            buffer.writeBytes(body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}
