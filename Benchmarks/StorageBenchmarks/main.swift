// Storage engine benchmarks (issue 2). Not tests: they print figures and ratios.
//
//   runnel-bench-storage [--dir DIR] [--append-mib N] [--read-mib N] [--partitions N] [--reopen-mib N] [only...]
//
// Build with `swift build -c release --product runnel-bench-storage`; `tools/bench/storage.sh` runs it.
// Sections: append (1 KiB records in 16 KiB batches vs `dd bs=16k`), encode (100-byte records in
// batches of 100, one core), read (sequential read of batches already in page cache), reopen (unclean
// reopen of many partitions).
import Foundation
import Logging
import NIOCore
import RunnelRecords
import RunnelStorage

#if canImport(Glibc)
import Glibc
#endif

struct Options {
    var dir = NSTemporaryDirectory() + "runnel-bench-\(getpid())"
    var appendMiB = 1024
    var readMiB = 1024
    var partitions = 1000
    var reopenMiB = 10240
    var only: Set<String> = []

    init(_ args: [String]) {
        var it = args.makeIterator()
        while let a = it.next() {
            switch a {
            case "--dir": dir = it.next() ?? dir
            case "--append-mib": appendMiB = Int(it.next() ?? "") ?? appendMiB
            case "--read-mib": readMiB = Int(it.next() ?? "") ?? readMiB
            case "--partitions": partitions = Int(it.next() ?? "") ?? partitions
            case "--reopen-mib": reopenMiB = Int(it.next() ?? "") ?? reopenMiB
            default: only.insert(a)
            }
        }
    }
    func wants(_ name: String) -> Bool { only.isEmpty || only.contains(name) }
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func fmt(_ x: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", x) }

let logger: Logger = {
    var l = Logger(label: "bench")
    l.logLevel = .error
    return l
}()

func freshDir(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
}

/// A batch of `count` records of `valueBytes` bytes each (no key), as a producer would send it.
func makeBatch(count: Int, valueBytes: Int, timestamp: Int64) throws -> ByteBuffer {
    let value = [UInt8](repeating: 0x61, count: valueBytes)
    var builder = RecordBatchBuilder(baseOffset: 0, initialCapacity: count * (valueBytes + 16) + 64)
    for _ in 0..<count {
        builder.append(timestamp: timestamp, key: nil as [UInt8]?, value: value, headers: [])
    }
    return try builder.build()
}

/// Runs `dd if=/dev/zero of=FILE bs=16k count=N` (buffered, no sync flags) and returns its bytes/second.
func ddRate(file: String, mib: Int) -> Double? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/dd")
    p.arguments = ["if=/dev/zero", "of=\(file)", "bs=16k", "count=\(mib * 64)"]
    p.standardError = FileHandle.nullDevice
    p.standardOutput = FileHandle.nullDevice
    let start = now()
    guard (try? p.run()) != nil else { return nil }
    p.waitUntilExit()
    let elapsed = now() - start
    try? FileManager.default.removeItem(atPath: file)
    return Double(mib) * 1_048_576 / elapsed
}

if CommandLine.arguments.count == 5, CommandLine.arguments[1] == "--populate-unclean" {
    populateUnclean(
        dir: CommandLine.arguments[2], partitions: Int(CommandLine.arguments[3]) ?? 1,
        batchesPerPartition: Int(CommandLine.arguments[4]) ?? 1)
}
let options = Options(Array(CommandLine.arguments.dropFirst()))
let machine = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
    .split(separator: "\n").first { $0.hasPrefix("model name") }?
    .split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
print("# Runnel storage benchmarks — \(machine), \(ProcessInfo.processInfo.activeProcessorCount) cores, "
    + "\(ISO8601DateFormatter().string(from: Date()))")
print("# data directory: \(options.dir)")
freshDir(options.dir)
defer { try? FileManager.default.removeItem(atPath: options.dir) }

// MARK: append 1 KiB records in 16 KiB batches vs dd bs=16k
if options.wants("append") || options.wants("read") {
    let dir = options.dir + "/append"
    freshDir(dir)
    let batch = try makeBatch(count: 15, valueBytes: 1024, timestamp: 1_700_000_000_000)  // 15 x 1 KiB + overhead ≈ 16 KiB
    let batchesNeeded = options.appendMiB * 1_048_576 / batch.readableBytes
    let ddBefore = ddRate(file: options.dir + "/dd.bin", mib: options.appendMiB)
    do {
        let manager = try LogManager(directory: dir, defaultConfig: LogConfig(), logger: logger)
        let log = try manager.getOrCreateLog(TopicPartition(topic: "bench", partition: 0), config: LogConfig())
        let start = now()
        for _ in 0..<batchesNeeded {
            _ = try log.append(batch, now: 1_700_000_000_000)
        }
        let elapsed = now() - start
        let bytes = Double(batchesNeeded * batch.readableBytes)
        let ddAfter = ddRate(file: options.dir + "/dd.bin", mib: options.appendMiB)
        let dd = [ddBefore, ddAfter].compactMap { $0 }.max() ?? .nan
        let rate = bytes / elapsed
        print("append  1 KiB records, 16 KiB batches: \(fmt(rate / 1e6, 0)) MB/s, "
            + "\(fmt(Double(batchesNeeded * 15) / elapsed / 1e6)) M records/s; dd bs=16k: \(fmt(dd / 1e6, 0)) MB/s; "
            + "ratio \(fmt(rate / dd)) (target >= 0.7; read cache on)")
        do {
            // The same appends with the read cache off (readCacheBytes 0): splits the cache's copy from the rest.
            let uncachedDir = options.dir + "/append-nocache"
            freshDir(uncachedDir)
            defer { try? FileManager.default.removeItem(atPath: uncachedDir) }
            let uncached = try LogManager(
                directory: uncachedDir, defaultConfig: LogConfig(), logger: logger, readCacheBytes: 0)
            let uncachedLog = try uncached.getOrCreateLog(
                TopicPartition(topic: "bench", partition: 0), config: LogConfig())
            let uncachedStart = now()
            for _ in 0..<batchesNeeded { _ = try uncachedLog.append(batch, now: 1_700_000_000_000) }
            let uncachedRate = bytes / (now() - uncachedStart)
            try uncached.close()
            print("append  1 KiB records, 16 KiB batches, read cache off: \(fmt(uncachedRate / 1e6, 0)) MB/s; "
                + "ratio \(fmt(uncachedRate / dd))")
        }

        if options.wants("read") {
            // Sequential read through the log API of batches that are in the page cache (just written).
            var offset: Int64 = 0
            var total = 0
            var scratch = [UInt8](repeating: 0, count: 1 << 20)
            let limit = min(options.readMiB, options.appendMiB) * 1_048_576
            let readStart = now()
            while total < limit, offset < log.logEndOffset {
                let result = try log.read(from: offset, maxBytes: 1 << 20)
                for chunk in result.chunks {
                    switch chunk {
                    case let .file(slice):
                        // What sendfile would do: the kernel copies page-cache pages; here into user memory.
                        var done = 0
                        while done < slice.length {
                            let n = scratch.withUnsafeMutableBytes { raw in
                                pread(slice.file.fileDescriptor, raw.baseAddress, min(raw.count, slice.length - done),
                                    off_t(slice.position) + off_t(done))
                            }
                            if n <= 0 { break }
                            done += n
                        }
                        total += done
                    case let .memory(buffer):
                        total += buffer.readableBytes
                    }
                }
                guard result.nextOffset > offset else { break }
                offset = result.nextOffset
            }
            let readElapsed = now() - readStart
            print("read    sequential, page cache: \(fmt(Double(total) / readElapsed / 1e9)) GB/s over "
                + "\(total / 1_048_576) MiB (target >= 2 GB/s)")
        }
        try manager.close()
    } catch {
        print("append/read failed: \(error)")
    }
    try? FileManager.default.removeItem(atPath: dir)
}

// MARK: encode + append 100-byte records in batches of 100, one core
if options.wants("encode") {
    let dir = options.dir + "/encode"
    freshDir(dir)
    do {
        let manager = try LogManager(directory: dir, defaultConfig: LogConfig(), logger: logger)
        let log = try manager.getOrCreateLog(TopicPartition(topic: "encode", partition: 0), config: LogConfig())
        let value = [UInt8](repeating: 0x62, count: 100)
        let batches = 50_000
        let start = now()
        for i in 0..<batches {
            var builder = RecordBatchBuilder(baseOffset: 0, initialCapacity: 100 * 120 + 64)
            let ts = 1_700_000_000_000 + Int64(i)
            for _ in 0..<100 {
                builder.append(timestamp: ts, key: nil as [UInt8]?, value: value, headers: [])
            }
            _ = try log.append(try builder.build(), now: ts)
        }
        let elapsed = now() - start
        print("encode  100-byte records, batches of 100, encode+append: "
            + "\(fmt(Double(batches * 100) / elapsed / 1e6)) M records/s (target >= 3 M)")
        try manager.close()
    } catch {
        print("encode failed: \(error)")
    }
    try? FileManager.default.removeItem(atPath: dir)
}

// MARK: reopen after an unclean stop, many partitions
if options.wants("reopen") {
    let dir = options.dir + "/reopen"
    freshDir(dir)
    let perPartitionBytes = options.reopenMiB * 1_048_576 / options.partitions
    let batch = try makeBatch(count: 15, valueBytes: 1024, timestamp: 1_700_000_000_000)
    let batchesPerPartition = max(1, perPartitionBytes / batch.readableBytes)
    // The child writes, flushes and checkpoints (as the broker's periodic checkpointer does), appends an unflushed
    // tail to every partition, then dies without closing: no clean-shutdown marker.
    let child = Process()
    child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    child.arguments = ["--populate-unclean", dir, String(options.partitions), String(batchesPerPartition)]
    do {
        try child.run()
        child.waitUntilExit()
        let start = now()
        let manager = try LogManager(directory: dir, defaultConfig: LogConfig(), logger: logger)
        let elapsed = now() - start
        let logs = manager.allLogs()
        let scanned = logs.reduce(Int64(0)) { $0 + $1.loadSummary.recoveryBytesScanned }
        let size = logs.reduce(Int64(0)) { $0 + $1.sizeInBytes }
        print("reopen  unclean, \(logs.count) partitions, \(size / 1_048_576) MiB: \(fmt(elapsed, 3)) s "
            + "(recovery scanned \(scanned / 1_048_576) MiB; target < 3 s)")
        try manager.close()
    } catch {
        print("reopen failed: \(error)")
    }
    try? FileManager.default.removeItem(atPath: dir)
}

/// Child mode for the reopen benchmark: fill `partitions` partitions, flush and checkpoint, append one more
/// batch to each (beyond the recovery point), then exit without closing, as a killed broker would.
func populateUnclean(dir: String, partitions: Int, batchesPerPartition: Int) -> Never {
    do {
        let batch = try makeBatch(count: 15, valueBytes: 1024, timestamp: 1_700_000_000_000)
        let manager = try LogManager(directory: dir, defaultConfig: LogConfig(), logger: logger)
        var logs: [PartitionLog] = []
        for p in 0..<partitions {
            logs.append(try manager.getOrCreateLog(TopicPartition(topic: "reopen", partition: Int32(p)), config: LogConfig()))
        }
        for log in logs {
            for _ in 0..<batchesPerPartition { _ = try log.append(batch, now: 1_700_000_000_000) }
        }
        try manager.flushAll()
        try manager.writeCheckpoints()
        for log in logs { _ = try log.append(batch, now: 1_700_000_000_000) }
    } catch {
        print("populate failed: \(error)")
        exit(1)
    }
    _exit(0)
}
