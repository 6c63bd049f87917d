#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Wall-clock time for record timestamps (Kafka timestamps are Unix epoch milliseconds).
enum WallClock {
    /// Milliseconds since the Unix epoch (CLOCK_REALTIME; a vDSO call, cheap enough per record).
    static func nowMs() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}
