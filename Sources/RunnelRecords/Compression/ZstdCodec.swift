import CZstd
import NIOCore

// Unsafe-pointer invariants of this file:
// - Compression writes into a region of `ZSTD_compressBound` bytes from `writeWithUnsafeMutableBytes`.
// - On decompression `ZSTD_inBuffer` spans exactly the input's readable bytes (taken inside
//   `withUnsafeReadableBytes`, used only there) and `ZSTD_outBuffer` spans exactly the region handed out by
//   `BoundedOutput.produce`; libzstd only advances `pos` within `size`.
// - Contexts are freed on every path via `defer`.

/// zstd (codec 4): standard frames. Written with `ZSTD_compress` (the frame records its content size, which
/// every reader accepts); read with the streaming API, so frames without a content size (zstd-jni's streaming
/// writer, librdkafka) and concatenated frames decode too.
enum ZstdCodec {
    /// Appends one zstd frame of `input`'s readable bytes to `output`.
    /// - Parameter level: nil for zstd's default (3); otherwise `ZSTD_minCLevel()...ZSTD_maxCLevel()`.
    static func compress(_ input: ByteBuffer, level: Int?, into output: inout ByteBuffer) throws(RecordsError) {
        let level = Int32(clamping: level ?? Int(ZSTD_CLEVEL_DEFAULT))
        guard level >= ZSTD_minCLevel(), level <= ZSTD_maxCLevel() else {
            throw .compressionFailed(codec: "zstd", reason: "level \(level) out of range")
        }
        let bound = ZSTD_compressBound(input.readableBytes)
        var result = 0
        _ = input.withUnsafeReadableBytes { inRaw in
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { outRaw in
                result = ZSTD_compress(outRaw.baseAddress, outRaw.count, inRaw.baseAddress, inRaw.count, level)
                return ZSTD_isError(result) != 0 ? 0 : result
            }
        }
        if ZSTD_isError(result) != 0 {
            throw .compressionFailed(codec: "zstd", reason: String(cString: ZSTD_getErrorName(result)))
        }
    }

    /// The decoder's window-size cap (log2 bytes): enough for any frame a producer writes at ordinary levels
    /// (8 MiB, level 19 without a known size), raised toward zstd's default 128 MiB only for large limits, so a
    /// hostile frame header cannot make the decoder reserve a window far above the output limit.
    static func windowLogMax(forLimit limit: Int) -> Int32 {
        let needed = Int32(Int.bitWidth - max(1, limit).leadingZeroBitCount)
        return min(max(needed, 23), 27)  // ZSTD_WINDOWLOG_LIMIT_DEFAULT (static-linking-only header)
    }

    /// Decodes all zstd frames in `input`'s readable bytes.
    /// - Throws: `decompressedTooLarge` past `maxDecompressedBytes`; `compressionFailed` for corrupt or truncated
    ///   frames.
    static func decompress(_ input: ByteBuffer, maxDecompressedBytes: Int) throws(RecordsError) -> ByteBuffer {
        guard let context = ZSTD_createDCtx() else {
            throw .compressionFailed(codec: "zstd", reason: "cannot create a decompression context")
        }
        defer { ZSTD_freeDCtx(context) }
        _ = ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, windowLogMax(forLimit: maxDecompressedBytes))
        var output = BoundedOutput(limit: maxDecompressedBytes, sizeHint: input.readableBytes * 4)
        let outcome: Result<Void, RecordsError> = input.withUnsafeReadableBytes { inRaw in
            var source = ZSTD_inBuffer(src: inRaw.baseAddress, size: inRaw.count, pos: 0)
            // ZSTD_decompressStream returns 0 once a frame is complete and flushed.
            var lastResult = 1
            while true {
                var produced = 0
                let positionBefore = source.pos
                do throws(RecordsError) {
                    try output.produce { region in
                        var destination = ZSTD_outBuffer(dst: region.baseAddress, size: region.count, pos: 0)
                        lastResult = ZSTD_decompressStream(context, &destination, &source)
                        produced = ZSTD_isError(lastResult) != 0 ? 0 : destination.pos
                        return produced
                    }
                } catch {
                    return .failure(error)
                }
                if ZSTD_isError(lastResult) != 0 {
                    return .failure(.compressionFailed(codec: "zstd", reason: String(cString: ZSTD_getErrorName(lastResult))))
                }
                if lastResult == 0 && source.pos == source.size { return .success(()) }
                if produced == 0 && source.pos == positionBefore {
                    return .failure(.compressionFailed(codec: "zstd", reason: "truncated frame"))
                }
            }
        }
        try outcome.get()
        return output.buffer
    }
}
