public import NIOCore

/// A Kafka protocol message body (request, response, or versioned data such as `ConsumerProtocolAssignment`)
/// that reads and writes itself at any of its `validVersions`.
///
/// Conformers are generated from Kafka's JSON schemas (tools/MessageGen). Decoding is bounds-checked and never
/// traps; encoding assumes the value is valid for `version` (see ``MessageWriter`` for how violations are treated).
public protocol KafkaMessage: Sendable, Equatable {
    /// The versions this schema defines (`validVersions` in the JSON).
    static var validVersions: ClosedRange<Int16> { get }
    /// The first flexible version (compact encodings and tagged fields), or `nil` if none is flexible.
    static var flexibleVersionsStart: Int16? { get }
    /// Decodes the message body at `version` from `reader`, leaving any trailing bytes unread.
    init(from reader: inout MessageReader, version: Int16) throws(ProtocolError)
    /// Encodes the message body at `version`.
    func write(to writer: inout MessageWriter, version: Int16)
}

/// A request body with its API key and the matching response type.
public protocol KafkaRequestMessage: KafkaMessage {
    associatedtype Response: KafkaResponseMessage
    /// The API key of this request.
    static var apiKey: ApiKey { get }
}

/// A response body with its API key.
public protocol KafkaResponseMessage: KafkaMessage {
    /// The API key of this response.
    static var apiKey: ApiKey { get }
}

extension KafkaMessage {
    /// Decodes a body from the readable bytes of `buffer` (slices of `buffer` may be kept, e.g. records).
    public init(from buffer: ByteBuffer, version: Int16) throws(ProtocolError) {
        var reader = MessageReader(buffer)
        try self.init(from: &reader, version: version)
    }

    /// Appends the body at `version` to `buffer` (always copying records; see ``MessageWriter`` for zero-copy).
    public func write(to buffer: inout ByteBuffer, version: Int16) {
        var writer = MessageWriter(buffer: buffer)
        buffer = ByteBuffer()  // Drop our reference so the writer owns the storage uniquely (no CoW copy).
        write(to: &writer, version: version)
        buffer = writer.buffer
    }

    /// The body encoded at `version` as one buffer.
    public func encoded(version: Int16) -> ByteBuffer {
        var writer = MessageWriter()
        write(to: &writer, version: version)
        return writer.buffer
    }

    /// Whether `version` is flexible for this message.
    public static func isFlexible(version: Int16) -> Bool {
        guard let start = flexibleVersionsStart else { return false }
        return version >= start
    }
}
