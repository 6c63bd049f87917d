import NIOCore
import RunnelRecords

extension Cleaner {
    // MARK: - Step 3/4: rewrite one group and swap it in

    /// Rewrites `group` into one `.cleaned` segment named after its first base offset, finalizes and fsyncs it, and
    /// swaps it in (KAFKA-FORMATS §6.3, §6.6). In a dry run only the counts are computed.
    func rewrite(
        _ group: [CleanableSegment], log: PartitionLog, context: inout RoundContext, report: inout CleaningReport
    ) throws(CleanerError) {
        let baseOffset = group[0].baseOffset
        var output = CleanedOutput(flushThreshold: ioBufferBytes)
        if !context.options.dryRun {
            do {
                output.segment = try LogSegment.create(
                    directory: log.directory, baseOffset: baseOffset, config: context.snapshot.config,
                    now: context.now, suffix: FileNames.cleanedSuffix)
            } catch { throw .storage(error) }
        }
        do throws(CleanerError) {
            for segment in group {
                report.segmentsBefore += 1
                report.bytesBefore += segment.size
                try forEachBatch(in: segment, from: 0, context: &context) {
                    (batch, position, context) throws(CleanerError) -> Bool in
                    try self.filter(batch, segment: segment, position: position, context: context, into: &output, report: &report)
                    if output.pendingBytes >= output.flushThreshold { try output.flush(throttler: self.throttler) }
                    return true
                }
            }
            try output.flush(throttler: throttler)
        } catch {
            output.segment?.discardFiles(suffix: FileNames.cleanedSuffix)
            throw error
        }
        report.segmentsAfter += 1
        report.bytesAfter += output.bytesWritten
        report.bytesWritten += output.bytesWritten
        guard let cleaned = output.segment else { return }

        // Finalize (final time-index entry, trimmed indexes), fsync, keep the replaced segments' mtime, unmap.
        let cleanedNextOffset = cleaned.nextOffset
        do throws(StorageError) {
            try cleaned.onBecomeInactive()
            for handle in cleaned.syncHandles { try handle.sync() }
            if let mtime = group.last?.modificationTimeMs, mtime > 0 { try cleaned.log.setModificationTime(ms: mtime) }
            cleaned.close()
        } catch {
            cleaned.discardFiles(suffix: FileNames.cleanedSuffix)
            throw .storage(error)
        }
        output.segment = nil
        let deleted: [String]?
        do {
            deleted = try log.replaceSegments(
                group.map(\.id), cleanedBaseOffset: baseOffset, cleanedNextOffset: cleanedNextOffset)
        } catch { throw .storage(error) }
        guard let deleted else {
            throw .aborted(context.tp, reason: "segments changed or the log closed while cleaning")
        }
        do {
            try FileSystem.syncDirectory(log.directory)
            for path in deleted { try FileSystem.removeFile(path) }
        } catch { throw .storage(error) }
    }

    // MARK: - Per-batch decision

    /// Decides what of `batch` survives and appends the result (the batch as is, a rebuilt batch, an empty batch,
    /// or nothing) to `output`.
    private func filter(
        _ batch: RecordBatch, segment: CleanableSegment, position: Int64, context: RoundContext,
        into output: inout CleanedOutput, report: inout CleaningReport
    ) throws(CleanerError) {
        let header = batch.header
        report.batchesBefore += 1
        report.recordsBefore += Int64(max(0, header.recordsCount))
        if header.attributes.isControl {
            report.recordsAfter += Int64(max(0, header.recordsCount))
            return output.append(batch.bytes, header: header, report: &report)
        }
        let isProducersLast =
            header.producerId >= 0 && context.producerLastOffsets[header.producerId] == header.lastOffset
        let retainEmpty = isProducersLast || header.nextOffset == context.candidate.firstUncleanableOffset
        guard header.recordsCount > 0 else {
            if retainEmpty { output.append(batch.bytes, header: header, report: &report) }
            return
        }
        try summarize(batch, segment: segment, position: position, tp: context.tp)
        let records = lastSummaries
        let latestOffset = context.map.latestOffset
        let horizonPassed = header.attributes.hasDeleteHorizon && context.now >= header.baseTimestamp
        var kept: [Int] = []
        kept.reserveCapacity(records.count)
        var keptTombstone = false
        for (index, record) in records.enumerated() {
            let offset = header.baseOffset + Int64(record.offsetDelta)
            let keep: Bool
            if offset > latestOffset {
                keep = true
            } else if !record.hasKey {
                keep = false
                report.recordsWithoutKeyRemoved += 1
            } else {
                let isLatest = offset >= context.map.get(record.keyDigest)
                keep = isLatest && (record.hasValue || !horizonPassed)
            }
            if keep {
                kept.append(index)
                if !record.hasValue { keptTombstone = true }
            } else if !record.hasValue {
                report.tombstonesRemoved += 1
            }
        }
        report.recordsAfter += Int64(kept.count)
        let needsHorizon = keptTombstone && !header.attributes.hasDeleteHorizon
        if kept.count == records.count && !needsHorizon {
            return output.append(batch.bytes, header: header, report: &report)
        }
        if kept.isEmpty {
            if retainEmpty {
                let empty = RecordBatchBuilder.emptyBatch(
                    baseOffset: header.baseOffset, lastOffsetDelta: header.lastOffsetDelta,
                    maxTimestamp: header.maxTimestamp, producerId: header.producerId,
                    producerEpoch: header.producerEpoch, baseSequence: header.baseSequence,
                    isTransactional: header.attributes.isTransactional,
                    partitionLeaderEpoch: header.partitionLeaderEpoch)
                output.append(empty, header: nil, report: &report)
            }
            return
        }
        let horizon: Int64? =
            needsHorizon
            ? context.now.addingReportingOverflow(max(0, context.snapshot.config.deleteRetentionMs)).partialValue
            : (header.attributes.hasDeleteHorizon ? header.baseTimestamp : nil)
        let rebuilt = try rebuild(batch, keeping: kept, records: records, deleteHorizonMs: horizon, context: context,
                                  position: position, segment: segment)
        output.append(rebuilt, header: nil, report: &report)
    }

