public import NIOCore

/// One decoded request: its header and its typed body.
///
/// Typical broker flow (KAFKA-FORMATS.md §1.6–1.9), for a frame body produced by ``KafkaFrameDecoder``:
/// ```swift
/// var reader = MessageReader(frame)
/// let header = try RequestHeader.parse(from: &reader)
/// guard let apiKey = header.apiKey else { /* close the connection */ }
/// // ApiVersions with a too-high version: answer v0 + UNSUPPORTED_VERSION without decoding the body.
/// let request = try KafkaRequest.decode(apiKey: apiKey, version: header.requestApiVersion, from: &reader)
/// ```
/// ``decode(frame:)`` does all of this in one call.
public struct KafkaRequestFrame: Sendable, Equatable {
    /// The request header (v0, v1 or v2 as the API and version require).
    public var header: RequestHeader
    /// The typed request body.
    public var request: KafkaRequest

    public init(header: RequestHeader, request: KafkaRequest) {
        self.header = header
        self.request = request
    }

    /// The API of this request.
    public var apiKey: ApiKey { request.apiKey }
    /// The API version of this request.
    public var apiVersion: Int16 { header.requestApiVersion }
    /// The correlation id to echo in the response.
    public var correlationId: Int32 { header.correlationId }

    /// Decodes a frame body (the bytes after the int32 size prefix). Record batches inside stay slices of `frame`.
    ///
    /// - Throws: `.unknownApiKey`, `.unsupportedVersion` (outside the schema's versions), or a decoding error.
    public static func decode(frame: ByteBuffer) throws(ProtocolError) -> KafkaRequestFrame {
        var reader = MessageReader(frame)
        let header = try RequestHeader.parse(from: &reader)
        guard let apiKey = header.apiKey else { throw .unknownApiKey(header.requestApiKey) }
        let request = try KafkaRequest.decode(apiKey: apiKey, version: header.requestApiVersion, from: &reader)
        return KafkaRequestFrame(header: header, request: request)
    }
}
