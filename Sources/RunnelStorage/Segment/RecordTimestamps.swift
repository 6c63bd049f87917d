import NIOCore
import RunnelRecords

/// Per-record (offset, timestamp) pairs of one batch, for timestamp lookups (ListOffsets).
///
/// Uncompressed batches are walked record by record reading only the length, attributes, timestampDelta and
/// offsetDelta varints (KAFKA-FORMATS §2.4). LOG_APPEND_TIME batches need no decoding: every record carries the
/// batch maxTimestamp. Compressed batches are not decompressed here: the batch-level answer is used instead
/// (baseOffset with baseTimestamp, and the batch's maxTimestamp at lastOffset), which is exact when records are in
/// timestamp order, as producers write them.
enum RecordTimestamps {
    /// The first record with timestamp ≥ `timestamp` and offset ≥ `minOffset`, or nil.
    static func firstRecord(
        in batch: ByteBuffer, header: RecordBatchHeader, atOrAfter timestamp: Int64, minOffset: Int64
    ) -> (offset: Int64, timestamp: Int64)? {
        for record in records(in: batch, header: header)
        where record.offset >= minOffset && record.timestamp >= timestamp {
            return record
        }
        return nil
    }

    /// The first record carrying the batch's maxTimestamp (ListOffsets MAX_TIMESTAMP), or the batch-level answer.
    static func recordWithMaxTimestamp(in batch: ByteBuffer, header: RecordBatchHeader)
        -> (offset: Int64, timestamp: Int64)
    {
        for record in records(in: batch, header: header) where record.timestamp == header.maxTimestamp {
            return record
        }
        return (header.lastOffset, header.maxTimestamp)
    }

    /// (offset, timestamp) of every record, in order; see the type's comment for the compressed fallback.
    static func records(in batch: ByteBuffer, header: RecordBatchHeader) -> [(offset: Int64, timestamp: Int64)] {
        if header.recordsCount <= 0 || header.attributes.isControl && header.recordsCount == 0 { return [] }
        if header.attributes.isLogAppendTime {
            return (0...Int64(header.lastOffsetDelta)).map { (header.baseOffset + $0, header.maxTimestamp) }
        }
        guard header.attributes.compressionId == 0 else {
            return [(header.baseOffset, header.baseTimestamp), (header.lastOffset, header.maxTimestamp)]
        }
        var cursor = batch
        cursor.moveReaderIndex(forwardBy: min(RecordBatchHeader.size, cursor.readableBytes))
        var result: [(offset: Int64, timestamp: Int64)] = []
        result.reserveCapacity(Int(min(header.recordsCount, 100_000)))
        for _ in 0..<header.recordsCount {
            guard let length = readVarint(&cursor), length >= 0, Int(length) <= cursor.readableBytes else { break }
            let start = cursor.readerIndex
            guard cursor.readInteger(as: Int8.self) != nil,
                let timestampDelta = readVarint(&cursor),
                let offsetDelta = readVarint(&cursor)
            else { break }
            result.append((header.baseOffset + offsetDelta, header.baseTimestamp &+ timestampDelta))
            cursor.moveReaderIndex(to: start + Int(length))
        }
        return result
    }

    /// A zig-zag varlong (at most 10 bytes), or nil when malformed or truncated.
    private static func readVarint(_ buffer: inout ByteBuffer) -> Int64? {
        var raw: UInt64 = 0
        var shift: UInt64 = 0
        for _ in 0..<10 {
            guard let byte = buffer.readInteger(as: UInt8.self) else { return nil }
            raw |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1))) }
            shift += 7
        }
        return nil
    }
}
