public import NIOCore

/// One record batch v2: its parsed header and exactly its bytes (a slice sharing storage with the buffer it came
/// from: no copy). Records are decoded lazily, decompressing first when the batch is compressed.
///
/// The bytes are those of §2.1 (header, then the records or one compressed stream of them); `bytes.readerIndex`
/// is the batch start and `bytes.readableBytes == header.sizeInBytes`.
public struct RecordBatch: Sendable, Hashable {
    /// Default cap on decompressed bytes when a caller gives none: 64 MiB (far above Kafka's 1 MiB default
    /// `max.message.bytes`, far below what a hostile stream could inflate to).
    public static let defaultMaxDecompressedBytes = 64 * 1024 * 1024

    public let header: RecordBatchHeader
    /// Exactly the batch's bytes.
    public let bytes: ByteBuffer

    /// Parses and fully checks the readable bytes of `buffer` as exactly one batch (header, length, CRC).
    /// - Throws: everything `RecordBatchHeader.validated(in:at:)` throws; `.invalidRecord` if bytes follow the batch.
    public init(validating buffer: ByteBuffer) throws(RecordsError) {
        let header = try RecordBatchHeader.validated(in: buffer, at: buffer.readerIndex)
        guard header.sizeInBytes == buffer.readableBytes else {
            throw .invalidRecord("\(buffer.readableBytes - header.sizeInBytes) bytes follow the batch")
        }
        self.init(header: header, bytes: buffer)
    }

    /// Parses the header of the batch at the start of `buffer`'s readable bytes without checking the CRC, and
    /// takes a slice of exactly its bytes (bytes after it are ignored).
    /// - Throws: `.truncated` if the batch is not wholly present, `.unsupportedMagic`, `.invalidBatchLength`.
    public init(unverified buffer: ByteBuffer) throws(RecordsError) {
        let header = try RecordBatchHeader(parsing: buffer, at: buffer.readerIndex)
        guard let slice = buffer.getSlice(at: buffer.readerIndex, length: header.sizeInBytes) else {
            throw .truncated(needed: header.sizeInBytes, available: buffer.readableBytes)
        }
        self.init(header: header, bytes: slice)
    }

    /// Pairs a header with the batch's bytes.
    /// - Precondition: `bytes.readableBytes == header.sizeInBytes` (the caller parsed `header` from `bytes`).
    public init(header: RecordBatchHeader, bytes: ByteBuffer) {
        precondition(bytes.readableBytes == header.sizeInBytes, "batch bytes must match the header's size")
        self.header = header
        self.bytes = bytes
    }

    /// Whether the stored CRC matches the bytes it covers.
    public var hasValidCRC: Bool {
        CRC32C.checksum(
            of: bytes, at: bytes.readerIndex + RecordBatchHeader.attributesOffset,
            length: bytes.readableBytes - RecordBatchHeader.attributesOffset) == header.crc
    }

    /// The bytes after the header: the records, or one compressed stream of them (a slice, no copy).
    public var payload: ByteBuffer {
        // In range by the init precondition: readableBytes == sizeInBytes >= 61.
        bytes.getSlice(at: bytes.readerIndex + RecordBatchHeader.size, length: bytes.readableBytes - RecordBatchHeader.size)
            ?? ByteBuffer()
    }

    /// The batch's codec.
    /// - Throws: `.unknownCompression` for codec ids 5–7.
    public func compression() throws(RecordsError) -> CompressionCodec {
        guard let codec = header.attributes.compression else {
            throw .unknownCompression(header.attributes.compressionId)
        }
        return codec
    }

    /// The concatenated records: the payload itself when uncompressed, else the decompressed stream.
    /// - Throws: `.unknownCompression`, `.decompressedTooLarge`, `.compressionFailed`.
    public func decompressedPayload(maxDecompressedBytes: Int = defaultMaxDecompressedBytes) throws(RecordsError)
        -> ByteBuffer
    {
        try compression().decompress(payload, maxDecompressedBytes: maxDecompressedBytes)
    }

    /// An iterator over the records, decompressing the payload first (bounded by `maxDecompressedBytes`).
    /// - Throws: as `decompressedPayload(maxDecompressedBytes:)`; `.invalidRecord` for a negative recordsCount.
    public func makeRecordIterator(maxDecompressedBytes: Int = defaultMaxDecompressedBytes) throws(RecordsError)
        -> RecordIterator
    {
        guard header.recordsCount >= 0 else { throw .invalidRecord("negative recordsCount \(header.recordsCount)") }
        return RecordIterator(
            declaredCount: Int(header.recordsCount), payload: try decompressedPayload(maxDecompressedBytes: maxDecompressedBytes))
    }

    /// All records, checked as `RecordIterator` does (exact count, nothing trailing).
    public func records(maxDecompressedBytes: Int = defaultMaxDecompressedBytes) throws(RecordsError) -> [Record] {
        var iterator = try makeRecordIterator(maxDecompressedBytes: maxDecompressedBytes)
        var result: [Record] = []
        result.reserveCapacity(iterator.plausibleCount)
        while let record = try iterator.next() { result.append(record) }
        return result
    }
}
