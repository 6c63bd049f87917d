public import NIOCore

/// Decodes the records of one batch in order, checking each record's framing (`Record.init(decoding:)`), that
/// exactly `recordsCount` records are present, and that no bytes follow the last one.
///
/// `next()` returns nil only after all those checks passed; keys and values are slices of the payload.
public struct RecordIterator: Sendable {
    /// `recordsCount` from the header (>= 0).
    public let declaredCount: Int
    /// Records returned so far.
    public private(set) var index: Int = 0
    private var payload: ByteBuffer

    /// Iterates `declaredCount` records in `payload` (uncompressed records).
    public init(declaredCount: Int, payload: ByteBuffer) {
        self.declaredCount = max(0, declaredCount)
        self.payload = payload
    }

    /// `declaredCount`, capped by what the bytes could hold (a record takes at least 7 bytes): safe to reserve.
    public var plausibleCount: Int { min(declaredCount, payload.readableBytes / 7) }

    /// The next record, or nil after the last one.
    /// - Throws: `.countMismatch` (bytes end before `recordsCount` records), `.invalidRecord` (bytes trail the last
    ///   record, or a malformed record), `.malformedVarint`.
    public mutating func next() throws(RecordsError) -> Record? {
        guard index < declaredCount else {
            guard payload.readableBytes == 0 else {
                throw .invalidRecord("\(payload.readableBytes) bytes follow the last of \(declaredCount) records")
            }
            return nil
        }
        guard payload.readableBytes > 0 else { throw .countMismatch(declared: declaredCount, found: index) }
        let record = try Record(decoding: &payload)
        index += 1
        return record
    }
}
