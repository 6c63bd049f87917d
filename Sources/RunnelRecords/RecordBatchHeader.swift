public import NIOCore

/// The fixed 61-byte header of a Kafka record batch v2 (magic 2), all fields big-endian.
///
/// | off | size | field | in CRC |
/// |---|---|---|---|
/// | 0 | 8 | baseOffset int64 (rewritten by the broker on append) | no |
/// | 8 | 4 | batchLength int32 = batch size − 12 | no |
/// | 12 | 4 | partitionLeaderEpoch int32 | no |
/// | 16 | 1 | magic int8 = 2 | no |
/// | 17 | 4 | crc uint32: CRC-32C of bytes [21, end) | — |
/// | 21 | 2 | attributes int16 | yes |
/// | 23 | 4 | lastOffsetDelta int32 | yes |
/// | 27 | 8 | baseTimestamp int64 (ms since the epoch, or the delete horizon) | yes |
/// | 35 | 8 | maxTimestamp int64 (ms) | yes |
/// | 43 | 8 | producerId int64 (-1 none) | yes |
/// | 51 | 2 | producerEpoch int16 | yes |
/// | 53 | 4 | baseSequence int32 | yes |
/// | 57 | 4 | recordsCount int32 | yes |
///
/// Because `baseOffset` and `partitionLeaderEpoch` lie outside the CRC, the broker patches them in place
/// without recomputing the checksum.
public struct RecordBatchHeader: Sendable, Hashable {
    /// Bytes in the header (`RECORD_BATCH_OVERHEAD`).
    public static let size = 61
    /// Bytes before the part counted by `batchLength`: baseOffset + batchLength (`LOG_OVERHEAD`).
    public static let logOverhead = 12
    /// The smallest legal `batchLength` of a v2 batch (an empty batch: 61 − 12).
    public static let minimumBatchLength: Int32 = 49
    /// Byte offsets of the fields, for in-place patches.
    public static let baseOffsetOffset = 0
    public static let batchLengthOffset = 8
    public static let partitionLeaderEpochOffset = 12
    public static let magicOffset = 16
    public static let crcOffset = 17
    public static let attributesOffset = 21
    public static let maxTimestampOffset = 35

    public var baseOffset: Int64
    public var batchLength: Int32
    public var partitionLeaderEpoch: Int32
    public var magic: Int8
    public var crc: UInt32
    public var attributes: RecordBatchAttributes
    public var lastOffsetDelta: Int32
    public var baseTimestamp: Int64
    public var maxTimestamp: Int64
    public var producerId: Int64
    public var producerEpoch: Int16
    public var baseSequence: Int32
    public var recordsCount: Int32

    public init(
        baseOffset: Int64, batchLength: Int32, partitionLeaderEpoch: Int32 = -1, magic: Int8 = 2, crc: UInt32 = 0,
        attributes: RecordBatchAttributes = .init(), lastOffsetDelta: Int32, baseTimestamp: Int64,
        maxTimestamp: Int64, producerId: Int64 = -1, producerEpoch: Int16 = -1, baseSequence: Int32 = -1,
        recordsCount: Int32
    ) {
        self.baseOffset = baseOffset
        self.batchLength = batchLength
        self.partitionLeaderEpoch = partitionLeaderEpoch
        self.magic = magic
        self.crc = crc
        self.attributes = attributes
        self.lastOffsetDelta = lastOffsetDelta
        self.baseTimestamp = baseTimestamp
        self.maxTimestamp = maxTimestamp
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
        self.recordsCount = recordsCount
    }

    /// Total bytes of the batch, header included.
    public var sizeInBytes: Int { Int(batchLength) + Self.logOverhead }
    /// The offset of the last record (kept even when compaction removed that record).
    public var lastOffset: Int64 { baseOffset + Int64(lastOffsetDelta) }
    /// The offset after this batch.
    public var nextOffset: Int64 { lastOffset + 1 }
    public var hasProducerId: Bool { producerId > -1 }

