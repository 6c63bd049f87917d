public import NIOCore

/// Builds one complete record batch v2 (KAFKA-FORMATS §2): the 61-byte header, the records (compressed when asked)
/// and a correct CRC-32C, into a single `ByteBuffer`.
///
/// Records are encoded straight into one buffer as they are appended: each record's length is computed before it
/// is written, so nothing is patched per record and no per-record allocation happens (keys and values are copied
/// once, from the caller's bytes into the batch). With compression, records go to a scratch buffer that is
/// compressed once in `build()`.
///
/// Header fields follow Kafka's `MemoryRecordsBuilder`: `baseTimestamp` is the first record's timestamp (or the
/// delete horizon), `maxTimestamp` the largest record timestamp (or the log-append time), `lastOffsetDelta` the
/// last record's offset delta.
///
/// ```swift
/// var builder = RecordBatchBuilder(compression: .lz4)
/// builder.append(timestamp: now, key: Array("k".utf8), value: Array("v".utf8))
/// let batch: ByteBuffer = try builder.build()
/// ```
public struct RecordBatchBuilder: Sendable {
    public let baseOffset: Int64
    public let compression: CompressionCodec
    public let compressionLevel: Int?
    public let producerId: Int64
    public let producerEpoch: Int16
    public let baseSequence: Int32
    public let partitionLeaderEpoch: Int32
    public let attributes: RecordBatchAttributes
    /// For LOG_APPEND_TIME batches: the append time in ms, stored as `maxTimestamp`.
    public let logAppendTime: Int64?
    /// When set, `baseTimestamp` holds this compaction delete horizon (ms) and attribute bit 6 is set.
    public let deleteHorizonMs: Int64?

    /// Number of records appended so far.
    public private(set) var recordCount: Int = 0
    /// Offset delta of the last appended record (-1 before the first).
    public private(set) var lastOffsetDelta: Int32 = -1
    /// The batch's base timestamp (ms): the delete horizon, else the first record's timestamp, else -1.
    public private(set) var baseTimestamp: Int64
    /// Largest record timestamp appended so far (ms), -1 before the first.
    public private(set) var maxRecordTimestamp: Int64 = -1

    /// The batch being built: header placeholder then (uncompressed) records.
    private var buffer: ByteBuffer
    /// Uncompressed records when `compression != .none`.
    private var records: ByteBuffer

    /// - Parameters:
    ///   - baseOffset: written as-is (producers send 0; the broker rewrites it).
    ///   - compression: codec for the records part; `compressionLevel` nil = the codec's default.
    ///   - producerId, producerEpoch, baseSequence: idempotence fields (-1 = none).
    ///   - isTransactional, isControl: attribute bits 4 and 5.
    ///   - logAppendTime: make a LOG_APPEND_TIME batch whose `maxTimestamp` is this time (ms).
    ///   - deleteHorizonMs: compaction delete horizon (ms) stored in `baseTimestamp` (attribute bit 6).
    ///   - partitionLeaderEpoch: -1 as Java clients send.
    ///   - initialCapacity: bytes to reserve up front (avoid regrowth by passing the expected batch size).
    public init(
        baseOffset: Int64 = 0, compression: CompressionCodec = .none, compressionLevel: Int? = nil,
        producerId: Int64 = -1, producerEpoch: Int16 = -1, baseSequence: Int32 = -1,
        isTransactional: Bool = false, isControl: Bool = false, logAppendTime: Int64? = nil,
        deleteHorizonMs: Int64? = nil, partitionLeaderEpoch: Int32 = -1, initialCapacity: Int = 4096
    ) {
        self.baseOffset = baseOffset
        self.compression = compression
        self.compressionLevel = compressionLevel
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
        self.partitionLeaderEpoch = partitionLeaderEpoch
        self.logAppendTime = logAppendTime
        self.deleteHorizonMs = deleteHorizonMs
        self.baseTimestamp = deleteHorizonMs ?? -1
        self.attributes = RecordBatchAttributes(
            compression: compression, logAppendTime: logAppendTime != nil, isTransactional: isTransactional,
            isControl: isControl, hasDeleteHorizon: deleteHorizonMs != nil)
        let allocator = ByteBufferAllocator()
        let capacity = max(RecordBatchHeader.size, initialCapacity)
        if compression == .none {
            self.buffer = allocator.buffer(capacity: capacity)
            self.records = allocator.buffer(capacity: 0)
        } else {
            self.buffer = allocator.buffer(capacity: RecordBatchHeader.size)
            self.records = allocator.buffer(capacity: capacity)
        }
        // Placeholder header; `build()` overwrites all 61 bytes.
        self.buffer.writeRepeatingByte(0, count: RecordBatchHeader.size)
    }

