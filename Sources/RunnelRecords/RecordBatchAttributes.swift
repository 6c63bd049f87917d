/// The `attributes` int16 of a record batch v2. Only the low byte is used.
///
/// | bits | mask | meaning |
/// |---|---|---|
/// | 0–2 | 0x07 | compression codec (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd) |
/// | 3 | 0x08 | timestamp type: 0 CREATE_TIME, 1 LOG_APPEND_TIME |
/// | 4 | 0x10 | transactional |
/// | 5 | 0x20 | control batch |
/// | 6 | 0x40 | baseTimestamp holds the compaction delete horizon |
public struct RecordBatchAttributes: Sendable, Hashable {
    public var rawValue: Int16

    public init(rawValue: Int16) { self.rawValue = rawValue }

    public init(
        compression: CompressionCodec = .none, logAppendTime: Bool = false, isTransactional: Bool = false,
        isControl: Bool = false, hasDeleteHorizon: Bool = false
    ) {
        var raw = Int16(compression.rawValue)
        if logAppendTime { raw |= 0x08 }
        if isTransactional { raw |= 0x10 }
        if isControl { raw |= 0x20 }
        if hasDeleteHorizon { raw |= 0x40 }
        self.rawValue = raw
    }

    /// The codec id in bits 0–2 (may name no known codec: see `compression`).
    public var compressionId: Int { Int(rawValue & 0x07) }
    /// The codec, or nil for the invalid ids 5–7.
    public var compression: CompressionCodec? { CompressionCodec(rawValue: compressionId) }
    public var isLogAppendTime: Bool { rawValue & 0x08 != 0 }
    public var isTransactional: Bool { rawValue & 0x10 != 0 }
    public var isControl: Bool { rawValue & 0x20 != 0 }
    public var hasDeleteHorizon: Bool { rawValue & 0x40 != 0 }
}
