public import NIOCore

// Unsafe-pointer invariants of this file:
// - Writes go through `writeWithUnsafeMutableBytes(minimumWritableBytes:)` asking for the maximum encoded size
//   (5 or 10 bytes), and store at most that many bytes at indices 0..<n of the provided buffer.
// - Reads go through `withUnsafeReadableBytes`, and every index is checked against `raw.count` before it is read,
//   so a varint running past the readable bytes is reported (`malformedVarint`), never read out of bounds.

/// Sizes of Kafka varints (KAFKA-FORMATS §1.2), for precomputing record lengths.
public enum Varint {
    /// Bytes of the unsigned varint encoding of `value` (1…5).
    @inlinable
    public static func size(ofUnsigned value: UInt32) -> Int {
        size(ofUnsigned64: UInt64(value))
    }

    /// Bytes of the unsigned varint encoding of `value` (1…10).
    @inlinable
    public static func size(ofUnsigned64 value: UInt64) -> Int {
        // 7 payload bits per byte; `| 1` makes zero take one byte.
        let bits = 64 - (value | 1).leadingZeroBitCount
        return (bits + 6) / 7
    }

    /// Bytes of the zigzag varint encoding of `value` (1…5).
    @inlinable
    public static func size(of value: Int32) -> Int { size(ofUnsigned: ZigZag.encode(value)) }

    /// Bytes of the zigzag varlong encoding of `value` (1…10).
    @inlinable
    public static func size(of value: Int64) -> Int { size(ofUnsigned64: ZigZag.encode(value)) }

    /// At most 5 bytes encode a 32-bit value.
    public static let maxVarintBytes = 5
    /// At most 10 bytes encode a 64-bit value.
    public static let maxVarlongBytes = 10
}

extension ByteBuffer {
    // MARK: - Writing

    /// Writes `value` as an unsigned varint (base 128, low group first). Returns the bytes written (1…5).
    @discardableResult
    @inlinable
    public mutating func writeUnsignedVarint(_ value: UInt32) -> Int {
        writeUnsignedVarlong(UInt64(value))
    }

    /// Writes `value` as an unsigned 64-bit varint. Returns the bytes written (1…10).
    @discardableResult
    @inlinable
    public mutating func writeUnsignedVarlong(_ value: UInt64) -> Int {
        writeWithUnsafeMutableBytes(minimumWritableBytes: Varint.maxVarlongBytes) { raw in
            var v = value
            var i = 0
            while v >= 0x80 {
                raw[i] = UInt8(truncatingIfNeeded: v) | 0x80
                v >>= 7
                i += 1
            }
            raw[i] = UInt8(truncatingIfNeeded: v)
            return i + 1
        }
    }

    /// Writes `value` zigzag-encoded as a varint (Kafka `varint`). Returns the bytes written (1…5).
    @discardableResult
    @inlinable
    public mutating func writeVarint(_ value: Int32) -> Int {
        writeUnsignedVarlong(UInt64(ZigZag.encode(value)))
    }

    /// Writes `value` zigzag-encoded as a varlong (Kafka `varlong`). Returns the bytes written (1…10).
    @discardableResult
    @inlinable
    public mutating func writeVarlong(_ value: Int64) -> Int {
        writeUnsignedVarlong(ZigZag.encode(value))
    }

    // MARK: - Reading

    /// Reads an unsigned varint of at most 5 bytes and advances the reader index past it.
    /// As in Kafka's `ByteUtils.readUnsignedVarint`, bits above 32 in the fifth byte are dropped.
    /// - Throws: `RecordsError.malformedVarint` if the fifth byte has its continuation bit set or the
    ///   readable bytes end inside the varint (the reader index is then unchanged).
    @inlinable
    public mutating func readUnsignedVarint() throws(RecordsError) -> UInt32 {
        let value = try readVarintBits(maxBytes: Varint.maxVarintBytes)
        return UInt32(truncatingIfNeeded: value)
    }

    /// Reads an unsigned varint of at most 10 bytes and advances the reader index past it.
    /// - Throws: `RecordsError.malformedVarint` (too long or truncated; the reader index is then unchanged).
    @inlinable
    public mutating func readUnsignedVarlong() throws(RecordsError) -> UInt64 {
        try readVarintBits(maxBytes: Varint.maxVarlongBytes)
    }

    /// Reads a zigzag varint (Kafka `varint`, at most 5 bytes).
    /// - Throws: `RecordsError.malformedVarint`.
    @inlinable
    public mutating func readVarint() throws(RecordsError) -> Int32 {
        ZigZag.decode(try readUnsignedVarint())
    }

    /// Reads a zigzag varlong (Kafka `varlong`, at most 10 bytes).
    /// - Throws: `RecordsError.malformedVarint`.
    @inlinable
    public mutating func readVarlong() throws(RecordsError) -> Int64 {
        ZigZag.decode(try readUnsignedVarlong())
    }

    @usableFromInline
    mutating func readVarintBits(maxBytes: Int) throws(RecordsError) -> UInt64 {
        // (value, bytes consumed); consumed == 0 means malformed.
        let (value, consumed): (UInt64, Int) = withUnsafeReadableBytes { raw in
            var result: UInt64 = 0
            var shift: UInt64 = 0
            var i = 0
            while i < maxBytes && i < raw.count {
                let byte = raw[i]
                result |= UInt64(byte & 0x7F) &<< shift
                i += 1
                if byte & 0x80 == 0 { return (result, i) }
                shift += 7
            }
            return (0, 0)
        }
        guard consumed > 0 else { throw .malformedVarint }
        moveReaderIndex(forwardBy: consumed)
        return value
    }
}
