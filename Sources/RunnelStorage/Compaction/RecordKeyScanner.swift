import NIOCore
import RunnelRecords

/// What the cleaner needs of one record without decoding it into a `Record`: its offset delta, the MD5 of its key,
/// whether it has a key and a value, and where its bytes are in the (uncompressed) records payload.
struct RecordSummary: Sendable {
    /// Record offset − batch baseOffset.
    var offsetDelta: Int32
    /// MD5 of the key bytes (meaningless when `hasKey` is false).
    var keyDigest: MD5Digest
    var hasKey: Bool
    /// False for a tombstone (null value).
    var hasValue: Bool
    /// Start of the record (its length varint) relative to the payload's reader index, in bytes.
    var start: Int
    /// Bytes of the whole record, length varint included.
    var length: Int
}

/// The cleaner's fast record walk (KAFKA-FORMATS §2.4): reads only the length, attributes, timestampDelta,
/// offsetDelta and key of each record and hashes the key in place, so building the offset map and deciding which
/// records survive costs no allocation per record.
///
/// Unsafe code: the walk reads the payload through `withUnsafeReadableBytes`. Invariants: every load is preceded by
/// a check `position < end` (varints) or `position + length <= end` (key bytes), where `end` is the record's end,
/// itself checked to be ≤ the payload's readable count; nothing is written; no pointer escapes the closure.
enum RecordKeyScanner {
    /// Appends a summary of each of the `count` records in `payload` to `summaries` (which it first empties).
    /// - Throws: `RecordsError.invalidRecord`/`.malformedVarint` for malformed framing, `.countMismatch` when the
    ///   bytes end before `count` records, `.invalidRecord` when bytes trail the last record.
    static func scan(_ payload: ByteBuffer, count: Int, into summaries: inout [RecordSummary]) throws(RecordsError) {
        summaries.removeAll(keepingCapacity: true)
        let result: RecordsError? = payload.withUnsafeReadableBytes { raw -> RecordsError? in
            var position = 0
            for index in 0..<count {
                guard position < raw.count else { return .countMismatch(declared: count, found: index) }
                let start = position
                guard let length = readVarint(raw, &position, end: raw.count), length >= 0,
                    Int(length) <= raw.count - position
                else { return .invalidRecord("record \(index): bad length at byte \(start)") }
                let end = position + Int(length)
                guard position < end else { return .invalidRecord("record \(index): empty body") }
                position += 1  // attributes
                guard readVarint(raw, &position, end: end) != nil,  // timestampDelta
                    let offsetDelta = readVarint(raw, &position, end: end),
                    let offsetDelta32 = Int32(exactly: offsetDelta),
                    let keyLength = readVarint(raw, &position, end: end), keyLength >= -1
                else { return .invalidRecord("record \(index): malformed header fields") }
                var digest = MD5Digest(high: 0, low: 0)
                if keyLength >= 0 {
                    guard Int(keyLength) <= end - position else {
                        return .invalidRecord("record \(index): key length \(keyLength) exceeds the record")
                    }
                    digest = MD5.digest(UnsafeRawBufferPointer(rebasing: raw[position..<(position + Int(keyLength))]))
                    position += Int(keyLength)
                }
                guard let valueLength = readVarint(raw, &position, end: end), valueLength >= -1,
                    valueLength < 0 || Int(valueLength) <= end - position
                else { return .invalidRecord("record \(index): bad value length") }
                summaries.append(
                    RecordSummary(
                        offsetDelta: offsetDelta32, keyDigest: digest, hasKey: keyLength >= 0,
                        hasValue: valueLength >= 0, start: start, length: end - start))
                position = end
            }
            if position != raw.count {
                return .invalidRecord("\(raw.count - position) bytes follow the last of \(count) records")
            }
            return nil
        }
        if let result { throw result }
    }

    /// A zig-zag varint/varlong (≤ 10 bytes) at `position`, not reading at or past `end`; nil when malformed.
    @inline(__always)
    private static func readVarint(_ raw: UnsafeRawBufferPointer, _ position: inout Int, end: Int) -> Int64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while position < end && shift < 70 {
            let byte = raw[position]
            position += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1))) }
            shift += 7
        }
        return nil
    }
}
