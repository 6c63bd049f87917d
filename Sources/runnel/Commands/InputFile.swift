import NIOCore
import RunnelClient
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Standard input or a file, read in large chunks with read(2).
///
/// Reads continue until the chunk is full or the kernel has no more data ready (a short read), so interactive
/// input is sent line by line while files and fast pipes go in big chunks.
final class InputFile {
    /// Bytes per chunk.
    static let chunkBytes = 1 << 20

    private let fd: Int32
    private let ownsDescriptor: Bool
    private(set) var bytesRead = 0
    private(set) var atEnd = false

    /// Opens `path`, or standard input when nil or "-".
    init(path: String?) throws {
        guard let path, path != "-" else {
            fd = 0
            ownsDescriptor = false
            return
        }
        let opened = open(path, O_RDONLY)
        guard opened >= 0 else {
            throw ClientError.invalidArgument("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        fd = opened
        ownsDescriptor = true
    }

    /// Appends up to `chunkBytes` bytes to `buffer` (after its readable bytes, growing it if needed).
    /// - Returns: the number of bytes appended; 0 only at the end of the input (then `atEnd` is true).
    func read(appendingTo buffer: inout ByteBuffer) throws -> Int {
        guard !atEnd else { return 0 }
        var total = 0
        while total < Self.chunkBytes {
            let want = Self.chunkBytes - total
            var failure: Int32 = 0
            let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                while true {
                    #if canImport(Glibc)
                        let result = Glibc.read(fd, base, min(raw.count, want))
                    #else
                        let result = Darwin.read(fd, base, min(raw.count, want))
                    #endif
                    if result >= 0 { return result }
                    if errno == EINTR { continue }
                    failure = errno
                    return 0
                }
            }
            if failure != 0 {
                throw ClientError.invalidArgument("reading input failed: \(String(cString: strerror(failure)))")
            }
            bytesRead += count
            total += count
            if count == 0 {
                atEnd = true
                break
            }
            if count < want { break }
        }
        return total
    }

    func close() {
        if ownsDescriptor {
            #if canImport(Glibc)
                _ = Glibc.close(fd)
            #else
                _ = Darwin.close(fd)
            #endif
        }
    }
}

/// Finds records (and keys) in a chunk of input with `memchr`: the hot loop of `runnel produce`.
///
/// Invariants: the raw pointer is used only inside `withUnsafeReadableBytes`; every offset handed to `memchr`
/// or read lies in `0..<readableBytes`, checked before use; the caller guarantees `readableBytes <= Int32.max`
/// so every span offset and length fits its `Int32` field.
enum RecordScanner {
    /// Appends a span for each complete record of `buffer`'s readable bytes (records end at `delimiter`; with
    /// `final`, the bytes after the last delimiter are a record too, when there are any). With `keySeparator`,
    /// the bytes before its first occurrence in a record are the key and the rest the value.
    /// - Returns: how many bytes the spans cover (the rest is an incomplete record to carry over).
    static func scan(
        _ buffer: ByteBuffer, delimiter: [UInt8], keySeparator: [UInt8]?, final: Bool,
        into spans: inout [ProducerRecordBlock.Span]
    ) -> Int {
        precondition(!delimiter.isEmpty, "empty delimiter")
        return buffer.withUnsafeReadableBytes { raw -> Int in
            guard let base = raw.baseAddress else { return 0 }
            let count = raw.count
            var start = 0
            var position = 0
            let first = Int32(delimiter[0])
            while position < count {
                guard let hit = memchr(base + position, first, count - position) else { break }
                let offset = base.distance(to: UnsafeRawPointer(hit))
                if delimiter.count > 1 {
                    guard matches(delimiter, raw: raw, at: offset) else {
                        position = offset + 1
                        continue
                    }
                }
                spans.append(span(raw: raw, start: start, end: offset, keySeparator: keySeparator))
                start = offset + delimiter.count
                position = start
            }
            if final, start < count {
                spans.append(span(raw: raw, start: start, end: count, keySeparator: keySeparator))
                start = count
            }
            return start
        }
    }

    private static func matches(_ pattern: [UInt8], raw: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        guard offset + pattern.count <= raw.count else { return false }
        for index in pattern.indices where raw[offset + index] != pattern[index] { return false }
        return true
    }

