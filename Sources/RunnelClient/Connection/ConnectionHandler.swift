internal import NIOCore
internal import RunnelProtocol

/// The client end of a Kafka connection: writes ``ClientRequest``s and completes each one's promise with the
/// response whose correlation id matches (responses come back in request order, but are matched by id so a
/// broker that misbehaves fails loudly instead of mixing up answers).
///
/// Loop-bound: every member is used only on the channel's event loop (NIO handler contract).
final class ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ClientRequest
    typealias OutboundOut = OutboundFrame

    private struct Pending {
        let apiKey: ApiKey
        let version: Int16
        let promise: EventLoopPromise<ByteBuffer>
        let timeout: Scheduled<Void>
    }

    private let address: BrokerAddress
    private var pending: [Int32: Pending] = [:]
    private var closedReason: String?

    init(address: BrokerAddress) {
        self.address = address
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let closedReason {
            request.promise.fail(
                ClientError.connectionClosed(host: address.host, port: address.port, reason: closedReason))
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        let writePromise = context.eventLoop.makePromise(of: Void.self)
        if request.expectsResponse {
            let correlationId = request.correlationId
            let apiName = request.apiKey.name
            let timeoutMs = request.timeoutMs
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            let timeout = context.eventLoop.scheduleTask(in: .milliseconds(timeoutMs)) {
                guard let entry = bound.value.pending.removeValue(forKey: correlationId) else { return }
                entry.promise.fail(ClientError.requestTimedOut(api: apiName, timeoutMs: timeoutMs))
            }
            pending[correlationId] = Pending(
                apiKey: request.apiKey, version: request.version, promise: request.promise, timeout: timeout)
            writePromise.futureResult.whenFailure { error in
                let handler = bound.value
                guard let entry = handler.pending.removeValue(forKey: correlationId) else { return }
                entry.timeout.cancel()
                entry.promise.fail(handler.closedError("write failed: \(error)"))
            }
        } else {
            let responsePromise = request.promise
            writePromise.futureResult.whenComplete { result in
                switch result {
                case .success: responsePromise.succeed(ByteBuffer())
                case .failure(let error): responsePromise.fail(error)
                }
            }
        }
        writePromise.futureResult.cascade(to: promise)
        context.writeAndFlush(wrapOutboundOut(request.frame), promise: writePromise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let correlationId = frame.getInteger(at: frame.readerIndex, endianness: .big, as: Int32.self),
            let entry = pending.removeValue(forKey: correlationId)
        else {
            failAll(reason: "response with an unknown correlation id")
            context.close(promise: nil)
            return
        }
        entry.timeout.cancel()
        var reader = MessageReader(frame)
        do {
            _ = try ResponseHeader(from: &reader, version: entry.apiKey.responseHeaderVersion(for: entry.version))
            entry.promise.succeed(reader.buffer)
        } catch {
            entry.promise.fail(ClientError.malformedResponse(api: entry.apiKey.name, reason: "\(error)"))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(reason: "\(error)")
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(reason: "the broker closed the connection")
        context.fireChannelInactive()
    }

    private func closedError(_ reason: String) -> ClientError {
        .connectionClosed(host: address.host, port: address.port, reason: reason)
    }

    private func failAll(reason: String) {
        if closedReason == nil { closedReason = reason }
        let entries = pending
        pending.removeAll()
        for entry in entries.values {
            entry.timeout.cancel()
            entry.promise.fail(closedError(reason))
        }
    }
}
