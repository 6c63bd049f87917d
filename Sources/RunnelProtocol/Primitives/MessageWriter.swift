public import NIOCore

/// Appends Kafka wire primitives to a `ByteBuffer`, optionally keeping large `records` payloads out of line.
///
/// Zero-copy mode: when `zeroCopyThreshold` is set, a `records` value of at least that many bytes is not copied
/// into ``buffer``; instead the bytes written so far are closed off as a part, the records slice itself becomes the
/// next part, and writing continues in a fresh buffer. ``finish()`` returns the parts in order; writing them back to
/// back (e.g. as separate channel writes, which NIO gathers with `writev`) yields exactly the message bytes.
/// This keeps a multi-megabyte Fetch response from being copied once more on its way to the socket.
///
/// Writing never fails: schema violations by the caller (a value too long for its length prefix) are programmer
/// errors reported with `assertionFailure` and replaced by an empty value in release builds.
public struct MessageWriter: Sendable {
    /// The part currently being written.
    public var buffer: ByteBuffer
    /// Completed parts before ``buffer`` (only non-empty in zero-copy mode).
    var completedParts: [ByteBuffer] = []
    /// Records payloads of at least this many bytes are kept as separate parts; `nil` copies everything.
    public let zeroCopyThreshold: Int?

    /// Writes into `buffer` (appending after its writer index).
    public init(buffer: ByteBuffer, zeroCopyThreshold: Int? = nil) {
        self.buffer = buffer
        self.zeroCopyThreshold = zeroCopyThreshold
    }

    /// Writes into a new buffer of `initialCapacity` bytes.
    public init(initialCapacity: Int = 256, zeroCopyThreshold: Int? = nil) {
        self.init(buffer: ByteBufferAllocator().buffer(capacity: initialCapacity), zeroCopyThreshold: zeroCopyThreshold)
    }

    /// Total bytes written so far across all parts (readable bytes of each).
    public var writtenBytes: Int {
        completedParts.reduce(buffer.readableBytes) { $0 + $1.readableBytes }
    }

    /// The written message as one or more buffers, in order. Empty parts are dropped.
    public consuming func finish() -> [ByteBuffer] {
        var parts = completedParts
        parts.append(buffer)
        return parts.filter { $0.readableBytes > 0 }
    }

    // MARK: - Fixed width

    /// Writes an `int8`.
    public mutating func writeInt8(_ value: Int8) { buffer.writeInteger(value, endianness: .big) }
    /// Writes a big-endian `int16`.
    public mutating func writeInt16(_ value: Int16) { buffer.writeInteger(value, endianness: .big) }
    /// Writes a big-endian `int32`.
    public mutating func writeInt32(_ value: Int32) { buffer.writeInteger(value, endianness: .big) }
    /// Writes a big-endian `int64`.
    public mutating func writeInt64(_ value: Int64) { buffer.writeInteger(value, endianness: .big) }
    /// Writes a big-endian `uint16`.
    public mutating func writeUInt16(_ value: UInt16) { buffer.writeInteger(value, endianness: .big) }
    /// Writes a big-endian `uint32`.
    public mutating func writeUInt32(_ value: UInt32) { buffer.writeInteger(value, endianness: .big) }
    /// Writes a `float64` (IEEE-754 bits, big-endian).
    public mutating func writeFloat64(_ value: Double) { buffer.writeInteger(value.bitPattern, endianness: .big) }
    /// Writes a `bool` as 0 or 1.
    public mutating func writeBool(_ value: Bool) { buffer.writeInteger(value ? UInt8(1) : UInt8(0)) }

    /// Writes a 16-byte `uuid`.
    public mutating func writeUUID(_ value: KafkaUUID) {
        buffer.writeInteger(value.mostSignificantBits, endianness: .big)
        buffer.writeInteger(value.leastSignificantBits, endianness: .big)
    }

    /// Writes an unsigned varint (1–5 bytes).
    public mutating func writeUnsignedVarint(_ value: UInt32) {
        var remaining = value
        while remaining >= 0x80 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        buffer.writeInteger(UInt8(truncatingIfNeeded: remaining))
    }

    /// Bytes an unsigned varint of `value` occupies.
    public static func unsignedVarintSize(_ value: UInt32) -> Int {
        switch value {
        case ..<(1 << 7): return 1
        case ..<(1 << 14): return 2
        case ..<(1 << 21): return 3
        case ..<(1 << 28): return 4
        default: return 5
        }
    }

    // MARK: - Lengths

    mutating func writeLength(_ length: Int?, compact: Bool, wide: Bool) {
        if compact {
            writeUnsignedVarint(length.map { UInt32(truncatingIfNeeded: $0 + 1) } ?? 0)
        } else if wide {
            writeInt32(length.map { Int32(truncatingIfNeeded: $0) } ?? -1)
        } else {
            writeInt16(length.map { Int16(truncatingIfNeeded: $0) } ?? -1)
        }
    }

