/// Why bytes could not be read as (or made into) Kafka record batches. Every case carries enough context
/// to say what was wrong and where.
public enum RecordsError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Fewer bytes were available than the structure needs.
    case truncated(needed: Int, available: Int)
    /// The magic byte (offset 16) is not 2; Runnel stores only record batch v2.
    case unsupportedMagic(Int8)
    /// `batchLength` is below the v2 minimum (49) or above a limit.
    case invalidBatchLength(Int32)
    /// The stored CRC-32C does not match the bytes it covers.
    case crcMismatch(expected: UInt32, actual: UInt32)
    /// The attributes name a compression codec id that does not exist (5, 6 or 7).
    case unknownCompression(Int)
    /// A varint ran past 5 (varint) or 10 (varlong) bytes, or past the end of its input.
    case malformedVarint
    /// A record or header is inconsistent (negative length, length disagreeing with the bytes consumed, ...).
    case invalidRecord(String)
    /// The batch header's counts disagree with its records (recordsCount vs records found, lastOffsetDelta).
    case countMismatch(declared: Int, found: Int)
    /// Decompressing a batch would exceed the configured maximum number of bytes.
    case decompressedTooLarge(limit: Int)
    /// The compression library reported an error.
    case compressionFailed(codec: String, reason: String)
    /// A record timestamp is outside the accepted window, or a client batch claims LOG_APPEND_TIME
    /// (Kafka INVALID_TIMESTAMP). `recordIndex` is the record's position in the batch, nil for the batch itself.
    case invalidTimestamp(recordIndex: Int?, reason: String)

    public var description: String {
        switch self {
        case let .truncated(needed, available): "truncated: needed \(needed) bytes, \(available) available"
        case let .unsupportedMagic(m): "unsupported magic \(m) (only record batch v2, magic 2, is supported)"
        case let .invalidBatchLength(l): "invalid batch length \(l)"
        case let .crcMismatch(expected, actual):
            "CRC-32C mismatch: stored 0x\(String(expected, radix: 16)), computed 0x\(String(actual, radix: 16))"
        case let .unknownCompression(c): "unknown compression codec id \(c)"
        case .malformedVarint: "malformed varint"
        case let .invalidRecord(why): "invalid record: \(why)"
        case let .countMismatch(declared, found): "record count mismatch: header says \(declared), found \(found)"
        case let .decompressedTooLarge(limit): "batch inflates past the \(limit)-byte limit"
        case let .compressionFailed(codec, reason): "\(codec) failed: \(reason)"
        case let .invalidTimestamp(index?, reason): "invalid timestamp of record \(index): \(reason)"
        case let .invalidTimestamp(nil, reason): "invalid timestamp: \(reason)"
        }
    }
}
