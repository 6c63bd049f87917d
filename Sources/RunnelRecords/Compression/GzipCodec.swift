import CZlib
import NIOCore

// Unsafe-pointer invariants of this file:
// - `z_stream.next_in`/`avail_in` always describe a sub-range of the input's readable bytes, taken inside
//   `withUnsafeReadableBytes`, and the stream is only used inside that closure.
// - `next_out`/`avail_out` describe exactly the region handed out by `BoundedOutput.produce` (or by
//   `writeWithUnsafeMutableBytes` sized with `deflateBound`), and are reset before every call.
// - Every stream is ended (`deflateEnd`/`inflateEnd`) on every path via `defer`.

/// gzip (codec 1): one RFC 1952 member on write (like Java's GZIPOutputStream); on read, concatenated members are
/// inflated in turn, and bytes after a member that do not start a new member (`1f 8b`) are ignored, as
/// `java.util.zip.GZIPInputStream` does.
enum GzipCodec {
    /// zlib's window bits for a gzip wrapper: 15 (32 KiB window) + 16.
    private static let gzipWindowBits: Int32 = 15 + 16

    /// Appends one gzip member of `input`'s readable bytes to `output`.
    /// - Parameter level: 1…9, or nil / -1 for zlib's default (6).
    static func compress(_ input: ByteBuffer, level: Int?, into output: inout ByteBuffer) throws(RecordsError) {
        let level = Int32(clamping: level ?? Int(Z_DEFAULT_COMPRESSION))
        guard level == Z_DEFAULT_COMPRESSION || (0...9).contains(level) else {
            throw .compressionFailed(codec: "gzip", reason: "level \(level) outside -1...9")
        }
        guard input.readableBytes <= Int(UInt32.max) else {
            throw .compressionFailed(codec: "gzip", reason: "input of \(input.readableBytes) bytes is too large")
        }
        var stream = z_stream()
        let initResult = deflateInit2_(
            &stream, level, Z_DEFLATED, gzipWindowBits, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
            Int32(MemoryLayout<z_stream>.size))
        guard initResult == Z_OK else {
            throw .compressionFailed(codec: "gzip", reason: "deflateInit2 returned \(initResult)")
        }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.readableBytes)))
        var result: Int32 = Z_BUF_ERROR
        _ = input.withUnsafeReadableBytes { inRaw in
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { outRaw in
                stream.next_in = UnsafeMutablePointer(
                    mutating: inRaw.baseAddress?.assumingMemoryBound(to: Bytef.self))
                stream.avail_in = uInt(inRaw.count)
                stream.next_out = outRaw.baseAddress?.assumingMemoryBound(to: Bytef.self)
                let room = min(outRaw.count, Int(UInt32.max))
                stream.avail_out = uInt(room)
                // With deflateBound bytes of room, one Z_FINISH call completes the member.
                result = deflate(&stream, Z_FINISH)
                return result == Z_STREAM_END ? room - Int(stream.avail_out) : 0
            }
        }
        guard result == Z_STREAM_END else {
            throw .compressionFailed(codec: "gzip", reason: "deflate did not finish within deflateBound")
        }
    }

    /// Inflates every gzip member in `input`'s readable bytes.
    /// - Throws: `decompressedTooLarge` past `maxDecompressedBytes`; `compressionFailed` for corrupt or
    ///   truncated data.
    static func decompress(_ input: ByteBuffer, maxDecompressedBytes: Int) throws(RecordsError) -> ByteBuffer {
        guard input.readableBytes <= Int(UInt32.max) else {
            throw .compressionFailed(codec: "gzip", reason: "input of \(input.readableBytes) bytes is too large")
        }
        var stream = z_stream()
        let initResult = inflateInit2_(&stream, gzipWindowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard initResult == Z_OK else {
            throw .compressionFailed(codec: "gzip", reason: "inflateInit2 returned \(initResult)")
        }
        defer { inflateEnd(&stream) }
        var output = BoundedOutput(limit: maxDecompressedBytes, sizeHint: input.readableBytes * 4)
        let outcome: Result<Void, RecordsError> = input.withUnsafeReadableBytes { inRaw in
            stream.next_in = UnsafeMutablePointer(mutating: inRaw.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(inRaw.count)
            while true {
                var rc: Int32 = Z_OK
                var produced = 0
                let availableBefore = stream.avail_in
                do throws(RecordsError) {
                    try output.produce { region in
                        stream.next_out = region.baseAddress?.assumingMemoryBound(to: Bytef.self)
                        stream.avail_out = uInt(region.count)
                        rc = inflate(&stream, Z_NO_FLUSH)
                        produced = region.count - Int(stream.avail_out)
                        return produced
                    }
                } catch {
                    return .failure(error)
                }
                switch rc {
                case Z_STREAM_END:
                    // Another member follows only if its magic does; anything else is ignored like Java does.
                    let left = Int(stream.avail_in)
                    let consumed = inRaw.count - left
                    guard left >= 2, inRaw[consumed] == 0x1F, inRaw[consumed + 1] == 0x8B else { return .success(()) }
                    let resetResult = inflateReset(&stream)
                    guard resetResult == Z_OK else {
                        return .failure(.compressionFailed(codec: "gzip", reason: "inflateReset returned \(resetResult)"))
                    }
                case Z_OK, Z_BUF_ERROR:
                    if produced == 0 && stream.avail_in == availableBefore && stream.avail_in == 0 {
                        return .failure(.compressionFailed(codec: "gzip", reason: "truncated gzip stream"))
                    }
                    if produced == 0 && stream.avail_in == availableBefore {
                        return .failure(.compressionFailed(codec: "gzip", reason: "inflate made no progress"))
                    }
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "error \(rc)"
                    return .failure(.compressionFailed(codec: "gzip", reason: message))
                }
            }
        }
        try outcome.get()
        return output.buffer
    }
}
