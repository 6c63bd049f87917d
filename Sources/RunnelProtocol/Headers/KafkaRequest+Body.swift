public import NIOCore

extension KafkaRequest {
    /// Decodes a request body (the bytes after the request header) of `apiKey` at `version`.
    /// Record batches inside stay zero-copy slices of `body`.
    public static func decode(apiKey: ApiKey, version: Int16, body: ByteBuffer) throws(ProtocolError) -> KafkaRequest {
        var reader = MessageReader(body)
        return try decode(apiKey: apiKey, version: version, from: &reader)
    }
}

extension KafkaResponse {
    /// Decodes a response body (the bytes after the response header) of `apiKey` at `version`.
    public static func decode(apiKey: ApiKey, version: Int16, body: ByteBuffer) throws(ProtocolError) -> KafkaResponse {
        var reader = MessageReader(body)
        return try decode(apiKey: apiKey, version: version, from: &reader)
    }
}
