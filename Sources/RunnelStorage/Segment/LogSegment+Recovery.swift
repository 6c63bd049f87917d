import NIOCore
import RunnelRecords

/// What recovering one segment found.
struct SegmentRecoveryOutcome: Sendable {
    /// Bytes of valid batches kept.
    var validBytes: Int64
    /// Bytes cut from the end of the `.log` (torn or corrupt tail).
    var truncatedBytes: Int64
    /// Bytes of whole batches read and CRC-checked; the header-only prefix below the recovery point is not counted.
    var scannedBytes: Int64
    /// Batches kept.
    var validBatches: Int
    /// Why the scan stopped early, if it did.
    var stopReason: String?
}

extension LogSegment {
    /// Rebuilds this segment from its `.log` after an unclean shutdown (KAFKA-FORMATS §5.12 step 4), scanning only
    /// what lies after the recovery point in full.
    ///
    /// With a `recoveryPoint` (the flushed, fsync'd log end offset of the last checkpoint), batches that end at or
    /// below it (`nextOffset ≤ recoveryPoint`) are walked by header only (61-byte reads, no CRC): their indexes are
    /// rebuilt and the header chain is checked, but their payloads are trusted, as Kafka trusts flushed data. If the
    /// header chain breaks before the recovery point is reached (a damaged, torn or missing prefix), the whole
    /// segment is recovered from position 0 as without a recovery point, so such damage is handled as before.
    /// - Parameter recoveryPoint: nil (or ≤ `baseOffset`) checks every batch in full.
    /// - Throws: `StorageError.io` only; bad data never throws.
    func recover(maxIndexBytes: Int, recoveryPoint: Int64? = nil) throws(StorageError) -> SegmentRecoveryOutcome {
        if let recoveryPoint, recoveryPoint > baseOffset,
            let outcome = try scanAndRebuild(maxIndexBytes: maxIndexBytes, trustedBelow: recoveryPoint)
        {
            return outcome
        }
        // Without a usable recovery point the full scan never gives up (trustedBelow nil), hence the fallback value.
        return try scanAndRebuild(maxIndexBytes: maxIndexBytes, trustedBelow: nil)
            ?? SegmentRecoveryOutcome(validBytes: 0, truncatedBytes: 0, scannedBytes: 0, validBatches: 0)
    }