    /// Parses the header at `index` (an absolute index into `buffer`'s storage, within its readable bytes).
    /// Checks only what the header alone can prove: enough bytes for a header, magic 2, a legal length.
    /// It does not check that the whole batch is present nor the CRC: use `validated(in:at:)` for that.
    /// - Throws: `RecordsError.truncated`, `.unsupportedMagic`, `.invalidBatchLength`.
    public init(parsing buffer: ByteBuffer, at index: Int) throws(RecordsError) {
        let available = buffer.writerIndex - index
        guard index >= buffer.readerIndex, available >= Self.magicOffset + 1 else {
            throw .truncated(needed: Self.magicOffset + 1, available: max(0, available))
        }
        // Magic sits at byte 16 in every format: read it before trusting anything else.
        let magic = buffer.getInteger(at: index + Self.magicOffset, as: Int8.self) ?? -1
        guard magic == 2 else { throw .unsupportedMagic(magic) }
        guard available >= Self.size,
            let baseOffset = buffer.getInteger(at: index, as: Int64.self),
            let batchLength = buffer.getInteger(at: index + 8, as: Int32.self),
            let epoch = buffer.getInteger(at: index + 12, as: Int32.self),
            let crc = buffer.getInteger(at: index + 17, as: UInt32.self),
            let attributes = buffer.getInteger(at: index + 21, as: Int16.self),
            let lastOffsetDelta = buffer.getInteger(at: index + 23, as: Int32.self),
            let baseTimestamp = buffer.getInteger(at: index + 27, as: Int64.self),
            let maxTimestamp = buffer.getInteger(at: index + 35, as: Int64.self),
            let producerId = buffer.getInteger(at: index + 43, as: Int64.self),
            let producerEpoch = buffer.getInteger(at: index + 51, as: Int16.self),
            let baseSequence = buffer.getInteger(at: index + 53, as: Int32.self),
            let recordsCount = buffer.getInteger(at: index + 57, as: Int32.self)
        else { throw .truncated(needed: Self.size, available: available) }
        guard batchLength >= Self.minimumBatchLength else { throw .invalidBatchLength(batchLength) }
        self.init(
            baseOffset: baseOffset, batchLength: batchLength, partitionLeaderEpoch: epoch, magic: magic, crc: crc,
            attributes: RecordBatchAttributes(rawValue: attributes), lastOffsetDelta: lastOffsetDelta,
            baseTimestamp: baseTimestamp, maxTimestamp: maxTimestamp, producerId: producerId,
            producerEpoch: producerEpoch, baseSequence: baseSequence, recordsCount: recordsCount)
    }

    /// Parses and fully checks the batch at `index`: header as in `init(parsing:at:)`, the whole batch present,
    /// `lastOffsetDelta` non-negative, and the CRC-32C over bytes [21, end) equal to the stored one.
    /// Reads the batch's bytes once (for the CRC); never copies them.
    /// - Throws: `RecordsError.truncated` (batch extends past the readable bytes), `.unsupportedMagic`,
    ///   `.invalidBatchLength`, `.crcMismatch`, `.invalidRecord` (negative lastOffsetDelta).
    public static func validated(in buffer: ByteBuffer, at index: Int) throws(RecordsError) -> RecordBatchHeader {
        let header = try RecordBatchHeader(parsing: buffer, at: index)
        let available = buffer.writerIndex - index
        guard header.sizeInBytes <= available else {
            throw .truncated(needed: header.sizeInBytes, available: available)
        }
        guard header.lastOffsetDelta >= 0 else { throw .invalidRecord("negative lastOffsetDelta") }
        let covered = header.sizeInBytes - Self.attributesOffset
        guard let actual = CRC32C.checksum(of: buffer, at: index + Self.attributesOffset, length: covered) else {
            throw .truncated(needed: header.sizeInBytes, available: available)
        }
        guard actual == header.crc else { throw .crcMismatch(expected: header.crc, actual: actual) }
        return header
    }

    /// Writes the 61 header bytes at the buffer's writer index (the `crc` field as stored in `self`).
    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(baseOffset)
        buffer.writeInteger(batchLength)
        buffer.writeInteger(partitionLeaderEpoch)
        buffer.writeInteger(magic)
        buffer.writeInteger(crc)
        buffer.writeInteger(attributes.rawValue)
        buffer.writeInteger(lastOffsetDelta)
        buffer.writeInteger(baseTimestamp)
        buffer.writeInteger(maxTimestamp)
        buffer.writeInteger(producerId)
        buffer.writeInteger(producerEpoch)
        buffer.writeInteger(baseSequence)
        buffer.writeInteger(recordsCount)
    }
}

extension ByteBuffer {
    /// Overwrites the `baseOffset` of the batch at `index` (not covered by the CRC, so the batch stays valid).
    public mutating func setBatchBaseOffset(_ baseOffset: Int64, at index: Int) {
        setInteger(baseOffset, at: index + RecordBatchHeader.baseOffsetOffset)
    }

    /// Overwrites the `partitionLeaderEpoch` of the batch at `index` (not covered by the CRC).
    public mutating func setBatchPartitionLeaderEpoch(_ epoch: Int32, at index: Int) {
        setInteger(epoch, at: index + RecordBatchHeader.partitionLeaderEpochOffset)
    }
}
