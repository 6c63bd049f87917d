/// The produce-time checks Kafka applies to a client batch beyond its header and CRC (KAFKA-FORMATS §2.9
/// steps 5–7): counts, control/producer fields, timestamp type, and the per-record rules.
///
/// Header-only checks always run. Records are decoded (and decompressed) only when a per-record rule asks for it:
/// `requireKeys`, `timestampBounds` or `verifyRecords`. The CRC is not checked here: pass a batch from
/// `RecordBatch(validating:)` or a CRC-verifying `RecordBatchIterator`.
public enum RecordBatchValidator {
    /// Which per-record rules apply.
    public struct Options: Sendable, Hashable {
        /// Reject records with a null key (topics with `cleanup.policy` including compact).
        public var requireKeys: Bool
        /// For CREATE_TIME topics: accepted record timestamps in ms,
        /// `now - message.timestamp.before.max.ms ... now + message.timestamp.after.max.ms`. Records with
        /// timestamp -1 (none) are accepted. nil skips the check.
        public var timestampBounds: ClosedRange<Int64>?
        /// Decode every record even when no rule above needs it: framing, exact count, no trailing bytes,
        /// offset deltas 0, 1, 2, ….
        public var verifyRecords: Bool
        /// Cap on decompressed bytes (`RecordsError.decompressedTooLarge` past it).
        public var maxDecompressedBytes: Int

        public init(
            requireKeys: Bool = false, timestampBounds: ClosedRange<Int64>? = nil, verifyRecords: Bool = false,
            maxDecompressedBytes: Int = RecordBatch.defaultMaxDecompressedBytes
        ) {
            self.requireKeys = requireKeys
            self.timestampBounds = timestampBounds
            self.verifyRecords = verifyRecords
            self.maxDecompressedBytes = maxDecompressedBytes
        }

        /// Whether any rule needs the records decoded.
        public var needsRecords: Bool { requireKeys || timestampBounds != nil || verifyRecords }
    }

    /// What validation learned about the batch.
    public struct Summary: Sendable, Hashable {
        /// `recordsCount` (equal to the records found when they were decoded).
        public var recordsCount: Int
        /// Whether the records were decoded (and decompressed).
        public var decodedRecords: Bool
        /// The largest record timestamp (ms) when decoded, else the header's `maxTimestamp`.
        public var maxTimestamp: Int64
        /// The offset delta of the first record with `maxTimestamp` when decoded, else `lastOffsetDelta`.
        public var offsetDeltaOfMaxTimestamp: Int32
    }

    /// Checks `batch` as Kafka checks a batch sent by a producer.
    /// - Throws:
    ///   - `.countMismatch` if `lastOffsetDelta + 1 != recordsCount`, or the records found differ from the count;
    ///   - `.invalidRecord` for an empty batch, a control batch, `producerId >= 0` with `baseSequence < 0`, a null
    ///     key with `requireKeys`, offset deltas out of order, or malformed records;
    ///   - `.invalidTimestamp` for a LOG_APPEND_TIME batch or a record timestamp outside `timestampBounds`;
    ///   - `.unknownCompression`, `.decompressedTooLarge`, `.compressionFailed`, `.malformedVarint`.
    public static func validateForProduce(_ batch: RecordBatch, options: Options = Options()) throws(RecordsError)
        -> Summary
    {
        let header = batch.header
        guard header.recordsCount > 0 else { throw .invalidRecord("a produced batch must hold at least one record") }
        guard Int64(header.lastOffsetDelta) + 1 == Int64(header.recordsCount) else {
            throw .countMismatch(declared: Int(header.recordsCount), found: Int(header.lastOffsetDelta) + 1)
        }
        guard !header.attributes.isControl else { throw .invalidRecord("clients may not produce control batches") }
        guard !(header.producerId >= 0 && header.baseSequence < 0) else {
            throw .invalidRecord("producerId \(header.producerId) with baseSequence \(header.baseSequence)")
        }
        guard !header.attributes.isLogAppendTime else {
            throw .invalidTimestamp(recordIndex: nil, reason: "producers must not set the LOG_APPEND_TIME type")
        }
        _ = try batch.compression()
        var summary = Summary(
            recordsCount: Int(header.recordsCount), decodedRecords: false, maxTimestamp: header.maxTimestamp,
            offsetDeltaOfMaxTimestamp: header.lastOffsetDelta)
        guard options.needsRecords else { return summary }

        var iterator = try batch.makeRecordIterator(maxDecompressedBytes: options.maxDecompressedBytes)
        var maxTimestamp = Int64.min
        var offsetDeltaOfMax: Int32 = -1
        var index = 0
        while let record = try iterator.next() {
            guard record.offsetDelta == Int32(truncatingIfNeeded: index) else {
                throw .invalidRecord("record \(index) has offsetDelta \(record.offsetDelta)")
            }
            if options.requireKeys && record.key == nil {
                throw .invalidRecord("record \(index) has a null key, which a compacted topic does not accept")
            }
            let timestamp = record.timestamp(in: header)
            if let bounds = options.timestampBounds, timestamp != -1, !bounds.contains(timestamp) {
                throw .invalidTimestamp(
                    recordIndex: index,
                    reason: "\(timestamp) is outside the accepted range \(bounds.lowerBound)...\(bounds.upperBound)")
            }
            if timestamp > maxTimestamp {
                maxTimestamp = timestamp
                offsetDeltaOfMax = record.offsetDelta
            }
            index += 1
        }
        summary.decodedRecords = true
        summary.maxTimestamp = maxTimestamp
        summary.offsetDeltaOfMaxTimestamp = offsetDeltaOfMax
        return summary
    }
}
