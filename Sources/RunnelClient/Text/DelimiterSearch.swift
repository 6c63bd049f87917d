internal import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Finds delimiters in a buffer with `memchr` (the hot loop of `runnel produce`).
///
/// Invariants: the raw pointer is used only inside `withUnsafeReadableBytes`; every offset passed to `memchr`
/// or compared is within `0..<readableBytes`, checked before use.
enum DelimiterSearch {
    /// Offsets (relative to the reader index) where each occurrence of `delimiter` starts, scanning left to
    /// right without overlaps. `delimiter` must not be empty.
    static func occurrences(of delimiter: [UInt8], in buffer: ByteBuffer) -> [Int] {
        precondition(!delimiter.isEmpty, "empty delimiter")
        var result: [Int] = []
        result.reserveCapacity(buffer.readableBytes / 64)
        buffer.withUnsafeReadableBytes { raw in
            guard let base = raw.baseAddress else { return }
            let count = raw.count
            let first = Int32(delimiter[0])
            var position = 0
            while position < count {
                guard let hit = memchr(base + position, first, count - position) else { break }
                let offset = base.distance(to: UnsafeRawPointer(hit))
                if delimiter.count == 1 {
                    result.append(offset)
                    position = offset + 1
                    continue
                }
                if offset + delimiter.count <= count,
                    delimiter.indices.allSatisfy({ raw[offset + $0] == delimiter[$0] })
                {
                    result.append(offset)
                    position = offset + delimiter.count
                } else {
                    position = offset + 1
                }
            }
        }
        return result
    }

    /// Offset of the first occurrence of `delimiter` in `buffer`'s readable bytes, or nil.
    static func first(of delimiter: [UInt8], in buffer: ByteBuffer) -> Int? {
        guard !delimiter.isEmpty else { return nil }
        return buffer.withUnsafeReadableBytes { raw -> Int? in
            guard let base = raw.baseAddress else { return nil }
            let count = raw.count
            var position = 0
            while position < count {
                guard let hit = memchr(base + position, Int32(delimiter[0]), count - position) else { return nil }
                let offset = base.distance(to: UnsafeRawPointer(hit))
                if offset + delimiter.count <= count,
                    delimiter.indices.allSatisfy({ raw[offset + $0] == delimiter[$0] })
                {
                    return offset
                }
                position = offset + 1
            }
            return nil
        }
    }
}
