import NIOCore
import RunnelRecords

/// What a read needs of one segment, taken under the lock: the Sendable `.log` handle and sizes.
struct SegmentReadView: Sendable {
    let file: SegmentFileHandle
    let baseOffset: Int64
    /// Bytes of whole batches at the time of the snapshot.
    let size: Int64
    /// The offset after the segment's last batch at the time of the snapshot.
    let nextOffset: Int64
    /// Where to start scanning (from an index lookup; 0 when unknown).
    let startPosition: Int64

    var scanner: BatchScanner { BatchScanner(file: file, limit: size) }
}

extension PartitionLog {
    /// Reads whole batches starting at the batch containing `offset`, up to `maxBytes`, never including a batch
    /// with an offset at or past `maxOffset` (exclusive; default and cap: the log end offset).
    ///
    /// Served from the shared `ReadCache` when it holds the batch containing `offset` (tail reads after an append):
    /// `.memory` chunks sharing the cache's buffers (no copy), possibly spanning segments, ending at the first
    /// uncached batch. With `minOneBatch == false` a cached first batch larger than `maxBytes` falls through to disk.
    ///
    /// Otherwise zero-copy from disk: returns one `.file` slice of a segment. The start is found by an offset-index lookup under the
    /// lock, then a forward scan of 61-byte batch headers read with `pread` outside it. When the rest of the segment
    /// fits in `maxBytes` it is returned without scanning further; otherwise batch headers are walked to end the
    /// slice on a batch boundary. Like Kafka, one read returns data of one segment. The slice is then offered to
    /// the cache's background read-back (`ReadCache.offerColdRead`), which admits batches read before recently
    /// and only remembers the others; the offer never blocks and never reads on the caller's thread.
    /// - Parameter minOneBatch: return the first batch whole even if it is larger than `maxBytes` (KIP-74).
    /// - Returns: an empty result when `offset == logEndOffset`.
    /// - Throws: `.offsetOutOfRange` if offset < logStartOffset or > logEndOffset; `.io`; `.logClosed`.
    public func read(from offset: Int64, maxBytes: Int, minOneBatch: Bool = true, maxOffset: Int64? = nil)
        throws(StorageError) -> LogReadResult
    {
        let (views, startOffset, endOffset, cached, ticket) = try state.withLock {
            (state) throws(StorageError) -> ([SegmentReadView], Int64, Int64, CachedBatches?, CacheTicket?) in
            guard !state.isClosed else { throw .logClosed(topicPartition) }
            let end = state.logEndOffset
            guard offset >= state.logStartOffset, offset <= end else {
                throw .offsetOutOfRange(requested: offset, logStartOffset: state.logStartOffset, logEndOffset: end)
            }
            if offset == end { return ([], state.logStartOffset, end, nil, nil) }
            // The cache is consulted under the log's lock: what it holds is then exactly this snapshot's bytes
            // (appends insert and every removal path invalidates under the same lock). A hit takes no disk views;
            // a miss's ticket dates this snapshot for the read-back.
            let limit = min(maxOffset ?? end, end)
            var ticket: CacheTicket? = nil
            if offset < limit {
                switch readCache.lookup(topicPartition, from: offset, maxBytes: maxBytes, maxOffset: limit) {
                case let .hit(hit):
                    if let first = hit.chunks.first, minOneBatch || first.readableBytes <= maxBytes {
                        return ([], state.logStartOffset, end, hit, nil)
                    }
                case let .miss(missTicket):
                    ticket = missTicket
                }
            }
            return (Self.views(state, from: offset), state.logStartOffset, end, nil, ticket)
        }
        if let cached {
            return LogReadResult(
                chunks: cached.chunks.map { .memory($0) }, highWatermark: endOffset, logStartOffset: startOffset,
                logEndOffset: endOffset, nextOffset: cached.nextOffset)
        }
        let limitOffset = min(maxOffset ?? endOffset, endOffset)
        var chunks: [ReadChunk] = []
        var nextOffset = offset
        if offset < limitOffset {
            for view in views {
                guard let found = try view.scanner.batch(containing: offset, from: view.startPosition) else { continue }
                if let (slice, next) = try Self.slice(
                    of: view, from: found, maxBytes: maxBytes, minOneBatch: minOneBatch, limitOffset: limitOffset)
                {
                    chunks.append(.file(slice))
                    nextOffset = next
                    if let ticket, readCache.isEnabled {
                        readCache.offerColdRead(topicPartition, slice: slice, ticket: ticket)
                    }
                }
                break
            }
        }
        return LogReadResult(
            chunks: chunks, highWatermark: endOffset, logStartOffset: startOffset, logEndOffset: endOffset,
            nextOffset: nextOffset)
    }

