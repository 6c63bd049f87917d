import CCRC32C
public import NIOCore

/// CRC-32C (Castagnoli), the checksum of Kafka record batch v2 (bytes 21 to the end of a batch).
///
/// A safe wrapper over the `CCRC32C` C target, which uses the SSE4.2 instruction when the CPU has it
/// and a slicing-by-8 table otherwise. Check value: `checksum("123456789") == 0xE3069283`.
public enum CRC32C {
    /// The CRC-32C of `bytes`.
    @inlinable
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        extend(0, bytes)
    }

    /// Extends `crc` (the value returned for the preceding bytes, 0 at the start) over `bytes`.
    public static func extend(_ crc: UInt32, _ bytes: some Sequence<UInt8>) -> UInt32 {
        if let result = bytes.withContiguousStorageIfAvailable({ raw in
            runnel_crc32c_extend(crc, raw.baseAddress, raw.count)
        }) {
            return result
        }
        let copy = Array(bytes)
        return copy.withUnsafeBytes { runnel_crc32c_extend(crc, $0.baseAddress, $0.count) }
    }

    /// The CRC-32C of the readable bytes of `buffer` in `range` (indices relative to the buffer's storage,
    /// as used by `ByteBuffer.getBytes(at:length:)`). Returns nil if the range is not readable.
    public static func checksum(of buffer: ByteBuffer, at index: Int, length: Int) -> UInt32? {
        guard index >= buffer.readerIndex, length >= 0, index + length <= buffer.writerIndex else { return nil }
        return buffer.withUnsafeReadableBytes { raw in
            let start = index - buffer.readerIndex
            return runnel_crc32c_extend(0, raw.baseAddress.map { $0 + start }, length)
        }
    }

    /// The CRC-32C of a raw byte region.
    public static func checksum(_ raw: UnsafeRawBufferPointer) -> UInt32 {
        runnel_crc32c_extend(0, raw.baseAddress, raw.count)
    }

    /// The table implementation, for tests that compare it with the hardware path.
    public static func portableChecksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { runnel_crc32c_extend_portable(0, $0.baseAddress, $0.count) }
    }

    /// Whether the SSE4.2 instruction is in use on this CPU.
    public static var usesHardware: Bool { runnel_crc32c_has_hardware() != 0 }
}
