public import NIOCore

/// Writes ``OutboundFrame``s to the channel with Kafka's int32 size prefix.
///
/// Copying choice: the 4-byte size goes into a small new buffer together with the frame's first part when that
/// part is small (header and the start of the body, at most `coalesceLimit` bytes), so a typical response is
/// one write. Larger parts (notably zero-copy `records` slices of a Fetch response) are written as they are,
/// never copied; NIO gathers consecutive writes into one `writev`. Only the last write carries the promise.
public final class KafkaFrameEncoder: ChannelOutboundHandler, Sendable {
    public typealias OutboundIn = OutboundFrame
    public typealias OutboundOut = ByteBuffer

    /// First parts up to this many bytes are copied next to the size prefix instead of written separately.
    public let coalesceLimit: Int

    public init(coalesceLimit: Int = 16 * 1024) {
        self.coalesceLimit = coalesceLimit
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let frame = unwrapOutboundIn(data)
        let buffers = Self.buffers(for: frame, allocator: context.channel.allocator, coalesceLimit: coalesceLimit)
        for (index, buffer) in buffers.enumerated() {
            let isLast = index == buffers.count - 1
            context.write(wrapOutboundOut(buffer), promise: isLast ? promise : nil)
        }
    }

    /// The buffers written for `frame`: size prefix (plus a small first part), then the remaining parts.
    public static func buffers(for frame: OutboundFrame, allocator: ByteBufferAllocator, coalesceLimit: Int)
        -> [ByteBuffer]
    {
        var parts = frame.parts[...]
        var head: ByteBuffer
        if let first = parts.first, first.readableBytes <= coalesceLimit {
            head = allocator.buffer(capacity: 4 + first.readableBytes)
            head.writeInteger(Int32(truncatingIfNeeded: frame.byteCount), endianness: .big)
            var copy = first
            head.writeBuffer(&copy)
            parts = parts.dropFirst()
        } else {
            head = allocator.buffer(capacity: 4)
            head.writeInteger(Int32(truncatingIfNeeded: frame.byteCount), endianness: .big)
        }
        return [head] + parts
    }
}
