// runnel-crash-writer DIR COUNT
// runnel-crash-writer compact DIR BYTES_PER_SECOND MAP_SLOTS
//
// Child process of the storage crash tests.
// Append mode: opens a LogManager on DIR with flush.messages=1, appends COUNT batches to partition crash-0, and
// after each append + flush prints the acknowledged last offset on stdout (one line, flushed immediately). The test
// SIGKILLs it mid-run and checks that every acknowledged offset survived.
// Compact mode: opens DIR (prepared by the test: a compacted topic in partition crash-0, written with
// `CrashCompaction.config`), prints "ready", compacts crash-0 until clean with a key map of MAP_SLOTS entries and
// I/O throttled to BYTES_PER_SECOND (so a kill lands mid-cleaning), then prints "done". The test SIGKILLs it at a
// random moment, reopens the directory and checks that every record that must survive is there.
import Logging
import NIOCore
import RunnelRecords
import RunnelStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A valid uncompressed record batch v2 with `count` records whose values are derived from `seed`.
func makeBatch(count: Int, seed: Int, timestamp: Int64) -> ByteBuffer {
    func writeVarint(_ buffer: inout ByteBuffer, _ value: Int64) {
        var raw = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while raw >= 0x80 {
            buffer.writeInteger(UInt8(raw & 0x7F | 0x80))
            raw >>= 7
        }
        buffer.writeInteger(UInt8(raw))
    }
    var body = ByteBufferAllocator().buffer(capacity: 256)
    for index in 0..<count {
        let value = Array("crash-\(seed)-\(index)-".utf8) + Array(repeating: UInt8(truncatingIfNeeded: seed), count: (seed % 50) + 10)
        var record = ByteBufferAllocator().buffer(capacity: value.count + 16)
        record.writeInteger(Int8(0))
        writeVarint(&record, 0)  // timestampDelta
        writeVarint(&record, Int64(index))  // offsetDelta
        writeVarint(&record, -1)  // null key
        writeVarint(&record, Int64(value.count))
        record.writeBytes(value)
        writeVarint(&record, 0)  // no headers
        writeVarint(&body, Int64(record.readableBytes))
        body.writeBuffer(&record)
    }
    let header = RecordBatchHeader(
        baseOffset: 0, batchLength: Int32(RecordBatchHeader.size - RecordBatchHeader.logOverhead + body.readableBytes),
        lastOffsetDelta: Int32(count - 1), baseTimestamp: timestamp, maxTimestamp: timestamp, recordsCount: Int32(count))
    var batch = ByteBufferAllocator().buffer(capacity: RecordBatchHeader.size + body.readableBytes)
    header.write(to: &batch)
    batch.writeBuffer(&body)
    let crc = CRC32C.checksum(of: batch, at: RecordBatchHeader.attributesOffset, length: batch.readableBytes - RecordBatchHeader.attributesOffset) ?? 0
    batch.setInteger(crc, at: RecordBatchHeader.crcOffset)
    return batch
}

let arguments = CommandLine.arguments
if arguments.count == 5, arguments[1] == "compact", let rate = Double(arguments[3]), let slots = Int(arguments[4]) {
    runCompaction(directory: arguments[2], bytesPerSecond: rate, slots: slots)
}
guard arguments.count == 3, let count = Int(arguments[2]), count >= 0 else {
    FileHandleStderr.write("usage: runnel-crash-writer DIR COUNT | runnel-crash-writer compact DIR BYTES_PER_SECOND MAP_SLOTS\n")
    exit(2)
}

/// Writes `text` straight to a file descriptor (no stdio buffering: each ack is visible to the parent at once).
func writeText(_ text: String, to fd: Int32) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if written < 0 { if errno == EINTR { continue } else { return } }
        bytes = bytes.dropFirst(written)
    }
}

enum FileHandleStderr {
    static func write(_ text: String) { writeText(text, to: 2) }
}

var config = LogConfig()
config.flushMessages = 1
config.segmentBytes = 16 * 1024  // roll often so the kill also lands around rolls
config.segmentIndexBytes = 4096
config.indexIntervalBytes = 512
do {
    let manager = try LogManager(directory: arguments[1], defaultConfig: config, logger: Logger(label: "crash-writer") { _ in SwiftLogNoOpLogHandler() })
    let log = try manager.getOrCreateLog(TopicPartition(topic: "crash", partition: 0), config: config)
    for index in 0..<count {
        let info = try log.append(makeBatch(count: index % 5 + 1, seed: index, timestamp: wallClockMs()), now: wallClockMs())
        if info.flushNeeded { try log.flush() }
        writeText("\(info.lastOffset)\n", to: 1)
    }
    try manager.close()
} catch {
    FileHandleStderr.write("crash writer failed: \(error)\n")
    exit(1)
}

/// The compact mode (see the header comment). Never returns.
func runCompaction(directory: String, bytesPerSecond: Double, slots: Int) -> Never {
    // Must match `CrashCompaction.config` in Tests/RunnelStorageTests/CompactionCrashTests.swift.
    var config = LogConfig()
    config.segmentBytes = 4_096
    config.segmentIndexBytes = 4_096
    config.indexIntervalBytes = 256
    config.retentionMs = -1
    config.cleanupPolicy = .compact
    config.minCleanableDirtyRatio = 0
    var cleanerConfig = CleanerConfig()
    cleanerConfig.dedupeBufferBytes = slots * KeyOffsetMap.bytesPerEntry
    cleanerConfig.ioBufferBytes = 4_096
    cleanerConfig.maxIoBytesPerSecond = bytesPerSecond
    do {
        let manager = try LogManager(
            directory: directory, defaultConfig: config,
            logger: Logger(label: "crash-compactor") { _ in SwiftLogNoOpLogHandler() })
        let cleaner = LogCleaner(
            manager: manager, config: cleanerConfig,
            logger: Logger(label: "crash-compactor") { _ in SwiftLogNoOpLogHandler() })
        writeText("ready\n", to: 1)
        _ = try cleaner.clean(TopicPartition(topic: "crash", partition: 0), now: wallClockMs())
        try manager.close()
        writeText("done\n", to: 1)
        exit(0)
    } catch {
        FileHandleStderr.write("crash compactor failed: \(error)\n")
        exit(1)
    }
}
