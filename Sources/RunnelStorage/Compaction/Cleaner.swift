import Logging
import NIOCore
import RunnelRecords

/// Options of one cleaning round.
struct CleaningOptions {
    /// Compute everything but write nothing.
    var dryRun = false
    /// Called between chunks with the bytes processed so far (on the cleaning thread).
    var progress: ((CleaningProgress) -> Void)? = nil
    /// Polled between chunks: true stops the round with `CleanerError.aborted`.
    var shouldAbort: () -> Bool = { false }
}

/// Cleans one partition, one round at a time: Kafka's `Cleaner` (KAFKA-FORMATS §6).
///
/// A round: (1) snapshot the segment list under the log's lock and find the cleanable section
/// (`CleaningCandidate`); (2) build the key → latest offset map over the dirty section, stopping where the map is
/// full (`nextDirtyOffset` is then where the next round starts); (3) group the segments from the log start up to
/// that point (§6.3) and rewrite each group into one `.cleaned` segment, keeping per key only the record at the
/// highest offset, at its original offset; (4) swap each group in (`PartitionLog.replaceSegments`). The log's lock
/// is only held to snapshot and to swap: all reads, writes and fsyncs happen outside it, and readers see the old
/// segments until the swap.
///
/// Per batch of the rewrite (first match wins): control batch → copied as is (transactions are not cleaned, see
/// below); batch with nothing dropped and no delete horizon to set → copied byte for byte; some records kept →
/// rebuilt with the same codec, timestamp type, baseOffset, producer fields, leader epoch and lastOffset; nothing
/// kept → an empty batch (§2.6) when it is its producer's last batch or the last batch before the first uncleanable
/// offset, else dropped. Per record: beyond the map's latest offset → kept; no key → dropped; kept iff its offset
/// is the latest of its key and it has a value or its batch's delete horizon has not passed. A kept tombstone in a
/// batch without a horizon makes the rebuilt batch carry horizon = now + `delete.retention.ms` (§6.4).
///
/// Simplifications: "producer state" is the last data batch of each producerId in [log start, first uncleanable
/// offset) (so a producer's last batch is never dropped, and at worst an extra empty batch is kept for a producer
/// that wrote again in the active segment); transactional data is not filtered (no aborted-transaction removal) and
/// control batches are always kept.
///
/// Thread-safety: none; one `Cleaner` (and its map) belongs to one cleaner thread.
final class Cleaner {
    /// The key map between rounds (allocated once). During a round it lives in `RoundContext.map`, a local value,
    /// so the hot loops pay no dynamic exclusivity checks for a class property.
    private var idleMap: KeyOffsetMap?
    let mapMemoryBytes: Int
    let loadFactor: Double
    /// Bytes per read chunk, and the write-buffer flush threshold.
    let ioBufferBytes: Int
    let throttler: Throttler?
    let logger: Logger
    /// Reused per batch: record summaries of the batch being looked at.
    private var summaries: [RecordSummary] = []

    init(mapMemoryBytes: Int, loadFactor: Double, ioBufferBytes: Int, throttler: Throttler?, logger: Logger) {
        self.mapMemoryBytes = mapMemoryBytes
        self.loadFactor = min(1, max(0.01, loadFactor))
        self.ioBufferBytes = max(4096, ioBufferBytes)
        self.throttler = throttler
        self.logger = logger
    }

