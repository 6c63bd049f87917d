public import NIOCore

extension KafkaMessage {
    /// Decodes `int16 version` followed by the body at that version, as Kafka stores versioned data
    /// (`ConsumerProtocolSubscription`/`Assignment` bytes, `__consumer_offsets` keys and values).
    ///
    /// A version above ``KafkaMessage/validVersions`` is decoded as the highest known version (Kafka's
    /// `ConsumerProtocol` does the same for forward compatibility: newer fields come after older ones); a version
    /// below it throws `.unsupportedVersion(apiKey: -1, version:)`.
    public static func decodeVersionPrefixed(from buffer: ByteBuffer) throws(ProtocolError)
        -> (version: Int16, value: Self)
    {
        var reader = MessageReader(buffer)
        let version = try reader.readInt16()
        guard version >= validVersions.lowerBound else { throw .unsupportedVersion(apiKey: -1, version: version) }
        let effective = Swift.min(version, validVersions.upperBound)
        return (version, try Self(from: &reader, version: effective))
    }

    /// Encodes `int16 version` followed by the body at `version`.
    public func encodedWithVersionPrefix(version: Int16) -> ByteBuffer {
        var writer = MessageWriter()
        writer.writeInt16(version)
        write(to: &writer, version: version)
        return writer.buffer
    }
}
