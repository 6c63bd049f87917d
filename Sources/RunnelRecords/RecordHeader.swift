/// One record header (KAFKA-FORMATS §2.4): a non-null UTF-8 key and an optional byte value.
///
/// Wire layout: `headerKeyLength varint (>= 0)`, key bytes, `headerValueLength varint (-1 = null)`, value bytes.
public struct RecordHeader: Sendable, Hashable, CustomStringConvertible {
    /// The header key. Kafka never writes a null header key.
    public var key: String
    /// The header value; nil is encoded as length -1.
    public var value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    /// A header whose value is the UTF-8 bytes of `value`.
    public init(key: String, utf8Value value: String) {
        self.key = key
        self.value = Array(value.utf8)
    }

    /// Bytes this header takes inside a record.
    public var encodedSize: Int {
        let keyBytes = key.utf8.count
        let valueBytes = value?.count ?? -1
        return Varint.size(of: Int32(truncatingIfNeeded: keyBytes)) + keyBytes
            + Varint.size(of: Int32(truncatingIfNeeded: valueBytes)) + max(0, valueBytes)
    }

    public var description: String {
        "\(key)=\(value.map { String(decoding: $0, as: UTF8.self) } ?? "null")"
    }
}