    // MARK: - Strings

    /// Writes a `string` / `compact_string`. Strings over 32767 UTF-8 bytes are a programmer error.
    public mutating func writeString(_ value: String, compact: Bool) {
        var value = value
        let length = value.utf8.count
        if length > Int(Int16.max) {
            assertionFailure("Kafka strings are at most 32767 bytes; got \(length)")
            value = ""
        }
        writeLength(value.utf8.count, compact: compact, wide: false)
        buffer.writeString(value)
    }

    /// Writes a `nullable_string` / `compact_nullable_string`.
    ///
    /// - Parameter nullable: whether null is legal at this version; a `nil` where it is not is written as "".
    public mutating func writeNullableString(_ value: String?, compact: Bool, nullable: Bool = true) {
        guard let value else {
            if nullable { writeLength(nil, compact: compact, wide: false) } else { writeString("", compact: compact) }
            return
        }
        writeString(value, compact: compact)
    }

    // MARK: - Bytes and records

    /// Writes `bytes` / `compact_bytes` (the readable bytes of `value`).
    public mutating func writeBytes(_ value: ByteBuffer, compact: Bool) {
        writeLength(value.readableBytes, compact: compact, wide: true)
        var copy = value
        buffer.writeBuffer(&copy)
    }

    /// Writes `nullable_bytes` / `compact_nullable_bytes`; a `nil` where null is not legal is written as empty.
    public mutating func writeNullableBytes(_ value: ByteBuffer?, compact: Bool, nullable: Bool = true) {
        guard let value else {
            if nullable {
                writeLength(nil, compact: compact, wide: true)
            } else {
                writeLength(0, compact: compact, wide: true)
            }
            return
        }
        writeBytes(value, compact: compact)
    }

    /// Writes a `records` field. In zero-copy mode a large payload becomes its own part (see the type's docs).
    public mutating func writeRecords(_ value: ByteBuffer?, compact: Bool, nullable: Bool = true) {
        guard let value, let threshold = zeroCopyThreshold, value.readableBytes >= threshold else {
            writeNullableBytes(value, compact: compact, nullable: nullable)
            return
        }
        writeLength(value.readableBytes, compact: compact, wide: true)
        completedParts.append(buffer)
        completedParts.append(value)
        buffer = ByteBufferAllocator().buffer(capacity: 256)
    }

    // MARK: - Arrays and structs

    /// Writes an array count (int32, or compact N+1); `nil` writes the null marker.
    public mutating func writeArrayCount(_ count: Int?, compact: Bool) {
        writeLength(count, compact: compact, wide: true)
    }

    mutating func writeArray<Element: WireElement>(_ elements: [Element], compact: Bool, version: Int16) {
        writeArrayCount(elements.count, compact: compact)
        for element in elements {
            element.write(wireTo: &self, version: version, compact: compact)
        }
    }

    /// A `nil` where null is not legal is written as an empty array.
    mutating func writeNullableArray<Element: WireElement>(
        _ elements: [Element]?, compact: Bool, version: Int16, nullable: Bool = true
    ) {
        guard let elements else {
            writeArrayCount(nullable ? nil : 0, compact: compact)
            return
        }
        writeArray(elements, compact: compact, version: version)
    }

    // MARK: - Tagged fields

    /// Encodes one tagged field's value into a scratch writer so its size is known before it is emitted.
    static func taggedValue(_ body: (inout MessageWriter) -> Void) -> ByteBuffer {
        var scratch = MessageWriter(initialCapacity: 16)
        body(&scratch)
        return scratch.buffer
    }

    /// Writes a tagged-field section: `known` (ascending tags, already encoded) merged in tag order with
    /// `unknown` raw fields kept from decoding.
    public mutating func writeTaggedFields(known: [RawTaggedField], unknown: [RawTaggedField]) {
        writeUnsignedVarint(UInt32(truncatingIfNeeded: known.count + unknown.count))
        if unknown.isEmpty {
            for field in known { writeTaggedField(field) }
            return
        }
        if known.isEmpty {
            for field in unknown { writeTaggedField(field) }
            return
        }
        let merged = (known + unknown).sorted { $0.tag < $1.tag }
        for field in merged { writeTaggedField(field) }
    }

    /// Writes a tagged-field section holding only previously unknown fields (usually none: one `00` byte).
    public mutating func writeTaggedFields(_ unknown: [RawTaggedField]) {
        writeUnsignedVarint(UInt32(truncatingIfNeeded: unknown.count))
        for field in unknown { writeTaggedField(field) }
    }

    mutating func writeTaggedField(_ field: RawTaggedField) {
        writeUnsignedVarint(field.tag)
        writeUnsignedVarint(UInt32(truncatingIfNeeded: field.data.readableBytes))
        var data = field.data
        buffer.writeBuffer(&data)
    }
}
