import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Limits the cleaner's I/O to `bytesPerSecond` over all cleaner threads (`log.cleaner.io.max.bytes.per.second`),
/// like Kafka's `Throttler`: bytes are counted in windows of `checkIntervalMs`; when a window ran faster than the
/// rate, the caller sleeps the difference (outside the lock).
///
/// Thread-safety: a `Mutex` guards the window (short critical sections, no I/O, the sleep happens after it).
final class Throttler: Sendable {
    let bytesPerSecond: Double
    let checkIntervalMs: Double
    private let window = Mutex<(startNanos: UInt64, bytes: Double)>((0, 0))

    init(bytesPerSecond: Double, checkIntervalMs: Double = 300) {
        self.bytesPerSecond = bytesPerSecond
        self.checkIntervalMs = checkIntervalMs
    }

    /// Whether a limit is set at all.
    var isActive: Bool { bytesPerSecond.isFinite && bytesPerSecond > 0 && bytesPerSecond < 1e300 }

    /// Counts `bytes` of I/O and sleeps if the current window is ahead of the rate.
    func maybeThrottle(_ bytes: Int) {
        guard isActive else { return }
        let now = Self.monotonicNanos()
        let sleepNanos: UInt64 = window.withLock { window in
            if window.startNanos == 0 { window.startNanos = now }
            window.bytes += Double(bytes)
            let elapsedMs = Double(now - window.startNanos) / 1e6
            guard elapsedMs >= checkIntervalMs || window.bytes >= bytesPerSecond * checkIntervalMs / 1000 else {
                return 0
            }
            let neededMs = window.bytes / bytesPerSecond * 1000
            window = (now, 0)
            return neededMs > elapsedMs ? UInt64((neededMs - elapsedMs) * 1e6) : 0
        }
        if sleepNanos > 0 {
            var request = timespec(tv_sec: Int(sleepNanos / 1_000_000_000), tv_nsec: Int(sleepNanos % 1_000_000_000))
            var remaining = timespec()
            while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
        }
    }

    /// `CLOCK_MONOTONIC` in ns.
    static func monotonicNanos() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}
