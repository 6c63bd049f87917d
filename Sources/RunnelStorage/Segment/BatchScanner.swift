import NIOCore
import RunnelRecords

/// Walks the batch headers of a `.log` with `pread`s of 61 bytes: the header-only scan behind offset translation,
/// reads and `nextOffset` loading. It never touches batch payloads, and never looks at bytes at or past `limit`
/// (the size of whole batches taken under the log's lock), so a concurrent append cannot be observed half-written.
///
/// Thread-safety: a Sendable value; `pread` on the shared fd is safe from any thread.
struct BatchScanner: Sendable {
    let file: SegmentFileHandle
    /// End of the whole batches that may be read, in bytes.
    let limit: Int64

    /// The header of the batch starting at `position`, or nil when no whole batch starts there (end of data).
    /// - Throws: `StorageError.invalidBatch` for bytes that are not a v2 header, `.io` for read errors.
    func header(at position: Int64) throws(StorageError) -> RecordBatchHeader? {
        guard limit - position >= Int64(RecordBatchHeader.size) else { return nil }
        let bytes = try file.read(at: position, length: RecordBatchHeader.size)
        guard bytes.readableBytes == RecordBatchHeader.size else { return nil }
        let header: RecordBatchHeader
        do { header = try RecordBatchHeader(parsing: bytes, at: bytes.readerIndex) } catch { throw .invalidBatch(error) }
        guard position + Int64(header.sizeInBytes) <= limit else { return nil }
        return header
    }

    /// The first batch at or after `position` whose lastOffset ≥ `target` (Kafka's `translateOffset`).
    func batch(containing target: Int64, from position: Int64) throws(StorageError)
        -> (position: Int64, header: RecordBatchHeader)?
    {
        var current = position
        while let header = try header(at: current) {
            if header.lastOffset >= target { return (current, header) }
            current += Int64(header.sizeInBytes)
        }
        return nil
    }

    /// The whole batch at `position` (header included) as read from disk.
    func batchBytes(at position: Int64, header: RecordBatchHeader) throws(StorageError) -> ByteBuffer {
        try file.read(at: position, length: header.sizeInBytes)
    }
}
