extension RequestHeader {
    /// Parses the request header at the front of a request frame body, choosing header v0/v1/v2 from the API
    /// key and version (Kafka peeks the first four bytes the same way).
    ///
    /// An API key this module does not know is parsed as header v1 (so the correlation id is still available);
    /// check ``apiKey`` for `nil` and close the connection as Kafka does.
    ///
    /// - Throws: ``ProtocolError`` if the header is truncated or malformed.
    public static func parse(from reader: inout MessageReader) throws(ProtocolError) -> RequestHeader {
        let start = reader.buffer.readerIndex
        guard let key = reader.buffer.getInteger(at: start, endianness: .big, as: Int16.self),
            let version = reader.buffer.getInteger(at: start + 2, endianness: .big, as: Int16.self)
        else {
            throw .truncated(needed: 4, available: reader.remainingBytes)
        }
        let headerVersion = ApiKey(rawValue: key)?.requestHeaderVersion(for: version) ?? 1
        return try RequestHeader(from: &reader, version: headerVersion)
    }

    /// The API this request is for, or `nil` if the key is unknown.
    public var apiKey: ApiKey? { ApiKey(rawValue: requestApiKey) }

    /// A header for `apiKey` at `apiVersion`.
    public init(apiKey: ApiKey, apiVersion: Int16, correlationId: Int32, clientId: String?) {
        self.init(
            requestApiKey: apiKey.rawValue, requestApiVersion: apiVersion, correlationId: correlationId,
            clientId: clientId)
    }
}