    /// Runs one cleaning round of `log` whose cleaner checkpoint is `checkpoint` (nil: none).
    /// - Returns: the report; `nextDirtyOffset` is the checkpoint to store. A round with no cleanable section
    ///   rewrites nothing (`didWork` false).
    /// - Throws: `CleanerError`; the log stays valid (groups already swapped stay, the rest is untouched).
    func clean(_ log: PartitionLog, checkpoint: Int64?, now: Int64, options: CleaningOptions = CleaningOptions())
        throws(CleanerError) -> CleaningReport
    {
        let started = Throttler.monotonicNanos()
        let tp = log.topicPartition
        let snapshot: CleaningSnapshot
        do { snapshot = try log.cleaningSnapshot(checkpoint: checkpoint) } catch { throw .storage(error) }
        let candidate = CleaningCandidate(topicPartition: tp, snapshot: snapshot, now: now)
        var report = CleaningReport(
            topicPartition: tp, dryRun: options.dryRun, firstDirtyOffset: candidate.firstDirtyOffset,
            firstUncleanableOffset: candidate.firstUncleanableOffset, nextDirtyOffset: candidate.firstDirtyOffset,
            dirtyRatio: candidate.dirtyRatio)
        guard candidate.hasCleanableSection else { return report }

        var map = idleMap ?? KeyOffsetMap(memoryBytes: mapMemoryBytes)
        idleMap = nil
        var context = RoundContext(
            tp: tp, snapshot: snapshot, candidate: candidate, now: now, options: options,
            totalBytes: candidate.cleanableBytes, map: map)
        map = KeyOffsetMap(memoryBytes: 0)  // drop this reference: the context's map stays uniquely referenced
        defer { idleMap = context.map }
        // (2) Producers' last batches in the clean section (header scan), then the map over the dirty section.
        try scanProducers(&context)
        let mapped = try buildOffsetMap(&context)
        report.bytesRead += context.bytesRead
        report.keys = context.map.entries
        report.mapUtilization = context.map.utilization
        report.mapFilled = mapped.filled
        let endOffset = mapped.endOffset
        report.nextDirtyOffset = endOffset
        guard mapped.sawBatches else {
            report.durationMs = Int64((Throttler.monotonicNanos() - started) / 1_000_000)
            return report
        }

        // (3) Group every segment that starts below the round's end offset and rewrite each group.
        let toClean = Array(snapshot.segments[0..<candidate.uncleanableSegmentIndex].prefix { $0.baseOffset < endOffset })
        let groups = Self.group(
            toClean, maxBytes: Int64(snapshot.config.segmentBytes), maxIndexBytes: snapshot.config.segmentIndexBytes,
            firstUncleanableOffset: candidate.firstUncleanableOffset)
        context.phase = .rewriting
        context.bytesDone = 0
        context.totalBytes = toClean.reduce(0) { $0 + $1.size }
        context.bytesRead = 0
        for group in groups {
            try rewrite(group, log: log, context: &context, report: &report)
        }
        report.bytesRead += context.bytesRead
        report.durationMs = Int64((Throttler.monotonicNanos() - started) / 1_000_000)
        logger.info(
            "cleaned log",
            metadata: [
                "partition": "\(tp)", "dryRun": "\(options.dryRun)",
                "dirty": "[\(candidate.firstDirtyOffset), \(endOffset))", "segments": "\(report.segmentsBefore)",
                "bytesBefore": "\(report.bytesBefore)", "bytesAfter": "\(report.bytesAfter)",
                "recordsRemoved": "\(report.recordsRemoved)", "keys": "\(report.keys)",
                "durationMs": "\(report.durationMs)",
            ])
        return report
    }

    // MARK: - Round state

    /// What a round carries between its steps.
    struct RoundContext {
        let tp: TopicPartition
        let snapshot: CleaningSnapshot
        let candidate: CleaningCandidate
        let now: Int64
        let options: CleaningOptions
        var phase: CleaningProgress.Phase = .indexing
        var bytesDone: Int64 = 0
        var totalBytes: Int64
        var bytesRead: Int64 = 0
        /// producerId → lastOffset of its last data batch seen in [log start, first uncleanable offset).
        var producerLastOffsets: [Int64: Int64] = [:]
        /// The key → latest offset map of the round.
        var map: KeyOffsetMap

        init(
            tp: TopicPartition, snapshot: CleaningSnapshot, candidate: CleaningCandidate, now: Int64,
            options: CleaningOptions, totalBytes: Int64, map: KeyOffsetMap
        ) {
            self.map = map
            self.tp = tp
            self.snapshot = snapshot
            self.candidate = candidate
            self.now = now
            self.options = options
            self.totalBytes = totalBytes
        }

        mutating func noteProducer(_ header: RecordBatchHeader) {
            guard header.producerId >= 0, !header.attributes.isControl else { return }
            producerLastOffsets[header.producerId] = max(producerLastOffsets[header.producerId] ?? -1, header.lastOffset)
        }
    }

    // MARK: - Step 2: producers and the offset map

    /// Records the last data batch of each producer in the part of [log start, first dirty offset) that the map
    /// pass will not read: segments before the first dirty one, and the first dirty one before the scan position.
    private func scanProducers(_ context: inout RoundContext) throws(CleanerError) {
        let segments = context.snapshot.segments
        for index in 0...context.candidate.dirtySegmentIndex {
            let segment = segments[index]
            let limit = index == context.candidate.dirtySegmentIndex ? context.snapshot.dirtyStartPosition : segment.size
            try scanHeaders(segment, from: 0, to: limit, context: &context)
        }
    }

