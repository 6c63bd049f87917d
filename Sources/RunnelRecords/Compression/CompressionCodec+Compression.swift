public import NIOCore

extension CompressionCodec {
    /// Compresses `input`'s readable bytes into the stream format Kafka puts after a batch header for this codec
    /// (KAFKA-FORMATS §3) and appends it to `output`. `.none` appends the bytes unchanged.
    /// - Parameter level: codec-specific level; nil = the library default (gzip 6, lz4 fast, zstd 3; snappy has none).
    /// - Throws: `RecordsError.compressionFailed` (bad level or a library failure).
    public func compress(_ input: ByteBuffer, level: Int? = nil, into output: inout ByteBuffer) throws(RecordsError) {
        switch self {
        case .none: output.writeImmutableBuffer(input)
        case .gzip: try GzipCodec.compress(input, level: level, into: &output)
        case .snappy: try SnappyCodec.compress(input, into: &output)
        case .lz4: try LZ4Codec.compress(input, level: level, into: &output)
        case .zstd: try ZstdCodec.compress(input, level: level, into: &output)
        }
    }

    /// Compresses `input`'s readable bytes into a new buffer. See `compress(_:level:into:)`.
    public func compress(_ input: ByteBuffer, level: Int? = nil) throws(RecordsError) -> ByteBuffer {
        var output = ByteBufferAllocator().buffer(capacity: input.readableBytes / 2 + 64)
        try compress(input, level: level, into: &output)
        return output
    }

    /// Decompresses a batch payload (the bytes after the 61-byte header) of this codec.
    ///
    /// Never holds more than `maxDecompressedBytes` decompressed bytes (allocations stay below the next power of
    /// two above the limit): a stream that would inflate further fails with `decompressedTooLarge` instead.
    /// `.none` returns `input` itself (no copy) if it is within the limit.
    /// - Throws: `RecordsError.decompressedTooLarge(limit:)`, `.compressionFailed` for corrupt or truncated data.
    public func decompress(_ input: ByteBuffer, maxDecompressedBytes: Int) throws(RecordsError) -> ByteBuffer {
        switch self {
        case .none:
            guard input.readableBytes <= maxDecompressedBytes else {
                throw .decompressedTooLarge(limit: maxDecompressedBytes)
            }
            return input
        case .gzip: return try GzipCodec.decompress(input, maxDecompressedBytes: maxDecompressedBytes)
        case .snappy: return try SnappyCodec.decompress(input, maxDecompressedBytes: maxDecompressedBytes)
        case .lz4: return try LZ4Codec.decompress(input, maxDecompressedBytes: maxDecompressedBytes)
        case .zstd: return try ZstdCodec.decompress(input, maxDecompressedBytes: maxDecompressedBytes)
        }
    }
}