    /// A batch with only the records at `kept` (indexes into `records`), same codec, timestamp type, baseOffset,
    /// producer fields, flags and leader epoch, and the original lastOffsetDelta (§6.3).
    private func rebuild(
        _ batch: RecordBatch, keeping kept: [Int], records: [RecordSummary], deleteHorizonMs: Int64?,
        context: RoundContext, position: Int64, segment: CleanableSegment
    ) throws(CleanerError) -> ByteBuffer {
        let header = batch.header
        do {
            let payload = try batch.decompressedPayload(maxDecompressedBytes: RecordBatch.defaultMaxDecompressedBytes)
            let codec = try batch.compression()
            var keptBytes = 0
            for index in kept { keptBytes += records[index].length }
            var builder = RecordBatchBuilder(
                baseOffset: header.baseOffset, compression: codec, producerId: header.producerId,
                producerEpoch: header.producerEpoch, baseSequence: header.baseSequence,
                isTransactional: header.attributes.isTransactional, isControl: false,
                logAppendTime: header.attributes.isLogAppendTime ? header.maxTimestamp : nil,
                deleteHorizonMs: deleteHorizonMs, partitionLeaderEpoch: header.partitionLeaderEpoch,
                initialCapacity: RecordBatchHeader.size + keptBytes + 64)
            for index in kept {
                let summary = records[index]
                guard var bytes = payload.getSlice(at: payload.readerIndex + summary.start, length: summary.length) else {
                    throw RecordsError.invalidRecord("record \(index) outside the payload")
                }
                let record = try Record(decoding: &bytes)
                builder.append(record, offsetDelta: record.offsetDelta, timestamp: record.timestamp(in: header))
            }
            let lastDelta = builder.lastOffsetDelta
            var rebuilt = try builder.build()
            if lastDelta != header.lastOffsetDelta {
                rebuilt.setInteger(header.lastOffsetDelta, at: rebuilt.readerIndex + 23)
                rebuilt.updateBatchCRC(at: rebuilt.readerIndex)
            }
            return rebuilt
        } catch {
            throw corrupt(context.tp, segment, position, "cannot rebuild batch at offset \(header.baseOffset): \(error)")
        }
    }
}

/// The cleaned segment being written and its write buffer (whole batches plus their index metadata).
struct CleanedOutput {
    /// nil in a dry run.
    var segment: LogSegment?
    let flushThreshold: Int
    private var buffer = ByteBufferAllocator().buffer(capacity: 0)
    private var batches: [CleanedBatchInfo] = []
    /// Bytes of all batches produced (written or, in a dry run, counted).
    private(set) var bytesWritten: Int64 = 0

    init(flushThreshold: Int) {
        self.flushThreshold = flushThreshold
        buffer.reserveCapacity(flushThreshold + 64 * 1024)
    }

    var pendingBytes: Int { buffer.readableBytes }

    /// Appends one batch (`header` when already parsed, else parsed from `bytes`).
    mutating func append(_ bytes: ByteBuffer, header: RecordBatchHeader?, report: inout CleaningReport) {
        // The builder and the iterator only produce whole v2 batches, so the header parses.
        guard let header = header ?? (try? RecordBatchHeader(parsing: bytes, at: bytes.readerIndex)) else { return }
        report.batchesAfter += 1
        bytesWritten += Int64(bytes.readableBytes)
        guard segment != nil else { return }
        batches.append(
            CleanedBatchInfo(sizeInBytes: bytes.readableBytes, lastOffset: header.lastOffset, maxTimestamp: header.maxTimestamp))
        var copy = bytes
        buffer.writeBuffer(&copy)
    }

    /// Writes the buffered batches to the cleaned segment (one pwrite).
    mutating func flush(throttler: Throttler?) throws(CleanerError) {
        guard let segment, !batches.isEmpty else { return }
        do { try segment.appendBatches(buffer, batches: batches) } catch { throw .storage(error) }
        throttler?.maybeThrottle(buffer.readableBytes)
        buffer.clear()
        batches.removeAll(keepingCapacity: true)
    }
}
