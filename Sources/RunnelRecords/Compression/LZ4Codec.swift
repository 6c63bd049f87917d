import CLZ4
import NIOCore

// Unsafe-pointer invariants of this file:
// - The frame is compressed in one `LZ4F_compressFrame` call into a region of `LZ4F_compressFrameBound` bytes
//   obtained from `writeWithUnsafeMutableBytes`.
// - On decompression, the source pointer/size passed to `LZ4F_decompress` is always the not-yet-consumed suffix of
//   the input's readable bytes (`consumed` only grows by what liblz4 reports as consumed), and the destination is
//   the region handed out by `BoundedOutput.produce`.
// - Contexts are freed on every path via `defer`.

/// lz4 (codec 3): one LZ4 frame as Kafka writes it (KAFKA-FORMATS §3): independent blocks, 64 KiB maximum block
/// size, no content size, no checksums. liblz4 writes an incompressible block stored (uncompressed), as Kafka does.
/// Reading decodes the first standard frame with `LZ4F_decompress` (which also verifies the header checksum) and,
/// like Kafka's `Lz4BlockInputStream`, ignores bytes after it.
enum LZ4Codec {
    /// Appends one LZ4 frame of `input`'s readable bytes to `output`.
    /// - Parameter level: liblz4 levels: nil / 0 = fast default, 3…12 = HC (Kafka's default is 9).
    static func compress(_ input: ByteBuffer, level: Int?, into output: inout ByteBuffer) throws(RecordsError) {
        var preferences = LZ4F_preferences_t()
        preferences.frameInfo.blockSizeID = LZ4F_max64KB
        preferences.frameInfo.blockMode = LZ4F_blockIndependent
        preferences.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum
        preferences.frameInfo.blockChecksumFlag = LZ4F_noBlockChecksum
        preferences.compressionLevel = Int32(clamping: level ?? 0)
        let bound = LZ4F_compressFrameBound(input.readableBytes, &preferences)
        var result = 0
        _ = input.withUnsafeReadableBytes { inRaw in
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { outRaw in
                result = LZ4F_compressFrame(outRaw.baseAddress, outRaw.count, inRaw.baseAddress, inRaw.count, &preferences)
                return LZ4F_isError(result) != 0 ? 0 : result
            }
        }
        if LZ4F_isError(result) != 0 {
            throw .compressionFailed(codec: "lz4", reason: String(cString: LZ4F_getErrorName(result)))
        }
    }

    /// Decodes the first LZ4 frame of `input`'s readable bytes.
    /// - Throws: `decompressedTooLarge` past `maxDecompressedBytes`; `compressionFailed` for corrupt or truncated
    ///   frames.
    static func decompress(_ input: ByteBuffer, maxDecompressedBytes: Int) throws(RecordsError) -> ByteBuffer {
        var context: OpaquePointer?
        let created = LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))
        guard LZ4F_isError(created) == 0, let context else {
            throw .compressionFailed(codec: "lz4", reason: "cannot create a decompression context")
        }
        defer { LZ4F_freeDecompressionContext(context) }
        var output = BoundedOutput(limit: maxDecompressedBytes, sizeHint: input.readableBytes * 4)
        let outcome: Result<Void, RecordsError> = input.withUnsafeReadableBytes { inRaw in
            var consumed = 0
            while true {
                var hint = 0
                var produced = 0
                var used = 0
                do throws(RecordsError) {
                    try output.produce { region in
                        var destinationSize = region.count
                        var sourceSize = inRaw.count - consumed
                        let source = inRaw.baseAddress.map { $0 + consumed }
                        hint = LZ4F_decompress(context, region.baseAddress, &destinationSize, source, &sourceSize, nil)
                        if LZ4F_isError(hint) != 0 { return 0 }
                        used = sourceSize
                        produced = destinationSize
                        return destinationSize
                    }
                } catch {
                    return .failure(error)
                }
                if LZ4F_isError(hint) != 0 {
                    return .failure(.compressionFailed(codec: "lz4", reason: String(cString: LZ4F_getErrorName(hint))))
                }
                consumed += used
                if hint == 0 { return .success(()) }  // frame complete and fully flushed
                if used == 0 && produced == 0 {
                    return .failure(.compressionFailed(codec: "lz4", reason: "truncated frame"))
                }
            }
        }
        try outcome.get()
        return output.buffer
    }
}
