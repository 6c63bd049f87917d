/// ZigZag mapping between signed and unsigned integers, as used by Kafka's signed varints (KAFKA-FORMATS §1.2).
///
/// Small magnitudes map to small unsigned values: 0→0, -1→1, 1→2, -2→3, … so they encode in few varint bytes.
/// Both directions are total (no value traps).
public enum ZigZag {
    /// `(v << 1) ^ (v >> 31)` with an arithmetic shift.
    @inlinable
    public static func encode(_ value: Int32) -> UInt32 {
        UInt32(bitPattern: (value &<< 1) ^ (value >> 31))
    }

    /// `(v << 1) ^ (v >> 63)` with an arithmetic shift.
    @inlinable
    public static func encode(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value &<< 1) ^ (value >> 63))
    }

    /// `(u >>> 1) ^ -(u & 1)`.
    @inlinable
    public static func decode(_ value: UInt32) -> Int32 {
        Int32(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }

    /// `(u >>> 1) ^ -(u & 1)`.
    @inlinable
    public static func decode(_ value: UInt64) -> Int64 {
        Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }
}
