import Foundation
import Logging
import Synchronization
@testable import RunnelStorage

/// A fresh directory under the system temp dir, removed by `remove()`.
struct TempDirectory: Sendable {
    let path: String

    init(_ name: String = "storage") {
        path = NSTemporaryDirectory() + "runnel-\(name)-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Runs `body` with a new directory and removes it afterwards.
    static func with<T>(_ name: String = "storage", _ body: (TempDirectory) throws -> T) rethrows -> T {
        let directory = TempDirectory(name)
        defer { directory.remove() }
        return try body(directory)
    }
}

/// A clock tests move by hand (Kafka's MockTime).
final class ManualClock: Sendable {
    private let now: Atomic<Int64>
    init(_ start: Int64 = 1_700_000_000_000) { now = Atomic(start) }
    func read() -> Int64 { now.load(ordering: .relaxed) }
    func advance(by ms: Int64) { now.add(ms, ordering: .relaxed) }
    var function: @Sendable () -> Int64 { { [self] in read() } }
}

/// Collects log messages so tests can assert on them.
final class CapturedLogs: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
    func contains(_ text: String) -> Bool { all.contains { $0.contains(text) } }

    var logger: Logger {
        Logger(label: "test") { _ in CapturingHandler(sink: self) }
    }
}

struct CapturingHandler: LogHandler {
    let sink: CapturedLogs
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        sink.append("\(event.level) \(event.message) \(merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
    }
}

/// A small-segment config for tests.
func testConfig(
    segmentBytes: Int = 1 << 20, indexIntervalBytes: Int = 4096, segmentIndexBytes: Int = 1 << 16
) -> LogConfig {
    var config = LogConfig()
    config.segmentBytes = segmentBytes
    config.indexIntervalBytes = indexIntervalBytes
    config.segmentIndexBytes = segmentIndexBytes
    config.retentionMs = -1
    return config
}

let orders0 = TopicPartition(topic: "orders", partition: 0)

/// Opens a manager on `directory` with a capturing logger.
func openManager(
    _ directory: TempDirectory, config: LogConfig = testConfig(), clock: ManualClock = ManualClock(),
    logs: CapturedLogs = CapturedLogs(), readCacheBytes: Int = 256 << 20
) throws -> LogManager {
    try LogManager(
        directory: directory.path, defaultConfig: config, logger: logs.logger, clock: clock.function,
        readCacheBytes: readCacheBytes)
}
