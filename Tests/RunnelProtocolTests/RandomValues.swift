import NIOCore
import RunnelProtocol

/// A message type that can build a random value legal at a given version (generated per message by MessageGen
/// into `Generated/*+Random.swift`).
protocol RandomlyGenerated {
    init()
    static func random(version: Int16, using source: inout RandomValues) -> Self
}

/// A small deterministic random source (SplitMix64) producing Kafka field values.
///
/// Arrays hold 0–`maximumArrayCount` elements and become shorter as nesting deepens, so nested schemas stay small.
/// Strings mix ASCII with multi-byte UTF-8 to exercise byte-length prefixes. Doubles are always finite so `==`
/// is meaningful.
struct RandomValues {
    private var state: UInt64
    private var depth = 0
    let maximumArrayCount: Int

    init(seed: UInt64, maximumArrayCount: Int = 3) {
        self.state = seed
        self.maximumArrayCount = maximumArrayCount
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }

    /// Picks small, boundary, or arbitrary values so both edge cases and varied bits appear.
    mutating func integer<T: FixedWidthInteger>(_: T.Type) -> T {
        switch below(4) {
        case 0: return T(truncatingIfNeeded: below(3)) &- 1  // -1, 0, 1
        case 1: return below(2) == 0 ? T.min : T.max
        default: return T(truncatingIfNeeded: next())
        }
    }

    mutating func int8() -> Int8 { integer(Int8.self) }
    mutating func int16() -> Int16 { integer(Int16.self) }
    mutating func int32() -> Int32 { integer(Int32.self) }
    mutating func int64() -> Int64 { integer(Int64.self) }
    mutating func uint16() -> UInt16 { integer(UInt16.self) }
    mutating func uint32() -> UInt32 { integer(UInt32.self) }
    mutating func bool() -> Bool { below(2) == 1 }
    mutating func float64() -> Double { Double(int32()) / 7.0 }

    mutating func uuid() -> KafkaUUID {
        KafkaUUID(mostSignificantBits: next(), leastSignificantBits: next())
    }

    mutating func string() -> String {
        let pieces = ["a", "Z", "9", "-", "_", ".", " ", "é", "ü", "€", "中", "😀"]
        let length = below(12)
        var text = ""
        for _ in 0..<length { text += pieces[below(pieces.count)] }
        return text
    }

    mutating func nullableString(nullable: Bool) -> String? {
        if nullable && below(4) == 0 { return nil }
        return string()
    }

    mutating func bytes() -> ByteBuffer {
        let length = below(40)
        var buffer = ByteBufferAllocator().buffer(capacity: length)
        for _ in 0..<length { buffer.writeInteger(UInt8(truncatingIfNeeded: next())) }
        return buffer
    }

    mutating func nullableBytes(nullable: Bool) -> ByteBuffer? {
        if nullable && below(4) == 0 { return nil }
        return bytes()
    }

    mutating func array<T>(_ element: (inout RandomValues) -> T) -> [T] {
        let limit = max(0, maximumArrayCount - depth)
        let count = below(limit + 1)
        depth += 1
        defer { depth -= 1 }
        var result: [T] = []
        for _ in 0..<count { result.append(element(&self)) }
        return result
    }

    mutating func nullableArray<T>(nullable: Bool, _ element: (inout RandomValues) -> T) -> [T]? {
        if nullable && below(4) == 0 { return nil }
        return array(element)
    }

    mutating func nullable<T>(_ nullable: Bool, _ make: (inout RandomValues) -> T) -> T? {
        if nullable && below(3) == 0 { return nil }
        return make(&self)
    }
}