    /// Header-only walk of `segment` in [from, to), noting producers.
    private func scanHeaders(_ segment: CleanableSegment, from: Int64, to limit: Int64, context: inout RoundContext)
        throws(CleanerError)
    {
        let scanner = BatchScanner(file: segment.file, limit: limit)
        var position = from
        while true {
            let header: RecordBatchHeader?
            do { header = try scanner.header(at: position) } catch {
                throw corrupt(context.tp, segment, position, "\(error)")
            }
            guard let header else { break }
            context.noteProducer(header)
            position += Int64(header.sizeInBytes)
        }
    }

    /// Builds the key → offset map over [first dirty offset, first uncleanable offset) (§6.2). Stops when the map
    /// holds `capacity(loadFactor)` keys, but only after at least one whole batch was mapped so every round makes
    /// progress.
    /// - Returns: the round's end offset (map.latestOffset + 1, or the first uncleanable offset when the dirty
    ///   section holds no batch), whether the map filled, whether any batch was seen.
    private func buildOffsetMap(_ context: inout RoundContext) throws(CleanerError)
        -> (endOffset: Int64, filled: Bool, sawBatches: Bool)
    {
        context.map.clear()
        let firstDirty = context.candidate.firstDirtyOffset
        context.map.updateLatestOffset(firstDirty - 1)
        let capacity = context.map.capacity(loadFactor: loadFactor)
        var full = false
        var mappedBatches = 0
        var sawBatch = false
        let segments = context.snapshot.segments
        for index in context.candidate.dirtySegmentIndex..<context.candidate.uncleanableSegmentIndex {
            let segment = segments[index]
            let start = index == context.candidate.dirtySegmentIndex ? context.snapshot.dirtyStartPosition : 0
            if full {
                try scanHeaders(segment, from: start, to: segment.size, context: &context)
                continue
            }
            var fullAt: Int64? = nil
            try forEachBatch(in: segment, from: start, context: &context) { (batch, position, context) throws(CleanerError) -> Bool in
                let header = batch.header
                context.noteProducer(header)
                guard header.lastOffset >= firstDirty else { return true }
                sawBatch = true
                if !header.attributes.isControl && header.recordsCount > 0 {
                    try self.summarize(batch, segment: segment, position: position, tp: context.tp)
                    for summary in self.summaries where summary.hasKey {
                        let offset = header.baseOffset + Int64(summary.offsetDelta)
                        guard offset >= firstDirty else { continue }
                        if context.map.entries >= capacity && mappedBatches > 0 {
                            full = true
                            break
                        }
                        guard context.map.put(summary.keyDigest, offset: offset) else {
                            guard mappedBatches > 0 else {
                                throw .offsetMapTooSmall(
                                    topicPartition: context.tp, slots: context.map.slots, batchBaseOffset: header.baseOffset)
                            }
                            full = true
                            break
                        }
                    }
                }
                if full {
                    fullAt = position
                    return false
                }
                context.map.updateLatestOffset(header.lastOffset)
                mappedBatches += 1
                return true
            }
            if let fullAt {
                // Producers of the batches the map did not reach still count.
                try scanHeaders(segment, from: fullAt, to: segment.size, context: &context)
            }
        }
        let end = sawBatch ? context.map.latestOffset + 1 : context.candidate.firstUncleanableOffset
        return (max(end, firstDirty), full, sawBatch)
    }

    // MARK: - Step 3: grouping

    /// Groups consecutive segments so that each group's log bytes ≤ `maxBytes`, offset- and time-index bytes each
    /// ≤ `maxIndexBytes`, and offsets span ≤ Int32.max from the group's base (Kafka's `groupSegmentsBySize`).
    static func group(
        _ segments: [CleanableSegment], maxBytes: Int64, maxIndexBytes: Int, firstUncleanableOffset: Int64
    ) -> [[CleanableSegment]] {
        var groups: [[CleanableSegment]] = []
        var index = 0
        while index < segments.count {
            var group = [segments[index]]
            var logBytes = segments[index].size
            var offsetIndexBytes = segments[index].offsetIndexBytes
            var timeIndexBytes = segments[index].timeIndexBytes
            index += 1
            while index < segments.count {
                let next = segments[index]
                let lastOffset = index + 1 < segments.count ? segments[index + 1].baseOffset - 1 : firstUncleanableOffset - 1
                guard logBytes + next.size <= maxBytes, offsetIndexBytes + next.offsetIndexBytes <= maxIndexBytes,
                    timeIndexBytes + next.timeIndexBytes <= maxIndexBytes,
                    next.size == 0 || lastOffset - group[0].baseOffset <= Int64(Int32.max)
                else { break }
                group.append(next)
                logBytes += next.size
                offsetIndexBytes += next.offsetIndexBytes
                timeIndexBytes += next.timeIndexBytes
                index += 1
            }
            groups.append(group)
        }
        return groups
    }

