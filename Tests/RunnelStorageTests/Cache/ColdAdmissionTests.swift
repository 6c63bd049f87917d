import Foundation
import NIOCore
import RunnelRecords
import Testing
@testable import RunnelStorage

/// Cold-read admission through `PartitionLog.read`: a first disk read is only remembered by the ghost, a repeated
/// one is read back off the caller's thread and admitted on probation, a scanner many times the budget never
/// evicts the written-through tail, and admitted cold batches are invalidated like written-through ones.
@Suite struct ColdAdmissionTests {
    static let history = TopicPartition(topic: "history", partition: 0)
    static let tail = TopicPartition(topic: "tail", partition: 0)

    /// Writes `batches` batches of `records` records (`valueSize`-byte values, a different fill per batch) to
    /// `tp` with the cache off, closes, and reopens with `budget`: the data is now on disk only (cold).
    func withColdLog(
        _ dir: TempDirectory, _ tp: TopicPartition = history, config: LogConfig = testConfig(), batches: Int,
        records: Int = 3, valueSize: Int = 1_000, budget: Int, _ body: (PartitionLog, LogManager) throws -> Void
    ) throws {
        do {
            let manager = try openManager(dir, config: config, readCacheBytes: 0)
            let log = try manager.getOrCreateLog(tp, config: config)
            for index in 0..<batches {
                _ = try log.append(
                    TestBatches.make(count: records, valueSize: valueSize, fill: UInt8(truncatingIfNeeded: index)),
                    now: 1)
            }
            try manager.close()
        }
        let manager = try openManager(dir, config: config, readCacheBytes: budget)
        defer { try? manager.close() }
        let log = try #require(manager.log(for: tp))
        try body(log, manager)
    }

    /// Reads `log` from `offset` to its end, `maxBytes` per read (like a fetching consumer), waiting for the
    /// read-backs after each read. Returns the chunks' kinds: true = served from memory.
    @discardableResult
    func scan(_ log: PartitionLog, _ cache: ReadCache, from offset: Int64 = 0, to end: Int64? = nil,
        maxBytes: Int = 16 << 10) throws -> [Bool]
    {
        var kinds: [Bool] = []
        var next = offset
        while next < (end ?? log.logEndOffset) {
            let result = try log.read(from: next, maxBytes: maxBytes)
            for chunk in result.chunks {
                if case .memory = chunk { kinds.append(true) } else { kinds.append(false) }
            }
            cache.coldReads.drain()
            guard result.nextOffset > next else { break }
            next = result.nextOffset
        }
        return kinds
    }

    @Test func aFirstColdReadIsOnlyRememberedASecondIsAdmittedOnProbationAndTheThirdHits() throws {
        try TempDirectory.with { dir in
            try withColdLog(dir, batches: 8, budget: 1 << 20) { log, manager in
                let cache = manager.readCache
                let files = try log.read(from: 0, maxBytes: 1 << 20).readAllBytes()
                cache.coldReads.drain()
                #expect(cache.stats.coldRemembered == 8)
                #expect(cache.stats.entries == 0, "a first cold read reads nothing back")
                #expect(try scan(log, cache).allSatisfy { !$0 })
                #expect(cache.stats.coldAdmissions == 8)
                #expect(cache.residentBatches().probation.count == 8)
                #expect(cache.residentBatches().main.isEmpty)
                let third = try log.read(from: 0, maxBytes: 1 << 20)
                #expect(third.chunks.allSatisfy { if case .memory = $0 { true } else { false } })
                #expect(Array(try third.readAllBytes().readableBytesView) == Array(files.readableBytesView))
                #expect(cache.stats.catchUpHits == 1)
                #expect(cache.stats.tailHits == 0 && cache.stats.tailMisses == 0)
                #expect(cache.invariantViolations().isEmpty)
            }
        }
    }

