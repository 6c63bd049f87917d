import NIOCore
import RunnelRecords

/// Batches checked and copied for an append, ready for offset assignment.
struct PreparedAppend {
    /// A private copy of the batches (LOG_APPEND_TIME already stamped), so offsets can be patched in place.
    var buffer: ByteBuffer
    /// Start index (in `buffer`) and header of each batch.
    var batches: [(index: Int, header: RecordBatchHeader)]
    /// Total bytes.
    var size: Int { buffer.readableBytes }
}

/// The header-only produce checks of KAFKA-FORMATS §2.9 (steps 1–6 and 8 that need no record decoding), and the
/// LOG_APPEND_TIME rewrite. Pure: touches no file.
enum AppendValidator {
    /// Validates every batch in `batches` and returns a copy ready for offset assignment.
    ///
    /// Per batch, in Kafka's order: magic 2 and a legal length; size ≤ `max.message.bytes`
    /// (`messageTooLarge`); whole batch present and CRC-32C OK; `lastOffsetDelta + 1 == recordsCount > 0`; for
    /// client appends: baseOffset 0, no control batch, no producerId without a baseSequence. Then the whole append
    /// ≤ `segment.bytes` (`recordListTooLarge`). For LOG_APPEND_TIME topics `maxTimestamp := now`, the timestamp-type
    /// bit is set and the CRC recomputed: the only case where the broker rewrites CRC-covered bytes.
    /// - Throws: `StorageError.invalidBatch`, `.messageTooLarge`, `.recordListTooLarge`.
    static func prepare(_ batches: ByteBuffer, config: LogConfig, origin: AppendOrigin, now: Int64)
        throws(StorageError) -> PreparedAppend
    {
        guard batches.readableBytes > 0 else { throw .invalidBatch(.truncated(needed: RecordBatchHeader.size, available: 0)) }
        var copy = ByteBufferAllocator().buffer(capacity: batches.readableBytes)
        copy.writeImmutableBuffer(batches)
        var found: [(index: Int, header: RecordBatchHeader)] = []
        var index = copy.readerIndex
        while index < copy.writerIndex {
            let parsed: RecordBatchHeader
            do { parsed = try RecordBatchHeader(parsing: copy, at: index) } catch { throw .invalidBatch(error) }
            if parsed.sizeInBytes > config.maxMessageBytes {
                throw .messageTooLarge(size: parsed.sizeInBytes, limit: config.maxMessageBytes)
            }
            var header: RecordBatchHeader
            do { header = try RecordBatchHeader.validated(in: copy, at: index) } catch { throw .invalidBatch(error) }
            guard header.recordsCount > 0, Int64(header.lastOffsetDelta) + 1 == Int64(header.recordsCount) else {
                throw .invalidBatch(.countMismatch(declared: Int(header.recordsCount), found: Int(header.lastOffsetDelta) + 1))
            }
            if origin == .client {
                guard header.baseOffset == 0 else {
                    throw .invalidBatch(.invalidRecord("client batch has baseOffset \(header.baseOffset), expected 0"))
                }
                guard !header.attributes.isControl else {
                    throw .invalidBatch(.invalidRecord("control batches may not be produced by clients"))
                }
                guard !(header.producerId >= 0 && header.baseSequence < 0) else {
                    throw .invalidBatch(.invalidRecord("producerId \(header.producerId) without a baseSequence"))
                }
            }
            guard header.attributes.compression != nil else {
                throw .invalidBatch(.unknownCompression(header.attributes.compressionId))
            }
            if origin == .client {
                // Kafka's remaining produce checks (§2.9 steps 5–7) on the CRC-checked bytes: header rules always,
                // record rules (keys for compacted topics, timestamp bounds) decoding only when one applies.
                try validateRecords(copy, at: index, header: header, config: config, now: now)
            }
            if config.messageTimestampType == .logAppendTime {
                stampLogAppendTime(&copy, at: index, header: &header, now: now)
            }
            found.append((index, header))
            index += header.sizeInBytes
        }
        if copy.readableBytes > config.segmentBytes {
            throw .recordListTooLarge(size: copy.readableBytes, limit: config.segmentBytes)
        }
        return PreparedAppend(buffer: copy, batches: found)
    }

