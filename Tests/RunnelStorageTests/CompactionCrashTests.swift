import Foundation
import NIOCore
import RunnelRecords
import Testing
@testable import RunnelStorage

/// Shared with `runnel-crash-writer compact` (tools/CrashWriter/main.swift): the log config of the crash log.
enum CrashCompaction {
    static let partition = TopicPartition(topic: "crash", partition: 0)
    static var config: LogConfig {
        var config = LogConfig()
        config.segmentBytes = 4_096
        config.segmentIndexBytes = 4_096
        config.indexIntervalBytes = 256
        config.retentionMs = -1
        config.cleanupPolicy = .compact
        config.minCleanableDirtyRatio = 0
        return config
    }
}

@Suite struct CompactionCrashTests {
    /// Writes a keyed history (with tombstones, some compressed batches) to DIR and returns it, oldest first.
    func prepare(_ dir: TempDirectory, rng: inout SplitMix) throws -> [HistoryRecord] {
        let manager = try openManager(dir, config: CrashCompaction.config)
        let log = try manager.getOrCreateLog(CrashCompaction.partition, config: CrashCompaction.config)
        var history: [HistoryRecord] = []
        for round in 0..<Int.random(in: 150...250, using: &rng) {
            var builder = RecordBatchBuilder(compression: round % 5 == 0 ? .lz4 : .none)
            var pending: [([UInt8], [UInt8]?)] = []
            for index in 0..<Int.random(in: 1...6, using: &rng) {
                let key = Array("key-\(Int.random(in: 0..<60, using: &rng))".utf8)
                let value: [UInt8]? =
                    Int.random(in: 0..<8, using: &rng) == 0 ? nil : Array("value-\(round)-\(index)-padding-padding".utf8)
                builder.append(timestamp: 1_000 + Int64(round), key: key, value: value)
                pending.append((key, value))
            }
            let info = try log.append(try builder.build(), now: 1_000)
            for (index, record) in pending.enumerated() {
                history.append(HistoryRecord(offset: info.firstOffset + Int64(index), key: record.0, value: record.1))
            }
        }
        try log.roll()
        try manager.close()
        return history
    }

    /// Checks that what a consumer reads is exactly the history's final state (latest value per key, deleted keys
    /// absent or null), at the original offsets, with increasing offsets and the log end offset unchanged.
    func checkSurvivors(_ log: PartitionLog, history: [HistoryRecord], round: Int) throws {
        let stored = try readRecords(log)
        var latest: [[UInt8]: HistoryRecord] = [:]
        for record in history { if let key = record.key { latest[key] = record } }
        let byOffset = Dictionary(stored.records.map { ($0.offset, $0) }, uniquingKeysWith: { first, _ in first })
        for (key, record) in latest where record.value != nil {
            let found = byOffset[record.offset]
            #expect(found?.key == key && found?.value == record.value,
                    "round \(round): latest value of \(String(decoding: key, as: UTF8.self)) at \(record.offset) lost")
        }
        var state: [[UInt8]: [UInt8]?] = [:]
        for record in stored.records { if let key = record.key { state[key] = record.value } }
        for (key, value) in state where latest[key]?.value == nil {
            #expect(value == nil, "round \(round): deleted key \(String(decoding: key, as: UTF8.self)) came back")
        }
        for (key, record) in latest where record.value != nil {
            #expect(state[key] == .some(record.value), "round \(round): wrong final value")
        }
        #expect(zip(stored.records, stored.records.dropFirst()).allSatisfy { $0.offset < $1.offset })
        #expect(log.logEndOffset == (history.last?.offset ?? -1) + 1)
    }

    @Test func compactionKilledAtRandomMomentsLeavesEverySurvivingRecord() throws {
        let writer = try #require(
            crashWriterPath(),
            "runnel-crash-writer not found next to the test bundle; build all products first (swift build --build-tests) or set RUNNEL_CRASH_WRITER")
        var rng = SplitMix(seed: Int(getpid()))
        var killedMidway = 0
        for round in 0..<14 {
            let dir = TempDirectory("compact-crash")
            defer { dir.remove() }
            let history = try prepare(dir, rng: &rng)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: writer)
            // ~40-80 KB of log read about twice at 150 KB/s: a few hundred ms, with a 16-slot map (many rounds).
            process.arguments = ["compact", dir.path, "150000", "16"]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let ready = readLines(output.fileHandleForReading, wanted: 1)
            #expect(ready == ["ready"], "round \(round): compactor did not start")
            usleep(UInt32.random(in: 0...400_000, using: &rng))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if process.terminationReason == .uncaughtSignal { killedMidway += 1 }

            let manager = try openManager(dir, config: CrashCompaction.config)
            defer { try? manager.close() }
            let log = try #require(manager.log(for: CrashCompaction.partition))
            try checkSurvivors(log, history: history, round: round)
            let names = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/crash-0")
            #expect(!names.contains { $0.hasSuffix(".cleaned") || $0.hasSuffix(".swap") || $0.hasSuffix(".deleted") })
            // The survivor is still a cleanable log, and cleaning it fully gives the exact compacted form.
            let cleaner = LogCleaner(manager: manager, config: smallCleanerConfig(), logger: CapturedLogs().logger)
            _ = try cleaner.clean(CrashCompaction.partition, now: 10_000)
            try checkSurvivors(log, history: history, round: round)
            let keys = try readRecords(log).records.compactMap(\.key)
            #expect(Set(keys).count == keys.count, "round \(round): a key appears twice after a full cleaning")
        }
        #expect(killedMidway > 0, "no run was killed before finishing: the kill window is too late")
    }
}
