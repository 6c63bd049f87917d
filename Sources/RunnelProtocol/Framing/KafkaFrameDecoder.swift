public import NIOCore

/// Splits a TCP byte stream into Kafka frames: `int32 size` (big-endian, excluding itself) then `size` bytes.
///
/// Yields each frame's content (header ++ body) as a slice of the inbound buffer (no copy). A negative size or a
/// size above `maximumFrameBytes` (Kafka's `socket.request.max.bytes`, default 104857600) throws
/// ``ProtocolError``; the broker then closes the connection without a response, as Kafka does (§1.6).
/// Use in a pipeline as `ByteToMessageHandler(KafkaFrameDecoder())`, or drive it with
/// `NIOSingleStepByteToMessageProcessor` outside a channel.
public struct KafkaFrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    /// Kafka's default `socket.request.max.bytes` (100 MiB).
    public static let defaultMaximumFrameBytes = 104_857_600

    /// The largest accepted frame content, in bytes (size prefix excluded).
    public let maximumFrameBytes: Int

    public init(maximumFrameBytes: Int = KafkaFrameDecoder.defaultMaximumFrameBytes) {
        precondition(maximumFrameBytes >= 0, "maximumFrameBytes must not be negative")
        self.maximumFrameBytes = maximumFrameBytes
    }

    /// Returns the next complete frame, or `nil` when more bytes are needed. The size is validated as soon as
    /// its four bytes arrive, before the rest of the frame is buffered.
    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        try Self.nextFrame(from: &buffer, maximumFrameBytes: maximumFrameBytes)
    }

    /// At EOF, a partial frame is discarded (the peer went away mid-request).
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        if let frame = try decode(buffer: &buffer) { return frame }
        buffer.moveReaderIndex(to: buffer.writerIndex)  // Drop the incomplete tail: no request can follow.
        return nil
    }

    /// The framing rule itself, usable without a channel.
    public static func nextFrame(from buffer: inout ByteBuffer, maximumFrameBytes: Int) throws(ProtocolError)
        -> ByteBuffer?
    {
        guard let size = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: Int32.self) else {
            return nil
        }
        if size < 0 { throw .negativeFrameSize(size) }
        if Int(size) > maximumFrameBytes { throw .frameTooLarge(size: size, maximum: maximumFrameBytes) }
        guard buffer.readableBytes >= 4 + Int(size) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: Int(size))
    }
}