    /// Runs `RecordBatchValidator` over the (already CRC-checked) batch at `index`, with the record-level rules the
    /// topic's config asks for. The batch is a slice of `buffer`: nothing is copied, and records are decompressed
    /// only when a record rule applies.
    /// - Throws: `StorageError.invalidBatch` (INVALID_RECORD or INVALID_TIMESTAMP at the Kafka boundary).
    private static func validateRecords(
        _ buffer: ByteBuffer, at index: Int, header: RecordBatchHeader, config: LogConfig, now: Int64
    ) throws(StorageError) {
        var options = RecordBatchValidator.Options()
        options.requireKeys = config.cleanupPolicy.compacts
        if config.messageTimestampType == .createTime,
            config.messageTimestampBeforeMaxMs != Int64.max || config.messageTimestampAfterMaxMs != Int64.max
        {
            let low = now.subtractingReportingOverflow(config.messageTimestampBeforeMaxMs)
            let high = now.addingReportingOverflow(config.messageTimestampAfterMaxMs)
            options.timestampBounds =
                (low.overflow ? Int64.min : low.partialValue)...(high.overflow ? Int64.max : high.partialValue)
        }
        guard let bytes = buffer.getSlice(at: index, length: header.sizeInBytes) else {
            throw .invalidBatch(.truncated(needed: header.sizeInBytes, available: buffer.writerIndex - index))
        }
        do {
            _ = try RecordBatchValidator.validateForProduce(RecordBatch(header: header, bytes: bytes), options: options)
        } catch {
            throw .invalidBatch(error)
        }
    }

    /// Validates batches that already carry their offsets (follower/recovery style): CRC and monotonic offsets
    /// starting at or above `logEndOffset`.
    static func prepareWithOffsets(_ batches: ByteBuffer, logEndOffset: Int64) throws(StorageError) -> PreparedAppend {
        guard batches.readableBytes > 0 else { throw .invalidBatch(.truncated(needed: RecordBatchHeader.size, available: 0)) }
        var copy = ByteBufferAllocator().buffer(capacity: batches.readableBytes)
        copy.writeImmutableBuffer(batches)
        var found: [(index: Int, header: RecordBatchHeader)] = []
        var index = copy.readerIndex
        var expected = logEndOffset
        while index < copy.writerIndex {
            let header: RecordBatchHeader
            do { header = try RecordBatchHeader.validated(in: copy, at: index) } catch { throw .invalidBatch(error) }
            guard header.baseOffset >= expected else {
                throw .nonMonotonicOffsets(expectedAtLeast: expected, found: header.baseOffset)
            }
            expected = header.nextOffset
            found.append((index, header))
            index += header.sizeInBytes
        }
        return PreparedAppend(buffer: copy, batches: found)
    }

    /// Sets maxTimestamp = `now` and the LOG_APPEND_TIME bit, recomputing the CRC (Kafka skips the rewrite when
    /// neither changes).
    private static func stampLogAppendTime(
        _ buffer: inout ByteBuffer, at index: Int, header: inout RecordBatchHeader, now: Int64
    ) {
        let attributes = header.attributes.rawValue | 0x08
        guard header.maxTimestamp != now || attributes != header.attributes.rawValue else { return }
        buffer.setInteger(attributes, at: index + RecordBatchHeader.attributesOffset)
        buffer.setInteger(now, at: index + RecordBatchHeader.maxTimestampOffset)
        let covered = header.sizeInBytes - RecordBatchHeader.attributesOffset
        // The range was just validated as readable, so the checksum cannot be nil.
        let crc = CRC32C.checksum(of: buffer, at: index + RecordBatchHeader.attributesOffset, length: covered) ?? 0
        buffer.setInteger(crc, at: index + RecordBatchHeader.crcOffset)
        header.attributes = RecordBatchAttributes(rawValue: attributes)
        header.maxTimestamp = now
        header.crc = crc
    }
}