    /// The span of the record `start..<end` (0 ≤ start ≤ end ≤ raw.count).
    private static func span(raw: UnsafeRawBufferPointer, start: Int, end: Int, keySeparator: [UInt8]?)
        -> ProducerRecordBlock.Span
    {
        if let keySeparator, let base = raw.baseAddress, end > start {
            var position = start
            let first = Int32(keySeparator[0])
            while position < end {
                guard let hit = memchr(base + position, first, end - position) else { break }
                let offset = base.distance(to: UnsafeRawPointer(hit))
                if offset + keySeparator.count <= end, matches(keySeparator, raw: raw, at: offset) {
                    let valueStart = offset + keySeparator.count
                    return ProducerRecordBlock.Span(
                        keyOffset: Int32(truncatingIfNeeded: start),
                        keyLength: Int32(truncatingIfNeeded: offset - start),
                        valueOffset: Int32(truncatingIfNeeded: valueStart),
                        valueLength: Int32(truncatingIfNeeded: end - valueStart))
                }
                position = offset + 1
            }
        }
        return ProducerRecordBlock.Span(
            valueOffset: Int32(truncatingIfNeeded: start), valueLength: Int32(truncatingIfNeeded: end - start))
    }
}

/// What the input reader has done so far: written by the reader's task, read by the progress line's.
/// `Sendable` through atomics (relaxed: the numbers are for display only).
final class InputCounters: Sendable {
    let records = Atomic<Int>(0)
    let bytes = Atomic<Int>(0)
}

/// The `\r`-rewritten progress line on a terminal's stderr: drawn by its own task every half second once the
/// command has run for more than a second (so it keeps moving while the producer waits for the broker), and
/// cut to the terminal's width so that `\r` always returns to its start.
enum ProgressLine {
    private static let start = ContinuousClock.now

    /// Milliseconds since the process first used this type (the command's start; `begin` touches it early).
    static func elapsedMs() -> Int64 {
        let elapsed = ContinuousClock.now - start
        return elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    }

    /// Starts the clock.
    static func begin() { _ = start }

    /// Redraws the line every 500 ms after the first second until cancelled.
    /// - Returns: whether anything was drawn (then the caller clears the line with ``clear()``).
    static func run(counters: InputCounters, producer: KafkaProducer) async -> Bool {
        var drawn = false
        while !Task.isCancelled {
            let wait = elapsedMs() < 1000 ? 1000 - elapsedMs() : 500
            do {
                try await Task.sleep(for: .milliseconds(max(1, wait)))
            } catch {
                break
            }
            let report = await producer.currentReport
            let problem = await producer.retryingBecause
            let now = elapsedMs()
            let records = counters.records.load(ordering: .relaxed)
            let rate = Int(Double(records) / (Double(max(1, now)) / 1000))
            var text =
                "runnel: \(records) records read, \(report.recordsAcknowledged) acknowledged, "
                + "\(size(counters.bytes.load(ordering: .relaxed))), \(rate) records/s"
            if let problem { text += "; retrying: \(problem)" }
            Terminal.standardError("\r\u{1B}[K" + String(text.prefix(max(20, terminalColumns() - 1))))
            drawn = true
        }
        return drawn
    }

    /// Erases the line.
    static func clear() {
        Terminal.standardError("\r\u{1B}[K")
    }

    /// Width of the terminal on stderr (80 when unknown).
    private static func terminalColumns() -> Int {
        var size = winsize()
        #if canImport(Glibc)
            let result = ioctl(2, UInt(TIOCGWINSZ), &size)
        #else
            let result = ioctl(2, TIOCGWINSZ, &size)
        #endif
        return result == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
    }

    /// `512 B`, `12.3 KiB`, `45.6 MiB`, `7.8 GiB`.
    static func size(_ bytes: Int) -> String {
        guard bytes >= 1024 else { return "\(bytes) B" }
        var value = Double(bytes) / 1024
        for unit in ["KiB", "MiB", "GiB"] {
            if value < 1024 || unit == "GiB" {
                let tenths = Int((value * 10).rounded())
                return "\(tenths / 10).\(tenths % 10) \(unit)"
            }
            value /= 1024
        }
        return "\(bytes) B"
    }
}
