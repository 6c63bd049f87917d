import Foundation
import NIOCore
import RunnelRecords
import Testing
@testable import RunnelStorage

/// `PartitionLog` + the shared `ReadCache`: tail reads come from memory and equal the file bytes, and no read
/// after retention, DeleteRecords or a compaction swap ever returns bytes the log no longer holds.
@Suite struct ReadCacheIntegrationTests {
    /// Every batch from `offset` to the log end, each as its own bytes, following `nextOffset`.
    func scanBatches(_ log: PartitionLog, from offset: Int64, maxBytes: Int = 1 << 20) throws -> [[UInt8]] {
        var batches: [[UInt8]] = []
        var next = offset
        while next < log.logEndOffset {
            let result = try log.read(from: next, maxBytes: maxBytes)
            #expect(result.nextOffset > next)
            guard result.nextOffset > next else { break }
            for batch in try TestBatches.split(try result.readAllBytes()) {
                batches.append(Array(batch.bytes.readableBytesView))
            }
            next = result.nextOffset
        }
        return batches
    }

    /// The first batch of `read(from: offset)` for every offset of the log (nil when the read is empty).
    func firstBatchAtEveryOffset(_ log: PartitionLog) throws -> [Int64: [UInt8]] {
        var firsts: [Int64: [UInt8]] = [:]
        for offset in log.logStartOffset..<log.logEndOffset {
            let result = try log.read(from: offset, maxBytes: 1 << 20)
            firsts[offset] = try TestBatches.split(try result.readAllBytes()).first.map {
                Array($0.bytes.readableBytesView)
            }
        }
        return firsts
    }

    /// Runs `mutate` on a cached log, snapshots what reads return, then reopens the directory with the cache
    /// disabled (reads from the files only) and expects the same batches at every offset.
    func expectReadsMatchTheFiles(
        _ config: LogConfig, clock: ManualClock = ManualClock(), prepare: (PartitionLog, LogManager) throws -> Void,
        mutate: (PartitionLog, LogManager) throws -> Void
    ) throws {
        try TempDirectory.with { dir in
            let cachedScan: [[UInt8]]
            let cachedFirsts: [Int64: [UInt8]]
            let cachedStart: Int64
            do {
                let manager = try openManager(dir, config: config, clock: clock)
                defer { try? manager.close() }
                let log = try manager.getOrCreateLog(orders0, config: config)
                try prepare(log, manager)
                // Everything appended is cached and served from memory before the mutation.
                let before = try log.read(from: log.logStartOffset, maxBytes: 1 << 20)
                #expect(before.chunks.allSatisfy { if case .memory = $0 { true } else { false } })
                try mutate(log, manager)
                cachedStart = log.logStartOffset
                cachedScan = try scanBatches(log, from: cachedStart)
                cachedFirsts = try firstBatchAtEveryOffset(log)
                #expect(manager.readCache.invariantViolations().isEmpty)
            }
            let manager = try openManager(dir, config: config, clock: clock, readCacheBytes: 0)
            defer { try? manager.close() }
            let log = try #require(manager.log(for: orders0))
            #expect(log.logStartOffset == cachedStart)
            let fileScan = try scanBatches(log, from: cachedStart)
            #expect(!fileScan.isEmpty)
            #expect(cachedScan == fileScan)
            #expect(cachedFirsts == (try firstBatchAtEveryOffset(log)))
        }
    }

    @Test func tailReadAfterAppendIsServedFromMemoryAndEqualsTheFileBytes() throws {
        try withLog { log, manager, dir in
            for round in 0..<4 { _ = try log.append(TestBatches.make(count: 5, fill: 0x61 + UInt8(round)), now: 1) }
            let result = try log.read(from: 0, maxBytes: 1 << 20)
            #expect(result.chunks.count == 4)
            #expect(result.chunks.allSatisfy { if case .memory = $0 { true } else { false } })
            #expect((result.nextOffset, result.highWatermark, result.logEndOffset, result.logStartOffset) == (20, 20, 20, 0))
            let file = try Data(contentsOf: URL(fileURLWithPath: FileNames.log(log.directory, 0)))
            #expect(Array(try result.readAllBytes().readableBytesView) == Array(file))
            #expect(manager.readCache.stats.hits == 1)
            // From inside a batch: the containing batch first, like the disk path.
            let middle = try log.read(from: 12, maxBytes: 1 << 20)
            #expect(try TestBatches.split(try middle.readAllBytes()).map(\.header.baseOffset) == [10, 15])
            #expect(middle.nextOffset == 20)
            // maxOffset stops before a batch reaching it; maxBytes keeps whole batches.
            let capped = try log.read(from: 0, maxBytes: 1 << 20, maxOffset: 12)
            #expect(try TestBatches.split(try capped.readAllBytes()).map(\.header.baseOffset) == [0, 5])
            let oneBatch = result.chunks[0].length
            let small = try log.read(from: 0, maxBytes: oneBatch + 1)
            #expect(small.chunks.count == 1 && small.nextOffset == 5)
            _ = dir
        }
    }

    @Test func aFirstBatchLargerThanMaxBytesWithoutMinOneBatchFallsThroughToDisk() throws {
        try withLog { log, _, _ in
            _ = try log.append(TestBatches.make(count: 5), now: 1)
            let result = try log.read(from: 0, maxBytes: 10, minOneBatch: false)
            #expect(result.chunks.isEmpty && result.nextOffset == 0)
            let forced = try log.read(from: 0, maxBytes: 10, minOneBatch: true)
            guard case .memory? = forced.chunks.first else {
                Issue.record("expected the cached batch with minOneBatch")
                return
            }
        }
    }

