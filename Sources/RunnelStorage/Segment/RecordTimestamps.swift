import NIOCore
import RunnelRecords

/// Per-record (offset, timestamp) pairs of one batch, for timestamp lookups (ListOffsets).
///
/// Records are decoded with RunnelRecords' record iterator, which decompresses compressed batches first (bounded by
/// `maxDecompressedBytes`), so answers are exact for every codec. LOG_APPEND_TIME batches need no decoding: every
/// record carries the batch maxTimestamp. Empty batches (compaction leftovers) have no records. Should a stored
/// batch fail to decode (it passed its CRC check when appended, so this means a codec failure or the size cap),
/// the batch-level answer is used instead: baseOffset with baseTimestamp, and maxTimestamp at lastOffset.
enum RecordTimestamps {
    /// Cap on decompressed bytes per batch for timestamp lookups (RunnelRecords' default, 64 MiB).
    static let maxDecompressedBytes = RecordBatch.defaultMaxDecompressedBytes

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

    /// (offset, timestamp) of every record, in order; see the type's comment for the fallback.
    static func records(in batch: ByteBuffer, header: RecordBatchHeader) -> [(offset: Int64, timestamp: Int64)] {
        if header.recordsCount <= 0 { return [] }
        if header.attributes.isLogAppendTime {
            // Offsets of a compacted batch may have gaps; decoding gives the exact ones when possible.
            if let offsets = try? decodedRecords(batch, header: header).map(\.offset) {
                return offsets.map { ($0, header.maxTimestamp) }
            }
            return [(header.lastOffset, header.maxTimestamp)]
        }
        if let decoded = try? decodedRecords(batch, header: header) { return decoded }
        return [(header.baseOffset, header.baseTimestamp), (header.lastOffset, header.maxTimestamp)]
    }

    /// Decodes the records of `batch` (decompressing if needed).
    /// - Throws: `RecordsError` for a batch that does not decode.
    private static func decodedRecords(_ batch: ByteBuffer, header: RecordBatchHeader) throws(RecordsError)
        -> [(offset: Int64, timestamp: Int64)]
    {
        guard let bytes = batch.getSlice(at: batch.readerIndex, length: header.sizeInBytes) else {
            throw .truncated(needed: header.sizeInBytes, available: batch.readableBytes)
        }
        var iterator = try RecordBatch(header: header, bytes: bytes).makeRecordIterator(
            maxDecompressedBytes: maxDecompressedBytes)
        var result: [(offset: Int64, timestamp: Int64)] = []
        result.reserveCapacity(iterator.plausibleCount)
        while let record = try iterator.next() {
            result.append((record.offset(in: header), record.timestamp(in: header)))
        }
        return result
    }
}