    @Test func aScanOfSixteenBudgetsNeverEvictsTheWrittenThroughTail() throws {
        // Batches of 3 × 1 000-byte records: about 3.1 KB, charged 4 KiB. Budget 32 KiB: the tail's 8 batches
        // fill it; the history is 128 batches (16 budgets), scanned three times. (Admitting every cold read on
        // probation would evict main's oldest batches to give probation its 10%.)
        let budget = 32 << 10
        try TempDirectory.with { dir in
            try withColdLog(dir, batches: 128, budget: budget) { history, manager in
                let cache = manager.readCache
                let tail = try manager.getOrCreateLog(Self.tail, config: testConfig())
                for index in 0..<8 { _ = try tail.append(TestBatches.make(count: 3, valueSize: 1_000, fill: UInt8(index)), now: 1) }
                let mainBefore = cache.residentBatches().main
                #expect(mainBefore.count == 8)
                for _ in 0..<3 {
                    #expect(try scan(history, cache).allSatisfy { !$0 }, "the scanner is served from the files")
                    // The tail readers keep reading from memory meanwhile.
                    #expect(try tail.read(from: 0, maxBytes: 1 << 20).chunks.count == 8)
                }
                #expect(cache.residentBatches().main == mainBefore)
                let stats = cache.stats
                #expect(stats.coldAdmissions == 0, "a range larger than the ghost is never read back")
                #expect(stats.coldRemembered >= 3 * 128)
                #expect(stats.tailMisses == 0 && stats.tailHits == 3)
                #expect(stats.catchUpMisses > 0)
                #expect(stats.bytes <= budget)
                #expect(cache.invariantViolations().isEmpty)
            }
        }
    }

    @Test func repeatedColdReadsAreEvictedBeforeTheTail() throws {
        let budget = 32 << 10
        try TempDirectory.with { dir in
            try withColdLog(dir, batches: 4, budget: budget) { history, manager in
                let cache = manager.readCache
                let tail = try manager.getOrCreateLog(Self.tail, config: testConfig())
                for index in 0..<6 { _ = try tail.append(TestBatches.make(count: 3, valueSize: 1_000, fill: UInt8(index)), now: 1) }
                try scan(history, cache, maxBytes: 1)
                try scan(history, cache, maxBytes: 1)
                #expect(cache.stats.coldAdmissions == 4)
                // 6 tail batches + 4 cold ones do not fit 8 slots: probation gave way, main did not.
                #expect(cache.residentBatches().main.count == 6)
                #expect(cache.residentBatches().probation.count == 2)
                // New appends evict the remaining cold batches before any written-through one.
                for index in 0..<2 { _ = try tail.append(TestBatches.make(count: 3, valueSize: 1_000, fill: UInt8(index)), now: 1) }
                #expect(cache.residentBatches().probation.isEmpty)
                #expect(cache.residentBatches().main.count == 8)
                #expect(cache.stats.bytes <= budget)
                #expect(cache.invariantViolations().isEmpty)
            }
        }
    }

    @Test func aReadBackRacedByAnInvalidationIsRefused() throws {
        try TempDirectory.with { dir in
            try withColdLog(dir, batches: 4, budget: 1 << 20) { log, manager in
                let cache = manager.readCache
                try scan(log, cache)
                let result = try log.read(from: 0, maxBytes: 1 << 20)
                guard case let .file(slice)? = result.chunks.first else {
                    Issue.record("expected a disk read")
                    return
                }
                let ticket = cache.ticket()
                cache.coldReads.drain()  // the read above admitted the batches (the ghost held them)
                #expect(cache.stats.entries == 4)
                _ = try log.deleteRecords(before: 3)  // invalidates the partition's cached range
                #expect(cache.stats.entries == 3)
                let before = cache.stats
                cache.readBack(Self.history, slice: slice, ticket: ticket)  // a read-back that read before the delete
                #expect(cache.stats.coldRejected == before.coldRejected + 1)
                #expect(cache.stats.entries == 3)
                #expect(cache.read(Self.history, from: 0, maxBytes: 1 << 20) == nil)
            }
        }
    }

    @Test func offersBeyondTheReadBackQueueAreDroppedAndCounted() throws {
        let cache = ReadCache(maxBytes: 1 << 20, coldReadQueueLimit: 0)
        try TempDirectory.with { dir in
            try withColdLog(dir, batches: 2, budget: 0) { log, _ in
                guard case let .file(slice)? = try log.read(from: 0, maxBytes: 1 << 20).chunks.first else {
                    Issue.record("expected a disk read")
                    return
                }
                cache.offerColdRead(Self.history, slice: slice, ticket: cache.ticket())
                cache.offerColdRead(Self.history, slice: slice, ticket: cache.ticket())
                cache.coldReads.drain()
                #expect(cache.stats.coldRejected == 2)
                #expect(cache.stats.coldRemembered == 0)
            }
        }
    }

