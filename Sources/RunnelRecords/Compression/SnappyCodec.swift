import CSnappy
import NIOCore

// Unsafe-pointer invariants of this file:
// - Input pointers come from `withUnsafeReadableBytes` and every (offset, length) passed to libsnappy is checked
//   to lie inside the readable bytes first.
// - Output regions come from `writeWithUnsafeMutableBytes` sized with `snappy_max_compressed_length`, or from
//   `BoundedOutput.produce(exactly:)` sized with the block's `snappy_uncompressed_length` (checked against the
//   limit before anything is allocated).

/// snappy (codec 2). Written in the xerial snappy-java framing that Java clients use; read in both that framing
/// and the single raw block that librdkafka writes (KAFKA-FORMATS §3):
///
/// ```
/// 82 53 4e 41 50 50 59 00   magic 0x82 "SNAPPY" 0x00
/// 00 00 00 01               version int32 BE
/// 00 00 00 01               minimum compatible version int32 BE
/// repeat: int32 BE compressed length, raw snappy block (<= 32 KiB of input each)
/// ```
enum SnappyCodec {
    static let xerialMagic: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00]
    static let xerialHeaderSize = 16
    /// Input bytes per block, snappy-java's default block size.
    static let xerialBlockSize = 32 * 1024

    /// Appends `input`'s readable bytes in xerial framing to `output`.
    static func compress(_ input: ByteBuffer, into output: inout ByteBuffer) throws(RecordsError) {
        output.writeBytes(xerialMagic)
        output.writeInteger(Int32(1))
        output.writeInteger(Int32(1))
        var status = SNAPPY_OK
        input.withUnsafeReadableBytes { inRaw in
            var start = 0
            while start < inRaw.count {
                let blockCount = min(xerialBlockSize, inRaw.count - start)
                let bound = snappy_max_compressed_length(blockCount)
                let lengthIndex = output.writerIndex
                output.writeInteger(Int32(0))  // patched below
                var compressedLength = bound
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { outRaw in
                    let source = inRaw.baseAddress.map { ($0 + start).assumingMemoryBound(to: CChar.self) }
                    let destination = outRaw.baseAddress?.assumingMemoryBound(to: CChar.self)
                    status = snappy_compress(source, blockCount, destination, &compressedLength)
                    return status == SNAPPY_OK ? compressedLength : 0
                }
                guard status == SNAPPY_OK else { return }
                // compressedLength <= snappy_max_compressed_length(32 KiB), far below Int32.max.
                output.setInteger(Int32(truncatingIfNeeded: compressedLength), at: lengthIndex)
                start += blockCount
            }
        }
        guard status == SNAPPY_OK else {
            throw .compressionFailed(codec: "snappy", reason: "snappy_compress returned \(status.rawValue)")
        }
    }

    /// Decompresses a xerial stream, or a raw snappy block when the xerial magic is absent.
    static func decompress(_ input: ByteBuffer, maxDecompressedBytes: Int) throws(RecordsError) -> ByteBuffer {
        if isXerial(input) {
            return try decompressXerial(input, maxDecompressedBytes: maxDecompressedBytes)
        }
        var output = BoundedOutput(limit: maxDecompressedBytes, sizeHint: 0)
        try uncompressBlock(input, into: &output)
        return output.buffer
    }

    /// snappy-java's rule: at least 16 bytes and the 8-byte magic at the start.
    static func isXerial(_ input: ByteBuffer) -> Bool {
        guard input.readableBytes >= xerialHeaderSize,
            let magic = input.getBytes(at: input.readerIndex, length: xerialMagic.count)
        else { return false }
        return magic == xerialMagic
    }

    private static func decompressXerial(_ input: ByteBuffer, maxDecompressedBytes: Int) throws(RecordsError)
        -> ByteBuffer
    {
        var rest = input
        rest.moveReaderIndex(forwardBy: xerialHeaderSize)
        var output = BoundedOutput(limit: maxDecompressedBytes, sizeHint: input.readableBytes * 3)
        while rest.readableBytes > 0 {
            guard let length = rest.readInteger(as: Int32.self) else {
                throw .compressionFailed(codec: "snappy", reason: "truncated xerial block length")
            }
            guard length >= 0, let block = rest.readSlice(length: Int(length)) else {
                throw .compressionFailed(
                    codec: "snappy", reason: "xerial block length \(length) exceeds the \(rest.readableBytes) bytes left")
            }
            try uncompressBlock(block, into: &output)
        }
        return output.buffer
    }

    /// Uncompresses one raw snappy block (the whole readable bytes of `block`) and appends it to `output`.
    private static func uncompressBlock(_ block: ByteBuffer, into output: inout BoundedOutput) throws(RecordsError) {
        let outcome: Result<Void, RecordsError> = block.withUnsafeReadableBytes { inRaw in
            let source = inRaw.baseAddress?.assumingMemoryBound(to: CChar.self)
            var length = 0
            guard snappy_uncompressed_length(source, inRaw.count, &length) == SNAPPY_OK else {
                return .failure(.compressionFailed(codec: "snappy", reason: "invalid block header"))
            }
            var status = SNAPPY_OK
            var written = 0
            do throws(RecordsError) {
                try output.produce(exactly: length) { region in
                    var regionLength = region.count
                    status = snappy_uncompress(
                        source, inRaw.count, region.baseAddress?.assumingMemoryBound(to: CChar.self), &regionLength)
                    written = status == SNAPPY_OK ? regionLength : 0
                    return written
                }
            } catch {
                return .failure(error)
            }
            guard status == SNAPPY_OK, written == length else {
                return .failure(.compressionFailed(codec: "snappy", reason: "corrupt block (status \(status.rawValue))"))
            }
            return .success(())
        }
        try outcome.get()
    }
}
