import Logging
import NIOCore
import RunnelProtocol
import RunnelStorage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Handles one client connection after framing: runs requests one at a time, in arrival order, and writes each
/// response (size prefix + parts) before the next request starts.
///
/// Like Kafka, a connection's requests are processed strictly in order (clients pipeline into the socket and
/// match responses by correlation id); a long-poll Fetch therefore delays only its own connection. Requests that
/// arrive meanwhile are queued; at `maxQueuedRequests` frames or `maxQueuedBytes` bytes the handler stops reading
/// the socket (backpressure) until half of that has been processed, so a client pipelining 1 MB produce requests
/// holds at most a few MB of broker memory (the rest waits in the kernel's socket buffers and the client).
///
/// Loop-bound: every member is touched only on the channel's event loop (NIO handler contract); request work that
/// completes elsewhere is hopped back with `hop(to:)` before it touches handler state.
///
/// Metrics: every request with a served API key is counted and timed here (`runnel_requests_total`,
/// `runnel_request_duration_seconds`, from dequeue to response ready); closes and failures count as errors, and
/// the encoded responses of ListOffsets and the group APIs are scanned for error codes (`ResponseErrorScanner`).
/// The instruments are cached per connection, so the metrics lock is taken once per API per connection.
final class KafkaConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = IOData

    /// Frames held while a request is in flight before reading pauses.
    static let maxQueuedRequests = 64
    /// Bytes of queued frames (not counting the one in flight) at which reading pauses.
    static let maxQueuedBytes = 4 << 20

    private let dispatcher: RequestDispatcher
    private let connectionTracker: ConnectionTracker
    private var logger: Logger
    /// Frames not yet started. A ring buffer so a dequeued frame is released at once: a frame is a slice of the
    /// decoder's cumulation buffer and pins its whole storage (often 2x a 1 MB request) until released.
    private var queue = CircularBuffer<ByteBuffer>(initialCapacity: 4)
    /// Sum of `readableBytes` of `queue`.
    private var queuedBytes = 0
    private var inFlight = false
    private var quiescing = false
    private var closed = false
    private var readPaused = false
    private let metrics: BrokerMetrics?
    private var instruments: [ApiKey: BrokerMetrics.RequestInstruments] = [:]
    /// "/<ip>" of the peer, as Kafka reports a member's host in DescribeGroups.
    private var clientHost = ""

    init(dispatcher: RequestDispatcher, connectionTracker: ConnectionTracker, logger: Logger, metrics: BrokerMetrics? = nil) {
        self.dispatcher = dispatcher
        self.connectionTracker = connectionTracker
        self.logger = logger
        self.metrics = metrics
    }

    func channelActive(context: ChannelHandlerContext) {
        if let remote = context.channel.remoteAddress {
            logger[metadataKey: "peer"] = "\(remote)"
            if let ip = remote.ipAddress { clientHost = "/" + ip }
        }
        connectionTracker.opened(context.channel)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        queue.removeAll()
        queuedBytes = 0
        connectionTracker.closed(context.channel)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closed else { return }
        let frame = unwrapInboundIn(data)
        queuedBytes += frame.readableBytes
        queue.append(frame)
        if queue.count >= Self.maxQueuedRequests || queuedBytes >= Self.maxQueuedBytes, !readPaused {
            readPaused = true
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
        }
        processNext(context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            // connections.max.idle.ms passed with nothing read or written: close, as Kafka does. A request still
            // being worked on (a long poll cannot outlast the idle time, but a slow disk might) keeps it open.
            if !inFlight, queue.isEmpty {
                logger.debug("closing idle connection (connections.max.idle.ms)")
                closed = true
                context.close(promise: nil)
            }
            return
        }
        if event is ChannelShouldQuiesceEvent {
            quiescing = true
            // Finish what was received, but read nothing more.
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
            if !inFlight, queue.isEmpty { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("closing connection after error", metadata: ["error": "\(error)"])
        closed = true
        context.close(promise: nil)
    }

    // MARK: - Request loop

    private func processNext(context: ChannelHandlerContext) {
        guard !inFlight, !closed, let frame = queue.popFirst() else { return }
        queuedBytes -= frame.readableBytes
        if readPaused, !quiescing, queue.count < Self.maxQueuedRequests / 2,
            queuedBytes < Self.maxQueuedBytes / 2
        {
            readPaused = false
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
        }
        inFlight = true
        let eventLoop = context.eventLoop
        let started = NIODeadline.now()
        let future = dispatcher.handle(
            frame: frame, eventLoop: eventLoop, connectionClosed: context.channel.closeFuture, logger: logger,
            clientHost: clientHost)
        future.hop(to: eventLoop).assumeIsolated().whenComplete { result in
            self.inFlight = false
            self.record(result, frame: frame, started: started)
            guard !self.closed else { return }
            switch result {
            case let .success(.respond(parts)):
                self.write(parts, context: context)
            case .success(.noResponse):
                break
            case let .success(.close(reason)):
                self.logger.debug("closing connection", metadata: ["reason": "\(reason)"])
                self.closed = true
                context.close(promise: nil)
                return
            case let .failure(error):
                self.logger.warning("request failed, closing connection", metadata: ["error": "\(error)"])
                self.closed = true
                context.close(promise: nil)
                return
            }
            if self.quiescing, self.queue.isEmpty {
                self.closed = true
                context.close(promise: nil)
                return
            }
            self.processNext(context: context)
        }
    }

    /// Counts and times one finished request (see the type's doc); unknown API keys are not counted.
    private func record(_ result: Result<RequestOutcome, any Error>, frame: ByteBuffer, started: NIODeadline) {
        guard let metrics,
            let rawKey = frame.getInteger(at: frame.readerIndex, as: Int16.self),
            let api = ApiKey(rawValue: rawKey), dispatcher.serves(api)
        else { return }
        let instrumentsForApi: BrokerMetrics.RequestInstruments
        if let cached = instruments[api] {
            instrumentsForApi = cached
        } else {
            instrumentsForApi = metrics.requestInstruments(for: api)
            instruments[api] = instrumentsForApi
        }
        instrumentsForApi.requests.increment()
        instrumentsForApi.duration.recordNanoseconds((NIODeadline.now() - started).nanoseconds)
        switch result {
        case let .success(.respond(parts)):
            if ResponseErrorScanner.scans(api), let version = frame.getInteger(at: frame.readerIndex + 2, as: Int16.self) {
                ResponseErrorScanner.record(parts, api: api, version: version, into: metrics)
            }
        case .success(.noResponse):
            break
        case .success(.close):
            metrics.recordError(api: api, code: "closed")
        case .failure:
            metrics.recordError(api: api, code: "failed")
        }
    }

    /// Writes `int32 size` + parts and flushes. File parts go out as `FileRegion`s (sendfile) over a dup'ed
    /// descriptor that is closed when its write completes, so segment deletion never races the send.
    private func write(_ parts: [ResponsePart], context: ChannelHandlerContext) {
        let total = parts.reduce(0) { $0 + $1.length }
        guard let size = Int32(exactly: total) else {
            logger.error("response too large to frame", metadata: ["bytes": "\(total)"])
            closed = true
            context.close(promise: nil)
            return
        }
        var head = context.channel.allocator.buffer(capacity: 4)
        head.writeInteger(size)
        var remaining = parts[...]
        if case let .bytes(first)? = remaining.first {
            var merged = head
            var firstCopy = first
            merged.writeBuffer(&firstCopy)
            head = merged
            remaining = remaining.dropFirst()
        }
        context.write(wrapOutboundOut(.byteBuffer(head)), promise: nil)
        for part in remaining {
            switch part {
            case let .bytes(buffer):
                context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
            case let .file(slice):
                let duplicate = dup(slice.file.fileDescriptor)
                guard duplicate >= 0 else {
                    logger.error("dup of segment descriptor failed", metadata: ["errno": "\(errno)"])
                    closed = true
                    context.close(promise: nil)
                    return
                }
                let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: duplicate)
                let region = FileRegion(
                    fileHandle: handle, readerIndex: Int(slice.position), endIndex: Int(slice.position) + slice.length)
                let promise = context.eventLoop.makePromise(of: Void.self)
                let owned = UncheckedFileHandleBox(handle)
                promise.futureResult.whenComplete { _ in owned.close() }
                context.write(wrapOutboundOut(.fileRegion(region)), promise: promise)
            }
        }
        context.flush()
    }
}

/// Owns a `NIOFileHandle` until its FileRegion write completes, then closes it exactly once.
///
/// `@unchecked Sendable`: the handle is created on the event loop and closed from the write promise's callback,
/// which NIO runs on the same event loop; nothing else touches it.
final class UncheckedFileHandleBox: @unchecked Sendable {
    private let handle: NIOFileHandle

    init(_ handle: NIOFileHandle) { self.handle = handle }

    func close() { try? handle.close() }
}