    /// The first record with timestamp ≥ `timestamp` (ms) and offset ≥ logStartOffset, with its timestamp; nil if
    /// none (ListOffsets by time). Time index → offset index → header scan; the candidate batch's records are
    /// walked for the exact record (see `RecordTimestamps` for compressed batches).
    public func offsetForTimestamp(_ timestamp: Int64) throws(StorageError) -> (offset: Int64, timestamp: Int64)? {
        let (views, startOffset) = try state.withLock {
            (state) throws(StorageError) -> ([SegmentReadView], Int64) in
            guard !state.isClosed else { throw .logClosed(topicPartition) }
            guard let first = state.segments.firstIndex(where: { $0.maxTimestampSoFar >= timestamp }) else {
                return ([], state.logStartOffset)
            }
            var views: [SegmentReadView] = []
            for index in first..<state.segments.count
            where index == first || state.segments[index].maxTimestampSoFar >= timestamp {
                let segment = state.segments[index]
                var position: Int64 = 0
                if index == first {
                    let entry = segment.timeIndex.lookup(timestamp)
                    position = segment.offsetIndex.lookup(max(entry.offset, state.logStartOffset)).position
                }
                views.append(Self.view(of: segment, startPosition: position))
            }
            return (views, state.logStartOffset)
        }
        for view in views {
            let scanner = view.scanner
            var position = view.startPosition
            while let header = try scanner.header(at: position) {
                if header.maxTimestamp >= timestamp && header.lastOffset >= startOffset {
                    let bytes = try scanner.batchBytes(at: position, header: header)
                    if let found = RecordTimestamps.firstRecord(
                        in: bytes, header: header, atOrAfter: timestamp, minOffset: startOffset)
                    {
                        return found
                    }
                }
                position += Int64(header.sizeInBytes)
            }
        }
        return nil
    }

    /// Offset and timestamp of the first record with the largest timestamp (ListOffsets MAX_TIMESTAMP, -3); nil when
    /// the log has no records with a timestamp.
    public func offsetOfMaxTimestamp() throws(StorageError) -> (offset: Int64, timestamp: Int64)? {
        let candidate = try state.withLock { (state) throws(StorageError) -> (SegmentReadView, Int64, Int64)? in
            guard !state.isClosed else { throw .logClosed(topicPartition) }
            var best: LogSegment? = nil
            for segment in state.segments where segment.size > 0 {
                if segment.maxTimestampSoFar >= 0, segment.maxTimestampSoFar > (best?.maxTimestampSoFar ?? -1) {
                    best = segment
                }
            }
            guard let best else { return nil }
            let position = best.offsetIndex.lookup(best.offsetOfMaxTimestampSoFar).position
            return (Self.view(of: best, startPosition: position), best.offsetOfMaxTimestampSoFar, best.maxTimestampSoFar)
        }
        guard let (view, offset, timestamp) = candidate else { return nil }
        guard let found = try view.scanner.batch(containing: offset, from: view.startPosition) else {
            return (offset, timestamp)
        }
        let bytes = try view.scanner.batchBytes(at: found.position, header: found.header)
        return RecordTimestamps.recordWithMaxTimestamp(in: bytes, header: found.header)
    }

    // MARK: - Helpers

    /// Views of the segment holding `offset` (start position from its offset index) and of all later segments.
    static func views(_ state: State, from offset: Int64) -> [SegmentReadView] {
        let first = state.segmentIndex(containing: offset)
        var views: [SegmentReadView] = []
        for index in first..<state.segments.count {
            let segment = state.segments[index]
            let position = index == first ? segment.offsetIndex.lookup(offset).position : 0
            views.append(view(of: segment, startPosition: position))
        }
        return views
    }

    static func view(of segment: LogSegment, startPosition: Int64) -> SegmentReadView {
        SegmentReadView(
            file: segment.log, baseOffset: segment.baseOffset, size: segment.size, nextOffset: segment.nextOffset,
            startPosition: startPosition)
    }

    /// The slice of whole batches starting with `found`, within `maxBytes` and below `limitOffset`, and the offset
    /// to continue from (after its last batch; the segment's next offset when the slice runs to its end).
    static func slice(
        of view: SegmentReadView, from found: (position: Int64, header: RecordBatchHeader), maxBytes: Int,
        minOneBatch: Bool, limitOffset: Int64
    ) throws(StorageError) -> (FileSlice, nextOffset: Int64)? {
        let start = found.position
        guard found.header.lastOffset < limitOffset else { return nil }
        // Fast path: everything to the end of the segment fits and is below the limit: no further scanning.
        if view.nextOffset <= limitOffset && view.size - start <= Int64(max(0, maxBytes)) {
            let next = max(view.nextOffset, found.header.nextOffset)
            return (FileSlice(file: view.file, position: start, length: Int(view.size - start)), next)
        }
        var end = start + Int64(found.header.sizeInBytes)
        var next = found.header.nextOffset
        if end - start > Int64(maxBytes) && !minOneBatch { return nil }
        let scanner = view.scanner
        while let header = try scanner.header(at: end) {
            guard header.lastOffset < limitOffset, end + Int64(header.sizeInBytes) - start <= Int64(maxBytes) else { break }
            end += Int64(header.sizeInBytes)
            next = header.nextOffset
        }
        return (FileSlice(file: view.file, position: start, length: Int(end - start)), next)
    }
}