    /// Bytes of the batch so far, uncompressed (header included): an upper bound for size checks.
    public var uncompressedSizeInBytes: Int {
        compression == .none ? buffer.readableBytes : RecordBatchHeader.size + records.readableBytes
    }

    // MARK: - Appending

    /// Appends a record at the next offset delta (0 for the first record, then last + 1).
    /// - Parameter timestamp: ms since the epoch (-1 = none).
    public mutating func append(
        timestamp: Int64, key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader] = []
    ) {
        appendRecord(offsetDelta: lastOffsetDelta &+ 1, timestamp: timestamp, key: key, value: value, headers: headers)
    }

    /// Appends a record at the next offset delta, copying the readable bytes of `key` and `value`.
    public mutating func append(
        timestamp: Int64, key: ByteBuffer?, value: ByteBuffer?, headers: [RecordHeader] = []
    ) {
        appendRecord(offsetDelta: lastOffsetDelta &+ 1, timestamp: timestamp, key: key, value: value, headers: headers)
    }

    /// Appends a record with an explicit offset delta (for rewriting batches with gaps, as compaction does).
    /// - Precondition: `offsetDelta` is greater than the previous record's.
    public mutating func append(
        offsetDelta: Int32, timestamp: Int64, key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader] = []
    ) {
        precondition(offsetDelta > lastOffsetDelta, "offset deltas must increase")
        appendRecord(offsetDelta: offsetDelta, timestamp: timestamp, key: key, value: value, headers: headers)
    }

    /// Appends a record with an explicit offset delta, copying the readable bytes of `key` and `value`.
    /// - Precondition: `offsetDelta` is greater than the previous record's.
    public mutating func append(
        offsetDelta: Int32, timestamp: Int64, key: ByteBuffer?, value: ByteBuffer?, headers: [RecordHeader] = []
    ) {
        precondition(offsetDelta > lastOffsetDelta, "offset deltas must increase")
        appendRecord(offsetDelta: offsetDelta, timestamp: timestamp, key: key, value: value, headers: headers)
    }

    /// Appends a decoded record at `offsetDelta` (default: the next one) with its absolute `timestamp`.
    /// - Precondition: `offsetDelta` is greater than the previous record's.
    public mutating func append(_ record: Record, offsetDelta: Int32? = nil, timestamp: Int64) {
        let delta = offsetDelta ?? (lastOffsetDelta &+ 1)
        precondition(delta > lastOffsetDelta, "offset deltas must increase")
        appendRecord(
            offsetDelta: delta, timestamp: timestamp, key: record.key, value: record.value, headers: record.headers,
            attributes: record.attributes)
    }

    private mutating func appendRecord<Key: RecordBytes, Value: RecordBytes>(
        offsetDelta: Int32, timestamp: Int64, key: Key?, value: Value?, headers: [RecordHeader],
        attributes: Int8 = 0
    ) {
        precondition(recordCount < Int32.max, "too many records for one batch")
        if recordCount == 0 && deleteHorizonMs == nil { baseTimestamp = timestamp }
        if timestamp > maxRecordTimestamp { maxRecordTimestamp = timestamp }
        let timestampDelta = timestamp &- baseTimestamp
        if compression == .none {
            Record.write(
                offsetDelta: offsetDelta, timestampDelta: timestampDelta, key: key, value: value, headers: headers,
                attributes: attributes, to: &buffer)
        } else {
            Record.write(
                offsetDelta: offsetDelta, timestampDelta: timestampDelta, key: key, value: value, headers: headers,
                attributes: attributes, to: &records)
        }
        lastOffsetDelta = offsetDelta
        recordCount += 1
    }

    // MARK: - Building

    /// The header the batch will carry (CRC 0 until `build()` computes it).
    public func header(batchLength: Int32) -> RecordBatchHeader {
        RecordBatchHeader(
            baseOffset: baseOffset, batchLength: batchLength, partitionLeaderEpoch: partitionLeaderEpoch, magic: 2,
            crc: 0, attributes: attributes, lastOffsetDelta: lastOffsetDelta, baseTimestamp: baseTimestamp,
            maxTimestamp: logAppendTime ?? maxRecordTimestamp, producerId: producerId, producerEpoch: producerEpoch,
            baseSequence: baseSequence, recordsCount: Int32(truncatingIfNeeded: recordCount))
    }

    /// Finishes the batch: compresses the records if needed, writes the header, computes the CRC.
    /// The returned buffer holds exactly the batch (readable bytes = batch size).
    /// - Throws: `RecordsError.invalidRecord` with no records appended (use `emptyBatch` for that),
    ///   `.invalidBatchLength` over 2 GiB, `.compressionFailed`.
    public consuming func build() throws(RecordsError) -> ByteBuffer {
        guard recordCount > 0 else { throw .invalidRecord("a batch needs at least one record") }
        if compression != .none {
            try compression.compress(records, level: compressionLevel, into: &buffer)
        }
        guard let batchLength = Int32(exactly: buffer.readableBytes - RecordBatchHeader.logOverhead) else {
            throw .invalidBatchLength(Int32.max)
        }
        header(batchLength: batchLength).write(to: &buffer, at: buffer.readerIndex)
        buffer.updateBatchCRC(at: buffer.readerIndex)
        return buffer
    }

    /// A batch with no records (KAFKA-FORMATS §2.6), as the log cleaner keeps to preserve producer state:
    /// `baseTimestamp` -1, codec none, size 61.
    public static func emptyBatch(
        baseOffset: Int64, lastOffsetDelta: Int32, maxTimestamp: Int64, producerId: Int64 = -1,
        producerEpoch: Int16 = -1, baseSequence: Int32 = -1, isTransactional: Bool = false,
        isControl: Bool = false, partitionLeaderEpoch: Int32 = -1
    ) -> ByteBuffer {
        let header = RecordBatchHeader(
            baseOffset: baseOffset, batchLength: RecordBatchHeader.minimumBatchLength,
            partitionLeaderEpoch: partitionLeaderEpoch, magic: 2, crc: 0,
            attributes: RecordBatchAttributes(isTransactional: isTransactional, isControl: isControl),
            lastOffsetDelta: lastOffsetDelta, baseTimestamp: -1, maxTimestamp: maxTimestamp, producerId: producerId,
            producerEpoch: producerEpoch, baseSequence: baseSequence, recordsCount: 0)
        var buffer = ByteBufferAllocator().buffer(capacity: RecordBatchHeader.size)
        header.write(to: &buffer)
        buffer.updateBatchCRC(at: buffer.readerIndex)
        return buffer
    }
}

