import NIOCore
import RunnelRecords

/// What recovering one segment found.
struct SegmentRecoveryOutcome: Sendable {
    /// Bytes of valid batches kept.
    var validBytes: Int64
    /// Bytes cut from the end of the `.log` (torn or corrupt tail).
    var truncatedBytes: Int64
    /// Bytes read and checked (headers and payloads).
    var scannedBytes: Int64
    /// Batches kept.
    var validBatches: Int
    /// Why the scan stopped early, if it did.
    var stopReason: String?
}

extension LogSegment {
    /// Rebuilds this segment from its `.log` after an unclean shutdown (KAFKA-FORMATS §5.12 step 4).
    ///
    /// Resets both indexes, then walks the batches from position 0 requiring for each: a parsable v2 header,
    /// the whole batch present, CRC-32C OK, baseOffset ≥ the previous batch's next offset (≥ `baseOffset` for the
    /// first; this also catches damage to the baseOffset field, which the CRC does not cover), and
    /// lastOffset − baseOffset ≤ Int32.max. Index entries are rebuilt by the same rule as appends. At the first
    /// failure the `.log` is truncated to the end of the last valid batch (and fsync'd).
    /// - Throws: `StorageError.io` only; bad data never throws.
    func recover(maxIndexBytes: Int) throws(StorageError) -> SegmentRecoveryOutcome {
        offsetIndex.reset()
        timeIndex.reset()
        try resizeIndexes(to: maxIndexBytes)
        let fileSize = try log.size()
        var validBytes: Int64 = 0
        var scanned: Int64 = 0
        var batches = 0
        var expectedNext = baseOffset
        var maxTimestamp: Int64 = -1
        var offsetOfMax = baseOffset
        var firstBatchMaxTimestamp: Int64? = nil
        var lastIndexEntry: Int64 = 0
        var stopReason: String? = nil

        scan: while validBytes < fileSize {
            guard fileSize - validBytes >= Int64(RecordBatchHeader.size) else {
                stopReason = "partial header (\(fileSize - validBytes) bytes)"
                break
            }
            let headerBytes = try log.read(at: validBytes, length: RecordBatchHeader.size)
            scanned += Int64(headerBytes.readableBytes)
            let header: RecordBatchHeader
            do {
                header = try RecordBatchHeader(parsing: headerBytes, at: headerBytes.readerIndex)
            } catch {
                stopReason = "bad header: \(error)"
                break
            }
            guard validBytes + Int64(header.sizeInBytes) <= fileSize else {
                stopReason = "partial batch (needs \(header.sizeInBytes) bytes, \(fileSize - validBytes) left)"
                break
            }
            let batch = try log.read(at: validBytes, length: header.sizeInBytes)
            scanned += Int64(batch.readableBytes - RecordBatchHeader.size)
            do {
                _ = try RecordBatchHeader.validated(in: batch, at: batch.readerIndex)
            } catch {
                stopReason = "invalid batch: \(error)"
                break
            }
            guard header.baseOffset >= expectedNext else {
                stopReason = "baseOffset \(header.baseOffset) below expected \(expectedNext)"
                break
            }
            guard header.lastOffset - baseOffset <= Int64(Int32.max) else {
                stopReason = "offset \(header.lastOffset) overflows the segment's relative offsets"
                break scan
            }
            if firstBatchMaxTimestamp == nil { firstBatchMaxTimestamp = header.maxTimestamp }
            if header.maxTimestamp > maxTimestamp {
                maxTimestamp = header.maxTimestamp
                offsetOfMax = header.lastOffset
            }
            if validBytes - lastIndexEntry > Int64(indexIntervalBytes) && !offsetIndex.isFull && !timeIndex.isFull {
                offsetIndex.append(offset: header.lastOffset, position: validBytes)
                timeIndex.maybeAppend(timestamp: maxTimestamp, offset: offsetOfMax)
                lastIndexEntry = validBytes
            }
            validBytes += Int64(header.sizeInBytes)
            expectedNext = header.nextOffset
            batches += 1
        }

        let truncated = fileSize - validBytes
        if truncated > 0 {
            try log.truncate(to: validBytes)
            try log.sync()
        }
        setRecovered(
            size: validBytes, nextOffset: expectedNext, maxTimestamp: maxTimestamp, offsetOfMaxTimestamp: offsetOfMax,
            firstBatchMaxTimestamp: firstBatchMaxTimestamp, bytesSinceLastIndexEntry: Int(validBytes - lastIndexEntry))
        return SegmentRecoveryOutcome(
            validBytes: validBytes, truncatedBytes: truncated, scannedBytes: scanned, validBatches: batches,
            stopReason: truncated > 0 ? stopReason : nil)
    }
}
