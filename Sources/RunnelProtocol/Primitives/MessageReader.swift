public import NIOCore

/// A bounds-checked cursor over one Kafka message body (or header), reading Kafka's wire primitives.
///
/// Every read either returns a value and advances, or throws ``ProtocolError`` and leaves the reader in an
/// unspecified position; it never traps on malformed input. Length and count prefixes are checked against the
/// remaining bytes *before* anything is allocated, so a hostile length cannot make us reserve memory.
/// Byte fields (`bytes`, `records`, unknown tags) are returned as slices sharing the input's storage (no copy).
///
/// Layouts follow KAFKA-FORMATS.md §1.1–1.4: fixed-width integers are big-endian; "compact" lengths are an
/// unsigned varint of `N + 1` with `0` meaning null.
public struct MessageReader: Sendable {
    /// The unread bytes; `readerIndex` advances as values are read.
    public var buffer: ByteBuffer

    /// Wraps `buffer`, reading from its reader index.
    public init(_ buffer: ByteBuffer) {
        self.buffer = buffer
    }

    /// Bytes not yet read.
    public var remainingBytes: Int { buffer.readableBytes }

    // MARK: - Fixed width

    mutating func readFixed<T: FixedWidthInteger>(_: T.Type) throws(ProtocolError) -> T {
        guard let value = buffer.readInteger(endianness: .big, as: T.self) else {
            throw .truncated(needed: MemoryLayout<T>.size, available: buffer.readableBytes)
        }
        return value
    }

    /// Reads an `int8`.
    public mutating func readInt8() throws(ProtocolError) -> Int8 { try readFixed(Int8.self) }
    /// Reads a big-endian `int16`.
    public mutating func readInt16() throws(ProtocolError) -> Int16 { try readFixed(Int16.self) }
    /// Reads a big-endian `int32`.
    public mutating func readInt32() throws(ProtocolError) -> Int32 { try readFixed(Int32.self) }
    /// Reads a big-endian `int64`.
    public mutating func readInt64() throws(ProtocolError) -> Int64 { try readFixed(Int64.self) }
    /// Reads a big-endian `uint16`.
    public mutating func readUInt16() throws(ProtocolError) -> UInt16 { try readFixed(UInt16.self) }
    /// Reads a big-endian `uint32`.
    public mutating func readUInt32() throws(ProtocolError) -> UInt32 { try readFixed(UInt32.self) }

    /// Reads a `float64` (IEEE-754, big-endian).
    public mutating func readFloat64() throws(ProtocolError) -> Double {
        Double(bitPattern: try readFixed(UInt64.self))
    }

    /// Reads a `bool`: any non-zero byte is true (Kafka's reader does the same).
    public mutating func readBool() throws(ProtocolError) -> Bool {
        try readFixed(UInt8.self) != 0
    }

    /// Reads a 16-byte `uuid`.
    public mutating func readUUID() throws(ProtocolError) -> KafkaUUID {
        let high = try readFixed(UInt64.self)
        let low = try readFixed(UInt64.self)
        return KafkaUUID(mostSignificantBits: high, leastSignificantBits: low)
    }

    // MARK: - Varints

