public import NIOCore

/// What an append did.
public struct AppendInfo: Sendable, Hashable {
    /// Offset assigned to the first record.
    public let firstOffset: Int64
    /// Offset of the last record (firstOffset + records − 1 for client appends).
    public let lastOffset: Int64
    /// The broker time written into the batches (ms) for LOG_APPEND_TIME topics, else -1.
    public let logAppendTime: Int64
    /// The log start offset after the append.
    public let logStartOffset: Int64
    /// The `flush.messages` / `flush.ms` policy says: call `flush()` now (off the event loop).
    public let flushNeeded: Bool
    /// Batches written.
    public let batchCount: Int
    /// Bytes written.
    public let byteCount: Int

    public init(
        firstOffset: Int64, lastOffset: Int64, logAppendTime: Int64, logStartOffset: Int64, flushNeeded: Bool,
        batchCount: Int = 1, byteCount: Int = 0
    ) {
        self.firstOffset = firstOffset
        self.lastOffset = lastOffset
        self.logAppendTime = logAppendTime
        self.logStartOffset = logStartOffset
        self.flushNeeded = flushNeeded
        self.batchCount = batchCount
        self.byteCount = byteCount
    }
}

/// A contiguous byte range of a segment's `.log` file, made of whole batches. Zero-copy: send it with
/// `sendfile`/NIO `FileRegion` using `file.fileDescriptor`, `position` and `length`.
///
/// The slice keeps its `SegmentFileHandle` (and so the descriptor) alive, even after the segment is rolled,
/// deleted by retention, or the log is closed. The bytes never change: segments are append-only and only bytes
/// below the size taken under the log's lock are referenced.
public struct FileSlice: Sendable {
    /// The ref-counted owner of the fd.
    public let file: SegmentFileHandle
    /// Byte position in the file.
    public let position: Int64
    /// Bytes.
    public let length: Int

    public init(file: SegmentFileHandle, position: Int64, length: Int) {
        self.file = file
        self.position = position
        self.length = length
    }

    /// Copies the bytes with `pread` (tests and tools; the broker's hot path uses the fd).
    /// - Throws: `StorageError.io`.
    public func readBytes() throws(StorageError) -> ByteBuffer {
        let buffer = try file.read(at: position, length: length)
        guard buffer.readableBytes == length else {
            throw .io(operation: "pread (short read of \(length) bytes)", path: file.path, errno: 5)
        }
        return buffer
    }
}

/// One piece of a read: in memory, or a range of a file to send without copying.
public enum ReadChunk: Sendable {
    case memory(ByteBuffer)
    case file(FileSlice)

    /// Bytes in the chunk.
    public var length: Int {
        switch self {
        case let .memory(buffer): buffer.readableBytes
        case let .file(slice): slice.length
        }
    }

    /// The bytes (copied from the file for `.file`).
    public func readBytes() throws(StorageError) -> ByteBuffer {
        switch self {
        case let .memory(buffer): buffer
        case let .file(slice): try slice.readBytes()
        }
    }
}

/// The result of `PartitionLog.read`.
public struct LogReadResult: Sendable {
    /// Whole batches; the first contains the requested offset (so it may start below it). Empty at the log end.
    public let chunks: [ReadChunk]
    /// Sum of the chunks' lengths.
    public let byteCount: Int
    /// = logEndOffset on a single node.
    public let highWatermark: Int64
    public let logStartOffset: Int64
    public let logEndOffset: Int64
    /// Where the next read continues: the offset after the last whole batch returned (the requested offset when
    /// nothing was returned). It may be larger when the segment ends in a compaction gap: every offset in
    /// [requested, nextOffset) is either in a returned batch or holds no record.
    public let nextOffset: Int64

    public init(
        chunks: [ReadChunk], highWatermark: Int64, logStartOffset: Int64, logEndOffset: Int64, nextOffset: Int64
    ) {
        self.chunks = chunks
        self.byteCount = chunks.reduce(0) { $0 + $1.length }
        self.highWatermark = highWatermark
        self.logStartOffset = logStartOffset
        self.logEndOffset = logEndOffset
        self.nextOffset = nextOffset
    }

    /// All bytes concatenated (tests and tools).
    public func readAllBytes() throws(StorageError) -> ByteBuffer {
        var all = ByteBufferAllocator().buffer(capacity: byteCount)
        for chunk in chunks {
            var bytes = try chunk.readBytes()
            all.writeBuffer(&bytes)
        }
        return all
    }
}

/// Who is appending: client batches get Kafka's client-only checks (baseOffset 0, no control batches).
public enum AppendOrigin: Sendable, Hashable {
    /// A producer's batches (Produce request).
    case client
    /// The broker itself (group coordinator records, transaction markers): control batches allowed.
    case coordinator
}