    @Test func followerAppendsAreWrittenThroughAcrossSegments() throws {
        try withLog(testConfig(segmentBytes: 400)) { log, _, _ in
            for base in stride(from: Int64(0), to: 40, by: 5) {
                var batch = TestBatches.make(count: 5, valueSize: 30)
                batch.setInteger(base, at: batch.readerIndex)
                TestBatches.recomputeCRC(&batch, at: batch.readerIndex)
                _ = try log.appendAsFollower(batch)
            }
            #expect(log.segmentCount > 1)
            let result = try log.read(from: 0, maxBytes: 1 << 20)
            #expect(result.chunks.allSatisfy { if case .memory = $0 { true } else { false } })
            #expect(result.nextOffset == 40)
            var files: [UInt8] = []
            for base in log.segmentBaseOffsets {
                let path = FileNames.log(log.directory, base)
                files += Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            }
            #expect(Array(try result.readAllBytes().readableBytesView) == files)
        }
    }

    @Test func zeroBudgetAlwaysReadsTheFiles() throws {
        try withLog(readCacheBytes: 0) { log, manager, _ in
            for _ in 0..<3 { _ = try log.append(TestBatches.make(count: 5), now: 1) }
            #expect(!manager.readCache.isEnabled)
            for offset in Int64(0)..<15 {
                let result = try log.read(from: offset, maxBytes: 1 << 20)
                #expect(!result.chunks.isEmpty)
                #expect(result.chunks.allSatisfy { if case .file = $0 { true } else { false } })
            }
            #expect(manager.readCache.stats == ReadCacheStats())
        }
    }

    @Test func retentionLeavesNoCachedBatchBelowTheNewStart() throws {
        var config = testConfig(segmentBytes: 600)
        config.retentionBytes = 1_200
        try expectReadsMatchTheFiles(config) { log, _ in
            for round in 0..<12 { _ = try log.append(TestBatches.make(count: 4, valueSize: 40, fill: UInt8(round)), now: 1) }
        } mutate: { log, manager in
            #expect(try log.applyRetention(now: 2) > 0)
            let start = log.logStartOffset
            #expect(start > 0)
            #expect(manager.readCache.read(orders0, from: 0, maxBytes: 1 << 20) == nil)
            #expect(manager.readCache.read(orders0, from: start - 1, maxBytes: 1 << 20) == nil)
            guard case .memory? = try log.read(from: start, maxBytes: 1 << 20).chunks.first else {
                Issue.record("the retained tail should still be cached")
                return
            }
        }
    }

    @Test func deleteRecordsLeavesNoCachedBatchBelowTheNewStart() throws {
        try expectReadsMatchTheFiles(testConfig()) { log, _ in
            for round in 0..<6 { _ = try log.append(TestBatches.make(count: 5, fill: UInt8(round)), now: 1) }
        } mutate: { log, manager in
            #expect(try log.deleteRecords(before: 12) == 12)
            #expect(manager.readCache.read(orders0, from: 9, maxBytes: 1 << 20) == nil)
            // The batch holding the new start is still whole in the log, so it stays cached.
            let hit = try #require(manager.readCache.read(orders0, from: 12, maxBytes: 1 << 20))
            #expect(try TestBatches.split(try log.read(from: 12, maxBytes: 1 << 20).readAllBytes()).first?.header.baseOffset == 10)
            #expect(hit.nextOffset == 30)
        }
    }

    @Test func compactionSwapDropsTheReplacedBatchesFromTheCache() throws {
        let config = compactConfig()
        try expectReadsMatchTheFiles(config) { log, _ in
            for version in 0..<12 {
                let records = (0..<5).map { keyed("k\($0)", "v\(version)-\($0)", at: 1_000 + Int64(version)) }
                _ = try log.append(TestBatches.make(records), now: 1_000)
            }
            try log.roll()
        } mutate: { log, manager in
            let cleaner = LogCleaner(manager: manager, config: smallCleanerConfig(), logger: CapturedLogs().logger)
            let report = try #require(cleaner.cleanOnce(now: 5_000).first)
            #expect(report.recordsAfter == 5)
            #expect(manager.readCache.read(orders0, from: 0, maxBytes: 1 << 20) == nil)
            let (_, records) = try readRecords(log)
            #expect(records.map(\.offset) == (55..<60).map(Int64.init))
        }
    }

    @Test func closeAndDeleteDropThePartitionFromTheCache() throws {
        try TempDirectory.with { dir in
            let manager = try openManager(dir)
            defer { try? manager.close() }
            let log = try manager.getOrCreateLog(orders0, config: testConfig())
            _ = try log.append(TestBatches.make(count: 5), now: 1)
            #expect(manager.readCache.stats.entries == 1)
            try manager.deleteLog(orders0)
            #expect(manager.readCache.stats.entries == 0)
            #expect(manager.readCache.read(orders0, from: 0, maxBytes: 1 << 20) == nil)
            let again = try manager.getOrCreateLog(orders0, config: testConfig())
            _ = try again.append(TestBatches.make(count: 2), now: 1)
            try manager.close()
            #expect(manager.readCache.stats.entries == 0)
        }
    }
}
