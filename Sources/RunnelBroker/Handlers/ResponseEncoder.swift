import RunnelProtocol

/// Encodes a response: header (v0, or v1 with tagged fields when flexible; ApiVersions always v0) + body.
enum ResponseEncoder {
    static func encode<Response: KafkaResponseMessage>(_ response: Response, header: RequestHeaderInfo) -> [ResponsePart] {
        var writer = MessageWriter(initialCapacity: 128)
        writer.writeInt32(header.correlationId)
        if Response.isFlexible(version: header.apiVersion), Response.apiKey != .apiVersions {
            writer.writeTaggedFields([])
        }
        response.write(to: &writer, version: header.apiVersion)
        return writer.finish().map { .bytes($0) }
    }
}
