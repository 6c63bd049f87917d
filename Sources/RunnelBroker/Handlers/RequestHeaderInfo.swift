import RunnelProtocol

/// The request header fields a handler needs (request header v1/v2, KAFKA-FORMATS §1.7).
struct RequestHeaderInfo: Sendable {
    var apiKey: ApiKey
    var apiVersion: Int16
    var correlationId: Int32
    /// Null client ids read as "".
    var clientId: String

    /// Parses a request header v1 (non-flexible) or v2 (flexible: + tagged fields) from `reader`.
    init(apiKey: ApiKey, reader: inout MessageReader, flexible: Bool) throws(ProtocolError) {
        self.apiKey = apiKey
        _ = try reader.readInt16()
        apiVersion = try reader.readInt16()
        correlationId = try reader.readInt32()
        // client_id keeps its int16 length even in header v2.
        clientId = try reader.readNullableString(compact: false) ?? ""
        if flexible { _ = try reader.readUnknownTaggedFields() }
    }
}
