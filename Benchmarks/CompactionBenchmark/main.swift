// CompactionBenchmark: figures for the log cleaner (not a test).
//
//   swift build -c release --product CompactionBenchmark && .build/release/CompactionBenchmark [KEYS] [VERSIONS] [VALUE_BYTES]
//
// Writes KEYS distinct keys × VERSIONS versions (default 1 000 000 × 10, values of 80 bytes: ~1 GiB of log) to a
// compacted topic in a temp directory, rolls the active segment, then times one full cleaning with Kafka's default
// cleaner settings (128 MiB key map). Prints the cleaning throughput (log bytes processed per second, target
// >= 150 MB/s) and the key map's memory per key (target <= 24 bytes).
import Foundation
import Logging
import NIOCore
import RunnelRecords
import RunnelStorage

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let keys = arguments.count > 0 ? arguments[0] : 1_000_000
let versions = arguments.count > 1 ? arguments[1] : 10
let valueBytes = arguments.count > 2 ? arguments[2] : 80
let recordsPerBatch = 100

func seconds(since start: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}

func megabytes(_ bytes: Int64) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }

let directory = NSTemporaryDirectory() + "runnel-compaction-bench-\(UUID().uuidString)"
let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
var config = LogConfig()
config.cleanupPolicy = .compact
config.retentionMs = -1
config.minCleanableDirtyRatio = 0
do {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let manager = try LogManager(directory: directory, defaultConfig: config, logger: logger)
    let tp = TopicPartition(topic: "bench", partition: 0)
    let log = try manager.getOrCreateLog(tp, config: config)

    // Write: every version round visits all keys in a scrambled order (a multiplicative permutation).
    let writeStart = DispatchTime.now()
    let value = [UInt8](repeating: 0x76, count: valueBytes)
    var timestamp: Int64 = 1_700_000_000_000
    for version in 0..<versions {
        var index = 0
        while index < keys {
            var builder = RecordBatchBuilder(initialCapacity: recordsPerBatch * (valueBytes + 32) + 64)
            for slot in index..<min(keys, index + recordsPerBatch) {
                let key = (slot &* 7_919 &+ version &* 104_729) % keys
                builder.append(timestamp: timestamp, key: Array("key-\(key)".utf8), value: value)
            }
            _ = try log.append(try builder.build(), now: timestamp)
            timestamp += 1
            index += recordsPerBatch
        }
    }
    try log.roll()
    manager.waitForBackgroundFlushes()
    let logBytes = log.sizeInBytes
    print("wrote   \(keys) keys × \(versions) versions = \(keys * versions) records, \(megabytes(logBytes)) in "
        + String(format: "%.1f s", seconds(since: writeStart)) + " (\(log.segmentCount) segments)")

    // Clean: Kafka's default cleaner settings, one full pass.
    let cleaner = LogCleaner(manager: manager, config: CleanerConfig(), logger: logger)
    let cleanStart = DispatchTime.now()
    let reports = try cleaner.clean(tp, now: timestamp)
    let elapsed = seconds(since: cleanStart)
    let bytesBefore = reports.first?.bytesBefore ?? 0
    let bytesAfter = reports.last?.bytesAfter ?? 0
    let recordsAfter = reports.last?.recordsAfter ?? 0
    let read = reports.reduce(0) { $0 + $1.bytesRead }
    let mapSlots = CleanerConfig().dedupeBufferBytesPerThread / KeyOffsetMap.bytesPerEntry
    print("cleaned \(megabytes(bytesBefore)) -> \(megabytes(bytesAfter)) (\(recordsAfter) records) in "
        + String(format: "%.2f s", elapsed) + ", \(reports.count) round(s), \(megabytes(read)) read")
    print(String(format: "compact throughput: %.0f MB/s of log (target >= 150 MB/s); %.0f MB/s of I/O read",
                 Double(bytesBefore) / elapsed / 1e6, Double(read) / elapsed / 1e6))
    print("key map: \(KeyOffsetMap.bytesPerEntry) bytes per key (target <= 24); \(mapSlots) slots in 128 MiB, "
        + String(format: "%.1f%% used by %d keys", Double(reports.map(\.keys).max() ?? 0) / Double(mapSlots) * 100,
                 reports.map(\.keys).max() ?? 0))
    try manager.close()
} catch {
    FileHandle.standardError.write(Data("benchmark failed: \(error)\n".utf8))
    exit(1)
}