    /// Reads an unsigned varint of at most 5 bytes (a 32-bit value), as Kafka's `readUnsignedVarint`.
    public mutating func readUnsignedVarint() throws(ProtocolError) -> UInt32 {
        var result: UInt32 = 0
        var shift: UInt32 = 0
        for index in 0..<5 {
            guard let byte = buffer.readInteger(as: UInt8.self) else {
                throw .truncated(needed: 1, available: 0)
            }
            if index == 4 && byte > 0x0F { throw .invalidVarint }
            result |= UInt32(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        throw .invalidVarint
    }

    // MARK: - Lengths

    /// Reads a length prefix (int16, int32 or compact) and returns `nil` for null, else a length that is
    /// guaranteed to be `<= remainingBytes`.
    mutating func readLength(compact: Bool, wide: Bool) throws(ProtocolError) -> Int? {
        let length: Int
        if compact {
            let raw = try readUnsignedVarint()
            if raw == 0 { return nil }
            length = Int(raw) - 1
        } else if wide {
            length = Int(try readInt32())
        } else {
            length = Int(try readInt16())
        }
        if length < 0 {
            if length == -1 { return nil }
            throw .negativeLength(length)
        }
        guard length <= buffer.readableBytes else {
            throw .lengthExceedsRemaining(length: length, remaining: buffer.readableBytes)
        }
        return length
    }

    // MARK: - Strings

    /// Reads a `nullable_string` (int16 length) or `compact_nullable_string` (varint N+1).
    ///
    /// - Parameter nullable: whether null is legal at this version; if not, a null throws `.unexpectedNull`.
    public mutating func readNullableString(compact: Bool, nullable: Bool = true) throws(ProtocolError) -> String? {
        guard let length = try readLength(compact: compact, wide: false) else {
            if nullable { return nil }
            throw .unexpectedNull
        }
        guard length <= Int(Int16.max) else { throw .stringTooLong(length: length) }
        // `length <= readableBytes` was checked by `readLength`, so this cannot fail.
        guard let string = buffer.readString(length: length) else {
            throw .truncated(needed: length, available: buffer.readableBytes)
        }
        return string
    }

    /// Reads a non-null `string` / `compact_string`. Invalid UTF-8 is repaired with U+FFFD as Java does.
    public mutating func readString(compact: Bool) throws(ProtocolError) -> String {
        guard let string = try readNullableString(compact: compact, nullable: false) else { throw .unexpectedNull }
        return string
    }

    // MARK: - Bytes and records

    /// Reads `nullable_bytes` (int32 length) or `compact_nullable_bytes` as a zero-copy slice.
    public mutating func readNullableBytes(compact: Bool, nullable: Bool = true) throws(ProtocolError) -> ByteBuffer? {
        guard let length = try readLength(compact: compact, wide: true) else {
            if nullable { return nil }
            throw .unexpectedNull
        }
        guard let slice = buffer.readSlice(length: length) else {
            throw .truncated(needed: length, available: buffer.readableBytes)
        }
        return slice
    }

    /// Reads non-null `bytes` / `compact_bytes` as a zero-copy slice.
    public mutating func readBytes(compact: Bool) throws(ProtocolError) -> ByteBuffer {
        guard let bytes = try readNullableBytes(compact: compact, nullable: false) else { throw .unexpectedNull }
        return bytes
    }

    /// Reads a `records` field (record batches, opaque here) as a zero-copy slice of the request.
    public mutating func readRecords(compact: Bool, nullable: Bool = true) throws(ProtocolError) -> ByteBuffer? {
        try readNullableBytes(compact: compact, nullable: nullable)
    }

    // MARK: - Arrays

    /// Reads an array count (int32 or compact) and returns `nil` for null. A count is rejected unless
    /// `count * minimumElementBytes <= remainingBytes` (Kafka: count must not exceed the remaining bytes).
    mutating func readArrayCount(compact: Bool, minimumElementBytes: Int) throws(ProtocolError) -> Int? {
        let count: Int
        if compact {
            let raw = try readUnsignedVarint()
            if raw == 0 { return nil }
            count = Int(raw) - 1
        } else {
            count = Int(try readInt32())
            if count == -1 { return nil }
        }
        if count < 0 { throw .negativeLength(count) }
        let needed = count.multipliedReportingOverflow(by: max(minimumElementBytes, 1))
        guard !needed.overflow, needed.partialValue <= buffer.readableBytes else {
            throw .lengthExceedsRemaining(length: count, remaining: buffer.readableBytes)
        }
        return count
    }

    /// Reads a nullable array whose elements decode themselves at `version`.
    mutating func readNullableArray<Element: WireElement>(
        of _: Element.Type, compact: Bool, version: Int16, nullable: Bool = true
    ) throws(ProtocolError) -> [Element]? {
        guard let count = try readArrayCount(compact: compact, minimumElementBytes: Element.minimumWireBytes)
        else {
            if nullable { return nil }
            throw .unexpectedNull
        }
        var elements: [Element] = []
        // Bounded: `count` fits the remaining bytes, and the cap keeps fat in-memory elements cheap.
        elements.reserveCapacity(Swift.min(count, 4096))
        for _ in 0..<count {
            elements.append(try Element(wireFrom: &self, version: version, compact: compact))
        }
        return elements
    }

    /// Reads a non-null array whose elements decode themselves at `version`.
    mutating func readArray<Element: WireElement>(
        of type: Element.Type, compact: Bool, version: Int16
    ) throws(ProtocolError) -> [Element] {
        guard let elements = try readNullableArray(of: type, compact: compact, version: version, nullable: false)
        else { throw .unexpectedNull }
        return elements
    }

    // MARK: - Tagged fields

    /// Reads one tagged-field header (tag, size) and returns the tag with a sub-reader over exactly `size` bytes.
    ///
    /// - Parameter previous: the previous tag read in this section, or `nil` for the first one.
    /// - Throws: `.taggedFieldsOutOfOrder` unless tags strictly increase; length errors as usual.
    public mutating func readTaggedField(after previous: UInt32?) throws(ProtocolError) -> (UInt32, MessageReader) {
        let tag = try readUnsignedVarint()
        if let previous, tag <= previous { throw .taggedFieldsOutOfOrder(previous: previous, tag: tag) }
        let size = Int(try readUnsignedVarint())
        guard size <= buffer.readableBytes else {
            throw .lengthExceedsRemaining(length: size, remaining: buffer.readableBytes)
        }
        guard let slice = buffer.readSlice(length: size) else {
            throw .truncated(needed: size, available: buffer.readableBytes)
        }
        return (tag, MessageReader(slice))
    }

    /// Reads a whole tagged-field section when the struct knows no tags at this version: every field is kept raw.
    public mutating func readUnknownTaggedFields() throws(ProtocolError) -> [RawTaggedField] {
        let count = try readUnsignedVarint()
        if count == 0 { return [] }
        // Each field takes at least 2 bytes (tag + size).
        guard Int(count) <= buffer.readableBytes / 2 else {
            throw .lengthExceedsRemaining(length: Int(count), remaining: buffer.readableBytes)
        }
        var fields: [RawTaggedField] = []
        fields.reserveCapacity(Int(count))
        var previous: UInt32? = nil
        for _ in 0..<count {
            let (tag, sub) = try readTaggedField(after: previous)
            previous = tag
            fields.append(RawTaggedField(tag: tag, data: sub.buffer))
        }
        return fields
    }

    /// Reads the count of a tagged-field section, checked against the remaining bytes (2 bytes per field minimum).
    public mutating func readTaggedFieldCount() throws(ProtocolError) -> Int {
        let count = Int(try readUnsignedVarint())
        guard count <= buffer.readableBytes / 2 else {
            throw .lengthExceedsRemaining(length: count, remaining: buffer.readableBytes)
        }
        return count
    }
}
