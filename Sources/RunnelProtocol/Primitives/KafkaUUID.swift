/// Kafka's 128-bit `uuid` wire type (topic ids, directory ids).
///
/// Wire layout: 16 bytes, `mostSignificantBits` (big-endian int64) then `leastSignificantBits`.
/// The all-zero value is Kafka's `Uuid.ZERO_UUID` ("unset").
public struct KafkaUUID: Hashable, Sendable, CustomStringConvertible {
    /// The first 8 bytes on the wire.
    public var mostSignificantBits: UInt64
    /// The last 8 bytes on the wire.
    public var leastSignificantBits: UInt64

    /// Kafka's null/unset id (all zero bits).
    public static let zero = KafkaUUID(mostSignificantBits: 0, leastSignificantBits: 0)

    public init(mostSignificantBits: UInt64, leastSignificantBits: UInt64) {
        self.mostSignificantBits = mostSignificantBits
        self.leastSignificantBits = leastSignificantBits
    }

    /// A random id as Kafka makes them (`Uuid.randomUuid`): version-4 bits, never zero, never starting with `-`
    /// in text form (the first base64 character is `-` when the top 6 bits are 0b111110).
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> KafkaUUID {
        while true {
            var high = UInt64.random(in: .min ... .max, using: &generator)
            var low = UInt64.random(in: .min ... .max, using: &generator)
            high = (high & ~0xF000) | 0x4000  // version 4
            low = (low & ~(UInt64(0xC) << 60)) | (UInt64(0x8) << 60)  // IETF variant
            let candidate = KafkaUUID(mostSignificantBits: high, leastSignificantBits: low)
            if candidate != .zero, candidate != KafkaUUID(mostSignificantBits: 0, leastSignificantBits: 1),
                !candidate.description.hasPrefix("-")
            {
                return candidate
            }
        }
    }

    /// A random id from the system generator.
    public static func random() -> KafkaUUID {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    /// Kafka's text form: URL-safe base64 of the 16 bytes without padding (22 characters).
    public var description: String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: mostSignificantBits >> UInt64(shift))) }
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: leastSignificantBits >> UInt64(shift))) }
        var out: [UInt8] = []
        out.reserveCapacity(22)
        var index = 0
        while index < bytes.count {
            let b0 = UInt32(bytes[index])
            let b1 = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
            let b2 = index + 2 < bytes.count ? UInt32(bytes[index + 2]) : 0
            let triple = (b0 << 16) | (b1 << 8) | b2
            let available = min(3, bytes.count - index)
            out.append(alphabet[Int((triple >> 18) & 63)])
            out.append(alphabet[Int((triple >> 12) & 63)])
            if available > 1 { out.append(alphabet[Int((triple >> 6) & 63)]) }
            if available > 2 { out.append(alphabet[Int(triple & 63)]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses Kafka's 22-character URL-safe base64 text form; `nil` if malformed.
    public init?(kafkaString text: String) {
        let utf8 = Array(text.utf8)
        guard utf8.count == 22 else { return nil }
        func value(_ c: UInt8) -> UInt32? {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): return UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): return UInt32(c - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "-"): return 62
            case UInt8(ascii: "_"): return 63
            default: return nil
            }
        }
        var bits: [UInt8] = []
        var accumulator: UInt32 = 0
        var count = 0
        for c in utf8 {
            guard let v = value(c) else { return nil }
            accumulator = (accumulator << 6) | v
            count += 6
            if count >= 8 {
                count -= 8
                bits.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(count)))
            }
        }
        guard bits.count == 16 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for i in 0..<8 { high = (high << 8) | UInt64(bits[i]) }
        for i in 8..<16 { low = (low << 8) | UInt64(bits[i]) }
        self.init(mostSignificantBits: high, leastSignificantBits: low)
    }
}
