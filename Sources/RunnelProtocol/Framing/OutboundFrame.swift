public import NIOCore

/// An encoded request or response *without* its int32 size prefix, as one or more buffers in order.
///
/// Usually one buffer; with zero-copy records (see ``MessageWriter``) a large `records` payload is its own part,
/// still a slice of the storage it was read from. ``KafkaFrameEncoder`` adds the size prefix.
/// Invariant: `byteCount == parts.map(\.readableBytes).reduce(0, +)`.
public struct OutboundFrame: Sendable, Equatable {
    /// Records payloads at least this large (bytes) are not copied into response buffers by default.
    public static let defaultZeroCopyThreshold = 16 * 1024

    /// The frame content (header ++ body), in order.
    public private(set) var parts: [ByteBuffer]
    /// Total bytes in `parts` (the value of the size prefix).
    public private(set) var byteCount: Int

    public init(parts: [ByteBuffer]) {
        self.parts = parts
        self.byteCount = parts.reduce(0) { $0 + $1.readableBytes }
    }

    /// The whole frame, size prefix included, copied into one buffer (tests, simple clients).
    public func contiguousBytes() -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 4 + byteCount)
        buffer.writeInteger(Int32(truncatingIfNeeded: byteCount), endianness: .big)
        for var part in parts { buffer.writeBuffer(&part) }
        return buffer
    }

    /// Encodes a response: response header (v0/v1 per ``ApiKey/responseHeaderVersion(for:)``) then the body.
    public static func response(
        apiKey: ApiKey, version: Int16, correlationId: Int32,
        zeroCopyThreshold: Int? = defaultZeroCopyThreshold,
        body: (inout MessageWriter) -> Void
    ) -> OutboundFrame {
        var writer = MessageWriter(initialCapacity: 512, zeroCopyThreshold: zeroCopyThreshold)
        ResponseHeader(correlationId: correlationId)
            .write(to: &writer, version: apiKey.responseHeaderVersion(for: version))
        body(&writer)
        return OutboundFrame(parts: writer.finish())
    }

    /// Encodes a request: request header (v0/v1/v2 per ``ApiKey/requestHeaderVersion(for:)``) then the body.
    public static func request(
        apiKey: ApiKey, version: Int16, correlationId: Int32, clientId: String?,
        body: (inout MessageWriter) -> Void
    ) -> OutboundFrame {
        var writer = MessageWriter(initialCapacity: 512, zeroCopyThreshold: defaultZeroCopyThreshold)
        RequestHeader(apiKey: apiKey, apiVersion: version, correlationId: correlationId, clientId: clientId)
            .write(to: &writer, version: apiKey.requestHeaderVersion(for: version))
        body(&writer)
        return OutboundFrame(parts: writer.finish())
    }
}

extension KafkaResponseMessage {
    /// This response framed for `version`, echoing `correlationId`, with the right response header.
    public func frame(
        version: Int16, correlationId: Int32, zeroCopyThreshold: Int? = OutboundFrame.defaultZeroCopyThreshold
    ) -> OutboundFrame {
        OutboundFrame.response(
            apiKey: Self.apiKey, version: version, correlationId: correlationId, zeroCopyThreshold: zeroCopyThreshold
        ) { writer in
            self.write(to: &writer, version: version)
        }
    }
}

extension KafkaResponse {
    /// This response framed for `version`, echoing `correlationId`, with the right response header.
    public func frame(
        version: Int16, correlationId: Int32, zeroCopyThreshold: Int? = OutboundFrame.defaultZeroCopyThreshold
    ) -> OutboundFrame {
        OutboundFrame.response(
            apiKey: apiKey, version: version, correlationId: correlationId, zeroCopyThreshold: zeroCopyThreshold
        ) { writer in
            self.write(to: &writer, version: version)
        }
    }
}

extension KafkaRequestMessage {
    /// This request framed for `version` with a request header carrying `correlationId` and `clientId`.
    public func frame(version: Int16, correlationId: Int32, clientId: String?) -> OutboundFrame {
        OutboundFrame.request(apiKey: Self.apiKey, version: version, correlationId: correlationId, clientId: clientId) {
            writer in
            self.write(to: &writer, version: version)
        }
    }
}