    // MARK: - Helpers shared by the passes

    /// Summarizes the records of `batch` into `summaries` (decompressing if needed).
    func summarize(_ batch: RecordBatch, segment: CleanableSegment, position: Int64, tp: TopicPartition)
        throws(CleanerError)
    {
        do {
            let payload = try batch.decompressedPayload(maxDecompressedBytes: RecordBatch.defaultMaxDecompressedBytes)
            try RecordKeyScanner.scan(payload, count: Int(batch.header.recordsCount), into: &summaries)
        } catch {
            throw corrupt(tp, segment, position, "\(error)")
        }
    }

    /// The summaries of the last `summarize` call.
    var lastSummaries: [RecordSummary] { summaries }

    /// Reads `segment` from `from` to its end in chunks of `ioBufferBytes` (a larger batch is read whole) and calls
    /// `body` for every whole, CRC-checked batch with its position; `body` returns false to stop. Throttles,
    /// reports progress and polls for abort per chunk.
    func forEachBatch(
        in segment: CleanableSegment, from start: Int64, context: inout RoundContext,
        _ body: (RecordBatch, Int64, inout RoundContext) throws(CleanerError) -> Bool
    ) throws(CleanerError) {
        var position = start
        while position < segment.size {
            if context.options.shouldAbort() { throw .aborted(context.tp, reason: "stop requested") }
            let wanted = Int(min(Int64(ioBufferBytes), segment.size - position))
            var chunk: ByteBuffer
            do { chunk = try segment.file.read(at: position, length: wanted) } catch { throw .storage(error) }
            var batches = RecordBatchIterator(chunk, verifyCRC: true)
            var consumed = 0
            while true {
                let batch: RecordBatch?
                do { batch = try batches.next() } catch {
                    throw corrupt(context.tp, segment, position + Int64(batches.consumedBytes), "\(error)")
                }
                guard let batch else { break }
                let batchPosition = position + Int64(consumed)
                consumed += batch.header.sizeInBytes
                if try !body(batch, batchPosition, &context) {
                    account(Int64(consumed), context: &context)
                    return
                }
            }
            if consumed == 0 {
                // The next batch does not fit the buffer: read it whole.
                guard chunk.readableBytes >= RecordBatchHeader.size,
                    let header = try? RecordBatchHeader(parsing: chunk, at: chunk.readerIndex),
                    Int64(header.sizeInBytes) <= segment.size - position
                else { throw corrupt(context.tp, segment, position, "truncated or unparsable batch header") }
                do { chunk = try segment.file.read(at: position, length: header.sizeInBytes) } catch {
                    throw .storage(error)
                }
                let whole: RecordBatch
                do { whole = try RecordBatch(validating: chunk) } catch {
                    throw corrupt(context.tp, segment, position, "\(error)")
                }
                consumed = header.sizeInBytes
                if try !body(whole, position, &context) {
                    account(Int64(consumed), context: &context)
                    return
                }
            }
            account(Int64(consumed), context: &context)
            position += Int64(consumed)
        }
    }

    private func account(_ bytes: Int64, context: inout RoundContext) {
        context.bytesRead += bytes
        context.bytesDone += bytes
        throttler?.maybeThrottle(Int(bytes))
        context.options.progress?(
            CleaningProgress(
                topicPartition: context.tp, phase: context.phase, bytesDone: context.bytesDone,
                bytesTotal: max(context.totalBytes, context.bytesDone)))
    }

    func corrupt(_ tp: TopicPartition, _ segment: CleanableSegment, _ position: Int64, _ reason: String) -> CleanerError {
        .corruptBatch(topicPartition: tp, path: segment.file.path, position: position, reason: reason)
    }
}