extension RecordBatchHeader {
    /// Overwrites the 61 header bytes at `index` (which must already be written) with this header, CRC included.
    public func write(to buffer: inout ByteBuffer, at index: Int) {
        buffer.setInteger(baseOffset, at: index)
        buffer.setInteger(batchLength, at: index + 8)
        buffer.setInteger(partitionLeaderEpoch, at: index + 12)
        buffer.setInteger(magic, at: index + 16)
        buffer.setInteger(crc, at: index + 17)
        buffer.setInteger(attributes.rawValue, at: index + 21)
        buffer.setInteger(lastOffsetDelta, at: index + 23)
        buffer.setInteger(baseTimestamp, at: index + 27)
        buffer.setInteger(maxTimestamp, at: index + 35)
        buffer.setInteger(producerId, at: index + 43)
        buffer.setInteger(producerEpoch, at: index + 51)
        buffer.setInteger(baseSequence, at: index + 53)
        buffer.setInteger(recordsCount, at: index + 57)
    }
}

extension ByteBuffer {
    /// Recomputes and stores the CRC-32C of the batch at `index`, whose `batchLength` field must be correct and
    /// whose bytes must all be readable (for example after changing `maxTimestamp` or the attributes).
    /// - Precondition: the batch lies within the readable bytes.
    public mutating func updateBatchCRC(at index: Int) {
        guard let batchLength = getInteger(at: index + RecordBatchHeader.batchLengthOffset, as: Int32.self),
            let crc = CRC32C.checksum(
                of: self, at: index + RecordBatchHeader.attributesOffset,
                length: Int(batchLength) + RecordBatchHeader.logOverhead - RecordBatchHeader.attributesOffset)
        else { preconditionFailure("updateBatchCRC: the batch at \(index) is not within the readable bytes") }
        setInteger(crc, at: index + RecordBatchHeader.crcOffset)
    }
}
