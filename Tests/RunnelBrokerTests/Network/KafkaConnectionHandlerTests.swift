import Logging
import NIOCore
import NIOEmbedded
import RunnelProtocol
import Synchronization
import Testing

@testable import RunnelBroker

/// The connection handler's request queue: frames run one at a time, in order, and each frame is released as soon
/// as it is taken off the queue (a frame is a slice of the decoder's buffer and pins its whole storage).
@Suite struct KafkaConnectionHandlerTests {
    /// Promises of held answers (filled on the embedded loop, drained by the test).
    final class Held: Sendable {
        let promises = Mutex<[EventLoopPromise<HeartbeatResponse?>]>([])
        var count: Int { promises.withLock { $0.count } }
        func takeFirst() -> EventLoopPromise<HeartbeatResponse?> { promises.withLock { $0.removeFirst() } }
    }

    /// Holds every Heartbeat answer in `held` (the test completes them), or answers at once without `held`.
    struct HeartbeatHandler: ApiHandler {
        let held: Held?
        var advertisedVersions: ClosedRange<Int16> { 0...3 }
        func handle(_ request: HeartbeatRequest, context: RequestContext) -> EventLoopFuture<HeartbeatResponse?> {
            guard let held else { return context.eventLoop.makeSucceededFuture(HeartbeatResponse()) }
            let promise = context.eventLoop.makePromise(of: HeartbeatResponse?.self)
            held.promises.withLock { $0.append(promise) }
            return promise.futureResult
        }
    }

    /// A Heartbeat v0 request frame (no size prefix, as the frame decoder emits it) padded to `size` bytes.
    static func frame(correlationId: Int32, size: Int = 64) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: size)
        buffer.writeInteger(ApiKey.heartbeat.rawValue)
        buffer.writeInteger(Int16(0))
        buffer.writeInteger(correlationId)
        buffer.writeInteger(Int16(-1))  // null client id
        buffer.writeInteger(Int16(1))
        buffer.writeString("g")
        buffer.writeInteger(Int32(1))
        buffer.writeInteger(Int16(1))
        buffer.writeString("m")
        if buffer.readableBytes < size { buffer.writeRepeatingByte(0, count: size - buffer.readableBytes) }
        return buffer
    }

    static func channel(held: Held?) throws -> EmbeddedChannel {
        let dispatcher = RequestDispatcher(handlers: [AnyApiHandler(HeartbeatHandler(held: held))])
        let handler = KafkaConnectionHandler(
            dispatcher: dispatcher, connectionTracker: ConnectionTracker(), logger: Logger(label: "test"))
        let channel = EmbeddedChannel(handler: handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        return channel
    }

    static func correlationIds(of channel: EmbeddedChannel) throws -> [Int32] {
        var ids: [Int32] = []
        var pending = ByteBuffer()
        while let part = try channel.readOutbound(as: IOData.self) {
            guard case .byteBuffer(var bytes) = part else { continue }
            pending.writeBuffer(&bytes)
        }
        while let size = pending.readInteger(as: Int32.self), var body = pending.readSlice(length: Int(size)) {
            if let id = body.readInteger(as: Int32.self) { ids.append(id) }
        }
        return ids
    }

    @Test func framesAreAnsweredInOrderAndReleasedOnceTaken() throws {
        let held = Held()
        let channel = try Self.channel(held: held)
        var frames = (0..<40).map { Self.frame(correlationId: Int32($0), size: 4096) }
        for frame in frames { try channel.writeInbound(frame) }
        // One request in flight, 39 queued: every frame is still referenced by the handler.
        #expect(held.count == 1)
        #expect(frames[39].modifyIfUniquelyOwned { _ in true } == nil)
        // Answer them one by one; each answer starts the next request.
        for _ in 0..<40 {
            let promise = held.takeFirst()
            promise.succeed(HeartbeatResponse())
            channel.embeddedEventLoop.run()
        }
        #expect(try Self.correlationIds(of: channel) == Array(0..<40))
        // Nothing the handler took still holds a frame's storage.
        for index in frames.indices {
            #expect(frames[index].modifyIfUniquelyOwned { _ in true } == true, "frame \(index) is still referenced")
        }
        _ = try channel.finish()
    }

    @Test func anIdleEventClosesAnIdleConnectionButNotABusyOne() throws {
        let held = Held()
        let channel = try Self.channel(held: held)
        try channel.writeInbound(Self.frame(correlationId: 1))
        channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.all)
        #expect(channel.isActive, "a request is in flight: the connection stays open")
        held.takeFirst().succeed(HeartbeatResponse())
        channel.embeddedEventLoop.run()
        #expect(try Self.correlationIds(of: channel) == [1])
        channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.all)
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive, "nothing in flight: an idle connection is closed")
    }
}