    @Test func readsAreClassedByTheAgeOfTheirOffsetNotByWhatIsCached() {
        // Budget 64 KiB; 48 batches charged 4 KiB appended (3 budgets): the first ones are older than the window.
        let cache = ReadCache(maxBytes: 64 << 10)
        var offset: Int64 = 0
        for _ in 0..<48 {
            let batch = cacheBatch(offset, records: 3, valueSize: 1_000)
            cache.insert(orders0, batch: batch, origin: .append)
            offset = lastOffset(of: batch) + 1
        }
        #expect(cache.read(orders0, from: 0, maxBytes: 1) == nil)
        #expect(cache.read(orders0, from: offset - 1, maxBytes: 1) != nil)
        let other = TopicPartition(topic: "never", partition: 0)
        #expect(cache.read(other, from: 0, maxBytes: 1) == nil)
        cache.invalidate(orders0, from: offset - 3)  // the last batch: gone from the cache, still young
        #expect(cache.read(orders0, from: offset - 6, maxBytes: 1) != nil)
        let stats = cache.stats
        #expect(stats.catchUpMisses == 2)
        #expect(stats.tailHits == 2)
        #expect(stats.tailMisses == 0)
        #expect(stats.hits == stats.tailHits + stats.catchUpHits)
        #expect(stats.misses == stats.tailMisses + stats.catchUpMisses)
    }

    @Test func appendMarksClassOffsetsWithinTheWindow() {
        var marks = AppendMarks()
        // One batch of 100 offsets every 10 clock bytes; spacing 10, window 200.
        for step in 0..<100 {
            marks.record(offset: Int64(step * 100), clock: UInt64(step * 10), spacing: 10, window: 200)
        }
        let now: UInt64 = 1_000
        #expect(marks.isRecent(9_950, now: now, window: 200))
        #expect(marks.isRecent(8_000, now: now, window: 200))  // appended at 800
        #expect(!marks.isRecent(7_000, now: now, window: 200))
        #expect(!marks.isRecent(0, now: now, window: 200))
        #expect(marks.count <= 200 / 10 + 2)
        marks.dropFrom(9_000)
        #expect(marks.isRecent(8_950, now: now, window: 200))
        marks.record(offset: 9_000, clock: now, spacing: 10, window: 200)
        #expect(marks.isRecent(9_000, now: now, window: 200))
    }

    // MARK: - Invalidation of admitted cold batches

    /// The first batch read at every offset of `log` and the batches of a scan from its start (reads of the
    /// cache may span segments, reads of the files do not: batches are compared, not read results).
    func readings(_ log: PartitionLog, _ cache: ReadCache) throws -> (firsts: [Int64: [UInt8]], scan: [[UInt8]]) {
        var firsts: [Int64: [UInt8]] = [:]
        for offset in log.logStartOffset..<log.logEndOffset {
            let result = try log.read(from: offset, maxBytes: 1 << 20)
            firsts[offset] = try TestBatches.split(try result.readAllBytes()).first.map { Array($0.bytes.readableBytesView) }
            cache.coldReads.drain()
        }
        var scan: [[UInt8]] = []
        var next = log.logStartOffset
        while next < log.logEndOffset {
            let result = try log.read(from: next, maxBytes: 1 << 20)
            scan += try TestBatches.split(try result.readAllBytes()).map { Array($0.bytes.readableBytesView) }
            cache.coldReads.drain()
            guard result.nextOffset > next else { break }
            next = result.nextOffset
        }
        return (firsts, scan)
    }