    /// The recovery scan behind `recover`.
    ///
    /// Resets both indexes, then walks the batches from position 0 requiring for each: a parsable v2 header,
    /// the whole batch present, CRC-32C OK, baseOffset ≥ the previous batch's next offset (≥ `baseOffset` for the
    /// first; this also catches damage to the baseOffset field, which the CRC does not cover), and
    /// lastOffset − baseOffset ≤ Int32.max. Index entries are rebuilt by the same rule as appends. At the first
    /// failure the `.log` is truncated to the end of the last valid batch (and fsync'd).
    ///
    /// Batches with `nextOffset ≤ trustedBelow` (a prefix only: once one batch is checked in full, all later ones
    /// are) skip the payload read and CRC. A failure inside that trusted prefix returns nil before anything is
    /// truncated, so the caller can rescan in full; with `trustedBelow` nil the result is never nil.
    /// - Throws: `StorageError.io` only; bad data never throws.
    private func scanAndRebuild(maxIndexBytes: Int, trustedBelow: Int64?) throws(StorageError)
        -> SegmentRecoveryOutcome?
    {
        let fileSize = try log.size()
        var validBytes: Int64 = 0
        var scanned: Int64 = 0
        var batches = 0
        var expectedNext = baseOffset
        var maxTimestamp: Int64 = -1
        var offsetOfMax = baseOffset
        var firstBatchMaxTimestamp: Int64? = nil
        var lastIndexEntry: Int64 = 0
        if let trustedBelow, let resume = try indexedResumePoint(below: trustedBelow, fileSize: fileSize) {
            // Index entries below the recovery point were fsync'd by the flush that set it: keep them and walk
            // headers from the last one on (rescanning its batch is harmless: no entry, same maximum).
            offsetIndex.keepFirst(resume.offsetEntries)
            timeIndex.keepFirst(resume.timeEntries)
            validBytes = resume.position
            expectedNext = resume.baseOffset
            maxTimestamp = resume.maxTimestamp
            offsetOfMax = resume.offsetOfMaxTimestamp
            lastIndexEntry = resume.position
        } else {
            offsetIndex.reset()
            timeIndex.reset()
        }
        try resizeIndexes(to: maxIndexBytes)
        var stopReason: String? = nil
        // Still in the header-only prefix (below the recovery point).
        var trusting = trustedBelow != nil

        scan: while validBytes < fileSize {
            guard fileSize - validBytes >= Int64(RecordBatchHeader.size) else {
                stopReason = "partial header (\(fileSize - validBytes) bytes)"
                break
            }
            let headerBytes = try log.read(at: validBytes, length: RecordBatchHeader.size)
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
            if let trustedBelow, trusting, header.nextOffset > trustedBelow { trusting = false }
            if !trusting {
                let batch = try log.read(at: validBytes, length: header.sizeInBytes)
                scanned += Int64(batch.readableBytes)
                do {
                    _ = try RecordBatchHeader.validated(in: batch, at: batch.readerIndex)
                } catch {
                    stopReason = "invalid batch: \(error)"
                    break
                }
            }
            guard header.baseOffset >= expectedNext else {
                stopReason = "baseOffset \(header.baseOffset) below expected \(expectedNext)"
                break
            }
            guard header.lastOffset - baseOffset <= Int64(Int32.max) else {
                stopReason = "offset \(header.lastOffset) overflows the segment's relative offsets"
                break scan
            }
            if validBytes == 0 { firstBatchMaxTimestamp = header.maxTimestamp }
            if header.maxTimestamp > maxTimestamp {
                maxTimestamp = header.maxTimestamp
                offsetOfMax = header.lastOffset
            }
            // The offset test matters after an index resume inside a multi-batch append (entry = chunk's last offset).
            if validBytes - lastIndexEntry > Int64(indexIntervalBytes) && !offsetIndex.isFull && !timeIndex.isFull
                && (offsetIndex.entries == 0 || header.lastOffset > offsetIndex.lastEntry.offset)
            {
                offsetIndex.append(offset: header.lastOffset, position: validBytes)
                timeIndex.maybeAppend(timestamp: maxTimestamp, offset: offsetOfMax)
                lastIndexEntry = validBytes
            }
            validBytes += Int64(header.sizeInBytes)
            expectedNext = header.nextOffset
            batches += 1
        }

        // A stop inside the trusted prefix (checked by header only) means damage below the recovery point: the
        // caller rescans the whole segment in full. A clean end of file there is fine (the recovery point may lie
        // in a later segment).
        if trusting, validBytes < fileSize { return nil }
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

    /// Where a recovery below `recoveryPoint` may start instead of position 0: the last offset-index entry of the
    /// valid prefix (offsets and positions strictly increasing, inside the `.log`, whole batches below the recovery
    /// point; an unclean stop leaves a preallocated tail of zero entries, which ends the prefix), with the state
    /// the scan would have had there, taken from the time index. Nil when there is no such entry or anything
    /// disagrees (the batch header at the entry, an empty time-index prefix): the scan then starts at 0.
    private func indexedResumePoint(below recoveryPoint: Int64, fileSize: Int64) throws(StorageError)
        -> (offsetEntries: Int, timeEntries: Int, position: Int64, baseOffset: Int64, maxTimestamp: Int64,
            offsetOfMaxTimestamp: Int64)?
    {
        var kept = 0
        var last: (offset: Int64, position: Int64) = (baseOffset - 1, 0)
        while kept < offsetIndex.entries {
            let entry = offsetIndex.entry(at: kept)
            guard entry.offset > last.offset, entry.position > last.position, entry.position < fileSize,
                entry.offset < recoveryPoint
            else { break }
            last = entry
            kept += 1
        }
        guard kept > 0 else { return nil }
        guard let header = try? BatchScanner(file: log, limit: fileSize).header(at: last.position),
            header.baseOffset >= baseOffset, header.baseOffset <= last.offset
        else { return nil }
        var timeKept = 0
        var lastTime: (timestamp: Int64, offset: Int64) = (Int64.min, baseOffset - 1)
        while timeKept < timeIndex.entries {
            let entry = timeIndex.entry(at: timeKept)
            guard entry.timestamp > lastTime.timestamp, entry.offset >= lastTime.offset, entry.offset <= last.offset
            else { break }
            lastTime = entry
            timeKept += 1
        }
        guard timeKept > 0 else { return nil }
        return (kept, timeKept, last.position, header.baseOffset, lastTime.timestamp, lastTime.offset)
    }
}
