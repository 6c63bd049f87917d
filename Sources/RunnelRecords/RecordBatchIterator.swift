public import NIOCore

/// Walks the concatenated record batches in a buffer (a partition's data, on disk or in a Produce/Fetch `records`
/// field), yielding each as a `RecordBatch` whose bytes are a slice of the buffer: nothing is copied.
///
/// It stops cleanly (returns nil) at the end of the readable bytes and at a partial trailing batch (fewer bytes
/// than its header or its `batchLength` needs, as Kafka's `FileLogInputStream` does); `trailingBytes` then says how
/// many bytes were left. Corruption that a header alone proves (a magic other than 2, a `batchLength` < 49, a CRC
/// mismatch when `verifyCRC`) throws, with `position` left at the start of the offending batch.
///
/// ```swift
/// var batches = RecordBatchIterator(buffer, verifyCRC: true)
/// while let batch = try batches.next() { ... batch.header.lastOffset ... }
/// if batches.trailingBytes > 0 { /* torn write: truncate at batches.position */ }
/// ```
public struct RecordBatchIterator: Sendable {
    private let buffer: ByteBuffer
    /// Whether `next()` checks each batch's CRC-32C (reads every byte once).
    public let verifyCRC: Bool
    /// Absolute index (in `buffer`'s storage indices) of the next batch to read. After `next()` returned nil or
    /// threw, the start of the partial or offending batch (or the writer index at the clean end).
    public private(set) var position: Int

    /// - Parameters:
    ///   - buffer: batches start at its reader index and end at its writer index.
    ///   - verifyCRC: check each batch's CRC (`RecordsError.crcMismatch`).
    public init(_ buffer: ByteBuffer, verifyCRC: Bool = false) {
        self.buffer = buffer
        self.verifyCRC = verifyCRC
        self.position = buffer.readerIndex
    }

    /// Bytes from `position` to the end of the buffer: after `next()` returned nil, the size of the partial
    /// trailing batch (0 when the buffer ended exactly on a batch boundary).
    public var trailingBytes: Int { buffer.writerIndex - position }

    /// Bytes of whole batches returned so far.
    public var consumedBytes: Int { position - buffer.readerIndex }

    /// The next whole batch, or nil at the end or at a partial trailing batch.
    /// - Throws: `.unsupportedMagic`, `.invalidBatchLength`, `.crcMismatch` (with `verifyCRC`), `.invalidRecord`
    ///   (negative lastOffsetDelta, with `verifyCRC`).
    public mutating func next() throws(RecordsError) -> RecordBatch? {
        let available = buffer.writerIndex - position
        guard available > RecordBatchHeader.magicOffset else { return nil }
        let header: RecordBatchHeader
        do {
            header = try RecordBatchHeader(parsing: buffer, at: position)
        } catch .truncated {
            return nil  // magic 2 but the 61-byte header is not all there yet
        }
        guard header.sizeInBytes <= available else { return nil }
        if verifyCRC {
            _ = try RecordBatchHeader.validated(in: buffer, at: position)
        }
        // In range: position + sizeInBytes <= writerIndex was checked above.
        guard let slice = buffer.getSlice(at: position, length: header.sizeInBytes) else { return nil }
        position += header.sizeInBytes
        return RecordBatch(header: header, bytes: slice)
    }

    /// All whole batches up to the end or a partial trailing batch.
    public mutating func collect() throws(RecordsError) -> [RecordBatch] {
        var batches: [RecordBatch] = []
        while let batch = try next() { batches.append(batch) }
        return batches
    }
}