    /// Admits every batch of a cold log on probation, checks reads come from memory, runs `mutate`, then reopens
    /// with the cache off and expects the mutated cached log's batches to equal the files' at every offset.
    func expectAdmittedColdBatchesFollow(
        _ config: LogConfig, batches: Int, records: Int = 5, valueSize: Int = 40,
        write: ((PartitionLog) throws -> Void)? = nil, mutate: (PartitionLog, LogManager) throws -> Void
    ) throws {
        try TempDirectory.with { dir in
            var cached: (firsts: [Int64: [UInt8]], scan: [[UInt8]]) = ([:], [])
            var start: Int64 = 0
            do {
                let manager = try openManager(dir, config: config, readCacheBytes: 0)
                let log = try manager.getOrCreateLog(orders0, config: config)
                if let write {
                    try write(log)
                } else {
                    for index in 0..<batches {
                        _ = try log.append(
                            TestBatches.make(count: records, valueSize: valueSize, fill: UInt8(index)), now: 1)
                    }
                }
                try manager.close()
            }
            do {
                let manager = try openManager(dir, config: config, readCacheBytes: 1 << 20)
                defer { try? manager.close() }
                let log = try #require(manager.log(for: orders0))
                try scan(log, manager.readCache, maxBytes: 1)
                try scan(log, manager.readCache, maxBytes: 1)
                #expect(manager.readCache.stats.coldAdmissions > 0)
                #expect(try scan(log, manager.readCache, maxBytes: 1).allSatisfy { $0 }, "admitted cold batches hit")
                try mutate(log, manager)
                manager.readCache.coldReads.drain()
                #expect(manager.readCache.invariantViolations().isEmpty)
                start = log.logStartOffset
                cached = try readings(log, manager.readCache)
                #expect(manager.readCache.invariantViolations().isEmpty)
            }
            let manager = try openManager(dir, config: config, readCacheBytes: 0)
            defer { try? manager.close() }
            let log = try #require(manager.log(for: orders0))
            #expect(log.logStartOffset == start)
            let files = try readings(log, manager.readCache)
            #expect(!files.scan.isEmpty)
            #expect(cached.scan == files.scan)
            #expect(cached.firsts == files.firsts)
        }
    }

    @Test func retentionDropsAdmittedColdBatchesBelowTheNewStart() throws {
        var config = testConfig(segmentBytes: 600)
        config.retentionBytes = 1_200
        try expectAdmittedColdBatchesFollow(config, batches: 12, mutate: { log, manager in
            let removed = try log.applyRetention(now: 2)
            #expect(removed > 0)
            #expect(manager.readCache.read(orders0, from: 0, maxBytes: 1 << 20) == nil)
        })
    }

    @Test func deleteRecordsDropsAdmittedColdBatchesBelowTheNewStart() throws {
        try expectAdmittedColdBatchesFollow(testConfig(), batches: 6, mutate: { log, manager in
            let start = try log.deleteRecords(before: 12)
            #expect(start == 12)
            #expect(manager.readCache.read(orders0, from: 9, maxBytes: 1 << 20) == nil)
        })
    }

    @Test func compactionSwapDropsAdmittedColdBatches() throws {
        let config = compactConfig()
        try expectAdmittedColdBatchesFollow(config, batches: 0) { log in
            for version in 0..<12 {
                let records = (0..<5).map { keyed("k\($0)", "v\(version)-\($0)", at: 1_000 + Int64(version)) }
                _ = try log.append(TestBatches.make(records), now: 1_000)
            }
            try log.roll()
        } mutate: { _, manager in
            let cleaner = LogCleaner(manager: manager, config: smallCleanerConfig(), logger: CapturedLogs().logger)
            let report = try #require(cleaner.cleanOnce(now: 5_000).first)
            #expect(report.recordsAfter == 5)
            #expect(manager.readCache.read(orders0, from: 0, maxBytes: 1 << 20) == nil)
        }
    }

    @Test func deletingTheTopicDropsAdmittedColdBatchesAndLateReadBacks() throws {
        try TempDirectory.with { dir in
            try withColdLog(dir, orders0, batches: 4, budget: 1 << 20) { log, manager in
                let cache = manager.readCache
                try scan(log, cache)
                guard case let .file(slice)? = try log.read(from: 0, maxBytes: 1 << 20).chunks.first else {
                    Issue.record("expected a disk read")
                    return
                }
                let ticket = cache.ticket()
                cache.coldReads.drain()
                #expect(cache.stats.entries == 4)
                try manager.deleteLog(orders0)
                #expect(cache.stats.entries == 0)
                cache.readBack(orders0, slice: slice, ticket: ticket)  // a read-back still queued at the delete
                #expect(cache.stats.entries == 0)
                #expect(cache.read(orders0, from: 0, maxBytes: 1 << 20) == nil)
            }
        }
    }
}
