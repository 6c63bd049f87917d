import NIOCore

// Unsafe-pointer invariants of this file:
// - `produce` hands its body a region that lies entirely inside the buffer's writable bytes (or inside a local
//   1-byte probe) and never longer than the remaining budget; the body reports how many bytes it wrote, which
//   must be <= the region's count (checked with a precondition: a C library writing more would be a memory bug).
// - The region is only valid during the call; bodies must not keep it.

/// A growable output buffer for decompression that never holds more than `limit` decompressed bytes.
///
/// Capacity grows by doubling (at least `minimumChunk`), capped at the limit, so the allocation stays below the
/// next power of two above `limit` (ByteBuffer rounds capacities up to powers of two). Once `limit` bytes are
/// written, further calls hand out a 1-byte probe: any byte produced into it means the stream inflates past
/// the limit, and `produce` throws `RecordsError.decompressedTooLarge`.
struct BoundedOutput {
    private(set) var buffer: ByteBuffer
    /// Maximum decompressed bytes, >= 0.
    let limit: Int
    private static let minimumChunk = 16 * 1024

    /// - Parameter sizeHint: expected output bytes; the first allocation is `min(limit, sizeHint)` (at least 1).
    init(limit: Int, sizeHint: Int) {
        self.limit = max(0, limit)
        self.buffer = ByteBufferAllocator().buffer(capacity: max(1, min(self.limit, sizeHint)))
    }

    /// Bytes still allowed.
    var remaining: Int { limit - buffer.readableBytes }

    /// Whether at least `count` more bytes fit under the limit.
    func canWrite(_ count: Int) -> Bool { count <= remaining }

    /// Runs `body` over a writable region of at least 1 byte and at most `remaining` bytes (or over the 1-byte
    /// probe once the limit is reached); `body` returns how many bytes it wrote at the region's start.
    /// - Throws: `RecordsError.decompressedTooLarge` if the body writes into the probe.
    mutating func produce(_ body: (UnsafeMutableRawBufferPointer) -> Int) throws(RecordsError) {
        let remaining = self.remaining
        guard remaining > 0 else {
            var probe: UInt8 = 0
            let written = withUnsafeMutableBytes(of: &probe) { body($0) }
            if written > 0 { throw .decompressedTooLarge(limit: limit) }
            return
        }
        let comfortable = min(remaining, Self.minimumChunk)
        if buffer.writableBytes < comfortable {
            let grow = min(remaining, max(Self.minimumChunk, buffer.readableBytes))
            buffer.reserveCapacity(minimumWritableBytes: grow)
        }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 1) { raw in
            let region = UnsafeMutableRawBufferPointer(rebasing: raw.prefix(min(raw.count, remaining)))
            let written = body(region)
            precondition(written >= 0 && written <= region.count, "codec wrote outside its output region")
            return written
        }
    }

    /// Copies `count` bytes produced by `body` in one go (for codecs that know their output size up front).
    /// - Throws: `decompressedTooLarge` if `count` exceeds the remaining budget (checked before allocating).
    mutating func produce(exactly count: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int) throws(RecordsError) {
        guard count >= 0, count <= remaining else { throw .decompressedTooLarge(limit: limit) }
        guard count > 0 else { return }
        buffer.reserveCapacity(minimumWritableBytes: count)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
            let region = UnsafeMutableRawBufferPointer(rebasing: raw.prefix(count))
            let written = body(region)
            precondition(written >= 0 && written <= count, "codec wrote outside its output region")
            return written
        }
    }
}
