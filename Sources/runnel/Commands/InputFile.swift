import NIOCore
import RunnelClient

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Standard input or a file, read in large chunks with read(2).
///
/// Each `read()` returns a fresh buffer, so slices of earlier chunks (records not yet copied into a batch)
/// stay valid. Reads continue until the chunk is full or the kernel has no more data ready (a short read),
/// so interactive input is sent line by line while files and fast pipes go in big chunks.
final class InputFile {
    /// Bytes per chunk.
    static let chunkBytes = 1 << 20

    private let fd: Int32
    private let ownsDescriptor: Bool
    private(set) var bytesRead = 0
    private var atEnd = false

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

    /// The next chunk, or nil at end of input.
    func read() throws -> ByteBuffer? {
        guard !atEnd else { return nil }
        var buffer = ByteBufferAllocator().buffer(capacity: Self.chunkBytes)
        while buffer.writableBytes > 0 {
            let want = buffer.writableBytes
            var failure: Int32 = 0
            let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 0) { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                while true {
                    #if canImport(Glibc)
                        let result = Glibc.read(fd, base, raw.count)
                    #else
                        let result = Darwin.read(fd, base, raw.count)
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
            if count == 0 {
                atEnd = true
                break
            }
            if count < want { break }
        }
        return buffer.readableBytes > 0 ? buffer : nil
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

/// The `\r`-rewritten progress line on a terminal's stderr, shown once input has taken more than a second.
struct ProgressLine {
    private static let start = ContinuousClock.now
    let enabled: Bool
    private var lastDrawMs: Int64 = 0
    private var drawn = false

    init(enabled: Bool) {
        self.enabled = enabled
        _ = Self.start
    }

    /// Milliseconds since the process first used this type (the command's start).
    static func elapsedMs() -> Int64 {
        let elapsed = ContinuousClock.now - start
        return elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    }

    mutating func update(records: Int, bytes: Int) {
        guard enabled else { return }
        let now = Self.elapsedMs()
        guard now > 1000, now - lastDrawMs >= 500 else { return }
        lastDrawMs = now
        drawn = true
        let rate = Int(Double(records) / (Double(now) / 1000))
        Terminal.standardError("\r\u{1B}[Krunnel: \(records) records read, \(bytes / 1_048_576) MiB, \(rate) records/s")
    }

    mutating func clear() {
        guard drawn else { return }
        Terminal.standardError("\r\u{1B}[K")
        drawn = false
    }
}
