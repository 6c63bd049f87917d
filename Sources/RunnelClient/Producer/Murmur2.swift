/// Kafka's murmur2 hash (`org.apache.kafka.common.utils.Utils.murmur2`), bit for bit: seed 0x9747b28c,
/// little-endian 4-byte words, the tail mixed as Java's fall-through switch does. Java's `int` arithmetic wraps,
/// so every multiply here is a wrapping one; `>>>` is an unsigned shift, done on `UInt32`.
public enum Murmur2 {
    /// The signed 32-bit hash Java returns.
    public static func hash<Bytes: Collection>(_ data: Bytes) -> Int32 where Bytes.Element == UInt8 {
        let m: UInt32 = 0x5bd1_e995
        let r: UInt32 = 24
        let length = data.count
        var h: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: length)
        var index = data.startIndex
        var remaining = length
        while remaining >= 4 {
            let b0 = UInt32(data[index])
            let b1 = UInt32(data[data.index(index, offsetBy: 1)])
            let b2 = UInt32(data[data.index(index, offsetBy: 2)])
            let b3 = UInt32(data[data.index(index, offsetBy: 3)])
            var k = b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)
            k = k &* m
            k ^= k >> r
            k = k &* m
            h = h &* m
            h ^= k
            index = data.index(index, offsetBy: 4)
            remaining -= 4
        }
        if remaining > 0 {
            if remaining >= 3 { h ^= UInt32(data[data.index(index, offsetBy: 2)]) << 16 }
            if remaining >= 2 { h ^= UInt32(data[data.index(index, offsetBy: 1)]) << 8 }
            h ^= UInt32(data[index])
            h = h &* m
        }
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }

    /// Java's `Utils.toPositive`: clears the sign bit (not `abs`, so `Int32.min` maps to 0).
    public static func toPositive(_ value: Int32) -> Int32 { value & 0x7fff_ffff }
}
